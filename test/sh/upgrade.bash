# test/sh/upgrade.bash -- what the upgrade tests (test/sh/upgrade_from_*.sh)
# share
#
# Sourced, never run (the runner only picks up *.sh), after helpers.bash:
#
#     source "$(dirname "${BASH_SOURCE[0]}")/helpers.bash"
#     source "$(dirname "${BASH_SOURCE[0]}")/upgrade.bash"
#
# It provides:
#
#   upgrade_install_release VERSION TAR
#                         build the release whose source TAR holds (a git
#                         archive of its commit, exported by run_tests.sh)
#                         into a private copy of PostgreSQL's installation
#                         under $INCETL_TMP/pg-VERSION that holds only that
#                         release's extension scripts.  Sets OLD_BIN to the
#                         binaries to start the old cluster with and MODE to
#                         "release"; without TAR (a tree with no git history)
#                         OLD_BIN is the current build and MODE "simulated":
#                         the caller then writes the old state itself
#   upgrade_start_old_cluster PORT VERSION
#                         a cluster in $CDIR on OLD_BIN (autovacuum off: the
#                         test compares catalog rows before and after), the
#                         database $DB with pg_cron and incetl VERSION, the
#                         role $OWNER and its schema s
#   upgrade_catalog DB    print incetl's catalog definitions in DB, one line
#                         per object (see upgrade_catalog_sql)
#   upgrade_expect_same_catalog WHAT DB_FRESH DB_UPDATED
#                         fail, printing the difference, unless both
#                         databases have the same catalog definitions
#
#   qo SQL                run SQL in $DB as $OWNER (the pipelines' owner)
#   upgrade_version, upgrade_rows_of TABLE, upgrade_timeline (of s.hist),
#   upgrade_big_lookups (s.big's btree lookups that differ from a scan)
#   upgrade_make_tables, upgrade_make_big (the old state's tables)
#   upgrade_expect_targets_equal (every pipeline's target equals its source)
#
# and, for the releases since 0.3 (upgrade_from_0_3.sh, upgrade_from_0_4.sh),
# the steps those tests share, VERSION the old release:
#   upgrade_make_history   s.hist: five commits (a TRUNCATE among them) and a
#                          savepoint of the second (HIST_2)
#   upgrade_make_pipelines VERSION
#                          p_ts (timestamptz watermark, heap target), p_int
#                          (bigint, incetl_cow target), p_feed (the change
#                          feed of incetl_cow s.ct), two runs each and a run
#                          skipped while paused
#   upgrade_expect_refused VERSION
#                          before the update, pipeline functions refuse with
#                          55000 and a hint, and nothing runs (LOG_MAX)
#   upgrade_expect_runs_continue VERSION
#                          after it: the next runs take only the new rows,
#                          the run log goes on, s.hist takes a commit and
#                          restore() to HIST_2 gives its content back
#   CURRENT_VERSION       the version this build installs (incetl.control)
#
# and an incetl_on_exit that shows the end of $CDIR/server.log when the test
# fails.  The test's cluster is $CDIR, its database $DB.

NEW_BIN=$INCETL_PG_BIN
# the version this build installs and its library works with
CURRENT_VERSION=$(sed -n "s/^default_version = '\(.*\)'$/\1/p" \
    "$(dirname "${BASH_SOURCE[0]}")/../../incetl.control")
CDIR=$INCETL_TMP/cluster
DB=upg
OWNER=upg_owner

qo() { psql -X -At -q -v ON_ERROR_STOP=1 -U "$OWNER" -d "$DB" -c "$*"; }

# What the upgrade tests compare before and after, each as text:
upgrade_version() { q "$DB" "SELECT extversion FROM pg_extension WHERE extname = 'incetl'"; }
upgrade_rows_of() {   # every row of a table, in a stable order
    q "$DB" "SELECT count(*) || ':' || coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '-') FROM $1 AS t"
}
upgrade_timeline() {  # commits() of s.hist, and what as_of() of each returns
    q "$DB" "SELECT string_agg(c.commit_id || ' ' || c.operation || ' +' || c.rows_inserted
                               || ' ~' || c.rows_updated || ' -' || c.rows_deleted || ' '
                               || (SELECT count(*) || ':' || coalesce(md5(string_agg(h::text, '|' ORDER BY h.id)), '-')
                                   FROM incetl.as_of(NULL::s.hist, c.commit_id) AS h),
                               E'\n' ORDER BY c.commit_id)
             FROM incetl.commits('s.hist') AS c"
}
# The tables of the old state, made by the old release: sources and targets
# of the pipelines (heap s.orders -> s.heap_dst, s.events -> incetl_cow
# s.events_dst, incetl_cow s.ct, keys 1 to 50, -> s.ct_dst), and s.big,
# incetl_cow with blocks of text above 8 kB (a lookup reads the frames of
# such a block it needs, when the block has a frame index) and a btree
upgrade_make_tables() {
    qo "CREATE TABLE s.orders (id int PRIMARY KEY, amount int NOT NULL, updated_at timestamptz NOT NULL);
        INSERT INTO s.orders SELECT g, g, now() - interval '1 hour' FROM generate_series(1, 100) g;
        CREATE TABLE s.heap_dst (id int PRIMARY KEY, amount int NOT NULL, updated_at timestamptz NOT NULL);
        CREATE TABLE s.events (seq bigint PRIMARY KEY, kind text NOT NULL);
        INSERT INTO s.events SELECT g, 'k' || g % 3 FROM generate_series(1, 40) g;
        CREATE TABLE s.events_dst (seq bigint, kind text) USING incetl_cow;
        SELECT incetl.set_table_options('s.events_dst', record_key => 'seq');
        CREATE TABLE s.ct (id int, v text, updated_at timestamptz) USING incetl_cow;
        SELECT incetl.set_table_options('s.ct', record_key => 'id', precombine => 'updated_at');
        INSERT INTO s.ct SELECT g, 'v' || g, now() FROM generate_series(1, 50) g;
        CREATE TABLE s.ct_dst (id int, v text, updated_at timestamptz) USING incetl_cow;
        SELECT incetl.set_table_options('s.ct_dst', record_key => 'id', precombine => 'updated_at');" >/dev/null
}
upgrade_make_big() {
    qo "CREATE TABLE s.big (id int, note text, n int) USING incetl_cow;
        SELECT incetl.set_table_options('s.big', record_key => 'id');
        INSERT INTO s.big SELECT g, CASE WHEN g % 10 <> 0 THEN 'order ' || g || ' ' || md5(g::text)
                                         || CASE WHEN g % 97 = 0 THEN repeat(md5((-g)::text), 200) ELSE '' END END, g % 7
                          FROM generate_series(1, 9000) g;
        CREATE INDEX big_id ON s.big (id);" >/dev/null
}
# every pipeline's target holds its source's rows
upgrade_expect_targets_equal() {
    local pair
    for pair in "s.orders s.heap_dst" "s.events s.events_dst" "s.ct s.ct_dst"; do
        set -- $pair
        expect "$2 equals $1" 0 \
            "$(q "$DB" "SELECT count(*) FROM ((TABLE $1 EXCEPT ALL TABLE $2) UNION ALL (TABLE $2 EXCEPT ALL TABLE $1)) AS d")"
    done
}
# the keys of s.big (id int, note text, n int; a btree big_id on id) whose
# lookup through big_id, one statement each, differs from a scan's row
upgrade_big_lookups() {
    q "$DB" "SET enable_seqscan = off; SET enable_bitmapscan = off;
             DO \$\$ DECLARE k int; r text; bad int := 0; BEGIN
                 SET LOCAL enable_indexscan = off;
                 CREATE TEMP TABLE big_seq AS SELECT id, b::text AS r FROM s.big b;
                 CREATE UNIQUE INDEX ON big_seq (id);
                 ANALYZE big_seq;
                 SET LOCAL enable_indexscan = on;
                 FOR k IN SELECT g FROM generate_series(1, 9000, 7) g UNION SELECT g * 97 FROM generate_series(1, 92) g LOOP
                     EXECUTE 'SELECT b::text FROM s.big b WHERE id = ' || k INTO r;
                     IF r IS DISTINCT FROM (SELECT big_seq.r FROM big_seq WHERE big_seq.id = k) THEN bad := bad + 1; END IF;
                 END LOOP;
                 DROP TABLE big_seq;
                 RAISE NOTICE 'differing %', bad;
             END \$\$;" 2>&1 | sed -n 's/.*NOTICE: *differing //p'
}

upgrade_make_history() {
    qo "CREATE TABLE s.hist (id int, v text) USING incetl_cow;
        SELECT incetl.set_table_options('s.hist', record_key => 'id', retain_commits => 100);" >/dev/null
    qo "INSERT INTO s.hist SELECT g, 'a' || g FROM generate_series(1, 30) g" >/dev/null
    qo "INSERT INTO s.hist SELECT g, 'b' || g FROM generate_series(21, 40) g" >/dev/null
    qo "DELETE FROM s.hist WHERE id <= 5" >/dev/null
    qo "TRUNCATE s.hist" >/dev/null
    qo "INSERT INTO s.hist SELECT g, 'c' || g FROM generate_series(100, 110) g" >/dev/null
    HIST_2=$(q "$DB" "SELECT commit_id FROM incetl.commits('s.hist') ORDER BY commit_id OFFSET 1 LIMIT 1")
    qo "SELECT incetl.savepoint('s.hist', $HIST_2, 'before the delete')" >/dev/null
}
upgrade_make_pipelines() {
    local version=$1
    qo "SELECT incetl.create_pipeline('p_ts', 's.orders', 'updated_at', 's.heap_dst', 'id',
                                      precombine => 'updated_at', schedule => '0 3 1 1 *');
        SELECT incetl.create_pipeline('p_int', 's.events', 'seq', 's.events_dst', 'seq');
        SELECT incetl.create_pipeline('p_feed', 's.ct', NULL, 's.ct_dst', 'id', precombine => 'updated_at');" >/dev/null
    expect "first runs ($version)" "100 40 50" \
        "$(qo "SELECT incetl_run('p_ts') || ' ' || incetl_run('p_int') || ' ' || incetl_run('p_feed')")"
    qo "UPDATE s.orders SET amount = amount + 1000, updated_at = now() WHERE id <= 10;
        INSERT INTO s.events SELECT g, 'k' || g % 3 FROM generate_series(41, 45) g;
        DELETE FROM s.ct WHERE id = 3;
        INSERT INTO s.ct VALUES (1, 'x1', now()), (61, 'x61', now());" >/dev/null
    expect "second runs take the changes ($version)" "10 5 3" \
        "$(qo "SELECT incetl_run('p_ts') || ' ' || incetl_run('p_int') || ' ' || incetl_run('p_feed')")"
    qo "SELECT incetl.pause_pipeline('p_int'); SELECT incetl_run('p_int'); SELECT incetl.resume_pipeline('p_int')" >/dev/null
}
upgrade_expect_refused() {
    local version=$1 call out
    for call in "SELECT incetl_run('p_ts')" \
                "SELECT incetl.alter_pipeline('p_int', max_batch_rows => 10)"; do
        out=$(psql -X -At -q -U "$OWNER" -d "$DB" -v VERBOSITY=verbose -c "$call" 2>&1 || true)
        expect_match "before the update, $call refuses (55000) and says what to do" \
            "ERROR: +55000: incetl's catalogs in this database are version $version, its library is version $CURRENT_VERSION.*HINT: +Run ALTER EXTENSION incetl UPDATE" \
            "$(echo $out)"
    done
    expect "nothing ran" "$LOG_MAX" "$(q "$DB" "SELECT max(run_id) FROM incetl.run_log")"
}
upgrade_expect_runs_continue() {
    local version=$1
    qo "UPDATE s.orders SET amount = -id, updated_at = now() WHERE id IN (50, 51);
        INSERT INTO s.orders VALUES (101, 101, now());
        INSERT INTO s.events SELECT g, 'k' || g % 3 FROM generate_series(46, 49) g;
        DELETE FROM s.ct WHERE id = 4;
        INSERT INTO s.ct VALUES (5, 'after the update', now());" >/dev/null
    expect "p_ts (timestamptz watermark, heap target) takes only the new rows" 3 "$(qo "SELECT incetl_run('p_ts')")"
    expect "p_int (bigint watermark, incetl_cow target) takes only the new rows" 4 "$(qo "SELECT incetl_run('p_int')")"
    expect "p_feed (the change feed) takes only the new changes" 2 "$(qo "SELECT incetl_run('p_feed')")"
    upgrade_expect_targets_equal
    expect "the runs log after the old ones" "p_feed|SUCCESS p_int|SUCCESS p_ts|SUCCESS" \
        "$(q "$DB" "SELECT string_agg(pipeline_name || '|' || status, ' ' ORDER BY pipeline_name) FROM incetl.run_log WHERE run_id > $LOG_MAX")"
    qo "INSERT INTO s.hist VALUES (1, 'after the update')" >/dev/null
    expect "s.hist takes a sixth commit; the five before are unchanged" "$TIMELINE_BEFORE" "$(upgrade_timeline | head -n 5)"
    qo "SELECT incetl.restore('s.hist', $HIST_2)" >/dev/null
    expect "restore() to the savepoint $version made gives its content back" \
        "$(q "$DB" "SELECT count(*) || ':' || md5(string_agg(h::text, '|' ORDER BY h.id)) FROM incetl.as_of(NULL::s.hist, $HIST_2) AS h")" \
        "$(q "$DB" "SELECT count(*) || ':' || md5(string_agg(h::text, '|' ORDER BY h.id)) FROM s.hist AS h")"
}

incetl_on_exit() {
    local rc=$1
    if [ "$rc" -ne 0 ] && [ -f "${CDIR:-}/server.log" ]; then
        echo "---- end of $CDIR/server.log" >&2
        tail -n 40 "$CDIR/server.log" >&2
    fi
    return "$rc"
}

upgrade_install_release() {
    local version=$1 tar=${2:-} old d sharedir
    if [ -z "$tar" ] || [ ! -s "$tar" ]; then
        MODE=simulated
        OLD_BIN=$NEW_BIN
        return 0
    fi
    MODE=release
    old=$INCETL_TMP/pg-$version
    sharedir=$("$NEW_BIN/pg_config" --sharedir)
    for d in "$("$NEW_BIN/pg_config" --bindir)" "$("$NEW_BIN/pg_config" --pkglibdir)" \
             "$sharedir" "$("$NEW_BIN/pg_config" --includedir-server)"; do
        mkdir -p "$old$(dirname "$d")"
        cp -a "$d" "$old$(dirname "$d")/"
    done
    # not the current build's scripts: only the release's may be found
    rm -f "$old$sharedir"/extension/incetl*
    mkdir -p "$INCETL_TMP/src-$version"
    tar -xf "$tar" -C "$INCETL_TMP/src-$version"
    OLD_BIN=$old$("$NEW_BIN/pg_config" --bindir)
    make -s -C "$INCETL_TMP/src-$version" -j2 PG_CONFIG="$OLD_BIN/pg_config" \
        >"$INCETL_TMP/build-$version.log" 2>&1 ||
        { tail -n 30 "$INCETL_TMP/build-$version.log"; fail "building the $version release"; }
    make -s -C "$INCETL_TMP/src-$version" install PG_CONFIG="$OLD_BIN/pg_config" \
        >>"$INCETL_TMP/build-$version.log" 2>&1 ||
        fail "installing the $version release"
    expect "the private installation has only the $version release's scripts" \
        "$(cd "$INCETL_TMP/src-$version/sql" && ls incetl--*.sql | tr '\n' ' ')" \
        "$(cd "$old$sharedir/extension" && ls incetl--*.sql | tr '\n' ' ')"
    expect "its default version is $version" "default_version = '$version'" \
        "$(grep '^default_version' "$old$sharedir/extension/incetl.control")"
    echo "$version built from the release's source"
}

upgrade_start_old_cluster() {
    local port=$1 version=$2
    incetl_cluster_init "$CDIR" "$port" "$DB" "autovacuum = off"
    INCETL_PG_BIN=$OLD_BIN incetl_cluster_start "$CDIR" keep
    incetl_cluster_export "$CDIR"
    createdb "$DB"
    q "$DB" "CREATE EXTENSION pg_cron"
    q "$DB" "CREATE EXTENSION incetl VERSION '$version'"
    q "$DB" "CREATE ROLE $OWNER LOGIN; GRANT USAGE ON SCHEMA cron TO $OWNER;
             CREATE SCHEMA s AUTHORIZATION $OWNER;"
}

# One line per object of the extension and per property a user or pg_dump
# sees: functions (whole definition, ACL, comment), tables (columns with
# type, NOT NULL, default, ACL and comment; constraints; indexes; triggers;
# options; ACL; comment), views, sequences, access methods, the schema, the
# extension's configuration tables and their filters, and the initial
# privileges pg_dump compares against.  Nothing that depends on OIDs or on
# the order objects were created in.
upgrade_catalog_sql() {
    cat <<'SQL'
WITH ext AS (
    SELECT oid, extconfig, extcondition FROM pg_extension WHERE extname = 'incetl'
), member AS (
    SELECT d.classid, d.objid
    FROM pg_depend AS d, ext
    WHERE d.refclassid = 'pg_extension'::regclass AND d.refobjid = ext.oid
      AND d.deptype = 'e'
), rel AS (
    SELECT c.* FROM pg_class AS c JOIN member AS m
        ON m.classid = 'pg_class'::regclass AND m.objid = c.oid
), line AS (
    -- every member, by its description
    SELECT 'member ' || pg_describe_object(classid, objid, 0) AS l FROM member
    UNION ALL
    SELECT 'comment ' || pg_describe_object(m.classid, m.objid, 0) || ': ' || d.description
    FROM member AS m JOIN pg_description AS d
        ON d.classoid = m.classid AND d.objoid = m.objid AND d.objsubid = 0
    UNION ALL
    SELECT 'initprivs ' || pg_describe_object(i.classoid, i.objoid, i.objsubid) || ': '
           || i.privtype::text || ' ' || i.initprivs::text
    FROM pg_init_privs AS i JOIN member AS m ON m.classid = i.classoid AND m.objid = i.objoid
    UNION ALL
    -- functions
    SELECT 'function ' || p.oid::regprocedure || ': '
           || CASE WHEN p.prokind = 'a' THEN 'aggregate' ELSE pg_get_functiondef(p.oid) END
           || ' acl ' || coalesce(p.proacl::text, 'default')
    FROM pg_proc AS p JOIN member AS m ON m.classid = 'pg_proc'::regclass AND m.objid = p.oid
    UNION ALL
    -- relations
    SELECT 'relation ' || c.oid::regclass || ': kind ' || c.relkind::text
           || ' persistence ' || c.relpersistence::text
           || ' am ' || coalesce((SELECT amname FROM pg_am WHERE oid = c.relam), '-')
           || ' options ' || coalesce(c.reloptions::text, '-')
           || ' acl ' || coalesce(c.relacl::text, 'default')
    FROM rel AS c
    UNION ALL
    SELECT 'column ' || c.oid::regclass || '.' || a.attname || ': '
           || format_type(a.atttypid, a.atttypmod)
           || CASE WHEN a.attnotnull THEN ' not null' ELSE ' null' END
           || coalesce(' default ' || pg_get_expr(ad.adbin, ad.adrelid), '')
           || coalesce(' identity ' || nullif(a.attidentity::text, ''), '')
           || ' acl ' || coalesce(a.attacl::text, 'default')
           || coalesce(' comment ' || col_description(c.oid, a.attnum), '')
           -- the position among the columns, not attnum (a dropped column
           -- leaves a gap that no user sees)
           || ' position ' || row_number() OVER (PARTITION BY c.oid ORDER BY a.attnum)
    FROM rel AS c
    JOIN pg_attribute AS a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
    LEFT JOIN pg_attrdef AS ad ON ad.adrelid = c.oid AND ad.adnum = a.attnum
    UNION ALL
    SELECT 'constraint ' || c.oid::regclass || ' ' || k.conname || ': '
           || pg_get_constraintdef(k.oid)
    FROM rel AS c JOIN pg_constraint AS k ON k.conrelid = c.oid
    UNION ALL
    SELECT 'index ' || pg_get_indexdef(i.indexrelid)
    FROM rel AS c JOIN pg_index AS i ON i.indrelid = c.oid
    UNION ALL
    SELECT 'trigger ' || pg_get_triggerdef(t.oid)
    FROM rel AS c JOIN pg_trigger AS t ON t.tgrelid = c.oid AND NOT t.tgisinternal
    UNION ALL
    SELECT 'view ' || c.oid::regclass || ': ' || pg_get_viewdef(c.oid)
    FROM rel AS c WHERE c.relkind IN ('v', 'm')
    UNION ALL
    SELECT 'sequence ' || s.seqrelid::regclass || ': ' || format_type(s.seqtypid, NULL)
           || ' start ' || s.seqstart || ' increment ' || s.seqincrement
           || ' min ' || s.seqmin || ' max ' || s.seqmax || ' cache ' || s.seqcache
           || ' cycle ' || s.seqcycle
           || coalesce(' owned by ' || (SELECT pg_describe_object(d.refclassid, d.refobjid, d.refobjsubid)
                                        FROM pg_depend AS d
                                        WHERE d.classid = 'pg_class'::regclass AND d.objid = s.seqrelid
                                          AND d.deptype IN ('a', 'i')
                                          AND d.refclassid = 'pg_class'::regclass), '')
    FROM rel AS c JOIN pg_sequence AS s ON s.seqrelid = c.oid
    UNION ALL
    -- access methods, schemas, event triggers
    SELECT 'access method ' || a.amname || ': ' || a.amtype::text || ' ' || a.amhandler::regproc
    FROM pg_am AS a JOIN member AS m ON m.classid = 'pg_am'::regclass AND m.objid = a.oid
    UNION ALL
    SELECT 'schema ' || n.nspname || ': acl ' || coalesce(n.nspacl::text, 'default')
    FROM pg_namespace AS n WHERE n.nspname = 'incetl'
    UNION ALL
    SELECT 'event trigger ' || e.evtname || ': ' || e.evtevent || ' ' || e.evtfoid::regproc
           || ' ' || e.evtenabled::text || ' ' || coalesce(e.evttags::text, '-')
    FROM pg_event_trigger AS e JOIN member AS m
        ON m.classid = 'pg_event_trigger'::regclass AND m.objid = e.oid
    UNION ALL
    -- what pg_dump dumps of the extension's tables
    SELECT 'configuration ' || cfg::regclass || ': ' || coalesce(cond, '-')
    FROM ext, unnest(ext.extconfig, ext.extcondition) AS u(cfg, cond)
)
-- one line an object: a function's definition spans several
SELECT replace(l, E'\n', ' ') AS l FROM line ORDER BY replace(l, E'\n', ' ') COLLATE "C";
SQL
}

upgrade_catalog() {
    psql -X -At -q -v ON_ERROR_STOP=1 -d "$1" -c "$(upgrade_catalog_sql)"
}

upgrade_expect_same_catalog() {
    local what=$1 fresh=$2 updated=$3 d
    upgrade_catalog "$fresh" >"$INCETL_TMP/catalog-$fresh.txt"
    upgrade_catalog "$updated" >"$INCETL_TMP/catalog-$updated.txt"
    [ "$(wc -l <"$INCETL_TMP/catalog-$fresh.txt")" -gt 100 ] ||
        fail "$what: the catalog description of $fresh has too few lines to be right"
    if ! d=$(diff "$INCETL_TMP/catalog-$fresh.txt" "$INCETL_TMP/catalog-$updated.txt"); then
        printf '%s\n' "---- < CREATE EXTENSION ($fresh), > updated ($updated):" "$d" >&2
        fail "$what"
    fi
    printf 'ok  %s (%s lines)\n' "$what" "$(wc -l <"$INCETL_TMP/catalog-$fresh.txt")"
}
