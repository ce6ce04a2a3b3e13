#!/usr/bin/env bash
# test/sh/cow_savepoint_vacuum.sh -- VACUUM VERBOSE says what savepoints
# and pipelines kept
#
# Cleaning keeps the versions as_of() of a savepoint reads beyond
# retention, and the history from the watermark commit of a pipeline
# reading the table's change feed (cow_history_holder_hook); VACUUM
# (VERBOSE) reports them in a DETAIL ("Beyond retention, kept 1 version for
# savepoint 2 and 2 versions for pipeline "silver"."), incetl.clean() at
# DEBUG2.  The counts
# of the main message vary with the catalog rows other transactions still
# see, so this checks the DETAIL line alone (pg_regress compares whole
# outputs).  Creates and drops its own database.  A second or two.

set -euo pipefail
# shellcheck source=test/sh/helpers.bash
source "$(dirname "${BASH_SOURCE[0]}")/helpers.bash"

db=incetl_sp_vacuum
psql -X -q -d postgres -c "SET client_min_messages = warning" \
    -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
incetl_on_exit() {
    psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true
    return "$1"
}
q "$db" "CREATE EXTENSION incetl"
q "$db" "CREATE TABLE t (id int, v text) USING incetl_cow;
         SELECT incetl.set_table_options('t', record_key => 'id', retain_commits => 0);
         INSERT INTO t VALUES (1, 'a'), (2, 'b');
         INSERT INTO t VALUES (1, 'a2');
         INSERT INTO t VALUES (2, 'b3');
         INSERT INTO t VALUES (1, 'a4');" >/dev/null
q "$db" "SELECT incetl.savepoint('t', 2, 'keep')" >/dev/null

out=$(psql -X -q -d "$db" -c "VACUUM (VERBOSE) t" 2>&1)
expect_match "VACUUM VERBOSE names the savepoint and what it kept" \
    'DETAIL:  Beyond retention, kept 1 version for savepoint 2\.' "$out"
expect "as_of(2) still reads" "1|a2,2|b" \
    "$(q "$db" "SELECT string_agg(id || '|' || v, ',' ORDER BY id) FROM incetl.as_of(NULL::t, 2)")"

q "$db" "SELECT incetl.remove_savepoint('t', 2)" >/dev/null
out=$(psql -X -q -d "$db" -c "VACUUM (VERBOSE) t" 2>&1)
if [[ $out == *"Beyond retention"* ]]; then
    fail "VACUUM VERBOSE still reports kept versions without a savepoint: $out"
fi
printf 'ok  without the savepoint nothing is kept\n'
expect "its versions are gone" "0" \
    "$(q "$db" "SELECT versions_retained FROM incetl.table_stats('t')")"

# a feed-mode pipeline holds the history from its watermark commit
q "$db" "CREATE TABLE b (id int NOT NULL, v text) USING incetl_cow;
         SELECT incetl.set_table_options('b', record_key => 'id', retain_commits => 0);
         INSERT INTO b VALUES (1, 'a'), (2, 'b');
         CREATE TABLE silver (id int PRIMARY KEY, v text);
         SELECT incetl.create_pipeline('silver', 'public.b', NULL, 'public.silver', 'id');
         SELECT incetl_run('silver');
         INSERT INTO b VALUES (1, 'a2');
         INSERT INTO b VALUES (2, 'b3');
         SELECT incetl.savepoint('b', 2);
         INSERT INTO b VALUES (1, 'a4');" >/dev/null
out=$(psql -X -q -d "$db" -c "VACUUM (VERBOSE) b" 2>&1)
expect_match "VACUUM VERBOSE names the savepoint and the pipeline" \
    'DETAIL:  Beyond retention, kept 1 version for savepoint 2 and 2 versions for pipeline "silver"\.' "$out"
q "$db" "SELECT incetl_run('silver')" >/dev/null
expect "the pipeline read every change" "1|a4,2|b3" \
    "$(q "$db" "SELECT string_agg(id || '|' || v, ',' ORDER BY id) FROM silver")"
# PROCESS_TOAST false: the table's (empty) TOAST table is vacuumed after
# it, and the detail must end the table's own report
out=$(psql -X -q -d "$db" -c "VACUUM (VERBOSE, PROCESS_TOAST false) b" 2>&1)
expect_match "once it has read them, only the savepoint keeps history" \
    'DETAIL:  Beyond retention, kept 1 version for savepoint 2\.$' "$out"
