-- sql/include/table_differing.sql: included (\i) by tests that load the
-- same rows into a heap table and an incetl_cow table and compare them
-- whole:
--   differing(h, c)  rows of table h and of table c that differ, both
--                    ways (EXCEPT ALL): by_value compares the values,
--                    by_text their text forms (what a reader prints)
CREATE FUNCTION differing(h regclass, c regclass, OUT by_value bigint, OUT by_text bigint)
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('SELECT (SELECT count(*) FROM (TABLE %1$s EXCEPT ALL TABLE %2$s) a)
                         + (SELECT count(*) FROM (TABLE %2$s EXCEPT ALL TABLE %1$s) b)', h, c)
        INTO by_value;
    EXECUTE format('SELECT (SELECT count(*) FROM (SELECT x::text FROM %1$s x EXCEPT ALL SELECT y::text FROM %2$s y) a)
                         + (SELECT count(*) FROM (SELECT y::text FROM %2$s y EXCEPT ALL SELECT x::text FROM %1$s x) b)', h, c)
        INTO by_text;
END $$;
