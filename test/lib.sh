# test/lib.sh -- shared helpers for incetl's test runner, demo and shell tests
# shellcheck shell=bash
#
# Sourced, never executed:
#
#     source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
#
# What it provides:
#
#   incetl_install_deps            apt-get install what building and testing need
#   incetl_copy_tree SRC DEST      copy a source tree (no .git, no build output)
#                                  into DEST, owned by the runner user
#   incetl_build DIR               make (as the runner) + make install (as root)
#   incetl_with_dots LOG CMD...    run CMD into LOG, a dot every 2 s meanwhile
#   incetl_as_runner CMD...        run CMD as the non-root user that owns servers
#   incetl_as_root CMD...          run CMD as root (directly, or via sudo -n)
#   incetl_rm_dir DIR              rm -rf, refusing "" and "/"
#   incetl_pg_source DIR           print the path of PostgreSQL 15's source tree,
#                                  downloading Debian's source package into DIR
#                                  unless DIR (or $INCETL_PG_SOURCE) has one
#
#   A "cluster" is a directory: CDIR/data (PGDATA), CDIR/sock (the only way in:
#   listen_addresses is empty, so a cluster never takes a TCP port and never
#   collides with anybody else's server), CDIR/server.log and CDIR/port.
#
#   incetl_server_conf CRON_DB     print the settings every test server gets
#   incetl_cluster_init CDIR PORT [CRON_DB [CONF_LINE...]]
#                                  initdb + incetl's standard configuration
#   incetl_cluster_start CDIR [keep]
#                                  start and wait until ready; unless "keep",
#                                  the cluster is stopped when the script exits
#   incetl_cluster_stop CDIR [MODE]
#                                  stop (MODE fast by default); no-op if down
#   incetl_cluster_crash CDIR      kill -9 the postmaster and its children (a
#                                  crash; the next start runs crash recovery)
#   incetl_cluster_psql CDIR [PSQL ARGS...]
#                                  psql -X -v ON_ERROR_STOP=1 on that cluster
#                                  (database "postgres" unless -d is given)
#   incetl_cluster_export CDIR     export PGHOST/PGPORT/PGUSER for that cluster
#   incetl_stop_all_clusters       stop every cluster this script started
#
# Sourcing installs an EXIT trap that stops every cluster started here (and not
# kept).  A script that needs its own exit handling defines a function
# incetl_on_exit; the trap calls it with the exit status after stopping the
# clusters, and exits with whatever status it returns.  Do not replace the trap.
#
# Shell tests (test/sh/*.sh) run as the non-root user, so for them the
# runner/root distinction disappears: incetl_as_runner just runs the command.
#
# Environment knobs:
#   INCETL_PG_BIN     PostgreSQL binaries (default /usr/lib/postgresql/15/bin)
#   INCETL_TEST_PORT  port of the test cluster (default 54329)
#   INCETL_TEST_USER  OS user that runs servers when we are root (default postgres)
#   INCETL_INITDB_OPTS more initdb options for every cluster (default none; the
#                     benchmarks' data-checksums runs set --data-checksums)

# Not a script of its own: no "set -euo pipefail" here, the sourcing script
# owns its shell options.

INCETL_PG_BIN=${INCETL_PG_BIN:-/usr/lib/postgresql/15/bin}
INCETL_PG_CONFIG="$INCETL_PG_BIN/pg_config"
INCETL_TEST_PORT=${INCETL_TEST_PORT:-54329}
INCETL_TEST_USER=${INCETL_TEST_USER:-postgres}

# Everything the build and every suite needs on a fresh Debian 12 machine.
INCETL_DEPS=(
    postgresql-15              # server, client, initdb, pg_ctl
    postgresql-server-dev-15   # PGXS, headers, pg_regress, pg_isolation_regress,
                               # PostgreSQL::Test::* perl modules
    postgresql-15-cron         # pg_cron, preloaded by every test cluster
    postgresql-15-pgtap        # pgTAP, for tests that want it
    libzstd-dev                # the incetl_cow compression layer links -lzstd
    libipc-run-perl            # required by PostgreSQL::Test::Utils
    build-essential            # gcc, make
)

# A make started from "make test" inherits MAKEFLAGS/MAKELEVEL (and a jobserver
# that does not survive runuser); our own make calls stand on their own.
unset MAKEFLAGS MAKELEVEL MFLAGS MAKEOVERRIDES

incetl_log() { printf '==> %s\n' "$*"; }
incetl_die() { printf 'ERROR: %s\n' "$*" >&2; exit 1; }
incetl_is_root() { [ "$(id -u)" -eq 0 ]; }

# The OS user that owns work directories and runs servers: PostgreSQL refuses
# to run as root, so when we are root that is $INCETL_TEST_USER.
incetl_runner_user() {
    if incetl_is_root; then
        printf '%s\n' "$INCETL_TEST_USER"
    else
        id -un
    fi
}

# Run a command as the runner user, keeping the environment (runuser without
# --login preserves it; HOME, USER, LOGNAME and SHELL follow the user).
#
# File descriptors 8 and 9 belong to the calling script (run_tests.sh keeps
# its terminal and its lock there) and are closed for the command: a server
# started here could outlive the script and would then hold the lock, or a
# CI log pipe, open forever.
incetl_as_runner() {
    if incetl_is_root; then
        # The runner may not enter our directory (a clone under /root):
        # PostgreSQL's tools would complain at every start.  Run from / then
        # (callers pass absolute paths).
        if runuser -u "$INCETL_TEST_USER" -- test -x "$PWD" 2>/dev/null; then
            runuser -u "$INCETL_TEST_USER" -- "$@" 8>&- 9<&-
        else
            (cd / && runuser -u "$INCETL_TEST_USER" -- "$@" 8>&- 9<&-)
        fi
    else
        "$@" 8>&- 9<&-
    fi
}

# Run a command as root: installing into the PostgreSQL tree needs it.
incetl_as_root() {
    if incetl_is_root; then
        "$@"
    elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        sudo -n "$@"
    else
        # A message and a failure, not an exit: the caller may be inside a
        # redirection, and decides what a failure means.
        printf 'ERROR: need root for: %s (run as root, or allow passwordless sudo)\n' \
            "$*" >&2
        return 1
    fi
}

# rm -rf for the directories we own, refusing the empty string and "/" (an
# unset variable must never become "rm -rf /").
incetl_rm_dir() {
    case $1 in
        '' | / | /tmp | /tmp/) incetl_die "refusing to remove '$1'" ;;
    esac
    rm -rf -- "$1"
}

# --------------------------------------------------------------------------
# Dependencies
# --------------------------------------------------------------------------

incetl__pkg_installed() {
    [ "$(dpkg-query -W -f='${db:Status-Abbrev}' "$1" 2>/dev/null)" = "ii " ]
}

incetl_install_deps() {
    local pkg missing=()
    for pkg in "${INCETL_DEPS[@]}"; do
        incetl__pkg_installed "$pkg" || missing+=("$pkg")
    done
    if [ ${#missing[@]} -eq 0 ]; then
        return 0
    fi
    if ! incetl_is_root; then
        incetl_die "missing Debian packages: ${missing[*]}
       install them as root:  apt-get install -y ${missing[*]}
       (or run this script as root, which installs them itself)"
    fi

    incetl_log "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    # Installing postgresql-15 would also create (and on a machine with an
    # init system, start) a "main" cluster on port 5432.  Tests use their own
    # throwaway clusters, so turn that off first, as the postgres Docker image
    # does.  Only on a machine that had no PostgreSQL yet: never touch an
    # existing setup.
    if ! incetl__pkg_installed postgresql-common; then
        incetl_log "no PostgreSQL on this machine yet: setting create_main_cluster = false" \
            "in /etc/postgresql-common/createcluster.conf, so installing it starts no cluster of its own"
        apt-get install -y -q --no-install-recommends postgresql-common
        sed -ri 's/^#?\s*create_main_cluster\s*=.*/create_main_cluster = false/' \
            /etc/postgresql-common/createcluster.conf
    fi
    apt-get install -y -q --no-install-recommends "${missing[@]}"
}

# --------------------------------------------------------------------------
# PostgreSQL's source
# --------------------------------------------------------------------------

# Print the path of a PostgreSQL 15 source tree (no trailing slash): the one
# $INCETL_PG_SOURCE names, else one already extracted in DIR, else the newest
# version of Debian's postgresql-15 source package that downloads (a security
# update's source may not be on the mirror), extracted into DIR.  Downloading
# needs root (it adds a deb-src entry).  Messages go to stderr: stdout is the
# path.  Returns non-zero when no source could be had.
incetl_pg_source() {
    local dir=$1 v tarball tree
    if [ -n "${INCETL_PG_SOURCE:-}" ]; then
        [ -f "$INCETL_PG_SOURCE/src/test/regress/parallel_schedule" ] || {
            echo "INCETL_PG_SOURCE=$INCETL_PG_SOURCE is not a PostgreSQL source tree" >&2
            return 1
        }
        printf '%s\n' "${INCETL_PG_SOURCE%/}"
        return 0
    fi
    tree=$(ls -d "$dir"/postgresql-15.*/ 2>/dev/null | head -n 1)
    if [ -n "$tree" ] && [ -f "$tree/src/test/regress/parallel_schedule" ]; then
        printf '%s\n' "${tree%/}"
        return 0
    fi
    incetl_is_root || {
        echo "downloading PostgreSQL's source needs root" >&2
        return 1
    }
    incetl_log "downloading Debian's postgresql-15 source package into $dir" >&2
    sed 's/^Types: deb$/Types: deb-src/' /etc/apt/sources.list.d/debian.sources \
        > /etc/apt/sources.list.d/incetl-deb-src.sources
    apt-get update -qq >&2
    incetl_rm_dir "$dir"
    mkdir -p "$dir"
    for v in $(apt-cache showsrc postgresql-15 | sed -n 's/^Version: //p' | sort -rV); do
        (cd "$dir" && apt-get source -qq --download-only "postgresql-15=$v" >/dev/null 2>&1) && break
        rm -f "$dir"/*
    done
    tarball=$(ls "$dir"/postgresql-15_*.orig.tar.bz2 2>/dev/null | head -n 1)
    [ -n "$tarball" ] || {
        echo "could not download the postgresql-15 source package" >&2
        return 1
    }
    tar -xjf "$tarball" -C "$dir"
    tree=$(ls -d "$dir"/postgresql-15.*/ | head -n 1)
    printf '%s\n' "${tree%/}"
}

# --------------------------------------------------------------------------
# Build
# --------------------------------------------------------------------------

# Copy the source tree SRC to DEST (created fresh, owned by the runner user).
# Untracked files come along -- a test not yet added to git still runs -- but
# .git and build or test output do not.
incetl_copy_tree() {
    local src=$1 dest=$2
    incetl_rm_dir "$dest"
    mkdir -p "$dest"
    tar -C "$src" -cf - \
        --exclude=./.git --exclude='*.o' --exclude='*.so' --exclude='*.bc' \
        --exclude=.deps --exclude=./results --exclude=./regression.diffs \
        --exclude=./regression.out --exclude=./log --exclude=./tmp_check \
        --exclude=./test/tmp_check --exclude=./test/output_iso \
        . | tar -C "$dest" -xf -
    if incetl_is_root; then
        chown -R "$INCETL_TEST_USER:" "$dest"
    fi
}

# Build DIR as the runner and install it into the server as root.  Output goes
# to DIR/build.log; returns non-zero (and prints the errors) on failure.
# Run CMD with its output in LOG, printing a dot every two seconds while it
# runs (a build, a long test): quiet is not the same as stuck.
incetl_with_dots() {
    local log=$1 pid rc
    shift
    "$@" >"$log" 2>&1 &
    pid=$!
    while kill -0 "$pid" 2>/dev/null; do
        sleep 2
        kill -0 "$pid" 2>/dev/null && printf '.'
    done
    rc=0
    wait "$pid" || rc=$?
    printf '\n'
    return "$rc"
}

incetl_build() {
    local dir=$1 log=$1/build.log
    incetl_log "building in $dir (log: $log; about 20 s)"
    if ! incetl_with_dots "$log" incetl_as_runner make -C "$dir" -j2 \
            PG_CONFIG="$INCETL_PG_CONFIG"; then
        echo "---- build failed; compiler errors and warnings:"
        grep -E -A3 ': (fatal )?(error|warning):' "$log" | head -100 || true
        echo "---- last lines of $log:"
        tail -n 20 "$log"
        return 1
    fi
    if ! incetl_as_root make -C "$dir" install PG_CONFIG="$INCETL_PG_CONFIG" \
            >>"$log" 2>&1; then
        echo "---- make install failed:"
        tail -n 30 "$log"
        return 1
    fi
}

# --------------------------------------------------------------------------
# Clusters
# --------------------------------------------------------------------------

INCETL_STARTED_CLUSTERS=()

# The settings every incetl test server runs with, whoever creates it (these
# clusters, and PostgreSQL::Test::Cluster nodes through TEMP_CONFIG): incetl
# and pg_cron preloaded, pg_cron on database $1, room for pg_cron's workers
# and for two-phase commit tests.
incetl_server_conf() {
    echo "shared_preload_libraries = 'incetl,pg_cron'"
    echo "cron.database_name = '$1'"
    echo "cron.use_background_workers = on"
    echo "max_worker_processes = 32"
    echo "max_prepared_transactions = 10"
}

# initdb CDIR/data and configure it the way every incetl test server runs:
# incetl and pg_cron preloaded, pg_cron pointed at CRON_DB (default
# "postgres"), unix socket only.  Extra CONF_LINEs are appended last, so they
# override.  Any old cluster in CDIR is stopped and removed first.
incetl_cluster_init() {
    local cdir=$1 port=$2 cron_db=${3:-postgres}
    shift 2
    if [ $# -gt 0 ]; then shift; fi
    local runner
    runner=$(incetl_runner_user)

    incetl_cluster_stop "$cdir" immediate
    incetl_rm_dir "$cdir"
    mkdir -p "$cdir/sock"
    if incetl_is_root; then
        chown -R "$runner:" "$cdir"
    fi
    chmod 700 "$cdir/sock"
    echo "$port" >"$cdir/port"

    # C collation and UTF8: expected outputs do not depend on the machine.
    # shellcheck disable=SC2086  # INCETL_INITDB_OPTS: words on purpose
    incetl_as_runner "$INCETL_PG_BIN/initdb" -D "$cdir/data" -A trust --no-sync \
        --no-locale -E UTF8 -U "$runner" ${INCETL_INITDB_OPTS:-} >"$cdir/initdb.log" 2>&1 \
        || { cat "$cdir/initdb.log"; return 1; }

    local line
    {
        echo ""
        echo "# ---- incetl test cluster (test/lib.sh) ----"
        echo "listen_addresses = ''"
        echo "port = $port"
        echo "unix_socket_directories = '$cdir/sock'"
        incetl_server_conf "$cron_db"
        echo "fsync = off"
        echo "logging_collector = off"
        echo "log_min_messages = warning"
        echo "log_line_prefix = '%m [%p] %q%a '"
        for line in "$@"; do
            echo "$line"
        done
    } | incetl_as_runner tee -a "$cdir/data/postgresql.conf" >/dev/null
}

incetl_cluster_port() { cat "$1/port"; }

# True when a postmaster runs on CDIR's data directory.
incetl_cluster_running() {
    [ -f "$1/data/postmaster.pid" ] &&
        incetl_as_runner "$INCETL_PG_BIN/pg_ctl" -D "$1/data" status >/dev/null 2>&1
}

incetl_cluster_start() {
    local cdir=$1 keep=${2:-} port _i
    port=$(incetl_cluster_port "$cdir")
    if ! incetl_as_runner "$INCETL_PG_BIN/pg_ctl" -D "$cdir/data" \
            -l "$cdir/server.log" -w -t 120 start >/dev/null; then
        echo "---- server did not start; end of $cdir/server.log:"
        tail -n 40 "$cdir/server.log" 2>/dev/null || true
        return 1
    fi
    if [ "$keep" != keep ]; then
        INCETL_STARTED_CLUSTERS+=("$cdir")
    fi
    for _i in $(seq 1 60); do
        if "$INCETL_PG_BIN/pg_isready" -q -h "$cdir/sock" -p "$port"; then
            return 0
        fi
        sleep 1
    done
    echo "---- server on $cdir is not accepting connections; end of server.log:"
    tail -n 40 "$cdir/server.log"
    return 1
}

incetl_cluster_stop() {
    local cdir=$1 mode=${2:-fast}
    incetl_cluster_running "$cdir" || return 0
    incetl_as_runner "$INCETL_PG_BIN/pg_ctl" -D "$cdir/data" -m "$mode" -w -t 60 \
        stop >/dev/null 2>&1 ||
        incetl_as_runner "$INCETL_PG_BIN/pg_ctl" -D "$cdir/data" -m immediate -w \
            stop >/dev/null 2>&1 || true
}

# A crash, not a shutdown: SIGKILL the postmaster and every process of its
# process group (backends, background workers), leaving postmaster.pid behind
# as a real crash would.  The next incetl_cluster_start runs crash recovery.
incetl_cluster_crash() {
    local cdir=$1 pid
    pid=$(head -n 1 "$cdir/data/postmaster.pid")
    # pg_ctl starts the postmaster in a session of its own, so its process
    # group is exactly the server.  (Root may signal the runner's processes;
    # the runner may signal its own: the builtin kill is enough either way.)
    kill -9 -- "-$pid" 2>/dev/null || kill -9 "$pid"
    # Wait until every process of the group is gone, or the next start finds
    # the old shared memory still attached.
    local _i
    for _i in $(seq 1 100); do
        incetl__pgrp_alive "$pid" || break
        sleep 0.1
    done
    if incetl__pgrp_alive "$pid"; then
        echo "incetl_cluster_crash: processes of server $pid survived SIGKILL" >&2
        return 1
    fi
    # The dead postmaster may linger as a zombie when nothing reaps orphans
    # (a container's PID 1); its pid would still look alive to the next
    # postmaster, which would then refuse to start.  After a real crash no
    # such process exists, and PostgreSQL ignores the stale postmaster.pid:
    # give the zombie two seconds, then remove the file ourselves.
    for _i in $(seq 1 20); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    rm -f "$cdir/data/postmaster.pid"
}

# True while a live (non-zombie) process belongs to process group $1.  Reads
# /proc directly: procps (pgrep, ps) is not in a minimal image.
incetl__pgrp_alive() {
    local pgrp=$1 f stat
    for f in /proc/[0-9]*/stat; do
        stat=$(cat "$f" 2>/dev/null) || continue
        stat=${stat##*) }             # skip "pid (comm) ": comm may hold spaces
        # shellcheck disable=SC2086   # splitting into fields is the point
        set -- $stat                  # state ppid pgrp ...
        if [ "$3" = "$pgrp" ] && [ "$1" != Z ]; then
            return 0
        fi
    done
    return 1
}

incetl_cluster_psql() {
    local cdir=$1
    shift
    incetl_as_runner "$INCETL_PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 \
        -h "$cdir/sock" -p "$(incetl_cluster_port "$cdir")" \
        -U "$(incetl_runner_user)" -d postgres "$@"
}

incetl_cluster_export() {
    export PGHOST="$1/sock"
    PGPORT=$(incetl_cluster_port "$1")
    PGUSER=$(incetl_runner_user)
    export PGPORT PGUSER
}

incetl_stop_all_clusters() {
    local cdir
    for cdir in "${INCETL_STARTED_CLUSTERS[@]}"; do
        incetl_cluster_stop "$cdir"
    done
    INCETL_STARTED_CLUSTERS=()
}

# The EXIT trap: stop our clusters, then let the script have the last word.
incetl__exit_trap() {
    local rc=$?
    trap - EXIT
    set +e
    incetl_stop_all_clusters
    if declare -F incetl_on_exit >/dev/null; then
        incetl_on_exit "$rc"
        rc=$?
    fi
    exit "$rc"
}
trap incetl__exit_trap EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
