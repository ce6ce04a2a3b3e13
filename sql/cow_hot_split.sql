-- A rewrite keeps the unchanged rows beside a key range that changed as a
-- file group of their own (CowOutFinish, cow_merge.c): updates that keep
-- coming to that range rewrite only its group from the next commit on.
-- file_group_rows 400: a quarter of a group is 100 rows.
CREATE TABLE hs (id bigint, v int, note text) USING incetl_cow;
SELECT incetl.set_table_options('hs', record_key => 'id', precombine => 'v',
                                file_group_rows => 400);
INSERT INTO hs SELECT g, 0, 'row ' || g FROM generate_series(1, 1200) g;
CREATE INDEX hs_id ON hs (id);
SELECT file_groups, rows FROM incetl.table_stats('hs');

-- the newest 200 keys change: their group (801..1200) is written as
-- 801..1000, unchanged, and 1001..1200
INSERT INTO hs SELECT g, 1, 'hot ' || g FROM generate_series(1001, 1200, 2) g;
SELECT file_groups, rows FROM incetl.table_stats('hs');
SELECT operation, rows_inserted, rows_updated, file_groups_written
FROM incetl.commits('hs') ORDER BY commit_id DESC LIMIT 1;
SELECT bytes_written AS split_bytes FROM incetl.commits('hs')
ORDER BY commit_id DESC LIMIT 1 \gset

-- the same range again: one group of 200 rows is rewritten, not 400
INSERT INTO hs SELECT g, 2, 'hot ' || g FROM generate_series(1002, 1200, 2) g;
SELECT file_groups, rows FROM incetl.table_stats('hs');
SELECT operation, rows_updated, file_groups_written,
       bytes_written < :split_bytes * 0.7 AS half_the_bytes
FROM incetl.commits('hs') ORDER BY commit_id DESC LIMIT 1;

-- every row is there once, with its last version, by scan and by index
SELECT count(*), count(DISTINCT id), sum(v), min(id), max(id) FROM hs;
SELECT v, count(*) FROM hs GROUP BY v ORDER BY v;
SET enable_seqscan = off;
SET enable_bitmapscan = off;
EXPLAIN (COSTS OFF) SELECT * FROM hs WHERE id = 1000;
SELECT * FROM hs WHERE id IN (1, 800, 801, 1000, 1001, 1002, 1200) ORDER BY id;
RESET enable_seqscan;
RESET enable_bitmapscan;
SELECT problem FROM incetl.verify('hs');

-- time travel still sees the table before the split
SELECT count(*), sum(v) FROM incetl.as_of(NULL::hs, 1);

-- the change feed has the changed rows only, not the unchanged ones the
-- split rewrote
SELECT count(*), min(id), max(id), sum(v) FROM incetl.changes(NULL::hs, 1, 2);
SELECT operation, count(*), min((before).id), max((after).id),
       bool_and((before).v = 0 AND (after).v = 1) AS old_and_new
FROM incetl.table_changes(NULL::hs, 1, 2) GROUP BY operation;
SELECT operation, count(*), sum((after).v)
FROM incetl.net_changes(NULL::hs, 1) GROUP BY operation;

-- unchanged rows after the range split off too (keys 801..900 changed:
-- the group 801..1000 becomes 801..900 and 901..1000)
INSERT INTO hs SELECT g, 3, 'warm ' || g FROM generate_series(801, 900) g;
SELECT file_groups, rows FROM incetl.table_stats('hs');
SELECT sum(v), count(*) FILTER (WHERE v = 3) FROM hs;

-- updates spread over a whole group split nothing
INSERT INTO hs SELECT g, 4, 'spread ' || g FROM generate_series(1, 400, 7) g;
SELECT file_groups FROM incetl.table_stats('hs');

-- a changed range shorter than a quarter of a group splits nothing
INSERT INTO hs SELECT g, 5, 'few ' || g FROM generate_series(1150, 1200, 10) g;
SELECT file_groups FROM incetl.table_stats('hs');

-- new keys are not changes: a last group with room takes them whole
CREATE TABLE hs2 (id bigint, v int) USING incetl_cow;
SELECT incetl.set_table_options('hs2', record_key => 'id', file_group_rows => 400);
INSERT INTO hs2 SELECT g, 0 FROM generate_series(1, 200) g;
INSERT INTO hs2 SELECT g, 0 FROM generate_series(201, 350) g;
SELECT file_groups, rows FROM incetl.table_stats('hs2');

-- a DELETE leaves no changed rows to keep apart: nothing is split
DELETE FROM hs2 WHERE id BETWEEN 1 AND 150;
SELECT file_groups, rows FROM incetl.table_stats('hs2');
SELECT count(*), min(id), max(id) FROM hs2;

DROP TABLE hs, hs2;
