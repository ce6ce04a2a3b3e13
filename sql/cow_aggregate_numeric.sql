-- Aggregate pushdown on the scaled integers of numeric(p,s) blocks: blocks
-- stored in the NUMERIC encoding are compared ("col op value") and summed,
-- averaged, min'ed and max'ed as integers at the block's scale, other
-- blocks (mixed scales, NaN, Infinity, big values) as numerics.  Every
-- query is run three ways -- incetl_cow with the pushdown, without it, and
-- a heap copy -- and the three results must be the same text.
CREATE SCHEMA cow_aggregate_numeric;
SET search_path = cow_aggregate_numeric, public;

-- check_agg(q): q's rows (ordered, as text), whether the plan used the
-- pushdown, and whether the three ways agree
CREATE FUNCTION check_agg(q text, OUT result text, OUT pushed bool,
                          OUT same bool)
LANGUAGE plpgsql AS $$
DECLARE
    plan text := '';
    line text;
    seqscan text := current_setting('enable_seqscan');
    off_ text;
    heap_ text;
    rows_ text := 'SELECT string_agg(row(x.*)::text, '' '' ORDER BY row(x.*)::text) FROM (%s) x';
BEGIN
    -- the sequential scan off: a narrow key range costs less as a key-range
    -- scan (sql/cow_key_range.sql), and "pushed" says whether the
    -- pushdown can compute q
    PERFORM set_config('enable_seqscan', 'off', true);
    PERFORM set_config('incetl.cow_aggregate_pushdown', 'on', true);
    FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) ' || format(q, 'c') LOOP
        plan := plan || line || E'\n';
    END LOOP;
    pushed := plan LIKE '%IncetlCowAgg%';
    EXECUTE format(rows_, format(q, 'c')) INTO result;
    PERFORM set_config('enable_seqscan', seqscan, true);
    PERFORM set_config('incetl.cow_aggregate_pushdown', 'off', true);
    EXECUTE format(rows_, format(q, 'c')) INTO off_;
    PERFORM set_config('incetl.cow_aggregate_pushdown', 'on', true);
    EXECUTE format(rows_, format(q, 'h')) INTO heap_;
    same := result IS NOT DISTINCT FROM off_ AND result IS NOT DISTINCT FROM heap_;
    IF NOT same THEN
        RAISE NOTICE '%: pushdown %, no pushdown %, heap %', q, result, off_, heap_;
    END IF;
END $$;

-- 30,000 rows in file groups of 10,000 (blocks of 4,096 rows):
--   m2   numeric(12,2), negative values, NULLs, NaN in rows 5000-5005
--   m0   numeric(10,0), NULLs
--   m5   numeric(18,5), values beyond 10^16 units in rows 20001-20010
--   u    numeric: scale 3 in the first and last groups (Infinity,
--        -Infinity and NaN in the last), mixed scales in the second
--   g2   a grouping key
CREATE TABLE h (k int, m2 numeric(12,2), m0 numeric(10,0), m5 numeric(18,5),
                u numeric, g2 int);
CREATE TABLE c (LIKE h) USING incetl_cow;
SELECT incetl.set_table_options('c', record_key => 'k', file_group_rows => 10000);
INSERT INTO h
SELECT g,
       CASE WHEN g % 13 = 0 THEN NULL
            WHEN g BETWEEN 5000 AND 5005 THEN 'NaN'
            ELSE ((g::bigint * 7919) % 200001 - 100000) / 100.0 END,
       CASE WHEN g % 11 = 0 THEN NULL ELSE (g * 31) % 20001 - 10000 END,
       CASE WHEN g BETWEEN 20001 AND 20010 THEN 1234567890123.12345 * (g - 20005)
            ELSE ((g::bigint * 104729) % 100000001 - 50000000) / 100000.0 END,
       CASE WHEN g = 25000 THEN 'Infinity'
            WHEN g = 26000 THEN '-Infinity'
            WHEN g = 28000 THEN 'NaN'
            WHEN g % 17 = 0 THEN NULL
            WHEN g BETWEEN 10001 AND 20000 AND g % 2 = 0
                 THEN round(((g * 37) % 2001 - 1000) / 7.0, 1)
            ELSE round(((g * 37) % 2001 - 1000) / 7.0, 3) END,
       g % 4
FROM generate_series(1, 30000) g;
INSERT INTO c SELECT * FROM h;

-- the numeric columns are stored NUMERIC-encoded, all or in part
SELECT column_name, encoding
FROM incetl.column_stats('c')
WHERE column_name IN ('m2', 'm0', 'm5', 'u')
GROUP BY 1, 2 ORDER BY 1, 2;

-- EXPLAIN ANALYZE counts the blocks read as integers: of the first group,
-- the blocks of m2 but the second (NaN), once for the qual and the sum
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
    SELECT sum(m2), count(*) FROM c WHERE m2 > 990 AND k <= 10000;

-- a few results in full
SELECT * FROM check_agg('SELECT count(*) FROM %s WHERE m2 > 990');
SELECT * FROM check_agg('SELECT count(*) FROM %s WHERE m2 > 990.005');
SELECT * FROM check_agg('SELECT count(*) FROM %s WHERE 990.005 < m2');
SELECT * FROM check_agg('SELECT count(*) FROM %s WHERE m2 <= -999.995');
SELECT * FROM check_agg('SELECT sum(m2), avg(m2), min(m2), max(m2), count(m2) FROM %s');
SELECT * FROM check_agg('SELECT sum(m5), avg(m5), min(m5), max(m5) FROM %s WHERE m0 >= 0');
SELECT * FROM check_agg('SELECT sum(u), avg(u), min(u), max(u) FROM %s WHERE k <= 20000');
SELECT * FROM check_agg('SELECT sum(u), avg(u), min(u), max(u) FROM %s');
SELECT * FROM check_agg('SELECT count(*), sum(m0) FROM %s WHERE m2 < ''NaN''');
SELECT * FROM check_agg('SELECT count(*) FROM %s WHERE u >= ''Infinity''');
-- grouped: sums from the integers of NUMERIC blocks and the Datums of others
SELECT * FROM check_agg('SELECT g2, sum(m2), avg(m5), count(*) FROM %s WHERE m2 > 0.001 GROUP BY g2');
SELECT * FROM check_agg('SELECT g2, sum(u), avg(u), sum(m0), avg(m2), count(u) FROM %s GROUP BY g2');
SELECT * FROM check_agg('SELECT g2, sum(u), avg(m5) FROM %s WHERE u < 100.0005 AND m0 <> 7 GROUP BY g2');
SELECT * FROM check_agg('SELECT g2, avg(m2), sum(m5) FROM %s WHERE k > 9000 AND k < 22000 GROUP BY g2');

-- every comparison of every column against constants of all kinds, with
-- every aggregate: the mismatches (none expected), and how many queries
-- took the pushdown
CREATE TEMP TABLE runs AS
SELECT s.q, r.*
FROM (SELECT format('SELECT count(*), sum(%1$s), avg(%1$s), min(%1$s), max(%1$s), sum(m2), max(m5) FROM %%s WHERE %1$s %2$s %3$s',
                    col, op, val) AS q
      FROM unnest(ARRAY['m2', 'm0', 'm5', 'u']) col,
           unnest(ARRAY['<', '<=', '=', '>=', '>', '<>']) op,
           unnest(ARRAY['0', '990', '-500.5', '990.005', '-990.005',
                        '12.345678', '-3.1', '1e20', '-1e20', '0.000001',
                        '''NaN''::numeric', '''Infinity''::numeric',
                        '''-Infinity''::numeric', '142.857', '-7040.00000',
                        '(SELECT m2 FROM h WHERE k = 77)']) val) s,
     LATERAL check_agg(s.q) r;
SELECT q, result FROM runs WHERE NOT same;
SELECT count(*) AS queries, count(*) FILTER (WHERE pushed) AS pushed,
       count(*) FILTER (WHERE same) AS same FROM runs;

-- the constant on the left, and a parameter of a generic plan
SELECT * FROM check_agg('SELECT count(*), sum(m2) FROM %s WHERE -0.005 >= m2');
PREPARE p(numeric) AS SELECT count(*), sum(m5), max(m2) FROM c WHERE m2 > $1;
SET plan_cache_mode = force_generic_plan;
EXECUTE p(990.005);
EXECUTE p(-1000);
EXECUTE p('NaN');
RESET plan_cache_mode;
SELECT count(*), sum(m5), max(m2) FROM h WHERE m2 > 990.005;
SELECT count(*), sum(m5), max(m2) FROM h WHERE m2 > -1000;

-- in parallel: the workers' partial sum/avg states built from the integers
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SET parallel_leader_participation = off;
EXPLAIN (COSTS OFF) SELECT sum(m2), avg(u) FROM c WHERE m5 > -100.000001;
SELECT * FROM check_agg('SELECT sum(m2), avg(u), sum(u), avg(m5), count(*) FROM %s WHERE m5 > -100.000001');
-- (max(u) is 0, stored as 0.000 and as 0.0: which one a parallel plan
-- returns depends on which worker's partial maximum comes last, on heap as
-- here, so it is compared by value)
SELECT * FROM check_agg('SELECT sum(m0), avg(m2), min(m5), max(u) = 0 AS max_u_zero FROM %s WHERE u <= 0');
SELECT * FROM check_agg('SELECT g2, sum(m2), avg(u), count(*) FROM %s WHERE m0 < 5000.5 GROUP BY g2');
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;
RESET parallel_leader_participation;

-- a numeric column added later: the old file groups have no chunk of it
ALTER TABLE h ADD COLUMN z numeric(6,2) DEFAULT 1.25;
ALTER TABLE c ADD COLUMN z numeric(6,2) DEFAULT 1.25;
INSERT INTO h SELECT g, NULL, NULL, NULL, NULL, 0, (g % 200 - 100) / 4.0
FROM generate_series(30001, 31000) g;
INSERT INTO c SELECT * FROM h WHERE k > 30000;
SELECT * FROM check_agg('SELECT count(*), sum(z), avg(z), min(z), max(z) FROM %s WHERE z > 1.2');
SELECT * FROM check_agg('SELECT g2, sum(z), count(*) FROM %s WHERE z <= 1.25 GROUP BY g2');

DROP SCHEMA cow_aggregate_numeric CASCADE;
