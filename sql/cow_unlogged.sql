--
-- cow_unlogged: UNLOGGED incetl_cow tables.  Their pages are not
-- WAL-logged; an init fork holds the metapage of an empty table (what
-- crash recovery leaves: test/sh/cow_unlogged_crash.sh).  Otherwise they
-- behave as logged ones: upserts, the timeline, as_of, TRUNCATE, ALTER
-- TABLE SET LOGGED / SET UNLOGGED (a rewrite: rows and timeline kept as an
-- ALTER TABLE rewrite keeps them).  Temporary tables keep working.
--
CREATE UNLOGGED TABLE ul (id int, v text) USING incetl_cow;
SELECT incetl.set_table_options('ul', record_key => 'id', file_group_rows => 1000);
SELECT relpersistence FROM pg_class WHERE relname = 'ul';
SELECT (pg_stat_file(pg_relation_filepath('ul') || '_init')).size AS init_fork_size;

-- 1. write, upsert, read, as_of
INSERT INTO ul SELECT g, 'a' || g FROM generate_series(1, 3000) g;
INSERT INTO ul VALUES (1, 'b1'), (3001, 'b3001');
UPDATE ul SET v = 'c2' WHERE id = 2;
DELETE FROM ul WHERE id = 3;
SELECT count(*), min(id), max(id) FROM ul;
SELECT * FROM ul WHERE id <= 4 ORDER BY id;
SELECT commit_id, operation, rows_inserted, rows_updated, rows_deleted
FROM incetl.commits('ul') ORDER BY commit_id;
SELECT count(*), count(*) FILTER (WHERE v = 'b1') FROM incetl.as_of(NULL::ul, 1);
SELECT count(*) FROM incetl.verify('ul');
CREATE INDEX ul_id ON ul (id);
SELECT relpersistence FROM pg_class WHERE relname = 'ul_id';
SET enable_seqscan = off;
SELECT v FROM ul WHERE id = 3001;
RESET enable_seqscan;

-- 2. no WAL for the table's pages: a load writes a fraction of the WAL
-- the same load into a logged table writes (only catalog rows are logged)
CREATE TABLE lg (id int, v text) USING incetl_cow;
SELECT incetl.set_table_options('lg', record_key => 'id', file_group_rows => 10000);
CREATE UNLOGGED TABLE un (id int, v text) USING incetl_cow;
SELECT incetl.set_table_options('un', record_key => 'id', file_group_rows => 10000);
SELECT pg_current_wal_insert_lsn() AS l0 \gset
INSERT INTO lg SELECT g, md5(g::text) FROM generate_series(1, 50000) g;
SELECT pg_current_wal_insert_lsn() AS l1 \gset
INSERT INTO un SELECT g, md5(g::text) FROM generate_series(1, 50000) g;
SELECT pg_current_wal_insert_lsn() AS l2 \gset
SELECT pg_relation_size('un') > 500000 AS un_has_pages,
       pg_wal_lsn_diff(:'l1', :'l0') > pg_relation_size('lg') / 2 AS logged_load_logs_its_pages,
       pg_wal_lsn_diff(:'l2', :'l1') < 50000 AS unlogged_load_does_not;
SELECT (SELECT count(*) FROM lg) = (SELECT count(*) FROM un) AS same_rows;

-- 3. TRUNCATE keeps the init fork and the timeline
TRUNCATE un;
SELECT count(*) FROM un;
SELECT (pg_stat_file(pg_relation_filepath('un') || '_init')).size AS init_fork_size;
INSERT INTO un VALUES (1, 'after truncate');
SELECT commit_id, operation FROM incetl.commits('un') ORDER BY commit_id;
BEGIN;
CREATE UNLOGGED TABLE un2 (a int) USING incetl_cow;
INSERT INTO un2 VALUES (1);
TRUNCATE un2;
INSERT INTO un2 VALUES (2);
SELECT * FROM un2;
SELECT (pg_stat_file(pg_relation_filepath('un2') || '_init')).size AS init_fork_size;
COMMIT;

-- 4. SET LOGGED / SET UNLOGGED rewrite the table, keeping rows and timeline
SELECT incetl.cow_storage_id('ul') AS sid \gset
ALTER TABLE ul SET LOGGED;
SELECT relpersistence FROM pg_class WHERE relname IN ('ul', 'ul_id') ORDER BY relname;
SELECT pg_stat_file(pg_relation_filepath('ul') || '_init', true) IS NULL AS no_init_fork;
SELECT incetl.cow_storage_id('ul') <> :sid AS new_storage;
SELECT count(*), min(id), max(id) FROM ul;
SELECT * FROM ul WHERE id <= 4 ORDER BY id;
SELECT commit_id, operation FROM incetl.commits('ul') ORDER BY commit_id;
INSERT INTO ul VALUES (2, 'logged now');
ALTER TABLE ul SET UNLOGGED;
SELECT relpersistence FROM pg_class WHERE relname IN ('ul', 'ul_id') ORDER BY relname;
SELECT (pg_stat_file(pg_relation_filepath('ul') || '_init')).size AS init_fork_size;
SELECT count(*), (SELECT v FROM ul WHERE id = 2) FROM ul;
SELECT commit_id, operation FROM incetl.commits('ul') ORDER BY commit_id;
SELECT count(*) FROM incetl.as_of(NULL::ul, 7);
SELECT count(*) FROM incetl.verify('ul');
-- VACUUM FULL keeps it unlogged
VACUUM FULL ul;
SELECT relpersistence, (pg_stat_file(pg_relation_filepath('ul') || '_init')).size AS init_fork_size
FROM pg_class WHERE relname = 'ul';
SELECT count(*) FROM ul;
-- SET UNLOGGED of a loaded table
ALTER TABLE lg SET UNLOGGED;
SELECT relpersistence FROM pg_class WHERE relname = 'lg';
SELECT count(*) FROM lg;

-- 5. temporary tables still work
CREATE TEMP TABLE tt (id int, v text) USING incetl_cow;
SELECT incetl.set_table_options('tt', record_key => 'id');
INSERT INTO tt VALUES (1, 'a'), (2, 'b');
INSERT INTO tt VALUES (1, 'c');
SELECT * FROM tt ORDER BY id;
SELECT relpersistence FROM pg_class WHERE relname = 'tt';

-- 6. DROP removes the catalog rows
SELECT incetl.cow_storage_id('ul') AS sid \gset
DROP TABLE ul;
SELECT count(*) FROM incetl.cow_file_group WHERE storage_id = :sid;
SELECT count(*) FROM incetl.cow_commit WHERE storage_id = :sid;
DROP TABLE un, un2, lg, tt;
