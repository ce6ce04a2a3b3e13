/*-------------------------------------------------------------------------
 *
 * cow_scan.c
 *	  Sequential scans, index fetches, row fetches and ANALYZE sampling of
 *	  incetl_cow tables.
 *
 * A scan reads, under its snapshot, the file group versions that were
 * current for that snapshot, and walks them one at a time: the header is
 * read first and the group is skipped when min/max rule out a simple key
 * qual; otherwise only the columns the plan needs are decompressed.  The
 * executor hook (cow_hooks.c) passes needed columns and quals through
 * CowScanSetHints; a scan without hints decodes every column.
 *
 * Scans run forward and backward (cursors, LIMIT under a scroll cursor).
 *
 * Parallel sequential scans: every participant (the leader and the
 * workers share the snapshot, the transaction and the command id) loads
 * the same list of current versions in the same order, and claims them
 * one at a time from a counter in the shared scan state
 * (CowParallelScanDescData), so each file group is read by exactly one
 * participant; the min/max skipping and the columns needed apply to the
 * groups a participant claims as to a serial scan.
 *
 * Bitmap scans use the same scan: a TID block of the bitmap is a range of
 * COW_ROWS_PER_BLOCK row numbers, whose rows in versions current for the
 * snapshot are returned; their file groups are read by block, as an index
 * fetch reads them.
 *
 * Memory: the scan context lives as long as the scan; the group context is
 * reset when the scan moves to another file group.
 *
 * Copyright (c) 2026, incetl authors
 *
 * IDENTIFICATION
 *	  src/cow/cow_scan.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/htup_details.h"
#include "catalog/pg_am.h"
#include "catalog/pg_operator.h"
#include "catalog/pg_type_d.h"
#include "commands/defrem.h"
#include "fmgr.h"
#include "funcapi.h"
#include "access/relscan.h"
#include "access/stratnum.h"
#include "access/xact.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "port/atomics.h"
#include "storage/proc.h"
#include "nodes/bitmapset.h"
#include "nodes/tidbitmap.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
#include "utils/memutils.h"
#include "utils/pg_locale.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/typcache.h"

#include "cow/read.h"
#include "cow/shared_cache.h"

static void CowScanLoadVersions(CowScanDesc scan);
static void CowIndexFetchForget(CowIndexFetch *f);
static void CowIndexFetchForgetCallback(void *arg);

/*
 * A qual the scan evaluates on decoded blocks (a CowFilterQual, see
 * CowExtractFilterQuals in cow_hooks.c).  A btree comparison of an
 * integer-like column with an integer-like constant of the same ordering
 * (the integer types among themselves; date, time and the timestamps each
 * with itself) compares integers, without a call per row.
 */
typedef struct CowScanFilter
{
	CowFilterQual fq;			/* a copy: the caller's list is not ours */
	FmgrInfo	fn;
	int			strategy;		/* by_int: BTLessStrategyNumber... */
	bool		by_int;
	int64		ival;			/* by_int: the constant as an integer */
	bool		key_bound;		/* one of the scan's skip quals on the key
								 * column: where the key range holds it
								 * (scan->range_exact), not evaluated */
} CowScanFilter;

static bool CowScanKeyBoundsMayHold(CowScanDesc scan, int vi);
static void CowScanMakeFilters(CowScanDesc scan, List *filters);
static bool CowFilterCall(CowScanFilter *f, Datum v);
static void CowScanFilterBlock(CowScanDesc scan, uint32 b);
static bool CowScanNextSlot(CowScanDesc scan, ScanDirection direction,
							TupleTableSlot *slot);

/* counters of the last finished sequential scan, for tests and tuning */
static int64 CowLastScanRead = 0;
static int64 CowLastScanSkipped = 0;
static int64 CowLastScanChunks = 0;

PG_FUNCTION_INFO_V1(incetl_cow_last_scan);
PG_FUNCTION_INFO_V1(incetl_cow_decode_counts);
static Snapshot CowCatalogSnapshotFor(Snapshot snapshot, bool *registered);

/*
 * CowCatalogSnapshotFor picks the snapshot to read our catalogs with: the
 * caller's when it is an MVCC snapshot or SnapshotAny, else the latest.
 */
static Snapshot
CowCatalogSnapshotFor(Snapshot snapshot, bool *registered)
{
	if (snapshot != NULL &&
		(IsMVCCSnapshot(snapshot) || snapshot->snapshot_type == SNAPSHOT_ANY))
	{
		*registered = false;
		return snapshot;
	}
	*registered = true;
	return RegisterSnapshot(GetLatestSnapshot());
}

TableScanDesc
cow_scan_begin(Relation rel, Snapshot snapshot, int nkeys, ScanKey key,
			   ParallelTableScanDesc pscan, uint32 flags)
{
	CowScanDesc scan;
	MemoryContext cxt;

	cxt = AllocSetContextCreate(CurrentMemoryContext, "incetl cow scan",
								ALLOCSET_DEFAULT_SIZES);
	scan = MemoryContextAllocZero(cxt, sizeof(CowScanDescData));
	scan->base.rs_rd = rel;
	scan->base.rs_snapshot = snapshot;
	scan->base.rs_nkeys = nkeys;
	scan->base.rs_flags = flags;
	scan->base.rs_parallel = pscan;
	scan->scan_cxt = cxt;
	scan->group_cxt = CowGroupContextCreate(cxt, "incetl cow scan group",
											 COW_GROUP_CONTEXT_BLOCK);
	scan->catalog_snap = CowCatalogSnapshotFor(snapshot, &scan->snap_registered);
	scan->analyze_version = -1;
	scan->sample_version = -1;
	scan->all_columns = true;
	scan->key_attidx = -1;
	if (flags & SO_TYPE_SEQSCAN)
		pgstat_count_heap_scan(rel);
	scan->chunks_at_start = CowChunksDecoded + CowChunksByBlock;
	return (TableScanDesc) scan;
}

void
CowScanSetHints(TableScanDesc sscan, bool all, Bitmapset *needed, List *quals,
				List *filters)
{
	CowScanDesc scan = (CowScanDesc) sscan;
	MemoryContext old = MemoryContextSwitchTo(scan->scan_cxt);

	scan->needed = bms_copy(needed);
	scan->quals = quals;		/* allocated by the caller in a query context */
	scan->all_columns = all;
	CowScanMakeFilters(scan, filters);
	MemoryContextSwitchTo(old);
}

/* is typid, or the type of a domain over it, one of int2, int4, int8? */
static bool
CowTypeIsInteger(Oid typid)
{
	if (typid == INT2OID || typid == INT4OID || typid == INT8OID)
		return true;
	typid = getBaseType(typid);
	return typid == INT2OID || typid == INT4OID || typid == INT8OID;
}

/*
 * CowScanFilterSkipQual: the scan's skip qual (CowExtractSkipQuals) that
 * filter qual fq is, or NULL when it is none.  Both are made from the
 * plan's quals (CowHintScan), so a filter that is a btree comparison of
 * its column's default opfamily has its skip qual: the same column,
 * operator (the column on the left), collation and constant (the same
 * Datum, taken from the same Const).
 */
static CowSkipQual *
CowScanFilterSkipQual(CowScanDesc scan, const CowFilterQual *fq)
{
	Oid			opno = fq->column_first ? fq->opno : get_commutator(fq->opno);
	ListCell   *lc;

	if (!OidIsValid(opno))
		return NULL;
	foreach(lc, scan->quals)
	{
		CowSkipQual *q = lfirst(lc);

		if (q->attidx == fq->attidx && q->nelems == 0 && q->opno == opno &&
			q->collation == fq->collation && q->value == fq->value)
			return q;
	}
	return NULL;
}

/*
 * CowScanMakeFilters prepares the quals the scan evaluates on decoded
 * blocks, in the order of the plan's quals.  Those that are skip quals
 * (CowScanFilterSkipQual) on a column of a type passed by value may be
 * held by the key range (key_bound), and an integer-like one compares
 * integers (by_int).
 */
static void
CowScanMakeFilters(CowScanDesc scan, List *filters)
{
	Relation	rel = scan->base.rs_rd;
	TupleDesc	desc = RelationGetDescr(rel);
	ListCell   *lc;

	scan->filters = palloc0(sizeof(CowScanFilter) * Max(list_length(filters), 1));
	scan->nfilters = 0;
	foreach(lc, filters)
	{
		CowFilterQual *fq = lfirst(lc);
		CowScanFilter *f = &scan->filters[scan->nfilters++];
		Form_pg_attribute att = TupleDescAttr(desc, fq->attidx);
		CowSkipQual *q;

		f->fq = *fq;
		fmgr_info(get_opcode(fq->opno), &f->fn);
		if (!att->attbyval || (q = CowScanFilterSkipQual(scan, fq)) == NULL)
			continue;
		f->key_bound = true;
		if (CowTypeIsInteger(att->atttypid) && CowTypeIsInteger(q->lefttype) &&
			CowTypeIsInteger(q->righttype))
		{
			/* the operator's constant: int2, int4 or int8 */
			f->by_int = true;
			f->ival = CowDatumGetInt(fq->value,
									 q->righttype == INT2OID ? 2 :
									 q->righttype == INT4OID ? 4 :
									 q->righttype == INT8OID ? 8 :
									 get_typlen(q->righttype));
		}
		else if (CowTypeIsIntOrdered(att->atttypid) &&
				 (q->lefttype == att->atttypid ||
				  getBaseType(q->lefttype) == getBaseType(att->atttypid)) &&
				 (q->righttype == att->atttypid ||
				  getBaseType(q->righttype) == getBaseType(att->atttypid)))
		{
			f->by_int = true;
			f->ival = CowDatumGetInt(fq->value, att->attlen);
		}
		f->strategy = q->strategy;
	}
}

/*
 * CowFilterCall: does filter f's operator hold for value v (not NULL)?  A
 * NULL result does not, as in ExecQual.
 */
static bool
CowFilterCall(CowScanFilter *f, Datum v)
{
	LOCAL_FCINFO(fcinfo, 2);
	Datum		result;

	InitFunctionCallInfoData(*fcinfo, &f->fn, 2, f->fq.collation, NULL, NULL);
	fcinfo->args[0].value = f->fq.column_first ? v : f->fq.value;
	fcinfo->args[0].isnull = false;
	fcinfo->args[1].value = f->fq.column_first ? f->fq.value : v;
	fcinfo->args[1].isnull = false;
	result = FunctionCallInvoke(fcinfo);
	return !fcinfo->isnull && DatumGetBool(result);
}

/*
 * CowScanFilterHeld: does every row the scan returns of its current group
 * hold for filter f?  So for a bound on the key column the key range found
 * (scan->range_exact).
 */
static inline bool
CowScanFilterHeld(CowScanDesc scan, CowScanFilter *f)
{
	return scan->range_exact && f->key_bound &&
		f->fq.attidx == scan->key_attidx;
}

/*
 * CowScanBoundQuals: the positions (0-based) in its plan's quals of the
 * scan's filters that its key range holds wherever it finds its bounds
 * (CowScanFilterHeld): the plan's comparisons of the first record-key
 * column with a constant that are skip quals.  Before the scan's first
 * row, when its key column is not known yet, those on any column.  NULL
 * when there are none.
 */
Bitmapset *
CowScanBoundQuals(TableScanDesc sscan)
{
	CowScanDesc scan = (CowScanDesc) sscan;
	Bitmapset  *result = NULL;

	for (int k = 0; k < scan->nfilters; k++)
	{
		CowScanFilter *f = &scan->filters[k];

		if (f->key_bound && (!scan->loaded || f->fq.attidx == scan->key_attidx))
			result = bms_add_member(result, k);
	}
	return result;
}

/*
 * CowScanRowHoldsBounds: does the row the scan returned last hold for
 * every qual of CowScanBoundQuals?  So when it lies in a file group whose
 * key range found their bounds (scan->range_exact): the group is sorted by
 * the key column, whose values are never NULL, and its rows from the first
 * that holds for a lower bound up to the first that fails an upper one are
 * the rows that hold for it.
 */
bool
CowScanRowHoldsBounds(TableScanDesc sscan)
{
	CowScanDesc scan = (CowScanDesc) sscan;

	return scan->range_exact && scan->group != NULL;
}

/*
 * CowScanFilterBlock evaluates the scan's filter quals on block b of its
 * current group, in order, each on the rows the ones before it let
 * through: scan->pass[row] of the block's rows is left set for the rows
 * they all hold for and cleared for the others (a NULL fails: the
 * operators are strict).  Only the block of each qual column is decoded;
 * the executor still evaluates every qual on the rows returned, but for
 * the bounds a key range holds (CowScanRowHoldsBounds).
 */
static void
CowScanFilterBlock(CowScanDesc scan, uint32 b)
{
	CowDecodedGroup *g = scan->group;
	TupleDesc	desc = RelationGetDescr(scan->base.rs_rd);
	uint64		r0 = (uint64) b * g->header->block_rows;
	uint64		r1 = Min(r0 + g->header->block_rows, g->nrows);
	bool	   *pass = scan->pass;
	uint64		npass;
	int			k;

	/* only the rows of the block the scan returns (a key range) */
	r0 = Max(r0, scan->lo_row);
	r1 = Min(r1, scan->hi_row);
	npass = r1 - r0;			/* rows still let through */
	memset(pass + r0, true, r1 - r0);
	for (k = 0; k < scan->nfilters && npass > 0; k++)
	{
		CowScanFilter *f = &scan->filters[k];
		int			attidx = f->fq.attidx;
		Form_pg_attribute att = TupleDescAttr(desc, attidx);
		const Datum *values;
		const bool *isnull;
		uint64		r;

		if (CowScanFilterHeld(scan, f))
			continue;

		/*
		 * A column added after the version was written, or written before
		 * a type change: the executor filters it, and the scan stops here,
		 * the quals after it being evaluated by the executor only on the
		 * rows this one lets through.
		 */
		if ((uint32) attidx >= g->header->natts || att->attisdropped ||
			CowGroupColumns(g->header)[attidx].typid != att->atttypid ||
			!CowGroupRow(g, attidx, r0))
			break;
		values = g->values[attidx];
		isnull = g->isnull[attidx];
		if (f->by_int)
		{
			int			len = att->attlen;
			int64		c = f->ival;

			for (r = r0; r < r1; r++)
			{
				if (!pass[r])
					continue;
				if (isnull[r])
				{
					pass[r] = false;
					continue;
				}
				pass[r] = CowIntCompare(f->strategy,
										CowDatumGetInt(values[r], len), c);
			}
		}
		else
		{
			Datum		last = (Datum) 0;
			bool		last_ok = false;
			bool		have_last = false;

			for (r = r0; r < r1; r++)
			{
				Datum		v;
				bool		ok;

				if (!pass[r])
					continue;
				if (isnull[r])
				{
					pass[r] = false;
					continue;
				}
				v = values[r];
				/* dictionary-encoded values of one entry share a pointer */
				if (have_last && v == last && !att->attbyval)
				{
					pass[r] = last_ok;
					continue;
				}
				ok = CowFilterCall(f, v);
				pass[r] = ok;
				last = v;
				last_ok = ok;
				have_last = true;
			}
		}
		/* a block none of whose rows are left decodes no further column */
		npass = 0;
		for (r = r0; r < r1; r++)
			npass += pass[r];
	}
	scan->pass_done[b] = true;
}

static void
CowScanLoadVersions(CowScanDesc scan)
{
	MemoryContext old = MemoryContextSwitchTo(scan->scan_cxt);

	/* a stream of statements under the same view loads them once */
	scan->versions = CowFetchVersions(scan->base.rs_rd, &scan->storage_id,
									  scan->catalog_snap, true,
									  &scan->nversions);
	scan->loaded = true;
	scan->cur = -1;
	scan->key_attidx = -1;
	scan->key_bounds = NULL;
	if (scan->quals != NIL)
	{
		int			key = CowScanSortedColumn(&scan->base);
		ListCell   *lc;

		foreach(lc, scan->quals)
		{
			CowSkipQual *q = lfirst(lc);

			if (key >= 0 && q->attidx == key)
				scan->key_attidx = q->attidx;
		}
		/* a stream of key ranges reads the versions' key bounds once */
		if (scan->key_attidx >= 0)
			scan->key_bounds = CowKeyBoundsFor(scan->base.rs_rd,
											   scan->catalog_snap,
											   scan->key_attidx,
											   scan->nversions);
	}
	MemoryContextSwitchTo(old);
}

/*
 * CowScanSortedColumn: the 0-based first record-key column of the scan's
 * relation as of its versions (their file groups are in this key's
 * order: CowGroupSortedBy), or -1 when it has none or the scan's catalog
 * snapshot is not an MVCC one.
 */
int
CowScanSortedColumn(TableScanDesc sscan)
{
	CowScanDesc scan = (CowScanDesc) sscan;
	AttrNumber	key;

	if (!IsMVCCSnapshot(scan->catalog_snap))
		return -1;
	key = CowFirstKeyAttnum(sscan->rs_rd, scan->catalog_snap);
	return key == InvalidAttrNumber ? -1 : key - 1;
}

void
cow_scan_end(TableScanDesc sscan)
{
	CowScanDesc scan = (CowScanDesc) sscan;

	if (scan->base.rs_flags & SO_TYPE_SEQSCAN)
	{
		CowLastScanRead = scan->groups_read;
		CowLastScanSkipped = scan->groups_skipped;
		CowLastScanChunks = CowChunksDecoded + CowChunksByBlock -
			scan->chunks_at_start;
	}
	if (scan->snap_registered)
		UnregisterSnapshot(scan->catalog_snap);
	/* a parallel scan's snapshot, restored by table_beginscan_parallel */
	if (scan->base.rs_flags & SO_TEMP_SNAPSHOT)
		UnregisterSnapshot(scan->base.rs_snapshot);
	MemoryContextDelete(scan->scan_cxt);
}

/*
 * The shared state of a parallel sequential scan: the index, in the
 * versions list every participant loads under the shared snapshot, of the
 * next file group version to claim.  table_parallelscan_initialize puts
 * the serialized snapshot after it.
 */
typedef struct CowParallelScanDescData
{
	ParallelTableScanDescData base;
	pg_atomic_uint64 next_version;
} CowParallelScanDescData;

Size
CowParallelScanEstimate(Relation rel)
{
	return sizeof(CowParallelScanDescData);
}

Size
CowParallelScanInitialize(Relation rel, ParallelTableScanDesc pscan)
{
	CowParallelScanDescData *p = (CowParallelScanDescData *) pscan;

	p->base.phs_relid = RelationGetRelid(rel);
	p->base.phs_syncscan = false;
	pg_atomic_init_u64(&p->next_version, 0);
	return sizeof(CowParallelScanDescData);
}

void
CowParallelScanReinitialize(Relation rel, ParallelTableScanDesc pscan)
{
	CowParallelScanDescData *p = (CowParallelScanDescData *) pscan;

	pg_atomic_write_u64(&p->next_version, 0);
}

/*
 * Parallel custom scans of one incetl_cow table (IncetlCowAgg under Gather,
 * IncetlCowTopN under Gather Merge) share the table's parallel scan state
 * in their DSM: every participant claims file groups from it.  These are
 * their DSM callbacks, but for the one that stores the shared state in the
 * node's own struct (InitializeDSM and InitializeWorker: the caller keeps
 * what CowCustomScanInitializeDSM returns, or the coordinate).
 */
Size
CowCustomScanEstimateDSM(CustomScanState *node, ParallelContext *pcxt)
{
	return table_parallelscan_estimate(node->ss.ss_currentRelation,
									   node->ss.ps.state->es_snapshot);
}

ParallelTableScanDesc
CowCustomScanInitializeDSM(CustomScanState *node, void *coordinate)
{
	ParallelTableScanDesc pscan = (ParallelTableScanDesc) coordinate;

	table_parallelscan_initialize(node->ss.ss_currentRelation, pscan,
								  node->ss.ps.state->es_snapshot);
	return pscan;
}

void
CowCustomScanReInitializeDSM(CustomScanState *node, ParallelContext *pcxt,
							 void *coordinate)
{
	table_parallelscan_reinitialize(node->ss.ss_currentRelation,
									(ParallelTableScanDesc) coordinate);
}

/*
 * CowScanClaimVersion: the next version a scan reads after versions[cur]
 * in direction: the neighbour, or for a parallel scan (forward only) the
 * next one no participant has claimed; nversions (or -1) past the end.
 */
static int
CowScanClaimVersion(CowScanDesc scan, ScanDirection direction)
{
	CowParallelScanDescData *p;
	uint64		claimed;

	if (scan->base.rs_parallel == NULL)
		return scan->cur + (ScanDirectionIsForward(direction) ? 1 : -1);
	if (!ScanDirectionIsForward(direction))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("a parallel scan of incetl_cow table \"%s\" cannot run backward",
						RelationGetRelationName(scan->base.rs_rd))));
	p = (CowParallelScanDescData *) scan->base.rs_parallel;
	claimed = pg_atomic_fetch_add_u64(&p->next_version, 1);
	return claimed >= (uint64) scan->nversions ? scan->nversions : (int) claimed;
}

void
cow_scan_rescan(TableScanDesc sscan, ScanKey key, bool set_params,
				bool allow_strat, bool allow_sync, bool allow_pagemode)
{
	CowScanDesc scan = (CowScanDesc) sscan;

	scan->cur = -1;
	scan->group = NULL;
	scan->row = 0;
	scan->lo_row = scan->hi_row = 0;
	scan->inited = false;
	scan->analyze_version = -1;
	scan->sample_version = -1;
	scan->sample_started = false;
	scan->bm_nrows = 0;
	scan->bm_next = 0;
	scan->pass = NULL;
	scan->pass_done = NULL;
	scan->block_may = NULL;
	scan->points = NULL;
	scan->npoints = 0;
	scan->run_end = 0;
	MemoryContextReset(scan->group_cxt);
}

/*
 * CowSkipQualApplies: may the min/max h holds for q's column be compared
 * with q?  Not when the column was written before it was added or before
 * a type change, nor when its min/max are ordered under another collation
 * than q's (ALTER COLUMN ... COLLATE rewrites nothing).
 */
static bool
CowSkipQualApplies(Relation rel, CowGroupHeader *h, CowSkipQual *q)
{
	CowColumnDesc *d;

	if ((uint32) q->attidx >= h->natts)
		return false;
	d = &CowGroupColumns(h)[q->attidx];
	if (d->typid != TupleDescAttr(RelationGetDescr(rel), q->attidx)->atttypid)
		return false;
	if (OidIsValid(q->collation) && d->collation != q->collation)
		return false;
	return true;
}

/*
 * CowSkipQualMayHold: may "column op constant" (q) hold for a value
 * between min and max?  For an IN list, may one of its elements lie
 * between them (a binary search of the sorted elements)?
 */
static bool
CowSkipQualMayHold(CowSkipQual *q, Datum min, Datum max)
{
	if (q->nelems > 0)
	{
		int			lo = 0,
					hi = q->nelems;

		/* the least element >= min, then is it <= max? */
		while (lo < hi)
		{
			int			mid = lo + (hi - lo) / 2;

			if (DatumGetBool(FunctionCall2Coll(&q->le_fn, q->collation, min,
											   q->elems[mid])))
				hi = mid;
			else
				lo = mid + 1;
		}
		return lo < q->nelems &&
			DatumGetBool(FunctionCall2Coll(&q->ge_fn, q->collation, max,
										   q->elems[lo]));
	}
	switch (q->strategy)
	{
		case BTLessStrategyNumber:
		case BTLessEqualStrategyNumber:
			return DatumGetBool(FunctionCall2Coll(&q->le_fn, q->collation, min, q->value));
		case BTGreaterStrategyNumber:
		case BTGreaterEqualStrategyNumber:
			return DatumGetBool(FunctionCall2Coll(&q->ge_fn, q->collation, max, q->value));
		case BTEqualStrategyNumber:
			return DatumGetBool(FunctionCall2Coll(&q->le_fn, q->collation, min, q->value)) &&
				DatumGetBool(FunctionCall2Coll(&q->ge_fn, q->collation, max, q->value));
	}
	return true;
}

/*
 * CowGroupMayMatch applies the min/max of a file group's header to a list
 * of CowSkipQuals on rel: false when no row of the group can satisfy them
 * all.  The sequential scan and the aggregate scan (cow_agg.c) use it.
 */
bool
CowGroupMayMatch(Relation rel, CowGroupHeader *h, List *quals)
{
	ListCell   *lc;

	foreach(lc, quals)
	{
		CowSkipQual *q = lfirst(lc);
		CowColumnDesc *d;
		Datum		min,
					max;

		if (!CowSkipQualApplies(rel, h, q))
			continue;
		d = &CowGroupColumns(h)[q->attidx];
		if (d->flags & COW_COL_ALL_NULL)
			return false;		/* a strict comparison never matches NULL */
		if (!(d->flags & COW_COL_HAS_MINMAX))
			continue;
		CowGroupMinMax(h, q->attidx, &min, &max);
		if (!CowSkipQualMayHold(q, min, max))
			return false;
	}
	return true;
}

/*
 * CowGroupSortedBy: are the rows of the file group of h in the order of
 * column attidx of rel, its first record-key column (the caller knows it),
 * under the column's type and collation of today?  A group written with a
 * record key is sorted by it; one written before the column's type or
 * collation changed is in the order of the old ones.
 */
bool
CowGroupSortedBy(Relation rel, CowGroupHeader *h, int attidx)
{
	Form_pg_attribute att;
	CowColumnDesc *d;

	if (attidx < 0 || h->nkeys == 0 || (uint32) attidx >= h->natts)
		return false;
	att = TupleDescAttr(RelationGetDescr(rel), attidx);
	d = &CowGroupColumns(h)[attidx];
	return d->typid == att->atttypid && d->collation == att->attcollation &&
		!(d->flags & (COW_COL_ALL_NULL | COW_COL_DROPPED));
}

/*
 * CowSortedBlocksMayHold: the blocks [*first, *end) of a group sorted by
 * q's column (CowGroupSortedBy) that q may hold for, found by binary
 * search of the column's per-block min/max (list): in such a group the
 * blocks' minimums, and their maximums, never decrease, so a lower bound
 * ("c > v", "c >= v", "c = v") may hold from the first block whose maximum
 * satisfies it on, and an upper bound ("c < v", "c <= v", "c = v") up to
 * the last block whose minimum does.  Reads a few blocks' min/max instead
 * of every block's.  Returns false, for the caller to test block by block,
 * when a block probed has none (NULL throughout).
 */
static bool
CowSortedBlocksMayHold(CowGroupHeader *h, const char *list, uint32 nblocks,
					   CowSkipQual *q, uint32 *first, uint32 *end)
{
	uint32		lo = 0,
				hi = nblocks;
	Datum		min,
				max;

	if (q->strategy != BTLessStrategyNumber &&
		q->strategy != BTLessEqualStrategyNumber)
	{
		/* the first block whose maximum satisfies the lower bound */
		while (lo < hi)
		{
			uint32		mid = lo + (hi - lo) / 2;

			if (!CowGroupBlockMinMax(h, list, mid, &min, &max))
				return false;
			if (DatumGetBool(FunctionCall2Coll(&q->ge_fn, q->collation,
											   max, q->value)))
				hi = mid;
			else
				lo = mid + 1;
		}
		hi = nblocks;
	}
	*first = lo;
	if (q->strategy != BTGreaterStrategyNumber &&
		q->strategy != BTGreaterEqualStrategyNumber)
	{
		/* the first block from there whose minimum exceeds the upper one */
		while (lo < hi)
		{
			uint32		mid = lo + (hi - lo) / 2;

			if (!CowGroupBlockMinMax(h, list, mid, &min, &max))
				return false;
			if (DatumGetBool(FunctionCall2Coll(&q->le_fn, q->collation,
											   min, q->value)))
				lo = mid + 1;
			else
				hi = mid;
		}
	}
	*end = hi;
	return true;
}

/*
 * CowGroupBlocksMayMatch applies the per-block min/max of a file group
 * (format 4) to a list of CowSkipQuals on rel: returns an array of the
 * group's blocks, false for a block no row of which can satisfy them
 * all, or NULL when no qual has per-block min/max to go by (a format 3
 * group, columns without an ordering or with long values).  *nmatch is
 * set to the number of blocks left.  Allocated in the current memory
 * context.  Only the header is read: a block ruled out decodes nothing.
 * sorted_attidx is rel's first record-key column, or -1: a bound on it
 * finds its blocks by binary search where the group is sorted by it
 * (CowSortedBlocksMayHold).
 */
bool *
CowGroupBlocksMayMatch(Relation rel, CowGroupHeader *h, List *quals,
					   int sorted_attidx, uint32 *nmatch)
{
	uint32		nblocks = CowGroupBlocks(h);
	bool	   *may = NULL;
	bool		sorted;
	ListCell   *lc;
	uint32		b;

	*nmatch = nblocks;
	if (h->block_minmax_off == 0 || nblocks == 0)
		return NULL;
	sorted = CowGroupSortedBy(rel, h, sorted_attidx);
	foreach(lc, quals)
	{
		CowSkipQual *q = lfirst(lc);
		const char *list;
		uint32		first,
					end;

		if (!CowSkipQualApplies(rel, h, q) ||
			(list = CowGroupBlockMinMaxList(h, q->attidx)) == NULL)
			continue;
		if (may == NULL)
		{
			may = palloc(sizeof(bool) * nblocks);
			memset(may, true, nblocks);
		}
		if (sorted && q->attidx == sorted_attidx && q->nelems == 0 &&
			CowSortedBlocksMayHold(h, list, nblocks, q, &first, &end))
		{
			for (b = 0; b < nblocks; b++)
			{
				if (may[b] && (b < first || b >= end))
				{
					may[b] = false;
					(*nmatch)--;
				}
			}
			continue;
		}
		for (b = 0; b < nblocks; b++)
		{
			Datum		min,
						max;

			if (!may[b])
				continue;
			/* a strict comparison never matches NULL */
			if (!CowGroupBlockMinMax(h, list, b, &min, &max) ||
				!CowSkipQualMayHold(q, min, max))
			{
				may[b] = false;
				(*nmatch)--;
			}
		}
	}
	return may;
}

/*
 * CowScanVersions returns the file group versions a sequential scan reads
 * (current for its snapshot, by first row number), loading them on first
 * use.  They live as long as the scan.
 */
CowVersion *
CowScanVersions(TableScanDesc sscan, int *nversions)
{
	CowScanDesc scan = (CowScanDesc) sscan;

	if (!scan->loaded)
		CowScanLoadVersions(scan);
	*nversions = scan->nversions;
	return scan->versions;
}

/*
 * CowScanRowIndex: lookups by row number among the scan's versions (bitmap
 * scans, TABLESAMPLE), built on first use; they live as long as the scan.
 */
CowRowIndex *
CowScanRowIndex(TableScanDesc sscan)
{
	CowScanDesc scan = (CowScanDesc) sscan;

	if (!scan->loaded)
		CowScanLoadVersions(scan);
	if (scan->rowix == NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(scan->scan_cxt);

		scan->rowix = CowRowIndexBuild(sscan->rs_rd, scan->versions,
									   scan->nversions);
		MemoryContextSwitchTo(old);
	}
	return scan->rowix;
}

/*
 * CowScanNextVersion: the index in the scan's versions (CowScanVersions) of
 * the next file group version a reader going through them itself (the
 * aggregate scan, cow_agg.c) is to read: the next one, or for a parallel
 * scan the next one no participant has claimed; -1 past the end.
 */
int
CowScanNextVersion(TableScanDesc sscan)
{
	CowScanDesc scan = (CowScanDesc) sscan;

	if (!scan->loaded)
		CowScanLoadVersions(scan);
	if (scan->cur >= scan->nversions)
		return -1;
	scan->cur = CowScanClaimVersion(scan, ForwardScanDirection);
	return scan->cur < scan->nversions ? scan->cur : -1;
}

/*
 * CowKeyHolds: does predicate "key <op> q->value" hold for key?  upper asks
 * q's upper bound (<, <=, =: "key <= c" or "key < c" fails from the bound
 * on), else its lower bound (>, >=, =: "key >= c" or "key > c" holds from
 * the bound on).
 */
static bool
CowKeyHolds(CowSkipQual *q, Datum key, bool upper)
{
	if (upper)
		return !DatumGetBool(FunctionCall2Coll(&q->le_fn, q->collation,
											   key, q->value));
	return DatumGetBool(FunctionCall2Coll(&q->ge_fn, q->collation,
										  key, q->value));
}

/*
 * CowKeyProbe: does CowKeyHolds hold for row "row" of g (column attidx)?
 * With single, only the row's value is decoded (CowGroupProbe), else the
 * key column's block holding the row, whole (CowGroupRow).  *ok is
 * cleared when the value cannot be compared (a NULL, a column not
 * decoded), the caller then gives up on the range.
 */
static bool
CowKeyProbe(CowDecodedGroup *g, int attidx, uint64 row, CowSkipQual *q,
			bool upper, bool single, bool *ok)
{
	Datum		key;
	bool		isnull;

	if (single)
	{
		if (!CowGroupProbe(g, attidx, row, &key, &isnull))
			isnull = true;
	}
	else if (CowGroupRow(g, attidx, row))
	{
		key = g->values[attidx][row];
		isnull = g->isnull[attidx][row];
	}
	else
		isnull = true;
	if (isnull)
	{
		*ok = false;
		return false;
	}
	return CowKeyHolds(q, key, upper);
}

/*
 * CowKeyBound: the first row of [lo, hi) of g at which CowKeyProbe holds
 * (it holds from some row on, the group being sorted by the key), or hi.
 * A binary search: while the interval spans several blocks, each probe
 * decodes at most one block of the key column (the search comes back to
 * those blocks: decoded once, they cost nothing more); once it lies in
 * one block, the probes decode their values alone out of it (in a framed
 * block, out of the frames they lie in), the block being decompressed
 * once: a key range in one block, as per-block min/max usually leaves it,
 * decodes no key block whole.  A block whose values grow by one step
 * (consecutive keys: CowGroupKeyLinear) is searched by arithmetic, its
 * value block asked for at the search's first probe in it and, when the
 * probe made it, at the second.
 */
static uint64
CowKeyBound(CowDecodedGroup *g, int attidx, uint64 lo, uint64 hi,
			CowSkipQual *q, bool upper, bool *ok)
{
	int			linear_asks = 0;

	while (lo < hi && *ok)
	{
		uint64		mid = lo + (hi - lo) / 2;
		bool		single;
		CowLinearKeys k;

		/* within one block, the probes decode their values alone */
		single = lo / g->header->block_rows == (hi - 1) / g->header->block_rows;
		if (single && linear_asks < 2)
		{
			linear_asks++;
			if (CowGroupKeyLinear(g, attidx, lo, &k))
			{
				Assert(lo >= k.r0 && hi <= k.r0 + k.nrows);
				while (lo < hi)
				{
					mid = lo + (hi - lo) / 2;
					if (CowKeyHolds(q, CowLinearKeyValue(&k, mid), upper))
						hi = mid;
					else
						lo = mid + 1;
				}
				return lo;
			}
		}
		if (CowKeyProbe(g, attidx, mid, q, upper, single, ok))
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

/*
 * CowScanKeyPoints: when the quals hold an IN list on the key column (a
 * CowSkipQual with elems) of at most COW_SCAN_MAX_POINTS elements, the
 * rows of each element in the scan's range [lo_row, hi_row) of its current
 * group, found as a key range's bounds are (CowKeyBound: within the one
 * block the per-block min/max leave for the element, the probes decode
 * their values alone), become the scan's points: only those rows are
 * returned, and their values are decoded one by one, as an index fetch
 * decodes its row's.  Returns false, leaving the scan as it was, when there
 * is no such list or a probe cannot compare (a NULL key).
 */
static bool
CowScanKeyPoints(CowScanDesc scan, int attidx)
{
	CowDecodedGroup *g = scan->group;
	CowSkipQual *set = NULL;
	const char *list;
	uint64	   *points;
	uint64		rows = 0;
	int			n = 0;
	ListCell   *lc;

	foreach(lc, scan->quals)
	{
		CowSkipQual *q = lfirst(lc);

		if (q->attidx == attidx && q->nelems > 0 &&
			q->nelems <= COW_SCAN_MAX_POINTS)
			set = q;
	}
	if (set == NULL)
		return false;
	list = CowGroupBlockMinMaxList(g->header, attidx);
	points = palloc(sizeof(uint64) * 2 * set->nelems);
	for (int i = 0; i < set->nelems; i++)
	{
		CowSkipQual eq = *set;
		uint64		lo = scan->lo_row,
					hi = scan->hi_row,
					a,
					b;
		bool		ok = true;

		eq.nelems = 0;
		eq.elems = NULL;
		eq.value = set->elems[i];
		/* the blocks whose min/max hold the element (they are adjacent) */
		if (list != NULL)
		{
			uint32		block_rows = g->header->block_rows;
			uint32		first = PG_UINT32_MAX,
						last = 0;

			for (uint32 bl = lo / block_rows; bl <= (hi - 1) / block_rows; bl++)
			{
				Datum		min,
							max;

				if (CowGroupBlockMinMax(g->header, list, bl, &min, &max) &&
					CowSkipQualMayHold(&eq, min, max))
				{
					if (first == PG_UINT32_MAX)
						first = bl;
					last = bl;
				}
			}
			if (first == PG_UINT32_MAX)
				continue;
			lo = Max(lo, (uint64) first * block_rows);
			hi = Min(hi, (uint64) (last + 1) * block_rows);
			if (lo >= hi)
				continue;
		}
		a = CowKeyBound(g, attidx, lo, hi, &eq, false, &ok);
		b = ok ? CowKeyBound(g, attidx, a, hi, &eq, true, &ok) : a;
		if (!ok)
		{
			pfree(points);
			return false;
		}
		if (a >= b)
			continue;
		/* elements ascend, and so do the group's keys */
		if (n > 0 && a <= points[2 * n - 1])
			points[2 * n - 1] = Max(points[2 * n - 1], b);
		else
		{
			points[2 * n] = a;
			points[2 * n + 1] = b;
			n++;
		}
		rows += b - a;
	}
	scan->points = points;
	scan->npoints = n;
	if (n == 0)
		scan->hi_row = scan->lo_row;
	else
	{
		scan->lo_row = points[0];
		scan->hi_row = points[2 * n - 1];
	}
	/* a few rows: their values alone; more: by block, as a key range */
	if (rows <= COW_SCAN_MAX_POINTS)
		g->single_values = true;
	return true;
}

/*
 * CowScanKeyRange narrows the rows the scan returns of its current group
 * (scan->lo_row, scan->hi_row) to those the quals on the first record-key
 * column can hold.  A file group is sorted by the record key (and so by
 * its first column, under the column type's default btree ordering with
 * the column's collation, the ordering of the skip quals): the bounds are
 * found by binary search over the key column within the blocks per-block
 * min/max left (CowScanOpenVersion; in a format 4 group, usually the one
 * or two blocks holding the range), decoding only the values the search
 * probes (CowKeyProbe), and when the range leaves out at least half the
 * blocks the group is read by block (as an index fetch reads it), so the
 * columns decode only the blocks of the range, and of a block the range
 * covers in part only the range's rows (CowGroupRow): 101 rows of a
 * 4096-row block cost the decoding of 101 rows.  The executor still
 * evaluates every qual on the rows returned: the range only leaves out
 * rows that cannot match.
 */
static void
CowScanKeyRange(CowScanDesc scan)
{
	CowDecodedGroup *g = scan->group;
	int			attidx = scan->key_attidx;
	uint64		lo = scan->lo_row,
				hi = scan->hi_row;
	bool		ok = true;
	ListCell   *lc;

	/* sorted under the column's type and collation of today */
	if (!CowGroupSortedBy(scan->base.rs_rd, g->header, attidx) ||
		g->nrows == 0 || lo >= hi)
		return;
	foreach(lc, scan->quals)
	{
		CowSkipQual *q = lfirst(lc);

		/* an IN list's elements: its bounds are quals of their own */
		if (q->attidx != attidx || q->nelems > 0)
			continue;
		if (q->strategy != BTLessStrategyNumber &&
			q->strategy != BTLessEqualStrategyNumber)
			lo = CowKeyBound(g, attidx, lo, hi, q, false, &ok);
		if (q->strategy != BTGreaterStrategyNumber &&
			q->strategy != BTGreaterEqualStrategyNumber)
			hi = CowKeyBound(g, attidx, lo, hi, q, true, &ok);
		if (!ok)
			return;
	}
	if (hi < lo)
		hi = lo;
	scan->lo_row = lo;
	scan->hi_row = hi;
	/* every row of [lo, hi) holds for the bounds on the key column */
	scan->range_exact = true;
	if (hi > lo && CowScanKeyPoints(scan, attidx))
		return;
	if (hi == lo ||
		(hi - 1) / g->header->block_rows - lo / g->header->block_rows + 1 <=
		g->nblocks / 2)
		g->by_block = true;
	/* of the blocks it covers in part, the columns decode only its rows */
	if (g->by_block)
	{
		g->range_lo = lo;
		g->range_hi = hi;
	}
}

/*
 * CowScanKeyBoundsMayHold: may the quals on the key column hold for a row
 * of versions[vi], by the key bounds of the scan's versions
 * (CowKeyBoundsFor)?  As CowGroupMayMatch would say of those quals, read
 * from the version's header; true when the bounds say nothing of it.
 */
static bool
CowScanKeyBoundsMayHold(CowScanDesc scan, int vi)
{
	CowKeyBounds *b = scan->key_bounds;
	ListCell   *lc;

	if (vi >= b->nversions || !b->known[vi] ||
		TupleDescAttr(RelationGetDescr(scan->base.rs_rd),
					  b->attidx)->atttypid != b->typid)
		return true;
	foreach(lc, scan->quals)
	{
		CowSkipQual *q = lfirst(lc);

		if (q->attidx != b->attidx ||
			(OidIsValid(q->collation) && q->collation != b->collation))
			continue;
		if (!CowSkipQualMayHold(q, b->min[vi], b->max[vi]))
			return false;
	}
	return true;
}

/*
 * CowScanOpenVersion makes versions[vi] the scan's current file group, or
 * returns false when min/max rule it out.  The rows of it the scan returns
 * are [scan->lo_row, scan->hi_row): all, or those of the quals' key range
 * (CowScanKeyRange).
 */
static bool
CowScanOpenVersion(CowScanDesc scan, int vi)
{
	Relation	rel = scan->base.rs_rd;
	CowGroupHeader *h = NULL;
	MemoryContext old;
	int			nfilters = 0;
	int			k;

	MemoryContextReset(scan->group_cxt);
	scan->range_exact = false;
	scan->group = NULL;
	scan->pass = NULL;
	scan->pass_done = NULL;
	scan->block_may = NULL;
	scan->points = NULL;
	scan->npoints = 0;
	scan->cur = vi;
	CHECK_FOR_INTERRUPTS();
	/* the versions outside the key range, by its bounds alone */
	if (scan->key_bounds != NULL && !CowScanKeyBoundsMayHold(scan, vi))
	{
		scan->groups_skipped++;
		return false;
	}
	old = MemoryContextSwitchTo(scan->group_cxt);
	if (scan->quals != NIL)
	{
		volatile uint32 nmatch = 0;
		bool	   *volatile block_may = NULL;
		volatile bool may;
		CowGroupHeader *ph;

		/*
		 * min/max are read from the cached header, which most versions
		 * are ruled out by: only one that may match is copied
		 */
		ph = (CowGroupHeader *) CowGroupHeaderPin(rel, &scan->versions[vi]);
		PG_TRY();
		{
			uint32		n = 0;

			may = CowGroupMayMatch(rel, ph, scan->quals);
			/* the blocks the quals may hold for (format 4 groups) */
			if (may)
				block_may = CowGroupBlocksMayMatch(rel, ph, scan->quals,
													 scan->key_attidx, &n);
			nmatch = n;
		}
		PG_FINALLY();
		{
			CowGroupHeaderUnpin();
		}
		PG_END_TRY();
		if (!may || nmatch == 0)
		{
			scan->groups_skipped++;
			MemoryContextSwitchTo(old);
			return false;
		}
		scan->block_may = block_may;
		h = CowReadGroupHeader(rel, &scan->versions[vi]);
	}
	/* columns are decompressed when the plan first reads them */
	scan->group = CowOpenGroupHeader(rel, &scan->versions[vi], h,
									 scan->all_columns, scan->needed);
	scan->groups_read++;
	scan->lo_row = 0;
	scan->hi_row = scan->group->nrows;
	if (scan->block_may != NULL)
	{
		uint32		first = 0,
					last = scan->group->nblocks - 1;

		/* rows before the first block left and after the last are not */
		while (!scan->block_may[first])
			first++;
		while (!scan->block_may[last])
			last--;
		scan->lo_row = (uint64) first * scan->group->header->block_rows;
		scan->hi_row = Min((uint64) (last + 1) * scan->group->header->block_rows,
						   scan->group->nrows);
	}
	/*
	 * Columns are decoded a block (COW_BLOCK_ROWS rows) at a time, when
	 * the scan reaches it: a LIMIT or a prefilter that lets no row of a
	 * block through decodes less, and the block's values are still in the
	 * CPU's cache when the executor reads them.
	 */
	scan->group->by_block = true;
	if (scan->key_attidx >= 0)
		CowScanKeyRange(scan);
	for (k = 0; k < scan->nfilters; k++)
		nfilters += !CowScanFilterHeld(scan, &scan->filters[k]);
	if (nfilters > 0 && scan->hi_row > scan->lo_row)
	{
		/*
		 * The prefilter decides, block by block, which rows are returned;
		 * the other columns decode only the blocks of rows it lets
		 * through.
		 */
		scan->pass = palloc(sizeof(bool) * scan->group->nrows);
		scan->pass_done = palloc0(sizeof(bool) * scan->group->nblocks);
	}
	MemoryContextSwitchTo(old);
	return true;
}

/*
 * CowScanPointRange: the first of the scan's point ranges (scan->points)
 * that ends after row next, or npoints when none does (binary search).
 */
static int
CowScanPointRange(CowScanDesc scan, int64 next)
{
	int			lo = 0,
				hi = scan->npoints;

	while (lo < hi)
	{
		int			mid = lo + (hi - lo) / 2;

		if ((int64) scan->points[2 * mid + 1] <= next)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/*
 * CowScanPointsNext: row next when it lies in one of the scan's point
 * ranges (scan->points), else the first row of the next range in the
 * scan's direction (forward: the first row after next; backward: the last
 * before it), or a row outside [lo_row, hi_row) when there is none.
 */
static int64
CowScanPointsNext(CowScanDesc scan, int64 next, bool forward)
{
	int			lo = CowScanPointRange(scan, next);

	if (lo < scan->npoints && (int64) scan->points[2 * lo] <= next)
		return next;			/* within range lo */
	if (forward)
		return lo < scan->npoints ? (int64) scan->points[2 * lo] :
			(int64) scan->hi_row;
	return lo > 0 ? (int64) scan->points[2 * (lo - 1) + 1] - 1 :
		(int64) scan->lo_row - 1;
}

/*
 * CowScanRunEnd: the end of the run of rows from scan->row on that the
 * scan returns without a per-row test (cow_scan_getnextslot's shortcut):
 * the end of the rows to return, of the point range holding the row, of
 * its block when per-block min/max rule blocks out; 0 when a prefilter
 * decides row by row.
 */
static uint64
CowScanRunEnd(CowScanDesc scan)
{
	uint64		end = scan->hi_row;

	if (scan->pass != NULL)
		return 0;
	if (scan->points != NULL)
	{
		/* the range holding the row: the first that ends after it */
		int			lo = CowScanPointRange(scan, (int64) scan->row);

		if (lo >= scan->npoints || scan->points[2 * lo] > scan->row)
			return 0;
		end = Min(end, scan->points[2 * lo + 1]);
	}
	if (scan->block_may != NULL)
	{
		uint32		block_rows = scan->group->header->block_rows;

		end = Min(end, (scan->row / block_rows + 1) * block_rows);
	}
	return end;
}

/*
 * cow_scan_getnextslot hands out the rows of the scan's versions in
 * row-number order, forward or backward, as heapgettup does: scan->row is
 * the row last returned in the current group (valid while scan->inited);
 * past either end the scan is reset, so that turning round there starts
 * again from that end (a scroll cursor's FETCH LAST, a backward FETCH
 * after the end).
 */
bool
cow_scan_getnextslot(TableScanDesc sscan, ScanDirection direction,
					 TupleTableSlot *slot)
{
	CowScanDesc scan = (CowScanDesc) sscan;

	/*
	 * Most calls: the next row forward in the current group, which no
	 * per-row test (element ranges, per-block min/max, prefilter) may skip:
	 * one before scan->run_end, which the general case sets
	 */
	if (likely(direction == ForwardScanDirection && scan->inited &&
			   scan->group != NULL && scan->row + 1 < scan->run_end))
	{
		scan->row++;
		CowStoreRow(scan->base.rs_rd, scan->group, scan->row, slot);
		pgstat_count_heap_getnext(scan->base.rs_rd);
		return true;
	}
	return CowScanNextSlot(scan, direction, slot);
}

/* cow_scan_getnextslot's general case */
static pg_noinline bool
CowScanNextSlot(CowScanDesc scan, ScanDirection direction,
				TupleTableSlot *slot)
{
	Relation	rel = scan->base.rs_rd;
	int64		next;

	scan->run_end = 0;
	if (!scan->loaded)
		CowScanLoadVersions(scan);

	if (ScanDirectionIsNoMovement(direction))
	{
		/* the current row again, if there is one */
		if (!scan->inited || scan->group == NULL)
		{
			ExecClearTuple(slot);
			return false;
		}
		CowStoreRow(rel, scan->group, scan->row, slot);
		return true;
	}

	if (!scan->inited)
	{
		/* start at the first or the last file group */
		scan->group = NULL;
		scan->cur = ScanDirectionIsForward(direction) ? -1 : scan->nversions;
		next = -1;
	}
	else
		next = (int64) scan->row + (ScanDirectionIsForward(direction) ? 1 : -1);

	for (;;)
	{
		int			vi;

		if (scan->group != NULL && next >= (int64) scan->lo_row &&
			next < (int64) scan->hi_row)
		{
			if (scan->points != NULL)
			{
				int64		to = CowScanPointsNext(scan, next,
												   ScanDirectionIsForward(direction));

				if (to != next)
				{
					next = to;
					continue;
				}
			}
			if (scan->block_may != NULL)
			{
				uint32		block_rows = scan->group->header->block_rows;
				uint32		b = (uint64) next / block_rows;

				/* a block per-block min/max rule out: the next one */
				if (!scan->block_may[b])
				{
					next = ScanDirectionIsForward(direction) ?
						(int64) (b + 1) * block_rows :
						(int64) b * block_rows - 1;
					continue;
				}
			}
			if (scan->pass != NULL)
			{
				uint32		b = (uint64) next / scan->group->header->block_rows;

				if (!scan->pass_done[b])
					CowScanFilterBlock(scan, b);
				if (!scan->pass[next])
				{
					next += ScanDirectionIsForward(direction) ? 1 : -1;
					continue;
				}
			}
			scan->row = (uint64) next;
			scan->inited = true;
			if (ScanDirectionIsForward(direction))
				scan->run_end = CowScanRunEnd(scan);
			CowStoreRow(rel, scan->group, scan->row, slot);
			pgstat_count_heap_getnext(rel);
			return true;
		}
		/* the next file group in the scan's direction */
		vi = CowScanClaimVersion(scan, direction);
		if (vi < 0 || vi >= scan->nversions)
		{
			MemoryContextReset(scan->group_cxt);
			scan->group = NULL;
			scan->pass = NULL;
			scan->pass_done = NULL;
			scan->block_may = NULL;
			scan->points = NULL;
			scan->npoints = 0;
			scan->cur = -1;
			scan->row = 0;
			scan->inited = false;
			ExecClearTuple(slot);
			return false;
		}
		if (!CowScanOpenVersion(scan, vi))
		{
			next = -1;
			continue;
		}
		next = ScanDirectionIsForward(direction) ? (int64) scan->lo_row :
			(int64) scan->hi_row - 1;
	}
}

/* ---------- row lookups by TID ---------- */

/*
 * CowGroupContextCreate makes a context for one file group's decoded
 * columns (or encoding buffers) at a time, reset between groups.  Those are
 * a few large chunks: in an AllocSet each is malloc'd and freed again at
 * every reset, and the C library hands such memory back to the kernel, so
 * every group paid a page fault per 4 kB.  A generation context keeps its
 * first block across resets; sized for a group's buffers, it is reused by
 * every group.
 */
MemoryContext
CowGroupContextCreate(MemoryContext parent, const char *name, Size block)
{
	return GenerationContextCreate(parent, name, block, block, 4 * block);
}

IndexFetchTableData *
cow_index_fetch_begin(Relation rel)
{
	MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext,
											  "incetl cow index fetch",
											  ALLOCSET_DEFAULT_SIZES);
	CowIndexFetch *f = MemoryContextAllocZero(cxt, sizeof(CowIndexFetch));
	MemoryContextCallback *cb;

	f->base.rel = rel;
	f->cxt = cxt;
	/* the borrowed list goes back however the context goes (an error too) */
	cb = MemoryContextAlloc(cxt, sizeof(MemoryContextCallback));
	cb->func = CowIndexFetchForgetCallback;
	cb->arg = f;
	MemoryContextRegisterResetCallback(cxt, cb);
	/*
	 * A lookup reads a few blocks: a group context that starts small, so
	 * that each statement does not map (and unmap) a group's worth.
	 */
	f->group_cxt = GenerationContextCreate(cxt, "incetl cow index fetch group",
										   ALLOCSET_DEFAULT_MINSIZE,
										   ALLOCSET_DEFAULT_INITSIZE,
										   COW_GROUP_CONTEXT_BLOCK);
	return &f->base;
}

/*
 * CowIndexFetchSetColumns: the fetch's rows need only the columns in
 * needed (attribute numbers less one); the others read as NULL.  For the
 * fetch of an Index Scan node, given on the node's first call by the
 * executor hook that knows the columns its plan reads (cow_hooks.c,
 * CowIndexScanFirst), before any row is fetched: a lookup decodes those
 * columns only, as a sequential scan decodes only its own
 * (CowScanSetHints).
 */
void
CowIndexFetchSetColumns(IndexFetchTableData *data, const Bitmapset *needed)
{
	CowIndexFetch *f = (CowIndexFetch *) data;
	MemoryContext old = MemoryContextSwitchTo(f->cxt);

	Assert(f->group == NULL);
	f->needed = bms_copy(needed);
	f->some_columns = true;
	MemoryContextSwitchTo(old);
}

void
cow_index_fetch_reset(IndexFetchTableData *data)
{
}

void
cow_index_fetch_end(IndexFetchTableData *data)
{
	CowIndexFetch *f = (CowIndexFetch *) data;

	MemoryContextDelete(f->cxt);
}

/* CowIndexFetchForget: f gives back the list it borrowed, if any */
static void
CowIndexFetchForget(CowIndexFetch *f)
{
	CowFetchList *l = f->list;

	f->list = NULL;
	f->versions = NULL;
	f->nversions = 0;
	f->rowix = NULL;
	CowFetchListRelease(l);
}

static void
CowIndexFetchForgetCallback(void *arg)
{
	CowIndexFetch *f = (CowIndexFetch *) arg;

	CowIndexFetchForget(f);
}


/*
 * CowFetchRow stores row rownum into slot if it belongs to a version that
 * is current for snapshot.  The versions list and the last decoded group
 * are cached in f; the versions are reloaded when the snapshot changes.
 */
bool
CowFetchRow(CowIndexFetch *f, int64 rownum, Snapshot snapshot,
			TupleTableSlot *slot)
{
	Relation	rel = f->base.rel;
	int			vi;
	int64		pos;

	/*
	 * An MVCC snapshot's command id and xmin are compared too (a snapshot
	 * the caller updated in place); other snapshots' are not set at all (the
	 * planner's SnapshotNonVacuumable, probing an index's extremes, lives on
	 * its stack).
	 */
	if (!f->loaded || f->snapshot != snapshot ||
		f->cmd != GetCurrentCommandId(false) ||
		(snapshot && IsMVCCSnapshot(snapshot) &&
		 (f->curcid != snapshot->curcid || f->xmin != snapshot->xmin)))
	{
		bool		registered;
		Snapshot	snap = CowCatalogSnapshotFor(snapshot, &registered);
		MemoryContext old = MemoryContextSwitchTo(f->cxt);

		f->loaded = false;
		CowIndexFetchForget(f);
		/* SnapshotAny: any version, current or not */
		f->list = CowFetchBorrow(rel, &f->storage_id, snap,
								 !(snapshot &&
								   snapshot->snapshot_type == SNAPSHOT_ANY));
		f->versions = f->list->versions;
		f->nversions = f->list->nversions;
		f->rowix = f->list->rowix;
		if (registered)
			UnregisterSnapshot(snap);
		MemoryContextSwitchTo(old);
		f->loaded = true;
		f->snapshot = snapshot;
		f->curcid = (snapshot && IsMVCCSnapshot(snapshot)) ? snapshot->curcid : 0;
		f->xmin = (snapshot && IsMVCCSnapshot(snapshot)) ?
			snapshot->xmin : InvalidTransactionId;
		f->cmd = GetCurrentCommandId(false);
	}

	CowRowIndexSetRelation(f->rowix, rel);
	vi = CowRowIndexFind(f->rowix, rownum, &pos);
	if (vi < 0)
		return false;
	if (f->group == NULL ||
		f->group_storage_id != f->storage_id ||
		!RelFileNodeEquals(f->group_node, rel->rd_node) ||
		f->group->version.first_row_number != f->versions[vi].first_row_number ||
		f->group->version.file_group_id != f->versions[vi].file_group_id ||
		f->group->version.commit_id != f->versions[vi].commit_id ||
		f->group->version.first_block != f->versions[vi].first_block)
	{
		MemoryContext old;

		f->group = NULL;
		MemoryContextReset(f->group_cxt);
		old = MemoryContextSwitchTo(f->group_cxt);
		f->group = CowOpenGroupBorrowed(rel, &f->versions[vi],
										!f->some_columns, f->needed);
		/* an index fetch reads a few rows: decode their values only */
		f->group->by_block = true;
		f->group->single_values = true;
		f->group_storage_id = f->storage_id;
		f->group_node = rel->rd_node;
		MemoryContextSwitchTo(old);
	}
	CowStoreRowNumbered(rel, f->group, (uint64) pos, rownum, slot);
	return true;
}

/*
 * CowLoadLiveVersions returns every version of rel that some transaction
 * may still see as current: its catalog row without superseded_by is not
 * dead to every snapshot (SnapshotNonVacuumable: committed, recently
 * superseded, or being written), in the current memory context.
 *
 * Index fetches return a row only from a version current for the reader's
 * snapshot (CowFetchRow), so once no snapshot can see a version as current
 * its index entries can never again return a row, whether or not
 * retention keeps the version for as_of(), changes() and restore(): those
 * decode file groups and never go through an index (restore() indexes
 * the rows it writes back, at their new row numbers).
 */
CowVersion *
CowLoadLiveVersions(Relation rel, int *n)
{
	Relation	catalog = table_open(CowCatalogRelid("cow_file_group", false),
									 AccessShareLock);
	SnapshotData snap;
	CowVersion *v;

	InitNonVacuumableSnapshot(snap, GlobalVisTestFor(catalog));
	v = CowLoadVersions(CowStorageId(rel), &snap, true, n);
	table_close(catalog, AccessShareLock);
	return v;
}

/*
 * CowRowNumberIsDead: can no index fetch ever return a row at rownum?  True
 * for the pending TIDs the executor indexed while the rows were buffered
 * (the merge indexes the rows again at their real TIDs), for rows of a
 * version whose writer aborted (a rolled-back statement or subtransaction)
 * or that was removed, and for rows of a version superseded so long ago
 * that no snapshot sees it as current (retained or not: see
 * CowLoadLiveVersions): row numbers are never reused.  live[nlive] is a
 * list from CowLoadLiveVersions; a row number it lacks is checked against
 * a fresh one (*reloaded says so), since the version may have been
 * written after the list was read.
 */
static bool
CowRowNumberIsDead(Relation rel, int64 rownum, CowVersion **live, int *nlive,
				   CowRowIndex **liveix, bool *reloaded)
{
	if (rownum >= COW_MAX_ROW_NUMBER)
		return true;			/* (the AM glue may say otherwise: cow_tableam.c) */
	CowRowIndexSetRelation(*liveix, rel);
	if (*live != NULL && CowRowIndexFind(*liveix, rownum, NULL) >= 0)
		return false;
	if (!*reloaded)
	{
		if (*live != NULL)
			pfree(*live);
		CowRowIndexFree(*liveix);
		*live = CowLoadLiveVersions(rel, nlive);
		*liveix = CowRowIndexBuild(rel, *live, *nlive);
		*reloaded = true;
	}
	return CowRowIndexFind(*liveix, rownum, NULL) < 0;
}

bool
cow_index_fetch_tuple(IndexFetchTableData *data, ItemPointer tid,
					  Snapshot snapshot, TupleTableSlot *slot,
					  bool *call_again, bool *all_dead)
{
	CowIndexFetch *f = (CowIndexFetch *) data;
	int64		rownum = CowTidToRowNumber(tid);

	*call_again = false;
	if (CowFetchRow(f, rownum, snapshot, slot))
		return true;

	/*
	 * Not visible to this snapshot.  If no snapshot can see it, say so:
	 * the index AM then marks the entry dead (LP_DEAD) and later scans
	 * skip it; cow_index_delete_tuples lets it be removed.
	 */
	if (all_dead != NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(f->cxt);
		bool		reloaded = false;

		*all_dead = CowRowNumberIsDead(f->base.rel, rownum, &f->live,
									   &f->nlive, &f->liveix, &reloaded);
		MemoryContextSwitchTo(old);
	}
	return false;
}

/*
 * cow_index_delete_tuples: of the index entries the index AM offers for
 * deletion, those marked dead by a scan (cow_index_fetch_tuple) and those
 * (bottom-up deletion) that no snapshot can see are deletable.  Pending
 * TIDs were never rows: no standby query can conflict.  A version's
 * catalog row may be dead because its writer aborted or because clean()
 * deleted it; we do not know the deleting xid, so the horizon reported for
 * standby conflicts is the one before which the catalog row was found
 * removable (a bound on that xid, as heap reports the xid itself).
 */
TransactionId
cow_index_delete_tuples(Relation rel, TM_IndexDeleteOp *delstate)
{
	return cow_index_delete_tuples_pending(rel, delstate, true);
}

/*
 * The versions some snapshot may see as current, as the last deletion pass
 * of an index read them (CowDeletePassRowDead): btree runs a bottom-up pass
 * before each page split of a merge's inserts, and those must not each read
 * the catalog.  A version in the list may have died since: its entries stay
 * for a later pass or VACUUM.  A row number in no listed version but below
 * the end of the list's row numbers was dead when the list was read, and
 * stays dead: one writer at a time (the writers' lock) reserves row numbers
 * in ascending order, and inserts a version's catalog row right after
 * writing its rows, before any index entry points at them.  A row number
 * beyond the end belongs to a version written since (by this merge, most
 * often) or to an aborted last one, and is kept.  The list is read again
 * in each transaction: versions die when other transactions' snapshots go,
 * which a merge (holding the writers' lock and a snapshot of its own) does
 * not wait for.
 */
typedef struct CowLiveList
{
	int64		storage_id;
	RelFileNode node;			/* the relation's file it was read for: a
								 * rewrite's transient table shares the
								 * storage id, not the file */
	LocalTransactionId lxid;	/* the transaction that read the list */
	CowVersion *versions;		/* in TopMemoryContext, or NULL */
	int			nversions;
	CowRowIndex *rows;			/* lookups among them, in TopMemoryContext */
	int64		end;			/* one past the last row number listed */
} CowLiveList;

static CowLiveList CowDeletePassLive;

/*
 * CowDeletePassForget drops the list: a subtransaction aborted (its
 * versions' blocks may be written again, so their row-number maps must not
 * be read through the list), or a relation was truncated or dropped.
 */
void
CowDeletePassForget(void)
{
	CowLiveList *l = &CowDeletePassLive;

	if (l->versions != NULL)
		pfree(l->versions);
	CowRowIndexFree(l->rows);
	l->versions = NULL;
	l->rows = NULL;
	l->storage_id = 0;
}

static bool
CowDeletePassRowDead(Relation rel, int64 storage_id, int64 rownum)
{
	CowLiveList *l = &CowDeletePassLive;

	if (rownum >= COW_MAX_ROW_NUMBER)
		return true;			/* a pending TID */
	if (l->versions == NULL || l->storage_id != storage_id ||
		!RelFileNodeEquals(l->node, rel->rd_node) ||
		l->lxid != MyProc->lxid)
	{
		MemoryContext old;

		CowDeletePassForget();
		old = MemoryContextSwitchTo(TopMemoryContext);
		l->versions = CowLoadLiveVersions(rel, &l->nversions);
		PG_TRY();
		{
			l->rows = CowRowIndexBuild(rel, l->versions, l->nversions);
		}
		PG_CATCH();
		{
			pfree(l->versions);
			l->versions = NULL;
			PG_RE_THROW();
		}
		PG_END_TRY();
		MemoryContextSwitchTo(old);
		l->storage_id = storage_id;
		l->node = rel->rd_node;
		l->lxid = MyProc->lxid;
		l->end = CowRowIndexEnd(l->rows);
	}
	CowRowIndexSetRelation(l->rows, rel);
	if (CowRowIndexFind(l->rows, rownum, NULL) >= 0)
		return false;
	return rownum < l->end;
}

/*
 * cow_index_delete_tuples_pending: as cow_index_delete_tuples, but entries
 * at pending TIDs are found deletable only when pending_dead (an INSERT ...
 * ON CONFLICT statement may be finding its own rows through them); entries
 * the index AM already marked dead stay deletable.
 */
TransactionId
cow_index_delete_tuples_pending(Relation rel, TM_IndexDeleteOp *delstate,
								bool pending_dead)
{
	bool		catalog_dead = false;
	TransactionId horizon = InvalidTransactionId;
	int64		storage_id = CowStorageId(rel);
	int			i,
				n = 0;

	for (i = 0; i < delstate->ndeltids; i++)
	{
		TM_IndexDelete *d = &delstate->deltids[i];
		TM_IndexStatus *st = &delstate->status[d->id];
		int64		rownum = CowTidToRowNumber(&d->tid);

		if (rownum >= COW_MAX_ROW_NUMBER && !pending_dead)
		{
			/*
			 * Not ours to decide now.  An entry the index AM offers as known
			 * deletable (simple deletion) is marked LP_DEAD already, so scans
			 * skip it: removing it changes nothing, and that deletion must
			 * remove at least one entry.
			 */
			if (delstate->bottomup)
				st->knowndeletable = false;
		}
		else if (!st->knowndeletable &&
				 CowDeletePassRowDead(rel, storage_id, rownum))
			st->knowndeletable = true;
		if (st->knowndeletable)
		{
			delstate->deltids[n++] = *d;
			if (rownum < COW_MAX_ROW_NUMBER)
				catalog_dead = true;
		}
	}
	delstate->ndeltids = n;
	if (catalog_dead)
	{
		Relation	catalog = table_open(CowCatalogRelid("cow_file_group", false),
										 AccessShareLock);

		horizon = GlobalVisTestNonRemovableHorizon(GlobalVisTestFor(catalog));
		TransactionIdRetreat(horizon);
		table_close(catalog, AccessShareLock);
	}
	return horizon;
}

/* ---------- rows carried into new versions by this transaction ---------- */

/*
 * A write rewrites whole file groups: the rows it leaves unchanged are
 * carried into the new versions under their row numbers (format 5,
 * cow_rowmap.c), so a TID read earlier in the transaction (a cursor's
 * WHERE CURRENT OF, "UPDATE ... WHERE ctid = r.ctid" in a loop) still
 * addresses them, as on heap.  A row that gets a new number all the same
 * (a group written in an older format: incetl.test_cow_group_version)
 * moves: every merge of this transaction records, per table storage,
 * where it moved each stored row (CowNoteRowsMoved, as runs of
 * consecutive row numbers: a rewrite keeps the stored rows' order), and a
 * TID fetch that finds its row in no version current for the snapshot
 * follows those moves (CowResolveMovedRow).  Rows updated or deleted are
 * not carried, so their old TIDs find nothing, as on heap.  An UPDATE also
 * records the link from the old row to its new one (by the pending row
 * number its slot got, which the merge maps to the real one): only
 * tuple_get_latest_tid (WHERE CURRENT OF) follows it, as heap follows the
 * update chain there and nowhere else.  Row numbers
 * are never reused within a storage, so a move recorded by a merge that
 * was rolled back (a subtransaction) leads to no visible version and is
 * harmless.  The map lives in TopTransactionContext, per table and
 * relfilenode (TRUNCATE and rewrites start a new storage; the in-place
 * truncation of a table created in the transaction forgets it).
 */
typedef struct CowMoveRun
{
	int64		old_start;
	int64		new_start;
	uint32		len;			/* a longer run is recorded as several */
	bool		updated;		/* old rows updated into new ones (else
								 * carried unchanged) */
} CowMoveRun;

StaticAssertDecl(sizeof(CowMoveRun) == 24,
				 "a move run is three words: COW_MAX_MOVE_RUNS counts on it");

typedef struct CowMoveMap
{
	Oid			relid;
	Oid			relfilenode;	/* row numbers are per storage */
	CowMoveRun *runs;
	int64		nruns;
	int64		cap;

	/*
	 * CowMovedTo's index: the runs from pending row numbers (which never
	 * overlap: each pending row is stored once), sorted by old_start; built
	 * from the first nindexed runs, rebuilt when runs were added since.
	 */
	int64	   *pending_runs;	/* indexes into runs */
	int64		npending_runs;
	int64		nindexed;
} CowMoveMap;

/*
 * beyond this many runs a table's later moves are not recorded (24 MB),
 * except where new rows went for AFTER ROW triggers, which must know
 * (CowNoteRowsMoved; the rows' images take more memory anyway)
 */
#define COW_MAX_MOVE_RUNS	(1024 * 1024)

static List *CowMoveMaps = NIL;
static LocalTransactionId CowMoveMapsLxid = InvalidLocalTransactionId;

static CowMoveMap *
CowGetMoveMap(Relation rel, bool create)
{
	ListCell   *lc;
	CowMoveMap *m;
	MemoryContext old;

	if (CowMoveMapsLxid != MyProc->lxid)
	{
		/* the previous transaction's maps went with its memory */
		CowMoveMaps = NIL;
		CowMoveMapsLxid = MyProc->lxid;
	}
	foreach(lc, CowMoveMaps)
	{
		m = lfirst(lc);
		if (m->relid == RelationGetRelid(rel) &&
			m->relfilenode == rel->rd_node.relNode)
			return m;
	}
	if (!create)
		return NULL;
	old = MemoryContextSwitchTo(TopTransactionContext);
	m = palloc0(sizeof(CowMoveMap));
	m->relid = RelationGetRelid(rel);
	m->relfilenode = rel->rd_node.relNode;
	CowMoveMaps = lappend(CowMoveMaps, m);
	MemoryContextSwitchTo(old);
	return m;
}

/*
 * CowMoveMapAdd records that row "from" is now row "to", extending the
 * last run when it continues it.
 */
static void
CowMoveMapAdd(CowMoveMap *m, int64 from, int64 to, bool updated,
			  bool unbounded)
{
	CowMoveRun *last = m->nruns > 0 ? &m->runs[m->nruns - 1] : NULL;

	if (last != NULL && last->updated == updated &&
		last->len < PG_UINT32_MAX &&
		last->old_start + last->len == from &&
		last->new_start + last->len == to)
	{
		last->len++;
		return;
	}
	if (m->nruns >= COW_MAX_MOVE_RUNS && !unbounded)
		return;
	if (m->nruns == m->cap)
	{
		m->cap = Max(m->cap * 2, 64);
		m->runs = m->runs == NULL ?
			MemoryContextAlloc(TopTransactionContext, sizeof(CowMoveRun) * m->cap) :
			repalloc(m->runs, sizeof(CowMoveRun) * m->cap);
	}
	m->runs[m->nruns].old_start = from;
	m->runs[m->nruns].new_start = to;
	m->runs[m->nruns].len = 1;
	m->runs[m->nruns].updated = updated;
	m->nruns++;
}

/*
 * CowNoteRowsMoved records, for the n rows just written as version v of
 * rel, where each stored row (one read from an existing version) went, and
 * where the new row of an UPDATE went from its pending row number;
 * rownums[n] are the rows' row numbers in v, whose fresh ones start at
 * first_row_number.  A stored row carried with its own row number did not
 * move.
 */
void
CowNoteRowsMoved(Relation rel, CowRow **rows, int64 n, const int64 *rownums,
				 int64 first_row_number)
{
	CowMoveMap *m = NULL;
	int64		r;
	TriggerDesc *td = rel->trigdesc;

	/* where new rows went, for AFTER ROW triggers (CowFetchPendingRow) */
	bool		track_new = td != NULL &&
		(td->trig_insert_after_row || td->trig_update_after_row);

	for (r = 0; r < n; r++)
	{
		CowRow	   *row = rows[r];
		int64		from;

		if (row->src != NULL)
		{
			/* carried with its row number: not one of v's fresh ones */
			if (rownums[r] != first_row_number + r)
				continue;
			from = CowGroupRowNumber(row->src, (uint64) row->src_row);
		}
		else if (row->pending != 0 && (row->is_update || track_new))
			from = row->pending;
		else
			continue;			/* a new row */
		if (m == NULL)
			m = CowGetMoveMap(rel, true);
		CowMoveMapAdd(m, from, rownums[r], false,
					  track_new && row->src == NULL);
	}
}

/*
 * CowMovedTo returns the row number a merge of this transaction first
 * stored row rownum (a pending row number) under, or 0: not stored, or not
 * recorded (CowNoteRowsMoved records new rows for relations with AFTER
 * ROW triggers only).
 */
static int
CowPendingRunCmp(const void *a, const void *b, void *arg)
{
	CowMoveRun *runs = (CowMoveRun *) arg;
	int64		x = runs[*(const int64 *) a].old_start;
	int64		y = runs[*(const int64 *) b].old_start;

	return x < y ? -1 : x > y ? 1 : 0;
}

int64
CowMovedTo(Relation rel, int64 rownum)
{
	CowMoveMap *m = CowGetMoveMap(rel, false);
	int64		lo,
				hi;

	if (m == NULL || rownum < COW_MAX_ROW_NUMBER)
		return 0;
	if (m->nindexed != m->nruns)
	{
		int64		i;

		if (m->pending_runs != NULL)
			pfree(m->pending_runs);
		m->pending_runs = MemoryContextAlloc(TopTransactionContext,
											 sizeof(int64) * Max(m->nruns, 1));
		m->npending_runs = 0;
		for (i = 0; i < m->nruns; i++)
			if (!m->runs[i].updated && m->runs[i].old_start >= COW_MAX_ROW_NUMBER)
				m->pending_runs[m->npending_runs++] = i;
		qsort_arg(m->pending_runs, m->npending_runs, sizeof(int64),
				  CowPendingRunCmp, m->runs);
		m->nindexed = m->nruns;
	}
	lo = 0;
	hi = m->npending_runs - 1;
	while (lo <= hi)
	{
		int64		mid = (lo + hi) / 2;
		CowMoveRun *run = &m->runs[m->pending_runs[mid]];

		if (rownum < run->old_start)
			hi = mid - 1;
		else if (rownum >= run->old_start + run->len)
			lo = mid + 1;
		else
			return run->new_start + (rownum - run->old_start);
	}
	return 0;
}

/*
 * CowNoteRowUpdated records that an UPDATE replaced row old_rownum by the
 * row buffered under pending.
 */
void
CowNoteRowUpdated(Relation rel, int64 old_rownum, int64 pending)
{
	CowMoveMapAdd(CowGetMoveMap(rel, true), old_rownum, pending, true, false);
}

/*
 * CowForgetMoves drops what was recorded for rel: its storage was emptied
 * in place (row numbers start again).
 */
void
CowForgetMoves(Relation rel)
{
	CowMoveMap *m = CowGetMoveMap(rel, false);

	if (m != NULL)
	{
		m->nruns = 0;
		m->nindexed = -1;
	}
}

/*
 * CowResolveMovedRow follows the moves recorded for rownum (and, with
 * follow_updates, the updates) until it finds a row number held by one of
 * versions[n] (the versions current for the reader's snapshot); returns
 * it, or 0.  A row may have been carried by
 * several merges (one per statement, and again after a rolled-back one),
 * so the candidates are searched breadth first.
 */
int64
CowResolveMovedRow(Relation rel, int64 rownum, CowVersion *versions, int n,
				   bool follow_updates)
{
	CowMoveMap *m = CowGetMoveMap(rel, false);
	int64	   *queue;
	int			head = 0,
				tail = 0;
	int			limit = 1024;
	int64		found = 0;
	CowRowIndex *ix;

	if (m == NULL || m->nruns == 0)
		return 0;
	ix = CowRowIndexBuild(rel, versions, n);
	queue = palloc(sizeof(int64) * limit);
	queue[tail++] = rownum;
	while (head < tail && found == 0)
	{
		int64		rn = queue[head++];
		int64		i;

		for (i = 0; i < m->nruns && found == 0; i++)
		{
			CowMoveRun *run = &m->runs[i];
			int64		to;

			if (rn < run->old_start || rn >= run->old_start + run->len ||
				(run->updated && !follow_updates))
				continue;
			to = run->new_start + (rn - run->old_start);
			if (CowRowIndexFind(ix, to, NULL) >= 0)
				found = to;
			else if (tail < limit)
				queue[tail++] = to;
		}
	}
	pfree(queue);
	CowRowIndexFree(ix);
	return found;
}

/*
 * cow_tuple_fetch_row_version is what UPDATE uses (with SnapshotAny) to
 * read each old row, so the decoded file group is cached across calls:
 * one fetch state per transaction, for the last relation asked.  The slot
 * is materialized because the next call may replace the cached group.
 */
static CowIndexFetch *CowRowFetchCache = NULL;
static LocalTransactionId CowRowFetchLxid = InvalidLocalTransactionId;
static Oid	CowRowFetchRelid = InvalidOid;

/*
 * CowRowFetchForget drops the cached fetch state: a subtransaction aborted,
 * and what it read may be of a storage it created (TRUNCATE) or of
 * versions it wrote, both gone with it.
 */
void
CowRowFetchForget(void)
{
	if (CowRowFetchCache != NULL && CowRowFetchLxid == MyProc->lxid)
		cow_index_fetch_end(&CowRowFetchCache->base);
	CowRowFetchCache = NULL;
	CowRowFetchRelid = InvalidOid;
}

bool
cow_tuple_fetch_row_version(Relation rel, ItemPointer tid, Snapshot snapshot,
							TupleTableSlot *slot)
{
	bool		found;

	if (CowRowFetchCache == NULL || CowRowFetchLxid != MyProc->lxid ||
		CowRowFetchRelid != RelationGetRelid(rel))
	{
		MemoryContext old = MemoryContextSwitchTo(TopTransactionContext);

		/* the previous one, if any, went away with its transaction or is
		 * left to its context */
		if (CowRowFetchCache != NULL && CowRowFetchLxid == MyProc->lxid)
			cow_index_fetch_end(&CowRowFetchCache->base);
		CowRowFetchCache = (CowIndexFetch *) cow_index_fetch_begin(rel);
		CowRowFetchLxid = MyProc->lxid;
		CowRowFetchRelid = RelationGetRelid(rel);
		MemoryContextSwitchTo(old);
	}
	CowRowFetchCache->base.rel = rel;
	found = CowFetchRow(CowRowFetchCache, CowTidToRowNumber(tid), snapshot, slot);
	if (!found && snapshot != NULL && IsMVCCSnapshot(snapshot))
	{
		/* a row this transaction carried into a new version, by its old TID */
		int64		moved = CowResolveMovedRow(rel, CowTidToRowNumber(tid),
											   CowRowFetchCache->versions,
											   CowRowFetchCache->nversions,
											   false);

		if (moved != 0)
			found = CowFetchRow(CowRowFetchCache, moved, snapshot, slot);
	}
	if (found)
	{
		ExecMaterializeSlot(slot);

		/*
		 * The executor's own fetches of old rows (triggers, foreign keys)
		 * read their xmin (cow_slot.c); a TID scan, under an MVCC
		 * snapshot, refuses it: the materialized slot no longer knows the
		 * row's commit, which the other scans read it from.
		 */
		if (snapshot != NULL && snapshot->snapshot_type == SNAPSHOT_ANY)
			CowSlotSetXmin(slot, CowRowFetchCache->group->version.xmin);
	}
	return found;
}

/*
 * cow_tuple_get_latest_tid (WHERE CURRENT OF): the TID of the latest
 * version of the row a cursor stands on, wherever writes of this
 * transaction carried or updated it since the cursor read it; a row
 * deleted since keeps its TID, which then finds nothing.
 */
void
cow_tuple_get_latest_tid(TableScanDesc sscan, ItemPointer tid)
{
	int			n;
	CowVersion *versions = CowScanVersions(sscan, &n);
	int64		rownum = CowTidToRowNumber(tid);
	int64		moved;

	if (CowRowIndexFind(CowScanRowIndex(sscan), rownum, NULL) >= 0)
		return;
	moved = CowResolveMovedRow(sscan->rs_rd, rownum, versions, n, true);
	if (moved != 0)
		CowRowNumberToTid(moved, tid);
}

/*
 * The latest current versions of one table, read by the last
 * cow_tuple_satisfies_snapshot under a non-MVCC snapshot (SnapshotSelf:
 * a foreign key check asks it for every new row of a statement).  A row
 * of a version our transaction wrote stays current until a merge of ours
 * supersedes it (a catalog write of ours: CowVersionWrites): for such rows
 * the list answers until then; any other row is checked against a fresh
 * read.
 */
static CowVersion *CowLatestVersions = NULL;
static int	CowLatestNVersions = 0;
static Oid	CowLatestRelid = InvalidOid;
static Oid	CowLatestRelfilenode = InvalidOid;
static LocalTransactionId CowLatestLxid = InvalidLocalTransactionId;
static uint64 CowLatestWrites = 0;
static CowRowIndex *CowLatestIndex = NULL;	/* lookups among them, or NULL
											 * until built */

static bool
CowLatestOwnRowIsCurrent(Relation rel, int64 rownum)
{
	int			vi;

	if (CowLatestVersions == NULL || CowLatestLxid != MyProc->lxid ||
		CowLatestRelid != RelationGetRelid(rel) ||
		CowLatestRelfilenode != rel->rd_node.relNode ||
		CowLatestWrites != CowVersionWrites)
		return false;
	if (CowLatestIndex == NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(TopTransactionContext);

		CowLatestIndex = CowRowIndexBuild(rel, CowLatestVersions,
										  CowLatestNVersions);
		MemoryContextSwitchTo(old);
	}
	vi = CowRowIndexFind(CowLatestIndex, rownum, NULL);
	return vi >= 0 &&
		TransactionIdIsCurrentTransactionId(CowLatestVersions[vi].xmin);
}

static void
CowLatestRemember(Relation rel, CowVersion *v, int n)
{
	if (CowLatestVersions != NULL && CowLatestLxid == MyProc->lxid)
	{
		pfree(CowLatestVersions);
		CowRowIndexFree(CowLatestIndex);
	}
	CowLatestIndex = NULL;
	CowLatestVersions = MemoryContextAlloc(TopTransactionContext,
										   sizeof(CowVersion) * Max(n, 1));
	memcpy(CowLatestVersions, v, sizeof(CowVersion) * n);
	CowLatestNVersions = n;
	CowLatestRelid = RelationGetRelid(rel);
	CowLatestRelfilenode = rel->rd_node.relNode;
	CowLatestLxid = MyProc->lxid;
	CowLatestWrites = CowVersionWrites;
}

bool
cow_tuple_satisfies_snapshot(Relation rel, TupleTableSlot *slot,
							 Snapshot snapshot)
{
	bool		registered;
	Snapshot	snap;
	int			n;
	CowVersion *v;
	bool		result;
	bool		latest = (snapshot == NULL ||
						  (!IsMVCCSnapshot(snapshot) &&
						   snapshot->snapshot_type != SNAPSHOT_ANY));

	if (latest &&
		CowLatestOwnRowIsCurrent(rel, CowTidToRowNumber(&slot->tts_tid)))
		return true;
	snap = CowCatalogSnapshotFor(snapshot, &registered);
	v = CowLoadVersions(CowStorageId(rel), snap, true, &n);
	result = CowFindRow(rel, v, n, CowTidToRowNumber(&slot->tts_tid), NULL) >= 0;
	if (registered)
		UnregisterSnapshot(snap);
	if (latest)
		CowLatestRemember(rel, v, n);
	pfree(v);
	return result;
}

/* ---------- bitmap scans ---------- */

/*
 * cow_scan_bitmap_next_block takes the row numbers of one TID block of a
 * bitmap (the offsets given, or all of them for a lossy block) that belong
 * to a file group version current for the scan's snapshot; false when
 * none does.  As for an index fetch, a TID of a superseded version (a row
 * replaced or deleted), of a version that was never committed, or a
 * pending TID finds nothing: row moves are not followed, or a row would
 * come twice.  A carried row's TID finds it in whichever version the
 * snapshot sees as current.  The rows taken are sorted by version and
 * position, so each version is opened once per TID block.  The executor
 * rechecks the quals of a lossy block (tbmres->recheck).
 */
typedef struct CowBitmapRow
{
	int			vi;				/* scan->versions[vi] holds it */
	int64		pos;			/* at this position */
} CowBitmapRow;

static int
CowBitmapRowCmp(const void *a, const void *b)
{
	const CowBitmapRow *x = a;
	const CowBitmapRow *y = b;

	if (x->vi != y->vi)
		return x->vi < y->vi ? -1 : 1;
	return x->pos < y->pos ? -1 : (x->pos > y->pos ? 1 : 0);
}

bool
cow_scan_bitmap_next_block(TableScanDesc sscan, struct TBMIterateResult *tbmres)
{
	CowScanDesc scan = (CowScanDesc) sscan;
	int64		base = (int64) tbmres->blockno * COW_ROWS_PER_BLOCK;
	int			n = tbmres->ntuples >= 0 ? tbmres->ntuples : COW_ROWS_PER_BLOCK;
	CowRowIndex *ix = CowScanRowIndex(sscan);
	int			i;

	if (scan->bm_rows == NULL)
		scan->bm_rows = MemoryContextAlloc(scan->scan_cxt,
										   sizeof(CowBitmapRow) * COW_ROWS_PER_BLOCK);
	scan->bm_nrows = 0;
	scan->bm_next = 0;
	for (i = 0; i < n; i++)
	{
		int64		rownum = base + (tbmres->ntuples >= 0 ?
									 tbmres->offsets[i] - 1 : i);
		CowBitmapRow *br = &((CowBitmapRow *) scan->bm_rows)[scan->bm_nrows];

		if (rownum < COW_FIRST_ROW_NUMBER || rownum >= COW_MAX_ROW_NUMBER)
			continue;
		br->vi = CowRowIndexFind(ix, rownum, &br->pos);
		if (br->vi >= 0)
			scan->bm_nrows++;
	}
	/* the rows of one version together, in position order */
	if (scan->bm_nrows > 1)
		qsort(scan->bm_rows, scan->bm_nrows, sizeof(CowBitmapRow),
			  CowBitmapRowCmp);
	return scan->bm_nrows > 0;
}

/*
 * cow_scan_bitmap_next_tuple returns the next row taken by
 * cow_scan_bitmap_next_block.  The version holding it stays open across
 * rows and blocks, read by block: each column block the executor reads is
 * decompressed once for all the rows of the bitmap it holds.
 */
bool
cow_scan_bitmap_next_tuple(TableScanDesc sscan, struct TBMIterateResult *tbmres,
						   TupleTableSlot *slot)
{
	CowScanDesc scan = (CowScanDesc) sscan;
	Relation	rel = sscan->rs_rd;
	CowBitmapRow *br;

	if (scan->bm_next >= scan->bm_nrows)
	{
		ExecClearTuple(slot);
		return false;
	}
	br = &((CowBitmapRow *) scan->bm_rows)[scan->bm_next++];
	if (scan->group == NULL || scan->cur != br->vi)
	{
		int			vi = br->vi;
		MemoryContext old;

		MemoryContextReset(scan->group_cxt);
		scan->group = NULL;
		scan->cur = vi;
		old = MemoryContextSwitchTo(scan->group_cxt);
		scan->group = CowOpenGroup(rel, &scan->versions[vi],
								   scan->all_columns, scan->needed);
		scan->group->by_block = true;
		scan->group->single_values = true;
		scan->groups_read++;
		MemoryContextSwitchTo(old);
	}
	CowStoreRow(rel, scan->group, (uint64) br->pos, slot);
	pgstat_count_heap_fetch(rel);
	return true;
}

/* ---------- ANALYZE ---------- */

/*
 * A sampled block maps to a slice of the rows of the current version whose
 * extent holds it, so blocks of superseded versions and the metapage count
 * as empty and live rows scale correctly with the block count.
 */
bool
cow_scan_analyze_next_block(TableScanDesc sscan, BlockNumber blockno,
							BufferAccessStrategy bstrategy)
{
	CowScanDesc scan = (CowScanDesc) sscan;
	int			i;

	if (!scan->loaded)
		CowScanLoadVersions(scan);
	scan->analyze_next = scan->analyze_end = 0;
	for (i = 0; i < scan->nversions; i++)
	{
		CowVersion *v = &scan->versions[i];

		if (blockno >= v->first_block && blockno < v->first_block + v->nblocks)
		{
			int64		b = blockno - v->first_block;

			if (scan->analyze_version != i)
			{
				MemoryContext old;

				MemoryContextReset(scan->group_cxt);
				old = MemoryContextSwitchTo(scan->group_cxt);
				scan->group = CowOpenGroup(sscan->rs_rd, v, true, NULL);
				MemoryContextSwitchTo(old);
				scan->analyze_version = i;
			}
			scan->analyze_next = v->row_count * b / v->nblocks;
			scan->analyze_end = v->row_count * (b + 1) / v->nblocks;
			return true;
		}
	}
	return false;
}

bool
cow_scan_analyze_next_tuple(TableScanDesc sscan, TransactionId OldestXmin,
							double *liverows, double *deadrows,
							TupleTableSlot *slot)
{
	CowScanDesc scan = (CowScanDesc) sscan;

	if (scan->analyze_next >= scan->analyze_end || scan->group == NULL)
		return false;
	CowStoreRow(sscan->rs_rd, scan->group, scan->analyze_next, slot);
	scan->analyze_next++;
	*liverows += 1;
	return true;
}

/*
 * incetl.cow_last_scan() reports how many file groups the last finished
 * sequential scan of an incetl_cow table in this session read, how many it
 * skipped by min/max, and how many column chunks it decompressed.
 */
Datum
incetl_cow_last_scan(PG_FUNCTION_ARGS)
{
	TupleDesc	desc;
	Datum		values[3];
	bool		nulls[3] = {false, false, false};

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	desc = BlessTupleDesc(desc);
	values[0] = Int64GetDatum(CowLastScanRead);
	values[1] = Int64GetDatum(CowLastScanSkipped);
	values[2] = Int64GetDatum(CowLastScanChunks);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
}

/*
 * incetl.cow_decode_counts() reports how many column chunks were wholly
 * decoded and how many column blocks were decompressed by this backend so
 * far, whatever read them (scans, index fetches, merges): the difference
 * across a statement shows what it cost.
 */
Datum
incetl_cow_decode_counts(PG_FUNCTION_ARGS)
{
	TupleDesc	desc;
	Datum		values[2];
	bool		nulls[2] = {false, false};

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	desc = BlessTupleDesc(desc);
	values[0] = Int64GetDatum(CowChunksDecoded);
	values[1] = Int64GetDatum(CowBlocksDecoded);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
}

/*
 * CowMakeSkipQual returns the CowSkipQual for "column attnum <opno> value"
 * (the column on the left), or NULL when opno is not a btree comparison of
 * the column type's default opfamily or compares under another collation
 * than the one min/max were computed with.  Allocated in the current
 * memory context.
 */
CowSkipQual *
CowMakeSkipQual(Relation rel, AttrNumber attnum, Oid opno, Oid inputcollid,
				Datum value)
{
	TupleDesc	desc = RelationGetDescr(rel);
	Form_pg_attribute att;
	Oid			opfamily,
				lefttype,
				righttype;
	RegProcedure opcode;
	HeapTuple	tp;
	int			strategy;
	CowSkipQual *q;

	if (attnum <= 0 || attnum > desc->natts || !OidIsValid(opno))
		return NULL;
	att = TupleDescAttr(desc, attnum - 1);
	if (att->attisdropped)
		return NULL;
	/* min/max were computed with the column's collation */
	if (OidIsValid(inputcollid) && inputcollid != att->attcollation)
		return NULL;
	/* the default btree opfamily, as GetDefaultOpClass finds it, cached */
	opfamily = lookup_type_cache(att->atttypid, TYPECACHE_BTREE_OPFAMILY)->btree_opf;
	if (!OidIsValid(opfamily))
		return NULL;
	strategy = get_op_opfamily_strategy(opno, opfamily);
	if (strategy == 0)
		return NULL;
	/* the operator's input types and function, one look at its row */
	tp = SearchSysCache1(OPEROID, ObjectIdGetDatum(opno));
	if (!HeapTupleIsValid(tp))
		elog(ERROR, "cache lookup failed for operator %u", opno);
	lefttype = ((Form_pg_operator) GETSTRUCT(tp))->oprleft;
	righttype = ((Form_pg_operator) GETSTRUCT(tp))->oprright;
	opcode = ((Form_pg_operator) GETSTRUCT(tp))->oprcode;
	ReleaseSysCache(tp);

	q = palloc0(sizeof(CowSkipQual));
	q->attidx = attnum - 1;
	q->strategy = strategy;
	q->opno = opno;
	q->lefttype = lefttype;
	q->righttype = righttype;
	q->collation = inputcollid;
	q->value = value;
	switch (strategy)
	{
		case BTLessStrategyNumber:
		case BTLessEqualStrategyNumber:
			fmgr_info(opcode, &q->le_fn);
			break;
		case BTGreaterStrategyNumber:
		case BTGreaterEqualStrategyNumber:
			fmgr_info(opcode, &q->ge_fn);
			break;
		case BTEqualStrategyNumber:
			{
				Oid			le = get_opfamily_member(opfamily, lefttype, righttype,
													 BTLessEqualStrategyNumber);
				Oid			ge = get_opfamily_member(opfamily, lefttype, righttype,
													 BTGreaterEqualStrategyNumber);

				if (!OidIsValid(le) || !OidIsValid(ge))
				{
					pfree(q);
					return NULL;
				}
				fmgr_info(get_opcode(le), &q->le_fn);
				fmgr_info(get_opcode(ge), &q->ge_fn);
			}
			break;
		default:
			pfree(q);
			return NULL;
	}
	return q;
}

/*
 * CowMakeLikeSkipQuals returns the CowSkipQuals implied by "column LIKE
 * pattern" (opno, the column on the left) when the pattern starts with a
 * literal prefix P and the comparison is under the "C" collation (the
 * column's): every string matching is >= P and, when P's last byte is
 * ASCII below 0x7f, < P with that byte incremented (byte order).  Under
 * another collation a prefix says nothing of the order, and nothing is
 * returned; so too for an empty prefix.  The quals only skip by min/max:
 * the executor still evaluates the LIKE.
 */
List *
CowMakeLikeSkipQuals(Relation rel, AttrNumber attnum, Oid opno,
					 Oid inputcollid, Datum pattern)
{
	text	   *pat;
	const char *p;
	int			len,
				n;
	List	   *result = NIL;
	CowSkipQual *q;

	if (get_opcode(opno) != F_TEXTLIKE || !OidIsValid(inputcollid) ||
		!lc_collate_is_c(inputcollid))
		return NIL;
	pat = DatumGetTextPP(pattern);
	p = VARDATA_ANY(pat);
	len = VARSIZE_ANY_EXHDR(pat);
	for (n = 0; n < len; n++)
		if (p[n] == '%' || p[n] == '_' || p[n] == '\\')
			break;
	if (n == 0)
		return NIL;
	q = CowMakeSkipQual(rel, attnum, TextGreaterEqualOperator, inputcollid,
						PointerGetDatum(cstring_to_text_with_len(p, n)));
	if (q == NULL)
		return NIL;
	result = lappend(result, q);
	if ((unsigned char) p[n - 1] < 0x7f)
	{
		char	   *upper = pnstrdup(p, n);

		upper[n - 1]++;
		q = CowMakeSkipQual(rel, attnum, TextLessOperator, inputcollid,
							PointerGetDatum(cstring_to_text_with_len(upper, n)));
		if (q != NULL)
			result = lappend(result, q);
	}
	return result;
}
