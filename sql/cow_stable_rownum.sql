-- Carried rows keep their row numbers (file group format 5): a rewrite
-- gives each row it carries over unchanged the row number (TID) it had,
-- and new or changed rows fresh ones, so carried rows need no new index
-- entry.  Lookups by TID (index scans, bitmap scans, TID scans, TABLESAMPLE,
-- UPDATE/DELETE, cursors, CREATE INDEX CONCURRENTLY's validation, VACUUM's
-- index cleanup) follow the row-number maps.  Groups of format 4 (written
-- with the test-only incetl.test_cow_group_version) read as before and are
-- rewritten as format 5, carrying their numbers.
SET client_min_messages = warning;	-- another test may have made them
CREATE EXTENSION IF NOT EXISTS pageinspect;
CREATE EXTENSION IF NOT EXISTS amcheck;
RESET client_min_messages;
CREATE SCHEMA cow_stable_rownum;
SET search_path = cow_stable_rownum, public;

-- the TIDs a btree holds, posting lists included, from its leaf pages
CREATE FUNCTION idx_entries(idx regclass) RETURNS bigint LANGUAGE sql AS $$
    SELECT coalesce(sum(coalesce(cardinality(i.tids), 1)), 0)
    FROM generate_series(1, (pg_relation_size(idx) / 8192)::int - 1) AS p,
         LATERAL bt_page_stats(idx::text, p) AS s,
         LATERAL bt_page_items(idx::text, p) AS i
    WHERE s.type = 'l' AND NOT (s.btpo_next <> 0 AND i.itemoffset = 1)
$$;

-- one row per query: the rows of the table, by every access path
CREATE FUNCTION paths(tbl regclass, lo int, hi int)
RETURNS TABLE (path text, n bigint, sum_id bigint, vs text) LANGUAGE plpgsql AS $$
DECLARE
    q text := format('SELECT count(*), sum(id), md5(string_agg(v, '','' ORDER BY id)) FROM %s WHERE id BETWEEN %s AND %s', tbl, lo, hi);
BEGIN
    SET LOCAL enable_seqscan = on; SET LOCAL enable_indexscan = off;
    SET LOCAL enable_bitmapscan = off; SET LOCAL enable_indexonlyscan = off;
    path := 'seq'; EXECUTE q INTO n, sum_id, vs; RETURN NEXT;
    SET LOCAL enable_seqscan = off; SET LOCAL enable_indexscan = on;
    path := 'index'; EXECUTE q INTO n, sum_id, vs; RETURN NEXT;
    SET LOCAL enable_indexscan = off; SET LOCAL enable_bitmapscan = on;
    path := 'bitmap'; EXECUTE q INTO n, sum_id, vs; RETURN NEXT;
END $$;

CREATE TABLE t (id int, v text) USING incetl_cow;
SELECT incetl.set_table_options('t', record_key => 'id', file_group_rows => 1000);
INSERT INTO t SELECT g, 'a' || g FROM generate_series(1, 2500) g;
CREATE INDEX t_id ON t (id);
CREATE TEMP TABLE before AS SELECT id, ctid AS old FROM t;
SELECT idx_entries('t_id') AS entries_after_load;

-- an upsert rewrites every group: two updates, one new key
INSERT INTO t VALUES (5, 'changed'), (1500, 'changed'), (3000, 'new');
SELECT count(*) AS groups_rewritten FROM incetl.cow_file_group
WHERE storage_id = incetl.cow_storage_id('t') AND superseded_by IS NOT NULL;
-- unchanged rows keep their TID, updated and new ones have fresh TIDs
SELECT count(*) FILTER (WHERE t.ctid = b.old) AS same_tid,
       count(*) FILTER (WHERE t.ctid <> b.old) AS new_tid,
       count(*) FILTER (WHERE b.old IS NULL) AS new_row
FROM t LEFT JOIN before b USING (id);
SELECT id, v, t.ctid = b.old AS same_tid FROM t LEFT JOIN before b USING (id)
WHERE id IN (4, 5, 6, 1500, 3000) ORDER BY id;
-- the carried rows gained no entry: the load's 2500, and the rows written
-- (two updated, one new) plus their pending TIDs
SELECT idx_entries('t_id') AS entries_after_upsert;
VACUUM t;
SELECT idx_entries('t_id') AS entries_after_vacuum, count(*) AS rows_ FROM t;
SELECT * FROM paths('t', 1, 3000);
SELECT * FROM paths('t', 4, 6);
-- a TID scan by the old TID of a carried row finds it, of an updated row not
SELECT id, v FROM t WHERE ctid = (SELECT old FROM before WHERE id = 4);
SELECT id, v FROM t WHERE ctid = (SELECT old FROM before WHERE id = 5);
SELECT count(*) FROM t TABLESAMPLE BERNOULLI (100);
SELECT count(*) FROM t TABLESAMPLE SYSTEM (100);
SELECT bt_index_check('t_id', true);
SELECT * FROM incetl.verify('t');

-- ten rounds of upserts: entries grow by the rows written only
DO $$
BEGIN
    FOR r IN 1..10 LOOP
        EXECUTE format($q$INSERT INTO t SELECT g, 'r%s ' || g
                        FROM generate_series(%s, 2500, 97) g$q$, r, r);
    END LOOP;
END $$;
VACUUM t;
SELECT idx_entries('t_id') AS entries, count(*) AS rows_ FROM t;
SELECT count(*) FILTER (WHERE t.ctid = b.old) AS same_tid FROM t JOIN before b USING (id);
SELECT * FROM paths('t', 1, 3000);
SELECT bt_index_check('t_id', true), bt_index_parent_check('t_id', true);

-- UPDATE, DELETE, and a cursor across a rewrite of its group
UPDATE t SET v = 'upd' WHERE id = 7;
DELETE FROM t WHERE id = 8;
BEGIN;
DECLARE c CURSOR FOR SELECT id, v FROM t WHERE id BETWEEN 10 AND 12 ORDER BY id FOR UPDATE;
FETCH 1 FROM c;
INSERT INTO t VALUES (2000, 'rewrites the group');
UPDATE t SET v = 'via cursor' WHERE CURRENT OF c;
COMMIT;
SELECT id, v FROM t WHERE id BETWEEN 6 AND 11 ORDER BY id;
SELECT * FROM paths('t', 6, 11);

-- a split: the group's rows go to two new groups, each carrying its half
SELECT incetl.set_table_options('t', record_key => 'id', file_group_rows => 400);
INSERT INTO t VALUES (100, 'split');
SELECT count(*) FILTER (WHERE t.ctid = b.old) AS same_tid FROM t JOIN before b USING (id);
SELECT * FROM paths('t', 1, 3000);
SELECT * FROM incetl.verify('t');

-- CREATE INDEX and CREATE INDEX CONCURRENTLY over carried rows
CREATE INDEX t_v ON t (v);
CREATE INDEX CONCURRENTLY t_id2 ON t (id);
SELECT bt_index_check('t_v', true), bt_index_check('t_id2', true);
SET enable_seqscan = off;
SELECT id, v FROM t WHERE v = 'via cursor';
RESET enable_seqscan;

-- format 4 groups: row number = first_row_number + position; an upsert
-- rewrites them as format 5, carrying their numbers
SET incetl.test_cow_group_version = 4;
CREATE TABLE f4 (id int, v text) USING incetl_cow;
SELECT incetl.set_table_options('f4', record_key => 'id', file_group_rows => 1000);
INSERT INTO f4 SELECT g, 'a' || g FROM generate_series(1, 2500) g;
CREATE INDEX f4_id ON f4 (id);
RESET incetl.test_cow_group_version;
CREATE TABLE f5 (id int, v text) USING incetl_cow;
SELECT incetl.set_table_options('f5', record_key => 'id', file_group_rows => 1000);
INSERT INTO f5 SELECT g, 'a' || g FROM generate_series(1, 2500) g;
-- format 5's header ends with the map's description (40 bytes), and with
-- the absorbed ranges (16 bytes each) of a group that carries numbers
CREATE FUNCTION headers(tbl regclass) RETURNS TABLE (fg bigint, commit_id bigint, header_bytes int)
LANGUAGE sql AS $$
    SELECT file_group_id, commit_id, header_bytes FROM incetl.cow_file_group
    WHERE storage_id = incetl.cow_storage_id(tbl)
$$;
SELECT a.fg, b.header_bytes - a.header_bytes AS format5_extra
FROM headers('f4') a JOIN headers('f5') b USING (fg) ORDER BY fg;
CREATE TEMP TABLE before4 AS SELECT id, ctid AS old FROM f4;
SELECT * FROM paths('f4', 1, 3000);
INSERT INTO f4 VALUES (5, 'changed'), (1500, 'changed'), (3000, 'new');
SELECT count(*) FILTER (WHERE f4.ctid = b.old) AS same_tid,
       count(*) FILTER (WHERE f4.ctid <> b.old) AS new_tid
FROM f4 JOIN before4 b USING (id);
SELECT n.fg, n.header_bytes - o.header_bytes AS grown
FROM headers('f4') o JOIN headers('f4') n USING (fg)
WHERE n.commit_id > o.commit_id ORDER BY fg;
SELECT idx_entries('f4_id') AS entries_before_vacuum;
VACUUM f4;
SELECT idx_entries('f4_id') AS entries, count(*) AS rows_ FROM f4;
SELECT * FROM paths('f4', 1, 3000);
SELECT * FROM paths('f4', 4, 6);
SELECT bt_index_check('f4_id', true);
SELECT * FROM incetl.verify('f4');

-- a table without an index has no entries to keep: a rewrite gives every
-- row a fresh number and writes no map (its header stays at format 5's
-- size without absorbed ranges); once it has an index, carried rows keep
-- theirs
CREATE TABLE ni (id int, v text) USING incetl_cow;
SELECT incetl.set_table_options('ni', record_key => 'id', file_group_rows => 1000);
INSERT INTO ni SELECT g, 'a' || g FROM generate_series(1, 2500) g;
CREATE TEMP TABLE before_ni AS SELECT id, ctid AS old FROM ni;
CREATE TEMP TABLE headers_ni AS SELECT * FROM headers('ni');
INSERT INTO ni VALUES (5, 'changed'), (1500, 'changed'), (3000, 'new');
SELECT count(*) FILTER (WHERE ni.ctid = b.old) AS same_tid,
       count(*) FILTER (WHERE ni.ctid <> b.old) AS new_tid
FROM ni JOIN before_ni b USING (id);
SELECT n.fg, n.header_bytes - o.header_bytes AS grown
FROM headers_ni o JOIN headers('ni') n USING (fg)
WHERE n.commit_id > o.commit_id ORDER BY fg;
SELECT * FROM incetl.verify('ni');
CREATE INDEX ni_id ON ni (id);
TRUNCATE before_ni;
INSERT INTO before_ni SELECT id, ctid FROM ni;
INSERT INTO ni VALUES (6, 'changed'), (1501, 'changed'), (3001, 'new');
SELECT count(*) FILTER (WHERE ni.ctid = b.old) AS same_tid,
       count(*) FILTER (WHERE ni.ctid <> b.old) AS new_tid
FROM ni JOIN before_ni b USING (id);
SET enable_seqscan = off;
SELECT id, v FROM ni WHERE id IN (5, 6, 1500, 1501, 3000, 3001, 2500) ORDER BY id;
RESET enable_seqscan;
SELECT bt_index_check('ni_id', true);
SELECT * FROM incetl.verify('ni');

-- restore() writes copies at fresh row numbers and indexes them
CREATE TABLE rs (id int, v text) USING incetl_cow;
SELECT incetl.set_table_options('rs', record_key => 'id', file_group_rows => 500);
CREATE INDEX rs_id ON rs (id);
INSERT INTO rs SELECT g, 'a' || g FROM generate_series(1, 1000) g;
SELECT incetl.latest_commit('rs') AS c1 \gset
INSERT INTO rs VALUES (1, 'b1'), (600, 'b600');
SELECT incetl.restore('rs', :c1) > 0 AS restored;
SELECT * FROM paths('rs', 1, 1000);
SELECT id, v FROM rs WHERE id IN (1, 2, 600) ORDER BY id;
SELECT bt_index_check('rs_id', true);

RESET search_path;
DROP SCHEMA cow_stable_rownum CASCADE;
