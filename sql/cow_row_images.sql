-- Images of the rows written into an incetl_cow table with AFTER ROW
-- triggers (cow_row_images.c) go to a temporary file past work_mem: the
-- triggers' NEW and TIDs are those of a heap twin's, from memory and from
-- the file alike, for immediate and deferred triggers, upserts, UPDATEs,
-- rolled-back subtransactions and an aborted transaction; the file shows
-- in pg_stat_database's temporary files.  Sections 4 to 6 append keys past
-- the table's end, merged a file group at a time: the rows a part hands
-- back to the next one once lost their pending TIDs, and their NEW.ctid
-- found no row (CowRebuffer).
CREATE SCHEMA cow_row_images;
SET search_path = cow_row_images, public;

CREATE TABLE t (id int, v text, ts int) USING incetl_cow;
SELECT incetl.set_table_options('t', record_key => 'id', precombine => 'ts',
                                file_group_rows => 1000);
CREATE TABLE h (id int, v text, ts int);
CREATE UNIQUE INDEX ON h (id);

CREATE TABLE seen (tab text, op text, new_row text, stored boolean);
-- NEW as the trigger gets it, and whether its TID finds the stored row
CREATE FUNCTION note() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO seen VALUES (TG_ARGV[0], TG_OP, NEW::text,
                             EXISTS (SELECT FROM t WHERE ctid = NEW.ctid
                                     AND TG_ARGV[0] = 'cow'
                                     UNION ALL
                                     SELECT FROM h WHERE ctid = NEW.ctid
                                     AND TG_ARGV[0] = 'heap'));
    RETURN NULL;
END $$;
CREATE TRIGGER t_note AFTER INSERT OR UPDATE ON t
    FOR EACH ROW EXECUTE FUNCTION note('cow');
CREATE TRIGGER h_note AFTER INSERT OR UPDATE ON h
    FOR EACH ROW EXECUTE FUNCTION note('heap');

-- cow and heap saw the same rows (with multiplicity), then forgotten
CREATE FUNCTION compare_seen()
RETURNS TABLE (firings bigint, stored bigint, only_cow bigint, only_heap bigint)
LANGUAGE sql AS $$
    WITH c AS (SELECT op, new_row, stored FROM seen WHERE tab = 'cow'),
         hp AS (SELECT op, new_row, stored FROM seen WHERE tab = 'heap'),
         d AS (DELETE FROM seen)
    SELECT (SELECT count(*) FROM c), (SELECT count(*) FROM c WHERE stored),
           (SELECT count(*) FROM (SELECT * FROM c EXCEPT ALL SELECT * FROM hp) x),
           (SELECT count(*) FROM (SELECT * FROM hp EXCEPT ALL SELECT * FROM c) x)
$$;

CREATE FUNCTION temp_files() RETURNS bigint LANGUAGE sql AS $$
    SELECT temp_files FROM pg_stat_database WHERE datname = current_database()
$$;
CREATE TABLE stat (k text PRIMARY KEY, v bigint);
CREATE FUNCTION stat_mark(k text) RETURNS void LANGUAGE sql AS $$
    SELECT pg_stat_clear_snapshot();
    INSERT INTO stat VALUES (k, temp_files())
        ON CONFLICT (k) DO UPDATE SET v = EXCLUDED.v
$$;

SET work_mem = '64kB';

-- 1. 5,000 rows of 100 bytes each: most images past 64 kB, in the file
SELECT pg_stat_force_next_flush();
SELECT stat_mark('before');
INSERT INTO t SELECT g, repeat(md5(g::text), 3), 1 FROM generate_series(1, 5000) g;
INSERT INTO h SELECT g, repeat(md5(g::text), 3), 1 FROM generate_series(1, 5000) g;
SELECT pg_stat_force_next_flush();
SELECT stat_mark('after');
SELECT (SELECT v FROM stat WHERE k = 'after') > (SELECT v FROM stat WHERE k = 'before')
       AS wrote_a_temporary_file;
SELECT * FROM compare_seen();

-- 2. upserts: newer rows replace stored ones or add keys, older ones lose
-- to the precombine; every incoming row fires (an upsert fires AFTER
-- INSERT), NEW.ctid finding the stored row for the 1,166 that were stored
INSERT INTO t SELECT g, 'new ' || g || repeat('x', 80), CASE WHEN g % 2 = 0 THEN 2 ELSE 0 END
    FROM generate_series(1, 6000, 3) g;
INSERT INTO h SELECT g, 'new ' || g || repeat('x', 80), CASE WHEN g % 2 = 0 THEN 2 ELSE 0 END
    FROM generate_series(1, 6000, 3) g
    ON CONFLICT (id) DO UPDATE SET v = EXCLUDED.v, ts = EXCLUDED.ts
    WHERE h.ts <= EXCLUDED.ts;
SELECT count(*) AS firings, count(*) FILTER (WHERE stored) AS stored
FROM seen WHERE tab = 'cow';
-- heap's ON CONFLICT fires AFTER UPDATE for replaced rows and nothing for
-- losers: compare the rows, not the operations
SELECT count(*) AS rows_differ
FROM (SELECT * FROM t EXCEPT SELECT * FROM h) x;
DELETE FROM seen;

-- 3. UPDATE of the odd keys
UPDATE t SET v = v || '!' WHERE id % 2 = 1;
UPDATE h SET v = v || '!' WHERE id % 2 = 1;
SELECT * FROM compare_seen();

-- 4. subtransactions: the images of a rolled-back one fire nothing; those
-- before and after it still read from the file
BEGIN;
INSERT INTO t SELECT g, repeat('a', 120), 5 FROM generate_series(7001, 8000) g;
INSERT INTO h SELECT g, repeat('a', 120), 5 FROM generate_series(7001, 8000) g;
SAVEPOINT s;
INSERT INTO t SELECT g, repeat('b', 120), 5 FROM generate_series(8001, 9000) g;
ROLLBACK TO s;
INSERT INTO t SELECT g, repeat('c', 120), 5 FROM generate_series(9001, 10000) g;
INSERT INTO h SELECT g, repeat('c', 120), 5 FROM generate_series(9001, 10000) g;
COMMIT;
SELECT * FROM compare_seen();

-- 5. deferred triggers fire at commit, reading images written to the file
-- by statements before
CREATE CONSTRAINT TRIGGER t_late AFTER INSERT ON t DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION note('cow');
CREATE CONSTRAINT TRIGGER h_late AFTER INSERT ON h DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION note('heap');
BEGIN;
INSERT INTO t SELECT g, repeat('d', 100), 1 FROM generate_series(20001, 22000) g;
INSERT INTO h SELECT g, repeat('d', 100), 1 FROM generate_series(20001, 22000) g;
INSERT INTO t SELECT g, repeat('e', 100), 1 FROM generate_series(22001, 24000) g;
INSERT INTO h SELECT g, repeat('e', 100), 1 FROM generate_series(22001, 24000) g;
SELECT count(*) AS immediate_firings FROM seen;
COMMIT;
SELECT * FROM compare_seen();

-- 6. an aborted transaction with images in the file leaves nothing
-- behind; the next one starts afresh
BEGIN;
INSERT INTO t SELECT g, repeat('f', 100), 1 FROM generate_series(30001, 33000) g;
SELECT count(*) > 0 AS fired FROM seen WHERE tab = 'cow';
ROLLBACK;
SELECT count(*) AS left_over FROM seen;
INSERT INTO t SELECT g, repeat('g', 100), 1 FROM generate_series(30001, 31000) g;
INSERT INTO h SELECT g, repeat('g', 100), 1 FROM generate_series(30001, 31000) g;
SELECT * FROM compare_seen();

SELECT count(*) AS rows_differ
FROM (SELECT * FROM t EXCEPT SELECT * FROM h
      UNION ALL SELECT * FROM h EXCEPT SELECT * FROM t) x;

RESET work_mem;
DROP SCHEMA cow_row_images CASCADE;
