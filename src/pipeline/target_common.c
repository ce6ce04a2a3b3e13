/*-------------------------------------------------------------------------
 *
 * target_common.c
 *	  What the target writers (target_heap.c, target_cow.c) share: checking
 *	  that the target has the batch's columns, and planning a writer's
 *	  statement without running it, so that create_pipeline refuses what a
 *	  run would fail on.
 *
 *	  Uses batch.c and names.c.
 *
 * Copyright (c) 2026, incetl developers
 *
 * IDENTIFICATION
 *	  src/pipeline/target_common.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/lsyscache.h"

#include "incetl.h"

/*
 * IncetlCheckTargetColumns raises 42703 unless every column of the batch
 * exists in the target; the delete marker is exempt when marker_optional
 * (a heap target need not store it), and in feed mode, where it is never
 * stored.
 */
void
IncetlCheckTargetColumns(IncetlPipeline *p, Oid target_relid,
						 TupleDesc batch_desc, bool marker_optional)
{
	const char *marker = IncetlDeleteMarker(p);

	for (int i = 0; i < batch_desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(batch_desc, i);
		const char *col = NameStr(att->attname);

		if (att->attisdropped)
			continue;
		if ((marker_optional || IncetlFeedMode(p)) && marker &&
			strcmp(col, marker) == 0)
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
 * IncetlPlanWrite plans a target writer's statement over the batch query
 * build_sql is given (with both bounds NULL) by EXPLAIN, without running
 * it: types, columns, arbiters and privileges are checked as a run would.
 */
void
IncetlPlanWrite(IncetlPipeline *p, Oid target_relid, TupleDesc batch_desc,
				char *(*build_sql) (IncetlPipeline *, Oid, const char *, TupleDesc))
{
	Oid			wmtype = IncetlFeedMode(p) ? INT8OID : p->watermark_type;
	Oid			argtypes[2] = {wmtype, wmtype};
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
 * IncetlStoredColumns returns the columns of the batch a writer stores:
 * in feed mode all but the delete marker (a copy of batch_desc where it is
 * marked dropped, which IncetlBatchColumnList skips), otherwise batch_desc
 * itself.
 */
TupleDesc
IncetlStoredColumns(IncetlPipeline *p, TupleDesc batch_desc)
{
	TupleDesc	desc;
	int			i;

	if (!IncetlFeedMode(p))
		return batch_desc;
	i = IncetlTupleDescColumn(batch_desc, IncetlDeleteMarker(p));
	if (i < 0)
		return batch_desc;
	desc = CreateTupleDescCopy(batch_desc);
	TupleDescAttr(desc, i)->attisdropped = true;
	return desc;
}
