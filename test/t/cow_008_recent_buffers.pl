# Extent pages read through the buffer they were last read in
# (cow_storage.c, CowReadExtentPage): a backend remembers, per page, the
# buffer it last read an extent page in and asks that buffer first
# (ReadRecentBuffer), looking the page up only when the buffer no longer
# holds it.  On a server of 1 MB of shared buffers, with the shared frame
# cache and the backend's read cache off (every lookup reads its pages):
#   - lookups in one session return heap's rows, and again after another
#     table's scan has pushed every page of the table out of shared buffers
#     (the remembered buffers then hold other pages: looked up again);
#   - after an upsert rewrote the table's file groups into pages that held
#     other ones (the pages reused, the buffers the same), and after
#     TRUNCATE and a new load in the same transaction, lookups return the
#     new rows;
#   - a temporary incetl_cow table (local buffers, never remembered) reads
#     its own rows beside a permanent one;
#   - the reads through a remembered buffer count as buffer hits of the
#     table in pg_statio, as ReadBuffer's do.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('recent_buffers');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'incetl,pg_cron'
cron.database_name = 'postgres'
shared_buffers = 1MB
incetl.cow_shared_cache_size = 0
incetl.cow_read_cache_size = 0
autovacuum = off
});
$node->start;

$node->safe_psql('postgres', q{
CREATE EXTENSION incetl;
CREATE TABLE h (id bigint PRIMARY KEY, a bigint, b bigint, t timestamptz, note text);
INSERT INTO h SELECT g, (g::bigint * 2654435761) % 1000000007, g % 97,
       '2026-01-01'::timestamptz + ((g::bigint * 48271) % 2147483647) * interval '1 second',
       md5(g::text) || md5((g * 3)::text)
FROM generate_series(1, 60000) g;
CREATE TABLE c (LIKE h) USING incetl_cow;
SELECT incetl.set_table_options('c', record_key => 'id', file_group_rows => 20000);
INSERT INTO c SELECT * FROM h;
CREATE INDEX c_id ON c (id);
CREATE TABLE filler (x bigint, pad text);
INSERT INTO filler SELECT g, repeat('x', 200) FROM generate_series(1, 20000) g;
ANALYZE;
CREATE FUNCTION lookups(step int, tbl text DEFAULT 'c') RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    k bigint;
    x text;
    y text;
    n int := 0;
    bad int := 0;
BEGIN
    SET LOCAL enable_seqscan = off;
    SET LOCAL enable_bitmapscan = off;
    FOR k IN SELECT g FROM generate_series(1, 60000, step) g LOOP
        EXECUTE format('SELECT r::text FROM %I r WHERE id = %s', tbl, k) INTO x;
        EXECUTE 'SELECT r::text FROM h r WHERE id = ' || k INTO y;
        n := n + 1;
        IF x IS DISTINCT FROM y THEN
            bad := bad + 1;
        END IF;
    END LOOP;
    RETURN format('checked %s differing %s', n, bad);
END $$;
});
cmp_ok($node->safe_psql('postgres', q{SELECT pg_relation_size('c')}), '>', 2 * 1024 * 1024,
	'the table is larger than shared buffers');

# lookups, twice over the same keys in one session (the second time through
# the buffers remembered, or looked up where they were pushed out), then
# after a scan of another table
is($node->safe_psql('postgres', q{
SELECT lookups(37);
SELECT lookups(37);
SELECT count(*) FROM filler;
SELECT lookups(37);
}), "checked 1622 differing 0\nchecked 1622 differing 0\n20000\nchecked 1622 differing 0",
	'lookups in one session, again, and after another table pushed the pages out');

# an upsert rewrites every file group: the old versions' pages are reused
# for new ones (retain_commits 0), in the buffers the session remembers
is($node->safe_psql('postgres', q{
SELECT FROM incetl.set_table_options('c', retain_commits => 0);
SELECT lookups(101);
UPDATE h SET a = a + 1, t = t + interval '1 day' WHERE id % 3 = 0;
INSERT INTO c SELECT * FROM h WHERE id % 3 = 0;
VACUUM c;
INSERT INTO c SELECT * FROM h WHERE id % 3 = 0;
SELECT lookups(101);
SELECT lookups(7);
}), "checked 595 differing 0\nchecked 595 differing 0\nchecked 8572 differing 0",
	'lookups after upserts rewrote the file groups into reused pages');

# TRUNCATE and a new load in the same transaction (same file, new storage)
is($node->safe_psql('postgres', q{
SELECT lookups(101);
BEGIN;
TRUNCATE c;
UPDATE h SET b = -b;
INSERT INTO c SELECT * FROM h;
SELECT lookups(101);
COMMIT;
SELECT lookups(13);
}), "checked 595 differing 0\nchecked 595 differing 0\nchecked 4616 differing 0",
	'lookups after TRUNCATE and a new load in one transaction');

# a temporary incetl_cow table beside the permanent one, in one session
is($node->safe_psql('postgres', q{
CREATE TEMP TABLE tc (LIKE h) USING incetl_cow;
SELECT FROM incetl.set_table_options('tc', record_key => 'id', file_group_rows => 20000);
INSERT INTO tc SELECT * FROM h;
CREATE INDEX tc_id ON tc (id);
ANALYZE tc;
SELECT lookups(41, 'tc');
SELECT lookups(41);
SELECT lookups(41, 'tc');
}), "checked 1464 differing 0\nchecked 1464 differing 0\nchecked 1464 differing 0",
	'a temporary table and a permanent one read their own rows in one session');

# pg_statio: the reads through a remembered buffer count as ReadBuffer's
# do.  With room in shared buffers and the backend's read cache off, a
# statement of 30 lookups in one block, repeated in one session, reads the
# block of each column from its pages, remembered from the statement
# before: every one a hit of the table (none counted without the counting,
# 15 with it).
$node->append_conf('postgresql.conf', qq{
shared_buffers = 32MB
incetl.cow_shared_cache_size = 64MB
incetl.cow_read_cache_size = 16MB
});
$node->restart;
my $thirty = q{
SET enable_seqscan = off;
SET enable_bitmapscan = off;
SET incetl.cow_read_cache_size = 0;
SELECT sum(length(r::text)) > 0 FROM generate_series(1, 30) g, LATERAL (SELECT * FROM c WHERE id = 1000 + g) r;
};
my $counted = q{
SELECT pg_stat_force_next_flush();
SELECT pg_stat_clear_snapshot();
SELECT heap_blks_read AS r0, heap_blks_hit AS h0 FROM pg_statio_user_tables WHERE relname = 'c' \gset
} . $thirty . q{
SELECT pg_stat_force_next_flush();
SELECT pg_stat_clear_snapshot();
SELECT (heap_blks_read - :r0) || ' ' || (heap_blks_hit - :h0) FROM pg_statio_user_tables WHERE relname = 'c';
};
# (after lookups enough that the backend remembers buffers at all)
my $repeated = (split /\n/, $node->safe_psql('postgres',
	'SELECT lookups(53);' . $thirty . $thirty . $counted))[-1];
my ($r_rep, $h_rep) = split / /, $repeated;
ok($r_rep == 0 && $h_rep >= 4,
	"the statement repeated reads the table's pages through the buffers remembered, counted as hits ($repeated: read, hit)");
is($node->safe_psql('postgres', 'SELECT lookups(53)'), 'checked 1133 differing 0',
	'lookups with the caches on return heap\'s rows');

done_testing();
