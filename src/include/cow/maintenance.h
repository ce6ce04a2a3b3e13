/*-------------------------------------------------------------------------
 *
 * cow/maintenance.h
 *	  Work on whole tables and their timeline: VACUUM and clean
 *	  (cow_clean.c), set_table_options and renames (cow_options.c), index
 *	  builds (cow_index.c), commits, changes and as_of (cow_timeline.c),
 *	  the change feed (cow_changefeed.c), verify (cow_verify.c), savepoints
 *	  and restore (cow_savepoint.c).
 *
 * Uses cow/write.h, cow/security.h and the layers below them.
 *
 * Copyright (c) 2026, incetl authors
 *
 * IDENTIFICATION
 *	  src/include/cow/maintenance.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef INCETL_COW_MAINTENANCE_H
#define INCETL_COW_MAINTENANCE_H

#include "catalog/index.h"
#include "commands/vacuum.h"
#include "fmgr.h"

#include "cow/write.h"

/* VACUUM and incetl.clean() (cow_clean.c) */
extern int64 CowClean(Relation rel, int keep, int elevel,
					  BufferAccessStrategy bstrategy);
extern void cow_relation_vacuum(Relation rel, struct VacuumParams *params,
								BufferAccessStrategy bstrategy);

/* options (cow_options.c), index builds (cow_index.c) */
extern void CowRenameOptionColumn(Oid relid, const char *oldname, const char *newname);
extern bool CowIndexAmAllowed(Oid am);
extern void cow_index_validate_scan(Relation table_rel, Relation index_rel,
									IndexInfo *index_info, Snapshot snapshot,
									ValidateIndexState *state);
extern double cow_index_build_range_scan(Relation table_rel, Relation index_rel,
										 struct IndexInfo *index_info, bool allow_sync,
										 bool anyvisible, bool progress,
										 BlockNumber start_blockno,
										 BlockNumber numblocks,
										 IndexBuildCallback callback,
										 void *callback_state,
										 TableScanDesc scan);

/* the timeline (cow_timeline.c) */
extern Oid	CowRelidFromRowType(FunctionCallInfo fcinfo, const char *fname);
extern int64 CowCheckCommitExists(Relation rel, int64 storage_id, int64 commit_id,
								  Snapshot snapshot);
extern void CowCheckCommitReadable(Relation rel, const CowMetaPageData *meta,
								   int64 commit_id, Snapshot snapshot,
								   const char *fname);

/*
 * The change feed (cow_changefeed.c).  CowDiffVersions compares two sets
 * of file group versions covering the same key region of rel -- old, the
 * versions current at one moment, and new, those current at a later one
 * (e.g. the versions a commit superseded and those it wrote) -- and calls
 * cb once per changed row: op, the row before (NULL arrays for an insert)
 * and after (NULL for a delete) as rel's descriptor lays it out (today's
 * columns, dropped ones NULL), and the commit that wrote the row after (0
 * for a delete).  The arrays are valid during the call only.  A row is
 * unchanged when its version carried over (same hidden commit id); with a
 * record key, rows are matched by key in one pass holding one decoded
 * group per side; without one (or across a change of the key) rows are
 * matched by commit id and image in memory.  Callbacks come in key order
 * with a key (without: deletes, then inserts).
 */
typedef enum CowChangeOp
{
	COW_CHANGE_INSERT,
	COW_CHANGE_UPDATE,
	COW_CHANGE_DELETE
} CowChangeOp;

typedef void (*CowChangeCallback) (CowChangeOp op,
								   Datum *before_values, bool *before_nulls,
								   Datum *after_values, bool *after_nulls,
								   int64 commit_id, void *arg);

extern void CowDiffVersions(Relation rel, CowVersion *old, int nold,
							CowVersion *new, int nnew,
							CowChangeCallback cb, void *arg);

#endif							/* INCETL_COW_MAINTENANCE_H */
