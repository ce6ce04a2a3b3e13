-- SPEC section 6: a pipeline runs with its owner's privileges; only the
-- owner (or a member of the owning role, or a superuser) runs, alters,
-- drops, pauses or resets it; creating over a table the owner cannot read,
-- or into one it cannot write, is refused; row-level security on targets
-- is honoured; the search_path of a run is the creator's with pg_temp last.
\set SHOW_CONTEXT never
CREATE ROLE regress_incetl_alice;
CREATE ROLE regress_incetl_bob;
CREATE ROLE regress_incetl_carol;
CREATE ROLE regress_incetl_alice_team IN ROLE regress_incetl_alice;
CREATE SCHEMA sec AUTHORIZATION regress_incetl_alice;
GRANT USAGE ON SCHEMA sec TO regress_incetl_bob, regress_incetl_carol;

SET ROLE regress_incetl_alice;
SET search_path = sec, public;
CREATE TABLE src (id int PRIMARY KEY, val text, updated_at timestamptz NOT NULL);
INSERT INTO src VALUES (1, 'a', '2026-01-01'), (2, 'b', '2026-01-01');
CREATE TABLE lookup (id int, label text);
INSERT INTO lookup VALUES (1, 'from sec.lookup'), (2, 'from sec.lookup');
SELECT incetl.create_pipeline('sec_p', 'src', 'updated_at', 'dst', 'id',
    transform => $$ SELECT b.id, b.val, b.updated_at, l.label,
                           current_user AS run_as
                    FROM batch AS b LEFT JOIN lookup AS l USING (id) $$);
SELECT source, target, owner, search_path FROM incetl.pipelines WHERE name = 'sec_p';
RESET ROLE;
RESET search_path;

-- bob may neither run nor change alice's pipeline
SET ROLE regress_incetl_bob;
SELECT incetl_run('sec_p');
\echo :LAST_ERROR_SQLSTATE
SELECT incetl.alter_pipeline('sec_p', max_retries => 5);
\echo :LAST_ERROR_SQLSTATE
SELECT incetl.pause_pipeline('sec_p');
\echo :LAST_ERROR_SQLSTATE
SELECT incetl.resume_pipeline('sec_p');
\echo :LAST_ERROR_SQLSTATE
SELECT incetl.reset_pipeline('sec_p');
\echo :LAST_ERROR_SQLSTATE
SELECT incetl.drop_pipeline('sec_p');
\echo :LAST_ERROR_SQLSTATE
SELECT incetl.safe_upper_bound('sec_p');
\echo :LAST_ERROR_SQLSTATE
-- nor write incetl's catalogs behind the functions' backs
UPDATE incetl.pipelines SET enabled = false WHERE name = 'sec_p';
\echo :LAST_ERROR_SQLSTATE
INSERT INTO incetl.watermarks (pipeline_name, watermark) VALUES ('sec_p', 'infinity');
\echo :LAST_ERROR_SQLSTATE
-- and nothing was logged for the refused calls
SELECT count(*) FROM incetl.run_log WHERE pipeline_name = 'sec_p';
RESET ROLE;

-- a superuser's run still runs as alice, with alice's search_path: a
-- temporary table of the caller cannot stand in for sec.lookup
CREATE TEMP TABLE lookup (id int, label text);
INSERT INTO lookup VALUES (1, 'from pg_temp'), (2, 'from pg_temp');
SET search_path = pg_temp, public;
SELECT incetl_run('sec_p');
RESET search_path;
SELECT id, label, run_as FROM sec.dst ORDER BY id;
SELECT run_by = session_user AS logged_caller FROM incetl.run_log
WHERE pipeline_name = 'sec_p' ORDER BY run_id DESC LIMIT 1;

-- a member of the owning role may run it
UPDATE sec.src SET val = 'a2', updated_at = now() WHERE id = 1;
SET ROLE regress_incetl_alice_team;
SELECT incetl_run('sec_p');
RESET ROLE;
SELECT val, run_as FROM sec.dst WHERE id = 1;


-- alice's transform cannot do what alice may not, even when a superuser runs it
SET ROLE regress_incetl_alice;
SELECT incetl.alter_pipeline('sec_p',
    transform => $$ SELECT id, val, updated_at, pg_read_file('PG_VERSION') AS label,
                           current_user AS run_as FROM batch $$);
RESET ROLE;
UPDATE sec.src SET val = 'a3', updated_at = now() WHERE id = 1;
SELECT incetl_run('sec_p');
\echo :LAST_ERROR_SQLSTATE
SELECT val FROM sec.dst WHERE id = 1;

-- creating over a source the owner cannot read, or into a target it cannot write
CREATE SCHEMA sec_private;
CREATE TABLE sec_private.secret (id int PRIMARY KEY, updated_at timestamptz NOT NULL);
GRANT USAGE ON SCHEMA sec_private TO regress_incetl_alice;
CREATE TABLE sec_private.readonly_dst (id int PRIMARY KEY, val text, updated_at timestamptz,
                                       label text, run_as name);
GRANT SELECT ON sec_private.readonly_dst TO regress_incetl_alice;
SET ROLE regress_incetl_alice;
SELECT incetl.create_pipeline('sec_bad', 'sec_private.secret', 'updated_at', 'sec.x', 'id');
\echo :LAST_ERROR_SQLSTATE
SELECT incetl.create_pipeline('sec_bad', 'sec.src', 'updated_at', 'sec_private.readonly_dst', 'id');
\echo :LAST_ERROR_SQLSTATE
-- a missing target in a schema the owner cannot create in
SELECT incetl.create_pipeline('sec_bad', 'sec.src', 'updated_at', 'sec_private.new_dst', 'id');
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM incetl.pipelines WHERE name = 'sec_bad';
RESET ROLE;

-- row-level security on a target owned by someone else is honoured
CREATE TABLE sec_private.rls_dst (id int PRIMARY KEY, val text, updated_at timestamptz);
ALTER TABLE sec_private.rls_dst ENABLE ROW LEVEL SECURITY;
CREATE POLICY small_ids ON sec_private.rls_dst USING (true) WITH CHECK (id < 100);
GRANT SELECT, INSERT, UPDATE ON sec_private.rls_dst TO regress_incetl_alice;
SET ROLE regress_incetl_alice;
CREATE TABLE sec.rls_src (id int PRIMARY KEY, val text, updated_at timestamptz NOT NULL);
INSERT INTO sec.rls_src VALUES (1, 'ok', '2026-01-01');
SELECT incetl.create_pipeline('sec_rls', 'sec.rls_src', 'updated_at', 'sec_private.rls_dst', 'id');
SELECT incetl_run('sec_rls');
INSERT INTO sec.rls_src VALUES (500, 'not allowed', now());
SELECT incetl_run('sec_rls');
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
SELECT * FROM sec_private.rls_dst ORDER BY id;

-- the superuser may manage anyone's pipeline
SELECT incetl.pause_pipeline('sec_p');
SELECT incetl.drop_pipeline('sec_p');
SELECT incetl.drop_pipeline('sec_rls');
DROP SCHEMA sec CASCADE;
DROP SCHEMA sec_private CASCADE;
DROP ROLE regress_incetl_alice_team;
DROP ROLE regress_incetl_alice;
DROP ROLE regress_incetl_bob;
DROP ROLE regress_incetl_carol;
