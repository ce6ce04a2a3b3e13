-- Row locks on incetl_cow tables (table_tuple_lock): SELECT ... FOR UPDATE /
-- NO KEY UPDATE / SHARE / KEY SHARE, NOWAIT, SKIP LOCKED, cursors, joins,
-- LIMIT, FOR UPDATE OF, after the transaction's own writes.  A row lock
-- locks the table's rows as a whole to the end of the transaction (see
-- doc/incetl_cow.md, Row locks); concurrent behaviour is in
-- test/specs/cow_row_locks.spec.  Every result is compared with a heap copy.
CREATE SCHEMA cow_row_locks;
SET search_path = cow_row_locks, public;

CREATE TABLE rl (id int, v text, ts int) USING incetl_cow;
SELECT incetl.set_table_options('rl', record_key => 'id', precombine => 'ts',
                                file_group_rows => 4);
INSERT INTO rl SELECT g, 'v' || g, 1 FROM generate_series(1, 10) g;
CREATE TABLE hp (id int, v text, ts int);
INSERT INTO hp SELECT g, 'v' || g, 1 FROM generate_series(1, 10) g;
CREATE TABLE notes (id int, note text);
INSERT INTO notes VALUES (2, 'two'), (5, 'five'), (11, 'none');

-- each strength returns the rows a plain SELECT returns
SELECT * FROM rl WHERE id < 4 ORDER BY id FOR UPDATE;
SELECT * FROM rl WHERE id < 4 ORDER BY id FOR NO KEY UPDATE;
SELECT * FROM rl WHERE id < 4 ORDER BY id FOR SHARE;
SELECT * FROM rl WHERE id < 4 ORDER BY id FOR KEY SHARE;
SELECT count(*) FROM (
  (SELECT * FROM (SELECT * FROM rl WHERE id % 3 = 0 FOR UPDATE) a
   EXCEPT ALL SELECT * FROM hp WHERE id % 3 = 0)
  UNION ALL
  (SELECT * FROM hp WHERE id % 3 = 0
   EXCEPT ALL SELECT * FROM (SELECT * FROM rl WHERE id % 3 = 0 FOR UPDATE) b)) d;
-- joins with a heap table, FOR UPDATE OF either side or both, LIMIT
SELECT rl.id, n.note FROM rl JOIN notes n USING (id) ORDER BY 1 FOR UPDATE OF rl;
SELECT rl.id, n.note FROM rl JOIN notes n USING (id) ORDER BY 1 FOR SHARE OF n;
SELECT rl.id, n.note FROM rl JOIN notes n USING (id) ORDER BY 1 FOR UPDATE;
SELECT id FROM rl ORDER BY id LIMIT 2 FOR UPDATE;
SELECT id FROM rl ORDER BY id DESC LIMIT 3 OFFSET 1 FOR SHARE;
-- in a subquery and with an index scan
CREATE INDEX rl_v ON rl (v);
SET enable_seqscan = off;
SELECT id, v FROM rl WHERE v = 'v7' FOR UPDATE;
RESET enable_seqscan;
SELECT count(*) FROM (SELECT * FROM rl FOR KEY SHARE) s;

-- after this transaction's own writes: the rows as written
BEGIN;
UPDATE rl SET v = 'x' WHERE id = 3;
UPDATE hp SET v = 'x' WHERE id = 3;
INSERT INTO rl VALUES (11, 'v11', 1);
INSERT INTO hp VALUES (11, 'v11', 1);
DELETE FROM rl WHERE id = 4;
DELETE FROM hp WHERE id = 4;
SELECT * FROM rl WHERE id <= 5 OR id = 11 ORDER BY id FOR UPDATE;
SELECT * FROM (SELECT * FROM rl FOR UPDATE) a EXCEPT ALL SELECT * FROM hp;
SELECT * FROM hp EXCEPT ALL SELECT * FROM (SELECT * FROM rl FOR UPDATE) b;
-- a cursor FOR UPDATE locks as it fetches; WHERE CURRENT OF follows
DECLARE c CURSOR FOR SELECT * FROM rl WHERE id >= 8 ORDER BY id FOR UPDATE;
FETCH 1 FROM c;
UPDATE rl SET v = 'cur' WHERE CURRENT OF c;
FETCH 1 FROM c;
CLOSE c;
-- a row updated by a later command than the cursor's is skipped, as heap
-- skips it (TM_SelfModified); rows only carried into new versions are not
DECLARE c2 CURSOR FOR SELECT * FROM rl WHERE id BETWEEN 5 AND 7 ORDER BY id FOR UPDATE;
DECLARE h2 CURSOR FOR SELECT * FROM hp WHERE id BETWEEN 5 AND 7 ORDER BY id FOR UPDATE;
UPDATE rl SET v = 'later' WHERE id = 6;
UPDATE hp SET v = 'later' WHERE id = 6;
FETCH ALL FROM c2;
FETCH ALL FROM h2;
COMMIT;
SELECT * FROM rl WHERE id BETWEEN 3 AND 11 ORDER BY id;

-- a row the statement itself deleted is not returned (TM_SelfModified)
WITH d AS (DELETE FROM rl WHERE id = 1 RETURNING id)
SELECT * FROM rl WHERE id IN (SELECT id FROM d) FOR UPDATE;
WITH d AS (DELETE FROM hp WHERE id = 1 RETURNING id)
SELECT * FROM hp WHERE id IN (SELECT id FROM d) FOR UPDATE;
SELECT count(*) FROM rl WHERE id = 1;

-- without a record key
CREATE TABLE nk (a int, b text) USING incetl_cow;
INSERT INTO nk VALUES (1, 'a'), (2, 'b'), (3, 'c');
SELECT * FROM nk WHERE a >= 2 ORDER BY a FOR UPDATE;
BEGIN;
DECLARE k CURSOR FOR SELECT * FROM nk ORDER BY a FOR SHARE;
INSERT INTO nk VALUES (4, 'd');
FETCH ALL FROM k;
COMMIT;

-- NOWAIT, SKIP LOCKED and waiting, against a lock held by a prepared
-- transaction (which is never waited for: 55P03 at once, as for writers)
\set VERBOSITY terse
BEGIN;
SELECT id FROM rl WHERE id = 2 FOR SHARE;
PREPARE TRANSACTION 'cow_row_locks_share';
-- share locks do not conflict with each other
SELECT id FROM rl WHERE id = 2 FOR SHARE NOWAIT;
SELECT id FROM rl WHERE id = 2 FOR KEY SHARE;
-- update locks and writers conflict with them
SELECT id FROM rl WHERE id = 2 FOR UPDATE NOWAIT;
SELECT id FROM rl WHERE id = 2 FOR NO KEY UPDATE NOWAIT;
SELECT id FROM rl WHERE id = 2 FOR UPDATE SKIP LOCKED;
SELECT rl.id, n.note FROM rl JOIN notes n USING (id) FOR UPDATE OF rl SKIP LOCKED;
SELECT rl.id, n.note FROM rl JOIN notes n USING (id) ORDER BY 1 FOR UPDATE OF n SKIP LOCKED;
SELECT id FROM rl WHERE id = 2 FOR UPDATE;
INSERT INTO rl VALUES (2, 'w', 2);
UPDATE rl SET v = 'w' WHERE id = 2;
-- readers are not blocked
SELECT id, v FROM rl WHERE id = 2;
ROLLBACK PREPARED 'cow_row_locks_share';
-- a prepared writer holds the rows locked too
BEGIN;
INSERT INTO rl VALUES (20, 'w', 2);
PREPARE TRANSACTION 'cow_row_locks_writer';
SELECT id FROM rl WHERE id = 2 FOR KEY SHARE;
SELECT id FROM rl WHERE id = 2 FOR SHARE NOWAIT;
SELECT id FROM rl WHERE id = 2 FOR SHARE SKIP LOCKED;
SELECT id FROM rl WHERE id = 2;
COMMIT PREPARED 'cow_row_locks_writer';
SELECT id FROM rl WHERE id IN (2, 20) ORDER BY id FOR SHARE NOWAIT;
\set VERBOSITY default

-- the lock is held to the end of the transaction, also after the
-- statement, and a share locker may write afterwards (an upgrade)
BEGIN;
SELECT id FROM rl WHERE id = 2 FOR SHARE;
SELECT mode, granted FROM pg_locks
WHERE locktype = 'object' AND classid = 'pg_class'::regclass
  AND objid = 'rl'::regclass AND objsubid = 32767 AND pid = pg_backend_pid();
UPDATE rl SET v = 'up' WHERE id = 2;
SELECT locktype, mode, granted FROM pg_locks
WHERE (relation = 'rl'::regclass OR (classid = 'pg_class'::regclass AND objid = 'rl'::regclass))
  AND pid = pg_backend_pid() ORDER BY locktype, mode;
COMMIT;
SELECT id, v FROM rl WHERE id = 2;

-- scans read xmin (the row's writer); ctid works
SELECT xmin <> '0' AS has_xmin FROM rl WHERE id = 2 FOR UPDATE;
SELECT ctid IS NOT NULL AS has_ctid FROM rl WHERE id = 2 FOR UPDATE;

DROP SCHEMA cow_row_locks CASCADE;
