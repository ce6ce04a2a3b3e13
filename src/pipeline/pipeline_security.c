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
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/jsonb.h"

#include "incetl.h"

static void ApplySettings(IncetlPipeline *pipeline);

/*
 * ApplySettings sets every GUC of the pipeline's settings: the top-level
 * scalar entries first, then those of the object named after the current
 * incetl.environment, which override them.  Objects for other
 * environments are ignored.
 */
static void
ApplySettings(IncetlPipeline *pipeline)
{
	Oid			argtypes[2] = {JSONBOID, TEXTOID};
	Datum		values[2];
	GucContext	context = superuser_arg(pipeline->owner) ? PGC_SUSET : PGC_USERSET;
	int			ret;

	values[0] = JsonbPGetDatum(pipeline->settings);
	values[1] = CStringGetTextDatum(incetl_environment ? incetl_environment : "");

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	ret = SPI_execute_with_args("SELECT e.key, e.value #>> '{}' FROM pg_catalog.jsonb_each($1) AS e "
								"WHERE pg_catalog.jsonb_typeof(e.value) NOT IN ('object', 'array', 'null') "
								"UNION ALL "
								"SELECT e.key, e.value #>> '{}' FROM pg_catalog.jsonb_each("
								"  CASE WHEN pg_catalog.jsonb_typeof($1 -> $2) = 'object' "
								"       THEN $1 -> $2 ELSE '{}'::pg_catalog.jsonb END) AS e "
								"WHERE pg_catalog.jsonb_typeof(e.value) NOT IN ('object', 'array', 'null')",
								2, argtypes, values, NULL, true, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "could not read the settings of pipeline \"%s\"", pipeline->name);

	for (uint64 i = 0; i < SPI_processed; i++)
	{
		char	   *name = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);
		char	   *value = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2);

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
		ApplySettings(pipeline);
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
