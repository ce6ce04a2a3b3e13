/*-------------------------------------------------------------------------
 *
 * feed_holder.c
 *	  The history the pipelines reading a change feed still need: the
 *	  cow_history_holder_hook of the incetl_cow layer (src/include/cow.h).
 *
 *	  A pipeline without a watermark column (feed mode, batch.c) reads
 *	  incetl.net_changes(NULL::source, watermark_commit, ...), which needs
 *	  as_of(watermark_commit) of its source.  Cleaning (VACUUM, autovacuum,
 *	  incetl.clean) asks the hook for the oldest such commit of the table it
 *	  cleans and keeps what as_of() of it reads, so a slow pipeline does not
 *	  lose its changes to retain_commits.
 *
 *	  The hook runs inside VACUUM and autovacuum, in databases with or
 *	  without the extension, so it reads incetl.pipelines and
 *	  incetl.watermarks with plain heap scans under a snapshot of its own
 *	  (no SPI, no active snapshot needed, no privilege checks), returns 0
 *	  when the catalogs are missing, and never raises for a pipeline whose
 *	  source no longer resolves.
 *
 *	  Uses names.c.
 *
 * Copyright (c) 2026, incetl developers
 *
 * IDENTIFICATION
 *	  src/pipeline/feed_holder.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/namespace.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "cow.h"
#include "incetl.h"

static int64 FeedHistoryHolder(Relation rel, char **holder);
static List *FeedPipelinesOf(Oid pipelines_relid, Oid source_relid,
							 Snapshot snapshot);

/*
 * FeedPipelinesOf returns the names of the feed-mode pipelines (no
 * watermark column) whose source is source_relid.  A source that does not
 * resolve (dropped, renamed) matches nothing.
 */
static List *
FeedPipelinesOf(Oid pipelines_relid, Oid source_relid, Snapshot snapshot)
{
	Relation	catalog = table_open(pipelines_relid, AccessShareLock);
	TupleDesc	desc = RelationGetDescr(catalog);
	AttrNumber	att_name = get_attnum(pipelines_relid, "name");
	AttrNumber	att_source = get_attnum(pipelines_relid, "source");
	AttrNumber	att_wm = get_attnum(pipelines_relid, "watermark_column");
	List	   *names = NIL;
	SysScanDesc scan;
	HeapTuple	tup;

	if (att_name == InvalidAttrNumber || att_source == InvalidAttrNumber ||
		att_wm == InvalidAttrNumber)
	{
		table_close(catalog, AccessShareLock);
		return NIL;
	}

	scan = systable_beginscan(catalog, InvalidOid, false, snapshot, 0, NULL);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		bool		isnull;
		Datum		source;
		Datum		name;

		(void) heap_getattr(tup, att_wm, desc, &isnull);
		if (!isnull)
			continue;
		source = heap_getattr(tup, att_source, desc, &isnull);
		if (isnull ||
			IncetlResolveRelation(TextDatumGetCString(source), true) != source_relid)
			continue;
		name = heap_getattr(tup, att_name, desc, &isnull);
		if (!isnull)
			names = lappend(names, TextDatumGetCString(name));
	}
	systable_endscan(scan);
	table_close(catalog, AccessShareLock);
	return names;
}

/*
 * FeedHistoryHolder is the cow_history_holder_hook: the smallest
 * watermark_commit of the feed-mode pipelines reading rel (0 when none,
 * or when this database has no incetl catalogs), and in *holder which
 * pipeline that is ('pipeline "silver"').  A pipeline that has not run
 * yet needs nothing: its first run reads the feed from commit 0.
 */
static int64
FeedHistoryHolder(Relation rel, char **holder)
{
	Oid			nspid = get_namespace_oid("incetl", true);
	Oid			pipelines_relid;
	Oid			watermarks_relid;
	Snapshot	snapshot;
	List	   *names;
	int64		oldest = 0;
	char	   *oldest_name = NULL;

	*holder = NULL;
	if (!OidIsValid(nspid))
		return 0;
	pipelines_relid = get_relname_relid("pipelines", nspid);
	watermarks_relid = get_relname_relid("watermarks", nspid);
	if (!OidIsValid(pipelines_relid) || !OidIsValid(watermarks_relid))
		return 0;

	snapshot = RegisterSnapshot(GetLatestSnapshot());
	names = FeedPipelinesOf(pipelines_relid, RelationGetRelid(rel), snapshot);
	if (names != NIL)
	{
		Relation	catalog = table_open(watermarks_relid, AccessShareLock);
		TupleDesc	desc = RelationGetDescr(catalog);
		AttrNumber	att_name = get_attnum(watermarks_relid, "pipeline_name");
		AttrNumber	att_commit = get_attnum(watermarks_relid, "watermark_commit");
		SysScanDesc scan;
		HeapTuple	tup;

		if (att_name != InvalidAttrNumber && att_commit != InvalidAttrNumber)
		{
			scan = systable_beginscan(catalog, InvalidOid, false, snapshot, 0, NULL);
			while (HeapTupleIsValid(tup = systable_getnext(scan)))
			{
				bool		isnull;
				Datum		d;
				char	   *name;
				int64		commit;
				ListCell   *lc;
				bool		ours = false;

				d = heap_getattr(tup, att_commit, desc, &isnull);
				if (isnull)
					continue;
				commit = DatumGetInt64(d);
				d = heap_getattr(tup, att_name, desc, &isnull);
				if (isnull)
					continue;
				name = TextDatumGetCString(d);
				foreach(lc, names)
					ours = ours || strcmp((char *) lfirst(lc), name) == 0;
				if (ours && commit > 0 && (oldest == 0 || commit < oldest))
				{
					oldest = commit;
					oldest_name = name;
				}
			}
			systable_endscan(scan);
		}
		table_close(catalog, AccessShareLock);
	}
	UnregisterSnapshot(snapshot);

	if (oldest_name != NULL)
		*holder = psprintf("pipeline \"%s\"", oldest_name);
	return oldest;
}

/* Install the hook (from _PG_init). */
void
IncetlFeedHolderInit(void)
{
	cow_history_holder_hook = FeedHistoryHolder;
}
