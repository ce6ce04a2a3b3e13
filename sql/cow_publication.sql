--
-- Publications and incetl_cow (issue #12).  Logical decoding does not see
-- the rows of incetl_cow tables (their pages are logged whole, with
-- log_newpage and generic WAL), so a publication would replicate none of
-- them: an incetl_cow table is refused from every publication that would
-- name it (0A000), and FOR ALL TABLES publications warn.  Publications
-- need no wal_level = logical to be created (PostgreSQL warns, below).
--
\set SHOW_CONTEXT never
CREATE SCHEMA pubs;
CREATE SCHEMA pubs_other;
SET search_path = pubs, public;
CREATE TABLE pubs.heap1 (id int, v text);
CREATE TABLE pubs.cow1 (id int, v text) USING incetl_cow;
CREATE TABLE pubs.heap2 (id int);

-- 1. FOR TABLE: refused, naming the table and the publication; nothing is
-- left behind
CREATE PUBLICATION p_cow FOR TABLE pubs.heap1, pubs.cow1;
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) AS publications FROM pg_publication WHERE pubname = 'p_cow';

-- heap tables still publish
CREATE PUBLICATION p_heap FOR TABLE pubs.heap1;
SELECT schemaname, tablename FROM pg_publication_tables WHERE pubname = 'p_heap';

-- 2. ALTER PUBLICATION ... ADD / SET TABLE: refused, the publication
-- unchanged; a heap table is added
ALTER PUBLICATION p_heap ADD TABLE pubs.cow1;
\echo :LAST_ERROR_SQLSTATE
ALTER PUBLICATION p_heap SET TABLE pubs.heap2, pubs.cow1;
\echo :LAST_ERROR_SQLSTATE
ALTER PUBLICATION p_heap ADD TABLE pubs.heap2;
SELECT tablename FROM pg_publication_tables WHERE pubname = 'p_heap' ORDER BY 1;
-- DROP and options are not checked
ALTER PUBLICATION p_heap DROP TABLE pubs.heap2;
ALTER PUBLICATION p_heap SET (publish = 'insert');

-- 3. a partitioned table with an incetl_cow partition, with
-- publish_via_partition_root or not (the partition's rows are not
-- decoded either way); heap partitions publish
CREATE TABLE pubs.parted (id int, v text) PARTITION BY RANGE (id);
CREATE TABLE pubs.parted_heap PARTITION OF pubs.parted FOR VALUES FROM (0) TO (10) USING heap;
CREATE PUBLICATION p_parted FOR TABLE pubs.parted;
CREATE TABLE pubs_other.parted_cow PARTITION OF pubs.parted FOR VALUES FROM (10) TO (20) USING incetl_cow;
\echo :LAST_ERROR_SQLSTATE
DROP PUBLICATION p_parted;
CREATE TABLE pubs_other.parted_cow PARTITION OF pubs.parted FOR VALUES FROM (10) TO (20) USING incetl_cow;
CREATE PUBLICATION p_parted FOR TABLE pubs.parted;
\echo :LAST_ERROR_SQLSTATE
CREATE PUBLICATION p_parted FOR TABLE pubs.parted WITH (publish_via_partition_root = true);
\echo :LAST_ERROR_SQLSTATE
ALTER PUBLICATION p_heap ADD TABLE pubs.parted;
\echo :LAST_ERROR_SQLSTATE

-- 4. FOR TABLES IN SCHEMA: a schema holding an incetl_cow table, or a
-- partitioned table with one (in another schema)
CREATE PUBLICATION p_schema FOR TABLES IN SCHEMA pubs_other;
\echo :LAST_ERROR_SQLSTATE
ALTER PUBLICATION p_heap ADD TABLES IN SCHEMA pubs;
\echo :LAST_ERROR_SQLSTATE
-- a schema of heap tables only is fine
CREATE SCHEMA pubs_heap;
CREATE TABLE pubs_heap.h (id int);
CREATE PUBLICATION p_schema FOR TABLES IN SCHEMA pubs_heap;
SELECT schemaname, tablename FROM pg_publication_tables WHERE pubname = 'p_schema';

-- 5. a table becoming incetl_cow inside a publication: CREATE TABLE in a
-- published schema (also by default_table_access_method, and CREATE TABLE
-- AS), SET ACCESS METHOD, ATTACH PARTITION, SET SCHEMA
CREATE TABLE pubs_heap.c (id int) USING incetl_cow;
\echo :LAST_ERROR_SQLSTATE
SET default_table_access_method = incetl_cow;
CREATE TABLE pubs_heap.c (id int);
\echo :LAST_ERROR_SQLSTATE
CREATE TABLE pubs_heap.c AS SELECT 1 AS id;
\echo :LAST_ERROR_SQLSTATE
RESET default_table_access_method;
CREATE TEMP TABLE tmp_cow (id int) USING incetl_cow;  -- temporary: never published
ALTER TABLE pubs_heap.h SET ACCESS METHOD incetl_cow;
\echo :LAST_ERROR_SQLSTATE
ALTER TABLE pubs.heap1 SET ACCESS METHOD incetl_cow;
\echo :LAST_ERROR_SQLSTATE
ALTER TABLE pubs.cow1 SET SCHEMA pubs_heap;
\echo :LAST_ERROR_SQLSTATE
CREATE TABLE pubs.parted2 (id int) PARTITION BY LIST (id);
ALTER PUBLICATION p_heap ADD TABLE pubs.parted2;
CREATE TABLE pubs.parted2_cow (id int) USING incetl_cow;
ALTER TABLE pubs.parted2 ATTACH PARTITION pubs.parted2_cow FOR VALUES IN (1);
\echo :LAST_ERROR_SQLSTATE
-- the heap tables are still where they were, and unchanged
SELECT c.relname, a.amname FROM pg_class c JOIN pg_am a ON a.oid = c.relam
 WHERE c.relname IN ('h', 'heap1', 'cow1', 'parted2_cow') ORDER BY 1;
SELECT pubname, schemaname, tablename FROM pg_publication_tables
 WHERE pubname LIKE 'p\_%' ORDER BY 1, 2, 3;
SELECT pubname, n.nspname FROM pg_publication_namespace pn
  JOIN pg_publication p ON p.oid = pn.pnpubid
  JOIN pg_namespace n ON n.oid = pn.pnnspid ORDER BY 1, 2;

DROP PUBLICATION p_heap, p_schema;
DROP SCHEMA pubs, pubs_other, pubs_heap CASCADE;

-- 6. FOR ALL TABLES cannot leave a table out: a WARNING naming what is not
-- replicated, when it is created and when an incetl_cow table is made
-- while it exists.  In a database of its own, so that the tables other
-- tests left behind do not count.
\set regress_db :DBNAME
CREATE DATABASE cow_publication_all;
\c cow_publication_all
\set SHOW_CONTEXT never
-- without the extension in the database (the library is loaded): no word
CREATE PUBLICATION p_before FOR ALL TABLES;
DROP PUBLICATION p_before;
CREATE EXTENSION incetl;
CREATE TABLE a_heap (id int);
CREATE PUBLICATION p_none FOR ALL TABLES;
CREATE TABLE cow1 (id int) USING incetl_cow;
CREATE TABLE cow2 (id int) USING incetl_cow;
DROP PUBLICATION p_none;
CREATE PUBLICATION p_all FOR ALL TABLES;
CREATE TABLE cow_later (id int) USING incetl_cow;
CREATE TABLE heap_to_cow (id int);
ALTER TABLE heap_to_cow SET ACCESS METHOD incetl_cow;
CREATE TABLE heap_later (id int);  -- no warning
CREATE TEMP TABLE tmp_cow (id int) USING incetl_cow;  -- no warning
-- incetl_cow tables are listed by the publication, and so are incetl's own
-- tables, the catalogs of incetl_cow among them
SELECT schemaname, tablename FROM pg_publication_tables
 WHERE pubname = 'p_all' ORDER BY 1, 2;
\c :regress_db
DROP DATABASE cow_publication_all;
