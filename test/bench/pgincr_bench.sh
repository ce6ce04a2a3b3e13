#!/usr/bin/env bash
# test/bench/pgincr_bench.sh -- incetl_run against pg_incremental's per-run
# work, on the same cluster (`make bench-pgincr`; not part of `make test`)
#
# pg_incremental (github.com/crunchydata/pg_incremental) cannot be
# installed here (no network, not packaged), so its per-run work is
# reproduced by hand, in SQL, from its source.  A sequence pipeline run
# (src/pipeline.c, incremental_execute_pipeline and ExecutePipeline;
# src/sequence.c, ExecuteSequenceRangePipeline):
#   1. reads the pipeline's description (ReadPipelineDesc: SELECT
#      pipeline_type, owner_id, source_relation, command, search_path FROM
#      incremental.pipelines WHERE pipeline_name = $1), checks that the
#      caller owns it (superuser() or the owner: no statement), and sets the
#      pipeline's search_path in a GUC nest level of its own;
#   2. reads its state: SELECT last_processed_sequence_number + 1,
#      pg_sequence_last_value(sequence_name) FROM incremental.sequence_pipelines
#      WHERE pipeline_name = $1 FOR UPDATE  (the pipeline row locked);
#   3. when that range is empty, returns ("no rows to process");
#   4. otherwise waits for the writers of the source that may hold smaller
#      sequence values (WaitForLockers(ShareLock): nobody writes during the
#      benchmark, so nothing to wait for, and it is left out), records the
#      range's end (UPDATE ... SET last_processed_sequence_number = $2), and
#      executes the user's command with $1/$2 bound.
# Every one of those statements goes through SPI_execute_with_args: it is
# parsed and planned on each run, never kept.  Here that is
# pgi_execute_pipeline(name), a PL/pgSQL function over the two tables
# pgi_pipelines and pgi_sequence_pipelines, each statement an EXECUTE ...
# USING (parsed and planned each time, as SPI_execute_with_args does), the
# search_path set with set_config(..., true).  Beside it,
# pgi_execute_pipeline_kept(name) does the same with static statements,
# whose plans PL/pgSQL keeps: what pg_incremental would cost if it kept its
# plans, the lower bound of its run (rows (2k) and (3k)).  The command is
# the one a pg_incremental user writes for a keyed copy:
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
#       after a warm-up, median; (2k) the same against the kept plans;
#   (3) the same empty run's CPU time in the backend (user + system, from
#       /proc/<pid>/stat, Linux only) over BENCH_CPU_RUNS calls in one
#       session, per call: on a shared machine elapsed times swing with
#       the load, CPU time much less; (3k) against the kept plans;
#   (4) an empty run in a new session each time, as pg_cron runs a job (a
#       new background worker, or a new connection, per run): pgbench -C,
#       BENCH_NEWSESSION_SECONDS (5) a run, BENCH_REPS runs of each side
#       alternating, the median of their average latencies (connection
#       included, the same for both sides).  pg_incremental's side is its
#       empty run's statements (steps 1 and 2 above) sent as one query in a
#       transaction of their own, not pgi_execute_pipeline: pg_incremental
#       is written in C, and a PL/pgSQL function's first call in a session
#       loads PL/pgSQL and compiles the function, which would not be
#       pg_incremental's cost.  (In a new session no plan is kept yet:
#       both ways of running pg_incremental's statements cost the same.)
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

-- pg_incremental's catalogs and run, by hand (see the header)
CREATE TABLE pgi_pipelines (
    pipeline_name text PRIMARY KEY,
    pipeline_type "char" NOT NULL,
    owner_id oid NOT NULL,
    source_relation regclass,
    command text NOT NULL,
    search_path text);
CREATE TABLE pgi_sequence_pipelines (
    pipeline_name text PRIMARY KEY REFERENCES pgi_pipelines ON DELETE CASCADE,
    sequence_name regclass NOT NULL,
    last_processed_sequence_number bigint NOT NULL DEFAULT 0);
INSERT INTO pgi_pipelines VALUES ('p', 's', (SELECT oid FROM pg_roles WHERE rolname = current_user),
  'src', 'INSERT INTO t_pgi SELECT * FROM src WHERE seq BETWEEN \$1 AND \$2
   ON CONFLICT (id) DO UPDATE SET seq = EXCLUDED.seq, customer_id = EXCLUDED.customer_id,
   amount = EXCLUDED.amount, status = EXCLUDED.status, note = EXCLUDED.note,
   updated_at = EXCLUDED.updated_at', current_setting('search_path'));
INSERT INTO pgi_sequence_pipelines VALUES ('p', 'src_seq_seq', 0);
-- as pg_incremental runs: every statement parsed and planned each time
CREATE FUNCTION pgi_execute_pipeline(name text) RETURNS void LANGUAGE plpgsql AS \$\$
DECLARE
    d record;
    range_start bigint;
    range_end bigint;
BEGIN
    EXECUTE 'SELECT pipeline_type, owner_id, source_relation, command, search_path
             FROM public.pgi_pipelines WHERE pipeline_name OPERATOR(pg_catalog.=) \$1'
        INTO d USING name;
    IF d IS NULL THEN
        RAISE EXCEPTION 'no such pipeline named "%"', name;
    END IF;
    PERFORM pg_catalog.set_config('search_path', d.search_path, true);
    EXECUTE 'SELECT last_processed_sequence_number + 1,
                    pg_catalog.pg_sequence_last_value(sequence_name)
             FROM public.pgi_sequence_pipelines
             WHERE pipeline_name OPERATOR(pg_catalog.=) \$1 FOR UPDATE'
        INTO range_start, range_end USING name;
    IF range_end IS NULL OR range_start > range_end THEN
        RETURN;
    END IF;
    EXECUTE 'UPDATE public.pgi_sequence_pipelines SET last_processed_sequence_number = \$2
             WHERE pipeline_name OPERATOR(pg_catalog.=) \$1'
        USING name, range_end;
    EXECUTE d.command USING range_start, range_end;
END
\$\$;
-- the same with its statements' plans kept: pg_incremental's lower bound
CREATE FUNCTION pgi_execute_pipeline_kept(name text) RETURNS void LANGUAGE plpgsql AS \$\$
DECLARE
    d record;
    range_start bigint;
    range_end bigint;
BEGIN
    SELECT pipeline_type, owner_id, source_relation, command, search_path INTO d
    FROM public.pgi_pipelines WHERE pipeline_name OPERATOR(pg_catalog.=) name;
    IF d IS NULL THEN
        RAISE EXCEPTION 'no such pipeline named "%"', name;
    END IF;
    PERFORM pg_catalog.set_config('search_path', d.search_path, true);
    SELECT last_processed_sequence_number + 1, pg_catalog.pg_sequence_last_value(sequence_name)
    INTO range_start, range_end
    FROM public.pgi_sequence_pipelines WHERE pipeline_name OPERATOR(pg_catalog.=) name FOR UPDATE;
    IF range_end IS NULL OR range_start > range_end THEN
        RETURN;
    END IF;
    UPDATE public.pgi_sequence_pipelines SET last_processed_sequence_number = range_end
    WHERE pipeline_name OPERATOR(pg_catalog.=) name;
    EXECUTE d.command USING range_start, range_end;
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
empty_k=$(empty_runs "SELECT pgi_execute_pipeline_kept('p')")
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
cpu_i='' cpu_p='' cpu_k='' empty_total=$((EMPTY_RUNS + 1))
if [ "$CPU_RUNS" -gt 0 ] && [ -r /proc/self/stat ]; then
    incetl_log "(3) CPU time of empty runs, $CPU_RUNS each"
    empty_total=$((empty_total + CPU_RUNS + 1))
    cpu_i=$(cpu_runs "SELECT incetl_run('p')")
    cpu_p=$(cpu_runs "SELECT pgi_execute_pipeline('p')")
    cpu_k=$(cpu_runs "SELECT pgi_execute_pipeline_kept('p')")
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
# steps 1 and 2 of the header, one query (\; joins them) in one transaction;
# the search_path is the one step 1 reads
pgi_search_path=$(psql_b -At -c "SELECT quote_literal(search_path) FROM pgi_pipelines WHERE pipeline_name = 'p'")
PGI_EMPTY_RUN="SELECT pipeline_type, owner_id, source_relation, command, search_path
FROM public.pgi_pipelines WHERE pipeline_name OPERATOR(pg_catalog.=) 'p' \\;
SELECT pg_catalog.set_config('search_path', $pgi_search_path, true) \\;
SELECT last_processed_sequence_number + 1, pg_catalog.pg_sequence_last_value(sequence_name)
FROM public.pgi_sequence_pipelines WHERE pipeline_name OPERATOR(pg_catalog.=) 'p' FOR UPDATE"
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
awk -v i="$empty_i" -v p="$empty_k" 'BEGIN { printf "%-44s | %11.3f ms | %11.3f ms | %6.2f\n", "(2k) the same, pg_incremental'"'"'s plans kept", i, p, i / p }'
[ -z "$cpu_i" ] ||
    awk -v i="$cpu_i" -v p="$cpu_p" -v k="$cpu_k" 'BEGIN { printf "%-44s | %11.3f ms | %11.3f ms | %6.2f\n", "(3) empty run, backend CPU time", i, p, i / p
        printf "%-44s | %11.3f ms | %11.3f ms | %6.2f\n", "(3k) the same, pg_incremental'"'"'s plans kept", i, k, i / k }'
[ -z "$new_i" ] ||
    awk -v i="$new_i" -v p="$new_p" 'BEGIN { printf "%-44s | %11.3f ms | %11.3f ms | %6.2f\n", "(4) empty run, a new session each (pg_cron)", i, p, i / p }'
echo "run_log rows of the incetl pipeline after $REPS loads and $empty_total empty runs and the new sessions' (4): $log_rows"
