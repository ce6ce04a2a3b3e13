/*-------------------------------------------------------------------------
 *
 * pipeline_validate.c
 *	  Everything create_pipeline and alter_pipeline check before a
 *	  definition is stored: relation and column names, the watermark type,
 *	  the transform (one SELECT, parsed and planned against the source),
 *	  the record key, precombine and delete marker in the transform's
 *	  output, privileges, and the target (created when missing, otherwise
 *	  checked by its target writer).  It owns no stage of a run: it calls
 *	  the stages (names.c, watermark.c, batch.c, target.c and the writers'
 *	  validate callbacks) on the definition, as its owner, so that what was
 *	  validated is exactly what runs.
 *
 * Copyright (c) 2026, incetl developers
 *
 * IDENTIFICATION
 *	  src/pipeline/pipeline_validate.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

#include "incetl.h"

static void CheckWatermarkColumn(IncetlPipeline *p, Oid source_relid);
static void CheckFeedSource(IncetlPipeline *p, Oid source_relid);

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
 * CheckWatermarkColumn checks the watermark column of a pipeline that has
 * one, and sets its type.
 */
static void
CheckWatermarkColumn(IncetlPipeline *p, Oid source_relid)
{
	AttrNumber	wm_attno = get_attnum(source_relid, p->watermark_column);

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
}

/*
 * CheckFeedSource checks a pipeline without a watermark column: its
 * source must be an incetl_cow table, whose change feed it reads with
 * the commit id as watermark.
 */
static void
CheckFeedSource(IncetlPipeline *p, Oid source_relid)
{
	p->watermark_type = InvalidOid;
	if (get_rel_relkind(source_relid) != RELKIND_RELATION ||
		!IncetlRelationIsCow(source_relid))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("pipeline \"%s\" needs a watermark column: its source %s is not an incetl_cow table",
						p->name, p->source),
				 errdetail("Only the change feed of an incetl_cow table can be read without one."),
				 errhint("Pass watermark_column => the column of type timestamptz, timestamp, date, smallint, integer or bigint that grows with every change.")));
	if (p->safety_lag.time != 0 || p->safety_lag.day != 0 || p->safety_lag.month != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("safety_lag of pipeline \"%s\" needs a time watermark", p->name),
				 errdetail("The pipeline reads the change feed of %s; its bound is exact.",
						   p->source)));
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
	TupleDesc	desc;
	const char *marker = IncetlDeleteMarker(p);
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

	/* watermark column, or the change feed of an incetl_cow source */
	if (IncetlFeedMode(p))
		CheckFeedSource(p, source_relid);
	else
		CheckWatermarkColumn(p, source_relid);

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
	if (marker)
	{
		int			i;

		if (IncetlFeedMode(p) && p->delete_marker == NULL &&
			IncetlTupleDescColumn(desc, marker) < 0)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("the transform of pipeline \"%s\" does not return its delete marker \"%s\"",
							p->name, marker),
					 errdetail("A pipeline reading the change feed of %s deletes the target rows whose %s is true.",
							   p->source, marker),
					 errhint("Return it from the transform: SELECT ..., %s FROM batch",
							 marker)));
		RequireBatchColumn(p, desc, marker, "delete marker");
		i = IncetlTupleDescColumn(desc, marker);
		if (TupleDescAttr(desc, i)->atttypid != BOOLOID)
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("delete marker column \"%s\" of pipeline \"%s\" must be boolean, not %s",
							marker, p->name,
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
								  (marker ? ACL_DELETE : 0));
	if (aclresult != ACLCHECK_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for target %s of pipeline \"%s\"",
						p->target, p->name),
				 errdetail("The pipeline owner %s needs INSERT and UPDATE%s on the target.",
						   GetUserNameFromId(p->owner, false),
						   marker ? " and DELETE" : "")));

	writer = IncetlGetTargetWriter(target_relid);
	writer->validate(p, target_relid, desc);

	IncetlRestoreUser(&uctx);
}
