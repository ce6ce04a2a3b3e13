#!/usr/bin/env bash
# test/sh/cow_crash.sh -- an incetl_cow table survives kill -9 of the server.
#
# Its own cluster (fsync = on, so what a commit promises is on disk):
#   (a) a committed 200,000-row INSERT ... SELECT, then kill -9 of the whole
#       server, restart: every row is there (same count, sum and checksum)
#       and incetl.verify finds no problem;
#   (b) a 2.8 M-row INSERT ... SELECT, in an open transaction, killed as
#       soon as its merge starts writing file groups (the table's file
#       grows): after restart the table is exactly its committed state, the
#       uncommitted rows are gone, verify is clean;
#   (b2) the same for a statement in random key order that outgrew
#       maintenance_work_mem: its rows were sorted on disk first (temporary
#       files), killed once its merge writes file groups; after restart the
#       committed state is exact and no temporary file is left;
#   (c) the table takes upserts, VACUUM and a further load after recovery,
#       and verify stays clean.

source "$(dirname "${BASH_SOURCE[0]}")/helpers.bash"

CDIR=$(mktemp -d "${INCETL_TMP:-/tmp}/cow_crash.XXXXXX")/cluster
PORT=54336
DB=incetl_cow_crash
BG_PID=""

incetl_on_exit() {
    local rc=$1
    if [ -n "$BG_PID" ]; then kill "$BG_PID" 2>/dev/null; wait "$BG_PID" 2>/dev/null; fi
    cluster_exit "$rc"
}

incetl_cluster_init "$CDIR" "$PORT" postgres "fsync = on" "maintenance_work_mem = '256MB'"
incetl_cluster_start "$CDIR"
incetl_cluster_export "$CDIR"
expect "the cluster runs with fsync on" on "$(q postgres "SHOW fsync")"
createdb "$DB"

STATE="SELECT count(*) || ' ' || sum(id) || ' ' || md5(string_agg(v || ':' || n, ',' ORDER BY id)) FROM t"

q "$DB" "CREATE EXTENSION incetl"
q "$DB" "CREATE TABLE t (id bigint, v text, n int) USING incetl_cow"
q "$DB" "SELECT incetl.set_table_options('t', record_key => 'id', file_group_rows => 50000)"

# (a) a committed load survives kill -9
q "$DB" "INSERT INTO t SELECT g, md5(g::text), g % 7 FROM generate_series(1, 200000) AS g"
before=$(q "$DB" "$STATE")
incetl_cluster_crash "$CDIR"
incetl_cluster_start "$CDIR"
expect "(a) committed rows are all there after kill -9" "$before" "$(q "$DB" "$STATE")"
expect "(a) verify finds no problem" 0 "$(q "$DB" "SELECT count(*) FROM incetl.verify('t')")"
grep -q "database system was interrupted\|was not properly shut down" "$CDIR/server.log" ||
    fail "(a) the server log shows no crash recovery"

# (b) kill -9 while a big INSERT ... SELECT is writing its file groups
size0=$(q "$DB" "SELECT pg_relation_size('t')")
# in an open transaction, so it is uncommitted whenever the kill lands
psql -X -q -d "$DB" \
    -c "BEGIN; INSERT INTO t SELECT g, 'uncommitted', 0 FROM generate_series(200001, 3000000) AS g; SELECT pg_sleep(600)" \
    >/dev/null 2>&1 &
BG_PID=$!
grown=no
for _ in $(seq 1 1200); do
    size=$(q "$DB" "SELECT pg_relation_size('t')" 2>/dev/null || echo "$size0")
    if [ "$size" -gt "$size0" ]; then grown=yes; break; fi
    sleep 0.02
done
expect "(b) the merge started writing before the kill" yes "$grown"
writing=$(q "$DB" "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'BEGIN; INSERT INTO t%' AND wait_event IS DISTINCT FROM 'PgSleep'")
incetl_cluster_crash "$CDIR"
wait "$BG_PID" 2>/dev/null || true
BG_PID=""
printf 'ok  (b) killed while the INSERT was still writing: %s\n' "$([ "$writing" = 1 ] && echo yes || echo "no (it had finished; uncommitted all the same)")"
incetl_cluster_start "$CDIR"
expect "(b) after kill -9 mid-statement the table is its committed state" "$before" "$(q "$DB" "$STATE")"
expect "(b) no uncommitted row is visible" 0 "$(q "$DB" "SELECT count(*) FROM t WHERE v = 'uncommitted'")"
expect "(b) verify finds no problem" 0 "$(q "$DB" "SELECT count(*) FROM incetl.verify('t')")"

# (b2) kill -9 during the merge of a statement that spilled to disk: keys
# in a scrambled order (a permutation, no sort in the query itself, and a
# target-list generate_series, which keeps no tuplestore: the only
# temporary files are incetl's); the merge phase shows as WAL being written
psql -X -q -d "$DB" \
    -c "SET maintenance_work_mem = '8MB'" \
    -c "BEGIN; INSERT INTO t SELECT (g * 7919) % 1300000 + 200001, md5(g::text), -1 FROM (SELECT generate_series(1, 1300000)::bigint AS g) s; SELECT pg_sleep(600)" \
    >/dev/null 2>&1 &
BG_PID=$!
grown=no spilled=no lsn0=""
for _ in $(seq 1 3000); do
    if [ "$spilled" = no ] && [ -n "$(ls -A "$CDIR/data/base/pgsql_tmp" 2>/dev/null)" ]; then
        spilled=yes
        lsn0=$(q "$DB" "SELECT pg_current_wal_lsn()")
    fi
    if [ "$spilled" = yes ] &&
        [ "$(q "$DB" "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '$lsn0') > 4 * 1024 * 1024")" = t ]; then
        grown=yes
        break
    fi
    sleep 0.02
done
expect "(b2) the statement spilled to temporary files" yes "$spilled"
expect "(b2) its merge started writing before the kill" yes "$grown"
incetl_cluster_crash "$CDIR"
wait "$BG_PID" 2>/dev/null || true
BG_PID=""
incetl_cluster_start "$CDIR"
expect "(b2) after kill -9 mid-merge the table is its committed state" "$before" "$(q "$DB" "$STATE")"
expect "(b2) no spilled row is visible" 0 "$(q "$DB" "SELECT count(*) FROM t WHERE n = -1")"
expect "(b2) no temporary file is left" "" "$(ls -A "$CDIR/data/base/pgsql_tmp" 2>/dev/null)"
expect "(b2) verify finds no problem" 0 "$(q "$DB" "SELECT count(*) FROM incetl.verify('t')")"

# (c) the table takes upserts after recovery; VACUUM reclaims the dead pages
q "$DB" "INSERT INTO t VALUES (1, 'after', 1), (3000001, 'new', 2)"
expect "(c) an upsert after recovery replaced the row" after "$(q "$DB" "SELECT v FROM t WHERE id = 1")"
expect "(c) and inserted the new one" 200001 "$(q "$DB" "SELECT count(*) FROM t")"
q "$DB" "VACUUM t"
q "$DB" "INSERT INTO t SELECT g, md5(g::text), 3 FROM generate_series(3000002, 3200000) AS g"
expect "(c) VACUUM and a 200,000-row load after the crash keep every row" 400000 \
    "$(q "$DB" "SELECT count(*) FROM t")"
expect "(c) verify finds no problem" 0 "$(q "$DB" "SELECT count(*) FROM incetl.verify('t')")"
