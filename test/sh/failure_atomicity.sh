#!/usr/bin/env bash
# test/sh/failure_atomicity.sh -- a run is all or nothing, and its caller sees
# its error.
#
#   1. A run that fails half-way through the write (a target CHECK constraint
#      rejects the 500th row of a 1000-row batch) leaves the target and the
#      watermark exactly as they were, logs exactly one FAILED row (SQLSTATE
#      23514, the constraint named), and psql (ON_ERROR_STOP) exits with the
#      error.  Once the bad row is fixed, the next run writes the whole batch.
#   2. BEGIN; SELECT incetl_run(...); ROLLBACK; persists nothing: no target
#      rows, no watermark, no run_log row.
#   3. A run inside a REPEATABLE READ (or SERIALIZABLE) transaction is refused
#      with SQLSTATE 25000, before it reads or logs anything.
#
# Runs on the main test cluster, in a database of its own, dropped at the end.

source "$(dirname "${BASH_SOURCE[0]}")/helpers.bash"

DB=incetl_sh_failure_atomicity
WORKDIR=$(mktemp -d "${INCETL_TMP:-/tmp}/failure_atomicity.XXXXXX")

incetl_on_exit() {
    dropdb --if-exists "$DB" 2>/dev/null
    rm -rf "$WORKDIR"
    return "$1"
}

dropdb --if-exists "$DB" 2>/dev/null
createdb "$DB"

(psql -X -q -v ON_ERROR_STOP=1 -d "$DB" <<'SQL'
CREATE EXTENSION incetl;

CREATE TABLE payments (
    id     int PRIMARY KEY,
    amount numeric(10,2) NOT NULL);
INSERT INTO payments SELECT g, g FROM generate_series(1, 100) AS g;

CREATE TABLE payments_copy (
    id     int PRIMARY KEY,
    amount numeric(10,2) NOT NULL CONSTRAINT amount_not_negative CHECK (amount >= 0));
-- we count the dead tuples the failed run leaves; no autovacuum in between
ALTER TABLE payments_copy SET (autovacuum_enabled = off);

SELECT incetl.create_pipeline(name => 'pay', source => 'payments',
    watermark_column => 'id', target => 'payments_copy', record_key => 'id');
SQL
) >/dev/null

# --------------------------------------------------------------------------
# 1. A write that fails half-way
# --------------------------------------------------------------------------
expect "first run loads ids 1..100" 100 "$(q "$DB" "SELECT incetl_run('pay')")"

# The next batch is ids 101..1100; the 500th of them (id 600) breaks the CHECK.
q "$DB" "INSERT INTO payments SELECT g, CASE WHEN g = 600 THEN -1 ELSE g END
         FROM generate_series(101, 1100) AS g"

# What "untouched" means: the target's content, and the watermark row as is.
TARGET_SQL="SELECT count(*), md5(string_agg(id || ':' || amount, ',' ORDER BY id)) FROM payments_copy"
WM_SQL="SELECT w.* FROM incetl.watermarks AS w"
target_before=$(q "$DB" "$TARGET_SQL")
wm_before=$(q "$DB" "$WM_SQL")
log_before=$(q "$DB" "SELECT max(run_id) FROM incetl.run_log")
expect "the committed watermark is 100" "100" "$(q "$DB" "SELECT watermark FROM incetl.watermarks")"

set +e
psql -X -q -v ON_ERROR_STOP=1 -v VERBOSITY=verbose -d "$DB" \
    -c "SELECT incetl_run('pay')" >"$WORKDIR/run.out" 2>"$WORKDIR/run.err"
rc=$?
set -e
expect "psql exits with status 1 (ON_ERROR_STOP: the caller saw the error)" 1 "$rc"
expect "psql printed the error with its SQLSTATE" \
    'ERROR:  23514: new row for relation "payments_copy" violates check constraint "amount_not_negative"' \
    "$(grep '^ERROR:' "$WORKDIR/run.err")"
expect "psql printed the failing row" 'DETAIL:  Failing row contains (600, -1.00).' \
    "$(grep '^DETAIL:' "$WORKDIR/run.err")"
expect "the failed run returned no result" "" "$(cat "$WORKDIR/run.out")"

expect "the target is untouched (no row of the 499 before id 600 persists)" \
    "$target_before" "$(q "$DB" "$TARGET_SQL")"
expect "the watermark row is untouched" "$wm_before" "$(q "$DB" "$WM_SQL")"
# The run really was half-way: 499 rows were written, then rolled back.
expect_match "VACUUM finds the 499 rows the failed run wrote before id 600" \
    'tuples: 499 removed, 100 remain' \
    "$(psql -X -q -v ON_ERROR_STOP=1 -d "$DB" -c "VACUUM (VERBOSE) payments_copy" 2>&1)"
expect "exactly one FAILED row was logged" \
    "pay|FAILED|23514|new row for relation \"payments_copy\" violates check constraint \"amount_not_negative\"|Failing row contains (600, -1.00).|100|0|0|0|0|1" \
    "$(q "$DB" "SELECT pipeline_name, status, sqlstate, error_message, error_detail,
                       last_run_timestamp, records_read,
                       records_inserted, records_updated, records_processed, attempt
                FROM incetl.run_log WHERE run_id > $log_before")"
expect_match "the FAILED row has an error context" '.+' \
    "$(q "$DB" "SELECT error_context FROM incetl.run_log WHERE run_id > $log_before")"
expect "the FAILED row has a finish time" "t" \
    "$(q "$DB" "SELECT finished_at >= started_at FROM incetl.run_log WHERE run_id > $log_before")"

# Fixed at the source, the same batch goes through whole, exactly once.
q "$DB" "UPDATE payments SET amount = 0 WHERE id = 600"
expect "the retried run writes all 1000 rows" 1000 "$(q "$DB" "SELECT incetl_run('pay')")"
expect "target equals source" "1100|0|0" \
    "$(q "$DB" "SELECT (SELECT count(*) FROM payments_copy),
                       (SELECT count(*) FROM (TABLE payments EXCEPT TABLE payments_copy) AS a),
                       (SELECT count(*) FROM (TABLE payments_copy EXCEPT TABLE payments) AS b)")"
expect "the watermark is 1100" 1100 "$(q "$DB" "SELECT watermark FROM incetl.watermarks")"

# --------------------------------------------------------------------------
# 2. The caller's ROLLBACK takes the whole run with it
# --------------------------------------------------------------------------
(psql -X -q -v ON_ERROR_STOP=1 -d "$DB" <<'SQL'
CREATE TABLE events (id int PRIMARY KEY, kind text NOT NULL);
INSERT INTO events SELECT g, 'k' || g FROM generate_series(1, 50) AS g;
CREATE TABLE events_copy (id int PRIMARY KEY, kind text NOT NULL);
SELECT incetl.create_pipeline(name => 'ev', source => 'events',
    watermark_column => 'id', target => 'events_copy', record_key => 'id');
SQL
) >/dev/null

expect "inside BEGIN ... ROLLBACK the run writes 50 rows" 50 \
    "$(psql -X -At -q -v ON_ERROR_STOP=1 -d "$DB" <<'SQL'
BEGIN;
SELECT incetl_run('ev');
ROLLBACK;
SQL
)"
expect "after ROLLBACK: no target row, no watermark, no run_log row" "0|0|0" \
    "$(q "$DB" "SELECT (SELECT count(*) FROM events_copy),
                       (SELECT count(*) FROM incetl.watermarks WHERE pipeline_name = 'ev'),
                       (SELECT count(*) FROM incetl.run_log WHERE pipeline_name = 'ev')")"
expect "the next run still finds the 50 rows" 50 "$(q "$DB" "SELECT incetl_run('ev')")"

# --------------------------------------------------------------------------
# 3. REPEATABLE READ and SERIALIZABLE are refused
# --------------------------------------------------------------------------
q "$DB" "INSERT INTO events SELECT g, 'k' || g FROM generate_series(51, 60) AS g"
log_before=$(q "$DB" "SELECT max(run_id) FROM incetl.run_log")
target_before=$(q "$DB" "SELECT count(*) FROM events_copy")
wm_before=$(q "$DB" "$WM_SQL WHERE pipeline_name = 'ev'")
for level in "REPEATABLE READ" SERIALIZABLE; do
    out=$(psql -X -At -q -d "$DB" 2>"$WORKDIR/iso.err" <<SQL
BEGIN ISOLATION LEVEL $level;
SELECT incetl_run('ev');
\echo :LAST_ERROR_SQLSTATE
ROLLBACK;
SQL
)
    expect "a run in a $level transaction is refused with SQLSTATE 25000" 25000 "$out"
    expect "... with a message naming the pipeline and the isolation level" \
        "ERROR:  pipeline \"ev\" cannot run in a $level transaction" \
        "$(grep '^ERROR:' "$WORKDIR/iso.err")"
done
expect "the refused runs wrote nothing and logged nothing" \
    "$target_before|$wm_before|$log_before" \
    "$(q "$DB" "SELECT count(*) FROM events_copy")|$(q "$DB" "$WM_SQL WHERE pipeline_name = 'ev'")|$(q "$DB" "SELECT max(run_id) FROM incetl.run_log")"
expect "a READ COMMITTED run then takes the 10 new rows" 10 "$(q "$DB" "SELECT incetl_run('ev')")"

echo "failure_atomicity: all assertions passed"
