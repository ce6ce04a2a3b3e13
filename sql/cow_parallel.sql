-- Parallel sequential scans of incetl_cow tables: Gather + Parallel Seq
-- Scan, every file group read by exactly one participant (results equal a
-- heap copy's), min/max skipping in workers, writes of the transaction.
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SET incetl.cow_aggregate_pushdown = off;

CREATE TABLE par (id int, g int, amount bigint, note text) USING incetl_cow;
SELECT incetl.set_table_options('par', record_key => 'id', file_group_rows => 100);
INSERT INTO par SELECT i, i % 7, i * 3, 'n' || i FROM generate_series(1, 2000) i;
CREATE TABLE par_heap AS SELECT * FROM par;
ANALYZE par;
ANALYZE par_heap;

-- the plan is parallel, and workers really ran it: with the leader not
-- participating, a scan's rows come from workers only, and a plan without
-- launched workers shows 0
CREATE FUNCTION par_explain(q text) RETURNS TABLE (launched int, filtered float8)
LANGUAGE plpgsql AS $$
DECLARE
    plan json;
BEGIN
    EXECUTE 'EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF, FORMAT JSON) ' || q
        INTO plan;
    launched := jsonb_path_query_first(plan::jsonb, 'strict $.**."Workers Launched"')::int;
    -- Rows Removed by Filter of the Parallel Seq Scan, per loop times loops
    filtered := (plan -> 0 -> 'Plan' -> 'Plans' -> 0 ->> 'Rows Removed by Filter')::float8 *
        (plan -> 0 -> 'Plan' -> 'Plans' -> 0 ->> 'Actual Loops')::float8;
    RETURN NEXT;
END $$;

EXPLAIN (COSTS OFF) SELECT count(*), sum(amount) FROM par;
SET parallel_leader_participation = off;
SELECT launched > 0 AS workers_ran FROM par_explain('SELECT * FROM par');
-- min/max skipping and key ranges apply in workers: of id <= 150, the
-- third group on is skipped, and of the second (101..200) only the rows of
-- the range are returned: none is filtered out (50 without the key range,
-- 1850 without skipping)
SELECT launched > 0 AS workers_ran, filtered AS rows_filtered
FROM par_explain('SELECT * FROM par WHERE id <= 150');
SELECT count(*), sum(amount) FROM par WHERE id <= 150;
RESET parallel_leader_participation;

-- par and its heap copy hold the same rows (run at top level, where the
-- queries are planned in parallel: shown here)
\set same 'SELECT (SELECT count(*) FROM par) AS cnt, (SELECT sum(amount) FROM par) AS total, (SELECT count(*) FROM (SELECT * FROM par_heap EXCEPT ALL SELECT * FROM par) x) AS missing, (SELECT count(*) FROM (SELECT * FROM par EXCEPT ALL SELECT * FROM par_heap) x) AS extra'
EXPLAIN (COSTS OFF) :same;
:same;

-- upserts and deletes, applied to both
INSERT INTO par SELECT i, 100, i, 'u' || i FROM generate_series(1500, 2600) i;
DELETE FROM par_heap WHERE id BETWEEN 1500 AND 2600;
INSERT INTO par_heap SELECT i, 100, i, 'u' || i FROM generate_series(1500, 2600) i;
DELETE FROM par WHERE id % 5 = 0;
DELETE FROM par_heap WHERE id % 5 = 0;
UPDATE par SET amount = amount + 1 WHERE g = 3;
UPDATE par_heap SET amount = amount + 1 WHERE g = 3;
:same;

-- a join of two parallel scans
EXPLAIN (COSTS OFF)
SELECT count(*) FROM par a JOIN par b ON a.id = b.id + 1 WHERE a.g = 1;
SELECT count(*), sum(a.amount - b.amount)
FROM par a JOIN par b ON a.id = b.id + 1 WHERE a.g = 1;
SELECT count(*), sum(a.amount - b.amount)
FROM par_heap a JOIN par_heap b ON a.id = b.id + 1 WHERE a.g = 1;

-- in a writing transaction, after its statements merged: the workers
-- (which share its transaction) see its rows
BEGIN;
INSERT INTO par SELECT i, 200, i, 't' || i FROM generate_series(3000, 3500) i;
INSERT INTO par_heap SELECT i, 200, i, 't' || i FROM generate_series(3000, 3500) i;
DELETE FROM par WHERE id < 300;
DELETE FROM par_heap WHERE id < 300;
SET LOCAL parallel_leader_participation = off;
SELECT launched > 0 AS workers_ran FROM par_explain('SELECT * FROM par');
:same;
COMMIT;
:same;

-- a query run inside a writing statement, under a later command, sees
-- the statement's rows buffered so far (merged before the scan begins),
-- in parallel as serially, as on heap
CREATE FUNCTION par_count() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE n bigint;
BEGIN
    SELECT count(*) INTO n FROM par;
    RETURN n;
END $$;
CREATE FUNCTION par_heap_count() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE n bigint;
BEGIN
    SELECT count(*) INTO n FROM par_heap;
    RETURN n;
END $$;
BEGIN;
INSERT INTO par SELECT 5000 + i, par_count(), 0, 'x' FROM generate_series(1, 3) i;
INSERT INTO par_heap SELECT 5000 + i, par_heap_count(), 0, 'x' FROM generate_series(1, 3) i;
SELECT (SELECT array_agg(g ORDER BY id) FROM par WHERE id > 5000) AS cow,
       (SELECT array_agg(g ORDER BY id) FROM par_heap WHERE id > 5000) AS heap;
ROLLBACK;

-- a REPEATABLE READ transaction keeps its snapshot in workers while
-- another session commits (test/specs/cow_parallel_snapshot.spec)

-- parallel bitmap heap scans: the leader builds the bitmap, participants
-- share its TID blocks (ranges of row numbers) out, each reads its own
CREATE TABLE par_bm (id int, g int, amount bigint) USING incetl_cow;
SELECT incetl.set_table_options('par_bm', record_key => 'id', file_group_rows => 1000);
INSERT INTO par_bm SELECT i, i % 7, i * 3 FROM generate_series(1, 30000) i;
CREATE TABLE par_bm_heap AS SELECT * FROM par_bm;
CREATE INDEX par_bm_g ON par_bm (g);
DELETE FROM par_bm WHERE id % 10 = 0;
DELETE FROM par_bm_heap WHERE id % 10 = 0;
ANALYZE par_bm;
SET enable_seqscan = off;
SET enable_indexscan = off;
SET min_parallel_index_scan_size = 0;
EXPLAIN (COSTS OFF) SELECT count(*), sum(amount) FROM par_bm WHERE g = 3;
SET parallel_leader_participation = off;
SELECT launched > 0 AS workers_ran FROM par_explain('SELECT * FROM par_bm WHERE g = 3');
SELECT count(*), sum(amount) FROM par_bm WHERE g = 3;
RESET parallel_leader_participation;
SELECT count(*), sum(amount) FROM par_bm WHERE g = 3;
RESET min_parallel_index_scan_size;
RESET enable_seqscan;
RESET enable_indexscan;
SELECT count(*), sum(amount) FROM par_bm_heap WHERE g = 3;

-- the aggregate pushdown in parallel: each participant aggregates the file
-- groups it claims into partial states (count, sum and avg of int2/int4,
-- min/max), combined by a Finalize Aggregate above the Gather
SET incetl.cow_aggregate_pushdown = on;
\set aggs 'count(*), count(g), sum(g), sum(id), avg(g), avg(id), min(id), max(id), min(note), max(g)'
EXPLAIN (COSTS OFF) SELECT :aggs FROM par;
EXPLAIN (COSTS OFF) SELECT :aggs FROM par WHERE id > 400;
SET parallel_leader_participation = off;
SELECT launched > 0 AS workers_ran FROM par_explain('SELECT count(*), sum(g), avg(id) FROM par');
SELECT :aggs FROM par;
SELECT :aggs FROM par WHERE id > 400;
-- fewer file groups than participants: some aggregate nothing
SELECT :aggs FROM par WHERE id <= 350;
SELECT :aggs FROM par WHERE id > 100000;
RESET parallel_leader_participation;
SELECT :aggs FROM par;
SELECT :aggs FROM par_heap;
SELECT :aggs FROM par_heap WHERE id > 400;
SELECT :aggs FROM par_heap WHERE id <= 350;
SELECT :aggs FROM par_heap WHERE id > 100000;
-- a parameter of a generic plan is evaluated in every participant
PREPARE par_p(int) AS SELECT count(*), sum(g), avg(id), max(note) FROM par WHERE id > $1;
SET plan_cache_mode = force_generic_plan;
EXPLAIN (COSTS OFF) EXECUTE par_p(400);
EXECUTE par_p(400);
EXECUTE par_p(3000);
RESET plan_cache_mode;
DEALLOCATE par_p;
SELECT count(*), sum(g), avg(id), max(note) FROM par_heap WHERE id > 3000;
-- sum and avg of int8 (an internal state): each participant writes the
-- state serialized as int8_avg_serialize does
EXPLAIN (COSTS OFF) SELECT sum(amount), avg(amount), count(*) FROM par;
SELECT sum(amount), avg(amount), count(*) FROM par;
SELECT sum(amount), avg(amount), count(*) FROM par_heap;
SET incetl.cow_aggregate_pushdown = off;

-- a one-group table gets no workers: the file group is the unit shared out
CREATE TABLE par_one (id int) USING incetl_cow;
INSERT INTO par_one SELECT generate_series(1, 10);
EXPLAIN (COSTS OFF) SELECT count(*) FROM par_one;
-- the parallel_workers storage parameter is taken as for heap
ALTER TABLE par_one SET (parallel_workers = 2);
EXPLAIN (COSTS OFF) SELECT count(*) FROM par_one;
SELECT count(*), sum(id) FROM par_one;

DROP TABLE par, par_heap, par_one, par_bm, par_bm_heap;
DROP FUNCTION par_explain(text);
DROP FUNCTION par_count();
DROP FUNCTION par_heap_count();
