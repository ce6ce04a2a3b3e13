-- incetl_cow: as_of() / changes(..., until) below the clean horizon.
--
-- Cleaning (VACUUM, incetl.clean), VACUUM FULL and ALTER TABLE rewrites set
-- the clean horizon: versions superseded at or before it may be gone.  A
-- commit's history is gone only when a recorded commit lies between it and
-- the horizon; commit ids taken by statements that changed nothing (every
-- incoming row older than the stored one) or rolled back record no commit
-- and supersede nothing, so they never make a commit unreadable.
CREATE SCHEMA cow_tl_horizon;
SET search_path = cow_tl_horizon, public;

CREATE TABLE tu (id int, v text, u int) USING incetl_cow;
SELECT incetl.set_table_options('tu', record_key => 'id', precombine => 'u',
                                retain_commits => 0);
INSERT INTO tu VALUES (1, 'a', 1), (2, 'b', 1);                          -- 1
INSERT INTO tu VALUES (1, 'a2', 2);                                      -- 2
INSERT INTO tu VALUES (1, 'old', 0);              -- 3: changes nothing
BEGIN;
INSERT INTO tu VALUES (3, 'c', 1);                -- 4: rolled back
ROLLBACK;
SELECT commit_id, operation FROM incetl.commits('tu') ORDER BY commit_id;
SELECT incetl.latest_commit('tu');

-- VACUUM with retain_commits 0 cleans up to the last id taken (4): the
-- latest commit (2) is still the table as it is
VACUUM tu;
SELECT versions_retained FROM incetl.table_stats('tu');
SELECT * FROM incetl.as_of(NULL::tu, incetl.latest_commit('tu')) ORDER BY id;
SELECT * FROM incetl.changes(NULL::tu, 1, incetl.latest_commit('tu')) ORDER BY id;
SELECT * FROM incetl.as_of(NULL::tu, 3) ORDER BY id;
-- commit 1's history is gone (commit 2 superseded a version): the hint
-- names the oldest commit still readable
SELECT * FROM incetl.as_of(NULL::tu, 1);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM incetl.changes(NULL::tu, 0, 1);
\echo :LAST_ERROR_SQLSTATE

-- VACUUM FULL keeps the current versions: the latest commit stays
-- readable, also once a later write has taken the next commit id
VACUUM FULL tu;
SELECT * FROM incetl.as_of(NULL::tu, 2) ORDER BY id;
INSERT INTO tu VALUES (2, 'b5', 5);                                      -- 5
SELECT * FROM incetl.as_of(NULL::tu, 2) ORDER BY id;
SELECT * FROM incetl.as_of(NULL::tu, 5) ORDER BY id;
SELECT * FROM incetl.changes(NULL::tu, 2, 5) ORDER BY id;
SELECT * FROM incetl.as_of(NULL::tu, 1);

-- an ALTER TABLE rewrite is a 'rewrite' commit carrying every row: the
-- commits before it are no longer readable, the rewrite's own is
INSERT INTO tu VALUES (2, 'stale', 0);            -- 6: changes nothing
ALTER TABLE tu ALTER COLUMN u TYPE bigint;                               -- 7
SELECT commit_id, operation, rows_inserted, rows_updated, rows_deleted
FROM incetl.commits('tu') ORDER BY commit_id;
SELECT * FROM incetl.as_of(NULL::tu, 7) ORDER BY id;
SELECT * FROM incetl.as_of(NULL::tu, 6);
SELECT * FROM incetl.changes(NULL::tu, 0, 5);
-- a table converted from heap starts its timeline with an ordinary commit
CREATE TABLE conv (id int, v text);
INSERT INTO conv VALUES (1, 'x');
ALTER TABLE conv SET ACCESS METHOD incetl_cow;
SELECT commit_id, operation FROM incetl.commits('conv');
SELECT * FROM incetl.as_of(NULL::conv, 1);

-- A pipeline reading an incetl_cow source with retain_commits 0: its last
-- statements changed nothing (a stale upsert that lost to newer rows), then
-- VACUUM.  The run reads changes() up to the source's latest commit.
CREATE TABLE src (id int, val text, updated_at timestamptz) USING incetl_cow;
SELECT incetl.set_table_options('src', record_key => 'id',
                                precombine => 'updated_at', retain_commits => 0);
INSERT INTO src SELECT g, 'v' || g, '2026-01-01' FROM generate_series(1, 3) g;
CREATE TABLE dst (id int PRIMARY KEY, val text, updated_at timestamptz);
SELECT incetl.create_pipeline('cow_tl_horizon', 'cow_tl_horizon.src', 'updated_at',
                              'cow_tl_horizon.dst', 'id', precombine => 'updated_at');
SELECT incetl_run('cow_tl_horizon');
INSERT INTO src VALUES (2, 'v2 new', '2026-01-02');
INSERT INTO src VALUES (3, 'v3 stale', '2025-12-31');
VACUUM src;
SELECT incetl_run('cow_tl_horizon');
SELECT status, records_read FROM incetl.run_log
WHERE pipeline_name = 'cow_tl_horizon' ORDER BY run_id DESC LIMIT 1;
SELECT * FROM dst ORDER BY id;
SELECT watermark_commit = incetl.latest_commit('cow_tl_horizon.src') AS at_latest
FROM incetl.watermarks WHERE pipeline_name = 'cow_tl_horizon';
SELECT incetl.drop_pipeline('cow_tl_horizon');

RESET search_path;
DROP SCHEMA cow_tl_horizon CASCADE;
