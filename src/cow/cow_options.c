/*-------------------------------------------------------------------------
 *
 * cow_options.c
 *	  incetl.set_table_options(): record key, precombine field, delete
 *	  marker, file group size, zstd level and retention of a table.
 *
 * Only the table's owner may change them.  The row in incetl.cow_options
 * is keyed by regclass and names its columns, so pg_dump dumps it as text
 * and pg_restore re-resolves it against the restored table (see
 * incetl_cow_options_loaded below); RENAME COLUMN renames the option
 * columns too (CowRenameOptionColumn).  The row
 * is written under the table's writers' lock (CowExcludeWriters), the lock
 * writers take to merge, so a change never lands in the middle of a merge.  The
 * file groups of a table that holds rows are sorted and partitioned by its
 * record key, so a new key rewrites them (CowRewriteTable): sorted by the
 * new key, duplicates collapsed.
 *
 * Copyright (c) 2026, incetl authors
 *
 * IDENTIFICATION
 *	  src/cow/cow_options.c
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
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "parser/scansup.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/typcache.h"

#include "cow/maintenance.h"

PG_FUNCTION_INFO_V1(incetl_cow_set_table_options);
PG_FUNCTION_INFO_V1(incetl_cow_options_loaded);

#define Natts_opt 7

static char *CowTrimmed(const char *s);
static List *CowParseNames(Relation rel, const char *spec, const char *what);
static char *CowParseName(Relation rel, const char *spec, const char *what);
static AttrNumber CowCheckColumn(Relation rel, const char *name, const char *role);
static Datum CowColumnNameDatum(Relation rel, AttrNumber attnum);

/*
 * CowParseNames splits a comma-separated list of column names of rel, as
 * the pipeline functions read theirs: a name in double quotes is taken as
 * written ("" for a quote), an unquoted one folded to lower case like any
 * SQL identifier -- unless the table has a column of exactly that
 * spelling, which is how incetl 0.1 read every name.  An empty element
 * ("a,,b", ",") is an error; a list with nothing in it is NIL.
 */
static List *
CowParseNames(Relation rel, const char *spec, const char *what)
{
	const char *c = spec;
	List	   *names = NIL;

	while (*c == ' ' || *c == '\t' || *c == '\n')
		c++;
	if (*c == '\0')
		return NIL;
	for (;;)
	{
		StringInfoData tok;

		initStringInfo(&tok);
		while (*c == ' ' || *c == '\t' || *c == '\n')
			c++;
		if (*c == '"')
		{
			for (c++;; c++)
			{
				if (*c == '\0')
					ereport(ERROR,
							(errcode(ERRCODE_INVALID_NAME),
							 errmsg("invalid %s \"%s\": unterminated quoted name",
									what, spec)));
				if (*c == '"' && c[1] != '"')
					break;
				if (*c == '"')
					c++;
				appendStringInfoChar(&tok, *c);
			}
			c++;
		}
		else
		{
			const char *start = c;
			char	   *raw;

			while (*c != '\0' && *c != ',')
				c++;
			raw = CowTrimmed(pnstrdup(start, c - start));
			if (get_attnum(RelationGetRelid(rel), raw) > 0)
				appendStringInfoString(&tok, raw);
			else
				appendStringInfoString(&tok,
									   downcase_truncate_identifier(raw, strlen(raw), false));
		}
		if (tok.len == 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_NAME),
					 errmsg("invalid %s \"%s\": an empty column name", what, spec),
					 errhint("Give one or more column names separated by commas; double-quote names that are not plain identifiers. An empty string clears the option.")));
		names = lappend(names, tok.data);
		while (*c == ' ' || *c == '\t' || *c == '\n')
			c++;
		if (*c == '\0')
			return names;
		if (*c != ',')
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_NAME),
					 errmsg("invalid %s \"%s\"", what, spec),
					 errhint("Give one or more column names separated by commas; double-quote names that are not plain identifiers.")));
		c++;
	}
}

/*
 * CowParseName is CowParseNames for an option of one column; NULL when
 * spec is empty (the option is cleared).
 */
static char *
CowParseName(Relation rel, const char *spec, const char *what)
{
	List	   *names = CowParseNames(rel, spec, what);

	if (list_length(names) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_NAME),
				 errmsg("invalid %s \"%s\": one column, not %d",
						what, spec, list_length(names))));
	return names ? linitial(names) : NULL;
}

static char *
CowTrimmed(const char *s)
{
	char	   *r = pstrdup(s);
	char	   *end;

	while (*r == ' ' || *r == '\t' || *r == '\n')
		r++;
	end = r + strlen(r);
	while (end > r && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\n'))
		*--end = '\0';
	return r;
}

static AttrNumber
CowCheckColumn(Relation rel, const char *name, const char *role)
{
	AttrNumber	attnum = get_attnum(RelationGetRelid(rel), name);

	if (attnum <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("%s column \"%s\" of \"%s\" does not exist",
						role, name, RelationGetRelationName(rel))));
	return attnum;
}

/* the column's name as a name datum (options name their columns) */
static Datum
CowColumnNameDatum(Relation rel, AttrNumber attnum)
{
	Name		n = (Name) palloc0(NAMEDATALEN);

	namestrcpy(n, NameStr(TupleDescAttr(RelationGetDescr(rel), attnum - 1)->attname));
	return NameGetDatum(n);
}

Datum
incetl_cow_set_table_options(PG_FUNCTION_ARGS)
{
	Oid			relid;
	Relation	rel;
	Relation	catalog;
	SysScanDesc scan;
	ScanKeyData key;
	HeapTuple	oldtup;
	HeapTuple	newtup;
	Datum		values[Natts_opt];
	bool		nulls[Natts_opt];
	TupleDesc	desc;
	Snapshot	snap;
	int			i;
	bool		rekey = false;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("table must not be NULL")));
	relid = PG_GETARG_OID(0);

	/* a new record key rewrites the table, as a writer does */
	rel = relation_open(relid, RowExclusiveLock);
	CowCheckCowRelation(rel);
	if (!pg_class_ownercheck(relid, GetUserId()))
		aclcheck_error(ACLCHECK_NOT_OWNER, OBJECT_TABLE, RelationGetRelationName(rel));
	/* the writers' merge lock: no merge runs while options change */
	(void) CowExcludeWriters(rel, false);

	snap = RegisterSnapshot(GetLatestSnapshot());
	catalog = table_open(CowCatalogRelid("cow_options", false), RowExclusiveLock);
	CowCheckOptionsCatalog(catalog);
	desc = RelationGetDescr(catalog);
	ScanKeyInit(&key, 1, BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(relid));
	scan = CowCatalogScan(catalog, snap, &key);
	oldtup = systable_getnext(scan);
	if (HeapTupleIsValid(oldtup))
	{
		oldtup = heap_copytuple(oldtup);
		heap_deform_tuple(oldtup, desc, values, nulls);
	}
	else
	{
		values[0] = ObjectIdGetDatum(relid);
		nulls[0] = false;
		nulls[1] = nulls[2] = nulls[3] = true;
		values[4] = Int32GetDatum(COW_DEFAULT_FILE_GROUP_ROWS);
		values[5] = Int32GetDatum(COW_DEFAULT_COMPRESSION);
		values[6] = Int32GetDatum(COW_DEFAULT_RETAIN_COMMITS);
		nulls[4] = nulls[5] = nulls[6] = false;
	}
	systable_endscan(scan);

	/*
	 * NULL leaves an option unchanged; '' clears a column option.  Columns
	 * are stored by name (the catalog's spelling).
	 */
	if (!PG_ARGISNULL(1))
	{
		char	   *spec = text_to_cstring(PG_GETARG_TEXT_PP(1));
		Datum		elems[INDEX_MAX_KEYS];
		AttrNumber	attnums[INDEX_MAX_KEYS];
		int			n = 0,
					j;
		bool		changed;
		ArrayType  *arr = NULL;
		ListCell   *lc;

		foreach(lc, CowParseNames(rel, spec, "record key"))
		{
			char	   *name = lfirst(lc);
			AttrNumber	a;
			Form_pg_attribute att;

			if (n >= INDEX_MAX_KEYS)
				ereport(ERROR,
						(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
						 errmsg("a record key has at most %d columns", INDEX_MAX_KEYS)));
			a = CowCheckColumn(rel, name, "record key");
			att = TupleDescAttr(RelationGetDescr(rel), a - 1);
			for (j = 0; j < n; j++)
				if (attnums[j] == a)
					ereport(ERROR,
							(errcode(ERRCODE_DUPLICATE_COLUMN),
							 errmsg("record key column \"%s\" of \"%s\" is listed twice",
									name, RelationGetRelationName(rel))));
			if (!OidIsValid(lookup_type_cache(att->atttypid, TYPECACHE_LT_OPR)->lt_opr))
				ereport(ERROR,
						(errcode(ERRCODE_DATATYPE_MISMATCH),
						 errmsg("record key column \"%s\" of \"%s\" has type %s, which cannot be sorted",
								name, RelationGetRelationName(rel),
								format_type_be(att->atttypid))));
			attnums[n] = a;
			elems[n++] = CowColumnNameDatum(rel, a);
		}
		if (n > 0)
			arr = construct_array(elems, n, NAMEOID, NAMEDATALEN, false, TYPALIGN_CHAR);

		if (nulls[1] || arr == NULL)
			changed = !(nulls[1] && arr == NULL);
		else
		{
			Datum	   *old_elems;
			bool	   *old_nulls;
			int			nold;

			deconstruct_array(DatumGetArrayTypeP(values[1]), NAMEOID, NAMEDATALEN,
							  false, TYPALIGN_CHAR, &old_elems, &old_nulls, &nold);
			changed = (nold != n);
			for (i = 0; !changed && i < nold; i++)
				changed = strcmp(NameStr(*DatumGetName(old_elems[i])),
								 NameStr(*DatumGetName(elems[i]))) != 0;
		}
		rekey = changed;
		nulls[1] = (arr == NULL);
		values[1] = PointerGetDatum(arr);
	}
	if (!PG_ARGISNULL(2))
	{
		char	   *name = CowParseName(rel, text_to_cstring(PG_GETARG_TEXT_PP(2)),
										"precombine");

		nulls[2] = (name == NULL);
		values[2] = (Datum) 0;
		if (!nulls[2])
		{
			AttrNumber	a = CowCheckColumn(rel, name, "precombine");
			Form_pg_attribute att = TupleDescAttr(RelationGetDescr(rel), a - 1);

			if (!OidIsValid(lookup_type_cache(att->atttypid, TYPECACHE_LT_OPR)->lt_opr))
				ereport(ERROR,
						(errcode(ERRCODE_DATATYPE_MISMATCH),
						 errmsg("precombine column \"%s\" of \"%s\" has type %s, which cannot be compared",
								name, RelationGetRelationName(rel),
								format_type_be(att->atttypid))));
			values[2] = CowColumnNameDatum(rel, a);
		}
	}
	if (!PG_ARGISNULL(3))
	{
		char	   *name = CowParseName(rel, text_to_cstring(PG_GETARG_TEXT_PP(3)),
										"delete marker");

		nulls[3] = (name == NULL);
		values[3] = (Datum) 0;
		if (!nulls[3])
		{
			AttrNumber	a = CowCheckColumn(rel, name, "delete marker");
			Form_pg_attribute att = TupleDescAttr(RelationGetDescr(rel), a - 1);

			if (att->atttypid != BOOLOID)
				ereport(ERROR,
						(errcode(ERRCODE_DATATYPE_MISMATCH),
						 errmsg("delete marker column \"%s\" of \"%s\" must be boolean, not %s",
								name, RelationGetRelationName(rel),
								format_type_be(att->atttypid))));
			values[3] = CowColumnNameDatum(rel, a);
		}
	}
	if (!PG_ARGISNULL(4))
	{
		if (PG_GETARG_INT32(4) < 1)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("file_group_rows must be at least 1, not %d", PG_GETARG_INT32(4))));
		values[4] = PG_GETARG_DATUM(4);
	}
	if (!PG_ARGISNULL(5))
	{
		if (PG_GETARG_INT32(5) < 1 || PG_GETARG_INT32(5) > 22)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("compression_level must be between 1 and 22, not %d",
							PG_GETARG_INT32(5))));
		values[5] = PG_GETARG_DATUM(5);
	}
	if (!PG_ARGISNULL(6))
	{
		if (PG_GETARG_INT32(6) < 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("retain_commits must not be negative, not %d",
							PG_GETARG_INT32(6))));
		values[6] = PG_GETARG_DATUM(6);
	}
	if (nulls[1] && (!nulls[2] || !nulls[3]))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("precombine and delete_marker of \"%s\" need a record_key",
						RelationGetRelationName(rel)),
				 errhint("Set record_key as well.")));

	newtup = heap_form_tuple(desc, values, nulls);
	if (HeapTupleIsValid(oldtup))
	{
		newtup->t_self = oldtup->t_self;
		CatalogTupleUpdate(catalog, &oldtup->t_self, newtup);
	}
	else
		CatalogTupleInsert(catalog, newtup);
	table_close(catalog, RowExclusiveLock);
	UnregisterSnapshot(snap);

	/*
	 * A new record key: rows already stored are sorted and partitioned by
	 * the old one (or by none), so rewrite them, collapsing duplicates of
	 * the new key.  We hold the writers' lock already.
	 */
	if (rekey)
	{
		CommandCounterIncrement();
		CowRewriteTable(rel);
	}
	relation_close(rel, NoLock);
	PG_RETURN_VOID();
}

/*
 * CowRenameOptionColumn follows ALTER TABLE ... RENAME COLUMN: the options
 * of relid that name oldname name newname afterwards.  Called by the
 * ProcessUtility hook for the renamed table and every table inheriting
 * the column.
 */
void
CowRenameOptionColumn(Oid relid, const char *oldname, const char *newname)
{
	Oid			catrelid = CowCatalogRelid("cow_options", true);
	Relation	catalog;
	SysScanDesc scan;
	ScanKeyData key;
	HeapTuple	tup;
	HeapTuple	newtup = NULL;
	int			i;

	if (!OidIsValid(catrelid))
		return;
	catalog = table_open(catrelid, RowExclusiveLock);
	CowCheckOptionsCatalog(catalog);
	ScanKeyInit(&key, 1, BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(relid));
	scan = CowCatalogScan(catalog, NULL, &key);
	tup = systable_getnext(scan);
	if (HeapTupleIsValid(tup))
	{
		TupleDesc	desc = RelationGetDescr(catalog);
		Datum		values[Natts_opt];
		bool		nulls[Natts_opt];
		bool		changed = false;
		Datum		newname_datum;

		newname_datum = NameGetDatum((Name) palloc0(NAMEDATALEN));
		namestrcpy(DatumGetName(newname_datum), newname);
		heap_deform_tuple(tup, desc, values, nulls);
		if (!nulls[1])
		{
			Datum	   *elems;
			bool	   *enulls;
			int			n;

			deconstruct_array(DatumGetArrayTypeP(values[1]), NAMEOID, NAMEDATALEN,
							  false, TYPALIGN_CHAR, &elems, &enulls, &n);
			for (i = 0; i < n; i++)
				if (strcmp(NameStr(*DatumGetName(elems[i])), oldname) == 0)
				{
					elems[i] = newname_datum;
					changed = true;
				}
			values[1] = PointerGetDatum(construct_array(elems, n, NAMEOID, NAMEDATALEN,
														false, TYPALIGN_CHAR));
		}
		for (i = 2; i <= 3; i++)
			if (!nulls[i] && strcmp(NameStr(*DatumGetName(values[i])), oldname) == 0)
			{
				values[i] = newname_datum;
				changed = true;
			}
		if (changed)
		{
			newtup = heap_form_tuple(desc, values, nulls);
			newtup->t_self = tup->t_self;
		}
	}
	systable_endscan(scan);
	if (newtup != NULL)
		CatalogTupleUpdate(catalog, &newtup->t_self, newtup);
	table_close(catalog, RowExclusiveLock);
}

/*
 * incetl_cow_options_loaded: AFTER INSERT OR UPDATE row trigger of
 * incetl.cow_options.  set_table_options() writes the catalog directly
 * (no trigger fires), so this runs only for rows written by SQL: in
 * practice pg_restore's COPY of the extension's configuration data.
 *
 * pg_restore loads the table's rows and the options row in no fixed
 * order.  Rows loaded first were appended without a key; once the key
 * arrives the table is rewritten by it, exactly as set_table_options()
 * does for a new key (the dumped rows are unique per key, so nothing is
 * collapsed).  Rows loaded after the options are upserts into a table
 * that already has its key, which for unique rows is the same as
 * appending.  The table must be an incetl_cow table; an option column
 * that does not exist (the option was already broken in the dumped
 * database) draws a WARNING and no rewrite, and writes fail until the
 * options are set again, as they did before the dump.
 */
Datum
incetl_cow_options_loaded(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	HeapTuple	tup;
	TupleDesc	desc;
	Datum		values[Natts_opt];
	bool		nulls[Natts_opt];
	Oid			relid;
	Relation	rel;
	bool		rekey;
	bool		resolved = true;
	int			i;

	if (!CALLED_AS_TRIGGER(fcinfo) ||
		!TRIGGER_FIRED_AFTER(trigdata->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(trigdata->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("incetl.cow_options_loaded() must be an AFTER ROW trigger")));
	CowCheckOptionsCatalog(trigdata->tg_relation);
	desc = RelationGetDescr(trigdata->tg_relation);
	tup = TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event) ?
		trigdata->tg_newtuple : trigdata->tg_trigtuple;
	heap_deform_tuple(tup, desc, values, nulls);
	relid = DatumGetObjectId(values[0]);

	rel = try_relation_open(relid, RowExclusiveLock);
	if (rel == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("incetl.cow_options names a table that does not exist (oid %u)",
						relid)));
	if (!CowIsCowRelation(rel))
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not an incetl_cow table", RelationGetRelationName(rel)),
				 errdetail("Rows of incetl.cow_options are for incetl_cow tables only.")));
	/* the writers' merge lock, held to commit, as set_table_options() */
	(void) CowExcludeWriters(rel, false);

	/* every option column must exist in the (restored) table */
	if (!nulls[1])
	{
		Datum	   *elems;
		bool	   *enulls;
		int			n;

		deconstruct_array(DatumGetArrayTypeP(values[1]), NAMEOID, NAMEDATALEN,
						  false, TYPALIGN_CHAR, &elems, &enulls, &n);
		for (i = 0; i < n; i++)
			if (enulls[i] ||
				!CowOptionColumn(rel, NameStr(*DatumGetName(elems[i])), "record key", true))
				resolved = false;
	}
	for (i = 2; i <= 3; i++)
		if (!nulls[i] &&
			!CowOptionColumn(rel, NameStr(*DatumGetName(values[i])), "option", true))
			resolved = false;
	if (!resolved)
	{
		ereport(WARNING,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("the options of \"%s\" name a column it does not have",
						RelationGetRelationName(rel)),
				 errhint("Set the table options again with incetl.set_table_options().")));
		relation_close(rel, NoLock);
		return PointerGetDatum(NULL);
	}

	/* a new record key (or none any more): rewrite the rows stored */
	if (TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event))
	{
		bool		oldnull;
		Datum		oldkey = heap_getattr(trigdata->tg_trigtuple, 2, desc, &oldnull);

		rekey = (oldnull != nulls[1]) ||
			(!oldnull && !datumIsEqual(oldkey, values[1], false, -1)) ||
			DatumGetObjectId(heap_getattr(trigdata->tg_trigtuple, 1, desc, &oldnull)) != relid;
	}
	else
		rekey = !nulls[1];
	if (rekey)
	{
		CommandCounterIncrement();
		CowRewriteTable(rel);
	}
	relation_close(rel, NoLock);
	return PointerGetDatum(NULL);
}
