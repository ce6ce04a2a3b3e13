# Point lookups reading pieces of uncompressed blocks (bit-packed integers
# zstd does not shrink): a single-value read takes the pieces of the block
# it needs, not the whole block (cow_reader.c, CowGroupPagedRaw).
#
# With data checksums (initdb --data-checksums) the block's CRC, which
# would need every page of the block, is not verified: PostgreSQL's page
# checksums catch the damage on disk the CRC is for.  This part checks that
#   - lookups return the rows a heap copy holds (every 7th key, the block
#     edges), and key ranges too;
#   - one value of a block reads fewer buffers than two values of it (the
#     second decodes the block whole, reading its other pieces and
#     verifying its CRC);
#   - a byte changed on disk in the middle of the uncompressed blocks is
#     reported by the lookups that read its page (ERRCODE_DATA_CORRUPTED,
#     "invalid page"), never returned as a value, and by a full scan.
# Without data checksums the CRC is verified over the block's pages in
# place first: the same damage is reported as a checksum mismatch by every
# lookup in the damaged block.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('lookup_checksums');
$node->init(extra => ['--data-checksums']);
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'incetl,pg_cron'
cron.database_name = 'postgres'
});
$node->start;
is($node->safe_psql('postgres', 'SHOW data_checksums'), 'on', 'data checksums on');

# r: random 63-bit integers, a 4096-row block of them 32 kB, stored
# uncompressed; s: random small integers; one file group of three blocks
$node->safe_psql('postgres', q{
CREATE EXTENSION incetl;
CREATE TABLE h (id bigint PRIMARY KEY, r bigint, s int, t text);
INSERT INTO h
SELECT g, (hashint8(g)::bigint << 31) # hashint8(g * 7), hashint4(g::int) % 100000,
       CASE WHEN g % 5 <> 0 THEN 'row ' || g END
FROM generate_series(1, 9000) g;
CREATE TABLE c (LIKE h) USING incetl_cow;
SELECT incetl.set_table_options('c', record_key => 'id', file_group_rows => 100000);
INSERT INTO c SELECT * FROM h;
CREATE INDEX c_id ON c (id);
ANALYZE c;
});
is($node->safe_psql('postgres', q{
SELECT encoding || ' ' || (zstd_chunks = 0) FROM incetl.column_stats('c') WHERE column_name = 'r'}),
	'int true', 'r is int-encoded and stored without zstd');

# every 7th key and the block edges, one statement each (a fresh fetch)
$node->safe_psql('postgres', q{
CREATE FUNCTION lookups() RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    k bigint;
    a text;
    b text;
    n int := 0;
    bad int := 0;
BEGIN
    FOR k IN SELECT g FROM generate_series(1, 9000, 7) g
             UNION SELECT unnest(ARRAY[1, 4095, 4096, 4097, 8192, 8193, 9000]) LOOP
        EXECUTE 'SELECT x::text FROM c x WHERE id = ' || k INTO a;
        EXECUTE 'SELECT x::text FROM h x WHERE id = ' || k INTO b;
        n := n + 1;
        IF a IS DISTINCT FROM b THEN
            bad := bad + 1;
        END IF;
    END LOOP;
    RETURN format('checked %s differing %s', n, bad);
END $$;
});
is($node->safe_psql('postgres', q{
SET enable_seqscan = off;
SET enable_bitmapscan = off;
SELECT lookups()}), 'checked 1291 differing 0', 'lookups return the heap rows');

is($node->safe_psql('postgres', q{
SELECT count(*) FROM (
    (SELECT * FROM c WHERE id BETWEEN 4000 AND 4200 EXCEPT ALL SELECT * FROM h WHERE id BETWEEN 4000 AND 4200)
    UNION ALL
    (SELECT * FROM h WHERE id BETWEEN 4000 AND 4200 EXCEPT ALL SELECT * FROM c WHERE id BETWEEN 4000 AND 4200)) d}),
	'0', 'a key range across a block edge returns the heap rows');

# buffers a statement reads (the scan node's); the first statement reads
# the group's header, which later ones find in the backend's cache
$node->safe_psql('postgres', q{
CREATE FUNCTION buffers(q text) RETURNS int LANGUAGE plpgsql AS $$
DECLARE
    line text;
    total int := 0;
BEGIN
    FOR line IN EXECUTE 'EXPLAIN (ANALYZE, BUFFERS, COSTS OFF, TIMING OFF, SUMMARY OFF) ' || q LOOP
        IF line ~ 'Buffers: shared' AND total = 0 THEN
            total := coalesce((substring(line from 'hit=(\d+)'))::int, 0) +
                     coalesce((substring(line from 'read=(\d+)'))::int, 0);
        END IF;
    END LOOP;
    RETURN total;
END $$;
});
# (the read cache off: the IN list reads again the pieces the lookup of
# id = 5000 read, so the count is its own reads, not a few catalog pages
# more or less, which is all that kept it above the lookup's with the
# cache on)
my (undef, $one, $two) = split /\|/, $node->safe_psql('postgres', q{
SET enable_seqscan = off;
SET enable_bitmapscan = off;
SET incetl.cow_read_cache_size = 0;
SELECT buffers('SELECT r FROM c WHERE id = 100'),
       buffers('SELECT r FROM c WHERE id = 5000'),
       buffers('SELECT r FROM c WHERE id IN (5000, 5001)')});
cmp_ok($one + 3, '<', $two,
	"one value of a block reads fewer pages than the block ($one against $two buffers)");
is($node->safe_psql('postgres', q{
SET enable_seqscan = off;
SET enable_bitmapscan = off;
SELECT string_agg(r::text, ',' ORDER BY id) FROM c WHERE id IN (5000, 5001)}),
	$node->safe_psql('postgres',
		q{SELECT string_agg(r::text, ',' ORDER BY id) FROM h WHERE id IN (5000, 5001)}),
	'and the block read whole (its CRC verified) holds the same values');

# damage a page in the middle of the version's extent (in the second r
# block: 32 kB each, after the small id block), away from the page header
my $path = $node->data_dir . '/'
  . $node->safe_psql('postgres', q{SELECT pg_relation_filepath('c')});
my ($first, $nblocks) = split /\|/, $node->safe_psql('postgres', q{
SELECT first_block, nblocks FROM incetl.cow_file_group
WHERE storage_id = incetl.cow_storage_id('c') AND superseded_by IS NULL});
cmp_ok($nblocks, '>', 8, "the version spans $nblocks pages");
my $victim = $first + 5;
$node->stop;
open(my $fh, '+<:raw', $path) or die "open $path: $!";
seek($fh, $victim * 8192 + 4000, 0) or die;
read($fh, my $byte, 1) == 1 or die "short read";
seek($fh, $victim * 8192 + 4000, 0) or die;
print $fh pack('C', unpack('C', $byte) ^ 0x5a);
close($fh) or die;
$node->start;

$node->safe_psql('postgres', q{
CREATE FUNCTION damaged() RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    k bigint;
    a bigint;
    b bigint;
    failed int := 0;
    wrong int := 0;
BEGIN
    FOR k IN 1..9000 LOOP
        BEGIN
            EXECUTE 'SELECT r FROM c WHERE id = ' || k INTO a;
            SELECT r INTO b FROM h WHERE id = k;
            IF a IS DISTINCT FROM b THEN
                wrong := wrong + 1;
            END IF;
        EXCEPTION WHEN data_corrupted THEN
            IF SQLERRM LIKE '%invalid page%' THEN
                failed := failed + 1;
            ELSE
                RAISE;
            END IF;
        END;
    END LOOP;
    RETURN format('failed %s wrong %s', failed, wrong);
END $$;
});
like($node->safe_psql('postgres', q{
SET enable_seqscan = off;
SET enable_bitmapscan = off;
SELECT damaged()}), qr/^failed [1-9]\d* wrong 0$/,
	'lookups reading the damaged page report it; none returns a wrong value');

my ($rc, $stdout, $stderr) = $node->psql('postgres', 'SELECT sum(r) FROM c');
isnt($rc, 0, 'a full scan fails too');
like($stderr, qr/invalid page in block $victim/, 'reporting the page');

$node->stop;

# Without data checksums the block's CRC is verified over its pages in
# place before the pieces are read: a changed byte is reported as a
# checksum mismatch of the block, by every lookup reading that block.
my $plain = PostgreSQL::Test::Cluster->new('lookup_plain');
$plain->init;
$plain->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'incetl,pg_cron'
cron.database_name = 'postgres'
});
$plain->start;
is($plain->safe_psql('postgres', 'SHOW data_checksums'), 'off', 'data checksums off');
$plain->safe_psql('postgres', q{
CREATE EXTENSION incetl;
CREATE TABLE h (id bigint PRIMARY KEY, r bigint);
INSERT INTO h SELECT g, (hashint8(g)::bigint << 31) # hashint8(g * 7) FROM generate_series(1, 9000) g;
CREATE TABLE c (LIKE h) USING incetl_cow;
SELECT incetl.set_table_options('c', record_key => 'id', file_group_rows => 100000);
INSERT INTO c SELECT * FROM h;
CREATE INDEX c_id ON c (id);
ANALYZE c;
CREATE FUNCTION damaged() RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    k bigint;
    a bigint;
    b bigint;
    failed int := 0;
    wrong int := 0;
BEGIN
    FOR k IN 1..9000 LOOP
        BEGIN
            EXECUTE 'SELECT r FROM c WHERE id = ' || k INTO a;
            SELECT r INTO b FROM h WHERE id = k;
            IF a IS DISTINCT FROM b THEN
                wrong := wrong + 1;
            END IF;
        EXCEPTION WHEN data_corrupted THEN
            IF SQLERRM LIKE '%checksum mismatch in block 1 of column 2 %' THEN
                failed := failed + 1;
            ELSE
                RAISE;
            END IF;
        END;
    END LOOP;
    RETURN format('failed %s wrong %s', failed, wrong);
END $$;
});
is($plain->safe_psql('postgres', q{
SET enable_seqscan = off;
SET enable_bitmapscan = off;
SELECT damaged()}), 'failed 0 wrong 0', 'lookups return the heap rows');
$path = $plain->data_dir . '/'
  . $plain->safe_psql('postgres', q{SELECT pg_relation_filepath('c')});
($first) = split /\|/, $plain->safe_psql('postgres', q{
SELECT first_block FROM incetl.cow_file_group
WHERE storage_id = incetl.cow_storage_id('c') AND superseded_by IS NULL});
$plain->stop;
open($fh, '+<:raw', $path) or die "open $path: $!";
seek($fh, ($first + 5) * 8192 + 4000, 0) or die;
read($fh, $byte, 1) == 1 or die "short read";
seek($fh, ($first + 5) * 8192 + 4000, 0) or die;
print $fh pack('C', unpack('C', $byte) ^ 0x5a);
close($fh) or die;
$plain->start;
# block 1 of r holds rows 4097..8192: each of its lookups reports it
is($plain->safe_psql('postgres', q{
SET enable_seqscan = off;
SET enable_bitmapscan = off;
SELECT damaged()}), 'failed 4096 wrong 0',
	'every lookup in the damaged block reports a checksum mismatch, the others read');
$plain->stop;
done_testing();
