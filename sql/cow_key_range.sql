-- Key ranges without an index: a sequential scan with quals on the first
-- record-key column finds, in each file group it reads (sorted by the
-- key), the rows of the range by binary search over the key column and
-- returns only those, decoding of the other columns only the blocks that
-- hold them.  Every query is checked against a heap copy (the executor
-- still evaluates the quals) and, where it matters, by the blocks
-- decompressed (incetl.cow_decode_counts()).
CREATE SCHEMA cow_key_range;
SET search_path = cow_key_range, public;
-- the blocks and pages counted here are those read without the read cache
-- (cow_read_cache.c, sql/cow_read_cache.sql), which would leave out the
-- ones an earlier statement of the session decompressed
SET incetl.cow_read_cache_size = 0;
SET enable_indexscan = off;
SET enable_bitmapscan = off;
SET incetl.cow_aggregate_pushdown = off;

\getenv abs_srcdir PG_ABS_SRCDIR
\set heap_differing :abs_srcdir '/sql/include/heap_differing.sql'
\i :heap_differing

-- column blocks decompressed by query q
CREATE FUNCTION blocks(q text) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    b0 bigint;
    b1 bigint;
BEGIN
    SELECT column_blocks_decoded INTO b0 FROM incetl.cow_decode_counts();
    EXECUTE q;
    SELECT column_blocks_decoded INTO b1 FROM incetl.cow_decode_counts();
    RETURN b1 - b0;
END $$;

CREATE TABLE h (id bigint, sub int, amount numeric(12,2), note text);
INSERT INTO h
SELECT g, g % 3, (g % 1000) / 10.0, md5(g::text)
FROM generate_series(1, 50000) g;

-- file groups of 20000 rows (5 blocks each), 4096 (one block), 30000
CREATE TABLE c20k (LIKE h) USING incetl_cow;
SELECT incetl.set_table_options('c20k', record_key => 'id', file_group_rows => 20000);
INSERT INTO c20k SELECT * FROM h;
CREATE TABLE c4k (LIKE h) USING incetl_cow;
SELECT incetl.set_table_options('c4k', record_key => 'id', file_group_rows => 4096);
INSERT INTO c4k SELECT * FROM h;
-- a composite key: (sub, id) would not be sorted by id; (id, sub) is
CREATE TABLE ccomp (LIKE h) USING incetl_cow;
SELECT incetl.set_table_options('ccomp', record_key => 'id,sub', file_group_rows => 30000);
INSERT INTO ccomp SELECT * FROM h;
-- no record key: unchanged (every block of the groups read)
CREATE TABLE cnokey (LIKE h) USING incetl_cow;
SELECT incetl.set_table_options('cnokey', file_group_rows => 20000);
INSERT INTO cnokey SELECT * FROM h;
SELECT count(*) FROM c20k;
SELECT file_groups_read FROM incetl.cow_last_scan();

CREATE TABLE queries (n int, q text);
INSERT INTO queries VALUES
    (1, 'SELECT * FROM %s WHERE id BETWEEN 1000 AND 1100'),
    (2, 'SELECT * FROM %s WHERE id = 12345'),
    (3, 'SELECT * FROM %s WHERE id > 49990'),
    (4, 'SELECT * FROM %s WHERE id < 5'),
    (5, 'SELECT * FROM %s WHERE id >= 19990 AND id <= 20010'),   -- across groups
    (6, 'SELECT * FROM %s WHERE id BETWEEN 4090 AND 4100'),      -- across blocks
    (7, 'SELECT * FROM %s WHERE id BETWEEN 2000 AND 1000'),      -- empty
    (8, 'SELECT * FROM %s WHERE id = 0'),                        -- below all
    (9, 'SELECT * FROM %s WHERE id > 50000'),                    -- above all
    (10, 'SELECT * FROM %s WHERE id BETWEEN 100 AND 40000 AND sub = 1'),
    (11, 'SELECT * FROM %s WHERE id = 777 AND amount > 0'),
    (12, 'SELECT * FROM %s WHERE id::numeric = 777'),             -- no skip qual
    (13, 'SELECT * FROM %s WHERE 3000 > id AND 2990 <= id'),      -- Const op Var
    (14, 'SELECT * FROM %s WHERE id = 1000::int4'),              -- cross-type
    (15, 'SELECT id, note FROM %s WHERE id > 20000 AND id < 20002'),
    (16, 'SELECT * FROM %s WHERE sub = 2 AND amount < 1');         -- not on the key

-- the same rows as heap, for every table
SELECT n, differing(q, 'h', 'c20k') AS c20k, differing(q, 'h', 'c4k') AS c4k,
       differing(q, 'h', 'ccomp') AS ccomp, differing(q, 'h', 'cnokey') AS cnokey
FROM queries ORDER BY n;

-- blocks decompressed: a point in a 20000-row group of 4 columns: the
-- blocks' min/max leave the one block holding it, of which one block per
-- column is read (the binary search over the key stays in it); without a
-- key the same (per-block min/max of id).  An empty range: the one block
-- min/max leave (id >= 2000 and id <= 1000 both hold for 1..4096).  A
-- qual min/max cannot use (id::numeric) reads the key column whole
SELECT blocks('SELECT * FROM c20k WHERE id = 12345') AS c20k_point,
       blocks('SELECT * FROM c4k WHERE id = 12345') AS c4k_point,
       blocks('SELECT * FROM ccomp WHERE id = 12345') AS ccomp_point,
       blocks('SELECT * FROM cnokey WHERE id = 12345') AS cnokey_point,
       blocks('SELECT * FROM c20k WHERE id BETWEEN 2000 AND 1000') AS empty_range,
       blocks('SELECT * FROM c20k WHERE id BETWEEN 19990 AND 20010') AS across_groups,
       blocks('SELECT * FROM c20k WHERE id::numeric = 12345') AS no_skip_qual,
       blocks('SELECT * FROM c20k WHERE sub = 2 AND id > 0') AS wide_range;

-- backward scans and cursors over the range
BEGIN;
DECLARE cur SCROLL CURSOR FOR SELECT id FROM c20k WHERE id BETWEEN 19998 AND 20003;
FETCH 2 FROM cur;
FETCH LAST FROM cur;
FETCH BACKWARD 3 FROM cur;
FETCH ABSOLUTE 1 FROM cur;
FETCH BACKWARD 1 FROM cur;
FETCH NEXT FROM cur;
FETCH FORWARD ALL FROM cur;
FETCH PRIOR FROM cur;
CLOSE cur;
DECLARE empty SCROLL CURSOR FOR SELECT id FROM c20k WHERE id BETWEEN 2000 AND 1000;
FETCH LAST FROM empty;
FETCH PRIOR FROM empty;
COMMIT;

-- after upserts and deletes (rewritten file groups stay sorted by key)
INSERT INTO h SELECT g, g % 3, 1, 'new' FROM generate_series(50001, 52000) g;
UPDATE h SET amount = 2, note = 'ups' WHERE id BETWEEN 30000 AND 30500;
UPDATE h SET note = 'up' WHERE id BETWEEN 1000 AND 1100 AND id % 2 = 0;
DELETE FROM h WHERE id BETWEEN 19995 AND 20005 AND id % 3 = 0;
DELETE FROM h WHERE id BETWEEN 10000 AND 10100;
DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['c20k', 'c4k', 'ccomp', 'cnokey'] LOOP
        EXECUTE format('INSERT INTO %s SELECT g, g %% 3, 1, ''new'' FROM generate_series(50001, 52000) g', t);
        IF t = 'cnokey' THEN
            EXECUTE format('UPDATE %s SET amount = 2, note = ''ups'' WHERE id BETWEEN 30000 AND 30500', t);
        ELSE
            -- an upsert by record key
            EXECUTE format('INSERT INTO %s SELECT g, g %% 3, 2, ''ups'' FROM generate_series(30000, 30500) g', t);
        END IF;
        EXECUTE format('UPDATE %s SET note = ''up'' WHERE id BETWEEN 1000 AND 1100 AND id %% 2 = 0', t);
        EXECUTE format('DELETE FROM %s WHERE id BETWEEN 19995 AND 20005 AND id %% 3 = 0', t);
        EXECUTE format('DELETE FROM %s WHERE id BETWEEN 10000 AND 10100', t);
    END LOOP;
END $$;
INSERT INTO queries VALUES
    (17, 'SELECT * FROM %s WHERE id BETWEEN 10050 AND 10200'),
    (18, 'SELECT * FROM %s WHERE id BETWEEN 49995 AND 50010'),
    (19, 'SELECT * FROM %s WHERE id >= 51990'),
    (20, 'SELECT * FROM %s WHERE id BETWEEN 29990 AND 30010');
SELECT n, differing(q, 'h', 'c20k') AS c20k, differing(q, 'h', 'c4k') AS c4k,
       differing(q, 'h', 'ccomp') AS ccomp, differing(q, 'h', 'cnokey') AS cnokey
FROM queries ORDER BY n;
SELECT count(*) FROM c20k WHERE id BETWEEN 1000 AND 1100 AND note = 'up';
SELECT count(*) FROM c20k WHERE id BETWEEN 19995 AND 20005;

-- a changed key: the groups are rewritten in the new key's order
SELECT incetl.set_table_options('ccomp', record_key => 'sub,id');
SELECT n, differing(q, 'h', 'ccomp') AS ccomp FROM queries ORDER BY n;
-- (sub = 1 is a third of every group; the blocks' min/max of sub and id
-- leave only the blocks that may hold the row, 2 per column)
SELECT blocks('SELECT * FROM ccomp WHERE sub = 1 AND id = 12346') AS sub_point,
       blocks('SELECT * FROM ccomp WHERE sub = 3') AS sub_none;

-- in a transaction, rows of our own not yet merged, under a prepared plan
BEGIN;
INSERT INTO c20k VALUES (60000, 0, 1, 'own');
DELETE FROM c20k WHERE id = 12345;
SELECT * FROM c20k WHERE id IN (60000, 12345) ORDER BY id;
SELECT * FROM c20k WHERE id BETWEEN 59999 AND 60001;
ROLLBACK;
PREPARE p(bigint, bigint) AS SELECT count(*), min(id), max(id) FROM c20k WHERE id BETWEEN $1 AND $2;
EXECUTE p(100, 199);
EXECUTE p(19990, 20010);
EXECUTE p(5, 1);

-- with a btree on the key, the planner weighs the key-range scan (its cost
-- scaled by the range's selectivity) against the index: a range by
-- constants reads the groups' key range, a single row and a range by
-- parameters (a generic plan) go through the index; all three agree with
-- heap
RESET enable_indexscan;
RESET enable_bitmapscan;
CREATE INDEX ON c20k (id);
CREATE INDEX ON h (id);
ANALYZE c20k;
ANALYZE h;
EXPLAIN (COSTS OFF) SELECT * FROM c20k WHERE id BETWEEN 1000 AND 1100;
EXPLAIN (COSTS OFF) SELECT * FROM c20k WHERE id = 12346;
SELECT differing('SELECT * FROM %s WHERE id BETWEEN 1000 AND 1100', 'h', 'c20k') AS range_rows,
       differing('SELECT * FROM %s WHERE id = 12346', 'h', 'c20k') AS point_rows;
SET plan_cache_mode = force_generic_plan;
PREPARE g(bigint, bigint) AS SELECT count(*), min(id), max(id), sum(amount) FROM c20k WHERE id BETWEEN $1 AND $2;
EXPLAIN (COSTS OFF) EXECUTE g(1000, 1100);
EXECUTE g(1000, 1100);
SELECT count(*), min(id), max(id), sum(amount) FROM h WHERE id BETWEEN 1000 AND 1100;
RESET plan_cache_mode;

-- aggregates: the pushdown (cow_agg.c) reads whole blocks of the range, a
-- key-range scan only its rows; both are costed by the range's
-- selectivity, so a narrow range is aggregated over the key-range scan
-- (not through the index, nor a Gather of workers), a wide one by the
-- pushdown
RESET incetl.cow_aggregate_pushdown;
ANALYZE c4k;
EXPLAIN (COSTS OFF) SELECT count(*), sum(amount) FROM c20k WHERE id BETWEEN 1000 AND 1099;
EXPLAIN (COSTS OFF) SELECT count(*), sum(amount) FROM c4k WHERE id BETWEEN 1000 AND 1099;
EXPLAIN (COSTS OFF) SELECT sub, count(*) FROM c4k WHERE id BETWEEN 1000 AND 1099 GROUP BY sub;
EXPLAIN (COSTS OFF) SELECT count(*), sum(amount) FROM c20k WHERE id BETWEEN 1000 AND 40000;
SELECT differing('SELECT count(*), sum(amount) FROM %s WHERE id BETWEEN 1000 AND 1099', 'h', 'c20k') AS narrow_idx,
       differing('SELECT count(*), sum(amount) FROM %s WHERE id BETWEEN 1000 AND 1099', 'h', 'c4k') AS narrow,
       differing('SELECT sub, count(*) FROM %s WHERE id BETWEEN 1000 AND 1099 GROUP BY sub', 'h', 'c4k') AS narrow_grouped,
       differing('SELECT count(*), sum(amount) FROM %s WHERE id BETWEEN 1000 AND 40000', 'h', 'c20k') AS wide;

-- IN lists on the key: the range from the least to the greatest element
-- skips file groups and blocks and narrows the key range (the executor
-- still evaluates the list); costed by that range, and at most a block per
-- element (a search of about a hundred rows' worth per element of a list
-- of up to 64, below), so clustered keys and a short list of scattered ones
-- take the key-range scan, and a long list of scattered keys the index
SET incetl.cow_aggregate_pushdown = off;
EXPLAIN (COSTS OFF) SELECT * FROM c20k WHERE id IN (12001, 12003, 12040, NULL);
EXPLAIN (COSTS OFF) SELECT * FROM c20k WHERE id IN (5, 25000, 49990);
EXPLAIN (COSTS OFF) SELECT * FROM c20k WHERE id = ANY ('{613,1226,1839,2452,3065,3678,4291,4904,5517,6130,6743,7356,7969,8582,9195,9808,10421,11034,11647,12260,12873,13486,14099,14712,15325,15938,16551,17164,17777,18390,19003,19616,20229,20842,21455,22068,22681,23294,23907,24520,25133,25746,26359,26972,27585,28198,28811,29424,30037,30650,31263,31876,32489,33102,33715,34328,34941,35554,36167,36780,37393,38006,38619,39232,39845,40458,41071,41684,42297,42910,43523,44136,44749,45362,45975,46588,47201,47814,48427,49040}'::bigint[]);
SELECT differing('SELECT * FROM %s WHERE id IN (12001, 12003, 12040, NULL)', 'h', 'c20k') AS clustered,
       differing('SELECT * FROM %s WHERE id IN (5, 25000, 49990)', 'h', 'c20k') AS scattered,
       differing('SELECT * FROM %s WHERE id IN (12001, 12003, 12040, NULL)', 'h', 'c4k') AS clustered_noidx,
       differing('SELECT * FROM %s WHERE id = ANY (ARRAY[49999, 3, 70000]::int4[])', 'h', 'c4k') AS cross_type,
       differing('SELECT * FROM %s WHERE id IN (NULL)', 'h', 'c4k') AS only_null,
       differing('SELECT * FROM %s WHERE id = ANY (''{}''::bigint[])', 'h', 'c4k') AS empty,
       differing('SELECT * FROM %s WHERE id IN (60000, 70000)', 'h', 'c4k') AS outside;
-- blocks decompressed: with the bounds, those of the one block the
-- clustered list lies in; with an OR, which has none, far more
SET enable_indexscan = off;
SET enable_bitmapscan = off;
SELECT blocks('SELECT * FROM c4k WHERE id IN (12001, 12003, 12040)') AS clustered,
       blocks('SELECT * FROM c4k WHERE id IN (12001, 12003, 12040) OR id IS NULL') AS no_bounds;
-- keys scattered over the table: the groups and blocks no element lies in
-- are skipped too, not only those outside the bounds -- three groups read
-- of the thirteen between them (the bounds alone read all thirteen)
SELECT blocks('SELECT * FROM c4k WHERE id IN (5, 25000, 49990)') AS scattered,
       (SELECT file_groups_read FROM incetl.cow_last_scan()) AS scattered_groups,
       blocks('SELECT * FROM c4k WHERE id BETWEEN 5 AND 49990 AND id IN (5, 25000, 49990)') AS scattered_and_range,
       blocks('SELECT * FROM c4k WHERE id >= 5 AND id <= 49990 AND (id = 5 OR id = 25000 OR id = 49990)') AS bounds_only,
       (SELECT file_groups_read FROM incetl.cow_last_scan()) AS bounds_only_groups;
SELECT differing('SELECT * FROM %s WHERE id IN (49990, 5, 25000, 25000, NULL, 7, 4001, 4000)', 'h', 'c4k') AS scattered_noidx,
       differing('SELECT * FROM %s WHERE id IN (49990, 5, 25000, 25000, NULL, 7, 4001, 4000)', 'h', 'c20k') AS scattered_idx,
       differing('SELECT * FROM %s WHERE id = ANY (ARRAY[70000, 12345, -5, 50000]::int4[])', 'h', 'c4k') AS scattered_cross_type,
       differing('SELECT * FROM (SELECT id FROM %s WHERE id IN (3, 33333) ORDER BY id DESC LIMIT 1) x', 'h', 'c4k') AS scattered_topn,
       differing('SELECT count(*), sum(amount) FROM %s WHERE id IN (3, 30000, 33333)', 'h', 'c4k') AS scattered_agg;
-- of a short list (up to 64 elements), each element's rows are searched
-- as a key range's ends are and only they are returned, their values
-- decoded one by one: no row is removed by the Filter
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
    SELECT * FROM c4k WHERE id IN (5, 25000, 49990, 70000);
SELECT differing('SELECT * FROM %s WHERE id IN (100, 101, 102, 4000, 4001, 4002, 12345, 19999, 20000, 20001)', 'h', 'c4k') AS adjacent,
       differing('SELECT * FROM %s WHERE id IN (5, 25000, 49990) AND amount > 10', 'h', 'c4k') AS with_filter,
       differing('SELECT * FROM %s WHERE id = ANY (ARRAY(SELECT g * 613 FROM generate_series(1, 80) g))', 'h', 'c4k') AS long_list,
       differing('SELECT * FROM %s WHERE id = ANY (ARRAY(SELECT g * 613 FROM generate_series(1, 60) g))', 'h', 'c4k') AS sixty,
       differing('SELECT * FROM %s WHERE id IN (1000, 1001, 1002, 1003, 10000, 10050, 19998, 19999, 20000, 20001, 20002)', 'h', 'c4k') AS around_changes;
-- a scroll cursor over them, forward, backward and forward again
BEGIN;
DECLARE pc SCROLL CURSOR FOR SELECT id FROM c4k WHERE id IN (5, 6, 25000, 49990);
FETCH ALL FROM pc;
FETCH BACKWARD ALL FROM pc;
FETCH 2 FROM pc;
FETCH BACKWARD 1 FROM pc;
COMMIT;
-- in parallel: each participant searches the groups it claims
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SELECT differing('SELECT * FROM %s WHERE id IN (5, 25000, 49990, 33)', 'h', 'c4k') AS parallel;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;
-- an aggregate over a short list is one over that search; the aggregate
-- pushdown, taken for a list known only at run time (here, from a
-- subquery), skips the groups and blocks no element lies in alike
SET incetl.cow_aggregate_pushdown = on;
EXPLAIN (COSTS OFF) SELECT count(*), sum(amount) FROM c4k WHERE id IN (3, 30000, 33333);
EXPLAIN (COSTS OFF) SELECT count(*), sum(amount) FROM c4k WHERE id = ANY (ARRAY(SELECT unnest('{3,30000,33333}'::bigint[])));
SELECT differing('SELECT count(*), sum(amount) FROM %s WHERE id IN (3, 30000, 33333, NULL)', 'h', 'c4k') AS short_agg,
       differing('SELECT count(*), sum(amount) FROM %s WHERE id = ANY (ARRAY(SELECT unnest(''{3,30000,33333,NULL}''::bigint[])))', 'h', 'c4k') AS pushed_agg,
       (SELECT file_groups_read FROM incetl.cow_last_scan()) AS pushed_groups,
       differing('SELECT count(*), min(amount) FROM %s WHERE id = ANY (ARRAY(SELECT unnest(''{3,30000,33333,60000}''::int4[])))', 'h', 'c4k') AS pushed_cross_type,
       (SELECT file_groups_read FROM incetl.cow_last_scan()) AS pushed_cross_type_groups;
SET incetl.cow_aggregate_pushdown = off;
RESET enable_indexscan;
RESET enable_bitmapscan;
-- a varchar key (the list compared as text) and a text one under "C"
CREATE TABLE hv (k varchar(12), t text COLLATE "C", n int);
INSERT INTO hv SELECT 'k' || lpad(g::text, 6, '0'), 't' || lpad(g::text, 6, '0'), g
FROM generate_series(1, 9000) g;
CREATE TABLE cv (LIKE hv INCLUDING ALL) USING incetl_cow;
SELECT incetl.set_table_options('cv', record_key => 'k', file_group_rows => 2000);
INSERT INTO cv SELECT * FROM hv;
CREATE TABLE cvt (LIKE hv INCLUDING ALL) USING incetl_cow;
SELECT incetl.set_table_options('cvt', record_key => 't', file_group_rows => 2000);
INSERT INTO cvt SELECT * FROM hv;
SELECT differing('SELECT * FROM %s WHERE k IN (''k004001'', ''k004003'', ''zz'', NULL)', 'hv', 'cv') AS varchar_key,
       differing('SELECT * FROM %s WHERE t IN (''t004001'', ''t000002'')', 'hv', 'cvt') AS text_c_key,
       differing('SELECT * FROM %s WHERE t = ANY (ARRAY[''t004001'', ''T'']::text[])', 'hv', 'cvt') AS text_upper,
       blocks('SELECT * FROM cv WHERE k IN (''k004001'', ''k004003'')') AS varchar_blocks,
       differing('SELECT * FROM %s WHERE k IN (''k008999'', ''k000002'', ''k004500'', ''zz'')', 'hv', 'cv') AS varchar_scattered,
       differing('SELECT * FROM %s WHERE t IN (''t008999'', ''T'', ''t000002'')', 'hv', 'cvt') AS text_scattered;
RESET incetl.cow_aggregate_pushdown;

-- a role under row-level security: the key-range scan, IN-list bounds, an
-- aggregate over a key range and the top-N scan return only the rows the
-- policy lets it see
CREATE ROLE regress_cow_key_range_reader;
CREATE TABLE rls (id bigint, secret text) USING incetl_cow;
SELECT incetl.set_table_options('rls', record_key => 'id', file_group_rows => 1000);
INSERT INTO rls SELECT g, 's' || g FROM generate_series(1, 10000) g;
ANALYZE rls;
ALTER TABLE rls ENABLE ROW LEVEL SECURITY;
CREATE POLICY visible ON rls FOR SELECT TO regress_cow_key_range_reader USING (id < 100);
GRANT USAGE ON SCHEMA cow_key_range TO regress_cow_key_range_reader;
GRANT SELECT ON rls TO regress_cow_key_range_reader;
SET ROLE regress_cow_key_range_reader;
SELECT id, secret FROM rls WHERE id IN (5, 500, 9000) ORDER BY id;
SELECT count(*), sum(id) FROM rls WHERE id IN (5, 500, 9000);
SELECT count(*), min(id), max(id) FROM rls WHERE id BETWEEN 90 AND 200;
SELECT id FROM rls WHERE id > 95 ORDER BY id LIMIT 10;
RESET ROLE;
DROP TABLE rls;
REVOKE USAGE ON SCHEMA cow_key_range FROM regress_cow_key_range_reader;
DROP ROLE regress_cow_key_range_reader;

RESET search_path;
DROP SCHEMA cow_key_range CASCADE;
