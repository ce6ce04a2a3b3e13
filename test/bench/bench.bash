# test/bench/bench.bash -- what the incetl_cow benchmarks share
# (cow_bench.sh, changefeed_bench.sh; run_bench.sh takes its helpers)
# shellcheck shell=bash
#
# Sourced after test/lib.sh, with C (the cluster directory), PORT,
# BENCH_DIR, RUNNER and SRC_DIR set:
#
#   bench_require_installed
#                          die unless incetl is installed in INCETL_PG_BIN's
#                          PostgreSQL
#   bench_start_cluster    initdb C with the benchmark settings (shared_buffers
#                          1GB, work_mem 64MB, maintenance_work_mem 512MB, no
#                          autovacuum; BENCH_CONF: more settings, one per
#                          line), start it (kept with BENCH_KEEP=1),
#                          create database bench (bench_require_installed
#                          first)
#   bench_settings         one line: the server's version and settings, the
#                          machine's CPUs and this build's commit
#   bench_orders_src_sql ROWS
#                          print the SQL that creates orders_src and fills it
#                          with ROWS orders (id in order, setseed 0.42)
#   psql_b / psql_q        psql on database bench (printing / quiet)
#   time_sql SQL           milliseconds of SQL in a fresh session
#   settle [TABLES]        VACUUM ANALYZE (TABLES, or all) + CHECKPOINT
#   median                 the median of the numbers on stdin

psql_b() { incetl_cluster_psql "$C" -d bench "$@"; }
psql_q() { incetl_cluster_psql "$C" -d bench -o /dev/null "$@"; }

time_sql() {
    local out
    out=$(psql_b -At -c '\timing on' -c "$1")
    sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' <<<"$out" | tail -n 1
}
settle() { psql_q -c "VACUUM ANALYZE${1:+ $1}" -c "CHECKPOINT"; }
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

bench_require_installed() {
    [ -f "$("$INCETL_PG_CONFIG" --sharedir)/extension/incetl.control" ] &&
        [ -f "$("$INCETL_PG_CONFIG" --pkglibdir)/incetl.so" ] ||
        incetl_die "incetl is not installed in $("$INCETL_PG_CONFIG" --pkglibdir): run make && make install first"
}

bench_start_cluster() {
    bench_require_installed
    incetl_log "cluster in $C (port $PORT, as $RUNNER, binaries $INCETL_PG_BIN)"
    mkdir -p "$BENCH_DIR"
    if incetl_is_root; then chown "$RUNNER:" "$BENCH_DIR"; fi
    local extra=()
    # BENCH_CONF: more settings, one per line (a larger
    # incetl.cow_shared_cache_size, say); bench_settings prints them
    if [ -n "${BENCH_CONF:-}" ]; then mapfile -t extra <<<"$BENCH_CONF"; fi
    incetl_cluster_init "$C" "$PORT" postgres \
        "shared_buffers = 1GB" "work_mem = 64MB" "maintenance_work_mem = 512MB" \
        "max_wal_size = 8GB" "checkpoint_timeout = 30min" "autovacuum = off" "${extra[@]}"
    if [ "${BENCH_KEEP:-0}" = 1 ]; then incetl_cluster_start "$C" keep; else incetl_cluster_start "$C"; fi
    incetl_cluster_psql "$C" -c "CREATE DATABASE bench"
}

bench_settings() {
    echo "PostgreSQL $(psql_b -At -c 'SHOW server_version'), $(nproc 2>/dev/null || echo '?') CPUs, fsync $(psql_b -At -c 'SHOW fsync'), data_checksums $(psql_b -At -c 'SHOW data_checksums')," \
        "shared_buffers $(psql_b -At -c 'SHOW shared_buffers'), maintenance_work_mem $(psql_b -At -c 'SHOW maintenance_work_mem')," \
        "incetl $(git -C "$SRC_DIR" describe --always --dirty 2>/dev/null || echo '?')${BENCH_CONF:+, BENCH_CONF: $(tr '\n' ';' <<<"$BENCH_CONF")}"
}

bench_orders_src_sql() {
    cat <<SQL
SELECT setseed(0.42);
CREATE TABLE orders_src (id bigint, customer_id bigint, amount numeric(12,2),
                         status text, note text, updated_at timestamptz);
INSERT INTO orders_src
SELECT g, 1 + floor(random() * 100000)::bigint, round((random() * 1000)::numeric, 2),
       (ARRAY['new', 'paid', 'shipped', 'delivered', 'cancelled'])[1 + floor(random() * 5)::int],
       CASE WHEN random() < 0.1 THEN NULL ELSE 'order ' || g || ' ' || md5(g::text) END,
       timestamptz '2026-01-01' + g * interval '1 second' + random() * interval '1 hour'
FROM generate_series(1, $1) AS g;
SQL
}
