#!/usr/bin/env bash
# test/sh/upgrade_from_0_1.sh -- ALTER EXTENSION incetl UPDATE from 0.1 to
# the current version (0.1 -> 0.2 -> 0.3 -> 0.4 -> 0.5 in one statement) keeps
# existing pipelines, watermarks, run logs, schedules and incetl_cow tables
# working.
#
# The 0.1 state is made by the 0.1 release itself: the runner passes the
# release's source (INCETL_PREV_RELEASE_TAR, a git archive of the commit
# that was 0.1); it is built into a private copy of PostgreSQL's
# installation under $INCETL_TMP and a cluster runs on it.  Then the same
# data directory is started on the current build, as a user upgrading
# the package would, and:
#   - before the update, pipeline functions refuse with 55000 and say to
#     run ALTER EXTENSION incetl UPDATE; incetl_cow tables read and write;
#   - the update refuses (42704, naming the pipeline) while a pipeline's
#     owner names a role that no longer exists, and succeeds once it does;
#   - afterwards: owners are role OIDs (regrole) of the same roles, the run
#     log and the watermarks are unchanged, the next runs continue from the
#     watermarks (only new rows), an incetl_cow source pipeline continues
#     from its commit id, the pg_cron job still shows in pipeline_status,
#     incetl_cow tables keep their rows, timeline and time travel, and the
#     new surface works (alter_pipeline(owner => ...), renames followed);
#   - the updated catalogs' definitions equal a fresh CREATE EXTENSION's
#     (upgrade.bash, upgrade_expect_same_catalog).
#
# Without the git history (a tarball of the tree) the release cannot be
# rebuilt: the test then makes the 0.1 state by writing the rows 0.1's
# functions write, with the 0.1 SQL script installed by the current
# library, and says so.

source "$(dirname "${BASH_SOURCE[0]}")/helpers.bash"
source "$(dirname "${BASH_SOURCE[0]}")/upgrade.bash"

PORT=$((INCETL_TEST_PORT + 7))

# ---------------------------------------------------------------------
# 1. The 0.1 release, built into a private copy of PostgreSQL
# ---------------------------------------------------------------------
upgrade_install_release 0.1 "${INCETL_PREV_RELEASE_TAR:-}"
if [ "$MODE" = simulated ]; then
    echo "NOTE: no INCETL_PREV_RELEASE_TAR (the tree has no git history): the 0.1 state"
    echo "      is written as 0.1 writes it, with the 0.1 script and the current library"
fi

upgrade_start_old_cluster "$PORT" 0.1
qo "CREATE TABLE s.orders (id int PRIMARY KEY, amount int NOT NULL, updated_at timestamptz NOT NULL);
    INSERT INTO s.orders SELECT g, g, now() - interval '1 hour' FROM generate_series(1, 100) g;
    CREATE TABLE s.heap_dst (id int PRIMARY KEY, amount int NOT NULL, updated_at timestamptz NOT NULL);
    CREATE TABLE s.ct (id int, v text, updated_at timestamptz) USING incetl_cow;
    SELECT incetl.set_table_options('s.ct', record_key => 'id', precombine => 'updated_at');
    INSERT INTO s.ct SELECT g, 'v' || g, now() FROM generate_series(1, 50) g;
    INSERT INTO s.ct SELECT g, 'w' || g, now() FROM generate_series(41, 60) g;"

if [ "$MODE" = release ]; then
    qo "SELECT incetl.create_pipeline('p_heap', 's.orders', 'updated_at', 's.heap_dst', 'id', precombine => 'updated_at');
        SELECT incetl.create_pipeline('p_cow', 's.orders', 'updated_at', 's.cow_dst', 'id', precombine => 'updated_at',
                                      schedule => '0 3 1 1 *');
        SELECT incetl.create_pipeline('p_chain', 's.ct', 'updated_at', 's.chain_dst', 'id', precombine => 'updated_at');
        SELECT incetl_run('p_heap'); SELECT incetl_run('p_cow'); SELECT incetl_run('p_chain');" >/dev/null
    # a second round, and a failing run, for the log
    qo "UPDATE s.orders SET amount = amount + 1000, updated_at = now() WHERE id <= 10" >/dev/null
    qo "SELECT incetl_run('p_heap'); SELECT incetl_run('p_cow')" >/dev/null
    qo "SELECT incetl.pause_pipeline('p_chain'); SELECT incetl_run('p_chain')" >/dev/null
    qo "SELECT incetl.resume_pipeline('p_chain')" >/dev/null
else
    # what 0.1's create_pipeline, incetl_run and schedule leave behind
    q "$DB" "SET search_path = s, public;
        CREATE TABLE s.cow_dst (id int, amount int, updated_at timestamptz) USING incetl_cow;
        SELECT incetl.set_table_options('s.cow_dst', record_key => 'id', precombine => 'updated_at');
        CREATE TABLE s.chain_dst (id int, v text, updated_at timestamptz) USING incetl_cow;
        SELECT incetl.set_table_options('s.chain_dst', record_key => 'id', precombine => 'updated_at');
        ALTER TABLE s.cow_dst OWNER TO $OWNER; ALTER TABLE s.chain_dst OWNER TO $OWNER;
        INSERT INTO incetl.pipelines (name, source, watermark_column, watermark_type, target,
            record_key, precombine, owner, search_path, schedule) VALUES
          ('p_heap', '\"s\".\"orders\"', 'updated_at', 'timestamptz', '\"s\".\"heap_dst\"', '{id}', 'updated_at', '$OWNER', '\"\$user\", public', NULL),
          ('p_cow', '\"s\".\"orders\"', 'updated_at', 'timestamptz', '\"s\".\"cow_dst\"', '{id}', 'updated_at', '$OWNER', '\"\$user\", public', '0 3 1 1 *'),
          ('p_chain', '\"s\".\"ct\"', 'updated_at', 'timestamptz', '\"s\".\"chain_dst\"', '{id}', 'updated_at', '$OWNER', '\"\$user\", public', NULL);
        INSERT INTO s.heap_dst SELECT * FROM s.orders;
        INSERT INTO s.cow_dst SELECT * FROM s.orders;
        INSERT INTO s.chain_dst SELECT * FROM s.ct;
        INSERT INTO incetl.watermarks (pipeline_name, watermark, watermark_commit, run_id) VALUES
          ('p_heap', (SELECT to_char(max(updated_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US+00') FROM s.orders), NULL, 1),
          ('p_cow', (SELECT to_char(max(updated_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US+00') FROM s.orders), NULL, 2),
          ('p_chain', NULL, (SELECT incetl.latest_commit('s.ct')), 3);
        INSERT INTO incetl.run_log (pipeline_name, started_at, finished_at, status, records_read,
            records_inserted, records_processed, run_by)
        SELECT p, now(), now(), st, 100, 100, 100, 'postgres'
        FROM unnest(ARRAY['p_heap', 'p_cow', 'p_chain', 'p_heap', 'p_cow', 'p_chain'],
                    ARRAY['SUCCESS', 'SUCCESS', 'SUCCESS', 'SUCCESS', 'SUCCESS', 'SKIPPED']) AS u(p, st);"
    qo "SELECT cron.schedule('incetl:p_cow', '0 3 1 1 *', 'SELECT incetl_run(''p_cow'')')" >/dev/null
fi

LOG_BEFORE=$(q "$DB" "SELECT count(*) || ':' || max(run_id) FROM incetl.run_log")
WM_BEFORE=$(q "$DB" "SELECT string_agg(pipeline_name || '=' || coalesce(watermark, '') || '/' || coalesce(watermark_commit::text, ''), ' ' ORDER BY pipeline_name) FROM incetl.watermarks")
CT_BEFORE=$(q "$DB" "SELECT count(*) || ':' || sum(hashtext(id || v)) FROM s.ct")
COMMITS_BEFORE=$(q "$DB" "SELECT string_agg(commit_id || operation || rows_inserted || '/' || rows_updated, ' ' ORDER BY commit_id) FROM incetl.commits('s.ct')")
expect "the 0.1 state has run logs" t "$(q "$DB" "SELECT count(*) >= 6 FROM incetl.run_log")"
expect "the 0.1 state has three watermarks" 3 "$(q "$DB" "SELECT count(*) FROM incetl.watermarks")"
expect "the 0.1 owner column is a name" name "$(q "$DB" "SELECT atttypid::regtype FROM pg_attribute WHERE attrelid = 'incetl.pipelines'::regclass AND attname = 'owner'")"
expect "the 0.1 cow table holds 60 keys" 60 "$(q "$DB" "SELECT count(*) FROM s.ct")"

# ---------------------------------------------------------------------
# 2. The same data directory on the current build, before the update
# ---------------------------------------------------------------------
incetl_cluster_stop "$CDIR"
INCETL_PG_BIN=$NEW_BIN incetl_cluster_start "$CDIR"
expect "the catalogs are still 0.1" 0.1 "$(q "$DB" "SELECT extversion FROM pg_extension WHERE extname = 'incetl'")"
expect "0.2 is available" t "$(q "$DB" "SELECT count(*) = 1 FROM pg_available_extension_versions WHERE name = 'incetl' AND version = '0.2'")"
out=$(psql -X -At -q -U "$OWNER" -d "$DB" -c "SELECT incetl_run('p_heap')" 2>&1 || true)
expect_match "a run before the update refuses and says what to do" \
    "catalogs in this database are version 0.1.*HINT: +Run ALTER EXTENSION incetl UPDATE" "$(echo $out)"
expect "incetl_cow tables read before the update" "$CT_BEFORE" "$(q "$DB" "SELECT count(*) || ':' || sum(hashtext(id || v)) FROM s.ct")"

# the update refuses while an owner no longer exists
q "$DB" "UPDATE incetl.pipelines SET owner = 'upg_gone' WHERE name = 'p_chain'"
out=$(psql -X -At -q -d "$DB" -v VERBOSITY=verbose -c "ALTER EXTENSION incetl UPDATE" 2>&1 || true)
expect_match "the update names the orphaned pipeline" \
    "42704.*pipelines owned by roles that no longer exist: p_chain \\(owner upg_gone\\)" "$(echo $out)"
expect "nothing changed" 0.1 "$(q "$DB" "SELECT extversion FROM pg_extension WHERE extname = 'incetl'")"
q "$DB" "UPDATE incetl.pipelines SET owner = '$OWNER' WHERE name = 'p_chain'"

# ---------------------------------------------------------------------
# 3. ALTER EXTENSION incetl UPDATE
# ---------------------------------------------------------------------
q "$DB" "ALTER EXTENSION incetl UPDATE"
expect "the catalogs are the current version (0.1 -> ... -> $CURRENT_VERSION)" "$CURRENT_VERSION" "$(q "$DB" "SELECT extversion FROM pg_extension WHERE extname = 'incetl'")"
expect "owners are roles" "regrole|$OWNER|3" \
    "$(q "$DB" "SELECT DISTINCT pg_typeof(owner), owner, count(*) OVER () FROM incetl.pipelines")"
expect "the run log is kept" "$LOG_BEFORE" "$(q "$DB" "SELECT count(*) || ':' || max(run_id) FROM incetl.run_log")"
expect "the watermarks are kept" "$WM_BEFORE" \
    "$(q "$DB" "SELECT string_agg(pipeline_name || '=' || coalesce(watermark, '') || '/' || coalesce(watermark_commit::text, ''), ' ' ORDER BY pipeline_name) FROM incetl.watermarks")"
expect "the cow table's rows are kept" "$CT_BEFORE" "$(q "$DB" "SELECT count(*) || ':' || sum(hashtext(id || v)) FROM s.ct")"
expect "its timeline is kept" "$COMMITS_BEFORE" \
    "$(q "$DB" "SELECT string_agg(commit_id || operation || rows_inserted || '/' || rows_updated, ' ' ORDER BY commit_id) FROM incetl.commits('s.ct')")"
expect "time travel to its first commit" 50 \
    "$(q "$DB" "SELECT count(*) FROM incetl.as_of(NULL::s.ct, (SELECT min(commit_id) FROM incetl.commits('s.ct')))")"
expect "pipeline_status shows the schedule" "p_cow|t" \
    "$(q "$DB" "SELECT pipeline_name, next_run_at IS NOT NULL FROM incetl.pipeline_status WHERE schedule IS NOT NULL")"

# the next runs continue where 0.1 stopped
qo "UPDATE s.orders SET amount = -id, updated_at = now() WHERE id IN (50, 51)" >/dev/null
qo "INSERT INTO s.orders VALUES (101, 101, now())" >/dev/null
expect "p_heap takes only the new rows" 3 "$(qo "SELECT incetl_run('p_heap')")"
expect "p_cow takes only the new rows" 3 "$(qo "SELECT incetl_run('p_cow')")"
expect "the heap target equals the source" 0 \
    "$(q "$DB" "SELECT count(*) FROM (SELECT * FROM s.orders EXCEPT SELECT * FROM s.heap_dst) AS d")"
expect "the cow target equals the source" 0 \
    "$(q "$DB" "SELECT count(*) FROM (SELECT * FROM s.orders EXCEPT SELECT * FROM s.cow_dst) AS d")"
qo "INSERT INTO s.ct VALUES (5, 'after the update', now())" >/dev/null
expect "p_chain continues from its commit id" 1 "$(qo "SELECT incetl_run('p_chain')")"
expect "the chained target has the new row" "after the update" "$(q "$DB" "SELECT v FROM s.chain_dst WHERE id = 5")"
expect "the cow table upserts after the update" "$(echo "$COMMITS_BEFORE" | wc -w | awk '{print $1 + 1}')" \
    "$(q "$DB" "SELECT count(*) FROM incetl.commits('s.ct')")"

# the 0.2 surface
q "$DB" "CREATE ROLE upg_heir LOGIN; GRANT $OWNER TO upg_heir"
q "$DB" "SELECT incetl.alter_pipeline('p_heap', owner => 'upg_heir')"
expect "alter_pipeline(owner => ...)" upg_heir "$(q "$DB" "SELECT owner FROM incetl.pipelines WHERE name = 'p_heap'")"
q "$DB" "ALTER ROLE upg_heir RENAME TO upg_heir2"
expect "the owner follows a rename" upg_heir2 "$(q "$DB" "SELECT owner FROM incetl.pipelines WHERE name = 'p_heap'")"
q "$DB" "SELECT incetl_run('p_heap')" >/dev/null
expect "a run logs after the update" "p_heap|NO_DATA|upg_heir2" \
    "$(q "$DB" "SELECT l.pipeline_name, l.status, p.owner FROM incetl.run_log AS l JOIN incetl.pipelines AS p ON p.name = l.pipeline_name ORDER BY l.run_id DESC LIMIT 1")"

# the same catalogs as a fresh install of the current version
createdb fresh
q fresh "CREATE EXTENSION incetl"
upgrade_expect_same_catalog "the catalogs updated from 0.1 equal a fresh CREATE EXTENSION incetl" fresh "$DB"

echo "upgrade from 0.1 ($MODE) ok"
