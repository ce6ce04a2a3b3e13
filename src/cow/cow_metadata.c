/*-------------------------------------------------------------------------
 *
 * cow_metadata.c
 *	  The catalogs that make incetl_cow file group versions MVCC-visible.
 *
 * incetl.cow_file_group holds one row per file group version, keyed by
 * the storage id kept in the metapage.  A writer marks the version it
 * replaces with superseded_by = its commit id (an ordinary heap update)
 * and inserts the new version's row, inside the writing transaction.  A
 * reader scans the catalog under its own snapshot, so it sees exactly the
 * versions that were current for that snapshot: rollback, savepoints and
 * old snapshots behave as they do on heap.  Nothing here reads xmin.
 *
 * incetl.cow_commit is the timeline; incetl.cow_options holds the table
 * options set by incetl.set_table_options(); incetl.cow_savepoint the
 * commits pinned by incetl.savepoint() (the SQL functions are in
 * cow_savepoint.c; the catalog rows follow the storage here: TRUNCATE,
 * VACUUM FULL, DROP).
 *
 * Copyright (c) 2026, incetl authors
 *
 * IDENTIFICATION
 *	  src/cow/cow_metadata.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/transam.h"
#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/index.h"
#include "catalog/indexing.h"
#include "executor/tuptable.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "catalog/storage.h"
#include "commands/sequence.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "storage/lock.h"
#include "storage/proc.h"
#include "storage/procarray.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "cow/catalog.h"
#include "cow/shared_cache.h"

/* incetl_cow's table AM routine (cow_tableam.c), set at load */
static const TableAmRoutine *CowRoutine = NULL;

static void CowTruncateStorage(Relation rel, const RelFileNode *newrnode,
							   char persistence);

/* incetl.cow_options */
#define Anum_opt_tbl				1
#define Anum_opt_record_key			2
#define Anum_opt_precombine			3
#define Anum_opt_delete_marker		4
#define Anum_opt_file_group_rows	5
#define Anum_opt_compression_level	6
#define Anum_opt_retain_commits		7

/* incetl.cow_file_group */
#define Anum_fg_storage_id			1
#define Anum_fg_file_group_id		2
#define Anum_fg_commit_id			3
#define Anum_fg_superseded_by		4
#define Anum_fg_first_row_number	5
#define Anum_fg_row_count			6
#define Anum_fg_first_block			7
#define Anum_fg_nblocks				8
#define Anum_fg_header_bytes		9
#define Anum_fg_bytes				10
#define Anum_fg_raw_bytes			11
#define Anum_fg_min_commit			12
#define Anum_fg_max_commit			13
#define Natts_fg					13

/* incetl.cow_commit */
#define Anum_c_storage_id			1
#define Anum_c_commit_id			2
#define Anum_c_committed_at			3
#define Anum_c_operation			4
#define Anum_c_rows_inserted		5
#define Anum_c_rows_updated			6
#define Anum_c_rows_deleted			7
#define Anum_c_file_groups_written	8
#define Anum_c_bytes_written		9
#define Natts_c						9

/* incetl.cow_savepoint */
#define Anum_sp_storage_id			1
#define Anum_sp_commit_id			2
#define Natts_sp					5

/*
 * CowCatalogRelid finds one of our catalogs in schema incetl.
 */
Oid
CowCatalogRelid(const char *name, bool missing_ok)
{
	Oid			nsp = get_namespace_oid("incetl", true);
	Oid			relid = InvalidOid;

	if (OidIsValid(nsp))
		relid = get_relname_relid(name, nsp);
	if (!OidIsValid(relid) && !missing_ok)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("incetl catalog \"incetl.%s\" does not exist", name),
				 errhint("Run CREATE EXTENSION incetl in this database.")));
	return relid;
}

/*
 * CowOptionColumn finds an option's column by name in rel's descriptor (a
 * rewrite's transient table has the same names).  Options name their
 * columns, so they survive pg_dump/pg_restore; RENAME COLUMN updates them
 * (CowRenameOptionColumn).
 */
AttrNumber
CowOptionColumn(Relation rel, const char *name, const char *role, bool missing_ok)
{
	TupleDesc	desc = RelationGetDescr(rel);
	int			i;

	for (i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (!att->attisdropped && strcmp(NameStr(att->attname), name) == 0)
			return att->attnum;
	}
	if (!missing_ok)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("%s column \"%s\" of \"%s\" does not exist",
						role, name, RelationGetRelationName(rel)),
				 errhint("Set the table options again with incetl.set_table_options().")));
	return InvalidAttrNumber;
}

/*
 * CowCheckOptionsCatalog refuses an options catalog of another layout (an
 * extension script older than the library).
 */
void
CowCheckOptionsCatalog(Relation catalog)
{
	TupleDesc	desc = RelationGetDescr(catalog);

	if (desc->natts != 7 ||
		TupleDescAttr(desc, Anum_opt_tbl - 1)->atttypid != REGCLASSOID ||
		TupleDescAttr(desc, Anum_opt_record_key - 1)->atttypid != NAMEARRAYOID ||
		TupleDescAttr(desc, Anum_opt_precombine - 1)->atttypid != NAMEOID ||
		TupleDescAttr(desc, Anum_opt_delete_marker - 1)->atttypid != NAMEOID)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("catalog incetl.cow_options does not match this version of the incetl library"),
				 errhint("Run ALTER EXTENSION incetl UPDATE.")));
}

/*
 * CowCatalogScan begins a scan of one of our catalogs by storage id or
 * relid (the first column), through its index when the index exists.
 */
SysScanDesc
CowCatalogScan(Relation catalog, Snapshot snapshot, ScanKey key)
{
	const char *relname = RelationGetRelationName(catalog);
	const char *idxname = NULL;
	Oid			idx = InvalidOid;

	if (strcmp(relname, "cow_file_group") == 0)
		idxname = "cow_file_group_rows_idx";
	else if (strcmp(relname, "cow_commit") == 0)
		idxname = "cow_commit_pkey";
	else if (strcmp(relname, "cow_options") == 0)
		idxname = "cow_options_pkey";
	else if (strcmp(relname, "cow_savepoint") == 0)
		idxname = "cow_savepoint_pkey";
	if (idxname)
		idx = CowCatalogRelid(idxname, true);
	return systable_beginscan(catalog, idx, OidIsValid(idx), snapshot, 1, key);
}

/*
 * CowRewriteSourceRelid: ALTER TABLE rewrites and VACUUM FULL write into a
 * transient table named pg_temp_<oid of the table> (make_new_heap).  For
 * such a table this returns that oid, so the rewrite uses the table's
 * options (key order, dedup) and continues its timeline; otherwise the
 * relation's own oid.
 */
Oid
CowRewriteSourceRelid(Relation rel)
{
	unsigned int orig;
	char		tail;

	if (sscanf(RelationGetRelationName(rel), "pg_temp_%u%c", &orig, &tail) == 1 &&
		OidIsValid(orig) && (Oid) orig != RelationGetRelid(rel) &&
		get_rel_namespace((Oid) orig) == RelationGetNamespace(rel))
		return (Oid) orig;
	return RelationGetRelid(rel);
}

/*
 * CowLoadOptions reads the options of rel as seen by snapshot, filling
 * defaults when the table has none.
 */
void
CowLoadOptions(Relation rel, Snapshot snapshot, CowOptions *opts)
{
	Relation	catalog;
	SysScanDesc scan;
	ScanKeyData key;
	HeapTuple	tup;

	Oid			relid = CowRewriteSourceRelid(rel);

	memset(opts, 0, sizeof(CowOptions));
	opts->file_group_rows = COW_DEFAULT_FILE_GROUP_ROWS;
	opts->compression_level = COW_DEFAULT_COMPRESSION;
	opts->retain_commits = COW_DEFAULT_RETAIN_COMMITS;

	catalog = table_open(CowCatalogRelid("cow_options", false), AccessShareLock);
	CowCheckOptionsCatalog(catalog);
	ScanKeyInit(&key, Anum_opt_tbl, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(relid));
	scan = CowCatalogScan(catalog, snapshot, &key);
	tup = systable_getnext(scan);
	if (HeapTupleIsValid(tup))
	{
		TupleDesc	desc = RelationGetDescr(catalog);
		bool		isnull;
		Datum		d;

		d = heap_getattr(tup, Anum_opt_record_key, desc, &isnull);
		if (!isnull)
		{
			Datum	   *elems;
			bool	   *nulls;
			int			n,
						i;

			deconstruct_array(DatumGetArrayTypeP(d), NAMEOID, NAMEDATALEN, false,
							  TYPALIGN_CHAR, &elems, &nulls, &n);
			opts->nkeys = n;
			opts->key_attnums = palloc(sizeof(AttrNumber) * Max(n, 1));
			for (i = 0; i < n; i++)
				opts->key_attnums[i] =
					CowOptionColumn(rel, NameStr(*DatumGetName(elems[i])),
									"record key", false);
		}
		d = heap_getattr(tup, Anum_opt_precombine, desc, &isnull);
		if (!isnull)
			opts->precombine_attnum =
				CowOptionColumn(rel, NameStr(*DatumGetName(d)), "precombine", false);
		d = heap_getattr(tup, Anum_opt_delete_marker, desc, &isnull);
		if (!isnull)
			opts->delete_marker_attnum =
				CowOptionColumn(rel, NameStr(*DatumGetName(d)), "delete marker", false);
		d = heap_getattr(tup, Anum_opt_file_group_rows, desc, &isnull);
		if (!isnull)
			opts->file_group_rows = DatumGetInt32(d);
		d = heap_getattr(tup, Anum_opt_compression_level, desc, &isnull);
		if (!isnull)
			opts->compression_level = DatumGetInt32(d);
		d = heap_getattr(tup, Anum_opt_retain_commits, desc, &isnull);
		if (!isnull)
			opts->retain_commits = DatumGetInt32(d);
	}
	systable_endscan(scan);
	table_close(catalog, AccessShareLock);
}

void
CowVersionFromHeapTuple(HeapTuple tup, TupleDesc desc, CowVersion *v)
{
	Datum		values[Natts_fg];
	bool		nulls[Natts_fg];

	heap_deform_tuple(tup, desc, values, nulls);
	v->file_group_id = DatumGetInt64(values[Anum_fg_file_group_id - 1]);
	v->commit_id = DatumGetInt64(values[Anum_fg_commit_id - 1]);
	v->superseded_by = nulls[Anum_fg_superseded_by - 1] ? 0 :
		DatumGetInt64(values[Anum_fg_superseded_by - 1]);
	v->first_row_number = DatumGetInt64(values[Anum_fg_first_row_number - 1]);
	v->row_count = DatumGetInt64(values[Anum_fg_row_count - 1]);
	v->first_block = (BlockNumber) DatumGetInt64(values[Anum_fg_first_block - 1]);
	v->nblocks = (uint32) DatumGetInt32(values[Anum_fg_nblocks - 1]);
	v->header_bytes = (uint32) DatumGetInt32(values[Anum_fg_header_bytes - 1]);
	v->bytes = DatumGetInt64(values[Anum_fg_bytes - 1]);
	v->raw_bytes = DatumGetInt64(values[Anum_fg_raw_bytes - 1]);
	v->min_commit = DatumGetInt64(values[Anum_fg_min_commit - 1]);
	v->max_commit = DatumGetInt64(values[Anum_fg_max_commit - 1]);
	v->catalog_tid = tup->t_self;
	v->xmin = HeapTupleHeaderGetXmin(tup->t_data);
}

static int
CowVersionCmp(const void *a, const void *b)
{
	const CowVersion *va = a;
	const CowVersion *vb = b;

	if (va->first_row_number < vb->first_row_number)
		return -1;
	return va->first_row_number > vb->first_row_number ? 1 : 0;
}

/* CowSortVersions orders a list of versions by first_row_number */
void
CowSortVersions(CowVersion *versions, int n)
{
	if (n > 1)
		qsort(versions, n, sizeof(CowVersion), CowVersionCmp);
}

/*
 * CowLoadVersions returns the file group versions of a storage visible to
 * snapshot (only the current ones when current_only), ordered by
 * first_row_number.
 */
CowVersion *
CowLoadVersions(int64 storage_id, Snapshot snapshot, bool current_only,
				int *nversions)
{
	Relation	catalog;
	SysScanDesc scan;
	ScanKeyData key;
	HeapTuple	tup;
	int			n = 0,
				cap = 16;
	CowVersion *result = palloc(sizeof(CowVersion) * cap);

	catalog = table_open(CowCatalogRelid("cow_file_group", false), AccessShareLock);
	ScanKeyInit(&key, Anum_fg_storage_id, BTEqualStrategyNumber, F_INT8EQ,
				Int64GetDatum(storage_id));
	scan = CowCatalogScan(catalog, snapshot, &key);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		CowVersion	v;

		/*
		 * superseded_by first: the table's retained versions (retain_commits)
		 * may outnumber its current ones many times, and it is read without
		 * deforming the row (the fourth column, after three fixed-width NOT
		 * NULL ones: at a cached offset)
		 */
		if (current_only)
		{
			bool		isnull;

			(void) heap_getattr(tup, Anum_fg_superseded_by,
								RelationGetDescr(catalog), &isnull);
			if (!isnull)
				continue;
		}
		CowVersionFromHeapTuple(tup, RelationGetDescr(catalog), &v);
		if (current_only && v.superseded_by != 0)
			continue;
		if (n == cap)
		{
			cap *= 2;
			result = repalloc(result, sizeof(CowVersion) * cap);
		}
		result[n++] = v;
	}
	systable_endscan(scan);
	table_close(catalog, AccessShareLock);

	CowSortVersions(result, n);
	*nversions = n;
	return result;
}

/*
 * CowCatalogInsert adds one row to the named catalog of ours, in the
 * current transaction, maintaining its indexes.
 */
static void
CowCatalogInsert(const char *name, Datum *values, bool *nulls)
{
	Relation	catalog = table_open(CowCatalogRelid(name, false), RowExclusiveLock);
	HeapTuple	tup = heap_form_tuple(RelationGetDescr(catalog), values, nulls);

	CatalogTupleInsert(catalog, tup);
	heap_freetuple(tup);
	table_close(catalog, RowExclusiveLock);
}

/*
 * CowCatalogInsertCid is CowCatalogInsert under command cid, an earlier
 * command of the running transaction than the current one: the heap row
 * and its index entries, as CatalogTupleInsert makes them.
 */
static void
CowCatalogInsertCid(const char *name, Datum *values, bool *nulls, CommandId cid)
{
	Relation	catalog = table_open(CowCatalogRelid(name, false), RowExclusiveLock);
	HeapTuple	tup = heap_form_tuple(RelationGetDescr(catalog), values, nulls);
	CatalogIndexState indstate = CatalogOpenIndexes(catalog);
	TupleTableSlot *slot;
	int			i;

	/* the command id must have been used: the merge wrote under it */
	(void) GetCurrentCommandId(true);
	heap_insert(catalog, tup, cid, 0, NULL);
	slot = MakeSingleTupleTableSlot(RelationGetDescr(catalog), &TTSOpsHeapTuple);
	ExecStoreHeapTuple(tup, slot, false);
	for (i = 0; i < indstate->ri_NumIndices; i++)
	{
		Relation	index = indstate->ri_IndexRelationDescs[i];
		IndexInfo  *ii = indstate->ri_IndexRelationInfo[i];
		Datum		ivalues[INDEX_MAX_KEYS];
		bool		iisnull[INDEX_MAX_KEYS];

		if (!ii->ii_ReadyForInserts)
			continue;
		/* catalogs of ours have plain column indexes only */
		Assert(ii->ii_Expressions == NIL && ii->ii_Predicate == NIL);
		FormIndexDatum(ii, slot, NULL, ivalues, iisnull);
		index_insert(index, ivalues, iisnull, &tup->t_self, catalog,
					 ii->ii_Unique ? UNIQUE_CHECK_YES : UNIQUE_CHECK_NO,
					 false, ii);
	}
	ExecDropSingleTupleTableSlot(slot);
	CatalogCloseIndexes(indstate);
	heap_freetuple(tup);
	table_close(catalog, RowExclusiveLock);
}

/*
 * Catalog writes of file group versions by this backend (inserted,
 * superseded, deleted): a reader caching what it read may compare it
 * (cow_scan.c).
 */
uint64		CowVersionWrites = 0;

/*
 * CowVersionsChanged follows every change this transaction makes to the
 * catalog rows of a storage's file group versions, before it commits: it
 * counts the change for this backend's readers (CowVersionWrites) and for
 * the lists the shared cache keeps (cow_version_cache.c).
 */
void
CowVersionsChanged(int64 storage_id)
{
	CowVersionWrites++;
	CowSharedCacheStorageChanged(storage_id);
}

/* CowInsertVersion records a new file group version. */
void
CowInsertVersion(int64 storage_id, const CowVersion *v)
{
	Datum		values[Natts_fg];
	bool		nulls[Natts_fg];

	memset(nulls, 0, sizeof(nulls));
	values[Anum_fg_storage_id - 1] = Int64GetDatum(storage_id);
	values[Anum_fg_file_group_id - 1] = Int64GetDatum(v->file_group_id);
	values[Anum_fg_commit_id - 1] = Int64GetDatum(v->commit_id);
	values[Anum_fg_superseded_by - 1] = (Datum) 0;
	nulls[Anum_fg_superseded_by - 1] = true;
	values[Anum_fg_first_row_number - 1] = Int64GetDatum(v->first_row_number);
	values[Anum_fg_row_count - 1] = Int64GetDatum(v->row_count);
	values[Anum_fg_first_block - 1] = Int64GetDatum((int64) v->first_block);
	values[Anum_fg_nblocks - 1] = Int32GetDatum((int32) v->nblocks);
	values[Anum_fg_header_bytes - 1] = Int32GetDatum((int32) v->header_bytes);
	values[Anum_fg_bytes - 1] = Int64GetDatum(v->bytes);
	values[Anum_fg_raw_bytes - 1] = Int64GetDatum(v->raw_bytes);
	values[Anum_fg_min_commit - 1] = Int64GetDatum(v->min_commit);
	values[Anum_fg_max_commit - 1] = Int64GetDatum(v->max_commit);

	CowCatalogInsert("cow_file_group", values, nulls);
	CowVersionsChanged(storage_id);
}

/*
 * CowSupersedeVersion marks the catalog row read into v as replaced by
 * commit_id.  The caller read v under the latest snapshot while holding
 * the writer lock, so the row is the newest version of itself.
 */
void
CowSupersedeVersion(const CowVersion *v, int64 commit_id)
{
	Relation	catalog;
	HeapTupleData oldtup;
	Buffer		buf;
	Datum		values[Natts_fg];
	bool		nulls[Natts_fg];
	bool		replace[Natts_fg];
	HeapTuple	newtup;
	int64		storage_id;
	bool		isnull;

	catalog = table_open(CowCatalogRelid("cow_file_group", false), RowExclusiveLock);
	oldtup.t_self = v->catalog_tid;
	if (!heap_fetch(catalog, SnapshotAny, &oldtup, &buf, false))
		elog(ERROR, "incetl_cow file group version row vanished");

	memset(replace, 0, sizeof(replace));
	memset(nulls, 0, sizeof(nulls));
	replace[Anum_fg_superseded_by - 1] = true;
	values[Anum_fg_superseded_by - 1] = Int64GetDatum(commit_id);
	newtup = heap_modify_tuple(&oldtup, RelationGetDescr(catalog), values, nulls, replace);
	storage_id = DatumGetInt64(heap_getattr(&oldtup, Anum_fg_storage_id,
											RelationGetDescr(catalog), &isnull));
	ReleaseBuffer(buf);

	CatalogTupleUpdate(catalog, &newtup->t_self, newtup);
	CowVersionsChanged(storage_id);
	heap_freetuple(newtup);
	table_close(catalog, RowExclusiveLock);
}

/*
 * CowCommitWriterXid returns the transaction (or subtransaction) that
 * wrote commit commit_id of a storage: the xmin of its catalog row, raw as
 * heap shows a tuple's xmin, which never changes once written.  A row's
 * xmin is that of its commit (cow_slot.c).  A commit whose row was
 * cleaned away reads FrozenTransactionId: visible to all, its writer
 * forgotten.  CowCommitWriterCid returns the command of that transaction
 * that wrote the commit's rows, which CowInsertCommit gave the catalog row
 * as its cmin: a row's cmin (and cmax, which heap reads from the same
 * field) is that of its commit.  A cleaned commit reads FirstCommandId,
 * as heap's tuples after crash recovery, whose redo does not restore the
 * command id.  Both are looked up once per transaction and commit.
 */
typedef struct CowWriterXidEntry
{
	int64		key[2];			/* storage id, commit id */
	TransactionId xid;
	CommandId	cid;
} CowWriterXidEntry;

static HTAB *CowWriterXids = NULL;
static LocalTransactionId CowWriterXidsLxid = InvalidLocalTransactionId;

static CowWriterXidEntry *
CowCommitWriter(int64 storage_id, int64 commit_id)
{
	int64		key[2];
	CowWriterXidEntry *e;
	bool		found;
	Relation	catalog;
	SysScanDesc scan;
	ScanKeyData skey[2];
	HeapTuple	tup;
	Oid			idx;

	if (CowWriterXids == NULL || CowWriterXidsLxid != MyProc->lxid)
	{
		HASHCTL		ctl;

		/* the previous transaction's table went with its memory */
		ctl.keysize = sizeof(key);
		ctl.entrysize = sizeof(CowWriterXidEntry);
		ctl.hcxt = TopTransactionContext;
		CowWriterXids = hash_create("incetl cow commit writers", 64, &ctl,
									HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
		CowWriterXidsLxid = MyProc->lxid;
	}
	key[0] = storage_id;
	key[1] = commit_id;
	e = hash_search(CowWriterXids, key, HASH_ENTER, &found);
	if (found)
		return e;
	e->xid = FrozenTransactionId;
	e->cid = FirstCommandId;

	catalog = table_open(CowCatalogRelid("cow_commit", false), AccessShareLock);
	idx = CowCatalogRelid("cow_commit_pkey", true);
	ScanKeyInit(&skey[0], Anum_c_storage_id, BTEqualStrategyNumber, F_INT8EQ,
				Int64GetDatum(storage_id));
	ScanKeyInit(&skey[1], Anum_c_commit_id, BTEqualStrategyNumber, F_INT8EQ,
				Int64GetDatum(commit_id));
	/* commit ids are never reused: any version of the row is the one */
	scan = systable_beginscan(catalog, idx, OidIsValid(idx), SnapshotAny, 2, skey);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		TransactionId xmin = HeapTupleHeaderGetRawXmin(tup->t_data);

		/* the committed (or our own) version, not a rolled-back one */
		if (TransactionIdIsCurrentTransactionId(xmin) ||
			TransactionIdDidCommit(xmin))
		{
			e->xid = xmin;

			/*
			 * Our own row, deleted by us since, holds a combo command id:
			 * resolve it to the inserting command's.  Any other row holds
			 * the inserting command's id, unless a deleter's replaced it
			 * (only the removal of the whole storage deletes commit rows,
			 * after which no row of it is read).
			 */
			if ((tup->t_data->t_infomask & HEAP_COMBOCID) &&
				TransactionIdIsCurrentTransactionId(xmin))
				e->cid = HeapTupleHeaderGetCmin(tup->t_data);
			else
				e->cid = HeapTupleHeaderGetRawCommandId(tup->t_data);
			break;
		}
	}
	systable_endscan(scan);
	table_close(catalog, AccessShareLock);
	return e;
}

TransactionId
CowCommitWriterXid(int64 storage_id, int64 commit_id)
{
	return CowCommitWriter(storage_id, commit_id)->xid;
}

CommandId
CowCommitWriterCid(int64 storage_id, int64 commit_id)
{
	return CowCommitWriter(storage_id, commit_id)->cid;
}

/*
 * CowVersionRowIs: is tup the catalog row version v was read from?  A
 * version's row is found by its first row number, file group and commit;
 * the update that supersedes it writes a row of its own, superseded_by
 * set.
 */
static bool
CowVersionRowIs(HeapTuple tup, TupleDesc desc, const CowVersion *v)
{
	CowVersion	w;

	CowVersionFromHeapTuple(tup, desc, &w);
	return w.first_row_number == v->first_row_number &&
		w.file_group_id == v->file_group_id &&
		w.commit_id == v->commit_id &&
		w.superseded_by == v->superseded_by;
}

/*
 * CowFindVersionRow sets *tid to where the catalog row of version v of
 * rel's storage is now: a rewrite of the catalog (VACUUM FULL, CLUSTER)
 * moves its rows, and a list of versions read before it (or kept in the
 * shared cache, cow_version_cache.c) has their old places.  False when
 * the row is gone.
 */
static bool
CowFindVersionRow(Relation catalog, Relation rel, const CowVersion *v,
				  ItemPointer tid)
{
	SysScanDesc scan;
	ScanKeyData key;
	HeapTuple	tup;
	bool		found = false;

	ScanKeyInit(&key, Anum_fg_storage_id, BTEqualStrategyNumber, F_INT8EQ,
				Int64GetDatum(CowStorageId(rel)));
	scan = CowCatalogScan(catalog, SnapshotAny, &key);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		if (CowVersionRowIs(tup, RelationGetDescr(catalog), v))
		{
			*tid = tup->t_self;
			found = true;
			break;
		}
	}
	systable_endscan(scan);
	return found;
}

/*
 * CowVersionUpdater returns the transaction that superseded or removed
 * file group version v of rel (the updater or deleter of its catalog row,
 * read now with SnapshotAny), InvalidTransactionId when none has or the
 * one that did aborted.  A catalog row gone altogether (pruned) returns
 * FrozenTransactionId: removed by a transaction long committed.
 */
TransactionId
CowVersionUpdater(Relation rel, const CowVersion *v)
{
	Relation	catalog;
	HeapTupleData tup;
	Buffer		buf;
	TransactionId xmax = InvalidTransactionId;
	bool		found;

	catalog = table_open(CowCatalogRelid("cow_file_group", false), AccessShareLock);
	tup.t_self = v->catalog_tid;
	/* a rewrite may also have left the catalog shorter */
	buf = InvalidBuffer;
	found = ItemPointerGetBlockNumber(&tup.t_self) <
		RelationGetNumberOfBlocks(catalog) &&
		heap_fetch(catalog, SnapshotAny, &tup, &buf, true);
	if (found && !CowVersionRowIs(&tup, RelationGetDescr(catalog), v))
	{
		ReleaseBuffer(buf);
		buf = InvalidBuffer;
		found = false;
	}
	if (!found)
	{
		/* keep_buf: the buffer stays pinned also for a line pointer gone */
		if (BufferIsValid(buf))
			ReleaseBuffer(buf);
		if (CowFindVersionRow(catalog, rel, v, &tup.t_self))
			found = heap_fetch(catalog, SnapshotAny, &tup, &buf, false);
	}
	if (!found)
		xmax = FrozenTransactionId;
	else
	{
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		if (!(tup.t_data->t_infomask & HEAP_XMAX_INVALID) &&
			!HEAP_XMAX_IS_LOCKED_ONLY(tup.t_data->t_infomask))
			xmax = HeapTupleHeaderGetUpdateXid(tup.t_data);
		LockBuffer(buf, BUFFER_LOCK_UNLOCK);
		ReleaseBuffer(buf);
		if (TransactionIdIsValid(xmax) &&
			!TransactionIdIsCurrentTransactionId(xmax) &&
			!TransactionIdIsInProgress(xmax) &&
			!TransactionIdDidCommit(xmax))
			xmax = InvalidTransactionId;	/* aborted (or crashed) */
	}
	table_close(catalog, AccessShareLock);
	return xmax;
}

/*
 * CowInsertCommit records a commit.  Its catalog row is inserted with the
 * command id of the command that wrote its rows (c->cid, when valid; a
 * statement merged at its end, or by a later command's read, writes the
 * rows of an earlier command): it is their cmin.  Catalog rows inserted
 * under an earlier command than the current one are visible to that
 * command's successors, which the commit row may be: the versions it
 * names are what they read.
 */
void
CowInsertCommit(int64 storage_id, const CowCommitInfo *c)
{
	Datum		values[Natts_c];
	bool		nulls[Natts_c];

	memset(nulls, 0, sizeof(nulls));
	values[Anum_c_storage_id - 1] = Int64GetDatum(storage_id);
	values[Anum_c_commit_id - 1] = Int64GetDatum(c->commit_id);
	values[Anum_c_committed_at - 1] = TimestampTzGetDatum(GetCurrentStatementStartTimestamp());
	values[Anum_c_operation - 1] = CStringGetTextDatum(c->operation);
	values[Anum_c_rows_inserted - 1] = Int64GetDatum(c->rows_inserted);
	values[Anum_c_rows_updated - 1] = Int64GetDatum(c->rows_updated);
	values[Anum_c_rows_deleted - 1] = Int64GetDatum(c->rows_deleted);
	values[Anum_c_file_groups_written - 1] = Int32GetDatum(c->file_groups_written);
	values[Anum_c_bytes_written - 1] = Int64GetDatum(c->bytes_written);

	if (c->cid == InvalidCommandId || c->cid >= GetCurrentCommandId(false))
		CowCatalogInsert("cow_commit", values, nulls);
	else
		CowCatalogInsertCid("cow_commit", values, nulls, c->cid);
}

/* CowDeleteCatalogRows removes the rows of one catalog for a storage id. */
static void
CowDeleteCatalogRows(const char *name, int64 storage_id)
{
	Oid			relid = CowCatalogRelid(name, true);
	Relation	catalog;
	SysScanDesc scan;
	ScanKeyData key;
	HeapTuple	tup;

	if (!OidIsValid(relid))
		return;
	catalog = table_open(relid, RowExclusiveLock);
	ScanKeyInit(&key, 1, BTEqualStrategyNumber, F_INT8EQ,
				Int64GetDatum(storage_id));
	scan = CowCatalogScan(catalog, NULL, &key);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
		CatalogTupleDelete(catalog, &tup->t_self);
	systable_endscan(scan);
	table_close(catalog, RowExclusiveLock);
	CowVersionsChanged(storage_id);
}

/*
 * CowDeleteStorageMetadata removes every catalog row of a storage id, when
 * the table is dropped (the deletes are transactional).
 */
void
CowDeleteStorageMetadata(int64 storage_id)
{
	CowDeleteCatalogRows("cow_file_group", storage_id);
	CowDeleteCatalogRows("cow_commit", storage_id);
	CowDeleteCatalogRows("cow_savepoint", storage_id);
}

/*
 * CowAdoptResetStorage prepares an unlogged table that crash recovery
 * reset (its main fork is a copy of its init fork, COW_META_RESET) for a
 * write: the catalog rows of its old storage id describe pages that are
 * gone, so they are deleted, and the table takes a fresh storage id -- its
 * init fork too, so that the next crash leaves the rows of that one to
 * forget (CowAdoptStorage).  A table never reset is left alone.  Callers
 * hold the writers' lock (or more) and call it before they read the
 * storage id they write under.
 *
 * The deletes are transactional, the new storage id is not: if the
 * writing transaction rolls back, the table keeps its new (empty) storage
 * and the stale rows stay behind, referenced by nothing.
 */
void
CowAdoptResetStorage(Relation rel)
{
	int64		stale;

	if (!(CowReadMetaPage(rel).flags & COW_META_RESET))
		return;
	stale = CowStorageIdAnyVersion(rel);
	CowDeleteStorageMetadata(stale);
	CowAdoptStorage(rel,
					nextval_internal(CowCatalogRelid("cow_storage_id_seq", false),
									 false));
	CommandCounterIncrement();
}

/*
 * CowTruncate records a TRUNCATE of rel.  A truncate is a commit like any
 * other (operation "truncate") whose changes are the deletion of every
 * current row: the current versions are superseded by it, and the timeline
 * -- commits, storage id, counters -- stays whole, also for a second
 * TRUNCATE in one transaction.  A table with no current row records no
 * commit.
 *
 * The superseded versions are retained like any others (retain_commits,
 * incetl.clean(), VACUUM), so as_of() and changes() of the commits before
 * the truncate keep working: their pages are kept.  newrnode is the new
 * storage a transactional TRUNCATE switches rel to: the pages are copied
 * into it, metapage included (it keeps the storage id, so a rollback
 * restores the old storage and the catalog rows together).  NULL when
 * rel's own storage is truncated (it was created in this transaction):
 * the pages simply stay.  With retain_commits = 0 nothing is retained:
 * the versions' catalog rows are deleted, the new storage starts empty and
 * its clean horizon makes as_of() of the earlier commits fail clearly;
 * it gets a new storage id, which keeps copies of the commits --
 * unless the table has savepoints: then it is kept as with retention, and
 * cleaning keeps what the savepoints need.
 *
 * Caller holds AccessExclusiveLock on rel.
 */
void
CowTruncate(Relation rel, const RelFileNode *newrnode, char persistence)
{
	/*
	 * ON COMMIT DELETE ROWS truncates at commit, where no snapshot is
	 * active; the catalog scans below need one (as TOAST access would).
	 */
	if (!ActiveSnapshotSet())
	{
		PushActiveSnapshot(GetLatestSnapshot());
		CowTruncateStorage(rel, newrnode, persistence);
		PopActiveSnapshot();
	}
	else
		CowTruncateStorage(rel, newrnode, persistence);
}

static void
CowTruncateStorage(Relation rel, const RelFileNode *newrnode, char persistence)
{
	CowMetaPageData meta;
	Snapshot	snap;
	CowOptions	opts;
	CowVersion *versions;
	int			n,
				i,
				nsavepoints;
	int64		rows = 0;

	CowAdoptResetStorage(rel);
	meta = CowReadMetaPage(rel);
	snap = RegisterSnapshot(GetLatestSnapshot());
	CowLoadOptions(rel, snap, &opts);
	versions = CowLoadVersions(meta.storage_id, snap, true, &n);
	pfree(CowLoadSavepoints(meta.storage_id, snap, &nsavepoints));
	UnregisterSnapshot(snap);
	for (i = 0; i < n; i++)
		rows += versions[i].row_count;

	if (n > 0)
	{
		CowCommitInfo c;

		memset(&c, 0, sizeof(c));
		c.commit_id = CowNextCommitId(rel);
		c.cid = InvalidCommandId;
		c.operation = "truncate";
		c.rows_deleted = rows;
		for (i = 0; i < n; i++)
			CowSupersedeVersion(&versions[i], c.commit_id);
		CowInsertCommit(meta.storage_id, &c);
		CowRecordCounts(RelationGetRelid(rel), 0, 0, rows, c.commit_id);
		meta = CowReadMetaPage(rel);
		CommandCounterIncrement();
	}

	/* savepoints keep their history as retention does (cow_clean.c) */
	if (opts.retain_commits > 0 || nsavepoints > 0)
	{
		if (newrnode != NULL)
		{
			SMgrRelation dst;

			FlushRelationBuffers(rel);
			dst = RelationCreateStorage(*newrnode, persistence, true);
			RelationCopyStorage(RelationGetSmgr(rel), dst, MAIN_FORKNUM,
								persistence);
			if (persistence == RELPERSISTENCE_UNLOGGED)
				CowWriteInitFork(dst, meta.storage_id);
			smgrclose(dst);
		}
		return;
	}

	/*
	 * Nothing retained: the versions go, and the storage starts empty under
	 * a new storage id, with the commits of the old one copied so that the
	 * timeline reads on.  Not the old id: the old versions' catalog rows,
	 * deleted here, stay visible until this transaction commits -- to
	 * snapshots that still read the old file, rightly, and to the
	 * lookups that decide which index entries are dead
	 * (CowLoadLiveVersions, SnapshotNonVacuumable), and to SnapshotAny,
	 * which would read them from the new, empty file.  A snapshot taken
	 * before the truncate then finds the table empty, as with heap's
	 * TRUNCATE.
	 */
	{
		int64		old_id = meta.storage_id;

		meta.storage_id = nextval_internal(CowCatalogRelid("cow_storage_id_seq", false),
										   false);
		CowCopyCommits(old_id, meta.storage_id);
		CowDeleteStorageMetadata(old_id);
		CommandCounterIncrement();
	}
	meta.clean_horizon = meta.next_commit_id - 1;
	meta.clean_xid = InvalidTransactionId;
	if (newrnode != NULL)
	{
		SMgrRelation dst = RelationCreateStorage(*newrnode, persistence, true);

		CowInitStorageFrom(dst, persistence, &meta);
		smgrclose(dst);
	}
	else
	{
		RelationTruncate(rel, 0);
		CowInitStorageFrom(RelationGetSmgr(rel), persistence, &meta);
	}
}

/*
 * CowCopyCommits copies the timeline of one storage to another (VACUUM
 * FULL writes the table into new storage).
 */
void
CowCopyCommits(int64 from_storage, int64 to_storage)
{
	Relation	catalog = table_open(CowCatalogRelid("cow_commit", false), RowExclusiveLock);
	SysScanDesc scan;
	ScanKeyData key;
	HeapTuple	tup;
	List	   *copies = NIL;
	ListCell   *lc;

	ScanKeyInit(&key, Anum_c_storage_id, BTEqualStrategyNumber, F_INT8EQ,
				Int64GetDatum(from_storage));
	scan = CowCatalogScan(catalog, NULL, &key);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Datum		values[Natts_c];
		bool		nulls[Natts_c];

		heap_deform_tuple(tup, RelationGetDescr(catalog), values, nulls);
		values[Anum_c_storage_id - 1] = Int64GetDatum(to_storage);
		copies = lappend(copies, heap_form_tuple(RelationGetDescr(catalog), values, nulls));
	}
	systable_endscan(scan);
	foreach(lc, copies)
		CatalogTupleInsert(catalog, (HeapTuple) lfirst(lc));
	table_close(catalog, RowExclusiveLock);
}

/*
 * CowNewestCommit returns the newest commit of a storage at or below
 * at_most that snapshot sees, or 0: the first row of a backward scan of
 * the commit catalog's primary key (storage_id, commit_id) from at_most,
 * or, without the index, the largest of those at or below at_most.
 */
int64
CowNewestCommit(int64 storage_id, Snapshot snapshot, int64 at_most)
{
	Relation	catalog;
	Oid			idxoid = CowCatalogRelid("cow_commit_pkey", true);
	ScanKeyData keys[2];
	HeapTuple	tup;
	int64		newest = 0;

	catalog = table_open(CowCatalogRelid("cow_commit", false), AccessShareLock);
	ScanKeyInit(&keys[0], 1, BTEqualStrategyNumber, F_INT8EQ,
				Int64GetDatum(storage_id));
	ScanKeyInit(&keys[1], 2, BTLessEqualStrategyNumber, F_INT8LE,
				Int64GetDatum(at_most));
	if (OidIsValid(idxoid))
	{
		Relation	idx = index_open(idxoid, AccessShareLock);
		SysScanDesc scan;

		scan = systable_beginscan_ordered(catalog, idx, snapshot, 2, keys);
		tup = systable_getnext_ordered(scan, BackwardScanDirection);
		if (HeapTupleIsValid(tup))
		{
			bool		isnull;

			newest = DatumGetInt64(heap_getattr(tup, 2, RelationGetDescr(catalog),
												&isnull));
		}
		systable_endscan_ordered(scan);
		index_close(idx, AccessShareLock);
	}
	else
	{
		SysScanDesc scan = systable_beginscan(catalog, InvalidOid, false,
											  snapshot, 2, keys);

		while (HeapTupleIsValid(tup = systable_getnext(scan)))
		{
			bool		isnull;
			int64		c = DatumGetInt64(heap_getattr(tup, 2, RelationGetDescr(catalog),
													   &isnull));

			newest = Max(newest, c);
		}
		systable_endscan(scan);
	}
	table_close(catalog, AccessShareLock);
	return newest;
}

/*
 * CowCommitPinned: is commit_id of the storage pinned by a savepoint that
 * snapshot sees?  A snapshot that still sees a savepoint removed since
 * also still sees the versions a later clean deleted: the answer holds
 * for it.
 */
static bool
CowCommitPinned(int64 storage_id, int64 commit_id, Snapshot snapshot)
{
	int			n;
	int64	   *ids = CowLoadSavepoints(storage_id, snapshot, &n);
	bool		pinned = false;
	int			i;

	for (i = 0; i < n && !pinned; i++)
		pinned = (ids[i] == commit_id);
	pfree(ids);
	return pinned;
}

/*
 * CowCommitKept: can snapshot still read as_of(commit_id) although the
 * clean horizon in the metapage says its history is gone (a recorded
 * commit lies between it and the horizon)?  Yes when a savepoint pins it
 * (cleaning kept what it reads, cow_clean.c), and when the snapshot does
 * not see the clean that moved the horizon past it (it still sees the
 * catalog rows that clean deleted, and their pages stay:
 * CowSnapshotCleanHorizon).  The readability check of the timeline
 * (cow_timeline.c) asks this before failing.
 */
bool
CowCommitKept(const CowMetaPageData *meta, int64 commit_id, Snapshot snapshot)
{
	int64		horizon = CowSnapshotCleanHorizon(meta, snapshot);

	if (commit_id >= horizon ||
		CowNewestCommit(meta->storage_id, snapshot, horizon) <= commit_id)
		return true;
	return CowCommitPinned(meta->storage_id, commit_id, snapshot);
}

/*
 * CowLoadSavepoints returns the commits of a storage pinned by the
 * savepoints snapshot sees, ascending, in a palloc'd array (*n may be 0).
 * A database still on an extension script without savepoints has none.
 */
int64 *
CowLoadSavepoints(int64 storage_id, Snapshot snapshot, int *n)
{
	Oid			relid = CowCatalogRelid("cow_savepoint", true);
	int			cap = 8;
	int64	   *ids = palloc(sizeof(int64) * cap);
	Relation	catalog;
	SysScanDesc scan;
	ScanKeyData key;
	HeapTuple	tup;
	int			i,
				j;

	*n = 0;
	if (!OidIsValid(relid))
		return ids;
	catalog = table_open(relid, AccessShareLock);
	ScanKeyInit(&key, Anum_sp_storage_id, BTEqualStrategyNumber, F_INT8EQ,
				Int64GetDatum(storage_id));
	scan = CowCatalogScan(catalog, snapshot, &key);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		bool		isnull;

		if (*n == cap)
		{
			cap *= 2;
			ids = repalloc(ids, sizeof(int64) * cap);
		}
		ids[(*n)++] = DatumGetInt64(heap_getattr(tup, Anum_sp_commit_id,
												 RelationGetDescr(catalog), &isnull));
	}
	systable_endscan(scan);
	table_close(catalog, AccessShareLock);

	/* few, and in key order when read through the index */
	for (i = 1; i < *n; i++)
	{
		int64		c = ids[i];

		for (j = i; j > 0 && ids[j - 1] > c; j--)
			ids[j] = ids[j - 1];
		ids[j] = c;
	}
	return ids;
}

/*
 * CowMoveSavepoints carries the savepoints of storage "from" over to
 * storage "to" (to == from: keeps them in place), except those older than
 * keep_from, whose history the caller is dropping: their rows are deleted
 * (or not copied), and a WARNING names them and the cause.  rel is the
 * table, or the transient table of its rewrite (the WARNING names the
 * table).  Used where
 * history cannot be kept: the rewrites that carry over only the current
 * file group versions (VACUUM FULL, ALTER TABLE).
 */
static void
CowMoveSavepoints(Relation rel, int64 from, int64 to, int64 keep_from,
				  const char *cause)
{
	Oid			relid = CowCatalogRelid("cow_savepoint", true);
	Relation	catalog;
	SysScanDesc scan;
	ScanKeyData key;
	HeapTuple	tup;
	Snapshot	snap;
	List	   *copies = NIL;
	ListCell   *lc;
	StringInfoData dropped;
	int			ndropped = 0;

	if (!OidIsValid(relid))
		return;
	initStringInfo(&dropped);
	catalog = table_open(relid, RowExclusiveLock);
	snap = RegisterSnapshot(GetLatestSnapshot());
	ScanKeyInit(&key, Anum_sp_storage_id, BTEqualStrategyNumber, F_INT8EQ,
				Int64GetDatum(from));
	scan = CowCatalogScan(catalog, snap, &key);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Datum		values[Natts_sp];
		bool		nulls[Natts_sp];
		int64		c;

		heap_deform_tuple(tup, RelationGetDescr(catalog), values, nulls);
		c = DatumGetInt64(values[Anum_sp_commit_id - 1]);
		if (c < keep_from)
		{
			appendStringInfo(&dropped, "%s" INT64_FORMAT,
							 ndropped > 0 ? ", " : "", c);
			ndropped++;
			if (to == from)
				CatalogTupleDelete(catalog, &tup->t_self);
		}
		else if (to != from)
		{
			values[Anum_sp_storage_id - 1] = Int64GetDatum(to);
			copies = lappend(copies, heap_form_tuple(RelationGetDescr(catalog),
													 values, nulls));
		}
	}
	systable_endscan(scan);
	UnregisterSnapshot(snap);
	foreach(lc, copies)
		CatalogTupleInsert(catalog, (HeapTuple) lfirst(lc));
	table_close(catalog, RowExclusiveLock);

	if (ndropped > 0)
		ereport(WARNING,
				(errcode(ERRCODE_WARNING),
				 errmsg("%s \"%s\" drops the history of %s %s, which %s removed",
						cause, get_rel_name(CowRewriteSourceRelid(rel)),
						ndropped > 1 ? "savepoints" : "savepoint", dropped.data,
						ndropped > 1 ? "are" : "is"),
				 errdetail("It carries over only the current file group versions; as_of() can read commit " INT64_FORMAT " and later.",
						   keep_from),
				 errhint("Rewrite a table with savepoints only once their history is no longer needed; incetl.restore() a savepoint before the rewrite to keep its content.")));
	pfree(dropped.data);
}

/*
 * CowCopySavepoints: VACUUM FULL and ALTER TABLE write the table into new
 * storage holding only its current versions, with the clean horizon at
 * the last commit id taken (cow_tableam.c): a savepoint stays readable
 * only when no recorded commit lies after it up to the horizon.  Those are
 * copied to the new storage; the others are dropped with a WARNING.
 */
void
CowCopySavepoints(Relation rel, int64 from_storage, int64 to_storage,
				  int64 horizon)
{
	int64		keep_from;
	Snapshot	snap = RegisterSnapshot(GetLatestSnapshot());

	keep_from = CowNewestCommit(from_storage, snap, horizon);
	UnregisterSnapshot(snap);
	CowMoveSavepoints(rel, from_storage, to_storage, keep_from,
					  "rewriting");
}

/*
 * CowDropSavepointsBefore: an ALTER TABLE rewrite's commit makes every
 * earlier commit unreadable (cow_merge.c): their savepoints go.
 */
void
CowDropSavepointsBefore(Relation rel, int64 storage_id, int64 commit_id)
{
	CowMoveSavepoints(rel, storage_id, storage_id, commit_id,
					  "ALTER TABLE rewriting");
}

/*
 * CowIsCowRelation: is rel an incetl_cow table?  Its table AM routine is
 * ours (cow_tableam.c registers it at load, CowRegisterRoutine).
 */
bool
CowIsCowRelation(Relation rel)
{
	return rel != NULL && CowRoutine != NULL && rel->rd_tableam == CowRoutine;
}

/* CowCheckCowRelation raises 42809 unless rel is an incetl_cow table. */
void
CowCheckCowRelation(Relation rel)
{
	if (!CowIsCowRelation(rel))
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not an incetl_cow table",
						RelationGetRelationName(rel)),
				 errhint("Create it with CREATE TABLE ... USING incetl_cow.")));
}

void
CowRegisterRoutine(const TableAmRoutine *routine)
{
	CowRoutine = routine;
}

typedef struct CowRange
{
	int64		first;
	int64		count;
} CowRange;

static int
CowRangeCmp(const void *a, const void *b)
{
	const CowRange *x = a;
	const CowRange *y = b;

	return x->first < y->first ? -1 : (x->first > y->first ? 1 : 0);
}

/*
 * CowLoadUsedMap returns the extents and row ranges of every version whose
 * catalog row still exists.
 *
 * A version's pages may be reused only once no snapshot anywhere can see
 * its catalog row -- standbys included.  So the catalog pages holding rows
 * that are dead to every snapshot of this server are pruned first (heap
 * pruning WAL-logs the removal with its conflict horizon, and a standby
 * cancels queries that could still see those rows before it replays our
 * later page writes); then every row still present, dead or not, pins its
 * extent.  A page whose cleanup lock is busy is simply left for next time.
 */
CowUsedMap *
CowLoadUsedMap(int64 storage_id)
{
	Relation	catalog;
	SysScanDesc scan;
	ScanKeyData key;
	HeapTuple	tup;
	TransactionId horizon;
	CowUsedMap *map = palloc0(sizeof(CowUsedMap));
	int			cap = 16;
	CowRange   *ranges = palloc(sizeof(CowRange) * cap);
	CowRange   *extents = palloc(sizeof(CowRange) * cap);
	int			i;
	List	   *dead_blocks = NIL;
	ListCell   *lc;

	catalog = table_open(CowCatalogRelid("cow_file_group", false), AccessShareLock);
	horizon = GetOldestNonRemovableTransactionId(catalog);
	ScanKeyInit(&key, 1, BTEqualStrategyNumber, F_INT8EQ, Int64GetDatum(storage_id));

	/* pass 1: catalog pages with rows dead to everyone */
	scan = CowCatalogScan(catalog, SnapshotAny, &key);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Buffer		buf = ((BufferHeapTupleTableSlot *) scan->slot)->buffer;
		HTSV_Result res;

		LockBuffer(buf, BUFFER_LOCK_SHARE);
		res = HeapTupleSatisfiesVacuum(tup, horizon, buf);
		LockBuffer(buf, BUFFER_LOCK_UNLOCK);
		if (res == HEAPTUPLE_DEAD)
			dead_blocks = list_append_unique_int(dead_blocks,
												 (int) ItemPointerGetBlockNumber(&tup->t_self));
	}
	systable_endscan(scan);

	foreach(lc, dead_blocks)
	{
		Buffer		buf = ReadBuffer(catalog, (BlockNumber) lfirst_int(lc));
		int			nnewlpdead;

		if (ConditionalLockBufferForCleanup(buf))
		{
			map->dead_rows += heap_page_prune(catalog, buf, InvalidTransactionId,
											  GlobalVisTestFor(catalog),
											  InvalidTransactionId, 0,
											  &nnewlpdead, NULL);
			LockBuffer(buf, BUFFER_LOCK_UNLOCK);
		}
		ReleaseBuffer(buf);
	}

	/* pass 2: every row still there pins its extent */
	scan = CowCatalogScan(catalog, SnapshotAny, &key);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		CowVersion	v;

		CowVersionFromHeapTuple(tup, RelationGetDescr(catalog), &v);
		if (map->nranges == cap)
		{
			cap *= 2;
			ranges = repalloc(ranges, sizeof(CowRange) * cap);
			extents = repalloc(extents, sizeof(CowRange) * cap);
		}
		ranges[map->nranges].first = v.first_row_number;
		ranges[map->nranges].count = v.row_count;
		extents[map->nranges].first = v.first_block;
		extents[map->nranges].count = v.nblocks;
		map->nranges++;
	}
	systable_endscan(scan);
	table_close(catalog, AccessShareLock);

	qsort(ranges, map->nranges, sizeof(CowRange), CowRangeCmp);
	qsort(extents, map->nranges, sizeof(CowRange), CowRangeCmp);
	map->range_first = palloc(sizeof(int64) * Max(map->nranges, 1));
	map->range_count = palloc(sizeof(int64) * Max(map->nranges, 1));
	map->extent_first = palloc(sizeof(BlockNumber) * Max(map->nranges, 1));
	map->extent_blocks = palloc(sizeof(uint32) * Max(map->nranges, 1));
	for (i = 0; i < map->nranges; i++)
	{
		map->range_first[i] = ranges[i].first;
		map->range_count[i] = ranges[i].count;
		map->extent_first[i] = (BlockNumber) extents[i].first;
		map->extent_blocks[i] = (uint32) extents[i].count;
	}
	return map;
}

/*
 * CowRowLockTag sets tag to rel's row-lock tag.  incetl_cow rows have no
 * header to record a locker in, so a row lock (SELECT ... FOR UPDATE/SHARE,
 * cow_row_lock.c) locks every row of the table: an object lock on the
 * table (pg_class, its oid) with a sub-id no column has,
 * COW_ROW_LOCK_SUBID.  Not a tuple tag: PostgreSQL holds those only
 * briefly (an assert-enabled server warns of one held at commit).  Share lockers
 * take it in ShareLock; updaters, every writer (CowLockWriters) and what
 * must exclude writers (CowExcludeWriters: cleaning, savepoints, options)
 * in ExclusiveLock, all held to the end of the transaction.  In
 * ExclusiveLock it is the writers' lock.
 */
void
CowRowLockTag(Relation rel, LOCKTAG *tag)
{
	SET_LOCKTAG_OBJECT(*tag, MyDatabaseId, RelationRelationId,
					   RelationGetRelid(rel), COW_ROW_LOCK_SUBID);
}

/*
 * The tables this transaction took row locks on (CowLockRows), for xmax
 * (cow_slot.c): OIDs in TopTransactionContext, forgotten with the
 * transaction.  A lock taken in a subtransaction that rolled back is still
 * counted, as heap's tuple keeps the aborted locker in xmax.
 */
static List *CowRowLockedRels = NIL;
static LocalTransactionId CowRowLockedLxid = InvalidLocalTransactionId;

void
CowNoteRowLock(Oid relid)
{
	MemoryContext old;

	if (CowRowLockedLxid != MyProc->lxid)
	{
		CowRowLockedRels = NIL;	/* went with the previous transaction */
		CowRowLockedLxid = MyProc->lxid;
	}
	if (list_member_oid(CowRowLockedRels, relid))
		return;
	old = MemoryContextSwitchTo(TopTransactionContext);
	CowRowLockedRels = lappend_oid(CowRowLockedRels, relid);
	MemoryContextSwitchTo(old);
}

/* CowRowsLockedByUs: did this transaction take a row lock on relid? */
bool
CowRowsLockedByUs(Oid relid)
{
	return CowRowLockedLxid == MyProc->lxid &&
		list_member_oid(CowRowLockedRels, relid);
}

/*
 * CowRowsLockedByOthers: does another transaction (a prepared one
 * included) hold rel's row-lock tag in any mode -- a row lock, or the
 * writers' lock of a write in progress or of VACUUM's cleaning?
 */
bool
CowRowsLockedByOthers(Relation rel)
{
	LOCKTAG		tag;
	VirtualTransactionId *holders;
	bool		held;

	CowRowLockTag(rel, &tag);
	holders = GetLockConflicts(&tag, AccessExclusiveLock, NULL);
	held = VirtualTransactionIdIsValid(holders[0]);
	if (!RecoveryInProgress())
		pfree(holders);
	return held;
}
