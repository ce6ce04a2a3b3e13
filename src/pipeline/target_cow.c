/*-------------------------------------------------------------------------
 *
 * target_cow.c
 *	  The target writer for incetl_cow tables.
 *
 *	  An incetl_cow table upserts by itself: its INSERT deduplicates the
 *	  statement's rows by record key (largest precombine, ties to the later
 *	  row), merges them with the stored rows by the same rule and applies
 *	  delete markers (src/cow/cow_merge.c).  So the writer only issues
 *	  INSERT INTO target SELECT ... FROM the batch, in the order the
 *	  transform yields it, and reads the inserted/updated/deleted counts and
 *	  the commit id the access method recorded for this transaction.
 *
 *	  The table's own record key, precombine field and delete marker
 *	  (incetl.set_table_options) must be the pipeline's, or the two would
 *	  disagree about what a duplicate is.  In feed mode the writer deletes
 *	  the batch's deleted keys itself, in the same statement, and never
 *	  stores the marker column; the table's delete marker is not compared.
 *
 * Copyright (c) 2026, incetl developers
 *
 * IDENTIFICATION
 *	  src/pipeline/target_cow.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

#include "cow.h"
#include "incetl.h"

static void CowTargetValidate(IncetlPipeline *p, Oid target_relid, TupleDesc batch_desc);
static void CowTargetWrite(IncetlBatch *batch, IncetlRunCounts *counts);
static void CowTargetTruncate(IncetlBatch *batch, IncetlRunCounts *counts);
static char *CowInsertSql(IncetlPipeline *p, Oid target_relid, const char *batch_sql,
						  TupleDesc batch_desc);
static void CowCountsNow(Oid relid, IncetlRunCounts *c);

const IncetlTargetWriter IncetlCowTargetWriter = {
	.kind = "incetl_cow",
	.validate = CowTargetValidate,
	.write = CowTargetWrite,
	.truncate = CowTargetTruncate,
};

/*
 * CowInsertSql builds the write statement.  In feed mode the batch's
 * deleted keys are deleted and its other rows upserted, by one statement
 * (so one commit of the target): the table merges the data-modifying
 * CTE's deletes and the INSERT's rows at its end.  The marker column is
 * not stored.
 */
static char *
CowInsertSql(IncetlPipeline *p, Oid target_relid, const char *batch_sql,
			 TupleDesc batch_desc)
{
	char	   *cols;
	const char *marker;
	StringInfoData sql;
	ListCell   *lc;

	if (!IncetlFeedMode(p))
	{
		cols = IncetlBatchColumnList(batch_desc);
		return psprintf("INSERT INTO %s (%s) SELECT %s FROM (\n%s\n) AS incetl_batch",
						p->target, cols, cols, batch_sql);
	}

	cols = IncetlBatchColumnList(IncetlStoredColumns(p, batch_desc));
	marker = quote_identifier(IncetlDeleteMarker(p));
	initStringInfo(&sql);
	appendStringInfo(&sql,
					 "WITH incetl_batch AS MATERIALIZED (\n%s\n),\n"
					 "incetl_deleted AS (DELETE FROM %s AS t USING incetl_batch AS l "
					 "WHERE l.%s",
					 batch_sql, p->target, marker);
	foreach(lc, p->record_key)
	{
		const char *k = quote_identifier((char *) lfirst(lc));

		appendStringInfo(&sql, " AND t.%s = l.%s", k, k);
	}
	if (p->precombine)
	{
		const char *pre = quote_identifier(p->precombine);

		appendStringInfo(&sql, " AND (t.%s IS NULL OR t.%s <= l.%s)", pre, pre, pre);
	}
	appendStringInfo(&sql,
					 ")\nINSERT INTO %s (%s) SELECT %s FROM incetl_batch WHERE %s IS NOT TRUE",
					 p->target, cols, cols, marker);
	return sql.data;
}

/*
 * Counts of the access method for this transaction so far; a writer
 * subtracts those before its statement from those after.
 */
static void
CowCountsNow(Oid relid, IncetlRunCounts *c)
{
	memset(c, 0, sizeof(*c));
	cow_write_counts(relid, &c->inserted, &c->updated, &c->deleted);
}

static bool
SameName(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

/*
 * CowTargetValidate checks that the table's options agree with the
 * pipeline and that every column of the batch exists in the table, then
 * plans the INSERT.
 */
static void
CowTargetValidate(IncetlPipeline *p, Oid target_relid, TupleDesc batch_desc)
{
	Oid			argtypes[1] = {OIDOID};
	Datum		values[1];
	List	   *table_key = NIL;
	char	   *table_pre;
	char	   *table_marker;
	bool		isnull;
	bool		same_key;
	ListCell   *a,
			   *b;

	IncetlCheckTargetColumns(p, target_relid, batch_desc, false);

	values[0] = ObjectIdGetDatum(target_relid);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args("SELECT record_key, precombine, delete_marker "
							  "FROM incetl.table_options($1)",
							  1, argtypes, values, NULL, false, 1) != SPI_OK_SELECT ||
		SPI_processed != 1)
		elog(ERROR, "could not read the options of %s", p->target);
	{
		Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);

		if (!isnull)
		{
			Datum	   *elems;
			bool	   *enulls;
			int			n;

			deconstruct_array(DatumGetArrayTypeP(d), TEXTOID, -1, false, TYPALIGN_INT,
							  &elems, &enulls, &n);
			for (int i = 0; i < n; i++)
				table_key = lappend(table_key, TextDatumGetCString(elems[i]));
		}
	}
	table_pre = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);
	table_marker = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3);

	same_key = list_length(table_key) == list_length(p->record_key);
	forboth(a, table_key, b, p->record_key)
		same_key = same_key && SameName(lfirst(a), lfirst(b));
	/* in feed mode the pipeline deletes by itself: the table's marker is free */
	if (!same_key || !SameName(table_pre, p->precombine) ||
		(!IncetlFeedMode(p) && !SameName(table_marker, p->delete_marker)))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TABLE_DEFINITION),
				 errmsg("incetl_cow target %s does not upsert the way pipeline \"%s\" does",
						p->target, p->name),
				 errdetail("The table's record key, precombine and delete marker must be the pipeline's."),
				 errhint("SELECT incetl.set_table_options(%s, record_key => %s, precombine => %s, delete_marker => %s);",
						 quote_literal_cstr(p->target),
						 quote_literal_cstr(IncetlNameList(p->record_key)),
						 p->precombine ? quote_literal_cstr(quote_identifier(p->precombine)) : "''",
						 p->delete_marker ? quote_literal_cstr(quote_identifier(p->delete_marker)) : "''")));

	SPI_finish();

	IncetlPlanWrite(p, target_relid, batch_desc, CowInsertSql);
}

static void
CowTargetWrite(IncetlBatch *batch, IncetlRunCounts *counts)
{
	char	   *sql = CowInsertSql(batch->pipeline, batch->target_relid,
								   batch->batch_sql, batch->batch_desc);
	IncetlRunCounts before;
	IncetlRunCounts after;

	CowCountsNow(batch->target_relid, &before);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (IncetlExecBatchStatement(batch, sql, false, 0) < 0)
		elog(ERROR, "write of pipeline \"%s\" failed", batch->pipeline->name);
	if (batch->count_read)
		counts->read += SPI_processed;	/* every row of the batch, inserted */
	SPI_finish();
	CowCountsNow(batch->target_relid, &after);

	counts->inserted += after.inserted - before.inserted;
	counts->updated += after.updated - before.updated;
	counts->deleted += after.deleted - before.deleted;
	counts->commit_id = cow_last_commit_id(batch->target_relid);
}

/* full refresh: a DELETE, a copy-on-write commit of its own */
static void
CowTargetTruncate(IncetlBatch *batch, IncetlRunCounts *counts)
{
	IncetlRunCounts before;
	IncetlRunCounts after;

	CowCountsNow(batch->target_relid, &before);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute(psprintf("DELETE FROM %s", batch->pipeline->target), false, 0) != SPI_OK_DELETE)
		elog(ERROR, "could not empty target %s", batch->pipeline->target);
	SPI_finish();
	CowCountsNow(batch->target_relid, &after);
	counts->deleted += after.deleted - before.deleted;
}
