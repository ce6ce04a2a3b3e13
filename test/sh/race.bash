# test/sh/race.bash -- what the race tests share (chained_stress.sh,
# watermark_nextval.sh, watermark_no_loss.sh): a database of their own, and
# pgbench writers racing a pgbench client that fires incetl_run
#
# Sourced, never run (the runner only picks up *.sh):
#
#     source "$(dirname "${BASH_SOURCE[0]}")/race.bash"
#
# It sources test/lib.sh (its EXIT trap calls incetl_on_exit, defined here)
# and provides:
#
#   PG_BIN                   the server's binaries (INCETL_PG_BIN)
#   race_setup NAME          creates database incetl_NAME_<pid> (DB) and a
#                            work directory (WORK); both go at exit, after
#                            any pgbench still running is killed
#   q ARGS...                psql on DB: tuples only, unaligned; an error
#                            aborts the test
#   fail MESSAGE...          print FAIL and exit 1
#   race_run LABEL SECONDS WRITER_LOG RUNNER_LOG [RUNNER_PGOPTIONS]
#                            CLIENTS pgbench clients of $WORK/writer.sql and
#                            one of $WORK/runner.sql (with RUNNER_PGOPTIONS,
#                            and client_min_messages=warning) for SECONDS;
#                            when either fails, its log (and the last FAILED
#                            runs) is printed and the test fails, the message
#                            prefixed with LABEL when it is not empty

set -euo pipefail
export LC_ALL=C

# shellcheck source=test/lib.sh
source "${INCETL_TEST_LIB:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/lib.sh}"

PG_BIN=${INCETL_PG_BIN:-/usr/lib/postgresql/15/bin}
DB=
WORK=
BG_PIDS=()

incetl_on_exit() {
    local rc=$1 pid
    for pid in "${BG_PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    wait 2>/dev/null || true
    if [ -n "$DB" ]; then
        "$PG_BIN/psql" -X -q -d postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" \
            >/dev/null 2>&1 || echo "warning: could not drop database $DB" >&2
    fi
    [ -z "$WORK" ] || rm -rf "$WORK"
    return "$rc"
}

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

q() {   # one value, unaligned
    "$PG_BIN/psql" -X -q -A -t -v ON_ERROR_STOP=1 -d "$DB" "$@"
}

race_setup() {
    DB="incetl_$1_$$"
    WORK=$(mktemp -d "${INCETL_TMP:-/tmp}/$1.XXXXXX")
    "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -d postgres -c "CREATE DATABASE $DB"
}

race_run() {
    local label=${1:+$1: } secs=$2 wlog=$3 rlog=$4 opts=${5:-}
    local wpid rpid wrc=0 rrc=0

    "$PG_BIN/pgbench" -n -c "$CLIENTS" -j 2 -T "$secs" -f "$WORK/writer.sql" "$DB" \
        >"$wlog" 2>&1 &
    wpid=$!
    BG_PIDS+=("$wpid")
    PGOPTIONS="$opts -c client_min_messages=warning" \
        "$PG_BIN/pgbench" -n -c 1 -j 1 -T "$secs" -f "$WORK/runner.sql" "$DB" \
        >"$rlog" 2>&1 &
    rpid=$!
    BG_PIDS+=("$rpid")
    wait "$wpid" || wrc=$?
    wait "$rpid" || rrc=$?
    BG_PIDS=()
    if [ "$wrc" -ne 0 ]; then
        cat "$wlog"
        fail "${label}the pgbench writers failed (exit $wrc)"
    fi
    if [ "$rrc" -ne 0 ]; then
        cat "$rlog"
        q -c "SELECT run_id, pipeline_name, status, sqlstate, error_message FROM incetl.run_log
              WHERE status = 'FAILED' ORDER BY run_id DESC LIMIT 5"
        fail "${label}the runner failed (exit $rrc): a run raised an error"
    fi
}
