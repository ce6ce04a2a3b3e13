#!/usr/bin/env bash
# test/bench/index_size_bench.sh -- where the size of a btree on an
# incetl_cow table's key comes from after repeated upserts (issue 13)
#
# Runs on a throwaway cluster (test/lib.sh; port INCETL_INDEX_BENCH_PORT,
# default 54375; as root the server runs as $INCETL_TEST_USER).  Assumes
# incetl is built and installed in the PostgreSQL of INCETL_PG_BIN, and
# needs its contrib module pgstattuple (pgstatindex, pgstattuple); builds
# nothing.  Small by default (BENCH_ROWS 200000): btree pages do not depend
# on the table's size, only on what happens to each key.
#
#   orders(id bigint, customer_id bigint, amount numeric(12,2), status text,
#          note text, updated_at timestamptz), BENCH_ROWS rows, in three
#   tables:
#
#   orders_cow    USING incetl_cow, record_key id, precombine updated_at,
#                 CREATE INDEX on id after the load
#   orders_heap   heap, PRIMARY KEY (id), loaded in key order
#   every_row     heap (fillfactor 100, so no HOT update fits) with an index
#                 on id, whose every row gets a new version (and so a new
#                 index entry, while the old one is still live) in each
#                 round: a control showing what btree itself does when
#                 every key gains a second entry at once
#
#   BENCH_INDEX_ROUNDS (10) rounds of a uniform 1 % upsert (80 % updates of
#   keys drawn from the whole table, 20 % new keys; incetl_cow: INSERT ...
#   SELECT, its upsert; heap: INSERT ... ON CONFLICT DO UPDATE), then
#   VACUUM.  The upsert also goes into orders_cow_noidx, the same
#   incetl_cow table without an index: its time with and without the index
#   (each statement in a fresh session after a CHECKPOINT, alternating
#   which goes first, median of the rounds).  After the load, after each round and after the VACUUM, for
#   each index: its pages, its leaf pages' average fill (pgstatindex), and
#   the ratio of its pages to heap's primary key's.  After the VACUUM also
#   the entries each index holds (pgstattuple's tuple_count, posting list
#   TIDs counted one by one) against the table's rows.
#
# The script fails unless orders_cow, orders_cow_noidx and orders_heap hold
# the same rows after the rounds and every index holds exactly one entry per
# row after the VACUUM.
#
# Knobs: INCETL_INDEX_BENCH_PORT (54375), INCETL_BENCH_DIR
#        (/tmp/incetl-index-bench-<user>), BENCH_ROWS (200000),
#        BENCH_INDEX_ROUNDS (10), BENCH_KEEP=1 leaves the cluster running.

set -euo pipefail
export LC_ALL=C

SRC_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=test/lib.sh
source "$SRC_DIR/test/lib.sh"

PORT=${INCETL_INDEX_BENCH_PORT:-54375}
RUNNER=$(incetl_runner_user)
BENCH_DIR=${INCETL_BENCH_DIR:-/tmp/incetl-index-bench-$RUNNER}
ROWS=${BENCH_ROWS:-200000}
ROUNDS=${BENCH_INDEX_ROUNDS:-10}
C=$BENCH_DIR/cluster
BATCH=$((ROWS / 100))
B_NEW=$((BATCH / 5))
B_UPD=$((BATCH - B_NEW))

# shellcheck source=test/bench/bench.bash
source "$SRC_DIR/test/bench/bench.bash"

COLS="id, customer_id, amount, status, note, updated_at"
SETS="customer_id = EXCLUDED.customer_id, amount = EXCLUDED.amount, status = EXCLUDED.status, note = EXCLUDED.note, updated_at = EXCLUDED.updated_at"

# one line per index: "step index pages leaf_fill_% ratio_to_heap_pkey"
sizes() {   # $1 step
    psql_b -At -F ' ' -c "
SELECT '$1', i, pg_relation_size(i) / 8192, round(s.avg_leaf_density::numeric, 1),
       round(pg_relation_size(i)::numeric / pg_relation_size('orders_heap_pkey'), 2)
FROM unnest(ARRAY['orders_cow_id_idx', 'orders_heap_pkey', 'every_row_id_idx']::regclass[]) AS i,
     LATERAL pgstatindex(i) AS s"
}

bench_start_cluster
bench_settings
incetl_log "$ROWS rows; $ROUNDS rounds of a uniform 1 % upsert ($B_UPD updates, $B_NEW new keys), then VACUUM"
psql_q <<SQL
CREATE EXTENSION incetl;
CREATE EXTENSION pgstattuple;
$(bench_orders_src_sql "$ROWS")
CREATE TABLE orders_heap (LIKE orders_src, PRIMARY KEY (id));
INSERT INTO orders_heap SELECT * FROM orders_src ORDER BY id;
CREATE TABLE orders_cow (LIKE orders_src) USING incetl_cow;
SELECT incetl.set_table_options('orders_cow', record_key => 'id', precombine => 'updated_at');
INSERT INTO orders_cow SELECT * FROM orders_src;
CREATE INDEX orders_cow_id_idx ON orders_cow (id);
CREATE TABLE orders_cow_noidx (LIKE orders_src) USING incetl_cow;
SELECT incetl.set_table_options('orders_cow_noidx', record_key => 'id', precombine => 'updated_at');
INSERT INTO orders_cow_noidx SELECT * FROM orders_src;
CREATE TABLE every_row (id bigint, round int) WITH (fillfactor = 100);
INSERT INTO every_row SELECT id, 0 FROM orders_src ORDER BY id;
CREATE INDEX every_row_id_idx ON every_row (id);
SQL
settle
OUT=$(sizes load)
T_IDX=() T_NOIDX=()
for r in $(seq 1 "$ROUNDS"); do
    psql_q <<SQL
SELECT setseed($r / 100.0);
DROP TABLE IF EXISTS batch;
CREATE TABLE batch AS
WITH upd AS (SELECT DISTINCT (1 + floor(random() * $ROWS))::bigint AS id FROM generate_series(1, $B_UPD)),
     newk AS (SELECT m + g AS id FROM (SELECT max(id) AS m FROM orders_heap) x, generate_series(1, $B_NEW) g)
SELECT id, 1 + floor(random() * 100000)::bigint AS customer_id,
       round((random() * 1000)::numeric, 2) AS amount,
       (ARRAY['new', 'paid', 'shipped', 'delivered', 'cancelled'])[1 + floor(random() * 5)::int] AS status,
       'change ' || id || ' ' || md5(random()::text) AS note,
       timestamptz '2027-01-01' + $r * interval '1 day' AS updated_at
FROM (SELECT id FROM upd UNION ALL SELECT id FROM newk) k ORDER BY random();
INSERT INTO orders_heap AS t ($COLS) SELECT $COLS FROM batch
ON CONFLICT (id) DO UPDATE SET $SETS;
UPDATE every_row SET round = $r;
INSERT INTO every_row SELECT id, $r FROM batch WHERE id > $ROWS;
SQL
    # the same upsert into incetl_cow with and without the index, each in
    # a fresh session after a CHECKPOINT, alternating which goes first
    psql_q -c CHECKPOINT
    if [ $((r % 2)) -eq 1 ]; then
        T_IDX+=("$(time_sql "INSERT INTO orders_cow ($COLS) SELECT $COLS FROM batch")")
        psql_q -c CHECKPOINT
        T_NOIDX+=("$(time_sql "INSERT INTO orders_cow_noidx ($COLS) SELECT $COLS FROM batch")")
    else
        T_NOIDX+=("$(time_sql "INSERT INTO orders_cow_noidx ($COLS) SELECT $COLS FROM batch")")
        psql_q -c CHECKPOINT
        T_IDX+=("$(time_sql "INSERT INTO orders_cow ($COLS) SELECT $COLS FROM batch")")
    fi
    OUT+=$'\n'$(sizes "round_$r")
done
psql_q -c "DROP TABLE batch" -c "VACUUM orders_cow" -c "VACUUM orders_heap" -c "VACUUM every_row"
OUT+=$'\n'$(sizes vacuum)

for t in orders_cow orders_cow_noidx; do
    DIFF=$(psql_b -At -c "SELECT (SELECT count(*) FROM (TABLE $t EXCEPT ALL TABLE orders_heap) x)
                                + (SELECT count(*) FROM (TABLE orders_heap EXCEPT ALL TABLE $t) y)")
    [ "$DIFF" = 0 ] || incetl_die "$t and orders_heap differ in $DIFF rows"
done
ENTRIES=$(psql_b -At -F ' ' -c "
SELECT (SELECT count(*) FROM orders_heap),
       (SELECT tuple_count FROM pgstattuple('orders_cow_id_idx')),
       (SELECT tuple_count FROM pgstattuple('orders_heap_pkey')),
       (SELECT tuple_count FROM pgstattuple('every_row_id_idx')),
       (SELECT count(*) FROM every_row)")
read -r N E_COW E_HEAP E_ALL N_ALL <<<"$ENTRIES"
if [ "$E_COW" != "$N" ] || [ "$E_HEAP" != "$N" ] || [ "$E_ALL" != "$N_ALL" ]; then
    incetl_die "entries after VACUUM: orders_cow_id_idx $E_COW, orders_heap_pkey $E_HEAP for $N rows; every_row_id_idx $E_ALL for $N_ALL rows"
fi

echo
echo "| after | incetl_cow btree on id: pages | leaf fill | × heap's | heap primary key: pages | leaf fill | every row rewritten (heap): pages | leaf fill | × heap's |"
echo "|---|---|---|---|---|---|---|---|---|"
awk '{ p[$1, $2] = $3; f[$1, $2] = $4; x[$1, $2] = $5; if (!($1 in seen)) { seen[$1] = 1; order[++n] = $1 } }
     END { for (i = 1; i <= n; i++) { s = order[i]
               printf "| %s | %s | %s %% | %s | %s | %s %% | %s | %s %% | %s |\n", s,
                      p[s, "orders_cow_id_idx"], f[s, "orders_cow_id_idx"], x[s, "orders_cow_id_idx"],
                      p[s, "orders_heap_pkey"], f[s, "orders_heap_pkey"],
                      p[s, "every_row_id_idx"], f[s, "every_row_id_idx"], x[s, "every_row_id_idx"] } }' <<<"$OUT"
echo
echo "entries after VACUUM: incetl_cow $E_COW, heap $E_HEAP ($N rows); every_row $E_ALL ($N_ALL rows)"
echo "incetl_cow upsert, median of the $ROUNDS rounds: with the btree on id $(printf '%s\n' "${T_IDX[@]}" | median) ms," \
     "without it $(printf '%s\n' "${T_NOIDX[@]}" | median) ms (each round: ${T_IDX[*]} / ${T_NOIDX[*]} ms)"
