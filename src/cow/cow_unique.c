/*-------------------------------------------------------------------------
 *
 * cow_unique.c
 *	  Unique and exclusion constraints of incetl_cow tables.
 *
 * A statement's rows are buffered and merged at its end, so the checks the
 * executor makes as it inserts each row (at a pending TID, against a table
 * that does not have the statement's rows yet) cannot decide; the write
 * state answers them with "no conflicting row" (cow_write_state.c,
 * CowPendingFetch).  The check is made here instead, once the merge has
 * written the statement's rows, under the writers' lock (held to commit:
 * no other writer of the table is in progress, so the check is exact): for
 * every row the merge wrote new or changed, every unique index is asked
 * again with UNIQUE_CHECK_EXISTING at the row's real TID -- btree raises
 * PostgreSQL's own 23505 -- and every exclusion constraint is checked with
 * check_exclusion_constraint (23P01).
 *
 * The record-key rule: a unique index that is not partial, has no
 * expressions and whose key columns are exactly the record key columns is
 * the table's key constraint.  It is never checked: the merge keeps one
 * row per key, and an INSERT of a stored key is an upsert.
 *
 * A constraint that is not immediate (DEFERRABLE, INITIALLY DEFERRED or
 * after SET CONSTRAINTS ... DEFERRED) is not checked here: a recheck event
 * of PostgreSQL's own unique_key_recheck trigger is queued for each row,
 * and PostgreSQL's deferral state decides when it fires.  That needs an
 * after-trigger query level: when the merge runs outside one (COPY's end,
 * a merge at commit), the check is made at once.
 *
 * Copyright (c) 2026, incetl authors
 *
 * IDENTIFICATION
 *	  src/cow/cow_unique.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/tableam.h"
#include "catalog/index.h"
#include "catalog/pg_index.h"
#include "commands/trigger.h"
#include "executor/executor.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "utils/fmgroids.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "cow/write.h"

/*
 * Set by the executor hook (cow_hooks.c) while it merges a finishing
 * query's rows before the query's after-trigger level ends: only then can
 * recheck events be queued.
 */
bool		CowAfterTriggerQueueOpen = false;

/*
 * CowIsKeyConstraint: is index the table's key constraint -- unique, not
 * partial, no expressions, its key columns exactly the record key's?
 */
bool
CowIsKeyConstraint(Relation index, const CowOptions *opts)
{
	Form_pg_index form = index->rd_index;
	int			i,
				k;

	if (!form->indisunique || opts->nkeys == 0 ||
		form->indnkeyatts != opts->nkeys ||
		!heap_attisnull(index->rd_indextuple, Anum_pg_index_indpred, NULL) ||
		!heap_attisnull(index->rd_indextuple, Anum_pg_index_indexprs, NULL))
		return false;
	for (i = 0; i < form->indnkeyatts; i++)
	{
		bool		found = false;

		for (k = 0; k < opts->nkeys; k++)
			found |= (form->indkey.values[i] == opts->key_attnums[k]);
		if (!found)
			return false;
	}
	return true;
}

/* CowAnyNull: is any of the first n values NULL? */
static bool
CowAnyNull(const bool *isnull, int n)
{
	for (int i = 0; i < n; i++)
		if (isnull[i])
			return true;
	return false;
}

/*
 * CowIndexNeedsCheck: must the rows a merge writes be checked against
 * index (a unique index other than the key constraint, or an exclusion
 * constraint)?
 */
bool
CowIndexNeedsCheck(Relation index, IndexInfo *ii, const CowOptions *opts)
{
	if (!ii->ii_ReadyForInserts)
		return false;
	if (ii->ii_ExclusionOps != NULL)
		return true;
	return index->rd_index->indisunique && !CowIsKeyConstraint(index, opts);
}

/*
 * CowRecheckTriggers returns a copy of rel's triggers holding only the
 * unique_key_recheck triggers of the indexes in deferred: the trigger
 * description of a ResultRelInfo through which recheck events are queued
 * (and nothing else fires).
 */
static TriggerDesc *
CowRecheckTriggers(Relation rel, List *deferred)
{
	TriggerDesc *all = rel->trigdesc;
	TriggerDesc *copy;
	TriggerDesc *td;
	int			i;

	if (all == NULL)
		return NULL;
	copy = CopyTriggerDesc(all);
	td = palloc0(sizeof(TriggerDesc));
	td->triggers = palloc(sizeof(Trigger) * copy->numtriggers);
	for (i = 0; i < copy->numtriggers; i++)
	{
		Trigger    *t = &copy->triggers[i];

		if (t->tgfoid == F_UNIQUE_KEY_RECHECK &&
			list_member_oid(deferred, t->tgconstrindid))
			td->triggers[td->numtriggers++] = *t;
	}
	td->trig_insert_after_row = (td->numtriggers > 0);
	return td->numtriggers > 0 ? td : NULL;
}

/*
 * CowCheckWrittenRows checks the unique and exclusion constraints of rel
 * (see the file header) for rows rownums[n], which a merge just wrote
 * (and made visible with CommandCounterIncrement).  opts are the options
 * the merge ran under (they say which index is the key constraint).  The
 * caller holds the writers' lock.  Raises the constraint's error; queues
 * recheck events for constraints that are not immediate.
 */
void
CowCheckWrittenRows(Relation rel, const CowOptions *opts, const int64 *rownums,
					int64 n)
{
	EState	   *estate;
	ResultRelInfo *rri;
	ExprContext *econtext;
	TupleTableSlot *slot;
	IndexFetchTableData *fetch;
	List	   *immediate = NIL;	/* of int: index positions */
	List	   *deferred = NIL;		/* of Oid */
	List	   *deferred_pos = NIL; /* of int */
	int64		r;
	int			i;

	if (n == 0 || !RelationGetForm(rel)->relhasindex)
		return;
	estate = CreateExecutorState();
	rri = makeNode(ResultRelInfo);
	InitResultRelInfo(rri, rel, 1, NULL, 0);
	ExecOpenIndices(rri, false);
	for (i = 0; i < rri->ri_NumIndices; i++)
	{
		Relation	index = rri->ri_IndexRelationDescs[i];
		IndexInfo  *ii = rri->ri_IndexRelationInfo[i];

		if (!CowIndexNeedsCheck(index, ii, opts))
			continue;
		if (!index->rd_index->indimmediate && CowAfterTriggerQueueOpen)
		{
			deferred = lappend_oid(deferred, RelationGetRelid(index));
			deferred_pos = lappend_int(deferred_pos, i);
		}
		else
			immediate = lappend_int(immediate, i);
	}
	if (deferred != NIL)
	{
		rri->ri_TrigDesc = CowRecheckTriggers(rel, deferred);
		if (rri->ri_TrigDesc == NULL)
		{
			/* no recheck trigger found: check now rather than never */
			immediate = list_concat(immediate, deferred_pos);
			deferred = deferred_pos = NIL;
		}
	}
	if (immediate == NIL && deferred == NIL)
	{
		ExecCloseIndices(rri);
		FreeExecutorState(estate);
		return;
	}

	econtext = GetPerTupleExprContext(estate);
	slot = table_slot_create(rel, NULL);
	econtext->ecxt_scantuple = slot;
	fetch = table_index_fetch_begin(rel);
	for (r = 0; r < n; r++)
	{
		ItemPointerData tid;
		bool		call_again = false;
		List	   *recheck = NIL;
		ListCell   *lc;

		CHECK_FOR_INTERRUPTS();
		CowRowNumberToTid(rownums[r], &tid);
		/* a later part of the statement may have replaced it already */
		if (!table_index_fetch_tuple(fetch, &tid, SnapshotSelf, slot,
									 &call_again, NULL))
			continue;
		slot_getallattrs(slot);
		slot->tts_tid = tid;
		slot->tts_tableOid = RelationGetRelid(rel);

		foreach(lc, immediate)
		{
			int			pos = lfirst_int(lc);
			Relation	index = rri->ri_IndexRelationDescs[pos];
			IndexInfo  *ii = rri->ri_IndexRelationInfo[pos];
			Datum		values[INDEX_MAX_KEYS];
			bool		isnull[INDEX_MAX_KEYS];

			if (ii->ii_Predicate != NIL)
			{
				if (ii->ii_PredicateState == NULL)
					ii->ii_PredicateState = ExecPrepareQual(ii->ii_Predicate, estate);
				if (!ExecQual(ii->ii_PredicateState, econtext))
					continue;
			}
			FormIndexDatum(ii, slot, estate, values, isnull);
			if (ii->ii_ExclusionOps != NULL)
				check_exclusion_constraint(rel, index, ii, &tid, values, isnull,
										   estate, false);
			else if (ii->ii_NullsNotDistinct ||
					 !CowAnyNull(isnull, IndexRelationGetNumberOfKeyAttributes(index)))
			{
				/*
				 * A key with a NULL is unique unless NULLS NOT DISTINCT (btree
				 * skips the check for it, and expects no recheck of it).
				 */
				index_insert(index, values, isnull, &tid, rel,
							 UNIQUE_CHECK_EXISTING, false, ii);
			}
		}
		foreach(lc, deferred_pos)
		{
			int			pos = lfirst_int(lc);
			IndexInfo  *ii = rri->ri_IndexRelationInfo[pos];

			if (ii->ii_Predicate != NIL)
			{
				if (ii->ii_PredicateState == NULL)
					ii->ii_PredicateState = ExecPrepareQual(ii->ii_Predicate, estate);
				if (!ExecQual(ii->ii_PredicateState, econtext))
					continue;
			}
			recheck = lappend_oid(recheck,
								  RelationGetRelid(rri->ri_IndexRelationDescs[pos]));
		}
		if (recheck != NIL)
			ExecARInsertTriggers(estate, rri, slot, recheck, NULL);
		list_free(recheck);
		ResetPerTupleExprContext(estate);
	}
	table_index_fetch_end(fetch);
	ExecDropSingleTupleTableSlot(slot);
	ExecCloseIndices(rri);
	FreeExecutorState(estate);
}
