#!/usr/bin/env bash
# test/bench/pgincr_bench.sh -- incetl_run against pg_incremental's per-run
# work, on the same cluster (`make bench-pgincr`; not part of `make test`)
#
# pg_incremental (github.com/crunchydata/pg_incremental) cannot be
# installed here (no network, not packaged), so its per-run work is
# reproduced by hand, in SQL, from its source (src/sequence.c,
# ExecuteSequenceRangePipeline): a sequence pipeline run
#   1. reads its state: SELECT last_processed_sequence_number + 1,
#      pg_sequence_last_value(sequence_name) FROM incremental.sequence_pipelines
#      WHERE pipeline_name = $1 FOR UPDATE  (the pipeline row locked);
#   2. when that range is empty, returns ("no rows to process");
#   3. otherwise waits for the writers of the source that may hold smaller
#      sequence values (WaitForLockers(ShareLock): nobody writes during the
#      benchmark, so nothing to wait for, and it is left out), records the
#      range's end (UPDATE ... SET last_processed_sequence_number = $2), and
#      executes the user's command with $1/$2 bound, through SPI, unprepared.
# Here that is pgi_execute_pipeline(name), a PL/pgSQL function over a
# pgi_sequence_pipelines table, the command run by EXECUTE ... USING; the
# command is the one a pg_incremental user writes for a keyed copy:
#   INSERT INTO target SELECT ... FROM source WHERE seq BETWEEN $1 AND $2
#   ON CONFLICT (id) DO UPDATE SET ...
# (pg_incremental does not dedup the batch: the user's command has to be
# right; the source's primary key makes it so here).  incetl does the same
# work through a pipeline with watermark column seq, record key id, into an
# identical heap target, writing a run_log row and its watermark.
#
# Measures (client-side \timing, median of BENCH_REPS; both targets empty
# and the same CHECKPOINT before each backlog copy):
#   (1) copying a backlog of BENCH_ROWS rows (1 M; the lead's figure) into
#       the empty keyed heap target, each side in its own transaction;
#   (2) an empty run (nothing new), BENCH_EMPTY_RUNS calls in one session
#       after a warm-up, median;
#   (3) the same empty run's CPU time in the backend (user + system, from
#       /proc/<pid>/stat, Linux only) over BENCH_CPU_RUNS calls in one
#       session, per call: on a shared machine elapsed times swing with
#       the load, CPU time much less;
#   (4) an empty run in a new session each time, as pg_cron runs a job (a
#       new background worker, or a new connection, per run): pgbench -C,
#       BENCH_NEWSESSION_SECONDS (5) a run, BENCH_REPS runs of each side
#       alternating, the median of their average latencies (connection
#       included, the same for both sides).  pg_incremental's side is its
#       empty run's one statement (step 1 above, in a transaction of its
#       own), not pgi_execute_pipeline: pg_incremental is written in C, and
#       a PL/pgSQL function's first call in a session loads PL/pgSQL and
#       compiles the function, which would not be pg_incremental's cost.
# The targets must be equal after (1).  Prints one table with the ratio
# incetl / pg_incremental.
#
# Knobs: INCETL_BENCH_PORT (54337), INCETL_BENCH_DIR
#        (/tmp/incetl-pgincr-<user>), BENCH_ROWS (1000000), BENCH_REPS (3),
#        BENCH_EMPTY_RUNS (50), BENCH_CPU_RUNS (2000; 0 leaves (3) out),
#        BENCH_NEWSESSION_SECONDS (5; 0 leaves (4) out),
#        BENCH_KEEP=1 leaves the cluster running.

set -euo pipefail
export LC_ALL=C

SRC_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=test/lib.sh
source "$SRC_DIR/test/lib.sh"

PORT=${INCETL_BENCH_PORT:-54337}
RUNNER=$(incetl_runner_user)
BENCH_DIR=${INCETL_BENCH_DIR:-/tmp/incetl-pgincr-$RUNNER}
ROWS=${BENCH_ROWS:-1000000}
REPS=${BENCH_REPS:-3}
EMPTY_RUNS=${BENCH_EMPTY_RUNS:-50}
CPU_RUNS=${BENCH_CPU_RUNS:-2000}
NEWSESSION_SECS=${BENCH_NEWSESSION_SECONDS:-5}
C=$BENCH_DIR/cluster

# shellcheck source=test/bench/bench.bash
source "$SRC_DIR/test/bench/bench.bash"
bench_start_cluster
bench_settings

incetl_log "loading $ROWS rows"
psql_q <<SQL
CREATE EXTENSION incetl;
$(bench_orders_src_sql "$ROWS")
CREATE TABLE src (seq bigserial NOT NULL, id bigint PRIMARY KEY, customer_id bigint,
                  amount numeric(12,2), status text, note text, updated_at timestamptz);
INSERT INTO src (id, customer_id, amount, status, note, updated_at)
SELECT id, customer_id, amount, status, note, updated_at FROM orders_src ORDER BY id;
CREATE INDEX ON src (seq);
DROP TABLE orders_src;
CREATE TABLE t_incetl (LIKE src INCLUDING ALL EXCLUDING DEFAULTS);
CREATE TABLE t_pgi (LIKE src INCLUDING ALL EXCLUDING DEFAULTS);

-- pg_incremental's state and run, by hand (see the header)
CREATE TABLE pgi_sequence_pipelines (
    pipeline_name text PRIMARY KEY,
    sequence_name regclass NOT NULL,
    last_processed_sequence_number bigint,
    command text NOT NULL);
INSERT INTO pgi_sequence_pipelines VALUES ('p', 'src_seq_seq', 0,
  'INSERT INTO t_pgi SELECT * FROM src WHERE seq BETWEEN \$1 AND \$2
   ON CONFLICT (id) DO UPDATE SET seq = EXCLUDED.seq, customer_id = EXCLUDED.customer_id,
   amount = EXCLUDED.amount, status = EXCLUDED.status, note = EXCLUDED.note,
   updated_at = EXCLUDED.updated_at');
CREATE FUNCTION pgi_execute_pipeline(name text) RETURNS void LANGUAGE plpgsql AS \$\$
DECLARE
    range_start bigint;
    range_end bigint;
    cmd text;
BEGIN
    SELECT last_processed_sequence_number + 1, pg_catalog.pg_sequence_last_value(sequence_name), command
    INTO range_start, range_end, cmd
    FROM pgi_sequence_pipelines WHERE pipeline_name = name FOR UPDATE;
    IF range_end IS NULL OR range_start > range_end THEN
        RETURN;
    END IF;
    UPDATE pgi_sequence_pipelines SET last_processed_sequence_number = range_end
    WHERE pipeline_name = name;
    EXECUTE cmd USING range_start, range_end;
END
\$\$;
SELECT incetl.create_pipeline(name => 'p', source => 'public.src', watermark_column => 'seq',
                              target => 'public.t_incetl', record_key => 'id');
SQL
settle

reset_sides() {
    psql_q -c "TRUNCATE t_incetl, t_pgi" \
        -c "UPDATE pgi_sequence_pipelines SET last_processed_sequence_number = 0" \
        -c "SELECT incetl.reset_pipeline('p')" -c "VACUUM ANALYZE t_incetl, t_pgi" -c "CHECKPOINT"
}

declare -a full_i full_p
for r in $(seq 1 "$REPS"); do
    incetl_log "(1) backlog copy, repetition $r of $REPS"
    reset_sides
    if [ $((r % 2)) = 1 ]; then
        full_i+=("$(time_sql "SELECT incetl_run('p')")")
        psql_q -c "CHECKPOINT"
        full_p+=("$(time_sql "SELECT pgi_execute_pipeline('p')")")
    else
        full_p+=("$(time_sql "SELECT pgi_execute_pipeline('p')")")
        psql_q -c "CHECKPOINT"
        full_i+=("$(time_sql "SELECT incetl_run('p')")")
    fi
done
diff=$(psql_b -At -c "SELECT (SELECT count(*) FROM (TABLE t_incetl EXCEPT ALL TABLE t_pgi) x)
                             + (SELECT count(*) FROM (TABLE t_pgi EXCEPT ALL TABLE t_incetl) y)")
n=$(psql_b -At -c "SELECT count(*) FROM t_incetl")
[ "$diff" = 0 ] && [ "$n" = "$ROWS" ] ||
    incetl_die "the targets differ ($diff rows) or hold $n rows, not $ROWS: not the same work"

empty_runs() {
    { echo '\timing on'
      for _ in $(seq 0 "$EMPTY_RUNS"); do echo "$1;"; done
    } | psql_b -At | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | tail -n "$EMPTY_RUNS" | median
}
incetl_log "(2) empty runs, $EMPTY_RUNS each"
empty_i=$(empty_runs "SELECT incetl_run('p')")
empty_p=$(empty_runs "SELECT pgi_execute_pipeline('p')")
# the backend's CPU ticks before and after CPU_RUNS calls (after a warm-up)
cpu_runs() {
    local ticks
    ticks=$({ echo 'SELECT pg_backend_pid() AS pid \gset'
              echo '\setenv INCETL_BENCH_BACKEND :pid'
              echo "$1;"
              echo "\\! awk '{ print \$14 + \$15 }' /proc/\$INCETL_BENCH_BACKEND/stat"
              for _ in $(seq 1 "$CPU_RUNS"); do echo "$1;"; done
              echo "\\! awk '{ print \$14 + \$15 }' /proc/\$INCETL_BENCH_BACKEND/stat"
            } | psql_b -At -o /dev/null)
    awk -v hz="$(getconf CLK_TCK)" -v n="$CPU_RUNS" 'NR == 1 { a = $1 } NR == 2 { b = $1 }
        END { printf "%.4f", (b - a) * 1000 / hz / n }' <<<"$ticks"
}
cpu_i='' cpu_p='' empty_total=$((EMPTY_RUNS + 1))
if [ "$CPU_RUNS" -gt 0 ] && [ -r /proc/self/stat ]; then
    incetl_log "(3) CPU time of empty runs, $CPU_RUNS each"
    empty_total=$((empty_total + CPU_RUNS + 1))
    cpu_i=$(cpu_runs "SELECT incetl_run('p')")
    cpu_p=$(cpu_runs "SELECT pgi_execute_pipeline('p')")
fi
# a new session a run: pgbench -C (a connection a transaction), average latency
newsession_run() {   # $1 statement: ms a run, connection included
    local f=$BENCH_DIR/newsession_$2.sql
    echo "$1;" > "$f"
    chmod 644 "$f"
    incetl_as_runner "$INCETL_PG_BIN/pgbench" -n -C -T "$NEWSESSION_SECS" -f "$f" \
        -h "$C/sock" -p "$PORT" -U "$RUNNER" bench 2>/dev/null |
        sed -n 's/^latency average = \([0-9.]*\) ms.*/\1/p'
}
new_i='' new_p=''
PGI_EMPTY_RUN="SELECT last_processed_sequence_number + 1, pg_catalog.pg_sequence_last_value(sequence_name), command
FROM pgi_sequence_pipelines WHERE pipeline_name = 'p' FOR UPDATE"
if [ "$NEWSESSION_SECS" -gt 0 ]; then
    incetl_log "(4) empty runs in a new session each, $REPS x ${NEWSESSION_SECS}s each"
    declare -a ns_i ns_p
    for r in $(seq 1 "$REPS"); do
        if [ $((r % 2)) = 1 ]; then
            ns_i+=("$(newsession_run "SELECT incetl_run('p')" i)")
            ns_p+=("$(newsession_run "$PGI_EMPTY_RUN" p)")
        else
            ns_p+=("$(newsession_run "$PGI_EMPTY_RUN" p)")
            ns_i+=("$(newsession_run "SELECT incetl_run('p')" i)")
        fi
    done
    echo "   runs: incetl ${ns_i[*]}, pg_incremental ${ns_p[*]} ms" >&2
    new_i=$(printf '%s\n' "${ns_i[@]}" | median)
    new_p=$(printf '%s\n' "${ns_p[@]}" | median)
fi
log_rows=$(psql_b -At -c "SELECT count(*) FROM incetl.run_log WHERE pipeline_name = 'p'")

fi_=$(printf '%s\n' "${full_i[@]}" | median)
fp_=$(printf '%s\n' "${full_p[@]}" | median)
echo
echo "incetl_run vs pg_incremental's sequence-pipeline run reproduced in SQL (see the header)"
echo "median of $REPS (1) / of $EMPTY_RUNS (2); client-side times; ratio = incetl / pg_incremental"
printf '%-44s | %14s | %14s | %6s\n' "measure" "incetl" "pg_incremental" "ratio"
printf '%-44s-+-%14s-+-%14s-+-%6s\n' "$(printf '%.0s-' {1..44})" "--------------" "--------------" "------"
awk -v n="$ROWS" -v i="$fi_" -v p="$fp_" 'BEGIN { printf "%-44s | %11.1f ms | %11.1f ms | %6.2f\n", "(1) backlog of " n " rows into a keyed heap", i, p, i / p }'
awk -v i="$empty_i" -v p="$empty_p" 'BEGIN { printf "%-44s | %11.3f ms | %11.3f ms | %6.2f\n", "(2) empty run", i, p, i / p }'
[ -z "$cpu_i" ] ||
    awk -v i="$cpu_i" -v p="$cpu_p" 'BEGIN { printf "%-44s | %11.3f ms | %11.3f ms | %6.2f\n", "(3) empty run, backend CPU time", i, p, i / p }'
[ -z "$new_i" ] ||
    awk -v i="$new_i" -v p="$new_p" 'BEGIN { printf "%-44s | %11.3f ms | %11.3f ms | %6.2f\n", "(4) empty run, a new session each (pg_cron)", i, p, i / p }'
echo "run_log rows of the incetl pipeline after $REPS loads and $empty_total empty runs and the new sessions' (4): $log_rows"
