/*-------------------------------------------------------------------------
 *
 * cow_write_state.c
 *	  Rows and deletes buffered by the current statement, per relation.
 *
 * tuple_insert / multi_insert / tuple_delete / tuple_update only buffer
 * here; they never touch catalogs (they may run in parallel mode).  The
 * buffer is merged through cow_merge.c at the end of the statement
 * (ExecutorFinish hook, finish_bulk_insert), with a pre-commit safety net.
 *
 * Memory is bounded by maintenance_work_mem.  Past it, rows whose record
 * keys have ascended strictly over the whole statement (a load in key
 * order) are merged in parts -- no later row can share a key with them, so
 * the result is that of one merge; delete markers among them are also kept
 * as tombstones in the spill, in case the order breaks later.  A statement
 * appending in key order whose order breaks goes on being merged in parts
 * through a reordering heap, only its late rows sorted (CowReorder).  Any
 * other statement moves its rows to the spill sort (cow_spill.c) and is
 * merged in one pass at its end.  On abort of the (sub)transaction that
 * buffered a row, the row is dropped (or skipped when read back from the
 * spill).
 *
 * Everything lives in a context under TopTransactionContext.
 *
 * Copyright (c) 2026, incetl authors
 *
 * IDENTIFICATION
 *	  src/cow/cow_write_state.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/detoast.h"
#include "access/relation.h"
#include "access/xact.h"
#include "catalog/pg_trigger.h"
#include "commands/trigger.h"
#include "fmgr.h"
#include "funcapi.h"
#include "access/htup_details.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "port/atomics.h"
#include "replication/logicalworker.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/proc.h"
#include "storage/shmem.h"
#include "storage/lmgr.h"
#include "utils/datum.h"
#include "utils/fmgroids.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "utils/sortsupport.h"
#include "utils/typcache.h"

#include "cow/write.h"

static MemoryContext CowWriteContext = NULL;
static List *CowPendingList = NIL;	/* of CowPending * */
static bool CowFlushing = false;

/*
 * The command counter when this backend last buffered a write: a later one
 * means a new command began since (CowMergeEarlierChanges).  Not the
 * writes' own command id, which a merge moves past mid-statement (a merge
 * in parts, or the merge of the previous change an apply worker's write
 * starts with): the index checks of the rows just buffered must not merge.
 */
static CommandId CowLastWriteCurCid = InvalidCommandId;

/*
 * Pending row numbers.  The executor indexes each buffered row at the TID
 * of its pending row number, and those entries stay in the index until
 * killed; an INSERT ... ON CONFLICT statement resolves a pending TID
 * through its own buffer (CowOnConflictRow).  So no two backends -- at
 * once or one after the other -- may hand out the same number, or an entry
 * another backend left would resolve to an unrelated row of ours (a false
 * conflict).  The numbers come from one counter in shared memory, claimed
 * a chunk at a time; it starts at the server's start time in microseconds,
 * ahead of the numbers the previous run of the server handed out unless it
 * claimed more than one a microsecond.  Numbers repeat only after
 * COW_PENDING_ROWS of them; entries that old are long removable.  Without
 * the shared counter (library not preloaded) the numbers are the backend's
 * own.
 */
#define COW_PENDING_CHUNK		64

StaticAssertDecl(COW_PENDING_ROWS % COW_PENDING_CHUNK == 0,
				 "a chunk of pending row numbers must not wrap");
StaticAssertDecl(COW_MAX_ROW_NUMBER + COW_PENDING_ROWS <=
				 (int64) MaxBlockNumber * COW_ROWS_PER_BLOCK,
				 "pending row numbers must map onto TIDs");

typedef struct CowPendingNumbers
{
	pg_atomic_uint64 next;		/* next unclaimed chunk, unwrapped */
} CowPendingNumbers;

static CowPendingNumbers *CowPendingShared = NULL;
static int64 CowPendingNext = 0;	/* this backend's chunk: [next, end) */
static int64 CowPendingEnd = 0;
static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

/*
 * The rows INSERT ... ON CONFLICT statements buffered, by pending row
 * number (unique in the backend), for their arbiter checks; NULL when
 * it must be built again (CowOnConflictRow).  In CowWriteContext.
 */
typedef struct CowOnConflictEntry
{
	int64		pending;		/* hash key */
	Oid			relid;
	CowRow	   *row;
} CowOnConflictEntry;
static HTAB *CowOnConflictRows = NULL;

/* between tuple_insert_speculative and tuple_complete_speculative */
static bool CowSpeculating = false;

/*
 * A statement appending in key order (CowPending.appending) whose order
 * breaks is not given up to the spill sort as a whole.  From that row on,
 * rows pass through a binary heap ordered like the merge orders incoming
 * rows (record key, then arrival): the smallest row comes out once
 * COW_REORDER_DELAY rows arrived after it, or when the heap is full, and
 * goes on to the buffer (or the appender, CowAppender) if its key is above
 * the buffer's last one -- the buffer stays in strictly ascending key order
 * and is merged a file group's worth at a time -- or else to the spill
 * sort.  A row arriving at or below the buffer's last key first takes the
 * rows still waiting at or above its key back into the heap
 * (CowReorderTakeBack), as long as no row went to the spill: a source that
 * starts, or goes on after a jump, with a few rows of higher keys (a heap
 * read by a synchronized scan that began near its end).  If the row is
 * still at or below the buffer's last key then, it goes to the spill.  A
 * load that is only nearly in key order (a heap whose shorter rows filled
 * space left in earlier pages: they arrive early, and stay in the heap,
 * never the smallest, until their keys' turn) then keeps the early rows
 * and the last COW_REORDER_DELAY rows in the heap, and sorts only the rows
 * that came later than that.
 *
 * The result is that of one merge: for each key, the rows that went on to
 * the buffer arrived before those that went to the spill (a key at or below
 * the buffer's last one never enters the buffer again -- rows are taken
 * back only while the spill holds none -- and of two rows of one key in
 * the heap the earlier comes out first), and the final merge
 * takes the spilled rows against the stored ones as a later part of the
 * same statement; delete markers merged in parts are kept as tombstones
 * (CowFlushPart).  Parts are merged without handing rows back (the merge
 * renumbers the rows it hands back, and the spill orders by arrival).
 *
 * Its rows are of one subtransaction: a row of another one, a delete of the
 * statement, ON CONFLICT or AFTER ROW triggers end the reordering (its rows
 * and the buffer go to the spill, as before).
 */
#define COW_REORDER_ROWS		8192
#define COW_REORDER_DELAY		512

typedef struct CowReorder
{
	MemoryContext cxt;			/* the rows in the heap (an AllocSet: they
								 * leave in any order, and its free chunks
								 * take the next ones) */
	CowRow	  **heap;			/* [cap + 1]: min-heap on (key, arrival) */
	int			n;
	int			cap;
	Size		bytes;			/* the rows' chunks */
	Size		limit;			/* of bytes: an eighth of the budget */
	SubTransactionId subid;		/* of every row */
	int64		nspilled;		/* rows sent to the spill */
	bool		jumped;			/* more than COW_APPEND_KEEP rows were taken
								 * back at once: the source jumps */
} CowReorder;

/*
 * A statement appending beyond the table's last key in key order -- a load
 * into an empty table, growing ids -- does not buffer a file group's worth
 * of rows to merge them as a part: its rows go on, as they come (or as they
 * leave the reordering heap), into the file group being written
 * (CowGroupWriter, cow_writer.c), a block (COW_BLOCK_ROWS rows) at a time,
 * and each full group is written as a part of the statement
 * (CowAppendWriteGroup).  Memory is one block of rows, the group's stored
 * bytes and what the writer keeps per block (min/max, the first and last
 * key), whatever file_group_rows is.
 *
 * A block is encoded only once COW_APPEND_KEEP rows came after it,
 * reordering or not: those, and the block's own rows until it is encoded,
 * are the rows a row out of key order may take back into the heap
 * (CowReorderTakeBack).  A source whose first rows are a stretch of higher
 * keys -- a heap read by a synchronized scan that began where the last scan
 * of it ended, at most 16 pages before its end -- breaks the order before
 * the first block is encoded, so all of them can be taken back (up to half
 * the heap, COW_REORDER_ROWS / 2); COW_APPEND_KEEP is for the jumps later
 * on.  A source that jumped once by more (more than COW_APPEND_KEEP rows
 * taken back at once: a table filled by such scans jumps again where each
 * of them began) keeps COW_APPEND_KEEP_JUMPS, as many as the heap takes
 * back; a source only nearly in key order takes back a few rows now and
 * then, and keeps COW_APPEND_KEEP.  A jump whose
 * early rows were partly encoded already (the group being written holds
 * rows above the late row's key) gives the group's rows back
 * (CowAppendGiveBack) and takes them back from the buffer instead; the
 * statement appends again from there (CowMaybeAppend).  Only a jump
 * reaching into a group written already sorts the rows after it.  The rows
 * wait column by column (CowWaitRows): a Datum and a flag per column and
 * their values' bytes, handed to the writer as they are.  Delete markers
 * go to the spill as tombstones, as a part merged early keeps them
 * (CowFlushPart), and are not written.  Every row is of one subtransaction
 * (subid).
 *
 * Whenever the statement can no longer go on so -- a row of another
 * subtransaction, a delete or an UPDATE's row, ON CONFLICT, a row out of
 * key order that is not reordered, a read of the table merging the
 * statement's writes -- the group's rows are given back
 * (CowAppendGiveBack): decoded from its blocks into the buffer, where they
 * are what they would have been had they been buffered (their arrival
 * numbers below every other row's of the statement: each of their keys
 * came first), and the statement goes on as any other.  At the statement's
 * end the group is written (CowAppendFinish), a short one.
 */
#define COW_APPEND_KEEP		COW_REORDER_DELAY
#define COW_APPEND_KEEP_JUMPS	(COW_REORDER_ROWS / 2)
#define COW_APPEND_START	1024	/* rows buffered before trying */

typedef struct CowAppender
{
	CowOptions	opts;			/* as of CowAppendBegin, under the lock */
	SubTransactionId subid;		/* of every row */
	MemoryContext row_cxt;		/* an incoming row, until it is waiting */
	MemoryContext group_cxt;	/* the writer's: reset after each group */
	CowGroupWriter *w;			/* the group being written, or NULL */
	CowWaitRows *wait;			/* waiting for their block, column by column
								 * (cow_wait_rows.c) */
	CowRow		last;			/* the last row waiting: its values point
								 * into wait (CowAppendLastRow) */
	CowRow	   *top;			/* copy of the greatest key that left wait
								 * (a block's last row, a delete marker), or
								 * NULL */
	int64		given_back_seq; /* arrival numbers of rows given back */
} CowAppender;

static bool CowIsMarkerRow(CowPending *p, CowRow *row);
static void CowAppendStart(CowPending *p, Relation rel);
static void CowAppendRow(CowPending *p, Relation rel, CowRow *row);
static void CowAppendEncode(CowPending *p, Relation rel, int keep, bool final);
static CowRow *CowAppendLastRow(CowPending *p);
static void CowAppendSetTop(CowPending *p, TupleDesc desc, CowRow *row);
static void CowAppendWrite(CowPending *p, Relation rel);
static void CowAppendFinish(CowPending *p, Relation rel);
static CowRow *CowAppendGiveBack(CowPending *p, Relation rel, CowRow *carry);
static void CowAppendFree(CowPending *p);
static void CowMaybeAppend(CowPending *p, Relation rel);
static CowRow *CowReorderCopy(TupleDesc desc, CowRow *row, MemoryContext cxt);


static void CowWriteContextReset(void *arg);
static void CowXactCallback(XactEvent event, void *arg);
static void CowSubXactCallback(SubXactEvent event, SubTransactionId mySubid,
							   SubTransactionId parentSubid, void *arg);
static CowPending *CowGetPending(Oid relid, bool create);
static int64 CowNextPendingNumber(void);
static void CowBufferInsertRow(Relation rel, TupleTableSlot *slot, CommandId cid,
							   bool is_update);
static void CowPendingShmemRequest(void);
static void CowPendingShmemStartup(void);
static void CowFlushPending(CowPending *p);
static void CowMergeBuffered(CowPending *p, bool final);
static void CowClearBuffered(CowPending *p);
static void CowRebuffer(CowPending *p, TupleDesc desc);
static MemoryContext CowRowContextCreate(Size first);
static void CowSpillBuffered(CowPending *p, Relation rel, bool tombstones_only);
static void CowKeepLastKey(CowPending *p, TupleDesc desc);
static void CowFlushPart(CowPending *p, Relation rel, bool carry);
static void CowResetStatement(CowPending *p);
static void CowRememberSelfDeleted(CowPending *p);
static void CowTrackKeyOrder(CowPending *p, TupleDesc desc, CowRow *row);
static bool CowKeySortSupport(CowPending *p, TupleDesc desc);
static int	CowBufferKeyCmp(CowPending *p, CowRow *a, CowRow *b);
static bool CowCanReorder(CowPending *p, Relation rel, CowRow *row,
						  SubTransactionId subid);
static void CowReorderBegin(CowPending *p, Relation rel, CowRow *row);
static void CowReorderPut(CowPending *p, Relation rel, CowRow *row);
static void CowReorderFlush(CowPending *p, Relation rel);
static void CowReorderEnd(CowPending *p, Relation rel, bool in_order);
static void CowReorderFree(CowPending *p);
static void CowOnConflictForget(void);
static CowRow *CowOnConflictRow(CowPending *p, int64 rownum);
static void CowStoreBufferedRow(Relation rel, CowRow *row, int64 rownum,
								TupleTableSlot *slot);

/*
 * Rows of a statement for AFTER ROW triggers: their images are kept by
 * cow_row_images.c, their real TIDs recorded by the merge (CowNoteRowsMoved).
 */

/*
 * CowMergeForRowTriggers merges the running statement's rows of rel when
 * row rownum (a pending row number) is still buffered.  For the
 * after-trigger queue's fetches: COPY fires its AFTER ROW triggers before
 * finish_bulk_insert merges, and a statement with data-modifying WITH
 * queries before its merge (cow_hooks.c); the statement is done writing
 * once its after-trigger events fire, and merged now its rows are seen by
 * the triggers and NEW gets the stored row's TID, as otherwise.
 */
void
CowMergeForRowTriggers(Relation rel, int64 rownum)
{
	if (!CowFlushing && CowGetPending(RelationGetRelid(rel), false) != NULL &&
		CowMovedTo(rel, rownum) == 0)
		CowFlushRelation(RelationGetRelid(rel));
}

static void
CowWriteContextReset(void *arg)
{
	CowWriteContext = NULL;
	CowPendingList = NIL;
	CowFlushing = false;
	CowOnConflictRows = NULL;
	CowSpeculating = false;
}

static CowPending *
CowGetPending(Oid relid, bool create)
{
	ListCell   *lc;
	CowPending *p;
	MemoryContext old;

	foreach(lc, CowPendingList)
	{
		p = lfirst(lc);
		if (p->relid == relid)
			return p;
	}
	if (!create)
		return NULL;
	if (CowWriteContext == NULL)
	{
		MemoryContextCallback *cb;

		CowWriteContext = AllocSetContextCreate(TopTransactionContext,
												"incetl cow write state",
												ALLOCSET_DEFAULT_SIZES);
		cb = MemoryContextAlloc(CowWriteContext, sizeof(MemoryContextCallback));
		cb->func = CowWriteContextReset;
		cb->arg = NULL;
		MemoryContextRegisterResetCallback(CowWriteContext, cb);
	}
	old = MemoryContextSwitchTo(CowWriteContext);
	p = palloc0(sizeof(CowPending));
	p->relid = relid;
	p->write_cid = InvalidCommandId;
	p->merge_cid = InvalidCommandId;
	p->self_deleted_cid = InvalidCommandId;
	p->last_cid = InvalidCommandId;
	CowPendingList = lappend(CowPendingList, p);
	MemoryContextSwitchTo(old);
	return p;
}

bool
CowHasPending(void)
{
	return CowPendingList != NIL;
}

/*
 * Snapshots moved past a merge for a read (CowMergeForRead): a snapshot of
 * command c moved to command c' still belongs to c -- the query's own
 * writes carry c, and must not look like an earlier command's to its later
 * scans.  The last few moves are kept (nested queries each make their own;
 * a move's c' is never another snapshot's own command id, the counter
 * having moved past it for the merge).
 */
#define COW_MOVED_SNAPSHOTS 8
static struct
{
	CommandId	from;
	CommandId	to;
}			CowMovedSnapshots[COW_MOVED_SNAPSHOTS];
static int	CowMovedSnapshotsNext = 0;
static LocalTransactionId CowMovedSnapshotsLxid = InvalidLocalTransactionId;

/* the command whose query reads under snapshot */
static CommandId
CowReaderCid(Snapshot snapshot)
{
	if (CowMovedSnapshotsLxid == MyProc->lxid)
	{
		for (int i = 0; i < COW_MOVED_SNAPSHOTS; i++)
			if (CowMovedSnapshots[i].to == snapshot->curcid)
				return CowMovedSnapshots[i].from;
	}
	return snapshot->curcid;
}

static void
CowMoveSnapshot(Snapshot snapshot)
{
	CommandId	to = GetCurrentCommandId(false);

	if (to <= snapshot->curcid)
		return;
	if (CowMovedSnapshotsLxid != MyProc->lxid)
	{
		memset(CowMovedSnapshots, 0xff, sizeof(CowMovedSnapshots));
		CowMovedSnapshotsNext = 0;
		CowMovedSnapshotsLxid = MyProc->lxid;
	}
	CowMovedSnapshots[CowMovedSnapshotsNext].from = CowReaderCid(snapshot);
	CowMovedSnapshots[CowMovedSnapshotsNext].to = to;
	CowMovedSnapshotsNext = (CowMovedSnapshotsNext + 1) % COW_MOVED_SNAPSHOTS;
	snapshot->curcid = to;
}

/*
 * CowMergeForRead merges what a running statement buffered for p's
 * relation so far, for a query of a later command about to read it under
 * snapshot (a volatile function or a trigger's query): heap shows such a
 * query the rows the statement wrote before it, and so do we once they
 * are merged.  The merge's catalog rows are written under the command
 * counter the query's snapshot was taken at, so the snapshot is moved past
 * the merge (its command id, as CommandCounterIncrement would have left it
 * had the merge run just before the query).  The statement then goes on
 * with row numbers of the versions the merge replaced: CowBufferDelete
 * resolves them.  Returns false when the writes cannot be merged now: rows
 * of an enclosing subtransaction (a merge in this one would be rolled back
 * with it, and the rows with it), an INSERT ... ON CONFLICT statement
 * (its arbiter checks read its buffer), parallel mode, or a reader that
 * has buffered writes of its own (a nested INSERT checking a unique
 * index: merged now, its row would meet itself).
 */
static bool
CowMergeForRead(CowPending *p, Snapshot snapshot)
{
	if (IsInParallelMode() || p->on_conflict || CowSpeculating ||
		(p->min_subid != InvalidSubTransactionId &&
		 p->min_subid < GetCurrentSubTransactionId()) ||
		(p->last_cid != InvalidCommandId && p->last_cid >= CowReaderCid(snapshot)))
		return false;

	/*
	 * The statement goes on: what it deleted so far is remembered as its
	 * scan numbered the rows, for its later deletes of the same rows.
	 */
	if (CowDeleteSetCount(p->deletes) > 0)
		CowRememberSelfDeleted(p);
	CowFlushPending(p);
	if (p->rows != NIL || CowDeleteSetCount(p->deletes) > 0 ||
		p->append != NULL)
		return false;			/* left for the enclosing statement */
	CowMoveSnapshot(snapshot);
	return true;
}

/*
 * CowCheckUnmergedRead: rel is about to be read under an MVCC snapshot
 * taken after a command of this transaction whose writes to rel are still
 * buffered.  Rows are merged at the end of their statement, so a query run
 * inside the writing statement under a newer command id -- a volatile
 * function or a trigger reading the table the statement writes -- would
 * miss them, where heap shows them.  With may_merge (a scan or an index
 * fetch beginning) they are merged first (CowMergeForRead); otherwise, or
 * when they cannot be, the read is refused -- unless quiet (an index fetch
 * beginning: its fetches check again, and a uniqueness check's fetches,
 * under a dirty snapshot, read the buffer itself).  The statement's own scans
 * (and a stable function's, which share its snapshot) see what heap sees
 * and pass, as does the merge itself.
 */
void
CowCheckUnmergedRead(Relation rel, Snapshot snapshot, bool may_merge,
					 bool quiet)
{
	CowPending *p;

	if (CowPendingList == NIL || CowFlushing || snapshot == NULL ||
		!IsMVCCSnapshot(snapshot))
		return;
	p = CowGetPending(RelationGetRelid(rel), false);
	if (p == NULL || p->write_cid == InvalidCommandId ||
		p->write_cid >= CowReaderCid(snapshot))
		return;
	if (p->rows == NIL && CowDeleteSetCount(p->deletes) == 0 &&
		p->append == NULL &&
		(p->spill == NULL || CowSpillRowCount(p->spill) == 0))
		return;
	if (may_merge && CowMergeForRead(p, snapshot))
		return;
	if (quiet)
		return;
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("cannot read incetl_cow table \"%s\" while a running statement's writes to it are not merged",
					RelationGetRelationName(rel)),
			 errdetail("incetl_cow merges a statement's rows at its end, or before a later command reads the table; they cannot be merged inside a subtransaction the statement did not start, nor during INSERT ... ON CONFLICT or a parallel operation."),
			 errhint("Read the table in a statement of its own, or make the function STABLE.")));
}

/*
 * CowTrackKeyOrder keeps p->keys_ascending: true while every buffered row's
 * record key is strictly greater than the previous row's, under the same
 * ordering the merge sorts by (the key type's default btree ordering and
 * the column's collation).  Call in CowWriteContext before appending row.
 */
static void
CowTrackKeyOrder(CowPending *p, TupleDesc desc, CowRow *row)
{
	if (p->opts.nkeys == 0)
	{
		p->keys_ascending = false;
		return;
	}
	if (p->last_row == NULL)
	{
		p->keys_ascending = true;
		p->last_row = row;
		return;
	}
	if (!p->keys_ascending)
	{
		p->last_row = row;
		return;
	}
	if (!CowKeySortSupport(p, desc) || CowBufferKeyCmp(p, p->last_row, row) >= 0)
		p->keys_ascending = false;	/* descending, the same key, or no
									 * ordering (the merge reports it) */
	p->last_row = row;
}

/*
 * CowKeySortSupport prepares p->key_ssup, the record key's ordering as the
 * merge sorts by (the key type's default btree ordering and the column's
 * collation), in CowWriteContext.  False when a key type has none.
 */
static bool
CowKeySortSupport(CowPending *p, TupleDesc desc)
{
	SortSupport ssup;
	MemoryContext old;

	if (p->key_ssup != NULL)
		return true;
	old = MemoryContextSwitchTo(CowWriteContext);
	ssup = palloc0(sizeof(SortSupportData) * p->opts.nkeys);
	for (int k = 0; k < p->opts.nkeys; k++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, p->opts.key_attnums[k] - 1);
		TypeCacheEntry *tc = lookup_type_cache(att->atttypid, TYPECACHE_LT_OPR);

		if (!OidIsValid(tc->lt_opr))
		{
			pfree(ssup);
			MemoryContextSwitchTo(old);
			return false;
		}
		ssup[k].ssup_cxt = CowWriteContext;
		ssup[k].ssup_collation = att->attcollation;
		ssup[k].ssup_nulls_first = true;
		PrepareSortSupportFromOrderingOp(tc->lt_opr, &ssup[k]);
	}
	p->key_ssup = ssup;
	MemoryContextSwitchTo(old);
	return true;
}

/* CowBufferKeyCmp compares two buffered rows' record keys (key_ssup set). */
static int
CowBufferKeyCmp(CowPending *p, CowRow *a, CowRow *b)
{
	for (int k = 0; k < p->opts.nkeys; k++)
	{
		int			i = p->opts.key_attnums[k] - 1;
		int			c = ApplySortComparator(a->values[i], false,
											b->values[i], false, &p->key_ssup[k]);

		if (c != 0)
			return c;
	}
	return 0;
}

/*
 * CowBufferInsert copies a slot's row (detoasted) into the buffer and gives
 * the slot a pending TID; cid is the writing command's (the one heap would
 * stamp the row with).  A NULL record key fails the statement here.
 */
void
CowBufferInsert(Relation rel, TupleTableSlot *slot, CommandId cid, bool is_update)
{
	CowBufferInsertRow(rel, slot, cid, is_update);
	CowLastWriteCurCid = GetCurrentCommandId(false);
}

static void
CowBufferInsertRow(Relation rel, TupleTableSlot *slot, CommandId cid, bool is_update)
{
	CowPending *p = CowGetPending(RelationGetRelid(rel), true);
	TupleDesc	desc = RelationGetDescr(rel);
	MemoryContext old;
	CowRow	   *row;
	SubTransactionId subid = GetCurrentSubTransactionId();
	Size		limit;
	bool		can_part;
	int			i;

	if (p->write_cid == InvalidCommandId)
		p->write_cid = cid;
	p->last_cid = cid;

	/*
	 * Counted before anything can fail: a statement that fails at its first
	 * row (a NULL key) still loaded the options, and the abort of its
	 * subtransaction must forget them (CowSubXactCallback) -- the next
	 * statement may come after set_table_options() changed the record key.
	 */
	if (p->min_subid == InvalidSubTransactionId || subid < p->min_subid)
		p->min_subid = subid;
	slot_getallattrs(slot);
	if (!p->opts_loaded)
	{
		Snapshot	snap = RegisterSnapshot(ActiveSnapshotSet() ?
											GetActiveSnapshot() : GetLatestSnapshot());

		old = MemoryContextSwitchTo(CowWriteContext);
		CowLoadOptions(rel, snap, &p->opts);
		p->opts_loaded = true;
		MemoryContextSwitchTo(old);
		UnregisterSnapshot(snap);
	}
	for (i = 0; i < p->opts.nkeys; i++)
	{
		AttrNumber	a = p->opts.key_attnums[i];

		if (slot->tts_isnull[a - 1])
			ereport(ERROR,
					(errcode(ERRCODE_NOT_NULL_VIOLATION),
					 errmsg("null value in record key column \"%s\" of relation \"%s\"",
							NameStr(TupleDescAttr(desc, a - 1)->attname),
							RelationGetRelationName(rel)),
					 errdetail("Rows of an incetl_cow table with a record key are upserted by that key.")));
	}

	if (p->row_cxt == NULL)
		p->row_cxt = CowRowContextCreate(0);
	/* appended rows are all of one subtransaction, none an UPDATE's */
	if (p->append != NULL &&
		(p->append->subid != subid || is_update || IsInParallelMode() ||
		 CowFlushing))
		(void) CowAppendGiveBack(p, rel, NULL);
	/* rows being reordered are all of one subtransaction (see there) */
	if (p->reorder != NULL && p->reorder->subid != subid)
		CowReorderEnd(p, rel, false);
	row = CowRowFromValues(desc, desc->natts, slot->tts_values, slot->tts_isnull,
						   p->next_seq++, is_update,
						   p->reorder != NULL ? p->reorder->cxt :
						   p->append != NULL ? p->append->row_cxt : p->row_cxt);
	row->pending = CowNextPendingNumber();
	CowRowNumberToTid(row->pending, &slot->tts_tid);
	slot->tts_tableOid = RelationGetRelid(rel);
	old = MemoryContextSwitchTo(CowWriteContext);
	if (p->writers == NIL || (linitial_oid(p->writers) != GetUserId() &&
							  !list_member_oid(p->writers, GetUserId())))
		p->writers = lappend_oid(p->writers, GetUserId());
	if (p->reorder == NULL && CowCanReorder(p, rel, row, subid))
		CowReorderBegin(p, rel, row);	/* takes row in */
	else if (p->reorder != NULL)
		CowReorderPut(p, rel, row);
	if (p->reorder != NULL)
	{
		/* merged in parts, a group's worth at a time, by CowReorderPut */
		MemoryContextSwitchTo(old);
		return;
	}
	if (p->append != NULL)
	{
		if (CowBufferKeyCmp(p, p->last_row, row) < 0)
		{
			CowAppendRow(p, rel, row);
			pfree(row);
			MemoryContextSwitchTo(old);
			return;
		}
		/* out of key order, and not reordered */
		row = CowAppendGiveBack(p, rel, row);
	}
	CowTrackKeyOrder(p, desc, row);
	p->rows = lappend(p->rows, row);
	p->row_subids = lappend_int(p->row_subids, (int) subid);
	p->bytes += GetMemoryChunkSpace(row) + 2 * sizeof(ListCell);
	MemoryContextSwitchTo(old);

	if (CowKeepsRowImages(rel))
		CowKeepRowImage(rel, row->pending, row->values, row->isnull);
	if (p->on_conflict && CowOnConflictRows != NULL)
	{
		CowOnConflictEntry *e = hash_search(CowOnConflictRows, &row->pending,
											HASH_ENTER, NULL);

		e->relid = p->relid;
		e->row = row;
	}

	/*
	 * Bound memory.  Rows whose keys ascend strictly over the whole
	 * statement so far are merged now, in a part of their own: no later row
	 * can share a key with them, so the result is that of one merge.  Not
	 * while rows are pending deletion (the statement's scan still hands out
	 * row numbers of the versions a merge would replace), nor when rows of
	 * an outer subtransaction are buffered (an abort of ours would roll
	 * back their merge).  Otherwise the rows move to the spill sort, read
	 * back in one pass at the end of the statement.
	 *
	 * A keyed part with a file group's worth of rows writes whole file
	 * groups of its new keys and hands the rest back (CowPending.carried);
	 * a statement appending beyond the table's last key (a load, growing
	 * ids) is merged a group's worth at a time: its memory stays at about
	 * one group, and its rows are encoded while still in the CPU's caches
	 * rather than after the whole budget was filled.  A part forced by the
	 * budget with less than a group's worth writes all its rows.
	 */
	if (IsInParallelMode() || CowFlushing)
		return;
	limit = (Size) maintenance_work_mem * 1024;

	/*
	 * The arbiter checks of INSERT ... ON CONFLICT look the statement's own
	 * rows up in memory (CowPendingFetch): they cannot go to the spill sort
	 * nor be merged in parts.  Fail rather than answer wrongly.
	 */
	if (p->on_conflict && p->bytes > limit)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("INSERT ... ON CONFLICT into incetl_cow table \"%s\" buffered more rows than maintenance_work_mem holds",
						RelationGetRelationName(rel)),
				 errdetail("The statement's arbiter checks look its own rows up in memory."),
				 errhint("Raise maintenance_work_mem, or insert the rows in smaller statements.")));
	if (p->spill != NULL && CowSpillRowCount(p->spill) > 0)
		limit /= 16;			/* the sort holds the budget; pass rows on */
	can_part = CowDeleteSetCount(p->deletes) == 0 && p->min_subid >= subid &&
		(p->opts.nkeys == 0 || p->keys_ascending) &&
		(p->spill == NULL || CowSpillRowCount(p->spill) == 0);
	if (can_part && p->opts.nkeys > 0)
	{
		bool		whole;

		CowMaybeAppend(p, rel);
		if (p->append != NULL)
			return;
		whole = (list_length(p->rows) >= p->opts.file_group_rows);

		if (whole && p->appending == 0)
			p->appending = CowRowBeyondEnd(rel, &p->opts, linitial(p->rows)) ? 1 : -1;
		if (p->bytes > limit || (whole && p->appending > 0))
			CowFlushPart(p, rel, whole);
	}
	else if (p->bytes > limit)
	{
		if (can_part)
			CowFlushPart(p, rel, false);
		else
			CowSpillBuffered(p, rel, false);
	}
}

/*
 * CowCurrentRowNumber resolves row number rn, read by a statement's scan
 * before a merge of this transaction replaced its version, to the number
 * the row has now: rn itself when its version is still current (or was
 * replaced by another transaction: the merge deals with that as with any
 * concurrent write), where a merge of ours carried it, else 0 -- a merge
 * of ours deleted or replaced it.
 */
static int64
CowCurrentRowNumber(Relation rel, CowPending *p, int64 rn)
{
	int			i;
	int			ncur = 0;
	CowVersion *cur;
	int64		moved;

	if (p->cur_versions == NULL || p->cur_serial != p->merge_serial)
	{
		MemoryContext old = MemoryContextSwitchTo(CowWriteContext);
		Snapshot	snap = RegisterSnapshot(GetLatestSnapshot());

		if (p->cur_versions != NULL)
			pfree(p->cur_versions);
		CowRowIndexFree(p->cur_index);
		p->cur_versions = NULL;
		p->cur_index = NULL;
		p->cur_versions = CowLoadVersions(CowStorageId(rel), snap, false,
										  &p->cur_nversions);
		UnregisterSnapshot(snap);
		p->cur_index = CowRowIndexBuild(rel, p->cur_versions,
										p->cur_nversions);
		MemoryContextSwitchTo(old);
		p->cur_serial = p->merge_serial;
	}
	i = CowRowIndexFind(p->cur_index, rn, NULL);
	if (i < 0 || p->cur_versions[i].superseded_by == 0 ||
		!TransactionIdIsCurrentTransactionId(p->cur_versions[i].xmin))
		return rn;

	/* replaced by a merge of ours: where did the row go? */
	cur = palloc(sizeof(CowVersion) * Max(p->cur_nversions, 1));
	for (i = 0; i < p->cur_nversions; i++)
		if (p->cur_versions[i].superseded_by == 0)
			cur[ncur++] = p->cur_versions[i];
	moved = CowResolveMovedRow(rel, rn, cur, ncur, false);
	pfree(cur);
	return moved;
}

/*
 * CowBufferDelete records the row number of a row to delete.  Returns 1;
 * 0 when the row is gone already: deleted (or updated) by this command --
 * before, or by a merge of this statement -- or, with *cmax set to a
 * later command, by a later command (a function the statement called),
 * which the executor reports as heap's "already modified" (27000).
 */
int
CowBufferDelete(Relation rel, ItemPointer tid, CommandId cid, CommandId *cmax)
{
	CowPending *p = CowGetPending(RelationGetRelid(rel), true);
	int64		rn = CowTidToRowNumber(tid);
	int64		orig = rn;
	SubTransactionId subid = GetCurrentSubTransactionId();

	*cmax = cid;
	/* rows are not appended past a delete of the statement */
	if (p->append != NULL)
		(void) CowAppendGiveBack(p, rel, NULL);
	if (rn >= COW_MAX_ROW_NUMBER)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot delete or update a row of \"%s\" inserted by the same statement",
						RelationGetRelationName(rel))));
	if (p->merge_cid != InvalidCommandId && p->merge_cid >= cid &&
		!IsLogicalWorker())
	{
		/*
		 * A merge ran since this command's scan began.  (An apply worker's
		 * change finds its row after merging the changes before it,
		 * CowMergeEarlierChanges: its row numbers are current.)
		 */
		bool		self = (p->self_deleted_cid == cid && p->self_deleted != NULL &&
							CowDeleteSetContains(p->self_deleted, rn));

		rn = CowCurrentRowNumber(rel, p, rn);
		if (rn == 0 || self)
		{
			if (!self)
				*cmax = GetCurrentCommandId(false);
			return 0;
		}
		if (p->self_deleted_cid != cid)
		{
			if (p->self_deleted != NULL)
				CowDeleteSetFree(p->self_deleted);
			p->self_deleted = NULL;
			p->self_deleted_cid = cid;
		}
		if (p->self_deleted == NULL)
			p->self_deleted = CowDeleteSetCreate(CowWriteContext);
		CowDeleteSetAdd(p->self_deleted, orig, subid);
	}
	if (p->write_cid == InvalidCommandId)
		p->write_cid = cid;
	p->last_cid = cid;
	if (p->deletes == NULL)
		p->deletes = CowDeleteSetCreate(CowWriteContext);
	if (!CowDeleteSetAdd(p->deletes, rn, subid))
		return 0;				/* already deleted by this statement */
	if (p->min_subid == InvalidSubTransactionId || subid < p->min_subid)
		p->min_subid = subid;
	CowLastWriteCurCid = GetCurrentCommandId(false);
	return 1;
}

/*
 * CowBufferDeleted: has the running statement deleted (or updated) row
 * rownum of rel?  Its deletes are merged at its end.
 */
bool
CowBufferDeleted(Relation rel, int64 rownum)
{
	CowPending *p = CowGetPending(RelationGetRelid(rel), false);

	return p != NULL && p->deletes != NULL &&
		CowDeleteSetContains(p->deletes, rownum);
}

/*
 * CowSelfModifiedCmax: for row rownum, which command cid's scan returned
 * and this transaction has updated or deleted since, the command to report
 * as its cmax (TM_FailureData), as heap reports the command that changed
 * the row: cid when command cid changed it itself, or when no merge ran
 * since cid began (a cursor's row changed by an earlier command); the
 * current command when a merge during cid replaced it and cid did not
 * delete it -- a later command did (a function or trigger that cid called),
 * which the executor reports as "already modified by an operation
 * triggered by the current command" (27000) rather than skip the row.
 */
CommandId
CowSelfModifiedCmax(Relation rel, int64 rownum, CommandId cid)
{
	CowPending *p = CowGetPending(RelationGetRelid(rel), false);

	if (p == NULL || p->merge_cid == InvalidCommandId || p->merge_cid < cid)
		return cid;
	if (p->self_deleted_cid == cid && p->self_deleted != NULL &&
		CowDeleteSetContains(p->self_deleted, rownum))
		return cid;
	return GetCurrentCommandId(false);
}

/*
 * CowRememberSelfDeleted adds the row numbers p's statement deleted so far
 * to p->self_deleted, for command p->write_cid.
 */
static void
CowRememberSelfDeleted(CowPending *p)
{
	CowDeleteSetIter it;
	int64		rownum;

	if (p->self_deleted_cid != p->write_cid)
	{
		if (p->self_deleted != NULL)
			CowDeleteSetFree(p->self_deleted);
		p->self_deleted = NULL;
		p->self_deleted_cid = p->write_cid;
	}
	if (p->self_deleted == NULL)
		p->self_deleted = CowDeleteSetCreate(CowWriteContext);
	CowDeleteSetIterBegin(p->deletes, &it);
	while (CowDeleteSetIterNext(&it, &rownum))
		CowDeleteSetAdd(p->self_deleted, rownum, GetCurrentSubTransactionId());
	CowDeleteSetIterEnd(&it);
}

/*
 * CowMergeBuffered runs the merge of what p holds (buffered rows, deletes,
 * and when final the spill sort, which then holds every row) and empties
 * the buffer.
 */
static void
CowMergeBuffered(CowPending *p, bool final)
{
	Relation	rel;
	bool		pushed = false;

	if (IsInParallelMode())
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot write to an incetl_cow table during a parallel operation")));

	CowFlushing = true;
	p->carried = NIL;			/* only this merge's hand-back counts */
	p->merge_cid = GetCurrentCommandId(false);
	p->merge_serial++;
	rel = relation_open(p->relid, RowExclusiveLock);
	if (!ActiveSnapshotSet())
	{
		PushActiveSnapshot(GetTransactionSnapshot());
		pushed = true;
	}
	CowMergeAndWrite(rel, p, final ? p->spill : NULL, final);
	if (pushed)
		PopActiveSnapshot();

	if (p->carry_allowed)
		CowRebuffer(p, RelationGetDescr(rel));
	else
		CowClearBuffered(p);
	relation_close(rel, NoLock);

	CowDeleteSetFree(p->deletes);
	p->deletes = NULL;
	CowFlushing = false;
}

/*
 * CowRebuffer empties the buffer after a part was merged, leaving in it the
 * rows the merge handed back (p->carried), copied into the other row
 * context: they are the last rows of the part, in key order, all of the
 * current subtransaction (a part is merged only then).  The row contexts
 * keep a first block the size a part took (at most maintenance_work_mem),
 * so the parts of a load reuse their memory rather than fault it in again
 * each time; with rows handed back, the two take turns.
 */
static void
CowRebuffer(CowPending *p, TupleDesc desc)
{
	Size		want = Min(MemoryContextMemAllocated(p->row_cxt, false),
						   (Size) maintenance_work_mem * 1024);
	MemoryContext cxt = p->spare_cxt;
	List	   *carried = p->carried;
	List	   *rows = NIL;
	ListCell   *lc;
	MemoryContext old;

	if (carried == NIL)
	{
		CowClearBuffered(p);
		if (MemoryContextMemAllocated(p->row_cxt, false) < want)
		{
			MemoryContextDelete(p->row_cxt);
			p->row_cxt = CowRowContextCreate(want);
		}
		return;
	}
	if (cxt != NULL && MemoryContextMemAllocated(cxt, false) < want)
	{
		MemoryContextDelete(cxt);
		cxt = NULL;
	}
	if (cxt == NULL)
		cxt = CowRowContextCreate(want);
	foreach(lc, carried)
	{
		CowRow	   *row = lfirst(lc);
		CowRow	   *copy = CowRowFromValues(desc, desc->natts, row->values,
											row->isnull, 0, row->is_update,
											cxt);

		/*
		 * its slot's TID: AFTER ROW triggers fetch NEW by it, and where the
		 * row is stored is recorded under it (CowNoteRowsMoved)
		 */
		copy->pending = row->pending;
		rows = lappend(rows, copy);
	}
	p->carried = NIL;
	CowClearBuffered(p);
	list_free(carried);
	p->spare_cxt = p->row_cxt;	/* reset by CowClearBuffered */
	p->row_cxt = cxt;

	old = MemoryContextSwitchTo(CowWriteContext);
	foreach(lc, rows)
	{
		CowRow	   *row = lfirst(lc);

		row->seq = p->next_seq++;
		p->rows = lappend(p->rows, row);
		p->row_subids = lappend_int(p->row_subids,
									(int) GetCurrentSubTransactionId());
		p->bytes += GetMemoryChunkSpace(row) + 2 * sizeof(ListCell);
	}
	p->last_row = llast(p->rows);
	MemoryContextSwitchTo(old);
	list_free(rows);
}

/*
 * CowRowContextCreate makes a context for buffered rows, with a first block
 * of about first bytes (0: a small one) kept across resets.  A generation
 * context: no power-of-two rounding and a smaller chunk header than
 * palloc's, and one reset frees the batch.  (A first block is at least the
 * initial block size and at most the largest.)
 */
static MemoryContext
CowRowContextCreate(Size first)
{
	Size		init = 64 * 1024;
	Size		max = 8 * 1024 * 1024;

	if (first > 0)
	{
		first = MAXALIGN(Max(first, init));
		max = Max(max, first);
	}
	return GenerationContextCreate(CowWriteContext, "incetl cow buffered rows",
								   first, init, max);
}

/* CowClearBuffered forgets the buffered rows (merged or spilled). */
static void
CowClearBuffered(CowPending *p)
{
	if (p->on_conflict)
		CowOnConflictForget();
	list_free(p->rows);
	list_free(p->row_subids);
	p->rows = p->row_subids = NIL;
	if (p->row_cxt)
		MemoryContextReset(p->row_cxt);
	p->bytes = 0;
	p->last_row = NULL;
}

/*
 * CowSpillBuffered moves the buffered rows into the spill sort (creating
 * it) and empties the buffer; or, with tombstones_only, copies just the
 * rows whose delete marker is set, as tombstones, and leaves the buffer
 * alone.  The last row's key is kept for CowTrackKeyOrder.
 *
 * Each row moved is freed at once: the buffer and the sort may each hold
 * up to maintenance_work_mem, and freeing the buffer only at the end would
 * hold both at the peak (the row context gives back each block whose rows
 * are all gone, and the sort's copies reuse that memory).
 */
static void
CowSpillBuffered(CowPending *p, Relation rel, bool tombstones_only)
{
	ListCell   *lc,
			   *sc;
	int			m = p->opts.delete_marker_attnum - 1;

	if (p->spill == NULL)
		p->spill = CowSpillBegin(rel, &p->opts, CowWriteContext);
	if (!tombstones_only)
		CowKeepLastKey(p, RelationGetDescr(rel));
	forboth(lc, p->rows, sc, p->row_subids)
	{
		CowRow	   *row = lfirst(lc);

		if (tombstones_only &&
			(m < 0 || row->isnull[m] || !DatumGetBool(row->values[m])))
			continue;
		CowSpillPut(p->spill, row, (SubTransactionId) lfirst_int(sc),
					tombstones_only);
		if (!tombstones_only)
		{
			pfree(row);
			lfirst(lc) = NULL;
		}
	}
	if (!tombstones_only)
	{
		CowClearBuffered(p);
		p->last_row = p->last_key;
	}
}

/*
 * CowKeepLastKey copies the last buffered row into the write context, so
 * that key order can still be checked against it once the buffer is gone.
 */
static void
CowKeepLastKey(CowPending *p, TupleDesc desc)
{
	if (p->rows == NIL)
		return;
	if (p->last_key)
		pfree(p->last_key);
	p->last_key = CowRowFromValues(desc, desc->natts,
								   ((CowRow *) llast(p->rows))->values,
								   ((CowRow *) llast(p->rows))->isnull,
								   0, false, CowWriteContext);
}

/*
 * CowFlushPart merges the buffered rows of a statement that is still
 * running: rows whose keys so far ascend strictly (so no later row can
 * share a key with them), or keyless rows.  Delete markers among them are
 * kept in the spill sort as tombstones: should a later row of the
 * statement break the key order, it may carry a key one of them deleted,
 * and it must still lose to it when older.  With carry, the merge may hand
 * rows back to the buffer (CowPending.carried).
 */
static void
CowFlushPart(CowPending *p, Relation rel, bool carry)
{
	if (p->opts.nkeys > 0 && p->opts.delete_marker_attnum != InvalidAttrNumber)
		CowSpillBuffered(p, rel, true);
	CowKeepLastKey(p, RelationGetDescr(rel));
	p->carry_allowed = carry && p->opts.nkeys > 0;
	CowMergeBuffered(p, false);
	p->carry_allowed = false;

	/*
	 * The key order goes on from the part's last key (keys_ascending stays
	 * as it is), not from the last row handed back: a delete marker above
	 * those was merged, and a later row of its key must break the order, or
	 * its tombstone would be dropped as moot at the end.
	 */
	p->last_row = p->last_key;
}

/*
 * CowCanReorder: does row, arriving after p->last_row, break the key order
 * of a statement that may go on being merged in parts by reordering (see
 * CowReorder)?  row is not buffered yet; p->min_subid counts it.
 */
static bool
CowCanReorder(CowPending *p, Relation rel, CowRow *row, SubTransactionId subid)
{
	TriggerDesc *td = rel->trigdesc;

	if (p->opts.nkeys == 0 || !p->keys_ascending || p->last_row == NULL ||
		IsInParallelMode() || CowFlushing || p->on_conflict ||
		CowDeleteSetCount(p->deletes) > 0 || p->min_subid < subid ||
		(td != NULL && (td->trig_insert_after_row || td->trig_update_after_row)))
		return false;
	if (!CowKeySortSupport(p, RelationGetDescr(rel)) ||
		CowBufferKeyCmp(p, p->last_row, row) < 0)
		return false;			/* still in order */
	if (p->appending == 0)
		p->appending = (p->rows != NIL &&
						CowRowBeyondEnd(rel, &p->opts, linitial(p->rows))) ? 1 : -1;
	return p->appending > 0;
}

/* CowReorderCopy copies a buffered row, arrival and pending number kept. */
static CowRow *
CowReorderCopy(TupleDesc desc, CowRow *row, MemoryContext cxt)
{
	CowRow	   *copy = CowRowFromValues(desc, desc->natts, row->values,
										row->isnull, row->seq, row->is_update,
										cxt);

	copy->pending = row->pending;
	return copy;
}

static inline bool
CowReorderBefore(CowPending *p, CowRow *a, CowRow *b)
{
	int			c = CowBufferKeyCmp(p, a, b);

	return c < 0 || (c == 0 && a->seq < b->seq);
}

static void
CowReorderPush(CowPending *p, CowRow *row)
{
	CowReorder *r = p->reorder;
	int			i = r->n++;

	while (i > 0 && CowReorderBefore(p, row, r->heap[(i - 1) / 2]))
	{
		r->heap[i] = r->heap[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	r->heap[i] = row;
	r->bytes += GetMemoryChunkSpace(row);
}

/* CowReorderToSpill puts one row (of the heap's context) into the spill. */
static void
CowReorderToSpill(CowPending *p, Relation rel, CowRow *row)
{
	if (p->spill == NULL)
		p->spill = CowSpillBegin(rel, &p->opts, CowWriteContext);
	CowSpillPut(p->spill, row, p->reorder->subid, false);
	p->reorder->nspilled++;
	pfree(row);
}

/*
 * CowReorderPop takes the heap's smallest row out: on to the buffer when
 * its key is above the buffer's last, else (a key repeated) to the spill.
 */
static void
CowReorderPop(CowPending *p, Relation rel)
{
	CowReorder *r = p->reorder;
	CowRow	   *top = r->heap[0];
	CowRow	   *last = r->heap[--r->n];
	int			i = 0;
	MemoryContext old;
	CowRow	   *row;

	/* sift the last row down from the root */
	for (;;)
	{
		int			c = 2 * i + 1;

		if (c >= r->n)
			break;
		if (c + 1 < r->n && CowReorderBefore(p, r->heap[c + 1], r->heap[c]))
			c++;
		if (!CowReorderBefore(p, r->heap[c], last))
			break;
		r->heap[i] = r->heap[c];
		i = c;
	}
	if (r->n > 0)
		r->heap[i] = last;
	r->bytes -= GetMemoryChunkSpace(top);

	if (p->last_row != NULL && CowBufferKeyCmp(p, top, p->last_row) <= 0)
	{
		CowReorderToSpill(p, rel, top);
		return;
	}
	if (p->append != NULL)
	{
		/* its values copied to wait; its chunk is reused by the next rows */
		CowAppendRow(p, rel, top);
		pfree(top);
		return;
	}
	row = CowReorderCopy(RelationGetDescr(rel), top, p->row_cxt);
	pfree(top);
	old = MemoryContextSwitchTo(CowWriteContext);
	p->rows = lappend(p->rows, row);
	p->row_subids = lappend_int(p->row_subids, (int) r->subid);
	p->bytes += GetMemoryChunkSpace(row) + 2 * sizeof(ListCell);
	p->last_row = row;
	MemoryContextSwitchTo(old);
}

/*
 * CowReorderTakeBack takes the rows waiting at or above row's key (not
 * encoded yet by the appender, or still in the buffer) back into the heap,
 * as many as half the heap holds: they came early.  Then p->last_row is
 * the buffer's (or the appender's) last row again.
 */
static void
CowReorderTakeBack(CowPending *p, Relation rel, CowRow *row)
{
	TupleDesc	desc = RelationGetDescr(rel);
	CowReorder *r = p->reorder;
	int			moved = 0;

	if (p->append != NULL)
	{
		CowAppender *a = p->append;

		while (r->n < r->cap / 2 &&
			   CowAppendLastRow(p) == &a->last &&
			   CowBufferKeyCmp(p, &a->last, row) >= 0)
		{
			CowReorderPush(p, CowWaitRowsPop(a->wait, r->cxt));
			moved++;
		}
		r->jumped |= (moved > COW_APPEND_KEEP);
		p->last_row = CowAppendLastRow(p);
		return;
	}
	while (p->rows != NIL && r->n < r->cap / 2 &&
		   CowBufferKeyCmp(p, llast(p->rows), row) >= 0)
	{
		CowRow	   *t = llast(p->rows);

		p->bytes -= GetMemoryChunkSpace(t) + 2 * sizeof(ListCell);
		CowReorderPush(p, CowReorderCopy(desc, t, r->cxt));
		pfree(t);
		p->rows = list_delete_last(p->rows);
		p->row_subids = list_delete_last(p->row_subids);
		moved++;
	}
	r->jumped |= (moved > COW_APPEND_KEEP);
	p->last_row = p->rows != NIL ? (CowRow *) llast(p->rows) : p->last_key;

	/*
	 * Rows a part handed back lie below the part's last key, which may be a
	 * delete marker merged as a tombstone: a row of its key must go to the
	 * spill, to meet the tombstone there (CowFlushPart).
	 */
	if (p->rows != NIL && p->last_key != NULL &&
		CowBufferKeyCmp(p, p->last_row, p->last_key) < 0)
		p->last_row = p->last_key;
}

/*
 * CowReorderBegin starts reordering with row, the first that broke the key
 * order (allocated in the buffer's context: copied, then freed).  The
 * buffer's last rows at or above its key are taken back into the heap:
 * they are the ones that came early.
 */
static void
CowReorderBegin(CowPending *p, Relation rel, CowRow *row)
{
	TupleDesc	desc = RelationGetDescr(rel);
	MemoryContext old = MemoryContextSwitchTo(CowWriteContext);
	CowReorder *r = palloc0(sizeof(CowReorder));
	CowRow	   *copy;

	/* blocks of at most 256kB: the rows' memory is about the heap's, no more */
	r->cxt = AllocSetContextCreate(CowWriteContext, "incetl cow reordered rows",
								   0, 32 * 1024, 256 * 1024);
	r->cap = COW_REORDER_ROWS;
	r->heap = palloc(sizeof(CowRow *) * (r->cap + 1));
	r->limit = Max((Size) maintenance_work_mem * 1024 / 8, 64 * 1024);
	r->subid = GetCurrentSubTransactionId();
	p->reorder = r;
	CowReorderTakeBack(p, rel, row);
	copy = CowReorderCopy(desc, row, r->cxt);
	pfree(row);
	MemoryContextSwitchTo(old);
	CowReorderPut(p, rel, copy);
}

/*
 * CowReorderFlush, after a row came out of the heap: the statement may
 * start appending (CowMaybeAppend), or merges a part once the buffer holds
 * a file group's worth or outgrew the budget.  Reordering may end here.
 */
static void
CowReorderFlush(CowPending *p, Relation rel)
{
	CowReorder *r = p->reorder;

	if (IsInParallelMode() || CowFlushing)
		return;
	if (p->append == NULL && CowDeleteSetCount(p->deletes) == 0 &&
		p->min_subid >= r->subid)
		CowMaybeAppend(p, rel);
	if (p->append != NULL)
		return;
	if (list_length(p->rows) >= p->opts.file_group_rows ||
		p->bytes > (Size) maintenance_work_mem * 1024)
	{
		if (CowDeleteSetCount(p->deletes) > 0 || p->min_subid < r->subid)
			CowReorderEnd(p, rel, false);
		else
			CowFlushPart(p, rel, false);
	}
}

/*
 * CowReorderPut routes one row (in the heap's context); the rows it lets
 * out of the heap may make a part to merge (CowReorderFlush).
 */
static void
CowReorderPut(CowPending *p, Relation rel, CowRow *row)
{
	CowReorder *r = p->reorder;
	bool		below = p->last_row != NULL &&
		CowBufferKeyCmp(p, row, p->last_row) <= 0;

	/*
	 * A row at or below the buffer's last key: the rows waiting above it
	 * came early too (a load whose source starts, or goes on after a jump,
	 * with a few rows of higher keys), and are taken back while no row went
	 * to the spill -- a spilled row's key must never enter the buffer again
	 * (see CowReorder), and taking back lowers the buffer's last key.
	 */
	if (below && r->nspilled == 0 &&
		(p->spill == NULL || CowSpillRowCount(p->spill) == 0))
	{
		MemoryContext old = MemoryContextSwitchTo(CowWriteContext);

		CowReorderTakeBack(p, rel, row);
		below = p->last_row != NULL &&
			CowBufferKeyCmp(p, row, p->last_row) <= 0;

		/*
		 * The early rows reach into the blocks the appender encoded: its
		 * group's rows go back to the buffer, and are taken back from there
		 * (see CowAppender).  The statement may append again.
		 */
		if (below && p->append != NULL && p->last_row == p->append->top &&
			r->n < r->cap / 2)
		{
			(void) CowAppendGiveBack(p, rel, NULL);
			p->append_off = false;
			CowReorderTakeBack(p, rel, row);
			below = p->last_row != NULL &&
				CowBufferKeyCmp(p, row, p->last_row) <= 0;
		}
		MemoryContextSwitchTo(old);
	}
	if (below)
		CowReorderToSpill(p, rel, row);
	else
	{
		int64		seq = row->seq;

		CowReorderPush(p, row);
		while ((r = p->reorder) != NULL &&
			   (r->n > r->cap || r->bytes > r->limit ||
				(r->n > 0 && r->heap[0]->seq < seq - COW_REORDER_DELAY)))
		{
			CowReorderPop(p, rel);
			CowReorderFlush(p, rel);
		}
		return;
	}
	CowReorderFlush(p, rel);
}

/*
 * CowReorderEnd stops reordering: in_order (the statement's end) empties
 * the heap in key order as CowReorderPop does; otherwise its rows and the
 * buffer's all go to the spill sort and the statement is merged in one
 * pass at its end.
 */
static void
CowReorderEnd(CowPending *p, Relation rel, bool in_order)
{
	CowReorder *r = p->reorder;

	if (in_order)
	{
		while (r->n > 0)
			CowReorderPop(p, rel);
		/* the statement ends: its last group is written */
		if (p->append != NULL)
			CowAppendFinish(p, rel);
	}
	else
	{
		if (p->append != NULL)
			(void) CowAppendGiveBack(p, rel, NULL);
		for (int i = 0; i < r->n; i++)
			CowReorderToSpill(p, rel, r->heap[i]);
		r->n = 0;
		if (p->rows != NIL)
			CowSpillBuffered(p, rel, false);
		p->keys_ascending = false;
	}
	ereport(DEBUG1,
			(errmsg_internal("incetl_cow: " INT64_FORMAT " rows of the statement on \"%s\" came out of key order and were sorted",
							 r->nspilled, RelationGetRelationName(rel))));
	CowReorderFree(p);
}

/* CowReorderFree drops the heap and whatever rows it still holds. */
static void
CowReorderFree(CowPending *p)
{
	MemoryContextDelete(p->reorder->cxt);
	pfree(p->reorder->heap);
	pfree(p->reorder);
	p->reorder = NULL;
}

/* the statement's greatest key so far: the last row waiting, or top */
static CowRow *
CowAppendLastRow(CowPending *p)
{
	CowAppender *a = p->append;
	int			n = CowWaitRowsCount(a->wait);

	if (n > 0)
	{
		/* the view of the last row waiting, made again: wait may have moved */
		CowWaitRowsLast(a->wait, a->last.values, a->last.isnull);
		if (a->top == NULL || CowBufferKeyCmp(p, a->top, &a->last) < 0)
			return &a->last;
	}
	return a->top ? a->top : p->last_key;
}

/*
 * CowAppendSetTop makes row's key top's, when it is greater: top keeps
 * copies of the record key's values only (its other columns are NULL).
 */
static void
CowAppendSetTop(CowPending *p, TupleDesc desc, CowRow *row)
{
	CowAppender *a = p->append;
	CowRow	   *top = a->top;

	if (top == NULL)
	{
		top = MemoryContextAllocZero(CowWriteContext, sizeof(CowRow));
		top->values = MemoryContextAllocZero(CowWriteContext,
											 sizeof(Datum) * Max(desc->natts, 1));
		top->isnull = MemoryContextAlloc(CowWriteContext,
										 sizeof(bool) * Max(desc->natts, 1));
		memset(top->isnull, true, sizeof(bool) * desc->natts);
	}
	else if (CowBufferKeyCmp(p, top, row) >= 0)
		return;
	for (int k = 0; k < p->opts.nkeys; k++)
	{
		int			i = p->opts.key_attnums[k] - 1;
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (!att->attbyval && !top->isnull[i])
			pfree(DatumGetPointer(top->values[i]));
		if (att->attbyval)
			top->values[i] = row->values[i];
		else
		{
			MemoryContext old = MemoryContextSwitchTo(CowWriteContext);

			top->values[i] = datumCopy(row->values[i], false, att->attlen);
			MemoryContextSwitchTo(old);
		}
		top->isnull[i] = false;
	}
	a->top = top;
}

static bool
CowIsMarkerRow(CowPending *p, CowRow *row)
{
	int			m = p->opts.delete_marker_attnum - 1;

	return m >= 0 && !row->isnull[m] && DatumGetBool(row->values[m]);
}

/*
 * CowAppendStart: the buffer holds COW_APPEND_START rows of a statement
 * that may be merged in parts, in key order, of the current subtransaction.
 * If they (and so the statement) start beyond the table's last key, they
 * become the first rows of an appender.
 */
static void
CowAppendStart(CowPending *p, Relation rel)
{
	TupleDesc	desc = RelationGetDescr(rel);
	CowAppender *a;
	MemoryContext old;
	ListCell   *lc;

	old = MemoryContextSwitchTo(CowWriteContext);
	a = palloc0(sizeof(CowAppender));
	if (!CowAppendBegin(rel, p, linitial(p->rows), &a->opts))
	{
		pfree(a);
		MemoryContextSwitchTo(old);
		return;
	}
	p->appending = 1;
	a->subid = GetCurrentSubTransactionId();
	a->row_cxt = GenerationContextCreate(CowWriteContext,
										 "incetl cow appended rows",
										 0, 8 * 1024, 64 * 1024);
	a->group_cxt = AllocSetContextCreate(CowWriteContext,
										 "incetl cow append group",
										 ALLOCSET_DEFAULT_SIZES);
	a->wait = CowWaitRowsCreate(desc, COW_BLOCK_ROWS + COW_APPEND_KEEP + 1,
								CowWriteContext);
	a->last.values = palloc0(sizeof(Datum) * Max(desc->natts, 1));
	a->last.isnull = palloc0(sizeof(bool) * Max(desc->natts, 1));
	p->append = a;
	MemoryContextSwitchTo(old);
	ereport(DEBUG1,
			(errmsg_internal("incetl_cow: the statement on \"%s\" appends its rows a block at a time",
							 RelationGetRelationName(rel))));

	/* the buffered rows move over, copied to wait (pending numbers unused) */
	foreach(lc, p->rows)
		CowAppendRow(p, rel, lfirst(lc));
	CowClearBuffered(p);
	p->last_row = CowAppendLastRow(p);
}

/*
 * CowAppendRow takes row (its key above every earlier row's) into the
 * group, encoding a block and writing the group as they fill.  Its values
 * are copied: the caller frees row.
 */
static void
CowAppendRow(CowPending *p, Relation rel, CowRow *row)
{
	CowAppender *a = p->append;
	int			keep;

	if (CowIsMarkerRow(p, row))
	{
		/* not stored; a tombstone for a later row of its key (CowFlushPart) */
		if (p->spill == NULL)
			p->spill = CowSpillBegin(rel, &p->opts, CowWriteContext);
		CowSpillPut(p->spill, row, a->subid, true);
		CowAppendSetTop(p, RelationGetDescr(rel), row);
		p->last_row = a->top;
		return;
	}
	/*
	 * The last COW_APPEND_KEEP rows wait, reordering or not: a row that
	 * breaks the key order may take them back (CowReorderTakeBack).
	 */
	keep = COW_APPEND_KEEP;
	if (p->reorder != NULL && p->reorder->jumped)
	{
		keep = COW_APPEND_KEEP_JUMPS;
		CowWaitRowsReserve(a->wait, COW_BLOCK_ROWS + keep + 1);
	}
	CowWaitRowsPush(a->wait, row);
	if (CowWaitRowsCount(a->wait) >= COW_BLOCK_ROWS + keep)
		CowAppendEncode(p, rel, keep, false);
	p->last_row = CowAppendLastRow(p);
}

/*
 * CowAppendEncode hands the waiting rows but the last keep over to the
 * group, a block (COW_BLOCK_ROWS rows, fewer where the group ends) at a
 * time, and writes each group that fills.  With final the rows left form
 * a short last block, which ends the group (the caller writes it).
 */
static void
CowAppendEncode(CowPending *p, Relation rel, int keep, bool final)
{
	CowAppender *a = p->append;
	TupleDesc	desc = RelationGetDescr(rel);
	int			natts = desc->natts;
	int64		fgr = Max(a->opts.file_group_rows, 1);
	const Datum **vals = palloc(sizeof(Datum *) * Max(natts, 1));
	int64	   *nvals = palloc0(sizeof(int64) * Max(natts, 1));
	const bool **isnull = palloc0(sizeof(bool *) * Max(natts, 1));

	while (CowWaitRowsCount(a->wait) > keep)
	{
		int64		in_group = a->w ? CowGroupWriterRows(a->w) : 0;
		int			avail = CowWaitRowsCount(a->wait) - keep;
		int			take = (int) Min((int64) COW_BLOCK_ROWS, fgr - in_group);

		if (avail < take)
		{
			if (!final)
				break;
			take = avail;
		}
		if (a->w == NULL)
			a->w = CowGroupWriterBegin(desc, &a->opts, fgr,
									   p->stmt_commit_id, true, a->group_cxt);
		for (int i = 0; i < natts; i++)
		{
			/* the columns of the block, and its last row's values */
			vals[i] = NULL;
			a->last.isnull[i] = true;
			a->last.values[i] = (Datum) 0;
			if (TupleDescAttr(desc, i)->attisdropped)
				continue;
			CowWaitRowsColumn(a->wait, i, take, &vals[i], &nvals[i],
							  &isnull[i]);
			if (!isnull[i][take - 1])
			{
				a->last.isnull[i] = false;
				a->last.values[i] = vals[i][nvals[i] - 1];
			}
		}
		CowGroupWriterAddColumns(a->w, take, vals, nvals, isnull);
		CowAppendSetTop(p, desc, &a->last);
		CowWaitRowsDrop(a->wait, take);
		if (CowGroupWriterRows(a->w) >= fgr)
			CowAppendWrite(p, rel);
		else if (take < COW_BLOCK_ROWS)
			break;				/* final: the group's last block */
	}
	pfree(vals);
	pfree(nvals);
	pfree(isnull);
}

/* CowAppendWrite writes the group being written as a part of the statement */
static void
CowAppendWrite(CowPending *p, Relation rel)
{
	CowAppender *a = p->append;
	bool		was_flushing = CowFlushing;

	CowFlushing = true;
	p->merge_cid = GetCurrentCommandId(false);
	p->merge_serial++;
	CowAppendWriteGroup(rel, p, a->w);
	CowFlushing = was_flushing;
	a->w = NULL;
	MemoryContextReset(a->group_cxt);

	/*
	 * A part written: the key order goes on from its last key (top), even
	 * if the rows after it are given back and taken back (see CowFlushPart)
	 */
	if (p->last_key)
		pfree(p->last_key);
	p->last_key = CowReorderCopy(RelationGetDescr(rel), a->top, CowWriteContext);
}

/*
 * CowAppendFinish ends the appender at the statement's end (or before a
 * read of the table merges the statement): the rows waiting and the group
 * being written are written, the last group short.
 */
static void
CowAppendFinish(CowPending *p, Relation rel)
{
	CowAppender *a = p->append;
	CowRow	   *last;

	CowAppendEncode(p, rel, 0, true);
	Assert(CowWaitRowsCount(a->wait) == 0);
	if (a->w != NULL && CowGroupWriterRows(a->w) > 0)
		CowAppendWrite(p, rel);
	last = CowAppendLastRow(p);
	if (last != NULL && last != p->last_key)
	{
		if (p->last_key)
			pfree(p->last_key);
		p->last_key = CowReorderCopy(RelationGetDescr(rel), last, CowWriteContext);
	}
	p->last_row = p->last_key;
	CowAppendFree(p);
}

typedef struct CowGiveBack
{
	CowPending *p;
	TupleDesc	desc;
} CowGiveBack;

/* emit callback of CowAppendGiveBack: one decoded row back to the buffer */
static void
CowAppendGiveBackRow(void *arg, Datum *values, bool *isnull)
{
	CowPending *p = ((CowGiveBack *) arg)->p;
	TupleDesc	desc = ((CowGiveBack *) arg)->desc;
	CowAppender *a = p->append;
	CowRow	   *row;
	MemoryContext old;

	row = CowRowFromValues(desc, desc->natts, values, isnull,
						   a->given_back_seq++, false, p->row_cxt);
	old = MemoryContextSwitchTo(CowWriteContext);
	p->rows = lappend(p->rows, row);
	p->row_subids = lappend_int(p->row_subids, (int) a->subid);
	p->bytes += GetMemoryChunkSpace(row) + 2 * sizeof(ListCell);
	MemoryContextSwitchTo(old);
}

/*
 * CowAppendGiveBack ends the appender mid-group: the group's rows, decoded,
 * and the rows waiting go back to the buffer, as if they had been buffered
 * (see CowAppender); the groups written stay parts of the statement.  The
 * statement appends no more this way.  carry, a row in the appender's row
 * context (or NULL), is returned copied into the buffer's.
 */
static CowRow *
CowAppendGiveBack(CowPending *p, Relation rel, CowRow *carry)
{
	CowAppender *a = p->append;
	TupleDesc	desc = RelationGetDescr(rel);
	int			nwait = CowWaitRowsCount(a->wait);
	int64		nrows = (a->w ? CowGroupWriterRows(a->w) : 0) + nwait;
	CowRow	  **waiting;
	MemoryContext old;

	if (p->row_cxt == NULL)
		p->row_cxt = CowRowContextCreate(0);
	Assert(p->rows == NIL);
	ereport(DEBUG1,
			(errmsg_internal("incetl_cow: the statement on \"%s\" gives " INT64_FORMAT " appended rows back to its buffer",
							 RelationGetRelationName(rel), nrows)));
	/* arrival numbers below every other row's (>= 0) */
	a->given_back_seq = -nrows - 1;
	if (a->w != NULL)
	{
		CowGiveBack gb;

		gb.p = p;
		gb.desc = desc;
		CowGroupWriterDecode(a->w, rel, CowAppendGiveBackRow, &gb);
	}
	old = MemoryContextSwitchTo(CowWriteContext);
	waiting = CowWaitRowsCopyAll(a->wait, p->row_cxt);
	CowWaitRowsDrop(a->wait, nwait);
	for (int i = 0; i < nwait; i++)
	{
		CowRow	   *row = waiting[i];

		p->rows = lappend(p->rows, row);
		p->row_subids = lappend_int(p->row_subids, (int) a->subid);
		p->bytes += GetMemoryChunkSpace(row) + 2 * sizeof(ListCell);
	}
	pfree(waiting);
	MemoryContextSwitchTo(old);
	if (carry != NULL)
	{
		CowRow	   *copy = CowReorderCopy(desc, carry, p->row_cxt);

		pfree(carry);
		carry = copy;
	}
	/* the key order goes on from the greatest key (a marker's, maybe) */
	if (a->top != NULL &&
		(p->rows == NIL || CowBufferKeyCmp(p, a->top, llast(p->rows)) > 0))
	{
		if (p->last_key)
			pfree(p->last_key);
		p->last_key = CowReorderCopy(desc, a->top, CowWriteContext);
		p->last_row = p->last_key;
	}
	else
		p->last_row = p->rows != NIL ? (CowRow *) llast(p->rows) : p->last_key;
	p->append_off = true;
	CowAppendFree(p);
	return carry;
}

/* CowAppendFree drops the appender and whatever it holds */
static void
CowAppendFree(CowPending *p)
{
	CowAppender *a = p->append;

	if (a == NULL)
		return;
	if (a->w != NULL)
		CowGroupWriterClose(a->w);
	MemoryContextDelete(a->row_cxt);
	MemoryContextDelete(a->group_cxt);
	CowWaitRowsFree(a->wait);
	pfree(a->last.values);
	pfree(a->last.isnull);
	if (a->top)
	{
		pfree(a->top->values);
		pfree(a->top->isnull);
		pfree(a->top);
	}
	if (a->opts.key_attnums)
		pfree(a->opts.key_attnums);
	pfree(a);
	p->append = NULL;
}

/*
 * CowMaybeAppend: the buffer of a statement that may be merged in parts
 * (the caller checked) holds COW_APPEND_START rows: start appending them
 * (CowAppender), once per statement, if it can.
 */
static void
CowMaybeAppend(CowPending *p, Relation rel)
{
	if (p->append != NULL || p->append_off || p->appending < 0 ||
		p->opts.nkeys == 0 || list_length(p->rows) < COW_APPEND_START ||
		IsInParallelMode() || CowFlushing || p->on_conflict ||
		p->key_ssup == NULL)
		return;
	p->append_off = true;		/* tried once */
	CowAppendStart(p, rel);
	if (p->append != NULL)
		p->append_off = false;
}

/*
 * CowFlushPending merges everything the statement left for one relation
 * and resets its buffer for the next statement.
 */
static void
CowFlushPending(CowPending *p)
{
	Relation	rel;

	if (p->reorder != NULL &&
		!(p->min_subid != InvalidSubTransactionId &&
		  p->min_subid < GetCurrentSubTransactionId()))
	{
		rel = relation_open(p->relid, RowExclusiveLock);
		CowReorderEnd(p, rel, true);
		relation_close(rel, NoLock);
	}
	if (p->append != NULL &&
		!(p->min_subid != InvalidSubTransactionId &&
		  p->min_subid < GetCurrentSubTransactionId()))
	{
		rel = relation_open(p->relid, RowExclusiveLock);
		CowAppendFinish(p, rel);
		relation_close(rel, NoLock);
	}
	if (p->reorder == NULL && p->rows == NIL && CowDeleteSetCount(p->deletes) == 0 &&
		(p->spill == NULL || CowSpillRowCount(p->spill) == 0) &&
		p->stmt_parts == NIL)
	{
		CowResetStatement(p);
		return;
	}

	/*
	 * A statement running inside a subtransaction (a function's exception
	 * block) that ends while rows of an enclosing statement are buffered
	 * leaves them for that statement: merged here, they would be rolled
	 * back with the subtransaction, and with them the enclosing rows.
	 */
	if (p->min_subid != InvalidSubTransactionId &&
		p->min_subid < GetCurrentSubTransactionId())
		return;

	if (p->spill != NULL)
	{
		if (CowSpillRowCount(p->spill) == 0 && p->keys_ascending)
		{
			/* the key order held to the end: the tombstones are moot */
			CowSpillEnd(p->spill);
			p->spill = NULL;
		}
		else
		{
			rel = relation_open(p->relid, RowExclusiveLock);
			CowSpillBuffered(p, rel, false);
			relation_close(rel, NoLock);
		}
	}
	CowMergeBuffered(p, true);
	CowResetStatement(p);
}

/*
 * CowResetStatement forgets what one statement's rows had in common: the
 * spill, the key order, the options (reloaded by the next statement).
 */
static void
CowResetStatement(CowPending *p)
{
	if (p->reorder)
		CowReorderFree(p);
	CowAppendFree(p);
	p->append_off = false;
	if (p->spill)
		CowSpillEnd(p->spill);
	p->spill = NULL;
	CowClearBuffered(p);
	if (p->last_key)
		pfree(p->last_key);
	p->last_key = NULL;
	p->min_subid = InvalidSubTransactionId;
	p->write_cid = InvalidCommandId;
	list_free(p->writers);
	p->writers = NIL;
	list_free_deep(p->stmt_parts);
	p->stmt_parts = NIL;
	p->stmt_commit_id = 0;
	p->next_seq = 0;
	p->opts_loaded = false;
	p->appending = 0;
	p->carry_allowed = false;
	for (int i = 0; i < 2; i++)
	{
		if (p->merge_cxt[i])
			MemoryContextDelete(p->merge_cxt[i]);
		p->merge_cxt[i] = NULL;
	}
	/* a load's large row contexts go; the next statement starts small */
	if (p->spare_cxt)
		MemoryContextDelete(p->spare_cxt);
	p->spare_cxt = NULL;
	if (p->row_cxt)
		MemoryContextDelete(p->row_cxt);
	p->row_cxt = NULL;
	p->keys_ascending = false;
	p->key_ssup = NULL;			/* options are reloaded: so is the ordering */
	if (p->on_conflict)
		CowOnConflictForget();
	p->on_conflict = false;
}

void
CowFlushRelation(Oid relid)
{
	CowPending *p;

	if (CowFlushing)
		return;
	p = CowGetPending(relid, false);
	if (p)
		CowFlushPending(p);
}

void
CowFlushAll(void)
{
	ListCell   *lc;

	if (CowFlushing)
		return;
	foreach(lc, CowPendingList)
		CowFlushPending((CowPending *) lfirst(lc));
}

/*
 * CowMergeEarlierChanges: a logical replication apply worker applies each
 * change as a little executor run of its own, without ExecutorFinish, so
 * the rows of one change stay buffered while the next one runs -- whose
 * scan would not see them, and whose row lock would be handed a pending
 * TID.  Before a change reads or writes rel, merge what earlier changes
 * (earlier commands) buffered for it.  Elsewhere a statement's writes are
 * merged at its end and this does nothing.
 */
void
CowMergeEarlierChanges(Relation rel)
{
	CowPending *p;

	if (CowPendingList == NIL || CowFlushing || !IsLogicalWorker())
		return;
	p = CowGetPending(RelationGetRelid(rel), false);
	if (p == NULL || p->write_cid == InvalidCommandId ||
		CowLastWriteCurCid >= GetCurrentCommandId(false))
		return;

	/*
	 * A statement that merged parts of its rows (a table sync's COPY) moved
	 * the command counter on itself: it is still running, and may be
	 * checking an index entry under a buffer lock right now.  Its end
	 * merges the rest.
	 */
	if (p->stmt_parts != NIL)
		return;
	CowFlushPending(p);
}

/*
 * CowDiscardRelation drops a relation's buffer (TRUNCATE, DROP).
 */
void
CowDiscardRelation(Oid relid)
{
	CowPending *p = CowGetPending(relid, false);

	CowDeletePassForget();
	if (p)
	{
		if (p->spill)
			CowSpillEnd(p->spill);
		p->spill = NULL;
		if (p->reorder)
			CowReorderFree(p);
		CowAppendFree(p);
		CowPendingList = list_delete_ptr(CowPendingList, p);
	}
}

static void
CowXactCallback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_PRE_COMMIT:
		case XACT_EVENT_PARALLEL_PRE_COMMIT:
		case XACT_EVENT_PRE_PREPARE:
			if (CowPendingList != NIL && !CowFlushing)
				CowFlushAll();
			break;
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_PARALLEL_COMMIT:
		case XACT_EVENT_PREPARE:
			/* TopTransactionContext goes away; the reset callback clears us */
			CowFlushing = false;
			CowClearFreeSpace();
			break;
	}
}

static void
CowSubXactCallback(SubXactEvent event, SubTransactionId mySubid,
				   SubTransactionId parentSubid, void *arg)
{
	ListCell   *lc;

	if (event != SUBXACT_EVENT_ABORT_SUB)
		return;
	CowRowFetchForget();
	CowDeletePassForget();
	CowFlushing = false;
	CowSpeculating = false;
	CowOnConflictForget();
	CowClearFreeSpace();
	foreach(lc, CowPendingList)
	{
		CowPending *p = lfirst(lc);
		List	   *rows = NIL,
				   *subids = NIL;
		int			i;
		MemoryContext old = MemoryContextSwitchTo(CowWriteContext);

		if (p->spill)
			CowSpillNoteAbort(p->spill, mySubid, p->next_seq, CowWriteContext);
		if (p->append && p->append->subid >= mySubid)
			CowAppendFree(p);	/* its rows and group were the aborted ones */
		if (p->reorder && p->reorder->subid >= mySubid)
			CowReorderFree(p);	/* its rows were the aborted ones */
		for (i = 0; i < list_length(p->rows); i++)
		{
			if ((SubTransactionId) list_nth_int(p->row_subids, i) >= mySubid)
				continue;
			rows = lappend(rows, list_nth(p->rows, i));
			subids = lappend_int(subids, list_nth_int(p->row_subids, i));
		}
		CowDeleteSetAbortSub(p->deletes, mySubid);
		if (p->self_deleted != NULL)
			CowDeleteSetAbortSub(p->self_deleted, mySubid);
		p->merge_serial++;		/* versions a rolled-back merge wrote are gone */
		if (p->stmt_parts != NIL)
		{
			List	   *parts = NIL;
			ListCell   *pc;

			/* parts merged in the aborted subtransaction are rolled back */
			foreach(pc, p->stmt_parts)
			{
				CowPartCounts *part = lfirst(pc);

				if (part->subid >= mySubid)
					pfree(part);
				else
					parts = lappend(parts, part);
			}
			list_free(p->stmt_parts);
			p->stmt_parts = parts;
		}
		p->rows = rows;
		p->last_row = rows != NIL ? (CowRow *) llast(rows) : p->last_key;
		if (p->append != NULL)
			p->last_row = CowAppendLastRow(p);
		p->row_subids = subids;
		MemoryContextSwitchTo(old);

		/*
		 * Everything the statement buffered was of the aborted
		 * subtransaction (a statement that failed, rolled back to a
		 * savepoint): forget the statement, or its state -- the smallest
		 * subtransaction among them above all -- would keep the next
		 * statement's rows from being merged at its end.
		 */
		if (p->min_subid != InvalidSubTransactionId && p->min_subid >= mySubid)
			CowResetStatement(p);
		if (p->on_conflict && p->on_conflict_subid >= mySubid)
			p->on_conflict = false; /* the statement was rolled back */
	}
}

/* ---------- what uniqueness checks see of this backend's writes ---------- */

/* CowOnConflictForget drops the lookup of ON CONFLICT rows; built again when needed */
static void
CowOnConflictForget(void)
{
	if (CowOnConflictRows != NULL)
		hash_destroy(CowOnConflictRows);
	CowOnConflictRows = NULL;
}

/*
 * CowOnConflictRow returns the row p's ON CONFLICT statement buffered at
 * pending row number rownum, or NULL.  The index holds entries at pending
 * TIDs of earlier statements too (of this or another backend, whose
 * numbers repeat): only an entry of this statement's rows counts.
 */
static CowRow *
CowOnConflictRow(CowPending *p, int64 rownum)
{
	CowOnConflictEntry *e;

	if (p->spill != NULL && CowSpillRowCount(p->spill) > 0)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("INSERT ... ON CONFLICT into an incetl_cow table cannot check rows moved to disk")));
	if (CowOnConflictRows == NULL)
	{
		HASHCTL		ctl;
		ListCell   *lc;

		ctl.keysize = sizeof(int64);
		ctl.entrysize = sizeof(CowOnConflictEntry);
		ctl.hcxt = CowWriteContext;
		CowOnConflictRows = hash_create("incetl cow on conflict rows", 1024, &ctl,
										HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
		foreach(lc, CowPendingList)
		{
			CowPending *q = lfirst(lc);
			ListCell   *rc;

			if (!q->on_conflict)
				continue;
			foreach(rc, q->rows)
			{
				CowRow	   *row = lfirst(rc);

				e = hash_search(CowOnConflictRows, &row->pending, HASH_ENTER, NULL);
				e->relid = q->relid;
				e->row = row;
			}
		}
	}
	e = hash_search(CowOnConflictRows, &rownum, HASH_FIND, NULL);
	return (e != NULL && e->relid == p->relid) ? e->row : NULL;
}

/* CowStoreBufferedRow puts a buffered row into slot, at TID rownum */
static void
CowStoreBufferedRow(Relation rel, CowRow *row, int64 rownum,
					TupleTableSlot *slot)
{
	int			natts = Min(slot->tts_tupleDescriptor->natts,
							RelationGetDescr(rel)->natts);

	ExecClearTuple(slot);
	for (int a = 0; a < slot->tts_tupleDescriptor->natts; a++)
	{
		if (a < natts)
			slot->tts_values[a] = CowRowValue(row, a, &slot->tts_isnull[a]);
		else
		{
			slot->tts_values[a] = (Datum) 0;
			slot->tts_isnull[a] = true;
		}
	}
	ExecStoreVirtualTuple(slot);
	CowRowNumberToTid(rownum, &slot->tts_tid);
	slot->tts_tableOid = RelationGetRelid(rel);
}

/*
 * CowPendingFetch answers, from this backend's write state, a fetch of
 * rel's row rownum under a dirty snapshot -- what a uniqueness or
 * exclusion check asks: "is a row live at this TID?".  Returns 1 when the
 * row is one the running INSERT ... ON CONFLICT statement buffered (slot
 * filled), -1 when no live row is there, 0 when the stored table must be
 * asked (a version current for the latest snapshot, which includes this
 * transaction's merged writes).
 *
 *	- during a merge (its own index insertions, the check after it): the
 *	  stored table; a pending TID is no row;
 *	- between tuple_insert_speculative and tuple_complete_speculative (the
 *	  executor's checks of a speculative insertion): nothing;
 *	- in an INSERT ... ON CONFLICT statement (its arbiter checks): the
 *	  stored rows less those the statement deleted, and the rows it
 *	  buffered;
 *	- in any other statement that buffered writes to rel: nothing -- the
 *	  check at the end of the statement decides (cow_unique.c), where an
 *	  upsert by record key may yet replace the conflicting row;
 *	- otherwise the stored table.
 */
int
CowPendingFetch(Relation rel, int64 rownum, TupleTableSlot *slot)
{
	CowPending *p;
	bool		pending = (rownum >= COW_MAX_ROW_NUMBER);
	CowRow	   *row;

	if (CowFlushing)
		return pending ? -1 : 0;
	if (CowSpeculating)
		return -1;
	p = CowGetPending(RelationGetRelid(rel), false);
	if (p != NULL && p->on_conflict)
	{
		if (!pending)
			return CowDeleteSetContains(p->deletes, rownum) ? -1 : 0;
		row = CowOnConflictRow(p, rownum);
		if (row == NULL)
			return -1;
		CowStoreBufferedRow(rel, row, rownum, slot);
		return 1;
	}
	if (p != NULL && p->write_cid != InvalidCommandId)
		return -1;
	return pending ? -1 : 0;
}

/*
 * CowPendingRowFetch: is rownum a row the running INSERT ... ON CONFLICT
 * statement buffered for rel?  Then it is put into slot (unless NULL):
 * what tuple_fetch_row_version and tuple_satisfies_snapshot answer for it
 * (the executor's visibility check of a conflicting row, ExecCheckTIDVisible).
 */
bool
CowPendingRowFetch(Relation rel, int64 rownum, TupleTableSlot *slot)
{
	CowPending *p;
	CowRow	   *row;

	if (rownum < COW_MAX_ROW_NUMBER || CowFlushing)
		return false;
	p = CowGetPending(RelationGetRelid(rel), false);
	if (p == NULL || !p->on_conflict)
		return false;
	row = CowOnConflictRow(p, rownum);
	if (row == NULL)
		return false;
	if (slot != NULL)
		CowStoreBufferedRow(rel, row, rownum, slot);
	return true;
}

/*
 * CowPendingEntriesRemovable: may index entries at pending TIDs of rel be
 * marked dead or removed now?  They are never rows, but a running INSERT
 * ... ON CONFLICT statement finds its own buffered rows through them.
 * Such a statement holds the writers' lock (the row-lock tag in
 * ExclusiveLock) from its start (before it inserts any entry) to commit;
 * so they may go when no other backend holds that lock -- probed in
 * ShareLock, which share row lockers do not block, without waiting and
 * without processing invalidations (the caller may hold an index page
 * locked) -- and this one runs no such statement on rel.
 */
bool
CowPendingEntriesRemovable(Relation rel)
{
	CowPending *p = CowGetPending(RelationGetRelid(rel), false);
	LOCKTAG		tag;

	if (p != NULL && p->on_conflict)
		return false;
	CowRowLockTag(rel, &tag);
	if (LockAcquire(&tag, ShareLock, false, true) == LOCKACQUIRE_NOT_AVAIL)
		return false;
	LockRelease(&tag, ShareLock, false);
	return true;
}

/*
 * CowOnConflictRunning: is an INSERT ... ON CONFLICT statement writing rel
 * (its arbiter checks find its buffered rows through their index entries)?
 */
bool
CowOnConflictRunning(Relation rel)
{
	CowPending *p = CowGetPending(RelationGetRelid(rel), false);

	return p != NULL && p->on_conflict;
}

/*
 * CowBeginOnConflict: an INSERT ... ON CONFLICT statement starts writing
 * rel.  It takes the writers' lock now, before its first arbiter check:
 * concurrent ON CONFLICT statements serialize, and each arbitrates against
 * a table no other writer is changing.
 */
void
CowBeginOnConflict(Relation rel)
{
	CowPending *p;

	CowLockWriters(rel);
	p = CowGetPending(RelationGetRelid(rel), true);
	if (p->append != NULL)
		(void) CowAppendGiveBack(p, rel, NULL);
	if (!p->on_conflict)
	{
		CowOnConflictForget();
		p->on_conflict = true;
		p->on_conflict_subid = GetCurrentSubTransactionId();
	}
}

/* tuple_insert_speculative: buffered as any insert */
void
CowBufferInsertSpeculative(Relation rel, TupleTableSlot *slot, CommandId cid)
{
	CowPending *p = CowGetPending(RelationGetRelid(rel), false);

	if (p == NULL || !p->on_conflict)
		CowBeginOnConflict(rel);
	CowBufferInsert(rel, slot, cid, false);
	CowSpeculating = true;
}

/*
 * tuple_complete_speculative: a speculative insertion that lost (another
 * row conflicted meanwhile) takes its row back out of the buffer.
 */
void
CowCompleteSpeculative(Relation rel, TupleTableSlot *slot, bool succeeded)
{
	CowPending *p = CowGetPending(RelationGetRelid(rel), false);
	int64		rownum = CowTidToRowNumber(&slot->tts_tid);
	CowRow	   *row;

	CowSpeculating = false;
	if (succeeded || p == NULL || p->rows == NIL)
		return;
	row = llast(p->rows);
	if (row->pending != rownum)
		elog(ERROR, "speculative row of \"%s\" not found in the buffer",
			 RelationGetRelationName(rel));
	p->rows = list_delete_last(p->rows);
	p->row_subids = list_delete_last(p->row_subids);
	p->last_row = p->rows != NIL ? (CowRow *) llast(p->rows) : p->last_key;
	CowOnConflictForget();
}

void
CowWriteStateInit(void)
{
	RegisterXactCallback(CowXactCallback, NULL);
	RegisterSubXactCallback(CowSubXactCallback, NULL);
	if (process_shared_preload_libraries_in_progress)
	{
		prev_shmem_request_hook = shmem_request_hook;
		shmem_request_hook = CowPendingShmemRequest;
		prev_shmem_startup_hook = shmem_startup_hook;
		shmem_startup_hook = CowPendingShmemStartup;
	}
}

static void
CowPendingShmemRequest(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(MAXALIGN(sizeof(CowPendingNumbers)));
}

static void
CowPendingShmemStartup(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	CowPendingShared = ShmemInitStruct("incetl_cow pending row numbers",
									   sizeof(CowPendingNumbers), &found);
	if (!found)
	{
		uint64		start = (uint64) Max(GetCurrentTimestamp(), 0);

		pg_atomic_init_u64(&CowPendingShared->next,
						   start - start % COW_PENDING_CHUNK);
	}
	LWLockRelease(AddinShmemInitLock);
}

/*
 * CowNextPendingNumber: the pending row number of the next buffered row,
 * distinct from those of every other backend (see CowPendingShared).
 */
static int64
CowNextPendingNumber(void)
{
	if (CowPendingNext == CowPendingEnd)
	{
		uint64		claimed;

		if (CowPendingShared != NULL)
			claimed = pg_atomic_fetch_add_u64(&CowPendingShared->next,
											  COW_PENDING_CHUNK);
		else
			claimed = (uint64) CowPendingEnd;
		CowPendingNext = (int64) (claimed % COW_PENDING_ROWS);
		CowPendingEnd = CowPendingNext + COW_PENDING_CHUNK;
	}
	return COW_MAX_ROW_NUMBER + CowPendingNext++;
}
