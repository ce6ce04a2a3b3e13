-- incetl's catalogs dropped and made again in one session: what a backend
-- keeps between statements (catalog OIDs in the system caches, version
-- lists, headers, row-number maps, all by relation) must not outlive DROP
-- EXTENSION, and the next statements find the new catalogs and tables.  In
-- a database of its own: the extension is dropped here.
SELECT current_database() AS regress_db \gset
CREATE DATABASE incetl_recreate;
\c incetl_recreate
CREATE EXTENSION incetl;
CREATE TABLE r (id bigint, v text) USING incetl_cow;
SELECT incetl.set_table_options('r', record_key => 'id');
INSERT INTO r SELECT g, 'first ' || g FROM generate_series(1, 100) g;
CREATE INDEX r_id ON r (id);
SET enable_seqscan = off;
SELECT * FROM r WHERE id = 42;
SELECT count(*) FROM incetl.file_groups('r');
-- in the same session and transaction: the catalogs go, and come back
BEGIN;
DROP EXTENSION incetl CASCADE;
CREATE EXTENSION incetl;
CREATE TABLE r (id bigint, v text) USING incetl_cow;
SELECT incetl.set_table_options('r', record_key => 'id');
INSERT INTO r SELECT g, 'second ' || g FROM generate_series(1, 50) g;
CREATE INDEX r_id ON r (id);
SELECT * FROM r WHERE id = 42;
COMMIT;
-- and in the next transaction, with an upsert and a scan
INSERT INTO r VALUES (42, 'upserted 42'), (51, 'new 51');
SELECT * FROM r WHERE id IN (41, 42, 51) ORDER BY id;
RESET enable_seqscan;
SELECT count(*), min(v), max(id) FROM r;
SELECT commit_id, rows FROM incetl.file_groups('r') ORDER BY file_group_id;
-- the old catalogs' OIDs are gone for good: no statement reaches them
SELECT count(*) FROM pg_class WHERE relname = 'cow_file_group';
\c :regress_db
DROP DATABASE incetl_recreate;
