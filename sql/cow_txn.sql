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
