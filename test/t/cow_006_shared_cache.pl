# The shared frame cache (cow_shared_cache.c): frames of incetl_cow column
# blocks a backend decompressed for lookups, kept in shared memory for the
# next backend.  On a server whose cache is smaller than what the lookups
# decompress (256 kB), so that records are dropped all along:
#   - every lookup returns the row heap returns: in the session that fills
#     the cache, in new sessions that read from it, under pgbench with
#     several clients looking up keys and key ranges while one upserts,
#     after records were dropped;
#   - a new session's lookups find frames another session put there (hits
#     grow, nothing new is written for frames already there), and the
#     row-number maps of versions a rewrite carried rows into (no miss),
#     searched there in place by a session's first lookups of a version and
#     copied into the backend once it looked up more rows of it;
#   - a backend keeps a frame in its own cache only from its second whole
#     read of it: the first read puts it in the shared cache alone, the
#     second copies it from there, the third asks the shared cache for
#     fewer frames; the value blocks a backend makes go there too, and a
#     new session copies them instead of making them again; a statement asking for a frame's bytes several times
#     reads it once (no frame kept: the read cache grows by less than a
#     frame, and by more in the next statement);
#   - storage made again in the same file (TRUNCATE of a table created in
#     the transaction) forgets that file's records, and the lookups then
#     return the new rows;
#   - temporary tables are not cached; a role without SELECT on a table
#     whose frames or row-number maps are cached gets "permission denied",
#     never its rows;
#   - a hot standby in recovery does not use the cache, and returns the
#     primary's rows;
#   - after kill -9 of a backend (the server restarts) the cache starts
#     empty and lookups are right; with incetl.cow_shared_cache_size = 0
#     the cache is off (its stats all zero) and lookups are right; loaded
#     without shared_preload_libraries, incetl has no cache and no setting
#     for it, and the session goes on;
#   - incetl.cow_* settings in postgresql.conf apply from server start;
#     -1 (the default) sizes the cache from shared_buffers (a quarter, 64 MB
#     to 1 GB), and SHOW gives the size;
#   - what every read of a block needs (value blocks, first frames) stays
#     while sessions read it, though lookups over other blocks send the
#     cache round several times (a second chance in the ring).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Digest::MD5 qw(md5_hex);

my $node = PostgreSQL::Test::Cluster->new('shared_cache');
$node->init(allows_streaming => 1);
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'incetl,pg_cron'
cron.database_name = 'postgres'
incetl.cow_shared_cache_size = 256kB
incetl.cow_read_cache_size = 8MB
restart_after_crash = on
});
$node->start;
# settings of incetl_cow (defined after the incetl prefix was reserved,
# before the fix) take their postgresql.conf values at server start
is($node->safe_psql('postgres', 'SHOW incetl.cow_shared_cache_size; SHOW incetl.cow_read_cache_size'),
	"256kB\n8MB", 'incetl.cow_* settings from postgresql.conf apply');

# h: heap; c: the same rows in incetl_cow, text blocks in 4 kB frames,
# three file groups, a btree on id
$node->safe_psql('postgres', q{
CREATE EXTENSION incetl;
CREATE TABLE h (id bigint PRIMARY KEY, n int, note text);
INSERT INTO h
SELECT g, g % 1000, CASE WHEN g % 10 <> 0 THEN 'order ' || g || ' ' || md5(g::text) END
FROM generate_series(1, 30000) g;
CREATE TABLE c (LIKE h) USING incetl_cow;
SELECT incetl.set_table_options('c', record_key => 'id', file_group_rows => 10000);
INSERT INTO c SELECT * FROM h;
CREATE INDEX c_id ON c (id);
ANALYZE c;
ANALYZE h;
CREATE FUNCTION lookups(step int, upto int DEFAULT 30000, first int DEFAULT 1) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    k bigint;
    a text;
    b text;
    n int := 0;
    bad int := 0;
BEGIN
    SET LOCAL enable_seqscan = off;
    SET LOCAL enable_bitmapscan = off;
    FOR k IN SELECT g FROM generate_series(first, upto, step) g LOOP
        EXECUTE 'SELECT x::text FROM c x WHERE id = ' || k INTO a;
        EXECUTE 'SELECT x::text FROM h x WHERE id = ' || k INTO b;
        n := n + 1;
        IF a IS DISTINCT FROM b THEN
            bad := bad + 1;
        END IF;
    END LOOP;
    RETURN format('checked %s differing %s', n, bad);
END $$;
CREATE FUNCTION stats() RETURNS TABLE (entries bigint, hits bigint, misses bigint,
                                       writes bigint, dropped bigint, used bigint)
LANGUAGE sql AS $$
SELECT entries, hits, misses, writes, dropped, used_bytes FROM incetl.cow_shared_cache_stats()
$$;
});
is($node->safe_psql('postgres', q{
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT * FROM c WHERE id = 5}) =~ /Index Scan using c_id on c/ ? 1 : 0,
	1, 'lookups go through the btree');
# CREATE INDEX read c's three versions: their descriptions (runs' count,
# absorbed ranges) are the cache's records, and ANALYZE, after the index's
# invalidation, found them there; with c's two lists of versions (the
# current ones and all, cow_version_cache.c), read by the first statement
# outside a writing transaction and found by the next
is($node->safe_psql('postgres', q{
SELECT size_bytes || ' ' || entries || ' ' || hits || ' ' || writes
FROM incetl.cow_shared_cache_stats()}), '262144 5 4 5',
	'the cache starts with no frame, 256 kB: three version descriptions, two version lists');

sub stats
{
	my @s = split /\|/, $node->safe_psql('postgres', 'SELECT * FROM stats()');
	return { entries => $s[0], hits => $s[1], misses => $s[2],
		writes => $s[3], dropped => $s[4], used => $s[5] };
}

# storage made again in the same file forgets its records: on the empty
# cache, a key range of a table made in this transaction puts frames in it,
# and TRUNCATE (retain_commits 0: the storage starts again, same file)
# forgets them all
my $forget = $node->safe_psql('postgres', q{
BEGIN;
CREATE TABLE t (id bigint, note text) USING incetl_cow;
SELECT FROM incetl.set_table_options('t', record_key => 'id', retain_commits => 0) \gset
SELECT entries AS before_lookups FROM stats() \gset
INSERT INTO t SELECT g, 'old ' || g || ' ' || md5(g::text) FROM generate_series(1, 9000) g;
SELECT pg_relation_filenode('t') AS node0 \gset
SELECT string_agg(id || '=' || left(note, 8), ' ' ORDER BY id) FROM t WHERE id BETWEEN 4000 AND 4001;
SELECT entries AS e0 FROM stats() \gset
SELECT :e0 > :before_lookups AS lookups_cached;
TRUNCATE t;
SELECT pg_relation_filenode('t') = :node0 AS same_file;
SELECT entries = :before_lookups AS forgotten FROM stats();
INSERT INTO t SELECT g, 'new ' || g FROM generate_series(1, 9000) g;
SELECT string_agg(id || '=' || note, ' ' ORDER BY id) FROM t WHERE id BETWEEN 4000 AND 4001;
COMMIT;
});
is($forget, "4000=old 4000 4001=old 4001\nt\nt\nt\n4000=new 4000 4001=new 4001",
	'TRUNCATE in the creating transaction: same file, its records forgotten, the new rows read');

# one session fills the cache, more than it holds
is($node->safe_psql('postgres', 'SELECT lookups(7)'), 'checked 4286 differing 0',
	'lookups in the session that fills the cache return the heap rows');
my $s1 = stats();
ok($s1->{writes} > 0 && $s1->{entries} > 0, "frames were written ($s1->{writes}, $s1->{entries} kept)");
ok($s1->{dropped} > 0, "the oldest were dropped to make room ($s1->{dropped})");
ok($s1->{used} <= 262144, "the arena holds at most its size ($s1->{used} bytes)");

# a new session reads the frames of the last keys read from the cache
# (the oldest, those of the first keys, were dropped)
is($node->safe_psql('postgres', 'SELECT lookups(3, 30000, 29000)'), 'checked 334 differing 0',
	'a new session after drops: the heap rows');
my $s2 = stats();
ok($s2->{hits} > $s1->{hits}, 'it found frames in the cache (hits ' . ($s2->{hits} - $s1->{hits}) . ')');
is($node->safe_psql('postgres', 'SELECT lookups(5, 2000)'), 'checked 400 differing 0',
	'a few blocks read by one session');
my $s3 = stats();
is($node->safe_psql('postgres', 'SELECT lookups(5, 2000)'), 'checked 400 differing 0',
	'and again by the next');
my $s4 = stats();
is($s4->{writes}, $s3->{writes}, 'the second session wrote nothing: every frame was there');
ok($s4->{hits} > $s3->{hits}, 'it copied them (hits ' . ($s4->{hits} - $s3->{hits}) . ')');

# the row-number maps of versions a rewrite carried rows into (format 5)
# are kept there too: a new session takes each map from the cache instead
# of reading, decompressing and checking it again
# a table of 20000 rows (v 0) in two file groups, its btree made before an
# upsert sets v to 1 on every step-th key: both groups rewritten, the
# unchanged rows carried with their row numbers (maps)
sub map_table
{
	my ($name, $step) = @_;
	$node->safe_psql('postgres', qq{
CREATE TABLE $name (id bigint, v int) USING incetl_cow;
SELECT FROM incetl.set_table_options('$name', record_key => 'id', file_group_rows => 10000);
INSERT INTO $name SELECT g, 0 FROM generate_series(1, 20000) g;
CREATE INDEX ${name}_id ON $name (id);
INSERT INTO $name SELECT g, 1 FROM generate_series(1, 20000, $step) g;
ANALYZE $name;
});
}
map_table('m', 100);
my $map_lookup = q{
SET enable_seqscan = off;
SET enable_bitmapscan = off;
SELECT string_agg(id || '=' || v, ' ' ORDER BY id) FROM m WHERE id IN (1, 2, 10001, 10002, 19901, 20000);
};
is($node->safe_psql('postgres', $map_lookup), '1=1 2=0 10001=1 10002=0 19901=1 20000=0',
	'lookups of carried and rewritten rows, through the maps');
my $m1 = stats();
is($node->safe_psql('postgres', $map_lookup), '1=1 2=0 10001=1 10002=0 19901=1 20000=0',
	'the same lookups in a new session');
my $m2 = stats();
is(($m2->{misses} - $m1->{misses}) . ' ' . ($m2->{writes} - $m1->{writes}), '0 0',
	'the new session found everything, maps included, in the cache and wrote nothing');
ok($m2->{hits} > $m1->{hits}, 'it copied them (hits ' . ($m2->{hits} - $m1->{hits}) . ')');
is($node->safe_psql('postgres', q{
SET enable_seqscan = off;
SELECT count(*) FROM m x JOIN generate_series(1, 20000, 7) g ON x.id = g
WHERE x.v = CASE WHEN (g - 1) % 100 = 0 THEN 1 ELSE 0 END}), '2858',
	'every seventh key through the index, with maps from the cache');

# a new session's lookups search a map in the shared cache, in place, and
# copy it into the backend only once they have asked it more than a few
# dozen times: a few lookups leave the backend's maps without runs (a map
# of some 800 runs, 22 kB: the largest the 256 kB cache keeps is 32 kB),
# three thousand copy them; both return the rows the upsert left
map_table('m2', 25);
my $m2_lookups = q{
SET enable_seqscan = off;
SET enable_bitmapscan = off;
SELECT string_agg(id || '=' || v, ' ' ORDER BY id) FROM m2 WHERE id IN (1, 2, 9976, 10001, 10002, 20000);
SELECT sum(total_bytes) FROM pg_backend_memory_contexts WHERE name = 'incetl cow row-number maps';
SELECT count(*) FILTER (WHERE x.v = CASE WHEN g % 25 = 1 THEN 1 ELSE 0 END) || ' of ' || count(*)
FROM m2 x JOIN generate_series(1, 9000, 3) g ON x.id = g;
SELECT sum(total_bytes) FROM pg_backend_memory_contexts WHERE name = 'incetl cow row-number maps';
};
$node->safe_psql('postgres', $m2_lookups);
my $m3 = stats();
my @m2 = split /\n/, $node->safe_psql('postgres', $m2_lookups);
my $m4 = stats();
is($m2[0], '1=1 2=0 9976=1 10001=1 10002=0 20000=0',
	'a new session: lookups of carried and rewritten rows, the maps searched in the shared cache');
is($m4->{misses} - $m3->{misses}, 0, 'every map was there');
ok($m2[1] < 40000, "the backend did not copy the maps for six lookups ($m2[1] bytes)");
is($m2[2], '3000 of 3000', '3000 lookups in one version: the rows the upsert left');
ok($m2[3] > $m2[1] + 20000, "and the backend copied its map ($m2[1] -> $m2[3] bytes)");

# What every read of a block needs (its value blocks, the mark that its
# CRC was verified, a VARLENA block's first frame) is not dropped in its
# turn while it is read: a key's block read by a new session between
# lookups over other blocks, each part writing some 60 frames of 4 kB
# (about the cache's 256 kB), is found there each time, though the cache
# went round several times; only the frame of the key's value, which
# passes in order, is decompressed and written again.
my $k_lookup = q{
SET enable_seqscan = off;
SET enable_bitmapscan = off;
SELECT x::text FROM c x WHERE id = 5;
};
my $k_row = "(5,5,\"order 5 " . md5_hex('5') . "\")";
is($node->safe_psql('postgres', $k_lookup), $k_row, 'a key of c\'s first block');
is($node->safe_psql('postgres', $k_lookup), $k_row, 'and again, in a new session');
my (@kw, $k0);
for my $part (1 .. 6)
{
	$node->safe_psql('postgres', "SELECT lookups(331, 30000, 10000 + $part)");
	my $b = stats();
	is($node->safe_psql('postgres', $k_lookup), $k_row,
		"the key after other blocks' lookups ($part)");
	my $a = stats();
	push @kw, $a->{writes} - $b->{writes};
	$k0 //= $b;
}
my $k1 = stats();
ok($k1->{dropped} - $k0->{dropped} > 4 * 60,
	'the cache went round several times (' . ($k1->{dropped} - $k0->{dropped}) . ' records dropped)');
# the first part's lookups may have dropped them before the key was read
# again (they were written by its first session and read by its second);
# from then on the key's session reads them there and they stay
my $kfirst = shift @kw;
ok($kfirst > 0 && (grep { $_ * 2 > $kfirst } @kw) == 0,
	"the key's block's value blocks stayed: each later session wrote less than half as much ($kfirst, then @kw)");

# a backend keeps a frame in its own cache only the second time it reads
# it whole: a frame it decompressed goes to the server's cache alone (a new
# session reading each frame once costs no memory of its own; the first
# statement's two hits there are the version's description and the
# table's list of versions, ANALYZE's), the next
# statement copies it from there, and keeps it when it read it whole (a
# VARLENA block's first frame, its lengths): the third statement asks the
# server's cache for fewer frames, those it reads a part of (three lookups
# of one key in one session)
$node->safe_psql('postgres', q{
CREATE TABLE s (id bigint, n int, note text) USING incetl_cow;
SELECT FROM incetl.set_table_options('s', record_key => 'id');
INSERT INTO s SELECT g, g % 1000, 'second ' || g || ' ' || md5(g::text)
FROM generate_series(1, 20000) g;
CREATE INDEX s_id ON s (id);
ANALYZE s;
});
my $second = $node->safe_psql('postgres', q{
SET enable_seqscan = off;
SET enable_bitmapscan = off;
SELECT hits AS h0, writes AS w0 FROM stats() \gset
SELECT x::text AS r1 FROM s x WHERE id = 12345 \gset
SELECT hits AS h1, writes AS w1 FROM stats() \gset
SELECT x::text AS r2 FROM s x WHERE id = 12345 \gset
SELECT hits AS h2, writes AS w2 FROM stats() \gset
SELECT x::text AS r3 FROM s x WHERE id = 12345 \gset
SELECT hits AS h3, writes AS w3 FROM stats() \gset
SELECT :'r1' = :'r2' AND :'r2' = :'r3', :'r1',
       :h1 - :h0 AS first_hits, :w1 - :w0 > 0 AS first_wrote,
       :h2 - :h1 > 0 AS second_hit, :w2 - :w1 AS second_writes,
       :h3 - :h2 > 0 AND :h3 - :h2 < :h2 - :h1 AS third_fewer,
       :w3 - :w2 AS third_writes;
});
is($second, "t|(12345,345,\"second 12345 " . md5_hex('12345') . "\")|2|t|t|0|t|1",
	'frames: decompressed and put in the server cache, then copied from there, then the whole ones read from the backend cache');
# the value blocks a backend makes (what reading one value of a block
# needs of its headers: the int columns' at the first read, the VARLENA
# one's at the third, the one write of the third statement above) go to
# the server's cache too: a new session's first lookup of the key copies
# all three from there and makes none, and reads the values' bytes from
# there too, without the blocks' frame indexes.  It misses nothing and
# writes nothing.  Its twelve hits: the table's version list and row
# index (two), the three value blocks, n's bytes out of its block kept
# decompressed whole (one), and note's out of its two frames (six: two
# for its length, four for the value, rebuilt from those before it that
# share its prefix).
my $newsession = $node->safe_psql('postgres', q{
SET enable_seqscan = off;
SET enable_bitmapscan = off;
SELECT hits AS h0, misses AS m0, writes AS w0 FROM stats() \gset
SELECT x::text AS r FROM s x WHERE id = 12345 \gset
SELECT hits AS h1, misses AS m1, writes AS w1 FROM stats() \gset
SELECT :'r', :h1 - :h0 AS hits, :m1 - :m0 AS misses, :w1 - :w0 AS writes;
});
is($newsession, "(12345,345,\"second 12345 " . md5_hex('12345') . "\")|12|0|0",
	'value blocks: a new session copies those another session made, and reads the bytes from the server cache');
# a reader asking for bytes of one frame several times in a statement (a
# VARLENA value rebuilt from the values before it that share its prefix,
# two rows of a key range) reads it once: it keeps no frame (its cache
# grows by its entries and the blocks' value blocks, some 5 kB, where a
# frame kept would add 4 kB more: by less than 8 kB), and the next
# statement keeps the whole ones it reads (and asks the server's cache
# less in the one after).  Another session put the frames in the server's
# cache.
$node->safe_psql('postgres', q{
CREATE TABLE p (id bigint, note text) USING incetl_cow;
SELECT FROM incetl.set_table_options('p', record_key => 'id');
INSERT INTO p SELECT g, 'change ' || g || ' ' || md5(g::text) FROM generate_series(1, 20000) g;
CREATE INDEX p_id ON p (id);
ANALYZE p;
});
my $pair = q{SELECT string_agg(x::text, ' ' ORDER BY id) FROM p x WHERE id IN (15000, 15001)};
$node->safe_psql('postgres', "SET enable_seqscan = off; SET enable_bitmapscan = off; $pair");
my $twice = $node->safe_psql('postgres', qq{
SET enable_seqscan = off;
SET enable_bitmapscan = off;
CREATE TEMP VIEW rc AS SELECT used_bytes FROM pg_backend_memory_contexts
    WHERE name = 'incetl cow read cache' AND parent = 'TopMemoryContext';
SELECT coalesce((SELECT used_bytes FROM rc), 0) AS u0 \\gset
SELECT hits AS h0 FROM stats() \\gset
$pair \\gset r1_
SELECT used_bytes AS u1 FROM rc \\gset
SELECT hits AS h1 FROM stats() \\gset
$pair \\gset r2_
SELECT used_bytes AS u2 FROM rc \\gset
SELECT hits AS h2 FROM stats() \\gset
$pair \\gset r3_
SELECT hits AS h3 FROM stats() \\gset
SELECT :'r1_string_agg' = :'r2_string_agg' AND :'r2_string_agg' = :'r3_string_agg',
       :'r1_string_agg', :h1 - :h0 > 0, :u1 - :u0 < 8192, :u2 - :u1 >= 4096,
       :h3 - :h2 < :h2 - :h1, :u1 - :u0, :u2 - :u1;
});
like($twice, qr/^t\|\(15000,"change 15000 @{[md5_hex('15000')]}"\) \(15001,"change 15001 @{[md5_hex('15001')]}"\)\|t\|t\|t\|t\|/,
	"frames asked for more than once in a statement: kept by the next statement, not that one ($twice)");

# several clients reading while one upserts both tables in one transaction
$node->safe_psql('postgres', 'CREATE TABLE pgb_bad (k bigint, c text, h text)');
$node->pgbench(
	'--no-vacuum --client=4 --transactions=500',
	0,
	[qr{processed: 2000/2000}],
	[qr{^$}],
	'pgbench: concurrent lookups and key ranges while one client upserts',
	{
		'shared_cache_read@9' => q{
\set k random(1, 30000)
INSERT INTO pgb_bad SELECT :k, (SELECT x::text FROM c x WHERE id = :k), (SELECT x::text FROM h x WHERE id = :k)
    WHERE (SELECT x::text FROM c x WHERE id = :k) IS DISTINCT FROM (SELECT x::text FROM h x WHERE id = :k);
},
		'shared_cache_range@3' => q{
\set k random(1, 29980)
INSERT INTO pgb_bad SELECT :k, 'range', NULL
    WHERE (SELECT string_agg(x::text, ',' ORDER BY id) FROM c x WHERE id BETWEEN :k AND :k + 20)
          IS DISTINCT FROM (SELECT string_agg(x::text, ',' ORDER BY id) FROM h x WHERE id BETWEEN :k AND :k + 20);
},
		'shared_cache_write@1' => q{
\set k random(1, 30000)
BEGIN;
SELECT pg_advisory_xact_lock(6);
UPDATE h SET note = 'upserted ' || :k || ' ' || md5(random()::text) WHERE id = :k;
INSERT INTO c SELECT * FROM h WHERE id = :k;
COMMIT;
},
	});
is($node->safe_psql('postgres', 'SELECT count(*) FROM pgb_bad'), '0',
	'no lookup differed from heap');
is($node->safe_psql('postgres', 'SELECT lookups(11)'), 'checked 2728 differing 0',
	'after the upserts: the heap rows');

# temporary tables are not cached
is($node->safe_psql('postgres', q{
CREATE TEMP TABLE tt (id bigint, note text) USING incetl_cow;
SELECT FROM incetl.set_table_options('tt', record_key => 'id') \gset
INSERT INTO tt SELECT g, 'temp ' || g || ' ' || md5(g::text) FROM generate_series(1, 9000) g;
CREATE INDEX ON tt (id);
SELECT writes AS w0 FROM stats() \gset
SET enable_seqscan = off;
SET enable_bitmapscan = off;
SELECT note FROM tt WHERE id = 4321;
SELECT writes = :w0 FROM stats();
}), "temp 4321 " . md5_hex_of('4321') . "\nt", 'a temporary table is read right and not cached');

# a role without SELECT on c: its frames are cached, its rows not given
$node->safe_psql('postgres', q{
CREATE ROLE bob LOGIN;
CREATE SCHEMA bob AUTHORIZATION bob;
SELECT lookups(1, 300);
SET enable_seqscan = off;
SET enable_bitmapscan = off;
SELECT v FROM m WHERE id = 10001;
});
my ($ret, $out, $err) = $node->psql('postgres', q{
SET enable_seqscan = off;
SELECT note FROM public.c WHERE id = 42;
}, extra_params => [ '-U', 'bob', '-v', 'VERBOSITY=verbose' ]);
like($err, qr/42501: permission denied for table c/, 'bob: permission denied for c, though its frames are cached');
is($out, '', 'and no row');
($ret, $out, $err) = $node->psql('postgres', q{
SET enable_seqscan = off;
SET enable_bitmapscan = off;
SELECT v FROM public.m WHERE id = 10001;
}, extra_params => [ '-U', 'bob', '-v', 'VERBOSITY=verbose' ]);
like($err, qr/42501: permission denied for table m/, 'bob: permission denied for m, though its row-number maps are cached');
is($out, '', 'and no row');
is($node->safe_psql('postgres', q{
SET ROLE bob;
CREATE TABLE bob.c (id bigint, note text) USING incetl_cow;
SELECT FROM incetl.set_table_options('bob.c', record_key => 'id') \gset
INSERT INTO bob.c SELECT g, 'bob ' || g FROM generate_series(1, 9000) g;
CREATE INDEX ON bob.c (id);
SET enable_seqscan = off;
SELECT note FROM bob.c WHERE id = 42;
}), 'bob 42', "bob's own table of the same shape gives his rows");

# a hot standby replays; its cache stays unused
$node->backup('b');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($node, 'b', has_streaming => 1);
$standby->start;
$node->safe_psql('postgres', q{
UPDATE h SET note = 'after the backup ' || id WHERE id % 100 = 0;
INSERT INTO c SELECT * FROM h WHERE id % 100 = 0;
});
$node->wait_for_catchup($standby);
is($standby->safe_psql('postgres', 'SELECT lookups(13)'), 'checked 2308 differing 0',
	'the standby: lookups return the rows');
is($standby->safe_psql('postgres', q{SELECT entries || ' ' || hits || ' ' || writes FROM stats()}),
	'0 0 0', 'and did not use its cache during recovery');
$standby->stop;

# kill -9 of a backend: the server restarts every process and its shared
# memory; the cache starts empty
ok(stats()->{entries} > 0, 'the cache holds frames before the crash');
my ($sout, $serr) = ('', '');
my $sleeper = IPC::Run::start(
	[ 'psql', '-X', '-d', $node->connstr('postgres'), '-c', 'SELECT pg_sleep(600)' ],
	'>', \$sout, '2>', \$serr);
$node->poll_query_until('postgres',
	q{SELECT count(*) = 1 FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(600)'});
my $victim = $node->safe_psql('postgres',
	q{SELECT pid FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(600)'});
kill 'KILL', $victim;
$sleeper->finish;
$node->poll_query_until('postgres', 'SELECT 1', '1');
ok($node->log_contains(qr/server process \(PID $victim\) was terminated by signal 9/),
	'the backend was killed with signal 9 and the server restarted');
is($node->safe_psql('postgres', q{SELECT entries || ' ' || hits FROM stats()}), '0 0',
	'after the crash the cache is empty');
is($node->safe_psql('postgres', 'SELECT lookups(13)'), 'checked 2308 differing 0',
	'lookups after the crash return the heap rows');

# off
$node->append_conf('postgresql.conf', 'incetl.cow_shared_cache_size = 0');
$node->restart;
is($node->safe_psql('postgres', q{
SELECT size_bytes || ' ' || used_bytes || ' ' || entries || ' ' || hits || ' ' || misses || ' ' || writes
FROM incetl.cow_shared_cache_stats()}), '0 0 0 0 0 0', 'incetl.cow_shared_cache_size = 0: the cache is off');
is($node->safe_psql('postgres', 'SELECT lookups(13)'), 'checked 2308 differing 0',
	'lookups without it return the heap rows');

# -1 sizes it from shared_buffers: a quarter, at least 64 MB, at most 1 GB;
# the default, and written in postgresql.conf as well
# (shared_buffers, what postgresql.conf says of the cache, SHOW, the size)
for my $case ([ '1GB', undef, '256MB', '256 MB' ],
	[ '128MB', -1, '64MB', '64 MB' ],
	[ '4400MB', -1, '1GB', '1024 MB' ],
	[ '512MB', -1, '128MB', '128 MB' ])
{
	my ($sb, $set, $show, $size) = @$case;
	my $conf = $node->data_dir . '/postgresql.conf';
	my $text = PostgreSQL::Test::Utils::slurp_file($conf);
	$text =~ s/^(incetl\.cow_shared_cache_size|shared_buffers) .*\n//mg;
	$text .= "shared_buffers = $sb\n";
	$text .= "incetl.cow_shared_cache_size = $set\n" if defined $set;
	open(my $fh, '>', $conf) or die "could not write $conf: $!";
	print $fh $text;
	close $fh;
	$node->restart;
	is($node->safe_psql('postgres', q{
SELECT current_setting('incetl.cow_shared_cache_size') || ' ' ||
       pg_size_pretty(size_bytes) FROM incetl.cow_shared_cache_stats()}),
		"$show $size", "shared_buffers $sb, the cache "
		  . (defined $set ? "set to $set" : 'not set') . ": $show");
}
is($node->safe_psql('postgres', 'SELECT lookups(13)'), 'checked 2308 differing 0',
	'lookups with a cache sized from shared_buffers return the heap rows');
# below -1: refused, nothing written to postgresql.auto.conf
my ($rc, $out, $err) = $node->psql('postgres',
	'ALTER SYSTEM SET incetl.cow_shared_cache_size = -2');
like($err, qr/ERROR:  -2 kB is outside the valid range for parameter "incetl\.cow_shared_cache_size" \(-1 \.\. \d+\)/,
	'a size below -1 is refused');
unlike(PostgreSQL::Test::Utils::slurp_file($node->data_dir . '/postgresql.auto.conf'),
	qr/cow_shared_cache_size/, 'and not written');

$node->stop;

# incetl loaded without shared_preload_libraries (LOAD, CREATE EXTENSION):
# no cache and no setting for it, and the session goes on (defining a
# setting fixed at server start after startup ended the session: FATAL)
my $plain = PostgreSQL::Test::Cluster->new('no_preload');
$plain->init;
$plain->append_conf('postgresql.conf', "shared_preload_libraries = ''");
$plain->start;
is($plain->safe_psql('postgres', q{
LOAD 'incetl';
SELECT 'still here';
CREATE EXTENSION incetl;
SELECT size_bytes || ' ' || entries || ' ' || hits FROM incetl.cow_shared_cache_stats();
SELECT current_setting('incetl.cow_shared_cache_size', true) IS NULL;
}), "still here\n0 0 0\nt", 'without preloading: LOAD and CREATE EXTENSION work, the cache is off');
$plain->stop;

done_testing();

sub md5_hex_of
{
	my ($s) = @_;
	require Digest::MD5;
	return Digest::MD5::md5_hex($s);
}
