/*-------------------------------------------------------------------------
 *
 * cow_clean.c
 *	  Reclaiming file group versions: VACUUM and incetl.clean().
 *
 * Cleaning, under ShareUpdateExclusiveLock (VACUUM's own lock: it
 * excludes other VACUUMs, ANALYZE and DDL) and then the writers' lock
 * (CowExcludeWriters: it excludes writers and other cleaners; autovacuum
 * does not wait for it but skips the table):
 *
 *	1. deletes the catalog rows of superseded versions outside retention
 *	   (a version superseded by commit S is needed for as_of(c) with
 *	   c < S; we keep what the last retain_commits commits listed by
 *	   commits() can see -- commits, not commit ids, which have gaps),
 *	   except those as_of() of a savepoint reads (incetl.savepoint(): the
 *	   readers of the timeline take a savepoint's commit for readable
 *	   whatever the horizon, CowCommitKept), and the history from the
 *	   oldest commit a reader outside src/cow still needs
 *	   (cow_history_holder_hook: pipelines reading the change feed from
 *	   their watermark; the horizon stops at that commit);
 *	2. prunes catalog rows dead to every snapshot and finds the extents
 *	   still referenced by a remaining catalog row (rows deleted by running
 *	   or recent transactions still pin their pages);
 *	3. removes index entries whose row number is in no version some
 *	   snapshot may still see as current (retained versions are read by
 *	   as_of() and changes() without an index), and the entries the
 *	   executor made for pending rows;
 *	4. truncates free pages at the end when it can get the lock at once;
 *	5. updates pg_class; relfrozenxid moves freely as the table stores no
 *	   transaction ids.
 *
 * Writers reuse the free extents (CowUsedMap -> cow_storage.c), so a table
 * that is upserted and vacuumed over and over stays the same size.
 *
 * Pages are reused only after the catalog rows pointing at them were
 * pruned (see CowLoadUsedMap), so hot standby queries conflict the way
 * they do on heap instead of reading reused pages.
 *
 * Copyright (c) 2026, incetl authors
 *
 * IDENTIFICATION
 *	  src/cow/cow_clean.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/heapam.h"
#include "access/multixact.h"
#include "access/relation.h"
#include "access/relscan.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/index.h"
#include "catalog/indexing.h"
#include "catalog/storage.h"
#include "commands/vacuum.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/autovacuum.h"
#include "storage/bufmgr.h"
#include "storage/lmgr.h"
#include "storage/proc.h"
#include "storage/procarray.h"
#include "utils/fmgroids.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "cow/maintenance.h"
#include "cow/security.h"

PG_FUNCTION_INFO_V1(incetl_cow_clean);

/* set by the pipeline layer (see cow.h) */
CowHistoryHolderHook cow_history_holder_hook = NULL;

static int	CowInt64Cmp(const void *a, const void *b);
static int64 CowRetentionHorizon(int64 storage_id, Snapshot snap, int keep);
static int	CowPinOf(const CowVersion *v, const int64 *pins, int npins);
static int64 CowCleanLocked(Relation rel, int keep, int elevel,
							BufferAccessStrategy bstrategy, bool nowait);
static bool CowIndexEntryDead(ItemPointer itemptr, void *state);

/*
 * The row numbers an index must keep entries for, read after the catalog
 * pages were pruned (CowLoadUsedMap): those of every version whose catalog
 * row without superseded_by is still there, that is, that some snapshot
 * may still see as current -- here or, until the prune is replayed, on a
 * standby.  Index fetches return rows of such versions only (CowFetchRow),
 * so the entries of every other version can go, retained or not: as_of(),
 * changes() and restore() read retained versions without an index.
 */
typedef struct CowIndexedRows
{
	CowVersion *versions;		/* by first_row_number */
	int			nversions;
	CowRowIndex *rows;			/* lookups among them */
} CowIndexedRows;

static bool
CowIndexEntryDead(ItemPointer itemptr, void *state)
{
	CowIndexedRows *ir = state;
	int64		rn = CowTidToRowNumber(itemptr);

	if (rn >= COW_MAX_ROW_NUMBER)
		return true;			/* a pending row's TID */
	return CowRowIndexFind(ir->rows, rn, NULL) < 0;
}

static int
CowInt64Cmp(const void *a, const void *b)
{
	int64		x = *(const int64 *) a;
	int64		y = *(const int64 *) b;

	return x < y ? -1 : (x > y ? 1 : 0);
}

/*
 * CowRetentionHorizon returns the commit id at and before which superseded
 * versions may go so that as_of() keeps working for the last keep (> 0)
 * commits the timeline lists (commits(): commit ids have gaps, so counting
 * ids would keep fewer): the oldest of them, whose as_of() needs the
 * versions superseded after it.  0 (nothing goes) when the timeline has no
 * more than keep commits.
 */
static int64
CowRetentionHorizon(int64 storage_id, Snapshot snap, int keep)
{
	Relation	catalog = table_open(CowCatalogRelid("cow_commit", false), AccessShareLock);
	SysScanDesc scan;
	ScanKeyData key;
	HeapTuple	tup;
	int64	   *ids;
	int			n = 0,
				cap = 64;
	int64		horizon = 0;

	ids = palloc(sizeof(int64) * cap);
	ScanKeyInit(&key, 1, BTEqualStrategyNumber, F_INT8EQ, Int64GetDatum(storage_id));
	scan = CowCatalogScan(catalog, snap, &key);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		bool		isnull;

		if (n == cap)
		{
			cap *= 2;
			ids = repalloc(ids, sizeof(int64) * cap);
		}
		ids[n++] = DatumGetInt64(heap_getattr(tup, 2, RelationGetDescr(catalog), &isnull));
	}
	systable_endscan(scan);
	table_close(catalog, AccessShareLock);
	if (n > keep)
	{
		qsort(ids, n, sizeof(int64), CowInt64Cmp);
		horizon = ids[n - keep];
	}
	pfree(ids);
	return horizon;
}

/*
 * CowPinOf returns the index in pins (ascending) of the oldest pinned
 * commit whose as_of() reads version v (commit_id <= pin < superseded_by),
 * or -1 when none does.  v is superseded (superseded_by > 0).
 */
static int
CowPinOf(const CowVersion *v, const int64 *pins, int npins)
{
	int			i;

	for (i = 0; i < npins; i++)
	{
		if (pins[i] >= v->superseded_by)
			break;
		if (pins[i] >= v->commit_id)
			return i;
	}
	return -1;
}

/*
 * CowClean does the work of VACUUM and incetl.clean().  keep < 0 means
 * the table's retain_commits.  Returns the versions removed.
 */
int64
CowClean(Relation rel, int keep, int elevel, BufferAccessStrategy bstrategy)
{
	return CowCleanLocked(rel, keep, elevel, bstrategy, false);
}

/*
 * CowCleanLocked cleans rel as CowClean does; with nowait, when a writer
 * holds the writers' lock it returns -1 at once, having done nothing.
 */
static int64
CowCleanLocked(Relation rel, int keep, int elevel,
			   BufferAccessStrategy bstrategy, bool nowait)
{
	Snapshot	snap;
	CowOptions	opts;
	CowMetaPageData meta;
	int			n,
				i;
	CowVersion *versions;
	int64		removed = 0;
	int64		cmax;
	int64		horizon;
	CowUsedMap *map;
	BlockNumber nblocks,
				new_nblocks = 1;
	Relation   *indrels;
	int			nindexes;
	double		live_rows = 0;
	Relation	catalog;
	int64	   *savepoints;
	int			nsavepoints;
	int64		kept_horizon;
	int64		holder_commit = 0;
	char	   *holder = NULL;
	int64	   *kept_for;
	StringInfoData kept;

	/*
	 * VACUUM's lock first (VACUUM holds it already: the same order for
	 * both), then the writers' lock: excludes writers (they take it at
	 * their merge) and other cleaners.  Writers never wait for the first.
	 */
	LockRelation(rel, ShareUpdateExclusiveLock);
	if (!CowExcludeWriters(rel, nowait))
		return -1;
	meta = CowReadMetaPage(rel);
	cmax = meta.next_commit_id - 1;

	snap = RegisterSnapshot(GetLatestSnapshot());
	CowLoadOptions(rel, snap, &opts);
	if (keep < 0)
		keep = opts.retain_commits;
	horizon = (keep == 0) ? cmax : CowRetentionHorizon(meta.storage_id, snap, keep);

	/*
	 * A reader outside src/cow (a pipeline reading the change feed from its
	 * watermark) needs as_of() of its commit and the history after it: the
	 * horizon stops there, so that commit stays readable by the horizon
	 * rule itself (cow_timeline.c) -- and stops being readable, as it
	 * should, once VACUUM FULL or a rewrite drops the history anyway.
	 */
	if (cow_history_holder_hook != NULL)
		holder_commit = cow_history_holder_hook(rel, &holder);
	if (holder_commit > 0 && holder_commit < horizon)
		kept_horizon = holder_commit;
	else
		kept_horizon = horizon;

	/*
	 * The savepoints: what as_of() of each reads is kept whatever the
	 * horizon, and readers take them for readable (CowCommitKept).
	 * savepoint() takes our lock too, so every savepoint is committed (and
	 * seen here) or waits for us.
	 */
	savepoints = CowLoadSavepoints(meta.storage_id, snap, &nsavepoints);
	kept_for = palloc0(sizeof(int64) * (nsavepoints + 1));

	versions = CowLoadVersions(meta.storage_id, snap, false, &n);
	catalog = table_open(CowCatalogRelid("cow_file_group", false), RowExclusiveLock);
	for (i = 0; i < n; i++)
	{
		if (versions[i].superseded_by == 0)
		{
			live_rows += versions[i].row_count;
			continue;
		}
		if (versions[i].superseded_by <= horizon)
		{
			int			pin = CowPinOf(&versions[i], savepoints, nsavepoints);

			if (pin >= 0)
				kept_for[pin]++;
			else if (versions[i].superseded_by > kept_horizon)
				kept_for[nsavepoints]++;
			else
			{
				CatalogTupleDelete(catalog, &versions[i].catalog_tid);
				removed++;
			}
		}
	}
	table_close(catalog, RowExclusiveLock);
	UnregisterSnapshot(snap);
	if (removed > 0)
	{
		CowVersionsChanged(meta.storage_id);
		CowAdvanceCleanHorizon(rel, kept_horizon);
	}
	CommandCounterIncrement();

	map = CowLoadUsedMap(meta.storage_id);

	/*
	 * Index entries of versions that no snapshot can see as current any
	 * more, as heap's lazy VACUUM removes those of dead tuples: a bulk
	 * delete, then the cleanup that recycles the btree pages it emptied.
	 */
	vac_open_indexes(rel, RowExclusiveLock, &nindexes, &indrels);
	if (nindexes > 0)
	{
		CowIndexedRows indexed;

		indexed.versions = CowLoadVersions(meta.storage_id, SnapshotAny, true,
										   &indexed.nversions);
		indexed.rows = CowRowIndexBuild(rel, indexed.versions,
										indexed.nversions);
		for (i = 0; i < nindexes; i++)
		{
			IndexVacuumInfo ivinfo;
			IndexBulkDeleteResult *stats;

			memset(&ivinfo, 0, sizeof(ivinfo));
			ivinfo.index = indrels[i];
			ivinfo.message_level = elevel;
			ivinfo.num_heap_tuples = live_rows;
			ivinfo.estimated_count = false;
			ivinfo.strategy = bstrategy;
			stats = index_bulk_delete(&ivinfo, NULL, CowIndexEntryDead, &indexed);
			stats = index_vacuum_cleanup(&ivinfo, stats);
			if (stats)
			{
				ereport(elevel,
						(errmsg("index \"%s\" now contains %.0f row versions in %u pages",
								RelationGetRelationName(indrels[i]),
								stats->num_index_tuples, stats->num_pages),
						 errdetail("%.0f index row versions were removed.\n"
								   "%u index pages were newly deleted.\n"
								   "%u index pages are currently deleted, of which %u are currently reusable.",
								   stats->tuples_removed,
								   stats->pages_newly_deleted,
								   stats->pages_deleted, stats->pages_free)));
				pfree(stats);
			}
		}
		pfree(indexed.versions);
	}
	vac_close_indexes(nindexes, indrels, NoLock);

	/* truncate free pages at the end, if nobody is in the way */
	nblocks = CowPhysicalBlocks(rel);
	for (i = 0; i < map->nranges; i++)
		new_nblocks = Max(new_nblocks, map->extent_first[i] + map->extent_blocks[i]);
	if (new_nblocks < nblocks &&
		ConditionalLockRelation(rel, AccessExclusiveLock))
	{
		RelationTruncate(rel, new_nblocks);
		UnlockRelation(rel, AccessExclusiveLock);
		nblocks = new_nblocks;
	}

	/* what the pins kept: "kept 3 versions for savepoint 12 and ..." */
	initStringInfo(&kept);
	for (i = 0; i <= nsavepoints; i++)
	{
		if (kept_for[i] == 0)
			continue;
		appendStringInfo(&kept, "%s" INT64_FORMAT " %s for ",
						 kept.len > 0 ? " and " : "", kept_for[i],
						 kept_for[i] == 1 ? "version" : "versions");
		if (i < nsavepoints)
			appendStringInfo(&kept, "savepoint " INT64_FORMAT, savepoints[i]);
		else
			appendStringInfoString(&kept, holder ? holder : "a reader of the change feed");
	}
	ereport(elevel,
			(errmsg("incetl_cow \"%s\": removed " INT64_FORMAT " file group versions, %d still referenced, %u pages",
					RelationGetRelationName(rel), removed, map->nranges, nblocks),
			 kept.len > 0 ? errdetail("Beyond retention, kept %s.", kept.data) : 0));

	/* the table stores no transaction ids: everything is frozen */
	vac_update_relstats(rel, nblocks, live_rows, 0,
						RelationGetForm(rel)->relhasindex, RecentXmin,
						GetOldestMultiXactId(), NULL, NULL, false);

	/*
	 * Statistics: the rows a write replaced or deleted count as dead until
	 * cleaned (cow_merge.c); what retention keeps cannot be reclaimed now,
	 * so none are left to report -- autovacuum comes back once writes have
	 * made more.
	 */
	pgstat_report_vacuum(RelationGetRelid(rel), rel->rd_rel->relisshared,
						 (PgStat_Counter) live_rows, 0);
	return removed;
}

void
cow_relation_vacuum(Relation rel, VacuumParams *params,
					BufferAccessStrategy bstrategy)
{
	int			elevel = (params->options & VACOPT_VERBOSE) ? INFO : DEBUG2;

	/*
	 * VACUUM (PARALLEL n) of a temporary table with the two indexes or more
	 * a parallel index vacuum needs: heap's lazy vacuum warns that it
	 * vacuums them serially (parallel workers cannot read temporary
	 * tables), and so do we -- ours always does.
	 */
	if (params->nworkers > 0 && RelationUsesLocalBuffers(rel) &&
		rel->rd_rel->relhasindex &&
		params->index_cleanup != VACOPTVALUE_DISABLED &&
		list_length(RelationGetIndexList(rel)) > 1)
		ereport(WARNING,
				(errmsg("disabling parallel option of vacuum on \"%s\" --- cannot vacuum temporary tables in parallel",
						RelationGetRelationName(rel))));

	/*
	 * Lazy VACUUM runs with PROC_IN_VACUUM, which makes other backends
	 * leave this backend's xid out of their snapshots: fine for heap, which
	 * vacuums without one, fatal for us, because cleaning deletes catalog
	 * rows transactionally.  Readers would take our deletes for aborted
	 * ones and set hint bits saying so.  Drop the flag (as vacuum.c sets
	 * it, under ProcArrayLock) before an xid is assigned; the transaction
	 * end clears the vacuum flags anyway.
	 */
	if (MyProc->statusFlags & PROC_IN_VACUUM)
	{
		LWLockAcquire(ProcArrayLock, LW_EXCLUSIVE);
		MyProc->statusFlags &= ~PROC_IN_VACUUM;
		ProcGlobal->statusFlags[MyProc->pgxactoff] = MyProc->statusFlags;
		LWLockRelease(ProcArrayLock);
	}

	/*
	 * Autovacuum does not wait for a writer: it skips the table, as it
	 * skips one whose ShareUpdateExclusiveLock it cannot get, and comes
	 * back later.
	 */
	if (CowCleanLocked(rel, -1, elevel, bstrategy,
					   IsAutoVacuumWorkerProcess()) < 0)
		ereport(params->log_min_duration >= 0 ? LOG : DEBUG1,
				(errmsg("skipping cleaning of \"%s\" --- a writer holds its writers' lock",
						RelationGetRelationName(rel))));
}

/*
 * incetl.clean(tbl, keep_commits) cleans with the given retention (the
 * table's retain_commits when NULL).  Needs ownership, like VACUUM.
 */
Datum
incetl_cow_clean(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	int			keep = PG_ARGISNULL(1) ? -1 : PG_GETARG_INT32(1);
	Relation	rel;
	int64		removed;
	CowUserContext uctx;

	if (keep < 0 && !PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("keep_commits must not be negative")));
	rel = CowOpenChecked(relid, ACL_SELECT);
	if (!pg_class_ownercheck(relid, GetUserId()))
		aclcheck_error(ACLCHECK_NOT_OWNER, OBJECT_TABLE, RelationGetRelationName(rel));
	/* as VACUUM: the owner's index code runs as the owner, restricted */
	CowBecomeTableOwner(rel, &uctx);
	removed = CowClean(rel, keep, DEBUG2, NULL);
	CowRestoreUser(&uctx);
	relation_close(rel, NoLock);
	PG_RETURN_INT64(removed);
}
