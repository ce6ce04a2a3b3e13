/*-------------------------------------------------------------------------
 *
 * cow_savepoint.c
 *	  Savepoints and restore of incetl_cow tables: incetl.savepoint(),
 *	  savepoints(), remove_savepoint() and restore().
 *
 * Copyright (c) 2026, incetl authors
 *
 * IDENTIFICATION
 *	  src/cow/cow_savepoint.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"

#include "cow/maintenance.h"

PG_FUNCTION_INFO_V1(incetl_cow_savepoint);
PG_FUNCTION_INFO_V1(incetl_cow_savepoints);
PG_FUNCTION_INFO_V1(incetl_cow_remove_savepoint);
PG_FUNCTION_INFO_V1(incetl_cow_restore);

/* placeholders while savepoints are built (issue 11) */
Datum
incetl_cow_savepoint(PG_FUNCTION_ARGS)
{
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("incetl.savepoint() is not built yet")));
	PG_RETURN_NULL();
}

Datum
incetl_cow_savepoints(PG_FUNCTION_ARGS)
{
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("incetl.savepoints() is not built yet")));
	PG_RETURN_NULL();
}

Datum
incetl_cow_remove_savepoint(PG_FUNCTION_ARGS)
{
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("incetl.remove_savepoint() is not built yet")));
	PG_RETURN_NULL();
}

Datum
incetl_cow_restore(PG_FUNCTION_ARGS)
{
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("incetl.restore() is not built yet")));
	PG_RETURN_NULL();
}
