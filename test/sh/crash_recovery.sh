#!/usr/bin/env bash
# test/sh/crash_recovery.sh -- a crash leaves a pipeline in its old state or
# its new one, never half, and the next run applies the batch exactly once.
#
# Its own cluster (fsync = on, so what a commit promises is on disk):
#   (a) a committed run, then kill -9 of the whole server, restart: the target
#       rows, the watermark and the SUCCESS row are all there, unchanged;
#   (b) a run killed half-way through its write (a slow trigger on the target
#       lets us wait until 500 of its 2000 rows are written), kill -9 of the
#       server, restart: target, watermark and run_log are exactly as before
#       the run; the next run writes the 2000 rows once (target = source);
#   (c) the same, but kill -9 of only the backend running incetl_run (the
#       postmaster then resets every backend and runs crash recovery).

source "$(dirname "${BASH_SOURCE[0]}")/helpers.bash"

CDIR=$(mktemp -d "${INCETL_TMP:-/tmp}/crash_recovery.XXXXXX")/cluster
PORT=54334
DB=incetl_crash
RUN_PID=""

incetl_on_exit() {
    local rc=$1
    if [ -n "$RUN_PID" ]; then kill "$RUN_PID" 2>/dev/null; wait "$RUN_PID" 2>/dev/null; fi
    cluster_exit "$rc"
}

incetl_cluster_init "$CDIR" "$PORT" postgres "fsync = on"
incetl_cluster_start "$CDIR"
incetl_cluster_export "$CDIR"
expect "the cluster runs with fsync on" on "$(q postgres "SHOW fsync")"
createdb "$DB"

(psql -X -q -v ON_ERROR_STOP=1 -d "$DB" <<'SQL'
CREATE EXTENSION incetl;
CREATE TABLE events (id bigint PRIMARY KEY, payload text NOT NULL);
CREATE TABLE events_copy (id bigint PRIMARY KEY, payload text NOT NULL);

-- A slow write we can watch from outside: each row the run inserts into the
-- target takes a number from a sequence (not transactional: other sessions
-- see it move) and sleeps 10 ms.  Enabled only for the runs we kill.
CREATE SEQUENCE write_progress;
CREATE FUNCTION slow_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM nextval('public.write_progress');
    PERFORM pg_sleep(0.01);
    RETURN NEW;
END $$;
CREATE TRIGGER slow_insert BEFORE INSERT ON events_copy
    FOR EACH ROW EXECUTE FUNCTION slow_insert();
ALTER TABLE events_copy DISABLE TRIGGER slow_insert;

SELECT incetl.create_pipeline(name => 'ev', source => 'events',
    watermark_column => 'id', target => 'events_copy', record_key => 'id');
SQL
) >/dev/null

add_events() {   # add_events FROM TO
    q "$DB" "INSERT INTO events SELECT g, md5(g::text) FROM generate_series($1, $2) AS g"
}

# Everything a run changes, as text: the target, the watermark, the run log.
pipeline_state() {
    q "$DB" "SELECT count(*), md5(coalesce(string_agg(id || ':' || payload, ',' ORDER BY id), ''))
             FROM events_copy"
    q "$DB" "SELECT w.* FROM incetl.watermarks AS w"
    q "$DB" "SELECT l.* FROM incetl.run_log AS l ORDER BY run_id"
}

expect_state() {   # expect_state WHAT SAVED_STATE
    local now
    now=$(pipeline_state)
    if [ "$now" != "$2" ]; then
        printf 'FAIL: %s\n' "$1" >&2
        diff <(printf '%s\n' "$2") <(printf '%s\n' "$now") | sed 's/^/  /' >&2
        exit 1
    fi
    printf 'ok  %s\n' "$1"
}

# The run's next batch arrives exactly once: target = source, and the log
# row says every row was read and inserted, none updated.
expect_exactly_once() {   # expect_exactly_once ROWS FROM_WM TO_WM
    expect "the next run writes the $1 rows" "$1" "$(q "$DB" "SELECT incetl_run('ev')")"
    expect "its log row: SUCCESS, $2 -> $3, $1 read, $1 inserted, 0 updated" \
        "SUCCESS|$2|$3|$1|$1|0" \
        "$(q "$DB" "SELECT status, last_run_timestamp, current_run_timestamp, records_read,
                           records_inserted, records_updated
                    FROM incetl.run_log ORDER BY run_id DESC LIMIT 1")"
    expect "target = source ($3 rows, none missing, none extra)" "$3|0|0" \
        "$(q "$DB" "SELECT (SELECT count(*) FROM events_copy),
                           (SELECT count(*) FROM (TABLE events EXCEPT TABLE events_copy) AS m),
                           (SELECT count(*) FROM (TABLE events_copy EXCEPT TABLE events) AS x)")"
    expect "the watermark is $3" "$3" "$(q "$DB" "SELECT watermark FROM incetl.watermarks")"
}

# Start the slow run in the background and wait until it has written 500 rows
# of its batch (uncommitted).  Prints nothing; sets RUN_PID.
start_slow_run_and_wait() {
    q "$DB" "ALTER TABLE events_copy ENABLE TRIGGER slow_insert;
             SELECT setval('write_progress', 1, false)" >/dev/null
    psql -X -At -q -v ON_ERROR_STOP=1 -d "$DB" -c "SELECT incetl_run('ev')" \
        >"$CDIR/run.out" 2>&1 &
    RUN_PID=$!
    wait_for "the run is active and has written 500 rows" 30 "$DB" \
        "SELECT EXISTS (SELECT FROM pg_stat_activity
                        WHERE query = 'SELECT incetl_run(''ev'')' AND state = 'active')
                AND (SELECT last_value >= 500 AND is_called FROM write_progress)"
}

# The killed psql ends with an error; reap it.  (A killed run leaves no
# run_log row at all, not even FAILED: nobody is left to write it.)
reap_run() {
    local rc=0
    wait "$RUN_PID" || rc=$?
    RUN_PID=""
    expect "the killed run's psql failed (exit 2: connection lost)" 2 "$rc"
}

restart_after_crash() {   # restart_after_crash LABEL
    incetl_cluster_start "$CDIR" 2>/dev/null   # pg_ctl: "another server might be running"
    expect_match "$1 the restarted server ran crash recovery" 'redo starts at' \
        "$(cat "$CDIR/server.log")"
}

# --------------------------------------------------------------------------
# (a) a committed run survives kill -9 of the server
# --------------------------------------------------------------------------
add_events 1 1000
expect "(a) the run writes 1000 rows" 1000 "$(q "$DB" "SELECT incetl_run('ev')")"
state=$(pipeline_state)
incetl_cluster_crash "$CDIR"
: >"$CDIR/server.log"
restart_after_crash "(a)"
expect_state "(a) after the crash: target, watermark and run_log as committed" "$state"
expect "(a) ... that is 1000 rows, watermark 1000, one SUCCESS row" "1000|1000|1|SUCCESS" \
    "$(q "$DB" "SELECT (SELECT count(*) FROM events_copy),
                       (SELECT watermark FROM incetl.watermarks),
                       (SELECT count(*) FROM incetl.run_log),
                       (SELECT status FROM incetl.run_log)")"

# --------------------------------------------------------------------------
# (b) kill -9 of the server in the middle of a run
# --------------------------------------------------------------------------
add_events 1001 3000
state=$(pipeline_state)
start_slow_run_and_wait
incetl_cluster_crash "$CDIR"
reap_run
: >"$CDIR/server.log"
restart_after_crash "(b)"
expect_state "(b) after the crash: target, watermark and run_log exactly as before the run" "$state"
q "$DB" "ALTER TABLE events_copy DISABLE TRIGGER slow_insert"
expect_exactly_once 2000 1000 3000

# --------------------------------------------------------------------------
# (c) kill -9 of only the backend running incetl_run
# --------------------------------------------------------------------------
add_events 3001 5000
state=$(pipeline_state)
: >"$CDIR/server.log"
start_slow_run_and_wait
pid=$(q "$DB" "SELECT pid FROM pg_stat_activity WHERE query = 'SELECT incetl_run(''ev'')'")
expect_match "(c) found the backend running incetl_run" '^[0-9]+$' "$pid"
kill -9 "$pid"
reap_run
wait_for "(c) the postmaster reinitialized and accepts connections again" 60 postgres "SELECT true"
expect_match "(c) ... after terminating every backend and running recovery" \
    'terminated by signal 9.*all server processes terminated; reinitializing.*redo starts at' \
    "$(tr '\n' ' ' <"$CDIR/server.log")"
expect_state "(c) after the backend crash: target, watermark and run_log exactly as before the run" "$state"
q "$DB" "ALTER TABLE events_copy DISABLE TRIGGER slow_insert"
expect_exactly_once 2000 3000 5000

echo "crash_recovery: all assertions passed"
