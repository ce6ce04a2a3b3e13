/*-------------------------------------------------------------------------
 *
 * cow.h
 *	  Shared declarations of the incetl_cow table access method.
 *
 * The layers (tableam callbacks, hooks, write state, merge, writer,
 * reader, storage, metadata, compression, timeline) talk through the
 * few structs declared here.
 *
 * On-disk layout of a relation's main fork:
 *
 *	block 0			metapage (CowMetaPageData): magic, version, storage id,
 *					counters for row numbers, commit ids, file group ids
 *	blocks 1..		extents: every file group *version* is a contiguous run
 *					of pages holding one logical byte stream
 *
 * The byte stream of a file group version starts with a header
 * (CowGroupHeader + one CowColumnDesc per attribute + one for the hidden
 * commit-id column + a blob area holding min/max and first/last key
 * datums), followed by one chunk per column: encoded by type and data
 * (cow_encoding.c), then zstd-compressed when that pays.  Every page
 * stores COW_PAGE_DATA bytes of the stream after its page header.
 *
 * Copyright (c) 2026, incetl authors
 *
 * IDENTIFICATION
 *	  src/include/cow.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef INCETL_COW_H
#define INCETL_COW_H

#include "access/htup.h"
#include "access/tableam.h"
#include "storage/buf.h"
#include "storage/smgr.h"
#include "executor/tuptable.h"
#include "nodes/pg_list.h"
#include "storage/bufpage.h"
#include "storage/itemptr.h"
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
} CowMetaPageData;

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

extern void CowRowNumberToTid(int64 rownum, ItemPointer tid);
extern int64 CowTidToRowNumber(ItemPointer tid);

extern void CowInitStorage(SMgrRelation srel, char persistence, int64 storage_id,
						   int64 next_commit_id);
extern void CowInitStorageFrom(SMgrRelation srel, char persistence,
							   const CowMetaPageData *from);
extern CowMetaPageData CowReadMetaPage(Relation rel);
extern int64 CowStorageId(Relation rel);
extern int64 CowStorageIdAnyVersion(Relation rel);
extern int64 CowReserveRowNumbers(Relation rel, int64 count);
extern int64 CowNextCommitId(Relation rel);
extern int64 CowNextFileGroupId(Relation rel);
extern void CowAdvanceCommitId(Relation rel, int64 next);
extern void CowAdvanceCleanHorizon(Relation rel, int64 horizon);
/* one piece of an extent's stream, written after the previous one */
typedef struct CowExtentPiece
{
	const char *data;
	Size		len;
} CowExtentPiece;

extern BlockNumber CowWriteExtent(Relation rel, const CowExtentPiece *pieces,
								  int npieces, uint32 *nblocks);
extern void CowReadExtentBytes(Relation rel, BlockNumber first_block,
							   uint32 nblocks, uint64 offset, Size len,
							   char *dest);

/* extents and row ranges still referenced (cow_clean.c) */
typedef struct CowUsedMap
{
	int			nranges;
	int64	   *range_first;	/* sorted */
	int64	   *range_count;
	BlockNumber *extent_first;	/* sorted */
	uint32	   *extent_blocks;
	int64		dead_rows;
} CowUsedMap;

extern CowUsedMap *CowLoadUsedMap(int64 storage_id);
extern int64 CowClean(Relation rel, int keep, int elevel,
					  BufferAccessStrategy bstrategy);
extern void CowSetFreeSpace(Relation rel, CowUsedMap *map);
extern void CowClearFreeSpace(void);

/* ---------- compression ---------- */

extern char *CowCompress(const char *src, Size srclen, int level, Size *dstlen);
extern void CowDecompress(const char *src, Size srclen, char *dst, Size rawlen,
						  Relation rel);

/* ---------- options and metadata catalogs ---------- */

#define COW_DEFAULT_FILE_GROUP_ROWS	100000
#define COW_DEFAULT_COMPRESSION		1
#define COW_DEFAULT_RETAIN_COMMITS	10

typedef struct CowOptions
{
	int			nkeys;
	AttrNumber *key_attnums;
	AttrNumber	precombine_attnum;	/* InvalidAttrNumber when none */
	AttrNumber	delete_marker_attnum;	/* InvalidAttrNumber when none */
	int			file_group_rows;
	int			compression_level;
	int			retain_commits;
} CowOptions;

typedef struct CowVersion
{
	int64		file_group_id;
	int64		commit_id;
	int64		superseded_by;	/* 0 when current */
	int64		first_row_number;
	int64		row_count;
	BlockNumber first_block;
	uint32		nblocks;
	uint32		header_bytes;
	int64		bytes;
	int64		raw_bytes;
	int64		min_commit;
	int64		max_commit;
	ItemPointerData catalog_tid;	/* of the catalog row that was read */
} CowVersion;

typedef struct CowCommitInfo
{
	int64		commit_id;
	const char *operation;
	int64		rows_inserted;
	int64		rows_updated;
	int64		rows_deleted;
	int32		file_groups_written;
	int64		bytes_written;
} CowCommitInfo;

extern Oid	CowCatalogRelid(const char *name, bool missing_ok);
extern Oid	CowRewriteSourceRelid(Relation rel);
extern void CowCheckOptionsCatalog(Relation catalog);
extern AttrNumber CowOptionColumn(Relation rel, const char *name, const char *role,
								  bool missing_ok);
extern void CowRenameOptionColumn(Oid relid, const char *oldname, const char *newname);
extern struct SysScanDescData *CowCatalogScan(Relation catalog, Snapshot snapshot,
											  struct ScanKeyData *key);
extern void CowVersionFromHeapTuple(HeapTuple tup, TupleDesc desc, CowVersion *v);
extern void CowLoadOptions(Relation rel, Snapshot snapshot, CowOptions *opts);
extern CowVersion *CowLoadVersions(int64 storage_id, Snapshot snapshot,
								   bool current_only, int *nversions);
extern void CowInsertVersion(int64 storage_id, const CowVersion *v);
extern void CowSupersedeVersion(const CowVersion *v, int64 commit_id);
extern void CowInsertCommit(int64 storage_id, const CowCommitInfo *c);
extern void CowDeleteStorageMetadata(int64 storage_id);
extern void CowCopyCommits(int64 from_storage, int64 to_storage);
extern void CowTruncate(Relation rel, const RelFileNode *newrnode,
						char persistence);

/* ---------- file group format (writer / reader) ---------- */

#define COW_GROUP_MAGIC			0x43574731	/* "CWG1" */

#define COW_COL_HAS_NULLS		0x01
#define COW_COL_ALL_NULL		0x02
#define COW_COL_HAS_MINMAX		0x04
#define COW_COL_UNCOMPRESSED	0x08
#define COW_COL_DROPPED			0x10

/*
 * Rows per column block of the file groups this build writes.  Smaller
 * blocks make a point lookup cheaper (it decodes one block per column) and
 * compress a little worse; 4096 rows cost under 1 % of the size on the
 * bench data.  A multiple of 8, so a block's share of the column's null
 * bitmap starts on a byte.
 */
#define COW_BLOCK_ROWS			4096

typedef struct CowColumnDesc
{
	uint32		flags;
	uint32		crc;			/* of the chunk's block directory */
	uint64		offset;			/* from the start of the extent stream */
	uint64		stored_len;		/* directory plus stored blocks */
	uint64		raw_len;		/* of the encoded blocks, before zstd */
	uint32		min_off;		/* into the header blob area */
	uint32		max_off;
	Oid			typid;			/* the column's type when written: the */
	int16		attlen;			/* layout is decoded with these, so a */
	bool		attbyval;		/* rewrite (ALTER COLUMN TYPE) can still */
	char		attalign;		/* read the old values */
	uint8		encoding;		/* COW_ENC_* most blocks use (for stats) */
	Oid			collation;		/* min/max are ordered under this one */
} CowColumnDesc;

typedef struct CowGroupHeader
{
	uint32		magic;
	uint32		version;
	uint32		header_len;		/* header, descs and blob area */
	uint32		header_crc;		/* over the header with this field zero */
	uint32		natts;			/* user attributes; desc natts is commit ids */
	uint32		nkeys;			/* key columns in first/last key */
	uint64		nrows;
	uint32		first_key_off;	/* into the blob area; 0 when no key */
	uint32		last_key_off;
	uint64		total_len;		/* header plus all chunks */
	uint32		block_rows;		/* rows per column block (the last may
								 * have fewer) */
	uint32		unused;
	/* CowColumnDesc cols[natts + 1] follow, then the blob area */
} CowGroupHeader;

#define CowGroupColumns(h) \
	((CowColumnDesc *) ((char *) (h) + MAXALIGN(sizeof(CowGroupHeader))))
#define CowGroupBlob(h) \
	((char *) CowGroupColumns(h) + sizeof(CowColumnDesc) * ((h)->natts + 1))

/*
 * The block directory entry of one block of a column chunk.  A block's
 * stored bytes follow those of the blocks before it, after the directory.
 */
typedef struct CowBlockDesc
{
	uint64		stored_len;
	uint64		raw_len;		/* encoded, before zstd */
	uint32		crc;			/* of the stored bytes */
	uint8		encoding;		/* COW_ENC_* */
	uint8		flags;			/* COW_BLK_* */
	uint16		unused;
} CowBlockDesc;

#define COW_BLK_HAS_NULLS		0x01
#define COW_BLK_ALL_NULL		0x02	/* no bytes stored */
#define COW_BLK_UNCOMPRESSED	0x04

#define CowGroupBlocks(h) \
	((uint32) (((h)->nrows + (h)->block_rows - 1) / (h)->block_rows))

/*
 * Column block encodings (cow_encoding.c).  A raw block is the null bitmap
 * (when the block has NULLs) followed by the values in one of these.
 */
#define COW_ENC_PLAIN			0	/* as in a heap tuple */
#define COW_ENC_INT				1	/* integer-like: frame of reference or delta */
#define COW_ENC_NUMERIC			2	/* numeric as scaled int64 */
#define COW_ENC_DICT			3	/* varlena: dictionary + codes */
#define COW_ENC_VARLENA			4	/* varlena: lengths + bytes */

typedef struct CowEncodedChunk
{
	char	   *data;			/* the raw chunk */
	Size		len;
	int64	   *scaled;			/* NUMERIC: the values as integers at their
								 * one display scale (so in the values'
								 * order), palloc'd; else NULL */
	bool		dict_full;		/* a dictionary was tried and had too many
								 * distinct values */
	Datum	   *distinct;		/* DICT: the distinct values (pointing into
								 * the input), palloc'd; else NULL */
	int64		ndistinct;
} CowEncodedChunk;

extern void CowEncodeChunk(CowColumnDesc *d, const Datum *values, int64 nvals,
						   const bits8 *nulls, int64 nrows, bool try_dict,
						   CowEncodedChunk *out);
extern const char *CowEncodingName(int encoding);
extern bool CowTypeIsIntOrdered(Oid typid);

/* the value of a pass-by-value integer Datum of attlen 1, 2, 4 or 8 */
static inline int64
CowDatumGetInt(Datum d, int attlen)
{
	switch (attlen)
	{
		case 8:
			return DatumGetInt64(d);
		case 4:
			return DatumGetInt32(d);
		case 2:
			return DatumGetInt16(d);
		default:
			return DatumGetChar(d);
	}
}
extern bool CowDecodeChunk(Relation rel, int64 file_group_id, int colno,
						   const CowColumnDesc *d, const char *raw, uint64 nrows,
						   Datum *values, bool *isnull);

/*
 * One row in memory during a merge: an incoming row with its own values,
 * or a stored row, which refers to its place in a decoded file group
 * rather than copying the values out (read either with CowRowValue).
 */
typedef struct CowRow
{
	Datum	   *values;			/* NULL for a stored row */
	bool	   *isnull;
	struct CowDecodedGroup *src;	/* stored row: row src_row of src */
	int64		src_row;
	int64		commit_id;		/* commit that wrote this version of the row */
	int64		seq;			/* arrival order within the flush */
	int64		rownum;			/* stored row number, 0 when incoming */
	int64		pending;		/* incoming: the pending row number its slot
								 * got (CowBufferInsert), or 0 */
	bool		is_update;		/* came from an UPDATE statement */
	bool		new_key;		/* a merge wrote it as a key not stored */
	bool		spilled;		/* read back from the spill sort: one chunk,
								 * pfree'd once written or dropped */
	bool		after_marker;	/* spilled winner: an older row of its key
								 * was a delete marker */
} CowRow;

/*
 * A file group version being read.  Columns are decompressed on first use
 * (CowGroupColumn), in cxt, and only those wanted (all, or in needed);
 * the others read as NULL.
 */
typedef struct CowDecodedGroup
{
	Relation	rel;
	MemoryContext cxt;
	bool		all;
	Bitmapset  *needed;			/* 0-based attribute indexes */
	CowVersion	version;
	CowGroupHeader *header;
	int			natts;
	uint64		nrows;
	bool	   *decoded;		/* [natts], which columns are wholly in values */
	bool		by_block;		/* decode only the blocks rows are read from
								 * (CowGroupRow): point lookups */
	uint32		nblocks;
	bool	  **block_done;		/* [natts][nblocks] or NULL: blocks decoded
								 * while the column is not wholly decoded */
	CowBlockDesc **block_dirs;	/* [natts]: directories read so far, or NULL */
	bool	   *unwanted;		/* [natts], columns read as NULL (not all,
								 * not in needed): the slot's per-row test */
	Datum	  **values;			/* [natts][nrows] */
	bool	  **isnull;			/* [natts][nrows] */
	int64	   *commit_ids;		/* [nrows] or NULL */
} CowDecodedGroup;

/* attribute attidx (0-based) of a CowRow, stored or incoming */
static inline Datum
CowRowValue(const CowRow *row, int attidx, bool *isnull)
{
	if (row->src != NULL)
	{
		*isnull = row->src->isnull[attidx][row->src_row];
		return row->src->values[attidx][row->src_row];
	}
	*isnull = row->isnull[attidx];
	return row->values[attidx];
}

extern CowGroupHeader *CowReadGroupHeader(Relation rel, const CowVersion *v);
extern void CowDecodeColumn(Relation rel, const CowVersion *v, CowGroupHeader *h,
							TupleDesc tupdesc, int attidx, Datum *values,
							bool *isnull);
extern int64 *CowDecodeCommitIds(Relation rel, const CowVersion *v,
								 CowGroupHeader *h);
extern CowDecodedGroup *CowOpenGroup(Relation rel, const CowVersion *v,
									 bool all, Bitmapset *needed);
extern bool CowGroupColumn(CowDecodedGroup *g, int attidx);
extern bool CowGroupRow(CowDecodedGroup *g, int attidx, uint64 row);
extern int64 CowChunksDecoded;	/* column chunks decompressed by this backend */
extern int64 CowBlocksDecoded;	/* column blocks decompressed by this backend */
extern CowDecodedGroup *CowDecodeGroup(Relation rel, const CowVersion *v,
									   bool all, Bitmapset *needed,
									   bool commit_ids);
extern void CowGroupKeyBounds(CowGroupHeader *h, Datum *first, Datum *last);
extern void CowGroupMinMax(CowGroupHeader *h, int attidx, Datum *min, Datum *max);
extern void CowWriteGroup(Relation rel, TupleDesc tupdesc, const CowOptions *opts,
						  CowRow **rows, int64 nrows, int64 file_group_id,
						  int64 commit_id, CowVersion *out);

/* ---------- write state and merge ---------- */

extern void CowBufferInsert(Relation rel, TupleTableSlot *slot, CommandId cid,
							bool is_update);
extern bool CowBufferDelete(Relation rel, ItemPointer tid, CommandId cid);
extern void CowFlushAll(void);
extern void CowFlushRelation(Oid relid);
extern void CowDiscardRelation(Oid relid);
extern bool CowHasPending(void);
extern void CowCheckUnmergedRead(Relation rel, Snapshot snapshot);
extern void CowWriteStateInit(void);

typedef struct CowSpill CowSpill;
typedef struct CowDeleteSet CowDeleteSet;

/* row numbers a statement deletes (cow_delete_set.c) */
extern CowDeleteSet *CowDeleteSetCreate(MemoryContext cxt);
extern bool CowDeleteSetAdd(CowDeleteSet *s, int64 rownum, SubTransactionId subid);
extern bool CowDeleteSetContains(CowDeleteSet *s, int64 rownum);
extern int64 CowDeleteSetCount(CowDeleteSet *s);
extern int64 CowDeleteSetCountRange(CowDeleteSet *s, int64 lo, int64 hi);
extern void CowDeleteSetAbortSub(CowDeleteSet *s, SubTransactionId subid);
extern int64 *CowDeleteSetToArray(CowDeleteSet *s, int64 *n);
extern void CowDeleteSetFree(CowDeleteSet *s);

/* what one part of a statement merged early changed (see CowPending) */
typedef struct CowPartCounts
{
	SubTransactionId subid;		/* the part was merged in */
	int64		inserted;
	int64		updated;
	int64		deleted;
	int32		file_groups_written;
	int64		bytes_written;
} CowPartCounts;

typedef struct CowPending
{
	Oid			relid;
	List	   *rows;			/* of CowRow (one chunk of row_cxt each), arrival order */
	List	   *row_subids;		/* int list: SubTransactionId per row */
	SubTransactionId min_subid; /* smallest subtransaction that buffered a
								 * row or delete of the statement (spilled
								 * or merged in parts too), or Invalid */
	int64		next_seq;		/* arrival number of the statement's next row */
	CommandId	write_cid;		/* command of the statement's first buffered
								 * row or delete, InvalidCommandId when none
								 * (CowCheckUnmergedRead) */
	CowDeleteSet *deletes;		/* row numbers deleted, NULL when none */
	Size		bytes;
	bool		opts_loaded;
	CowOptions	opts;			/* as of the first buffered row */
	List	   *writers;		/* OIDs of the roles that buffered the
								 * statement's rows: the merge checks what
								 * each may replace or delete
								 * (cow_security.c) */

	/*
	 * The statement's rows beyond the memory budget, sorted on disk
	 * (cow_spill.c); NULL until needed.  It may hold only tombstones (delete
	 * markers already merged in an earlier part of the statement).
	 */
	CowSpill   *spill;

	/*
	 * One statement is one commit, also when merged in parts: the parts
	 * share stmt_commit_id (0 until the first merge) and the last merge
	 * writes the commit row with every part's counts (stmt_parts, of
	 * CowPartCounts *; a part rolled back with its subtransaction is taken
	 * out).
	 */
	int64		stmt_commit_id;
	List	   *stmt_parts;

	/*
	 * Rows arrive in strictly ascending record-key order (opts' key, so no
	 * two share a key), over the whole statement so far: the merge then
	 * needs neither sort nor collapse, and the rows can be merged in parts.
	 * Checked row by row against the previous row (last_row; last_key is a
	 * copy kept once the buffer was merged or spilled).
	 */
	bool		keys_ascending;
	struct CowRow *last_row;	/* last buffered row, NULL when none */
	struct CowRow *last_key;	/* copy in the write context, or NULL */
	struct SortSupportData *key_ssup;	/* [opts.nkeys], NULL until needed */
	MemoryContext row_cxt;		/* the buffered CowRows: a generation
								 * context, reset (not pfree'd row by row)
								 * when merged or spilled */

	/*
	 * A part of a statement in key order merged early (CowFlushPart) writes
	 * its new keys beyond the table's last key in whole file groups only:
	 * the rows left over (fewer than file_group_rows, the part's last) are
	 * handed back in carried and buffered again, to start the next part's
	 * first group -- rather than written as a short group that the next
	 * part would rewrite.
	 */
	bool		carry_allowed;
	List	   *carried;		/* of CowRow, still in row_cxt */
	MemoryContext spare_cxt;	/* the other row context, when the carried
								 * rows moved: its first block, sized for a
								 * part, is kept for the next one */

	/*
	 * Whether the statement, in key order, started beyond the table's last
	 * key (CowRowBeyondEnd), so that every row appends: then a part is
	 * merged as soon as a file group's worth is buffered.  0 until checked
	 * (once a group's worth is buffered), 1 yes, -1 no.
	 */
	int			appending;

	/*
	 * A merge's two per-group contexts (the writer's arrays, a decoded
	 * group), kept across the parts of a statement -- a load merged a file
	 * group's worth at a time would otherwise fault their memory in for
	 * every part -- and deleted at its end.
	 */
	MemoryContext merge_cxt[2];
} CowPending;

extern bool CowRowBeyondEnd(Relation rel, const CowOptions *opts, CowRow *row);
extern CowRow *CowRowFromValues(TupleDesc desc, int natts, Datum *values,
								bool *isnull, int64 seq, bool is_update,
								MemoryContext cxt);

/* rows beyond memory (cow_spill.c) */
extern CowSpill *CowSpillBegin(Relation rel, const CowOptions *opts,
							   MemoryContext cxt);
extern void CowSpillPut(CowSpill *s, CowRow *row, SubTransactionId subid,
						bool tombstone);
extern int64 CowSpillRowCount(CowSpill *s);
extern void CowSpillNoteAbort(CowSpill *s, SubTransactionId subid,
							  int64 next_seq, MemoryContext cxt);
extern CowRow *CowSpillNext(CowSpill *s, MemoryContext cxt);
extern void CowSpillEnd(CowSpill *s);

extern void CowMergeAndWrite(Relation rel, CowPending *pending, CowSpill *spill,
							 bool final);
extern void CowRewriteTable(Relation rel);

/* counters exported to the pipeline layer */
extern void cow_write_counts(Oid relid, int64 *inserted, int64 *updated,
							 int64 *deleted);
extern int64 cow_last_commit_id(Oid relid);
extern int64 cow_latest_commit_id(Oid relid, Snapshot snapshot);
extern void CowRecordCounts(Oid relid, int64 ins, int64 upd, int64 del,
							int64 commit_id);

/* ---------- reader-side helpers and hooks ---------- */

typedef struct CowSkipQual
{
	int			attidx;			/* 0-based */
	int			strategy;		/* BTLessStrategyNumber... */
	FmgrInfo	le_fn;			/* min <= c (for =, <=, <) */
	FmgrInfo	ge_fn;			/* max >= c (for =, >=, >) */
	Oid			collation;
	Datum		value;
} CowSkipQual;

/*
 * First block of a per-group context: a scan's (the columns it reads of
 * one group), and a merge's, which holds a whole decoded group (every
 * column, plus a CowRow per row) or the encoder's arrays of one group
 * being written -- about 30 MB at the default 100 000 rows of 6 columns.
 */
#define COW_GROUP_CONTEXT_BLOCK		(8 * 1024 * 1024)
#define COW_MERGE_CONTEXT_BLOCK		(32 * 1024 * 1024)
extern MemoryContext CowGroupContextCreate(MemoryContext parent, const char *name,
										   Size block);
extern void CowScanSetHints(TableScanDesc scan, bool all, Bitmapset *needed,
							List *quals);
extern CowSkipQual *CowMakeSkipQual(Relation rel, AttrNumber attnum, Oid opno,
									Oid inputcollid, Datum value);
extern bool CowGroupMayMatch(Relation rel, CowGroupHeader *h, List *quals);
extern const TupleTableSlotOps *CowSlotOps(void);
extern void CowStoreRow(Relation rel, CowDecodedGroup *g, uint64 row,
						TupleTableSlot *slot);
extern bool CowIsCowRelation(Relation rel);
extern void CowLockWriters(Relation rel);
extern void CowNoteRowsMoved(Relation rel, CowRow **rows, int64 n,
							 const CowVersion *v);
extern void CowNoteRowUpdated(Relation rel, int64 old_rownum, int64 pending);
extern void CowForgetMoves(Relation rel);
extern Oid	CowAmOid(void);

#include "utils/acl.h"
extern Relation CowOpenChecked(Oid relid, AclMode mode);

extern void cow_init(void);
extern void CowHooksInit(void);

/* aggregate pushdown (cow_agg.c) */
extern PGDLLIMPORT bool CowAggregatePushdown;
extern void CowAggInit(void);

#endif							/* INCETL_COW_H */
