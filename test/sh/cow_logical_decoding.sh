#!/usr/bin/env bash
# test/sh/cow_logical_decoding.sh -- logical decoding of incetl_cow tables,
# on a cluster with wal_level = logical
#
# Its own cluster (wal_level = logical, test_decoding):
#   (a) CREATE PUBLICATION ... FOR TABLE of an incetl_cow table lists it;
#   (b) test_decoding shows each write of an incetl_cow table (record key,
#       precombine, delete marker, REPLICA IDENTITY FULL) as heap rows:
#       inserts of new keys, an update (with the whole old row) of a key an
#       upsert replaced, nothing for a precombine loser, a delete for a
#       delete marker, UPDATE as an update, an UPDATE of the key as an
#       insert and a delete, DELETE as a delete, TRUNCATE (heap's record),
#       incetl.restore() as the changes it makes, a record-key rewrite as
#       the rows it collapses; nothing of a rolled-back statement,
#       subtransaction or transaction; transactions in commit order (an
#       open writer of t committed after a writer of k decodes after it);
#   (c) old keys follow the replica identity: DEFAULT without a primary key
#       logs none (an update shows the new row only, a delete no data),
#       NOTHING neither;
#   (d) pg_walinspect names the records (incetl_cow, CHANGES) and counts
#       their rows (rm_identify, rm_desc); a large write's records are
#       compressed.
# A few seconds.

source "$(dirname "${BASH_SOURCE[0]}")/helpers.bash"

# a short name: the socket path must stay under 108 bytes
CDIR=$(mktemp -d "${INCETL_TMP:-/tmp}/ld.XXXXXX")/cluster
PORT=54337
DB=incetl_cow_decoding

incetl_on_exit() { cluster_exit "$1"; }

incetl_cluster_init "$CDIR" "$PORT" postgres "wal_level = logical" \
    "max_replication_slots = 4" "max_wal_senders = 4"
incetl_cluster_start "$CDIR"
incetl_cluster_export "$CDIR"
createdb "$DB"
q "$DB" "CREATE EXTENSION incetl"
q "$DB" "CREATE TABLE t (id int, v text, ts int, del bool) USING incetl_cow;
         SELECT incetl.set_table_options('t', record_key => 'id', precombine => 'ts',
                                         delete_marker => 'del');
         ALTER TABLE t REPLICA IDENTITY FULL;
         CREATE TABLE k (a int, b text) USING incetl_cow;
         CREATE TABLE n (a int, b text) USING incetl_cow;
         SELECT incetl.set_table_options('n', record_key => 'a');" >/dev/null

# (a) publishing
q "$DB" "CREATE PUBLICATION p FOR TABLE t, k"
expect "an incetl_cow table publishes" "public.k,public.t" \
    "$(q "$DB" "SELECT string_agg(schemaname || '.' || tablename, ',' ORDER BY tablename) FROM pg_publication_tables WHERE pubname = 'p'")"

# (b) what decoding sees
q "$DB" "SELECT 'ok' FROM pg_create_logical_replication_slot('s', 'test_decoding')" >/dev/null
changes() {
    q "$DB" "SELECT data FROM pg_logical_slot_get_changes('s', NULL, NULL,
                    'skip-empty-xacts', '1', 'include-xids', '0')
             WHERE data NOT LIKE 'table incetl.%' AND data NOT LIKE 'BEGIN%'"
}
q "$DB" "INSERT INTO t VALUES (1, 'a', 1, false), (2, 'b', 1, false), (3, 'c', 1, false)" >/dev/null
q "$DB" "INSERT INTO t VALUES (1, 'a2', 2, false), (2, 'loses', 0, false), (4, 'd', 1, false)" >/dev/null
q "$DB" "INSERT INTO t VALUES (3, NULL, 9, true)" >/dev/null
q "$DB" "UPDATE t SET v = v || '!' WHERE id = 1" >/dev/null
q "$DB" "UPDATE t SET id = 20 WHERE id = 2" >/dev/null
q "$DB" "DELETE FROM t WHERE id = 4" >/dev/null
q "$DB" "BEGIN; INSERT INTO t VALUES (5, 'rolled back', 1, false); ROLLBACK" >/dev/null
q "$DB" "BEGIN; INSERT INTO t VALUES (6, 'e', 1, false); SAVEPOINT a;
         INSERT INTO t VALUES (7, 'rolled back', 1, false); ROLLBACK TO a;
         INSERT INTO t VALUES (8, 'f', 1, false); COMMIT" >/dev/null
q "$DB" "INSERT INTO t VALUES (1, 'x', 1, false); SELECT 1/0" >/dev/null 2>&1 &&
    fail "a failing statement succeeded"
expect "writes decode as heap rows, with the whole old row, in order" \
"table public.t: INSERT: id[integer]:1 v[text]:'a' ts[integer]:1 del[boolean]:false
table public.t: INSERT: id[integer]:2 v[text]:'b' ts[integer]:1 del[boolean]:false
table public.t: INSERT: id[integer]:3 v[text]:'c' ts[integer]:1 del[boolean]:false
COMMIT
table public.t: UPDATE: old-key: id[integer]:1 v[text]:'a' ts[integer]:1 del[boolean]:false new-tuple: id[integer]:1 v[text]:'a2' ts[integer]:2 del[boolean]:false
table public.t: INSERT: id[integer]:4 v[text]:'d' ts[integer]:1 del[boolean]:false
COMMIT
table public.t: DELETE: id[integer]:3 v[text]:'c' ts[integer]:1 del[boolean]:false
COMMIT
table public.t: UPDATE: old-key: id[integer]:1 v[text]:'a2' ts[integer]:2 del[boolean]:false new-tuple: id[integer]:1 v[text]:'a2!' ts[integer]:2 del[boolean]:false
COMMIT
table public.t: INSERT: id[integer]:20 v[text]:'b' ts[integer]:1 del[boolean]:false
table public.t: DELETE: id[integer]:2 v[text]:'b' ts[integer]:1 del[boolean]:false
COMMIT
table public.t: DELETE: id[integer]:4 v[text]:'d' ts[integer]:1 del[boolean]:false
COMMIT
table public.t: INSERT: id[integer]:6 v[text]:'e' ts[integer]:1 del[boolean]:false
table public.t: INSERT: id[integer]:8 v[text]:'f' ts[integer]:1 del[boolean]:false
COMMIT" "$(changes)"

# commit order: t's writer wrote first, k's commits first
psql -X -q -d "$DB" -c "BEGIN; INSERT INTO t VALUES (9, 'late', 1, false);
                        SELECT pg_sleep(3); COMMIT;" >/dev/null &
bg=$!
wait_for "t's writer merged and holds the writers' lock" 20 "$DB" \
    "SELECT count(*) > 0 FROM pg_locks l JOIN pg_class c ON c.oid = l.objid
      WHERE c.relname = 't' AND l.locktype = 'object' AND l.classid = 'pg_class'::regclass
        AND l.objsubid = 32767 AND l.mode = 'ExclusiveLock'
        AND l.granted AND l.pid <> pg_backend_pid()"
q "$DB" "INSERT INTO k VALUES (1, 'x')" >/dev/null
wait "$bg"
q "$DB" "TRUNCATE t" >/dev/null
q "$DB" "INSERT INTO t VALUES (1, 'a', 1, false), (2, 'b', 1, false)" >/dev/null
q "$DB" "SELECT incetl.restore('t', (SELECT max(commit_id) FROM incetl.commits('t') WHERE operation = 'truncate'))" >/dev/null
expect "transactions in commit order; TRUNCATE; restore" \
"table public.k: INSERT: a[integer]:1 b[text]:'x'
COMMIT
table public.t: INSERT: id[integer]:9 v[text]:'late' ts[integer]:1 del[boolean]:false
COMMIT
table public.t: TRUNCATE: (no-flags)
COMMIT
table public.t: INSERT: id[integer]:1 v[text]:'a' ts[integer]:1 del[boolean]:false
table public.t: INSERT: id[integer]:2 v[text]:'b' ts[integer]:1 del[boolean]:false
COMMIT
table public.t: DELETE: id[integer]:1 v[text]:'a' ts[integer]:1 del[boolean]:false
table public.t: DELETE: id[integer]:2 v[text]:'b' ts[integer]:1 del[boolean]:false
COMMIT" "$(changes)"

# a record-key rewrite: only the rows it collapses
q "$DB" "INSERT INTO t VALUES (1, 'a', 1, false), (2, 'a', 2, false), (3, 'b', 1, false)" >/dev/null
changes >/dev/null
q "$DB" "SELECT incetl.set_table_options('t', record_key => 'v', precombine => 'ts')" >/dev/null
expect "a record-key rewrite decodes as the rows it collapses" \
"table public.t: DELETE: id[integer]:1 v[text]:'a' ts[integer]:1 del[boolean]:false
COMMIT" "$(changes)"
q "$DB" "VACUUM FULL t" >/dev/null
q "$DB" "VACUUM t" >/dev/null
q "$DB" "ALTER TABLE t ADD COLUMN z int DEFAULT 1;
         ALTER TABLE t ALTER COLUMN z TYPE bigint" >/dev/null
expect "VACUUM, VACUUM FULL and an ALTER TABLE rewrite change no row" "" \
    "$(changes | grep -v '^COMMIT$' || true)"

# (c) no replica identity: no old key
q "$DB" "INSERT INTO n VALUES (1, 'x'), (2, 'y')" >/dev/null
q "$DB" "INSERT INTO n VALUES (1, 'x2'); DELETE FROM n WHERE a = 2" >/dev/null
q "$DB" "ALTER TABLE n REPLICA IDENTITY NOTHING; UPDATE n SET b = 'x3'" >/dev/null
expect "DEFAULT without a primary key, and NOTHING, log no old key" \
"table public.n: INSERT: a[integer]:1 b[text]:'x'
table public.n: INSERT: a[integer]:2 b[text]:'y'
COMMIT
table public.n: UPDATE: a[integer]:1 b[text]:'x2'
table public.n: DELETE: (no-tuple-data)
COMMIT
table public.n: UPDATE: a[integer]:1 b[text]:'x3'
COMMIT" "$(changes)"
# (d) the records, as pg_walinspect describes them (rm_identify, rm_desc):
# a 3000-row load in records of many rows, compressed
q "$DB" "CREATE EXTENSION pg_walinspect" >/dev/null
q "$DB" "CREATE TABLE big (id int, v text) USING incetl_cow" >/dev/null
start=$(q "$DB" "SELECT pg_current_wal_lsn()")
q "$DB" "INSERT INTO big SELECT g, 'value ' || g FROM generate_series(1, 3000) g" >/dev/null
end=$(q "$DB" "SELECT pg_current_wal_lsn()")
desc=$(q "$DB" "SELECT count(*), sum(substring(description from 'insert ([0-9]+)')::int),
                       bool_and(description LIKE '%compressed%')
                  FROM pg_get_wal_records_info('$start', '$end')
                 WHERE resource_manager = 'incetl_cow' AND record_type = 'CHANGES'")
expect_match "the load is logged as a few compressed incetl_cow CHANGES records of 3000 inserts" \
    '^[1-9]\|3000\|t$' "$desc"
q "$DB" "SELECT pg_drop_replication_slot('s')" >/dev/null
