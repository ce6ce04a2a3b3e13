#!/usr/bin/env bash
# test/cassert.sh -- the pg_regress and isolation suites on an assert-enabled
# PostgreSQL 15
#
# Debian's postgresql-15 is built without assertions, so Assert()s in the
# server (execIndexing.c's check of a slot's table OID, memory-context
# parameter checks, ...) never fire in `make test`.  This script builds
# PostgreSQL 15 from Debian's source package with --enable-cassert (once:
# the build is kept in INCETL_CASSERT_PREFIX), adds Debian's pg_cron to it,
# builds incetl against it in a
# copy of the tree, runs every pg_regress file and isolation spec on a
# throwaway cluster, and fails on any failed test or any TRAP in the
# server log.  Not part of `make test` (it downloads and compiles
# PostgreSQL, under two minutes on two cores); run it as root:
#
#     bash test/cassert.sh
#
# Knobs: INCETL_CASSERT_PREFIX (/opt/pgassert), INCETL_CASSERT_PORT (54399),
#        INCETL_CASSERT_DIR (/tmp/incetl-cassert).

set -euo pipefail
export LC_ALL=C

SRC_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=test/lib.sh
source "$SRC_DIR/test/lib.sh"

PREFIX=${INCETL_CASSERT_PREFIX:-/opt/pgassert}
PORT=${INCETL_CASSERT_PORT:-54399}
WORK=${INCETL_CASSERT_DIR:-/tmp/incetl-cassert}
RUNNER=$(incetl_runner_user)

incetl_is_root || incetl_die "run test/cassert.sh as root (it installs packages and PostgreSQL)"

if [ ! -x "$PREFIX/bin/postgres" ]; then
    incetl_log "building PostgreSQL 15 with --enable-cassert into $PREFIX"
    apt-get update -qq
    apt-get install -y -qq build-essential libicu-dev libzstd-dev libxml2-dev \
        zlib1g-dev libreadline-dev pkg-config >/dev/null
    pgsrc=$(incetl_pg_source "$WORK/src") ||
        incetl_die "could not get PostgreSQL 15's source"
    (cd "$pgsrc" &&
        ./configure --prefix="$PREFIX" --enable-cassert --enable-debug \
            --with-icu --with-zstd --with-libxml CFLAGS="-O1 -g" >"$WORK/configure.log" &&
        make -j"$(nproc)" -s >"$WORK/make.log" 2>&1 &&
        make -s install >"$WORK/install.log" &&
        make -s -C src/test/isolation install >>"$WORK/install.log") ||
        incetl_die "building PostgreSQL failed: see $WORK/*.log"
fi

# contrib modules the tests use, from the same source tree
for mod in amcheck pageinspect tsm_system_rows tsm_system_time; do
    if [ ! -f "$("$PREFIX/bin/pg_config" --sharedir)/extension/$mod.control" ]; then
        pgsrc=$(ls -d "$WORK"/src/postgresql-15.*/ 2>/dev/null | head -n 1)
        [ -n "$pgsrc" ] || incetl_die "no PostgreSQL source in $WORK/src: remove $PREFIX and run again"
        make -s -C "$pgsrc/contrib/$mod" install >>"$WORK/install.log" 2>&1 ||
            incetl_die "building $mod failed: see $WORK/install.log"
    fi
done

# pg_cron, which some tests schedule with: Debian's build of it (its source
# package is not always on the mirror).  Assertions change no struct a
# module sees, and the server checks the module's magic block as usual.
DEB_PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config
if [ ! -f "$PREFIX/lib/postgresql/pg_cron.so" ] && [ ! -f "$PREFIX/lib/pg_cron.so" ]; then
    incetl_log "installing Debian's pg_cron into $PREFIX"
    cp "$("$DEB_PG_CONFIG" --pkglibdir)/pg_cron.so" "$("$PREFIX/bin/pg_config" --pkglibdir)/" &&
        cp "$("$DEB_PG_CONFIG" --sharedir)"/extension/pg_cron* \
            "$("$PREFIX/bin/pg_config" --sharedir)/extension/" ||
        incetl_die "could not install pg_cron into $PREFIX"
fi

incetl_log "building incetl against $PREFIX"
incetl_copy_tree "$SRC_DIR" "$WORK/tree"
incetl_as_runner make -s -C "$WORK/tree" PG_CONFIG="$PREFIX/bin/pg_config" >/dev/null
make -s -C "$WORK/tree" PG_CONFIG="$PREFIX/bin/pg_config" install >/dev/null

C=$WORK/cluster
incetl_rm_dir "$C"
mkdir -p "$C/sock"
chown -R "$RUNNER:" "$WORK"
incetl_as_runner "$PREFIX/bin/initdb" -D "$C/data" -A trust --no-locale -E UTF8 >/dev/null
cat >>"$C/data/postgresql.conf" <<EOF
port = $PORT
unix_socket_directories = '$C/sock'
listen_addresses = ''
shared_preload_libraries = 'incetl,pg_cron'
cron.database_name = 'regression'
max_worker_processes = 16
max_prepared_transactions = 10
fsync = off
EOF
incetl_as_runner "$PREFIX/bin/pg_ctl" -D "$C/data" -l "$C/server.log" -w start >/dev/null
incetl_on_exit() {
    incetl_as_runner "$PREFIX/bin/pg_ctl" -D "$C/data" -m immediate stop >/dev/null 2>&1 || true
    return "$1"
}

cd "$WORK/tree"
PGXS_DIR=$("$PREFIX/bin/pg_config" --pkglibdir)/pgxs/src/test
tests=$(ls sql/*.sql | xargs -n1 basename | sed 's/\.sql$//' | grep -v '^incetl--' | sort)
specs=$(ls test/specs/*.spec | xargs -n1 basename | sed 's/\.spec$//' | sort)
status=0
incetl_as_runner "$PGXS_DIR/regress/pg_regress" --bindir="$PREFIX/bin" --host="$C/sock" \
    --port="$PORT" --load-extension=incetl --inputdir=. $tests || status=1
incetl_as_runner "$PGXS_DIR/isolation/pg_isolation_regress" --bindir="$PREFIX/bin" \
    --host="$C/sock" --port="$PORT" --load-extension=incetl --inputdir=test \
    --outputdir=test/output_iso $specs || status=1
if grep -n "TRAP:" "$C/server.log"; then
    echo "assertion failures in $C/server.log"
    status=1
fi
[ "$status" = 0 ] && echo "cassert: every pg_regress file and isolation spec passed, no assertion failed"
exit "$status"
