-- incetl_cow against heap where a statement's rows meet other changes in
-- the same transaction: plpgsql loops whose EXCEPTION blocks roll back a
-- row's change, cursors updating WHERE CURRENT OF while other rows change,
-- MERGE and UPDATE whose BEFORE triggers change the next row, INSERT ...
-- ON CONFLICT with such a trigger (refused on incetl_cow, 0A000, writing
-- nothing: the statement's rows cannot be merged during ON CONFLICT), and
-- partitioned tables with incetl_cow partitions (row movement with AFTER
-- triggers, a CHECK failing mid-statement, generated columns).  Each case
-- runs on heap, on incetl_cow and (but for partitions) on incetl_cow with
-- a record key; outcome (SQLSTATE) and rows after are shown side by side.
-- Differences by design: an INSERT of a stored key into the table with a
-- record key replaces the row (an upsert: no unique_violation, "loop dup
-- key"), and the ON CONFLICT refusal.
CREATE SCHEMA cow_heap_parity;
SET search_path = cow_heap_parity, public;
SET client_min_messages = warning;

-- one table of each kind; parity_run runs a statement on each (@T its
-- name), from the same five rows, under a BEFORE trigger calling
-- next_change(arg) when op is given, and shows its SQLSTATE and the rows
CREATE TABLE th (id int PRIMARY KEY, v int);
CREATE TABLE tc (id int PRIMARY KEY, v int) USING incetl_cow;
CREATE TABLE tk (id int PRIMARY KEY, v int) USING incetl_cow;
SELECT incetl.set_table_options('tk', record_key => 'id');
CREATE FUNCTION next_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF pg_trigger_depth() = 1 THEN
    IF TG_ARGV[0] = 'del_next' THEN EXECUTE format('DELETE FROM %s WHERE id = $1', TG_TABLE_NAME) USING old.id + 1;
    ELSIF TG_ARGV[0] = 'upd_next' THEN EXECUTE format('UPDATE %s SET v = v + 100 WHERE id = $1', TG_TABLE_NAME) USING old.id + 1;
    ELSIF TG_ARGV[0] = 'upd_prev' THEN EXECUTE format('UPDATE %s SET v = v + 100 WHERE id = $1', TG_TABLE_NAME) USING old.id - 1;
    END IF;
  END IF;
  IF TG_OP = 'DELETE' THEN RETURN old; END IF;
  RETURN new;
END $$;
-- try_run: sql run on table tb (@T its name), 'ok' or the SQLSTATE it
-- failed with, its changes then rolled back
CREATE FUNCTION try_run(sql text, tb text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE replace(sql, '@T', tb);
  RETURN 'ok';
EXCEPTION WHEN OTHERS THEN RETURN SQLSTATE;
END $$;
CREATE FUNCTION parity_run(sql text, op text DEFAULT NULL, arg text DEFAULT NULL)
RETURNS TABLE (t text, outcome text, state text) LANGUAGE plpgsql AS $$
DECLARE tb text;
BEGIN
  FOREACH tb IN ARRAY ARRAY['th','tc','tk'] LOOP
    EXECUTE format('TRUNCATE %s', tb);
    EXECUTE format('INSERT INTO %s SELECT g, g FROM generate_series(1, 5) g', tb);
    IF op IS NOT NULL THEN
      EXECUTE format('CREATE TRIGGER trg BEFORE %s ON %s FOR EACH ROW EXECUTE FUNCTION next_change(%L)', op, tb, arg);
    END IF;
    outcome := try_run(sql, tb);
    t := tb;
    EXECUTE format('DROP TRIGGER IF EXISTS trg ON %s', tb);
    EXECUTE format('SELECT string_agg(id || '':'' || v, '','' ORDER BY id) FROM %s', tb) INTO state;
    RETURN NEXT;
  END LOOP;
END $$;

-- plpgsql loops, cursors
SELECT 'loop exc ins' c, * FROM parity_run($q$DO $d$ BEGIN FOR i IN 10..14 LOOP BEGIN INSERT INTO @T VALUES (i, i); IF i = 12 THEN RAISE EXCEPTION 'x'; END IF; EXCEPTION WHEN OTHERS THEN NULL; END; END LOOP; END $d$$q$);
SELECT 'loop exc upd' c, * FROM parity_run($q$DO $d$ BEGIN FOR i IN 1..5 LOOP BEGIN UPDATE @T SET v = v * 10 WHERE id = i; IF i % 2 = 0 THEN RAISE EXCEPTION 'x'; END IF; EXCEPTION WHEN OTHERS THEN NULL; END; END LOOP; END $d$$q$);
SELECT 'loop exc del' c, * FROM parity_run($q$DO $d$ BEGIN FOR i IN 1..5 LOOP BEGIN DELETE FROM @T WHERE id = i; IF i = 4 THEN RAISE EXCEPTION 'x'; END IF; EXCEPTION WHEN OTHERS THEN NULL; END; END LOOP; END $d$$q$);
SELECT 'loop dup key' c, * FROM parity_run($q$DO $d$ BEGIN FOR i IN 3..7 LOOP BEGIN INSERT INTO @T VALUES (i, -i); EXCEPTION WHEN unique_violation THEN UPDATE @T SET v = v + 1000 WHERE id = i; END; END LOOP; END $d$$q$);
SELECT 'loop read own' c, * FROM parity_run($q$DO $d$ DECLARE n int; BEGIN FOR i IN 1..3 LOOP INSERT INTO @T VALUES (100 + i, 0); SELECT count(*) INTO n FROM @T; UPDATE @T SET v = n WHERE id = 100 + i; END LOOP; END $d$$q$);
SELECT 'cursor wco' c, * FROM parity_run($q$DO $d$ DECLARE r record; cur CURSOR FOR SELECT id FROM @T ORDER BY id FOR UPDATE; BEGIN FOR r IN cur LOOP UPDATE @T SET v = v + 1 WHERE CURRENT OF cur; IF r.id = 2 THEN DELETE FROM @T WHERE id = 4; END IF; END LOOP; END $d$$q$);
SELECT 'cursor wco2' c, * FROM parity_run($q$DO $d$ DECLARE r record; cur CURSOR FOR SELECT id FROM @T ORDER BY id; BEGIN FOR r IN cur LOOP UPDATE @T SET v = v + 1 WHERE CURRENT OF cur; IF r.id = 2 THEN UPDATE @T SET v = v + 50 WHERE id = 4; END IF; END LOOP; END $d$$q$);
SELECT 'savepoint-ish' c, * FROM parity_run($q$DO $d$ BEGIN UPDATE @T SET v = 0; BEGIN UPDATE @T SET v = 1 WHERE id < 3; RAISE EXCEPTION 'x'; EXCEPTION WHEN OTHERS THEN NULL; END; UPDATE @T SET v = v + 7 WHERE id > 3; END $d$$q$);

-- BEFORE triggers changing the next or previous row: MERGE, UPDATE, DELETE,
-- INSERT ... ON CONFLICT
SELECT 'merge upd del_next' c, * FROM parity_run($q$MERGE INTO @T t USING (SELECT g FROM generate_series(1,5) g) s ON t.id = s.g WHEN MATCHED THEN UPDATE SET v = t.v + 1$q$, 'UPDATE', 'del_next');
SELECT 'merge upd upd_next' c, * FROM parity_run($q$MERGE INTO @T t USING (SELECT g FROM generate_series(1,5) g) s ON t.id = s.g WHEN MATCHED THEN UPDATE SET v = t.v + 1$q$, 'UPDATE', 'upd_next');
SELECT 'merge del del_next' c, * FROM parity_run($q$MERGE INTO @T t USING (SELECT g FROM generate_series(1,5) g) s ON t.id = s.g WHEN MATCHED THEN DELETE$q$, 'DELETE', 'del_next');
SELECT 'onconf del_next' c, * FROM parity_run($q$INSERT INTO @T SELECT g, 0 FROM generate_series(1,5) g ON CONFLICT (id) DO UPDATE SET v = @T.v + 1$q$, 'UPDATE', 'del_next');
SELECT 'onconf upd_next' c, * FROM parity_run($q$INSERT INTO @T SELECT g, 0 FROM generate_series(1,5) g ON CONFLICT (id) DO UPDATE SET v = @T.v + 1$q$, 'UPDATE', 'upd_next');
SELECT 'onconf upd_prev' c, * FROM parity_run($q$INSERT INTO @T SELECT g, 0 FROM generate_series(1,5) g ON CONFLICT (id) DO UPDATE SET v = @T.v + 1$q$, 'UPDATE', 'upd_prev');
SELECT 'upd_next where' c, * FROM parity_run($q$UPDATE @T SET v = v + 1 WHERE id > 0$q$, 'UPDATE', 'upd_next');
SELECT 'del upd_next' c, * FROM parity_run($q$DELETE FROM @T WHERE id % 2 = 1$q$, 'DELETE', 'upd_next');

-- partitions
CREATE TABLE ph (id int, part int, v int, g int GENERATED ALWAYS AS (v * 2) STORED, CHECK (v < 1000)) PARTITION BY LIST (part);
CREATE TABLE ph1 PARTITION OF ph FOR VALUES IN (1);
CREATE TABLE ph2 PARTITION OF ph FOR VALUES IN (2);
CREATE TABLE pc (id int, part int, v int, g int GENERATED ALWAYS AS (v * 2) STORED, CHECK (v < 1000)) PARTITION BY LIST (part);
CREATE TABLE pc1 PARTITION OF pc FOR VALUES IN (1) USING incetl_cow;
CREATE TABLE pc2 PARTITION OF pc FOR VALUES IN (2) USING incetl_cow;
CREATE TABLE plog (t text, op text, id int, part int);
CREATE FUNCTION plogf() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN INSERT INTO plog VALUES (left(TG_TABLE_NAME, 2), TG_OP || ':' || TG_TABLE_NAME, old.id, old.part);
  ELSE INSERT INTO plog VALUES (left(TG_TABLE_NAME, 2), TG_OP || ':' || TG_TABLE_NAME, new.id, new.part); END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER l AFTER INSERT OR UPDATE OR DELETE ON ph1 FOR EACH ROW EXECUTE FUNCTION plogf();
CREATE TRIGGER l AFTER INSERT OR UPDATE OR DELETE ON ph2 FOR EACH ROW EXECUTE FUNCTION plogf();
CREATE TRIGGER l AFTER INSERT OR UPDATE OR DELETE ON pc1 FOR EACH ROW EXECUTE FUNCTION plogf();
CREATE TRIGGER l AFTER INSERT OR UPDATE OR DELETE ON pc2 FOR EACH ROW EXECUTE FUNCTION plogf();
CREATE FUNCTION part_run(sql text) RETURNS TABLE (t text, outcome text, state text, logs text) LANGUAGE plpgsql AS $$
DECLARE tb text;
BEGIN
  FOREACH tb IN ARRAY ARRAY['ph','pc'] LOOP
    EXECUTE format('TRUNCATE %s', tb);
    EXECUTE format('INSERT INTO %s (id, part, v) SELECT g, 1 + g %% 2, g FROM generate_series(1, 6) g', tb);
    DELETE FROM plog;
    outcome := try_run(sql, tb);
    t := tb;
    EXECUTE format('SELECT string_agg(tableoid::regclass::text || '':'' || id || '':'' || v || '':'' || g, '','' ORDER BY id) FROM %s', tb) INTO state;
    SELECT string_agg(replace(op, tb, '') || '/' || id || '/' || part, ' ' ORDER BY op, id) INTO logs FROM plog;
    RETURN NEXT;
  END LOOP;
END $$;
SELECT 'move part' c, * FROM part_run('UPDATE @T SET part = 3 - part WHERE id <= 3');
SELECT 'move part check' c, * FROM part_run('UPDATE @T SET part = 3 - part, v = v * 300 WHERE id <= 3');
SELECT 'check fail mid' c, * FROM part_run('UPDATE @T SET v = v * 200');
SELECT 'insert bad part' c, * FROM part_run('INSERT INTO @T (id, part, v) VALUES (7, 1, 7), (8, 9, 8)');
SELECT 'delete part' c, * FROM part_run('DELETE FROM @T WHERE part = 2 AND id > 2');
SELECT 'upd gen' c, * FROM part_run('UPDATE @T SET v = v + 1 RETURNING g');
SELECT 'copy-ish' c, * FROM part_run('INSERT INTO @T (id, part, v) SELECT id + 10, part, v FROM @T');

RESET client_min_messages;
RESET search_path;
SET client_min_messages = warning;
DROP SCHEMA cow_heap_parity CASCADE;
