/*-------------------------------------------------------------------------
 *
 * cow_agg.c
 *	  Aggregate pushdown for incetl_cow: simple aggregates, ungrouped or
 *	  grouped by columns and date_trunc, are computed column by column
 *	  inside the scan instead of row by row in an Agg node.
 *
 * A create_upper_paths_hook offers, for a query such as
 *
 *		SELECT count(*), sum(amount), max(updated_at) FROM t WHERE id > 10
 *
 * over one incetl_cow table, a CustomPath "IncetlCowAgg" next to the usual
 * Agg paths.  It is offered only when every aggregate is one we compute
 * exactly as PostgreSQL does (count(*), count(col), sum/avg of int2, int4,
 * int8 and numeric, and the built-in min/max-like aggregates whose state
 * is one of their inputs), none has DISTINCT, ORDER BY or FILTER, there is
 * no GROUP BY, HAVING, window function or set-returning function, the
 * table has no row-level security quals for this query, and every WHERE
 * clause is one we evaluate ourselves: "col op value", "col op ANY/ALL
 * (array)" with a strict non-volatile operator, "col IS [NOT] NULL", or a
 * boolean column (negated or not); "value" is any expression without
 * columns or volatile functions, evaluated once per scan: constants,
 * parameters (also those of a generic plan, of an enclosing query or of an
 * InitPlan), stable functions such as now().
 *
 * The plan node reads the file group versions current for the query's
 * snapshot exactly as a sequential scan does (it is one: CowScanVersions),
 * skips groups whose min/max rule out a btree comparison, decodes only
 * the columns the quals and aggregates use, and accumulates in tight
 * loops: integers in int128, numerics as int128 counts of 10000^-n while
 * their digits fit (numeric arithmetic otherwise), min/max of integer-like
 * types by native comparison and of other types through the aggregate's
 * own transition function (so ties, collations and NaN behave exactly
 * as in an Agg over the same row order).  The blocks of a numeric column
 * stored as scaled integers (COW_ENC_NUMERIC) are compared, summed and
 * min/max'ed as those integers, without building numerics (CowAggUnits,
 * CowAggUnitsSelect, CowAggNumericGroup).  Without quals, count(*) comes
 * from each group's row count, count(col) from its null flags and min/max
 * of integer-like types from the chunk's stored min/max: such groups are
 * not decompressed at all.
 *
 * The plan node's scan tuple (custom_scan_tlist) is the aggregates,
 * followed by the columns the quals reference (so that setrefs.c fixes the
 * quals, kept in custom_exprs, and EXPLAIN can print them); only the
 * aggregates are ever filled in.
 *
 * In parallel: where the table's scan has partial paths, the planner is
 * also offered a Finalize Aggregate over a Gather of a parallel-aware
 * IncetlCowAgg (CowAggAddParallelPath), whose participants claim file
 * groups from the table's shared parallel scan state (cow_scan.c) and
 * produce partial aggregates -- the transition states, for the aggregates
 * whose state we produce exactly (CowAggClassifyPartial), serialized as
 * PostgreSQL's serialization functions write them where the state is
 * internal (sum/avg of int8 and numeric).
 *
 * With GROUP BY (CowAggAddGroupedPaths): when every grouping key is a
 * column or date_trunc(unit, column) (CowAggKeyExpr) and every aggregate
 * one whose partial state we produce, a grouped IncetlCowAgg -- its scan
 * tuple the keys, then the partial aggregates -- feeds the rows of each
 * file group, a batch at a time, into a hash table of the keys' binary
 * values and the aggregates' states (CowAggCell), emits (keys, partial
 * states) when the table reaches hash_mem or the scan ends, and empties
 * it; PostgreSQL's Finalize HashAggregate or GroupAggregate above combines
 * whatever came up more than once, and HAVING, ORDER BY and LIMIT stay
 * PostgreSQL's.  A query whose aggregates are all count(DISTINCT col) of
 * one column gets the same scan emitting the distinct (keys, col) under
 * its own Aggregate.  date_trunc keys are computed by date_trunc, cached
 * as ranges of inputs with one result (CowAggTrunc).  Parallel: a Gather
 * under the Aggregate.
 *
 * incetl.cow_aggregate_pushdown (default on) switches the paths off.
 *
 * Copyright (c) 2026, incetl authors
 *
 * IDENTIFICATION
 *	  src/cow/cow_agg.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/transam.h"
#include "catalog/pg_aggregate.h"
#include "catalog/pg_statistic.h"
#include "catalog/pg_type.h"
#include "commands/explain.h"
#include "common/hashfn.h"
#include "common/int.h"
#include "executor/executor.h"
#include "libpq/pqformat.h"
#include "miscadmin.h"
#include "nodes/extensible.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/clauses.h"
#include "optimizer/cost.h"
#include "optimizer/optimizer.h"
#include "optimizer/pathnode.h"
#include "optimizer/planner.h"
#include "optimizer/prep.h"
#include "optimizer/tlist.h"
#include "pgstat.h"
#include "pgtime.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/numeric.h"
#include "utils/rel.h"
#include "utils/selfuncs.h"
#include "utils/timestamp.h"
#include "utils/ruleutils.h"
#include "utils/spccache.h"
#include "utils/syscache.h"
#include "utils/typcache.h"

#include "cow/am.h"

bool		CowAggregatePushdown = true;

#ifdef HAVE_INT128

#define COW_AGG_NAME	"IncetlCowAgg"

/* memory kept for one file group's decoded columns, see CowAggCompute */

/* ---------- what we compute ---------- */

typedef enum CowAggKind
{
	COW_AGG_COUNT_STAR,			/* count(*) */
	COW_AGG_COUNT,				/* count(col) */
	COW_AGG_SUM_INT,			/* sum(int2), sum(int4): int8 */
	COW_AGG_SUM_INT8,			/* sum(int8): numeric */
	COW_AGG_AVG_INT,			/* avg(int2), avg(int4), avg(int8): numeric */
	COW_AGG_SUM_NUMERIC,		/* sum(numeric) */
	COW_AGG_AVG_NUMERIC,		/* avg(numeric) */
	COW_AGG_MINMAX				/* min, max, bool_and, ...: see CowAggMinMax */
} CowAggKind;

/* One aggregate of the query, as classified by CowAggClassify. */
typedef struct CowAggSpec
{
	CowAggKind	kind;
	AttrNumber	attnum;			/* input column; 0 for count(*) */
	int			width;			/* integer inputs: 2, 4 or 8 bytes */
	Oid			argtype;		/* min/max: declared input type */
	Oid			transfn;		/* min/max: transition function */
	bool		native;			/* min/max: integer-like, compared natively */
	bool		is_max;			/* native min/max: the larger one wins */
	bool		stats;			/* native min/max: chunk min/max usable */
	bool		partial;		/* produce the transition state of a parallel
								 * aggregate (CowAggClassifyPartial) */
} CowAggSpec;

/* A WHERE clause we evaluate, as recognized by CowAggParseQual. */
typedef enum CowQualKind
{
	COW_QUAL_OP,				/* col op value, value op col */
	COW_QUAL_ARRAY,				/* col op ANY/ALL (array value) */
	COW_QUAL_IS_NULL,
	COW_QUAL_NOT_NULL,
	COW_QUAL_TRUE,				/* a boolean column */
	COW_QUAL_FALSE				/* NOT a boolean column */
} CowQualKind;

/*
 * A numeric column of one file group as scaled integers (CowAggUnits):
 * the blocks read so far, each at its own scale.
 */
typedef struct CowAggUnitsCol
{
	int64	   *units;			/* [nrows] */
	bool	   *nulls;			/* [nrows] */
	int		   *scale;			/* [nblocks]: the block's scale; -1: not
								 * NUMERIC, read its Datums; -2: not read */
} CowAggUnitsCol;

/* how a numeric qual tests the scaled integers of a block */
typedef enum CowUnitsTest
{
	COW_UNITS_COMPARE,			/* units_op against units_k */
	COW_UNITS_ALL,				/* every non-NULL value passes */
	COW_UNITS_NONE				/* no value passes */
} CowUnitsTest;

typedef struct CowAggQual
{
	CowQualKind kind;
	Expr	   *expr;			/* OP, ARRAY: the operator clause */
	Var		   *var;			/* the column, as it appears in the clause */
	Expr	   *value_expr;		/* OP, ARRAY: the other side */
	bool		var_on_left;	/* OP; ARRAY: always */
	bool		use_or;			/* ARRAY: ANY */
	Oid			opno;
	Oid			opfuncid;
	Oid			collation;
	/* execution */
	int			attidx;			/* 0-based column */
	bool		byref;			/* the column's values are pointers */
	ExprState  *value_state;
	FmgrInfo	flinfo;
	FunctionCallInfo fcinfo;
	bool		value_isnull;	/* this run: the value is NULL */
	Datum		value;
	int			nelems;			/* ARRAY: the array's elements */
	Datum	   *elems;
	bool	   *elem_nulls;
	/* OP, this run: compared natively as integers (CowAggSkipQuals) */
	bool		by_int;
	int			strategy;		/* btree strategy, the column on the left */
	int64		ival;			/* the value as an integer */
	int16		col_len;		/* the column's attlen */
	/*
	 * OP, this run: a numeric column against a numeric value, compared as
	 * scaled integers in NUMERIC-encoded blocks (CowAggNumericQual)
	 */
	bool		by_units;
	int			units_strategy; /* btree strategy, the column on the left */
	int			units_scale;	/* the block scale of what follows, or -1 */
	CowUnitsTest units_test;	/* at that scale: every row, none, or ... */
	int			units_op;		/* ... units_op (strategy) against units_k */
	int64		units_k;
} CowAggQual;

/*
 * Numeric sums that leave the fast path (values beyond int128 units, or
 * special values): allocated on first need.
 */
typedef struct CowAggNumRare
{
	Numeric		slow;			/* values summed as numerics, or NULL */
	int64		nans;			/* numeric specials */
	int64		pinfs;
	int64		ninfs;
	int64		max_scale_count;	/* slow values with display scale max_scale */
	int32		max_scale;
} CowAggNumRare;

/*
 * The running state of one aggregate over one group of rows (the whole
 * scan without GROUP BY; one group key of a grouped scan).  Kept small: a
 * grouped scan holds one per aggregate and group.
 */
typedef struct CowAggCell
{
	int128		sum;			/* integers; numeric: in units of 10000^-frac */
	int64		count;			/* inputs counted (sum/avg: finite ones) */
	int64		aux;			/* numeric: values summed with display scale
								 * dscale (maxScaleCount); native min/max: the
								 * value as an int64 */
	union
	{
		Datum		value;		/* min/max: the value */
		CowAggNumRare *rare;	/* numeric: see there, or NULL */
	}			u;
	int32		frac;			/* numeric: see sum */
	int16		dscale;			/* numeric: largest display scale summed */
	bool		have;			/* min/max: value is set */
	bool		stuck_null;		/* the transition function returned NULL */
} CowAggCell;

/* One aggregate of the plan node: how to compute it, and its running state. */
typedef struct CowAggAccum
{
	CowAggSpec	spec;
	int			attidx;			/* 0-based input column */
	int16		typlen;			/* min/max: of the value */
	bool		typbyval;
	FmgrInfo	flinfo;			/* min/max through the transition function */
	FunctionCallInfo fcinfo;
	int			offset;			/* grouped: of its cell in a group record */
	/* grouped sum/avg of numeric: the file group (CowAggNumericUnitsGroup) */
	int64	   *gunits;			/* [nrows] scaled integers, or NULL */
	bool	   *gnulls;			/* [nrows] */
	int		   *gscale;			/* [nblocks] their scale, or -1: Datums */

	/* running state (ungrouped), zeroed by each computation */
	CowAggCell	cell;
	Datum		kept;			/* by-reference value copied to run_cxt */
} CowAggAccum;

#define COW_AGG_RUN_STATE_OFFSET	offsetof(CowAggAccum, cell)

/*
 * A grouping key of a grouped scan (CowAggKeyExpr): a column, or
 * date_trunc(unit, column), whose results are cached as ranges of inputs
 * known to give one result (CowAggTrunc).
 */
typedef struct CowAggTruncRange
{
	int64		lo;				/* every input in [lo, hi] gives res */
	int64		hi;
	Datum		res;
	int32		hits;			/* inputs found in the range */
	bool		lo_final;		/* lo, hi: probing beyond found another */
	bool		hi_final;		/* result, or gave up */
} CowAggTruncRange;

typedef struct CowAggKey
{
	int			attidx;			/* 0-based column */
	int16		typlen;			/* of the key value */
	bool		typbyval;
	bool		trunc;			/* date_trunc(unit, column) */
	bool		with_tz;		/* trunc: of a timestamptz, in TimeZone */
	Datum		unit;			/* trunc: the unit */
	FmgrInfo	flinfo;			/* trunc: date_trunc */
	FunctionCallInfo fcinfo;
	CowAggTruncRange *ranges;	/* trunc: sorted by lo, disjoint */
	int			nranges;
	Datum	   *vals;			/* trunc: the results of one batch */
	int64		calls;			/* trunc: date_trunc calls, for EXPLAIN */
} CowAggKey;

/* A slot of a grouped scan's hash table: a group record, or empty. */
typedef struct CowAggSlot
{
	uint32		hash;
	int32		rec;			/* record number, -1 when empty */
	Datum		key;			/* one non-NULL by-value key: its value */
} CowAggSlot;

typedef struct CowAggScanState
{
	CustomScanState css;
	int			naggs;
	CowAggAccum *accums;
	List	   *quals;			/* of CowAggQual */
	Bitmapset  *needed;			/* 0-based columns to decode */
	MemoryContext run_cxt;		/* one computation: reset by each */
	MemoryContext group_cxt;	/* one file group: reset by each, or NULL */
	ParallelTableScanDesc pscan;	/* parallel: the shared scan, or NULL */
	bool		done;
	/* for EXPLAIN ANALYZE: totals over all runs */
	int64		groups_read;
	int64		groups_skipped;
	int64		chunks_decoded; /* whole, or all their blocks one by one */
	int64		units_blocks;	/* numeric blocks read as scaled integers
								 * (CowAggUnits), not decoded */
	int			sorted_attidx;	/* the first record-key column, whose bounds
								 * find their blocks by binary search
								 * (CowGroupBlocksMayMatch), or -1 */

	/* a grouped scan (CowAggGroupedNext) */
	bool		grouped;
	int			nkeys;
	CowAggKey  *keys;
	MemoryContext table_cxt;	/* the records and their keys and states */
	Size		mem_limit;		/* emit and empty the table beyond this */
	Size		rec_size;		/* cells, then key values, then key nulls */
	char	  **chunks;			/* of COW_AGG_CHUNK_RECS records */
	int			nchunks;
	int			max_chunks;
	int32		nrecs;
	CowAggSlot *slots;
	uint32		nslots;			/* a power of 2, at least 4/3 of nrecs */
	bool		key_in_slot;	/* one by-value key: kept in the slots, not
								 * in the records (CowAggLookupByval) */
	int32		last_rec;		/* one key: the record of the last row */
	Datum		last_key;
	bool		last_null;
	Datum	   *addr_keys;		/* one by-reference key: values of this file
								 * group by address (CowAggBatch), or 0 */
	int32	   *addr_recs;		/* and their records */
	int64		emit_next;		/* emitting: the next record (or slot), else
								 * -1 */
	TableScanDesc scan;			/* the scan under way, or NULL */
	CowVersion *versions;
	int			nversions;
	List	   *skip;			/* of CowSkipQual */
	bool	   *block_may;		/* the current group's blocks per-block
								 * min/max leave (CowGroupBlocksMayMatch),
								 * or NULL: all */
	CowDecodedGroup *group;		/* the file group being read, or NULL */
	bool	   *sel;			/* its rows that pass the quals, or NULL */
	uint64		pos;			/* its next row */
	bool		scan_done;
	int64		rows;
	int64		chunks_at_start;
	int32	   *batch_recs;		/* [COW_AGG_BATCH]: the record of each row */
	uint32	   *batch_hashes;	/* [COW_AGG_BATCH]: one by-value key's hash */
	int32		null_rec;		/* one by-value key: the record of NULL */
	int64		flushes;		/* EXPLAIN ANALYZE: tables emitted early */
	int64		rows_emitted;

	/*
	 * The numeric columns of the current file group read as scaled
	 * integers (CowAggUnits): [natts] in group_cxt, or NULL; cleared
	 * whenever a group opens.
	 */
	CowAggUnitsCol **ucols;
} CowAggScanState;

static create_upper_paths_hook_type prev_create_upper_paths = NULL;

static void cow_create_upper_paths(PlannerInfo *root, UpperRelationKind stage,
								   RelOptInfo *input_rel, RelOptInfo *output_rel,
								   void *extra);
static Plan *CowAggPlanPath(PlannerInfo *root, RelOptInfo *rel,
							CustomPath *best_path, List *tlist, List *clauses,
							List *custom_plans);
static bool CowAggClassify(Aggref *aggref, Index relid, TupleDesc desc,
						   CowAggSpec *spec);
static bool CowAggClassifyPartial(Aggref *aggref, Index relid, TupleDesc desc,
								  CowAggSpec *spec);
static Node *CowAggCreateState(CustomScan *cscan);
static void CowAggBegin(CustomScanState *node, EState *estate, int eflags);
static TupleTableSlot *CowAggExec(CustomScanState *node);
static void CowAggEnd(CustomScanState *node);
static void CowAggReScan(CustomScanState *node);
static void CowAggExplain(CustomScanState *node, List *ancestors,
						  ExplainState *es);
static void CowAggInitializeDSM(CustomScanState *node, ParallelContext *pcxt,
								void *coordinate);
static void CowAggInitializeWorker(CustomScanState *node, shm_toc *toc,
								   void *coordinate);

static const CustomPathMethods CowAggPathMethods = {
	.CustomName = COW_AGG_NAME,
	.PlanCustomPath = CowAggPlanPath,
};

static const CustomScanMethods CowAggScanMethods = {
	.CustomName = COW_AGG_NAME,
	.CreateCustomScanState = CowAggCreateState,
};

static const CustomExecMethods CowAggExecMethods = {
	.CustomName = COW_AGG_NAME,
	.BeginCustomScan = CowAggBegin,
	.ExecCustomScan = CowAggExec,
	.EndCustomScan = CowAggEnd,
	.ReScanCustomScan = CowAggReScan,
	.EstimateDSMCustomScan = CowCustomScanEstimateDSM,
	.InitializeDSMCustomScan = CowAggInitializeDSM,
	.ReInitializeDSMCustomScan = CowCustomScanReInitializeDSM,
	.InitializeWorkerCustomScan = CowAggInitializeWorker,
	.ExplainCustomScan = CowAggExplain,
};

/* ---------- classification (planner and executor) ---------- */

static Node *
CowStripRelabel(Node *node)
{
	while (node != NULL && IsA(node, RelabelType))
		node = (Node *) ((RelabelType *) node)->arg;
	return node;
}

/*
 * CowAggMinMax accepts a built-in aggregate whose state is simply one of
 * its inputs, picked by its strict transition function (min, max,
 * bool_and, ...: aggsortop is set exactly for those).  Integer-like types,
 * where equal means identical, are compared natively; their chunk min/max
 * can stand for a whole group when the column still has the type the
 * chunk was written with.
 */
static bool
CowAggMinMax(Aggref *aggref, Form_pg_attribute att, CowAggSpec *spec)
{
	HeapTuple	tup;
	Form_pg_aggregate agg;
	Oid			argtype;
	bool		initnull;
	bool		ok;
	Oid			sortop;
	TypeCacheEntry *tc;

	if (aggref->aggfnoid >= FirstGenbkiObjectId ||
		list_length(aggref->aggargtypes) != 1)
		return false;
	argtype = linitial_oid(aggref->aggargtypes);
	if (IsPolymorphicType(argtype) || aggref->aggtype != argtype)
		return false;
	tup = SearchSysCache1(AGGFNOID, ObjectIdGetDatum(aggref->aggfnoid));
	if (!HeapTupleIsValid(tup))
		return false;
	agg = (Form_pg_aggregate) GETSTRUCT(tup);
	(void) SysCacheGetAttr(AGGFNOID, tup, Anum_pg_aggregate_agginitval, &initnull);
	ok = agg->aggkind == AGGKIND_NORMAL && OidIsValid(agg->aggsortop) &&
		!OidIsValid(agg->aggfinalfn) && agg->aggtranstype == argtype &&
		initnull && func_strict(agg->aggtransfn);
	sortop = agg->aggsortop;
	spec->transfn = agg->aggtransfn;
	ReleaseSysCache(tup);
	if (!ok)
		return false;

	spec->kind = COW_AGG_MINMAX;
	spec->argtype = argtype;
	switch (argtype)
	{
		case BOOLOID:
		case INT2OID:
		case INT4OID:
		case INT8OID:
		case OIDOID:
		case DATEOID:
		case TIMEOID:
		case TIMESTAMPOID:
		case TIMESTAMPTZOID:
			tc = lookup_type_cache(argtype, TYPECACHE_LT_OPR | TYPECACHE_GT_OPR);
			if (sortop == tc->lt_opr || sortop == tc->gt_opr)
			{
				spec->native = true;
				spec->is_max = (sortop == tc->gt_opr);
				spec->stats = (att->atttypid == argtype);
			}
			break;
		default:
			break;
	}
	return true;
}

/*
 * CowAggClassify decides whether we compute aggref exactly as PostgreSQL
 * does, over a column of the relation with range table index relid.
 */
static bool
CowAggClassify(Aggref *aggref, Index relid, TupleDesc desc, CowAggSpec *spec)
{
	TargetEntry *tle;
	Var		   *var;
	Form_pg_attribute att;

	memset(spec, 0, sizeof(CowAggSpec));
	if (aggref->aggsplit == AGGSPLIT_INITIAL_SERIAL)
		return CowAggClassifyPartial(aggref, relid, desc, spec);
	if (aggref->agglevelsup != 0 || aggref->aggkind != AGGKIND_NORMAL ||
		aggref->aggsplit != AGGSPLIT_SIMPLE || aggref->aggdistinct != NIL ||
		aggref->aggorder != NIL || aggref->aggfilter != NULL ||
		aggref->aggdirectargs != NIL)
		return false;
	if (aggref->aggfnoid == F_COUNT_)
	{
		spec->kind = COW_AGG_COUNT_STAR;
		return aggref->aggstar && aggref->args == NIL;
	}
	if (list_length(aggref->args) != 1)
		return false;
	tle = linitial_node(TargetEntry, aggref->args);
	var = (Var *) CowStripRelabel((Node *) tle->expr);
	if (var == NULL || !IsA(var, Var) || var->varno != relid ||
		var->varlevelsup != 0 || var->varattno <= 0 ||
		var->varattno > desc->natts)
		return false;
	att = TupleDescAttr(desc, var->varattno - 1);
	if (att->attisdropped)
		return false;
	spec->attnum = var->varattno;

	switch (aggref->aggfnoid)
	{
		case F_COUNT_ANY:
			spec->kind = COW_AGG_COUNT;
			return true;
		case F_SUM_INT2:
			spec->kind = COW_AGG_SUM_INT;
			spec->width = 2;
			return true;
		case F_SUM_INT4:
			spec->kind = COW_AGG_SUM_INT;
			spec->width = 4;
			return true;
		case F_SUM_INT8:
			spec->kind = COW_AGG_SUM_INT8;
			spec->width = 8;
			return true;
		case F_AVG_INT2:
			spec->kind = COW_AGG_AVG_INT;
			spec->width = 2;
			return true;
		case F_AVG_INT4:
			spec->kind = COW_AGG_AVG_INT;
			spec->width = 4;
			return true;
		case F_AVG_INT8:
			spec->kind = COW_AGG_AVG_INT;
			spec->width = 8;
			return true;
		case F_SUM_NUMERIC:
			spec->kind = COW_AGG_SUM_NUMERIC;
			return true;
		case F_AVG_NUMERIC:
			spec->kind = COW_AGG_AVG_NUMERIC;
			return true;
		default:
			return CowAggMinMax(aggref, att, spec);
	}
}

/*
 * CowAggClassifyPartial: a partial aggregate (AGGSPLIT_INITIAL_SERIAL, the
 * lower half of a parallel or grouped pushdown) whose transition state we
 * produce exactly: count's and sum(int2/int4)'s int8 (the final value),
 * avg(int2/int4)'s int8[] {count, sum}, the min/max-like aggregates' state
 * (their value), and the serialized internal states of sum/avg of int8
 * (int8_avg_serialize) and of numeric (numeric_avg_serialize), which
 * CowAggPartialResult writes as those functions do.
 */
static bool
CowAggClassifyPartial(Aggref *aggref, Index relid, TupleDesc desc,
					  CowAggSpec *spec)
{
	Aggref		simple = *aggref;
	Oid			state_type;
	Oid			serialfn = InvalidOid;
	HeapTuple	tup;

	/* classified as the whole aggregate, whose result type it declares */
	simple.aggsplit = AGGSPLIT_SIMPLE;
	simple.aggtype = get_func_rettype(aggref->aggfnoid);
	if (!CowAggClassify(&simple, relid, desc, spec))
		return false;
	switch (spec->kind)
	{
		case COW_AGG_COUNT_STAR:
		case COW_AGG_COUNT:
		case COW_AGG_SUM_INT:
			state_type = INT8OID;
			break;
		case COW_AGG_AVG_INT:
			if (spec->width == 8)
			{
				state_type = BYTEAOID;
				serialfn = F_INT8_AVG_SERIALIZE;
			}
			else
				state_type = INT8ARRAYOID;
			break;
		case COW_AGG_SUM_INT8:
			state_type = BYTEAOID;
			serialfn = F_INT8_AVG_SERIALIZE;
			break;
		case COW_AGG_SUM_NUMERIC:
		case COW_AGG_AVG_NUMERIC:
			state_type = BYTEAOID;
			serialfn = F_NUMERIC_AVG_SERIALIZE;
			break;
		case COW_AGG_MINMAX:
			state_type = spec->argtype;
			break;
		default:
			return false;
	}
	if (OidIsValid(serialfn))
	{
		bool		ok;

		/* the state we write is the one this aggregate serializes */
		tup = SearchSysCache1(AGGFNOID, ObjectIdGetDatum(aggref->aggfnoid));
		if (!HeapTupleIsValid(tup))
			return false;
		ok = ((Form_pg_aggregate) GETSTRUCT(tup))->aggserialfn == serialfn &&
			((Form_pg_aggregate) GETSTRUCT(tup))->aggtranstype == INTERNALOID;
		ReleaseSysCache(tup);
		if (!ok)
			return false;
	}
	spec->partial = true;
	return aggref->aggtype == state_type;
}

/*
 * CowAggValueOk: an expression we evaluate once per scan as a constant.
 */
static bool
CowAggValueOk(Node *value)
{
	return !contain_var_clause(value) &&
		!contain_volatile_functions(value) &&
		!contain_subplans(value) &&
		!contain_agg_clause(value) &&
		!contain_window_function(value) &&
		!expression_returns_set(value);
}

/*
 * CowAggParseQual recognizes a WHERE clause we evaluate ourselves and fills
 * q's planning fields.  The caller checks that q->var is a column of the
 * scanned table.
 */
static bool
CowAggParseQual(Expr *clause, CowAggQual *q)
{
	Node	   *node = CowStripRelabel((Node *) clause);

	memset(q, 0, sizeof(CowAggQual));
	if (IsA(node, Var))
	{
		q->kind = COW_QUAL_TRUE;
		q->var = (Var *) node;
		return q->var->vartype == BOOLOID;
	}
	if (is_notclause(node))
	{
		Node	   *arg = CowStripRelabel((Node *) get_notclausearg((Expr *) node));

		if (arg == NULL || !IsA(arg, Var) || ((Var *) arg)->vartype != BOOLOID)
			return false;
		q->kind = COW_QUAL_FALSE;
		q->var = (Var *) arg;
		return true;
	}
	if (IsA(node, NullTest))
	{
		NullTest   *nt = (NullTest *) node;
		Node	   *arg = CowStripRelabel((Node *) nt->arg);

		if (nt->argisrow || arg == NULL || !IsA(arg, Var))
			return false;
		q->kind = nt->nulltesttype == IS_NULL ? COW_QUAL_IS_NULL : COW_QUAL_NOT_NULL;
		q->var = (Var *) arg;
		return true;
	}
	if (IsA(node, OpExpr))
	{
		OpExpr	   *op = (OpExpr *) node;
		Node	   *left,
				   *right;

		if (list_length(op->args) != 2 || op->opretset ||
			op->opresulttype != BOOLOID)
			return false;
		left = CowStripRelabel(linitial(op->args));
		right = CowStripRelabel(lsecond(op->args));
		q->kind = COW_QUAL_OP;
		q->expr = (Expr *) op;
		q->opno = op->opno;
		q->opfuncid = op->opfuncid;
		q->collation = op->inputcollid;
		if (IsA(left, Var) && CowAggValueOk(right))
		{
			q->var = (Var *) left;
			q->value_expr = (Expr *) lsecond(op->args);
			q->var_on_left = true;
		}
		else if (IsA(right, Var) && CowAggValueOk(left))
		{
			q->var = (Var *) right;
			q->value_expr = (Expr *) linitial(op->args);
			q->var_on_left = false;
		}
		else
			return false;
	}
	else if (IsA(node, ScalarArrayOpExpr))
	{
		ScalarArrayOpExpr *sa = (ScalarArrayOpExpr *) node;
		Node	   *left;

		if (list_length(sa->args) != 2)
			return false;
		left = CowStripRelabel(linitial(sa->args));
		if (!IsA(left, Var) || !CowAggValueOk(lsecond(sa->args)))
			return false;
		q->kind = COW_QUAL_ARRAY;
		q->expr = (Expr *) sa;
		q->var = (Var *) left;
		q->value_expr = (Expr *) lsecond(sa->args);
		q->var_on_left = true;
		q->use_or = sa->useOr;
		q->opno = sa->opno;
		q->opfuncid = sa->opfuncid;
		q->collation = sa->inputcollid;
	}
	else
		return false;

	/* OP and ARRAY: a strict, non-volatile operator */
	if (!OidIsValid(q->opfuncid))
		q->opfuncid = get_opcode(q->opno);
	return OidIsValid(q->opfuncid) && func_strict(q->opfuncid) &&
		!get_func_retset(q->opfuncid) &&
		!contain_volatile_functions((Node *) clause);
}

/* ---------- planning ---------- */

/* What CowAggTargetWalker collects from the grouping target. */
typedef struct CowAggTargetContext
{
	Index		relid;
	TupleDesc	desc;
	List	   *aggs;			/* distinct Aggrefs */
	bool		from_headers;	/* all answerable from file group headers */
	bool		ok;
} CowAggTargetContext;

/*
 * CowAggTargetWalker checks the output expressions: aggregates we
 * compute, and around them only what a projection can evaluate.
 */
static bool
CowAggTargetWalker(Node *node, CowAggTargetContext *ctx)
{
	if (node == NULL)
		return false;
	if (IsA(node, Aggref))
	{
		CowAggSpec	spec;

		if (!CowAggClassify((Aggref *) node, ctx->relid, ctx->desc, &spec))
		{
			ctx->ok = false;
			return true;
		}
		if (!(spec.kind == COW_AGG_COUNT_STAR || spec.kind == COW_AGG_COUNT ||
			  (spec.kind == COW_AGG_MINMAX && spec.stats)))
			ctx->from_headers = false;
		if (!list_member(ctx->aggs, node))
			ctx->aggs = lappend(ctx->aggs, node);
		return false;
	}
	if (IsA(node, Var) || IsA(node, PlaceHolderVar) || IsA(node, SubLink) ||
		IsA(node, SubPlan) || IsA(node, AlternativeSubPlan) ||
		IsA(node, WindowFunc) || IsA(node, GroupingFunc))
	{
		ctx->ok = false;
		return true;
	}
	return expression_tree_walker(node, CowAggTargetWalker, (void *) ctx);
}

/*
 * CowAggScanQuals checks that input_rel is a plain scan of one table whose
 * WHERE clauses we all evaluate (CowAggParseQual) and returns its range
 * table entry, the clauses in *quals; NULL otherwise.  With partial, the
 * scan must also be one the planner would run in parallel.
 */
static RangeTblEntry *
CowAggScanQuals(PlannerInfo *root, RelOptInfo *input_rel,
				RelOptInfo *output_rel, bool partial, List **quals)
{
	RangeTblEntry *rte;
	ListCell   *lc;

	*quals = NIL;
	if (input_rel->reloptkind != RELOPT_BASEREL ||
		input_rel->rtekind != RTE_RELATION || IS_DUMMY_REL(input_rel))
		return NULL;
	/* a partial path shares the scan out as the table's partial paths do */
	if (partial &&
		(!input_rel->consider_parallel || !output_rel->consider_parallel ||
		 input_rel->partial_pathlist == NIL))
		return NULL;
	rte = root->simple_rte_array[input_rel->relid];
	if (rte->rtekind != RTE_RELATION || rte->inh ||
		rte->relkind != RELKIND_RELATION || rte->tablesample != NULL ||
		rte->securityQuals != NIL)
		return NULL;

	foreach(lc, input_rel->baserestrictinfo)
	{
		RestrictInfo *ri = lfirst_node(RestrictInfo, lc);
		CowAggQual	q;

		if (ri->pseudoconstant || ri->security_level > 0 ||
			!CowAggParseQual(ri->clause, &q) ||
			q.var->varno != input_rel->relid || q.var->varlevelsup != 0 ||
			q.var->varattno <= 0)
			return NULL;
		*quals = lappend(*quals, ri->clause);
	}
	return rte;
}

/*
 * CowAggNewPath makes an IncetlCowAgg path producing target (keys, then
 * aggregates, in any order) for parent; cost is the whole scan's, divided
 * among the participants of a partial (parallel-aware) path.
 */
static CustomPath *
CowAggNewPath(RelOptInfo *input_rel, RelOptInfo *parent, PathTarget *target,
			  List *keys, List *aggs, List *quals, bool grouped, bool partial,
			  double rows, Cost cost)
{
	CustomPath *cpath = makeNode(CustomPath);

	cost += target->cost.startup + target->cost.per_tuple * rows;
	cpath->path.pathtype = T_CustomScan;
	cpath->path.parent = parent;
	cpath->path.pathtarget = target;
	cpath->path.param_info = NULL;
	cpath->path.parallel_aware = partial;
	cpath->path.parallel_safe = partial;
	cpath->path.parallel_workers = 0;
	if (partial)
	{
		Path	   *scan = linitial(input_rel->partial_pathlist);
		double		divisor = scan->parallel_workers;

		/* each participant's share, as get_parallel_divisor counts them */
		if (parallel_leader_participation)
			divisor += Max(1.0 - 0.3 * scan->parallel_workers, 0.0);
		cpath->path.parallel_workers = scan->parallel_workers;
		cost /= Max(divisor, 1.0);
	}
	cpath->path.rows = rows;
	cpath->path.startup_cost = cost;
	cpath->path.total_cost = cost;
	cpath->path.pathkeys = NIL;
	cpath->flags = 0;
	cpath->custom_paths = NIL;
	cpath->custom_private = list_make5(aggs, quals,
									   makeInteger(input_rel->relid), keys,
									   makeInteger(grouped ? 1 : 0));
	cpath->methods = &CowAggPathMethods;
	return cpath;
}

/*
 * CowAggScanCost: the pages of the table, plus a tenth of an operator per
 * row and column we go through (a plain loop over decoded values, against
 * the executor's per-row tuple and expression overhead).  With quals on
 * the record key's first column, only the part of the table in their
 * range (CowKeyRangeSelectivity) and about a block more (COW_BLOCK_ROWS
 * rows, or a file group's when it has fewer): the scan skips the file
 * groups and blocks the quals' min/max rule out and evaluates the quals
 * over every row of the blocks it reads, where a key-range scan
 * (cow_hooks.c, CowCostKeyRange, costed by the selectivity alone) decodes
 * only the range's rows and is the cheaper for a range of up to a
 * thousand rows or so (doc/incetl_cow.md, Reads).
 */
static Cost
CowAggScanCost(PlannerInfo *root, RelOptInfo *input_rel, Relation rel,
			   int ncolumns)
{
	double		spc_seq_page_cost;
	Selectivity frac = CowKeyRangeSelectivity(root, input_rel, rel);

	if (frac < 1.0)
	{
		double		rows,
					raw_bytes,
					block = COW_BLOCK_ROWS;
		int			nversions;

		/* a file group smaller than a block is one block */
		CowPlanVersionTotals(rel, &rows, &raw_bytes, &nversions);
		if (nversions > 0)
			block = Min(block, Max(rows / nversions, 1.0));
		frac = Min(frac + block / Max(input_rel->tuples, 1.0), 1.0);
	}
	get_tablespace_page_costs(input_rel->reltablespace, NULL, &spc_seq_page_cost);
	return (spc_seq_page_cost * input_rel->pages +
			input_rel->tuples * cpu_operator_cost * 0.1 * ncolumns) * frac;
}

/*
 * CowAggMakePath makes the IncetlCowAgg path of output_rel when the query
 * is one we compute entirely without GROUP BY (see the file header), or
 * returns NULL: the grouping relation's, or with partial, a parallel-aware
 * one producing the partial aggregates of output_rel, the partially
 * grouped relation (CowAggAddParallelPath).
 */
static CustomPath *
CowAggMakePath(PlannerInfo *root, RelOptInfo *input_rel, RelOptInfo *output_rel,
			   bool partial)
{
	Query	   *parse = root->parse;
	RangeTblEntry *rte;
	Relation	rel;
	CowAggTargetContext ctx;
	List	   *quals;
	Cost		cost;

	if (parse->commandType != CMD_SELECT || !parse->hasAggs ||
		parse->groupClause != NIL || parse->groupingSets != NIL ||
		parse->havingQual != NULL || parse->hasWindowFuncs ||
		parse->hasTargetSRFs || parse->rowMarks != NIL)
		return NULL;
	rte = CowAggScanQuals(root, input_rel, output_rel, partial, &quals);
	if (rte == NULL)
		return NULL;

	/* the planner holds a lock on the table */
	rel = table_open(rte->relid, NoLock);
	memset(&ctx, 0, sizeof(ctx));
	ctx.relid = input_rel->relid;
	ctx.desc = RelationGetDescr(rel);
	ctx.from_headers = (quals == NIL);
	ctx.ok = CowIsCowRelation(rel);
	if (ctx.ok)
		(void) CowAggTargetWalker((Node *) output_rel->reltarget->exprs, &ctx);
	if (!ctx.ok || ctx.aggs == NIL)
	{
		table_close(rel, NoLock);
		return NULL;
	}

	/* when headers answer everything, about one page per file group */
	if (ctx.from_headers)
	{
		double		spc_seq_page_cost;

		get_tablespace_page_costs(input_rel->reltablespace, NULL,
								  &spc_seq_page_cost);
		cost = spc_seq_page_cost *
			Min(input_rel->pages,
				input_rel->tuples / COW_DEFAULT_FILE_GROUP_ROWS + 1);
	}
	else
		cost = CowAggScanCost(root, input_rel, rel,
							  list_length(ctx.aggs) + list_length(quals));
	table_close(rel, NoLock);
	return CowAggNewPath(input_rel, output_rel, output_rel->reltarget, NIL,
						 ctx.aggs, quals, false, partial, 1, cost);
}

/*
 * CowAggAddParallelPath offers, for a query the pushdown computes whose
 * scan has partial paths, a parallel plan: a Finalize Aggregate over a
 * Gather of a parallel-aware IncetlCowAgg, each participant aggregating
 * the file groups it claims into partial states.  PostgreSQL 15 calls the
 * upper-paths hook for the grouping relation only, not for the partially
 * grouped one, so the three paths are built here, as
 * add_paths_to_grouping_rel builds them over the partially grouped
 * relation the planner made (whose target holds the partial aggregates).
 */
static void
CowAggAddParallelPath(PlannerInfo *root, RelOptInfo *input_rel,
					  RelOptInfo *output_rel)
{
	RelOptInfo *prel = NULL;
	CustomPath *cpath;
	Path	   *gather;
	AggClauseCosts costs;
	double		rows;
	ListCell   *lc;

	foreach(lc, root->upper_rels[UPPERREL_PARTIAL_GROUP_AGG])
	{
		RelOptInfo *r = lfirst(lc);

		if (bms_equal(r->relids, output_rel->relids))
			prel = r;
	}
	if (prel == NULL || prel->reltarget == NULL || prel->partial_pathlist == NIL)
		return;
	cpath = CowAggMakePath(root, input_rel, prel, true);
	if (cpath == NULL)
		return;
	/* one row per worker, as generate_gather_paths counts them */
	rows = cpath->path.rows * cpath->path.parallel_workers;
	gather = (Path *) create_gather_path(root, prel, (Path *) cpath,
										 prel->reltarget, NULL, &rows);
	MemSet(&costs, 0, sizeof(costs));
	get_agg_clause_costs(root, AGGSPLIT_FINAL_DESERIAL, &costs);
	add_path(output_rel, (Path *)
			 create_agg_path(root, output_rel, gather, output_rel->reltarget,
							 AGG_PLAIN, AGGSPLIT_FINAL_DESERIAL, NIL, NIL,
							 &costs, 1));
}

/* ---------- planning with GROUP BY or count(DISTINCT) ---------- */

/*
 * CowAggKeyExpr: a grouping expression the scan computes itself, exactly
 * (desc NULL: without checking the column against the table):
 * a column of the table (of any type: rows are grouped by the binary
 * equality of their values, finer than or equal to the type's equality,
 * and the Aggregate above combines whatever the scan kept apart), or
 * date_trunc(constant, column) of a timestamp or timestamptz column, which
 * the scan computes with date_trunc itself (see CowAggTrunc).
 */
static bool
CowAggKeyExpr(Node *expr, Index relid, TupleDesc desc)
{
	Var		   *var;

	if (IsA(expr, FuncExpr))
	{
		FuncExpr   *f = (FuncExpr *) expr;
		Node	   *unit;

		if ((f->funcid != F_DATE_TRUNC_TEXT_TIMESTAMPTZ &&
			 f->funcid != F_DATE_TRUNC_TEXT_TIMESTAMP) ||
			f->funcretset || list_length(f->args) != 2)
			return false;
		unit = linitial(f->args);
		if (!IsA(unit, Const) || ((Const *) unit)->constisnull)
			return false;
		expr = lsecond(f->args);
		if (!IsA(expr, Var) ||
			((Var *) expr)->vartype != (f->funcid == F_DATE_TRUNC_TEXT_TIMESTAMPTZ ?
										TIMESTAMPTZOID : TIMESTAMPOID))
			return false;
	}
	if (!IsA(expr, Var))
		return false;
	var = (Var *) expr;
	return var->varno == relid && var->varlevelsup == 0 && var->varattno > 0 &&
		(desc == NULL ||
		 (var->varattno <= desc->natts &&
		  !TupleDescAttr(desc, var->varattno - 1)->attisdropped));
}

/*
 * CowAggPartialTarget is the target of the lower half of a two-stage
 * aggregation of grouping_target, as planner.c's (static)
 * make_partial_grouping_target builds it: the grouping columns, then the
 * aggregates and other columns the target and HAVING use, the aggregates
 * in partial mode (AGGSPLIT_INITIAL_SERIAL), so that the Finalize
 * Aggregate above finds them as it would over PostgreSQL's own partial
 * aggregation.
 */
static PathTarget *
CowAggPartialTarget(PlannerInfo *root, PathTarget *grouping_target,
					Node *having)
{
	Query	   *parse = root->parse;
	PathTarget *partial_target = create_empty_pathtarget();
	List	   *non_group_cols = NIL;
	List	   *non_group_exprs;
	ListCell   *lc;
	int			i = 0;

	foreach(lc, grouping_target->exprs)
	{
		Expr	   *expr = (Expr *) lfirst(lc);
		Index		sgref = get_pathtarget_sortgroupref(grouping_target, i);

		if (sgref && parse->groupClause &&
			get_sortgroupref_clause_noerr(sgref, parse->groupClause) != NULL)
			add_column_to_pathtarget(partial_target, expr, sgref);
		else
			non_group_cols = lappend(non_group_cols, expr);
		i++;
	}
	if (having)
		non_group_cols = lappend(non_group_cols, having);
	non_group_exprs = pull_var_clause((Node *) non_group_cols,
									  PVC_INCLUDE_AGGREGATES |
									  PVC_RECURSE_WINDOWFUNCS |
									  PVC_INCLUDE_PLACEHOLDERS);
	add_new_columns_to_pathtarget(partial_target, non_group_exprs);
	foreach(lc, partial_target->exprs)
	{
		Aggref	   *aggref = (Aggref *) lfirst(lc);

		if (IsA(aggref, Aggref))
		{
			Aggref	   *newaggref = makeNode(Aggref);

			memcpy(newaggref, aggref, sizeof(Aggref));
			mark_partial_aggref(newaggref, AGGSPLIT_INITIAL_SERIAL);
			lfirst(lc) = newaggref;
		}
	}
	return set_pathtarget_cost_width(root, partial_target);
}

/*
 * CowAggSplitTarget sorts the expressions of a partial grouping target
 * into grouping keys the scan computes and aggregates whose partial state
 * it produces; false when some expression is neither.
 */
static bool
CowAggSplitTarget(PlannerInfo *root, PathTarget *target, Index relid,
				  TupleDesc desc, List **keys, List **aggs)
{
	ListCell   *lc;
	int			i = 0;

	*keys = NIL;
	*aggs = NIL;
	foreach(lc, target->exprs)
	{
		Node	   *expr = lfirst(lc);
		Index		sgref = get_pathtarget_sortgroupref(target, i++);
		CowAggSpec	spec;

		if (IsA(expr, Aggref))
		{
			if (!CowAggClassify((Aggref *) expr, relid, desc, &spec) ||
				!spec.partial)
				return false;
			*aggs = lappend(*aggs, expr);
		}
		else if (sgref != 0 &&
				 get_sortgroupref_clause_noerr(sgref, root->parse->groupClause) != NULL &&
				 CowAggKeyExpr(expr, relid, desc))
			*keys = lappend(*keys, expr);
		else
			return false;
	}
	return true;
}

/* What CowAggDistinctWalker finds: the one count(DISTINCT col) column. */
typedef struct CowAggDistinctContext
{
	Index		relid;
	Var		   *var;
	bool		ok;
} CowAggDistinctContext;

static bool
CowAggDistinctWalker(Node *node, CowAggDistinctContext *ctx)
{
	if (node == NULL)
		return false;
	if (IsA(node, Aggref))
	{
		Aggref	   *aggref = (Aggref *) node;
		Var		   *var;

		if (aggref->aggfnoid != F_COUNT_ANY || aggref->aggdistinct == NIL ||
			aggref->agglevelsup != 0 || aggref->aggkind != AGGKIND_NORMAL ||
			aggref->aggsplit != AGGSPLIT_SIMPLE || aggref->aggorder != NIL ||
			aggref->aggfilter != NULL || list_length(aggref->args) != 1)
		{
			ctx->ok = false;
			return true;
		}
		var = (Var *) linitial_node(TargetEntry, aggref->args)->expr;
		if (!IsA(var, Var) || var->varno != ctx->relid ||
			var->varlevelsup != 0 || var->varattno <= 0 ||
			(ctx->var != NULL && ctx->var->varattno != var->varattno))
		{
			ctx->ok = false;
			return true;
		}
		ctx->var = var;
		return false;
	}
	if (IsA(node, Var) || IsA(node, PlaceHolderVar) || IsA(node, SubLink) ||
		IsA(node, SubPlan) || IsA(node, AlternativeSubPlan) ||
		IsA(node, GroupingFunc))
	{
		/* a column outside the aggregates: only as a grouping key */
		ctx->ok = false;
		return true;
	}
	return expression_tree_walker(node, CowAggDistinctWalker, (void *) ctx);
}

/*
 * CowAggDistinctTarget: when every aggregate of the query is
 * count(DISTINCT col) of one column, and outside them the target has only
 * grouping keys the scan computes, the target of a scan that emits the
 * distinct (keys, col) of the rows (CowAggAddGroupedPaths); else NULL.
 */
static PathTarget *
CowAggDistinctTarget(PlannerInfo *root, PathTarget *grouping_target,
					 Node *having, Index relid, TupleDesc desc, List **keys)
{
	Query	   *parse = root->parse;
	CowAggDistinctContext ctx;
	PathTarget *target = create_empty_pathtarget();
	ListCell   *lc;
	int			i = 0;

	*keys = NIL;
	memset(&ctx, 0, sizeof(ctx));
	ctx.relid = relid;
	ctx.ok = true;
	foreach(lc, grouping_target->exprs)
	{
		Node	   *expr = lfirst(lc);
		Index		sgref = get_pathtarget_sortgroupref(grouping_target, i++);

		if (sgref && parse->groupClause &&
			get_sortgroupref_clause_noerr(sgref, parse->groupClause) != NULL)
		{
			if (!CowAggKeyExpr(expr, relid, desc))
				return NULL;
			add_column_to_pathtarget(target, (Expr *) expr, sgref);
			*keys = lappend(*keys, expr);
		}
		else if (CowAggDistinctWalker(expr, &ctx))
			return NULL;
	}
	if (CowAggDistinctWalker(having, &ctx) || !ctx.ok || ctx.var == NULL)
		return NULL;
	add_new_column_to_pathtarget(target, (Expr *) ctx.var);
	if (!list_member(*keys, ctx.var))
		*keys = lappend(*keys, ctx.var);
	return set_pathtarget_cost_width(root, target);
}

/*
 * CowAggTruncGroups estimates the distinct values of a date_trunc key from
 * the span of its column's histogram (ANALYZE), in units of the
 * truncation; -1 when there is no histogram or the unit is not a plain
 * one.  PostgreSQL takes the column's own distinct values, which for a
 * timestamp is about one per row: a plan that groups in the scan would
 * then seem to emit as many rows as it reads.
 */
static double
CowAggTruncGroups(FuncExpr *f, Oid relid)
{
	static const struct
	{
		const char *unit;
		double		usecs;
	}			units[] =
	{
		{"second", 1e6}, {"minute", 6e7}, {"hour", 3.6e9}, {"day", 8.64e10},
		{"week", 6.048e11}, {"month", 2.6e12}, {"quarter", 7.8e12},
		{"year", 3.15e13}
	};
	char	   *unit = TextDatumGetCString(((Const *) linitial(f->args))->constvalue);
	Var		   *var = lsecond(f->args);
	double		usecs = 0;
	double		groups = -1;
	HeapTuple	tup;
	AttStatsSlot sslot;
	int			i;

	for (i = 0; i < lengthof(units); i++)
		if (pg_strncasecmp(unit, units[i].unit, strlen(units[i].unit)) == 0)
			usecs = units[i].usecs;
	if (usecs == 0)
		return -1;
	tup = SearchSysCache3(STATRELATTINH, ObjectIdGetDatum(relid),
						  Int16GetDatum(var->varattno), BoolGetDatum(false));
	if (!HeapTupleIsValid(tup))
		return -1;
	if (get_attstatsslot(&sslot, tup, STATISTIC_KIND_HISTOGRAM, InvalidOid,
						 ATTSTATSSLOT_VALUES))
	{
		int			first = 0,
					last = sslot.nvalues - 1;

		/*
		 * The finite bounds: a few rows at -infinity or infinity, which
		 * ANALYZE's sample may or may not catch, must not turn the estimate
		 * into the one for unique values (and the plan with it).
		 */
		while (first < sslot.nvalues &&
			   TIMESTAMP_NOT_FINITE(DatumGetInt64(sslot.values[first])))
			first++;
		while (last > first &&
			   TIMESTAMP_NOT_FINITE(DatumGetInt64(sslot.values[last])))
			last--;
		if (last > first)
			groups = ((double) DatumGetInt64(sslot.values[last]) -
					  (double) DatumGetInt64(sslot.values[first])) / usecs + 2;
		free_attstatsslot(&sslot);
	}
	ReleaseSysCache(tup);
	return groups;
}

/*
 * CowAggEstimateGroups estimates the distinct values of exprs over the
 * rows of input_rel as PostgreSQL does, but with CowAggTruncGroups for
 * date_trunc keys.
 */
static double
CowAggEstimateGroups(PlannerInfo *root, RelOptInfo *input_rel, Oid relid,
					 List *exprs)
{
	List	   *others = NIL;
	double		groups = 1;
	double		pg_groups;
	ListCell   *lc;

	if (exprs == NIL)
		return 1;
	pg_groups = estimate_num_groups(root, exprs, input_rel->rows, NULL, NULL);
	foreach(lc, exprs)
	{
		Node	   *expr = lfirst(lc);
		double		g = -1;

		if (IsA(expr, FuncExpr) && CowAggKeyExpr(expr, input_rel->relid, NULL))
			g = CowAggTruncGroups((FuncExpr *) expr, relid);
		if (g > 0)
			groups *= g;
		else
			others = lappend(others, expr);
	}
	if (others != NIL)
		groups *= estimate_num_groups(root, others, input_rel->rows, NULL, NULL);
	return clamp_row_est(Min(groups, pg_groups));
}

/*
 * CowAggAddGroupedPaths offers, for a query with GROUP BY or with
 * count(DISTINCT col) over one incetl_cow table, an IncetlCowAgg that
 * groups the rows itself, under an ordinary Aggregate that finishes the
 * work (see the file header):
 *
 *	- aggregates whose partial state we produce (CowAggClassifyPartial):
 *	  the scan emits (keys, partial states) -- one row per key, or more when
 *	  its table reached the memory limit and was emitted and emptied --
 *	  under a Finalize HashAggregate or GroupAggregate (over a Sort);
 *	- count(DISTINCT col) only: the scan emits the distinct (keys, col) of
 *	  the rows (again per fill of its table) under the query's own
 *	  Aggregate, which removes what duplicates remain.
 *
 * HAVING, ORDER BY and LIMIT stay above, as PostgreSQL plans them.  Where
 * the table's scan has partial paths, the same with a Gather between the
 * Aggregate and a parallel-aware IncetlCowAgg.
 */
static void
CowAggAddGroupedPaths(PlannerInfo *root, RelOptInfo *input_rel,
					  RelOptInfo *output_rel, GroupPathExtraData *extra)
{
	Query	   *parse = root->parse;
	Node	   *having = extra ? extra->havingQual : parse->havingQual;
	RangeTblEntry *rte;
	Relation	rel;
	PathTarget *target;
	List	   *quals;
	List	   *keys = NIL;
	List	   *aggs = NIL;
	bool		distinct = false;
	bool		ok;
	double		dNumGroups;
	AggClauseCosts costs;
	Cost		scan_cost;
	int			pass;

	if (parse->commandType != CMD_SELECT || parse->groupingSets != NIL ||
		parse->hasTargetSRFs || parse->rowMarks != NIL)
		return;
	if (parse->groupClause == NIL && !parse->hasAggs)
		return;
	rte = CowAggScanQuals(root, input_rel, output_rel, false, &quals);
	if (rte == NULL)
		return;

	/* the planner holds a lock on the table */
	rel = table_open(rte->relid, NoLock);
	ok = CowIsCowRelation(rel);
	target = NULL;
	if (ok)
	{
		target = CowAggDistinctTarget(root, output_rel->reltarget, having,
									  input_rel->relid, RelationGetDescr(rel),
									  &keys);
		distinct = (target != NULL);
		if (!distinct && parse->groupClause != NIL)
		{
			target = CowAggPartialTarget(root, output_rel->reltarget, having);
			if (!CowAggSplitTarget(root, target, input_rel->relid,
								   RelationGetDescr(rel), &keys, &aggs))
				target = NULL;
		}
	}
	if (target == NULL)
	{
		table_close(rel, NoLock);
		return;
	}
	scan_cost = CowAggScanCost(root, input_rel, rel,
							   list_length(keys) + list_length(aggs) +
							   list_length(quals));
	table_close(rel, NoLock);

	dNumGroups = CowAggEstimateGroups(root, input_rel, rte->relid,
									  get_sortgrouplist_exprs(parse->groupClause,
															  parse->targetList));
	MemSet(&costs, 0, sizeof(costs));
	get_agg_clause_costs(root, distinct ? AGGSPLIT_SIMPLE : AGGSPLIT_FINAL_DESERIAL,
						 &costs);

	for (pass = 0; pass < 2; pass++)
	{
		bool		partial = (pass == 1);
		double		rows;
		Path	   *sub;
		CustomPath *cpath;

		if (partial &&
			CowAggScanQuals(root, input_rel, output_rel, true, &quals) == NULL)
			break;
		/* a distinct scan emits about one row per distinct (keys, col) */
		rows = distinct ?
			CowAggEstimateGroups(root, input_rel, rte->relid, keys) :
			dNumGroups;
		rows = Max(Min(rows, input_rel->rows), 1);
		cpath = CowAggNewPath(input_rel, output_rel, target, keys, aggs, quals,
							  true, partial, rows,
							  scan_cost + rows * cpu_tuple_cost);
		sub = (Path *) cpath;
		if (partial)
		{
			rows *= cpath->path.parallel_workers;
			sub = (Path *) create_gather_path(root, output_rel, sub, target,
											  NULL, &rows);
		}

		if (distinct)
		{
			if (parse->groupClause == NIL)
				add_path(output_rel, (Path *)
						 create_agg_path(root, output_rel, sub,
										 output_rel->reltarget, AGG_PLAIN,
										 AGGSPLIT_SIMPLE, NIL, (List *) having,
										 &costs, 1));
			else if (grouping_is_sortable(parse->groupClause))
				add_path(output_rel, (Path *)
						 create_agg_path(root, output_rel,
										 (Path *) create_sort_path(root, output_rel, sub,
																   root->group_pathkeys,
																   -1.0),
										 output_rel->reltarget, AGG_SORTED,
										 AGGSPLIT_SIMPLE, parse->groupClause,
										 (List *) having, &costs, dNumGroups));
			continue;
		}
		if (grouping_is_hashable(parse->groupClause))
			add_path(output_rel, (Path *)
					 create_agg_path(root, output_rel, sub, output_rel->reltarget,
									 AGG_HASHED, AGGSPLIT_FINAL_DESERIAL,
									 parse->groupClause, (List *) having,
									 &costs, dNumGroups));
		if (grouping_is_sortable(parse->groupClause))
			add_path(output_rel, (Path *)
					 create_agg_path(root, output_rel,
									 (Path *) create_sort_path(root, output_rel, sub,
															   root->group_pathkeys,
															   -1.0),
									 output_rel->reltarget, AGG_SORTED,
									 AGGSPLIT_FINAL_DESERIAL, parse->groupClause,
									 (List *) having, &costs, dNumGroups));
	}
}

static void
cow_create_upper_paths(PlannerInfo *root, UpperRelationKind stage,
					   RelOptInfo *input_rel, RelOptInfo *output_rel,
					   void *extra)
{
	if (prev_create_upper_paths)
		prev_create_upper_paths(root, stage, input_rel, output_rel, extra);
	if (stage == UPPERREL_GROUP_AGG && CowAggregatePushdown)
	{
		CustomPath *cpath = CowAggMakePath(root, input_rel, output_rel, false);

		if (cpath != NULL)
		{
			add_path(output_rel, (Path *) cpath);
			CowAggAddParallelPath(root, input_rel, output_rel);
		}
		else
			CowAggAddGroupedPaths(root, input_rel, output_rel,
								  (GroupPathExtraData *) extra);
	}
}

/*
 * CowAggPlanPath makes the CustomScan: scan tuple = the grouping keys, the
 * aggregates, then the columns the quals use; custom_exprs = the quals;
 * custom_private = the number of aggregates, of keys, and whether the scan
 * groups (emits a row per key rather than one row).
 */
static Plan *
CowAggPlanPath(PlannerInfo *root, RelOptInfo *rel, CustomPath *best_path,
			   List *tlist, List *clauses, List *custom_plans)
{
	CustomScan *cscan = makeNode(CustomScan);
	List	   *aggs = linitial(best_path->custom_private);
	List	   *quals = lsecond(best_path->custom_private);
	Index		relid = intVal(lthird(best_path->custom_private));
	List	   *keys = lfourth(best_path->custom_private);
	int			grouped = intVal(list_nth(best_path->custom_private, 4));
	List	   *scan_tlist = NIL;
	ListCell   *lc;

	foreach(lc, list_concat_copy(keys, aggs))
		scan_tlist = lappend(scan_tlist,
							 makeTargetEntry(copyObject(lfirst(lc)),
											 list_length(scan_tlist) + 1,
											 NULL, false));
	foreach(lc, pull_var_clause((Node *) quals, 0))
	{
		if (tlist_member(lfirst(lc), scan_tlist) == NULL)
			scan_tlist = lappend(scan_tlist,
								 makeTargetEntry(copyObject(lfirst(lc)),
												 list_length(scan_tlist) + 1,
												 NULL, true));
	}

	cscan->scan.plan.targetlist = tlist;
	cscan->scan.plan.qual = NIL;
	cscan->scan.scanrelid = relid;
	cscan->flags = best_path->flags;
	cscan->custom_plans = NIL;
	cscan->custom_exprs = copyObject(quals);
	cscan->custom_private = list_make3(makeInteger(list_length(aggs)),
									   makeInteger(list_length(keys)),
									   makeInteger(grouped));
	cscan->custom_scan_tlist = scan_tlist;
	cscan->methods = &CowAggScanMethods;
	return &cscan->scan.plan;
}

/* ---------- numerics ---------- */

/*
 * The stored form of a numeric (the varlena payload), as laid out by
 * numeric.c: a uint16 header, for the long form an int16 weight, then
 * base-10000 digits.  This is PostgreSQL's on-disk format, which does not
 * change between releases; numeric.c does not export its macros.
 */
#define COW_NUM_SIGN_MASK			0xC000
#define COW_NUM_NEG					0x4000
#define COW_NUM_SHORT				0x8000
#define COW_NUM_SPECIAL				0xC000
#define COW_NUM_EXT_SIGN_MASK		0xF000
#define COW_NUM_NAN					0xC000
#define COW_NUM_PINF				0xD000
#define COW_NUM_NINF				0xF000
#define COW_NUM_SHORT_NEG			0x2000
#define COW_NUM_SHORT_DSCALE_MASK	0x1F80
#define COW_NUM_SHORT_DSCALE_SHIFT	7
#define COW_NUM_SHORT_WEIGHT_NEG	0x0040
#define COW_NUM_SHORT_WEIGHT_MASK	0x003F
#define COW_NUM_DSCALE_MASK			0x3FFF

/*
 * A finite numeric is summed as an integer count of units of 10000^-frac,
 * frac being its display scale rounded up to whole base-10000 digits, so
 * reading one takes no division.  Up to four base-10000 digits of value
 * and four of fraction (display scale 16): anything larger is summed as
 * a numeric.
 */
#define COW_NUM_MAX_DIGITS			4
#define COW_NUM_MAX_FRAC			4

typedef enum CowNumClass
{
	COW_NUM_FINITE,				/* *units, *frac and *dscale are set */
	COW_NUM_IS_NAN,
	COW_NUM_IS_PINF,
	COW_NUM_IS_NINF,
	COW_NUM_OTHER				/* finite, but not representable that way */
} CowNumClass;

static const int64 CowPow10[4] = {1, 10, 100, 1000};

static const int64 CowPow10000[COW_NUM_MAX_FRAC + 1] = {
	INT64CONST(1), INT64CONST(10000), INT64CONST(100000000),
	INT64CONST(1000000000000), INT64CONST(10000000000000000)
};

/*
 * CowNumericUnits reads a stored numeric (payload p of len bytes): its
 * value in units of 10000^-*frac and its display scale.
 */
static inline CowNumClass
CowNumericUnits(const char *p, Size len, int64 *units, int *frac, int *dscale)
{
	uint16		h;
	const char *digits;
	int			ndigits,
				weight,
				scale,
				f,
				shift,
				i;
	bool		neg;
	int64		acc = 0;
	int16		d = 0;

	if (unlikely(len < sizeof(uint16)))
		return COW_NUM_OTHER;
	memcpy(&h, p, sizeof(uint16));
	if (likely(h & COW_NUM_SHORT))
	{
		if (unlikely((h & COW_NUM_SIGN_MASK) == COW_NUM_SPECIAL))
		{
			switch (h & COW_NUM_EXT_SIGN_MASK)
			{
				case COW_NUM_NAN:
					return COW_NUM_IS_NAN;
				case COW_NUM_PINF:
					return COW_NUM_IS_PINF;
				case COW_NUM_NINF:
					return COW_NUM_IS_NINF;
				default:
					return COW_NUM_OTHER;
			}
		}
		neg = (h & COW_NUM_SHORT_NEG) != 0;
		scale = (h & COW_NUM_SHORT_DSCALE_MASK) >> COW_NUM_SHORT_DSCALE_SHIFT;
		weight = h & COW_NUM_SHORT_WEIGHT_MASK;
		if (h & COW_NUM_SHORT_WEIGHT_NEG)
			weight |= ~COW_NUM_SHORT_WEIGHT_MASK;
		digits = p + sizeof(uint16);
		ndigits = (len - sizeof(uint16)) / sizeof(int16);
	}
	else
	{
		int16		w;

		if (unlikely(len < 2 * sizeof(uint16)))
			return COW_NUM_OTHER;
		neg = (h & COW_NUM_SIGN_MASK) == COW_NUM_NEG;
		scale = h & COW_NUM_DSCALE_MASK;
		memcpy(&w, p + sizeof(uint16), sizeof(int16));
		weight = w;
		digits = p + 2 * sizeof(uint16);
		ndigits = (len - 2 * sizeof(uint16)) / sizeof(int16);
	}
	f = (scale + 3) / 4;
	if (unlikely(f > COW_NUM_MAX_FRAC || ndigits > COW_NUM_MAX_DIGITS))
		return COW_NUM_OTHER;
	for (i = 0; i < ndigits; i++)
	{
		memcpy(&d, digits + i * sizeof(int16), sizeof(int16));
		acc = acc * 10000 + d;
	}
	if (ndigits > 0)
	{
		/* the last digit counts 10000^(weight - ndigits + 1) */
		shift = weight - ndigits + 1 + f;
		if (unlikely(shift < 0 || ndigits + shift > COW_NUM_MAX_DIGITS))
			return COW_NUM_OTHER;
		/* digits past the display scale, if any, must be zero */
		if (shift == 0)
		{
			switch (scale % 4)
			{
				case 1:
					if (d % 1000 != 0)
						return COW_NUM_OTHER;
					break;
				case 2:
					if (d % 100 != 0)
						return COW_NUM_OTHER;
					break;
				case 3:
					if (d % 10 != 0)
						return COW_NUM_OTHER;
					break;
			}
		}
		else
			acc *= CowPow10000[shift];
	}
	*units = neg ? -acc : acc;
	*frac = f;
	*dscale = scale;
	return COW_NUM_FINITE;
}

/*
 * CowInt128ToNumeric makes the numeric v * 10^-scale with display scale
 * scale (through its text form: once per aggregate, not per row).
 */
static Numeric
CowInt128ToNumeric(int128 v, int scale)
{
	char		digits[48];
	char		buf[64];
	char	   *p = buf;
	int			n = 0;
	uint128		u = v < 0 ? -(uint128) v : (uint128) v;

	do
	{
		digits[n++] = '0' + (int) (u % 10);
		u /= 10;
	} while (u != 0);
	while (n <= scale)
		digits[n++] = '0';
	if (v < 0)
		*p++ = '-';
	while (n > 0)
	{
		if (n == scale)
			*p++ = '.';
		*p++ = digits[--n];
	}
	*p = '\0';
	return DatumGetNumeric(DirectFunctionCall3(numeric_in, CStringGetDatum(buf),
											   ObjectIdGetDatum(InvalidOid),
											   Int32GetDatum(-1)));
}

static Numeric
CowNumericConst(const char *str)
{
	return DatumGetNumeric(DirectFunctionCall3(numeric_in, CStringGetDatum(str),
											   ObjectIdGetDatum(InvalidOid),
											   Int32GetDatum(-1)));
}

/*
 * CowAggUnitsToNumeric: the integer sum as a numeric with the largest
 * display scale summed.  Every value summed is a multiple of
 * 10^-dscale, so the division is exact.
 */
static Numeric
CowAggUnitsToNumeric(CowAggCell *c)
{
	int			drop = 4 * c->frac - c->dscale;
	int128		div = 1;

	Assert(drop >= 0 && drop < 4);
	while (drop-- > 0)
		div *= 10;
	return CowInt128ToNumeric(c->sum / div, c->dscale);
}

static CowAggNumRare *
CowAggRare(CowAggCell *c, MemoryContext cxt)
{
	if (c->u.rare == NULL)
		c->u.rare = MemoryContextAllocZero(cxt, sizeof(CowAggNumRare));
	return c->u.rare;
}

/* CowAggNumericFlush moves the integer sum into the numeric one. */
static void
CowAggNumericFlush(CowAggCell *c, MemoryContext cxt)
{
	CowAggNumRare *rare = CowAggRare(c, cxt);
	MemoryContext old = MemoryContextSwitchTo(cxt);
	Numeric		n = CowAggUnitsToNumeric(c);

	if (rare->slow == NULL)
		rare->slow = n;
	else
	{
		Numeric		s = numeric_add_opt_error(rare->slow, n, NULL);

		pfree(rare->slow);
		pfree(n);
		rare->slow = s;
	}
	MemoryContextSwitchTo(old);
	c->sum = 0;
}

/*
 * CowAggNumericRaiseFrac rescales the cell's sum to frac base-10000
 * decimals (more than it has), flushing it to the slow sum on overflow.
 */
static void
CowAggNumericRaiseFrac(CowAggCell *c, int frac, MemoryContext cxt)
{
	int128		rescaled;

	Assert(frac > c->frac);
	if (__builtin_mul_overflow(c->sum, (int128) CowPow10000[frac - c->frac],
							   &rescaled))
	{
		CowAggNumericFlush(c, cxt);
		rescaled = 0;
	}
	c->sum = rescaled;
	c->frac = frac;
}

/*
 * CowAggNumericAddAtFrac adds v, the sum of n finite values of display
 * scale dscale already in the cell's base-10000 decimals, to the cell (on
 * overflow the sum so far goes to the slow sum first).
 */
static void
CowAggNumericAddAtFrac(CowAggCell *c, int128 v, int64 n, int dscale,
					   MemoryContext cxt)
{
	int128		sum;

	if (__builtin_add_overflow(c->sum, v, &sum))
	{
		CowAggNumericFlush(c, cxt);
		sum = v;
	}
	c->sum = sum;
	if (dscale > c->dscale)
	{
		c->dscale = dscale;
		c->aux = 0;
	}
	if (dscale == c->dscale)
		c->aux += n;
	c->count += n;
}

/*
 * CowAggNumericAddUnits adds a value read by CowNumericUnits to the
 * integer sum, moving that to a common fraction first.
 */
static inline void
CowAggNumericAddUnits(CowAggCell *c, int64 units, int frac, int dscale,
					  MemoryContext cxt)
{
	int128		v = units;

	if (frac > c->frac)
		CowAggNumericRaiseFrac(c, frac, cxt);
	else if (frac < c->frac)
		v *= CowPow10000[c->frac - frac];	/* < 10^16 * 10^16 < 2^127 */
	CowAggNumericAddAtFrac(c, v, 1, dscale, cxt);
}

/*
 * CowAggNumericAdd adds one non-NULL numeric datum, in whatever form.
 */
static void
CowAggNumericAdd(CowAggCell *c, Datum d, MemoryContext cxt)
{
	Numeric		num = DatumGetNumeric(d);	/* detoasted if need be */
	int64		units;
	int			frac,
				dscale;

	switch (CowNumericUnits(VARDATA_ANY(num), VARSIZE_ANY_EXHDR(num),
							&units, &frac, &dscale))
	{
		case COW_NUM_FINITE:
			CowAggNumericAddUnits(c, units, frac, dscale, cxt);
			break;
		case COW_NUM_IS_NAN:
			CowAggRare(c, cxt)->nans++;
			break;
		case COW_NUM_IS_PINF:
			CowAggRare(c, cxt)->pinfs++;
			break;
		case COW_NUM_IS_NINF:
			CowAggRare(c, cxt)->ninfs++;
			break;
		case COW_NUM_OTHER:
			{
				CowAggNumRare *rare = CowAggRare(c, cxt);
				MemoryContext old = MemoryContextSwitchTo(cxt);
				int32		scale = DatumGetInt32(DirectFunctionCall1(numeric_scale,
																	  NumericGetDatum(num)));

				if (rare->slow == NULL)
					rare->slow = (Numeric) PG_DETOAST_DATUM_COPY(d);
				else
				{
					Numeric		s = numeric_add_opt_error(rare->slow, num, NULL);

					pfree(rare->slow);
					rare->slow = s;
				}
				MemoryContextSwitchTo(old);
				if (scale > rare->max_scale)
				{
					rare->max_scale = scale;
					rare->max_scale_count = 0;
				}
				if (scale == rare->max_scale)
					rare->max_scale_count++;
				c->count++;
			}
			break;
	}
}

/*
 * CowAggNumericValue adds one selected non-NULL numeric value in place when
 * it is plain (4-byte or short header), read as units of the cell's current
 * fraction and within its display scale without overflow -- the common
 * case of a numeric(p,s) column; anything else goes through
 * CowAggNumericAdd.
 */
static inline void
CowAggNumericValue(CowAggCell *c, Datum value, MemoryContext cxt)
{
	const char *ptr = DatumGetPointer(value);
	const char *p;
	Size		len;
	int64		units;
	int			frac,
				dscale;
	int128		sum;

	if (VARATT_IS_4B_U(ptr))
	{
		p = VARDATA(ptr);
		len = VARSIZE(ptr) - VARHDRSZ;
	}
	else if (VARATT_IS_1B(ptr) && !VARATT_IS_1B_E(ptr))
	{
		p = VARDATA_1B(ptr);
		len = VARSIZE_1B(ptr) - VARHDRSZ_SHORT;
	}
	else
	{
		CowAggNumericAdd(c, value, cxt);
		return;
	}
	if (likely(CowNumericUnits(p, len, &units, &frac, &dscale) == COW_NUM_FINITE &&
			   frac == c->frac && dscale <= c->dscale &&
			   !__builtin_add_overflow(c->sum, (int128) units, &sum)))
	{
		/* the common case: nothing to rescale, no overflow */
		c->sum = sum;
		c->aux += (dscale == c->dscale);
		c->count++;
		return;
	}
	CowAggNumericAdd(c, value, cxt);
}

/*
 * CowAggNumericColumn adds the selected non-NULL values of a numeric column
 * of one file group.
 */
static void
CowAggNumericColumn(CowAggCell *c, const Datum *values, const bool *isnull,
					const bool *sel, uint64 nrows, MemoryContext cxt)
{
	uint64		i;

	for (i = 0; i < nrows; i++)
	{
		if (isnull[i] || (sel != NULL && !sel[i]))
			continue;
		CowAggNumericValue(c, values[i], cxt);
	}
}

/*
 * CowAggNumericAddBlock adds n finite values of display scale dscale
 * (at most 4 * COW_NUM_MAX_FRAC), whose sum scaled by 10^dscale is units,
 * to the cell: as n calls of CowAggNumericAddUnits would, with the sum
 * moved to units of 10000^-frac.  A sum beyond int128 at the cell's
 * fraction is added as a numeric, as CowAggNumericAdd adds values it
 * cannot read as units.
 */
static void
CowAggNumericAddBlock(CowAggCell *c, int128 units, int64 n, int dscale,
					  MemoryContext cxt)
{
	int			frac = (dscale + 3) / 4;
	int128		v = units;
	int			i;

	Assert(dscale >= 0 && frac <= COW_NUM_MAX_FRAC);
	for (i = dscale; i < 4 * frac; i++)
		v *= 10;				/* |units| < 2^64 * 10^16: no overflow */
	if (frac > c->frac)
		CowAggNumericRaiseFrac(c, frac, cxt);
	else if (frac < c->frac &&
			 __builtin_mul_overflow(v, (int128) CowPow10000[c->frac - frac], &v))
	{
		CowAggNumRare *rare = CowAggRare(c, cxt);
		MemoryContext old = MemoryContextSwitchTo(cxt);
		Numeric		num = CowInt128ToNumeric(units, dscale);

		if (rare->slow == NULL)
			rare->slow = num;
		else
		{
			Numeric		s = numeric_add_opt_error(rare->slow, num, NULL);

			pfree(rare->slow);
			pfree(num);
			rare->slow = s;
		}
		MemoryContextSwitchTo(old);
		if (dscale > rare->max_scale)
		{
			rare->max_scale = dscale;
			rare->max_scale_count = 0;
		}
		if (dscale == rare->max_scale)
			rare->max_scale_count += n;
		c->count += n;
		return;
	}
	CowAggNumericAddAtFrac(c, v, n, dscale, cxt);
}

/*
 * CowAggNumericUnit adds one value of a NUMERIC block (units at display
 * scale dscale, at most 4 * COW_NUM_MAX_FRAC): in place in the common case,
 * as CowAggNumericValue does.
 */
static inline void
CowAggNumericUnit(CowAggCell *c, int64 units, int dscale, int64 mult,
				  MemoryContext cxt)
{
	int128		sum;

	if (likely((dscale + 3) / 4 == c->frac && dscale <= c->dscale &&
			   !__builtin_add_overflow(c->sum, (int128) units * mult, &sum)))
	{
		c->sum = sum;
		c->aux += (dscale == c->dscale);
		c->count++;
		return;
	}
	CowAggNumericAddBlock(c, units, 1, dscale, cxt);
}

/* CowAggNumericSum: the sum of the finite values seen. */
static Numeric
CowAggNumericSum(CowAggCell *c)
{
	CowAggNumRare *rare = c->u.rare;

	if (rare == NULL || rare->slow == NULL)
		return CowAggUnitsToNumeric(c);
	return numeric_add_opt_error(rare->slow, CowAggUnitsToNumeric(c), NULL);
}

/*
 * CowAggNumericResult: sum or avg of the finite values seen, with the
 * special values ruling first, as numeric_sum/numeric_avg do.
 */
static Datum
CowAggNumericResult(CowAggCell *c, bool avg, bool *isnull)
{
	CowAggNumRare *rare = c->u.rare;
	int64		nans = rare ? rare->nans : 0;
	int64		pinfs = rare ? rare->pinfs : 0;
	int64		ninfs = rare ? rare->ninfs : 0;
	Numeric		sum;

	*isnull = false;
	if (c->count + nans + pinfs + ninfs == 0)
	{
		*isnull = true;
		return (Datum) 0;
	}
	if (nans > 0 || (pinfs > 0 && ninfs > 0))
		return NumericGetDatum(CowNumericConst("NaN"));
	if (pinfs > 0)
		return NumericGetDatum(CowNumericConst("Infinity"));
	if (ninfs > 0)
		return NumericGetDatum(CowNumericConst("-Infinity"));

	sum = CowAggNumericSum(c);
	if (!avg)
		return NumericGetDatum(sum);
	return DirectFunctionCall2(numeric_div, NumericGetDatum(sum),
							   NumericGetDatum(int64_to_numeric(c->count)));
}

/*
 * CowAggSendVar appends a finite numeric to buf as numeric.c's
 * numericvar_serialize lays out a NumericVar in the serialized states of
 * its aggregates: ndigits, weight, sign, dscale as int32s, then the
 * base-10000 digits as int16s.  The fields are taken from the numeric's
 * binary send form (numeric_send: the same fields as int16s), so that the
 * digits are PostgreSQL's own.
 */
static void
CowAggSendVar(StringInfo buf, Numeric num)
{
	bytea	   *sent = DatumGetByteaPP(DirectFunctionCall1(numeric_send,
														   NumericGetDatum(num)));
	StringInfoData in;
	int			ndigits,
				i;

	in.data = VARDATA_ANY(sent);
	in.len = VARSIZE_ANY_EXHDR(sent);
	in.maxlen = in.len;
	in.cursor = 0;
	ndigits = (int16) pq_getmsgint(&in, sizeof(int16));
	pq_sendint32(buf, ndigits);
	pq_sendint32(buf, (int16) pq_getmsgint(&in, sizeof(int16)));	/* weight */
	pq_sendint32(buf, (uint16) pq_getmsgint(&in, sizeof(int16)));	/* sign */
	pq_sendint32(buf, (uint16) pq_getmsgint(&in, sizeof(int16)));	/* dscale */
	for (i = 0; i < ndigits; i++)
		pq_sendint16(buf, (int16) pq_getmsgint(&in, sizeof(int16)));
}

/*
 * CowAggSendUnits appends v * 10000^-frac with display scale dscale to buf
 * as numericvar_serialize does (see CowAggSendVar), its base-10000 digits
 * taken straight from the integer, leading and trailing zero digits
 * stripped as make_result strips them.
 */
static void
CowAggSendUnits(StringInfo buf, int128 v, int frac, int dscale)
{
	int16		digits[48];
	int			n = 0,
				first,
				i;
	uint128		u = v < 0 ? -(uint128) v : (uint128) v;

	while (u != 0)
	{
		digits[n++] = (int16) (u % 10000);	/* least significant first */
		u /= 10000;
	}
	first = 0;
	while (first < n && digits[first] == 0)
		first++;				/* trailing zero digits */
	pq_sendint32(buf, n - first);	/* ndigits */
	pq_sendint32(buf, n == 0 ? 0 : n - 1 - frac);	/* weight */
	pq_sendint32(buf, v < 0 ? 0x4000 : 0x0000); /* NUMERIC_NEG, _POS */
	pq_sendint32(buf, dscale);
	for (i = n - 1; i >= first; i--)
		pq_sendint16(buf, digits[i]);
}

/*
 * CowAggNumericState is the serialized transition state of sum/avg of
 * numeric (numeric_avg_serialize: N, sumX, maxScale, maxScaleCount and the
 * counts of NaN, +Infinity and -Infinity) after the values of cell c.
 */
static Datum
CowAggNumericState(CowAggCell *c)
{
	CowAggNumRare *rare = c->u.rare;
	StringInfoData buf;
	int32		max_scale = c->dscale;
	int64		max_scale_count = c->aux;

	if (rare != NULL && rare->max_scale_count > 0)
	{
		if (rare->max_scale > max_scale)
		{
			max_scale = rare->max_scale;
			max_scale_count = rare->max_scale_count;
		}
		else if (rare->max_scale == max_scale)
			max_scale_count += rare->max_scale_count;
	}
	pq_begintypsend(&buf);
	pq_sendint64(&buf, c->count);
	if (rare == NULL || rare->slow == NULL)
		CowAggSendUnits(&buf, c->sum, c->frac, c->dscale);
	else
		CowAggSendVar(&buf, CowAggNumericSum(c));
	pq_sendint32(&buf, max_scale);
	pq_sendint64(&buf, max_scale_count);
	pq_sendint64(&buf, rare ? rare->nans : 0);
	pq_sendint64(&buf, rare ? rare->pinfs : 0);
	pq_sendint64(&buf, rare ? rare->ninfs : 0);
	return PointerGetDatum(pq_endtypsend(&buf));
}

/*
 * CowAggInt8State is the serialized transition state of sum/avg of int8
 * (int8_avg_serialize: N and sumX).
 */
static Datum
CowAggInt8State(CowAggCell *c)
{
	StringInfoData buf;

	pq_begintypsend(&buf);
	pq_sendint64(&buf, c->count);
	CowAggSendUnits(&buf, c->sum, 0, 0);
	return PointerGetDatum(pq_endtypsend(&buf));
}

/* ---------- execution ---------- */

#define COW_AGG_IS_INT(typid) \
	((typid) == INT2OID || (typid) == INT4OID || (typid) == INT8OID)

/* results of a qual's operator cached by value address (CowAggSelect) */
#define COW_AGG_QUAL_CACHE		64
/* numeric quals: beyond every unit a NUMERIC block holds (10^16) */
#define COW_AGG_UNITS_BOUND		INT64CONST(100000000000000000)	/* 10^17 */

static Node *
CowAggCreateState(CustomScan *cscan)
{
	CowAggScanState *st = (CowAggScanState *) newNode(sizeof(CowAggScanState),
													  T_CustomScanState);

	st->css.methods = &CowAggExecMethods;
	st->sorted_attidx = -1;
	return (Node *) st;
}

/* The table column a Var of custom_exprs (INDEX_VAR) stands for. */
static AttrNumber
CowAggQualColumn(CustomScan *cscan, Var *var)
{
	TargetEntry *tle;
	Var		   *col;

	if (var->varno != INDEX_VAR || var->varattno <= 0 ||
		var->varattno > list_length(cscan->custom_scan_tlist))
		elog(ERROR, "unexpected column reference in " COW_AGG_NAME " qual");
	tle = list_nth_node(TargetEntry, cscan->custom_scan_tlist, var->varattno - 1);
	col = (Var *) tle->expr;
	if (!IsA(col, Var) || col->varno != cscan->scan.scanrelid || col->varattno <= 0)
		elog(ERROR, "unexpected column reference in " COW_AGG_NAME " qual");
	return col->varattno;
}

/* rows of a file group fed to the hash table at a time */
#define COW_AGG_BATCH			1024
/* records per chunk of a grouped scan's table */
#define COW_AGG_CHUNK_RECS		1024
/* by-reference key values cached by address (CowAggBatch) */
#define COW_AGG_ADDR_CACHE		256
/* date_trunc ranges kept per key before starting over */
#define COW_AGG_TRUNC_RANGES	4096

/*
 * CowAggInitKey prepares a grouping key of the scan tuple (CowAggKeyExpr
 * checked it): a column, or date_trunc(unit, column).
 */
static void
CowAggInitKey(CowAggScanState *st, CowAggKey *key, Expr *expr)
{
	Var		   *var;

	if (IsA(expr, FuncExpr))
	{
		FuncExpr   *f = (FuncExpr *) expr;

		key->trunc = true;
		key->with_tz = (f->funcid == F_DATE_TRUNC_TEXT_TIMESTAMPTZ);
		key->unit = ((Const *) linitial(f->args))->constvalue;
		fmgr_info(f->funcid, &key->flinfo);
		fmgr_info_set_expr((Node *) f, &key->flinfo);
		key->fcinfo = palloc0(SizeForFunctionCallInfo(2));
		InitFunctionCallInfoData(*key->fcinfo, &key->flinfo, 2, f->inputcollid,
								 NULL, NULL);
		key->ranges = palloc(sizeof(CowAggTruncRange) * COW_AGG_TRUNC_RANGES);
		key->vals = palloc(sizeof(Datum) * COW_AGG_BATCH);
		var = (Var *) lsecond(f->args);
	}
	else
		var = (Var *) expr;
	key->attidx = var->varattno - 1;
	get_typlenbyval(exprType((Node *) expr), &key->typlen, &key->typbyval);
	st->needed = bms_add_member(st->needed, key->attidx);
}

static void
CowAggBegin(CustomScanState *node, EState *estate, int eflags)
{
	CowAggScanState *st = (CowAggScanState *) node;
	CustomScan *cscan = (CustomScan *) node->ss.ps.plan;
	Relation	rel = node->ss.ss_currentRelation;
	TupleDesc	desc = RelationGetDescr(rel);
	ListCell   *lc;
	int			i = 0;

	if (!CowIsCowRelation(rel))
		elog(ERROR, COW_AGG_NAME " scan of a relation that is not incetl_cow");
	st->naggs = intVal(linitial(cscan->custom_private));
	st->nkeys = intVal(lsecond(cscan->custom_private));
	st->grouped = intVal(lthird(cscan->custom_private)) != 0;
	st->accums = palloc0(sizeof(CowAggAccum) * Max(st->naggs, 1));
	st->keys = palloc0(sizeof(CowAggKey) * Max(st->nkeys, 1));
	st->rec_size = sizeof(CowAggCell) * st->naggs;
	foreach(lc, cscan->custom_scan_tlist)
	{
		TargetEntry *tle = lfirst_node(TargetEntry, lc);
		CowAggAccum *a;

		if (i >= st->nkeys + st->naggs)
			break;
		if (i < st->nkeys)
		{
			if (!CowAggKeyExpr((Node *) tle->expr, cscan->scan.scanrelid, desc))
				elog(ERROR, "unexpected grouping key in " COW_AGG_NAME " plan");
			CowAggInitKey(st, &st->keys[i++], tle->expr);
			continue;
		}
		a = &st->accums[i++ - st->nkeys];
		if (!IsA(tle->expr, Aggref) ||
			!CowAggClassify((Aggref *) tle->expr, cscan->scan.scanrelid, desc,
							&a->spec) ||
			(st->grouped && !a->spec.partial))
			elog(ERROR, "unexpected aggregate in " COW_AGG_NAME " plan");
		a->attidx = a->spec.attnum - 1;
		a->offset = sizeof(CowAggCell) * (i - 1 - st->nkeys);
		if (a->spec.attnum > 0)
			st->needed = bms_add_member(st->needed, a->attidx);
		if (a->spec.kind == COW_AGG_MINMAX)
		{
			get_typlenbyval(a->spec.argtype, &a->typlen, &a->typbyval);
			if (!a->spec.native)
			{
				fmgr_info(a->spec.transfn, &a->flinfo);
				a->fcinfo = palloc0(SizeForFunctionCallInfo(2));
				InitFunctionCallInfoData(*a->fcinfo, &a->flinfo, 2,
										 ((Aggref *) tle->expr)->inputcollid,
										 NULL, NULL);
			}
		}
	}
	/*
	 * A record: the cells (16-byte aligned), the key values, their nulls --
	 * but one by-value key is kept in the hash slots, and with no
	 * aggregates besides (count(DISTINCT)) there is no record at all.
	 */
	st->key_in_slot = (st->nkeys == 1 && st->keys[0].typbyval);
	if (!st->key_in_slot)
		st->rec_size += (sizeof(Datum) + sizeof(bool)) * st->nkeys;
	st->rec_size = TYPEALIGN(16, st->rec_size);

	foreach(lc, cscan->custom_exprs)
	{
		CowAggQual *q = palloc0(sizeof(CowAggQual));

		if (!CowAggParseQual(lfirst(lc), q))
			elog(ERROR, "unexpected qual in " COW_AGG_NAME " plan");
		q->attidx = CowAggQualColumn(cscan, q->var) - 1;
		q->byref = !TupleDescAttr(desc, q->attidx)->attbyval;
		st->needed = bms_add_member(st->needed, q->attidx);
		if (q->kind == COW_QUAL_OP || q->kind == COW_QUAL_ARRAY)
		{
			q->value_state = ExecInitExpr(q->value_expr, &node->ss.ps);
			fmgr_info(q->opfuncid, &q->flinfo);
			/* for operators that look at their argument types */
			fmgr_info_set_expr((Node *) q->expr, &q->flinfo);
			q->fcinfo = palloc0(SizeForFunctionCallInfo(2));
			InitFunctionCallInfoData(*q->fcinfo, &q->flinfo, 2, q->collation,
									 NULL, NULL);
		}
		st->quals = lappend(st->quals, q);
	}
	st->run_cxt = AllocSetContextCreate(CurrentMemoryContext,
										"incetl cow aggregate",
										ALLOCSET_DEFAULT_SIZES);
	if (st->grouped)
	{
		st->table_cxt = AllocSetContextCreate(CurrentMemoryContext,
											  "incetl cow aggregate groups",
											  ALLOCSET_DEFAULT_SIZES);
		st->mem_limit = get_hash_memory_limit();
		st->batch_recs = palloc(sizeof(int32) * COW_AGG_BATCH);
		st->batch_hashes = palloc(sizeof(uint32) * COW_AGG_BATCH);
		st->addr_keys = palloc0(sizeof(Datum) * COW_AGG_ADDR_CACHE);
		st->addr_recs = palloc0(sizeof(int32) * COW_AGG_ADDR_CACHE);
		st->emit_next = -1;
	}
}

/*
 * CowAggEvalValues evaluates the constant side of every qual for this run;
 * false when some qual can match no row (a NULL compared by a strict
 * operator).
 */
static bool
CowAggEvalValues(CowAggScanState *st)
{
	ExprContext *econtext = st->css.ss.ps.ps_ExprContext;
	bool		any = true;
	ListCell   *lc;

	foreach(lc, st->quals)
	{
		CowAggQual *q = lfirst(lc);
		int16		typlen;
		bool		typbyval;
		Datum		v;

		if (q->kind != COW_QUAL_OP && q->kind != COW_QUAL_ARRAY)
			continue;
		v = ExecEvalExprSwitchContext(q->value_state, econtext, &q->value_isnull);
		if (q->value_isnull)
		{
			any = false;
			continue;
		}
		get_typlenbyval(exprType((Node *) q->value_expr), &typlen, &typbyval);
		q->value = datumCopy(v, typbyval, typlen);
		if (q->kind == COW_QUAL_ARRAY)
		{
			ArrayType  *arr = DatumGetArrayTypeP(q->value);
			int16		elmlen;
			bool		elmbyval;
			char		elmalign;

			get_typlenbyvalalign(ARR_ELEMTYPE(arr), &elmlen, &elmbyval, &elmalign);
			deconstruct_array(arr, ARR_ELEMTYPE(arr), elmlen, elmbyval, elmalign,
							  &q->elems, &q->elem_nulls, &q->nelems);
			/* "= ANY" of an empty array is false, even for NULL */
			if (q->use_or && q->nelems == 0)
				any = false;
		}
	}
	ResetExprContext(econtext);
	return any;
}

/*
 * CowAggCallOp applies a qual's operator to a column value and the qual's
 * value (or an array element); NULL counts as false, as in WHERE.
 */
static inline bool
CowAggCallOp(CowAggQual *q, Datum col, Datum other)
{
	FunctionCallInfo fcinfo = q->fcinfo;
	Datum		r;

	fcinfo->args[0].value = q->var_on_left ? col : other;
	fcinfo->args[0].isnull = false;
	fcinfo->args[1].value = q->var_on_left ? other : col;
	fcinfo->args[1].isnull = false;
	fcinfo->isnull = false;
	r = FunctionCallInvoke(fcinfo);
	return !fcinfo->isnull && DatumGetBool(r);
}

/*
 * CowAggUnits reads block b of numeric column attidx of g as scaled
 * integers (CowGroupBlockUnits), once per file group for all the quals and
 * aggregates that ask; false when the block must be read as Datums
 * instead.  *units and *isnull are indexed from the block's first row.
 */
static bool
CowAggUnits(CowAggScanState *st, CowDecodedGroup *g, int attidx, uint32 b,
			const int64 **units, const bool **isnull, int *dscale)
{
	uint64		r0 = (uint64) b * g->header->block_rows;
	CowAggUnitsCol *col;

	if (attidx >= g->natts)
		return false;
	if (st->ucols == NULL)
		st->ucols = MemoryContextAllocZero(st->group_cxt,
										   sizeof(CowAggUnitsCol *) * Max(g->natts, 1));
	col = st->ucols[attidx];
	if (col == NULL)
	{
		uint32		k;

		col = MemoryContextAlloc(st->group_cxt, sizeof(CowAggUnitsCol));
		col->units = MemoryContextAllocHuge(st->group_cxt,
											sizeof(int64) * Max(g->nrows, 1));
		col->nulls = MemoryContextAllocHuge(st->group_cxt, Max(g->nrows, 1));
		col->scale = MemoryContextAlloc(st->group_cxt,
										sizeof(int) * Max(g->nblocks, 1));
		for (k = 0; k < g->nblocks; k++)
			col->scale[k] = -2;
		st->ucols[attidx] = col;
	}
	if (col->scale[b] == -2)
	{
		int			sc;

		if (CowGroupBlockUnits(g, attidx, b, col->units + r0, col->nulls + r0,
							   &sc))
		{
			col->scale[b] = sc;
			st->units_blocks++;
		}
		else
			col->scale[b] = -1;
	}
	if (col->scale[b] < 0)
		return false;
	*units = col->units + r0;
	*isnull = col->nulls + r0;
	*dscale = col->scale[b];
	return true;
}

/*
 * CowAggQualUnits prepares numeric qual q for a block of display scale
 * dscale: the test of "col op value" on the values scaled by 10^dscale.
 * The value scaled alike, t, is exact; when it is not an integer, "u > t"
 * and "u >= t" are "u > floor(t)", "u < t" and "u <= t" are
 * "u <= floor(t)", and "u = t" is false.  Every stored unit is below
 * 10^16 in absolute value, so floor(t) is clamped to +/-10^17.  NaN and
 * +Infinity sort above every finite value, -Infinity below, as numeric's
 * comparisons have it.  False (use the Datums) for scales beyond 18.
 */
static bool
CowAggQualUnits(CowAggQual *q, int dscale)
{
	Numeric		value = DatumGetNumeric(q->value);
	int			op = q->units_strategy;

	if (dscale == q->units_scale)
		return true;
	if (dscale > 18)
		return false;
	if (numeric_is_nan(value) || numeric_is_inf(value))
	{
		bool		above = numeric_is_nan(value) ||
			DatumGetInt32(DirectFunctionCall2(numeric_cmp, q->value,
											  NumericGetDatum(int64_to_numeric(0)))) > 0;

		if (op == BTLessStrategyNumber || op == BTLessEqualStrategyNumber)
			q->units_test = above ? COW_UNITS_ALL : COW_UNITS_NONE;
		else if (op == BTEqualStrategyNumber)
			q->units_test = COW_UNITS_NONE;
		else
			q->units_test = above ? COW_UNITS_NONE : COW_UNITS_ALL;
	}
	else
	{
		int64		pow = 1;
		Datum		t,
					fl,
					bound;
		bool		exact;
		int			i;

		for (i = 0; i < dscale; i++)
			pow *= 10;
		t = DirectFunctionCall2(numeric_mul, q->value,
								NumericGetDatum(int64_to_numeric(pow)));
		fl = DirectFunctionCall1(numeric_floor, t);
		exact = DatumGetInt32(DirectFunctionCall2(numeric_cmp, fl, t)) == 0;
		bound = NumericGetDatum(int64_to_numeric(COW_AGG_UNITS_BOUND));
		if (DatumGetInt32(DirectFunctionCall2(numeric_cmp, fl, bound)) >= 0)
			q->units_k = COW_AGG_UNITS_BOUND;
		else if (DatumGetInt32(DirectFunctionCall2(numeric_cmp, fl,
												   DirectFunctionCall1(numeric_uminus, bound))) <= 0)
			q->units_k = -COW_AGG_UNITS_BOUND;
		else
			q->units_k = DatumGetInt64(DirectFunctionCall1(numeric_int8, fl));
		q->units_test = COW_UNITS_COMPARE;
		q->units_op = op;
		if (!exact)
		{
			if (op == BTEqualStrategyNumber)
				q->units_test = COW_UNITS_NONE;
			else if (op == BTLessStrategyNumber || op == BTLessEqualStrategyNumber)
				q->units_op = BTLessEqualStrategyNumber;
			else
				q->units_op = BTGreaterStrategyNumber;
		}
	}
	q->units_scale = dscale;
	return true;
}

/*
 * CowAggUnitsSelect applies numeric qual q to rows [r0, r1), one block of
 * g, on its scaled integers; false, having changed nothing, when the block
 * must be compared as Datums.
 */
static bool
CowAggUnitsSelect(CowAggScanState *st, CowDecodedGroup *g, CowAggQual *q,
				  bool *sel, uint64 r0, uint64 r1)
{
	const int64 *units;
	const bool *isnull;
	int			dscale;
	int64		k;
	uint64		i,
				n = r1 - r0;
	bool	   *s = sel + r0;

	if (!CowAggUnits(st, g, q->attidx, (uint32) (r0 / g->header->block_rows),
					 &units, &isnull, &dscale) ||
		!CowAggQualUnits(q, dscale))
		return false;
	k = q->units_k;
	switch (q->units_test)
	{
		case COW_UNITS_NONE:
			memset(s, false, n);
			return true;
		case COW_UNITS_ALL:
			for (i = 0; i < n; i++)
				s[i] = s[i] & !isnull[i];
			return true;
		case COW_UNITS_COMPARE:
			break;
	}
#define COW_AGG_UNITS_LOOP(cmp) \
	for (i = 0; i < n; i++) \
		s[i] = s[i] & !isnull[i] & (units[i] cmp k)
	switch (q->units_op)
	{
		case BTLessStrategyNumber:
			COW_AGG_UNITS_LOOP(<);
			break;
		case BTLessEqualStrategyNumber:
			COW_AGG_UNITS_LOOP(<=);
			break;
		case BTEqualStrategyNumber:
			COW_AGG_UNITS_LOOP(==);
			break;
		case BTGreaterEqualStrategyNumber:
			COW_AGG_UNITS_LOOP(>=);
			break;
		default:
			COW_AGG_UNITS_LOOP(>);
			break;
	}
#undef COW_AGG_UNITS_LOOP
	return true;
}

/*
 * CowAggSelectRows evaluates the quals, in plan order, over rows [r0, r1)
 * of one file group, one block: sel[row] is true for rows that satisfy all
 * of them.  The block of each qual's column is decoded as the quals reach
 * it, and not at all once no row of the block is left (so a selective
 * first qual spares the other columns' blocks, and a block's values are
 * compared while still in the CPU's caches).  Returns how many rows pass.
 */
static uint64
CowAggSelectRows(CowAggScanState *st, CowDecodedGroup *g, bool *sel,
				 uint64 r0, uint64 r1)
{
	uint64		i,
				n = r1 - r0;
	ListCell   *lc;

	memset(sel + r0, true, r1 - r0);
	foreach(lc, st->quals)
	{
		CowAggQual *q = lfirst(lc);
		Datum	   *values;
		bool	   *isnull;

		if (n == 0)
			break;
		if (q->kind == COW_QUAL_OP && q->by_units &&
			CowAggUnitsSelect(st, g, q, sel, r0, r1))
		{
			n = 0;
			for (i = r0; i < r1; i++)
				n += sel[i];
			continue;
		}
		if (!CowGroupRow(g, q->attidx, r0))
			elog(ERROR, "column %d not decoded for " COW_AGG_NAME, q->attidx + 1);
		values = g->values[q->attidx];
		isnull = g->isnull[q->attidx];
		switch (q->kind)
		{
			case COW_QUAL_IS_NULL:
				for (i = r0; i < r1; i++)
					sel[i] &= isnull[i];
				break;
			case COW_QUAL_NOT_NULL:
				for (i = r0; i < r1; i++)
					sel[i] &= !isnull[i];
				break;
			case COW_QUAL_TRUE:
				for (i = r0; i < r1; i++)
					sel[i] = sel[i] && !isnull[i] && DatumGetBool(values[i]);
				break;
			case COW_QUAL_FALSE:
				for (i = r0; i < r1; i++)
					sel[i] = sel[i] && !isnull[i] && !DatumGetBool(values[i]);
				break;
			case COW_QUAL_OP:
				if (q->by_int)
				{
					for (i = r0; i < r1; i++)
					{
						if (!sel[i])
							continue;
						if (isnull[i])
						{
							sel[i] = false;
							continue;
						}
						sel[i] = CowIntCompare(q->strategy,
											   CowDatumGetInt(values[i], q->col_len),
											   q->ival);
					}
					break;
				}
				if (q->byref)
				{
					/*
					 * Values at one address in a file group are one value
					 * (the entries of a dictionary block): the operator,
					 * not volatile, is called once per address, through a
					 * small cache.
					 */
					Datum		addr[COW_AGG_QUAL_CACHE];
					bool		result[COW_AGG_QUAL_CACHE];

					memset(addr, 0, sizeof(addr));
					for (i = r0; i < r1; i++)
					{
						uint32		slot;

						if (!sel[i])
							continue;
						if (isnull[i])
						{
							sel[i] = false;
							continue;
						}
						slot = (uint32) (values[i] >> 4) % COW_AGG_QUAL_CACHE;
						if (addr[slot] != values[i])
						{
							addr[slot] = values[i];
							result[slot] = CowAggCallOp(q, values[i], q->value);
						}
						sel[i] = result[slot];
					}
					break;
				}
				for (i = r0; i < r1; i++)
				{
					if (sel[i])
						sel[i] = !isnull[i] && CowAggCallOp(q, values[i], q->value);
				}
				break;
			case COW_QUAL_ARRAY:
				for (i = r0; i < r1; i++)
				{
					bool		match;
					int			e;

					if (!sel[i])
						continue;
					/*
					 * As ExecEvalScalarArrayOp: an empty array decides alone,
					 * even for NULL (ALL: true; ANY never gets here).
					 */
					if (q->nelems == 0)
						continue;
					if (isnull[i])
					{
						sel[i] = false;
						continue;
					}
					match = !q->use_or;
					for (e = 0; e < q->nelems; e++)
					{
						bool		r = !q->elem_nulls[e] &&
						CowAggCallOp(q, values[i], q->elems[e]);

						if (q->use_or && r)
						{
							match = true;
							break;
						}
						if (!q->use_or && !r)
						{
							/* false, or NULL: either fails the WHERE */
							match = false;
							break;
						}
					}
					sel[i] = match;
				}
				break;
		}
		n = 0;
		for (i = r0; i < r1; i++)
			n += sel[i];
	}
	return n;
}

/*
 * CowAggSelect evaluates the quals over one file group, block by block
 * (CowAggSelectRows): sel[row] is true for rows that satisfy all of them;
 * the blocks st->block_may rules out select none and are not decoded.
 * Returns how many rows pass.
 */
static uint64
CowAggSelect(CowAggScanState *st, CowDecodedGroup *g, bool *sel)
{
	uint64		block_rows = g->header->block_rows;
	uint64		r0,
				n = 0;
	uint32		b;

	for (b = 0, r0 = 0; r0 < g->nrows; b++, r0 += block_rows)
	{
		uint64		r1 = Min(r0 + block_rows, g->nrows);

		if (st->block_may != NULL && !st->block_may[b])
			memset(sel + r0, false, r1 - r0);	/* per-block min/max */
		else
			n += CowAggSelectRows(st, g, sel, r0, r1);
	}
	return n;
}

/*
 * CowAggDecodeSelected makes column attidx of g available for the rows sel
 * selects (all rows when sel is NULL), decoding only the blocks that hold
 * one: the rows of the other blocks read as NULL (no caller looks at a
 * row sel leaves out).  Returns false for a column that is not wanted.
 */
static bool
CowAggDecodeSelected(CowDecodedGroup *g, int attidx, const bool *sel)
{
	uint64		block_rows = g->header->block_rows;
	uint64		r0;
	uint32		b;

	if (sel == NULL)
		return CowGroupColumn(g, attidx);
	for (r0 = 0; r0 < g->nrows; r0 += block_rows)
	{
		uint64		r1 = Min(r0 + block_rows, g->nrows);

		if (memchr(sel + r0, true, r1 - r0) != NULL &&
			!CowGroupRow(g, attidx, r0))
			return false;
		if (g->decoded[attidx])
			return true;		/* a column without a chunk of its own */
	}
	if (g->block_done[attidx] == NULL)
		return CowGroupColumn(g, attidx);	/* no row selected */
	for (b = 0, r0 = 0; b < g->nblocks; b++, r0 += block_rows)
		if (!g->block_done[attidx][b])
			memset(g->isnull[attidx] + r0, true,
				   Min(r0 + block_rows, g->nrows) - r0);
	return true;
}

/*
 * CowAggChunk returns the descriptor of column attidx in a file group when
 * the chunk holds the column's current type (not added later, not
 * rewritten from another type), else NULL.
 */
static CowColumnDesc *
CowAggChunk(CowDecodedGroup *g, int attidx, Oid typid)
{
	CowColumnDesc *d;

	if ((uint32) attidx >= g->header->natts)
		return NULL;
	d = &CowGroupColumns(g->header)[attidx];
	if (d->typid != typid || (d->flags & COW_COL_DROPPED))
		return NULL;
	return d;
}

/* CowAggNativeKey orders native min/max values as int64s. */
static inline int64
CowAggNativeKey(Oid typid, Datum d)
{
	switch (typid)
	{
		case BOOLOID:
			return DatumGetBool(d) ? 1 : 0;
		case INT2OID:
			return DatumGetInt16(d);
		case INT4OID:
		case DATEOID:
			return DatumGetInt32(d);
		case OIDOID:
			return (int64) DatumGetObjectId(d);
		default:
			return DatumGetInt64(d);
	}
}

static inline void
CowAggNativeAdd(CowAggAccum *a, CowAggCell *c, Datum d)
{
	int64		k = CowAggNativeKey(a->spec.argtype, d);

	if (!c->have || (a->spec.is_max ? k > c->aux : k < c->aux))
	{
		c->have = true;
		c->aux = k;
		c->u.value = d;
	}
}

/*
 * CowAggTransAdd feeds one value to a min/max transition function; true
 * when the value became the state (a by-reference one must then be copied
 * before its memory goes).
 */
static inline bool
CowAggTransAdd(CowAggAccum *a, CowAggCell *c, Datum d)
{
	FunctionCallInfo fcinfo = a->fcinfo;
	Datum		r;

	if (c->stuck_null)
		return false;
	if (!c->have)
	{
		c->have = true;
		c->u.value = d;
		return true;
	}
	fcinfo->args[0].value = c->u.value;
	fcinfo->args[0].isnull = false;
	fcinfo->args[1].value = d;
	fcinfo->args[1].isnull = false;
	fcinfo->isnull = false;
	r = FunctionCallInvoke(fcinfo);
	if (fcinfo->isnull)
	{
		c->stuck_null = true;	/* as Agg does: NULL stays */
		return false;
	}
	if (r == c->u.value)
		return false;
	c->u.value = r;
	return true;
}

static void
CowAggMinMaxGroup(CowAggAccum *a, CowDecodedGroup *g, const bool *sel)
{
	CowAggCell *c = &a->cell;
	Datum	   *values;
	bool	   *isnull;
	uint64		i;

	if (sel == NULL && a->spec.stats)
	{
		CowColumnDesc *d = CowAggChunk(g, a->attidx, a->spec.argtype);

		if (d != NULL && (d->flags & COW_COL_ALL_NULL))
			return;
		if (d != NULL && (d->flags & COW_COL_HAS_MINMAX))
		{
			Datum		min,
						max;

			CowGroupMinMax(g->header, a->attidx, &min, &max);
			CowAggNativeAdd(a, c, a->spec.is_max ? max : min);
			return;
		}
	}
	if (!CowAggDecodeSelected(g, a->attidx, sel))
		return;
	values = g->values[a->attidx];
	isnull = g->isnull[a->attidx];
	for (i = 0; i < g->nrows; i++)
	{
		if (isnull[i] || (sel != NULL && !sel[i]))
			continue;
		if (a->spec.native)
			CowAggNativeAdd(a, c, values[i]);
		else
			(void) CowAggTransAdd(a, c, values[i]);
	}
}

/*
 * CowAggNumericGroup feeds numeric column a->attidx of g to sum/avg of
 * numeric, or to min/max of numeric, block by block: a NUMERIC block from
 * its scaled integers (CowAggUnits) -- sums in int128 units, min/max
 * through the block's smallest or largest value alone -- any other
 * block from its Datums.  False for another aggregate.
 */
static bool
CowAggNumericGroup(CowAggScanState *st, CowAggAccum *a, CowDecodedGroup *g,
				   const bool *sel)
{
	CowAggCell *c = &a->cell;
	uint64		block_rows = g->header->block_rows;
	uint64		r0;
	uint32		b;
	bool		minmax = (a->spec.kind == COW_AGG_MINMAX);
	bool		is_max = false;

	if (minmax)
	{
		if (a->spec.native || a->spec.argtype != NUMERICOID)
			return false;
		if (a->spec.transfn == F_NUMERIC_LARGER)
			is_max = true;
		else if (a->spec.transfn != F_NUMERIC_SMALLER)
			return false;
	}
	else if (a->spec.kind != COW_AGG_SUM_NUMERIC &&
			 a->spec.kind != COW_AGG_AVG_NUMERIC)
		return false;

	for (b = 0, r0 = 0; r0 < g->nrows; b++, r0 += block_rows)
	{
		uint64		r1 = Min(r0 + block_rows, g->nrows);
		uint64		n = r1 - r0;
		const bool *s = sel != NULL ? sel + r0 : NULL;
		const int64 *units;
		const bool *unulls;
		int			dscale;
		Datum	   *values;
		bool	   *isnull;
		uint64		i;

		if (s != NULL && memchr(s, true, n) == NULL)
			continue;
		if (CowAggUnits(st, g, a->attidx, b, &units, &unulls, &dscale) &&
			dscale <= 4 * COW_NUM_MAX_FRAC)
		{
			if (minmax)
			{
				int64		best = 0;
				bool		found = false;

				for (i = 0; i < n; i++)
				{
					if (unulls[i] || (s != NULL && !s[i]))
						continue;
					if (!found || (is_max ? units[i] > best : units[i] < best))
						best = units[i];
					found = true;
				}
				if (found)
					(void) CowAggTransAdd(a, c,
										  NumericGetDatum(CowInt128ToNumeric(best, dscale)));
			}
			else
			{
				int128		sum = 0;
				int64		cnt = 0;

				for (i = 0; i < n; i++)
				{
					bool		take = !unulls[i] && (s == NULL || s[i]);

					sum += take ? units[i] : 0;
					cnt += take;
				}
				if (cnt > 0)
					CowAggNumericAddBlock(c, sum, cnt, dscale, st->run_cxt);
			}
			continue;
		}
		if (!CowGroupRow(g, a->attidx, r0))
			elog(ERROR, "column %d not decoded for " COW_AGG_NAME, a->attidx + 1);
		values = g->values[a->attidx];
		isnull = g->isnull[a->attidx];
		for (i = r0; i < r1; i++)
		{
			if (isnull[i] || (sel != NULL && !sel[i]))
				continue;
			if (minmax)
				(void) CowAggTransAdd(a, c, values[i]);
			else
				CowAggNumericValue(c, values[i], st->run_cxt);
		}
	}
	return true;
}

/*
 * CowAggNumericUnitsGroup prepares the numeric column of a grouped scan's
 * sum/avg of numeric for CowAggBatch: the blocks of g with a selected row
 * that are NUMERIC-encoded go to a->gunits/gnulls (their scale in
 * a->gscale), the others are decoded as Datums.  False (nothing done) for
 * another aggregate.  Call in the file group's memory context.
 */
static bool
CowAggNumericUnitsGroup(CowAggScanState *st, CowAggAccum *a,
						CowDecodedGroup *g, const bool *sel)
{
	uint64		block_rows = g->header->block_rows;
	uint64		r0;
	uint32		b;

	a->gunits = NULL;
	if (a->spec.kind != COW_AGG_SUM_NUMERIC &&
		a->spec.kind != COW_AGG_AVG_NUMERIC)
		return false;
	a->gscale = palloc(sizeof(int) * Max(g->nblocks, 1));
	for (b = 0, r0 = 0; r0 < g->nrows; b++, r0 += block_rows)
	{
		uint64		n = Min(r0 + block_rows, g->nrows) - r0;
		const int64 *units;
		const bool *unulls;
		int			dscale;

		a->gscale[b] = -1;
		if (sel != NULL && memchr(sel + r0, true, n) == NULL)
			continue;
		if (CowAggUnits(st, g, a->attidx, b, &units, &unulls, &dscale) &&
			dscale <= 4 * COW_NUM_MAX_FRAC)
		{
			/* the column's integers, in the group's cache (CowAggUnits) */
			a->gunits = (int64 *) units - r0;
			a->gnulls = (bool *) unulls - r0;
			a->gscale[b] = dscale;
		}
		else if (!CowGroupRow(g, a->attidx, r0))
			elog(ERROR, "column %d not decoded for " COW_AGG_NAME, a->attidx + 1);
	}
	return true;
}

/*
 * CowAggIntegerGroup adds the selected values of an integer column to
 * the cell's sum and count.
 */
static void
CowAggIntegerGroup(CowAggAccum *a, const Datum *values, const bool *isnull,
				   const bool *sel, uint64 nrows)
{
	int128		sum = a->cell.sum;
	int64		n = 0;
	uint64		i;

#define COW_AGG_SUM_LOOP(getter) \
	for (i = 0; i < nrows; i++) \
	{ \
		if (!isnull[i] && (sel == NULL || sel[i])) \
		{ \
			sum += getter(values[i]); \
			n++; \
		} \
	}

	switch (a->spec.width)
	{
		case 2:
			COW_AGG_SUM_LOOP(DatumGetInt16);
			break;
		case 4:
			COW_AGG_SUM_LOOP(DatumGetInt32);
			break;
		default:
			COW_AGG_SUM_LOOP(DatumGetInt64);
			break;
	}
#undef COW_AGG_SUM_LOOP
	a->cell.sum = sum;
	a->cell.count += n;
}

/*
 * CowAggGroup feeds one file group to every aggregate; sel is NULL when
 * every row counts, nsel the number of rows that do.
 */
static void
CowAggGroup(CowAggScanState *st, CowDecodedGroup *g, const bool *sel,
			uint64 nsel)
{
	int			k;

	for (k = 0; k < st->naggs; k++)
	{
		CowAggAccum *a = &st->accums[k];
		Datum	   *values;
		bool	   *isnull;
		uint64		i;

		switch (a->spec.kind)
		{
			case COW_AGG_COUNT_STAR:
				a->cell.count += nsel;
				continue;
			case COW_AGG_MINMAX:
				if (!CowAggNumericGroup(st, a, g, sel))
					CowAggMinMaxGroup(a, g, sel);
				continue;
			case COW_AGG_SUM_NUMERIC:
			case COW_AGG_AVG_NUMERIC:
				if (CowAggNumericGroup(st, a, g, sel))
					continue;
				break;
			case COW_AGG_COUNT:
				if (sel == NULL)
				{
					CowColumnDesc *d = CowAggChunk(g, a->attidx,
												   TupleDescAttr(RelationGetDescr(g->rel),
																 a->attidx)->atttypid);

					if (d != NULL && (d->flags & COW_COL_ALL_NULL))
						continue;
					if (d != NULL && !(d->flags & COW_COL_HAS_NULLS))
					{
						a->cell.count += g->nrows;
						continue;
					}
				}
				break;
			default:
				break;
		}

		if (!CowAggDecodeSelected(g, a->attidx, sel))
			continue;			/* not wanted: cannot happen, reads as NULL */
		values = g->values[a->attidx];
		isnull = g->isnull[a->attidx];
		switch (a->spec.kind)
		{
			case COW_AGG_COUNT:
				for (i = 0; i < g->nrows; i++)
					a->cell.count += !isnull[i] && (sel == NULL || sel[i]);
				break;
			case COW_AGG_SUM_INT:
			case COW_AGG_SUM_INT8:
			case COW_AGG_AVG_INT:
				CowAggIntegerGroup(a, values, isnull, sel, g->nrows);
				break;
			case COW_AGG_SUM_NUMERIC:
			case COW_AGG_AVG_NUMERIC:
				CowAggNumericColumn(&a->cell, values, isnull, sel, g->nrows,
									st->run_cxt);
				break;
			default:
				break;
		}
	}
}

/*
 * CowAggKeep copies by-reference min/max values out of the file group's
 * memory before it is reset.
 */
static void
CowAggKeep(CowAggScanState *st)
{
	int			k;

	for (k = 0; k < st->naggs; k++)
	{
		CowAggAccum *a = &st->accums[k];

		if (a->spec.kind == COW_AGG_MINMAX && a->cell.have && !a->typbyval &&
			a->cell.u.value != a->kept)
		{
			Datum		old = a->kept;

			a->kept = datumCopy(a->cell.u.value, false, a->typlen);
			a->cell.u.value = a->kept;
			if (old != (Datum) 0)
				pfree(DatumGetPointer(old));
		}
	}
}

/*
 * CowAggResult is the final value of one aggregate, as the aggregate's
 * own final function would return it, from its state in cell c.
 */
static Datum
CowAggResult(CowAggAccum *a, CowAggCell *c, bool *isnull)
{
	*isnull = false;
	switch (a->spec.kind)
	{
		case COW_AGG_COUNT_STAR:
		case COW_AGG_COUNT:
			return Int64GetDatum(c->count);
		case COW_AGG_SUM_INT:
			if (c->count == 0)
				break;
			/* int4_sum/int2_sum wrap around in int64, as this does */
			return Int64GetDatum((int64) (uint64) c->sum);
		case COW_AGG_SUM_INT8:
			if (c->count == 0)
				break;
			return NumericGetDatum(CowInt128ToNumeric(c->sum, 0));
		case COW_AGG_AVG_INT:
			if (c->count == 0)
				break;
			return DirectFunctionCall2(numeric_div,
									   NumericGetDatum(CowInt128ToNumeric(c->sum, 0)),
									   NumericGetDatum(int64_to_numeric(c->count)));
		case COW_AGG_SUM_NUMERIC:
			return CowAggNumericResult(c, false, isnull);
		case COW_AGG_AVG_NUMERIC:
			return CowAggNumericResult(c, true, isnull);
		case COW_AGG_MINMAX:
			if (!c->have || c->stuck_null)
				break;
			return c->u.value;
	}
	*isnull = true;
	return (Datum) 0;
}

/*
 * CowAggPartialResult is the transition state of one aggregate of a
 * partial aggregate (see CowAggClassifyPartial), as the aggregate's
 * transition function, and its serialization function where it has one,
 * would leave it after the rows of cell c: for count, sum(int2/int4) and
 * the min/max-like aggregates their final value, for avg(int2/int4)
 * int4_avg_accum's int8[] {count, sum}, for sum/avg of int8 and numeric
 * the serialized state.
 */
static Datum
CowAggPartialResult(CowAggAccum *a, CowAggCell *c, bool *isnull)
{
	Datum		elems[2];

	*isnull = false;
	switch (a->spec.kind)
	{
		case COW_AGG_AVG_INT:
			if (a->spec.width == 8)
				return CowAggInt8State(c);
			elems[0] = Int64GetDatum(c->count);
			/* int4_avg_accum sums in int64, wrapping around as this does */
			elems[1] = Int64GetDatum((int64) (uint64) c->sum);
			return PointerGetDatum(construct_array(elems, 2, INT8OID, sizeof(int64),
												   FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
		case COW_AGG_SUM_INT8:
			return CowAggInt8State(c);
		case COW_AGG_SUM_NUMERIC:
		case COW_AGG_AVG_NUMERIC:
			return CowAggNumericState(c);
		default:
			return CowAggResult(a, c, isnull);
	}
}

/* ---------- grouped scans ---------- */

/*
 * CowAggSameOffset: the session time zone's UTC offset does not change
 * between the timestamptz values a and b (a <= b), so that local time --
 * and date_trunc of it, to any unit -- does not decrease from a to b.
 * Asked of the time zone database (pg_next_dst_boundary), not computed.
 */
static bool
CowAggSameOffset(int64 a, int64 b)
{
	const int64 unix_shift = (int64) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * SECS_PER_DAY;
	pg_time_t	t;
	pg_time_t	boundary;
	long int	before_gmtoff,
				after_gmtoff;
	int			before_isdst,
				after_isdst;
	int			r;

	if (TIMESTAMP_NOT_FINITE(a) || TIMESTAMP_NOT_FINITE(b) || a > b)
		return false;
	/* whole seconds since the Unix epoch, rounded down */
	t = a / USECS_PER_SEC - (a % USECS_PER_SEC < 0 ? 1 : 0) + unix_shift;
	r = pg_next_dst_boundary(&t, &before_gmtoff, &before_isdst, &boundary,
							 &after_gmtoff, &after_isdst, session_timezone);
	if (r == 0)
		return true;			/* no change after a */
	if (r < 0)
		return false;
	/* boundary is the first second of the new offset */
	return (int128) (boundary - unix_shift) * USECS_PER_SEC > (int128) b;
}

/* CowAggTruncCall: date_trunc(unit, t) itself. */
static Datum
CowAggTruncCall(CowAggKey *key, int64 t)
{
	FunctionCallInfo fcinfo = key->fcinfo;
	Datum		res;

	fcinfo->args[0].value = key->unit;
	fcinfo->args[0].isnull = false;
	fcinfo->args[1].value = Int64GetDatum(t);
	fcinfo->args[1].isnull = false;
	fcinfo->isnull = false;
	res = FunctionCallInvoke(fcinfo);
	if (fcinfo->isnull)
		elog(ERROR, "date_trunc returned NULL");
	key->calls++;
	return res;
}

/*
 * CowAggTruncMonotonic: date_trunc does not decrease over [a, b] -- always
 * for timestamp, and for timestamptz where the session time zone keeps one
 * UTC offset (CowAggSameOffset).
 */
static inline bool
CowAggTruncMonotonic(CowAggKey *key, int64 a, int64 b)
{
	return !key->with_tz || CowAggSameOffset(a, b);
}

/*
 * A probe (below) only at timestamps far from the ends of the type's range,
 * where date_trunc cannot fail: about 6000 years from 2000.
 */
#define COW_AGG_PROBE_LIMIT		INT64CONST(190000000000000000)

/* a range's end is searched for once this many inputs fell in it */
#define COW_AGG_TRUNC_SEARCH	32

/*
 * CowAggTruncGrow grows range rg (whose result is res, and which an input
 * just extended to its end at edge, up when up) by probing date_trunc as
 * far again beyond that end.  When the probe finds another result, a range
 * that many inputs fell in bisects to its exact end (about 40 calls);
 * either way it probes no further.
 */
static void
CowAggTruncGrow(CowAggKey *key, CowAggTruncRange *rg, int64 limit, bool up)
{
	int64		same = up ? rg->hi : rg->lo;
	int64		span = rg->hi - rg->lo;
	int64		other;

	if ((up ? rg->hi_final : rg->lo_final) || span <= 0)
		return;
	if ((up ? pg_add_s64_overflow(same, span, &other) :
		 pg_sub_s64_overflow(same, span, &other)) ||
		other >= COW_AGG_PROBE_LIMIT || other <= -COW_AGG_PROBE_LIMIT ||
		(up ? other >= limit : other <= limit))
		return;
	if (CowAggTruncCall(key, other) == rg->res &&
		CowAggTruncMonotonic(key, up ? rg->lo : other, up ? other : rg->hi))
	{
		if (up)
			rg->hi = other;
		else
			rg->lo = other;
		return;
	}
	/* date_trunc differs at other: the range ends between same and other */
	if (rg->hits >= COW_AGG_TRUNC_SEARCH)
	{
		while (up ? other - same > 1 : same - other > 1)
		{
			int64		mid = same + (other - same) / 2;

			if (CowAggTruncCall(key, mid) == rg->res &&
				CowAggTruncMonotonic(key, up ? rg->lo : mid, up ? mid : rg->hi))
				same = mid;
			else
				other = mid;
		}
		if (up)
			rg->hi = same;
		else
			rg->lo = same;
	}
	if (up)
		rg->hi_final = true;
	else
		rg->lo_final = true;
}

/*
 * CowAggTrunc is date_trunc(unit, d) for a date_trunc key, computed by
 * date_trunc itself and cached as ranges of inputs [lo, hi] known to give
 * one result: where the function does not decrease (CowAggTruncMonotonic),
 * it is constant between two inputs with the same result.  A range grows
 * to a new input with its result, then by probes (CowAggTruncGrow): rows
 * in order (a timestamp rising with the key) cost about twice the
 * logarithm of the rows per result in calls, plus about 40 per result
 * with many rows; rows in any order about as many per result as the range
 * falls short of the rows around it.
 */
static Datum
CowAggTrunc(CowAggKey *key, Datum d)
{
	CowAggTruncRange *r = key->ranges;
	int64		t = DatumGetInt64(d);
	int			lo = 0,
				hi = key->nranges,
				idx;
	Datum		res;

	/* idx: the last range starting at or before t, or -1 */
	while (lo < hi)
	{
		int			mid = (lo + hi) / 2;

		if (r[mid].lo <= t)
			lo = mid + 1;
		else
			hi = mid;
	}
	idx = lo - 1;
	if (idx >= 0 && t <= r[idx].hi)
	{
		r[idx].hits++;
		return r[idx].res;
	}

	res = CowAggTruncCall(key, t);
	if (idx >= 0 && r[idx].res == res &&
		CowAggTruncMonotonic(key, r[idx].lo, t))
	{
		r[idx].hi = t;
		r[idx].hits++;
		CowAggTruncGrow(key, &r[idx],
						idx + 1 < key->nranges ? r[idx + 1].lo : PG_INT64_MAX,
						true);
		return res;
	}
	if (idx + 1 < key->nranges && r[idx + 1].res == res &&
		CowAggTruncMonotonic(key, t, r[idx + 1].hi))
	{
		r[idx + 1].lo = t;
		r[idx + 1].hits++;
		CowAggTruncGrow(key, &r[idx + 1], idx >= 0 ? r[idx].hi : PG_INT64_MIN,
						false);
		return res;
	}
	if (key->nranges == COW_AGG_TRUNC_RANGES)
	{
		/* a cache only: start over */
		key->nranges = 0;
		idx = -1;
	}
	memmove(&r[idx + 2], &r[idx + 1],
			sizeof(CowAggTruncRange) * (key->nranges - idx - 1));
	memset(&r[idx + 1], 0, sizeof(CowAggTruncRange));
	r[idx + 1].lo = t;
	r[idx + 1].hi = t;
	r[idx + 1].res = res;
	r[idx + 1].hits = 1;
	key->nranges++;
	return res;
}

static inline uint32
CowAggMix(uint64 h)
{
	h ^= h >> 33;
	h *= UINT64CONST(0xff51afd7ed558ccd);
	h ^= h >> 33;
	h *= UINT64CONST(0xc4ceb9fe1a85ec53);
	h ^= h >> 33;
	return (uint32) h;
}

/*
 * Grouping keys are compared by their binary representation (a varlena's
 * payload, whatever its header): equal bytes are equal values for every
 * type, and values the type calls equal but whose bytes differ (1.0 and
 * 1.00, 0 and -0, strings equal under a nondeterministic collation) stay
 * apart here and are combined by the Aggregate above.
 */
static inline uint32
CowAggHashDatum(const CowAggKey *key, Datum d)
{
	const char *p;

	if (key->typbyval)
		return CowAggMix((uint64) d);
	p = DatumGetPointer(d);
	if (key->typlen == -1)
		return hash_bytes((const unsigned char *) VARDATA_ANY(p),
						  VARSIZE_ANY_EXHDR(p));
	if (key->typlen == -2)
		return hash_bytes((const unsigned char *) p, strlen(p));
	return hash_bytes((const unsigned char *) p, key->typlen);
}

static inline bool
CowAggDatumSame(const CowAggKey *key, Datum a, Datum b)
{
	const char *pa,
			   *pb;

	if (a == b)
		return true;
	if (key->typbyval)
		return false;
	pa = DatumGetPointer(a);
	pb = DatumGetPointer(b);
	if (key->typlen == -1)
		return VARSIZE_ANY_EXHDR(pa) == VARSIZE_ANY_EXHDR(pb) &&
			memcmp(VARDATA_ANY(pa), VARDATA_ANY(pb), VARSIZE_ANY_EXHDR(pa)) == 0;
	if (key->typlen == -2)
		return strcmp(pa, pb) == 0;
	return memcmp(pa, pb, key->typlen) == 0;
}

static inline char *
CowAggRec(CowAggScanState *st, int32 rec)
{
	return st->chunks[rec / COW_AGG_CHUNK_RECS] +
		(Size) (rec % COW_AGG_CHUNK_RECS) * st->rec_size;
}

static inline Datum *
CowAggRecKeys(CowAggScanState *st, char *r)
{
	return (Datum *) (r + sizeof(CowAggCell) * st->naggs);
}

static inline bool *
CowAggRecNulls(CowAggScanState *st, char *r)
{
	return (bool *) (r + sizeof(CowAggCell) * st->naggs +
					 sizeof(Datum) * st->nkeys);
}

/* CowAggTableReset empties the table, freeing all its memory. */
static void
CowAggTableReset(CowAggScanState *st)
{
	uint32		i;

	MemoryContextReset(st->table_cxt);
	st->nrecs = 0;
	st->nchunks = 0;
	st->max_chunks = 16;
	st->chunks = MemoryContextAlloc(st->table_cxt, sizeof(char *) * st->max_chunks);
	st->nslots = 1024;
	st->slots = MemoryContextAlloc(st->table_cxt, sizeof(CowAggSlot) * st->nslots);
	for (i = 0; i < st->nslots; i++)
		st->slots[i].rec = -1;
	st->last_rec = -1;
	st->null_rec = -1;
	memset(st->addr_keys, 0, sizeof(Datum) * COW_AGG_ADDR_CACHE);
}

/* CowAggGrow doubles the hash table's slots. */
static void
CowAggGrow(CowAggScanState *st)
{
	uint32		nslots = st->nslots * 2;
	CowAggSlot *slots = MemoryContextAlloc(st->table_cxt,
										   sizeof(CowAggSlot) * nslots);
	uint32		i;

	for (i = 0; i < nslots; i++)
		slots[i].rec = -1;
	for (i = 0; i < st->nslots; i++)
	{
		uint32		pos;

		if (st->slots[i].rec < 0)
			continue;
		pos = st->slots[i].hash & (nslots - 1);
		while (slots[pos].rec >= 0)
			pos = (pos + 1) & (nslots - 1);
		slots[pos] = st->slots[i];
	}
	pfree(st->slots);
	st->slots = slots;
	st->nslots = nslots;
}

/* CowAggAddRec makes a record for a new key: zeroed cells, key copied. */
static int32
CowAggAddRec(CowAggScanState *st, const Datum *kv, const bool *kn)
{
	int32		rec = st->nrecs;
	char	   *r;
	Datum	   *keys;
	bool	   *nulls;
	int			k;

	st->nrecs++;
	if (st->rec_size == 0)
		return rec;				/* a distinct key in the slots: nothing else */
	if (rec % COW_AGG_CHUNK_RECS == 0)
	{
		char	   *chunk;

		if (st->nchunks == st->max_chunks)
		{
			st->max_chunks *= 2;
			st->chunks = repalloc(st->chunks, sizeof(char *) * st->max_chunks);
		}
		chunk = MemoryContextAlloc(st->table_cxt,
								   COW_AGG_CHUNK_RECS * st->rec_size + 16);
		st->chunks[st->nchunks++] = (char *) TYPEALIGN(16, chunk);
	}
	r = CowAggRec(st, rec);
	memset(r, 0, st->rec_size);
	if (st->key_in_slot)
		return rec;
	keys = CowAggRecKeys(st, r);
	nulls = CowAggRecNulls(st, r);
	for (k = 0; k < st->nkeys; k++)
	{
		CowAggKey  *key = &st->keys[k];

		nulls[k] = kn[k];
		if (kn[k])
			keys[k] = (Datum) 0;
		else if (key->typbyval)
			keys[k] = kv[k];
		else
		{
			MemoryContext old = MemoryContextSwitchTo(st->table_cxt);

			keys[k] = datumCopy(kv[k], false, key->typlen);
			MemoryContextSwitchTo(old);
		}
	}
	return rec;
}

/*
 * CowAggLookupByval finds or makes the record of one by-value key, whose
 * value the slots hold (so that a probe touches no record) and whose
 * hash the caller computed (CowAggBatch, which prefetches its slot).
 */
static inline int32
CowAggLookupByval(CowAggScanState *st, Datum v, bool isnull, uint32 h)
{
	uint32		mask = st->nslots - 1;
	uint32		pos;

	if (isnull)
	{
		if (st->null_rec < 0)
			st->null_rec = CowAggAddRec(st, &v, &isnull);
		return st->null_rec;
	}
	for (pos = h & mask;; pos = (pos + 1) & mask)
	{
		CowAggSlot *s = &st->slots[pos];

		if (s->rec < 0)
		{
			int32		rec = CowAggAddRec(st, &v, &isnull);

			s->hash = h;
			s->rec = rec;
			s->key = v;
			if ((uint64) st->nrecs * 4 > (uint64) st->nslots * 3)
				CowAggGrow(st);
			return rec;
		}
		if (s->key == v)
			return s->rec;
	}
}

/* CowAggLookup finds or makes the record of a key. */
static int32
CowAggLookup(CowAggScanState *st, const Datum *kv, const bool *kn)
{
	uint32		h = 0;
	uint32		mask = st->nslots - 1;
	uint32		pos;
	int			k;

	for (k = 0; k < st->nkeys; k++)
		h = hash_combine(h, kn[k] ? 0x9e3779b9 : CowAggHashDatum(&st->keys[k], kv[k]));
	for (pos = h & mask;; pos = (pos + 1) & mask)
	{
		CowAggSlot *s = &st->slots[pos];
		char	   *r;
		Datum	   *keys;
		bool	   *nulls;

		if (s->rec < 0)
		{
			int32		rec = CowAggAddRec(st, kv, kn);

			s->hash = h;
			s->rec = rec;
			if ((uint64) st->nrecs * 4 > (uint64) st->nslots * 3)
				CowAggGrow(st);
			return rec;
		}
		if (s->hash != h)
			continue;
		r = CowAggRec(st, s->rec);
		keys = CowAggRecKeys(st, r);
		nulls = CowAggRecNulls(st, r);
		for (k = 0; k < st->nkeys; k++)
		{
			if (nulls[k] != kn[k] ||
				(!kn[k] && !CowAggDatumSame(&st->keys[k], keys[k], kv[k])))
				break;
		}
		if (k == st->nkeys)
			return s->rec;
	}
}

/*
 * CowAggBatch feeds rows [from, to) of the current file group to the
 * table: finds each selected row's record, then runs each aggregate over
 * the rows.  Runs in the group's memory; what stays goes to table_cxt.
 */
static void
CowAggBatch(CowAggScanState *st, uint64 from, uint64 to)
{
	CowDecodedGroup *g = st->group;
	const bool *sel = st->sel ? st->sel + from : NULL;
	int32	   *recs = st->batch_recs;
	int			n = (int) (to - from);
	Datum		kv[INDEX_MAX_KEYS];
	bool		kn[INDEX_MAX_KEYS];
	int			i,
				j,
				k;

	for (k = 0; k < st->nkeys; k++)
	{
		CowAggKey  *key = &st->keys[k];
		const Datum *values = g->values[key->attidx] + from;
		const bool *isnull = g->isnull[key->attidx] + from;

		if (!key->trunc)
			continue;
		for (i = 0; i < n; i++)
		{
			if ((sel == NULL || sel[i]) && !isnull[i])
				key->vals[i] = CowAggTrunc(key, values[i]);
		}
	}

	if (st->key_in_slot)
	{
		CowAggKey  *key = &st->keys[0];
		const Datum *values = key->trunc ? key->vals : g->values[key->attidx] + from;
		const bool *isnull = g->isnull[key->attidx] + from;
		uint32	   *hashes = st->batch_hashes;

		/* hash the batch, prefetching the slots, then probe */
		for (i = 0; i < n; i++)
		{
			if ((sel == NULL || sel[i]) && !isnull[i])
			{
				hashes[i] = CowAggMix((uint64) values[i]);
				__builtin_prefetch(&st->slots[hashes[i] & (st->nslots - 1)]);
			}
		}
		for (i = 0; i < n; i++)
		{
			if (sel != NULL && !sel[i])
				recs[i] = -1;
			else if (st->last_rec >= 0 && !isnull[i] && values[i] == st->last_key)
				recs[i] = st->last_rec;
			else
			{
				recs[i] = CowAggLookupByval(st, isnull[i] ? (Datum) 0 : values[i],
											isnull[i], hashes[i]);
				if (!isnull[i])
				{
					st->last_rec = recs[i];
					st->last_key = values[i];
				}
			}
		}
	}
	else if (st->nkeys == 1)
	{
		CowAggKey  *key = &st->keys[0];
		const Datum *values = key->trunc ? key->vals : g->values[key->attidx] + from;
		const bool *isnull = g->isnull[key->attidx] + from;

		/*
		 * Runs of one key skip the hash; so do the values of a by-reference
		 * key met before in this file group at the same address -- the
		 * entries of a dictionary block -- through a small cache by address.
		 */
		for (i = 0; i < n; i++)
		{
			uint32		slot;

			if (sel != NULL && !sel[i])
			{
				recs[i] = -1;
				continue;
			}
			kn[0] = isnull[i];
			kv[0] = kn[0] ? (Datum) 0 : values[i];
			if (st->last_rec >= 0 && kn[0] == st->last_null &&
				kv[0] == st->last_key)
			{
				recs[i] = st->last_rec;
				continue;
			}
			slot = (uint32) (kv[0] >> 4) % COW_AGG_ADDR_CACHE;
			if (!key->typbyval && !kn[0] && st->addr_keys[slot] == kv[0])
				recs[i] = st->addr_recs[slot];
			else
			{
				recs[i] = CowAggLookup(st, kv, kn);
				if (!key->typbyval && !kn[0])
				{
					st->addr_keys[slot] = kv[0];
					st->addr_recs[slot] = recs[i];
				}
			}
			st->last_rec = recs[i];
			st->last_key = kv[0];
			st->last_null = kn[0];
		}
	}
	else
	{
		for (i = 0; i < n; i++)
		{
			if (sel != NULL && !sel[i])
			{
				recs[i] = -1;
				continue;
			}
			for (k = 0; k < st->nkeys; k++)
			{
				CowAggKey  *key = &st->keys[k];

				kn[k] = g->isnull[key->attidx][from + i];
				kv[k] = kn[k] ? (Datum) 0 :
					key->trunc ? key->vals[i] : g->values[key->attidx][from + i];
			}
			recs[i] = CowAggLookup(st, kv, kn);
		}
	}

	for (j = 0; j < st->naggs; j++)
	{
		CowAggAccum *a = &st->accums[j];
		const Datum *values = NULL;
		const bool *isnull = NULL;

		/* (NULL for a numeric column read as integers alone: a->gunits) */
		if (a->spec.attnum > 0 && g->values[a->attidx] != NULL)
		{
			values = g->values[a->attidx] + from;
			isnull = g->isnull[a->attidx] + from;
		}
#define COW_AGG_CELL(i) ((CowAggCell *) (CowAggRec(st, recs[i]) + a->offset))
#define COW_AGG_ROWS(body) \
		for (i = 0; i < n; i++) \
		{ \
			if (recs[i] >= 0 && (isnull == NULL || !isnull[i])) \
			{ \
				CowAggCell *c = COW_AGG_CELL(i); \
				body; \
			} \
		}

		switch (a->spec.kind)
		{
			case COW_AGG_COUNT_STAR:
			case COW_AGG_COUNT:
				COW_AGG_ROWS(c->count++);
				break;
			case COW_AGG_SUM_INT:
			case COW_AGG_SUM_INT8:
			case COW_AGG_AVG_INT:
				if (a->spec.width == 2)
				{
					COW_AGG_ROWS(c->sum += DatumGetInt16(values[i]); c->count++);
				}
				else if (a->spec.width == 4)
				{
					COW_AGG_ROWS(c->sum += DatumGetInt32(values[i]); c->count++);
				}
				else
				{
					COW_AGG_ROWS(c->sum += DatumGetInt64(values[i]); c->count++);
				}
				break;
			case COW_AGG_SUM_NUMERIC:
			case COW_AGG_AVG_NUMERIC:
				if (a->gunits != NULL)
				{
					/* NUMERIC blocks as integers, the others as Datums */
					uint64		block_rows = g->header->block_rows;

					for (i = 0; i < n; i++)
					{
						uint64		row = from + i;
						int			dscale;

						if (recs[i] < 0)
							continue;
						dscale = a->gscale[row / block_rows];
						if (dscale >= 0)
						{
							if (!a->gnulls[row])
								CowAggNumericUnit(COW_AGG_CELL(i), a->gunits[row],
												  dscale, CowPow10[4 * ((dscale + 3) / 4) - dscale],
												  st->table_cxt);
						}
						else if (!g->isnull[a->attidx][row])
							CowAggNumericValue(COW_AGG_CELL(i),
											   g->values[a->attidx][row],
											   st->table_cxt);
					}
					break;
				}
				COW_AGG_ROWS(CowAggNumericValue(c, values[i], st->table_cxt));
				break;
			case COW_AGG_MINMAX:
				if (a->spec.native)
				{
					COW_AGG_ROWS(CowAggNativeAdd(a, c, values[i]));
				}
				else
				{
					COW_AGG_ROWS(if (CowAggTransAdd(a, c, values[i]) && !a->typbyval)
								 {
									 MemoryContext old = MemoryContextSwitchTo(st->table_cxt);

									 c->u.value = datumCopy(c->u.value, false, a->typlen);
									 MemoryContextSwitchTo(old);
								 });
				}
				break;
		}
#undef COW_AGG_ROWS
#undef COW_AGG_CELL
	}
}

/*
 * CowAggIntQual marks an operator qual to be compared natively, as int64s,
 * when its btree operator (opno, the column on the left, of strategy) is
 * one of the integer types' (int2, int4, int8, across them) or of a type
 * ordered as its integer Datums (date, timestamp, ...) against itself.
 */
static void
CowAggIntQual(CowAggQual *q, Form_pg_attribute att, Oid opno, int strategy)
{
	Oid			coltype = getBaseType(att->atttypid);
	Oid			lefttype,
				righttype;
	int16		len;

	if (!att->attbyval)
		return;
	op_input_types(opno, &lefttype, &righttype);
	lefttype = getBaseType(lefttype);
	righttype = getBaseType(righttype);
	if (!(COW_AGG_IS_INT(coltype) && COW_AGG_IS_INT(lefttype) &&
		  COW_AGG_IS_INT(righttype)) &&
		!(CowTypeIsIntOrdered(coltype) && lefttype == coltype &&
		  righttype == coltype))
		return;
	len = get_typlen(righttype);
	if (len != 1 && len != 2 && len != 4 && len != 8)
		return;
	q->by_int = true;
	q->strategy = strategy;
	q->ival = CowDatumGetInt(q->value, len);
	q->col_len = att->attlen;
}

/*
 * CowAggNumericQual marks an operator qual to be compared on the scaled
 * integers of NUMERIC blocks (CowAggUnitsSelect) when the column is a
 * numeric and its operator (opno, the column on the left) one of numeric's
 * btree comparisons.
 */
static void
CowAggNumericQual(CowAggQual *q, Form_pg_attribute att, Oid opno)
{
	TypeCacheEntry *tce;
	Oid			lefttype,
				righttype;
	int			strategy;

	if (getBaseType(att->atttypid) != NUMERICOID)
		return;
	op_input_types(opno, &lefttype, &righttype);
	if (lefttype != NUMERICOID || righttype != NUMERICOID)
		return;
	tce = lookup_type_cache(NUMERICOID, TYPECACHE_BTREE_OPFAMILY);
	if (!OidIsValid(tce->btree_opf))
		return;
	strategy = get_op_opfamily_strategy(opno, tce->btree_opf);
	if (strategy < BTLessStrategyNumber || strategy > BTGreaterStrategyNumber)
		return;
	q->by_units = true;
	q->units_strategy = strategy;
	q->units_scale = -1;
}

/*
 * CowAggBlocksMayMatch applies st->skip to file group g: false when its
 * min/max, or its blocks' (format 4), rule out every row; else sets
 * st->block_may to the blocks left, or NULL for all.
 */
static bool
CowAggBlocksMayMatch(CowAggScanState *st, Relation rel, CowDecodedGroup *g)
{
	uint32		nmatch;

	st->block_may = NULL;
	if (!CowGroupMayMatch(rel, g->header, st->skip))
		return false;
	st->block_may = CowGroupBlocksMayMatch(rel, g->header, st->skip,
										   st->sorted_attidx, &nmatch);
	if (nmatch == 0)
		return false;
	if (nmatch == g->nblocks)
		st->block_may = NULL;
	return true;
}

/*
 * CowAggSkipQuals: the quals that also skip whole file groups by their
 * min/max (btree comparisons, and LIKE with a prefix under "C"), once the
 * quals' values are evaluated.
 */
static List *
CowAggSkipQuals(CowAggScanState *st, Relation rel)
{
	List	   *skip = NIL;
	ListCell   *lc;

	foreach(lc, st->quals)
	{
		CowAggQual *q = lfirst(lc);
		Oid			opno = q->var_on_left ? q->opno : get_commutator(q->opno);
		CowSkipQual *sq;

		q->by_int = false;
		q->by_units = false;
		if (q->kind == COW_QUAL_ARRAY && q->use_or && !q->value_isnull)
		{
			/*
			 * "column IN (list)": its bounds, and the elements themselves
			 * for the groups and blocks none lies in, as the scan's skip
			 * quals make them (CowExtractSkipQuals) from the list as a
			 * constant
			 */
			ScalarArrayOpExpr *sa = copyObject((ScalarArrayOpExpr *) q->expr);
			Form_pg_attribute att = TupleDescAttr(RelationGetDescr(rel),
												  q->attidx);
			Oid			arraytype = exprType((Node *) q->value_expr);

			/* the column as a Var of range table entry 1 */
			sa->args = list_make2(makeVar(1, q->attidx + 1, att->atttypid,
										  att->atttypmod, att->attcollation, 0),
								  makeConst(arraytype, -1, InvalidOid,
											get_typlen(arraytype), q->value,
											false, get_typbyval(arraytype)));
			skip = list_concat(skip,
							   CowExtractSkipQuals(list_make1(sa), 1, rel));
			continue;
		}
		if (q->kind != COW_QUAL_OP)
			continue;
		if (q->var_on_left)
			skip = list_concat(skip,
							   CowMakeLikeSkipQuals(rel, q->attidx + 1, q->opno,
													q->collation, q->value));
		if (!OidIsValid(opno))
			continue;
		CowAggNumericQual(q, TupleDescAttr(RelationGetDescr(rel), q->attidx),
						  opno);
		sq = CowMakeSkipQual(rel, q->attidx + 1, opno, q->collation, q->value);
		if (sq == NULL)
			continue;
		skip = lappend(skip, sq);
		CowAggIntQual(q, TupleDescAttr(RelationGetDescr(rel), q->attidx),
					  opno, sq->strategy);
	}
	return skip;
}

/* CowAggGroupedStart begins a run of a grouped scan. */
static void
CowAggGroupedStart(CowAggScanState *st)
{
	EState	   *estate = st->css.ss.ps.state;
	Relation	rel = st->css.ss.ss_currentRelation;
	MemoryContext old;
	bool		any;
	int			k;

	MemoryContextReset(st->run_cxt);
	old = MemoryContextSwitchTo(st->run_cxt);
	any = CowAggEvalValues(st);
	st->skip = any ? CowAggSkipQuals(st, rel) : NIL;
	if (st->pscan != NULL)
		st->scan = table_beginscan_parallel(rel, st->pscan);
	else
		st->scan = table_beginscan(rel, estate->es_snapshot, 0, NULL);
	st->versions = NULL;
	st->nversions = 0;
	if (any)
		st->versions = CowScanVersions(st->scan, &st->nversions);
	st->sorted_attidx = st->skip != NIL ? CowScanSortedColumn(st->scan) : -1;
	if (st->group_cxt == NULL)
		st->group_cxt = CowGroupContextCreate(MemoryContextGetParent(st->run_cxt),
											  "incetl cow aggregate group",
											  COW_GROUP_CONTEXT_BLOCK);
	MemoryContextSwitchTo(old);
	for (k = 0; k < st->nkeys; k++)
		st->keys[k].nranges = 0;
	CowAggTableReset(st);
	st->group = NULL;
	st->scan_done = false;
	st->emit_next = -1;
	st->rows = 0;
	st->chunks_at_start = CowChunksDecoded + CowChunksByBlock;
}

/* CowAggGroupedEndScan ends the scan of a run, adding up what it read. */
static void
CowAggGroupedEndScan(CowAggScanState *st)
{
	Relation	rel = st->css.ss.ss_currentRelation;
	CowScanDesc cscan = (CowScanDesc) st->scan;

	if (st->scan == NULL)
		return;
	st->groups_read += cscan->groups_read;
	st->groups_skipped += cscan->groups_skipped;
	st->chunks_decoded += CowChunksDecoded + CowChunksByBlock - st->chunks_at_start;
	if (pgstat_should_count_relation(rel))
		rel->pgstat_info->t_counts.t_tuples_returned += st->rows;
	table_endscan(st->scan);
	st->scan = NULL;
	st->group = NULL;
}

/*
 * CowAggNextGroup opens the next file group with a row that passes the
 * quals, its key and aggregate columns decoded; false at the end.
 */
static bool
CowAggNextGroup(CowAggScanState *st)
{
	Relation	rel = st->css.ss.ss_currentRelation;
	CowScanDesc cscan = (CowScanDesc) st->scan;
	int			i,
				k;

	st->group = NULL;
	while (st->nversions > 0 && (i = CowScanNextVersion(st->scan)) >= 0)
	{
		MemoryContext old;
		CowDecodedGroup *g;
		uint64		nsel;

		CHECK_FOR_INTERRUPTS();
		MemoryContextReset(st->group_cxt);
		/* its addresses die with the group */
		st->last_rec = -1;
		memset(st->addr_keys, 0, sizeof(Datum) * COW_AGG_ADDR_CACHE);
		old = MemoryContextSwitchTo(st->group_cxt);
		g = CowOpenGroup(rel, &st->versions[i], false, st->needed);
		st->ucols = NULL;
		st->block_may = NULL;
		if (st->skip != NIL && !CowAggBlocksMayMatch(st, rel, g))
		{
			cscan->groups_skipped++;
			MemoryContextSwitchTo(old);
			continue;
		}
		cscan->groups_read++;
		st->rows += g->nrows;
		st->sel = NULL;
		nsel = g->nrows;
		if (st->quals != NIL)
		{
			st->sel = palloc(Max(g->nrows, 1));
			nsel = CowAggSelect(st, g, st->sel);
		}
		if (nsel > 0)
		{
			for (k = 0; k < st->nkeys; k++)
				if (!CowAggDecodeSelected(g, st->keys[k].attidx, st->sel))
					elog(ERROR, "column %d not decoded for " COW_AGG_NAME,
						 st->keys[k].attidx + 1);
			for (k = 0; k < st->naggs; k++)
				if (st->accums[k].spec.attnum > 0 &&
					!CowAggNumericUnitsGroup(st, &st->accums[k], g, st->sel) &&
					!CowAggDecodeSelected(g, st->accums[k].attidx, st->sel))
					elog(ERROR, "column %d not decoded for " COW_AGG_NAME,
						 st->accums[k].attidx + 1);
		}
		MemoryContextSwitchTo(old);
		if (nsel == 0)
			continue;
		st->group = g;
		st->pos = 0;
		return true;
	}
	return false;
}

/*
 * CowAggEmit stores record rec in the scan slot: its keys, then each
 * aggregate's partial state (in the current memory context).
 */
static void
CowAggEmit(CowAggScanState *st, TupleTableSlot *slot, int32 rec,
		   const Datum *keys, const bool *nulls)
{
	char	   *r = st->rec_size > 0 ? CowAggRec(st, rec) : NULL;
	int			k;

	ExecClearTuple(slot);
	if (keys == NULL)
	{
		keys = CowAggRecKeys(st, r);
		nulls = CowAggRecNulls(st, r);
	}
	for (k = 0; k < st->nkeys; k++)
	{
		slot->tts_values[k] = keys[k];
		slot->tts_isnull[k] = nulls[k];
	}
	for (k = 0; k < st->naggs; k++)
	{
		CowAggAccum *a = &st->accums[k];

		slot->tts_values[st->nkeys + k] =
			CowAggPartialResult(a, (CowAggCell *) (r + a->offset),
								&slot->tts_isnull[st->nkeys + k]);
	}
	for (k = st->nkeys + st->naggs; k < slot->tts_tupleDescriptor->natts; k++)
	{
		slot->tts_values[k] = (Datum) 0;
		slot->tts_isnull[k] = true;
	}
	ExecStoreVirtualTuple(slot);
	st->rows_emitted++;
}

/*
 * CowAggEmitNext stores the table's next record in the scan slot (in the
 * current memory context); false when all were.  With the key in the
 * slots, the records are emitted in slot order, then the NULL key's.
 */
static bool
CowAggEmitNext(CowAggScanState *st, TupleTableSlot *slot)
{
	static const bool not_null = false;
	static const bool is_null = true;
	static const Datum no_value = (Datum) 0;

	if (!st->key_in_slot)
	{
		if (st->emit_next >= st->nrecs)
			return false;
		CowAggEmit(st, slot, st->emit_next++, NULL, NULL);
		return true;
	}
	while (st->emit_next < (int64) st->nslots)
	{
		CowAggSlot *s = &st->slots[st->emit_next++];

		if (s->rec >= 0)
		{
			CowAggEmit(st, slot, s->rec, &s->key, &not_null);
			return true;
		}
	}
	if (st->emit_next == (int64) st->nslots)
	{
		st->emit_next++;
		if (st->null_rec >= 0)
		{
			CowAggEmit(st, slot, st->null_rec, &no_value, &is_null);
			return true;
		}
	}
	return false;
}

/*
 * CowAggGroupedNext produces the next row of a grouped scan into the scan
 * slot; false at the end.  The rows of the file groups go into the table
 * a batch at a time; when the table's memory reaches the limit (hash_mem,
 * as for a HashAggregate), or at the end of the scan, its records are
 * emitted and it is emptied.  A key may so be emitted more than once, with
 * the states of different rows: the Aggregate above combines them.
 */
static bool
CowAggGroupedNext(CowAggScanState *st, TupleTableSlot *slot)
{
	ExprContext *econtext = st->css.ss.ps.ps_ExprContext;

	for (;;)
	{
		if (st->emit_next >= 0)
		{
			MemoryContext old = MemoryContextSwitchTo(econtext->ecxt_per_tuple_memory);
			bool		emitted = CowAggEmitNext(st, slot);

			MemoryContextSwitchTo(old);
			if (emitted)
				return true;
			st->emit_next = -1;
			CowAggTableReset(st);
		}
		if (st->scan_done)
			return false;
		if (st->group == NULL || st->pos >= st->group->nrows)
		{
			if (!CowAggNextGroup(st))
			{
				CowAggGroupedEndScan(st);
				st->scan_done = true;
				st->emit_next = 0;
				continue;
			}
		}
		{
			uint64		to = Min(st->pos + COW_AGG_BATCH, st->group->nrows);
			MemoryContext old = MemoryContextSwitchTo(st->group_cxt);

			CHECK_FOR_INTERRUPTS();
			CowAggBatch(st, st->pos, to);
			MemoryContextSwitchTo(old);
			st->pos = to;
		}
		if (MemoryContextMemAllocated(st->table_cxt, true) >= st->mem_limit)
		{
			st->flushes++;
			st->emit_next = 0;
		}
	}
}

/*
 * CowAggCompute runs the whole aggregation into the scan slot: the file
 * group versions current for the query's snapshot, through a sequential
 * scan descriptor (same MVCC rules, and incetl.cow_last_scan() reports it).
 */
static void
CowAggCompute(CowAggScanState *st)
{
	EState	   *estate = st->css.ss.ps.state;
	Relation	rel = st->css.ss.ss_currentRelation;
	TupleTableSlot *slot = st->css.ss.ss_ScanTupleSlot;
	MemoryContext old;
	TableScanDesc scan;
	CowScanDesc cscan;
	CowVersion *versions = NULL;
	List	   *skip = NIL;
	int			nversions = 0;
	int64		chunks_at_start = CowChunksDecoded + CowChunksByBlock;
	int64		rows = 0;
	bool		any;
	int			i,
				k;

	MemoryContextReset(st->run_cxt);
	old = MemoryContextSwitchTo(st->run_cxt);
	for (k = 0; k < st->naggs; k++)
		memset((char *) &st->accums[k] + COW_AGG_RUN_STATE_OFFSET, 0,
			   sizeof(CowAggAccum) - COW_AGG_RUN_STATE_OFFSET);

	any = CowAggEvalValues(st);
	if (any)
		skip = CowAggSkipQuals(st, rel);

	if (st->pscan != NULL)
		scan = table_beginscan_parallel(rel, st->pscan);
	else
		scan = table_beginscan(rel, estate->es_snapshot, 0, NULL);
	cscan = (CowScanDesc) scan;
	if (any)
		versions = CowScanVersions(scan, &nversions);
	st->sorted_attidx = skip != NIL ? CowScanSortedColumn(scan) : -1;

	/* one reused block for every group and every rescan (see there) */
	if (st->group_cxt == NULL && nversions > 0)
		st->group_cxt = CowGroupContextCreate(MemoryContextGetParent(st->run_cxt),
											  "incetl cow aggregate group",
											  COW_GROUP_CONTEXT_BLOCK);
	/* a parallel scan's participants claim the versions one at a time */
	while (nversions > 0 && (i = CowScanNextVersion(scan)) >= 0)
	{
		CowDecodedGroup *g;
		bool	   *sel = NULL;
		uint64		nsel;

		CHECK_FOR_INTERRUPTS();
		MemoryContextSwitchTo(st->group_cxt);
		g = CowOpenGroup(rel, &versions[i], false, st->needed);
		st->ucols = NULL;
		st->skip = skip;
		st->block_may = NULL;
		if (skip != NIL && !CowAggBlocksMayMatch(st, rel, g))
		{
			cscan->groups_skipped++;
			MemoryContextSwitchTo(st->run_cxt);
			MemoryContextReset(st->group_cxt);
			continue;
		}
		cscan->groups_read++;
		rows += g->nrows;
		nsel = g->nrows;
		if (st->quals != NIL)
		{
			sel = palloc(Max(g->nrows, 1));
			nsel = CowAggSelect(st, g, sel);
		}
		if (nsel > 0)
			CowAggGroup(st, g, sel, nsel);
		MemoryContextSwitchTo(st->run_cxt);
		CowAggKeep(st);
		MemoryContextReset(st->group_cxt);
	}
	st->groups_read += cscan->groups_read;
	st->groups_skipped += cscan->groups_skipped;
	st->chunks_decoded += CowChunksDecoded + CowChunksByBlock - chunks_at_start;
	if (pgstat_should_count_relation(rel))
		rel->pgstat_info->t_counts.t_tuples_returned += rows;
	table_endscan(scan);

	ExecClearTuple(slot);
	for (k = 0; k < st->naggs; k++)
		slot->tts_values[k] = st->accums[k].spec.partial ?
			CowAggPartialResult(&st->accums[k], &st->accums[k].cell,
								&slot->tts_isnull[k]) :
			CowAggResult(&st->accums[k], &st->accums[k].cell,
						 &slot->tts_isnull[k]);
	for (k = st->naggs; k < slot->tts_tupleDescriptor->natts; k++)
	{
		slot->tts_values[k] = (Datum) 0;
		slot->tts_isnull[k] = true;
	}
	ExecStoreVirtualTuple(slot);
	MemoryContextSwitchTo(old);
}

static TupleTableSlot *
CowAggExec(CustomScanState *node)
{
	CowAggScanState *st = (CowAggScanState *) node;
	ProjectionInfo *proj = node->ss.ps.ps_ProjInfo;
	ExprContext *econtext = node->ss.ps.ps_ExprContext;
	TupleTableSlot *slot = node->ss.ss_ScanTupleSlot;

	if (st->grouped)
	{
		ResetExprContext(econtext);
		if (!st->done)
		{
			st->done = true;
			CowAggGroupedStart(st);
		}
		if (!CowAggGroupedNext(st, slot))
		{
			if (proj != NULL)
				return ExecClearTuple(proj->pi_state.resultslot);
			return ExecClearTuple(slot);
		}
		if (proj == NULL)
			return slot;
		econtext->ecxt_scantuple = slot;
		return ExecProject(proj);
	}
	if (st->done)
	{
		if (proj != NULL)
			return ExecClearTuple(proj->pi_state.resultslot);
		return ExecClearTuple(slot);
	}
	st->done = true;
	CowAggCompute(st);
	if (proj == NULL)
		return slot;
	ResetExprContext(econtext);
	econtext->ecxt_scantuple = slot;
	return ExecProject(proj);
}

static void
CowAggEnd(CustomScanState *node)
{
	CowAggScanState *st = (CowAggScanState *) node;

	/* a grouped scan stopped early; the rest lives in executor memory */
	if (st->grouped)
		CowAggGroupedEndScan(st);
}

static void
CowAggReScan(CustomScanState *node)
{
	CowAggScanState *st = (CowAggScanState *) node;

	ExecClearTuple(node->ss.ss_ScanTupleSlot);
	if (st->grouped)
	{
		CowAggGroupedEndScan(st);
		st->emit_next = -1;
	}
	st->done = false;
}

/*
 * A parallel IncetlCowAgg (under Gather and a Finalize Aggregate) shares
 * the table's parallel scan state (cow_scan.c): every participant
 * aggregates the file groups it claims into partial states.
 */
static void
CowAggInitializeDSM(CustomScanState *node, ParallelContext *pcxt,
					void *coordinate)
{
	CowAggScanState *st = (CowAggScanState *) node;

	st->pscan = CowCustomScanInitializeDSM(node, coordinate);
}

static void
CowAggInitializeWorker(CustomScanState *node, shm_toc *toc, void *coordinate)
{
	((CowAggScanState *) node)->pscan = (ParallelTableScanDesc) coordinate;
}

static void
CowAggExplain(CustomScanState *node, List *ancestors, ExplainState *es)
{
	CowAggScanState *st = (CowAggScanState *) node;
	CustomScan *cscan = (CustomScan *) node->ss.ps.plan;
	List	   *context;

	context = set_deparse_context_plan(es->deparse_cxt, &cscan->scan.plan,
									   ancestors);
	if (st->grouped)
	{
		List	   *keys = NIL;
		ListCell   *lc;

		foreach(lc, list_copy_head(cscan->custom_scan_tlist, st->nkeys))
			keys = lappend(keys,
						   deparse_expression((Node *) lfirst_node(TargetEntry, lc)->expr,
											  context, es->verbose, false));
		ExplainPropertyList("Group Key", keys, es);
	}
	if (cscan->custom_exprs != NIL)
	{
		char	   *str;

		str = deparse_expression((Node *) make_ands_explicit(cscan->custom_exprs),
								 context, es->verbose, false);
		ExplainPropertyText("Filter", str, es);
	}
	if (es->analyze)
	{
		ExplainPropertyInteger("File Groups Read", NULL, st->groups_read, es);
		ExplainPropertyInteger("File Groups Skipped", NULL, st->groups_skipped, es);
		ExplainPropertyInteger("Column Chunks Decoded", NULL, st->chunks_decoded, es);
		/* NUMERIC blocks compared or aggregated without numerics */
		if (st->units_blocks > 0)
			ExplainPropertyInteger("Numeric Blocks As Integers", NULL,
								   st->units_blocks, es);
		if (st->grouped)
		{
			int64		calls = 0;
			bool		trunc = false;
			int			k;

			/* the table was emitted before the end: memory reached hash_mem */
			ExplainPropertyInteger("Early Emissions", NULL, st->flushes, es);
			for (k = 0; k < st->nkeys; k++)
			{
				trunc |= st->keys[k].trunc;
				calls += st->keys[k].calls;
			}
			if (trunc)
				ExplainPropertyInteger("date_trunc Calls", NULL, calls, es);
		}
	}
}

#endif							/* HAVE_INT128 */

/*
 * CowAggInit defines incetl.cow_aggregate_pushdown and, where the compiler
 * has a 128-bit integer (all our exact sums need one), installs the
 * planner hook and registers the custom scan.
 */
void
CowAggInit(void)
{
	DefineCustomBoolVariable("incetl.cow_aggregate_pushdown",
							 "Computes simple aggregates over incetl_cow tables column by column in the scan.",
							 "Applies to count, sum, avg, min and max over one incetl_cow table "
							 "with simple WHERE clauses, without GROUP BY or grouped by columns "
							 "and date_trunc, and to count(DISTINCT col); when off, such queries "
							 "use an ordinary Agg over a sequential scan.",
							 &CowAggregatePushdown,
							 true,
							 PGC_USERSET,
							 0,
							 NULL, NULL, NULL);
#ifdef HAVE_INT128
	RegisterCustomScanMethods(&CowAggScanMethods);
	prev_create_upper_paths = create_upper_paths_hook;
	create_upper_paths_hook = cow_create_upper_paths;
#endif
}
