/*-------------------------------------------------------------------------
 *
 * cow_counts.c
 *	  What the current transaction wrote to each incetl_cow table so far:
 *	  rows inserted (new keys), updated (replaced) and deleted, and the
 *	  commit id of its last write.  The merge and TRUNCATE record them; the
 *	  pipeline layer (target_cow.c) and incetl.cow_write_counts() read
 *	  them.  They live in TopTransactionContext and go with it.
 *
 * Copyright (c) 2026, incetl authors
 *
 * IDENTIFICATION
 *	  src/cow/cow_counts.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "fmgr.h"
#include "funcapi.h"
#include "nodes/pg_list.h"
#include "utils/memutils.h"

#include "cow/catalog.h"

typedef struct CowCounts
{
	Oid			relid;
	int64		inserted;
	int64		updated;
	int64		deleted;
	int64		last_commit_id;
} CowCounts;

static List *CowCountsList = NIL;	/* of CowCounts *, in TopTransactionContext */

static void CowCountsReset(void *arg);

static void
CowCountsReset(void *arg)
{
	CowCountsList = NIL;
}

void
CowRecordCounts(Oid relid, int64 ins, int64 upd, int64 del, int64 commit_id)
{
	ListCell   *lc;
	CowCounts  *c = NULL;
	MemoryContext old;

	foreach(lc, CowCountsList)
	{
		if (((CowCounts *) lfirst(lc))->relid == relid)
			c = lfirst(lc);
	}
	if (c == NULL)
	{
		if (CowCountsList == NIL)
		{
			/* forget the counts with the transaction that made them */
			MemoryContextCallback *cb = MemoryContextAlloc(TopTransactionContext,
														   sizeof(MemoryContextCallback));

			cb->func = CowCountsReset;
			cb->arg = NULL;
			MemoryContextRegisterResetCallback(TopTransactionContext, cb);
		}
		old = MemoryContextSwitchTo(TopTransactionContext);
		c = palloc0(sizeof(CowCounts));
		c->relid = relid;
		CowCountsList = lappend(CowCountsList, c);
		MemoryContextSwitchTo(old);
	}
	c->inserted += ins;
	c->updated += upd;
	c->deleted += del;
	c->last_commit_id = commit_id;
}

/*
 * cow_write_counts reports the rows inserted (new keys), updated
 * (replaced) and deleted in relid by the current transaction so far,
 * counting only what has been flushed (every finished statement is).
 * Rollback to a savepoint does not subtract.
 */
void
cow_write_counts(Oid relid, int64 *inserted, int64 *updated, int64 *deleted)
{
	ListCell   *lc;

	*inserted = *updated = *deleted = 0;
	foreach(lc, CowCountsList)
	{
		CowCounts  *c = lfirst(lc);

		if (c->relid == relid)
		{
			*inserted = c->inserted;
			*updated = c->updated;
			*deleted = c->deleted;
		}
	}
}

/*
 * cow_last_commit_id returns the commit id of the last write to relid in
 * this transaction, or 0.
 */
int64
cow_last_commit_id(Oid relid)
{
	ListCell   *lc;

	foreach(lc, CowCountsList)
	{
		CowCounts  *c = lfirst(lc);

		if (c->relid == relid)
			return c->last_commit_id;
	}
	return 0;
}

PG_FUNCTION_INFO_V1(incetl_cow_write_counts);

/*
 * incetl.cow_write_counts(tbl): cow_write_counts() and cow_last_commit_id()
 * for SQL callers.
 */
Datum
incetl_cow_write_counts(PG_FUNCTION_ARGS)
{
	TupleDesc	desc;
	Datum		values[4];
	bool		nulls[4] = {false, false, false, false};
	int64		ins,
				upd,
				del,
				cid;

	cow_write_counts(PG_GETARG_OID(0), &ins, &upd, &del);
	cid = cow_last_commit_id(PG_GETARG_OID(0));
	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	desc = BlessTupleDesc(desc);
	values[0] = Int64GetDatum(ins);
	values[1] = Int64GetDatum(upd);
	values[2] = Int64GetDatum(del);
	values[3] = Int64GetDatum(cid);
	nulls[3] = (cid == 0);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
}
