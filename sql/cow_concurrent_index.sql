-- CREATE INDEX CONCURRENTLY and REINDEX CONCURRENTLY of incetl_cow tables:
-- the build indexes the versions it sees, the validation pass
-- (cow_index_validate_scan) adds the rows committed since, and merges after
-- the index is ready index their own versions.  Writers committing during
-- the build: test/specs/cow_concurrent_index.spec.
SET incetl.cow_aggregate_pushdown = off;
CREATE TABLE cic (id int, v int, tags int[]) USING incetl_cow;
SELECT incetl.set_table_options('cic', record_key => 'id', file_group_rows => 100);
INSERT INTO cic SELECT i, i % 50, ARRAY[i % 3, i % 5] FROM generate_series(1, 1000) i;
DELETE FROM cic WHERE id % 7 = 0;
INSERT INTO cic SELECT i, 1000 + i, ARRAY[9] FROM generate_series(990, 1010) i;

CREATE INDEX CONCURRENTLY cic_v ON cic (v);
CREATE INDEX CONCURRENTLY cic_tags ON cic USING gin (tags);
CREATE INDEX CONCURRENTLY cic_part ON cic (id) WHERE v < 10;
SELECT c.relname, i.indisvalid, i.indisready FROM pg_index i
JOIN pg_class c ON c.oid = i.indexrelid
WHERE i.indrelid = 'cic'::regclass ORDER BY 1;

-- index scans return what the sequential scan returns
CREATE FUNCTION cic_same(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    a text;
    b text;
    line text;
    plan text := '';
BEGIN
    SET LOCAL enable_seqscan = off;
    FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) ' || q LOOP
        plan := plan || line;
    END LOOP;
    EXECUTE q INTO a;
    SET LOCAL enable_seqscan = on;
    SET LOCAL enable_indexscan = off;
    SET LOCAL enable_bitmapscan = off;
    EXECUTE q INTO b;
    RETURN CASE WHEN a = b THEN 'same: ' || a ELSE 'DIFFERENT: ' || a || ' / ' || b END
        || ' (' || CASE WHEN plan LIKE '%Index%' AND plan NOT LIKE '%Seq Scan%'
                        THEN 'index' ELSE 'no index: ' || plan END || ')';
END $$;
SELECT cic_same('SELECT count(*) || '','' || sum(id) FROM cic WHERE v BETWEEN 5 AND 20');
SELECT cic_same('SELECT count(*) || '','' || sum(id) FROM cic WHERE v > 1000');
SELECT cic_same('SELECT count(*) || '','' || sum(id) FROM cic WHERE tags @> ARRAY[9]');
SELECT cic_same('SELECT count(*) || '','' || sum(id) FROM cic WHERE id > 500 AND v < 10');

-- writes after the build are indexed by their merges
INSERT INTO cic SELECT i, 7, ARRAY[4] FROM generate_series(1, 1200, 13) i;
UPDATE cic SET v = v + 1 WHERE id BETWEEN 200 AND 260;
SELECT cic_same('SELECT count(*) || '','' || sum(id) FROM cic WHERE v BETWEEN 5 AND 20');
SELECT cic_same('SELECT count(*) || '','' || sum(id) FROM cic WHERE tags @> ARRAY[4]');

-- REINDEX CONCURRENTLY of an index, of the table, of its schema
REINDEX INDEX CONCURRENTLY cic_v;
REINDEX TABLE CONCURRENTLY cic;
CREATE SCHEMA cic_s;
CREATE TABLE cic_s.t (a int) USING incetl_cow;
INSERT INTO cic_s.t SELECT generate_series(1, 100);
CREATE INDEX ON cic_s.t (a);
REINDEX SCHEMA CONCURRENTLY cic_s;
SELECT c.relname, i.indisvalid FROM pg_index i
JOIN pg_class c ON c.oid = i.indexrelid
WHERE i.indrelid IN ('cic'::regclass, 'cic_s.t'::regclass) ORDER BY 1;
SELECT cic_same('SELECT count(*) || '','' || sum(id) FROM cic WHERE v BETWEEN 5 AND 20');
SELECT cic_same('SELECT count(*) || '','' || sum(id) FROM cic WHERE tags @> ARRAY[4]');
SELECT cic_same('SELECT count(*) || '','' || sum(a) FROM cic_s.t WHERE a < 50');

-- a unique index, concurrently: valid, enforced; on duplicates it fails
-- as on heap (leaving an INVALID index, which DROP INDEX removes)
CREATE UNIQUE INDEX CONCURRENTLY cic_u ON cic (id);
SELECT indisvalid, indisunique FROM pg_index WHERE indexrelid = 'cic_u'::regclass;
-- on the record key: an upsert, one row of the key
INSERT INTO cic (id, v) VALUES (1, 1);
SELECT count(*), min(v) FROM cic WHERE id = 1;
CREATE TABLE cic_dup (a int) USING incetl_cow;
INSERT INTO cic_dup VALUES (1), (2), (2);
CREATE UNIQUE INDEX CONCURRENTLY cic_dup_a ON cic_dup (a);
SELECT indisvalid FROM pg_index WHERE indexrelid = 'cic_dup_a'::regclass;
DROP INDEX cic_dup_a;
DELETE FROM cic_dup WHERE ctid = (SELECT max(ctid) FROM cic_dup);
CREATE UNIQUE INDEX CONCURRENTLY cic_dup_a ON cic_dup (a);
SELECT indisvalid FROM pg_index WHERE indexrelid = 'cic_dup_a'::regclass;
INSERT INTO cic_dup VALUES (2);
DROP TABLE cic_dup;
DROP INDEX cic_u;

-- BRIN, concurrently: the validation pass inserts every current row (a
-- BRIN bulk delete lists no TIDs), widening the ranges the build summarized
CREATE INDEX CONCURRENTLY cic_brin ON cic USING brin (id) WITH (pages_per_range = 1);
SELECT indisvalid, indisready FROM pg_index WHERE indexrelid = 'cic_brin'::regclass;
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT * FROM cic WHERE id BETWEEN 300 AND 320;
RESET enable_seqscan;
SELECT cic_same('SELECT count(*) || '','' || sum(v) FROM cic WHERE id BETWEEN 300 AND 320');
INSERT INTO cic SELECT i, i, ARRAY[1] FROM generate_series(2000, 2100) i;
SELECT cic_same('SELECT count(*) || '','' || sum(v) FROM cic WHERE id > 1005');
DROP INDEX cic_brin;

-- what the build would refuse (an access method not known to work: here
-- BRIN's handler under another name) is refused before anything is created
CREATE ACCESS METHOD cic_am TYPE INDEX HANDLER brinhandler;
CREATE OPERATOR CLASS cic_int4_ops DEFAULT FOR TYPE int4 USING cic_am AS
    OPERATOR 1 <, OPERATOR 2 <=, OPERATOR 3 =, OPERATOR 4 >=, OPERATOR 5 >,
    FUNCTION 1 brin_minmax_opcinfo(internal),
    FUNCTION 2 brin_minmax_add_value(internal, internal, internal, internal),
    FUNCTION 3 brin_minmax_consistent(internal, internal, internal),
    FUNCTION 4 brin_minmax_union(internal, internal, internal);
CREATE INDEX CONCURRENTLY cic_other ON cic USING cic_am (id);
CREATE INDEX cic_other ON cic USING cic_am (id);
SELECT count(*) FROM pg_index WHERE indrelid = 'cic'::regclass;
DROP ACCESS METHOD cic_am CASCADE;

DROP TABLE cic;
DROP SCHEMA cic_s CASCADE;
DROP FUNCTION cic_same(text);
