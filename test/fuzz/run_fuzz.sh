#!/usr/bin/env bash
# test/fuzz/run_fuzz.sh -- what `make fuzz` runs: the incetl_cow differential
# fuzzer (test/fuzz/cow_fuzz.pl) for as long as asked, on a throwaway cluster.
#
# Like test/run_tests.sh it installs the Debian packages it needs (as root),
# copies the tree to a work directory, builds and installs it into the
# PostgreSQL of $INCETL_PG_BIN, and starts a cluster of its own (port
# $INCETL_FUZZ_PORT, default 54331, reached through its own socket
# directory), stopped again on exit.
#
# Knobs (environment, or make variables: make fuzz FUZZ_SECONDS=3600):
#   FUZZ_SECONDS     how long to run (default 600)
#   FUZZ_SEQUENCES   a number of sequences instead of a duration
#   FUZZ_SEED        base seed (default: from the clock); sequence i uses
#                    FUZZ_SEED + i, printed as it runs
#   FUZZ_STATEMENTS  statements per sequence (default 40)
#   FUZZ_AVOID       known-bug switches (default "known"; "none" for all
#                    off; see the header of cow_fuzz.pl)
#   FUZZ_KEEP_GOING  1: go on after a failure (each one is shrunk and saved)
# Replay one seed:  make fuzz FUZZ_SEED=1234 FUZZ_SEQUENCES=1
# Shrunk scripts and psql's stderr go to $FUZZ_OUT (default
# /tmp/incetl-fuzz-<user>/out).

set -euo pipefail
export LC_ALL=C

SRC_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=test/lib.sh
source "$SRC_DIR/test/lib.sh"

incetl_install_deps
RUNNER=$(incetl_runner_user)
DIR=${INCETL_FUZZ_DIR:-/tmp/incetl-fuzz-$RUNNER}
PORT=${INCETL_FUZZ_PORT:-54331}
OUT=${FUZZ_OUT:-$DIR/out}

incetl_cluster_stop "$DIR/cluster" immediate
incetl_copy_tree "$SRC_DIR" "$DIR/src"
incetl_build "$DIR/src" || incetl_die "build failed"
incetl_cluster_init "$DIR/cluster" "$PORT" postgres
incetl_cluster_start "$DIR/cluster"
incetl_cluster_psql "$DIR/cluster" -c "CREATE EXTENSION incetl"
mkdir -p "$OUT"
if incetl_is_root; then chown -R "$RUNNER:" "$OUT"; fi

args=(--psql "$INCETL_PG_BIN/psql" --out "$OUT"
      --statements "${FUZZ_STATEMENTS:-40}" --avoid "${FUZZ_AVOID:-known}")
if [ -n "${FUZZ_SEED:-}" ]; then args+=(--seed "$FUZZ_SEED"); fi
if [ -n "${FUZZ_SEQUENCES:-}" ]; then
    args+=(--sequences "$FUZZ_SEQUENCES")
else
    args+=(--seconds "${FUZZ_SECONDS:-600}")
fi
if [ "${FUZZ_KEEP_GOING:-0}" = 1 ]; then args+=(--keep-going); fi

set +e
PGHOST="$DIR/cluster/sock" PGPORT=$PORT PGUSER=$RUNNER PGDATABASE=postgres \
    incetl_as_runner perl "$DIR/src/test/fuzz/cow_fuzz.pl" "${args[@]}"
rc=$?
set -e
if grep -qE 'PANIC|TRAP|terminated by signal' "$DIR/cluster/server.log"; then
    echo "---- the server log shows a crash:"
    grep -E -B2 -A5 'PANIC|TRAP|terminated by signal' "$DIR/cluster/server.log" | head -60
    rc=1
fi
exit "$rc"
