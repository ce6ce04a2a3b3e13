-- The bounds a key range holds are not tested again: on the rows of a
-- file group where the scan's key range found the bounds on the first
-- record-key column (a group sorted by it under its type of today), the
-- Seq Scan node evaluates the plan's other quals only (cow_hooks.c,
-- CowSeqScanKeyRange), as an index scan does not test its index quals
-- again.  Every query is checked against heap; the other quals still run
-- on every row returned (their calls counted), in the plan's order and
-- under a row-level security policy; a group the range is not exact in
-- (written under another type) tests every qual; a qual with a subplan
-- keeps the node as it is; EvalPlanQual is in test/specs/cow_row_locks.
CREATE SCHEMA cow_key_range_quals;
SET search_path = cow_key_range_quals, public;
SET enable_indexscan = off;
SET enable_bitmapscan = off;
SET max_parallel_workers_per_gather = 0;

\getenv abs_srcdir PG_ABS_SRCDIR
\set heap_differing :abs_srcdir '/sql/include/heap_differing.sql'
\i :heap_differing

-- a qual that counts the rows it is called on (not leakproof, volatile)
CREATE FUNCTION counted(v int) RETURNS bool
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    PERFORM set_config('cow_krq.calls',
                       (coalesce(nullif(current_setting('cow_krq.calls', true), ''),
                                 '0')::int + 1)::text, false);
    RETURN v % 3 = 0;
END $$;

CREATE FUNCTION calls(q text, t text) RETURNS int
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM set_config('cow_krq.calls', '0', false);
    EXECUTE format('SELECT count(*) FROM (%s) a', format(q, t));
    RETURN current_setting('cow_krq.calls')::int;
END $$;

-- 1. Three file groups of 20,000, 20,000 and 10,000 rows, keyed by id.
CREATE TABLE src AS
SELECT g::bigint AS id, g * 7 % 1009 AS v, 'row ' || g AS t,
       date '2026-01-01' + g % 400 AS d
FROM generate_series(1, 50000) g;
CREATE TABLE h (LIKE src);
INSERT INTO h SELECT * FROM src;
CREATE TABLE c (LIKE src) USING incetl_cow;
SELECT incetl.set_table_options('c', record_key => 'id',
                                file_group_rows => 20000);
INSERT INTO c SELECT * FROM src;
ANALYZE h, c;
SELECT count(*) AS groups FROM incetl.file_groups('c');

CREATE TABLE queries (n int, q text);
INSERT INTO queries VALUES
    (1, 'SELECT * FROM %s WHERE id BETWEEN 1000 AND 1100'),
    (2, 'SELECT * FROM %s WHERE id BETWEEN 19990 AND 20010 AND v > 500'),
    (3, 'SELECT * FROM %s WHERE id > 45000 AND t LIKE ''%%7'''),
    (4, 'SELECT * FROM %s WHERE id < 300 AND v %% 3 = 0'),
    (5, 'SELECT * FROM %s WHERE 1000 <= id AND 1010 >= id'),
    (6, 'SELECT * FROM %s WHERE id = 777 AND v = 777 * 7 %% 1009'),
    (7, 'SELECT * FROM %s WHERE id = 777 AND v = 0'),
    (8, 'SELECT * FROM %s WHERE id < 10::int2 OR id > 49990'),
    (9, 'SELECT * FROM %s WHERE id >= 30000 AND id < 30000'),
    (10, 'SELECT * FROM %s WHERE id BETWEEN 15000 AND 35000 AND d = date ''2026-02-01'''),
    (11, 'SELECT * FROM %s WHERE id > 100 AND id > 200 AND id <= 300 AND id <= 250'),
    (12, 'SELECT * FROM %s WHERE id IN (5, 50, 500, 5000) AND v > 100'),
    (13, 'SELECT * FROM %s WHERE id BETWEEN 1 AND 50000 AND v = 1008'),
    (14, 'SELECT id, v FROM %s WHERE id BETWEEN 40000 AND 40100 AND random() >= 0'),
    (15, 'SELECT * FROM %s WHERE id BETWEEN 100 AND 200 AND v IN (SELECT v FROM h WHERE v < 300)'),
    (16, 'SELECT * FROM %1$s x WHERE id BETWEEN 100 AND 200 AND EXISTS (SELECT 1 FROM h WHERE h.id = x.id + 1 AND h.v > 500)'),
    (17, 'SELECT * FROM %s WHERE id BETWEEN 2000 AND 2100 AND counted(v)'),
    (18, 'SELECT * FROM %s WHERE d > date ''2026-06-01'' AND id < 1000');
SELECT n, differing(q, 'h', 'c') AS differing, heap_rows(q) AS heap_rows
FROM queries ORDER BY n;

-- the other quals are still evaluated on every row the range returns,
-- and only on those
SELECT calls(q, 'h') AS heap_calls, calls(q, 'c') AS cow_calls
FROM queries WHERE n = 17;

-- rows the executor's quals removed: those of the range failing v % 3 = 0
-- (the bounds removed none: the scan returned only the range's rows)
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
SELECT * FROM c WHERE id BETWEEN 1000 AND 1299 AND v % 3 = 0;
SELECT count(*) FILTER (WHERE v % 3 <> 0) AS failing_v
FROM h WHERE id BETWEEN 1000 AND 1299;

-- a scroll cursor over a range with another qual, both ways, as heap
CREATE FUNCTION cursor_walk(t text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    cur refcursor;
    r record;
    out text := '';
BEGIN
    OPEN cur SCROLL FOR EXECUTE
        format('SELECT id FROM %s WHERE id BETWEEN 19995 AND 20006 AND v %% 2 = 0', t);
    FETCH LAST FROM cur INTO r;
    out := out || r.id;
    LOOP
        FETCH PRIOR FROM cur INTO r;
        EXIT WHEN NOT FOUND;
        out := out || ' ' || r.id;
    END LOOP;
    FETCH ABSOLUTE 2 FROM cur INTO r;
    out := out || ' | ' || r.id;
    FETCH NEXT FROM cur INTO r;
    out := out || ' ' || r.id;
    CLOSE cur;
    RETURN out;
END $$;
SELECT cursor_walk('h') AS heap, cursor_walk('c') = cursor_walk('h') AS same;

-- UPDATE and DELETE over a range with another qual, as heap
UPDATE h SET v = v + 1 WHERE id BETWEEN 30000 AND 30500 AND v % 2 = 0;
UPDATE c SET v = v + 1 WHERE id BETWEEN 30000 AND 30500 AND v % 2 = 0;
DELETE FROM h WHERE id > 49000 AND v < 200;
DELETE FROM c WHERE id > 49000 AND v < 200;
SELECT differing('SELECT * FROM %s', 'h', 'c') AS differing_after_writes;
SELECT n, differing(q, 'h', 'c') AS differing, heap_rows(q) AS heap_rows
FROM queries WHERE n IN (2, 4, 13) ORDER BY n;

-- a parallel scan's participants hold the bounds the same way
SET max_parallel_workers_per_gather = 2;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET parallel_leader_participation = off;
EXPLAIN (COSTS OFF)
SELECT count(*), sum(v) FROM c WHERE id BETWEEN 10000 AND 45000 AND v % 5 = 0;
SET incetl.cow_aggregate_pushdown = off;
SELECT (SELECT count(*) || ' ' || sum(v) FROM h WHERE id BETWEEN 10000 AND 45000 AND v % 5 = 0) AS heap,
       (SELECT count(*) || ' ' || sum(v) FROM c WHERE id BETWEEN 10000 AND 45000 AND v % 5 = 0) AS cow;
RESET incetl.cow_aggregate_pushdown;
RESET parallel_leader_participation;
RESET min_parallel_table_scan_size;
RESET parallel_tuple_cost;
RESET parallel_setup_cost;
SET max_parallel_workers_per_gather = 0;

-- 2. Not exact: the key column's type changed without a rewrite
-- (timestamp to timestamptz under UTC), so its groups are not sorted
-- under today's type and the range reads every row: every qual is
-- evaluated, the bounds too.
SET timezone = 'UTC';
CREATE TABLE tc (ts timestamp, v int) USING incetl_cow;
SELECT incetl.set_table_options('tc', record_key => 'ts',
                                file_group_rows => 1000);
INSERT INTO tc SELECT timestamp '2026-01-01' + g * interval '1 minute', g
FROM generate_series(1, 3000) g;
CREATE TABLE th (ts timestamp, v int);
INSERT INTO th SELECT * FROM tc;
ALTER TABLE tc ALTER COLUMN ts TYPE timestamptz;
ALTER TABLE th ALTER COLUMN ts TYPE timestamptz;
SELECT count(*) AS commits FROM incetl.commits('tc');
SELECT differing('SELECT * FROM %s WHERE ts BETWEEN ''2026-01-01 10:00+00'' AND ''2026-01-01 12:00+00''',
                 'th', 'tc') AS differing,
       (SELECT count(*) FROM tc
        WHERE ts BETWEEN '2026-01-01 10:00+00' AND '2026-01-01 12:00+00') AS cow_rows,
       (SELECT count(*) FROM tc
        WHERE ts > '2026-01-01 10:00+00' AND v % 2 = 0) AS cow_even;
-- the file group a new key rewrote, now under timestamptz, is exact
INSERT INTO tc VALUES ('2026-01-01 10:30:30+00', -1);
INSERT INTO th VALUES ('2026-01-01 10:30:30+00', -1);
SELECT differing('SELECT * FROM %s WHERE ts BETWEEN ''2026-01-01 10:00+00'' AND ''2026-01-01 12:00+00''',
                 'th', 'tc') AS differing;
-- Exact, with a qual the scan's prefilter cannot evaluate in a group: a
-- column written under another type, a column added after the group was
-- written.  The executor evaluates those.
CREATE TABLE tk (id int, ts timestamp) USING incetl_cow;
SELECT incetl.set_table_options('tk', record_key => 'id',
                                file_group_rows => 1000);
INSERT INTO tk SELECT g, timestamp '2026-01-01' + g * interval '1 minute'
FROM generate_series(1, 3000) g;
CREATE TABLE tkh (id int, ts timestamp);
INSERT INTO tkh SELECT * FROM tk;
ALTER TABLE tk ALTER COLUMN ts TYPE timestamptz;
ALTER TABLE tkh ALTER COLUMN ts TYPE timestamptz;
ALTER TABLE tk ADD COLUMN w int DEFAULT 5;
ALTER TABLE tkh ADD COLUMN w int DEFAULT 5;
SELECT count(*) AS commits FROM incetl.commits('tk');
SELECT differing('SELECT * FROM %s WHERE id BETWEEN 500 AND 1500 AND ts > ''2026-01-01 20:00+00''',
                 'tkh', 'tk') AS differing_ts,
       (SELECT count(*) FROM tk
        WHERE id BETWEEN 500 AND 1500 AND ts > '2026-01-01 20:00+00') AS cow_rows_ts,
       differing('SELECT * FROM %s WHERE id BETWEEN 500 AND 1500 AND w < 3',
                 'tkh', 'tk') AS differing_w,
       (SELECT count(*) FROM tk WHERE id BETWEEN 500 AND 1500 AND w < 3) AS cow_rows_w;
RESET timezone;

-- 3. Under a row-level security policy: the policy's qual comes first and
-- is evaluated on every row the range returns; a function the user
-- passes sees only the rows the policy and the range let through, as on
-- heap.
CREATE ROLE regress_cow_krq_low;
GRANT USAGE ON SCHEMA cow_key_range_quals TO regress_cow_krq_low;
GRANT SELECT ON c, h TO regress_cow_krq_low;
GRANT EXECUTE ON FUNCTION counted(int), calls(text, text), differing(text, text, text)
    TO regress_cow_krq_low;
ALTER TABLE c ENABLE ROW LEVEL SECURITY;
ALTER TABLE h ENABLE ROW LEVEL SECURITY;
CREATE POLICY low_c ON c TO regress_cow_krq_low USING (v < 300);
CREATE POLICY low_h ON h TO regress_cow_krq_low USING (v < 300);
SET ROLE regress_cow_krq_low;
SELECT differing('SELECT * FROM %s WHERE id BETWEEN 3000 AND 3500', 'h', 'c') AS differing,
       (SELECT count(*) FROM c WHERE id BETWEEN 3000 AND 3500) AS cow_rows,
       (SELECT count(*) FROM h WHERE id BETWEEN 3000 AND 3500) AS heap_rows;
SELECT calls('SELECT * FROM %s WHERE id BETWEEN 3000 AND 3500 AND counted(v)', 'h') AS heap_calls,
       calls('SELECT * FROM %s WHERE id BETWEEN 3000 AND 3500 AND counted(v)', 'c') AS cow_calls;
RESET ROLE;
ALTER TABLE c DISABLE ROW LEVEL SECURITY;
ALTER TABLE h DISABLE ROW LEVEL SECURITY;

DROP SCHEMA cow_key_range_quals CASCADE;
DROP ROLE regress_cow_krq_low;
