-- A point lookup reads the first value of a column's block through the
-- block's value block (cow_encoding.c, CowValueBlockBuild), which the
-- backend keeps in its read cache once it has read the block: the few
-- raw bytes that hold the value, without decoding the block's headers
-- again nor a raw buffer of the block's size (cow_reader.c,
-- CowGroupValueFast).  Integer, numeric, dictionary and varlena blocks
-- whose values are random access have one, and blocks of fixed-length
-- values stored as they are.  Every value read that way is compared with
-- heap's: integers of every width, int8 63 bits wide (a value's bits in
-- nine bytes), int8 at its extremes (stored plain), booleans, dates,
-- timestamps, numerics, dictionary codes, float8, uuids, text front-coded
-- in short chains (ref) and in chains of thousands of values (note), text
-- sharing no prefix, with NULLs (txt), NULLs anywhere in a block,
-- consecutive keys (delta blocks of width 0), and blocks stored as they
-- are (read in place), compressed whole and in frames.
CREATE SCHEMA cow_value_blocks;
SET search_path = cow_value_blocks, public;
SET max_parallel_workers_per_gather = 0;
SET enable_seqscan = off;
SET enable_bitmapscan = off;

CREATE TABLE src AS
SELECT g AS id,
       (g % 7 - 3)::int2 AS i2,
       CASE WHEN g % 5 = 0 THEN NULL ELSE g * 7919 % 100003 - 50000 END::int4 AS i4,
       CASE g % 1000 WHEN 1 THEN -4611686018427387903
                     WHEN 2 THEN 4611686018427387903
                     ELSE g::int8 * 1000003 END AS i8,
       '2026-01-01'::date + g % 400 AS d,
       '2026-01-01'::timestamptz + g * interval '1.5 second' AS ts,
       CASE WHEN g % 11 = 0 THEN NULL
            ELSE ((g * 37) % 200000 - 100000) / 100.0 END::numeric(12,2) AS amount,
       CASE WHEN g % 13 = 0 THEN NULL
            ELSE (ARRAY['new', 'paid', 'shipped', 'delivered', 'returned'])[1 + g % 5] END AS status,
       (g % 3 = 0) AS flag,
       CASE g % 1000 WHEN 1 THEN -9223372036854775808
                     WHEN 2 THEN 9223372036854775807
                     ELSE g END AS i8p,
       CASE WHEN g % 17 = 0 THEN NULL ELSE g / 7.0 END::float8 AS f8,
       md5(g::text)::uuid AS u,
       'order ' || g || ' ' || md5(g::text) AS ref,
       CASE WHEN g % 9 = 0 THEN NULL
            ELSE md5((g * 3)::text) || repeat('x', g % 50) END AS txt,
       'note ' || g AS note
FROM generate_series(1, 20000) g;
CREATE TABLE c (LIKE src) USING incetl_cow;
SELECT incetl.set_table_options('c', record_key => 'id');
INSERT INTO c SELECT * FROM src ORDER BY id;
CREATE INDEX c_id ON c (id);
CREATE TABLE h (LIKE src);
INSERT INTO h SELECT * FROM src;
CREATE INDEX h_id ON h (id);
ANALYZE c, h;

-- the encodings the columns got
SELECT attnum, column_name, encoding FROM incetl.column_stats('c') ORDER BY attnum;

-- the column blocks a statement decodes in this backend
CREATE FUNCTION pg_temp.blocks(q text) RETURNS bigint
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

-- lookups of keys lo, lo + step, ..., hi, one statement each (each its
-- own index fetch, as a client's lookups are)
CREATE FUNCTION pg_temp.lookups(lo int, hi int, step int)
RETURNS TABLE (id int, row_text text)
LANGUAGE plpgsql AS $$
DECLARE
  k int;
  t text;
BEGIN
  FOR k IN SELECT generate_series(lo, hi, step) LOOP
    SELECT c::text INTO t FROM c WHERE c.id = k;
    id := k;
    row_text := t;
    RETURN NEXT;
  END LOOP;
END $$;

-- 1. the first lookup in a block decodes each column's block; the next
-- ones in that block read them through their value blocks, but for the
-- varlena columns', made from the third read of a block (they cost a
-- pass over the block's lengths); the one after reads them all through
-- their value blocks; one far in the block decodes the blocks stored in
-- zstd frames whose frame of the row was not decompressed yet (what reads
-- it keeps it for the next)
EXPLAIN (COSTS OFF) SELECT * FROM c WHERE id = 5000;
SELECT pg_temp.blocks('SELECT * FROM c WHERE id = 5000') AS first_lookup;
SELECT pg_temp.blocks('SELECT * FROM c WHERE id = 5001') AS second_lookup;
SELECT pg_temp.blocks('SELECT * FROM c WHERE id = 5010') AS third_lookup;
SELECT pg_temp.blocks('SELECT * FROM c WHERE id = 5011') AS fourth_lookup;
SELECT pg_temp.blocks('SELECT * FROM c WHERE id = 8000') AS far_in_block;
SELECT (SELECT c::text FROM c WHERE id = k) = (SELECT h::text FROM h WHERE id = k) AS same
FROM unnest(ARRAY[5000, 5001, 8000]) k;
-- without the read cache, no value blocks: every column decoded each
-- time; turned on again, the backend's cache starts empty, and takes the
-- value blocks made above from the server's cache (cow_shared_cache.c),
-- where the backend put them, and the values' bytes from there too: of a
-- framed block, through the frames' sizes its value block records (the
-- backend has not read the block's frame index), of a block compressed
-- whole, the decompressed block the server's cache keeps when it is small.
-- No block is decoded, by this lookup or the next ones.
SET incetl.cow_read_cache_size = 0;
SELECT pg_temp.blocks('SELECT * FROM c WHERE id = 5002') AS no_cache;
SELECT pg_temp.blocks('SELECT * FROM c WHERE id = 5003') AS no_cache;
RESET incetl.cow_read_cache_size;
SELECT pg_temp.blocks('SELECT * FROM c WHERE id = 5004') AS cache_again;
SELECT pg_temp.blocks('SELECT * FROM c WHERE id = 5005') AS then_value_blocks;
SELECT pg_temp.blocks('SELECT * FROM c WHERE id = 5006') AS then_varlena_made;
SELECT pg_temp.blocks('SELECT * FROM c WHERE id = 5007') AS then_all;
-- the values read that way are heap's: the backend's cache emptied again
-- (a lookup with it off), then rows read first through the server's
SET incetl.cow_read_cache_size = 0;
SELECT c::text IS NOT NULL AS read FROM c WHERE id = 1;
RESET incetl.cow_read_cache_size;
SELECT count(*) AS lookups,
       count(*) FILTER (WHERE (SELECT c::text FROM c WHERE id = k) IS DISTINCT FROM
                              (SELECT h::text FROM h WHERE id = k)) AS different,
       sum(pg_temp.blocks(format('SELECT * FROM c WHERE id = %s', k + 1))) AS decoded
FROM unnest(ARRAY[5100, 5300, 5500, 6100, 7000, 7900, 8100]) k;

-- 2. every row, looked up one statement at a time twice over (the first
-- pass makes the value blocks, the second reads through them), the same
-- as heap's
SELECT count(*) AS lookups, count(*) FILTER (WHERE l.row_text IS DISTINCT FROM h::text) AS different
FROM pg_temp.lookups(1, 20000, 1) l JOIN h USING (id);
SELECT count(*) AS lookups, count(*) FILTER (WHERE l.row_text IS DISTINCT FROM h::text) AS different
FROM pg_temp.lookups(1, 20000, 1) l JOIN h USING (id);
-- a read cache too small for a block's frames and value blocks together:
-- entries dropped while lookups read through the block's own
SET incetl.cow_read_cache_size = '64kB';
SELECT count(*) AS lookups, count(*) FILTER (WHERE l.row_text IS DISTINCT FROM h::text) AS different
FROM pg_temp.lookups(1, 20000, 3) l JOIN h USING (id);
SET incetl.cow_read_cache_size = '8kB';
SELECT count(*) AS lookups, count(*) FILTER (WHERE l.row_text IS DISTINCT FROM h::text) AS different
FROM pg_temp.lookups(2, 20000, 3) l JOIN h USING (id);
RESET incetl.cow_read_cache_size;
-- the extremes, NULLs and a few rows as text
SELECT * FROM pg_temp.lookups(1000, 1003, 1);
SELECT * FROM pg_temp.lookups(19998, 20000, 1);

-- 3. several rows of one block in one statement: the first through the
-- value block, the next ones decoded from the block as before (the block
-- opened, one value, then windows of rows)
SELECT pg_temp.blocks('SELECT i4 FROM c WHERE id = 9500') AS one_row;
SELECT pg_temp.blocks('SELECT i4 FROM c WHERE id IN (9501, 9502)') AS two_rows;
SELECT pg_temp.blocks('SELECT i4 FROM c WHERE id IN (9503, 9504, 9505)') AS three_rows;
SELECT (SELECT array_agg(c::text ORDER BY id) FROM c WHERE id BETWEEN 9000 AND 9100) =
       (SELECT array_agg(h::text ORDER BY id) FROM h WHERE id BETWEEN 9000 AND 9100) AS same_range;
SELECT (SELECT array_agg(c::text ORDER BY id) FROM c WHERE id IN (3, 4100, 9, 8200, 4101, 15, 8201)) =
       (SELECT array_agg(h::text ORDER BY id) FROM h WHERE id IN (3, 4100, 9, 8200, 4101, 15, 8201)) AS same_in_list;

-- 4. a new version of some rows: its blocks get value blocks of their
-- own, the old version's are never read for them
UPDATE c SET i4 = -i4, amount = amount + 1, status = 'changed', d = d + 1
WHERE id % 50 = 7;
UPDATE h SET i4 = -i4, amount = amount + 1, status = 'changed', d = d + 1
WHERE id % 50 = 7;
SELECT count(*) AS lookups, count(*) FILTER (WHERE l.row_text IS DISTINCT FROM h::text) AS different
FROM pg_temp.lookups(7, 20000, 25) l JOIN h USING (id);
SELECT count(*) AS lookups, count(*) FILTER (WHERE l.row_text IS DISTINCT FROM h::text) AS different
FROM pg_temp.lookups(7, 20000, 25) l JOIN h USING (id);

-- 5. a column's type changed: the rewrite's blocks are read as the new type
ALTER TABLE c ALTER COLUMN i2 TYPE int8;
ALTER TABLE h ALTER COLUMN i2 TYPE int8;
SELECT count(*) AS lookups, count(*) FILTER (WHERE l.row_text IS DISTINCT FROM h::text) AS different
FROM pg_temp.lookups(1, 20000, 7) l JOIN h USING (id);
SELECT count(*) AS lookups, count(*) FILTER (WHERE l.row_text IS DISTINCT FROM h::text) AS different
FROM pg_temp.lookups(1, 20000, 7) l JOIN h USING (id);

-- 6. a bitmap scan reads through value blocks too
SET enable_indexscan = off;
SET enable_bitmapscan = on;
EXPLAIN (COSTS OFF) SELECT * FROM c WHERE id = 12345;
SELECT pg_temp.blocks('SELECT * FROM c WHERE id = 12345') AS bitmap_first;
SELECT pg_temp.blocks('SELECT * FROM c WHERE id = 12346') AS bitmap_next;
SELECT (SELECT c::text FROM c WHERE id = k) = (SELECT h::text FROM h WHERE id = k) AS same
FROM unnest(ARRAY[12345, 12346, 17, 19999]) k;

-- 7. value blocks this backend keeps give a role no row the executor
-- would not: a role without SELECT is refused, one under a row-level
-- security policy sees only its rows, through the same warm blocks
RESET enable_indexscan;
SET enable_bitmapscan = off;
SELECT count(*) FROM c WHERE id IN (5001, 5002, 5003);
CREATE ROLE regress_cow_vb_low;
GRANT USAGE ON SCHEMA cow_value_blocks TO regress_cow_vb_low;
SET ROLE regress_cow_vb_low;
SELECT id, status FROM c WHERE id = 5002;
RESET ROLE;
ALTER TABLE c ENABLE ROW LEVEL SECURITY;
CREATE POLICY even_rows ON c FOR SELECT TO regress_cow_vb_low USING (id % 2 = 0);
GRANT SELECT ON c TO regress_cow_vb_low;
SET ROLE regress_cow_vb_low;
EXPLAIN (COSTS OFF) SELECT * FROM c WHERE id = 5002;
SELECT c::text FROM c WHERE id IN (5001, 5002, 5003) ORDER BY id;
RESET ROLE;
SELECT h::text FROM h WHERE id = 5002;

DROP SCHEMA cow_value_blocks CASCADE;
DROP ROLE regress_cow_vb_low;

-- 3. a small block stored as it is (random dictionary codes, which zstd
-- does not shrink, under 2 kB a block), read through its value block by a
-- backend whose cache does not hold the block: the value's bytes are read
-- from its pages alone (cow_reader.c, CowGroupValueBytes); the same as
-- heap's
SET incetl.cow_read_cache_size = DEFAULT;
SELECT setseed(0.5);
CREATE TABLE s (id int, code text) USING incetl_cow;
SELECT incetl.set_table_options('s', record_key => 'id');
INSERT INTO s
SELECT g, (ARRAY['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'])[1 + floor(random() * 8)::int]
FROM generate_series(1, 8192) g ORDER BY g;
CREATE TABLE sh AS SELECT * FROM s;
CREATE INDEX s_id ON s (id);
SELECT column_name, encoding, zstd_chunks FROM incetl.column_stats('s')
WHERE attnum = 2;
-- value blocks made (a lookup in each block), the backend's cache emptied
SELECT string_agg(code, ',' ORDER BY id) FROM s WHERE id IN (1, 5000);
SET incetl.cow_read_cache_size = 0;
SELECT code IS NOT NULL AS read FROM s WHERE id = 1;
RESET incetl.cow_read_cache_size;
-- each read a statement of its own (a statement reads a block once
-- through its value block, then the old way)
CREATE FUNCTION pg_temp.code_differs(k int) RETURNS bool
LANGUAGE plpgsql AS $$
DECLARE
  a text;
  b text;
BEGIN
  EXECUTE 'SELECT code FROM s WHERE id = $1' INTO a USING k;
  SELECT code INTO b FROM sh WHERE id = k;
  RETURN a IS DISTINCT FROM b;
END $$;
-- the first three reads of each of the two blocks read heap's values,
-- the fourth decodes neither block; the fifth decodes the first block
-- (the backend keeps it then), the sixth reads it from there
SELECT count(*) FILTER (WHERE pg_temp.code_differs(k)) AS different
FROM unnest(ARRAY[3, 5003, 4, 5004, 5, 5005]) k;
SELECT pg_temp.blocks('SELECT * FROM s WHERE id = 6') AS fourth,
       pg_temp.blocks('SELECT * FROM s WHERE id = 7') AS fifth,
       pg_temp.blocks('SELECT * FROM s WHERE id = 8') AS sixth;
-- every value, read later (the blocks then decoded and kept), is heap's
SELECT count(*) AS lookups,
       count(*) FILTER (WHERE pg_temp.code_differs(k)) AS different
FROM generate_series(2, 8192, 97) k;
