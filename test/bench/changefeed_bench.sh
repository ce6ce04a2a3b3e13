#!/usr/bin/env bash
# test/bench/changefeed_bench.sh -- the change feed of an incetl_cow table
# against what a user without it does on heap, and against a full scan
#
# Runs on a throwaway cluster (test/lib.sh; port INCETL_FEED_BENCH_PORT,
# default 54373; as root the server runs as $INCETL_TEST_USER).  Assumes
# incetl is built and installed in the PostgreSQL of INCETL_PG_BIN; builds
# nothing.
#
#   orders(id bigint, customer_id bigint, amount numeric(12,2), status text,
#          note text, updated_at timestamptz), BENCH_ROWS (5 M) rows, in
#   orders (USING incetl_cow, record_key id, precombine updated_at) and in
#   orders_heap (heap, PRIMARY KEY (id), an index on updated_at).
#
#   A 1 % change (BENCH_ROWS / 100 keys: 80 % updates, 10 % deletes of
#   other existing keys, 10 % new keys) applied to both tables as two
#   commits (one upsert statement, one DELETE), in two cases: "skewed", the
#   updated and deleted keys among the newest 5 % (what a CDC source mostly
#   sees: recent orders change), and "uniform", keys drawn from the whole
#   table.  Before each change orders_heap is copied into
#   orders_heap_before (the snapshot a diff needs); before and after are
#   the commit ids around the change.  Then, median of BENCH_REPS (3) after
#   one untimed run, each in a fresh session, client-side times:
#
#   (a) net_changes    SELECT count(*) FROM incetl.net_changes(NULL::orders,
#                      before, after): one row per key changed
#   (b) table_changes  the same with incetl.table_changes: one row per
#                      commit and key
#   (c) heap, watermark  SELECT count(t.*) FROM orders_heap AS t WHERE
#                      updated_at > the largest updated_at before the change
#                      (an index scan fetching the rows; finds updates and
#                      inserts, never deletes)
#   (c) heap, diff     a full outer join of orders_heap_before and
#                      orders_heap on id, rows that differ (finds deletes;
#                      reads both copies whole)
#   (d) full scan      SET incetl.cow_aggregate_pushdown = off; SELECT
#                      sum(amount) FROM orders (an Agg over a Seq Scan of
#                      the incetl_cow table)
#
#   For (a), (b) and (d): the column chunks the statement decoded
#   (incetl.cow_decode_counts() before and after, same session) and the
#   file groups read: for the feed, which decodes the file group versions
#   it reads whole, chunks / 6 columns; for the scan, cow_last_scan()'s
#   file_groups_read.  Next to them, the file groups the change wrote and
#   the table holds: the feed's cost must follow the first, not the second.
#
# The counts are checked: net_changes finds exactly the keys the heap diff
# finds, table_changes as many rows (the updated, deleted and new keys are
# disjoint, one commit each), and the watermark query the updates and
# inserts; the script fails otherwise.
#
# Knobs: INCETL_FEED_BENCH_PORT (54373), INCETL_BENCH_DIR
#        (/tmp/incetl-feed-bench-<user>), BENCH_ROWS (5000000),
#        BENCH_REPS (3), BENCH_KEEP=1 leaves the cluster running.

set -euo pipefail
export LC_ALL=C

SRC_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=test/lib.sh
source "$SRC_DIR/test/lib.sh"

PORT=${INCETL_FEED_BENCH_PORT:-54373}
RUNNER=$(incetl_runner_user)
BENCH_DIR=${INCETL_BENCH_DIR:-/tmp/incetl-feed-bench-$RUNNER}
ROWS=${BENCH_ROWS:-5000000}
REPS=${BENCH_REPS:-3}
C=$BENCH_DIR/cluster
BATCH=$((ROWS / 100))
B_DEL=$((BATCH / 10))
B_NEW=$((BATCH / 10))
B_UPD=$((BATCH - B_DEL - B_NEW))

# shellcheck source=test/bench/bench.bash
source "$SRC_DIR/test/bench/bench.bash"

# One statement in a fresh session, after SETUP (may be empty): prints
# "ms column_chunks_decoded file_groups_read_by_the_last_seq_scan result".
measure() {   # SETUP QUERY
    local out ms d0 d1 ls res
    out=$(psql_b -At ${1:+-c "$1"} \
        -c "SELECT 'dc ' || column_chunks_decoded FROM incetl.cow_decode_counts()" \
        -c '\timing on' -c "$2" -c '\timing off' \
        -c "SELECT 'dc ' || column_chunks_decoded FROM incetl.cow_decode_counts()" \
        -c "SELECT 'ls ' || coalesce(file_groups_read, 0) FROM incetl.cow_last_scan()")
    ms=$(sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' <<<"$out" | tail -n 1)
    d0=$(sed -n 's/^dc //p' <<<"$out" | head -n 1)
    d1=$(sed -n 's/^dc //p' <<<"$out" | tail -n 1)
    ls=$(sed -n 's/^ls //p' <<<"$out")
    res=$(grep -v -e '^dc ' -e '^ls ' -e '^Time: ' -e '^SET$' <<<"$out" | tail -n 1)
    echo "$ms $((d1 - d0)) $ls $res"
}

# --------------------------------------------------------------------------
bench_start_cluster
bench_settings

incetl_log "loading $ROWS rows into orders (incetl_cow) and orders_heap"
psql_q <<SQL
CREATE EXTENSION incetl;
$(bench_orders_src_sql "$ROWS")
CREATE TABLE orders (LIKE orders_src) USING incetl_cow;
SELECT incetl.set_table_options('orders', record_key => 'id', precombine => 'updated_at',
                                retain_commits => 100);
INSERT INTO orders SELECT * FROM orders_src ORDER BY id;
CREATE TABLE orders_heap (LIKE orders_src, PRIMARY KEY (id));
INSERT INTO orders_heap SELECT * FROM orders_src;
CREATE INDEX orders_heap_updated_at_idx ON orders_heap (updated_at);
DROP TABLE orders_src;
SQL
settle
FG_TABLE=$(psql_b -At -c "SELECT file_groups FROM incetl.table_stats('orders')")
echo "   orders: $FG_TABLE file groups, $(psql_b -At -c "SELECT pg_size_pretty(pg_total_relation_size('orders'))");" \
    "orders_heap: $(psql_b -At -c "SELECT pg_size_pretty(pg_total_relation_size('orders_heap'))") with its two indexes"

# --------------------------------------------------------------------------
# The change: $1 skewed | uniform, $2 seed.  Sets BEFORE, AFTER, WM,
# FG_WRITTEN.
apply_change() {
    local range
    if [ "$1" = skewed ]; then
        range="SELECT id FROM orders_heap WHERE id > (SELECT max(id) FROM orders_heap) - $ROWS / 20"
    else
        range="SELECT id FROM orders_heap"
    fi
    psql_q -c "DROP TABLE IF EXISTS orders_heap_before" \
        -c "CREATE TABLE orders_heap_before AS SELECT * FROM orders_heap"
    WM=$(psql_b -At -c "SELECT max(updated_at) FROM orders_heap")
    psql_q <<SQL
SELECT setseed($2 / 100.0);
DROP TABLE IF EXISTS chg_keys, chg_rows;
CREATE TABLE chg_keys AS
WITH old AS (SELECT id, row_number() OVER (ORDER BY random()) AS n
             FROM ($range) AS r ORDER BY random() LIMIT $B_UPD + $B_DEL)
SELECT id, CASE WHEN n <= $B_UPD THEN 'update' ELSE 'delete' END AS op FROM old
UNION ALL
SELECT m + g, 'insert' FROM (SELECT max(id) AS m FROM orders_heap) AS x, generate_series(1, $B_NEW) AS g;
CREATE TABLE chg_rows AS
SELECT id, 1 + floor(random() * 100000)::bigint AS customer_id,
       round((random() * 1000)::numeric, 2) AS amount,
       (ARRAY['new', 'paid', 'shipped', 'delivered', 'cancelled'])[1 + floor(random() * 5)::int] AS status,
       'change ' || id || ' ' || md5(random()::text) AS note,
       timestamptz '$WM' + interval '1 second' + random() * interval '1 hour' AS updated_at
FROM chg_keys WHERE op <> 'delete' ORDER BY random();
SQL
    settle "orders_heap_before, chg_keys, chg_rows"
    BEFORE=$(psql_b -At -c "SELECT incetl.latest_commit('orders')")
    psql_q <<SQL
INSERT INTO orders SELECT * FROM chg_rows;
DELETE FROM orders WHERE id IN (SELECT id FROM chg_keys WHERE op = 'delete');
INSERT INTO orders_heap AS t SELECT * FROM chg_rows
ON CONFLICT (id) DO UPDATE SET customer_id = EXCLUDED.customer_id, amount = EXCLUDED.amount,
    status = EXCLUDED.status, note = EXCLUDED.note, updated_at = EXCLUDED.updated_at;
DELETE FROM orders_heap WHERE id IN (SELECT id FROM chg_keys WHERE op = 'delete');
SQL
    AFTER=$(psql_b -At -c "SELECT incetl.latest_commit('orders')")
    settle "orders, orders_heap"
    FG_WRITTEN=$(psql_b -At -c "SELECT sum(file_groups_written) FROM incetl.commits('orders')
                                WHERE commit_id > $BEFORE AND commit_id <= $AFTER")
    local diff
    diff=$(psql_b -At -c "SELECT (SELECT count(*) FROM (TABLE orders EXCEPT ALL TABLE orders_heap) x)
                                + (SELECT count(*) FROM (TABLE orders_heap EXCEPT ALL TABLE orders) y)")
    [ "$diff" = 0 ] || incetl_die "after the $1 change: orders and orders_heap differ in $diff rows"
    echo "   commits $BEFORE -> $AFTER: $(psql_b -At -c "SELECT string_agg(operation || ' +' || rows_inserted || ' ~' || rows_updated || ' -' || rows_deleted
        || ' (' || file_groups_written || ' file groups)', ', ' ORDER BY commit_id) FROM incetl.commits('orders')
        WHERE commit_id > $BEFORE AND commit_id <= $AFTER"); both tables hold the same rows"
}

NAMES=(net_changes table_changes heap_watermark heap_diff full_scan)
declare -A SETUP=([full_scan]="SET incetl.cow_aggregate_pushdown = off")
queries() {
    declare -gA QUERY=(
        [net_changes]="SELECT count(*) FROM incetl.net_changes(NULL::orders, $BEFORE, $AFTER)"
        [table_changes]="SELECT count(*) FROM incetl.table_changes(NULL::orders, $BEFORE, $AFTER)"
        [heap_watermark]="SELECT count(t.*) FROM orders_heap AS t WHERE updated_at > '$WM'"
        [heap_diff]="SELECT count(*) FROM orders_heap_before AS b FULL JOIN orders_heap AS a ON a.id = b.id
                     WHERE a.id IS NULL OR b.id IS NULL
                        OR (a.customer_id, a.amount, a.status, a.note, a.updated_at)
                           IS DISTINCT FROM (b.customer_id, b.amount, b.status, b.note, b.updated_at)"
        [full_scan]="SELECT sum(amount) FROM orders"
    )
}

declare -A MS CHUNKS FG ROWS_OUT FGW FGT
for kind in skewed uniform; do
    seed=1; [ "$kind" = uniform ] && seed=2
    incetl_log "$kind 1 % change: $B_UPD updates, $B_DEL deletes, $B_NEW new keys"
    apply_change "$kind" "$seed"
    FGW[$kind]=$FG_WRITTEN
    FGT[$kind]=$(psql_b -At -c "SELECT file_groups FROM incetl.table_stats('orders')")
    queries
    for name in "${NAMES[@]}"; do
        echo "   $name: $(psql_b -At ${SETUP[$name]:+-c "${SETUP[$name]}"} -c "EXPLAIN (COSTS OFF) ${QUERY[$name]}" |
                          grep -v -e '^SET$' -e 'Filter:' -e 'Cond:' | sed 's/^ *\(->  \)\{0,1\}//' | paste -s -d '<' - | sed 's/</ < /g')"
        measure "${SETUP[$name]:-}" "${QUERY[$name]}" >/dev/null     # warm
        times=() chunks="" res=""
        for rep in $(seq 1 "$REPS"); do
            read -r ms ch ls r <<<"$(measure "${SETUP[$name]:-}" "${QUERY[$name]}")"
            times+=("$ms") chunks=$ch res=$r
        done
        MS[$kind.$name]=$(printf '%s\n' "${times[@]}" | median)
        CHUNKS[$kind.$name]=$chunks ROWS_OUT[$kind.$name]=$res
        case $name in
            full_scan) FG[$kind.$name]=$ls ;;
            net_changes | table_changes) FG[$kind.$name]=$((chunks / 6)) ;;
            *) FG[$kind.$name]="" ;;
        esac
        echo "      ${times[*]} ms; $chunks column chunks decoded${FG[$kind.$name]:+, ${FG[$kind.$name]} file groups}; result $res"
    done
    [ "${ROWS_OUT[$kind.net_changes]}" = "$BATCH" ] && [ "${ROWS_OUT[$kind.heap_diff]}" = "$BATCH" ] ||
        incetl_die "$kind: net_changes found ${ROWS_OUT[$kind.net_changes]} keys, the heap diff ${ROWS_OUT[$kind.heap_diff]}, the change was $BATCH"
    [ "${ROWS_OUT[$kind.table_changes]}" = "$BATCH" ] ||
        incetl_die "$kind: table_changes returned ${ROWS_OUT[$kind.table_changes]} rows, the change was $BATCH"
    [ "${ROWS_OUT[$kind.heap_watermark]}" = $((B_UPD + B_NEW)) ] ||
        incetl_die "$kind: the watermark query found ${ROWS_OUT[$kind.heap_watermark]} rows, not $((B_UPD + B_NEW))"
    expect=$(psql_b -At -c "SELECT 'delete ' || count(*) FILTER (WHERE op = 'delete') || ' insert ' || count(*) FILTER (WHERE op = 'insert')
                                   || ' update ' || count(*) FILTER (WHERE op = 'update') FROM chg_keys")
    got=$(psql_b -At -c "SELECT string_agg(operation || ' ' || n, ' ' ORDER BY operation)
                         FROM (SELECT operation, count(*) AS n FROM incetl.net_changes(NULL::orders, $BEFORE, $AFTER) GROUP BY 1) AS o")
    [ "$got" = "$expect" ] || incetl_die "$kind: net_changes says $got, the change was $expect"
    echo "   net_changes: $got, as changed"
done
psql_q -c "DROP TABLE orders_heap_before, chg_keys, chg_rows"

# --------------------------------------------------------------------------
echo
echo "change feed of a $ROWS-row incetl_cow table after a 1 % change" \
     "($B_UPD updates, $B_DEL deletes, $B_NEW inserts; 2 commits);"
echo "median of $REPS, client-side times; ratio: time / net_changes time; decoded: column chunks" \
     "(file groups read)"
{
    echo "net_changes|(a) incetl.net_changes, count(*)"
    echo "table_changes|(b) incetl.table_changes, count(*)"
    echo "heap_watermark|(c) heap: updated_at > watermark (no deletes)"
    echo "heap_diff|(c) heap: full outer join of two copies"
    echo "full_scan|(d) incetl_cow full scan, sum(amount), no pushdown"
} | while IFS='|' read -r name label; do
    line="$label"
    for kind in skewed uniform; do
        ms=${MS[$kind.$name]} base=${MS[$kind.net_changes]} ch=${CHUNKS[$kind.$name]}
        if [ -z "${FG[$kind.$name]}" ]; then dec="-"; else dec="$ch (${FG[$kind.$name]} fg)"; fi
        line="$line|$ms|$(awk -v a="$ms" -v b="$base" 'BEGIN { printf "%.2f", a / b }')|$dec"
    done
    echo "$line"
done | awk -F'|' -v fgs="${FGW[skewed]}" -v fgu="${FGW[uniform]}" -v fgts="${FGT[skewed]}" -v fgtu="${FGT[uniform]}" '
function row(a, b, c, d, e, f, g) { printf "%-52s | %10s | %7s | %14s | %10s | %7s | %14s\n", a, b, c, d, e, f, g }
BEGIN {
    row("", "skewed", "", "", "uniform", "", "")
    row("measure", "ms", "ratio", "decoded", "ms", "ratio", "decoded")
    print "-----------------------------------------------------+------------+---------+----------------+------------+---------+---------------"
}
{ row($1, sprintf("%.1f", $2), $3, $4, sprintf("%.1f", $5), $6, $7) }
END {
    row("file groups written by the change / in the table", fgs " / " fgts, "", "", fgu " / " fgtu, "", "")
}'
