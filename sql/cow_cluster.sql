-- CLUSTER of incetl_cow tables: a table without a record key is rewritten
-- with its rows sorted by the index (a sequential scan then returns index
-- order, as on heap); a table with a record key stays sorted by its key.
-- The timeline carries over as for VACUUM FULL.
SET max_parallel_workers_per_gather = 0;
SET incetl.cow_aggregate_pushdown = off;

CREATE TABLE cl (id int, v int, t text) USING incetl_cow;
SELECT incetl.set_table_options('cl', file_group_rows => 100);
-- v is a permutation of 0..1008 (37 is invertible modulo the prime 1009)
INSERT INTO cl SELECT i, (i * 37) % 1009, 't' || i FROM generate_series(1, 500) i;
INSERT INTO cl SELECT i, (i * 37) % 1009, 't' || i FROM generate_series(501, 1000) i;
DELETE FROM cl WHERE id % 10 = 0;
CREATE TABLE cl_heap AS SELECT * FROM cl;
CREATE INDEX cl_v ON cl (v);
CREATE INDEX cl_id ON cl (id);
CREATE INDEX cl_heap_v ON cl_heap (v);
SELECT count(*) AS commits_before FROM incetl.commits('cl') \gset
SELECT incetl.latest_commit('cl') AS latest_before \gset
SELECT count(*) AS changes_before FROM incetl.changes(NULL::cl, 1) \gset

CLUSTER cl USING cl_v;
CLUSTER cl_heap USING cl_heap_v;

-- a sequential scan returns the index's order, as on heap
SET enable_indexscan = off;
SET enable_bitmapscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM cl;
SELECT (SELECT array_agg(id) FROM cl) = (SELECT array_agg(id) FROM cl_heap) AS same_order,
       (SELECT count(*) FROM cl) AS n,
       (SELECT bool_and(v > prev) FROM (SELECT v, lag(v) OVER () AS prev FROM cl) x) AS ascending;
RESET enable_indexscan;
RESET enable_bitmapscan;
-- new file groups of file_group_rows rows, every row kept whole
SELECT file_groups, rows FROM incetl.table_stats('cl');
SELECT count(*) AS problems FROM incetl.verify('cl');
SELECT count(*) FROM (SELECT * FROM cl EXCEPT ALL SELECT * FROM cl_heap) x;
SELECT count(*) FROM (SELECT * FROM cl_heap EXCEPT ALL SELECT * FROM cl) x;

-- the indexes, rebuilt, find the rows: index scans equal the seq scan
SET enable_seqscan = off;
SET enable_bitmapscan = off;
EXPLAIN (COSTS OFF) SELECT count(*), sum(id) FROM cl WHERE v BETWEEN 100 AND 300;
SELECT count(*), sum(id) FROM cl WHERE v BETWEEN 100 AND 300;
SELECT count(*), sum(v) FROM cl WHERE id BETWEEN 100 AND 300;
RESET enable_seqscan;
RESET enable_bitmapscan;
SELECT count(*), sum(id) FROM cl WHERE v BETWEEN 100 AND 300;
SELECT count(*), sum(v) FROM cl WHERE id BETWEEN 100 AND 300;

-- the timeline, as for VACUUM FULL: the commits are kept (CLUSTER records
-- none), the newest is readable, the ones before it are not
SELECT count(*) = :commits_before AS commits_kept FROM incetl.commits('cl');
SELECT incetl.latest_commit('cl') = :latest_before AS latest_kept;
SELECT count(*) FROM incetl.as_of(NULL::cl, :latest_before);
SELECT count(*) FROM incetl.as_of(NULL::cl, 1);
-- each row keeps the commit that wrote it: the rows written after commit
-- 1 are still those
SELECT count(*) = :changes_before AS changes_kept, count(*)
FROM incetl.changes(NULL::cl, 1);

-- CLUSTER without USING takes the remembered index: rows written since
-- are sorted in
INSERT INTO cl SELECT i, (i * 37) % 1009, 'x' || i FROM generate_series(1001, 1009) i;
INSERT INTO cl_heap SELECT i, (i * 37) % 1009, 'x' || i FROM generate_series(1001, 1009) i;
CLUSTER cl;
CLUSTER cl_heap;
SET enable_indexscan = off;
SET enable_bitmapscan = off;
SELECT (SELECT array_agg(id) FROM cl) = (SELECT array_agg(id) FROM cl_heap) AS same_order,
       (SELECT count(*) FROM cl) AS n;
RESET enable_indexscan;
RESET enable_bitmapscan;

-- CLUSTER of every table clustered before, as their owner
CREATE ROLE cl_owner;
CREATE TABLE cl_own (id int, v int) USING incetl_cow;
ALTER TABLE cl_own OWNER TO cl_owner;
INSERT INTO cl_own SELECT i, (i * 37) % 1009 FROM generate_series(1, 300) i;
CREATE INDEX cl_own_v ON cl_own (v);
ALTER TABLE cl_own CLUSTER ON cl_own_v;
INSERT INTO cl_own SELECT i, (i * 37) % 1009 FROM generate_series(301, 400) i;
SET ROLE cl_owner;
CLUSTER;
RESET ROLE;
SET enable_indexscan = off;
SET enable_bitmapscan = off;
SELECT count(*) AS n, bool_and(v > prev) AS ascending
FROM (SELECT v, lag(v) OVER () AS prev FROM cl_own) x;
RESET enable_indexscan;
RESET enable_bitmapscan;

-- only btree indexes order a CLUSTER of a table without a record key
CREATE TABLE cl_r (id int, r int4range) USING incetl_cow;
INSERT INTO cl_r SELECT i, int4range(i, i + 10) FROM generate_series(1, 10) i;
CREATE INDEX cl_r_gist ON cl_r USING gist (r);
CLUSTER cl_r USING cl_r_gist;

-- a table with a record key stays sorted by its key: CLUSTER on the key's
-- index rewrites it as VACUUM FULL does; on another index it says so
CREATE TABLE cl_k (id int, v int) USING incetl_cow;
SELECT incetl.set_table_options('cl_k', record_key => 'id', file_group_rows => 100);
INSERT INTO cl_k SELECT i, (i * 37) % 1009 FROM generate_series(1, 500) i;
INSERT INTO cl_k SELECT i, 2000 + i FROM generate_series(1, 500, 7) i;
CREATE INDEX cl_k_id ON cl_k (id);
CREATE INDEX cl_k_v ON cl_k (v);
CLUSTER cl_k USING cl_k_id;
CLUSTER cl_k USING cl_k_v;
SET enable_indexscan = off;
SET enable_bitmapscan = off;
SELECT count(*) AS n, bool_and(id > prev) AS ascending_by_key, sum(v)
FROM (SELECT id, v, lag(id) OVER () AS prev FROM cl_k) x;
RESET enable_indexscan;
RESET enable_bitmapscan;
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT count(*), sum(id) FROM cl_k WHERE v > 2000;
SELECT count(*), sum(id) FROM cl_k WHERE v > 2000;
RESET enable_seqscan;
SELECT count(*), sum(id) FROM cl_k WHERE v > 2000;
SELECT count(*) AS problems FROM incetl.verify('cl_k');

DROP TABLE cl, cl_heap, cl_own, cl_r, cl_k;
DROP ROLE cl_owner;
