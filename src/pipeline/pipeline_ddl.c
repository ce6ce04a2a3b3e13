/*-------------------------------------------------------------------------
 *
 * pipeline_ddl.c
 *	  The functions that define and manage pipelines: create_pipeline,
 *	  alter_pipeline, drop_pipeline, pause_pipeline, resume_pipeline and
 *	  reset_pipeline.
 *
 *	  Each works in the caller's transaction: a definition that fails
 *	  validation, or a schedule pg_cron rejects, leaves nothing behind.
 *	  Only the owner of a pipeline (or a superuser) may change it.
 *
 * Copyright (c) 2026, incetl developers
 *
 * IDENTIFICATION
 *	  src/pipeline/pipeline_ddl.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/jsonb.h"
#include "utils/timestamp.h"
#include "utils/varlena.h"

#include "incetl.h"

PG_FUNCTION_INFO_V1(incetl_create_pipeline);
PG_FUNCTION_INFO_V1(incetl_alter_pipeline);
PG_FUNCTION_INFO_V1(incetl_drop_pipeline);
PG_FUNCTION_INFO_V1(incetl_pause_pipeline);
PG_FUNCTION_INFO_V1(incetl_resume_pipeline);
PG_FUNCTION_INFO_V1(incetl_reset_pipeline);

/* argument positions shared by create_pipeline and alter_pipeline */
enum
{
	ARG_NAME,
	ARG_SOURCE,
	ARG_WATERMARK_COLUMN,
	ARG_TARGET,
	ARG_RECORD_KEY,
	ARG_PRECOMBINE,
	ARG_TRANSFORM,
	ARG_SCHEDULE,
	ARG_DELETE_MARKER,
	ARG_SETTINGS,
	ARG_MAX_BATCH_ROWS,
	ARG_MAX_RETRIES,
	ARG_RETRY_DELAY,
	ARG_SAFETY_LAG,
	ARG_OWNER					/* alter_pipeline only */
};

static void CheckPipelineName(const char *name);
static char *CapturedSearchPath(void);
static char *OptionalText(FunctionCallInfo fcinfo, int argno, bool *given);
static void ApplyArguments(IncetlPipeline *p, FunctionCallInfo fcinfo, bool creating);
static void CheckLimits(IncetlPipeline *p);
static void StorePipeline(IncetlPipeline *p, bool insert);
static void SetEnabled(FunctionCallInfo fcinfo, bool enabled);

/*
 * Pipeline names appear in job names, log rows and messages: keep them to
 * plain identifiers (letters, digits, '_' and '-', at most 63 bytes).
 */
static void
CheckPipelineName(const char *name)
{
	bool		ok = name[0] != '\0' && strlen(name) < NAMEDATALEN &&
		(isalpha((unsigned char) name[0]) || name[0] == '_');

	for (const char *c = name; ok && *c; c++)
		ok = isalnum((unsigned char) *c) || *c == '_' || *c == '-';
	if (!ok)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_NAME),
				 errmsg("invalid pipeline name \"%s\"", name),
				 errhint("A pipeline name starts with a letter or underscore and has only "
						 "letters, digits, underscores and hyphens, at most %d characters.",
						 NAMEDATALEN - 1)));
}

/*
 * The creator's search_path, without pg_temp: runs put pg_temp last
 * (pipeline_security.c).
 */
static char *
CapturedSearchPath(void)
{
	char	   *raw = pstrdup(GetConfigOption("search_path", false, false));
	List	   *elems = NIL;
	StringInfoData buf;
	ListCell   *lc;

	initStringInfo(&buf);
	if (!SplitIdentifierString(raw, ',', &elems))
		return pstrdup("pg_catalog");
	foreach(lc, elems)
	{
		char	   *e = (char *) lfirst(lc);

		if (strcmp(e, "pg_temp") == 0 || strncmp(e, "pg_temp_", 8) == 0)
			continue;
		appendStringInfo(&buf, "%s%s", buf.len > 0 ? ", " : "", quote_identifier(e));
	}
	return buf.len > 0 ? buf.data : pstrdup("pg_catalog");
}

/* A text argument; *given tells whether it was not NULL. */
static char *
OptionalText(FunctionCallInfo fcinfo, int argno, bool *given)
{
	*given = !PG_ARGISNULL(argno);
	return *given ? text_to_cstring(PG_GETARG_TEXT_PP(argno)) : NULL;
}

/*
 * ApplyArguments copies the function's arguments into the definition.
 * For create_pipeline a NULL means "not set"; for alter_pipeline it
 * means "unchanged", and an empty string clears an optional text option.
 */
static void
ApplyArguments(IncetlPipeline *p, FunctionCallInfo fcinfo, bool creating)
{
	bool		given;
	char	   *v;
	Oid			relid;

	v = OptionalText(fcinfo, ARG_SOURCE, &given);
	if (given)
		p->source = IncetlNormalizeRelationName(v, "source", &relid);
	v = OptionalText(fcinfo, ARG_TARGET, &given);
	if (given)
		p->target = IncetlNormalizeRelationName(v, "target", &relid);
	/* none (NULL at creation, '' to alter): feed mode, see batch.c */
	v = OptionalText(fcinfo, ARG_WATERMARK_COLUMN, &given);
	if (given)
		p->watermark_column = (v[0] == '\0' && !creating) ? NULL :
			IncetlParseColumnName(v, "watermark column");
	v = OptionalText(fcinfo, ARG_RECORD_KEY, &given);
	if (given)
		p->record_key = IncetlParseColumnList(v, "record key");

#define OPTIONAL_NAME(argno, field, what) \
	do { \
		v = OptionalText(fcinfo, argno, &given); \
		if (given) \
			p->field = (v[0] == '\0' && !creating) ? NULL : IncetlParseColumnName(v, what); \
	} while (0)

	OPTIONAL_NAME(ARG_PRECOMBINE, precombine, "precombine column");
	OPTIONAL_NAME(ARG_DELETE_MARKER, delete_marker, "delete marker column");
#undef OPTIONAL_NAME

	v = OptionalText(fcinfo, ARG_TRANSFORM, &given);
	if (given)
		p->transform = (v[0] == '\0' && !creating) ? NULL : v;

	if (!PG_ARGISNULL(ARG_SETTINGS))
		p->settings = PG_GETARG_JSONB_P_COPY(ARG_SETTINGS);
	if (!PG_ARGISNULL(ARG_MAX_BATCH_ROWS))
		p->max_batch_rows = PG_GETARG_INT64(ARG_MAX_BATCH_ROWS);
	if (!PG_ARGISNULL(ARG_MAX_RETRIES))
		p->max_retries = PG_GETARG_INT32(ARG_MAX_RETRIES);
	if (!PG_ARGISNULL(ARG_RETRY_DELAY))
		p->retry_delay = *PG_GETARG_INTERVAL_P(ARG_RETRY_DELAY);
	if (!PG_ARGISNULL(ARG_SAFETY_LAG))
		p->safety_lag = *PG_GETARG_INTERVAL_P(ARG_SAFETY_LAG);
}

static bool
IntervalIsNegative(Interval *i)
{
	return i->time < 0 || i->day < 0 || i->month < 0;
}

static void
CheckLimits(IncetlPipeline *p)
{
	if (p->max_batch_rows < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("max_batch_rows of pipeline \"%s\" must be positive", p->name)));
	if (p->max_retries < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("max_retries of pipeline \"%s\" must not be negative", p->name)));
	if (IntervalIsNegative(&p->retry_delay) || IntervalIsNegative(&p->safety_lag))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("retry_delay and safety_lag of pipeline \"%s\" must not be negative",
						p->name)));
}

/* Insert or update the pipeline's row in incetl.pipelines. */
static void
StorePipeline(IncetlPipeline *p, bool insert)
{
	Oid			types[17] = {TEXTOID, TEXTOID, TEXTOID, OIDOID, TEXTOID, TEXTARRAYOID,
		TEXTOID, TEXTOID, TEXTOID, TEXTOID, JSONBOID, INT8OID, INT4OID,
	INTERVALOID, INTERVALOID, REGROLEOID, TEXTOID};
	Datum		values[17];
	char		nulls[17];

	memset(nulls, ' ', sizeof(nulls));
#define TEXT_OR_NULL(i, s) \
	do { if ((s) != NULL) values[i] = CStringGetTextDatum(s); else nulls[i] = 'n'; } while (0)
	TEXT_OR_NULL(0, p->name);
	TEXT_OR_NULL(1, p->source);
	TEXT_OR_NULL(2, p->watermark_column);
	values[3] = ObjectIdGetDatum(p->watermark_type);
	if (!OidIsValid(p->watermark_type))
		nulls[3] = 'n';

	TEXT_OR_NULL(4, p->target);
	values[5] = IncetlTextArrayFromList(p->record_key);
	TEXT_OR_NULL(6, p->precombine);
	TEXT_OR_NULL(7, p->transform);
	TEXT_OR_NULL(8, p->schedule);
	TEXT_OR_NULL(9, p->delete_marker);
	values[10] = JsonbPGetDatum(p->settings);
	values[11] = Int64GetDatum(p->max_batch_rows);
	if (p->max_batch_rows == 0)
		nulls[11] = 'n';
	values[12] = Int32GetDatum(p->max_retries);
	values[13] = IntervalPGetDatum(&p->retry_delay);
	values[14] = IntervalPGetDatum(&p->safety_lag);
	values[15] = ObjectIdGetDatum(p->owner);
	TEXT_OR_NULL(16, p->search_path);
#undef TEXT_OR_NULL

	if (insert)
		IncetlCatalogExec("INSERT INTO incetl.pipelines (name, source, watermark_column, "
						  "watermark_type, target, record_key, precombine, transform, schedule, "
						  "delete_marker, settings, max_batch_rows, max_retries, retry_delay, "
						  "safety_lag, owner, search_path) VALUES ($1, $2, $3, $4::regtype, $5, $6, "
						  "$7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)",
						  17, types, values, nulls, 1);
	else
		IncetlCatalogExec("UPDATE incetl.pipelines SET source = $2, watermark_column = $3, "
						  "watermark_type = $4::regtype, target = $5, record_key = $6, "
						  "precombine = $7, transform = $8, schedule = $9, delete_marker = $10, "
						  "settings = $11, max_batch_rows = $12, max_retries = $13, "
						  "retry_delay = $14, safety_lag = $15, owner = $16 WHERE name = $1",
						  16, types, values, nulls, 1);
}

Datum
incetl_create_pipeline(PG_FUNCTION_ARGS)
{
	IncetlPipeline *p = palloc0(sizeof(IncetlPipeline));
	const char *required[] = {"name", "source", "watermark_column", "target", "record_key"};
	bool		given;

	/* watermark_column may be NULL: feed mode (checked by validation) */
	for (int i = 0; i <= ARG_RECORD_KEY; i++)
		if (PG_ARGISNULL(i) && i != ARG_WATERMARK_COLUMN)
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("%s of a pipeline must not be NULL", required[i])));

	p->name = text_to_cstring(PG_GETARG_TEXT_PP(ARG_NAME));
	CheckPipelineName(p->name);
	if (IncetlLoadPipeline(p->name, true) != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_OBJECT),
				 errmsg("pipeline \"%s\" already exists", p->name),
				 errhint("Use incetl.alter_pipeline to change it, or incetl.drop_pipeline first.")));

	p->owner = GetUserId();
	p->enabled = true;
	p->search_path = CapturedSearchPath();
	p->settings = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum("{}")));
	p->retry_delay.time = USECS_PER_SEC;
	ApplyArguments(p, fcinfo, true);
	p->schedule = OptionalText(fcinfo, ARG_SCHEDULE, &given);

	CheckLimits(p);
	IncetlValidatePipeline(p, true);
	StorePipeline(p, true);
	if (p->schedule != NULL)
		(void) IncetlScheduleJob(p, p->schedule);

	PG_RETURN_VOID();
}

Datum
incetl_alter_pipeline(PG_FUNCTION_ARGS)
{
	IncetlPipeline *p;
	IncetlPipeline before;		/* the definition as it was */
	Oid			old_type;
	bool		schedule_given;
	char	   *schedule;

	if (PG_ARGISNULL(ARG_NAME))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("name of a pipeline must not be NULL")));
	p = IncetlLoadPipeline(text_to_cstring(PG_GETARG_TEXT_PP(ARG_NAME)), false);
	IncetlCheckPipelineOwner(p, "alter");
	old_type = p->watermark_type;
	before = *p;

	ApplyArguments(p, fcinfo, false);
	schedule = OptionalText(fcinfo, ARG_SCHEDULE, &schedule_given);
	if (PG_NARGS() > ARG_OWNER && !PG_ARGISNULL(ARG_OWNER))
	{
		/* as ALTER TABLE ... OWNER TO: the new owner must be one of ours */
		p->owner = PG_GETARG_OID(ARG_OWNER);
		if (!superuser() && !is_member_of_role(GetUserId(), p->owner))
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("permission denied to give pipeline \"%s\" to role \"%s\"",
							p->name, IncetlOwnerName(p)),
					 errdetail("Only a member of the new owning role (or a superuser) may make it the owner.")));
	}

	CheckLimits(p);
	/* as the (new) owner: it must be able to read the source and write the target */
	IncetlValidatePipeline(p, true);

	/* a new owner's runs are scheduled under its name */
	if (p->owner != before.owner && p->schedule != NULL && !schedule_given)
	{
		schedule_given = true;
		schedule = p->schedule;
	}
	if (p->owner != before.owner && schedule_given)
		(void) IncetlUnscheduleJob(&before, true);

	if (schedule_given)
	{
		if (schedule[0] == '\0')
		{
			(void) IncetlUnscheduleJob(p, true);
			p->schedule = NULL;
		}
		else
		{
			(void) IncetlScheduleJob(p, schedule);
			p->schedule = schedule;
		}
	}
	StorePipeline(p, false);

	/*
	 * A new watermark type makes the stored value meaningless.  Switching
	 * between a watermark column and the change feed of an incetl_cow
	 * source keeps it: both use the commit id (watermark_commit).
	 */
	if (old_type != p->watermark_type && OidIsValid(old_type) &&
		OidIsValid(p->watermark_type))
	{
		Oid			types[1] = {TEXTOID};
		Datum		values[1];

		values[0] = CStringGetTextDatum(p->name);
		IncetlCatalogExec("DELETE FROM incetl.watermarks WHERE pipeline_name = $1",
						  1, types, values, NULL, -1);
		ereport(NOTICE,
				(errmsg("watermark of pipeline \"%s\" was reset: its type changed from %s to %s",
						p->name, format_type_be(old_type), format_type_be(p->watermark_type)),
				 errdetail("The next run is a full load.")));
	}
	PG_RETURN_VOID();
}

Datum
incetl_drop_pipeline(PG_FUNCTION_ARGS)
{
	IncetlPipeline *p = IncetlLoadPipeline(text_to_cstring(PG_GETARG_TEXT_PP(0)), false);
	Oid			types[1] = {TEXTOID};
	Datum		values[1];

	IncetlCheckPipelineOwner(p, "drop");
	(void) IncetlUnscheduleJob(p, true);
	values[0] = CStringGetTextDatum(p->name);
	IncetlCatalogExec("DELETE FROM incetl.pipelines WHERE name = $1",
					  1, types, values, NULL, 1);
	PG_RETURN_VOID();
}

static void
SetEnabled(FunctionCallInfo fcinfo, bool enabled)
{
	IncetlPipeline *p = IncetlLoadPipeline(text_to_cstring(PG_GETARG_TEXT_PP(0)), false);
	Oid			types[2] = {TEXTOID, BOOLOID};
	Datum		values[2];

	IncetlCheckPipelineOwner(p, enabled ? "resume" : "pause");
	values[0] = CStringGetTextDatum(p->name);
	values[1] = BoolGetDatum(enabled);
	IncetlCatalogExec("UPDATE incetl.pipelines SET enabled = $2 WHERE name = $1",
					  2, types, values, NULL, 1);
}

Datum
incetl_pause_pipeline(PG_FUNCTION_ARGS)
{
	SetEnabled(fcinfo, false);
	PG_RETURN_VOID();
}

Datum
incetl_resume_pipeline(PG_FUNCTION_ARGS)
{
	SetEnabled(fcinfo, true);
	PG_RETURN_VOID();
}

/*
 * reset_pipeline(name, watermark): the next run starts after the given
 * watermark (backfill), or is a full load when it is NULL.  The value is
 * checked against the watermark column's type and stored normalized; for
 * an incetl_cow source (with or without a watermark column) it is a
 * commit id.
 */
Datum
incetl_reset_pipeline(PG_FUNCTION_ARGS)
{
	IncetlPipeline *p;
	Oid			types[2] = {TEXTOID, TEXTOID};
	Datum		values[2];

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("name of a pipeline must not be NULL")));
	p = IncetlLoadPipeline(text_to_cstring(PG_GETARG_TEXT_PP(0)), false);
	IncetlCheckPipelineOwner(p, "reset");
	values[0] = CStringGetTextDatum(p->name);

	if (PG_ARGISNULL(1))
		IncetlCatalogExec("DELETE FROM incetl.watermarks WHERE pipeline_name = $1",
						  1, types, values, NULL, -1);
	else if (IncetlRelationIsCow(IncetlResolveRelation(p->source, false)))
	{
		/* an incetl_cow source: the watermark is a commit id */
		Oid			ctypes[2] = {TEXTOID, INT8OID};

		values[1] = DirectFunctionCall1(int8in,
										CStringGetDatum(text_to_cstring(PG_GETARG_TEXT_PP(1))));
		IncetlCatalogExec("INSERT INTO incetl.watermarks AS w "
						  "(pipeline_name, watermark_commit, updated_at) "
						  "VALUES ($1, $2, pg_catalog.now()) "
						  "ON CONFLICT (pipeline_name) DO UPDATE SET watermark = NULL, "
						  "watermark_commit = EXCLUDED.watermark_commit, "
						  "updated_at = EXCLUDED.updated_at, run_id = NULL",
						  2, ctypes, values, NULL, 1);
	}
	else
	{
		Datum		wm = IncetlWatermarkFromText(text_to_cstring(PG_GETARG_TEXT_PP(1)),
												 p->watermark_type);

		values[1] = CStringGetTextDatum(IncetlWatermarkToText(wm, p->watermark_type));
		IncetlCatalogExec("INSERT INTO incetl.watermarks AS w (pipeline_name, watermark, updated_at) "
						  "VALUES ($1, $2, pg_catalog.now()) "
						  "ON CONFLICT (pipeline_name) DO UPDATE SET watermark = EXCLUDED.watermark, "
						  "watermark_commit = NULL, updated_at = EXCLUDED.updated_at, run_id = NULL",
						  2, types, values, NULL, 1);
	}
	PG_RETURN_VOID();
}
