/*-------------------------------------------------------------------------
 *
 * cow_row_lock.c
 *	  Row locks of incetl_cow (table_tuple_lock): SELECT ... FOR UPDATE /
 *	  NO KEY UPDATE / SHARE / KEY SHARE with NOWAIT and SKIP LOCKED, and the
 *	  row locks the executor takes itself (BEFORE ROW triggers, INSERT ...
 *	  ON CONFLICT DO UPDATE, foreign key checks, EvalPlanQual).
 *
 * incetl_cow rows have no header to record a locker in, and writers
 * already serialize on the writers' lock (CowLockWriters).  A row lock
 * therefore locks every row of the table, to the end of the transaction,
 * through a lock tag of the table's own (CowRowLockTag, cow_merge.c), the
 * one whose ExclusiveLock is the writers' lock: FOR KEY SHARE and FOR
 * SHARE take it in ShareLock, so share lockers do not block each other;
 * FOR NO KEY UPDATE and FOR UPDATE take it in ExclusiveLock, as every
 * merge does.  So while a row lock is held no other transaction can
 * commit a write to the table.
 *
 * Once the lock is held the row's state is decided against the latest
 * committed state of the table plus this transaction's own writes (which
 * cannot change under the lock but through this transaction: the state
 * read is kept per command):
 *
 *	- its version is current: TM_Ok, the row in the slot;
 *	- deleted or updated by the running statement: TM_SelfModified;
 *	- a pending TID (a row the running statement buffered): TM_Invisible,
 *	  the slot holding the row when its image is kept (CowFetchPendingRow)
 *	  or all NULL, with our xid as xmin (ExecOnConflictUpdate reads it to
 *	  report a row affected twice);
 *	- carried unchanged into a new version (by a merge of ours,
 *	  CowResolveMovedRow, or with a record key by any merge: same key, same
 *	  commit id): TM_Ok at its new TID (*tid is set), not traversed;
 *	- replaced by a row of the same key written since: under READ COMMITTED
 *	  with TUPLE_LOCK_FLAG_FIND_LAST_VERSION, TM_Ok at the new row with
 *	  tmfd->traversed (the executor re-checks its quals, EvalPlanQual);
 *	  otherwise TM_Updated (REPEATABLE READ: the executor raises 40001).
 *	  Replaced by a write of this transaction: TM_SelfModified;
 *	- its key gone: TM_Deleted, or TM_SelfModified when this transaction
 *	  deleted it;
 *	- without a record key, a row whose version a concurrent commit
 *	  rewrote cannot be followed: 40001, as UPDATE and DELETE raise; one
 *	  whose version this transaction rewrote without carrying the row was
 *	  updated or deleted by us: TM_SelfModified (CowSupersededByUs).
 *
 * A TM_SelfModified row's cmax is the command that changed it, as heap
 * reports it (CowSelfModifiedCmax): the running command's own change is
 * skipped by the executor, a later command's (a function or a BEFORE
 * trigger the running command called) fails it with 27000.
 *
 * A slot filled here carries the row's xmin (CowSlotSetXmin).  The row
 * locked last is remembered for its command (CowRowLockedInCommand): heap
 * keeps the updater's own row lock on the new version of a row it locked,
 * so that a row locked and updated by one command (ON CONFLICT DO UPDATE,
 * a BEFORE ROW trigger's lock) shows the updater as xmax in RETURNING.
 *
 * Copyright (c) 2026, incetl authors
 *
 * IDENTIFICATION
 *	  src/cow/cow_row_lock.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/tableam.h"
#include "access/xact.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "storage/proc.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/sortsupport.h"

#include "cow/am.h"

/*
 * The latest state of one table as read under its row lock: one fetch
 * state per transaction, for the last relation locked, reloaded at each
 * command (CowFetchRow with no snapshot) and whenever the lock was just
 * taken.
 */
static CowIndexFetch *CowLockFetch = NULL;

/* the row locked last, by which command (CowRowLockedInCommand) */
static Oid	CowLastLockedRelid = InvalidOid;
static int64 CowLastLockedRow = 0;
static LocalTransactionId CowLastLockedLxid = InvalidLocalTransactionId;
static CommandId CowLastLockedCid = InvalidCommandId;

static TM_Result
CowLocked(Relation rel, ItemPointer tid, CommandId cid)
{
	CowLastLockedRelid = RelationGetRelid(rel);
	CowLastLockedRow = CowTidToRowNumber(tid);
	CowLastLockedLxid = MyProc->lxid;
	CowLastLockedCid = cid;
	return TM_Ok;
}

/*
 * CowRowLockedInCommand tells whether the row at tid is the one command
 * cid of this transaction locked last.
 */
bool
CowRowLockedInCommand(Relation rel, ItemPointer tid, CommandId cid)
{
	return CowLastLockedLxid == MyProc->lxid && CowLastLockedCid == cid &&
		CowLastLockedRelid == RelationGetRelid(rel) &&
		CowLastLockedRow == CowTidToRowNumber(tid);
}
static LocalTransactionId CowLockFetchLxid = InvalidLocalTransactionId;
static Oid	CowLockFetchRelid = InvalidOid;

static CowIndexFetch *
CowLockFetchFor(Relation rel, bool reload)
{
	if (CowLockFetch == NULL || CowLockFetchLxid != MyProc->lxid ||
		CowLockFetchRelid != RelationGetRelid(rel))
	{
		MemoryContext old = MemoryContextSwitchTo(TopTransactionContext);

		if (CowLockFetch != NULL && CowLockFetchLxid == MyProc->lxid)
			cow_index_fetch_end(&CowLockFetch->base);
		CowLockFetch = (CowIndexFetch *) cow_index_fetch_begin(rel);
		CowLockFetchLxid = MyProc->lxid;
		CowLockFetchRelid = RelationGetRelid(rel);
		MemoryContextSwitchTo(old);
	}
	CowLockFetch->base.rel = rel;
	if (reload)
		CowLockFetch->loaded = false;
	return CowLockFetch;
}

/*
 * CowFetchLocked puts row rownum of the latest state into slot,
 * materialized, with its xmin; false when no current version holds it.
 */
static bool
CowFetchLocked(CowIndexFetch *f, int64 rownum, TupleTableSlot *slot)
{
	if (!CowFetchRow(f, rownum, NULL, slot))
		return false;
	ExecMaterializeSlot(slot);
	CowSlotSetXmin(slot, f->group->version.xmin);
	return true;
}

/*
 * CowFindCurrentByKey finds, in the current versions of f, the row whose
 * record key is that of row rownum of a version no longer current.
 * Returns its row number (0 when the key is gone) and its commit id and
 * the old row's in *new_commit and *old_commit.
 */
static int64
CowFindCurrentByKey(Relation rel, CowIndexFetch *f, const CowOptions *opts,
					int64 rownum, int64 *old_commit, int64 *new_commit)
{
	TupleDesc	desc = RelationGetDescr(rel);
	int			nall;
	CowVersion *all = CowLoadVersions(CowStorageId(rel), SnapshotAny, false,
									  &nall);
	int64		off;
	int			vi = CowFindRow(rel, all, nall, rownum, &off);
	Bitmapset  *keycols = NULL;
	SortSupport keys = CowKeyComparators(desc, opts);
	Datum	   *key = palloc(sizeof(Datum) * opts->nkeys);
	Datum	   *first = palloc(sizeof(Datum) * opts->nkeys);
	Datum	   *last = palloc(sizeof(Datum) * opts->nkeys);
	Datum	   *cur = palloc(sizeof(Datum) * opts->nkeys);
	CowDecodedGroup *g;
	int			i,
				k;

	if (vi < 0)
		return 0;
	for (k = 0; k < opts->nkeys; k++)
		keycols = bms_add_member(keycols, opts->key_attnums[k] - 1);
	g = CowDecodeGroup(rel, &all[vi], false, keycols, true);
	for (k = 0; k < opts->nkeys; k++)
		key[k] = g->values[opts->key_attnums[k] - 1][off];
	*old_commit = g->commit_ids[off];

	for (i = 0; i < f->nversions; i++)
	{
		CowVersion *v = &f->versions[i];
		CowGroupHeader *h = CowReadGroupHeader(rel, v);
		CowDecodedGroup *cg;
		int64		lo,
					hi;

		if ((int) h->nkeys != opts->nkeys || v->row_count == 0)
			continue;
		CowGroupKeyBounds(h, first, last);
		if (CowCompareKeys(keys, opts->nkeys, key, first) < 0 ||
			CowCompareKeys(keys, opts->nkeys, key, last) > 0)
			continue;
		cg = CowDecodeGroup(rel, v, false, keycols, true);
		lo = 0;
		hi = (int64) cg->nrows - 1;
		while (lo <= hi)
		{
			int64		mid = (lo + hi) / 2;
			int			c;

			for (k = 0; k < opts->nkeys; k++)
				cur[k] = cg->values[opts->key_attnums[k] - 1][mid];
			c = CowCompareKeys(keys, opts->nkeys, key, cur);
			if (c == 0)
			{
				*new_commit = cg->commit_ids[mid];
				return CowGroupRowNumber(cg, (uint64) mid);
			}
			if (c < 0)
				hi = mid - 1;
			else
				lo = mid + 1;
		}
	}
	return 0;
}

/*
 * CowSupersededByUs tells whether the version that held row rownum was
 * superseded by this transaction, as its latest state shows it.  A row
 * such a version carried unchanged has been found by CowResolveMovedRow
 * already: one not found was updated or deleted.
 */
static bool
CowSupersededByUs(Relation rel, int64 rownum)
{
	Snapshot	snap = RegisterSnapshot(GetLatestSnapshot());
	int			nall;
	CowVersion *all = CowLoadVersions(CowStorageId(rel), snap, false, &nall);
	int			vi = CowFindRow(rel, all, nall, rownum, NULL);

	UnregisterSnapshot(snap);

	/*
	 * the catalog row of a superseded version was updated by the writer
	 * that superseded it: its xmin is that writer's
	 */
	return vi >= 0 && all[vi].superseded_by != 0 &&
		TransactionIdIsCurrentTransactionId(all[vi].xmin);
}

/*
 * CowLockSelfModified: row rownum, at *tid, was updated or deleted by this
 * transaction since the caller's scan returned it -- heap's TM_SelfModified,
 * with the changing command as cmax (CowSelfModifiedCmax).
 */
static TM_Result
CowLockSelfModified(Relation rel, ItemPointer tid, int64 rownum,
					CommandId cid, TupleTableSlot *slot, TM_FailureData *tmfd)
{
	ExecClearTuple(slot);
	tmfd->ctid = *tid;
	tmfd->xmax = GetCurrentTransactionId();
	tmfd->cmax = CowSelfModifiedCmax(rel, rownum, cid);
	return TM_SelfModified;
}

TM_Result
CowTupleLock(Relation rel, ItemPointer tid, Snapshot snapshot,
			 TupleTableSlot *slot, CommandId cid, LockTupleMode mode,
			 LockWaitPolicy wait_policy, uint8 flags, TM_FailureData *tmfd)
{
	int64		rownum = CowTidToRowNumber(tid);
	bool		acquired = false;
	CowIndexFetch *f;
	int64		moved;
	CowOptions	opts;
	Snapshot	snap;
	MemoryContext cxt,
				old;
	int64		old_commit = 0,
				new_commit = 0;
	TM_Result	result;

	tmfd->traversed = false;
	if (!CowLockRows(rel,
					 (mode == LockTupleKeyShare || mode == LockTupleShare) ?
					 ShareLock : ExclusiveLock,
					 wait_policy, &acquired))
		return TM_WouldBlock;

	if (rownum >= COW_MAX_ROW_NUMBER)
	{
		/*
		 * A row the running statement buffered: inserted by this command.
		 * Its image when one is kept (CowFetchPendingRow), else NULLs; the
		 * executor reads the xmin.
		 */
		if (!CowFetchPendingRow(rel, rownum, slot))
		{
			ExecStoreAllNullTuple(slot);
			slot->tts_tid = *tid;
			slot->tts_tableOid = RelationGetRelid(rel);
			CowSlotSetXmin(slot, GetCurrentTransactionId());
		}
		tmfd->ctid = *tid;
		tmfd->xmax = InvalidTransactionId;
		tmfd->cmax = InvalidCommandId;
		return TM_Invisible;
	}
	if (CowBufferDeleted(rel, rownum))
	{
		ExecClearTuple(slot);
		tmfd->ctid = *tid;
		tmfd->xmax = GetCurrentTransactionId();
		tmfd->cmax = cid;
		return TM_SelfModified;
	}

	f = CowLockFetchFor(rel, acquired);
	if (CowFetchLocked(f, rownum, slot))
		return CowLocked(rel, tid, cid);

	/* carried into a new version by a merge of this transaction */
	moved = CowResolveMovedRow(rel, rownum, f->versions, f->nversions, false);
	if (moved != 0 && CowFetchLocked(f, moved, slot))
	{
		CowRowNumberToTid(moved, tid);
		return CowLocked(rel, tid, cid);
	}

	cxt = AllocSetContextCreate(CurrentMemoryContext, "incetl cow row lock",
								ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(cxt);
	snap = RegisterSnapshot(GetLatestSnapshot());
	CowLoadOptions(rel, snap, &opts);
	UnregisterSnapshot(snap);
	if (opts.nkeys == 0 && CowSupersededByUs(rel, rownum))
	{
		/*
		 * Its version was replaced by a command of ours that did not carry
		 * it: the row was updated or deleted by this transaction (a cursor
		 * opened before), as heap's TM_SelfModified.
		 */
		MemoryContextSwitchTo(old);
		MemoryContextDelete(cxt);
		return CowLockSelfModified(rel, tid, rownum, cid, slot, tmfd);
	}
	if (opts.nkeys == 0)
		ereport(ERROR,
				(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
				 errmsg("could not serialize access due to concurrent update of \"%s\"",
						RelationGetRelationName(rel)),
				 errdetail("A row to be locked was rewritten by a concurrent transaction, and a table without a record key cannot follow it."),
				 errhint("The transaction might succeed if retried.")));
	moved = CowFindCurrentByKey(rel, f, &opts, rownum, &old_commit, &new_commit);
	MemoryContextSwitchTo(old);
	MemoryContextDelete(cxt);

	tmfd->ctid = *tid;
	tmfd->xmax = InvalidTransactionId;
	tmfd->cmax = InvalidCommandId;
	if (moved == 0)
	{
		/*
		 * Its key deleted by this transaction: by a command this one called
		 * (a BEFORE trigger deleting a row the statement comes to later),
		 * heap's 27000; by this command or an earlier one (a cursor's row),
		 * skipped -- as without a record key above.
		 */
		if (CowSupersededByUs(rel, rownum))
			return CowLockSelfModified(rel, tid, rownum, cid, slot, tmfd);
		ExecClearTuple(slot);
		return TM_Deleted;
	}
	if (!CowFetchLocked(f, moved, slot))
		elog(ERROR, "incetl_cow row " INT64_FORMAT " of \"%s\" vanished under its lock",
			 moved, RelationGetRelationName(rel));
	if (new_commit == old_commit)
	{
		/* carried unchanged by another transaction's rewrite */
		CowRowNumberToTid(moved, tid);
		return CowLocked(rel, tid, cid);
	}
	if (TransactionIdIsCurrentTransactionId(f->group->version.xmin))
	{
		/*
		 * replaced by a command of ours: an earlier one (a cursor's old
		 * row) or a later one that this command called
		 */
		return CowLockSelfModified(rel, tid, rownum, cid, slot, tmfd);
	}
	CowRowNumberToTid(moved, &tmfd->ctid);
	tmfd->xmax = f->group->version.xmin;
	if ((flags & TUPLE_LOCK_FLAG_FIND_LAST_VERSION) && !IsolationUsesXactSnapshot())
	{
		CowRowNumberToTid(moved, tid);
		tmfd->traversed = true;
		result = CowLocked(rel, tid, cid);
	}
	else
	{
		ExecClearTuple(slot);
		result = TM_Updated;
	}
	return result;
}
