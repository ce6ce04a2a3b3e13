-- incetl_cow column chunk encodings (cow_encoding.c): every encoding
-- round-trips exactly -- compared with a heap copy by value (EXCEPT ALL
-- both ways) and by text form -- edge cases included; incetl.column_stats()
-- shows which encoding each chunk got, so each case below is known to hit
-- the encoding it is meant for; encoded chunks are much smaller.
CREATE SCHEMA cow_encoding;
SET search_path = cow_encoding, public;

-- differing(h, c): rows of h and c that differ, by value and by text form
\getenv abs_srcdir PG_ABS_SRCDIR
\set table_differing :abs_srcdir '/sql/include/table_differing.sql'
\i :table_differing

-- the encodings of a table's chunks, per column
CREATE FUNCTION encodings(c regclass)
RETURNS TABLE (column_name name, encodings text) LANGUAGE sql AS $$
    SELECT coalesce(column_name, '(commit id)'),
           string_agg(encoding || ' ' || chunks, ', ' ORDER BY encoding)
    FROM incetl.column_stats(c) GROUP BY attnum, column_name ORDER BY attnum $$;

-- 1000 rows in file groups of 100: every column sees several chunks.
-- Groups are numbered by grp = (k - 1) / 100, 0..9.
CREATE TABLE h (
    k bigint,           -- sequential key: int, delta of width 0
    wrap bigint,        -- crosses int64 max -> min inside group 4 (delta wraps)
    mix bigint,         -- unsorted, negative and positive; int64 min/max in group 0
    one bigint,         -- one distinct value: width 0
    onet text,          -- one distinct text: a dictionary of one, codes of width 0
    i4 int,             -- negative, NULL first and last in every group
    i2 smallint,
    b bool,
    ch "char",
    d date,             -- +-infinity in group 3
    tm time,
    ts timestamp,       -- +-infinity in group 5
    tz timestamptz,     -- near-sorted with jitter: delta
    o oid,              -- 4294967295 in group 2
    f8 float8,          -- plain (floats are not int-encoded); NaN, -0
    u uuid,             -- plain (fixed-length by reference)
    n2 numeric(12,2),   -- one scale: numeric
    nx numeric,         -- per group: fallbacks and edge cases, see below
    nneg numeric(8,-2), -- negative typmod scale: stored with scale 0
    st text,            -- few distinct values, '' among them: dictionary
    ord text,           -- 'order N <md5>': varlena, front-coded
    md text,            -- md5 or '' or long: varlena
    many text,          -- per group: 50 distinct (dictionary) or 60 (too many)
    nul text            -- NULL everywhere: null chunks
);
CREATE TABLE c (LIKE h) USING incetl_cow;
SELECT incetl.set_table_options('c', record_key => 'k', file_group_rows => 100);

INSERT INTO h
SELECT g,
       CASE WHEN g <= 450 THEN 9223372036854775807 - 450 + g
            ELSE -9223372036854775808 + (g - 451) END,
       CASE g WHEN 7 THEN -9223372036854775808 WHEN 8 THEN 9223372036854775807
              ELSE hashint4(g)::bigint * 1000003 END,
       42,
       'the same text',
       CASE WHEN g % 100 IN (0, 1) THEN NULL ELSE -3 * g + hashint4(g) % 10 END,
       (g % 200 - 100)::smallint,
       CASE WHEN g % 5 = 0 THEN NULL ELSE g % 3 = 0 END,
       chr(65 + g % 26)::"char",
       CASE g WHEN 300 THEN 'infinity' WHEN 301 THEN '-infinity'
              ELSE date '2020-01-01' + g END,
       time '00:00' + g * interval '1 minute',
       CASE g WHEN 555 THEN 'infinity' WHEN 556 THEN '-infinity'
              ELSE timestamp '2026-01-01' + g * interval '1 hour' END,
       timestamptz '2026-01-01 00:00+00' + g * interval '1 second'
           + (hashint4(g) % 1000) * interval '1 millisecond',
       CASE WHEN g = 250 THEN 4294967295 ELSE g * 1000 END::oid,
       CASE g WHEN 10 THEN 'NaN' WHEN 11 THEN '-0' ELSE g / 3.0 END,
       md5(g::text)::uuid,
       CASE WHEN g % 9 = 0 THEN NULL ELSE round(hashint4(g) / 1000.0, 2) END,
       CASE (g - 1) / 100
           WHEN 0 THEN CASE WHEN g % 2 = 0 THEN 1.5 ELSE 1.50 END    -- mixed scales
           WHEN 1 THEN CASE WHEN g % 10 = 0 THEN 'NaN' ELSE g * 0.25 END
           WHEN 2 THEN CASE g % 3 WHEN 0 THEN 'Infinity'::numeric WHEN 1 THEN '-Infinity' ELSE g END
           WHEN 3 THEN g * 1e20                                    -- too big
           WHEN 4 THEN CASE g % 3 WHEN 0 THEN 9999999999999999     -- largest that fits
                                  WHEN 1 THEN -9999999999999999 ELSE g - 450 END
           WHEN 5 THEN g * 0.000001                                -- weight < 0
           WHEN 6 THEN -g                                          -- negative, scale 0
           WHEN 7 THEN CASE g % 3 WHEN 0 THEN '-0.00'::numeric WHEN 1 THEN '0.00' ELSE g * 0.01 END
           WHEN 8 THEN g * 1e-20                                   -- scale 20
           ELSE NULL END,                                          -- all NULL
       round(hashint4(g) / 10, -2),
       CASE WHEN g % 11 = 0 THEN NULL
            ELSE (ARRAY['new', 'paid', 'shipped', '', 'cancelled'])[1 + abs(hashint4(g)) % 5] END,
       'order ' || g || ' ' || md5(g::text),
       CASE WHEN g % 13 = 0 THEN '' WHEN g = 777 THEN repeat(md5('x'), 2000)
            WHEN g % 7 = 0 THEN NULL ELSE md5(g::text) END,
       'value number ' || CASE WHEN (g - 1) / 100 % 2 = 0 THEN g % 50 ELSE g % 60 END,
       NULL
FROM generate_series(1, 1000) AS g;
INSERT INTO c SELECT * FROM h;

SELECT * FROM differing('h', 'c');
SELECT * FROM encodings('c');
-- 'order N <md5>' shares 'order N' with the previous value: front coding
-- stores fewer bytes than the values have (whole, they would take more)
SELECT encoded_bytes < 0.9 * (SELECT sum(octet_length(ord)) FROM c) AS front_coded
FROM incetl.column_stats('c') WHERE column_name = 'ord';
-- numeric: also the binary form (weight, scale, digits)
SELECT count(*) AS numeric_send_differs
FROM h JOIN c USING (k)
WHERE numeric_send(h.n2) IS DISTINCT FROM numeric_send(c.n2)
   OR numeric_send(h.nx) IS DISTINCT FROM numeric_send(c.nx)
   OR numeric_send(h.nneg) IS DISTINCT FROM numeric_send(c.nneg);
-- a few values by eye
SELECT k, wrap, mix, nx, d, ts FROM c WHERE k IN (7, 8, 300, 450, 451, 555, 601, 733, 899)
ORDER BY k;
SELECT k, length(md) AS md_len, st, ord FROM c WHERE k IN (1, 13, 777, 1000) ORDER BY k;

-- min/max of numeric chunks (from the scaled integers when encoded, else
-- by comparing numerics) skip file groups without losing rows
SELECT (SELECT count(*) FROM c WHERE nx BETWEEN 0.0004 AND 0.00055) AS cow,
       (SELECT count(*) FROM h WHERE nx BETWEEN 0.0004 AND 0.00055) AS heap;
SELECT file_groups_read, file_groups_skipped FROM incetl.cow_last_scan();
SELECT (SELECT count(*) FROM c WHERE nx > 9999999999999998) AS cow,
       (SELECT count(*) FROM h WHERE nx > 9999999999999998) AS heap;
SELECT (SELECT count(*) FROM c WHERE n2 < -2000000) AS cow,
       (SELECT count(*) FROM h WHERE n2 < -2000000) AS heap;

-- a rewrite re-encodes decoded values: the same again after an upsert that
-- touches every group, an UPDATE and a DELETE
UPDATE h SET (wrap, mix, one, onet, i4, i2, b, ch, d, tm, ts, tz, o, f8, u, n2, nx, nneg,
              st, ord, md, many, nul) =
    (SELECT wrap, mix, one, onet, i4, i2, b, ch, d, tm, ts, tz, o, f8, u, n2, nx, nneg,
            st, ord, md, many, nul FROM h p WHERE p.k = h.k - 1)
WHERE k % 100 = 51;
INSERT INTO c SELECT k + 1, wrap, mix, one, onet, i4, i2, b, ch, d, tm, ts, tz, o, f8, u, n2, nx, nneg,
                     st, ord, md, many, nul FROM c WHERE k % 100 = 50;
UPDATE h SET nx = 'NaN', st = NULL WHERE k = 405;
UPDATE c SET nx = 'NaN', st = NULL WHERE k = 405;
DELETE FROM h WHERE k BETWEEN 640 AND 660;
DELETE FROM c WHERE k BETWEEN 640 AND 660;
SELECT * FROM differing('h', 'c');
SELECT count(*) AS problems FROM incetl.verify('c');

-- min/max of every kind of chunk, after that rewrite: integer-like columns
-- (found by a loop over the values), numerics (from the scaled integers),
-- dictionary blocks (from their distinct values) and the rest (by the
-- comparator).  Each qual counts what heap counts; those that fall in a few
-- groups skip the others (the sequential scan's skipping: pushdown off).
SET incetl.cow_aggregate_pushdown = off;
CREATE FUNCTION skips(qual text, OUT cow bigint, OUT heap bigint, OUT skipped bigint)
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE 'SELECT count(*) FROM c WHERE ' || qual INTO cow;
    SELECT file_groups_skipped INTO skipped FROM incetl.cow_last_scan();
    EXECUTE 'SELECT count(*) FROM h WHERE ' || qual INTO heap;
END $$;
SELECT q, s.*
FROM unnest(ARRAY['mix = -9223372036854775808', 'mix = 9223372036854775807',
                  'i4 < -2900', 'i2 = 99', 'd >= ''infinity''', 'd < ''2020-01-05''',
                  'ts = ''-infinity''', 'tm > ''16:00''', 'tz < ''2026-01-02''',
                  'o = 4294967295', 'ch = ''Z''', 'n2 < 0', 'st = ''''', 'st > ''zzz''',
                  'many = ''value number 7''', 'onet <> ''the same text''', 'ord < ''order 2''',
                  'md > ''ffff''', 'f8 > 1e300']) AS q,
     skips(q) AS s;
RESET incetl.cow_aggregate_pushdown;

-- a file group of one row, and one whose only non-NULL value is in its
-- last row
CREATE TABLE h1 (k int, a bigint, n numeric, t text);
CREATE TABLE c1 (LIKE h1) USING incetl_cow;
SELECT incetl.set_table_options('c1', record_key => 'k');
INSERT INTO h1 VALUES (1, -9223372036854775808, 0.001, '');
INSERT INTO c1 SELECT * FROM h1;
SELECT * FROM c1;
SELECT * FROM encodings('c1');
CREATE TABLE h2 (LIKE h1);
CREATE TABLE c2 (LIKE h1) USING incetl_cow;
SELECT incetl.set_table_options('c2', record_key => 'k');
INSERT INTO h2 SELECT g, CASE WHEN g = 500 THEN 5 END, CASE WHEN g = 500 THEN 5.5 END,
                      CASE WHEN g = 500 THEN 'last' END
FROM generate_series(1, 500) g;
INSERT INTO c2 SELECT * FROM h2;
SELECT * FROM differing('h1', 'c1');
SELECT * FROM differing('h2', 'c2');
SELECT * FROM encodings('c2');

-- a block's dictionary has at most one entry per two of its values: 800
-- distinct values per block (of 4096 rows, and the last of 1808) take one,
-- 4096 do not
CREATE TABLE hd (k int, t text);
CREATE TABLE cd (LIKE hd) USING incetl_cow;
SELECT incetl.set_table_options('cd', record_key => 'k', file_group_rows => 10000);
INSERT INTO hd SELECT g, 'value ' || (g % 800) FROM generate_series(1, 10000) g;
INSERT INTO hd SELECT g, 'value ' || (g % 5000) FROM generate_series(10001, 20000) g;
INSERT INTO cd SELECT * FROM hd;
SELECT * FROM differing('hd', 'cd');
SELECT * FROM encodings('cd');

-- sizes: 100,000 rows of a sequential bigint, and of a 5-value text column
-- (the format before the encodings stored about 100 kB and 210 kB; the
-- directory of the 25 blocks of each chunk takes 600 bytes)
CREATE TABLE cs (id bigint, status text) USING incetl_cow;
SELECT incetl.set_table_options('cs', record_key => 'id');
INSERT INTO cs SELECT g, (ARRAY['new', 'paid', 'shipped', 'delivered', 'cancelled'])[1 + abs(hashint4(g)) % 5]
FROM generate_series(1, 100000) g;
SELECT column_name, encoding,
       CASE WHEN column_name = 'id' THEN stored_bytes < 2000
            ELSE stored_bytes < 50000 END AS small
FROM incetl.column_stats('cs') ORDER BY attnum;
SELECT compressed_bytes < 60000 AS table_small FROM incetl.table_stats('cs');
SELECT count(DISTINCT status) AS statuses, sum(id) FROM cs;

-- every table decodes cleanly
SELECT count(*) AS problems
FROM unnest(ARRAY['c', 'c1', 'c2', 'cd', 'cs']) AS t, incetl.verify(t::regclass);

RESET search_path;
SET client_min_messages = warning;
DROP SCHEMA cow_encoding CASCADE;
