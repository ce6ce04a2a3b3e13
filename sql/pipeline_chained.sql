-- Chained pipelines: a pipeline without a watermark column reads the change
-- feed of its incetl_cow source (incetl.net_changes) from the commit it
-- last took, and applies inserts, updates and deletes to its target, heap
-- or incetl_cow ("feed mode").
CREATE SCHEMA pch;
SET search_path = pch, public;
CREATE TABLE bronze (id int NOT NULL, region text, amount numeric,
                     _del boolean NOT NULL DEFAULT false) USING incetl_cow;
SELECT incetl.set_table_options('bronze', record_key => 'id', delete_marker => '_del');
INSERT INTO bronze VALUES (1, 'north', 10), (2, 'north', 20), (3, 'south', 5), (4, 'east', 1);

CREATE TABLE silver_heap (id int PRIMARY KEY, region text, amount numeric, _del boolean);
SELECT incetl.create_pipeline('pch_heap', 'pch.bronze', NULL, 'pch.silver_heap', 'id');
SELECT incetl.create_pipeline('pch_cow', 'pch.bronze', NULL, 'pch.silver_cow', 'id');
-- the created target has neither an _incetl_deleted column nor a delete marker
SELECT attname FROM pg_attribute
WHERE attrelid = 'silver_cow'::regclass AND attnum > 0 ORDER BY attnum;
SELECT record_key, delete_marker FROM incetl.table_options('silver_cow');
SELECT name, watermark_column, watermark_type FROM incetl.pipelines
WHERE name LIKE 'pch%' ORDER BY name;

-- silver equals bronze, row for row, both ways; and what the last run logged
CREATE FUNCTION check_silver() RETURNS TABLE (target text, missing bigint, extra bigint,
                                              rows bigint)
LANGUAGE sql AS $$
    SELECT 'heap', (SELECT count(*) FROM (SELECT id, region, amount FROM pch.bronze
                                          EXCEPT SELECT id, region, amount FROM pch.silver_heap) AS d),
           (SELECT count(*) FROM (SELECT id, region, amount FROM pch.silver_heap
                                  EXCEPT SELECT id, region, amount FROM pch.bronze) AS d),
           (SELECT count(*) FROM pch.silver_heap)
    UNION ALL
    SELECT 'cow', (SELECT count(*) FROM (SELECT id, region, amount FROM pch.bronze
                                         EXCEPT SELECT id, region, amount FROM pch.silver_cow) AS d),
           (SELECT count(*) FROM (SELECT id, region, amount FROM pch.silver_cow
                                  EXCEPT SELECT id, region, amount FROM pch.bronze) AS d),
           (SELECT count(*) FROM pch.silver_cow)
$$;
CREATE FUNCTION last_runs() RETURNS TABLE (pipeline_name text, status text, since text,
                                           upto text, read bigint, ins bigint, upd bigint,
                                           del bigint)
LANGUAGE sql AS $$
    SELECT DISTINCT ON (pipeline_name) pipeline_name, status, last_run_timestamp,
           current_run_timestamp, records_read, records_inserted, records_updated,
           records_deleted
    FROM incetl.run_log WHERE pipeline_name IN ('pch_heap', 'pch_cow')
    ORDER BY pipeline_name, run_id DESC
$$;

-- first run: every row of bronze as an insert
SELECT incetl_run('pch_heap'), incetl_run('pch_cow');
SELECT * FROM check_silver();
SELECT * FROM last_runs();
SELECT * FROM silver_cow ORDER BY id;

-- an UPDATE, a DELETE, a delete marker and an insert: 4 keys changed
UPDATE bronze SET amount = 25 WHERE id = 2;
DELETE FROM bronze WHERE id = 3;
INSERT INTO bronze VALUES (4, 'east', 1, true), (5, 'south', 50, false);
SELECT incetl_run('pch_heap'), incetl_run('pch_cow');
SELECT * FROM check_silver();
SELECT * FROM last_runs();
SELECT * FROM silver_heap ORDER BY id;
-- the incetl_cow target took the run as one commit
SELECT operation, rows_inserted, rows_updated, rows_deleted
FROM incetl.commits('silver_cow') ORDER BY commit_id DESC LIMIT 1;

-- nothing new: NO_DATA, the watermark stays
SELECT incetl_run('pch_heap');
SELECT status, last_run_timestamp = current_run_timestamp AS same_bound
FROM incetl.run_log WHERE pipeline_name = 'pch_heap' ORDER BY run_id DESC LIMIT 1;

-- a key change: the old key is deleted, the new one inserted
UPDATE bronze SET id = 6 WHERE id = 5;
SELECT incetl_run('pch_heap'), incetl_run('pch_cow');
SELECT * FROM check_silver();
SELECT * FROM last_runs();

-- TRUNCATE deletes every row downstream
TRUNCATE bronze;
SELECT incetl_run('pch_heap'), incetl_run('pch_cow');
SELECT * FROM check_silver();
SELECT * FROM last_runs();
INSERT INTO bronze VALUES (1, 'north', 10), (2, 'north', 20), (3, 'south', 5), (4, 'east', 1);
SELECT incetl_run('pch_heap'), incetl_run('pch_cow');
SELECT * FROM check_silver();

-- a filter is a delete: rows whose amount turns negative leave the target
CREATE TABLE positive (id int PRIMARY KEY, region text, amount numeric);
SELECT incetl.create_pipeline('pch_filter', 'pch.bronze', NULL, 'pch.positive', 'id',
    transform => $$ SELECT id, region, amount, _incetl_deleted OR amount < 0 AS _incetl_deleted
                    FROM batch $$);
SELECT incetl_run('pch_filter');
UPDATE bronze SET amount = -1 WHERE id = 4;
SELECT incetl_run('pch_filter');
SELECT * FROM positive ORDER BY id;
SELECT records_read, records_inserted, records_updated, records_deleted
FROM incetl.run_log WHERE pipeline_name = 'pch_filter' ORDER BY run_id DESC LIMIT 1;
UPDATE bronze SET amount = 1 WHERE id = 4;
SELECT incetl_run('pch_filter');
SELECT * FROM positive ORDER BY id;

-- gold: an aggregate of silver rebuilt for the regions silver's changes
-- touched, batch_before giving the regions rows left
CREATE TABLE gold (region text PRIMARY KEY, orders bigint, revenue numeric);
SELECT incetl.create_pipeline('pch_gold', 'pch.silver_cow', NULL, 'pch.gold', 'region',
    transform => $$ SELECT g.region, count(s.id) AS orders, coalesce(sum(s.amount), 0) AS revenue,
                           count(s.id) = 0 AS _incetl_deleted
                    FROM (SELECT region FROM batch UNION SELECT region FROM batch_before) AS g
                    LEFT JOIN pch.silver_cow AS s USING (region) GROUP BY g.region $$);
SELECT incetl_run('pch_gold');
SELECT * FROM gold ORDER BY region;
-- delete a row: its region's totals change (key 4, updated and updated back
-- since pch_cow last ran, comes along as an update: 2 rows)
DELETE FROM bronze WHERE id = 1;
SELECT incetl_run('pch_cow'), incetl_run('pch_gold');
SELECT * FROM gold ORDER BY region;
-- delete the last row of a region: the region disappears; move a row to
-- another region: both change
DELETE FROM bronze WHERE id = 3;
UPDATE bronze SET region = 'east' WHERE id = 2;
SELECT incetl_run('pch_cow'), incetl_run('pch_gold');
SELECT * FROM gold ORDER BY region;
SELECT region, count(*), sum(amount) FROM silver_cow GROUP BY region ORDER BY region;

-- max_batch_rows bounds a run by whole commits (rows inserted + updated +
-- deleted as incetl.commits counts them); a larger commit is taken whole
CREATE TABLE ledger (id int NOT NULL, v int) USING incetl_cow;
SELECT incetl.set_table_options('ledger', record_key => 'id');
CREATE TABLE ledger_copy (id int PRIMARY KEY, v int);
SELECT incetl.create_pipeline('pch_batch', 'pch.ledger', NULL, 'pch.ledger_copy', 'id',
                              max_batch_rows => 3);
INSERT INTO ledger SELECT g, 0 FROM generate_series(1, 2) AS g;
INSERT INTO ledger SELECT g, 0 FROM generate_series(3, 4) AS g;
INSERT INTO ledger SELECT g, 0 FROM generate_series(5, 9) AS g;
INSERT INTO ledger VALUES (10, 0);
DELETE FROM ledger WHERE id IN (1, 2);
SELECT commit_id, rows_inserted + rows_updated + rows_deleted AS changed
FROM incetl.commits('ledger') ORDER BY commit_id;
SELECT incetl_run('pch_batch') FROM generate_series(1, 5);
SELECT last_run_timestamp AS since, current_run_timestamp AS upto, records_read, status
FROM incetl.run_log WHERE pipeline_name = 'pch_batch' ORDER BY run_id;
SELECT count(*), min(id), max(id) FROM ledger_copy;

-- a watermark beyond the source's newest commit: its timeline restarted
-- (dumped and restored): the target is emptied and reloaded
INSERT INTO silver_heap VALUES (99, 'stale', 0, false);
SELECT incetl.reset_pipeline('pch_heap', '1000');
SELECT incetl_run('pch_heap');
SELECT * FROM check_silver() WHERE target = 'heap';
SELECT full_refresh, note FROM incetl.run_log WHERE pipeline_name = 'pch_heap'
ORDER BY run_id DESC LIMIT 1;

-- history gone: VACUUM FULL keeps the timeline but not the versions of
-- earlier commits, so the feed from the watermark cannot be read: the run
-- fails (55000, a FAILED row), and a full refresh recovers
INSERT INTO bronze VALUES (7, 'west', 7);
INSERT INTO bronze VALUES (8, 'west', 8);
SELECT incetl.latest_commit('bronze') AS newest,
       (SELECT watermark_commit FROM incetl.watermarks WHERE pipeline_name = 'pch_heap') AS watermark;
VACUUM FULL bronze;
SELECT incetl_run('pch_heap');
SELECT status, sqlstate, error_message FROM incetl.run_log WHERE pipeline_name = 'pch_heap'
ORDER BY run_id DESC LIMIT 1;
SELECT incetl_run('pch_heap', full_refresh => true);
SELECT * FROM check_silver() WHERE target = 'heap';

-- validation: a source that is not incetl_cow needs a watermark column
CREATE TABLE plain (id int PRIMARY KEY, v int);
SELECT incetl.create_pipeline('pch_bad', 'pch.plain', NULL, 'pch.plain_copy', 'id');
-- a transform must return the delete marker
SELECT incetl.create_pipeline('pch_bad', 'pch.bronze', NULL, 'pch.silver_heap', 'id',
    transform => 'SELECT id, region, amount FROM batch');
-- which must be boolean
SELECT incetl.create_pipeline('pch_bad', 'pch.bronze', NULL, 'pch.silver_heap', 'id',
    transform => 'SELECT id, region, amount, 1 AS _incetl_deleted FROM batch');
-- safety_lag needs a time watermark
SELECT incetl.create_pipeline('pch_bad', 'pch.bronze', NULL, 'pch.silver_heap', 'id',
    safety_lag => '1 minute');

-- alter_pipeline(watermark_column => ''): a pipeline reading incetl.changes()
-- (no deletes) switches to the feed; its commit watermark carries over
CREATE TABLE old_style (id int PRIMARY KEY, region text, amount numeric, _del boolean);
SELECT incetl.create_pipeline('pch_switch', 'pch.bronze', 'id', 'pch.old_style', 'id');
SELECT incetl_run('pch_switch');
DELETE FROM bronze WHERE id = 7;
SELECT incetl_run('pch_switch');
SELECT count(*) FILTER (WHERE id = 7) AS deleted_row_kept FROM old_style;
SELECT incetl.alter_pipeline('pch_switch', watermark_column => '');
SELECT watermark_column, watermark_type FROM incetl.pipelines WHERE name = 'pch_switch';
SELECT watermark_commit = incetl.latest_commit('bronze') AS watermark_kept
FROM incetl.watermarks WHERE pipeline_name = 'pch_switch';
DELETE FROM bronze WHERE id = 8;
SELECT incetl_run('pch_switch');
SELECT id FROM old_style WHERE id IN (7, 8) ORDER BY id;
-- and back: alter_pipeline with a watermark column again
SELECT incetl.alter_pipeline('pch_switch', watermark_column => 'id');
SELECT watermark_column, watermark_type FROM incetl.pipelines WHERE name = 'pch_switch';

-- the run reads the feed as the pipeline owner: without SELECT on bronze, 42501
CREATE ROLE regress_chained_owner;
GRANT USAGE ON SCHEMA pch TO regress_chained_owner;
GRANT SELECT ON bronze TO regress_chained_owner;
CREATE TABLE owned_copy (id int PRIMARY KEY, region text, amount numeric, _del boolean);
ALTER TABLE owned_copy OWNER TO regress_chained_owner;
SET ROLE regress_chained_owner;
SELECT incetl.create_pipeline('pch_owned', 'pch.bronze', NULL, 'pch.owned_copy', 'id');
SELECT incetl_run('pch_owned');
RESET ROLE;
REVOKE SELECT ON bronze FROM regress_chained_owner;
INSERT INTO bronze VALUES (9, 'west', 9);
SELECT incetl_run('pch_owned');
SELECT status, sqlstate FROM incetl.run_log WHERE pipeline_name = 'pch_owned'
ORDER BY run_id DESC LIMIT 1;

SELECT incetl.drop_pipeline(name) FROM incetl.pipelines WHERE name LIKE 'pch%' ORDER BY name;
DROP SCHEMA pch CASCADE;
DROP ROLE regress_chained_owner;
