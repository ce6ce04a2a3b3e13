/*-------------------------------------------------------------------------
 *
 * incetl.c
 *	  Module entry point of incetl (cow worktree stand-in).
 *
 * The pipeline branch owns the real version of this file (GUCs, pipeline
 * functions); it must call cow_init() from _PG_init.  The pipeline
 * functions below are placeholders so that the extension script loads in
 * the cow worktree; they are not merged.
 *
 * Copyright (c) 2026, incetl authors
 *
 * IDENTIFICATION
 *	  src/incetl.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"

#include "cow.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

void
_PG_init(void)
{
	cow_init();
}

#define INCETL_PIPELINE_STUB(name) \
	PG_FUNCTION_INFO_V1(name); \
	Datum name(PG_FUNCTION_ARGS); \
	Datum \
	name(PG_FUNCTION_ARGS) \
	{ \
		ereport(ERROR, \
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED), \
				 errmsg("%s is not built in the cow branch", #name))); \
		PG_RETURN_VOID(); \
	}

INCETL_PIPELINE_STUB(incetl_create_pipeline)
INCETL_PIPELINE_STUB(incetl_alter_pipeline)
INCETL_PIPELINE_STUB(incetl_drop_pipeline)
INCETL_PIPELINE_STUB(incetl_pause_pipeline)
INCETL_PIPELINE_STUB(incetl_resume_pipeline)
INCETL_PIPELINE_STUB(incetl_reset_pipeline)
INCETL_PIPELINE_STUB(incetl_schedule)
INCETL_PIPELINE_STUB(incetl_unschedule)
INCETL_PIPELINE_STUB(incetl_run)
INCETL_PIPELINE_STUB(incetl_cron_next_run)
INCETL_PIPELINE_STUB(incetl_safe_upper_bound)
