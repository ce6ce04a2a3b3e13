/*-------------------------------------------------------------------------
 *
 * watermark.c
 *	  Watermark values and the safe upper bound of a run.
 *
 *	  A run extracts source rows with from < watermark_column <= bound.
 *	  The bound must be chosen so that every row at or below it is already
 *	  committed and visible to the run's snapshot; otherwise a writer that
 *	  commits later, with a value below the bound, is skipped forever (the
 *	  naive "bound = now()" loses rows exactly so).
 *
 *	  Time watermarks (timestamptz, timestamp, date): a row is stamped no
 *	  earlier than the start of the transaction that writes it (now() is
 *	  that start; clock_timestamp() is later).  So the bound is the oldest
 *	  start time of any transaction still in progress in this database
 *	  (read from the backend status array, before the run's snapshot is
 *	  taken), or the clock when there is none, minus the pipeline's
 *	  safety_lag for values stamped outside the database.  A date bound is
 *	  the last day that is complete before that instant.
 *
 *	  Two kinds of writer have no start time in the status array:
 *	  prepared (two-phase) transactions, which have no backend, and backends
 *	  with track_activities off.  The run waits for them to end (prepared
 *	  transactions only when they hold a write lock on the source), bounded
 *	  by incetl.writer_wait_timeout, before its snapshot is taken.
 *
 *	  Integer watermarks (sequences): values are handed out in order, but
 *	  committed out of order.  The bound is the largest value visible in a
 *	  first snapshot; then the run waits until every transaction that was
 *	  writing the source has ended (its lock on the source tells; for
 *	  views and foreign tables, every transaction with an xid), so any
 *	  value at or below the bound is committed when the run's own snapshot
 *	  is taken.  A value handed out later is larger than the bound.
 *
 *	  Values are stored as text in ISO form (DateStyle ISO, UTC), so the
 *	  session's DateStyle or TimeZone never changes what is read back.
 *
 * Copyright (c) 2026, incetl developers
 *
 * IDENTIFICATION
 *	  src/pipeline/watermark.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_class.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_type.h"
#include "utils/array.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "storage/lock.h"
#include "storage/proc.h"
#include "storage/procarray.h"
#include "storage/sinvaladt.h"
#include "utils/backend_status.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/fmgrprotos.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "incetl.h"

/* an open transaction older than this gets named in run_log.note */
#define INCETL_NOTE_HELD_BACK_USECS USECS_PER_SEC

static int	BeginIsoStyle(void);
static TimestampTz OldestTransactionStart(TimestampTz now, char **note,
										  List **untracked);
static void WaitForSourceWriters(Oid source_relid, Snapshot snapshot);
static void WaitForLockHolders(Oid relid);
static List *SourceTables(Oid source_relid);
static void WaitForPreparedWriters(Oid source_relid);
static void WaitForUntrackedBackends(List *pids);
static int	BeginWriterWait(void);
static void prepared_wait_context(void *arg);

bool
IncetlIsWatermarkType(Oid typid)
{
	switch (typid)
	{
		case TIMESTAMPTZOID:
		case TIMESTAMPOID:
		case DATEOID:
		case INT2OID:
		case INT4OID:
		case INT8OID:
			return true;
		default:
			return false;
	}
}

bool
IncetlWatermarkIsTime(Oid typid)
{
	return typid == TIMESTAMPTZOID || typid == TIMESTAMPOID || typid == DATEOID;
}

/* Enter a GUC nest level with DateStyle ISO and TimeZone UTC. */
static int
BeginIsoStyle(void)
{
	int			nest = NewGUCNestLevel();

	(void) set_config_option("datestyle", "ISO, YMD", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	(void) set_config_option("timezone", "UTC", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	return nest;
}

char *
IncetlWatermarkToText(Datum value, Oid typid)
{
	int			nest = BeginIsoStyle();
	Oid			outfunc;
	bool		isvarlena;
	char	   *result;

	getTypeOutputInfo(typid, &outfunc, &isvarlena);
	result = OidOutputFunctionCall(outfunc, value);
	AtEOXact_GUC(false, nest);
	return result;
}

/*
 * IncetlWatermarkFromText parses a stored (or user-given) watermark.  A
 * value that does not parse is reported with the type it should have.
 */
Datum
IncetlWatermarkFromText(const char *text, Oid typid)
{
	int			nest = BeginIsoStyle();
	Oid			infunc;
	Oid			ioparam;
	Datum		result;

	getTypeInputInfo(typid, &infunc, &ioparam);
	result = OidInputFunctionCall(infunc, (char *) text, ioparam, -1);
	AtEOXact_GUC(false, nest);
	return result;
}

/*
 * OldestTransactionStart returns one microsecond before the start time of
 * the oldest transaction in progress in this database, other than ours,
 * or before now when there is none: a row stamped with now() by that
 * transaction carries exactly its start time, and must stay above the
 * bound.  Only client backends and background workers write user rows;
 * autovacuum and the like are ignored.  A backend that is running a
 * statement but has not yet published its transaction start counts with
 * its statement start, which is the same instant.  Backends that publish
 * nothing (track_activities off) are appended to *untracked.
 */
static TimestampTz
OldestTransactionStart(TimestampTz now, char **note, List **untracked)
{
	TimestampTz oldest = now;
	int			holder = 0;
	int			nbackends;

	/* the status array is cached per transaction; we need it fresh */
	pgstat_clear_backend_activity_snapshot();
	nbackends = pgstat_fetch_stat_numbackends();

	for (int i = 1; i <= nbackends; i++)
	{
		LocalPgBackendStatus *local = pgstat_fetch_stat_local_beentry(i);
		PgBackendStatus *be;
		TimestampTz start;

		if (local == NULL)
			continue;
		be = &local->backendStatus;
		if (be->st_procpid == MyProcPid || be->st_databaseid != MyDatabaseId)
			continue;
		if (be->st_backendType != B_BACKEND && be->st_backendType != B_BG_WORKER)
			continue;
		if (be->st_state == STATE_DISABLED)
		{
			/* track_activities is off there: we cannot see its start */
			*untracked = lappend_int(*untracked, be->st_procpid);
			continue;
		}

		start = be->st_xact_start_timestamp;
		if (start == 0 &&
			(be->st_state == STATE_RUNNING || be->st_state == STATE_FASTPATH))
			start = be->st_activity_start_timestamp;
		if (start != 0 && start < oldest)
		{
			oldest = start;
			holder = be->st_procpid;
		}
	}
	pgstat_clear_backend_activity_snapshot();

	/* tell the operator who holds the bound back, when it is noticeable */
	if (note != NULL && holder != 0 && now - oldest > INCETL_NOTE_HELD_BACK_USECS)
		*note = psprintf("upper bound held back %.1f s by the open transaction of pid %d",
						 (double) (now - oldest) / USECS_PER_SEC, holder);
	return oldest - 1;
}

/*
 * WaitForLockHolders waits until every transaction that holds a lock on
 * relid conflicting with ShareLock (that is, every writer of it) has
 * ended, ignoring (auto)vacuum, which holds such a lock but writes no
 * rows.  Waits are bounded by lock_timeout, set by the caller.
 */
static void
WaitForLockHolders(Oid relid)
{
	LOCKTAG		tag;
	VirtualTransactionId *vxids;

	SET_LOCKTAG_RELATION(tag, MyDatabaseId, relid);
	vxids = GetLockConflicts(&tag, ShareLock, NULL);
	for (; VirtualTransactionIdIsValid(*vxids); vxids++)
	{
		PGPROC	   *proc = BackendIdGetProc(vxids->backendId);

		if (proc != NULL &&
			(proc->statusFlags & (PROC_IS_AUTOVACUUM | PROC_IN_VACUUM)) != 0)
			continue;
		(void) VirtualXactLock(*vxids, true);
		CHECK_FOR_INTERRUPTS();
	}
}

/*
 * WaitForSourceWriters waits for the transactions that may still commit
 * rows into the source.  For tables (and every partition of a
 * partitioned table) those are the holders of a write lock on it; for
 * views and foreign tables we cannot tell, so every transaction that had
 * an xid when the snapshot was taken.
 */
static void
WaitForSourceWriters(Oid source_relid, Snapshot snapshot)
{
	List	   *tables = SourceTables(source_relid);
	int			nest = BeginWriterWait();
	ListCell   *lc;

	if (tables != NIL)
	{
		foreach(lc, tables)
			WaitForLockHolders(lfirst_oid(lc));
		/* lock conflicts do not report prepared transactions */
		WaitForPreparedWriters(source_relid);
	}
	else
	{
		/* the xids of a snapshot include prepared transactions */
		for (uint32 i = 0; i < snapshot->xcnt; i++)
		{
			XactLockTableWait(snapshot->xip[i], NULL, NULL, XLTW_None);
			CHECK_FOR_INTERRUPTS();
		}
	}
	AtEOXact_GUC(false, nest);
}

/*
 * BeginWriterWait enters a GUC nest level whose lock_timeout bounds every
 * wait for writers; AtEOXact_GUC(false, level) leaves it.
 */
static int
BeginWriterWait(void)
{
	int			nest = NewGUCNestLevel();

	(void) set_config_option("lock_timeout",
							 psprintf("%d", incetl_writer_wait_timeout),
							 PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	return nest;
}

/*
 * SourceTables lists the tables whose write locks identify the writers of
 * the source: the table itself, or every partition; NIL for views and
 * foreign tables, whose writers cannot be told by a lock.
 */
static List *
SourceTables(Oid source_relid)
{
	char		relkind = get_rel_relkind(source_relid);

	if (relkind == RELKIND_RELATION || relkind == RELKIND_MATVIEW)
		return list_make1_oid(source_relid);
	if (relkind == RELKIND_PARTITIONED_TABLE)
		return find_all_inheritors(source_relid, NoLock, NULL);
	return NIL;
}

static void
prepared_wait_context(void *arg)
{
	errcontext("waiting for prepared transaction \"%s\" to end", (char *) arg);
}

/*
 * WaitForPreparedWriters waits for the prepared transactions of this
 * database that hold a write lock on the source (all of them for a view or
 * foreign table).  They have no backend, so neither the status array nor
 * lock conflicts show them.  The caller has set lock_timeout.
 */
static void
WaitForPreparedWriters(Oid source_relid)
{
	List	   *tables = SourceTables(source_relid);
	Oid			argtypes[1] = {OIDARRAYOID};
	Datum		values[1];
	char		nulls[1] = {' '};
	int			ret;

	if (tables != NIL)
	{
		Datum	   *elems = palloc(sizeof(Datum) * list_length(tables));
		int			i = 0;
		ListCell   *lc;

		foreach(lc, tables)
			elems[i++] = ObjectIdGetDatum(lfirst_oid(lc));
		values[0] = PointerGetDatum(construct_array(elems, i, OIDOID, sizeof(Oid),
													true, TYPALIGN_INT));
	}
	else
		nulls[0] = 'n';

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	ret = SPI_execute_with_args("SELECT p.transaction, p.gid FROM pg_catalog.pg_prepared_xacts AS p "
								"WHERE p.database = pg_catalog.current_database() "
								"AND ($1 IS NULL OR EXISTS ("
								"  SELECT 1 FROM pg_catalog.pg_locks AS x "
								"  JOIN pg_catalog.pg_locks AS l USING (virtualtransaction) "
								"  WHERE x.locktype = 'transactionid' AND x.transactionid = p.transaction "
								"  AND x.pid IS NULL AND l.pid IS NULL "
								"  AND l.locktype = 'relation' AND l.relation = ANY ($1) "
								"  AND l.mode IN ('RowExclusiveLock', 'ShareRowExclusiveLock', "
								"                 'ExclusiveLock', 'AccessExclusiveLock')))",
								1, argtypes, values, nulls, true, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "could not read pg_prepared_xacts");
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		ErrorContextCallback errcb;
		bool		isnull;
		Datum		xid = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull);

		errcb.callback = prepared_wait_context;
		errcb.arg = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2);
		errcb.previous = error_context_stack;
		error_context_stack = &errcb;
		XactLockTableWait(DatumGetTransactionId(xid), NULL, NULL, XLTW_None);
		error_context_stack = errcb.previous;
		CHECK_FOR_INTERRUPTS();
	}
	SPI_finish();
}

/*
 * WaitForUntrackedBackends waits for the transaction each of the given
 * backends is in, if any: with track_activities off we cannot know when
 * it started, so only its end makes its rows safe.
 */
static void
WaitForUntrackedBackends(List *pids)
{
	ListCell   *lc;

	foreach(lc, pids)
	{
		PGPROC	   *proc = BackendPidGetProc(lfirst_int(lc));
		VirtualTransactionId vxid;

		if (proc == NULL)
			continue;
		GET_VXID_FROM_PGPROC(vxid, *proc);
		if (VirtualTransactionIdIsValid(vxid))
			(void) VirtualXactLock(vxid, true);
		CHECK_FOR_INTERRUPTS();
	}
}

/*
 * IncetlSafeUpperBound computes the upper bound of the next batch (see the
 * file header).  Must be called before the run's snapshot is taken.
 * Returns false when there is nothing to read (an integer source with no
 * value above the lower bound).  *note, when not NULL, may be set to a
 * remark for the run log (who held the bound back).
 */
bool
IncetlSafeUpperBound(IncetlPipeline *p, Oid source_relid, bool has_from,
					 Datum from, Datum *bound, char **note)
{
	if (IncetlWatermarkIsTime(p->watermark_type))
	{
		TimestampTz b;

		if (incetl_test_naive_watermark)
			b = GetCurrentTransactionStartTimestamp();
		else
		{
			List	   *untracked = NIL;
			int			nest;

			b = OldestTransactionStart(GetCurrentTimestamp(), note, &untracked);
			nest = BeginWriterWait();
			WaitForUntrackedBackends(untracked);
			WaitForPreparedWriters(source_relid);
			AtEOXact_GUC(false, nest);
		}
		b = DatumGetTimestampTz(DirectFunctionCall2(timestamptz_mi_interval,
													TimestampTzGetDatum(b),
													IntervalPGetDatum(&p->safety_lag)));
		switch (p->watermark_type)
		{
			case TIMESTAMPTZOID:
				*bound = TimestampTzGetDatum(b);
				break;
			case TIMESTAMPOID:
				*bound = DirectFunctionCall1(timestamptz_timestamp,
											 TimestampTzGetDatum(b));
				break;
			case DATEOID:
				{
					DateADT		d = DatumGetDateADT(DirectFunctionCall1(timestamptz_date,
																		TimestampTzGetDatum(b)));

					/* only days that ended before b are complete */
					if (!incetl_test_naive_watermark && !DATE_NOT_FINITE(d))
						d -= 1;
					*bound = DateADTGetDatum(d);
				}
				break;
		}
		return true;
	}
	else
	{
		Snapshot	snap = RegisterSnapshot(GetLatestSnapshot());
		char	   *sql;
		Oid			argtypes[1];
		Datum		values[1];
		SPIPlanPtr	plan;
		bool		isnull;
		int			ret;

		sql = psprintf("SELECT max(%s) FROM %s%s",
					   quote_identifier(p->watermark_column),
					   quote_qualified_identifier(get_namespace_name(get_rel_namespace(source_relid)),
												  get_rel_name(source_relid)),
					   has_from ? psprintf(" WHERE %s > $1",
										   quote_identifier(p->watermark_column)) : "");
		argtypes[0] = p->watermark_type;
		values[0] = from;

		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		plan = SPI_prepare(sql, has_from ? 1 : 0, argtypes);
		if (plan == NULL)
			elog(ERROR, "could not prepare \"%s\": %s", sql,
				 SPI_result_code_string(SPI_result));
		ret = SPI_execute_snapshot(plan, values, NULL, snap, InvalidSnapshot,
								   true, false, 1);
		if (ret != SPI_OK_SELECT)
			elog(ERROR, "could not read the watermark bound of pipeline \"%s\"", p->name);
		*bound = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
		SPI_finish();

		if (isnull)
		{
			UnregisterSnapshot(snap);
			return false;
		}

		if (!incetl_test_naive_watermark)
			WaitForSourceWriters(source_relid, snap);
		UnregisterSnapshot(snap);

		/* integer Datums are by value: nothing to copy out of SPI */
		return true;
	}
}
