-- incetl_cow change feed: table_changes() (per commit and key) and
-- net_changes() (per key over a range), against an oracle computed from
-- as_of() and changes(), and composed commit by commit.
CREATE SCHEMA cow_changefeed;
SET search_path = cow_changefeed, public;

-- feed_check(tbl, keys, since, until): net_changes(since, until) against
--   keyed (keys: the record key columns, comma-separated): as_of(since)
--     FULL JOIN as_of(until) on the key; a key in both changed when its row
--     at until was written after since (changes(since, until));
--   keyless (keys NULL): deleted = as_of(since) EXCEPT ALL the rows at
--     until written before since; inserted = changes(since, until);
-- and table_changes(since, until) composed per key (first before, last
-- after; keyless: all deletes and inserts as multisets) against
-- net_changes; and the order of both (table_changes: commit, then key;
-- net_changes: key).  Returns the changes counted by operation, or what
-- differs.
CREATE FUNCTION feed_check(tbl regclass, keys text, since bigint,
                           until bigint DEFAULT NULL)
RETURNS text LANGUAGE plpgsql AS $f$
DECLARE
    u bigint := coalesce(until, incetl.latest_commit(tbl), 0);
    t text := tbl::text;
    net text;
    oracle text;
    comp text;
    kexpr text;
    bad_oracle bigint;
    bad_comp bigint;
    bad_order bigint := 0;
    counts text;
BEGIN
    net := format('SELECT operation AS op, before::text AS b, after::text AS a
                   FROM incetl.net_changes(NULL::%s, %s, %s)', t, since, u);
    IF keys IS NULL THEN
        oracle := format($q$
            SELECT 'delete' AS op, x::text AS b, NULL::text AS a FROM (
                SELECT * FROM incetl.as_of(NULL::%1$s, %2$s)
                EXCEPT ALL
                (SELECT * FROM incetl.as_of(NULL::%1$s, %3$s)
                 EXCEPT ALL
                 SELECT * FROM incetl.changes(NULL::%1$s, %2$s, %3$s))) x
            UNION ALL
            SELECT 'insert', NULL, x::text
            FROM incetl.changes(NULL::%1$s, %2$s, %3$s) x$q$, t, since, u);
        comp := format($q$
            WITH c AS (SELECT * FROM incetl.table_changes(NULL::%1$s, %2$s, %3$s))
            SELECT 'delete' AS op, x AS b, NULL::text AS a FROM (
                SELECT before::text FROM c WHERE operation = 'delete'
                EXCEPT ALL SELECT after::text FROM c WHERE operation = 'insert') d(x)
            UNION ALL
            SELECT 'insert', NULL, x FROM (
                SELECT after::text FROM c WHERE operation = 'insert'
                EXCEPT ALL SELECT before::text FROM c WHERE operation = 'delete') i(x)$q$,
            t, since, u);
    ELSE
        SELECT string_agg(format('(coalesce(after, before)).%I', k), ', ')
        INTO kexpr FROM unnest(string_to_array(keys, ',')) k;
        oracle := format($q$
            SELECT CASE WHEN o_ IS NULL THEN 'insert' WHEN n_ IS NULL THEN 'delete'
                        ELSE 'update' END AS op, o_ AS b, n_ AS a
            FROM (SELECT old_::text AS o_, new_::text AS n_
                  FROM (SELECT * FROM incetl.as_of(NULL::%1$s, %2$s)) old_
                  FULL JOIN (SELECT * FROM incetl.as_of(NULL::%1$s, %3$s)) new_
                  USING (%4$s)
                  WHERE old_::text IS NULL OR new_::text IS NULL
                     OR (%4$s) IN (SELECT %4$s FROM incetl.changes(NULL::%1$s, %2$s, %3$s))) s$q$,
            t, since, u, keys);
        comp := format($q$
            WITH c AS (SELECT commit_id, before, after, ROW(%4$s) AS k
                       FROM incetl.table_changes(NULL::%1$s, %2$s, %3$s)),
                 f AS (SELECT DISTINCT ON (k) k, before FROM c ORDER BY k, commit_id),
                 l AS (SELECT DISTINCT ON (k) k, after FROM c ORDER BY k, commit_id DESC)
            SELECT CASE WHEN b IS NULL THEN 'insert' WHEN a IS NULL THEN 'delete'
                        ELSE 'update' END AS op, b, a
            FROM (SELECT f.before::text AS b, l.after::text AS a
                  FROM f JOIN l USING (k)) s
            WHERE b IS NOT NULL OR a IS NOT NULL$q$, t, since, u, kexpr);
        EXECUTE format($q$
            SELECT count(*) FILTER (WHERE k < prev)
            FROM (SELECT ROW(commit_id, %4$s) AS k,
                         lag(ROW(commit_id, %4$s)) OVER (ORDER BY n) AS prev
                  FROM incetl.table_changes(NULL::%1$s, %2$s, %3$s) WITH ORDINALITY AS x(commit_id, operation, before, after, n)) s$q$,
            t, since, u, kexpr) INTO bad_order;
        EXECUTE format($q$
            SELECT %5$s + count(*) FILTER (WHERE k <= prev)
            FROM (SELECT ROW(%4$s) AS k, lag(ROW(%4$s)) OVER (ORDER BY n) AS prev
                  FROM incetl.net_changes(NULL::%1$s, %2$s, %3$s) WITH ORDINALITY AS x(commit_id, operation, before, after, n)) s$q$,
            t, since, u, kexpr, bad_order) INTO bad_order;
    END IF;
    EXECUTE format('SELECT count(*) FROM (((%1$s) EXCEPT ALL (%2$s)) UNION ALL ((%2$s) EXCEPT ALL (%1$s))) x',
                   net, oracle) INTO bad_oracle;
    EXECUTE format('SELECT count(*) FROM (((%1$s) EXCEPT ALL (%2$s)) UNION ALL ((%2$s) EXCEPT ALL (%1$s))) x',
                   net, comp) INTO bad_comp;
    EXECUTE format($q$SELECT format('insert %%s update %%s delete %%s',
                                    count(*) FILTER (WHERE op = 'insert'),
                                    count(*) FILTER (WHERE op = 'update'),
                                    count(*) FILTER (WHERE op = 'delete'))
                      FROM (%s) n$q$, net) INTO counts;
    IF bad_oracle = 0 AND bad_comp = 0 AND bad_order = 0 THEN
        RETURN counts;
    END IF;
    RETURN format('%s: %s rows differ from the oracle, %s from table_changes composed, %s out of order',
                  counts, bad_oracle, bad_comp, bad_order);
END
$f$;

-- feed_check over every pair of commits (0 included) of tbl: the pairs
-- that fail, or 'all N pairs ok'
CREATE FUNCTION feed_check_all(tbl regclass, keys text)
RETURNS text LANGUAGE plpgsql AS $f$
DECLARE
    s bigint;
    u bigint;
    r text;
    n int := 0;
    bad text := '';
BEGIN
    FOR s IN SELECT 0 UNION SELECT commit_id FROM incetl.commits(tbl) ORDER BY 1 LOOP
        FOR u IN SELECT 0 UNION SELECT commit_id FROM incetl.commits(tbl) ORDER BY 1 LOOP
            CONTINUE WHEN u < s;
            r := feed_check(tbl, keys, s, u);
            n := n + 1;
            IF r LIKE '%differ%' THEN
                bad := bad || format(' (%s, %s]: %s;', s, u, r);
            END IF;
        END LOOP;
    END LOOP;
    RETURN CASE WHEN bad = '' THEN format('all %s pairs ok', n) ELSE bad END;
END
$f$;

-- ---------------------------------------------------------------------
-- int key, precombine, delete marker, several file groups
-- ---------------------------------------------------------------------
CREATE TABLE ki (id int, v text, ts int, del bool) USING incetl_cow;
SELECT incetl.set_table_options('ki', record_key => 'id', precombine => 'ts',
                                delete_marker => 'del', file_group_rows => 4);
SELECT * FROM incetl.table_changes(NULL::ki, 0);          -- no commit yet
SELECT * FROM incetl.net_changes(NULL::ki, 0);
INSERT INTO ki SELECT g, 'v' || g, 1, false FROM generate_series(1, 12) g;
SELECT feed_check('ki', 'id', 0);
SELECT commit_id, operation, before, after FROM incetl.table_changes(NULL::ki, 0) LIMIT 3;
-- upserts: one updates, one inserts; a precombine loser changes nothing
INSERT INTO ki VALUES (3, 'v3b', 2, false), (13, 'v13', 1, false), (5, 'old', 0, false);
SELECT * FROM incetl.table_changes(NULL::ki, 1);
SELECT feed_check('ki', 'id', 1);
-- every incoming row loses: no commit, no change
INSERT INTO ki VALUES (3, 'lost', 1, false);
SELECT incetl.latest_commit('ki');
-- delete markers (one for a missing key, which changes nothing)
INSERT INTO ki VALUES (4, NULL, 5, true), (99, NULL, 5, true);
SELECT * FROM incetl.table_changes(NULL::ki, 2);
-- UPDATE, keeping and changing the key
UPDATE ki SET v = 'u' || id, ts = 3 WHERE id IN (1, 8);
UPDATE ki SET id = 100 WHERE id = 2;
SELECT * FROM incetl.table_changes(NULL::ki, 3);
DELETE FROM ki WHERE id BETWEEN 9 AND 10;
SELECT feed_check('ki', 'id', 0), feed_check('ki', 'id', 2), feed_check('ki', 'id', 2, 5);
-- inserted then deleted in the range: absent from net_changes
INSERT INTO ki VALUES (50, 'tmp', 1, false);
INSERT INTO ki VALUES (50, NULL, 2, true);
SELECT * FROM incetl.table_changes(NULL::ki, 6);
SELECT * FROM incetl.net_changes(NULL::ki, 6);
-- deleted then inserted again: an update
INSERT INTO ki VALUES (6, NULL, 9, true);
INSERT INTO ki VALUES (6, 'again', 9, false);
SELECT * FROM incetl.net_changes(NULL::ki, 8);
-- the same values written again are a new row version: an update
INSERT INTO ki VALUES (7, 'v7', 1, false);
SELECT * FROM incetl.table_changes(NULL::ki, 10);
-- a file_group_rows change rewrites nothing
SELECT incetl.set_table_options('ki', file_group_rows => 3);
SELECT incetl.latest_commit('ki');
INSERT INTO ki VALUES (3, 'v3c', 4, false);
SELECT feed_check('ki', 'id', 11);
-- TRUNCATE: every row deleted; two in one transaction record one commit,
-- a TRUNCATE after a write in the same transaction another
TRUNCATE ki;
SELECT * FROM incetl.net_changes(NULL::ki, 12) LIMIT 3;
SELECT count(*) FROM incetl.table_changes(NULL::ki, 12);
BEGIN;
INSERT INTO ki VALUES (1, 'a', 1, false), (2, 'b', 1, false);
TRUNCATE ki;
TRUNCATE ki;
INSERT INTO ki VALUES (2, 'c', 1, false);
TRUNCATE ki;
INSERT INTO ki VALUES (3, 'd', 1, false);
COMMIT;
SELECT commit_id, operation, rows_inserted, rows_deleted FROM incetl.commits('ki') WHERE commit_id > 12;
SELECT * FROM incetl.table_changes(NULL::ki, 12);
SELECT * FROM incetl.net_changes(NULL::ki, 13);
SELECT feed_check_all('ki', 'id');

-- ---------------------------------------------------------------------
-- text key and composite key
-- ---------------------------------------------------------------------
CREATE TABLE kt (k text, n int) USING incetl_cow;
SELECT incetl.set_table_options('kt', record_key => 'k', file_group_rows => 3);
INSERT INTO kt SELECT 'key' || g, g FROM generate_series(1, 10) g;
INSERT INTO kt VALUES ('key5', 50), ('a', 0), ('zz', 0);
DELETE FROM kt WHERE k IN ('key10', 'key2');
UPDATE kt SET k = 'b' WHERE k = 'key7';
SELECT * FROM incetl.table_changes(NULL::kt, 1);
SELECT feed_check_all('kt', 'k');

CREATE TABLE kc (a int, b text, x numeric) USING incetl_cow;
SELECT incetl.set_table_options('kc', record_key => 'a,b', file_group_rows => 2);
INSERT INTO kc SELECT g % 3, 'b' || g, g FROM generate_series(1, 9) g;
INSERT INTO kc VALUES (1, 'b1', 1.5), (0, 'a', 0), (2, 'b2', NULL);
DELETE FROM kc WHERE x > 7;
UPDATE kc SET b = 'moved' WHERE a = 0 AND b = 'b3';
SELECT * FROM incetl.net_changes(NULL::kc, 1);
SELECT feed_check_all('kc', 'a,b');

-- ---------------------------------------------------------------------
-- keyless: rows matched by row version; an UPDATE is a delete and an insert
-- ---------------------------------------------------------------------
CREATE TABLE kl (a int, b text) USING incetl_cow;
SELECT incetl.set_table_options('kl', file_group_rows => 3);
INSERT INTO kl SELECT g, 'x' FROM generate_series(1, 7) g;
INSERT INTO kl VALUES (1, 'x'), (8, 'y');
UPDATE kl SET b = 'z' WHERE a = 2;
DELETE FROM kl WHERE a = 1;
SELECT * FROM incetl.table_changes(NULL::kl, 2);
SELECT * FROM incetl.net_changes(NULL::kl, 1);
SELECT feed_check_all('kl', NULL);

-- ---------------------------------------------------------------------
-- record key changes: a rewrite that collapses nothing changes nothing;
-- one that collapses duplicates deletes the losers
-- ---------------------------------------------------------------------
SELECT incetl.set_table_options('kl', record_key => 'a');
SELECT commit_id, operation, rows_deleted FROM incetl.commits('kl') WHERE commit_id = 5;
SELECT * FROM incetl.table_changes(NULL::kl, 4);
SELECT incetl.set_table_options('kl', record_key => 'b,a');
SELECT * FROM incetl.table_changes(NULL::kl, 5);
INSERT INTO kl VALUES (2, 'z'), (9, 'x');
SELECT * FROM incetl.table_changes(NULL::kl, 6);
-- across the key changes: matched by row version, paired by today's key
SELECT * FROM incetl.net_changes(NULL::kl, 1);
SELECT feed_check('kl', 'b,a', 5), feed_check('kl', 'b,a', 6);

CREATE TABLE kd (k int, g text, ts int) USING incetl_cow;
INSERT INTO kd VALUES (1, 'p', 1), (2, 'p', 2), (3, 'q', 1), (4, 'r', 1);
SELECT incetl.set_table_options('kd', record_key => 'g', precombine => 'ts');
SELECT commit_id, operation, rows_deleted FROM incetl.commits('kd');
SELECT * FROM incetl.table_changes(NULL::kd, 1);
SELECT * FROM incetl.net_changes(NULL::kd, 0);
SELECT feed_check('kd', 'g', 2);

-- a key changed while the table holds no row rewrites nothing: versions
-- from before are still told apart (by row version, not by key order)
CREATE TABLE ke (a int, b text) USING incetl_cow;
SELECT incetl.set_table_options('ke', record_key => 'a', file_group_rows => 2);
INSERT INTO ke VALUES (1, 'z'), (2, 'y'), (3, 'x');
DELETE FROM ke;
SELECT incetl.set_table_options('ke', record_key => 'b');
INSERT INTO ke VALUES (1, 'z'), (5, 'w'), (3, 'x');
SELECT * FROM incetl.net_changes(NULL::ke, 1);
SELECT feed_check_all('ke', 'b');

-- ---------------------------------------------------------------------
-- ADD and DROP COLUMN: today's columns
-- ---------------------------------------------------------------------
CREATE TABLE kx (id int, v text) USING incetl_cow;
SELECT incetl.set_table_options('kx', record_key => 'id', file_group_rows => 2);
INSERT INTO kx VALUES (1, 'a'), (2, 'b'), (3, 'c');
ALTER TABLE kx ADD COLUMN w int DEFAULT 7;
INSERT INTO kx VALUES (2, 'b2', 8);
SELECT * FROM incetl.table_changes(NULL::kx, 0);
ALTER TABLE kx DROP COLUMN v;
INSERT INTO kx VALUES (3, 9);
SELECT * FROM incetl.table_changes(NULL::kx, 1);
SELECT feed_check_all('kx', 'id');

-- ---------------------------------------------------------------------
-- cost: a range that rewrote one file group of a larger table decodes
-- that group's two versions, not the table
-- ---------------------------------------------------------------------
CREATE TABLE big (id int, v int) USING incetl_cow;
SELECT incetl.set_table_options('big', record_key => 'id', file_group_rows => 1000);
INSERT INTO big SELECT g, g FROM generate_series(1, 50000) g;
INSERT INTO big VALUES (25000, -1);
SELECT file_groups FROM incetl.table_stats('big');
SELECT column_chunks_decoded AS before FROM incetl.cow_decode_counts() \gset
SELECT * FROM incetl.net_changes(NULL::big, 1);
SELECT column_chunks_decoded - :before AS net_chunks FROM incetl.cow_decode_counts();
SELECT column_chunks_decoded AS before FROM incetl.cow_decode_counts() \gset
SELECT count(*) FROM incetl.table_changes(NULL::big, 1);
SELECT column_chunks_decoded - :before AS table_chunks FROM incetl.cow_decode_counts();
SELECT column_chunks_decoded AS before FROM incetl.cow_decode_counts() \gset
SELECT count(*) FROM incetl.as_of(NULL::big, 2);
SELECT column_chunks_decoded - :before AS as_of_chunks FROM incetl.cow_decode_counts();

-- ---------------------------------------------------------------------
-- errors
-- ---------------------------------------------------------------------
SELECT * FROM incetl.net_changes(NULL::int, 0);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM incetl.table_changes(NULL::pg_class, 0);
\echo :LAST_ERROR_SQLSTATE
CREATE TABLE heap_t (id int);
SELECT * FROM incetl.table_changes(NULL::heap_t, 0);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM incetl.table_changes(NULL::kt, NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM incetl.net_changes(NULL::kt, -1);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM incetl.net_changes(NULL::kt, 0, -1);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM incetl.net_changes(NULL::kt, 3, 2);
\echo :LAST_ERROR_SQLSTATE
-- a commit not made yet
SELECT * FROM incetl.table_changes(NULL::kt, 0, 5);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM incetl.table_changes(NULL::kt, 5);
\echo :LAST_ERROR_SQLSTATE
-- a commit id of another table beyond this table's newest
SELECT * FROM incetl.net_changes(NULL::kt, 0, 18);
\echo :LAST_ERROR_SQLSTATE

-- cleaned history: the feed from before the clean horizon is refused
SELECT incetl.clean('kt', 0) > 0 AS cleaned;
SELECT * FROM incetl.net_changes(NULL::kt, 2);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM incetl.table_changes(NULL::kt, 2);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM incetl.table_changes(NULL::kt, 0);
\echo :LAST_ERROR_SQLSTATE
-- from commit 0 the net change needs no history; from the newest, none
SELECT count(*) FROM incetl.net_changes(NULL::kt, 0);
SELECT count(*) FROM incetl.table_changes(NULL::kt, 4);

-- privileges and row-level security
CREATE ROLE regress_cow_feed;
GRANT USAGE ON SCHEMA cow_changefeed TO regress_cow_feed;
SET ROLE regress_cow_feed;
SELECT * FROM incetl.table_changes(NULL::kc, 0);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM incetl.net_changes(NULL::kc, 0);
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
GRANT SELECT ON kc TO regress_cow_feed;
SET ROLE regress_cow_feed;
SELECT count(*) FROM incetl.net_changes(NULL::kc, 0);
RESET ROLE;
ALTER TABLE kc ENABLE ROW LEVEL SECURITY;
CREATE POLICY only_a1 ON kc FOR SELECT TO regress_cow_feed USING (a = 1);
SET ROLE regress_cow_feed;
SELECT * FROM incetl.table_changes(NULL::kc, 0);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM incetl.net_changes(NULL::kc, 0);
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
DROP POLICY only_a1 ON kc;
REVOKE ALL ON kc FROM regress_cow_feed;
REVOKE USAGE ON SCHEMA cow_changefeed FROM regress_cow_feed;
DROP ROLE regress_cow_feed;

RESET search_path;
SET client_min_messages = warning;
DROP SCHEMA cow_changefeed CASCADE;
