-- sql/include/heap_differing.sql: included (\i) by tests that check each
-- query against heap, on a heap table and incetl_cow tables built alike
-- (a query's %s is the table's name):
--   differing(q, h, c)  rows of query q on table h and on table c that
--                       differ, both ways (EXCEPT ALL)
--   heap_rows(q)        rows of query q on table h
CREATE FUNCTION differing(q text, h text, c text) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    n bigint;
BEGIN
    EXECUTE format('SELECT (SELECT count(*) FROM (%1$s EXCEPT ALL %2$s) a)
                         + (SELECT count(*) FROM (%2$s EXCEPT ALL %1$s) b)',
                   format(q, h), format(q, c))
        INTO n;
    RETURN n;
END $$;

CREATE FUNCTION heap_rows(q text) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    n bigint;
BEGIN
    EXECUTE format('SELECT count(*) FROM (%s) a', format(q, 'h')) INTO n;
    RETURN n;
END $$;
