/*-------------------------------------------------------------------------
 *
 * cow_changefeed.c
 *	  The change feed of incetl_cow tables: incetl.table_changes() (per
 *	  commit and key: operation, row before and after) and
 *	  incetl.net_changes() (per key over a range of commits).
 *
 * Copyright (c) 2026, incetl authors
 *
 * IDENTIFICATION
 *	  src/cow/cow_changefeed.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"

#include "cow/maintenance.h"

PG_FUNCTION_INFO_V1(incetl_cow_table_changes);
PG_FUNCTION_INFO_V1(incetl_cow_net_changes);

/* placeholder while the feed is built (issue 11) */
Datum
incetl_cow_table_changes(PG_FUNCTION_ARGS)
{
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("incetl.table_changes() is not built yet")));
	PG_RETURN_NULL();
}

Datum
incetl_cow_net_changes(PG_FUNCTION_ARGS)
{
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("incetl.net_changes() is not built yet")));
	PG_RETURN_NULL();
}
