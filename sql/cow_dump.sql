-- incetl_cow options and pg_dump: incetl.cow_options is an extension
-- configuration table keyed by regclass that names its columns; rows
-- written by SQL (pg_restore's COPY) are checked and rewrite a table whose
-- rows arrived before its key.
CREATE SCHEMA cow_dump;
CREATE SCHEMA cow_dump2;
SET search_path = cow_dump, public;

-- dumped by pg_dump (only rows of existing tables); the file-group and
-- commit catalogs are not
SELECT c.relname, e.extcondition[array_position(e.extconfig, c.oid)] <> '' AS filtered
FROM pg_extension e CROSS JOIN LATERAL unnest(e.extconfig) AS x(oid)
JOIN pg_class c ON c.oid = x.oid
WHERE e.extname = 'incetl' AND c.relname LIKE 'cow%';

-- the row names the table and the columns (as pg_dump writes them)
CREATE TABLE d (junk int, "Key Part" text, id int, ver int, del boolean) USING incetl_cow;
ALTER TABLE d DROP COLUMN junk;
SELECT incetl.set_table_options('d', record_key => 'Key Part, id', precombine => 'ver',
                                delete_marker => 'del');
SELECT tbl, record_key, precombine, delete_marker FROM incetl.cow_options WHERE tbl = 'd'::regclass;
-- table and column renames, SET SCHEMA: the row follows
ALTER TABLE d RENAME TO d2;
ALTER TABLE d2 RENAME COLUMN "Key Part" TO kp;
ALTER TABLE d2 RENAME COLUMN ver TO version;
ALTER TABLE d2 SET SCHEMA cow_dump2;
SELECT tbl, record_key, precombine, delete_marker FROM incetl.cow_options
WHERE tbl = 'cow_dump2.d2'::regclass;
SELECT * FROM incetl.table_options('cow_dump2.d2');
INSERT INTO cow_dump2.d2 VALUES ('a', 1, 1, false), ('a', 1, 2, false), ('b', 1, 1, false);
INSERT INTO cow_dump2.d2 VALUES ('a', 1, 1, false), ('b', 1, 2, true);
SELECT * FROM cow_dump2.d2 ORDER BY kp, id;
-- a column renamed on a partitioned parent is renamed in its partitions' options
CREATE TABLE p (a int, b int) PARTITION BY LIST (a);
CREATE TABLE p1 PARTITION OF p FOR VALUES IN (1) USING incetl_cow;
SELECT incetl.set_table_options('p1', record_key => 'b');
ALTER TABLE p RENAME COLUMN b TO bb;
SELECT * FROM incetl.table_options('p1');
INSERT INTO p VALUES (1, 1), (1, 1);
SELECT count(*) FROM p;
-- a dropped option column is reported; a new column of that name is used
ALTER TABLE cow_dump2.d2 DROP COLUMN version;
INSERT INTO cow_dump2.d2 (kp, id) VALUES ('c', 1);
ALTER TABLE cow_dump2.d2 ADD COLUMN version int;
INSERT INTO cow_dump2.d2 (kp, id, version) VALUES ('c', 1, 5), ('c', 1, 4);
SELECT * FROM cow_dump2.d2 ORDER BY kp, id;

-- what pg_restore does when a table's rows come first: they are appended
-- (no key yet), and the options row rewrites them by the key
CREATE TABLE r (id int, v text, ts int) USING incetl_cow;
INSERT INTO r SELECT g % 7, 'v' || g, g FROM generate_series(1, 7) AS g;
INSERT INTO r VALUES (0, 'again', 0);
SELECT count(*) FROM r;
INSERT INTO incetl.cow_options (tbl, record_key, precombine, file_group_rows)
VALUES ('r', '{id}', 'ts', 3);
SELECT * FROM incetl.table_options('r');
SELECT operation, rows_deleted FROM incetl.commits('r') ORDER BY commit_id;
SELECT * FROM incetl.verify('r');
SELECT * FROM r ORDER BY id;
INSERT INTO r VALUES (1, 'newer', 100), (2, 'older', -1);
SELECT * FROM r WHERE id IN (1, 2) ORDER BY id;
-- a key changed by SQL rewrites too; other changes do not
UPDATE incetl.cow_options SET compression_level = 7 WHERE tbl = 'r'::regclass;
UPDATE incetl.cow_options SET record_key = '{v}' WHERE tbl = 'r'::regclass;
SELECT operation FROM incetl.commits('r') ORDER BY commit_id;
SELECT * FROM incetl.verify('r');
-- and when the options come first, the rows are loaded as upserts
CREATE TABLE r2 (id int, v text) USING incetl_cow;
INSERT INTO incetl.cow_options (tbl, record_key) VALUES ('r2', '{id}');
COPY r2 FROM stdin;
1	a
2	b
\.
INSERT INTO r2 VALUES (1, 'a2');
SELECT * FROM r2 ORDER BY id;

-- rows for other tables, or naming missing columns
CREATE TABLE h (id int);
INSERT INTO incetl.cow_options (tbl, record_key) VALUES ('h', '{id}');
CREATE TABLE m (id int) USING incetl_cow;
INSERT INTO m VALUES (1), (1);
INSERT INTO incetl.cow_options (tbl, record_key) VALUES ('m', '{nope}');
SELECT count(*) FROM m;
INSERT INTO m VALUES (1);

-- the rows pg_dump dumps: those of existing incetl_cow tables only (not
-- of a table moved to heap since)
CREATE TABLE toheap (id int) USING incetl_cow;
SELECT incetl.set_table_options('toheap', record_key => 'id');
ALTER TABLE toheap SET ACCESS METHOD heap;
SELECT count(*) FROM incetl.cow_options WHERE tbl = 'toheap'::regclass;
SELECT format('SELECT tbl, record_key FROM (SELECT * FROM incetl.cow_options %s) AS o '
              'WHERE (SELECT relnamespace FROM pg_class WHERE oid = o.tbl) '
              'IN (''cow_dump''::regnamespace, ''cow_dump2''::regnamespace) ORDER BY tbl::text',
              e.extcondition[array_position(e.extconfig, 'incetl.cow_options'::regclass::oid)])
FROM pg_extension e WHERE e.extname = 'incetl'
\gexec

-- DROP TABLE deletes the row: a new table of the same name has no options
SELECT count(*) FROM incetl.cow_options WHERE tbl = 'r2'::regclass;
DROP TABLE r2;
CREATE TABLE r2 (id int, v text) USING incetl_cow;
SELECT * FROM incetl.table_options('r2');
INSERT INTO r2 VALUES (1, 'a'), (1, 'b');
SELECT count(*) FROM r2;

RESET search_path;
SET client_min_messages = warning;
DROP SCHEMA cow_dump CASCADE;
DROP SCHEMA cow_dump2 CASCADE;
