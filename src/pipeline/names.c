/*-------------------------------------------------------------------------
 *
 * names.c
 *	  Names in pipeline definitions: relation and column names given by
 *	  users, parsed as SQL identifiers (never pasted into SQL), resolved,
 *	  and quoted again for the statements incetl builds.
 *
 *	  The lowest layer of src/pipeline: it calls nothing of incetl's.
 *
 * Copyright (c) 2026, incetl developers
 *
 * IDENTIFICATION
 *	  src/pipeline/names.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "lib/stringinfo.h"
#include "nodes/makefuncs.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/regproc.h"
#include "utils/varlena.h"

#include "incetl.h"

typedef struct NameContextArg
{
	const char *what;
	const char *value;
} NameContextArg;

static void name_error_context(void *arg);

static void
name_error_context(void *arg)
{
	NameContextArg *a = (NameContextArg *) arg;

	errcontext("%s \"%s\"", a->what, a->value);
}

/*
 * IncetlResolveRelation looks a stored, quoted qualified name up.
 */
Oid
IncetlResolveRelation(const char *qualified_name, bool missing_ok)
{
	RangeVar   *rv;

	rv = makeRangeVarFromNameList(stringToQualifiedNameList(qualified_name));
	return RangeVarGetRelid(rv, NoLock, missing_ok);
}

/*
 * IncetlNormalizeRelationName parses a user-given relation name and
 * returns its schema-qualified, quoted form.  *relid is set to the
 * relation's OID, or InvalidOid when it does not exist (then the schema
 * is the one CREATE TABLE would use, and must exist).
 */
char *
IncetlNormalizeRelationName(const char *name, const char *what, Oid *relid)
{
	ErrorContextCallback errcb;
	NameContextArg arg = {what, name};
	RangeVar   *rv;
	char	   *result;

	errcb.callback = name_error_context;
	errcb.arg = &arg;
	errcb.previous = error_context_stack;
	error_context_stack = &errcb;

	if (name == NULL || name[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_NAME),
				 errmsg("%s must be a relation name", what)));

	/* raises 42602 "invalid name syntax" for anything but an identifier chain */
	rv = makeRangeVarFromNameList(stringToQualifiedNameList(name));
	*relid = RangeVarGetRelid(rv, NoLock, true);
	if (OidIsValid(*relid))
		result = quote_qualified_identifier(get_namespace_name(get_rel_namespace(*relid)),
											get_rel_name(*relid));
	else
	{
		Oid			nspid = RangeVarGetCreationNamespace(rv);

		result = quote_qualified_identifier(get_namespace_name(nspid), rv->relname);
	}

	error_context_stack = errcb.previous;
	return result;
}

/*
 * IncetlParseColumnList splits a comma-separated list of column names the
 * way PostgreSQL does (quoted identifiers keep their case, others are
 * folded to lower case) and returns the actual names.
 */
List *
IncetlParseColumnList(const char *value, const char *what)
{
	List	   *names = NIL;
	List	   *result = NIL;
	ListCell   *lc;

	if (value == NULL || !SplitIdentifierString(pstrdup(value), ',', &names) ||
		names == NIL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_NAME),
				 errmsg("invalid %s: \"%s\"", what, value ? value : ""),
				 errhint("Give one or more column names separated by commas; "
						 "double-quote names that are not plain identifiers.")));
	foreach(lc, names)
	{
		char	   *col = (char *) lfirst(lc);

		if (col[0] == '\0')
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_NAME),
					 errmsg("invalid %s: \"%s\"", what, value)));
		result = lappend(result, pstrdup(col));
	}
	return result;
}

/*
 * IncetlParseColumnName parses a single column name.
 */
char *
IncetlParseColumnName(const char *value, const char *what)
{
	List	   *names = IncetlParseColumnList(value, what);

	if (list_length(names) != 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_NAME),
				 errmsg("invalid %s: \"%s\"", what, value),
				 errdetail("Exactly one column name is expected.")));
	return (char *) linitial(names);
}

/*
 * IncetlNameList renders a list of column names as a quoted, comma
 * separated list ("a, \"B\"").
 */
char *
IncetlNameList(List *names)
{
	StringInfoData buf;
	ListCell   *lc;

	initStringInfo(&buf);
	foreach(lc, names)
		appendStringInfo(&buf, "%s%s", buf.len > 0 ? ", " : "",
						 quote_identifier((char *) lfirst(lc)));
	return buf.data;
}

/*
 * IncetlTupleDescColumn returns the 0-based position of a column in a
 * tuple descriptor, or -1.
 */
int
IncetlTupleDescColumn(TupleDesc desc, const char *name)
{
	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (!att->attisdropped && strcmp(NameStr(att->attname), name) == 0)
			return i;
	}
	return -1;
}
