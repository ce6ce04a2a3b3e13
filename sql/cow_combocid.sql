--
-- cmin, cmax and xmax of incetl_cow rows against heap's (issue #12; the
-- suite's combocid.sql).  A row's cmin -- and cmax, which heap reads from
-- the same tuple header field -- is the command of its writing transaction
-- that wrote it: its commit's catalog row is inserted under that command
-- (doc/incetl_cow.md, Reads, System columns).  They match heap's wherever
-- heap's field still holds the inserting command; heap's shows a combo
-- command id or the deleter's command once its own transaction deleted or
-- locked the row (also in a subtransaction rolled back), which incetl_cow
-- rows do not record: the inserting command stays.  xmax is 0 for a row
-- no transaction can have deleted or locked, and refused (0A000) where
-- that is not known.
--
\set SHOW_CONTEXT never
CREATE TABLE cc_heap (foobar int) USING heap;
CREATE TABLE cc_cow (foobar int) USING incetl_cow;
CREATE VIEW cc AS
    SELECT 'heap' AS am, cmin, cmax, foobar FROM cc_heap
    UNION ALL
    SELECT 'cow', cmin, cmax, foobar FROM cc_cow;
BEGIN;
-- a few dummy commands push the command counter up, as in combocid.sql
INSERT INTO cc_heap SELECT 1 LIMIT 0;
INSERT INTO cc_cow SELECT 1 LIMIT 0;
INSERT INTO cc_heap SELECT 1 LIMIT 0;
INSERT INTO cc_cow SELECT 1 LIMIT 0;
INSERT INTO cc_heap SELECT 1 LIMIT 0;
INSERT INTO cc_cow SELECT 1 LIMIT 0;
INSERT INTO cc_heap SELECT 1 LIMIT 0;
INSERT INTO cc_cow SELECT 1 LIMIT 0;
INSERT INTO cc_heap SELECT 1 LIMIT 0;
INSERT INTO cc_cow SELECT 1 LIMIT 0;
-- commands 10 and 11 write one row each on both
INSERT INTO cc_heap VALUES (1);
INSERT INTO cc_heap VALUES (2);
INSERT INTO cc_cow VALUES (1);
INSERT INTO cc_cow VALUES (2);
SELECT * FROM cc ORDER BY am, foobar;
SAVEPOINT s1;
UPDATE cc_heap SET foobar = foobar + 10;
UPDATE cc_cow SET foobar = foobar + 10;
-- the updated rows: heap 14, incetl_cow 15 (each UPDATE is a command)
SELECT * FROM cc ORDER BY am, foobar;
ROLLBACK TO s1;
-- heap's old rows now read combo command ids 0 and 1; ours keep 12, 13
SELECT * FROM cc ORDER BY am, foobar;
COMMIT;
SELECT * FROM cc ORDER BY am, foobar;
-- a second transaction: its first command is 0 again
BEGIN;
INSERT INTO cc_cow VALUES (333);
INSERT INTO cc_cow VALUES (334), (335);
SELECT * FROM cc WHERE am = 'cow' ORDER BY foobar;
-- a cursor opened before a DELETE reads the versions it saw, cmin kept
DECLARE c CURSOR FOR SELECT cmin, foobar FROM cc_cow ORDER BY foobar;
DELETE FROM cc_cow;
FETCH ALL FROM c;
ROLLBACK;
SELECT * FROM cc WHERE am = 'cow' ORDER BY foobar;
-- an upsert rewrites the file group: the row it replaced reads the
-- upserting command, the rows carried along keep theirs
CREATE TABLE cc_key (id int, v text) USING incetl_cow;
SELECT incetl.set_table_options('cc_key', record_key => 'id');
BEGIN;
INSERT INTO cc_key VALUES (1, 'a'), (2, 'b');
INSERT INTO cc_key VALUES (3, 'c');
INSERT INTO cc_key VALUES (2, 'B');
SELECT id, v, cmin, cmax FROM cc_key ORDER BY id;
COMMIT;
SELECT id, v, cmin, cmax FROM cc_key ORDER BY id;
-- a statement whose rows are merged by a later command's read (a
-- volatile function reading the table): the rows keep the writing
-- command's id, as on heap
CREATE FUNCTION cc_count(tbl regclass) RETURNS bigint
LANGUAGE plpgsql VOLATILE AS $$
DECLARE n bigint;
BEGIN
    EXECUTE format('SELECT count(*) FROM %s', tbl) INTO n;
    RETURN n;
END $$;
CREATE TABLE cc_read_heap (id int, n bigint) USING heap;
CREATE TABLE cc_read_cow (id int, n bigint) USING incetl_cow;
BEGIN;
INSERT INTO cc_read_heap SELECT 1 LIMIT 0;
INSERT INTO cc_read_heap SELECT g, cc_count('cc_read_heap') FROM generate_series(1, 3) g;
INSERT INTO cc_read_heap VALUES (4, 0);
SELECT id, n, cmin FROM cc_read_heap ORDER BY id;
COMMIT;
BEGIN;
INSERT INTO cc_read_cow SELECT 1 LIMIT 0;
INSERT INTO cc_read_cow SELECT g, cc_count('cc_read_cow') FROM generate_series(1, 3) g;
INSERT INTO cc_read_cow VALUES (4, 0);
SELECT id, n, cmin FROM cc_read_cow ORDER BY id;
COMMIT;
-- xmax: 0 for rows no transaction deleted or locked
SELECT foobar, xmax FROM cc_cow ORDER BY foobar;
SELECT id, xmax FROM cc_key ORDER BY id;
BEGIN;
INSERT INTO cc_key VALUES (4, 'd');
-- our own write does not lock the rows it did not write
SELECT id, xmax FROM cc_key ORDER BY id;
-- a cursor's rows whose version a later command of ours rewrote:
-- deleted, updated or carried, which is not recorded per row
DECLARE k CURSOR FOR SELECT id, xmax FROM cc_key ORDER BY id;
UPDATE cc_key SET v = 'x' WHERE id = 1;
FETCH ALL FROM k;
\echo :LAST_ERROR_SQLSTATE
ROLLBACK;
-- after our own row lock, which locks the whole table: refused
BEGIN;
SELECT id FROM cc_key WHERE id = 1 FOR UPDATE;
SELECT id, xmax FROM cc_key ORDER BY id;
\echo :LAST_ERROR_SQLSTATE
ROLLBACK;
SELECT id, xmax FROM cc_key ORDER BY id;
-- combocid.sql's last case: a row locked, updated, updated again in a
-- subtransaction rolled back, then locked again
CREATE TABLE cc_testcase (id int PRIMARY KEY, balance numeric) USING incetl_cow;
INSERT INTO cc_testcase VALUES (1, 0);
BEGIN;
SELECT * FROM cc_testcase WHERE cc_testcase.id = 1 FOR UPDATE;
UPDATE cc_testcase SET balance = balance + 400 WHERE id = 1;
SAVEPOINT subxact;
UPDATE cc_testcase SET balance = balance - 100 WHERE id = 1;
ROLLBACK TO SAVEPOINT subxact;
SELECT * FROM cc_testcase WHERE id = 1 FOR UPDATE;
ROLLBACK;
DROP TABLE cc_testcase, cc_key, cc_read_heap, cc_read_cow;
DROP FUNCTION cc_count(regclass);
DROP VIEW cc;
DROP TABLE cc_heap, cc_cow;
