/*-------------------------------------------------------------------------
 *
 * cow_tableam.c
 *	  The TableAmRoutine of incetl_cow and its thin callbacks.
 *
 * Callbacks delegate to the layers: cow_scan.c (scans, fetches, ANALYZE),
 * cow_sample.c (TABLESAMPLE), cow_slot.c (the lazy slot),
 * cow_write_state.c (buffered writes, merged by cow_merge.c), cow_index.c (index builds), cow_clean.c (VACUUM),
 * cow_row_lock.c (row locks),
 * cow_storage.c (pages).  Storage creation, truncation and the VACUUM FULL
 * copy live here.  What is not supported raises
 * ERRCODE_FEATURE_NOT_SUPPORTED; no callback PostgreSQL requires is left
 * NULL (TID-range scans are the optional ones we leave out).
 *
 * Copyright (c) 2026, incetl authors
 *
 * IDENTIFICATION
 *	  src/cow/cow_tableam.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/relation.h"
#include "access/multixact.h"
#include "access/tableam.h"
#include "access/twophase.h"
#include "access/xact.h"
#include "catalog/catalog.h"
#include "catalog/index.h"
#include "catalog/storage.h"
#include "catalog/storage_xlog.h"
#include "commands/sequence.h"
#include "commands/vacuum.h"
#include "executor/tuptable.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "storage/lmgr.h"
#include "storage/lock.h"
#include "storage/smgr.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "cow/am.h"

PG_FUNCTION_INFO_V1(incetl_cow_tableam_handler);

static const TableAmRoutine CowMethods;

static const TupleTableSlotOps *
cow_slot_callbacks(Relation rel)
{
	return CowSlotOps();
}

static void
CowNotSupported(Relation rel, const char *what, const char *hint)
{
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("%s is not supported on incetl_cow table \"%s\"", what,
					RelationGetRelationName(rel)),
			 hint ? errhint("%s", hint) : 0));
}

static Size
cow_parallelscan_estimate(Relation rel)
{
	CowNotSupported(rel, "parallel scan", NULL);
	return 0;
}

static Size
cow_parallelscan_initialize(Relation rel, ParallelTableScanDesc pscan)
{
	CowNotSupported(rel, "parallel scan", NULL);
	return 0;
}

static void
cow_parallelscan_reinitialize(Relation rel, ParallelTableScanDesc pscan)
{
	CowNotSupported(rel, "parallel scan", NULL);
}

static bool
cow_tuple_tid_valid(TableScanDesc scan, ItemPointer tid)
{
	int64		rn = CowTidToRowNumber(tid);

	return rn >= COW_FIRST_ROW_NUMBER &&
		rn < CowReadMetaPage(scan->rs_rd).next_row_number;
}

static void
cow_tuple_insert(Relation rel, TupleTableSlot *slot, CommandId cid,
				 int options, BulkInsertState bistate)
{
	CowBufferInsert(rel, slot, cid, false);
}

static void
cow_tuple_insert_speculative(Relation rel, TupleTableSlot *slot, CommandId cid,
							 int options, BulkInsertState bistate,
							 uint32 specToken)
{
	CowNotSupported(rel, "INSERT ... ON CONFLICT",
					"INSERT into a table with a record key is already an upsert; see incetl.set_table_options().");
}

static void
cow_tuple_complete_speculative(Relation rel, TupleTableSlot *slot,
							   uint32 specToken, bool succeeded)
{
	CowNotSupported(rel, "INSERT ... ON CONFLICT", NULL);
}

static void
cow_multi_insert(Relation rel, TupleTableSlot **slots, int nslots,
				 CommandId cid, int options, BulkInsertState bistate)
{
	int			i;

	for (i = 0; i < nslots; i++)
		CowBufferInsert(rel, slots[i], cid, false);
}

static TM_Result
cow_tuple_delete(Relation rel, ItemPointer tid, CommandId cid,
				 Snapshot snapshot, Snapshot crosscheck, bool wait,
				 TM_FailureData *tmfd, bool changingPart)
{
	if (!CowBufferDelete(rel, tid, cid))
	{
		/*
		 * Deleted by this statement already: TM_SelfModified with our own
		 * xid, which MERGE needs to report a row it would affect a
		 * second time (21000); our xid may not be assigned yet, since
		 * writes are only buffered so far.
		 */
		tmfd->ctid = *tid;
		tmfd->xmax = GetCurrentTransactionId();
		tmfd->cmax = cid;
		return TM_SelfModified;
	}
	return TM_Ok;
}

static TM_Result
cow_tuple_update(Relation rel, ItemPointer otid, TupleTableSlot *slot,
				 CommandId cid, Snapshot snapshot, Snapshot crosscheck,
				 bool wait, TM_FailureData *tmfd, LockTupleMode *lockmode,
				 bool *update_indexes)
{
	*lockmode = LockTupleExclusive;
	*update_indexes = true;
	if (!CowBufferDelete(rel, otid, cid))
	{
		tmfd->ctid = *otid;
		tmfd->xmax = GetCurrentTransactionId();	/* see cow_tuple_delete */
		tmfd->cmax = cid;
		return TM_SelfModified;
	}
	CowBufferInsert(rel, slot, cid, true);
	/* WHERE CURRENT OF follows the row to its new version (cow_scan.c) */
	CowNoteRowUpdated(rel, CowTidToRowNumber(otid),
					  CowTidToRowNumber(&slot->tts_tid));
	return TM_Ok;
}

static void
cow_finish_bulk_insert(Relation rel, int options)
{
	CowFlushRelation(RelationGetRelid(rel));
}

/*
 * cow_relation_set_new_filenode creates the storage of a new, truncated or
 * rewritten table: a metapage with a fresh storage id.  When it replaces
 * existing storage (TRUNCATE), the table keeps its storage id and timeline
 * and records a "truncate" commit (CowTruncate).  An unlogged table's
 * storage gets an init fork (CowInitStorageFrom).
 */
static void
cow_relation_set_new_filenode(Relation rel, const RelFileNode *newrnode,
							  char persistence, TransactionId *freezeXid,
							  MultiXactId *minmulti)
{
	SMgrRelation srel;
	CowMetaPageData meta;
	Oid			source;

	CowDiscardRelation(RelationGetRelid(rel));
	*freezeXid = RecentXmin;
	*minmulti = GetOldestMultiXactId();

	if (!RelFileNodeEquals(rel->rd_node, *newrnode) &&
		smgrexists(RelationGetSmgr(rel), MAIN_FORKNUM) &&
		smgrnblocks(RelationGetSmgr(rel), MAIN_FORKNUM) > 0)
	{
		/* TRUNCATE */
		CowTruncate(rel, newrnode, persistence);
		return;
	}

	memset(&meta, 0, sizeof(meta));
	meta.storage_id = nextval_internal(CowCatalogRelid("cow_storage_id_seq", false), false);
	meta.next_row_number = COW_FIRST_ROW_NUMBER;
	meta.next_commit_id = 1;
	meta.next_file_group_id = 1;

	/*
	 * The transient table of an ALTER TABLE rewrite or VACUUM FULL takes
	 * over the timeline of the table it replaces, but only its current
	 * versions: everything superseded so far is gone, and as_of() of the
	 * commits before the last one fails as for cleaned ones, and their
	 * savepoints are dropped with a WARNING.  (An ALTER TABLE rewrite's own
	 * commit moves the horizon up to itself, see CowMergeAndWrite.)
	 */
	source = CowRewriteSourceRelid(rel);
	if (source != RelationGetRelid(rel))
	{
		Relation	src = relation_open(source, NoLock);

		if (CowIsCowRelation(src) && RelationGetNumberOfBlocks(src) > 0)
		{
			CowMetaPageData old = CowReadMetaPage(src);

			meta.next_commit_id = old.next_commit_id;
			meta.clean_horizon = Max(old.clean_horizon,
									 old.next_commit_id - 1);
			CowCopyCommits(old.storage_id, meta.storage_id);
			CowCopySavepoints(src, old.storage_id, meta.storage_id,
							  meta.clean_horizon);
		}
		relation_close(src, NoLock);
	}

	srel = RelationCreateStorage(*newrnode, persistence, true);
	CowInitStorageFrom(srel, persistence, &meta);
	smgrclose(srel);
}

/*
 * cow_relation_nontransactional_truncate: TRUNCATE of storage created in
 * this transaction (a second TRUNCATE, a table created in it); the
 * timeline stays whole (CowTruncate).
 */
static void
cow_relation_nontransactional_truncate(Relation rel)
{
	CowDiscardRelation(RelationGetRelid(rel));
	CowTruncate(rel, NULL, rel->rd_rel->relpersistence);

	/*
	 * A temporary table emptied at commit (ON COMMIT DELETE ROWS) then has
	 * its indexes rebuilt in the same command: they must see the versions
	 * gone.  Row addresses recorded for the table no longer lead anywhere.
	 */
	CommandCounterIncrement();
	CowForgetMoves(rel);
}

static void
cow_relation_copy_data(Relation rel, const RelFileNode *newrnode)
{
	SMgrRelation dstrel = smgropen(*newrnode, rel->rd_backend);
	ForkNumber	fork;

	FlushRelationBuffers(rel);
	RelationCreateStorage(*newrnode, rel->rd_rel->relpersistence, true);
	RelationCopyStorage(RelationGetSmgr(rel), dstrel, MAIN_FORKNUM,
						rel->rd_rel->relpersistence);
	for (fork = MAIN_FORKNUM + 1; fork <= MAX_FORKNUM; fork++)
	{
		if (smgrexists(RelationGetSmgr(rel), fork))
		{
			smgrcreate(dstrel, fork, false);
			/* an unlogged table's init fork is logged (as heap does) */
			if (RelationIsPermanent(rel) ||
				(rel->rd_rel->relpersistence == RELPERSISTENCE_UNLOGGED &&
				 fork == INIT_FORKNUM))
				log_smgrcreate(newrnode, fork);
			RelationCopyStorage(RelationGetSmgr(rel), dstrel, fork,
								rel->rd_rel->relpersistence);
		}
	}
	RelationDropStorage(rel);
	smgrclose(dstrel);
}

/*
 * VACUUM FULL / CLUSTER: copy the current versions only, keeping file
 * group ids and per-row commit ids.
 */
static void
cow_relation_copy_for_cluster(Relation OldTable, Relation NewTable,
							  Relation OldIndex, bool use_sort,
							  TransactionId OldestXmin,
							  TransactionId *xid_cutoff,
							  MultiXactId *multi_cutoff,
							  double *num_tuples, double *tups_vacuumed,
							  double *tups_recently_dead)
{
	Snapshot	snap;
	int			n,
				i;
	CowVersion *versions;
	CowOptions	opts;
	int64		new_storage = CowStorageId(NewTable);
	MemoryContext cxt,
				old;

	if (OldIndex != NULL || use_sort)
		CowNotSupported(OldTable, "CLUSTER", "Use VACUUM FULL.");

	*num_tuples = *tups_vacuumed = *tups_recently_dead = 0;
	snap = RegisterSnapshot(GetLatestSnapshot());
	CowLoadOptions(OldTable, snap, &opts);
	versions = CowLoadVersions(CowStorageId(OldTable), snap, true, &n);
	cxt = AllocSetContextCreate(CurrentMemoryContext, "incetl cow cluster",
								ALLOCSET_DEFAULT_SIZES);
	for (i = 0; i < n; i++)
	{
		CowDecodedGroup *g;
		CowRow	  **rows;
		CowVersion	v;
		uint64		r;
		int			a;

		old = MemoryContextSwitchTo(cxt);
		g = CowDecodeGroup(OldTable, &versions[i], true, NULL, true);
		rows = palloc(sizeof(CowRow *) * Max(g->nrows, 1));
		for (r = 0; r < g->nrows; r++)
		{
			rows[r] = palloc0(sizeof(CowRow));
			rows[r]->values = palloc(sizeof(Datum) * g->natts);
			rows[r]->isnull = palloc(sizeof(bool) * g->natts);
			for (a = 0; a < g->natts; a++)
			{
				rows[r]->values[a] = g->values[a][r];
				rows[r]->isnull[a] = g->isnull[a][r];
			}
			rows[r]->commit_id = g->commit_ids[r];
		}
		if (g->nrows > 0)
		{
			CowWriteGroup(NewTable, RelationGetDescr(NewTable), &opts, rows,
						  g->nrows, versions[i].file_group_id,
						  versions[i].commit_id, &v);
			CowInsertVersion(new_storage, &v);
		}
		*num_tuples += g->nrows;
		MemoryContextSwitchTo(old);
		MemoryContextReset(cxt);
	}
	MemoryContextDelete(cxt);
	UnregisterSnapshot(snap);

	/* the timeline carried over in cow_relation_set_new_filenode */
	*xid_cutoff = OldestXmin;
	*multi_cutoff = GetOldestMultiXactId();
}

static uint64
cow_relation_size(Relation rel, ForkNumber forkNumber)
{
	uint64		nblocks = 0;

	if (forkNumber == InvalidForkNumber)
	{
		ForkNumber	f;

		for (f = 0; f <= MAX_FORKNUM; f++)
			if (smgrexists(RelationGetSmgr(rel), f))
				nblocks += smgrnblocks(RelationGetSmgr(rel), f);
	}
	else if (smgrexists(RelationGetSmgr(rel), forkNumber))
		nblocks = smgrnblocks(RelationGetSmgr(rel), forkNumber);
	return nblocks * BLCKSZ;
}

static bool
cow_relation_needs_toast_table(Relation rel)
{
	return false;
}

static void
cow_relation_estimate_size(Relation rel, int32 *attr_widths,
						   BlockNumber *pages, double *tuples,
						   double *allvisfrac)
{
	Snapshot	snap = RegisterSnapshot(GetLatestSnapshot());
	int			n,
				i;
	CowVersion *v = CowLoadVersions(CowStorageId(rel), snap, true, &n);
	double		rows = 0;

	for (i = 0; i < n; i++)
		rows += v[i].row_count;
	UnregisterSnapshot(snap);
	*pages = RelationGetNumberOfBlocks(rel);
	*tuples = rows;
	/* no visibility map: index-only scans must fetch every row */
	*allvisfrac = 0;
}

static void
cow_index_validate_scan(Relation table_rel, Relation index_rel,
						IndexInfo *index_info, Snapshot snapshot,
						ValidateIndexState *state)
{
	CowNotSupported(table_rel, "CREATE INDEX CONCURRENTLY",
					"Use CREATE INDEX without CONCURRENTLY.");
}

/*
 * A scan or index fetch under a later command than a running statement
 * that buffered writes to the table would miss those writes (they are
 * merged when the statement ends): CowCheckUnmergedRead refuses it.  The
 * check is made here, where the read path (cow_scan.c) and the write
 * state (cow_write_state.c) meet.
 */
static TableScanDesc
cow_scan_begin_checked(Relation rel, Snapshot snapshot, int nkeys, ScanKey key,
					   ParallelTableScanDesc pscan, uint32 flags)
{
	CowCheckUnmergedRead(rel, snapshot);
	return cow_scan_begin(rel, snapshot, nkeys, key, pscan, flags);
}

static bool
cow_index_fetch_tuple_checked(IndexFetchTableData *data, ItemPointer tid,
							  Snapshot snapshot, TupleTableSlot *slot,
							  bool *call_again, bool *all_dead)
{
	CowCheckUnmergedRead(data->rel, snapshot);
	return cow_index_fetch_tuple(data, tid, snapshot, slot, call_again, all_dead);
}

/*
 * A fetch by a pending TID (a row a statement of this transaction
 * buffered) with SnapshotAny is the after-trigger queue's fetch of a new
 * row: the statement's rows are merged first if they are not yet, and the
 * row is the one the statement wrote (cow_write_state.c,
 * CowFetchPendingRow).
 */
static bool
cow_tuple_fetch_row_version_pending(Relation rel, ItemPointer tid,
									Snapshot snapshot, TupleTableSlot *slot)
{
	int64		rownum = CowTidToRowNumber(tid);

	if (rownum >= COW_MAX_ROW_NUMBER)
	{
		if (snapshot != NULL && snapshot->snapshot_type == SNAPSHOT_ANY)
			CowMergeForRowTriggers(rel, rownum);
		return CowFetchPendingRow(rel, rownum, slot);
	}
	return cow_tuple_fetch_row_version(rel, tid, snapshot, slot);
}

static const TableAmRoutine CowMethods = {
	.type = T_TableAmRoutine,

	.slot_callbacks = cow_slot_callbacks,

	.scan_begin = cow_scan_begin_checked,
	.scan_end = cow_scan_end,
	.scan_rescan = cow_scan_rescan,
	.scan_getnextslot = cow_scan_getnextslot,

	.scan_set_tidrange = NULL,
	.scan_getnextslot_tidrange = NULL,

	.parallelscan_estimate = cow_parallelscan_estimate,
	.parallelscan_initialize = cow_parallelscan_initialize,
	.parallelscan_reinitialize = cow_parallelscan_reinitialize,

	.index_fetch_begin = cow_index_fetch_begin,
	.index_fetch_reset = cow_index_fetch_reset,
	.index_fetch_end = cow_index_fetch_end,
	.index_fetch_tuple = cow_index_fetch_tuple_checked,

	.tuple_fetch_row_version = cow_tuple_fetch_row_version_pending,
	.tuple_tid_valid = cow_tuple_tid_valid,
	.tuple_get_latest_tid = cow_tuple_get_latest_tid,
	.tuple_satisfies_snapshot = cow_tuple_satisfies_snapshot,
	.index_delete_tuples = cow_index_delete_tuples,

	.tuple_insert = cow_tuple_insert,
	.tuple_insert_speculative = cow_tuple_insert_speculative,
	.tuple_complete_speculative = cow_tuple_complete_speculative,
	.multi_insert = cow_multi_insert,
	.tuple_delete = cow_tuple_delete,
	.tuple_update = cow_tuple_update,
	.tuple_lock = CowTupleLock,
	.finish_bulk_insert = cow_finish_bulk_insert,

	.relation_set_new_filenode = cow_relation_set_new_filenode,
	.relation_nontransactional_truncate = cow_relation_nontransactional_truncate,
	.relation_copy_data = cow_relation_copy_data,
	.relation_copy_for_cluster = cow_relation_copy_for_cluster,
	.relation_vacuum = cow_relation_vacuum,
	.scan_analyze_next_block = cow_scan_analyze_next_block,
	.scan_analyze_next_tuple = cow_scan_analyze_next_tuple,
	.index_build_range_scan = cow_index_build_range_scan,
	.index_validate_scan = cow_index_validate_scan,

	.relation_size = cow_relation_size,
	.relation_needs_toast_table = cow_relation_needs_toast_table,
	.relation_toast_am = NULL,
	.relation_fetch_toast_slice = NULL,

	.relation_estimate_size = cow_relation_estimate_size,

	/*
	 * Bitmap heap scans: a TID block is a range of row numbers, not a
	 * page, so the executor hook (cow_hooks.c) turns off the node's
	 * prefetching (PrefetchBuffer past the end of the file is an error)
	 * and its visibility-map shortcut.
	 */
	.scan_bitmap_next_block = cow_scan_bitmap_next_block,
	.scan_bitmap_next_tuple = cow_scan_bitmap_next_tuple,
	.scan_sample_next_block = cow_scan_sample_next_block,
	.scan_sample_next_tuple = cow_scan_sample_next_tuple
};

Datum
incetl_cow_tableam_handler(PG_FUNCTION_ARGS)
{
	PG_RETURN_POINTER(&CowMethods);
}

/*
 * cow_init registers the hooks and callbacks of incetl_cow.  Called from
 * _PG_init; the library must be in shared_preload_libraries so the hooks
 * exist before any incetl_cow table is touched.
 */
void
cow_init(void)
{
	CowRegisterRoutine(&CowMethods);
	(void) CowSlotOps();
	CowWriteStateInit();
	CowHooksInit();
	CowAggInit();
}
