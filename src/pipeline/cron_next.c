/*-------------------------------------------------------------------------
 *
 * cron_next.c
 *	  incetl.cron_next_run(schedule, after): the first instant strictly
 *	  after "after" at which pg_cron 1.4 would start a job with that
 *	  schedule.  It feeds the "next scheduled run" column of
 *	  incetl.pipeline_status, so it owns both a parser for pg_cron's
 *	  schedule syntax and the search for the next matching minute.
 *
 *	  Accepted, as pg_cron's parser (Vixie cron's entry.c) accepts it:
 *
 *	  - five whitespace-separated fields: minute (0-59), hour (0-23),
 *		day of month (1-31), month (1-12 or jan-dec), day of week (0-7 or
 *		sun-sat, 0 and 7 both Sunday); each a comma list of "*", "n" and
 *		"a-b", where "*" and "a-b" may take a step "/n"; names are three
 *		letters, any case, and may end a range ("mon-fri");
 *	  - @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly,
 *		and @reboot / @restart (run when the scheduler starts, so there is
 *		no next time: NULL);
 *	  - "N seconds" (or "N second"), 1 <= N <= 59, pg_cron's interval jobs.
 *
 *	  Matching follows pg_cron: fields are evaluated in UTC (pg_cron 1.4
 *	  uses gmtime()), and a day matches when its day of month OR its day
 *	  of week matches, unless either field is "starred", in which case
 *	  both must match.  Like Vixie cron, a field counts as starred when
 *	  its text begins with "*", so a stepped star ("*" then "/2") in day
 *	  of month still means "odd days AND the day-of-week field".  A
 *	  reversed range such as "5-1" selects nothing, as in pg_cron; a
 *	  schedule that can never fire returns NULL.
 *
 *	  Deliberately stricter than pg_cron 1.4.2, which silently ignores
 *	  text after the fifth field, after a macro, and after a valid value
 *	  inside a field ("5;x"): we reject all of those, and "#" comments.
 *	  pg_cron 1.4.2 itself does not know "N seconds" (1.5 added it); we
 *	  accept it so schedules written for newer pg_cron still get a time.
 *
 *	  pg_cron starts an interval job N seconds after its previous start,
 *	  which this function cannot see; it answers with "after" truncated
 *	  to the whole second plus N seconds: strictly after "after", and no
 *	  later than the next start of a job that started at "after".
 *
 *	  The search walks whole months and days, then hours and minutes via
 *	  bit masks, and gives up after one 400-year Gregorian cycle (after
 *	  which dates and weekdays repeat, so nothing later can match that
 *	  did not already): it always ends, and NULL means "never".
 *
 * Copyright (c) 2026, incetl developers
 *
 * IDENTIFICATION
 *	  src/pipeline/cron_next.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "datatype/timestamp.h"
#include "fmgr.h"
#include "port/pg_bitutils.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/timestamp.h"

#include "incetl.h"

PG_FUNCTION_INFO_V1(incetl_cron_next_run);

/* days in a 400-year Gregorian cycle, after which weekdays repeat too */
#define CRON_SEARCH_DAYS	146097

/* values larger than this are out of range in every field anyway */
#define CRON_MAX_NUMBER		1000000

#define CRON_HINT \
	"A schedule is five fields (minute hour day-of-month month day-of-week), " \
	"a macro such as @daily, or \"N seconds\" with N from 1 to 59."

typedef enum CronKind
{
	CRON_FIELDS,				/* five cron fields or a macro */
	CRON_SECONDS,				/* "N seconds" */
	CRON_REBOOT					/* @reboot: no clock time */
} CronKind;

/* A parsed schedule.  Bit n of a mask set means value n is selected. */
typedef struct CronSchedule
{
	CronKind	kind;
	int			seconds;		/* CRON_SECONDS only */
	uint64		minutes;		/* bits 0-59 */
	uint64		hours;			/* bits 0-23 */
	uint64		doms;			/* bits 1-31 */
	uint64		months;			/* bits 1-12 */
	uint64		dows;			/* bits 0-6, Sunday = 0 (7 folded onto 0) */
	bool		dom_star;		/* day-of-month field begins with "*" */
	bool		dow_star;		/* day-of-week field begins with "*" */
} CronSchedule;

typedef struct CronField
{
	const char *name;
	int			low;
	int			high;
	const char *const *names;	/* names[i] means low + i, or NULL */
	const char *names_hint;
} CronField;

static const char *const cron_month_names[] = {
	"jan", "feb", "mar", "apr", "may", "jun",
	"jul", "aug", "sep", "oct", "nov", "dec", NULL
};

static const char *const cron_dow_names[] = {
	"sun", "mon", "tue", "wed", "thu", "fri", "sat", NULL
};

static const CronField cron_fields[5] = {
	{"minute", 0, 59, NULL, NULL},
	{"hour", 0, 23, NULL, NULL},
	{"day-of-month", 1, 31, NULL, NULL},
	{"month", 1, 12, cron_month_names, "a month name (jan-dec)"},
	{"day-of-week", 0, 7, cron_dow_names, "a day name (sun-sat)"}
};

static void cron_invalid(const char *schedule, const char *detail)
			pg_attribute_noreturn();

static void
cron_invalid(const char *schedule, const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid cron schedule: \"%s\"", schedule),
			 errdetail("%s", detail),
			 errhint(CRON_HINT)));
}

static inline bool
cron_is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static inline bool
cron_is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static inline bool
cron_is_alnum(char c)
{
	return cron_is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/*
 * Read one value (a number, or a name where the field has names) at *p.
 * Returns the position after it; errors out naming the field otherwise.
 * Range checking is the caller's: pg_cron checks both ends of a range.
 */
static const char *
cron_parse_value(const char *schedule, const char *fieldtext,
				 const CronField *field, const char *p, int *value)
{
	const char *start = p;
	bool		all_digits = true;
	int			len;
	char	   *word;

	while (cron_is_alnum(*p))
	{
		if (!cron_is_digit(*p))
			all_digits = false;
		p++;
	}
	len = p - start;

	if (len == 0)
		cron_invalid(schedule,
					 psprintf("The %s field \"%s\" is missing a value.",
							  field->name, fieldtext));

	word = pnstrdup(start, len);

	if (field->names != NULL)
	{
		for (int i = 0; field->names[i] != NULL; i++)
		{
			if (pg_strcasecmp(word, field->names[i]) == 0)
			{
				*value = field->low + i;
				return p;
			}
		}
	}

	if (!all_digits)
		cron_invalid(schedule,
					 psprintf("The %s field \"%s\" contains \"%s\", which is not a number%s%s.",
							  field->name, fieldtext, word,
							  field->names_hint ? " or " : "",
							  field->names_hint ? field->names_hint : ""));

	*value = 0;
	for (int i = 0; i < len; i++)
	{
		*value = *value * 10 + (start[i] - '0');
		if (*value > CRON_MAX_NUMBER)
		{
			*value = CRON_MAX_NUMBER;
			break;
		}
	}
	return p;
}

/*
 * Parse one field's text into a bit mask of its selected values.
 *
 * field = range {"," range}; range = "*" ["/" step] | value ["-" value
 * ["/" step]].  The field's text must be consumed entirely.
 */
static uint64
cron_parse_field(const char *schedule, const char *fieldtext,
				 const CronField *field)
{
	const char *p = fieldtext;
	uint64		mask = 0;

	for (;;)
	{
		int			first;
		int			last;
		int			step = 1;

		if (*p == '*')
		{
			first = field->low;
			last = field->high;
			p++;
		}
		else
		{
			p = cron_parse_value(schedule, fieldtext, field, p, &first);
			last = first;
			if (*p == '-')
				p = cron_parse_value(schedule, fieldtext, field, p + 1, &last);
			else if (*p == '/')
				cron_invalid(schedule,
							 psprintf("The %s field \"%s\" has a step after a single value; "
									  "a step needs a range or \"*\" before it: \"a-b/n\" or \"*/n\".",
									  field->name, fieldtext));
		}

		if (*p == '/')
		{
			const char *start = ++p;

			step = 0;
			while (cron_is_digit(*p))
			{
				if (step <= CRON_MAX_NUMBER)
					step = step * 10 + (*p - '0');
				p++;
			}
			if (p == start)
				cron_invalid(schedule,
							 psprintf("The %s field \"%s\" has \"/\" without a step number.",
									  field->name, fieldtext));
			if (step == 0)
				cron_invalid(schedule,
							 psprintf("The %s field \"%s\" has a step of 0; a step must be at least 1.",
									  field->name, fieldtext));
		}

		if (first < field->low || first > field->high ||
			last < field->low || last > field->high)
			cron_invalid(schedule,
						 psprintf("The %s field \"%s\" has a value outside %d-%d.",
								  field->name, fieldtext,
								  field->low, field->high));

		/* a reversed range ("5-1") selects nothing, as in pg_cron */
		for (int v = first; v <= last; v += step)
			mask |= UINT64CONST(1) << v;

		if (*p == ',')
		{
			p++;
			continue;
		}
		if (*p == '\0')
			break;

		cron_invalid(schedule,
					 psprintf("The %s field \"%s\" has unexpected character \"%c\".",
							  field->name, fieldtext, *p));
	}

	return mask;
}

/* Fill in the masks of a macro; false when the name is not one. */
static bool
cron_parse_macro(const char *name, CronSchedule *s)
{
	const uint64 all_doms = UINT64CONST(0xFFFFFFFE);	/* 1-31 */
	const uint64 all_months = UINT64CONST(0x1FFE);	/* 1-12 */
	const uint64 all_dows = UINT64CONST(0x7F);	/* 0-6 */

	/* pg_cron compares macro names case-sensitively; so do we */
	if (strcmp(name, "reboot") == 0 || strcmp(name, "restart") == 0)
	{
		s->kind = CRON_REBOOT;
		return true;
	}

	s->minutes = UINT64CONST(1);
	s->hours = UINT64CONST(1);
	s->doms = all_doms;
	s->months = all_months;
	s->dows = all_dows;

	if (strcmp(name, "yearly") == 0 || strcmp(name, "annually") == 0)
	{
		s->doms = UINT64CONST(1) << 1;
		s->months = UINT64CONST(1) << 1;
		s->dow_star = true;
	}
	else if (strcmp(name, "monthly") == 0)
	{
		s->doms = UINT64CONST(1) << 1;
		s->dow_star = true;
	}
	else if (strcmp(name, "weekly") == 0)
	{
		s->dows = UINT64CONST(1);	/* Sunday */
		s->dom_star = true;
	}
	else if (strcmp(name, "daily") == 0 || strcmp(name, "midnight") == 0)
	{
		/* every day and every weekday: the day rule cannot exclude any */
	}
	else if (strcmp(name, "hourly") == 0)
	{
		s->hours = UINT64CONST(0xFFFFFF);	/* 0-23 */
	}
	else
		return false;

	return true;
}

/*
 * Recognise "N second" / "N seconds" (any case, blanks allowed around and
 * between).  Returns false when the text is not of that shape; errors out
 * when it is but N is outside 1-59.
 */
static bool
cron_parse_seconds(const char *schedule, const char *trimmed, CronSchedule *s)
{
	const char *p = trimmed;
	int			n = 0;

	if (!cron_is_digit(*p))
		return false;
	while (cron_is_digit(*p))
	{
		if (n <= CRON_MAX_NUMBER)
			n = n * 10 + (*p - '0');
		p++;
	}
	while (cron_is_space(*p))
		p++;
	if (pg_strncasecmp(p, "second", 6) != 0)
		return false;
	p += 6;
	if (*p == 's' || *p == 'S')
		p++;
	while (cron_is_space(*p))
		p++;
	if (*p != '\0')
		return false;

	if (n < 1 || n > 59)
		cron_invalid(schedule,
					 psprintf("An interval schedule takes 1 to 59 seconds, not %d.", n));

	s->kind = CRON_SECONDS;
	s->seconds = n;
	return true;
}

/*
 * Parse a schedule, or raise ERRCODE_INVALID_PARAMETER_VALUE saying what
 * is wrong with it.
 */
static void
cron_parse(const char *schedule, CronSchedule *s)
{
	char	   *buf = pstrdup(schedule);
	char	   *p = buf;
	char	   *end;
	char	   *fields[5];
	int			nfields = 0;

	memset(s, 0, sizeof(*s));
	s->kind = CRON_FIELDS;

	/* trim surrounding blanks */
	while (cron_is_space(*p))
		p++;
	end = p + strlen(p);
	while (end > p && cron_is_space(end[-1]))
		*--end = '\0';

	if (*p == '\0')
		cron_invalid(schedule, "The schedule is empty.");

	if (*p == '@')
	{
		if (!cron_parse_macro(p + 1, s))
			cron_invalid(schedule,
						 psprintf("\"%s\" is not a known macro; use @yearly, @annually, @monthly, "
								  "@weekly, @daily, @midnight, @hourly or @reboot.", p));
		return;
	}

	if (cron_parse_seconds(schedule, p, s))
		return;

	/* split into fields, counting any beyond the fifth */
	while (*p != '\0')
	{
		char	   *start = p;

		while (*p != '\0' && !cron_is_space(*p))
			p++;
		if (*p != '\0')
		{
			*p++ = '\0';
			while (cron_is_space(*p))
				p++;
		}
		if (nfields < 5)
			fields[nfields] = start;
		nfields++;
	}

	if (nfields != 5)
		cron_invalid(schedule,
					 psprintf("Expected 5 fields, found %d.", nfields));

	s->minutes = cron_parse_field(schedule, fields[0], &cron_fields[0]);
	s->hours = cron_parse_field(schedule, fields[1], &cron_fields[1]);
	s->doms = cron_parse_field(schedule, fields[2], &cron_fields[2]);
	s->months = cron_parse_field(schedule, fields[3], &cron_fields[3]);
	s->dows = cron_parse_field(schedule, fields[4], &cron_fields[4]);
	s->dom_star = (fields[2][0] == '*');
	s->dow_star = (fields[4][0] == '*');

	/* 7 is Sunday too */
	if (s->dows & (UINT64CONST(1) << 7))
		s->dows = (s->dows & ~(UINT64CONST(1) << 7)) | UINT64CONST(1);
}

/* The lowest set bit of mask at or above "from", or -1. */
static inline int
cron_next_bit(uint64 mask, int from)
{
	if (from >= 64)
		return -1;
	mask &= ~UINT64CONST(0) << from;
	return mask == 0 ? -1 : pg_rightmost_one_pos64(mask);
}

/* Does a day with this day of month and day of week (Sunday = 0) match? */
static inline bool
cron_day_matches(const CronSchedule *s, int mday, int wday)
{
	bool		dom_ok = (s->doms & (UINT64CONST(1) << mday)) != 0;
	bool		dow_ok = (s->dows & (UINT64CONST(1) << wday)) != 0;

	if (s->dom_star || s->dow_star)
		return dom_ok && dow_ok;
	return dom_ok || dow_ok;
}

/*
 * The first whole minute strictly after "after" (UTC) that the five-field
 * schedule selects.  Returns false when there is none within one 400-year
 * cycle (hence never) or before the end of the timestamp range.
 */
static bool
cron_next_fields(const CronSchedule *s, TimestampTz after, TimestampTz *result)
{
	int64		day = after / USECS_PER_DAY;	/* days since 2000-01-01 */
	int64		usecs = after % USECS_PER_DAY;	/* into the day */
	int			from_minute;	/* first minute of the day still allowed */
	int			jd;
	int			last_jd;

	if (s->minutes == 0 || s->hours == 0 || s->months == 0)
		return false;
	if ((s->dom_star || s->dow_star) ? (s->doms == 0 || s->dows == 0)
		: (s->doms == 0 && s->dows == 0))
		return false;

	/* floor division: timestamps before 2000 are negative */
	if (usecs < 0)
	{
		usecs += USECS_PER_DAY;
		day--;
	}
	jd = (int) (day + POSTGRES_EPOCH_JDATE);
	from_minute = (int) (usecs / USECS_PER_MINUTE) + 1;
	if (from_minute >= MINS_PER_HOUR * HOURS_PER_DAY)
	{
		jd++;
		from_minute = 0;
	}
	last_jd = jd + CRON_SEARCH_DAYS;

	while (jd <= last_jd && jd < TIMESTAMP_END_JULIAN)
	{
		int			year;
		int			month;
		int			mday;
		int			hour;
		int			minute;

		j2date(jd, &year, &month, &mday);

		if ((s->months & (UINT64CONST(1) << month)) == 0)
		{
			/* skip the rest of this month */
			jd = (month == 12) ? date2j(year + 1, 1, 1)
				: date2j(year, month + 1, 1);
			from_minute = 0;
			continue;
		}

		if (cron_day_matches(s, mday, j2day(jd)))
		{
			hour = cron_next_bit(s->hours, from_minute / MINS_PER_HOUR);
			minute = -1;
			if (hour == from_minute / MINS_PER_HOUR)
				minute = cron_next_bit(s->minutes, from_minute % MINS_PER_HOUR);
			if (hour >= 0 && minute < 0)
			{
				/* no minute left in that hour: first minute of a later one */
				if (hour == from_minute / MINS_PER_HOUR)
					hour = cron_next_bit(s->hours, hour + 1);
				minute = cron_next_bit(s->minutes, 0);
			}

			if (hour >= 0)
			{
				TimestampTz ts;

				ts = (TimestampTz) (jd - POSTGRES_EPOCH_JDATE) * USECS_PER_DAY +
					((int64) hour * MINS_PER_HOUR + minute) * USECS_PER_MINUTE;
				if (!IS_VALID_TIMESTAMP(ts))
					return false;
				*result = ts;
				return true;
			}
		}

		jd++;
		from_minute = 0;
	}

	return false;
}

/*
 * "N seconds": "after" truncated to the whole second, plus N seconds.
 */
static bool
cron_next_seconds(const CronSchedule *s, TimestampTz after, TimestampTz *result)
{
	int64		secs = after / USECS_PER_SEC;
	TimestampTz ts;

	if (after % USECS_PER_SEC < 0)
		secs--;
	ts = (secs + s->seconds) * USECS_PER_SEC;
	if (!IS_VALID_TIMESTAMP(ts))
		return false;
	*result = ts;
	return true;
}

/*
 * IncetlCheckCronSchedule raises 22023 unless schedule is one pg_cron
 * accepts (five fields, a macro such as @daily or @reboot, or "N
 * seconds"), whether or not it ever fires.
 */
void
IncetlCheckCronSchedule(const char *schedule)
{
	CronSchedule s;

	cron_parse(schedule, &s);
}

/*
 * incetl.cron_next_run(schedule text, after timestamptz) RETURNS timestamptz
 *
 * The first instant strictly after "after" at which pg_cron would start a
 * job with this schedule; NULL when it never would (an impossible date, an
 * empty range, @reboot) or "after" is infinite.  Errors on a schedule
 * pg_cron's syntax does not allow.
 */
Datum
incetl_cron_next_run(PG_FUNCTION_ARGS)
{
	char	   *schedule = text_to_cstring(PG_GETARG_TEXT_PP(0));
	TimestampTz after = PG_GETARG_TIMESTAMPTZ(1);
	CronSchedule s;
	TimestampTz result;
	bool		found;

	/* validate even when "after" makes the answer NULL */
	cron_parse(schedule, &s);

	if (TIMESTAMP_NOT_FINITE(after))
		PG_RETURN_NULL();

	switch (s.kind)
	{
		case CRON_FIELDS:
			found = cron_next_fields(&s, after, &result);
			break;
		case CRON_SECONDS:
			found = cron_next_seconds(&s, after, &result);
			break;
		case CRON_REBOOT:
		default:
			found = false;
			break;
	}

	if (!found)
		PG_RETURN_NULL();
	PG_RETURN_TIMESTAMPTZ(result);
}
