-- incetl_cow write semantics (SPEC section 3): upserts by record key with
-- precombine, delete markers, NULL keys, append without a key.
CREATE SCHEMA cow_upsert;
SET search_path = cow_upsert, public;

CREATE TABLE orders (
    order_id    int,
    customer    text,
    amount      numeric,
    updated_at  timestamptz,
    _is_deleted boolean
) USING incetl_cow;
SELECT incetl.set_table_options('orders', record_key => 'order_id',
        precombine => 'updated_at', delete_marker => '_is_deleted');

-- Within one statement the largest precombine wins ...
INSERT INTO orders VALUES
    (1, 'a-old',  10, '2024-01-01', false),
    (1, 'a-new',  11, '2024-01-03', false),
    (1, 'a-mid',  12, '2024-01-02', false),
-- ... and on a tie the later row wins.
    (2, 'b-first', 20, '2024-01-01', false),
    (2, 'b-second', 21, '2024-01-01', false),
-- NULL precombine sorts lowest.
    (3, 'c-dated', 30, '2024-01-01', false),
    (3, 'c-null', 31, NULL, false);
SELECT order_id, customer, amount, updated_at FROM orders ORDER BY order_id;

-- Against stored rows: newer or equal replaces, older is dropped.
INSERT INTO orders VALUES
    (1, 'a-older', 13, '2024-01-02', false),      -- dropped
    (2, 'b-equal', 22, '2024-01-01', false),      -- equal: replaces
    (3, 'c-newer', 32, '2024-01-05', false),      -- replaces
    (4, 'd', 40, NULL, false);                    -- new key
SELECT order_id, customer, amount, updated_at FROM orders ORDER BY order_id;

-- A NULL incoming precombine never beats a stored non-NULL one ...
INSERT INTO orders VALUES (3, 'c-null-again', 33, NULL, false);
-- ... but does replace a stored NULL (equal).
INSERT INTO orders VALUES (4, 'd-null-again', 41, NULL, false);
SELECT order_id, customer FROM orders WHERE order_id IN (3, 4) ORDER BY order_id;

-- Delete markers delete the stored row and are never stored.
INSERT INTO orders VALUES (2, NULL, NULL, '2024-02-01', true);
-- An older delete marker does not delete.
INSERT INTO orders VALUES (1, NULL, NULL, '2023-01-01', true);
-- A delete marker for a key never stored stores nothing.
INSERT INTO orders VALUES (99, 'ghost', 0, '2024-02-01', true);
SELECT order_id, customer FROM orders ORDER BY order_id;

-- Ordering inside one statement is respected for delete markers too.
INSERT INTO orders VALUES
    (5, 'e', 50, '2024-03-02', false),
    (5, NULL, NULL, '2024-03-01', true),          -- older delete: loses
    (6, 'f', 60, '2024-03-01', false),
    (6, NULL, NULL, '2024-03-02', true);          -- newer delete: wins
SELECT order_id, customer FROM orders WHERE order_id IN (5, 6) ORDER BY order_id;

-- A NULL record key is an error naming the column; nothing is written.
INSERT INTO orders VALUES (7, 'g', 70, now(), false), (NULL, 'h', 80, now(), false);
SELECT count(*) FROM orders WHERE order_id = 7;

-- INSERT ... SELECT, COPY and CTAS go through the same path.
INSERT INTO orders
SELECT g, 'bulk', g, '2024-04-01', false FROM generate_series(10, 14) g;
COPY orders FROM stdin;
10	copied	100	2024-04-02	f
11	copied-old	110	2024-03-01	f
12	\N	\N	2024-05-01	t
\.
SELECT order_id, customer, amount FROM orders WHERE order_id >= 10 ORDER BY order_id;

-- The timeline counts what each statement did.
SELECT commit_id, operation, rows_inserted, rows_updated, rows_deleted
FROM incetl.commits('orders') ORDER BY commit_id;

-- Without precombine the latest write wins.
CREATE TABLE latest (k text, v int) USING incetl_cow;
SELECT incetl.set_table_options('latest', record_key => 'k');
INSERT INTO latest VALUES ('x', 1), ('y', 1), ('x', 2);
INSERT INTO latest VALUES ('y', 0);
SELECT * FROM latest ORDER BY k;

-- Composite record keys.
CREATE TABLE comp (a int, b text, v int) USING incetl_cow;
SELECT incetl.set_table_options('comp', record_key => 'a, b', precombine => 'v');
INSERT INTO comp VALUES (1, 'x', 1), (1, 'y', 1), (2, 'x', 1), (1, 'x', 5);
INSERT INTO comp VALUES (1, 'y', 0), (2, 'x', 2), (2, 'y', 9);
SELECT * FROM comp ORDER BY a, b;
INSERT INTO comp VALUES (1, NULL, 1);

-- Without a record key INSERT appends, duplicates included.
CREATE TABLE events (id int, payload text) USING incetl_cow;
INSERT INTO events VALUES (1, 'a'), (1, 'a');
INSERT INTO events VALUES (1, 'a'), (NULL, NULL);
SELECT id, payload, count(*) FROM events GROUP BY 1, 2 ORDER BY 1, 2;
SELECT operation, rows_inserted FROM incetl.commits('events');

-- CREATE TABLE AS into incetl_cow (appends: no key yet).
CREATE TABLE orders_copy USING incetl_cow AS
    SELECT order_id, customer FROM orders WHERE order_id < 10;
SELECT * FROM orders_copy ORDER BY order_id;

-- Many keys, several file groups, values that were TOASTed at the source.
CREATE TABLE big (id int, doc text) USING incetl_cow;
SELECT incetl.set_table_options('big', record_key => 'id', file_group_rows => 40);
CREATE TEMP TABLE src AS
    SELECT g AS id, repeat(md5(g::text), 200) AS doc FROM generate_series(1, 200) g;
INSERT INTO big SELECT * FROM src;
INSERT INTO big SELECT id, 'short' || id FROM src WHERE id % 3 = 0;
SELECT count(*), count(*) FILTER (WHERE doc LIKE 'short%'),
       sum(length(doc)) FROM big;
SELECT count(*) = count(DISTINCT id) AS keys_unique FROM big;
SELECT * FROM incetl.verify('big');

-- A statement larger than maintenance_work_mem (keys not in order) is
-- sorted on disk and merged whole: one commit (more in cow_spill).
CREATE TABLE huge (id int, pre int, pad text) USING incetl_cow;
SELECT incetl.set_table_options('huge', record_key => 'id', precombine => 'pre',
                                file_group_rows => 5000);
SET maintenance_work_mem = '1MB';
INSERT INTO huge
SELECT g % 10000, g / 10000, repeat('x', 100) FROM generate_series(0, 39999) g
ORDER BY (g * 7919) % 40000;
RESET maintenance_work_mem;
SELECT count(*), min(pre), max(pre), count(DISTINCT id) FROM huge;
SELECT operation, rows_inserted, rows_updated FROM incetl.commits('huge');
SELECT * FROM incetl.verify('huge');

-- New keys beyond a full last file group start a new group and leave the
-- full one as it is; a last group with room takes them.
CREATE TABLE grow (id int, v text) USING incetl_cow;
SELECT incetl.set_table_options('grow', record_key => 'id', file_group_rows => 1000);
INSERT INTO grow SELECT g, 'a' FROM generate_series(1, 1000) g;
INSERT INTO grow SELECT g, 'b' FROM generate_series(1001, 1100) g;
SELECT commit_id, operation, rows_inserted, rows_updated, file_groups_written
FROM incetl.commits('grow') ORDER BY commit_id;
-- the full group's version is still the one the first commit wrote
SELECT file_group_id, commit_id, row_count FROM incetl.cow_file_group
WHERE storage_id = incetl.cow_storage_id('grow') AND superseded_by IS NULL
ORDER BY file_group_id;
-- the 100-row group has room: it is rewritten with the next new keys
INSERT INTO grow SELECT g, 'c' FROM generate_series(1101, 1150) g;
-- an update of the full group's last key stays in that group
INSERT INTO grow VALUES (1000, 'd'), (1151, 'd');
SELECT commit_id, operation, rows_inserted, rows_updated, file_groups_written
FROM incetl.commits('grow') ORDER BY commit_id;
SELECT file_group_id, commit_id, row_count FROM incetl.cow_file_group
WHERE storage_id = incetl.cow_storage_id('grow') AND superseded_by IS NULL
ORDER BY file_group_id;
SELECT v, count(*), min(id), max(id) FROM grow GROUP BY v ORDER BY v;
SELECT * FROM incetl.verify('grow');

-- a statement in key order that starts beyond the table's last key (a load,
-- growing ids) is merged a file group's worth at a time, whatever
-- maintenance_work_mem: whole groups, the rest in the last; one commit
CREATE TABLE ld (k int, p int, pad text) USING incetl_cow;
SELECT incetl.set_table_options('ld', record_key => 'k', precombine => 'p',
                                file_group_rows => 1000);
CREATE FUNCTION ld_groups() RETURNS TABLE (groups bigint, rows_min int, rows_max int, last_group int)
LANGUAGE sql AS $$
    SELECT count(*), min(row_count)::int, max(row_count)::int,
           (array_agg(row_count ORDER BY file_group_id DESC))[1]::int
    FROM incetl.cow_file_group
    WHERE storage_id = incetl.cow_storage_id('ld') AND superseded_by IS NULL $$;
INSERT INTO ld SELECT g, 1, repeat('l', 100) FROM generate_series(1, 10500) g;
SELECT * FROM ld_groups();
-- appending again: the short last group is filled first, then whole groups
INSERT INTO ld SELECT g, 1, repeat('m', 100) FROM generate_series(10501, 13000) g;
SELECT * FROM ld_groups();
-- in key order, then the order breaks: newer rows for keys merged in an
-- earlier part (or handed back by it: 500 rows past its whole groups)
-- replace them and are not counted again
INSERT INTO ld SELECT k, p, 'n' FROM (
    SELECT g AS k, 1 AS p, 1 AS o FROM generate_series(13001, 16500) g
    UNION ALL
    SELECT g, 2, 2 FROM generate_series(13001, 16500, 3) g) s
ORDER BY o, k;
SELECT operation, rows_inserted, rows_updated, rows_deleted, file_groups_written
FROM incetl.commits('ld') ORDER BY commit_id;
SELECT count(*), count(*) FILTER (WHERE p = 2) AS newer, count(DISTINCT k) AS keys FROM ld;
SELECT * FROM ld_groups();
SELECT * FROM incetl.verify('ld');

-- in-statement dedup with an integer-like record key of every width,
-- negative values among them (the incoming sort compares those as
-- integers): the winner per key is the largest precombine (NULL lowest),
-- on a tie the later row, as DISTINCT ON computes it on the same rows
-- (rows differing, plus the problems verify finds: key order)
CREATE TABLE ksrc (ord int, k2 smallint, k4 int, k8 bigint, kd date,
                   kts timestamptz, p int, v text);
INSERT INTO ksrc
SELECT g, (g * 7919 % 61 - 30)::smallint, g * 7919 % 67 - 33,
       (g * 7919 % 71 - 35) * 4000000000, date '2000-01-01' + (g * 7919 % 73 - 36),
       timestamptz '2000-01-01 00:00+00' + (g * 7919 % 79 - 39) * interval '1 hour',
       CASE WHEN g % 7 = 0 THEN NULL ELSE g * 31 % 5 END, 'v' || g
FROM generate_series(1, 600) g;
CREATE FUNCTION dedup_differs(col text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    n bigint;
BEGIN
    EXECUTE format('CREATE TABLE %I (LIKE ksrc) USING incetl_cow', 'kc_' || col);
    PERFORM incetl.set_table_options(('kc_' || col)::regclass, record_key => col,
                                     precombine => 'p');
    -- in two statements: the second one merges with stored rows
    EXECUTE format('INSERT INTO %I SELECT * FROM ksrc WHERE ord <= 300 ORDER BY ord',
                   'kc_' || col);
    EXECUTE format('INSERT INTO %I SELECT * FROM ksrc WHERE ord > 300 ORDER BY ord',
                   'kc_' || col);
    EXECUTE format($q$WITH w AS (SELECT DISTINCT ON (%2$I) * FROM ksrc
                                 ORDER BY %2$I, p DESC NULLS LAST, ord DESC)
        SELECT count(*) FROM ((TABLE %1$I EXCEPT ALL TABLE w)
                              UNION ALL (TABLE w EXCEPT ALL TABLE %1$I)) d$q$,
                   'kc_' || col, col) INTO n;
    RETURN n + (SELECT count(*) FROM incetl.verify(('kc_' || col)::regclass));
END $$;
SELECT col, dedup_differs(col) AS rows_differing,
       (SELECT count(DISTINCT k) FROM (SELECT (row_to_json(s) ->> col) AS k FROM ksrc s) x) AS keys
FROM unnest(ARRAY['k2', 'k4', 'k8', 'kd', 'kts']) AS col;

RESET search_path;
SET client_min_messages = warning;
DROP SCHEMA cow_upsert CASCADE;
