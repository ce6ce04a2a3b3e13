--
-- Row images for AFTER ROW triggers (cow_write_state.c, CowKeepsRowImages):
-- a table with a user AFTER ROW INSERT trigger keeps each buffered row's
-- image for the transaction; a table whose only such triggers are the
-- unique_key_recheck triggers of a deferrable constraint keeps none (the
-- merge queues those events at real TIDs), and its constraint still holds.
--
CREATE TABLE ri_def (id int, v text,
	CONSTRAINT ri_def_pk PRIMARY KEY (id) DEFERRABLE INITIALLY DEFERRED) USING incetl_cow;
CREATE TABLE ri_trg (id int, v text, PRIMARY KEY (id)) USING incetl_cow;
CREATE TABLE ri_fired (n bigint);
INSERT INTO ri_fired VALUES (0);
CREATE FUNCTION ri_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	UPDATE ri_fired SET n = n + 1;
	RETURN NULL;
END $$;
CREATE TRIGGER ri_trg_after AFTER INSERT ON ri_trg
	FOR EACH ROW EXECUTE FUNCTION ri_count();
-- the images' context (and its hash table's), and the transaction's own
CREATE VIEW ri_images AS
	SELECT count(*) AS contexts, coalesce(sum(total_bytes), 0) > 1000000 AS over_1mb
	FROM pg_backend_memory_contexts
	WHERE 'incetl cow row images' IN (name, ident);
CREATE VIEW ri_top AS
	SELECT total_bytes < 1000000 AS under_1mb
	FROM pg_backend_memory_contexts WHERE name = 'TopTransactionContext';
BEGIN;
INSERT INTO ri_def SELECT g, repeat('x', 50) FROM generate_series(1, 20000) g;
SELECT * FROM ri_images;
SELECT * FROM ri_top;
COMMIT;
BEGIN;
INSERT INTO ri_trg SELECT g, repeat('x', 50) FROM generate_series(1, 20000) g;
SELECT * FROM ri_images;
COMMIT;
SELECT n FROM ri_fired;
SELECT count(*) FROM ri_def;
-- the deferred constraint is still checked, at commit
BEGIN;
INSERT INTO ri_def VALUES (7, 'dup');
SELECT * FROM ri_images;
COMMIT;
BEGIN;
INSERT INTO ri_def VALUES (20001, 'new');
UPDATE ri_def SET id = 20002 WHERE id = 20001;
COMMIT;
SELECT * FROM ri_def WHERE id > 20000;
DROP TABLE ri_def, ri_trg, ri_fired CASCADE;
DROP FUNCTION ri_count();
