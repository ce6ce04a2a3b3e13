--
-- cow_spill: statements larger than maintenance_work_mem.
--
-- A statement's rows are buffered in memory up to maintenance_work_mem.
-- Beyond it, rows whose keys ascend strictly are merged in parts; any other
-- statement moves its rows to a sort on disk and merges them in one pass at
-- the end.  Either way the result is exactly that of one merge of the whole
-- statement: these tests compare with the rule computed on heap.
--
SET maintenance_work_mem = '1MB';

CREATE TABLE sp (k int, p int, d boolean, pad text) USING incetl_cow;
SELECT incetl.set_table_options('sp', record_key => 'k', precombine => 'p',
                                delete_marker => 'd', file_group_rows => 2000);
INSERT INTO sp SELECT k, 1, false, 'stored' FROM generate_series(1, 3000) k;

-- 1. Unordered keys: delete markers (p = 10) come first, older rows of the
-- same keys (p = 5) ~4 MB later.  The older rows must lose: nothing is left.
INSERT INTO sp
SELECT k, p, d, repeat('x', 200) FROM (
  SELECT (g * 7919) % 20000 + 1 AS k, 10 AS p, true AS d, 1 AS o FROM generate_series(1, 20000) g
  UNION ALL
  SELECT (g * 7919) % 20000 + 1, 5, false, 2 FROM generate_series(1, 20000) g) s
ORDER BY o;
SELECT count(*) AS rows_left FROM sp;
-- one statement, one commit: 3000 stored rows deleted, none inserted
SELECT operation, rows_inserted, rows_updated, rows_deleted
FROM incetl.commits('sp') ORDER BY commit_id;

-- 2. Ascending keys merged in parts, then the order breaks: delete markers
-- (p = 10) for keys 1..20000 in ascending order, then older rows of the
-- same keys.  The delete markers merged in earlier parts still win.
TRUNCATE sp;
INSERT INTO sp SELECT k, 1, false, 'stored' FROM generate_series(1, 3000) k;
INSERT INTO sp
SELECT k, p, d, repeat('y', 200) FROM (
  SELECT g AS k, 10 AS p, true AS d, 1 AS o FROM generate_series(1, 20000) g
  UNION ALL
  SELECT g, 5, false, 2 FROM generate_series(1, 20000) g) s
ORDER BY o, k;
SELECT count(*) AS rows_left FROM sp;
-- ... and newer rows of keys an earlier part wrote, after the break, replace
-- them without being counted again: 3000 stored keys and 17000 new ones,
-- then newer rows for the odd keys -- 17000 inserted, 3000 updated
TRUNCATE sp;
INSERT INTO sp SELECT k, 0, false, 'stored' FROM generate_series(1, 3000) k;
INSERT INTO sp
SELECT k, p, false, repeat('w', 200) FROM (
  SELECT g AS k, 1 AS p, 1 AS o FROM generate_series(1, 20000) g
  UNION ALL
  SELECT g, 2, 2 FROM generate_series(1, 20000, 2) g) s
ORDER BY o, k;
SELECT operation, rows_inserted, rows_updated, rows_deleted
FROM incetl.commits('sp') ORDER BY commit_id DESC LIMIT 1;
SELECT count(*), count(*) FILTER (WHERE p = 2) AS newer, min(k), max(k) FROM sp;
-- ... and newer rows after the break do come back
INSERT INTO sp
SELECT k, p, d, repeat('z', 200) FROM (
  SELECT g AS k, 10 AS p, true AS d, 1 AS o FROM generate_series(1, 20000) g
  UNION ALL
  SELECT g, 20, false, 2 FROM generate_series(1, 20000, 2) g) s
ORDER BY o, k;
SELECT count(*), min(k), max(k), min(p), max(p), bool_or(d) FROM sp;

-- 3. Many versions of each key spread over a statement that spills: the
-- largest precombine wins, a tie goes to the later row, NULL is lowest.
CREATE TABLE src AS
SELECT g AS seq, ((g::bigint * 104729) % 5000)::int AS k,
       CASE WHEN g % 97 = 0 THEN NULL ELSE (g * 31) % 7 END AS p,
       (g % 13 = 0) AS d, md5(g::text) || repeat('v', 150) AS pad
FROM generate_series(1, 40000) g;
TRUNCATE sp;
INSERT INTO sp SELECT k, 3, false, 'stored ' || k FROM generate_series(0, 4999, 2) k;
CREATE TABLE expect AS
SELECT k, p, d, pad FROM sp;
-- the rule on heap: winner per key by (p NULLS FIRST, seq), then against the stored row
WITH w AS (
  SELECT DISTINCT ON (k) k, p, d, pad FROM src ORDER BY k, p DESC NULLS LAST, seq DESC)
, merged AS (
  SELECT coalesce(w.k, e.k) AS k,
         CASE WHEN w.k IS NULL THEN 'keep'
              WHEN e.k IS NULL THEN CASE WHEN w.d THEN 'none' ELSE 'new' END
              WHEN w.p IS NOT DISTINCT FROM e.p OR w.p > e.p OR e.p IS NULL
                   THEN CASE WHEN w.d THEN 'none' ELSE 'new' END
              ELSE 'keep' END AS pick,
         w.p AS wp, w.d AS wd, w.pad AS wpad, e.p AS ep, e.d AS ed, e.pad AS epad
  FROM w FULL JOIN expect e USING (k))
SELECT count(*) FILTER (WHERE pick = 'new' AND ep IS NULL) AS will_insert,
       count(*) FILTER (WHERE pick = 'new' AND ep IS NOT NULL) AS will_update,
       count(*) FILTER (WHERE pick = 'none' AND ep IS NOT NULL) AS will_delete
FROM merged;
CREATE TABLE want AS
WITH w AS (
  SELECT DISTINCT ON (k) k, p, d, pad FROM src ORDER BY k, p DESC NULLS LAST, seq DESC)
SELECT coalesce(w.k, e.k) AS k,
       CASE WHEN w.k IS NULL OR (e.k IS NOT NULL AND w.p IS NOT NULL AND e.p IS NOT NULL
                                 AND w.p < e.p) OR (w.p IS NULL AND e.p IS NOT NULL AND e.k IS NOT NULL)
            THEN e.p ELSE w.p END AS p,
       CASE WHEN w.k IS NULL OR (e.k IS NOT NULL AND w.p IS NOT NULL AND e.p IS NOT NULL
                                 AND w.p < e.p) OR (w.p IS NULL AND e.p IS NOT NULL AND e.k IS NOT NULL)
            THEN e.d ELSE w.d END AS d,
       CASE WHEN w.k IS NULL OR (e.k IS NOT NULL AND w.p IS NOT NULL AND e.p IS NOT NULL
                                 AND w.p < e.p) OR (w.p IS NULL AND e.p IS NOT NULL AND e.k IS NOT NULL)
            THEN e.pad ELSE w.pad END AS pad
FROM w FULL JOIN expect e USING (k);
DELETE FROM want WHERE d;
INSERT INTO sp SELECT k, p, d, pad FROM src ORDER BY seq;
SELECT operation, rows_inserted, rows_updated, rows_deleted
FROM incetl.commits('sp') ORDER BY commit_id DESC LIMIT 1;
SELECT count(*) AS missing FROM (SELECT * FROM want EXCEPT ALL SELECT * FROM sp) x;
SELECT count(*) AS extra FROM (SELECT * FROM sp EXCEPT ALL SELECT * FROM want) x;
SELECT count(*) = count(DISTINCT k) AS keys_unique FROM sp;
SELECT * FROM incetl.verify('sp');

-- 4. A failing statement that spilled writes nothing.
SELECT count(*) AS before FROM sp;
INSERT INTO sp SELECT CASE WHEN g = 30000 THEN NULL ELSE g END, 1, false, repeat('n', 200)
FROM generate_series(1, 30000) g ORDER BY g DESC;
SELECT count(*) AS after FROM sp;

-- 5. Savepoints: a spilled statement rolled back to a savepoint is gone;
-- one that is kept is there.
BEGIN;
SAVEPOINT a;
INSERT INTO sp SELECT g % 10000, 100, false, repeat('s', 200) FROM generate_series(20000, 1, -1) g;
ROLLBACK TO SAVEPOINT a;
SELECT count(*) FILTER (WHERE p = 100) AS rolled_back FROM sp;
INSERT INTO sp SELECT g % 10000, 101, false, repeat('s', 200) FROM generate_series(20000, 1, -1) g;
COMMIT;
SELECT count(*), count(*) FILTER (WHERE p = 101) AS kept FROM sp;

-- 6. A function with an exception block inserting into the table while an
-- enclosing statement is writing to it: the aborted inner rows vanish, the
-- enclosing statement's rows (spilled) and the committed inner rows stay.
CREATE FUNCTION side_insert(k int) RETURNS int LANGUAGE plpgsql AS $$
BEGIN
  BEGIN
    INSERT INTO sp VALUES (k + 100000, 7, false, 'inner');
    IF k % 2 = 0 THEN
      RAISE EXCEPTION 'drop %', k;
    END IF;
  EXCEPTION WHEN raise_exception THEN
    NULL;
  END;
  RETURN k;
END $$;
TRUNCATE sp;
INSERT INTO sp SELECT side_insert(g), 1, false, repeat('o', 300)
FROM generate_series(1, 6000) g ORDER BY g % 7, g;
SELECT count(*) FILTER (WHERE k <= 6000) AS outer_rows,
       count(*) FILTER (WHERE k > 100000) AS inner_rows,
       count(*) FILTER (WHERE k > 100000 AND (k - 100000) % 2 = 0) AS aborted_inner_rows
FROM sp;
SELECT * FROM incetl.verify('sp');

-- Deletes inside a function's exception block while an enclosing UPDATE
-- is writing the same table: the DELETE's scan, under a later command,
-- would miss the UPDATE's buffered rows (heap shows them to it), and they
-- cannot be merged first inside a subtransaction the UPDATE did not start
-- (they would be rolled back with it), so it is refused (0A000) and
-- nothing is written.
CREATE FUNCTION side_delete(k int) RETURNS int LANGUAGE plpgsql AS $$
BEGIN
  BEGIN
    DELETE FROM sp WHERE sp.k = side_delete.k + 1000;
    IF k % 2 = 0 THEN
      RAISE EXCEPTION 'keep %', k + 1000;
    END IF;
  EXCEPTION WHEN raise_exception THEN
    NULL;
  END;
  RETURN 2;
END $$;
TRUNCATE sp;
INSERT INTO sp SELECT k, 1, false, 'r' FROM generate_series(1, 2000) k;
UPDATE sp SET p = side_delete(k) WHERE k <= 1000;
SELECT count(*) FILTER (WHERE k <= 1000 AND p = 2) AS updated,
       count(*) FILTER (WHERE k > 1000) AS kept,
       count(*) FILTER (WHERE k > 1000 AND k % 2 = 1) AS deleted_but_present
FROM sp;

-- 7. Keyless tables append in parts, also under UPDATE (rows then spill).
CREATE TABLE ap (a int, pad text) USING incetl_cow;
SELECT incetl.set_table_options('ap', file_group_rows => 3000);
INSERT INTO ap SELECT g, repeat('a', 300) FROM generate_series(1, 15000) g;
UPDATE ap SET a = -a WHERE a % 3 <> 0;
SELECT count(*), count(*) FILTER (WHERE a < 0) AS negated, sum(abs(a)) FROM ap;
SELECT * FROM incetl.verify('ap');

-- 8. A new record key on a table larger than maintenance_work_mem: the
-- rewrite sorts the stored rows through the spill too.  One row per new
-- key: the largest precombine, a tie going to the later row in storage
-- order; commit ids are kept.
CREATE TABLE rk (a int, b int, p int, pad text) USING incetl_cow;
INSERT INTO rk SELECT g, g % 5000, g % 11, repeat('r', 200) FROM generate_series(1, 30000) g;
SELECT incetl.set_table_options('rk', record_key => 'b', precombine => 'p');
CREATE TABLE rk_want AS
SELECT DISTINCT ON (b) a, b, p, pad
FROM (SELECT g AS a, g % 5000 AS b, g % 11 AS p, repeat('r', 200) AS pad
      FROM generate_series(1, 30000) g) s
ORDER BY b, p DESC, a DESC;
SELECT count(*) AS missing FROM (SELECT * FROM rk_want EXCEPT ALL SELECT * FROM rk) x;
SELECT count(*) AS extra FROM (SELECT * FROM rk EXCEPT ALL SELECT * FROM rk_want) x;
SELECT operation, rows_deleted FROM incetl.commits('rk') ORDER BY commit_id;
SELECT count(*) AS changed_after_the_load FROM incetl.changes(NULL::rk, 1);
SELECT * FROM incetl.verify('rk');

-- 9. A load in key order whose file groups are larger than the budget
-- (20000 rows of ~200 bytes against 1MB): its parts are forced by the
-- budget before a group's worth is buffered, and then write every row
-- (short groups the next part rewrites) rather than hand rows back
CREATE TABLE big (k int, p int, pad text) USING incetl_cow;
SELECT incetl.set_table_options('big', record_key => 'k', precombine => 'p',
                                file_group_rows => 20000);
INSERT INTO big SELECT g, 1, repeat('b', 200) FROM generate_series(1, 50000) g;
SELECT count(*), count(DISTINCT k), min(k), max(k) FROM big;
SELECT operation, rows_inserted, rows_updated, rows_deleted FROM incetl.commits('big');
SELECT max(row_count) <= 20000 AS bounded, sum(row_count) AS rows
FROM incetl.cow_file_group
WHERE storage_id = incetl.cow_storage_id('big') AND superseded_by IS NULL;
SELECT * FROM incetl.verify('big');

-- 10. A part with a file group's worth of rows hands back the new keys that
-- do not fill a whole group; when they belong to a last group that is not
-- rewritten, that group must not have lost a row meanwhile: here a delete
-- marker for 1100 in it, then new keys, all in key order (small rows, then
-- 15 kB ones: the budget forces a part once 1000 rows are buffered)
CREATE TABLE lg (k int, p int, d boolean, pad text) USING incetl_cow;
SELECT incetl.set_table_options('lg', record_key => 'k', precombine => 'p',
                                delete_marker => 'd', file_group_rows => 1000);
INSERT INTO lg SELECT g, 1, false, 'stored' FROM generate_series(1, 1300) g;
INSERT INTO lg
SELECT k, 5, k = 1100, repeat('q', CASE WHEN k >= 1400 THEN 15000 ELSE 10 END) FROM (
  SELECT g AS k FROM generate_series(1, 950) g
  UNION ALL SELECT 1100
  UNION ALL SELECT g FROM generate_series(1400, 1500) g) s
ORDER BY k;
SELECT count(*) AS rows, count(*) FILTER (WHERE k = 1100) AS deleted_key_left,
       count(*) FILTER (WHERE p = 5) AS new_versions FROM lg;
SELECT operation, rows_inserted, rows_updated, rows_deleted FROM incetl.commits('lg')
ORDER BY commit_id DESC LIMIT 1;
SELECT * FROM incetl.verify('lg');

-- 11. A load that is only nearly in key order (as a heap whose short rows
-- filled earlier pages scans): past the first break in the order, rows go
-- through a reordering heap, leave it in key order for parts merged a file
-- group's worth at a time, and only rows behind the last key merged or
-- buffered go to the sort.  The statement starts beyond the table's last
-- key (stored: -99..0).  In its stream of keys 1..6000 (p = 1): rows that
-- arrive early (every 97th key, 150 rows ahead) or a little late (every
-- 83rd, 40 rows), rows arriving far behind (every 89th key, 3000 rows
-- late), repeated keys within the heap (every 109th, right after) and
-- across the boundary (late rows that win: 101st, p = 2; lose: 103rd,
-- p = 0; tie and so win: 107th; NULL precombine: 139th), delete markers
-- late (113th, p = 3), early before an older row (127th, p = 5), in the
-- stream then outranked by a late older row (131st: the marker, p = 2,
-- must win) or a late newer row (137th, p = 9: the row wins), and late
-- rows for stored keys (-20..-1 newer, -30..-21 older, -40..-31 markers).
CREATE TABLE ro (k int, p int, d boolean, pad text) USING incetl_cow;
SELECT incetl.set_table_options('ro', record_key => 'k', precombine => 'p',
                                delete_marker => 'd', file_group_rows => 500);
INSERT INTO ro SELECT k, 1, false, 'stored' FROM generate_series(-99, 0) k;
CREATE TABLE ro_src AS
SELECT CASE WHEN k % 97 = 0 AND k > 200 THEN (k - 150) * 10 + 5
            WHEN k % 83 = 0 THEN (k + 40) * 10 + 5
            WHEN k % 89 = 0 THEN (k + 3000) * 10 + 5
            ELSE k * 10 END AS seq,
       k, 1 AS p, false AS d,
       'base ' || k || repeat('.', 40) AS pad
FROM generate_series(1, 6000) k
UNION ALL SELECT k * 10 + 1, k, 1, false, 'heap tie ' || k FROM generate_series(109, 6000, 109) k
UNION ALL SELECT (k + 2500) * 10 + 7, k, 2, false, 'late newer ' || k FROM generate_series(101, 6000, 101) k
UNION ALL SELECT (k + 2500) * 10 + 7, k, 0, false, 'late older ' || k FROM generate_series(103, 6000, 103) k
UNION ALL SELECT (k + 2500) * 10 + 7, k, 1, false, 'late tie ' || k FROM generate_series(107, 6000, 107) k
UNION ALL SELECT (k + 2500) * 10 + 7, k, NULL, false, 'late null ' || k FROM generate_series(139, 6000, 139) k
UNION ALL SELECT (k + 2500) * 10 + 8, k, 3, true, 'late marker ' || k FROM generate_series(113, 6000, 113) k
UNION ALL SELECT (k - 300) * 10 + 3, k, 5, true, 'early marker ' || k FROM generate_series(508, 6000, 127) k
UNION ALL SELECT k * 10 + 2, k, 2, true, 'marker ' || k FROM generate_series(131, 6000, 131) k
UNION ALL SELECT (k + 2500) * 10 + 9, k, 1, false, 'late older than marker ' || k FROM generate_series(131, 6000, 131) k
UNION ALL SELECT k * 10 + 2, k, 2, true, 'marker ' || k FROM generate_series(137, 6000, 137) k
UNION ALL SELECT (k + 2500) * 10 + 9, k, 9, false, 'late newer than marker ' || k FROM generate_series(137, 6000, 137) k
UNION ALL SELECT 70000 + k, k, 4, false, 'stored newer ' || k FROM generate_series(-20, -1) k
UNION ALL SELECT 70000 + k, k, 0, false, 'stored older ' || k FROM generate_series(-30, -21) k
UNION ALL SELECT 70000 + k, k, 5, true, 'stored marker ' || k FROM generate_series(-40, -31) k;
-- the rule on heap: the winner of each key (largest p, NULL lowest, tie:
-- later), then against the stored row (it loses to p >= its own)
CREATE TABLE ro_want AS
WITH w AS (
  SELECT DISTINCT ON (k) k, p, d, pad FROM ro_src ORDER BY k, p DESC NULLS LAST, seq DESC),
s AS (SELECT k, 1 AS p, 'stored' AS pad FROM generate_series(-99, 0) k),
m AS (
  SELECT coalesce(w.k, s.k) AS k, s.k IS NOT NULL AS stored,
         w.k IS NOT NULL AND (s.k IS NULL OR w.p >= s.p) AS new,
         w.p AS wp, w.d AS wd, w.pad AS wpad, s.p AS sp, s.pad AS spad
  FROM w FULL JOIN s USING (k))
SELECT k, CASE WHEN new THEN wp ELSE sp END AS p, new AND wd AS d,
       CASE WHEN new THEN wpad ELSE spad END AS pad, stored, new
FROM m;
SELECT count(*) FILTER (WHERE new AND NOT stored AND NOT d) AS will_insert,
       count(*) FILTER (WHERE new AND stored AND NOT d) AS will_update,
       count(*) FILTER (WHERE new AND stored AND d) AS will_delete
FROM ro_want;
DELETE FROM ro_want WHERE d;
ALTER TABLE ro_want DROP COLUMN stored, DROP COLUMN new;
CREATE TABLE ro2 (LIKE ro) USING incetl_cow;
SELECT incetl.set_table_options('ro2', record_key => 'k', precombine => 'p',
                                delete_marker => 'd', file_group_rows => 500);
INSERT INTO ro2 SELECT * FROM ro;
INSERT INTO ro SELECT k, p, d, pad FROM ro_src ORDER BY seq;
SELECT operation, rows_inserted, rows_updated, rows_deleted
FROM incetl.commits('ro') ORDER BY commit_id DESC LIMIT 1;
SELECT count(*) AS missing FROM (SELECT * FROM ro_want EXCEPT ALL SELECT * FROM ro) x;
SELECT count(*) AS extra FROM (SELECT * FROM ro EXCEPT ALL SELECT * FROM ro_want) x;
SELECT max(row_count) <= 500 AS bounded
FROM incetl.cow_file_group
WHERE storage_id = incetl.cow_storage_id('ro') AND superseded_by IS NULL;
SELECT * FROM incetl.verify('ro');
-- the same under a budget that holds the whole statement, and rolled back
-- to a savepoint once first
SET maintenance_work_mem = '64MB';
BEGIN;
SAVEPOINT s;
INSERT INTO ro2 SELECT k, p, d, pad FROM ro_src ORDER BY seq;
ROLLBACK TO SAVEPOINT s;
SELECT count(*) AS rolled_back FROM ro2;
INSERT INTO ro2 SELECT k, p, d, pad FROM ro_src ORDER BY seq;
COMMIT;
SET maintenance_work_mem = '1MB';
SELECT operation, rows_inserted, rows_updated, rows_deleted
FROM incetl.commits('ro2') ORDER BY commit_id DESC LIMIT 1;
SELECT count(*) AS missing FROM (SELECT * FROM ro_want EXCEPT ALL SELECT * FROM ro2) x;
SELECT count(*) AS extra FROM (SELECT * FROM ro2 EXCEPT ALL SELECT * FROM ro_want) x;
SELECT * FROM incetl.verify('ro2');

-- 12. A part of a file group's worth whose last row is a delete marker:
-- the new keys below it go back to the buffer, the marker is merged (a
-- tombstone), and a later, older row of its key must still lose to it --
-- through the reordering heap, and through the buffer when AFTER ROW
-- triggers rule the heap out.  (The later row once saw only the rows
-- handed back, counted its key as still ascending and was stored.)
CREATE TABLE tm (k int, p int, d boolean, v text) USING incetl_cow;
SELECT incetl.set_table_options('tm', record_key => 'k', precombine => 'p',
                                delete_marker => 'd', file_group_rows => 5);
INSERT INTO tm VALUES (14, 9, false, 'a'), (18, 9, NULL, 'b'), (28, 6, false, 'c'),
                      (36, 7, false, 'd'), (42, 9, true, 'marker'), (42, 0, false, 'older');
SELECT k, p, d, v FROM tm ORDER BY k;
-- a newer row of the key is stored
INSERT INTO tm VALUES (50, 1, false, 'e'), (51, 1, false, 'f'), (52, 1, false, 'g'),
                      (53, 1, false, 'h'), (60, 5, true, 'marker'), (60, 6, false, 'newer');
SELECT k, p, d, v FROM tm WHERE k >= 50 ORDER BY k;
CREATE TABLE tm_log (k int);
CREATE FUNCTION tm_note() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN INSERT INTO tm_log VALUES (NEW.k); RETURN NULL; END $$;
CREATE TRIGGER tm_note AFTER INSERT ON tm FOR EACH ROW EXECUTE FUNCTION tm_note();
INSERT INTO tm VALUES (70, 1, false, 'i'), (71, 1, false, 'j'), (72, 1, false, 'k'),
                      (73, 1, false, 'l'), (80, 9, true, 'marker'), (80, 0, false, 'older');
SELECT k, p, d, v FROM tm WHERE k >= 70 ORDER BY k;
SELECT count(*) AS fired FROM tm_log;
SELECT * FROM incetl.verify('tm');
DROP TABLE tm, tm_log;
DROP FUNCTION tm_note();

RESET maintenance_work_mem;
DROP TABLE sp, ap, src, expect, want, rk, rk_want, big, lg, ro, ro2, ro_src, ro_want;
DROP FUNCTION side_insert(int), side_delete(int);
