--
-- An incetl_cow table has a TOAST table where heap's would (issue #12:
-- the suite's stats_ext, tablespace, create_misc and reloptions read it),
-- and it stays empty: values are detoasted into the file groups, which
-- compress them (cow_tableam.c, cow_relation_needs_toast_table).
-- Compared with heap.
--
\set SHOW_CONTEXT never
CREATE TABLE tt_heap (id int, v text) USING heap;
CREATE TABLE tt_cow (id int, v text) USING incetl_cow;
CREATE TABLE tt_fixed (id int, n bigint) USING incetl_cow;
SELECT relname, reltoastrelid <> 0 AS has_toast FROM pg_class
WHERE relname IN ('tt_heap', 'tt_cow', 'tt_fixed') ORDER BY relname;
-- the TOAST table is heap's kind of relation
SELECT a.amname FROM pg_class c JOIN pg_class t ON t.oid = c.reltoastrelid
JOIN pg_am a ON a.oid = t.relam WHERE c.relname = 'tt_cow';
-- large values: heap stores them out of line, incetl_cow in its file group
INSERT INTO tt_heap
SELECT g, (SELECT string_agg(md5(g::text || ':' || x::text), '')
           FROM generate_series(1, 200) x)
FROM generate_series(1, 20) g;
INSERT INTO tt_cow SELECT * FROM tt_heap;
SELECT c.relname, pg_relation_size(c.reltoastrelid) > 0 AS toast_used
FROM pg_class c WHERE relname IN ('tt_heap', 'tt_cow') ORDER BY 1;
SELECT count(*), sum(length(v)) FROM tt_cow;
SELECT (SELECT string_agg(md5(v), ',' ORDER BY id) FROM tt_cow) =
       (SELECT string_agg(md5(v), ',' ORDER BY id) FROM tt_heap) AS same;
-- toast.* options are the TOAST table's, as on heap
ALTER TABLE tt_cow SET (toast.autovacuum_enabled = false);
SELECT t.reloptions FROM pg_class c JOIN pg_class t ON t.oid = c.reltoastrelid
WHERE c.relname = 'tt_cow';
-- extended statistics on it are refused as on heap
DO $$
DECLARE toast regclass;
BEGIN
    SELECT reltoastrelid::regclass INTO toast FROM pg_class WHERE relname = 'tt_cow';
    EXECUTE format('CREATE STATISTICS tt_s ON chunk_id, chunk_seq FROM %s', toast);
EXCEPTION WHEN wrong_object_type THEN
    RAISE NOTICE 'stats on toast table not created';
END $$;
-- TRUNCATE, VACUUM FULL, CLUSTER-like rewrites and ALTER TABLE keep one,
-- and the rows
TRUNCATE tt_cow;
INSERT INTO tt_cow SELECT * FROM tt_heap;
VACUUM FULL tt_cow;
ALTER TABLE tt_cow ALTER COLUMN id TYPE bigint;
SELECT reltoastrelid <> 0 AS has_toast FROM pg_class WHERE relname = 'tt_cow';
SELECT count(*), sum(length(v)) FROM tt_cow;
SELECT pg_relation_size(reltoastrelid) AS toast_bytes FROM pg_class WHERE relname = 'tt_cow';
-- REINDEX TABLE reindexes the TOAST table's index too
SELECT t.relfilenode AS toast_index_before FROM pg_class c
JOIN pg_index i ON i.indrelid = c.reltoastrelid
JOIN pg_class t ON t.oid = i.indexrelid WHERE c.relname = 'tt_cow' \gset
REINDEX TABLE tt_cow;
SELECT t.relfilenode <> :toast_index_before AS toast_index_rebuilt FROM pg_class c
JOIN pg_index i ON i.indrelid = c.reltoastrelid
JOIN pg_class t ON t.oid = i.indexrelid WHERE c.relname = 'tt_cow';
-- a heap table with TOASTed values moves in with its values whole
ALTER TABLE tt_heap SET ACCESS METHOD incetl_cow;
SELECT count(*), sum(length(v)) FROM tt_heap;
SELECT pg_relation_size(reltoastrelid) AS toast_bytes FROM pg_class WHERE relname = 'tt_heap';
DROP TABLE tt_heap, tt_cow, tt_fixed;
