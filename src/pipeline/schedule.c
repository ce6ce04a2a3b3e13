/*-------------------------------------------------------------------------
 *
 * schedule.c
 *	  pg_cron glue: incetl.schedule / incetl.unschedule and the jobs that
 *	  create_pipeline, alter_pipeline and drop_pipeline manage.
 *
 *	  A pipeline's job is named "incetl:<name>" and runs
 *	  SELECT incetl_run('<name>') as the pipeline owner: the job is created
 *	  by calling cron.schedule as that owner.  pg_cron validates the cron
 *	  expression itself, so what it accepts is exactly what it can run.
 *	  pg_cron is optional: without it, scheduling is a clear error and
 *	  everything else works.
 *
 * Copyright (c) 2026, incetl developers
 *
 * IDENTIFICATION
 *	  src/pipeline/schedule.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/dbcommands.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "incetl.h"

PG_FUNCTION_INFO_V1(incetl_schedule);
PG_FUNCTION_INFO_V1(incetl_unschedule);

static void RequirePgCron(void);
static char *JobName(IncetlPipeline *p);

static void
RequirePgCron(void)
{
	if (!OidIsValid(get_extension_oid("pg_cron", true)))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("pg_cron is not installed in database \"%s\"",
						get_database_name(MyDatabaseId)),
				 errhint("Add pg_cron to shared_preload_libraries, set cron.database_name = '%s', "
						 "restart, and run CREATE EXTENSION pg_cron.",
						 get_database_name(MyDatabaseId))));
}

static char *
JobName(IncetlPipeline *p)
{
	return psprintf("incetl:%s", p->name);
}

/*
 * IncetlScheduleJob creates (or replaces) the pipeline's pg_cron job and
 * returns its job id.  An expression pg_cron rejects is an error.
 */
int64
IncetlScheduleJob(IncetlPipeline *p, const char *cron)
{
	IncetlUserContext uctx;
	Oid			argtypes[3] = {TEXTOID, TEXTOID, TEXTOID};
	Datum		values[3];
	bool		isnull;
	int64		jobid;

	RequirePgCron();

	/*
	 * Our own parser is stricter than pg_cron 1.4 (which ignores trailing
	 * junk); checking first keeps pipeline_status able to show the next run
	 * of every job it lists.
	 */
	IncetlCheckCronSchedule(cron);
	values[0] = CStringGetTextDatum(JobName(p));
	values[1] = CStringGetTextDatum(cron);
	values[2] = CStringGetTextDatum(psprintf("SELECT incetl_run(%s)",
											 quote_literal_cstr(p->name)));

	IncetlBecomeOwner(p, &uctx, false);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args("SELECT cron.schedule($1, $2, $3)", 3, argtypes,
							  values, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "cron.schedule failed for pipeline \"%s\"", p->name);
	jobid = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
										SPI_tuptable->tupdesc, 1, &isnull));
	SPI_finish();
	IncetlRestoreUser(&uctx);
	return jobid;
}

/*
 * IncetlUnscheduleJob removes the pipeline's job.  Returns false when it
 * had none (an error unless missing_ok).
 */
bool
IncetlUnscheduleJob(IncetlPipeline *p, bool missing_ok)
{
	IncetlUserContext uctx;
	Oid			argtypes[1] = {TEXTOID};
	Datum		values[1];
	bool		found;
	Oid			nspid;

	if (!OidIsValid(get_extension_oid("pg_cron", true)))
	{
		if (missing_ok)
			return false;
		RequirePgCron();
	}
	values[0] = CStringGetTextDatum(JobName(p));

	/* pg_cron knows jobs by their user's name: a dropped owner's is lost */
	if (!SearchSysCacheExists1(AUTHOID, ObjectIdGetDatum(p->owner)))
	{
		ereport(WARNING,
				(errmsg("the pg_cron job of pipeline \"%s\" cannot be removed: its owner (role %u) no longer exists",
						p->name, p->owner),
				 errhint("A superuser can remove it: SELECT cron.unschedule(jobid) FROM cron.job WHERE jobname = %s;",
						 quote_literal_cstr(JobName(p)))));
		return false;
	}

	/* an owner without USAGE on schema cron has no job of its own */
	nspid = get_namespace_oid("cron", true);
	if (!OidIsValid(nspid) ||
		pg_namespace_aclcheck(nspid, p->owner, ACL_USAGE) != ACLCHECK_OK)
	{
		if (!missing_ok)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_OBJECT),
					 errmsg("pipeline \"%s\" has no pg_cron job", p->name)));
		return false;
	}

	IncetlBecomeOwner(p, &uctx, false);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args("SELECT jobid FROM cron.job WHERE jobname = $1",
							  1, argtypes, values, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read cron.job");
	found = SPI_processed > 0;
	if (found &&
		SPI_execute_with_args("SELECT cron.unschedule($1::name)", 1, argtypes,
							  values, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "cron.unschedule failed for pipeline \"%s\"", p->name);
	SPI_finish();
	IncetlRestoreUser(&uctx);

	if (!found && !missing_ok)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("pipeline \"%s\" has no pg_cron job", p->name)));
	return found;
}

static void
SetStoredSchedule(IncetlPipeline *p, const char *cron)
{
	Oid			types[2] = {TEXTOID, TEXTOID};
	Datum		values[2];
	char		nulls[2] = {' ', ' '};

	values[0] = CStringGetTextDatum(p->name);
	if (cron)
		values[1] = CStringGetTextDatum(cron);
	else
		nulls[1] = 'n';
	IncetlCatalogExec("UPDATE incetl.pipelines SET schedule = $2 WHERE name = $1",
					  2, types, values, nulls, 1);
}

Datum
incetl_schedule(PG_FUNCTION_ARGS)
{
	IncetlPipeline *p = IncetlLoadPipeline(text_to_cstring(PG_GETARG_TEXT_PP(0)), false);
	char	   *cron = text_to_cstring(PG_GETARG_TEXT_PP(1));
	int64		jobid;

	IncetlCheckPipelineOwner(p, "schedule");
	jobid = IncetlScheduleJob(p, cron);
	SetStoredSchedule(p, cron);
	PG_RETURN_INT64(jobid);
}

Datum
incetl_unschedule(PG_FUNCTION_ARGS)
{
	IncetlPipeline *p = IncetlLoadPipeline(text_to_cstring(PG_GETARG_TEXT_PP(0)), false);
	bool		found;

	IncetlCheckPipelineOwner(p, "unschedule");
	found = IncetlUnscheduleJob(p, false);
	SetStoredSchedule(p, NULL);
	PG_RETURN_BOOL(found);
}
