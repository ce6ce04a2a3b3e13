-- SPEC section 6, incetl_cow: code of a table's owner that incetl runs on
-- someone's behalf (index expressions during a rewrite or a clean) runs
-- as that owner in a security-restricted operation; an upsert needs the
-- privileges and passes the row-level security policies that INSERT ...
-- ON CONFLICT DO UPDATE and DELETE need on heap.
\set SHOW_CONTEXT never
CREATE ROLE regress_cow_mal;
CREATE ROLE regress_cow_ins;
CREATE ROLE regress_cow_t1;
CREATE ROLE regress_cow_t2;
CREATE SCHEMA cow_mal AUTHORIZATION regress_cow_mal;

-- ---------------------------------------------------------------------
-- 1. A rewrite run by a superuser runs the owner's index expressions as
--    the owner (CVE-2022-1552's class).  The planted function tries to
--    make its author superuser, records who ran it, and changes
--    search_path for the rest of the session.
-- ---------------------------------------------------------------------
SET ROLE regress_cow_mal;
CREATE TABLE cow_mal.ran_as (who name);
CREATE TABLE cow_mal.escape (try boolean);
-- the classic trick: an IMMUTABLE wrapper around a VOLATILE function
CREATE FUNCTION cow_mal.evil(i int) RETURNS int LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    INSERT INTO cow_mal.ran_as VALUES (current_user);
    IF (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
        EXECUTE 'ALTER ROLE regress_cow_mal SUPERUSER';
    END IF;
    IF EXISTS (SELECT FROM cow_mal.escape WHERE try) THEN
        CREATE TEMP TABLE escape_hatch (a int);
    END IF;
    PERFORM set_config('search_path', 'cow_mal, pg_catalog, public', false);
    PERFORM set_config('work_mem', '1234kB', false);
    RETURN i;
END $$;
CREATE FUNCTION cow_mal.idx(i int) RETURNS int LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    RETURN cow_mal.evil(i);
END $$;
CREATE TABLE cow_mal.ct (id int, v text) USING incetl_cow;
INSERT INTO cow_mal.ct VALUES (1, 'a'), (2, 'b'), (2, 'b2');
CREATE INDEX ct_idx ON cow_mal.ct (cow_mal.idx(id));
SELECT count(*) > 0 AS index_function_ran FROM cow_mal.ran_as;
TRUNCATE cow_mal.ran_as;
RESET ROLE;
RESET search_path;
RESET work_mem;
GRANT ALL ON cow_mal.ran_as, cow_mal.escape TO PUBLIC;

-- the superuser gives the table a record key: a rewrite, which inserts
-- every row's index entry again
SELECT incetl.set_table_options('cow_mal.ct', record_key => 'id');
SELECT rolsuper FROM pg_roles WHERE rolname = 'regress_cow_mal';
SELECT who, count(*) FROM cow_mal.ran_as GROUP BY who;
SHOW search_path;
SHOW work_mem;
SELECT id, v FROM cow_mal.ct ORDER BY id;
-- the index was maintained by the rewrite (asked as its owner)
SET ROLE regress_cow_mal;
SET enable_seqscan = off;
SELECT id, v FROM cow_mal.ct WHERE cow_mal.idx(id) = 2;
RESET enable_seqscan;
RESET ROLE;
RESET search_path;
RESET work_mem;

-- the rewrite a restored options row triggers (pg_restore writes
-- incetl.cow_options as the superuser) runs as the owner too
TRUNCATE cow_mal.ran_as;
UPDATE incetl.cow_options SET record_key = '{v}' WHERE tbl = 'cow_mal.ct'::regclass;
SELECT rolsuper FROM pg_roles WHERE rolname = 'regress_cow_mal';
SELECT who, count(*) FROM cow_mal.ran_as GROUP BY who;
SHOW search_path;

-- cleaning runs as the owner too (as VACUUM does), and leaves the
-- caller's settings alone
SELECT incetl.clean('cow_mal.ct') >= 0 AS cleaned;
SHOW search_path;
SELECT rolsuper FROM pg_roles WHERE rolname = 'regress_cow_mal';

-- restore runs as the owner too: the index entries of the versions it
-- brings back are made by the owner's index expressions, restricted
SELECT incetl.savepoint('cow_mal.ct') AS sp \gset
SET ROLE regress_cow_mal;
INSERT INTO cow_mal.ct VALUES (3, 'c'), (4, 'a');
RESET ROLE;
RESET search_path;
RESET work_mem;
TRUNCATE cow_mal.ran_as;
SELECT incetl.restore('cow_mal.ct', :sp) > :sp AS restored;
SELECT rolsuper FROM pg_roles WHERE rolname = 'regress_cow_mal';
SELECT who, count(*) FROM cow_mal.ran_as GROUP BY who;
SHOW search_path;
SHOW work_mem;
SELECT id, v FROM cow_mal.ct ORDER BY id;
SELECT incetl.remove_savepoint('cow_mal.ct', :sp);

-- inside the rewrite, the owner's code cannot leave the restricted
-- operation (no temporary objects that would outlive it)
INSERT INTO cow_mal.escape VALUES (true);
SELECT incetl.set_table_options('cow_mal.ct', record_key => 'id');
\echo :LAST_ERROR_SQLSTATE
SELECT record_key FROM incetl.table_options('cow_mal.ct');
TRUNCATE cow_mal.escape;

-- ---------------------------------------------------------------------
-- 2. An upsert that replaces a stored row needs UPDATE on the columns it
--    changes; a delete marker needs DELETE.  INSERT alone adds new keys.
-- ---------------------------------------------------------------------
CREATE TABLE cow_up (id int, v text, n int, del boolean) USING incetl_cow;
SELECT incetl.set_table_options('cow_up', record_key => 'id', delete_marker => 'del');
INSERT INTO cow_up VALUES (1, 'orig', 1, false), (2, 'orig', 2, false);
GRANT SELECT, INSERT ON cow_up TO regress_cow_ins;

SET ROLE regress_cow_ins;
-- replacing key 1: refused, nothing written
INSERT INTO cow_up VALUES (1, 'evil', 1, false);
\echo :LAST_ERROR_SQLSTATE
-- a batch with a new key and a replacement writes neither
INSERT INTO cow_up VALUES (3, 'new', 3, false), (1, 'evil', 1, false);
\echo :LAST_ERROR_SQLSTATE
-- deleting key 2 with a marker: refused
INSERT INTO cow_up VALUES (2, NULL, NULL, true);
\echo :LAST_ERROR_SQLSTATE
-- COPY is an INSERT too
COPY cow_up FROM stdin;
1	copy-evil	1	f
\.
\echo :LAST_ERROR_SQLSTATE
-- new keys are fine, and so is a row that loses to the stored one
INSERT INTO cow_up VALUES (4, 'new', 4, false);
-- a marker for a key that is not stored deletes nothing
INSERT INTO cow_up VALUES (5, NULL, NULL, true);
RESET ROLE;
SELECT * FROM cow_up ORDER BY id;
SELECT operation, rows_inserted, rows_updated, rows_deleted
FROM incetl.commits('cow_up') ORDER BY commit_id;

-- UPDATE on column v only: a row changing only v replaces; one changing n
-- as well does not
GRANT UPDATE (v) ON cow_up TO regress_cow_ins;
SET ROLE regress_cow_ins;
INSERT INTO cow_up VALUES (1, 'v changed', 1, false);
INSERT INTO cow_up VALUES (1, 'v and n changed', 100, false);
\echo :LAST_ERROR_SQLSTATE
-- the same row again changes nothing: UPDATE on any column suffices
INSERT INTO cow_up VALUES (1, 'v changed', 1, false);
RESET ROLE;
SELECT * FROM cow_up ORDER BY id;

-- UPDATE on no column at all: an identical row is still an update
REVOKE UPDATE (v) ON cow_up FROM regress_cow_ins;
SET ROLE regress_cow_ins;
INSERT INTO cow_up VALUES (1, 'v changed', 1, false);
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;

-- with UPDATE and DELETE the same statements go through
GRANT UPDATE, DELETE ON cow_up TO regress_cow_ins;
SET ROLE regress_cow_ins;
INSERT INTO cow_up VALUES (1, 'replaced', 10, false), (2, NULL, NULL, true);
RESET ROLE;
SELECT * FROM cow_up ORDER BY id;

-- the owner who revoked their own UPDATE is refused as on heap
REVOKE UPDATE ON cow_up FROM CURRENT_USER;
CREATE ROLE regress_cow_owner;
ALTER TABLE cow_up OWNER TO regress_cow_owner;
REVOKE UPDATE ON cow_up FROM regress_cow_owner;
SET ROLE regress_cow_owner;
INSERT INTO cow_up VALUES (1, 'owner without update', 10, false);
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;

-- a SECURITY DEFINER function writes with its owner's rights
CREATE FUNCTION cow_up_definer(k int, val text) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp
AS $$ INSERT INTO cow_up VALUES (k, val, k, false) $$;
REVOKE ALL ON FUNCTION cow_up_definer(int, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION cow_up_definer(int, text) TO regress_cow_ins;
REVOKE UPDATE ON cow_up FROM regress_cow_ins;
SET ROLE regress_cow_ins;
SELECT cow_up_definer(1, 'through the definer');
RESET ROLE;
SELECT id, v FROM cow_up WHERE id = 1;

-- ---------------------------------------------------------------------
-- 3. Row-level security: a tenant cannot overwrite or delete a row of
--    another tenant it cannot see, nor move its own row to another tenant.
-- ---------------------------------------------------------------------
CREATE TABLE cow_ten (id int, tenant name, v text, del boolean DEFAULT false)
    USING incetl_cow;
SELECT incetl.set_table_options('cow_ten', record_key => 'id', delete_marker => 'del');
INSERT INTO cow_ten VALUES (1, 'regress_cow_t1', 't1 row'),
                           (2, 'regress_cow_t2', 't2 row');
ALTER TABLE cow_ten ENABLE ROW LEVEL SECURITY;
CREATE POLICY sel ON cow_ten FOR SELECT USING (tenant = current_user);
CREATE POLICY ins ON cow_ten FOR INSERT WITH CHECK (true);
CREATE POLICY upd ON cow_ten FOR UPDATE USING (tenant = current_user)
    WITH CHECK (tenant = current_user);
CREATE POLICY dlt ON cow_ten FOR DELETE USING (tenant = current_user);
GRANT SELECT, INSERT, UPDATE, DELETE ON cow_ten TO regress_cow_t1, regress_cow_t2;

SET ROLE regress_cow_t1;
SELECT id, tenant, v FROM cow_ten;
-- overwrite t2's hidden row
INSERT INTO cow_ten VALUES (2, 'regress_cow_t1', 'stolen');
\echo :LAST_ERROR_SQLSTATE
-- delete t2's hidden row with a marker
INSERT INTO cow_ten VALUES (2, 'regress_cow_t1', NULL, true);
\echo :LAST_ERROR_SQLSTATE
-- hand its own row to t2 (the UPDATE WITH CHECK)
INSERT INTO cow_ten VALUES (1, 'regress_cow_t2', 'given away');
\echo :LAST_ERROR_SQLSTATE
-- its own row: updated, then deleted
INSERT INTO cow_ten VALUES (1, 'regress_cow_t1', 't1 updated');
SELECT id, tenant, v FROM cow_ten;
INSERT INTO cow_ten VALUES (1, 'regress_cow_t1', NULL, true);
SELECT count(*) FROM cow_ten;
RESET ROLE;
SELECT id, tenant, v FROM cow_ten ORDER BY id;

-- a policy with a subquery is checked the same way
CREATE TABLE cow_tenant_map (role name, tenant name);
INSERT INTO cow_tenant_map VALUES ('regress_cow_t1', 'regress_cow_t1'),
                                  ('regress_cow_t2', 'regress_cow_t2');
GRANT SELECT ON cow_tenant_map TO PUBLIC;
DROP POLICY upd ON cow_ten;
CREATE POLICY upd ON cow_ten FOR UPDATE
    USING (tenant = (SELECT m.tenant FROM cow_tenant_map AS m WHERE m.role = current_user))
    WITH CHECK (tenant IN (SELECT m.tenant FROM cow_tenant_map AS m WHERE m.role = current_user));
INSERT INTO cow_ten VALUES (3, 'regress_cow_t1', 't1 again');
SET ROLE regress_cow_t1;
INSERT INTO cow_ten VALUES (2, 'regress_cow_t1', 'stolen via subquery policy');
\echo :LAST_ERROR_SQLSTATE
INSERT INTO cow_ten VALUES (3, 'regress_cow_t2', 'given away');
\echo :LAST_ERROR_SQLSTATE
INSERT INTO cow_ten VALUES (3, 'regress_cow_t1', 't1 updated under subquery policy');
RESET ROLE;
SELECT id, tenant, v FROM cow_ten ORDER BY id;

-- a policy subquery the writer may not read is refused as on heap
REVOKE SELECT ON cow_tenant_map FROM PUBLIC;
SET ROLE regress_cow_t1;
INSERT INTO cow_ten VALUES (3, 'regress_cow_t1', 'no access to the map');
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;

-- a restrictive policy names itself in the error, as on heap
GRANT SELECT ON cow_tenant_map TO PUBLIC;
CREATE POLICY no_frozen ON cow_ten AS RESTRICTIVE FOR UPDATE
    USING (v NOT LIKE 'frozen%');
INSERT INTO cow_ten VALUES (4, 'regress_cow_t1', 'frozen forever');
SET ROLE regress_cow_t1;
INSERT INTO cow_ten VALUES (4, 'regress_cow_t1', 'thawed');
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;

-- the table owner and BYPASSRLS roles are not subject to the policies
INSERT INTO cow_ten VALUES (2, 'regress_cow_t2', 't2 row, by the owner');
SELECT id, tenant, v FROM cow_ten ORDER BY id;

-- default deny: no UPDATE policy at all means no row can be replaced
DROP POLICY upd ON cow_ten;
DROP POLICY no_frozen ON cow_ten;
SET ROLE regress_cow_t1;
INSERT INTO cow_ten VALUES (3, 'regress_cow_t1', 'no update policy');
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
SELECT id, tenant, v FROM cow_ten ORDER BY id;

-- ---------------------------------------------------------------------
-- 4. incetl's table functions check the caller's privileges on the table
-- ---------------------------------------------------------------------
CREATE TABLE cow_secret (id int, v text) USING incetl_cow;
SELECT incetl.set_table_options('cow_secret', record_key => 'id');
INSERT INTO cow_secret VALUES (1, 'secret');
SET ROLE regress_cow_ins;
SELECT * FROM incetl.commits('cow_secret');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM incetl.changes(NULL::cow_secret, 0);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM incetl.as_of(NULL::cow_secret, 1);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM incetl.table_stats('cow_secret');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM incetl.column_stats('cow_secret');
\echo :LAST_ERROR_SQLSTATE
SELECT incetl.latest_commit('cow_secret');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM incetl.verify('cow_secret');
\echo :LAST_ERROR_SQLSTATE
SELECT incetl.cow_storage_id('cow_secret');
\echo :LAST_ERROR_SQLSTATE
SELECT incetl.clean('cow_secret');
\echo :LAST_ERROR_SQLSTATE
SELECT incetl.set_table_options('cow_secret', record_key => '');
\echo :LAST_ERROR_SQLSTATE
-- nor write incetl_cow's catalogs directly
UPDATE incetl.cow_options SET record_key = NULL WHERE tbl = 'cow_secret'::regclass;
\echo :LAST_ERROR_SQLSTATE
DELETE FROM incetl.cow_commit;
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
SELECT record_key FROM incetl.table_options('cow_secret');
SELECT count(*) FROM incetl.commits('cow_secret');
DROP TABLE cow_secret;

DROP TABLE cow_ten, cow_tenant_map, cow_up;
DROP FUNCTION cow_up_definer(int, text);
DROP SCHEMA cow_mal CASCADE;
DROP ROLE regress_cow_mal, regress_cow_ins, regress_cow_t1, regress_cow_t2, regress_cow_owner;
