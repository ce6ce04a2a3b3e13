-- Per-block min/max (file group format 4): every column with a btree
-- ordering records the min/max of each of its 4096-row blocks in the
-- group's header, and a sequential scan skips the blocks that a "column op
-- constant" qual rules out (decoding nothing of them), as it skips whole
-- groups by their chunk min/max; a key range starts from the blocks left.
-- Every query is checked against a heap copy, both ways with EXCEPT ALL,
-- and by the column blocks decompressed (incetl.cow_decode_counts()).
-- NULLs, NaN, text under a non-C collation (min/max ordered under the
-- column's collation; a qual under another collation skips nothing),
-- values too long for per-block min/max, groups rewritten by updates and
-- upserts, and groups of format 3 (without per-block min/max, written with
-- the test-only incetl.test_cow_group_version) read as before.
CREATE SCHEMA cow_block_minmax;
SET search_path = cow_block_minmax, public;
-- the blocks and pages counted here are those read without the read cache
-- (cow_read_cache.c, sql/cow_read_cache.sql), which would leave out the
-- ones an earlier statement of the session decompressed
SET incetl.cow_read_cache_size = 0;
SET incetl.cow_aggregate_pushdown = off;
SET enable_indexscan = off;
SET enable_bitmapscan = off;
SET max_parallel_workers_per_gather = 0;

\getenv abs_srcdir PG_ABS_SRCDIR
\set heap_differing :abs_srcdir '/sql/include/heap_differing.sql'
\i :heap_differing

-- column blocks decompressed by query q on table t
CREATE FUNCTION blocks(q text, t text) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    b0 bigint;
    b1 bigint;
BEGIN
    SELECT column_blocks_decoded INTO b0 FROM incetl.cow_decode_counts();
    EXECUTE format(q, t);
    SELECT column_blocks_decoded INTO b1 FROM incetl.cow_decode_counts();
    RETURN b1 - b0;
END $$;

-- 20000 rows, one file group of 5 blocks (4096 rows each, the last 3616).
-- k, n rise with id; f has NULLs and NaN (in block 3, rows 13000-13010:
-- NaN sorts above every number); t and tc hold the same values, under ICU
-- ("a…" < "B…" < "c…" < "D…" < "e…", one letter per block) and under "C"
-- (where "B…" < "D…" < "a…"); x is NULL throughout block 1; m is 1 in
-- blocks 1 and 3 only; v's values are too long for per-block min/max
CREATE TABLE h (id bigint, k int4, n numeric(10,2), f float8,
                t text COLLATE "und-x-icu", tc text COLLATE "C", x int8,
                m int2, v text);
INSERT INTO h
SELECT g, g / 1000, g / 100.0,
       CASE WHEN g % 7 = 0 THEN NULL
            WHEN g BETWEEN 13000 AND 13010 THEN 'NaN'::float8
            ELSE g * 1.5 END,
       (ARRAY['a', 'B', 'c', 'D', 'e'])[1 + (g - 1) / 4096] || lpad(g::text, 5, '0'),
       (ARRAY['a', 'B', 'c', 'D', 'e'])[1 + (g - 1) / 4096] || lpad(g::text, 5, '0'),
       CASE WHEN g BETWEEN 4097 AND 8192 THEN NULL ELSE g END,
       ((g - 1) / 4096) % 2,
       repeat('x', 100) || g
FROM generate_series(1, 20000) g;
CREATE TABLE c (LIKE h INCLUDING ALL) USING incetl_cow;
SELECT incetl.set_table_options('c', record_key => 'id', file_group_rows => 20000);
INSERT INTO c SELECT * FROM h ORDER BY id;
-- the same, written as format 3 (chunk min/max only)
SET incetl.test_cow_group_version = 3;
CREATE TABLE c3 (LIKE h INCLUDING ALL) USING incetl_cow;
SELECT incetl.set_table_options('c3', record_key => 'id', file_group_rows => 20000);
INSERT INTO c3 SELECT * FROM h ORDER BY id;
RESET incetl.test_cow_group_version;
-- and unkeyed (no key range: per-block min/max alone)
CREATE TABLE cn (LIKE h INCLUDING ALL) USING incetl_cow;
SELECT incetl.set_table_options('cn', file_group_rows => 20000);
INSERT INTO cn SELECT * FROM h ORDER BY id;
-- recorded min/max, the group's and each block's, are those of the values
SELECT * FROM incetl.verify('c');
SELECT * FROM incetl.verify('c3');

CREATE TABLE queries (n int, q text);
INSERT INTO queries VALUES
    (1, 'SELECT id FROM %s WHERE k = 7'),
    (2, 'SELECT id FROM %s WHERE n BETWEEN 50 AND 51'),
    (3, 'SELECT id, f FROM %s WHERE f > 1e300'),
    (4, 'SELECT id FROM %s WHERE f = ''NaN'''),
    (5, 'SELECT id, t FROM %s WHERE t < ''b'''),
    (6, 'SELECT id FROM %s WHERE t COLLATE "C" < ''b'''),
    (7, 'SELECT id FROM %s WHERE tc < ''b'''),
    (8, 'SELECT id FROM %s WHERE x > 0 AND x < 5000'),
    (9, 'SELECT id FROM %s WHERE x IS NULL'),
    (10, 'SELECT id FROM %s WHERE v = repeat(''x'', 100) || ''5'''),
    (11, 'SELECT * FROM %s WHERE id BETWEEN 9000 AND 9100'),
    (12, 'SELECT id, k FROM %s WHERE m = 1 AND id %% 1000 = 0'),
    (13, 'SELECT id FROM %s WHERE f < 30 OR f > 29990'),
    (14, 'SELECT id FROM %s WHERE t >= ''D'' AND t < ''e'''),
    (15, 'SELECT id FROM %s WHERE tc > ''a'' AND tc < ''c'''),
    (16, 'SELECT id FROM %s WHERE k = 99'),
    (17, 'SELECT id FROM %s WHERE 12000 < id AND k <= 12'),
    (18, 'SELECT count(*) FROM %s WHERE f >= ''NaN'''),
    -- LIKE with a literal prefix under "C": the prefix's range
    (30, 'SELECT id FROM %s WHERE tc LIKE ''B0%%'''),
    (31, 'SELECT id FROM %s WHERE tc LIKE ''D1\_%%1'''),
    (32, 'SELECT id FROM %s WHERE tc LIKE ''%%5'''),
    (33, 'SELECT id FROM %s WHERE tc LIKE ''é%%'''),
    (34, 'SELECT id FROM %s WHERE tc NOT LIKE ''a%%'''),
    -- under ICU a prefix says nothing of the order
    (35, 'SELECT id FROM %s WHERE t LIKE ''B0%%''');
SELECT n, differing(q, 'h', 'c') AS c, differing(q, 'h', 'c3') AS c3,
       differing(q, 'h', 'cn') AS cn, heap_rows(q) AS heap_rows
FROM queries ORDER BY n;
-- with the aggregate pushdown too
SET incetl.cow_aggregate_pushdown = on;
SELECT n, differing(q, 'h', 'c') AS c, differing(q, 'h', 'c3') AS c3
FROM queries WHERE n = 18;
SET incetl.cow_aggregate_pushdown = off;

-- blocks decompressed.  Format 4 (c, cn): a qual on a column read by the
-- prefilter decodes only the blocks min/max leave of it and of the other
-- columns read (1: block 1 of k and id; 3, 4: block 3 of f and id; 5:
-- block 0 of t and id); under another collation (6) every block of t; the
-- C column (7) the blocks of a, B, D; x NULL throughout block 1 (8); v
-- without per-block min/max (10): every block of v; a key range (11): one
-- block per column; m = 1 (12): blocks 1 and 3; a value no block holds
-- (16): none; LIKE 'B0%' under "C" (30): tc >= 'B0' and < 'B1', block 1;
-- a prefix up to an escape (31): 'D1', block 3; no prefix (32), NOT LIKE
-- (34), under ICU (35): every block; a prefix ending in a byte above
-- 0x7f (33): only its lower bound, 'é', above every value: none.
-- Format 3 (c3): every block of the qual's column, the key range by its
-- binary search; in 17 the bound on id is the key range's, which the
-- prefilter does not test again: of id, the blocks k lets rows through
SELECT n, blocks(q, 'c') AS c, blocks(q, 'cn') AS cn, blocks(q, 'c3') AS c3
FROM queries WHERE n <> 18 ORDER BY n;
-- quals each group min/max let through but no block: the group is skipped
SELECT id FROM c WHERE m = 1 AND k = 2;
SELECT * FROM incetl.cow_last_scan();

-- the aggregate pushdown skips the same blocks: decodes k's block 1 and
-- n's (format 3: every block of k, and n's only where k = 7 matched);
-- grouped too
SET incetl.cow_aggregate_pushdown = on;
EXPLAIN (COSTS OFF) SELECT count(*), sum(n) FROM c WHERE k = 7;
SELECT (SELECT row(count(*), sum(n)) FROM h WHERE k = 7)::text AS heap,
       (SELECT row(count(*), sum(n)) FROM c WHERE k = 7)::text AS cow;
SELECT blocks('SELECT count(*), sum(n) FROM %s WHERE k = 7', 'c') AS c,
       blocks('SELECT count(*), sum(n) FROM %s WHERE k = 7', 'c3') AS c3;
EXPLAIN (COSTS OFF) SELECT m, count(*), max(f) FROM c WHERE x < 5000 GROUP BY m;
SELECT differing('SELECT m, count(*), max(f) FROM %s WHERE x < 5000 GROUP BY m', 'h', 'c') AS c,
       differing('SELECT m, count(*), max(f) FROM %s WHERE x < 5000 GROUP BY m', 'h', 'c3') AS c3,
       differing('SELECT count(*) FROM %s WHERE tc LIKE ''B0%%''', 'h', 'c') AS c_like;
SELECT blocks('SELECT m, count(*), max(f) FROM %s WHERE x < 5000 GROUP BY m', 'c') AS c,
       blocks('SELECT m, count(*), max(f) FROM %s WHERE x < 5000 GROUP BY m', 'c3') AS c3,
       blocks('SELECT count(*) FROM %s WHERE tc LIKE ''B0%%''', 'c') AS c_like;
SET incetl.cow_aggregate_pushdown = off;

-- scroll cursors across blocks left out, forward and backward
BEGIN;
DECLARE cur SCROLL CURSOR FOR
    SELECT id FROM c WHERE m = 1 AND id % 1000 = 0;
FETCH LAST FROM cur;
FETCH BACKWARD 5 FROM cur;
FETCH FORWARD 2 FROM cur;
FETCH ABSOLUTE 1 FROM cur;
FETCH BACKWARD 1 FROM cur;
FETCH NEXT FROM cur;
COMMIT;

-- groups rewritten: an UPDATE moves k of rows of block 0 far out of its
-- range, upserts (INSERT of stored keys) give block 2 NaN, NULLs and
-- text of another block's letter; the rewritten groups carry the new
-- min/max, the format 3 table's are now format 4
UPDATE h SET k = 5000 WHERE id BETWEEN 100 AND 110;
UPDATE c SET k = 5000 WHERE id BETWEEN 100 AND 110;
UPDATE c3 SET k = 5000 WHERE id BETWEEN 100 AND 110;
UPDATE cn SET k = 5000 WHERE id BETWEEN 100 AND 110;
CREATE TABLE up AS
SELECT id, k, n, CASE WHEN id % 2 = 0 THEN 'NaN'::float8 END AS f,
       'e' || id AS t, 'a' || id AS tc, NULL::int8 AS x, m, v
FROM h WHERE id BETWEEN 9000 AND 9050;
UPDATE h SET f = up.f, t = up.t, tc = up.tc, x = up.x
FROM up WHERE h.id = up.id;
INSERT INTO c SELECT * FROM up;
INSERT INTO c3 SELECT * FROM up;
SELECT count(*) FROM c;
SELECT * FROM incetl.verify('c');
SELECT * FROM incetl.verify('c3');
INSERT INTO queries VALUES
    (19, 'SELECT id FROM %s WHERE k = 5000'),
    (20, 'SELECT id FROM %s WHERE t > ''e09000'''),
    (21, 'SELECT id FROM %s WHERE tc >= ''a9'' AND tc < ''a91'''),
    (22, 'SELECT id FROM %s WHERE x < 9040');
SELECT n, differing(q, 'h', 'c') AS c, differing(q, 'h', 'c3') AS c3,
       heap_rows(q) AS heap_rows
FROM queries ORDER BY n;
SELECT count(*) FROM c WHERE k = 5000;
SELECT count(*) FROM c WHERE f > 1e300;
SELECT blocks('SELECT id FROM %s WHERE k = 5000', 'c') AS c,
       blocks('SELECT id FROM %s WHERE k = 5000', 'c3') AS c3;

-- the setting is for superusers (tests) only
CREATE ROLE cow_block_minmax_user;
SET ROLE cow_block_minmax_user;
SET incetl.test_cow_group_version = 3;
RESET ROLE;
SET incetl.test_cow_group_version = 2;
DROP ROLE cow_block_minmax_user;

RESET search_path;
DROP SCHEMA cow_block_minmax CASCADE;
