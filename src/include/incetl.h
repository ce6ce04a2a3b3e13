/*-------------------------------------------------------------------------
 *
 * incetl.h
 *	  Shared declarations of incetl's pipeline layer: the in-memory form of
 *	  a pipeline definition, the run context handed between the steps of
 *	  one run, the target-writer interface (one implementation per kind of
 *	  target table) and the entry points of each file.
 *
 * Copyright (c) 2026, incetl developers
 *
 * IDENTIFICATION
 *	  src/include/incetl.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef INCETL_H
#define INCETL_H

#include "access/tupdesc.h"
#include "datatype/timestamp.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "nodes/pg_list.h"
#include "utils/jsonb.h"
#include "utils/snapshot.h"

/*
 * The version of the extension's catalogs this library works with
 * (incetl.control's default_version; see IncetlCheckCatalogVersion).
 */
#define INCETL_CATALOG_VERSION "0.5"

/* GUCs (incetl.c) */
extern char *incetl_environment;
extern bool incetl_test_naive_watermark;
extern int	incetl_writer_wait_timeout;
extern int	incetl_run_log_retention;

/*
 * A pipeline definition as stored in incetl.pipelines.  Names are stored
 * as the actual identifiers (unquoted); source and target as
 * schema-qualified, quoted names ready to be parsed back.
 */
typedef struct IncetlPipeline
{
	char	   *name;
	char	   *source;			/* "schema"."rel", quoted */
	char	   *watermark_column;	/* NULL: feed mode (IncetlFeedMode) */
	Oid			watermark_type; /* InvalidOid in feed mode */
	char	   *target;			/* "schema"."rel", quoted */
	List	   *record_key;		/* list of char * column names */
	char	   *precombine;		/* NULL when none */
	char	   *transform;		/* NULL: rows pass through */
	char	   *schedule;		/* NULL when none */
	char	   *delete_marker;	/* NULL when none */
	Jsonb	   *settings;
	int64		max_batch_rows; /* 0: unbounded */
	int32		max_retries;
	Interval	retry_delay;
	Interval	safety_lag;
	Oid			owner;
	bool		enabled;
	char	   *search_path;
} IncetlPipeline;

/* Row counts of one run, as they go to incetl.run_log. */
typedef struct IncetlRunCounts
{
	int64		read;
	int64		inserted;
	int64		updated;
	int64		deleted;
	int64		commit_id;		/* incetl_cow targets: the commit written */
} IncetlRunCounts;

/*
 * What a target writer needs to apply one batch.  batch_sql is a SELECT
 * that yields the transformed rows of the batch; its parameters are
 * described by nparams/paramtypes/paramvalues/paramnulls and it must be
 * run with the given snapshot so that every statement of the run sees the
 * same source state.
 */
typedef struct IncetlBatch
{
	IncetlPipeline *pipeline;
	Oid			target_relid;
	const char *batch_sql;
	TupleDesc	batch_desc;		/* columns the transform returns */
	int			nparams;
	Oid		   *paramtypes;
	Datum	   *paramvalues;
	char	   *paramnulls;
	Snapshot	snapshot;
	bool		keys_unique;	/* no two rows of one key (batch_keys.c) */
	bool		count_read;		/* the writer sets counts->read */
} IncetlBatch;

/*
 * A target writer: one implementation per kind of target table.
 * validate() runs at create_pipeline/alter_pipeline and raises an error
 * when the target cannot receive the transform's rows; write() applies a
 * batch with upsert-with-precombine semantics and fills the counts.
 */
typedef struct IncetlTargetWriter
{
	const char *kind;
	void		(*validate) (IncetlPipeline *pipeline, Oid target_relid,
							 TupleDesc batch_desc);
	void		(*write) (IncetlBatch *batch, IncetlRunCounts *counts);
	void		(*truncate) (IncetlBatch *batch, IncetlRunCounts *counts);
} IncetlTargetWriter;

/*
 * The files of src/pipeline, in layers: each calls only the ones listed
 * before it (test/sh/check_layers.sh checks there is no cycle).
 */

/* spi_cache.c: statements prepared once per backend */
extern SPIPlanPtr IncetlPreparePlan(const char *sql, int nargs, Oid *argtypes);
extern int	IncetlExecuteCached(const char *sql, int nargs, Oid *argtypes,
								Datum *values, const char *nulls, bool read_only,
								long tcount);

/* names.c: names in definitions, parsed as identifiers and quoted again */
extern Oid	IncetlResolveRelation(const char *qualified_name, bool missing_ok);
extern char *IncetlNormalizeRelationName(const char *name, const char *what,
										 Oid *relid);
extern List *IncetlParseColumnList(const char *value, const char *what);
extern char *IncetlParseColumnName(const char *value, const char *what);
extern char *IncetlNameList(List *names);
extern int	IncetlTupleDescColumn(TupleDesc desc, const char *name);

/* feed_holder.c: the history feed-mode pipelines need (cow.h's hook) */
extern void IncetlFeedHolderInit(void);

/* pipeline_security.c: the owner's context, who may manage a pipeline */
typedef struct IncetlUserContext
{
	Oid			save_userid;
	int			save_sec_context;
	int			save_nestlevel;
} IncetlUserContext;

extern void IncetlBecomeOwner(IncetlPipeline *pipeline, IncetlUserContext *ctx,
							  bool apply_settings);
extern void IncetlRestoreUser(IncetlUserContext *ctx);
extern void IncetlCheckSettings(IncetlPipeline *pipeline);
extern void IncetlCheckPipelineOwner(IncetlPipeline *pipeline, const char *action);
extern void IncetlCheckOwnerExists(IncetlPipeline *pipeline);
extern const char *IncetlOwnerName(IncetlPipeline *pipeline);

/* pipeline_catalog.c: incetl's catalogs, read and written as their owner */
extern IncetlPipeline *IncetlLoadPipeline(const char *name, bool missing_ok);
extern char *IncetlReadWatermark(const char *name, int64 *commit);
extern Oid	IncetlCatalogRelid(const char *relname);
extern Oid	IncetlCatalogOwner(void);
extern void IncetlBecomeCatalogOwner(IncetlUserContext *ctx);
extern int64 IncetlCatalogExec(const char *sql, int nargs, Oid *argtypes,
							  Datum *values, const char *nulls, int expected);
extern Datum IncetlTextArrayFromList(List *names);
extern char *IncetlCatalogVersion(void);
extern void IncetlCheckCatalogVersion(void);

/* batch.c: extracting a batch (the transform, the batch query) */
#define INCETL_FEED_MARKER "_incetl_deleted"
extern bool IncetlRelationIsCow(Oid relid);
extern bool IncetlFeedMode(IncetlPipeline *pipeline);
extern const char *IncetlDeleteMarker(IncetlPipeline *pipeline);
extern char *IncetlFeedSql(Oid source_relid, const char *lower, const char *upper);
extern char *IncetlFeedBatchSql(IncetlPipeline *pipeline, Oid source_relid,
								const char *lower, const char *upper,
								const char *where_clause);
extern char *IncetlDescribeSql(IncetlPipeline *pipeline, Oid source_relid);
extern void IncetlCheckTransformSyntax(const char *transform);
extern bool IncetlTransformIsOrdered(IncetlPipeline *pipeline);
extern char *IncetlRangeClause(IncetlPipeline *p, bool has_from);
extern char *IncetlBatchSqlFrom(IncetlPipeline *pipeline, const char *from_item,
								const char *where_clause);
extern char *IncetlBatchSql(IncetlPipeline *pipeline, Oid source_relid,
							const char *where_clause);
extern TupleDesc IncetlDescribeBatch(IncetlPipeline *pipeline, Oid source_relid);
extern char *IncetlBatchColumnList(TupleDesc batch_desc);
extern int	IncetlExecBatchStatement(IncetlBatch *batch, const char *sql,
									 bool read_only, long tcount);

/* batch_keys.c: whether a batch can repeat a record key */
extern bool IncetlBatchKeysUnique(IncetlPipeline *pipeline, Oid source_relid,
								  Oid target_relid, char **reason);

/* target_common.c: what the target writers share */
extern void IncetlCheckTargetColumns(IncetlPipeline *p, Oid target_relid,
									 TupleDesc batch_desc, bool marker_optional);
extern void IncetlPlanWrite(IncetlPipeline *p, Oid target_relid, TupleDesc batch_desc,
							char *(*build_sql) (IncetlPipeline *, Oid, const char *, TupleDesc));
extern TupleDesc IncetlStoredColumns(IncetlPipeline *p, TupleDesc batch_desc);

/* target_heap.c, target_cow.c: loading, one writer per kind of target */
extern const IncetlTargetWriter IncetlHeapTargetWriter;
extern const IncetlTargetWriter IncetlCowTargetWriter;

/* target.c: choosing the writer, creating a missing target */
extern const IncetlTargetWriter *IncetlGetTargetWriter(Oid target_relid);
extern Oid	IncetlCreateTarget(IncetlPipeline *pipeline, TupleDesc batch_desc);

/* watermark.c: choosing the upper bound of a run */
extern bool IncetlIsWatermarkType(Oid typid);
extern bool IncetlWatermarkIsTime(Oid typid);
extern Datum IncetlWatermarkFromText(const char *text, Oid typid);
extern char *IncetlWatermarkToText(Datum value, Oid typid);
extern bool IncetlSafeUpperBound(IncetlPipeline *pipeline, Oid source_relid,
								 bool has_from, Datum from, Datum *bound,
								 char **note);

/* run_log.c: logging runs */
typedef struct IncetlLogEntry
{
	const char *pipeline_name;
	TimestampTz started_at;
	TimestampTz finished_at;
	const char *last_run_timestamp;
	const char *current_run_timestamp;
	const char *status;
	IncetlRunCounts counts;
	const char *error_message;
	const char *sqlstate;
	const char *error_detail;
	const char *error_context;
	int			attempt;
	bool		full_refresh;
	char	   *note;			/* e.g. who held the bound back */
	bool		merged;			/* set by IncetlInsertLog: a NO_DATA streak row */
} IncetlLogEntry;

extern int64 IncetlInsertLog(IncetlLogEntry *entry);
extern void IncetlInsertLogAutonomous(IncetlLogEntry *entry);

/* cron_next.c: pg_cron schedules */
extern Datum incetl_cron_next_run(PG_FUNCTION_ARGS);
extern void IncetlCheckCronSchedule(const char *schedule);

/* schedule.c: pg_cron jobs of pipelines */
extern int64 IncetlScheduleJob(IncetlPipeline *pipeline, const char *cron);
extern bool IncetlUnscheduleJob(IncetlPipeline *pipeline, bool missing_ok);

/* pipeline_validate.c: the checks of create_pipeline and alter_pipeline */
extern void IncetlValidatePipeline(IncetlPipeline *pipeline, bool create_target);

/* pipeline_roles.c: what role DDL does to pipelines */
extern void IncetlRolesInit(void);

/* pipeline_ddl.c, pipeline_run.c: the SQL functions, on top */

#endif							/* INCETL_H */
