/*-------------------------------------------------------------------------
 *
 * cow/maintenance.h
 *	  Work on whole tables and their timeline: VACUUM and clean
 *	  (cow_clean.c), set_table_options and renames (cow_options.c), index
 *	  builds (cow_index.c), commits, changes and as_of (cow_timeline.c),
 *	  verify (cow_verify.c), savepoints and restore (cow_savepoint.c).
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

#include "commands/vacuum.h"

#include "cow/write.h"

/* VACUUM and incetl.clean() (cow_clean.c) */
extern int64 CowClean(Relation rel, int keep, int elevel,
					  BufferAccessStrategy bstrategy);
extern void cow_relation_vacuum(Relation rel, struct VacuumParams *params,
								BufferAccessStrategy bstrategy);

/*
 * Can snapshot read as_of(commit_id) although the metapage's clean horizon
 * says its history is gone: pinned by a savepoint, or the snapshot does
 * not see the clean that removed it (cow_savepoint.c)?
 */
extern bool CowCommitKept(const CowMetaPageData *meta, int64 commit_id,
						  Snapshot snapshot);

/* options (cow_options.c), index builds (cow_index.c) */
extern void CowRenameOptionColumn(Oid relid, const char *oldname, const char *newname);
extern double cow_index_build_range_scan(Relation table_rel, Relation index_rel,
										 struct IndexInfo *index_info, bool allow_sync,
										 bool anyvisible, bool progress,
										 BlockNumber start_blockno,
										 BlockNumber numblocks,
										 IndexBuildCallback callback,
										 void *callback_state,
										 TableScanDesc scan);

#endif							/* INCETL_COW_MAINTENANCE_H */
