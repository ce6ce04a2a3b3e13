/*-------------------------------------------------------------------------
 *
 * cow_agg.c
 *	  Aggregate pushdown for incetl_cow: simple ungrouped aggregates are
 *	  computed column by column inside the scan instead of row by row in
 *	  an Agg node.
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
 * as in an Agg over the same row order).  Without quals, count(*) comes
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
 * whose state we produce exactly (CowAggClassifyPartial).
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
#include "catalog/pg_type.h"
#include "commands/explain.h"
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
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/numeric.h"
#include "utils/rel.h"
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
	ExprState  *value_state;
	FmgrInfo	flinfo;
	FunctionCallInfo fcinfo;
	bool		value_isnull;	/* this run: the value is NULL */
	Datum		value;
	int			nelems;			/* ARRAY: the array's elements */
	Datum	   *elems;
	bool	   *elem_nulls;
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

	/* running state (ungrouped), zeroed by each computation */
	CowAggCell	cell;
	Datum		kept;			/* by-reference value copied to run_cxt */
} CowAggAccum;

#define COW_AGG_RUN_STATE_OFFSET	offsetof(CowAggAccum, cell)

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
	int64		chunks_decoded;
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
static Size CowAggEstimateDSM(CustomScanState *node, ParallelContext *pcxt);
static void CowAggInitializeDSM(CustomScanState *node, ParallelContext *pcxt,
								void *coordinate);
static void CowAggReInitializeDSM(CustomScanState *node, ParallelContext *pcxt,
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
	.EstimateDSMCustomScan = CowAggEstimateDSM,
	.InitializeDSMCustomScan = CowAggInitializeDSM,
	.ReInitializeDSMCustomScan = CowAggReInitializeDSM,
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
 * CowAggMakePath makes the IncetlCowAgg path of output_rel when the query
 * is one we compute entirely (see the file header), or returns NULL: the
 * grouping relation's, or with partial, a parallel-aware one producing the
 * partial aggregates of output_rel, the partially grouped relation
 * (CowAggAddParallelPath).
 */
static CustomPath *
CowAggMakePath(PlannerInfo *root, RelOptInfo *input_rel, RelOptInfo *output_rel,
			   bool partial)
{
	Query	   *parse = root->parse;
	RangeTblEntry *rte;
	Relation	rel;
	CowAggTargetContext ctx;
	List	   *quals = NIL;
	ListCell   *lc;
	CustomPath *cpath;
	double		spc_seq_page_cost;
	Cost		cost;

	if (parse->commandType != CMD_SELECT || !parse->hasAggs ||
		parse->groupClause != NIL || parse->groupingSets != NIL ||
		parse->havingQual != NULL || parse->hasWindowFuncs ||
		parse->hasTargetSRFs || parse->rowMarks != NIL)
		return NULL;
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
		quals = lappend(quals, ri->clause);
	}

	/* the planner holds a lock on the table */
	rel = table_open(rte->relid, NoLock);
	memset(&ctx, 0, sizeof(ctx));
	ctx.relid = input_rel->relid;
	ctx.desc = RelationGetDescr(rel);
	ctx.from_headers = (quals == NIL);
	ctx.ok = CowIsCowRelation(rel);
	if (ctx.ok)
		(void) CowAggTargetWalker((Node *) output_rel->reltarget->exprs, &ctx);
	table_close(rel, NoLock);
	if (!ctx.ok || ctx.aggs == NIL)
		return NULL;

	/*
	 * Cost: the pages of the table, plus a tenth of an operator per row and
	 * column we go through (a plain loop over decoded values, against the
	 * executor's per-row tuple and expression overhead); when headers
	 * answer everything, about one page per file group.
	 */
	get_tablespace_page_costs(input_rel->reltablespace, NULL, &spc_seq_page_cost);
	if (ctx.from_headers)
		cost = spc_seq_page_cost *
			Min(input_rel->pages,
				input_rel->tuples / COW_DEFAULT_FILE_GROUP_ROWS + 1);
	else
		cost = spc_seq_page_cost * input_rel->pages +
			input_rel->tuples * cpu_operator_cost * 0.1 *
			(list_length(ctx.aggs) + list_length(quals));
	cost += output_rel->reltarget->cost.startup +
		output_rel->reltarget->cost.per_tuple;

	cpath = makeNode(CustomPath);
	cpath->path.pathtype = T_CustomScan;
	cpath->path.parent = output_rel;
	cpath->path.pathtarget = output_rel->reltarget;
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
	cpath->path.rows = 1;
	cpath->path.startup_cost = cost;
	cpath->path.total_cost = cost;
	cpath->path.pathkeys = NIL;
	cpath->flags = 0;
	cpath->custom_paths = NIL;
	cpath->custom_private = list_make3(ctx.aggs, quals,
									   makeInteger(input_rel->relid));
	cpath->methods = &CowAggPathMethods;
	return cpath;
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
	}
}

/*
 * CowAggPlanPath makes the CustomScan: scan tuple = the aggregates, then
 * the columns the quals use; custom_exprs = the quals.
 */
static Plan *
CowAggPlanPath(PlannerInfo *root, RelOptInfo *rel, CustomPath *best_path,
			   List *tlist, List *clauses, List *custom_plans)
{
	CustomScan *cscan = makeNode(CustomScan);
	List	   *aggs = linitial(best_path->custom_private);
	List	   *quals = lsecond(best_path->custom_private);
	Index		relid = intVal(lthird(best_path->custom_private));
	List	   *scan_tlist = NIL;
	ListCell   *lc;

	foreach(lc, aggs)
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
	cscan->custom_private = list_make1(makeInteger(list_length(aggs)));
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
 * CowAggNumericAddUnits adds a value read by CowNumericUnits to the
 * integer sum, moving that to a common fraction first.
 */
static inline void
CowAggNumericAddUnits(CowAggCell *c, int64 units, int frac, int dscale,
					  MemoryContext cxt)
{
	int128		v = units;
	int128		sum;

	if (frac > c->frac)
	{
		int128		rescaled;

		if (__builtin_mul_overflow(c->sum, (int128) CowPow10000[frac - c->frac],
								   &rescaled))
		{
			CowAggNumericFlush(c, cxt);
			rescaled = 0;
		}
		c->sum = rescaled;
		c->frac = frac;
	}
	else if (frac < c->frac)
		v *= CowPow10000[c->frac - frac];	/* < 10^16 * 10^16 < 2^127 */
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
		c->aux++;
	c->count++;
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
 * CowAggNumericFast adds one selected non-NULL numeric value in place when
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
	CowAggSendVar(&buf, CowInt128ToNumeric(c->sum, 0));
	return PointerGetDatum(pq_endtypsend(&buf));
}

/* ---------- execution ---------- */

static Node *
CowAggCreateState(CustomScan *cscan)
{
	CowAggScanState *st = (CowAggScanState *) newNode(sizeof(CowAggScanState),
													  T_CustomScanState);

	st->css.methods = &CowAggExecMethods;
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
	st->accums = palloc0(sizeof(CowAggAccum) * Max(st->naggs, 1));
	foreach(lc, cscan->custom_scan_tlist)
	{
		TargetEntry *tle = lfirst_node(TargetEntry, lc);
		CowAggAccum *a;

		if (i >= st->naggs)
			break;
		a = &st->accums[i++];
		if (!IsA(tle->expr, Aggref) ||
			!CowAggClassify((Aggref *) tle->expr, cscan->scan.scanrelid, desc,
							&a->spec))
			elog(ERROR, "unexpected aggregate in " COW_AGG_NAME " plan");
		a->attidx = a->spec.attnum - 1;
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

	foreach(lc, cscan->custom_exprs)
	{
		CowAggQual *q = palloc(sizeof(CowAggQual));

		if (!CowAggParseQual(lfirst(lc), q))
			elog(ERROR, "unexpected qual in " COW_AGG_NAME " plan");
		q->attidx = CowAggQualColumn(cscan, q->var) - 1;
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
 * CowAggSelect evaluates the quals over one file group: sel[row] is true
 * for rows that satisfy all of them.  Returns how many do.
 */
static uint64
CowAggSelect(CowAggScanState *st, CowDecodedGroup *g, bool *sel)
{
	uint64		nrows = g->nrows;
	uint64		i,
				n = 0;
	ListCell   *lc;

	memset(sel, true, nrows);
	foreach(lc, st->quals)
	{
		CowAggQual *q = lfirst(lc);
		Datum	   *values;
		bool	   *isnull;

		if (!CowGroupColumn(g, q->attidx))
			elog(ERROR, "column %d not decoded for " COW_AGG_NAME, q->attidx + 1);
		values = g->values[q->attidx];
		isnull = g->isnull[q->attidx];
		switch (q->kind)
		{
			case COW_QUAL_IS_NULL:
				for (i = 0; i < nrows; i++)
					sel[i] &= isnull[i];
				break;
			case COW_QUAL_NOT_NULL:
				for (i = 0; i < nrows; i++)
					sel[i] &= !isnull[i];
				break;
			case COW_QUAL_TRUE:
				for (i = 0; i < nrows; i++)
					sel[i] = sel[i] && !isnull[i] && DatumGetBool(values[i]);
				break;
			case COW_QUAL_FALSE:
				for (i = 0; i < nrows; i++)
					sel[i] = sel[i] && !isnull[i] && !DatumGetBool(values[i]);
				break;
			case COW_QUAL_OP:
				for (i = 0; i < nrows; i++)
				{
					if (sel[i])
						sel[i] = !isnull[i] && CowAggCallOp(q, values[i], q->value);
				}
				break;
			case COW_QUAL_ARRAY:
				for (i = 0; i < nrows; i++)
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
	}
	for (i = 0; i < nrows; i++)
		n += sel[i];
	return n;
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
	if (!CowGroupColumn(g, a->attidx))
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
				CowAggMinMaxGroup(a, g, sel);
				continue;
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

		if (!CowGroupColumn(g, a->attidx))
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
	int64		chunks_at_start = CowChunksDecoded;
	int64		rows = 0;
	bool		any;
	int			i,
				k;
	ListCell   *lc;

	MemoryContextReset(st->run_cxt);
	old = MemoryContextSwitchTo(st->run_cxt);
	for (k = 0; k < st->naggs; k++)
		memset((char *) &st->accums[k] + COW_AGG_RUN_STATE_OFFSET, 0,
			   sizeof(CowAggAccum) - COW_AGG_RUN_STATE_OFFSET);

	any = CowAggEvalValues(st);
	if (any)
	{
		/* btree comparisons also skip whole groups by their min/max */
		foreach(lc, st->quals)
		{
			CowAggQual *q = lfirst(lc);
			Oid			opno = q->var_on_left ? q->opno : get_commutator(q->opno);
			CowSkipQual *sq;

			if (q->kind != COW_QUAL_OP || !OidIsValid(opno))
				continue;
			sq = CowMakeSkipQual(rel, q->attidx + 1, opno, q->collation, q->value);
			if (sq != NULL)
				skip = lappend(skip, sq);
		}
	}

	if (st->pscan != NULL)
		scan = table_beginscan_parallel(rel, st->pscan);
	else
		scan = table_beginscan(rel, estate->es_snapshot, 0, NULL);
	cscan = (CowScanDesc) scan;
	if (any)
		versions = CowScanVersions(scan, &nversions);

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
		if (skip != NIL && !CowGroupMayMatch(rel, g->header, skip))
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
	st->chunks_decoded += CowChunksDecoded - chunks_at_start;
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
	/* everything lives in the executor's memory */
}

static void
CowAggReScan(CustomScanState *node)
{
	CowAggScanState *st = (CowAggScanState *) node;

	ExecClearTuple(node->ss.ss_ScanTupleSlot);
	st->done = false;
}

/*
 * A parallel IncetlCowAgg (under Gather and a Finalize Aggregate) shares
 * the table's parallel scan state (cow_scan.c): every participant
 * aggregates the file groups it claims into partial states.
 */
static Size
CowAggEstimateDSM(CustomScanState *node, ParallelContext *pcxt)
{
	return table_parallelscan_estimate(node->ss.ss_currentRelation,
									   node->ss.ps.state->es_snapshot);
}

static void
CowAggInitializeDSM(CustomScanState *node, ParallelContext *pcxt,
					void *coordinate)
{
	CowAggScanState *st = (CowAggScanState *) node;

	st->pscan = (ParallelTableScanDesc) coordinate;
	table_parallelscan_initialize(node->ss.ss_currentRelation, st->pscan,
								  node->ss.ps.state->es_snapshot);
}

static void
CowAggReInitializeDSM(CustomScanState *node, ParallelContext *pcxt,
					  void *coordinate)
{
	table_parallelscan_reinitialize(node->ss.ss_currentRelation,
									(ParallelTableScanDesc) coordinate);
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

	if (cscan->custom_exprs != NIL)
	{
		List	   *context;
		char	   *str;

		context = set_deparse_context_plan(es->deparse_cxt, &cscan->scan.plan,
										   ancestors);
		str = deparse_expression((Node *) make_ands_explicit(cscan->custom_exprs),
								 context, es->verbose, false);
		ExplainPropertyText("Filter", str, es);
	}
	if (es->analyze)
	{
		ExplainPropertyInteger("File Groups Read", NULL, st->groups_read, es);
		ExplainPropertyInteger("File Groups Skipped", NULL, st->groups_skipped, es);
		ExplainPropertyInteger("Column Chunks Decoded", NULL, st->chunks_decoded, es);
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
							 "Applies to count, sum, avg, min and max without GROUP BY over one "
							 "incetl_cow table with simple WHERE clauses; when off, such queries "
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
