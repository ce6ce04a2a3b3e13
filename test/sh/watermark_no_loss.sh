#!/usr/bin/env bash
# test/sh/watermark_no_loss.sh -- no row is lost under concurrent writers
#
# The stress test of SPEC section 4.  8 pgbench writers insert and update
# rows of a source table in transactions that stay open 50 ms before they
# commit, for 20 s, while a runner fires incetl_run every 200 ms.  After the
# writers stop, two final runs; then the target must equal the source
# exactly (EXCEPT both ways on every column, and counts).
#
#   1. naive   timestamptz watermark, incetl.test_naive_watermark = on for
#              the runner (upper bound = now() at run start).  This must
#              LOSE rows: it proves the workload catches the bug.
#   2. safe    timestamptz watermark, the real rule: source = target.
#   3. int     bigint watermark (a version column set from a sequence on
#              every insert and update), the real rule, 10 s: source = target.
#
# Runs as the harness runs it: bash, a non-root superuser, PGHOST/PGPORT/
# PGUSER pointing at a running cluster that preloads incetl.  Creates and
# drops its own database.  About 60 s.
#
# Knobs (for experiments; the defaults are the test):
#   WM_WRITE_SECONDS (20)  WM_INT_SECONDS (10)  WM_CLIENTS (8)
#   WM_HOLD (0.05 s)       WM_RUN_EVERY_MS (200)

source "$(dirname "${BASH_SOURCE[0]}")/race.bash"

WRITE_SECONDS=${WM_WRITE_SECONDS:-20}
INT_SECONDS=${WM_INT_SECONDS:-10}
CLIENTS=${WM_CLIENTS:-8}
HOLD=${WM_HOLD:-0.05}
RUN_EVERY_MS=${WM_RUN_EVERY_MS:-200}
SEED_ROWS=20000

race_setup wm_no_loss

sql() {
    "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -d "$DB" "$@"
}
sql -c "CREATE EXTENSION incetl"
[ "$(q -c "SELECT rolsuper FROM pg_roles WHERE rolname = current_user")" = t ] ||
    fail "the test user must be a superuser (incetl.test_naive_watermark is SUSET)"

# --------------------------------------------------------------------------
# Scenario setup: fresh source, target and pipeline named p.
#   $1  time | int
# --------------------------------------------------------------------------
setup() {
    local kind=$1
    sql -o /dev/null -c "SET client_min_messages = warning" -f - <<SQL
SELECT incetl.drop_pipeline('p') FROM incetl.pipelines WHERE name = 'p';
DROP TABLE IF EXISTS src, tgt;
DROP SEQUENCE IF EXISTS ver_seq, src_id_seq;
TRUNCATE incetl.run_log;
CREATE SEQUENCE ver_seq;
CREATE TABLE src (
    id         bigint PRIMARY KEY,
    val        bigint NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    version    bigint NOT NULL DEFAULT nextval('ver_seq'));
CREATE INDEX ON src (updated_at);
CREATE INDEX ON src (version);
CREATE SEQUENCE src_id_seq START $((SEED_ROWS + 1));
INSERT INTO src (id, val, updated_at)
    SELECT g, g, now() - interval '1 hour' FROM generate_series(1, $SEED_ROWS) g;
CREATE TABLE tgt (
    id         bigint PRIMARY KEY,
    val        bigint NOT NULL,
    updated_at timestamptz NOT NULL,
    version    bigint NOT NULL);
ANALYZE src;
SQL
    if [ "$kind" = time ]; then
        q -c "SELECT incetl.create_pipeline(name => 'p', source => 'public.src',
                    watermark_column => 'updated_at', target => 'public.tgt',
                    record_key => 'id', precombine => 'updated_at')" >/dev/null
    else
        q -c "SELECT incetl.create_pipeline(name => 'p', source => 'public.src',
                    watermark_column => 'version', target => 'public.tgt',
                    record_key => 'id', precombine => 'version')" >/dev/null
    fi
    # first run: the full load of the seed rows, before the writers start
    q -c "SELECT incetl_run('p')" >/dev/null
}

# The writers' transaction: insert a new id, update a random existing one,
# hold 50 ms, commit.  Every insert and update also takes a new version
# (the integer watermark), and updated_at = now() (the time watermark).
cat >"$WORK/writer.sql" <<SQL
\set r random(1, $SEED_ROWS)
\set v random(1, 1000000000)
BEGIN;
INSERT INTO src (id, val) VALUES (nextval('src_id_seq'), :v);
UPDATE src SET val = :v, updated_at = now(), version = nextval('ver_seq') WHERE id = :r;
SELECT pg_sleep($HOLD);
COMMIT;
SQL

cat >"$WORK/runner.sql" <<SQL
SELECT incetl_run('p');
\sleep $RUN_EVERY_MS ms
SQL

# --------------------------------------------------------------------------
# One scenario: writers + runner, final runs, compare.
#   $1 label  $2 kind (time|int)  $3 seconds  $4 naive (on|off)
# Sets RESULT_<label> and exports the comparison numbers in globals.
# --------------------------------------------------------------------------
declare -A R_SRC R_TGT R_MISSING R_STALE R_EXTRA R_LOST_PCT R_RUNS R_TX R_FINAL_READ R_LOOP_READ

scenario() {
    local label=$1 kind=$2 secs=$3 naive=$4
    local wlog="$WORK/writers-$label.log" rlog="$WORK/runner-$label.log"

    incetl_log "scenario $label: $kind watermark, naive=$naive, $CLIENTS writers for ${secs}s, a run every ${RUN_EVERY_MS} ms"
    setup "$kind"
    race_run "$label" "$secs" "$wlog" "$rlog" "-c incetl.test_naive_watermark=$naive"

    # writers are gone: two final runs, with the same rule as the loop
    local i last_loop_run
    last_loop_run=$(q -c "SELECT coalesce(max(run_id), 0) FROM incetl.run_log")
    for i in 1 2; do
        PGOPTIONS="-c incetl.test_naive_watermark=$naive" q -c "SELECT incetl_run('p')" >/dev/null
    done

    local row
    row=$(q -F ' ' <<'SQL'
WITH s AS (SELECT id, val, updated_at, version FROM src),
     t AS (SELECT id, val, updated_at, version FROM tgt),
     s_not_t AS (SELECT * FROM s EXCEPT SELECT * FROM t),
     t_not_s AS (SELECT * FROM t EXCEPT SELECT * FROM s)
SELECT (SELECT count(*) FROM s),
       (SELECT count(*) FROM t),
       (SELECT count(*) FROM s_not_t WHERE id NOT IN (SELECT id FROM t)),
       (SELECT count(*) FROM s_not_t WHERE id IN (SELECT id FROM t)),
       (SELECT count(*) FROM t_not_s WHERE id NOT IN (SELECT id FROM s)),
       (SELECT count(*) FROM s_not_t),
       (SELECT count(*) FROM incetl.run_log WHERE status IN ('SUCCESS', 'NO_DATA'))
SQL
    )
    local n_src n_tgt missing stale extra lost runs tx
    read -r n_src n_tgt missing stale extra lost runs <<<"$row"
    tx=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$wlog")
    R_SRC[$label]=$n_src
    R_TGT[$label]=$n_tgt
    R_MISSING[$label]=$missing
    R_STALE[$label]=$stale
    R_EXTRA[$label]=$extra
    R_RUNS[$label]=$runs
    R_TX[$label]=${tx:-?}
    # rows the writers wrote (each insert and update takes a version above
    # the seed's): the rows at risk
    local touched
    touched=$(q -c "SELECT count(*) FROM src WHERE version > $SEED_ROWS")
    # a rule that never lets the watermark pass an open transaction would
    # pass this test by doing everything in the final runs: the runs during
    # the writers must have done most of the work
    R_FINAL_READ[$label]=$(q -c "SELECT coalesce(sum(records_read), 0) FROM incetl.run_log WHERE run_id > $last_loop_run")
    R_LOOP_READ[$label]=$(q -c "SELECT coalesce(sum(records_read), 0) FROM incetl.run_log WHERE run_id <= $last_loop_run AND run_id > (SELECT min(run_id) FROM incetl.run_log)")
    R_LOST_PCT[$label]=$(awk -v l="$lost" -v t="$touched" 'BEGIN { printf "%.1f", t ? 100 * l / t : 0 }')
    echo "   source $n_src rows ($touched written by the writers, ${tx:-?} writer transactions), target $n_tgt rows, $runs runs"
    echo "   rows read by the runs during the writers: ${R_LOOP_READ[$label]}, by the two final runs: ${R_FINAL_READ[$label]}"
    echo "   missing $missing, stale $stale, extra $extra: ${R_LOST_PCT[$label]}% of the written rows lost"
    if [ "$lost" -gt 0 ] || [ "$extra" -gt 0 ]; then
        show_losses "$kind"
    fi
}

# A few lost rows, each with the run whose range should have taken it.
show_losses() {
    local kind=$1 col=updated_at cast=timestamptz
    if [ "$kind" = int ]; then col=version cast=bigint; fi
    echo "   sample of source rows the target does not have (or has older):"
    sql <<SQL
WITH lost AS (
    SELECT id, val, updated_at, version FROM src
    EXCEPT SELECT id, val, updated_at, version FROM tgt
    ORDER BY id LIMIT 8)
SELECT l.id, l.val AS src_val, t.val AS tgt_val, l.$col AS src_$col,
       t.$col AS tgt_$col, r.run_id AS covering_run,
       r.last_run_timestamp AS run_from, r.current_run_timestamp AS run_to,
       (l.$col = r.current_run_timestamp::$cast) AS at_run_bound
FROM lost AS l
LEFT JOIN tgt AS t USING (id)
LEFT JOIN LATERAL (
    SELECT run_id, last_run_timestamp, current_run_timestamp
    FROM incetl.run_log
    WHERE status IN ('SUCCESS', 'NO_DATA')
      AND (last_run_timestamp IS NULL OR l.$col > last_run_timestamp::$cast)
      AND l.$col <= current_run_timestamp::$cast
    ORDER BY run_id LIMIT 1) AS r ON true
ORDER BY l.id;
SQL
    echo "   target rows whose id is not in the source (should never happen):"
    sql -c "SELECT * FROM tgt WHERE id NOT IN (SELECT id FROM src) ORDER BY id LIMIT 5"
}

scenario naive time "$WRITE_SECONDS" on
scenario safe time "$WRITE_SECONDS" off
scenario int int "$INT_SECONDS" off

echo
printf '%-7s %-11s %-6s %9s %9s %9s %7s %7s %7s %6s %9s %9s %7s\n' \
    scenario watermark rule writer_tx source target missing stale extra runs read_loop read_end lost%
for label in naive safe int; do
    case $label in
        naive) wm=timestamptz rule=naive ;;
        safe) wm=timestamptz rule=safe ;;
        int) wm=bigint rule=safe ;;
    esac
    printf '%-7s %-11s %-6s %9s %9s %9s %7s %7s %7s %6s %9s %9s %6s%%\n' \
        "$label" "$wm" "$rule" "${R_TX[$label]}" "${R_SRC[$label]}" "${R_TGT[$label]}" \
        "${R_MISSING[$label]}" "${R_STALE[$label]}" "${R_EXTRA[$label]}" \
        "${R_RUNS[$label]}" "${R_LOOP_READ[$label]}" "${R_FINAL_READ[$label]}" "${R_LOST_PCT[$label]}"
done
echo

status=0
if [ $((R_MISSING[naive] + R_STALE[naive])) -eq 0 ]; then
    echo "FAIL: the naive rule lost no row: this workload does not exercise the race" >&2
    status=1
fi
for label in safe int; do
    if [ "${R_SRC[$label]}" != "${R_TGT[$label]}" ] ||
        [ $((R_MISSING[$label] + R_STALE[$label] + R_EXTRA[$label])) -ne 0 ]; then
        echo "FAIL: $label: target differs from source (missing ${R_MISSING[$label]}, stale ${R_STALE[$label]}, extra ${R_EXTRA[$label]})" >&2
        status=1
    fi
done
for label in safe int; do
    # the final runs take what the last open transactions held back: a few
    # hundred rows at most, against thousands taken while the writers ran
    if [ "${R_FINAL_READ[$label]}" -ge "${R_LOOP_READ[$label]}" ]; then
        echo "FAIL: $label: the runs during the writers read ${R_LOOP_READ[$label]} rows, the final runs ${R_FINAL_READ[$label]}: the bound did not advance while writers were active" >&2
        status=1
    fi
done
[ "$status" -eq 0 ] && echo "PASS: the naive rule loses rows; the safe rule loses none (timestamptz and bigint watermarks)"
exit "$status"
