-- incetl_cow's read cache (cow_read_cache.c): point lookups and key ranges
-- keep, per backend, the frames and small blocks they decompressed (and
-- that an uncompressed block's CRC was verified), so that reading near them
-- again reads neither the pages nor zstd again.  Every read must return
-- exactly what heap returns, from the cache or not: block and frame edges,
-- NULLs, long values, after upserts and deletes (new versions), in the own
-- transaction's uncommitted rows, after a rollback, as of an earlier
-- commit, after TRUNCATE (a new relfilenode), with a cache too small to
-- hold a block (entries evicted while read) and with the cache off.
CREATE SCHEMA cow_read_cache;
SET search_path = cow_read_cache, public;

SHOW incetl.cow_read_cache_size;

CREATE TABLE src (
    k bigint,           -- record key
    i4 int,             -- int, NULL every 7th row
    n2 numeric(12,2),   -- numeric
    st text,            -- dictionary
    note text,          -- varlena, framed blocks; NULL every 11th row,
                        -- every 50th 1-12 kB long, NULL throughout 4000..4096
    ts timestamptz      -- int, delta
);
INSERT INTO src
SELECT g,
       CASE WHEN g % 7 <> 0 THEN hashint4(g::int) % 100000 END,
       (g % 100000) / 100.0,
       (ARRAY['new', 'paid', 'shipped'])[g % 3 + 1],
       CASE WHEN g % 11 = 0 OR g BETWEEN 4000 AND 4096 THEN NULL
            WHEN g % 50 = 0 THEN 'long ' || g || ' ' || repeat(md5(g::text), 30 + (g % 350))
            ELSE 'order ' || g || ' ' || md5(g::text) END,
       timestamptz '2026-01-01' + g * interval '1 minute'
FROM generate_series(1, 9000) g;

-- h: heap; c: incetl_cow keyed by k (one file group of three blocks, no
-- index: key ranges); ci: the same with a btree on k (point lookups)
CREATE TABLE h AS SELECT * FROM src;
CREATE UNIQUE INDEX h_k ON h (k);
CREATE TABLE c (LIKE src) USING incetl_cow;
SELECT incetl.set_table_options('c', record_key => 'k', file_group_rows => 100000);
INSERT INTO c SELECT * FROM src;
CREATE TABLE ci (LIKE src) USING incetl_cow;
SELECT incetl.set_table_options('ci', record_key => 'k', file_group_rows => 100000);
INSERT INTO ci SELECT * FROM src;
CREATE INDEX ci_k ON ci (k);
ANALYZE c, ci, h;

-- the note column is large enough to be framed
SELECT column_name, encoding, zstd_chunks > 0 AS compressed,
       encoded_bytes > 3 * 8192 AS large
FROM incetl.column_stats('c') WHERE column_name IN ('note', 'st') ORDER BY attnum;

-- the plans: a key range without an index, a lookup through the btree
EXPLAIN (COSTS OFF) SELECT * FROM c WHERE k BETWEEN 4090 AND 4100;
SET enable_seqscan = off;
SET enable_bitmapscan = off;
EXPLAIN (COSTS OFF) SELECT * FROM ci WHERE k = 4096;
RESET enable_seqscan;
RESET enable_bitmapscan;

-- the cache is used: a key range read again reads fewer buffers (not the
-- framed block's index nor its frames) than with the cache off, which
-- reads the same every time (the version's header and block directories
-- come from another cache, filled by the first run).  Planning's buffers
-- count too: the list of versions is read from the catalog once for the
-- planner's estimate and the scan, in whichever of them comes first to a
-- new view of the catalog (each INSERT INTO b ends a transaction)
CREATE FUNCTION buffers(q text) RETURNS int LANGUAGE plpgsql AS $$
DECLARE
    line text;
    total int := 0;
BEGIN
    FOR line IN EXECUTE 'EXPLAIN (ANALYZE, BUFFERS, COSTS OFF, TIMING OFF, SUMMARY ON) ' || q LOOP
        IF line ~ 'Buffers: shared' THEN
            total := total + coalesce((substring(line from 'hit=(\d+)'))::int, 0) +
                     coalesce((substring(line from 'read=(\d+)'))::int, 0);
        END IF;
    END LOOP;
    RETURN total;
END $$;
CREATE TEMP TABLE b (run text, n int);
INSERT INTO b SELECT 'first', buffers('SELECT * FROM c WHERE k BETWEEN 6500 AND 6600');
INSERT INTO b SELECT 'again', buffers('SELECT * FROM c WHERE k BETWEEN 6500 AND 6600');
SET incetl.cow_read_cache_size = 0;
INSERT INTO b SELECT 'off', buffers('SELECT * FROM c WHERE k BETWEEN 6500 AND 6600');
INSERT INTO b SELECT 'off again', buffers('SELECT * FROM c WHERE k BETWEEN 6500 AND 6600');
SELECT (SELECT n FROM b WHERE run = 'again') < (SELECT n FROM b WHERE run = 'off') AS cached_reads_fewer,
       (SELECT n FROM b WHERE run = 'off') = (SELECT n FROM b WHERE run = 'off again') AS off_reads_the_same;
RESET incetl.cow_read_cache_size;

-- ranges(tbl): key ranges (block edges, frame-sized spans, around long
-- values, each one twice: the second from the cache) compared with heap;
-- lookups(tbl [, keys]): the same for point lookups through the btree (of
-- the keys given, or of the same edges and spans)
CREATE FUNCTION ranges(tbl text, OUT checked int, OUT differing int)
LANGUAGE plpgsql AS $$
DECLARE
    lo bigint;
    len int;
    rep int;
    got text;
    want text;
BEGIN
    checked := 0;
    differing := 0;
    FOR lo, len IN
        SELECT l, n FROM unnest(ARRAY[1, 4000, 4090, 4095, 4096, 4097, 8180, 8191, 8192, 8990, 2450, 6020]::bigint[]) l,
                         unnest(ARRAY[0, 1, 10, 100, 300]) n
        UNION SELECT g - 3, 6 FROM generate_series(50, 9000, 450) g
    LOOP
        FOR rep IN 1 .. 2 LOOP
            EXECUTE format('SELECT string_agg(x::text, %L ORDER BY k) FROM %I x WHERE k BETWEEN %s AND %s',
                           E'\n', tbl, lo, lo + len) INTO got;
            SELECT string_agg(x::text, E'\n' ORDER BY k) INTO want FROM h x WHERE k BETWEEN lo AND lo + len;
            checked := checked + 1;
            IF got IS DISTINCT FROM want THEN
                differing := differing + 1;
                RAISE NOTICE 'range % .. % differs', lo, lo + len;
            END IF;
        END LOOP;
    END LOOP;
END $$;
CREATE FUNCTION lookups(tbl text, keys bigint[] DEFAULT NULL,
                        OUT checked int, OUT differing int)
LANGUAGE plpgsql AS $$
DECLARE
    key bigint;
    rep int;
    got text;
    want text;
BEGIN
    checked := 0;
    differing := 0;
    FOR key IN
        SELECT unnest(keys) WHERE keys IS NOT NULL
        UNION ALL
        (SELECT unnest(ARRAY[1, 2, 3999, 4000, 4095, 4096, 4097, 8191, 8192, 8193, 9000, 9001]::bigint[])
         WHERE keys IS NULL
         UNION SELECT g + d FROM generate_series(50, 9000, 150) g, generate_series(-1, 1) d
         WHERE keys IS NULL
         UNION SELECT g FROM generate_series(7, 9000, 91) g WHERE keys IS NULL)
    LOOP
        FOR rep IN 1 .. 2 LOOP
            EXECUTE format('SELECT x::text FROM %I x WHERE k = %s', tbl, key) INTO got;
            SELECT x::text INTO want FROM h x WHERE k = key;
            checked := checked + 1;
            IF got IS DISTINCT FROM want THEN
                differing := differing + 1;
                RAISE NOTICE 'key % differs', key;
            END IF;
        END LOOP;
    END LOOP;
END $$;

SELECT * FROM ranges('c');
SET enable_seqscan = off;
SET enable_bitmapscan = off;
SELECT * FROM lookups('ci');
RESET enable_seqscan;
RESET enable_bitmapscan;

-- with the cache off
SET incetl.cow_read_cache_size = 0;
SELECT * FROM ranges('c');
SET enable_seqscan = off;
SET enable_bitmapscan = off;
SELECT * FROM lookups('ci');
RESET enable_seqscan;
RESET enable_bitmapscan;

-- length marks (CowLazyRaw in cow/format.h): a VARLENA value read alone
-- is found from the sums of its block's lengths before every 64th value,
-- made by the block's first lookup and kept with the block; lookups on
-- both sides of every mark of each block (rows 64 j + 1 are positions
-- 64 j), each twice (the second with the marks from the cache), with the
-- cache off (the marks of one statement) and on; and a range of 301 rows
-- through the btree
CREATE FUNCTION mark_lookups(tbl text, OUT checked int, OUT differing int)
LANGUAGE plpgsql AS $$
DECLARE
    got text;
    want text;
BEGIN
    SELECT l.checked, l.differing INTO checked, differing
    FROM lookups(tbl, ARRAY(SELECT 64 * j + d FROM generate_series(0, 141) j, generate_series(0, 2) d
                            WHERE 64 * j + d BETWEEN 1 AND 9000 ORDER BY 1)) l;
    EXECUTE format('SELECT string_agg(x::text, %L ORDER BY k) FROM %I x WHERE k BETWEEN 4700 AND 5000',
                   E'\n', tbl) INTO got;
    SELECT string_agg(x::text, E'\n' ORDER BY k) INTO want FROM h x WHERE k BETWEEN 4700 AND 5000;
    checked := checked + 1;
    IF got IS DISTINCT FROM want THEN
        differing := differing + 1;
        RAISE NOTICE 'range 4700 .. 5000 differs';
    END IF;
END $$;
SET enable_seqscan = off;
SET enable_bitmapscan = off;
SELECT * FROM mark_lookups('ci');
RESET incetl.cow_read_cache_size;
SELECT * FROM mark_lookups('ci');
SELECT * FROM mark_lookups('ci');
RESET enable_seqscan;
RESET enable_bitmapscan;
SET incetl.cow_read_cache_size = 0;

-- a cache smaller than one block: entries leave while a statement reads
SET incetl.cow_read_cache_size = 8;
SELECT * FROM ranges('c');
SET incetl.cow_read_cache_size = 64;
SET enable_seqscan = off;
SET enable_bitmapscan = off;
SELECT * FROM lookups('ci');
RESET enable_seqscan;
RESET enable_bitmapscan;
RESET incetl.cow_read_cache_size;

-- upserts and deletes write new versions (new row numbers): the cached
-- blocks of the old ones are not read for them
SELECT * FROM ranges('c');
INSERT INTO c (k, i4, note, st) SELECT g, -g, 'upserted ' || g, 'paid' FROM generate_series(4090, 4100) g;
INSERT INTO ci (k, i4, note, st) SELECT g, -g, 'upserted ' || g, 'paid' FROM generate_series(4090, 4100) g;
DELETE FROM h WHERE k BETWEEN 4090 AND 4100;
INSERT INTO h (k, i4, note, st) SELECT g, -g, 'upserted ' || g, 'paid' FROM generate_series(4090, 4100) g;
DELETE FROM c WHERE k IN (6020, 6021, 8192);
DELETE FROM ci WHERE k IN (6020, 6021, 8192);
DELETE FROM h WHERE k IN (6020, 6021, 8192);
SELECT * FROM ranges('c');
SET enable_seqscan = off;
SET enable_bitmapscan = off;
SELECT * FROM lookups('ci');
RESET enable_seqscan;
RESET enable_bitmapscan;

-- the own transaction's uncommitted rows, then the rollback
BEGIN;
UPDATE c SET note = 'in transaction ' || k WHERE k BETWEEN 8180 AND 8200;
UPDATE ci SET note = 'in transaction ' || k WHERE k BETWEEN 8180 AND 8200;
UPDATE h SET note = 'in transaction ' || k WHERE k BETWEEN 8180 AND 8200;
SELECT * FROM ranges('c');
SET LOCAL enable_seqscan = off;
SET LOCAL enable_bitmapscan = off;
SELECT * FROM lookups('ci');
ROLLBACK;
SELECT k, note FROM c WHERE k BETWEEN 8180 AND 8182 ORDER BY k;
SELECT k, note FROM ci WHERE k = 8181;

-- as of the first commit (the versions before the upserts and deletes),
-- after the current ones were read and cached
SELECT count(*) AS rows_as_of_1,
       count(*) FILTER (WHERE x::text IS DISTINCT FROM (SELECT s::text FROM src s WHERE s.k = x.k)) AS differing
FROM incetl.as_of(NULL::c, 1) x WHERE k BETWEEN 4000 AND 4200 OR k BETWEEN 6000 AND 6030;

-- TRUNCATE gives the table a new relfilenode; other rows at the same row
-- numbers and the same version identity must not come from the cache
TRUNCATE c;
INSERT INTO c SELECT k, i4, n2, st, 'after truncate ' || note, ts FROM src;
TRUNCATE h;
INSERT INTO h SELECT k, i4, n2, st, 'after truncate ' || note, ts FROM src;
SELECT * FROM ranges('c');

SELECT * FROM incetl.verify('c');
SELECT * FROM incetl.verify('ci');
DROP SCHEMA cow_read_cache CASCADE;
