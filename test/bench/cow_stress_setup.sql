SET client_min_messages = warning;
DROP TABLE IF EXISTS stress;
CREATE TABLE stress (id int, v int, ts bigint, note text, del boolean) USING incetl_cow;
SELECT incetl.set_table_options('stress', record_key => 'id', precombine => 'ts', delete_marker => 'del', file_group_rows => 300, retain_commits => 2);
CREATE INDEX ON stress (v);
INSERT INTO stress SELECT g, g % 100, 0, md5(g::text), false FROM generate_series(1, 3000) g;
