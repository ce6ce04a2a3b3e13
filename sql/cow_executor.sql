--
-- incetl_cow under the executor as a heap table would be (issue #9): each
-- case came from PostgreSQL's own regression suite run with
-- default_table_access_method = incetl_cow.
--
CREATE EXTENSION IF NOT EXISTS pageinspect;

-- the SQLSTATE and message a statement fails with (or 'ok')
CREATE FUNCTION pg_temp.fails(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE q;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END$$;

-- 1. ALTER TABLE rewrites: a column added with a default after the rows
-- were written keeps its value through later rewrites (the old rows are
-- read with the descriptor from before the ALTER, which has the default)
CREATE TABLE ex_alter(a int) USING incetl_cow;
INSERT INTO ex_alter VALUES (1), (2);
ALTER TABLE ex_alter ADD COLUMN b int DEFAULT 42, ADD COLUMN c text DEFAULT 'x';
ALTER TABLE ex_alter ALTER a TYPE bigint;
SELECT * FROM ex_alter ORDER BY a;
ALTER TABLE ex_alter ALTER c TYPE varchar(5), ALTER b TYPE numeric;
ALTER TABLE ex_alter ADD COLUMN d int DEFAULT 7, ALTER a TYPE int;
SELECT * FROM ex_alter ORDER BY a;
SELECT attname, atttypid::regtype, atthasmissing FROM pg_attribute
 WHERE attrelid = 'ex_alter'::regclass AND attnum > 0 ORDER BY attnum;
-- with a record key and an index: the rewritten rows are found by both
CREATE TABLE ex_alter_k(id int, v text) USING incetl_cow;
SELECT incetl.set_table_options('ex_alter_k', record_key => 'id');
CREATE INDEX ex_alter_k_v ON ex_alter_k(v);
INSERT INTO ex_alter_k SELECT g, 'v' || g FROM generate_series(1, 5) g;
ALTER TABLE ex_alter_k ADD COLUMN n numeric DEFAULT 1.5;
ALTER TABLE ex_alter_k ALTER id TYPE bigint;
INSERT INTO ex_alter_k VALUES (3, 'new', 2.5);
SELECT * FROM ex_alter_k ORDER BY id;
SET enable_seqscan = off;
SELECT * FROM ex_alter_k WHERE v = 'v4';
RESET enable_seqscan;
-- VACUUM FULL keeps it too
ALTER TABLE ex_alter_k ADD COLUMN m int DEFAULT 9;
VACUUM FULL ex_alter_k;
SELECT id, m FROM ex_alter_k ORDER BY id;

-- 2. backward scans, across file groups (4 + 4 + 2 rows)
CREATE TABLE ex_scroll(a int) USING incetl_cow;
SELECT incetl.set_table_options('ex_scroll', file_group_rows => 4);
INSERT INTO ex_scroll SELECT generate_series(1, 10);
SELECT file_groups FROM incetl.table_stats('ex_scroll');
BEGIN;
DECLARE c CURSOR FOR SELECT a FROM ex_scroll;
FETCH 5 FROM c;
FETCH BACKWARD 2 FROM c;
FETCH 3 FROM c;
FETCH BACKWARD ALL FROM c;
FETCH BACKWARD 1 FROM c;
FETCH 2 FROM c;
DECLARE s SCROLL CURSOR FOR SELECT a FROM ex_scroll;
FETCH LAST FROM s;
FETCH PRIOR FROM s;
FETCH ABSOLUTE 4 FROM s;
FETCH RELATIVE -1 FROM s;
FETCH ALL FROM s;
FETCH PRIOR FROM s;
FETCH FIRST FROM s;
-- min/max skip the group of 5..8 in both directions
DECLARE q SCROLL CURSOR FOR SELECT a FROM ex_scroll WHERE a < 3 OR a > 8;
FETCH ALL FROM q;
FETCH BACKWARD ALL FROM q;
DECLARE l SCROLL CURSOR FOR SELECT a FROM ex_scroll LIMIT 6;
FETCH 6 FROM l;
FETCH BACKWARD 2 FROM l;
FETCH LAST FROM l;
COMMIT;

-- 3. TIDs read earlier in the transaction keep addressing rows a write
-- carried into a new version (on heap such rows keep their TID)
CREATE TABLE ex_tid(a int, b int) USING incetl_cow;
INSERT INTO ex_tid SELECT g, 0 FROM generate_series(1, 5) g;
BEGIN;
DECLARE c CURSOR FOR SELECT a FROM ex_tid;
FETCH 1 FROM c;
UPDATE ex_tid SET b = 1 WHERE CURRENT OF c;
FETCH 1 FROM c;
UPDATE ex_tid SET b = 2 WHERE CURRENT OF c;
FETCH 1 FROM c;
DELETE FROM ex_tid WHERE CURRENT OF c;
FETCH 1 FROM c;
UPDATE ex_tid SET b = 4 WHERE CURRENT OF c;
-- the same row again: WHERE CURRENT OF follows it to its new version
UPDATE ex_tid SET b = b + 40 WHERE CURRENT OF c;
COMMIT;
SELECT * FROM ex_tid ORDER BY a;
-- a loop over the rows by ctid, keyless and keyed
CREATE FUNCTION pg_temp.bump_by_ctid(tbl regclass) RETURNS int LANGUAGE plpgsql AS $$
DECLARE
    r record;
    n int := 0;
    m int;
BEGIN
    FOR r IN EXECUTE format('SELECT ctid FROM %s', tbl) LOOP
        EXECUTE format('UPDATE %s SET b = b + 10 WHERE ctid = $1', tbl) USING r.ctid;
        GET DIAGNOSTICS m = ROW_COUNT;
        n := n + m;
    END LOOP;
    RETURN n;
END$$;
SELECT pg_temp.bump_by_ctid('ex_tid');
SELECT * FROM ex_tid ORDER BY a;
CREATE TABLE ex_tid_k(a int, b int) USING incetl_cow;
SELECT incetl.set_table_options('ex_tid_k', record_key => 'a');
INSERT INTO ex_tid_k SELECT g, 0 FROM generate_series(1, 5) g;
SELECT pg_temp.bump_by_ctid('ex_tid_k');
SELECT * FROM ex_tid_k ORDER BY a;
BEGIN;
DECLARE c CURSOR FOR SELECT a FROM ex_tid_k;
FETCH 2 FROM c;
UPDATE ex_tid_k SET b = b + 1 WHERE CURRENT OF c;
UPDATE ex_tid_k SET b = b + 1 WHERE CURRENT OF c;
FETCH 1 FROM c;
DELETE FROM ex_tid_k WHERE CURRENT OF c;
UPDATE ex_tid_k SET b = b + 1 WHERE CURRENT OF c;
FETCH 1 FROM c;
UPDATE ex_tid_k SET b = b + 1 WHERE CURRENT OF c;
SELECT * FROM ex_tid_k ORDER BY a;
ROLLBACK;
-- the same with = ANY, in one transaction; a row updated since keeps its
-- old TID, which finds nothing (as on heap)
BEGIN;
CREATE TEMP TABLE ex_tids AS SELECT a, ctid AS t FROM ex_tid_k;
UPDATE ex_tid_k SET b = -1 WHERE ctid = (SELECT t FROM ex_tids WHERE a = 2);
UPDATE ex_tid_k SET b = b + 100 WHERE ctid = ANY (ARRAY(SELECT t FROM ex_tids));
SELECT * FROM ex_tid_k ORDER BY a;
EXPLAIN (COSTS OFF) SELECT * FROM ex_tid_k WHERE ctid = '(0,1)';
ROLLBACK;

-- 4. an indexed ON COMMIT DELETE ROWS table: COMMIT empties it and keeps
-- the other tables' writes
CREATE TABLE ex_keep(a int) USING incetl_cow;
CREATE TEMP TABLE ex_ocdr(a int) USING incetl_cow ON COMMIT DELETE ROWS;
CREATE INDEX ON ex_ocdr(a);
BEGIN;
INSERT INTO ex_keep VALUES (1);
INSERT INTO ex_ocdr VALUES (1), (2);
SELECT count(*) FROM ex_ocdr;
COMMIT;
SELECT * FROM ex_keep;
SELECT count(*) FROM ex_ocdr;
BEGIN;
INSERT INTO ex_ocdr VALUES (3);
SET LOCAL enable_seqscan = off;
SELECT * FROM ex_ocdr WHERE a = 3;
COMMIT;
SELECT count(*) FROM ex_ocdr;

-- 5. a STABLE function reading the table an UPDATE writes: no false
-- serialization failure (its query merges nothing of the UPDATE)
CREATE TABLE ex_stable(a int) USING incetl_cow;
INSERT INTO ex_stable SELECT generate_series(1, 5);
CREATE FUNCTION ex_stable_max() RETURNS int STABLE LANGUAGE sql
    AS 'SELECT max(a) FROM ex_stable';
UPDATE ex_stable SET a = ex_stable_max() + 10 WHERE a > 0;
SELECT a, count(*) FROM ex_stable GROUP BY a;
DELETE FROM ex_stable WHERE a = ex_stable_max();
SELECT count(*) FROM ex_stable;

-- 6. MERGE reaching a row twice: 21000 as on heap
CREATE TABLE ex_merge(a int, b int) USING incetl_cow;
INSERT INTO ex_merge VALUES (1, 1);
MERGE INTO ex_merge USING (VALUES (1), (1)) s(x) ON ex_merge.a = s.x
    WHEN MATCHED THEN UPDATE SET b = b + 1;
MERGE INTO ex_merge USING (VALUES (1), (1)) s(x) ON ex_merge.a = s.x
    WHEN MATCHED THEN DELETE;
SELECT * FROM ex_merge;

-- 7. a prepared transaction that wrote the table: later writers fail at
-- once, naming it, instead of waiting for it (this session included)
CREATE TABLE ex_2pc(a int) USING incetl_cow;
BEGIN;
INSERT INTO ex_2pc VALUES (1);
PREPARE TRANSACTION 'cow_executor_2pc';
SELECT pg_temp.fails('INSERT INTO ex_2pc VALUES (2)');
SELECT count(*) FROM ex_2pc;
COMMIT PREPARED 'cow_executor_2pc';
INSERT INTO ex_2pc VALUES (2);
SELECT * FROM ex_2pc ORDER BY a;

-- 8. BEFORE ROW UPDATE/DELETE triggers work (they lock the old row:
-- sql/cow_triggers.sql tests them against heap), also when cloned to an
-- incetl_cow partition and on a heap table that becomes incetl_cow
CREATE TABLE ex_trig(a int) USING incetl_cow;
CREATE FUNCTION ex_trig_fn() RETURNS trigger LANGUAGE plpgsql
    AS 'BEGIN NEW.a := NEW.a * 10; RETURN NEW; END';
CREATE TRIGGER ex_t BEFORE UPDATE ON ex_trig FOR EACH ROW EXECUTE FUNCTION ex_trig_fn();
CREATE FUNCTION ex_stmt_fn() RETURNS trigger LANGUAGE plpgsql
    AS 'BEGIN RAISE NOTICE ''% %'', TG_WHEN, TG_OP; RETURN NULL; END';
CREATE TRIGGER ex_s BEFORE UPDATE ON ex_trig FOR EACH STATEMENT EXECUTE FUNCTION ex_stmt_fn();
INSERT INTO ex_trig VALUES (1);
UPDATE ex_trig SET a = a + 1;
SELECT * FROM ex_trig;
CREATE FUNCTION ex_del_fn() RETURNS trigger LANGUAGE plpgsql
    AS 'BEGIN RAISE NOTICE ''deleting %'', OLD.a; RETURN OLD; END';
CREATE TABLE ex_trig_p(a int) PARTITION BY RANGE (a);
CREATE TRIGGER ex_pt BEFORE DELETE ON ex_trig_p FOR EACH ROW EXECUTE FUNCTION ex_del_fn();
CREATE TABLE ex_trig_p1 PARTITION OF ex_trig_p FOR VALUES FROM (0) TO (10) USING incetl_cow;
INSERT INTO ex_trig_p VALUES (3);
DELETE FROM ex_trig_p WHERE a = 3;
SELECT count(*) FROM ex_trig_p;
CREATE TABLE ex_trig_h(a int) USING heap;
CREATE TRIGGER ex_ht BEFORE UPDATE ON ex_trig_h FOR EACH ROW EXECUTE FUNCTION ex_trig_fn();
INSERT INTO ex_trig_h VALUES (5);
ALTER TABLE ex_trig_h SET ACCESS METHOD incetl_cow;
SELECT amname FROM pg_class c JOIN pg_am a ON a.oid = c.relam WHERE c.relname = 'ex_trig_h';
UPDATE ex_trig_h SET a = a + 1;
SELECT * FROM ex_trig_h;

-- CREATE [UNIQUE] INDEX CONCURRENTLY and REINDEX CONCURRENTLY run
-- (sql/cow_concurrent_index.sql, which shows that a build the AM would
-- refuse is refused before it creates anything, so no INVALID index is left
-- behind)
CREATE UNIQUE INDEX CONCURRENTLY ex_trig_u ON ex_trig(a);
SELECT count(*) FROM pg_index WHERE indrelid = 'ex_trig'::regclass;
CREATE INDEX CONCURRENTLY ex_trig_i ON ex_trig(a);
REINDEX INDEX CONCURRENTLY ex_trig_i;
REINDEX TABLE CONCURRENTLY ex_trig;
SELECT indexrelid::regclass, indisvalid FROM pg_index WHERE indrelid = 'ex_trig'::regclass;
-- REINDEX CONCURRENTLY of a schema and of a partitioned table holding one
CREATE SCHEMA ex_ri;
CREATE TABLE ex_ri.t (a int) USING incetl_cow;
CREATE INDEX ON ex_ri.t (a);
CREATE TABLE ex_ri.p (a int) PARTITION BY RANGE (a);
CREATE TABLE ex_ri.p1 PARTITION OF ex_ri.p FOR VALUES FROM (0) TO (100) USING incetl_cow;
CREATE INDEX ON ex_ri.p (a);
REINDEX SCHEMA CONCURRENTLY ex_ri;
REINDEX TABLE CONCURRENTLY ex_ri.p;
SELECT i.indexrelid::regclass, i.indisvalid FROM pg_index AS i
JOIN pg_class AS c ON c.oid = i.indexrelid
WHERE c.relnamespace = 'ex_ri'::regnamespace ORDER BY i.indexrelid::regclass::text;
REINDEX SCHEMA ex_ri;
DROP SCHEMA ex_ri CASCADE;

-- index entries of rows no snapshot can see (a rolled-back subtransaction,
-- and the pending TIDs the executor indexed: only for INSERT ... ON
-- CONFLICT, see cow_gin_entries.sql) are marked dead by a scan
CREATE TABLE ex_dead(a int) USING incetl_cow;
CREATE INDEX ex_dead_a ON ex_dead(a) WITH (deduplicate_items = off);
INSERT INTO ex_dead VALUES (1) ON CONFLICT DO NOTHING;
BEGIN;
SAVEPOINT s;
INSERT INTO ex_dead SELECT generate_series(2, 6) ON CONFLICT DO NOTHING;
ROLLBACK TO s;
COMMIT;
SELECT count(*) FILTER (WHERE dead) AS dead, count(*) AS entries
  FROM bt_page_items('ex_dead_a', 1);
SET enable_seqscan = off;
SELECT * FROM ex_dead WHERE a > 0;
RESET enable_seqscan;
SELECT count(*) FILTER (WHERE dead) AS dead, count(*) AS entries
  FROM bt_page_items('ex_dead_a', 1);
-- the live row's entry is not dead
SELECT data FROM bt_page_items('ex_dead_a', 1) WHERE NOT dead;
-- when the page fills, the index AM deletes them (index_delete_tuples):
-- no entry of the rolled-back rows 2..6 is left
INSERT INTO ex_dead SELECT generate_series(10, 409);
SELECT count(*) AS rolled_back_entries
  FROM generate_series(1, (pg_relation_size('ex_dead_a') / 8192)::int - 1) b,
       bt_page_items('ex_dead_a', b) i
 WHERE i.data IN (SELECT lpad(to_hex(g), 2, '0') || ' 00 00 00 00 00 00 00'
                    FROM generate_series(2, 6) g);
SET enable_seqscan = off;
SELECT count(*), sum(a) FROM ex_dead WHERE a > 0;
RESET enable_seqscan;

DROP TABLE ex_alter, ex_alter_k, ex_scroll, ex_tid, ex_tid_k, ex_keep, ex_ocdr,
    ex_stable, ex_merge, ex_2pc, ex_trig, ex_trig_p, ex_trig_h, ex_dead;
DROP FUNCTION ex_stable_max(), ex_trig_fn(), ex_stmt_fn(), ex_del_fn();
