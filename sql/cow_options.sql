-- incetl.set_table_options: validation and errors.
CREATE SCHEMA cow_options;
SET search_path = cow_options, public;

CREATE TABLE o (id int, k2 text, pre timestamptz, del boolean, notbool int,
                j json, pt point) USING incetl_cow;
CREATE TABLE heapt (id int);

SELECT incetl.set_table_options('heapt', record_key => 'id');
SELECT incetl.set_table_options('o', record_key => 'nope');
SELECT incetl.set_table_options('o', record_key => 'id, id');
SELECT incetl.set_table_options('o', record_key => 'pt');
SELECT incetl.set_table_options('o', record_key => 'id', precombine => 'j');
SELECT incetl.set_table_options('o', record_key => 'id', delete_marker => 'notbool');
SELECT incetl.set_table_options('o', precombine => 'pre');
SELECT incetl.set_table_options('o', record_key => 'id', file_group_rows => 0);
SELECT incetl.set_table_options('o', record_key => 'id', compression_level => 40);
SELECT incetl.set_table_options('o', record_key => 'id', retain_commits => -1);
SELECT * FROM incetl.table_options('o');

SELECT incetl.set_table_options('o', record_key => 'id, k2', precombine => 'pre',
                                delete_marker => 'del');
SELECT * FROM incetl.table_options('o');
-- NULL leaves an option unchanged, '' clears it
SELECT incetl.set_table_options('o', file_group_rows => 1000);
SELECT incetl.set_table_options('o', delete_marker => '');
SELECT * FROM incetl.table_options('o');

-- a new record key on a table with rows rewrites it, collapsing duplicates
INSERT INTO o (id, k2, pre) VALUES (1, 'a', '2024-01-01'), (1, 'b', '2024-01-03'),
                                   (1, 'c', '2024-01-02'), (2, 'a', NULL);
SELECT incetl.set_table_options('o', record_key => 'id');
SELECT id, k2, pre FROM o ORDER BY id;
SELECT commit_id, operation, rows_deleted FROM incetl.commits('o') ORDER BY commit_id DESC LIMIT 1;
SELECT * FROM incetl.verify('o');
-- a heap table converted to incetl_cow gets its key the same way
CREATE TABLE conv (id int, v text);
INSERT INTO conv VALUES (1, 'x'), (2, 'y'), (1, 'z'), (NULL, 'n');
ALTER TABLE conv SET ACCESS METHOD incetl_cow;
SELECT incetl.set_table_options('conv', record_key => 'id');
DELETE FROM conv WHERE id IS NULL;
SELECT incetl.set_table_options('conv', record_key => 'id');
SELECT * FROM conv ORDER BY id;
-- unchanged key: no rewrite
SELECT incetl.set_table_options('o', record_key => 'id', precombine => '');
TRUNCATE o;
SELECT * FROM incetl.table_options('o');

-- renaming an option column keeps working; dropping it is reported
SELECT incetl.set_table_options('o', precombine => 'pre');
ALTER TABLE o RENAME COLUMN pre TO pre2;
SELECT * FROM incetl.table_options('o');
INSERT INTO o (id, pre2) VALUES (1, now());
INSERT INTO o (id, pre2) VALUES (1, now() - interval '1 day');
SELECT count(*), max(pre2) > now() - interval '1 hour' AS newest_kept FROM o;
ALTER TABLE o DROP COLUMN pre2;
INSERT INTO o (id) VALUES (2);
SELECT incetl.set_table_options('o', precombine => '');
INSERT INTO o (id) VALUES (2);
SELECT count(*) FROM o;

-- functions on tables check their argument
SELECT * FROM incetl.commits('heapt');
SELECT * FROM incetl.table_stats('heapt');
SELECT * FROM incetl.verify('heapt');
SELECT incetl.clean('heapt');

-- privileges
CREATE ROLE regress_cow_nobody;
GRANT USAGE ON SCHEMA cow_options TO regress_cow_nobody;
SET ROLE regress_cow_nobody;
SELECT * FROM incetl.commits('o');
SELECT incetl.set_table_options('o', file_group_rows => 5);
SELECT incetl.clean('o');
RESET ROLE;
REVOKE USAGE ON SCHEMA cow_options FROM regress_cow_nobody;
DROP ROLE regress_cow_nobody;

RESET search_path;
SET client_min_messages = warning;
DROP SCHEMA cow_options CASCADE;
