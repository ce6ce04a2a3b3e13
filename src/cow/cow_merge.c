/*-------------------------------------------------------------------------
 *
 * cow_merge.c
 *	  Merge a statement's buffered rows into an incetl_cow table.
 *
 * This is where Hudi's copy-on-write upsert happens.  With a record key:
 *
 *	1. incoming rows are sorted by (key, precombine NULLS FIRST, arrival);
 *	   the last row of each key wins (largest precombine, tie: later row).
 *	   Rows buffered in memory are sorted here; a statement that outgrew
 *	   its memory comes sorted from its spill (cow_spill.c) and is collapsed
 *	   as it is read;
 *	2. current file group versions are ordered by first key: they partition
 *	   the key space, each taking the keys from its first key up to the next
 *	   one's;
 *	3. in one pass over both, every version whose range receives winners
 *	   (or holds rows deleted by row number: DELETE, UPDATE) is decoded and
 *	   merge-joined with its winners: the incoming row replaces the stored
 *	   one when its precombine is >= the stored one (NULL sorts lowest); a
 *	   winner whose delete marker is true deletes the stored row and is
 *	   never stored;
 *	4. the result is written as new versions of at most file_group_rows
 *	   rows as it is produced (so a merge holds one decoded group and at
 *	   most twice file_group_rows rows of output), the old version's catalog
 *	   row is marked superseded, and a commit row is added.
 *
 * Without a record key rows are appended (into the newest group while it
 * has room).  Everything runs under the table's writers' lock
 * (CowLockWriters), held until the transaction ends, and reads the current versions under
 * the latest snapshot, so concurrent writers serialize and commit ids
 * follow commit order.
 *
 * Copyright (c) 2026, incetl authors
 *
 * IDENTIFICATION
 *	  src/cow/cow_merge.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/relation.h"
#include "access/twophase.h"
#include "access/xact.h"
#include "catalog/catalog.h"
#include "catalog/index.h"
#include "catalog/pg_class.h"
#include "executor/executor.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/sortsupport.h"
#include "utils/typcache.h"

#include "cow/security.h"
#include "cow/write.h"

typedef struct CowMergeCtx
{
	Relation	rel;
	TupleDesc	tupdesc;
	CowOptions	opts;
	SortSupport keys;			/* [nkeys] */
	SortSupport precombine;		/* NULL when none */
	int64		commit_id;
	int64		inserted;
	int64		updated;
	int64		deleted;
	int64		rows_written;	/* rows in new versions */
	int64		rows_superseded;	/* rows in replaced versions */
	int32		groups_written;
	int32		groups_changed; /* versions superseded */
	int64		bytes_written;
	ResultRelInfo *indexinfo;	/* NULL when the table has no index */
	bool		collect_written;	/* record the rows written for the
									 * constraint check (CowCheckWrittenRows) */
	int64	   *written;		/* row numbers of the incoming rows written */
	int64		nwritten;
	int64		written_cap;
	MemoryContext written_cxt;	/* of written[]: outlives the merge */
	EState	   *estate;
	TupleTableSlot *islot;
	MemoryContext write_cxt;	/* reset after each version written */
	CowWriteCheck *check;		/* what the writers may replace and delete;
								 * NULL: anything (cow_security.c) */

	/*
	 * Logical decoding (cow_logical.c): the log of the rows the merge
	 * changes, NULL when decoding does not see the table.  A rewrite logs
	 * only the rows it collapses (log_rewrite).  Stored rows the statement
	 * deleted by row number wait in rn_deleted, until their group is
	 * written, for a new row of their key: the two are one update.
	 */
	CowLogicalLog *log;
	bool		log_rewrite;
	List	   *rn_deleted;		/* of CowRow *, stored rows of the group, in
								 * key order (NULL: paired) */
	int			rn_pos;			/* first not passed by the rows written */
	Datum	   *log_values[2];	/* [natts] each: old and new row */
	bool	   *log_nulls[2];
	bool		identity_checked[2];	/* CheckCmdReplicaIdentity done for
										 * replacing, deleting rows */
} CowMergeCtx;

static SortSupport CowMakeSortSupport(Form_pg_attribute att);
static int	CowKeyCmp(CowMergeCtx *ctx, Datum *a, Datum *b);
static int	CowRowKeyCmp(CowMergeCtx *ctx, CowRow *a, CowRow *b);
static int	CowIncomingCmp(const void *a, const void *b, void *arg);
static int	CowSortItemCmp(const void *a, const void *b, void *arg);
static void CowSortIncoming(CowMergeCtx *ctx, CowRow **rows, int64 n);
static bool CowIncomingWins(CowMergeCtx *ctx, CowRow *in, CowRow *stored);
static bool CowIsDeleteMarker(CowMergeCtx *ctx, CowRow *row);
static void CowEmitGroups(CowMergeCtx *ctx, CowRow **rows, int64 n,
						  int64 first_group_id);
static void CowIndexVersion(CowMergeCtx *ctx, CowRow **rows, int64 n,
							const CowVersion *v, const int64 *rownums);
static void CowMergeCtxPrepare(CowMergeCtx *ctx);
static void CowMergeCtxRelease(CowMergeCtx *ctx);
static void CowConcurrentUpdateError(Relation rel) pg_attribute_noreturn();
static CowRow *CowStoredRows(CowDecodedGroup *g);
static int	CowRouteRow(CowMergeCtx *ctx, CowRow *row, Datum **firsts, int *order,
						int nversions, int pos);
static void CowMergeEnd(CowMergeCtx *ctx, Snapshot snap, MemoryContext old,
						MemoryContext mcxt);
static CowVersion *CowMergeBegin(CowMergeCtx *ctx, Relation rel, Snapshot *snap,
								 int64 *storage_id, int *nversions);
static CowRow **CowLostRowKeys(CowMergeCtx *ctx, int64 storage_id, List *lost,
							   int64 *nlost);
static int	CowKeyOnlyCmp(const void *a, const void *b, void *arg);
static void CowLogBegin(CowMergeCtx *ctx, bool rewrite);
static void CowLogDelete(CowMergeCtx *ctx, CowRow *stored);
static void CowLogReplace(CowMergeCtx *ctx, CowRow *stored, CowRow *in);
static void CowLogWritten(CowMergeCtx *ctx, CowRow **rows, int64 n);
static void CowLogGroupEnd(CowMergeCtx *ctx);
static void CowCheckIdentity(CowMergeCtx *ctx, CmdType cmd);
static bool CowIsAlterTableRewrite(Relation rel);

static SortSupport
CowMakeSortSupport(Form_pg_attribute att)
{
	SortSupport ssup = palloc0(sizeof(SortSupportData));
	TypeCacheEntry *tc = lookup_type_cache(att->atttypid, TYPECACHE_LT_OPR);

	if (!OidIsValid(tc->lt_opr))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_FUNCTION),
				 errmsg("column \"%s\" has type %s, which has no default btree ordering",
						NameStr(att->attname), format_type_be(att->atttypid))));
	ssup->ssup_cxt = CurrentMemoryContext;
	ssup->ssup_collation = att->attcollation;
	ssup->ssup_nulls_first = true;
	PrepareSortSupportFromOrderingOp(tc->lt_opr, ssup);
	return ssup;
}

/*
 * CowKeyComparators returns the comparators of opts' record key (nkeys of
 * them, in CurrentMemoryContext), ordering keys as the merge does; for the
 * change feed (cow_changefeed.c), which merge-joins file groups by key.
 */
SortSupport
CowKeyComparators(TupleDesc tupdesc, const CowOptions *opts)
{
	SortSupport keys = palloc(sizeof(SortSupportData) * Max(opts->nkeys, 1));
	int			k;

	for (k = 0; k < opts->nkeys; k++)
		keys[k] = *CowMakeSortSupport(TupleDescAttr(tupdesc,
													opts->key_attnums[k] - 1));
	return keys;
}

/* CowCompareKeys compares two record keys (no NULLs) as the merge does. */
int
CowCompareKeys(SortSupport keys, int nkeys, const Datum *a, const Datum *b)
{
	int			k;

	for (k = 0; k < nkeys; k++)
	{
		int			c = ApplySortComparator(a[k], false, b[k], false, &keys[k]);

		if (c != 0)
			return c;
	}
	return 0;
}

static int
CowKeyCmp(CowMergeCtx *ctx, Datum *a, Datum *b)
{
	return CowCompareKeys(ctx->keys, ctx->opts.nkeys, a, b);
}

static int
CowRowKeyCmp(CowMergeCtx *ctx, CowRow *a, CowRow *b)
{
	int			k;

	for (k = 0; k < ctx->opts.nkeys; k++)
	{
		int			i = ctx->opts.key_attnums[k] - 1;
		bool		na,
					nb;
		Datum		va = CowRowValue(a, i, &na);
		Datum		vb = CowRowValue(b, i, &nb);
		int			c = ApplySortComparator(va, false, vb, false, &ctx->keys[k]);

		if (c != 0)
			return c;
	}
	return 0;
}

/* (key, precombine NULLS FIRST, arrival order) */
static int
CowIncomingCmp(const void *a, const void *b, void *arg)
{
	CowMergeCtx *ctx = arg;
	CowRow	   *ra = *(CowRow *const *) a;
	CowRow	   *rb = *(CowRow *const *) b;
	int			c = CowRowKeyCmp(ctx, ra, rb);

	if (c != 0)
		return c;
	if (ctx->precombine)
	{
		int			p = ctx->opts.precombine_attnum - 1;
		bool		na,
					nb;
		Datum		va = CowRowValue(ra, p, &na);
		Datum		vb = CowRowValue(rb, p, &nb);

		c = ApplySortComparator(va, na, vb, nb, ctx->precombine);
		if (c != 0)
			return c;
	}
	return ra->seq < rb->seq ? -1 : (ra->seq > rb->seq ? 1 : 0);
}

/*
 * Sorting incoming rows through an array of CowRow pointers compares keys
 * two pointer hops away, a cache miss per comparison on a large batch.
 * When the first key column is pass-by-value its datum is the full value,
 * so the rows are sorted as (first key datum, row) pairs: most comparisons
 * then touch only the array; equal first keys fall back to the full
 * (key, precombine, arrival) comparison, so the order is exactly
 * CowIncomingCmp's.  When that key is integer-like (CowTypeIsIntOrdered),
 * the pairs hold it as an int64 and a sort specialized for them compares
 * those inline.
 */
typedef struct CowSortItem
{
	Datum		key0;
	CowRow	   *row;
} CowSortItem;

static inline int
CowSortItemIntCmp(const CowSortItem *a, const CowSortItem *b, CowMergeCtx *ctx)
{
	int64		ka = DatumGetInt64(a->key0);
	int64		kb = DatumGetInt64(b->key0);

	if (ka != kb)
		return ka < kb ? -1 : 1;
	return CowIncomingCmp(&a->row, &b->row, ctx);
}

#define ST_SORT cow_sort_int_items
#define ST_ELEMENT_TYPE CowSortItem
#define ST_COMPARE(a, b, ctx) CowSortItemIntCmp(a, b, ctx)
#define ST_COMPARE_ARG_TYPE CowMergeCtx
#define ST_SCOPE static
#define ST_DEFINE
#include "lib/sort_template.h"

static int
CowSortItemCmp(const void *a, const void *b, void *arg)
{
	CowMergeCtx *ctx = arg;
	const CowSortItem *ia = a;
	const CowSortItem *ib = b;
	int			c = ctx->keys[0].comparator(ia->key0, ib->key0, &ctx->keys[0]);

	if (c != 0)
		return c;
	return CowIncomingCmp(&ia->row, &ib->row, arg);
}

static void
CowSortIncoming(CowMergeCtx *ctx, CowRow **rows, int64 n)
{
	int			a0 = ctx->opts.key_attnums[0] - 1;
	CowSortItem *items;
	bool		int_key;
	int64		i;

	if (n < 2)
		return;
	if (!TupleDescAttr(ctx->tupdesc, a0)->attbyval || ctx->keys[0].comparator == NULL)
	{
		qsort_arg(rows, n, sizeof(CowRow *), CowIncomingCmp, ctx);
		return;
	}
	int_key = CowTypeIsIntOrdered(TupleDescAttr(ctx->tupdesc, a0)->atttypid);
	items = palloc(sizeof(CowSortItem) * n);
	for (i = 0; i < n; i++)
	{
		bool		isnull;
		Datum		k = CowRowValue(rows[i], a0, &isnull);

		if (int_key)
			k = Int64GetDatum(CowDatumGetInt(k, TupleDescAttr(ctx->tupdesc, a0)->attlen));
		items[i].key0 = k;
		items[i].row = rows[i];
	}
	if (int_key)
		cow_sort_int_items(items, n, ctx);
	else
		qsort_arg(items, n, sizeof(CowSortItem), CowSortItemCmp, ctx);
	for (i = 0; i < n; i++)
		rows[i] = items[i].row;
	pfree(items);
}

static bool
CowIncomingWins(CowMergeCtx *ctx, CowRow *in, CowRow *stored)
{
	int			p;
	bool		ni,
				ns;
	Datum		vi,
				vs;

	if (ctx->precombine == NULL)
		return true;
	p = ctx->opts.precombine_attnum - 1;
	vi = CowRowValue(in, p, &ni);
	vs = CowRowValue(stored, p, &ns);
	return ApplySortComparator(vi, ni, vs, ns, ctx->precombine) >= 0;
}

static bool
CowIsDeleteMarker(CowMergeCtx *ctx, CowRow *row)
{
	int			m = ctx->opts.delete_marker_attnum - 1;
	bool		isnull;
	Datum		v;

	if (m < 0)
		return false;
	v = CowRowValue(row, m, &isnull);
	return !isnull && DatumGetBool(v);
}

/*
 * CowMergeCtxPrepare sets up comparators and index insertion for ctx
 * (rel, tupdesc and opts filled in), and the writer's context unless the
 * caller gave one.
 */
static void
CowMergeCtxPrepare(CowMergeCtx *ctx)
{
	if (ctx->write_cxt == NULL)
		ctx->write_cxt = CowGroupContextCreate(CurrentMemoryContext,
											   "incetl cow write group",
											   COW_MERGE_CONTEXT_BLOCK);
	if (ctx->opts.nkeys > 0)
		ctx->keys = CowKeyComparators(ctx->tupdesc, &ctx->opts);
	if (ctx->opts.precombine_attnum != InvalidAttrNumber)
		ctx->precombine = CowMakeSortSupport(TupleDescAttr(ctx->tupdesc,
														   ctx->opts.precombine_attnum - 1));

	/* indexes: the AM maintains them for every new version */
	if (RelationGetForm(ctx->rel)->relhasindex)
	{
		ctx->estate = CreateExecutorState();
		ctx->indexinfo = makeNode(ResultRelInfo);
		InitResultRelInfo(ctx->indexinfo, ctx->rel, 1, NULL, 0);
		ExecOpenIndices(ctx->indexinfo, false);
		if (ctx->indexinfo->ri_NumIndices == 0)
			ctx->indexinfo = NULL;
		for (int i = 0; ctx->indexinfo && i < ctx->indexinfo->ri_NumIndices; i++)
			ctx->collect_written |=
				CowIndexNeedsCheck(ctx->indexinfo->ri_IndexRelationDescs[i],
								   ctx->indexinfo->ri_IndexRelationInfo[i],
								   &ctx->opts);
		ctx->islot = MakeSingleTupleTableSlot(ctx->tupdesc, &TTSOpsVirtual);
	}
}

static void
CowMergeCtxRelease(CowMergeCtx *ctx)
{
	CowWriteCheckEnd(ctx->check);
	ctx->check = NULL;
	if (ctx->indexinfo)
		ExecCloseIndices(ctx->indexinfo);
	if (ctx->islot)
		ExecDropSingleTupleTableSlot(ctx->islot);
	if (ctx->estate)
		FreeExecutorState(ctx->estate);
}

static void
CowConcurrentUpdateError(Relation rel)
{
	ereport(ERROR,
			(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
			 errmsg("could not serialize access due to concurrent update of \"%s\"",
					RelationGetRelationName(rel)),
			 errdetail("A row deleted or updated by this statement was changed by a concurrent transaction."),
			 errhint("The transaction might succeed if retried.")));
}

static int
CowKeyOnlyCmp(const void *a, const void *b, void *arg)
{
	return CowRowKeyCmp((CowMergeCtx *) arg, *(CowRow *const *) a,
						*(CowRow *const *) b);
}

/*
 * CowRowBeyondEnd: does row's record key (opts' key) sort after every row
 * of rel's current file group versions, or has rel none?  Then rows of a
 * statement in ascending key order that starts with it only append new
 * file groups, and can be merged a group's worth at a time.  Read under a
 * fresh latest snapshot, without a lock against writers: a concurrent
 * write may make it stale, which only costs the merge a rewrite.
 */
bool
CowRowBeyondEnd(Relation rel, const CowOptions *opts, CowRow *row)
{
	MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext,
											  "incetl cow key check",
											  ALLOCSET_SMALL_SIZES);
	MemoryContext old = MemoryContextSwitchTo(cxt);
	Snapshot	snap = RegisterSnapshot(GetLatestSnapshot());
	int			n;
	CowVersion *versions = CowLoadVersions(CowStorageId(rel), snap, true, &n);
	SortSupport *keys = palloc(sizeof(SortSupport) * Max(opts->nkeys, 1));
	Datum	   *first = palloc(sizeof(Datum) * Max(opts->nkeys, 1));
	Datum	   *last = palloc(sizeof(Datum) * Max(opts->nkeys, 1));
	bool		beyond = (opts->nkeys > 0);
	int			i,
				k;

	for (k = 0; k < opts->nkeys; k++)
		keys[k] = CowMakeSortSupport(TupleDescAttr(RelationGetDescr(rel),
												   opts->key_attnums[k] - 1));
	for (i = 0; i < n && beyond; i++)
	{
		CowGroupHeader *h = CowReadGroupHeader(rel, &versions[i]);
		int			c = 0;

		if ((int) h->nkeys != opts->nkeys)
		{
			beyond = false;		/* the merge will report it */
			break;
		}
		CowGroupKeyBounds(h, first, last);
		pfree(h);
		for (k = 0; k < opts->nkeys && c == 0; k++)
		{
			bool		isnull;

			c = ApplySortComparator(CowRowValue(row, opts->key_attnums[k] - 1, &isnull),
									false, last[k], false, keys[k]);
		}
		beyond = (c > 0);
	}
	UnregisterSnapshot(snap);
	MemoryContextSwitchTo(old);
	MemoryContextDelete(cxt);
	return beyond;
}

/*
 * A load appending new keys, written a group at a time as its rows come
 * (cow_write_state.c, CowAppender): the rows of a group are handed to a
 * CowGroupWriter block by block and never held together, and each group
 * written is a part of the statement, as a part merged early would be.
 * CowAppendBegin decides whether a statement may do that: its first row
 * (its keys ascend from there) must sort after every current version's
 * last key -- checked under the writers' lock, taken here and held to the
 * end of the transaction, so no concurrent writer can put a key in the way
 * -- and nothing else may need the rows themselves: no index (entries at
 * the rows' places), no logical decoding of the table (their changes
 * logged), no AFTER ROW triggers (their images), no ALTER TABLE rewrite.
 * On true *opts holds the options the groups are written under (loaded
 * under the lock) and the statement has its commit id.
 */
bool
CowAppendBegin(Relation rel, CowPending *pending, CowRow *first,
			   CowOptions *opts)
{
	MemoryContext cxt;
	MemoryContext old;
	Snapshot	snap;
	int			n;
	CowVersion *versions;
	SortSupport keys;
	Datum	   *lo;
	Datum	   *hi;
	Datum		key[INDEX_MAX_KEYS];
	bool		ok = true;
	int			i,
				k;

	if (pending->opts.nkeys == 0 || RelationGetForm(rel)->relhasindex ||
		RelationIsLogicallyLogged(rel) || CowKeepsRowImages(rel) ||
		CowIsAlterTableRewrite(rel))
		return false;
	CowLockWriters(rel);
	CowAdoptResetStorage(rel);	/* an unlogged table after a crash */
	cxt = AllocSetContextCreate(CurrentMemoryContext, "incetl cow append check",
								ALLOCSET_SMALL_SIZES);
	old = MemoryContextSwitchTo(cxt);
	snap = RegisterSnapshot(GetLatestSnapshot());
	CowLoadOptions(rel, snap, opts);
	if (opts->nkeys != pending->opts.nkeys ||
		memcmp(opts->key_attnums, pending->opts.key_attnums,
			   sizeof(AttrNumber) * opts->nkeys) != 0)
		ok = false;
	versions = CowLoadVersions(CowStorageId(rel), snap, true, &n);

	/* as a merge would: a concurrent write our snapshot missed fails */
	if (ok && IsolationUsesXactSnapshot())
	{
		int			nmine;
		CowVersion *mine = CowLoadVersions(CowStorageId(rel),
										   GetTransactionSnapshot(), true,
										   &nmine);

		ok = (nmine == n);
		for (i = 0; ok && i < n; i++)
			ok = (mine[i].file_group_id == versions[i].file_group_id &&
				  mine[i].commit_id == versions[i].commit_id);
	}
	if (ok)
	{
		keys = CowKeyComparators(RelationGetDescr(rel), opts);
		lo = palloc(sizeof(Datum) * opts->nkeys);
		hi = palloc(sizeof(Datum) * opts->nkeys);
		for (k = 0; k < opts->nkeys; k++)
		{
			bool		isnull;

			key[k] = CowRowValue(first, opts->key_attnums[k] - 1, &isnull);
		}
		for (i = 0; i < n && ok; i++)
		{
			CowGroupHeader *h = CowReadGroupHeader(rel, &versions[i]);

			if ((int) h->nkeys != opts->nkeys)
				ok = false;		/* the merge reports it */
			else
			{
				CowGroupKeyBounds(h, lo, hi);
				ok = CowCompareKeys(keys, opts->nkeys, key, hi) > 0;
			}
			pfree(h);
		}
	}
	UnregisterSnapshot(snap);
	MemoryContextSwitchTo(old);
	if (ok)
	{
		/* the options outlive the check's context */
		AttrNumber *attnums = palloc(sizeof(AttrNumber) * Max(opts->nkeys, 1));

		memcpy(attnums, opts->key_attnums, sizeof(AttrNumber) * opts->nkeys);
		opts->key_attnums = attnums;
		if (pending->stmt_commit_id == 0)
			pending->stmt_commit_id = CowNextCommitId(rel);
	}
	MemoryContextDelete(cxt);
	return ok;
}

/*
 * CowAppendWriteGroup writes the group w holds (its rows all new keys of
 * the statement's INSERT, beyond every stored key: CowAppendBegin) as a new
 * version, a part of the statement: its counts go to pending->stmt_parts
 * for the commit row the statement's final merge writes.  What it needs
 * meanwhile -- the map of the pages in use, which grows with the table --
 * lives in a context of its own, deleted before it returns: a load writes
 * a group every file_group_rows rows, and the statement's context would
 * otherwise keep every group's map to its end.
 */
void
CowAppendWriteGroup(Relation rel, CowPending *pending, CowGroupWriter *w)
{
	MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext,
											  "incetl cow append write",
											  ALLOCSET_DEFAULT_SIZES);
	MemoryContext old = MemoryContextSwitchTo(cxt);
	int64		storage_id = CowStorageId(rel);
	int64		nrows = CowGroupWriterRows(w);
	CowVersion	v;
	CowPartCounts *part;

	CowSetFreeSpace(rel, CowLoadUsedMap(storage_id));
	CowGroupWriterEnd(w, rel, CowNextFileGroupId(rel), &v);
	CowInsertVersion(storage_id, &v);
	CowClearFreeSpace();

	part = MemoryContextAllocZero(GetMemoryChunkContext(pending),
								  sizeof(CowPartCounts));
	part->subid = GetCurrentSubTransactionId();
	part->inserted = nrows;
	part->file_groups_written = 1;
	part->bytes_written = v.bytes;
	MemoryContextSwitchTo(GetMemoryChunkContext(pending));
	pending->stmt_parts = lappend(pending->stmt_parts, part);
	MemoryContextSwitchTo(cxt);
	CowRecordCounts(RelationGetRelid(rel), nrows, 0, 0, pending->stmt_commit_id);
	CommandCounterIncrement();
	MemoryContextSwitchTo(old);
	MemoryContextDelete(cxt);
}

/*
 * CowMergeBegin prepares ctx for a merge into rel: it takes a fresh latest
 * snapshot (returned registered in *snap; the caller holds the writer
 * lock, so it sees every committed version), loads the table's options
 * under it and returns the current file group versions.
 */
static CowVersion *
CowMergeBegin(CowMergeCtx *ctx, Relation rel, Snapshot *snap,
			  int64 *storage_id, int *nversions)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->rel = rel;
	ctx->tupdesc = RelationGetDescr(rel);
	CowAdoptResetStorage(rel);	/* an unlogged table after a crash */
	*snap = RegisterSnapshot(GetLatestSnapshot());
	CowLoadOptions(rel, *snap, &ctx->opts);
	*storage_id = CowStorageId(rel);
	return CowLoadVersions(*storage_id, *snap, true, nversions);
}

/*
 * CowMergeEnd undoes CowMergeBegin and CowMergeCtxPrepare once a merge or
 * rewrite has written its versions: frees everything in mcxt (returning to
 * old) and makes the switch visible to later flushes and statements of
 * this transaction.
 */
static void
CowMergeEnd(CowMergeCtx *ctx, Snapshot snap, MemoryContext old,
			MemoryContext mcxt)
{
	CowClearFreeSpace();
	CowMergeCtxRelease(ctx);
	UnregisterSnapshot(snap);
	MemoryContextSwitchTo(old);
	MemoryContextDelete(mcxt);
	CommandCounterIncrement();
}

/*
 * CowRouteRow finds the file group version whose key range takes row: the
 * last one, in first-key order (order[]), whose first key is <= the row's
 * key.  Rows come in key order, so the search starts at the position the
 * previous row got (pos) and only moves forward.  Returns the position.
 */
static int
CowRouteRow(CowMergeCtx *ctx, CowRow *row, Datum **firsts, int *order,
			int nversions, int pos)
{
	Datum		key[INDEX_MAX_KEYS];

	for (int k = 0; k < ctx->opts.nkeys; k++)
	{
		bool		isnull;

		key[k] = CowRowValue(row, ctx->opts.key_attnums[k] - 1, &isnull);
	}
	while (pos + 1 < nversions &&
		   CowKeyCmp(ctx, firsts[order[pos + 1]], key) <= 0)
		pos++;
	return pos;
}

/*
 * CowStoredRows makes a CowRow for every row of a decoded file group: a
 * reference to the row in the group (whose memory must outlive them), with
 * its commit id; rownum and seq are zero.  The values are not copied: the
 * writer reads them column by column from the group.
 */
static CowRow *
CowStoredRows(CowDecodedGroup *g)
{
	int64		n = g->nrows;
	CowRow	   *rows = palloc0(sizeof(CowRow) * Max(n, 1));
	int64		r;

	for (r = 0; r < n; r++)
	{
		rows[r].src = g;
		rows[r].src_row = r;
		rows[r].commit_id = g->commit_ids[r];
	}
	return rows;
}

/*
 * CowLostRowKeys reads, from the versions our statement saw (still on
 * disk: our snapshot holds back their reuse), the key and commit id of
 * each lost row.  Returns them sorted by key.
 */
static CowRow **
CowLostRowKeys(CowMergeCtx *ctx, int64 storage_id, List *lost, int64 *nlost)
{
	int			nall;
	CowVersion *all = CowLoadVersions(storage_id, SnapshotAny, false, &nall);
	CowRowIndex *ix = CowRowIndexBuild(ctx->rel, all, nall);
	Bitmapset  *keycols = NULL;
	CowRow	  **result = palloc(sizeof(CowRow *) * list_length(lost));
	CowDecodedGroup *g = NULL;
	int			natts = ctx->tupdesc->natts;
	int			k;
	ListCell   *lc;
	int64		n = 0;

	for (k = 0; k < ctx->opts.nkeys; k++)
		keycols = bms_add_member(keycols, ctx->opts.key_attnums[k] - 1);
	foreach(lc, lost)
	{
		int64		rn = *(int64 *) lfirst(lc);
		int64		off;
		int			vi = CowRowIndexFind(ix, rn, &off);
		CowRow	   *row;

		if (vi < 0)
			CowConcurrentUpdateError(ctx->rel);
		if (g == NULL || g->version.first_row_number != all[vi].first_row_number ||
			g->version.commit_id != all[vi].commit_id)
			g = CowDecodeGroup(ctx->rel, &all[vi], false, keycols, true);
		row = palloc0(sizeof(CowRow));
		row->values = palloc0(sizeof(Datum) * natts);
		row->isnull = palloc0(sizeof(bool) * natts);
		for (k = 0; k < ctx->opts.nkeys; k++)
		{
			int			a = ctx->opts.key_attnums[k] - 1;

			row->values[a] = g->values[a][off];
		}
		row->commit_id = g->commit_ids[off];
		row->rownum = rn;
		result[n++] = row;
	}
	if (n > 1)
		qsort_arg(result, n, sizeof(CowRow *), CowKeyOnlyCmp, ctx);
	*nlost = n;
	return result;
}

/*
 * The table as it was before the statement, for the counts of a statement
 * merged in parts.  Each part counts its rows against the table as the
 * earlier parts left it; where a later part changes a key an earlier one
 * wrote or deleted (the key order broke after some parts were merged), the
 * counts must still compare with the table before the statement: a key an
 * earlier part inserted and a later delete marker removes was neither
 * inserted nor deleted; a key that existed before and that an earlier part
 * deleted, brought back later, was updated.  Whether a key existed is
 * looked up in the versions current before the statement -- those written
 * by an earlier commit and not superseded, or superseded by this one --
 * decoding only the key columns of one group at a time (keys come in
 * order).  Only such keys are looked up, so the common statement pays
 * nothing.
 */
typedef struct CowBeforeState
{
	bool		loaded;
	int			n;
	CowVersion *versions;		/* current before the statement */
	Datum	  **firsts;
	Datum	  **lasts;
	int			cur;			/* decoded version, or -1 */
	CowDecodedGroup *g;
	MemoryContext cxt;			/* of g */
} CowBeforeState;

static bool
CowKeyBeforeStatement(CowMergeCtx *ctx, CowBeforeState *st, int64 storage_id,
					  Snapshot snap, CowRow *row)
{
	Datum		key[INDEX_MAX_KEYS];
	int			i;

	for (int k = 0; k < ctx->opts.nkeys; k++)
	{
		bool		isnull;

		key[k] = CowRowValue(row, ctx->opts.key_attnums[k] - 1, &isnull);
	}
	if (!st->loaded)
	{
		int			nall;
		CowVersion *all = CowLoadVersions(storage_id, snap, false, &nall);

		st->versions = palloc(sizeof(CowVersion) * Max(nall, 1));
		st->firsts = palloc(sizeof(Datum *) * Max(nall, 1));
		st->lasts = palloc(sizeof(Datum *) * Max(nall, 1));
		for (i = 0; i < nall; i++)
		{
			CowGroupHeader *h;

			if (all[i].commit_id >= ctx->commit_id ||
				(all[i].superseded_by != 0 &&
				 all[i].superseded_by != ctx->commit_id))
				continue;
			h = CowReadGroupHeader(ctx->rel, &all[i]);
			if ((int) h->nkeys != ctx->opts.nkeys)
			{
				pfree(h);
				continue;		/* the merge refuses such a table */
			}
			st->versions[st->n] = all[i];
			st->firsts[st->n] = palloc(sizeof(Datum) * ctx->opts.nkeys);
			st->lasts[st->n] = palloc(sizeof(Datum) * ctx->opts.nkeys);
			CowGroupKeyBounds(h, st->firsts[st->n], st->lasts[st->n]);
			pfree(h);
			st->n++;
		}
		st->cur = -1;
		st->cxt = AllocSetContextCreate(CurrentMemoryContext,
										"incetl cow keys before statement",
										ALLOCSET_DEFAULT_SIZES);
		st->loaded = true;
	}
	for (i = 0; i < st->n; i++)
	{
		int64		lo,
					hi;

		if (CowKeyCmp(ctx, key, st->firsts[i]) < 0 ||
			CowKeyCmp(ctx, key, st->lasts[i]) > 0)
			continue;
		if (st->cur != i)
		{
			Bitmapset  *keycols = NULL;
			MemoryContext old;

			MemoryContextReset(st->cxt);
			old = MemoryContextSwitchTo(st->cxt);
			for (int k = 0; k < ctx->opts.nkeys; k++)
				keycols = bms_add_member(keycols, ctx->opts.key_attnums[k] - 1);
			st->g = CowDecodeGroup(ctx->rel, &st->versions[i], false, keycols, false);
			MemoryContextSwitchTo(old);
			st->cur = i;
		}
		/* a group's rows are in key order */
		lo = 0;
		hi = (int64) st->g->nrows - 1;
		while (lo <= hi)
		{
			int64		mid = lo + (hi - lo) / 2;
			Datum		stored[INDEX_MAX_KEYS];
			int			c;

			for (int k = 0; k < ctx->opts.nkeys; k++)
				stored[k] = st->g->values[ctx->opts.key_attnums[k] - 1][mid];
			c = CowKeyCmp(ctx, stored, key);
			if (c == 0)
				return true;
			if (c < 0)
				lo = mid + 1;
			else
				hi = mid - 1;
		}
	}
	return false;
}

/*
 * CowCountNewKey counts an incoming row stored under a key the table does
 * not hold: inserted (or updated, for an UPDATE's row) -- unless an earlier
 * part of the statement deleted that key (a delete marker was among its
 * older rows) and it existed before the statement: then it was updated.
 */
static void
CowCountNewKey(CowMergeCtx *ctx, CowBeforeState *before, int64 storage_id,
			   Snapshot snap, bool earlier_parts, CowRow *in)
{
	if (!in->is_update && earlier_parts && in->after_marker &&
		CowKeyBeforeStatement(ctx, before, storage_id, snap, in))
	{
		ctx->deleted--;
		ctx->updated++;
		in->new_key = false;
		return;
	}
	if (in->is_update)
		ctx->updated++;
	else
		ctx->inserted++;
	in->new_key = !in->is_update;
}

/*
 * CowIndexVersion inserts index entries for the rows of a new version that
 * have fresh row numbers (rownums[r] is row r's): new and changed rows.  A
 * stored row carried with its row number keeps its entries, which now find
 * it in the new version too.  The executor's own entries point at pending
 * TIDs that match no version.  Each entry is inserted with the "logically unchanged" hint of a non-HOT
 * UPDATE: next to it are the entries of the row's older versions (a stored
 * row carried or replaced) or its pending TID, and the hint lets btree
 * delete those that no snapshot can use any more (bottom-up deletion,
 * cow_index_delete_tuples) before it splits a page, so the index does not
 * grow by a copy of the rewritten groups at every write between VACUUMs.
 * No uniqueness is checked here: a stored row carried into the new version
 * under a new number (older formats) meets its own entry of the old one,
 * and the rows replaced are still in the index.  The incoming rows written (not those merely carried) are
 * recorded for the check made once the merge is done (cow_unique.c).
 */
static void
CowIndexVersion(CowMergeCtx *ctx, CowRow **rows, int64 n, const CowVersion *v,
				const int64 *rownums)
{
	ResultRelInfo *rri = ctx->indexinfo;
	ExprContext *econtext;
	int64		r;
	int			natts = ctx->tupdesc->natts;

	if (rri == NULL)
		return;
	econtext = GetPerTupleExprContext(ctx->estate);
	econtext->ecxt_scantuple = ctx->islot;
	for (r = 0; r < n; r++)
	{
		/* a row carried with its row number keeps its entries */
		if (rownums[r] != v->first_row_number + r)
			continue;
		ExecClearTuple(ctx->islot);
		for (int a = 0; a < natts; a++)
			ctx->islot->tts_values[a] = CowRowValue(rows[r], a,
													&ctx->islot->tts_isnull[a]);
		ExecStoreVirtualTuple(ctx->islot);
		ctx->islot->tts_tableOid = RelationGetRelid(ctx->rel);
		CowRowNumberToTid(rownums[r], &ctx->islot->tts_tid);
		for (int i = 0; i < rri->ri_NumIndices; i++)
		{
			IndexInfo  *ii = rri->ri_IndexRelationInfo[i];
			Datum		values[INDEX_MAX_KEYS];
			bool		isnull[INDEX_MAX_KEYS];

			if (!ii->ii_ReadyForInserts)
				continue;
			if (ii->ii_Predicate != NIL)
			{
				if (ii->ii_PredicateState == NULL)
					ii->ii_PredicateState = ExecPrepareQual(ii->ii_Predicate,
															ctx->estate);
				if (!ExecQual(ii->ii_PredicateState, econtext))
					continue;
			}
			FormIndexDatum(ii, ctx->islot, ctx->estate, values, isnull);
			index_insert(rri->ri_IndexRelationDescs[i], values, isnull,
						 &ctx->islot->tts_tid, ctx->rel, UNIQUE_CHECK_NO,
						 true, ii);
		}
		if (ctx->collect_written && rows[r]->src == NULL)
		{
			if (ctx->nwritten >= ctx->written_cap)
			{
				ctx->written_cap = Max(ctx->written_cap * 2, 1024);
				ctx->written = ctx->written ?
					repalloc_huge(ctx->written, sizeof(int64) * ctx->written_cap) :
					MemoryContextAllocHuge(ctx->written_cxt,
										   sizeof(int64) * ctx->written_cap);
			}
			ctx->written[ctx->nwritten++] = rownums[r];
		}
		ResetPerTupleExprContext(ctx->estate);
	}
}

/*
 * Logical decoding.  A merge of a table logical decoding sees logs the
 * rows it changes as it decides them (cow_logical.c): a stored row deleted
 * (by row number, by key for a row a concurrent writer moved, by a delete
 * marker) is a delete; a stored row an incoming row replaces, an update;
 * an incoming row written under a key not stored, an insert -- logged when
 * it is written (CowEmitGroups), since rows of a part merged early may go
 * back to the statement's buffer unwritten (CowOutCarry) -- or, when the
 * statement (an UPDATE) deleted the stored row of its key by row number,
 * an update of that row, so that a subscriber never holds the key twice.
 * A rewrite (a new record key) logs the rows it collapses as deletes and
 * nothing else: the other rows are unchanged.
 */
static void
CowLogBegin(CowMergeCtx *ctx, bool rewrite)
{
	int			natts = Max(ctx->tupdesc->natts, 1);

	ctx->log = CowLogicalBegin(ctx->rel);
	if (ctx->log == NULL)
		return;
	ctx->log_rewrite = rewrite;
	for (int i = 0; i < 2; i++)
	{
		ctx->log_values[i] = palloc(sizeof(Datum) * natts);
		ctx->log_nulls[i] = palloc(sizeof(bool) * natts);
	}
}

/* CowLogRowValues: the values of row, every column, into set i */
static void
CowLogRowValues(CowMergeCtx *ctx, CowRow *row, int i)
{
	for (int a = 0; a < ctx->tupdesc->natts; a++)
		ctx->log_values[i][a] = CowRowValue(row, a, &ctx->log_nulls[i][a]);
}

static void
CowLogDelete(CowMergeCtx *ctx, CowRow *stored)
{
	if (ctx->log == NULL)
		return;
	CowLogRowValues(ctx, stored, 0);
	CowLogicalDelete(ctx->log, ctx->log_values[0], ctx->log_nulls[0]);
}

static void
CowLogReplace(CowMergeCtx *ctx, CowRow *stored, CowRow *in)
{
	if (ctx->log == NULL)
		return;
	CowLogRowValues(ctx, stored, 0);
	CowLogRowValues(ctx, in, 1);
	CowLogicalUpdate(ctx->log, ctx->log_values[0], ctx->log_nulls[0],
					 ctx->log_values[1], ctx->log_nulls[1]);
	in->logged = true;
}

/*
 * CowLogWritten logs the incoming rows among the n rows being written that
 * are not logged yet: inserts, or updates of the stored row of their key
 * the statement deleted by row number (rn_deleted holds those of the group
 * being merged, and only a keyed merge fills it).
 */
static void
CowLogWritten(CowMergeCtx *ctx, CowRow **rows, int64 n)
{
	if (ctx->log == NULL || ctx->log_rewrite)
		return;
	for (int64 r = 0; r < n; r++)
	{
		CowRow	   *row = rows[r];
		CowRow	   *old = NULL;

		if (row->src != NULL || row->logged)
			continue;
		/* both come in key order: the rows deleted are walked once */
		while (ctx->rn_pos < list_length(ctx->rn_deleted))
		{
			CowRow	   *del = list_nth(ctx->rn_deleted, ctx->rn_pos);
			int			c = CowRowKeyCmp(ctx, del, row);

			if (c > 0)
				break;
			ctx->rn_pos++;
			if (c == 0)
			{
				old = del;
				list_nth_cell(ctx->rn_deleted, ctx->rn_pos - 1)->ptr_value = NULL;
				break;
			}
		}
		CowLogRowValues(ctx, row, 1);
		if (old != NULL)
		{
			CowLogRowValues(ctx, old, 0);
			CowLogicalUpdate(ctx->log, ctx->log_values[0], ctx->log_nulls[0],
							 ctx->log_values[1], ctx->log_nulls[1]);
		}
		else
			CowLogicalInsert(ctx->log, ctx->log_values[1], ctx->log_nulls[1]);
		row->logged = true;
	}
}

/*
 * CowLogGroupEnd logs as deletes the stored rows of the group just merged
 * that the statement deleted by row number and no new row of their key
 * replaced (a DELETE, an UPDATE that changed the key), before the group's
 * memory goes.
 */
static void
CowLogGroupEnd(CowMergeCtx *ctx)
{
	ListCell   *lc;

	foreach(lc, ctx->rn_deleted)
	{
		if (lfirst(lc) != NULL)
			CowLogDelete(ctx, lfirst(lc));
	}
	list_free(ctx->rn_deleted);
	ctx->rn_deleted = NIL;
	ctx->rn_pos = 0;
}

/*
 * CowCheckIdentity: a merge replaces (CMD_UPDATE) or deletes (CMD_DELETE)
 * stored rows -- an upsert, a delete marker -- which a table published
 * with updates or deletes allows only with a replica identity, as heap
 * does for UPDATE and DELETE statements (the executor checks those).
 */
static void
CowCheckIdentity(CowMergeCtx *ctx, CmdType cmd)
{
	int			i = (cmd == CMD_UPDATE) ? 0 : 1;

	if (ctx->identity_checked[i])
		return;
	CheckCmdReplicaIdentity(ctx->rel, cmd);
	ctx->identity_checked[i] = true;
}

/*
 * CowEmitGroups writes rows as one or more new versions of at most
 * file_group_rows rows each.  The first keeps first_group_id (0: new id).
 */
static void
CowEmitGroups(CowMergeCtx *ctx, CowRow **rows, int64 n, int64 first_group_id)
{
	int64		fgr = Max(ctx->opts.file_group_rows, 1);
	int64		k = (n + fgr - 1) / fgr;
	int64		per,
				start;
	int64		g;

	if (n == 0)
		return;
	CowLogWritten(ctx, rows, n);
	per = (n + k - 1) / k;
	for (g = 0, start = 0; start < n; g++, start += per)
	{
		int64		cnt = Min(per, n - start);
		int64		fgid = (g == 0 && first_group_id != 0) ?
			first_group_id : CowNextFileGroupId(ctx->rel);
		CowVersion	v;
		MemoryContext old = MemoryContextSwitchTo(ctx->write_cxt);
		int64	   *rownums = palloc(sizeof(int64) * cnt);

		/*
		 * Carried rows keep their row numbers so that their index entries
		 * stay valid; a table without indexes has none to keep, and its
		 * rows take fresh ones, without the map's cost.
		 */
		CowWriteGroup(ctx->rel, ctx->tupdesc, &ctx->opts, rows + start, cnt,
					  fgid, ctx->commit_id, ctx->indexinfo != NULL, rownums,
					  &v);
		CowInsertVersion(CowStorageId(ctx->rel), &v);
		CowIndexVersion(ctx, rows + start, cnt, &v, rownums);
		CowNoteRowsMoved(ctx->rel, rows + start, cnt, rownums,
						 v.first_row_number);
		MemoryContextSwitchTo(old);
		MemoryContextReset(ctx->write_cxt);
		ctx->groups_written++;
		ctx->rows_written += cnt;
		ctx->bytes_written += v.bytes;
	}
}

/*
 * The incoming rows of a keyed merge, in key order, one winner per key:
 * either an array already sorted and collapsed (rows buffered in memory),
 * or the spill sort, read a row at a time and collapsed here (the last row
 * of each key is the winner: the sort orders a key's rows by precombine
 * NULLS FIRST, then arrival).
 */
typedef struct CowWinners
{
	CowRow	  **rows;			/* in memory */
	int64		n;
	int64		pos;
	CowSpill   *spill;			/* or spilled */
	MemoryContext cxt;			/* where spilled rows are read into */
	CowRow	   *next;			/* spilled: first row of the next key */
	bool		done;
	bool		has_update;		/* some spilled row came from an UPDATE */
} CowWinners;

/* CowWinnersInit: winners from spill (or, NULL, from an array set later) */
static void
CowWinnersInit(CowWinners *w, CowSpill *spill, MemoryContext mcxt)
{
	memset(w, 0, sizeof(*w));
	if (spill != NULL)
	{
		w->spill = spill;
		w->cxt = AllocSetContextCreate(mcxt, "incetl cow spilled rows",
									   ALLOCSET_DEFAULT_SIZES);
	}
}

static CowRow *
CowSpillRead(CowWinners *w)
{
	CowRow	   *row = w->done ? NULL : CowSpillNext(w->spill, w->cxt);

	if (row == NULL)
		w->done = true;
	else
		w->has_update |= row->is_update;
	return row;
}

static CowRow *
CowNextWinner(CowMergeCtx *ctx, CowWinners *w)
{
	CowRow	   *cur;

	if (w->spill == NULL)
		return w->pos < w->n ? w->rows[w->pos++] : NULL;
	cur = w->next ? w->next : CowSpillRead(w);
	w->next = NULL;
	while (cur != NULL)
	{
		CowRow	   *nxt = CowSpillRead(w);

		if (nxt == NULL || CowRowKeyCmp(ctx, cur, nxt) != 0)
		{
			w->next = nxt;
			break;
		}
		/* an UPDATE's row stays an update even if a later row wins */
		nxt->is_update |= cur->is_update;
		nxt->after_marker |= cur->after_marker || CowIsDeleteMarker(ctx, cur);
		if (ctx->log_rewrite)
			CowLogDelete(ctx, cur);
		pfree(cur);
		cur = nxt;
	}
	return cur;
}

/* CowDropIncoming releases an incoming row that will not be stored. */
static inline void
CowDropIncoming(CowRow *row)
{
	if (row->spilled)
		pfree(row);
}

/*
 * CowRowBefore: is row's key below bound (a version's first key; NULL:
 * no bound), or equal to it when inclusive (the last key of a full last
 * version)?
 */
static bool
CowRowBefore(CowMergeCtx *ctx, CowRow *row, Datum *bound, bool inclusive)
{
	int			c;
	Datum		key[INDEX_MAX_KEYS];

	if (bound == NULL)
		return true;
	for (int k = 0; k < ctx->opts.nkeys; k++)
	{
		bool		isnull;

		key[k] = CowRowValue(row, ctx->opts.key_attnums[k] - 1, &isnull);
	}
	c = CowKeyCmp(ctx, key, bound);
	return c < 0 || (inclusive && c == 0);
}

/*
 * The rows that replace one file group version (or start new groups),
 * written as they come: once the table is known to change, every
 * 2 x file_group_rows rows the first file_group_rows are written as a
 * version, so a merge holds at most that many rows besides the group it
 * reads; the rest is balanced over one or two versions at the end
 * (CowEmitGroups).  The first version written keeps first_group_id.
 *
 * hot_from and hot_to bound the rows waiting that changed stored rows
 * (replaced a stored row, or stand where a stored row was deleted): see
 * CowOutFinish.
 */
typedef struct CowOut
{
	CowRow	  **rows;
	int64		n;
	int64		cap;
	int64		first_group_id; /* 0: a new id */
	CowVersion *replaces;		/* superseded before the first write */
	int64		hot_from;		/* first row changed, -1: none */
	int64		hot_to;			/* after the last row changed */
	MemoryContext cxt;			/* of rows[] */
} CowOut;

static void
CowOutStart(CowOut *out, CowVersion *replaces)
{
	out->n = 0;
	out->replaces = replaces;
	out->first_group_id = replaces ? replaces->file_group_id : 0;
	out->hot_from = -1;
	out->hot_to = -1;
}

/*
 * CowOutChanged notes that the next row added (or, for a stored row
 * deleted, the place it had) changes the version being rewritten.  New
 * keys are not changes: they are where a table grows.
 */
static inline void
CowOutChanged(CowOut *out)
{
	if (out->hot_from < 0)
		out->hot_from = out->n;
	out->hot_to = out->n + 1;
}

static inline void
CowOutAdd(CowOut *out, CowRow *row)
{
	if (out->n >= out->cap)
	{
		out->cap = Max(out->cap * 2, 1024);
		out->rows = out->rows ? repalloc_huge(out->rows, sizeof(CowRow *) * out->cap) :
			MemoryContextAllocHuge(out->cxt, sizeof(CowRow *) * out->cap);
	}
	out->rows[out->n++] = row;
}

static void
CowOutWrite(CowMergeCtx *ctx, CowOut *out, int64 n)
{
	int64		r;

	if (out->replaces)
	{
		CowSupersedeVersion(out->replaces, ctx->commit_id);
		ctx->rows_superseded += out->replaces->row_count;
		ctx->groups_changed++;
		out->replaces = NULL;
	}
	CowEmitGroups(ctx, out->rows, n, out->first_group_id);
	out->first_group_id = 0;
	for (r = 0; r < n; r++)
		CowDropIncoming(out->rows[r]);
	out->n -= n;
	if (out->hot_to <= n)
		out->hot_from = out->hot_to = -1;
	else
	{
		out->hot_from = Max(out->hot_from - n, 0);
		out->hot_to -= n;
	}
	if (out->n > 0)
		memmove(out->rows, out->rows + n, sizeof(CowRow *) * out->n);
}

/* Writes file_group_rows rows while twice that many are waiting. */
static void
CowOutSpill(CowMergeCtx *ctx, CowOut *out)
{
	int64		fgr = Max(ctx->opts.file_group_rows, 1);

	while (out->n >= 2 * fgr)
		CowOutWrite(ctx, out, fgr);
}

/*
 * CowOutFinish writes the rest (and supersedes the version when nothing
 * was written).
 *
 * When the rows that changed lie together in one part of the version, at
 * least a quarter of a file group long, and a quarter of a group or more
 * of unchanged rows lies before them, or after them, those unchanged rows
 * are written as a version of their own.  Updates that keep coming to one
 * key range -- the newest orders, while they are being paid and shipped --
 * then rewrite only the version holding that range from the next commit
 * on, not the unchanged rows beside it each time (this commit writes the
 * same rows either way).  No version written this way is smaller than a
 * quarter of file_group_rows, and updates spread over a whole version
 * split nothing.
 */
static void
CowOutFinish(CowMergeCtx *ctx, CowOut *out)
{
	int64		quarter = Max(ctx->opts.file_group_rows / 4, 1);

	if (out->hot_from >= 0 && out->hot_to - out->hot_from >= quarter)
	{
		int64		after = out->n - out->hot_to;

		if (out->hot_from >= quarter)
			CowOutWrite(ctx, out, out->hot_from);
		if (after >= quarter)
			CowOutWrite(ctx, out, out->n - after);
	}
	CowOutWrite(ctx, out, out->n);
}

/*
 * CowOutCarry ends, instead, the output that took the last rows of a part
 * merged early (CowPending.carry_allowed): it writes whole file groups only
 * and hands the incoming rows left over back to pending, uncounted, for
 * the next part.  Only incoming rows of new keys can go back (the next part
 * counts them again as it does now); a stored row cannot, and neither can
 * an incoming row that replaced one.  So:
 *
 *	- when nothing would be written (the version, if any, and the incoming
 *	  rows make less than a group) and the version kept every stored row,
 *	  the version stays as it is and all the incoming rows go back;
 *	- otherwise, when the rows past the last whole group are all incoming
 *	  new keys, everything before them is written (superseding the version)
 *	  and they go back;
 *	- otherwise everything is written as usual.
 *
 * Stored and incoming rows interleave in key order: incoming keys may lie
 * below the version's stored keys, so stored rows may be among the rows
 * left over after the version was already superseded by a write.
 */
static void
CowOutCarry(CowMergeCtx *ctx, CowOut *out, CowPending *pending)
{
	int64		fgr = Max(ctx->opts.file_group_rows, 1);
	int64		keep = out->n % fgr;
	int64		nstored = 0;
	MemoryContext old;
	int64		r;

	if (out->replaces != NULL && out->n < fgr)
	{
		/* nothing to write: keep the version if it lost no row */
		for (r = 0; r < out->n; r++)
		{
			if (out->rows[r]->src != NULL)
				nstored++;
			else if (!out->rows[r]->new_key)
			{
				CowOutFinish(ctx, out);
				return;
			}
		}
		if (nstored != out->replaces->row_count)
		{
			CowOutFinish(ctx, out);
			return;
		}
	}
	else
	{
		for (r = out->n - keep; r < out->n; r++)
		{
			if (out->rows[r]->src != NULL || !out->rows[r]->new_key)
			{
				CowOutFinish(ctx, out);
				return;
			}
		}
		if (out->n > keep)
			CowOutWrite(ctx, out, out->n - keep);
	}
	old = MemoryContextSwitchTo(GetMemoryChunkContext(pending));
	for (r = 0; r < out->n; r++)
	{
		CowRow	   *row = out->rows[r];

		if (row->src != NULL)
			continue;			/* stays in its version, not rewritten */
		ctx->inserted--;
		pending->carried = lappend(pending->carried, row);
	}
	MemoryContextSwitchTo(old);
	out->n = 0;
}

/*
 * CowCountStats counts a commit's rows in the table's statistics as a user
 * sees them (pg_stat_user_tables): rows inserted, updated and deleted, so
 * n_live_tup follows the table and n_dead_tup counts the rows replaced or
 * deleted, which VACUUM reclaims (it reports none left: cow_clean.c) --
 * not the rows of every file group version written and superseded, which
 * would count a one-row insert into a group of many as that many rows
 * inserted and deleted and send autovacuum after tables with nothing to
 * reclaim.
 */
static void
CowCountStats(Relation rel, int64 inserted, int64 updated, int64 deleted)
{
	int64		r;

	pgstat_count_heap_insert(rel, inserted);
	for (r = 0; r < updated; r++)
		pgstat_count_heap_update(rel, false);
	for (r = 0; r < deleted; r++)
		pgstat_count_heap_delete(rel);
}

/*
 * CowIsAlterTableRewrite: is rel the transient table an ALTER TABLE
 * rewrite of an incetl_cow table writes (VACUUM FULL does not merge; a
 * table converted from another access method starts its timeline)?
 */
static bool
CowIsAlterTableRewrite(Relation rel)
{
	Oid			source = CowRewriteSourceRelid(rel);
	Relation	src;
	bool		result;

	if (source == RelationGetRelid(rel))
		return false;
	/* ALTER TABLE holds AccessExclusiveLock on it */
	src = relation_open(source, NoLock);
	result = CowIsCowRelation(src);
	relation_close(src, NoLock);
	return result;
}

/*
 * CowMergeAndWrite applies one relation's pending rows and deletes: the
 * rows buffered in memory, or -- when the statement outgrew its memory --
 * every row of it, read back sorted from spill (NULL: none).  Unless
 * final, this is a part of a statement still running: its counts are kept
 * in pending for the commit row the final merge writes.
 */
void
CowMergeAndWrite(Relation rel, CowPending *pending, CowSpill *spill, bool final)
{
	MemoryContext mcxt = AllocSetContextCreate(CurrentMemoryContext,
											   "incetl cow merge",
											   ALLOCSET_DEFAULT_SIZES);
	MemoryContext gcxt;
	MemoryContext old = MemoryContextSwitchTo(mcxt);
	CowMergeCtx ctx;
	Snapshot	snap;
	int64		storage_id;
	int			nversions,
				i;
	CowVersion *versions;
	int64		nin = list_length(pending->rows);
	CowRow	  **incoming = palloc(sizeof(CowRow *) * Max(nin, 1));
	bool		carry = (!final && pending->carry_allowed && spill == NULL);
	CowDeleteSet *dels = pending->deletes;
	int64		ndel = CowDeleteSetCount(dels);
	int64		ndel_found = 0;
	bool	   *touched;
	bool		has_update = false;
	ListCell   *lc;
	int64		r;
	CowCommitInfo commit;
	List	   *lost = NIL;		/* of int64 *: deleted rows rewritten meanwhile */
	CowWinners	win;
	CowOut		out;
	bool		earlier_parts = (pending->stmt_parts != NIL);
	bool		rewrite = CowIsAlterTableRewrite(rel);
	CowBeforeState before;

	memset(&before, 0, sizeof(before));

	/*
	 * The writers' lock (the row-lock tag in ExclusiveLock): conflicts with
	 * other writers, updating row lockers and cleaning, not with readers,
	 * INSERT's RowExclusiveLock or the relation locks of VACUUM, ANALYZE
	 * and CREATE INDEX CONCURRENTLY, so taking it at statement end cannot
	 * deadlock against them.  Held to the end of the transaction so commit
	 * ids follow commit order.
	 */
	CowLockWriters(rel);

	versions = CowMergeBegin(&ctx, rel, &snap, &storage_id, &nversions);
	if (ctx.opts.nkeys > 0 && nversions > 0)
		ctx.check = CowWriteCheckBegin(rel, pending->writers,
									   ctx.opts.delete_marker_attnum != InvalidAttrNumber);

	if (IsolationUsesXactSnapshot())
	{
		int			nmine;
		CowVersion *mine = CowLoadVersions(storage_id, GetTransactionSnapshot(),
										   true, &nmine);
		bool		same = (nmine == nversions);

		for (i = 0; same && i < nversions; i++)
			same = (mine[i].file_group_id == versions[i].file_group_id &&
					mine[i].commit_id == versions[i].commit_id);
		if (!same)
			ereport(ERROR,
					(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
					 errmsg("could not serialize access due to concurrent write to \"%s\"",
							RelationGetRelationName(rel)),
					 errhint("The transaction might succeed if retried.")));
	}

	if (pending->stmt_commit_id == 0)
	{
		pending->stmt_commit_id = CowNextCommitId(rel);

		/*
		 * The rows of an ALTER TABLE rewrite all get its commit id and the
		 * versions before it are not carried over: as_of() of the commits
		 * before it fails as no longer retained, and their savepoints go.
		 */
		if (rewrite)
		{
			CowAdvanceCleanHorizon(rel, pending->stmt_commit_id);
			CowDropSavepointsBefore(rel, storage_id, pending->stmt_commit_id);
		}
	}
	ctx.commit_id = pending->stmt_commit_id;
	if (!rewrite)
		CowLogBegin(&ctx, false);
	CowSetFreeSpace(rel, CowLoadUsedMap(storage_id));
	for (i = 0; i < 2; i++)
	{
		if (pending->merge_cxt[i] == NULL)
			pending->merge_cxt[i] =
				CowGroupContextCreate(GetMemoryChunkContext(pending),
									  i == 0 ? "incetl cow write group" :
									  "incetl cow merge group",
									  COW_MERGE_CONTEXT_BLOCK);
		MemoryContextReset(pending->merge_cxt[i]);
	}
	ctx.write_cxt = pending->merge_cxt[0];
	gcxt = pending->merge_cxt[1];
	CowMergeCtxPrepare(&ctx);
	ctx.written_cxt = old;		/* the check runs after CowMergeEnd */

	/* incoming rows */
	r = 0;
	foreach(lc, pending->rows)
	{
		/* buffered as CowRows (cow_write_state.c); reset what a merge sets */
		CowRow	   *row = lfirst(lc);

		row->seq = r;
		row->commit_id = 0;
		row->rownum = 0;
		row->logged = false;
		has_update |= row->is_update;
		incoming[r++] = row;
	}
	/* with a spill, every row of the statement was moved to it */
	Assert(spill == NULL || nin == 0);
	CowWinnersInit(&win, spill, mcxt);
	memset(&out, 0, sizeof(out));
	out.cxt = mcxt;

	/*
	 * Which versions hold deleted rows.  A row whose version a concurrent
	 * writer replaced after our statement read it is "lost": with a record
	 * key it is deleted by key if that writer left it unchanged (its
	 * commit id is the same), otherwise it is a serialization failure.
	 */
	touched = palloc0(sizeof(bool) * Max(nversions, 1));
	if (ndel > 0)
	{
		CowDeleteSetIter it;
		int64		rownum;
		CowRowIndex *ix = CowRowIndexBuild(rel, versions, nversions);

		CowDeleteSetIterBegin(dels, &it);
		while (CowDeleteSetIterNext(&it, &rownum))
		{
			int			vi = CowRowIndexFind(ix, rownum, NULL);

			if (vi >= 0)
			{
				touched[vi] = true;
				ndel_found++;
			}
			else
			{
				int64	   *l = palloc(sizeof(int64));

				*l = rownum;
				lost = lappend(lost, l);
			}
		}
		CowDeleteSetIterEnd(&it);
		CowRowIndexFree(ix);
		if (ndel_found < ndel && ctx.opts.nkeys == 0)
			CowConcurrentUpdateError(rel);
	}

	if (ctx.opts.nkeys == 0)
	{
		/*
		 * append mode: rewrite groups that lost rows, append new rows (into
		 * the newest group while it has room, unless they were spilled)
		 */
		int			last = -1;

		for (i = 0; i < nversions; i++)
			if (last < 0 || versions[i].file_group_id > versions[last].file_group_id)
				last = i;
		if (last >= 0 && nin > 0 &&
			versions[last].row_count + nin <= ctx.opts.file_group_rows)
			touched[last] = true;
		else
			last = -1;

		for (i = 0; i < nversions; i++)
		{
			CowDecodedGroup *g;
			CowRow	   *srows;
			int64		extra = (i == last) ? nin : 0;

			if (!touched[i])
				continue;
			MemoryContextSwitchTo(gcxt);
			g = CowDecodeGroup(rel, &versions[i], true, NULL, true);
			srows = CowStoredRows(g);
			CowOutStart(&out, &versions[i]);
			for (r = 0; r < (int64) g->nrows; r++)
			{
				if (ndel > 0 &&
					CowDeleteSetContains(dels, CowGroupRowNumber(g, (uint64) r)))
				{
					ctx.deleted++;
					CowLogDelete(&ctx, &srows[r]);
					continue;
				}
				CowOutAdd(&out, &srows[r]);
			}
			for (r = 0; r < extra; r++)
				CowOutAdd(&out, incoming[r]);
			CowOutFinish(&ctx, &out);
			MemoryContextSwitchTo(mcxt);
			MemoryContextReset(gcxt);
		}
		if (last < 0)
			CowEmitGroups(&ctx, incoming, nin, 0);
		for (r = 0; r < nin; r++)
		{
			if (incoming[r]->is_update)
				ctx.updated++;
			else
				ctx.inserted++;
		}
		if (win.spill)
		{
			CowRow	   *in;

			CowOutStart(&out, NULL);
			while ((in = CowSpillRead(&win)) != NULL)
			{
				if (in->is_update)
					ctx.updated++;
				else
					ctx.inserted++;
				CowOutAdd(&out, in);
				CowOutSpill(&ctx, &out);
			}
			CowOutFinish(&ctx, &out);
		}
	}
	else
	{
		Datum	  **firsts = palloc0(sizeof(Datum *) * Max(nversions, 1));
		Datum	  **lasts = palloc0(sizeof(Datum *) * Max(nversions, 1));
		Datum	   *end = NULL;
		int		   *order = palloc(sizeof(int) * Max(nversions, 1));
		List	  **kdels = palloc0(sizeof(List *) * Max(nversions, 1));
		CowRow	   *w;
		int			o;

		/*
		 * 1. sort and collapse incoming rows -- unless they arrived in
		 * strictly ascending key order (no duplicates) under the key we
		 * merge by: then they are sorted and every row is a winner.  Spilled
		 * rows come sorted and are collapsed as they are read.
		 */
		bool		ascending = pending->keys_ascending &&
			pending->opts_loaded && pending->opts.nkeys == ctx.opts.nkeys &&
			memcmp(pending->opts.key_attnums, ctx.opts.key_attnums,
				   sizeof(AttrNumber) * ctx.opts.nkeys) == 0;

		if (nin > 1 && !ascending)
			CowSortIncoming(&ctx, incoming, nin);
		win.rows = ascending ? incoming : palloc(sizeof(CowRow *) * Max(nin, 1));
		if (ascending)
			win.n = nin;
		for (r = 0; r < nin && !ascending; r++)
		{
			if (r + 1 < nin && CowRowKeyCmp(&ctx, incoming[r], incoming[r + 1]) == 0)
			{
				/* an UPDATE's row stays an update even if a later row wins */
				incoming[r + 1]->is_update |= incoming[r]->is_update;
				continue;
			}
			win.rows[win.n++] = incoming[r];
		}

		/* 2. order current versions by their first key */
		for (i = 0; i < nversions; i++)
		{
			/*
			 * The bounds are copies: the header goes at once.  Versions this
			 * transaction wrote (the parts of a load) are not kept in the
			 * backend's cache of headers.
			 */
			CowGroupHeader *h = CowReadGroupHeaderExt(rel, &versions[i],
													  versions[i].commit_id != ctx.commit_id);

			if ((int) h->nkeys != ctx.opts.nkeys)
				ereport(ERROR,
						(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						 errmsg("file group " INT64_FORMAT " of \"%s\" was written with a different record key",
								versions[i].file_group_id, RelationGetRelationName(rel)),
						 errhint("TRUNCATE the table before changing its record key.")));
			firsts[i] = palloc(sizeof(Datum) * ctx.opts.nkeys);
			lasts[i] = palloc(sizeof(Datum) * ctx.opts.nkeys);
			CowGroupKeyBounds(h, firsts[i], lasts[i]);
			order[i] = i;
			pfree(h);
		}
		for (i = 1; i < nversions; i++)
		{
			int			j = i;

			while (j > 0 && CowKeyCmp(&ctx, firsts[order[j - 1]], firsts[order[j]]) > 0)
			{
				int			t = order[j];

				order[j] = order[j - 1];
				order[j - 1] = t;
				j--;
			}
		}

		/*
		 * Keys beyond the last key of a full last version start new groups
		 * rather than rewrite it (new keys at the end -- growing ids, a load
		 * in key order merged in parts -- write only themselves).  A last
		 * version with room takes them, so small groups fill up.
		 */
		if (nversions > 0 &&
			versions[order[nversions - 1]].row_count >= ctx.opts.file_group_rows)
			end = lasts[order[nversions - 1]];

		/*
		 * 3. route the keys of lost rows: to the last version whose first key
		 * is <= the key (winners are routed the same way as they come)
		 */
		if (lost != NIL)
		{
			int64		nlost;
			CowRow	  **keys = CowLostRowKeys(&ctx, storage_id, lost, &nlost);

			if (nversions == 0)
				CowConcurrentUpdateError(rel);
			o = 0;
			for (r = 0; r < nlost; r++)
			{
				o = CowRouteRow(&ctx, keys[r], firsts, order, nversions, o);
				kdels[order[o]] = lappend(kdels[order[o]], keys[r]);
				touched[order[o]] = true;
			}
		}

		/*
		 * 4. rewrite the versions whose key range receives winners or lost
		 * rows; a version takes the keys from its first key (from the lowest,
		 * for the first) up to the next version's first key
		 */
		w = CowNextWinner(&ctx, &win);
		for (o = 0; o < nversions; o++)
		{
			int			vi = order[o];
			Datum	   *bound = (o + 1 < nversions) ? firsts[order[o + 1]] : end;
			bool		inclusive = (o + 1 == nversions);
			CowDecodedGroup *g;
			CowRow	   *srows;
			ListCell   *kc;
			int64		s;
			bool		changed = false;

			/* is the current winner in this version's key range? */
			bool		w_here = (w != NULL && CowRowBefore(&ctx, w, bound, inclusive));

			if (!touched[vi] && !w_here)
				continue;
			kc = list_head(kdels[vi]);
			MemoryContextSwitchTo(gcxt);
			g = CowDecodeGroup(rel, &versions[vi], true, NULL, true);
			srows = CowStoredRows(g);
			MemoryContextSwitchTo(mcxt);
			CowOutStart(&out, &versions[vi]);
			s = 0;
			for (;;)
			{
				CowRow	   *stored = NULL;
				CowRow	   *in = w_here ? w : NULL;
				int			c;

				/* next stored row not deleted by row number */
				while (s < (int64) g->nrows)
				{
					if (ndel > 0 &&
						CowDeleteSetContains(dels, CowGroupRowNumber(g, (uint64) s)))
					{
						if (ctx.log != NULL)
							ctx.rn_deleted = lappend(ctx.rn_deleted, &srows[s]);
						CowOutChanged(&out);
						s++;
						ctx.deleted++;
						changed = true;
						continue;
					}
					stored = &srows[s];
					break;
				}
				/* a lost row: delete it by key if it is unchanged */
				if (kc != NULL)
				{
					CowRow	   *kd = lfirst(kc);
					int			kcmp = stored ? CowRowKeyCmp(&ctx, kd, stored) : -1;

					if (kcmp < 0 || (kcmp == 0 && kd->commit_id != stored->commit_id))
						CowConcurrentUpdateError(rel);
					if (kcmp == 0)
					{
						CowLogDelete(&ctx, stored);
						CowOutChanged(&out);
						s++;
						ctx.deleted++;
						changed = true;
						kc = lnext(kdels[vi], kc);
						continue;
					}
				}
				if (stored == NULL && in == NULL)
					break;
				c = (stored == NULL) ? 1 : (in == NULL) ? -1 :
					CowRowKeyCmp(&ctx, stored, in);
				if (c < 0)
				{
					CowOutAdd(&out, stored);
					s++;
				}
				else if (c > 0)
				{
					/* key not stored */
					if (!CowIsDeleteMarker(&ctx, in))
					{
						/* an UPDATE's row, whose old row was deleted */
						if (in->is_update)
							CowOutChanged(&out);
						CowOutAdd(&out, in);
						changed = true;
						CowCountNewKey(&ctx, &before, storage_id, snap,
									   earlier_parts, in);
					}
					else
						CowDropIncoming(in);
					w = CowNextWinner(&ctx, &win);
					w_here = (w != NULL && CowRowBefore(&ctx, w, bound, inclusive));
				}
				else
				{
					/* same key */
					if (CowIncomingWins(&ctx, in, stored))
					{
						/*
						 * Replacing or deleting a stored row needs what an
						 * update or a delete needs; a row an earlier part of
						 * this statement wrote was checked then.
						 */
						bool		checked = (ctx.check == NULL ||
											   stored->commit_id == ctx.commit_id);

						changed = true;
						CowOutChanged(&out);
						if (CowIsDeleteMarker(&ctx, in))
						{
							if (!checked)
								CowCheckDelete(ctx.check, stored);
							CowCheckIdentity(&ctx, CMD_DELETE);
							CowLogDelete(&ctx, stored);

							/*
							 * A row an earlier part of this statement wrote
							 * was counted then: as inserted, unless its key
							 * existed before the statement (updated).
							 */
							if (stored->commit_id != ctx.commit_id)
								ctx.deleted++;
							else if (CowKeyBeforeStatement(&ctx, &before, storage_id,
														   snap, stored))
							{
								ctx.updated--;
								ctx.deleted++;
							}
							else
								ctx.inserted--;
							CowDropIncoming(in);
						}
						else
						{
							if (!checked)
								CowCheckReplace(ctx.check, stored, in);
							CowCheckIdentity(&ctx, CMD_UPDATE);
							CowLogReplace(&ctx, stored, in);
							CowOutAdd(&out, in);

							/*
							 * A row an earlier part of this statement wrote
							 * was counted then (inserted or updated): a newer
							 * version of it changes nothing in the counts.
							 *
							 * An UPDATE's row counts as updated against the
							 * row it came from, deleted by row number (the
							 * two are paired off below); when its new key is
							 * another stored row's, that row is replaced, and
							 * is gone too: deleted.
							 */
							if (stored->commit_id != ctx.commit_id)
							{
								ctx.updated++;
								if (in->is_update)
									ctx.deleted++;
							}
						}
					}
					else
					{
						CowOutAdd(&out, stored);
						CowDropIncoming(in);
					}
					s++;
					w = CowNextWinner(&ctx, &win);
					w_here = (w != NULL && CowRowBefore(&ctx, w, bound, inclusive));
				}
				if (changed)
					CowOutSpill(&ctx, &out);
			}
			/*
			 * A group whose incoming rows all lost keeps its version.  The
			 * last version, when it has room, takes a part's new keys: whole
			 * groups are written, the rest goes back (CowOutCarry).
			 */
			if (changed && carry && bound == NULL)
				CowOutCarry(&ctx, &out, pending);
			else if (changed)
				CowOutFinish(&ctx, &out);
			CowLogGroupEnd(&ctx);
			MemoryContextReset(gcxt);
		}

		/* 5. an empty table, or keys beyond a full last version: new groups */
		CowOutStart(&out, NULL);
		for (; w != NULL; w = CowNextWinner(&ctx, &win))
		{
			Assert(nversions == 0 || end != NULL);
			if (CowIsDeleteMarker(&ctx, w))
			{
				CowDropIncoming(w);
				continue;
			}
			CowOutAdd(&out, w);
			CowCountNewKey(&ctx, &before, storage_id, snap, earlier_parts, w);
			CowOutSpill(&ctx, &out);
		}
		if (carry)
			CowOutCarry(&ctx, &out, pending);
		else
			CowOutFinish(&ctx, &out);
	}
	has_update |= win.has_update;
	if (has_update)
		ctx.deleted -= Min(ctx.deleted, ctx.updated);

	if (ctx.groups_written > 0 || ctx.groups_changed > 0)
	{
		CowPartCounts *part = MemoryContextAllocZero(GetMemoryChunkContext(pending),
													 sizeof(CowPartCounts));
		MemoryContext pcxt = MemoryContextSwitchTo(GetMemoryChunkContext(pending));

		part->subid = GetCurrentSubTransactionId();
		part->inserted = ctx.inserted;
		part->updated = ctx.updated;
		part->deleted = ctx.deleted;
		part->file_groups_written = ctx.groups_written;
		part->bytes_written = ctx.bytes_written;
		pending->stmt_parts = lappend(pending->stmt_parts, part);
		MemoryContextSwitchTo(pcxt);

		CowRecordCounts(RelationGetRelid(rel), ctx.inserted, ctx.updated,
						ctx.deleted, ctx.commit_id);
	}
	CowLogicalEnd(ctx.log);

	/*
	 * The statement's commit row, once all of it is merged.  A statement
	 * that changed nothing (every incoming row lost to a newer stored one)
	 * leaves no commit; its commit id is simply not used.
	 */
	if (final && pending->stmt_parts != NIL)
	{
		memset(&commit, 0, sizeof(commit));
		commit.commit_id = ctx.commit_id;
		/* the rows' cmin: the command that buffered them (the last one) */
		commit.cid = pending->last_cid;
		foreach(lc, pending->stmt_parts)
		{
			CowPartCounts *part = lfirst(lc);

			commit.rows_inserted += part->inserted;
			commit.rows_updated += part->updated;
			commit.rows_deleted += part->deleted;
			commit.file_groups_written += part->file_groups_written;
			commit.bytes_written += part->bytes_written;
		}
		if (rewrite)
			commit.operation = "rewrite";
		else
			commit.operation = has_update ? "update" :
				(pending->next_seq == 0 ? "delete" :
				 (ctx.opts.nkeys > 0 ? "upsert" : "insert"));
		CowInsertCommit(storage_id, &commit);
		CowCountStats(rel, commit.rows_inserted, commit.rows_updated,
					  commit.rows_deleted);
	}

	{
		CowOptions	opts = ctx.opts;
		int64	   *written = ctx.written;
		int64		nwritten = ctx.nwritten;

		opts.key_attnums = MemoryContextAlloc(old, sizeof(AttrNumber) *
											  Max(opts.nkeys, 1));
		memcpy(opts.key_attnums, ctx.opts.key_attnums,
			   sizeof(AttrNumber) * opts.nkeys);
		CowMergeEnd(&ctx, snap, old, mcxt);

		/*
		 * Unique and exclusion constraints, on the table as it now stands
		 * (this transaction holds the writers' lock: the check is exact).
		 */
		if (nwritten > 0)
			CowCheckWrittenRows(rel, &opts, written, nwritten);
		if (written != NULL)
			pfree(written);
		pfree(opts.key_attnums);
	}
}

/*
 * CowRewriteTable rewrites every current row under the table's present
 * options: set_table_options() calls it when the record key of a
 * non-empty table changes.  Rows are sorted by the new key and collapsed
 * as one statement's rows would be (largest precombine, tie: the later
 * row, in storage order); delete markers are not applied (those rows were
 * stored as data).  Every row keeps the commit id that wrote it.  The rows
 * go through a spill sort, so the table need not fit in memory.  Caller
 * holds the writers' lock (CowExcludeWriters).
 *
 * The rewrite runs as the table owner, in a security-restricted operation
 * (cow_security.c): the caller may be a superuser rewriting someone
 * else's table, whose index expressions must not run with its rights.
 */
void
CowRewriteTable(Relation rel)
{
	MemoryContext mcxt = AllocSetContextCreate(CurrentMemoryContext,
											   "incetl cow rewrite",
											   ALLOCSET_DEFAULT_SIZES);
	MemoryContext gcxt;
	MemoryContext old = MemoryContextSwitchTo(mcxt);
	CowMergeCtx ctx;
	Snapshot	snap;
	int64		storage_id;
	int			nversions,
				i;
	CowVersion *versions;
	int64		total = 0,
				n = 0,
				nwin = 0;
	CowCommitInfo commit;
	CowWinners	win;
	CowOut		out;
	CowRow	   *w;
	CowUserContext uctx;

	/* index expressions and predicates run as the table owner */
	CowBecomeTableOwner(rel, &uctx);
	versions = CowMergeBegin(&ctx, rel, &snap, &storage_id, &nversions);
	for (i = 0; i < nversions; i++)
		total += versions[i].row_count;
	if (total == 0)
	{
		UnregisterSnapshot(snap);
		MemoryContextSwitchTo(old);
		MemoryContextDelete(mcxt);
		CowRestoreUser(&uctx);
		return;
	}

	ctx.commit_id = CowNextCommitId(rel);
	CowSetFreeSpace(rel, CowLoadUsedMap(storage_id));
	CowMergeCtxPrepare(&ctx);
	ctx.collect_written = false;	/* carries rows, checked when written */
	CowLogBegin(&ctx, true);

	CowWinnersInit(&win, CowSpillBegin(rel, &ctx.opts, mcxt), mcxt);
	gcxt = CowGroupContextCreate(mcxt, "incetl cow rewrite group",
								 COW_MERGE_CONTEXT_BLOCK);
	for (i = 0; i < nversions; i++)
	{
		CowDecodedGroup *g;
		CowRow	   *srows;
		uint64		gr;

		MemoryContextSwitchTo(gcxt);
		g = CowDecodeGroup(rel, &versions[i], true, NULL, true);
		srows = CowStoredRows(g);
		for (gr = 0; gr < g->nrows; gr++)
		{
			CowRow	   *row = &srows[gr];
			int			a,
						k;

			for (k = 0; k < ctx.opts.nkeys; k++)
			{
				bool		isnull;

				a = ctx.opts.key_attnums[k] - 1;
				(void) CowRowValue(row, a, &isnull);
				if (isnull)
					ereport(ERROR,
							(errcode(ERRCODE_NOT_NULL_VIOLATION),
							 errmsg("column \"%s\" of relation \"%s\" contains null values",
									NameStr(TupleDescAttr(ctx.tupdesc, a)->attname),
									RelationGetRelationName(rel)),
							 errdetail("A record key column cannot be NULL.")));
			}
			row->seq = n++;
			CowSpillPut(win.spill, row, TopSubTransactionId, false);
		}
		MemoryContextSwitchTo(mcxt);
		MemoryContextReset(gcxt);
	}

	for (i = 0; i < nversions; i++)
	{
		CowSupersedeVersion(&versions[i], ctx.commit_id);
		ctx.rows_superseded += versions[i].row_count;
	}
	memset(&out, 0, sizeof(out));
	out.cxt = mcxt;
	CowOutStart(&out, NULL);
	while ((w = ctx.opts.nkeys > 0 ? CowNextWinner(&ctx, &win) :
			CowSpillRead(&win)) != NULL)
	{
		CowOutAdd(&out, w);
		nwin++;
		CowOutSpill(&ctx, &out);
	}
	CowOutFinish(&ctx, &out);
	CowSpillEnd(win.spill);
	CowLogicalEnd(ctx.log);

	memset(&commit, 0, sizeof(commit));
	commit.commit_id = ctx.commit_id;
	commit.cid = InvalidCommandId;
	commit.operation = "rewrite";
	commit.rows_deleted = n - nwin;
	commit.file_groups_written = ctx.groups_written;
	commit.bytes_written = ctx.bytes_written;
	CowInsertCommit(storage_id, &commit);
	CowRecordCounts(RelationGetRelid(rel), 0, 0, n - nwin, ctx.commit_id);
	CowCountStats(rel, 0, 0, n - nwin);

	CowMergeEnd(&ctx, snap, old, mcxt);
	CowRestoreUser(&uctx);
}

/*
 * CowPreparedHolder returns the xid of a prepared transaction holding a lock
 * on tag that conflicts with mode, or InvalidTransactionId.  When wrote is
 * not NULL, *wrote says whether that transaction also holds a lock on rel
 * that writers hold (RowExclusiveLock or stronger): it wrote the table,
 * rather than only locked its rows.
 */
static TransactionId
CowPreparedHolder(Relation rel, const LOCKTAG *tag, LOCKMODE mode,
				  bool *wrote)
{
	VirtualTransactionId *holders = GetLockConflicts(tag, mode, NULL);

	for (; VirtualTransactionIdIsValid(*holders); holders++)
	{
		bool		more = false;
		VirtualTransactionId vxid = *holders;
		TransactionId xid = TwoPhaseGetXidByVirtualXID(vxid, &more);
		LOCKTAG		reltag;
		VirtualTransactionId *writers;

		if (!TransactionIdIsValid(xid))
			continue;
		if (wrote == NULL)
			return xid;
		*wrote = false;
		SET_LOCKTAG_RELATION(reltag, rel->rd_lockInfo.lockRelId.dbId,
							 rel->rd_lockInfo.lockRelId.relId);
		writers = GetLockConflicts(&reltag, ShareLock, NULL);
		for (; VirtualTransactionIdIsValid(*writers); writers++)
		{
			if (VirtualTransactionIdEquals(*writers, vxid))
				*wrote = true;
		}
		return xid;
	}
	return InvalidTransactionId;
}

static void
CowPreparedWriterError(Relation rel, TransactionId xid)
{
	ereport(ERROR,
			(errcode(ERRCODE_LOCK_NOT_AVAILABLE),
			 errmsg("cannot write to incetl_cow table \"%s\" while a prepared transaction that wrote it is pending",
					RelationGetRelationName(rel)),
			 errdetail("Prepared transaction %u holds the table's writer lock until it is committed or rolled back.",
					   xid),
			 errhint("Finish it with COMMIT PREPARED or ROLLBACK PREPARED (see pg_prepared_xacts), then retry.")));
}

static void
CowPreparedLockerError(Relation rel, TransactionId xid, bool writer)
{
	ereport(ERROR,
			(errcode(ERRCODE_LOCK_NOT_AVAILABLE),
			 writer ?
			 errmsg("cannot write to incetl_cow table \"%s\" while a prepared transaction that locked its rows is pending",
					RelationGetRelationName(rel)) :
			 errmsg("could not obtain lock on row in relation \"%s\"",
					RelationGetRelationName(rel)),
			 errdetail("Prepared transaction %u holds a lock on the rows of incetl_cow table \"%s\" until it is committed or rolled back.",
					   xid, RelationGetRelationName(rel)),
			 errhint("Finish it with COMMIT PREPARED or ROLLBACK PREPARED (see pg_prepared_xacts), then retry.")));
}

/*
 * CowLockRows takes rel's row-lock tag (CowRowLockTag) in mode, to the end
 * of the transaction; for an update lock (ExclusiveLock) that is the
 * writers' lock itself.  wait_policy: LockWaitBlock waits, LockWaitSkip
 * returns false when it is held by another, LockWaitError fails with 55P03
 * as heap does for a row.  A conflicting holder that is a prepared
 * transaction fails at once (55P03), as for writers (CowLockWriters).
 * *acquired is set when this call took the tag (it was not held in mode).
 */
bool
CowLockRows(Relation rel, LOCKMODE mode, LockWaitPolicy wait_policy,
			bool *acquired)
{
	LOCKTAG		tag;
	LockAcquireResult res;
	TransactionId xid;

	CowRowLockTag(rel, &tag);
	res = LockAcquire(&tag, mode, false, true);
	if (res == LOCKACQUIRE_NOT_AVAIL)
	{
		if (wait_policy == LockWaitSkip)
			return false;
		if (wait_policy == LockWaitError)
			ereport(ERROR,
					(errcode(ERRCODE_LOCK_NOT_AVAILABLE),
					 errmsg("could not obtain lock on row in relation \"%s\"",
							RelationGetRelationName(rel))));
		xid = CowPreparedHolder(rel, &tag, mode, NULL);
		if (TransactionIdIsValid(xid))
			CowPreparedLockerError(rel, xid, false);
		res = LockAcquire(&tag, mode, false, false);
	}
	*acquired = (res == LOCKACQUIRE_OK);
	CowNoteRowLock(RelationGetRelid(rel));
	return true;
}

/*
 * CowLockWriters takes the writers' lock of rel: its row-lock tag
 * (CowRowLockTag) in ExclusiveLock, held to the end of the transaction, so
 * writers serialize and commit ids follow commit order.  A writer waits
 * for the transactions holding row locks; a share locker that writes later
 * upgrades, ahead of a writer waiting for its share lock in the tag's
 * queue (ProcSleep), so the two do not deadlock.  Writers take no lock on
 * the relation beyond the executor's RowExclusiveLock: they do not
 * conflict with CREATE INDEX CONCURRENTLY, ANALYZE or the lock VACUUM
 * takes before it cleans (cleaning takes the tag in turn,
 * CowExcludeWriters).
 *
 * A prepared transaction that wrote rel keeps the lock until COMMIT
 * PREPARED or ROLLBACK PREPARED, which may never come from the waiting
 * session (its own prepared transaction, say): rather than wait for it
 * unboundedly, fail at once naming it.  A holder that prepares after this
 * check is waited for like any other (lock_timeout bounds it).
 */
void
CowLockWriters(Relation rel)
{
	LOCKTAG		tag;
	TransactionId xid;
	bool		wrote = false;

	CowRowLockTag(rel, &tag);
	if (LockAcquire(&tag, ExclusiveLock, false, true) != LOCKACQUIRE_NOT_AVAIL)
		return;
	xid = CowPreparedHolder(rel, &tag, ExclusiveLock, &wrote);
	if (TransactionIdIsValid(xid))
	{
		if (wrote)
			CowPreparedWriterError(rel, xid);
		CowPreparedLockerError(rel, xid, true);
	}
	(void) LockAcquire(&tag, ExclusiveLock, false, false);
}

/*
 * CowExcludeWriters takes the writers' lock of rel (the row-lock tag in
 * ExclusiveLock, to the end of the transaction) for what must not run
 * alongside a merge or another of its kind: cleaning, savepoints, option
 * changes.  It waits like any lock (a prepared holder included) unless
 * nowait, when it returns false if the lock is not free.
 */
bool
CowExcludeWriters(Relation rel, bool nowait)
{
	LOCKTAG		tag;

	CowRowLockTag(rel, &tag);
	return LockAcquire(&tag, ExclusiveLock, false, nowait) !=
		LOCKACQUIRE_NOT_AVAIL;
}
