/*-------------------------------------------------------------------------
 *
 * cow_changefeed.c
 *	  The change feed of incetl_cow tables: incetl.table_changes() (per
 *	  commit and key: operation, row before and after) and
 *	  incetl.net_changes() (per key over a range of commits), and the diff
 *	  of two sets of file group versions both are built on
 *	  (CowDiffVersions, for other maintenance code too).
 *
 * A commit supersedes exactly the versions whose key ranges it rewrote and
 * writes new versions for them; every row keeps, in its hidden commit-id
 * column, the commit that wrote it, also when a rewrite only carries it
 * over.  So a commit's changes are the difference between the versions it
 * superseded and those it wrote, and the net change over (since, until]
 * the difference between the versions current at since and superseded by
 * until and those current at until written after since.  Versions current
 * at both ends are not read: the cost grows with the file groups written
 * in the range, not with the table.
 *
 * With a record key both sides are sorted by it (rows within a group,
 * groups by their first key), and are merge-joined one decoded group per
 * side.  Versions written before the key last changed were sorted by
 * another key; those, and tables without a key, are compared as multisets
 * of (row commit id, row image) in memory (CowDiffState.stable_after).
 *
 * Copyright (c) 2026, incetl authors
 *
 * IDENTIFICATION
 *	  src/cow/cow_changefeed.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/relation.h"
#include "access/table.h"
#include "common/hashfn.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/fmgroids.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/rls.h"
#include "utils/snapmgr.h"
#include "utils/sortsupport.h"
#include "utils/tuplestore.h"

#include "cow/maintenance.h"
#include "cow/security.h"

PG_FUNCTION_INFO_V1(incetl_cow_table_changes);
PG_FUNCTION_INFO_V1(incetl_cow_net_changes);

/* what the diffs of one call share */
typedef struct CowDiffState
{
	Relation	rel;
	TupleDesc	tupdesc;
	int			natts;
	CowOptions	opts;
	SortSupport keys;			/* [opts.nkeys], NULL without a key */

	/*
	 * Versions written after this commit were sorted by today's record key:
	 * the key can change only at a "rewrite" commit (set_table_options,
	 * which rewrites every row) or while the table holds no row (no
	 * rewrite then).  So it is the largest of r - 1 over rewrite commits r
	 * and of the commits after which no version was current.
	 */
	int64		stable_after;
	CowChangeCallback cb;
	void	   *arg;
	MemoryContext cxt;			/* of one diff, reset after it */
	Datum	   *bvalues;		/* [natts] scratch rows */
	bool	   *bnulls;
	Datum	   *avalues;
	bool	   *anulls;
} CowDiffState;

/* one side of a keyed merge join: its versions in key order, one decoded */
typedef struct CowSide
{
	CowDiffState *st;
	CowVersion *versions;
	int			n;
	int			cur;			/* version decoded in g, or -1 */
	CowDecodedGroup *g;
	uint64		row;
	MemoryContext cxt;			/* of g */
} CowSide;

/* a row of the multiset diff, copied out of its group */
typedef struct CowImage
{
	int64		commit_id;
	uint32		hash;
	bool		matched;
	int			seq;			/* position on its side: ties keep it */
	Datum	   *values;
	bool	   *nulls;
	struct CowImage *next;		/* same hash and commit id */
} CowImage;

typedef struct CowImageKey
{
	int64		commit_id;
	uint32		hash;
	uint32		pad;			/* zeroed: the key is hashed as bytes */
} CowImageKey;

typedef struct CowImageEntry
{
	CowImageKey key;
	CowImage   *first;
} CowImageEntry;

/* the SRF's state: where the rows go and which commit they belong to */
typedef struct CowFeedOut
{
	ReturnSetInfo *rsinfo;
	TupleDesc	rowdesc;		/* the table's row type */
	int64		commit_id;		/* table_changes: the commit; net_changes:
								 * until, for deletes */
	bool		net;
	MemoryContext cxt;			/* per row */
} CowFeedOut;

static void CowDiffInit(CowDiffState *st, Relation rel, Snapshot snapshot,
						CowChangeCallback cb, void *arg);
static void CowDiffRun(CowDiffState *st, CowVersion *old, int nold,
					   CowVersion *new, int nnew);

/* ---------- rows ---------- */

/* row of g as today's descriptor lays it out (as CowEmitRows does) */
static void
CowFillRow(CowDiffState *st, CowDecodedGroup *g, uint64 row, Datum *values,
		   bool *nulls)
{
	int			a;

	for (a = 0; a < st->natts; a++)
	{
		if (a < g->natts && g->decoded[a] &&
			!TupleDescAttr(st->tupdesc, a)->attisdropped)
		{
			values[a] = g->values[a][row];
			nulls[a] = g->isnull[a][row];
		}
		else
		{
			values[a] = (Datum) 0;
			nulls[a] = true;
		}
	}
}

/*
 * Two values of attribute att are the same value: varlenas are compared by
 * their bytes whatever their header (a group may decode a short or a long
 * one), the others as datumIsEqual does.
 */
static bool
CowValueEqual(Form_pg_attribute att, Datum a, Datum b)
{
	if (att->attlen == -1)
	{
		struct varlena *va = PG_DETOAST_DATUM_PACKED(a);
		struct varlena *vb = PG_DETOAST_DATUM_PACKED(b);
		Size		la = VARSIZE_ANY_EXHDR(va);

		return la == VARSIZE_ANY_EXHDR(vb) &&
			memcmp(VARDATA_ANY(va), VARDATA_ANY(vb), la) == 0;
	}
	return datumIsEqual(a, b, att->attbyval, att->attlen);
}

static uint32
CowValueHash(Form_pg_attribute att, Datum v)
{
	if (att->attlen == -1)
	{
		struct varlena *vv = PG_DETOAST_DATUM_PACKED(v);

		return DatumGetUInt32(hash_any((unsigned char *) VARDATA_ANY(vv),
									   VARSIZE_ANY_EXHDR(vv)));
	}
	if (att->attbyval)
		return DatumGetUInt32(hash_any((unsigned char *) &v, sizeof(Datum)));
	if (att->attlen == -2)
		return DatumGetUInt32(hash_any((unsigned char *) DatumGetPointer(v),
									   strlen(DatumGetPointer(v))));
	return DatumGetUInt32(hash_any((unsigned char *) DatumGetPointer(v),
								   att->attlen));
}

static uint32
CowRowHash(CowDiffState *st, Datum *values, bool *nulls)
{
	uint32		h = 0;
	int			a;

	for (a = 0; a < st->natts; a++)
	{
		h = hash_combine(h, nulls[a] ? 0x9e3779b9 :
						 CowValueHash(TupleDescAttr(st->tupdesc, a), values[a]));
	}
	return h;
}

static bool
CowRowEqual(CowDiffState *st, Datum *av, bool *an, Datum *bv, bool *bn)
{
	int			a;

	for (a = 0; a < st->natts; a++)
	{
		if (an[a] != bn[a])
			return false;
		if (!an[a] && !CowValueEqual(TupleDescAttr(st->tupdesc, a), av[a], bv[a]))
			return false;
	}
	return true;
}

/* ---------- the keyed merge join ---------- */

/*
 * CowSortByFirstKey orders versions of one moment (disjoint key ranges,
 * sorted by today's key) by the first key their headers record.
 */
static void
CowSortByFirstKey(CowDiffState *st, CowVersion *v, int n)
{
	Datum	  **firsts = palloc(sizeof(Datum *) * Max(n, 1));
	Datum	   *last = palloc(sizeof(Datum) * st->opts.nkeys);
	int			i,
				j;

	for (i = 0; i < n; i++)
	{
		CowGroupHeader *h = CowReadGroupHeader(st->rel, &v[i]);

		firsts[i] = palloc(sizeof(Datum) * st->opts.nkeys);
		CowGroupKeyBounds(h, firsts[i], last);
	}
	/* insertion sort: a commit writes few versions, and in order */
	for (i = 1; i < n; i++)
	{
		CowVersion	tv = v[i];
		Datum	   *tf = firsts[i];

		for (j = i; j > 0 &&
			 CowCompareKeys(st->keys, st->opts.nkeys, firsts[j - 1], tf) > 0; j--)
		{
			v[j] = v[j - 1];
			firsts[j] = firsts[j - 1];
		}
		v[j] = tv;
		firsts[j] = tf;
	}
}

/*
 * CowSideCurrent makes side's next row current (decoding the next version
 * when one runs out) and returns false at its end.
 */
static bool
CowSideCurrent(CowSide *side)
{
	while (side->cur < 0 || side->row >= side->g->nrows)
	{
		MemoryContext old;

		if (side->cur + 1 >= side->n)
			return false;
		side->cur++;
		side->row = 0;
		MemoryContextReset(side->cxt);
		CHECK_FOR_INTERRUPTS();
		old = MemoryContextSwitchTo(side->cxt);
		side->g = CowDecodeGroup(side->st->rel, &side->versions[side->cur],
								 true, NULL, true);
		MemoryContextSwitchTo(old);
	}
	return true;
}

static void
CowSideKey(CowSide *side, Datum *key)
{
	CowDiffState *st = side->st;
	int			k;

	for (k = 0; k < st->opts.nkeys; k++)
		key[k] = side->g->values[st->opts.key_attnums[k] - 1][side->row];
}

static void
CowDiffByKey(CowDiffState *st, CowVersion *old, int nold, CowVersion *new,
			 int nnew)
{
	CowSide		o,
				n;
	Datum		okey[INDEX_MAX_KEYS];
	Datum		nkey[INDEX_MAX_KEYS];

	CowSortByFirstKey(st, old, nold);
	CowSortByFirstKey(st, new, nnew);
	memset(&o, 0, sizeof(o));
	memset(&n, 0, sizeof(n));
	o.st = n.st = st;
	o.versions = old;
	o.n = nold;
	n.versions = new;
	n.n = nnew;
	o.cur = n.cur = -1;
	o.cxt = AllocSetContextCreate(st->cxt, "incetl cow feed old group",
								  ALLOCSET_DEFAULT_SIZES);
	n.cxt = AllocSetContextCreate(st->cxt, "incetl cow feed new group",
								  ALLOCSET_DEFAULT_SIZES);
	for (;;)
	{
		bool		has_o = CowSideCurrent(&o);
		bool		has_n = CowSideCurrent(&n);
		int			c;

		if (!has_o && !has_n)
			break;
		if (has_o)
			CowSideKey(&o, okey);
		if (has_n)
			CowSideKey(&n, nkey);
		c = !has_o ? 1 : !has_n ? -1 :
			CowCompareKeys(st->keys, st->opts.nkeys, okey, nkey);
		if (c < 0)
		{
			CowFillRow(st, o.g, o.row, st->bvalues, st->bnulls);
			st->cb(COW_CHANGE_DELETE, st->bvalues, st->bnulls, NULL, NULL, 0,
				   st->arg);
			o.row++;
		}
		else if (c > 0)
		{
			CowFillRow(st, n.g, n.row, st->avalues, st->anulls);
			st->cb(COW_CHANGE_INSERT, NULL, NULL, st->avalues, st->anulls,
				   n.g->commit_ids[n.row], st->arg);
			n.row++;
		}
		else
		{
			/* the same row version, carried over, is no change */
			if (o.g->commit_ids[o.row] != n.g->commit_ids[n.row])
			{
				CowFillRow(st, o.g, o.row, st->bvalues, st->bnulls);
				CowFillRow(st, n.g, n.row, st->avalues, st->anulls);
				st->cb(COW_CHANGE_UPDATE, st->bvalues, st->bnulls,
					   st->avalues, st->anulls, n.g->commit_ids[n.row], st->arg);
			}
			o.row++;
			n.row++;
		}
	}
}

/* ---------- the multiset diff ---------- */

static CowImage *
CowCopyImage(CowDiffState *st, Datum *values, bool *nulls, int64 commit_id,
			 uint32 hash, int seq)
{
	CowImage   *img = palloc0(sizeof(CowImage));
	int			a;

	img->commit_id = commit_id;
	img->hash = hash;
	img->seq = seq;
	img->values = palloc(sizeof(Datum) * st->natts);
	img->nulls = palloc(sizeof(bool) * st->natts);
	for (a = 0; a < st->natts; a++)
	{
		Form_pg_attribute att = TupleDescAttr(st->tupdesc, a);

		img->nulls[a] = nulls[a];
		img->values[a] = nulls[a] ? (Datum) 0 :
			datumCopy(values[a], att->attbyval, att->attlen);
	}
	return img;
}

/* by today's record key (NULLs first: rows of a table once without one) */
static int
CowImageKeyCmp(const void *a, const void *b, void *arg)
{
	CowDiffState *st = arg;
	const CowImage *ia = *(CowImage *const *) a;
	const CowImage *ib = *(CowImage *const *) b;
	int			k;

	for (k = 0; k < st->opts.nkeys; k++)
	{
		int			i = st->opts.key_attnums[k] - 1;
		int			c = ApplySortComparator(ia->values[i], ia->nulls[i],
											ib->values[i], ib->nulls[i],
											&st->keys[k]);

		if (c != 0)
			return c;
	}
	return ia->seq < ib->seq ? -1 : (ia->seq > ib->seq ? 1 : 0);
}

static int
CowImageKeyOnlyCmp(CowDiffState *st, CowImage *a, CowImage *b)
{
	int			k;

	for (k = 0; k < st->opts.nkeys; k++)
	{
		int			i = st->opts.key_attnums[k] - 1;
		int			c = ApplySortComparator(a->values[i], a->nulls[i],
											b->values[i], b->nulls[i],
											&st->keys[k]);

		if (c != 0)
			return c;
	}
	return 0;
}

/*
 * CowDiffMultiset matches the rows of old and new as multisets of (row
 * commit id, row image): a matched pair is a row carried over.  The rest
 * of old is deleted and the rest of new inserted; with a record key today,
 * an unmatched old row and new row with the same key are paired into an
 * update.  Every old row and the unmatched new rows are held in memory.
 */
static void
CowDiffMultiset(CowDiffState *st, CowVersion *old, int nold, CowVersion *new,
				int nnew)
{
	HASHCTL		hctl;
	HTAB	   *htab;
	CowImage  **olds;
	CowImage  **news;
	int64		nolds = 0,
				nnews = 0,
				cap_o = 64,
				cap_n = 64;
	MemoryContext gcxt = AllocSetContextCreate(st->cxt, "incetl cow feed group",
											   ALLOCSET_DEFAULT_SIZES);
	int			i;
	int64		oi,
				ni;

	memset(&hctl, 0, sizeof(hctl));
	hctl.keysize = sizeof(CowImageKey);
	hctl.entrysize = sizeof(CowImageEntry);
	hctl.hcxt = st->cxt;
	htab = hash_create("incetl cow feed rows", 1024, &hctl,
					   HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	olds = palloc(sizeof(CowImage *) * cap_o);
	news = palloc(sizeof(CowImage *) * cap_n);

	for (i = 0; i < nold; i++)
	{
		CowDecodedGroup *g;
		uint64		r;
		MemoryContext mcxt;

		CHECK_FOR_INTERRUPTS();
		mcxt = MemoryContextSwitchTo(gcxt);
		g = CowDecodeGroup(st->rel, &old[i], true, NULL, true);
		MemoryContextSwitchTo(mcxt);
		for (r = 0; r < g->nrows; r++)
		{
			CowImageKey key;
			CowImageEntry *e;
			CowImage   *img;
			bool		found;

			CowFillRow(st, g, r, st->bvalues, st->bnulls);
			memset(&key, 0, sizeof(key));
			key.commit_id = g->commit_ids[r];
			key.hash = CowRowHash(st, st->bvalues, st->bnulls);
			img = CowCopyImage(st, st->bvalues, st->bnulls, key.commit_id,
							   key.hash, nolds);
			e = hash_search(htab, &key, HASH_ENTER, &found);
			if (!found)
				e->first = NULL;
			img->next = e->first;
			e->first = img;
			if (nolds >= cap_o)
			{
				cap_o *= 2;
				olds = repalloc_huge(olds, sizeof(CowImage *) * cap_o);
			}
			olds[nolds++] = img;
		}
		MemoryContextReset(gcxt);
	}

	for (i = 0; i < nnew; i++)
	{
		CowDecodedGroup *g;
		uint64		r;
		MemoryContext mcxt;

		CHECK_FOR_INTERRUPTS();
		mcxt = MemoryContextSwitchTo(gcxt);
		g = CowDecodeGroup(st->rel, &new[i], true, NULL, true);
		MemoryContextSwitchTo(mcxt);
		for (r = 0; r < g->nrows; r++)
		{
			CowImageKey key;
			CowImageEntry *e;
			CowImage   *img = NULL;

			CowFillRow(st, g, r, st->avalues, st->anulls);
			memset(&key, 0, sizeof(key));
			key.commit_id = g->commit_ids[r];
			key.hash = CowRowHash(st, st->avalues, st->anulls);
			e = hash_search(htab, &key, HASH_FIND, NULL);
			if (e != NULL)
			{
				for (img = e->first; img != NULL; img = img->next)
				{
					if (!img->matched &&
						CowRowEqual(st, img->values, img->nulls,
									st->avalues, st->anulls))
						break;
				}
			}
			if (img != NULL)
			{
				img->matched = true;
				continue;
			}
			if (nnews >= cap_n)
			{
				cap_n *= 2;
				news = repalloc_huge(news, sizeof(CowImage *) * cap_n);
			}
			news[nnews] = CowCopyImage(st, st->avalues, st->anulls,
									   key.commit_id, key.hash, nnews);
			nnews++;
		}
		MemoryContextReset(gcxt);
	}

	/* the old rows left over, in their order */
	ni = 0;
	for (oi = 0; oi < nolds; oi++)
		if (!olds[oi]->matched)
			olds[ni++] = olds[oi];
	nolds = ni;

	if (st->opts.nkeys == 0)
	{
		for (oi = 0; oi < nolds; oi++)
			st->cb(COW_CHANGE_DELETE, olds[oi]->values, olds[oi]->nulls,
				   NULL, NULL, 0, st->arg);
		for (ni = 0; ni < nnews; ni++)
			st->cb(COW_CHANGE_INSERT, NULL, NULL, news[ni]->values,
				   news[ni]->nulls, news[ni]->commit_id, st->arg);
		return;
	}

	/* pair them by today's key, in key order */
	if (nolds > 1)
		qsort_arg(olds, nolds, sizeof(CowImage *), CowImageKeyCmp, st);
	if (nnews > 1)
		qsort_arg(news, nnews, sizeof(CowImage *), CowImageKeyCmp, st);
	oi = ni = 0;
	while (oi < nolds || ni < nnews)
	{
		int			c = oi >= nolds ? 1 : ni >= nnews ? -1 :
			CowImageKeyOnlyCmp(st, olds[oi], news[ni]);

		if (c < 0)
		{
			st->cb(COW_CHANGE_DELETE, olds[oi]->values, olds[oi]->nulls,
				   NULL, NULL, 0, st->arg);
			oi++;
		}
		else if (c > 0)
		{
			st->cb(COW_CHANGE_INSERT, NULL, NULL, news[ni]->values,
				   news[ni]->nulls, news[ni]->commit_id, st->arg);
			ni++;
		}
		else
		{
			st->cb(COW_CHANGE_UPDATE, olds[oi]->values, olds[oi]->nulls,
				   news[ni]->values, news[ni]->nulls, news[ni]->commit_id,
				   st->arg);
			oi++;
			ni++;
		}
	}
}

/* ---------- the diff ---------- */

typedef struct CowCommitOp
{
	int64		commit_id;
	bool		rewrite;
} CowCommitOp;

static int
CowCommitOpCmp(const void *a, const void *b)
{
	int64		ca = ((const CowCommitOp *) a)->commit_id;
	int64		cb = ((const CowCommitOp *) b)->commit_id;

	return ca < cb ? -1 : (ca > cb ? 1 : 0);
}

static int
CowVersionStartCmp(const void *a, const void *b)
{
	int64		ca = ((const CowVersion *) a)->commit_id;
	int64		cb = ((const CowVersion *) b)->commit_id;

	return ca < cb ? -1 : (ca > cb ? 1 : 0);
}

/*
 * CowLoadCommitOps returns the recorded commits of storage_id snapshot
 * sees, oldest first, and which are rewrites.
 */
static CowCommitOp *
CowLoadCommitOps(int64 storage_id, Snapshot snapshot, int *ncommits)
{
	Relation	catalog;
	SysScanDesc scan;
	ScanKeyData key;
	HeapTuple	tup;
	int			n = 0,
				cap = 64;
	CowCommitOp *ops = palloc(sizeof(CowCommitOp) * cap);

	catalog = table_open(CowCatalogRelid("cow_commit", false), AccessShareLock);
	ScanKeyInit(&key, 1, BTEqualStrategyNumber, F_INT8EQ,
				Int64GetDatum(storage_id));
	scan = CowCatalogScan(catalog, snapshot, &key);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		TupleDesc	desc = RelationGetDescr(catalog);
		bool		isnull;
		char	   *op;

		if (n >= cap)
		{
			cap *= 2;
			ops = repalloc(ops, sizeof(CowCommitOp) * cap);
		}
		ops[n].commit_id = DatumGetInt64(heap_getattr(tup, 2, desc, &isnull));
		op = TextDatumGetCString(heap_getattr(tup, 4, desc, &isnull));
		ops[n].rewrite = (strcmp(op, "rewrite") == 0);
		n++;
	}
	systable_endscan(scan);
	table_close(catalog, AccessShareLock);
	if (n > 1)
		qsort(ops, n, sizeof(CowCommitOp), CowCommitOpCmp);
	*ncommits = n;
	return ops;
}

/*
 * CowKeyStableAfter computes CowDiffState.stable_after from the commits
 * and every version (current or superseded) of the storage.  Versions of
 * no row, if any, do not count as the table holding rows.
 */
static int64
CowKeyStableAfter(CowCommitOp *ops, int nops, CowVersion *all, int nall)
{
	CowVersion *v = palloc(sizeof(CowVersion) * Max(nall, 1));
	int64		stable = 0;
	int64		maxend = 0;
	int			n = 0,
				i,
				j;

	for (i = 0; i < nall; i++)
		if (all[i].row_count > 0)
			v[n++] = all[i];
	if (n > 1)
		qsort(v, n, sizeof(CowVersion), CowVersionStartCmp);
	for (i = 0, j = 0; i < nops; i++)
	{
		int64		m = ops[i].commit_id;

		if (ops[i].rewrite)
			stable = Max(stable, m - 1);
		/* the versions current after commit m: written at or before it */
		for (; j < n && v[j].commit_id <= m; j++)
			maxend = Max(maxend, v[j].superseded_by == 0 ? PG_INT64_MAX :
						 v[j].superseded_by);
		if (maxend <= m)
			stable = Max(stable, m);	/* no row after m */
	}
	pfree(v);
	return stable;
}

static void
CowDiffInit(CowDiffState *st, Relation rel, Snapshot snapshot,
			CowChangeCallback cb, void *arg)
{
	int64		storage_id = CowStorageId(rel);
	int			nops,
				nall;
	CowCommitOp *ops;
	CowVersion *all;

	memset(st, 0, sizeof(*st));
	st->rel = rel;
	st->tupdesc = RelationGetDescr(rel);
	st->natts = st->tupdesc->natts;
	CowLoadOptions(rel, snapshot, &st->opts);
	if (st->opts.nkeys > 0)
		st->keys = CowKeyComparators(st->tupdesc, &st->opts);
	ops = CowLoadCommitOps(storage_id, snapshot, &nops);
	all = CowLoadVersions(storage_id, snapshot, false, &nall);
	st->stable_after = CowKeyStableAfter(ops, nops, all, nall);
	pfree(ops);
	pfree(all);
	st->cb = cb;
	st->arg = arg;
	st->cxt = AllocSetContextCreate(CurrentMemoryContext, "incetl cow feed",
									ALLOCSET_DEFAULT_SIZES);
	st->bvalues = palloc(sizeof(Datum) * Max(st->natts, 1));
	st->bnulls = palloc(sizeof(bool) * Max(st->natts, 1));
	st->avalues = palloc(sizeof(Datum) * Max(st->natts, 1));
	st->anulls = palloc(sizeof(bool) * Max(st->natts, 1));
}

/*
 * CowDiffRun diffs old against new (see CowDiffVersions); the arrays may be
 * reordered.
 */
static void
CowDiffRun(CowDiffState *st, CowVersion *old, int nold, CowVersion *new,
		   int nnew)
{
	MemoryContext mcxt = MemoryContextSwitchTo(st->cxt);
	bool		by_key = (st->opts.nkeys > 0);
	int			i;

	/* a merge join needs both sides sorted by today's key */
	for (i = 0; by_key && i < nold + nnew; i++)
	{
		CowVersion *v = i < nold ? &old[i] : &new[i - nold];

		if (v->commit_id <= st->stable_after)
			by_key = false;
		else
		{
			CowGroupHeader *h = CowReadGroupHeader(st->rel, v);

			by_key = ((int) h->nkeys == st->opts.nkeys);
			pfree(h);
		}
	}
	if (nold + nnew > 0)
	{
		if (by_key)
			CowDiffByKey(st, old, nold, new, nnew);
		else
			CowDiffMultiset(st, old, nold, new, nnew);
	}
	MemoryContextSwitchTo(mcxt);
	MemoryContextReset(st->cxt);
}

/*
 * CowDiffVersions: see cow/maintenance.h.  Reads the options, commits and
 * versions of rel under the active snapshot; rel is open and locked by the
 * caller.
 */
void
CowDiffVersions(Relation rel, CowVersion *old, int nold, CowVersion *new,
				int nnew, CowChangeCallback cb, void *arg)
{
	CowDiffState st;
	CowVersion *o = palloc(sizeof(CowVersion) * Max(nold, 1));
	CowVersion *n = palloc(sizeof(CowVersion) * Max(nnew, 1));

	/* the diff sorts the arrays: work on copies */
	memcpy(o, old, sizeof(CowVersion) * nold);
	memcpy(n, new, sizeof(CowVersion) * nnew);
	CowDiffInit(&st, rel, GetActiveSnapshot(), cb, arg);
	CowDiffRun(&st, o, nold, n, nnew);
	MemoryContextDelete(st.cxt);
	pfree(o);
	pfree(n);
}

/* ---------- the SQL functions ---------- */

static void
CowFeedEmit(CowChangeOp op, Datum *before_values, bool *before_nulls,
			Datum *after_values, bool *after_nulls, int64 commit_id,
			void *arg)
{
	CowFeedOut *out = arg;
	MemoryContext old = MemoryContextSwitchTo(out->cxt);
	Datum		values[4];
	bool		nulls[4] = {false, false, false, false};

	if (!out->net || op == COW_CHANGE_DELETE)
		commit_id = out->commit_id;
	values[0] = Int64GetDatum(commit_id);
	values[1] = CStringGetTextDatum(op == COW_CHANGE_INSERT ? "insert" :
									op == COW_CHANGE_UPDATE ? "update" : "delete");
	if (before_values != NULL)
		values[2] = HeapTupleGetDatum(heap_form_tuple(out->rowdesc, before_values,
													  before_nulls));
	else
		nulls[2] = true;
	if (after_values != NULL)
		values[3] = HeapTupleGetDatum(heap_form_tuple(out->rowdesc, after_values,
													  after_nulls));
	else
		nulls[3] = true;
	tuplestore_putvalues(out->rsinfo->setResult, out->rsinfo->setDesc,
						 values, nulls);
	MemoryContextSwitchTo(old);
	MemoryContextReset(out->cxt);
}

/* the versions of an array whose ids point into it (for per-commit lists) */
static CowVersion *
CowVersionArray(List *list, int *n)
{
	CowVersion *arr = palloc(sizeof(CowVersion) * Max(list_length(list), 1));
	ListCell   *lc;
	int			i = 0;

	foreach(lc, list)
		arr[i++] = *(CowVersion *) lfirst(lc);
	*n = i;
	return arr;
}

static int
CowFindCommit(CowCommitOp *ops, int n, int64 commit_id)
{
	int			lo = 0,
				hi = n - 1;

	while (lo <= hi)
	{
		int			mid = lo + (hi - lo) / 2;

		if (ops[mid].commit_id == commit_id)
			return mid;
		if (ops[mid].commit_id < commit_id)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return -1;
}

/*
 * CowFeed: table_changes (net false) and net_changes (net true) of
 * NULL::tbl over (since_commit, until_commit], until_commit NULL meaning
 * the newest commit the caller's snapshot sees.
 */
static void
CowFeed(FunctionCallInfo fcinfo, bool net)
{
	const char *fname = net ? "incetl.net_changes" : "incetl.table_changes";
	const char *fcall = net ? "net_changes()" : "table_changes()";
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Snapshot	snapshot = GetActiveSnapshot();
	Oid			relid;
	Relation	rel;
	CowMetaPageData meta;
	int64		since,
				until,
				latest;
	CowDiffState st;
	CowFeedOut	out;
	CowVersion *versions;
	int			nversions,
				i;

	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("since_commit must not be NULL"),
				 errhint("Use 0 to read every change.")));
	since = PG_GETARG_INT64(1);
	InitMaterializedSRF(fcinfo, 0);
	relid = CowRelidFromRowType(fcinfo, fname);
	rel = CowOpenChecked(relid, ACL_SELECT);
	/* the feed reads file groups directly: it cannot apply policies */
	if (check_enable_rls(relid, InvalidOid, true) == RLS_ENABLED)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("%s() is not supported on \"%s\", which has row-level security enabled",
						fname, RelationGetRelationName(rel)),
				 errhint("Query the table itself, or ask its owner to read it.")));
	if (since < 0 || (!PG_ARGISNULL(2) && PG_GETARG_INT64(2) < 0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("commit ids must not be negative"),
				 errhint("Use 0 to read every change.")));
	meta = CowReadMetaPage(rel);
	latest = CowCheckCommitExists(rel, meta.storage_id, since, snapshot);
	until = PG_ARGISNULL(2) ? latest : PG_GETARG_INT64(2);
	(void) CowCheckCommitExists(rel, meta.storage_id, until, snapshot);
	if (since > until)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("since_commit " INT64_FORMAT " is after until_commit " INT64_FORMAT,
						since, until)));

	/*
	 * The feed starts from the table at since (its versions superseded in
	 * the range), and ends at until.
	 */
	CowCheckCommitReadable(rel, &meta, since, snapshot, fcall);
	CowCheckCommitReadable(rel, &meta, until, snapshot, fcall);

	/*
	 * table_changes also reads what each commit of the range superseded,
	 * versions that may have been written in the range: cleaning removed
	 * those superseded at or before the clean horizon.  (As long as every
	 * commit is readable only from the horizon on, the check above already
	 * refuses such a range.)
	 */
	if (!net && since < meta.clean_horizon)
	{
		int64		gone = CowNewestCommit(meta.storage_id, snapshot,
										   Min(until, meta.clean_horizon));

		if (gone > since)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("the changes of \"%s\" up to commit " INT64_FORMAT " are no longer retained",
							RelationGetRelationName(rel), gone),
					 errdetail("File group versions superseded at or before commit " INT64_FORMAT " have been cleaned.",
							   meta.clean_horizon),
					 errhint("table_changes() can read the changes after commit " INT64_FORMAT "; net_changes() from commit 0 returns every current row as inserted.",
							 gone)));
	}

	memset(&out, 0, sizeof(out));
	out.rsinfo = rsinfo;
	out.rowdesc = RelationGetDescr(rel);
	out.net = net;
	out.cxt = AllocSetContextCreate(CurrentMemoryContext, "incetl cow feed row",
									ALLOCSET_DEFAULT_SIZES);
	CowDiffInit(&st, rel, snapshot, CowFeedEmit, &out);
	versions = CowLoadVersions(meta.storage_id, snapshot, false, &nversions);

	if (net)
	{
		List	   *old = NIL,
				   *new = NIL;
		CowVersion *o,
				   *n;
		int			no,
					nn;

		/*
		 * old: current at since, superseded by until; new: current at until,
		 * written after since.  Those current at both are unchanged.
		 */
		for (i = 0; i < nversions; i++)
		{
			CowVersion *v = &versions[i];

			if (v->commit_id <= since && v->superseded_by > since &&
				v->superseded_by <= until)
				old = lappend(old, v);
			else if (v->commit_id > since && v->commit_id <= until &&
					 (v->superseded_by == 0 || v->superseded_by > until))
				new = lappend(new, v);
		}
		o = CowVersionArray(old, &no);
		n = CowVersionArray(new, &nn);
		out.commit_id = until;
		CowDiffRun(&st, o, no, n, nn);
	}
	else
	{
		int			nops;
		CowCommitOp *ops = CowLoadCommitOps(meta.storage_id, snapshot, &nops);
		List	  **olds = palloc0(sizeof(List *) * Max(nops, 1));
		List	  **news = palloc0(sizeof(List *) * Max(nops, 1));

		/*
		 * per commit c: old, what it superseded; new, what it wrote (neither
		 * includes a version a statement merged in parts wrote and then
		 * superseded itself)
		 */
		for (i = 0; i < nversions; i++)
		{
			CowVersion *v = &versions[i];
			int			c;

			if (v->superseded_by == v->commit_id)
				continue;
			if (v->superseded_by > since && v->superseded_by <= until &&
				(c = CowFindCommit(ops, nops, v->superseded_by)) >= 0)
				olds[c] = lappend(olds[c], v);
			if (v->commit_id > since && v->commit_id <= until &&
				(c = CowFindCommit(ops, nops, v->commit_id)) >= 0)
				news[c] = lappend(news[c], v);
		}
		for (i = 0; i < nops; i++)
		{
			CowVersion *o,
					   *n;
			int			no,
						nn;

			if (ops[i].commit_id <= since || ops[i].commit_id > until)
				continue;
			o = CowVersionArray(olds[i], &no);
			n = CowVersionArray(news[i], &nn);
			out.commit_id = ops[i].commit_id;
			CowDiffRun(&st, o, no, n, nn);
			pfree(o);
			pfree(n);
		}
	}
	MemoryContextDelete(st.cxt);
	MemoryContextDelete(out.cxt);
	relation_close(rel, AccessShareLock);
}

/*
 * incetl.table_changes(NULL::tbl, since_commit, until_commit): per commit
 * in (since, until] and key it changed, the operation and the row before
 * and after; ordered by commit, then key.
 */
Datum
incetl_cow_table_changes(PG_FUNCTION_ARGS)
{
	CowFeed(fcinfo, false);
	return (Datum) 0;
}

/*
 * incetl.net_changes(NULL::tbl, since_commit, until_commit): per key whose
 * row at since differs from its row at until, the operation and both rows;
 * ordered by key.
 */
Datum
incetl_cow_net_changes(PG_FUNCTION_ARGS)
{
	CowFeed(fcinfo, true);
	return (Datum) 0;
}
