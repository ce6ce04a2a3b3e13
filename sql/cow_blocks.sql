-- incetl_cow column blocks: every column chunk is cut into blocks of 4096
-- rows (COW_BLOCK_ROWS), each encoded and compressed on its own, so an
-- index lookup decodes one block per column instead of the whole chunk.
-- File groups of 4095, 4096, 4097 and 8193 rows (below, at and just above
-- a multiple of the block size) round-trip exactly against a heap copy, by
-- sequential scan and by index lookups of single rows in the first, a
-- middle and the last block, with NULLs and every encoding.
CREATE SCHEMA cow_blocks;
SET search_path = cow_blocks, public;
-- the blocks and pages counted here are those read without the read cache
-- (cow_read_cache.c, sql/cow_read_cache.sql), which would leave out the
-- ones an earlier statement of the session decompressed
SET incetl.cow_read_cache_size = 0;

-- differing(h, c): rows of h and c that differ, by value and by text form
\getenv abs_srcdir PG_ABS_SRCDIR
\set table_differing :abs_srcdir '/sql/include/table_differing.sql'
\i :table_differing

CREATE TABLE src (
    k bigint,           -- record key: int
    i4 int,             -- int, NULL every 7th row
    n2 numeric(12,2),   -- numeric
    nx numeric,         -- mixed scales: varlena
    st text,            -- few distinct values: dictionary
    md text,            -- varlena, NULL every 5th row
    f8 float8,          -- plain
    u uuid,             -- plain (fixed-length by reference)
    sparse text,        -- NULL but in rows 4090..4100: all-NULL blocks
    nul text            -- NULL everywhere: a null chunk
);
INSERT INTO src
SELECT g,
       CASE WHEN g % 7 <> 0 THEN (hashint4(g::int) % 100000) END,
       (g % 100000) / 100.0,
       CASE WHEN g % 3 = 0 THEN g / 8.0 ELSE g END,
       (ARRAY['new', 'paid', 'shipped', ''])[g % 4 + 1],
       CASE WHEN g % 5 <> 0 THEN md5(g::text) END,
       g * 0.25,
       md5(g::text)::uuid,
       CASE WHEN g BETWEEN 4090 AND 4100 THEN 'near ' || g END,
       NULL
FROM generate_series(1, 8193) g;

-- one file group of n rows: hN (heap) and cN (incetl_cow, index on k)
CREATE FUNCTION make_pair(n int) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('CREATE TABLE h%1$s AS SELECT * FROM src WHERE k <= %1$s', n);
    EXECUTE format('CREATE TABLE c%s (LIKE src) USING incetl_cow', n);
    PERFORM incetl.set_table_options(format('c%s', n)::regclass, record_key => 'k',
                                     file_group_rows => 100000);
    EXECUTE format('INSERT INTO c%1$s SELECT * FROM h%1$s', n);
    EXECUTE format('CREATE INDEX ON c%s (k)', n);
END $$;
SELECT make_pair(n) FROM unnest(ARRAY[4095, 4096, 4097, 8193]) n;

SELECT n, fg.row_count
FROM unnest(ARRAY[4095, 4096, 4097, 8193]) n,
     incetl.cow_file_group fg
WHERE fg.storage_id = incetl.cow_storage_id(format('c%s', n)::regclass)
  AND fg.superseded_by IS NULL
ORDER BY n;

-- every encoding is there (the chunk's name is what most blocks use)
SELECT coalesce(column_name, '(commit id)') AS column_name, encoding
FROM incetl.column_stats('c8193') ORDER BY attnum;

-- sequential scans
SELECT n, d.* FROM unnest(ARRAY[4095, 4096, 4097, 8193]) n,
    differing(format('h%s', n)::regclass, format('c%s', n)::regclass) d ORDER BY n;

-- index lookups of single rows: first block (1, 2), around the block
-- boundaries (4095..4097, 8192), the last rows (n - 1, n)
CREATE FUNCTION lookups(n int, OUT checked int, OUT differing int)
LANGUAGE plpgsql AS $$
DECLARE
    key bigint;
    hrow text;
    crow text;
BEGIN
    checked := 0;
    differing := 0;
    FOREACH key IN ARRAY ARRAY[1, 2, 4095, 4096, 4097, 8192, n - 1, n]
    LOOP
        CONTINUE WHEN key > n;
        EXECUTE format('SELECT x::text FROM h%s x WHERE k = $1', n) INTO hrow USING key;
        EXECUTE format('SELECT x::text FROM c%s x WHERE k = $1', n) INTO crow USING key;
        checked := checked + 1;
        IF crow IS DISTINCT FROM hrow THEN
            differing := differing + 1;
        END IF;
    END LOOP;
END $$;

SET enable_seqscan = off;
SET enable_bitmapscan = off;	-- the index fetch (cow_bitmap.sql: bitmap scans)
EXPLAIN (COSTS OFF) SELECT * FROM c8193 WHERE k = 4097;
SELECT n, l.* FROM unnest(ARRAY[4095, 4096, 4097, 8193]) n, lookups(n) l ORDER BY n;

-- a lookup decodes one block per column it reads, no whole chunk (nul, all
-- NULL, counts as a chunk but stores nothing; so does an all-NULL block of
-- sparse); a sequential scan decodes all 3 blocks of every column, one
-- block at a time as it reaches them (only nul, stored as nothing, is
-- filled as a whole chunk)
CREATE TEMP TABLE before AS SELECT * FROM incetl.cow_decode_counts();
SELECT k, i4, sparse FROM c8193 WHERE k = 8193;
SELECT c.column_chunks_decoded - b.column_chunks_decoded AS chunks,
       c.column_blocks_decoded - b.column_blocks_decoded AS blocks
FROM incetl.cow_decode_counts() c, before b;
TRUNCATE before;
INSERT INTO before SELECT * FROM incetl.cow_decode_counts();
SELECT * FROM c8193 WHERE k = 4096;
SELECT c.column_chunks_decoded - b.column_chunks_decoded AS chunks,
       c.column_blocks_decoded - b.column_blocks_decoded AS blocks
FROM incetl.cow_decode_counts() c, before b;
RESET enable_seqscan;
RESET enable_bitmapscan;
TRUNCATE before;
INSERT INTO before SELECT * FROM incetl.cow_decode_counts();
SELECT count(*) FROM (SELECT * FROM c8193) s WHERE s::text <> '';
SELECT c.column_chunks_decoded - b.column_chunks_decoded AS chunks,
       c.column_blocks_decoded - b.column_blocks_decoded AS blocks
FROM incetl.cow_decode_counts() c, before b;

-- updates found through the index (the old row is read by block), then
-- both again
SET enable_seqscan = off;
UPDATE h8193 SET md = 'changed', i4 = NULL WHERE k IN (3, 4097, 8193);
UPDATE c8193 SET md = 'changed', i4 = NULL WHERE k IN (3, 4097, 8193);
SELECT * FROM lookups(8193);
RESET enable_seqscan;
SELECT * FROM differing('h8193', 'c8193');
SELECT * FROM incetl.verify('c8193');

DROP SCHEMA cow_blocks CASCADE;
