#!/usr/bin/env bash
# test/sh/upgrade_from_0_2.sh -- ALTER EXTENSION incetl UPDATE from 0.2 to
# 0.3 and on to the current version (one statement) keeps every pipeline,
# watermark, run log, schedule and incetl_cow table's history, and gives the
# catalogs a fresh install of the current version has.
#
# The 0.2 state is made by the 0.2 release itself (INCETL_PREV_RELEASE_0_2_TAR,
# a git archive of the commit that was 0.2, built into a private copy of
# PostgreSQL's installation under $INCETL_TMP, see upgrade.bash): pipelines
# of every kind -- heap sources with a timestamptz and a bigint watermark,
# an incetl_cow source with a watermark column, heap and incetl_cow
# targets, a pg_cron schedule -- run twice, one run skipped while paused,
# and an incetl_cow table with a history (inserts, an upsert, a DELETE, an
# UPDATE, a TRUNCATE, inserts after it).  Then the same data directory is
# started on the current build, as a user upgrading the package would, and:
#   - before the update, pipeline functions refuse with 55000 and say to
#     run ALTER EXTENSION incetl UPDATE; incetl_cow tables and their
#     history read;
#   - afterwards: extversion the current one; every row of every catalog is kept
#     (pipelines, watermarks, run log, incetl_cow options, file groups and
#     commits); the next runs continue where 0.2 stopped (only the new
#     rows); commits() and as_of() of every old commit return what they
#     returned on 0.2; the new functions and incetl.cow_savepoint exist as
#     members of the extension; watermark_column/watermark_type are
#     nullable;
#   - an incetl_cow table 0.2 wrote with large text blocks (each one zstd
#     frame: 0.2 wrote no frame index) reads the same through its btree,
#     one lookup at a time, as by a sequential scan, before and after rows
#     of it are upserted (new file groups, written framed);
#   - the updated database's catalog definitions (functions, columns,
#     constraints, indexes, comments, privileges, configuration tables)
#     equal those of a database where incetl was created fresh: an upgrade
#     script that forgets or alters anything fails here.
#
# The 0.3 functions (change feed, savepoints and restore, a pipeline moved
# to the change feed) then run on the history 0.2 wrote.
#
# Without the git history (a tarball of the tree) the release cannot be
# rebuilt: the test then creates the extension at version 0.2 with the
# current library and lets the current library write the pipelines into
# those catalogs (extversion shown as the current version while it writes:
# the 0.2 and current rows have the same shape), and says so.

source "$(dirname "${BASH_SOURCE[0]}")/helpers.bash"
source "$(dirname "${BASH_SOURCE[0]}")/upgrade.bash"

PORT=$((INCETL_TEST_PORT + 8))

# What must not change across the update, each as one line.
catalog_rows() {
    local t
    for t in incetl.pipelines incetl.watermarks incetl.run_log incetl.cow_options \
             incetl.cow_file_group incetl.cow_commit; do
        printf '%s %s\n' "$t" "$(upgrade_rows_of "$t")"
    done
}
hist_commit() {   # the Nth commit of s.hist
    q "$DB" "SELECT commit_id FROM incetl.commits('s.hist') ORDER BY commit_id OFFSET $(($1 - 1)) LIMIT 1"
}

# ---------------------------------------------------------------------
# 1. The 0.2 state, made by the 0.2 release
# ---------------------------------------------------------------------
upgrade_install_release 0.2 "${INCETL_PREV_RELEASE_0_2_TAR:-}"
upgrade_start_old_cluster "$PORT" 0.2
if [ "$MODE" = simulated ]; then
    echo "NOTE: no INCETL_PREV_RELEASE_0_2_TAR (the tree has no git history): the 0.2"
    echo "      state is written by the current library into the 0.2 catalogs"
    q "$DB" "UPDATE pg_extension SET extversion = '$CURRENT_VERSION' WHERE extname = 'incetl'"
fi
upgrade_make_tables
qo "INSERT INTO s.ct SELECT g, 'w' || g, now() FROM generate_series(41, 60) g" >/dev/null
upgrade_make_big
# an incetl_cow table with a history: six commits, one of them a TRUNCATE
qo "CREATE TABLE s.hist (id int, v text) USING incetl_cow;
    SELECT incetl.set_table_options('s.hist', record_key => 'id', retain_commits => 100);" >/dev/null
qo "INSERT INTO s.hist SELECT g, 'a' || g FROM generate_series(1, 30) g" >/dev/null
qo "INSERT INTO s.hist SELECT g, 'b' || g FROM generate_series(21, 40) g" >/dev/null
qo "DELETE FROM s.hist WHERE id <= 5" >/dev/null
qo "UPDATE s.hist SET v = 'u' WHERE id = 40" >/dev/null
qo "TRUNCATE s.hist" >/dev/null
qo "INSERT INTO s.hist SELECT g, 'c' || g FROM generate_series(100, 110) g" >/dev/null

qo "SELECT incetl.create_pipeline('p_ts', 's.orders', 'updated_at', 's.heap_dst', 'id',
                                  precombine => 'updated_at', schedule => '0 3 1 1 *');
    SELECT incetl.create_pipeline('p_int', 's.events', 'seq', 's.events_dst', 'seq');
    SELECT incetl.create_pipeline('p_cowsrc', 's.ct', 'updated_at', 's.ct_dst', 'id', precombine => 'updated_at');" >/dev/null
expect "first runs (0.2)" "100 40 60" \
    "$(qo "SELECT incetl_run('p_ts') || ' ' || incetl_run('p_int') || ' ' || incetl_run('p_cowsrc')")"
qo "UPDATE s.orders SET amount = amount + 1000, updated_at = now() WHERE id <= 10;
    INSERT INTO s.events SELECT g, 'k' || g % 3 FROM generate_series(41, 45) g;
    INSERT INTO s.ct VALUES (1, 'x1', now()), (61, 'x61', now());" >/dev/null
expect "second runs take the new rows (0.2)" "10 5 2" \
    "$(qo "SELECT incetl_run('p_ts') || ' ' || incetl_run('p_int') || ' ' || incetl_run('p_cowsrc')")"
qo "SELECT incetl.pause_pipeline('p_int'); SELECT incetl_run('p_int'); SELECT incetl.resume_pipeline('p_int')" >/dev/null
if [ "$MODE" = simulated ]; then
    q "$DB" "UPDATE pg_extension SET extversion = '0.2' WHERE extname = 'incetl'"
fi

CATALOG_BEFORE=$(catalog_rows)
TIMELINE_BEFORE=$(upgrade_timeline)
CT_BEFORE=$(upgrade_rows_of s.ct)
HIST_FIRST=$(hist_commit 1)
HIST_LAST=$(hist_commit 6)
CT_LAST=$(q "$DB" "SELECT incetl.latest_commit('s.ct')")
LOG_MAX=$(q "$DB" "SELECT max(run_id) FROM incetl.run_log")
expect "the 0.2 state: run log by status" "FAILED:0 NO_DATA:0 SKIPPED:1 SUCCESS:6" \
    "$(q "$DB" "SELECT string_agg(s || ':' || (SELECT count(*) FROM incetl.run_log WHERE status = s), ' ' ORDER BY s)
                FROM unnest(ARRAY['FAILED', 'NO_DATA', 'SKIPPED', 'SUCCESS']) AS s")"
expect "the 0.2 state: watermarks (timestamptz, bigint, commit id)" "p_cowsrc|false|true p_int|true|false p_ts|true|false" \
    "$(q "$DB" "SELECT string_agg(pipeline_name || '|' || (watermark IS NOT NULL) || '|' || (watermark_commit IS NOT NULL), ' ' ORDER BY pipeline_name) FROM incetl.watermarks")"
expect "the 0.2 state: p_int's watermark is the last seq" 45 \
    "$(q "$DB" "SELECT watermark FROM incetl.watermarks WHERE pipeline_name = 'p_int'")"
expect "the 0.2 state: the schedule is a pg_cron job" "SELECT incetl_run('p_ts')" \
    "$(q "$DB" "SELECT command FROM cron.job WHERE jobname = 'incetl:p_ts'")"
expect "the 0.2 state: watermark_column is NOT NULL" t \
    "$(q "$DB" "SELECT attnotnull FROM pg_attribute WHERE attrelid = 'incetl.pipelines'::regclass AND attname = 'watermark_column'")"
expect "the 0.2 state: s.hist's timeline (6 commits, one truncate)" "6 1" \
    "$(q "$DB" "SELECT count(*) || ' ' || count(*) FILTER (WHERE operation = 'truncate') FROM incetl.commits('s.hist')")"
expect "the 0.2 state: as_of() of s.hist's commits" "30 40 35 35 0 11" \
    "$(q "$DB" "SELECT string_agg((SELECT count(*) FROM incetl.as_of(NULL::s.hist, commit_id))::text, ' ' ORDER BY commit_id) FROM incetl.commits('s.hist')")"

# ---------------------------------------------------------------------
# 2. The same data directory on the current build, before the update
# ---------------------------------------------------------------------
incetl_cluster_stop "$CDIR"
INCETL_PG_BIN=$NEW_BIN incetl_cluster_start "$CDIR"
expect "the catalogs are still 0.2" 0.2 "$(upgrade_version)"
expect "0.3 is available" t \
    "$(q "$DB" "SELECT count(*) = 1 FROM pg_available_extension_versions WHERE name = 'incetl' AND version = '0.3'")"
for call in "SELECT incetl_run('p_ts')" \
            "SELECT incetl.alter_pipeline('p_int', max_batch_rows => 10)" \
            "SELECT incetl.pause_pipeline('p_cowsrc')"; do
    out=$(psql -X -At -q -U "$OWNER" -d "$DB" -v VERBOSITY=verbose -c "$call" 2>&1 || true)
    expect_match "before the update, $call refuses (55000) and says what to do" \
        "ERROR: +55000: incetl's catalogs in this database are version 0.2, its library is version $CURRENT_VERSION.*HINT: +Run ALTER EXTENSION incetl UPDATE" \
        "$(echo $out)"
done
expect "nothing ran" "$LOG_MAX" "$(q "$DB" "SELECT max(run_id) FROM incetl.run_log")"
expect "incetl_cow tables read before the update" "$CT_BEFORE" "$(upgrade_rows_of s.ct)"
expect "their history reads before the update" "$TIMELINE_BEFORE" "$(upgrade_timeline)"
expect "the 0.3 functions do not exist yet" "" \
    "$(q "$DB" "SELECT to_regprocedure('incetl.table_changes(anyelement,bigint,bigint)')")"

# ---------------------------------------------------------------------
# 3. ALTER EXTENSION incetl UPDATE
# ---------------------------------------------------------------------
q "$DB" "ALTER EXTENSION incetl UPDATE"
expect "the catalogs are the current version (0.2 -> 0.3 -> ... $CURRENT_VERSION)" "$CURRENT_VERSION" "$(upgrade_version)"
expect "every catalog row is kept (pipelines, watermarks, run log, cow options, file groups, commits)" \
    "$CATALOG_BEFORE" "$(catalog_rows)"
expect "commits() and as_of() of every old commit are unchanged" "$TIMELINE_BEFORE" "$(upgrade_timeline)"
expect "the cow table's rows are kept" "$CT_BEFORE" "$(upgrade_rows_of s.ct)"
expect "watermark_column and watermark_type are nullable" "watermark_column|false watermark_type|false" \
    "$(q "$DB" "SELECT string_agg(attname || '|' || attnotnull, ' ' ORDER BY attname) FROM pg_attribute
                WHERE attrelid = 'incetl.pipelines'::regclass AND attname LIKE 'watermark%'")"
expect "the new functions exist, as members of the extension" \
    "incetl.net_changes(anyelement,bigint,bigint) incetl.remove_savepoint(regclass,bigint) incetl.restore(regclass,bigint) incetl.savepoint(regclass,bigint,text) incetl.savepoints(regclass) incetl.table_changes(anyelement,bigint,bigint)" \
    "$(q "$DB" "SELECT string_agg(p::text, ' ' ORDER BY p::text)
                FROM unnest(ARRAY['incetl.table_changes(anyelement,bigint,bigint)', 'incetl.net_changes(anyelement,bigint,bigint)',
                                  'incetl.savepoint(regclass,bigint,text)', 'incetl.savepoints(regclass)',
                                  'incetl.remove_savepoint(regclass,bigint)', 'incetl.restore(regclass,bigint)']) AS f,
                     to_regprocedure(f) AS p
                JOIN pg_depend AS d ON d.classid = 'pg_proc'::regclass AND d.objid = p
                 AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'incetl') AND d.deptype = 'e'")"
expect "incetl.cow_savepoint exists, empty, closed to PUBLIC" "0|false" \
    "$(q "$DB" "SELECT (SELECT count(*) FROM incetl.cow_savepoint) || '|' || has_table_privilege('public', 'incetl.cow_savepoint', 'SELECT')")"
expect "pipeline_status shows the schedule" "p_ts|t" \
    "$(q "$DB" "SELECT pipeline_name, next_run_at IS NOT NULL FROM incetl.pipeline_status WHERE schedule IS NOT NULL")"
expect "the pg_cron job is kept" "0 3 1 1 *" "$(q "$DB" "SELECT schedule FROM cron.job WHERE jobname = 'incetl:p_ts'")"

# the next runs continue where 0.2 stopped: only the new rows
qo "UPDATE s.orders SET amount = -id, updated_at = now() WHERE id IN (50, 51);
    INSERT INTO s.orders VALUES (101, 101, now());
    INSERT INTO s.events SELECT g, 'k' || g % 3 FROM generate_series(46, 49) g;
    INSERT INTO s.ct VALUES (5, 'after the update', now());" >/dev/null
expect "p_ts (timestamptz watermark, heap target) takes only the new rows" 3 "$(qo "SELECT incetl_run('p_ts')")"
expect "p_int (bigint watermark, incetl_cow target) takes only the new rows" 4 "$(qo "SELECT incetl_run('p_int')")"
expect "p_cowsrc (incetl_cow source, its commit id) takes only the new row" 1 "$(qo "SELECT incetl_run('p_cowsrc')")"
upgrade_expect_targets_equal
expect "the runs log after the old ones" "p_cowsrc|SUCCESS p_int|SUCCESS p_ts|SUCCESS" \
    "$(q "$DB" "SELECT string_agg(pipeline_name || '|' || status, ' ' ORDER BY pipeline_name) FROM incetl.run_log WHERE run_id > $LOG_MAX")"
expect "as_of() of the first commit 0.2 wrote" 30 "$(q "$DB" "SELECT count(*) FROM incetl.as_of(NULL::s.hist, $HIST_FIRST)")"
qo "INSERT INTO s.hist VALUES (1, 'after the update')" >/dev/null
expect "s.hist takes a seventh commit; the six before are unchanged" "$TIMELINE_BEFORE" \
    "$(upgrade_timeline | head -n 6)"
expect "the seventh" "12" "$(q "$DB" "SELECT count(*) FROM s.hist")"

# the same catalogs as a fresh install
createdb fresh
q fresh "CREATE EXTENSION incetl"
upgrade_expect_same_catalog "the updated catalogs equal a fresh CREATE EXTENSION incetl ($CURRENT_VERSION)" fresh "$DB"

# ---------------------------------------------------------------------
# 4. The 0.3 functions on what 0.2 wrote
# ---------------------------------------------------------------------
# the change feed
expect "net_changes over 0.2's six commits, a TRUNCATE among them: 30 keys gone, 11 new" "30 11" \
    "$(q "$DB" "SELECT count(*) FILTER (WHERE after IS NULL AND before IS NOT NULL) || ' '
                       || count(*) FILTER (WHERE before IS NULL AND after IS NOT NULL)
                FROM incetl.net_changes(NULL::s.hist, $HIST_FIRST, $HIST_LAST)")"
expect "table_changes of s.ct since 0.2's last commit: the update made after the update" \
    "update|v5|after the update" \
    "$(q "$DB" "SELECT operation || '|' || (before).v || '|' || (after).v FROM incetl.table_changes(NULL::s.ct, $CT_LAST)")"

# savepoints and restore
HIST_2=$(hist_commit 2)
expect "savepoint() of a commit 0.2 wrote" "$HIST_2" "$(qo "SELECT incetl.savepoint('s.hist', $HIST_2, 'before the truncate')")"
expect "savepoints() lists it" "$HIST_2|before the truncate" \
    "$(qo "SELECT commit_id || '|' || comment FROM incetl.savepoints('s.hist')")"
qo "SELECT incetl.restore('s.hist', $HIST_2)" >/dev/null
expect "restore() to it gives its content back" \
    "$(q "$DB" "SELECT count(*) || ':' || md5(string_agg(h::text, '|' ORDER BY h.id)) FROM incetl.as_of(NULL::s.hist, $HIST_2) AS h")" \
    "$(q "$DB" "SELECT count(*) || ':' || md5(string_agg(h::text, '|' ORDER BY h.id)) FROM s.hist AS h")"
expect "as a restore commit" restore \
    "$(q "$DB" "SELECT operation FROM incetl.commits('s.hist') ORDER BY commit_id DESC LIMIT 1")"
expect "remove_savepoint()" t "$(qo "SELECT incetl.remove_savepoint('s.hist', $HIST_2)")"
expect "savepoints() no longer lists it" 0 "$(qo "SELECT count(*) FROM incetl.savepoints('s.hist')")"

# lookups in the blocks 0.2 wrote, then in framed ones after an upsert
expect "EXPLAIN: s.big is read through big_id" "Index Scan using big_id on big b" \
    "$(q "$DB" "SET enable_seqscan = off; SET enable_bitmapscan = off; EXPLAIN (COSTS OFF) SELECT b::text FROM s.big b WHERE id = 5" | head -n 1)"
expect "lookups in s.big (0.2's blocks) return the scan's rows" 0 "$(upgrade_big_lookups)"
qo "INSERT INTO s.big SELECT g, 'upserted ' || g || ' ' || repeat(md5(g::text), g % 300), -g
    FROM generate_series(1, 9000, 40) g" >/dev/null
expect "after an upsert (framed blocks) too" 0 "$(upgrade_big_lookups)"
expect "the upserted rows" "1|upserted 1 |-1" \
    "$(q "$DB" "SET enable_seqscan = off; SELECT id || '|' || left(note, 11) || '|' || n FROM s.big WHERE id = 1")"
expect "verify() finds nothing wrong in s.big" 0 "$(q "$DB" "SELECT count(*) FROM incetl.verify('s.big')")"

# a pipeline on an incetl_cow source moved to the change feed
qo "SELECT incetl.alter_pipeline('p_cowsrc', watermark_column => '')" >/dev/null
expect "p_cowsrc reads the change feed now (no watermark column)" t \
    "$(q "$DB" "SELECT watermark_column IS NULL FROM incetl.pipelines WHERE name = 'p_cowsrc'")"
qo "DELETE FROM s.ct WHERE id = 2; INSERT INTO s.ct VALUES (62, 'x62', now())" >/dev/null
qo "SELECT incetl_run('p_cowsrc')" >/dev/null
expect "the delete and the insert reach the target" 0 \
    "$(q "$DB" "SELECT count(*) FROM ((TABLE s.ct EXCEPT ALL TABLE s.ct_dst) UNION ALL (TABLE s.ct_dst EXCEPT ALL TABLE s.ct)) AS d")"

echo "upgrade from 0.2 ($MODE) ok"
