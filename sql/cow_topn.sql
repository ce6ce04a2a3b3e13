-- The top-N scan (cow_topn.c): ORDER BY columns ... LIMIT n over one
-- incetl_cow table.  Every query runs against a heap copy of the same rows
-- and the two results are compared row by row, in order; check_topn also
-- says whether the incetl_cow plan used IncetlCowTopN.  Where the ORDER BY
-- leaves ties, the query selects only columns that read the same for
-- every tied row.
CREATE SCHEMA cow_topn;
SET search_path = cow_topn, public;
SET max_parallel_workers_per_gather = 0;

CREATE TABLE h (id int, amount numeric, name text, ts timestamptz,
                f float8, flag bool, g int);
INSERT INTO h
SELECT i,
       CASE WHEN i % 50 = 0 THEN NULL
            ELSE round(((i * 7919) % 10007) / 100.0, i % 3) END,
       CASE WHEN i % 40 = 0 THEN NULL
            ELSE chr(65 + i % 26) || chr(97 + (i * 7) % 26) || (i % 113) END,
       timestamptz '2026-01-01 00:00+00' + ((i * 37) % 5000) * interval '1 minute',
       CASE WHEN i % 1000 = 1 THEN 'NaN'::float8
            WHEN i % 1000 = 2 THEN 'Infinity'::float8
            ELSE ((i * 31) % 977) / 7.0 END,
       i % 3 = 0,
       i % 7
FROM generate_series(1, 30000) i;
CREATE TABLE c (LIKE h) USING incetl_cow;
SELECT incetl.set_table_options('c', record_key => 'id', file_group_rows => 2000);
INSERT INTO c SELECT * FROM h;
ANALYZE h;
ANALYZE c;

-- Runs q (with %s for the table) on both tables; the rows must be the
-- same, in the same order.
CREATE FUNCTION check_topn(q text, OUT plan text, OUT result text, OUT nrows int)
LANGUAGE plpgsql AS $$
DECLARE
    hr text[];
    cr text[];
    line text;
BEGIN
    plan := 'ordinary';
    FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) ' || format(q, 'c') LOOP
        IF line LIKE '%IncetlCowTopN%' THEN
            plan := CASE WHEN line LIKE '%Parallel%' THEN 'parallel top-n'
                         ELSE 'top-n' END;
        END IF;
    END LOOP;
    EXECUTE format('SELECT array(SELECT x::text FROM (%s) x)', format(q, 'h')) INTO hr;
    EXECUTE format('SELECT array(SELECT x::text FROM (%s) x)', format(q, 'c')) INTO cr;
    result := CASE WHEN hr IS NOT DISTINCT FROM cr THEN 'same' ELSE 'DIFFERENT' END;
    nrows := cardinality(cr);
END
$$;

EXPLAIN (COSTS OFF) SELECT id, amount FROM c ORDER BY amount DESC LIMIT 20;
EXPLAIN (COSTS OFF) SELECT id, amount FROM c WHERE g = 3 ORDER BY amount DESC NULLS LAST, id LIMIT 20 OFFSET 5;

SELECT q, r.* FROM (VALUES
    ('SELECT id, amount FROM %s ORDER BY amount DESC, id LIMIT 20'),
    ('SELECT id, amount FROM %s ORDER BY amount DESC NULLS LAST, id LIMIT 20'),
    ('SELECT id, amount FROM %s ORDER BY amount NULLS FIRST, id LIMIT 700'),
    ('SELECT id, amount FROM %s ORDER BY amount, id LIMIT 10 OFFSET 25'),
    ('SELECT id, amount FROM %s ORDER BY amount USING >, id LIMIT 10'),
    ('SELECT amount FROM %s WHERE amount IS NOT NULL ORDER BY amount LIMIT 1'),
    -- ties: only the ORDER BY columns
    ('SELECT g FROM %s ORDER BY g DESC LIMIT 30'),
    ('SELECT g, flag FROM %s ORDER BY g, flag DESC LIMIT 5000'),
    ('SELECT g, ts FROM %s ORDER BY g, ts LIMIT 100 OFFSET 7'),
    -- text under collations
    ('SELECT id, name FROM %s ORDER BY name, id LIMIT 30'),
    ('SELECT id, name FROM %s ORDER BY name COLLATE "C" DESC, id LIMIT 30'),
    ('SELECT id, name FROM %s ORDER BY name COLLATE "en-x-icu", id DESC LIMIT 30'),
    ('SELECT id, name FROM %s ORDER BY name COLLATE "en-x-icu" DESC NULLS LAST, id LIMIT 30'),
    -- floats with NaN and infinity, timestamps, booleans
    ('SELECT id, f FROM %s ORDER BY f DESC, id LIMIT 40'),
    ('SELECT id, f FROM %s ORDER BY f, id LIMIT 10'),
    ('SELECT id, ts FROM %s ORDER BY ts DESC, id LIMIT 25'),
    ('SELECT id, flag FROM %s ORDER BY flag, id DESC LIMIT 5'),
    -- several directions; a column not in the output; expressions above
    ('SELECT id, g, name FROM %s ORDER BY g DESC, name NULLS FIRST, id LIMIT 40'),
    ('SELECT id FROM %s ORDER BY ts, id LIMIT 10'),
    ('SELECT id * 2, upper(name), amount + 1 FROM %s ORDER BY ts DESC, id LIMIT 15'),
    -- a Filter, evaluated on the candidate rows
    ('SELECT id, amount FROM %s WHERE g = 3 ORDER BY amount DESC NULLS LAST, id LIMIT 20 OFFSET 5'),
    ('SELECT id, name FROM %s WHERE name LIKE ''B%%'' AND amount > 50 ORDER BY name, id LIMIT 12'),
    ('SELECT id, amount FROM %s WHERE id > 29990 ORDER BY amount, id LIMIT 30'),
    ('SELECT id FROM %s WHERE amount > 1000 ORDER BY amount, id LIMIT 3'),
    ('SELECT id, amount FROM %s WHERE id %% 2 = (SELECT 1) ORDER BY amount, id LIMIT 9'),
    -- LIMIT 0, and LIMIT beyond the rows there are
    ('SELECT id FROM %s ORDER BY amount LIMIT 0'),
    ('SELECT id, amount FROM %s WHERE g = 1 ORDER BY amount DESC, id LIMIT 5000'),
    ('SELECT id, amount FROM %s ORDER BY amount, id LIMIT 10 OFFSET 29995'),
    ('SELECT id, amount FROM %s ORDER BY amount, id LIMIT 10 OFFSET 40000'),
    ('SELECT id, amount FROM %s WHERE id > 29700 ORDER BY amount NULLS FIRST, id LIMIT 1000')
) v(q), LATERAL check_topn(q) r;

-- LIMIT beyond the table: taken when the rows fit in work_mem
SET work_mem = '64MB';
SELECT * FROM check_topn('SELECT id, amount, name FROM %s ORDER BY name DESC, amount, id LIMIT 40000');
RESET work_mem;
SELECT * FROM check_topn('SELECT id, amount, name FROM %s ORDER BY name DESC, amount, id LIMIT 40000');

-- not offered (and still the same)
SELECT q, r.* FROM (VALUES
    ('SELECT id, amount FROM %s ORDER BY amount + 0, id LIMIT 10'),
    ('SELECT id, amount FROM %s ORDER BY amount, id'),
    ('SELECT id, amount FROM %s ORDER BY amount, id FETCH FIRST 10 ROWS WITH TIES'),
    ('SELECT DISTINCT g FROM %s ORDER BY g LIMIT 3'),
    ('SELECT g, count(*) FROM %s GROUP BY g ORDER BY g LIMIT 3'),
    ('SELECT id, rank() OVER (ORDER BY id) FROM %s ORDER BY id LIMIT 3'),
    ('SELECT id FROM %s WHERE random() >= 0 ORDER BY id LIMIT 3'),
    ('SELECT id, generate_series(1, 2) FROM %s ORDER BY id LIMIT 3')
) v(q), LATERAL check_topn(q) r;
EXPLAIN (COSTS OFF) SELECT id FROM c ORDER BY id LIMIT 3 FOR UPDATE;
EXPLAIN (COSTS OFF) SELECT id, ctid FROM c ORDER BY id LIMIT 3;

-- the switch of our custom plans
SET incetl.cow_aggregate_pushdown = off;
SELECT * FROM check_topn('SELECT id, amount FROM %s ORDER BY amount, id LIMIT 10');
RESET incetl.cow_aggregate_pushdown;

-- A prepared statement: a custom plan folds the parameter LIMIT to a
-- constant, a generic plan keeps the parameter and falls back.
PREPARE p(int, int) AS SELECT id, amount FROM c ORDER BY amount DESC, id LIMIT $1 OFFSET $2;
SET plan_cache_mode = force_custom_plan;
EXPLAIN (COSTS OFF) EXECUTE p(3, 1);
EXECUTE p(3, 1);
SET plan_cache_mode = force_generic_plan;
EXPLAIN (COSTS OFF) EXECUTE p(3, 1);
EXECUTE p(3, 1);
RESET plan_cache_mode;
DEALLOCATE p;

-- A scroll cursor reads the rows backward too (no Material needed).
BEGIN;
EXPLAIN (COSTS OFF) DECLARE cur SCROLL CURSOR FOR
    SELECT id, amount FROM c ORDER BY amount, id LIMIT 4 OFFSET 1;
DECLARE cur SCROLL CURSOR FOR SELECT id, amount FROM c ORDER BY amount, id LIMIT 4 OFFSET 1;
FETCH 3 FROM cur;
FETCH BACKWARD 2 FROM cur;
FETCH LAST FROM cur;
FETCH BACKWARD 10 FROM cur;
FETCH 2 FROM cur;
COMMIT;
SELECT id, amount FROM h ORDER BY amount, id LIMIT 4 OFFSET 1;

-- Changes in the same transaction: updates, upserts, deletes, inserts.
-- A cursor declared before them keeps its snapshot's (older) versions.
BEGIN;
DECLARE before_changes CURSOR FOR SELECT id, amount FROM c ORDER BY amount DESC NULLS LAST, id LIMIT 3;
UPDATE c SET amount = amount + 1000 WHERE id IN (5, 6, 7);
UPDATE h SET amount = amount + 1000 WHERE id IN (5, 6, 7);
DELETE FROM c WHERE id IN (6, 1040);
DELETE FROM h WHERE id IN (6, 1040);
INSERT INTO c VALUES (30001, 999.5, 'new', now(), 1, true, 1);
INSERT INTO h VALUES (30001, 999.5, 'new', now(), 1, true, 1);
-- an upsert: an INSERT of a stored key replaces its row
INSERT INTO c SELECT id, 2000, name, ts, f, flag, g FROM c WHERE id = 8;
UPDATE h SET amount = 2000 WHERE id = 8;
SELECT * FROM check_topn('SELECT id, amount FROM %s ORDER BY amount DESC NULLS LAST, id LIMIT 8');
SELECT * FROM check_topn('SELECT id, name FROM %s WHERE g = 5 ORDER BY amount DESC NULLS LAST, id LIMIT 8');
FETCH ALL FROM before_changes;
ROLLBACK;
SELECT * FROM check_topn('SELECT id, amount FROM %s ORDER BY amount DESC NULLS LAST, id LIMIT 8');

-- REPEATABLE READ: the snapshot of the transaction's first statement
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT id, amount FROM c ORDER BY amount DESC NULLS LAST, id LIMIT 2;
SELECT id, amount FROM c ORDER BY amount DESC NULLS LAST, id LIMIT 2;
COMMIT;

-- A column added later: the older file groups read its default.
ALTER TABLE c ADD COLUMN extra int DEFAULT 7;
ALTER TABLE h ADD COLUMN extra int DEFAULT 7;
INSERT INTO c (id, amount, extra) VALUES (30002, 1, 9), (30003, 2, NULL), (30004, 3, 5);
INSERT INTO h (id, amount, extra) VALUES (30002, 1, 9), (30003, 2, NULL), (30004, 3, 5);
SELECT * FROM check_topn('SELECT id, extra FROM %s ORDER BY extra DESC, id LIMIT 5');
SELECT * FROM check_topn('SELECT id, extra FROM %s ORDER BY extra, id DESC LIMIT 5');

-- Parallel: a Gather Merge over the participants' top rows.
SET max_parallel_workers_per_gather = 2;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
EXPLAIN (COSTS OFF) SELECT id, amount FROM c ORDER BY amount DESC, id LIMIT 20;
SELECT * FROM check_topn('SELECT id, amount FROM %s ORDER BY amount DESC, id LIMIT 20');
SELECT * FROM check_topn('SELECT id, name FROM %s WHERE g = 2 ORDER BY name COLLATE "C", id LIMIT 50 OFFSET 10');
RESET max_parallel_workers_per_gather;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
SET max_parallel_workers_per_gather = 0;

-- Whole file groups are skipped by the first ORDER BY column's min/max:
-- with the table in id order, the top ids are all in the last group.
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
    SELECT id FROM c ORDER BY id DESC LIMIT 5;
SELECT id FROM c ORDER BY id DESC LIMIT 5;

-- ... and by the min/max of a Filter's "column op constant" clause
CREATE TABLE s (id int, seq int, v int) USING incetl_cow;
SELECT incetl.set_table_options('s', record_key => 'id', file_group_rows => 1000);
INSERT INTO s SELECT i, i, (i * 37) % 1000 FROM generate_series(1, 10000) i;
ANALYZE s;
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
    SELECT id, v FROM s WHERE seq > 8500 ORDER BY v DESC, id LIMIT 3;
SELECT id, v FROM s WHERE seq > 8500 ORDER BY v DESC, id LIMIT 3;
SELECT id, v FROM s WHERE 8500 < seq ORDER BY v DESC, id LIMIT 3;
SET incetl.cow_aggregate_pushdown = off;
SELECT id, v FROM s WHERE seq > 8500 ORDER BY v DESC, id LIMIT 3;
RESET incetl.cow_aggregate_pushdown;

-- Privileges are checked as usual, columns included.
CREATE ROLE regress_cow_topn_reader;
GRANT USAGE ON SCHEMA cow_topn TO regress_cow_topn_reader;
GRANT SELECT (id, amount) ON c TO regress_cow_topn_reader;
SET ROLE regress_cow_topn_reader;
SELECT id, amount FROM c ORDER BY amount DESC NULLS LAST, id LIMIT 3;
SELECT id, name FROM c ORDER BY amount DESC NULLS LAST, id LIMIT 3;
SELECT id FROM c ORDER BY name LIMIT 3;
RESET ROLE;

-- Row-level security: the policy's quals are not ours, so a user it
-- applies to gets the ordinary plan; the owner does not.
GRANT SELECT ON c TO regress_cow_topn_reader;
ALTER TABLE c ENABLE ROW LEVEL SECURITY;
CREATE POLICY few ON c FOR SELECT USING (g <> 3);
SET ROLE regress_cow_topn_reader;
EXPLAIN (COSTS OFF) SELECT id, amount FROM c ORDER BY amount DESC NULLS LAST, id LIMIT 3;
SELECT id, amount FROM c ORDER BY amount DESC NULLS LAST, id LIMIT 3;
RESET ROLE;
SELECT id, amount FROM h WHERE g <> 3 ORDER BY amount DESC NULLS LAST, id LIMIT 3;
EXPLAIN (COSTS OFF) SELECT id, amount FROM c ORDER BY amount DESC NULLS LAST, id LIMIT 3;
DROP POLICY few ON c;
ALTER TABLE c DISABLE ROW LEVEL SECURITY;
REVOKE ALL ON c FROM regress_cow_topn_reader;
REVOKE USAGE ON SCHEMA cow_topn FROM regress_cow_topn_reader;
DROP ROLE regress_cow_topn_reader;

-- In a subquery run again for each outer row (a rescan with a new
-- parameter in the Filter).
SELECT o.g, (SELECT string_agg(x.id::text, ',') FROM
               (SELECT id FROM c WHERE c.g = o.g ORDER BY amount DESC NULLS LAST, id LIMIT 3) x)
FROM generate_series(0, 3) o(g);
SELECT o.g, (SELECT string_agg(x.id::text, ',') FROM
               (SELECT id FROM h WHERE h.g = o.g ORDER BY amount DESC NULLS LAST, id LIMIT 3) x)
FROM generate_series(0, 3) o(g);

-- The cost counts the file groups the scan is expected to read: ordered by
-- a column that follows the rows' order (the record key: ANALYZE's
-- correlation 1), only the groups holding the first rows, so a serial
-- scan, not a Gather Merge of workers each starting up to read one group;
-- by an uncorrelated column every group, so the parallel plan
CREATE TABLE kh (id bigint, note text);
INSERT INTO kh SELECT g, md5(g::text) FROM generate_series(1, 50000) g;
CREATE TABLE kc (LIKE kh) USING incetl_cow;
SELECT incetl.set_table_options('kc', record_key => 'id', file_group_rows => 4096);
INSERT INTO kc SELECT * FROM kh;
ANALYZE kc;
SET parallel_setup_cost = 100;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
EXPLAIN (COSTS OFF) SELECT * FROM kc WHERE id > 20000 ORDER BY id LIMIT 10;
EXPLAIN (COSTS OFF) SELECT * FROM kc ORDER BY id DESC LIMIT 10;
EXPLAIN (COSTS OFF) SELECT * FROM kc ORDER BY note LIMIT 10;
SELECT (SELECT array_agg(id) FROM (SELECT id FROM kc WHERE id > 20000 ORDER BY id LIMIT 10) a) =
       (SELECT array_agg(id) FROM (SELECT id FROM kh WHERE id > 20000 ORDER BY id LIMIT 10) b) AS key_asc,
       (SELECT array_agg(id) FROM (SELECT id FROM kc ORDER BY id DESC LIMIT 10) a) =
       (SELECT array_agg(id) FROM (SELECT id FROM kh ORDER BY id DESC LIMIT 10) b) AS key_desc,
       (SELECT array_agg(note) FROM (SELECT note FROM kc ORDER BY note LIMIT 10) a) =
       (SELECT array_agg(note) FROM (SELECT note FROM kh ORDER BY note LIMIT 10) b) AS note_asc;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;

-- Blocks too: in a file group of several blocks (4096 rows each) sorted by
-- the key, once the rows kept are the best the first blocks hold, the
-- blocks whose min/max of the first ORDER BY column cannot beat the worst
-- of them are skipped without decoding them; a column with NULLs sorting
-- first skips none (a block's min/max leave its NULLs out)
CREATE TABLE bh (id bigint, v int, note text);
INSERT INTO bh SELECT g, CASE WHEN g % 1000 <> 7 THEN g % 5000 END, md5(g::text)
FROM generate_series(1, 20000) g;
CREATE TABLE bc (LIKE bh) USING incetl_cow;
SELECT incetl.set_table_options('bc', record_key => 'id', file_group_rows => 100000);
INSERT INTO bc SELECT * FROM bh;
ANALYZE bc;
SET max_parallel_workers_per_gather = 0;
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
    SELECT * FROM bc ORDER BY id LIMIT 10;
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
    SELECT id, note FROM bc ORDER BY id DESC LIMIT 10 OFFSET 5;
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
    SELECT id, v FROM bc ORDER BY v DESC, id LIMIT 3;
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
    SELECT id, v FROM bc ORDER BY v DESC NULLS LAST, id LIMIT 3;
CREATE FUNCTION same_as_heap(q text) RETURNS bool LANGUAGE plpgsql AS $$
DECLARE
    hr text[];
    cr text[];
BEGIN
    EXECUTE format('SELECT array(SELECT x::text FROM (%s) x)', format(q, 'bh')) INTO hr;
    EXECUTE format('SELECT array(SELECT x::text FROM (%s) x)', format(q, 'bc')) INTO cr;
    RETURN hr IS NOT DISTINCT FROM cr;
END $$;
SELECT q, same_as_heap(q) FROM (VALUES
    ('SELECT * FROM %s ORDER BY id LIMIT 10'),
    ('SELECT id, note FROM %s ORDER BY id DESC LIMIT 10 OFFSET 5'),
    ('SELECT id, v FROM %s ORDER BY v DESC, id LIMIT 3'),
    ('SELECT id, v FROM %s ORDER BY v DESC NULLS LAST, id LIMIT 3'),
    ('SELECT id, v FROM %s ORDER BY v, id DESC LIMIT 7'),
    ('SELECT id FROM %s ORDER BY id LIMIT 5000'),
    ('SELECT id, v FROM %s WHERE v > 4990 ORDER BY id LIMIT 4'),
    ('SELECT id FROM %s WHERE id > 12000 ORDER BY id LIMIT 3')) t(q);
-- costed by the blocks read: five file groups of five blocks each,
-- ordered by the key, plan serially where workers are cheap (about a
-- block read); by an uncorrelated column, every block: in parallel
CREATE TABLE bc2 (LIKE bh) USING incetl_cow;
SELECT incetl.set_table_options('bc2', record_key => 'id', file_group_rows => 20000);
INSERT INTO bc2 SELECT g, g % 5000, md5(g::text) FROM generate_series(1, 100000) g;
ANALYZE bc2;
SET parallel_setup_cost = 100;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
EXPLAIN (COSTS OFF) SELECT * FROM bc2 ORDER BY id LIMIT 10;
EXPLAIN (COSTS OFF) SELECT * FROM bc2 ORDER BY note LIMIT 10;
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
    SELECT * FROM bc2 ORDER BY id DESC LIMIT 10;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;

DROP SCHEMA cow_topn CASCADE;
