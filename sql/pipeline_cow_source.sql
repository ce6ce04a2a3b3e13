-- A pipeline whose source is an incetl_cow table reads it incrementally
-- with incetl.changes(), the commit id as its watermark
-- (incetl.watermarks.watermark_commit): exact, with no safety lag.
CREATE SCHEMA pcs;
CREATE TABLE pcs.events (id int, val text, updated_at timestamptz) USING incetl_cow;
SELECT incetl.set_table_options('pcs.events', record_key => 'id', precombine => 'updated_at');
INSERT INTO pcs.events SELECT g, 'v' || g, '2026-01-01' FROM generate_series(1, 5) AS g;

CREATE TABLE pcs.dst (id int PRIMARY KEY, val text, updated_at timestamptz);
SELECT incetl.create_pipeline('pcs', 'pcs.events', 'updated_at', 'pcs.dst', 'id',
                              precombine => 'updated_at');

-- full load: every row, up to the newest commit
SELECT incetl_run('pcs');
SELECT * FROM pcs.dst ORDER BY id;
SELECT watermark, watermark_commit = incetl.latest_commit('pcs.events') AS at_latest
FROM incetl.watermarks WHERE pipeline_name = 'pcs';

-- two commits: an upsert of two rows and an insert; only they are read
INSERT INTO pcs.events VALUES (2, 'v2 new', '2026-01-02'), (3, 'v3 new', '2026-01-02');
INSERT INTO pcs.events VALUES (6, 'v6', '2026-01-02');
-- an older version of row 4 changes nothing in the source: no commit
INSERT INTO pcs.events VALUES (4, 'v4 stale', '2025-12-31');
SELECT incetl_run('pcs');
SELECT * FROM pcs.dst ORDER BY id;
SELECT status, records_read, records_inserted, records_updated,
       current_run_timestamp::bigint - last_run_timestamp::bigint AS commits_read
FROM incetl.run_log WHERE pipeline_name = 'pcs' ORDER BY run_id DESC LIMIT 1;

-- nothing new
SELECT incetl_run('pcs');
SELECT status FROM incetl.run_log WHERE pipeline_name = 'pcs' ORDER BY run_id DESC LIMIT 1;
SELECT incetl.safe_upper_bound('pcs')::bigint = incetl.latest_commit('pcs.events') AS bound_is_latest;
SELECT watermark LIKE 'commit %' AS shows_commit FROM incetl.pipeline_status WHERE pipeline_name = 'pcs';

-- reset to a commit id: the rows written after it are read again
SELECT incetl.reset_pipeline('pcs', (incetl.latest_commit('pcs.events') - 1)::text);
SELECT incetl_run('pcs');
SELECT records_read FROM incetl.run_log WHERE pipeline_name = 'pcs' ORDER BY run_id DESC LIMIT 1;
-- a watermark past the source's newest commit means its timeline started
-- over (a restored or recreated table): the run reads it in full
SELECT incetl.reset_pipeline('pcs', '1000000');
SELECT incetl_run('pcs');
SELECT records_read, note FROM incetl.run_log WHERE pipeline_name = 'pcs' ORDER BY run_id DESC LIMIT 1;
SELECT incetl.reset_pipeline('pcs', 'not a commit');
\echo :LAST_ERROR_SQLSTATE

-- into an incetl_cow target too (created by create_pipeline)
SELECT incetl.create_pipeline('pcs_cow', 'pcs.events', 'updated_at', 'pcs.dst_cow', 'id',
                              precombine => 'updated_at');
SELECT incetl_run('pcs_cow');
SELECT (SELECT count(*) FROM (SELECT * FROM pcs.events EXCEPT SELECT * FROM pcs.dst_cow) AS d) AS missing,
       (SELECT count(*) FROM pcs.dst_cow) AS copied;
SELECT commit_id = incetl.latest_commit('pcs.dst_cow') AS logged_target_commit
FROM incetl.run_log WHERE pipeline_name = 'pcs_cow' ORDER BY run_id DESC LIMIT 1;

SELECT incetl.drop_pipeline(name) FROM incetl.pipelines WHERE name LIKE 'pcs%' ORDER BY name;
DROP SCHEMA pcs CASCADE;
