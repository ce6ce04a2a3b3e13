-- sql/include/heap_compare.sql: included (\i) by tests that run each statement
-- against a heap table and an incetl_cow table built alike.
--   try(q, tbl)       runs q with %1$s = tbl: 'ok <rows>' or the error's
--                     SQLSTATE, message and detail (tbl replaced by T)
--   rows_of(tbl)      the table's rows, sorted, as one text
--   compare(q, h, c)  try() on both, then their rows: 'same: ...' or
--                     'DIFFERENT: ...'
CREATE FUNCTION try(q text, tbl text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	st text;
	msg text;
	det text;
	n bigint;
BEGIN
	EXECUTE format(q, tbl);
	GET DIAGNOSTICS n = ROW_COUNT;
	RETURN 'ok ' || n;
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT,
		det = PG_EXCEPTION_DETAIL;
	RETURN replace(st || ' ' || msg || coalesce(' / ' || nullif(det, ''), ''), tbl, 'T');
END $$;

CREATE FUNCTION rows_of(tbl text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	r text;
BEGIN
	EXECUTE format('SELECT string_agg(x::text, '' '' ORDER BY x::text) FROM %s x', tbl) INTO r;
	RETURN coalesce(r, '(empty)');
END $$;

-- q with %1$s for the table: run on heap_tbl and cow_tbl, compare
CREATE FUNCTION compare(q text, heap_tbl text DEFAULT 'h1', cow_tbl text DEFAULT 'c1')
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	a text := try(q, heap_tbl);
	b text := try(q, cow_tbl);
	ra text := rows_of(heap_tbl);
	rb text := rows_of(cow_tbl);
BEGIN
	IF a IS DISTINCT FROM b OR ra IS DISTINCT FROM rb THEN
		RETURN format('DIFFERENT: heap %s [%s], cow %s [%s]', a, ra, b, rb);
	END IF;
	RETURN format('same: %s [%s]', a, ra);
END $$;
