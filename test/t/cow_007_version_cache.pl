# Lists of file group versions in the shared cache (cow_version_cache.c):
# what a new session's lookup would otherwise read from
# incetl.cow_file_group, kept for every backend once no writer of the
# table's catalog rows is running.  A session's scans of the catalog are
# counted in pg_stat_xact_all_tables (in the lookup's own transaction):
#   - after a write, the first new session reads the catalog (and keeps
#     the list), the next ones do not, and all return heap's rows;
#   - two databases whose tables have the same storage id each read their
#     own rows;
#   - while a writer runs (a session in a transaction, a prepared
#     transaction) new sessions read the catalog and see the rows before
#     it; after its commit, its rows;
#   - VACUUM FULL of incetl.cow_file_group moves its rows: lists kept
#     before it (in the shared cache, and in a REPEATABLE READ
#     transaction's backend) still answer, and xmax, read from the
#     catalog row, finds the row where it is now;
#   - DROP DATABASE makes every list unreachable (a later database may
#     reuse the OID), and so do DROP and CREATE EXTENSION (storage ids
#     start at 1 again): a new table with a dropped one's storage id has
#     no rows;
#   - pgbench, each transaction a new connection, looking up keys of an
#     incetl_cow table and of heap while upserting both and running VACUUM
#     (which deletes the catalog rows of old versions): no lookup differs;
#   - a table of more versions than a list keeps reads the catalog, and
#     looks for a list only once while its generation stays the same;
#   - a role without SELECT gets "permission denied" though the list of
#     the table is kept.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('version_cache');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'incetl'
autovacuum = off
max_prepared_transactions = 4
});
$node->start;

my $setup = q{
CREATE EXTENSION incetl;
CREATE TABLE h (id bigint PRIMARY KEY, note text);
INSERT INTO h SELECT g, 'order ' || g FROM generate_series(1, 30000) g;
CREATE TABLE c (LIKE h) USING incetl_cow;
SELECT incetl.set_table_options('c', record_key => 'id', file_group_rows => 10000);
INSERT INTO c SELECT * FROM h;
CREATE INDEX c_id ON c (id);
ANALYZE c;
ANALYZE h;
};
$node->safe_psql('postgres', $setup);

# one lookup in a new session: "its row|catalog scans in its transaction"
sub lookup
{
	my ($db, $table, $id) = @_;
	return $node->safe_psql($db, qq{
BEGIN;
SET LOCAL enable_seqscan = off;
SET LOCAL enable_bitmapscan = off;
SELECT (SELECT note FROM $table WHERE id = $id) || '|' ||
       (SELECT coalesce(idx_scan, 0) + coalesce(seq_scan, 0)
        FROM pg_stat_xact_all_tables
        WHERE relid = 'incetl.cow_file_group'::regclass);
COMMIT;});
}

sub upsert
{
	my ($id, $note) = @_;
	$node->safe_psql('postgres', qq{
UPDATE h SET note = '$note' WHERE id = $id;
INSERT INTO c VALUES ($id, '$note');});
}

# after a write: the first new session reads the catalog, the next do not
upsert(15000, 'first upsert');
my ($note, $scans) = split /\|/, lookup('postgres', 'c', 15000);
is($note, 'first upsert', 'after a write, a new session: the new row');
ok($scans > 0, "it read incetl.cow_file_group ($scans scans)");
is(lookup('postgres', 'c', 15000), 'first upsert|0',
	'the next new session: the same row, the catalog not read');
is(lookup('postgres', 'c', 29999), 'order 29999|0',
	'and another key of another file group, the catalog not read');

# another database: its first table has the same storage id, other rows
$node->safe_psql('postgres', 'CREATE DATABASE db2');
$node->safe_psql('db2', q{
CREATE EXTENSION incetl;
CREATE TABLE c (id bigint, note text) USING incetl_cow;
SELECT incetl.set_table_options('c', record_key => 'id', file_group_rows => 10000);
INSERT INTO c SELECT g, 'db2 ' || g FROM generate_series(1, 20000) g;
CREATE INDEX c_id ON c (id);
ANALYZE c;
});
my $sid_q = q{SELECT min(storage_id) || ' ' || max(storage_id) FROM incetl.cow_file_group};
is($node->safe_psql('db2', $sid_q), $node->safe_psql('postgres', $sid_q),
	'both databases use the same storage id');
lookup('db2', 'c', 15000);
is(lookup('db2', 'c', 15000), 'db2 15000|0', 'db2: its own row, from its list');
# (CREATE EXTENSION in db2 made the lists unreachable)
lookup('postgres', 'c', 15000);
is(lookup('postgres', 'c', 15000), 'first upsert|0',
	'postgres: its own row, from its list');

# a writer running: new sessions read the catalog and see the rows before
my $bg = $node->background_psql('postgres');
$bg->query_safe('BEGIN');
$bg->query_safe(q{INSERT INTO c VALUES (15000, 'running writer')});
($note, $scans) = split /\|/, lookup('postgres', 'c', 15000);
is($note, 'first upsert', 'a writer running: a new session sees the row before it');
ok($scans > 0, "and read the catalog ($scans scans)");
is(lookup('postgres', 'c', 15000), "first upsert|$scans",
	'so does the next one: the list is not kept while the writer runs');
$bg->query_safe('COMMIT');
$bg->quit;
$node->safe_psql('postgres', q{UPDATE h SET note = 'running writer' WHERE id = 15000});
($note, $scans) = split /\|/, lookup('postgres', 'c', 15000);
is($note, 'running writer', 'after its commit: its row');
is(lookup('postgres', 'c', 15000), 'running writer|0',
	'and the next new session has it from the list');

# a prepared transaction is a writer still running
$node->safe_psql('postgres', q{
BEGIN;
INSERT INTO c VALUES (20000, 'prepared');
PREPARE TRANSACTION 'vc';
});
($note, $scans) = split /\|/, lookup('postgres', 'c', 20000);
is($note, 'order 20000', 'a prepared writer: the row before it');
$node->safe_psql('postgres', q{COMMIT PREPARED 'vc'});
$node->safe_psql('postgres', q{UPDATE h SET note = 'prepared' WHERE id = 20000});
lookup('postgres', 'c', 20000);
is(lookup('postgres', 'c', 20000), 'prepared|0',
	'after COMMIT PREPARED: its row, from the list');

# VACUUM FULL of the catalog moves its rows; the list kept before it has
# their old places, and xmax reads the row where it is now.  Dead catalog
# rows first (a table written 200 times, then dropped), then new versions
# of c's three file groups: the rewrite moves these to the blocks the
# dead rows had, and their old places are past the catalog's new end
$node->safe_psql('postgres', q{
CREATE TABLE junk (id int, note text) USING incetl_cow;
SELECT incetl.set_table_options('junk', record_key => 'id');
});
$node->safe_psql('postgres',
	join("\n", map { "INSERT INTO junk VALUES ($_, 'x');" } 1 .. 200));
$node->safe_psql('postgres', 'DROP TABLE junk');
upsert($_, "before full $_") for (1, 15000, 29999);
my $xmax_q = q{
SET enable_seqscan = off;
SET enable_bitmapscan = off;
SELECT id, xmax, note FROM c WHERE id IN (1, 15000, 29999) ORDER BY id;
};
lookup('postgres', 'c', 1);
my $before_full = $node->safe_psql('postgres', $xmax_q);
is($before_full,
	"1|0|before full 1\n15000|0|before full 15000\n29999|0|before full 29999",
	'xmax of rows no one deletes is 0');
my $blocks_before = $node->safe_psql('postgres',
	q{SELECT pg_relation_size('incetl.cow_file_group') / 8192});
# a REPEATABLE READ transaction keeps the list it read before the rewrite
# (its backend's own cache): the build before failed reading its xmax
# after it ("could not read block")
my $xmax_rr = q{SELECT id, xmax FROM c WHERE id IN (1, 15000, 29999) ORDER BY id};
my $rr = $node->background_psql('postgres');
$rr->query_safe('BEGIN ISOLATION LEVEL REPEATABLE READ');
$rr->query_safe('SET enable_seqscan = off');
is($rr->query_safe($xmax_rr), "1|0\n15000|0\n29999|0",
	'REPEATABLE READ: xmax before the rewrite');
my $tids_before = $node->safe_psql('postgres',
	q{SELECT string_agg(ctid::text, ' ' ORDER BY ctid) FROM incetl.cow_file_group});
$node->safe_psql('postgres', 'VACUUM FULL incetl.cow_file_group');
isnt($node->safe_psql('postgres',
	q{SELECT string_agg(ctid::text, ' ' ORDER BY ctid) FROM incetl.cow_file_group}),
	$tids_before, 'VACUUM FULL moved the catalog rows');
my $blocks_after = $node->safe_psql('postgres',
	q{SELECT pg_relation_size('incetl.cow_file_group') / 8192});
ok($blocks_after < $blocks_before,
	"and the catalog is shorter ($blocks_before -> $blocks_after blocks)");
is($rr->query_safe($xmax_rr), "1|0\n15000|0\n29999|0",
	'the same transaction after it: xmax finds the moved rows');
$rr->query_safe('COMMIT');
$rr->quit;
is(lookup('postgres', 'c', 29999), 'before full 29999|0',
	'a new session after it: the list kept before it');
is($node->safe_psql('postgres', $xmax_q), $before_full,
	'xmax from the list kept before it: the rows moved are found');
upsert(1, 'after full');
is($node->safe_psql('postgres', q{SELECT note FROM c WHERE id = 1}),
	'after full', 'writes go on after it');

# DROP DATABASE: every list is read again
lookup('postgres', 'c', 1);
is(lookup('postgres', 'c', 1), 'after full|0', 'the list is kept');
$node->safe_psql('postgres', 'DROP DATABASE db2');
($note, $scans) = split /\|/, lookup('postgres', 'c', 1);
is($note, 'after full', 'after DROP DATABASE: the row');
ok($scans > 0, "read from the catalog again ($scans scans)");

# new connections looking up both tables while one client upserts both
$node->safe_psql('postgres', 'CREATE TABLE pgb_bad (k bigint, c text, h text)');
$node->pgbench(
	'--no-vacuum --connect --client=4 --transactions=300',
	0,
	[qr{processed: 1200/1200}],
	[qr{^$}],
	'pgbench: new connections look up keys while others upsert and VACUUM cleans',
	{
		'version_cache_read@9' => q{
\set k random(1, 30000)
SET enable_seqscan = off;
INSERT INTO pgb_bad SELECT :k, (SELECT note FROM c WHERE id = :k), (SELECT note FROM h WHERE id = :k)
    WHERE (SELECT note FROM c WHERE id = :k) IS DISTINCT FROM (SELECT note FROM h WHERE id = :k);
},
		'version_cache_vacuum@1' => q{
VACUUM c;
},
		'version_cache_write@1' => q{
\set k random(1, 30000)
BEGIN;
SELECT pg_advisory_xact_lock(7);
UPDATE h SET note = 'pgbench ' || :k || ' ' || md5(random()::text) WHERE id = :k;
INSERT INTO c SELECT * FROM h WHERE id = :k;
COMMIT;
},
	});
is($node->safe_psql('postgres', 'SELECT count(*) FROM pgb_bad'), '0',
	'no lookup of a new connection differed from heap');
is($node->safe_psql('postgres', q{
SET enable_seqscan = off;
SELECT count(*) FROM generate_series(1, 30000, 7) k
WHERE (SELECT note FROM c WHERE id = k) IS DISTINCT FROM (SELECT note FROM h WHERE id = k)}),
	'0', 'after the upserts: every seventh key as heap has it');

# a table of more versions than a list keeps (4500 file groups of 10
# rows): every new session reads the catalog, once to find the list too
# long and then as before, and not again for the same generation
$node->safe_psql('postgres', q{
CREATE TABLE big (id bigint, note text) USING incetl_cow;
SELECT incetl.set_table_options('big', record_key => 'id', file_group_rows => 10);
INSERT INTO big SELECT g, 'big ' || g FROM generate_series(1, 45000) g;
CREATE INDEX big_id ON big (id);
ANALYZE big;
});
for my $k (4321, 44999)
{
	($note, $scans) = split /\|/, lookup('postgres', 'big', $k);
	is($note, "big $k", "4500 versions, a new session: the row of $k");
	ok($scans >= 2 && $scans <= 3,
		"read from the catalog, the list looked for once ($scans scans)");
}

# a role without SELECT on c, though c's list is kept
$node->safe_psql('postgres', 'CREATE ROLE bob LOGIN');
lookup('postgres', 'c', 5);
my ($ret, $out, $err) = $node->psql('postgres',
	'SET enable_seqscan = off; SELECT note FROM c WHERE id = 5',
	extra_params => [ '-U', 'bob' ]);
like($err, qr/permission denied for table c/,
	'bob: permission denied for c, though its list is kept');
is($out, '', 'and no row');

# incetl dropped and created again numbers its storages from 1 again: a
# new, empty table with the storage id of a dropped one whose list was
# kept has no rows
lookup('postgres', 'c', 5);
is(lookup('postgres', 'c', 5), 'order 5|0', "c's list is kept");
my $old_sid = $node->safe_psql('postgres',
	q{SELECT min(storage_id) FROM incetl.cow_file_group});
$node->safe_psql('postgres', q{
DROP EXTENSION incetl CASCADE;
CREATE EXTENSION incetl;
CREATE TABLE c (id bigint, note text) USING incetl_cow;
});
is($node->safe_psql('postgres',
	q{SELECT (SELECT last_value FROM incetl.cow_storage_id_seq) = } . $old_sid),
	't', 'the new table has the storage id of the dropped one');
is($node->safe_psql('postgres', q{
SET enable_seqscan = on;
SELECT count(*), count(note) FROM c;
SELECT count(*) FROM c WHERE id = 5;}), "0|0\n0", 'the new table has no rows');
$node->safe_psql('postgres', q{INSERT INTO c VALUES (5, 'new table')});
is($node->safe_psql('postgres', q{SELECT id, note FROM c}), '5|new table',
	'and then its own row');

$node->stop;
done_testing();
