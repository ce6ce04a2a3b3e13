/*-------------------------------------------------------------------------
 *
 * cow/storage.h
 *	  Pages of an incetl_cow relation: the metapage and its counters, row
 *	  numbers and TIDs, extents holding file group versions, and the
 *	  reuse of free extents (cow_storage.c).
 *
 * Uses nothing of incetl_cow.
 *
 * Copyright (c) 2026, incetl authors
 *
 * IDENTIFICATION
 *	  src/include/cow/storage.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef INCETL_COW_STORAGE_H
#define INCETL_COW_STORAGE_H

#include "access/htup_details.h"
#include "port/pg_crc32c.h"
#include "storage/bufpage.h"
#include "storage/itemptr.h"
#include "storage/smgr.h"
#include "utils/rel.h"
#include "utils/snapshot.h"

/* ---------- storage ---------- */

#define COW_META_MAGIC			0x43574D31	/* "CWM1" */
#define COW_FORMAT_VERSION		3
#define COW_METAPAGE_BLKNO		0
#define COW_PAGE_DATA			(BLCKSZ - SizeOfPageHeaderData)

typedef struct CowMetaPageData
{
	uint32		magic;
	uint32		version;
	int64		storage_id;
	int64		next_row_number;
	int64		next_commit_id;
	int64		next_file_group_id;
	int64		clean_horizon;	/* versions superseded at or before this
								 * commit may have been removed */

	/*
	 * The transaction that last moved clean_horizon, and the horizon before
	 * it: a snapshot that does not see that transaction still sees the
	 * catalog rows it deleted, so for it the horizon is clean_prev_horizon
	 * (CowSnapshotCleanHorizon).  clean_xid is invalid when unknown
	 * (metapages written before these fields were added read zeroes here).
	 */
	TransactionId clean_xid;
	int64		clean_prev_horizon;
	uint32		flags;			/* COW_META_* */
} CowMetaPageData;

/*
 * Set in the metapage of an unlogged table's init fork, and so in its main
 * fork once crash recovery has reset the main fork from the init fork: the
 * table's pages are gone, and the catalog rows of storage_id are stale.
 * CowReadMetaPage then reports storage id 0, which no catalog row has, so
 * the table reads as empty until its next writer adopts a fresh storage id
 * (CowAdoptStorage).
 */
#define COW_META_RESET			0x0001

/*
 * Row numbers map onto TIDs so that offsets stay within what tidbitmap
 * and friends accept.  Row number 0 is never used.  Pending rows (buffered
 * in the current statement, not yet written) get TIDs from a range that no
 * file group version ever uses, so index entries the executor makes for
 * them never match a row.
 */
#define COW_ROWS_PER_BLOCK		MaxHeapTuplesPerPage
#define COW_FIRST_ROW_NUMBER	1
#define COW_MAX_ROW_NUMBER		(INT64CONST(1) << 40)
#define COW_PENDING_ROWS		(INT64CONST(100000000000))

/* the TID of row number rownum (a scan makes one for every row it returns) */
static inline void
CowRowNumberToTid(int64 rownum, ItemPointer tid)
{
	ItemPointerSet(tid, (BlockNumber) (rownum / COW_ROWS_PER_BLOCK),
				   (OffsetNumber) (rownum % COW_ROWS_PER_BLOCK + 1));
}

extern int64 CowTidToRowNumber(ItemPointer tid);
extern BlockNumber CowTidBlocks(int64 next_row_number);
extern BlockNumber CowPhysicalBlocks(Relation rel);

extern void CowInitStorage(SMgrRelation srel, char persistence, int64 storage_id,
						   int64 next_commit_id);
extern void CowInitStorageFrom(SMgrRelation srel, char persistence,
							   const CowMetaPageData *from);
extern void CowWriteInitFork(SMgrRelation srel, int64 storage_id);
extern void CowAdoptStorage(Relation rel, int64 storage_id);
extern CowMetaPageData CowReadMetaPage(Relation rel);
extern int64 CowStorageId(Relation rel);
extern int64 CowStorageIdAnyVersion(Relation rel);
extern int64 CowReserveRowNumbers(Relation rel, int64 count);
extern int64 CowNextCommitId(Relation rel);
extern int64 CowNextFileGroupId(Relation rel);
extern void CowAdvanceCommitId(Relation rel, int64 next);
extern void CowAdvanceCleanHorizon(Relation rel, int64 horizon);
extern int64 CowSnapshotCleanHorizon(const CowMetaPageData *meta,
									 Snapshot snapshot);
/*
 * One piece of an extent's stream, written after the previous one: len
 * bytes at data, or (data NULL) at offset of file fileno of a temporary
 * file (a group written as its rows come keeps its stored bytes there).
 */
typedef struct CowExtentPiece
{
	const char *data;
	Size		len;
	struct BufFile *file;
	int			fileno;
	off_t		offset;
} CowExtentPiece;

extern BlockNumber CowWriteExtent(Relation rel, const CowExtentPiece *pieces,
								  int npieces, uint32 *nblocks);
extern void CowReadExtentBytes(Relation rel, BlockNumber first_block,
							   uint32 nblocks, uint64 offset, Size len,
							   char *dest);
extern pg_crc32c CowExtentCrc(Relation rel, BlockNumber first_block,
							  uint32 nblocks, uint64 offset, Size len);

/* extents and row ranges still referenced (cow_metadata.c) */
typedef struct CowUsedMap
{
	int			nranges;
	int64	   *range_first;	/* sorted */
	int64	   *range_count;
	BlockNumber *extent_first;	/* sorted */
	uint32	   *extent_blocks;
	int64		dead_rows;
} CowUsedMap;

extern void CowSetFreeSpace(Relation rel, CowUsedMap *map);
extern void CowClearFreeSpace(void);

#endif							/* INCETL_COW_STORAGE_H */
