#!/usr/bin/env bash
# test/bench/analytics_bench.sh -- issue 13's fifteen analytical queries
# and an aggregate over a key range, incetl_cow against heap, in one run
#
# Runs on a throwaway cluster (test/lib.sh; port INCETL_ANALYTICS_BENCH_PORT,
# default 54374; as root the server runs as $INCETL_TEST_USER).  Assumes
# incetl is built and installed in the PostgreSQL of INCETL_PG_BIN; builds
# nothing.
#
# Data: BENCH_ROWS (3 M) rows of orders(id bigint, customer_id bigint,
# amount numeric(12,2), status text, note text, updated_at timestamptz), as
# test/bench/bench.bash's orders_src (100 000 customers, five statuses, 10 %
# NULL notes), loaded in key order into
#
#   orders_heap   heap with PRIMARY KEY (id)
#   orders_cow    USING incetl_cow, record_key id, precombine updated_at, no
#                 index (the record key needs none)
#
# and a heap dimension customers(customer_id, region) of 10 000 rows (every
# tenth customer, eight regions).  VACUUM ANALYZE and CHECKPOINT after the
# load.  Each query runs in one session per table: one untimed run (warm
# cache), then BENCH_REPS (5) timed runs, the median reported (psql \timing,
# client side, planning included).  The tables take turns going first.
#
# Three columns of times:
#
#   heap          orders_heap
#   cow           orders_cow as a user gets it (aggregate pushdown on)
#   cow, no push  orders_cow with incetl.cow_aggregate_pushdown = off: the
#                 generic scan path every join, expression and unsupported
#                 aggregate takes
#
# and the ratios heap / cow (above 1: incetl_cow is faster), with their
# geometric means and the number of queries below 1.0.  The result of every
# query is compared between the three (sorted output; for the top-N by
# amount, whose ties make the ids arbitrary, the amounts only): the script
# fails when they differ.
#
# Knobs: INCETL_ANALYTICS_BENCH_PORT (54374), INCETL_BENCH_DIR
#        (/tmp/incetl-analytics-bench-<user>), BENCH_ROWS (3000000),
#        BENCH_REPS (5), BENCH_QUERIES (a space-separated list of query
#        numbers to run, default all), BENCH_KEEP=1 leaves the cluster
#        running.
#
# A query heap answers in under BENCH_SHORT_MS (2) ms is timed again, the
# three sides in one session statement by statement, BENCH_SHORT_REPS
# (200) rounds (time_paired); the table marks it with "*".

set -euo pipefail
export LC_ALL=C

SRC_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=test/lib.sh
source "$SRC_DIR/test/lib.sh"

PORT=${INCETL_ANALYTICS_BENCH_PORT:-54374}
RUNNER=$(incetl_runner_user)
BENCH_DIR=${INCETL_BENCH_DIR:-/tmp/incetl-analytics-bench-$RUNNER}
ROWS=${BENCH_ROWS:-3000000}
REPS=${BENCH_REPS:-5}
SHORT_MS=${BENCH_SHORT_MS:-2}
SHORT_REPS=${BENCH_SHORT_REPS:-200}
C=$BENCH_DIR/cluster

# shellcheck source=test/bench/bench.bash
source "$SRC_DIR/test/bench/bench.bash"

# The queries; @T@ stands for the table.  Q_CHECK[n], when set, is what is
# compared between the tables instead of the query's own output.
MID=$((ROWS / 3))
TS_CUT=$(( ROWS * 4 / 5 ))
declare -a Q Q_NAME Q_CHECK
Q[1]="SELECT count(*) FROM @T@"
Q_NAME[1]="count(*)"
Q[2]="SELECT sum(amount) FROM @T@"
Q_NAME[2]="sum(amount)"
Q[3]="SELECT status, sum(amount), count(*) FROM @T@ GROUP BY status"
Q_NAME[3]="status, sum, count GROUP BY status"
Q[4]="SELECT customer_id, sum(amount) FROM @T@ GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 10"
Q_NAME[4]="customer_id, sum GROUP BY 1 ORDER BY 2 DESC LIMIT 10"
Q[5]="SELECT count(DISTINCT customer_id) FROM @T@"
Q_NAME[5]="count(DISTINCT customer_id)"
Q[6]="SELECT avg(amount) FROM @T@ WHERE status = 'paid'"
Q_NAME[6]="avg(amount) WHERE status = 'paid'"
Q[7]="SELECT count(*) FROM @T@ WHERE amount > 990"
Q_NAME[7]="count(*) WHERE amount > 990"
Q[8]="SELECT * FROM @T@ WHERE id BETWEEN $MID AND $((MID + 100))"
Q_NAME[8]="* WHERE id BETWEEN c AND c + 100"
Q[9]="SELECT date_trunc('day', updated_at), count(*) FROM @T@ GROUP BY 1 ORDER BY 1 LIMIT 5"
Q_NAME[9]="date_trunc('day'), count GROUP BY 1 ORDER BY 1 LIMIT 5"
Q[10]="SELECT max(updated_at), min(amount) FROM @T@ WHERE customer_id = 42"
Q_NAME[10]="max(updated_at), min(amount) WHERE customer_id = 42"
Q[11]="SELECT c.region, sum(o.amount), count(*) FROM @T@ o JOIN customers c USING (customer_id) GROUP BY c.region"
Q_NAME[11]="join customers, GROUP BY region"
Q[12]="SELECT status, count(*) FROM @T@ WHERE updated_at >= timestamptz '2026-01-01' + interval '$TS_CUT seconds' GROUP BY 1 HAVING count(*) > 1000"
Q_NAME[12]="status, count WHERE updated_at >= ... GROUP BY 1 HAVING"
Q[13]="SELECT id, amount FROM @T@ ORDER BY amount DESC LIMIT 20"
Q_NAME[13]="id, amount ORDER BY amount DESC LIMIT 20"
Q_CHECK[13]="SELECT amount FROM @T@ ORDER BY amount DESC LIMIT 20"
Q[14]="SELECT count(*), sum(r) FROM (SELECT rank() OVER (PARTITION BY customer_id ORDER BY amount DESC) AS r FROM @T@ WHERE id < 50000) s"
Q_NAME[14]="rank() OVER (PARTITION BY customer_id) WHERE id < 50000"
Q[15]="SELECT count(*) FROM @T@ WHERE note LIKE 'ab%'"
Q_NAME[15]="count(*) WHERE note LIKE 'ab%'"
# not in issue 13's list: an aggregate over a narrow key range (heap: its
# primary key; incetl_cow: the key-range scan or the pushdown, by cost)
Q[16]="SELECT count(*), sum(amount) FROM @T@ WHERE id BETWEEN $((MID + 7)) AND $((MID + 107))"
Q_NAME[16]="count(*), sum(amount) WHERE id BETWEEN c AND c + 100"
NQ=16
QUERIES=${BENCH_QUERIES:-$(seq -s ' ' 1 $NQ)}

qsql() { echo "${2//@T@/$1}"; }   # $1 table, $2 query with @T@

# time_query TABLE N [SETTING]: median ms of query N on TABLE, one session
time_query() {
    local sql i
    sql=$(qsql "$1" "${Q[$2]}")
    {
        [ -n "${3:-}" ] && echo "$3;"
        echo "$sql;"
        echo '\timing on'
        for i in $(seq 1 "$REPS"); do echo "$sql;"; done
    } | psql_b -At -o /dev/null 2>&1 | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | tail -n "$REPS" | median
}

# time_paired N: "heap cow nopush", the medians of SHORT_REPS rounds of
# query N in one session, a round running it on heap, on incetl_cow and on
# incetl_cow without the pushdown statement by statement (which goes first
# rotating), each after the SET that gives it its setting.  For the
# sub-millisecond queries, whose medians of REPS runs in sessions of their
# own move by a tenth from one run to the next on a shared machine: the
# three meet the same moments of it.
time_paired() {
    local sh sc i k
    sh=$(qsql orders_heap "${Q[$1]}")
    sc=$(qsql orders_cow "${Q[$1]}")
    {
        echo "$sh;"
        echo "$sc;"
        echo '\timing on'
        for i in $(seq 1 "$SHORT_REPS"); do
            for k in 0 1 2; do
                case $(((i + k) % 3)) in
                    0) echo "SET incetl.cow_aggregate_pushdown = on;"; echo "$sh;" ;;
                    1) echo "SET incetl.cow_aggregate_pushdown = on;"; echo "$sc;" ;;
                    2) echo "SET incetl.cow_aggregate_pushdown = off;"; echo "$sc;" ;;
                esac
            done
        done
    } | psql_b -At -o /dev/null 2>&1 | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' |
        awk 'NR % 2 == 0 { m = NR / 2 - 1; print ((int(m / 3) + 1 + m % 3) % 3), $1 }' > "$BENCH_DIR/paired.txt"
    echo "$(awk '$1 == 0 { print $2 }' "$BENCH_DIR/paired.txt" | median)" \
         "$(awk '$1 == 1 { print $2 }' "$BENCH_DIR/paired.txt" | median)" \
         "$(awk '$1 == 2 { print $2 }' "$BENCH_DIR/paired.txt" | median)"
}

# result TABLE N [SETTING]: the query's output (or its check), sorted
result() {
    local sql=${Q_CHECK[$2]:-${Q[$2]}}
    { [ -n "${3:-}" ] && echo "$3;"; echo "$(qsql "$1" "$sql");"; } | psql_b -At | sort
}

NOPUSH="SET incetl.cow_aggregate_pushdown = off"

# --------------------------------------------------------------------------
bench_start_cluster
echo "$(bench_settings)"

incetl_log "generating $ROWS rows"
psql_q <<SQL
CREATE EXTENSION incetl;
$(bench_orders_src_sql "$ROWS")
CREATE TABLE orders_heap (LIKE orders_src, PRIMARY KEY (id));
CREATE TABLE orders_cow (LIKE orders_src) USING incetl_cow;
SELECT incetl.set_table_options('orders_cow', record_key => 'id', precombine => 'updated_at');
INSERT INTO orders_heap SELECT * FROM orders_src ORDER BY id;
INSERT INTO orders_cow SELECT * FROM orders_src ORDER BY id;
DROP TABLE orders_src;
CREATE TABLE customers (customer_id bigint PRIMARY KEY, region text NOT NULL);
INSERT INTO customers
SELECT g * 10, (ARRAY['north', 'south', 'east', 'west', 'central', 'coast', 'mountain', 'islands'])[1 + g % 8]
FROM generate_series(1, 10000) AS g;
SQL
settle
psql_b -c "SELECT file_groups, rows, compression_ratio FROM incetl.table_stats('orders_cow')"

declare -a TH TC TN PAIRED
for n in $QUERIES; do
    incetl_log "Q$n: ${Q_NAME[$n]}"
    rh=$(result orders_heap "$n")
    rc=$(result orders_cow "$n")
    rn=$(result orders_cow "$n" "$NOPUSH")
    [ "$rh" = "$rc" ] || incetl_die "Q$n: incetl_cow returns other rows than heap:
heap:
$rh
incetl_cow:
$rc"
    [ "$rh" = "$rn" ] || incetl_die "Q$n: incetl_cow without the pushdown returns other rows than heap:
heap:
$rh
incetl_cow:
$rn"
    if [ $((n % 2)) -eq 1 ]; then
        TH[n]=$(time_query orders_heap "$n")
        TC[n]=$(time_query orders_cow "$n")
        TN[n]=$(time_query orders_cow "$n" "$NOPUSH")
    else
        TN[n]=$(time_query orders_cow "$n" "$NOPUSH")
        TC[n]=$(time_query orders_cow "$n")
        TH[n]=$(time_query orders_heap "$n")
    fi
    echo "   heap ${TH[n]} ms, incetl_cow ${TC[n]} ms, without pushdown ${TN[n]} ms"
    PAIRED[n]=""
    if awk -v h="${TH[n]}" -v lim="$SHORT_MS" 'BEGIN { exit !(h < lim) }'; then
        read -r TH[n] TC[n] TN[n] <<<"$(time_paired "$n")"
        PAIRED[n]="*"
        echo "   paired ($SHORT_REPS rounds in one session): heap ${TH[n]} ms, incetl_cow ${TC[n]} ms, without pushdown ${TN[n]} ms"
    fi
done

# --------------------------------------------------------------------------
echo
echo "analytical queries (1-15: issue 13's), $ROWS rows, median of $REPS warm runs (ms, client side);"
echo "* below $SHORT_MS ms on heap: median of $SHORT_REPS rounds of the three in one session, statement by statement"
echo "heap / cow > 1: incetl_cow is faster"
{
    for n in $QUERIES; do
        printf '%s\t%s\t%s\t%s\t%s\n' "$n${PAIRED[n]}" "${Q_NAME[$n]}" "${TH[n]}" "${TC[n]}" "${TN[n]}"
    done
} | awk -F '\t' '
    function fmt(v) { return v >= 100 ? sprintf("%.0f", v) : sprintf("%.2f", v) }
    BEGIN {
        printf "%-3s %-56s %9s %9s %7s %9s %7s\n", "#", "query", "heap", "cow", "h/c", "no push", "h/np"
    }
    {
        rc = $3 / ($4 > 0 ? $4 : 0.001); rn = $3 / ($5 > 0 ? $5 : 0.001)
        printf "%-3s %-56s %9s %9s %7.2f %9s %7.2f\n", $1, substr($2, 1, 56), fmt($3), fmt($4), rc, fmt($5), rn
        lc += log(rc); ln_ += log(rn); k++
        if (rc < 1) bc++
        if (rn < 1) bn++
    }
    END {
        printf "geometric mean heap / cow: %.2f (%d of %d below 1.0); without pushdown: %.2f (%d of %d below 1.0)\n",
            exp(lc / k), bc, k, exp(ln_ / k), bn, k
    }'
