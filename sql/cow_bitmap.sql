-- Bitmap heap scans of incetl_cow tables, and the index access methods
-- they open up: btree (BitmapOr, IN lists, BitmapAnd), GIN (int[], jsonb,
-- tsvector), GiST (ranges, points), SP-GiST (text prefixes).  Every query
-- runs on an incetl_cow table and on a heap copy without indexes (its
-- sequential scan is the oracle) and must return the same rows, both ways,
-- after upserts, DELETE, UPDATE, inside a writing transaction, under a
-- cursor's older snapshot, after VACUUM, with many small file groups, and
-- with lossy bitmaps.  BRIN: sql/cow_brin.sql.
CREATE SCHEMA cow_bitmap;
SET search_path = cow_bitmap, public;

CREATE FUNCTION mk(lo int, hi int, s int)
RETURNS TABLE (id int, v int, tags int[], doc jsonb, body tsvector,
               r int4range, p point, name text)
LANGUAGE sql IMMUTABLE AS $$
    SELECT i, (i + s) % 50,
           ARRAY[(i + s) % 7, (i + s) % 11, 100 + (i + s) % 13],
           jsonb_build_object('k', (i + s) % 5, 'g', i % 3),
           to_tsvector('simple', 'w' || (i + s) % 17 || ' x' || i % 19),
           int4range((i + s) % 100, (i + s) % 100 + 5),
           point((i + s) % 50, i % 37),
           'n' || (i + s) % 23 || '_' || i
    FROM generate_series(lo, hi) i
$$;

CREATE TABLE c (id int, v int, tags int[], doc jsonb, body tsvector,
                r int4range, p point, name text) USING incetl_cow;
SELECT incetl.set_table_options('c', record_key => 'id', file_group_rows => 200,
                                retain_commits => 0);
CREATE TABLE h (LIKE c);
INSERT INTO c SELECT * FROM mk(1, 3000, 0);
INSERT INTO h SELECT * FROM mk(1, 3000, 0);
SELECT file_groups, rows FROM incetl.table_stats('c');

CREATE INDEX c_v ON c (v);
CREATE INDEX c_id ON c (id);
CREATE INDEX c_tags ON c USING gin (tags);
CREATE INDEX c_doc ON c USING gin (doc jsonb_path_ops) WITH (fastupdate = off);
CREATE INDEX c_body ON c USING gin (body);
CREATE INDEX c_r ON c USING gist (r);
CREATE INDEX c_p ON c USING gist (p);
CREATE INDEX c_name ON c USING spgist (name);

-- the queries; %1$I is the table
CREATE TABLE queries (name text, q text);
INSERT INTO queries VALUES
    ('btree or', 'SELECT t::text FROM %1$I t WHERE v = 3 OR v = 7'),
    ('btree in', 'SELECT t::text FROM %1$I t WHERE id IN (5, 17, 250, 1999, 2999, 3050)'),
    ('btree and', 'SELECT t::text FROM %1$I t WHERE v = 3 AND id BETWEEN 100 AND 400'),
    ('gin &&', 'SELECT t::text FROM %1$I t WHERE tags && ARRAY[3, 105]'),
    ('gin @>', 'SELECT t::text FROM %1$I t WHERE tags @> ARRAY[2, 5]'),
    ('gin jsonb', 'SELECT t::text FROM %1$I t WHERE doc @> ''{"k": 2, "g": 1}'''),
    ('gin tsvector', 'SELECT t::text FROM %1$I t WHERE body @@ to_tsquery(''simple'', ''w3 & x4'')'),
    ('gist range', 'SELECT t::text FROM %1$I t WHERE r && int4range(10, 12)'),
    ('gist point', 'SELECT t::text FROM %1$I t WHERE p <@ box(point(0, 0), point(5, 5))'),
    ('spgist prefix', 'SELECT t::text FROM %1$I t WHERE name ^@ ''n7_''');

SET enable_seqscan = off;
SET enable_indexscan = off;
SET jit = off;	-- the disabled paths' costs would compile every query
SET incetl.cow_aggregate_pushdown = off;	-- count(*) and sum() scan too

-- check(): per query, whether the incetl_cow side planned a Bitmap Heap
-- Scan, its rows and count(*) against the heap's, and the rows only one
-- side returned (EXCEPT ALL both ways)
CREATE FUNCTION check_all() RETURNS TABLE (query text, bitmap boolean,
    cow_rows bigint, heap_rows bigint, cow_count bigint, only_cow bigint,
    only_heap bigint)
LANGUAGE plpgsql AS $$
DECLARE
    qr record;
    line text;
    cq text;
    hq text;
BEGIN
    FOR qr IN SELECT * FROM queries ORDER BY queries.name LOOP
        query := qr.name;
        cq := format(qr.q, 'c');
        hq := format(qr.q, 'h');
        bitmap := false;
        FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) ' || cq LOOP
            bitmap := bitmap OR line LIKE '%Bitmap Heap Scan on c %';
        END LOOP;
        EXECUTE format('SELECT count(t) FROM (%s) s(t)', cq) INTO cow_rows;
        EXECUTE format('SELECT count(t) FROM (%s) s(t)', hq) INTO heap_rows;
        EXECUTE format('SELECT count(*) FROM (%s) s', cq) INTO cow_count;
        EXECUTE format('SELECT count(*) FROM ((%s) EXCEPT ALL (%s)) s', cq, hq)
            INTO only_cow;
        EXECUTE format('SELECT count(*) FROM ((%s) EXCEPT ALL (%s)) s', hq, cq)
            INTO only_heap;
        RETURN NEXT;
    END LOOP;
END $$;

-- the TIDs a query's bitmap index scans returned (live and dead entries)
CREATE FUNCTION bitmap_tids(q text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    j jsonb;
BEGIN
    EXECUTE 'EXPLAIN (ANALYZE, TIMING OFF, SUMMARY OFF, FORMAT JSON) ' || q INTO j;
    RETURN (SELECT sum(x::bigint) FROM jsonb_path_query(j,
        'strict $.**?(@."Node Type" == "Bitmap Index Scan")."Actual Rows"') x);
END $$;

-- one plan per access method
EXPLAIN (COSTS OFF) SELECT * FROM c WHERE v = 3 OR v = 7;
EXPLAIN (COSTS OFF) SELECT * FROM c WHERE v = 3 AND id BETWEEN 100 AND 400;
EXPLAIN (COSTS OFF) SELECT * FROM c WHERE tags && ARRAY[3, 105];
EXPLAIN (COSTS OFF) SELECT * FROM c WHERE r && int4range(10, 12);
EXPLAIN (COSTS OFF) SELECT * FROM c WHERE name ^@ 'n7_';

SELECT * FROM check_all();

-- upserts: a third of the rows replaced (every file group rewritten); the
-- indexes hold both versions, the replaced ones are never returned
INSERT INTO c SELECT * FROM mk(1, 3000, 1) WHERE id % 3 = 0;
DELETE FROM h WHERE id % 3 = 0;
INSERT INTO h SELECT * FROM mk(1, 3000, 1) WHERE id % 3 = 0;
SELECT * FROM check_all();
-- id 3 had v = 3 and now has v = 4
SELECT id, v FROM c WHERE v = 3 AND id < 10 ORDER BY id;
SELECT id, v FROM c WHERE v = 4 AND id < 10 ORDER BY id;

-- DELETE and UPDATE, themselves planned as bitmap scans
EXPLAIN (COSTS OFF) DELETE FROM c WHERE name ^@ 'n5_';
DELETE FROM c WHERE name ^@ 'n5_';
DELETE FROM h WHERE name ^@ 'n5_';
EXPLAIN (COSTS OFF) UPDATE c SET v = v + 1, tags = tags || 999 WHERE tags @> ARRAY[6];
UPDATE c SET v = v + 1, tags = tags || 999 WHERE tags @> ARRAY[6];
UPDATE h SET v = v + 1, tags = tags || 999 WHERE tags @> ARRAY[6];
SELECT * FROM check_all();

-- inside a transaction that wrote: its own rows (new keys, upserted rows,
-- rows its rewrites carried to new TIDs) are seen, once each; after the
-- rollback, none of them
BEGIN;
INSERT INTO c SELECT * FROM mk(2990, 3100, 2);
DELETE FROM h WHERE id BETWEEN 2990 AND 3100;
INSERT INTO h SELECT * FROM mk(2990, 3100, 2);
UPDATE c SET v = 3 WHERE id % 101 = 0;
UPDATE h SET v = 3 WHERE id % 101 = 0;
SELECT * FROM check_all();
ROLLBACK;
DELETE FROM h WHERE id BETWEEN 2990 AND 3100;
INSERT INTO h SELECT * FROM c WHERE id BETWEEN 2990 AND 3100;
SELECT count(*) FROM h;
SELECT * FROM check_all();

-- a cursor keeps its snapshot: its bitmap is built after the writes below
-- (at the first FETCH), from index entries of the new versions too, and
-- it still returns the rows it saw
BEGIN;
DECLARE cc CURSOR FOR
    SELECT count(*), sum(hashtext(t::text)) FROM c t WHERE tags && ARRAY[3, 105];
DECLARE hc CURSOR FOR
    SELECT count(*), sum(hashtext(t::text)) FROM h t WHERE tags && ARRAY[3, 105];
EXPLAIN (COSTS OFF)
    SELECT count(*), sum(hashtext(t::text)) FROM c t WHERE tags && ARRAY[3, 105];
INSERT INTO c SELECT * FROM mk(1, 3000, 3) WHERE id % 4 = 0;
DELETE FROM c WHERE id % 5 = 0;
FETCH cc;
FETCH hc;
COMMIT;
DELETE FROM h WHERE id % 4 = 0;
INSERT INTO h SELECT * FROM mk(1, 3000, 3) WHERE id % 4 = 0;
DELETE FROM h WHERE id % 5 = 0;
SELECT * FROM check_all();

-- VACUUM (retain_commits 0) removes the superseded versions, and the
-- next one their index entries (other snapshots may see a version until
-- the VACUUM that removed it commits): afterwards each bitmap index scan
-- returns only live TIDs
SELECT bitmap_tids('SELECT * FROM c WHERE v = 3') >
       (SELECT count(*) FROM h WHERE v = 3) AS btree_dead_entries,
       bitmap_tids('SELECT * FROM c WHERE tags && ARRAY[3, 105]') >
       (SELECT count(*) FROM h WHERE tags && ARRAY[3, 105]) AS gin_dead_entries,
       bitmap_tids('SELECT * FROM c WHERE doc @> ''{"k": 2}''') >
       (SELECT count(*) FROM h WHERE doc @> '{"k": 2}') AS gin_nofast_dead_entries;
VACUUM c;
VACUUM c;
SELECT bitmap_tids('SELECT * FROM c WHERE v = 3') =
       (SELECT count(*) FROM h WHERE v = 3) AS btree_live_only,
       bitmap_tids('SELECT * FROM c WHERE tags && ARRAY[3, 105]') =
       (SELECT count(*) FROM h WHERE tags && ARRAY[3, 105]) AS gin_live_only,
       bitmap_tids('SELECT * FROM c WHERE doc @> ''{"k": 2}''') =
       (SELECT count(*) FROM h WHERE doc @> '{"k": 2}') AS gin_nofast_live_only,
       bitmap_tids('SELECT * FROM c WHERE r && int4range(10, 12)') =
       (SELECT count(*) FROM h WHERE r && int4range(10, 12)) AS gist_live_only,
       bitmap_tids('SELECT * FROM c WHERE name ^@ ''n7_''') =
       (SELECT count(*) FROM h WHERE name ^@ 'n7_') AS spgist_live_only;
SELECT * FROM check_all();
SELECT count(*) AS problems FROM incetl.verify('c');

-- a lossy bitmap (work_mem too small for one entry per TID block): the
-- executor rechecks every row of a lossy block, and the answer is exact
CREATE TABLE l (id int, v int) USING incetl_cow;
CREATE TABLE lh (id int, v int);
INSERT INTO l SELECT i, i % 1000 FROM generate_series(1, 400000) i;
INSERT INTO lh SELECT * FROM l;
CREATE INDEX ON l (v);
SET work_mem = '64kB';
CREATE FUNCTION lossy_blocks(q text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    j jsonb;
BEGIN
    EXECUTE 'EXPLAIN (ANALYZE, TIMING OFF, SUMMARY OFF, FORMAT JSON) ' || q INTO j;
    RETURN (SELECT sum(x::bigint) FROM jsonb_path_query(j,
        'strict $.**?(@."Node Type" == "Bitmap Heap Scan")."Lossy Heap Blocks"') x);
END $$;
SELECT lossy_blocks('SELECT * FROM l WHERE v IN (1, 250, 500, 750)') > 0 AS lossy,
       lossy_blocks('SELECT * FROM l WHERE v < 900') > 0 AS lossy_all;
CREATE TEMP TABLE d0 AS SELECT * FROM incetl.cow_decode_counts();
SELECT count(*), sum(id) FROM l WHERE v IN (1, 250, 500, 750);
SELECT count(*), sum(id) FROM lh WHERE v IN (1, 250, 500, 750);
-- l is 4 file groups of 25 column blocks: the 1,600 rows (rechecked: id
-- and v read) cost each block of the two columns once, no whole chunk
SELECT d.column_chunks_decoded - d0.column_chunks_decoded AS chunks,
       d.column_blocks_decoded - d0.column_blocks_decoded <= 2 * 4 * 25 + 2
           AS each_block_once
FROM incetl.cow_decode_counts() d, d0;
DROP TABLE d0;
SELECT count(*), sum(id) FROM l WHERE v < 900;
SELECT count(*), sum(id) FROM lh WHERE v < 900;
-- after an UPDATE of a range (the rewritten groups get new row numbers),
-- still exact
UPDATE l SET v = v + 1 WHERE id <= 1000;
UPDATE lh SET v = v + 1 WHERE id <= 1000;
SELECT lossy_blocks('SELECT * FROM l WHERE v IN (1, 250, 500, 750)') > 0 AS lossy;
SELECT count(*), sum(id) FROM l WHERE v IN (1, 250, 500, 750);
SELECT count(*), sum(id) FROM lh WHERE v IN (1, 250, 500, 750);
RESET work_mem;

RESET enable_seqscan;
RESET enable_indexscan;
RESET jit;
RESET incetl.cow_aggregate_pushdown;
DROP SCHEMA cow_bitmap CASCADE;
