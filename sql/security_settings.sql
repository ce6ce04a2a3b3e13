-- SPEC section 6: nothing a pipeline's owner runs outlives the run.  Code
-- of the owner (a transform calling a function that changes search_path
-- with set_config(..., false), as an attacker would) runs during
-- create_pipeline and alter_pipeline (the planner evaluates immutable
-- functions when the transform is validated), during every run, and when
-- safe_upper_bound plans the batch.  Afterwards the caller -- a superuser,
-- or pg_cron -- must find its own settings, so that its next statement
-- does not resolve lower() to the owner's function.
\set SHOW_CONTEXT never
CREATE ROLE regress_set_mal;
CREATE SCHEMA set_mal AUTHORIZATION regress_set_mal;
GRANT USAGE ON SCHEMA set_mal TO PUBLIC;

SET ROLE regress_set_mal;
CREATE TABLE set_mal.src (id int PRIMARY KEY, v text, updated_at timestamptz NOT NULL);
INSERT INTO set_mal.src VALUES (1, 'a', now() - interval '1 hour');
-- the trap: a lower() that runs first on a search_path that lists set_mal
CREATE FUNCTION set_mal.lower(text) RETURNS text LANGUAGE sql
AS $$ SELECT 'hijacked by ' || current_user $$;
-- the payload: IMMUTABLE, so the planner runs it while planning the transform
CREATE FUNCTION set_mal.plant() RETURNS int LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    PERFORM set_config('search_path', 'set_mal, pg_catalog, public', false);
    PERFORM set_config('work_mem', '777kB', false);
    PERFORM set_config('application_name', 'planted', false);
    RETURN 1;
END $$;
SELECT incetl.create_pipeline('set_p', 'set_mal.src', 'updated_at', 'set_mal.dst', 'id',
    transform => $$ SELECT id, v, updated_at, set_mal.plant() AS x FROM batch $$,
    settings => '{"work_mem": "5MB", "statement_timeout": "1h"}');
RESET ROLE;
RESET search_path;
RESET work_mem;
RESET application_name;

-- a superuser alters the pipeline (validation plans the transform)
SELECT incetl.alter_pipeline('set_p', max_retries => 1);
SHOW search_path;
SHOW work_mem;
SHOW application_name;
SELECT lower('ABC');

-- a superuser runs it
SELECT incetl_run('set_p');
SHOW search_path;
SHOW work_mem;
SHOW statement_timeout;
SHOW application_name;
SELECT lower('ABC');

-- the run did run the payload, as the owner
SELECT id, v, x FROM set_mal.dst;

-- inside a transaction block, with settings of the caller's own
UPDATE set_mal.src SET v = 'b', updated_at = now() WHERE id = 1;
BEGIN;
SET LOCAL work_mem = '3MB';
SET search_path = public, pg_catalog;
SELECT incetl_run('set_p');
SHOW work_mem;
SHOW search_path;
SELECT lower('ABC');
COMMIT;
RESET search_path;

-- a failing run (the error path ends the owner's context too)
SET ROLE regress_set_mal;
CREATE OR REPLACE FUNCTION set_mal.boom(int) RETURNS int LANGUAGE plpgsql AS $$
BEGIN
    PERFORM set_config('search_path', 'set_mal, pg_catalog, public', false);
    RETURN 1 / ($1 - $1);
END $$;
SELECT incetl.alter_pipeline('set_p',
    transform => $$ SELECT id, v, updated_at, set_mal.boom(id) AS x FROM batch $$);
RESET ROLE;
RESET search_path;
UPDATE set_mal.src SET v = 'c', updated_at = now() WHERE id = 1;
SELECT incetl_run('set_p');
\echo :LAST_ERROR_SQLSTATE
SHOW search_path;
SELECT lower('ABC');

-- safe_upper_bound plans nothing of the owner's, but leaves nothing either
SELECT incetl.safe_upper_bound('set_p') IS NOT NULL AS has_bound;
SHOW search_path;

SELECT status, sqlstate FROM incetl.run_log WHERE pipeline_name = 'set_p' ORDER BY run_id;
SELECT id, v, x FROM set_mal.dst;

SELECT incetl.drop_pipeline('set_p');
DROP SCHEMA set_mal CASCADE;
DROP ROLE regress_set_mal;
