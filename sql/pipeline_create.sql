-- create_pipeline: what is stored, what is created, and every refusal.
-- Each refusal must leave nothing behind.
SET client_min_messages = notice;
CREATE SCHEMA pc;
CREATE TABLE pc.orders (
    order_id    bigint PRIMARY KEY,
    customer_id bigint,
    amount      numeric(12,2),
    status      text,
    flags       boolean,
    doc         jsonb,
    seq         integer,
    day         date,
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE VIEW pc.orders_v AS SELECT * FROM pc.orders;

-- a valid pipeline; the missing target is created USING incetl_cow with
-- the pipeline's record key and precombine as its table options
SELECT incetl.create_pipeline(
    name             => 'pc_orders',
    source           => 'pc.orders',
    watermark_column => 'updated_at',
    target           => 'pc.orders_copy',
    record_key       => 'order_id',
    precombine       => 'updated_at',
    transform        => $$ SELECT order_id, customer_id, amount, status, updated_at,
                                  current_date AS processing_date
                           FROM batch $$,
    settings         => '{"work_mem": "8MB"}',
    max_batch_rows   => 500,
    max_retries      => 2,
    retry_delay      => '10 ms',
    safety_lag       => '1 second');
\d pc.orders_copy
SELECT a.amname FROM pg_class AS c JOIN pg_am AS a ON a.oid = c.relam
WHERE c.oid = 'pc.orders_copy'::regclass;
SELECT record_key, precombine, delete_marker FROM incetl.table_options('pc.orders_copy');
SELECT name, source, watermark_column, watermark_type, target, record_key, precombine,
       schedule, delete_marker, settings, max_batch_rows, max_retries, retry_delay,
       safety_lag, owner = current_user::regrole AS owned, enabled, search_path
FROM incetl.pipelines WHERE name = 'pc_orders';
-- no watermark until a run succeeds
SELECT count(*) FROM incetl.watermarks WHERE pipeline_name = 'pc_orders';

-- a view source, quoted names and a composite key into an existing target
CREATE TABLE pc."Order Copy" ("Order Id" bigint, customer_id bigint, amount numeric(12,2),
                              status text, updated_at timestamptz,
                              PRIMARY KEY ("Order Id", customer_id));
SELECT incetl.create_pipeline('pc_quoted', 'pc.orders_v', 'updated_at', 'pc."Order Copy"',
    '"Order Id", customer_id', transform => $$SELECT order_id AS "Order Id", customer_id,
    amount, status, updated_at FROM batch;$$);
SELECT source, target, record_key FROM incetl.pipelines WHERE name = 'pc_quoted';

-- duplicate name
SELECT incetl.create_pipeline('pc_orders', 'pc.orders', 'updated_at', 'pc.orders_copy', 'order_id');
\echo :LAST_ERROR_SQLSTATE

-- names that are not pipeline names
SELECT incetl.create_pipeline('bad name; drop table pc.orders', 'pc.orders', 'updated_at', 'pc.x', 'order_id');
\echo :LAST_ERROR_SQLSTATE
SELECT incetl.create_pipeline('', 'pc.orders', 'updated_at', 'pc.x', 'order_id');
\echo :LAST_ERROR_SQLSTATE

-- missing source, missing target schema
SELECT incetl.create_pipeline('pc_bad', 'pc.nope', 'updated_at', 'pc.x', 'order_id');
\echo :LAST_ERROR_SQLSTATE
SELECT incetl.create_pipeline('pc_bad', 'pc.orders', 'updated_at', 'nope.x', 'order_id');
\echo :LAST_ERROR_SQLSTATE

-- relation names that try to inject SQL
SELECT incetl.create_pipeline('pc_bad', 'pc.orders; DROP TABLE pc.orders', 'updated_at', 'pc.x', 'order_id');
\echo :LAST_ERROR_SQLSTATE
SELECT incetl.create_pipeline('pc_bad', 'pc.orders', 'updated_at', 'pc.x(a int); DROP TABLE pc.orders; --', 'order_id');
\echo :LAST_ERROR_SQLSTATE

-- missing watermark column, record key column, precombine column
SELECT incetl.create_pipeline('pc_bad', 'pc.orders', 'changed_at', 'pc.x', 'order_id');
\echo :LAST_ERROR_SQLSTATE
SELECT incetl.create_pipeline('pc_bad', 'pc.orders', 'updated_at', 'pc.x', 'id');
\echo :LAST_ERROR_SQLSTATE
SELECT incetl.create_pipeline('pc_bad', 'pc.orders', 'updated_at', 'pc.x', 'order_id', precombine => 'version');
\echo :LAST_ERROR_SQLSTATE
-- a column name that tries to inject SQL
SELECT incetl.create_pipeline('pc_bad', 'pc.orders', 'updated_at) OR (true', 'pc.x', 'order_id');
\echo :LAST_ERROR_SQLSTATE
SELECT incetl.create_pipeline('pc_bad', 'pc.orders', 'updated_at', 'pc.x', 'order_id; drop table pc.orders');
\echo :LAST_ERROR_SQLSTATE

-- watermark columns whose type cannot be a watermark
SELECT incetl.create_pipeline('pc_bad', 'pc.orders', 'status', 'pc.x', 'order_id');
\echo :LAST_ERROR_SQLSTATE
SELECT incetl.create_pipeline('pc_bad', 'pc.orders', 'flags', 'pc.x', 'order_id');
\echo :LAST_ERROR_SQLSTATE
SELECT incetl.create_pipeline('pc_bad', 'pc.orders', 'doc', 'pc.x', 'order_id');
\echo :LAST_ERROR_SQLSTATE

-- transforms: a syntax error, two statements, not a SELECT, no record key,
-- an unknown column, a delete marker that is not boolean
SELECT incetl.create_pipeline('pc_bad', 'pc.orders', 'updated_at', 'pc.x', 'order_id',
    transform => 'SELEC order_id FROM batch');
\echo :LAST_ERROR_SQLSTATE
SELECT incetl.create_pipeline('pc_bad', 'pc.orders', 'updated_at', 'pc.x', 'order_id',
    transform => 'SELECT * FROM batch; DROP TABLE pc.orders');
\echo :LAST_ERROR_SQLSTATE
SELECT incetl.create_pipeline('pc_bad', 'pc.orders', 'updated_at', 'pc.x', 'order_id',
    transform => 'DELETE FROM pc.orders');
\echo :LAST_ERROR_SQLSTATE
SELECT incetl.create_pipeline('pc_bad', 'pc.orders', 'updated_at', 'pc.x', 'order_id',
    transform => 'SELECT customer_id, amount FROM batch');
\echo :LAST_ERROR_SQLSTATE
SELECT incetl.create_pipeline('pc_bad', 'pc.orders', 'updated_at', 'pc.x', 'order_id',
    transform => 'SELECT order_id, no_such_column FROM batch');
\echo :LAST_ERROR_SQLSTATE
SELECT incetl.create_pipeline('pc_bad', 'pc.orders', 'updated_at', 'pc.x', 'order_id',
    transform => 'SELECT order_id FROM batch) x; DROP TABLE pc.orders; SELECT (1');
\echo :LAST_ERROR_SQLSTATE
SELECT incetl.create_pipeline('pc_bad', 'pc.orders', 'updated_at', 'pc.x', 'order_id',
    delete_marker => 'status');
\echo :LAST_ERROR_SQLSTATE

-- an existing target that cannot take the rows
CREATE TABLE pc.no_key (order_id bigint, customer_id bigint, amount numeric(12,2),
                        status text, flags boolean, doc jsonb, seq integer, day date,
                        updated_at timestamptz);
SELECT incetl.create_pipeline('pc_bad', 'pc.orders', 'updated_at', 'pc.no_key', 'order_id');
\echo :LAST_ERROR_SQLSTATE
CREATE TABLE pc.narrow (order_id bigint PRIMARY KEY);
SELECT incetl.create_pipeline('pc_bad', 'pc.orders', 'updated_at', 'pc.narrow', 'order_id');
\echo :LAST_ERROR_SQLSTATE
SELECT incetl.create_pipeline('pc_bad', 'pc.orders', 'updated_at', 'pc.orders_v', 'order_id');
\echo :LAST_ERROR_SQLSTATE

-- bad limits and settings
SELECT incetl.create_pipeline('pc_bad', 'pc.orders', 'updated_at', 'pc.x', 'order_id', max_retries => -1);
\echo :LAST_ERROR_SQLSTATE
SELECT incetl.create_pipeline('pc_bad', 'pc.orders', 'updated_at', 'pc.x', 'order_id', max_batch_rows => -5);
\echo :LAST_ERROR_SQLSTATE
SELECT incetl.create_pipeline('pc_bad', 'pc.orders', 'seq', 'pc.x', 'order_id', safety_lag => '1 minute');
\echo :LAST_ERROR_SQLSTATE
SELECT incetl.create_pipeline('pc_bad', 'pc.orders', 'updated_at', 'pc.x', 'order_id',
    settings => '{"work_mem": "lots"}');
\echo :LAST_ERROR_SQLSTATE
SELECT incetl.create_pipeline('pc_bad', 'pc.orders', 'updated_at', 'pc.x', 'order_id',
    settings => '{"no_such_setting": "1"}');
\echo :LAST_ERROR_SQLSTATE
SELECT incetl.create_pipeline('pc_bad', 'pc.orders', 'updated_at', 'pc.x', 'order_id',
    settings => '{"search_path": "evil"}');
\echo :LAST_ERROR_SQLSTATE
SELECT incetl.create_pipeline(NULL, 'pc.orders', 'updated_at', 'pc.x', 'order_id');
\echo :LAST_ERROR_SQLSTATE
-- the settings of every environment are checked now, not when that
-- environment first runs
SELECT incetl.create_pipeline('pc_bad', 'pc.orders', 'updated_at', 'pc.x', 'order_id',
    settings => '{"production": {"role": "postgres"}}');
\echo :LAST_ERROR_SQLSTATE
SELECT incetl.create_pipeline('pc_bad', 'pc.orders', 'updated_at', 'pc.x', 'order_id',
    settings => '{"work_mem": "8MB", "staging": {"work_mem": "lots"}}');
\echo :LAST_ERROR_SQLSTATE
SELECT incetl.create_pipeline('pc_bad', 'pc.orders', 'updated_at', 'pc.x', 'order_id',
    settings => '{"production": {"work_mem": ["1GB"]}}');
\echo :LAST_ERROR_SQLSTATE
-- a parameter only a superuser may set, in an environment of a
-- non-superuser's pipeline
CREATE ROLE regress_pc_user;
GRANT USAGE ON SCHEMA pc TO regress_pc_user;
GRANT SELECT ON pc.orders TO regress_pc_user;
SET ROLE regress_pc_user;
SELECT incetl.create_pipeline('pc_bad', 'pc.orders', 'updated_at', 'pc.x', 'order_id',
    settings => '{"production": {"log_min_duration_statement": "0"}}');
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
REVOKE ALL ON SCHEMA pc FROM regress_pc_user;
REVOKE ALL ON pc.orders FROM regress_pc_user;
DROP ROLE regress_pc_user;
-- an empty name in a list is refused, not skipped
SELECT incetl.create_pipeline('pc_bad', 'pc.orders', 'updated_at', 'pc.x', ',');
\echo :LAST_ERROR_SQLSTATE
SELECT incetl.create_pipeline('pc_bad', 'pc.orders', 'updated_at', 'pc.x', 'order_id,');
\echo :LAST_ERROR_SQLSTATE

-- nothing of the refused pipelines exists, and the source is intact
SELECT name FROM incetl.pipelines WHERE name LIKE 'pc_%' ORDER BY name;
SELECT to_regclass('pc.x') IS NULL AS no_target_created, count(*) AS source_rows FROM pc.orders;

-- alter_pipeline re-validates; NULL keeps, '' clears
SELECT incetl.alter_pipeline('pc_orders', precombine => 'nope');
\echo :LAST_ERROR_SQLSTATE
-- an incetl_cow target upserts by its own options, which must agree
SELECT incetl.alter_pipeline('pc_orders', precombine => '', max_batch_rows => 1000);
\echo :LAST_ERROR_SQLSTATE
SELECT incetl.set_table_options('pc.orders_copy', precombine => '');
SELECT incetl.alter_pipeline('pc_orders', precombine => '', max_batch_rows => 1000);
SELECT precombine, max_batch_rows, max_retries FROM incetl.pipelines WHERE name = 'pc_orders';
SELECT incetl.alter_pipeline('pc_nope', max_retries => 1);
\echo :LAST_ERROR_SQLSTATE
SELECT incetl.alter_pipeline('pc_orders',
    settings => '{"work_mem": "8MB", "production": {"session_authorization": "postgres"}}');
\echo :LAST_ERROR_SQLSTATE
SELECT settings FROM incetl.pipelines WHERE name = 'pc_orders';

-- quoted identifiers end to end: a mixed-case record key creates its
-- incetl_cow target, runs, and set_table_options reads names the same way
CREATE TABLE pc."Orders" ("OrderId" int, "Amount" int, "UpdatedAt" timestamptz NOT NULL);
INSERT INTO pc."Orders" VALUES (1, 10, now() - interval '1 hour'), (1, 11, now() - interval '50 minutes');
SELECT incetl.create_pipeline('pc_mixed', 'pc."Orders"', '"UpdatedAt"', 'pc."OrdersCopy"', '"OrderId"',
    precombine => '"UpdatedAt"');
SELECT incetl_run('pc_mixed');
SELECT * FROM incetl.table_options('pc."OrdersCopy"');
SELECT "OrderId", "Amount" FROM pc."OrdersCopy";
-- an unquoted name is folded to lower case, unless a column is spelled
-- exactly so (as incetl 0.1 read every name)
SELECT incetl.set_table_options('pc."OrdersCopy"', record_key => 'ORDERID');
\echo :LAST_ERROR_SQLSTATE
SELECT incetl.set_table_options('pc."OrdersCopy"', record_key => 'OrderId', precombine => 'UpdatedAt');
SELECT incetl.set_table_options('pc."OrdersCopy"', record_key => '"OrderId", "Amount"');
SELECT record_key FROM incetl.table_options('pc."OrdersCopy"');
SELECT incetl.set_table_options('pc."OrdersCopy"', record_key => ',');
\echo :LAST_ERROR_SQLSTATE
SELECT incetl.set_table_options('pc."OrdersCopy"', record_key => '"OrderId",,');
\echo :LAST_ERROR_SQLSTATE
SELECT incetl.set_table_options('pc."OrdersCopy"', precombine => '"UpdatedAt", "Amount"');
\echo :LAST_ERROR_SQLSTATE
SELECT record_key, precombine FROM incetl.table_options('pc."OrdersCopy"');
-- the hint to make the table agree with the pipeline quotes the names
SELECT incetl.alter_pipeline('pc_mixed', max_retries => 1);
\echo :LAST_ERROR_SQLSTATE
SELECT incetl.drop_pipeline('pc_mixed');

-- drop_pipeline; unknown names
SELECT incetl.drop_pipeline('pc_quoted');
SELECT incetl.drop_pipeline('pc_quoted');
\echo :LAST_ERROR_SQLSTATE
SELECT incetl_run('pc_nope');
\echo :LAST_ERROR_SQLSTATE
SELECT incetl.drop_pipeline('pc_orders');
SELECT count(*) FROM incetl.pipelines WHERE name LIKE 'pc_%';
DROP SCHEMA pc CASCADE;
