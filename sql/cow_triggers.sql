-- Row triggers on incetl_cow tables, each against a heap copy: AFTER ROW
-- INSERT / UPDATE / DELETE (OLD and NEW, TG_OP, how many fire and in what
-- order) in multi-row VALUES, INSERT ... SELECT, COPY, UPDATE and DELETE;
-- BEFORE ROW UPDATE / DELETE (changing NEW, skipping rows); transition
-- tables of row triggers; a trigger reading the table; deferrable
-- constraint triggers firing at commit; upserts by record key (NEW is the
-- row as the statement wrote it); statements spilled or merged in parts.
CREATE SCHEMA cow_triggers;
SET search_path = cow_triggers, public;

CREATE TABLE t (id int, v text, ts int) USING incetl_cow;
SELECT incetl.set_table_options('t', record_key => 'id', precombine => 'ts',
                                file_group_rows => 4);
CREATE TABLE h (id int, v text, ts int);

CREATE TABLE trlog (n bigserial, tab text, tg text, op text, old_row text,
                    new_row text, seen bigint);
CREATE FUNCTION trlog() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO trlog (tab, tg, op, old_row, new_row)
    VALUES (TG_ARGV[0], TG_WHEN || ' ' || TG_LEVEL, TG_OP,
            CASE WHEN TG_OP IN ('UPDATE', 'DELETE') THEN OLD::text END,
            CASE WHEN TG_OP IN ('INSERT', 'UPDATE') THEN NEW::text END);
    RETURN NULL;
END $$;
-- the firings of cow and heap, side by side, in order (or sorted, where
-- the two scans meet rows in different orders); then forgotten
CREATE FUNCTION compare_log(ordered boolean DEFAULT true)
RETURNS TABLE (firings bigint, mismatches bigint)
LANGUAGE sql AS $$
    WITH c AS (SELECT row_number() OVER (ORDER BY CASE WHEN ordered THEN n END,
                                                  tg, op, old_row, new_row) AS k,
                      tg, op, old_row, new_row, seen
               FROM trlog WHERE tab = 'cow'),
         hp AS (SELECT row_number() OVER (ORDER BY CASE WHEN ordered THEN n END,
                                                   tg, op, old_row, new_row) AS k,
                       tg, op, old_row, new_row, seen
                FROM trlog WHERE tab = 'heap'),
         d AS (DELETE FROM trlog)
    SELECT count(*),
           count(*) FILTER (WHERE (c.tg, c.op, c.old_row, c.new_row, c.seen)
                                  IS DISTINCT FROM (hp.tg, hp.op, hp.old_row, hp.new_row, hp.seen))
    FROM c FULL JOIN hp USING (k)
$$;
CREATE FUNCTION compare_tables() RETURNS bigint LANGUAGE sql AS $$
    SELECT count(*) FROM ((TABLE t EXCEPT ALL TABLE h) UNION ALL
                          (TABLE h EXCEPT ALL TABLE t)) d
$$;

CREATE TRIGGER t_after AFTER INSERT OR UPDATE OR DELETE ON t
    FOR EACH ROW EXECUTE FUNCTION trlog('cow');
CREATE TRIGGER h_after AFTER INSERT OR UPDATE OR DELETE ON h
    FOR EACH ROW EXECUTE FUNCTION trlog('heap');

-- multi-row VALUES: one firing per row, in order, with NEW
INSERT INTO t VALUES (3, 'c', 1), (1, 'a', 1), (2, 'b', 1);
INSERT INTO h VALUES (3, 'c', 1), (1, 'a', 1), (2, 'b', 1);
SELECT op, old_row, new_row FROM trlog WHERE tab = 'cow' ORDER BY n;
SELECT * FROM compare_log();
-- INSERT ... SELECT and COPY
INSERT INTO t SELECT g, 'v' || g, 1 FROM generate_series(4, 12) g;
INSERT INTO h SELECT g, 'v' || g, 1 FROM generate_series(4, 12) g;
COPY t FROM STDIN;
13	copied	1
15	copied	1
14	copied	1
\.
COPY h FROM STDIN;
13	copied	1
15	copied	1
14	copied	1
\.
SELECT * FROM compare_log();
-- UPDATE (OLD and NEW), also of the record key, and DELETE
UPDATE t SET v = v || '!' WHERE id % 3 = 0;
UPDATE h SET v = v || '!' WHERE id % 3 = 0;
SELECT op, old_row, new_row FROM trlog WHERE tab = 'cow' ORDER BY n;
SELECT * FROM compare_log();
UPDATE t SET id = id + 100 WHERE id IN (4, 5);
UPDATE h SET id = id + 100 WHERE id IN (4, 5);
DELETE FROM t WHERE id > 10 AND id < 100;
DELETE FROM h WHERE id > 10 AND id < 100;
SELECT op, count(*) FROM trlog WHERE tab = 'cow' GROUP BY op ORDER BY op;
SELECT * FROM compare_log(ordered => false);  -- heap deletes in COPY order
SELECT compare_tables();

-- a trigger reading the table sees the statement's rows, as on heap
CREATE FUNCTION count_rows() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('SELECT count(*) FROM %I.%I', TG_TABLE_SCHEMA, TG_TABLE_NAME)
        INTO STRICT NEW.ts;
    INSERT INTO trlog (tab, tg, op, new_row, seen) VALUES (TG_ARGV[0], 'count', TG_OP, NEW.id, NEW.ts);
    RETURN NULL;
END $$;
CREATE TRIGGER t_count AFTER INSERT OR DELETE ON t FOR EACH ROW EXECUTE FUNCTION count_rows('cow');
CREATE TRIGGER h_count AFTER INSERT OR DELETE ON h FOR EACH ROW EXECUTE FUNCTION count_rows('heap');
INSERT INTO t VALUES (20, 'x', 1), (21, 'y', 1);
INSERT INTO h VALUES (20, 'x', 1), (21, 'y', 1);
DELETE FROM t WHERE id = 20;
DELETE FROM h WHERE id = 20;
SELECT op, new_row, seen FROM trlog WHERE tab = 'cow' AND tg = 'count' ORDER BY n;
SELECT * FROM compare_log();
DROP TRIGGER t_count ON t;
DROP TRIGGER h_count ON h;

-- transition tables of row triggers: each firing sees the whole statement
CREATE FUNCTION count_new() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO trlog (tab, tg, op, new_row, seen)
    VALUES (TG_ARGV[0], 'transition', TG_OP, NEW.id, (SELECT count(*) FROM nt));
    RETURN NULL;
END $$;
CREATE TRIGGER t_tt AFTER INSERT ON t REFERENCING NEW TABLE AS nt
    FOR EACH ROW EXECUTE FUNCTION count_new('cow');
CREATE TRIGGER h_tt AFTER INSERT ON h REFERENCING NEW TABLE AS nt
    FOR EACH ROW EXECUTE FUNCTION count_new('heap');
INSERT INTO t VALUES (30, 'p', 1), (31, 'q', 1), (32, 'r', 1);
INSERT INTO h VALUES (30, 'p', 1), (31, 'q', 1), (32, 'r', 1);
SELECT op, new_row, seen FROM trlog WHERE tab = 'cow' AND tg = 'transition' ORDER BY n;
SELECT * FROM compare_log();
DROP TRIGGER t_tt ON t;
DROP TRIGGER h_tt ON h;

-- BEFORE ROW UPDATE / DELETE: a trigger changing NEW, and one returning
-- NULL, which skips the row
CREATE FUNCTION before_upd() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.id = 2 THEN RETURN NULL; END IF;
    NEW.v := upper(NEW.v) || '(was ' || OLD.v || ')';
    RETURN NEW;
END $$;
CREATE FUNCTION before_del() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.id = 3 THEN RETURN NULL; END IF;
    RETURN OLD;
END $$;
CREATE TRIGGER t_bu BEFORE UPDATE ON t FOR EACH ROW EXECUTE FUNCTION before_upd();
CREATE TRIGGER h_bu BEFORE UPDATE ON h FOR EACH ROW EXECUTE FUNCTION before_upd();
CREATE TRIGGER t_bd BEFORE DELETE ON t FOR EACH ROW EXECUTE FUNCTION before_del();
CREATE TRIGGER h_bd BEFORE DELETE ON h FOR EACH ROW EXECUTE FUNCTION before_del();
UPDATE t SET v = v || '+' WHERE id <= 3;
UPDATE h SET v = v || '+' WHERE id <= 3;
SELECT * FROM t WHERE id <= 3 ORDER BY id;
DELETE FROM t WHERE id IN (1, 3);
DELETE FROM h WHERE id IN (1, 3);
SELECT id FROM t WHERE id <= 3 ORDER BY id;
SELECT * FROM compare_log();
SELECT compare_tables();
-- in a transaction, after its own writes, and in a function's loop
BEGIN;
INSERT INTO t VALUES (40, 'n', 1);
INSERT INTO h VALUES (40, 'n', 1);
UPDATE t SET v = 'w' WHERE id = 40;
UPDATE h SET v = 'w' WHERE id = 40;
DO $$ DECLARE r record;
BEGIN
    FOR r IN SELECT id FROM t WHERE id BETWEEN 6 AND 9 ORDER BY id LOOP
        UPDATE t SET v = 'loop' WHERE id = r.id;
        UPDATE h SET v = 'loop' WHERE id = r.id;
    END LOOP;
END $$;
COMMIT;
SELECT * FROM compare_log();
SELECT compare_tables();
DROP TRIGGER t_bu ON t;
DROP TRIGGER h_bu ON h;
DROP TRIGGER t_bd ON t;
DROP TRIGGER h_bd ON h;

-- deferrable constraint triggers fire at commit (or SET CONSTRAINTS)
CREATE CONSTRAINT TRIGGER t_deferred AFTER INSERT OR UPDATE ON t
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION trlog('cow_deferred');
BEGIN;
INSERT INTO t VALUES (50, 'd', 1);
UPDATE t SET v = 'd2' WHERE id = 50;
INSERT INTO t VALUES (51, 'e', 1);
SELECT count(*) FROM trlog WHERE tab = 'cow_deferred';
COMMIT;
SELECT op, old_row, new_row FROM trlog WHERE tab = 'cow_deferred' ORDER BY n;
INSERT INTO h VALUES (50, 'd2', 1), (51, 'e', 1);   -- the twin follows
DELETE FROM trlog;
BEGIN;
INSERT INTO t VALUES (52, 'f', 1);
SET CONSTRAINTS t_deferred IMMEDIATE;
SELECT op, new_row FROM trlog WHERE tab = 'cow_deferred' ORDER BY n;
ROLLBACK;
DROP TRIGGER t_deferred ON t;
DELETE FROM trlog;

-- upserts by record key: every incoming row fires AFTER INSERT with the
-- row as the statement wrote it -- also one collapsed by a later row of
-- its key, one that lost to a newer stored row (precombine) and a delete
-- marker -- as a heap AFTER INSERT trigger sees each inserted row
CREATE TABLE u (id int, v text, ts int, gone boolean) USING incetl_cow;
SELECT incetl.set_table_options('u', record_key => 'id', precombine => 'ts',
                                delete_marker => 'gone');
INSERT INTO u VALUES (1, 'stored', 5, false), (2, 'stored', 5, false);
CREATE TRIGGER u_after AFTER INSERT OR UPDATE OR DELETE ON u
    FOR EACH ROW EXECUTE FUNCTION trlog('upsert');
INSERT INTO u VALUES (1, 'older', 1, false),   -- loses to the stored row
                     (2, 'first', 6, false),   -- collapsed by the next row
                     (2, 'second', 7, false),
                     (3, 'new', 1, false),
                     (1, 'marker', 1, true),   -- loses as well: not deleted
                     (4, 'marker', 1, true);   -- a marker for no stored key
SELECT op, new_row FROM trlog WHERE tab = 'upsert' ORDER BY n;
SELECT * FROM u ORDER BY id;
DELETE FROM trlog;

-- MERGE fires the same triggers, BEFORE and AFTER, for its UPDATE, DELETE
-- and INSERT actions; a target row matched twice is 21000 with triggers too
CREATE FUNCTION before_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN NEW.ts := NEW.ts + 100; RETURN NEW; END $$;
CREATE TRIGGER t_bu BEFORE UPDATE ON t FOR EACH ROW EXECUTE FUNCTION before_bump();
CREATE TRIGGER h_bu BEFORE UPDATE ON h FOR EACH ROW EXECUTE FUNCTION before_bump();
CREATE TRIGGER t_bd BEFORE DELETE ON t FOR EACH ROW EXECUTE FUNCTION before_del();
CREATE TRIGGER h_bd BEFORE DELETE ON h FOR EACH ROW EXECUTE FUNCTION before_del();
CREATE TABLE src (id int, v text);
INSERT INTO src VALUES (6, 'merged'), (7, 'del'), (3, 'del'), (60, 'new');
MERGE INTO t USING src s ON t.id = s.id
WHEN MATCHED AND s.v = 'del' THEN DELETE
WHEN MATCHED THEN UPDATE SET v = s.v
WHEN NOT MATCHED THEN INSERT VALUES (s.id, s.v, 0);
MERGE INTO h USING src s ON h.id = s.id
WHEN MATCHED AND s.v = 'del' THEN DELETE
WHEN MATCHED THEN UPDATE SET v = s.v
WHEN NOT MATCHED THEN INSERT VALUES (s.id, s.v, 0);
SELECT op, old_row, new_row FROM trlog WHERE tab = 'cow' ORDER BY op, old_row, new_row;
SELECT * FROM compare_log(ordered => false);
SELECT compare_tables();
INSERT INTO src VALUES (6, 'twice');
MERGE INTO t USING src s ON t.id = s.id WHEN MATCHED THEN UPDATE SET v = s.v;
\echo :LAST_ERROR_SQLSTATE
MERGE INTO h USING src s ON h.id = s.id WHEN MATCHED THEN UPDATE SET v = s.v;
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM trlog;
SELECT compare_tables();
DROP TRIGGER t_bu ON t;
DROP TRIGGER h_bu ON h;
DROP TRIGGER t_bd ON t;
DROP TRIGGER h_bd ON h;

-- statements spilled (maintenance_work_mem = 1MB, keys out of order) and
-- merged in parts (keys ascending): every row fires once, with its values
CREATE TABLE big (id int, v text) USING incetl_cow;
SELECT incetl.set_table_options('big', record_key => 'id', file_group_rows => 1000);
CREATE TABLE big_seen (id int, v text);
CREATE FUNCTION big_seen() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN INSERT INTO big_seen VALUES (NEW.id, NEW.v); RETURN NULL; END $$;
CREATE TRIGGER big_after AFTER INSERT ON big FOR EACH ROW EXECUTE FUNCTION big_seen();
SET maintenance_work_mem = '1MB';
INSERT INTO big SELECT g, repeat('x', 40) || g FROM generate_series(1, 20000) g
ORDER BY (g * 7919) % 20011;
SELECT count(*), count(DISTINCT id), sum(id) FROM big_seen;
SELECT count(*) FROM big_seen s WHERE v <> repeat('x', 40) || s.id;
SELECT count(*) FROM big;
TRUNCATE big_seen;
INSERT INTO big SELECT g, repeat('y', 40) || g FROM generate_series(20001, 40000) g;
SELECT count(*), min(id), max(id) FROM big_seen;
SELECT count(*) FROM big_seen s WHERE v <> repeat('y', 40) || s.id;
RESET maintenance_work_mem;

-- a self-referencing foreign key with ON DELETE CASCADE and AFTER ROW and
-- STATEMENT triggers counting the table, against heap, without and with a
-- record key: cascades (the RI triggers' deletes on the same table), the
-- rows and sums each AFTER trigger sees, foreign key errors, a key
-- update, a writable CTE, an UPDATE whose SET reads the table
CREATE TABLE xh (id int PRIMARY KEY, parent int REFERENCES xh ON DELETE CASCADE, v int);
CREATE TABLE xc (id int PRIMARY KEY, parent int REFERENCES xc ON DELETE CASCADE, v int) USING incetl_cow;
CREATE TABLE xk (id int PRIMARY KEY, parent int REFERENCES xk ON DELETE CASCADE, v int) USING incetl_cow;
SELECT incetl.set_table_options('xk', record_key => 'id');
CREATE TABLE fklog (t text, n bigint, s bigint);
CREATE FUNCTION fk_after() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format('INSERT INTO fklog SELECT %L, count(*), sum(v) FROM %s', TG_TABLE_NAME || ':' || TG_OP || ':' || TG_LEVEL, TG_TABLE_NAME);
  RETURN NULL;
END $$;
CREATE FUNCTION fk_run(sql text) RETURNS TABLE (t text, outcome text, state text, logs text) LANGUAGE plpgsql AS $$
DECLARE tb text;
BEGIN
  FOREACH tb IN ARRAY ARRAY['xh','xc','xk'] LOOP
    EXECUTE format('TRUNCATE %s CASCADE', tb);
    DELETE FROM fklog;
    EXECUTE format('INSERT INTO %s VALUES (1, NULL, 1), (2, 1, 2), (3, 1, 3), (4, 2, 4), (5, 4, 5), (6, NULL, 6)', tb);
    EXECUTE format('DROP TRIGGER IF EXISTS a1 ON %s', tb);
    EXECUTE format('DROP TRIGGER IF EXISTS a2 ON %s', tb);
    EXECUTE format('CREATE TRIGGER a1 AFTER INSERT OR UPDATE OR DELETE ON %s FOR EACH ROW EXECUTE FUNCTION fk_after()', tb);
    EXECUTE format('CREATE TRIGGER a2 AFTER INSERT OR UPDATE OR DELETE ON %s FOR EACH STATEMENT EXECUTE FUNCTION fk_after()', tb);
    BEGIN
      EXECUTE replace(sql, '@T', tb);
      outcome := 'ok';
    EXCEPTION WHEN OTHERS THEN outcome := SQLSTATE || ' ' || SQLERRM;
    END;
    t := tb;
    EXECUTE format('DROP TRIGGER IF EXISTS a1 ON %s', tb);
    EXECUTE format('DROP TRIGGER IF EXISTS a2 ON %s', tb);
    EXECUTE format('SELECT string_agg(id || '':'' || coalesce(parent::text, ''-'') || '':'' || v, '','' ORDER BY id) FROM %s', tb) INTO state;
    SELECT string_agg(split_part(l.t, ':', 2) || ':' || split_part(l.t, ':', 3) || '=' || n || '/' || s, ' ' ORDER BY l.t, n, s) INTO logs FROM fklog l;
    RETURN NEXT;
  END LOOP;
END $$;
SELECT 'cascade' c, * FROM fk_run('DELETE FROM @T WHERE id = 1');
SELECT 'cascade2' c, * FROM fk_run('DELETE FROM @T WHERE id IN (2, 6)');
SELECT 'update all' c, * FROM fk_run('UPDATE @T SET v = v * 10');
SELECT 'insert' c, * FROM fk_run('INSERT INTO @T VALUES (7, 6, 7), (8, 7, 8)');
SELECT 'bad fk' c, * FROM fk_run('INSERT INTO @T VALUES (9, 99, 9)');
SELECT 'update parent key' c, * FROM fk_run('UPDATE @T SET id = id + 100 WHERE id = 6');
SELECT 'update parent key ref' c, * FROM fk_run('UPDATE @T SET id = id + 100 WHERE id = 4');
SELECT 'wcte' c, * FROM fk_run('WITH d AS (DELETE FROM @T WHERE id = 6 RETURNING id) INSERT INTO @T SELECT id + 10, NULL, 0 FROM d');
SELECT 'upd ret sub' c, * FROM fk_run('UPDATE @T SET v = (SELECT count(*) FROM @T) WHERE id = 3');

RESET search_path;
SET client_min_messages = warning;
DROP SCHEMA cow_triggers CASCADE;
