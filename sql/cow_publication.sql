--
-- Publications and incetl_cow (issue #12).  incetl_cow tables are published
-- as heap tables are: a write logs its rows for logical decoding
-- (cow_logical.c, decoded by incetl's WAL resource manager, cow_decode.c;
-- test/sh/cow_logical_decoding.sh and test/t/cow_003_logical_replication.pl
-- decode and replicate them).  What heap requires of a published table,
-- incetl_cow requires too: a replica identity to replace or delete rows --
-- also by an upsert or a delete marker.  FOR ALL TABLES warns that it
-- publishes incetl's own catalogs.  Publications need no wal_level =
-- logical to be created (PostgreSQL warns, below).
--
\set SHOW_CONTEXT never
CREATE SCHEMA pubs;
CREATE SCHEMA pubs_other;
SET search_path = pubs, public;
CREATE TABLE pubs.heap1 (id int, v text);
CREATE TABLE pubs.cow1 (id int, v text) USING incetl_cow;
CREATE TABLE pubs.heap2 (id int);

-- 1. FOR TABLE, ALTER PUBLICATION ... ADD / SET TABLE: incetl_cow tables
-- are published like heap tables
CREATE PUBLICATION p_cow FOR TABLE pubs.heap1, pubs.cow1;
SELECT schemaname, tablename FROM pg_publication_tables WHERE pubname = 'p_cow' ORDER BY 2;
CREATE PUBLICATION p_heap FOR TABLE pubs.heap1;
ALTER PUBLICATION p_heap ADD TABLE pubs.cow1;
ALTER PUBLICATION p_heap SET TABLE pubs.heap2, pubs.cow1;
SELECT tablename FROM pg_publication_tables WHERE pubname = 'p_heap' ORDER BY 1;

-- 2. a partitioned table with an incetl_cow partition, and schemas
CREATE TABLE pubs.parted (id int, v text) PARTITION BY RANGE (id);
CREATE TABLE pubs.parted_heap PARTITION OF pubs.parted FOR VALUES FROM (0) TO (10) USING heap;
CREATE PUBLICATION p_parted FOR TABLE pubs.parted;
CREATE TABLE pubs_other.parted_cow PARTITION OF pubs.parted FOR VALUES FROM (10) TO (20) USING incetl_cow;
SELECT schemaname, tablename FROM pg_publication_tables WHERE pubname = 'p_parted' ORDER BY 1, 2;
CREATE PUBLICATION p_schema FOR TABLES IN SCHEMA pubs_other;
SELECT schemaname, tablename FROM pg_publication_tables WHERE pubname = 'p_schema';
DROP PUBLICATION p_cow, p_heap, p_parted, p_schema;

-- 3. a replica identity, as heap requires it: t has a record key and a
-- delete marker, no primary key and the default identity (none, then).
-- Published with updates and deletes, a plain insert of new keys works;
-- an upsert that replaces a row, a delete marker, UPDATE and DELETE fail
-- with heap's error (55000), and change nothing.
CREATE TABLE pubs.t (id int, v text, del bool) USING incetl_cow;
SELECT incetl.set_table_options('pubs.t', record_key => 'id', delete_marker => 'del');
INSERT INTO pubs.t VALUES (1, 'a', false), (2, 'b', false);
CREATE PUBLICATION p_t FOR TABLE pubs.t;
INSERT INTO pubs.t VALUES (3, 'c', false);
INSERT INTO pubs.t VALUES (1, 'a2', false);
\echo :LAST_ERROR_SQLSTATE
INSERT INTO pubs.t VALUES (2, NULL, true);
\echo :LAST_ERROR_SQLSTATE
UPDATE pubs.t SET v = 'x' WHERE id = 1;
\echo :LAST_ERROR_SQLSTATE
DELETE FROM pubs.t WHERE id = 1;
\echo :LAST_ERROR_SQLSTATE
-- a precombine loser replaces nothing: no error either (v is the
-- precombine field from here on)
SELECT incetl.set_table_options('pubs.t', record_key => 'id', delete_marker => 'del',
                                precombine => 'v');
INSERT INTO pubs.t VALUES (1, '0', false);
SELECT id, v FROM pubs.t ORDER BY id;
-- publishing inserts only: upserts and delete markers are allowed
ALTER PUBLICATION p_t SET (publish = 'insert');
INSERT INTO pubs.t VALUES (1, 'a3', false), (2, 'z', true);
SELECT id, v FROM pubs.t ORDER BY id;
-- with REPLICA IDENTITY FULL everything is allowed
ALTER PUBLICATION p_t SET (publish = 'insert, update, delete');
ALTER TABLE pubs.t REPLICA IDENTITY FULL;
INSERT INTO pubs.t VALUES (1, 'a4', false), (3, 'z', true);
UPDATE pubs.t SET v = 'a5' WHERE id = 1;
INSERT INTO pubs.t VALUES (4, 'd', false);
DELETE FROM pubs.t WHERE id = 4;
SELECT id, v FROM pubs.t ORDER BY id;
-- REPLICA IDENTITY NOTHING: refused again
ALTER TABLE pubs.t REPLICA IDENTITY NOTHING;
INSERT INTO pubs.t VALUES (1, 'a6', false);
\echo :LAST_ERROR_SQLSTATE
-- incetl.restore() that would update or delete rows: refused too (here
-- it would delete key 5; its update of key 1 is not published)
INSERT INTO pubs.t VALUES (5, 'e', false);
ALTER PUBLICATION p_t SET (publish = 'insert, delete');
SELECT incetl.restore('pubs.t', 1);
\echo :LAST_ERROR_SQLSTATE
SELECT id, v FROM pubs.t ORDER BY id;
DROP PUBLICATION p_t;

DROP SCHEMA pubs, pubs_other CASCADE;

-- 4. FOR ALL TABLES publishes every table, incetl's own among them (the
-- catalogs of incetl_cow storage and of pipelines, which describe this
-- database): a WARNING when it is created in a database with incetl.  In a
-- database of its own, so that the tables other tests left behind do not
-- count.
\set regress_db :DBNAME
CREATE DATABASE cow_publication_all;
\c cow_publication_all
\set SHOW_CONTEXT never
-- without the extension in the database (the library is loaded): no word
CREATE PUBLICATION p_before FOR ALL TABLES;
DROP PUBLICATION p_before;
CREATE EXTENSION incetl;
CREATE TABLE a_heap (id int);
CREATE TABLE cow1 (id int) USING incetl_cow;
CREATE PUBLICATION p_all FOR ALL TABLES;
CREATE TABLE cow_later (id int) USING incetl_cow;  -- no warning
CREATE TEMP TABLE tmp_cow (id int) USING incetl_cow;  -- never published
SELECT schemaname, tablename FROM pg_publication_tables
 WHERE pubname = 'p_all' ORDER BY 1, 2;
\c :regress_db
DROP DATABASE cow_publication_all;
