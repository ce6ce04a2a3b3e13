-- The table does not grow without bound under repeated upserts: 50 rounds
-- rewriting the same 20,000 keys, VACUUM between rounds, size recorded
-- after each.  Without reuse of reclaimed pages each round would add about
-- the table's size again (50 x).
CREATE SCHEMA cow_rounds;
SET search_path = cow_rounds, public;
CREATE TABLE hot50 (id int, v int, pad text) USING incetl_cow;
SELECT incetl.set_table_options('hot50', record_key => 'id', precombine => 'v',
                                file_group_rows => 5000, retain_commits => 1);
CREATE TABLE sizes (round int, bytes bigint);
INSERT INTO hot50 SELECT g, 0, md5(g::text) FROM generate_series(1, 20000) AS g;
VACUUM hot50;
INSERT INTO sizes VALUES (0, pg_relation_size('hot50'));

SELECT format('INSERT INTO cow_rounds.hot50 SELECT g, %s, md5((g * %s)::text) FROM generate_series(1, 20000) AS g', r, r),
       'VACUUM cow_rounds.hot50',
       format('INSERT INTO cow_rounds.sizes VALUES (%s, pg_relation_size(''cow_rounds.hot50''))', r)
FROM generate_series(1, 50) AS r
\gexec

SELECT count(*) AS rows, min(v) AS min_v, max(v) AS max_v FROM hot50;
-- flat: from round 5 on, never more than 1.5 x the size after round 5
SELECT max(bytes) <= 1.5 * (SELECT bytes FROM sizes WHERE round = 5) AS size_flat,
       max(bytes) < 5 * (SELECT bytes FROM sizes WHERE round = 0) AS bounded_by_first
FROM sizes WHERE round >= 5;
SELECT versions_retained <= 2 * file_groups AS few_versions FROM incetl.table_stats('hot50');
SELECT count(*) AS problems FROM incetl.verify('hot50');

RESET search_path;
SET client_min_messages = warning;
DROP SCHEMA cow_rounds CASCADE;
