-- Failed runs and retries: the target and the watermark are untouched, a
-- FAILED row with message, SQLSTATE and context persists although the
-- caller's transaction rolls back, the caller gets the error, and
-- transient errors are retried up to max_retries, each attempt logged.
\set SHOW_CONTEXT never
CREATE SCHEMA rt;
CREATE TABLE rt.src (id int PRIMARY KEY, val int, updated_at timestamptz NOT NULL);
INSERT INTO rt.src SELECT g, g, '2026-01-01' FROM generate_series(1, 5) AS g;

-- a transform that fails with a chosen SQLSTATE while a sequence (which
-- rollback does not reset) is below a threshold
CREATE SEQUENCE rt.attempts;
CREATE TABLE rt.plan (failures int, code text);
CREATE FUNCTION rt.flaky(v int) RETURNS int LANGUAGE plpgsql AS $$
DECLARE
    p rt.plan;
BEGIN
    SELECT * INTO p FROM rt.plan;
    IF nextval('rt.attempts') <= p.failures THEN
        RAISE EXCEPTION 'flaky failure' USING ERRCODE = p.code;
    END IF;
    RETURN v;
END $$;
INSERT INTO rt.plan VALUES (0, '40001');

SELECT incetl.create_pipeline('rt_flaky', 'rt.src', 'updated_at', 'rt.dst', 'id',
    transform   => 'SELECT id, rt.flaky(val) AS val, updated_at FROM batch',
    max_retries => 3, retry_delay => '10 ms');

CREATE VIEW rt.log AS
SELECT run_id, status, attempt, sqlstate, error_message,
       error_context IS NOT NULL AND error_context <> '' AS has_context,
       records_processed
FROM incetl.run_log WHERE pipeline_name LIKE 'rt_%';

-- two serialization failures, then success on the third attempt
UPDATE rt.plan SET failures = 2, code = '40001';
SELECT incetl_run('rt_flaky');
SELECT status, attempt, sqlstate, error_message, has_context, records_processed
FROM rt.log ORDER BY run_id;
SELECT count(*) FROM rt.dst;

-- a deadlock and a lock timeout are transient too
TRUNCATE rt.dst;
SELECT incetl.reset_pipeline('rt_flaky');
SELECT setval('rt.attempts', 1, false);
UPDATE rt.plan SET failures = 1, code = '40P01';
SELECT incetl_run('rt_flaky');
SELECT setval('rt.attempts', 1, false);
UPDATE rt.plan SET failures = 1, code = '55P03';
SELECT incetl.reset_pipeline('rt_flaky');
SELECT incetl_run('rt_flaky');
SELECT status, attempt, sqlstate FROM rt.log ORDER BY run_id DESC LIMIT 4;

-- more transient failures than retries: every attempt is logged, the
-- caller gets the last error, target and watermark are untouched
SELECT incetl.alter_pipeline('rt_flaky', max_retries => 1);
SELECT watermark AS wm_before FROM incetl.watermarks WHERE pipeline_name = 'rt_flaky' \gset
UPDATE rt.src SET val = val + 100, updated_at = now();
SELECT setval('rt.attempts', 1, false);
UPDATE rt.plan SET failures = 5, code = '40001';
SELECT incetl_run('rt_flaky');
\echo :LAST_ERROR_SQLSTATE
SELECT status, attempt, sqlstate, error_message FROM rt.log ORDER BY run_id DESC LIMIT 2;
SELECT watermark = :'wm_before' AS watermark_untouched
FROM incetl.watermarks WHERE pipeline_name = 'rt_flaky';
SELECT max(val) FROM rt.dst;

-- a permanent error is not retried
SELECT setval('rt.attempts', 1, false);
UPDATE rt.plan SET failures = 1, code = '22012';
SELECT incetl.alter_pipeline('rt_flaky', max_retries => 3);
SELECT incetl_run('rt_flaky');
\echo :LAST_ERROR_SQLSTATE
SELECT status, attempt, sqlstate, error_message FROM rt.log ORDER BY run_id DESC LIMIT 1;

-- the FAILED rows survive the caller's rollback; a successful run inside
-- a rolled-back transaction leaves nothing
UPDATE rt.plan SET failures = 0;
SELECT count(*) AS rows_before FROM incetl.run_log WHERE pipeline_name = 'rt_flaky' \gset
BEGIN;
SELECT incetl_run('rt_flaky');
ROLLBACK;
SELECT count(*) = :rows_before AS nothing_logged FROM incetl.run_log WHERE pipeline_name = 'rt_flaky';
SELECT watermark = :'wm_before' AS watermark_untouched
FROM incetl.watermarks WHERE pipeline_name = 'rt_flaky';
SELECT max(val) FROM rt.dst;

-- the error of a failed run reaches the caller inside its transaction too
SELECT setval('rt.attempts', 1, false);
UPDATE rt.plan SET failures = 1, code = 'P0001';
BEGIN;
SELECT incetl_run('rt_flaky');
ROLLBACK;
SELECT status, sqlstate, error_message FROM rt.log ORDER BY run_id DESC LIMIT 1;

-- a run in a REPEATABLE READ transaction is refused: its snapshot could
-- miss rows below the bound
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT incetl_run('rt_flaky');
\echo :LAST_ERROR_SQLSTATE
ROLLBACK;

-- a source dropped after creation: a clear failure, logged
CREATE TABLE rt.gone (id int PRIMARY KEY, updated_at timestamptz NOT NULL);
SELECT incetl.create_pipeline('rt_gone', 'rt.gone', 'updated_at', 'rt.gone_dst', 'id');
DROP TABLE rt.gone;
SELECT incetl_run('rt_gone');
\echo :LAST_ERROR_SQLSTATE
SELECT status, sqlstate, error_message FROM rt.log ORDER BY run_id DESC LIMIT 1;

SELECT incetl.drop_pipeline(name) FROM incetl.pipelines WHERE name LIKE 'rt_%' ORDER BY name;
DROP SCHEMA rt CASCADE;
