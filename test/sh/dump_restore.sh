#!/usr/bin/env bash
# test/sh/dump_restore.sh -- pipeline definitions, watermarks and the run log
# survive pg_dump -Fc / pg_restore into a new database, and runs continue there.
#
# incetl.pipelines, incetl.watermarks, incetl.run_log and the run_id sequence
# are extension configuration tables (pg_extension_config_dump), so pg_dump
# dumps their rows, and pg_restore loads them after CREATE EXTENSION in an
# empty database (createdb).  We compare the three tables in full, every
# column, created_at and updated_at included: the rows are restored by COPY,
# verbatim, and a restore that rewrote when a pipeline was created or when
# its watermark last moved would falsify history (pipeline_status, audits).
#
# Runs on the main test cluster (PGHOST/PGPORT/PGUSER), in two databases of
# its own, dropped at the end.

source "$(dirname "${BASH_SOURCE[0]}")/helpers.bash"

SRC_DB=incetl_sh_dump_src
DST_DB=incetl_sh_dump_dst
WORKDIR=$(mktemp -d "${INCETL_TMP:-/tmp}/dump_restore.XXXXXX")
DUMP=$WORKDIR/src.dump

incetl_on_exit() {
    dropdb --if-exists "$SRC_DB" 2>/dev/null
    dropdb --if-exists "$DST_DB" 2>/dev/null
    rm -rf "$WORKDIR"
    return "$1"
}

dropdb --if-exists "$SRC_DB" 2>/dev/null
dropdb --if-exists "$DST_DB" 2>/dev/null
createdb "$SRC_DB"

# --------------------------------------------------------------------------
# The original database: one source, two pipelines, a few runs.
# --------------------------------------------------------------------------
(psql -X -q -v ON_ERROR_STOP=1 -d "$SRC_DB" <<'SQL'
CREATE EXTENSION incetl;
CREATE SCHEMA analytics;

CREATE TABLE public.orders (
    id         int PRIMARY KEY,
    customer   text NOT NULL,
    amount     numeric(10,2) NOT NULL,
    is_deleted boolean NOT NULL DEFAULT false,
    updated_at timestamptz NOT NULL);
INSERT INTO public.orders (id, customer, amount, updated_at)
SELECT g, 'c' || (g % 3), g * 1.25, '2026-01-01 00:00:00+00'::timestamptz + g * interval '1 second'
FROM generate_series(1, 10) AS g;
UPDATE public.orders SET is_deleted = true WHERE id = 3;

-- the heap target of the main pipeline
CREATE TABLE analytics.orders (
    id           int PRIMARY KEY,
    customer     text NOT NULL,
    amount_cents bigint NOT NULL,
    updated_at   timestamptz NOT NULL);
-- the paused pipeline copies rows as they are
CREATE TABLE analytics.orders_raw (LIKE public.orders INCLUDING ALL);

SELECT incetl.create_pipeline(
    name             => 'orders_main',
    source           => 'public.orders',
    watermark_column => 'updated_at',
    target           => 'analytics.orders',
    record_key       => 'id',
    precombine       => 'updated_at',
    transform        => $$ SELECT id, upper(customer) AS customer,
                                  (amount * 100)::bigint AS amount_cents,
                                  updated_at, is_deleted
                           FROM batch $$,
    delete_marker    => 'is_deleted',
    settings         => '{"work_mem": "8MB", "statement_timeout": "5min"}',
    max_batch_rows   => 4);

SELECT incetl.create_pipeline(
    name             => 'orders_paused',
    source           => 'public.orders',
    watermark_column => 'updated_at',
    target           => 'analytics.orders_raw',
    record_key       => 'id',
    max_retries      => 2,
    retry_delay      => '5 seconds',
    safety_lag       => '1 minute');
SQL
) >/dev/null

# orders_main: 10 rows in batches of at most 4 (4 + 4 + 2 read); id 3 carries
# the delete marker, so the first batch writes 3 rows
expect "first batch of orders_main"  3 "$(q "$SRC_DB" "SELECT incetl_run('orders_main')")"
expect "second batch of orders_main" 4 "$(q "$SRC_DB" "SELECT incetl_run('orders_main')")"
expect "third batch of orders_main"  2 "$(q "$SRC_DB" "SELECT incetl_run('orders_main')")"
expect "orders_main loaded 9 rows (id 3 is marked deleted)" \
    "9|0" "$(q "$SRC_DB" "SELECT count(*), count(*) FILTER (WHERE id = 3) FROM analytics.orders")"
# orders_paused: one run, then paused (its next run logs SKIPPED)
expect "orders_paused loads all 10 rows" 10 "$(q "$SRC_DB" "SELECT incetl_run('orders_paused')")"
q "$SRC_DB" "SELECT incetl.pause_pipeline('orders_paused')" >/dev/null
expect "paused run returns 0" 0 "$(q "$SRC_DB" "SELECT incetl_run('orders_paused')" 2>/dev/null)"

expect "run_log of the original database" \
    "1|orders_main|SUCCESS|4
2|orders_main|SUCCESS|4
3|orders_main|SUCCESS|2
4|orders_paused|SUCCESS|10
5|orders_paused|SKIPPED|0" \
    "$(q "$SRC_DB" "SELECT run_id, pipeline_name, status, records_read FROM incetl.run_log ORDER BY run_id")"
expect "both pipelines have a watermark" 2 \
    "$(q "$SRC_DB" "SELECT count(*) FROM incetl.watermarks WHERE watermark IS NOT NULL")"

# --------------------------------------------------------------------------
# Dump, restore into a new empty database.
# --------------------------------------------------------------------------
pg_dump -Fc -d "$SRC_DB" -f "$DUMP"
createdb "$DST_DB"
if ! pg_restore -d "$DST_DB" "$DUMP" >"$WORKDIR/restore.log" 2>&1; then
    cat "$WORKDIR/restore.log" >&2
    fail "pg_restore into $DST_DB failed"
fi
expect "pg_restore printed no warning or error" "" "$(cat "$WORKDIR/restore.log")"

# Each catalog, every column, in a fixed order: identical text in both.
same_in_both() {
    local what=$1 sql=$2 a b
    a=$(q "$SRC_DB" "$sql")
    b=$(q "$DST_DB" "$sql")
    if [ "$a" != "$b" ]; then
        printf 'FAIL: %s differs after restore\n' "$what" >&2
        diff <(printf '%s\n' "$a") <(printf '%s\n' "$b") | sed 's/^/  /' >&2
        exit 1
    fi
    if [ -z "$a" ]; then
        fail "$what is empty: nothing was compared"
    fi
    printf 'ok  %s identical after restore (%s lines)\n' "$what" "$(printf '%s\n' "$a" | wc -l)"
}
same_in_both "incetl.pipelines"  "SELECT p.* FROM incetl.pipelines AS p ORDER BY name"
same_in_both "incetl.watermarks" "SELECT w.* FROM incetl.watermarks AS w ORDER BY pipeline_name"
same_in_both "incetl.run_log"    "SELECT l.* FROM incetl.run_log AS l ORDER BY run_id"
same_in_both "run_id sequence"   "SELECT last_value, is_called FROM incetl.run_log_run_id_seq"
same_in_both "target analytics.orders" "SELECT t.* FROM analytics.orders AS t ORDER BY id"

# --------------------------------------------------------------------------
# The restored database runs on from the restored watermark.
# --------------------------------------------------------------------------
restored_wm=$(q "$DST_DB" "SELECT watermark FROM incetl.watermarks WHERE pipeline_name = 'orders_main'")
max_run_id=$(q "$DST_DB" "SELECT max(run_id) FROM incetl.run_log")

q "$DST_DB" "UPDATE public.orders SET amount = 99.99, updated_at = now() WHERE id = 7" >/dev/null
expect "the restored pipeline writes exactly the changed row" 1 \
    "$(q "$DST_DB" "SELECT incetl_run('orders_main')")"

expect "the new run gets the next run_id" "$((max_run_id + 1))|orders_main" \
    "$(q "$DST_DB" "SELECT run_id, pipeline_name FROM incetl.run_log WHERE run_id > $max_run_id")"
expect "the new run starts from the restored watermark and reads one row" \
    "SUCCESS|$restored_wm|1|0|1|0" \
    "$(q "$DST_DB" "SELECT status, last_run_timestamp, records_read, records_inserted,
                            records_updated, records_deleted
                     FROM incetl.run_log WHERE run_id = $((max_run_id + 1))")"
expect "the watermark moved to that run" "$((max_run_id + 1))|t" \
    "$(q "$DST_DB" "SELECT run_id, watermark::timestamptz > '$restored_wm'::timestamptz
                     FROM incetl.watermarks WHERE pipeline_name = 'orders_main'")"
expect "row 7 arrived, transformed" "7|C1|9999" \
    "$(q "$DST_DB" "SELECT id, customer, amount_cents FROM analytics.orders WHERE id = 7")"
expect "the target still has 9 rows" 9 "$(q "$DST_DB" "SELECT count(*) FROM analytics.orders")"
expect "every other target row is as restored" \
    "$(q "$SRC_DB" "SELECT t.* FROM analytics.orders AS t WHERE id <> 7 ORDER BY id")" \
    "$(q "$DST_DB" "SELECT t.* FROM analytics.orders AS t WHERE id <> 7 ORDER BY id")"
expect "a second run finds nothing new" 0 "$(q "$DST_DB" "SELECT incetl_run('orders_main')")"

expect "the restored paused pipeline is still paused" "0|SKIPPED" \
    "$(q "$DST_DB" "SELECT incetl_run('orders_paused')" 2>/dev/null)|$(q "$DST_DB" \
        "SELECT status FROM incetl.run_log ORDER BY run_id DESC LIMIT 1")"

# The original database did not move.
expect "the original run_log is untouched" 5 "$(q "$SRC_DB" "SELECT count(*) FROM incetl.run_log")"

echo "dump_restore: all assertions passed"
