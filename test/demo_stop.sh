#!/usr/bin/env bash
# test/demo_stop.sh -- stop the cluster `make demo` left running (`make demo-stop`)
#
# Stops the server and removes its directory.  Nothing happens when no demo
# cluster is running.

set -euo pipefail

SRC_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=test/lib.sh
source "$SRC_DIR/test/lib.sh"

RUNNER=$(incetl_runner_user)
DEMO_DIR=${INCETL_DEMO_DIR:-/tmp/incetl-demo-$RUNNER}
CLUSTER=$DEMO_DIR/cluster

if [ ! -d "$CLUSTER/data" ]; then
    echo "no demo cluster in $CLUSTER"
    exit 0
fi
if incetl_cluster_running "$CLUSTER"; then
    incetl_log "stopping the demo cluster in $CLUSTER"
    incetl_cluster_stop "$CLUSTER"
fi
incetl_rm_dir "$DEMO_DIR"
echo "demo cluster stopped and removed"
