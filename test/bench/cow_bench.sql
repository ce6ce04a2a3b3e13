-- incetl_cow vs heap: load, size, scans, upsert batch, VACUUM.
--   psql -X -d <db with incetl> -v rows=1000000 -f test/bench/cow_bench.sql
\set ON_ERROR_STOP on
\if :{?rows}
\else
\set rows 1000000
\endif
SET client_min_messages = warning;
DROP TABLE IF EXISTS bench_src, bench_heap, bench_cow;
CREATE TEMP TABLE bench_result (step text, heap_ms numeric, cow_ms numeric);
CREATE TABLE bench_src AS
    SELECT g AS id, 'customer-' || (g % 5000) AS customer, (g % 1000) / 10.0 AS amount,
           timestamptz '2024-01-01' + g * interval '1 second' AS updated_at
    FROM generate_series(1, :rows) g;
CREATE TABLE bench_heap (id int, customer text, amount numeric, updated_at timestamptz);
CREATE TABLE bench_cow (LIKE bench_heap) USING incetl_cow;
SELECT incetl.set_table_options('bench_cow', record_key => 'id', precombine => 'updated_at',
                                retain_commits => 1);

CREATE FUNCTION pg_temp.ms(sql text) RETURNS numeric LANGUAGE plpgsql AS $$
DECLARE t0 timestamptz := clock_timestamp();
BEGIN
    EXECUTE sql;
    RETURN round(extract(epoch FROM clock_timestamp() - t0)::numeric * 1000, 1);
END $$;

INSERT INTO bench_result SELECT 'load (INSERT ... SELECT)',
    pg_temp.ms('INSERT INTO bench_heap SELECT * FROM bench_src'),
    pg_temp.ms('INSERT INTO bench_cow SELECT * FROM bench_src');
INSERT INTO bench_result SELECT 'full scan: sum(amount)',
    pg_temp.ms('SELECT sum(amount) FROM bench_heap'),
    pg_temp.ms('SELECT sum(amount) FROM bench_cow');
INSERT INTO bench_result SELECT 'key range: id between 500 and 600',
    pg_temp.ms('SELECT count(*) FROM bench_heap WHERE id BETWEEN 500 AND 600'),
    pg_temp.ms('SELECT count(*) FROM bench_cow WHERE id BETWEEN 500 AND 600');
-- the heap side of an upsert is INSERT ... ON CONFLICT on a primary key
ALTER TABLE bench_heap ADD PRIMARY KEY (id);
INSERT INTO bench_result SELECT 'upsert 10% (newer rows)',
    pg_temp.ms($q$INSERT INTO bench_heap SELECT id, customer, amount + 1, updated_at + interval '1 day'
                 FROM bench_src WHERE id % 10 = 0
                 ON CONFLICT (id) DO UPDATE SET customer = excluded.customer, amount = excluded.amount,
                     updated_at = excluded.updated_at
                 WHERE excluded.updated_at >= bench_heap.updated_at$q$),
    pg_temp.ms($q$INSERT INTO bench_cow SELECT id, customer, amount + 1, updated_at + interval '1 day'
                 FROM bench_src WHERE id % 10 = 0$q$);
SELECT clock_timestamp() AS t0 \gset
VACUUM bench_heap;
SELECT clock_timestamp() AS t1 \gset
VACUUM bench_cow;
SELECT clock_timestamp() AS t2 \gset
INSERT INTO bench_result SELECT 'VACUUM',
    round(extract(epoch FROM :'t1'::timestamptz - :'t0'::timestamptz)::numeric * 1000, 1),
    round(extract(epoch FROM :'t2'::timestamptz - :'t1'::timestamptz)::numeric * 1000, 1);

SELECT step, heap_ms, cow_ms FROM bench_result;
SELECT pg_size_pretty(pg_table_size('bench_heap')) AS heap_size,
       pg_size_pretty(pg_table_size('bench_cow')) AS cow_size,
       (SELECT compression_ratio FROM incetl.table_stats('bench_cow')) AS cow_compression;
DROP TABLE bench_src, bench_heap, bench_cow;
