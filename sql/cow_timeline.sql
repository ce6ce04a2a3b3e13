-- incetl_cow timeline: commits, incremental queries (changes), time travel
-- (as_of), retention.
CREATE SCHEMA cow_timeline;
SET search_path = cow_timeline, public;

CREATE TABLE tl (id int, v text, ts int) USING incetl_cow;
SELECT incetl.set_table_options('tl', record_key => 'id', precombine => 'ts',
                                file_group_rows => 3, retain_commits => 3);
SELECT incetl.latest_commit('tl');
INSERT INTO tl VALUES (1, 'a', 1), (2, 'b', 1), (3, 'c', 1), (4, 'd', 1), (5, 'e', 1);  -- 1
INSERT INTO tl VALUES (2, 'b2', 2), (5, 'e2', 2);                                       -- 2
DELETE FROM tl WHERE id = 3;                                                             -- 3
INSERT INTO tl VALUES (6, 'f', 1);                                                       -- 4
SELECT commit_id, operation, rows_inserted, rows_updated, rows_deleted
FROM incetl.commits('tl');
SELECT incetl.latest_commit('tl');

-- incremental queries
SELECT * FROM incetl.changes(NULL::tl, 0) ORDER BY id;
SELECT * FROM incetl.changes(NULL::tl, 1) ORDER BY id;
SELECT * FROM incetl.changes(NULL::tl, 2) ORDER BY id;
SELECT * FROM incetl.changes(NULL::tl, 4) ORDER BY id;
SELECT * FROM incetl.changes(NULL::tl, 1, 2) ORDER BY id;
SELECT * FROM incetl.changes(NULL::tl, 0, 1) ORDER BY id;

-- time travel
SELECT * FROM incetl.as_of(NULL::tl, 1) ORDER BY id;
SELECT * FROM incetl.as_of(NULL::tl, 2) ORDER BY id;
SELECT * FROM incetl.as_of(NULL::tl, 3) ORDER BY id;
SELECT * FROM incetl.as_of(NULL::tl, 4) ORDER BY id;
SELECT * FROM incetl.as_of(NULL::tl, 99);

-- retention: cleaning past retain_commits makes old commits unavailable
INSERT INTO tl VALUES (1, 'a5', 5);                                                      -- 5
INSERT INTO tl VALUES (1, 'a6', 6);                                                      -- 6
VACUUM tl;
SELECT * FROM incetl.as_of(NULL::tl, 1) ORDER BY id;
SELECT * FROM incetl.as_of(NULL::tl, 4) ORDER BY id;
SELECT incetl.clean('tl', 0) > 0 AS cleaned;
SELECT * FROM incetl.as_of(NULL::tl, 5) ORDER BY id;
SELECT * FROM incetl.as_of(NULL::tl, 6) ORDER BY id;

-- a pipeline-style incremental read in one snapshot
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT incetl.latest_commit('tl') AS upto \gset
SELECT count(*) FROM incetl.changes(NULL::tl, 0, :upto);
COMMIT;

-- bad arguments
SELECT * FROM incetl.changes(NULL::int, 0);
SELECT * FROM incetl.changes(NULL::tl, NULL);
CREATE TABLE plain (a int);
SELECT * FROM incetl.changes(NULL::plain, 0);

-- row-level security cannot be applied by changes() / as_of()
CREATE ROLE regress_cow_reader;
GRANT USAGE ON SCHEMA cow_timeline TO regress_cow_reader;
GRANT SELECT ON tl TO regress_cow_reader;
ALTER TABLE tl ENABLE ROW LEVEL SECURITY;
CREATE POLICY only_one ON tl FOR SELECT TO regress_cow_reader USING (id = 1);
SET ROLE regress_cow_reader;
SELECT id FROM tl ORDER BY id;
SELECT * FROM incetl.changes(NULL::tl, 0);
SELECT * FROM incetl.as_of(NULL::tl, 6);
RESET ROLE;
SELECT count(*) FROM incetl.changes(NULL::tl, 0);
DROP POLICY only_one ON tl;
REVOKE ALL ON tl FROM regress_cow_reader;
REVOKE USAGE ON SCHEMA cow_timeline FROM regress_cow_reader;
DROP ROLE regress_cow_reader;

RESET search_path;
SET client_min_messages = warning;
DROP SCHEMA cow_timeline CASCADE;
