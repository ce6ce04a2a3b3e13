-- incetl_cow single values and key ranges out of front-coded VARLENA
-- blocks and delta-coded int blocks.  A value of a VARLENA block is rebuilt
-- from the last value before it that shares no prefix (its chain): the
-- lengths of the values before the chain are only summed, when both length
-- blocks are frame-of-reference ones (CowVarlenaChainStart); a value of a
-- delta block is its first value plus the packed deltas before it, summed
-- (CowIntValue).  Every lookup and every key range must return exactly
-- the rows of a heap copy: values at chain starts, in the middle of long
-- chains, right after a restart, at block edges, NULLs in between, and
-- bodies whose lengths are delta-coded (the walk of every length).
CREATE SCHEMA cow_lookup_chain;
SET search_path = cow_lookup_chain, public;

CREATE TABLE src (
    k bigint,           -- record key
    d bigint,           -- increasing, irregular steps: delta-coded
    fc text,            -- long shared prefixes, restarting every 37th row
    np text,            -- no shared prefixes: prefix lengths all 0
    ln text,            -- lengths growing by one: delta-coded lengths
    sp text             -- front-coded, NULL every 5th row
);
INSERT INTO src
SELECT g,
       g * 1000 + (hashint4(g::int) & 255),
       CASE WHEN g % 37 = 0 THEN md5(g::text)
            ELSE 'customer ' || lpad((g / 37)::text, 6, '0') || ' order ' || g END,
       md5(g::text) || md5((g * 3)::text),
       repeat('x', g::int % 4096 / 8) || g,
       CASE WHEN g % 5 <> 0 THEN 'shared prefix for every value ' || (g / 10) || '/' || g END
FROM generate_series(1, 9000) g;

CREATE TABLE h AS SELECT * FROM src;
CREATE UNIQUE INDEX h_k ON h (k);
CREATE TABLE c (LIKE src) USING incetl_cow;
SELECT incetl.set_table_options('c', record_key => 'k', file_group_rows => 100000);
INSERT INTO c SELECT * FROM src;
CREATE INDEX c_k ON c (k);
ANALYZE c;

SELECT column_name, encoding FROM incetl.column_stats('c')
WHERE attnum > 0 ORDER BY attnum;

-- one statement per lookup: every 11th key, the block edges, each chain's
-- start and the rows around it
CREATE FUNCTION lookups(OUT checked int, OUT differing int, OUT not_index int)
LANGUAGE plpgsql AS $$
DECLARE
    key bigint;
    crow text;
    plan text;
BEGIN
    checked := 0;
    differing := 0;
    not_index := 0;
    FOR key IN SELECT g FROM generate_series(1, 9000, 11) g
               UNION SELECT g + d FROM generate_series(37, 9000, 37) g,
                                       generate_series(-1, 1) d WHERE g + d <= 9000
               UNION SELECT unnest(ARRAY[1, 2, 4095, 4096, 4097, 8192, 8193, 9000]) LOOP
        EXECUTE 'EXPLAIN (COSTS OFF) SELECT x::text FROM c x WHERE k = ' || key INTO plan;
        IF plan NOT LIKE 'Index Scan using c_k on c x%' THEN
            not_index := not_index + 1;
        END IF;
        EXECUTE 'SELECT x::text FROM c x WHERE k = ' || key INTO crow;
        checked := checked + 1;
        IF crow IS DISTINCT FROM (SELECT x::text FROM h x WHERE x.k = key) THEN
            differing := differing + 1;
        END IF;
    END LOOP;
END $$;
SET enable_seqscan = off;
SET enable_bitmapscan = off;
SELECT * FROM lookups();
RESET enable_seqscan;
RESET enable_bitmapscan;

-- key ranges (no index: the scan's key range decodes only their rows),
-- starting in the middle of a chain, at a chain start, across block edges
SET enable_indexscan = off;
SET enable_bitmapscan = off;
CREATE FUNCTION ranges(OUT checked int, OUT differing bigint)
LANGUAGE plpgsql AS $$
DECLARE
    lo bigint;
    n bigint;
BEGIN
    checked := 0;
    differing := 0;
    FOR lo IN SELECT unnest(ARRAY[1, 20, 36, 37, 38, 1000, 4000, 4090, 4096,
                                   5555, 8150, 8192, 8950]) LOOP
        EXECUTE format('SELECT count(*) FROM ((SELECT * FROM c WHERE k BETWEEN %1$s AND %2$s
                          EXCEPT ALL SELECT * FROM h WHERE k BETWEEN %1$s AND %2$s)
                         UNION ALL (SELECT * FROM h WHERE k BETWEEN %1$s AND %2$s
                          EXCEPT ALL SELECT * FROM c WHERE k BETWEEN %1$s AND %2$s)) d',
                       lo, lo + 60) INTO n;
        checked := checked + 1;
        differing := differing + n;
    END LOOP;
END $$;
SELECT * FROM ranges();
RESET enable_indexscan;
RESET enable_bitmapscan;

-- a lookup decodes no chunk whole and at most one block per column (and
-- the commit ids' and key's); a key range of 61 rows in one block too
CREATE TEMP TABLE before AS SELECT * FROM incetl.cow_decode_counts();
SET enable_seqscan = off;
SET enable_bitmapscan = off;
SELECT k, d, length(fc), length(np), length(ln), sp FROM c WHERE k = 5000;
RESET enable_seqscan;
RESET enable_bitmapscan;
SELECT a.column_chunks_decoded - b.column_chunks_decoded AS chunks_decoded,
       a.column_blocks_decoded - b.column_blocks_decoded <= 7 AS at_most_a_block_each
FROM incetl.cow_decode_counts() a, before b;
DROP TABLE before;
CREATE TEMP TABLE before AS SELECT * FROM incetl.cow_decode_counts();
SET enable_indexscan = off;
SET enable_bitmapscan = off;
SELECT count(*), sum(length(fc)), sum(length(ln)), count(sp) FROM c WHERE k BETWEEN 5000 AND 5060;
RESET enable_indexscan;
RESET enable_bitmapscan;
SELECT a.column_chunks_decoded - b.column_chunks_decoded AS chunks_decoded,
       a.column_blocks_decoded - b.column_blocks_decoded <= 7 AS at_most_a_block_each
FROM incetl.cow_decode_counts() a, before b;
SELECT count(*), sum(length(fc)), sum(length(ln)), count(sp) FROM h WHERE k BETWEEN 5000 AND 5060;

-- a statement sees the options of its own view: a second table keyed on
-- another column, key ranges on each in one transaction and after
CREATE TABLE c2 (a int, b int) USING incetl_cow;
SELECT incetl.set_table_options('c2', record_key => 'b', file_group_rows => 100000);
INSERT INTO c2 SELECT 9001 - g, g FROM generate_series(1, 9000) g;
SELECT count(*), min(a), max(a) FROM c2 WHERE b BETWEEN 100 AND 120;
SELECT count(*), min(b), max(b) FROM c2 WHERE a BETWEEN 100 AND 120;
SELECT count(*), min(k), max(k) FROM c WHERE k BETWEEN 100 AND 120;
BEGIN;
INSERT INTO c2 VALUES (-1, 110);
SELECT count(*), min(a), max(a) FROM c2 WHERE b BETWEEN 100 AND 120;
ROLLBACK;
SELECT count(*), min(a), max(a) FROM c2 WHERE b BETWEEN 100 AND 120;

RESET search_path;
DROP SCHEMA cow_lookup_chain CASCADE;
