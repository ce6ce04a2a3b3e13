/* incetl--0.3--0.4.sql -- ALTER EXTENSION incetl UPDATE from 0.3 to 0.4 */

\echo Use "ALTER EXTENSION incetl UPDATE TO '0.4'" to load this file. \quit

-- ------------------------------------------------------------------------
-- The shared frame cache (0.4): frames of incetl_cow column blocks that
-- lookups and key ranges decompressed, kept in shared memory for every
-- backend (incetl.cow_shared_cache_size).  Its size, the bytes of records
-- its arena holds, the frames it finds by key, and since the server
-- started: lookups that found their frame there (hits) and did not
-- (misses), records written and dropped to make room.  Zeroes when the
-- cache is off.  No row data: readable by every role, as pg_stat_* are.
-- ------------------------------------------------------------------------
CREATE FUNCTION incetl.cow_shared_cache_stats(OUT size_bytes bigint,
                                              OUT used_bytes bigint,
                                              OUT entries bigint,
                                              OUT hits bigint,
                                              OUT misses bigint,
                                              OUT writes bigint,
                                              OUT dropped bigint)
AS 'MODULE_PATHNAME', 'incetl_cow_shared_cache_stats'
LANGUAGE C STRICT VOLATILE;
COMMENT ON FUNCTION incetl.cow_shared_cache_stats() IS
    'the shared frame cache of incetl_cow tables: size, bytes used, entries, hits, misses, writes, dropped';
