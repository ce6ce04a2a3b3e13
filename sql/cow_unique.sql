-- PRIMARY KEY, UNIQUE and exclusion constraints on incetl_cow tables: the
-- check at the end of each statement, the record-key rule, deferrable
-- constraints.  Every statement runs against a heap table and an
-- incetl_cow table built alike; "same" means both gave the same outcome
-- (the error's SQLSTATE, message and detail, table names made equal) and
-- hold the same rows afterwards.
CREATE SCHEMA cow_unique;
SET search_path = cow_unique, public;

\getenv abs_srcdir PG_ABS_SRCDIR
\set heap_compare :abs_srcdir '/sql/include/heap_compare.sql'
\i :heap_compare

-- a keyless table with a PRIMARY KEY behaves as heap
CREATE TABLE h1 (id int PRIMARY KEY, v text);
CREATE TABLE c1 (id int PRIMARY KEY, v text) USING incetl_cow;
SELECT compare('INSERT INTO %1$s VALUES (1, ''a''), (2, ''b'')');
SELECT compare('INSERT INTO %1$s VALUES (1, ''x'')');
SELECT compare('INSERT INTO %1$s VALUES (3, ''c''), (3, ''d'')');
SELECT compare('INSERT INTO %1$s SELECT g, ''s'' FROM generate_series(2, 4) g');
SELECT compare('INSERT INTO %1$s SELECT g, ''s'' FROM generate_series(3, 4) g');
SELECT compare('UPDATE %1$s SET id = 2 WHERE id = 1');
SELECT compare('UPDATE %1$s SET v = v || ''!'' WHERE id = 1');
SELECT compare('INSERT INTO %1$s VALUES (NULL, ''n'')');
-- after DELETE of the old row, its value is free
SELECT compare('DELETE FROM %1$s WHERE id = 1');
SELECT compare('INSERT INTO %1$s VALUES (1, ''again'')');
-- COPY
COPY c1 FROM stdin;
5	copied
\.
COPY c1 FROM stdin;
6	copied
5	twice
\.
SELECT rows_of('c1');
DELETE FROM c1 WHERE id = 5;

-- UPDATE shifting every key: heap fails on a transient duplicate; the
-- check at the end of the statement sees none (as DEFERRABLE INITIALLY
-- IMMEDIATE does on heap)
SELECT try('UPDATE %1$s SET id = id + 1', 'h1') AS heap,
       try('UPDATE %1$s SET id = id + 1', 'c1') AS cow;
SELECT rows_of('c1');
UPDATE h1 SET id = -id;     -- heap needs two steps
UPDATE h1 SET id = 1 - id;
SELECT compare('SELECT 1');

-- across statements of one transaction, and savepoints
BEGIN;
INSERT INTO c1 VALUES (10, 't');
INSERT INTO c1 VALUES (10, 't2');
ROLLBACK;
BEGIN;
INSERT INTO c1 VALUES (10, 't');
SAVEPOINT s;
INSERT INTO c1 VALUES (11, 'u');
ROLLBACK TO SAVEPOINT s;
INSERT INTO c1 VALUES (11, 'u2');
SAVEPOINT s2;
INSERT INTO c1 VALUES (11, 'dup');
ROLLBACK TO SAVEPOINT s2;
DELETE FROM c1 WHERE id = 10;
INSERT INTO c1 VALUES (10, 'back');
COMMIT;
SELECT * FROM c1 WHERE id >= 10 ORDER BY id;
DELETE FROM c1 WHERE id >= 10;

-- NULLs: as btree (NULLS DISTINCT by default, NULLS NOT DISTINCT too)
CREATE TABLE hn (a int UNIQUE, b int UNIQUE NULLS NOT DISTINCT);
CREATE TABLE cn (a int UNIQUE, b int UNIQUE NULLS NOT DISTINCT) USING incetl_cow;
SELECT compare('INSERT INTO %1$s VALUES (NULL, 1), (NULL, 2)', 'hn', 'cn');
SELECT compare('INSERT INTO %1$s VALUES (1, NULL)', 'hn', 'cn');
SELECT compare('INSERT INTO %1$s VALUES (2, NULL)', 'hn', 'cn');

-- multi-column
CREATE TABLE hm (a int, b text, UNIQUE (a, b));
CREATE TABLE cm (a int, b text, UNIQUE (a, b)) USING incetl_cow;
SELECT compare('INSERT INTO %1$s VALUES (1, ''x''), (1, ''y''), (2, ''x'')', 'hm', 'cm');
SELECT compare('INSERT INTO %1$s VALUES (1, ''y'')', 'hm', 'cm');
SELECT compare('UPDATE %1$s SET b = ''x'' WHERE a = 1 AND b = ''y''', 'hm', 'cm');
-- a partial unique index checks only its rows
CREATE UNIQUE INDEX ON hm (a) WHERE b = 'z';
CREATE UNIQUE INDEX ON cm (a) WHERE b = 'z';
SELECT compare('INSERT INTO %1$s VALUES (1, ''z'')', 'hm', 'cm');
SELECT compare('INSERT INTO %1$s VALUES (2, ''z''), (2, ''w'')', 'hm', 'cm');
SELECT compare('UPDATE %1$s SET b = ''z'' WHERE a = 2 AND b = ''w''', 'hm', 'cm');

-- index builds: duplicates among the current rows fail as on heap; rows
-- replaced or deleted do not count
CREATE TABLE hb (a int);
CREATE TABLE cb (a int) USING incetl_cow;
SELECT compare('INSERT INTO %1$s VALUES (1), (1), (2)', 'hb', 'cb');
SELECT compare('CREATE UNIQUE INDEX %1$s_a ON %1$s (a)', 'hb', 'cb');
SELECT compare('ALTER TABLE %1$s ADD PRIMARY KEY (a)', 'hb', 'cb');
SELECT compare('DELETE FROM %1$s WHERE a = 1', 'hb', 'cb');
SELECT compare('INSERT INTO %1$s VALUES (1)', 'hb', 'cb');
SELECT compare('ALTER TABLE %1$s ADD PRIMARY KEY (a)', 'hb', 'cb');
SELECT compare('INSERT INTO %1$s VALUES (2)', 'hb', 'cb');
\d cb

-- the record-key rule: a unique index on exactly the record key is the
-- table's key constraint, never checked: an INSERT of a stored key stays
-- an upsert (precombine, delete markers)
CREATE TABLE k (id int PRIMARY KEY, email text UNIQUE, ts int, gone boolean)
    USING incetl_cow;
SELECT incetl.set_table_options('k', record_key => 'id', precombine => 'ts',
                                delete_marker => 'gone');
INSERT INTO k VALUES (1, 'a@x', 1, false), (2, 'b@x', 1, false);
INSERT INTO k VALUES (1, 'a2@x', 2, false);           -- upserts
INSERT INTO k VALUES (1, 'old@x', 0, false);          -- loses to ts 2
INSERT INTO k VALUES (3, 'c@x', 1, false), (3, 'c2@x', 5, false);  -- collapses
SELECT * FROM k ORDER BY id;
COPY k FROM stdin;
2	b2@x	3	f
\.
SELECT * FROM k ORDER BY id;
INSERT INTO k VALUES (3, NULL, 9, true);              -- deletes 3
SELECT * FROM k ORDER BY id;
-- another UNIQUE on a keyed table is enforced across upserts
INSERT INTO k VALUES (1, 'b2@x', 10, false);
\echo :LAST_ERROR_SQLSTATE
INSERT INTO k VALUES (4, 'a2@x', 1, false);
INSERT INTO k VALUES (4, 'd@x', 1, false), (5, 'd@x', 1, false);
-- replacing a row's own value passes; so does moving a value between keys
-- in one statement, and taking the value of a row deleted by a marker
INSERT INTO k VALUES (1, 'a2@x', 11, false);
INSERT INTO k VALUES (1, 'b2@x', 12, false), (2, 'a2@x', 12, false);
INSERT INTO k VALUES (2, NULL, 13, true), (6, 'a2@x', 1, false);
SELECT * FROM k ORDER BY id;
-- UPDATE onto another row's key replaces it (upsert); onto another row's
-- email fails
UPDATE k SET email = 'b2@x' WHERE id = 6;
\echo :LAST_ERROR_SQLSTATE
UPDATE k SET id = 1 WHERE id = 6;
SELECT * FROM k ORDER BY id;
SELECT operation, rows_inserted, rows_updated, rows_deleted
FROM incetl.commits('k') ORDER BY commit_id DESC LIMIT 1;
-- the rule follows the options: without the record key the PRIMARY KEY is
-- checked like any other
SELECT incetl.set_table_options('k', record_key => '', precombine => '', delete_marker => '');
INSERT INTO k VALUES (1, 'z@x', 1, false);
\echo :LAST_ERROR_SQLSTATE
-- and an index created after the key is the key constraint as well
CREATE TABLE k2 (id int, tag text) USING incetl_cow;
SELECT incetl.set_table_options('k2', record_key => 'id');
INSERT INTO k2 VALUES (1, 'a');
CREATE UNIQUE INDEX ON k2 (id);
INSERT INTO k2 VALUES (1, 'b');
SELECT * FROM k2;
-- a unique index on an expression of the key is not the key constraint
CREATE UNIQUE INDEX ON k2 ((id * 0));
INSERT INTO k2 VALUES (2, 'c');

-- deferrable constraints: INITIALLY DEFERRED fails at COMMIT
CREATE TABLE cd (id int, CONSTRAINT cd_u UNIQUE (id) DEFERRABLE INITIALLY DEFERRED)
    USING incetl_cow;
INSERT INTO cd VALUES (1), (2);
BEGIN;
INSERT INTO cd VALUES (1);
SELECT count(*) FROM cd;
COMMIT;
\echo :LAST_ERROR_SQLSTATE
-- fixed before COMMIT: passes
BEGIN;
INSERT INTO cd VALUES (1);
UPDATE cd SET id = 3 WHERE id = 1 AND ctid = (SELECT max(ctid) FROM cd WHERE id = 1);
COMMIT;
SELECT * FROM cd ORDER BY id;
-- SET CONSTRAINTS ... IMMEDIATE checks what is pending
BEGIN;
INSERT INTO cd VALUES (2);
SET CONSTRAINTS cd_u IMMEDIATE;
ROLLBACK;
BEGIN;
SET CONSTRAINTS cd_u IMMEDIATE;
INSERT INTO cd VALUES (3);
ROLLBACK;
-- DEFERRABLE INITIALLY IMMEDIATE: checked at the end of the statement; an
-- UPDATE swapping two values passes
CREATE TABLE ci (id int, CONSTRAINT ci_u UNIQUE (id) DEFERRABLE) USING incetl_cow;
INSERT INTO ci VALUES (1), (2);
UPDATE ci SET id = 3 - id;
SELECT * FROM ci ORDER BY id;
INSERT INTO ci VALUES (2);
\echo :LAST_ERROR_SQLSTATE
BEGIN;
SET CONSTRAINTS ALL DEFERRED;
INSERT INTO ci VALUES (2);
DELETE FROM ci WHERE id = 2 AND ctid = (SELECT min(ctid) FROM ci WHERE id = 2);
COMMIT;
SELECT * FROM ci ORDER BY id;

-- exclusion constraints
CREATE TABLE hx (r int4range, EXCLUDE USING gist (r WITH &&));
CREATE TABLE cx (r int4range, EXCLUDE USING gist (r WITH &&)) USING incetl_cow;
SELECT compare('INSERT INTO %1$s VALUES (''[1,5)''), (''[5,10)'')', 'hx', 'cx');
SELECT compare('INSERT INTO %1$s VALUES (''[3,6)'')', 'hx', 'cx');
SELECT compare('UPDATE %1$s SET r = ''[1,4)'' WHERE r = ''[1,5)''', 'hx', 'cx');
-- within one statement the row reported first differs from heap's
SELECT try('INSERT INTO %1$s VALUES (''[20,30)''), (''[25,26)'')', 'cx');

-- partitioned tables with incetl_cow partitions
CREATE TABLE hp (id int PRIMARY KEY, v text) PARTITION BY RANGE (id);
CREATE TABLE hp_a PARTITION OF hp FOR VALUES FROM (0) TO (100);
CREATE TABLE hp_b PARTITION OF hp FOR VALUES FROM (100) TO (200);
CREATE TABLE cp (id int PRIMARY KEY, v text) PARTITION BY RANGE (id);
CREATE TABLE cp_a PARTITION OF cp FOR VALUES FROM (0) TO (100) USING incetl_cow;
CREATE TABLE cp_b PARTITION OF cp FOR VALUES FROM (100) TO (200) USING incetl_cow;
SELECT compare('INSERT INTO %1$s VALUES (1, ''a''), (150, ''b'')', 'hp', 'cp');
SELECT compare('INSERT INTO %1$s VALUES (150, ''c'')', 'hp', 'cp');
SELECT compare('INSERT INTO %1$s VALUES (2, ''c''), (2, ''d'')', 'hp', 'cp');
SELECT compare('UPDATE %1$s SET id = 1 WHERE id = 150', 'hp', 'cp');
SELECT compare('UPDATE %1$s SET id = 151 WHERE id = 150', 'hp', 'cp');

-- restore() brings a deleted key back; the PRIMARY KEY still holds after it
CREATE TABLE r1 (id int PRIMARY KEY, v text) USING incetl_cow;
INSERT INTO r1 VALUES (1, 'a'), (2, 'b');
SELECT incetl.latest_commit('r1') AS before_changes \gset
UPDATE r1 SET v = 'z';
DELETE FROM r1 WHERE id = 2;
SELECT incetl.restore('r1', :before_changes) > :before_changes AS restored;
SELECT * FROM r1 ORDER BY id;
INSERT INTO r1 VALUES (2, 'dup');
\echo :LAST_ERROR_SQLSTATE

-- no crash or stale answer after a failed statement: the table still works
SELECT compare('INSERT INTO %1$s VALUES (7, ''seven'')');

DROP SCHEMA cow_unique CASCADE;
