-- incetl_cow point lookups in framed blocks: a column block of more than
-- 8 kB encoded is written as independent zstd frames after an index of
-- them (a VARLENA block: its null bitmap and lengths in the first frame,
-- 4 kB of value bytes in each other one, front coding restarting in each),
-- and a lookup decompresses only the frames holding what it reads
-- (CowGroupFramedRaw, CowDecodeValue).  Every lookup must return exactly
-- the row a sequential scan (which decompresses blocks whole) returns:
-- every encoding, NULLs, values longer than a frame and values crossing
-- frame boundaries, shared prefixes across them, values after upserts and
-- rewrites, a cursor that still sees the version before an UPDATE.
CREATE SCHEMA cow_lookup_frames;
SET search_path = cow_lookup_frames, public;
-- the blocks and pages counted here are those read without the read cache
-- (cow_read_cache.c, sql/cow_read_cache.sql), which would leave out the
-- ones an earlier statement of the session decompressed
SET incetl.cow_read_cache_size = 0;

CREATE TABLE src (
    k bigint,           -- record key: int
    i4 int,             -- int, frame of reference, NULL every 7th row;
                        -- repeating every 700 rows, so zstd compresses
                        -- its 17-bit packing (a block zstd saves less than
                        -- an eighth of is stored as it is)
    f8 float8,          -- plain, by value
    u uuid,             -- plain, fixed length by reference (64 kB a block)
    nm name,            -- plain, 64 bytes each (256 kB a block)
    n2 numeric(12,2),   -- numeric
    st text,            -- few distinct values: dictionary
    fc text,            -- front-coded varlena, NULL every 9th row
    big text,           -- varlena: mostly short, every 50th 1-12 kB long,
                        -- NULL every 11th row, NULL throughout 4000..4096
    js jsonb            -- varlena, not text
);
INSERT INTO src
SELECT g,
       CASE WHEN g % 7 <> 0 THEN (g % 700) * 97 + g % 3 END,
       g * 0.5,
       md5(g::text)::uuid,
       'name ' || (g % 300) || ' ' || md5((g % 300)::text),
       (g % 100000) / 100.0,
       (ARRAY['new', 'paid', 'shipped'])[g % 3 + 1],
       CASE WHEN g % 9 <> 0 THEN 'order number ' || lpad(g::text, 7, '0') || ' ' || md5(g::text) END,
       CASE WHEN g % 11 = 0 OR g BETWEEN 4000 AND 4096 THEN NULL
            WHEN g % 50 = 0 THEN 'long ' || g || ' ' || repeat(md5(g::text), 30 + (g % 350))
            ELSE 'v' || g || ' ' || md5((g * 7)::text) END,
       jsonb_build_object('k', g, 'h', md5(g::text))
FROM generate_series(1, 9000) g;

-- h: heap; c: incetl_cow keyed by k, one file group of three blocks, and
-- a btree on k
CREATE TABLE h AS SELECT * FROM src;
CREATE UNIQUE INDEX h_k ON h (k);
CREATE TABLE c (LIKE src) USING incetl_cow;
SELECT incetl.set_table_options('c', record_key => 'k', file_group_rows => 100000);
INSERT INTO c SELECT * FROM src;
CREATE INDEX c_k ON c (k);
ANALYZE c;

-- the encodings, and which columns zstd compressed (blocks of more than
-- 8 kB of those are framed)
SELECT coalesce(column_name, '(commit id)') AS column_name, encoding,
       zstd_chunks > 0 AS compressed, encoded_bytes > 3 * 8192 AS large
FROM incetl.column_stats('c') ORDER BY attnum;

-- the rows a sequential scan returns (blocks decompressed whole)
SET enable_indexscan = off;
SET enable_bitmapscan = off;
CREATE TEMP TABLE seq AS SELECT k, c::text AS r FROM c;
CREATE UNIQUE INDEX seq_k ON seq (k);
ANALYZE seq;
RESET enable_indexscan;
RESET enable_bitmapscan;
SELECT count(*) AS seq_rows,
       count(*) FILTER (WHERE r IS DISTINCT FROM (SELECT x::text FROM h x WHERE x.k = seq.k)) AS differing_from_heap
FROM seq;

-- one statement per lookup (a fresh index fetch each: the first value of
-- each block is read alone, from its frames): block edges, every long
-- value and the rows around it, every 13th row
CREATE FUNCTION keys() RETURNS SETOF bigint LANGUAGE sql AS $$
    SELECT DISTINCT k FROM unnest(ARRAY[1, 2, 3999, 4000, 4095, 4096, 4097,
                                         4098, 8191, 8192, 8193, 9000]::bigint[]) k
    UNION SELECT g + d FROM generate_series(50, 9000, 50) g, generate_series(-1, 1) d
          WHERE g + d <= 9000
    UNION SELECT g FROM generate_series(5, 9000, 13) g
$$;
CREATE FUNCTION lookups(OUT checked int, OUT missing int, OUT differing int,
                        OUT plans_not_index int)
LANGUAGE plpgsql AS $$
DECLARE
    key bigint;
    crow text;
    plan text;
BEGIN
    checked := 0;
    missing := 0;
    differing := 0;
    plans_not_index := 0;
    FOR key IN SELECT * FROM keys() LOOP
        EXECUTE 'EXPLAIN (COSTS OFF) SELECT x::text FROM c x WHERE k = ' || key INTO plan;
        IF plan NOT LIKE 'Index Scan using c_k on c x%' THEN
            plans_not_index := plans_not_index + 1;
        END IF;
        EXECUTE 'SELECT x::text FROM c x WHERE k = ' || key INTO crow;
        checked := checked + 1;
        IF crow IS NULL THEN
            missing := missing + 1;
        END IF;
        IF crow IS DISTINCT FROM (SELECT r FROM seq WHERE seq.k = key) THEN
            differing := differing + 1;
        END IF;
    END LOOP;
END $$;
SET enable_seqscan = off;
SET enable_bitmapscan = off;
SELECT * FROM lookups();

-- single columns alone (the slot reads up to the last one asked for)
SELECT count(*) AS rows_read,
       count(*) FILTER (WHERE (SELECT x.big FROM c x WHERE x.k = h.k) IS DISTINCT FROM h.big) AS big_differing,
       count(*) FILTER (WHERE (SELECT x.nm FROM c x WHERE x.k = h.k) IS DISTINCT FROM h.nm) AS nm_differing
FROM h WHERE k % 97 = 0 OR k % 50 = 0;

-- a lookup reads the frames it needs, not the whole block: in a table
-- whose first column is the text, reading one value of a block touches
-- fewer buffers than reading two values of it (the second decodes the
-- block whole, reading its remaining frames); were blocks read whole,
-- both would read the same pages
CREATE TABLE t2 (big text, k bigint) USING incetl_cow;
SELECT incetl.set_table_options('t2', record_key => 'k', file_group_rows => 100000);
INSERT INTO t2 SELECT 'v ' || g || ' ' || md5(g::text) || md5((g + 1)::text), g FROM generate_series(1, 9000) g;
CREATE INDEX t2_k ON t2 (k);
ANALYZE t2;
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
-- the second row read from a block decodes a window of rows from it on
-- (CowGroupValue), not the block: a hundred rows through the index read
-- the frames they lie in, far fewer pages than the block's 4096 rows
SELECT buffers('SELECT length(big) FROM t2 WHERE k BETWEEN 6000 AND 6100') + 40 <
       buffers('SELECT length(big) FROM t2 WHERE k BETWEEN 4097 AND 8192') AS range_reads_its_frames;

-- many rows in one statement: the first row of a block is read alone,
-- the next decode windows of rows, then the block whole (its remaining
-- frames)
SELECT count(*) AS rows_read,
       count(*) FILTER (WHERE (SELECT x::text FROM c x WHERE x.k = seq.k) IS DISTINCT FROM seq.r) AS differing
FROM seq;
SELECT count(*) AS rows_read,
       count(*) FILTER (WHERE x::text IS DISTINCT FROM (SELECT r FROM seq WHERE seq.k = x.k)) AS differing
FROM c x WHERE k BETWEEN 3990 AND 4200;
-- index ranges in both directions across blocks and frames: windows of
-- 64, 128, ... rows from the row on (descending: up to it), then whole
-- blocks; every row as the sequential scan read it
EXPLAIN (COSTS OFF) SELECT * FROM c WHERE k BETWEEN 100 AND 8900 ORDER BY k DESC;
SELECT count(*) AS rows_read,
       count(*) FILTER (WHERE x::text IS DISTINCT FROM (SELECT r FROM seq WHERE seq.k = x.k)) AS differing
FROM (SELECT * FROM c WHERE k BETWEEN 100 AND 8900 ORDER BY k DESC) x;
SELECT count(*) AS rows_read,
       count(*) FILTER (WHERE x::text IS DISTINCT FROM (SELECT r FROM seq WHERE seq.k = x.k)) AS differing
FROM (SELECT * FROM c WHERE k BETWEEN 4000 AND 4300 ORDER BY k) x;
SELECT count(*) AS rows_read,
       count(*) FILTER (WHERE x::text IS DISTINCT FROM (SELECT r FROM seq WHERE seq.k = x.k)) AS differing
FROM (SELECT * FROM c WHERE k BETWEEN 4000 AND 4300 ORDER BY k DESC) x;

-- upserts rewrite the group (new versions, framed the same way), updates
-- change long values into short ones and back
INSERT INTO c (k, i4, big, fc, st, nm)
SELECT g, -g, CASE WHEN g % 2 = 0 THEN repeat('u' || g, 2000) END, 'order number upserted ' || g, 'paid', 'upserted'
FROM generate_series(25, 9000, 250) g;
DELETE FROM h WHERE k IN (SELECT g FROM generate_series(25, 9000, 250) g);
INSERT INTO h (k, i4, big, fc, st, nm)
SELECT g, -g, CASE WHEN g % 2 = 0 THEN repeat('u' || g, 2000) END, 'order number upserted ' || g, 'paid', 'upserted'
FROM generate_series(25, 9000, 250) g;
UPDATE c SET big = 'short now' WHERE k IN (100, 4100);
UPDATE h SET big = 'short now' WHERE k IN (100, 4100);
UPDATE c SET big = repeat('long again ', 1500) WHERE k IN (101, 4101);
UPDATE h SET big = repeat('long again ', 1500) WHERE k IN (101, 4101);
SELECT k, left(big, 12) AS big, length(big) AS len, fc, nm FROM c WHERE k IN (25, 100, 101, 275, 4100, 4101) ORDER BY k;
SET enable_indexscan = off;
DELETE FROM seq;
INSERT INTO seq SELECT k, c::text FROM c;
RESET enable_indexscan;
SELECT count(*) AS seq_rows,
       count(*) FILTER (WHERE r IS DISTINCT FROM (SELECT x::text FROM h x WHERE x.k = seq.k)) AS differing_from_heap
FROM seq;
SELECT * FROM lookups();

-- a cursor opened before an UPDATE in its transaction reads, through the
-- index, the version its snapshot sees (the one before the UPDATE)
BEGIN;
DECLARE cur CURSOR FOR
    SELECT k, left(big, 12) AS big, length(big) AS len FROM c
    WHERE k = ANY (ARRAY[100, 150, 4100, 8950]) ORDER BY k;
EXPLAIN (COSTS OFF) SELECT k, left(big, 12) AS big, length(big) AS len FROM c
    WHERE k = ANY (ARRAY[100, 150, 4100, 8950]) ORDER BY k;
FETCH 1 FROM cur;
UPDATE c SET big = 'changed in transaction' WHERE k IN (100, 150, 4100, 8950);
FETCH ALL FROM cur;
SELECT k, big FROM c WHERE k IN (100, 150, 4100, 8950) ORDER BY k;
ROLLBACK;
SELECT k, left(big, 12) AS big, length(big) AS len FROM c WHERE k IN (100, 150, 4100, 8950) ORDER BY k;

-- the lengths before a value are summed whole words at a time where their
-- width divides 64 (CowIntSumPacked): values whose lengths pack in 1, 2,
-- 4 and 8 bits (and 5, which does not divide 64), no shared prefixes
-- (md5 text), read one per statement through the index, at every
-- position of three blocks, with the read cache off and on
CREATE TABLE wh (k int, w1 text, w2 text, w4 text, w5 text, w8 text);
INSERT INTO wh
SELECT g,
       left(repeat(md5(g::text), 9), 3 + g % 2),
       left(repeat(md5((g + 1)::text), 9), 3 + (g * 7) % 4),
       left(repeat(md5((g + 2)::text), 9), 3 + (g * 5) % 16),
       left(repeat(md5((g + 3)::text), 9), 3 + (g * 3) % 32),
       left(repeat(md5((g + 4)::text), 9), 40 + (g * 11) % 256)
FROM generate_series(1, 9000) g;
CREATE UNIQUE INDEX wh_k ON wh (k);
CREATE TABLE wc (LIKE wh) USING incetl_cow;
SELECT incetl.set_table_options('wc', record_key => 'k', file_group_rows => 100000);
INSERT INTO wc SELECT * FROM wh;
CREATE INDEX wc_k ON wc (k);
ANALYZE wc;
CREATE FUNCTION wlookups() RETURNS TABLE (looked_up bigint, differing bigint)
LANGUAGE plpgsql AS $$
DECLARE
    key int;
    r text;
BEGIN
    looked_up := 0;
    differing := 0;
    FOR key IN SELECT g FROM generate_series(1, 9000, 7) g UNION SELECT 9000 LOOP
        EXECUTE 'SELECT wc::text FROM wc WHERE k = $1' INTO r USING key;
        looked_up := looked_up + 1;
        IF r IS DISTINCT FROM (SELECT x::text FROM wh x WHERE x.k = key) THEN
            differing := differing + 1;
        END IF;
    END LOOP;
    RETURN NEXT;
END $$;
EXPLAIN (COSTS OFF) SELECT * FROM wc WHERE k = 4000;
SELECT * FROM wlookups();
SET incetl.cow_read_cache_size = '16MB';
SELECT * FROM wlookups();
SELECT * FROM wlookups();
SET incetl.cow_read_cache_size = 0;

RESET enable_seqscan;
RESET enable_bitmapscan;
SELECT * FROM incetl.verify('c');
DROP SCHEMA cow_lookup_frames CASCADE;
