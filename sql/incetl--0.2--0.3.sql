/* incetl--0.2--0.3.sql -- ALTER EXTENSION incetl UPDATE from 0.2 to 0.3 */

\echo Use "ALTER EXTENSION incetl UPDATE TO '0.3'" to load this file. \quit

-- A pipeline whose source is an incetl_cow table may omit its watermark
-- column: it reads the source's change feed, the commit id its watermark.
ALTER TABLE incetl.pipelines
    ALTER COLUMN watermark_column DROP NOT NULL,
    ALTER COLUMN watermark_type DROP NOT NULL;
COMMENT ON COLUMN incetl.pipelines.watermark_column IS
    'NULL: the source is an incetl_cow table read through its change feed (the commit id is the watermark)';

-- ------------------------------------------------------------------------
-- The change feed (0.3).  Per commit in (since_commit, until_commit]: one
-- row per key the commit changed, with the operation (insert, update,
-- delete), the row before (NULL for an insert) and after (NULL for a
-- delete).  net_changes: one row per key changed in the range, its state
-- at since_commit against its state at until_commit (what a downstream
-- upsert needs).  Call as incetl.table_changes(NULL::my_table, 42).
-- ------------------------------------------------------------------------
CREATE FUNCTION incetl.table_changes(tbl anyelement, since_commit bigint,
                                     until_commit bigint DEFAULT NULL)
RETURNS TABLE (commit_id bigint, operation text, before anyelement, after anyelement)
AS 'MODULE_PATHNAME', 'incetl_cow_table_changes'
LANGUAGE C CALLED ON NULL INPUT STABLE;
COMMENT ON FUNCTION incetl.table_changes(anyelement, bigint, bigint) IS
    'change feed of an incetl_cow table: per commit and key, the operation and the row before and after';

CREATE FUNCTION incetl.net_changes(tbl anyelement, since_commit bigint,
                                   until_commit bigint DEFAULT NULL)
RETURNS TABLE (commit_id bigint, operation text, before anyelement, after anyelement)
AS 'MODULE_PATHNAME', 'incetl_cow_net_changes'
LANGUAGE C CALLED ON NULL INPUT STABLE;
COMMENT ON FUNCTION incetl.net_changes(anyelement, bigint, bigint) IS
    'net change per key of an incetl_cow table over a range of commits: the row at since_commit and at until_commit';

-- ------------------------------------------------------------------------
-- Savepoints and restore (0.3), Hudi's savepoint/restore.  A savepoint
-- pins a commit: cleaning keeps every version as_of() of it reads.
-- ------------------------------------------------------------------------
CREATE TABLE incetl.cow_savepoint (
    storage_id  bigint NOT NULL,
    commit_id   bigint NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    created_by  name NOT NULL DEFAULT current_user,
    comment     text,
    PRIMARY KEY (storage_id, commit_id)
);
COMMENT ON TABLE incetl.cow_savepoint IS
    'commits of incetl_cow tables pinned by incetl.savepoint(): cleaning keeps what as_of() of them reads';
REVOKE ALL ON incetl.cow_savepoint FROM PUBLIC;

CREATE FUNCTION incetl.savepoint(tbl regclass, commit_id bigint DEFAULT NULL,
                                 comment text DEFAULT NULL)
RETURNS bigint
AS 'MODULE_PATHNAME', 'incetl_cow_savepoint'
LANGUAGE C CALLED ON NULL INPUT VOLATILE;
COMMENT ON FUNCTION incetl.savepoint(regclass, bigint, text) IS
    'pin a commit of an incetl_cow table (the newest when NULL) so that cleaning keeps it readable; returns the commit id';

CREATE FUNCTION incetl.savepoints(tbl regclass)
RETURNS TABLE (commit_id bigint, committed_at timestamptz, operation text,
               created_at timestamptz, created_by name, comment text)
AS 'MODULE_PATHNAME', 'incetl_cow_savepoints'
LANGUAGE C STRICT STABLE;
COMMENT ON FUNCTION incetl.savepoints(regclass) IS 'the savepoints of an incetl_cow table';

CREATE FUNCTION incetl.remove_savepoint(tbl regclass, commit_id bigint)
RETURNS boolean
AS 'MODULE_PATHNAME', 'incetl_cow_remove_savepoint'
LANGUAGE C CALLED ON NULL INPUT VOLATILE;
COMMENT ON FUNCTION incetl.remove_savepoint(regclass, bigint) IS
    'remove a savepoint of an incetl_cow table; returns false when there was none';

CREATE FUNCTION incetl.restore(tbl regclass, commit_id bigint)
RETURNS bigint
AS 'MODULE_PATHNAME', 'incetl_cow_restore'
LANGUAGE C CALLED ON NULL INPUT VOLATILE;
COMMENT ON FUNCTION incetl.restore(regclass, bigint) IS
    'make the content of an incetl_cow table that of an earlier commit, as one new restore commit; returns its id';

