#!/usr/bin/env bash
# test/sh/cow_unlogged_crash.sh -- an unlogged incetl_cow table after kill -9.
#
# Its own cluster (fsync = on).  An unlogged and a logged incetl_cow table
# take rows and upserts (with a checkpoint in between, so the unlogged
# table's pages reach the disk), then the whole server is killed:
#   (a) after restart the logged table has all its rows, the unlogged one
#       is empty (crash recovery reset its main fork from its init fork),
#       and verify is clean on both; the unlogged table's stale catalog
#       rows are hidden (commits() is empty, its storage id reads 0);
#   (b) both take upserts again; the unlogged table's first write forgets
#       the stale catalog rows and moves to a fresh storage id;
#   (c) a second crash empties it again, and its next write forgets the
#       rows written since the first crash; a table that is dropped while
#       reset leaves no catalog row behind;
#   (d) a clean restart (no crash) keeps an unlogged table's rows.

source "$(dirname "${BASH_SOURCE[0]}")/helpers.bash"

CDIR=$(mktemp -d "${INCETL_TMP:-/tmp}/cow_unlogged_crash.XXXXXX")/cluster
PORT=54341
DB=incetl_cow_unlogged

incetl_on_exit() { cluster_exit "$1"; }

incetl_cluster_init "$CDIR" "$PORT" postgres "fsync = on"
incetl_cluster_start "$CDIR"
incetl_cluster_export "$CDIR"
createdb "$DB"

STATE="count(*) || ' ' || coalesce(sum(id), 0) || ' ' || coalesce(md5(string_agg(v, ',' ORDER BY id)), '-')"
rows_of() {  # catalog rows (file groups + commits) of a storage id
    q "$DB" "SELECT (SELECT count(*) FROM incetl.cow_file_group WHERE storage_id = $1)
                  + (SELECT count(*) FROM incetl.cow_commit WHERE storage_id = $1)"
}

q "$DB" "CREATE EXTENSION incetl"
q "$DB" "CREATE UNLOGGED TABLE u (id int, v text) USING incetl_cow"
q "$DB" "CREATE TABLE l (id int, v text) USING incetl_cow"
q "$DB" "SELECT incetl.set_table_options('u', record_key => 'id', file_group_rows => 5000)"
q "$DB" "SELECT incetl.set_table_options('l', record_key => 'id', file_group_rows => 5000)"
q "$DB" "CREATE INDEX ON u (id)"
expect "u is unlogged" "u" "$(q "$DB" "SELECT relpersistence FROM pg_class WHERE relname = 'u'")"
expect "u has an init fork" "t" \
    "$(q "$DB" "SELECT (pg_stat_file(pg_relation_filepath('u') || '_init')).size = 8192")"

for t in u l; do
    q "$DB" "INSERT INTO $t SELECT g, 'a' || g FROM generate_series(1, 20000) g"
done
q "$DB" "CHECKPOINT"
for t in u l; do
    q "$DB" "INSERT INTO $t SELECT g, 'b' || g FROM generate_series(1, 30000, 3) g"
done
u_sid=$(q "$DB" "SELECT incetl.cow_storage_id('u')")
expect "u before the crash" "23333" "$(q "$DB" "SELECT count(*) FROM u")"
l_before=$(q "$DB" "SELECT $STATE FROM l")
expect "u's catalog rows before the crash" "t" "$( [ "$(rows_of "$u_sid")" -gt 2 ] && echo t || echo f)"

# (a) kill -9, restart
incetl_cluster_crash "$CDIR"
incetl_cluster_start "$CDIR"
grep -q "database system was interrupted\|was not properly shut down" "$CDIR/server.log" ||
    fail "(a) the server log shows no crash recovery"
expect "(a) the logged table has all its rows" "$l_before" "$(q "$DB" "SELECT $STATE FROM l")"
expect "(a) the unlogged table is empty" "0" "$(q "$DB" "SELECT count(*) FROM u")"
expect "(a) an index scan of it finds nothing" "0" \
    "$(q "$DB" "SET enable_seqscan = off; SELECT count(*) FROM u WHERE id = 5")"
expect "(a) verify is clean on l" "0" "$(q "$DB" "SELECT count(*) FROM incetl.verify('l')")"
expect "(a) verify is clean on u" "0" "$(q "$DB" "SELECT count(*) FROM incetl.verify('u')")"
expect "(a) u has no commit" "0|" \
    "$(q "$DB" "SELECT count(*), incetl.latest_commit('u') FROM incetl.commits('u')")"
expect "(a) u's storage id reads 0 until written" "0" "$(q "$DB" "SELECT incetl.cow_storage_id('u')")"
expect "(a) u's record key survives" "{id}" \
    "$(q "$DB" "SELECT record_key FROM incetl.table_options('u')")"

# (b) both take upserts
for t in u l; do
    q "$DB" "INSERT INTO $t VALUES (1, 'c1'), (50000, 'new')"
    q "$DB" "INSERT INTO $t VALUES (1, 'c1b')"
done
expect "(b) u after upserts" "2 50001 $(q "$DB" "SELECT md5('c1b,new')")" "$(q "$DB" "SELECT $STATE FROM u")"
expect "(b) l after upserts" "23334|c1b" \
    "$(q "$DB" "SELECT count(*), (SELECT v FROM l WHERE id = 1) FROM l")"
u_sid2=$(q "$DB" "SELECT incetl.cow_storage_id('u')")
expect "(b) u has a fresh storage id" "t" "$( [ "$u_sid2" -ne "$u_sid" ] && [ "$u_sid2" -ne 0 ] && echo t || echo f)"
expect "(b) the stale catalog rows are gone" "0" "$(rows_of "$u_sid")"
expect "(b) u's timeline starts again" "1 upsert,2 upsert" \
    "$(q "$DB" "SELECT string_agg(commit_id || ' ' || operation, ',' ORDER BY commit_id) FROM incetl.commits('u')")"
expect "(b) as_of works on u" "1" "$(q "$DB" "SELECT count(*) FROM incetl.as_of(NULL::u, 1) WHERE v = 'c1'")"
expect "(b) the index finds the new row" "new" \
    "$(q "$DB" "SET enable_seqscan = off; SELECT v FROM u WHERE id = 50000")"
expect "(b) verify is clean on u" "0" "$(q "$DB" "SELECT count(*) FROM incetl.verify('u')")"
expect "(b) verify is clean on l" "0" "$(q "$DB" "SELECT count(*) FROM incetl.verify('l')")"

# (c) a second crash; and DROP of a table that is reset
q "$DB" "CREATE UNLOGGED TABLE d (a int) USING incetl_cow"
q "$DB" "INSERT INTO d SELECT generate_series(1, 100)"
d_sid=$(q "$DB" "SELECT incetl.cow_storage_id('d')")
q "$DB" "CHECKPOINT"
incetl_cluster_crash "$CDIR"
incetl_cluster_start "$CDIR"
expect "(c) u is empty again" "0" "$(q "$DB" "SELECT count(*) FROM u")"
expect "(c) d is empty" "0" "$(q "$DB" "SELECT count(*) FROM d")"
q "$DB" "DROP TABLE d"
expect "(c) dropping d removed its stale catalog rows" "0" "$(rows_of "$d_sid")"
q "$DB" "INSERT INTO u VALUES (7, 'x')"
expect "(c) u takes rows again" "7|x" "$(q "$DB" "SELECT id, v FROM u")"
expect "(c) the rows written after the first crash are forgotten" "0" "$(rows_of "$u_sid2")"
expect "(c) verify is clean on u" "0" "$(q "$DB" "SELECT count(*) FROM incetl.verify('u')")"

# (d) a clean restart keeps an unlogged table's rows
incetl_cluster_stop "$CDIR"
incetl_cluster_start "$CDIR"
expect "(d) u keeps its rows over a clean restart" "7|x" "$(q "$DB" "SELECT id, v FROM u")"
expect "(d) l keeps its rows" "23334" "$(q "$DB" "SELECT count(*) FROM l")"
