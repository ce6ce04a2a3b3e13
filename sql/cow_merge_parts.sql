--
-- cow_merge_parts: statements in key order merged in parts (past
-- maintenance_work_mem, or a file group's worth at a time) into a table
-- that already holds rows, in particular keys above the incoming range.
--
-- A part's last file group may mix stored rows with incoming ones in key
-- order; the rows it hands back to the next part (CowOutCarry) must be
-- incoming new keys only.  Each case is checked against the same statement
-- on heap (the upsert rule computed with DISTINCT ON), with verify().
--
SET maintenance_work_mem = '1MB';

-- 1. int key: one stored key above the whole incoming range (the backend
-- used to crash with SIGSEGV here)
CREATE TABLE mp_int (id int, v text) USING incetl_cow;
SELECT incetl.set_table_options('mp_int', record_key => 'id', file_group_rows => 250);
INSERT INTO mp_int VALUES (1000000, 'last');
INSERT INTO mp_int SELECT g, 'v' || g FROM generate_series(1, 15000) g;
SELECT count(*), min(id), max(id), count(*) FILTER (WHERE v = 'v' || id) AS new_rows
FROM mp_int;
SELECT operation, rows_inserted, rows_updated, rows_deleted
FROM incetl.commits('mp_int') ORDER BY commit_id;
SELECT * FROM incetl.verify('mp_int');

-- 2. the same with larger file groups: the stored row used to be dropped
-- silently (the part wrote its incoming rows over the version and left the
-- stored one "in" the version it had just superseded)
CREATE TABLE mp_big (id int, v text) USING incetl_cow;
SELECT incetl.set_table_options('mp_big', record_key => 'id', file_group_rows => 5000);
INSERT INTO mp_big VALUES (1000000, 'last');
INSERT INTO mp_big SELECT g, 'v' || g FROM generate_series(1, 15000) g;
SELECT count(*), min(id), max(id), count(*) FILTER (WHERE id = 1000000 AND v = 'last') AS kept
FROM mp_big;
SELECT operation, rows_inserted, rows_updated, rows_deleted
FROM incetl.commits('mp_big') ORDER BY commit_id;
SELECT * FROM incetl.verify('mp_big');

-- 3. composite (int, text) key and text key, stored keys above and among
-- the incoming ones, some replaced
CREATE TABLE mp_comp (a int, b text, v text) USING incetl_cow;
SELECT incetl.set_table_options('mp_comp', record_key => 'a,b', file_group_rows => 250);
INSERT INTO mp_comp VALUES (1000000, 'z', 'last'), (500, 'k', 'old'), (700, 'k', 'old');
INSERT INTO mp_comp SELECT g, 'k', 'v' || g FROM generate_series(1, 15000) g;
SELECT count(*), count(*) FILTER (WHERE v = 'old') AS old_left,
       count(*) FILTER (WHERE v = 'last') AS last_kept FROM mp_comp;
SELECT operation, rows_inserted, rows_updated, rows_deleted
FROM incetl.commits('mp_comp') ORDER BY commit_id;
SELECT * FROM incetl.verify('mp_comp');

CREATE TABLE mp_text (k text, v text) USING incetl_cow;
SELECT incetl.set_table_options('mp_text', record_key => 'k', file_group_rows => 250);
INSERT INTO mp_text VALUES ('zzzz', 'last'), ('k' || lpad('42', 6, '0'), 'old');
INSERT INTO mp_text SELECT 'k' || lpad(g::text, 6, '0'), 'v' || g FROM generate_series(1, 15000) g;
SELECT count(*), count(*) FILTER (WHERE v = 'old') AS old_left,
       count(*) FILTER (WHERE v = 'last') AS last_kept FROM mp_text;
SELECT operation, rows_inserted, rows_updated, rows_deleted
FROM incetl.commits('mp_text') ORDER BY commit_id;
SELECT * FROM incetl.verify('mp_text');

-- 4. against heap: several stored keys spread over and above the range,
-- delete markers among the incoming rows, various group sizes
CREATE TABLE mp_src (id int, p int, d boolean, v text);
INSERT INTO mp_src SELECT g, 1, false, 'stored' FROM generate_series(0, 40000, 997) g;
INSERT INTO mp_src VALUES (1000000, 1, false, 'stored');
CREATE TABLE mp_in (id int, p int, d boolean, v text);
INSERT INTO mp_in SELECT g, 2, g % 1994 = 0, 'new' FROM generate_series(1, 20000) g;
CREATE FUNCTION mp_check(fgr int) RETURNS TABLE (group_rows int, cow bigint, heap bigint, diff bigint)
LANGUAGE plpgsql AS $$
BEGIN
  DROP TABLE IF EXISTS mp_t;
  CREATE TABLE mp_t (id int, p int, d boolean, v text) USING incetl_cow;
  PERFORM incetl.set_table_options('mp_t', record_key => 'id', precombine => 'p',
                                   delete_marker => 'd', file_group_rows => fgr);
  INSERT INTO mp_t SELECT * FROM mp_src;
  INSERT INTO mp_t SELECT * FROM mp_in ORDER BY id;
  RETURN QUERY
  WITH expect AS (
    SELECT * FROM (SELECT DISTINCT ON (id) * FROM (
        SELECT *, 0 AS o FROM mp_src UNION ALL SELECT *, 1 FROM mp_in) u
      ORDER BY id, p DESC, o DESC) w
    WHERE NOT d)
  SELECT fgr, (SELECT count(*) FROM mp_t), (SELECT count(*) FROM expect),
    (SELECT count(*) FROM ((SELECT id, p, d, v FROM mp_t EXCEPT SELECT id, p, d, v FROM expect)
                           UNION ALL
                           (SELECT id, p, d, v FROM expect EXCEPT SELECT id, p, d, v FROM mp_t)) x);
END $$;
SELECT c.* FROM unnest(ARRAY[100, 250, 1000, 3000, 5000, 8000, 30000]) f,
     LATERAL mp_check(f) c;
SELECT count(*) AS problems FROM incetl.verify('mp_t');

-- 5. the counts of a statement merged in parts compare with the table
-- before the statement, also where the key order breaks after some parts
-- were merged and later rows change keys an earlier part wrote or deleted.
-- Into an empty table, a file group's worth at a time: a key inserted by a
-- part and removed by a later delete marker was neither inserted nor
-- deleted (this used to count 25 inserted, 1 deleted).
CREATE TABLE mp_c (id int, pc int, del boolean) USING incetl_cow;
SELECT incetl.set_table_options('mp_c', record_key => 'id', precombine => 'pc',
                                delete_marker => 'del', file_group_rows => 20);
INSERT INTO mp_c SELECT g, 1, false FROM generate_series(1, 25) g
UNION ALL SELECT 3, 2, true;
SELECT count(*), count(*) FILTER (WHERE id = 3) AS key3 FROM mp_c;
SELECT operation, rows_inserted, rows_updated, rows_deleted FROM incetl.commits('mp_c');

-- Past the memory budget, against the rule computed on heap: stored keys
-- 1, 4, 7, ...; a statement in key order with delete markers, merged in
-- parts, then out of order: markers for keys an earlier part wrote, rows
-- bringing back keys an earlier part deleted, older rows that lose
CREATE TABLE mp_before (id int, pc int, del boolean, pad text);
INSERT INTO mp_before SELECT g, 1, false, 'stored' FROM generate_series(1, 30000, 3) g;
CREATE TABLE mp_stmt (id int, pc int, del boolean, pad text, o int);
INSERT INTO mp_stmt SELECT g, 2, g % 7 = 0, repeat('a', 200), g FROM generate_series(1, 40000) g;
INSERT INTO mp_stmt SELECT g, 3, g % 5 = 0, repeat('b', 20), 100000 + g
FROM generate_series(30000, 1, -1) g WHERE g % 5 = 0 OR g % 14 = 0;
INSERT INTO mp_stmt SELECT g, 0, false, 'old', 200000 + g FROM generate_series(1, 30000, 11) g;
CREATE TABLE mp_t2 (id int, pc int, del boolean, pad text) USING incetl_cow;
SELECT incetl.set_table_options('mp_t2', record_key => 'id', precombine => 'pc',
                                delete_marker => 'del', file_group_rows => 3000);
INSERT INTO mp_t2 SELECT id, pc, del, pad FROM mp_before;
INSERT INTO mp_t2 SELECT id, pc, del, pad FROM mp_stmt ORDER BY o;
WITH w AS (SELECT DISTINCT ON (id) * FROM mp_stmt ORDER BY id, pc DESC, o DESC),
     j AS (SELECT w.*, b.pc AS bpc, b.id IS NOT NULL AS existed
           FROM w LEFT JOIN mp_before b USING (id))
SELECT (SELECT operation FROM incetl.commits('mp_t2') ORDER BY commit_id DESC LIMIT 1),
       (SELECT rows_inserted FROM incetl.commits('mp_t2') ORDER BY commit_id DESC LIMIT 1)
         = count(*) FILTER (WHERE NOT existed AND NOT del) AS inserted_ok,
       (SELECT rows_updated FROM incetl.commits('mp_t2') ORDER BY commit_id DESC LIMIT 1)
         = count(*) FILTER (WHERE existed AND pc >= bpc AND NOT del) AS updated_ok,
       (SELECT rows_deleted FROM incetl.commits('mp_t2') ORDER BY commit_id DESC LIMIT 1)
         = count(*) FILTER (WHERE existed AND pc >= bpc AND del) AS deleted_ok,
       count(*) FILTER (WHERE NOT existed AND NOT del) AS inserted,
       count(*) FILTER (WHERE existed AND pc >= bpc AND NOT del) AS updated,
       count(*) FILTER (WHERE existed AND pc >= bpc AND del) AS deleted
FROM j;
SELECT (SELECT count(*) FROM mp_t2) AS cow_rows,
       (SELECT count(*) FROM (SELECT id, pc, del, pad FROM mp_t2
                              EXCEPT
                              SELECT id, pc, del, pad FROM (
                                SELECT DISTINCT ON (id) id, pc, del, pad FROM (
                                  SELECT id, pc, del, pad, 0 AS o FROM mp_before
                                  UNION ALL SELECT id, pc, del, pad, o + 1 FROM mp_stmt) u
                                ORDER BY id, pc DESC, o DESC) x WHERE NOT del) e) AS unexpected;
SELECT count(*) AS problems FROM incetl.verify('mp_t2');
DROP TABLE mp_c, mp_before, mp_stmt, mp_t2;

DROP FUNCTION mp_check(int);
DROP TABLE mp_int, mp_big, mp_comp, mp_text, mp_src, mp_in, mp_t;
