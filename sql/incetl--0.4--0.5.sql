/* incetl--0.4--0.5.sql -- ALTER EXTENSION incetl UPDATE from 0.4 to 0.5 */

\echo Use "ALTER EXTENSION incetl UPDATE TO '0.5'" to load this file. \quit

-- The current file groups of an incetl_cow table, one row each, in the
-- order a scan reads them: the file group, the commit that wrote this
-- version of it, its rows and first row number, its raw and stored bytes,
-- its pages, and the least and greatest value of the record key's first
-- column in it (as text; NULL without a record key, or when row-level
-- security applies to the caller).  Needs SELECT on the table.
CREATE FUNCTION incetl.file_groups(tbl regclass,
    OUT file_group_id bigint, OUT commit_id bigint, OUT rows bigint,
    OUT first_row_number bigint, OUT raw_bytes bigint, OUT stored_bytes bigint,
    OUT pages bigint, OUT key_min text, OUT key_max text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'incetl_cow_file_groups'
LANGUAGE C STRICT STABLE;
COMMENT ON FUNCTION incetl.file_groups(regclass) IS
    'the current file groups of an incetl_cow table: rows, bytes, pages and the record key''s range of each';
