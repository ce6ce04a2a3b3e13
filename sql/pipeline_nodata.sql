-- Consecutive NO_DATA runs of a pipeline share one run_log row
-- (src/pipeline/run_log.c, MergeNoData): the row keeps the streak's lower
-- bound (last_run_timestamp) and takes each run's started_at, finished_at,
-- upper bound and processing time; its note counts the runs and keeps
-- when the first started.  Anything else in between starts a new row.
CREATE SCHEMA pn;
CREATE SEQUENCE pn.seq;
CREATE TABLE pn.src (id int PRIMARY KEY, val text,
                     version bigint NOT NULL DEFAULT nextval('pn.seq'));
INSERT INTO pn.src (id, val) SELECT g, 'v' || g FROM generate_series(1, 3) AS g;
SELECT incetl.create_pipeline('pn_int', 'pn.src', 'version', 'pn.dst', 'id');
SELECT incetl_run('pn_int');
SELECT incetl_run('pn_int');
SELECT run_id AS streak_id, started_at AS first_start
FROM incetl.run_log WHERE pipeline_name = 'pn_int' ORDER BY run_id DESC LIMIT 1 \gset
SELECT incetl_run('pn_int');
SELECT incetl_run('pn_int');
-- one SUCCESS row and one NO_DATA row standing for three runs
SELECT status, last_run_timestamp, current_run_timestamp, records_read,
       regexp_replace(note, 'started at .*', 'started at ...') AS note
FROM incetl.run_log WHERE pipeline_name = 'pn_int' ORDER BY run_id;
SELECT run_id = :streak_id AS same_row,
       substring(note, 'the first started at (.*)$')::timestamptz = :'first_start' AS first_start_kept,
       started_at > :'first_start' AS started_at_is_the_last_run,
       finished_at >= started_at AS finished_after_start,
       processing_time_seconds < 60 AS one_run_time
FROM incetl.run_log WHERE pipeline_name = 'pn_int' ORDER BY run_id DESC LIMIT 1;
-- the watermark points at it
SELECT w.run_id = :streak_id AS watermark_run FROM incetl.watermarks AS w
WHERE pipeline_name = 'pn_int';
-- pipeline_status: the streak is one run of the 14 days, NO_DATA the last
SELECT last_status, runs_14d, last_run_at > :'first_start' AS last_run_at_is_the_last_run
FROM incetl.pipeline_status WHERE pipeline_name = 'pn_int';

-- new rows: a SUCCESS row, then a new streak
INSERT INTO pn.src (id, val) VALUES (4, 'v4');
SELECT incetl_run('pn_int'), incetl_run('pn_int'), incetl_run('pn_int');
SELECT status, last_run_timestamp, current_run_timestamp, records_read,
       regexp_replace(note, 'started at .*', 'started at ...') AS note
FROM incetl.run_log WHERE pipeline_name = 'pn_int' ORDER BY run_id;

-- a skipped run (paused) ends the streak; so does a full refresh
SELECT incetl.pause_pipeline('pn_int');
SELECT incetl_run('pn_int');
SELECT incetl.resume_pipeline('pn_int');
SELECT incetl_run('pn_int'), incetl_run('pn_int');
SELECT incetl_run('pn_int', full_refresh => true);
SELECT incetl_run('pn_int');
SELECT status, full_refresh, regexp_replace(note, 'started at .*', 'started at ...') AS note
FROM incetl.run_log WHERE pipeline_name = 'pn_int' ORDER BY run_id OFFSET 3;

-- a timestamp watermark: the bound moves with every run, the row follows
-- it and keeps the streak's lower bound
CREATE TABLE pn.ts (id int PRIMARY KEY, updated_at timestamptz NOT NULL);
INSERT INTO pn.ts VALUES (1, now() - interval '1 hour');
SELECT incetl.create_pipeline('pn_ts', 'pn.ts', 'updated_at', 'pn.ts_dst', 'id');
SELECT incetl_run('pn_ts');
SELECT current_run_timestamp AS success_upto FROM incetl.run_log
WHERE pipeline_name = 'pn_ts' ORDER BY run_id DESC LIMIT 1 \gset
SELECT incetl_run('pn_ts');
SELECT incetl_run('pn_ts');
SELECT incetl_run('pn_ts');
SELECT count(*) AS rows, count(*) FILTER (WHERE status = 'NO_DATA') AS no_data_rows
FROM incetl.run_log WHERE pipeline_name = 'pn_ts';
SELECT l.last_run_timestamp = :'success_upto' AS lower_bound_kept,
       l.current_run_timestamp = w.watermark AS upper_bound_is_the_watermark,
       l.current_run_timestamp::timestamptz > :'success_upto'::timestamptz AS bound_moved,
       split_part(l.note, ' ', 1) AS runs
FROM incetl.run_log AS l JOIN incetl.watermarks AS w USING (pipeline_name)
WHERE l.pipeline_name = 'pn_ts' ORDER BY l.run_id DESC LIMIT 1;

-- The streak's row is found through the pipeline's index and updated in
-- place (run_log.c, UpdateRunLogRow): the same row, no new one.
CREATE VIEW pn.last AS
SELECT run_id, status, current_run_timestamp,
       regexp_replace(note, 'started at .*', 'started at ...') AS note
FROM incetl.run_log WHERE pipeline_name = 'pn_int' ORDER BY run_id DESC LIMIT 1;
SELECT count(*) AS rows_before, max(run_id) AS streak_id
FROM incetl.run_log WHERE pipeline_name = 'pn_int' \gset
BEGIN;
SELECT incetl_run('pn_int'), incetl_run('pn_int'), incetl_run('pn_int');
COMMIT;
SELECT count(*) - :rows_before AS new_rows FROM incetl.run_log WHERE pipeline_name = 'pn_int';
SELECT run_id = :streak_id AS same_row, status, current_run_timestamp, note FROM pn.last;

-- a row changed by hand is no streak: the next empty run starts a new one
UPDATE incetl.run_log SET note = 'checked by hand' WHERE run_id = :streak_id;
SELECT incetl_run('pn_int'), incetl_run('pn_int');
SELECT run_id > :streak_id AS new_row, status, current_run_timestamp, note FROM pn.last;
SELECT run_id AS streak_id FROM pn.last \gset
UPDATE incetl.run_log SET note = 'many consecutive NO_DATA runs, the first started at noon'
WHERE run_id = :streak_id;
SELECT incetl_run('pn_int');
SELECT run_id > :streak_id AS new_row, status, current_run_timestamp, note FROM pn.last;
SELECT run_id AS streak_id FROM pn.last \gset

-- with a trigger on run_log (somebody's audit), the streak goes through
-- an UPDATE statement, which fires it; the counting is the same
CREATE TABLE pn.audit (run_id bigint, note text);
CREATE FUNCTION pn.audit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO pn.audit VALUES (NEW.run_id, NEW.note);
    RETURN NEW;
END $$;
CREATE TRIGGER pn_audit AFTER UPDATE ON incetl.run_log
    FOR EACH ROW EXECUTE FUNCTION pn.audit();
SELECT incetl_run('pn_int'), incetl_run('pn_int');
SELECT run_id = :streak_id AS same_row, status, current_run_timestamp, note FROM pn.last;
SELECT run_id = :streak_id AS same_row,
       regexp_replace(note, 'started at .*', 'started at ...') AS note
FROM pn.audit ORDER BY note;
DROP TRIGGER pn_audit ON incetl.run_log;
SELECT incetl_run('pn_int');
SELECT run_id = :streak_id AS same_row, status, current_run_timestamp, note FROM pn.last;
SELECT count(*) AS audited FROM pn.audit;

SELECT incetl.drop_pipeline('pn_int'), incetl.drop_pipeline('pn_ts');
DROP SCHEMA pn CASCADE;
