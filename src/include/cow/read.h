/*-------------------------------------------------------------------------
 *
 * cow/read.h
 *	  The read path: rows in memory (CowRow), decoded file groups
 *	  (cow_reader.c), the slot (cow_slot.c), sequential scans, index
 *	  fetches, row moves and skip quals (cow_scan.c).
 *
 * Uses cow/format.h and cow/catalog.h (and, through it, cow/storage.h).
 *
 * Copyright (c) 2026, incetl authors
 *
 * IDENTIFICATION
 *	  src/include/cow/read.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef INCETL_COW_READ_H
#define INCETL_COW_READ_H

#include "access/parallel.h"
#include "access/relscan.h"
#include "access/skey.h"
#include "access/tableam.h"
#include "executor/tuptable.h"
#include "nodes/execnodes.h"
#include "nodes/pg_list.h"

#include "cow/catalog.h"
#include "cow/format.h"

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
	bool		logged;			/* a merge logged its change for logical
								 * decoding (cow_logical.c) */
} CowRow;

/*
 * A file group version being read.  Columns are decompressed on first use
 * (CowGroupColumn), in cxt, and only those wanted (all, or in needed);
 * the others read as NULL.
 */
/* rows [lo, lo + n) of a column of an open group are decoded */
typedef struct CowDirectRows
{
	uint64		lo;
	uint64		n;
} CowDirectRows;

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
								 * (CowGroupRow): scans, key ranges */
	bool		single_values;	/* rows are read one by one, few per block:
								 * decode a block's first value alone
								 * (CowGroupValue): index fetches, bitmap
								 * scans */
	uint32		nblocks;
	bool	  **block_done;		/* [natts][nblocks] or NULL: blocks decoded
								 * while the column is not wholly decoded */
	CowBlockDesc **block_dirs;	/* [natts]: directories read so far, or NULL */
	struct CowMetaShare *borrowed;	/* header and directories are the
									 * backend cache's, borrowed
									 * (CowOpenGroupBorrowed), or NULL */
	/* by block: the last block decompressed of each column (or NULL) */
	char	  **raw_blocks;		/* [natts]: its raw bytes, or NULL */
	uint32	   *raw_block_no;	/* [natts]: its number + 1, or 0 */
	uint32	   *raw_reads;		/* [natts]: rows read from it one by one */
	bool	   *raw_kept;		/* [natts]: values point into it */
	CowLazyRaw **raw_lazy;		/* [natts]: its frames still to decompress
								 * (a framed block read for single values),
								 * or NULL: it is whole */
	bool	  **block_seen;		/* [natts][nblocks] or NULL: blocks values
								 * were read from one by one */
	uint32	   *value_block_no; /* [natts] with block_seen: the number + 1
								 * of the block a value was last read from
								 * through its value block (CowGroupValue),
								 * or 0 */
	uint32	   *probe_block;	/* [natts] or NULL: the number + 1 of the
								 * block a key range's probes last read
								 * (CowGroupProbe), and what they found of */
	uint8	   *probe_state;	/* its value block: COW_PROBE_* */
	uint64	   *win_lo;			/* [natts] or NULL: single values, the rows
								 * [win_lo, win_hi) of the column's current
								 * block decoded into win_values/isnull */
	uint64	   *win_hi;
	uint32	   *win_len;		/* [natts]: the window's length, doubled for
								 * the next (CowGroupValue) */
	Datum	  **win_values;		/* [natts][block_rows / 2] or NULL */
	bool	  **win_isnull;
	uint32	   *blocks_left;	/* [natts]: blocks of the column not decoded
								 * yet, once block_done is set */
	uint64		range_lo;		/* by block: the key range's rows */
	uint64		range_hi;		/* [range_lo, range_hi), or empty: of a block
								 * the range covers in part only those rows
								 * are decoded (CowGroupRow) */
	bool	  **block_part;		/* [natts][nblocks] or NULL: blocks of which
								 * the rows of the range alone are decoded */
	bool	   *unwanted;		/* [natts], columns read as NULL (not all,
								 * not in needed): the slot's per-row test */
	Datum	  **values;			/* [natts][nrows] */
	bool	  **isnull;			/* [natts][nrows] */
	int64	   *commit_ids;		/* [nrows] or NULL */
	const struct CowRowMap *rowmap; /* its row numbers (CowGroupRowNumber):
									 * the backend's cached map, or NULL
									 * until read */
	uint64		rowmap_generation;	/* of the map cache rowmap was found in */
	uint32		rowmap_hint;	/* the run last found */
	uint64		run_lo;			/* positions [run_lo, run_lo + run_n) have */
	uint64		run_n;			/* row numbers position + run_delta: the */
	int64		run_delta;		/* run CowGroupRowNumber found last */
	CowDirectRows *direct;		/* [natts]: per column, the rows the slot
								 * reads from values/isnull as they are
								 * (cow_slot.c) */
	CowDirectRows all_direct;	/* the rows every stored column the slot
								 * reads takes from there, the others being
								 * unwanted: direct's intersection */
	bool	   *read_dropped;	/* [natts] or NULL: columns the relation has
								 * dropped that a slot from before the drop
								 * reads (ALTER TABLE's rewrite): decoded
								 * from their chunks all the same */
} CowDecodedGroup;

/*
 * The row numbers of a version (cow_rowmap.c): a format 5 group's runs and
 * absorbed ranges; none (row first_row_number + position) for the others
 * and for a group whose rows all have fresh numbers.
 */
typedef struct CowRowMap
{
	int64		first_row_number;
	int64		nrows;
	uint32		nruns;			/* 0: first_row_number + position */
	CowRowRun  *runs;			/* [nruns], by position */
	CowRowRun  *rn_runs;		/* [nruns], the same runs by row number */
	int64	   *rn_fence;		/* [CowRowMapFences(nruns)]: the row number
								 * of every COW_ROWMAP_FENCE_STEP-th run of
								 * rn_runs */
	uint32		nabsorbed;
	CowRowRange *absorbed;
} CowRowMap;

typedef struct CowRowIndex CowRowIndex;

extern bool CowGroupRowMapInfo(CowGroupHeader *h, CowRowMapInfo *info,
							   const char **absorbed);
extern void CowBuildRowMap(const int64 *rownums, int64 nrows, int64 first,
						   CowRowRange *sources, int nsources,
						   char **raw, Size *raw_len, uint32 *nruns,
						   CowRowRange **absorbed, uint32 *nabsorbed);
extern const CowRowMap *CowGetRowMap(Relation rel, const CowVersion *v,
									 bool runs);
extern int64 CowRowMapNumber(const CowRowMap *m, int64 pos, uint32 *hint);
extern int64 CowRowMapPosition(const CowRowMap *m, int64 rn);
extern int64 CowVersionPosition(Relation rel, const CowVersion *v, int64 rn);
extern int64 CowGroupRowNumberRun(CowDecodedGroup *g, uint64 pos);
extern void CowGroupReadDropped(CowDecodedGroup *g, TupleDesc desc,
								int attidx);

/*
 * CowGroupRowNumber: the row number of position pos of an open group (a
 * scan asks for every row's: the run found last answers most).
 */
static inline int64
CowGroupRowNumber(CowDecodedGroup *g, uint64 pos)
{
	if (pos - g->run_lo < g->run_n)
		return (int64) pos + g->run_delta;
	return CowGroupRowNumberRun(g, pos);
}
extern void CowGroupRowNumbers(CowDecodedGroup *g, uint64 pos, int64 n,
							   int64 *out);
extern int64 CowGroupPosition(CowDecodedGroup *g, int64 rn);
extern CowRowIndex *CowRowIndexBuild(Relation rel, CowVersion *versions, int n);
extern CowRowIndex *CowRowIndexCopy(const CowRowIndex *ix,
									CowVersion *versions);
extern void CowRowIndexFree(CowRowIndex *ix);
extern char *CowRowIndexFlatten(const CowRowIndex *ix, Size *len);
extern CowRowIndex *CowRowIndexUnflatten(Relation rel, CowVersion *versions,
										 int n, const char *bytes, Size len);
extern void CowRowIndexSetRelation(CowRowIndex *ix, Relation rel);
extern bool CowRowIndexSimple(CowRowIndex *ix);
extern bool CowVersionOverlaps(Relation rel, const CowVersion *v, int64 lo,
							   int64 hi);
extern int	CowRowIndexFind(CowRowIndex *ix, int64 rn, int64 *pos);
extern int64 CowRowIndexEnd(CowRowIndex *ix);
extern int64 CowRowIndexNextBusy(CowRowIndex *ix, int64 rn);
extern int	CowFindRow(Relation rel, CowVersion *versions, int n, int64 rn,
					   int64 *pos);

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
extern CowGroupHeader *CowReadGroupHeaderExt(Relation rel, const CowVersion *v,
											  bool keep);
extern const CowGroupHeader *CowGroupHeaderPin(Relation rel,
											   const CowVersion *v);
extern void CowGroupHeaderUnpin(void);
extern void CowDecodeColumn(Relation rel, const CowVersion *v, CowGroupHeader *h,
							TupleDesc tupdesc, int attidx, Datum *values,
							bool *isnull);
extern int64 *CowDecodeCommitIds(Relation rel, const CowVersion *v,
								 CowGroupHeader *h);
extern CowDecodedGroup *CowOpenGroup(Relation rel, const CowVersion *v,
									 bool all, Bitmapset *needed);
extern CowDecodedGroup *CowOpenGroupBorrowed(Relation rel, const CowVersion *v,
											   bool all, Bitmapset *needed);
extern CowDecodedGroup *CowOpenGroupHeader(Relation rel, const CowVersion *v,
											 CowGroupHeader *h, bool all,
											 Bitmapset *needed);
extern bool CowGroupColumn(CowDecodedGroup *g, int attidx);
extern bool CowGroupRow(CowDecodedGroup *g, int attidx, uint64 row);
extern bool CowGroupValue(CowDecodedGroup *g, int attidx, uint64 row,
						  Datum *value, bool *isnull);
/*
 * A block of a key column whose values grow by one step (CowGroupKeyLinear):
 * row r0 + i, i < nrows, holds first + i * step, an integer Datum of attlen
 * bytes (CowLinearKeyValue).
 */
typedef struct CowLinearKeys
{
	uint64		r0;
	uint32		nrows;
	int64		first;
	int64		step;
	int16		attlen;
} CowLinearKeys;

static inline Datum
CowLinearKeyValue(const CowLinearKeys *k, uint64 row)
{
	int64		v = (int64) ((uint64) k->first +
							 (uint64) (row - k->r0) * (uint64) k->step);

	/* as the value block's reader gives it (CowValueBlockValue) */
	return CowIntDatum(v, k->attlen);
}

extern bool CowGroupKeyLinear(CowDecodedGroup *g, int attidx, uint64 row,
							  CowLinearKeys *k);
extern bool CowGroupProbe(CowDecodedGroup *g, int attidx, uint64 row,
						  Datum *value, bool *isnull);
extern int64 CowChunksDecoded;	/* column chunks decompressed by this backend */
extern bool CowGroupBlockUnits(CowDecodedGroup *g, int attidx, uint32 b,
							   int64 *units, bool *isnull, int *dscale);
extern int64 CowChunksByBlock;	/* column chunks whose blocks were all
								 * decompressed one by one (CowGroupRow) */
extern int64 CowBlocksDecoded;	/* column blocks decompressed by this backend */
extern CowDecodedGroup *CowDecodeGroup(Relation rel, const CowVersion *v,
									   bool all, Bitmapset *needed,
									   bool commit_ids);
extern void CowGroupKeyBounds(CowGroupHeader *h, Datum *first, Datum *last);
extern void CowGroupMinMax(CowGroupHeader *h, int attidx, Datum *min, Datum *max);
extern const char *CowGroupBlockMinMaxList(CowGroupHeader *h, int attidx);
extern bool CowGroupBlockMinMax(CowGroupHeader *h, const char *list, uint32 b,
								Datum *min, Datum *max);

/* ---------- reader-side helpers and hooks ---------- */

typedef struct CowSkipQual
{
	int			attidx;			/* 0-based */
	int			strategy;		/* BTLessStrategyNumber... */
	Oid			opno;			/* "column opno value" */
	Oid			lefttype;		/* opno's input types */
	Oid			righttype;
	FmgrInfo	le_fn;			/* min <= c (for =, <=, <) */
	FmgrInfo	ge_fn;			/* max >= c (for =, >=, >) */
	Oid			collation;
	Datum		value;
	/*
	 * nelems > 0: "column IN (elems)" (strategy BTEqualStrategyNumber,
	 * value unused), the list's elements not NULL, in ascending order: a
	 * group or block may hold a row only if one of them lies within its
	 * min/max.  The scan's key range ignores it (the least and greatest
	 * elements come as skip quals of their own: CowExtractSkipQuals).
	 */
	int			nelems;
	Datum	   *elems;
} CowSkipQual;

/*
 * An IN list of at most this many elements on the record key's first
 * column is searched element by element (cow_scan.c CowScanKeyPoints); a
 * longer one reads the blocks its elements lie in.
 */
#define COW_SCAN_MAX_POINTS		64

/*
 * A qual of a sequential scan's plan, "column op constant" or "constant op
 * column", that the scan evaluates itself on decoded blocks before the
 * executor sees the rows (cow_scan.c CowScanFilterBlock).
 */
typedef struct CowFilterQual
{
	int			attidx;			/* 0-based */
	bool		column_first;	/* column op constant, else constant op column */
	Oid			opno;
	Oid			collation;
	Datum		value;
} CowFilterQual;

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
							List *quals, List *filters);
extern CowSkipQual *CowMakeSkipQual(Relation rel, AttrNumber attnum, Oid opno,
									Oid inputcollid, Datum value);
extern List *CowMakeLikeSkipQuals(Relation rel, AttrNumber attnum, Oid opno,
								  Oid inputcollid, Datum pattern);
extern bool CowGroupMayMatch(Relation rel, CowGroupHeader *h, List *quals);
extern bool CowGroupSortedBy(Relation rel, CowGroupHeader *h, int attidx);
extern bool *CowGroupBlocksMayMatch(Relation rel, CowGroupHeader *h,
									List *quals, int sorted_attidx,
									uint32 *nmatch);
extern const TupleTableSlotOps *CowSlotOps(void);
extern void CowSlotSetXmin(TupleTableSlot *slot, TransactionId xmin);
extern void CowSlotSetXmax(TupleTableSlot *slot, TransactionId xmax);
extern void CowStoreRow(Relation rel, CowDecodedGroup *g, uint64 row,
						TupleTableSlot *slot);
extern void CowStoreRowNumbered(Relation rel, CowDecodedGroup *g, uint64 row,
								int64 rownum, TupleTableSlot *slot);
extern void CowNoteRowsMoved(Relation rel, CowRow **rows, int64 n,
							 const int64 *rownums, int64 first_row_number);
extern void CowNoteRowUpdated(Relation rel, int64 old_rownum, int64 pending);
extern int64 CowMovedTo(Relation rel, int64 rownum);
extern void CowForgetMoves(Relation rel);

/* scans and index fetches (cow_scan.c) */
typedef struct CowScanDescData
{
	TableScanDescData base;
	MemoryContext scan_cxt;
	MemoryContext group_cxt;
	Snapshot	catalog_snap;
	bool		snap_registered;
	bool		loaded;
	int64		storage_id;
	CowVersion *versions;
	int			nversions;
	int			cur;
	CowDecodedGroup *group;
	uint64		row;			/* row last returned in group */
	bool		inited;			/* a row was returned and the scan has not
								 * run off either end since */
	Bitmapset  *needed;			/* 0-based attribute indexes */
	bool		all_columns;
	List	   *quals;			/* of CowSkipQual */
	int			key_attidx;		/* 0-based first record-key column some
								 * quals constrain, or -1 (no key range) */
	struct CowKeyBounds *key_bounds;	/* with key_attidx: the versions' min
										 * and max of it, or NULL
										 * (cow_scan.c) */
	uint64		lo_row;			/* rows [lo_row, hi_row) of group are */
	uint64		hi_row;			/* returned: the quals' key range */
	uint64		run_end;		/* rows after row up to this one are returned
								 * without a per-row test (CowScanRunEnd) */
	bool		range_exact;	/* every row of [lo_row, hi_row) holds for
								 * the quals on the key column (the key range
								 * found their bounds): their filters are
								 * not evaluated */
	void	   *node_state;		/* the executor node's, for the rows the
								 * key range holds (cow_hooks.c
								 * CowSeqScanKeyRange), or NULL */
	/* the quals' prefilter (cow_scan.c CowScanFilterBlock) */
	struct CowScanFilter *filters;	/* [nfilters] */
	int			nfilters;
	bool	   *pass;			/* [group nrows]: rows of the filtered
								 * blocks the quals may hold for */
	bool	   *pass_done;		/* [group nblocks]: blocks filtered */
	bool	   *block_may;		/* [group nblocks] or NULL: false for the
								 * blocks per-block min/max rule out (the
								 * scan decodes nothing of them) */
	uint64	   *points;			/* [2 * npoints] or NULL: of [lo_row,
								 * hi_row), only these [lo, hi) ranges, in
								 * order (the rows of an IN list's elements:
								 * CowScanKeyRange) */
	int			npoints;
	int64		groups_read;
	int64		groups_skipped;
	int64		chunks_at_start;	/* CowChunksDecoded + CowChunksByBlock
									 * when the scan began */
	/* bitmap scans: the visible rows of the current TID block */
	void	   *bm_rows;		/* [COW_ROWS_PER_BLOCK] (version, position)
								 * pairs (cow_scan.c CowBitmapRow), by
								 * version */
	int			bm_nrows;
	int			bm_next;
	/* ANALYZE */
	int			analyze_version;
	int64		analyze_next;
	int64		analyze_end;
	/* TABLESAMPLE (cow_sample.c) */
	bool		sample_started; /* sample_block is valid */
	BlockNumber sample_block;	/* the row-number bucket being sampled */
	BlockNumber sample_nblocks; /* buckets up to the last current row */
	int			sample_version; /* versions[] index of group, or -1 */
	struct CowRowIndex *rowix;	/* lookups by row number among versions, or
								 * NULL until built (CowScanRowIndex) */
} CowScanDescData;

typedef CowScanDescData *CowScanDesc;

typedef struct CowIndexFetch
{
	IndexFetchTableData base;
	MemoryContext cxt;
	MemoryContext group_cxt;
	bool		loaded;
	Snapshot	snapshot;
	CommandId	curcid;
	TransactionId xmin;
	CommandId	cmd;			/* command counter when loaded: a flush in
								 * this transaction bumps it */
	int64		storage_id;
	struct CowFetchList *list;	/* the versions and their index, borrowed
								 * from this backend's cache
								 * (cow_fetch_cache.c) until the fetch ends
								 * or reloads */
	CowVersion *versions;		/* list's */
	int			nversions;
	struct CowRowIndex *rowix;	/* list's: lookups among versions */
	CowDecodedGroup *group;
	int64		group_storage_id;	/* the storage and relfilenode group was
									 * read from (TRUNCATE and its rollback
									 * change both, row numbers restart) */
	RelFileNode group_node;
	CowVersion *live;			/* CowLoadLiveVersions, read on the first
								 * miss, or NULL */
	int			nlive;
	struct CowRowIndex *liveix; /* lookups among live */
	bool		some_columns;	/* only needed's columns are read
								 * (CowIndexFetchSetColumns), the others
								 * read as NULL */
	Bitmapset  *needed;			/* their indexes (attnum - 1), in cxt */
} CowIndexFetch;

extern void CowIndexFetchSetColumns(IndexFetchTableData *data,
									const Bitmapset *needed);
extern TableScanDesc cow_scan_begin(Relation rel, Snapshot snapshot, int nkeys,
									ScanKey key, ParallelTableScanDesc pscan,
									uint32 flags);
extern void cow_scan_end(TableScanDesc sscan);
extern Size CowParallelScanEstimate(Relation rel);
extern Size CowParallelScanInitialize(Relation rel, ParallelTableScanDesc pscan);
extern void CowParallelScanReinitialize(Relation rel, ParallelTableScanDesc pscan);
extern void cow_scan_rescan(TableScanDesc sscan, ScanKey key, bool set_params,
							bool allow_strat, bool allow_sync, bool allow_pagemode);
extern bool cow_scan_getnextslot(TableScanDesc sscan, ScanDirection direction,
								 TupleTableSlot *slot);
extern CowVersion *CowScanVersions(TableScanDesc sscan, int *nversions);
extern int	CowScanNextVersion(TableScanDesc sscan);
extern CowRowIndex *CowScanRowIndex(TableScanDesc sscan);
extern Size CowCustomScanEstimateDSM(CustomScanState *node,
									ParallelContext *pcxt);
extern ParallelTableScanDesc CowCustomScanInitializeDSM(CustomScanState *node,
														void *coordinate);
extern void CowCustomScanReInitializeDSM(CustomScanState *node,
										 ParallelContext *pcxt,
										 void *coordinate);

/* cow_fetch_cache.c */

/*
 * The min/max of the first record-key column of each version of a list the
 * backend keeps (CowFetchVersions), for a stream of key ranges on the
 * table: a key range looked at the min/max of every version's header to
 * skip the versions outside it, some 650 instructions a version (the
 * header found in the backend's cache and pinned, the min/max restored,
 * every qual applied), which in a table of hundreds of file groups is most
 * of a narrow range's cost.  Read once per list (CowKeyBoundsFor), they are
 * tested against the key's bounds first (CowScanOpenVersion), at two
 * comparisons a version.  Kept only for a key of a type passed by value
 * (integers, dates, timestamps: the Datums are the values), and only for
 * versions whose column was written under the column's type and collation
 * of the list's view and has min/max (known); the others are read as
 * before.
 */
typedef struct CowKeyBounds
{
	int			attidx;			/* 0-based */
	Oid			typid;			/* the column's, when read */
	Oid			collation;
	int			nversions;
	bool	   *known;			/* [nversions] */
	Datum	   *min;			/* [nversions] */
	Datum	   *max;			/* [nversions] */
} CowKeyBounds;

/*
 * A list as the cache keeps it, with its row index.  Index fetches borrow
 * it (CowFetchBorrow) instead of copying it: on a table of many file-group
 * versions the index alone is some tens of kB, which each statement of a
 * stream of point lookups would copy.  A kept list is counted: its entry's
 * reference and each borrowing fetch's; it is freed when the entry is
 * replaced and no fetch holds it any more (CowFetchListRelease).  A list
 * the cache does not keep is the borrower's own, in its memory context.
 */
typedef struct CowFetchList
{
	bool		kept;			/* in CowFetchCacheCxt, counted by refs */
	int			refs;
	int			nversions;
	CowVersion *versions;
	CowRowIndex *rowix;			/* over versions, once an index fetch asked
								 * for it; or NULL */
} CowFetchList;

extern CowVersion *CowFetchVersions(Relation rel, int64 *storage_id,
									Snapshot snap, bool current_only, int *n);
extern CowFetchList *CowFetchBorrow(Relation rel, int64 *storage_id,
									Snapshot snap, bool current_only);
extern void CowFetchListRelease(CowFetchList *l);
extern CowKeyBounds *CowKeyBoundsFor(Relation rel, Snapshot snap, int attidx,
									 int n);
extern void CowKeyBoundsFree(CowKeyBounds *b);
extern AttrNumber CowFirstKeyAttnum(Relation rel, Snapshot snap);
extern CowVersion *CowCurrentVersions(Relation rel, Snapshot snap, int *n);

extern int	CowScanSortedColumn(TableScanDesc sscan);
extern Bitmapset *CowScanBoundQuals(TableScanDesc sscan);
extern bool CowScanRowHoldsBounds(TableScanDesc sscan);
extern CowVersion *CowLoadLiveVersions(Relation rel, int *n);
extern void CowRowFetchForget(void);
extern void CowDeletePassForget(void);
extern IndexFetchTableData *cow_index_fetch_begin(Relation rel);
extern void cow_index_fetch_reset(IndexFetchTableData *data);
extern void cow_index_fetch_end(IndexFetchTableData *data);
extern bool CowFetchRow(CowIndexFetch *f, int64 rownum, Snapshot snapshot,
						TupleTableSlot *slot);
extern bool cow_index_fetch_tuple(IndexFetchTableData *data, ItemPointer tid,
								  Snapshot snapshot, TupleTableSlot *slot,
								  bool *call_again, bool *all_dead);
extern TransactionId cow_index_delete_tuples(Relation rel,
											 TM_IndexDeleteOp *delstate);
extern TransactionId cow_index_delete_tuples_pending(Relation rel,
													 TM_IndexDeleteOp *delstate,
													 bool pending_dead);
extern bool cow_tuple_fetch_row_version(Relation rel, ItemPointer tid,
										Snapshot snapshot, TupleTableSlot *slot);
extern void cow_tuple_get_latest_tid(TableScanDesc sscan, ItemPointer tid);
extern int64 CowResolveMovedRow(Relation rel, int64 rownum, CowVersion *versions,
								int n, bool follow_updates);
extern bool cow_tuple_satisfies_snapshot(Relation rel, TupleTableSlot *slot,
										 Snapshot snapshot);
extern bool cow_scan_bitmap_next_block(TableScanDesc sscan,
									   struct TBMIterateResult *tbmres);
extern bool cow_scan_bitmap_next_tuple(TableScanDesc sscan,
									   struct TBMIterateResult *tbmres,
									   TupleTableSlot *slot);
extern bool cow_scan_analyze_next_block(TableScanDesc sscan, BlockNumber blockno,
										BufferAccessStrategy bstrategy);
extern bool cow_scan_analyze_next_tuple(TableScanDesc sscan, TransactionId OldestXmin,
										double *liverows, double *deadrows,
										TupleTableSlot *slot);
extern bool cow_scan_sample_next_block(TableScanDesc sscan,
									   SampleScanState *scanstate);
extern bool cow_scan_sample_next_tuple(TableScanDesc sscan,
									   SampleScanState *scanstate,
									   TupleTableSlot *slot);

#endif							/* INCETL_COW_READ_H */
