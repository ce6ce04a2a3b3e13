-- incetl_cow: the counts an UPDATE records in the timeline.  An UPDATE
-- deletes its rows by row number and inserts their new versions; each new
-- version is counted as updated against the row it came from.  When the
-- new key is that of another stored row, the upsert replaces that row, and
-- it is counted as deleted: rows_inserted - rows_deleted is always the
-- change in the number of rows.
CREATE SCHEMA cow_upd_counts;
SET search_path = cow_upd_counts, public;

CREATE TABLE uc (id int, v text, u int) USING incetl_cow;
SELECT incetl.set_table_options('uc', record_key => 'id', precombine => 'u',
                                file_group_rows => 3);
INSERT INTO uc SELECT g, 'v' || g, 5 FROM generate_series(1, 8) g;      -- 1

CREATE FUNCTION uc_step(sql text,
                        OUT rows_before bigint, OUT rows_after bigint,
                        OUT rows_inserted bigint, OUT rows_updated bigint,
                        OUT rows_deleted bigint, OUT net_matches boolean)
LANGUAGE plpgsql AS $$
BEGIN
    SELECT count(*) INTO rows_before FROM uc;
    EXECUTE sql;
    SELECT count(*) INTO rows_after FROM uc;
    SELECT c.rows_inserted, c.rows_updated, c.rows_deleted
      INTO rows_inserted, rows_updated, rows_deleted
      FROM incetl.commits('uc') c ORDER BY commit_id DESC LIMIT 1;
    net_matches := (rows_after - rows_before = rows_inserted - rows_deleted);
END $$;

-- the key stays: one row updated
SELECT * FROM uc_step($$UPDATE uc SET v = 'same key' WHERE id = 1$$);
-- a new key: the row moves (updated), nothing else changes
SELECT * FROM uc_step($$UPDATE uc SET id = 100 WHERE id = 2$$);
-- onto a stored key (tie on u: the later row, the update, wins): key 4's
-- row is replaced, so one row fewer
SELECT * FROM uc_step($$UPDATE uc SET id = 4 WHERE id = 3$$);
-- two rows onto one stored key: two rows fewer
SELECT * FROM uc_step($$UPDATE uc SET id = 7, u = u + id WHERE id IN (5, 6)$$);
-- onto a stored key with an older precombine value: the update loses, its
-- source row is still gone
SELECT * FROM uc_step($$UPDATE uc SET id = 8, u = 0 WHERE id = 1$$);
SELECT * FROM uc ORDER BY id;

-- the shapes in one statement: a key that stays (4), a row onto a stored
-- key (7 onto 8) and one onto a new key (100 to 101)
SELECT * FROM uc_step($$UPDATE uc SET id = CASE id WHEN 7 THEN 8 WHEN 100 THEN 101 ELSE id END,
                                      u = 50 WHERE id <> 8$$);
SELECT * FROM uc ORDER BY id;
-- the timeline agrees with the table: every commit's net change summed
SELECT sum(rows_inserted - rows_deleted) = (SELECT count(*) FROM uc) AS timeline_adds_up
FROM incetl.commits('uc');

RESET search_path;
DROP SCHEMA cow_upd_counts CASCADE;
