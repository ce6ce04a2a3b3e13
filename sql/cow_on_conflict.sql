-- INSERT ... ON CONFLICT (DO NOTHING, DO UPDATE) on incetl_cow tables, against heap.  The arbiter
-- checks see the table as it stands plus the statement's own rows; a
-- statement takes the writers' lock when it starts.
CREATE SCHEMA cow_on_conflict;
SET search_path = cow_on_conflict, public;

\getenv abs_srcdir PG_ABS_SRCDIR
\set heap_compare :abs_srcdir '/sql/include/heap_compare.sql'
\i :heap_compare

-- DO NOTHING on a keyless table with a PRIMARY KEY and a UNIQUE column
CREATE TABLE h1 (id int PRIMARY KEY, u text UNIQUE, v text);
CREATE TABLE c1 (id int PRIMARY KEY, u text UNIQUE, v text) USING incetl_cow;
SELECT compare('INSERT INTO %1$s VALUES (1, ''a'', ''x''), (2, ''b'', ''x'')');
-- with an arbiter, without one, ON CONSTRAINT
SELECT compare('INSERT INTO %1$s VALUES (1, ''z'', ''y'') ON CONFLICT (id) DO NOTHING');
SELECT compare('INSERT INTO %1$s VALUES (3, ''a'', ''y'') ON CONFLICT DO NOTHING');
SELECT compare('INSERT INTO %1$s VALUES (3, ''c'', ''y'') ON CONFLICT ON CONSTRAINT %1$s_pkey DO NOTHING');
-- a conflict on an index that is not the arbiter still fails
SELECT compare('INSERT INTO %1$s VALUES (4, ''a'', ''y'') ON CONFLICT (id) DO NOTHING');
-- the statement's own rows: the second of two equal keys is skipped
SELECT compare('INSERT INTO %1$s VALUES (5, ''e'', ''1''), (5, ''f'', ''2''), (6, ''e'', ''3'') ON CONFLICT DO NOTHING');
SELECT compare('INSERT INTO %1$s SELECT g %% 3 + 7, ''s'' || g, ''g'' FROM generate_series(1, 9) g ON CONFLICT (id) DO NOTHING');
-- RETURNING gives the rows inserted
INSERT INTO c1 VALUES (1, 'q', 'r'), (20, 'q', 'r') ON CONFLICT DO NOTHING RETURNING id, u;
INSERT INTO h1 VALUES (1, 'q', 'r'), (20, 'q', 'r') ON CONFLICT DO NOTHING RETURNING id, u;
SELECT compare('SELECT 1');
-- a row deleted earlier in the transaction is no conflict
BEGIN;
DELETE FROM c1 WHERE id = 20;
DELETE FROM h1 WHERE id = 20;
SELECT compare('INSERT INTO %1$s VALUES (20, ''q2'', ''again'') ON CONFLICT DO NOTHING');
ROLLBACK;
-- nor is a row of a statement rolled back to a savepoint
BEGIN;
SAVEPOINT s;
INSERT INTO c1 VALUES (30, 'sp', 'x') ON CONFLICT DO NOTHING;
ROLLBACK TO SAVEPOINT s;
INSERT INTO c1 VALUES (30, 'sp2', 'y') ON CONFLICT DO NOTHING;
INSERT INTO c1 VALUES (30, 'sp3', 'z') ON CONFLICT DO NOTHING;
SELECT * FROM c1 WHERE id = 30;
ROLLBACK;
-- the next statement is no ON CONFLICT: a duplicate within it fails again
SELECT compare('INSERT INTO %1$s VALUES (40, ''d1'', ''x''), (40, ''d2'', ''y'')');
-- an arbiter that is not unique
SELECT try('INSERT INTO %1$s VALUES (1, ''x'', ''y'') ON CONFLICT (v) DO NOTHING', 'c1');

-- a keyed table: the key constraint as arbiter does what heap does
CREATE TABLE h2 (id int PRIMARY KEY, v text, ts int);
CREATE TABLE c2 (id int PRIMARY KEY, v text, ts int) USING incetl_cow;
SELECT incetl.set_table_options('c2', record_key => 'id', precombine => 'ts');
SELECT compare('INSERT INTO %1$s VALUES (1, ''a'', 1), (2, ''b'', 1)', 'h2', 'c2');
SELECT compare('INSERT INTO %1$s VALUES (1, ''new'', 9), (3, ''c'', 1) ON CONFLICT (id) DO NOTHING', 'h2', 'c2');
SELECT compare('INSERT INTO %1$s VALUES (4, ''d'', 1), (4, ''e'', 9) ON CONFLICT DO NOTHING', 'h2', 'c2');
SELECT compare('INSERT INTO %1$s AS t VALUES (1, ''upd'', 5), (5, ''e'', 1) ON CONFLICT (id) DO UPDATE SET v = t.v || excluded.v, ts = excluded.ts', 'h2', 'c2');
-- while a plain INSERT of a stored key stays an upsert
INSERT INTO c2 VALUES (1, 'upserted', 2);
SELECT * FROM c2 ORDER BY id;

-- DO UPDATE: EXCLUDED, the existing row, WHERE, RETURNING
SELECT compare('INSERT INTO %1$s AS t VALUES (1, ''a1'', ''new''), (60, ''n'', ''n'') ON CONFLICT (id) DO UPDATE SET v = t.v || ''+'' || excluded.v');
SELECT compare('INSERT INTO %1$s AS t VALUES (2, ''b'', ''w'') ON CONFLICT (id) DO UPDATE SET v = excluded.v WHERE t.v = ''nope''');
SELECT compare('INSERT INTO %1$s AS t VALUES (2, ''b'', ''w'') ON CONFLICT (u) DO UPDATE SET v = excluded.v WHERE t.v = ''x''');
SELECT compare('INSERT INTO %1$s AS t VALUES (3, ''c'', ''k'') ON CONFLICT ON CONSTRAINT %1$s_pkey DO UPDATE SET id = 61, v = ''moved''');
INSERT INTO c1 AS t VALUES (1, 'zz', 'r'), (62, 'yy', 'r')
ON CONFLICT (id) DO UPDATE SET v = t.v || '!' RETURNING id, u, v;
INSERT INTO h1 AS t VALUES (1, 'zz', 'r'), (62, 'yy', 'r')
ON CONFLICT (id) DO UPDATE SET v = t.v || '!' RETURNING id, u, v;
SELECT compare('SELECT 1');
-- the update collides with another row: fails as on heap
SELECT compare('INSERT INTO %1$s VALUES (1, ''x'', ''x'') ON CONFLICT (id) DO UPDATE SET u = ''b''');
-- a row hit twice in one statement: 21000, on a stored row and on one the
-- statement inserted
SELECT compare('INSERT INTO %1$s VALUES (2, ''p'', ''1''), (2, ''q'', ''2'') ON CONFLICT (id) DO UPDATE SET v = excluded.v');
SELECT compare('INSERT INTO %1$s VALUES (70, ''p'', ''1''), (70, ''q'', ''2'') ON CONFLICT (id) DO UPDATE SET v = excluded.v');
-- the same row in two statements of one transaction
BEGIN;
SELECT compare('INSERT INTO %1$s VALUES (71, ''t1'', ''1'') ON CONFLICT (id) DO UPDATE SET v = excluded.v');
SELECT compare('INSERT INTO %1$s VALUES (71, ''t2'', ''2'') ON CONFLICT (id) DO UPDATE SET v = excluded.v');
COMMIT;

-- partitions: the arbiter is checked in the partition a row is routed to
CREATE TABLE hp (id int PRIMARY KEY, v text) PARTITION BY RANGE (id);
CREATE TABLE hp_a PARTITION OF hp FOR VALUES FROM (0) TO (100);
CREATE TABLE hp_b PARTITION OF hp FOR VALUES FROM (100) TO (200);
CREATE TABLE cp (id int PRIMARY KEY, v text) PARTITION BY RANGE (id);
CREATE TABLE cp_a PARTITION OF cp FOR VALUES FROM (0) TO (100) USING incetl_cow;
CREATE TABLE cp_b PARTITION OF cp FOR VALUES FROM (100) TO (200) USING incetl_cow;
SELECT compare('INSERT INTO %1$s VALUES (1, ''a''), (150, ''b'')', 'hp', 'cp');
SELECT compare('INSERT INTO %1$s VALUES (1, ''x''), (150, ''y''), (151, ''z''), (151, ''w''), (2, ''v'') ON CONFLICT (id) DO NOTHING', 'hp', 'cp');
SELECT compare('INSERT INTO %1$s VALUES (2, ''x'') ON CONFLICT DO NOTHING', 'hp_a', 'cp_a');
SELECT compare('INSERT INTO %1$s VALUES (2, ''x''), (152, ''y'') ON CONFLICT (id) DO UPDATE SET v = excluded.v', 'hp', 'cp');

-- REPEATABLE READ: a conflict with the statement's own row is no
-- serialization failure
BEGIN ISOLATION LEVEL REPEATABLE READ;
INSERT INTO c1 VALUES (50, 'rr', 'a'), (50, 'rr2', 'b') ON CONFLICT DO NOTHING;
SELECT * FROM c1 WHERE id = 50;
COMMIT;

-- beyond maintenance_work_mem the statement fails rather than guess
SET maintenance_work_mem = '1MB';
INSERT INTO c1 SELECT g + 1000, 'm' || g, repeat('x', 200) FROM generate_series(1, 20000) g
ON CONFLICT DO NOTHING;
RESET maintenance_work_mem;
SELECT count(*) FROM c1 WHERE id > 1000;

DROP SCHEMA cow_on_conflict CASCADE;
