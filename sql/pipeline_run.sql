-- incetl_run: full load, incremental runs, NO_DATA, full refresh, pause,
-- reset (full load and backfill), max_batch_rows, integer and date
-- watermarks, settings and environment.
CREATE SCHEMA pr;
CREATE TABLE pr.src (id int PRIMARY KEY, val text, updated_at timestamptz NOT NULL);
CREATE INDEX ON pr.src (updated_at);
INSERT INTO pr.src
SELECT g, 'v' || g, '2026-01-01 00:00:00+00'::timestamptz + g * interval '1 minute'
FROM generate_series(1, 10) AS g;

SELECT incetl.create_pipeline('pr_basic', 'pr.src', 'updated_at', 'pr.dst', 'id',
                              precombine => 'updated_at');

-- first run: full load
SELECT incetl_run('pr_basic');
SELECT id, val FROM pr.dst ORDER BY id;

-- the run log and the watermark agree; the bound is "now" (no other
-- transaction is open) and the first run has no lower bound
CREATE VIEW pr.log AS
SELECT run_id, status, records_read AS rd, records_inserted AS ins,
       records_updated AS upd, records_deleted AS del, records_processed AS processed,
       attempt, full_refresh, environment, error_message,
       last_run_timestamp IS NULL AS full_load,
       CASE WHEN pipeline_name = 'pr_basic'
            THEN current_run_timestamp::timestamptz BETWEEN now() - interval '10 minutes'
                                                        AND clock_timestamp()
       END AS bound_recent,
       finished_at >= started_at AS timed,
       processing_time_seconds >= 0 AS has_duration
FROM incetl.run_log WHERE pipeline_name LIKE 'pr_%';
SELECT status, rd, ins, upd, del, processed, attempt, full_load, bound_recent, timed,
       has_duration, environment
FROM pr.log ORDER BY run_id;
SELECT w.watermark = l.current_run_timestamp AS same_bound, w.run_id = l.run_id AS same_run
FROM incetl.watermarks AS w
JOIN incetl.run_log AS l ON l.pipeline_name = w.pipeline_name
WHERE w.pipeline_name = 'pr_basic'
ORDER BY l.run_id DESC LIMIT 1;

-- incremental: two updates and one insert
UPDATE pr.src SET val = 'changed', updated_at = now() WHERE id IN (3, 4);
INSERT INTO pr.src VALUES (11, 'new', now());
SELECT incetl_run('pr_basic');
SELECT id, val FROM pr.dst WHERE id IN (3, 4, 11) ORDER BY id;
-- the second run starts where the first ended
SELECT a.current_run_timestamp = b.last_run_timestamp AS contiguous
FROM incetl.run_log AS a, incetl.run_log AS b
WHERE a.pipeline_name = 'pr_basic' AND b.pipeline_name = 'pr_basic' AND b.run_id = a.run_id + 1;

-- nothing new: NO_DATA, 0, nothing fails
SELECT incetl_run('pr_basic');
SELECT status, rd, processed FROM pr.log ORDER BY run_id DESC LIMIT 1;

-- full refresh: the target is emptied and reloaded in the same transaction
DELETE FROM pr.src WHERE id = 1;
SELECT incetl_run('pr_basic', full_refresh => true);
SELECT status, rd, ins, upd, del, full_refresh FROM pr.log ORDER BY run_id DESC LIMIT 1;
SELECT count(*), min(id), max(id) FROM pr.dst;

-- a paused pipeline logs SKIPPED and returns 0
SELECT incetl.pause_pipeline('pr_basic');
UPDATE pr.src SET val = 'while paused', updated_at = now() WHERE id = 2;
SELECT incetl_run('pr_basic');
SELECT status, error_message FROM pr.log ORDER BY run_id DESC LIMIT 1;
SELECT incetl.resume_pipeline('pr_basic');
SELECT incetl_run('pr_basic');
SELECT val FROM pr.dst WHERE id = 2;

-- reset to a watermark: backfill everything after it
SELECT incetl.reset_pipeline('pr_basic', '2026-01-01 00:05:00+00');
SELECT watermark FROM incetl.watermarks WHERE pipeline_name = 'pr_basic';
SELECT incetl_run('pr_basic');
SELECT status, rd, ins, upd, full_load FROM pr.log ORDER BY run_id DESC LIMIT 1;
-- reset without a watermark: the next run is a full load
SELECT incetl.reset_pipeline('pr_basic');
SELECT count(*) FROM incetl.watermarks WHERE pipeline_name = 'pr_basic';
SELECT incetl_run('pr_basic');
SELECT status, rd, full_load FROM pr.log ORDER BY run_id DESC LIMIT 1;
-- a watermark that is not a value of the column's type
SELECT incetl.reset_pipeline('pr_basic', 'yesterday-ish');
\echo :LAST_ERROR_SQLSTATE

-- max_batch_rows: each run takes at most that many rows (plus rows that tie
-- with the last one), successive runs drain the source exactly
CREATE TABLE pr.many (id int PRIMARY KEY, updated_at timestamptz NOT NULL);
INSERT INTO pr.many
SELECT g, '2026-01-01 00:00:00+00'::timestamptz + (g / 2) * interval '1 second'
FROM generate_series(1, 25) AS g;
SELECT incetl.create_pipeline('pr_batch', 'pr.many', 'updated_at', 'pr.many_dst', 'id',
                              max_batch_rows => 10);
SELECT incetl_run('pr_batch') AS run1, incetl_run('pr_batch') AS run2;
-- the watermark stops at the last row taken, not at the bound
SELECT watermark FROM incetl.watermarks WHERE pipeline_name = 'pr_batch';
SELECT incetl_run('pr_batch') AS run3, incetl_run('pr_batch') AS run4;
SELECT (SELECT count(*) FROM pr.many_dst) AS copied,
       (SELECT count(*) FROM (SELECT * FROM pr.many EXCEPT SELECT * FROM pr.many_dst) AS d) AS missing;
-- once drained, the watermark moves on to the bound
SELECT watermark::timestamptz > '2026-01-01 00:00:12+00' AS past_last_row
FROM incetl.watermarks WHERE pipeline_name = 'pr_batch';

-- an integer watermark (a change sequence)
CREATE SEQUENCE pr.change_seq;
CREATE TABLE pr.events (id int PRIMARY KEY, val text,
                        version bigint NOT NULL DEFAULT nextval('pr.change_seq'));
INSERT INTO pr.events (id, val) SELECT g, 'e' || g FROM generate_series(1, 5) AS g;
SELECT incetl.create_pipeline('pr_int', 'pr.events', 'version', 'pr.events_dst', 'id',
                              precombine => 'version');
SELECT incetl_run('pr_int');
SELECT watermark FROM incetl.watermarks WHERE pipeline_name = 'pr_int';
UPDATE pr.events SET val = 'e2 again', version = nextval('pr.change_seq') WHERE id = 2;
SELECT incetl_run('pr_int'), incetl_run('pr_int');
SELECT watermark FROM incetl.watermarks WHERE pipeline_name = 'pr_int';
SELECT * FROM pr.events_dst ORDER BY id;
-- the bound of an integer watermark is the largest committed value
SELECT incetl.safe_upper_bound('pr_int');

-- a date watermark only takes days that are over
CREATE TABLE pr.daily (day date PRIMARY KEY, total int);
INSERT INTO pr.daily VALUES (current_date - 2, 1), (current_date - 1, 2), (current_date, 3);
SELECT incetl.create_pipeline('pr_date', 'pr.daily', 'day', 'pr.daily_dst', 'day');
SELECT incetl_run('pr_date');
SELECT day - current_date AS days_ago, total FROM pr.daily_dst ORDER BY day;
SELECT watermark::date = current_date - 1 AS through_yesterday
FROM incetl.watermarks WHERE pipeline_name = 'pr_date';

-- settings apply to the run only; incetl.environment picks its own part
-- and is recorded on every run
CREATE TABLE pr.cfg_src (id int PRIMARY KEY, updated_at timestamptz NOT NULL);
INSERT INTO pr.cfg_src VALUES (1, '2026-01-01');
SELECT incetl.create_pipeline('pr_settings', 'pr.cfg_src', 'updated_at', 'pr.cfg_dst', 'id',
    transform => $$ SELECT id, updated_at, current_setting('work_mem') AS work_mem,
                           current_setting('statement_timeout') AS statement_timeout
                    FROM batch $$,
    settings  => '{"work_mem": "7MB", "statement_timeout": "60s",
                   "production": {"work_mem": "9MB"}}');
SELECT incetl_run('pr_settings');
SELECT work_mem, statement_timeout FROM pr.cfg_dst;
SHOW work_mem;
SHOW statement_timeout;
SET incetl.environment = 'production';
SELECT incetl_run('pr_settings', full_refresh => true);
SELECT work_mem, statement_timeout FROM pr.cfg_dst;
SELECT environment FROM pr.log ORDER BY run_id DESC LIMIT 1;
RESET incetl.environment;

-- clean up
SELECT incetl.drop_pipeline(name) FROM incetl.pipelines WHERE name LIKE 'pr_%' ORDER BY name;
DROP SCHEMA pr CASCADE;
