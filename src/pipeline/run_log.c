/*-------------------------------------------------------------------------
 *
 * run_log.c
 *	  Rows of incetl.run_log, written two ways.
 *
 *	  A run that succeeds (or finds no data, or is skipped) logs in its own
 *	  transaction, so the log row commits with the target write and the
 *	  watermark, or not at all.
 *
 *	  A run that fails must leave a FAILED row behind although its
 *	  transaction is rolled back, and the caller (psql, pg_cron) must still
 *	  get the error.  The row is therefore written by a short-lived
 *	  background worker in a transaction of its own, which the failing
 *	  backend starts and waits for before it re-throws the error.  We chose
 *	  a worker over a second libpq connection (dblink) because it needs no
 *	  password, no pg_hba entry and no other extension, and it runs as the
 *	  catalog owner inside the same database.
 *
 *	  A NO_DATA run that follows a NO_DATA run of the same pipeline adds
 *	  no row: it extends the last one (MergeNoData), which then stands for
 *	  the whole streak and counts it in its note (retention applies as for
 *	  a new row).  That is what most runs of a scheduled pipeline do, so
 *	  it is done without SQL: the last row is found through the pipeline's
 *	  index and updated in place, a HOT update when its page has room
 *	  (UpdateRunLogRow; an UPDATE statement when somebody gave run_log
 *	  triggers or the like), and the retention is probed through the same
 *	  index before its DELETE runs (RetentionDue).
 *
 *	  Retention: each row written (either way) comes with the deletion of
 *	  its pipeline's oldest rows past incetl.run_log_retention, a bounded
 *	  number at a time; incetl.purge_run_log() deletes all of them.
 *
 * Copyright (c) 2026, incetl developers
 *
 * IDENTIFICATION
 *	  src/pipeline/run_log.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/index.h"
#include "catalog/pg_am.h"
#include "catalog/pg_index.h"
#include "catalog/pg_type.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "storage/dsm.h"
#include "tcop/tcopprot.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/rel.h"
#include "utils/guc.h"
#include "utils/inval.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "incetl.h"

/* shared with the log worker through a DSM segment */
typedef struct IncetlLogShared
{
	Oid			database_id;
	Oid			user_id;
	bool		done;
	char		sql[FLEXIBLE_ARRAY_MEMBER];
} IncetlLogShared;

PGDLLEXPORT void incetl_log_worker_main(Datum main_arg);

PG_FUNCTION_INFO_V1(incetl_purge_run_log);

/*
 * The retention statement (see RetentionSql): of the pipeline's hundred
 * oldest rows, those older than the retention (minutes).  It starts from
 * them (the pipeline's index, then the primary key), never from a scan of
 * the whole log, whose size it must not depend on.
 */
#define RETENTION_SQL(pipeline, minutes) \
	"DELETE FROM incetl.run_log AS d USING (" \
	"SELECT l.run_id, l.started_at FROM incetl.run_log AS l " \
	"WHERE l.pipeline_name OPERATOR(pg_catalog.=) " pipeline " " \
	"ORDER BY l.run_id LIMIT 100) AS o " \
	"WHERE d.run_id OPERATOR(pg_catalog.=) o.run_id " \
	"AND o.started_at OPERATOR(pg_catalog.<) (pg_catalog.now() " \
	"OPERATOR(pg_catalog.-) pg_catalog.make_interval(mins => " minutes "))"

static char *RetentionSql(const char *pipeline_name);
static int64 MergeNoData(IncetlLogEntry *e, bool *due);
static bool RetentionDue(Relation rel, Relation index, const char *pipeline_name);
static void ApplyRetention(const char *pipeline_name, bool probe, bool due);

/*
 * The note of a row that stands for a streak of NO_DATA runs is "<count>"
 * NO_DATA_STREAK_MIDDLE "<start of the first run>" (MergeNoData writes
 * and reads it).
 */
#define NO_DATA_STREAK_MIDDLE " consecutive NO_DATA runs, the first started at "

#define RUN_LOG_COLUMNS \
	"pipeline_name, started_at, finished_at, last_run_timestamp, " \
	"current_run_timestamp, status, records_read, records_inserted, " \
	"records_updated, records_deleted, records_processed, " \
	"processing_time_seconds, error_message, sqlstate, error_detail, " \
	"error_context, attempt, environment, full_refresh, commit_id, note"

static double
ElapsedSeconds(IncetlLogEntry *e)
{
	return (double) (e->finished_at - e->started_at) / USECS_PER_SEC;
}

static int64
Processed(IncetlLogEntry *e)
{
	return e->counts.inserted + e->counts.updated + e->counts.deleted;
}

/*
 * IncetlInsertLog writes a run_log row in the current transaction and
 * returns its run_id.
 */
int64
IncetlInsertLog(IncetlLogEntry *e)
{
	Oid			types[21] = {TEXTOID, TIMESTAMPTZOID, TIMESTAMPTZOID, TEXTOID,
		TEXTOID, TEXTOID, INT8OID, INT8OID, INT8OID, INT8OID, INT8OID,
		FLOAT8OID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, INT4OID, TEXTOID, BOOLOID,
	INT8OID, TEXTOID};
	Datum		values[21];
	char		nulls[21];
	int64		run_id;

	e->merged = false;
	if (strcmp(e->status, "NO_DATA") == 0 && e->attempt == 1 && !e->full_refresh &&
		e->note == NULL && e->last_run_timestamp != NULL)
	{
		bool		due;

		run_id = MergeNoData(e, &due);
		if (run_id > 0)
		{
			e->merged = true;
			ApplyRetention(e->pipeline_name, false, due);
			return run_id;
		}
	}

	memset(nulls, ' ', sizeof(nulls));
#define TEXT_OR_NULL(i, s) \
	do { if ((s) != NULL) values[i] = CStringGetTextDatum(s); else nulls[i] = 'n'; } while (0)

	TEXT_OR_NULL(0, e->pipeline_name);
	values[1] = TimestampTzGetDatum(e->started_at);
	values[2] = TimestampTzGetDatum(e->finished_at);
	TEXT_OR_NULL(3, e->last_run_timestamp);
	TEXT_OR_NULL(4, e->current_run_timestamp);
	TEXT_OR_NULL(5, e->status);
	values[6] = Int64GetDatum(e->counts.read);
	values[7] = Int64GetDatum(e->counts.inserted);
	values[8] = Int64GetDatum(e->counts.updated);
	values[9] = Int64GetDatum(e->counts.deleted);
	values[10] = Int64GetDatum(Processed(e));
	values[11] = Float8GetDatum(ElapsedSeconds(e));
	TEXT_OR_NULL(12, e->error_message);
	TEXT_OR_NULL(13, e->sqlstate);
	TEXT_OR_NULL(14, e->error_detail);
	TEXT_OR_NULL(15, e->error_context);
	values[16] = Int32GetDatum(e->attempt);
	TEXT_OR_NULL(17, incetl_environment);
	values[18] = BoolGetDatum(e->full_refresh);
	values[19] = Int64GetDatum(e->counts.commit_id);
	if (e->counts.commit_id == 0)
		nulls[19] = 'n';
	TEXT_OR_NULL(20, e->note);
#undef TEXT_OR_NULL

	run_id = IncetlCatalogExec("INSERT INTO incetl.run_log (" RUN_LOG_COLUMNS ") "
							   "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, "
							   "$12, $13, $14, $15, $16, $17, $18, $19, $20, $21) RETURNING run_id",
							   21, types, values, nulls, 1);
	ApplyRetention(e->pipeline_name, true, true);
	return run_id;
}

/*
 * RunLogIndexOpen opens run_log's index on (pipeline_name, run_id),
 * run_log_pipeline_idx; NULL when it is not there (a catalog the scans
 * cannot rely on): the callers then go through SQL.
 */
static Relation
RunLogIndexOpen(void)
{
	Oid			indexid = IncetlCatalogRelid("run_log_pipeline_idx");

	return OidIsValid(indexid) ? index_open(indexid, AccessShareLock) : NULL;
}

/*
 * RunLogScan starts an ordered scan of one pipeline's rows of
 * incetl.run_log (rel) by run_id through index (RunLogIndexOpen), under
 * snapshot.
 */
static SysScanDesc
RunLogScan(Relation rel, Relation index, const char *pipeline_name,
		   Snapshot snapshot)
{
	ScanKeyData key;

	/* the scan takes the heap's attribute number of the index's column */
	ScanKeyInit(&key, index->rd_index->indkey.values[0], BTEqualStrategyNumber,
				F_TEXTEQ, CStringGetTextDatum(pipeline_name));
	key.sk_collation = index->rd_indcollation[0];
	return systable_beginscan_ordered(rel, index, snapshot, 1, &key);
}

/* RunLogColumn is the attribute number of a column of run_log (desc). */
static AttrNumber
RunLogColumn(TupleDesc desc, const char *column)
{
	int			col = IncetlTupleDescColumn(desc, column);

	if (col < 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("incetl.run_log has no column \"%s\"", column),
				 errhint("Run ALTER EXTENSION incetl UPDATE;")));
	return col + 1;
}

/*
 * What every empty run needs to know of run_log's relation: the attribute
 * numbers of the columns it reads and writes, and whether its rows can be
 * updated directly (DirectUpdateOK).  Kept for the backend and forgotten
 * at any relcache invalidation (a column, trigger, rule, policy or index
 * of run_log changed, or anything else did: the next run looks again).
 */
typedef struct RunLogInfo
{
	Oid			relid;			/* InvalidOid: to be looked up */
	bool		direct_ok;
	AttrNumber	run_id;
	AttrNumber	started_at;
	AttrNumber	finished_at;
	AttrNumber	current_run_timestamp;
	AttrNumber	status;
	AttrNumber	processing_time_seconds;
	AttrNumber	error_message;
	AttrNumber	attempt;
	AttrNumber	environment;
	AttrNumber	full_refresh;
	AttrNumber	note;
} RunLogInfo;

static RunLogInfo run_log_info;
static bool run_log_info_callback = false;
static uint64 run_log_info_invalidations = 0;

static bool DirectUpdateOK(Relation rel);

static void
RunLogInfoInvalidate(Datum arg, Oid relid)
{
	run_log_info.relid = InvalidOid;
	run_log_info_invalidations++;
}

/* RunLogInfoOf is the RunLogInfo of run_log (rel), looked up when needed. */
static const RunLogInfo *
RunLogInfoOf(Relation rel)
{
	TupleDesc	desc = RelationGetDescr(rel);
	RunLogInfo	info;
	uint64		invalidations = run_log_info_invalidations;

	if (!run_log_info_callback)
	{
		CacheRegisterRelcacheCallback(RunLogInfoInvalidate, (Datum) 0);
		run_log_info_callback = true;
	}
	if (run_log_info.relid == RelationGetRelid(rel))
		return &run_log_info;

	info.run_id = RunLogColumn(desc, "run_id");
	info.started_at = RunLogColumn(desc, "started_at");
	info.finished_at = RunLogColumn(desc, "finished_at");
	info.current_run_timestamp = RunLogColumn(desc, "current_run_timestamp");
	info.status = RunLogColumn(desc, "status");
	info.processing_time_seconds = RunLogColumn(desc, "processing_time_seconds");
	info.error_message = RunLogColumn(desc, "error_message");
	info.attempt = RunLogColumn(desc, "attempt");
	info.environment = RunLogColumn(desc, "environment");
	info.full_refresh = RunLogColumn(desc, "full_refresh");
	info.note = RunLogColumn(desc, "note");
	info.direct_ok = DirectUpdateOK(rel);
	info.relid = RelationGetRelid(rel);
	run_log_info = info;
	/* an invalidation while looking (reading the catalogs): look again next time */
	if (invalidations != run_log_info_invalidations)
		run_log_info.relid = InvalidOid;
	return &run_log_info;
}

static char *
RunLogText(HeapTuple tup, TupleDesc desc, AttrNumber attnum)
{
	bool		isnull;
	Datum		d = heap_getattr(tup, attnum, desc, &isnull);

	return isnull ? NULL : TextDatumGetCString(d);
}

/*
 * DirectUpdateOK tells whether a row of run_log (rel) can be updated
 * directly (UpdateRunLogRow) rather than through an UPDATE
 * statement: whether the statement would do nothing more than the heap
 * update and the insertion of plain index entries.  Not when the table
 * is not a heap (default_table_access_method when the extension was
 * created), has triggers, rules, forced row-level security, generated columns,
 * other CHECK constraints than its own, or an index with expressions, a
 * predicate, exclusion, a deferred check, or not ready: somebody added
 * them, and the statement honours them.
 */
static bool
DirectUpdateOK(Relation rel)
{
	TupleConstr *constr = RelationGetDescr(rel)->constr;
	List	   *indexes;
	ListCell   *lc;
	bool		ok = true;

	if (rel->rd_rel->relkind != RELKIND_RELATION ||
		rel->rd_rel->relam != HEAP_TABLE_AM_OID || rel->rd_rel->relhastriggers ||
		rel->rd_rel->relhasrules || rel->rd_rel->relforcerowsecurity ||
		(constr != NULL && (constr->has_generated_stored || constr->num_check > 1)))
		return false;
	/* from the system caches: opening the indexes would build their relcache entries */
	indexes = RelationGetIndexList(rel);
	foreach(lc, indexes)
	{
		HeapTuple	tup = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(lfirst_oid(lc)));
		Form_pg_index ind;

		if (!HeapTupleIsValid(tup))
		{
			ok = false;
			break;
		}
		ind = (Form_pg_index) GETSTRUCT(tup);
		if (!ind->indislive || !ind->indisready || !ind->indimmediate ||
			ind->indisexclusion ||
			!heap_attisnull(tup, Anum_pg_index_indexprs, NULL) ||
			!heap_attisnull(tup, Anum_pg_index_indpred, NULL))
			ok = false;
		ReleaseSysCache(tup);
		if (!ok)
			break;
	}
	list_free(indexes);
	return ok;
}

/*
 * UpdateRunLogRow replaces the row oldtup of run_log (rel, opened with
 * RowExclusiveLock; DirectUpdateOK) with newtup, as the UPDATE statement
 * would: a heap update, HOT when the page has room (no indexed column
 * changes), else with new entries in every index.  false, with nothing
 * changed, when the row was updated or deleted concurrently.
 */
static bool
UpdateRunLogRow(Relation rel, HeapTuple oldtup, HeapTuple newtup)
{
	TM_FailureData tmfd;
	LockTupleMode lockmode;
	TM_Result	result;

	result = heap_update(rel, &oldtup->t_self, newtup, GetCurrentCommandId(true),
						 InvalidSnapshot, true, &tmfd, &lockmode);
	if (result != TM_Ok)
		return false;
	if (!HeapTupleIsHeapOnly(newtup))
	{
		List	   *indexes = RelationGetIndexList(rel);
		TupleTableSlot *slot = MakeSingleTupleTableSlot(RelationGetDescr(rel),
														&TTSOpsHeapTuple);
		ListCell   *lc;

		ExecStoreHeapTuple(newtup, slot, false);
		foreach(lc, indexes)
		{
			Relation	index = index_open(lfirst_oid(lc), RowExclusiveLock);
			IndexInfo  *info = BuildIndexInfo(index);
			Datum		values[INDEX_MAX_KEYS];
			bool		isnull[INDEX_MAX_KEYS];

			FormIndexDatum(info, slot, NULL, values, isnull);
			/* no indexed column changed: a version of the same row */
			(void) index_insert(index, values, isnull, &newtup->t_self, rel,
								index->rd_index->indisunique ? UNIQUE_CHECK_YES : UNIQUE_CHECK_NO,
								true, info);
			index_close(index, RowExclusiveLock);
		}
		ExecDropSingleTupleTableSlot(slot);
		list_free(indexes);
	}
	/* what follows in the run sees it, as after the statement */
	CommandCounterIncrement();
	return true;
}

/*
 * MergeNoData extends the pipeline's last run_log row with this NO_DATA
 * run, when that row is a NO_DATA run too that ended where this one
 * started (its current_run_timestamp is this run's last_run_timestamp),
 * of the first attempt, not a full refresh, without error, of the same
 * environment and without a note other than a streak's: the row keeps
 * its last_run_timestamp (the streak's lower bound) and takes this run's
 * started_at, finished_at, current_run_timestamp and processing time; its
 * note counts the runs it stands for and keeps the start of the first.
 * Returns the row's run_id, or 0 when there is no such row (the caller
 * inserts one).  *due tells, for a row merged, whether the retention may
 * have something to delete (RetentionDue, probed through the index this
 * function opened anyway).
 *
 * This runs on every empty run, so it is cheap: the last row is found and
 * checked through the pipeline's index, and updated directly
 * (UpdateRunLogRow), changing no indexed column, so the update is HOT
 * when the page has room.  When somebody gave run_log triggers or the
 * like (DirectUpdateOK), an UPDATE statement as the catalog owner names
 * the row by run_id and applies only if it still is what was read.
 */
static int64
MergeNoData(IncetlLogEntry *e, bool *due)
{
	Oid			relid = IncetlCatalogRelid("run_log");
	Relation	rel;
	Relation	index;
	TupleDesc	desc;
	RunLogInfo	info;
	Snapshot	snapshot;
	SysScanDesc scan;
	HeapTuple	tup;
	HeapTuple	oldtup = NULL;
	int64		run_id = 0;
	int64		count = 0;
	char	   *since = NULL;
	char	   *note = NULL;
	char	   *upper = NULL;
	char	   *newnote;

	*due = true;
	if (!OidIsValid(relid))
		return 0;
	rel = table_open(relid, RowExclusiveLock);
	desc = RelationGetDescr(rel);
	info = *RunLogInfoOf(rel);
	index = RunLogIndexOpen();
	if (index == NULL)
	{
		table_close(rel, RowExclusiveLock);
		return 0;
	}
	snapshot = RegisterSnapshot(GetTransactionSnapshot());
	scan = RunLogScan(rel, index, e->pipeline_name, snapshot);
	tup = systable_getnext_ordered(scan, BackwardScanDirection);
	if (HeapTupleIsValid(tup))
	{
		char	   *status = RunLogText(tup, desc, info.status);
		char	   *env = RunLogText(tup, desc, info.environment);
		bool		isnull;
		int32		attempt;
		bool		full_refresh;
		TimestampTz started_at;

		upper = RunLogText(tup, desc, info.current_run_timestamp);
		note = RunLogText(tup, desc, info.note);
		attempt = DatumGetInt32(heap_getattr(tup, info.attempt, desc, &isnull));
		full_refresh = DatumGetBool(heap_getattr(tup, info.full_refresh, desc, &isnull));
		started_at = DatumGetTimestampTz(heap_getattr(tup, info.started_at, desc, &isnull));
		if (status != NULL && strcmp(status, "NO_DATA") == 0 && attempt == 1 &&
			!full_refresh && heap_attisnull(tup, info.error_message, desc) &&
			upper != NULL && strcmp(upper, e->last_run_timestamp) == 0 &&
			((env == NULL && incetl_environment == NULL) ||
			 (env != NULL && incetl_environment != NULL &&
			  strcmp(env, incetl_environment) == 0)))
		{
			if (note == NULL)
			{
				count = 1;
				since = DatumGetCString(DirectFunctionCall1(timestamptz_out,
															TimestampTzGetDatum(started_at)));
			}
			else
			{
				char	   *end;

				/* a streak's note: "<count> consecutive ... started at <since>" */
				errno = 0;
				count = strtoi64(note, &end, 10);
				if (errno == 0 && end != note && count > 0 &&
					strncmp(end, NO_DATA_STREAK_MIDDLE, strlen(NO_DATA_STREAK_MIDDLE)) == 0)
					since = end + strlen(NO_DATA_STREAK_MIDDLE);
			}
			if (since != NULL)
			{
				run_id = DatumGetInt64(heap_getattr(tup, info.run_id, desc, &isnull));
				oldtup = heap_copytuple(tup);
			}
		}
	}
	systable_endscan_ordered(scan);
	UnregisterSnapshot(snapshot);
	if (run_id == 0)
	{
		index_close(index, AccessShareLock);
		table_close(rel, RowExclusiveLock);
		return 0;
	}
	newnote = psprintf(INT64_FORMAT NO_DATA_STREAK_MIDDLE "%s", count + 1, since);

	if (info.direct_ok)
	{
		Datum	   *values = palloc0(sizeof(Datum) * desc->natts);
		bool	   *nulls = palloc0(sizeof(bool) * desc->natts);
		bool	   *replace = palloc0(sizeof(bool) * desc->natts);
		HeapTuple	newtup;
		bool		updated;

#define REPLACE(attnum, value, isnull) \
	do { \
		values[(attnum) - 1] = (value); nulls[(attnum) - 1] = (isnull); \
		replace[(attnum) - 1] = true; \
	} while (0)
		REPLACE(info.started_at, TimestampTzGetDatum(e->started_at), false);
		REPLACE(info.finished_at, TimestampTzGetDatum(e->finished_at), false);
		REPLACE(info.current_run_timestamp,
				e->current_run_timestamp ? CStringGetTextDatum(e->current_run_timestamp) : (Datum) 0,
				e->current_run_timestamp == NULL);
		REPLACE(info.processing_time_seconds, Float8GetDatum(ElapsedSeconds(e)), false);
		REPLACE(info.note, CStringGetTextDatum(newnote), false);
#undef REPLACE
		newtup = heap_modify_tuple(oldtup, desc, values, nulls, replace);
		updated = UpdateRunLogRow(rel, oldtup, newtup);
		/* the retention's probe sees the row as updated */
		if (updated && incetl_run_log_retention >= 0)
			*due = RetentionDue(rel, index, e->pipeline_name);
		index_close(index, AccessShareLock);
		table_close(rel, RowExclusiveLock);
		return updated ? run_id : 0;
	}
	else
	{
		Oid			types[8] = {INT8OID, TIMESTAMPTZOID, TIMESTAMPTZOID, TEXTOID,
		FLOAT8OID, TEXTOID, TEXTOID, TEXTOID};
		Datum		values[8];
		char		nulls[8] = {' ', ' ', ' ', ' ', ' ', ' ', ' ', ' '};

		index_close(index, AccessShareLock);
		table_close(rel, RowExclusiveLock);
		values[0] = Int64GetDatum(run_id);
		values[1] = TimestampTzGetDatum(e->started_at);
		values[2] = TimestampTzGetDatum(e->finished_at);
		if (e->current_run_timestamp != NULL)
			values[3] = CStringGetTextDatum(e->current_run_timestamp);
		else
			nulls[3] = 'n';
		values[4] = Float8GetDatum(ElapsedSeconds(e));
		values[5] = CStringGetTextDatum(newnote);
		values[6] = CStringGetTextDatum(upper);
		if (note != NULL)
			values[7] = CStringGetTextDatum(note);
		else
			nulls[7] = 'n';
		run_id = IncetlCatalogExec("UPDATE incetl.run_log AS l SET "
								   "started_at = $2, finished_at = $3, current_run_timestamp = $4, "
								   "processing_time_seconds = $5, note = $6 "
								   "WHERE l.run_id OPERATOR(pg_catalog.=) $1 "
								   "AND l.status OPERATOR(pg_catalog.=) 'NO_DATA' "
								   "AND l.current_run_timestamp OPERATOR(pg_catalog.=) $7 "
								   "AND l.note IS NOT DISTINCT FROM $8 "
								   "RETURNING l.run_id",
								   8, types, values, nulls, -1);
		if (run_id > 0 && incetl_run_log_retention >= 0)
			*due = RetentionDue(NULL, NULL, e->pipeline_name);
		return run_id;
	}
}

/*
 * RetentionDue tells whether the retention statement would delete
 * anything: whether one of the pipeline's hundred oldest rows (by run_id)
 * started before now - retention.  Read through the pipeline's index
 * (rel and index: run_log and RunLogIndexOpen's index, open; NULL to open
 * them here), without SQL: most runs have nothing to delete.  true when
 * it cannot tell.
 */
static bool
RetentionDue(Relation rel, Relation index, const char *pipeline_name)
{
	bool		opened = false;
	Snapshot	snapshot;
	SysScanDesc scan;
	HeapTuple	tup;
	TimestampTz cutoff;
	bool		due = false;
	int			started_col;

	if (rel == NULL)
	{
		Oid			relid = IncetlCatalogRelid("run_log");

		if (!OidIsValid(relid))
			return true;
		rel = table_open(relid, AccessShareLock);
		index = RunLogIndexOpen();
		if (index == NULL)
		{
			table_close(rel, AccessShareLock);
			return true;
		}
		opened = true;
	}
	cutoff = GetCurrentTransactionStartTimestamp() -
		(int64) incetl_run_log_retention * USECS_PER_MINUTE;
	started_col = RunLogInfoOf(rel)->started_at;
	snapshot = RegisterSnapshot(GetTransactionSnapshot());
	scan = RunLogScan(rel, index, pipeline_name, snapshot);
	for (int n = 0; n < 100 && !due; n++)
	{
		bool		isnull;
		Datum		d;

		tup = systable_getnext_ordered(scan, ForwardScanDirection);
		if (!HeapTupleIsValid(tup))
			break;
		d = heap_getattr(tup, started_col, RelationGetDescr(rel), &isnull);
		due = !isnull && DatumGetTimestampTz(d) < cutoff;
	}
	systable_endscan_ordered(scan);
	UnregisterSnapshot(snapshot);
	if (opened)
	{
		index_close(index, AccessShareLock);
		table_close(rel, AccessShareLock);
	}
	return due;
}

/*
 * ApplyRetention runs RetentionSql's statement for a row written in this
 * transaction, with the pipeline and the retention as parameters, so that
 * its plan is kept (spi_cache.c): when probe, only if RetentionDue says it
 * may delete something, otherwise only if due.
 */
static void
ApplyRetention(const char *pipeline_name, bool probe, bool due)
{
	Oid			types[2] = {TEXTOID, INT4OID};
	Datum		values[2];

	if (incetl_run_log_retention < 0 ||
		(probe ? !RetentionDue(NULL, NULL, pipeline_name) : !due))
		return;
	values[0] = CStringGetTextDatum(pipeline_name);
	values[1] = Int32GetDatum(incetl_run_log_retention);
	(void) IncetlCatalogExec(RETENTION_SQL("$1", "$2"), 2, types, values, NULL, -1);
}

/*
 * RetentionSql is the statement that applies incetl.run_log_retention to
 * one pipeline's rows as a run logs: it deletes those among the pipeline's
 * hundred oldest rows that are older than the retention, so its cost does
 * not grow with the log, and a log past its retention shrinks by up to a
 * hundred rows per run.  NULL when the retention is off (-1).
 */
static char *
RetentionSql(const char *pipeline_name)
{
	if (incetl_run_log_retention < 0)
		return NULL;
	return psprintf(RETENTION_SQL("%s", "%d"),
					quote_literal_cstr(pipeline_name), incetl_run_log_retention);
}

/*
 * incetl.purge_run_log(older_than interval): deletes every run_log row
 * older than older_than (default: incetl.run_log_retention), of every
 * pipeline, dropped ones included.  For the catalog owner (the extension's
 * owner) and superusers.  Returns the number of rows deleted.
 */
Datum
incetl_purge_run_log(PG_FUNCTION_ARGS)
{
	Oid			types[1] = {INTERVALOID};
	Datum		values[1];

	IncetlCheckCatalogVersion();
	if (!has_privs_of_role(GetUserId(), IncetlCatalogOwner()))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to purge incetl.run_log"),
				 errdetail("Only the owner of the extension or a superuser may purge the log of every pipeline.")));
	if (PG_ARGISNULL(0))
	{
		if (incetl_run_log_retention < 0)
			PG_RETURN_INT64(0);
		values[0] = DirectFunctionCall7(make_interval, Int32GetDatum(0), Int32GetDatum(0),
										Int32GetDatum(0), Int32GetDatum(0), Int32GetDatum(0),
										Int32GetDatum(incetl_run_log_retention),
										Float8GetDatum(0));
	}
	else
		values[0] = PG_GETARG_DATUM(0);
	PG_RETURN_INT64(IncetlCatalogExec("WITH d AS (DELETE FROM incetl.run_log "
									  "WHERE started_at OPERATOR(pg_catalog.<) (pg_catalog.now() "
									  "OPERATOR(pg_catalog.-) $1) RETURNING 1) "
									  "SELECT pg_catalog.count(*) FROM d",
									  1, types, values, NULL, 1));
}

static const char *
Literal(const char *s)
{
	return s ? quote_literal_cstr(s) : "NULL";
}

/*
 * IncetlInsertLogAutonomous writes a run_log row that survives the
 * rollback of the current transaction (see the file header).  Failing to
 * record it is a WARNING, never an error: the caller is about to report
 * the run's own error, which matters more.
 */
void
IncetlInsertLogAutonomous(IncetlLogEntry *e)
{
	StringInfoData sql;
	dsm_segment *seg;
	IncetlLogShared *shared;
	BackgroundWorker worker;
	BackgroundWorkerHandle *handle;
	BgwHandleStatus status;
	pid_t		pid;
	char	   *purge;

	/* the worker could never start (it needs a writable database) */
	if (RecoveryInProgress())
	{
		ereport(WARNING,
				(errmsg("could not record the failed run of pipeline \"%s\" in incetl.run_log",
						e->pipeline_name),
				 errdetail("The server is in recovery.")));
		return;
	}

	initStringInfo(&sql);
	appendStringInfo(&sql,
					 "INSERT INTO incetl.run_log (" RUN_LOG_COLUMNS ", run_by) VALUES "
					 "(%s, %s::timestamptz, %s::timestamptz, %s, %s, %s, "
					 INT64_FORMAT ", " INT64_FORMAT ", " INT64_FORMAT ", "
					 INT64_FORMAT ", " INT64_FORMAT ", %.6f, %s, %s, %s, %s, %d, %s, %s, NULL, %s, %s)",
					 Literal(e->pipeline_name),
					 Literal(IncetlWatermarkToText(TimestampTzGetDatum(e->started_at), TIMESTAMPTZOID)),
					 Literal(IncetlWatermarkToText(TimestampTzGetDatum(e->finished_at), TIMESTAMPTZOID)),
					 Literal(e->last_run_timestamp),
					 Literal(e->current_run_timestamp),
					 Literal(e->status),
					 e->counts.read, e->counts.inserted, e->counts.updated,
					 e->counts.deleted, Processed(e), ElapsedSeconds(e),
					 Literal(e->error_message), Literal(e->sqlstate),
					 Literal(e->error_detail), Literal(e->error_context),
					 e->attempt, Literal(incetl_environment),
					 e->full_refresh ? "true" : "false",
					 Literal(e->note),
					 Literal(GetUserNameFromId(GetSessionUserId(), false)));
	purge = RetentionSql(e->pipeline_name);
	if (purge != NULL)
		appendStringInfo(&sql, "; %s", purge);

	seg = dsm_create(offsetof(IncetlLogShared, sql) + sql.len + 1, 0);
	shared = (IncetlLogShared *) dsm_segment_address(seg);
	shared->database_id = MyDatabaseId;
	shared->user_id = IncetlCatalogOwner();
	shared->done = false;
	memcpy(shared->sql, sql.data, sql.len + 1);

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "incetl");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "incetl_log_worker_main");
	snprintf(worker.bgw_name, BGW_MAXLEN, "incetl run log writer");
	snprintf(worker.bgw_type, BGW_MAXLEN, "incetl run log writer");
	worker.bgw_main_arg = UInt32GetDatum(dsm_segment_handle(seg));
	worker.bgw_notify_pid = MyProcPid;

	if (!RegisterDynamicBackgroundWorker(&worker, &handle))
	{
		ereport(WARNING,
				(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
				 errmsg("could not record the failed run of pipeline \"%s\" in incetl.run_log",
						e->pipeline_name),
				 errdetail("No background worker slot was free."),
				 errhint("Raise max_worker_processes.")));
		dsm_detach(seg);
		return;
	}
	status = WaitForBackgroundWorkerStartup(handle, &pid);
	if (status == BGWH_STARTED || status == BGWH_STOPPED)
		status = WaitForBackgroundWorkerShutdown(handle);
	if (!shared->done)
		ereport(WARNING,
				(errmsg("could not record the failed run of pipeline \"%s\" in incetl.run_log",
						e->pipeline_name),
				 errdetail("The log writer worker did not finish; see the server log.")));
	dsm_detach(seg);
}

/*
 * incetl_log_worker_main is the background worker that writes one
 * run_log row in its own transaction.
 */
void
incetl_log_worker_main(Datum main_arg)
{
	dsm_segment *seg;
	IncetlLogShared *shared;

	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();

	seg = dsm_attach(DatumGetUInt32(main_arg));
	if (seg == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("incetl run log writer could not map its shared memory segment")));
	shared = (IncetlLogShared *) dsm_segment_address(seg);

	BackgroundWorkerInitializeConnectionByOid(shared->database_id, shared->user_id, 0);

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	PushActiveSnapshot(GetTransactionSnapshot());
	pgstat_report_activity(STATE_RUNNING, "incetl: writing a FAILED run_log row");

	/*
	 * The failing backend waits for us; should it hold a lock we need (it
	 * locked incetl.run_log itself, say), give up rather than wait forever.
	 */
	(void) set_config_option("lock_timeout", "5s", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SET, true, 0, false);
	/* the row, then the retention of its pipeline's log (RetentionSql) */
	if (SPI_execute(shared->sql, false, 0) < 0)
		elog(ERROR, "incetl run log writer could not insert its row");
	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	pgstat_report_activity(STATE_IDLE, NULL);

	shared->done = true;
	dsm_detach(seg);
}
