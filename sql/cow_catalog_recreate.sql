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
-- the planner knows r for an incetl_cow table (its ctid qual a Tid Scan,
-- cow_set_rel_pathlist): the access method's OID, which the backend keeps,
-- is asked here first.  (With sequential scans allowed: one would cost
-- less for a table this small.)
RESET enable_seqscan;
EXPLAIN (COSTS OFF) SELECT * FROM r WHERE ctid = '(0,1)';
SET enable_seqscan = off;
SELECT oid AS first_am FROM pg_am WHERE amname = 'incetl_cow' \gset
-- in the same session and transaction: the catalogs go, and come back
BEGIN;
DROP EXTENSION incetl CASCADE;
CREATE EXTENSION incetl;
CREATE TABLE r (id bigint, v text) USING incetl_cow;
SELECT incetl.set_table_options('r', record_key => 'id');
INSERT INTO r SELECT g, 'second ' || g FROM generate_series(1, 50) g;
CREATE INDEX r_id ON r (id);
SELECT * FROM r WHERE id = 42;
-- the access method was made again under another OID: the backend asks
-- for it again, and the new r is still planned as an incetl_cow table
SELECT (SELECT oid FROM pg_am WHERE amname = 'incetl_cow') <> :'first_am' AS new_am_oid;
RESET enable_seqscan;
EXPLAIN (COSTS OFF) SELECT * FROM r WHERE ctid = '(0,1)';
SET enable_seqscan = off;
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
