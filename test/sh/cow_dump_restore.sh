#!/usr/bin/env bash
# test/sh/cow_dump_restore.sh -- incetl_cow table options survive pg_dump and
# pg_restore into a new database, and the restored tables upsert by their
# record key exactly as the originals did.
#
# incetl.cow_options is an extension configuration table keyed by regclass
# and naming its columns, so pg_dump writes 'schema.table' and column names,
# and the restore re-resolves them against the restored tables (new oids,
# possibly new attribute numbers).  pg_restore loads a table's rows and the
# options row in no fixed order (TABLE DATA items are sorted by schema name:
# analytics.* comes before incetl.cow_options, public.* and zeta.* after),
# so both orders are exercised: rows first (appended, then rewritten by the
# key when the options arrive) and options first (rows loaded as upserts).
#
# Covered: custom format (serial and -j 2), plain format, --schema-only
# followed by --data-only; a renamed table (and a renamed key column), a
# table moved to another schema, a composite record key with a quoted column
# name behind a dropped column (attribute numbers differ after the restore),
# precombine + delete marker after the restore, and a dropped-then-recreated
# table that must not inherit the options of its predecessor; a table moved
# to heap after its options were set (its leftover row is not dumped); a
# PRIMARY KEY on the record key and another UNIQUE constraint, whose indexes
# the restore builds after the rows (with the options there or not yet).
#
# Runs on the main test cluster (PGHOST/PGPORT/PGUSER), in databases of its
# own, dropped at the end.

source "$(dirname "${BASH_SOURCE[0]}")/helpers.bash"

SRC_DB=incetl_sh_cowdump_src
DUMP_ROLE=incetl_sh_cowdump_reader
DBS=(incetl_sh_cowdump_fc incetl_sh_cowdump_j2 incetl_sh_cowdump_plain
     incetl_sh_cowdump_split)
WORKDIR=$(mktemp -d "${INCETL_TMP:-/tmp}/cow_dump_restore.XXXXXX")

incetl_on_exit() {
    local db
    for db in "$SRC_DB" "${DBS[@]}"; do
        dropdb --if-exists "$db" 2>/dev/null
    done
    psql -X -q -d postgres -c "DROP ROLE IF EXISTS $DUMP_ROLE" >/dev/null 2>&1
    rm -rf "$WORKDIR"
    return "$1"
}

for db in "$SRC_DB" "${DBS[@]}"; do
    dropdb --if-exists "$db" 2>/dev/null
done
createdb "$SRC_DB"

# --------------------------------------------------------------------------
# The original database.
# --------------------------------------------------------------------------
(psql -X -q -v ON_ERROR_STOP=1 -d "$SRC_DB" <<'SQL'
CREATE EXTENSION incetl;
CREATE SCHEMA analytics;
CREATE SCHEMA zeta;

-- precombine + delete marker, every option set
CREATE TABLE public.orders (
    id          int,
    customer    text,
    amount      numeric(10,2),
    updated_at  timestamptz,
    _is_deleted boolean) USING incetl_cow;
SELECT incetl.set_table_options('public.orders', record_key => 'id',
        precombine => 'updated_at', delete_marker => '_is_deleted',
        file_group_rows => 4, compression_level => 5, retain_commits => 3);
INSERT INTO public.orders
SELECT g, 'c' || g, g * 1.5, '2026-01-01'::timestamptz + g * interval '1 hour', false
FROM generate_series(1, 20) AS g;
-- an upsert, a stale row that loses, a delete marker
INSERT INTO public.orders VALUES
    (5, 'c5-new', 99, '2026-02-01', false),
    (6, 'c6-stale', 0, '2025-01-01', false),
    (7, NULL, NULL, '2026-02-01', true);

-- a renamed table whose key column was renamed too
CREATE TABLE public.events_old (eid bigint, payload text) USING incetl_cow;
SELECT incetl.set_table_options('public.events_old', record_key => 'eid');
INSERT INTO public.events_old SELECT g, 'p' || g FROM generate_series(1, 12) AS g;
ALTER TABLE public.events_old RENAME TO events;
ALTER TABLE public.events RENAME COLUMN eid TO event_id;

-- a table in another schema, composite key with a quoted column name, and a
-- dropped column in front of it (attribute numbers shift in the restore)
CREATE TABLE analytics.sales (
    junk       int,
    region     text,
    "Order Id" int,
    qty        int,
    version    int) USING incetl_cow;
ALTER TABLE analytics.sales DROP COLUMN junk;
SELECT incetl.set_table_options('analytics.sales',
        record_key => 'region, Order Id', precombine => 'version',
        file_group_rows => 3);
INSERT INTO analytics.sales
SELECT r, g, g * 10, 1 FROM unnest(ARRAY['east', 'west']) AS r, generate_series(1, 5) AS g;

-- a table moved to another schema after its options were set
CREATE TABLE public.moved (k text, v int) USING incetl_cow;
SELECT incetl.set_table_options('public.moved', record_key => 'k', compression_level => 9);
INSERT INTO public.moved VALUES ('a', 1), ('b', 2), ('c', 3);
ALTER TABLE public.moved SET SCHEMA zeta;

-- dropped, then recreated under the same name without options: appends
CREATE TABLE public.reused (id int, v text) USING incetl_cow;
SELECT incetl.set_table_options('public.reused', record_key => 'id');
INSERT INTO public.reused VALUES (1, 'old');
DROP TABLE public.reused;
CREATE TABLE public.reused (id int, v text) USING incetl_cow;
INSERT INTO public.reused VALUES (1, 'x'), (1, 'y');

-- a PRIMARY KEY on the record key (the key constraint: never checked, the
-- merge keeps one row per key) and another UNIQUE constraint (checked);
-- pg_restore builds their indexes after the rows, and the options of
-- orders arrive before its rows, those of sales after
ALTER TABLE public.orders ADD PRIMARY KEY (id), ADD UNIQUE (customer);
ALTER TABLE analytics.sales ADD PRIMARY KEY (region, "Order Id"),
    ADD CONSTRAINT sales_region_qty UNIQUE (region, qty);

-- options set, then the table moved to heap: its stale row is not dumped
CREATE TABLE public.was_cow (id int) USING incetl_cow;
SELECT incetl.set_table_options('public.was_cow', record_key => 'id');
ALTER TABLE public.was_cow SET ACCESS METHOD heap;
SQL
) >/dev/null

TABLES=(public.orders public.events analytics.sales zeta.moved public.reused)

# The options of every table, one line each (NULL options print empty).
options_of() {
    local db=$1 t out=""
    for t in "${TABLES[@]}"; do
        out+="$t: $(q "$db" "SELECT o.* FROM incetl.table_options('$t') AS o")"$'\n'
    done
    printf '%s' "$out"
}
rows_of() {
    local db=$1 t out=""
    for t in "${TABLES[@]}"; do
        out+="$t: $(q "$db" "SELECT string_agg(t::text, ' ' ORDER BY t::text) FROM $t AS t")"$'\n'
    done
    printf '%s' "$out"
}

src_options=$(options_of "$SRC_DB")
src_rows=$(rows_of "$SRC_DB")
expect "options in the original database" \
"public.orders: {id}|updated_at|_is_deleted|4|5|3
public.events: {event_id}|||100000|1|10
analytics.sales: {region,\"Order Id\"}|version||3|1|10
zeta.moved: {k}|||100000|9|10
public.reused: |||||" "$src_options"
expect "the original orders table: 19 rows, 5 upserted, 6 kept, 7 deleted" \
    "19|c5-new|c6|0" \
    "$(q "$SRC_DB" "SELECT count(*), max(customer) FILTER (WHERE id = 5),
                            max(customer) FILTER (WHERE id = 6), count(*) FILTER (WHERE id = 7)
                     FROM public.orders")"
expect "the recreated table did not inherit its predecessor's key" "2" \
    "$(q "$SRC_DB" "SELECT count(*) FROM public.reused")"
expect "file-group and commit catalogs are not dumped; cow_options is" \
    "{cow_options}" \
    "$(q "$SRC_DB" "SELECT array_agg(c.relname ORDER BY c.relname) FROM pg_extension e,
                         unnest(e.extconfig) AS x(oid) JOIN pg_class c ON c.oid = x.oid
                     WHERE e.extname = 'incetl' AND c.relname LIKE 'cow%'")"

# --------------------------------------------------------------------------
# The checks every restored database must pass.
# --------------------------------------------------------------------------
check_restored() {
    local db=$1 how=$2 t

    expect "$how: table_options identical" "$src_options" "$(options_of "$db")"
    expect "$how: every row identical" "$src_rows" "$(rows_of "$db")"
    for t in "${TABLES[@]}"; do
        expect "$how: incetl.verify($t) is clean" 0 \
            "$(q "$db" "SELECT count(*) FROM incetl.verify('$t')")"
    done
    expect "$how: no stale option rows" 4 "$(q "$db" "SELECT count(*) FROM incetl.cow_options")"

    # orders: precombine and delete marker, as before the dump
    q "$db" "INSERT INTO public.orders VALUES
                 (1, 'c1-newer', 1, '2026-03-01', false),
                 (2, 'c2-older', 2, '2025-01-01', false),
                 (3, NULL, NULL, '2026-03-01', true),
                 (4, NULL, NULL, '2025-01-01', true),
                 (1, 'c1-older-same-stmt', 1, '2026-02-15', false),
                 (7, 'c7-back', 7, '2026-03-01', false),
                 (21, 'c21', 21, '2026-03-01', false)" >/dev/null
    expect "$how: orders upserts by id with precombine and delete marker" \
        "20|c1-newer|c2|0|c4|c7-back|c21" \
        "$(q "$db" "SELECT count(*), max(customer) FILTER (WHERE id = 1),
                           max(customer) FILTER (WHERE id = 2),
                           count(*) FILTER (WHERE id = 3),
                           max(customer) FILTER (WHERE id = 4),
                           max(customer) FILTER (WHERE id = 7),
                           max(customer) FILTER (WHERE id = 21)
                    FROM public.orders")"
    expect "$how: orders has one row per id" 0 \
        "$(q "$db" "SELECT count(*) FROM (SELECT id FROM public.orders GROUP BY id HAVING count(*) > 1) d")"

    # the constraints came back, and behave as before the dump
    expect "$how: PRIMARY KEY and UNIQUE constraints restored" \
        "orders_customer_key:u,orders_pkey:p,sales_pkey:p,sales_region_qty:u" \
        "$(q "$db" "SELECT string_agg(conname || ':' || contype::text, ',' ORDER BY conname)
                    FROM pg_constraint WHERE contype IN ('p', 'u')
                      AND conrelid IN ('public.orders'::regclass, 'analytics.sales'::regclass)")"
    expect_match "$how: orders' UNIQUE (customer) is enforced across upserts" \
        'duplicate key value violates unique constraint "orders_customer_key"' \
        "$(q "$db" "INSERT INTO public.orders VALUES (22, 'c21', 1, '2026-03-01', false)" 2>&1 || true)"
    expect_match "$how: sales' UNIQUE (region, qty) is enforced" \
        'duplicate key value violates unique constraint "sales_region_qty"' \
        "$(q "$db" "INSERT INTO analytics.sales VALUES ('east', 77, 30, 1)" 2>&1 || true)"

    # the renamed table with the renamed key column
    q "$db" "INSERT INTO public.events VALUES (3, 'p3-new'), (13, 'p13')" >/dev/null
    expect "$how: events upserts by event_id" "13|p3-new" \
        "$(q "$db" "SELECT count(*), max(payload) FILTER (WHERE event_id = 3) FROM public.events")"

    # composite key with a quoted column name, precombine version
    q "$db" "INSERT INTO analytics.sales VALUES ('east', 2, 999, 2), ('west', 2, 0, 0),
                                                ('north', 1, 5, 1)" >/dev/null
    expect "$how: sales upserts by (region, \"Order Id\") with precombine" "11|999|20" \
        "$(q "$db" "SELECT count(*),
                           max(qty) FILTER (WHERE region = 'east' AND \"Order Id\" = 2),
                           max(qty) FILTER (WHERE region = 'west' AND \"Order Id\" = 2)
                    FROM analytics.sales")"

    # the table moved to schema zeta
    q "$db" "INSERT INTO zeta.moved VALUES ('b', 20), ('d', 4)" >/dev/null
    expect "$how: zeta.moved upserts by k" "4|20" \
        "$(q "$db" "SELECT count(*), max(v) FILTER (WHERE k = 'b') FROM zeta.moved")"

    # the recreated table still has no key: appends
    q "$db" "INSERT INTO public.reused VALUES (1, 'z')" >/dev/null
    expect "$how: the recreated table appends (no stale key)" "3||||||" \
        "$(q "$db" "SELECT count(*) FROM public.reused")|$(q "$db" \
            "SELECT o.* FROM incetl.table_options('public.reused') AS o")"

    for t in "${TABLES[@]}"; do
        expect "$how: incetl.verify($t) is clean after the writes" 0 \
            "$(q "$db" "SELECT count(*) FROM incetl.verify('$t')")"
    done
}

restore_ok() {
    local what=$1
    shift
    if ! "$@" >"$WORKDIR/restore.log" 2>&1; then
        cat "$WORKDIR/restore.log" >&2
        fail "$what failed"
    fi
    expect "$what printed no warning or error" "" \
        "$(grep -Ei 'warning|error' "$WORKDIR/restore.log" || true)"
}

# --------------------------------------------------------------------------
# Custom format: serial restore, and parallel restore.
# --------------------------------------------------------------------------
pg_dump -Fc -d "$SRC_DB" -f "$WORKDIR/src.dump"

# the order pg_restore uses: rows of analytics.sales before the options,
# the others after (both paths of the restore are exercised)
order=$(pg_restore -l "$WORKDIR/src.dump" | grep 'TABLE DATA' |
        grep -Eo '(analytics sales|incetl cow_options|public orders)' | tr '\n' ',')
expect "TOC order: sales rows, options, orders rows" \
    "analytics sales,incetl cow_options,public orders," "$order"

createdb "${DBS[0]}"
restore_ok "pg_restore -Fc" pg_restore -d "${DBS[0]}" "$WORKDIR/src.dump"
# rows first: appended, then rewritten by the key when the options arrived;
# options first: the rows were loaded as upserts, no rewrite
expect "analytics.sales (rows before options) was rewritten by its key" "insert,rewrite" \
    "$(q "${DBS[0]}" "SELECT string_agg(operation, ',' ORDER BY commit_id) FROM incetl.commits('analytics.sales')")"
expect "public.orders (options before rows) was loaded as an upsert" "upsert" \
    "$(q "${DBS[0]}" "SELECT string_agg(operation, ',' ORDER BY commit_id) FROM incetl.commits('public.orders')")"
check_restored "${DBS[0]}" "custom format"

createdb "${DBS[1]}"
restore_ok "pg_restore -j 2" pg_restore -j 2 -d "${DBS[1]}" "$WORKDIR/src.dump"
check_restored "${DBS[1]}" "custom format, -j 2"

# --------------------------------------------------------------------------
# Plain format through psql.
# --------------------------------------------------------------------------
pg_dump -d "$SRC_DB" -f "$WORKDIR/src.sql"
createdb "${DBS[2]}"
restore_ok "psql < plain dump" psql -X -q -v ON_ERROR_STOP=1 -d "${DBS[2]}" -f "$WORKDIR/src.sql"
check_restored "${DBS[2]}" "plain format"

# --------------------------------------------------------------------------
# --schema-only, then --data-only.  The options are data of the extension:
# the schema-only restore has none, the data-only one brings them.
# --------------------------------------------------------------------------
pg_dump -Fc --schema-only -d "$SRC_DB" -f "$WORKDIR/schema.dump"
pg_dump -Fc --data-only -d "$SRC_DB" -f "$WORKDIR/data.dump"
createdb "${DBS[3]}"
restore_ok "pg_restore --schema-only" pg_restore -d "${DBS[3]}" "$WORKDIR/schema.dump"
expect "schema-only: tables without options or rows" "0|0" \
    "$(q "${DBS[3]}" "SELECT count(*) FROM incetl.cow_options")|$(q "${DBS[3]}" \
        "SELECT count(*) FROM public.orders")"
restore_ok "pg_restore --data-only" pg_restore --data-only -d "${DBS[3]}" "$WORKDIR/data.dump"
check_restored "${DBS[3]}" "schema-only + data-only"

# --------------------------------------------------------------------------
# A role that is not a superuser but may read the user's tables can dump the
# database, options included (incetl.cow_options is readable by PUBLIC).
# --------------------------------------------------------------------------
psql -X -q -d postgres -c "DROP ROLE IF EXISTS $DUMP_ROLE" >/dev/null 2>&1
# (the pipeline layer's run_id sequence is not readable by PUBLIC)
q "$SRC_DB" "CREATE ROLE $DUMP_ROLE;
             GRANT USAGE ON SCHEMA public, analytics, zeta TO $DUMP_ROLE;
             GRANT SELECT ON ALL TABLES IN SCHEMA public, analytics, zeta TO $DUMP_ROLE;
             GRANT SELECT ON incetl.run_log_run_id_seq TO $DUMP_ROLE" >/dev/null
pg_dump -Fc --role="$DUMP_ROLE" -d "$SRC_DB" -f "$WORKDIR/role.dump"
expect "a non-superuser's dump carries the options" 4 \
    "$(pg_restore --data-only -t cow_options -f - "$WORKDIR/role.dump" |
       sed -n '/^COPY incetl.cow_options/,/^\\\./p' | grep -vc -e '^COPY' -e '^\\\.')"

# --------------------------------------------------------------------------
# The original database did not move.
# --------------------------------------------------------------------------
expect "the original options are untouched" "$src_options" "$(options_of "$SRC_DB")"
expect "the original rows are untouched" "$src_rows" "$(rows_of "$SRC_DB")"

echo "cow_dump_restore: all assertions passed"
