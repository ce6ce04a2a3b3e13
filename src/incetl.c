/*-------------------------------------------------------------------------
 *
 * incetl.c
 *	  Module entry point of incetl: the library magic block, _PG_init, the
 *	  GUCs the pipeline layer reads, and the start of the incetl_cow table
 *	  access method (cow_init registers its hooks and callbacks).
 *
 *	  incetl.environment           recorded on every run; selects the
 *	                               per-environment part of a pipeline's
 *	                               settings
 *	  incetl.writer_wait_timeout   how long a run with an integer watermark
 *	                               waits for the source's in-progress
 *	                               writers before it gives up (transient
 *	                               error, retried)
 *	  incetl.test_naive_watermark  test only: use the naive "now()" upper
 *	                               bound that loses rows under concurrent
 *	                               writers, to prove the tests catch it
 *
 * Copyright (c) 2026, incetl developers
 *
 * IDENTIFICATION
 *	  src/incetl.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <limits.h>

#include "fmgr.h"
#include "utils/guc.h"

#include "cow.h"
#include "incetl.h"

PG_MODULE_MAGIC;

char	   *incetl_environment = NULL;
bool		incetl_test_naive_watermark = false;
int			incetl_writer_wait_timeout = 10000;
int			incetl_run_log_retention = 90 * 24 * 60;	/* minutes */

void		_PG_init(void);

void
_PG_init(void)
{
	DefineCustomStringVariable("incetl.environment",
							   "Name of the environment runs execute in (e.g. development, production).",
							   "Recorded in incetl.run_log and used to pick the per-environment "
							   "part of a pipeline's settings.",
							   &incetl_environment,
							   "default",
							   PGC_USERSET,
							   0,
							   NULL, NULL, NULL);

	DefineCustomIntVariable("incetl.writer_wait_timeout",
							"Longest wait of a run for in-progress writers of its source.",
							"Integer watermarks are only safe once every transaction that may "
							"still write below the new bound has finished.",
							&incetl_writer_wait_timeout,
							10000, 0, INT_MAX,
							PGC_USERSET,
							GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomIntVariable("incetl.run_log_retention",
							"How long incetl.run_log keeps the rows of a run.",
							"Every run deletes the oldest rows of its pipeline beyond this "
							"age (a hundred at a time); incetl.purge_run_log() deletes all of "
							"them. -1 keeps every row.",
							&incetl_run_log_retention,
							90 * 24 * 60, -1, INT_MAX,
							PGC_SUSET,
							GUC_UNIT_MIN,
							NULL, NULL, NULL);

	DefineCustomBoolVariable("incetl.test_naive_watermark",
							 "Test only: use now() as the upper bound of a run (loses rows).",
							 NULL,
							 &incetl_test_naive_watermark,
							 false,
							 PGC_SUSET,
							 GUC_NOT_IN_SAMPLE,
							 NULL, NULL, NULL);

	IncetlRolesInit();
	IncetlFeedHolderInit();
	cow_init();

	/*
	 * Last: this drops the placeholders of every incetl.* setting not
	 * defined by now, so a setting defined after it (cow_init's) would lose
	 * the value postgresql.conf gave it at server start.
	 */
	MarkGUCPrefixReserved("incetl");
}
