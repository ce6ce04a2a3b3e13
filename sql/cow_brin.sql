-- BRIN indexes on incetl_cow tables: minmax, bloom and minmax-multi.
-- A BRIN range is a range of TID blocks, COW_ROWS_PER_BLOCK (291) row
-- numbers each, and the table's size covers every row number given out
-- (cow_relation_size), so ranges of rows written after the build -- which
-- copy-on-write rewrites put far past the table's pages -- are scanned as
-- unsummarized ranges until summarized.  Every query runs as a bitmap scan
-- of the BRIN index on the incetl_cow table and as a sequential scan of a
-- heap copy without indexes (the oracle) and must return the same rows,
-- after upserts, UPDATE, DELETE, a writing transaction, VACUUM,
-- incetl.clean, brin_summarize_new_values, brin_summarize_range,
-- brin_desummarize_range and TRUNCATE, with pages_per_range 1, 2, 4 and
-- the default.
CREATE SCHEMA cow_brin;
SET search_path = cow_brin, public;
SET jit = off;

CREATE FUNCTION mk(lo int, hi int, s int)
RETURNS TABLE (id int, v int, w int, tag text)
LANGUAGE sql IMMUTABLE AS $$
    SELECT i, i + s, (i * 7 + s) % 1000, 't' || (i + s) % 97
    FROM generate_series(lo, hi) i
$$;

-- autovacuum would summarize ranges behind the test's back
CREATE TABLE c (id int, v int, w int, tag text) USING incetl_cow
    WITH (autovacuum_enabled = off);
SELECT incetl.set_table_options('c', record_key => 'id', file_group_rows => 500,
                                retain_commits => 0);
CREATE TABLE h (LIKE c);
INSERT INTO c SELECT * FROM mk(1, 6000, 0);
INSERT INTO h SELECT * FROM mk(1, 6000, 0);

-- v follows the row order (minmax), w does not (minmax-multi keeps several
-- intervals and points), tag is for equality (bloom)
CREATE INDEX c_v ON c USING brin (v) WITH (pages_per_range = 2);
CREATE INDEX c_id ON c USING brin (id int4_minmax_multi_ops) WITH (pages_per_range = 1);
CREATE INDEX c_tag ON c USING brin (tag text_bloom_ops) WITH (pages_per_range = 4);
CREATE INDEX c_w ON c USING brin (w int4_minmax_multi_ops(values_per_range = 16));

CREATE TABLE queries (name text, idx text, q text);
INSERT INTO queries VALUES
    ('minmax_eq', 'c_v', 'SELECT id, v, w, tag FROM %I WHERE v = 1234'),
    ('minmax_range', 'c_v', 'SELECT id, v, w, tag FROM %I WHERE v BETWEEN 2990 AND 3020'),
    ('minmax_new', 'c_v', 'SELECT id, v, w, tag FROM %I WHERE v > 9000'),
    ('minmax_neg', 'c_v', 'SELECT id, v, w, tag FROM %I WHERE v < 0'),
    ('minmax_old', 'c_v', 'SELECT id, v, w, tag FROM %I WHERE v = 25'),
    ('multi_in', 'c_id', 'SELECT id, v, w, tag FROM %I WHERE id IN (5, 2999, 5999, 7001, 8500)'),
    ('multi_range', 'c_id', 'SELECT id, v, w, tag FROM %I WHERE id BETWEEN 100 AND 140'),
    ('multi_w', 'c_w', 'SELECT id, v, w, tag FROM %I WHERE w = 777'),
    ('bloom_eq', 'c_tag', 'SELECT id, v, w, tag FROM %I WHERE tag = ''t42'''),
    ('bloom_rare', 'c_tag', 'SELECT id, v, w, tag FROM %I WHERE tag = ''rare''');

-- per query: is it a bitmap scan of its BRIN index, the rows both ways and
-- the rows only one of them returned
CREATE FUNCTION check_all() RETURNS TABLE (query text, brin boolean,
    cow_rows bigint, heap_rows bigint, only_cow bigint, only_heap bigint)
LANGUAGE plpgsql AS $$
DECLARE
    qr record;
    line text;
    cq text;
    hq text;
BEGIN
    PERFORM set_config('enable_seqscan', 'off', true);
    FOR qr IN SELECT * FROM queries ORDER BY queries.name LOOP
        query := qr.name;
        cq := format(qr.q, 'c');
        hq := format(qr.q, 'h');
        brin := false;
        FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) ' || cq LOOP
            brin := brin OR line LIKE '%Bitmap Index Scan on ' || qr.idx;
        END LOOP;
        EXECUTE format('SELECT count(*) FROM (%s OFFSET 0) s', cq) INTO cow_rows;
        EXECUTE format('SELECT count(*) FROM (%s OFFSET 0) s', hq) INTO heap_rows;
        EXECUTE format('SELECT count(*) FROM ((%s) EXCEPT ALL (%s)) s', cq, hq)
            INTO only_cow;
        EXECUTE format('SELECT count(*) FROM ((%s) EXCEPT ALL (%s)) s', hq, cq)
            INTO only_heap;
        RETURN NEXT;
    END LOOP;
END $$;

-- the TID blocks a query's bitmap heap scan read, all lossy
CREATE FUNCTION brin_blocks(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    j jsonb;
BEGIN
    PERFORM set_config('enable_seqscan', 'off', true);
    EXECUTE 'EXPLAIN (ANALYZE, TIMING OFF, SUMMARY OFF, FORMAT JSON) ' || q INTO j;
    RETURN (SELECT format('exact=%s lossy=%s', x->'Exact Heap Blocks', x->'Lossy Heap Blocks')
            FROM jsonb_path_query(j,
                'strict $.**?(@."Node Type" == "Bitmap Heap Scan")') x);
END $$;

SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT * FROM c WHERE v = 1234;
EXPLAIN (COSTS OFF) SELECT * FROM c WHERE tag = 't42';
RESET enable_seqscan;
SELECT * FROM check_all();

-- the summaries exclude ranges: v = 1234 is in TID block 4, one range of
-- two blocks is read; tag = 'rare' is in no bloom filter
SELECT brin_blocks('SELECT * FROM c WHERE v = 1234');
SELECT brin_blocks('SELECT * FROM c WHERE tag = ''rare''');
-- the table's size covers its TID blocks (6000 rows: 21), its pages are fewer
SELECT pg_relation_size('c') / 8192 < 21 AS fewer_pages;

-- upserts: new keys, and keys whose new values go to new row numbers past
-- every summarized range (and past the table's pages)
INSERT INTO c SELECT * FROM mk(1, 50, 10000);
INSERT INTO c SELECT * FROM mk(6001, 9000, 0);
INSERT INTO h SELECT * FROM mk(6001, 9000, 0);
UPDATE h SET v = v + 10000, w = (id * 7 + 10000) % 1000,
             tag = 't' || (id + 10000) % 97 WHERE id <= 50;
SELECT * FROM check_all();

-- summarize the new ranges (the partial last one too): new rows in that
-- range widen its summary (brininsert), or v = 99999 would not be found
SELECT brin_summarize_new_values('c_v') > 0 AS summarized,
       brin_summarize_new_values('c_id') > 0 AS summarized_multi,
       brin_summarize_new_values('c_tag') > 0 AS summarized_bloom;
INSERT INTO c VALUES (9001, 99999, 5, 'rare');
INSERT INTO h VALUES (9001, 99999, 5, 'rare');
INSERT INTO queries VALUES
    ('minmax_widened', 'c_v', 'SELECT id, v, w, tag FROM %I WHERE v = 99999');
SELECT * FROM check_all();

-- UPDATE and DELETE: the rows rewritten move to new row numbers; the
-- ranges they leave keep their summaries, whose lossy blocks hold no live
-- row (minmax_old: v = 25 was rewritten to 10025)
UPDATE c SET v = -v WHERE id BETWEEN 3000 AND 3010;
UPDATE h SET v = -v WHERE id BETWEEN 3000 AND 3010;
DELETE FROM c WHERE id % 7 = 0;
DELETE FROM h WHERE id % 7 = 0;
SELECT * FROM check_all();

-- a writing transaction reads its own rows through the index
BEGIN;
INSERT INTO c VALUES (9500, 123456, 1, 't1');
SET LOCAL enable_seqscan = off;
SELECT id, v FROM c WHERE v = 123456;
ROLLBACK;
SELECT * FROM check_all();

-- VACUUM summarizes the complete new ranges and reclaims the superseded
-- versions; clean does the same without the summaries
VACUUM c;
SELECT * FROM check_all();
INSERT INTO c SELECT * FROM mk(9100, 9800, 3);
INSERT INTO h SELECT * FROM mk(9100, 9800, 3);
SELECT incetl.clean('c') >= 0 AS cleaned;
SELECT * FROM check_all();

-- desummarize a range and summarize it back
SELECT brin_desummarize_range('c_v', 0);
SELECT brin_desummarize_range('c_id', 3);
SELECT * FROM check_all();
SELECT brin_summarize_range('c_v', 0) AS range_0,
       brin_summarize_range('c_id', 3) AS range_3,
       brin_summarize_range('c_v', 0) AS range_0_again;
SELECT * FROM check_all();
SELECT brin_summarize_new_values('c_v') >= 0 AS summarized;
SELECT * FROM check_all();

-- TRUNCATE empties the indexes; the rows written after are found
TRUNCATE c;
TRUNCATE h;
INSERT INTO c SELECT * FROM mk(1, 3000, 5);
INSERT INTO h SELECT * FROM mk(1, 3000, 5);
SELECT * FROM check_all();
SELECT brin_summarize_new_values('c_v') > 0 AS summarized;
SELECT * FROM check_all();

-- an index built on rows already rewritten (row numbers past the pages),
-- with the default pages_per_range (128 TID blocks)
INSERT INTO c SELECT * FROM mk(1, 3000, 20000);
INSERT INTO c SELECT * FROM mk(1, 3000, 40000);
DELETE FROM h;
INSERT INTO h SELECT * FROM mk(1, 3000, 40000);
DROP INDEX c_v;
CREATE INDEX c_v ON c USING brin (v);
SELECT * FROM check_all();

-- VACUUM FULL rewrites the table and rebuilds the indexes
VACUUM FULL c;
SELECT * FROM check_all();

-- a table without a BRIN index reports its pages, one with one its TID
-- blocks (ANALYZE stores them in relpages: 30000 rows, 104 TID blocks)
CREATE TABLE p (id int) USING incetl_cow;
INSERT INTO p SELECT generate_series(1, 30000);
ANALYZE p;
SELECT relpages = pg_relation_size('p') / 8192 AS pages FROM pg_class WHERE relname = 'p';
CREATE INDEX p_b ON p USING brin (id);
ANALYZE p;
SELECT relpages, pg_relation_size('p') / 8192 < relpages AS more_than_pages
FROM pg_class WHERE relname = 'p';

DROP SCHEMA cow_brin CASCADE;
