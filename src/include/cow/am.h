/*-------------------------------------------------------------------------
 *
 * cow/am.h
 *	  The top: the table access method routine and module init
 *	  (cow_tableam.c), the executor, planner, utility and object-access
 *	  hooks (cow_hooks.c), the aggregate pushdown (cow_agg.c), the top-N
 *	  scan (cow_topn.c).
 *
 * Uses every layer below.
 *
 * Copyright (c) 2026, incetl authors
 *
 * IDENTIFICATION
 *	  src/include/cow/am.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef INCETL_COW_AM_H
#define INCETL_COW_AM_H

#include "nodes/pathnodes.h"

#include "cow/maintenance.h"
#include "cow/security.h"

extern void CowHooksInit(void);
extern List *CowExtractSkipQuals(List *quals, Index scanrelid, Relation rel);
extern void CowPlanVersionTotals(Relation rel, double *rows, double *raw_bytes,
								 int *nversions);
extern Selectivity CowKeyRangeSelectivity(PlannerInfo *root, RelOptInfo *rel,
										  Relation r);

/* aggregate pushdown (cow_agg.c) */
extern PGDLLIMPORT bool CowAggregatePushdown;
extern void CowAggInit(void);

/* top-N scan: ORDER BY columns LIMIT n (cow_topn.c) */
extern void CowTopNInit(void);

/* the WAL resource manager that decodes incetl_cow rows (cow_decode.c) */
extern void CowRmgrInit(void);

/* row locks: table_tuple_lock (cow_row_lock.c) */
extern TM_Result CowTupleLock(Relation rel, ItemPointer tid, Snapshot snapshot,
							  TupleTableSlot *slot, CommandId cid,
							  LockTupleMode mode, LockWaitPolicy wait_policy,
							  uint8 flags, TM_FailureData *tmfd);
extern bool CowRowLockedInCommand(Relation rel, ItemPointer tid,
								  CommandId cid);

#endif							/* INCETL_COW_AM_H */
