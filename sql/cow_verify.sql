-- incetl.verify() on a table of many file groups: its memory does not
-- grow with the table (each group is decoded in a context reset after it;
-- the row numbers of all groups are checked for duplicates through a sort
-- bounded by maintenance_work_mem), and a row number held by two current
-- groups is reported.
CREATE SCHEMA cow_verify;
SET search_path = cow_verify, public;

CREATE TABLE vbig (id bigint, c int, v text) USING incetl_cow;
SELECT incetl.set_table_options('vbig', record_key => 'id', file_group_rows => 10000);
INSERT INTO vbig SELECT g, g % 1000, md5(g::text) FROM generate_series(1, 500000) g;
-- a second version of some groups, with rows carried over
UPDATE vbig SET c = -c WHERE id % 7 = 0 AND id < 100000;
SELECT file_groups, rows FROM incetl.table_stats('vbig');

-- 1. A new session's peak resident memory grows by the groups' reading, not
-- by the table: 500,000 rows kept decoded to the end cost 46 MB more.
-- (The sort of the row numbers is kept to 1 MB; the table's pages read
-- into shared buffers count.)
\c -
SET search_path = cow_verify, public;
SET maintenance_work_mem = '1MB';
CREATE TEMP TABLE hwm (at text, kb bigint);
INSERT INTO hwm SELECT 'before', substring(pg_read_file('/proc/self/status') from 'VmHWM:\s*(\d+)')::bigint;
SELECT count(*) AS problems FROM incetl.verify('vbig');
INSERT INTO hwm SELECT 'after', substring(pg_read_file('/proc/self/status') from 'VmHWM:\s*(\d+)')::bigint;
-- (some 5 MB beyond the table's 10 MB now, 46 MB before)
SELECT (SELECT kb FROM hwm WHERE at = 'after') - (SELECT kb FROM hwm WHERE at = 'before')
       - pg_relation_size('vbig') / 1024 < 16 * 1024 AS peak_growth_beyond_table_under_16mb;

-- 2. That sort spilled beyond maintenance_work_mem (500,000 row numbers in
-- 1 MB), across the subtransactions each group is read in; with room it
-- does not
RESET maintenance_work_mem;
SELECT count(*) AS problems FROM incetl.verify('vbig');

-- 3. A catalog row that makes a second current group of group 1's extent:
-- the extents overlap, and every row number of group 1 is held twice; the
-- first is reported against the second group
CREATE TABLE vdup (id bigint, v text) USING incetl_cow;
SELECT incetl.set_table_options('vdup', record_key => 'id', file_group_rows => 100);
INSERT INTO vdup SELECT g, 'v' || g FROM generate_series(1, 250) g;
SELECT count(*) AS problems FROM incetl.verify('vdup');
INSERT INTO incetl.cow_file_group
SELECT storage_id, 1000 + file_group_id, commit_id, superseded_by, first_row_number,
       row_count, first_block, nblocks, header_bytes, bytes, raw_bytes, min_commit, max_commit
FROM incetl.cow_file_group
WHERE storage_id = incetl.cow_storage_id('vdup') AND file_group_id = 1;
SELECT file_group_id, regexp_replace(problem, '[0-9]+', 'N', 'g') AS problem
FROM incetl.verify('vdup') ORDER BY 1, 2;
SELECT problem ~ '^row number [0-9]+ is held by file group 1 too$' AS named
FROM incetl.verify('vdup') WHERE problem LIKE 'row number%';
DELETE FROM incetl.cow_file_group
WHERE storage_id = incetl.cow_storage_id('vdup') AND file_group_id = 1001;
SELECT count(*) AS problems FROM incetl.verify('vdup');

DROP SCHEMA cow_verify CASCADE;
