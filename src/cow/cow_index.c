/*-------------------------------------------------------------------------
 *
 * cow_index.c
 *	  Building indexes on incetl_cow tables.
 *
 * Every index build (CREATE INDEX, a PRIMARY KEY or UNIQUE constraint,
 * REINDEX, the rebuild after VACUUM FULL) comes through
 * cow_index_build_range_scan, so this is where unsupported indexes are
 * refused: access methods not known to work (CowCheckIndexAm).  BRIN's
 * summarization of a range of TID blocks comes here too.
 *
 * The rows of current versions are indexed, and those of superseded
 * versions that some snapshot may still see as current: an index fetch
 * checks the version against the reader's snapshot, so an old snapshot
 * still finds its rows and a new one never sees stale ones.  Versions no
 * snapshot sees as current any more are left out, retained or not
 * (as_of(), changes() and restore() read them without an index); VACUUM
 * removes their entries likewise (cow_clean.c).  Only the rows of current
 * versions are fed as alive: a unique index's build checks those (btree
 * puts the others aside unchecked), so it fails on duplicates exactly when
 * the table as it stands holds some.  An exclusion constraint is checked
 * after the build by PostgreSQL (IndexCheckExclusion: a scan of the
 * current rows).
 *
 * A build scan may also be given a scan of the table (amcheck's
 * heapallindexed check, bt_index_check): with an MVCC snapshot it feeds the
 * rows of the versions current for that snapshot, which the index must
 * hold; with SnapshotAny (bt_index_parent_check) the rows a build indexes.
 *
 * CREATE INDEX CONCURRENTLY and REINDEX CONCURRENTLY index, in their first
 * pass, the rows of a transaction snapshot only (as heap does) and add, in
 * their validation pass (cow_index_validate_scan), the rows committed
 * during the build.
 *
 * Copyright (c) 2026, incetl authors
 *
 * IDENTIFICATION
 *	  src/cow/cow_index.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "catalog/index.h"
#include "miscadmin.h"
#include "catalog/pg_am.h"
#include "storage/lmgr.h"
#include "commands/defrem.h"
#include "executor/executor.h"
#include "utils/fmgroids.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/tuplesort.h"

#include "cow/maintenance.h"

static void CowCheckIndexAm(Relation table_rel, Relation index_rel);

/*
 * CowCheckIndexAm refuses index access methods that do not work on
 * incetl_cow tables (CowIndexAmAllowed).  btree, hash, GiST, SP-GiST, GIN
 * and BRIN work: the build (below), the inserts of the merge (ExecInsertIndexTuples, GIN's
 * pending list included; brininsert widens the summary of a summarized
 * range) and VACUUM's bulk delete and cleanup (cow_clean.c; BRIN's
 * summarizes the complete ranges not summarized yet) go through the
 * generic index AM interface, and bitmap scans (cow_scan.c) read what the
 * index returns, BRIN's lossy TID blocks included.  BRIN's ranges are
 * ranges of TID blocks, COW_ROWS_PER_BLOCK row numbers each; the table's
 * size covers them (cow_tableam.c cow_relation_size).  Other access
 * methods (from extensions) are refused, as untested, unless their handler
 * is one of the first five's (CREATE ACCESS METHOD gist2 TYPE INDEX
 * HANDLER gisthandler makes GiST under another name); BRIN only as itself,
 * since the table's size looks for an index of BRIN_AM_OID.
 */
static void
CowCheckIndexAm(Relation table_rel, Relation index_rel)
{
	Oid			am = index_rel->rd_rel->relam;

	if (CowIndexAmAllowed(am))
		return;
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("index access method \"%s\" is not supported on incetl_cow table \"%s\"",
					get_am_name(am), RelationGetRelationName(table_rel)),
			 errhint("Use btree, hash, gist, spgist, gin or brin.")));
}

/*
 * CowWaitForWriters waits for the transactions that hold the writers' lock
 * of rel (CowLockWriters) to end, without taking it: a writer merges its
 * rows, giving them row numbers and index entries, before it commits.  A
 * BRIN range summarization (brinsummarize) inserts a placeholder summary
 * first, which every writer that comes later widens; a writer that
 * merged before, into a range not summarized then, must be seen by the
 * scan of the range, but its version is not visible to a snapshot until it
 * commits.  Heap reads such rows in its "any visible" mode; we wait, as
 * CREATE INDEX CONCURRENTLY waits for writers.  Our own transaction is not
 * waited for; VACUUM holds the writers' lock itself (cow_clean.c), so it
 * waits for nobody.
 */
static void
CowWaitForWriters(Relation rel)
{
	LOCKTAG		tag;

	CowRowLockTag(rel, &tag);
	/* RowShareLock conflicts with the writers' ExclusiveLock only */
	WaitForLockers(tag, RowShareLock, false);
}

/*
 * CowIndexAmAllowed tells whether index access method am works on
 * incetl_cow tables: btree, hash, GiST, SP-GiST, GIN, BRIN, or an access
 * method whose handler is one of the first five's.
 */
bool
CowIndexAmAllowed(Oid am)
{
	HeapTuple	tup;
	Oid			handler;

	if (am == BTREE_AM_OID || am == HASH_AM_OID || am == GIST_AM_OID ||
		am == SPGIST_AM_OID || am == GIN_AM_OID || am == BRIN_AM_OID)
		return true;
	tup = SearchSysCache1(AMOID, ObjectIdGetDatum(am));
	if (!HeapTupleIsValid(tup))
		return false;
	handler = ((Form_pg_am) GETSTRUCT(tup))->amhandler;
	ReleaseSysCache(tup);
	return handler == F_BTHANDLER || handler == F_HASHHANDLER ||
		handler == F_GISTHANDLER || handler == F_SPGHANDLER ||
		handler == F_GINHANDLER;
}

/*
 * What an index build and its validation pass share: an executor state
 * whose scan tuple is a virtual slot of the table's rows, the index's
 * predicate, and a context for one decoded file group at a time (gcxt,
 * given by the caller, deleted by CowIndexRowsEnd).
 */
typedef struct CowIndexRows
{
	EState	   *estate;
	ExprContext *econtext;
	ExprState  *predicate;
	TupleTableSlot *slot;
	MemoryContext gcxt;
} CowIndexRows;

static void
CowIndexRowsBegin(CowIndexRows *ir, Relation table_rel, IndexInfo *index_info,
				  MemoryContext gcxt)
{
	ir->estate = CreateExecutorState();
	ir->econtext = GetPerTupleExprContext(ir->estate);
	ir->slot = MakeSingleTupleTableSlot(RelationGetDescr(table_rel), &TTSOpsVirtual);
	ir->econtext->ecxt_scantuple = ir->slot;
	ir->predicate = ExecPrepareQual(index_info->ii_Predicate, ir->estate);
	ir->gcxt = gcxt;
}

/* decode version v whole, in ir's group context (reset after each group) */
static CowDecodedGroup *
CowIndexRowsGroup(CowIndexRows *ir, Relation table_rel, CowVersion *v)
{
	MemoryContext old = MemoryContextSwitchTo(ir->gcxt);
	CowDecodedGroup *g = CowDecodeGroup(table_rel, v, true, NULL, false);

	MemoryContextSwitchTo(old);
	return g;
}

/*
 * CowIndexRowsForm puts row r of g into ir's slot and forms its index
 * values; false when the index's predicate leaves the row out.
 */
static bool
CowIndexRowsForm(CowIndexRows *ir, Relation table_rel, IndexInfo *index_info,
				 CowDecodedGroup *g, uint64 r, Datum *values, bool *isnull)
{
	MemoryContextReset(ir->econtext->ecxt_per_tuple_memory);
	CowStoreRow(table_rel, g, r, ir->slot);
	if (ir->predicate != NULL && !ExecQual(ir->predicate, ir->econtext))
		return false;
	FormIndexDatum(index_info, ir->slot, ir->estate, values, isnull);
	return true;
}

static void
CowIndexRowsEnd(CowIndexRows *ir, IndexInfo *index_info)
{
	ExecDropSingleTupleTableSlot(ir->slot);
	FreeExecutorState(ir->estate);
	MemoryContextDelete(ir->gcxt);
	index_info->ii_ExpressionsState = NIL;
	index_info->ii_PredicateState = NULL;
}

/* is v (by its reserved range, unique to it) in list[n]? */
static bool
CowVersionInList(const CowVersion *list, int n, const CowVersion *v)
{
	for (int i = 0; i < n; i++)
		if (list[i].first_row_number == v->first_row_number &&
			list[i].commit_id == v->commit_id)
			return true;
	return false;
}

double
cow_index_build_range_scan(Relation table_rel, Relation index_rel,
						   IndexInfo *index_info, bool allow_sync,
						   bool anyvisible, bool progress,
						   BlockNumber start_blockno, BlockNumber numblocks,
						   IndexBuildCallback callback, void *callback_state,
						   TableScanDesc scan)
{
	Snapshot	snap;
	int			n,
				i;
	CowVersion *versions;
	CowVersion *live = NULL;
	int			nlive = 0;
	CowIndexRows ir;
	double		count = 0;
	Datum		values[INDEX_MAX_KEYS];
	bool		isnull[INDEX_MAX_KEYS];
	int64		first_row = 0;
	int64		end_row = PG_INT64_MAX;
	bool		concurrent = false;
	CowRowIndex *rows;

	CowCheckIndexAm(table_rel, index_rel);
	if (scan != NULL && scan->rs_parallel != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("parallel index builds are not supported on incetl_cow table \"%s\"",
						RelationGetRelationName(table_rel))));

	/*
	 * A range of TID blocks: BRIN summarizing a range (see
	 * CowWaitForWriters).  Row numbers from first_row to end_row, of the
	 * versions a whole build indexes.
	 */
	if (start_blockno != 0 || numblocks != InvalidBlockNumber)
	{
		if (index_rel->rd_rel->relam != BRIN_AM_OID)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("partial index builds are not supported on incetl_cow table \"%s\"",
							RelationGetRelationName(table_rel))));
		first_row = (int64) start_blockno * COW_ROWS_PER_BLOCK;
		if (numblocks != InvalidBlockNumber)
			end_row = first_row + (int64) numblocks * COW_ROWS_PER_BLOCK;
		CowWaitForWriters(table_rel);
	}

	if (scan != NULL && IsMVCCSnapshot(scan->rs_snapshot))
	{
		/* the rows this snapshot reads, which the index must hold */
		snap = RegisterSnapshot(scan->rs_snapshot);
		versions = CowLoadVersions(CowStorageId(table_rel), snap, true, &n);
	}
	else if (scan == NULL && index_info->ii_Concurrent)
	{
		/*
		 * The first pass of CREATE INDEX CONCURRENTLY / REINDEX CONCURRENTLY:
		 * as heap's, the rows of a fresh transaction snapshot, all alive.
		 * The validation pass adds what was committed since, and the index
		 * is used only once every older snapshot is gone, so the superseded
		 * versions older snapshots still see need no entries -- and a row
		 * deleted before the build (one its expression cannot be computed
		 * for) is not evaluated, as on heap.
		 */
		snap = RegisterSnapshot(GetTransactionSnapshot());
		versions = CowLoadVersions(CowStorageId(table_rel), snap, true, &n);
		concurrent = true;
	}
	else
	{
		snap = RegisterSnapshot(GetLatestSnapshot());
		versions = CowLoadVersions(CowStorageId(table_rel), snap, false, &n);
		live = CowLoadLiveVersions(table_rel, &nlive);
	}

	/*
	 * The versions indexed: current ones, and superseded ones some snapshot
	 * still sees as current.  A row carried with its row number into newer
	 * versions is in several of them, with the same values: it is indexed
	 * once, from the newest (alive when that one is current).
	 */
	{
		int			k = 0;

		for (i = 0; i < n; i++)
		{
			if (!concurrent && versions[i].superseded_by != 0 && live != NULL &&
				!CowVersionInList(live, nlive, &versions[i]))
				continue;		/* no snapshot sees it as current any more */
			versions[k++] = versions[i];
		}
		n = k;
	}
	rows = CowRowIndexBuild(table_rel, versions, n);

	CowIndexRowsBegin(&ir, table_rel, index_info,
					  AllocSetContextCreate(CurrentMemoryContext,
											"incetl cow index build",
											ALLOCSET_DEFAULT_SIZES));
	for (i = 0; i < n; i++)
	{
		CowDecodedGroup *g;
		uint64		r;
		bool		alive = (concurrent || versions[i].superseded_by == 0);

		if (!CowVersionOverlaps(table_rel, &versions[i], first_row, end_row))
			continue;
		g = CowIndexRowsGroup(&ir, table_rel, &versions[i]);
		for (r = 0; r < g->nrows; r++)
		{
			int64		rn = CowGroupRowNumber(g, r);

			CHECK_FOR_INTERRUPTS();
			if (rn < first_row || rn >= end_row)
				continue;
			if (!CowRowIndexSimple(rows) &&
				CowRowIndexFind(rows, rn, NULL) != i)
				continue;		/* indexed from a newer version */
			if (!CowIndexRowsForm(&ir, table_rel, index_info, g, r, values, isnull))
				continue;
			callback(index_rel, &ir.slot->tts_tid, values, isnull, alive,
					 callback_state);
			count++;
		}
		MemoryContextReset(ir.gcxt);
	}
	CowIndexRowsEnd(&ir, index_info);
	CowRowIndexFree(rows);
	UnregisterSnapshot(snap);
	if (live != NULL)
		pfree(live);
	pfree(versions);
	/* as heapam's build scan, end the scan we were given */
	if (scan != NULL)
		table_endscan(scan);
	return count;
}

/*
 * cow_index_validate_scan is the second pass of CREATE INDEX CONCURRENTLY
 * and REINDEX CONCURRENTLY (validate_index): the index holds the rows of
 * the versions its build saw; this inserts the rows of the versions
 * current for snapshot that it does not hold yet -- versions committed
 * since the build by writers that did not know the index.  Writers that
 * start once it is ready (indisready) index their own versions when they
 * merge (ExecInsertIndexTuples).  state->tuplesort returns the index's
 * TIDs in order; our rows come in row-number order (the versions by first
 * row number, the rows of each in order), which is TID order, so the two
 * are merge-joined as heapam_index_validate_scan does for heap pages.
 */
typedef struct CowValidateRow
{
	int64		rownum;
	int64		pos;
	int			vi;
} CowValidateRow;

static int
CowValidateByRowNumber(const void *a, const void *b)
{
	const CowValidateRow *x = a;
	const CowValidateRow *y = b;

	return x->rownum < y->rownum ? -1 : (x->rownum > y->rownum ? 1 : 0);
}

static int
CowValidateByPosition(const void *a, const void *b)
{
	const CowValidateRow *x = a;
	const CowValidateRow *y = b;

	if (x->vi != y->vi)
		return x->vi < y->vi ? -1 : 1;
	return x->pos < y->pos ? -1 : (x->pos > y->pos ? 1 : 0);
}

void
cow_index_validate_scan(Relation table_rel, Relation index_rel,
						IndexInfo *index_info, Snapshot snapshot,
						ValidateIndexState *state)
{
	int			n,
				i;
	CowVersion *versions;
	CowIndexRows ir;
	Datum		values[INDEX_MAX_KEYS];
	bool		isnull[INDEX_MAX_KEYS];
	ItemPointerData indexcursor;
	bool		have_cursor = false;
	bool		tuplesort_empty = false;
	CowValidateRow *rows;
	int64		nrows = 0,
				nmissing = 0,
				j;
	CowDecodedGroup *g = NULL;

	CowCheckIndexAm(table_rel, index_rel);
	versions = CowLoadVersions(CowStorageId(table_rel), snapshot, true, &n);

	/* every row of the versions, by row number */
	for (i = 0; i < n; i++)
		nrows += versions[i].row_count;
	rows = MemoryContextAllocHuge(CurrentMemoryContext,
								  sizeof(CowValidateRow) * Max(nrows, 1));
	nrows = 0;
	for (i = 0; i < n; i++)
	{
		const CowRowMap *m = CowGetRowMap(table_rel, &versions[i], true);
		uint32		hint = 0;

		for (int64 r = 0; r < versions[i].row_count; r++)
		{
			rows[nrows].rownum = CowRowMapNumber(m, r, &hint);
			rows[nrows].vi = i;
			rows[nrows].pos = r;
			nrows++;
		}
	}
	qsort(rows, nrows, sizeof(CowValidateRow), CowValidateByRowNumber);

	/* merge-join with the index's TIDs: keep those it lacks */
	for (j = 0; j < nrows; j++)
	{
		ItemPointerData tid;

		CHECK_FOR_INTERRUPTS();
		state->htups += 1;
		CowRowNumberToTid(rows[j].rownum, &tid);

			/* skip the index's TIDs below this row's */
			while (!tuplesort_empty &&
				   (!have_cursor || ItemPointerCompare(&indexcursor, &tid) < 0))
			{
				Datum		ts_val;
				bool		ts_isnull;

				tuplesort_empty = !tuplesort_getdatum(state->tuplesort, true,
													  &ts_val, &ts_isnull, NULL);
				if (!tuplesort_empty)
				{
					itemptr_decode(&indexcursor, DatumGetInt64(ts_val));
					have_cursor = true;
#ifndef USE_FLOAT8_BYVAL
					pfree(DatumGetPointer(ts_val));
#endif
				}
			}
			if (!tuplesort_empty && ItemPointerEquals(&indexcursor, &tid))
				continue;		/* indexed by the build */
			rows[nmissing++] = rows[j];
	}

	/* insert those, version by version */
	qsort(rows, nmissing, sizeof(CowValidateRow), CowValidateByPosition);
	CowIndexRowsBegin(&ir, table_rel, index_info,
					  AllocSetContextCreate(CurrentMemoryContext,
											"incetl cow index validate",
											ALLOCSET_DEFAULT_SIZES));
	for (j = 0; j < nmissing; j++)
	{
		ItemPointerData tid;

		CHECK_FOR_INTERRUPTS();
		if (g == NULL || j == 0 || rows[j].vi != rows[j - 1].vi)
		{
			MemoryContextReset(ir.gcxt);
			g = CowIndexRowsGroup(&ir, table_rel, &versions[rows[j].vi]);
		}
		CowRowNumberToTid(rows[j].rownum, &tid);
		if (!CowIndexRowsForm(&ir, table_rel, index_info, g, rows[j].pos,
							  values, isnull))
			continue;
		index_insert(index_rel, values, isnull, &tid, table_rel,
					 index_info->ii_Unique ? UNIQUE_CHECK_YES : UNIQUE_CHECK_NO,
					 false, index_info);
		state->tups_inserted += 1;
	}
	CowIndexRowsEnd(&ir, index_info);
	pfree(rows);
	if (versions != NULL)
		pfree(versions);
}
