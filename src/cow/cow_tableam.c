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
 * and CLUSTER copy live here.  What is not supported raises
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
#include "access/htup_details.h"
#include "access/relation.h"
#include "access/multixact.h"
#include "access/tableam.h"
#include "access/twophase.h"
#include "access/xact.h"
#include "catalog/catalog.h"
#include "catalog/index.h"
#include "catalog/pg_am.h"
#include "catalog/pg_type.h"
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
#include "utils/datum.h"
#include "utils/inval.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/tuplesort.h"

#include "cow/am.h"
#include "cow/read_cache.h"
#include "cow/shared_cache.h"

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

/*
 * Parallel sequential scans (cow_scan.c): participants claim file group
 * versions one at a time.  Workers never hold buffered writes (writing is
 * refused in parallel mode); the leader begins its scan of the shared
 * state right after initializing it, through cow_scan_begin_checked, which
 * refuses the read when a running statement of this transaction has writes
 * to the table still buffered, with or without a worker.
 */
static Size
cow_parallelscan_estimate(Relation rel)
{
	return CowParallelScanEstimate(rel);
}

static Size
cow_parallelscan_initialize(Relation rel, ParallelTableScanDesc pscan)
{
	return CowParallelScanInitialize(rel, pscan);
}

static void
cow_parallelscan_reinitialize(Relation rel, ParallelTableScanDesc pscan)
{
	CowParallelScanReinitialize(rel, pscan);
}

static bool
cow_tuple_tid_valid(TableScanDesc scan, ItemPointer tid)
{
	int64		rn = CowTidToRowNumber(tid);

	return rn >= COW_FIRST_ROW_NUMBER &&
		rn < CowReadMetaPage(scan->rs_rd).next_row_number;
}

/*
 * CowSlotWritten marks the slot of a row just inserted or updated as
 * written by this transaction and not deleted: RETURNING reads its xmin
 * and xmax as on heap (cow_slot.c).
 */
static void
CowSlotWritten(TupleTableSlot *slot)
{
	CowSlotSetXmin(slot, GetCurrentTransactionId());
	CowSlotSetXmax(slot, InvalidTransactionId);
}

static void
cow_tuple_insert(Relation rel, TupleTableSlot *slot, CommandId cid,
				 int options, BulkInsertState bistate)
{
	CowMergeEarlierChanges(rel);
	CowBufferInsert(rel, slot, cid, false);
	CowSlotWritten(slot);
}

/*
 * INSERT ... ON CONFLICT: the row is buffered like any other; between the
 * two calls the executor checks the new index entries, which find nothing
 * (CowPendingFetch).  A lost race takes the row back out.
 */
static void
cow_tuple_insert_speculative(Relation rel, TupleTableSlot *slot, CommandId cid,
							 int options, BulkInsertState bistate,
							 uint32 specToken)
{
	CowBufferInsertSpeculative(rel, slot, cid);
	CowSlotWritten(slot);
}

static void
cow_tuple_complete_speculative(Relation rel, TupleTableSlot *slot,
							   uint32 specToken, bool succeeded)
{
	CowCompleteSpeculative(rel, slot, succeeded);
}

static void
cow_multi_insert(Relation rel, TupleTableSlot **slots, int nslots,
				 CommandId cid, int options, BulkInsertState bistate)
{
	int			i;

	CowMergeEarlierChanges(rel);
	for (i = 0; i < nslots; i++)
		CowBufferInsert(rel, slots[i], cid, false);
}

static TM_Result
cow_tuple_delete(Relation rel, ItemPointer tid, CommandId cid,
				 Snapshot snapshot, Snapshot crosscheck, bool wait,
				 TM_FailureData *tmfd, bool changingPart)
{
	CommandId	cmax;

	CowMergeEarlierChanges(rel);
	if (!CowBufferDelete(rel, tid, cid, &cmax))
	{
		/*
		 * Deleted by this statement already: TM_SelfModified with our own
		 * xid, which MERGE needs to report a row it would affect a
		 * second time (21000); our xid may not be assigned yet, since
		 * writes are only buffered so far.  A later command's change (a
		 * function the statement called) has a later cmax: 27000.
		 */
		tmfd->ctid = *tid;
		tmfd->xmax = GetCurrentTransactionId();
		tmfd->cmax = cmax;
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
	CommandId	cmax;

	*lockmode = LockTupleExclusive;

	/*
	 * The merge indexes the new row where it stores it; an entry at its
	 * pending TID serves only an INSERT ... ON CONFLICT's arbiter checks
	 * (DO UPDATE: a later row of the statement proposing the new key), see
	 * CowSkipExecutorIndexing.
	 */
	*update_indexes = CowOnConflictRunning(rel);
	CowMergeEarlierChanges(rel);
	if (!CowBufferDelete(rel, otid, cid, &cmax))
	{
		tmfd->ctid = *otid;
		tmfd->xmax = GetCurrentTransactionId();	/* see cow_tuple_delete */
		tmfd->cmax = cmax;
		return TM_SelfModified;
	}
	CowBufferInsert(rel, slot, cid, true);
	CowSlotWritten(slot);

	/*
	 * heap keeps the updater's own lock on the new version of a row it
	 * locked (ON CONFLICT DO UPDATE, a BEFORE ROW trigger): its xmax
	 */
	if (CowRowLockedInCommand(rel, otid, cid))
		CowSlotSetXmax(slot, GetCurrentTransactionId());
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

	/*
	 * What the server's frame cache holds of an earlier file of the new
	 * number is not this storage's, whichever way it is filled below (a
	 * new metapage, or TRUNCATE's copy of retained versions).
	 */
	if (persistence != RELPERSISTENCE_TEMP)
		CowSharedCacheForgetNode(*newrnode);

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

		if (CowIsCowRelation(src) && CowPhysicalBlocks(src) > 0)
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
	List	   *indexes;
	ListCell   *lc;

	CowDiscardRelation(RelationGetRelid(rel));
	/* the file starts over: what the server cache has of it goes */
	if (rel->rd_rel->relpersistence != RELPERSISTENCE_TEMP)
		CowSharedCacheForgetNode(rel->rd_node);
	CowTruncate(rel, NULL, rel->rd_rel->relpersistence);

	/*
	 * PostgreSQL now empties each index and builds it again
	 * (RelationTruncateIndexes).  Unlike heap, an incetl_cow table that
	 * retains commits keeps its superseded versions, and the build indexes
	 * those an older snapshot may still see as current: a hash or SP-GiST
	 * build inserts them one by one, through the metapage its index caches
	 * in the relcache (rd_amcache), which still describes the index before
	 * it was emptied.  Invalidate the indexes' relcache entries so that the
	 * build starts from the emptied index.
	 */
	indexes = RelationGetIndexList(rel);
	foreach(lc, indexes)
		CacheInvalidateRelcacheByRelid(lfirst_oid(lc));
	list_free(indexes);

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
	/* what the server cache has of an earlier file of that number */
	CowSharedCacheForgetNode(*newrnode);
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
 * CowClusterWrite writes rows[0..n) of a CLUSTER sorted by an index as one
 * new file group of NewTable, its version's commit the newest of its rows'.
 */
static void
CowClusterWrite(Relation NewTable, const CowOptions *opts, CowRow **rows,
				int64 n)
{
	CowVersion	v;
	int64		commit_id = 0;
	int64		i;

	for (i = 0; i < n; i++)
		commit_id = Max(commit_id, rows[i]->commit_id);
	CowWriteGroup(NewTable, RelationGetDescr(NewTable), opts, rows, n,
				  CowNextFileGroupId(NewTable), commit_id, false, NULL, &v);
	CowInsertVersion(CowStorageId(NewTable), &v);
}

/*
 * CowCopySortedByIndex: CLUSTER of a table without a record key.  The rows
 * of the current versions go through tuplesort_begin_cluster (which orders
 * them by the btree index's columns, expressions and operators, as for
 * heap), each with its commit id as an extra last column, and are written
 * back in that order in new file groups of file_group_rows rows: a
 * sequential scan then returns them in index order.  The sort spills to
 * disk beyond maintenance_work_mem.
 */
static void
CowCopySortedByIndex(Relation OldTable, Relation NewTable, Relation OldIndex,
					 CowVersion *versions, int n, const CowOptions *opts,
					 double *num_tuples)
{
	TupleDesc	desc = RelationGetDescr(OldTable);
	int			natts = desc->natts;
	TupleDesc	sortdesc;
	Tuplesortstate *sort;
	MemoryContext cxt,
				old;
	Datum	   *values;
	bool	   *isnull;
	CowRow	  **rows;
	int64		nrows = 0;
	HeapTuple	tuple;
	int			i,
				a;

	sortdesc = CreateTemplateTupleDesc(natts + 1);
	for (a = 1; a <= natts; a++)
		TupleDescCopyEntry(sortdesc, a, desc, a);
	TupleDescInitEntry(sortdesc, natts + 1, "incetl_commit_id", INT8OID, -1, 0);
	sort = tuplesort_begin_cluster(sortdesc, OldIndex, maintenance_work_mem,
								   NULL, TUPLESORT_NONE);
	values = palloc(sizeof(Datum) * (natts + 1));
	isnull = palloc(sizeof(bool) * (natts + 1));
	cxt = AllocSetContextCreate(CurrentMemoryContext, "incetl cow cluster",
								ALLOCSET_DEFAULT_SIZES);

	for (i = 0; i < n; i++)
	{
		CowDecodedGroup *g;
		uint64		r;

		old = MemoryContextSwitchTo(cxt);
		g = CowDecodeGroup(OldTable, &versions[i], true, NULL, true);
		for (r = 0; r < g->nrows; r++)
		{
			for (a = 0; a < natts; a++)
			{
				values[a] = g->values[a][r];
				isnull[a] = g->isnull[a][r];
			}
			values[natts] = Int64GetDatum(g->commit_ids[r]);
			isnull[natts] = false;
			tuple = heap_form_tuple(sortdesc, values, isnull);
			tuplesort_putheaptuple(sort, tuple);
			heap_freetuple(tuple);
		}
		MemoryContextSwitchTo(old);
		MemoryContextReset(cxt);
		CHECK_FOR_INTERRUPTS();
	}
	tuplesort_performsort(sort);

	/* write them back, file_group_rows at a time */
	rows = palloc(sizeof(CowRow *) * opts->file_group_rows);
	while ((tuple = tuplesort_getheaptuple(sort, true)) != NULL)
	{
		CowRow	   *row;

		old = MemoryContextSwitchTo(cxt);
		row = palloc0(sizeof(CowRow));
		row->values = palloc(sizeof(Datum) * (natts + 1));
		row->isnull = palloc(sizeof(bool) * (natts + 1));
		heap_deform_tuple(tuple, sortdesc, row->values, row->isnull);
		/* the values point into the tuple, which the sort reuses: copy */
		for (a = 0; a < natts; a++)
		{
			Form_pg_attribute att = TupleDescAttr(desc, a);

			if (!row->isnull[a] && !att->attbyval)
				row->values[a] = datumCopy(row->values[a], false, att->attlen);
		}
		row->commit_id = DatumGetInt64(row->values[natts]);
		MemoryContextSwitchTo(old);
		rows[nrows++] = row;
		*num_tuples += 1;
		if (nrows == opts->file_group_rows)
		{
			CowClusterWrite(NewTable, opts, rows, nrows);
			nrows = 0;
			MemoryContextReset(cxt);
		}
	}
	if (nrows > 0)
		CowClusterWrite(NewTable, opts, rows, nrows);
	tuplesort_end(sort);
	MemoryContextDelete(cxt);
	pfree(rows);
	pfree(values);
	pfree(isnull);
	FreeTupleDesc(sortdesc);
}

/*
 * CowIndexIsOnKey: are the index's leading columns the record key's, in
 * order (the order the file groups of a keyed table are kept in)?
 */
static bool
CowIndexIsOnKey(Relation index, const CowOptions *opts)
{
	int			k;

	if (opts->nkeys > index->rd_index->indnkeyatts)
		return false;
	for (k = 0; k < opts->nkeys; k++)
		if (index->rd_index->indkey.values[k] != opts->key_attnums[k])
			return false;
	return true;
}

/*
 * VACUUM FULL / CLUSTER: copy the current versions only, keeping file
 * group ids and per-row commit ids.  CLUSTER of a table without a record
 * key writes the rows sorted by the index (CowCopySortedByIndex), in new
 * file groups; a table with a record key keeps its file groups sorted by
 * the key whatever the index, and is copied as by VACUUM FULL (a NOTICE
 * says so when the index is not on the key's columns).  The timeline
 * carries over as for VACUUM FULL (cow_relation_set_new_filenode).
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

	*num_tuples = *tups_vacuumed = *tups_recently_dead = 0;
	snap = RegisterSnapshot(GetLatestSnapshot());
	CowLoadOptions(OldTable, snap, &opts);
	versions = CowLoadVersions(CowStorageId(OldTable), snap, true, &n);

	if (OldIndex != NULL && opts.nkeys > 0 && !CowIndexIsOnKey(OldIndex, &opts))
		ereport(NOTICE,
				(errmsg("incetl_cow table \"%s\" stays ordered by its record key",
						RelationGetRelationName(OldTable)),
				 errdetail("The file groups of a table with a record key are kept sorted by the key: CLUSTER rewrites the table as VACUUM FULL does, not in the order of index \"%s\".",
						   RelationGetRelationName(OldIndex))));
	if (OldIndex != NULL && opts.nkeys == 0)
	{
		if (OldIndex->rd_rel->relam != BTREE_AM_OID)
			CowNotSupported(OldTable, "CLUSTER on a non-btree index",
							"Cluster the table on a btree index.");
		CowCopySortedByIndex(OldTable, NewTable, OldIndex, versions, n, &opts,
							 num_tuples);
		UnregisterSnapshot(snap);
		*xid_cutoff = OldestXmin;
		*multi_cutoff = GetOldestMultiXactId();
		return;
	}

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
						  versions[i].commit_id, false, NULL, &v);
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

/*
 * CowHasBrinIndex says whether rel has a BRIN index (valid or not).
 */
static bool
CowHasBrinIndex(Relation rel)
{
	List	   *indexes;
	ListCell   *lc;
	bool		found = false;

	if (!rel->rd_rel->relhasindex)
		return false;
	indexes = RelationGetIndexList(rel);
	foreach(lc, indexes)
	{
		HeapTuple	tup = SearchSysCache1(RELOID,
										  ObjectIdGetDatum(lfirst_oid(lc)));

		if (!HeapTupleIsValid(tup))
			continue;
		found = (((Form_pg_class) GETSTRUCT(tup))->relam == BRIN_AM_OID);
		ReleaseSysCache(tup);
		if (found)
			break;
	}
	list_free(indexes);
	return found;
}

/*
 * The size of the main fork is its pages, except for a table with a BRIN
 * index: BRIN summarizes and scans the TID blocks below the table's size
 * (RelationGetNumberOfBlocks: brinsummarize, bringetbitmap), and ours
 * number rows, COW_ROWS_PER_BLOCK to a block, up to the metapage's next
 * row number, which grows with every rewrite and soon passes the pages of
 * a compressed table.  Such a table reports the TID blocks of every row
 * number given out so far when they are more than its pages: the rows any
 * snapshot sees are below, so BRIN covers them all.
 *
 * What else asks (PostgreSQL 15): ANALYZE samples blocks below this size
 * and cow_scan_analyze_next_block maps those of extents onto rows, the
 * others are empty (its estimate scales with the block count, so it stays
 * right), and it and index builds (index_update_stats) store it in
 * pg_class.relpages, which our planner estimate does not read (it counts
 * pages itself, cow_relation_estimate_size); VACUUM is ours (cow_clean.c);
 * pg_relation_size and the storage code (CowPhysicalBlocks) ask smgr.
 * pg_prewarm, pageinspect and pg_visibility read pages below this size and
 * fail past the last page of such a table (doc/incetl_cow.md).  Tables
 * without a BRIN index report their pages only, as before.
 */
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
	else if (forkNumber == MAIN_FORKNUM ||
			 smgrexists(RelationGetSmgr(rel), forkNumber))
	{
		/*
		 * The main fork exists whenever the relation has storage, as heap
		 * assumes: asking would close and reopen its file (mdexists) at
		 * every plan of every query, a tenth of a point lookup's time.
		 */
		nblocks = smgrnblocks(RelationGetSmgr(rel), forkNumber);
		if (forkNumber == MAIN_FORKNUM && nblocks > 0 && CowHasBrinIndex(rel))
			nblocks = Max(nblocks,
						  CowTidBlocks(CowReadMetaPage(rel).next_row_number));
	}
	return nblocks * BLCKSZ;
}

/*
 * A TOAST table, where heap would have one (a column that may be stored
 * out of line), though it stays empty: the merge detoasts every value and
 * stores it in the file group, compressed there.  It exists so that what
 * PostgreSQL and its tools expect of such a table holds: reltoastrelid,
 * toast.* reloptions, REINDEX and ALTER TABLE ... SET TABLESPACE moving
 * it, statistics refused on it.  It costs an empty relation and its
 * index's metapage.  Like heap's, it is a heap table.
 */
static bool
cow_relation_needs_toast_table(Relation rel)
{
	return GetHeapamTableAmRoutine()->relation_needs_toast_table(rel);
}

static Oid
cow_relation_toast_am(Relation rel)
{
	return HEAP_TABLE_AM_OID;
}

static void
cow_relation_estimate_size(Relation rel, int32 *attr_widths,
						   BlockNumber *pages, double *tuples,
						   double *allvisfrac)
{
	double		rows,
				raw_bytes;
	int			n;

	/* the planner's get_relation_info hook reuses these totals */
	CowPlanVersionTotals(rel, &rows, &raw_bytes, &n);
	*pages = CowPhysicalBlocks(rel);
	*tuples = rows;
	/* no visibility map: index-only scans must fetch every row */
	*allvisfrac = 0;
}

/*
 * A scan or index fetch under a later command than a running statement
 * that buffered writes to the table would miss those writes (they are
 * merged when the statement ends): CowCheckUnmergedRead merges them when
 * the scan or the index fetch begins, and refuses a fetch that would need
 * them merged midway.  The check is made here, where the read path
 * (cow_scan.c) and the write state (cow_write_state.c) meet.
 */
static TableScanDesc
cow_scan_begin_checked(Relation rel, Snapshot snapshot, int nkeys, ScanKey key,
					   ParallelTableScanDesc pscan, uint32 flags)
{
	CowMergeEarlierChanges(rel);
	CowCheckUnmergedRead(rel, snapshot, true, false);
	return cow_scan_begin(rel, snapshot, nkeys, key, pscan, flags);
}

/*
 * A sequential scan under a dirty snapshot (logical replication's
 * RelationFindReplTupleSeq) reads the snapshot's xmin and xmax after each
 * row for a writer to wait for, which HeapTupleSatisfiesDirty sets: there
 * is none to wait for (see cow_index_fetch_tuple_checked), and the fields
 * are not initialized by the caller.
 */
static bool
cow_scan_getnextslot_checked(TableScanDesc scan, ScanDirection direction,
							 TupleTableSlot *slot)
{
	Snapshot	snapshot = scan->rs_snapshot;

	if (snapshot != NULL && snapshot->snapshot_type == SNAPSHOT_DIRTY)
	{
		snapshot->xmin = snapshot->xmax = InvalidTransactionId;
		snapshot->speculativeToken = 0;
	}
	return cow_scan_getnextslot(scan, direction, slot);
}

/*
 * Reads and row locks of a change applied by a logical replication worker
 * see what the changes before it wrote (CowMergeEarlierChanges).  An index
 * scan of a query under a later command than a running statement's writes
 * merges them before it starts (the query's snapshot is the active one),
 * not in the middle of its index scan: the index entries the merge makes
 * could land behind the scan's position.
 */
static IndexFetchTableData *
cow_index_fetch_begin_checked(Relation rel)
{
	CowMergeEarlierChanges(rel);
	if (ActiveSnapshotSet())
		CowCheckUnmergedRead(rel, GetActiveSnapshot(), true, true);
	return cow_index_fetch_begin(rel);
}

static TM_Result
cow_tuple_lock_checked(Relation rel, ItemPointer tid, Snapshot snapshot,
					   TupleTableSlot *slot, CommandId cid, LockTupleMode mode,
					   LockWaitPolicy wait_policy, uint8 flags,
					   TM_FailureData *tmfd)
{
	CowMergeEarlierChanges(rel);
	return CowTupleLock(rel, tid, snapshot, slot, cid, mode, wait_policy,
						flags, tmfd);
}

/*
 * A fetch under a dirty snapshot is a uniqueness or exclusion check
 * (_bt_check_unique, check_exclusion_or_unique_constraint): this backend's
 * write state answers first (CowPendingFetch, cow_write_state.c).  Entries
 * at pending TIDs are said to be dead only when no INSERT ... ON CONFLICT
 * can be relying on them (CowPendingEntriesRemovable).
 */
static bool
cow_index_fetch_tuple_checked(IndexFetchTableData *data, ItemPointer tid,
							  Snapshot snapshot, TupleTableSlot *slot,
							  bool *call_again, bool *all_dead)
{
	int64		rownum = CowTidToRowNumber(tid);
	bool		found;

	if (snapshot != NULL && snapshot->snapshot_type == SNAPSHOT_DIRTY)
	{
		int			r;

		/*
		 * No row of ours is ever being written by another transaction that
		 * the checker should wait for: a writer of the table holds the
		 * writers' lock, which the check is made under (or the row is this
		 * backend's own).  The fields are the table AM's to set, as
		 * HeapTupleSatisfiesDirty does.
		 */
		snapshot->xmin = snapshot->xmax = InvalidTransactionId;
		snapshot->speculativeToken = 0;
		r = CowPendingFetch(data->rel, rownum, slot);
		*call_again = false;
		if (all_dead != NULL)
			*all_dead = false;
		if (r != 0)
			return r > 0;

		/*
		 * A stored row.  Each check begins a fetch of its own
		 * (table_index_fetch_tuple_check, an arbiter's index scan): read
		 * through the transaction's cached fetch state, which keeps the
		 * versions and the decoded group from one check to the next.
		 */
		return cow_tuple_fetch_row_version(data->rel, tid, snapshot, slot);
	}
	CowCheckUnmergedRead(data->rel, snapshot, false, false);
	found = cow_index_fetch_tuple(data, tid, snapshot, slot, call_again, all_dead);

	/*
	 * The slot reads lazily from the fetch's decoded group; a constraint
	 * check (unique_key_recheck) ends the fetch before it reads the row.
	 */
	if (found && snapshot != NULL &&
		(snapshot->snapshot_type == SNAPSHOT_SELF ||
		 snapshot->snapshot_type == SNAPSHOT_DIRTY))
		ExecMaterializeSlot(slot);
	if (!found && all_dead != NULL && *all_dead &&
		rownum >= COW_MAX_ROW_NUMBER && !CowPendingEntriesRemovable(data->rel))
		*all_dead = false;
	return found;
}

/*
 * A fetch by a pending TID: a row of the running ON CONFLICT statement
 * (CowPendingRowFetch), or, with SnapshotAny, the after-trigger queue's
 * fetch of a new row: the statement's rows are merged first if they are
 * not yet, and the row is the one the statement wrote (cow_write_state.c,
 * CowFetchPendingRow).
 */
static bool
cow_tuple_fetch_row_version_checked(Relation rel, ItemPointer tid,
									Snapshot snapshot, TupleTableSlot *slot)
{
	int64		rownum = CowTidToRowNumber(tid);

	if (CowPendingRowFetch(rel, rownum, slot))
		return true;
	if (rownum >= COW_MAX_ROW_NUMBER)
	{
		if (snapshot != NULL && snapshot->snapshot_type == SNAPSHOT_ANY)
			CowMergeForRowTriggers(rel, rownum);
		return CowFetchPendingRow(rel, rownum, slot);
	}
	if (!cow_tuple_fetch_row_version(rel, tid, snapshot, slot))
		return false;

	/*
	 * the old row of a DELETE ... RETURNING (or of an UPDATE's, for
	 * triggers), which the running statement deleted: its xmax is ours
	 */
	if (snapshot != NULL && snapshot->snapshot_type == SNAPSHOT_ANY &&
		CowBufferDeleted(rel, rownum))
		CowSlotSetXmax(slot, GetCurrentTransactionId());
	return true;
}

static bool
cow_tuple_satisfies_snapshot_checked(Relation rel, TupleTableSlot *slot,
									 Snapshot snapshot)
{
	/* a row of the running ON CONFLICT statement: its own, visible to it */
	if (CowPendingRowFetch(rel, CowTidToRowNumber(&slot->tts_tid), NULL))
		return true;
	return cow_tuple_satisfies_snapshot(rel, slot, snapshot);
}

static TransactionId
cow_index_delete_tuples_checked(Relation rel, TM_IndexDeleteOp *delstate)
{
	return cow_index_delete_tuples_pending(rel, delstate,
										   CowPendingEntriesRemovable(rel));
}

static const TableAmRoutine CowMethods = {
	.type = T_TableAmRoutine,

	.slot_callbacks = cow_slot_callbacks,

	.scan_begin = cow_scan_begin_checked,
	.scan_end = cow_scan_end,
	.scan_rescan = cow_scan_rescan,
	.scan_getnextslot = cow_scan_getnextslot_checked,

	.scan_set_tidrange = NULL,
	.scan_getnextslot_tidrange = NULL,

	.parallelscan_estimate = cow_parallelscan_estimate,
	.parallelscan_initialize = cow_parallelscan_initialize,
	.parallelscan_reinitialize = cow_parallelscan_reinitialize,

	.index_fetch_begin = cow_index_fetch_begin_checked,
	.index_fetch_reset = cow_index_fetch_reset,
	.index_fetch_end = cow_index_fetch_end,
	.index_fetch_tuple = cow_index_fetch_tuple_checked,

	.tuple_fetch_row_version = cow_tuple_fetch_row_version_checked,
	.tuple_tid_valid = cow_tuple_tid_valid,
	.tuple_get_latest_tid = cow_tuple_get_latest_tid,
	.tuple_satisfies_snapshot = cow_tuple_satisfies_snapshot_checked,
	.index_delete_tuples = cow_index_delete_tuples_checked,

	.tuple_insert = cow_tuple_insert,
	.tuple_insert_speculative = cow_tuple_insert_speculative,
	.tuple_complete_speculative = cow_tuple_complete_speculative,
	.multi_insert = cow_multi_insert,
	.tuple_delete = cow_tuple_delete,
	.tuple_update = cow_tuple_update,
	.tuple_lock = cow_tuple_lock_checked,
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
	.relation_toast_am = cow_relation_toast_am,
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
	CowRowImagesInit();
	CowWriterInit();
	CowHooksInit();
	CowAggInit();
	CowTopNInit();
	CowRmgrInit();
	CowReadCacheInit();
	CowSharedCacheInit();
}
