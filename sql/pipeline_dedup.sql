-- The in-batch dedup is skipped when the batch cannot hold two rows of one
-- record key (src/pipeline/batch_keys.c): a unique index of the source on
-- exactly the key columns and no transform that could repeat a key.  A
-- DEBUG1 message of the run says so; every other case keeps the dedup
-- and stays exact.  records_read comes from the write when it can.
CREATE SCHEMA pd;
CREATE SEQUENCE pd.seq;
CREATE TABLE pd.src (id int PRIMARY KEY, grp int NOT NULL, val text,
                     version bigint NOT NULL DEFAULT nextval('pd.seq'));
INSERT INTO pd.src (id, grp, val) SELECT g, g % 3, 'v' || g FROM generate_series(1, 6) AS g;
CREATE TABLE pd.lines (grp int, line int);
INSERT INTO pd.lines VALUES (0, 1), (0, 2), (1, 1);
CREATE TABLE pd.dst (id int PRIMARY KEY, grp int, val text, version bigint);
CREATE TABLE pd.dst2 (LIKE pd.dst INCLUDING ALL);
CREATE TABLE pd.dst3 (LIKE pd.dst INCLUDING ALL);
CREATE TABLE pd.dst4 (LIKE pd.dst INCLUDING ALL);

SELECT incetl.create_pipeline('pd_plain', 'pd.src', 'version', 'pd.dst', 'id');
-- a pass-through transform: filter, renamed and computed other columns
SELECT incetl.create_pipeline('pd_pass', 'pd.src', 'version', 'pd.dst2', 'id',
    transform => 'SELECT b.id, b.grp + 0 AS grp, upper(b.val) AS val, b.version
                  FROM batch AS b WHERE b.id <> 6 ORDER BY b.id');
-- a join that repeats keys: dedup kept, the larger precombine wins
SELECT incetl.create_pipeline('pd_join', 'pd.src', 'version', 'pd.dst3', 'id',
    precombine => 'version',
    transform => 'SELECT b.id, b.grp, b.val || ''#'' || l.line AS val, b.version + l.line AS version
                  FROM batch AS b JOIN pd.lines AS l USING (grp)');
-- a set-returning function in the target list repeats keys too
SELECT incetl.create_pipeline('pd_srf', 'pd.src', 'version', 'pd.dst4', 'id',
    transform => 'SELECT id, grp, val || generate_series(1, 2) AS val, version FROM batch');

SET client_min_messages = debug1;
SELECT incetl_run('pd_plain');
SELECT incetl_run('pd_pass');
SELECT incetl_run('pd_join');
SELECT incetl_run('pd_srf');
RESET client_min_messages;
SELECT * FROM pd.dst ORDER BY id;
SELECT * FROM pd.dst2 ORDER BY id;
-- ids 1, 3, 4, 6 join 1 or 2 lines: the row of the larger line wins
SELECT * FROM pd.dst3 ORDER BY id;
SELECT * FROM pd.dst4 ORDER BY id;
SELECT pipeline_name, status, records_read, records_inserted, records_updated
FROM incetl.run_log WHERE pipeline_name LIKE 'pd%' ORDER BY run_id;

-- an incremental run: updates and a new key
UPDATE pd.src SET val = val || '+', version = nextval('pd.seq') WHERE id IN (2, 3);
INSERT INTO pd.src (id, grp, val) VALUES (7, 1, 'v7');
SET client_min_messages = debug1;
SELECT incetl_run('pd_plain'), incetl_run('pd_join');
RESET client_min_messages;
SELECT * FROM pd.dst ORDER BY id;
SELECT * FROM pd.dst3 ORDER BY id;
SELECT pipeline_name, status, records_read, records_inserted, records_updated
FROM incetl.run_log WHERE pipeline_name IN ('pd_plain', 'pd_join')
ORDER BY run_id DESC LIMIT 2;

-- transforms that keep the dedup (no DEBUG message): a cast of the key,
-- a union, a grouping, a key taken twice, a second relation in FROM
CREATE TABLE pd.dst5 (LIKE pd.dst INCLUDING ALL);
SELECT incetl.create_pipeline('pd_t1', 'pd.src', 'version', 'pd.dst5', 'id',
    transform => 'SELECT (id::bigint)::int AS id, grp, val, version FROM batch');
SELECT incetl.create_pipeline('pd_t2', 'pd.src', 'version', 'pd.dst5', 'id',
    transform => 'SELECT id, grp, val, version FROM batch UNION ALL SELECT id, grp, val, version FROM batch');
SELECT incetl.create_pipeline('pd_t3', 'pd.src', 'version', 'pd.dst5', 'id',
    transform => 'SELECT id, min(grp) AS grp, min(val) AS val, max(version) AS version FROM batch GROUP BY id');
SELECT incetl.create_pipeline('pd_t4', 'pd.src', 'version', 'pd.dst5', 'id',
    transform => 'SELECT grp AS id, id AS grp, val, version FROM batch');
SELECT incetl.create_pipeline('pd_t5', 'pd.src', 'version', 'pd.dst5', 'id',
    transform => 'SELECT b.id, b.grp, b.val, b.version FROM batch AS b, (VALUES (1), (2)) AS v(x)');
SET client_min_messages = debug1;
SELECT incetl_run('pd_t1');
SELECT incetl_run('pd_t2');
SELECT incetl_run('pd_t3');
SELECT incetl_run('pd_t4');
SELECT incetl_run('pd_t5');
RESET client_min_messages;
SELECT count(*), count(DISTINCT id) FROM pd.dst5;

-- a source whose key index is not unique enough: deferrable, partial,
-- or on more columns than the key; and a source with an inheritance child
CREATE TABLE pd.s_def (id int, val text, version bigint NOT NULL);
ALTER TABLE pd.s_def ADD UNIQUE (id) DEFERRABLE;
CREATE TABLE pd.s_part (id int, val text, version bigint NOT NULL);
CREATE UNIQUE INDEX ON pd.s_part (id) WHERE id > 0;
CREATE TABLE pd.s_wide (id int, val text, version bigint NOT NULL);
CREATE UNIQUE INDEX ON pd.s_wide (id, val);
CREATE TABLE pd.s_parent (id int PRIMARY KEY, val text, version bigint NOT NULL);
CREATE TABLE pd.s_child () INHERITS (pd.s_parent);
INSERT INTO pd.s_wide VALUES (1, 'a', 1), (1, 'b', 2);
INSERT INTO pd.s_parent VALUES (1, 'parent', 1);
INSERT INTO pd.s_child VALUES (1, 'child', 2);
CREATE TABLE pd.d_def (id int PRIMARY KEY, val text, version bigint);
CREATE TABLE pd.d_part (LIKE pd.d_def INCLUDING ALL);
CREATE TABLE pd.d_wide (LIKE pd.d_def INCLUDING ALL);
CREATE TABLE pd.d_parent (LIKE pd.d_def INCLUDING ALL);
SELECT incetl.create_pipeline('pd_def', 'pd.s_def', 'version', 'pd.d_def', 'id');
SELECT incetl.create_pipeline('pd_part', 'pd.s_part', 'version', 'pd.d_part', 'id');
SELECT incetl.create_pipeline('pd_wide', 'pd.s_wide', 'version', 'pd.d_wide', 'id',
                              precombine => 'version');
SELECT incetl.create_pipeline('pd_parent', 'pd.s_parent', 'version', 'pd.d_parent', 'id',
                              precombine => 'version');
INSERT INTO pd.s_def VALUES (1, 'x', 1);
INSERT INTO pd.s_part VALUES (1, 'x', 1);
SET client_min_messages = debug1;
SELECT incetl_run('pd_def');
SELECT incetl_run('pd_part');
SELECT incetl_run('pd_wide');
SELECT incetl_run('pd_parent');
RESET client_min_messages;
SELECT * FROM pd.d_wide;
SELECT * FROM pd.d_parent;

-- the target key has another type (varchar): dedup kept, conservatively
CREATE TABLE pd.s_text (k text PRIMARY KEY, version bigint NOT NULL);
INSERT INTO pd.s_text VALUES ('a', 1), ('A', 2);
CREATE TABLE pd.d_text (k varchar PRIMARY KEY, version bigint);
SELECT incetl.create_pipeline('pd_text', 'pd.s_text', 'version', 'pd.d_text', 'k');
SET client_min_messages = debug1;
SELECT incetl_run('pd_text');
RESET client_min_messages;
SELECT * FROM pd.d_text ORDER BY k;

-- an incetl_cow target counts records_read from its INSERT
CREATE TABLE pd.cdst (id int NOT NULL, grp int, val text, version bigint) USING incetl_cow;
SELECT incetl.set_table_options('pd.cdst', record_key => 'id');
SELECT incetl.create_pipeline('pd_cow', 'pd.src', 'version', 'pd.cdst', 'id');
SELECT incetl_run('pd_cow'), incetl_run('pd_cow');
SELECT status, records_read, records_inserted, records_updated
FROM incetl.run_log WHERE pipeline_name = 'pd_cow' ORDER BY run_id;
SELECT count(*) FROM pd.cdst;

SELECT incetl.drop_pipeline(name) FROM incetl.pipelines WHERE name LIKE 'pd%' ORDER BY name;
DROP SCHEMA pd CASCADE;
