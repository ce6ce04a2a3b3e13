/* incetl--0.3.sql -- the SQL surface of incetl 0.3 */

\echo Use "CREATE EXTENSION incetl" to load this file. \quit

-- ------------------------------------------------------------------------
-- Catalogs.  They belong to the extension owner; users change them only
-- through the functions below, which check ownership in C.
-- ------------------------------------------------------------------------

CREATE TABLE incetl.pipelines (
    name             text PRIMARY KEY,
    source           text NOT NULL,
    watermark_column text,
    watermark_type   regtype,
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
    owner            regrole NOT NULL,
    enabled          boolean NOT NULL DEFAULT true,
    created_at       timestamptz NOT NULL DEFAULT now(),
    search_path      text NOT NULL
);
COMMENT ON TABLE incetl.pipelines IS 'incetl pipeline definitions';
COMMENT ON COLUMN incetl.pipelines.watermark_column IS
    'NULL: the source is an incetl_cow table read through its change feed (the commit id is the watermark)';
COMMENT ON COLUMN incetl.pipelines.search_path IS
    'search_path captured at create_pipeline; runs use it with pg_temp last';
COMMENT ON COLUMN incetl.pipelines.owner IS
    'the role a run acts as: an OID (follows ALTER ROLE ... RENAME; dumped by name)';

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
    safety_lag       interval DEFAULT NULL,
    owner            regrole DEFAULT NULL)
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
-- secret, incetl.pipelines.schedule already shows it.  Only the job the
-- pipeline's owner scheduled in this database counts: anyone with USAGE on
-- schema cron can create a job of the same name under their own user name.
-- A schedule incetl cannot parse shows NULL, never an error.
CREATE FUNCTION incetl.next_scheduled_run(name text)
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
       coalesce(w.watermark, 'commit ' || w.watermark_commit) AS watermark,
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

-- run_log retention: every run deletes the oldest rows of its pipeline
-- older than incetl.run_log_retention; this deletes every such row (also
-- of dropped pipelines).  For the extension owner and superusers; make
-- demo schedules it daily with pg_cron.
CREATE FUNCTION incetl.purge_run_log(older_than interval DEFAULT NULL)
RETURNS bigint
AS 'MODULE_PATHNAME', 'incetl_purge_run_log'
LANGUAGE C CALLED ON NULL INPUT VOLATILE;
REVOKE EXECUTE ON FUNCTION incetl.purge_run_log(interval) FROM PUBLIC;
COMMENT ON FUNCTION incetl.purge_run_log(interval) IS
    'delete incetl.run_log rows older than older_than (default: incetl.run_log_retention)';

-- ==== incetl_cow begin ====
-- ------------------------------------------------------------------------
-- The incetl_cow table access method: copy-on-write upsert tables.
-- Catalog rows make file group versions MVCC-visible; they are written
-- only by the access method (in C) and read through the functions below.
-- ------------------------------------------------------------------------

CREATE FUNCTION incetl.incetl_cow_tableam_handler(internal)
RETURNS table_am_handler
AS 'MODULE_PATHNAME', 'incetl_cow_tableam_handler'
LANGUAGE C STRICT;

CREATE ACCESS METHOD incetl_cow TYPE TABLE HANDLER incetl.incetl_cow_tableam_handler;
COMMENT ON ACCESS METHOD incetl_cow IS
    'copy-on-write columnar tables with upserts by record key (incetl)';

-- Storage ids outlive relfilenodes (pg_upgrade, rewrites).
CREATE SEQUENCE incetl.cow_storage_id_seq;

-- One row per table that has options.  Keyed by regclass and naming the
-- columns by name, so the rows survive pg_dump/pg_restore: it is an
-- extension configuration table, dumped as text ('schema.table', column
-- names) and re-resolved against the restored tables.  ALTER TABLE ...
-- RENAME / SET SCHEMA keep the oid; RENAME COLUMN is followed by the
-- library; DROP TABLE deletes the row.
CREATE TABLE incetl.cow_options (
    tbl               regclass PRIMARY KEY,
    record_key        name[],        -- column names, in key order
    precombine        name,
    delete_marker     name,
    file_group_rows   integer NOT NULL DEFAULT 100000
                      CHECK (file_group_rows > 0),
    compression_level integer NOT NULL DEFAULT 1
                      CHECK (compression_level BETWEEN 1 AND 22),
    retain_commits    integer NOT NULL DEFAULT 10
                      CHECK (retain_commits >= 0)
);
COMMENT ON TABLE incetl.cow_options IS
    'incetl_cow table options (incetl.set_table_options); dumped by pg_dump';
-- Only rows of existing incetl_cow tables are dumped (a row left by a table
-- dropped without the library loaded would restore as a bare oid, and one
-- of a table since moved to another access method would be refused by
-- the trigger below, failing the whole COPY).
SELECT pg_catalog.pg_extension_config_dump('incetl.cow_options',
    'WHERE EXISTS (SELECT 1 FROM pg_catalog.pg_class AS c JOIN pg_catalog.pg_am AS a ON a.oid OPERATOR(pg_catalog.=) c.relam WHERE c.oid OPERATOR(pg_catalog.=) tbl::pg_catalog.oid AND a.amname OPERATOR(pg_catalog.=) ''incetl_cow'')');

-- Rows written by SQL (pg_restore's COPY, never set_table_options) are
-- checked here, and a table whose rows were loaded before its options
-- (pg_restore loads data in no fixed order) is rewritten by its record key.
CREATE FUNCTION incetl.cow_options_loaded()
RETURNS trigger
AS 'MODULE_PATHNAME', 'incetl_cow_options_loaded'
LANGUAGE C;
CREATE TRIGGER cow_options_loaded
    AFTER INSERT OR UPDATE ON incetl.cow_options
    FOR EACH ROW EXECUTE FUNCTION incetl.cow_options_loaded();

CREATE TABLE incetl.cow_file_group (
    storage_id       bigint NOT NULL,
    file_group_id    bigint NOT NULL,
    commit_id        bigint NOT NULL,
    superseded_by    bigint,
    first_row_number bigint NOT NULL,
    row_count        bigint NOT NULL,
    first_block      bigint NOT NULL,
    nblocks          integer NOT NULL,
    header_bytes     integer NOT NULL,
    bytes            bigint NOT NULL,
    raw_bytes        bigint NOT NULL,
    min_commit       bigint NOT NULL,
    max_commit       bigint NOT NULL
);
CREATE INDEX cow_file_group_rows_idx
    ON incetl.cow_file_group (storage_id, first_row_number);
COMMENT ON TABLE incetl.cow_file_group IS
    'one row per incetl_cow file group version; superseded_by is the commit that replaced it';

CREATE TABLE incetl.cow_commit (
    storage_id          bigint NOT NULL,
    commit_id           bigint NOT NULL,
    committed_at        timestamptz NOT NULL,
    operation           text NOT NULL,
    rows_inserted       bigint NOT NULL DEFAULT 0,
    rows_updated        bigint NOT NULL DEFAULT 0,
    rows_deleted        bigint NOT NULL DEFAULT 0,
    file_groups_written integer NOT NULL DEFAULT 0,
    bytes_written       bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (storage_id, commit_id)
);
COMMENT ON TABLE incetl.cow_commit IS 'the timeline of every incetl_cow table';

REVOKE ALL ON incetl.cow_options, incetl.cow_file_group, incetl.cow_commit,
    incetl.cow_storage_id_seq FROM PUBLIC;
-- Readable like pg_class.reloptions: pg_dump run by a database owner who
-- is not a superuser reads it (it is dumped); it holds only table and
-- column names and numbers.  Written only by set_table_options() and by
-- the owner of the extension (pg_restore).
GRANT SELECT ON incetl.cow_options TO PUBLIC;

-- The storage id of an incetl_cow table (its key in the catalogs above);
-- checks the caller may SELECT the table.
CREATE FUNCTION incetl.cow_storage_id(tbl regclass)
RETURNS bigint
AS 'MODULE_PATHNAME', 'incetl_cow_storage_id'
LANGUAGE C STRICT VOLATILE;

CREATE FUNCTION incetl.set_table_options(
    tbl               regclass,
    record_key        text DEFAULT NULL,
    precombine        text DEFAULT NULL,
    delete_marker     text DEFAULT NULL,
    file_group_rows   integer DEFAULT NULL,
    compression_level integer DEFAULT NULL,
    retain_commits    integer DEFAULT NULL)
RETURNS void
AS 'MODULE_PATHNAME', 'incetl_cow_set_table_options'
LANGUAGE C CALLED ON NULL INPUT VOLATILE;
COMMENT ON FUNCTION incetl.set_table_options(regclass, text, text, text, integer, integer, integer) IS
    'set record key, precombine field, delete marker, file group size, zstd level and retention of an incetl_cow table (NULL: unchanged, empty string: cleared)';

-- Options as set, for inspection.
CREATE FUNCTION incetl.table_options(tbl regclass,
    OUT record_key text[], OUT precombine text, OUT delete_marker text,
    OUT file_group_rows integer, OUT compression_level integer,
    OUT retain_commits integer)
AS 'MODULE_PATHNAME', 'incetl_cow_table_options'
LANGUAGE C STRICT STABLE;

CREATE FUNCTION incetl.commits(tbl regclass)
RETURNS TABLE (commit_id bigint, committed_at timestamptz, operation text,
               rows_inserted bigint, rows_updated bigint, rows_deleted bigint,
               file_groups_written integer, bytes_written bigint)
AS 'MODULE_PATHNAME', 'incetl_cow_commits'
LANGUAGE C STRICT STABLE;
COMMENT ON FUNCTION incetl.commits(regclass) IS 'the commit timeline of an incetl_cow table';

-- Reclaims file group versions outside retention (keep_commits, or the
-- table's retain_commits when NULL); VACUUM does the same.  Returns the
-- number of versions removed.
CREATE FUNCTION incetl.clean(tbl regclass, keep_commits integer DEFAULT NULL)
RETURNS bigint
AS 'MODULE_PATHNAME', 'incetl_cow_clean'
LANGUAGE C CALLED ON NULL INPUT VOLATILE;

CREATE FUNCTION incetl.table_stats(tbl regclass,
    OUT file_groups bigint, OUT rows bigint, OUT raw_bytes bigint,
    OUT compressed_bytes bigint, OUT compression_ratio numeric,
    OUT versions_retained bigint, OUT commits bigint, OUT last_commit_id bigint,
    OUT pages bigint)
AS 'MODULE_PATHNAME', 'incetl_cow_table_stats'
LANGUAGE C STRICT STABLE;
COMMENT ON FUNCTION incetl.table_stats(regclass) IS
    'file groups, rows, raw and compressed bytes, ratio and retained versions of an incetl_cow table';

-- Per column of the current file groups and per encoding chosen for its
-- chunks (plain, int, numeric, dictionary, varlena; null: the column is
-- NULL throughout the file group): chunks, encoded bytes, bytes stored
-- after zstd, and how many chunks zstd compressed.  attnum 0 is the hidden
-- commit-id column.
CREATE FUNCTION incetl.column_stats(tbl regclass)
RETURNS TABLE (attnum smallint, column_name name, encoding text, chunks bigint,
               encoded_bytes bigint, stored_bytes bigint, zstd_chunks bigint)
AS 'MODULE_PATHNAME', 'incetl_cow_column_stats'
LANGUAGE C STRICT STABLE;
COMMENT ON FUNCTION incetl.column_stats(regclass) IS
    'per column and encoding: chunks and bytes of the current file groups of an incetl_cow table';

-- Incremental query: rows whose current version (as of until_commit, or
-- now) was written by a commit after since_commit.  Deleted rows are not
-- reported.  Call as incetl.changes(NULL::my_table, 42).
CREATE FUNCTION incetl.changes(tbl anyelement, since_commit bigint,
                               until_commit bigint DEFAULT NULL)
RETURNS SETOF anyelement
AS 'MODULE_PATHNAME', 'incetl_cow_changes'
LANGUAGE C CALLED ON NULL INPUT STABLE;

-- Time travel: the table as it was right after commit_id, while the
-- versions are retained (retain_commits).
CREATE FUNCTION incetl.as_of(tbl anyelement, commit_id bigint)
RETURNS SETOF anyelement
AS 'MODULE_PATHNAME', 'incetl_cow_as_of'
LANGUAGE C CALLED ON NULL INPUT STABLE;

-- The newest commit id the caller's snapshot sees: the exact upper bound
-- for an incremental read.
CREATE FUNCTION incetl.latest_commit(tbl regclass)
RETURNS bigint
AS 'MODULE_PATHNAME', 'incetl_cow_latest_commit'
LANGUAGE C STRICT STABLE;

-- What the current transaction wrote to a table so far (every finished
-- statement is flushed): new keys, replaced rows, deleted rows, and the
-- commit id of its last write (NULL when none).
CREATE FUNCTION incetl.cow_write_counts(tbl regclass,
    OUT rows_inserted bigint, OUT rows_updated bigint, OUT rows_deleted bigint,
    OUT last_commit_id bigint)
AS 'MODULE_PATHNAME', 'incetl_cow_write_counts'
LANGUAGE C STRICT VOLATILE;

CREATE FUNCTION incetl.verify(tbl regclass)
RETURNS TABLE (file_group_id bigint, commit_id bigint, problem text)
AS 'MODULE_PATHNAME', 'incetl_cow_verify'
LANGUAGE C STRICT VOLATILE;
COMMENT ON FUNCTION incetl.verify(regclass) IS
    'checks every current file group of an incetl_cow table (checksums, key order, metadata); returns the problems found';

-- File groups read and skipped (by min/max), and column chunks
-- decompressed, by the last sequential scan of an incetl_cow table in this
-- session.
CREATE FUNCTION incetl.cow_last_scan(OUT file_groups_read bigint,
                                     OUT file_groups_skipped bigint,
                                     OUT column_chunks_decoded bigint)
AS 'MODULE_PATHNAME', 'incetl_cow_last_scan'
LANGUAGE C STRICT VOLATILE;

-- Column chunks wholly decoded and column blocks decompressed by this
-- session so far (scans, index fetches, merges alike): an index lookup
-- decompresses about one block per column, not the whole chunk.
CREATE FUNCTION incetl.cow_decode_counts(OUT column_chunks_decoded bigint,
                                         OUT column_blocks_decoded bigint)
AS 'MODULE_PATHNAME', 'incetl_cow_decode_counts'
LANGUAGE C STRICT VOLATILE;

-- ------------------------------------------------------------------------
-- The change feed (0.3).  Per commit in (since_commit, until_commit]: one
-- row per key the commit changed, with the operation (insert, update,
-- delete), the row before (NULL for an insert) and after (NULL for a
-- delete).  net_changes: one row per key changed in the range, its state
-- at since_commit against its state at until_commit (what a downstream
-- upsert needs).  Call as incetl.table_changes(NULL::my_table, 42).
-- ------------------------------------------------------------------------
CREATE FUNCTION incetl.table_changes(tbl anyelement, since_commit bigint,
                                     until_commit bigint DEFAULT NULL)
RETURNS TABLE (commit_id bigint, operation text, before anyelement, after anyelement)
AS 'MODULE_PATHNAME', 'incetl_cow_table_changes'
LANGUAGE C CALLED ON NULL INPUT STABLE;
COMMENT ON FUNCTION incetl.table_changes(anyelement, bigint, bigint) IS
    'change feed of an incetl_cow table: per commit and key, the operation and the row before and after';

CREATE FUNCTION incetl.net_changes(tbl anyelement, since_commit bigint,
                                   until_commit bigint DEFAULT NULL)
RETURNS TABLE (commit_id bigint, operation text, before anyelement, after anyelement)
AS 'MODULE_PATHNAME', 'incetl_cow_net_changes'
LANGUAGE C CALLED ON NULL INPUT STABLE;
COMMENT ON FUNCTION incetl.net_changes(anyelement, bigint, bigint) IS
    'net change per key of an incetl_cow table over a range of commits: the row at since_commit and at until_commit';

-- ------------------------------------------------------------------------
-- Savepoints and restore (0.3), Hudi's savepoint/restore.  A savepoint
-- pins a commit: cleaning keeps every version as_of() of it reads.
-- ------------------------------------------------------------------------
CREATE TABLE incetl.cow_savepoint (
    storage_id  bigint NOT NULL,
    commit_id   bigint NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    created_by  name NOT NULL DEFAULT current_user,
    comment     text,
    PRIMARY KEY (storage_id, commit_id)
);
COMMENT ON TABLE incetl.cow_savepoint IS
    'commits of incetl_cow tables pinned by incetl.savepoint(): cleaning keeps what as_of() of them reads';
REVOKE ALL ON incetl.cow_savepoint FROM PUBLIC;

CREATE FUNCTION incetl.savepoint(tbl regclass, commit_id bigint DEFAULT NULL,
                                 comment text DEFAULT NULL)
RETURNS bigint
AS 'MODULE_PATHNAME', 'incetl_cow_savepoint'
LANGUAGE C CALLED ON NULL INPUT VOLATILE;
COMMENT ON FUNCTION incetl.savepoint(regclass, bigint, text) IS
    'pin a commit of an incetl_cow table (the newest when NULL) so that cleaning keeps it readable; returns the commit id';

CREATE FUNCTION incetl.savepoints(tbl regclass)
RETURNS TABLE (commit_id bigint, committed_at timestamptz, operation text,
               created_at timestamptz, created_by name, comment text)
AS 'MODULE_PATHNAME', 'incetl_cow_savepoints'
LANGUAGE C STRICT STABLE;
COMMENT ON FUNCTION incetl.savepoints(regclass) IS 'the savepoints of an incetl_cow table';

CREATE FUNCTION incetl.remove_savepoint(tbl regclass, commit_id bigint)
RETURNS boolean
AS 'MODULE_PATHNAME', 'incetl_cow_remove_savepoint'
LANGUAGE C CALLED ON NULL INPUT VOLATILE;
COMMENT ON FUNCTION incetl.remove_savepoint(regclass, bigint) IS
    'remove a savepoint of an incetl_cow table; returns false when there was none';

CREATE FUNCTION incetl.restore(tbl regclass, commit_id bigint)
RETURNS bigint
AS 'MODULE_PATHNAME', 'incetl_cow_restore'
LANGUAGE C CALLED ON NULL INPUT VOLATILE;
COMMENT ON FUNCTION incetl.restore(regclass, bigint) IS
    'make the content of an incetl_cow table that of an earlier commit, as one new restore commit; returns its id';

-- ==== incetl_cow end ====
