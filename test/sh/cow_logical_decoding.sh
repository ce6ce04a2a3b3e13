#!/usr/bin/env bash
# test/sh/cow_logical_decoding.sh -- why incetl_cow tables are refused from
# publications, on a cluster with wal_level = logical
#
# Its own cluster (wal_level = logical, test_decoding):
#   (a) CREATE PUBLICATION ... FOR TABLE of an incetl_cow table fails with
#       0A000 and leaves no publication; one of a heap table works and lists
#       only the heap table;
#   (b) what a publication of the incetl_cow table would have replicated:
#       with test_decoding, an upsert and a delete of the table decode as
#       inserts into incetl.cow_file_group / incetl.cow_commit and nothing
#       of the table itself, while a heap table's insert in the same
#       transaction decodes as a row.
# A few seconds.

source "$(dirname "${BASH_SOURCE[0]}")/helpers.bash"

# a short name: the socket path must stay under 108 bytes
CDIR=$(mktemp -d "${INCETL_TMP:-/tmp}/ld.XXXXXX")/cluster
PORT=54337
DB=incetl_cow_decoding

incetl_on_exit() {
    local rc=$1
    if [ "$rc" -ne 0 ] && [ -f "$CDIR/server.log" ]; then
        echo "---- end of $CDIR/server.log" >&2
        tail -n 40 "$CDIR/server.log" >&2
    fi
    rm -rf "$(dirname "$CDIR")"
    return "$rc"
}

incetl_cluster_init "$CDIR" "$PORT" postgres "wal_level = logical" \
    "max_replication_slots = 4" "max_wal_senders = 4"
incetl_cluster_start "$CDIR"
incetl_cluster_export "$CDIR"
createdb "$DB"
q "$DB" "CREATE EXTENSION incetl"
q "$DB" "CREATE TABLE t (id int, v text) USING incetl_cow;
         SELECT incetl.set_table_options('t', record_key => 'id');
         CREATE TABLE h (id int PRIMARY KEY, v text);" >/dev/null

# (a) the refusal, with wal_level = logical (no wal_level WARNING before it)
if out=$(psql -X -q -v ON_ERROR_STOP=1 -d "$DB" \
        -c "\\set VERBOSITY verbose" -c "CREATE PUBLICATION p FOR TABLE t, h" 2>&1); then
    fail "CREATE PUBLICATION of an incetl_cow table succeeded: $out"
fi
expect_match "FOR TABLE of an incetl_cow table fails with 0A000 naming table and publication" \
    'ERROR:  0A000: incetl_cow table "t" cannot be published by publication "p"' "$out"
expect "no publication is left behind" 0 \
    "$(q "$DB" "SELECT count(*) FROM pg_publication WHERE pubname = 'p'")"
q "$DB" "CREATE PUBLICATION p FOR TABLE h"
expect "a heap table publishes" "public.h" \
    "$(q "$DB" "SELECT string_agg(schemaname || '.' || tablename, ',') FROM pg_publication_tables WHERE pubname = 'p'")"

# (b) what decoding sees of an incetl_cow table
q "$DB" "SELECT 'ok' FROM pg_create_logical_replication_slot('s', 'test_decoding')" >/dev/null
q "$DB" "INSERT INTO t VALUES (1, 'a'), (2, 'b')" >/dev/null
q "$DB" "BEGIN; INSERT INTO t VALUES (1, 'a2'); DELETE FROM t WHERE id = 2;
         INSERT INTO h VALUES (1, 'x'); COMMIT;" >/dev/null
changes=$(q "$DB" "SELECT data FROM pg_logical_slot_get_changes('s', NULL, NULL)
                   WHERE data NOT LIKE 'BEGIN%' AND data NOT LIKE 'COMMIT%'")
expect_match "the heap table's insert is decoded" \
    "table public\\.h: INSERT: id\\[integer\\]:1 v\\[text\\]:'x'" "$changes"
expect_match "the incetl_cow writes decode as catalog rows" \
    "table incetl\\.cow_commit: INSERT: .*operation\\[text\\]:'upsert'" "$changes"
if [[ $changes == *"table public.t:"* ]]; then
    fail "logical decoding now sees incetl_cow rows: lift the publication refusal (cow_hooks.c): $changes"
fi
printf 'ok  no row of the incetl_cow table is decoded\n'
expect "both sides still read as written" "1|a2;1|x" \
    "$(q "$DB" "SELECT (SELECT string_agg(id || '|' || v, ',') FROM t) || ';' || (SELECT string_agg(id || '|' || v, ',') FROM h)")"
q "$DB" "SELECT pg_drop_replication_slot('s')" >/dev/null
