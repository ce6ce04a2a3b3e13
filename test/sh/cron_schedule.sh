#!/usr/bin/env bash
# test/sh/cron_schedule.sh -- pipelines scheduled with incetl.schedule really
# run under pg_cron, as their owner, and a failing scheduled run is visible
# both in cron.job_run_details and in incetl.run_log.
#
# Starts its own cluster (pg_cron watches this test's database, which the main
# test cluster's pg_cron does not) and, in it:
#   - a pipeline scheduled '* * * * *' runs within ~75 s: a SUCCESS row in
#     incetl.run_log, the rows in the target, cron.job holding the job
#     "incetl:p" with command SELECT incetl_run('p') and username = the
#     pipeline owner (a non-superuser), and cron.job_run_details "succeeded";
#     incetl.pipeline_status.next_run_at is the next minute boundary;
#   - a pipeline whose transform divides by zero for one row, scheduled:
#     cron.job_run_details says "failed", incetl.run_log has a FAILED row
#     (division by zero, 22012, with a context), target and watermark are as
#     before;
#   - incetl.unschedule removes the job, incetl.drop_pipeline removes the job
#     of a scheduled pipeline, and create_pipeline with a schedule pg_cron
#     rejects fails with pg_cron's SQLSTATE (22023) and leaves nothing behind:
#     '61 * * * *' (refused by incetl's own parser first) and, on pg_cron 1.4,
#     '30 seconds' (accepted by incetl, refused by cron.schedule itself).
# Takes about a minute: pg_cron fires on minute boundaries.

source "$(dirname "${BASH_SOURCE[0]}")/helpers.bash"

CDIR=$(mktemp -d "${INCETL_TMP:-/tmp}/cron_schedule.XXXXXX")/cluster
PORT=54333
DB=incetl_cron
OWNER=etl_owner

incetl_on_exit() { cluster_exit "$1"; }

incetl_cluster_init "$CDIR" "$PORT" "$DB"
incetl_cluster_start "$CDIR"
incetl_cluster_export "$CDIR"
createdb "$DB"

# as the pipeline owner
qo() { psql -X -At -q -v ON_ERROR_STOP=1 -U "$OWNER" -d "$DB" -c "$*"; }

(psql -X -q -v ON_ERROR_STOP=1 -d "$DB" <<SQL
CREATE EXTENSION pg_cron;
CREATE EXTENSION incetl;
CREATE ROLE $OWNER LOGIN;
GRANT USAGE ON SCHEMA cron TO $OWNER;        -- what pg_cron asks of its users
CREATE SCHEMA etl AUTHORIZATION $OWNER;
SQL
) >/dev/null

(psql -X -q -v ON_ERROR_STOP=1 -U "$OWNER" -d "$DB" <<'SQL'
SET search_path = etl;
CREATE TABLE orders (id int PRIMARY KEY, amount int NOT NULL,
                     updated_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE orders_copy (LIKE orders INCLUDING ALL);
INSERT INTO orders (id, amount) SELECT g, g * 10 FROM generate_series(1, 5) AS g;
SELECT incetl.create_pipeline(name => 'p', source => 'orders',
    watermark_column => 'updated_at', target => 'orders_copy', record_key => 'id');

CREATE TABLE readings (id int PRIMARY KEY, value int NOT NULL, divisor int NOT NULL);
CREATE TABLE ratios (id int PRIMARY KEY, ratio int NOT NULL);
INSERT INTO readings SELECT g, g * 100, g FROM generate_series(1, 3) AS g;
SELECT incetl.create_pipeline(name => 'boom', source => 'readings',
    watermark_column => 'id', target => 'ratios', record_key => 'id',
    transform => $$ SELECT id, value / divisor AS ratio FROM batch $$);
SQL
) >/dev/null

# boom's good rows first, by hand; then the row that will break its runs
expect "boom's first run (by hand) loads 3 rows" 3 "$(qo "SELECT incetl_run('boom')")"
qo "INSERT INTO etl.readings VALUES (4, 400, 0)"
BOOM_TARGET_SQL="SELECT string_agg(id || ':' || ratio, ',' ORDER BY id) FROM etl.ratios"
BOOM_WM_SQL="SELECT w.* FROM incetl.watermarks AS w WHERE pipeline_name = 'boom'"
boom_target=$(q "$DB" "$BOOM_TARGET_SQL")
boom_wm=$(q "$DB" "$BOOM_WM_SQL")
boom_last_run=$(q "$DB" "SELECT max(run_id) FROM incetl.run_log WHERE pipeline_name = 'boom'")
expect "boom's target before the scheduled runs" "1:100,2:100,3:100" "$boom_target"

# --------------------------------------------------------------------------
# Schedule both.
# --------------------------------------------------------------------------
p_job=$(qo "SELECT incetl.schedule('p', '* * * * *')")
boom_job=$(qo "SELECT incetl.schedule('boom', '* * * * *')")
expect "cron.job holds p's job, as its owner" \
    "$p_job|incetl:p|* * * * *|SELECT incetl_run('p')|$OWNER|$DB|t" \
    "$(q "$DB" "SELECT jobid, jobname, schedule, command, username, database, active
                FROM cron.job WHERE jobname = 'incetl:p'")"
expect "cron.job holds boom's job, as its owner" \
    "$boom_job|incetl:boom|SELECT incetl_run('boom')|$OWNER" \
    "$(q "$DB" "SELECT jobid, jobname, command, username FROM cron.job WHERE jobname = 'incetl:boom'")"
expect "incetl.pipelines records the schedules" "boom|* * * * *
p|* * * * *" "$(q "$DB" "SELECT name, schedule FROM incetl.pipelines ORDER BY name")"
# pg_cron 1.4 evaluates schedules in GMT; for '* * * * *' that is the next
# minute boundary in any time zone.
expect "pipeline_status.next_run_at is the next minute boundary" "t|* * * * *" \
    "$(q "$DB" "SELECT next_run_at = date_trunc('minute', now()) + interval '1 minute', schedule
                FROM incetl.pipeline_status WHERE pipeline_name = 'p'")"

# --------------------------------------------------------------------------
# p runs under pg_cron.
# --------------------------------------------------------------------------
wait_for "pg_cron ran p: a SUCCESS row in incetl.run_log" 75 "$DB" \
    "SELECT EXISTS (SELECT FROM incetl.run_log WHERE pipeline_name = 'p' AND status = 'SUCCESS')"
expect "p's first scheduled run read and inserted the 5 rows, as the owner" "5|5|$OWNER" \
    "$(q "$DB" "SELECT records_read, records_inserted, run_by FROM incetl.run_log
                WHERE pipeline_name = 'p' AND status = 'SUCCESS' ORDER BY run_id LIMIT 1")"
expect "the target has p's rows" "1:10,2:20,3:30,4:40,5:50" \
    "$(q "$DB" "SELECT string_agg(id || ':' || amount, ',' ORDER BY id) FROM etl.orders_copy")"
wait_for "cron.job_run_details shows p's run" 20 "$DB" \
    "SELECT EXISTS (SELECT FROM cron.job_run_details WHERE jobid = $p_job AND status IN ('succeeded', 'failed'))"
expect "every finished run of p succeeded, as the owner" "succeeded|$OWNER|$DB|SELECT incetl_run('p')" \
    "$(q "$DB" "SELECT DISTINCT status, username, database, command FROM cron.job_run_details
                WHERE jobid = $p_job AND status IN ('succeeded', 'failed')")"

# --------------------------------------------------------------------------
# boom's scheduled run fails: pg_cron sees the error, run_log keeps it.
# --------------------------------------------------------------------------
wait_for "cron.job_run_details shows boom's run failed" 75 "$DB" \
    "SELECT EXISTS (SELECT FROM cron.job_run_details WHERE jobid = $boom_job AND status = 'failed')"
expect "pg_cron got incetl_run's error (first line of its message)" "ERROR: division by zero" \
    "$(q "$DB" "SELECT DISTINCT split_part(return_message, E'\\n', 1) FROM cron.job_run_details
                WHERE jobid = $boom_job AND status = 'failed'")"
expect "no run of boom succeeded under pg_cron" "0" \
    "$(q "$DB" "SELECT count(*) FROM cron.job_run_details WHERE jobid = $boom_job AND status = 'succeeded'")"
qo "SELECT incetl.unschedule('boom')" >/dev/null   # stop it failing every minute
expect "boom's scheduled runs logged FAILED: division by zero, 22012, as the owner" \
    "FAILED|division by zero|22012|3|t|$OWNER" \
    "$(q "$DB" "SELECT DISTINCT status, error_message, sqlstate, last_run_timestamp,
                       coalesce(error_context, '') <> '', run_by
                FROM incetl.run_log WHERE pipeline_name = 'boom' AND run_id > $boom_last_run")"
expect "boom's target is unchanged" "$boom_target" "$(q "$DB" "$BOOM_TARGET_SQL")"
expect "boom's watermark is unchanged" "$boom_wm" "$(q "$DB" "$BOOM_WM_SQL")"

# --------------------------------------------------------------------------
# unschedule, drop_pipeline, a schedule pg_cron rejects
# --------------------------------------------------------------------------
expect "incetl.unschedule('p') returns true" t "$(qo "SELECT incetl.unschedule('p')")"
expect "no incetl job is left in cron.job" 0 \
    "$(q "$DB" "SELECT count(*) FROM cron.job WHERE jobname LIKE 'incetl:%'")"
expect "p has no schedule and no next run" "|" \
    "$(q "$DB" "SELECT schedule, next_run_at FROM incetl.pipeline_status WHERE pipeline_name = 'p'")"

qo "SELECT incetl.create_pipeline(name => 'd', source => 'etl.orders',
        watermark_column => 'updated_at', target => 'etl.orders_copy',
        record_key => 'id', schedule => '0 3 1 1 *')" >/dev/null
expect "create_pipeline(schedule => ...) creates the job" "incetl:d|0 3 1 1 *|$OWNER" \
    "$(q "$DB" "SELECT jobname, schedule, username FROM cron.job")"
qo "SELECT incetl.drop_pipeline('d')" >/dev/null
expect "drop_pipeline removes the pipeline and its job" "0|0" \
    "$(q "$DB" "SELECT (SELECT count(*) FROM incetl.pipelines WHERE name = 'd'),
                       (SELECT count(*) FROM cron.job)")"

# pg_cron's own verdict on the schedule, then create_pipeline's
out=$(psql -X -At -q -d "$DB" 2>&1 <<'SQL'
SELECT cron.schedule('probe', '61 * * * *', 'SELECT 1');
\echo sqlstate=:LAST_ERROR_SQLSTATE
SQL
)
expect "pg_cron rejects '61 * * * *' with SQLSTATE 22023" \
    "ERROR:  invalid schedule: 61 * * * *|sqlstate=22023" \
    "$(printf '%s\n' "$out" | grep -E '^(ERROR|sqlstate)' | paste -sd '|')"
out=$(psql -X -At -q -U "$OWNER" -d "$DB" 2>&1 <<'SQL'
SELECT incetl.create_pipeline(name => 'bad_sched', source => 'etl.orders',
    watermark_column => 'updated_at', target => 'etl.orders_copy',
    record_key => 'id', schedule => '61 * * * *');
\echo sqlstate=:LAST_ERROR_SQLSTATE
SQL
)
# incetl checks the expression itself before pg_cron does (schedule.c), with
# pg_cron's SQLSTATE and a message naming the schedule.
expect_match "create_pipeline with that schedule fails: 22023, the schedule named" \
    '^ERROR:  invalid (cron )?schedule: "?61 \* \* \* \*"?\|sqlstate=22023$' \
    "$(printf '%s\n' "$out" | grep -E '^(ERROR|sqlstate)' | paste -sd '|')"
expect "... and leaves no pipeline and no job behind" "0|0" \
    "$(q "$DB" "SELECT (SELECT count(*) FROM incetl.pipelines WHERE name = 'bad_sched'),
                       (SELECT count(*) FROM cron.job)")"

# '30 seconds' passes incetl's own check (pg_cron 1.5 syntax) but pg_cron 1.4
# rejects it: this failure comes from cron.schedule itself, after the
# pipeline row was written, and must still leave nothing behind.
if [ "$(q "$DB" "SELECT extversion FROM pg_extension WHERE extname = 'pg_cron'")" = 1.4-1 ]; then
    out=$(psql -X -At -q -U "$OWNER" -d "$DB" 2>&1 <<'SQL'
SELECT incetl.create_pipeline(name => 'bad_sched', source => 'etl.orders',
    watermark_column => 'updated_at', target => 'etl.orders_copy',
    record_key => 'id', schedule => '30 seconds');
\echo sqlstate=:LAST_ERROR_SQLSTATE
SQL
)
    expect "create_pipeline(schedule => '30 seconds') fails with pg_cron 1.4's error" \
        "ERROR:  invalid schedule: 30 seconds|sqlstate=22023" \
        "$(printf '%s\n' "$out" | grep -E '^(ERROR|sqlstate)' | paste -sd '|')"
    expect "... and leaves no pipeline and no job behind" "0|0" \
        "$(q "$DB" "SELECT (SELECT count(*) FROM incetl.pipelines WHERE name = 'bad_sched'),
                           (SELECT count(*) FROM cron.job)")"
fi

echo "cron_schedule: all assertions passed"
