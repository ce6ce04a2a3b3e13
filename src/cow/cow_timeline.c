/*-------------------------------------------------------------------------
 *
 * cow_timeline.c
 *	  SQL-callable functions over the timeline of incetl_cow tables.
 *
 * The catalogs are not readable by PUBLIC; these functions read them
 * after checking that the caller may SELECT the table in question.
 *
 * Copyright (c) 2026, incetl authors
 *
 * IDENTIFICATION
 *	  src/cow/cow_timeline.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/relation.h"
#include "access/table.h"
#include "funcapi.h"
#include "storage/bufmgr.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/numeric.h"
#include "utils/tuplestore.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/typcache.h"

#include "cow.h"

PG_FUNCTION_INFO_V1(incetl_cow_storage_id);
PG_FUNCTION_INFO_V1(incetl_cow_commits);
PG_FUNCTION_INFO_V1(incetl_cow_table_stats);
PG_FUNCTION_INFO_V1(incetl_cow_table_options);

/*
 * CowOpenChecked opens relid with AccessShareLock after checking it is an
 * incetl_cow table the caller may SELECT.
 */
Relation
CowOpenChecked(Oid relid, AclMode mode)
{
	Relation	rel;
	AclResult	aclresult;

	rel = relation_open(relid, AccessShareLock);
	if (!CowIsCowRelation(rel))
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not an incetl_cow table",
						RelationGetRelationName(rel)),
				 errhint("Create it with CREATE TABLE ... USING incetl_cow.")));
	aclresult = pg_class_aclcheck(relid, GetUserId(), mode);
	if (aclresult != ACLCHECK_OK)
		aclcheck_error(aclresult, OBJECT_TABLE, RelationGetRelationName(rel));
	return rel;
}

Datum
incetl_cow_storage_id(PG_FUNCTION_ARGS)
{
	Relation	rel = CowOpenChecked(PG_GETARG_OID(0), ACL_SELECT);
	int64		id = CowStorageId(rel);

	relation_close(rel, AccessShareLock);
	PG_RETURN_INT64(id);
}

/*
 * incetl.commits(tbl): the timeline, oldest first.
 */
Datum
incetl_cow_commits(PG_FUNCTION_ARGS)
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

	catalog = table_open(CowCatalogRelid("cow_commit", false), AccessShareLock);
	ScanKeyInit(&key, 1, BTEqualStrategyNumber, F_INT8EQ, Int64GetDatum(storage_id));
	scan = systable_beginscan(catalog, InvalidOid, false, GetActiveSnapshot(), 1, &key);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
		rows = lappend(rows, heap_copytuple(tup));
	systable_endscan(scan);

	/* order by commit id: insertion sort on a list that is nearly sorted */
	{
		int			n = list_length(rows),
					i,
					j;
		HeapTuple  *arr = palloc(sizeof(HeapTuple) * Max(n, 1));
		TupleDesc	desc = RelationGetDescr(catalog);

		for (i = 0; i < n; i++)
			arr[i] = list_nth(rows, i);
		for (i = 1; i < n; i++)
		{
			bool		isnull;
			HeapTuple	t = arr[i];
			int64		c = DatumGetInt64(heap_getattr(t, 2, desc, &isnull));

			for (j = i; j > 0 &&
				 DatumGetInt64(heap_getattr(arr[j - 1], 2, desc, &isnull)) > c; j--)
				arr[j] = arr[j - 1];
			arr[j] = t;
		}
		for (i = 0; i < n; i++)
		{
			Datum		values[9];
			bool		nulls[9];

			heap_deform_tuple(arr[i], desc, values, nulls);
			/* drop storage_id */
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc,
								 values + 1, nulls + 1);
		}
	}
	foreach(lc, rows)
		heap_freetuple(lfirst(lc));
	table_close(catalog, AccessShareLock);
	return (Datum) 0;
}

/*
 * incetl.table_stats(tbl): one row about the current state.
 */
Datum
incetl_cow_table_stats(PG_FUNCTION_ARGS)
{
	Relation	rel = CowOpenChecked(PG_GETARG_OID(0), ACL_SELECT);
	int64		storage_id = CowStorageId(rel);
	int			n,
				i;
	CowVersion *v = CowLoadVersions(storage_id, GetActiveSnapshot(), false, &n);
	int64		groups = 0,
				rows = 0,
				raw = 0,
				bytes = 0,
				retained = 0,
				commits = 0,
				last_commit = 0;
	Relation	catalog;
	SysScanDesc scan;
	ScanKeyData key;
	HeapTuple	tup;
	TupleDesc	desc;
	Datum		values[9];
	bool		nulls[9];

	for (i = 0; i < n; i++)
	{
		if (v[i].superseded_by != 0)
		{
			retained++;
			continue;
		}
		groups++;
		rows += v[i].row_count;
		raw += v[i].raw_bytes;
		bytes += v[i].bytes;
	}
	catalog = table_open(CowCatalogRelid("cow_commit", false), AccessShareLock);
	ScanKeyInit(&key, 1, BTEqualStrategyNumber, F_INT8EQ, Int64GetDatum(storage_id));
	scan = systable_beginscan(catalog, InvalidOid, false, GetActiveSnapshot(), 1, &key);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		bool		isnull;
		int64		c = DatumGetInt64(heap_getattr(tup, 2, RelationGetDescr(catalog), &isnull));

		commits++;
		last_commit = Max(last_commit, c);
	}
	systable_endscan(scan);
	table_close(catalog, AccessShareLock);

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	desc = BlessTupleDesc(desc);
	memset(nulls, 0, sizeof(nulls));
	values[0] = Int64GetDatum(groups);
	values[1] = Int64GetDatum(rows);
	values[2] = Int64GetDatum(raw);
	values[3] = Int64GetDatum(bytes);
	if (bytes > 0)
		values[4] = DirectFunctionCall2(numeric_round,
										DirectFunctionCall2(numeric_div,
															NumericGetDatum(int64_to_numeric(raw)),
															NumericGetDatum(int64_to_numeric(bytes))),
										Int32GetDatum(2));
	else
		nulls[4] = true;
	values[5] = Int64GetDatum(retained);
	values[6] = Int64GetDatum(commits);
	values[7] = Int64GetDatum(last_commit);
	nulls[7] = (commits == 0);
	values[8] = Int64GetDatum((int64) RelationGetNumberOfBlocks(rel));
	relation_close(rel, AccessShareLock);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
}

/*
 * incetl.table_options(tbl): the options as set (no row when none are).
 */
Datum
incetl_cow_table_options(PG_FUNCTION_ARGS)
{
	Relation	rel = CowOpenChecked(PG_GETARG_OID(0), ACL_SELECT);
	Relation	catalog;
	SysScanDesc scan;
	ScanKeyData key;
	HeapTuple	tup;
	TupleDesc	desc;
	Datum		values[7];
	bool		nulls[7];
	Datum		result = (Datum) 0;
	bool		found = false;

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	desc = BlessTupleDesc(desc);
	catalog = table_open(CowCatalogRelid("cow_options", false), AccessShareLock);
	ScanKeyInit(&key, 1, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(RelationGetRelid(rel)));
	scan = systable_beginscan(catalog, InvalidOid, false, GetActiveSnapshot(), 1, &key);
	tup = systable_getnext(scan);
	if (HeapTupleIsValid(tup))
	{
		heap_deform_tuple(tup, RelationGetDescr(catalog), values, nulls);
		result = HeapTupleGetDatum(heap_form_tuple(desc, values + 1, nulls + 1));
		found = true;
	}
	systable_endscan(scan);
	table_close(catalog, AccessShareLock);
	relation_close(rel, AccessShareLock);
	if (!found)
		PG_RETURN_NULL();
	PG_RETURN_DATUM(result);
}
