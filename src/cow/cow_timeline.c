/*-------------------------------------------------------------------------
 *
 * cow_timeline.c
 *	  SQL-callable functions over the timeline of incetl_cow tables.
 *
 * incetl.commits() itself is SQL over incetl.cow_commit; the C here finds
 * a table's storage id after checking the caller may read the table.
 *
 * Copyright (c) 2026, incetl authors
 *
 * IDENTIFICATION
 *	  src/cow/cow_timeline.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/relation.h"
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
PG_FUNCTION_INFO_V1(incetl_cow_validate_options);

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
 * incetl_cow_validate_options loads a table's options as the caller's
 * snapshot sees them and checks every column they name.
 */
Datum
incetl_cow_validate_options(PG_FUNCTION_ARGS)
{
	Relation	rel = CowOpenChecked(PG_GETARG_OID(0), ACL_SELECT);
	TupleDesc	desc = RelationGetDescr(rel);
	CowOptions	opts;
	int			i,
				j;

	CowLoadOptions(rel, GetActiveSnapshot(), &opts);
	for (i = 0; i < opts.nkeys; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, opts.key_attnums[i] - 1);

		for (j = 0; j < i; j++)
			if (opts.key_attnums[j] == opts.key_attnums[i])
				ereport(ERROR,
						(errcode(ERRCODE_DUPLICATE_COLUMN),
						 errmsg("record key column \"%s\" of \"%s\" is listed twice",
								NameStr(att->attname), RelationGetRelationName(rel))));
		if (!OidIsValid(lookup_type_cache(att->atttypid, TYPECACHE_LT_OPR)->lt_opr))
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("record key column \"%s\" of \"%s\" has type %s, which cannot be sorted",
							NameStr(att->attname), RelationGetRelationName(rel),
							format_type_be(att->atttypid))));
	}
	if (opts.nkeys > INDEX_MAX_KEYS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("a record key has at most %d columns", INDEX_MAX_KEYS)));
	if (opts.precombine_attnum != InvalidAttrNumber)
	{
		Form_pg_attribute att = TupleDescAttr(desc, opts.precombine_attnum - 1);

		if (!OidIsValid(lookup_type_cache(att->atttypid, TYPECACHE_LT_OPR)->lt_opr))
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("precombine column \"%s\" of \"%s\" has type %s, which cannot be compared",
							NameStr(att->attname), RelationGetRelationName(rel),
							format_type_be(att->atttypid))));
	}
	if (opts.delete_marker_attnum != InvalidAttrNumber)
	{
		Form_pg_attribute att = TupleDescAttr(desc, opts.delete_marker_attnum - 1);

		if (att->atttypid != BOOLOID)
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("delete marker column \"%s\" of \"%s\" must be boolean, not %s",
							NameStr(att->attname), RelationGetRelationName(rel),
							format_type_be(att->atttypid))));
	}
	relation_close(rel, AccessShareLock);
	PG_RETURN_VOID();
}
