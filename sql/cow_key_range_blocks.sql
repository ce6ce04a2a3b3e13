-- Key ranges find their blocks and rows with little work per statement:
-- a bound on the first record-key column finds the blocks it may hold for
-- by binary search of the group's per-block min/max (cow_scan.c,
-- CowSortedBlocksMayHold: in a group sorted by the column the blocks'
-- minimums and maximums never decrease), where other quals test every
-- block; the binary search for the range's ends reads key values through
-- the block's value block once the backend keeps it (CowGroupProbe); the
-- bounds the range found are not evaluated again by the scan's prefilter
-- (nor by the executor: cow_key_range_quals); and the rows of the range
-- are returned without a per-row test up to the end of their block or
-- point range (CowScanRunEnd).  Every query is checked against heap, and
-- by the column blocks it decompresses.
CREATE SCHEMA cow_key_range_blocks;
SET search_path = cow_key_range_blocks, public;
SET enable_indexscan = off;
SET enable_bitmapscan = off;
SET max_parallel_workers_per_gather = 0;

\getenv abs_srcdir PG_ABS_SRCDIR
\set heap_differing :abs_srcdir '/sql/include/heap_differing.sql'
\i :heap_differing

-- the column blocks query q on table c decompresses
CREATE FUNCTION blocks(q text, c text) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    b0 bigint;
    b1 bigint;
BEGIN
    SELECT column_blocks_decoded INTO b0 FROM incetl.cow_decode_counts();
    EXECUTE format(q, c);
    SELECT column_blocks_decoded INTO b1 FROM incetl.cow_decode_counts();
    RETURN b1 - b0;
END $$;

-- 1. A record key of two columns: k1 repeats over 1000 rows, so values
-- of k1 span two blocks (4096 rows) and blocks share their edge values.
-- Two file groups of 20,000 rows and one of 10,000; five, five and three
-- blocks.
CREATE TABLE src AS
SELECT g / 1000 AS k1, g % 1000 AS k2, g * 7 % 1009 AS v,
       'row ' || g AS t,
       -- 0 or 1 in blocks 0-2, 0 or 2 after: w = 1 holds in no row of
       -- block 3, whose min/max (0, 2) do not tell
       (g % 2) * CASE WHEN g < 12288 THEN 1 ELSE 2 END AS w
FROM generate_series(0, 49999) g;
CREATE TABLE h (LIKE src);
INSERT INTO h SELECT * FROM src;
CREATE TABLE c (LIKE src) USING incetl_cow;
SELECT incetl.set_table_options('c', record_key => 'k1, k2',
                                file_group_rows => 20000);
INSERT INTO c SELECT * FROM src ORDER BY k1, k2;
ANALYZE h, c;
SELECT count(*) AS groups FROM incetl.file_groups('c');

CREATE TABLE queries (n int, q text);
INSERT INTO queries VALUES
    -- k1 = 4: rows 4000-4999, blocks 0 and 1 of group 0
    (1, 'SELECT * FROM %s WHERE k1 = 4'),
    (2, 'SELECT * FROM %s WHERE k1 < 4'),
    (3, 'SELECT * FROM %s WHERE k1 <= 4'),
    (4, 'SELECT * FROM %s WHERE k1 > 16'),
    (5, 'SELECT * FROM %s WHERE k1 >= 16'),
    (6, 'SELECT * FROM %s WHERE k1 BETWEEN 8 AND 12'),
    -- none: above, below, between two values
    (7, 'SELECT * FROM %s WHERE k1 = 99'),
    (8, 'SELECT * FROM %s WHERE k1 < 0'),
    (9, 'SELECT * FROM %s WHERE k1 > 4 AND k1 < 5'),
    (10, 'SELECT * FROM %s WHERE k1 >= 0'),
    -- the last rows of the table; a group's last and next group's first
    (11, 'SELECT * FROM %s WHERE k1 > 48'),
    (12, 'SELECT * FROM %s WHERE k1 BETWEEN 19 AND 20'),
    -- cross-type constants, a constant on the left
    (13, 'SELECT * FROM %s WHERE k1 = 4::int8'),
    (14, 'SELECT * FROM %s WHERE 30::int2 <= k1 AND 33::int8 > k1'),
    -- with quals on other columns, and on the second key column
    (15, 'SELECT k2, t FROM %s WHERE k1 = 24 AND v < 100'),
    (16, 'SELECT k2 FROM %s WHERE k1 BETWEEN 3 AND 9 AND k2 >= 990'),
    (17, 'SELECT t FROM %s WHERE k1 IN (4, 8, 31) AND k1 > 5'),
    -- a numeric constant: no btree comparison of the column, no range
    (18, 'SELECT * FROM %s WHERE k1 BETWEEN 4.5 AND 6'),
    -- a qual that holds for none (NULL)
    (19, 'SELECT * FROM %s WHERE k1 > NULL::int');

SELECT n, differing(q, 'h', 'c') AS differing, heap_rows(q) AS heap_rows
FROM queries ORDER BY n;

-- blocks decompressed (the read cache off: every block counts), of the
-- five columns those the query reads.  1: blocks 0 and 1 (rows 4000-4999);
-- 2, 3: block 0 (and 1); 4: block 4 of group 0 (k1 16-19) and every block
-- of groups 1 and 2 (9 blocks); 5: blocks 3 and 4 of group 0 too; 6:
-- blocks 1-3; 7, 8: none; 9: one block of k1, whose probes find no row
-- between 4 and 5; 10: all 13 blocks; 11: the last block; 12: the last
-- block of group 0 and the first of group 1; 13 as 1; 14: blocks 2 and 3
-- of group 1; 15: two blocks of v, k2, t and k1 (the executor's test);
-- 16: k2 and k1; 17: the blocks of 8 and 31; 18: those group and block
-- min/max leave for a numeric bound (no key range)
SET incetl.cow_read_cache_size = 0;
SELECT n, blocks(q, 'c') AS blocks FROM queries ORDER BY n;
RESET incetl.cow_read_cache_size;

-- the same with the aggregate pushdown, whose scan also finds the blocks
-- of a bound on the key column by binary search
SET incetl.cow_read_cache_size = 0;
SELECT n, differing(q, 'h', 'c') AS differing, blocks(q, 'c') AS blocks
FROM (VALUES
    (1, 'SELECT count(*), sum(v) FROM %s WHERE k1 = 4'),
    (2, 'SELECT count(*), sum(v) FROM %s WHERE k1 BETWEEN 8 AND 12'),
    (3, 'SELECT count(*), sum(v) FROM %s WHERE k1 >= 48'),
    (4, 'SELECT count(*), max(k2) FROM %s WHERE k1 < 1'),
    (5, 'SELECT count(*) FROM %s WHERE k1 > 4 AND k1 < 5')) AS a(n, q)
ORDER BY n;
RESET incetl.cow_read_cache_size;
EXPLAIN (COSTS OFF) SELECT count(*), sum(v) FROM c WHERE k1 = 4;

-- 2. A key range's bounds on the key column are not evaluated by the
-- prefilter (its other quals are), the rows the range returns holding for
-- them; the executor still tests them.  Rows 10000-14999 are in blocks 2
-- and 3.  t alone: t and k1 of both (k1: the range's ends are found in
-- each); v < 20 lets rows of both through: v too; w = 1 lets none of
-- block 3 through: w of both, t of block 2; v = 5000: per-block min/max
-- rule out every block.
SET incetl.cow_read_cache_size = 0;
SELECT blocks('SELECT t FROM %s WHERE k1 BETWEEN 10 AND 14', 'c') AS t_only,
       blocks('SELECT t FROM %s WHERE k1 BETWEEN 10 AND 14 AND v < 20', 'c') AS t_v,
       blocks('SELECT t FROM %s WHERE k1 BETWEEN 10 AND 14 AND w = 1', 'c') AS t_w,
       blocks('SELECT t FROM %s WHERE k1 BETWEEN 10 AND 14 AND v = 5000', 'c') AS none_of_v;
RESET incetl.cow_read_cache_size;
SELECT differing(q, 'h', 'c'), heap_rows(q)
FROM (VALUES ('SELECT t FROM %s WHERE k1 BETWEEN 10 AND 14 AND v < 20'),
             ('SELECT t FROM %s WHERE k1 BETWEEN 10 AND 14 AND w = 1')) AS a(q);


-- a generic plan: the bounds are parameters
CREATE FUNCTION range_of(tab text, a int, b int, lim int)
RETURNS TABLE (k1 int, k2 int, v int) LANGUAGE plpgsql AS $$
BEGIN
    IF tab = 'c' THEN
        RETURN QUERY SELECT c.k1, c.k2, c.v FROM c
                     WHERE c.k1 >= a AND c.k1 < b AND c.v < lim;
    ELSE
        RETURN QUERY SELECT h.k1, h.k2, h.v FROM h
                     WHERE h.k1 >= a AND h.k1 < b AND h.v < lim;
    END IF;
END $$;
SET plan_cache_mode = force_generic_plan;
SELECT a, b,
       (SELECT count(*) FROM (SELECT * FROM range_of('c', a, b, 500)
                              EXCEPT ALL
                              SELECT * FROM range_of('h', a, b, 500)) x) AS extra,
       (SELECT count(*) FROM (SELECT * FROM range_of('h', a, b, 500)
                              EXCEPT ALL
                              SELECT * FROM range_of('c', a, b, 500)) x) AS missing,
       (SELECT count(*) FROM range_of('c', a, b, 500)) AS rows
FROM (VALUES (4, 5), (0, 50), (19, 21), (7, 7), (48, 60)) AS r(a, b)
ORDER BY a, b;
RESET plan_cache_mode;

-- 3. Cursors moving both ways over a key range: rows are returned
-- without a per-row test only forward, up to the end of their block (per
-- block min/max left some out) or of their IN list element's rows.  The
-- same moves on heap and incetl_cow give the same rows.
CREATE FUNCTION moves(q text, steps int[]) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    ch refcursor := 'ch';
    cc refcursor := 'cc';
    s int;
    rh record;
    rc record;
    i int;
    bad bigint := 0;
BEGIN
    OPEN ch SCROLL FOR EXECUTE format(q, 'h');
    OPEN cc SCROLL FOR EXECUTE format(q, 'c');
    FOREACH s IN ARRAY steps LOOP
        FOR i IN 1 .. abs(s) LOOP
            IF s > 0 THEN
                FETCH NEXT FROM ch INTO rh;
                FETCH NEXT FROM cc INTO rc;
            ELSE
                FETCH PRIOR FROM ch INTO rh;
                FETCH PRIOR FROM cc INTO rc;
            END IF;
            IF rh::text IS DISTINCT FROM rc::text THEN
                bad := bad + 1;
            END IF;
        END LOOP;
    END LOOP;
    CLOSE ch;
    CLOSE cc;
    RETURN bad;
END $$;
-- heap sorted as incetl_cow returns a key range: by key.  The steps run
-- past both ends.
SELECT moves(
    'SELECT k1, k2, v FROM %s WHERE k1 BETWEEN 3 AND 9 AND k2 >= 0',
    ARRAY[10, -4, 3000, -100, 2000, -2500, 5000, -10, 3]) AS differing_moves;
SELECT moves(
    'SELECT k1, k2, t FROM %s WHERE k1 IN (3, 4, 19, 20, 41) AND k2 < 600',
    ARRAY[5, -3, 700, -200, 900, -1400, 3000, -3100]) AS differing_moves;
EXPLAIN (COSTS OFF)
SELECT k1, k2, v FROM c WHERE k1 BETWEEN 3 AND 9 AND k2 >= 0;

-- 4. Many key ranges in one session, the read cache on: the range's
-- ends are found through the key blocks' value blocks once the backend
-- keeps them (consecutive keys, integers and dates: delta blocks of width
-- 0, searched by arithmetic, CowGroupKeyLinear; text keys, whose value
-- block is made the third statement that reads the block).  Keys
-- growing by varying steps (delta blocks of some width) have none of use:
-- their probes decode their values.  Ranges of one row, of none (between
-- two keys), across blocks and groups.
CREATE TABLE src2 AS
SELECT g AS n, g * 3 + (g % 3) AS gap, g * 1000 + g % 7 * 100 AS grow,
       lpad((g * 13)::text, 8, '0') || '-k' AS tk,
       md5(g::text) AS payload,
       '2000-01-01'::date + g AS d
FROM generate_series(1, 30000) g;
CREATE TABLE h2 (LIKE src2);
INSERT INTO h2 SELECT * FROM src2;
CREATE TABLE cg (LIKE src2) USING incetl_cow;
SELECT incetl.set_table_options('cg', record_key => 'gap', file_group_rows => 12000);
INSERT INTO cg SELECT * FROM src2;
CREATE TABLE cn (LIKE src2) USING incetl_cow;
SELECT incetl.set_table_options('cn', record_key => 'n', file_group_rows => 12000);
INSERT INTO cn SELECT * FROM src2;
CREATE TABLE cd (LIKE src2) USING incetl_cow;
SELECT incetl.set_table_options('cd', record_key => 'd', file_group_rows => 12000);
INSERT INTO cd SELECT * FROM src2;
CREATE TABLE cw (LIKE src2) USING incetl_cow;
SELECT incetl.set_table_options('cw', record_key => 'grow', file_group_rows => 12000);
INSERT INTO cw SELECT * FROM src2;
CREATE TABLE ct (LIKE src2) USING incetl_cow;
SELECT incetl.set_table_options('ct', record_key => 'tk', file_group_rows => 12000);
INSERT INTO ct SELECT * FROM src2;
SELECT 'cn' AS t, encoding FROM incetl.column_stats('cn') WHERE column_name = 'n'
UNION ALL
SELECT 'cd' AS t, encoding FROM incetl.column_stats('cd') WHERE column_name = 'd'
UNION ALL
SELECT 'cg' AS t, encoding FROM incetl.column_stats('cg') WHERE column_name = 'gap'
UNION ALL
SELECT 'cw', encoding FROM incetl.column_stats('cw') WHERE column_name = 'grow'
UNION ALL
SELECT 'ct', encoding FROM incetl.column_stats('ct') WHERE column_name = 'tk';

-- each range [lo($1), hi($1)] for $1 = 0 .. n - 1 compared with heap's,
-- all twice (the second time every key block's value block is kept)
CREATE FUNCTION ranges(tab text, col text, lo_expr text, hi_expr text, n int)
RETURNS TABLE (ranges int, differing bigint, total_rows bigint)
LANGUAGE plpgsql AS $$
DECLARE
    lo text;
    hi text;
    d bigint;
    k bigint;
BEGIN
    ranges := 0;
    differing := 0;
    total_rows := 0;
    FOR rep IN 1 .. 2 LOOP
        FOR i IN 0 .. n - 1 LOOP
            EXECUTE format('SELECT (%s)::text, (%s)::text', lo_expr, hi_expr)
                INTO lo, hi USING i;
            EXECUTE format($q$
                SELECT (SELECT count(*) FROM (SELECT * FROM %1$I WHERE %2$I BETWEEN %3$L AND %4$L
                                              EXCEPT ALL
                                              SELECT * FROM h2 WHERE %2$I BETWEEN %3$L AND %4$L) a)
                     + (SELECT count(*) FROM (SELECT * FROM h2 WHERE %2$I BETWEEN %3$L AND %4$L
                                              EXCEPT ALL
                                              SELECT * FROM %1$I WHERE %2$I BETWEEN %3$L AND %4$L) b),
                       (SELECT count(*) FROM %1$I WHERE %2$I BETWEEN %3$L AND %4$L)$q$,
                           tab, col, lo, hi)
                INTO d, k;
            ranges := ranges + 1;
            differing := differing + d;
            total_rows := total_rows + k;
        END LOOP;
    END LOOP;
    RETURN NEXT;
END $$;
SELECT 'n' AS key, * FROM ranges('cn', 'n', '$1 * 103', '$1 * 103 + 20', 290);
SELECT 'd' AS key, * FROM ranges('cd', 'd', '''2000-01-01''::date + $1 * 103', '''2000-01-01''::date + $1 * 103 + 20', 290);
SELECT 'gap' AS key, * FROM ranges('cg', 'gap', '$1 * 317', '$1 * 317 + 60', 290);
SELECT 'grow' AS key, * FROM ranges('cw', 'grow', '$1 * 103001', '$1 * 103001 + 100000', 290);
SELECT 'tk' AS key, * FROM ranges('ct', 'tk', 'lpad(($1 * 1343)::text, 8, ''0'')',
                                  'lpad(($1 * 1343 + 130)::text, 8, ''0'')', 290);
-- a range of one row, and of none (between two keys: 3001 and 3005)
SELECT (SELECT count(*) FROM cg WHERE gap BETWEEN 3001 AND 3001) AS one_cow,
       (SELECT count(*) FROM h2 WHERE gap BETWEEN 3001 AND 3001) AS one_heap,
       (SELECT count(*) FROM cg WHERE gap > 3001 AND gap < 3005) AS none_cow,
       (SELECT count(*) FROM h2 WHERE gap > 3001 AND gap < 3005) AS none_heap;

-- The versions' key bounds a session keeps with a list of versions
-- (cow_scan.c, CowKeyBoundsFor), by which a range skips the versions
-- outside it: after updates, deletes and new keys beyond the last, the
-- next ranges read the new list's; inside a transaction that wrote, none
-- are kept.
UPDATE cn SET payload = 'u' || payload WHERE n % 1000 = 7;
UPDATE h2 SET payload = 'u' || payload WHERE n % 1000 = 7;
DELETE FROM cn WHERE n BETWEEN 12001 AND 12500;
DELETE FROM h2 WHERE n BETWEEN 12001 AND 12500;
INSERT INTO cn SELECT g, 0, 0, '', md5(g::text), '2000-01-01'::date + g
FROM generate_series(30001, 31000) g;
INSERT INTO h2 SELECT g, 0, 0, '', md5(g::text), '2000-01-01'::date + g
FROM generate_series(30001, 31000) g;
SELECT 'n' AS key, * FROM ranges('cn', 'n', '$1 * 107', '$1 * 107 + 20', 290);
BEGIN;
UPDATE cn SET payload = 'v' WHERE n BETWEEN 101 AND 110;
UPDATE h2 SET payload = 'v' WHERE n BETWEEN 101 AND 110;
SELECT 'n' AS key, * FROM ranges('cn', 'n', '$1 * 109', '$1 * 109 + 20', 100);
ROLLBACK;
SELECT (SELECT count(*) FROM cn WHERE n BETWEEN 30990 AND 31010) AS cow,
       (SELECT count(*) FROM h2 WHERE n BETWEEN 30990 AND 31010) AS heap;

-- 5. A table without a record key (its groups in no key's order): every
-- qual is evaluated as before; and the key column's type changed (the
-- table rewritten).
CREATE TABLE cu (id int, v int) USING incetl_cow;
SELECT incetl.set_table_options('cu', file_group_rows => 5000);
INSERT INTO cu SELECT 20000 - g, g FROM generate_series(1, 20000) g;
CREATE TABLE hu (id int, v int);
INSERT INTO hu SELECT * FROM cu;
SELECT (SELECT count(*) FROM cu WHERE id BETWEEN 100 AND 4200 AND v > 15000) AS cow,
       (SELECT count(*) FROM hu WHERE id BETWEEN 100 AND 4200 AND v > 15000) AS heap;
ALTER TABLE c ALTER COLUMN k1 TYPE bigint;
ALTER TABLE h ALTER COLUMN k1 TYPE bigint;
SELECT n, differing(q, 'h', 'c') AS differing, heap_rows(q) AS heap_rows
FROM queries WHERE n IN (1, 6, 12, 15, 16) ORDER BY n;

-- 6. A role without rights, and one under a row-level security policy,
-- after the owner's ranges filled this backend's key bounds and value
-- blocks: the executor's checks and the policy's qual still decide.
CREATE TABLE cr (id int, v int, secret text) USING incetl_cow;
SELECT incetl.set_table_options('cr', record_key => 'id', file_group_rows => 5000);
INSERT INTO cr SELECT g, g, 'secret ' || g FROM generate_series(1, 20000) g;
SELECT count(*) FROM cr WHERE id BETWEEN 100 AND 200;
SELECT count(*) FROM cr WHERE id BETWEEN 14990 AND 15010;
CREATE ROLE regress_cow_krb_low;
GRANT USAGE ON SCHEMA cow_key_range_blocks TO regress_cow_krb_low;
SET ROLE regress_cow_krb_low;
SELECT count(*) FROM cr WHERE id BETWEEN 100 AND 200;
RESET ROLE;
GRANT SELECT ON cr TO regress_cow_krb_low;
ALTER TABLE cr ENABLE ROW LEVEL SECURITY;
CREATE POLICY cr_even ON cr FOR SELECT TO regress_cow_krb_low
    USING (id % 2 = 0 AND v < 15000);
SET ROLE regress_cow_krb_low;
SELECT count(*), min(id), max(id) FROM cr WHERE id BETWEEN 100 AND 200;
SELECT count(*), min(id), max(id) FROM cr WHERE id BETWEEN 14990 AND 15010;
SELECT count(*) FROM cr WHERE id < 15000 AND id > 14000;
RESET ROLE;

DROP SCHEMA cow_key_range_blocks CASCADE;
DROP ROLE regress_cow_krb_low;
