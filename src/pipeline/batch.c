/*-------------------------------------------------------------------------
 *
 * batch.c
 *	  Extracting a batch: the transform (one SELECT over the relation
 *	  "batch"), the batch query every run executes -- the source rows in
 *	  the watermark range, seen through the transform -- and the columns it
 *	  yields, and running a statement over the batch under the run's
 *	  snapshot.  create_pipeline validates exactly the query a run
 *	  executes.
 *
 *	  Uses names.c (and asks the incetl_cow layer whether the source is
 *	  one of its tables: then the batch is read by commit id).  A pipeline
 *	  without a watermark column ("feed mode") reads its incetl_cow source
 *	  through incetl.net_changes(): batch is then the net change of every
 *	  key, with the column _incetl_deleted, and batch_before the rows the
 *	  changes replaced or deleted.
 *
 * Copyright (c) 2026, incetl developers
 *
 * IDENTIFICATION
 *	  src/pipeline/batch.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_class.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "nodes/parsenodes.h"
#include "parser/parser.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

#include "cow.h"
#include "incetl.h"

static void transform_error_context(void *arg);
static char *ExtractTransformStatement(const char *transform, bool *ordered);
static void AppendTransform(IncetlPipeline *pipeline, StringInfo sql);

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
 * A pipeline in feed mode has no watermark column: its source is an
 * incetl_cow table read through incetl.net_changes(), the commit id its
 * watermark.
 */
bool
IncetlFeedMode(IncetlPipeline *pipeline)
{
	return pipeline->watermark_column == NULL;
}

/*
 * IncetlDeleteMarker is the column of the transform's output whose true
 * value deletes the target row of its key: the pipeline's delete_marker,
 * or in feed mode the batch's own _incetl_deleted; NULL when none.
 */
const char *
IncetlDeleteMarker(IncetlPipeline *pipeline)
{
	if (pipeline->delete_marker != NULL)
		return pipeline->delete_marker;
	return IncetlFeedMode(pipeline) ? INCETL_FEED_MARKER : NULL;
}

/*
 * IncetlFeedSql is the FROM item of a feed-mode batch: the net change of
 * every key of the source between commits lower and upper (SQL
 * expressions, "$1" and "$2" in a run).
 */
char *
IncetlFeedSql(Oid source_relid, const char *lower, const char *upper)
{
	return psprintf("incetl.net_changes(NULL::%s, %s, %s)",
					quote_qualified_identifier(get_namespace_name(get_rel_namespace(source_relid)),
											   get_rel_name(source_relid)),
					lower, upper);
}

/*
 * IncetlFeedBatchSql returns the SELECT that yields the transformed rows
 * of a feed-mode batch.  The transform sees two relations:
 *
 *	batch			one row per changed key: the source's columns as the row
 *					is after the change (as it was, for a deleted key) and
 *					_incetl_deleted, true for a deleted key;
 *	batch_before	the rows as they were before the change, of every
 *					updated or deleted key (the source's columns only).
 *
 * The feed is read once (a CTE referenced twice is materialized).
 */
char *
IncetlFeedBatchSql(IncetlPipeline *pipeline, Oid source_relid,
				   const char *lower, const char *upper, const char *where_clause)
{
	StringInfoData sql;

	initStringInfo(&sql);
	appendStringInfo(&sql,
					 "WITH incetl_feed AS (SELECT * FROM %s AS c WHERE %s),\n"
					 "batch AS (SELECT (COALESCE(c.after, c.before)).*, "
					 "c.operation OPERATOR(pg_catalog.=) 'delete' AS %s FROM incetl_feed AS c),\n"
					 "batch_before AS (SELECT (c.before).* FROM incetl_feed AS c "
					 "WHERE c.operation OPERATOR(pg_catalog.<>) 'insert')\n",
					 IncetlFeedSql(source_relid, lower, upper), where_clause,
					 INCETL_FEED_MARKER);
	AppendTransform(pipeline, &sql);
	return sql.data;
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
	AppendTransform(pipeline, &sql);
	return sql.data;
}

/* Append the transform over "batch" (or "batch" itself) to sql. */
static void
AppendTransform(IncetlPipeline *pipeline, StringInfo sql)
{
	if (pipeline->transform != NULL)
		appendStringInfo(sql, "SELECT * FROM (\n%s\n) AS incetl_transform",
						 ExtractTransformStatement(pipeline->transform, NULL));
	else
		appendStringInfoString(sql, "SELECT * FROM batch");
}

/*
 * IncetlBatchSql is IncetlBatchSqlFrom over the source relation itself,
 * or in feed mode IncetlFeedBatchSql with the bounds $1 and $2.
 */
char *
IncetlBatchSql(IncetlPipeline *pipeline, Oid source_relid,
			   const char *where_clause)
{
	if (IncetlFeedMode(pipeline))
		return IncetlFeedBatchSql(pipeline, source_relid, "$1", "$2", where_clause);
	return IncetlBatchSqlFrom(pipeline,
							  quote_qualified_identifier(get_namespace_name(get_rel_namespace(source_relid)),
														 get_rel_name(source_relid)),
							  where_clause);
}

/*
 * IncetlDescribeSql is the batch query over no rows, without parameters:
 * what describing the batch and creating a target plan.  The feed is
 * never called (the planner folds the range to a one-time false filter).
 */
char *
IncetlDescribeSql(IncetlPipeline *pipeline, Oid source_relid)
{
	if (IncetlFeedMode(pipeline))
		return IncetlFeedBatchSql(pipeline, source_relid, "NULL::pg_catalog.int8",
								  "NULL::pg_catalog.int8", "false");
	return IncetlBatchSql(pipeline, source_relid, "false");
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
	char	   *sql = IncetlDescribeSql(pipeline, source_relid);
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
 * IncetlRangeClause is the watermark range of a batch: parameter $1 is the
 * committed watermark (absent on a full load), $2 the upper bound.  In
 * feed mode the feed itself is bounded: every row of it is in range.
 */
char *
IncetlRangeClause(IncetlPipeline *p, bool has_from)
{
	const char *wm;

	if (IncetlFeedMode(p))
		return "true";			/* the bounds are the feed's arguments */
	wm = quote_identifier(p->watermark_column);
	return has_from ? psprintf("%s > $1 AND %s <= $2", wm, wm) :
		psprintf("%s <= $2", wm);
}

/* Is relid an incetl_cow table? */
bool
IncetlRelationIsCow(Oid relid)
{
	bool		cow;

	/*
	 * Locked as opening it would lock it (a concurrent change of its access
	 * method is waited for, and seen), but read from its pg_class row: an
	 * empty run need not build the target's relcache entry.
	 */
	LockRelationOid(relid, AccessShareLock);
	cow = CowRelidIsCow(relid);
	UnlockRelationOid(relid, AccessShareLock);
	return cow;
}

/*
 * IncetlExecBatchStatement prepares sql with the batch's parameters ($1
 * lower bound, $2 upper bound) and runs it under the run's snapshot, in
 * the caller's SPI connection.  Writes fire triggers; reads do not.
 * Returns the SPI result code.
 */
int
IncetlExecBatchStatement(IncetlBatch *batch, const char *sql, bool read_only,
						 long tcount)
{
	SPIPlanPtr	plan = SPI_prepare(sql, batch->nparams, batch->paramtypes);

	if (plan == NULL)
		elog(ERROR, "could not prepare a statement of pipeline \"%s\": %s",
			 batch->pipeline->name, SPI_result_code_string(SPI_result));
	return SPI_execute_snapshot(plan, batch->paramvalues, batch->paramnulls,
								batch->snapshot, InvalidSnapshot, read_only,
								!read_only, tcount);
}
