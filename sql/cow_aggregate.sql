-- Aggregate pushdown: an ungrouped count/sum/avg/min/max over one
-- incetl_cow table is computed column by column in a Custom Scan
-- (IncetlCowAgg) instead of an Agg over a Seq Scan.
--
-- check(q) runs q (with %s for the table) three ways: on incetl_cow with
-- incetl.cow_aggregate_pushdown on, with it off, and on a heap copy.  It
-- returns the result, whether the plan used the pushdown, and whether all
-- three results are the same text (so numeric scale, NULLs, NaN, ...).
CREATE SCHEMA cow_aggregate;
SET search_path = cow_aggregate, public;

CREATE FUNCTION check_agg(q text, cow text DEFAULT 'c', heap text DEFAULT 'h',
                          OUT result text, OUT pushed bool, OUT same bool)
LANGUAGE plpgsql AS $$
DECLARE
    plan text := '';
    line text;
    seqscan text := current_setting('enable_seqscan');
    off_ text;
    heap_ text;
BEGIN
    -- the sequential scan off: a narrow key range costs less as a key-range
    -- scan (sql/cow_key_range.sql), and "pushed" says whether the
    -- pushdown can compute q
    PERFORM set_config('enable_seqscan', 'off', true);
    PERFORM set_config('incetl.cow_aggregate_pushdown', 'on', true);
    FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) ' || format(q, cow) LOOP
        plan := plan || line || E'\n';
    END LOOP;
    pushed := plan LIKE '%IncetlCowAgg%';
    EXECUTE format('SELECT row(x.*)::text FROM (%s) x', format(q, cow)) INTO result;
    PERFORM set_config('enable_seqscan', seqscan, true);
    PERFORM set_config('incetl.cow_aggregate_pushdown', 'off', true);
    EXECUTE format('SELECT row(x.*)::text FROM (%s) x', format(q, cow)) INTO off_;
    PERFORM set_config('incetl.cow_aggregate_pushdown', 'on', true);
    EXECUTE format('SELECT row(x.*)::text FROM (%s) x', format(q, heap)) INTO heap_;
    same := result IS NOT DISTINCT FROM off_ AND result IS NOT DISTINCT FROM heap_;
    IF NOT same THEN
        RAISE NOTICE 'pushdown %, no pushdown %, heap %', result, off_, heap_;
    END IF;
END $$;

-- 10,000 rows in file groups of 1,000, NULLs in most columns
CREATE TABLE h (k int, i2 int2, i4 int4, i8 int8, n numeric, m numeric(12,2),
                t text, v varchar(10), b bool, d date, ts timestamptz,
                f8 float8, iv interval, nul int);
CREATE TABLE c (LIKE h) USING incetl_cow;
SELECT incetl.set_table_options('c', record_key => 'k', file_group_rows => 1000);
INSERT INTO h
SELECT g, (g % 100 - 50)::int2, g * 7 - 20000, g::int8 * 1000003 - 5000000000,
       CASE WHEN g % 17 = 0 THEN NULL
            WHEN g % 5 = 0 THEN g / 7.0
            WHEN g % 3 = 0 THEN round(g * 1.5, 1)
            ELSE g * 12345.678901234567 END,
       CASE WHEN g % 13 = 0 THEN NULL ELSE (g % 1000) / 3.0 - 100 END,
       CASE WHEN g % 11 = 0 THEN NULL ELSE 'v' || g % 97 END,
       'x' || g % 10,
       CASE WHEN g % 7 = 0 THEN NULL ELSE g % 2 = 0 END,
       date '2020-01-01' + g % 500,
       timestamptz '2020-01-01 00:00+00' + g * interval '1 minute',
       CASE WHEN g % 100 = 0 THEN 'NaN' ELSE g / 3.0 END,
       (g % 48) * interval '1 hour',
       NULL
FROM generate_series(1, 10000) g;
INSERT INTO c SELECT * FROM h;

-- result types are PostgreSQL's
SELECT pg_typeof(count(*)) AS count, pg_typeof(sum(i2)) AS sum_i2,
       pg_typeof(sum(i4)) AS sum_i4, pg_typeof(sum(i8)) AS sum_i8,
       pg_typeof(sum(m)) AS sum_m, pg_typeof(avg(i4)) AS avg_i4,
       pg_typeof(min(v)) AS min_v
FROM c;

-- pushed down, and the same three ways
SELECT q, r.* FROM (VALUES
    ('SELECT count(*), count(n), count(t), count(b), count(nul) FROM %s'),
    ('SELECT sum(i2), sum(i4), sum(i8), sum(n), sum(m) FROM %s'),
    ('SELECT avg(i2), avg(i4), avg(i8), avg(n), avg(m) FROM %s'),
    ('SELECT min(i2), max(i2), min(i4), max(i4), min(i8), max(i8) FROM %s'),
    ('SELECT min(n), max(n), min(m), max(m), min(t), max(t), min(v), max(v) FROM %s'),
    ('SELECT min(d), max(d), min(ts), max(ts), min(f8), max(f8), min(iv), max(iv) FROM %s'),
    ('SELECT bool_and(b), bool_or(b), every(b) FROM %s'),
    ('SELECT sum(nul), avg(nul), min(nul), max(nul) FROM %s'),
    ('SELECT sum(k) * 2, count(*) + 1, 42 AS answer, sum(k) FROM %s'),
    ('SELECT max(t COLLATE "C"), min(t COLLATE "C") FROM %s'),
    -- quals: comparisons either way round, BETWEEN, IN, ALL, NULL tests, booleans
    ('SELECT count(*), sum(n) FROM %s WHERE k > 5000'),
    ('SELECT count(*), sum(i4), avg(m) FROM %s WHERE k BETWEEN 100 AND 2500'),
    ('SELECT count(*), sum(i4) FROM %s WHERE 2500 >= k AND 100 <= k'),
    ('SELECT count(*), sum(k) FROM %s WHERE t = ''v3'''),
    ('SELECT count(*), max(t) FROM %s WHERE t IN (''v3'', ''v5'', NULL)'),
    ('SELECT count(*), max(t) FROM %s WHERE t <> ALL (ARRAY[''v3'', ''v5''])'),
    ('SELECT count(*), max(t) FROM %s WHERE t = ANY (''{}''::text[])'),
    ('SELECT count(*), max(t) FROM %s WHERE t <> ALL (''{}''::text[])'),
    ('SELECT count(*), max(k) FROM %s WHERE t IS NULL'),
    ('SELECT count(*), max(k) FROM %s WHERE t IS NOT NULL AND b'),
    ('SELECT count(*), max(k) FROM %s WHERE NOT b'),
    ('SELECT count(*), sum(n) FROM %s WHERE n > 1000 AND n < 5000.5'),
    ('SELECT count(*), sum(k) FROM %s WHERE v = ''x3'''),
    ('SELECT count(*), sum(k) FROM %s WHERE ts >= now() - interval ''100 years'''),
    ('SELECT count(*), sum(k) FROM %s WHERE k > (SELECT 9000)'),
    ('SELECT count(*) FROM %s WHERE k < (SELECT max(i2) FROM %1$s)'),
    ('SELECT count(*), sum(n), avg(n), min(n), max(t) FROM %s WHERE k > 100000')
) v(q), LATERAL check_agg(q) r;

-- not pushed down (and still the same)
SELECT q, r.* FROM (VALUES
    ('SELECT sum(k) FROM %s GROUP BY k > 5000 ORDER BY 1 LIMIT 1'),
    ('SELECT max(k) FROM %s HAVING count(*) > 0'),
    ('SELECT sum(DISTINCT i2) FROM %s'),
    ('SELECT sum(i2) FILTER (WHERE k > 5) FROM %s'),
    ('SELECT string_agg(t, '','' ORDER BY k) FROM %s WHERE k < 5'),
    ('SELECT sum(f8) FROM %s WHERE k < 50'),
    ('SELECT sum(k + 1) FROM %s'),
    ('SELECT sum(k) FROM %s WHERE k %% 2 = 0'),
    ('SELECT sum(k) FROM %s WHERE random() >= 0'),
    ('SELECT sum(k) FROM %s WHERE k < 10 OR k > 9990'),
    ('SELECT sum(k) FROM %s WHERE k = i4'),
    ('SELECT count(*), sum(k) FROM %s WHERE i8 > 5000000000::numeric'),
    ('SELECT count(*), sum(n) FROM %s WHERE false'),
    ('SELECT sum(count(*)) OVER () FROM %s')
) v(q), LATERAL check_agg(q) r;

-- EXPLAIN: the custom scan, its filter, and with ANALYZE what it read
EXPLAIN (COSTS OFF) SELECT sum(m), count(*) FROM c;
EXPLAIN (COSTS OFF, VERBOSE) SELECT sum(m) + 1, count(*) FROM c WHERE k >= 9500 AND t IS NOT NULL;
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
    SELECT sum(m), count(*) FROM c WHERE k >= 9500 AND t IS NOT NULL;
EXPLAIN (COSTS OFF) SELECT sum(c.k) FROM c JOIN h USING (k);
-- with GROUP BY, the grouped pushdown (its own test, cow_aggregate_grouped)
EXPLAIN (COSTS OFF) SELECT sum(k) FROM c GROUP BY b;
EXPLAIN (COSTS OFF) SELECT sum(f8) FROM c;
EXPLAIN (COSTS OFF) SELECT sum(k) FROM c WHERE k < 10 OR k > 9990;
EXPLAIN (COSTS OFF) SELECT sum(k) FROM c WHERE random() > 0.5;
SET incetl.cow_aggregate_pushdown = off;
EXPLAIN (COSTS OFF) SELECT sum(m), count(*) FROM c;
RESET incetl.cow_aggregate_pushdown;
-- a subquery that is pulled up is pushed down
EXPLAIN (COSTS OFF) SELECT count(*) FROM (SELECT * FROM c WHERE k < 100) s;

-- What is read: without quals count(*), count(col) of a column without
-- NULLs and min/max of integer-like columns come from the file group
-- headers (no chunk decompressed); sum reads one chunk per group; a key
-- range skips the groups outside it.
SELECT count(*), count(k), min(k), max(k), min(d), max(ts) FROM c;
SELECT * FROM incetl.cow_last_scan();
SELECT count(n) FROM c;
SELECT * FROM incetl.cow_last_scan();
SELECT sum(i4) FROM c;
SELECT * FROM incetl.cow_last_scan();
SELECT count(*), sum(i4) FROM c WHERE k > 8500;
SELECT * FROM incetl.cow_last_scan();
SELECT count(*) FROM c WHERE 2000 > k;
SELECT * FROM incetl.cow_last_scan();
-- (one key: a key-range scan, which decodes single values, not chunks)
SELECT count(*) FROM c WHERE k = 5000 AND i4 > 0;
SELECT * FROM incetl.cow_last_scan();

-- Special and extreme values: int8 sums past int64, numeric NaN and
-- infinities, negative values, numerics with more digits than the integer
-- path takes, equal numerics of different scale (min/max keep the one an
-- Agg would), a table of only NULLs, and an empty table.
CREATE TABLE h2 (k int, i8 int8, n numeric, s numeric, iv interval, f8 float8);
CREATE TABLE c2 (LIKE h2) USING incetl_cow;
SELECT incetl.set_table_options('c2', file_group_rows => 4);
INSERT INTO h2 VALUES
    (1, 9223372036854775807, 1.0, 'NaN', '1 day', 0.0),
    (2, 9223372036854775807, 1.00, 1, '24 hours', -0.0),
    (3, 9223372036854775807, -1e30, 'Infinity', '1 day', 0.0),
    (4, 9223372036854775807, 1e30, 2, '1 mon', 1),
    (5, -9223372036854775808, 0.000000000000000000001, '-Infinity', '30 days', -1),
    (6, 5, 123456789012345678901234567890.123456789, 3, NULL, NULL),
    (7, -5, -0.5, 4.25, '-1 day', 'NaN'),
    (8, 1, 99999999999999.9999, 5, '1 year', 'Infinity'),
    (9, 1, -99999999999999.9999, -5.125, '12 mons', '-Infinity');
INSERT INTO h2 SELECT 100 + g, 9000000000000000000,
       (99999999999999.99 + g) * (-1) ^ g, g / 3.0, NULL, NULL
FROM generate_series(1, 100) g;
INSERT INTO c2 SELECT * FROM h2;
SELECT q, r.* FROM (VALUES
    ('SELECT sum(i8), avg(i8), min(i8), max(i8) FROM %s'),
    ('SELECT sum(n), avg(n), min(n), max(n) FROM %s'),
    ('SELECT sum(n), avg(n), min(n), max(n) FROM %s WHERE k < 3'),
    ('SELECT sum(n), avg(n) FROM %s WHERE k > 100'),
    ('SELECT sum(s), avg(s), min(s), max(s) FROM %s'),
    ('SELECT sum(s), avg(s) FROM %s WHERE k BETWEEN 2 AND 4'),
    ('SELECT sum(s), avg(s) FROM %s WHERE k IN (3, 5)'),
    ('SELECT sum(s), avg(s) FROM %s WHERE k IN (5, 6)'),
    ('SELECT sum(s), avg(s), count(s) FROM %s WHERE k > 5'),
    ('SELECT min(iv), max(iv) FROM %s'),
    ('SELECT min(f8), max(f8) FROM %s WHERE k < 5'),
    ('SELECT min(f8), max(f8) FROM %s')
) v(q), LATERAL check_agg(q, 'c2', 'h2') r;

-- Operators of other types: an enum with a value added later (comparing
-- it looks the order up), a range, an array; min/max of polymorphic
-- aggregates are not pushed down.
CREATE TYPE mood AS ENUM ('sad', 'happy');
ALTER TYPE mood ADD VALUE 'ok' BEFORE 'happy';
CREATE TABLE h3 (k int, e mood, r int4range, a int[]);
CREATE TABLE c3 (LIKE h3) USING incetl_cow;
INSERT INTO h3
SELECT g, (ARRAY['sad', 'ok', 'happy'])[1 + g % 3]::mood, int4range(g, g + 10), ARRAY[g, g + 1]
FROM generate_series(1, 1000) g;
INSERT INTO c3 SELECT * FROM h3;
SELECT q, r.* FROM (VALUES
    ('SELECT count(*), sum(k) FROM %s WHERE e < ''happy'''),
    ('SELECT count(*), sum(k) FROM %s WHERE e IN (''ok'', ''sad'')'),
    ('SELECT count(*), sum(k) FROM %s WHERE r @> 500'),
    ('SELECT count(*), sum(k) FROM %s WHERE a @> ARRAY[7]'),
    ('SELECT min(e), max(e), max(a) FROM %s')
) v(q), LATERAL check_agg(q, 'c3', 'h3') r;

CREATE TABLE he (a int, n numeric);
CREATE TABLE ce (LIKE he) USING incetl_cow;
SELECT * FROM check_agg('SELECT count(*), count(a), sum(a), avg(a), sum(n), avg(n), min(n), max(a) FROM %s',
                        'ce', 'he');
INSERT INTO he VALUES (NULL, NULL), (NULL, NULL);
INSERT INTO ce SELECT * FROM he;
SELECT * FROM check_agg('SELECT count(*), count(a), sum(a), avg(a), sum(n), avg(n), min(n), max(a) FROM %s',
                        'ce', 'he');

-- Writes in the same transaction are seen by the next statement:
-- upserts, UPDATE, DELETE, and a rollback to a savepoint.
BEGIN;
INSERT INTO c VALUES (1, 1, 1, 1, 1000000.5), (20001, 2, 2, 2, 2.25);
INSERT INTO h VALUES (20001, 2, 2, 2, 2.25);
UPDATE h SET i2 = 1, i4 = 1, i8 = 1, n = 1000000.5, m = NULL, t = NULL, v = NULL,
             b = NULL, d = NULL, ts = NULL, f8 = NULL, iv = NULL WHERE k = 1;
SELECT * FROM check_agg('SELECT count(*), sum(i4), sum(n), max(k), count(t) FROM %s');
UPDATE c SET n = n * 2 WHERE k BETWEEN 10 AND 20;
UPDATE h SET n = n * 2 WHERE k BETWEEN 10 AND 20;
SELECT * FROM check_agg('SELECT count(*), sum(n), avg(n) FROM %s WHERE k < 100');
DELETE FROM c WHERE k > 9000;
DELETE FROM h WHERE k > 9000;
SELECT * FROM check_agg('SELECT count(*), sum(k), max(k), min(i4) FROM %s');
SAVEPOINT s;
DELETE FROM c WHERE k < 5000;
SELECT count(*), sum(k) FROM c;
ROLLBACK TO SAVEPOINT s;
SELECT * FROM check_agg('SELECT count(*), sum(k), max(k), min(i4) FROM %s');
ROLLBACK;
SELECT * FROM check_agg('SELECT count(*), sum(k), max(k), sum(n) FROM %s');

-- A cursor keeps its snapshot; a later statement sees the new row.
BEGIN;
DECLARE cur CURSOR FOR SELECT count(*), sum(k) FROM c;
INSERT INTO c (k, i4) VALUES (30000, 1);
FETCH cur;
SELECT count(*), sum(k) FROM c;
CLOSE cur;
ROLLBACK;

-- A prepared statement's generic plan: the parameter is evaluated per
-- execution, and each execution reads the versions current then.
SET plan_cache_mode = force_generic_plan;
PREPARE agg(int) AS SELECT count(*), sum(i4), max(t) FROM c WHERE k > $1;
EXPLAIN (COSTS OFF) EXECUTE agg(9000);
EXECUTE agg(9000);
EXECUTE agg(9990);
SELECT * FROM incetl.cow_last_scan();
INSERT INTO c (k, i4, t) VALUES (10001, -1, 'zz');
INSERT INTO h (k, i4, t) VALUES (10001, -1, 'zz');
EXECUTE agg(9990);
SELECT count(*), sum(i4), max(t) FROM h WHERE k > 9990;
DEALLOCATE agg;
RESET plan_cache_mode;
DELETE FROM c WHERE k = 10001;
DELETE FROM h WHERE k = 10001;

-- a correlated subquery: its parameter changes at every rescan
SELECT h.k, (SELECT count(*) FROM c WHERE c.k < h.k) AS below,
       (SELECT sum(i4) FROM c WHERE c.k < h.k) AS sum_below
FROM h WHERE h.k IN (1, 10, 5000) ORDER BY h.k;
EXPLAIN (COSTS OFF)
SELECT h.k, (SELECT count(*) FROM c WHERE c.k < h.k) FROM h WHERE h.k IN (1, 10, 5000);

-- Dropped and added columns: file groups written before ADD COLUMN read
-- its default; after DROP COLUMN the other columns are unchanged.
ALTER TABLE c DROP COLUMN i2;
ALTER TABLE h DROP COLUMN i2;
ALTER TABLE c ADD COLUMN extra int DEFAULT 7;
ALTER TABLE h ADD COLUMN extra int DEFAULT 7;
INSERT INTO c (k, extra) VALUES (40000, NULL), (40001, 100);
INSERT INTO h (k, extra) VALUES (40000, NULL), (40001, 100);
SELECT * FROM check_agg('SELECT count(extra), sum(extra), min(extra), max(extra), sum(i4), count(*) FROM %s');
SELECT * FROM check_agg('SELECT count(*), sum(extra) FROM %s WHERE extra > 7');
ALTER TABLE c ALTER COLUMN i4 TYPE int8;
ALTER TABLE h ALTER COLUMN i4 TYPE int8;
SELECT * FROM check_agg('SELECT sum(i4), min(i4), max(i4), pg_typeof(sum(i4)) FROM %s');

-- Privileges are checked as usual, columns included.
CREATE ROLE regress_cow_agg_reader;
GRANT USAGE ON SCHEMA cow_aggregate TO regress_cow_agg_reader;
SET ROLE regress_cow_agg_reader;
SELECT count(*) FROM c;
RESET ROLE;
GRANT SELECT (k) ON c TO regress_cow_agg_reader;
SET ROLE regress_cow_agg_reader;
SELECT sum(k) FROM c;
SELECT sum(i4) FROM c;
RESET ROLE;

-- Row-level security: a policy's quals are not ours to evaluate, so a
-- user it applies to gets the ordinary plan; the owner does not.
GRANT SELECT ON c TO regress_cow_agg_reader;
ALTER TABLE c ENABLE ROW LEVEL SECURITY;
CREATE POLICY few ON c FOR SELECT USING (k < 100);
SET ROLE regress_cow_agg_reader;
EXPLAIN (COSTS OFF) SELECT count(*), sum(k) FROM c;
SELECT count(*), sum(k) FROM c;
RESET ROLE;
EXPLAIN (COSTS OFF) SELECT count(*) FROM c;
SELECT count(*) FROM c;
DROP POLICY few ON c;
ALTER TABLE c DISABLE ROW LEVEL SECURITY;
REVOKE ALL ON c FROM regress_cow_agg_reader;
REVOKE USAGE ON SCHEMA cow_aggregate FROM regress_cow_agg_reader;
DROP ROLE regress_cow_agg_reader;

-- Quals are evaluated block by block (4096 rows), and the aggregates'
-- columns are decoded only in the blocks where a row passed: one matching
-- row in a 10000-row file group (blocks of 4096, 4096, 1808) decodes one
-- block of the qual's column (per-block min/max rule out the two others)
-- and one block of each aggregate's column.  Integer
-- and date comparisons are made natively, across int2/int4/int8 too.
CREATE TABLE sel_h (id bigint, w int4, d date, v numeric(10,2), t text);
INSERT INTO sel_h SELECT g, g * 7, date '2020-01-01' + g,
       CASE WHEN g % 11 = 0 THEN NULL ELSE g / 100.0 END,
       CASE WHEN g % 13 = 0 THEN NULL ELSE 'row ' || g END
FROM generate_series(1, 10000) g;
CREATE TABLE sel_c (LIKE sel_h) USING incetl_cow;
SELECT incetl.set_table_options('sel_c', record_key => 'id',
                                file_group_rows => 10000);
INSERT INTO sel_c SELECT * FROM sel_h;
CREATE FUNCTION blocks_of(q text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    b0 bigint;
    b1 bigint;
BEGIN
    SELECT column_blocks_decoded INTO b0 FROM incetl.cow_decode_counts();
    EXECUTE q;
    SELECT column_blocks_decoded INTO b1 FROM incetl.cow_decode_counts();
    RETURN b1 - b0;
END $$;
SET max_parallel_workers_per_gather = 0;
SELECT q, blocks_of(format(q, 'sel_c')) AS blocks
FROM (VALUES
    ('SELECT max(v), min(t), count(*) FROM %s WHERE w = 35000'),
    ('SELECT max(v), min(t), count(*) FROM %s WHERE w = 35000::int8'),
    ('SELECT max(v), min(t), count(*) FROM %s WHERE w = 7000::int2'),
    ('SELECT sum(v), count(t) FROM %s WHERE d >= date ''2047-05-01'''),
    ('SELECT sum(v), count(*) FROM %s WHERE w > 1 AND w < 3'),
    ('SELECT count(*) FROM %s WHERE v > 99.5')
) x(q);
-- the same results as heap's, and as the ordinary plan's
CREATE FUNCTION same_as_heap(q text) RETURNS bool LANGUAGE plpgsql AS $$
DECLARE
    a text;
    b text;
    c text;
    rows text := 'SELECT string_agg(r, '' '' ORDER BY r) FROM '
                 '(SELECT row(x.*)::text AS r FROM (%s) x) y';
BEGIN
    EXECUTE format(rows, format(q, 'sel_h')) INTO a;
    EXECUTE format(rows, format(q, 'sel_c')) INTO b;
    PERFORM set_config('incetl.cow_aggregate_pushdown', 'off', true);
    EXECUTE format(rows, format(q, 'sel_c')) INTO c;
    PERFORM set_config('incetl.cow_aggregate_pushdown', 'on', true);
    IF a IS DISTINCT FROM b OR b IS DISTINCT FROM c THEN
        RAISE NOTICE 'heap: %, pushdown: %, ordinary: %', a, b, c;
    END IF;
    RETURN a IS NOT DISTINCT FROM b AND b IS NOT DISTINCT FROM c;
END $$;
SELECT q, same_as_heap(q)
FROM (VALUES
    ('SELECT max(v), min(t), count(*) FROM %s WHERE w = 35000'),
    ('SELECT max(v), min(t), count(*) FROM %s WHERE w = 35000::int8'),
    ('SELECT max(v), min(t), count(*), sum(w) FROM %s WHERE w >= 32000::int2'),
    ('SELECT sum(v), count(t), avg(w) FROM %s WHERE d >= date ''2047-05-01'''),
    ('SELECT sum(v), count(*), max(t) FROM %s WHERE w > 1 AND w < 3'),
    ('SELECT count(*), sum(v), min(t) FROM %s WHERE v > 99.5'),
    ('SELECT count(*), max(t) FROM %s WHERE v IS NULL AND w < 30000'),
    ('SELECT t IS NULL, count(*), sum(v) FROM %s WHERE w <= 40000 GROUP BY 1'),
    ('SELECT w %% 3, count(*), max(d) FROM %s WHERE w = ANY (ARRAY[7, 35000, 69993]) GROUP BY 1')
) x(q);
RESET max_parallel_workers_per_gather;

-- the setting is a user setting
SHOW incetl.cow_aggregate_pushdown;

RESET search_path;
DROP SCHEMA cow_aggregate CASCADE;
