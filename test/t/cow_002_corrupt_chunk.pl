# A file group whose chunk descriptions or encoded values do not add up is
# reported as corrupt (ERRCODE_DATA_CORRUPTED, by incetl.verify() and by
# queries), never decoded into garbage and never a crash.
#
# The CRCs only catch damage on disk; the decoder's own checks guard
# against what a CRC cannot (a writer bug, an encoding this build does not
# know).  To reach them the test edits a stopped cluster's file and
# recomputes the CRCs (CRC-32C) over its edit:
#   group 1: the encoding byte of the text column's (only) block set to 77
#            (unknown);
#   group 2: the bit width in the int block of an uncompressed bigint block
#            set to 70 (more than 64).
# Group 3 is left alone and still reads.  The only group of a second table,
# u, gets an intact header of a file group format this build does not know
# (99, as a newer build might write): it is reported as such (0A000), not
# as corruption.
#
# Layout used (x86-64, 8 kB pages, src/include/cow.h): a version's stream
# starts after the 24-byte page header of its first block; CowGroupHeader
# is 56 bytes (version at 4, header_len at 8, header_crc at 12, total_len at 40),
# followed by one 56-byte CowColumnDesc per column (flags 0, crc 4 of the
# block directory, offset 8, stored_len 16, encoding 48).  A chunk starts
# with its block directory, one 24-byte CowBlockDesc per block (stored_len
# 0, raw_len 8, crc 16, encoding 20, flags 21); with 100 rows a chunk is
# one block, whose bytes follow at 24.  An int block starts with count
# (4 bytes), mode, width.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('corrupt');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'incetl,pg_cron'
cron.database_name = 'postgres'
});
$node->start;
$node->safe_psql('postgres', q{
CREATE EXTENSION incetl;
CREATE TABLE t (id bigint, r bigint, v text) USING incetl_cow;
SELECT incetl.set_table_options('t', record_key => 'id', file_group_rows => 100);
INSERT INTO t SELECT g, hashint4(g), 'value ' || g FROM generate_series(1, 300) g;
CREATE TABLE u (id bigint, r bigint) USING incetl_cow;
SELECT incetl.set_table_options('u', record_key => 'id');
INSERT INTO u SELECT g, g FROM generate_series(1, 100) g;
});
my $sum3 = $node->safe_psql('postgres', 'SELECT sum(r) FROM t WHERE id > 200');
my $path = $node->data_dir . '/'
  . $node->safe_psql('postgres', q{SELECT pg_relation_filepath('t')});
my $upath = $node->data_dir . '/'
  . $node->safe_psql('postgres', q{SELECT pg_relation_filepath('u')});
my $ublock = $node->safe_psql('postgres', q{
SELECT first_block FROM incetl.cow_file_group
WHERE storage_id = incetl.cow_storage_id('u') AND superseded_by IS NULL});
my @blocks = split /\n/, $node->safe_psql('postgres', q{
SELECT first_block FROM incetl.cow_file_group
WHERE storage_id = incetl.cow_storage_id('t') AND superseded_by IS NULL
ORDER BY first_row_number});
is(scalar @blocks, 3, 'three file groups');
$node->stop;

# CRC-32C as PostgreSQL computes it (INIT/COMP/FIN_CRC32C)
my @crc_table = map {
	my $c = $_;
	$c = ($c & 1) ? (($c >> 1) ^ 0x82F63B78) : ($c >> 1) for 1 .. 8;
	$c
} 0 .. 255;

sub crc32c
{
	my ($data) = @_;
	my $crc = 0xFFFFFFFF;
	$crc = $crc_table[ ($crc ^ $_) & 0xFF ] ^ ($crc >> 8) for unpack('C*', $data);
	return $crc ^ 0xFFFFFFFF;
}

# run $edit on the stream of the version starting at $block (it must fit
# in that first page), then recompute the header CRC
sub edit_group
{
	my ($block, $edit, $file) = @_;
	$file //= $path;
	open(my $fh, '+<:raw', $file) or die "open $file: $!";
	seek($fh, $block * 8192, 0) or die;
	read($fh, my $page, 8192) == 8192 or die "short read";
	my $s = substr($page, 24);
	my $total = unpack('Q<', substr($s, 40, 8));
	die "stream of block $block spans pages" if $total > 8192 - 24;
	$edit->(\$s);
	my $hlen = unpack('V', substr($s, 8, 4));
	substr($s, 12, 4) = pack('V', 0);
	substr($s, 12, 4) = pack('V', crc32c(substr($s, 0, $hlen)));
	substr($page, 24) = $s;
	seek($fh, $block * 8192, 0) or die;
	print $fh $page;
	close($fh) or die;
	return;
}

sub desc_at { return 56 + 56 * $_[0]; }

edit_group(
	$blocks[0],
	sub {
		my ($s) = @_;
		my $d = desc_at(2);
		my $off = unpack('Q<', substr($$s, $d + 8, 8));
		substr($$s, $off + 20, 1) = pack('C', 77);
		substr($$s, $d + 4, 4) = pack('V', crc32c(substr($$s, $off, 24)));
	});

my ($flags, $encoding, $bflags);
edit_group(
	$blocks[1],
	sub {
		my ($s) = @_;
		my $d = desc_at(1);
		$flags = unpack('V', substr($$s, $d, 4));
		$encoding = unpack('C', substr($$s, $d + 48, 1));
		my $off = unpack('Q<', substr($$s, $d + 8, 8));
		my $blen = unpack('Q<', substr($$s, $off, 8));
		$bflags = unpack('C', substr($$s, $off + 21, 1));
		substr($$s, $off + 24 + 5, 1) = pack('C', 70);
		substr($$s, $off + 16, 4) = pack('V', crc32c(substr($$s, $off + 24, $blen)));
		substr($$s, $d + 4, 4) = pack('V', crc32c(substr($$s, $off, 24)));
	});
edit_group(
	$ublock,
	sub {
		my ($s) = @_;
		substr($$s, 4, 4) = pack('V', 99);
	},
	$upath);
is($encoding, 1, 'the bigint chunk of group 2 is int-encoded');
ok($flags & 0x08, 'and stored without zstd');
ok($bflags & 0x04, 'its block too');

$node->start;
my $problems = $node->safe_psql('postgres',
	q{SELECT problem FROM incetl.verify('t') ORDER BY file_group_id});
like($problems, qr/column 3 of file group \d+ is corrupted: unknown encoding 77/,
	'verify reports the text column of group 1');
like($problems, qr/column 2 of file group \d+ is corrupted: bad int block header/,
	'and the bigint column of group 2');
my @p = split /\n/, $problems;
is(scalar @p, 2, 'and nothing else');

my ($rc, $out, $err) = $node->psql('postgres',
	"\\set VERBOSITY verbose\nSELECT v FROM t WHERE id = 5");
isnt($rc, 0, 'reading group 1 fails');
like($err, qr/XX001: .*column 3 of file group \d+ is corrupted/, 'as data corrupted');
like($err, qr/unknown encoding 77/, 'naming the unknown encoding');

($rc, $out, $err) = $node->psql('postgres',
	"\\set VERBOSITY verbose\nSELECT sum(r) FROM t WHERE id BETWEEN 101 AND 200");
isnt($rc, 0, 'reading group 2 fails');
like($err, qr/XX001: .*column 2 of file group \d+ is corrupted/, 'as data corrupted');
like($err, qr/bad int block header/, 'naming the int block');

is($node->safe_psql('postgres', 'SELECT sum(r) FROM t WHERE id > 200'),
	$sum3, 'group 3 still reads');

like($node->safe_psql('postgres', q{SELECT problem FROM incetl.verify('u')}),
	qr/^incetl_cow relation "u": file group \d+ \(commit \d+\) is in file group format 99, which this build of incetl cannot read: This build reads file group formats 3 to \d+\.$/,
	'verify reports the format of u\'s group');
($rc, $out, $err) = $node->psql('postgres',
	"\\set VERBOSITY verbose\nSELECT * FROM u WHERE id = 5");
isnt($rc, 0, 'reading u fails');
like($err, qr/0A000: .*file group \d+ \(commit \d+\) is in file group format 99, which this build of incetl cannot read/,
	'as a format this build does not read');
like($err, qr/HINT:  Install the build of incetl that wrote the table, or a newer one\./,
	'with a hint');
unlike($err, qr/corrupt/, 'not as corruption');
is($node->safe_psql('postgres', 'SELECT 1'), '1', 'the server is up');
$node->stop;
unlike(slurp_file($node->logfile), qr/terminated by signal|PANIC|TRAP/,
	'no backend crashed');

done_testing();
