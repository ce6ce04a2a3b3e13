/*-------------------------------------------------------------------------
 *
 * cow_scan.h
 *	  Scan descriptors of the incetl_cow table access method.
 *
 * Copyright (c) 2026, incetl authors
 *
 * IDENTIFICATION
 *	  src/include/cow_scan.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef INCETL_COW_SCAN_H
#define INCETL_COW_SCAN_H

#include "access/relscan.h"
#include "access/skey.h"
#include "access/tableam.h"
#include "cow.h"

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
	int64		groups_read;
	int64		groups_skipped;
	int64		chunks_at_start;	/* CowChunksDecoded when the scan began */
	/* ANALYZE */
	int			analyze_version;
	int64		analyze_next;
	int64		analyze_end;
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
	CowVersion *versions;
	int			nversions;
	CowDecodedGroup *group;
	CowVersion *live;			/* CowLoadLiveVersions, read on the first
								 * miss, or NULL */
	int			nlive;
} CowIndexFetch;

extern TableScanDesc cow_scan_begin(Relation rel, Snapshot snapshot, int nkeys,
									ScanKey key, ParallelTableScanDesc pscan,
									uint32 flags);
extern void cow_scan_end(TableScanDesc sscan);
extern void cow_scan_rescan(TableScanDesc sscan, ScanKey key, bool set_params,
							bool allow_strat, bool allow_sync, bool allow_pagemode);
extern bool cow_scan_getnextslot(TableScanDesc sscan, ScanDirection direction,
								 TupleTableSlot *slot);
extern CowVersion *CowScanVersions(TableScanDesc sscan, int *nversions);
extern int	CowFindInVersions(CowVersion *versions, int n, int64 rownum);
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
extern bool cow_tuple_fetch_row_version(Relation rel, ItemPointer tid,
										Snapshot snapshot, TupleTableSlot *slot);
extern void cow_tuple_get_latest_tid(TableScanDesc sscan, ItemPointer tid);
extern int64 CowResolveMovedRow(Relation rel, int64 rownum, CowVersion *versions,
								int n, bool follow_updates);
extern bool cow_tuple_satisfies_snapshot(Relation rel, TupleTableSlot *slot,
										 Snapshot snapshot);
extern bool cow_scan_analyze_next_block(TableScanDesc sscan, BlockNumber blockno,
										BufferAccessStrategy bstrategy);
extern bool cow_scan_analyze_next_tuple(TableScanDesc sscan, TransactionId OldestXmin,
										double *liverows, double *deadrows,
										TupleTableSlot *slot);

extern double cow_index_build_range_scan(Relation table_rel, Relation index_rel,
										 struct IndexInfo *index_info, bool allow_sync,
										 bool anyvisible, bool progress,
										 BlockNumber start_blockno,
										 BlockNumber numblocks,
										 IndexBuildCallback callback,
										 void *callback_state,
										 TableScanDesc scan);
extern void cow_relation_vacuum(Relation rel, struct VacuumParams *params,
								BufferAccessStrategy bstrategy);

#endif							/* INCETL_COW_SCAN_H */
