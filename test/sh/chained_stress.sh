#!/usr/bin/env bash
# test/sh/chained_stress.sh -- a chained pipeline stays equal to its source
# under concurrent writers that upsert and delete (issue 11)
#
# bronze is an incetl_cow table with a record key and a delete marker.
# 6 pgbench writers, for 15 s, each run transactions that upsert a random
# key, delete a random key (DELETE, or a row with the delete marker set),
# or both in one transaction, while a runner fires the two pipelines that
# read bronze's change feed (no watermark column) every 50 ms:
#     silver_heap   bronze -> a heap table
#     silver_cow    bronze -> an incetl_cow table the pipeline created
# After the writers stop, one final run of each.  Then both silvers must
# equal bronze row for row (EXCEPT both ways, and the same row count), and
# the runs during the writers must have propagated deletes (a bound that
# never moves would pass the comparison by doing everything at the end).
#
# Runs as the harness runs it (see test/run_tests.sh): bash, a superuser,
# PGHOST/PGPORT/PGUSER pointing at a running cluster that preloads incetl.
# Creates and drops its own database.  About 20 s.
#
# Knobs (for experiments; the defaults are the test):
#   CH_SECONDS (15)  CH_CLIENTS (6)  CH_KEYS (500)  CH_RUN_EVERY_MS (50)

source "$(dirname "${BASH_SOURCE[0]}")/race.bash"

SECONDS_WRITING=${CH_SECONDS:-15}
CLIENTS=${CH_CLIENTS:-6}
KEYS=${CH_KEYS:-500}
RUN_EVERY_MS=${CH_RUN_EVERY_MS:-50}

race_setup chained
q -o /dev/null -f - <<SQL
SET client_min_messages = warning;
CREATE EXTENSION incetl;
CREATE TABLE bronze (id int NOT NULL, v int NOT NULL, by_pid int NOT NULL,
                     _del boolean NOT NULL DEFAULT false) USING incetl_cow;
SELECT incetl.set_table_options('bronze', record_key => 'id', delete_marker => '_del');
INSERT INTO bronze SELECT g, 0, 0 FROM generate_series(1, $KEYS) AS g;
CREATE TABLE silver_heap (id int PRIMARY KEY, v int NOT NULL, by_pid int NOT NULL);
SELECT incetl.create_pipeline(name => 'silver_heap', source => 'public.bronze',
                              watermark_column => NULL, target => 'public.silver_heap',
                              record_key => 'id', max_retries => 3,
                              transform => 'SELECT id, v, by_pid, _incetl_deleted FROM batch');
SELECT incetl.create_pipeline(name => 'silver_cow', source => 'public.bronze',
                              watermark_column => NULL, target => 'public.silver_cow',
                              record_key => 'id', max_retries => 3,
                              transform => 'SELECT id, v, by_pid, _incetl_deleted FROM batch');
SELECT incetl_run('silver_heap'), incetl_run('silver_cow');
SQL

cat >"$WORK/writer.sql" <<SQL
\set k random(1, $KEYS)
\set d random(1, $KEYS)
\set op random(1, 10)
\set v random(1, 1000000)
\if :op <= 4
INSERT INTO bronze VALUES (:k, :v, pg_backend_pid(), false);
\elif :op <= 6
DELETE FROM bronze WHERE id = :d;
\elif :op <= 7
INSERT INTO bronze VALUES (:d, :v, pg_backend_pid(), true);
\else
BEGIN;
INSERT INTO bronze VALUES (:k, :v, pg_backend_pid(), false);
DELETE FROM bronze WHERE id = :d;
COMMIT;
\endif
SQL

cat >"$WORK/runner.sql" <<SQL
SELECT incetl_run('silver_heap');
SELECT incetl_run('silver_cow');
\sleep $RUN_EVERY_MS ms
SQL

incetl_log "$CLIENTS writers (upserts and deletes of $KEYS keys) for ${SECONDS_WRITING}s, runs every $RUN_EVERY_MS ms"
race_run "" "$SECONDS_WRITING" "$WORK/writers.log" "$WORK/runner.log"

last_loop_run=$(q -c "SELECT max(run_id) FROM incetl.run_log")
q -o /dev/null -c "SELECT incetl_run('silver_heap'), incetl_run('silver_cow')"

read -r n_bronze commits <<<"$(q -F ' ' -c "SELECT (SELECT count(*) FROM bronze),
    (SELECT count(*) FROM incetl.commits('bronze'))")"
status=0
for t in silver_heap silver_cow; do
    read -r n_t missing extra runs failed del_loop read_loop <<<"$(q -F ' ' <<SQL
SELECT (SELECT count(*) FROM $t),
       (SELECT count(*) FROM (SELECT id, v, by_pid FROM bronze
                              EXCEPT SELECT id, v, by_pid FROM $t) AS d),
       (SELECT count(*) FROM (SELECT id, v, by_pid FROM $t
                              EXCEPT SELECT id, v, by_pid FROM bronze) AS d),
       (SELECT count(*) FROM incetl.run_log WHERE pipeline_name = '$t'
         AND status IN ('SUCCESS', 'NO_DATA')),
       (SELECT count(*) FROM incetl.run_log WHERE pipeline_name = '$t' AND status = 'FAILED'),
       (SELECT coalesce(sum(records_deleted), 0) FROM incetl.run_log
         WHERE pipeline_name = '$t' AND status = 'SUCCESS' AND run_id <= $last_loop_run),
       (SELECT coalesce(sum(records_read), 0) FROM incetl.run_log
         WHERE pipeline_name = '$t' AND status = 'SUCCESS' AND run_id <= $last_loop_run)
SQL
)"
    echo "   $t: $n_t rows (bronze $n_bronze, $commits commits); missing $missing, extra $extra;" \
         "$runs runs ($failed attempts failed and were retried), read $read_loop and deleted $del_loop rows during the writers"
    if [ "$missing" -ne 0 ] || [ "$extra" -ne 0 ] || [ "$n_t" -ne "$n_bronze" ]; then
        echo "FAIL: $t differs from bronze: $missing rows missing, $extra extra" >&2
        status=1
    fi
    [ "$runs" -ge 20 ] || { echo "FAIL: only $runs runs of $t during the load" >&2; status=1; }
    [ "$del_loop" -gt 0 ] || { echo "FAIL: the runs of $t during the writers deleted nothing" >&2; status=1; }
done
[ "$commits" -ge 200 ] || { echo "FAIL: only $commits commits in bronze: the load did not run" >&2; status=1; }
[ "$status" -eq 0 ] && echo "PASS: both silvers equal bronze row for row after upserts and deletes under concurrent runs"
exit "$status"
