--
-- The executor does not index the rows an INSERT buffers (issue #12, the
-- suite's gin.sql): the merge indexes them where it stores them, and an
-- entry at a statement's pending TID would find nothing -- a GIN index
-- never marks one dead, so a Bitmap Index Scan right after an INSERT
-- counted twice heap's TIDs.  Only INSERT ... ON CONFLICT, whose arbiter
-- checks find the statement's buffered rows through those entries, keeps
-- them (cow_hooks.c, CowSkipExecutorIndexing).  Compared with heap.
--
\set SHOW_CONTEXT never
CREATE FUNCTION gin_index_rows(query_sql text) RETURNS json
LANGUAGE plpgsql AS $$
DECLARE js json;
BEGIN
    SET LOCAL enable_seqscan = off;
    SET LOCAL enable_bitmapscan = on;
    SET LOCAL incetl.cow_aggregate_pushdown = off;
    EXECUTE 'EXPLAIN (ANALYZE, FORMAT json) ' || query_sql INTO js;
    RETURN js->0->'Plan'->'Plans'->0->'Actual Rows';
END $$;
CREATE TABLE ge_heap (i int4[], j int4[]) USING heap;
CREATE TABLE ge_cow (i int4[], j int4[]) USING incetl_cow;
CREATE INDEX ON ge_heap USING gin (i, j);
CREATE INDEX ON ge_cow USING gin (i, j);
INSERT INTO ge_heap VALUES
  (null, null), ('{}', null), ('{1}', null), ('{1,2}', null), (null, '{}'),
  (null, '{10}'), ('{1,2}', '{10}'), ('{2}', '{10}'), ('{1,3}', '{}'),
  ('{1,1}', '{10}');
INSERT INTO ge_cow SELECT * FROM ge_heap;
SELECT q AS query,
       gin_index_rows('SELECT * FROM ge_heap WHERE ' || q) AS heap,
       gin_index_rows('SELECT * FROM ge_cow WHERE ' || q) AS cow
FROM (VALUES ($$ i @> '{}' $$), ($$ j @> '{}' $$), ($$ i @> '{1}' $$),
             ($$ i @> '{1}' and j @> '{10}' $$)) v(q);
-- a second INSERT appends to the file group, which is rewritten: its
-- carried rows are indexed at their new TIDs, and the superseded version's
-- entries stay until VACUUM (5 + 6), as heap's do for the old versions of
-- updated rows; none at pending TIDs (that would be 12)
INSERT INTO ge_heap VALUES ('{1,4}', '{10}');
INSERT INTO ge_cow VALUES ('{1,4}', '{10}');
SELECT gin_index_rows($$SELECT * FROM ge_heap WHERE i @> '{1}'$$) AS heap,
       gin_index_rows($$SELECT * FROM ge_cow WHERE i @> '{1}'$$) AS cow;
VACUUM ge_heap, ge_cow;
SELECT gin_index_rows($$SELECT * FROM ge_heap WHERE i @> '{1}'$$) AS heap,
       gin_index_rows($$SELECT * FROM ge_cow WHERE i @> '{1}'$$) AS cow;
-- an UPDATE's new rows are not indexed by the executor either: after
-- VACUUM, heap's and ours count the same
UPDATE ge_heap SET j = '{11}' WHERE i @> '{2}';
UPDATE ge_cow SET j = '{11}' WHERE i @> '{2}';
VACUUM ge_heap, ge_cow;
SELECT gin_index_rows($$SELECT * FROM ge_heap WHERE i @> '{1}'$$) AS heap,
       gin_index_rows($$SELECT * FROM ge_cow WHERE i @> '{1}'$$) AS cow;
-- the same rows come back
SET enable_seqscan = off;
SELECT string_agg(i::text, ' ' ORDER BY i) FROM ge_cow WHERE i @> '{1}';
SELECT string_agg(i::text, ' ' ORDER BY i) FROM ge_heap WHERE i @> '{1}';
RESET enable_seqscan;
-- unique and exclusion constraints are still checked (at the merge), also
-- within one statement and against stored rows
CREATE TABLE ge_u (id int PRIMARY KEY, r int4range,
                   EXCLUDE USING gist (r WITH &&)) USING incetl_cow;
INSERT INTO ge_u VALUES (1, '[1,5)');
INSERT INTO ge_u VALUES (1, '[10,15)');
INSERT INTO ge_u VALUES (2, '[3,4)');
INSERT INTO ge_u VALUES (2, '[20,25)'), (2, '[30,35)');
INSERT INTO ge_u VALUES (3, '[20,25)'), (4, '[21,22)');
UPDATE ge_u SET id = 1 WHERE false;
INSERT INTO ge_u VALUES (2, '[20,25)');
UPDATE ge_u SET id = 1 WHERE id = 2;
UPDATE ge_u SET r = '[2,3)' WHERE id = 2;
SELECT * FROM ge_u ORDER BY id;
-- ON CONFLICT still finds a key proposed twice in one statement, through
-- the entries it keeps making
INSERT INTO ge_u VALUES (5, '[50,51)'), (5, '[60,61)') ON CONFLICT (id) DO NOTHING;
INSERT INTO ge_u VALUES (6, '[70,71)'), (6, '[80,81)')
    ON CONFLICT (id) DO UPDATE SET r = excluded.r;
SELECT * FROM ge_u ORDER BY id;
DROP TABLE ge_heap, ge_cow, ge_u;
DROP FUNCTION gin_index_rows(text);
