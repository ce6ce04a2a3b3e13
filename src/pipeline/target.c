/*-------------------------------------------------------------------------
 *
 * target.c
 *	  Choosing the target writer for a target table, and creating a
 *	  missing target.
 *
 *	  Each kind of target has its own writer (incetl.h): heap tables (and
 *	  any access method that supports INSERT ... ON CONFLICT) are written
 *	  by target_heap.c.  The writer is chosen by the table's access method.
 *
 * Copyright (c) 2026, incetl developers
 *
 * IDENTIFICATION
 *	  src/pipeline/target.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/table.h"
#include "access/xact.h"
#include "commands/defrem.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

#include "incetl.h"

const IncetlTargetWriter *
IncetlGetTargetWriter(Oid target_relid)
{
	return &IncetlHeapTargetWriter;
}

/*
 * IncetlCreateTarget creates the missing target of a pipeline with the
 * columns the batch query returns (less the delete marker, whose true rows
 * are never stored) and a primary key on the record key.  Runs as the
 * current user (the pipeline owner).  Returns the new table's OID.
 */
Oid
IncetlCreateTarget(IncetlPipeline *p, TupleDesc batch_desc)
{
	StringInfoData cols;
	Oid			source_relid = IncetlResolveRelation(p->source, false);
	char	   *batch_sql = IncetlBatchSql(p, source_relid, "false");
	int			ret;

	initStringInfo(&cols);
	for (int i = 0; i < batch_desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(batch_desc, i);

		if (att->attisdropped)
			continue;
		if (p->delete_marker && strcmp(NameStr(att->attname), p->delete_marker) == 0)
			continue;
		appendStringInfo(&cols, "%s%s", cols.len > 0 ? ", " : "",
						 quote_identifier(NameStr(att->attname)));
	}

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	ret = SPI_execute(psprintf("CREATE TABLE %s AS SELECT %s FROM (%s) AS q WITH NO DATA",
							   p->target, cols.data, batch_sql), false, 0);
	if (ret < 0)
		elog(ERROR, "could not create target %s: %s", p->target,
			 SPI_result_code_string(ret));
	ret = SPI_execute(psprintf("ALTER TABLE %s ADD PRIMARY KEY (%s)",
							   p->target, IncetlNameList(p->record_key)), false, 0);
	if (ret < 0)
		elog(ERROR, "could not add the primary key of %s: %s", p->target,
			 SPI_result_code_string(ret));
	SPI_finish();
	CommandCounterIncrement();

	ereport(NOTICE,
			(errmsg("created target table %s for pipeline \"%s\"", p->target, p->name)));
	return IncetlResolveRelation(p->target, false);
}
