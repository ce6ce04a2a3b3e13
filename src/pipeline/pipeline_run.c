/*-------------------------------------------------------------------------
 *
 * pipeline_run.c
 *	  incetl_run(name, full_refresh): one incremental run of a pipeline.
 *
 *	  In order: check the caller may run it; skip (SKIPPED, 0) when it is
 *	  paused or another run holds its lock; then, in a subtransaction and
 *	  as the pipeline owner, read the committed watermark, choose the safe
 *	  upper bound (watermark.c; for an incetl_cow source the newest commit
 *	  the run's snapshot sees), take the run's snapshot, count the batch,
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

#include "access/table.h"
#include "access/xact.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "storage/latch.h"
#include "storage/lock.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/resowner.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "utils/typcache.h"
#include "utils/wait_event.h"

#include "cow.h"
#include "incetl.h"

PG_FUNCTION_INFO_V1(incetl_run);
PG_FUNCTION_INFO_V1(incetl_safe_upper_bound);

/* field4 of our advisory lock tags, so they never collide with users' */
#define INCETL_LOCK_FIELD4 0x4945

static bool TryLockPipeline(IncetlPipeline *p);
static int64 ExecuteRun(IncetlPipeline *p, bool full_refresh, IncetlLogEntry *e);
static int64 RunQueryInt64(const char *sql, IncetlBatch *batch, bool keep);
static bool IsTransient(int sqlerrcode);
static void SleepInterval(Interval *delay);
static int	CompareWatermarks(Oid typid, Datum a, Datum b);
static void PlanBatch(IncetlPipeline *p, Oid source_relid,
					  const IncetlTargetWriter *writer, IncetlBatch *batch);

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

static int
CompareWatermarks(Oid typid, Datum a, Datum b)
{
	TypeCacheEntry *tc = lookup_type_cache(typid, TYPECACHE_CMP_PROC_FINFO);

	return DatumGetInt32(FunctionCall2Coll(&tc->cmp_proc_finfo, InvalidOid, a, b));
}

/*
 * Run a one-bigint query of the batch's source under its snapshot: its
 * value, or 0 when it returns no row.  With keep, its plan is kept for
 * the next runs (spi_cache.c): only for queries of relations, whose
 * plans are invalidated with them; not for the change functions of an
 * incetl_cow source, whose NULL::source argument names a row type a
 * kept plan would not notice dropped.
 */
static int64
RunQueryInt64(const char *sql, IncetlBatch *batch, bool keep)
{
	bool		isnull;
	Datum		d;
	int64		result;
	SPIPlanPtr	plan;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	plan = keep ? IncetlPreparePlan(sql, batch->nparams, batch->paramtypes) :
		SPI_prepare(sql, batch->nparams, batch->paramtypes);
	if (plan == NULL ||
		SPI_execute_snapshot(plan, batch->paramvalues, batch->paramnulls,
							 batch->snapshot, InvalidSnapshot, true, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "query failed: %s", sql);
	if (SPI_processed == 0)
		result = 0;				/* a probe that found no row */
	else
	{
		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
		result = isnull ? 0 : DatumGetInt64(d);
	}
	SPI_finish();
	return result;
}

/*
 * The bounds of one run's batch.  Value watermarks (time, integers) read
 * "source WHERE lower < column <= upper"; incetl_cow sources read
 * incetl.changes(NULL::source, lower, upper) with commit ids as bounds,
 * or without a watermark column (feed mode) the change feed,
 * incetl.net_changes(NULL::source, lower, upper).
 * Either way parameter $1 is the lower bound (NULL on a full load) and $2
 * the upper one.
 */
typedef struct RunBounds
{
	bool		commits;		/* commit-id watermark (incetl_cow source) */
	bool		has_from;
	bool		advance;		/* false: keep the committed watermark */
	bool		no_data;
	bool		refresh;		/* feed mode: timeline restarted, reload */
	Oid			paramtypes[2];
	Datum		paramvalues[2];
	char		paramnulls[2];
	char	   *from_text;		/* committed watermark, text form */
	char	   *from_item;		/* what the batch reads */
	char	   *where;			/* which of its rows */
} RunBounds;

/*
 * ValueBounds chooses the bounds of a value watermark: the safe upper
 * bound (watermark.c), cut at max_batch_rows.  Registers the run's
 * snapshot, after the bound, in batch->snapshot.
 */
static void
ValueBounds(IncetlPipeline *p, Oid source_relid, RunBounds *b,
			IncetlBatch *batch, IncetlLogEntry *e)
{
	Oid			wmtype = p->watermark_type;
	const char *wm = quote_identifier(p->watermark_column);
	Datum		from = (Datum) 0;
	Datum		to;
	Oid			coltype;

	coltype = get_atttype(source_relid, get_attnum(source_relid, p->watermark_column));
	if (coltype != wmtype)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("watermark column \"%s\" of %s is now %s, the pipeline \"%s\" was defined with %s",
						p->watermark_column, p->source,
						OidIsValid(coltype) ? format_type_be(coltype) : "missing",
						p->name, format_type_be(wmtype)),
				 errhint("Redefine the pipeline with incetl.alter_pipeline.")));

	if (b->has_from)
		from = IncetlWatermarkFromText(b->from_text, wmtype);

	/*
	 * When the bound did not move past the watermark (nothing committed
	 * above it yet, or an old transaction still holds it back) the run has
	 * nothing to do and keeps the watermark where it is.
	 */
	if (!IncetlSafeUpperBound(p, source_relid, b->has_from, from, &to, &e->note) ||
		(b->has_from && CompareWatermarks(wmtype, to, from) <= 0))
	{
		b->no_data = true;
		b->advance = false;
		to = from;
	}

	/* every statement of the run reads the source as of this instant */
	batch->snapshot = RegisterSnapshot(GetLatestSnapshot());
	b->paramtypes[0] = b->paramtypes[1] = wmtype;
	b->paramvalues[0] = from;
	b->paramvalues[1] = to;
	b->paramnulls[0] = b->has_from ? ' ' : 'n';
	b->paramnulls[1] = ' ';
	b->from_item = quote_qualified_identifier(get_namespace_name(get_rel_namespace(source_relid)),
											  get_rel_name(source_relid));
	b->where = IncetlRangeClause(p, b->has_from);

	if (!b->no_data && p->max_batch_rows > 0)
	{
		/*
		 * Cut the batch after max_batch_rows rows in watermark order; rows
		 * that tie with the last one taken come along, so the next run can
		 * start strictly after it.
		 */
		char	   *sql = psprintf("SELECT %s FROM %s WHERE %s ORDER BY %s OFFSET " INT64_FORMAT " LIMIT 1",
								   wm, b->from_item, b->where, wm, p->max_batch_rows - 1);

		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		if (IncetlExecBatchStatement(batch, sql, true, 1) != SPI_OK_SELECT)
			elog(ERROR, "query failed: %s", sql);
		if (SPI_processed == 1)
		{
			bool		isnull;
			Datum		cut = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);

			/* watermark types are all passed by value: no copy needed */
			if (!isnull && CompareWatermarks(wmtype, cut, to) < 0)
				b->paramvalues[1] = cut;
		}
		SPI_finish();
	}
}

/*
 * SetCommitRange makes the commits in (from_commit, to_commit] the range
 * of a run ($1, $2); an empty range is NO_DATA, and the watermark stays
 * unless the run is a full load.
 */
static void
SetCommitRange(RunBounds *b, int64 from_commit, int64 to_commit)
{
	if (to_commit <= from_commit)
	{
		b->no_data = true;
		b->advance = b->has_from ? false : b->advance;
		to_commit = from_commit;
	}
	b->paramtypes[0] = b->paramtypes[1] = INT8OID;
	b->paramvalues[0] = Int64GetDatum(from_commit);
	b->paramvalues[1] = Int64GetDatum(to_commit);
	b->paramnulls[0] = b->paramnulls[1] = ' ';
}

/*
 * CommitBounds chooses the bounds of an incetl_cow source: from the
 * committed commit id to the newest commit the run's snapshot sees.
 * Commit ids are handed out under a lock held until the writer commits,
 * so every commit up to that one is visible: the bound is exact, and no
 * safety lag or waiting is needed.  max_batch_rows does not apply (a run
 * takes whole commits).  *e gets a note when the source's timeline has
 * restarted.
 */
static void
CommitBounds(Oid source_relid, int64 from_commit, RunBounds *b, IncetlBatch *batch,
			 IncetlLogEntry *e)
{
	int64		to_commit;

	batch->snapshot = RegisterSnapshot(GetLatestSnapshot());
	to_commit = cow_latest_commit_id(source_relid, batch->snapshot);

	/*
	 * A source whose newest commit is older than the watermark has a new
	 * timeline (it was dumped and restored, or recreated): its commit ids
	 * started over, so read it all again; the upsert makes that harmless.
	 */
	if (b->has_from && to_commit < from_commit)
	{
		e->note = psprintf("source timeline restarted (newest commit " INT64_FORMAT
						   " is older than the watermark " INT64_FORMAT "): read in full",
						   to_commit, from_commit);
		b->has_from = false;
	}
	if (!b->has_from)
		from_commit = 0;
	SetCommitRange(b, from_commit, to_commit);
	b->from_item = psprintf("incetl.changes(NULL::%s, $1, $2) AS incetl_changes",
							quote_qualified_identifier(get_namespace_name(get_rel_namespace(source_relid)),
													   get_rel_name(source_relid)));
	b->where = "true";
}

/*
 * CutAtWholeCommits lowers the upper bound of a feed-mode run so that its
 * commits changed at most max_batch_rows rows (inserted + updated +
 * deleted, as incetl.commits() counts them), but takes at least the first
 * commit after the watermark, whole.  Reads the timeline under the run's
 * snapshot.
 */
static void
CutAtWholeCommits(IncetlPipeline *p, Oid source_relid, RunBounds *b,
				  IncetlBatch *batch)
{
	char	   *sql;

	sql = psprintf("SELECT COALESCE(pg_catalog.max(c.commit_id) "
				   "FILTER (WHERE c.total <= " INT64_FORMAT "), pg_catalog.min(c.commit_id)) "
				   "FROM (SELECT commit_id, pg_catalog.sum(rows_inserted + rows_updated + rows_deleted) "
				   "OVER (ORDER BY commit_id) AS total "
				   "FROM incetl.commits(%u::pg_catalog.oid::pg_catalog.regclass) "
				   "WHERE commit_id > $1 AND commit_id <= $2) AS c",
				   p->max_batch_rows, source_relid);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (IncetlExecBatchStatement(batch, sql, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "query failed: %s", sql);
	if (SPI_processed == 1)
	{
		bool		isnull;
		Datum		cut = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);

		if (!isnull && DatumGetInt64(cut) < DatumGetInt64(b->paramvalues[1]))
			b->paramvalues[1] = cut;
	}
	SPI_finish();
}

/*
 * FeedBounds chooses the bounds of a pipeline reading the change feed of
 * its incetl_cow source (feed mode): as CommitBounds, from the committed
 * commit id to the newest commit the run's snapshot sees, exact for the
 * same reason; then cut at max_batch_rows by whole commits.
 *
 * The feed from the watermark needs the source's history back to that
 * commit: when it is gone (cleaned, or dropped by VACUUM FULL or a table
 * rewrite) the run fails rather than skip changes.  A source whose
 * timeline restarted (dumped and restored) is read in full into an
 * emptied target (b->refresh), so no stale row survives; *e gets a note.
 */
static void
FeedBounds(IncetlPipeline *p, Oid source_relid, int64 from_commit, RunBounds *b,
		   IncetlBatch *batch, IncetlLogEntry *e)
{
	int64		to_commit;
	int64		oldest;

	batch->snapshot = RegisterSnapshot(GetLatestSnapshot());
	to_commit = cow_latest_commit_id(source_relid, batch->snapshot);

	if (b->has_from && to_commit < from_commit)
	{
		e->note = psprintf("source timeline restarted (newest commit " INT64_FORMAT
						   " is older than the watermark " INT64_FORMAT
						   "): full refresh, the target was emptied and reloaded",
						   to_commit, from_commit);
		b->has_from = false;
		b->refresh = true;
		e->full_refresh = true;
	}
	if (!b->has_from)
		from_commit = 0;
	else if (to_commit > from_commit &&
			 !cow_commit_readable(source_relid, from_commit, batch->snapshot, &oldest))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("pipeline \"%s\" cannot read the changes of %s since its watermark commit " INT64_FORMAT,
						p->name, p->source, from_commit),
				 errdetail("The history of %s before commit " INT64_FORMAT
						   " is gone (cleaned, or dropped by VACUUM FULL or a table rewrite); "
						   "the oldest readable commit is " INT64_FORMAT ".",
						   p->source, oldest, oldest),
				 errhint("Reload the target with SELECT incetl_run(%s, full_refresh => true), "
						 "or restart from scratch with SELECT incetl.reset_pipeline(%s); "
						 "raise retain_commits of %s to keep more history.",
						 quote_literal_cstr(p->name), quote_literal_cstr(p->name),
						 p->source)));
	SetCommitRange(b, from_commit, to_commit);
	b->from_item = IncetlFeedSql(source_relid, "$1", "$2");
	b->where = "true";

	if (!b->no_data && p->max_batch_rows > 0)
		CutAtWholeCommits(p, source_relid, b, batch);
}

/*
 * PlanBatch decides how the writer takes the batch: without the in-batch
 * dedup when the batch cannot repeat a record key (batch_keys.c; a DEBUG1
 * message says so), and whether the write itself counts the rows read
 * (records_read), which spares a count(*) of the batch.  It does when
 * every source row of the batch is one row the write's INSERT processes:
 * no transform (which could drop or add rows), a target that is a plain
 * table without trigger or rule (which could skip or redirect a row),
 * and for a heap target a batch of unique keys with neither precombine (a
 * row it loses is not written) nor delete marker (a deleting row is not
 * inserted).  An incetl_cow target inserts every row of the batch (the
 * table merges them), outside feed mode.
 */
static void
PlanBatch(IncetlPipeline *p, Oid source_relid, const IncetlTargetWriter *writer,
		  IncetlBatch *batch)
{
	bool		heap = (writer == &IncetlHeapTargetWriter);
	char	   *reason = NULL;
	bool		plain_target;
	Relation	rel;

	if (heap && IncetlBatchKeysUnique(p, source_relid, batch->target_relid, &reason))
	{
		batch->keys_unique = true;
		ereport(DEBUG1,
				(errmsg_internal("pipeline \"%s\" writes its batch without in-batch dedup: %s",
								 p->name, reason)));
	}

	rel = table_open(batch->target_relid, AccessShareLock);
	/* a partition's own trigger could skip a row: plain tables only */
	plain_target = rel->rd_rel->relkind == RELKIND_RELATION &&
		!rel->rd_rel->relhastriggers && !rel->rd_rel->relhasrules;
	table_close(rel, AccessShareLock);
	if (p->transform != NULL || !plain_target)
		return;
	if (heap)
		batch->count_read = batch->keys_unique && p->precombine == NULL &&
			IncetlDeleteMarker(p) == NULL;
	else
		batch->count_read = !IncetlFeedMode(p);
}

static char *
BoundText(IncetlPipeline *p, RunBounds *b, int i)
{
	if (b->commits)
		return psprintf(INT64_FORMAT, DatumGetInt64(b->paramvalues[i]));
	return IncetlWatermarkToText(b->paramvalues[i], p->watermark_type);
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
	RunBounds	b;
	const IncetlTargetWriter *writer;
	Oid			source_relid;
	int64		from_commit;
	char	   *to_text;
	int64		run_id;

	memset(&b, 0, sizeof(b));
	b.from_text = IncetlReadWatermark(p->name, &from_commit);
	b.advance = true;

	IncetlBecomeOwner(p, &uctx, true);

	source_relid = IncetlResolveRelation(p->source, false);
	b.commits = IncetlRelationIsCow(source_relid);
	b.has_from = !full_refresh && (b.commits ? from_commit >= 0 : b.from_text != NULL);

	memset(&batch, 0, sizeof(batch));
	batch.pipeline = p;
	batch.target_relid = IncetlResolveRelation(p->target, false);
	batch.nparams = 2;
	batch.paramtypes = b.paramtypes;
	batch.paramvalues = b.paramvalues;
	batch.paramnulls = b.paramnulls;
	writer = IncetlGetTargetWriter(batch.target_relid);

	if (IncetlFeedMode(p) && !b.commits)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("source %s of pipeline \"%s\" is no longer an incetl_cow table",
						p->source, p->name),
				 errdetail("The pipeline has no watermark column: it reads the source's change feed."),
				 errhint("Give it one with incetl.alter_pipeline(%s, watermark_column => ...).",
						 quote_literal_cstr(p->name))));
	if (IncetlFeedMode(p))
		FeedBounds(p, source_relid, from_commit, &b, &batch, e);
	else if (b.commits)
		CommitBounds(source_relid, from_commit, &b, &batch, e);
	else
		ValueBounds(p, source_relid, &b, &batch, e);

	e->last_run_timestamp = b.has_from ? BoundText(p, &b, 0) : NULL;
	/* a FAILED row shows the bound the attempt was working towards */
	if (b.advance)
		e->current_run_timestamp = BoundText(p, &b, 1);

	/*
	 * A value-watermark batch is probed for one row first, so that an
	 * empty one is neither planned, counted nor written (the change
	 * functions of an incetl_cow source would compute their result twice:
	 * their count(*) serves instead).  Then, unless the write counts the
	 * rows read itself (PlanBatch), a count(*) of the batch.
	 */
	if (!b.no_data && !b.commits &&
		RunQueryInt64(psprintf("SELECT 1::pg_catalog.int8 FROM %s WHERE %s LIMIT 1",
							   b.from_item, b.where), &batch, true) == 0)
	{
		if (!full_refresh && !b.refresh)
			b.no_data = true;
	}
	else if (!b.no_data)
	{
		PlanBatch(p, source_relid, writer, &batch);
		if (!batch.count_read)
		{
			counts.read = RunQueryInt64(psprintf("SELECT count(*) FROM %s WHERE %s",
												 b.from_item, b.where),
										&batch, !b.commits);
			if (counts.read == 0 && !full_refresh && !b.refresh)
				b.no_data = true;
		}
	}

	if (full_refresh || b.refresh)
		writer->truncate(&batch, &counts);

	if (!b.no_data && (batch.count_read || counts.read > 0))
	{
		if (IncetlFeedMode(p))
			batch.batch_sql = IncetlBatchSql(p, source_relid, b.where);
		else
			batch.batch_sql = IncetlBatchSqlFrom(p, b.from_item, b.where);
		batch.batch_desc = IncetlDescribeBatch(p, source_relid);
		writer->write(&batch, &counts);
	}

	UnregisterSnapshot(batch.snapshot);
	IncetlRestoreUser(&uctx);

	/* log, then move the watermark; both as part of this transaction */
	if (b.advance)
		to_text = BoundText(p, &b, 1);
	else
		to_text = b.has_from ? BoundText(p, &b, 0) : NULL;
	e->current_run_timestamp = to_text;
	e->counts = counts;
	e->status = (counts.read == 0 && counts.deleted == 0) ? "NO_DATA" : "SUCCESS";
	e->finished_at = GetCurrentTimestamp();
	run_id = IncetlInsertLog(e);

	/* a NO_DATA streak's row (run_log.c) that left the watermark alone */
	if (!(e->merged && !b.advance))
	{
		Oid			types[4] = {TEXTOID, TEXTOID, INT8OID, INT8OID};
		Datum		values[4];
		char		nulls[4] = {' ', ' ', ' ', 'n'};

		values[0] = CStringGetTextDatum(p->name);
		values[2] = Int64GetDatum(run_id);
		if (to_text == NULL)
			nulls[1] = 'n';
		else if (b.commits)
		{
			/* the text form stays NULL: it is a value of watermark_column */
			nulls[1] = 'n';
			values[3] = b.paramvalues[b.advance ? 1 : 0];
			nulls[3] = ' ';
		}
		else
			values[1] = CStringGetTextDatum(to_text);
		IncetlCatalogExec("INSERT INTO incetl.watermarks AS w "
						  "(pipeline_name, watermark, updated_at, run_id, watermark_commit) "
						  "VALUES ($1, $2, pg_catalog.now(), $3, $4) "
						  "ON CONFLICT (pipeline_name) DO UPDATE SET watermark = EXCLUDED.watermark, "
						  "updated_at = EXCLUDED.updated_at, run_id = EXCLUDED.run_id, "
						  "watermark_commit = EXCLUDED.watermark_commit",
						  4, types, values, nulls, 1);
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
 * computed (and waited for) exactly as a run does, without extracting: a
 * value of the watermark column, or for an incetl_cow source the commit id.
 */
Datum
incetl_safe_upper_bound(PG_FUNCTION_ARGS)
{
	IncetlPipeline *p = IncetlLoadPipeline(text_to_cstring(PG_GETARG_TEXT_PP(0)), false);
	IncetlUserContext uctx;
	char	   *from_text;
	int64		from_commit;
	Datum		from = (Datum) 0;
	Datum		bound;
	Oid			source_relid;
	char	   *result = NULL;

	IncetlCheckPipelineOwner(p, "inspect");
	from_text = IncetlReadWatermark(p->name, &from_commit);
	IncetlBecomeOwner(p, &uctx, false);
	source_relid = IncetlResolveRelation(p->source, false);
	if (IncetlRelationIsCow(source_relid))
	{
		Snapshot	snap = RegisterSnapshot(GetLatestSnapshot());

		result = psprintf(INT64_FORMAT,
						  Max(cow_latest_commit_id(source_relid, snap), from_commit));
		UnregisterSnapshot(snap);
	}
	else
	{
		if (from_text)
			from = IncetlWatermarkFromText(from_text, p->watermark_type);
		if (IncetlSafeUpperBound(p, source_relid, from_text != NULL, from, &bound, NULL))
			result = IncetlWatermarkToText(bound, p->watermark_type);
		else
			result = from_text;
	}
	IncetlRestoreUser(&uctx);
	if (result == NULL)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(result));
}
