/*-------------------------------------------------------------------------
 *
 * target.c
 *	  Choosing the target writer for a target table, and creating a
 *	  missing target.
 *
 *	  Each kind of target has its own writer (incetl.h): incetl_cow tables
 *	  by target_cow.c, heap tables (and any other access method that
 *	  supports INSERT ... ON CONFLICT) by target_heap.c.  The writer is
 *	  chosen by the table's access method.
 *
 *	  A missing target is created USING incetl_cow, with the pipeline's
 *	  record key, precombine field and delete marker as table options (in
 *	  feed mode without the marker: the pipeline applies deletes itself).
 *
 * Copyright (c) 2026, incetl developers
 *
 * IDENTIFICATION
 *	  src/pipeline/target.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/relation.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/pg_class.h"
#include "commands/defrem.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

#include "cow.h"
#include "incetl.h"

const IncetlTargetWriter *
IncetlGetTargetWriter(Oid target_relid)
{
	return IncetlRelationIsCow(target_relid) ? &IncetlCowTargetWriter : &IncetlHeapTargetWriter;
}

/*
 * IncetlCreateTarget creates the missing target of a pipeline as an
 * incetl_cow table with the columns the batch query returns, and sets its
 * record key, precombine field and delete marker to the pipeline's (the
 * table then upserts by itself).  Runs as the current user (the pipeline
 * owner).  Returns the new table's OID.
 */
Oid
IncetlCreateTarget(IncetlPipeline *p, TupleDesc batch_desc)
{
	Oid			source_relid = IncetlResolveRelation(p->source, false);
	char	   *batch_sql = IncetlDescribeSql(p, source_relid);
	const char *marker = p->delete_marker;
	Oid			relid;
	int			ret;

	/*
	 * In feed mode the pipeline applies its deletes itself: the target
	 * gets neither the marker column nor a delete marker option.
	 */
	if (IncetlFeedMode(p))
	{
		batch_desc = IncetlStoredColumns(p, batch_desc);
		marker = NULL;
	}

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	ret = SPI_execute(psprintf("CREATE TABLE %s USING incetl_cow AS SELECT %s FROM (%s) AS q "
							   "WITH NO DATA",
							   p->target, IncetlBatchColumnList(batch_desc), batch_sql),
					  false, 0);
	if (ret < 0)
		elog(ERROR, "could not create target %s: %s", p->target,
			 SPI_result_code_string(ret));
	CommandCounterIncrement();
	relid = IncetlResolveRelation(p->target, false);
	ret = SPI_execute(psprintf("SELECT incetl.set_table_options(%u::pg_catalog.oid::pg_catalog.regclass, "
							   "record_key => %s, precombine => %s, delete_marker => %s)",
							   relid,
							   quote_literal_cstr(IncetlNameList(p->record_key)),
							   p->precombine ? quote_literal_cstr(quote_identifier(p->precombine)) : "NULL",
							   marker ? quote_literal_cstr(quote_identifier(marker)) : "NULL"),
					  false, 0);
	if (ret < 0)
		elog(ERROR, "could not set the options of %s: %s", p->target,
			 SPI_result_code_string(ret));
	SPI_finish();
	CommandCounterIncrement();

	ereport(NOTICE,
			(errmsg("created incetl_cow target table %s for pipeline \"%s\"", p->target, p->name),
			 errdetail("Record key %s%s%s.", IncetlNameList(p->record_key),
					   p->precombine ? psprintf(", precombine %s", quote_identifier(p->precombine)) : "",
					   marker ? psprintf(", delete marker %s", quote_identifier(marker)) : "")));
	return relid;
}
