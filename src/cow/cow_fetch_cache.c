/*-------------------------------------------------------------------------
 *
 * cow_fetch_cache.c
 *	  The lists of file group versions this backend keeps for index fetches,
 *	  scans and the planner, per table and view of a snapshot; the row index
 *	  over each list, lent to index fetches; the min/max of each version's
 *	  first record-key column, for key ranges; and the first record-key
 *	  column of a table.
 *
 * Everything here is per backend and keyed by what a snapshot sees (see
 * CowSnapView below), so that a stream of statements under the same view --
 * point lookups, key ranges -- reads cow_file_group, the versions' maps and
 * headers, and cow_options once per view instead of once per statement.
 * The server-wide lists under these are cow_version_cache.c's.
 *
 * Memory: the kept lists live in a context of their own under
 * TopMemoryContext; a list an index fetch borrows is counted, and given
 * back when the fetch's context goes (cow_scan.c, CowIndexFetchForget).
 *
 * Copyright (c) 2026, incetl authors
 *
 * IDENTIFICATION
 *	  src/cow/cow_fetch_cache.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/transam.h"
#include "access/xact.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "cow/read.h"
#include "cow/shared_cache.h"


/*
 * The versions an index fetch reads are those its snapshot sees.  Two MVCC
 * snapshots with the same xmin, xmax and running transactions see the
 * same catalog rows of other transactions (a transaction that ended before
 * both is committed or aborted for good), and a transaction without an xid
 * has written none of its own.  So the lists CowFetchRow loads are kept
 * per backend, keyed by storage id and that view, and a stream of point
 * lookups (each statement a new fetch with a new snapshot, the same view
 * while no writer ends) scans cow_file_group again only when the view
 * changes.  Not on a standby, nor in a transaction with an xid; a few
 * lists of at most COW_FETCH_CACHE_MAX_VERSIONS versions, replaced in
 * turn.
 */
#define COW_FETCH_CACHE_SIZE		4
#define COW_FETCH_CACHE_MAX_VERSIONS 4096

/* what a cache entry keeps of the view of the snapshot it was read under */
typedef struct CowSnapView
{
	TransactionId xmin;
	TransactionId xmax;
	uint32		xcnt;
	int32		subxcnt;
	bool		suboverflowed;
	TransactionId *xids;		/* xip then subxip, or NULL */
} CowSnapView;

typedef struct CowFetchCacheEntry
{
	bool		valid;
	Oid			relid;
	RelFileNode node;
	int64		storage_id;		/* the metapage's when loaded */
	bool		current_only;
	CowSnapView view;
	CowFetchList *list;			/* its own reference */
	CowVersionListId listid;	/* the shared cache's name of the list, when
								 * it answered with it (cow_version_cache.c) */
	struct CowKeyBounds *bounds;	/* of the versions, once a key range
									 * asked for them; or NULL */
} CowFetchCacheEntry;

static CowFetchCacheEntry CowFetchCache[COW_FETCH_CACHE_SIZE];
static int	CowFetchCacheNext = 0;
static MemoryContext CowFetchCacheCxt = NULL;

/*
 * CowSnapViewCacheable: may what snap sees be kept by its view (see
 * above)?  An MVCC snapshot, not on a standby, in a transaction without an
 * xid.
 */
static bool
CowSnapViewCacheable(Snapshot snap)
{
	return snap != NULL && snap->snapshot_type == SNAPSHOT_MVCC &&
		!snap->takenDuringRecovery && snap->subxcnt >= 0 &&
		!TransactionIdIsValid(GetTopTransactionIdIfAny());
}

static bool
CowSnapViewMatches(const CowSnapView *v, Snapshot snap)
{
	return v->xmin == snap->xmin && v->xmax == snap->xmax &&
		v->xcnt == snap->xcnt && v->subxcnt == snap->subxcnt &&
		v->suboverflowed == snap->suboverflowed &&
		memcmp(v->xids, snap->xip, sizeof(TransactionId) * snap->xcnt) == 0 &&
		(snap->subxcnt <= 0 ||
		 memcmp(v->xids + snap->xcnt, snap->subxip,
				sizeof(TransactionId) * snap->subxcnt) == 0);
}

/* CowSnapViewSet makes v snap's view, in CowFetchCacheCxt */
static void
CowSnapViewSet(CowSnapView *v, Snapshot snap)
{
	if (CowFetchCacheCxt == NULL)
		CowFetchCacheCxt = AllocSetContextCreate(TopMemoryContext,
												 "incetl cow fetch versions",
												 ALLOCSET_SMALL_SIZES);
	if (v->xids != NULL)
		pfree(v->xids);
	v->xids = MemoryContextAlloc(CowFetchCacheCxt,
								 sizeof(TransactionId) *
								 Max(snap->xcnt + Max(snap->subxcnt, 0), 1));
	memcpy(v->xids, snap->xip, sizeof(TransactionId) * snap->xcnt);
	if (snap->subxcnt > 0)
		memcpy(v->xids + snap->xcnt, snap->subxip,
			   sizeof(TransactionId) * snap->subxcnt);
	v->xmin = snap->xmin;
	v->xmax = snap->xmax;
	v->xcnt = snap->xcnt;
	v->subxcnt = snap->subxcnt;
	v->suboverflowed = snap->suboverflowed;
}

static bool
CowFetchCacheMatches(const CowFetchCacheEntry *e, Relation rel,
					 bool current_only, Snapshot snap)
{
	return e->valid && e->relid == RelationGetRelid(rel) &&
		RelFileNodeEquals(e->node, rel->rd_node) &&
		e->current_only == current_only &&
		CowSnapViewMatches(&e->view, snap);
}

/* the entry holding rel's list for current_only under snap's view, or NULL */
static CowFetchCacheEntry *
CowFetchCacheFind(Relation rel, bool current_only, Snapshot snap)
{
	int			i;

	for (i = 0; i < COW_FETCH_CACHE_SIZE; i++)
		if (CowFetchCacheMatches(&CowFetchCache[i], rel, current_only, snap))
			return &CowFetchCache[i];
	return NULL;
}

/*
 * CowFetchListRelease drops a reference to l (NULL is nothing): a kept list
 * is freed with its last one, a borrower's own list at once.
 */
void
CowFetchListRelease(CowFetchList *l)
{
	if (l == NULL)
		return;
	if (l->kept)
	{
		Assert(l->refs > 0);
		if (--l->refs > 0)
			return;
	}
	pfree(l->versions);
	CowRowIndexFree(l->rowix);
	pfree(l);
}

/*
 * CowFetchLoad: rel's list for current_only under snap, *n versions: the
 * cache's own when it keeps it (*e set to its entry: not to be freed),
 * else (*e NULL) read into the current memory context, the shared cache's
 * name of the list in *listid.  *storage_id is set either way.
 */
static CowVersion *
CowFetchLoad(Relation rel, int64 *storage_id, Snapshot snap,
			 bool current_only, int *n, CowFetchCacheEntry **e,
			 CowVersionListId *listid)
{
	bool		cacheable = CowSnapViewCacheable(snap);
	CowVersion *v;

	*e = cacheable ? CowFetchCacheFind(rel, current_only, snap) : NULL;
	if (*e != NULL)
	{
		*storage_id = (*e)->storage_id;
		*n = (*e)->list->nversions;
		return (*e)->list->versions;
	}
	*storage_id = CowStorageId(rel);
	/* the server's lists, not a temporary table's (cow_shared_cache.c) */
	listid->valid = false;
	v = cacheable && rel->rd_rel->relpersistence != RELPERSISTENCE_TEMP ?
		CowVersionCacheLoad(*storage_id, snap, current_only, n, listid) :
		NULL;
	if (v == NULL)
		v = CowLoadVersions(*storage_id, snap, current_only, n);
	return v;
}

/*
 * CowFetchKeep: keep versions[n] (and rowix over them, or NULL), read for
 * rel under snap, in a cache entry, replacing the oldest; NULL when the
 * list may not be kept.  The entry holds copies in CowFetchCacheCxt.
 */
static CowFetchCacheEntry *
CowFetchKeep(Relation rel, int64 storage_id, Snapshot snap,
			 bool current_only, CowVersion *versions, int n,
			 CowRowIndex *rowix, const CowVersionListId *listid)
{
	CowFetchCacheEntry *e;
	CowFetchList *l;

	if (!CowSnapViewCacheable(snap) || n > COW_FETCH_CACHE_MAX_VERSIONS)
		return NULL;
	e = &CowFetchCache[CowFetchCacheNext];
	CowFetchCacheNext = (CowFetchCacheNext + 1) % COW_FETCH_CACHE_SIZE;
	if (e->valid)
	{
		CowFetchListRelease(e->list);
		e->list = NULL;
		CowKeyBoundsFree(e->bounds);
		e->bounds = NULL;
		e->valid = false;
	}
	CowSnapViewSet(&e->view, snap);
	l = MemoryContextAllocZero(CowFetchCacheCxt, sizeof(CowFetchList));
	l->kept = true;
	l->refs = 1;
	l->nversions = n;
	l->versions = MemoryContextAlloc(CowFetchCacheCxt,
									 sizeof(CowVersion) * Max(n, 1));
	memcpy(l->versions, versions, sizeof(CowVersion) * n);
	if (rowix != NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(CowFetchCacheCxt);

		l->rowix = CowRowIndexCopy(rowix, l->versions);
		MemoryContextSwitchTo(old);
	}
	e->list = l;
	e->relid = RelationGetRelid(rel);
	e->node = rel->rd_node;
	e->storage_id = storage_id;
	e->current_only = current_only;
	e->listid = *listid;
	e->bounds = NULL;
	e->valid = true;
	return e;
}

/*
 * CowFetchVersions is CowLoadVersions(CowStorageId(rel), snap,
 * current_only) for a sequential scan or the planner, from the cache above
 * when it can, and sets *storage_id to that storage id.  The cache is
 * keyed by relation and relfilenode, not storage id, so that a hit reads
 * no metapage: a new storage id on the same file (an unlogged table reset
 * by crash recovery adopting one) comes with a write, which a snapshot of
 * the same view cannot see ended, and sees the same versions of it --
 * none.  The list is palloc'd in the current memory context either way.
 */
CowVersion *
CowFetchVersions(Relation rel, int64 *storage_id, Snapshot snap,
				 bool current_only, int *n)
{
	CowFetchCacheEntry *e;
	CowVersionListId listid;
	CowVersion *v;
	CowVersion *copy;

	v = CowFetchLoad(rel, storage_id, snap, current_only, n, &e, &listid);
	if (e == NULL)
	{
		CowFetchKeep(rel, *storage_id, snap, current_only, v, *n, NULL,
					 &listid);
		return v;
	}
	copy = palloc(sizeof(CowVersion) * Max(*n, 1));
	memcpy(copy, v, sizeof(CowVersion) * *n);
	return copy;
}

/*
 * CowFetchBorrow: the list of CowFetchVersions with its row index, for an
 * index fetch, which gives it back with CowFetchListRelease.  Lent from
 * the cache when it keeps it (the row index built once per list: each
 * statement of a stream of point lookups would otherwise read every
 * version's map and sort their ranges again); otherwise read into the
 * current memory context.
 */
CowFetchList *
CowFetchBorrow(Relation rel, int64 *storage_id, Snapshot snap,
			   bool current_only)
{
	CowFetchCacheEntry *e;
	CowVersionListId listid;
	CowFetchList *l;
	CowVersion *v;
	CowRowIndex *rowix;
	int			n;

	v = CowFetchLoad(rel, storage_id, snap, current_only, &n, &e, &listid);
	if (e != NULL && e->list->rowix == NULL)
	{
		MemoryContext old;

		/* built here (it reads maps, which may fail), then kept */
		rowix = CowVersionCacheRowIndex(rel, &e->listid, v, n);
		old = MemoryContextSwitchTo(CowFetchCacheCxt);
		e->list->rowix = CowRowIndexCopy(rowix, e->list->versions);
		MemoryContextSwitchTo(old);
		CowRowIndexFree(rowix);
	}
	if (e != NULL)
	{
		e->list->refs++;
		return e->list;
	}

	rowix = CowVersionCacheRowIndex(rel, &listid, v, n);
	e = CowFetchKeep(rel, *storage_id, snap, current_only, v, n, rowix,
					 &listid);
	if (e != NULL)
	{
		pfree(v);
		CowRowIndexFree(rowix);
		e->list->refs++;
		return e->list;
	}
	l = palloc0(sizeof(CowFetchList));
	l->nversions = n;
	l->versions = v;
	l->rowix = rowix;
	return l;
}

void
CowKeyBoundsFree(CowKeyBounds *b)
{
	if (b == NULL)
		return;
	pfree(b->known);
	pfree(b->min);
	pfree(b->max);
	pfree(b);
}

/* the bounds of versions[n] (a cached list's), in the current context */
static CowKeyBounds *
CowKeyBoundsRead(Relation rel, const CowVersion *versions, int n, int attidx)
{
	Form_pg_attribute att = TupleDescAttr(RelationGetDescr(rel), attidx);
	CowKeyBounds *b = palloc0(sizeof(CowKeyBounds));
	int			i;

	b->attidx = attidx;
	b->typid = att->atttypid;
	b->collation = att->attcollation;
	b->nversions = n;
	b->known = palloc0(sizeof(bool) * Max(n, 1));
	b->min = palloc0(sizeof(Datum) * Max(n, 1));
	b->max = palloc0(sizeof(Datum) * Max(n, 1));
	for (i = 0; i < n; i++)
	{
		const CowGroupHeader *h = CowGroupHeaderPin(rel, &versions[i]);

		PG_TRY();
		{
			const CowColumnDesc *d = (uint32) attidx < h->natts ?
				&CowGroupColumns(h)[attidx] : NULL;

			if (d != NULL && d->typid == b->typid &&
				d->collation == b->collation &&
				(d->flags & COW_COL_HAS_MINMAX) &&
				!(d->flags & (COW_COL_ALL_NULL | COW_COL_DROPPED)))
			{
				CowGroupMinMax((CowGroupHeader *) h, attidx, &b->min[i],
							   &b->max[i]);
				b->known[i] = true;
			}
		}
		PG_FINALLY();
		{
			CowGroupHeaderUnpin();
		}
		PG_END_TRY();
	}
	return b;
}

/*
 * CowKeyBoundsFor: a copy, in the current memory context, of the bounds of
 * the key column attidx of the versions the cache keeps for rel under snap
 * (the list CowFetchVersions just gave the caller, of n versions), read
 * into the cache the first time; NULL when the list is not kept or the
 * column's type is passed by reference.
 */
CowKeyBounds *
CowKeyBoundsFor(Relation rel, Snapshot snap, int attidx, int n)
{
	Form_pg_attribute att = TupleDescAttr(RelationGetDescr(rel), attidx);
	CowFetchCacheEntry *e;
	CowKeyBounds *b;

	if (!att->attbyval || !CowSnapViewCacheable(snap))
		return NULL;
	e = CowFetchCacheFind(rel, true, snap);
	if (e == NULL || e->list->nversions != n)
		return NULL;
	if (e->bounds == NULL || e->bounds->attidx != attidx ||
		e->bounds->typid != att->atttypid ||
		e->bounds->collation != att->attcollation)
	{
		MemoryContext old = MemoryContextSwitchTo(CowFetchCacheCxt);
		CowKeyBounds *fresh = CowKeyBoundsRead(rel, e->list->versions, n,
												  attidx);

		MemoryContextSwitchTo(old);
		CowKeyBoundsFree(e->bounds);
		e->bounds = fresh;
	}
	b = palloc(sizeof(CowKeyBounds));
	*b = *e->bounds;
	b->known = palloc(sizeof(bool) * Max(n, 1));
	b->min = palloc(sizeof(Datum) * Max(n, 1));
	b->max = palloc(sizeof(Datum) * Max(n, 1));
	memcpy(b->known, e->bounds->known, sizeof(bool) * n);
	memcpy(b->min, e->bounds->min, sizeof(Datum) * n);
	memcpy(b->max, e->bounds->max, sizeof(Datum) * n);
	return b;
}

/*
 * The first record-key column of a table as a snapshot sees its options:
 * a key-range scan (CowScanLoadVersions) and its costing (cow_hooks.c)
 * need it for every statement.  Kept per backend, keyed by the table and
 * the view of the snapshot, as the version lists above are (options and
 * column names change only in a transaction that ends, or in this one,
 * which then has an xid): a stream of key ranges of one table reads
 * cow_options once per view.
 */
#define COW_KEY_CACHE_SIZE		4

typedef struct CowKeyCacheEntry
{
	bool		valid;
	Oid			relid;
	CowSnapView view;
	AttrNumber	key;
} CowKeyCacheEntry;

static CowKeyCacheEntry CowKeyCache[COW_KEY_CACHE_SIZE];
static int	CowKeyCacheNext = 0;

/*
 * CowFirstKeyAttnum: the attnum of rel's first record-key column under
 * snap's view of its options, InvalidAttrNumber when it has no record key.
 */
AttrNumber
CowFirstKeyAttnum(Relation rel, Snapshot snap)
{
	Oid			relid = RelationGetRelid(rel);
	bool		cacheable;
	CowOptions	opts;
	CowKeyCacheEntry *e;
	AttrNumber	key;
	int			i;

	cacheable = CowSnapViewCacheable(snap);
	for (i = 0; cacheable && i < COW_KEY_CACHE_SIZE; i++)
	{
		e = &CowKeyCache[i];
		if (e->valid && e->relid == relid && CowSnapViewMatches(&e->view, snap))
			return e->key;
	}

	CowLoadOptions(rel, snap, &opts);
	key = opts.nkeys > 0 ? opts.key_attnums[0] : InvalidAttrNumber;
	if (opts.key_attnums != NULL)
		pfree(opts.key_attnums);
	if (!cacheable)
		return key;

	e = &CowKeyCache[CowKeyCacheNext];
	CowKeyCacheNext = (CowKeyCacheNext + 1) % COW_KEY_CACHE_SIZE;
	e->valid = false;
	CowSnapViewSet(&e->view, snap);
	e->relid = relid;
	e->key = key;
	e->valid = true;
	return key;
}

/*
 * CowCurrentVersions: the current versions of rel that snap sees, palloc'd
 * in the current memory context, from the lists the fetches and scans of
 * this backend keep (CowFetchVersions): the planner's estimate of a
 * table's size reads the list the statement's index fetch or scan then
 * takes from there, one scan of cow_file_group for both where they see
 * the same view (a new session's first lookup, the first after a write).
 */
CowVersion *
CowCurrentVersions(Relation rel, Snapshot snap, int *n)
{
	int64		storage_id;

	return CowFetchVersions(rel, &storage_id, snap, true, n);
}
