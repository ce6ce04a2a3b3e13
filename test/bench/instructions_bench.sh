#!/usr/bin/env bash
# test/bench/instructions_bench.sh -- CPU instructions per point lookup, key
# range and IN list, incetl_cow against heap, counted by valgrind
#
# Timings of statements that take a tenth of a millisecond vary by half
# from one run to the next on a shared machine; the instructions a backend
# executes for them do not.  This counts them with callgrind.  For each
# measure a backend runs W statements (warm-up), another W + N statements,
# and the difference over N is the instructions per statement -- startup,
# the warm-up's first reads and the catalog caches cancel out.  Two
# windows: "cold" (W = 1: a new session's first lookups, every block read
# for the first time by the backend, as cow_bench.sh's sessions of
# BENCH_LOOKUPS lookups mostly are) and "steady" (W = BENCH_WARM: a
# connection pool's backend after a while).
#
# BENCH_MODE=server (the default): the server runs under callgrind
# (--trace-children, a file per process) and psql sends the statements,
# so a backend does what it does for a client -- the wire protocol, rows
# sent by printtup; shared buffers hold every page read (a session runs
# all of a measure's statements first, unmeasured), so the counts are a
# backend's own work, its local caches cold or warm as the window says.
# BENCH_MODE=single: a single-user backend (postgres --single) reads the
# statements, every page read from disk into its shared buffers and each
# row printed with printf (debugtup), the same work for both tables --
# the method of the figures before 2026-12-03, kept to compare with them.
#
# Runs on a throwaway cluster (test/lib.sh; port INCETL_INSTR_BENCH_PORT,
# default 54376; as root the server runs as $INCETL_TEST_USER), restarted
# under valgrind (server) or stopped while valgrind runs the single-user
# backends on its data directory (single).  Needs valgrind (apt-get
# install valgrind); builds nothing.
#
# Data: BENCH_ROWS (1 M) rows of test/bench/bench.bash's orders_src,
# loaded in key order into
#
#   orders_heap   heap with PRIMARY KEY (id)
#   orders_cow    USING incetl_cow, record_key id, with a btree on id
#   orders_cown   the same without an index (key ranges, IN lists)
#
# Measures (random keys, the same for both tables):
#
#   lookup        SELECT * WHERE id = k (heap: its PK; incetl_cow: the btree)
#   range         SELECT * WHERE id BETWEEN k AND k + 99 (incetl_cow: no
#                 index, the key-range scan)
#   in-list       SELECT count(*), sum(amount) WHERE id IN (k1, k2, k3) of
#                 keys scattered over the table (incetl_cow: no index)
#
# Knobs: INCETL_INSTR_BENCH_PORT (54376), INCETL_BENCH_DIR
#        (/tmp/incetl-instr-bench-<user>), BENCH_ROWS (1000000),
#        BENCH_N (1000: statements counted), BENCH_WARM (1000),
#        BENCH_MODE (server | single).

set -euo pipefail
export LC_ALL=C

SRC_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=test/lib.sh
source "$SRC_DIR/test/lib.sh"

PORT=${INCETL_INSTR_BENCH_PORT:-54376}
RUNNER=$(incetl_runner_user)
BENCH_DIR=${INCETL_BENCH_DIR:-/tmp/incetl-instr-bench-$RUNNER}
ROWS=${BENCH_ROWS:-1000000}
N=${BENCH_N:-1000}
WARM=${BENCH_WARM:-1000}
MODE=${BENCH_MODE:-server}
C=$BENCH_DIR/cluster
case $MODE in server | single) ;; *) echo "BENCH_MODE is server or single, not $MODE" >&2; exit 2 ;; esac

# shellcheck source=test/bench/bench.bash
source "$SRC_DIR/test/bench/bench.bash"

command -v valgrind >/dev/null ||
    incetl_die "valgrind is not installed (apt-get install valgrind)"

bench_start_cluster
echo "$(bench_settings)"
incetl_log "loading $ROWS rows"
psql_q <<SQL
CREATE EXTENSION incetl;
$(bench_orders_src_sql "$ROWS")
CREATE TABLE orders_heap (LIKE orders_src, PRIMARY KEY (id));
CREATE TABLE orders_cow (LIKE orders_src) USING incetl_cow;
SELECT incetl.set_table_options('orders_cow', record_key => 'id', precombine => 'updated_at');
CREATE TABLE orders_cown (LIKE orders_src) USING incetl_cow;
SELECT incetl.set_table_options('orders_cown', record_key => 'id', precombine => 'updated_at');
INSERT INTO orders_heap SELECT * FROM orders_src ORDER BY id;
INSERT INTO orders_cow SELECT * FROM orders_src ORDER BY id;
INSERT INTO orders_cown SELECT * FROM orders_src ORDER BY id;
CREATE INDEX ON orders_cow (id);
DROP TABLE orders_src;
SQL
settle
incetl_cluster_stop "$C" fast

WORK=$BENCH_DIR/work
mkdir -p "$WORK"
rm -f "$WORK"/cg.*
if incetl_is_root; then chown "$RUNNER:" "$WORK"; fi

if [ "$MODE" = server ]; then
    # the server again, under callgrind: a counts file per process
    cat >"$WORK/postgres" <<WRAP
#!/bin/sh
exec valgrind --tool=callgrind --trace-children=yes --callgrind-out-file=$WORK/cg.%p "$INCETL_PG_BIN/postgres" "\$@"
WRAP
    chmod 755 "$WORK/postgres"
    incetl_as_runner "$INCETL_PG_BIN/pg_ctl" -D "$C/data" -p "$WORK/postgres" \
        -l "$C/server.log" -w -t 300 start >/dev/null ||
        { tail -n 20 "$C/server.log"; incetl_die "the server did not start under valgrind"; }
    INCETL_STARTED_CLUSTERS+=("$C")
fi

# statements TEMPLATE COUNT SEED: COUNT statements, K, K2 and K3 in
# TEMPLATE replaced by random keys (the same for the same SEED)
statements() {
    awk -v t="$1" -v n="$2" -v seed="$3" -v rows="$ROWS" 'BEGIN {
        srand(seed);
        for (i = 0; i < n; i++) {
            s = t;
            gsub("K3", 1 + int(rand() * (rows - 100)), s);
            gsub("K2", 1 + int(rand() * (rows - 100)), s);
            gsub("K", 1 + int(rand() * (rows - 100)), s);
            print s ";";
        }
    }'
}

# instructions FILE: the instructions a single-user backend executes
# running FILE's statements (single), or the backend of a psql session
# running them (server)
instructions() {
    local out pid i
    if [ "$MODE" = single ]; then
        out=$WORK/callgrind.out
        rm -f "$out"
        incetl_as_runner valgrind --tool=callgrind --callgrind-out-file="$out" \
            "$INCETL_PG_BIN/postgres" --single -D "$C/data" \
            -c shared_preload_libraries=incetl -j bench <"$1" >"$WORK/single.log" 2>&1 ||
            { tail -n 20 "$WORK/single.log"; incetl_die "the single-user backend failed"; }
        sed -n 's/^summary: *//p' "$out"
        return
    fi
    # the backend's pid first, then the statements' output discarded
    { echo "SELECT pg_backend_pid();"; echo '\o /dev/null'; cat "$1"; } >"$WORK/session.sql"
    if incetl_is_root; then chown "$RUNNER:" "$WORK/session.sql"; fi
    pid=$(incetl_as_runner "$INCETL_PG_BIN/psql" -X -q -At -v ON_ERROR_STOP=1 \
        -h "$C/sock" -p "$PORT" -d bench -f "$WORK/session.sql") ||
        incetl_die "the session failed"
    # callgrind writes a process's counts when it exits, after psql's
    out=$WORK/cg.$pid
    for i in $(seq 1 600); do
        if [ -f "$out" ] && grep -q '^summary:' "$out"; then
            sed -n 's/^summary: *//p' "$out"
            rm -f "$out"
            return
        fi
        sleep 0.2
    done
    incetl_die "no callgrind counts for backend $pid ($out)"
}

# per_statement TEMPLATE WARM: instructions per statement of N statements
# after WARM others
per_statement() {
    local a b
    statements "$1" "$2" 1 >"$WORK/a.sql"
    { cat "$WORK/a.sql"; statements "$1" "$N" 2; } >"$WORK/b.sql"
    if incetl_is_root; then chown "$RUNNER:" "$WORK/a.sql" "$WORK/b.sql"; fi
    # server: every page the measure reads into shared buffers first
    if [ "$MODE" = server ]; then instructions "$WORK/b.sql" >/dev/null; fi
    a=$(instructions "$WORK/a.sql")
    b=$(instructions "$WORK/b.sql")
    echo $(((b - a) / N))
}

declare -a M_NAME M_HEAP M_COW
measure() {   # name heap-template cow-template warm
    local h c
    incetl_log "$1 (warm-up $4, counted $N)"
    h=$(per_statement "$2" "$4")
    c=$(per_statement "$3" "$4")
    M_NAME+=("$1") M_HEAP+=("$h") M_COW+=("$c")
    echo "   heap $h, incetl_cow $c instructions per statement"
}

LOOKUP="SELECT * FROM @T@ WHERE id = K"
RANGE="SELECT * FROM @T@ WHERE id BETWEEN K AND K + 99"
INLIST="SELECT count(*), sum(amount) FROM @T@ WHERE id IN (K, K2, K3)"
measure "point lookup, cold" "${LOOKUP//@T@/orders_heap}" "${LOOKUP//@T@/orders_cow}" 1
measure "point lookup, steady" "${LOOKUP//@T@/orders_heap}" "${LOOKUP//@T@/orders_cow}" "$WARM"
measure "key range of 100 rows, cold" "${RANGE//@T@/orders_heap}" "${RANGE//@T@/orders_cown}" 1
measure "key range of 100 rows, steady" "${RANGE//@T@/orders_heap}" "${RANGE//@T@/orders_cown}" "$WARM"
measure "IN list of 3 scattered keys, steady" "${INLIST//@T@/orders_heap}" "${INLIST//@T@/orders_cown}" "$WARM"

echo
if [ "$MODE" = server ]; then
    incetl_cluster_stop "$C" fast
    rm -f "$WORK"/cg.*
    how="a backend of the server, statements sent by psql"
else
    how="postgres --single"
fi
echo "instructions per statement, incetl_cow vs heap, $ROWS rows (valgrind --tool=callgrind, $how; $N statements counted)"
printf '%-38s| %12s | %12s | %6s\n' "measure" "incetl_cow" "heap" "ratio"
printf '%s\n' "--------------------------------------+--------------+--------------+-------"
for i in "${!M_NAME[@]}"; do
    printf '%-38s| %12s | %12s | %6s\n' "${M_NAME[$i]}" "${M_COW[$i]}" "${M_HEAP[$i]}" \
        "$(awk -v c="${M_COW[$i]}" -v h="${M_HEAP[$i]}" 'BEGIN { printf "%.2f", c / h }')"
done
echo
echo "ratio: incetl_cow / heap instructions (below 1: incetl_cow executes fewer)"
