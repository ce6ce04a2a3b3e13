-- A statement appending beyond a table's last key in key order (a load
-- into an empty table, growing ids) writes its file groups as its rows
-- come: a block (4096 rows) at a time, each group written once it is
-- full, never holding a group's rows (cow_write_state.c, CowAppender).
-- The groups' stored bytes wait in a temporary file.  What it writes must
-- be what the merge writes, across block and group boundaries, with every
-- encoding, NULLs, dictionaries, numerics, wide values and delete markers;
-- a statement that cannot go on so (a row of a subtransaction, a delete,
-- a read of the table) takes the rows back and goes on as before.  Every
-- table is compared with a heap copy that went through the same
-- statements.
CREATE SCHEMA cow_append_blocks;
SET search_path = cow_append_blocks, public;

-- differing(h, c): rows of h and c that differ, by value and by text form
\getenv abs_srcdir PG_ABS_SRCDIR
\set table_differing :abs_srcdir '/sql/include/table_differing.sql'
\i :table_differing

-- 1. Groups of 10000 rows (blocks of 4096, 4096, 1808), 40000 rows nearly
-- in key order (through the reordering heap): NULLs in some blocks only,
-- a dictionary column, numerics of two scales, 6 kB values, floats.
CREATE TABLE h (k int, s text, n numeric, b bool, w text, f float8, t timestamptz);
INSERT INTO h
SELECT g,
       CASE WHEN g % 5 = 0 OR g BETWEEN 20000 AND 24095 THEN NULL ELSE 'cat' || (g % 13) END,
       CASE WHEN g % 3 = 0 THEN g / 4.0 ELSE g END,
       g % 2 = 0,
       CASE WHEN g % 997 = 0 THEN repeat(md5(g::text), 200) ELSE md5(g::text) END,
       CASE WHEN g % 11 = 0 THEN NULL ELSE g * 0.5 END,
       timestamptz '2026-01-01' + g * interval '1 minute'
FROM generate_series(1, 40000) g;
CREATE TABLE c (LIKE h) USING incetl_cow;
SELECT incetl.set_table_options('c', record_key => 'k', file_group_rows => 10000);
INSERT INTO c SELECT * FROM h ORDER BY k + (k % 7) * 3;
SELECT * FROM differing('h', 'c');
SELECT operation, rows_inserted, rows_updated, rows_deleted, file_groups_written
FROM incetl.commits('c');
SELECT file_groups, rows FROM incetl.table_stats('c');
SELECT count(*) AS problems FROM incetl.verify('c');
-- the chunks' and blocks' min/max are the values' (queries that skip by them)
SELECT count(*) FROM c WHERE k BETWEEN 12000 AND 12100;
SELECT count(*), min(n), max(n) FROM c WHERE s = 'cat7';
SELECT count(*), min(n), max(n) FROM h WHERE s = 'cat7';
SELECT count(*) FROM c WHERE w > repeat('f', 100);
SELECT count(*) FROM h WHERE w > repeat('f', 100);
SELECT min(t), max(t), min(w) = (SELECT min(w) FROM h), max(w) = (SELECT max(w) FROM h) FROM c;

-- the same rows merged in parts (a table with an index does not append
-- a block at a time) make groups of the same bytes
CREATE TABLE ci (LIKE h) USING incetl_cow;
SELECT incetl.set_table_options('ci', record_key => 'k', file_group_rows => 10000);
CREATE INDEX ON ci (k);
INSERT INTO ci SELECT * FROM h ORDER BY k + (k % 7) * 3;
SELECT a.file_groups = b.file_groups AS same_groups,
       a.raw_bytes = b.raw_bytes AS same_raw_bytes,
       a.compressed_bytes = b.compressed_bytes AS same_stored_bytes
FROM incetl.table_stats('c') a, incetl.table_stats('ci') b;

-- 2. A load with delete markers: markers for the keys divisible by 100
-- (none stored, kept as tombstones); then, out of key order, newer rows of
-- the keys divisible by 200 (stored) and older ones of the others (lose
-- to the markers).
CREATE TABLE hm (k int, p int, d bool, v text);
CREATE TABLE cm (LIKE hm) USING incetl_cow;
SELECT incetl.set_table_options('cm', record_key => 'k', precombine => 'p',
                                delete_marker => 'd', file_group_rows => 5000);
INSERT INTO cm
SELECT k, p, d, v FROM (
  SELECT g AS k, 10 AS p, g % 100 = 0 AS d, 'first ' || g AS v, 1 AS o FROM generate_series(1, 20000) g
  UNION ALL
  SELECT g, CASE WHEN g % 200 = 0 THEN 20 ELSE 5 END, false, 'second ' || g, 2
  FROM generate_series(100, 20000, 100) g) s
ORDER BY o, k;
-- the rule on heap: the largest p wins; a winning marker leaves nothing
INSERT INTO hm
SELECT k, p, d, v FROM (
  SELECT DISTINCT ON (k) * FROM (
    SELECT g AS k, 10 AS p, g % 100 = 0 AS d, 'first ' || g AS v FROM generate_series(1, 20000) g
    UNION ALL
    SELECT g, CASE WHEN g % 200 = 0 THEN 20 ELSE 5 END, false, 'second ' || g
    FROM generate_series(100, 20000, 100) g) s
  ORDER BY k, p DESC) w
WHERE NOT d;
SELECT * FROM differing('hm', 'cm');
SELECT count(*) FROM cm;
SELECT operation, rows_inserted, rows_updated, rows_deleted FROM incetl.commits('cm');
SELECT count(*) AS problems FROM incetl.verify('cm');

-- 3. Statements that take the rows back mid-group.
-- a. a row of a subtransaction: a function with an exception block
-- inserting into the table the statement is loading (one kept, one
-- rolled back)
CREATE FUNCTION ins_sub(t regclass, i int) RETURNS int LANGUAGE plpgsql AS $$
BEGIN
  IF i % 20000 = 0 THEN
    BEGIN
      EXECUTE format('INSERT INTO %s VALUES ($1, -1)', t) USING i + 1000000;
      IF i % 40000 = 0 THEN RAISE EXCEPTION 'rolled back'; END IF;
    EXCEPTION WHEN raise_exception THEN NULL;
    END;
  END IF;
  RETURN i;
END $$;
CREATE TABLE hs (k int, v int);
CREATE TABLE cs (LIKE hs) USING incetl_cow;
SELECT incetl.set_table_options('cs', record_key => 'k', file_group_rows => 10000);
INSERT INTO hs SELECT ins_sub('hs', g), g FROM generate_series(1, 50000) g;
INSERT INTO cs SELECT ins_sub('cs', g), g FROM generate_series(1, 50000) g;
SELECT * FROM differing('hs', 'cs');
SELECT operation, rows_inserted, rows_updated, rows_deleted FROM incetl.commits('cs');
-- b. a delete by the same statement (a data-modifying WITH query, run
-- after the rows)
CREATE TABLE hd (k int, v int);
CREATE TABLE cd (LIKE hd) USING incetl_cow;
SELECT incetl.set_table_options('cd', record_key => 'k', file_group_rows => 10000);
INSERT INTO hd SELECT -g, 0 FROM generate_series(1, 10) g;
INSERT INTO cd SELECT -g, 0 FROM generate_series(1, 10) g;
WITH d AS (DELETE FROM hd WHERE k < -5) INSERT INTO hd SELECT g, g FROM generate_series(1, 25000) g;
WITH d AS (DELETE FROM cd WHERE k < -5) INSERT INTO cd SELECT g, g FROM generate_series(1, 25000) g;
SELECT * FROM differing('hd', 'cd');
SELECT operation, rows_inserted, rows_updated, rows_deleted FROM incetl.commits('cd');
-- c. reads of the table inside the statement (a volatile function): they
-- see the rows written so far, as on heap
CREATE FUNCTION cnt(t regclass, i int) RETURNS bigint LANGUAGE plpgsql VOLATILE AS $$
DECLARE n bigint;
BEGIN
  IF i % 15000 <> 0 THEN RETURN 0; END IF;
  EXECUTE format('SELECT count(*) FROM %s', t) INTO n;
  RETURN n;
END $$;
CREATE TABLE hr (k int, v bigint);
CREATE TABLE cr (LIKE hr) USING incetl_cow;
SELECT incetl.set_table_options('cr', record_key => 'k', file_group_rows => 7000);
INSERT INTO hr SELECT g, cnt('hr', g) FROM generate_series(1, 40000) g;
INSERT INTO cr SELECT g, cnt('cr', g) FROM generate_series(1, 40000) g;
SELECT * FROM differing('hr', 'cr');
SELECT * FROM cr WHERE v > 0 ORDER BY k;
SELECT count(*) AS problems FROM incetl.verify('cr');

-- 4. Savepoints and a failing statement: rolled back groups are gone
TRUNCATE cs;
BEGIN;
INSERT INTO cs SELECT g, 1 FROM generate_series(1, 25000) g;
SAVEPOINT s;
INSERT INTO cs SELECT g, 2 FROM generate_series(25001, 55000) g;
ROLLBACK TO s;
INSERT INTO cs SELECT g, 3 FROM generate_series(30001, 52000) g;
SAVEPOINT s2;
INSERT INTO cs SELECT g, 4 FROM generate_series(52001, 70000) g;
RELEASE s2;
COMMIT;
INSERT INTO cs SELECT CASE WHEN g = 95000 THEN NULL ELSE g END, 5 FROM generate_series(70001, 99000) g;
SELECT v, count(*), min(k), max(k) FROM cs GROUP BY v ORDER BY v;
SELECT count(*) AS problems FROM incetl.verify('cs');

-- 5. Memory: a load of 250,000 rows in groups of 100,000 holds a few
-- blocks' worth of rows, not a group's (about 20 MB of buffered rows
-- before), and holds them column by column (1.1 MB in all; 2.6 MB when
-- they waited as rows).  A BEFORE ROW trigger samples the statement's
-- memory contexts every 5,000 rows.
CREATE TABLE cmem (id bigint, customer_id bigint, amount numeric(12,2), status text, note text)
  USING incetl_cow;
SELECT incetl.set_table_options('cmem', record_key => 'id', file_group_rows => 100000);
CREATE FUNCTION sample_memory() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  used bigint;
  appending bool;
BEGIN
  IF NEW.id % 5000 = 0 THEN
    SELECT coalesce(sum(total_bytes), 0),
           bool_or(name = 'incetl cow appended rows')
      INTO used, appending
      FROM pg_backend_memory_contexts
     WHERE name IN ('incetl cow write state', 'incetl cow buffered rows',
                    'incetl cow appended rows', 'incetl cow waiting rows',
                    'incetl cow append group',
                    'incetl cow reordered rows', 'incetl cow merge',
                    'incetl cow write group', 'incetl cow merge group');
    PERFORM set_config('cow_append_blocks.max_bytes',
                       greatest(used, coalesce(nullif(current_setting('cow_append_blocks.max_bytes', true), '')::bigint, 0))::text, false);
    IF appending THEN
      PERFORM set_config('cow_append_blocks.appending', 'yes', false);
    END IF;
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER sample BEFORE INSERT ON cmem FOR EACH ROW EXECUTE FUNCTION sample_memory();
INSERT INTO cmem
SELECT g, g % 1000, (g % 100000) / 100.0, (ARRAY['new', 'paid', 'shipped'])[1 + g % 3],
       'order ' || g || ' ' || md5(g::text)
FROM generate_series(1, 250000) g;
SELECT current_setting('cow_append_blocks.appending') AS appended,
       current_setting('cow_append_blocks.max_bytes')::bigint < 1792 * 1024 AS under_1_75mb;
SELECT count(*), sum(id), count(DISTINCT note) FROM cmem;
SELECT file_groups, rows FROM incetl.table_stats('cmem');
SELECT operation, rows_inserted, file_groups_written FROM incetl.commits('cmem');

-- 5b. A load that is reordered writes its groups from inside the row's
-- routing: what writing a group needs (the map of the pages in use, which
-- grows with every group) must not stay in the statement's memory until
-- its end.  122 groups of 4096 rows: the statement's state grew by 689 kB
-- between the 50,000th and the 500,000th row when it did, some 10 kB now.
CREATE TABLE cgrow (id bigint, v text) USING incetl_cow;
SELECT incetl.set_table_options('cgrow', record_key => 'id', file_group_rows => 4096);
CREATE FUNCTION sample_state() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.id IN (50000, 500000) THEN
    PERFORM set_config('cow_append_blocks.state_at_' || NEW.id,
      (SELECT coalesce(sum(used_bytes), 0) FROM pg_backend_memory_contexts
        WHERE name = 'incetl cow write state')::text, false);
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER sample BEFORE INSERT ON cgrow FOR EACH ROW EXECUTE FUNCTION sample_state();
SET work_mem = '64MB';	-- the source's sort stays in memory
SET client_min_messages = debug1;
-- every 1000th row comes 500 rows early: reordered, nothing sorted
INSERT INTO cgrow SELECT g, 'v' || g FROM generate_series(1, 500000) g
ORDER BY CASE WHEN g % 1000 = 0 THEN g - 500.5 ELSE g END;
RESET client_min_messages;
RESET work_mem;
SELECT current_setting('cow_append_blocks.state_at_500000')::bigint -
       current_setting('cow_append_blocks.state_at_50000')::bigint < 64 * 1024
       AS state_flat;
SELECT count(*), sum(id), count(DISTINCT v) FROM cgrow;
SELECT file_groups, rows FROM incetl.table_stats('cgrow');

-- 6. A source that begins, or goes on after a jump, with a few rows of
-- higher keys: a heap read by a synchronized scan that started where the
-- last scan of it ended, near its end.  When the order breaks, the rows
-- still waiting at or above the late row's key (in the buffer, or not yet
-- encoded by the appender) go back into the reordering heap and come out
-- in their keys' turn: nothing is sorted (CowReorderTakeBack).  Source
-- order: keys 14501..15000, then 1..14500, a newer and an older row of
-- two keys of that first stretch, then 29501..30000, then 15001..29500
-- (appending by then: its waiting rows are taken back).
CREATE TABLE src6 (ord int, k int, p int, v text);
INSERT INTO src6 SELECT row_number() OVER (), k, p, v FROM (
  SELECT k, 1 AS p, 'v' || k AS v FROM generate_series(14501, 15000) k
  UNION ALL SELECT k, 1, 'v' || k FROM generate_series(1, 14500) k
  UNION ALL SELECT 14600, 2, 'newer 14600'
  UNION ALL SELECT 14700, 0, 'older 14700'
  UNION ALL SELECT k, 1, 'v' || k FROM generate_series(29501, 30000) k
  UNION ALL SELECT k, 1, 'v' || k FROM generate_series(15001, 29500) k) s;
-- the rule: per key the largest p, a tie to the later row
CREATE TABLE want6 AS
SELECT DISTINCT ON (k) k, p, v FROM src6 ORDER BY k, p DESC, ord DESC;
CREATE TABLE c6 (k int, p int, v text) USING incetl_cow;
SELECT incetl.set_table_options('c6', record_key => 'k', precombine => 'p',
                                file_group_rows => 5000);
SET client_min_messages = debug1;
INSERT INTO c6 SELECT k, p, v FROM src6 ORDER BY ord;
RESET client_min_messages;
SELECT * FROM differing('want6', 'c6');
SELECT k, p, v FROM c6 WHERE k IN (14600, 14700) ORDER BY k;
SELECT file_groups, rows FROM incetl.table_stats('c6');
SELECT count(*) AS problems FROM incetl.verify('c6');
SELECT count(*) FROM c6 WHERE k BETWEEN 14990 AND 15010;
-- a first stretch of 6000 rows, more than the 4096 that wait to be taken
-- back: the rows after the break are sorted, and the table is the same
CREATE TABLE src6b (ord int, k int, p int, v text);
INSERT INTO src6b SELECT row_number() OVER (), k, 1, 'v' || k FROM (
  SELECT k FROM generate_series(14001, 20000) k
  UNION ALL SELECT k FROM generate_series(1, 14000) k) s;
CREATE TABLE c6b (k int, p int, v text) USING incetl_cow;
SELECT incetl.set_table_options('c6b', record_key => 'k', precombine => 'p',
                                file_group_rows => 5000);
SET client_min_messages = debug1;
INSERT INTO c6b SELECT k, p, v FROM src6b ORDER BY ord;
RESET client_min_messages;
SELECT count(*), count(DISTINCT k), min(k), max(k), sum(k) FROM c6b;
SELECT count(*) FROM (SELECT k, p, v FROM src6b EXCEPT ALL SELECT * FROM c6b) x;
SELECT count(*) AS problems FROM incetl.verify('c6b');

-- 7. The rows waiting for their block are kept column by column
-- (cow_wait_rows.c): by-reference values of every alignment (uuid,
-- interval, text, numeric), NULLs, values of more than 8 kB kept apart
-- from the others, a dropped column.  A jump of 300 rows after the first
-- blocks were encoded is taken back whole; a jump of 5000 rows is taken
-- back as far as the heap takes them, and the rest sorted; a row of a
-- subtransaction in the middle of a group gives every row back.  The
-- table must be the heap's.
CREATE TABLE hw (k bigint, x int, u uuid, iv interval, t text, big text,
                 n numeric, ts timestamptz);
CREATE TABLE cw (LIKE hw) USING incetl_cow;
SELECT incetl.set_table_options('cw', record_key => 'k', file_group_rows => 10000);
ALTER TABLE hw DROP COLUMN x;
ALTER TABLE cw DROP COLUMN x;
CREATE TABLE srcw (ord int, k bigint);
INSERT INTO srcw SELECT row_number() OVER (), k FROM (
  SELECT k FROM generate_series(1, 12000) k
  UNION ALL SELECT k FROM generate_series(12401, 12700) k
  UNION ALL SELECT k FROM generate_series(12001, 12400) k
  UNION ALL SELECT k FROM generate_series(12701, 20000) k
  UNION ALL SELECT k FROM generate_series(25001, 30000) k
  UNION ALL SELECT k FROM generate_series(20001, 25000) k
  UNION ALL SELECT k FROM generate_series(30001, 40000) k) s;
CREATE FUNCTION wide_row(g bigint) RETURNS TABLE (k bigint, u uuid, iv interval,
    t text, big text, n numeric, ts timestamptz) LANGUAGE sql IMMUTABLE AS $$
  SELECT g,
         CASE WHEN g % 9 = 0 THEN NULL ELSE md5(g::text)::uuid END,
         CASE WHEN g % 4 = 0 THEN NULL ELSE g * interval '1 second' END,
         CASE WHEN g % 3 = 0 THEN NULL ELSE repeat('t', (g % 50)::int) END,
         CASE WHEN g % 1500 = 0
              THEN (SELECT string_agg(md5((g * 1000 + i)::text), '') FROM generate_series(1, 400) i)
         END,
         g / 3.0,
         timestamptz '2026-01-01' + g * interval '1 minute'
$$;
INSERT INTO hw SELECT w.* FROM srcw, wide_row(srcw.k) w ORDER BY ord;
SET jit = off;
SET log_temp_files = -1;
SET client_min_messages = debug1;
INSERT INTO cw SELECT w.* FROM srcw, wide_row(srcw.k) w ORDER BY ord;
RESET client_min_messages;
SELECT * FROM differing('hw', 'cw');
SELECT count(*), count(u), count(iv), count(t), count(big), min(length(big)),
       sum(n), min(ts), max(ts) FROM cw;
SELECT count(*) AS problems FROM incetl.verify('cw');
-- given back: at the 15000th row (a group written, a block encoded, rows
-- waiting) a row of a subtransaction
CREATE FUNCTION sub_at(t regclass, i bigint) RETURNS bigint LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  IF i = 55000 THEN
    BEGIN
      EXECUTE format('INSERT INTO %s (k, t) VALUES ($1, $2)', t)
        USING i + 1000000, 'from a subtransaction';
    EXCEPTION WHEN raise_exception THEN NULL;
    END;
  END IF;
  RETURN i;
END $$;
INSERT INTO hw SELECT w.* FROM generate_series(40001, 60000) g, wide_row(sub_at('hw', g)) w;
SET client_min_messages = debug1;
INSERT INTO cw SELECT w.* FROM generate_series(40001, 60000) g, wide_row(sub_at('cw', g)) w;
RESET client_min_messages;
RESET log_temp_files;
RESET jit;
SELECT * FROM differing('hw', 'cw');
SELECT count(*), count(big), sum(n) FROM cw;
SELECT count(*) AS problems FROM incetl.verify('cw');

-- 8. A first jump in the middle of a load, whose early rows were partly
-- encoded already (512 rows wait after a block until the source jumped
-- once): the group's rows go back to the buffer, the early ones back into
-- the reordering heap, and the statement appends again -- nothing sorted.
-- Keys 1..7999, then 20001..22000, then 8000..20000, then 22001..40000;
-- again in groups of 5000 rows (one written before the jump).  (Early
-- rows reaching into a group written already sort the rows after them:
-- section 6.)
CREATE TABLE src8 (ord int, k int);
INSERT INTO src8 SELECT row_number() OVER (), k FROM (
  SELECT k FROM generate_series(1, 7999) k
  UNION ALL SELECT k FROM generate_series(20001, 22000) k
  UNION ALL SELECT k FROM generate_series(8000, 20000) k
  UNION ALL SELECT k FROM generate_series(22001, 40000) k) s;
CREATE TABLE c8 (k int, v text) USING incetl_cow;
SELECT incetl.set_table_options('c8', record_key => 'k');
SET client_min_messages = debug1;
INSERT INTO c8 SELECT k, 'v' || k FROM src8 ORDER BY ord;
RESET client_min_messages;
SELECT count(*), count(DISTINCT k), min(k), max(k), sum(k),
       count(*) FILTER (WHERE v <> 'v' || k) AS wrong FROM c8;
SELECT file_groups, rows FROM incetl.table_stats('c8');
SELECT count(*) AS problems FROM incetl.verify('c8');
CREATE TABLE c8b (k int, v text) USING incetl_cow;
SELECT incetl.set_table_options('c8b', record_key => 'k', file_group_rows => 5000);
SET client_min_messages = debug1;
INSERT INTO c8b SELECT k, 'v' || k FROM src8 ORDER BY ord;
RESET client_min_messages;
SELECT count(*), count(DISTINCT k), min(k), max(k), sum(k),
       count(*) FILTER (WHERE v <> 'v' || k) AS wrong FROM c8b;
SELECT count(*) AS problems FROM incetl.verify('c8b');

-- A first jump of 1000 rows, all still waiting, taken back; the statement
-- then keeps 4096 rows after each block, and a second jump of 3000 rows
-- is taken back too: nothing given back, nothing sorted.
CREATE TABLE src8c (ord int, k int);
INSERT INTO src8c SELECT row_number() OVER (), k FROM (
  SELECT k FROM generate_series(1, 5000) k
  UNION ALL SELECT k FROM generate_series(9001, 10000) k
  UNION ALL SELECT k FROM generate_series(5001, 9000) k
  UNION ALL SELECT k FROM generate_series(10001, 20000) k
  UNION ALL SELECT k FROM generate_series(23001, 26000) k
  UNION ALL SELECT k FROM generate_series(20001, 23000) k
  UNION ALL SELECT k FROM generate_series(26001, 40000) k) s;
CREATE TABLE c8c (k int, v text) USING incetl_cow;
SELECT incetl.set_table_options('c8c', record_key => 'k');
SET client_min_messages = debug1;
INSERT INTO c8c SELECT k, 'v' || k FROM src8c ORDER BY ord;
RESET client_min_messages;
SELECT count(*), count(DISTINCT k), min(k), max(k), sum(k),
       count(*) FILTER (WHERE v <> 'v' || k) AS wrong FROM c8c;
SELECT count(*) AS problems FROM incetl.verify('c8c');

-- A load's own file groups stay out of the backend's cache of version
-- headers (CowReadGroupHeaderExt): the final merge looks at every
-- version's key bounds, and a load of a hundred groups would otherwise
-- keep the headers of the groups it wrote (half a megabyte).  A read
-- caches them.  In a new session: the cache starts empty.
\c -
SET search_path = cow_append_blocks, public;
CREATE TABLE hc (k bigint, v text) USING incetl_cow;
SELECT incetl.set_table_options('hc', record_key => 'k', file_group_rows => 1000);
CREATE TEMP TABLE hc_before AS
SELECT coalesce(sum(used_bytes), 0) AS used FROM pg_backend_memory_contexts
WHERE name = 'incetl cow version headers';
INSERT INTO hc SELECT g, 'v' || g FROM generate_series(1, 30000) g;
SELECT file_groups FROM incetl.table_stats('hc');
SELECT (SELECT coalesce(sum(used_bytes), 0) FROM pg_backend_memory_contexts
        WHERE name = 'incetl cow version headers') - used AS header_cache_growth_by_load
FROM hc_before;
SELECT count(*) FROM hc WHERE v = 'v12345';
SELECT (SELECT coalesce(sum(used_bytes), 0) FROM pg_backend_memory_contexts
        WHERE name = 'incetl cow version headers') > used AS a_read_caches_headers
FROM hc_before;

DROP SCHEMA cow_append_blocks CASCADE;
