-- SPEC section 6: pipelines are owned by a role OID.  A renamed owner
-- keeps its pipelines; a new role that takes the old name gets nothing;
-- DROP ROLE is refused while the role owns pipelines; REASSIGN OWNED and
-- DROP OWNED treat pipelines like the role's other objects;
-- alter_pipeline(owner => ...) follows ALTER TABLE ... OWNER TO's rules.
-- pg_cron jobs (which name their user) follow the owner, and
-- incetl.pipeline_status shows only the owner's job.
\set SHOW_CONTEXT never
CREATE EXTENSION pg_cron;
CREATE ROLE regress_own_alice;
CREATE ROLE regress_own_carol;
CREATE ROLE regress_own_mallory;
GRANT USAGE ON SCHEMA cron TO regress_own_alice, regress_own_carol, regress_own_mallory;
CREATE SCHEMA own AUTHORIZATION regress_own_alice;
GRANT USAGE ON SCHEMA own TO PUBLIC;

SET ROLE regress_own_alice;
CREATE TABLE own.src (id int PRIMARY KEY, v text, updated_at timestamptz NOT NULL);
INSERT INTO own.src VALUES (1, 'a', now() - interval '1 hour');
SELECT incetl.create_pipeline('own_p', 'own.src', 'updated_at', 'own.dst', 'id',
    transform => $$ SELECT id, v, updated_at, current_user::text AS run_as FROM batch $$,
    schedule => '0 3 1 1 *');
RESET ROLE;
SELECT owner, pg_typeof(owner) FROM incetl.pipelines WHERE name = 'own_p';
SELECT jobname, username, schedule FROM cron.job WHERE jobname = 'incetl:own_p';

-- ---------------------------------------------------------------------
-- Renaming the owner: the pipeline follows it, and so does its job
-- ---------------------------------------------------------------------
ALTER ROLE regress_own_alice RENAME TO regress_own_alice2;
SELECT owner FROM incetl.pipelines WHERE name = 'own_p';
SELECT jobname, username FROM cron.job WHERE jobname = 'incetl:own_p';
SELECT pipeline_name, next_run_at IS NOT NULL AS scheduled
FROM incetl.pipeline_status WHERE pipeline_name = 'own_p';
-- the renamed owner runs it
SET ROLE regress_own_alice2;
SELECT incetl_run('own_p');
SELECT id, run_as FROM own.dst;
RESET ROLE;
-- a new role with the old name is a stranger
CREATE ROLE regress_own_alice;
SET ROLE regress_own_alice;
SELECT incetl_run('own_p');
\echo :LAST_ERROR_SQLSTATE
SELECT incetl.alter_pipeline('own_p', max_retries => 3);
\echo :LAST_ERROR_SQLSTATE
SELECT incetl.drop_pipeline('own_p');
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
DROP ROLE regress_own_alice;

-- ---------------------------------------------------------------------
-- pipeline_status shows the owner's job only: mallory's job of the same
-- name, with a schedule incetl cannot parse (pg_cron 1.4 ignores the
-- junk), neither breaks the view for anyone nor changes next_run_at
-- ---------------------------------------------------------------------
SELECT next_run_at AS owner_next FROM incetl.pipeline_status
WHERE pipeline_name = 'own_p' \gset
SET ROLE regress_own_mallory;
SELECT cron.schedule('incetl:own_p', '0 0 1 1 * junk', 'SELECT 1') > 0 AS planted;
SELECT next_run_at = :'owner_next' AS not_faked FROM incetl.pipeline_status
WHERE pipeline_name = 'own_p';
SELECT cron.unschedule('incetl:own_p');
SELECT cron.schedule('incetl:own_p', '* * * * *', 'SELECT 1') > 0 AS planted;
SELECT next_run_at = :'owner_next' AS not_faked FROM incetl.pipeline_status
WHERE pipeline_name = 'own_p';
SELECT cron.unschedule('incetl:own_p');
RESET ROLE;
-- the owner's own job with a schedule only pg_cron accepts shows NULL
UPDATE cron.job SET schedule = '0 3 1 1 * junk' WHERE jobname = 'incetl:own_p';
SELECT next_run_at FROM incetl.pipeline_status WHERE pipeline_name = 'own_p';
UPDATE cron.job SET schedule = '0 3 1 1 *' WHERE jobname = 'incetl:own_p';
-- pg_cron's special schedules are accepted and show no next run
SELECT incetl.schedule('own_p', '@reboot') > 0 AS scheduled;
SELECT schedule, next_run_at FROM incetl.pipeline_status WHERE pipeline_name = 'own_p';
SELECT incetl.schedule('own_p', '0 3 1 1 *') > 0 AS scheduled;
SELECT incetl.schedule('own_p', '0 3 1 1 * junk');
\echo :LAST_ERROR_SQLSTATE

-- ---------------------------------------------------------------------
-- DROP ROLE is refused while the role owns pipelines
-- ---------------------------------------------------------------------
ALTER SCHEMA own OWNER TO regress_own_carol;
ALTER TABLE own.src OWNER TO regress_own_carol;
ALTER TABLE own.dst OWNER TO regress_own_carol;
DROP ROLE regress_own_alice2;
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM incetl.pipelines WHERE name = 'own_p';

-- ---------------------------------------------------------------------
-- alter_pipeline(owner => ...): only for a member of the new role (or a
-- superuser), and the new owner must be able to read and write
-- ---------------------------------------------------------------------
SET ROLE regress_own_alice2;
SELECT incetl.alter_pipeline('own_p', owner => 'regress_own_carol');
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
SELECT incetl.alter_pipeline('own_p', owner => 'regress_own_mallory');
\echo :LAST_ERROR_SQLSTATE
SELECT owner FROM incetl.pipelines WHERE name = 'own_p';
-- carol owns source and target
SELECT incetl.alter_pipeline('own_p', owner => 'regress_own_carol');
SELECT owner FROM incetl.pipelines WHERE name = 'own_p';
SELECT jobname, username FROM cron.job WHERE jobname = 'incetl:own_p';
UPDATE own.src SET v = 'b', updated_at = now() WHERE id = 1;
SELECT incetl_run('own_p');
SELECT id, v, run_as FROM own.dst;

-- ---------------------------------------------------------------------
-- REASSIGN OWNED and DROP OWNED
-- ---------------------------------------------------------------------
ALTER TABLE own.src OWNER TO regress_own_alice2;
ALTER TABLE own.dst OWNER TO regress_own_alice2;
SELECT incetl.alter_pipeline('own_p', owner => 'regress_own_alice2');
SELECT owner FROM incetl.pipelines WHERE name = 'own_p';
SELECT jobname, username FROM cron.job WHERE jobname = 'incetl:own_p';
REASSIGN OWNED BY regress_own_alice2 TO regress_own_carol;
SELECT owner FROM incetl.pipelines WHERE name = 'own_p';
SELECT jobname, username FROM cron.job WHERE jobname = 'incetl:own_p';
DROP OWNED BY regress_own_alice2;
DROP ROLE regress_own_alice2;
DROP OWNED BY regress_own_carol;
SELECT count(*) FROM incetl.pipelines WHERE name = 'own_p';
SELECT count(*) FROM cron.job WHERE jobname = 'incetl:own_p';
-- the log stays, as with drop_pipeline
SELECT count(*) > 0 AS log_kept FROM incetl.run_log WHERE pipeline_name = 'own_p';
DROP ROLE regress_own_carol;

-- ---------------------------------------------------------------------
-- A pipeline whose owner was dropped elsewhere (another database's DROP
-- ROLE cannot see this one's pipelines) is nobody's to run
-- ---------------------------------------------------------------------
CREATE ROLE regress_own_ghost;
CREATE SCHEMA ghost AUTHORIZATION regress_own_ghost;
SET ROLE regress_own_ghost;
CREATE TABLE ghost.src (id int PRIMARY KEY, updated_at timestamptz NOT NULL);
SELECT incetl.create_pipeline('ghost_p', 'ghost.src', 'updated_at', 'ghost.dst', 'id');
RESET ROLE;
-- what the hook cannot see: the role vanishes behind incetl's back
UPDATE incetl.pipelines SET owner = 4000000000::oid::regrole WHERE name = 'ghost_p';
SELECT incetl_run('ghost_p');
\echo :LAST_ERROR_SQLSTATE
SELECT incetl.alter_pipeline('ghost_p', owner => 'regress_own_ghost');
SELECT owner FROM incetl.pipelines WHERE name = 'ghost_p';
SELECT incetl.drop_pipeline('ghost_p');
DROP SCHEMA ghost CASCADE;
DROP ROLE regress_own_ghost;
DROP OWNED BY regress_own_mallory;
DROP ROLE regress_own_mallory;
DROP EXTENSION pg_cron;
