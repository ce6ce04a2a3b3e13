-- Wide and odd values round-trip through incetl_cow exactly as through a
-- heap table: 200 kB text and bytea, big jsonb and arrays, NULL in every
-- column, and the built-in scalar types, special values included.
-- Each table's rows are compared with the heap copy by their text form.
CREATE SCHEMA cow_values;
SET search_path = cow_values, public;
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE TYPE pair AS (a int, b text);
CREATE DOMAIN posint AS int CHECK (VALUE > 0);

CREATE TABLE h (
    k int, b bool, i2 int2, i4 int4, i8 int8, f4 float4, f8 float8, n numeric,
    m money, ch char(5), vc varchar(20), t text, by bytea, d date, tm time,
    tmz timetz, ts timestamp, tsz timestamptz, iv interval, u uuid, ip inet,
    cidr_ cidr, mac macaddr, mac8 macaddr8, pt point, bx box, bt bit(8),
    vb varbit, tsv tsvector, js json, jb jsonb, x xml, r int4range,
    dr daterange, ai int[], at text[], aj jsonb[], o oid, nm name, e mood,
    cp pair, dm posint, ch1 "char", lsn pg_lsn, xid8_ xid8);
CREATE TABLE c (LIKE h) USING incetl_cow;
SELECT incetl.set_table_options('c', record_key => 'k');

INSERT INTO h VALUES
 (1, true, -32768, -2147483648, -9223372036854775808, 'NaN', '-Infinity', 'NaN',
  '-92233720368547758.08', 'ab', 'varchar', 'plain', '\x00ff', '-infinity', '00:00',
  '23:59:59.999999+14', 'infinity', '-infinity', '-178000000 years', '00000000-0000-0000-0000-000000000000',
  '::1', '10.0.0.0/8', '08:00:2b:01:02:03', '08:00:2b:01:02:03:04:05', '(1.5,-2)', '((0,0),(1,1))',
  B'10101010', B'1', 'a fat cat', '{"k": [1, "two", null]}', '{"k": [1, "two", null]}',
  '<a b="1">x</a>', '[1,10)', 'empty', '{1,NULL,3}', '{"",NULL,"a,b"}', ARRAY['{}'::jsonb, 'null'],
  4294967295, 'name', 'sad', ROW(1, 'one'), 1, 'x', '16/B374D848', '18446744073709551615'),
 (2, false, 32767, 2147483647, 9223372036854775807, '-0', 'Infinity', '1e-1000',
  '92233720368547758.07', 'abcde', '', E'tab\there\nnewline \\ back', '\x', 'infinity', '24:00',
  '00:00:00-15:59', '294276-12-31 23:59:59.999999', '4713-01-01 00:00:00 BC', '1 mon -1 day 1 sec',
  'ffffffff-ffff-ffff-ffff-ffffffffffff', '2001:db8::1/64', '2001:db8::/32', 'ff:ff:ff:ff:ff:ff',
  'ff:ff:ff:ff:ff:ff:ff:ff', '(1e300,-1e-300)', '((-1,-1),(1,1))', B'00000000', B'', '',
  '[]', '{}', '<?xml version="1.0"?><r/>', '(,)', '[2020-01-01,2021-01-01)', '{}', '{}', '{}',
  0, '', 'happy', ROW(NULL, NULL), 2147483647, E'\\001', '0/0', '0'),
 (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
-- wide values: 200 kB of incompressible text and bytea, a big jsonb, a long array
INSERT INTO h (k, t, by, jb, ai, at)
SELECT 4,
       (SELECT string_agg(md5(g::text), '') FROM generate_series(1, 6250) AS g),
       (SELECT decode(string_agg(md5(g::text || 'b'), ''), 'hex') FROM generate_series(1, 12500) AS g),
       (SELECT jsonb_object_agg('key' || g, repeat('v', g % 50)) FROM generate_series(1, 5000) AS g),
       (SELECT array_agg(g) FROM generate_series(1, 50000) AS g),
       (SELECT array_agg(md5(g::text)) FROM generate_series(1, 5000) AS g);
INSERT INTO c SELECT * FROM h;

SELECT octet_length(t) AS text_bytes, octet_length(by) AS bytea_bytes,
       cardinality(ai) AS array_len FROM c WHERE k = 4;
-- the same rows, by their text form, in both directions
SELECT count(*) AS differing FROM (
    (SELECT k, h::text FROM h EXCEPT SELECT k, c::text FROM c)
    UNION ALL
    (SELECT k, c::text FROM c EXCEPT SELECT k, h::text FROM h)) AS d;
-- and byte for byte for the wide ones
SELECT h.t = c.t AS same_text, h.by = c.by AS same_bytea, h.jb = c.jb AS same_jsonb,
       h.ai = c.ai AS same_array
FROM h JOIN c USING (k) WHERE k = 4;
-- every column of row 3 is NULL in the copy too
SELECT num_nulls(b, i2, i4, i8, f4, f8, n, m, ch, vc, t, by, d, tm, tmz, ts, tsz, iv, u, ip,
                 cidr_, mac, mac8, pt, bx, bt, vb, tsv, js, jb, x, r, dr, ai, at, aj, o, nm,
                 e, cp, dm, ch1, lsn, xid8_) AS nulls
FROM c WHERE k = 3;

-- an upsert rewrites the file group: the values survive the rewrite
INSERT INTO c (k, t) VALUES (5, 'new row');
SELECT count(*) AS differing FROM (
    SELECT k, h::text FROM h EXCEPT SELECT k, c::text FROM c) AS d;
SELECT count(*) AS problems FROM incetl.verify('c');

RESET search_path;
SET client_min_messages = warning;
DROP SCHEMA cow_values CASCADE;
