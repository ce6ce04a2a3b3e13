#!/usr/bin/env bash
# Concurrent upserts (with delete markers), UPDATEs, index and seq reads and
# VACUUM on one incetl_cow table, then consistency checks.
#   PGHOST=... PGPORT=... PGDATABASE=... test/bench/cow_stress.sh [seconds]
# Expect: only serialization failures (40001) among the errors, unique keys,
# incetl.verify() empty, index scan count = seq scan count.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
secs=${1:-25}
psql -X -q -v ON_ERROR_STOP=1 -f "$here/cow_stress_setup.sql"
pgbench -n -T "$secs" -c 4 -j 2 \
    -f "$here/cow_stress_upsert.sql@5" -f "$here/cow_stress_update.sql@2" \
    -f "$here/cow_stress_read.sql@3" &
pgbench -n -T "$secs" -c 1 -f "$here/cow_stress_vac.sql"
wait
psql -X -v ON_ERROR_STOP=1 <<'SQL'
SELECT count(*) = count(DISTINCT id) AS keys_unique FROM stress;
SELECT count(*) AS verify_problems FROM incetl.verify('stress');
SET enable_seqscan = off;
SELECT (SELECT count(*) FROM stress WHERE v >= 0) AS by_index;
RESET enable_seqscan;
SELECT count(*) AS by_seqscan FROM stress WHERE v >= 0;
SELECT * FROM incetl.table_stats('stress');
DROP TABLE stress;
SQL
