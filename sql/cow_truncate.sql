--
-- cow_truncate: TRUNCATE is a commit of the timeline (operation
-- 'truncate') whose changes are the deletion of every row.  The timeline
-- stays whole whatever the transaction did before (a second TRUNCATE, a
-- write), history before it stays readable while retained, and an empty
-- table records no commit.  Also: retain_commits counts commits, and
-- pg_stat_user_tables counts rows as a user sees them.
--
CREATE TABLE tr (id int, v text) USING incetl_cow;
SELECT incetl.set_table_options('tr', record_key => 'id', file_group_rows => 2);

-- 1. history before a TRUNCATE
INSERT INTO tr VALUES (1, 'a'), (2, 'b');
INSERT INTO tr VALUES (3, 'c');
TRUNCATE tr;
INSERT INTO tr VALUES (4, 'd');
SELECT commit_id, operation, rows_inserted, rows_updated, rows_deleted
FROM incetl.commits('tr') ORDER BY commit_id;
SELECT * FROM incetl.as_of(NULL::tr, 1) ORDER BY id;
SELECT * FROM incetl.as_of(NULL::tr, 2) ORDER BY id;
SELECT * FROM incetl.as_of(NULL::tr, 3) ORDER BY id;
SELECT * FROM incetl.as_of(NULL::tr, 4) ORDER BY id;
SELECT * FROM incetl.changes(NULL::tr, 0, 2) ORDER BY id;
SELECT * FROM incetl.changes(NULL::tr, 1, 2) ORDER BY id;
SELECT * FROM incetl.changes(NULL::tr, 2) ORDER BY id;
SELECT * FROM tr ORDER BY id;
SELECT count(*) AS problems FROM incetl.verify('tr');

-- a rolled back TRUNCATE leaves table and timeline as they were
BEGIN;
TRUNCATE tr;
SELECT count(*) FROM tr;
ROLLBACK;
SELECT * FROM tr ORDER BY id;
SELECT max(commit_id) AS last, count(*) AS commits FROM incetl.commits('tr');
SELECT * FROM incetl.as_of(NULL::tr, 2) ORDER BY id;

-- 2. a second TRUNCATE in one transaction keeps the timeline whole
BEGIN;
TRUNCATE tr;
INSERT INTO tr VALUES (5, 'e');
TRUNCATE tr;
COMMIT;
SELECT commit_id, operation, rows_inserted, rows_updated, rows_deleted
FROM incetl.commits('tr') ORDER BY commit_id;
SELECT incetl.latest_commit('tr');
SELECT * FROM incetl.as_of(NULL::tr, 6) ORDER BY id;
SELECT count(*) FROM tr;

-- ... and so does a TRUNCATE after a write in the same transaction, also
-- in a table created in it
BEGIN;
INSERT INTO tr VALUES (6, 'f');
TRUNCATE tr;
INSERT INTO tr VALUES (7, 'g');
COMMIT;
SELECT commit_id, operation, rows_inserted, rows_updated, rows_deleted
FROM incetl.commits('tr') ORDER BY commit_id DESC LIMIT 3;
-- the write before the TRUNCATE is commit 9, readable
SELECT * FROM incetl.as_of(NULL::tr, 9) ORDER BY id;
BEGIN;
CREATE TABLE tr_new (id int, v text) USING incetl_cow;
SELECT incetl.set_table_options('tr_new', record_key => 'id');
INSERT INTO tr_new VALUES (1, 'x');
TRUNCATE tr_new;
INSERT INTO tr_new VALUES (2, 'y');
COMMIT;
SELECT commit_id, operation, rows_inserted, rows_deleted FROM incetl.commits('tr_new');
SELECT * FROM incetl.as_of(NULL::tr_new, 1);
SELECT * FROM tr_new;

-- 3. TRUNCATE of an empty table changes nothing: no commit
TRUNCATE tr_new;    -- deletes row 2: commit 4
SELECT max(commit_id) AS last FROM incetl.commits('tr_new');
TRUNCATE tr_new;    -- empty
TRUNCATE tr_new;
SELECT max(commit_id) AS last, count(*) AS commits FROM incetl.commits('tr_new');

-- 4. versions superseded by a TRUNCATE go as any others: with retention
-- used up, as_of of the commits before it fails clearly
SELECT incetl.clean('tr', 1) > 0 AS cleaned;
SELECT * FROM incetl.as_of(NULL::tr, 2);
SELECT * FROM incetl.as_of(NULL::tr, 9) ORDER BY id;
SELECT * FROM incetl.as_of(NULL::tr, 11) ORDER BY id;
-- with retain_commits = 0 TRUNCATE keeps nothing and says so
SELECT incetl.set_table_options('tr_new', retain_commits => 0);
INSERT INTO tr_new VALUES (3, 'z');
TRUNCATE tr_new;
SELECT * FROM incetl.as_of(NULL::tr_new, 3);
SELECT operation, rows_deleted FROM incetl.commits('tr_new') ORDER BY commit_id DESC LIMIT 1;
SELECT count(*) FROM tr_new;
SELECT count(*) AS problems FROM incetl.verify('tr_new');

-- 5. retain_commits counts the commits commits() lists, not commit ids:
-- statements that change nothing leave gaps in the ids
CREATE TABLE rc (id int, p int) USING incetl_cow;
SELECT incetl.set_table_options('rc', record_key => 'id', precombine => 'p',
                                retain_commits => 2);
INSERT INTO rc VALUES (1, 10);
INSERT INTO rc VALUES (1, 11);
INSERT INTO rc VALUES (1, 1);    -- loses: no commit, an id is used
INSERT INTO rc VALUES (1, 2);    -- loses
INSERT INTO rc VALUES (1, 12);
SELECT commit_id FROM incetl.commits('rc') ORDER BY commit_id;
VACUUM rc;
-- the last two commits (2 and 5) stay readable
SELECT * FROM incetl.as_of(NULL::rc, 2);
SELECT * FROM incetl.as_of(NULL::rc, 5);
SELECT * FROM incetl.as_of(NULL::rc, 1);

-- 6. statistics: rows inserted, updated and deleted as the user sees them
CREATE TABLE st (id int, v text, d boolean) USING incetl_cow;
SELECT incetl.set_table_options('st', record_key => 'id', delete_marker => 'd');
INSERT INTO st VALUES (1, 'a', false);
INSERT INTO st VALUES (2, 'b', false);
INSERT INTO st VALUES (3, 'c', false);
INSERT INTO st VALUES (1, 'a2', false), (2, NULL, true);
UPDATE st SET v = 'c2' WHERE id = 3;
SELECT pg_stat_force_next_flush();
SELECT n_tup_ins, n_tup_upd, n_tup_del, n_live_tup, n_dead_tup
FROM pg_stat_user_tables WHERE relname = 'st';
-- VACUUM reclaims what it can: no dead rows are left to report
VACUUM st;
SELECT pg_stat_force_next_flush();
SELECT n_live_tup, n_dead_tup FROM pg_stat_user_tables WHERE relname = 'st';

-- 7. as_of across ALTER TABLE.  ADD COLUMN with a constant default does
-- not rewrite: as_of of an earlier commit reads the rows written before it
-- with the column's default, as the table itself does.  A rewrite (a
-- volatile default) keeps the timeline but not the versions before it:
-- as_of of those commits fails clearly rather than return no rows.
CREATE TABLE ac (id int, v text) USING incetl_cow;
SELECT incetl.set_table_options('ac', record_key => 'id');
INSERT INTO ac VALUES (1, 'a');
ALTER TABLE ac ADD COLUMN n int DEFAULT 7;
INSERT INTO ac VALUES (2, 'b', 8);
SELECT * FROM incetl.as_of(NULL::ac, 1) ORDER BY id;
SELECT * FROM incetl.as_of(NULL::ac, 2) ORDER BY id;
ALTER TABLE ac ADD COLUMN r float8 DEFAULT random();
SELECT commit_id, operation, rows_inserted FROM incetl.commits('ac') ORDER BY commit_id;
SELECT * FROM incetl.as_of(NULL::ac, 1);
SELECT id, v, n, r IS NOT NULL AS r_set FROM incetl.as_of(NULL::ac, 3) ORDER BY id;

DROP TABLE tr, tr_new, rc, st, ac;

-- 8. TRUNCATE twice in one transaction (the second empties storage the
-- first created, without a new file) on a table that retains commits and
-- has indexes that insert while they are built (hash, SP-GiST): the
-- rebuilt indexes start from their emptied files, not from the metapage
-- they cached before (fuzzer seed 226160389: "could not read block").
CREATE TABLE tt (k int, k2 int, v text) USING incetl_cow;
SELECT incetl.set_table_options('tt', record_key => 'k', file_group_rows => 16,
                                retain_commits => 2);
CREATE INDEX tt_hash ON tt USING hash (k2);
CREATE INDEX tt_spg ON tt USING spgist (v);
BEGIN;
TRUNCATE tt;
INSERT INTO tt SELECT g, g % 3, 'b' || g || repeat('x', 300) FROM generate_series(1, 3000) g;
TRUNCATE tt;
INSERT INTO tt SELECT g, g % 5, 'c' || g FROM generate_series(1, 2000, 7) g;
SET LOCAL enable_seqscan = off;
SET LOCAL enable_bitmapscan = off;
SELECT count(*), min(k), max(k) FROM tt WHERE k2 = 1;
SELECT count(*) FROM tt WHERE v LIKE 'c1%';
SELECT count(*) FROM tt WHERE v LIKE 'b%';
TRUNCATE tt;
SELECT count(*) FROM tt WHERE k2 = 1;
COMMIT;
INSERT INTO tt VALUES (1, 1, 'd1');
SET enable_seqscan = off;
SET enable_bitmapscan = off;
SELECT k, k2, v FROM tt WHERE k2 = 1;
RESET enable_seqscan;
RESET enable_bitmapscan;
DROP TABLE tt;

-- 9. A table that retains nothing (retain_commits 0), with a btree:
-- TRUNCATE then a reload in the same transaction -- the full-reload job --
-- and TRUNCATE of a table created in the transaction.  The truncated
-- versions' catalog rows, deleted but not yet committed, were still read
-- by the btree's bottom-up deletion during the reload, from the new empty
-- file ("has a corrupted header", XX001); the storage now starts under a
-- new storage id with the commits copied.
CREATE TABLE rz (id bigint, note text) USING incetl_cow;
SELECT incetl.set_table_options('rz', record_key => 'id', retain_commits => 0);
INSERT INTO rz SELECT g, 'old ' || g || ' ' || md5(g::text) FROM generate_series(1, 9000) g;
CREATE INDEX rz_id ON rz (id);
SELECT incetl.cow_storage_id('rz') AS rz_storage \gset
BEGIN;
TRUNCATE rz;
INSERT INTO rz SELECT g, 'new ' || g FROM generate_series(1, 9000) g;
SET LOCAL enable_seqscan = off;
SET LOCAL enable_bitmapscan = off;
SELECT id, note FROM rz WHERE id IN (10, 4000, 8000, 9500) ORDER BY id;
COMMIT;
SELECT count(*), count(*) FILTER (WHERE note LIKE 'new %') FROM rz;
SELECT incetl.cow_storage_id('rz') <> :rz_storage AS new_storage_id;
SELECT commit_id, operation, rows_inserted, rows_deleted FROM incetl.commits('rz') ORDER BY commit_id;
SELECT * FROM incetl.as_of(NULL::rz, 1) LIMIT 1;
SELECT count(*) FROM incetl.verify('rz');
-- created in the transaction: the truncate empties the same file
BEGIN;
CREATE TABLE rc0 (id bigint, note text) USING incetl_cow;
SELECT incetl.set_table_options('rc0', record_key => 'id', retain_commits => 0);
INSERT INTO rc0 SELECT g, 'old ' || g FROM generate_series(1, 9000) g;
CREATE INDEX rc0_id ON rc0 (id);
SET LOCAL enable_seqscan = off;
SET LOCAL enable_bitmapscan = off;
SELECT id, note FROM rc0 WHERE id = 4000;
TRUNCATE rc0;
INSERT INTO rc0 SELECT g, 'new ' || g FROM generate_series(1, 9000) g;
SELECT id, note FROM rc0 WHERE id IN (10, 4000, 8000, 9500) ORDER BY id;
COMMIT;
SELECT count(*), min(note), max(id) FROM rc0;
DROP TABLE rz, rc0;
