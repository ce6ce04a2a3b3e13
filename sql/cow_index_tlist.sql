-- An Index Scan on an incetl_cow table decodes, of the rows it fetches,
-- only the columns its plan reads (cow_hooks.c, CowIndexScanFirst): its
-- target list (or, for a "physical" one, the columns the query reads of the
-- table), its quals, and the index quals and ORDER BY expressions it
-- rechecks on a row when the index is lossy; the others read as NULL, as a
-- sequential scan's do (cow_scan_tlist).  Bitmap Heap Scans read the same
-- columns (5b), and Parallel Index Scans (5c).  Here every scan of an
-- incetl_cow table is an index or a bitmap scan, and every result is
-- compared with heap's.
CREATE SCHEMA cow_index_tlist;
SET search_path = cow_index_tlist, public;
SET max_parallel_workers_per_gather = 0;
SET incetl.cow_aggregate_pushdown = off;

CREATE TABLE src AS
SELECT g AS id, g % 7 AS grp, (g * 13) % 1000 AS amount,
       'note ' || g || repeat('x', g % 40) AS note, g % 3 AS owner_no,
       '2026-01-01'::timestamptz + g * interval '1 minute' AS at
FROM generate_series(1, 20000) g;
CREATE TABLE c (id int, grp int, amount int, note text, owner_no int,
                at timestamptz) USING incetl_cow;
SELECT incetl.set_table_options('c', record_key => 'id');
INSERT INTO c SELECT * FROM src ORDER BY id;
CREATE INDEX c_id ON c (id);
CREATE TABLE h (LIKE c);
INSERT INTO h SELECT * FROM src;
CREATE INDEX h_id ON h (id);
ANALYZE c, h;
SET enable_seqscan = off;
SET enable_bitmapscan = off;

-- the column blocks a statement decodes in this backend (each of the
-- keys below lies in a 4096-row block no statement read before)
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

-- 1. a lookup of the last column decodes that column alone (the slot's
-- deforming asks for every column up to it: six before); the btree's own
-- column is not read again (btree never asks for a recheck)
EXPLAIN (COSTS OFF) SELECT at FROM c WHERE id = 100;
SELECT pg_temp.blocks('SELECT at FROM c WHERE id = 100') AS one_column;
SELECT (SELECT at FROM c WHERE id = 100) = (SELECT at FROM h WHERE id = 100) AS same;
-- two columns, one of them only in a filter
SELECT pg_temp.blocks('SELECT note FROM c WHERE id = 4200 AND amount = 600') AS two_columns;
SELECT (SELECT note FROM c WHERE id = 4200 AND amount = 600) =
       (SELECT note FROM h WHERE id = 4200 AND amount = 600) AS same;
SELECT count(*) FROM c WHERE id = 4200 AND amount = 601;
-- the whole row, and SELECT *: every column
SELECT pg_temp.blocks('SELECT c FROM c WHERE id = 8400') AS whole_row;
SELECT pg_temp.blocks('SELECT * FROM c WHERE id = 12600') AS star;
SELECT (SELECT c::text FROM c WHERE id = 8400) = (SELECT h::text FROM h WHERE id = 8400) AS same;
-- no column at all
SELECT pg_temp.blocks('SELECT 1 FROM c WHERE id = 16800') AS no_column;

-- 2. many rows through the index: aggregates, joins, a subquery, a lateral
-- reference, a self-join, a view; the same as heap's
SELECT grp, sum(amount) FROM c GROUP BY grp ORDER BY grp;
SELECT grp, sum(amount) FROM h GROUP BY grp ORDER BY grp;
SELECT count(DISTINCT note), max(at) FROM c WHERE id BETWEEN 500 AND 15000;
SELECT count(DISTINCT note), max(at) FROM h WHERE id BETWEEN 500 AND 15000;
CREATE TABLE dim (grp int PRIMARY KEY, region text);
INSERT INTO dim SELECT g, 'region ' || (g % 3) FROM generate_series(0, 6) g;
ANALYZE dim;
SELECT d.region, sum(x.amount), count(*) FROM c x JOIN dim d USING (grp)
GROUP BY d.region ORDER BY 1;
SELECT d.region, sum(x.amount), count(*) FROM h x JOIN dim d USING (grp)
GROUP BY d.region ORDER BY 1;
SELECT sum(l.n) FROM dim d, LATERAL (SELECT count(*) AS n FROM c WHERE c.id BETWEEN d.grp * 100 AND d.grp * 100 + 50 AND c.amount < 500) l;
SELECT sum(l.n) FROM dim d, LATERAL (SELECT count(*) AS n FROM h WHERE h.id BETWEEN d.grp * 100 AND d.grp * 100 + 50 AND h.amount < 500) l;
SELECT count(*) FROM c a JOIN c b ON a.id = b.id + 1 WHERE a.note <> b.note AND a.id < 3000;
SELECT count(*) FROM h a JOIN h b ON a.id = b.id + 1 WHERE a.note <> b.note AND a.id < 3000;
SELECT (SELECT note FROM c WHERE id = (SELECT max(id) - 5 FROM c)) =
       (SELECT note FROM h WHERE id = (SELECT max(id) - 5 FROM h)) AS same_initplan;
CREATE VIEW cv AS SELECT id, grp, amount, note FROM c;
SELECT grp, max(note) FROM cv WHERE id < 700 GROUP BY grp ORDER BY grp;
SELECT grp, max(note) FROM h WHERE id < 700 GROUP BY grp ORDER BY grp;

-- 3. a nested loop rescanning the index with a key from the outer row
-- (run-time keys), the inner side reading one column
SET enable_hashjoin = off;
SET enable_mergejoin = off;
EXPLAIN (COSTS OFF)
SELECT o.k, x.note FROM (VALUES (10), (5000), (19999)) o(k) JOIN c x ON x.id = o.k;
SELECT o.k, x.note FROM (VALUES (10), (5000), (19999)) o(k) JOIN c x ON x.id = o.k ORDER BY 1;
SELECT o.k, x.note FROM (VALUES (10), (5000), (19999)) o(k) JOIN h x ON x.id = o.k ORDER BY 1;
RESET enable_hashjoin;
RESET enable_mergejoin;

-- 4. a cursor moving both ways over the index
BEGIN;
DECLARE cur SCROLL CURSOR FOR SELECT id, note FROM c WHERE id BETWEEN 100 AND 110 ORDER BY id;
FETCH 3 FROM cur;
FETCH BACKWARD 2 FROM cur;
FETCH LAST FROM cur;
COMMIT;

-- 5. a lossy index (hash: every row rechecked against the index qual on
-- the fetched row) needs the indexed column read even where the query
-- does not name it
CREATE INDEX c_note_hash ON c USING hash (note);
CREATE INDEX h_note_hash ON h USING hash (note);
EXPLAIN (COSTS OFF) SELECT id FROM c WHERE note = 'note 77' || repeat('x', 37);
SELECT id FROM c WHERE note = 'note 77' || repeat('x', 37);
SELECT id FROM h WHERE note = 'note 77' || repeat('x', 37);
DROP INDEX c_note_hash;
DROP INDEX h_note_hash;
-- a GiST index ordering points by distance (exact: nothing rechecked)
CREATE TABLE cg (id int, p point, tag text) USING incetl_cow;
CREATE TABLE hg (id int, p point, tag text);
INSERT INTO cg SELECT g, point(g % 100, g / 100), 't' || g FROM generate_series(1, 5000) g;
INSERT INTO hg SELECT * FROM cg;
CREATE INDEX cg_p ON cg USING gist (p);
CREATE INDEX hg_p ON hg USING gist (p);
EXPLAIN (COSTS OFF) SELECT tag FROM cg ORDER BY p <-> point(50.2, 20.7) LIMIT 3;
SELECT tag FROM cg ORDER BY p <-> point(50.2, 20.7) LIMIT 3;
SELECT tag FROM hg ORDER BY p <-> point(50.2, 20.7) LIMIT 3;
SELECT tag FROM cg WHERE p <@ box(point(10, 10), point(11, 11)) ORDER BY tag;
SELECT tag FROM hg WHERE p <@ box(point(10, 10), point(11, 11)) ORDER BY tag;
-- circles: GiST answers by bounding box, the overlap and the distance are
-- rechecked on the row's circle, which the query does not name
CREATE TABLE cc (id int, c circle, tag text) USING incetl_cow;
CREATE TABLE hc (id int, c circle, tag text);
INSERT INTO cc SELECT g, circle(point(g % 100, g / 100), 0.3 + (g % 5) * 0.1), 't' || g
FROM generate_series(1, 5000) g;
INSERT INTO hc SELECT * FROM cc;
CREATE INDEX cc_c ON cc USING gist (c);
CREATE INDEX hc_c ON hc USING gist (c);
EXPLAIN (COSTS OFF) SELECT tag FROM cc WHERE c && circle(point(30, 30), 0.65) ORDER BY c <-> point(30.4, 30.4) LIMIT 4;
SELECT tag FROM cc WHERE c && circle(point(30, 30), 0.65) ORDER BY c <-> point(30.4, 30.4) LIMIT 4;
SELECT tag FROM hc WHERE c && circle(point(30, 30), 0.65) ORDER BY c <-> point(30.4, 30.4) LIMIT 4;
SELECT tag FROM cc WHERE c && circle(point(30, 30), 0.65) ORDER BY tag;
SELECT tag FROM hc WHERE c && circle(point(30, 30), 0.65) ORDER BY tag;
SELECT pg_temp.blocks('SELECT tag FROM cc WHERE c && circle(point(30, 30), 0.65)') AS rechecked;

-- 5b. Bitmap Heap Scans read the same columns: a lookup of one column;
-- many rows; rows of a lossy index (hash: each rechecked against the index
-- qual, on a column the query does not name)
SET enable_indexscan = off;
SET enable_bitmapscan = on;
-- (a key of a block whose value blocks no statement above made: made,
-- they would be in the server's cache, and a block read through one is
-- not decoded, whichever columns a scan reads)
EXPLAIN (COSTS OFF) SELECT at FROM c WHERE id = 17600;
SELECT pg_temp.blocks('SELECT at FROM c WHERE id = 17600') AS bitmap_one_column;
SELECT (SELECT at FROM c WHERE id = 17600) = (SELECT at FROM h WHERE id = 17600) AS same;
SELECT count(note), sum(amount) FROM c WHERE id BETWEEN 1000 AND 14000 OR id BETWEEN 17000 AND 17005;
SELECT count(note), sum(amount) FROM h WHERE id BETWEEN 1000 AND 14000 OR id BETWEEN 17000 AND 17005;
CREATE INDEX c_note_hash ON c USING hash (note);
EXPLAIN (COSTS OFF) SELECT id FROM c WHERE note IN ('note 78' || repeat('x', 38), 'note 19998' || repeat('x', 38));
SELECT id FROM c WHERE note IN ('note 78' || repeat('x', 38), 'note 19998' || repeat('x', 38)) ORDER BY id;
SELECT id FROM h WHERE note IN ('note 78' || repeat('x', 38), 'note 19998' || repeat('x', 38)) ORDER BY id;
DROP INDEX c_note_hash;
SET enable_indexscan = on;
SET enable_bitmapscan = off;

-- 5c. Parallel Index Scans (a table of several file groups, which
-- parallel plans need): each participant's fetch is told the columns on
-- the node's first call; with no worker launched the leader reads every
-- row, and decodes the columns read only
CREATE TABLE cp (LIKE c) USING incetl_cow;
SELECT incetl.set_table_options('cp', record_key => 'id', file_group_rows => 2000);
INSERT INTO cp SELECT * FROM src ORDER BY id;
CREATE INDEX cp_id ON cp (id);
ANALYZE cp;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_index_scan_size = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
EXPLAIN (COSTS OFF) SELECT sum(amount), count(note) FROM cp WHERE id BETWEEN 100 AND 15000;
SELECT sum(amount), count(note), max(length(note)) FROM cp WHERE id BETWEEN 100 AND 15000;
SELECT sum(amount), count(note), max(length(note)) FROM h WHERE id BETWEEN 100 AND 15000;
SET max_parallel_workers = 0;
SELECT pg_temp.blocks('SELECT sum(at - ''2026-01-01'') FROM cp WHERE id BETWEEN 5000 AND 9000') AS parallel_leader_alone;
SELECT sum(at - '2026-01-01') FROM cp WHERE id BETWEEN 5000 AND 9000;
SELECT sum(at - '2026-01-01') FROM h WHERE id BETWEEN 5000 AND 9000;
RESET max_parallel_workers;
SET max_parallel_workers_per_gather = 0;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_index_scan_size;
RESET min_parallel_table_scan_size;

-- 6. writes through the index: RETURNING gives whole rows, row locks,
-- an UPDATE reading one column
BEGIN;
UPDATE c SET amount = amount + 1 WHERE id = 300 RETURNING *;
UPDATE h SET amount = amount + 1 WHERE id = 300 RETURNING *;
DELETE FROM c WHERE id = 301 RETURNING id, note, at;
DELETE FROM h WHERE id = 301 RETURNING id, note, at;
SELECT note FROM c WHERE id = 302 FOR UPDATE;
UPDATE c SET note = note || '!' WHERE id BETWEEN 303 AND 305;
UPDATE h SET note = note || '!' WHERE id BETWEEN 303 AND 305;
(SELECT * FROM c WHERE id BETWEEN 290 AND 310 EXCEPT SELECT * FROM h WHERE id BETWEEN 290 AND 310)
UNION ALL
(SELECT * FROM h WHERE id BETWEEN 290 AND 310 EXCEPT SELECT * FROM c WHERE id BETWEEN 290 AND 310);
ROLLBACK;

-- 6b. MERGE and UPDATE ... FROM finding the table's rows through its
-- index from another table's keys (a nested loop rescanning the index)
CREATE TABLE chg (id int, amount int);
INSERT INTO chg VALUES (5, 1), (6, 2), (20001, 3);
SET enable_hashjoin = off;
SET enable_mergejoin = off;
EXPLAIN (COSTS OFF) MERGE INTO c USING chg ON c.id = chg.id
WHEN MATCHED AND c.grp < 7 THEN UPDATE SET amount = c.amount + chg.amount
WHEN NOT MATCHED THEN INSERT (id, grp, amount, note) VALUES (chg.id, 0, chg.amount, 'new');
BEGIN;
MERGE INTO c USING chg ON c.id = chg.id
WHEN MATCHED AND c.grp < 7 THEN UPDATE SET amount = c.amount + chg.amount
WHEN NOT MATCHED THEN INSERT (id, grp, amount, note) VALUES (chg.id, 0, chg.amount, 'new');
MERGE INTO h USING chg ON h.id = chg.id
WHEN MATCHED AND h.grp < 7 THEN UPDATE SET amount = h.amount + chg.amount
WHEN NOT MATCHED THEN INSERT (id, grp, amount, note) VALUES (chg.id, 0, chg.amount, 'new');
UPDATE c SET note = c.note || '+' FROM chg WHERE c.id = chg.id + 10;
UPDATE h SET note = h.note || '+' FROM chg WHERE h.id = chg.id + 10;
(SELECT * FROM c WHERE id < 20 OR id > 19990 EXCEPT SELECT * FROM h WHERE id < 20 OR id > 19990)
UNION ALL
(SELECT * FROM h WHERE id < 20 OR id > 19990 EXCEPT SELECT * FROM c WHERE id < 20 OR id > 19990);
SELECT count(*) FROM c WHERE id < 20 OR id > 19990;
ROLLBACK;
RESET enable_hashjoin;
RESET enable_mergejoin;

-- 7. a rule's action reads OLD's columns through the statement's range
-- table entry (see cow_scan_tlist): they are read, not NULL
CREATE TABLE rt (id int, a int, b text) USING incetl_cow;
SELECT incetl.set_table_options('rt', record_key => 'id');
CREATE TABLE rh (id int, a int, b text);
INSERT INTO rt SELECT g, g * 10, 'x' FROM generate_series(1, 100) g;
INSERT INTO rh SELECT g, g * 10, 'x' FROM generate_series(1, 100) g;
CREATE INDEX rt_id ON rt (id);
CREATE INDEX rh_id ON rh (id);
CREATE TABLE log (src text, id int, a int, b text);
CREATE RULE r AS ON UPDATE TO rt DO ALSO INSERT INTO log VALUES ('cow', old.id, old.a, old.b);
CREATE RULE r AS ON UPDATE TO rh DO ALSO INSERT INTO log VALUES ('heap', old.id, old.a, old.b);
CREATE RULE d AS ON DELETE TO rt DO ALSO INSERT INTO log SELECT 'cow', old.*;
CREATE RULE d AS ON DELETE TO rh DO ALSO INSERT INTO log SELECT 'heap', old.*;
UPDATE rt SET b = 'y' WHERE id < 5;
UPDATE rh SET b = 'y' WHERE id < 5;
DELETE FROM rt WHERE id > 97;
DELETE FROM rh WHERE id > 97;
SELECT src, count(*), sum(a), count(a), string_agg(b, ',' ORDER BY id) FROM log
GROUP BY src ORDER BY src;

-- 8. row-level security: the policy's column is read where the query
-- does not name it
CREATE ROLE regress_index_tlist_reader;
GRANT USAGE ON SCHEMA cow_index_tlist TO regress_index_tlist_reader;
GRANT SELECT (id, grp, amount) ON c TO regress_index_tlist_reader;
ALTER TABLE c ENABLE ROW LEVEL SECURITY;
CREATE POLICY own ON c TO regress_index_tlist_reader USING (owner_no = 1);
SET ROLE regress_index_tlist_reader;
SELECT grp, sum(amount), count(*) FROM c WHERE id < 1000 GROUP BY grp ORDER BY grp;
RESET ROLE;
SELECT grp, sum(amount), count(*) FROM h WHERE id < 1000 AND owner_no = 1 GROUP BY grp ORDER BY grp;
ALTER TABLE c DISABLE ROW LEVEL SECURITY;
DROP POLICY own ON c;

-- 9. a partition whose columns lie in another order
CREATE TABLE p (id int, grp int, amount int, note text) PARTITION BY RANGE (id);
CREATE TABLE p1 (note text, amount int, grp int, id int) USING incetl_cow;
ALTER TABLE p ATTACH PARTITION p1 FOR VALUES FROM (1) TO (10001);
CREATE TABLE p2 PARTITION OF p FOR VALUES FROM (10001) TO (20001) USING incetl_cow;
INSERT INTO p SELECT id, grp, amount, note FROM src ORDER BY id;
CREATE INDEX p_id ON p (id);
ANALYZE p;
SELECT grp, sum(amount), count(note) FROM p WHERE id BETWEEN 9000 AND 11000 GROUP BY grp ORDER BY grp;
SELECT grp, sum(amount), count(note) FROM h WHERE id BETWEEN 9000 AND 11000 GROUP BY grp ORDER BY grp;

-- 10. a column added with a default and a dropped one
ALTER TABLE c ADD COLUMN flag int DEFAULT 7;
ALTER TABLE c DROP COLUMN owner_no;
SELECT grp, sum(amount), sum(flag) FROM c WHERE id < 2000 GROUP BY grp ORDER BY grp;
SELECT grp, sum(amount), 7 * count(*) FROM h WHERE id < 2000 GROUP BY grp ORDER BY grp;
SELECT flag, note FROM c WHERE id = 1999;

RESET enable_seqscan;
RESET enable_bitmapscan;
DROP SCHEMA cow_index_tlist CASCADE;
DROP ROLE regress_index_tlist_reader;
