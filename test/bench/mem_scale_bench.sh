#!/usr/bin/env bash
# test/bench/mem_scale_bench.sh -- does a statement's memory grow with the table?
#
# For each statement below, run on an incetl_cow table of N rows and on one
# of 3 N rows (BENCH_SCALE_ROWS, 1,000,000: bigint key, int, 32-character
# text, timestamptz; 10,000-row file groups), each in a fresh session with
# maintenance_work_mem 16MB and work_mem 1MB: the backend's private memory
# (RssAnon, read from /proc every 5 ms from outside) at its peak, minus the
# same before the statement.  Memory bounded by the settings and by a file
# group stays the same at 3 N rows; a growth column near a third of the
# second is memory in proportion to the rows.  Each statement runs once
# (no median: the figures are tens of MB, the sampling misses under a
# millisecond of a peak).  A throwaway cluster with bench.bash's settings.
#
# Knobs: INCETL_MEM_SCALE_PORT (54374), INCETL_BENCH_DIR
#        (/tmp/incetl-mem-scale-<user>), BENCH_SCALE_ROWS (1000000),
#        BENCH_KEEP=1 leaves the cluster running.

set -euo pipefail
export LC_ALL=C

SRC_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=test/lib.sh
source "$SRC_DIR/test/lib.sh"

PORT=${INCETL_MEM_SCALE_PORT:-54374}
RUNNER=$(incetl_runner_user)
BENCH_DIR=${INCETL_BENCH_DIR:-/tmp/incetl-mem-scale-$RUNNER}
N=${BENCH_SCALE_ROWS:-1000000}
N3=$((3 * N))
C=$BENCH_DIR/cluster

# shellcheck source=test/bench/bench.bash
source "$SRC_DIR/test/bench/bench.bash"
bench_start_cluster
bench_settings

incetl_log "loading tables of $N and $N3 rows"
for n in "$N" "$N3"; do
    psql_q <<SQL
CREATE EXTENSION IF NOT EXISTS incetl;
CREATE TABLE s_$n (id bigint, c int, v text, u timestamptz) USING incetl_cow;
SELECT incetl.set_table_options('s_$n', record_key => 'id', precombine => 'u',
                                file_group_rows => 10000);
INSERT INTO s_$n SELECT g, g % 1000, md5(g::text), now() FROM generate_series(1, $n) g;
SQL
done
settle

# peak_kb SQL: the growth of a fresh session's RssAnon while it runs SQL
peak_kb() {
    local out="$BENCH_DIR/peak.out" pid base max a
    incetl_as_runner env PGOPTIONS="-c maintenance_work_mem=16MB -c work_mem=1MB" \
        "$INCETL_PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$C/sock" -p "$PORT" \
        -U "$RUNNER" -d bench -c "SET application_name = 'mem_scale'" \
        -c "SELECT pg_sleep(0.3)" -c "$1" >"$out" 2>&1 &
    local client=$!
    pid=""
    for _ in $(seq 1 100); do
        pid=$(psql_b -At -c "SELECT pid FROM pg_stat_activity WHERE application_name = 'mem_scale'")
        [ -n "$pid" ] && break
        sleep 0.01
    done
    [ -n "$pid" ] || incetl_die "no session for: $1"
    base=$(awk '/^RssAnon/ { print $2 }' "/proc/$pid/status")
    max=$base
    while kill -0 "$pid" 2>/dev/null; do
        a=$(awk '/^RssAnon/ { print $2 }' "/proc/$pid/status" 2>/dev/null || true)
        if [ -n "$a" ] && [ "$a" -gt "$max" ]; then max=$a; fi
        sleep 0.005
    done
    wait "$client" || incetl_die "failed: $1 ($(cat "$out"))"
    echo $((max - base))
}

STATEMENTS=(
    "INSERT INTO @T@ SELECT id, c, v, now() FROM @T@ ORDER BY id DESC"
    "UPDATE @T@ SET c = c + 1"
    "DELETE FROM @T@ WHERE id % 2 = 0"
    "SELECT count(*) FROM incetl.verify('@T@')"
    "SELECT count(*) FROM incetl.changes(NULL::@T@, 0)"
    "SELECT count(*) FROM incetl.net_changes(NULL::@T@, 1)"
    "CREATE INDEX ON @T@ (c)"
    "SELECT count(*) FROM (SELECT * FROM @T@ ORDER BY c) s"
    "ANALYZE @T@"
    "VACUUM @T@"
    "ALTER TABLE @T@ ADD COLUMN z float8 DEFAULT random()"
)

echo
echo "peak private memory (RssAnon growth, kB) of a statement, maintenance_work_mem 16MB, work_mem 1MB"
printf '%-58s | %10s | %10s | %6s\n' "statement" "$N rows" "$N3 rows" "3N / N"
for s in "${STATEMENTS[@]}"; do
    a=$(peak_kb "${s//@T@/s_$N}")
    b=$(peak_kb "${s//@T@/s_$N3}")
    printf '%-58s | %10d | %10d | %6s\n' "${s//@T@/t}" "$a" "$b" \
        "$(awk -v a="$a" -v b="$b" 'BEGIN { if (a > 0) printf "%.2f", b / a; else print "-" }')"
done
