/* incetl--0.1.sql -- the SQL surface of incetl 0.1 */

\echo Use "CREATE EXTENSION incetl" to load this file. \quit

-- ------------------------------------------------------------------------
-- Catalogs.  They belong to the extension owner; users change them only
-- through the functions below, which check ownership in C.
-- ------------------------------------------------------------------------

CREATE TABLE incetl.pipelines (
    name             text PRIMARY KEY,
    source           text NOT NULL,
    watermark_column text NOT NULL,
    watermark_type   regtype NOT NULL,
    target           text NOT NULL,
    record_key       text[] NOT NULL,
    precombine       text,
    transform        text,
    schedule         text,
    delete_marker    text,
    settings         jsonb NOT NULL DEFAULT '{}',
    max_batch_rows   bigint CHECK (max_batch_rows > 0),
    max_retries      integer NOT NULL DEFAULT 0 CHECK (max_retries >= 0),
    retry_delay      interval NOT NULL DEFAULT '1 second',
    safety_lag       interval NOT NULL DEFAULT '0',
    owner            name NOT NULL,
    enabled          boolean NOT NULL DEFAULT true,
    created_at       timestamptz NOT NULL DEFAULT now(),
    search_path      text NOT NULL
);
COMMENT ON TABLE incetl.pipelines IS 'incetl pipeline definitions';
COMMENT ON COLUMN incetl.pipelines.search_path IS
    'search_path captured at create_pipeline; runs use it with pg_temp last';

CREATE TABLE incetl.watermarks (
    pipeline_name    text PRIMARY KEY
                     REFERENCES incetl.pipelines (name) ON DELETE CASCADE,
    watermark        text,
    watermark_commit bigint,
    updated_at       timestamptz NOT NULL DEFAULT now(),
    run_id           bigint
);
COMMENT ON TABLE incetl.watermarks IS
    'committed high-water mark per pipeline (text form of the watermark value)';

CREATE TABLE incetl.run_log (
    run_id                  bigserial PRIMARY KEY,
    pipeline_name           text NOT NULL,
    started_at              timestamptz NOT NULL,
    finished_at             timestamptz,
    last_run_timestamp      text,
    current_run_timestamp   text,
    status                  text NOT NULL
        CHECK (status IN ('SUCCESS', 'NO_DATA', 'FAILED', 'SKIPPED')),
    records_read            bigint NOT NULL DEFAULT 0,
    records_inserted        bigint NOT NULL DEFAULT 0,
    records_updated         bigint NOT NULL DEFAULT 0,
    records_deleted         bigint NOT NULL DEFAULT 0,
    records_processed       bigint NOT NULL DEFAULT 0,
    processing_time_seconds double precision,
    error_message           text,
    sqlstate                text,
    error_detail            text,
    error_context           text,
    attempt                 integer NOT NULL DEFAULT 1,
    commit_id               bigint,
    environment             text,
    run_by                  name NOT NULL DEFAULT session_user,
    full_refresh            boolean NOT NULL DEFAULT false,
    note                    text
);
CREATE INDEX run_log_pipeline_idx ON incetl.run_log (pipeline_name, run_id);
COMMENT ON TABLE incetl.run_log IS 'one row per run attempt of every pipeline';
COMMENT ON COLUMN incetl.run_log.note IS
    'remarks, e.g. which open transaction held the upper bound back';

-- Definitions and the log survive pg_dump / pg_restore.
SELECT pg_catalog.pg_extension_config_dump('incetl.pipelines', '');
SELECT pg_catalog.pg_extension_config_dump('incetl.watermarks', '');
SELECT pg_catalog.pg_extension_config_dump('incetl.run_log', '');
SELECT pg_catalog.pg_extension_config_dump('incetl.run_log_run_id_seq', '');

GRANT USAGE ON SCHEMA incetl TO PUBLIC;
GRANT SELECT ON incetl.pipelines, incetl.watermarks, incetl.run_log TO PUBLIC;

-- ------------------------------------------------------------------------
-- Pipeline functions (C).  NULL for an optional argument of alter_pipeline
-- means "unchanged"; '' clears a text option.
-- ------------------------------------------------------------------------

CREATE FUNCTION incetl.create_pipeline(
    name             text,
    source           text,
    watermark_column text,
    target           text,
    record_key       text,
    precombine       text DEFAULT NULL,
    transform        text DEFAULT NULL,
    schedule         text DEFAULT NULL,
    delete_marker    text DEFAULT NULL,
    settings         jsonb DEFAULT '{}',
    max_batch_rows   bigint DEFAULT NULL,
    max_retries      integer DEFAULT 0,
    retry_delay      interval DEFAULT '1 second',
    safety_lag       interval DEFAULT '0')
RETURNS void
AS 'MODULE_PATHNAME', 'incetl_create_pipeline'
LANGUAGE C CALLED ON NULL INPUT VOLATILE;

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
    safety_lag       interval DEFAULT NULL)
RETURNS void
AS 'MODULE_PATHNAME', 'incetl_alter_pipeline'
LANGUAGE C CALLED ON NULL INPUT VOLATILE;

CREATE FUNCTION incetl.drop_pipeline(name text)
RETURNS void
AS 'MODULE_PATHNAME', 'incetl_drop_pipeline'
LANGUAGE C STRICT VOLATILE;

CREATE FUNCTION incetl.pause_pipeline(name text)
RETURNS void
AS 'MODULE_PATHNAME', 'incetl_pause_pipeline'
LANGUAGE C STRICT VOLATILE;

CREATE FUNCTION incetl.resume_pipeline(name text)
RETURNS void
AS 'MODULE_PATHNAME', 'incetl_resume_pipeline'
LANGUAGE C STRICT VOLATILE;

CREATE FUNCTION incetl.reset_pipeline(name text, watermark text DEFAULT NULL)
RETURNS void
AS 'MODULE_PATHNAME', 'incetl_reset_pipeline'
LANGUAGE C CALLED ON NULL INPUT VOLATILE;

CREATE FUNCTION incetl.schedule(name text, cron text)
RETURNS bigint
AS 'MODULE_PATHNAME', 'incetl_schedule'
LANGUAGE C STRICT VOLATILE;

CREATE FUNCTION incetl.unschedule(name text)
RETURNS boolean
AS 'MODULE_PATHNAME', 'incetl_unschedule'
LANGUAGE C STRICT VOLATILE;

CREATE FUNCTION public.incetl_run(name text, full_refresh boolean DEFAULT false)
RETURNS bigint
AS 'MODULE_PATHNAME', 'incetl_run'
LANGUAGE C STRICT VOLATILE;
COMMENT ON FUNCTION public.incetl_run(text, boolean) IS
    'run one incremental batch of an incetl pipeline; returns rows written';

-- Next time a cron expression fires after a given instant (pg_cron syntax:
-- five fields, names, ranges, steps, @macros, and "N seconds").
CREATE FUNCTION incetl.cron_next_run(schedule text, after timestamptz DEFAULT now())
RETURNS timestamptz
AS 'MODULE_PATHNAME', 'incetl_cron_next_run'
LANGUAGE C STRICT STABLE;

-- The upper bound the next run of a pipeline would use, without running it.
CREATE FUNCTION incetl.safe_upper_bound(name text)
RETURNS text
AS 'MODULE_PATHNAME', 'incetl_safe_upper_bound'
LANGUAGE C STRICT VOLATILE;

-- ------------------------------------------------------------------------
-- Monitoring.
-- ------------------------------------------------------------------------

-- A sparkline of a series of numbers, scaled between its min and max.
CREATE FUNCTION incetl.sparkline(vals double precision[])
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT string_agg(
               CASE WHEN v IS NULL THEN ' '
                    WHEN hi = lo THEN '▄'
                    ELSE substr('▁▂▃▄▅▆▇█',
                                1 + least(7, floor((v - lo) / (hi - lo) * 8)::int), 1)
               END, '' ORDER BY i)
    FROM unnest(vals) WITH ORDINALITY AS u(v, i),
         LATERAL (SELECT min(x) AS lo, max(x) AS hi FROM unnest(vals) AS x) AS r
$$;

-- The seed's get_pipeline_status(days): one row per run in the window.
CREATE FUNCTION incetl.pipeline_status(days integer DEFAULT 14)
RETURNS TABLE (
    run_id                  bigint,
    pipeline_name           text,
    last_run_timestamp      text,
    current_run_timestamp   text,
    status                  text,
    records_processed       bigint,
    processing_time_seconds double precision,
    started_at              timestamptz,
    error_message           text)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT l.run_id, l.pipeline_name, l.last_run_timestamp,
           l.current_run_timestamp, l.status, l.records_processed,
           l.processing_time_seconds, l.started_at, l.error_message
    FROM incetl.run_log AS l
    WHERE l.started_at >= now() - make_interval(days => days)
    ORDER BY l.started_at DESC, l.run_id DESC
$$;

-- The next time pg_cron fires the pipeline's job, or NULL when it has none
-- (or pg_cron is not installed in this database).  SECURITY DEFINER: the
-- monitoring view is for everyone, while cron.job shows each user only
-- their own jobs (and needs USAGE on schema cron); a schedule is no
-- secret, incetl.pipelines.schedule already shows it.
CREATE FUNCTION incetl.next_scheduled_run(name text)
RETURNS timestamptz
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    sched text;
BEGIN
    IF to_regclass('cron.job') IS NULL THEN
        RETURN NULL;
    END IF;
    EXECUTE 'SELECT schedule FROM cron.job WHERE jobname = $1 AND active'
        INTO sched USING 'incetl:' || name;
    IF sched IS NULL THEN
        RETURN NULL;
    END IF;
    RETURN incetl.cron_next_run(sched, now());
END
$$;

-- How far the committed watermark trails the clock (NULL for integer
-- watermarks, whose lag is not a time).
CREATE FUNCTION incetl.watermark_lag(watermark_type regtype, watermark text)
RETURNS interval
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE watermark_type
        WHEN 'timestamp with time zone'::regtype THEN now() - watermark::timestamptz
        WHEN 'timestamp without time zone'::regtype THEN localtimestamp - watermark::timestamp
        WHEN 'date'::regtype THEN localtimestamp - (watermark::date + 1)::timestamp
        ELSE NULL END
$$;

CREATE VIEW incetl.pipeline_status AS
WITH win AS (
    SELECT l.*,
           extract(epoch FROM (l.finished_at - l.started_at)) AS secs,
           row_number() OVER (PARTITION BY l.pipeline_name
                              ORDER BY l.run_id DESC) AS recent
    FROM incetl.run_log AS l
    WHERE l.started_at >= now() - interval '14 days'
), agg AS (
    SELECT pipeline_name,
           count(*) FILTER (WHERE status <> 'SKIPPED') AS runs,
           count(*) FILTER (WHERE status = 'SKIPPED') AS skipped,
           count(*) FILTER (WHERE status IN ('SUCCESS', 'NO_DATA')) AS ok_runs,
           avg(processing_time_seconds)
               FILTER (WHERE status IN ('SUCCESS', 'NO_DATA')) AS avg_s,
           percentile_cont(0.95) WITHIN GROUP (ORDER BY processing_time_seconds)
               FILTER (WHERE status IN ('SUCCESS', 'NO_DATA')) AS p95_s,
           sum(records_processed) FILTER (WHERE status = 'SUCCESS') AS rows_ok,
           sum(processing_time_seconds) FILTER (WHERE status = 'SUCCESS') AS secs_ok,
           incetl.sparkline(array_agg(processing_time_seconds ORDER BY run_id)
                            FILTER (WHERE recent <= 20 AND status <> 'SKIPPED'))
               AS spark
    FROM win
    GROUP BY pipeline_name
)
SELECT p.name AS pipeline_name,
       p.enabled,
       last.status AS last_status,
       last.started_at AS last_run_at,
       ok.finished_at AS last_success_at,
       w.watermark,
       incetl.watermark_lag(p.watermark_type, w.watermark) AS lag,
       coalesce(a.runs, 0) AS runs_14d,
       coalesce(a.skipped, 0) AS skipped_14d,
       round(100.0 * a.ok_runs / nullif(a.runs, 0), 1) AS success_rate_pct,
       round(a.avg_s::numeric, 3) AS avg_seconds,
       round(a.p95_s::numeric, 3) AS p95_seconds,
       round((a.rows_ok / nullif(a.secs_ok, 0))::numeric, 1) AS rows_per_second,
       incetl.next_scheduled_run(p.name) AS next_run_at,
       p.schedule,
       a.spark AS recent_durations
FROM incetl.pipelines AS p
LEFT JOIN incetl.watermarks AS w ON w.pipeline_name = p.name
LEFT JOIN agg AS a ON a.pipeline_name = p.name
LEFT JOIN LATERAL (
    SELECT l.status, l.started_at FROM incetl.run_log AS l
    WHERE l.pipeline_name = p.name ORDER BY l.run_id DESC LIMIT 1) AS last ON true
LEFT JOIN LATERAL (
    SELECT l.finished_at FROM incetl.run_log AS l
    WHERE l.pipeline_name = p.name AND l.status IN ('SUCCESS', 'NO_DATA')
    ORDER BY l.run_id DESC LIMIT 1) AS ok ON true;
GRANT SELECT ON incetl.pipeline_status TO PUBLIC;
