/*-------------------------------------------------------------------------
 *
 * pipeline_run.c
 *	  incetl_run(name, full_refresh): one incremental run of a pipeline.
 *
 *	  In order: check the caller may run it; skip (SKIPPED, 0) when it is
 *	  paused or another run holds its lock; then, in a subtransaction and
 *	  as the pipeline owner, read the committed watermark, choose the safe
 *	  upper bound (watermark.c), take the run's snapshot, count the batch,
 *	  hand it to the target writer, and record the new watermark and a
 *	  SUCCESS (or NO_DATA) row.  All of that commits with the caller's
 *	  transaction, or not at all.
 *
 *	  On error the subtransaction is rolled back (target and watermark are
 *	  untouched), a FAILED row is written autonomously (run_log.c), and the
 *	  error is re-thrown to the caller.  Serialization failures, deadlocks
 *	  and lock timeouts are retried up to max_retries times, retry_delay
 *	  apart, each attempt logged.
 *
 * Copyright (c) 2026, incetl developers
 *
 * IDENTIFICATION
 *	  src/pipeline/pipeline_run.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "storage/latch.h"
#include "storage/lock.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/resowner.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "utils/typcache.h"
#include "utils/wait_event.h"

#include "incetl.h"

PG_FUNCTION_INFO_V1(incetl_run);
PG_FUNCTION_INFO_V1(incetl_safe_upper_bound);

/* field4 of our advisory lock tags, so they never collide with users' */
#define INCETL_LOCK_FIELD4 0x4945

static bool TryLockPipeline(IncetlPipeline *p);
static char *ReadWatermark(const char *name);
static int64 ExecuteRun(IncetlPipeline *p, bool full_refresh, IncetlLogEntry *e);
static int64 RunQueryInt64(const char *sql, IncetlBatch *batch);
static bool IsTransient(int sqlerrcode);
static void SleepInterval(Interval *delay);
static int	CompareWatermarks(Oid typid, Datum a, Datum b);

/*
 * TryLockPipeline takes the pipeline's run lock, held to the end of the
 * transaction, without waiting.  It is an advisory lock keyed by a hash
 * of the name, visible in pg_locks.
 */
static bool
TryLockPipeline(IncetlPipeline *p)
{
	LOCKTAG		tag;
	uint64		h = hash_bytes_extended((const unsigned char *) p->name,
										strlen(p->name), 0);

	SET_LOCKTAG_ADVISORY(tag, MyDatabaseId, (uint32) (h >> 32), (uint32) h,
						 INCETL_LOCK_FIELD4);
	return LockAcquire(&tag, ExclusiveLock, false, true) != LOCKACQUIRE_NOT_AVAIL;
}

/* The committed watermark of a pipeline, or NULL when there is none. */
static char *
ReadWatermark(const char *name)
{
	MemoryContext callercxt = CurrentMemoryContext;
	Oid			argtypes[1] = {TEXTOID};
	Datum		values[1];
	char	   *result = NULL;

	values[0] = CStringGetTextDatum(name);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	/* not read-only: see what earlier runs in this transaction committed */
	if (SPI_execute_with_args("SELECT watermark FROM incetl.watermarks WHERE pipeline_name = $1",
							  1, argtypes, values, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read the watermark of pipeline \"%s\"", name);
	if (SPI_processed == 1)
	{
		char	   *v = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);

		if (v != NULL)
			result = MemoryContextStrdup(callercxt, v);
	}
	SPI_finish();
	return result;
}

static int
CompareWatermarks(Oid typid, Datum a, Datum b)
{
	TypeCacheEntry *tc = lookup_type_cache(typid, TYPECACHE_CMP_PROC_FINFO);

	return DatumGetInt32(FunctionCall2Coll(&tc->cmp_proc_finfo, InvalidOid, a, b));
}

/* Run a one-row, one-bigint query of the batch's source under its snapshot. */
static int64
RunQueryInt64(const char *sql, IncetlBatch *batch)
{
	SPIPlanPtr	plan;
	bool		isnull;
	Datum		d;
	int64		result;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	plan = SPI_prepare(sql, batch->nparams, batch->paramtypes);
	if (plan == NULL)
		elog(ERROR, "could not prepare \"%s\": %s", sql, SPI_result_code_string(SPI_result));
	if (SPI_execute_snapshot(plan, batch->paramvalues, batch->paramnulls,
							 batch->snapshot, InvalidSnapshot, true, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "query failed: %s", sql);
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	result = isnull ? 0 : DatumGetInt64(d);
	SPI_finish();
	return result;
}

/*
 * ExecuteRun does the work of one attempt (see the file header) and logs
 * its SUCCESS or NO_DATA row.  Returns the rows written.  Runs inside the
 * attempt's subtransaction; raises on any error.
 */
static int64
ExecuteRun(IncetlPipeline *p, bool full_refresh, IncetlLogEntry *e)
{
	IncetlUserContext uctx;
	IncetlBatch batch;
	IncetlRunCounts counts = {0, 0, 0, 0, 0};
	const IncetlTargetWriter *writer;
	Oid			source_relid;
	Oid			wmtype = p->watermark_type;
	const char *wm = quote_identifier(p->watermark_column);
	const char *source;
	char	   *from_text;
	bool		has_from;
	Datum		from = (Datum) 0;
	Datum		to;
	Oid			paramtypes[2];
	Datum		paramvalues[2];
	char		paramnulls[2];
	char	   *range;
	char	   *to_text;
	bool		no_data = false;
	bool		advance = true;
	int64		run_id;
	Oid			owner_type;

	from_text = ReadWatermark(p->name);
	has_from = (from_text != NULL && !full_refresh);
	e->last_run_timestamp = has_from ? from_text : NULL;

	IncetlBecomeOwner(p, &uctx, true);

	source_relid = IncetlResolveRelation(p->source, false);
	source = quote_qualified_identifier(get_namespace_name(get_rel_namespace(source_relid)),
										get_rel_name(source_relid));
	owner_type = get_atttype(source_relid, get_attnum(source_relid, p->watermark_column));
	if (owner_type != wmtype)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("watermark column \"%s\" of %s is now %s, the pipeline \"%s\" was defined with %s",
						p->watermark_column, source,
						OidIsValid(owner_type) ? format_type_be(owner_type) : "missing",
						p->name, format_type_be(wmtype)),
				 errhint("Redefine the pipeline with incetl.alter_pipeline.")));

	memset(&batch, 0, sizeof(batch));
	batch.pipeline = p;
	batch.target_relid = IncetlResolveRelation(p->target, false);
	writer = IncetlGetTargetWriter(batch.target_relid);

	if (has_from)
		from = IncetlWatermarkFromText(from_text, wmtype);

	/*
	 * When the bound did not move past the watermark (nothing committed
	 * above it yet, or an old transaction still holds it back) the run has
	 * nothing to do and keeps the watermark where it is.
	 */
	if (!IncetlSafeUpperBound(p, source_relid, has_from, from, &to, (char **) &e->note) ||
		(has_from && CompareWatermarks(wmtype, to, from) <= 0))
	{
		no_data = true;
		advance = false;
		to = from;
	}

	/* a FAILED row shows the bound the attempt was working towards */
	if (advance)
		e->current_run_timestamp = IncetlWatermarkToText(to, wmtype);

	/* every statement of the run reads the source as of this instant */
	batch.snapshot = RegisterSnapshot(GetLatestSnapshot());
	paramtypes[0] = paramtypes[1] = wmtype;
	paramvalues[0] = from;
	paramvalues[1] = to;
	paramnulls[0] = has_from ? ' ' : 'n';
	paramnulls[1] = ' ';
	batch.nparams = 2;
	batch.paramtypes = paramtypes;
	batch.paramvalues = paramvalues;
	batch.paramnulls = paramnulls;

	range = IncetlRangeClause(p, has_from);

	if (!no_data && p->max_batch_rows > 0)
	{
		/*
		 * Cut the batch after max_batch_rows rows in watermark order; rows
		 * that tie with the last one taken come along, so the next run can
		 * start strictly after it.
		 */
		char	   *sql = psprintf("SELECT %s FROM %s WHERE %s ORDER BY %s OFFSET " INT64_FORMAT " LIMIT 1",
								   wm, source, range, wm, p->max_batch_rows - 1);
		SPIPlanPtr	plan;

		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		plan = SPI_prepare(sql, 2, paramtypes);
		if (plan == NULL)
			elog(ERROR, "could not prepare \"%s\"", sql);
		if (SPI_execute_snapshot(plan, paramvalues, paramnulls, batch.snapshot,
								 InvalidSnapshot, true, false, 1) != SPI_OK_SELECT)
			elog(ERROR, "query failed: %s", sql);
		if (SPI_processed == 1)
		{
			bool		isnull;
			Datum		cut = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);

			/* watermark types are by value, except none: copy is not needed */
			if (!isnull && CompareWatermarks(wmtype, cut, to) < 0)
			{
				paramvalues[1] = to = cut;
				e->current_run_timestamp = IncetlWatermarkToText(to, wmtype);
			}
		}
		SPI_finish();
	}

	if (!no_data)
	{
		counts.read = RunQueryInt64(psprintf("SELECT count(*) FROM %s WHERE %s", source, range),
									&batch);
		if (counts.read == 0 && !full_refresh)
			no_data = true;
	}

	if (full_refresh)
		writer->truncate(&batch, &counts);

	if (!no_data && counts.read > 0)
	{
		batch.batch_sql = IncetlBatchSql(p, source_relid, range);
		batch.batch_desc = IncetlDescribeBatch(p, source_relid);
		writer->write(&batch, &counts);
	}

	UnregisterSnapshot(batch.snapshot);
	IncetlRestoreUser(&uctx);

	/* log, then move the watermark; both as part of this transaction */
	if (advance)
		to_text = IncetlWatermarkToText(to, wmtype);
	else
		to_text = has_from ? from_text : NULL;
	e->current_run_timestamp = to_text;
	e->counts = counts;
	e->status = (counts.read == 0 && counts.deleted == 0) ? "NO_DATA" : "SUCCESS";
	e->finished_at = GetCurrentTimestamp();
	run_id = IncetlInsertLog(e);

	{
		Oid			types[3] = {TEXTOID, TEXTOID, INT8OID};
		Datum		values[3];
		char		nulls[3] = {' ', ' ', ' '};

		values[0] = CStringGetTextDatum(p->name);
		if (to_text != NULL)
			values[1] = CStringGetTextDatum(to_text);
		else
			nulls[1] = 'n';
		values[2] = Int64GetDatum(run_id);
		IncetlCatalogExec("INSERT INTO incetl.watermarks AS w (pipeline_name, watermark, updated_at, run_id) "
						  "VALUES ($1, $2, pg_catalog.now(), $3) "
						  "ON CONFLICT (pipeline_name) DO UPDATE SET watermark = EXCLUDED.watermark, "
						  "updated_at = EXCLUDED.updated_at, run_id = EXCLUDED.run_id",
						  3, types, values, nulls, 1);
	}

	return counts.inserted + counts.updated + counts.deleted;
}

static bool
IsTransient(int sqlerrcode)
{
	return sqlerrcode == ERRCODE_T_R_SERIALIZATION_FAILURE ||
		sqlerrcode == ERRCODE_T_R_DEADLOCK_DETECTED ||
		sqlerrcode == ERRCODE_LOCK_NOT_AVAILABLE;
}

static void
SleepInterval(Interval *delay)
{
	int64		usecs = delay->time + (int64) delay->day * USECS_PER_DAY +
		(int64) delay->month * DAYS_PER_MONTH * USECS_PER_DAY;
	TimestampTz until = GetCurrentTimestamp() + usecs;

	for (;;)
	{
		long		ms = (long) ((until - GetCurrentTimestamp()) / 1000);

		if (ms <= 0)
			break;
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 ms, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}
}

Datum
incetl_run(PG_FUNCTION_ARGS)
{
	char	   *name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	bool		full_refresh = PG_GETARG_BOOL(1);
	IncetlPipeline *p;
	IncetlLogEntry e;
	MemoryContext fncxt = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;

	/* a standby can neither write the target nor log: say so at once */
	PreventCommandDuringRecovery("incetl_run()");

	p = IncetlLoadPipeline(name, false);
	IncetlCheckPipelineOwner(p, "run");
	if (IsolationUsesXactSnapshot())
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TRANSACTION_STATE),
				 errmsg("pipeline \"%s\" cannot run in a %s transaction", p->name,
						IsolationIsSerializable() ? "SERIALIZABLE" : "REPEATABLE READ"),
				 errdetail("A run must see every transaction committed before its upper bound."),
				 errhint("Call incetl_run in a READ COMMITTED transaction.")));

	memset(&e, 0, sizeof(e));
	e.pipeline_name = p->name;
	e.full_refresh = full_refresh;
	e.started_at = GetCurrentTimestamp();
	e.attempt = 1;

	if (!p->enabled || !TryLockPipeline(p))
	{
		e.status = "SKIPPED";
		e.error_message = !p->enabled ? "pipeline is paused" :
			"another run of the pipeline is in progress";
		e.finished_at = GetCurrentTimestamp();
		(void) IncetlInsertLog(&e);
		ereport(NOTICE,
				(errmsg("pipeline \"%s\" skipped: %s", p->name, e.error_message)));
		PG_RETURN_INT64(0);
	}

	for (;;)
	{
		volatile int64 rows = 0;
		ErrorData  *edata = NULL;

		BeginInternalSubTransaction(NULL);
		MemoryContextSwitchTo(fncxt);

		PG_TRY();
		{
			rows = ExecuteRun(p, full_refresh, &e);
			ReleaseCurrentSubTransaction();
			MemoryContextSwitchTo(fncxt);
			CurrentResourceOwner = oldowner;
		}
		PG_CATCH();
		{
			MemoryContextSwitchTo(fncxt);
			edata = CopyErrorData();
			FlushErrorState();
			RollbackAndReleaseCurrentSubTransaction();
			MemoryContextSwitchTo(fncxt);
			CurrentResourceOwner = oldowner;
		}
		PG_END_TRY();

		if (edata == NULL)
			PG_RETURN_INT64(rows);

		e.status = "FAILED";
		memset(&e.counts, 0, sizeof(e.counts));
		e.error_message = edata->message;
		e.sqlstate = unpack_sql_state(edata->sqlerrcode);
		e.error_detail = edata->detail;
		e.error_context = edata->context;
		e.finished_at = GetCurrentTimestamp();
		IncetlInsertLogAutonomous(&e);

		if (!IsTransient(edata->sqlerrcode) || e.attempt > p->max_retries)
			ReThrowError(edata);

		ereport(NOTICE,
				(errmsg("pipeline \"%s\" attempt %d failed (%s), retrying",
						p->name, e.attempt, edata->message)));
		SleepInterval(&p->retry_delay);
		e.attempt++;
		e.started_at = GetCurrentTimestamp();
		e.error_message = e.sqlstate = e.error_detail = e.error_context = NULL;
		e.last_run_timestamp = e.current_run_timestamp = e.note = NULL;
	}
}

/*
 * incetl.safe_upper_bound(name): the bound the next run would use now,
 * computed (and waited for) exactly as a run does, without extracting.
 */
Datum
incetl_safe_upper_bound(PG_FUNCTION_ARGS)
{
	IncetlPipeline *p = IncetlLoadPipeline(text_to_cstring(PG_GETARG_TEXT_PP(0)), false);
	IncetlUserContext uctx;
	char	   *from_text;
	Datum		from = (Datum) 0;
	Datum		bound;
	Oid			source_relid;
	bool		found;
	char	   *result = NULL;

	IncetlCheckPipelineOwner(p, "inspect");
	from_text = ReadWatermark(p->name);
	IncetlBecomeOwner(p, &uctx, false);
	source_relid = IncetlResolveRelation(p->source, false);
	if (from_text)
		from = IncetlWatermarkFromText(from_text, p->watermark_type);
	found = IncetlSafeUpperBound(p, source_relid, from_text != NULL, from, &bound, NULL);
	result = found ? IncetlWatermarkToText(bound, p->watermark_type) : from_text;
	IncetlRestoreUser(&uctx);
	if (result == NULL)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(result));
}
