/*-------------------------------------------------------------------------
 *
 * pipeline_catalog.c
 *	  Reading and writing incetl's catalog tables (incetl.pipelines,
 *	  incetl.watermarks, incetl.run_log).
 *
 *	  The catalogs belong to the extension owner and are read-only to
 *	  everybody else.  Functions that change them check the caller's right
 *	  to do so in C, then write as the catalog owner through
 *	  IncetlCatalogExec(), inside the caller's transaction.
 *
 *	  What every run reads by key -- its definition (IncetlLoadPipeline)
 *	  and its watermark (IncetlReadWatermark) -- is read directly through
 *	  the primary key, under a new snapshot: no SQL, no switch to the
 *	  catalog owner, nothing user-defined runs.  Definitions are cached per
 *	  backend and decoded again only when their row changed
 *	  (CachedPipeline).
 *
 * Copyright (c) 2026, incetl developers
 *
 * IDENTIFICATION
 *	  src/pipeline/pipeline_catalog.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/indexing.h"
#include "catalog/namespace.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_index.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"

#include "incetl.h"

/*
 * IncetlCatalogOwner returns the role that owns incetl's catalogs: the
 * owner of the extension's schema.
 */
Oid
IncetlCatalogOwner(void)
{
	Oid			nspid = get_namespace_oid("incetl", false);
	HeapTuple	tuple;
	Oid			owner;

	tuple = SearchSysCache1(NAMESPACEOID, ObjectIdGetDatum(nspid));
	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "cache lookup failed for namespace %u", nspid);
	owner = ((Form_pg_namespace) GETSTRUCT(tuple))->nspowner;
	ReleaseSysCache(tuple);
	return owner;
}

/*
 * IncetlCatalogExec runs one statement against incetl's catalogs as the
 * catalog owner, in the current transaction.  When expected >= 0 the
 * statement must process exactly that many rows.  Returns the first
 * column of the first row returned, when it is a bigint (RETURNING
 * run_id), else 0.  An error aborts the (sub)transaction, which also
 * restores the user id.
 */
int64
IncetlCatalogExec(const char *sql, int nargs, Oid *argtypes, Datum *values,
				  const char *nulls, int expected)
{
	IncetlUserContext uctx;
	int			ret;
	int64		result = 0;

	IncetlBecomeCatalogOwner(&uctx);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	/* parameterized statements have fixed texts: keep their plans */
	if (nargs > 0)
		ret = IncetlExecuteCached(sql, nargs, argtypes, values, nulls, false, 0);
	else
		ret = SPI_execute_with_args(sql, nargs, argtypes, values, nulls, false, 0);
	if (ret < 0)
		elog(ERROR, "incetl catalog statement failed: %s", SPI_result_code_string(ret));
	if (expected >= 0 && SPI_processed != (uint64) expected)
		elog(ERROR, "incetl catalog statement processed " UINT64_FORMAT " rows, expected %d",
			 SPI_processed, expected);
	if (SPI_tuptable != NULL && SPI_processed > 0 &&
		SPI_gettypeid(SPI_tuptable->tupdesc, 1) == INT8OID)
	{
		bool		isnull;
		Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc,
									  1, &isnull);

		if (!isnull)
			result = DatumGetInt64(d);
	}
	SPI_finish();

	IncetlRestoreUser(&uctx);
	return result;
}

/*
 * IncetlBecomeCatalogOwner switches to the catalog owner, with a safe
 * search_path, to read or write incetl's catalogs: row-level security
 * shows users only the pipelines of roles they belong to, while the C code
 * must see every row (and then checks ownership itself, so that a
 * stranger's pipeline is "permission denied", not "does not exist").
 * IncetlRestoreUser undoes it.
 */
void
IncetlBecomeCatalogOwner(IncetlUserContext *ctx)
{
	GetUserIdAndSecContext(&ctx->save_userid, &ctx->save_sec_context);
	SetUserIdAndSecContext(IncetlCatalogOwner(),
						   ctx->save_sec_context | SECURITY_LOCAL_USERID_CHANGE);
	ctx->save_nestlevel = NewGUCNestLevel();
	(void) set_config_option("search_path", "pg_catalog, pg_temp",
							 PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
}

/*
 * IncetlTextArrayFromList builds a text[] Datum from a list of C strings.
 */
Datum
IncetlTextArrayFromList(List *names)
{
	int			n = list_length(names);
	Datum	   *elems = palloc(sizeof(Datum) * Max(n, 1));
	ListCell   *lc;
	int			i = 0;

	foreach(lc, names)
		elems[i++] = CStringGetTextDatum((char *) lfirst(lc));
	return PointerGetDatum(construct_array(elems, n, TEXTOID, -1, false,
										   TYPALIGN_INT));
}

/*
 * The pipeline definitions this backend read, each with the version of
 * its incetl.pipelines row: the table's OID, the row's ctid and xmin, and
 * the row's null bitmap and data.  A run reads the row (an index lookup, no SPI, no user
 * switch) and decodes it only when any of those changed; whatever changes
 * the row (alter_pipeline, an owner change, a drop and re-create, an
 * UPDATE by hand, in this session or another) gives it another version.
 * At most PIPELINE_CACHE_SIZE definitions are kept, the least recently
 * used one makes room.
 */
#define PIPELINE_CACHE_SIZE 32

typedef struct CachedPipeline
{
	MemoryContext cxt;			/* holds the entry and the definition */
	Oid			relid;			/* incetl.pipelines when the row was read */
	ItemPointerData tid;
	TransactionId xmin;
	uint32		len;			/* of data */
	char	   *data;			/* the row from its null bitmap on */
	IncetlPipeline *pipeline;
} CachedPipeline;

static MemoryContext PipelineCacheContext = NULL;
static List *pipeline_cache = NIL;	/* most recently used first */

/* incetl.pipelines' columns IncetlLoadPipeline reads, in PC_ order */
static const char *const pipeline_columns[] = {
	"name", "source", "watermark_column", "watermark_type", "target",
	"record_key", "precombine", "transform", "schedule", "delete_marker",
	"settings", "max_batch_rows", "max_retries", "retry_delay", "safety_lag",
	"owner", "enabled", "search_path"
};
#define NUM_PIPELINE_COLUMNS lengthof(pipeline_columns)

enum
{
	PC_NAME, PC_SOURCE, PC_WATERMARK_COLUMN, PC_WATERMARK_TYPE, PC_TARGET,
	PC_RECORD_KEY, PC_PRECOMBINE, PC_TRANSFORM, PC_SCHEDULE, PC_DELETE_MARKER,
	PC_SETTINGS, PC_MAX_BATCH_ROWS, PC_MAX_RETRIES, PC_RETRY_DELAY,
	PC_SAFETY_LAG, PC_OWNER, PC_ENABLED, PC_SEARCH_PATH
};

static char *
TextOrNull(Datum *values, bool *nulls, int i)
{
	return nulls[i] ? NULL : TextDatumGetCString(values[i]);
}

/*
 * DecodePipeline builds the definition of a row of incetl.pipelines, in
 * the current memory context.  Columns are found by name: a catalog
 * upgraded from 0.1 has them in another order than a new one.
 */
static IncetlPipeline *
DecodePipeline(HeapTuple tup, TupleDesc desc)
{
	IncetlPipeline *p = palloc0(sizeof(IncetlPipeline));
	Datum	   *all = palloc(sizeof(Datum) * desc->natts);
	bool	   *allnulls = palloc(sizeof(bool) * desc->natts);
	Datum		values[NUM_PIPELINE_COLUMNS];
	bool		nulls[NUM_PIPELINE_COLUMNS];

	heap_deform_tuple(tup, desc, all, allnulls);
	for (int i = 0; i < NUM_PIPELINE_COLUMNS; i++)
	{
		int			col = IncetlTupleDescColumn(desc, pipeline_columns[i]);

		if (col < 0)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("incetl.pipelines has no column \"%s\"", pipeline_columns[i]),
					 errhint("Run ALTER EXTENSION incetl UPDATE;")));
		values[i] = all[col];
		nulls[i] = allnulls[col];
	}

	p->name = TextOrNull(values, nulls, PC_NAME);
	p->source = TextOrNull(values, nulls, PC_SOURCE);
	/* both NULL in feed mode */
	p->watermark_column = TextOrNull(values, nulls, PC_WATERMARK_COLUMN);
	p->watermark_type = nulls[PC_WATERMARK_TYPE] ? InvalidOid :
		DatumGetObjectId(values[PC_WATERMARK_TYPE]);
	p->target = TextOrNull(values, nulls, PC_TARGET);
	if (!nulls[PC_RECORD_KEY])
	{
		ArrayType  *arr = DatumGetArrayTypeP(values[PC_RECORD_KEY]);
		Datum	   *elems;
		bool	   *enulls;
		int			nelems;

		deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT,
						  &elems, &enulls, &nelems);
		for (int i = 0; i < nelems; i++)
			p->record_key = lappend(p->record_key, TextDatumGetCString(elems[i]));
	}
	p->precombine = TextOrNull(values, nulls, PC_PRECOMBINE);
	p->transform = TextOrNull(values, nulls, PC_TRANSFORM);
	p->schedule = TextOrNull(values, nulls, PC_SCHEDULE);
	p->delete_marker = TextOrNull(values, nulls, PC_DELETE_MARKER);
	/* NOT NULL in the catalog; ApplySettings takes NULL as none */
	p->settings = nulls[PC_SETTINGS] ? NULL : DatumGetJsonbPCopy(values[PC_SETTINGS]);
	p->max_batch_rows = nulls[PC_MAX_BATCH_ROWS] ? 0 :
		DatumGetInt64(values[PC_MAX_BATCH_ROWS]);
	p->max_retries = DatumGetInt32(values[PC_MAX_RETRIES]);
	p->retry_delay = *DatumGetIntervalP(values[PC_RETRY_DELAY]);
	p->safety_lag = *DatumGetIntervalP(values[PC_SAFETY_LAG]);
	p->owner = DatumGetObjectId(values[PC_OWNER]);
	p->enabled = DatumGetBool(values[PC_ENABLED]);
	p->search_path = TextOrNull(values, nulls, PC_SEARCH_PATH);
	return p;
}

static char *
CopyString(const char *s)
{
	return s ? pstrdup(s) : NULL;
}

/* CopyPipeline copies a definition into the current memory context. */
static IncetlPipeline *
CopyPipeline(const IncetlPipeline *from)
{
	IncetlPipeline *p = palloc(sizeof(IncetlPipeline));
	ListCell   *lc;

	*p = *from;
	p->name = CopyString(from->name);
	p->source = CopyString(from->source);
	p->watermark_column = CopyString(from->watermark_column);
	p->target = CopyString(from->target);
	p->record_key = NIL;
	foreach(lc, from->record_key)
		p->record_key = lappend(p->record_key, pstrdup(lfirst(lc)));
	p->precombine = CopyString(from->precombine);
	p->transform = CopyString(from->transform);
	p->schedule = CopyString(from->schedule);
	p->delete_marker = CopyString(from->delete_marker);
	if (from->settings != NULL)
	{
		p->settings = palloc(VARSIZE(from->settings));
		memcpy(p->settings, from->settings, VARSIZE(from->settings));
	}
	p->search_path = CopyString(from->search_path);
	return p;
}

/*
 * The OIDs of incetl's catalog relations by name, remembered for the
 * backend (every run looks up several): forgotten whenever a relation or
 * a schema is created, renamed or dropped anywhere (the syscache
 * invalidations of pg_class and pg_namespace by name), so they are never
 * staler than the syscache lookups they stand for.
 */
#define CATALOG_RELIDS 8
typedef struct CatalogRelidEntry
{
	char		relname[NAMEDATALEN];
	Oid			relid;
} CatalogRelidEntry;
static CatalogRelidEntry catalog_relids[CATALOG_RELIDS];
static int	n_catalog_relids = 0;
static bool catalog_relid_callbacks = false;

static void
CatalogRelidsInvalidate(Datum arg, int cacheid, uint32 hashvalue)
{
	n_catalog_relids = 0;
}

/*
 * IncetlCatalogRelid is the OID of incetl's catalog relation relname
 * (InvalidOid when the extension is not installed in this database).
 */
Oid
IncetlCatalogRelid(const char *relname)
{
	Oid			nspid;
	Oid			relid;

	if (!catalog_relid_callbacks)
	{
		CacheRegisterSyscacheCallback(RELNAMENSP, CatalogRelidsInvalidate, (Datum) 0);
		CacheRegisterSyscacheCallback(NAMESPACENAME, CatalogRelidsInvalidate, (Datum) 0);
		catalog_relid_callbacks = true;
	}
	for (int i = 0; i < n_catalog_relids; i++)
		if (strcmp(catalog_relids[i].relname, relname) == 0)
			return catalog_relids[i].relid;

	nspid = get_namespace_oid("incetl", true);
	relid = OidIsValid(nspid) ? get_relname_relid(relname, nspid) : InvalidOid;
	if (n_catalog_relids < CATALOG_RELIDS && strlen(relname) < NAMEDATALEN)
	{
		strlcpy(catalog_relids[n_catalog_relids].relname, relname, NAMEDATALEN);
		catalog_relids[n_catalog_relids].relid = relid;
		n_catalog_relids++;
	}
	return relid;
}

/*
 * CatalogIndexOK tells systable_beginscan whether to look a row of the
 * catalog rel up through its index: not when rel has one page (a
 * database's few pipelines or watermarks, its extensions), which is
 * scanned instead.  A new session, as pg_cron starts for each run, would
 * otherwise build the index's relcache entry first, which costs more than
 * the whole lookup.
 */
static bool
CatalogIndexOK(Relation rel)
{
	return RelationGetNumberOfBlocks(rel) > 1;
}

/*
 * FetchByTextKey returns the row of rel whose one-column text primary
 * key equals key, as snapshot sees it (a pointer into a buffer, pinned in
 * *scan until the caller's systable_endscan), or NULL.  Through the
 * primary key unless rel has one page (CatalogIndexOK); the key's column
 * and collation come from the index's pg_index row, in the system caches.
 */
static HeapTuple
FetchByTextKey(Relation rel, const char *key, Snapshot snapshot,
			   SysScanDesc *scan)
{
	Oid			indexoid = RelationGetPrimaryKeyIndex(rel);
	HeapTuple	indtup;
	Form_pg_index ind;
	oidvector  *collations;
	bool		isnull;
	ScanKeyData skey;

	if (!OidIsValid(indexoid))
		elog(ERROR, "%s has no primary key", RelationGetRelationName(rel));
	indtup = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(indexoid));
	if (!HeapTupleIsValid(indtup))
		elog(ERROR, "cache lookup failed for index %u", indexoid);
	ind = (Form_pg_index) GETSTRUCT(indtup);
	collations = (oidvector *) DatumGetPointer(SysCacheGetAttr(INDEXRELID, indtup,
															   Anum_pg_index_indcollation,
															   &isnull));
	Assert(!isnull);
	/* the scan key takes the heap's attribute number and the index's collation */
	ScanKeyInit(&skey, ind->indkey.values[0], BTEqualStrategyNumber,
				F_TEXTEQ, CStringGetTextDatum(key));
	skey.sk_collation = collations->values[0];
	ReleaseSysCache(indtup);
	*scan = systable_beginscan(rel, indexoid, CatalogIndexOK(rel), snapshot,
							   1, &skey);
	return systable_getnext(*scan);
}

/*
 * CachedDefinition returns the cached definition of the row tup of
 * incetl.pipelines (relid), decoding the row and caching it first when it
 * is new or changed.
 */
static IncetlPipeline *
CachedDefinition(const char *name, Oid relid, HeapTuple tup, TupleDesc desc)
{
	HeapTupleHeader htup = tup->t_data;
	uint32		len = tup->t_len - offsetof(HeapTupleHeaderData, t_bits);
	char	   *data = (char *) htup->t_bits;
	TransactionId xmin = HeapTupleHeaderGetRawXmin(htup);
	CachedPipeline *entry;
	MemoryContext oldcxt;
	ListCell   *lc;

	foreach(lc, pipeline_cache)
	{
		entry = lfirst(lc);
		if (strcmp(entry->pipeline->name, name) != 0)
			continue;
		if (entry->relid == relid && entry->xmin == xmin &&
			ItemPointerEquals(&entry->tid, &tup->t_self) &&
			entry->len == len && memcmp(entry->data, data, len) == 0)
		{
			/* most recently used first */
			if (lc != list_head(pipeline_cache))
			{
				pipeline_cache = foreach_delete_current(pipeline_cache, lc);
				oldcxt = MemoryContextSwitchTo(PipelineCacheContext);
				pipeline_cache = lcons(entry, pipeline_cache);
				MemoryContextSwitchTo(oldcxt);
			}
			return entry->pipeline;
		}
		/* another version: forget it */
		pipeline_cache = foreach_delete_current(pipeline_cache, lc);
		MemoryContextDelete(entry->cxt);
		break;
	}

	if (PipelineCacheContext == NULL)
		PipelineCacheContext = AllocSetContextCreate(TopMemoryContext,
													 "incetl pipeline definitions",
													 ALLOCSET_SMALL_SIZES);
	if (list_length(pipeline_cache) >= PIPELINE_CACHE_SIZE)
	{
		entry = llast(pipeline_cache);
		pipeline_cache = list_delete_last(pipeline_cache);
		MemoryContextDelete(entry->cxt);
	}

	/* decode first: an error leaves the cache as it was */
	{
		MemoryContext cxt = AllocSetContextCreate(PipelineCacheContext,
												  "incetl pipeline definition",
												  ALLOCSET_SMALL_SIZES);

		PG_TRY();
		{
			oldcxt = MemoryContextSwitchTo(cxt);
			entry = palloc(sizeof(CachedPipeline));
			entry->cxt = cxt;
			entry->relid = relid;
			entry->tid = tup->t_self;
			entry->xmin = xmin;
			entry->len = len;
			entry->data = palloc(len);
			memcpy(entry->data, data, len);
			entry->pipeline = DecodePipeline(tup, desc);
			MemoryContextSwitchTo(oldcxt);
		}
		PG_CATCH();
		{
			MemoryContextDelete(cxt);
			PG_RE_THROW();
		}
		PG_END_TRY();
	}
	oldcxt = MemoryContextSwitchTo(PipelineCacheContext);
	pipeline_cache = lcons(entry, pipeline_cache);
	MemoryContextSwitchTo(oldcxt);
	return entry->pipeline;
}

/*
 * IncetlLoadPipeline reads a pipeline definition by name, as a new
 * snapshot sees it (so a run sees what another session committed before
 * it, and what this transaction wrote).  The result is allocated in the
 * caller's memory context.  An unknown name is an error (42704) unless
 * missing_ok, when NULL is returned.
 *
 * The row is read directly, through the primary key, not through SPI as
 * the catalog owner: that is what the catalog owner's SPI read saw
 * (row-level security does not apply to the table's owner).  Decoding is
 * spared when the row has not changed since this backend last decoded it
 * (see CachedPipeline).
 */
IncetlPipeline *
IncetlLoadPipeline(const char *name, bool missing_ok)
{
	IncetlPipeline *p = NULL;
	Oid			relid;

	IncetlCheckCatalogVersion();
	relid = IncetlCatalogRelid("pipelines");
	if (OidIsValid(relid))
	{
		Relation	rel = table_open(relid, AccessShareLock);
		Snapshot	snapshot = RegisterSnapshot(GetTransactionSnapshot());
		SysScanDesc scan;
		HeapTuple	tup;

		tup = FetchByTextKey(rel, name, snapshot, &scan);
		if (HeapTupleIsValid(tup))
			p = CopyPipeline(CachedDefinition(name, relid, tup, RelationGetDescr(rel)));
		systable_endscan(scan);
		UnregisterSnapshot(snapshot);
		table_close(rel, AccessShareLock);
	}

	if (p == NULL && !missing_ok)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("pipeline \"%s\" does not exist", name),
				 errhint("See SELECT name FROM incetl.pipelines for the defined pipelines.")));
	return p;
}

/*
 * IncetlReadWatermark reads the committed watermark of a pipeline from
 * incetl.watermarks, as a new snapshot sees it (what earlier runs of this
 * transaction wrote included): its text form (NULL when none) and, for
 * incetl_cow sources, the commit id (-1 when none).  Read directly, as
 * IncetlLoadPipeline reads the definition.
 */
char *
IncetlReadWatermark(const char *name, int64 *commit)
{
	Oid			relid = IncetlCatalogRelid("watermarks");
	Relation	rel;
	Snapshot	snapshot;
	SysScanDesc scan;
	HeapTuple	tup;
	char	   *result = NULL;

	*commit = -1;
	if (!OidIsValid(relid))
		elog(ERROR, "could not read the watermark of pipeline \"%s\"", name);
	rel = table_open(relid, AccessShareLock);
	snapshot = RegisterSnapshot(GetTransactionSnapshot());
	tup = FetchByTextKey(rel, name, snapshot, &scan);
	if (HeapTupleIsValid(tup))
	{
		TupleDesc	desc = RelationGetDescr(rel);
		int			wm = IncetlTupleDescColumn(desc, "watermark") + 1;
		int			wc = IncetlTupleDescColumn(desc, "watermark_commit") + 1;
		bool		isnull;
		Datum		d;

		if (wm <= 0 || wc <= 0)
			elog(ERROR, "incetl.watermarks lacks its watermark columns");
		d = heap_getattr(tup, wm, desc, &isnull);
		if (!isnull)
			result = TextDatumGetCString(d);
		d = heap_getattr(tup, wc, desc, &isnull);
		if (!isnull)
			*commit = DatumGetInt64(d);
	}
	systable_endscan(scan);
	UnregisterSnapshot(snapshot);
	table_close(rel, AccessShareLock);
	return result;
}

/*
 * The version of pg_extension's row of incetl last found to match this
 * library's (its tid and xmin; an invalid xmin when none was): that row,
 * still visible, is still the extension of this version.  ALTER EXTENSION
 * UPDATE and DROP EXTENSION replace or delete it, so that version becomes
 * invisible to later snapshots; VACUUM FULL moves it (the tid then holds
 * another row or none, and the row is looked up by name again).
 */
static ItemPointerData catalog_version_tid;
static TransactionId catalog_version_xmin = InvalidTransactionId;

/* VersionMatches: whether a row of pg_extension is incetl of this library's version */
static bool
VersionMatches(HeapTuple tup, TupleDesc desc)
{
	bool		isnull;
	Datum		d;

	if (strcmp(NameStr(((Form_pg_extension) GETSTRUCT(tup))->extname), "incetl") != 0)
		return false;
	d = heap_getattr(tup, Anum_pg_extension_extversion, desc, &isnull);
	return !isnull && strcmp(TextDatumGetCString(d), INCETL_CATALOG_VERSION) == 0;
}

/* CatalogVersionStillMatches: whether that row is still visible */
static bool
CatalogVersionStillMatches(void)
{
	Relation	rel;
	HeapTupleData tuple;
	Buffer		buffer;
	bool		found;

	if (!TransactionIdIsValid(catalog_version_xmin))
		return false;
	rel = table_open(ExtensionRelationId, AccessShareLock);
	tuple.t_self = catalog_version_tid;
	/* a rewritten pg_extension may have fewer blocks than that tid's */
	found = ItemPointerGetBlockNumber(&catalog_version_tid) < RelationGetNumberOfBlocks(rel) &&
		heap_fetch(rel, GetCatalogSnapshot(ExtensionRelationId), &tuple, &buffer, false);
	if (found)
	{
		found = TransactionIdEquals(HeapTupleHeaderGetXmin(tuple.t_data),
									catalog_version_xmin) &&
			VersionMatches(&tuple, RelationGetDescr(rel));
		ReleaseBuffer(buffer);
	}
	table_close(rel, AccessShareLock);
	return found;
}

/*
 * IncetlCatalogVersion is the installed version of the extension in this
 * database (palloc'd), or NULL when it is not installed.
 */
char *
IncetlCatalogVersion(void)
{
	Relation	rel;
	SysScanDesc scan;
	ScanKeyData key;
	HeapTuple	tup;
	char	   *version = NULL;

	/* one lookup by name (a session's first run makes it; CatalogIndexOK) */
	rel = table_open(ExtensionRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_extension_extname, BTEqualStrategyNumber, F_NAMEEQ,
				CStringGetDatum("incetl"));
	scan = systable_beginscan(rel, ExtensionNameIndexId, CatalogIndexOK(rel),
							  NULL, 1, &key);
	tup = systable_getnext(scan);
	if (HeapTupleIsValid(tup))
	{
		bool		isnull;
		Datum		d = heap_getattr(tup, Anum_pg_extension_extversion,
									 RelationGetDescr(rel), &isnull);

		if (!isnull)
			version = TextDatumGetCString(d);
		/* remembered for IncetlCheckCatalogVersion */
		if (version != NULL && strcmp(version, INCETL_CATALOG_VERSION) == 0)
		{
			catalog_version_tid = tup->t_self;
			catalog_version_xmin = HeapTupleHeaderGetXmin(tup->t_data);
		}
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return version;
}

/*
 * IncetlCheckCatalogVersion refuses to work on catalogs of another version
 * of the extension than this library's: after installing a new incetl,
 * the catalogs change only with ALTER EXTENSION incetl UPDATE.  Every run
 * checks, so the row found to match is remembered and only its
 * visibility is checked again.
 */
void
IncetlCheckCatalogVersion(void)
{
	char	   *version;

	if (CatalogVersionStillMatches())
		return;
	version = IncetlCatalogVersion();
	if (version != NULL && strcmp(version, INCETL_CATALOG_VERSION) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("incetl's catalogs in this database are version %s, its library is version %s",
						version, INCETL_CATALOG_VERSION),
				 errhint("Run ALTER EXTENSION incetl UPDATE;")));
}
