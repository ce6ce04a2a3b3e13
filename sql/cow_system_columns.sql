--
-- System columns of incetl_cow tables (issue #12).  ctid and tableoid are
-- the row's (see doc/incetl_cow.md, Row addresses); xmin is the
-- transaction that wrote the row's commit (rows carry incetl commit ids),
-- through sequential and index scans (a Tid scan, which copies the row
-- out of its file group, still refuses it); a row carried unchanged into
-- a rewrite keeps it.  cmin and cmax are the command that wrote the row's
-- commit, xmax 0 where no transaction can have deleted or locked the row
-- (cow_combocid.sql compares them with heap's).  RETURNING gives xmin and
-- xmax of the rows the statement itself wrote or deleted, whose writer is
-- known; cmin and cmax are refused there (the slot holds no stored row).
--
\set SHOW_CONTEXT never
CREATE TABLE sc (id int, v text) USING incetl_cow;
SELECT incetl.set_table_options('sc', record_key => 'id');
BEGIN;
INSERT INTO sc VALUES (1, 'a'), (2, 'b');
SELECT pg_current_xact_id()::xid AS writer \gset
COMMIT;
SELECT tableoid::regclass, ctid, id FROM sc ORDER BY id;
SELECT id, xmin = :'writer' AS by_writer FROM sc ORDER BY id;
SELECT id FROM sc WHERE xmax <> '0';
\echo :LAST_ERROR_SQLSTATE
SELECT cmin FROM sc ORDER BY id;
\echo :LAST_ERROR_SQLSTATE
SELECT cmax FROM sc;
\echo :LAST_ERROR_SQLSTATE
SELECT s.id, s.xmin = :'writer' AS by_writer FROM sc s JOIN sc t USING (id)
ORDER BY 1;
CREATE INDEX sc_id ON sc (id);
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT xmin FROM sc WHERE id = 1;
SELECT xmin = :'writer' AS by_writer FROM sc WHERE id = 1;
RESET enable_seqscan;
SELECT xmin = :'writer' AS by_writer FROM sc WHERE ctid = (SELECT ctid FROM sc WHERE id = 2);
-- an upsert rewrites the file group: the row it replaced reads its writer,
-- the row carried along keeps the first one
BEGIN;
INSERT INTO sc VALUES (2, 'b2');
SELECT pg_current_xact_id()::xid AS updater \gset
COMMIT;
SELECT id, xmin = :'writer' AS by_writer, xmin = :'updater' AS by_updater
FROM sc ORDER BY id;
BEGIN;
INSERT INTO sc VALUES (3, 'c')
    RETURNING id, xmin = pg_current_xact_id()::xid AS xmin_ours, xmax;
DELETE FROM sc WHERE id = 1
    RETURNING id, xmax = pg_current_xact_id()::xid AS xmax_ours;
ROLLBACK;
UPDATE sc SET v = 'B' WHERE id = 2 RETURNING cmin;
\echo :LAST_ERROR_SQLSTATE
DELETE FROM sc WHERE id = 1 RETURNING cmax;
\echo :LAST_ERROR_SQLSTATE
-- nothing was written by the refused statements; no row read, no error
SELECT id, v FROM sc ORDER BY id;
SELECT xmin, cmax FROM sc WHERE false;
SELECT count(*) FROM sc WHERE id > 100 AND xmin::text <> '';
-- a heap table in the same query still has them
CREATE TABLE sc_heap (id int);
INSERT INTO sc_heap VALUES (1);
SELECT h.xmin <> '0' AS heap_xmin, s.ctid IS NOT NULL AS cow_ctid
  FROM sc_heap h JOIN sc s USING (id);
DROP TABLE sc, sc_heap;
