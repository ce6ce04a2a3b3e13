#!/usr/bin/env bash
# test/bench/cow_bench.sh -- incetl_cow against heap on one orders table
#
# Runs on a throwaway cluster (test/lib.sh; port INCETL_COW_BENCH_PORT,
# default 54372; as root the server runs as $INCETL_TEST_USER).  Assumes
# incetl is built and installed in the PostgreSQL of INCETL_PG_BIN; builds
# nothing.  Same data and same run for every row of the table:
#
#   orders(id bigint, customer_id bigint, amount numeric(12,2), status text,
#          note text, updated_at timestamptz), BENCH_ROWS (5 M) rows, loaded
#   into orders_heap (heap, PRIMARY KEY (id) present during the load: it is
#   what gives heap the record-key semantics incetl_cow has natively) and
#   orders_cow (USING incetl_cow, record_key id, precombine updated_at, no
#   index: the record key needs none).
#
#   size      pg_total_relation_size after the load (heap: table + its PK;
#             incetl_cow: the table), after VACUUM ANALYZE + CHECKPOINT
#   load      INSERT INTO t SELECT * FROM orders_src into the empty table.
#             orders_src is a heap filled in id order, but shorter rows
#             backfill space left in earlier pages, so its scan is only
#             nearly in key order: incetl_cow merges it a file group at a
#             time through a small reordering heap, sorting only the rows
#             that come too late (cow_write_state.c, CowReorder).
#             Then again from orders_sorted, a CREATE TABLE AS ... ORDER BY
#             id copy (scanned in key order: incetl_cow merges it a file
#             group's worth at a time)
#   upsert    1 % of the rows (BENCH_ROWS / 100): 80 % updates of existing
#             keys, 20 % new keys, 5 % of the batch a second version of a
#             key in the batch; "skewed": updates to the newest 5 % of keys;
#             "uniform": updates to keys drawn uniformly.  heap: INSERT ...
#             SELECT DISTINCT ON (id) ... ORDER BY id, updated_at DESC ON
#             CONFLICT (id) DO UPDATE ... WHERE t.updated_at <=
#             EXCLUDED.updated_at; incetl_cow: INSERT ... SELECT (its upsert).
#             Each repetition applies a fresh batch to both tables.
#             Rewrite rate: rows of the file groups the commit rewrote
#             (file_groups_written x rows per file group) per second.
#   sum       SELECT sum(amount) (warm: one untimed run first); incetl_cow
#             computes it in its aggregate scan (incetl.cow_aggregate_pushdown,
#             on by default); the same query with the setting off (a Finalize
#             Aggregate over Gather + Parallel Seq Scan, as heap's, the workers
#             sized by the raw bytes: the plans' worker counts are printed) is
#             measured too and reported on its own line
#   range     SELECT * WHERE id BETWEEN c AND c + 99 (literal constants,
#             random c), BENCH_LOOKUPS pairs interleaved statement by
#             statement in one session as the lookups' pairs below, the
#             median of each table's: heap through
#             its primary key, incetl_cow without any index (a sequential
#             scan that skips file groups by min/max and finds the range in
#             the one it reads by binary search over the key column)
#             and again after the lookups below, incetl_cow with the btree
#             made for them (the planner's choice: the key-range scan when
#             it costs less than the index) and, reported alone, forced
#             through that btree (enable_seqscan = off)
#   lookup    SELECT * WHERE id = const through a btree index (incetl_cow:
#             CREATE INDEX on id, made after the upserts), BENCH_LOOKUPS
#             lookups in one session per table and round, BENCH_REPS rounds
#             alternating which table goes first (the same keys for both
#             in a round), the median of all of each table's (reported);
#             then BENCH_REPS sessions of BENCH_LOOKUPS pairs interleaved
#             statement by statement, the same key for both tables: the
#             goal's figure, since a round of one table and the next
#             round of the other meet different moments of a shared
#             machine (medians moved 4x between rounds on the development
#             VM while the pairs' ratio held); then from pgbench with
#             client and server on one CPU (taskset), BENCH_REPS runs of
#             BENCH_PGBENCH_SECONDS (5) per table: psql's statements on a
#             2-core VM also wait for the other core to wake, the same for
#             both tables, which flattens the paired ratio; then
#             SELECT updated_at (the last column alone) that way; the key
#             ranges with the btree (below) are measured that way too;
#             then BENCH_REPS new sessions of BENCH_LOOKUPS lookups per
#             table (literal keys another session read before): the
#             backend's CPU time and minor page faults a lookup (reported)
#             and both again after the index rounds below, when the
#             versions have row-number maps (rows a rewrite carries keep
#             their numbers once a btree needs them kept), with sessions
#             of a single lookup too (10 x BENCH_REPS of each table)
#   index     size of the btree on id (the lookup's index) against heap's
#             primary key after BENCH_INDEX_ROUNDS (10) more uniform 1 %
#             upserts with VACUUM after them, then as many again with
#             VACUUM after each round
#   memory    VmHWM of the backend (from its /proc/self/status, read by the
#             backend itself with pg_read_file) after INSERT ... SELECT of
#             BENCH_MEM_ROWS (10 M) rows into an empty table, fresh session
#             each; VmHWM counts the shared_buffers pages the backend touched
#             (test/bench/mem_bench.sh repeats this row alone)
#
# Conventions of run_bench.sh: median of BENCH_REPS (3), VACUUM ANALYZE +
# CHECKPOINT before every measurement, client-side times (psql \timing),
# alternating which side goes first.  After every step both tables must hold
# the same rows (EXCEPT ALL both ways), or the script fails.
#
# Knobs: INCETL_COW_BENCH_PORT (54372), INCETL_BENCH_DIR
#        (/tmp/incetl-cow-bench-<user>), BENCH_ROWS (5000000), BENCH_REPS (3),
#        BENCH_LOOKUPS (200), BENCH_MEM_ROWS (10000000; 0 skips),
#        BENCH_INDEX_ROUNDS (10), BENCH_PGBENCH_SECONDS (5),
#        BENCH_KEEP=1 leaves the cluster running,
#        BENCH_COMPRESSION_LEVEL (unset: the table default) sets incetl_cow's
#        compression_level option.

set -euo pipefail
export LC_ALL=C

SRC_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=test/lib.sh
source "$SRC_DIR/test/lib.sh"

PORT=${INCETL_COW_BENCH_PORT:-54372}
RUNNER=$(incetl_runner_user)
BENCH_DIR=${INCETL_BENCH_DIR:-/tmp/incetl-cow-bench-$RUNNER}
ROWS=${BENCH_ROWS:-5000000}
REPS=${BENCH_REPS:-3}
LOOKUPS=${BENCH_LOOKUPS:-200}
MEM_ROWS=${BENCH_MEM_ROWS:-10000000}
IDX_ROUNDS=${BENCH_INDEX_ROUNDS:-10}
LEVEL_OPT=${BENCH_COMPRESSION_LEVEL:+, compression_level => $BENCH_COMPRESSION_LEVEL}
C=$BENCH_DIR/cluster
BATCH=$((ROWS / 100))
B_NEW=$((BATCH / 5))
B_DUP=$((BATCH / 20))
B_UPD=$((BATCH - B_NEW - B_DUP))

# shellcheck source=test/bench/bench.bash
source "$SRC_DIR/test/bench/bench.bash"

# time_sql with incetl_cow's aggregate pushdown off
time_sql_nopush() {
    local out
    out=$(psql_b -At -c 'SET incetl.cow_aggregate_pushdown = off' -c '\timing on' -c "$1")
    sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' <<<"$out" | tail -n 1
}

assert_equal() {   # $1 step name
    local diff
    diff=$(psql_b -At -c "SELECT (SELECT count(*) FROM (TABLE orders_cow EXCEPT ALL TABLE orders_heap) x)
                                + (SELECT count(*) FROM (TABLE orders_heap EXCEPT ALL TABLE orders_cow) y)")
    [ "$diff" = 0 ] || incetl_die "after $1: orders_cow and orders_heap differ in $diff rows"
    echo "   after $1: both tables hold the same $(psql_b -At -c 'SELECT count(*) FROM orders_heap') rows"
}

COLS="id, customer_id, amount, status, note, updated_at"
SETS="customer_id = EXCLUDED.customer_id, amount = EXCLUDED.amount, status = EXCLUDED.status, note = EXCLUDED.note, updated_at = EXCLUDED.updated_at"
heap_upsert_sql() {   # $1 batch table
    echo "INSERT INTO orders_heap AS t ($COLS)
SELECT DISTINCT ON (id) $COLS FROM $1 ORDER BY id, updated_at DESC
ON CONFLICT (id) DO UPDATE SET $SETS WHERE t.updated_at <= EXCLUDED.updated_at"
}
cow_upsert_sql() { echo "INSERT INTO orders_cow ($COLS) SELECT $COLS FROM $1"; }

# --------------------------------------------------------------------------
bench_start_cluster
echo "$(bench_settings), incetl_cow compression_level ${BENCH_COMPRESSION_LEVEL:-default}"

incetl_log "generating $ROWS source rows"
psql_q <<SQL
CREATE EXTENSION incetl;
$(bench_orders_src_sql "$ROWS")
CREATE TABLE orders_heap (LIKE orders_src, PRIMARY KEY (id));
CREATE TABLE orders_cow (LIKE orders_src) USING incetl_cow;
SELECT incetl.set_table_options('orders_cow', record_key => 'id', precombine => 'updated_at'$LEVEL_OPT);
SQL
settle

# --------------------------------------------------------------------------
incetl_log "full load of $ROWS rows, $REPS times each"
# incetl_cow's TRUNCATE keeps the versions before it while they are retained
# (as_of and changes of earlier commits): each load goes into a new table
load_cow() {
    psql_q -c "DROP TABLE orders_cow" -c "CREATE TABLE orders_cow (LIKE orders_src) USING incetl_cow" \
        -c "SELECT incetl.set_table_options('orders_cow', record_key => 'id', precombine => 'updated_at'$LEVEL_OPT)"
    settle orders_cow
    time_sql "INSERT INTO orders_cow SELECT * FROM $1"
}
load_heap() { psql_q -c "TRUNCATE orders_heap"; settle orders_heap; time_sql "INSERT INTO orders_heap SELECT * FROM $1"; }
# loads_from SRC: REPS loads of each table from SRC, alternating which side
# goes first; the times in LOAD_COW and LOAD_HEAP
loads_from() {
    local rep
    LOAD_COW=() LOAD_HEAP=()
    for rep in $(seq 1 "$REPS"); do
        if [ $((rep % 2)) -eq 1 ]; then LOAD_COW+=("$(load_cow "$1")"); LOAD_HEAP+=("$(load_heap "$1")")
        else LOAD_HEAP+=("$(load_heap "$1")"); LOAD_COW+=("$(load_cow "$1")"); fi
        echo "   rep $rep: incetl_cow ${LOAD_COW[-1]} ms, heap ${LOAD_HEAP[-1]} ms"
    done
}
loads_from orders_src
L_COW=("${LOAD_COW[@]}") L_HEAP=("${LOAD_HEAP[@]}")
settle "orders_cow, orders_heap"
assert_equal "full load"
incetl_log "full load of $ROWS rows from a source in key order, $REPS times each"
psql_q -c "CREATE TABLE orders_sorted AS SELECT * FROM orders_src ORDER BY id"
settle orders_sorted
loads_from orders_sorted
LS_COW=("${LOAD_COW[@]}") LS_HEAP=("${LOAD_HEAP[@]}")
psql_q -c "DROP TABLE orders_sorted"
settle "orders_cow, orders_heap"
assert_equal "full load in key order"
S_COW=$(psql_b -At -c "SELECT pg_total_relation_size('orders_cow')")
S_HEAP=$(psql_b -At -c "SELECT pg_total_relation_size('orders_heap')")
S_HEAP_T=$(psql_b -At -c "SELECT pg_table_size('orders_heap')")
echo "   sizes: incetl_cow $S_COW bytes; heap $S_HEAP bytes ($S_HEAP_T table + $((S_HEAP - S_HEAP_T)) primary key)"
psql_b -c "SELECT file_groups, rows, compression_ratio FROM incetl.table_stats('orders_cow')"

# --------------------------------------------------------------------------
# upsert batches: $1 name, $2 seed, $3 "skewed" | "uniform"
make_batch() {
    local keys
    if [ "$3" = skewed ]; then
        keys="SELECT DISTINCT ($ROWS - floor(random() * ($ROWS / 20)))::bigint AS id FROM generate_series(1, $B_UPD * 3)"
    else
        keys="SELECT DISTINCT (1 + floor(random() * $ROWS))::bigint AS id FROM generate_series(1, $B_UPD * 2)"
    fi
    psql_q <<SQL
SELECT setseed($2 / 100.0);
DROP TABLE IF EXISTS $1;
CREATE TABLE $1 AS
WITH upd AS (SELECT id FROM ($keys) k ORDER BY random() LIMIT $B_UPD),
     newk AS (SELECT m + g AS id FROM (SELECT max(id) AS m FROM orders_heap) x, generate_series(1, $B_NEW) g),
     allk AS (SELECT id FROM upd UNION ALL SELECT id FROM newk),
     dup AS (SELECT id FROM allk ORDER BY random() LIMIT $B_DUP),
     rows_ AS (SELECT id, 0 AS v FROM allk UNION ALL SELECT id, 1 FROM dup)
SELECT id, 1 + floor(random() * 100000)::bigint AS customer_id,
       round((random() * 1000)::numeric, 2) AS amount,
       (ARRAY['new', 'paid', 'shipped', 'delivered', 'cancelled'])[1 + floor(random() * 5)::int] AS status,
       'change ' || id || ' ' || md5(random()::text) AS note,
       timestamptz '2027-01-01' + ($2 * 1000 + v) * interval '1 minute' AS updated_at
FROM rows_ ORDER BY random();
SQL
}
U_SKEW_COW=() U_SKEW_HEAP=() U_UNI_COW=() U_UNI_HEAP=() REWRITE=()
upsert_rep() {   # $1 kind $2 rep: prints "cow_ms heap_ms"
    local b="batch_$1_$2" tc th
    make_batch "$b" "$2" "$1" >/dev/null
    settle "$b, orders_cow, orders_heap" >/dev/null
    if [ $(($2 % 2)) -eq 1 ]; then
        tc=$(time_sql "$(cow_upsert_sql "$b")"); psql_q -c CHECKPOINT
        th=$(time_sql "$(heap_upsert_sql "$b")")
    else
        th=$(time_sql "$(heap_upsert_sql "$b")"); psql_q -c CHECKPOINT
        tc=$(time_sql "$(cow_upsert_sql "$b")")
    fi
    echo "$tc $th"
}
for kind in skewed uniform; do
    incetl_log "1 % upsert ($BATCH rows: $B_UPD updates ($kind), $B_NEW new keys, $B_DUP second versions), $REPS times each"
    for rep in $(seq 1 "$REPS"); do
        seed=$rep; [ "$kind" = uniform ] && seed=$((rep + 10))
        read -r tc th <<<"$(upsert_rep "$kind" "$seed")"
        read -r ins upd fgw <<<"$(psql_b -At -F ' ' -c "SELECT rows_inserted, rows_updated, file_groups_written
            FROM incetl.commits('orders_cow') ORDER BY commit_id DESC LIMIT 1")"
        rows_per_fg=$(psql_b -At -c "SELECT round(rows::numeric / greatest(file_groups, 1)) FROM incetl.table_stats('orders_cow')")
        rw=$((fgw * rows_per_fg))
        if [ "$kind" = skewed ]; then U_SKEW_COW+=("$tc") U_SKEW_HEAP+=("$th")
        else U_UNI_COW+=("$tc") U_UNI_HEAP+=("$th"); REWRITE+=("$(awk -v r="$rw" -v t="$tc" 'BEGIN { printf "%.0f", r / (t / 1000) }')"); fi
        echo "   rep $rep: incetl_cow $tc ms (inserted $ins, updated $upd, $fgw file groups written, ~$rw rows at the average group size), heap $th ms"
        settle "orders_cow, orders_heap" >/dev/null
        assert_equal "$kind upsert $rep"
    done
done

# --------------------------------------------------------------------------
incetl_log "SELECT sum(amount), $REPS times each (after one untimed run)"
settle "orders_cow, orders_heap"
SUM_C=$(psql_b -At -c "SELECT sum(amount) FROM orders_cow") SUM_H=$(psql_b -At -c "SELECT sum(amount) FROM orders_heap")
[ "$SUM_C" = "$SUM_H" ] || incetl_die "sum(amount) differs: incetl_cow $SUM_C, heap $SUM_H"
SUM_N=$(psql_b -At -c "SET incetl.cow_aggregate_pushdown = off" -c "SELECT sum(amount) FROM orders_cow")
[ "$SUM_N" = "$SUM_H" ] || incetl_die "sum(amount) without pushdown differs: incetl_cow $SUM_N, heap $SUM_H"
for t in orders_cow orders_heap; do
    echo "   $t: $(psql_b -At -c "EXPLAIN SELECT sum(amount) FROM $t" | head -n 1)"
done
for t in orders_cow orders_heap; do
    echo "   $t, pushdown off: $(psql_b -At -c 'SET incetl.cow_aggregate_pushdown = off' \
        -c "EXPLAIN SELECT sum(amount) FROM $t" | grep -E 'Workers Planned|Seq Scan' | tr -s ' ' | paste -sd ' ')"
done
Q_COW=() Q_HEAP=() Q_NOPUSH=()
for rep in $(seq 1 "$REPS"); do
    Q_COW+=("$(time_sql "SELECT sum(amount) FROM orders_cow")")
    Q_HEAP+=("$(time_sql "SELECT sum(amount) FROM orders_heap")")
    Q_NOPUSH+=("$(time_sql_nopush "SELECT sum(amount) FROM orders_cow")")
    echo "   rep $rep: incetl_cow ${Q_COW[-1]} ms, heap ${Q_HEAP[-1]} ms, incetl_cow without pushdown ${Q_NOPUSH[-1]} ms"
done

# --------------------------------------------------------------------------
incetl_log "key ranges of 100 rows ($LOOKUPS in one session, median; incetl_cow has no index)"
settle "orders_cow, orders_heap"
range_times() {   # $1 table, $2 a SET to run first (optional): median of LOOKUPS ranges
    {
        [ -z "${2:-}" ] || echo "$2;"
        echo '\timing on'
        awk -v n="$LOOKUPS" -v rows="$ROWS" -v t="$1" 'BEGIN {
            srand(11);
            for (i = 0; i <= n; i++) {
                c = 1 + int(rand() * (rows - 100));
                printf "SELECT * FROM %s WHERE id BETWEEN %d AND %d;\n", t, c, c + 99
            }
        }'
    } | psql_b -At -o /dev/null 2>&1 | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | tail -n "$LOOKUPS" | median
}
# the ranges paired, as the point lookups are (lookup_pairs): both tables
# in one session, statement by statement, the same range for both, which
# goes first alternating; "cow heap", the medians of each
range_pairs() {
    local t
    t=$({
        echo '\timing on'
        awk -v n="$LOOKUPS" -v rows="$ROWS" 'BEGIN {
            srand(11);
            for (i = 0; i <= n; i++) {
                c = 1 + int(rand() * (rows - 100));
                a = (i % 2 == 0) ? "orders_cow" : "orders_heap";
                b = (i % 2 == 0) ? "orders_heap" : "orders_cow";
                printf "SELECT * FROM %s WHERE id BETWEEN %d AND %d;\n", a, c, c + 99;
                printf "SELECT * FROM %s WHERE id BETWEEN %d AND %d;\n", b, c, c + 99
            }
        }'
    } | psql_b -At -o /dev/null 2>&1 | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | tail -n $((2 * LOOKUPS)))
    # after the first pair (left out, warming both): pair i is lines 2i-1,
    # 2i; pair 1 had heap first, pair 2 incetl_cow, ...
    echo "$(awk 'NR % 2 == 1 { a = $1; next } { if ((NR / 2) % 2 == 1) print $1; else print a }' <<<"$t" | median)" \
         "$(awk 'NR % 2 == 1 { a = $1; next } { if ((NR / 2) % 2 == 1) print a; else print $1 }' <<<"$t" | median)"
}
for t in orders_cow orders_heap; do
    plan=$(psql_b -At -c "EXPLAIN SELECT * FROM $t WHERE id BETWEEN 1000 AND 1099" | head -n 1)
    echo "   $t: $plan"
done
ranges_equal() {   # $1 what: dies unless both tables return the same ranges
    local n
    n=$(psql_b -At -c "SELECT count(*) FROM generate_series(1, $ROWS, 99991) g
    WHERE (SELECT array_agg(row(c.*)::text ORDER BY id) FROM orders_cow c WHERE id BETWEEN g AND g + 99) IS DISTINCT FROM
          (SELECT array_agg(row(h.*)::text ORDER BY id) FROM orders_heap h WHERE id BETWEEN g AND g + 99)")
    [ "$n" = 0 ] || incetl_die "$1 return different rows ($n ranges)"
}
read -r R_COW R_HEAP <<<"$(range_pairs)"
ranges_equal "key ranges"

# --------------------------------------------------------------------------
incetl_log "point lookups through a btree index ($LOOKUPS in one session, median)"
psql_q -c "CREATE INDEX orders_cow_id_idx ON orders_cow (id)"
settle "orders_cow, orders_heap"
S_COW_IDX=$(psql_b -At -c "SELECT pg_table_size('orders_cow') || ' ' || pg_indexes_size('orders_cow')")
lookup_times() {   # $1 table, $2 seed: the times of LOOKUPS literal lookups, one a line
    {
        echo "SELECT setseed($2);"
        echo '\timing on'
        for _ in $(seq 0 "$LOOKUPS"); do
            echo "SELECT * FROM $1 WHERE id = (SELECT 1 + floor(random() * $ROWS)::bigint);"
        done
    } | psql_b -At -o /dev/null 2>&1 | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | tail -n "$LOOKUPS"
}
for t in orders_cow orders_heap; do
    plan=$(psql_b -At -c "EXPLAIN SELECT * FROM $t WHERE id = 12345" | head -n 1)
    echo "   $t: $plan"
done
# REPS rounds alternating which table goes first, the same keys for both
# in a round; the medians of all the lookups of each table
P_COW_ALL=() P_HEAP_ALL=()
for rep in $(seq 1 "$REPS"); do
    seed=0.$((70 + rep))
    if [ $((rep % 2)) = 1 ]; then
        mapfile -t -O "${#P_COW_ALL[@]}" P_COW_ALL < <(lookup_times orders_cow "$seed")
        mapfile -t -O "${#P_HEAP_ALL[@]}" P_HEAP_ALL < <(lookup_times orders_heap "$seed")
    else
        mapfile -t -O "${#P_HEAP_ALL[@]}" P_HEAP_ALL < <(lookup_times orders_heap "$seed")
        mapfile -t -O "${#P_COW_ALL[@]}" P_COW_ALL < <(lookup_times orders_cow "$seed")
    fi
    echo "   round $rep: incetl_cow median $(printf '%s\n' "${P_COW_ALL[@]: -$LOOKUPS}" | median) ms," \
         "heap $(printf '%s\n' "${P_HEAP_ALL[@]: -$LOOKUPS}" | median) ms"
done
P_COW=$(printf '%s\n' "${P_COW_ALL[@]}" | median)
P_HEAP=$(printf '%s\n' "${P_HEAP_ALL[@]}" | median)
echo "   point lookup: incetl_cow $P_COW ms, heap $P_HEAP ms (medians of $((REPS * LOOKUPS)) each), heap / incetl_cow $(awk -v c="$P_COW" -v h="$P_HEAP" 'BEGIN { printf "%.2f", h / c }')"
# The same lookups paired: incetl_cow and heap alternate statement by
# statement in one session, the same key for both, which of them goes
# first alternating too, so that both meet the same moment of a noisy
# machine (rounds of one table then the other catch different ones);
# medians of all the pairs' times
lookup_pairs() {   # $1 seed: "cow heap" times of LOOKUPS pairs, one pair a line
    {
        echo "SELECT setseed($1);"
        echo '\timing on'
        for i in $(seq 1 "$LOOKUPS"); do
            echo "SELECT (1 + floor(random() * $ROWS))::bigint AS k \\gset"
            if [ $((i % 2)) = 0 ]; then
                echo "SELECT * FROM orders_cow WHERE id = :k;"
                echo "SELECT * FROM orders_heap WHERE id = :k;"
            else
                echo "SELECT * FROM orders_heap WHERE id = :k;"
                echo "SELECT * FROM orders_cow WHERE id = :k;"
            fi
        done
    } | psql_b -At -o /dev/null 2>&1 | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' |
        awk '{ t[NR] = $1 }
             END { for (i = 1; 3 * i <= NR; i++) { a = t[3 * i - 1]; b = t[3 * i]; if (i % 2 == 0) print a, b; else print b, a } }'
}
paired_medians() {   # $1 seed base: "cow heap" medians of REPS x LOOKUPS pairs, and their count
    local rep pair cows=() heaps=() pairs
    for rep in $(seq 1 "$REPS"); do
        mapfile -t pairs < <(lookup_pairs "0.$(($1 + rep))")
        for pair in "${pairs[@]}"; do
            cows+=("${pair% *}")
            heaps+=("${pair#* }")
        done
    done
    echo "$(printf '%s\n' "${cows[@]}" | median) $(printf '%s\n' "${heaps[@]}" | median) ${#cows[@]}"
}
read -r PI_COW PI_HEAP PI_N <<<"$(paired_medians 80)"
echo "   point lookup, interleaved per statement: incetl_cow $PI_COW ms, heap $PI_HEAP ms (medians of $PI_N pairs), heap / incetl_cow $(awk -v c="$PI_COW" -v h="$PI_HEAP" 'BEGIN { printf "%.2f", h / c }')"
# The same lookups from pgbench, client and server on one CPU: psql's
# round trip on a 2-core VM adds the wake-up of a process on the other
# core (pgbench measured 276 us a heap lookup that way, 41 us on one core)
# to both tables alike, which flattens their ratio; on one core what is
# left is the server's work and one round trip.  The backends pgbench
# starts inherit the postmaster's CPU, set for this measure alone.
# BENCH_PGBENCH_SECONDS (5) a run, REPS runs of each table alternating;
# the medians of the runs' average latencies.
PGB_SECS=${BENCH_PGBENCH_SECONDS:-5}
pgbench_run() {   # $1 table, $2 statement (:k a random key, TABLE the table): average latency (ms)
    local f=$BENCH_DIR/pgbench_$1.sql
    printf '\\set k random(1, %s)\n%s;\n' "$ROWS" "${2//TABLE/$1}" > "$f"
    chmod 644 "$f"
    incetl_as_runner taskset -c 0 "$INCETL_PG_BIN/pgbench" -n -M simple -c 1 -T "$PGB_SECS" \
        -f "$f" -h "$C/sock" -p "$PORT" -U "$RUNNER" bench 2>/dev/null |
        sed -n 's/^latency average = \([0-9.]*\) ms.*/\1/p'
}
pgbench_pair() {   # $1 statement: "cow heap" medians of REPS runs of each table, alternating
    local rep cows=() heaps=() pm
    pm=$(head -n 1 "$C/data/postmaster.pid")
    taskset -apc 0 "$pm" >/dev/null
    for rep in $(seq 1 "$REPS"); do
        if [ $((rep % 2)) = 1 ]; then
            cows+=("$(pgbench_run orders_cow "$1")") heaps+=("$(pgbench_run orders_heap "$1")")
        else
            heaps+=("$(pgbench_run orders_heap "$1")") cows+=("$(pgbench_run orders_cow "$1")")
        fi
    done
    taskset -apc "0-$(($(nproc) - 1))" "$pm" >/dev/null
    echo "$(printf '%s\n' "${cows[@]}" | median) $(printf '%s\n' "${heaps[@]}" | median)"
    echo "   runs: incetl_cow ${cows[*]}, heap ${heaps[*]} ms" >&2
}
read -r PG_COW PG_HEAP <<<"$(pgbench_pair "SELECT * FROM TABLE WHERE id = :k")"
echo "   point lookup, pgbench on one CPU: incetl_cow $PG_COW ms, heap $PG_HEAP ms, heap / incetl_cow $(awk -v c="$PG_COW" -v h="$PG_HEAP" 'BEGIN { printf "%.2f", h / c }')"
# A lookup of the last column alone: an Index Scan decodes the columns its
# plan reads (cow_hooks.c, CowBeginIndexScan), where the slot's deforming
# would ask for every column up to it
read -r PO_COW PO_HEAP <<<"$(pgbench_pair "SELECT updated_at FROM TABLE WHERE id = :k")"
echo "   lookup of one column, pgbench on one CPU: incetl_cow $PO_COW ms, heap $PO_HEAP ms, heap / incetl_cow $(awk -v c="$PO_COW" -v h="$PO_HEAP" 'BEGIN { printf "%.2f", h / c }')"
# A new session's lookups: a backend's first lookups cost more than a
# pooled one's (its read cache is empty; each page of shared memory it
# reads first, shared buffers and the shared frame cache, is a page fault),
# incetl_cow's more than heap's (a row's columns lie in several blocks).
# The backend's own CPU time (/proc/self/schedstat) and minor page faults
# (/proc/self/stat) over LOOKUPS lookups by keys the client makes, divided
# by them; REPS sessions of each table, alternating, each after another
# session read the same keys (their pages in shared buffers, incetl_cow's
# frames in the shared cache); the medians.
newsession_lookups() {   # $1 table, $2 seed[, $3 lookups (LOOKUPS)]: "us faults" a lookup
    local n=${3:-$LOOKUPS}
    local q="SELECT split_part(pg_read_file('/proc/self/schedstat'), ' ', 1)::bigint AS ns, split_part(s, ' ', 10)::bigint AS f FROM pg_read_file('/proc/self/stat') s"
    {
        echo "$q \\gset a_"
        awk -v n="$n" -v seed="$2" -v t="$1" -v rows="$ROWS" 'BEGIN {
            srand(seed)
            for (i = 0; i < n; i++) printf "SELECT * FROM %s WHERE id = %d;\n", t, 1 + int(rand() * rows)
        }'
        echo "$q \\gset b_"
        echo '\o'
        echo "SELECT round((:b_ns - :a_ns) / 1000.0 / $n, 1) || ' ' || round((:b_f - :a_f)::numeric / $n, 2);"
    } | psql_b -At -o /dev/null
}
newsession_medians() {   # $1 seed base, $2 label[, $3 lookups a session (LOOKUPS), $4 sessions (REPS)]:
                         # "cow_us heap_us cow_faults heap_faults", medians of the sessions of each table
    local rep tc th fc fh ct=() ht=() cf=() hf=() n=${3:-$LOOKUPS}
    for rep in $(seq 1 "${4:-$REPS}"); do
        newsession_lookups orders_cow $(($1 + rep)) "$n" >/dev/null
        newsession_lookups orders_heap $(($1 + rep)) "$n" >/dev/null
        if [ $((rep % 2)) = 1 ]; then
            read -r tc fc <<<"$(newsession_lookups orders_cow $(($1 + rep)) "$n")"
            read -r th fh <<<"$(newsession_lookups orders_heap $(($1 + rep)) "$n")"
        else
            read -r th fh <<<"$(newsession_lookups orders_heap $(($1 + rep)) "$n")"
            read -r tc fc <<<"$(newsession_lookups orders_cow $(($1 + rep)) "$n")"
        fi
        ct+=("$tc") ht+=("$th") cf+=("$fc") hf+=("$fh")
        if [ "$n" -gt 1 ]; then
            echo "   new session $rep$2: incetl_cow $tc us and $fc page faults a lookup, heap $th us and $fh" >&2
        fi
    done
    echo "$(printf '%s\n' "${ct[@]}" | median) $(printf '%s\n' "${ht[@]}" | median)" \
         "$(printf '%s\n' "${cf[@]}" | median) $(printf '%s\n' "${hf[@]}" | median)"
}
read -r NS_COW NS_HEAP NF_COW NF_HEAP <<<"$(newsession_medians 60 "")"
echo "   point lookup, a new session's backend: incetl_cow $NS_COW us, heap $NS_HEAP us of CPU a lookup, heap / incetl_cow $(awk -v c="$NS_COW" -v h="$NS_HEAP" 'BEGIN { printf "%.2f", h / c }'); page faults $NF_COW against $NF_HEAP"
P_EQ=$(psql_b -At -c "SELECT count(*) FROM generate_series(1, $ROWS, 99991) g
    WHERE (SELECT row(c.*)::text FROM orders_cow c WHERE id = g) IS DISTINCT FROM
          (SELECT row(h.*)::text FROM orders_heap h WHERE id = g)")
[ "$P_EQ" = 0 ] || incetl_die "point lookups return different rows ($P_EQ keys)"
# the key ranges again, incetl_cow now with the btree as heap: the planner
# weighs the key-range scan against the index (cow_hooks.c,
# CowCostKeyRange); then incetl_cow forced through the index
# (enable_seqscan = off), reported alone
incetl_log "key ranges of 100 rows with a btree on id ($LOOKUPS in one session, median)"
plan=$(psql_b -At -c "EXPLAIN SELECT * FROM orders_cow WHERE id BETWEEN 1000 AND 1099" | head -n 1)
echo "   orders_cow: $plan"
plan=$(psql_b -At -c "SET enable_seqscan = off" -c "EXPLAIN SELECT * FROM orders_cow WHERE id BETWEEN 1000 AND 1099" | grep -v '^SET$' | head -n 1)
echo "   orders_cow, enable_seqscan = off: $plan"
read -r RI_COW RI_HEAP <<<"$(range_pairs)"
RF_COW=$(range_times orders_cow "SET enable_seqscan = off")
ranges_equal "key ranges with the btree"
echo "   key range with the btree: incetl_cow $RI_COW ms (forced through the index $RF_COW ms), heap $RI_HEAP ms"
read -r RG_COW RG_HEAP <<<"$(pgbench_pair "SELECT * FROM TABLE WHERE id BETWEEN :k AND :k + 99")"
echo "   key range with the btree, pgbench on one CPU: incetl_cow $RG_COW ms, heap $RG_HEAP ms, heap / incetl_cow $(awk -v c="$RG_COW" -v h="$RG_HEAP" 'BEGIN { printf "%.2f", h / c }')"
assert_equal "index creation"

# --------------------------------------------------------------------------
# index size after upserts: the btree on id (made above) against heap's
# primary key, both maintained through IDX_ROUNDS uniform 1 % upserts;
# first VACUUM after the rounds only, then IDX_ROUNDS more with VACUUM after
# each (as autovacuum would)
index_rounds() {   # $1 first seed (the batches' seeds must stay below 100 and
                   # above the upserts' above: newer updated_at), $2 "each" | "after"
    local r
    for r in $(seq 1 "$IDX_ROUNDS"); do
        make_batch batch_idx "$(($1 + r))" uniform >/dev/null
        psql_q -c "$(cow_upsert_sql batch_idx)" -c "$(heap_upsert_sql batch_idx)"
        [ "$2" = each ] && psql_q -c "VACUUM orders_cow" -c "VACUUM orders_heap"
    done
    psql_q -c "DROP TABLE batch_idx" -c "VACUUM orders_cow" -c "VACUUM orders_heap"
    psql_b -At -F ' ' -c "SELECT pg_relation_size('orders_cow_id_idx'), pg_relation_size('orders_heap_pkey')"
}
incetl_log "index size: $IDX_ROUNDS uniform 1 % upserts, VACUUM after them; then $IDX_ROUNDS more, VACUUM after each"
I0=$(psql_b -At -F ' ' -c "SELECT pg_relation_size('orders_cow_id_idx'), pg_relation_size('orders_heap_pkey')")
read -r I_COW I_HEAP <<<"$(index_rounds 20 after)"
read -r IE_COW IE_HEAP <<<"$(index_rounds 40 each)"
echo "   before: incetl_cow $(cut -d' ' -f1 <<<"$I0") bytes, heap $(cut -d' ' -f2 <<<"$I0") bytes;" \
     "VACUUM after the rounds: $I_COW, $I_HEAP; VACUUM after each: $IE_COW, $IE_HEAP"
assert_equal "index rounds"
# Lookups again, now that the btree saw upserts: rows a rewrite carried
# keep their row numbers (their index entries stay), so each version has a
# row-number map, which the lookups above (the btree made after the
# upserts: fresh numbers, no maps) never read.  Paired as above, and in new
# sessions (the maps in the shared cache, searched there in place).
incetl_log "point lookups after the index rounds (versions with row-number maps)"
psql_q -c "VACUUM ANALYZE orders_cow" -c "VACUUM ANALYZE orders_heap"
read -r PM_COW PM_HEAP PM_N <<<"$(paired_medians 90)"
echo "   point lookup with maps, interleaved per statement: incetl_cow $PM_COW ms, heap $PM_HEAP ms (medians of $PM_N pairs), heap / incetl_cow $(awk -v c="$PM_COW" -v h="$PM_HEAP" 'BEGIN { printf "%.2f", h / c }')"
read -r NM_COW NM_HEAP NMF_COW NMF_HEAP <<<"$(newsession_medians 70 " with maps")"
# sessions of a single lookup: all of a new backend's first touches and
# first catalog reads go to that one statement (10 x REPS sessions a table)
read -r N1_COW N1_HEAP N1F_COW N1F_HEAP <<<"$(newsession_medians 100 "" 1 $((10 * REPS)))"
echo "   a session of one lookup (maps): incetl_cow $N1_COW us and $N1F_COW page faults, heap $N1_HEAP us and $N1F_HEAP (medians of $((10 * REPS)) sessions each)"

# --------------------------------------------------------------------------
M_COW="" M_HEAP="" M_COW2="" M_HEAP2=""
if [ "$MEM_ROWS" -gt 0 ]; then
    incetl_log "peak memory of an INSERT ... SELECT of $MEM_ROWS rows (backend VmHWM)"
    psql_q <<SQL
DROP TABLE orders_heap, orders_cow;
CREATE TABLE mem_src (LIKE orders_src);
INSERT INTO mem_src SELECT * FROM orders_src;
INSERT INTO mem_src SELECT id + $ROWS, customer_id, amount, status, note, updated_at + interval '1 year'
    FROM orders_src WHERE id <= $MEM_ROWS - $ROWS;
CREATE TABLE mem_heap (LIKE orders_src, PRIMARY KEY (id));
CREATE TABLE mem_heap2 (LIKE orders_src, PRIMARY KEY (id));
CREATE TABLE mem_cow (LIKE orders_src) USING incetl_cow;
SELECT incetl.set_table_options('mem_cow', record_key => 'id', precombine => 'updated_at'$LEVEL_OPT);
CREATE TABLE mem_cow2 (LIKE orders_src) USING incetl_cow;
SELECT incetl.set_table_options('mem_cow2', record_key => 'id', precombine => 'updated_at'$LEVEL_OPT);
SQL
    settle mem_src
    hwm() {   # $1 table [$2 ORDER BY]: "VmHWM_before_kB VmHWM_after_kB ms" of a fresh session
        local out
        out=$(psql_b -At <<SQL
SELECT 'hwm ' || substring(pg_read_file('/proc/self/status') from 'VmHWM:\s*(\d+)');
\timing on
INSERT INTO $1 SELECT * FROM mem_src ${2:-};
\timing off
SELECT 'hwm ' || substring(pg_read_file('/proc/self/status') from 'VmHWM:\s*(\d+)');
SQL
)
        echo "$(sed -n 's/^hwm //p' <<<"$out" | tr '\n' ' ')$(sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' <<<"$out")"
    }
    read -r m_before_c m_c t_c <<<"$(hwm mem_cow)"
    read -r m_before_h m_h t_h <<<"$(hwm mem_heap)"
    # keys in random order: incetl_cow spills the statement to a sort
    read -r m_before_c2 m_c2 t_c2 <<<"$(hwm mem_cow2 'ORDER BY md5(id::text)')"
    read -r m_before_h2 m_h2 t_h2 <<<"$(hwm mem_heap2 'ORDER BY md5(id::text)')"
    M_COW=$m_c M_HEAP=$m_h M_COW2=$m_c2 M_HEAP2=$m_h2
    echo "   key order,    incetl_cow: VmHWM $m_before_c kB at session start, $m_c kB after ($t_c ms)"
    echo "   key order,    heap:       VmHWM $m_before_h kB at session start, $m_h kB after ($t_h ms)"
    echo "   random order, incetl_cow: VmHWM $m_before_c2 kB at session start, $m_c2 kB after ($t_c2 ms)"
    echo "   random order, heap:       VmHWM $m_before_h2 kB at session start, $m_h2 kB after ($t_h2 ms)"
    [ "$(psql_b -At -c 'SELECT count(*) FROM mem_cow2')" = "$MEM_ROWS" ] || incetl_die "mem_cow2 lacks rows"
    [ "$(psql_b -At -c 'SELECT count(*) FROM mem_cow')" = "$MEM_ROWS" ] || incetl_die "mem_cow lacks rows"
fi

# --------------------------------------------------------------------------
LC=$(printf '%s\n' "${L_COW[@]}" | median) LH=$(printf '%s\n' "${L_HEAP[@]}" | median)
LSC=$(printf '%s\n' "${LS_COW[@]}" | median) LSH=$(printf '%s\n' "${LS_HEAP[@]}" | median)
USC=$(printf '%s\n' "${U_SKEW_COW[@]}" | median) USH=$(printf '%s\n' "${U_SKEW_HEAP[@]}" | median)
UUC=$(printf '%s\n' "${U_UNI_COW[@]}" | median) UUH=$(printf '%s\n' "${U_UNI_HEAP[@]}" | median)
RWR=$(printf '%s\n' "${REWRITE[@]}" | median)
QC=$(printf '%s\n' "${Q_COW[@]}" | median) QH=$(printf '%s\n' "${Q_HEAP[@]}" | median)
QN=$(printf '%s\n' "${Q_NOPUSH[@]}" | median)

echo
echo "incetl_cow vs heap, $ROWS rows; median of $REPS (point lookups: of $REPS x $LOOKUPS; key ranges: of $LOOKUPS); client-side times"
awk -v rows="$ROWS" -v batch="$BATCH" -v sc="$S_COW" -v sh="$S_HEAP" -v sci="${S_COW_IDX% *}" -v sii="${S_COW_IDX#* }" \
    -v lc="$LC" -v lh="$LH" -v lsc="$LSC" -v lsh="$LSH" -v usc="$USC" -v ush="$USH" -v uuc="$UUC" -v uuh="$UUH" -v rwr="$RWR" \
    -v ic="$I_COW" -v ih="$I_HEAP" -v iec="$IE_COW" -v ieh="$IE_HEAP" -v irounds="$IDX_ROUNDS" \
    -v qc="$QC" -v qh="$QH" -v qn="$QN" -v pc="$P_COW" -v ph="$P_HEAP" -v pic="$PI_COW" -v pih="$PI_HEAP" -v pgc="$PG_COW" -v pgh="$PG_HEAP" -v poc="$PO_COW" -v poh="$PO_HEAP" -v nsc="$NS_COW" -v nsh="$NS_HEAP" -v nfc="$NF_COW" -v nfh="$NF_HEAP" -v pmc="$PM_COW" -v pmh="$PM_HEAP" -v nmc="$NM_COW" -v nmh="$NM_HEAP" -v nmfc="$NMF_COW" -v nmfh="$NMF_HEAP" -v n1c="$N1_COW" -v n1h="$N1_HEAP" -v n1fc="$N1F_COW" -v n1fh="$N1F_HEAP" -v rgc="$RG_COW" -v rgh="$RG_HEAP" -v rc_="$R_COW" -v rh_="$R_HEAP" -v ric="$RI_COW" -v rih="$RI_HEAP" -v rfc="$RF_COW" -v mc="$M_COW" -v mh="$M_HEAP" -v mc2="$M_COW2" -v mh2="$M_HEAP2" -v mrows="$MEM_ROWS" '
function line(m, c, h, r, g) { printf "%-44s | %16s | %16s | %7s | %s\n", m, c, h, r, g }
BEGIN {
    line("measure", "incetl_cow", "heap", "ratio", "goal met?")
    print "---------------------------------------------+------------------+------------------+---------+----------"
    r = sc / sh
    line("size on disk (heap: with its primary key)", sprintf("%.1f MB", sc / 1048576), sprintf("%.1f MB", sh / 1048576),
         sprintf("%.3f", r), (r <= 0.20 ? "met" : "MISSED") " (<= 0.20 x)")
    rc = rows / (lc / 1000); rh = rows / (lh / 1000); r = rc / rh
    line("full load, rows/s", sprintf("%.0f", rc), sprintf("%.0f", rh), sprintf("%.2f", r),
         (r >= 1.5 ? "met (>= 1.0 x; aim 1.5 x reached too)" : (r >= 1.0 ? "met (>= 1.0 x; aim 1.5 x not reached)" : "MISSED (>= 1.0 x)")))
    line("  full load, ms", sprintf("%.0f ms", lc), sprintf("%.0f ms", lh), "", "")
    r = lsh / lsc
    line("  full load, source in key order, ms", sprintf("%.0f ms", lsc), sprintf("%.0f ms", lsh), sprintf("%.2f", r), "report")
    r = ush / usc
    line("1 % upsert, skewed to recent keys, ms", sprintf("%.0f ms", usc), sprintf("%.0f ms", ush), sprintf("%.2f", r),
         (r >= 1.0 ? "met" : "MISSED") " (speed >= 1.0 x)")
    r = uuh / uuc
    line("1 % upsert, uniformly random keys, ms", sprintf("%.0f ms", uuc), sprintf("%.0f ms", uuh), sprintf("%.2f", r), "report")
    line("  rewrite rate of that upsert, rows/s", sprintf("%.0f", rwr), "", "",
         (rwr >= 1000000 ? "met" : "MISSED") " (>= 1 M rows/s)")
    r = qh / qc
    line("SELECT sum(amount), ms", sprintf("%.1f ms", qc), sprintf("%.1f ms", qh), sprintf("%.2f", r),
         (r >= 2 ? "met" : "MISSED") " (>= 2 x faster)")
    r = qh / qn
    line("  the same, aggregate pushdown off, ms", sprintf("%.1f ms", qn), sprintf("%.1f ms", qh), sprintf("%.2f", r), "report")
    r = pih / pic
    line("point lookup, btree index, ms (paired)", sprintf("%.3f ms", pic), sprintf("%.3f ms", pih), sprintf("%.2f", r),
         (r >= 1 / 1.5 ? "met" : "MISSED") " (within 1.5 x of heap)")
    r = pgh / pgc
    line("  the same, pgbench on one CPU, ms", sprintf("%.3f ms", pgc), sprintf("%.3f ms", pgh), sprintf("%.2f", r),
         (r >= 1 / 1.5 ? "met" : "MISSED") " (within 1.5 x of heap)")
    r = poh / poc
    line("  one column (updated_at), pgbench, one CPU", sprintf("%.3f ms", poc), sprintf("%.3f ms", poh), sprintf("%.2f", r), "report")
    r = ph / pc
    line("  the same, rounds of one table at a time", sprintf("%.3f ms", pc), sprintf("%.3f ms", ph), sprintf("%.2f", r), "report")
    r = nsh / nsc
    line("  the same, new sessions, backend CPU, us", sprintf("%.1f us", nsc), sprintf("%.1f us", nsh), sprintf("%.2f", r), "report (backend CPU a lookup)")
    line("  page faults a lookup, new sessions", sprintf("%.2f", nfc), sprintf("%.2f", nfh), sprintf("%.2f", nfc / nfh), "report (minor faults)")
    r = pmh / pmc
    line("  after the index rounds (maps), paired", sprintf("%.3f ms", pmc), sprintf("%.3f ms", pmh), sprintf("%.2f", r),
         (r >= 1 / 1.5 ? "met" : "MISSED") " (within 1.5 x of heap)")
    r = nmh / nmc
    line("  the same, new sessions, backend CPU, us", sprintf("%.1f us", nmc), sprintf("%.1f us", nmh), sprintf("%.2f", r), "report (backend CPU a lookup)")
    line("  page faults a lookup, new sessions", sprintf("%.2f", nmfc), sprintf("%.2f", nmfh), sprintf("%.2f", nmfc / nmfh), "report (minor faults)")
    r = n1h / n1c
    line("  a session of one lookup, backend CPU, us", sprintf("%.1f us", n1c), sprintf("%.1f us", n1h), sprintf("%.2f", r), "report (backend CPU)")
    line("  page faults, a session of one lookup", sprintf("%.0f", n1fc), sprintf("%.0f", n1fh), sprintf("%.2f", n1fc / n1fh), "report (minor faults)")
    r = rh_ / rc_
    line("key range of 100 rows, ms (cow: no index)", sprintf("%.3f ms", rc_), sprintf("%.3f ms", rh_), sprintf("%.2f", r),
         (r >= 1 / 3 ? "met" : "MISSED") " (within 3 x of heap, its PK)")
    r = rih / ric
    line("  the same, btree on id, planner chooses", sprintf("%.3f ms", ric), sprintf("%.3f ms", rih), sprintf("%.2f", r),
         (r >= 1 / 1.5 ? "met" : "MISSED") " (within 1.5 x of heap)")
    r = rgh / rgc
    line("  the same, pgbench on one CPU, ms", sprintf("%.3f ms", rgc), sprintf("%.3f ms", rgh), sprintf("%.2f", r),
         (r >= 1 / 1.5 ? "met" : "MISSED") " (within 1.5 x of heap)")
    r = rih / rfc
    line("  cow forced through the btree", sprintf("%.3f ms", rfc), sprintf("%.3f ms", rih), sprintf("%.2f", r), "report")
    r = ic / ih
    line(sprintf("btree on id after %d upsert rounds, VACUUM", irounds), sprintf("%.1f MB", ic / 1048576), sprintf("%.1f MB", ih / 1048576),
         sprintf("%.2f", r), (r <= 1.5 ? "met" : "MISSED") " (<= 1.5 x the heap PK)")
    r = iec / ieh
    line("  the same, VACUUM after each round", sprintf("%.1f MB", iec / 1048576), sprintf("%.1f MB", ieh / 1048576),
         sprintf("%.2f", r), (r <= 1.5 ? "met" : "MISSED") " (<= 1.5 x the heap PK)")
    if (mc != "") {
        line(sprintf("peak memory, INSERT ... SELECT %d rows", mrows), sprintf("%.0f MB", mc / 1024), sprintf("%.0f MB", mh / 1024),
             sprintf("%.2f", mc / mh), "report (backend VmHWM)")
        line("  the same, rows in random key order", sprintf("%.0f MB", mc2 / 1024), sprintf("%.0f MB", mh2 / 1024),
             sprintf("%.2f", mc2 / mh2), "report (backend VmHWM)")
    }
    print ""
    print "ratio: size, index and memory incetl_cow / heap; speeds heap time / incetl_cow time (> 1: incetl_cow faster)"
    printf "incetl_cow after the upserts: table %.1f MB (superseded versions of the last 10 commits retained, retain_commits), btree index on id %.1f MB\n", sci / 1048576, sii / 1048576
}'
echo
echo "raw (ms): load cow ${L_COW[*]} | heap ${L_HEAP[*]}; load in key order cow ${LS_COW[*]} | heap ${LS_HEAP[*]}; skewed cow ${U_SKEW_COW[*]} | heap ${U_SKEW_HEAP[*]};" \
     "uniform cow ${U_UNI_COW[*]} | heap ${U_UNI_HEAP[*]}; sum cow ${Q_COW[*]} | heap ${Q_HEAP[*]} | cow without pushdown ${Q_NOPUSH[*]}"
