/*-------------------------------------------------------------------------
 *
 * target_heap.c
 *	  The target writer for heap tables: upsert with precombine expressed
 *	  as one SQL statement.
 *
 *	  The batch is reduced to one row per record key with DISTINCT ON
 *	  (unless it cannot repeat a key, batch_keys.c: then it goes as it is):
 *	  largest precombine first (NULLs lowest); on a tie, the later row.
 *	  "Later" is the transform's own order when it has an ORDER BY (the
 *	  rows are then numbered), otherwise the larger watermark value, the
 *	  later change.  In feed mode (one row per source key, the delete marker
 *	  _incetl_deleted unless the pipeline names one) a live row of a key
 *	  wins over a deleted one, and the marker is never stored.  Then
 *	      INSERT ... ON CONFLICT (key) DO UPDATE ... WHERE stored.pre <= new.pre
 *	  and, for rows whose delete marker is true, a DELETE with the same
 *	  ordering rule as a data-modifying CTE of the same statement, so the
 *	  batch is read once and written atomically.
 *
 *	  Inserted, updated and deleted rows are counted by the target's
 *	  transaction statistics (pg_stat_get_xact_tuples_*), read before and
 *	  after the statement: no RETURNING rows to build, store and count.
 *	  With track_counts off those stay at zero, and the statement instead
 *	  returns (xmax = 0) per upserted row, which tells inserts from updates.
 *
 *	  The target needs a unique index on exactly the record key columns,
 *	  which must be NOT NULL: a NULL key would never conflict and would
 *	  duplicate rows.
 *
 *	  A target that has no page yet (a backlog copied into a new or
 *	  truncated table) holds no row for the batch to conflict with, so the
 *	  statement goes without ON CONFLICT: a plain insert does not probe the
 *	  index before each row nor log a speculative insertion's confirmation
 *	  (a third less time for a 1 M-row backlog).  Should a row of the batch
 *	  meet a key after all (another session's, written since), the insert
 *	  fails with unique_violation in a subtransaction of its own, which is
 *	  rolled back, and the upsert runs as always.  Only for a plain table
 *	  without triggers, rules or row security, written by a role that may
 *	  also update it: nothing else about the write can differ.
 *
 * Copyright (c) 2026, incetl developers
 *
 * IDENTIFICATION
 *	  src/pipeline/target_heap.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/index.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_index.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "pgstat.h"
#include "storage/bufmgr.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/resowner.h"
#include "utils/syscache.h"

#include "incetl.h"

static char *HeapWriteSql(IncetlPipeline *p, Oid target_relid,
						  const char *batch_sql, TupleDesc batch_desc,
						  bool returning, bool dedup, bool upsert);
static bool HeapTargetUnwritten(Oid target_relid);
static bool HeapTryInsert(IncetlBatch *batch, const char *sql);
static void HeapCountWrite(IncetlBatch *batch, bool returning,
						   IncetlRunCounts *counts);
static void TargetStatCounts(Oid relid, IncetlRunCounts *c);
static char *HeapPlanSql(IncetlPipeline *p, Oid target_relid,
						 const char *batch_sql, TupleDesc batch_desc);
static void HeapValidate(IncetlPipeline *p, Oid target_relid, TupleDesc batch_desc);
static void HeapWrite(IncetlBatch *batch, IncetlRunCounts *counts);
static void HeapTruncate(IncetlBatch *batch, IncetlRunCounts *counts);
static bool IsRecordKey(IncetlPipeline *p, const char *col);

const IncetlTargetWriter IncetlHeapTargetWriter = {
	.kind = "heap",
	.validate = HeapValidate,
	.write = HeapWrite,
	.truncate = HeapTruncate,
};

static bool
IsRecordKey(IncetlPipeline *p, const char *col)
{
	ListCell   *lc;

	foreach(lc, p->record_key)
		if (strcmp((char *) lfirst(lc), col) == 0)
			return true;
	return false;
}

/*
 * HeapWriteSql builds the write statement (see the file header).  With
 * returning, it yields one row: inserted, updated, deleted; otherwise it
 * returns nothing and the caller counts with the statistics.  Without
 * dedup (the batch holds one row per key: batch_keys.c) the batch goes to
 * the upsert as it is, without DISTINCT ON or numbering.  Without upsert
 * it is a plain INSERT (no ON CONFLICT), for a target holding no row.
 */
static char *
HeapWriteSql(IncetlPipeline *p, Oid target_relid, const char *batch_sql,
			 TupleDesc batch_desc, bool returning, bool dedup, bool upsert)
{
	StringInfoData sql;
	StringInfoData cols;
	StringInfoData sets;
	StringInfoData keymatch;
	StringInfoData order;
	const char *target = p->target;
	const char *pre = p->precombine ? quote_identifier(p->precombine) : NULL;
	const char *marker = IncetlDeleteMarker(p) ? quote_identifier(IncetlDeleteMarker(p)) : NULL;
	const char *keys = IncetlNameList(p->record_key);
	bool		numbered = dedup && IncetlTransformIsOrdered(p);
	ListCell   *lc;

	initStringInfo(&cols);
	initStringInfo(&sets);
	for (int i = 0; i < batch_desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(batch_desc, i);
		const char *col = NameStr(att->attname);
		const char *qcol = quote_identifier(col);

		if (att->attisdropped)
			continue;
		if (get_attnum(target_relid, col) == InvalidAttrNumber)
			continue;			/* only the delete marker may be missing */
		if (IncetlFeedMode(p) && strcmp(col, IncetlDeleteMarker(p)) == 0)
			continue;			/* in feed mode it is never stored */
		appendStringInfo(&cols, "%s%s", cols.len > 0 ? ", " : "", qcol);
		if (!IsRecordKey(p, col))
			appendStringInfo(&sets, "%s%s = EXCLUDED.%s",
							 sets.len > 0 ? ", " : "", qcol, qcol);
	}
	if (sets.len == 0)
	{
		const char *k = quote_identifier((char *) linitial(p->record_key));

		appendStringInfo(&sets, "%s = EXCLUDED.%s", k, k);
	}

	initStringInfo(&keymatch);
	foreach(lc, p->record_key)
	{
		const char *k = quote_identifier((char *) lfirst(lc));

		appendStringInfo(&keymatch, " AND t.%s = l.%s", k, k);
	}

	/* which row of a key survives: largest precombine, then the later one */
	initStringInfo(&order);
	appendStringInfoString(&order, keys);
	if (pre)
		appendStringInfo(&order, ", %s DESC NULLS LAST", pre);
	if (IncetlFeedMode(p))
		appendStringInfo(&order, ", %s IS TRUE", marker);	/* a live row wins */
	if (numbered)
		appendStringInfoString(&order, ", incetl_ord DESC");
	else if (!IncetlFeedMode(p) &&
			 IncetlTupleDescColumn(batch_desc, p->watermark_column) >= 0 &&
			 (p->precombine == NULL || strcmp(p->precombine, p->watermark_column) != 0))
		appendStringInfo(&order, ", %s DESC NULLS LAST",
						 quote_identifier(p->watermark_column));

	initStringInfo(&sql);
	appendStringInfo(&sql, "WITH incetl_batch AS (\n%s\n),\n", batch_sql);
	if (numbered)
		appendStringInfoString(&sql,
							   "incetl_numbered AS (SELECT b.*, row_number() OVER () AS incetl_ord "
							   "FROM incetl_batch AS b),\n");
	if (dedup)
		appendStringInfo(&sql,
						 "incetl_latest AS (SELECT DISTINCT ON (%s) * FROM %s ORDER BY %s)",
						 keys, numbered ? "incetl_numbered" : "incetl_batch", order.data);
	else
		appendStringInfoString(&sql, "incetl_latest AS (SELECT * FROM incetl_batch)");
	if (marker)
	{
		appendStringInfo(&sql,
						 ",\nincetl_deleted AS (DELETE FROM %s AS t USING incetl_latest AS l "
						 "WHERE l.%s%s",
						 target, marker, keymatch.data);
		if (pre)
			appendStringInfo(&sql, " AND (t.%s IS NULL OR t.%s <= l.%s)", pre, pre, pre);
		appendStringInfoString(&sql, " RETURNING 1)");
	}
	if (returning)
		appendStringInfoString(&sql, ",\nincetl_upserted AS (");
	else
		appendStringInfoString(&sql, "\n");
	appendStringInfo(&sql,
					 "INSERT INTO %s AS t (%s) SELECT %s FROM incetl_latest%s",
					 target, cols.data, cols.data,
					 marker ? psprintf(" WHERE %s IS NOT TRUE", marker) : "");
	if (upsert)
		appendStringInfo(&sql, "\n  ON CONFLICT (%s) DO UPDATE SET %s",
						 keys, sets.data);
	if (upsert && pre)
		appendStringInfo(&sql, " WHERE t.%s IS NULL OR t.%s <= EXCLUDED.%s", pre, pre, pre);
	if (returning)
		appendStringInfo(&sql,
						 "\n  RETURNING (t.xmax = 0) AS inserted)\n"
						 "SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted), %s "
						 "FROM incetl_upserted",
						 marker ? "(SELECT count(*) FROM incetl_deleted)" : "0::bigint");
	return sql.data;
}

/* the statement a run with statistics executes, for IncetlPlanWrite */
static char *
HeapPlanSql(IncetlPipeline *p, Oid target_relid, const char *batch_sql,
			TupleDesc batch_desc)
{
	return HeapWriteSql(p, target_relid, batch_sql, batch_desc, false, true, true);
}

/*
 * TargetStatCounts adds up the target's (and its partitions') inserted,
 * updated and deleted tuples of the current transaction so far.
 */
static void
TargetStatCounts(Oid relid, IncetlRunCounts *c)
{
	List	   *rels = find_all_inheritors(relid, NoLock, NULL);
	ListCell   *lc;

	memset(c, 0, sizeof(*c));
	foreach(lc, rels)
	{
		Datum		r = ObjectIdGetDatum(lfirst_oid(lc));

		c->inserted += DatumGetInt64(DirectFunctionCall1(pg_stat_get_xact_tuples_inserted, r));
		c->updated += DatumGetInt64(DirectFunctionCall1(pg_stat_get_xact_tuples_updated, r));
		c->deleted += DatumGetInt64(DirectFunctionCall1(pg_stat_get_xact_tuples_deleted, r));
	}
}

/*
 * HeapValidate checks that the target can take the batch: every column of
 * the batch exists in the target (the delete marker may be absent), a
 * unique index covers exactly the record key, whose columns are NOT NULL,
 * and the precombine column is stored.  Finally the write statement is
 * planned (EXPLAIN), which checks types and the ON CONFLICT arbiter.
 */
static void
HeapValidate(IncetlPipeline *p, Oid target_relid, TupleDesc batch_desc)
{
	Relation	rel;
	List	   *indexes;
	ListCell   *lc;
	bool		found = false;
	int			nkeys = list_length(p->record_key);

	IncetlCheckTargetColumns(p, target_relid, batch_desc, true);
	if (p->precombine && get_attnum(target_relid, p->precombine) == InvalidAttrNumber)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("precombine column \"%s\" of pipeline \"%s\" does not exist in target %s",
						p->precombine, p->name, p->target)));

	rel = table_open(target_relid, AccessShareLock);
	indexes = RelationGetIndexList(rel);
	foreach(lc, indexes)
	{
		HeapTuple	tup = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(lfirst_oid(lc)));
		Form_pg_index idx;
		bool		match;

		if (!HeapTupleIsValid(tup))
			elog(ERROR, "cache lookup failed for index %u", lfirst_oid(lc));
		idx = (Form_pg_index) GETSTRUCT(tup);
		match = idx->indisunique && idx->indimmediate && idx->indisvalid &&
			idx->indnkeyatts == nkeys &&
			heap_attisnull(tup, Anum_pg_index_indpred, NULL) &&
			heap_attisnull(tup, Anum_pg_index_indexprs, NULL);
		for (int i = 0; match && i < nkeys; i++)
		{
			char	   *col = get_attname(target_relid, idx->indkey.values[i], false);

			match = IsRecordKey(p, col);
		}
		ReleaseSysCache(tup);
		if (match)
		{
			found = true;
			break;
		}
	}
	table_close(rel, AccessShareLock);

	if (!found)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_COLUMN_REFERENCE),
				 errmsg("target %s of pipeline \"%s\" has no unique index on the record key (%s)",
						p->target, p->name, IncetlNameList(p->record_key)),
				 errhint("Create one: CREATE UNIQUE INDEX ON %s (%s);",
						 p->target, IncetlNameList(p->record_key))));

	foreach(lc, p->record_key)
	{
		char	   *col = (char *) lfirst(lc);
		AttrNumber	attno = get_attnum(target_relid, col);
		HeapTuple	tup = SearchSysCache2(ATTNUM, ObjectIdGetDatum(target_relid),
										  Int16GetDatum(attno));
		bool		notnull;

		if (!HeapTupleIsValid(tup))
			elog(ERROR, "cache lookup failed for attribute %d of %u", attno, target_relid);
		notnull = ((Form_pg_attribute) GETSTRUCT(tup))->attnotnull;
		ReleaseSysCache(tup);
		if (!notnull)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_TABLE_DEFINITION),
					 errmsg("record key column \"%s\" of target %s must be NOT NULL",
							col, p->target),
					 errhint("ALTER TABLE %s ALTER COLUMN %s SET NOT NULL;",
							 p->target, quote_identifier(col))));
	}

	/* plan the real statement once */
	IncetlPlanWrite(p, target_relid, batch_desc, HeapPlanSql);
}

static void
HeapWrite(IncetlBatch *batch, IncetlRunCounts *counts)
{
	bool		returning = !pgstat_track_counts;
	IncetlPipeline *p = batch->pipeline;
	IncetlRunCounts before;
	IncetlRunCounts after;
	bool		plain;
	int			ret;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (!returning)
		TargetStatCounts(batch->target_relid, &before);
	plain = HeapTargetUnwritten(batch->target_relid);
	if (plain &&
		HeapTryInsert(batch, HeapWriteSql(p, batch->target_relid, batch->batch_sql,
										  batch->batch_desc, returning,
										  !batch->keys_unique, false)))
		ereport(DEBUG1,
				(errmsg_internal("pipeline \"%s\" wrote its batch into the empty target without ON CONFLICT",
								 p->name)));
	else
	{
		if (plain)
			ereport(DEBUG1,
					(errmsg_internal("pipeline \"%s\" met a stored key in the empty target: upserting",
									 p->name)));
		/* the failed insert's rows still count in the statistics */
		if (!returning)
			TargetStatCounts(batch->target_relid, &before);
		ret = IncetlExecBatchStatement(batch,
									   HeapWriteSql(p, batch->target_relid,
													batch->batch_sql,
													batch->batch_desc, returning,
													!batch->keys_unique, true),
									   false, 0);
		if (ret < 0)
			elog(ERROR, "write of pipeline \"%s\" failed: %s", p->name,
				 SPI_result_code_string(ret));
	}
	HeapCountWrite(batch, returning, counts);
	SPI_finish();

	if (!returning)
	{
		TargetStatCounts(batch->target_relid, &after);
		counts->inserted += after.inserted - before.inserted;
		counts->updated += after.updated - before.updated;
		counts->deleted += after.deleted - before.deleted;
	}
}

/*
 * HeapTargetUnwritten: may the batch go into the target as a plain INSERT
 * (see the file header)?  The target has no page, and the write could not
 * tell the two statements apart: a plain table without triggers (foreign
 * keys have theirs), rules or row security, and the role may update it
 * (what ON CONFLICT DO UPDATE asks).
 */
static bool
HeapTargetUnwritten(Oid target_relid)
{
	Relation	rel = table_open(target_relid, AccessShareLock);
	bool		result;

	result = rel->rd_rel->relkind == RELKIND_RELATION &&
		!rel->rd_rel->relhastriggers && !rel->rd_rel->relhasrules &&
		!rel->rd_rel->relrowsecurity &&
		RelationGetNumberOfBlocks(rel) == 0 &&
		pg_class_aclcheck(target_relid, GetUserId(), ACL_UPDATE) == ACLCHECK_OK;
	table_close(rel, AccessShareLock);
	return result;
}

/*
 * HeapTryInsert runs the plain INSERT sql in a subtransaction: true when it
 * succeeded; false when a row met a key already there (unique_violation),
 * the subtransaction then rolled back.  Any other error is raised.
 */
static bool
HeapTryInsert(IncetlBatch *batch, const char *sql)
{
	MemoryContext cxt = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	bool		done = false;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(cxt);
	PG_TRY();
	{
		int			ret = IncetlExecBatchStatement(batch, sql, false, 0);

		if (ret < 0)
			elog(ERROR, "write of pipeline \"%s\" failed: %s",
				 batch->pipeline->name, SPI_result_code_string(ret));
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(cxt);
		CurrentResourceOwner = owner;
		done = true;
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(cxt);
		CurrentResourceOwner = owner;
		if (edata->sqlerrcode != ERRCODE_UNIQUE_VIOLATION)
			ReThrowError(edata);
		FreeErrorData(edata);
	}
	PG_END_TRY();
	return done;
}

/* HeapCountWrite takes the counts of the write just run from SPI. */
static void
HeapCountWrite(IncetlBatch *batch, bool returning, IncetlRunCounts *counts)
{
	if (returning)
	{
		bool		isnull;
		HeapTuple	row = SPI_tuptable->vals[0];
		TupleDesc	desc = SPI_tuptable->tupdesc;

		counts->inserted += DatumGetInt64(SPI_getbinval(row, desc, 1, &isnull));
		counts->updated += DatumGetInt64(SPI_getbinval(row, desc, 2, &isnull));
		counts->deleted += DatumGetInt64(SPI_getbinval(row, desc, 3, &isnull));
		if (batch->count_read)
			counts->read += DatumGetInt64(SPI_getbinval(row, desc, 1, &isnull)) +
				DatumGetInt64(SPI_getbinval(row, desc, 2, &isnull));
	}
	else if (batch->count_read)
		counts->read += SPI_processed;	/* each row inserted or updated */
}

/* full refresh: empty the target, MVCC-safely, in the run's transaction */
static void
HeapTruncate(IncetlBatch *batch, IncetlRunCounts *counts)
{
	int			ret;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	ret = SPI_execute(psprintf("DELETE FROM %s", batch->pipeline->target), false, 0);
	if (ret != SPI_OK_DELETE)
		elog(ERROR, "could not empty target %s", batch->pipeline->target);
	counts->deleted += SPI_processed;
	SPI_finish();
}
