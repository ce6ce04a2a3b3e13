-- incetl_cow point lookups: an index fetch decodes, of each column, only
-- the value of the row it reads out of the one block that holds it
-- (CowGroupValue, CowDecodeValue), for the first row it reads from a
-- block, then the block whole.  Every lookup must return exactly the row
-- a sequential scan returns, for every encoding (bit-packed frame of
-- reference and delta integers, plain integers, floats and fixed-length
-- values by reference, numerics, dictionary and front-coded or plain
-- varlena text), NULLs in every position, all-NULL blocks and chunks,
-- columns added after the version was written and dropped ones, the first
-- and last rows of blocks and file groups, rows superseded by upserts,
-- and the transaction's own writes before and after a rollback.
CREATE SCHEMA cow_lookup;
SET search_path = cow_lookup, public;
-- the blocks and pages counted here are those read without the read cache
-- (cow_read_cache.c, sql/cow_read_cache.sql), which would leave out the
-- ones an earlier statement of the session decompressed
SET incetl.cow_read_cache_size = 0;

CREATE TABLE src (
    k bigint,           -- record key: int, delta
    i4 int,             -- int, frame of reference, NULL every 7th row
    i8 bigint,          -- full range: plain (by value)
    f8 float8,          -- plain
    u uuid,             -- plain, fixed length by reference
    nm name,            -- plain, fixed length by reference, char aligned
    n2 numeric(12,2),   -- numeric, NULL every 11th row
    nx numeric,         -- mixed scales: varlena
    st text,            -- few distinct values: dictionary, NULL every 13th
    md text,            -- distinct values: varlena, NULL every 5th row
    fc text,            -- long shared prefixes: front-coded varlena
    ts timestamptz,     -- int, delta
    sparse text,        -- NULL but in rows 4090..4096: all-NULL blocks
    nul text            -- NULL everywhere: a null chunk
);
INSERT INTO src
SELECT g,
       CASE WHEN g % 7 <> 0 THEN (hashint4(g::int) % 100000) END,
       (hashint4(g)::bigint << 32) | (hashint4(g + 1)::bigint & 4294967295),
       g * 0.25,
       md5(g::text)::uuid,
       'name ' || (g % 50),
       CASE WHEN g % 11 <> 0 THEN (g % 100000) / 100.0 END,
       CASE WHEN g % 3 = 0 THEN g / 8.0 ELSE g END,
       CASE WHEN g % 13 <> 0 THEN (ARRAY['new', 'paid', 'shipped', ''])[g % 4 + 1] END,
       CASE WHEN g % 5 <> 0 THEN md5(g::text) END,
       'a fairly long common prefix, then ' || lpad(g::text, 6, '0') || repeat('x', g % 9),
       timestamptz '2026-01-01' + g * interval '1 second' + (g % 10) * interval '1 ms',
       CASE WHEN g BETWEEN 4090 AND 4096 THEN 'near ' || g END,
       NULL
FROM generate_series(1, 10000) g;

-- h: heap; c: incetl_cow keyed by k, two file groups (6000 and 4000 rows:
-- blocks of 4096, 1904, 4000 rows), an index on k
CREATE TABLE h AS SELECT * FROM src;
CREATE UNIQUE INDEX h_k ON h (k);
CREATE TABLE c (LIKE src) USING incetl_cow;
SELECT incetl.set_table_options('c', record_key => 'k', file_group_rows => 6000);
INSERT INTO c SELECT * FROM src WHERE k <= 6000;
INSERT INTO c SELECT * FROM src WHERE k > 6000;
CREATE INDEX c_k ON c (k);
ANALYZE c;

SELECT fg.first_row_number, fg.row_count
FROM incetl.cow_file_group fg
WHERE fg.storage_id = incetl.cow_storage_id('c') AND fg.superseded_by IS NULL
ORDER BY 1;

-- every encoding is there (the name is the one most blocks of a chunk use)
SELECT coalesce(column_name, '(commit id)') AS column_name, encoding
FROM incetl.column_stats('c') ORDER BY attnum;

-- the rows a sequential scan of c returns
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

-- one statement per lookup, each reading its row's values one by one:
-- the first, second, last rows of every block and file group, and every
-- 17th row (NULLs of every column in every position among them)
CREATE FUNCTION keys() RETURNS SETOF bigint LANGUAGE sql AS $$
    SELECT DISTINCT k FROM unnest(ARRAY[1, 2, 4095, 4096, 4097, 4098, 5999, 6000,
                                         6001, 6002, 9999, 10000]::bigint[]) k
    UNION SELECT g FROM generate_series(3, 10000, 17) g
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

-- many rows in one statement through one index fetch: the first row of a
-- block is read alone, then windows of rows, then the block whole
SELECT count(*) AS rows_read,
       count(*) FILTER (WHERE (SELECT x::text FROM c x WHERE x.k = seq.k) IS DISTINCT FROM seq.r) AS differing
FROM seq;
SELECT count(*) AS rows_read,
       count(*) FILTER (WHERE x::text IS DISTINCT FROM (SELECT r FROM seq WHERE seq.k = x.k)) AS differing
FROM c x WHERE k BETWEEN 4000 AND 6100;

-- bitmap heap scans read by block the same way
RESET enable_bitmapscan;
SET enable_indexscan = off;
EXPLAIN (COSTS OFF) SELECT * FROM c x WHERE k = ANY (ARRAY[1, 4096, 4097, 6000, 6001, 10000]);
SELECT count(*) AS rows_read,
       count(*) FILTER (WHERE x::text IS DISTINCT FROM (SELECT r FROM seq WHERE seq.k = x.k)) AS differing
FROM c x WHERE k = ANY (ARRAY[1, 7, 4096, 4097, 6000, 6001, 9999, 10000]);
RESET enable_indexscan;
SET enable_bitmapscan = off;

-- decode counts: a lookup decompresses one block of each column stored in
-- it: 12 of 14 in the first file group's second block (nul is a null
-- chunk, counted as a chunk, and sparse's block is NULL throughout), 13 in
-- its first block (sparse holds values there), 12 in the second file
-- group (where sparse is a null chunk too); nine rows of one block cost
-- the same blocks (the second decodes them whole, from the blocks already
-- decompressed); rows of two blocks twice as many.  (The slot fills the
-- attributes up to the last one read: k .. md, 10 blocks.)
CREATE TEMP TABLE before AS SELECT * FROM incetl.cow_decode_counts();
CREATE FUNCTION decoded(OUT chunks bigint, OUT blocks bigint) LANGUAGE sql AS $$
    SELECT c.column_chunks_decoded - b.column_chunks_decoded,
           c.column_blocks_decoded - b.column_blocks_decoded
    FROM incetl.cow_decode_counts() c, before b
$$;
CREATE FUNCTION reset_counts() RETURNS void LANGUAGE sql AS $$
    DELETE FROM before;
    INSERT INTO before SELECT * FROM incetl.cow_decode_counts();
$$;
SELECT reset_counts();
SELECT * FROM c WHERE k = 5000;
SELECT * FROM decoded();
SELECT reset_counts();
SELECT * FROM c WHERE k = 4095;
SELECT * FROM decoded();
SELECT reset_counts();
SELECT * FROM c WHERE k = 8000;
SELECT * FROM decoded();
SELECT reset_counts();
-- two of the row's columns: their blocks only (an Index Scan decodes the
-- columns its plan reads, cow_index_tlist), not every column up to md
SELECT k, md FROM c WHERE k = 5000;
SELECT * FROM decoded();
SELECT reset_counts();
SELECT sum(length(c::text)) > 0 AS read FROM c
WHERE k = ANY (ARRAY[4200, 4300, 4400, 4500, 4600, 4700, 4800, 4900, 5000]);
SELECT * FROM decoded();
SELECT reset_counts();
SELECT sum(length(c::text)) > 0 AS read FROM c WHERE k = ANY (ARRAY[100, 5000]);
SELECT * FROM decoded();

-- rows in another order than the blocks' (an index on another column, one
-- file group of three blocks): a block read from again after another one
-- is decoded whole, so each block of each column is decompressed at most
-- twice: at most 2 x (3 blocks of 12 columns + sparse's one block with
-- values) = 74 (61 here), not once per row read (1286 rows)
CREATE TABLE c1 (LIKE src) USING incetl_cow;
SELECT incetl.set_table_options('c1', record_key => 'k', file_group_rows => 100000);
INSERT INTO c1 SELECT * FROM src;
CREATE INDEX c1_i4 ON c1 (i4);
ANALYZE c1;
EXPLAIN (COSTS OFF) SELECT x::text FROM c1 x WHERE i4 BETWEEN 0 AND 30000;
SELECT reset_counts();
SELECT count(*) AS rows_read,
       count(*) FILTER (WHERE x::text IS DISTINCT FROM (SELECT r FROM seq WHERE seq.k = x.k)) AS differing
FROM c1 x WHERE i4 BETWEEN 0 AND 30000;
SELECT * FROM decoded();
DROP TABLE c1;

-- a column added after the versions were written (with a default, then
-- without), a dropped column: lookups read them as a scan does
ALTER TABLE c ADD COLUMN added_def int DEFAULT 42;
ALTER TABLE c ADD COLUMN added_null text;
ALTER TABLE c DROP COLUMN i8;
ALTER TABLE h ADD COLUMN added_def int DEFAULT 42;
ALTER TABLE h ADD COLUMN added_null text;
ALTER TABLE h DROP COLUMN i8;
SELECT k, added_def, added_null, i4, nm FROM c WHERE k = 4097;
SET enable_indexscan = off;
DELETE FROM seq;
INSERT INTO seq SELECT k, c::text FROM c;
RESET enable_indexscan;
SELECT * FROM lookups();

-- upserts supersede rows (their old index entries stay until VACUUM; the
-- lookup finds the current row only), including a new value of the added
-- column in a version written after it
INSERT INTO c (k, i4, md, st, added_def, added_null)
SELECT g, -g, 'upserted ' || g, 'paid', g, 'new ' || g FROM generate_series(1, 10000, 999) g;
DELETE FROM h WHERE k IN (SELECT g FROM generate_series(1, 10000, 999) g);
INSERT INTO h (k, i4, md, st, added_def, added_null)
SELECT g, -g, 'upserted ' || g, 'paid', g, 'new ' || g FROM generate_series(1, 10000, 999) g;
SELECT k, i4, md, st, added_def, added_null, nm FROM c WHERE k IN (1, 1000, 9991) ORDER BY k;
SET enable_indexscan = off;
DELETE FROM seq;
INSERT INTO seq SELECT k, c::text FROM c;
RESET enable_indexscan;
SELECT count(*) AS seq_rows,
       count(*) FILTER (WHERE r IS DISTINCT FROM (SELECT x::text FROM h x WHERE x.k = seq.k)) AS differing_from_heap
FROM seq;
SELECT * FROM lookups();

-- the transaction's own writes, seen by its lookups, gone after a rollback
BEGIN;
INSERT INTO c (k, md) VALUES (4097, 'mine'), (20000, 'new key');
UPDATE c SET md = 'updated' WHERE k = 6001;
SELECT k, md, i4 FROM c WHERE k IN (4097, 6001, 20000) ORDER BY k;
SELECT x::text = (SELECT r FROM seq WHERE k = 4098) AS neighbour_unchanged FROM c x WHERE k = 4098;
ROLLBACK;
SELECT k, md, i4 FROM c WHERE k IN (4097, 6001, 20000) ORDER BY k;
SELECT * FROM lookups();

-- a rolled back upsert inside a subtransaction, and TRUNCATE rolled back
BEGIN;
SAVEPOINT s;
INSERT INTO c (k, md) VALUES (5000, 'in savepoint');
SELECT k, md FROM c WHERE k = 5000;
ROLLBACK TO s;
SELECT k, md FROM c WHERE k = 5000;
TRUNCATE c;
SELECT count(*) FROM c WHERE k = 5000;
ROLLBACK;
SELECT k, md FROM c WHERE k = 5000;
SELECT * FROM lookups();

-- An index fetch reads its group's header and block directories from
-- the backend's cache of them without copying them, the cache pinned
-- while the group is open (CowOpenGroupBorrowed).  A statement whose
-- other scans read more versions than the cache holds (64) turns the
-- cache over while fetches hold borrowed entries: the entries that leave
-- keep their memory until the fetch's group is closed.  many: 100 file
-- groups of 50 rows; each outer row of the nested loop is looked up in
-- another group, while a second index scan of the table, in the lateral
-- subquery, reads every row after it, through up to 100 groups.
CREATE TABLE many (k int, v text, n int) USING incetl_cow;
SELECT incetl.set_table_options('many', record_key => 'k', file_group_rows => 50);
INSERT INTO many SELECT g, 'value ' || g || ' ' || md5(g::text), g % 7
FROM generate_series(1, 5000) g ORDER BY g;
CREATE INDEX many_k ON many (k);
CREATE TABLE many_h AS SELECT * FROM many;
ANALYZE many;
SELECT file_groups FROM incetl.table_stats('many');
RESET enable_seqscan;
SET enable_hashjoin = off;
SET enable_mergejoin = off;
SET enable_material = off;
EXPLAIN (COSTS OFF)
SELECT count(*) AS rows,
       count(*) FILTER (WHERE i.v IS DISTINCT FROM o.v) AS differing,
       sum(later) AS later_rows
FROM many_h o
JOIN many i ON i.k = o.k
CROSS JOIN LATERAL (SELECT count(*) AS later FROM many s
                    WHERE s.n = o.k % 7 AND s.k > o.k) l
WHERE o.k % 37 = 0;
SELECT count(*) AS rows,
       count(*) FILTER (WHERE i.v IS DISTINCT FROM o.v) AS differing,
       sum(later) AS later_rows,
       sum((SELECT count(*) FROM many_h s WHERE s.n = o.k % 7 AND s.k > o.k)) AS later_rows_heap
FROM many_h o
JOIN many i ON i.k = o.k
CROSS JOIN LATERAL (SELECT count(*) AS later FROM many s
                    WHERE s.n = o.k % 7 AND s.k > o.k) l
WHERE o.k % 37 = 0;
RESET enable_hashjoin;
RESET enable_mergejoin;
RESET enable_material;

RESET enable_seqscan;
RESET enable_bitmapscan;
SELECT * FROM incetl.verify('c');
DROP SCHEMA cow_lookup CASCADE;
