/*-------------------------------------------------------------------------
 *
 * cow_savepoint.c
 *	  Savepoints and restore of incetl_cow tables: incetl.savepoint(),
 *	  savepoints(), remove_savepoint() and restore().
 *
 * A savepoint pins a commit: cleaning keeps every file group version that
 * as_of() of it reads (commit_id <= savepoint < superseded_by, see
 * cow_clean.c), so as_of() of it keeps working after the clean horizon
 * moved past it (CowCommitKept in cow_metadata.c, which the readability
 * check of cow_timeline.c asks).  The catalog rows live in
 * incetl.cow_savepoint, keyed by storage id; cow_metadata.c reads them,
 * carries them along with the storage (VACUUM FULL, ALTER TABLE, DROP)
 * and drops, with a WARNING, those whose history a rewrite cannot keep.
 *
 * restore(tbl, c) makes the table's content that of as_of(c) as one new
 * commit ("restore"): the versions current now that were not current at
 * c are superseded, and copies of the versions current at c that are not
 * current now are written -- same rows, each keeping the commit id that
 * wrote it, so a change feed tells the rows restore brings back changed
 * (their commit id differs from the current row's) from those it leaves
 * alone.  Versions current at both are not touched.  The versions current
 * at c partitioned the key space then, so the result does again.  The
 * counts of the commit come from the change feed's diff (CowDiffVersions).
 *
 * Copyright (c) 2026, incetl authors
 *
 * IDENTIFICATION
 *	  src/cow/cow_savepoint.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/relation.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/indexing.h"
#include "executor/executor.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "cow/maintenance.h"
#include "cow/security.h"

PG_FUNCTION_INFO_V1(incetl_cow_savepoint);
PG_FUNCTION_INFO_V1(incetl_cow_savepoints);
PG_FUNCTION_INFO_V1(incetl_cow_remove_savepoint);
PG_FUNCTION_INFO_V1(incetl_cow_restore);

/* incetl.cow_savepoint */
#define Anum_sp_storage_id		1
#define Anum_sp_commit_id		2
#define Anum_sp_created_at		3
#define Anum_sp_created_by		4
#define Anum_sp_comment			5
#define Natts_sp				5

/* incetl.cow_commit, as far as read here */
#define Anum_c_commit_id		2
#define Anum_c_committed_at		3
#define Anum_c_operation		4

/* what a restore changes, counted by CowRestoreCount */
typedef struct CowRestoreCounts
{
	int64		inserted;
	int64		updated;
	int64		deleted;
	CowLogicalLog *log;			/* the rows it changes, for logical decoding
								 * (cow_logical.c), or NULL */
} CowRestoreCounts;

static Relation CowOpenOwned(FunctionCallInfo fcinfo, const char *what);
static int64 CowCommitArg(FunctionCallInfo fcinfo, int argno);
static bool CowCommitRecorded(int64 storage_id, int64 commit_id,
							  Snapshot snapshot, TimestampTz *committed_at,
							  text **operation);
static void CowCheckCommitOfTable(Relation rel, int64 storage_id,
								  int64 commit_id, Snapshot snapshot);
static void CowRestoreCount(CowChangeOp op, Datum *before_values,
							bool *before_nulls, Datum *after_values,
							bool *after_nulls, int64 commit_id, void *arg);
static void CowRestoreWrite(Relation rel, const CowOptions *opts,
							int64 storage_id, int64 commit_id,
							CowVersion *copies, int ncopies,
							CowCommitInfo *commit);

/*
 * CowOpenOwned opens the incetl_cow table of argument 0 for a function
 * only its owner may call (42501 otherwise, as clean).
 */
static Relation
CowOpenOwned(FunctionCallInfo fcinfo, const char *what)
{
	Oid			relid;
	Relation	rel;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s: tbl must not be NULL", what)));
	relid = PG_GETARG_OID(0);
	rel = CowOpenChecked(relid, ACL_SELECT);
	if (!pg_class_ownercheck(relid, GetUserId()))
		aclcheck_error(ACLCHECK_NOT_OWNER, OBJECT_TABLE, RelationGetRelationName(rel));
	return rel;
}

static int64
CowCommitArg(FunctionCallInfo fcinfo, int argno)
{
	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("commit_id must not be NULL")));
	return PG_GETARG_INT64(argno);
}

/*
 * CowCommitRecorded: does snapshot see commit_id in the storage's timeline?
 * Optionally returns when it committed and its operation.
 */
static bool
CowCommitRecorded(int64 storage_id, int64 commit_id, Snapshot snapshot,
				  TimestampTz *committed_at, text **operation)
{
	Relation	catalog = table_open(CowCatalogRelid("cow_commit", false), AccessShareLock);
	SysScanDesc scan;
	ScanKeyData key[2];
	HeapTuple	tup;
	bool		found = false;
	Oid			idx = CowCatalogRelid("cow_commit_pkey", true);

	ScanKeyInit(&key[0], 1, BTEqualStrategyNumber, F_INT8EQ,
				Int64GetDatum(storage_id));
	ScanKeyInit(&key[1], Anum_c_commit_id, BTEqualStrategyNumber, F_INT8EQ,
				Int64GetDatum(commit_id));
	scan = systable_beginscan(catalog, idx, OidIsValid(idx), snapshot, 2, key);
	tup = systable_getnext(scan);
	if (HeapTupleIsValid(tup))
	{
		TupleDesc	desc = RelationGetDescr(catalog);
		bool		isnull;

		found = true;
		if (committed_at)
			*committed_at = DatumGetTimestampTz(heap_getattr(tup, Anum_c_committed_at,
															 desc, &isnull));
		if (operation)
			*operation = DatumGetTextPCopy(heap_getattr(tup, Anum_c_operation,
														desc, &isnull));
	}
	systable_endscan(scan);
	table_close(catalog, AccessShareLock);
	return found;
}

/*
 * CowCheckCommitOfTable raises 22023 unless commit_id is a commit of rel
 * that snapshot sees: commit ids have gaps (statements that changed
 * nothing, rollbacks) and are per table, so a number below the newest
 * commit need not be one of this table's commits.
 */
static void
CowCheckCommitOfTable(Relation rel, int64 storage_id, int64 commit_id,
					  Snapshot snapshot)
{
	if (CowCommitRecorded(storage_id, commit_id, snapshot, NULL, NULL))
		return;
	(void) CowCheckCommitExists(rel, storage_id, commit_id, snapshot);
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("commit " INT64_FORMAT " is not a commit of \"%s\"",
					commit_id, RelationGetRelationName(rel)),
			 errdetail("Commit ids are per table and have gaps (statements that changed nothing, rolled back writes)."),
			 errhint("incetl.commits('%s') lists the commits of the table.",
					 RelationGetRelationName(rel))));
}

/*
 * incetl.savepoint(tbl, commit_id DEFAULT NULL, comment DEFAULT NULL):
 * pins a commit (the newest when NULL); returns its id.  Owner only.  A
 * commit already pinned is refused (42710): remove the savepoint first to
 * give it another comment.
 *
 * Takes the writers' lock, which cleaning takes too (CowExcludeWriters,
 * to the end of the transaction): a clean either committed before -- and the commit is
 * checked against what it left -- or waits for this savepoint and keeps
 * what it pins.
 */
Datum
incetl_cow_savepoint(PG_FUNCTION_ARGS)
{
	Relation	rel = CowOpenOwned(fcinfo, "incetl.savepoint()");
	int64		storage_id;
	int64		commit_id;
	Snapshot	snap;
	CowMetaPageData meta;
	Relation	catalog;
	Datum		values[Natts_sp];
	bool		nulls[Natts_sp];
	HeapTuple	tup;
	int			n,
				i;
	int64	   *ids;

	(void) CowExcludeWriters(rel, false);
	storage_id = CowStorageId(rel);
	if (PG_ARGISNULL(1))
	{
		commit_id = CowNewestCommit(storage_id, GetActiveSnapshot(),
										  PG_INT64_MAX);
		if (commit_id == 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("\"%s\" has no commit to pin", RelationGetRelationName(rel))));
	}
	else
	{
		commit_id = PG_GETARG_INT64(1);
		CowCheckCommitOfTable(rel, storage_id, commit_id, GetActiveSnapshot());
	}

	/* what cleaning left, as of now that we hold its lock */
	snap = RegisterSnapshot(GetLatestSnapshot());
	meta = CowReadMetaPage(rel);
	CowCheckCommitReadable(rel, &meta, commit_id, snap, "as_of()");
	ids = CowLoadSavepoints(storage_id, snap, &n);
	UnregisterSnapshot(snap);
	for (i = 0; i < n; i++)
		if (ids[i] == commit_id)
			ereport(ERROR,
					(errcode(ERRCODE_DUPLICATE_OBJECT),
					 errmsg("commit " INT64_FORMAT " of \"%s\" already has a savepoint",
							commit_id, RelationGetRelationName(rel)),
					 errhint("Remove it with incetl.remove_savepoint() first to take it again.")));

	memset(nulls, 0, sizeof(nulls));
	values[Anum_sp_storage_id - 1] = Int64GetDatum(storage_id);
	values[Anum_sp_commit_id - 1] = Int64GetDatum(commit_id);
	values[Anum_sp_created_at - 1] = TimestampTzGetDatum(GetCurrentTransactionStartTimestamp());
	values[Anum_sp_created_by - 1] = DirectFunctionCall1(namein,
														 CStringGetDatum(GetUserNameFromId(GetUserId(), false)));
	if (PG_ARGISNULL(2))
		nulls[Anum_sp_comment - 1] = true;
	else
		values[Anum_sp_comment - 1] = PG_GETARG_DATUM(2);
	catalog = table_open(CowCatalogRelid("cow_savepoint", false), RowExclusiveLock);
	tup = heap_form_tuple(RelationGetDescr(catalog), values, nulls);
	CatalogTupleInsert(catalog, tup);
	heap_freetuple(tup);
	table_close(catalog, RowExclusiveLock);
	CommandCounterIncrement();

	relation_close(rel, NoLock);
	PG_RETURN_INT64(commit_id);
}

/*
 * incetl.savepoints(tbl): the savepoints, oldest commit first, with the
 * commit's time and operation.  Needs SELECT on the table.
 */
Datum
incetl_cow_savepoints(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Relation	rel;
	Relation	catalog;
	SysScanDesc scan;
	ScanKeyData key;
	HeapTuple	tup;
	int64		storage_id;
	List	   *rows = NIL;
	ListCell   *lc;

	InitMaterializedSRF(fcinfo, 0);
	rel = CowOpenChecked(PG_GETARG_OID(0), ACL_SELECT);
	storage_id = CowStorageId(rel);
	relation_close(rel, AccessShareLock);

	/* through the primary key: in commit order */
	catalog = table_open(CowCatalogRelid("cow_savepoint", false), AccessShareLock);
	ScanKeyInit(&key, Anum_sp_storage_id, BTEqualStrategyNumber, F_INT8EQ,
				Int64GetDatum(storage_id));
	scan = CowCatalogScan(catalog, GetActiveSnapshot(), &key);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
		rows = lappend(rows, heap_copytuple(tup));
	systable_endscan(scan);

	foreach(lc, rows)
	{
		Datum		sp[Natts_sp];
		bool		spnull[Natts_sp];
		Datum		values[6];
		bool		nulls[6];
		TimestampTz committed_at = 0;
		text	   *operation = NULL;
		int64		c;

		heap_deform_tuple(lfirst(lc), RelationGetDescr(catalog), sp, spnull);
		c = DatumGetInt64(sp[Anum_sp_commit_id - 1]);
		memset(nulls, 0, sizeof(nulls));
		values[0] = Int64GetDatum(c);
		if (CowCommitRecorded(storage_id, c, GetActiveSnapshot(),
							  &committed_at, &operation))
		{
			values[1] = TimestampTzGetDatum(committed_at);
			values[2] = PointerGetDatum(operation);
		}
		else
			nulls[1] = nulls[2] = true;
		values[3] = sp[Anum_sp_created_at - 1];
		values[4] = sp[Anum_sp_created_by - 1];
		values[5] = sp[Anum_sp_comment - 1];
		nulls[5] = spnull[Anum_sp_comment - 1];
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	table_close(catalog, AccessShareLock);
	return (Datum) 0;
}

/*
 * incetl.remove_savepoint(tbl, commit_id): false when there was none.
 * Owner only.  Under the cleaners' lock, like savepoint().
 */
Datum
incetl_cow_remove_savepoint(PG_FUNCTION_ARGS)
{
	Relation	rel = CowOpenOwned(fcinfo, "incetl.remove_savepoint()");
	int64		commit_id = CowCommitArg(fcinfo, 1);
	Relation	catalog;
	SysScanDesc scan;
	ScanKeyData key[2];
	HeapTuple	tup;
	bool		found = false;
	Snapshot	snap;
	Oid			idx = CowCatalogRelid("cow_savepoint_pkey", true);

	(void) CowExcludeWriters(rel, false);
	catalog = table_open(CowCatalogRelid("cow_savepoint", false), RowExclusiveLock);
	snap = RegisterSnapshot(GetLatestSnapshot());
	ScanKeyInit(&key[0], Anum_sp_storage_id, BTEqualStrategyNumber, F_INT8EQ,
				Int64GetDatum(CowStorageId(rel)));
	ScanKeyInit(&key[1], Anum_sp_commit_id, BTEqualStrategyNumber, F_INT8EQ,
				Int64GetDatum(commit_id));
	scan = systable_beginscan(catalog, idx, OidIsValid(idx), snap, 2, key);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		CatalogTupleDelete(catalog, &tup->t_self);
		found = true;
	}
	systable_endscan(scan);
	UnregisterSnapshot(snap);
	table_close(catalog, RowExclusiveLock);
	CommandCounterIncrement();
	relation_close(rel, NoLock);
	PG_RETURN_BOOL(found);
}

/*
 * incetl.restore(tbl, commit_id): makes the content of the table that of
 * as_of(commit_id), as one new commit with operation "restore"; returns
 * its id.  Restoring the content the table already has records no commit
 * and returns the newest commit.  Owner only; commit_id must be a commit
 * of the table that can still be read (pinned, or within retention).
 *
 * Takes the writers' lock and a commit id as a write does (and fails as
 * one does with a prepared transaction that wrote the table pending), and
 * refuses to run inside a statement whose writes are still buffered.
 */
Datum
incetl_cow_restore(PG_FUNCTION_ARGS)
{
	Relation	rel = CowOpenOwned(fcinfo, "incetl.restore()");
	int64		target = CowCommitArg(fcinfo, 1);
	int64		storage_id = CowStorageId(rel);
	Snapshot	snap;
	CowMetaPageData meta;
	CowOptions	opts;
	CowVersion *versions;
	CowVersion *drop;
	CowVersion *copies;
	int			n,
				ndrop = 0,
				ncopies = 0,
				i;
	int64		result;
	CowCommitInfo commit;
	CowRestoreCounts counts;
	CowUserContext uctx;

	if (CowHasPending())
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot restore incetl_cow table \"%s\" while a running statement's writes are not merged",
						RelationGetRelationName(rel)),
				 errhint("Call incetl.restore() in a statement of its own.")));
	CowCheckCommitOfTable(rel, storage_id, target, GetActiveSnapshot());

	CowLockWriters(rel);
	snap = RegisterSnapshot(GetLatestSnapshot());
	meta = CowReadMetaPage(rel);
	CowCheckCommitReadable(rel, &meta, target, snap, "incetl.restore()");
	CowLoadOptions(rel, snap, &opts);

	/* the versions current now but not at target, and the reverse */
	versions = CowLoadVersions(storage_id, snap, false, &n);

	/*
	 * As a merge: a transaction snapshot that does not see the table as it
	 * is now would read the result mixed with what it missed.
	 */
	if (IsolationUsesXactSnapshot())
	{
		int			nmine,
					ncur = 0;
		CowVersion *mine = CowLoadVersions(storage_id, GetTransactionSnapshot(),
										   true, &nmine);
		bool		same = true;

		for (i = 0; i < n && same; i++)
		{
			if (versions[i].superseded_by != 0)
				continue;
			same = (ncur < nmine &&
					mine[ncur].file_group_id == versions[i].file_group_id &&
					mine[ncur].commit_id == versions[i].commit_id);
			ncur++;
		}
		if (!same || ncur != nmine)
			ereport(ERROR,
					(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
					 errmsg("could not serialize access due to concurrent write to \"%s\"",
							RelationGetRelationName(rel)),
					 errhint("The transaction might succeed if retried.")));
	}
	drop = palloc(sizeof(CowVersion) * Max(n, 1));
	copies = palloc(sizeof(CowVersion) * Max(n, 1));
	for (i = 0; i < n; i++)
	{
		CowVersion *v = &versions[i];
		bool		now = (v->superseded_by == 0);
		bool		then = (v->commit_id <= target &&
							(v->superseded_by == 0 || v->superseded_by > target));

		if (now && !then)
			drop[ndrop++] = *v;
		else if (then && !now)
			copies[ncopies++] = *v;
	}

	if (ndrop == 0 && ncopies == 0)
	{
		/* the table is as it was: nothing to record */
		result = CowNewestCommit(storage_id, snap, PG_INT64_MAX);
		UnregisterSnapshot(snap);
		relation_close(rel, NoLock);
		PG_RETURN_INT64(result);
	}

	/*
	 * Key comparisons, index expressions and predicates run as the table
	 * owner, in a security-restricted operation (as the rewrites do).
	 */
	CowBecomeTableOwner(rel, &uctx);
	memset(&commit, 0, sizeof(commit));
	commit.commit_id = CowNextCommitId(rel);
	commit.cid = InvalidCommandId;
	commit.operation = "restore";

	/*
	 * The counts compare the table after with the table before, key by key:
	 * the versions superseded against the copies (the rest is untouched),
	 * under the snapshot the versions were read with.
	 */
	memset(&counts, 0, sizeof(counts));
	counts.log = CowLogicalBegin(rel);
	PushActiveSnapshot(snap);
	CowDiffVersions(rel, drop, ndrop, copies, ncopies, CowRestoreCount, &counts);
	PopActiveSnapshot();
	CowLogicalEnd(counts.log);

	/* what heap requires of UPDATE and DELETE of a published table */
	if (counts.updated > 0)
		CheckCmdReplicaIdentity(rel, CMD_UPDATE);
	if (counts.deleted > 0)
		CheckCmdReplicaIdentity(rel, CMD_DELETE);
	commit.rows_inserted = counts.inserted;
	commit.rows_updated = counts.updated;
	commit.rows_deleted = counts.deleted;
	for (i = 0; i < ndrop; i++)
		CowSupersedeVersion(&drop[i], commit.commit_id);
	CowRestoreWrite(rel, &opts, storage_id, commit.commit_id, copies, ncopies,
					&commit);
	CowRestoreUser(&uctx);

	CowInsertCommit(storage_id, &commit);
	CowRecordCounts(RelationGetRelid(rel), commit.rows_inserted,
					commit.rows_updated, commit.rows_deleted, commit.commit_id);
	/* statistics as a merge counts them (cow_merge.c) */
	pgstat_count_heap_insert(rel, commit.rows_inserted);
	for (i = 0; i < commit.rows_updated; i++)
		pgstat_count_heap_update(rel, false);
	for (i = 0; i < commit.rows_deleted; i++)
		pgstat_count_heap_delete(rel);

	UnregisterSnapshot(snap);
	CommandCounterIncrement();
	relation_close(rel, NoLock);
	PG_RETURN_INT64(commit.commit_id);
}

/*
 * CowRestoreWrite writes a copy of each version in copies as a new
 * version of commit_id: same file group id and rows, each row keeping its
 * own commit id, a fresh row-number range and extent, and index entries,
 * as a merge writes its versions (cow_merge.c).  Adds the groups and bytes
 * written to *commit.
 */
static void
CowRestoreWrite(Relation rel, const CowOptions *opts, int64 storage_id,
				int64 commit_id, CowVersion *copies, int ncopies,
				CowCommitInfo *commit)
{
	TupleDesc	tupdesc = RelationGetDescr(rel);
	MemoryContext gcxt;
	MemoryContext old;
	ResultRelInfo *indexinfo = NULL;
	EState	   *estate = NULL;
	TupleTableSlot *islot = NULL;
	int			i;

	if (RelationGetForm(rel)->relhasindex)
	{
		estate = CreateExecutorState();
		indexinfo = makeNode(ResultRelInfo);
		InitResultRelInfo(indexinfo, rel, 1, NULL, 0);
		ExecOpenIndices(indexinfo, false);
		islot = MakeSingleTupleTableSlot(tupdesc, &TTSOpsVirtual);
	}
	CowSetFreeSpace(rel, CowLoadUsedMap(storage_id));
	gcxt = CowGroupContextCreate(CurrentMemoryContext, "incetl cow restore group",
								 COW_MERGE_CONTEXT_BLOCK);
	for (i = 0; i < ncopies; i++)
	{
		CowDecodedGroup *g;
		CowRow	   *rows;
		CowRow	  **ptrs;
		CowVersion	v;
		uint64		r;

		CHECK_FOR_INTERRUPTS();
		old = MemoryContextSwitchTo(gcxt);
		g = CowDecodeGroup(rel, &copies[i], true, NULL, true);
		if (g->nrows == 0)
		{
			MemoryContextSwitchTo(old);
			MemoryContextReset(gcxt);
			continue;
		}
		rows = palloc0(sizeof(CowRow) * g->nrows);
		ptrs = palloc(sizeof(CowRow *) * g->nrows);
		for (r = 0; r < g->nrows; r++)
		{
			rows[r].src = g;
			rows[r].src_row = r;
			rows[r].commit_id = g->commit_ids[r];
			ptrs[r] = &rows[r];
		}
		CowWriteGroup(rel, tupdesc, opts, ptrs, g->nrows,
					  copies[i].file_group_id, commit_id, false, NULL, &v);
		CowInsertVersion(storage_id, &v);
		if (indexinfo != NULL && indexinfo->ri_NumIndices > 0)
		{
			for (r = 0; r < g->nrows; r++)
			{
				List	   *res;
				int			a;

				ExecClearTuple(islot);
				for (a = 0; a < tupdesc->natts; a++)
					islot->tts_values[a] = CowRowValue(&rows[r], a,
													   &islot->tts_isnull[a]);
				ExecStoreVirtualTuple(islot);
				islot->tts_tableOid = RelationGetRelid(rel);
				CowRowNumberToTid(v.first_row_number + r, &islot->tts_tid);
				res = ExecInsertIndexTuples(indexinfo, islot, estate,
											false, false, NULL, NIL);
				list_free(res);
				ResetPerTupleExprContext(estate);
			}
		}
		commit->file_groups_written++;
		commit->bytes_written += v.bytes;
		MemoryContextSwitchTo(old);
		MemoryContextReset(gcxt);
	}
	MemoryContextDelete(gcxt);
	CowClearFreeSpace();
	if (indexinfo != NULL)
	{
		ExecCloseIndices(indexinfo);
		ExecDropSingleTupleTableSlot(islot);
		FreeExecutorState(estate);
	}
}

/*
 * CowRestoreCount counts one row a restore changes (a CowDiffVersions
 * callback: the versions it supersedes against the copies it writes).
 */
static void
CowRestoreCount(CowChangeOp op, Datum *before_values, bool *before_nulls,
				Datum *after_values, bool *after_nulls, int64 commit_id,
				void *arg)
{
	CowRestoreCounts *counts = arg;

	if (op == COW_CHANGE_INSERT)
		counts->inserted++;
	else if (op == COW_CHANGE_UPDATE)
		counts->updated++;
	else
		counts->deleted++;
	if (counts->log == NULL)
		return;
	if (op == COW_CHANGE_INSERT)
		CowLogicalInsert(counts->log, after_values, after_nulls);
	else if (op == COW_CHANGE_UPDATE)
		CowLogicalUpdate(counts->log, before_values, before_nulls,
						 after_values, after_nulls);
	else
		CowLogicalDelete(counts->log, before_values, before_nulls);
}
