-- Foreign keys of incetl_cow tables referencing heap tables: the checks of
-- INSERT, COPY, UPDATE and upserts (23503, with heap's messages), the
-- actions a heap parent's DELETE / UPDATE takes on an incetl_cow child
-- (CASCADE, SET NULL, SET DEFAULT, RESTRICT, NO ACTION), and deferrable
-- keys checked at commit; then heap tables referencing an incetl_cow
-- parent's PRIMARY KEY / UNIQUE.  Each table has a heap twin given the
-- same statements.
CREATE SCHEMA cow_foreign_keys;
SET search_path = cow_foreign_keys, public;

CREATE TABLE p (id int PRIMARY KEY, name text);
INSERT INTO p SELECT g, 'p' || g FROM generate_series(1, 6) g;

CREATE TABLE c (id int, pid int REFERENCES p, note text) USING incetl_cow;
SELECT incetl.set_table_options('c', record_key => 'id', file_group_rows => 4);
CREATE TABLE ch (id int, pid int REFERENCES p, note text);

-- inserts are checked; a failing statement writes nothing
\set VERBOSITY default
INSERT INTO c VALUES (1, 1, 'a'), (2, 2, 'b'), (3, 3, 'c');
INSERT INTO ch VALUES (1, 1, 'a'), (2, 2, 'b'), (3, 3, 'c');
INSERT INTO c VALUES (4, 4, 'd'), (5, 99, 'e');
\echo :LAST_ERROR_SQLSTATE
INSERT INTO ch VALUES (4, 4, 'd'), (5, 99, 'e');
INSERT INTO c SELECT 10 + g, g * 50, 'sel' FROM generate_series(1, 2) g;
SELECT count(*) FROM c;
COPY c FROM STDIN;
7	1	copied
8	77	copied
\.
COPY ch FROM STDIN;
7	1	copied
8	77	copied
\.
COPY c FROM STDIN;
7	1	copied
\.
COPY ch FROM STDIN;
7	1	copied
\.
INSERT INTO c VALUES (9, NULL, 'no parent');   -- NULL references nothing
INSERT INTO ch VALUES (9, NULL, 'no parent');
-- updates: a key changed to a missing parent fails; other columns pass
UPDATE c SET pid = 42 WHERE id = 2;
\echo :LAST_ERROR_SQLSTATE
UPDATE c SET note = 'changed' WHERE id = 2;
UPDATE ch SET note = 'changed' WHERE id = 2;
UPDATE c SET pid = 5 WHERE id = 3;
UPDATE ch SET pid = 5 WHERE id = 3;
-- an upsert by record key is an insert for the check
INSERT INTO c VALUES (1, 66, 'upsert');
INSERT INTO c VALUES (1, 6, 'upsert');
UPDATE ch SET pid = 6, note = 'upsert' WHERE id = 1;
-- in a transaction, after the row was written in it
BEGIN;
INSERT INTO c VALUES (20, 4, 'txn');
INSERT INTO ch VALUES (20, 4, 'txn');
UPDATE c SET note = 'txn2' WHERE id = 20;
UPDATE ch SET note = 'txn2' WHERE id = 20;
SAVEPOINT s;
UPDATE c SET pid = 1000 WHERE id = 20;
ROLLBACK TO s;
COMMIT;
SELECT * FROM c ORDER BY id;
SELECT count(*) FROM ((TABLE c EXCEPT ALL TABLE ch) UNION ALL (TABLE ch EXCEPT ALL TABLE c)) d;

-- statements spilled (maintenance_work_mem = 1MB, keys out of order) or
-- merged in parts (keys ascending) check every row they store
CREATE TABLE cbig (id int, pid int REFERENCES p, pad text) USING incetl_cow;
SELECT incetl.set_table_options('cbig', record_key => 'id', file_group_rows => 1000);
SET maintenance_work_mem = '1MB';
INSERT INTO cbig SELECT g, CASE WHEN g = 15000 THEN 99 ELSE 1 + g % 6 END, repeat('x', 60)
FROM generate_series(1, 20000) g ORDER BY (g * 7919) % 20011;
\echo :LAST_ERROR_SQLSTATE
INSERT INTO cbig SELECT g, CASE WHEN g = 20000 THEN 99 ELSE 1 + g % 6 END, repeat('x', 60)
FROM generate_series(1, 20000) g;
\echo :LAST_ERROR_SQLSTATE
INSERT INTO cbig SELECT g, 1 + g % 6, repeat('x', 60)
FROM generate_series(1, 20000) g ORDER BY (g * 7919) % 20011;
SELECT count(*) FROM cbig;
RESET maintenance_work_mem;
DROP TABLE cbig;

-- the heap parent's actions on incetl_cow children
CREATE TABLE kids_cascade (id int, pid int REFERENCES p ON DELETE CASCADE ON UPDATE CASCADE) USING incetl_cow;
CREATE TABLE kids_null (id int, pid int REFERENCES p ON DELETE SET NULL) USING incetl_cow;
CREATE TABLE kids_default (id int, pid int DEFAULT 6 REFERENCES p ON DELETE SET DEFAULT) USING incetl_cow;
CREATE TABLE kids_restrict (id int, pid int REFERENCES p ON DELETE RESTRICT ON UPDATE RESTRICT) USING incetl_cow;
SELECT incetl.set_table_options('kids_cascade', record_key => 'id');
INSERT INTO kids_cascade VALUES (1, 1), (2, 1), (3, 2), (4, 3);
INSERT INTO kids_null VALUES (1, 1), (2, 2);
INSERT INTO kids_default VALUES (1, 1), (2, 2);
INSERT INTO kids_restrict VALUES (1, 5);
DELETE FROM c WHERE pid = 1;
DELETE FROM ch WHERE pid = 1;
DELETE FROM p WHERE id = 1;
SELECT * FROM kids_cascade ORDER BY id;
SELECT * FROM kids_null ORDER BY id;
SELECT * FROM kids_default ORDER BY id;
UPDATE p SET id = 102 WHERE id = 2;
\echo :LAST_ERROR_SQLSTATE
DELETE FROM c WHERE pid = 2;
DELETE FROM ch WHERE pid = 2;
DELETE FROM kids_null WHERE pid = 2;
DELETE FROM kids_default WHERE pid = 2;
UPDATE p SET id = 102 WHERE id = 2;
SELECT * FROM kids_cascade ORDER BY id;
-- NO ACTION (c) and RESTRICT (kids_restrict) refuse to orphan a child
DELETE FROM p WHERE id = 5;
\echo :LAST_ERROR_SQLSTATE
DELETE FROM c WHERE pid = 5;
DELETE FROM ch WHERE pid = 5;
DELETE FROM p WHERE id = 5;
\echo :LAST_ERROR_SQLSTATE
UPDATE p SET id = 105 WHERE id = 5;
\echo :LAST_ERROR_SQLSTATE
-- in a transaction that deleted the child first, the parent goes
BEGIN;
DELETE FROM kids_restrict;
DELETE FROM p WHERE id = 5;
COMMIT;
SELECT id FROM p ORDER BY id;

-- deferrable keys are checked at commit
CREATE TABLE kids_def (id int, pid int REFERENCES p DEFERRABLE INITIALLY DEFERRED) USING incetl_cow;
BEGIN;
INSERT INTO kids_def VALUES (1, 200);
INSERT INTO p VALUES (200, 'late parent');
COMMIT;
BEGIN;
INSERT INTO kids_def VALUES (2, 201);
COMMIT;
\echo :LAST_ERROR_SQLSTATE
BEGIN;
INSERT INTO kids_def VALUES (3, 202);
SET CONSTRAINTS ALL IMMEDIATE;
\echo :LAST_ERROR_SQLSTATE
ROLLBACK;
SELECT * FROM kids_def ORDER BY id;

-- heap children of an incetl_cow parent (its PRIMARY KEY / UNIQUE): the
-- checks lock the parent's row FOR KEY SHARE (a row lock of the table);
-- its DELETE and key UPDATE run NO ACTION, RESTRICT, CASCADE, SET NULL on
-- the children; each against a heap parent given the same statements
CREATE TABLE cp (id int PRIMARY KEY, code text UNIQUE, name text) USING incetl_cow;
CREATE TABLE hp (id int PRIMARY KEY, code text UNIQUE, name text);
INSERT INTO cp VALUES (1, 'a', 'one'), (2, 'b', 'two'), (3, 'c', 'three'), (4, 'd', 'four');
INSERT INTO hp VALUES (1, 'a', 'one'), (2, 'b', 'two'), (3, 'c', 'three'), (4, 'd', 'four');
CREATE TABLE k_noaction (id int, pid int REFERENCES cp);
CREATE TABLE k_cascade (id int, code text REFERENCES cp (code) ON DELETE CASCADE ON UPDATE CASCADE);
CREATE TABLE k_null (id int, pid int REFERENCES cp ON DELETE SET NULL);
CREATE TABLE k_restrict (id int, pid int REFERENCES cp ON DELETE RESTRICT ON UPDATE RESTRICT);
CREATE TABLE kh_noaction (id int, pid int REFERENCES hp);
CREATE TABLE kh_cascade (id int, code text REFERENCES hp (code) ON DELETE CASCADE ON UPDATE CASCADE);
CREATE TABLE kh_null (id int, pid int REFERENCES hp ON DELETE SET NULL);
CREATE TABLE kh_restrict (id int, pid int REFERENCES hp ON DELETE RESTRICT ON UPDATE RESTRICT);
INSERT INTO k_noaction VALUES (1, 1);
INSERT INTO kh_noaction VALUES (1, 1);
INSERT INTO k_noaction VALUES (2, 99);
\echo :LAST_ERROR_SQLSTATE
INSERT INTO kh_noaction VALUES (2, 99);
INSERT INTO k_cascade VALUES (1, 'b'), (2, 'b'), (3, 'c');
INSERT INTO kh_cascade VALUES (1, 'b'), (2, 'b'), (3, 'c');
INSERT INTO k_null VALUES (1, 3), (2, 4);
INSERT INTO kh_null VALUES (1, 3), (2, 4);
INSERT INTO k_restrict VALUES (1, 4);
INSERT INTO kh_restrict VALUES (1, 4);
-- NO ACTION: a referenced row can be neither deleted nor re-keyed
DELETE FROM cp WHERE id = 1;
\echo :LAST_ERROR_SQLSTATE
DELETE FROM hp WHERE id = 1;
UPDATE cp SET id = 10 WHERE id = 1;
UPDATE hp SET id = 10 WHERE id = 1;
-- other columns keep the reference
UPDATE cp SET name = 'uno' WHERE id = 1;
UPDATE hp SET name = 'uno' WHERE id = 1;
-- CASCADE follows a key change and a delete
UPDATE cp SET code = 'bb' WHERE id = 2;
UPDATE hp SET code = 'bb' WHERE id = 2;
SELECT * FROM k_cascade ORDER BY id;
DELETE FROM cp WHERE code = 'c';
DELETE FROM hp WHERE code = 'c';
SELECT * FROM k_cascade ORDER BY id;
SELECT * FROM k_null ORDER BY id;
-- RESTRICT
DELETE FROM cp WHERE id = 4;
\echo :LAST_ERROR_SQLSTATE
DELETE FROM hp WHERE id = 4;
-- deferrable: the child may come first within the transaction
CREATE TABLE k_def (id int, pid int REFERENCES cp DEFERRABLE INITIALLY DEFERRED);
BEGIN;
INSERT INTO k_def VALUES (1, 50);
INSERT INTO cp VALUES (50, 'x', 'late');
COMMIT;
BEGIN;
INSERT INTO k_def VALUES (2, 51);
COMMIT;
\echo :LAST_ERROR_SQLSTATE
INSERT INTO hp VALUES (50, 'x', 'late');   -- the twin follows
SELECT count(*) FROM ((TABLE cp EXCEPT ALL TABLE hp) UNION ALL (TABLE hp EXCEPT ALL TABLE cp)) d;
SELECT (SELECT count(*) FROM k_noaction) = (SELECT count(*) FROM kh_noaction) AS same_noaction,
       (SELECT array_agg(code ORDER BY id) FROM k_cascade) AS cascade,
       (SELECT array_agg(code ORDER BY id) FROM kh_cascade) AS heap_cascade,
       (SELECT array_agg(pid ORDER BY id) FROM k_null) AS set_null,
       (SELECT array_agg(pid ORDER BY id) FROM kh_null) AS heap_set_null;

RESET search_path;
SET client_min_messages = warning;
DROP SCHEMA cow_foreign_keys CASCADE;
