/*-------------------------------------------------------------------------
 *
 * cow_version_cache.c
 *	  Storages' lists of file group versions, kept in the server's shared
 *	  cache (cow_shared_cache.c) for every snapshot that sees the
 *	  transactions that wrote them as committed.
 *
 * A reader finds the file group versions its snapshot sees by scanning
 * incetl.cow_file_group under that snapshot (CowLoadVersions).  A backend
 * keeps what it read for the snapshots of the same view (cow_scan.c), but
 * a new session has nothing kept, and its first point lookup opens the
 * catalog and its index -- builds their relcache entries -- before it
 * reads a row: about half of what a session of one lookup costs more than
 * on heap.  Here the lists are kept for every backend of the server.
 *
 * What a snapshot sees of a storage's catalog rows is settled once every
 * transaction that inserted or deleted (superseded, cleaned) one of them
 * has ended.  A row whose inserter committed is then seen by every
 * snapshot that sees the inserter committed, unless its deleter committed
 * too and the snapshot sees that; a row whose inserter aborted is seen by
 * none.  So a list read when the rows are settled -- all rows of the
 * storage, whatever their visibility, judged one by one -- is the list of
 * every snapshot that sees as committed each transaction it names: the
 * inserters of the rows in it and the deleters of the rows left out.
 * That is what a reader checks (CowVersionListUsable): each such xid
 * precedes its snapshot's xmin, or precedes its xmax and is not among its
 * running transactions.  A list with a row still being inserted or
 * deleted by a running transaction (or deleted by a multixact) is not
 * kept; a reader then scans the catalog under its snapshot as before.
 *
 * A change after the list was read is not in it: the record is keyed by
 * the storage's generation (cow_shared_cache.c), which every writer of
 * the storage's rows counts after its change and before it commits.  The
 * builder reads the generation before its scan, so a change the scan
 * missed was counted after that: a reader whose snapshot sees the change
 * committed took its snapshot after the count and asks for a newer
 * generation.  A change made before the generation was read is in the
 * buffers the scan reads.
 *
 * Rows are judged as heap's visibility routines judge them: their header
 * read with the buffer locked share (a writer sets xmax and the infomask
 * under the lock exclusive), by their hint bits and, without them, a
 * running transaction first, then the commit log.  The transaction ids
 * are kept as they are (32 bits); a list read more than 2^30 transactions
 * ago is not used.  What else a version
 * carries stays right: its catalog row's xmin (which a later freeze
 * changes for heap's readers to FrozenTransactionId, a committed writer
 * either way) and the row's TID, which a rewrite of the catalog (VACUUM
 * FULL) changes: CowVersionUpdater finds a moved row again by its key.
 *
 * Only index fetches and scans in a transaction without an xid use the
 * lists, through the backend's own cache (CowFetchVersions), under MVCC
 * snapshots, and not during recovery.  A list tells a reader no more than
 * the catalog scan it replaces: which file group versions a table it has
 * opened, its privileges checked, has.
 *
 * Copyright (c) 2026, incetl authors
 *
 * IDENTIFICATION
 *	  src/cow/cow_version_cache.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/transam.h"
#include "access/xact.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "storage/procarray.h"
#include "utils/fmgroids.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "cow/read.h"
#include "cow/shared_cache.h"

/* lists of more versions are not kept */
#define COW_VERSION_LIST_MAX		4096
/* at most this many xids are kept to test one by one */
#define COW_VERSION_LIST_XIDS		64
/* a list read this many transactions ago or more is not used */
#define COW_VERSION_LIST_MAX_AGE	((uint64) 1 << 30)

/*
 * A kept list: this header, nxids xids (MAXALIGNed), then nversions
 * CowVersions ordered by first row number.
 */
typedef struct CowVersionListHead
{
	FullTransactionId built;	/* the next transaction id when it was read */
	TransactionId newest;		/* the newest of the xids, or invalid: none */
	int32		nxids;			/* -1: more than COW_VERSION_LIST_XIDS, only
								 * newest is kept */
	int32		nversions;
} CowVersionListHead;

#define COW_VERSION_LIST_XIDS_AT	MAXALIGN(sizeof(CowVersionListHead))
#define COW_VERSION_LIST_AT(nxids) \
	(COW_VERSION_LIST_XIDS_AT + MAXALIGN(sizeof(TransactionId) * Max(nxids, 0)))

/*
 * The storage whose list this backend last could not keep, at which
 * generation, and why: a transaction still running then (while the
 * generation is the same and a reader's snapshot sees that transaction
 * running, the list would be unsettled again), or more versions than are
 * kept (while the generation is the same).  It is not read again then.
 */
static int64 CowUnsettledStorage = 0;
static uint64 CowUnsettledGeneration = 0;
static uint64 CowUnsettledEpoch = 0;
static TransactionId CowUnsettledXid = InvalidTransactionId;
static bool CowUnsettledTooMany = false;

/* the fate of a transaction that wrote a catalog row */
typedef enum CowXidFate
{
	COW_XID_COMMITTED,
	COW_XID_ABORTED,
	COW_XID_RUNNING
} CowXidFate;

static CowXidFate
CowXidFateOf(TransactionId xid)
{
	if (!TransactionIdIsNormal(xid))
		return COW_XID_COMMITTED;	/* bootstrap or frozen */
	if (TransactionIdIsCurrentTransactionId(xid) ||
		TransactionIdIsInProgress(xid))
		return COW_XID_RUNNING;
	/* not running: the commit log has its fate for good */
	if (TransactionIdDidCommit(xid))
		return COW_XID_COMMITTED;
	return COW_XID_ABORTED;		/* or crashed */
}

/* the list being read: the versions seen, and the xids they depend on */
typedef struct CowVersionListBuild
{
	CowVersion *versions;
	int			nversions;
	int			cap;
	TransactionId xids[COW_VERSION_LIST_XIDS];
	int			nxids;			/* -1 once more than fit */
	TransactionId newest;
	FullTransactionId built;	/* the next transaction id before the read */
	TransactionId running;		/* a running writer, when unsettled */
	bool		unsettled;
	bool		too_many;		/* more than COW_VERSION_LIST_MAX versions */
} CowVersionListBuild;

static void
CowVersionListAddXid(CowVersionListBuild *b, TransactionId xid)
{
	int			i;

	if (!TransactionIdIsNormal(xid))
		return;
	if (!TransactionIdIsValid(b->newest) || TransactionIdFollows(xid, b->newest))
		b->newest = xid;
	if (b->nxids < 0)
		return;
	for (i = 0; i < b->nxids; i++)
		if (b->xids[i] == xid)
			return;
	if (b->nxids == COW_VERSION_LIST_XIDS)
		b->nxids = -1;
	else
		b->xids[b->nxids++] = xid;
}

/* what CowVersionListJudge reads of a row's header, under its buffer lock */
typedef struct CowRowHeader
{
	uint16		infomask;
	bool		xmin_frozen;
	bool		xmin_invalid;
	bool		xmin_committed;
	TransactionId xmin;
	TransactionId xmax;
} CowRowHeader;

/*
 * CowVersionListJudge adds one catalog row, read with SnapshotAny, to the
 * list when its inserter committed and no committed transaction deleted
 * it, noting the xid a snapshot must see committed; or marks the list
 * unsettled.  hdr was read with the row's buffer locked, as heap's
 * visibility routines read it: a writer changes the fields under the lock
 * exclusive.
 */
static void
CowVersionListJudge(CowVersionListBuild *b, HeapTuple tup, TupleDesc desc,
					const CowRowHeader *hdr)
{
	uint16		infomask = hdr->infomask;
	TransactionId xmin = InvalidTransactionId;
	CowXidFate	fate;

	/* the inserter */
	if (hdr->xmin_frozen)
		fate = COW_XID_COMMITTED;
	else if (hdr->xmin_invalid)
		return;					/* aborted */
	else
	{
		xmin = hdr->xmin;
		fate = hdr->xmin_committed ? COW_XID_COMMITTED : CowXidFateOf(xmin);
	}
	if (fate == COW_XID_ABORTED)
		return;
	if (fate == COW_XID_RUNNING)
	{
		b->unsettled = true;
		b->running = xmin;
		return;
	}

	/* the deleter, if any: an update (superseded_by set) or a delete */
	if (!(infomask & HEAP_XMAX_INVALID) && !HEAP_XMAX_IS_LOCKED_ONLY(infomask))
	{
		if (infomask & HEAP_XMAX_IS_MULTI)
		{
			b->unsettled = true;
			b->running = InvalidTransactionId;
			return;
		}
		fate = (infomask & HEAP_XMAX_COMMITTED) ? COW_XID_COMMITTED :
			CowXidFateOf(hdr->xmax);
		if (fate == COW_XID_RUNNING)
		{
			b->unsettled = true;
			b->running = hdr->xmax;
			return;
		}
		if (fate == COW_XID_COMMITTED)
		{
			/* deleted: seen by no snapshot that sees the deleter commit */
			CowVersionListAddXid(b, hdr->xmax);
			return;
		}
	}

	/* seen by every snapshot that sees its inserter commit */
	CowVersionListAddXid(b, xmin);
	if (b->nversions == b->cap)
	{
		b->cap *= 2;
		b->versions = repalloc(b->versions, sizeof(CowVersion) * b->cap);
	}
	CowVersionFromHeapTuple(tup, desc, &b->versions[b->nversions++]);
}

/*
 * CowRowHeaderRead reads the header fields of the row the catalog scan
 * returned, its buffer (which the scan's slot pins) locked share; false
 * when the row is not in a buffer (never for a heap catalog).
 */
static bool
CowRowHeaderRead(SysScanDesc scan, HeapTuple tup, CowRowHeader *hdr)
{
	Buffer		buf;
	HeapTupleHeader t = tup->t_data;

	if (scan->slot == NULL || !TTS_IS_BUFFERTUPLE(scan->slot))
		return false;
	buf = ((BufferHeapTupleTableSlot *) scan->slot)->buffer;
	if (!BufferIsValid(buf))
		return false;
	LockBuffer(buf, BUFFER_LOCK_SHARE);
	hdr->infomask = t->t_infomask;
	hdr->xmin_frozen = HeapTupleHeaderXminFrozen(t);
	hdr->xmin_invalid = HeapTupleHeaderXminInvalid(t);
	hdr->xmin_committed = HeapTupleHeaderXminCommitted(t);
	hdr->xmin = HeapTupleHeaderGetRawXmin(t);
	hdr->xmax = HeapTupleHeaderGetRawXmax(t);
	LockBuffer(buf, BUFFER_LOCK_UNLOCK);
	return true;
}

/*
 * CowVersionListUsable: does snap see each transaction the list names as
 * committed (see the top of the file)?
 */
static bool
CowVersionListUsable(const CowVersionListHead *h, const TransactionId *xids,
					 Snapshot snap)
{
	FullTransactionId next = ReadNextFullTransactionId();
	int			i;

	if (U64FromFullTransactionId(next) - U64FromFullTransactionId(h->built) >=
		COW_VERSION_LIST_MAX_AGE)
		return false;
	if (!TransactionIdIsValid(h->newest) ||
		TransactionIdPrecedes(h->newest, snap->xmin))
		return true;
	if (h->nxids < 0)
		return false;
	for (i = 0; i < h->nxids; i++)
	{
		TransactionId xid = xids[i];

		if (TransactionIdPrecedes(xid, snap->xmin))
			continue;
		if (!TransactionIdPrecedes(xid, snap->xmax) ||
			XidInMVCCSnapshot(xid, snap))
			return false;
	}
	return true;
}

/* the key of a storage's list (cow/shared_cache.h) */
static void
CowVersionListKey(CowSharedKey *key, int64 storage_id, uint64 generation,
				  uint64 epoch, bool current_only, bool rowix)
{
	memset(key, 0, sizeof(CowSharedKey));
	key->version.node.dbNode = MyDatabaseId;
	key->version.first_row_number = storage_id;
	key->version.commit_id = (int64) generation;
	key->version.file_group_id = (int64) epoch;
	key->attidx = COW_SHARED_VERSION_LIST;
	key->blockno = (current_only ? 1 : 0) + (rowix ? 2 : 0);
}

/* what CowVersionListCopyOut copies a kept list into */
typedef struct CowVersionListCopy
{
	char	   *dst;
	Size		cap;
	Size		len;
} CowVersionListCopy;

static void
CowVersionListCopyOut(const char *bytes, Size len, void *arg)
{
	CowVersionListCopy *c = arg;

	c->len = len;
	if (len <= c->cap)
		memcpy(c->dst, bytes, len);
}

/*
 * CowVersionRecordGet copies the record of key out, palloc'd; NULL when
 * none is kept.  A key's record says the same whoever made it, but not
 * always in as many bytes (a row frozen since leaves its xid out).
 */
static char *
CowVersionRecordGet(const CowSharedKey *key, Size *len)
{
	CowVersionListCopy c;
	int			attempt;

	c.cap = 4096;
	c.dst = palloc(c.cap);
	for (attempt = 0; attempt < 2; attempt++)
	{
		if (!CowSharedCacheRead(key, COW_SHARED_ANY_LENGTH,
								CowVersionListCopyOut, &c))
			break;
		if (c.len > c.cap)
		{
			pfree(c.dst);
			c.cap = c.len;
			c.dst = palloc(c.cap);
			continue;
		}
		*len = c.len;
		return c.dst;
	}
	pfree(c.dst);
	return NULL;
}

/* CowVersionListGet: the kept list of key, checked, or NULL */
static char *
CowVersionListGet(const CowSharedKey *key, Size *len)
{
	char	   *bytes = CowVersionRecordGet(key, len);
	const CowVersionListHead *h = (const CowVersionListHead *) bytes;

	if (bytes != NULL &&
		(*len < COW_VERSION_LIST_XIDS_AT ||
		 h->nversions < 0 || h->nxids > COW_VERSION_LIST_XIDS ||
		 *len != COW_VERSION_LIST_AT(h->nxids) +
		 sizeof(CowVersion) * h->nversions))
	{
		pfree(bytes);
		return NULL;
	}
	return bytes;
}

/*
 * CowVersionListSelect copies the versions of src[n] a list holds (the
 * current ones alone, or all) to dst, which may be src; returns how many.
 */
static int
CowVersionListSelect(CowVersion *dst, const CowVersion *src, int n,
					 bool current_only)
{
	int			k = 0;

	for (int i = 0; i < n; i++)
	{
		if (current_only && src[i].superseded_by != 0)
			continue;
		if (&dst[k] != &src[i])
			dst[k] = src[i];
		k++;
	}
	return k;
}

/* CowVersionListPut keeps versions (the current ones alone, or all) */
static void
CowVersionListPut(const CowSharedKey *key, const CowVersionListBuild *b,
				  bool current_only)
{
	CowVersionListHead *h;
	Size		at = COW_VERSION_LIST_AT(b->nxids);
	Size		len;
	CowVersion *out;
	char	   *bytes;

	len = at + sizeof(CowVersion) * b->nversions;
	bytes = palloc0(len);
	h = (CowVersionListHead *) bytes;
	h->built = b->built;
	h->newest = b->newest;
	h->nxids = b->nxids;
	if (b->nxids > 0)
		memcpy(bytes + COW_VERSION_LIST_XIDS_AT, b->xids,
			   sizeof(TransactionId) * b->nxids);
	out = (CowVersion *) (bytes + at);
	h->nversions = CowVersionListSelect(out, b->versions, b->nversions,
										current_only);
	len = at + sizeof(CowVersion) * h->nversions;
	(void) CowSharedCachePut(key, bytes, len);
	pfree(bytes);
}

/*
 * CowVersionListRead reads the versions of a storage from the catalog with
 * SnapshotAny and keeps them, the current ones and all, when they are
 * settled and no change was counted meanwhile; b gets what was read.
 * True when they were kept: b's lists are then those of the generation.
 */
static bool
CowVersionListRead(CowVersionListBuild *b, int64 storage_id,
				   uint64 generation, uint64 epoch)
{
	Relation	catalog;
	SysScanDesc scan;
	ScanKeyData skey;
	HeapTuple	tup;
	uint64		now;
	uint64		now_epoch;

	memset(b, 0, sizeof(CowVersionListBuild));
	b->cap = 16;
	b->versions = palloc(sizeof(CowVersion) * b->cap);
	b->newest = InvalidTransactionId;
	b->built = ReadNextFullTransactionId();

	catalog = table_open(CowCatalogRelid("cow_file_group", false),
						 AccessShareLock);
	ScanKeyInit(&skey, 1, BTEqualStrategyNumber, F_INT8EQ,
				Int64GetDatum(storage_id));
	scan = CowCatalogScan(catalog, SnapshotAny, &skey);
	while (!b->unsettled && !b->too_many &&
		   HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		CowRowHeader hdr;

		if (!CowRowHeaderRead(scan, tup, &hdr))
		{
			b->unsettled = true;
			b->running = InvalidTransactionId;
			break;
		}
		CowVersionListJudge(b, tup, RelationGetDescr(catalog), &hdr);
		b->too_many = b->nversions > COW_VERSION_LIST_MAX;
	}
	systable_endscan(scan);
	table_close(catalog, AccessShareLock);
	if (b->unsettled || b->too_many)
		return false;
	CowSortVersions(b->versions, b->nversions);

	/* a change counted meanwhile would make the lists unreachable */
	if (!CowSharedCacheStorageGeneration(storage_id, &now, &now_epoch) ||
		now != generation || now_epoch != epoch)
		return false;
	{
		CowSharedKey key;

		CowVersionListKey(&key, storage_id, generation, epoch, false, false);
		CowVersionListPut(&key, b, false);
		CowVersionListKey(&key, storage_id, generation, epoch, true, false);
		CowVersionListPut(&key, b, true);
	}
	return true;
}

static void
CowVersionListIdSet(CowVersionListId *id, int64 storage_id, uint64 generation,
					uint64 epoch, bool current_only)
{
	id->valid = true;
	id->storage_id = storage_id;
	id->generation = generation;
	id->epoch = epoch;
	id->current_only = current_only;
}

/*
 * CowVersionCacheLoad returns the file group versions of a storage that
 * snapshot sees (the current ones alone when current_only), ordered by
 * first row number, as CowLoadVersions does, from the shared cache: read
 * into it first when they are not kept.  NULL when it cannot answer: the
 * cache off, a snapshot it does not serve (not MVCC, in a transaction
 * with an xid, during recovery), the versions unsettled or not
 * committed for the snapshot; the caller then reads the catalog itself.
 */
CowVersion *
CowVersionCacheLoad(int64 storage_id, Snapshot snapshot, bool current_only,
					int *nversions, CowVersionListId *id)
{
	uint64		generation;
	uint64		epoch;
	CowSharedKey key;
	char	   *bytes;
	Size		len;
	const CowVersionListHead *h;
	CowVersion *result;
	CowVersionListBuild b;
	bool		kept;

	id->valid = false;
	if (snapshot == NULL || snapshot->snapshot_type != SNAPSHOT_MVCC ||
		snapshot->takenDuringRecovery ||
		TransactionIdIsValid(GetTopTransactionIdIfAny()) ||
		!CowSharedCacheStorageGeneration(storage_id, &generation, &epoch))
		return NULL;

	CowVersionListKey(&key, storage_id, generation, epoch, current_only, false);
	bytes = CowVersionListGet(&key, &len);
	if (bytes != NULL)
	{
		h = (const CowVersionListHead *) bytes;
		if (!CowVersionListUsable(h, (const TransactionId *)
								  (bytes + COW_VERSION_LIST_XIDS_AT),
								  snapshot))
		{
			pfree(bytes);
			return NULL;
		}
		*nversions = h->nversions;
		CowVersionListIdSet(id, storage_id, generation, epoch, current_only);
		result = palloc(sizeof(CowVersion) * Max(h->nversions, 1));
		memcpy(result, bytes + COW_VERSION_LIST_AT(h->nxids),
			   sizeof(CowVersion) * h->nversions);
		pfree(bytes);
		return result;
	}

	/*
	 * Not again while nothing changed: too many versions, or a writer this
	 * snapshot sees running
	 */
	if (CowUnsettledStorage == storage_id &&
		CowUnsettledGeneration == generation && CowUnsettledEpoch == epoch &&
		(CowUnsettledTooMany ||
		 (TransactionIdIsValid(CowUnsettledXid) &&
		  (!TransactionIdPrecedes(CowUnsettledXid, snapshot->xmax) ||
		   XidInMVCCSnapshot(CowUnsettledXid, snapshot)))))
		return NULL;

	kept = CowVersionListRead(&b, storage_id, generation, epoch);
	if (b.unsettled || b.too_many)
	{
		CowUnsettledStorage = storage_id;
		CowUnsettledGeneration = generation;
		CowUnsettledEpoch = epoch;
		CowUnsettledXid = b.running;
		CowUnsettledTooMany = b.too_many;
		pfree(b.versions);
		return NULL;
	}

	/* what was read is this snapshot's list if it sees its writers commit */
	{
		CowVersionListHead head;

		memset(&head, 0, sizeof(head));
		head.built = b.built;
		head.newest = b.newest;
		head.nxids = b.nxids;
		head.nversions = b.nversions;
		if (!CowVersionListUsable(&head, b.xids, snapshot))
		{
			pfree(b.versions);
			return NULL;
		}
	}
	*nversions = CowVersionListSelect(b.versions, b.versions, b.nversions,
									  current_only);
	if (kept)
		CowVersionListIdSet(id, storage_id, generation, epoch, current_only);
	return b.versions;
}

/*
 * CowVersionCacheRowIndex returns the row index over versions[n]
 * (CowRowIndexBuild's): when the list is the one the cache answered with
 * as id, from the cache, or built and kept there; otherwise built.
 */
CowRowIndex *
CowVersionCacheRowIndex(Relation rel, const CowVersionListId *id,
						CowVersion *versions, int n)
{
	CowSharedKey key;
	char	   *bytes;
	Size		len;
	CowRowIndex *ix = NULL;

	if (!id->valid)
		return CowRowIndexBuild(rel, versions, n);
	CowVersionListKey(&key, id->storage_id, id->generation, id->epoch,
					  id->current_only, true);
	bytes = CowVersionRecordGet(&key, &len);
	if (bytes != NULL)
	{
		ix = CowRowIndexUnflatten(rel, versions, n, bytes, len);
		pfree(bytes);
	}
	if (ix == NULL)
	{
		ix = CowRowIndexBuild(rel, versions, n);
		bytes = CowRowIndexFlatten(ix, &len);
		(void) CowSharedCachePut(&key, bytes, len);
		pfree(bytes);
	}
	return ix;
}
