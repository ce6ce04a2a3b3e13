/*-------------------------------------------------------------------------
 *
 * cow_timeline.c
 *	  SQL-callable functions over the timeline of incetl_cow tables.
 *
 * The catalogs are not readable by PUBLIC; these functions read them
 * after checking that the caller may SELECT the table in question.
 *
 * Copyright (c) 2026, incetl authors
 *
 * IDENTIFICATION
 *	  src/cow/cow_timeline.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/relation.h"
#include "access/table.h"
#include "funcapi.h"
#include "storage/bufmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "catalog/pg_type.h"
#include "utils/fmgroids.h"
#include "utils/numeric.h"
#include "utils/tuplestore.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "parser/parse_type.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/rls.h"
#include "utils/snapmgr.h"
#include "utils/typcache.h"

#include "cow/maintenance.h"
#include "cow/security.h"

PG_FUNCTION_INFO_V1(incetl_cow_storage_id);
PG_FUNCTION_INFO_V1(incetl_cow_commits);
PG_FUNCTION_INFO_V1(incetl_cow_table_stats);
PG_FUNCTION_INFO_V1(incetl_cow_column_stats);
PG_FUNCTION_INFO_V1(incetl_cow_file_groups);
PG_FUNCTION_INFO_V1(incetl_cow_table_options);
PG_FUNCTION_INFO_V1(incetl_cow_changes);
PG_FUNCTION_INFO_V1(incetl_cow_as_of);
PG_FUNCTION_INFO_V1(incetl_cow_latest_commit);

static bool CowCommitRetained(const CowMetaPageData *meta, int64 commit_id,
							  Snapshot snapshot, int64 *oldest);
static void CowEmitRows(FunctionCallInfo fcinfo, bool as_of, int64 since,
						int64 until, bool has_until);

Datum
incetl_cow_storage_id(PG_FUNCTION_ARGS)
{
	Relation	rel = CowOpenChecked(PG_GETARG_OID(0), ACL_SELECT);
	int64		id = CowStorageId(rel);

	relation_close(rel, AccessShareLock);
	PG_RETURN_INT64(id);
}

/*
 * incetl.commits(tbl): the timeline, oldest first.
 */
Datum
incetl_cow_commits(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Relation	rel;
	Relation	catalog;
	SysScanDesc scan;
	ScanKeyData key;
	HeapTuple	tup;
	int64		storage_id;
	List	   *rows = NIL;
	ListCell   *lc;

	InitMaterializedSRF(fcinfo, 0);
	rel = CowOpenChecked(PG_GETARG_OID(0), ACL_SELECT);
	storage_id = CowStorageId(rel);
	relation_close(rel, AccessShareLock);

	catalog = table_open(CowCatalogRelid("cow_commit", false), AccessShareLock);
	ScanKeyInit(&key, 1, BTEqualStrategyNumber, F_INT8EQ, Int64GetDatum(storage_id));
	scan = CowCatalogScan(catalog, GetActiveSnapshot(), &key);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
		rows = lappend(rows, heap_copytuple(tup));
	systable_endscan(scan);

	/* order by commit id: insertion sort on a list that is nearly sorted */
	{
		int			n = list_length(rows),
					i,
					j;
		HeapTuple  *arr = palloc(sizeof(HeapTuple) * Max(n, 1));
		TupleDesc	desc = RelationGetDescr(catalog);

		for (i = 0; i < n; i++)
			arr[i] = list_nth(rows, i);
		for (i = 1; i < n; i++)
		{
			bool		isnull;
			HeapTuple	t = arr[i];
			int64		c = DatumGetInt64(heap_getattr(t, 2, desc, &isnull));

			for (j = i; j > 0 &&
				 DatumGetInt64(heap_getattr(arr[j - 1], 2, desc, &isnull)) > c; j--)
				arr[j] = arr[j - 1];
			arr[j] = t;
		}
		for (i = 0; i < n; i++)
		{
			Datum		values[9];
			bool		nulls[9];

			heap_deform_tuple(arr[i], desc, values, nulls);
			/* drop storage_id */
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc,
								 values + 1, nulls + 1);
		}
	}
	foreach(lc, rows)
		heap_freetuple(lfirst(lc));
	table_close(catalog, AccessShareLock);
	return (Datum) 0;
}

/*
 * incetl.table_stats(tbl): one row about the current state.
 */
Datum
incetl_cow_table_stats(PG_FUNCTION_ARGS)
{
	Relation	rel = CowOpenChecked(PG_GETARG_OID(0), ACL_SELECT);
	int64		storage_id = CowStorageId(rel);
	int			n,
				i;
	CowVersion *v = CowLoadVersions(storage_id, GetActiveSnapshot(), false, &n);
	int64		groups = 0,
				rows = 0,
				raw = 0,
				bytes = 0,
				retained = 0,
				commits = 0,
				last_commit = 0;
	Relation	catalog;
	SysScanDesc scan;
	ScanKeyData key;
	HeapTuple	tup;
	TupleDesc	desc;
	Datum		values[9];
	bool		nulls[9];

	for (i = 0; i < n; i++)
	{
		if (v[i].superseded_by != 0)
		{
			retained++;
			continue;
		}
		groups++;
		rows += v[i].row_count;
		raw += v[i].raw_bytes;
		bytes += v[i].bytes;
	}
	catalog = table_open(CowCatalogRelid("cow_commit", false), AccessShareLock);
	ScanKeyInit(&key, 1, BTEqualStrategyNumber, F_INT8EQ, Int64GetDatum(storage_id));
	scan = CowCatalogScan(catalog, GetActiveSnapshot(), &key);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		bool		isnull;
		int64		c = DatumGetInt64(heap_getattr(tup, 2, RelationGetDescr(catalog), &isnull));

		commits++;
		last_commit = Max(last_commit, c);
	}
	systable_endscan(scan);
	table_close(catalog, AccessShareLock);

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	desc = BlessTupleDesc(desc);
	memset(nulls, 0, sizeof(nulls));
	values[0] = Int64GetDatum(groups);
	values[1] = Int64GetDatum(rows);
	values[2] = Int64GetDatum(raw);
	values[3] = Int64GetDatum(bytes);
	if (bytes > 0)
		values[4] = DirectFunctionCall2(numeric_round,
										DirectFunctionCall2(numeric_div,
															NumericGetDatum(int64_to_numeric(raw)),
															NumericGetDatum(int64_to_numeric(bytes))),
										Int32GetDatum(2));
	else
		nulls[4] = true;
	values[5] = Int64GetDatum(retained);
	values[6] = Int64GetDatum(commits);
	values[7] = Int64GetDatum(last_commit);
	nulls[7] = (commits == 0);
	values[8] = Int64GetDatum((int64) CowPhysicalBlocks(rel));
	relation_close(rel, AccessShareLock);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
}

/*
 * incetl.column_stats(tbl): per column of the current file groups and per
 * encoding chosen for its chunks, the number of chunks and their encoded
 * and stored (after zstd) bytes.  attnum 0 is the hidden commit-id column;
 * chunks of a column that is NULL throughout a file group are reported
 * with encoding "null".  Reads the version headers only.
 */
#define COW_NENCODINGS	(COW_ENC_VARLENA + 1)

Datum
incetl_cow_column_stats(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Relation	rel;
	TupleDesc	tupdesc;
	CowVersion *v;
	int			n,
				i,
				a,
				e;
	int			natts;
	int64	  (*chunks)[COW_NENCODINGS + 1];
	int64	  (*encoded)[COW_NENCODINGS + 1];
	int64	  (*stored)[COW_NENCODINGS + 1];
	int64	  (*zstd)[COW_NENCODINGS + 1];

	InitMaterializedSRF(fcinfo, 0);
	rel = CowOpenChecked(PG_GETARG_OID(0), ACL_SELECT);
	tupdesc = RelationGetDescr(rel);
	natts = tupdesc->natts;
	v = CowLoadVersions(CowStorageId(rel), GetActiveSnapshot(), true, &n);

	/* [0] is the commit-id column, [a + 1] attribute a; [.][NENC] "null" */
	chunks = palloc0(sizeof(*chunks) * (natts + 1));
	encoded = palloc0(sizeof(*encoded) * (natts + 1));
	stored = palloc0(sizeof(*stored) * (natts + 1));
	zstd = palloc0(sizeof(*zstd) * (natts + 1));
	for (i = 0; i < n; i++)
	{
		CowGroupHeader *h = CowReadGroupHeader(rel, &v[i]);
		CowColumnDesc *d = CowGroupColumns(h);

		for (a = 0; a <= (int) h->natts; a++)
		{
			int			slot = (a == (int) h->natts) ? 0 : a + 1;

			if (a < (int) h->natts &&
				(a >= natts || (d[a].flags & COW_COL_DROPPED)))
				continue;
			e = (d[a].flags & COW_COL_ALL_NULL) ? COW_NENCODINGS :
				Min(d[a].encoding, COW_NENCODINGS - 1);
			chunks[slot][e]++;
			encoded[slot][e] += d[a].raw_len;
			stored[slot][e] += d[a].stored_len;
			if (!(d[a].flags & (COW_COL_UNCOMPRESSED | COW_COL_ALL_NULL)))
				zstd[slot][e]++;
		}
		pfree(h);
	}

	for (a = 0; a <= natts; a++)
	{
		for (e = 0; e <= COW_NENCODINGS; e++)
		{
			Datum		values[7];
			bool		nulls[7] = {false, false, false, false, false, false, false};

			if (chunks[a][e] == 0)
				continue;
			values[0] = Int16GetDatum(a);
			if (a == 0)
				nulls[1] = true;
			else
				values[1] = NameGetDatum(&TupleDescAttr(tupdesc, a - 1)->attname);
			values[2] = CStringGetTextDatum(CowEncodingName(e == COW_NENCODINGS ? -1 : e));
			values[3] = Int64GetDatum(chunks[a][e]);
			values[4] = Int64GetDatum(encoded[a][e]);
			values[5] = Int64GetDatum(stored[a][e]);
			values[6] = Int64GetDatum(zstd[a][e]);
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		}
	}
	relation_close(rel, AccessShareLock);
	return (Datum) 0;
}

/*
 * incetl.file_groups(tbl) (0.5): one row per current file group, in the
 * order a scan reads them (by first row number): its id, the commit that
 * wrote this version of it, its rows, its first row number, its raw and
 * stored bytes, its pages, and the least and greatest value of the record
 * key's first column in it, as text (NULL without a record key, and when
 * row-level security applies to the caller: those values are rows' data
 * the policies may hide).  Reads the version headers only.  What a skewed
 * upsert split off (cow_merge.c) shows here as groups of their own.
 */
Datum
incetl_cow_file_groups(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Oid			relid = PG_GETARG_OID(0);
	Relation	rel;
	CowOptions	opts;
	CowVersion *v;
	int			n,
				i;
	int			keyidx = -1;
	Oid			typoutput = InvalidOid;
	bool		typisvarlena;

	InitMaterializedSRF(fcinfo, 0);
	rel = CowOpenChecked(relid, ACL_SELECT);
	CowLoadOptions(rel, GetActiveSnapshot(), &opts);
	if (opts.nkeys > 0 &&
		check_enable_rls(relid, InvalidOid, true) != RLS_ENABLED)
	{
		keyidx = opts.key_attnums[0] - 1;
		getTypeOutputInfo(TupleDescAttr(RelationGetDescr(rel),
										keyidx)->atttypid,
						  &typoutput, &typisvarlena);
	}
	v = CowLoadVersions(CowStorageId(rel), GetActiveSnapshot(), true, &n);
	for (i = 0; i < n; i++)
	{
		Datum		values[9];
		bool		nulls[9];

		memset(nulls, false, sizeof(nulls));
		/* the key range, until the header gives it */
		nulls[7] = nulls[8] = true;

		values[0] = Int64GetDatum(v[i].file_group_id);
		values[1] = Int64GetDatum(v[i].commit_id);
		values[2] = Int64GetDatum(v[i].row_count);
		values[3] = Int64GetDatum(v[i].first_row_number);
		values[4] = Int64GetDatum(v[i].raw_bytes);
		values[5] = Int64GetDatum(v[i].bytes);
		values[6] = Int64GetDatum((int64) v[i].nblocks);
		if (keyidx >= 0)
		{
			CowGroupHeader *h = CowReadGroupHeader(rel, &v[i]);

			if ((uint32) keyidx < h->natts &&
				(CowGroupColumns(h)[keyidx].flags & COW_COL_HAS_MINMAX))
			{
				Datum		min,
							max;

				CowGroupMinMax(h, keyidx, &min, &max);
				values[7] = CStringGetTextDatum(OidOutputFunctionCall(typoutput,
																	  min));
				values[8] = CStringGetTextDatum(OidOutputFunctionCall(typoutput,
																	  max));
				nulls[7] = nulls[8] = false;
			}
			pfree(h);
		}
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	relation_close(rel, AccessShareLock);
	return (Datum) 0;
}

/*
 * incetl.table_options(tbl): the options as set (no row when none are).
 */
Datum
incetl_cow_table_options(PG_FUNCTION_ARGS)
{
	Relation	rel = CowOpenChecked(PG_GETARG_OID(0), ACL_SELECT);
	Relation	catalog;
	SysScanDesc scan;
	ScanKeyData key;
	HeapTuple	tup;
	TupleDesc	desc;
	Datum		values[7];
	bool		nulls[7];
	Datum		result = (Datum) 0;
	bool		found = false;

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	desc = BlessTupleDesc(desc);
	catalog = table_open(CowCatalogRelid("cow_options", false), AccessShareLock);
	CowCheckOptionsCatalog(catalog);
	ScanKeyInit(&key, 1, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(RelationGetRelid(rel)));
	scan = CowCatalogScan(catalog, GetActiveSnapshot(), &key);
	tup = systable_getnext(scan);
	if (HeapTupleIsValid(tup))
	{
		int			i;

		heap_deform_tuple(tup, RelationGetDescr(catalog), values, nulls);
		/* options name their columns (name[], name): show them as text */
		if (!nulls[1])
		{
			Datum	   *elems;
			bool	   *enulls;
			int			n;

			deconstruct_array(DatumGetArrayTypeP(values[1]), NAMEOID, NAMEDATALEN,
							  false, TYPALIGN_CHAR, &elems, &enulls, &n);
			for (i = 0; i < n; i++)
				elems[i] = CStringGetTextDatum(NameStr(*DatumGetName(elems[i])));
			values[1] = PointerGetDatum(construct_array(elems, n, TEXTOID, -1, false,
														TYPALIGN_INT));
		}
		for (i = 2; i <= 3; i++)
			if (!nulls[i])
				values[i] = CStringGetTextDatum(NameStr(*DatumGetName(values[i])));
		result = HeapTupleGetDatum(heap_form_tuple(desc, values + 1, nulls + 1));
		found = true;
	}
	systable_endscan(scan);
	table_close(catalog, AccessShareLock);
	relation_close(rel, AccessShareLock);
	if (!found)
		PG_RETURN_NULL();
	PG_RETURN_DATUM(result);
}

/*
 * CowRelidFromRowType finds the table behind the NULL::tbl argument of
 * changes, as_of and the change feed (cow_changefeed.c); fname, the
 * function called, shows in the hint.
 */
Oid
CowRelidFromRowType(FunctionCallInfo fcinfo, const char *fname)
{
	Oid			typid = get_fn_expr_argtype(fcinfo->flinfo, 0);
	Oid			relid = OidIsValid(typid) ? typeidTypeRelid(typid) : InvalidOid;

	if (!OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("the first argument must be NULL::<incetl_cow table>, not %s",
						OidIsValid(typid) ? format_type_be(typid) : "unknown"),
				 errhint("Call it as %s(NULL::my_table, 42).", fname)));
	return relid;
}

/*
 * CowCommitRetained: can as_of(commit_id) still be read?  Commit 0 (the
 * empty table before the first commit) always can, everything can when
 * nothing was cleaned; otherwise a commit is gone when a recorded
 * commit lies in (commit_id, clean horizon] -- unless a savepoint pins it
 * or snapshot does not see the clean that removed its history
 * (CowCommitKept) --, and the oldest readable one (*oldest, else 0) is the
 * newest recorded commit at or below the horizon.
 */
static bool
CowCommitRetained(const CowMetaPageData *meta, int64 commit_id,
				  Snapshot snapshot, int64 *oldest)
{
	*oldest = 0;
	if (commit_id <= 0 || commit_id >= meta->clean_horizon)
		return true;
	*oldest = CowNewestCommit(meta->storage_id, snapshot, meta->clean_horizon);
	return *oldest <= commit_id || CowCommitKept(meta, commit_id, snapshot);
}

/*
 * CowCheckCommitReadable raises 22023 unless as_of(commit_id) of rel can
 * still be read under snapshot; meta is rel's metapage.  fname names, in
 * the hint, the function that can read the oldest commit still readable.
 * The one test of "is this commit's history retained" for as_of, changes
 * and the change feed.
 *
 * Below the clean horizon, the versions superseded at or before it may be
 * gone (cleaned, or not carried over by VACUUM FULL or an ALTER TABLE
 * rewrite), and as_of(commit_id) needs those superseded after commit_id.
 * Only a recorded commit supersedes a version, so the history is gone only
 * when a recorded commit lies in (commit_id, clean_horizon]; when none
 * does (the ids in between were taken by statements that changed nothing
 * or rolled back), the table has not changed since commit_id.
 */
void
CowCheckCommitReadable(Relation rel, const CowMetaPageData *meta,
					   int64 commit_id, Snapshot snapshot, const char *fname)
{
	int64		oldest;

	if (!CowCommitRetained(meta, commit_id, snapshot, &oldest))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("commit " INT64_FORMAT " of \"%s\" is no longer retained",
						commit_id, RelationGetRelationName(rel)),
				 errdetail("File group versions superseded at or before commit " INT64_FORMAT " have been cleaned, or were not carried over by VACUUM FULL or an ALTER TABLE rewrite.",
						   oldest),
				 errhint("Raise retain_commits with incetl.set_table_options() to keep more history; %s can read commit " INT64_FORMAT " and later.",
						 fname, oldest)));
}

/*
 * CowCheckCommitExists raises 22023 when commit_id lies beyond the newest
 * commit of rel (storage_id) that snapshot sees, and returns that newest
 * commit (0: none).
 *
 * A commit id beyond it may belong to a write still in progress (it takes
 * its id at its first flush): the table "after" it would be read without
 * that write now and with it once it commits.  So it does not exist yet,
 * like an id never handed out.
 */
int64
CowCheckCommitExists(Relation rel, int64 storage_id, int64 commit_id,
					 Snapshot snapshot)
{
	int64		latest = CowNewestCommit(storage_id, snapshot, PG_INT64_MAX);

	if (commit_id > latest)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("commit " INT64_FORMAT " of \"%s\" does not exist yet",
						commit_id, RelationGetRelationName(rel)),
				 latest > 0 ?
				 errdetail("The newest commit this snapshot sees is " INT64_FORMAT ".",
						   latest) :
				 errdetail("This snapshot sees no commit of the table.")));
	return latest;
}

/*
 * CowEmitRows returns the rows of the versions current at "until" (or now)
 * whose commit id is in (since, until]; with as_of, all rows of the
 * versions current at commit "until".
 */
static void
CowEmitRows(FunctionCallInfo fcinfo, bool as_of, int64 since, int64 until,
			bool has_until)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Oid			relid = CowRelidFromRowType(fcinfo, as_of ? "incetl.as_of" :
											"incetl.changes");
	Relation	rel;
	CowMetaPageData meta;
	int			n,
				i;
	CowVersion *versions;
	MemoryContext gcxt,
				old;

	InitMaterializedSRF(fcinfo, 0);
	rel = CowOpenChecked(relid, ACL_SELECT);
	/* these functions read file groups directly: they cannot apply policies */
	if (check_enable_rls(relid, InvalidOid, true) == RLS_ENABLED)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("%s is not supported on \"%s\", which has row-level security enabled",
						as_of ? "incetl.as_of()" : "incetl.changes()",
						RelationGetRelationName(rel)),
				 errhint("Query the table itself, or ask its owner to read it.")));
	meta = CowReadMetaPage(rel);

	if (has_until)
		CowCheckCommitReadable(rel, &meta, until, GetActiveSnapshot(), "as_of()");

	if (has_until && until > 0)
		(void) CowCheckCommitExists(rel, meta.storage_id, until,
									GetActiveSnapshot());

	versions = CowLoadVersions(meta.storage_id, GetActiveSnapshot(), false, &n);
	gcxt = AllocSetContextCreate(CurrentMemoryContext, "incetl cow changes",
								 ALLOCSET_DEFAULT_SIZES);
	for (i = 0; i < n; i++)
	{
		CowVersion *v = &versions[i];
		CowDecodedGroup *g;
		uint64		r;
		int			natts = RelationGetDescr(rel)->natts;
		Datum	   *values = palloc(sizeof(Datum) * natts);
		bool	   *nulls = palloc(sizeof(bool) * natts);

		if (has_until)
		{
			/* the version current at commit "until" */
			if (v->commit_id > until ||
				(v->superseded_by != 0 && v->superseded_by <= until))
				continue;
		}
		else if (v->superseded_by != 0)
			continue;
		if (!as_of && v->max_commit <= since)
			continue;

		CHECK_FOR_INTERRUPTS();
		old = MemoryContextSwitchTo(gcxt);
		g = CowDecodeGroup(rel, v, true, NULL, true);
		MemoryContextSwitchTo(old);
		for (r = 0; r < g->nrows; r++)
		{
			int			a;

			if (!as_of && g->commit_ids[r] <= since)
				continue;
			for (a = 0; a < natts; a++)
			{
				if (g->decoded[a] && !TupleDescAttr(RelationGetDescr(rel), a)->attisdropped)
				{
					values[a] = g->values[a][r];
					nulls[a] = g->isnull[a][r];
				}
				else
				{
					values[a] = (Datum) 0;
					nulls[a] = true;
				}
			}
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		}
		MemoryContextReset(gcxt);
	}
	MemoryContextDelete(gcxt);
	relation_close(rel, AccessShareLock);
}

/*
 * incetl.changes(NULL::tbl, since_commit, until_commit): the incremental
 * query.  Deletes are not reported (the rows are simply gone).
 */
Datum
incetl_cow_changes(PG_FUNCTION_ARGS)
{
	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("since_commit must not be NULL"),
				 errhint("Use 0 to read every row.")));
	CowEmitRows(fcinfo, false, PG_GETARG_INT64(1),
				PG_ARGISNULL(2) ? 0 : PG_GETARG_INT64(2), !PG_ARGISNULL(2));
	return (Datum) 0;
}

/*
 * incetl.as_of(NULL::tbl, commit_id): time travel, while retained.
 */
Datum
incetl_cow_as_of(PG_FUNCTION_ARGS)
{
	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("commit_id must not be NULL")));
	CowEmitRows(fcinfo, true, 0, PG_GETARG_INT64(1), true);
	return (Datum) 0;
}

/*
 * incetl.latest_commit(tbl): the newest commit id the caller's snapshot
 * sees (NULL when none).  Commit ids are handed out under a lock held to
 * commit, so every commit at or below it is visible: a pipeline that
 * reads changes(since, latest_commit) never misses one.
 */
Datum
incetl_cow_latest_commit(PG_FUNCTION_ARGS)
{
	int64		c = cow_latest_commit_id(PG_GETARG_OID(0), GetActiveSnapshot());

	if (c == 0)
		PG_RETURN_NULL();
	PG_RETURN_INT64(c);
}

/*
 * cow_latest_commit_id: C entry point for the pipeline layer.
 */
int64
cow_latest_commit_id(Oid relid, Snapshot snapshot)
{
	Relation	rel = CowOpenChecked(relid, ACL_SELECT);
	int64		last = CowNewestCommit(CowStorageId(rel), snapshot, PG_INT64_MAX);

	relation_close(rel, AccessShareLock);
	return last;
}

/*
 * cow_commit_readable: can as_of(commit_id) still be read (see
 * CowCommitRetained)?  *oldest is then the oldest readable commit when
 * history was cleaned below commit_id, else 0.
 */
bool
cow_commit_readable(Oid relid, int64 commit_id, Snapshot snapshot, int64 *oldest)
{
	Relation	rel = CowOpenChecked(relid, ACL_SELECT);
	CowMetaPageData meta = CowReadMetaPage(rel);
	bool		readable;

	readable = CowCommitRetained(&meta, commit_id, snapshot, oldest);
	relation_close(rel, AccessShareLock);
	return readable;
}
