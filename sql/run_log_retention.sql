-- incetl.run_log retention: every run deletes the oldest rows of its own
-- pipeline that are older than incetl.run_log_retention (at most a
-- hundred per run, so a run's cost does not grow with the log), failed
-- runs too; incetl.purge_run_log() deletes every such row, of dropped
-- pipelines too, and is for the extension's owner.
\set SHOW_CONTEXT never
CREATE TABLE rl_src (id int PRIMARY KEY, updated_at timestamptz NOT NULL);
SELECT incetl.create_pipeline('rl_p', 'rl_src', 'updated_at', 'rl_dst', 'id');
SHOW incetl.run_log_retention;

-- 150 runs of 200 days ago, 5 of yesterday, and 30 old runs of a pipeline
-- dropped since
INSERT INTO incetl.run_log (pipeline_name, started_at, finished_at, status)
SELECT 'rl_p', now() - interval '200 days' + g * interval '1 minute',
       now() - interval '200 days' + g * interval '1 minute', 'SUCCESS'
FROM generate_series(1, 150) AS g;
INSERT INTO incetl.run_log (pipeline_name, started_at, finished_at, status)
SELECT 'rl_p', now() - interval '1 day', now() - interval '1 day', 'SUCCESS'
FROM generate_series(1, 5);
INSERT INTO incetl.run_log (pipeline_name, started_at, finished_at, status)
SELECT 'rl_gone', now() - interval '200 days', now() - interval '200 days', 'SUCCESS'
FROM generate_series(1, 30);

CREATE VIEW rl_counts AS
SELECT pipeline_name,
       count(*) FILTER (WHERE started_at < now() - interval '90 days') AS old,
       count(*) AS all_rows
FROM incetl.run_log WHERE pipeline_name IN ('rl_p', 'rl_gone')
GROUP BY 1 ORDER BY 1;

-- each run trims a hundred old rows of its own pipeline (the second, a
-- NO_DATA run like the first, extends the first's row instead of adding
-- one: sql/pipeline_nodata.sql)
SELECT incetl_run('rl_p');
SELECT * FROM rl_counts;
SELECT incetl_run('rl_p');
SELECT * FROM rl_counts;

-- a failed run, whose row a background worker writes, trims as well
INSERT INTO incetl.run_log (pipeline_name, started_at, finished_at, status)
SELECT 'rl_p', now() - interval '100 days', now() - interval '100 days', 'SUCCESS'
FROM generate_series(1, 20);
SELECT incetl.alter_pipeline('rl_p',
    transform => 'SELECT 1 / (id - 1) AS id, updated_at FROM batch');
INSERT INTO rl_src VALUES (1, now());
SELECT incetl_run('rl_p');
SELECT status, sqlstate FROM incetl.run_log WHERE pipeline_name = 'rl_p'
ORDER BY run_id DESC LIMIT 1;
SELECT * FROM rl_counts;

-- retention off: nothing is trimmed
SET incetl.run_log_retention = -1;
INSERT INTO incetl.run_log (pipeline_name, started_at, finished_at, status)
SELECT 'rl_p', now() - interval '100 days', now() - interval '100 days', 'SUCCESS'
FROM generate_series(1, 3);
SELECT incetl.alter_pipeline('rl_p', transform => '');
SELECT incetl_run('rl_p');
SELECT * FROM rl_counts;
SELECT incetl.purge_run_log();

-- a shorter retention
SET incetl.run_log_retention = '7d';
SELECT incetl_run('rl_p');
SELECT count(*) FILTER (WHERE started_at < now() - interval '7 days') AS older_than_7d
FROM incetl.run_log WHERE pipeline_name = 'rl_p';
RESET incetl.run_log_retention;

-- purge_run_log: everything older than the retention, every pipeline
SELECT incetl.purge_run_log();
SELECT * FROM rl_counts;
-- or than a given age
SELECT incetl.purge_run_log('12 hours') > 0 AS purged;
SELECT count(*) FROM incetl.run_log WHERE pipeline_name = 'rl_p'
  AND started_at < now() - interval '12 hours';

-- not for everybody
CREATE ROLE regress_rl_user;
SET ROLE regress_rl_user;
SELECT incetl.purge_run_log();
\echo :LAST_ERROR_SQLSTATE
SET incetl.run_log_retention = '1min';
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
GRANT EXECUTE ON FUNCTION incetl.purge_run_log(interval) TO regress_rl_user;
SET ROLE regress_rl_user;
SELECT incetl.purge_run_log('1 second');
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
SELECT count(*) > 0 AS log_kept FROM incetl.run_log WHERE pipeline_name = 'rl_p';

REVOKE EXECUTE ON FUNCTION incetl.purge_run_log(interval) FROM regress_rl_user;
DROP ROLE regress_rl_user;
DROP VIEW rl_counts;
SELECT incetl.drop_pipeline('rl_p');
DROP TABLE rl_src, rl_dst;
