/*-------------------------------------------------------------------------
 *
 * pipeline_validate.c
 *	  Everything create_pipeline and alter_pipeline check before a
 *	  definition is stored: relation and column names, the watermark type,
 *	  the transform (one SELECT, parsed and planned against the source),
 *	  the record key, precombine and delete marker in the transform's
 *	  output, privileges, and the target (created when missing, otherwise
 *	  checked by its target writer).  Also builds the batch query every run
 *	  executes, so that what was validated is exactly what runs.
 *
 * Copyright (c) 2026, incetl developers
 *
 * IDENTIFICATION
 *	  src/pipeline/pipeline_validate.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/table.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "parser/parser.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/varlena.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/regproc.h"

#include "incetl.h"

typedef struct NameContextArg
{
	const char *what;
	const char *value;
} NameContextArg;

static void name_error_context(void *arg);
static void transform_error_context(void *arg);
static char *ExtractTransformStatement(const char *transform, bool *ordered);

static void
name_error_context(void *arg)
{
	NameContextArg *a = (NameContextArg *) arg;

	errcontext("%s \"%s\"", a->what, a->value);
}

/*
 * transform_error_context reports errors raised while parsing a transform
 * against the transform's own text, as CREATE FUNCTION does for a body.
 */
static void
transform_error_context(void *arg)
{
	const char *transform = (const char *) arg;
	int			pos = geterrposition();

	if (pos > 0)
	{
		errposition(0);
		internalerrposition(pos);
		internalerrquery(transform);
	}
	errcontext("transform of the pipeline");
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
 * ExtractTransformStatement parses the transform and returns the text of
 * its one statement, which must be a plain SELECT (or VALUES, or a set
 * operation).  A syntax error is reported by the parser itself (42601).
 * Returning exactly the statement's text lets the run wrap it as a
 * subquery without a trailing semicolon or comment escaping the wrapper.
 */
static char *
ExtractTransformStatement(const char *transform, bool *ordered)
{
	ErrorContextCallback errcb;
	List	   *stmts;
	RawStmt    *raw;
	SelectStmt *select;

	errcb.callback = transform_error_context;
	errcb.arg = (void *) transform;
	errcb.previous = error_context_stack;
	error_context_stack = &errcb;
	stmts = raw_parser(transform, RAW_PARSE_DEFAULT);
	error_context_stack = errcb.previous;

	if (list_length(stmts) != 1)
		ereport(ERROR,
				(errcode(ERRCODE_SYNTAX_ERROR),
				 errmsg("transform must be a single SELECT statement"),
				 errdetail("The transform contains %d statements.", list_length(stmts))));
	raw = linitial_node(RawStmt, stmts);
	if (!IsA(raw->stmt, SelectStmt))
		ereport(ERROR,
				(errcode(ERRCODE_SYNTAX_ERROR),
				 errmsg("transform must be a SELECT statement"),
				 errhint("Write the transform as SELECT ... FROM batch.")));
	select = (SelectStmt *) raw->stmt;
	if (select->intoClause != NULL || select->lockingClause != NIL)
		ereport(ERROR,
				(errcode(ERRCODE_SYNTAX_ERROR),
				 errmsg("transform must be a plain SELECT"),
				 errdetail("SELECT INTO and locking clauses are not allowed.")));
	if (ordered)
		*ordered = select->sortClause != NIL;

	if (raw->stmt_len > 0)
		return pnstrdup(transform + raw->stmt_location, raw->stmt_len);
	return pstrdup(transform + raw->stmt_location);
}

void
IncetlCheckTransformSyntax(const char *transform)
{
	(void) ExtractTransformStatement(transform, NULL);
}

/*
 * IncetlTransformIsOrdered tells whether the transform orders its rows
 * (a top-level ORDER BY), which then decides which of two rows with the
 * same key and precombine value is the later one.
 */
bool
IncetlTransformIsOrdered(IncetlPipeline *pipeline)
{
	bool		ordered = false;

	if (pipeline->transform != NULL)
		(void) ExtractTransformStatement(pipeline->transform, &ordered);
	return ordered;
}

/*
 * IncetlBatchSqlFrom returns the SELECT that yields the transformed rows
 * of a batch: the rows of from_item that satisfy where_clause, named
 * "batch", seen through the transform.  The CTE is referenced once, so the
 * planner inlines it and pushes the watermark range into the source scan.
 */
char *
IncetlBatchSqlFrom(IncetlPipeline *pipeline, const char *from_item,
				   const char *where_clause)
{
	StringInfoData sql;

	initStringInfo(&sql);
	appendStringInfo(&sql, "WITH batch AS (SELECT * FROM %s WHERE %s)\n",
					 from_item, where_clause);
	if (pipeline->transform != NULL)
		appendStringInfo(&sql, "SELECT * FROM (\n%s\n) AS incetl_transform",
						 ExtractTransformStatement(pipeline->transform, NULL));
	else
		appendStringInfoString(&sql, "SELECT * FROM batch");
	return sql.data;
}

/* IncetlBatchSql is IncetlBatchSqlFrom over the source relation itself. */
char *
IncetlBatchSql(IncetlPipeline *pipeline, Oid source_relid,
			   const char *where_clause)
{
	return IncetlBatchSqlFrom(pipeline,
							  quote_qualified_identifier(get_namespace_name(get_rel_namespace(source_relid)),
														 get_rel_name(source_relid)),
							  where_clause);
}

/*
 * IncetlDescribeBatch plans the batch query over no rows and returns the
 * columns it yields.  Runs with the current user's privileges, so callers
 * switch to the pipeline owner first.
 */
TupleDesc
IncetlDescribeBatch(IncetlPipeline *pipeline, Oid source_relid)
{
	MemoryContext callercxt = CurrentMemoryContext;
	char	   *sql = IncetlBatchSql(pipeline, source_relid, "false");
	TupleDesc	desc;
	int			ret;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	ret = SPI_execute(psprintf("SELECT * FROM (%s) AS q LIMIT 0", sql), true, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "could not describe the batch of pipeline \"%s\"", pipeline->name);
	MemoryContextSwitchTo(callercxt);
	desc = CreateTupleDescCopy(SPI_tuptable->tupdesc);
	SPI_finish();
	return desc;
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
 * IncetlBatchColumnList renders the columns of the batch as a quoted,
 * comma separated list, in their order.
 */
char *
IncetlBatchColumnList(TupleDesc batch_desc)
{
	StringInfoData buf;

	initStringInfo(&buf);
	for (int i = 0; i < batch_desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(batch_desc, i);

		if (!att->attisdropped)
			appendStringInfo(&buf, "%s%s", buf.len > 0 ? ", " : "",
							 quote_identifier(NameStr(att->attname)));
	}
	return buf.data;
}

/*
 * IncetlCheckTargetColumns raises 42703 unless every column of the batch
 * exists in the target; the delete marker is exempt when marker_optional
 * (a heap target need not store it).
 */
void
IncetlCheckTargetColumns(IncetlPipeline *p, Oid target_relid,
						 TupleDesc batch_desc, bool marker_optional)
{
	for (int i = 0; i < batch_desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(batch_desc, i);
		const char *col = NameStr(att->attname);

		if (att->attisdropped)
			continue;
		if (marker_optional && p->delete_marker &&
			strcmp(col, p->delete_marker) == 0)
			continue;
		if (get_attnum(target_relid, col) == InvalidAttrNumber)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("column \"%s\" returned by the %s of pipeline \"%s\" does not exist in target %s",
							col, p->transform ? "transform" : "source", p->name, p->target),
					 errhint("Add the column to the target, or leave it out of the transform.")));
	}
}

/*
 * IncetlRangeClause is the watermark range of a batch: parameter $1 is the
 * committed watermark (absent on a full load), $2 the upper bound.
 */
char *
IncetlRangeClause(IncetlPipeline *p, bool has_from)
{
	const char *wm = quote_identifier(p->watermark_column);

	return has_from ? psprintf("%s > $1 AND %s <= $2", wm, wm) :
		psprintf("%s <= $2", wm);
}

/*
 * IncetlPlanWrite plans a target writer's statement over the batch query
 * build_sql is given (with both bounds NULL) by EXPLAIN, without running
 * it: types, columns, arbiters and privileges are checked as a run would.
 */
void
IncetlPlanWrite(IncetlPipeline *p, Oid target_relid, TupleDesc batch_desc,
				char *(*build_sql) (IncetlPipeline *, Oid, const char *, TupleDesc))
{
	Oid			argtypes[2] = {p->watermark_type, p->watermark_type};
	Datum		values[2] = {0, 0};
	char		nulls[2] = {'n', 'n'};
	char	   *batch_sql = IncetlBatchSql(p, IncetlResolveRelation(p->source, false),
										   IncetlRangeClause(p, true));

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args(psprintf("EXPLAIN (COSTS OFF) %s",
									   build_sql(p, target_relid, batch_sql, batch_desc)),
							  2, argtypes, values, nulls, false, 0) < 0)
		elog(ERROR, "could not plan the write of pipeline \"%s\"", p->name);
	SPI_finish();
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

static void
RequireBatchColumn(IncetlPipeline *p, TupleDesc desc, const char *col,
				   const char *role)
{
	if (IncetlTupleDescColumn(desc, col) < 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("%s column \"%s\" is not returned by the %s of pipeline \"%s\"",
						role, col, p->transform ? "transform" : "source", p->name),
				 p->transform ?
				 errhint("The transform must return the record key, precombine and delete marker columns.") : 0));
}

/*
 * IncetlValidatePipeline checks a complete definition, with the
 * privileges of its owner, and creates the target when it is missing and
 * create_target is set.  Raises the first problem found; writes nothing
 * but the target on success.
 */
void
IncetlValidatePipeline(IncetlPipeline *p, bool create_target)
{
	IncetlUserContext uctx;
	Oid			source_relid;
	Oid			target_relid;
	char		relkind;
	AttrNumber	wm_attno;
	TupleDesc	desc;
	AclResult	aclresult;
	const IncetlTargetWriter *writer;

	IncetlBecomeOwner(p, &uctx, true);
	IncetlCheckSettings(p);

	/* source */
	source_relid = IncetlResolveRelation(p->source, true);
	if (!OidIsValid(source_relid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("source relation %s of pipeline \"%s\" does not exist",
						p->source, p->name)));
	relkind = get_rel_relkind(source_relid);
	if (relkind != RELKIND_RELATION && relkind != RELKIND_PARTITIONED_TABLE &&
		relkind != RELKIND_VIEW && relkind != RELKIND_MATVIEW &&
		relkind != RELKIND_FOREIGN_TABLE)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("source %s of pipeline \"%s\" is not a table, view or foreign table",
						p->source, p->name)));
	aclresult = pg_class_aclcheck(source_relid, GetUserId(), ACL_SELECT);
	if (aclresult != ACLCHECK_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for source %s of pipeline \"%s\"",
						p->source, p->name),
				 errdetail("The pipeline owner %s needs SELECT on the source.",
						   GetUserNameFromId(p->owner, false))));

	/* watermark column */
	wm_attno = get_attnum(source_relid, p->watermark_column);
	if (wm_attno == InvalidAttrNumber)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("watermark column \"%s\" does not exist in %s",
						p->watermark_column, p->source)));
	p->watermark_type = get_atttype(source_relid, wm_attno);
	if (!IncetlIsWatermarkType(p->watermark_type))
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("watermark column \"%s\" of %s has type %s, which cannot be a watermark",
						p->watermark_column, p->source, format_type_be(p->watermark_type)),
				 errhint("Use a column of type timestamptz, timestamp, date, smallint, integer or bigint.")));
	if (!IncetlWatermarkIsTime(p->watermark_type) &&
		(p->safety_lag.time != 0 || p->safety_lag.day != 0 || p->safety_lag.month != 0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("safety_lag of pipeline \"%s\" needs a time watermark", p->name),
				 errdetail("The watermark column \"%s\" is %s.", p->watermark_column,
						   format_type_be(p->watermark_type))));

	/* transform: parsed, then planned over an empty batch */
	if (p->transform != NULL)
		IncetlCheckTransformSyntax(p->transform);
	desc = IncetlDescribeBatch(p, source_relid);

	{
		ListCell   *lc;

		foreach(lc, p->record_key)
			RequireBatchColumn(p, desc, (char *) lfirst(lc), "record key");
	}
	if (p->precombine)
		RequireBatchColumn(p, desc, p->precombine, "precombine");
	if (p->delete_marker)
	{
		int			i;

		RequireBatchColumn(p, desc, p->delete_marker, "delete marker");
		i = IncetlTupleDescColumn(desc, p->delete_marker);
		if (TupleDescAttr(desc, i)->atttypid != BOOLOID)
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("delete marker column \"%s\" of pipeline \"%s\" must be boolean, not %s",
							p->delete_marker, p->name,
							format_type_be(TupleDescAttr(desc, i)->atttypid))));
	}

	/* target */
	target_relid = IncetlResolveRelation(p->target, true);
	if (!OidIsValid(target_relid))
	{
		if (!create_target)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_TABLE),
					 errmsg("target relation %s of pipeline \"%s\" does not exist",
							p->target, p->name)));
		target_relid = IncetlCreateTarget(p, desc);
	}
	relkind = get_rel_relkind(target_relid);
	if (relkind != RELKIND_RELATION && relkind != RELKIND_PARTITIONED_TABLE)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("target %s of pipeline \"%s\" is not a table",
						p->target, p->name)));
	aclresult = pg_class_aclcheck(target_relid, GetUserId(),
								  ACL_INSERT | ACL_UPDATE |
								  (p->delete_marker ? ACL_DELETE : 0));
	if (aclresult != ACLCHECK_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for target %s of pipeline \"%s\"",
						p->target, p->name),
				 errdetail("The pipeline owner %s needs INSERT and UPDATE%s on the target.",
						   GetUserNameFromId(p->owner, false),
						   p->delete_marker ? " and DELETE" : "")));

	writer = IncetlGetTargetWriter(target_relid);
	writer->validate(p, target_relid, desc);

	IncetlRestoreUser(&uctx);
}
