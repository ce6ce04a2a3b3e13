-- The sequential scan's prefilter: the plan's leading "column op constant"
-- quals are evaluated on decoded column blocks before rows are formed, and
-- a file group is decoded a block (4096 rows) at a time as the scan
-- reaches it, so the other columns decode only the blocks of rows let
-- through.  Every query is checked against a heap copy, both ways with
-- EXCEPT ALL (the executor still evaluates the prefiltered quals on the
-- rows returned, but for bounds a key range holds: cow_key_range_quals),
-- and where it is deterministic by the blocks decompressed
-- (incetl.cow_decode_counts()).
CREATE SCHEMA cow_scan_filter;
SET search_path = cow_scan_filter, public;
SET incetl.cow_aggregate_pushdown = off;
SET enable_indexscan = off;
SET enable_bitmapscan = off;
SET max_parallel_workers_per_gather = 0;

\getenv abs_srcdir PG_ABS_SRCDIR
\set heap_differing :abs_srcdir '/sql/include/heap_differing.sql'
\i :heap_differing

-- rows of query q on table t
CREATE FUNCTION nrows(q text, t text) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    n bigint;
BEGIN
    EXECUTE format('SELECT count(*) FROM (%s) s', format(q, t)) INTO n;
    RETURN n;
END $$;

-- column blocks decompressed by query q
CREATE FUNCTION blocks(q text) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    b0 bigint;
    b1 bigint;
BEGIN
    SELECT column_blocks_decoded INTO b0 FROM incetl.cow_decode_counts();
    EXECUTE q;
    SELECT column_blocks_decoded INTO b1 FROM incetl.cow_decode_counts();
    RETURN b1 - b0;
END $$;

-- 25000 rows: file groups of 10000 rows (blocks of 4096, 4096, 1808) and
-- one of 5000; NULLs in every column but id; each encoding the prefilter
-- meets: int (i2, i4, id, d, ts), numeric at one scale (n) and at mixed
-- scales (nm: varlena), dictionary text (t), varlena text (v), plain
-- float8 (f)
CREATE TABLE h (id bigint, i2 int2, i4 int4, d date, ts timestamptz,
                n numeric(10,2), nm numeric, t text, v text, f float8);
INSERT INTO h
SELECT g,
       CASE WHEN g % 11 = 0 THEN NULL ELSE (g % 300 - 150)::int2 END,
       CASE WHEN g % 13 = 0 THEN NULL ELSE g % 5000 END,
       CASE WHEN g % 17 = 0 THEN NULL ELSE date '2026-01-01' + g % 400 END,
       CASE WHEN g % 19 = 0 THEN NULL
            ELSE timestamptz '2026-01-01 00:00+00' + g * interval '1 minute' END,
       CASE WHEN g % 23 = 0 THEN NULL ELSE (g % 10000) / 100.0 END,
       CASE WHEN g % 29 = 0 THEN NULL WHEN g % 2 = 0 THEN g / 10.0 ELSE g END,
       CASE WHEN g % 31 = 0 THEN NULL ELSE (ARRAY['paid', 'open', 'shipped'])[1 + g % 3] END,
       CASE WHEN g % 37 = 0 THEN NULL ELSE md5(g::text) END,
       CASE WHEN g % 41 = 0 THEN NULL ELSE g / 7.0 END
FROM generate_series(1, 25000) g;
CREATE TABLE c (LIKE h) USING incetl_cow;
SELECT incetl.set_table_options('c', file_group_rows => 10000);
INSERT INTO c SELECT * FROM h ORDER BY id;
-- keyed by id: quals on id also narrow each group to a key range
CREATE TABLE ck (LIKE h) USING incetl_cow;
SELECT incetl.set_table_options('ck', record_key => 'id', file_group_rows => 10000);
INSERT INTO ck SELECT * FROM h ORDER BY id;
SELECT encoding, count(*) FROM incetl.column_stats('c') GROUP BY 1 ORDER BY 1;

CREATE TABLE queries (n int, q text);
INSERT INTO queries VALUES
 (1, 'SELECT * FROM %s WHERE i2 = 7'),
 (2, 'SELECT * FROM %s WHERE i2 < -140'),
 (3, 'SELECT id, i4 FROM %s WHERE i4 >= 4990'),
 (4, 'SELECT id FROM %s WHERE i4 = 4096::bigint'),
 (5, 'SELECT id, i4 FROM %s WHERE 10 > i4'),
 (6, 'SELECT * FROM %s WHERE id = 4096'),
 (7, 'SELECT * FROM %s WHERE id = 4097'),
 (8, 'SELECT id FROM %s WHERE id <= 10000 AND id > 8191'),
 (9, 'SELECT id, d FROM %s WHERE d = date ''2026-02-01'''),
 (10, 'SELECT id, ts FROM %s WHERE ts > ''2026-01-17 00:00+00'''),
 (11, 'SELECT id, n FROM %s WHERE n > 99.5'),
 (12, 'SELECT id, n FROM %s WHERE n = 12.34'),
 (13, 'SELECT id, nm FROM %s WHERE nm < 100'),
 (14, 'SELECT id, t FROM %s WHERE t = ''open'''),
 (15, 'SELECT id, t FROM %s WHERE t <> ''open'''),
 (16, 'SELECT id, v FROM %s WHERE v LIKE ''ab%%'''),
 (17, 'SELECT id, v FROM %s WHERE v NOT LIKE ''%%a%%'''),
 (18, 'SELECT id, v FROM %s WHERE v > ''fff'''),
 (19, 'SELECT id, f FROM %s WHERE f < 10'),
 (20, 'SELECT id FROM %s WHERE t = ''paid'' AND n > 50 AND i2 < 0'),
 (21, 'SELECT id FROM %s WHERE i4 IS NULL AND t = ''paid'''),
 (22, 'SELECT id FROM %s WHERE t = ''none'''),
 (23, 'SELECT id FROM %s WHERE i4 > 100 AND i4 %% 7 = 0 AND t = ''open'''),
 (24, 'SELECT count(*), sum(n) FROM %s WHERE i2 > 100'),
 (25, 'SELECT id FROM %s WHERE 4096 = i4');
SELECT n, nrows(q, 'h') AS rows, differing(q, 'h', 'c') AS c,
       differing(q, 'h', 'ck') AS ck
FROM queries ORDER BY n;

-- the filter quals are the plan's leading "column op constant" quals (the
-- planner puts the cheaper first): from the first that is not (i4 % 7 = 0)
-- on, the executor alone filters
EXPLAIN (COSTS OFF) SELECT id FROM c WHERE i4 > 100 AND i4 % 7 = 0 AND t = 'open';

-- blocks decompressed.  c has 2 file groups of 3 blocks per column and
-- one of 2.  A point on id (the group's min/max leave one group, the
-- blocks' one block): one block of each column read; a second qual
-- failing there: that one block of its column, none of the others; a
-- value in most groups: the blocks of i4 whose min/max hold it (4 of 8),
-- and of id those holding a match; LIMIT: the first block of the columns
-- read; min/max ruling out every group: none; a qual on a column after
-- those read (the executor, deforming up to it, would decode id and i2
-- for every row): the one block of f holding 10, one of id and i2
SELECT blocks('SELECT id, t FROM c WHERE id = 4096') AS point_edge,
       blocks('SELECT id, t FROM c WHERE id = 4097') AS point_next,
       blocks('SELECT * FROM c WHERE id = 12345') AS point_all_columns,
       blocks('SELECT * FROM c WHERE id = 12345 AND t = ''pa''') AS no_match,
       blocks('SELECT id FROM c WHERE i4 = 4999') AS every_group,
       blocks('SELECT id, v FROM c WHERE t = ''paid'' LIMIT 3') AS limited,
       blocks('SELECT id FROM c WHERE i4 = -1') AS nothing,
       blocks('SELECT id, i2 FROM c WHERE f = 10') AS late_column;
SELECT * FROM incetl.cow_last_scan();

-- backward scans and scroll cursors over filtered rows, across blocks and
-- file groups
BEGIN;
DECLARE cur SCROLL CURSOR FOR SELECT id, i4 FROM c WHERE i4 = 4095 OR i4 = 4096;
DECLARE cur2 SCROLL CURSOR FOR SELECT id FROM c WHERE i2 = -150 AND id > 4000;
FETCH LAST FROM cur;
FETCH BACKWARD 3 FROM cur;
FETCH FORWARD 2 FROM cur;
FETCH ABSOLUTE 1 FROM cur;
FETCH BACKWARD 1 FROM cur;
FETCH NEXT FROM cur;
FETCH FORWARD ALL FROM cur;
FETCH BACKWARD ALL FROM cur;
FETCH 3 FROM cur2;
FETCH BACKWARD 2 FROM cur2;
FETCH RELATIVE 5 FROM cur2;
FETCH LAST FROM cur2;
FETCH PRIOR FROM cur2;
COMMIT;

-- rescans: the inner side of a nested loop, filtered, scanned once per
-- outer row (the parameter's qual is the executor's, t's the scan's)
CREATE TABLE outer_rows (k int);
INSERT INTO outer_rows VALUES (1), (2), (3), (2);
ANALYZE outer_rows;
CREATE VIEW nl_c AS SELECT o.k, x.id FROM outer_rows o,
    LATERAL (SELECT id FROM c WHERE t = 'paid' AND i4 = o.k * 1000 OFFSET 0) x;
CREATE VIEW nl_h AS SELECT o.k, x.id FROM outer_rows o,
    LATERAL (SELECT id FROM h WHERE t = 'paid' AND i4 = o.k * 1000 OFFSET 0) x;
EXPLAIN (COSTS OFF) SELECT * FROM nl_c;
SELECT (SELECT count(*) FROM (TABLE nl_c EXCEPT ALL TABLE nl_h) a)
     + (SELECT count(*) FROM (TABLE nl_h EXCEPT ALL TABLE nl_c) b) AS differing,
       (SELECT count(*) FROM nl_c) AS rows;

-- parallel scans: every participant filters the groups it claims
SET max_parallel_workers_per_gather = 2;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
EXPLAIN (COSTS OFF) SELECT id, n FROM c WHERE n > 99.5;
SELECT n, differing(q, 'h', 'c') AS c, differing(q, 'h', 'ck') AS ck
FROM queries WHERE n IN (3, 11, 14, 16, 20, 24) ORDER BY n;
RESET max_parallel_workers_per_gather;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
SET max_parallel_workers_per_gather = 0;

-- LIMIT
SELECT id, t FROM c WHERE t = 'shipped' AND id > 4090 ORDER BY id LIMIT 4;
SELECT id FROM c WHERE i2 = 0 LIMIT 2;

-- a column added after the groups were written reads as its default; a
-- qual on it is left to the executor (and stops the prefilter there)
ALTER TABLE c ADD COLUMN extra int DEFAULT 5;
ALTER TABLE h ADD COLUMN extra int DEFAULT 5;
SELECT count(*) FROM c WHERE extra = 5 AND i2 = 7;
SELECT count(*) FROM h WHERE extra = 5 AND i2 = 7;
INSERT INTO c (id, i2, extra) VALUES (30001, 7, 6);
INSERT INTO h (id, i2, extra) VALUES (30001, 7, 6);
SELECT differing('SELECT id, extra FROM %s WHERE extra = 6 AND i2 = 7', 'h', 'c'),
       differing('SELECT id, extra FROM %s WHERE i2 = 7 AND extra = 5', 'h', 'c');

DROP SCHEMA cow_scan_filter CASCADE;
