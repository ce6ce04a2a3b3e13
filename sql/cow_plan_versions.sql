-- The planner's estimate of an incetl_cow table's rows (CowPlanVersionTotals,
-- cow_hooks.c) and the index fetch of the same statement read one list of
-- the current versions, kept per backend by the view of the snapshot it
-- was loaded under (CowCurrentVersions, cow_scan.c): both follow every
-- commit, the transaction's own writes and a rollback, never a list of an
-- earlier view.
CREATE TABLE pv (id bigint, v text) USING incetl_cow;
SELECT FROM incetl.set_table_options('pv', record_key => 'id', file_group_rows => 400);
INSERT INTO pv SELECT g, 'v' || g FROM generate_series(1, 1000) g;
CREATE INDEX pv_id ON pv (id);
CREATE FUNCTION pv_est() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    j json;
BEGIN
    EXECUTE 'EXPLAIN (FORMAT JSON) SELECT * FROM pv' INTO j;
    RETURN (j -> 0 -> 'Plan' ->> 'Plan Rows')::bigint;
END $$;
SET enable_seqscan = off;
SET enable_bitmapscan = off;
SELECT pv_est();
SELECT * FROM pv WHERE id = 999;
-- a commit: the next statement plans and fetches with the new versions
INSERT INTO pv SELECT g, 'w' || g FROM generate_series(1001, 1500) g;
SELECT pv_est();
SELECT * FROM pv WHERE id = 1499;
UPDATE pv SET v = 'updated' WHERE id = 999;
SELECT * FROM pv WHERE id = 999;
SELECT pv_est();
-- the transaction's own writes, then its rollback
BEGIN;
INSERT INTO pv SELECT g, 'x' || g FROM generate_series(1501, 1600) g;
SELECT pv_est();
SELECT * FROM pv WHERE id = 1600;
ROLLBACK;
SELECT pv_est();
SELECT * FROM pv WHERE id = 1600;
SELECT * FROM pv WHERE id = 1500;
RESET enable_seqscan;
RESET enable_bitmapscan;
DROP TABLE pv;
DROP FUNCTION pv_est();
