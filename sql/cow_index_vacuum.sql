-- Index entries after upserts: VACUUM and btree's own deletion remove the
-- entries of file group versions no snapshot sees as current any more,
-- retained or not (as_of, changes and restore read retained versions
-- without an index).  idx_entries counts the heap TIDs a btree holds,
-- posting lists included, from its leaf pages (pageinspect); amcheck's
-- heapallindexed check finds every row the table returns in the index.
SET client_min_messages = warning;	-- another test may have made them
CREATE EXTENSION IF NOT EXISTS pageinspect;
CREATE EXTENSION IF NOT EXISTS amcheck;
RESET client_min_messages;
CREATE FUNCTION idx_entries(idx regclass) RETURNS bigint LANGUAGE sql AS $$
    SELECT coalesce(sum(coalesce(cardinality(i.tids), 1)), 0)
    FROM generate_series(1, (pg_relation_size(idx) / 8192)::int - 1) AS p,
         LATERAL bt_page_stats(idx::text, p) AS s,
         LATERAL bt_page_items(idx::text, p) AS i
    WHERE s.type = 'l' AND NOT (s.btpo_next <> 0 AND i.itemoffset = 1)
$$;

CREATE TABLE ixv (id int, grp int, v text) USING incetl_cow;
SELECT incetl.set_table_options('ixv', record_key => 'id', file_group_rows => 250);
CREATE INDEX ixv_id ON ixv (id);
CREATE INDEX ixv_grp ON ixv (grp) WHERE grp < 5;
INSERT INTO ixv SELECT g, g % 10, 'v0 ' || g FROM generate_series(1, 1000) g;
-- a savepoint on the first commit: its versions stay readable
SELECT incetl.savepoint('ixv', incetl.latest_commit('ixv'), 'loaded') > 0 AS pinned;
VACUUM ixv;
SELECT idx_entries('ixv_id') AS id_entries, idx_entries('ixv_grp') AS grp_entries;

-- five upserts, each touching every file group (every row a new row number)
DO $$
BEGIN
    FOR r IN 1..5 LOOP
        EXECUTE format($q$INSERT INTO ixv SELECT g, g %% 10, 'v%s ' || g
                        FROM generate_series(%s, 1000, 50) g$q$, r, r);
    END LOOP;
END $$;
INSERT INTO ixv SELECT g, g % 10, 'new ' || g FROM generate_series(1001, 1020) g;
SELECT count(*) AS commits FROM incetl.commits('ixv');
-- entries of superseded versions are still there until VACUUM or btree
SELECT idx_entries('ixv_id') > 1020 AS stale_entries_before_vacuum;
VACUUM ixv;
-- one entry per row, none for the retained versions
SELECT idx_entries('ixv_id') AS id_entries, idx_entries('ixv_grp') AS grp_entries,
       (SELECT count(*) FROM ixv) AS rows_, (SELECT count(*) FROM ixv WHERE grp < 5) AS grp_rows;
SELECT bt_index_check('ixv_id', true), bt_index_check('ixv_grp', true);
SELECT bt_index_parent_check('ixv_id', true);

-- the retained versions are still readable: as_of of the savepoint and of
-- a commit within retention
SELECT count(*), count(*) FILTER (WHERE v LIKE 'v0 %') AS first_load
FROM incetl.as_of(NULL::ixv, (SELECT min(commit_id) FROM incetl.commits('ixv')));
SELECT count(*) FILTER (WHERE v LIKE 'v3 %') AS third_round
FROM incetl.as_of(NULL::ixv, (SELECT commit_id FROM incetl.commits('ixv') ORDER BY commit_id OFFSET 3 LIMIT 1));

-- index scans return what the table holds
SET enable_seqscan = off;
SET enable_bitmapscan = off;
EXPLAIN (COSTS OFF) SELECT * FROM ixv WHERE id BETWEEN 100 AND 110;
SELECT id, v FROM ixv WHERE id IN (1, 2, 51, 500, 1000, 1020) ORDER BY id;
SELECT count(*) FROM ixv WHERE id BETWEEN 1 AND 2000;
SELECT count(*) FROM ixv WHERE grp < 5 AND grp = 3;
RESET enable_seqscan;
RESET enable_bitmapscan;
SELECT count(*) FROM ixv WHERE grp = 3;

-- restore writes the savepoint's rows back at new row numbers and indexes them
SELECT incetl.restore('ixv', (SELECT min(commit_id) FROM incetl.commits('ixv'))) > 0 AS restored;
VACUUM ixv;
SELECT idx_entries('ixv_id') AS id_entries, (SELECT count(*) FROM ixv) AS rows_;
SELECT bt_index_check('ixv_id', true);
SET enable_seqscan = off;
SET enable_bitmapscan = off;
SELECT id, v FROM ixv WHERE id IN (1, 51, 1000, 1020) ORDER BY id;
RESET enable_seqscan;
RESET enable_bitmapscan;

-- a rolled back upsert leaves entries no snapshot can use: VACUUM removes them
BEGIN;
INSERT INTO ixv SELECT g, g % 10, 'gone' FROM generate_series(1, 1000, 7) g;
ROLLBACK;
VACUUM ixv;
SELECT idx_entries('ixv_id') AS id_entries;

-- between VACUUMs, btree deletes the entries of versions nobody sees any
-- more before it splits a page: twelve upserts (each its own transaction)
-- rewriting every file group leave the index at most twice its size
-- rather than holding thirteen entries per row (pages that never fill keep
-- their dead entries until VACUUM)
SELECT pg_relation_size('ixv_id') AS size0 \gset
SELECT format($q$INSERT INTO ixv SELECT g, g %% 10, 'w%s ' || g
                 FROM generate_series(%s, 1000, 25) g$q$, r, r)
FROM generate_series(1, 12) r \gexec
SELECT pg_relation_size('ixv_id') <= 2 * :size0 AS bounded_without_vacuum;
VACUUM ixv;
SELECT idx_entries('ixv_id') AS id_entries;
SELECT bt_index_check('ixv_id', true);

-- incetl.clean does the same as VACUUM
INSERT INTO ixv SELECT g, g % 10, 'c ' || g FROM generate_series(1, 1000, 3) g;
SELECT incetl.clean('ixv', 2) >= 0 AS cleaned;
SELECT idx_entries('ixv_id') AS id_entries;

DROP TABLE ixv;
DROP FUNCTION idx_entries(regclass);
DROP EXTENSION amcheck;
