/*-------------------------------------------------------------------------
 *
 * cow_topn.c
 *	  Top-N scan for incetl_cow: ORDER BY columns ... LIMIT n over one
 *	  table, answered by reading only the ORDER BY columns of each file
 *	  group and decoding the other columns of the rows kept.
 *
 * A create_upper_paths_hook (UPPERREL_ORDERED) offers, for a query such as
 *
 *		SELECT id, amount FROM t WHERE status = 'paid'
 *		ORDER BY amount DESC, id LIMIT 20 OFFSET 5
 *
 * over one incetl_cow table, a CustomPath "IncetlCowTopN" producing the
 * query's ordering, under the planner's own Limit.  It is offered when
 * every ORDER BY item is a plain column of the table (any type with a
 * btree ordering: ASC/DESC/USING, NULLS FIRST/LAST, any collation), LIMIT
 * and OFFSET are constants (as in a custom plan of a prepared statement;
 * a generic plan's parameter falls back), LIMIT + OFFSET rows fit in
 * work_mem as a bounded sort's heap would, and the query has no GROUP BY,
 * aggregate, window function, DISTINCT, set-returning function in its
 * target, FOR UPDATE/SHARE, WITH TIES, row-level security quals,
 * pseudoconstant or volatile WHERE clause, and reads no system column or
 * whole row.  WHERE clauses of any other kind stay in the node's Filter,
 * evaluated only on the rows that would enter the heap.
 *
 * Execution reads the file group versions current for the query's
 * snapshot exactly as a sequential scan does (CowScanVersions).  It keeps
 * the best LIMIT + OFFSET rows in a binary heap whose top is the worst
 * kept row, ordered by the ORDER BY columns' SortSupport.  The file
 * groups are read best first: by the best value their stored min/max of
 * the first ORDER BY column (and its NULLs) allow, read from their
 * headers (CowTopNOrder).  Once the heap is full, a group whose best value
 * cannot beat the worst kept row is skipped, as is one whose min/max rule
 * out a "column op constant" clause of the Filter; in the others, the first ORDER BY column is
 * decoded a block (COW_BLOCK_ROWS rows) at a time -- a block whose min/max
 * cannot beat the worst kept row is skipped undecoded -- and compared with
 * the worst kept row, the further ORDER BY columns and the Filter's columns
 * decoded (by block) only for rows that tie on it or beat it.  A row equal
 * to the worst kept one on every ORDER BY column is not taken: the order
 * of such ties is unspecified, as in a sort.  At the end of each file
 * group, the rows of it still kept get their other output columns
 * decoded, one value each (CowGroupValue), and copied out of the group.
 * The rows are then sorted and returned, forward or backward (a scroll
 * cursor needs no Material above); the Limit above applies OFFSET.
 *
 * In parallel: where the table's scan has partial paths, the planner is
 * also offered a Gather Merge over a parallel-aware IncetlCowTopN whose
 * participants claim file groups from the table's shared parallel scan
 * state (cow_scan.c), each returning the best LIMIT + OFFSET rows of the
 * groups it read, in order.
 *
 * incetl.cow_aggregate_pushdown = off (the switch of all our custom plans,
 * cow_agg.c) turns the paths off.
 *
 * Copyright (c) 2026, incetl authors
 *
 * IDENTIFICATION
 *	  src/cow/cow_topn.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/sysattr.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/pg_statistic.h"
#include "catalog/pg_type.h"
#include "commands/explain.h"
#include "common/int.h"
#include "executor/executor.h"
#include "miscadmin.h"
#include "nodes/extensible.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/clauses.h"
#include "optimizer/cost.h"
#include "optimizer/optimizer.h"
#include "optimizer/pathnode.h"
#include "optimizer/planner.h"
#include "optimizer/restrictinfo.h"
#include "optimizer/tlist.h"
#include "parser/parsetree.h"
#include "pgstat.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/ruleutils.h"
#include "utils/sortsupport.h"
#include "utils/spccache.h"
#include "utils/syscache.h"
#include "utils/typcache.h"

#include "cow/am.h"

#define COW_TOPN_NAME	"IncetlCowTopN"

/* One ORDER BY column of the plan node. */
typedef struct CowTopNKey
{
	int			attidx;			/* 0-based column */
	SortSupportData ssup;
	bool		minmax;			/* the chunks' min/max follow this ordering */
} CowTopNKey;

/*
 * A row kept.  Until its file group ends, values[] are NULL and the keys
 * point into the group's decoded columns; then every needed column is
 * copied into run memory (values, isnull: [natts]) and the keys point
 * there.
 */
typedef struct CowTopNEntry
{
	Datum	   *values;			/* [natts] or NULL */
	bool	   *isnull;
	uint64		row;			/* its row in the group being read */
	Datum		keys[FLEXIBLE_ARRAY_MEMBER];	/* [nkeys], then bool nulls */
} CowTopNEntry;

#define COW_TOPN_KEYNULLS(st, e)	((bool *) &(e)->keys[(st)->nkeys])

typedef struct CowTopNScanState
{
	CustomScanState css;
	int			nkeys;
	CowTopNKey *keys;
	int64		bound;			/* LIMIT + OFFSET */
	Bitmapset  *needed;			/* 0-based columns the plan reads */
	int		   *out_cols;		/* needed columns, ascending */
	int			nout;
	int		   *qual_cols;		/* columns the Filter reads */
	int			nqual;
	List	   *skip;			/* of CowSkipQual: the Filter's "column op
								 * constant" clauses, for min/max */
	MemoryContext run_cxt;		/* one run: the rows kept */
	MemoryContext group_cxt;	/* one file group: reset by each */
	ParallelTableScanDesc pscan;	/* parallel: the shared scan, or NULL */
	CowTopNEntry **heap;		/* [bound]: heap[0] is the worst kept */
	int64		nheap;
	CowTopNEntry *spare;		/* an entry evicted, to reuse */
	bool		done;			/* the rows are sorted in heap[] */
	int64		pos;			/* the row last returned, -1 before the
								 * first */
	/* for EXPLAIN ANALYZE: totals over all runs */
	int64		groups_read;
	int64		groups_skipped;
	int64		rows_read;
	int64		rows_taken;		/* rows that entered the heap */
	int64		blocks_skipped; /* by their min/max (CowTopNBlockMayBeat) */
} CowTopNScanState;

static create_upper_paths_hook_type prev_create_upper_paths = NULL;

static void cow_topn_upper_paths(PlannerInfo *root, UpperRelationKind stage,
								 RelOptInfo *input_rel, RelOptInfo *output_rel,
								 void *extra);
static Plan *CowTopNPlanPath(PlannerInfo *root, RelOptInfo *rel,
							 CustomPath *best_path, List *tlist, List *clauses,
							 List *custom_plans);
static Node *CowTopNCreateState(CustomScan *cscan);
static void CowTopNBegin(CustomScanState *node, EState *estate, int eflags);
static TupleTableSlot *CowTopNExec(CustomScanState *node);
static void CowTopNEnd(CustomScanState *node);
static void CowTopNReScan(CustomScanState *node);
static void CowTopNExplain(CustomScanState *node, List *ancestors,
						   ExplainState *es);
static void CowTopNInitializeDSM(CustomScanState *node, ParallelContext *pcxt,
								 void *coordinate);
static void CowTopNInitializeWorker(CustomScanState *node, shm_toc *toc,
									void *coordinate);

static const CustomPathMethods CowTopNPathMethods = {
	.CustomName = COW_TOPN_NAME,
	.PlanCustomPath = CowTopNPlanPath,
};

static const CustomScanMethods CowTopNScanMethods = {
	.CustomName = COW_TOPN_NAME,
	.CreateCustomScanState = CowTopNCreateState,
};

static const CustomExecMethods CowTopNExecMethods = {
	.CustomName = COW_TOPN_NAME,
	.BeginCustomScan = CowTopNBegin,
	.ExecCustomScan = CowTopNExec,
	.EndCustomScan = CowTopNEnd,
	.ReScanCustomScan = CowTopNReScan,
	.EstimateDSMCustomScan = CowCustomScanEstimateDSM,
	.InitializeDSMCustomScan = CowTopNInitializeDSM,
	.ReInitializeDSMCustomScan = CowCustomScanReInitializeDSM,
	.InitializeWorkerCustomScan = CowTopNInitializeWorker,
	.ExplainCustomScan = CowTopNExplain,
};

/* ---------- planning ---------- */

/*
 * What the plan node needs to know of the query, kept in the path's and
 * then the plan's custom_private: the ORDER BY columns' attribute
 * numbers, sort operators, collations and NULLS FIRST flags, and the
 * bound (LIMIT + OFFSET).
 */
typedef struct CowTopNSpec
{
	List	   *attnos;			/* of Integer */
	List	   *sortops;		/* OIDs */
	List	   *collations;		/* OIDs */
	List	   *nulls_first;	/* of Integer */
	int64		bound;
} CowTopNSpec;

/*
 * CowTopNConst: the value of a LIMIT or OFFSET clause the planner folded
 * to a constant; false otherwise (a parameter of a generic plan, an
 * expression).  A NULL constant is LIMIT ALL or OFFSET 0.
 */
static bool
CowTopNConst(Node *node, int64 *value, bool *isnull)
{
	Const	   *c;

	if (node == NULL)
	{
		*isnull = true;
		return true;
	}
	if (!IsA(node, Const))
		return false;
	c = (Const *) node;
	if (c->consttype != INT8OID)
		return false;
	*isnull = c->constisnull;
	*value = c->constisnull ? 0 : DatumGetInt64(c->constvalue);
	return true;
}

/*
 * CowTopNQuery checks the query shape (see the file header) and fills
 * spec, for the base relation input_rel; false when the path is not
 * offered.
 */
static bool
CowTopNQuery(PlannerInfo *root, RelOptInfo *input_rel, CowTopNSpec *spec)
{
	Query	   *parse = root->parse;
	RangeTblEntry *rte;
	int64		count = 0,
				offset = 0;
	bool		count_null,
				offset_null;
	ListCell   *lc;
	Bitmapset  *attrs = NULL;

	memset(spec, 0, sizeof(CowTopNSpec));
	if (parse->commandType != CMD_SELECT || parse->hasAggs ||
		parse->groupClause != NIL || parse->groupingSets != NIL ||
		parse->havingQual != NULL || parse->hasWindowFuncs ||
		parse->hasTargetSRFs || parse->rowMarks != NIL ||
		parse->distinctClause != NIL || parse->setOperations != NULL ||
		parse->sortClause == NIL || root->sort_pathkeys == NIL ||
		parse->limitOption != LIMIT_OPTION_COUNT)
		return false;
	if (!CowTopNConst(parse->limitCount, &count, &count_null) ||
		!CowTopNConst(parse->limitOffset, &offset, &offset_null) ||
		count_null || count < 0 || (!offset_null && offset < 0))
		return false;
	if (offset_null)
		offset = 0;
	if (pg_add_s64_overflow(count, offset, &spec->bound))
		return false;

	if (input_rel->reloptkind != RELOPT_BASEREL ||
		input_rel->rtekind != RTE_RELATION || IS_DUMMY_REL(input_rel))
		return false;
	rte = root->simple_rte_array[input_rel->relid];
	if (rte->rtekind != RTE_RELATION || rte->inh ||
		rte->relkind != RELKIND_RELATION || rte->tablesample != NULL ||
		rte->securityQuals != NIL)
		return false;

	/* the Filter: any non-volatile clause, evaluated per candidate row */
	foreach(lc, input_rel->baserestrictinfo)
	{
		RestrictInfo *ri = lfirst_node(RestrictInfo, lc);

		if (ri->pseudoconstant || ri->security_level > 0 ||
			contain_volatile_functions((Node *) ri->clause))
			return false;
		pull_varattnos((Node *) ri->clause, input_rel->relid, &attrs);
	}
	/* no system column or whole row in the output or the Filter */
	pull_varattnos((Node *) input_rel->reltarget->exprs, input_rel->relid,
				   &attrs);
	if (bms_next_member(attrs, -1) >= 0 &&
		bms_next_member(attrs, -1) <= -FirstLowInvalidHeapAttributeNumber)
		return false;

	foreach(lc, parse->sortClause)
	{
		SortGroupClause *sgc = lfirst_node(SortGroupClause, lc);
		Node	   *expr = (Node *) get_sortgroupclause_expr(sgc, parse->targetList);
		Var		   *var = (Var *) expr;

		while (var != NULL && IsA(var, RelabelType))
			var = (Var *) ((RelabelType *) var)->arg;
		if (var == NULL || !IsA(var, Var) ||
			var->varno != input_rel->relid || var->varlevelsup != 0 ||
			var->varattno <= 0 || !OidIsValid(sgc->sortop))
			return false;
		if (list_length(spec->attnos) >= INDEX_MAX_KEYS)
			return false;
		spec->attnos = lappend(spec->attnos, makeInteger(var->varattno));
		spec->sortops = lappend_oid(spec->sortops, sgc->sortop);
		spec->collations = lappend_oid(spec->collations, exprCollation(expr));
		spec->nulls_first = lappend(spec->nulls_first,
									makeInteger(sgc->nulls_first ? 1 : 0));
	}
	return true;
}

/*
 * CowTopNMinMaxOrders: do the chunks' min/max of column att follow sort
 * operator sortop under collation?  They are those of the type's default
 * btree ordering under the column's collation (cow_writer.c): usable for
 * sort operators of that ordering, ascending or descending.
 */
static bool
CowTopNMinMaxOrders(Form_pg_attribute att, Oid sortop, Oid collation)
{
	TypeCacheEntry *tc = lookup_type_cache(att->atttypid,
										   TYPECACHE_LT_OPR | TYPECACHE_GT_OPR);

	return (sortop == tc->lt_opr || sortop == tc->gt_opr) &&
		(collation == att->attcollation || !OidIsValid(collation));
}

/*
 * CowTopNReadFraction: the part of the table the scan is expected to read.
 * File groups are read best first by the first ORDER BY column's min/max,
 * and one that cannot beat the worst kept row is skipped: when the column
 * follows the rows' order (a record key, a load time: ANALYZE's
 * correlation near 1 or -1), the groups holding the first bound rows are
 * all that is read, and of them, the blocks holding those rows (blocks are
 * skipped by their min/max alike: CowTopNBlockMayBeat), about one more
 * block than they fill; when it does
 * not (correlation near 0), every group's range overlaps the best rows'
 * and all are read.  Interpolated by the correlation's square, as
 * btcostestimate does for an index scan; 1 without statistics, or when the
 * chunks' min/max do not follow the sort operator (CowTopNMinMaxOrders).
 */
static double
CowTopNReadFraction(PlannerInfo *root, RelOptInfo *input_rel, Relation rel,
					CowTopNSpec *spec, double kept)
{
	RangeTblEntry *rte = planner_rt_fetch(input_rel->relid, root);
	AttrNumber	attno = intVal(linitial(spec->attnos));
	Oid			sortop = linitial_oid(spec->sortops);
	Oid			collation = linitial_oid(spec->collations);
	Form_pg_attribute att = TupleDescAttr(RelationGetDescr(rel), attno - 1);
	HeapTuple	tup;
	AttStatsSlot sslot;
	double		corr = 0.0,
				rows,
				raw_bytes,
				tuples = Max(input_rel->tuples, 1.0),
				group;
	int			nversions;

	if (!CowTopNMinMaxOrders(att, sortop, collation))
		return 1.0;
	tup = SearchSysCache3(STATRELATTINH, ObjectIdGetDatum(rte->relid),
						  Int16GetDatum(attno), BoolGetDatum(rte->inh));
	if (!HeapTupleIsValid(tup))
		return 1.0;
	if (get_attstatsslot(&sslot, tup, STATISTIC_KIND_CORRELATION, InvalidOid,
						 ATTSTATSSLOT_NUMBERS))
	{
		if (sslot.nnumbers == 1)
			corr = sslot.numbers[0];
		free_attstatsslot(&sslot);
	}
	ReleaseSysCache(tup);

	CowPlanVersionTotals(rel, &rows, &raw_bytes, &nversions);
	group = nversions > 0 ? rows / nversions : tuples;
	/* of a group, the blocks that cannot beat the kept rows are skipped */
	return 1.0 - corr * corr *
		(1.0 - Min((kept + Min(group, (double) COW_BLOCK_ROWS)) / tuples, 1.0));
}

/*
 * CowTopNCost: the pages of the table, a tenth of an operator per row for
 * decoding the first ORDER BY column and one comparison per row with the
 * worst row kept, both for the part of the table read
 * (CowTopNReadFraction), plus heap insertions for the bound's rows and the
 * decoding of their other columns.
 */
static Cost
CowTopNCost(PlannerInfo *root, RelOptInfo *input_rel, Relation rel,
			CowTopNSpec *spec, int noutcols)
{
	double		spc_seq_page_cost;
	double		tuples = Max(input_rel->tuples, 1.0);
	double		kept = Min((double) spec->bound, tuples);

	get_tablespace_page_costs(input_rel->reltablespace, NULL, &spc_seq_page_cost);
	return (spc_seq_page_cost * input_rel->pages +
			tuples * cpu_operator_cost * 1.1) *
		CowTopNReadFraction(root, input_rel, rel, spec, kept) +
		kept * (2.0 * cpu_operator_cost * log2(Max(kept, 2.0)) +
				cpu_tuple_cost * noutcols);
}

static CustomPath *
CowTopNNewPath(PlannerInfo *root, RelOptInfo *input_rel,
			   RelOptInfo *output_rel, Relation rel, CowTopNSpec *spec,
			   bool partial)
{
	CustomPath *cpath = makeNode(CustomPath);
	/* the ordered relation has no target of its own: the query's */
	PathTarget *target = root->upper_targets[UPPERREL_ORDERED];
	double		rows = Min((double) spec->bound, Max(input_rel->rows, 1.0));
	Cost		cost;

	cost = CowTopNCost(root, input_rel, rel, spec,
					   list_length(input_rel->reltarget->exprs));
	cpath->path.pathtype = T_CustomScan;
	cpath->path.parent = output_rel;
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
	cost += target->cost.startup + target->cost.per_tuple * rows;
	cpath->path.rows = rows;
	cpath->path.startup_cost = cost;
	cpath->path.total_cost = cost;
	cpath->path.pathkeys = root->sort_pathkeys;
	/* the rows are in an array: backward is as easy as forward */
	cpath->flags = CUSTOMPATH_SUPPORT_BACKWARD_SCAN;
	cpath->custom_paths = NIL;
	cpath->custom_private = list_make5(spec->attnos, spec->sortops,
									   spec->collations, spec->nulls_first,
									   list_make2(makeInteger(input_rel->relid),
												  makeString(psprintf(INT64_FORMAT,
																	  spec->bound))));
	cpath->methods = &CowTopNPathMethods;
	return cpath;
}

/*
 * CowTopNAddPaths offers the top-N scan (and its parallel form under a
 * Gather Merge) for the ordered relation of a query over one incetl_cow
 * table, when it qualifies (CowTopNQuery).
 */
static void
CowTopNAddPaths(PlannerInfo *root, RelOptInfo *input_rel, RelOptInfo *output_rel)
{
	CowTopNSpec spec;
	RangeTblEntry *rte;
	Relation	rel;
	bool		ok;
	double		width;
	CustomPath *cpath;

	if (!CowTopNQuery(root, input_rel, &spec))
		return;
	rte = root->simple_rte_array[input_rel->relid];
	/* the planner holds a lock on the table */
	rel = table_open(rte->relid, NoLock);
	ok = CowIsCowRelation(rel);

	/* the rows kept must fit in work_mem, as a bounded sort's heap would */
	width = input_rel->reltarget->width + 64.0;
	if (!ok || (double) spec.bound * width * 2.0 > (double) work_mem * 1024.0)
	{
		table_close(rel, NoLock);
		return;
	}

	cpath = CowTopNNewPath(root, input_rel, output_rel, rel, &spec, false);
	add_path(output_rel, (Path *) cpath);

	if (input_rel->consider_parallel && output_rel->consider_parallel &&
		input_rel->partial_pathlist != NIL &&
		((Path *) linitial(input_rel->partial_pathlist))->parallel_workers > 0)
	{
		Path	   *gm;
		double		rows;

		cpath = CowTopNNewPath(root, input_rel, output_rel, rel, &spec, true);
		rows = cpath->path.rows * cpath->path.parallel_workers;
		gm = (Path *) create_gather_merge_path(root, output_rel, (Path *) cpath,
											   cpath->path.pathtarget,
											   root->sort_pathkeys, NULL, &rows);
		add_path(output_rel, gm);
	}
	table_close(rel, NoLock);
}

static void
cow_topn_upper_paths(PlannerInfo *root, UpperRelationKind stage,
					 RelOptInfo *input_rel, RelOptInfo *output_rel,
					 void *extra)
{
	if (prev_create_upper_paths)
		prev_create_upper_paths(root, stage, input_rel, output_rel, extra);
	if (stage == UPPERREL_ORDERED && CowAggregatePushdown)
		CowTopNAddPaths(root, input_rel, output_rel);
}

/*
 * CowTopNPlanPath makes the CustomScan: a scan of the table (its tuple the
 * table's row), the quals in its Filter, the ORDER BY columns in
 * custom_exprs (for EXPLAIN), custom_private as the path's.
 */
static Plan *
CowTopNPlanPath(PlannerInfo *root, RelOptInfo *rel, CustomPath *best_path,
				List *tlist, List *clauses, List *custom_plans)
{
	CustomScan *cscan = makeNode(CustomScan);
	List	   *info = list_nth(best_path->custom_private, 4);
	Index		relid = intVal(linitial(info));
	RelOptInfo *base = root->simple_rel_array[relid];
	List	   *quals;
	List	   *keys = NIL;
	ListCell   *lc;

	quals = extract_actual_clauses(base->baserestrictinfo, false);
	foreach(lc, linitial(best_path->custom_private))
	{
		AttrNumber	attno = intVal(lfirst(lc));
		Oid			typid;
		int32		typmod;
		Oid			collid;

		get_atttypetypmodcoll(planner_rt_fetch(relid, root)->relid, attno,
							  &typid, &typmod, &collid);
		keys = lappend(keys, makeVar(relid, attno, typid, typmod, collid, 0));
	}

	cscan->scan.plan.targetlist = tlist;
	cscan->scan.plan.qual = quals;
	cscan->scan.scanrelid = relid;
	cscan->flags = best_path->flags;
	cscan->custom_plans = NIL;
	cscan->custom_exprs = keys;
	cscan->custom_private = best_path->custom_private;
	cscan->custom_scan_tlist = NIL;
	cscan->methods = &CowTopNScanMethods;
	return &cscan->scan.plan;
}

/* ---------- execution ---------- */

static Node *
CowTopNCreateState(CustomScan *cscan)
{
	CowTopNScanState *st = (CowTopNScanState *) newNode(sizeof(CowTopNScanState),
														T_CustomScanState);

	st->css.methods = &CowTopNExecMethods;
	return (Node *) st;
}

static void
CowTopNBegin(CustomScanState *node, EState *estate, int eflags)
{
	CowTopNScanState *st = (CowTopNScanState *) node;
	CustomScan *cscan = (CustomScan *) node->ss.ps.plan;
	Relation	rel = node->ss.ss_currentRelation;
	TupleDesc	desc = RelationGetDescr(rel);
	List	   *attnos = linitial(cscan->custom_private);
	List	   *sortops = lsecond(cscan->custom_private);
	List	   *collations = lthird(cscan->custom_private);
	List	   *nulls_first = lfourth(cscan->custom_private);
	List	   *info = list_nth(cscan->custom_private, 4);
	Bitmapset  *attrs = NULL;
	Bitmapset  *qattrs = NULL;
	int			k,
				i;

	if (!CowIsCowRelation(rel))
		elog(ERROR, COW_TOPN_NAME " scan of a relation that is not incetl_cow");
	st->bound = pg_strtoint64(strVal(lsecond(info)));
	st->nkeys = list_length(attnos);
	st->keys = palloc0(sizeof(CowTopNKey) * st->nkeys);
	for (k = 0; k < st->nkeys; k++)
	{
		CowTopNKey *key = &st->keys[k];
		Oid			sortop = list_nth_oid(sortops, k);
		Form_pg_attribute att;

		key->attidx = intVal(list_nth(attnos, k)) - 1;
		if (key->attidx < 0 || key->attidx >= desc->natts ||
			TupleDescAttr(desc, key->attidx)->attisdropped)
			elog(ERROR, "unexpected sort column in " COW_TOPN_NAME " plan");
		att = TupleDescAttr(desc, key->attidx);
		key->ssup.ssup_cxt = CurrentMemoryContext;
		key->ssup.ssup_collation = list_nth_oid(collations, k);
		key->ssup.ssup_nulls_first = intVal(list_nth(nulls_first, k)) != 0;
		key->ssup.abbreviate = false;
		PrepareSortSupportFromOrderingOp(sortop, &key->ssup);
		key->minmax = CowTopNMinMaxOrders(att, sortop,
										  key->ssup.ssup_collation);
		st->needed = bms_add_member(st->needed, key->attidx);
	}

	/* every column the output and the Filter read */
	pull_varattnos((Node *) cscan->scan.plan.targetlist, cscan->scan.scanrelid,
				   &attrs);
	pull_varattnos((Node *) cscan->scan.plan.qual, cscan->scan.scanrelid,
				   &qattrs);
	attrs = bms_union(attrs, qattrs);
	i = -1;
	while ((i = bms_next_member(attrs, i)) >= 0)
	{
		AttrNumber	attno = i + FirstLowInvalidHeapAttributeNumber;

		if (attno <= 0 || attno > desc->natts)
			elog(ERROR, "unexpected column reference in " COW_TOPN_NAME " plan");
		st->needed = bms_add_member(st->needed, attno - 1);
		if (bms_is_member(i, qattrs))
		{
			if (st->qual_cols == NULL)
				st->qual_cols = palloc(sizeof(int) * desc->natts);
			st->qual_cols[st->nqual++] = attno - 1;
		}
	}
	st->out_cols = palloc(sizeof(int) * Max(bms_num_members(st->needed), 1));
	i = -1;
	while ((i = bms_next_member(st->needed, i)) >= 0)
		st->out_cols[st->nout++] = i;

	st->skip = CowExtractSkipQuals(cscan->scan.plan.qual, cscan->scan.scanrelid,
								rel);
	st->run_cxt = AllocSetContextCreate(CurrentMemoryContext,
										"incetl cow top-n",
										ALLOCSET_DEFAULT_SIZES);
	st->pos = -1;
}

/*
 * CowTopNCompare orders two rows by the ORDER BY columns: below 0 when a
 * comes first.
 */
static inline int
CowTopNCompare(CowTopNScanState *st, const Datum *ak, const bool *an,
			   const Datum *bk, const bool *bn)
{
	int			k;

	for (k = 0; k < st->nkeys; k++)
	{
		int			c = ApplySortComparator(ak[k], an[k], bk[k], bn[k],
											&st->keys[k].ssup);

		if (c != 0)
			return c;
	}
	return 0;
}

static inline int
CowTopNEntryCompare(CowTopNScanState *st, CowTopNEntry *a, CowTopNEntry *b)
{
	return CowTopNCompare(st, a->keys, COW_TOPN_KEYNULLS(st, a),
						  b->keys, COW_TOPN_KEYNULLS(st, b));
}

/* CowTopNSiftDown restores the heap (worst on top) below position i. */
static void
CowTopNSiftDown(CowTopNScanState *st, int64 i)
{
	CowTopNEntry **h = st->heap;
	CowTopNEntry *e = h[i];

	for (;;)
	{
		int64		c = 2 * i + 1;

		if (c >= st->nheap)
			break;
		if (c + 1 < st->nheap && CowTopNEntryCompare(st, h[c + 1], h[c]) > 0)
			c++;
		if (CowTopNEntryCompare(st, h[c], e) <= 0)
			break;
		h[i] = h[c];
		i = c;
	}
	h[i] = e;
}

static void
CowTopNSiftUp(CowTopNScanState *st, int64 i)
{
	CowTopNEntry **h = st->heap;
	CowTopNEntry *e = h[i];

	while (i > 0)
	{
		int64		p = (i - 1) / 2;

		if (CowTopNEntryCompare(st, h[p], e) >= 0)
			break;
		h[i] = h[p];
		i = p;
	}
	h[i] = e;
}

/* CowTopNRelease frees what an entry copied out of its group. */
static void
CowTopNRelease(CowTopNScanState *st, CowTopNEntry *e)
{
	TupleDesc	desc = RelationGetDescr(st->css.ss.ss_currentRelation);
	int			j;

	if (e->values == NULL)
		return;
	for (j = 0; j < st->nout; j++)
	{
		int			c = st->out_cols[j];

		if (!e->isnull[c] && !TupleDescAttr(desc, c)->attbyval)
			pfree(DatumGetPointer(e->values[c]));
	}
	pfree(e->values);
	pfree(e->isnull);
	e->values = NULL;
	e->isnull = NULL;
}

/*
 * CowTopNFillSlot stores, in the scan slot, the given columns of row "row"
 * of g (the others NULL).
 */
static void
CowTopNFillSlot(CowTopNScanState *st, CowDecodedGroup *g, uint64 row,
				const int *cols, int ncols, TupleTableSlot *slot)
{
	int			j;

	ExecClearTuple(slot);
	memset(slot->tts_isnull, true, sizeof(bool) * slot->tts_tupleDescriptor->natts);
	for (j = 0; j < ncols; j++)
	{
		int			c = cols[j];

		if (!CowGroupRow(g, c, row))
			elog(ERROR, "column %d not decoded for " COW_TOPN_NAME, c + 1);
		slot->tts_values[c] = g->values[c][row];
		slot->tts_isnull[c] = g->isnull[c][row];
	}
	ExecStoreVirtualTuple(slot);
}

/* qsort comparator: kept rows by their position in the group */
static int
CowTopNRowCmp(const void *a, const void *b)
{
	const CowTopNEntry *x = *(CowTopNEntry *const *) a;
	const CowTopNEntry *y = *(CowTopNEntry *const *) b;

	return (x->row > y->row) - (x->row < y->row);
}

/*
 * CowTopNMaterialize copies out of g, about to be reset, every needed
 * column of the rows of it still kept.  They are read in the group's
 * order: the first a single value, the next ones from a window of rows
 * after it (CowGroupValue), where the heap's order would make the windows
 * double until blocks are decoded whole.
 */
static void
CowTopNMaterialize(CowTopNScanState *st, CowDecodedGroup *g)
{
	TupleDesc	desc = RelationGetDescr(st->css.ss.ss_currentRelation);
	MemoryContext old = MemoryContextSwitchTo(st->run_cxt);
	CowTopNEntry **todo = palloc(sizeof(CowTopNEntry *) * Max(st->nheap, 1));
	int64		n = 0;
	int64		i;
	int			j,
				k;

	for (i = 0; i < st->nheap; i++)
		if (st->heap[i]->values == NULL)
			todo[n++] = st->heap[i];
	qsort(todo, n, sizeof(CowTopNEntry *), CowTopNRowCmp);
	for (i = 0; i < n; i++)
	{
		CowTopNEntry *e = todo[i];

		e->values = palloc(sizeof(Datum) * desc->natts);
		e->isnull = palloc(sizeof(bool) * desc->natts);
		memset(e->isnull, true, sizeof(bool) * desc->natts);
		for (j = 0; j < st->nout; j++)
		{
			int			c = st->out_cols[j];
			Form_pg_attribute att = TupleDescAttr(desc, c);
			Datum		v;
			bool		isnull;

			if (!CowGroupValue(g, c, e->row, &v, &isnull))
				elog(ERROR, "column %d not decoded for " COW_TOPN_NAME, c + 1);
			e->isnull[c] = isnull;
			e->values[c] = isnull ? (Datum) 0 :
				datumCopy(v, att->attbyval, att->attlen);
		}
		for (k = 0; k < st->nkeys; k++)
			e->keys[k] = e->values[st->keys[k].attidx];
	}
	pfree(todo);
	MemoryContextSwitchTo(old);
}

/*
 * CowTopNMinMaxColumn: the first ORDER BY column's description in the file
 * group with header h when its min/max follow the sort's order (written
 * under today's type and collation), else NULL.
 */
static CowColumnDesc *
CowTopNMinMaxColumn(CowTopNScanState *st, CowGroupHeader *h)
{
	CowTopNKey *key = &st->keys[0];
	Form_pg_attribute att;
	CowColumnDesc *d;

	if (!key->minmax || (uint32) key->attidx >= h->natts)
		return NULL;
	att = TupleDescAttr(RelationGetDescr(st->css.ss.ss_currentRelation),
						key->attidx);
	d = &CowGroupColumns(h)[key->attidx];
	if (d->typid != att->atttypid ||
		(OidIsValid(key->ssup.ssup_collation) &&
		 d->collation != key->ssup.ssup_collation))
		return NULL;			/* written before a type or collation change */
	return d;
}

/*
 * CowTopNGroupBest sets *best and *best_null to the best value a row of
 * the file group with header h can have in the first ORDER BY column,
 * from the chunk's min/max and NULLs; false when they do not tell (no
 * min/max, a column added or retyped since, a collation changed).  *best
 * points into h.
 */
static bool
CowTopNGroupBest(CowTopNScanState *st, CowGroupHeader *h, Datum *best,
				 bool *best_null)
{
	CowTopNKey *key = &st->keys[0];
	CowColumnDesc *d = CowTopNMinMaxColumn(st, h);

	*best = (Datum) 0;
	*best_null = false;
	if (d == NULL)
		return false;
	if (d->flags & COW_COL_ALL_NULL)
		*best_null = true;
	else if ((d->flags & COW_COL_HAS_NULLS) && key->ssup.ssup_nulls_first)
		*best_null = true;
	else if (d->flags & COW_COL_HAS_MINMAX)
	{
		Datum		min,
					max;

		CowGroupMinMax(h, key->attidx, &min, &max);
		*best = key->ssup.ssup_reverse ? max : min;
	}
	else
		return false;
	return true;
}

/*
 * CowTopNBestMayBeat: with the heap full, can a row whose first ORDER BY
 * value is best (or NULL) beat the worst kept row?
 */
static bool
CowTopNBestMayBeat(CowTopNScanState *st, Datum best, bool best_null)
{
	CowTopNEntry *worst = st->heap[0];
	int			c = ApplySortComparator(best, best_null, worst->keys[0],
										COW_TOPN_KEYNULLS(st, worst)[0],
										&st->keys[0].ssup);

	/* a tie on the first column of several may still win on the others */
	return c < 0 || (c == 0 && st->nkeys > 1);
}

/*
 * CowTopNGroupMayBeat: can a row of the group with header h beat the worst
 * kept row?  From the first ORDER BY column's min/max and NULLs.
 */
static bool
CowTopNGroupMayBeat(CowTopNScanState *st, CowGroupHeader *h)
{
	Datum		best;
	bool		best_null;

	if (!CowTopNGroupBest(st, h, &best, &best_null))
		return true;
	return CowTopNBestMayBeat(st, best, best_null);
}

/*
 * CowTopNBlockMayBeat: with the heap full, can a row of block b of group g
 * beat the worst kept row?  From the block's min/max of the first ORDER BY
 * column (format 4 groups): of a group sorted by that column, as the file
 * groups are by their record key, the blocks after the first few are
 * ruled out and their rows not decoded.  A block that may hold NULLs
 * sorting first, or without min/max, may.
 */
static bool
CowTopNBlockMayBeat(CowTopNScanState *st, CowDecodedGroup *g, uint32 b)
{
	CowTopNKey *key = &st->keys[0];
	CowColumnDesc *d = CowTopNMinMaxColumn(st, g->header);
	const char *list;
	Datum		min,
				max;

	if (d == NULL ||
		((d->flags & COW_COL_HAS_NULLS) && key->ssup.ssup_nulls_first) ||
		(list = CowGroupBlockMinMaxList(g->header, key->attidx)) == NULL ||
		!CowGroupBlockMinMax(g->header, list, b, &min, &max))
		return true;
	return CowTopNBestMayBeat(st, key->ssup.ssup_reverse ? max : min, false);
}

/*
 * A file group version in the order the scan reads them (CowTopNOrder), or
 * a block of a group (CowTopNBlockOrder).
 */
typedef struct CowTopNGroupOrder
{
	int			vi;				/* index in the scan's versions (block
								 * number) */
	bool		known;			/* best is set */
	bool		best_null;
	Datum		best;
} CowTopNGroupOrder;

static int
CowTopNOrderCmp(const void *a, const void *b, void *arg)
{
	const CowTopNGroupOrder *x = a;
	const CowTopNGroupOrder *y = b;
	CowTopNScanState *st = arg;
	int			c;

	if (x->known != y->known)
		return x->known ? -1 : 1;
	if (x->known)
	{
		c = ApplySortComparator(x->best, x->best_null, y->best, y->best_null,
								&st->keys[0].ssup);
		if (c != 0)
			return c;
	}
	return (x->vi > y->vi) - (x->vi < y->vi);
}

/*
 * CowTopNOrder returns the order in which to read the n versions: those
 * whose best possible first ORDER BY value is better first (the heap
 * fills with good rows early, and the groups after them are skipped or
 * most of their rows are), those without min/max last.  Every
 * participant of a parallel scan computes the same order (ties go by
 * position), and maps the positions it claims through it.  The headers
 * live in the current memory context.
 */
static int *
CowTopNOrder(CowTopNScanState *st, CowVersion *versions, int n)
{
	Relation	rel = st->css.ss.ss_currentRelation;
	CowTopNGroupOrder *go = palloc(sizeof(CowTopNGroupOrder) * Max(n, 1));
	int		   *order = palloc(sizeof(int) * Max(n, 1));
	int			i;

	for (i = 0; i < n; i++)
	{
		go[i].vi = i;
		go[i].known = st->keys[0].minmax &&
			CowTopNGroupBest(st, CowReadGroupHeader(rel, &versions[i]),
							 &go[i].best, &go[i].best_null);
	}
	qsort_arg(go, n, sizeof(CowTopNGroupOrder), CowTopNOrderCmp, st);
	for (i = 0; i < n; i++)
		order[i] = go[i].vi;
	pfree(go);
	return order;
}

/*
 * CowTopNTake puts row "row" of g into the heap: a new entry while it is
 * not full, else in place of the worst.
 */
static void
CowTopNTake(CowTopNScanState *st, CowDecodedGroup *g, uint64 row)
{
	CowTopNEntry *e;
	bool	   *nulls;
	bool		appended = (st->nheap < st->bound);
	int			k;

	if (appended)
	{
		e = MemoryContextAllocZero(st->run_cxt,
								   offsetof(CowTopNEntry, keys) +
								   (sizeof(Datum) + sizeof(bool)) * st->nkeys);
		st->heap[st->nheap++] = e;
	}
	else
	{
		e = st->heap[0];
		CowTopNRelease(st, e);
	}
	nulls = COW_TOPN_KEYNULLS(st, e);
	e->row = row;
	for (k = 0; k < st->nkeys; k++)
	{
		int			c = st->keys[k].attidx;

		if (!CowGroupRow(g, c, row))
			elog(ERROR, "column %d not decoded for " COW_TOPN_NAME, c + 1);
		e->keys[k] = g->values[c][row];
		nulls[k] = g->isnull[c][row];
	}
	if (appended)
		CowTopNSiftUp(st, st->nheap - 1);
	else
		CowTopNSiftDown(st, 0);
	st->rows_taken++;
}

/*
 * CowTopNBlockOrder: the order in which to read g's blocks, best possible
 * first ORDER BY value first by the blocks' min/max (a group sorted by the
 * column, read for its greatest values, is read from its end), those
 * without min/max (NULL throughout) last; NULL for the blocks' own order
 * when the column has no block min/max to go by.  In the current memory
 * context (the group's).
 */
static uint32 *
CowTopNBlockOrder(CowTopNScanState *st, CowDecodedGroup *g)
{
	CowTopNKey *key = &st->keys[0];
	const char *list;
	CowTopNGroupOrder *bo;
	uint32	   *order;
	uint32		b;

	if (g->nblocks < 2 || CowTopNMinMaxColumn(st, g->header) == NULL ||
		(list = CowGroupBlockMinMaxList(g->header, key->attidx)) == NULL)
		return NULL;
	/* sorted as file groups are (CowTopNOrderCmp): known best first */
	bo = palloc(sizeof(CowTopNGroupOrder) * g->nblocks);
	for (b = 0; b < g->nblocks; b++)
	{
		Datum		min,
					max;

		bo[b].vi = b;
		bo[b].best_null = false;
		bo[b].known = CowGroupBlockMinMax(g->header, list, b, &min, &max);
		bo[b].best = !bo[b].known ? (Datum) 0 :
			key->ssup.ssup_reverse ? max : min;
	}
	qsort_arg(bo, g->nblocks, sizeof(CowTopNGroupOrder), CowTopNOrderCmp, st);
	order = palloc(sizeof(uint32) * g->nblocks);
	for (b = 0; b < g->nblocks; b++)
		order[b] = bo[b].vi;
	pfree(bo);
	return order;
}

/*
 * CowTopNGroup goes through the rows of g, block by block of the first
 * ORDER BY column (best first, CowTopNBlockOrder), taking those that beat
 * the worst kept row and pass the Filter.
 */
static void
CowTopNGroup(CowTopNScanState *st, CowDecodedGroup *g)
{
	ExprState  *qual = st->css.ss.ps.qual;
	ExprContext *econtext = st->css.ss.ps.ps_ExprContext;
	TupleTableSlot *slot = st->css.ss.ss_ScanTupleSlot;
	CowTopNKey *key0 = &st->keys[0];
	int			c0 = key0->attidx;
	uint64		block_rows = g->header->block_rows;
	uint32	   *order = CowTopNBlockOrder(st, g);
	uint32		i;
	Datum		rowkeys[INDEX_MAX_KEYS];
	bool		rownulls[INDEX_MAX_KEYS];

	for (i = 0; i < g->nblocks; i++)
	{
		uint32		b = order != NULL ? order[i] : i;
		uint64		r0 = (uint64) b * block_rows;
		uint64		r1 = Min(r0 + block_rows, g->nrows);
		uint64		r;
		Datum	   *vals;
		bool	   *nulls;

		CHECK_FOR_INTERRUPTS();
		if (st->nheap >= st->bound && !CowTopNBlockMayBeat(st, g, b))
		{
			st->blocks_skipped++;
			continue;
		}
		if (!CowGroupRow(g, c0, r0))
			elog(ERROR, "column %d not decoded for " COW_TOPN_NAME, c0 + 1);
		vals = g->values[c0];
		nulls = g->isnull[c0];
		for (r = r0; r < r1; r++)
		{
			if (st->nheap >= st->bound)
			{
				CowTopNEntry *worst = st->heap[0];
				bool	   *wnulls = COW_TOPN_KEYNULLS(st, worst);
				int			c;

				c = ApplySortComparator(vals[r], nulls[r], worst->keys[0],
										wnulls[0], &key0->ssup);
				if (c > 0 || (c == 0 && st->nkeys == 1))
					continue;
				if (c == 0)
				{
					int			k;

					/* tied on the first column: compare the others */
					for (k = 1; k < st->nkeys; k++)
					{
						int			ck = st->keys[k].attidx;

						if (!CowGroupRow(g, ck, r))
							elog(ERROR, "column %d not decoded for " COW_TOPN_NAME,
								 ck + 1);
						rowkeys[k] = g->values[ck][r];
						rownulls[k] = g->isnull[ck][r];
					}
					rowkeys[0] = vals[r];
					rownulls[0] = nulls[r];
					if (CowTopNCompare(st, rowkeys, rownulls, worst->keys,
									   wnulls) >= 0)
						continue;
				}
			}
			if (qual != NULL)
			{
				bool		pass;

				CowTopNFillSlot(st, g, r, st->qual_cols, st->nqual, slot);
				econtext->ecxt_scantuple = slot;
				pass = ExecQual(qual, econtext);
				ResetExprContext(econtext);
				if (!pass)
				{
					InstrCountFiltered1(st, 1);
					continue;
				}
			}
			CowTopNTake(st, g, r);
		}
	}
}

static int
CowTopNSortCmp(const void *a, const void *b, void *arg)
{
	return CowTopNEntryCompare((CowTopNScanState *) arg,
							   *(CowTopNEntry *const *) a,
							   *(CowTopNEntry *const *) b);
}

/*
 * CowTopNRun reads the file group versions current for the query's
 * snapshot (in parallel, those this participant claims) through a
 * sequential scan descriptor, and leaves the best rows sorted in heap[].
 */
static void
CowTopNRun(CowTopNScanState *st)
{
	EState	   *estate = st->css.ss.ps.state;
	Relation	rel = st->css.ss.ss_currentRelation;
	MemoryContext old;
	TableScanDesc scan;
	CowScanDesc cscan;
	CowVersion *versions;
	int			nversions = 0;
	int		   *order;
	int64		rows = 0;
	int			i;

	MemoryContextReset(st->run_cxt);
	st->nheap = 0;
	st->pos = -1;
	if (st->bound == 0)
		return;
	old = MemoryContextSwitchTo(st->run_cxt);
	st->heap = palloc(sizeof(CowTopNEntry *) * st->bound);

	if (st->pscan != NULL)
		scan = table_beginscan_parallel(rel, st->pscan);
	else
		scan = table_beginscan(rel, estate->es_snapshot, 0, NULL);
	cscan = (CowScanDesc) scan;
	versions = CowScanVersions(scan, &nversions);
	order = CowTopNOrder(st, versions, nversions);
	if (st->group_cxt == NULL && nversions > 0)
		st->group_cxt = CowGroupContextCreate(MemoryContextGetParent(st->run_cxt),
											  "incetl cow top-n group",
											  COW_GROUP_CONTEXT_BLOCK);

	/* a parallel scan's participants claim the versions one at a time */
	while (nversions > 0 && (i = CowScanNextVersion(scan)) >= 0)
	{
		CowDecodedGroup *g;

		CHECK_FOR_INTERRUPTS();
		MemoryContextSwitchTo(st->group_cxt);
		g = CowOpenGroup(rel, &versions[order[i]], false, st->needed);
		if ((st->skip != NIL && !CowGroupMayMatch(rel, g->header, st->skip)) ||
			(st->nheap >= st->bound && !CowTopNGroupMayBeat(st, g->header)))
		{
			cscan->groups_skipped++;
			MemoryContextSwitchTo(st->run_cxt);
			MemoryContextReset(st->group_cxt);
			continue;
		}
		cscan->groups_read++;
		rows += g->nrows;
		g->by_block = true;
		CowTopNGroup(st, g);
		CowTopNMaterialize(st, g);
		MemoryContextSwitchTo(st->run_cxt);
		MemoryContextReset(st->group_cxt);
	}
	st->groups_read += cscan->groups_read;
	st->groups_skipped += cscan->groups_skipped;
	st->rows_read += rows;
	if (pgstat_should_count_relation(rel))
		rel->pgstat_info->t_counts.t_tuples_returned += rows;
	table_endscan(scan);

	qsort_arg(st->heap, st->nheap, sizeof(CowTopNEntry *), CowTopNSortCmp, st);
	MemoryContextSwitchTo(old);
}

static TupleTableSlot *
CowTopNExec(CustomScanState *node)
{
	CowTopNScanState *st = (CowTopNScanState *) node;
	ProjectionInfo *proj = node->ss.ps.ps_ProjInfo;
	ExprContext *econtext = node->ss.ps.ps_ExprContext;
	TupleTableSlot *slot = node->ss.ss_ScanTupleSlot;
	TupleDesc	desc = slot->tts_tupleDescriptor;
	CowTopNEntry *e;

	if (!st->done)
	{
		st->done = true;
		CowTopNRun(st);
	}
	ResetExprContext(econtext);
	if (ScanDirectionIsBackward(node->ss.ps.state->es_direction))
	{
		if (st->pos > st->nheap)
			st->pos = st->nheap;
		st->pos--;
	}
	else if (st->pos < st->nheap)
		st->pos++;
	if (st->pos < 0 || st->pos >= st->nheap)
	{
		if (st->pos < 0)
			st->pos = -1;
		if (proj != NULL)
			return ExecClearTuple(proj->pi_state.resultslot);
		return ExecClearTuple(slot);
	}

	e = st->heap[st->pos];
	ExecClearTuple(slot);
	memcpy(slot->tts_values, e->values, sizeof(Datum) * desc->natts);
	memcpy(slot->tts_isnull, e->isnull, sizeof(bool) * desc->natts);
	ExecStoreVirtualTuple(slot);
	if (proj == NULL)
		return slot;
	econtext->ecxt_scantuple = slot;
	return ExecProject(proj);
}

static void
CowTopNEnd(CustomScanState *node)
{
	CowTopNScanState *st = (CowTopNScanState *) node;

	MemoryContextReset(st->run_cxt);
	st->nheap = 0;
}

static void
CowTopNReScan(CustomScanState *node)
{
	CowTopNScanState *st = (CowTopNScanState *) node;

	ExecClearTuple(node->ss.ss_ScanTupleSlot);
	MemoryContextReset(st->run_cxt);
	st->nheap = 0;
	st->pos = -1;
	st->done = false;
}

/*
 * A parallel IncetlCowTopN (under Gather Merge) shares the table's parallel
 * scan state (cow_scan.c): every participant keeps the best rows of the
 * file groups it claims.
 */
static void
CowTopNInitializeDSM(CustomScanState *node, ParallelContext *pcxt,
					 void *coordinate)
{
	CowTopNScanState *st = (CowTopNScanState *) node;

	st->pscan = CowCustomScanInitializeDSM(node, coordinate);
}

static void
CowTopNInitializeWorker(CustomScanState *node, shm_toc *toc, void *coordinate)
{
	((CowTopNScanState *) node)->pscan = (ParallelTableScanDesc) coordinate;
}

static void
CowTopNExplain(CustomScanState *node, List *ancestors, ExplainState *es)
{
	CowTopNScanState *st = (CowTopNScanState *) node;
	CustomScan *cscan = (CustomScan *) node->ss.ps.plan;
	List	   *context;
	List	   *keys = NIL;
	ListCell   *lc;
	int			k = 0;

	context = set_deparse_context_plan(es->deparse_cxt, &cscan->scan.plan,
									   ancestors);
	foreach(lc, cscan->custom_exprs)
	{
		CowTopNKey *key = &st->keys[k++];
		StringInfoData buf;

		initStringInfo(&buf);
		appendStringInfoString(&buf,
							   deparse_expression(lfirst(lc), context,
												  es->verbose, false));
		if (key->ssup.ssup_reverse)
			appendStringInfoString(&buf, " DESC");
		if (key->ssup.ssup_nulls_first != key->ssup.ssup_reverse)
			appendStringInfoString(&buf, key->ssup.ssup_nulls_first ?
								   " NULLS FIRST" : " NULLS LAST");
		keys = lappend(keys, buf.data);
	}
	ExplainPropertyList("Sort Key", keys, es);
	ExplainPropertyInteger("Rows Kept", NULL, st->bound, es);
	if (es->analyze)
	{
		ExplainPropertyInteger("File Groups Read", NULL, st->groups_read, es);
		ExplainPropertyInteger("File Groups Skipped", NULL, st->groups_skipped, es);
		ExplainPropertyInteger("Rows Taken", NULL, st->rows_taken, es);
		ExplainPropertyInteger("Blocks Skipped", NULL, st->blocks_skipped, es);
	}
}

/*
 * CowTopNInit installs the planner hook and registers the custom scan
 * (after CowAggInit, which defines incetl.cow_aggregate_pushdown).
 */
void
CowTopNInit(void)
{
	RegisterCustomScanMethods(&CowTopNScanMethods);
	prev_create_upper_paths = create_upper_paths_hook;
	create_upper_paths_hook = cow_topn_upper_paths;
}
