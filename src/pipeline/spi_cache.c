/*-------------------------------------------------------------------------
 *
 * spi_cache.c
 *	  Statements a run executes every time, prepared once per backend.
 *
 *	  A run reads the pipeline's settings, the source's bound, sequences
 *	  and prepared transactions, probes the batch and logs: small
 *	  statements whose parse and plan cost more than their execution.  (The
 *	  definition, the watermark and an empty run's streak row are read and
 *	  written without SQL: pipeline_catalog.c, run_log.c.)  Each
 *	  text is prepared on first use and kept (SPI_keepplan) in a table of
 *	  this backend, keyed by the text and its parameter types; the plan cache revalidates a
 *	  kept plan when what it depends on changes (a table altered, another
 *	  search_path), so a kept plan never runs against stale definitions.
 *	  The table holds at most CACHE_SIZE texts; past that, statements are
 *	  prepared for one use as before.
 *
 *	  The lowest layer of src/pipeline: calls nothing of it.
 *
 * Copyright (c) 2026, incetl developers
 *
 * IDENTIFICATION
 *	  src/pipeline/spi_cache.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/hashfn.h"
#include "executor/spi.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"

#include "incetl.h"

#define CACHE_SIZE 256

typedef struct CachedStatement
{
	uint32		hash;			/* hash key: of the text */
	char	   *sql;			/* the text, in TopMemoryContext */
	int			nargs;
	int			options;		/* cursor options it was prepared with */
	Oid		   *argtypes;		/* in TopMemoryContext */
	SPIPlanPtr	plan;			/* kept */
} CachedStatement;

static HTAB *statements = NULL;

/*
 * IncetlCachedPlan returns the kept plan of sql with the given parameter
 * types, preparing it on first use.  Call inside an SPI connection.
 * Returns NULL when the table is full or another text has the same hash:
 * the caller then prepares for one use (IncetlPreparePlan does both).
 */
static SPIPlanPtr
IncetlCachedPlan(const char *sql, int nargs, Oid *argtypes, int options)
{
	uint32		hash = hash_bytes((const unsigned char *) sql, strlen(sql));
	CachedStatement *entry;
	SPIPlanPtr	plan;
	bool		found;

	if (statements == NULL)
	{
		HASHCTL		ctl;

		ctl.keysize = sizeof(uint32);
		ctl.entrysize = sizeof(CachedStatement);
		statements = hash_create("incetl statements", 64, &ctl,
								 HASH_ELEM | HASH_BLOBS);
	}

	/* the same text with other parameter types is another statement */
	if (nargs > 0)
		hash = hash_combine(hash, hash_bytes((const unsigned char *) argtypes,
											 sizeof(Oid) * nargs));
	entry = hash_search(statements, &hash, HASH_FIND, NULL);
	if (entry != NULL)
		return (strcmp(entry->sql, sql) == 0 && entry->nargs == nargs &&
				entry->options == options &&
				(nargs == 0 ||
				 memcmp(entry->argtypes, argtypes, sizeof(Oid) * nargs) == 0)) ?
			entry->plan : NULL;
	if (hash_get_num_entries(statements) >= CACHE_SIZE)
		return NULL;

	plan = SPI_prepare_cursor(sql, nargs, argtypes, options);
	if (plan == NULL)
		return NULL;			/* the caller prepares again and reports */
	if (SPI_keepplan(plan) != 0)
		return NULL;
	entry = hash_search(statements, &hash, HASH_ENTER, &found);
	entry->sql = MemoryContextStrdup(TopMemoryContext, sql);
	entry->nargs = nargs;
	entry->options = options;
	entry->argtypes = NULL;
	if (nargs > 0)
	{
		entry->argtypes = MemoryContextAlloc(TopMemoryContext, sizeof(Oid) * nargs);
		memcpy(entry->argtypes, argtypes, sizeof(Oid) * nargs);
	}
	entry->plan = plan;
	return plan;
}

/*
 * IncetlPreparePlan returns a plan of sql for the current SPI connection:
 * the kept one, or one prepared for this use.  NULL (SPI_result set) when
 * sql cannot be prepared.  The plan cache chooses between custom and
 * generic plans as for any prepared statement (a batch's range deserves
 * a plan for its values).
 */
SPIPlanPtr
IncetlPreparePlan(const char *sql, int nargs, Oid *argtypes)
{
	SPIPlanPtr	plan = IncetlCachedPlan(sql, nargs, argtypes, 0);

	if (plan != NULL)
		return plan;
	return SPI_prepare(sql, nargs, argtypes);
}

/*
 * IncetlExecuteCached is SPI_execute_with_args through a kept plan, for
 * statements of incetl's own (catalogs, system views) whose parameters
 * are names and bounds that do not change their best plan: always the
 * generic plan, planned once.
 */
int
IncetlExecuteCached(const char *sql, int nargs, Oid *argtypes, Datum *values,
					const char *nulls, bool read_only, long tcount)
{
	SPIPlanPtr	plan = IncetlCachedPlan(sql, nargs, argtypes, CURSOR_OPT_GENERIC_PLAN);

	if (plan == NULL)
		plan = SPI_prepare(sql, nargs, argtypes);

	if (plan == NULL)
		return SPI_result;
	return SPI_execute_plan(plan, values, nulls, read_only, tcount);
}
