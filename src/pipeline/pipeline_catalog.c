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
 * Copyright (c) 2026, incetl developers
 *
 * IDENTIFICATION
 *	  src/pipeline/pipeline_catalog.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/indexing.h"
#include "catalog/namespace.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

#include "incetl.h"

static char *CopyTextColumn(HeapTuple tuple, TupleDesc desc, int attno);

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

static char *
CopyTextColumn(HeapTuple tuple, TupleDesc desc, int attno)
{
	bool		isnull;
	Datum		d = SPI_getbinval(tuple, desc, attno, &isnull);

	return isnull ? NULL : TextDatumGetCString(d);
}

/*
 * IncetlLoadPipeline reads a pipeline definition by name.  The result is
 * allocated in the caller's memory context.  An unknown name is an error
 * (42704) unless missing_ok, when NULL is returned.
 */
IncetlPipeline *
IncetlLoadPipeline(const char *name, bool missing_ok)
{
	MemoryContext callercxt = CurrentMemoryContext;
	IncetlPipeline *p = NULL;
	IncetlUserContext uctx;
	Oid			argtypes[1] = {TEXTOID};
	Datum		values[1];
	int			ret;

	IncetlCheckCatalogVersion();
	values[0] = CStringGetTextDatum(name);
	IncetlBecomeCatalogOwner(&uctx);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	ret = IncetlExecuteCached("SELECT name, source, watermark_column, "
								"watermark_type::oid, target, record_key, precombine, "
								"transform, schedule, delete_marker, settings, "
								"max_batch_rows, max_retries, retry_delay, safety_lag, "
								"owner::pg_catalog.oid, enabled, search_path "
								"FROM incetl.pipelines WHERE name = $1",
								1, argtypes, values, NULL, false, 1);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "could not read incetl.pipelines: %s", SPI_result_code_string(ret));

	if (SPI_processed == 1)
	{
		HeapTuple	tup = SPI_tuptable->vals[0];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		isnull;
		Datum		d;
		MemoryContext spicxt = MemoryContextSwitchTo(callercxt);

		p = palloc0(sizeof(IncetlPipeline));
		p->name = CopyTextColumn(tup, desc, 1);
		p->source = CopyTextColumn(tup, desc, 2);
		p->watermark_column = CopyTextColumn(tup, desc, 3);
		/* both NULL in feed mode */
		d = SPI_getbinval(tup, desc, 4, &isnull);
		p->watermark_type = isnull ? InvalidOid : DatumGetObjectId(d);
		p->target = CopyTextColumn(tup, desc, 5);

		d = SPI_getbinval(tup, desc, 6, &isnull);
		if (!isnull)
		{
			ArrayType  *arr = DatumGetArrayTypeP(d);
			Datum	   *elems;
			bool	   *enulls;
			int			nelems;

			deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT,
							  &elems, &enulls, &nelems);
			for (int i = 0; i < nelems; i++)
				p->record_key = lappend(p->record_key,
										TextDatumGetCString(elems[i]));
		}
		p->precombine = CopyTextColumn(tup, desc, 7);
		p->transform = CopyTextColumn(tup, desc, 8);
		p->schedule = CopyTextColumn(tup, desc, 9);
		p->delete_marker = CopyTextColumn(tup, desc, 10);
		d = SPI_getbinval(tup, desc, 11, &isnull);
		p->settings = DatumGetJsonbPCopy(d);
		d = SPI_getbinval(tup, desc, 12, &isnull);
		p->max_batch_rows = isnull ? 0 : DatumGetInt64(d);
		p->max_retries = DatumGetInt32(SPI_getbinval(tup, desc, 13, &isnull));
		p->retry_delay = *DatumGetIntervalP(SPI_getbinval(tup, desc, 14, &isnull));
		p->safety_lag = *DatumGetIntervalP(SPI_getbinval(tup, desc, 15, &isnull));
		p->owner = DatumGetObjectId(SPI_getbinval(tup, desc, 16, &isnull));
		p->enabled = DatumGetBool(SPI_getbinval(tup, desc, 17, &isnull));
		p->search_path = CopyTextColumn(tup, desc, 18);

		MemoryContextSwitchTo(spicxt);
	}
	SPI_finish();
	IncetlRestoreUser(&uctx);

	if (p == NULL && !missing_ok)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("pipeline \"%s\" does not exist", name),
				 errhint("See SELECT name FROM incetl.pipelines for the defined pipelines.")));
	return p;
}

/*
 * IncetlCatalogVersion is the installed version of the extension in this
 * database (palloc'd), or NULL when it is not installed.
 */
char *
IncetlCatalogVersion(void)
{
	Oid			extoid = get_extension_oid("incetl", true);
	Relation	rel;
	SysScanDesc scan;
	ScanKeyData key;
	HeapTuple	tup;
	char	   *version = NULL;

	if (!OidIsValid(extoid))
		return NULL;
	rel = table_open(ExtensionRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_extension_oid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(extoid));
	scan = systable_beginscan(rel, ExtensionOidIndexId, true, NULL, 1, &key);
	tup = systable_getnext(scan);
	if (HeapTupleIsValid(tup))
	{
		bool		isnull;
		Datum		d = heap_getattr(tup, Anum_pg_extension_extversion,
									 RelationGetDescr(rel), &isnull);

		if (!isnull)
			version = TextDatumGetCString(d);
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return version;
}

/*
 * IncetlCheckCatalogVersion refuses to work on catalogs of another version
 * of the extension than this library's: after installing a new incetl,
 * the catalogs change only with ALTER EXTENSION incetl UPDATE.
 */
void
IncetlCheckCatalogVersion(void)
{
	char	   *version = IncetlCatalogVersion();

	if (version != NULL && strcmp(version, INCETL_CATALOG_VERSION) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("incetl's catalogs in this database are version %s, its library is version %s",
						version, INCETL_CATALOG_VERSION),
				 errhint("Run ALTER EXTENSION incetl UPDATE;")));
}
