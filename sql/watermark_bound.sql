-- The upper bound of an integer watermark is max(column) over the source,
-- under a first snapshot (watermark.c).  An empty run reads it through the
-- last entry of a btree on the column (IndexedMax), as the planner's
-- min/max plan would, without planning a statement; wherever that could
-- read something else than the statement, the statement runs.  Either way
-- the rows, the watermark and the run_log row are the statement's.  The
-- same session also sees what an empty run remembers for the backend
-- change under it: the catalogs' version, their OIDs and run_log's
-- columns and triggers.
\set SHOW_CONTEXT never
CREATE SCHEMA wb;
CREATE TABLE wb.src (id int PRIMARY KEY, val text, seq bigint);
CREATE INDEX src_seq ON wb.src (seq);
-- rows without a value sort last in the index, where a backward scan
-- starts: they are no bound
INSERT INTO wb.src VALUES (1, 'a', 1), (2, 'b', 2), (3, 'c', 3), (4, 'n', NULL), (5, 'm', NULL);
SELECT incetl.create_pipeline('wb_p', 'wb.src', 'seq', 'wb.dst', 'id');
CREATE VIEW wb.state AS
SELECT (SELECT watermark FROM incetl.watermarks WHERE pipeline_name = 'wb_p') AS watermark,
       (SELECT string_agg(id || ':' || val, ' ' ORDER BY id) FROM wb.dst) AS target;
SELECT incetl_run('wb_p');
SELECT * FROM wb.state;

-- the bound read through the index: the one index scan of the source
-- in the run's transaction, with the planner's index scans off
-- (the statement would read the table)
BEGIN;
SET LOCAL enable_indexscan = off;
SET LOCAL enable_bitmapscan = off;
SET LOCAL enable_indexonlyscan = off;
INSERT INTO wb.src VALUES (6, 'd', 6);
SELECT idx_scan AS scans FROM pg_stat_xact_user_tables WHERE relid = 'wb.src'::regclass \gset
SELECT incetl_run('wb_p');
SELECT idx_scan - :scans AS index_scans FROM pg_stat_xact_user_tables WHERE relid = 'wb.src'::regclass;
COMMIT;
SELECT * FROM wb.state;

-- an empty run: the same, nothing read
BEGIN;
SET LOCAL enable_indexscan = off;
SET LOCAL enable_bitmapscan = off;
SELECT idx_scan AS scans FROM pg_stat_xact_user_tables WHERE relid = 'wb.src'::regclass \gset
SELECT incetl_run('wb_p');
SELECT idx_scan - :scans AS index_scans FROM pg_stat_xact_user_tables WHERE relid = 'wb.src'::regclass;
COMMIT;

-- the last entries' rows deleted, or not yet committed: no bound
INSERT INTO wb.src VALUES (7, 'e', 7), (8, 'f', 8);
DELETE FROM wb.src WHERE id = 8;
BEGIN;
INSERT INTO wb.src VALUES (9, 'rolled back', 9);
ROLLBACK;
SELECT incetl_run('wb_p');
SELECT * FROM wb.state;

-- an index the min/max plan would not use: descending, partial, on an
-- expression, or another column first.  The statement runs.
DROP INDEX wb.src_seq;
CREATE INDEX src_seq_desc ON wb.src (seq DESC);
CREATE INDEX src_seq_partial ON wb.src (seq) WHERE seq > 100;
CREATE INDEX src_seq_expr ON wb.src ((seq + 0));
CREATE INDEX src_val_seq ON wb.src (val, seq);
INSERT INTO wb.src VALUES (10, 'g', 10), (11, 'h', NULL), (14, 'j', 11);
SELECT incetl_run('wb_p');
SELECT * FROM wb.state;
DROP INDEX wb.src_seq_desc, wb.src_seq_partial, wb.src_seq_expr, wb.src_val_seq;
-- no index at all
INSERT INTO wb.src VALUES (12, 'i', 12);
SELECT incetl_run('wb_p');
SELECT * FROM wb.state;
CREATE INDEX src_seq ON wb.src (seq);

-- inheritance children: the statement reads them too, so it runs
CREATE TABLE wb.src_child () INHERITS (wb.src);
INSERT INTO wb.src_child VALUES (13, 'child', 13);
SELECT incetl_run('wb_p');
SELECT * FROM wb.state;
DROP TABLE wb.src_child;

-- Row-level security: a pipeline owned by a role the source's policy
-- hides rows from reads no bound from them (the index would give the
-- largest value of all; the statement, under the policy, the largest the
-- owner may see).  Neither the watermark nor the log shows the hidden one.
CREATE ROLE regress_wb_owner;
CREATE SCHEMA wb_owned AUTHORIZATION regress_wb_owner;
CREATE TABLE wb.secret (id int PRIMARY KEY, val text, seq bigint);
CREATE INDEX secret_seq ON wb.secret (seq);
INSERT INTO wb.secret VALUES (1, 'open', 10), (2, 'open', 20), (3, 'hidden', 1000);
ALTER TABLE wb.secret ENABLE ROW LEVEL SECURITY;
CREATE POLICY open_rows ON wb.secret FOR SELECT USING (val = 'open');
GRANT USAGE ON SCHEMA wb TO regress_wb_owner;
GRANT SELECT ON wb.secret TO regress_wb_owner;
SET ROLE regress_wb_owner;
SELECT incetl.create_pipeline('wb_rls', 'wb.secret', 'seq', 'wb_owned.dst', 'id');
SELECT incetl_run('wb_rls');
SELECT watermark FROM incetl.watermarks WHERE pipeline_name = 'wb_rls';
SELECT status, current_run_timestamp, records_read FROM incetl.run_log
WHERE pipeline_name = 'wb_rls' ORDER BY run_id;
SELECT id, val FROM wb_owned.dst ORDER BY id;
RESET ROLE;
-- without SELECT on the source, the statement's error, as before
REVOKE SELECT ON wb.secret FROM regress_wb_owner;
INSERT INTO wb.secret VALUES (4, 'open', 30);
SELECT incetl_run('wb_rls');
GRANT SELECT (seq) ON wb.secret TO regress_wb_owner;
SELECT incetl_run('wb_rls');
SELECT status, current_run_timestamp, error_message FROM incetl.run_log
WHERE pipeline_name = 'wb_rls' ORDER BY run_id;
SELECT incetl.drop_pipeline('wb_rls');
DROP TABLE wb_owned.dst;
DROP SCHEMA wb_owned;
REVOKE ALL ON wb.secret FROM regress_wb_owner;
REVOKE ALL ON SCHEMA wb FROM regress_wb_owner;
DROP ROLE regress_wb_owner;

-- An empty run remembers, for the backend, the row of pg_extension whose
-- version matched the library's.  A change of that row in the same
-- session is seen by the next run.
SELECT incetl_run('wb_p');
UPDATE pg_extension SET extversion = '0.4' WHERE extname = 'incetl';
\set VERBOSITY sqlstate
SELECT incetl_run('wb_p');
\set VERBOSITY default
SELECT incetl_run('wb_p');
UPDATE pg_extension SET extversion = (SELECT default_version FROM pg_available_extensions
                                      WHERE name = 'incetl')
WHERE extname = 'incetl';
SELECT incetl_run('wb_p');
VACUUM FULL pg_extension;
SELECT incetl_run('wb_p');

-- run_log's columns and whether its streak row can be updated directly
-- are remembered too: a trigger added in the same session fires
CREATE TABLE wb.audit (status text, note text);
CREATE FUNCTION wb.audit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO wb.audit VALUES (NEW.status, regexp_replace(NEW.note, 'started at .*', 'started at ...'));
    RETURN NEW;
END $$;
CREATE TRIGGER wb_audit AFTER UPDATE ON incetl.run_log
    FOR EACH ROW EXECUTE FUNCTION wb.audit();
SELECT incetl_run('wb_p');
DROP TRIGGER wb_audit ON incetl.run_log;
SELECT incetl_run('wb_p');
SELECT * FROM wb.audit;
SELECT status, current_run_timestamp, regexp_replace(note, 'started at .*', 'started at ...') AS note
FROM incetl.run_log WHERE pipeline_name = 'wb_p' ORDER BY run_id;

SELECT incetl.drop_pipeline('wb_p');
DROP SCHEMA wb CASCADE;

-- The catalogs' OIDs are remembered by name: dropped and made again in
-- the same session, the next run finds the new ones.  In a database of
-- its own: the extension is dropped here.
SELECT current_database() AS regress_db \gset
CREATE DATABASE incetl_wb_recreate;
\c incetl_wb_recreate
CREATE EXTENSION incetl;
CREATE TABLE src (id int PRIMARY KEY, seq bigint);
CREATE INDEX ON src (seq);
INSERT INTO src VALUES (1, 1);
SELECT incetl.create_pipeline('p', 'src', 'seq', 'dst', 'id');
SELECT incetl_run('p'), incetl_run('p'), incetl_run('p');
DROP EXTENSION incetl CASCADE;
CREATE EXTENSION incetl;
SELECT incetl.create_pipeline('p', 'src', 'seq', 'dst', 'id');
SELECT incetl_run('p'), incetl_run('p'), incetl_run('p');
SELECT status, current_run_timestamp, regexp_replace(note, 'started at .*', 'started at ...') AS note
FROM incetl.run_log ORDER BY run_id;
\c :regress_db
DROP DATABASE incetl_wb_recreate;
