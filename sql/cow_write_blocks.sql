-- incetl_cow's writer encodes a file group a block (4096 rows) at a time:
-- each column's values of one block are gathered, encoded and compressed
-- in one reused context, and only the blocks' stored bytes are kept until
-- the group is written.  What a chunk carries from block to block must
-- still hold across blocks: a dictionary that overflowed is not tried
-- again in the later blocks, a column whose first two blocks zstd could
-- not shrink stays uncompressed, NULLs of one block only, the chunk's and
-- every block's min/max, and a merge's runs of stored rows that cross a
-- block boundary, mixed with incoming rows.  Every table is compared with
-- a heap copy that went through the same statements.
CREATE SCHEMA cow_write_blocks;
SET search_path = cow_write_blocks, public;

-- differing(h, c): rows of h and c that differ, by value and by text form
\getenv abs_srcdir PG_ABS_SRCDIR
\set table_differing :abs_srcdir '/sql/include/table_differing.sql'
\i :table_differing

-- one file group of 10000 rows: blocks of 4096, 4096 and 1808 rows
CREATE TABLE h (
    k bigint,
    dict text,          -- 5 values in block 1, all distinct in block 2, 5 in block 3
    rnd bytea,          -- random bytes in blocks 1-2 (zstd misses), repeats in 3
    mid text,           -- NULL but in block 2
    last_only int,      -- NULL but in the last block's last 10 rows
    n2 numeric(12,2),   -- numeric, descending: min in the last block
    gone int,           -- dropped below
    ts timestamptz
);
CREATE TABLE c (LIKE h) USING incetl_cow;
SELECT incetl.set_table_options('c', record_key => 'k', precombine => 'ts',
                                file_group_rows => 10000);
INSERT INTO h
SELECT g,
       CASE WHEN g BETWEEN 4097 AND 8192 THEN 'distinct ' || g
            ELSE (ARRAY['new', 'paid', 'shipped', 'delivered', 'cancelled'])[g % 5 + 1] END,
       CASE WHEN g <= 8192 THEN sha256(int8send(g))
            ELSE convert_to(repeat('abcdefgh', 16), 'UTF8') END,
       CASE WHEN g BETWEEN 4097 AND 8192 THEN md5(g::text) END,
       CASE WHEN g > 9990 THEN g END,
       (20000 - g) / 100.0,
       g,
       timestamptz '2026-01-01' + g * interval '1 minute'
FROM generate_series(1, 10000) g;
ALTER TABLE h DROP COLUMN gone;
ALTER TABLE c DROP COLUMN gone;
INSERT INTO c SELECT * FROM h;

-- the carried state: dict overflowed in block 2, so block 3 is not tried
-- as a dictionary (the chunk stands as varlena: 2 blocks of 3); rnd's first
-- two blocks did not pay for zstd, so the third is not compressed either
SELECT column_name, encoding, chunks, zstd_chunks
FROM incetl.column_stats('c') WHERE column_name IN ('dict', 'rnd') ORDER BY attnum;
SELECT * FROM differing('h', 'c');
SELECT count(*) AS problems FROM incetl.verify('c');

-- block and chunk min/max: every filter answers as on heap
SELECT (SELECT count(*) FROM c WHERE n2 < 100.10) AS c_low,
       (SELECT count(*) FROM h WHERE n2 < 100.10) AS h_low,
       (SELECT min(n2) FROM c) = (SELECT min(n2) FROM h) AS same_min,
       (SELECT max(last_only) FROM c WHERE last_only IS NOT NULL) AS c_last,
       (SELECT count(*) FROM c WHERE mid > 'f') = (SELECT count(*) FROM h WHERE mid > 'f') AS same_mid,
       (SELECT count(*) FROM c WHERE k BETWEEN 4090 AND 4100) AS c_range;

-- a merge that rewrites the group: every third key and a run across the
-- first block boundary are replaced (newer ts), keys beyond the end are
-- added; the rewritten group interleaves runs of stored rows with
-- incoming ones, and runs of stored rows reach over the block boundaries
CREATE TABLE upd AS
SELECT k, 'upd ' || k AS dict, sha256(int8send(-k)) AS rnd, NULL::text AS mid,
       k AS last_only, k / 10.0 AS n2, ts + interval '1 day' AS ts
FROM h WHERE k % 3 = 0 OR k BETWEEN 4000 AND 4200
UNION ALL
SELECT g, 'new', NULL, 'new ' || g, NULL, g, timestamptz '2027-01-01'
FROM generate_series(10001, 10500) g;
DELETE FROM h USING upd WHERE h.k = upd.k;
INSERT INTO h SELECT * FROM upd;
INSERT INTO c SELECT * FROM upd;
SELECT count(*) AS rows, count(DISTINCT k) AS keys FROM c;
SELECT * FROM differing('h', 'c');
SELECT count(*) AS problems FROM incetl.verify('c');
SELECT (SELECT count(*) FROM c WHERE n2 < 100.10) = (SELECT count(*) FROM h WHERE n2 < 100.10) AS same_low,
       (SELECT count(*) FROM c WHERE dict = 'upd 4095') AS c_upd,
       (SELECT count(*) FROM c WHERE k BETWEEN 4090 AND 4100 AND dict LIKE 'upd%') AS c_range_upd;

-- a block wider than the encoding context's first block (1 MB): 4096
-- values of 1 kB each; the context is reset to its first block after each
-- block, and goes with the transaction (an idle backend keeps none of it;
-- a rolled back write leaves none either)
CREATE TABLE hw (k int, w text);
CREATE TABLE cw (LIKE hw) USING incetl_cow;
SELECT incetl.set_table_options('cw', record_key => 'k');
INSERT INTO hw SELECT g, repeat(md5(g::text), 32) FROM generate_series(1, 5000) g;
BEGIN;
INSERT INTO cw SELECT * FROM hw WHERE k <= 4500;
SELECT total_bytes FROM pg_backend_memory_contexts WHERE name = 'incetl cow encode block';
COMMIT;
SELECT count(*) AS left_over FROM pg_backend_memory_contexts WHERE name = 'incetl cow encode block';
BEGIN;
INSERT INTO cw SELECT * FROM hw WHERE k > 4500;
SELECT count(*) AS while_writing FROM pg_backend_memory_contexts WHERE name = 'incetl cow encode block';
ROLLBACK;
SELECT count(*) AS left_over FROM pg_backend_memory_contexts WHERE name = 'incetl cow encode block';
INSERT INTO cw SELECT * FROM hw WHERE k > 4500;
SELECT * FROM differing('hw', 'cw');

RESET search_path;
DROP SCHEMA cow_write_blocks CASCADE;
