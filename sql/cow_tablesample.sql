--
-- cow_tablesample: TABLESAMPLE on an incetl_cow table.  The sampler's
-- blocks are the blocks of our TIDs (row-number buckets); rows no current
-- version holds are skipped, so a sample only returns rows the snapshot
-- sees.  REPEATABLE gives the same sample for the same table state.
--
CREATE TABLE ts (id int, v text) USING incetl_cow;
SELECT incetl.set_table_options('ts', record_key => 'id', file_group_rows => 20000);
INSERT INTO ts SELECT g, 'a' || g FROM generate_series(1, 100000) g;

-- 1. BERNOULLI: about 10 %, the same count (and rows) for the same seed
SELECT count(*) AS n1 FROM ts TABLESAMPLE BERNOULLI (10) REPEATABLE (1) \gset
SELECT :n1 BETWEEN 9000 AND 11000 AS within_bounds;
SELECT count(*) = :n1 AS same_count
FROM ts TABLESAMPLE BERNOULLI (10) REPEATABLE (1);
SELECT count(*) AS differing FROM (
  (SELECT id FROM ts TABLESAMPLE BERNOULLI (10) REPEATABLE (1)
   EXCEPT SELECT id FROM ts TABLESAMPLE BERNOULLI (10) REPEATABLE (1))
  UNION ALL
  (SELECT id FROM ts TABLESAMPLE BERNOULLI (10) REPEATABLE (1)
   EXCEPT SELECT id FROM ts TABLESAMPLE BERNOULLI (10) REPEATABLE (1))) d;
-- another seed, another sample
SELECT count(*) > 0 AS other_seed_differs FROM (
  SELECT id FROM ts TABLESAMPLE BERNOULLI (10) REPEATABLE (2)
  EXCEPT SELECT id FROM ts TABLESAMPLE BERNOULLI (10) REPEATABLE (1)) d;
-- every sampled row is a row of the table
SELECT count(*) = :n1 AS all_joined
FROM ts s TABLESAMPLE BERNOULLI (10) REPEATABLE (1) JOIN ts t USING (id, v);
SELECT count(*) FROM ts TABLESAMPLE BERNOULLI (0);
SELECT count(*) FROM ts TABLESAMPLE BERNOULLI (100);

-- 2. SYSTEM: whole buckets; 0 gives none, 100 all
SELECT count(*) AS s1 FROM ts TABLESAMPLE SYSTEM (10) REPEATABLE (7) \gset
SELECT :s1 BETWEEN 5000 AND 15000 AS within_bounds;
SELECT count(*) = :s1 AS same_count FROM ts TABLESAMPLE SYSTEM (10) REPEATABLE (7);
SELECT count(*) FROM ts TABLESAMPLE SYSTEM (0);
SELECT count(*), count(DISTINCT id) FROM ts TABLESAMPLE SYSTEM (100);
-- whole buckets: the sample is made of runs of consecutive ids
SELECT count(DISTINCT ((ctid::text::point)[0])) < :s1 / 100 AS whole_buckets
FROM ts TABLESAMPLE SYSTEM (10) REPEATABLE (7);
EXPLAIN (COSTS OFF) SELECT * FROM ts TABLESAMPLE SYSTEM (5);

-- 3. after upserts: never a superseded version
INSERT INTO ts SELECT g, 'b' || g FROM generate_series(1, 100000, 3) g;
SELECT count(*), count(*) FILTER (WHERE v LIKE 'b%') AS new_versions
FROM ts TABLESAMPLE BERNOULLI (100);
SELECT count(*), count(DISTINCT id) FROM ts TABLESAMPLE SYSTEM (100);
SELECT count(*) AS stale
FROM ts TABLESAMPLE BERNOULLI (30) REPEATABLE (3)
WHERE id % 3 = 1 AND v NOT LIKE 'b%';
SELECT count(*) AS not_in_table FROM (
  SELECT id, v FROM ts TABLESAMPLE SYSTEM (30) REPEATABLE (3)
  EXCEPT SELECT id, v FROM ts) d;
DELETE FROM ts WHERE id > 50000;
SELECT count(*), max(id) FROM ts TABLESAMPLE BERNOULLI (100);
SELECT count(*) FROM ts TABLESAMPLE SYSTEM (100);

-- 4. in a transaction that wrote: its own writes, and only current rows
BEGIN;
INSERT INTO ts SELECT g, 'c' || g FROM generate_series(1, 1000) g;
DELETE FROM ts WHERE id BETWEEN 40001 AND 50000;
SELECT count(*), count(*) FILTER (WHERE v LIKE 'c%') AS own_writes
FROM ts TABLESAMPLE SYSTEM (100);
SELECT count(*) AS not_in_table FROM (
  SELECT id, v FROM ts TABLESAMPLE BERNOULLI (20) REPEATABLE (5)
  EXCEPT SELECT id, v FROM ts) d;
ROLLBACK;
SELECT count(*) FROM ts TABLESAMPLE SYSTEM (100);

-- 5. an empty table, a table emptied, and a sample in a cursor
CREATE TABLE ts_empty (a int) USING incetl_cow;
SELECT count(*) FROM ts_empty TABLESAMPLE SYSTEM (100);
SELECT count(*) FROM ts_empty TABLESAMPLE BERNOULLI (100);
TRUNCATE ts;
SELECT count(*) FROM ts TABLESAMPLE BERNOULLI (100);
INSERT INTO ts SELECT g, 'd' || g FROM generate_series(1, 1000) g;
BEGIN;
DECLARE c SCROLL CURSOR FOR
  SELECT id FROM ts TABLESAMPLE BERNOULLI (50) REPEATABLE (9);
MOVE FORWARD ALL IN c;
FETCH BACKWARD 1 FROM c;
MOVE ABSOLUTE 0 IN c;
FETCH FORWARD 1 FROM c;
SELECT count(*) AS sampled FROM ts TABLESAMPLE BERNOULLI (50) REPEATABLE (9);
COMMIT;

-- 6. tsm_system_rows / tsm_system_time (contrib modules of the server
-- package; test/cassert.sh builds them for its own server)
CREATE EXTENSION tsm_system_rows;
CREATE EXTENSION tsm_system_time;
SELECT count(*) FROM ts TABLESAMPLE system_rows (300);
SELECT count(*) FROM ts TABLESAMPLE system_rows (5000);
SELECT count(*) FROM ts TABLESAMPLE system_time (100000);
DROP EXTENSION tsm_system_rows;
DROP EXTENSION tsm_system_time;

DROP TABLE ts, ts_empty;
