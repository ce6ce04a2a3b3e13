--
-- Pending row numbers (the TIDs of a statement's buffered rows, which the
-- executor indexes) are distinct across backends: an index entry another
-- backend left at a pending TID never resolves to a row this backend's
-- INSERT ... ON CONFLICT statement buffered.
--
CREATE TABLE pn (k int, v text) USING incetl_cow;
CREATE UNIQUE INDEX pn_k ON pn (k);
-- this backend's first rows: their pending entries stay in pn_k
INSERT INTO pn VALUES (1, 'a'), (2, 'b');
DELETE FROM pn WHERE k = 1;
SELECT * FROM pn ORDER BY k;
-- a fresh backend: key 1 is free again; row 5 is buffered first
\c
INSERT INTO pn VALUES (5, 'e'), (1, 'again') ON CONFLICT DO NOTHING;
SELECT * FROM pn ORDER BY k;
INSERT INTO pn VALUES (6, 'f'), (1, 'dup'), (2, 'dup') ON CONFLICT DO NOTHING;
INSERT INTO pn VALUES (7, 'g'), (1, 'upd') ON CONFLICT (k) DO UPDATE SET v = excluded.v;
SELECT * FROM pn ORDER BY k;
DELETE FROM pn WHERE k = 5;
-- another fresh backend: row 8 is buffered first, key 5 is free
\c
INSERT INTO pn VALUES (8, 'h'), (5, 'new') ON CONFLICT (k) DO UPDATE SET v = 'updated';
SELECT * FROM pn ORDER BY k;
DROP TABLE pn;
