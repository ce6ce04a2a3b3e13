#!/usr/bin/env bash
# test/sh/crash_mid_run.sh -- a crash in the middle of a run leaves the old
# state, and the next run applies the delta exactly once (SPEC 2, step 7)
#
# The run is caught between writing the target and committing: another
# session holds the pipeline's watermark row locked, so the run, which must
# record the new watermark in the same transaction as the target write,
# waits there.  Then the server is killed with SIGKILL.  After crash recovery
# the target, the watermark and the run log must be exactly as before the
# run; the next run must bring the target level with the source.
#
# Runs on a cluster of its own (test/lib.sh), as run_tests.sh's shell tests do.

set -euo pipefail
# shellcheck source=test/lib.sh
source "$INCETL_TEST_LIB"

node=$INCETL_TMP/node
incetl_cluster_init "$node" "$INCETL_TEST_PORT" postgres
incetl_cluster_start "$node"

q() { incetl_cluster_psql "$node" -tA "$@"; }
expect() {   # expect WHAT GOT WANT
    if [ "$2" != "$3" ]; then
        echo "FAIL: $1: got '$2', want '$3'"
        exit 1
    fi
    echo "ok: $1 = $3"
}

q <<'SQL'
CREATE EXTENSION incetl;
CREATE TABLE public.src (
    id         bigint PRIMARY KEY,
    v          text,
    updated_at timestamptz NOT NULL
);
INSERT INTO public.src
SELECT g, 'v' || g, now() - interval '1 hour' + g * interval '1 ms'
FROM generate_series(1, 1000) AS g;
SELECT incetl.create_pipeline(name => 'p', source => 'public.src',
                              watermark_column => 'updated_at',
                              target => 'public.tgt', record_key => 'id',
                              precombine => 'updated_at');
SELECT incetl_run('p');
SQL

expect "rows after the first run" "$(q -c 'SELECT count(*) FROM public.tgt')" 1000
wm_before=$(q -c "SELECT watermark FROM incetl.watermarks WHERE pipeline_name = 'p'")
ok_runs_before=$(q -c "SELECT count(*) FROM incetl.run_log
                       WHERE pipeline_name = 'p' AND status = 'SUCCESS'")
[ -n "$wm_before" ] || { echo "FAIL: no watermark after the first run"; exit 1; }

# The delta: 100 changed rows, 200 new ones.
q <<'SQL'
UPDATE public.src SET v = v || '-changed', updated_at = now() WHERE id % 10 = 0;
INSERT INTO public.src
SELECT g, 'v' || g, now() FROM generate_series(1001, 1200) AS g;
SQL

# Hold the watermark row, start the run, wait until it waits on that lock.
coproc LOCKER { incetl_cluster_psql "$node" -tA 2>&1; }
echo "BEGIN; SELECT 'locked' FROM incetl.watermarks WHERE pipeline_name = 'p' FOR UPDATE;" \
    >&"${LOCKER[1]}"
read -r -t 30 line <&"${LOCKER[0]}"
expect "watermark row held by another session" "$line" locked

incetl_cluster_psql "$node" -tA -c "SELECT incetl_run('p')" >"$INCETL_TMP/run.out" 2>&1 &
run_pid=$!

blocked=""
for _ in $(seq 1 100); do
    n=$(q -c "SELECT count(*) FROM pg_stat_activity
              WHERE query LIKE 'SELECT incetl_run(%' AND wait_event_type = 'Lock'")
    if [ "$n" = 1 ]; then blocked=1; break; fi
    sleep 0.2
done
if [ -z "$blocked" ]; then
    echo "FAIL: the run never waited on the watermark row; it printed:"
    cat "$INCETL_TMP/run.out"
    exit 1
fi
echo "ok: the run waits on the watermark row, nothing committed"
# For the record: had the run written the target already?  (Either way the
# crash must leave the old state; "yes" makes the test the stronger one.)
wrote=$(q -c "SELECT count(*) FROM pg_locks AS l JOIN pg_stat_activity AS a USING (pid)
              WHERE a.query LIKE 'SELECT incetl_run(%'
                AND l.relation = 'public.tgt'::regclass AND l.mode = 'RowExclusiveLock'")
echo "info: the run holds a write lock on the target: $([ "$wrote" = 1 ] && echo yes || echo no)"

incetl_cluster_crash "$node"
wait "$run_pid" || true
kill "$LOCKER_PID" 2>/dev/null || true
wait "$LOCKER_PID" 2>/dev/null || true

incetl_cluster_start "$node"
grep -q 'database system was not properly shut down' "$node/server.log" ||
    { echo "FAIL: no crash recovery in the server log"; exit 1; }
echo "ok: crash recovery ran"

expect "rows after the crash" "$(q -c 'SELECT count(*) FROM public.tgt')" 1000
expect "changed rows in the target after the crash" \
    "$(q -c "SELECT count(*) FROM public.tgt WHERE v LIKE '%-changed'")" 0
expect "watermark after the crash" \
    "$(q -c "SELECT watermark FROM incetl.watermarks WHERE pipeline_name = 'p'")" "$wm_before"
expect "successful runs after the crash" \
    "$(q -c "SELECT count(*) FROM incetl.run_log
             WHERE pipeline_name = 'p' AND status = 'SUCCESS'")" "$ok_runs_before"

# The next run applies the delta once: 300 rows written, the target equals
# the source.
expect "rows written by the run after the crash" "$(q -c "SELECT incetl_run('p')")" 300
expect "target rows missing or different from the source" \
    "$(q -c 'SELECT count(*) FROM (SELECT id, v, updated_at FROM public.src
                                   EXCEPT ALL
                                   SELECT id, v, updated_at FROM public.tgt) AS d')" 0
expect "rows in the target" "$(q -c 'SELECT count(*) FROM public.tgt')" 1200
expect "rows written by one more run" "$(q -c "SELECT incetl_run('p')")" 0

incetl_cluster_stop "$node"
echo "crash_mid_run: all checks passed"
