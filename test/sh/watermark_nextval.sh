#!/usr/bin/env bash
# test/sh/watermark_nextval.sh -- integer watermarks lose no row to ids
# allocated with nextval() before the INSERT (issue #9)
#
# ORMs allocate an id with nextval() in one statement and insert the row in
# a later statement of the same transaction.  Between the two, the
# transaction holds an id but no lock on the table; an integer watermark
# bound computed as "the largest committed id, then wait for the writers of
# the table" passes that id, and the row is lost when it commits.
#
# 8 pgbench writers, for 15 s, each run transactions of
#     BEGIN; SELECT nextval('src_id_seq'); <pause 0-100 ms>;
#     INSERT INTO src (id, ...) VALUES (<that id>, ...); COMMIT;
# while a runner fires incetl_run every 100 ms on a pipeline whose
# watermark column is src.id.  After the writers stop, two final runs.
# Then:
#   lost    = source ids the target does not have          must be 0
#   extra   = target ids the source does not have          must be 0
#   doubled = rows read by the runs beyond the target's
#             distinct ids (a row applied by two runs)     must be 0
# and the runs during the writers must have read most rows (a bound that
# never moves would pass the comparison by doing everything at the end).
#
# Before the fix (bound = largest committed id, waiting only for the
# table's writers) this lost about 10 % of the rows.
#
# Runs as the harness runs it (see test/run_tests.sh): bash, a superuser,
# PGHOST/PGPORT/PGUSER pointing at a running cluster that preloads incetl.
# Creates and drops its own database.  About 20 s.
#
# Knobs (for experiments; the defaults are the test):
#   WM_SECONDS (15)  WM_CLIENTS (8)  WM_PAUSE_MS (100)  WM_RUN_EVERY_MS (100)

source "$(dirname "${BASH_SOURCE[0]}")/race.bash"

SECONDS_WRITING=${WM_SECONDS:-15}
CLIENTS=${WM_CLIENTS:-8}
PAUSE_MS=${WM_PAUSE_MS:-100}
RUN_EVERY_MS=${WM_RUN_EVERY_MS:-100}

race_setup wm_nextval
q -o /dev/null -f - <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION incetl;
CREATE SEQUENCE src_id_seq;          -- CACHE 1, the default
CREATE TABLE src (
    id    bigint PRIMARY KEY DEFAULT nextval('src_id_seq'),
    pause int NOT NULL,
    by_pid int NOT NULL DEFAULT pg_backend_pid());
ALTER SEQUENCE src_id_seq OWNED BY src.id;
CREATE TABLE tgt (id bigint PRIMARY KEY, pause int NOT NULL, by_pid int NOT NULL);
INSERT INTO src (pause) SELECT 0 FROM generate_series(1, 1000);
SELECT incetl.create_pipeline(name => 'p', source => 'public.src',
                              watermark_column => 'id', target => 'public.tgt',
                              record_key => 'id', max_retries => 3);
SELECT incetl_run('p');
SQL

# the id is taken first, the row inserted after a pause, in one transaction
cat >"$WORK/writer.sql" <<SQL
\set pause random(0, $PAUSE_MS)
BEGIN;
SELECT nextval('src_id_seq') AS id \gset
\sleep :pause ms
INSERT INTO src (id, pause) VALUES (:id, :pause);
COMMIT;
SQL

cat >"$WORK/runner.sql" <<SQL
SELECT incetl_run('p');
\sleep $RUN_EVERY_MS ms
SQL

incetl_log "$CLIENTS writers (nextval, pause 0-$PAUSE_MS ms, insert) for ${SECONDS_WRITING}s, a run every $RUN_EVERY_MS ms"
race_run "" "$SECONDS_WRITING" "$WORK/writers.log" "$WORK/runner.log"

last_loop_run=$(q -c "SELECT max(run_id) FROM incetl.run_log")
q -o /dev/null -c "SELECT incetl_run('p')"
q -o /dev/null -c "SELECT incetl_run('p')"

read -r n_src n_tgt lost extra read_all read_loop read_end runs failed tx <<<"$(q -F ' ' <<SQL
SELECT (SELECT count(*) FROM src),
       (SELECT count(*) FROM tgt),
       (SELECT count(*) FROM src WHERE id NOT IN (SELECT id FROM tgt)),
       (SELECT count(*) FROM tgt WHERE id NOT IN (SELECT id FROM src)),
       (SELECT sum(records_read) FROM incetl.run_log WHERE status = 'SUCCESS'),
       (SELECT coalesce(sum(records_read), 0) FROM incetl.run_log
         WHERE status = 'SUCCESS' AND run_id > (SELECT min(run_id) FROM incetl.run_log)
           AND run_id <= $last_loop_run),
       (SELECT coalesce(sum(records_read), 0) FROM incetl.run_log
         WHERE status = 'SUCCESS' AND run_id > $last_loop_run),
       (SELECT count(*) FROM incetl.run_log WHERE status IN ('SUCCESS', 'NO_DATA')),
       (SELECT count(*) FROM incetl.run_log WHERE status = 'FAILED'),
       (SELECT count(*) FROM src WHERE pause > 0 OR id > 1000)
SQL
)"
doubled=$((read_all - n_tgt))   # tgt.id is its primary key
echo "   source $n_src rows ($tx by the writers), target $n_tgt rows; $runs runs ($failed attempts failed and were retried)"
echo "   rows read by the runs during the writers: $read_loop, by the two final runs: $read_end"
echo "   lost $lost, extra $extra, doubled $doubled"

if [ "$lost" -ne 0 ] || [ "$extra" -ne 0 ]; then
    echo "   a sample of the lost rows, with the run whose range passed them:"
    q -F ' ' -c "
        SELECT s.id, s.pause, r.run_id, r.last_run_timestamp, r.current_run_timestamp
        FROM src AS s
        LEFT JOIN LATERAL (
            SELECT run_id, last_run_timestamp, current_run_timestamp
            FROM incetl.run_log
            WHERE status IN ('SUCCESS', 'NO_DATA')
              AND s.id <= current_run_timestamp::bigint
            ORDER BY run_id LIMIT 1) AS r ON true
        WHERE s.id NOT IN (SELECT id FROM tgt) ORDER BY s.id LIMIT 8"
fi

status=0
[ "$tx" -ge 200 ] || { echo "FAIL: only $tx writer transactions: the load did not run" >&2; status=1; }
[ "$runs" -ge 20 ] || { echo "FAIL: only $runs runs during the load" >&2; status=1; }
if [ "$lost" -ne 0 ] || [ "$extra" -ne 0 ] || [ "$n_src" -ne "$n_tgt" ]; then
    echo "FAIL: the target differs from the source: $lost rows lost, $extra extra" >&2
    status=1
fi
if [ "$doubled" -ne 0 ]; then
    echo "FAIL: the runs read $read_all rows for $n_tgt target rows: $doubled applied twice" >&2
    status=1
fi
if [ "$read_end" -ge "$read_loop" ]; then
    echo "FAIL: the runs during the writers read $read_loop rows, the final runs $read_end: the bound did not advance while writers were active" >&2
    status=1
fi
[ "$status" -eq 0 ] && echo "PASS: no row lost, none applied twice, with ids taken by nextval() before the INSERT"
exit "$status"
