# incetl_cow tables replicate to a subscriber by logical replication.
#
# A write to an incetl_cow table logs its rows for logical decoding
# (src/cow/cow_logical.c) and incetl's WAL resource manager decodes them as
# heap rows (src/cow/cow_decode.c): pgoutput sends them like heap rows.  A
# publisher with wal_level = logical publishes an incetl_cow table with a
# record key, precombine field and delete marker (REPLICA IDENTITY FULL),
# and a keyless one; a second cluster subscribes with heap tables (the
# keyed one with a primary key).  After the initial sync, upserts (new keys,
# replaced keys, precombine losers), delete markers, UPDATE (also of the
# key), DELETE, incetl.restore(), TRUNCATE, a record-key-collapsing rewrite,
# rolled-back writes and merges of many file groups, both sides must hold
# the same rows.
#
# A second subscription, into database "cowsub" of the subscriber, applies
# the same changes to incetl_cow tables: t keyed by id with a PRIMARY KEY
# on it (the apply worker finds rows by index), k keyless with no index
# (found by sequential scan, REPLICA IDENTITY FULL).  The apply worker
# applies each change as an executor run of its own without ExecutorFinish,
# so a change's rows are merged before the next change reads or writes the
# table (CowMergeEarlierChanges); it locks the row it copied out of its
# scan by the copy's TID (cow_slot.c).  Those tables must match too.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $pub = PostgreSQL::Test::Cluster->new('publisher');
$pub->init(allows_streaming => 'logical');
$pub->start;
$pub->safe_psql('postgres', q{
CREATE EXTENSION incetl;
CREATE TABLE t (id int, v text, ts int, del bool) USING incetl_cow;
SELECT incetl.set_table_options('t', record_key => 'id', precombine => 'ts',
                                delete_marker => 'del', file_group_rows => 200);
ALTER TABLE t REPLICA IDENTITY FULL;
CREATE TABLE k (a int, b text) USING incetl_cow;
SELECT incetl.set_table_options('k', file_group_rows => 100);
ALTER TABLE k REPLICA IDENTITY FULL;
INSERT INTO t SELECT g, 'v' || g, 1, false FROM generate_series(1, 1000) g;
INSERT INTO k SELECT g % 40, 'k' || g FROM generate_series(1, 300) g;
CREATE PUBLICATION pub FOR TABLE t, k;
});

my $sub = PostgreSQL::Test::Cluster->new('subscriber');
$sub->init;
$sub->start;
$sub->safe_psql('postgres', q{
CREATE TABLE t (id int PRIMARY KEY, v text, ts int, del bool);
CREATE TABLE k (a int, b text);
});
$sub->safe_psql('postgres', 'CREATE DATABASE cowsub');
$sub->safe_psql('cowsub', q{
CREATE EXTENSION incetl;
CREATE TABLE t (id int PRIMARY KEY, v text, ts int, del bool) USING incetl_cow;
SELECT incetl.set_table_options('t', record_key => 'id', file_group_rows => 150);
CREATE TABLE k (a int, b text) USING incetl_cow;
SELECT incetl.set_table_options('k', file_group_rows => 70);
});
my $connstr = $pub->connstr . ' dbname=postgres';
$sub->safe_psql('postgres',
	"CREATE SUBSCRIPTION sub CONNECTION '$connstr' PUBLICATION pub");
$sub->wait_for_subscription_sync($pub, 'sub');
$sub->safe_psql('cowsub',
	"CREATE SUBSCRIPTION cowsub CONNECTION '$connstr' PUBLICATION pub");
$sub->wait_for_subscription_sync($pub, 'cowsub');

my $rows_t = 'SELECT id, v, ts, del FROM t ORDER BY id';
my $rows_k = 'SELECT a, b FROM k ORDER BY a, b';

sub compare
{
	my ($what) = @_;
	$pub->wait_for_catchup('sub');
	my $want_t = $pub->safe_psql('postgres', $rows_t);
	my $want_k = $pub->safe_psql('postgres', $rows_k);
	is($sub->safe_psql('postgres', $rows_t), $want_t, "$what: t equal on both sides");
	is($sub->safe_psql('postgres', $rows_k), $want_k, "$what: k equal on both sides");
	$pub->wait_for_catchup('cowsub');
	is($sub->safe_psql('cowsub', $rows_t), $want_t,
		"$what: t equal in the incetl_cow subscriber table");
	is($sub->safe_psql('cowsub', $rows_k), $want_k,
		"$what: k equal in the incetl_cow subscriber table");
}

is($sub->safe_psql('postgres', 'SELECT count(*), sum(id) FROM t'),
	'1000|500500', 'initial sync copied the keyed table');
is($sub->safe_psql('postgres', 'SELECT count(*) FROM k'),
	'300', 'initial sync copied the keyless table');
is($sub->safe_psql('cowsub', 'SELECT count(*), sum(id) FROM t')
	  . '|' . $sub->safe_psql('cowsub', 'SELECT count(*) FROM k'),
	'1000|500500|300', 'initial sync copied both into incetl_cow tables');

# one transaction inserting, then updating and deleting its own rows, and
# rows of earlier transactions: each change sees the changes before it
$pub->safe_psql('postgres', q{
BEGIN;
INSERT INTO t VALUES (3001, 'new', 1, false);
UPDATE t SET v = 'changed' WHERE id = 3001;
UPDATE t SET v = 'changed' WHERE id IN (1, 2);
DELETE FROM t WHERE id = 3;
INSERT INTO k VALUES (500, 'new'), (501, 'new');
UPDATE k SET b = 'changed' WHERE a = 500;
DELETE FROM k WHERE a = 501;
UPDATE k SET b = b || '?' WHERE a = 1;
COMMIT;
UPDATE t SET v = 'again' WHERE id = 3001;
DELETE FROM k WHERE a = 500;
});
compare('changes of one transaction');
is($sub->safe_psql('cowsub', "SELECT v FROM t WHERE id = 3001")
	  . '|' . $sub->safe_psql('cowsub', "SELECT count(*) FROM k WHERE a >= 500"),
	'again|0', 'the incetl_cow subscriber applied updates of rows just inserted');

# upserts: keys 500-1000 replaced (ts 2) or losing (ts 0), 1001-1500 new,
# in one statement merged into many file groups
$pub->safe_psql('postgres', q{
INSERT INTO t SELECT g, 'u' || g, CASE WHEN g % 3 = 0 THEN 0 ELSE 2 END, false
  FROM generate_series(500, 1500) g;
});
# delete markers, one of a key not stored; a key both upserted and deleted
# in one statement (the later row wins)
$pub->safe_psql('postgres', q{
INSERT INTO t SELECT g, NULL, 5, true FROM generate_series(1, 100, 7) g;
INSERT INTO t VALUES (5000, NULL, 5, true);
INSERT INTO t VALUES (2, 'again', 6, false), (2, NULL, 7, true), (3, 'three', 8, false);
});
compare('upserts and delete markers');
is($pub->safe_psql('postgres',
		"SELECT count(*) FROM t WHERE v LIKE 'u%'"),
	'834', 'the upserts replaced and inserted what they should');

# UPDATE (also of the key, into keys held and not held), DELETE
$pub->safe_psql('postgres', q{
UPDATE t SET v = v || '!' WHERE id % 10 = 0;
UPDATE t SET id = id + 10000 WHERE id BETWEEN 200 AND 210;
UPDATE t SET id = id + 1 WHERE id BETWEEN 400 AND 405;
DELETE FROM t WHERE id BETWEEN 300 AND 320;
UPDATE k SET b = b || '!' WHERE a = 3;
DELETE FROM k WHERE a = 7;
INSERT INTO k VALUES (100, 'x'), (100, 'x');
});
compare('UPDATE and DELETE');

# rolled back: a transaction, a subtransaction, a failing transaction
$pub->safe_psql('postgres', q{
BEGIN;
INSERT INTO t VALUES (7000, 'gone', 1, false);
UPDATE k SET b = 'gone';
ROLLBACK;
BEGIN;
INSERT INTO t VALUES (7001, 'kept', 1, false);
SAVEPOINT s;
INSERT INTO t VALUES (7002, 'gone', 1, false), (1, 'gone', 99, false);
DELETE FROM k;
ROLLBACK TO s;
INSERT INTO k VALUES (101, 'kept');
COMMIT;
});
my ($rc) = $pub->psql('postgres',
	"BEGIN; INSERT INTO t VALUES (7003, 'gone', 1, false); SELECT 1/0; COMMIT;");
isnt($rc, 0, 'the failing transaction failed');
compare('rolled-back writes');
is($sub->safe_psql('postgres',
		"SELECT count(*) FROM t WHERE v = 'gone' OR id IN (7000, 7002, 7003)")
	  . '|' . $sub->safe_psql('postgres', "SELECT count(*) FROM t WHERE id = 7001"),
	'0|1', 'nothing rolled back reached the subscriber, the rest did');

# restore to an earlier commit, then TRUNCATE and new rows
my $c = $pub->safe_psql('postgres',
	"SELECT max(commit_id) FROM incetl.commits('t')");
$pub->safe_psql('postgres', q{
INSERT INTO t SELECT g, 'r' || g, 50, false FROM generate_series(1, 1200, 5) g;
DELETE FROM t WHERE id > 1400;
});
$pub->safe_psql('postgres', "SELECT incetl.restore('t', $c)");
compare('restore');
$pub->safe_psql('postgres', q{
TRUNCATE t, k;
INSERT INTO t VALUES (1, 'after', 1, false), (2, 'after', 1, false);
INSERT INTO k VALUES (1, 'after');
});
compare('TRUNCATE');

# a record-key rewrite collapses rows of equal v: they are deleted
$pub->safe_psql('postgres', q{
INSERT INTO t SELECT g, 'w' || (g % 4), g, false FROM generate_series(10, 30) g;
SELECT incetl.set_table_options('t', record_key => 'v', precombine => 'ts',
                                delete_marker => 'del', file_group_rows => 200);
});
compare('record-key rewrite');
is($pub->safe_psql('postgres', 'SELECT count(*) FROM t'), '5',
	'the rewrite kept one row per v');

done_testing();
