-- incetl_cow index fetches borrow the version list and row index the
-- backend keeps per table and view (cow_scan.c, CowFetchBorrow), instead of
-- copying them each statement.  The cache keeps four lists; a borrowed
-- list must outlive its entry while a fetch still holds it, and go back
-- when the fetch ends however it ends (an error, a cursor closed at
-- transaction end), or the cache's memory grows with every list it
-- replaces.
CREATE SCHEMA cow_fetch_lend;
SET search_path = cow_fetch_lend, public;

-- six tables (more than the cache's four lists), each of several file
-- groups with rows carried into later versions by updates (a row index
-- that must read maps), and a heap copy of each
DO $$
DECLARE
    i int;
BEGIN
    FOR i IN 1..6 LOOP
        EXECUTE format('CREATE TABLE c%s (k int, v text) USING incetl_cow', i);
        EXECUTE format($q$SELECT incetl.set_table_options('c%s', record_key => 'k',
                                                   file_group_rows => 400)$q$, i);
        EXECUTE format('INSERT INTO c%s SELECT g, %L || g FROM generate_series(1, 1200) g',
                       i, 't' || i || '/');
        EXECUTE format('INSERT INTO c%s SELECT g, %L || g FROM generate_series(1201, 2000 + 100 * %s) g',
                       i, 't' || i || '/', i);
        EXECUTE format('UPDATE c%s SET v = v || %L WHERE k %% 7 = %s', i, '+u', i);
        EXECUTE format('UPDATE c%s SET v = v || %L WHERE k %% 11 = 0', i, '+w');
        EXECUTE format('CREATE INDEX c%s_k ON c%s (k)', i, i);
        EXECUTE format('CREATE TABLE h%s AS SELECT * FROM c%s', i, i);
        EXECUTE format('ANALYZE c%s', i);
    END LOOP;
END $$;

-- current file groups, and commits (each rewrote some)
SELECT (SELECT count(*) FROM incetl.file_groups('c1')) AS file_groups,
       (SELECT count(*) FROM incetl.commits('c1')) AS commits;

SET enable_seqscan = off;
SET enable_bitmapscan = off;
SET enable_hashjoin = off;
SET enable_mergejoin = off;
SET enable_material = off;

-- 1. One statement looks up in all six tables per outer row: the fifth
-- and sixth tables' lists replace those of the first two while their
-- fetches still hold them, and their later lookups read the borrowed ones.
CREATE VIEW six AS
SELECT g, c1.v AS v1, c2.v AS v2, c3.v AS v3, c4.v AS v4, c5.v AS v5, c6.v AS v6
FROM generate_series(1, 2700, 3) g
LEFT JOIN c1 ON c1.k = g LEFT JOIN c2 ON c2.k = g LEFT JOIN c3 ON c3.k = g
LEFT JOIN c4 ON c4.k = g LEFT JOIN c5 ON c5.k = g LEFT JOIN c6 ON c6.k = g;
CREATE VIEW six_heap AS
SELECT g, h1.v AS v1, h2.v AS v2, h3.v AS v3, h4.v AS v4, h5.v AS v5, h6.v AS v6
FROM generate_series(1, 2700, 3) g
LEFT JOIN h1 ON h1.k = g LEFT JOIN h2 ON h2.k = g LEFT JOIN h3 ON h3.k = g
LEFT JOIN h4 ON h4.k = g LEFT JOIN h5 ON h5.k = g LEFT JOIN h6 ON h6.k = g;

EXPLAIN (COSTS OFF) SELECT * FROM six;

-- the rows that differ from the heap copies: none
SELECT count(*) AS rows, count(v6) AS found_in_c6
FROM six;
(SELECT * FROM six EXCEPT ALL SELECT * FROM six_heap)
UNION ALL
(SELECT * FROM six_heap EXCEPT ALL SELECT * FROM six);

-- 2. A cursor holds its fetch (and the list) across statements of its
-- transaction that replace every list the cache keeps.
BEGIN ISOLATION LEVEL REPEATABLE READ;
DECLARE cur CURSOR FOR
    SELECT g, c1.v FROM generate_series(1, 2000, 7) g JOIN c1 ON c1.k = g
    ORDER BY g;
FETCH 3 FROM cur;
SELECT count(*) FROM six;
SELECT count(*) FROM c2 WHERE k = 5;
FETCH 3 FROM cur;
MOVE 200 FROM cur;
FETCH 2 FROM cur;
SELECT h1.v FROM h1 WHERE k IN (1429, 1436) ORDER BY k;
COMMIT;

-- 3. Lookups that fail after the list was borrowed, over and over, in
-- subtransactions: the lists go back, and the cache's memory stays as it
-- was after the first rounds.
CREATE FUNCTION fail_rounds(rounds int) RETURNS int
LANGUAGE plpgsql AS $$
DECLARE
    failed int := 0;
    r int;
    i int;
BEGIN
    FOR r IN 1..rounds LOOP
        FOR i IN 1..6 LOOP
            BEGIN
                EXECUTE format('SELECT 1 / (length(v) - length(v)) FROM c%s WHERE k = %s',
                               i, 10 + r);
            EXCEPTION WHEN division_by_zero THEN
                failed := failed + 1;
            END;
        END LOOP;
    END LOOP;
    RETURN failed;
END $$;

CREATE FUNCTION fetch_cache_bytes() RETURNS bigint
LANGUAGE sql AS $$
    SELECT sum(used_bytes) FROM pg_backend_memory_contexts
    WHERE name = 'incetl cow fetch versions'
$$;

BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT fail_rounds(5) AS failed;
SELECT fetch_cache_bytes() AS bytes_after_5 \gset
SELECT fail_rounds(200) AS failed;
SELECT fetch_cache_bytes() - :bytes_after_5 AS grown_by;
COMMIT;

-- the same, one statement per lookup (a new snapshot each, the same view)
SELECT fail_rounds(5) AS failed;
SELECT fetch_cache_bytes() AS bytes_after_5 \gset
SELECT fail_rounds(200) AS failed;
SELECT fetch_cache_bytes() - :bytes_after_5 AS grown_by;

-- and lookups that succeed, the six tables in turn
CREATE FUNCTION lookup_rounds(rounds int) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    differing bigint := 0;
    r int;
    i int;
    cv text;
    hv text;
BEGIN
    FOR r IN 1..rounds LOOP
        FOR i IN 1..6 LOOP
            EXECUTE format('SELECT v FROM c%s WHERE k = %s', i, 3 * r) INTO cv;
            EXECUTE format('SELECT v FROM h%s WHERE k = %s', i, 3 * r) INTO hv;
            IF cv IS DISTINCT FROM hv THEN
                differing := differing + 1;
            END IF;
        END LOOP;
    END LOOP;
    RETURN differing;
END $$;
SELECT lookup_rounds(5) AS differing;
SELECT fetch_cache_bytes() AS bytes_after_5 \gset
SELECT lookup_rounds(300) AS differing;
SELECT fetch_cache_bytes() - :bytes_after_5 AS grown_by;

-- 4. In a transaction that wrote (an xid: the list is not kept, the fetch
-- owns its copy), the same lookups see the transaction's own rows.
BEGIN;
UPDATE c1 SET v = v || '+x' WHERE k = 10;
SELECT v FROM c1 WHERE k = 10;
SELECT count(*) AS rows, count(v6) AS found_in_c6 FROM six;
SELECT count(*) AS differing
FROM six s JOIN six_heap h USING (g)
WHERE (s.v1, s.v2, s.v3, s.v4, s.v5, s.v6) IS DISTINCT FROM
      (CASE WHEN g = 10 THEN h.v1 || '+x' ELSE h.v1 END, h.v2, h.v3, h.v4, h.v5, h.v6);
ROLLBACK;
SELECT v FROM c1 WHERE k = 10;

RESET enable_seqscan;
RESET enable_bitmapscan;
RESET enable_hashjoin;
RESET enable_mergejoin;
RESET enable_material;
DROP SCHEMA cow_fetch_lend CASCADE;
