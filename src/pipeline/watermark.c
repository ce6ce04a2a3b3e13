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
 *	  first snapshot; then the run waits until every transaction that may
 *	  still commit a value at or below it has ended, so all of them are
 *	  committed when the run's own snapshot is taken.  Those are:
 *
 *	  - the writers of the source: holders of a write lock on it (every
 *		partition or inheritance child; for views and foreign tables, every
 *		transaction with an xid), and prepared transactions among them;
 *	  - the transactions that took a value from a sequence behind the
 *		column (its default's nextval(), an identity column, a sequence
 *		OWNED BY it; through a simple view, those of the column it shows)
 *		and may not have inserted it yet: nextval() takes RowExclusiveLock
 *		on the sequence, before it reads the sequence, and keeps it to the
 *		end of the transaction.  A transaction that calls nextval() after
 *		the wait began gets a value above the bound, which was handed out
 *		before the first snapshot.
 *
 *	  Values a backend cached earlier (a sequence with CACHE > 1) are handed
 *	  out below values other backends already committed, and escape this;
 *	  such sequences are named in the run's note.  Values chosen without a
 *	  sequence are safe when the statement that inserts them chooses them.
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

#include "access/genam.h"
#include "access/relation.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/transam.h"
#include "access/twophase.h"
#include "access/xact.h"
#include "catalog/pg_am.h"
#include "catalog/pg_class.h"
#include "catalog/pg_index.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_opclass.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "parser/parsetree.h"
#include "rewrite/rewriteHandler.h"
#include "storage/lmgr.h"
#include "storage/lock.h"
#include "storage/proc.h"
#include "storage/procarray.h"
#include "storage/sinvaladt.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/backend_status.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/fmgrprotos.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/rls.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "incetl.h"

/* an open transaction older than this gets named in run_log.note */
#define INCETL_NOTE_HELD_BACK_USECS USECS_PER_SEC

/* views over views followed when looking for a column's sequences */
#define INCETL_MAX_VIEW_DEPTH 16

static int	BeginIsoStyle(void);
static TimestampTz OldestTransactionStart(TimestampTz now, char **note,
										  List **untracked);
static void WaitForSourceWriters(Oid source_relid, List *sequences,
								 Snapshot snapshot);
static void WaitForLockHolders(Oid relid);
static void WaitForSequenceHolders(Oid seqrelid);
static List *SourceTables(Oid source_relid);
static void ColumnOrigins(Oid relid, const char *column, int depth,
						  List **rels, List **columns);
static List *WatermarkSequences(Oid source_relid, const char *column,
								char **note);
static bool IndexedMax(Oid source_relid, const char *column, Oid type,
					   bool has_from, Datum from, Snapshot snapshot,
					   bool *found, Datum *max);
static bool PreparedTransactionsMayExist(void);
static void WaitForPreparedWriters(List *relids);
static void WaitForUntrackedBackends(List *pids);
static int	BeginWriterWait(void);
static void prepared_wait_context(void *arg);
static void sequence_wait_context(void *arg);

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

/*
 * IncetlWatermarkToText is the stored form of a watermark value.  Only
 * time values depend on DateStyle and TimeZone: integers are written
 * without entering a GUC nest level (two settings set and undone, on
 * every run).
 */
char *
IncetlWatermarkToText(Datum value, Oid typid)
{
	int			nest;
	Oid			outfunc;
	bool		isvarlena;
	char	   *result;

	switch (typid)
	{
		case INT2OID:
			return psprintf("%d", (int) DatumGetInt16(value));
		case INT4OID:
			return psprintf("%d", DatumGetInt32(value));
		case INT8OID:
			return psprintf(INT64_FORMAT, DatumGetInt64(value));
	}
	nest = BeginIsoStyle();
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
	int			nest;
	Oid			infunc;
	Oid			ioparam;
	Datum		result;

	/* integers do not depend on DateStyle and TimeZone */
	if (!IncetlWatermarkIsTime(typid))
	{
		getTypeInputInfo(typid, &infunc, &ioparam);
		return OidInputFunctionCall(infunc, (char *) text, ioparam, -1);
	}
	nest = BeginIsoStyle();
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
 * WaitForSequenceHolders waits until every transaction holding a lock on
 * the sequence seqrelid that conflicts with ShareLock has ended: each one
 * that called nextval() on it (also setval() and currval()), since
 * nextval() keeps its RowExclusiveLock to the end of the transaction.
 */
static void
WaitForSequenceHolders(Oid seqrelid)
{
	ErrorContextCallback errcb;

	errcb.callback = sequence_wait_context;
	errcb.arg = (void *) quote_qualified_identifier(get_namespace_name(get_rel_namespace(seqrelid)),
													get_rel_name(seqrelid));
	errcb.previous = error_context_stack;
	error_context_stack = &errcb;
	WaitForLockHolders(seqrelid);
	error_context_stack = errcb.previous;
}

/*
 * WaitForSourceWriters waits for the transactions that may still commit
 * rows into the source.  For tables (and every partition or inheritance
 * child) those are the holders of a write lock on it; for views and
 * foreign tables we cannot tell, so every transaction that had an xid when
 * the snapshot was taken.  Then, whatever the source, for the holders of
 * a value of one of the given sequences, not inserted yet perhaps.
 */
static void
WaitForSourceWriters(Oid source_relid, List *sequences, Snapshot snapshot)
{
	List	   *tables = SourceTables(source_relid);
	int			nest = BeginWriterWait();
	ListCell   *lc;

	if (tables != NIL)
	{
		foreach(lc, tables)
			WaitForLockHolders(lfirst_oid(lc));
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
	foreach(lc, sequences)
		WaitForSequenceHolders(lfirst_oid(lc));
	/* lock conflicts do not report prepared transactions */
	if (tables != NIL)
		WaitForPreparedWriters(list_concat(tables, sequences));
	else if (sequences != NIL)
		WaitForPreparedWriters(sequences);
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
 * the source: the table itself and its inheritance children, or every
 * partition; NIL for views and foreign tables, whose writers cannot be
 * told by a lock.
 */
static List *
SourceTables(Oid source_relid)
{
	char		relkind = get_rel_relkind(source_relid);

	if (relkind == RELKIND_RELATION || relkind == RELKIND_MATVIEW ||
		relkind == RELKIND_PARTITIONED_TABLE)
		return find_all_inheritors(source_relid, NoLock, NULL);
	return NIL;
}

/*
 * ColumnOrigins appends to *rels and *columns (in step) the relations, and
 * the name of the column there, whose values the column of relid shows:
 * relid itself, its partitions and inheritance children, and through a
 * view, the column of the relation a plain column reference of the view
 * reads (recursively).  A view column computed by an expression, or read
 * from a join alias, a subquery or a set operation, stops there.
 */
static void
ColumnOrigins(Oid relid, const char *column, int depth, List **rels,
			  List **columns)
{
	char		relkind = get_rel_relkind(relid);

	if (relkind == RELKIND_RELATION || relkind == RELKIND_PARTITIONED_TABLE)
	{
		ListCell   *lc;

		/* the column has the same name in every child */
		foreach(lc, find_all_inheritors(relid, NoLock, NULL))
		{
			*rels = lappend_oid(*rels, lfirst_oid(lc));
			*columns = lappend(*columns, pstrdup(column));
		}
		return;
	}

	/* a view column can have a default of its own */
	*rels = lappend_oid(*rels, relid);
	*columns = lappend(*columns, pstrdup(column));

	if (relkind == RELKIND_VIEW && depth < INCETL_MAX_VIEW_DEPTH)
	{
		Relation	view = table_open(relid, AccessShareLock);
		Query	   *query = get_view_query(view);
		AttrNumber	attnum = get_attnum(relid, column);
		TargetEntry *tle = NULL;

		if (attnum > 0)
			tle = get_tle_by_resno(query->targetList, attnum);
		if (tle != NULL && !tle->resjunk && IsA(tle->expr, Var))
		{
			Var		   *var = (Var *) tle->expr;
			RangeTblEntry *rte = NULL;

			if (var->varlevelsup == 0 && var->varattno > 0)
				rte = rt_fetch(var->varno, query->rtable);
			if (rte != NULL && rte->rtekind == RTE_RELATION)
				ColumnOrigins(rte->relid,
							  get_attname(rte->relid, var->varattno, false),
							  depth + 1, rels, columns);
		}
		table_close(view, AccessShareLock);
	}
}

/*
 * WatermarkSequences lists the sequences that hand out values of the
 * watermark column (see ColumnOrigins for where it is looked up): those a
 * column default reads with nextval('seq'), identity sequences, and
 * sequences OWNED BY the column.  A sequence with CACHE > 1 is named in
 * *note, when note is not NULL: values other backends cached escape the
 * bound.
 */
static List *
WatermarkSequences(Oid source_relid, const char *column, char **note)
{
	List	   *rels = NIL;
	List	   *columns = NIL;
	List	   *sequences = NIL;
	MemoryContext caller = CurrentMemoryContext;
	StringInfoData cached;
	Datum	   *relids;
	Datum	   *names;
	Oid			argtypes[2] = {OIDARRAYOID, TEXTARRAYOID};
	Datum		values[2];
	int			n = 0;
	int			ret;
	ListCell   *lr;
	ListCell   *lcol;

	ColumnOrigins(source_relid, column, 0, &rels, &columns);
	relids = palloc(sizeof(Datum) * list_length(rels));
	names = palloc(sizeof(Datum) * list_length(rels));
	forboth(lr, rels, lcol, columns)
	{
		relids[n] = ObjectIdGetDatum(lfirst_oid(lr));
		names[n] = CStringGetTextDatum((char *) lfirst(lcol));
		n++;
	}
	values[0] = PointerGetDatum(construct_array(relids, n, OIDOID, sizeof(Oid),
												true, TYPALIGN_INT));
	values[1] = PointerGetDatum(construct_array(names, n, TEXTOID, -1,
												false, TYPALIGN_INT));

	initStringInfo(&cached);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	ret = IncetlExecuteCached("WITH c AS ("
								"  SELECT a.attrelid, a.attnum "
								"  FROM unnest($1, $2) AS u (rel, col) "
								"  JOIN pg_catalog.pg_attribute AS a "
								"    ON a.attrelid = u.rel AND a.attname = u.col "
								"   AND NOT a.attisdropped), "
								"seq AS ("
								/* identity and OWNED BY (serial) */
								"  SELECT d.objid AS relid "
								"  FROM c JOIN pg_catalog.pg_depend AS d "
								"    ON d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass "
								"   AND d.refobjid = c.attrelid AND d.refobjsubid = c.attnum "
								"   AND d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass "
								"   AND d.deptype IN ('a', 'i') "
								"  UNION "
								/* what the column's default depends on */
								"  SELECT d.refobjid "
								"  FROM c JOIN pg_catalog.pg_attrdef AS ad "
								"    ON ad.adrelid = c.attrelid AND ad.adnum = c.attnum "
								"  JOIN pg_catalog.pg_depend AS d "
								"    ON d.classid = 'pg_catalog.pg_attrdef'::pg_catalog.regclass "
								"   AND d.objid = ad.oid "
								"   AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass) "
								"SELECT s.seqrelid, s.seqcache "
								"FROM seq JOIN pg_catalog.pg_sequence AS s ON s.seqrelid = seq.relid "
								"ORDER BY s.seqrelid",
								2, argtypes, values, NULL, true, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "could not read the sequences of column \"%s\"", column);

	for (uint64 i = 0; i < SPI_processed; i++)
	{
		bool		isnull;
		Oid			seqrelid = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[i],
															  SPI_tuptable->tupdesc,
															  1, &isnull));
		int64		cache = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[i],
														SPI_tuptable->tupdesc,
														2, &isnull));
		MemoryContext spicxt;

		/* SPI_finish frees its memory: the results go to the caller's */
		spicxt = MemoryContextSwitchTo(caller);
		sequences = lappend_oid(sequences, seqrelid);
		if (cache > 1)
			appendStringInfo(&cached, "%s%s (CACHE " INT64_FORMAT ")",
							 cached.len > 0 ? ", " : "",
							 quote_qualified_identifier(get_namespace_name(get_rel_namespace(seqrelid)),
														get_rel_name(seqrelid)),
							 cache);
		MemoryContextSwitchTo(spicxt);
	}
	SPI_finish();

	if (note != NULL && cached.len > 0)
		*note = psprintf("values cached by other sessions of sequence %s can be skipped: "
						 "set CACHE 1 for exact integer watermarks", cached.data);
	return sequences;
}

static void
prepared_wait_context(void *arg)
{
	errcontext("waiting for prepared transaction \"%s\" to end", (char *) arg);
}

static void
sequence_wait_context(void *arg)
{
	errcontext("waiting for the transactions that took values of sequence %s to end",
			   (char *) arg);
}

/*
 * PreparedTransactionsMayExist tells whether a prepared transaction may
 * be in progress, without the query of pg_prepared_xacts and pg_locks
 * WaitForPreparedWriters makes (on every run of a time watermark): a
 * prepared transaction has an xid in progress that no backend holds as
 * its own.  The xids in progress are those a new snapshot lists, and
 * those from its xmax to the next xid to be assigned, which it does not
 * list; past MAX_UNLISTED_XIDS of these, or for any xid that is not a
 * backend's (a subtransaction's too), the answer is "maybe".
 */
#define MAX_UNLISTED_XIDS 64

static bool
PreparedTransactionsMayExist(void)
{
	Snapshot	snapshot;
	TransactionId next;
	TransactionId xid;

	if (max_prepared_xacts == 0)
		return false;
	snapshot = GetLatestSnapshot();
	for (uint32 i = 0; i < snapshot->xcnt; i++)
	{
		if (BackendXidGetPid(snapshot->xip[i]) == 0)
			return true;
	}
	next = XidFromFullTransactionId(ReadNextFullTransactionId());
	xid = snapshot->xmax;
	for (int n = 0; TransactionIdPrecedes(xid, next); n++)
	{
		if (n >= MAX_UNLISTED_XIDS)
			return true;
		if (BackendXidGetPid(xid) == 0 && TransactionIdIsInProgress(xid))
			return true;
		TransactionIdAdvance(xid);
	}
	return false;
}

/*
 * WaitForPreparedWriters waits for the prepared transactions of this
 * database that hold a write lock on one of relids (tables and sequences;
 * all of them when relids is NIL, for a view or foreign table).  They have
 * no backend, so neither the status array nor lock conflicts show them.
 * The caller has set lock_timeout.
 */
static void
WaitForPreparedWriters(List *relids)
{
	Oid			argtypes[1] = {OIDARRAYOID};
	Datum		values[1];
	char		nulls[1] = {' '};
	int			ret;

	if (!PreparedTransactionsMayExist())
		return;
	if (relids != NIL)
	{
		Datum	   *elems = palloc(sizeof(Datum) * list_length(relids));
		int			i = 0;
		ListCell   *lc;

		foreach(lc, relids)
			elems[i++] = ObjectIdGetDatum(lfirst_oid(lc));
		values[0] = PointerGetDatum(construct_array(elems, i, OIDOID, sizeof(Oid),
													true, TYPALIGN_INT));
	}
	else
		nulls[0] = 'n';

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	ret = IncetlExecuteCached("SELECT p.transaction, p.gid FROM pg_catalog.pg_prepared_xacts AS p "
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
 * MaxIndexCandidate: whether index indexoid is a btree whose first column
 * is attnum of type, ordered by the type's default operator class,
 * ascending, without a predicate, valid, and usable by this transaction's
 * snapshots (as the planner asks: an index built while a HOT chain was
 * broken may not hold what older snapshots see).  Read from the system
 * caches, so that a new session opens no index it will not read (opening
 * one builds its relcache entry).
 */
static bool
MaxIndexCandidate(Oid indexoid, AttrNumber attnum, Oid type)
{
	HeapTuple	tup;
	Form_pg_index ind;
	bool		ok;
	bool		isnull;
	Datum		d;

	tup = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(indexoid));
	if (!HeapTupleIsValid(tup))
		return false;
	ind = (Form_pg_index) GETSTRUCT(tup);
	ok = ind->indisvalid && ind->indnkeyatts >= 1 && ind->indkey.values[0] == attnum &&
		heap_attisnull(tup, Anum_pg_index_indpred, NULL) &&
		(!ind->indcheckxmin ||
		 TransactionIdPrecedes(HeapTupleHeaderGetXmin(tup->t_data), TransactionXmin));
	if (ok)
	{
		d = SysCacheGetAttr(INDEXRELID, tup, Anum_pg_index_indoption, &isnull);
		ok = !isnull && ((int2vector *) DatumGetPointer(d))->values[0] == 0;
	}
	if (ok)
	{
		HeapTuple	opc;

		d = SysCacheGetAttr(INDEXRELID, tup, Anum_pg_index_indclass, &isnull);
		opc = isnull ? NULL :
			SearchSysCache1(CLAOID,
							ObjectIdGetDatum(((oidvector *) DatumGetPointer(d))->values[0]));
		if (HeapTupleIsValid(opc))
		{
			Form_pg_opclass opcform = (Form_pg_opclass) GETSTRUCT(opc);

			ok = opcform->opcdefault && opcform->opcmethod == BTREE_AM_OID &&
				opcform->opcintype == type;
			ReleaseSysCache(opc);
		}
		else
			ok = false;
	}
	ReleaseSysCache(tup);
	return ok;
}

/*
 * IndexedMax reads max(column) of the source (above from, when has_from)
 * under snapshot the way the planner's min/max plan does, through the
 * last entry of a btree on the column, without planning or executing a
 * statement: what an empty run of an integer watermark pays for most of
 * its bound otherwise.  Returns false, having read nothing, when the
 * statement could read something else or would check more than this
 * does, so that the caller runs the statement: a source that is not a
 * plain table (a view, a partitioned or foreign table, a table with
 * inheritance children the statement reads too, another session's
 * temporary table), row-level security that applies to the current user,
 * a user without SELECT on the column (the statement raises the error),
 * or no btree with the column first, of the type's default ordering,
 * ascending, complete and usable by this snapshot.  *found is false when
 * there is no such value (max() returns NULL).
 */
static bool
IndexedMax(Oid source_relid, const char *column, Oid type, bool has_from,
		   Datum from, Snapshot snapshot, bool *found, Datum *max)
{
	Relation	rel;
	AttrNumber	attnum;
	Oid			opfamily = InvalidOid;
	List	   *indexes;
	ListCell   *lc;
	Relation	index = NULL;
	IndexScanDesc scan;
	ScanKeyData key;
	TupleTableSlot *slot;

	rel = relation_open(source_relid, AccessShareLock);
	attnum = get_attnum(source_relid, column);
	if (rel->rd_rel->relkind != RELKIND_RELATION || rel->rd_rel->relhassubclass ||
		RELATION_IS_OTHER_TEMP(rel) || attnum <= 0 ||
		check_enable_rls(source_relid, InvalidOid, true) != RLS_NONE ||
		(pg_class_aclcheck(source_relid, GetUserId(), ACL_SELECT) != ACLCHECK_OK &&
		 pg_attribute_aclcheck(source_relid, attnum, GetUserId(), ACL_SELECT) != ACLCHECK_OK))
	{
		relation_close(rel, NoLock);
		return false;
	}

	indexes = RelationGetIndexList(rel);
	foreach(lc, indexes)
	{
		if (MaxIndexCandidate(lfirst_oid(lc), attnum, type))
		{
			index = index_open(lfirst_oid(lc), AccessShareLock);
			/* still valid once locked (the rest never changes for an index) */
			if (index->rd_index->indisvalid)
			{
				opfamily = index->rd_opfamily[0];
				break;
			}
			index_close(index, AccessShareLock);
			index = NULL;
		}
	}
	list_free(indexes);
	if (index == NULL)
	{
		relation_close(rel, NoLock);
		return false;
	}

	/* the last entry above from, or the last that is not NULL */
	if (has_from)
	{
		Oid			opno = get_opfamily_member(opfamily, type, type,
											   BTGreaterStrategyNumber);

		ScanKeyInit(&key, 1, BTGreaterStrategyNumber, get_opcode(opno), from);
		key.sk_collation = index->rd_indcollation[0];
	}
	else
		ScanKeyEntryInitialize(&key, SK_ISNULL | SK_SEARCHNOTNULL, 1,
							   InvalidStrategy, InvalidOid, InvalidOid,
							   InvalidOid, (Datum) 0);
	slot = table_slot_create(rel, NULL);
	scan = index_beginscan(rel, index, snapshot, 1, 0);
	index_rescan(scan, &key, 1, NULL, 0);
	*found = false;
	if (index_getnext_slot(scan, BackwardScanDirection, slot))
	{
		bool		isnull;
		Datum		d = slot_getattr(slot, attnum, &isnull);

		/* integers: by value, nothing to copy out of the slot */
		if (!isnull)
		{
			*found = true;
			*max = d;
		}
	}
	index_endscan(scan);
	ExecDropSingleTupleTableSlot(slot);
	index_close(index, NoLock);
	relation_close(rel, NoLock);
	return true;
}

/*
 * IncetlSafeUpperBound computes the upper bound of the next batch (see the
 * file header).  Must be called before the run's snapshot is taken.
 * Returns false when there is nothing to read (an integer source with no
 * value above the lower bound).  *note, when not NULL, may be set to a
 * remark for the run log (who held the bound back; sequences with CACHE >
 * 1, named only by a run that found values to read).
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
			/* usually there is nobody to wait for: no GUC nest level then */
			if (untracked != NIL || PreparedTransactionsMayExist())
			{
				nest = BeginWriterWait();
				WaitForUntrackedBackends(untracked);
				WaitForPreparedWriters(SourceTables(source_relid));
				AtEOXact_GUC(false, nest);
			}
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
		List	   *sequences = NIL;
		Snapshot	snap;
		char	   *sql;
		Oid			argtypes[1];
		Datum		values[1];
		SPIPlanPtr	plan;
		bool		isnull;
		bool		found;
		int			ret;

		/* the bound: a value handed out before this snapshot */
		snap = RegisterSnapshot(GetLatestSnapshot());
		if (IndexedMax(source_relid, p->watermark_column, p->watermark_type,
					   has_from, from, snap, &found, bound))
			isnull = !found;
		else
		{
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
			plan = IncetlPreparePlan(sql, has_from ? 1 : 0, argtypes);
			if (plan == NULL)
				elog(ERROR, "could not prepare \"%s\": %s", sql,
					 SPI_result_code_string(SPI_result));
			ret = SPI_execute_snapshot(plan, values, NULL, snap, InvalidSnapshot,
									   true, false, 1);
			if (ret != SPI_OK_SELECT)
				elog(ERROR, "could not read the watermark bound of pipeline \"%s\"", p->name);
			*bound = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
			SPI_finish();
		}

		if (isnull)
		{
			UnregisterSnapshot(snap);
			return false;
		}

		/*
		 * Only a run that found a value above its lower bound waits, so
		 * only it looks up the sequences behind the column (a catalog
		 * query an empty run is spared).  Looking them up after the first
		 * snapshot changes nothing: the wait for their holders starts
		 * after it either way.
		 */
		if (!incetl_test_naive_watermark)
		{
			sequences = WatermarkSequences(source_relid, p->watermark_column, note);
			WaitForSourceWriters(source_relid, sequences, snap);
		}
		UnregisterSnapshot(snap);

		/* integer Datums are by value: nothing to copy out of SPI */
		return true;
	}
}
