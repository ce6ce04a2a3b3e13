--
-- incetl.cron_next_run(schedule, after): when pg_cron would next start a job.
--
-- Every "after" is fixed, so the output is stable.  Unless said otherwise it is
-- Tuesday 2026-11-24 07:21:13 UTC.  Fields are evaluated in UTC whatever the
-- session's TimeZone; these settings only fix how results print.
--
SET timezone = 'UTC';
SET datestyle = 'ISO, YMD';

-- Minutes and hours: "*", numbers, ranges, steps, lists.
SELECT n, schedule, incetl.cron_next_run(schedule, '2026-11-24 07:21:13+00') AS next_run
FROM (VALUES
    (1, '* * * * *'),            -- the next whole minute
    (2, '*/15 * * * *'),
    (3, '5 * * * *'),
    (4, '21 7 * * *'),           -- 07:21:00 today is already past
    (5, '22 7 * * *'),
    (6, '30 6 * * *'),
    (7, '10-20 7 * * *'),
    (8, '10-40/10 * * * *'),
    (9, '0,20,50 * * * *'),
    (10, '15 */6 * * *'),
    (11, '0 9-17/4 * * *'),
    (12, '*/7 7 * * *'),
    (13, '59 23 * * *'),
    (14, '0 0 * * *'),
    (15, E'  0   7 * *\t* ')       -- blanks and tabs around and between fields
) AS t(n, schedule)
ORDER BY n;

-- Days of month, months and days of week, with names in any case.
SELECT n, schedule, incetl.cron_next_run(schedule, '2026-11-24 07:21:13+00') AS next_run
FROM (VALUES
    (1, '0 0 1 * *'),
    (2, '0 0 31 * *'),           -- November has 30 days
    (3, '0 12 * * mon'),
    (4, '0 12 * * MON-wed'),
    (5, '0 9 * * mon-fri/2'),    -- Mon, Wed, Fri
    (6, '0 6 * * 0'),            -- Sunday ...
    (7, '0 6 * * 7'),            -- ... is 7 too
    (8, '0 6 * * Sun'),
    (9, '0 6 * * 5-7'),
    (10, '0 6 * * 6,7'),
    (11, '0 0 * jan *'),          -- into the next year
    (12, '0 0 * JAN-mar,Dec *'),
    (13, '0 0 * 2-4 *'),
    (14, '0 0 1 */5 *'),          -- months 1, 6, 11
    (15, '0 0 * 12 mon'),         -- day of month "*": every Monday in December
    (16, '59 23 31 12 *')
) AS t(n, schedule)
ORDER BY n;

-- Day of month and day of week both restricted: either one matching is
-- enough.  As in pg_cron (and Vixie cron), a field whose text starts with
-- "*" counts as unrestricted, so then both must match (case 5).
SELECT n, schedule, incetl.cron_next_run(schedule, '2026-11-24 07:21:13+00') AS next_run
FROM (VALUES
    (1, '0 0 13 * fri'),          -- Friday the 27th comes before the 13th
    (2, '0 0 25 * mon'),          -- the 25th comes before Monday the 30th
    (3, '0 0 1 * mon'),
    (4, '0 0 1-7 * sun'),         -- not "first Sunday": any of 1-7 or any Sunday
    (5, '0 0 */2 * mon'),         -- odd days AND Mondays
    (6, '0 0 31 2 mon')           -- no Feb 31, but Feb Mondays
) AS t(n, schedule)
ORDER BY n;

-- Macros.
SELECT n, schedule, incetl.cron_next_run(schedule, '2026-11-24 07:21:13+00') AS next_run
FROM (VALUES
    (1, '@yearly'),
    (2, '@annually'),
    (3, '@monthly'),
    (4, '@weekly'),
    (5, '@daily'),
    (6, '@midnight'),
    (7, '@hourly'),
    (8, '@reboot')                -- runs when the scheduler starts: no time
) AS t(n, schedule)
ORDER BY n;

-- Interval jobs: "after" truncated to the second, plus N seconds.
SELECT n, schedule, after, incetl.cron_next_run(schedule, after) AS next_run
FROM (VALUES
    (1, '30 seconds', '2026-11-24 07:21:13+00'::timestamptz),
    (2, '1 second', '2026-11-24 07:21:13+00'),
    (3, '59 Seconds', '2026-11-24 07:21:13+00'),
    (4, ' 5seconds ', '2026-11-24 07:21:13+00'),
    (5, '30 seconds', '2026-11-24 07:21:13.75+00'),
    (6, '1 second', '2026-11-24 07:21:59.5+00')
) AS t(n, schedule, after)
ORDER BY n;

-- Boundaries: exact minutes, month, year and leap-year rollover, instants
-- before 2000, infinity.
SELECT n, schedule, after, incetl.cron_next_run(schedule, after) AS next_run
FROM (VALUES
    (1, '* * * * *', '2026-11-24 07:21:00+00'::timestamptz),  -- strictly after
    (2, '0 0 * * *', '2026-11-24 23:59:59.999999+00'),
    (3, '59 23 31 12 *', '2026-12-31 23:59:00+00'),
    (4, '0 0 31 * *', '2027-01-31 12:00:00+00'),              -- skips February
    (5, '0 0 * * *', '2028-02-28 12:00:00+00'),
    (6, '30 2 * * *', '2027-02-28 23:00:00+00'),
    (7, '0 0 29 2 *', '2026-11-24 07:21:13+00'),
    (8, '0 12 29 feb *', '2028-02-29 12:00:00+00'),
    (9, '0 0 29 2 *', '2096-03-01 00:00:00+00'),              -- 2100 is no leap year
    (10, '0 0 29 2 */7', '2026-11-24 07:21:13+00'),           -- Feb 29 AND Sunday
    (11, '0 0 * * *', '1999-12-31 23:59:59+00'),
    (12, '*/10 * * * *', '1969-07-20 20:17:40+00'),
    (13, '0 0 * * *', 'infinity'),
    (14, '0 0 * * *', '-infinity')
) AS t(n, schedule, after)
ORDER BY n;

-- Schedules that can never fire return NULL (and return quickly).
SELECT n, schedule, incetl.cron_next_run(schedule, '2026-11-24 07:21:13+00') AS next_run
FROM (VALUES
    (1, '0 0 31 2 *'),
    (2, '0 0 30 2 *'),
    (3, '0 0 31 4,6,9,11 *'),
    (4, '0 5-1 * * *'),           -- a reversed range selects nothing, as in pg_cron
    (5, '0 0 * * sat-sun')        -- 6-0: nothing
) AS t(n, schedule)
ORDER BY n;

-- The answer does not depend on the session time zone.
SET timezone = 'America/New_York';
SELECT incetl.cron_next_run('0 0 * * *', '2026-11-24 07:21:13+00') AS next_run;
SET timezone = 'UTC';

-- "after" defaults to now(); NULL in, NULL out.
SELECT incetl.cron_next_run('* * * * *') > now() AS in_future,
       incetl.cron_next_run('* * * * *') <= now() + interval '1 minute' AS within_a_minute,
       incetl.cron_next_run(NULL, now()) IS NULL AS null_schedule,
       incetl.cron_next_run('* * * * *', NULL) IS NULL AS null_after;

-- Invalid schedules: the full error ...
SELECT incetl.cron_next_run('', '2026-11-24 07:21:13+00');
SELECT incetl.cron_next_run('* * * *', '2026-11-24 07:21:13+00');
SELECT incetl.cron_next_run('60 * * * *', '2026-11-24 07:21:13+00');

-- ... and, for the rest, what the DETAIL says.  Only SQLSTATE 22023
-- (invalid_parameter_value) is caught here.
CREATE FUNCTION pg_temp.cron_error(schedule text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    msg text;
    detail text;
BEGIN
    PERFORM incetl.cron_next_run(schedule, '2026-11-24 07:21:13+00');
    RETURN 'accepted';
EXCEPTION WHEN invalid_parameter_value THEN
    GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT, detail = PG_EXCEPTION_DETAIL;
    IF msg <> format('invalid cron schedule: "%s"', schedule) THEN
        RETURN 'unexpected message: ' || msg;
    END IF;
    RETURN detail;
END
$$;

SELECT n, schedule, pg_temp.cron_error(schedule) AS detail
FROM (VALUES
    (1, '   '),
    (2, '* * * * * *'),
    (3, 'hello world'),
    (4, '5 minutes'),
    (5, '* 24 * * *'),
    (6, '* * 0 * *'),
    (7, '* * 32 * *'),
    (8, '* * * 13 *'),
    (9, '* * * * 8'),
    (10, '1-60 * * * *'),
    (11, '99999999999 * * * *'),
    (12, '*/0 * * * *'),
    (13, '*/ * * * *'),
    (14, '5/10 * * * *'),
    (15, 'mon * * * *'),
    (16, '* * * * monday'),
    (17, '* * * january *'),
    (18, '1,,2 * * * *'),
    (19, '1- * * * *'),
    (20, '-1 * * * *'),
    (21, '1-2-3 * * * *'),
    (22, '*x * * * *'),
    (23, '5; * * * *'),
    (24, '@fortnightly'),
    (25, '@DAILY'),
    (26, '@daily extra'),
    (27, '@'),
    (28, '0 seconds'),
    (29, '60 seconds')
) AS t(n, schedule)
ORDER BY n;
