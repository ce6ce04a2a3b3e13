#!/usr/bin/env bash
# test/sh/upgrade_from_0_4.sh -- ALTER EXTENSION incetl UPDATE from 0.4 to
# the current version keeps every pipeline, watermark, run log, schedule,
# savepoint and incetl_cow table's history, and adds incetl.file_groups().
#
# The 0.4 state is made by the 0.4 release itself (INCETL_PREV_RELEASE_0_4_TAR,
# a git archive of the commit that was 0.4, built into a private copy of
# PostgreSQL's installation, see upgrade.bash): a heap source with a
# timestamptz watermark into a heap target, a bigint watermark into an
# incetl_cow target, an incetl_cow source read through its change feed, a
# pg_cron schedule, runs (one skipped while paused); an incetl_cow table
# with a history and a savepoint; one with blocks of text over 8 kB read
# through a btree; one whose last file group a skewed upsert split (0.4
# writes the unchanged rows beside a changed key range as a group of
# their own).  Then the same data directory is started on the current
# build, as a user upgrading the package would, and:
#   - before the update, pipeline functions refuse with 55000 and say to
#     run ALTER EXTENSION incetl UPDATE; incetl_cow tables, their history
#     and their lookups read; incetl.file_groups() does not exist;
#   - afterwards: extversion the current one; every row of every catalog
#     is kept; the next runs take only the new rows; commits() and as_of()
#     of every old commit return what they returned on 0.4;
#     incetl.file_groups() exists, a member of the extension, and lists the
#     groups 0.4 wrote (the split one among them) with their rows and key
#     ranges, summing to incetl.table_stats();
#   - the updated database's catalog definitions equal those of a database
#     where incetl was created fresh.
#
# Without the git history (a tarball of the tree) the release cannot be
# rebuilt: the test then creates the extension at version 0.4 with the
# current library (extversion shown as the current version while it
# writes: 0.4's catalogs and the current ones are the same tables), and
# says so.

source "$(dirname "${BASH_SOURCE[0]}")/helpers.bash"
source "$(dirname "${BASH_SOURCE[0]}")/upgrade.bash"

PORT=$((INCETL_TEST_PORT + 10))

catalog_rows() {
    local t
    for t in incetl.pipelines incetl.watermarks incetl.run_log incetl.cow_options \
             incetl.cow_file_group incetl.cow_commit incetl.cow_savepoint; do
        printf '%s %s\n' "$t" "$(upgrade_rows_of "$t")"
    done
}

# ---------------------------------------------------------------------
# 1. The 0.4 state, made by the 0.4 release
# ---------------------------------------------------------------------
upgrade_install_release 0.4 "${INCETL_PREV_RELEASE_0_4_TAR:-}"
upgrade_start_old_cluster "$PORT" 0.4
if [ "$MODE" = simulated ]; then
    echo "NOTE: no INCETL_PREV_RELEASE_0_4_TAR (the tree has no git history): the 0.4"
    echo "      state is written by the current library into the 0.4 catalogs"
    q "$DB" "UPDATE pg_extension SET extversion = '$CURRENT_VERSION' WHERE extname = 'incetl'"
fi
upgrade_make_tables
upgrade_make_big
# a history of five commits, a TRUNCATE among them, and a savepoint
upgrade_make_history
# file groups of 1000 rows; the newest 400 keys upserted: the last group is
# written as 2001..2600 (unchanged) and 2601..3000
qo "CREATE TABLE s.split (id bigint, v int) USING incetl_cow;
    SELECT incetl.set_table_options('s.split', record_key => 'id', file_group_rows => 1000);
    INSERT INTO s.split SELECT g, 0 FROM generate_series(1, 3000) g;" >/dev/null
qo "INSERT INTO s.split SELECT g, 1 FROM generate_series(2601, 3000) g" >/dev/null
expect "the 0.4 state: s.split's groups (table_stats)" "4 3000" \
    "$(qo "SELECT file_groups || ' ' || rows FROM incetl.table_stats('s.split')")"

upgrade_make_pipelines 0.4
if [ "$MODE" = simulated ]; then
    q "$DB" "UPDATE pg_extension SET extversion = '0.4' WHERE extname = 'incetl'"
fi

CATALOG_BEFORE=$(catalog_rows)
TIMELINE_BEFORE=$(upgrade_timeline)
CT_BEFORE=$(upgrade_rows_of s.ct)
BIG_BEFORE=$(upgrade_rows_of s.big)
SPLIT_BEFORE=$(upgrade_rows_of s.split)
LOG_MAX=$(q "$DB" "SELECT max(run_id) FROM incetl.run_log")
expect "the 0.4 state: as_of() of s.hist's commits" "30 40 35 0 11" \
    "$(q "$DB" "SELECT string_agg((SELECT count(*) FROM incetl.as_of(NULL::s.hist, commit_id))::text, ' ' ORDER BY commit_id) FROM incetl.commits('s.hist')")"
expect "the 0.4 state: lookups in s.big return the scan's rows" 0 "$(upgrade_big_lookups)"

# ---------------------------------------------------------------------
# 2. The same data directory on the current build, before the update
# ---------------------------------------------------------------------
incetl_cluster_stop "$CDIR"
INCETL_PG_BIN=$NEW_BIN incetl_cluster_start "$CDIR"
expect "the catalogs are still 0.4" 0.4 "$(upgrade_version)"
expect "$CURRENT_VERSION is available" t \
    "$(q "$DB" "SELECT count(*) = 1 FROM pg_available_extension_versions WHERE name = 'incetl' AND version = '$CURRENT_VERSION'")"
upgrade_expect_refused 0.4
expect "incetl_cow tables read before the update" "$CT_BEFORE $BIG_BEFORE $SPLIT_BEFORE" \
    "$(upgrade_rows_of s.ct) $(upgrade_rows_of s.big) $(upgrade_rows_of s.split)"
expect "their history reads before the update" "$TIMELINE_BEFORE" "$(upgrade_timeline)"
expect "lookups in s.big read before the update" 0 "$(upgrade_big_lookups)"
expect "incetl.file_groups() does not exist yet" "" \
    "$(q "$DB" "SELECT to_regprocedure('incetl.file_groups(regclass)')")"

# ---------------------------------------------------------------------
# 3. ALTER EXTENSION incetl UPDATE
# ---------------------------------------------------------------------
q "$DB" "ALTER EXTENSION incetl UPDATE"
expect "the catalogs are the current version" "$CURRENT_VERSION" "$(upgrade_version)"
expect "every catalog row is kept (pipelines, watermarks, run log, cow options, file groups, commits, savepoints)" \
    "$CATALOG_BEFORE" "$(catalog_rows)"
expect "commits() and as_of() of every old commit are unchanged" "$TIMELINE_BEFORE" "$(upgrade_timeline)"
expect "the savepoint is kept" "$HIST_2|before the delete" \
    "$(qo "SELECT commit_id || '|' || comment FROM incetl.savepoints('s.hist')")"
expect "incetl.file_groups() exists, a member of the extension" "incetl.file_groups(regclass)" \
    "$(q "$DB" "SELECT p.oid::regprocedure FROM pg_proc AS p JOIN pg_depend AS d
                ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
               AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'incetl')
                WHERE p.proname = 'file_groups'")"
expect "it lists the file groups 0.4 wrote, the split one among them" \
    "1000:1:1000 1000:1001:2000 600:2001:2600 400:2601:3000" \
    "$(qo "SELECT string_agg(rows || ':' || key_min || ':' || key_max, ' ' ORDER BY key_min::bigint) FROM incetl.file_groups('s.split')")"
expect "which sum to table_stats() for every incetl_cow table" "true true true true true" \
    "$(qo "SELECT string_agg((SELECT s.file_groups = count(*) AND s.rows = sum(g.rows)
                                      AND s.compressed_bytes = sum(g.stored_bytes)
                               FROM incetl.table_stats(t) s, incetl.file_groups(t) g
                               GROUP BY s.file_groups, s.rows, s.compressed_bytes)::text, ' ' ORDER BY t::text)
           FROM unnest(ARRAY['s.big', 's.ct', 's.events_dst', 's.hist', 's.split']::regclass[]) t")"
expect "pipeline_status shows the schedule" "p_ts|t" \
    "$(q "$DB" "SELECT pipeline_name, next_run_at IS NOT NULL FROM incetl.pipeline_status WHERE schedule IS NOT NULL")"
expect "the pg_cron job is kept" "0 3 1 1 *" "$(q "$DB" "SELECT schedule FROM cron.job WHERE jobname = 'incetl:p_ts'")"

# the next runs continue where 0.4 stopped: only the new rows
upgrade_expect_runs_continue 0.4
# the split range upserted again: only its group is rewritten
qo "INSERT INTO s.split SELECT g, 2 FROM generate_series(2601, 3000) g" >/dev/null
expect "s.split's split range upserted on the current build: one group written" "1|400" \
    "$(qo "SELECT file_groups_written || '|' || rows_updated FROM incetl.commits('s.split') ORDER BY commit_id DESC LIMIT 1")"
expect "lookups in s.big from a new session return the scan's rows" 0 "$(upgrade_big_lookups)"
expect "s.big is unchanged" "$BIG_BEFORE" "$(upgrade_rows_of s.big)"

# the same catalogs as a fresh install
createdb fresh
q fresh "CREATE EXTENSION incetl"
upgrade_expect_same_catalog "the updated catalogs equal a fresh CREATE EXTENSION incetl ($CURRENT_VERSION)" fresh "$DB"

echo "upgrade from 0.4 ($MODE) ok"
