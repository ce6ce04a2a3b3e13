#!/usr/bin/env bash
# test/run_tests.sh -- incetl's test command: what `make test` and `.ci/run` run
#
# On a fresh Debian 12 machine, as root (or as a user with the packages
# already installed), this:
#
#   1. installs the Debian packages it needs (test/lib.sh, incetl_install_deps);
#   2. copies the source tree to a work directory under /tmp owned by the
#      non-root user (postgres when we are root), builds it there and installs
#      it into PostgreSQL 15;
#   3. starts a throwaway cluster (unix socket only, port $INCETL_TEST_PORT,
#      default 54329) preloading incetl and pg_cron, stopped again on exit;
#   4. runs every suite as the non-root user, each one even when an earlier
#      one failed:
#        regress    sql/*.sql against expected/*.out          (pg_regress)
#        isolation  test/specs/*.spec against test/expected/  (pg_isolation_regress)
#        tap        test/t/*.pl with PostgreSQL::Test::Cluster (prove)
#        sh         test/sh/*.sh, run with bash
#   5. prints every failure's diff or log and ends with the line
#        N passed, M failed
#      exiting non-zero when M > 0, when nothing ran, or when the build failed.
#
# What counts as one test:
#   regress, isolation  one per test file (each sql/*.sql, each spec); a test
#                       that pg_regress never reported (it stopped early)
#                       counts as failed;
#   tap                 one per .pl file: a file is one scenario whose
#                       assertions build on each other, and a file that dies
#                       half way is one failure, not a guess at a plan;
#   sh                  one per script: exit status 0 passes.
#   A failed build, and a harness step that aborts, count as one failure each
#   (a build that succeeds is not counted: it is not a test).  So does a
#   crash in the shared test cluster's log (PANIC, TRAP, a backend killed by
#   a signal) that no test reported: tests that crash a server on purpose do
#   it on a cluster of their own.
#
# The work directory is kept after the run for inspection (results/, diffs,
# logs) and replaced by the next run:  /tmp/incetl-test-<user>/
#
# Shell tests get, besides PATH and HOME:
#   PGHOST PGPORT PGUSER     the running test cluster (PGDATABASE=postgres);
#                            pg_cron there watches database contrib_regression
#   INCETL_PG_BIN            /usr/lib/postgresql/15/bin
#   INCETL_SRC               the built source tree (their working directory)
#   INCETL_TEST_LIB          test/lib.sh: source it for incetl_cluster_* to run
#                            clusters of their own (crash, restart, standby)
#   INCETL_TMP               an empty directory of their own, for such clusters
#   INCETL_PREV_RELEASE_TAR  the source of incetl 0.1 as a tar file, from the
#                            git history; empty without it
#   INCETL_PREV_RELEASE_0_2_TAR
#                            the same for incetl 0.2
#   INCETL_PREV_RELEASE_0_3_TAR
#                            the same for incetl 0.3
#   INCETL_PREV_RELEASE_0_4_TAR
#                            the same for incetl 0.4
#   INCETL_TEST_PORT         a port for such clusters: a cluster is reached
#                            only through its own socket directory, so reusing
#                            the port number never collides
#
# TAP tests get TEMP_CONFIG, which PostgreSQL::Test::Cluster appends to every
# node's postgresql.conf at init: incetl and pg_cron preloaded, pg_cron on
# database "postgres".  A test overrides it with $node->append_conf.
#
# Knobs: INCETL_TEST_PORT, INCETL_PG_BIN, INCETL_TEST_USER (see lib.sh),
#        INCETL_TEST_DIR (work directory), INCETL_SUITE_TIMEOUT (seconds for
#        each pg_regress suite, default 1800), INCETL_TEST_TIMEOUT (seconds for
#        each TAP file or shell test, default 900).

set -euo pipefail
export LC_ALL=C          # stable glob order and tool messages

exec 8>&1                # the terminal, for the summary (see incetl_on_exit)

SRC_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=test/lib.sh
source "$SRC_DIR/test/lib.sh"

SUITE_TIMEOUT=${INCETL_SUITE_TIMEOUT:-1800}
TEST_TIMEOUT=${INCETL_TEST_TIMEOUT:-900}

# --------------------------------------------------------------------------
# Bookkeeping: every test ends in exactly one pass or fail call.
# --------------------------------------------------------------------------

PASSED=0
FAILED=0
FAILED_NAMES=()
STAGE="starting"
FINISHED=""

pass() {
    PASSED=$((PASSED + 1))
    printf 'ok      %s\n' "$1"
}

fail() {
    FAILED=$((FAILED + 1))
    FAILED_NAMES+=("$1")
    printf 'FAILED  %s\n' "$1"
}

# Print at most 200 lines of a file, with a header.
show() {
    local title=$1 file=$2
    echo "-------- $title"
    if [ -s "$file" ]; then
        head -n 200 "$file"
        local n
        n=$(wc -l <"$file")
        if [ "$n" -gt 200 ]; then
            echo "[... $((n - 200)) more lines in $file]"
        fi
    else
        echo "(no output: $file)"
    fi
    echo "--------"
}

# Called by lib.sh's EXIT trap after the clusters are stopped: the summary
# line is the very last thing printed.
incetl_on_exit() {
    local rc=$1
    # The script may be exiting from inside a redirection (a command's output
    # going to a log): the summary goes to the terminal regardless.
    exec >&8 2>&1
    if [ -z "$FINISHED" ]; then
        fail "harness: aborted (exit $rc) while $STAGE"
    fi
    echo
    if [ "$FAILED" -gt 0 ]; then
        echo "Failed:"
        printf '  %s\n' "${FAILED_NAMES[@]}"
    fi
    if [ -n "${TEST_DIR:-}" ]; then
        echo "Work directory (results, diffs, logs): $TEST_DIR"
    fi
    echo "$PASSED passed, $FAILED failed"
    if [ "$FAILED" -gt 0 ] || [ $((PASSED + FAILED)) -eq 0 ]; then
        return 1
    fi
    return 0
}

# --------------------------------------------------------------------------
# Suites
# --------------------------------------------------------------------------

# Run one pg_regress-based suite through PGXS's installcheck target and count
# its tests.
#   $1  label (regress | isolation)
#   $2  regression.diffs that suite writes
#   $3  name of an array holding the test names we expect it to report
#   $@  extra make arguments (the one that empties the other suite)
run_pg_regress_suite() {
    local label=$1 diffs=$2
    local -n expected=$3
    shift 3
    local out="$LOG_DIR/$label.out" rc

    echo
    incetl_log "$label: ${#expected[@]} tests"
    if [ ${#expected[@]} -eq 0 ]; then
        echo "(none)"
        return 0
    fi

    # PGXS's installcheck runs REGRESS, then ISOLATION, and stops at the first
    # failing one; emptying one of them on the command line runs the other
    # alone, so a regress failure never hides the isolation results.
    set +e
    incetl_as_runner timeout -k 30 "$SUITE_TIMEOUT" \
        make -C "$WORK" installcheck PG_CONFIG="$INCETL_PG_CONFIG" "$@" 2>&1 |
        tee "$out"
    rc=${PIPESTATUS[0]}
    set -e
    if [ "$rc" -eq 124 ]; then echo "$label: timed out after ${SUITE_TIMEOUT}s"; fi

    # pg_regress reports one line per test.  PostgreSQL 15:
    #   "test name   ... ok   12 ms"   or  "     name   ... FAILED" (parallel)
    # PostgreSQL 16 and later (TAP style):
    #   "ok 1   - name   12 ms"        or  "not ok 2   + name"
    local line name result
    local -A seen=()
    local re15='^(test[[:space:]]+|[[:space:]]+)([^[:space:]]+)[[:space:]]+\.\.\.[[:space:]]+(ok|FAILED|failed)'
    local re16='^(not )?ok [0-9]+[[:space:]]+[-+][[:space:]]+([^[:space:]]+)'
    while IFS= read -r line; do
        if [[ $line =~ $re15 ]]; then
            name=${BASH_REMATCH[2]} result=${BASH_REMATCH[3]}
        elif [[ $line =~ $re16 ]]; then
            name=${BASH_REMATCH[2]}
            if [ -n "${BASH_REMATCH[1]}" ]; then result=FAILED; else result=ok; fi
        else
            continue
        fi
        seen[$name]=$result
    done <"$out"

    local failures=0 shown_output=""
    for name in "${expected[@]}"; do
        result=${seen[$name]:-"not run"}
        unset "seen[$name]"
        if [ "$result" = ok ]; then
            pass "$label/$name"
            continue
        fi
        fail "$label/$name ($result)"
        failures=$((failures + 1))
        # The section of regression.diffs for this test ("diff ... results/name.out").
        if [ -f "$diffs" ] &&
            awk -v n="$name" '/^diff /{p = ($NF ~ ("/results/" n "\\.out$"))} p' \
                "$diffs" >"$LOG_DIR/$label-$name.diff" &&
            [ -s "$LOG_DIR/$label-$name.diff" ]; then
            show "diff for $label/$name" "$LOG_DIR/$label-$name.diff"
        elif [ -z "$shown_output" ]; then
            echo "-------- no diff for $label/$name; end of the $label output:"
            tail -n 40 "$out"
            echo "--------"
            shown_output=1
        fi
    done
    # Tests pg_regress ran that we did not expect (a schedule, a typo): count them.
    for name in "${!seen[@]}"; do
        if [ "${seen[$name]}" = ok ]; then
            pass "$label/$name"
        else
            fail "$label/$name (${seen[$name]})"
            failures=$((failures + 1))
        fi
    done
    if [ "$rc" -ne 0 ] && [ "$failures" -eq 0 ]; then
        fail "$label (pg_regress exited $rc although every test passed)"
        echo "-------- end of the $label output:"
        tail -n 40 "$out"
        echo "--------"
    fi
}

# Run each test/t/*.pl with prove, one file at a time.
run_tap_suite() {
    local files=("$WORK"/test/t/*.pl) f base log rc
    echo
    incetl_log "tap: ${#files[@]} test files"
    if [ ${#files[@]} -eq 0 ]; then
        echo "(none)"
        return 0
    fi

    # What PGXS's prove_installcheck sets, plus TEMP_CONFIG (see the header).
    local perl_lib="$PGXS_DIR/src/test/perl"
    local tap_env=(
        PATH="$INCETL_PG_BIN:/usr/local/bin:/usr/bin:/bin"
        HOME="$RUNNER_HOME" LANG=C.UTF-8
        TESTDIR="$WORK/test"
        PG_REGRESS="$PGXS_DIR/src/test/regress/pg_regress"
        TEMP_CONFIG="$TEST_DIR/tap.conf"
        INCETL_PG_BIN="$INCETL_PG_BIN" INCETL_SRC="$WORK"
        INCETL_TEST_LIB="$WORK/test/lib.sh"
    )
    for f in "${files[@]}"; do
        base=$(basename "$f")
        log="$LOG_DIR/tap-${base%.pl}.log"
        set +e
        printf 'running tap/%s ' "$base"
        (cd "$WORK/test" && incetl_with_dots "$log" incetl_as_runner env -i "${tap_env[@]}" \
            timeout -k 30 "$TEST_TIMEOUT" \
            prove -I "$perl_lib" -I t "t/$base")
        rc=$?
        set -e
        if [ "$rc" -eq 0 ]; then
            pass "tap/$base ($(sed -n 's/^Files=1, Tests=\([0-9]*\),.*/\1/p' "$log") assertions)"
        else
            if [ "$rc" -eq 124 ]; then
                echo "timed out after ${TEST_TIMEOUT}s" >>"$log"
            fi
            fail "tap/$base"
            show "prove output for tap/$base" "$log"
            local rlog="$WORK/test/tmp_check/log/regress_log_${base%.pl}"
            if [ -f "$rlog" ]; then
                echo "-------- end of $rlog"
                tail -n 40 "$rlog"
                echo "--------"
            fi
        fi
    done
}

# Run each test/sh/*.sh with bash against the test cluster.
run_sh_suite() {
    local files=("$WORK"/test/sh/*.sh) f base log rc tmp
    echo
    incetl_log "sh: ${#files[@]} shell tests"
    if [ ${#files[@]} -eq 0 ]; then
        echo "(none)"
        return 0
    fi

    local sh_env=(
        PATH="$INCETL_PG_BIN:/usr/local/bin:/usr/bin:/bin"
        HOME="$RUNNER_HOME" LANG=C.UTF-8
        PGHOST="$PGHOST" PGPORT="$PGPORT" PGUSER="$PGUSER" PGDATABASE=postgres
        INCETL_PG_BIN="$INCETL_PG_BIN" INCETL_SRC="$WORK"
        INCETL_TEST_LIB="$WORK/test/lib.sh" INCETL_TEST_PORT="$INCETL_TEST_PORT"
        INCETL_PREV_RELEASE_TAR="$PREV_RELEASE_TAR"
        INCETL_PREV_RELEASE_0_2_TAR="$PREV_RELEASE_0_2_TAR"
        INCETL_PREV_RELEASE_0_3_TAR="$PREV_RELEASE_0_3_TAR"
        INCETL_PREV_RELEASE_0_4_TAR="$PREV_RELEASE_0_4_TAR"
    )
    for f in "${files[@]}"; do
        base=$(basename "$f")
        log="$LOG_DIR/sh-${base%.sh}.log"
        tmp="$TEST_DIR/sh-tmp/${base%.sh}"
        mkdir -p "$tmp"
        if incetl_is_root; then chown "$RUNNER:" "$tmp" "$TEST_DIR/sh-tmp"; fi
        set +e
        printf 'running sh/%s ' "$base"
        (cd "$WORK" && incetl_with_dots "$log" incetl_as_runner env -i "${sh_env[@]}" \
            INCETL_TMP="$tmp" timeout -k 30 "$TEST_TIMEOUT" bash "test/sh/$base")
        rc=$?
        set -e
        if [ "$rc" -eq 0 ]; then
            pass "sh/$base"
        else
            if [ "$rc" -eq 124 ]; then
                echo "timed out after ${TEST_TIMEOUT}s" >>"$log"
            fi
            fail "sh/$base (exit $rc)"
            show "output of sh/$base" "$log"
        fi
    done
}

# --------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------

STAGE="installing dependencies"
incetl_install_deps

RUNNER=$(incetl_runner_user)
RUNNER_HOME=$(getent passwd "$RUNNER" | cut -d: -f6)
PGXS_DIR=$("$INCETL_PG_CONFIG" --pgxs)       # .../lib/pgxs/src/makefiles/pgxs.mk
PGXS_DIR=$(dirname "$(dirname "$(dirname "$PGXS_DIR")")")
TEST_DIR=${INCETL_TEST_DIR:-/tmp/incetl-test-$RUNNER}
WORK=$TEST_DIR/src
CLUSTER=$TEST_DIR/cluster
LOG_DIR=$TEST_DIR/logs

# One run at a time per work directory: a second run waits for the first.
STAGE="waiting for the lock"
LOCK=$TEST_DIR.lock
[ -e "$LOCK" ] || : >"$LOCK"
exec 9<"$LOCK"
if ! flock -n 9; then
    incetl_log "another test run holds $LOCK; waiting"
    flock 9
fi

STAGE="preparing $TEST_DIR"
incetl_log "work directory $TEST_DIR (as $RUNNER)"
incetl_cluster_stop "$CLUSTER" immediate   # left over from a killed run
incetl_rm_dir "$TEST_DIR"
mkdir -p "$TEST_DIR" "$LOG_DIR"
incetl_copy_tree "$SRC_DIR" "$WORK"
incetl_server_conf postgres >"$TEST_DIR/tap.conf"
if incetl_is_root; then chown "$RUNNER:" "$TEST_DIR" "$LOG_DIR" "$TEST_DIR/tap.conf"; fi

# The previous releases' sources, for test/sh/upgrade_from_*.sh: a git
# archive of the commit that was each release (none without the history).
STAGE="exporting the previous releases"
export_release() {   # VERSION COMMIT: prints the tar's path, or nothing
    local tar=$TEST_DIR/incetl-$1.tar
    if command -v git >/dev/null 2>&1 &&
            git -C "$SRC_DIR" cat-file -e "$2^{commit}" 2>/dev/null &&
            git -C "$SRC_DIR" archive --format=tar "$2" >"$tar" 2>/dev/null; then
        if incetl_is_root; then chown "$RUNNER:" "$tar"; fi
        printf '%s\n' "$tar"
    fi
}
PREV_RELEASE_TAR=$(export_release 0.1 9ff7429dfeb639d570561f26d16f4e4a6a77e85d)
PREV_RELEASE_0_2_TAR=$(export_release 0.2 ee4020a068e2c378ceeaa1bbbf1c006b6a138eda)
PREV_RELEASE_0_3_TAR=$(export_release 0.3 fc6e088ec56ac4080d11dc19d0a48115e214679e)
PREV_RELEASE_0_4_TAR=$(export_release 0.4 382f8e469ada4b00a0dee596760c3684c42aa567)

STAGE="building"
if ! incetl_build "$WORK"; then
    fail "build and install (full log: $WORK/build.log)"
    FINISHED=1
    exit 1
fi
incetl_log "build ok"

STAGE="starting the test cluster"
incetl_log "starting the test cluster in $CLUSTER (port $INCETL_TEST_PORT)"
# pg_regress creates contrib_regression; pg_cron must live there for the
# regression tests that schedule jobs.
incetl_cluster_init "$CLUSTER" "$INCETL_TEST_PORT" contrib_regression
incetl_cluster_start "$CLUSTER"
incetl_cluster_export "$CLUSTER"
echo "PGHOST=$PGHOST PGPORT=$PGPORT PGUSER=$PGUSER"

# Expected test names, as the Makefile computes REGRESS and ISOLATION.
REGRESS_TESTS=()
for f in "$WORK"/sql/*.sql; do
    [ -e "$f" ] || continue
    name=$(basename "$f" .sql)
    case $name in incetl--*) continue ;; esac
    REGRESS_TESTS+=("$name")
done
ISOLATION_TESTS=()
for f in "$WORK"/test/specs/*.spec; do
    [ -e "$f" ] || continue
    ISOLATION_TESTS+=("$(basename "$f" .spec)")
done

shopt -s nullglob

STAGE="running pg_regress"
run_pg_regress_suite regress "$WORK/regression.diffs" REGRESS_TESTS ISOLATION=

STAGE="running the isolation suite"
run_pg_regress_suite isolation "$WORK/test/output_iso/regression.diffs" \
    ISOLATION_TESTS REGRESS=

STAGE="running the TAP tests"
run_tap_suite

STAGE="running the shell tests"
# A crashed server restarts by itself; a dead one would fail every shell test
# for the wrong reason.  Bring it back, and say so.
if ! "$INCETL_PG_BIN/pg_isready" -q -h "$PGHOST" -p "$PGPORT"; then
    fail "cluster: the test server was down after the earlier suites"
    echo "-------- end of $CLUSTER/server.log"
    tail -n 60 "$CLUSTER/server.log"
    echo "--------"
    incetl_cluster_stop "$CLUSTER" immediate
    incetl_cluster_start "$CLUSTER"
fi
run_sh_suite

# Crashes and assertion failures that no test output shows.
if grep -E -q 'PANIC|TRAP:|was terminated by signal' "$CLUSTER/server.log"; then
    fail "cluster: server log shows a crash (PANIC, TRAP or a signal)"
    echo "-------- crash lines in $CLUSTER/server.log"
    grep -E -B2 -A2 'PANIC|TRAP:|was terminated by signal' "$CLUSTER/server.log" | head -n 60
    echo "--------"
fi

STAGE="finishing"
FINISHED=1
