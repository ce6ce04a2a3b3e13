#!/usr/bin/env bash
# test/demo.sh -- the guided tour (`make demo`)
#
# Installs what it needs (as root on a fresh Debian 12 machine), builds and
# installs incetl, then starts a throwaway PostgreSQL 15 cluster as the
# non-root user -- port 54330, reached through its own socket directory,
# pg_cron preloaded and watching the demo database -- and walks through the
# user's day from the spec:
#
#   a public.orders table with a few thousand orders,
#   the pipeline orders_daily into analytics.orders (record key order_id,
#   precombine updated_at, a transform adding processing_date and
#   load_timestamp), a full load, some updates and new orders, an incremental
#   run, a pg_cron schedule, and the monitoring views.
#
# The cluster keeps running afterwards so you can look around; the script
# ends by printing how to connect and how to stop it (`make demo-stop`).
# Running it again replaces the demo cluster with a fresh one.

set -euo pipefail
export LC_ALL=C

SRC_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=test/lib.sh
source "$SRC_DIR/test/lib.sh"

DEMO_PORT=${INCETL_DEMO_PORT:-54330}
DEMO_DB=incetl_demo

incetl_install_deps

RUNNER=$(incetl_runner_user)
DEMO_DIR=${INCETL_DEMO_DIR:-/tmp/incetl-demo-$RUNNER}
CLUSTER=$DEMO_DIR/cluster

# ---- build and install -----------------------------------------------------
incetl_log "building incetl in $DEMO_DIR/src"
incetl_cluster_stop "$CLUSTER"          # an earlier demo: start afresh
incetl_rm_dir "$DEMO_DIR"
mkdir -p "$DEMO_DIR"
incetl_copy_tree "$SRC_DIR" "$DEMO_DIR/src"
if incetl_is_root; then chown "$RUNNER:" "$DEMO_DIR"; fi
incetl_build "$DEMO_DIR/src"

# ---- the cluster -------------------------------------------------------------
incetl_log "starting a demo cluster in $CLUSTER (port $DEMO_PORT, as $RUNNER)"
incetl_cluster_init "$CLUSTER" "$DEMO_PORT" "$DEMO_DB"
incetl_cluster_start "$CLUSTER" keep   # keep: not stopped when this script ends

how_to_connect() {
    local psql="$INCETL_PG_BIN/psql -h $CLUSTER/sock -p $DEMO_PORT -d $DEMO_DB"
    if incetl_is_root; then
        psql="runuser -u $RUNNER -- $psql"
    fi
    echo
    echo "The demo cluster is running (data: $CLUSTER/data, log: $CLUSTER/server.log)."
    echo "Connect:"
    echo "    $psql"
    echo "Stop it:"
    echo "    make demo-stop"
    echo "or"
    if incetl_is_root; then
        echo "    runuser -u $RUNNER -- $INCETL_PG_BIN/pg_ctl -D $CLUSTER/data stop"
    else
        echo "    $INCETL_PG_BIN/pg_ctl -D $CLUSTER/data stop"
    fi
}
# Whatever happens from here on, say how to reach (and stop) the cluster.
incetl_on_exit() {
    local rc=$1
    if [ "$rc" -ne 0 ]; then
        echo
        echo "The demo stopped at an error (exit $rc)."
    fi
    how_to_connect
    return "$rc"
}

incetl_cluster_psql "$CLUSTER" -c "CREATE DATABASE $DEMO_DB"

# psql on the demo database reading SQL from stdin, echoing each statement.  Every statement runs in
# its own transaction (autocommit), as a user's session would.
demo_sql() {
    incetl_cluster_psql "$CLUSTER" -d "$DEMO_DB" -e
}

step() { printf '\n======== %s\n' "$*"; }

step "Extensions"
demo_sql <<'SQL'
CREATE EXTENSION pg_cron;
CREATE EXTENSION incetl;
SQL

step "Sample source data (like the seed's create_sample_data_for_testing)"
demo_sql <<'SQL'
CREATE TABLE public.orders (
    order_id    bigint PRIMARY KEY,
    customer_id bigint,
    amount      numeric(12,2),
    status      text,
    updated_at  timestamptz DEFAULT now()
);
CREATE INDEX orders_updated_at_idx ON public.orders (updated_at);

-- 5000 orders from 500 customers, last changed over the past three days.
SELECT setseed(0.42) \gset
INSERT INTO public.orders (order_id, customer_id, amount, status, updated_at)
SELECT g,
       1 + floor(random() * 500)::bigint,
       round((5 + random() * 495)::numeric, 2),
       (ARRAY['pending', 'paid', 'shipped', 'delivered', 'cancelled'])
           [1 + floor(random() * 5)::int],
       now() - interval '3 days' + g * interval '50 seconds'
FROM generate_series(1, 5000) AS g;
ANALYZE public.orders;

SELECT status, count(*) AS orders, sum(amount) AS total
FROM public.orders GROUP BY status ORDER BY status;
SQL

step "The pipeline"
demo_sql <<'SQL'
CREATE SCHEMA analytics;

SELECT incetl.create_pipeline(
    name             => 'orders_daily',
    source           => 'public.orders',
    watermark_column => 'updated_at',
    target           => 'analytics.orders',
    record_key       => 'order_id',
    precombine       => 'updated_at',
    transform        => $$ SELECT order_id, customer_id, amount, status, updated_at,
                                  current_date AS processing_date,
                                  now()        AS load_timestamp
                           FROM batch $$);

SELECT name, source, watermark_column, target, record_key, precombine
FROM incetl.pipelines;
SQL

step "First run: no watermark yet, so a full load"
demo_sql <<'SQL'
SELECT incetl_run('orders_daily') AS rows_written;
SELECT count(*) AS target_rows FROM analytics.orders;
SELECT pipeline_name, watermark FROM incetl.watermarks;
SQL

step "The source changes (one transaction): about 300 orders move on, 200 new ones arrive"
demo_sql <<'SQL'
BEGIN;
UPDATE public.orders
SET status = CASE status WHEN 'pending' THEN 'paid'
                         WHEN 'paid' THEN 'shipped'
                         ELSE 'delivered' END,
    updated_at = now()
WHERE order_id % 17 = 0 AND order_id <= 5100;
INSERT INTO public.orders (order_id, customer_id, amount, status)
SELECT 5000 + g, 1 + g % 500, round((10 + g * 1.37)::numeric, 2), 'pending'
FROM generate_series(1, 200) AS g;
COMMIT;
SQL

step "Second run: only the delta since the watermark"
demo_sql <<'SQL'
SELECT incetl_run('orders_daily') AS rows_written;
SELECT count(*) AS target_rows FROM analytics.orders;
SELECT o.order_id, o.status AS source_status, a.status AS target_status
FROM public.orders AS o JOIN analytics.orders AS a USING (order_id)
WHERE o.order_id IN (17, 34, 5001)
ORDER BY o.order_id;
SQL

step "A third run with nothing new"
demo_sql <<'SQL'
SELECT incetl_run('orders_daily') AS rows_written;
SQL

step "Bronze -> silver -> gold: chained pipelines on incetl_cow change feeds"
demo_sql <<'SQL'
CREATE SCHEMA lake;
-- bronze: raw changes land here, upserted by key; a row with _deleted = true deletes its key
CREATE TABLE lake.bronze_orders (
    order_id bigint, customer_id bigint, region text, amount numeric(12,2),
    status text, updated_at timestamptz, _deleted boolean NOT NULL DEFAULT false
) USING incetl_cow;
SELECT incetl.set_table_options('lake.bronze_orders', record_key => 'order_id',
                                precombine => 'updated_at', delete_marker => '_deleted');
INSERT INTO lake.bronze_orders (order_id, customer_id, region, amount, status, updated_at)
SELECT order_id, customer_id, (ARRAY['north', 'south', 'east', 'west'])[1 + customer_id % 4],
       amount, status, updated_at
FROM public.orders;

-- silver: a cleaned copy.  No watermark column: the pipeline reads bronze's
-- change feed (incetl.net_changes) from its last commit; "batch" has
-- bronze's columns plus _incetl_deleted, true for a deleted key.  Cancelled
-- orders are filtered out by turning them into deletes (a WHERE would leave
-- an order that becomes cancelled behind in silver).
SELECT incetl.create_pipeline(
    name             => 'silver_orders',
    source           => 'lake.bronze_orders',
    watermark_column => NULL,
    target           => 'lake.silver_orders',
    record_key       => 'order_id',
    transform        => $$ SELECT order_id, customer_id, region, amount, status, updated_at,
                                  _incetl_deleted OR status = 'cancelled' AS _incetl_deleted
                           FROM batch $$);

-- gold: revenue per region, rebuilt for the regions silver's changes touch
-- (batch_before holds the rows as they were before an update or delete, so
-- a region that lost its last order is deleted)
SELECT incetl.create_pipeline(
    name             => 'gold_regions',
    source           => 'lake.silver_orders',
    watermark_column => NULL,
    target           => 'lake.gold_regions',
    record_key       => 'region',
    transform        => $$ SELECT g.region, count(s.order_id) AS orders,
                                  coalesce(sum(s.amount), 0) AS revenue,
                                  count(s.order_id) = 0 AS _incetl_deleted
                           FROM (SELECT region FROM batch UNION SELECT region FROM batch_before) AS g
                           LEFT JOIN lake.silver_orders AS s USING (region)
                           GROUP BY g.region $$);

SELECT incetl_run('silver_orders') AS silver_rows, incetl_run('gold_regions') AS gold_rows;
SELECT * FROM lake.gold_regions ORDER BY region;
SQL

step "A source row is deleted (and one order is cancelled): the change flows downstream"
demo_sql <<'SQL'
SELECT order_id, region, amount FROM lake.silver_orders WHERE order_id IN (17, 18);
DELETE FROM lake.bronze_orders WHERE order_id = 17;
UPDATE lake.bronze_orders SET status = 'cancelled', updated_at = now() WHERE order_id = 18;
-- the change feed of bronze since silver's watermark: a delete and an update
SELECT c.commit_id, c.operation, (c.before).order_id, (c.before).status AS before_status,
       (c.after).status AS after_status
FROM incetl.table_changes(NULL::lake.bronze_orders,
                          (SELECT watermark_commit FROM incetl.watermarks
                           WHERE pipeline_name = 'silver_orders')) AS c;
SELECT incetl_run('silver_orders') AS silver_rows, incetl_run('gold_regions') AS gold_rows;
SELECT count(*) FILTER (WHERE order_id IN (17, 18)) AS gone_from_silver_if_zero
FROM lake.silver_orders;
SELECT * FROM lake.gold_regions ORDER BY region;
SELECT pipeline_name, status, records_read, records_inserted, records_updated, records_deleted
FROM incetl.run_log WHERE pipeline_name IN ('silver_orders', 'gold_regions')
ORDER BY run_id DESC LIMIT 4;
SQL

step "Schedule it with pg_cron (every minute)"
demo_sql <<'SQL'
SELECT incetl.schedule('orders_daily', '* * * * *') AS cron_job_id;
-- run_log retention: each run trims its own pipeline's log; a daily job
-- purges what is older than incetl.run_log_retention (90 days by default)
-- for every pipeline, dropped ones included
SELECT cron.schedule('incetl:purge_run_log', '17 3 * * *',
                     'SELECT incetl.purge_run_log()') AS purge_job_id;
SELECT jobid, jobname, schedule, command FROM cron.job ORDER BY jobid;
SQL

step "Monitoring: incetl.pipeline_status"
demo_sql <<'SQL'
\x on
SELECT * FROM incetl.pipeline_status;
SQL

step "The last 5 runs in incetl.run_log"
demo_sql <<'SQL'
SELECT run_id, status, last_run_timestamp, current_run_timestamp,
       records_read, records_inserted, records_updated, records_processed,
       round(processing_time_seconds::numeric, 3) AS seconds, error_message
FROM incetl.run_log
ORDER BY run_id DESC
LIMIT 5;
SQL
