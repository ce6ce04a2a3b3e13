/*-------------------------------------------------------------------------
 *
 * pipeline_security.c
 *	  The execution context of a pipeline: its owner's privileges, a safe
 *	  search_path and its settings.
 *
 *	  Like REFRESH MATERIALIZED VIEW, a run switches to the pipeline
 *	  owner's user id with SECURITY_RESTRICTED_OPERATION, so neither the
 *	  caller's nor a superuser's rights leak into user-written SQL.  The
 *	  search_path is the one captured when the pipeline was created, with
 *	  pg_temp forced last so temporary objects cannot shadow anything.
 *	  Who may manage a pipeline (its owner, a member of the owning role, a
 *	  superuser) is checked here too.
 *
 *	  Settings (GUCs) are applied in a new GUC nest level and undone when
 *	  the run ends: SET LOCAL scoped to the run.  Whatever the owner's code
 *	  sets in that level, even with SET or set_config(..., false), is
 *	  discarded too when the level ends.
 *
 * Copyright (c) 2026, incetl developers
 *
 * IDENTIFICATION
 *	  src/pipeline/pipeline_security.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/jsonb.h"
#include "utils/syscache.h"

#include "incetl.h"

static void ApplySettings(IncetlPipeline *pipeline, const char *environment);
static void SettingsErrorContext(void *arg);

typedef struct SettingsContext
{
	const char *pipeline;
	const char *environment;
} SettingsContext;

static void
SettingsErrorContext(void *arg)
{
	SettingsContext *c = (SettingsContext *) arg;

	if (c->environment && c->environment[0] != '\0')
		errcontext("settings of pipeline \"%s\" for environment \"%s\"",
				   c->pipeline, c->environment);
	else
		errcontext("settings of pipeline \"%s\"", c->pipeline);
}

/*
 * ApplySettings sets every GUC of the pipeline's settings: the top-level
 * scalar entries first, then those of the object named environment, which
 * override them.  Objects for other environments are ignored.  An entry
 * that is neither a string, a number nor a boolean (nor, at the top
 * level, an environment's object) is an error.
 */
static void
ApplySettings(IncetlPipeline *pipeline, const char *environment)
{
	Oid			argtypes[2] = {JSONBOID, TEXTOID};
	Datum		values[2];
	GucContext	context = superuser_arg(pipeline->owner) ? PGC_SUSET : PGC_USERSET;
	int			ret;
	SettingsContext sc;
	ErrorContextCallback errcb;

	/* no settings (the usual case): nothing to read */
	if (pipeline->settings == NULL ||
		(JB_ROOT_IS_OBJECT(pipeline->settings) && JB_ROOT_COUNT(pipeline->settings) == 0))
		return;

	sc.pipeline = pipeline->name;
	sc.environment = environment;
	errcb.callback = SettingsErrorContext;
	errcb.arg = &sc;
	errcb.previous = error_context_stack;
	error_context_stack = &errcb;

	values[0] = JsonbPGetDatum(pipeline->settings);
	values[1] = CStringGetTextDatum(environment ? environment : "");

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	ret = IncetlExecuteCached("SELECT e.key, e.value #>> '{}', pg_catalog.jsonb_typeof(e.value), false "
								"FROM pg_catalog.jsonb_each($1) AS e "
								"WHERE pg_catalog.jsonb_typeof(e.value) <> 'object' "
								"UNION ALL "
								"SELECT e.key, e.value #>> '{}', pg_catalog.jsonb_typeof(e.value), true "
								"FROM pg_catalog.jsonb_each("
								"  CASE WHEN pg_catalog.jsonb_typeof($1 -> $2) = 'object' "
								"       THEN $1 -> $2 ELSE '{}'::pg_catalog.jsonb END) AS e",
								2, argtypes, values, NULL, true, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "could not read the settings of pipeline \"%s\"", pipeline->name);

	for (uint64 i = 0; i < SPI_processed; i++)
	{
		char	   *name = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);
		char	   *value = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2);
		char	   *type = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 3);
		bool		isnull;

		/* errors name the environment only for its own entries */
		sc.environment = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[i],
													SPI_tuptable->tupdesc, 4, &isnull)) ?
			environment : NULL;

		if (strcmp(type, "string") != 0 && strcmp(type, "number") != 0 &&
			strcmp(type, "boolean") != 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("setting \"%s\" of pipeline \"%s\" must be a string, a number or a boolean, not %s",
							name, pipeline->name, type),
					 errhint("settings map parameter names to values, e.g. {\"work_mem\": \"64MB\"}; "
							 "an object at the top level holds the settings of the environment it is named after.")));
		if (pg_strncasecmp(name, "incetl.", 7) == 0 ||
			pg_strcasecmp(name, "search_path") == 0 ||
			pg_strcasecmp(name, "role") == 0 ||
			pg_strcasecmp(name, "session_authorization") == 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("setting \"%s\" cannot be set by pipeline \"%s\"",
							name, pipeline->name)));
		(void) set_config_option(name, value, context, PGC_S_SESSION,
								 GUC_ACTION_SAVE, true, ERROR, false);
	}
	SPI_finish();
	error_context_stack = errcb.previous;
}

/*
 * IncetlCheckSettings tries the settings of every environment of the
 * pipeline, as its owner (call it inside IncetlBecomeOwner): a setting
 * that cannot apply -- an unknown or forbidden parameter, a bad value, one
 * the owner may not set -- is refused when the pipeline is created or
 * altered, not when that environment first runs.  Nothing stays set.
 */
void
IncetlCheckSettings(IncetlPipeline *pipeline)
{
	Oid			argtypes[1] = {JSONBOID};
	Datum		values[1];
	List	   *environments = NIL;
	ListCell   *lc;
	MemoryContext callercxt = CurrentMemoryContext;

	values[0] = JsonbPGetDatum(pipeline->settings);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args("SELECT e.key FROM pg_catalog.jsonb_each($1) AS e "
							  "WHERE pg_catalog.jsonb_typeof(e.value) = 'object' ORDER BY 1",
							  1, argtypes, values, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read the settings of pipeline \"%s\"", pipeline->name);
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		MemoryContext spicxt = MemoryContextSwitchTo(callercxt);

		environments = lappend(environments,
							   SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1));
		MemoryContextSwitchTo(spicxt);
	}
	SPI_finish();

	foreach(lc, environments)
	{
		int			nest = NewGUCNestLevel();

		ApplySettings(pipeline, lfirst(lc));
		AtEOXact_GUC(false, nest);
	}
}

/*
 * IncetlBecomeOwner switches to the pipeline owner with a restricted
 * security context, a new GUC nest level, the pipeline's search_path and,
 * when apply_settings, its settings.  IncetlRestoreUser undoes it; on
 * error the (sub)transaction abort does.
 */
void
IncetlBecomeOwner(IncetlPipeline *pipeline, IncetlUserContext *ctx,
				  bool apply_settings)
{
	char	   *path;

	IncetlCheckOwnerExists(pipeline);
	GetUserIdAndSecContext(&ctx->save_userid, &ctx->save_sec_context);
	SetUserIdAndSecContext(pipeline->owner,
						   ctx->save_sec_context |
						   SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_RESTRICTED_OPERATION);
	ctx->save_nestlevel = NewGUCNestLevel();

	path = (pipeline->search_path && pipeline->search_path[0] != '\0') ?
		psprintf("%s, pg_temp", pipeline->search_path) :
		pstrdup("pg_catalog, pg_temp");
	(void) set_config_option("search_path", path, PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	if (apply_settings)
		ApplySettings(pipeline, incetl_environment);
}

/*
 * IncetlRestoreUser leaves the owner's context.  Every setting changed
 * inside it is discarded, including those the owner's code made with
 * set_config(..., false) or SET (not SET LOCAL): isCommit = false, as
 * REFRESH MATERIALIZED VIEW and VACUUM do.  Keeping them would hand the
 * owner's search_path to whoever called incetl_run next.
 */
void
IncetlRestoreUser(IncetlUserContext *ctx)
{
	AtEOXact_GUC(false, ctx->save_nestlevel);
	SetUserIdAndSecContext(ctx->save_userid, ctx->save_sec_context);
}

/*
 * IncetlOwnerName is the name of the pipeline's owner, or its OID in
 * brackets when the role was dropped (in another database: DROP ROLE
 * sees only the pipelines of the database it runs in).
 */
const char *
IncetlOwnerName(IncetlPipeline *pipeline)
{
	char	   *name = GetUserNameFromId(pipeline->owner, true);

	return name ? name : psprintf("(dropped role %u)", pipeline->owner);
}

/*
 * IncetlCheckOwnerExists raises 42704 when the pipeline's owner role no
 * longer exists: nothing may run as it.
 */
void
IncetlCheckOwnerExists(IncetlPipeline *pipeline)
{
	if (!SearchSysCacheExists1(AUTHOID, ObjectIdGetDatum(pipeline->owner)))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("the owner of pipeline \"%s\" no longer exists (role %u)",
						pipeline->name, pipeline->owner),
				 errhint("A superuser can give the pipeline to another role: "
						 "SELECT incetl.alter_pipeline(%s, owner => 'some_role');",
						 quote_literal_cstr(pipeline->name))));
}

/*
 * IncetlCheckPipelineOwner raises 42501 unless the current user is the
 * pipeline's owner (or a member of the owning role) or a superuser.
 */
void
IncetlCheckPipelineOwner(IncetlPipeline *pipeline, const char *action)
{
	if (!has_privs_of_role(GetUserId(), pipeline->owner))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to %s pipeline \"%s\"",
						action, pipeline->name),
				 errdetail("Only the owner of the pipeline (%s) or a superuser may %s it.",
						   IncetlOwnerName(pipeline), action)));
}
