-- Key ranges decode only their rows: a sequential scan with quals on the
-- first record-key column finds the range's ends by binary search, each
-- probe decoding one key value alone once the search is inside a block
-- (CowGroupProbe), and then decodes, of a block the range covers in part,
-- only the range's rows of each column (CowGroupRow, CowDecodeRange):
-- bit-packed and delta integers, numerics, dictionary text, front-coded
-- varlena (restarting at each 4 kB frame of a framed block, whose other
-- frames are not decompressed), plain values, booleans, NULL bitmaps.
-- Every range is checked against heap: ranges inside a block, crossing
-- block and frame boundaries, at the start and end of a file group and
-- across groups, random ranges, over groups of format 4 and format 3 (no
-- per-block min/max: the search crosses blocks), and with a text key.
CREATE SCHEMA cow_key_range_decode;
SET search_path = cow_key_range_decode, public;
SET enable_indexscan = off;
SET enable_bitmapscan = off;
SET incetl.cow_aggregate_pushdown = off;

CREATE TABLE src (
    k bigint,           -- record key
    i4 int,             -- int, frame of reference, NULL every 7th row;
                        -- repeating every 700 rows, so zstd compresses
                        -- its 17-bit packing (a block zstd saves less than
                        -- an eighth of is stored as it is)
    d8 bigint,          -- int, growing: delta
    f8 float8,          -- plain, by value
    bl bool,            -- one byte, NULL every 5th row
    u uuid,             -- plain, fixed length by reference
    nm name,            -- plain, 64 bytes each
    n2 numeric(12,2),   -- numeric, NULL every 13th row
    st text,            -- few distinct values: dictionary
    fc text,            -- front-coded varlena, NULL every 9th row
    big text,           -- varlena: every 50th 1-12 kB long, NULL every
                        -- 11th row and throughout 4000..4096
    js jsonb            -- varlena, not text
);
INSERT INTO src
SELECT g,
       CASE WHEN g % 7 <> 0 THEN (g % 700) * 97 + g % 3 END,
       g::bigint * g + (g % 3),
       g * 0.5,
       CASE WHEN g % 5 <> 0 THEN g % 3 = 0 END,
       md5(g::text)::uuid,
       'name ' || (g % 300) || ' ' || md5((g % 300)::text),
       CASE WHEN g % 13 <> 0 THEN (g % 100000) / 100.0 END,
       (ARRAY['new', 'paid', 'shipped', 'returned'])[g % 4 + 1],
       CASE WHEN g % 9 <> 0 THEN 'order number ' || lpad(g::text, 7, '0') || ' ' || md5(g::text) END,
       CASE WHEN g % 11 = 0 OR g BETWEEN 4000 AND 4096 THEN NULL
            WHEN g % 50 = 0 THEN 'long ' || g || ' ' || repeat(md5(g::text), 30 + (g % 350))
            ELSE 'v' || g || ' ' || md5((g * 7)::text) END,
       jsonb_build_object('k', g, 'h', md5(g::text))
FROM generate_series(1, 9000) g;

-- h: heap; c: one file group of three blocks (4096, 4096, 808 rows);
-- c2: groups of 5000 rows; c3: as c, written as format 3
CREATE TABLE h AS SELECT * FROM src;
CREATE TABLE c (LIKE src) USING incetl_cow;
SELECT incetl.set_table_options('c', record_key => 'k', file_group_rows => 100000);
INSERT INTO c SELECT * FROM src ORDER BY k;
CREATE TABLE c2 (LIKE src) USING incetl_cow;
SELECT incetl.set_table_options('c2', record_key => 'k', file_group_rows => 5000);
INSERT INTO c2 SELECT * FROM src ORDER BY k;
SET incetl.test_cow_group_version = 3;
CREATE TABLE c3 (LIKE src) USING incetl_cow;
SELECT incetl.set_table_options('c3', record_key => 'k', file_group_rows => 100000);
INSERT INTO c3 SELECT * FROM src ORDER BY k;
RESET incetl.test_cow_group_version;

-- every encoding is there
SELECT column_name, encoding, zstd_chunks > 0 AS compressed
FROM incetl.column_stats('c') WHERE column_name IS NOT NULL ORDER BY attnum;

-- rows of the range [a, b] of table t that differ from heap's, both ways
CREATE FUNCTION differing(t text, a bigint, b bigint) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    n bigint;
    q text := 'SELECT x::text FROM %s x WHERE k BETWEEN %s AND %s';
BEGIN
    EXECUTE format('SELECT (SELECT count(*) FROM (%1$s EXCEPT ALL %2$s) p)
                         + (SELECT count(*) FROM (%2$s EXCEPT ALL %1$s) q)',
                   format(q, 'h', a, b), format(q, t, a, b))
        INTO n;
    RETURN n;
END $$;

CREATE TABLE ranges (a bigint, b bigint, what text);
INSERT INTO ranges VALUES
    (1, 1, 'first row'),
    (1, 101, 'start of the group'),
    (200, 300, 'inside a block'),
    (250, 251, 'two rows'),
    (100, 700, 'across frames'),
    (3990, 4010, 'into the NULL run of big'),
    (4090, 4100, 'across blocks 0 and 1'),
    (4096, 4097, 'last of block 0, first of block 1'),
    (4097, 4097, 'first row of block 1'),
    (1, 4096, 'block 0 whole'),
    (4050, 8250, 'blocks 0 to 2, the middle whole'),
    (8190, 8194, 'across blocks 1 and 2'),
    (8900, 9000, 'end of the group'),
    (9000, 9000, 'last row'),
    (8995, 9100, 'past the end'),
    (4950, 5050, 'across groups of c2'),
    (5001, 5001, 'first row of c2''s second group'),
    (4999, 5000, 'end of c2''s first group'),
    (6000, 6100, 'a long value inside'),
    (-5, 0, 'below all'),
    (9001, 9999, 'above all');
SELECT what, differing('c', a, b) AS c, differing('c2', a, b) AS c2,
       differing('c3', a, b) AS c3,
       (SELECT count(*) FROM h WHERE k BETWEEN a AND b) AS heap_rows
FROM ranges ORDER BY a, b;

-- random ranges, short and long
SELECT setseed(0.13);
CREATE TABLE random_ranges AS
SELECT a, a + len AS b
FROM (SELECT (random() * 9100)::bigint AS a,
             (ARRAY[0, 1, 5, 40, 150, 600, 5000])[1 + floor(random() * 7)::int] AS len
      FROM generate_series(1, 40)) r;
SELECT count(*) AS ranges,
       sum(differing('c', a, b)) AS c, sum(differing('c2', a, b)) AS c2,
       sum(differing('c3', a, b)) AS c3
FROM random_ranges;

-- single columns, and the range with another qual (the prefilter reads
-- the range's rows of its column's blocks)
SELECT count(*) FILTER (WHERE x.big IS DISTINCT FROM y.big) AS big,
       count(*) FILTER (WHERE x.fc IS DISTINCT FROM y.fc) AS fc,
       count(*) FILTER (WHERE x.n2 IS DISTINCT FROM y.n2) AS n2,
       count(*) FILTER (WHERE x.st IS DISTINCT FROM y.st) AS st
FROM h x
FULL JOIN (SELECT k, big, fc, n2, st FROM c WHERE k BETWEEN 4000 AND 4300) y USING (k)
WHERE x.k BETWEEN 4000 AND 4300;
SELECT (SELECT count(*) FROM c WHERE k BETWEEN 4050 AND 4150 AND st = 'paid') AS c,
       (SELECT count(*) FROM h WHERE k BETWEEN 4050 AND 4150 AND st = 'paid') AS h,
       (SELECT sum(i4) FROM c3 WHERE k BETWEEN 100 AND 4200 AND bl) =
       (SELECT sum(i4) FROM h WHERE k BETWEEN 100 AND 4200 AND bl) AS c3_same;

-- backward: a scroll cursor over a range crossing a block boundary
BEGIN;
DECLARE cur SCROLL CURSOR FOR SELECT k, fc FROM c WHERE k BETWEEN 4094 AND 4099;
FETCH LAST FROM cur;
FETCH BACKWARD 3 FROM cur;
FETCH FIRST FROM cur;
COMMIT;

-- a text key: the probes decode single front-coded values
CREATE TABLE ht AS SELECT lpad(k::text, 8, '0') AS tk, fc, big, n2 FROM src;
CREATE TABLE ct (tk text COLLATE "C", fc text, big text, n2 numeric(12,2)) USING incetl_cow;
SELECT incetl.set_table_options('ct', record_key => 'tk', file_group_rows => 100000);
INSERT INTO ct SELECT * FROM ht ORDER BY tk;
SELECT a, b,
       (SELECT count(*) FROM (SELECT x::text FROM ht x WHERE tk BETWEEN a AND b
                              EXCEPT ALL
                              SELECT y::text FROM ct y WHERE tk BETWEEN a AND b) d) +
       (SELECT count(*) FROM (SELECT y::text FROM ct y WHERE tk BETWEEN a AND b
                              EXCEPT ALL
                              SELECT x::text FROM ht x WHERE tk BETWEEN a AND b) d) AS differing,
       (SELECT count(*) FROM ct WHERE tk BETWEEN a AND b) AS rows
FROM (VALUES ('00000001', '00000050'), ('00004090', '00004100'),
             ('00006000', '000060'), ('00008999', '9')) v(a, b);

-- a range of two rows of a framed block decompresses only the frames
-- they lie in: fewer pages than the whole block (were blocks decoded
-- whole, as before, both would read the same pages)
CREATE TABLE t2 (big text, k bigint) USING incetl_cow;
SELECT incetl.set_table_options('t2', record_key => 'k', file_group_rows => 100000);
INSERT INTO t2 SELECT 'v ' || g || ' ' || md5(g::text) || md5((g + 1)::text), g FROM generate_series(1, 9000) g;
CREATE FUNCTION buffers(q text) RETURNS int LANGUAGE plpgsql AS $$
DECLARE
    line text;
    total int := 0;
BEGIN
    FOR line IN EXECUTE 'EXPLAIN (ANALYZE, BUFFERS, COSTS OFF, TIMING OFF, SUMMARY OFF) ' || q LOOP
        IF line ~ 'Buffers: shared' AND total = 0 THEN
            total := coalesce((substring(line from 'hit=(\d+)'))::int, 0) +
                     coalesce((substring(line from 'read=(\d+)'))::int, 0);
        END IF;
    END LOOP;
    RETURN total;
END $$;
SELECT big FROM t2 WHERE k BETWEEN 6000 AND 6001;
SELECT buffers('SELECT big FROM t2 WHERE k BETWEEN 6000 AND 6001') <
       buffers('SELECT big FROM t2 WHERE k BETWEEN 4097 AND 8192') AS fewer_pages;

DROP SCHEMA cow_key_range_decode CASCADE;
