-- UPDATE, DELETE and TRUNCATE on incetl_cow tables (copy-on-write).
CREATE SCHEMA cow_dml;
SET search_path = cow_dml, public;

CREATE TABLE items (id int, name text, qty int, ts int) USING incetl_cow;
SELECT incetl.set_table_options('items', record_key => 'id', precombine => 'ts',
                                file_group_rows => 10);
INSERT INTO items SELECT g, 'item' || g, g, 1 FROM generate_series(1, 35) g;
SELECT count(*), sum(qty) FROM items;

UPDATE items SET qty = qty * 10 WHERE id % 5 = 0 RETURNING id, qty;
SELECT count(*), sum(qty) FROM items;
-- changing the record key moves the row
UPDATE items SET id = 100 WHERE id = 1;
SELECT id, name FROM items WHERE id IN (1, 100);
-- updating every row
UPDATE items SET name = upper(name);
SELECT count(*), count(*) FILTER (WHERE name LIKE 'ITEM%') FROM items;

DELETE FROM items WHERE id BETWEEN 10 AND 19 RETURNING id;
SELECT count(*) FROM items;
DELETE FROM items WHERE id > 1000;
SELECT count(*) FROM items;

-- a self-join UPDATE touches each row once
UPDATE items i SET qty = i.qty + 1 FROM items j WHERE j.id IN (2, 3) AND i.id = 2;
SELECT id, qty FROM items WHERE id = 2;

SELECT commit_id, operation, rows_inserted, rows_updated, rows_deleted
FROM incetl.commits('items') ORDER BY commit_id;
SELECT * FROM incetl.verify('items');

-- UPDATE / DELETE on an append-only table
CREATE TABLE log (msg text, n int) USING incetl_cow;
INSERT INTO log SELECT 'm' || g, g FROM generate_series(1, 6) g;
UPDATE log SET n = -n WHERE n <= 2;
DELETE FROM log WHERE n = 3;
SELECT * FROM log ORDER BY n;

-- ALTER TABLE rewrites keep the record key order and dedup
ALTER TABLE items ALTER COLUMN qty TYPE bigint;
INSERT INTO items VALUES (2, 'after-alter', 5, 9);
SELECT id, name, qty FROM items WHERE id <= 4 ORDER BY id;
SELECT * FROM incetl.verify('items');

-- TRUNCATE is transactional and continues the commit ids.
BEGIN;
TRUNCATE items;
SELECT count(*) FROM items;
ROLLBACK;
SELECT count(*) FROM items;
TRUNCATE items;
SELECT count(*) FROM items;
INSERT INTO items VALUES (1, 'again', 1, 1);
SELECT * FROM items;
SELECT commit_id, operation FROM incetl.commits('items') ORDER BY commit_id;

-- TRUNCATE of a table created in the same transaction
BEGIN;
CREATE TABLE tmp_cow (a int) USING incetl_cow;
INSERT INTO tmp_cow VALUES (1), (2);
TRUNCATE tmp_cow;
INSERT INTO tmp_cow VALUES (3);
SELECT * FROM tmp_cow;
COMMIT;
SELECT * FROM tmp_cow;

-- DROP TABLE removes the metadata
SELECT incetl.cow_storage_id('tmp_cow') AS sid \gset
DROP TABLE tmp_cow;
SELECT count(*) FROM incetl.cow_file_group WHERE storage_id = :sid;

-- unsupported operations fail cleanly
CREATE INDEX ON items (id);

-- partitions, tuple routing, cross-partition UPDATE
CREATE TABLE pt (id int, region text, v int) PARTITION BY LIST (region);
CREATE TABLE pt_eu PARTITION OF pt FOR VALUES IN ('eu') USING incetl_cow;
CREATE TABLE pt_us PARTITION OF pt FOR VALUES IN ('us') USING incetl_cow;
SELECT incetl.set_table_options('pt_eu', record_key => 'id', precombine => 'v');
SELECT incetl.set_table_options('pt_us', record_key => 'id', precombine => 'v');
INSERT INTO pt VALUES (1, 'eu', 1), (1, 'us', 1), (1, 'eu', 2), (2, 'us', 5);
INSERT INTO pt VALUES (2, 'us', 3);
COPY pt FROM stdin;
3	eu	1
1	us	9
\.
SELECT * FROM pt ORDER BY region, id;
UPDATE pt SET region = 'us' WHERE id = 3;
SELECT * FROM pt ORDER BY region, id;

-- temporary tables
CREATE TEMP TABLE tt (a int) USING incetl_cow;
INSERT INTO tt SELECT generate_series(1, 10);
DELETE FROM tt WHERE a < 5;
VACUUM tt;
SELECT count(*), min(a) FROM tt;

-- AFTER STATEMENT triggers fire once the statement's rows are merged:
-- they see them in the table, and transition tables hold them
CREATE TABLE trg (k int, v text) USING incetl_cow;
SELECT incetl.set_table_options('trg', record_key => 'k');
CREATE FUNCTION trg_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE NOTICE '%: % rows in the table, % in the transition table',
    TG_OP, (SELECT count(*) FROM trg), (SELECT count(*) FROM newrows);
  RETURN NULL;
END $$;
CREATE TRIGGER trg_after AFTER INSERT ON trg REFERENCING NEW TABLE AS newrows
  FOR EACH STATEMENT EXECUTE FUNCTION trg_count();
INSERT INTO trg SELECT g, 'v' FROM generate_series(1, 10) g;
INSERT INTO trg SELECT g, 'w' FROM generate_series(5, 14) g;
-- a data-modifying CTE: merged after it ran to completion, still one merge;
-- its AFTER STATEMENT triggers fire before that merge, so one reading the
-- table merges the rows first and sees them, as on heap (19 rows)
WITH ins AS (INSERT INTO trg SELECT g, 'x' FROM generate_series(20, 24) g RETURNING k)
SELECT count(*) FROM ins;
DROP TRIGGER trg_after ON trg;
WITH ins AS (INSERT INTO trg SELECT g, 'x' FROM generate_series(25, 29) g RETURNING k)
SELECT count(*) FROM ins;
SELECT operation, rows_inserted FROM incetl.commits('trg') ORDER BY commit_id DESC LIMIT 1;
SELECT count(*), count(*) FILTER (WHERE v = 'w') AS w FROM trg;

RESET search_path;
SET client_min_messages = warning;
DROP SCHEMA cow_dml CASCADE;
