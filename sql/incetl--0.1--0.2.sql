/* incetl--0.1--0.2.sql -- ALTER EXTENSION incetl UPDATE from 0.1 to 0.2 */

\echo Use "ALTER EXTENSION incetl UPDATE TO '0.2'" to load this file. \quit

-- ------------------------------------------------------------------------
-- Pipelines are owned by a role OID, not a name: a renamed role keeps its
-- pipelines, and a new role that takes a dropped role's name gets none.
-- Every owner must exist now (0.1 stored names, which could go stale).
-- ------------------------------------------------------------------------
DO $$
DECLARE
    orphans text;
BEGIN
    SELECT string_agg(format('%I (owner %I)', p.name, p.owner), ', ' ORDER BY p.name)
    INTO orphans
    FROM incetl.pipelines AS p
    WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_roles AS r
                      WHERE r.rolname OPERATOR(pg_catalog.=) p.owner);
    IF orphans IS NOT NULL THEN
        RAISE EXCEPTION 'pipelines owned by roles that no longer exist: %', orphans
            USING ERRCODE = 'undefined_object',
                  HINT = 'Create those roles again, or change incetl.pipelines.owner to an existing role, then update the extension.';
    END IF;
END
$$;
ALTER TABLE incetl.pipelines
    ALTER COLUMN owner TYPE regrole USING owner::text::regrole;
COMMENT ON COLUMN incetl.pipelines.owner IS
    'the role a run acts as: an OID (follows ALTER ROLE ... RENAME; dumped by name)';

-- alter_pipeline(..., owner => role) hands a pipeline to another role.
DROP FUNCTION incetl.alter_pipeline(text, text, text, text, text, text, text,
    text, text, jsonb, bigint, integer, interval, interval);
CREATE FUNCTION incetl.alter_pipeline(
    name             text,
    source           text DEFAULT NULL,
    watermark_column text DEFAULT NULL,
    target           text DEFAULT NULL,
    record_key       text DEFAULT NULL,
    precombine       text DEFAULT NULL,
    transform        text DEFAULT NULL,
    schedule         text DEFAULT NULL,
    delete_marker    text DEFAULT NULL,
    settings         jsonb DEFAULT NULL,
    max_batch_rows   bigint DEFAULT NULL,
    max_retries      integer DEFAULT NULL,
    retry_delay      interval DEFAULT NULL,
    safety_lag       interval DEFAULT NULL,
    owner            regrole DEFAULT NULL)
RETURNS void
AS 'MODULE_PATHNAME', 'incetl_alter_pipeline'
LANGUAGE C CALLED ON NULL INPUT VOLATILE;


-- pipeline_status: only the job the owner scheduled counts, and a schedule
-- incetl cannot parse shows NULL.
CREATE OR REPLACE FUNCTION incetl.next_scheduled_run(name text)
RETURNS timestamptz
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    sched text;
    owner_name name;
BEGIN
    IF to_regclass('cron.job') IS NULL THEN
        RETURN NULL;
    END IF;
    SELECT r.rolname INTO owner_name
    FROM incetl.pipelines AS p JOIN pg_roles AS r ON r.oid OPERATOR(pg_catalog.=) p.owner
    WHERE p.name OPERATOR(pg_catalog.=) next_scheduled_run.name;
    IF owner_name IS NULL THEN
        RETURN NULL;
    END IF;
    EXECUTE 'SELECT schedule FROM cron.job WHERE jobname OPERATOR(pg_catalog.=) $1 '
            'AND username OPERATOR(pg_catalog.=) $2 '
            'AND database OPERATOR(pg_catalog.=) pg_catalog.current_database() AND active'
        INTO sched USING 'incetl:' || name, owner_name::text;
    IF sched IS NULL THEN
        RETURN NULL;
    END IF;
    BEGIN
        RETURN incetl.cron_next_run(sched, now());
    EXCEPTION WHEN OTHERS THEN
        RETURN NULL;
    END;
END
$$;


-- run_log retention (incetl.run_log_retention).
CREATE FUNCTION incetl.purge_run_log(older_than interval DEFAULT NULL)
RETURNS bigint
AS 'MODULE_PATHNAME', 'incetl_purge_run_log'
LANGUAGE C CALLED ON NULL INPUT VOLATILE;
REVOKE EXECUTE ON FUNCTION incetl.purge_run_log(interval) FROM PUBLIC;
COMMENT ON FUNCTION incetl.purge_run_log(interval) IS
    'delete incetl.run_log rows older than older_than (default: incetl.run_log_retention)';

