-- incetl.file_groups(tbl) (0.5): the current file groups of an incetl_cow
-- table, one row each: rows, first row number, bytes, pages and the record
-- key's first column's range.  Needs SELECT on the table; the key range is
-- NULL without a record key and when row-level security applies.
-- file_group_rows 1000: a quarter of a group is 250 rows.
CREATE TABLE fg (id bigint, v int, note text) USING incetl_cow;
SELECT FROM incetl.set_table_options('fg', record_key => 'id', precombine => 'v',
                                file_group_rows => 1000);
INSERT INTO fg SELECT g, 0, 'row ' || g FROM generate_series(1, 3000) g;
SELECT incetl.latest_commit('fg') AS c1 \gset
SELECT rows, key_min, key_max, commit_id = :c1 AS first_commit,
       raw_bytes > stored_bytes AS compressed, pages > 0 AS has_pages
FROM incetl.file_groups('fg') ORDER BY key_min::bigint;
-- what table_stats counts, file_groups lists
SELECT s.file_groups = count(*) AS same_groups, s.rows = sum(g.rows) AS same_rows,
       s.compressed_bytes = sum(g.stored_bytes) AS same_bytes
FROM incetl.table_stats('fg') s, incetl.file_groups('fg') g
GROUP BY s.file_groups, s.rows, s.compressed_bytes;
-- first row numbers: the order a scan reads the groups
SELECT bool_and(first_row_number IS NOT NULL) AS numbered,
       count(DISTINCT first_row_number) AS distinct_numbers
FROM incetl.file_groups('fg');

-- an upsert of the last group's newest 400 keys splits it: 2001..2600,
-- unchanged, and 2601..3000 become groups of their own, both of the new
-- commit; the other two groups are untouched
INSERT INTO fg SELECT g, 1, 'hot ' || g FROM generate_series(2601, 3000) g;
SELECT incetl.latest_commit('fg') AS c2 \gset
SELECT rows, key_min, key_max, commit_id = :c2 AS rewritten
FROM incetl.file_groups('fg') ORDER BY key_min::bigint;

-- a table without a record key: no key range
CREATE TABLE fg_nokey (id bigint, v text) USING incetl_cow;
INSERT INTO fg_nokey SELECT g, 'x' FROM generate_series(1, 10) g;
SELECT rows, key_min, key_max FROM incetl.file_groups('fg_nokey');

-- a composite key: its first column's range; a text key as text
CREATE TABLE fg_comp (region text, id int, v int) USING incetl_cow;
SELECT FROM incetl.set_table_options('fg_comp', record_key => 'region,id');
INSERT INTO fg_comp SELECT r, g, g FROM unnest(ARRAY['north', 'east', 'west']) r,
    generate_series(1, 5) g;
SELECT rows, key_min, key_max FROM incetl.file_groups('fg_comp');

-- an empty table: no row
CREATE TABLE fg_empty (id int) USING incetl_cow;
SELECT count(*) FROM incetl.file_groups('fg_empty');

-- not an incetl_cow table
CREATE TABLE fg_heap (id int);
SELECT * FROM incetl.file_groups('fg_heap');
\echo :LAST_ERROR_SQLSTATE

-- a role without SELECT on the table gets nothing
CREATE ROLE regress_fg_reader;
GRANT USAGE ON SCHEMA incetl TO regress_fg_reader;
SET ROLE regress_fg_reader;
SELECT * FROM incetl.file_groups('fg');
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;

-- with SELECT, under row-level security: the groups, without key ranges
-- (rows the policies hide could be among them)
GRANT SELECT ON fg TO regress_fg_reader;
ALTER TABLE fg ENABLE ROW LEVEL SECURITY;
CREATE POLICY fg_low ON fg FOR SELECT TO regress_fg_reader USING (id < 10);
SET ROLE regress_fg_reader;
SELECT count(*) AS groups, sum(rows) AS rows, count(key_min) AS key_ranges
FROM incetl.file_groups('fg');
RESET ROLE;
-- the owner, to whom the policies do not apply, sees them
SELECT count(*) AS groups, count(key_min) AS key_ranges FROM incetl.file_groups('fg');

DROP TABLE fg, fg_nokey, fg_comp, fg_empty, fg_heap;
REVOKE USAGE ON SCHEMA incetl FROM regress_fg_reader;
DROP ROLE regress_fg_reader;
