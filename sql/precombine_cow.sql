-- The scenarios of precombine.sql through incetl_cow targets, which
-- create_pipeline creates when missing: the access method does the upsert
-- with precombine itself, and must give the heap writer's results
-- (SPEC section 3 rules):
-- in-batch dedup (largest precombine wins, tie: the later row), against
-- stored rows (incoming wins when >=), NULL precombine lowest, delete
-- markers with the same ordering, latest write wins without precombine,
-- NULL record key refused with nothing written.
\set SHOW_CONTEXT never
CREATE SCHEMA pcbc;
-- an append-only change log: one key can appear many times in a batch
CREATE TABLE pcbc.changes (
    seq        bigserial PRIMARY KEY,
    id         int NOT NULL,
    val        text,
    version    int,
    is_deleted boolean NOT NULL DEFAULT false
);
SELECT incetl.create_pipeline('pcbc', 'pcbc.changes', 'seq', 'pcbc.dst', 'id',
    precombine    => 'version',
    delete_marker => 'is_deleted',
    transform     => 'SELECT id, val, version, is_deleted FROM batch ORDER BY seq');
\d pcbc.dst

-- batch 1: id 1 keeps its largest version; id 2 ties, the later row wins;
-- id 3: a NULL version loses to any version; id 4 has only a NULL version
INSERT INTO pcbc.changes (id, val, version) VALUES
    (1, 'one v1', 1), (1, 'one v3', 3), (1, 'one v2', 2),
    (2, 'two first', 5), (2, 'two second', 5),
    (3, 'three v1', 1), (3, 'three null', NULL),
    (4, 'four null', NULL);
SELECT incetl_run('pcbc');
SELECT * FROM pcbc.dst ORDER BY id;

-- batch 2, against the stored rows: older is dropped, equal replaces,
-- NULL loses to a stored version, NULL ties with a stored NULL and wins
INSERT INTO pcbc.changes (id, val, version) VALUES
    (1, 'one v2 late', 2),
    (2, 'two third', 5),
    (3, 'three null again', NULL),
    (4, 'four null again', NULL),
    (5, 'five', 1);
SELECT incetl_run('pcbc');
SELECT * FROM pcbc.dst ORDER BY id;
SELECT records_read, records_inserted, records_updated, records_deleted, records_processed
FROM incetl.run_log WHERE pipeline_name = 'pcbc' ORDER BY run_id DESC LIMIT 1;

-- batch 3, delete markers: an older delete is ignored, a newer one deletes,
-- a delete of an unknown key does nothing; in one batch, insert-then-delete
-- stores nothing and delete-then-insert stores the row
INSERT INTO pcbc.changes (id, val, version, is_deleted) VALUES
    (1, NULL, 2, true),
    (2, NULL, 6, true),
    (99, NULL, 1, true),
    (6, 'six', 1, false), (6, NULL, 2, true),
    (7, NULL, 1, true), (7, 'seven', 2, false);
SELECT incetl_run('pcbc');
SELECT * FROM pcbc.dst ORDER BY id;
SELECT records_read, records_inserted, records_updated, records_deleted, records_processed
FROM incetl.run_log WHERE pipeline_name = 'pcbc' ORDER BY run_id DESC LIMIT 1;

-- without an ORDER BY in the transform, a tie goes to the later change:
-- the larger watermark value (here seq), as in the change order
SELECT incetl.create_pipeline('pcbc_wm', 'pcbc.changes', 'seq', 'pcbc.wm_dst', 'id',
    precombine => 'version', delete_marker => 'is_deleted');
SELECT incetl.create_pipeline('pcbc_nostats', 'pcbc.changes', 'seq', 'pcbc.nostats_dst', 'id',
    precombine => 'version', delete_marker => 'is_deleted',
    transform => 'SELECT id, val, version, is_deleted FROM batch ORDER BY seq',
    settings => '{"track_counts": "off"}');
SELECT incetl_run('pcbc_wm') AS wm_rows, incetl_run('pcbc_nostats') AS nostats_rows;
SELECT id, val, version FROM pcbc.wm_dst ORDER BY id;
SELECT (SELECT count(*) FROM (SELECT id, val, version FROM pcbc.wm_dst
                              EXCEPT SELECT id, val, version FROM pcbc.dst) AS d) AS differs_from_ordered,
       (SELECT count(*) FROM (SELECT id, val, version FROM pcbc.nostats_dst
                              EXCEPT SELECT id, val, version FROM pcbc.dst) AS d) AS nostats_differs;
SELECT pipeline_name, records_read, records_inserted, records_updated, records_deleted
FROM incetl.run_log WHERE pipeline_name IN ('pcbc_wm', 'pcbc_nostats') ORDER BY pipeline_name;

-- without a precombine field the latest write wins, in the batch and
-- against stored rows
CREATE TABLE pcbc.plain_changes (seq bigserial PRIMARY KEY, id int NOT NULL, val text);
SELECT incetl.create_pipeline('pcbc_plain', 'pcbc.plain_changes', 'seq', 'pcbc.plain_dst', 'id',
    transform => 'SELECT id, val FROM batch ORDER BY seq');
INSERT INTO pcbc.plain_changes (id, val) VALUES (1, 'a'), (1, 'b'), (2, 'x');
SELECT incetl_run('pcbc_plain');
INSERT INTO pcbc.plain_changes (id, val) VALUES (1, 'c'), (2, 'y'), (2, 'z');
SELECT incetl_run('pcbc_plain');
SELECT * FROM pcbc.plain_dst ORDER BY id;

-- a NULL record key: the run fails naming the column, writes nothing,
-- and the watermark stays
CREATE TABLE pcbc.nk_src (seq bigserial PRIMARY KEY, id int, val text);
SELECT incetl.create_pipeline('pcbc_nullkey', 'pcbc.nk_src', 'seq', 'pcbc.nk_dst', 'id');
INSERT INTO pcbc.nk_src (id, val) VALUES (1, 'fine');
SELECT incetl_run('pcbc_nullkey');
INSERT INTO pcbc.nk_src (id, val) VALUES (2, 'fine too'), (NULL, 'no key');
SELECT incetl_run('pcbc_nullkey');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM pcbc.nk_dst ORDER BY id;
SELECT watermark FROM incetl.watermarks WHERE pipeline_name = 'pcbc_nullkey';
SELECT status, sqlstate, error_message FROM incetl.run_log
WHERE pipeline_name = 'pcbc_nullkey' ORDER BY run_id;

SELECT incetl.drop_pipeline(name) FROM incetl.pipelines WHERE name LIKE 'pcbc%' ORDER BY name;
DROP SCHEMA pcbc CASCADE;
