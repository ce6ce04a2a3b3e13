-- Monitoring: the incetl.pipeline_status view (one row per pipeline) and
-- the seed's pipeline_status(days) function (one row per run).
\set SHOW_CONTEXT never
CREATE SCHEMA ps;
CREATE TABLE ps.src (id int PRIMARY KEY, updated_at timestamptz NOT NULL);
INSERT INTO ps.src SELECT g, '2026-01-01' FROM generate_series(1, 100) AS g;
SELECT incetl.create_pipeline('ps_a', 'ps.src', 'updated_at', 'ps.dst_a', 'id');
SELECT incetl.create_pipeline('ps_b', 'ps.src', 'updated_at', 'ps.dst_b', 'id',
                              transform => 'SELECT id, updated_at, 1 / (id - 50) AS boom FROM batch');
SELECT incetl.create_pipeline('ps_idle', 'ps.src', 'updated_at', 'ps.dst_c', 'id');

SELECT incetl_run('ps_a');                 -- SUCCESS, 100 rows
SELECT incetl_run('ps_a');                 -- NO_DATA
SELECT incetl_run('ps_b');                 -- FAILED: division by zero
SELECT incetl.pause_pipeline('ps_a');
SELECT incetl_run('ps_a');                 -- SKIPPED

-- one row per pipeline, with what an operator looks at first
SELECT pipeline_name, enabled, last_status, last_success_at IS NOT NULL AS has_success,
       watermark IS NOT NULL AS has_watermark,
       lag >= interval '0' AND lag < interval '1 hour' AS lag_small,
       runs_14d, skipped_14d, success_rate_pct, rows_per_second > 0 AS has_rate,
       avg_seconds >= 0 AND p95_seconds >= avg_seconds * 0 AS has_durations,
       next_run_at, schedule, length(recent_durations) AS spark_len
FROM incetl.pipeline_status WHERE pipeline_name LIKE 'ps_%' ORDER BY pipeline_name;

-- the seed's get_pipeline_status(days): newest first
SELECT pipeline_name, status, records_processed, error_message
FROM incetl.pipeline_status(7) WHERE pipeline_name LIKE 'ps_%';
-- runs older than the window are not shown
UPDATE incetl.run_log SET started_at = started_at - interval '30 days'
WHERE pipeline_name = 'ps_b';
SELECT count(*) FROM incetl.pipeline_status(14) WHERE pipeline_name = 'ps_b';
SELECT runs_14d, last_status FROM incetl.pipeline_status WHERE pipeline_name = 'ps_b';

-- sparklines scale between the smallest and largest value
SELECT incetl.sparkline(ARRAY[1, 2, 3, 4, 5, 6, 7, 8]);
SELECT incetl.sparkline(ARRAY[5, 5, 5]);
SELECT incetl.sparkline(ARRAY[0, 10, NULL, 5]);
SELECT incetl.sparkline('{}');

-- lag of each kind of watermark
SELECT incetl.watermark_lag('timestamptz', (now() - interval '5 minutes')::text) = interval '5 minutes';
SELECT incetl.watermark_lag('date', (current_date - 1)::text) < interval '1 day';
SELECT incetl.watermark_lag('bigint', '42');

SELECT incetl.drop_pipeline(name) FROM incetl.pipelines WHERE name LIKE 'ps_%' ORDER BY name;
DROP SCHEMA ps CASCADE;
