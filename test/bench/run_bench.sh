#!/usr/bin/env bash
# test/bench/run_bench.sh -- what `make bench` runs (not part of `make test`)
#
# incetl against the same work written by hand in SQL, on a throwaway
# cluster.  Assumes incetl is built and installed (make && make install);
# builds nothing.  As root, the server runs as $INCETL_TEST_USER (postgres).
#
#   (a) full load: 1 M rows of orders through incetl_run into an empty heap
#       target, vs INSERT ... SELECT DISTINCT ON (order_id) ... ORDER BY
#       order_id, updated_at DESC ON CONFLICT (order_id) DO UPDATE ... WHERE
#       t.updated_at <= EXCLUDED.updated_at into an identical empty table;
#   (b) delta: 10,000 new rows of an append-only change log (no primary key)
#       of those orders -- 7,000 updates and 2,000 new orders, plus 1,000
#       second versions of keys already in the delta (10 % in-batch
#       duplicates) -- through incetl_run vs the same statement by hand over
#       the same range of the log, both into 1 M-row targets;
#   (c) an empty run on a 10 M-row source with an index on the watermark
#       column (incetl_run with nothing new vs the hand-written statement
#       over an empty range), median of 20 in one session; plus the first
#       run of a fresh session, which is what a pg_cron job pays.
#
# (a) and (b): one untimed warm-up of each side, then 3 repetitions each,
# alternating which side goes first, the median reported; VACUUM ANALYZE
# and CHECKPOINT before every measurement (so each side pays the full-page
# images of its first writes after a checkpoint).
# Times are client-side (psql \timing: from sending the statement to
# receiving its result).  After (a) and (b) the two targets must be equal.
# Breakdown (BENCH_BREAKDOWN=1, default): where incetl's extra time goes.
# Inside BEGIN ... ROLLBACK (CHECKPOINT before each), timed the same way:
# the hand-written statement; the statement incetl generates (a copy of
# what src/pipeline/target_heap.c HeapWriteSql builds for this pipeline:
# no transform ORDER BY, so no numbering; counts from the statistics, so no
# RETURNING); the same plus the row_number() numbering an ordered transform
# adds; plus the RETURNING CTE used when track_counts is off; the pre-count
# incetl runs (SELECT count(*) of the batch); and incetl_run itself.
#
# With BENCH_EXPLAIN=1 (default) the plans of one more run of each side are
# written, with EXPLAIN ANALYZE figures, to $BENCH_DIR/plans.txt (incetl's
# statements come from auto_explain, nested statements included).
#
# Server configuration: test/lib.sh's (fsync = off, unix socket only) plus
# shared_buffers = 1GB, work_mem = 64MB, maintenance_work_mem = 512MB,
# max_wal_size = 8GB, checkpoint_timeout = 30min, and autovacuum = off (the
# script vacuums and analyzes itself, so no autovacuum lands inside a
# measurement).
#
# Knobs: INCETL_BENCH_PORT (54335), INCETL_BENCH_DIR (/tmp/incetl-bench-<user>),
#        BENCH_ROWS (1000000), BENCH_DELTA (10000), BENCH_BIG_ROWS (10000000;
#        0 skips (c)), BENCH_REPS (3), BENCH_EMPTY_RUNS (20), BENCH_EXPLAIN (1),
#        BENCH_BREAKDOWN (1), BENCH_BREAKDOWN_REPS (5),
#        BENCH_KEEP=1 leaves the cluster running.

set -euo pipefail
export LC_ALL=C

SRC_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=test/lib.sh
source "$SRC_DIR/test/lib.sh"

PORT=${INCETL_BENCH_PORT:-54335}
RUNNER=$(incetl_runner_user)
BENCH_DIR=${INCETL_BENCH_DIR:-/tmp/incetl-bench-$RUNNER}
ROWS=${BENCH_ROWS:-1000000}
DELTA=${BENCH_DELTA:-10000}
BIG_ROWS=${BENCH_BIG_ROWS:-10000000}
REPS=${BENCH_REPS:-3}
EMPTY_RUNS=${BENCH_EMPTY_RUNS:-20}
EXPLAIN=${BENCH_EXPLAIN:-1}
BREAKDOWN=${BENCH_BREAKDOWN:-1}
BREAKDOWN_REPS=${BENCH_BREAKDOWN_REPS:-5}
C=$BENCH_DIR/cluster

# shellcheck source=test/bench/bench.bash
source "$SRC_DIR/test/bench/bench.bash"
bench_require_installed

# delta composition: 10 % duplicates, the rest 7:2 updates:inserts
DUPS=$((DELTA / 10))
INSERTS=$(((DELTA - DUPS) * 2 / 9))
UPDATES=$((DELTA - DUPS - INSERTS))

# Source and target must hold the same rows.
assert_equal() {
    local a=$1 b=$2 diff
    diff=$(psql_b -At -c "SELECT (SELECT count(*) FROM (TABLE $a EXCEPT ALL TABLE $b) x)
                                + (SELECT count(*) FROM (TABLE $b EXCEPT ALL TABLE $a) y)")
    if [ "$diff" != 0 ]; then
        incetl_die "$a and $b differ in $diff rows: the benchmark compared different work"
    fi
}

# --------------------------------------------------------------------------
incetl_log "cluster in $C (port $PORT, as $RUNNER)"
mkdir -p "$BENCH_DIR"
if incetl_is_root; then chown "$RUNNER:" "$BENCH_DIR"; fi
incetl_cluster_init "$C" "$PORT" postgres \
    "shared_buffers = 1GB" "work_mem = 64MB" "maintenance_work_mem = 512MB" \
    "max_wal_size = 8GB" "checkpoint_timeout = 30min" "autovacuum = off"
if [ "${BENCH_KEEP:-0}" = 1 ]; then
    incetl_cluster_start "$C" keep
else
    incetl_cluster_start "$C"
fi
incetl_cluster_psql "$C" -c "CREATE DATABASE bench"
nproc_=$(nproc 2>/dev/null || echo '?')
echo "PostgreSQL $(psql_b -At -c 'SHOW server_version'), $nproc_ CPUs, fsync $(psql_b -At -c 'SHOW fsync')," \
    "shared_buffers $(psql_b -At -c 'SHOW shared_buffers'), work_mem $(psql_b -At -c 'SHOW work_mem')"

incetl_log "loading $ROWS orders"
psql_q <<SQL
CREATE EXTENSION incetl;
SELECT setseed(0.42);
CREATE TABLE orders (
    order_id    bigint PRIMARY KEY,
    customer_id bigint NOT NULL,
    amount      numeric(12,2) NOT NULL,
    status      text NOT NULL,
    note        text,
    updated_at  timestamptz NOT NULL);
INSERT INTO orders
SELECT g, 1 + floor(random() * 100000)::bigint, round((random() * 1000)::numeric, 2),
       (ARRAY['new', 'paid', 'shipped', 'delivered', 'cancelled'])[1 + floor(random() * 5)::int],
       'order ' || g || ' ' || md5(g::text),
       now() - interval '2 days' - random() * interval '30 days'
FROM generate_series(1, $ROWS) AS g;
CREATE INDEX ON orders (updated_at);

-- (a) targets
CREATE TABLE t_full_incetl (LIKE orders INCLUDING ALL);
DROP INDEX t_full_incetl_updated_at_idx;
CREATE TABLE t_full_hand (LIKE t_full_incetl INCLUDING ALL);
SELECT incetl.create_pipeline(name => 'p_full', source => 'public.orders',
       watermark_column => 'updated_at', target => 'public.t_full_incetl',
       record_key => 'order_id', precombine => 'updated_at');

-- (b) an append-only change log (no primary key): the orders as they are
CREATE TABLE orders_changes (
    order_id    bigint NOT NULL,
    customer_id bigint NOT NULL,
    amount      numeric(12,2) NOT NULL,
    status      text NOT NULL,
    note        text,
    updated_at  timestamptz NOT NULL);
INSERT INTO orders_changes SELECT * FROM orders;
CREATE INDEX ON orders_changes (updated_at);
CREATE TABLE t_delta_incetl (LIKE t_full_incetl INCLUDING ALL);
CREATE TABLE t_delta_hand (LIKE t_full_incetl INCLUDING ALL);
SELECT incetl.create_pipeline(name => 'p_delta', source => 'public.orders_changes',
       watermark_column => 'updated_at', target => 'public.t_delta_incetl',
       record_key => 'order_id', precombine => 'updated_at');
SELECT incetl_run('p_delta');
INSERT INTO t_delta_hand SELECT * FROM t_delta_incetl;
SQL
settle

# The hand-written statement: the same upsert-with-precombine, as a person
# would write it.  $1 target, $2 source, $3 WHERE clause on the source.
hand_sql() {
    cat <<SQL
INSERT INTO $1 AS t (order_id, customer_id, amount, status, note, updated_at)
SELECT DISTINCT ON (order_id) order_id, customer_id, amount, status, note, updated_at
FROM $2 WHERE $3
ORDER BY order_id, updated_at DESC
ON CONFLICT (order_id) DO UPDATE SET
    customer_id = EXCLUDED.customer_id, amount = EXCLUDED.amount,
    status = EXCLUDED.status, note = EXCLUDED.note, updated_at = EXCLUDED.updated_at
WHERE t.updated_at <= EXCLUDED.updated_at
SQL
}

# --------------------------------------------------------------------------
# (a) full load
# --------------------------------------------------------------------------
incetl_log "(a) full load of $ROWS rows, $REPS times each"
A_INCETL=() A_HAND=()
run_a_incetl() {
    psql_q -c "TRUNCATE t_full_incetl" -c "SELECT incetl.reset_pipeline('p_full')"
    settle "t_full_incetl"
    time_sql "SELECT incetl_run('p_full')"
}
run_a_hand() {
    psql_q -c "TRUNCATE t_full_hand"
    settle "t_full_hand"
    time_sql "$(hand_sql t_full_hand orders 'updated_at <= now()')"
}
run_a_incetl >/dev/null
run_a_hand >/dev/null
for rep in $(seq 1 "$REPS"); do
    if [ $((rep % 2)) -eq 1 ]; then
        A_INCETL+=("$(run_a_incetl)"); A_HAND+=("$(run_a_hand)")
    else
        A_HAND+=("$(run_a_hand)"); A_INCETL+=("$(run_a_incetl)")
    fi
    echo "   rep $rep: incetl ${A_INCETL[-1]} ms, hand ${A_HAND[-1]} ms"
done
assert_equal t_full_incetl t_full_hand
[ "$(psql_b -At -c 'SELECT count(*) FROM t_full_incetl')" = "$ROWS" ] ||
    incetl_die "(a): the target does not have $ROWS rows"

# --------------------------------------------------------------------------
# (b) delta through the change log
# --------------------------------------------------------------------------
incetl_log "(b) delta of $DELTA rows ($UPDATES updates, $INSERTS inserts, $DUPS in-batch duplicates), $REPS times each"
B_INCETL=() B_HAND=()

# Append one delta to the change log, stamped just above both sides'
# watermark, in the past of the runs that follow.  Prints the lower bound.
append_delta() {
    psql_b -At <<SQL
SELECT setseed($1 / 1000.0);
CREATE TEMP TABLE base AS
    SELECT greatest(w.watermark::timestamptz,
                    (SELECT max(updated_at) FROM orders_changes)) AS ts0
    FROM incetl.watermarks AS w WHERE w.pipeline_name = 'p_delta';
CREATE TEMP TABLE keys AS
    SELECT k.order_id, row_number() OVER () AS i
    FROM (SELECT order_id FROM t_delta_incetl ORDER BY random() LIMIT $UPDATES) AS k;
INSERT INTO keys
    SELECT m + g, $UPDATES + g FROM (SELECT max(order_id) AS m FROM t_delta_incetl) AS x,
           generate_series(1, $INSERTS) AS g;
INSERT INTO orders_changes
SELECT k.order_id, 1 + floor(random() * 100000)::bigint, round((random() * 1000)::numeric, 2),
       (ARRAY['new', 'paid', 'shipped', 'delivered', 'cancelled'])[1 + floor(random() * 5)::int],
       'change ' || k.order_id || ' ' || md5(random()::text),
       b.ts0 + (k.i + d.n * $DELTA) * interval '1 microsecond'
FROM keys AS k CROSS JOIN base AS b
CROSS JOIN LATERAL (SELECT 0 AS n UNION ALL SELECT 1 WHERE k.i <= $DUPS) AS d
ORDER BY random();
SELECT ts0 FROM base;
SQL
}
run_b() {   # $1 = rep (seeds the delta); prints "incetl_ms hand_ms"
    local from cond ti th
    from=$(append_delta "$1" | tail -n 1)
    # the delta's newest stamp must lie in the past of the runs
    psql_q -c "SELECT pg_sleep(0.05)"
    cond="updated_at > '$from' AND updated_at <= now()"
    settle "orders_changes, t_delta_incetl, t_delta_hand"
    if [ $(($1 % 2)) -eq 1 ]; then
        ti=$(time_sql "SELECT incetl_run('p_delta')")
        psql_q -c "CHECKPOINT"
        th=$(time_sql "$(hand_sql t_delta_hand orders_changes "$cond")")
    else
        th=$(time_sql "$(hand_sql t_delta_hand orders_changes "$cond")")
        psql_q -c "CHECKPOINT"
        ti=$(time_sql "SELECT incetl_run('p_delta')")
    fi
    echo "$ti $th"
}
run_b 100 >/dev/null     # warm-up
for rep in $(seq 1 "$REPS"); do
    read -r ti th <<<"$(run_b "$rep")"
    B_INCETL+=("$ti") B_HAND+=("$th")
    read -r nread nins nupd <<<"$(psql_b -At -F ' ' -c "SELECT records_read, records_inserted, records_updated
        FROM incetl.run_log WHERE pipeline_name = 'p_delta' ORDER BY run_id DESC LIMIT 1")"
    echo "   rep $rep: incetl ${B_INCETL[-1]} ms (read $nread, inserted $nins, updated $nupd), hand ${B_HAND[-1]} ms"
    [ "$nread" = "$DELTA" ] || incetl_die "(b): incetl read $nread rows, not the $DELTA of the delta"
done
assert_equal t_delta_incetl t_delta_hand

# --------------------------------------------------------------------------
# breakdown: where incetl's extra time goes
# --------------------------------------------------------------------------

# The write statement incetl generates for these pipelines: a copy of what
# src/pipeline/target_heap.c HeapWriteSql builds (record key order_id,
# precombine updated_at, no transform, no delete marker), with the run's
# parameters written in.  $1 target, $2 source, $3 WHERE clause,
# $4 numbering (1: the row_number() tie-break of an ordered transform),
# $5 returning (1: the RETURNING CTE that counts inserts and updates when
# track_counts is off).  incetl itself uses 0 0 for these pipelines.
incetl_sql() {
    local t=$1 src=$2 cond=$3 num=$4 ret=$5 from=incetl_batch ord="" ins
    local cols="order_id, customer_id, amount, status, note, updated_at"
    local sets="customer_id = EXCLUDED.customer_id, amount = EXCLUDED.amount, status = EXCLUDED.status, note = EXCLUDED.note, updated_at = EXCLUDED.updated_at"
    printf 'WITH incetl_batch AS (\nWITH batch AS (SELECT * FROM public.%s WHERE %s)\nSELECT * FROM batch\n),\n' "$src" "$cond"
    if [ "$num" = 1 ]; then
        printf 'incetl_numbered AS (SELECT b.*, row_number() OVER () AS incetl_ord FROM incetl_batch AS b),\n'
        from=incetl_numbered ord=", incetl_ord DESC"
    fi
    printf 'incetl_latest AS (SELECT DISTINCT ON (order_id) * FROM %s ORDER BY order_id, updated_at DESC NULLS LAST%s)' "$from" "$ord"
    ins="INSERT INTO public.$t AS t ($cols) SELECT $cols FROM incetl_latest
  ON CONFLICT (order_id) DO UPDATE SET $sets WHERE t.updated_at IS NULL OR t.updated_at <= EXCLUDED.updated_at"
    if [ "$ret" = 1 ]; then
        printf ',\nincetl_upserted AS (%s\n  RETURNING (t.xmax = 0) AS inserted)\n' "$ins"
        printf 'SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted), 0::bigint FROM incetl_upserted\n'
    else
        printf '\n%s\n' "$ins"
    fi
}

# Time each variant inside BEGIN ... ROLLBACK, CHECKPOINT (and a VACUUM of
# the target) before each, BREAKDOWN_REPS rounds; prints one line per
# variant: name median_ms.
#   $1 target $2 source $3 WHERE clause $4 SQL before each statement (in the
#   transaction) $5 SQL before incetl_run (in the transaction) $6 pipeline
breakdown() {
    local t=$1 src=$2 cond=$3 pre=$4 runpre=$5 pipe=$6 rep v stmt before ms
    local names=(hand incetl_stmt plus_numbering plus_returning pre_count incetl_run)
    local -A stmts=() times=()
    stmts[hand]=$(hand_sql "$t" "$src" "$cond")
    stmts[incetl_stmt]=$(incetl_sql "$t" "$src" "$cond" 0 0)
    stmts[plus_numbering]=$(incetl_sql "$t" "$src" "$cond" 1 0)
    stmts[plus_returning]=$(incetl_sql "$t" "$src" "$cond" 0 1)
    stmts[pre_count]="SELECT count(*) FROM public.$src WHERE $cond"
    stmts[incetl_run]="SELECT incetl_run('$pipe')"
    for rep in $(seq 1 "$BREAKDOWN_REPS"); do
        for v in "${names[@]}"; do
            before=$pre
            if [ "$v" = incetl_run ]; then before=$runpre; fi
            psql_q -c "VACUUM $t" -c "CHECKPOINT"
            ms=$({ echo "BEGIN;"; echo "$before"; echo '\timing on'; echo "${stmts[$v]};"
                   echo '\timing off'; echo "ROLLBACK;"; } | psql_b -At |
                 sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | tail -n 1)
            times[$v]+="$ms "
        done
    done
    for v in "${names[@]}"; do
        # shellcheck disable=SC2086
        echo "$v $(printf '%s\n' ${times[$v]} | median) $(printf '%s\n' ${times[$v]} | sort -n | head -n 1)"
    done
}

# Print a breakdown as a table, each variant against the hand-written one.
show_breakdown() {   # $1 title, stdin: name median_ms lines
    awk -v title="$1" '
        { name[NR] = $1; ms[NR] = $2; mn[NR] = $3; if ($1 == "hand") { h = $2; hm = $3 } }
        END {
            printf "%s\n", title
            printf "  %-14s | %10s | %8s | %10s | %8s\n", "variant", "median", "vs hand", "min", "vs hand"
            for (i = 1; i <= NR; i++)
                if (name[i] == "pre_count")
                    printf "  %-14s | %7.1f ms | %6.1f%%* | %7.1f ms | %6.1f%%*\n", name[i], ms[i], 100 * ms[i] / h, mn[i], 100 * mn[i] / hm
                else
                    printf "  %-14s | %7.1f ms | %+7.1f%% | %7.1f ms | %+7.1f%%\n", name[i], ms[i], 100 * (ms[i] / h - 1), mn[i], 100 * (mn[i] / hm - 1)
        }'
}

BD_A="" BD_B=""
if [ "$BREAKDOWN" = 1 ]; then
    incetl_log "breakdown of (a), $BREAKDOWN_REPS rounds"
    BD_A=$(breakdown t_full_incetl orders "updated_at <= now()" "TRUNCATE t_full_incetl;" \
        "TRUNCATE t_full_incetl; SELECT incetl.reset_pipeline('p_full');" p_full)
    incetl_log "breakdown of (b), $BREAKDOWN_REPS rounds"
    from=$(append_delta 200 | tail -n 1)
    psql_q -c "SELECT pg_sleep(0.05)"
    settle "orders_changes, t_delta_incetl, t_delta_hand"
    BD_B=$(breakdown t_delta_incetl orders_changes "updated_at > '$from' AND updated_at <= now()" "" \
        "SELECT incetl.reset_pipeline('p_delta', '$from');" p_delta)
    # apply that delta to both sides for real, so they stay equal
    psql_q -c "SELECT incetl_run('p_delta')" \
        -c "$(hand_sql t_delta_hand orders_changes "updated_at > '$from' AND updated_at <= now()")"
    assert_equal t_delta_incetl t_delta_hand
fi

# --------------------------------------------------------------------------
# (c) empty run on a 10 M-row source
# --------------------------------------------------------------------------
C_INCETL="" C_HAND="" C_FIRST=""
if [ "$BIG_ROWS" -gt 0 ]; then
    incetl_log "(c) loading $BIG_ROWS rows for the empty run"
    psql_q <<SQL
CREATE TABLE orders_big (LIKE orders);
INSERT INTO orders_big
SELECT g, 1 + g % 100000, (g % 100000) / 100.0, 'paid', 'order ' || g,
       now() - interval '2 days' - (g % 2592000) * interval '1 second'
FROM generate_series(1, $BIG_ROWS) AS g;
CREATE INDEX ON orders_big (updated_at);
CREATE TABLE t_empty_incetl (LIKE t_full_incetl INCLUDING ALL);
CREATE TABLE t_empty_hand (LIKE t_full_incetl INCLUDING ALL);
SELECT incetl.create_pipeline(name => 'p_empty', source => 'public.orders_big',
       watermark_column => 'updated_at', target => 'public.t_empty_incetl',
       record_key => 'order_id', precombine => 'updated_at');
-- as if the 10 M rows were loaded: the next run starts after the newest
SELECT incetl.reset_pipeline('p_empty', (SELECT max(updated_at) FROM orders_big)::text);
SQL
    settle "orders_big, t_empty_incetl, t_empty_hand"
    wm=$(psql_b -At -c "SELECT watermark FROM incetl.watermarks WHERE pipeline_name = 'p_empty'")

    # one session, EMPTY_RUNS calls (after one warm-up call)
    empty_times() {
        local stmt=$1 i
        {
            echo '\timing on'
            for i in $(seq 0 "$EMPTY_RUNS"); do echo "$stmt;"; done
        } | psql_b -At | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | tail -n "$EMPTY_RUNS"
    }
    C_INCETL=$(empty_times "SELECT incetl_run('p_empty')" | median)
    C_HAND=$(empty_times "$(hand_sql t_empty_hand orders_big "updated_at > '$wm' AND updated_at <= now()")" | median)
    firsts=()
    for i in 1 2 3; do firsts+=("$(time_sql "SELECT incetl_run('p_empty')")"); done
    C_FIRST=$(printf '%s\n' "${firsts[@]}" | median)
    nodata=$(psql_b -At -c "SELECT count(*) FILTER (WHERE status = 'NO_DATA'), count(*)
                            FROM incetl.run_log WHERE pipeline_name = 'p_empty'")
    echo "   runs of p_empty (NO_DATA|all): $nodata"
fi

# --------------------------------------------------------------------------
# plans
# --------------------------------------------------------------------------
if [ "$EXPLAIN" = 1 ]; then
    incetl_log "plans of one more run of each side: $BENCH_DIR/plans.txt"
    PLANS=$BENCH_DIR/plans.txt
    : >"$PLANS"
    if incetl_is_root; then chown "$RUNNER:" "$PLANS"; fi
    explain_incetl() {
        # auto_explain logs every statement of the run, SPI included
        local logf=$C/server.log before
        before=$(wc -c <"$logf")
        psql_b -c "LOAD 'auto_explain'" -c "SET auto_explain.log_min_duration = 0" \
            -c "SET auto_explain.log_analyze = on" -c "SET auto_explain.log_buffers = on" \
            -c "SET auto_explain.log_nested_statements = on" -c "SET client_min_messages = warning" \
            -c "SET log_min_messages = log" -c "$1" >/dev/null
        tail -c +"$((before + 1))" "$logf" | sed -n '/LOG:  duration/,$p'
    }
    {
        echo "==== (a) incetl_run('p_full'): every statement of the run (auto_explain)"
        psql_q -c "TRUNCATE t_full_incetl" -c "SELECT incetl.reset_pipeline('p_full')" -c CHECKPOINT
        explain_incetl "SELECT incetl_run('p_full')"
        echo
        echo "==== (a) hand-written"
        psql_q -c "TRUNCATE t_full_hand" -c CHECKPOINT
        psql_b -c "EXPLAIN (ANALYZE, BUFFERS) $(hand_sql t_full_hand orders 'updated_at <= now()')"
        echo
        echo "==== (b) incetl_run('p_delta') on a fresh delta (auto_explain)"
        from=$(append_delta 9 | tail -n 1)
        psql_q -c "SELECT pg_sleep(0.05)" -c "ANALYZE orders_changes" -c CHECKPOINT
        explain_incetl "SELECT incetl_run('p_delta')"
        echo
        echo "==== (b) hand-written"
        psql_q -c CHECKPOINT
        psql_b -c "EXPLAIN (ANALYZE, BUFFERS) $(hand_sql t_delta_hand orders_changes "updated_at > '$from' AND updated_at <= now()")"
    } >>"$PLANS" 2>&1
fi

# --------------------------------------------------------------------------
# report
# --------------------------------------------------------------------------
A_I=$(printf '%s\n' "${A_INCETL[@]}" | median)
A_H=$(printf '%s\n' "${A_HAND[@]}" | median)
B_I=$(printf '%s\n' "${B_INCETL[@]}" | median)
B_H=$(printf '%s\n' "${B_HAND[@]}" | median)

row() {   # label incetl_ms hand_ms rows
    awk -v l="$1" -v i="$2" -v h="$3" -v n="$4" 'BEGIN {
        printf "%-40s | %10.1f ms | %10.1f ms | %5.2f | %12s | %12s\n", l, i, h, i / h,
            n ? sprintf("%.0f", n / (i / 1000)) : "-", n ? sprintf("%.0f", n / (h / 1000)) : "-" }'
}
echo
echo "median of $REPS (a, b) / of $EMPTY_RUNS (c); times client-side; ratio = incetl / hand-written"
printf '%-40s | %13s | %13s | %5s | %12s | %12s\n' measure incetl "hand-written" ratio "incetl rows/s" "hand rows/s"
printf '%s\n' "-----------------------------------------+---------------+---------------+-------+--------------+-------------"
row "(a) full load, $ROWS rows" "$A_I" "$A_H" "$ROWS"
row "(b) delta, $DELTA rows (10 % dup keys)" "$B_I" "$B_H" "$DELTA"
if [ -n "$C_INCETL" ]; then
    row "(c) empty run, $BIG_ROWS-row source" "$C_INCETL" "$C_HAND" 0
    awk -v f="$C_FIRST" 'BEGIN { printf "%-40s | %10.1f ms |\n", "(c) empty run, first call of a session", f }'
fi
echo
awk -v a="$A_I" -v ah="$A_H" -v b="$B_I" -v bh="$B_H" -v c="$C_INCETL" 'BEGIN {
    printf "goal: incetl overhead <= 10%%:  (a) %+.1f%% %s   (b) %+.1f%% %s\n",
        100 * (a / ah - 1), (a <= 1.1 * ah) ? "met" : "MISSED",
        100 * (b / bh - 1), (b <= 1.1 * bh) ? "met" : "MISSED"
    if (c != "")
        printf "goal: empty run on the big source < 10 ms:  %.1f ms %s\n", c, (c < 10) ? "met" : "MISSED"
}'
if [ -n "$BD_A" ]; then
    echo
    echo "breakdown (inside BEGIN/ROLLBACK, CHECKPOINT before each; median and min of $BREAKDOWN_REPS):"
    show_breakdown "(a) full load, $ROWS rows" <<<"$BD_A"
    show_breakdown "(b) delta, $DELTA rows" <<<"$BD_B"
    echo "  incetl_stmt = the statement target_heap.c builds here; plus_numbering = with the row_number() OVER ()"
    echo "  of an ordered transform; plus_returning = with the RETURNING + counting CTE used when track_counts is off;"
    echo "  pre_count = the SELECT count(*) incetl runs before the write (* its share of the hand-written time)"
fi
echo
echo "raw (ms): a incetl ${A_INCETL[*]} | a hand ${A_HAND[*]} | b incetl ${B_INCETL[*]} | b hand ${B_HAND[*]}"
