-- incetl_cow storage: file groups, compression, min/max skipping, EXPLAIN,
-- ANALYZE, indexes, VACUUM and incetl.clean, VACUUM FULL, verify.
CREATE SCHEMA cow_storage;
SET search_path = cow_storage, public;

CREATE TABLE m (id int, cat text, val float8, note text, ts int) USING incetl_cow;
SELECT incetl.set_table_options('m', record_key => 'id', precombine => 'ts',
                                file_group_rows => 250, compression_level => 9);
INSERT INTO m
SELECT g, 'cat' || (g % 10), g / 7.0, repeat('n', g % 50), 1
FROM generate_series(1, 1000) g;

-- file groups are bounded by file_group_rows and partition the key space
SELECT file_groups, rows, compression_ratio > 1 AS compressed, versions_retained
FROM incetl.table_stats('m');
SELECT row_count FROM incetl.cow_file_group
WHERE storage_id = incetl.cow_storage_id('m') AND superseded_by IS NULL
ORDER BY first_row_number;

-- an upsert rewrites only the file groups its keys fall into
INSERT INTO m VALUES (10, 'x', 0, '', 2), (20, 'x', 0, '', 2);
SELECT operation, rows_updated, file_groups_written FROM incetl.commits('m')
ORDER BY commit_id DESC LIMIT 1;
SELECT file_groups, versions_retained FROM incetl.table_stats('m');

-- new keys beyond the last one, more than file_group_rows of them in key
-- order: merged a group's worth at a time, whole groups, then the rest
INSERT INTO m SELECT g, 'new', 0, '', 1 FROM generate_series(1001, 1300) g;
SELECT row_count FROM incetl.cow_file_group
WHERE storage_id = incetl.cow_storage_id('m') AND superseded_by IS NULL
ORDER BY first_row_number;

-- min/max skipping on simple key quals (in the sequential scan: the aggregate
-- pushdown, which would answer these count(*)s, has its own test, cow_aggregate).
-- column_chunks_decoded counts chunks decoded whole: a key range covering
-- part of a group's one block decodes only its rows of it (its binary
-- search single key values): no chunk, where the search used to decode
-- the key column's block whole, one chunk per group read; nor does the
-- executor read the key column to test bounds the key range holds (1250 <=
-- id covers one of its two groups whole, whose key chunk that test decoded)
SET incetl.cow_aggregate_pushdown = off;
SELECT count(*) FROM m WHERE id = 500;
SELECT * FROM incetl.cow_last_scan();
SELECT count(*) FROM m WHERE id < 100;
SELECT * FROM incetl.cow_last_scan();
SELECT count(*) FROM m WHERE 1250 <= id;
SELECT * FROM incetl.cow_last_scan();
SELECT count(*) FROM m WHERE id > 5000;
SELECT * FROM incetl.cow_last_scan();
SELECT count(*) FROM m;
SELECT * FROM incetl.cow_last_scan();
-- a qual on a non-key column skips too
SELECT count(*) FROM m WHERE val > 140;
SELECT * FROM incetl.cow_last_scan();
-- numeric constant against an int column, and text
SELECT count(*) FROM m WHERE id = 7::bigint;
SELECT * FROM incetl.cow_last_scan();
SELECT count(*) FROM m WHERE cat = 'new';
SELECT * FROM incetl.cow_last_scan();
-- min/max are ordered under the collation they were written with: after
-- ALTER COLUMN ... COLLATE (which rewrites nothing) they cannot skip under
-- the new one ('a' < 'B' in ICU's root order, 'B' < 'a' in "C")
CREATE TABLE coll (t text COLLATE "und-x-icu") USING incetl_cow;
INSERT INTO coll VALUES ('a'), ('B');
SELECT count(*) FROM coll WHERE t < 'C';
ALTER TABLE coll ALTER COLUMN t TYPE text COLLATE "C";
SELECT t FROM coll WHERE t < 'C';
SELECT * FROM incetl.cow_last_scan();
INSERT INTO coll VALUES ('x');
SELECT t FROM coll WHERE t < 'C' ORDER BY t;
DROP TABLE coll;

-- only the columns the plan reads are decompressed (m: 5 columns, 6 file
-- groups of one block; a scan gets no physical target list, which would
-- name them all): count(*) none, sum(id) one per group, a key range none:
-- in the group holding it, the key column's probed values and the range's
-- rows of the columns read are decoded, not their chunks (a chunk counts
-- once all its blocks are decoded whole)
SELECT count(*) FROM m;
SELECT * FROM incetl.cow_last_scan();
SELECT sum(id) FROM m;
SELECT * FROM incetl.cow_last_scan();
SELECT cat FROM m WHERE id = 600;
SELECT * FROM incetl.cow_last_scan();
SELECT sum(length(note)) FROM m;
SELECT * FROM incetl.cow_last_scan();
SELECT * FROM m WHERE id = 600;
SELECT * FROM incetl.cow_last_scan();
RESET incetl.cow_aggregate_pushdown;

EXPLAIN (COSTS OFF) SELECT cat, count(*) FROM m WHERE id BETWEEN 10 AND 20 GROUP BY cat;

-- ANALYZE sets reltuples
ANALYZE m;
SELECT reltuples FROM pg_class WHERE oid = 'm'::regclass;

-- btree and hash indexes never return stale versions
CREATE INDEX m_cat ON m (cat);
CREATE INDEX m_id_hash ON m USING hash (id);
SET enable_seqscan = off;
SET enable_bitmapscan = off;
EXPLAIN (COSTS OFF) SELECT * FROM m WHERE cat = 'cat3';
SELECT count(*) FROM m WHERE cat = 'cat3';
UPDATE m SET cat = 'cat3' WHERE id = 1;
INSERT INTO m VALUES (2, 'cat3', 0, '', 5), (13, 'moved', 0, '', 5);
SELECT count(*) FROM m WHERE cat = 'cat3';
SELECT id, cat FROM m WHERE id = 13;
DELETE FROM m WHERE id = 23;
SELECT count(*) FROM m WHERE cat = 'cat3';
-- an old snapshot still finds its rows through the index
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT count(*) FROM m WHERE cat = 'cat3';
SELECT count(*) FROM m WHERE cat = 'cat3';
COMMIT;
RESET enable_seqscan;
RESET enable_bitmapscan;

-- VACUUM and clean reclaim superseded versions; size stays flat
CREATE TABLE hot (id int, v int) USING incetl_cow;
SELECT incetl.set_table_options('hot', record_key => 'id', precombine => 'v',
                                file_group_rows => 2000, retain_commits => 1);
CREATE INDEX ON hot (v);
INSERT INTO hot SELECT g, 0 FROM generate_series(1, 5000) g;
INSERT INTO hot SELECT g, 1 FROM generate_series(1, 5000) g;
VACUUM hot;
INSERT INTO hot SELECT g, 2 FROM generate_series(1, 5000) g;
VACUUM hot;
SELECT pg_relation_size('hot') AS size1 \gset
INSERT INTO hot SELECT g, 3 FROM generate_series(1, 5000) g;
VACUUM hot;
INSERT INTO hot SELECT g, 4 FROM generate_series(1, 5000) g;
VACUUM hot;
INSERT INTO hot SELECT g, 5 FROM generate_series(1, 5000) g;
VACUUM hot;
-- each round writes about 40% of size1 anew: without reuse the table would
-- have grown by more than size1 (the margin tolerates a round whose reuse
-- a concurrent snapshot delayed)
SELECT pg_relation_size('hot') < 2 * :size1 AS size_flat;
SELECT count(*), min(v), max(v) FROM hot;
SET enable_seqscan = off;
SELECT count(*) FROM hot WHERE v = 5;
SELECT count(*) FROM hot WHERE v = 4;
RESET enable_seqscan;
SELECT versions_retained FROM incetl.table_stats('hot');
INSERT INTO hot SELECT g, 6 FROM generate_series(1, 10) g;
SELECT versions_retained > 0 AS retained FROM incetl.table_stats('hot');
SELECT incetl.clean('hot', 0) > 0 AS cleaned;
SELECT versions_retained FROM incetl.table_stats('hot');
SELECT * FROM incetl.verify('hot');

-- VACUUM FULL keeps the current versions only, and the timeline
SELECT count(*) AS ncommits, max(commit_id) AS last_commit FROM incetl.commits('m') \gset
VACUUM FULL m;
SELECT count(*) = :ncommits AS timeline_kept FROM incetl.commits('m');
INSERT INTO m VALUES (5000, 'after', 0, '', 1);
SELECT max(commit_id) = :last_commit + 1 AS ids_continue FROM incetl.commits('m');
SELECT count(*), count(DISTINCT id) FROM m;
SELECT versions_retained FROM incetl.table_stats('m');
SELECT * FROM incetl.verify('m');
SET enable_seqscan = off;
SELECT count(*) FROM m WHERE cat = 'cat3';
RESET enable_seqscan;

-- many column types round-trip
CREATE TABLE types (
    k int, b bool, i2 int2, i8 int8, f4 float4, n numeric, t text, vc varchar(10),
    c char(3), d date, ts timestamp, tz timestamptz, iv interval, u uuid,
    j jsonb, a int[], by bytea, nm name) USING incetl_cow;
SELECT incetl.set_table_options('types', record_key => 'k');
INSERT INTO types VALUES
 (1, true, 2, 8, 1.5, 123.456, 'text', 'vc', 'ab', '2024-01-02', '2024-01-02 03:04:05',
  '2024-01-02 03:04:05+00', '1 day 2 hours', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
  '{"a": [1, 2]}', '{1,NULL,3}', '\xdeadbeef', 'nm'),
 (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  NULL, NULL, NULL, NULL);
SELECT * FROM types ORDER BY k;
ALTER TABLE types ADD COLUMN extra int DEFAULT 42;
ALTER TABLE types DROP COLUMN i2;
SELECT k, extra, t FROM types ORDER BY k;
INSERT INTO types (k, t) VALUES (3, 'three');
SELECT k, extra, t FROM types ORDER BY k;

RESET search_path;
SET client_min_messages = warning;
DROP SCHEMA cow_storage CASCADE;
