#!/usr/bin/env bash
# test/bench/mem_bench.sh -- cow_bench.sh's memory row alone, repeated
#
# Peak backend memory (VmHWM, from /proc/self/status read by the backend
# itself) of INSERT ... SELECT of BENCH_MEM_ROWS (10 M) rows into an empty
# table: incetl_cow (record_key id, precombine updated_at) against heap
# with PRIMARY KEY (id), fresh session each, alternating which goes first,
# median of BENCH_REPS (3).  The source is built as cow_bench.sh builds
# its mem_src (orders_src of half the rows, then the same rows again with
# ids shifted): a heap filled in id order whose scan is only nearly in key
# order (rows with a NULL note filled space left in earlier pages).  Before
# every statement the targets are dropped and the source is loaded into
# shared_buffers (pg_prewarm), as cow_bench.sh's source is, being created
# just before: VmHWM counts the shared buffers a backend touched, so both
# sides then touch all of them and the difference is the statement's own
# memory.  Throwaway cluster
# with bench.bash's settings (shared_buffers 1GB, maintenance_work_mem
# 512MB); the VmHWM of a fresh session and of the shared memory segment
# are printed for reference.  Each target must hold the source's rows
# (count and sums of every column compared).
#
# Knobs: INCETL_MEM_BENCH_PORT (54373), INCETL_BENCH_DIR
#        (/tmp/incetl-mem-bench-<user>), BENCH_MEM_ROWS (10000000),
#        BENCH_REPS (3), BENCH_KEEP=1 leaves the cluster running.

set -euo pipefail
export LC_ALL=C

SRC_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=test/lib.sh
source "$SRC_DIR/test/lib.sh"

PORT=${INCETL_MEM_BENCH_PORT:-54373}
RUNNER=$(incetl_runner_user)
BENCH_DIR=${INCETL_BENCH_DIR:-/tmp/incetl-mem-bench-$RUNNER}
MEM_ROWS=${BENCH_MEM_ROWS:-10000000}
REPS=${BENCH_REPS:-3}
HALF=$((MEM_ROWS / 2))
C=$BENCH_DIR/cluster

# shellcheck source=test/bench/bench.bash
source "$SRC_DIR/test/bench/bench.bash"
bench_start_cluster
bench_settings

incetl_log "generating $MEM_ROWS source rows"
psql_q <<SQL
CREATE EXTENSION incetl;
CREATE EXTENSION pg_prewarm;
$(bench_orders_src_sql "$HALF")
CREATE TABLE mem_src (LIKE orders_src);
INSERT INTO mem_src SELECT * FROM orders_src;
INSERT INTO mem_src SELECT id + $HALF, customer_id, amount, status, note, updated_at + interval '1 year'
    FROM orders_src WHERE id <= $MEM_ROWS - $HALF;
DROP TABLE orders_src;
SQL
settle mem_src

# the previous targets are dropped first (their buffers go with them): the
# prewarm then fills shared_buffers with the source alone, whichever side
# ran before
new_target() {   # $1 cow | heap
    psql_q -c "DROP TABLE IF EXISTS mem_cow, mem_heap"
    if [ "$1" = cow ]; then
        psql_q -c "CREATE TABLE mem_cow (LIKE mem_src) USING incetl_cow" \
            -c "SELECT incetl.set_table_options('mem_cow', record_key => 'id', precombine => 'updated_at')"
    else
        psql_q -c "CREATE TABLE mem_heap (LIKE mem_src, PRIMARY KEY (id))"
    fi
    settle
    psql_q -c "SELECT pg_prewarm('mem_src')" -c "SELECT pg_prewarm('mem_src')"
}
SUMS="SELECT count(*), sum(id), sum(customer_id), sum(amount), count(note), sum(length(note))"
hwm() {   # $1 table: "VmHWM_kB ms" of a fresh session
    local out
    out=$(psql_b -At <<SQL
\timing on
INSERT INTO $1 SELECT * FROM mem_src;
\timing off
SELECT 'hwm ' || substring(pg_read_file('/proc/self/status') from 'VmHWM:\s*(\d+)');
SQL
)
    echo "$(sed -n 's/^hwm //p' <<<"$out") $(sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' <<<"$out")"
}
measure() {   # $1 cow | heap
    local m t
    new_target "$1"
    read -r m t <<<"$(hwm "mem_$1")"
    [ "$(psql_b -At -c "$SUMS FROM mem_$1")" = "$(psql_b -At -c "$SUMS FROM mem_src")" ] ||
        incetl_die "mem_$1 does not hold the source's rows"
    echo "   $1: VmHWM $m kB ($t ms)" >&2
    echo "$m"
}

declare -a M_COW M_HEAP
for rep in $(seq 1 "$REPS"); do
    incetl_log "repetition $rep of $REPS"
    if [ $((rep % 2)) -eq 1 ]; then M_COW+=("$(measure cow)"); M_HEAP+=("$(measure heap)")
    else M_HEAP+=("$(measure heap)"); M_COW+=("$(measure cow)"); fi
done

START=$(psql_b -At -c "SELECT substring(pg_read_file('/proc/self/status') from 'VmHWM:\s*(\d+)')")
SHM=$(psql_b -At -c "SELECT sum(allocated_size) FROM pg_shmem_allocations")
MC=$(printf '%s\n' "${M_COW[@]}" | median) MH=$(printf '%s\n' "${M_HEAP[@]}" | median)
echo
echo "peak backend memory (VmHWM) of INSERT ... SELECT $MEM_ROWS rows, median of $REPS; source in shared_buffers"
printf '%-24s | %10s | %10s | %6s\n' "" "incetl_cow" "heap" "ratio"
awk -v c="$MC" -v h="$MH" 'BEGIN { printf "%-24s | %7.0f MB | %7.0f MB | %6.2f\n", "VmHWM", c / 1024, h / 1024, c / h }'
echo "raw (kB): incetl_cow ${M_COW[*]} | heap ${M_HEAP[*]}; a fresh session's VmHWM $START kB;" \
     "shared memory allocated $((SHM / 1048576)) MB"
