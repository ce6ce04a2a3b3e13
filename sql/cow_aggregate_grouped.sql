-- Grouped aggregate pushdown: GROUP BY columns and date_trunc keys,
-- count(DISTINCT col), computed in the scan (Custom Scan IncetlCowAgg,
-- emitting partial states per key) under PostgreSQL's own Finalize
-- Aggregate; everything else falls back to the ordinary plan.
--
-- check_grouped(q) runs q (with %s for the table) with incetl.cow_aggregate_pushdown
-- on and off and compares the two results as multisets of rows in their
-- text form (so numeric scale, NULLs and NaN count), both ways with EXCEPT
-- ALL; it also says whether the plan used the pushdown, and how many rows.
CREATE SCHEMA cow_grouped;
SET search_path = cow_grouped, public;
-- serial plans but where said (EXPLAIN ANALYZE shows the leader's figures)
SET max_parallel_workers_per_gather = 0;

CREATE FUNCTION check_grouped(q text, tbl text DEFAULT 'c',
                      OUT pushed bool, OUT same bool, OUT nrows bigint)
LANGUAGE plpgsql AS $$
DECLARE
    plan text := '';
    line text;
    seqscan text := current_setting('enable_seqscan');
    sql text := format('SELECT row(x.*)::text AS r FROM (%s) x', format(q, tbl));
    diff bigint;
BEGIN
    -- the sequential scan off: a narrow key range costs less as a key-range
    -- scan (sql/cow_key_range.sql), and "pushed" says whether the
    -- pushdown can compute q
    PERFORM set_config('enable_seqscan', 'off', true);
    PERFORM set_config('incetl.cow_aggregate_pushdown', 'on', true);
    FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) ' || format(q, tbl) LOOP
        plan := plan || line || E'\n';
    END LOOP;
    pushed := plan LIKE '%IncetlCowAgg%';
    EXECUTE 'CREATE TEMP TABLE r_on AS ' || sql;
    PERFORM set_config('enable_seqscan', seqscan, true);
    PERFORM set_config('incetl.cow_aggregate_pushdown', 'off', true);
    EXECUTE 'CREATE TEMP TABLE r_off AS ' || sql;
    PERFORM set_config('incetl.cow_aggregate_pushdown', 'on', true);
    SELECT count(*) INTO diff FROM
        ((SELECT r FROM r_on EXCEPT ALL SELECT r FROM r_off)
         UNION ALL
         (SELECT r FROM r_off EXCEPT ALL SELECT r FROM r_on)) d;
    same := diff = 0;
    SELECT count(*) INTO nrows FROM r_on;
    IF NOT same THEN
        RAISE NOTICE 'pushdown: %', (SELECT string_agg(r, ' ' ORDER BY r) FROM r_on);
        RAISE NOTICE 'ordinary: %', (SELECT string_agg(r, ' ' ORDER BY r) FROM r_off);
    END IF;
    DROP TABLE r_on, r_off;
END $$;

-- plan_line(q, pattern): the lines of q's EXPLAIN (ANALYZE) matching pattern
CREATE FUNCTION plan_lines(q text, pattern text) RETURNS SETOF text
LANGUAGE plpgsql AS $$
DECLARE
    line text;
BEGIN
    FOR line IN EXECUTE 'EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) ' || q LOOP
        IF line ~ pattern THEN
            RETURN NEXT btrim(line);
        END IF;
    END LOOP;
END $$;

-- 20,000 rows in file groups of 1,000 (so every group key spans many file
-- groups): NULL keys and NULL inputs, numeric(12,2) amounts, a few-valued
-- text (dictionary-encoded), a bigint with many values, timestamps an hour
-- apart across two DST changes.
CREATE TABLE c (id int, customer_id bigint, amount numeric(12,2), status text,
                n numeric, i2 int2, i4 int, i8 bigint, f8 float8, b bool,
                d date, ts timestamptz, lts timestamp, note text)
    USING incetl_cow;
SELECT incetl.set_table_options('c', record_key => 'id', file_group_rows => 1000);
INSERT INTO c
SELECT g,
       CASE WHEN g % 101 = 0 THEN NULL ELSE g % 997 END,
       CASE WHEN g % 13 = 0 THEN NULL ELSE (g % 1000) / 3.0 - 100 END,
       CASE WHEN g % 17 = 0 THEN NULL
            ELSE (ARRAY['new', 'paid', 'shipped', 'delivered', 'cancelled'])[1 + g % 5] END,
       CASE WHEN g % 11 = 0 THEN NULL WHEN g % 7 = 0 THEN g / 7.0 ELSE g * 1.5 END,
       (g % 100 - 50)::int2, g * 7 - 20000, g::int8 * 1000003 - 5000000000,
       CASE WHEN g % 2 = 0 THEN 0.0 ELSE -0.0 END,
       CASE WHEN g % 9 = 0 THEN NULL ELSE g % 2 = 0 END,
       date '2026-01-01' + g % 400,
       timestamptz '2026-01-01 00:00+00' + g * interval '1 hour' + (g % 7) * interval '1 min',
       timestamp '2026-01-01 00:00' + g * interval '37 min',
       'note ' || g
FROM generate_series(1, 20000) g;
ANALYZE c;

-- The target queries of issue 13, pushed down and the same both ways
SELECT q, r.* FROM (VALUES
    ('SELECT status, sum(amount), count(*) FROM %s GROUP BY status'),
    ('SELECT customer_id, sum(amount) FROM %s GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 10'),
    ('SELECT count(DISTINCT customer_id) FROM %s'),
    ('SELECT date_trunc(''day'', ts), count(*) FROM %s GROUP BY 1 ORDER BY 1 LIMIT 5'),
    ('SELECT status, count(*) FROM %s WHERE ts >= ''2027-01-01'' GROUP BY 1 HAVING count(*) > 400'),
    ('SELECT avg(amount) FROM %s WHERE status = ''paid'''),
    ('SELECT max(ts), min(amount) FROM %s WHERE customer_id = 42')
) v(q), LATERAL check_grouped(q) r;

-- Grouping keys of many types, NULL keys and NULL inputs, every aggregate
-- we produce partial states for, filters, HAVING, ORDER BY, LIMIT.
SELECT q, r.* FROM (VALUES
    ('SELECT status, count(*), count(amount), sum(amount), avg(amount), min(amount), max(amount) FROM %s GROUP BY status'),
    ('SELECT status, sum(i2), sum(i4), sum(i8), avg(i2), avg(i4), avg(i8) FROM %s GROUP BY status'),
    ('SELECT status, sum(n), avg(n), min(n), max(n), min(note), max(note) FROM %s GROUP BY status'),
    ('SELECT status, min(ts), max(ts), min(d), max(d), bool_and(b), bool_or(b) FROM %s GROUP BY status'),
    ('SELECT customer_id, count(*), sum(amount), avg(i4) FROM %s GROUP BY customer_id'),
    ('SELECT b, count(*), sum(n) FROM %s GROUP BY b'),
    ('SELECT d, count(*), max(note) FROM %s GROUP BY d'),
    ('SELECT i2, status, count(*), sum(amount) FROM %s GROUP BY i2, status'),
    ('SELECT status, b, customer_id %% 3 AS m, count(*) FROM %s GROUP BY status, b, customer_id'),
    ('SELECT f8, count(*) FROM %s GROUP BY f8'),
    ('SELECT status, b FROM %s GROUP BY status, b'),
    ('SELECT upper(status), count(*) * 2 FROM %s GROUP BY status'),
    ('SELECT status, count(*) FROM %s WHERE amount > 100 AND i2 IN (1, 2, 3) GROUP BY status'),
    ('SELECT status, sum(amount) FROM %s WHERE status IS NOT NULL AND b GROUP BY status HAVING sum(amount) > 0 ORDER BY 2 DESC LIMIT 2'),
    ('SELECT status, count(*) FROM %s WHERE id > 100000 GROUP BY status'),
    ('SELECT status, count(*) FROM %s WHERE status = ANY (''{}''::text[]) GROUP BY status'),
    ('SELECT customer_id, sum(amount) FROM %s WHERE id BETWEEN 500 AND 2600 GROUP BY 1'),
    ('SELECT count(DISTINCT status) FROM %s'),
    ('SELECT count(DISTINCT customer_id) FROM %s WHERE amount > 50'),
    ('SELECT status, count(DISTINCT customer_id) FROM %s GROUP BY status'),
    ('SELECT count(DISTINCT d) FROM %s WHERE id > 100000'),
    ('SELECT date_trunc(''day'', ts), count(*), sum(amount) FROM %s GROUP BY 1'),
    ('SELECT date_trunc(''month'', ts), count(*) FROM %s GROUP BY 1'),
    ('SELECT date_trunc(''week'', ts), status, count(*) FROM %s GROUP BY 1, 2'),
    ('SELECT date_trunc(''month'', ts), count(DISTINCT customer_id) FROM %s GROUP BY 1'),
    ('SELECT date_trunc(''day'', lts), count(*) FROM %s GROUP BY 1'),
    ('SELECT date_trunc(''year'', lts), max(lts) FROM %s GROUP BY 1')
) v(q), LATERAL check_grouped(q) r;

-- Not pushed down (and still the same): keys that are expressions we do
-- not compute, aggregates we have no partial state for, DISTINCT beside
-- other aggregates or over two columns, grouping sets, FILTER, ORDER BY
-- inside an aggregate, a WHERE clause we do not evaluate.
SELECT q, r.* FROM (VALUES
    ('SELECT customer_id %% 10, count(*) FROM %s GROUP BY 1'),
    ('SELECT date_trunc(''day'', ts, ''UTC''), count(*) FROM %s GROUP BY 1'),
    ('SELECT status, sum(f8) FROM %s GROUP BY status'),
    ('SELECT status, string_agg(note, '','' ORDER BY id) FROM %s WHERE id < 20 GROUP BY status'),
    ('SELECT status, count(DISTINCT customer_id), count(*) FROM %s GROUP BY status'),
    ('SELECT count(DISTINCT customer_id), count(DISTINCT status) FROM %s'),
    ('SELECT status, b, count(*) FROM %s GROUP BY GROUPING SETS ((status), (b))'),
    ('SELECT status, count(*) FILTER (WHERE b) FROM %s GROUP BY status'),
    ('SELECT status, count(*) FROM %s WHERE id %% 2 = 0 GROUP BY status'),
    ('SELECT status, count(DISTINCT customer_id) FILTER (WHERE b) FROM %s GROUP BY status')
) v(q), LATERAL check_grouped(q) r;

-- EXPLAIN: where the pushdown is and is not used
EXPLAIN (COSTS OFF) SELECT status, sum(amount), count(*) FROM c GROUP BY status;
EXPLAIN (COSTS OFF) SELECT status, count(*) FROM c WHERE id > 10000 GROUP BY 1 HAVING count(*) > 10 ORDER BY 1;
EXPLAIN (COSTS OFF) SELECT count(DISTINCT customer_id) FROM c;
EXPLAIN (COSTS OFF) SELECT status, count(DISTINCT customer_id) FROM c GROUP BY status;
EXPLAIN (COSTS OFF) SELECT date_trunc('day', ts), count(*) FROM c GROUP BY 1 ORDER BY 1 LIMIT 5;
EXPLAIN (COSTS OFF, VERBOSE) SELECT status, avg(i4), min(note) FROM c GROUP BY status;
EXPLAIN (COSTS OFF) SELECT customer_id % 10, count(*) FROM c GROUP BY 1;
EXPLAIN (COSTS OFF) SELECT status, sum(f8) FROM c GROUP BY status;
SET incetl.cow_aggregate_pushdown = off;
EXPLAIN (COSTS OFF) SELECT status, sum(amount), count(*) FROM c GROUP BY status;
RESET incetl.cow_aggregate_pushdown;
-- ungrouped aggregates with their filters stay with the ungrouped pushdown
EXPLAIN (COSTS OFF) SELECT avg(amount) FROM c WHERE status = 'paid';
EXPLAIN (COSTS OFF) SELECT max(ts), min(amount) FROM c WHERE customer_id = 42;

-- Many groups beyond memory: with hash_mem at its least the scan's table
-- fills up and is emitted and emptied many times ("Early Emissions"), a
-- key then comes up in several partial rows, and the Finalize Aggregate
-- combines them (and spills, as it does).  With about one row per group
-- a sequential scan costs less: it is disabled to see the pushdown.
SET enable_seqscan = off;
SET work_mem = '64kB';
SET hash_mem_multiplier = 1;
SELECT q, r.* FROM (VALUES
    ('SELECT customer_id, count(*), sum(amount), avg(n), max(note) FROM %s GROUP BY customer_id'),
    ('SELECT id, sum(amount) FROM %s GROUP BY id'),
    ('SELECT note, count(*) FROM %s GROUP BY note'),
    ('SELECT count(DISTINCT id) FROM %s'),
    ('SELECT customer_id, sum(amount) FROM %s GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 10')
) v(q), LATERAL check_grouped(q) r;
SELECT regexp_replace(l, '\d+', 'N') AS line
FROM plan_lines('SELECT id, sum(amount) FROM c GROUP BY id', 'Early Emissions') l;
SELECT l FROM plan_lines('SELECT id, sum(amount) FROM c GROUP BY id', 'Early Emissions') l
WHERE l = 'Early Emissions: 0';
RESET work_mem;
RESET hash_mem_multiplier;
RESET enable_seqscan;
SELECT l FROM plan_lines('SELECT customer_id, sum(amount) FROM c GROUP BY 1', 'Early Emissions') l;

-- Empty: a table without rows, and filters no row passes.  (On tables
-- this small a sequential scan costs less: it is disabled to see the
-- pushdown.)
CREATE TABLE e (LIKE c) USING incetl_cow;
SET enable_seqscan = off;
SELECT q, r.* FROM (VALUES
    ('SELECT status, count(*), sum(amount), avg(n), min(note) FROM %s GROUP BY status'),
    ('SELECT count(DISTINCT customer_id) FROM %s'),
    ('SELECT date_trunc(''day'', ts), count(*) FROM %s GROUP BY 1')
) v(q), LATERAL check_grouped(q, 'e') r;
SELECT count(DISTINCT customer_id) FROM e;
SELECT status, count(*) FROM c WHERE id < 0 GROUP BY status;

-- Special and extreme values: numerics past the integer path (NaN,
-- infinities, many digits), int8 sums past int64, equal numerics and
-- floats of different binary form as keys (1.0 and 1.00, 0 and -0: the
-- scan keeps them apart, the Finalize Aggregate combines them).
CREATE TABLE x (k int, g int, n numeric, i8 int8, key numeric, f float8) USING incetl_cow;
SELECT incetl.set_table_options('x', file_group_rows => 4);
INSERT INTO x VALUES
    (1, 1, 'NaN', 9223372036854775807, 1.0, 0.0),
    (2, 1, 1.5, 9223372036854775807, 1.00, -0.0),
    (3, 2, 'Infinity', -9223372036854775808, 1.000, 0.0),
    (4, 2, '-Infinity', -5, 2, 'NaN'),
    (5, 3, 123456789012345678901234567890.123456789, 9223372036854775807, 2.0, 'NaN'),
    (6, 3, -0.000000000000000000001, 9223372036854775807, NULL, NULL),
    (7, 4, 99999999999999.9999, 1, NULL, 'Infinity'),
    (8, 4, -99999999999999.9999, 1, 3, '-Infinity'),
    (9, 5, 'Infinity', 0, 3, 1),
    (10, 5, 2.125, 0, 3.0, 1),
    (11, 6, NULL, NULL, 4, 2);
SELECT q, r.* FROM (VALUES
    ('SELECT g, sum(n), avg(n), count(n), sum(i8), avg(i8) FROM %s GROUP BY g'),
    ('SELECT trim_scale(key), count(*), sum(n) FROM %s GROUP BY key'),
    ('SELECT f, count(*) FROM %s GROUP BY f'),
    ('SELECT count(DISTINCT key) FROM %s'),
    ('SELECT count(DISTINCT f) FROM %s')
) v(q), LATERAL check_grouped(q, 'x') r;
SELECT trim_scale(key), count(*) FROM x GROUP BY key ORDER BY 1;
SELECT count(DISTINCT key) FROM x;
RESET enable_seqscan;

-- Dictionary and non-dictionary blocks of one column: a file group whose
-- first block has five values (a dictionary) and whose second has
-- thousands (plain), and a file group of each.
CREATE TABLE mixed (k int, s text) USING incetl_cow;
SELECT incetl.set_table_options('mixed', record_key => 'k', file_group_rows => 8192);
INSERT INTO mixed SELECT g, CASE WHEN g <= 4096 THEN 'v' || g % 5 ELSE 'v' || g % 3000 END
FROM generate_series(1, 8192) g;
INSERT INTO mixed SELECT g, 'v' || g % 4 FROM generate_series(8193, 16384) g;
INSERT INTO mixed SELECT g, 'v' || g FROM generate_series(16385, 24576) g;
ANALYZE mixed;
SELECT encoding, chunks FROM incetl.column_stats('mixed') WHERE attnum = 2 ORDER BY 1;
SELECT q, r.* FROM (VALUES
    ('SELECT s, count(*), min(k), max(k) FROM %s GROUP BY s'),
    ('SELECT count(DISTINCT s) FROM %s'),
    ('SELECT s, count(*) FROM %s WHERE k BETWEEN 4000 AND 9000 GROUP BY s')
) v(q), LATERAL check_grouped(q, 'mixed') r;
SELECT s, count(*) FROM mixed WHERE s IN ('v1', 'v2', 'v2999') GROUP BY s ORDER BY s;

-- After upserts and deletes: superseded versions do not count.
INSERT INTO c (id, customer_id, amount, status, ts)
SELECT g, 42, 1000.01, 'upserted', timestamptz '2030-01-01'
FROM generate_series(1, 20000, 7) g;
DELETE FROM c WHERE id % 10 = 3;
UPDATE c SET status = 'updated', amount = amount + 1 WHERE id % 10 = 4;
SELECT q, r.* FROM (VALUES
    ('SELECT status, count(*), sum(amount) FROM %s GROUP BY status'),
    ('SELECT customer_id, count(*), sum(amount) FROM %s GROUP BY customer_id'),
    ('SELECT count(DISTINCT customer_id) FROM %s'),
    ('SELECT date_trunc(''month'', ts), count(*) FROM %s GROUP BY 1')
) v(q), LATERAL check_grouped(q) r;
SELECT status, count(*), sum(amount) FROM c WHERE status IN ('upserted', 'updated', 'paid')
GROUP BY status ORDER BY status;

-- Inside a transaction that wrote rows not yet committed: the next
-- statement reads them (they were merged at the end of the writing
-- statement), with the pushdown as without it.
BEGIN;
INSERT INTO c (id, customer_id, amount, status) VALUES (30001, 42, 5.55, 'txn'), (30002, NULL, NULL, 'txn');
UPDATE c SET status = 'txn' WHERE id = 1;
DELETE FROM c WHERE id = 2;
SELECT q, r.* FROM (VALUES
    ('SELECT status, count(*), sum(amount) FROM %s GROUP BY status'),
    ('SELECT customer_id, count(*) FROM %s GROUP BY 1'),
    ('SELECT count(DISTINCT customer_id) FROM %s')
) v(q), LATERAL check_grouped(q) r;
SELECT status, count(*), sum(amount) FROM c WHERE status = 'txn' GROUP BY status;
ROLLBACK;
SELECT status, count(*) FROM c WHERE status = 'txn' GROUP BY status;

-- date_trunc under several time zones, across their DST changes: UTC,
-- Europe/Berlin, America/Santiago (clocks go back at midnight: Saturday
-- has 25 hours), and America/St_Johns in 2010, whose clocks went back at
-- 00:01 to 23:01: the first minute of Sunday 7 November came before the
-- last hour of Saturday, so date_trunc('day') was not monotonic there.
CREATE TABLE tz (k int, ts timestamptz) USING incetl_cow;
SELECT incetl.set_table_options('tz', file_group_rows => 5000);
INSERT INTO tz SELECT g, timestamptz '2025-01-01 00:00+00' + g * interval '7 min'
FROM generate_series(1, 160000) g;
INSERT INTO tz SELECT 200000 + g, timestamptz '2010-11-07 01:00+00' + g * interval '20 s'
FROM generate_series(1, 1000) g;
INSERT INTO tz VALUES (0, 'infinity'), (-1, '-infinity'), (-2, NULL);
-- every row sampled, 'infinity' and '-infinity' too: the estimate of a
-- date_trunc key's groups spans the finite bounds of the histogram, so
-- whether the sample caught those two rows does not decide the plan
ALTER TABLE tz ALTER ts SET STATISTICS 1000;
ANALYZE tz;
SELECT (histogram_bounds::text::timestamptz[])[1] AS lo,
       (histogram_bounds::text::timestamptz[])[cardinality(histogram_bounds::text::timestamptz[])] AS hi
FROM pg_stats WHERE schemaname = 'cow_grouped' AND tablename = 'tz' AND attname = 'ts';
CREATE FUNCTION days() RETURNS TABLE (day timestamptz, n bigint)
LANGUAGE sql AS $$
    SELECT date_trunc('day', ts), count(*) FROM cow_grouped.tz GROUP BY 1
$$;
SET TimeZone = 'UTC';
SELECT q, r.* FROM (VALUES
    ('SELECT date_trunc(''day'', ts), count(*), min(ts), max(ts) FROM %s GROUP BY 1'),
    ('SELECT date_trunc(''hour'', ts), count(*) FROM %s GROUP BY 1')
) v(q), LATERAL check_grouped(q, 'tz') r;
SET TimeZone = 'Europe/Berlin';
SELECT q, r.* FROM (VALUES
    ('SELECT date_trunc(''day'', ts), count(*), min(ts), max(ts) FROM %s GROUP BY 1'),
    ('SELECT date_trunc(''hour'', ts), count(*) FROM %s GROUP BY 1'),
    ('SELECT date_trunc(''month'', ts), count(*) FROM %s GROUP BY 1')
) v(q), LATERAL check_grouped(q, 'tz') r;
SELECT date_trunc('day', ts), count(*) FROM tz
WHERE ts BETWEEN '2025-03-29' AND '2025-04-01' GROUP BY 1 ORDER BY 1;
SET TimeZone = 'America/Santiago';
SELECT q, r.* FROM (VALUES
    ('SELECT date_trunc(''day'', ts), count(*), min(ts), max(ts) FROM %s GROUP BY 1'),
    ('SELECT date_trunc(''hour'', ts), count(*) FROM %s GROUP BY 1'),
    ('SELECT date_trunc(''week'', ts), count(*) FROM %s GROUP BY 1')
) v(q), LATERAL check_grouped(q, 'tz') r;
SELECT date_trunc('day', ts), count(*) FROM tz
WHERE ts BETWEEN '2025-04-04' AND '2025-04-08' GROUP BY 1 ORDER BY 1;
SET TimeZone = 'America/St_Johns';
SELECT q, r.* FROM (VALUES
    ('SELECT date_trunc(''day'', ts), count(*), min(ts), max(ts) FROM %s GROUP BY 1'),
    ('SELECT date_trunc(''day'', ts), count(*) FROM %s WHERE k > 200000 GROUP BY 1'),
    ('SELECT date_trunc(''hour'', ts), count(*) FROM %s WHERE k > 200000 GROUP BY 1')
) v(q), LATERAL check_grouped(q, 'tz') r;
SELECT date_trunc('day', ts), count(*), min(ts), max(ts) FROM tz WHERE k > 200000
GROUP BY 1 ORDER BY 1;
-- one session, one table, two settings: two answers, each PostgreSQL's
SET TimeZone = 'UTC';
SELECT day, n FROM days() ORDER BY 1 LIMIT 3;
SET TimeZone = 'Asia/Tokyo';
SELECT day, n FROM days() ORDER BY 1 LIMIT 3;
SET incetl.cow_aggregate_pushdown = off;
SELECT day, n FROM days() ORDER BY 1 LIMIT 3;
RESET incetl.cow_aggregate_pushdown;
-- date_trunc is called far less often than once per row (161,003 rows)
SELECT regexp_replace(l, '\d+', 'N') AS line
FROM plan_lines('SELECT date_trunc(''day'', ts), count(*) FROM tz GROUP BY 1',
                'date_trunc Calls') l
WHERE substring(l from '\d+')::int BETWEEN 1 AND 60000;
RESET TimeZone;

-- The estimate of date_trunc's groups comes from the histogram's finite
-- bounds: with -infinity and infinity among few enough rows that ANALYZE
-- samples them all, they are the histogram's ends, and once made the
-- estimate that of unique values (and the plan the ordinary one).
CREATE TABLE tz_inf (k int, ts timestamptz) USING incetl_cow;
INSERT INTO tz_inf SELECT g, timestamptz '2025-01-01 00:00+00' + g * interval '7 min'
FROM generate_series(1, 20000) g;
INSERT INTO tz_inf VALUES (0, 'infinity'), (-1, '-infinity');
ANALYZE tz_inf;
SELECT (histogram_bounds::text::timestamptz[])[1] AS first_bound
FROM pg_stats WHERE schemaname = 'cow_grouped' AND tablename = 'tz_inf'
  AND attname = 'ts';
SELECT q, r.* FROM (VALUES
    ('SELECT date_trunc(''day'', ts), count(*) FROM %s GROUP BY 1'),
    ('SELECT date_trunc(''hour'', ts), count(*) FROM %s GROUP BY 1')
) v(q), LATERAL check_grouped(q, 'tz_inf') r;

-- Parallel: a Gather under the Finalize Aggregate, each participant
-- grouping the file groups it claims.
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SET parallel_leader_participation = off;
EXPLAIN (COSTS OFF) SELECT status, sum(amount), count(*) FROM c GROUP BY status;
EXPLAIN (COSTS OFF) SELECT count(DISTINCT customer_id) FROM c;
SELECT q, r.* FROM (VALUES
    ('SELECT status, sum(amount), count(*), avg(i8), max(note) FROM %s GROUP BY status'),
    ('SELECT customer_id, sum(amount) FROM %s GROUP BY 1'),
    ('SELECT count(DISTINCT customer_id) FROM %s'),
    ('SELECT date_trunc(''day'', ts), count(*) FROM %s GROUP BY 1'),
    ('SELECT sum(amount), avg(n), sum(i8) FROM %s')
) v(q), LATERAL check_grouped(q) r;
SELECT l FROM plan_lines('SELECT status, count(*) FROM c GROUP BY status', 'Workers Launched') l;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
SET max_parallel_workers_per_gather = 0;
RESET parallel_leader_participation;

-- a correlated subquery: the grouped scan is rescanned with each value
SELECT s.v, (SELECT count(*) FROM (SELECT status FROM c WHERE id < s.v GROUP BY status) g)
FROM (VALUES (1), (2), (1000)) s(v);

RESET search_path;
DROP SCHEMA cow_grouped CASCADE;
