/*-------------------------------------------------------------------------
 *
 * cow_storage.c
 *	  Pages of an incetl_cow relation: the metapage and the extents that
 *	  hold file group versions.
 *
 * Block 0 is the metapage (see cow.h).  Its counters are changed through
 * generic WAL while the buffer is exclusively locked.  Extents are runs of
 * new pages appended under the relation extension lock; every page is
 * filled inside a critical section and logged once with
 * log_newpage_buffer, so a crash before commit leaves only an orphan
 * extent that no catalog row references.  Pages of unlogged tables are not
 * WAL-logged (RelationNeedsWAL, as heap does); their init fork holds a
 * metapage marked COW_META_RESET, which crash recovery copies over the
 * main fork (see CowWriteInitFork).
 *
 * Copyright (c) 2026, incetl authors
 *
 * IDENTIFICATION
 *	  src/cow/cow_storage.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/generic_xlog.h"
#include "access/transam.h"
#include "access/xact.h"
#include "access/xloginsert.h"
#include "catalog/storage.h"
#include "catalog/storage_xlog.h"
#include "miscadmin.h"
#include "port/pg_crc32c.h"
#include "storage/buffile.h"
#include "storage/bufmgr.h"
#include "storage/lmgr.h"
#include "storage/smgr.h"
#include "pgstat.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "cow/storage.h"

static CowMetaPageData *CowMetaFromPage(Page page, Relation rel, bool any_version);
static CowMetaPageData CowReadMetaPageExt(Relation rel, bool any_version);
static bool CowTakeFreeRun(Relation rel, uint32 n, BlockNumber *start);

/*
 * Free runs of pages a flush may reuse, computed from the used map at the
 * start of the flush (under the writer lock) and consumed first-fit.
 */
typedef struct CowFreeRun
{
	BlockNumber start;
	uint32		len;
} CowFreeRun;

static Oid	CowFreeRelid = InvalidOid;
static CowFreeRun *CowFreeRuns = NULL;
static int	CowNumFreeRuns = 0;

int64
CowTidToRowNumber(ItemPointer tid)
{
	return (int64) ItemPointerGetBlockNumberNoCheck(tid) * COW_ROWS_PER_BLOCK +
		(ItemPointerGetOffsetNumberNoCheck(tid) - 1);
}

/*
 * CowTidBlocks returns how many TID blocks the row numbers below
 * next_row_number span: the block of row number next_row_number - 1, plus
 * one.
 */
BlockNumber
CowTidBlocks(int64 next_row_number)
{
	if (next_row_number <= 0)
		return 0;
	return (BlockNumber) ((next_row_number - 1) / COW_ROWS_PER_BLOCK + 1);
}

/*
 * CowPhysicalBlocks returns the number of pages of rel's main fork: what
 * the storage code reads and extends.  RelationGetNumberOfBlocks asks the
 * access method (cow_tableam.c cow_relation_size), which reports the TID
 * blocks instead when they are more and a BRIN index needs them; the
 * storage code must not depend on that, nor read the metapage to know it.
 */
BlockNumber
CowPhysicalBlocks(Relation rel)
{
	return smgrnblocks(RelationGetSmgr(rel), MAIN_FORKNUM);
}

/*
 * CowInitStorage writes the metapage of a freshly created fork directly
 * through smgr (the relcache entry does not point at it yet), WAL-logs it
 * and syncs it, as heap does for the init fork.
 */
void
CowInitStorage(SMgrRelation srel, char persistence, int64 storage_id,
			   int64 next_commit_id)
{
	CowMetaPageData meta;

	memset(&meta, 0, sizeof(meta));
	meta.storage_id = storage_id;
	meta.next_row_number = COW_FIRST_ROW_NUMBER;
	meta.next_commit_id = next_commit_id;
	meta.next_file_group_id = 1;
	meta.clean_horizon = 0;
	CowInitStorageFrom(srel, persistence, &meta);
}

/*
 * CowInitStorageFrom does the same with the counters of "from" (its magic
 * and version are this build's): storage that continues a timeline.
 */
void
CowInitStorageFrom(SMgrRelation srel, char persistence,
				   const CowMetaPageData *from)
{
	PGAlignedBlock buf;
	Page		page = (Page) buf.data;
	CowMetaPageData *meta;

	PageInit(page, BLCKSZ, 0);
	meta = (CowMetaPageData *) PageGetContents(page);
	*meta = *from;
	meta->magic = COW_META_MAGIC;
	meta->version = COW_FORMAT_VERSION;
	((PageHeader) page)->pd_lower =
		((char *) meta + sizeof(CowMetaPageData)) - (char *) page;

	PageSetChecksumInplace(page, COW_METAPAGE_BLKNO);
	smgrextend(srel, MAIN_FORKNUM, COW_METAPAGE_BLKNO, (char *) page, true);
	if (persistence == RELPERSISTENCE_PERMANENT)
		log_newpage(&srel->smgr_rnode.node, MAIN_FORKNUM, COW_METAPAGE_BLKNO,
					page, true);
	smgrimmedsync(srel, MAIN_FORKNUM);
	if (persistence == RELPERSISTENCE_UNLOGGED)
		CowWriteInitFork(srel, from->storage_id);
}

/*
 * CowWriteInitFork writes the init fork of an unlogged table: the metapage
 * of an empty table with fresh counters, marked COW_META_RESET and naming
 * storage_id, the storage id the main fork uses.  Crash recovery copies it
 * over the main fork; the catalog rows (which are logged) of storage_id are
 * then stale, and the mark says so.  The init fork is logged and synced,
 * as heap and btree do (heapam_relation_set_new_filenode, btbuildempty);
 * it is rewritten whenever the main fork takes another storage id.
 */
void
CowWriteInitFork(SMgrRelation srel, int64 storage_id)
{
	PGAlignedBlock buf;
	Page		page = (Page) buf.data;
	CowMetaPageData *meta;

	PageInit(page, BLCKSZ, 0);
	meta = (CowMetaPageData *) PageGetContents(page);
	memset(meta, 0, sizeof(CowMetaPageData));
	meta->magic = COW_META_MAGIC;
	meta->version = COW_FORMAT_VERSION;
	meta->storage_id = storage_id;
	meta->next_row_number = COW_FIRST_ROW_NUMBER;
	meta->next_commit_id = 1;
	meta->next_file_group_id = 1;
	meta->flags = COW_META_RESET;
	((PageHeader) page)->pd_lower =
		((char *) meta + sizeof(CowMetaPageData)) - (char *) page;
	PageSetChecksumInplace(page, COW_METAPAGE_BLKNO);

	if (!smgrexists(srel, INIT_FORKNUM))
	{
		smgrcreate(srel, INIT_FORKNUM, false);
		log_smgrcreate(&srel->smgr_rnode.node, INIT_FORKNUM);
	}
	if (smgrnblocks(srel, INIT_FORKNUM) > COW_METAPAGE_BLKNO)
		smgrwrite(srel, INIT_FORKNUM, COW_METAPAGE_BLKNO, (char *) page, true);
	else
		smgrextend(srel, INIT_FORKNUM, COW_METAPAGE_BLKNO, (char *) page, true);
	log_newpage(&srel->smgr_rnode.node, INIT_FORKNUM, COW_METAPAGE_BLKNO,
				page, true);
	smgrimmedsync(srel, INIT_FORKNUM);
}

/*
 * CowAdoptStorage gives an unlogged table reset by crash recovery the
 * fresh storage id storage_id (caller: CowAdoptResetStorage, which holds
 * the writers' lock and forgets the stale catalog rows): the init fork
 * first, so that a crash now resets the main fork to the id it will have,
 * then the main fork's metapage, whose mark is cleared.
 */
void
CowAdoptStorage(Relation rel, int64 storage_id)
{
	Buffer		buf;
	GenericXLogState *state;
	Page		page;
	CowMetaPageData *meta;

	CowWriteInitFork(RelationGetSmgr(rel), storage_id);

	buf = ReadBuffer(rel, COW_METAPAGE_BLKNO);
	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	state = GenericXLogStart(rel);
	page = GenericXLogRegisterBuffer(state, buf, 0);
	meta = CowMetaFromPage(page, rel, false);
	meta->storage_id = storage_id;
	meta->flags &= ~COW_META_RESET;
	GenericXLogFinish(state);
	UnlockReleaseBuffer(buf);
}

static CowMetaPageData *
CowMetaFromPage(Page page, Relation rel, bool any_version)
{
	CowMetaPageData *meta = (CowMetaPageData *) PageGetContents(page);

	if (meta->magic != COW_META_MAGIC)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("incetl_cow metapage of \"%s\" is corrupted",
						RelationGetRelationName(rel))));
	if (meta->version != COW_FORMAT_VERSION && !any_version)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("incetl_cow relation \"%s\" has storage format %u, this build reads %u",
						RelationGetRelationName(rel), meta->version,
						COW_FORMAT_VERSION),
				 errhint("Rewrite the table with a matching incetl version.")));
	return meta;
}

CowMetaPageData
CowReadMetaPage(Relation rel)
{
	return CowReadMetaPageExt(rel, false);
}

static CowMetaPageData
CowReadMetaPageExt(Relation rel, bool any_version)
{
	Buffer		buf;
	CowMetaPageData result;
	BlockNumber seen = RelationGetSmgr(rel)->smgr_cached_nblocks[MAIN_FORKNUM];

	/*
	 * A relation whose size was seen above 0 has its metapage: it never
	 * shrinks below it (VACUUM truncates free extents at its end, TRUNCATE
	 * and rewrites give it a new file), so the size, a system call, is
	 * asked only when it was not seen yet.
	 */
	if ((seen == InvalidBlockNumber || seen == 0) &&
		CowPhysicalBlocks(rel) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("incetl_cow relation \"%s\" has no metapage",
						RelationGetRelationName(rel))));
	buf = ReadBuffer(rel, COW_METAPAGE_BLKNO);
	LockBuffer(buf, BUFFER_LOCK_SHARE);
	result = *CowMetaFromPage(BufferGetPage(buf), rel, any_version);
	UnlockReleaseBuffer(buf);

	/*
	 * Reset by crash recovery (an unlogged table): its catalog rows are
	 * stale, and no catalog row has storage id 0.  Only DROP TABLE, which
	 * deletes them, asks for the id itself (any_version).
	 */
	if ((result.flags & COW_META_RESET) && !any_version)
		result.storage_id = 0;
	return result;
}

int64
CowStorageId(Relation rel)
{
	return CowReadMetaPage(rel).storage_id;
}

/*
 * CowStorageIdAnyVersion reads the storage id of a relation written in any
 * storage format (the metapage layout is the same in all of them), so that
 * DROP TABLE can remove the catalog rows of a table this build cannot read
 * -- or of an unlogged table reset by crash recovery, whose catalog rows
 * CowReadMetaPage hides.
 */
int64
CowStorageIdAnyVersion(Relation rel)
{
	return CowReadMetaPageExt(rel, true).storage_id;
}

/*
 * CowBumpCounter advances one metapage counter by "count" and returns the
 * value before.  Callers hold the writers' lock (CowLockWriters),
 * but the buffer lock alone makes the change atomic.
 */
typedef enum CowCounter
{
	COW_COUNTER_ROW,
	COW_COUNTER_COMMIT,
	COW_COUNTER_FILE_GROUP,
	COW_COUNTER_CLEAN_HORIZON
} CowCounter;

static int64
CowBumpCounter(Relation rel, CowCounter which, int64 count)
{
	Buffer		buf;
	GenericXLogState *state;
	Page		page;
	CowMetaPageData *meta;
	int64		result;

	buf = ReadBuffer(rel, COW_METAPAGE_BLKNO);
	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	state = GenericXLogStart(rel);
	page = GenericXLogRegisterBuffer(state, buf, 0);
	meta = CowMetaFromPage(page, rel, false);
	if (meta->flags & COW_META_RESET)
	{
		/* writers adopt a fresh storage id first (CowAdoptResetStorage) */
		GenericXLogAbort(state);
		UnlockReleaseBuffer(buf);
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("unlogged incetl_cow table \"%s\" was reset by crash recovery and cannot be changed this way",
						RelationGetRelationName(rel)),
				 errhint("Write a row to the table (INSERT) first.")));
	}
	switch (which)
	{
		case COW_COUNTER_ROW:
			result = meta->next_row_number;
			if (result + count >= COW_MAX_ROW_NUMBER)
			{
				GenericXLogAbort(state);
				UnlockReleaseBuffer(buf);
				ereport(ERROR,
						(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
						 errmsg("incetl_cow relation \"%s\" ran out of row numbers",
								RelationGetRelationName(rel)),
						 errhint("Rewrite the table with VACUUM FULL.")));
			}
			meta->next_row_number += count;
			break;
		case COW_COUNTER_COMMIT:
			result = meta->next_commit_id;
			meta->next_commit_id += count;
			break;
		case COW_COUNTER_CLEAN_HORIZON:
			result = meta->clean_horizon;

			/*
			 * Remember who moved it and from where (CowSnapshotCleanHorizon);
			 * a transaction moving it again keeps the horizon from before
			 * its first move, which is what snapshots not seeing it see.
			 */
			if (!TransactionIdEquals(meta->clean_xid, GetTopTransactionId()))
			{
				meta->clean_prev_horizon = meta->clean_horizon;
				meta->clean_xid = GetTopTransactionId();
			}
			meta->clean_horizon += count;
			/* metapages written before these fields end before them */
			((PageHeader) page)->pd_lower =
				Max(((PageHeader) page)->pd_lower,
					((char *) meta + sizeof(CowMetaPageData)) - (char *) page);
			break;
		default:
			result = meta->next_file_group_id;
			meta->next_file_group_id += count;
			break;
	}
	GenericXLogFinish(state);
	UnlockReleaseBuffer(buf);
	return result;
}

int64
CowReserveRowNumbers(Relation rel, int64 count)
{
	return CowBumpCounter(rel, COW_COUNTER_ROW, count);
}

int64
CowNextCommitId(Relation rel)
{
	return CowBumpCounter(rel, COW_COUNTER_COMMIT, 1);
}

/*
 * CowAdvanceCommitId makes the next commit id at least next (VACUUM FULL
 * carries the timeline over to the new storage).
 */
void
CowAdvanceCommitId(Relation rel, int64 next)
{
	int64		cur = CowReadMetaPage(rel).next_commit_id;

	if (next > cur)
		(void) CowBumpCounter(rel, COW_COUNTER_COMMIT, next - cur);
}

void
CowAdvanceCleanHorizon(Relation rel, int64 horizon)
{
	int64		cur = CowReadMetaPage(rel).clean_horizon;

	if (horizon > cur)
		(void) CowBumpCounter(rel, COW_COUNTER_CLEAN_HORIZON, horizon - cur);
}

/*
 * CowSnapshotCleanHorizon returns the clean horizon as snapshot sees it.
 * The metapage is not versioned, but the catalog rows cleaning deletes
 * are: a snapshot that does not see the transaction that last moved the
 * horizon (it was running or aborted when the snapshot was taken) still
 * sees every version that transaction deleted -- and their pages stay,
 * as cleaning reuses only pages whose rows no snapshot sees
 * (CowLoadUsedMap) -- so for it the horizon is the one before.  A
 * transaction that finished before the snapshot's xmin is taken as seen
 * (its status may be long gone), as is everything without a recorded
 * transaction.  Conservative when two cleans are unseen: the one before
 * the last may be unseen too, and then the real horizon is lower still.
 */
int64
CowSnapshotCleanHorizon(const CowMetaPageData *meta, Snapshot snapshot)
{
	TransactionId xid = meta->clean_xid;

	if (!TransactionIdIsNormal(xid) || snapshot == NULL ||
		!IsMVCCSnapshot(snapshot) ||
		TransactionIdIsCurrentTransactionId(xid) ||
		TransactionIdPrecedes(xid, snapshot->xmin))
		return meta->clean_horizon;
	if (XidInMVCCSnapshot(xid, snapshot) || !TransactionIdDidCommit(xid))
		return Min(meta->clean_prev_horizon, meta->clean_horizon);
	return meta->clean_horizon;
}

int64
CowNextFileGroupId(Relation rel)
{
	return CowBumpCounter(rel, COW_COUNTER_FILE_GROUP, 1);
}

void
CowSetFreeSpace(Relation rel, CowUsedMap *map)
{
	BlockNumber nblocks = CowPhysicalBlocks(rel);
	BlockNumber next = COW_METAPAGE_BLKNO + 1;
	int			i;

	CowClearFreeSpace();
	CowFreeRuns = palloc(sizeof(CowFreeRun) * (map->nranges + 1));
	for (i = 0; i <= map->nranges; i++)
	{
		BlockNumber until = (i < map->nranges) ? map->extent_first[i] : nblocks;

		if (until > next)
		{
			CowFreeRuns[CowNumFreeRuns].start = next;
			CowFreeRuns[CowNumFreeRuns].len = until - next;
			CowNumFreeRuns++;
		}
		if (i < map->nranges)
			next = Max(next, map->extent_first[i] + map->extent_blocks[i]);
	}
	CowFreeRelid = RelationGetRelid(rel);
}

void
CowClearFreeSpace(void)
{
	/* the runs live in the flush's memory context, freed by the caller */
	CowFreeRelid = InvalidOid;
	CowFreeRuns = NULL;
	CowNumFreeRuns = 0;
}

static bool
CowTakeFreeRun(Relation rel, uint32 n, BlockNumber *start)
{
	int			i;

	if (CowFreeRelid != RelationGetRelid(rel))
		return false;
	for (i = 0; i < CowNumFreeRuns; i++)
	{
		if (CowFreeRuns[i].len >= n)
		{
			*start = CowFreeRuns[i].start;
			CowFreeRuns[i].start += n;
			CowFreeRuns[i].len -= n;
			return true;
		}
	}
	return false;
}

/*
 * CowWriteExtent appends a contiguous run of pages holding the stream made
 * of pieces[], one after the other (gathered here, so the caller need not
 * copy them into one buffer first), and returns its first block.  The
 * extension lock is held across the run so the pages are contiguous; each
 * page is WAL-logged once as a full image (the hole between pd_lower and
 * pd_upper is omitted from the record).
 */
BlockNumber
CowWriteExtent(Relation rel, const CowExtentPiece *pieces, int npieces,
			   uint32 *nblocks)
{
	Size		len = 0;
	uint32		n;
	BlockNumber first = InvalidBlockNumber;
	bool		needwal = RelationNeedsWAL(rel);
	uint32		i;
	int			pi = 0;			/* the piece being copied */
	Size		poff = 0;		/* and how much of it is copied */
	BlockNumber reuse = InvalidBlockNumber;
	bool		reusing;
	PGAlignedBlock stage;

	for (i = 0; i < (uint32) npieces; i++)
		len += pieces[i].len;
	n = (uint32) ((len + COW_PAGE_DATA - 1) / COW_PAGE_DATA);
	if (n == 0)
		n = 1;

	/*
	 * Reuse free pages when a run is long enough; otherwise extend, under
	 * the extension lock so the new pages are contiguous.
	 */
	reusing = CowTakeFreeRun(rel, n, &reuse);
	if (!reusing)
		LockRelationForExtension(rel, ExclusiveLock);
	for (i = 0; i < n; i++)
	{
		Buffer		buf;
		Page		page;
		char	   *dst;
		Size		fill = 0;

		if (reusing)
			buf = ReadBufferExtended(rel, MAIN_FORKNUM, reuse + i,
									 RBM_ZERO_AND_LOCK, NULL);
		else
		{
			buf = ReadBufferExtended(rel, MAIN_FORKNUM, P_NEW, RBM_NORMAL, NULL);
			LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
		}
		if (i == 0)
			first = BufferGetBlockNumber(buf);
		else if (BufferGetBlockNumber(buf) != first + i)
			elog(ERROR, "incetl_cow extent of \"%s\" is not contiguous",
				 RelationGetRelationName(rel));

		/*
		 * The page's bytes are gathered first: reading a piece from a
		 * temporary file may fail, which must not happen in the critical
		 * section.
		 */
		while (fill < COW_PAGE_DATA && pi < npieces)
		{
			Size		take = Min(COW_PAGE_DATA - fill, pieces[pi].len - poff);

			if (take > 0 && pieces[pi].data != NULL)
				memcpy(stage.data + fill, pieces[pi].data + poff, take);
			else if (take > 0)
			{
				if (BufFileSeek(pieces[pi].file, pieces[pi].fileno,
								pieces[pi].offset + poff, SEEK_SET) != 0)
					ereport(ERROR,
							(errcode_for_file_access(),
							 errmsg("could not seek in temporary file of \"%s\": %m",
									RelationGetRelationName(rel))));
				if (BufFileRead(pieces[pi].file, stage.data + fill, take) != take)
					ereport(ERROR,
							(errcode_for_file_access(),
							 errmsg("could not read temporary file of \"%s\": %m",
									RelationGetRelationName(rel))));
			}
			fill += take;
			poff += take;
			if (poff == pieces[pi].len)
			{
				pi++;
				poff = 0;
			}
		}
		page = BufferGetPage(buf);
		START_CRIT_SECTION();
		PageInit(page, BLCKSZ, 0);
		dst = PageGetContents(page);
		memcpy(dst, stage.data, fill);
		((PageHeader) page)->pd_lower = SizeOfPageHeaderData + fill;
		MarkBufferDirty(buf);
		if (needwal)
			log_newpage_buffer(buf, true);
		END_CRIT_SECTION();
		UnlockReleaseBuffer(buf);
	}
	if (!reusing)
		UnlockRelationForExtension(rel, ExclusiveLock);

	*nblocks = n;
	return first;
}

/*
 * The buffers this backend last read extent pages in, a slot per page by
 * a hash of its number: a lookup reads a page of each integer column's
 * block, each a ReadBuffer whose buffer-mapping lookup (partition lock,
 * hash table) misses the CPU's caches when lookups spread over a large
 * table.  A page read again (a block's other rows, its next lookups) is
 * first asked of the buffer it was in (ReadRecentBuffer, which checks the
 * buffer still holds it, valid, and pins it), and only then looked up.
 * Relations in shared buffers only: a temporary relation's file may have
 * a permanent one's number.  A slot names its page by file number and
 * block alone: ReadRecentBuffer compares the buffer's whole tag with the
 * page asked for, so a slot of another database's file of the same number
 * only misses.  16384 slots of 12 bytes, 192 kB, allocated once the
 * backend has read COW_RECENT_AFTER extent pages: a session of a few
 * lookups does not zero (and fault in) them for reads it will not repeat.
 */
#define COW_RECENT_SLOTS	16384
#define COW_RECENT_AFTER	256

typedef struct CowRecentBuffer
{
	Oid			relnode;
	BlockNumber blk;
	Buffer		buf;
} CowRecentBuffer;

static CowRecentBuffer *CowRecentBuffers = NULL;
static uint32 CowExtentPagesRead = 0;

static Buffer
CowReadExtentPage(Relation rel, BlockNumber blk)
{
	CowRecentBuffer *r;
	Buffer		buf;

	if (RelationUsesLocalBuffers(rel))
		return ReadBuffer(rel, blk);
	if (CowRecentBuffers == NULL)
	{
		if (++CowExtentPagesRead < COW_RECENT_AFTER)
			return ReadBuffer(rel, blk);
		CowRecentBuffers = MemoryContextAllocZero(TopMemoryContext,
												  sizeof(CowRecentBuffer) *
												  COW_RECENT_SLOTS);
	}
	r = &CowRecentBuffers[(blk ^ rel->rd_node.relNode * 0x9E3779B1) %
						  COW_RECENT_SLOTS];
	if (r->blk == blk && r->relnode == rel->rd_node.relNode &&
		BufferIsValid(r->buf) &&
		ReadRecentBuffer(rel->rd_node, MAIN_FORKNUM, blk, r->buf))
	{
		/* counted as ReadBuffer counts a hit: pg_statio, VACUUM's cost */
		pgstat_count_buffer_read(rel);
		pgstat_count_buffer_hit(rel);
		VacuumPageHit++;
		if (VacuumCostActive)
			VacuumCostBalance += VacuumCostPageHit;
		return r->buf;
	}
	buf = ReadBuffer(rel, blk);
	r->relnode = rel->rd_node.relNode;
	r->blk = blk;
	r->buf = buf;
	return buf;
}

/*
 * CowReadExtentBytes copies len bytes at offset of an extent's stream
 * (with dest NULL, it only adds them to *crc: CowExtentCrc).
 */
static void
CowExtentBytes(Relation rel, BlockNumber first_block, uint32 nblocks,
			   uint64 offset, Size len, char *dest, pg_crc32c *crc)
{
	SMgrRelation smgr = RelationGetSmgr(rel);
	BlockNumber relblocks = smgr->smgr_cached_nblocks[MAIN_FORKNUM];

	/*
	 * Once, not per page; and not at all when the extent ends below the
	 * size last seen: a relation shrinks only under AccessExclusiveLock,
	 * which also invalidates that size, and asking is a system call (a
	 * point lookup reads a dozen extents).
	 */
	if (relblocks == InvalidBlockNumber ||
		(uint64) first_block + nblocks > relblocks)
		relblocks = CowPhysicalBlocks(rel);

	while (len > 0)
	{
		BlockNumber blk = first_block + (BlockNumber) (offset / COW_PAGE_DATA);
		Size		inpage = offset % COW_PAGE_DATA;
		Size		chunk = Min(len, COW_PAGE_DATA - inpage);
		Buffer		buf;
		Page		page;

		if (blk >= first_block + nblocks || blk >= relblocks)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("incetl_cow relation \"%s\": read past the extent at block %u",
							RelationGetRelationName(rel), first_block)));
		buf = CowReadExtentPage(rel, blk);
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		if (((PageHeader) page)->pd_lower < SizeOfPageHeaderData + inpage + chunk)
		{
			UnlockReleaseBuffer(buf);
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("incetl_cow relation \"%s\": block %u is shorter than its extent says",
							RelationGetRelationName(rel), blk)));
		}
		if (dest != NULL)
		{
			memcpy(dest, PageGetContents(page) + inpage, chunk);
			dest += chunk;
		}
		else
			COMP_CRC32C(*crc, PageGetContents(page) + inpage, chunk);
		UnlockReleaseBuffer(buf);

		offset += chunk;
		len -= chunk;
	}
}

void
CowReadExtentBytes(Relation rel, BlockNumber first_block, uint32 nblocks,
				   uint64 offset, Size len, char *dest)
{
	CowExtentBytes(rel, first_block, nblocks, offset, len, dest, NULL);
}

/*
 * CowExtentCrc: the CRC-32C of len bytes at offset of an extent's stream,
 * computed over the pages in place (a check that needs none of the bytes
 * copied).
 */
pg_crc32c
CowExtentCrc(Relation rel, BlockNumber first_block, uint32 nblocks,
			 uint64 offset, Size len)
{
	pg_crc32c	crc;

	INIT_CRC32C(crc);
	CowExtentBytes(rel, first_block, nblocks, offset, len, NULL, &crc);
	FIN_CRC32C(crc);
	return crc;
}
