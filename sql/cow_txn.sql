-- incetl_cow and transactions: rollback, savepoints, several statements in
-- one transaction, old snapshots (cursors), writes inside functions.
CREATE SCHEMA cow_txn;
SET search_path = cow_txn, public;

CREATE TABLE acct (id int, balance int, v int) USING incetl_cow;
SELECT incetl.set_table_options('acct', record_key => 'id', precombine => 'v');
INSERT INTO acct SELECT g, 100, 1 FROM generate_series(1, 5) g;

-- Rollback leaves no trace in data or timeline.
BEGIN;
INSERT INTO acct VALUES (1, 0, 2), (6, 600, 1);
SELECT * FROM acct ORDER BY id;
ROLLBACK;
SELECT * FROM acct ORDER BY id;
SELECT count(*) AS commits FROM incetl.commits('acct');

-- Two statements in one transaction: the second sees the first.
BEGIN;
INSERT INTO acct VALUES (1, 110, 2);
INSERT INTO acct VALUES (1, 120, 3), (2, 220, 3);
SELECT * FROM acct WHERE id <= 2 ORDER BY id;
UPDATE acct SET balance = balance + 1 WHERE id = 1;
SELECT * FROM acct WHERE id <= 2 ORDER BY id;
COMMIT;
SELECT * FROM acct ORDER BY id;

-- Savepoints.
BEGIN;
INSERT INTO acct VALUES (3, 330, 5);
SAVEPOINT s1;
INSERT INTO acct VALUES (4, 440, 5);
DELETE FROM acct WHERE id = 5;
SELECT * FROM acct WHERE id >= 3 ORDER BY id;
ROLLBACK TO SAVEPOINT s1;
SELECT * FROM acct WHERE id >= 3 ORDER BY id;
INSERT INTO acct VALUES (5, 550, 5);
RELEASE SAVEPOINT s1;
COMMIT;
SELECT * FROM acct ORDER BY id;

-- An error inside a statement discards its buffered rows only.
BEGIN;
INSERT INTO acct VALUES (1, 0, 9);
SAVEPOINT s2;
INSERT INTO acct VALUES (2, 0, 9), (NULL, 0, 9);
ROLLBACK TO SAVEPOINT s2;
COMMIT;
SELECT * FROM acct WHERE id <= 2 ORDER BY id;

-- A cursor keeps the snapshot it was opened with.
BEGIN;
DECLARE c CURSOR FOR SELECT id, balance FROM acct ORDER BY id;
FETCH 2 FROM c;
UPDATE acct SET balance = -1;
INSERT INTO acct VALUES (7, 700, 1);
FETCH ALL FROM c;
CLOSE c;
SELECT * FROM acct ORDER BY id;
ROLLBACK;
SELECT * FROM acct ORDER BY id;

-- Writes from inside a function, including an exception block that
-- rolls back a subtransaction while the outer statement keeps buffering.
CREATE FUNCTION put(k int, b int) RETURNS int LANGUAGE plpgsql AS $$
BEGIN
    BEGIN
        INSERT INTO acct VALUES (k, b, 100);
        IF b < 0 THEN
            RAISE EXCEPTION 'negative';
        END IF;
    EXCEPTION WHEN raise_exception THEN
        RETURN 0;
    END;
    RETURN 1;
END $$;
SELECT put(8, 800), put(9, -900), put(10, 1000);
SELECT * FROM acct WHERE id >= 8 ORDER BY id;

-- Counts as seen by the timeline.
SELECT commit_id, operation, rows_inserted, rows_updated, rows_deleted
FROM incetl.commits('acct') ORDER BY commit_id;


-- What a transaction wrote, as the pipeline layer reads it.
BEGIN;
SELECT * FROM incetl.cow_write_counts('acct');
INSERT INTO acct VALUES (1, 1, 1000), (12, 12, 1), (13, 13, 1);
DELETE FROM acct WHERE id = 13;
SELECT rows_inserted, rows_updated, rows_deleted,
       last_commit_id = (SELECT max(commit_id) FROM incetl.commits('acct')) AS last_is_max
FROM incetl.cow_write_counts('acct');
COMMIT;

-- AFTER ROW triggers and foreign keys work (sql/cow_triggers.sql,
-- sql/cow_foreign_keys.sql): the insert fires the trigger, the child's
-- row is checked against its parent (23503)
CREATE FUNCTION noop() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE NOTICE 'after % of %', TG_OP, NEW.id; RETURN NULL; END $$;
CREATE TRIGGER acct_after AFTER INSERT ON acct FOR EACH ROW EXECUTE FUNCTION noop();
INSERT INTO acct VALUES (20, 0, 1);
DROP TRIGGER acct_after ON acct;
CREATE TABLE parent (id int PRIMARY KEY);
CREATE TABLE child (pid int REFERENCES parent) USING incetl_cow;
INSERT INTO child VALUES (1);
-- BEFORE ROW triggers work
CREATE FUNCTION bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN NEW.balance := NEW.balance * 2; RETURN NEW; END $$;
CREATE TRIGGER acct_before BEFORE INSERT ON acct FOR EACH ROW EXECUTE FUNCTION bump();
INSERT INTO acct VALUES (21, 21, 1);
SELECT * FROM acct WHERE id = 21;

RESET search_path;
SET client_min_messages = warning;
DROP SCHEMA cow_txn CASCADE;

-- A statement that fails in a savepoint (a NULL key after other rows),
-- rolled back: the transaction's next write is merged at its end and seen
-- by the transaction (found by test/fuzz: it stayed buffered until COMMIT)
CREATE TABLE tx_abort (k int, p int) USING incetl_cow;
SELECT incetl.set_table_options('tx_abort', record_key => 'k', precombine => 'p');
BEGIN;
INSERT INTO tx_abort VALUES (199, 8), (204, 6);
SAVEPOINT s;
INSERT INTO tx_abort VALUES (1, 5), (NULL, 4);
ROLLBACK TO SAVEPOINT s;
UPDATE tx_abort SET p = NULL WHERE k = 199;
SELECT * FROM tx_abort ORDER BY k;
INSERT INTO tx_abort VALUES (300, 1);
SELECT * FROM tx_abort ORDER BY k;
COMMIT;
SELECT * FROM tx_abort ORDER BY k;
SELECT operation, rows_inserted, rows_updated, rows_deleted FROM incetl.commits('tx_abort') ORDER BY commit_id;
DROP TABLE tx_abort;

-- A statement that fails at its first row (a NULL record key) inside a
-- savepoint, then a new record key in the same transaction: the next load
-- buffers and orders its rows by the new key, not the failed statement's
-- (it once kept the old key's ordering: file groups out of key order).
CREATE TABLE tx_rekey (k int, k2 int, v text) USING incetl_cow;
SELECT incetl.set_table_options('tx_rekey', record_key => 'k', file_group_rows => 3);
BEGIN;
SAVEPOINT s;
INSERT INTO tx_rekey VALUES (NULL, 0, 'x');
ROLLBACK TO SAVEPOINT s;
SELECT incetl.set_table_options('tx_rekey', record_key => 'k,k2');
SET LOCAL maintenance_work_mem = '1MB';
-- nearly in key order, keys repeating with different k2
INSERT INTO tx_rekey
SELECT g - (g % 5 = 0)::int, g % 3, 'v' || g
FROM generate_series(1, 300) g
ORDER BY g + CASE WHEN g % 7 = 0 THEN -15 WHEN g % 11 = 0 THEN 40 ELSE 0 END, g;
COMMIT;
SELECT count(*), count(DISTINCT (k, k2)) FROM tx_rekey;
SELECT * FROM incetl.verify('tx_rekey');
DROP TABLE tx_rekey;

-- The fuzzer's seed 224458011: a statement failing at its first row (NULL
-- key) after an UPDATE and a TRUNCATE in a savepoint, rolled back, then a
-- COPY and an UPDATE in the same transaction: the backend crashed
-- (the failed statement's state outlived its subtransaction).
CREATE TABLE tx_crash (k int, k2 int, p int, d boolean, v text) USING incetl_cow;
SELECT incetl.set_table_options('tx_crash', record_key => 'k', precombine => 'p', delete_marker => 'd', file_group_rows => 3, retain_commits => 1);
CREATE TABLE tx_stage (seq int, k int, k2 int, p int, d boolean, v text);
BEGIN;
DELETE FROM tx_stage;
INSERT INTO tx_stage VALUES (1, (SELECT coalesce(max(k), 0) FROM tx_crash) + 35, 1, 9, true, 'eee63'), (2, (SELECT coalesce(max(k), 0) FROM tx_crash) + 35, 2, 9, false, 'eee5'), (3, (SELECT coalesce(max(k), 0) FROM tx_crash) + 37, 2, 4, false, 'b38'), (4, (SELECT coalesce(max(k), 0) FROM tx_crash) + 38, 0, 2, false, 'f20'), (5, (SELECT coalesce(max(k), 0) FROM tx_crash) + 43, 1, 6, false, 'dd48'), (6, (SELECT coalesce(max(k), 0) FROM tx_crash) + 53, 2, 7, false, 'c90'), (7, (SELECT coalesce(max(k), 0) FROM tx_crash) + 55, 0, 6, false, 'b48');
INSERT INTO tx_crash (k, k2, p, d, v) VALUES (35, 1, 9, true, 'eee63'), (35, 2, 9, false, 'eee5'), (37, 2, 4, false, 'b38'), (38, 0, 2, false, 'f20'), (43, 1, 6, false, 'dd48'), (53, 2, 7, false, 'c90'), (55, 0, 6, false, 'b48');
DELETE FROM tx_stage;
INSERT INTO tx_stage VALUES (1, (SELECT coalesce(max(k), 0) FROM tx_crash) + 56, 2, 8, false, 'b92'), (2, (SELECT coalesce(max(k), 0) FROM tx_crash) + 57, 1, 8, NULL, 'eee6'), (3, (SELECT coalesce(max(k), 0) FROM tx_crash) + 60, 1, 1, false, 'a94');
INSERT INTO tx_crash (k, k2, p, d, v) VALUES (111, 2, 8, false, 'b92'), (112, 1, 8, NULL, 'eee6'), (115, 1, 1, false, 'a94');
SAVEPOINT s1;
UPDATE tx_crash SET p = p + 1 WHERE k % 5 = 1;
TRUNCATE tx_crash;
INSERT INTO tx_crash (k, v) VALUES (NULL, 'x');
ROLLBACK TO SAVEPOINT s1;
DELETE FROM tx_stage;
INSERT INTO tx_stage VALUES (1, 5, 0, 9, false, 'a26'), (2, 17, 0, 8, false, 'eee82'), (3, 6, 1, 1, false, 'a60'), (4, 13, 2, 8, true, 'c45'), (5, 41, 1, 6, false, 'a89'), (6, 23, 1, 5, false, 'b83'), (7, 55, 1, NULL, true, 'dd46'), (8, 38, 2, 5, false, 'a29'), (9, 1, 0, 4, false, 'b65'), (10, 5, 1, 1, false, 'c59'), (11, 4, 0, 0, false, 'dd63'), (12, 36, 1, 1, true, 'f0'), (13, 22, 2, 5, false, 'c15'), (14, 19, 2, 1, false, 'b43'), (15, 57, 1, 1, true, 'f99'), (16, 7, 2, 2, true, 'c96'), (17, 47, 0, 1, false, 'dd34'), (18, 32, 1, 2, true, 'b31'), (19, 38, 0, 0, false, 'b4'), (20, 32, 1, 1, true, 'f43');
COPY tx_crash (k, k2, p, d, v) FROM STDIN;
5	0	9	f	a26
17	0	8	f	eee82
6	1	1	f	a60
13	2	8	t	c45
41	1	6	f	a89
23	1	5	f	b83
55	1	\N	t	dd46
38	2	5	f	a29
1	0	4	f	b65
5	1	1	f	c59
4	0	0	f	dd63
36	1	1	t	f0
22	2	5	f	c15
19	2	1	f	b43
57	1	1	t	f99
7	2	2	t	c96
47	0	1	f	dd34
32	1	2	t	b31
38	0	0	f	b4
32	1	1	t	f43
\.
UPDATE tx_crash SET p = NULL WHERE k % 2 = 1;
COMMIT;
SELECT count(*), sum(k), count(p) FROM tx_crash;
SELECT * FROM incetl.verify('tx_crash');
DROP TABLE tx_crash, tx_stage;

-- An index's deletion pass keeps the list of live versions for the rest
-- of the transaction.  Versions written in a subtransaction that then
-- aborts must leave that list: their blocks are written again after
-- ROLLBACK TO SAVEPOINT, and their row-number maps were read through it
-- ("file group ... has a corrupted header", fuzzer seed 226160341).
CREATE TABLE tx_pass (k int, k2 int, p int, d boolean, v text) USING incetl_cow;
SELECT incetl.set_table_options('tx_pass', record_key => 'k', precombine => 'p', delete_marker => 'd', file_group_rows => 100, retain_commits => 5);
CREATE TABLE tx_pass_stage (seq int, k int, k2 int, p int, d boolean, v text);
SET maintenance_work_mem = '1MB';
ALTER TABLE tx_pass ADD COLUMN e integer DEFAULT 7;
BEGIN;
CREATE INDEX tx_pass_k_k2 ON tx_pass (k, k2);
SAVEPOINT s1;
CREATE INDEX tx_pass_e ON tx_pass (e);
DELETE FROM tx_pass_stage;
INSERT INTO tx_pass_stage SELECT row_number() OVER (ORDER BY g), 21 + CASE WHEN g <= 300 / 2 THEN g ELSE g - 300 / 2 END, g % 3, (g * 31 + 21068) % 20, (g % 13 = 21068 % 13), 'b' || g || repeat('x', 150) FROM generate_series(1, 300) g;
INSERT INTO tx_pass (k, k2, p, d, v) SELECT k, k2, p, d, v FROM tx_pass_stage ORDER BY seq;
DELETE FROM tx_pass_stage;
INSERT INTO tx_pass_stage SELECT row_number() OVER (ORDER BY g), (SELECT coalesce(max(k), 0) FROM tx_pass) + g * 2, g % 3, (g * 31 + 51900) % 20, (g % 13 = 51900 % 13), 'b' || g || repeat('x', 150) FROM generate_series(1, 8000) g;
INSERT INTO tx_pass (k, k2, p, d, v) SELECT k, k2, p, d, v FROM tx_pass_stage ORDER BY seq;
DELETE FROM tx_pass_stage;
INSERT INTO tx_pass_stage VALUES (1, 2, 0, 3, NULL, 'eee63'), (2, 7, 2, 9, false, 'f71'), (3, 19, 0, 2, true, 'eee0'), (4, 29, 2, 1, true, 'c51'), (5, 24, 1, 2, NULL, 'b79'), (6, NULL, 0, 7, true, 'b31'), (7, 22, 0, 3, false, 'eee41');
INSERT INTO tx_pass (k, k2, p, d, v) VALUES (2, 0, 3, NULL, 'eee63'), (7, 2, 9, false, 'f71'), (19, 0, 2, true, 'eee0'), (29, 2, 1, true, 'c51'), (24, 1, 2, NULL, 'b79'), (NULL, 0, 7, true, 'b31'), (22, 0, 3, false, 'eee41');
ROLLBACK TO SAVEPOINT s1;
DELETE FROM tx_pass_stage;
INSERT INTO tx_pass_stage VALUES (1, (SELECT coalesce(max(k), 0) FROM tx_pass) + 2, 0, 7, false, 'c93'), (2, (SELECT coalesce(max(k), 0) FROM tx_pass) + 8, 2, 2, false, 'f92'), (3, (SELECT coalesce(max(k), 0) FROM tx_pass) + 8, 0, 3, false, 'c52'), (4, (SELECT coalesce(max(k), 0) FROM tx_pass) + 12, 0, 1, false, 'dd89'), (5, (SELECT coalesce(max(k), 0) FROM tx_pass) + 13, 2, NULL, false, 'f30'), (6, (SELECT coalesce(max(k), 0) FROM tx_pass) + 15, 0, 4, false, 'b65'), (7, (SELECT coalesce(max(k), 0) FROM tx_pass) + 17, 1, 3, false, 'dd94'), (8, (SELECT coalesce(max(k), 0) FROM tx_pass) + 21, 2, 2, true, 'a88'), (9, (SELECT coalesce(max(k), 0) FROM tx_pass) + 23, 1, 3, false, 'a58'), (10, (SELECT coalesce(max(k), 0) FROM tx_pass) + 24, 2, 7, false, 'dd21'), (11, (SELECT coalesce(max(k), 0) FROM tx_pass) + 29, 1, 9, false, 'eee56'), (12, (SELECT coalesce(max(k), 0) FROM tx_pass) + 30, 2, 7, false, 'dd76'), (13, (SELECT coalesce(max(k), 0) FROM tx_pass) + 30, 2, 5, false, 'dd28');
COPY tx_pass (k, k2, p, d, v) FROM STDIN;
2	0	7	f	c93
8	2	2	f	f92
8	0	3	f	c52
12	0	1	f	dd89
13	2	\N	f	f30
15	0	4	f	b65
17	1	3	f	dd94
21	2	2	t	a88
23	1	3	f	a58
24	2	7	f	dd21
29	1	9	f	eee56
30	2	7	f	dd76
30	2	5	f	dd28
\.
SELECT incetl.set_table_options('tx_pass', record_key => 'k,k2');
DELETE FROM tx_pass_stage;
INSERT INTO tx_pass_stage VALUES (1, (SELECT coalesce(max(k), 0) FROM tx_pass) + 28, 1, 0, false, 'f12'), (2, (SELECT coalesce(max(k), 0) FROM tx_pass) + 30, 2, 0, false, 'a67'), (3, (SELECT coalesce(max(k), 0) FROM tx_pass) + 32, 0, 4, true, 'b55'), (4, (SELECT coalesce(max(k), 0) FROM tx_pass) + 33, 2, 4, NULL, 'dd22'), (5, (SELECT coalesce(max(k), 0) FROM tx_pass) + 35, 0, 6, false, 'f95'), (6, (SELECT coalesce(max(k), 0) FROM tx_pass) + 38, 0, 8, false, 'b59'), (7, (SELECT coalesce(max(k), 0) FROM tx_pass) + 41, 2, NULL, false, 'dd41'), (8, (SELECT coalesce(max(k), 0) FROM tx_pass) + 44, 0, 0, true, 'f31'), (9, (SELECT coalesce(max(k), 0) FROM tx_pass) + 45, 2, 7, true, 'dd81'), (10, (SELECT coalesce(max(k), 0) FROM tx_pass) + 46, 2, 3, false, 'b89'), (11, (SELECT coalesce(max(k), 0) FROM tx_pass) + 48, 2, 5, false, 'f32'), (12, (SELECT coalesce(max(k), 0) FROM tx_pass) + 49, 2, 6, false, 'dd36'), (13, (SELECT coalesce(max(k), 0) FROM tx_pass) + 51, 2, 6, false, 'a63'), (14, (SELECT coalesce(max(k), 0) FROM tx_pass) + 54, 2, NULL, false, 'eee64');
INSERT INTO tx_pass (k, k2, p, d, v) VALUES (58, 1, 0, false, 'f12'), (60, 2, 0, false, 'a67'), (62, 0, 4, true, 'b55'), (63, 2, 4, NULL, 'dd22'), (65, 0, 6, false, 'f95'), (68, 0, 8, false, 'b59'), (71, 2, NULL, false, 'dd41'), (74, 0, 0, true, 'f31'), (75, 2, 7, true, 'dd81'), (76, 2, 3, false, 'b89'), (78, 2, 5, false, 'f32'), (79, 2, 6, false, 'dd36'), (81, 2, 6, false, 'a63'), (84, 2, NULL, false, 'eee64');
COMMIT;
RESET maintenance_work_mem;
SELECT count(*), sum(k), count(DISTINCT e) FROM tx_pass;
SET enable_seqscan = off;
SELECT count(*), sum(k) FROM tx_pass WHERE k >= 0;
RESET enable_seqscan;
SELECT * FROM incetl.verify('tx_pass');
DROP TABLE tx_pass, tx_pass_stage;
