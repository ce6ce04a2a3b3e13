-- An UPDATE or DELETE of every row of a large table: the rows it removes
-- are kept as a bitmap (cow_delete_set.c), an eighth of a byte a row, and
-- the statement's end walks it; it listed them as eight bytes a row
-- first, 16 MB more for 3,000,000 rows than for 1,000,000.  Each
-- statement runs in a new session, its peak resident memory read before
-- and after; the table of 3,000,000 rows must not cost more than 8 MB
-- beyond the one of 1,000,000 (the groups it rewrites are as large).
CREATE SCHEMA cow_large_statements;
SET search_path = cow_large_statements, public;
CREATE TABLE t1m (id bigint, c int) USING incetl_cow;
CREATE TABLE t3m (id bigint, c int) USING incetl_cow;
SELECT incetl.set_table_options('t1m', record_key => 'id');
SELECT incetl.set_table_options('t3m', record_key => 'id');
INSERT INTO t1m SELECT g, 0 FROM generate_series(1, 1000000) g;
INSERT INTO t3m SELECT g, 0 FROM generate_series(1, 3000000) g;
CREATE TABLE peak (stmt text, rows int, kb bigint);
CREATE FUNCTION hwm() RETURNS bigint LANGUAGE sql AS
$$ SELECT substring(pg_read_file('/proc/self/status') from 'VmHWM:\s*(\d+)')::bigint $$;

\c -
SET search_path = cow_large_statements, public;
SET maintenance_work_mem = '1MB';
CREATE TEMP TABLE b AS SELECT hwm() AS kb;
UPDATE t1m SET c = c + 1;
INSERT INTO peak SELECT 'update', 1, hwm() - kb FROM b;
\c -
SET search_path = cow_large_statements, public;
SET maintenance_work_mem = '1MB';
CREATE TEMP TABLE b AS SELECT hwm() AS kb;
UPDATE t3m SET c = c + 1;
INSERT INTO peak SELECT 'update', 3, hwm() - kb FROM b;
\c -
SET search_path = cow_large_statements, public;
SET maintenance_work_mem = '1MB';
CREATE TEMP TABLE b AS SELECT hwm() AS kb;
DELETE FROM t1m WHERE c = 1;
INSERT INTO peak SELECT 'delete', 1, hwm() - kb FROM b;
\c -
SET search_path = cow_large_statements, public;
SET maintenance_work_mem = '1MB';
CREATE TEMP TABLE b AS SELECT hwm() AS kb;
DELETE FROM t3m WHERE c = 1;
INSERT INTO peak SELECT 'delete', 3, hwm() - kb FROM b;

SELECT stmt, (SELECT kb FROM peak p3 WHERE p3.stmt = p1.stmt AND rows = 3) - kb < 8 * 1024
       AS three_times_the_rows_within_8mb
FROM peak p1 WHERE rows = 1 ORDER BY stmt;
SELECT (SELECT count(*) FROM t1m) AS t1m, (SELECT count(*) FROM t3m) AS t3m;
SELECT count(*) FROM incetl.commits('t3m');

DROP SCHEMA cow_large_statements CASCADE;
