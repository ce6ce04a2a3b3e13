# test/sh/helpers.bash -- assertions shared by the shell tests (test/sh/*.sh)
#
# Sourced, never run (the runner only picks up *.sh):
#
#     source "$(dirname "${BASH_SOURCE[0]}")/helpers.bash"
#
# It sources test/lib.sh (cluster helpers, EXIT trap) and provides:
#
#   q DB SQL                 run SQL in DB, print the result unaligned (-At,
#                            fields separated by "|"); any error aborts the test
#   expect WHAT WANT GOT     pass when GOT equals WANT exactly, else fail,
#                            printing both
#   expect_match WHAT REGEX GOT
#                            pass when GOT matches the extended REGEX
#   fail MESSAGE...          print FAIL and exit 1
#   wait_for WHAT SECONDS DB SQL
#                            poll SQL every half second until it returns "t"
#                            (errors while polling, e.g. a server still in
#                            recovery, count as "not yet"); fail after SECONDS
#   cluster_exit RC          for a test's incetl_on_exit: when RC is not 0,
#                            show the end of $CDIR/server.log; then remove
#                            the directory holding $CDIR; returns RC
#
# Every passed assertion prints "ok  ...", so a failing test's log reads as a
# story up to the line that broke.

set -euo pipefail
export LC_ALL=C

# shellcheck source=test/lib.sh
source "${INCETL_TEST_LIB:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/lib.sh}"
PATH="$INCETL_PG_BIN:$PATH"

fail() {
    printf 'FAIL: %s\n' "$*" >&2
    exit 1
}

expect() {
    local what=$1 want=$2 got=$3
    if [ "$want" != "$got" ]; then
        printf 'FAIL: %s\n  expected: %s\n  got:      %s\n' "$what" "$want" "$got" >&2
        exit 1
    fi
    printf 'ok  %s\n' "$what"
}

expect_match() {
    local what=$1 re=$2 got=$3
    if ! [[ $got =~ $re ]]; then
        printf 'FAIL: %s\n  expected to match: %s\n  got:               %s\n' \
            "$what" "$re" "$got" >&2
        exit 1
    fi
    printf 'ok  %s\n' "$what"
}

q() {
    local db=$1
    shift
    psql -X -At -q -v ON_ERROR_STOP=1 -d "$db" -c "$*"
}

wait_for() {
    local what=$1 secs=$2 db=$3 sql=$4 i
    for i in $(seq 1 $((secs * 2))); do
        if [ "$(q "$db" "$sql" 2>/dev/null)" = t ]; then
            printf 'ok  %s (after ~%ss)\n' "$what" $((i / 2))
            return 0
        fi
        sleep 0.5
    done
    fail "$what: not true after ${secs}s: $sql"
}

cluster_exit() {
    local rc=$1
    if [ "$rc" -ne 0 ] && [ -f "$CDIR/server.log" ]; then
        echo "---- end of $CDIR/server.log" >&2
        tail -n 40 "$CDIR/server.log" >&2
    fi
    rm -rf "$(dirname "$CDIR")"
    return "$rc"
}
