/*-------------------------------------------------------------------------
 *
 * cow/catalog.h
 *	  incetl_cow's catalogs: table options, file group versions, commits,
 *	  savepoints, TRUNCATE's commit, the extents still referenced, "is this
 *	  an incetl_cow table" (cow_metadata.c), and what the transaction wrote
 *	  (cow_counts.c).
 *
 * Uses cow/storage.h (and declares part of cow.h's interface).
 *
 * Copyright (c) 2026, incetl authors
 *
 * IDENTIFICATION
 *	  src/include/cow/catalog.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef INCETL_COW_CATALOG_H
#define INCETL_COW_CATALOG_H

#include "access/htup.h"
#include "access/tableam.h"
#include "storage/lock.h"
#include "storage/relfilenode.h"
#include "utils/snapshot.h"

#include "cow.h"
#include "cow/storage.h"

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
	TransactionId xmin;			/* of that catalog row: the transaction
								 * that wrote the version (row locks and
								 * triggers read it as the rows' xmin) */
} CowVersion;

/*
 * CowVersionName names a file group version for good, as the caches of
 * versions and of their decoded blocks key it (cow_reader.c,
 * cow_read_cache.c, cow_shared_cache.c): the relation's file, and the
 * version's first row number, commit, file group id and extent.  No other
 * version of a storage has them (a write makes a new version, at a new
 * reserved range of row numbers and a new commit id), and new storage in
 * a file forgets what the server cached of it.  Set with CowVersionNameSet,
 * so that a key holding one can be hashed and compared as bytes.
 */
typedef struct CowVersionName
{
	RelFileNode node;
	BlockNumber first_block;
	int64		first_row_number;
	int64		commit_id;
	int64		file_group_id;
} CowVersionName;

static inline void
CowVersionNameSet(CowVersionName *name, RelFileNode node, const CowVersion *v)
{
	memset(name, 0, sizeof(CowVersionName));
	name->node = node;
	name->first_block = v->first_block;
	name->first_row_number = v->first_row_number;
	name->commit_id = v->commit_id;
	name->file_group_id = v->file_group_id;
}

/* does name name version v of the file node? */
static inline bool
CowVersionNameIs(const CowVersionName *name, RelFileNode node,
				 const CowVersion *v)
{
	return name->first_row_number == v->first_row_number &&
		RelFileNodeEquals(name->node, node) &&
		name->commit_id == v->commit_id &&
		name->file_group_id == v->file_group_id &&
		name->first_block == v->first_block;
}

typedef struct CowCommitInfo
{
	int64		commit_id;
	const char *operation;
	int64		rows_inserted;
	int64		rows_updated;
	int64		rows_deleted;
	int32		file_groups_written;
	int64		bytes_written;
	CommandId	cid;			/* the command that wrote the rows (their
								 * cmin), or InvalidCommandId: the current
								 * one */
} CowCommitInfo;

extern Oid	CowCatalogRelid(const char *name, bool missing_ok);
extern Oid	CowRewriteSourceRelid(Relation rel);
extern void CowCheckOptionsCatalog(Relation catalog);
extern AttrNumber CowOptionColumn(Relation rel, const char *name, const char *role,
								  bool missing_ok);
extern struct SysScanDescData *CowCatalogScan(Relation catalog, Snapshot snapshot,
											  struct ScanKeyData *key);
extern void CowVersionFromHeapTuple(HeapTuple tup, TupleDesc desc, CowVersion *v);
extern void CowLoadOptions(Relation rel, Snapshot snapshot, CowOptions *opts);
extern CowVersion *CowLoadVersions(int64 storage_id, Snapshot snapshot,
								   bool current_only, int *nversions);
extern void CowSortVersions(CowVersion *versions, int n);
extern void CowInsertVersion(int64 storage_id, const CowVersion *v);
extern PGDLLIMPORT uint64 CowVersionWrites;
extern void CowVersionsChanged(int64 storage_id);
extern void CowSupersedeVersion(const CowVersion *v, int64 commit_id);
extern TransactionId CowCommitWriterXid(int64 storage_id, int64 commit_id);
extern CommandId CowCommitWriterCid(int64 storage_id, int64 commit_id);
extern TransactionId CowVersionUpdater(Relation rel, const CowVersion *v);

/*
 * The row-lock tag (CowRowLockTag) is an object lock on the table's pg_class
 * entry with this sub-id, which no column has: pg_locks shows it as locktype
 * object, classid pg_class, objid the table, objsubid 32767.
 */
#define COW_ROW_LOCK_SUBID		32767
extern void CowRowLockTag(Relation rel, LOCKTAG *tag);
extern void CowNoteRowLock(Oid relid);
extern bool CowRowsLockedByUs(Oid relid);
extern bool CowRowsLockedByOthers(Relation rel);
extern void CowInsertCommit(int64 storage_id, const CowCommitInfo *c);
extern void CowDeleteStorageMetadata(int64 storage_id);
extern void CowAdoptResetStorage(Relation rel);
extern void CowCopyCommits(int64 from_storage, int64 to_storage);
extern int64 CowNewestCommit(int64 storage_id, Snapshot snapshot, int64 at_most);

/* savepoints (the catalog rows; the SQL functions are in cow_savepoint.c) */
extern int64 *CowLoadSavepoints(int64 storage_id, Snapshot snapshot, int *n);
extern bool CowCommitKept(const CowMetaPageData *meta, int64 commit_id,
						  Snapshot snapshot);
extern void CowCopySavepoints(Relation rel, int64 from_storage,
							  int64 to_storage, int64 horizon);
extern void CowDropSavepointsBefore(Relation rel, int64 storage_id,
									int64 commit_id);
extern void CowTruncate(Relation rel, const RelFileNode *newrnode,
						char persistence);

extern void CowCheckCowRelation(Relation rel);
extern void CowRegisterRoutine(const TableAmRoutine *routine);
extern CowUsedMap *CowLoadUsedMap(int64 storage_id);

/* what this transaction wrote (cow_counts.c; the readers are in cow.h) */
extern void CowRecordCounts(Oid relid, int64 ins, int64 upd, int64 del,
							int64 commit_id);

#endif							/* INCETL_COW_CATALOG_H */
