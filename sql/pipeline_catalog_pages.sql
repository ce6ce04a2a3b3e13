-- A run reads its pipeline's definition and watermark by name
-- (src/pipeline/pipeline_catalog.c, FetchByTextKey): through the primary
-- key when the catalog has more than one page, by scanning its one page
-- otherwise.  The other tests have a few pipelines (one page); here 150,
-- so that both incetl.pipelines and incetl.watermarks grow past a page,
-- and runs of the first, a middle and the last pipeline find their own
-- rows, and only theirs, either way.
CREATE SCHEMA pcp;
CREATE TABLE pcp.src (id int PRIMARY KEY, val text, version bigint NOT NULL);
INSERT INTO pcp.src SELECT g, 'v' || g, g FROM generate_series(1, 5) AS g;

-- one page: a run before the catalogs grow
SELECT pg_relation_size('incetl.pipelines') <= 8192 AS pipelines_one_page,
       pg_relation_size('incetl.watermarks') <= 8192 AS watermarks_one_page;
SELECT incetl.create_pipeline('pcp_first_of_many', 'pcp.src', 'version',
                              'pcp.dst_first', 'id');
SELECT incetl_run('pcp_first_of_many');

SET client_min_messages = warning;
DO $$
BEGIN
    FOR i IN 1 .. 150 LOOP
        PERFORM incetl.create_pipeline(
            format('pcp_pipeline_with_a_long_name_to_fill_pages_%s', i),
            'pcp.src', 'version', format('pcp.dst_%s', i), 'id');
    END LOOP;
END
$$;
-- every pipeline's first run writes its watermark row
DO $$
BEGIN
    FOR i IN 1 .. 150 LOOP
        PERFORM incetl_run(format('pcp_pipeline_with_a_long_name_to_fill_pages_%s', i));
    END LOOP;
END
$$;
RESET client_min_messages;
SELECT pg_relation_size('incetl.pipelines') > 8192 AS pipelines_several_pages,
       pg_relation_size('incetl.watermarks') > 8192 AS watermarks_several_pages;

-- new rows: each run finds its own definition and watermark
INSERT INTO pcp.src VALUES (6, 'v6', 6), (7, 'v7', 7);
SELECT incetl_run('pcp_first_of_many');
SELECT incetl_run('pcp_pipeline_with_a_long_name_to_fill_pages_75');
SELECT incetl_run('pcp_pipeline_with_a_long_name_to_fill_pages_150');
-- and again, nothing new
SELECT incetl_run('pcp_pipeline_with_a_long_name_to_fill_pages_150');
SELECT (SELECT count(*) FROM pcp.dst_first) AS first_rows,
       (SELECT count(*) FROM pcp.dst_75) AS middle_rows,
       (SELECT count(*) FROM pcp.dst_74) AS untouched_rows,
       (SELECT count(*) FROM pcp.dst_150) AS last_rows;
SELECT pipeline_name, watermark
FROM incetl.watermarks
WHERE pipeline_name IN ('pcp_first_of_many',
                        'pcp_pipeline_with_a_long_name_to_fill_pages_74',
                        'pcp_pipeline_with_a_long_name_to_fill_pages_75',
                        'pcp_pipeline_with_a_long_name_to_fill_pages_150')
ORDER BY pipeline_name;
SELECT pipeline_name, status, last_run_timestamp, current_run_timestamp, records_read
FROM incetl.run_log
WHERE pipeline_name IN ('pcp_first_of_many',
                        'pcp_pipeline_with_a_long_name_to_fill_pages_150')
ORDER BY run_id;

-- a role that owns none of them, with the catalogs past a page, may not
-- run one (found through the index, refused), and nothing moves
CREATE ROLE regress_pcp_low;
GRANT USAGE ON SCHEMA pcp TO regress_pcp_low;
INSERT INTO pcp.src VALUES (100, 'v100', 100);
SET ROLE regress_pcp_low;
\set VERBOSITY terse
SELECT incetl_run('pcp_pipeline_with_a_long_name_to_fill_pages_75');
\set VERBOSITY default
RESET ROLE;
SELECT watermark, (SELECT count(*) FROM pcp.dst_75) AS rows
FROM incetl.watermarks
WHERE pipeline_name = 'pcp_pipeline_with_a_long_name_to_fill_pages_75';
DELETE FROM pcp.src WHERE id = 100;

-- a name that is not there, near names that are
SELECT incetl_run('pcp_pipeline_with_a_long_name_to_fill_pages_151');
SELECT incetl_run('pcp_pipeline_with_a_long_name_to_fill_pages_');

-- a changed definition is read again (by then through the index)
SELECT incetl.alter_pipeline('pcp_pipeline_with_a_long_name_to_fill_pages_75',
                             transform => 'SELECT id, upper(val) AS val, version FROM batch');
INSERT INTO pcp.src VALUES (8, 'v8', 8);
SELECT incetl_run('pcp_pipeline_with_a_long_name_to_fill_pages_75');
SELECT id, val FROM pcp.dst_75 WHERE id >= 7 ORDER BY id;

-- after the pipelines are gone, the catalogs are one page again
DO $$
BEGIN
    FOR i IN 1 .. 150 LOOP
        PERFORM incetl.drop_pipeline(format('pcp_pipeline_with_a_long_name_to_fill_pages_%s', i));
    END LOOP;
END
$$;
VACUUM FULL incetl.pipelines;
VACUUM FULL incetl.watermarks;
SELECT pg_relation_size('incetl.pipelines') <= 8192 AS pipelines_one_page,
       pg_relation_size('incetl.watermarks') <= 8192 AS watermarks_one_page;
INSERT INTO pcp.src VALUES (9, 'v9', 9);
SELECT incetl_run('pcp_first_of_many');
SELECT count(*) AS first_rows FROM pcp.dst_first;
SELECT watermark FROM incetl.watermarks WHERE pipeline_name = 'pcp_first_of_many';
SELECT incetl.drop_pipeline('pcp_first_of_many');
SET client_min_messages = warning;
DROP SCHEMA pcp CASCADE;
RESET client_min_messages;
DROP ROLE regress_pcp_low;
