-- incetl_cow: savepoints and restore.
--
-- incetl.savepoint(tbl, commit) pins a commit: cleaning (clean, VACUUM,
-- TRUNCATE with retain_commits 0) keeps every version as_of() of it reads,
-- and as_of() of it keeps working once the clean horizon moved past it.
-- VACUUM FULL and ALTER TABLE rewrites carry over only the current versions:
-- they drop the savepoints whose history they drop, with a WARNING.
-- incetl.restore(tbl, commit) makes the table's content that of
-- as_of(commit) as one 'restore' commit.
CREATE SCHEMA cow_sp;
SET search_path = cow_sp, public;

CREATE TABLE t (id int, v text, u int) USING incetl_cow;
SELECT incetl.set_table_options('t', record_key => 'id', precombine => 'u',
                                file_group_rows => 2);
INSERT INTO t VALUES (1, 'a', 1), (2, 'b', 1), (3, 'c', 1), (4, 'd', 1);  -- 1
INSERT INTO t VALUES (1, 'a2', 2);                                        -- 2
INSERT INTO t VALUES (3, 'c3', 3), (5, 'e', 3);                           -- 3
DELETE FROM t WHERE id = 2;                                               -- 4
INSERT INTO t VALUES (6, 'f', 5);                                         -- 5
SELECT commit_id, operation, rows_inserted, rows_updated, rows_deleted
FROM incetl.commits('t') ORDER BY commit_id;

-- pin commit 2 (and the newest, 5, by default); the ids are returned
SELECT incetl.savepoint('t', 2, 'before the bad load');
SELECT incetl.savepoint('t');
SELECT commit_id, operation, created_by = current_user AS by_me, comment
FROM incetl.savepoints('t');
-- a commit pinned twice is refused
SELECT incetl.savepoint('t', 2);
\echo :LAST_ERROR_SQLSTATE

CREATE TABLE at2 AS SELECT * FROM incetl.as_of(NULL::t, 2);
CREATE TABLE retained_before AS
SELECT versions_retained FROM incetl.table_stats('t');
SELECT versions_retained FROM retained_before;

-- clean everything outside retention: what as_of(2) reads stays, the rest
-- of the history goes (commit 3, pinned by nothing, is gone)
SELECT incetl.clean('t', 0);
SELECT versions_retained, versions_retained < (SELECT versions_retained FROM retained_before)
       AS fewer
FROM incetl.table_stats('t');
SELECT count(*) AS missing FROM (TABLE at2 EXCEPT ALL
                                 SELECT * FROM incetl.as_of(NULL::t, 2)) d;
SELECT count(*) AS extra FROM (SELECT * FROM incetl.as_of(NULL::t, 2)
                               EXCEPT ALL TABLE at2) d;
SELECT * FROM incetl.as_of(NULL::t, 3);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM incetl.changes(NULL::t, 1, 2) ORDER BY id;
-- VACUUM with retain_commits 0 keeps it too
SELECT incetl.set_table_options('t', retain_commits => 0);
VACUUM t;
SELECT count(*) AS differences FROM (
    (TABLE at2 EXCEPT ALL SELECT * FROM incetl.as_of(NULL::t, 2))
    UNION ALL
    (SELECT * FROM incetl.as_of(NULL::t, 2) EXCEPT ALL TABLE at2)) d;
SELECT versions_retained FROM incetl.table_stats('t');

-- a cleaned commit cannot be pinned; the hint names the oldest readable
SELECT incetl.savepoint('t', 3);
\echo :LAST_ERROR_SQLSTATE

-- restore(2): the content becomes as_of(2), as one 'restore' commit:
-- 2 comes back (insert), 3 goes back to c (update), 5 and 6 go (deletes)
BEGIN;
SELECT incetl.restore('t', 2);
-- what the transaction wrote, as for any write
SELECT * FROM incetl.cow_write_counts('t');
COMMIT;
SELECT commit_id, operation, rows_inserted, rows_updated, rows_deleted,
       file_groups_written
FROM incetl.commits('t') ORDER BY commit_id DESC LIMIT 1;
SELECT count(*) AS differences FROM (
    (TABLE at2 EXCEPT ALL TABLE t) UNION ALL (TABLE t EXCEPT ALL TABLE at2)) d;
SELECT * FROM t ORDER BY id;
-- rows keep the commit that wrote them: changes since 1 are the row of 2
SELECT * FROM incetl.changes(NULL::t, 1) ORDER BY id;
-- the change feed of the restore commit: what the counts say, and keys 1
-- and 4 (the same row before and after) are not reported
SELECT operation, (before).id AS before_id, (before).v AS before_v,
       (after).id AS after_id, (after).v AS after_v
FROM incetl.table_changes(NULL::t, 5, 6) ORDER BY coalesce((after).id, (before).id);
SELECT * FROM incetl.verify('t');
-- restoring the content the table has records nothing: the newest commit
SELECT incetl.restore('t', 6) AS restored, incetl.latest_commit('t') AS latest;
SELECT count(*) FROM incetl.commits('t');

-- further upserts build on the restored rows
INSERT INTO t VALUES (2, 'b7', 7), (7, 'g', 7);                           -- 7
SELECT * FROM t ORDER BY id;
SELECT commit_id, operation, rows_inserted, rows_updated, rows_deleted
FROM incetl.commits('t') ORDER BY commit_id DESC LIMIT 1;

-- removing the savepoint lets cleaning take its history
SELECT incetl.remove_savepoint('t', 2), incetl.remove_savepoint('t', 2);
SELECT commit_id FROM incetl.savepoints('t');
VACUUM t;
SELECT * FROM incetl.as_of(NULL::t, 2);
\echo :LAST_ERROR_SQLSTATE

-- restore through an index: index scans return the restored rows
CREATE TABLE ix (id int, v text) USING incetl_cow;
SELECT incetl.set_table_options('ix', record_key => 'id', file_group_rows => 3);
CREATE INDEX ix_v ON ix (v);
INSERT INTO ix SELECT g, 'v' || g FROM generate_series(1, 9) g;           -- 1
UPDATE ix SET v = 'w' || id WHERE id % 2 = 0;                             -- 2
DELETE FROM ix WHERE id > 6;                                              -- 3
SELECT incetl.restore('ix', 1);
SET enable_seqscan = off;
SET enable_bitmapscan = off;
EXPLAIN (COSTS OFF) SELECT * FROM ix WHERE v = 'v4';
SELECT * FROM ix WHERE v = 'v4';
SELECT * FROM ix WHERE v = 'w4';
SELECT count(*) FROM ix WHERE v >= 'v';
RESET enable_seqscan;
RESET enable_bitmapscan;
SELECT commit_id, operation, rows_inserted, rows_updated, rows_deleted
FROM incetl.commits('ix') ORDER BY commit_id DESC LIMIT 1;

-- a keyless table: rows are told apart by the commit that wrote them
CREATE TABLE nk (x int, y text) USING incetl_cow;
INSERT INTO nk VALUES (1, 'a'), (2, 'b');                                 -- 1
INSERT INTO nk VALUES (3, 'c');                                           -- 2
DELETE FROM nk WHERE x = 1;                                               -- 3
SELECT incetl.restore('nk', 2);
SELECT * FROM nk ORDER BY x;
SELECT commit_id, operation, rows_inserted, rows_updated, rows_deleted
FROM incetl.commits('nk') ORDER BY commit_id DESC LIMIT 1;
SELECT incetl.restore('nk', 1);
SELECT * FROM nk ORDER BY x;
SELECT commit_id, operation, rows_inserted, rows_updated, rows_deleted
FROM incetl.commits('nk') ORDER BY commit_id DESC LIMIT 1;

-- TRUNCATE with retain_commits 0 keeps a savepoint's history; restore
-- brings the rows back
CREATE TABLE tr (id int, v text) USING incetl_cow;
SELECT incetl.set_table_options('tr', record_key => 'id', retain_commits => 0);
INSERT INTO tr VALUES (1, 'a'), (2, 'b');                                 -- 1
SELECT incetl.savepoint('tr', 1);
TRUNCATE tr;                                                              -- 2
VACUUM tr;
SELECT * FROM incetl.as_of(NULL::tr, 1) ORDER BY id;
SELECT incetl.restore('tr', 1);
SELECT * FROM tr ORDER BY id;
SELECT commit_id, operation, rows_inserted, rows_updated, rows_deleted
FROM incetl.commits('tr') ORDER BY commit_id;

-- VACUUM FULL keeps the savepoint of the last commit and drops the older
-- ones, saying so; ALTER TABLE's rewrite commit drops the rest
CREATE TABLE vf (id int, v text) USING incetl_cow;
SELECT incetl.set_table_options('vf', record_key => 'id');
INSERT INTO vf VALUES (1, 'a');                                           -- 1
INSERT INTO vf VALUES (1, 'b');                                           -- 2
INSERT INTO vf VALUES (2, 'c');                                           -- 3
SELECT incetl.savepoint('vf', 1), incetl.savepoint('vf', 2),
       incetl.savepoint('vf', 3);
VACUUM FULL vf;
SELECT commit_id FROM incetl.savepoints('vf');
SELECT * FROM incetl.as_of(NULL::vf, 3) ORDER BY id;
SELECT * FROM incetl.as_of(NULL::vf, 1);
\echo :LAST_ERROR_SQLSTATE
ALTER TABLE vf ALTER COLUMN v TYPE varchar(10);
SELECT commit_id FROM incetl.savepoints('vf');
-- the savepoints of a dropped table go with it
SELECT incetl.savepoint('vf');
CREATE TABLE sp_count AS
SELECT count(*) AS n FROM incetl.cow_savepoint
WHERE storage_id = incetl.cow_storage_id('vf');
SELECT n FROM sp_count;
CREATE TABLE vf_storage AS SELECT incetl.cow_storage_id('vf') AS id;
DROP TABLE vf;
SELECT count(*) FROM incetl.cow_savepoint WHERE storage_id = (SELECT id FROM vf_storage);

-- errors
SELECT incetl.savepoint('t', 99);              -- beyond the newest commit
\echo :LAST_ERROR_SQLSTATE
SELECT incetl.restore('t', 99);
\echo :LAST_ERROR_SQLSTATE
-- commit ids have gaps and are per table: id 2 of p was taken by an upsert
-- that changed nothing; o has a commit 2, p does not
CREATE TABLE o (id int) USING incetl_cow;
INSERT INTO o VALUES (1);
INSERT INTO o VALUES (2);
CREATE TABLE p (id int, u int) USING incetl_cow;
SELECT incetl.set_table_options('p', record_key => 'id', precombine => 'u');
INSERT INTO p VALUES (1, 5);                                              -- 1
INSERT INTO p VALUES (1, 4);                           -- 2: changes nothing
INSERT INTO p VALUES (2, 5);                                              -- 3
SELECT (SELECT array_agg(commit_id ORDER BY commit_id) FROM incetl.commits('o')) AS o,
       (SELECT array_agg(commit_id ORDER BY commit_id) FROM incetl.commits('p')) AS p;
SELECT incetl.savepoint('p', 2);
\echo :LAST_ERROR_SQLSTATE
SELECT incetl.restore('p', 2);
\echo :LAST_ERROR_SQLSTATE
SELECT incetl.savepoint('p', 0);
\echo :LAST_ERROR_SQLSTATE
SELECT incetl.restore('t', 3);                 -- cleaned
\echo :LAST_ERROR_SQLSTATE
SELECT incetl.savepoint('t', NULL::bigint, NULL);  -- NULL: the newest
SELECT incetl.savepoint(NULL, 1);
\echo :LAST_ERROR_SQLSTATE
SELECT incetl.restore('t', NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT incetl.remove_savepoint('t', NULL);
\echo :LAST_ERROR_SQLSTATE
CREATE TABLE heap_t (id int);
SELECT incetl.savepoint('heap_t', 1);
\echo :LAST_ERROR_SQLSTATE
SELECT incetl.restore('heap_t', 1);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM incetl.savepoints('heap_t');
\echo :LAST_ERROR_SQLSTATE

-- owner only: a role that may SELECT (and write) may list, not pin or restore
CREATE ROLE regress_cow_sp_reader;
GRANT USAGE ON SCHEMA cow_sp TO regress_cow_sp_reader;
GRANT SELECT, INSERT ON t TO regress_cow_sp_reader;
SET ROLE regress_cow_sp_reader;
SELECT commit_id FROM incetl.savepoints('t');
SELECT incetl.savepoint('t', 7);
\echo :LAST_ERROR_SQLSTATE
SELECT incetl.remove_savepoint('t', 7);
\echo :LAST_ERROR_SQLSTATE
SELECT incetl.restore('t', 7);
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
REVOKE SELECT, INSERT ON t FROM regress_cow_sp_reader;
SET ROLE regress_cow_sp_reader;
SELECT commit_id FROM incetl.savepoints('t');
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;

-- restore refuses to run inside a statement whose writes are buffered
CREATE FUNCTION restore_in(c bigint) RETURNS bigint LANGUAGE sql
AS $$ SELECT incetl.restore('cow_sp.t', c) $$;
INSERT INTO t SELECT g, 'h', CASE WHEN g = 9 THEN restore_in(7)::int END
FROM generate_series(8, 9) g;
\echo :LAST_ERROR_SQLSTATE

DROP SCHEMA cow_sp CASCADE;
DROP ROLE regress_cow_sp_reader;
