#!/usr/bin/env bash
# test/sh/cow_savepoint_vacuum.sh -- VACUUM VERBOSE says what savepoints kept
#
# Cleaning keeps the versions as_of() of a savepoint reads beyond
# retention; VACUUM (VERBOSE) reports them in a DETAIL ("Beyond retention,
# kept 1 version for savepoint 2."), incetl.clean() at DEBUG2.  The counts
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
