/*-------------------------------------------------------------------------
 *
 * cow_hooks.c
 *	  Executor, planner and object-access hooks of incetl_cow.
 *
 *	ExecutorStart	begins the sequential scans of incetl_cow tables itself,
 *					so it can hand them the columns the plan needs and the
 *					simple "column op constant" quals used to skip file
 *					groups by min/max (SeqNext uses a scan it finds begun);
 *					a Parallel Seq Scan's scan, begun later on the shared
 *					state, gets them on the node's first call, in every
 *					participant; a node whose scan may hold bounds on the
 *					record key runs as CowSeqScanKeyRange, which leaves
 *					them out of its quals on the rows the key range
 *					holds them for; has the Index Scans of incetl_cow
 *					tables that read some of their columns only tell
 *					their fetches those columns on their first call,
 *					beginning the scan there as IndexNext would
 *					(CowIndexScanFirst; a parallel-aware one's is begun
 *					on the shared state, in every participant);
 *					turns off the prefetching of bitmap heap scans of
 *					them (their TID blocks are not pages) and hands
 *					their scans the columns they read; keeps the
 *					executor from indexing the rows an INSERT buffers
 *					(CowSkipExecutorIndexing).
 *	ExecutorFinish	merges the rows a writing query buffered for its result
 *					relations, before its AFTER STATEMENT triggers fire
 *					(after them when data-modifying CTEs are still to
 *					run); a read-only query nested in a writing statement
 *					merges nothing of it.
 *	get_relation_info
 *					sizes parallel scans of incetl_cow tables by their raw
 *					bytes and file groups (CowParallelWorkers), with the
 *					versions estimate_rel_size loaded
 *					(CowPlanVersionTotals).
 *	set_rel_pathlist
 *					"ctid = ..." quals on an incetl_cow table plan as a Tid
 *					Scan (which follows rows moved by this transaction);
 *					a sequential scan over a key range is costed by the
 *					range's selectivity and weighed against the index
 *					paths, made again if add_path dropped it
 *					(CowCostKeyRange).
 *	object_access	DROP TABLE removes the table's metadata rows.
 *	ProcessUtility	ALTER TABLE ... RENAME COLUMN renames the column in the
 *					table's options too (options name their columns so
 *					that they survive pg_dump/pg_restore); a CREATE INDEX
 *					CONCURRENTLY the build would refuse (an access
 *					method not supported) is refused before it
 *					creates anything.  CREATE PUBLICATION ... FOR ALL TABLES in a
 *					database with incetl gets a WARNING: it publishes
 *					incetl's own catalog tables too.
 *
 * Copyright (c) 2026, incetl authors
 *
 * IDENTIFICATION
 *	  src/cow/cow_hooks.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/heapam.h"
#include "access/relation.h"
#include "access/stratnum.h"
#include "access/sysattr.h"
#include "access/table.h"
#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/indexing.h"
#include "catalog/namespace.h"
#include "catalog/objectaccess.h"
#include "catalog/pg_am.h"
#include "catalog/pg_class.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_opclass.h"
#include "catalog/partition.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_publication.h"
#include "catalog/pg_trigger.h"
#include "catalog/index.h"
#include "commands/defrem.h"
#include "commands/extension.h"
#include "executor/executor.h"
#include "access/nbtree.h"
#include "miscadmin.h"
#include "nodes/execnodes.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/cost.h"
#include "optimizer/clauses.h"
#include "optimizer/optimizer.h"
#include "optimizer/pathnode.h"
#include "optimizer/paths.h"
#include "catalog/pg_operator.h"
#include "optimizer/plancat.h"
#include "tcop/utility.h"
#include "utils/array.h"
#include "utils/datum.h"
#include "utils/fmgroids.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/typcache.h"
#include "storage/bufmgr.h"
#include "storage/proc.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "access/htup_details.h"
#include "commands/defrem.h"

#include "cow/am.h"
#include "cow/shared_cache.h"

static ExecutorStart_hook_type prev_ExecutorStart = NULL;
static ExecutorFinish_hook_type prev_ExecutorFinish = NULL;
static get_relation_info_hook_type prev_get_relation_info = NULL;
static set_rel_pathlist_hook_type prev_set_rel_pathlist = NULL;
static object_access_hook_type prev_object_access = NULL;
static ProcessUtility_hook_type prev_ProcessUtility = NULL;

static void cow_ExecutorStart(QueryDesc *queryDesc, int eflags);
static void cow_ExecutorFinish(QueryDesc *queryDesc);
static void cow_get_relation_info(PlannerInfo *root, Oid relationObjectId,
								  bool inhparent, RelOptInfo *rel);
static void cow_set_rel_pathlist(PlannerInfo *root, RelOptInfo *rel, Index rti,
								 RangeTblEntry *rte);
static bool CowIsTidEqualClause(RestrictInfo *rinfo, RelOptInfo *rel);
static void CowNoPhysicalTlist(RelOptInfo *rel, RangeTblEntry *rte);
static bool CowIsTableRuleAction(List *rtable);
static void cow_object_access(ObjectAccessType access, Oid classId,
							  Oid objectId, int subId, void *arg);
static void cow_ProcessUtility(PlannedStmt *pstmt, const char *queryString,
							   bool readOnlyTree, ProcessUtilityContext context,
							   ParamListInfo params, QueryEnvironment *queryEnv,
							   DestReceiver *dest, QueryCompletion *qc);
static bool CowBeginScansWalker(PlanState *ps, void *context);
static TupleTableSlot *CowIndexScanFirst(PlanState *ps);
static void CowHintBitmapScan(BitmapHeapScanState *bs);
static Oid	CowTableAmOid(void);
static bool CowTakePlanTotals(Relation rel, double *raw_bytes, int *nversions);
static void CowCheckIndexStmt(Node *parsetree);
static void CowFlushQueryRelations(EState *estate);
static void CowCheckPublicationStmt(Node *parsetree);
static List *CowExtractFilterQuals(List *quals, Index scanrelid, Relation rel);

/*
 * CowColumnOpConst tells whether qual is "column op constant" or
 * "constant op column" (binary-compatible relabelings aside) over a column
 * of the scan's relation (scanrelid) and a constant that is not NULL, and
 * returns its parts.
 */
static bool
CowColumnOpConst(Node *qual, Index scanrelid, Var **var, Const **cst,
				 bool *column_first)
{
	OpExpr	   *op = (OpExpr *) qual;
	Node	   *left,
			   *right;

	if (!IsA(op, OpExpr) || list_length(op->args) != 2)
		return false;
	left = linitial(op->args);
	right = lsecond(op->args);
	while (IsA(left, RelabelType))
		left = (Node *) ((RelabelType *) left)->arg;
	while (IsA(right, RelabelType))
		right = (Node *) ((RelabelType *) right)->arg;
	if (IsA(left, Var) && IsA(right, Const))
	{
		*var = (Var *) left;
		*cst = (Const *) right;
		*column_first = true;
	}
	else if (IsA(right, Var) && IsA(left, Const))
	{
		*var = (Var *) right;
		*cst = (Const *) left;
		*column_first = false;
	}
	else
		return false;
	return (*var)->varno == scanrelid && (*var)->varlevelsup == 0 &&
		!(*cst)->constisnull;
}

/* qsort_arg comparator of CowArrayBounds's sorted elements */
typedef struct CowElemSort
{
	FmgrInfo   *cmp;
	Oid			collation;
} CowElemSort;

static int
CowElemCompare(const void *a, const void *b, void *arg)
{
	CowElemSort *s = (CowElemSort *) arg;

	return DatumGetInt32(FunctionCall2Coll(s->cmp, s->collation,
										   *(const Datum *) a,
										   *(const Datum *) b));
}

/*
 * CowArrayBounds: for "column = ANY (constant array)" (column IN (...)),
 * the equality of the column type's default btree opfamily under the
 * column's collation, with at least one element not NULL: the column, the
 * opfamily's >= and <= operators for the column and element types, the
 * least and greatest elements (by the opfamily's comparison, under the
 * clause's collation) as Consts, and *sorted[*nsorted], the elements not
 * NULL in ascending order without duplicates (the by-reference ones point
 * into the array), all in the current memory context.  Every row the
 * clause passes lies between the least and the greatest, so "column >=
 * least AND column <= greatest" may skip file groups and blocks, and
 * narrow a key range (CowExtractSkipQuals); the executor still evaluates
 * the clause itself.  False for anything else.
 */
static bool
CowArrayBounds(Node *qual, Index scanrelid, Relation rel, Var **var,
			   Oid *geop, Oid *leop, Const **least, Const **greatest,
			   Datum **sorted, int *nsorted)
{
	ScalarArrayOpExpr *saop = (ScalarArrayOpExpr *) qual;
	TupleDesc	desc = RelationGetDescr(rel);
	Form_pg_attribute att;
	Node	   *left,
			   *right;
	Const	   *arr;
	ArrayType  *array;
	Oid			opfamily,
				lefttype,
				righttype,
				cmpproc;
	int16		typlen;
	bool		typbyval;
	char		typalign;
	Datum	   *elems;
	bool	   *nulls;
	int			nelems,
				n = 0,
				i;
	FmgrInfo	cmp;
	CowElemSort sort;

	if (!IsA(qual, ScalarArrayOpExpr) || !saop->useOr ||
		list_length(saop->args) != 2)
		return false;
	left = linitial(saop->args);
	right = lsecond(saop->args);
	while (IsA(left, RelabelType))
		left = (Node *) ((RelabelType *) left)->arg;
	if (!IsA(left, Var) || !IsA(right, Const))
		return false;
	*var = (Var *) left;
	arr = (Const *) right;
	if ((*var)->varno != scanrelid || (*var)->varlevelsup != 0 ||
		(*var)->varattno <= 0 || (*var)->varattno > desc->natts ||
		arr->constisnull)
		return false;
	att = TupleDescAttr(desc, (*var)->varattno - 1);
	/* min/max were computed with the column's collation (CowMakeSkipQual) */
	if (OidIsValid(saop->inputcollid) && saop->inputcollid != att->attcollation)
		return false;
	opfamily = lookup_type_cache(att->atttypid, TYPECACHE_BTREE_OPFAMILY)->btree_opf;
	if (!OidIsValid(opfamily) ||
		get_op_opfamily_strategy(saop->opno, opfamily) != BTEqualStrategyNumber)
		return false;
	op_input_types(saop->opno, &lefttype, &righttype);
	array = DatumGetArrayTypeP(arr->constvalue);
	if (ARR_ELEMTYPE(array) != righttype)
		return false;
	*geop = get_opfamily_member(opfamily, lefttype, righttype,
								BTGreaterEqualStrategyNumber);
	*leop = get_opfamily_member(opfamily, lefttype, righttype,
								BTLessEqualStrategyNumber);
	cmpproc = get_opfamily_proc(opfamily, righttype, righttype, BTORDER_PROC);
	if (!OidIsValid(*geop) || !OidIsValid(*leop) || !OidIsValid(cmpproc))
		return false;

	get_typlenbyvalalign(righttype, &typlen, &typbyval, &typalign);
	deconstruct_array(array, righttype, typlen, typbyval, typalign, &elems,
					  &nulls, &nelems);
	fmgr_info(cmpproc, &cmp);
	sort.cmp = &cmp;
	sort.collation = saop->inputcollid;
	*sorted = palloc(sizeof(Datum) * Max(nelems, 1));
	for (i = 0; i < nelems; i++)
		if (!nulls[i])
			(*sorted)[n++] = elems[i];
	qsort_arg(*sorted, n, sizeof(Datum), CowElemCompare, &sort);
	*nsorted = 0;
	for (i = 0; i < n; i++)
		if (*nsorted == 0 ||
			CowElemCompare(&(*sorted)[i], &(*sorted)[*nsorted - 1], &sort) != 0)
			(*sorted)[(*nsorted)++] = (*sorted)[i];
	if (*nsorted == 0)
		return false;
	*least = makeConst(righttype, -1, arr->constcollid, typlen,
					   datumCopy((*sorted)[0], typbyval, typlen), false,
					   typbyval);
	*greatest = makeConst(righttype, -1, arr->constcollid, typlen,
						  datumCopy((*sorted)[*nsorted - 1], typbyval, typlen),
						  false, typbyval);
	return true;
}

/*
 * CowExtractSkipQuals turns "Var op Const" / "Const op Var" quals whose
 * operator is a btree comparison of the column type's default opfamily
 * into CowSkipQuals, "column LIKE 'prefix…'" under the "C" collation
 * into the range of the prefix (CowMakeLikeSkipQuals) and "column IN
 * (constants)" into the range from its least to its greatest element
 * (CowArrayBounds) and, of two elements or more, a qual that rules out a
 * group or a block no element lies in (CowSkipQual's elems; IN lists of
 * scattered keys read the blocks holding them, not all between the
 * bounds): a file group or a block their min/max rule out has no row
 * that passes the quals.  Used by the scan (skip quals of its plan)
 * and the top-N scan (its Filter).
 */
List *
CowExtractSkipQuals(List *quals, Index scanrelid, Relation rel)
{
	List	   *result = NIL;
	ListCell   *lc;

	foreach(lc, quals)
	{
		OpExpr	   *op = lfirst(lc);
		Var		   *var;
		Const	   *cst;
		Const	   *greatest;
		bool		column_first;
		Oid			opno,
					leop;
		CowSkipQual *q;
		Datum	   *elems;
		int			nelems;

		if (CowArrayBounds((Node *) op, scanrelid, rel, &var, &opno, &leop,
						   &cst, &greatest, &elems, &nelems))
		{
			ScalarArrayOpExpr *saop = (ScalarArrayOpExpr *) op;
			CowSkipQual *q2;
			CowSkipQual *q3;

			q = CowMakeSkipQual(rel, var->varattno, opno, saop->inputcollid,
								cst->constvalue);
			q2 = CowMakeSkipQual(rel, var->varattno, leop, saop->inputcollid,
								 greatest->constvalue);
			if (q == NULL || q2 == NULL)
				continue;
			result = lappend(lappend(result, q), q2);
			/* of several elements, those between the bounds too */
			q3 = nelems > 1 ?
				CowMakeSkipQual(rel, var->varattno, saop->opno,
								saop->inputcollid, cst->constvalue) : NULL;
			if (q3 != NULL && q3->strategy == BTEqualStrategyNumber)
			{
				q3->elems = elems;
				q3->nelems = nelems;
				result = lappend(result, q3);
			}
			continue;
		}
		if (!CowColumnOpConst((Node *) op, scanrelid, &var, &cst, &column_first))
			continue;
		if (column_first && cst->consttype == TEXTOID)
			result = list_concat(result,
								 CowMakeLikeSkipQuals(rel, var->varattno, op->opno,
													  op->inputcollid,
													  cst->constvalue));
		opno = column_first ? op->opno : get_commutator(op->opno);
		if (!OidIsValid(opno))
			continue;
		q = CowMakeSkipQual(rel, var->varattno, opno, op->inputcollid,
							cst->constvalue);
		if (q != NULL)
			result = lappend(result, q);
	}
	return result;
}

/*
 * CowFuncStrict: is function fn strict, and *leakproof, is it leakproof?
 * One look at its pg_proc row.
 */
static bool
CowFuncStrict(Oid fn, bool *leakproof)
{
	HeapTuple	tp = SearchSysCache1(PROCOID, ObjectIdGetDatum(fn));
	bool		strict;

	if (!HeapTupleIsValid(tp))
		elog(ERROR, "cache lookup failed for function %u", fn);
	strict = ((Form_pg_proc) GETSTRUCT(tp))->proisstrict;
	*leakproof = ((Form_pg_proc) GETSTRUCT(tp))->proleakproof;
	ReleaseSysCache(tp);
	return strict;
}

/*
 * CowExtractFilterQuals returns the CowFilterQuals the scan evaluates on
 * decoded blocks: the longest leading run of the plan's quals that are
 * "column op constant" (or "constant op column") with a strict operator.
 * The executor evaluates quals in list order, each only on the rows the
 * ones before it let through, and the scan does the same, so it calls no
 * function on a row the executor would not call it on (a security
 * barrier qual, first in the list, filters before any other does).  What
 * the scan may do that the executor would not is evaluate a block's rows
 * beyond a LIMIT, so the operator must not fail on a value: a btree
 * comparison, a leakproof function, or LIKE / NOT LIKE with a pattern
 * without escapes (whose error, a pattern ending in the escape, depends on
 * the value reaching it).
 */
static List *
CowExtractFilterQuals(List *quals, Index scanrelid, Relation rel)
{
	List	   *result = NIL;
	ListCell   *lc;

	foreach(lc, quals)
	{
		OpExpr	   *op = lfirst(lc);
		Var		   *var;
		Const	   *cst;
		CowFilterQual *f;
		Oid			fn;
		bool		column_first;
		bool		leakproof;

		if (!CowColumnOpConst((Node *) op, scanrelid, &var, &cst, &column_first) ||
			var->varattno <= 0 || var->varattno > RelationGetNumberOfAttributes(rel))
			break;
		fn = get_opcode(op->opno);
		if (!OidIsValid(fn) || !CowFuncStrict(fn, &leakproof))
			break;
		if (!leakproof)
		{
			Oid			cmp = column_first ? op->opno : get_commutator(op->opno);
			CowSkipQual *q = OidIsValid(cmp) ?
				CowMakeSkipQual(rel, var->varattno, cmp, op->inputcollid,
								cst->constvalue) : NULL;

			if (q == NULL &&
				!((fn == F_TEXTLIKE || fn == F_TEXTNLIKE) && column_first &&
				  cst->consttype == TEXTOID &&
				  memchr(VARDATA_ANY(DatumGetPointer(cst->constvalue)), '\\',
						 VARSIZE_ANY_EXHDR(DatumGetPointer(cst->constvalue))) == NULL))
				break;
		}
		f = palloc0(sizeof(CowFilterQual));
		f->attidx = var->varattno - 1;
		f->column_first = column_first;
		f->opno = op->opno;
		f->collation = op->inputcollid;
		f->value = cst->constvalue;
		result = lappend(result, f);
	}
	return result;
}

/*
 * CowTlistIsPhysical: is tlist a scan's "physical" target list (every
 * attribute of the relation, in order, as build_physical_tlist makes it)?
 */
static bool
CowTlistIsPhysical(List *tlist, Index scanrelid, int natts)
{
	ListCell   *lc;
	AttrNumber	a = 0;

	if (list_length(tlist) != natts)
		return false;
	foreach(lc, tlist)
	{
		Var		   *var = (Var *) ((TargetEntry *) lfirst(lc))->expr;

		a++;
		if (!IsA(var, Var) || var->varno != scanrelid ||
			var->varattno != a || var->varlevelsup != 0)
			return false;
	}
	return true;
}

/*
 * CowIsTableRuleAction: is the statement whose range table this is the
 * action of a rule on a table (not on a view)?  The rewriter leaves the
 * rule's OLD and NEW placeholders in its range table (entries named "old"
 * and "new", not in any FROM list; the columns the action names of them
 * are marked there, for the rule owner's permission check); the action
 * reads OLD's columns through the original statement's range table entry,
 * whose selectedCols are the statement's.  A view's (or materialized
 * view's) OLD and NEW name the view.  A table a statement names "old"
 * outside a FROM list (INSERT INTO t AS old) only costs its scans the
 * narrowing.
 */
static bool
CowIsTableRuleAction(List *rtable)
{
	ListCell   *lc;

	foreach(lc, rtable)
	{
		RangeTblEntry *rte = lfirst(lc);

		if (rte->rtekind == RTE_RELATION && !rte->inFromCl &&
			rte->relkind != RELKIND_VIEW && rte->relkind != RELKIND_MATVIEW &&
			rte->eref != NULL &&
			(strcmp(rte->eref->aliasname, "old") == 0 ||
			 strcmp(rte->eref->aliasname, "new") == 0))
			return true;
	}
	return false;
}

/*
 * CowScanColumns: the columns of rel a scan node (ps, its plan "plan") reads
 * -- *all, or those in *needed (attribute numbers less one) -- with the
 * expressions in more evaluated on its rows as well.
 *
 * The columns read are those its target list and quals name.  A
 * "physical" target list (every column, which spares the node above a
 * projection: the planner's choice wherever that node takes any target
 * list) names them all; the columns the node above reads are then among
 * those the query reads of the table, its range table entry's
 * selectedCols (translated to a partition's or child's columns by the
 * planner; a whole-row reference names them all).  The slot reads the
 * others as NULL (CowOpenGroup).  A node above reads no other column:
 * the parser marks every column a statement names in selectedCols; the
 * rows an UPDATE, DELETE, MERGE or EvalPlanQual needs whole are fetched
 * again by TID; row-level security quals are the scan's own quals.  The
 * exception is the action of a rule on a table, which reads OLD's
 * columns through an entry with the original statement's selectedCols:
 * the planner hook keeps its scans from a physical target list
 * (CowNoPhysicalTlist), and, as an exact target list naming every column
 * in order looks the same here, its scans are never narrowed by
 * selectedCols (CowIsTableRuleAction).  A physical target list over a
 * query that reads every column (SELECT *, a whole-row reference) gives
 * *all at once, without the quals' walk: a lookup has little else to do.
 */
static void
CowScanColumns(PlanState *ps, Scan *plan, Relation rel, List *more,
			   bool *all, Bitmapset **needed)
{
	int			natts = RelationGetNumberOfAttributes(rel);
	Bitmapset  *attrs = NULL;
	int			x = -1;

	*all = false;
	*needed = NULL;
	if (CowTlistIsPhysical(plan->plan.targetlist, plan->scanrelid, natts) &&
		!CowIsTableRuleAction(ps->state->es_range_table))
	{
		Bitmapset  *selected = exec_rt_fetch(plan->scanrelid,
											 ps->state)->selectedCols;
		int			a = 1;

		while (a <= natts &&
			   bms_is_member(a - FirstLowInvalidHeapAttributeNumber, selected))
			a++;
		*all = a > natts ||
			bms_is_member(InvalidAttrNumber - FirstLowInvalidHeapAttributeNumber,
						  selected);
		if (*all)
			return;
		attrs = bms_copy(selected);
	}
	else
		pull_varattnos((Node *) plan->plan.targetlist, plan->scanrelid, &attrs);
	pull_varattnos((Node *) plan->plan.qual, plan->scanrelid, &attrs);
	pull_varattnos((Node *) more, plan->scanrelid, &attrs);
	while ((x = bms_next_member(attrs, x)) >= 0)
	{
		AttrNumber	a = x + FirstLowInvalidHeapAttributeNumber;

		if (a == InvalidAttrNumber)
			*all = true;
		else if (a > 0)
			*needed = bms_add_member(*needed, a - 1);
	}
}

/*
 * CowHintScan hands the scan of a SeqScan on an incetl_cow table the
 * columns its plan reads (CowScanColumns), the quals that skip file groups
 * and those it evaluates on decoded blocks.  True when the scan may hold
 * some of the node's quals itself (CowScanBoundQuals) and the node may
 * leave them out (CowSeqScanKeyRange): none of its quals holds a subplan,
 * whose state the node's expressions may not be made twice with.
 */
static bool
CowHintScan(SeqScanState *ss, TableScanDesc scan)
{
	Scan	   *plan = (Scan *) ss->ss.ps.plan;
	Relation	rel = ss->ss.ss_currentRelation;
	Bitmapset  *needed;
	bool		all;

	CowScanColumns(&ss->ss.ps, plan, rel, NIL, &all, &needed);
	CowScanSetHints(scan, all, needed,
					CowExtractSkipQuals(plan->plan.qual, plan->scanrelid, rel),
					CowExtractFilterQuals(plan->plan.qual, plan->scanrelid, rel));
	return CowScanBoundQuals(scan) != NULL &&
		!contain_subplans((Node *) plan->plan.qual);
}

/*
 * The quals a SeqScan node on an incetl_cow table evaluates on the rows
 * its scan's key range holds (CowSeqScanKeyRange): the plan's, without
 * the bounds on the key column the range found.  Made at the first such
 * row, in the query's context; kept with the scan (its node_state).
 */
typedef struct CowKeyRangeQual
{
	ExprState  *qual;			/* NULL: none left */
} CowKeyRangeQual;

static ExecProcNodeMtd CowSeqScanReal = NULL;

static CowKeyRangeQual *
CowKeyRangeQualMake(SeqScanState *ss, CowScanDesc scan)
{
	Bitmapset  *held = CowScanBoundQuals(&scan->base);
	MemoryContext old = MemoryContextSwitchTo(ss->ss.ps.state->es_query_cxt);
	CowKeyRangeQual *kq = palloc0(sizeof(CowKeyRangeQual));
	List	   *rest = NIL;
	ListCell   *lc;

	foreach(lc, ss->ss.ps.plan->qual)
	{
		if (!bms_is_member(foreach_current_index(lc), held))
			rest = lappend(rest, lfirst(lc));
	}
	kq->qual = ExecInitQual(rest, &ss->ss.ps);
	MemoryContextSwitchTo(old);
	return kq;
}

/*
 * CowSeqScanKeyRange runs a SeqScan node on an incetl_cow table whose
 * scan may hold some of its quals, in place of ExecSeqScan: as ExecScan
 * does, it fetches the scan's rows, evaluates the node's quals on each and
 * projects those that pass, but on a row of a file group where the scan's
 * key range found the bounds on the key column (CowScanRowHoldsBounds)
 * it leaves those bounds out, as an index scan does not test its index
 * quals again on the rows the index returns: every row it returns there
 * holds for them.  A row EvalPlanQual rechecks (a concurrently updated
 * row of an UPDATE or DELETE, or of SELECT ... FOR UPDATE) goes through
 * ExecSeqScan and all of them.
 */
static TupleTableSlot *
CowSeqScanKeyRange(PlanState *ps)
{
	SeqScanState *ss = (SeqScanState *) ps;
	CowScanDesc scan = (CowScanDesc) ss->ss.ss_currentScanDesc;
	ExprContext *econtext = ps->ps_ExprContext;
	ProjectionInfo *proj = ps->ps_ProjInfo;
	TupleTableSlot *slot = ss->ss.ss_ScanTupleSlot;

	if (ps->state->es_epq_active != NULL || scan == NULL)
		return CowSeqScanReal(ps);
	ResetExprContext(econtext);
	for (;;)
	{
		ExprState  *qual = ps->qual;

		CHECK_FOR_INTERRUPTS();
		if (!table_scan_getnextslot(&scan->base, ps->state->es_direction, slot))
			return proj ? ExecClearTuple(proj->pi_state.resultslot) : NULL;
		if (CowScanRowHoldsBounds(&scan->base))
		{
			if (scan->node_state == NULL)
				scan->node_state = CowKeyRangeQualMake(ss, scan);
			qual = ((CowKeyRangeQual *) scan->node_state)->qual;
		}
		econtext->ecxt_scantuple = slot;
		if (qual == NULL || ExecQual(qual, econtext))
			return proj ? ExecProject(proj) : slot;
		InstrCountFiltered1(ss, 1);
		ResetExprContext(econtext);
	}
}

/*
 * CowIndexScanColumns: the columns an Index Scan node on an incetl_cow
 * table reads, in *needed, when that is not all of them: its target list,
 * its quals, and the index quals and ORDER BY expressions the node
 * evaluates on a fetched row when the index asks for a recheck
 * (CowScanColumns; a btree never does).  False when it reads them all
 * (SELECT *, a whole-row reference).
 */
static bool
CowIndexScanColumns(IndexScanState *iss, Bitmapset **needed)
{
	IndexScan  *plan = (IndexScan *) iss->ss.ps.plan;
	Relation	rel = iss->ss.ss_currentRelation;
	List	   *recheck;
	bool		all;

	/* btree never asks for a recheck (btgettuple) nor orders by distance */
	if (iss->iss_RelationDesc->rd_rel->relam == BTREE_AM_OID)
		recheck = NIL;
	else
		recheck = list_concat_copy(plan->indexqualorig, plan->indexorderbyorig);
	CowScanColumns(&iss->ss.ps, &plan->scan, rel, recheck, &all, needed);
	return !all && bms_num_members(*needed) < RelationGetNumberOfAttributes(rel);
}

/*
 * CowBeginIndexScan begins the index scan of an Index Scan node on an
 * incetl_cow table that reads some of its columns only, as IndexNext and
 * IndexNextWithReorder begin it (with the scan keys the node made, when
 * the keys need no computing at run time), and tells its table fetch
 * those columns (CowIndexScanColumns).  A lookup then decodes only those
 * columns of its row, where the slot's deforming asks for every column up
 * to the last one read.
 */
static void
CowBeginIndexScan(IndexScanState *iss)
{
	Relation	rel = iss->ss.ss_currentRelation;
	EState	   *estate = iss->ss.ps.state;
	MemoryContext old;
	Bitmapset  *needed;

	if (!CowIndexScanColumns(iss, &needed))
		return;
	old = MemoryContextSwitchTo(estate->es_query_cxt);
	iss->iss_ScanDesc = index_beginscan(rel, iss->iss_RelationDesc,
										estate->es_snapshot,
										iss->iss_NumScanKeys,
										iss->iss_NumOrderByKeys);
	if (iss->iss_NumRuntimeKeys == 0 || iss->iss_RuntimeKeysReady)
		index_rescan(iss->iss_ScanDesc,
					 iss->iss_ScanKeys, iss->iss_NumScanKeys,
					 iss->iss_OrderByKeys, iss->iss_NumOrderByKeys);
	CowIndexFetchSetColumns(iss->iss_ScanDesc->xs_heapfetch, needed);
	MemoryContextSwitchTo(old);
}

/*
 * CowIndexScanFirst runs in place of an Index Scan's ExecIndexScan
 * (CowIndexScanReal: the same function for every Index Scan node) until
 * its first call, on an incetl_cow table.  PostgreSQL begins the node's
 * index scan on that call (IndexNext), or, for a parallel-aware node, on
 * the shared state its Gather sets up (in the leader, and in each worker
 * at its start): here, just before the node fetches its first row, a scan
 * not begun yet is begun as IndexNext would begin it, and the fetch of
 * one begun on the shared state is told its columns
 * (CowIndexScanColumns).  Then the node gets its own function back.  A
 * node that never runs begins nothing.
 */
static ExecProcNodeMtd CowIndexScanReal = NULL;

static TupleTableSlot *
CowIndexScanFirst(PlanState *ps)
{
	IndexScanState *iss = (IndexScanState *) ps;
	Bitmapset  *needed;

	if (iss->iss_ScanDesc == NULL)
		CowBeginIndexScan(iss);
	else if (CowIndexScanColumns(iss, &needed))
		CowIndexFetchSetColumns(iss->iss_ScanDesc->xs_heapfetch, needed);
	ps->ExecProcNodeReal = CowIndexScanReal;
	if (ps->ExecProcNode == CowIndexScanFirst)
		ps->ExecProcNode = CowIndexScanReal;
	return CowIndexScanReal(ps);
}

/*
 * CowHintBitmapScan hands the scan of a Bitmap Heap Scan on an incetl_cow
 * table (begun by the node's initialization) the columns its plan reads,
 * with those of the index quals it rechecks on the rows of a lossy page or
 * from a lossy index (bitmapqualorig): the others read as NULL.
 */
static void
CowHintBitmapScan(BitmapHeapScanState *bs)
{
	BitmapHeapScan *plan = (BitmapHeapScan *) bs->ss.ps.plan;
	Relation	rel = bs->ss.ss_currentRelation;
	Bitmapset  *needed;
	bool		all;

	CowScanColumns(&bs->ss.ps, &plan->scan, rel, plan->bitmapqualorig,
				   &all, &needed);
	if (!all)
		CowScanSetHints(bs->ss.ss_currentScanDesc, all, needed, NIL, NIL);
}

/*
 * CowParallelSeqScanFirst runs in place of a Parallel Seq Scan's
 * ExecSeqScan (CowSeqScanReal: the same function for every SeqScan node)
 * until its first call: it hints the scan the node's Gather began on the
 * shared state -- in the leader and in each worker, whose executor start
 * runs this hook too -- or begins a hinted serial one when no shared state
 * was set up (no worker planned), as SeqNext would, then gives the node its
 * own function back.
 */
static TupleTableSlot *
CowParallelSeqScanFirst(PlanState *ps)
{
	SeqScanState *ss = (SeqScanState *) ps;
	ExecProcNodeMtd exec;

	if (ss->ss.ss_currentScanDesc == NULL)
		ss->ss.ss_currentScanDesc = table_beginscan(ss->ss.ss_currentRelation,
													ps->state->es_snapshot,
													0, NULL);
	exec = CowHintScan(ss, ss->ss.ss_currentScanDesc) ?
		CowSeqScanKeyRange : CowSeqScanReal;
	ps->ExecProcNodeReal = exec;
	if (ps->ExecProcNode == CowParallelSeqScanFirst)
		ps->ExecProcNode = exec;
	return exec(ps);
}

/*
 * CowBeginOnConflictOf: an INSERT ... ON CONFLICT into rel starts.  Every
 * incetl_cow table it may write -- rel, or the partitions of a partitioned
 * rel, which tuple routing may reach -- takes the writers' lock now,
 * before the first arbiter check, and its arbiter checks see the rows the
 * statement buffers (CowBeginOnConflict, cow_write_state.c).  DO UPDATE
 * locks the conflicting row (tuple_lock, cow_row_lock.c), which the
 * writers' lock already covers.
 */
static void
CowBeginOnConflictOf(Relation rel)
{
	List	   *relids;
	ListCell   *lc;

	if (rel->rd_rel->relkind == RELKIND_PARTITIONED_TABLE)
		relids = find_all_inheritors(RelationGetRelid(rel), RowExclusiveLock, NULL);
	else
		relids = list_make1_oid(RelationGetRelid(rel));
	foreach(lc, relids)
	{
		Relation	r = table_open(lfirst_oid(lc), NoLock);

		if (CowIsCowRelation(r))
			CowBeginOnConflict(r);
		table_close(r, NoLock);
	}
	list_free(relids);
}

/*
 * CowBeginScansWalker begins the scan of every SeqScan on an incetl_cow
 * table, with the needed columns and skip quals, has every Index Scan on
 * one hand the columns it reads to its fetch on its first call
 * (CowIndexScanFirst), and
 * turns off what a Bitmap Heap Scan of one would do with pages and hands
 * its scan its columns (CowHintBitmapScan).
 */
static bool
CowBeginScansWalker(PlanState *ps, void *context)
{
	if (ps == NULL)
		return false;
	if (IsA(ps, ModifyTableState))
	{
		ModifyTableState *mt = (ModifyTableState *) ps;
		ModifyTable *plan = (ModifyTable *) ps->plan;
		int			i;

		for (i = 0; plan->onConflictAction != ONCONFLICT_NONE && i < mt->mt_nrels; i++)
			CowBeginOnConflictOf(mt->resultRelInfo[i].ri_RelationDesc);
	}
	if (IsA(ps, SeqScanState))
	{
		SeqScanState *ss = (SeqScanState *) ps;
		Relation	rel = ss->ss.ss_currentRelation;

		if (CowIsCowRelation(rel) && ss->ss.ss_currentScanDesc == NULL)
		{
			if (CowSeqScanReal == NULL)
				CowSeqScanReal = ps->ExecProcNodeReal;
			if (ps->plan->parallel_aware)
			{
				/*
				 * A Parallel Seq Scan's scan is begun by the Gather that
				 * sets up its shared state (or by SeqNext when none was
				 * set up), after this hook: hint it on its first call.
				 */
				if (ps->ExecProcNodeReal == CowSeqScanReal)
					ps->ExecProcNodeReal = CowParallelSeqScanFirst;
			}
			else
			{
				TableScanDesc scan = table_beginscan(rel, ps->state->es_snapshot,
													 0, NULL);

				ss->ss.ss_currentScanDesc = scan;
				if (CowHintScan(ss, scan) &&
					ps->ExecProcNodeReal == CowSeqScanReal)
					ps->ExecProcNodeReal = CowSeqScanKeyRange;
			}
		}
	}
	if (IsA(ps, IndexScanState))
	{
		IndexScanState *iss = (IndexScanState *) ps;

		/* the node's scan is begun on its first call: hint it then */
		if (iss->iss_ScanDesc == NULL && iss->iss_RelationDesc != NULL &&
			CowIsCowRelation(iss->ss.ss_currentRelation))
		{
			if (CowIndexScanReal == NULL)
				CowIndexScanReal = ps->ExecProcNodeReal;
			if (ps->ExecProcNodeReal == CowIndexScanReal)
				ps->ExecProcNodeReal = CowIndexScanFirst;
		}
	}
	if (IsA(ps, BitmapHeapScanState))
	{
		BitmapHeapScanState *bs = (BitmapHeapScanState *) ps;

		/*
		 * A TID block of an incetl_cow table is a range of row numbers, not
		 * a page: prefetching it would read past the end of the file (an
		 * error beyond the first segment), and the visibility map, which
		 * the node reads to skip fetches, does not describe our rows.
		 */
		if (CowIsCowRelation(bs->ss.ss_currentRelation))
		{
			bs->prefetch_maximum = 0;
			bs->can_skip_fetch = false;
			if (bs->ss.ss_currentScanDesc != NULL)
				CowHintBitmapScan(bs);
		}
	}
	return planstate_tree_walker(ps, CowBeginScansWalker, context);
}

/* does the plan hold an INSERT ... ON CONFLICT (a ModifyTable with one)? */
static bool
CowOnConflictWalker(PlanState *ps, void *context)
{
	if (ps == NULL)
		return false;
	if (IsA(ps, ModifyTableState) &&
		((ModifyTable *) ps->plan)->onConflictAction != ONCONFLICT_NONE)
		return true;
	return planstate_tree_walker(ps, CowOnConflictWalker, context);
}

/*
 * CowSkipExecutorIndexing: the executor indexes each row an INSERT (or
 * MERGE's INSERT action) inserts, at the TID tuple_insert gave it -- for
 * incetl_cow a pending TID, which never names a stored row: the merge
 * indexes the rows where it stores them and checks unique and exclusion
 * constraints then (cow_unique.c).  Entries at pending TIDs serve only an
 * INSERT ... ON CONFLICT, whose arbiter checks find the statement's own
 * buffered rows through them; anywhere else they cost an index insertion
 * per row and stay, finding nothing, until a write marks them dead or
 * VACUUM removes them -- a GIN index never marks them, so a Bitmap Index
 * Scan counted them.  So the indexes of the incetl_cow result relations of
 * a query with no ON CONFLICT are made not ready for the executor's
 * inserts (ii_ReadyForInserts, in the executor's own IndexInfo: the merge
 * opens the indexes itself); an UPDATE's new rows are not indexed by the
 * executor either (cow_tuple_update's update_indexes).  Partitions opened
 * later by tuple routing, and COPY, which runs no executor, still index
 * at pending TIDs.
 */
static void
CowSkipExecutorIndexing(QueryDesc *queryDesc)
{
	EState	   *estate = queryDesc->estate;
	ListCell   *lc;
	bool		any = false;

	if (queryDesc->operation == CMD_DELETE)
		return;					/* indexes nothing */
	foreach(lc, estate->es_opened_result_relations)
	{
		ResultRelInfo *rri = lfirst(lc);

		if (RelationGetForm(rri->ri_RelationDesc)->relhasindex &&
			CowIsCowRelation(rri->ri_RelationDesc))
			any = true;
	}
	if (!any)
		return;
	if (CowOnConflictWalker(queryDesc->planstate, NULL))
		return;
	foreach(lc, estate->es_subplanstates)
	{
		if (CowOnConflictWalker((PlanState *) lfirst(lc), NULL))
			return;
	}
	foreach(lc, estate->es_opened_result_relations)
	{
		ResultRelInfo *rri = lfirst(lc);
		int			i;

		if (!RelationGetForm(rri->ri_RelationDesc)->relhasindex ||
			!CowIsCowRelation(rri->ri_RelationDesc))
			continue;

		/*
		 * The executor opens them at the first row (ExecInsert, ExecUpdate)
		 * unless they are open: open them now, where it would.
		 */
		if (rri->ri_IndexRelationDescs == NULL)
		{
			MemoryContext old = MemoryContextSwitchTo(estate->es_query_cxt);

			ExecOpenIndices(rri, false);
			MemoryContextSwitchTo(old);
		}
		for (i = 0; i < rri->ri_NumIndices; i++)
			rri->ri_IndexRelationInfo[i]->ii_ReadyForInserts = false;
	}
}

static void
cow_ExecutorStart(QueryDesc *queryDesc, int eflags)
{
	if (prev_ExecutorStart)
		prev_ExecutorStart(queryDesc, eflags);
	else
		standard_ExecutorStart(queryDesc, eflags);

	if (!(eflags & EXEC_FLAG_EXPLAIN_ONLY) && queryDesc->planstate != NULL)
	{
		CowBeginScansWalker(queryDesc->planstate, NULL);
		CowSkipExecutorIndexing(queryDesc);
	}
}

/*
 * CowFlushQueryRelations merges the buffered rows of the tables a finishing
 * query wrote: its result relations, and the partitions it routed rows to.
 * Only those: a query nested in a writing statement (a function in its
 * target list or quals reading the table) must not merge the rows and
 * deletes that statement has buffered so far -- the statement would then
 * go on deleting row numbers of versions the merge replaced.
 */
static void
CowFlushQueryRelations(EState *estate)
{
	List	   *lists[2];
	int			i;

	lists[0] = estate->es_opened_result_relations;
	lists[1] = estate->es_tuple_routing_result_relations;
	for (i = 0; i < lengthof(lists); i++)
	{
		ListCell   *lc;

		foreach(lc, lists[i])
		{
			ResultRelInfo *rri = lfirst(lc);

			if (CowIsCowRelation(rri->ri_RelationDesc))
				CowFlushRelation(RelationGetRelid(rri->ri_RelationDesc));
		}
	}
}

static void
cow_ExecutorFinish(QueryDesc *queryDesc)
{
	EState	   *estate = queryDesc->estate;

	/*
	 * Merge the statement's rows before its AFTER STATEMENT triggers fire
	 * (standard_ExecutorFinish fires them), so that they see the rows --
	 * unless data-modifying CTEs are still to be run to completion there:
	 * their rows belong to the same merge.
	 */
	if (CowHasPending() && !IsInParallelMode() &&
		estate != NULL && estate->es_auxmodifytables == NIL)
	{
		/* the query's after-trigger level is open: rechecks can be queued */
		PG_TRY();
		{
			CowAfterTriggerQueueOpen = true;
			CowFlushQueryRelations(estate);
		}
		PG_FINALLY();
		{
			CowAfterTriggerQueueOpen = false;
		}
		PG_END_TRY();
	}

	if (prev_ExecutorFinish)
		prev_ExecutorFinish(queryDesc);
	else
		standard_ExecutorFinish(queryDesc);

	if (CowHasPending() && !IsInParallelMode() && estate != NULL)
		CowFlushQueryRelations(estate);
}

/*
 * The planner reads the current versions of an incetl_cow table twice while
 * it builds the table's RelOptInfo: estimate_rel_size
 * (cow_relation_estimate_size, for the row count) and then the
 * get_relation_info hook (CowParallelWorkers, for the raw bytes and file
 * groups).  CowPlanVersionTotals loads them once and keeps the totals;
 * CowTakePlanTotals hands them to the second reader when it asks for the
 * same relation (and storage) in the same command of the same transaction,
 * and forgets them either way: a total is taken at most once, so what a
 * later planning sees is never older than its own command.
 */
typedef struct CowPlanTotals
{
	bool		valid;
	Oid			relid;
	RelFileNode node;
	LocalTransactionId lxid;
	CommandId	cid;
	double		raw_bytes;
	int			nversions;
} CowPlanTotals;

static CowPlanTotals cow_plan_totals;

/*
 * Every snapshot taken while no transaction ends sees the same versions:
 * GetSnapshotData gives such snapshots the same snapXactCompletionCount
 * (and the same contents); and a transaction that has written nothing (no
 * xid) has no rows of its own to see at any command id.  So the totals of
 * a relation's current versions are kept per backend, keyed by relation,
 * file (relfilenode) and that count -- not by storage id, read from the
 * metapage only when they are not kept: a new storage id comes with a
 * write, which ends a transaction -- and a stream of plans of one table
 * (point lookups: each statement planned anew) loads its versions again
 * only after some transaction ends.  Not kept on a standby, nor for a transaction with an
 * xid, nor for a snapshot without a count.  A few entries, replaced in
 * turn.
 */
#define COW_PLAN_CACHE_SIZE		8

typedef struct CowPlanCacheEntry
{
	bool		valid;
	Oid			relid;
	RelFileNode node;
	uint64		completions;	/* snapXactCompletionCount */
	double		rows;
	double		raw_bytes;
	int			nversions;
} CowPlanCacheEntry;

static CowPlanCacheEntry cow_plan_cache[COW_PLAN_CACHE_SIZE];
static int	cow_plan_cache_next = 0;

void
CowPlanVersionTotals(Relation rel, double *rows, double *raw_bytes,
					 int *nversions)
{
	Snapshot	latest = GetLatestSnapshot();

	/* (a registered copy of a snapshot has no count) */
	uint64		completions = latest->snapXactCompletionCount;
	Snapshot	snap = RegisterSnapshot(latest);
	bool		cacheable;
	int			n,
				i;
	CowVersion *v;
	CowPlanCacheEntry *e = NULL;

	cacheable = completions != 0 && !RecoveryInProgress() &&
		!TransactionIdIsValid(GetTopTransactionIdIfAny());
	for (i = 0; cacheable && i < COW_PLAN_CACHE_SIZE; i++)
	{
		if (cow_plan_cache[i].valid &&
			cow_plan_cache[i].relid == RelationGetRelid(rel) &&
			RelFileNodeEquals(cow_plan_cache[i].node, rel->rd_node) &&
			cow_plan_cache[i].completions == completions)
		{
			e = &cow_plan_cache[i];
			break;
		}
	}
	if (e != NULL)
	{
		UnregisterSnapshot(snap);
		*rows = e->rows;
		*raw_bytes = e->raw_bytes;
		n = e->nversions;
	}
	else
	{
		v = CowCurrentVersions(rel, snap, &n);
		UnregisterSnapshot(snap);
		*rows = 0;
		*raw_bytes = 0;
		for (i = 0; i < n; i++)
		{
			*rows += v[i].row_count;
			*raw_bytes += v[i].raw_bytes;
		}
		if (v != NULL)
			pfree(v);
		if (cacheable)
		{
			for (i = 0; i < COW_PLAN_CACHE_SIZE; i++)
				if (cow_plan_cache[i].valid &&
					cow_plan_cache[i].relid == RelationGetRelid(rel) &&
					RelFileNodeEquals(cow_plan_cache[i].node, rel->rd_node))
					break;
			if (i == COW_PLAN_CACHE_SIZE)
			{
				i = cow_plan_cache_next;
				cow_plan_cache_next = (i + 1) % COW_PLAN_CACHE_SIZE;
			}
			e = &cow_plan_cache[i];
			e->valid = true;
			e->relid = RelationGetRelid(rel);
			e->node = rel->rd_node;
			e->completions = completions;
			e->rows = *rows;
			e->raw_bytes = *raw_bytes;
			e->nversions = n;
		}
	}
	*nversions = n;

	cow_plan_totals.valid = true;
	cow_plan_totals.relid = RelationGetRelid(rel);
	cow_plan_totals.node = rel->rd_node;
	cow_plan_totals.lxid = MyProc->lxid;
	cow_plan_totals.cid = GetCurrentCommandId(false);
	cow_plan_totals.raw_bytes = *raw_bytes;
	cow_plan_totals.nversions = n;
}

static bool
CowTakePlanTotals(Relation rel, double *raw_bytes, int *nversions)
{
	bool		valid = cow_plan_totals.valid &&
		cow_plan_totals.relid == RelationGetRelid(rel) &&
		RelFileNodeEquals(cow_plan_totals.node, rel->rd_node) &&
		cow_plan_totals.lxid == MyProc->lxid &&
		cow_plan_totals.cid == GetCurrentCommandId(false);

	cow_plan_totals.valid = false;
	if (valid)
	{
		*raw_bytes = cow_plan_totals.raw_bytes;
		*nversions = cow_plan_totals.nversions;
	}
	return valid;
}

/*
 * CowParallelWorkers sizes a parallel scan of an incetl_cow table as
 * compute_parallel_worker sizes a heap's, but by the pages its rows would
 * take in a heap (the raw bytes of its current file groups), not by its
 * compressed pages, which would give a well-compressed table too few
 * workers; and no more participants (workers and the leader) than file
 * groups, the unit they share out.
 */
static int
CowParallelWorkers(Relation r)
{
	double		rows;
	double		raw;
	int			n,
				workers;
	double		pages;
	double		threshold;

	if (!CowTakePlanTotals(r, &raw, &n))
	{
		CowPlanVersionTotals(r, &rows, &raw, &n);
		(void) CowTakePlanTotals(r, &raw, &n);
	}
	pages = raw / BLCKSZ;
	if (n < 2 || pages < (double) min_parallel_table_scan_size)
		return 0;
	workers = 1;
	threshold = Max(min_parallel_table_scan_size, 1);
	while (pages >= threshold * 3 && workers < n - 1)
	{
		workers++;
		threshold *= 3;
	}
	return workers;
}

static void
cow_get_relation_info(PlannerInfo *root, Oid relationObjectId, bool inhparent,
					  RelOptInfo *rel)
{
	Relation	r;

	if (prev_get_relation_info)
		prev_get_relation_info(root, relationObjectId, inhparent, rel);

	r = table_open(relationObjectId, NoLock);
	if (CowIsCowRelation(r))
	{
		/*
		 * Planning without parallel mode is plan_create_index_workers
		 * sizing an index build (for an "inheritance parent"): those are
		 * serial (cow_index.c).  Else the parallel_workers storage
		 * parameter, when set, is taken as for heap; the planner caps it
		 * by max_parallel_workers_per_gather.
		 */
		if (root->glob == NULL || !root->glob->parallelModeOK)
			rel->rel_parallel_workers = 0;
		else if (!inhparent && rel->rel_parallel_workers == -1 &&
				 max_parallel_workers_per_gather > 0 &&
				 rel->pages > 0)
			rel->rel_parallel_workers = CowParallelWorkers(r);
	}
	table_close(r, NoLock);
}

/*
 * CowIsTidEqualClause: is rinfo "ctid = expr" or "ctid = ANY (array)" on
 * rel, expr not depending on rel and not volatile (what tidpath.c takes)?
 */
static bool
CowIsTidEqualClause(RestrictInfo *rinfo, RelOptInfo *rel)
{
	Node	   *clause = (Node *) rinfo->clause;
	List	   *args;
	Node	   *var,
			   *other;

	if (rinfo->pseudoconstant)
		return false;
	if (IsA(clause, OpExpr) && ((OpExpr *) clause)->opno == TIDEqualOperator)
		args = ((OpExpr *) clause)->args;
	else if (IsA(clause, ScalarArrayOpExpr) &&
			 ((ScalarArrayOpExpr *) clause)->opno == TIDEqualOperator &&
			 ((ScalarArrayOpExpr *) clause)->useOr)
		args = ((ScalarArrayOpExpr *) clause)->args;
	else
		return false;
	if (list_length(args) != 2)
		return false;
	var = linitial(args);
	other = lsecond(args);
	if (!IsA(var, Var) && IsA(clause, OpExpr))
	{
		var = lsecond(args);
		other = linitial(args);
	}
	if (!IsA(var, Var) || ((Var *) var)->varattno != SelfItemPointerAttributeNumber ||
		((Var *) var)->varno != rel->relid || ((Var *) var)->varlevelsup != 0)
		return false;
	return !bms_is_member(rel->relid, pull_varnos(NULL, other)) &&
		!contain_volatile_functions(other);
}

/*
 * CowKeyRangeSeqPath: rel's unparameterized serial sequential scan path,
 * made anew when add_path dropped it (*made) and may_make, or NULL when
 * none is kept and none is to be made (nor can be: a relation with
 * lateral references, whose paths are all parameterized).
 */
static Path *
CowKeyRangeSeqPath(PlannerInfo *root, RelOptInfo *rel, bool may_make,
				   bool *made)
{
	ListCell   *lc;

	*made = false;
	foreach(lc, rel->pathlist)
	{
		Path	   *path = lfirst(lc);

		if (path->pathtype == T_SeqScan && PATH_REQ_OUTER(path) == NULL)
			return path;
	}
	if (!may_make || !bms_is_empty(rel->lateral_relids))
		return NULL;
	*made = true;
	return create_seqscan_path(root, rel, NULL, 0);
}

/*
 * CowKeyRangeSelectivity: the selectivity of rel's restriction clauses
 * that are skip quals on the first column of r's record key (a scan reads
 * of each file group only their key range, and skips the groups min/max
 * rule out: CowScanKeyRange, and the aggregate pushdown's block skipping),
 * or 1.0 when r has no record key or there are none.
 */
Selectivity
CowKeyRangeSelectivity(PlannerInfo *root, RelOptInfo *rel, Relation r)
{
	List	   *clauses = NIL;
	ListCell   *lc;
	AttrNumber	key;
	Snapshot	snap;
	Selectivity sel;
	Selectivity cap = 1.0;

	if (rel->baserestrictinfo == NIL)
		return 1.0;
	snap = RegisterSnapshot(GetLatestSnapshot());
	key = CowFirstKeyAttnum(r, snap);
	UnregisterSnapshot(snap);
	if (key == InvalidAttrNumber)
		return 1.0;
	foreach(lc, rel->baserestrictinfo)
	{
		RestrictInfo *rinfo = lfirst(lc);
		List	   *q;
		Var		   *var;
		Oid			geop,
					leop;
		Const	   *least,
				   *greatest;
		Datum	   *elems;
		int			nelems;

		/*
		 * An IN list reads the range of its elements, not its rows, and of
		 * that range only the blocks an element lies in, or, of a short
		 * list, the rows it searches: the range's selectivity, at most a
		 * block's rows per element (or its search's), lest a list of
		 * scattered keys plan as a key-range scan over most of the table
		 * or as a parallel scan of a few blocks
		 */
		if (CowArrayBounds((Node *) rinfo->clause, rel->relid, r, &var,
						   &geop, &leop, &least, &greatest, &elems, &nelems))
		{
			ScalarArrayOpExpr *saop = (ScalarArrayOpExpr *) rinfo->clause;
			Expr	   *column = linitial(saop->args);	/* as the list has it */

			pfree(elems);
			if (var->varattno != key)
				continue;
			/*
			 * a short list's elements are searched one by one: each costs
			 * its rows, and its search about a hundred rows' worth (the
			 * single values it probes), about what a btree lookup costs
			 */
			if (rel->tuples > 0 && nelems <= COW_SCAN_MAX_POINTS)
				cap = Min(cap, Max(clause_selectivity(root, (Node *) rinfo, 0,
													  JOIN_INNER, NULL),
								   (double) nelems * 128 / rel->tuples));
			else if (rel->tuples > 0)
				cap = Min(cap, (double) nelems * COW_BLOCK_ROWS / rel->tuples);
			clauses = lappend(clauses,
							  make_opclause(geop, BOOLOID, false, column,
											(Expr *) least, InvalidOid,
											saop->inputcollid));
			clauses = lappend(clauses,
							  make_opclause(leop, BOOLOID, false, column,
											(Expr *) greatest, InvalidOid,
											saop->inputcollid));
			continue;
		}
		q = CowExtractSkipQuals(list_make1(rinfo->clause), rel->relid, r);
		if (q != NIL && ((CowSkipQual *) linitial(q))->attidx == key - 1)
			clauses = lappend(clauses, rinfo);
	}
	if (clauses == NIL)
		return 1.0;
	sel = clauselist_selectivity(root, clauses, rel->relid, JOIN_INNER, NULL);
	list_free(clauses);
	return Min(Min(sel, cap), 1.0);
}

/*
 * CowCostKeyRange: a sequential scan of an incetl_cow table with a record
 * key, restricted by skip quals on the key's first column, reads of each
 * file group only the key range (cow_scan.c, CowScanKeyRange) and skips
 * the groups min/max rule out: its run cost is scaled by the selectivity of
 * those quals (CowKeyRangeSelectivity), serial and partial paths alike, so
 * that a narrow range is not planned as a Gather of workers that each
 * start up for a few rows.  The aggregate pushdown (cow_agg.c) scales its
 * scan's cost likewise, so sum(amount) over a narrow key range is not
 * planned as a Gather either.
 *
 * The file groups are sorted by the key, so for such quals the table is
 * its own clustered index: a key range read this way decodes each
 * column's rows of the range in one pass, where an index scan on the key
 * fetches them one TID at a time (for a range of 100 rows it takes about
 * half the time; see doc/incetl_cow.md, Figures).  add_path has usually
 * dropped the serial sequential path by then, its unscaled cost being far
 * above an index path's: it is then made again and weighed against the
 * index paths at its scaled cost, unless the quals select a single row: a
 * point lookup through an index fetches its row directly, where the key
 * range's search probes the key column first.  Quals comparing the key
 * with a parameter instead of a constant (a generic plan, the inner side
 * of a nested loop) are not skip quals: those still plan through an
 * index.
 */
static void
CowCostKeyRange(PlannerInfo *root, RelOptInfo *rel, Relation r)
{
	ListCell   *lc;
	Selectivity sel;
	Path	   *seq;
	bool		made;

	sel = CowKeyRangeSelectivity(root, rel, r);
	if (sel >= 1.0)
		return;
	seq = CowKeyRangeSeqPath(root, rel, sel * rel->tuples >= 2.0, &made);
	if (seq != NULL)
	{
		seq->total_cost = seq->startup_cost +
			(seq->total_cost - seq->startup_cost) * sel;
		if (made)
			add_path(rel, seq);
	}
	foreach(lc, rel->partial_pathlist)
	{
		Path	   *path = lfirst(lc);

		if (path->pathtype == T_SeqScan)
			path->total_cost = path->startup_cost +
				(path->total_cost - path->startup_cost) * sel;
	}
}

/*
 * CowNoPhysicalTlist keeps the planner from giving the scans of rel a
 * "physical" target list (every column): use_physical_tlist (createplan.c)
 * declines a relation that has a system column needed above it, and
 * tableoid is marked as needed by the final output.  Join removal, the one
 * other reader of attr_needed that could see the mark, has run before
 * set_rel_pathlist; the mark adds nothing to the relation's target list.
 *
 * It is done only where the columns needed above the scan (rel's
 * reltarget, final by now) are not all among the query's selectedCols for
 * the relation, which a scan with a physical target list decodes
 * (CowHintScan): the rewriter gives a rule's action the rule's references
 * to OLD as Vars of the original query's range table entry, whose
 * selectedCols are the original query's (an UPDATE's rule inserting
 * OLD.a into a log, a joined query scanning the table, would read a as
 * NULL).  Such a scan keeps the exact target list, which names them.
 */
static void
CowNoPhysicalTlist(RelOptInfo *rel, RangeTblEntry *rte)
{
	int			ndx = TableOidAttributeNumber - rel->min_attr;
	Bitmapset  *attrs = NULL;
	int			whole = InvalidAttrNumber - FirstLowInvalidHeapAttributeNumber;
	int			x = -1;

	if (bms_is_member(whole, rte->selectedCols))
		return;
	pull_varattnos((Node *) rel->reltarget->exprs, rel->relid, &attrs);
	while ((x = bms_next_member(attrs, x)) >= 0)
	{
		if (x + FirstLowInvalidHeapAttributeNumber > 0 &&
			!bms_is_member(x, rte->selectedCols))
			break;
	}
	if (x < 0)
		return;
	if (ndx >= 0 && ndx <= rel->max_attr - rel->min_attr &&
		bms_is_empty(rel->attr_needed[ndx]))
		rel->attr_needed[ndx] = bms_make_singleton(0);
}

/*
 * A scan of an incetl_cow table restricted by "ctid = ..." (or = ANY) is a
 * Tid Scan, whatever the costs: only a TID fetch follows a row this
 * transaction carried into a new file group version to its new TID
 * (cow_tuple_fetch_row_version), as a heap TID stays valid; a Seq Scan's
 * filter would compare the row's new TID with the old one.  (add_path
 * has usually dropped the Tid path as dearer already: make it again.)
 */
static void
cow_set_rel_pathlist(PlannerInfo *root, RelOptInfo *rel, Index rti,
					 RangeTblEntry *rte)
{
	ListCell   *lc;
	List	   *keep = NIL;
	RestrictInfo *tidqual = NULL;

	if (prev_set_rel_pathlist)
		prev_set_rel_pathlist(root, rel, rti, rte);
	if (rte->rtekind != RTE_RELATION || rte->relkind != RELKIND_RELATION ||
		(rel->reloptkind != RELOPT_BASEREL &&
		 rel->reloptkind != RELOPT_OTHER_MEMBER_REL) ||
		rte->tablesample != NULL)
		return;
	if (!CowRelidIsCow(rte->relid))
		return;
	CowNoPhysicalTlist(rel, rte);
	if (rel->baserestrictinfo == NIL)
		return;
	foreach(lc, rel->baserestrictinfo)
	{
		if (CowIsTidEqualClause(lfirst(lc), rel))
		{
			tidqual = lfirst(lc);
			break;
		}
	}
	if (tidqual == NULL)
	{
		Relation	r;

		/*
		 * A single row an unparameterized index path finds by itself: the
		 * key-range costing would keep that path anyway (CowCostKeyRange),
		 * so a point lookup through a btree skips it
		 */
		foreach(lc, rel->pathlist)
		{
			Path	   *path = lfirst(lc);

			if (IsA(path, IndexPath) && PATH_REQ_OUTER(path) == NULL &&
				((IndexPath *) path)->indexselectivity * rel->tuples < 2.0)
				return;
		}
		r = table_open(rte->relid, NoLock);

		CowCostKeyRange(root, rel, r);
		table_close(r, NoLock);
		return;
	}
	foreach(lc, rel->pathlist)
	{
		Path	   *path = lfirst(lc);

		if (PATH_REQ_OUTER(path) != NULL)
			keep = lappend(keep, path);
	}
	keep = lappend(keep, create_tidscan_path(root, rel, list_make1(tidqual), NULL));
	rel->pathlist = keep;
	rel->partial_pathlist = NIL;
}

static void
cow_object_access(ObjectAccessType access, Oid classId, Oid objectId,
				  int subId, void *arg)
{
	if (prev_object_access)
		prev_object_access(access, classId, objectId, subId, arg);

	if (access == OAT_DROP && classId == RelationRelationId && subId == 0 &&
		get_rel_relkind(objectId) == RELKIND_RELATION)
	{
		HeapTuple	ctup = SearchSysCache1(RELOID, ObjectIdGetDatum(objectId));
		Oid			am;
		Relation	rel;

		if (!HeapTupleIsValid(ctup))
			return;
		am = ((Form_pg_class) GETSTRUCT(ctup))->relam;
		ReleaseSysCache(ctup);
		if (!OidIsValid(am) || am != CowTableAmOid())
			return;
		/* DROP TABLE holds AccessExclusiveLock already */
		rel = try_relation_open(objectId, NoLock);
		if (rel == NULL)
			return;
		if (CowIsCowRelation(rel) &&
			OidIsValid(CowCatalogRelid("cow_file_group", true)) &&
			OidIsValid(CowCatalogRelid("cow_options", true)))
		{
			Relation	opts;
			SysScanDesc scan;
			ScanKeyData key;
			HeapTuple	tup;

			CowDiscardRelation(objectId);
			if (CowPhysicalBlocks(rel) > 0)
				CowDeleteStorageMetadata(CowStorageIdAnyVersion(rel));
			opts = table_open(CowCatalogRelid("cow_options", false), RowExclusiveLock);
			ScanKeyInit(&key, 1, BTEqualStrategyNumber, F_OIDEQ,
						ObjectIdGetDatum(objectId));
			scan = CowCatalogScan(opts, NULL, &key);
			while (HeapTupleIsValid(tup = systable_getnext(scan)))
				CatalogTupleDelete(opts, &tup->t_self);
			systable_endscan(scan);
			table_close(opts, RowExclusiveLock);
		}
		relation_close(rel, NoLock);
	}
}

/*
 * The OID of the incetl_cow access method in this database (InvalidOid
 * when incetl is not installed), looked up once and again after any change
 * to pg_am (CREATE or DROP EXTENSION): every query's planning asks it of
 * each table it reads (cow_set_rel_pathlist), heap tables included, and a
 * lookup by name costs more than the rest of that question.
 */
static Oid	CowAmOid = InvalidOid;
static bool CowAmOidValid = false;
static uint64 CowAmOidInvals = 0;

static void
CowAmOidInvalidate(Datum arg, int cacheid, uint32 hashvalue)
{
	CowAmOidValid = false;
	CowAmOidInvals++;
}

static Oid
CowTableAmOid(void)
{
	if (!CowAmOidValid)
	{
		uint64		invals = CowAmOidInvals;
		Oid			am = get_table_am_oid("incetl_cow", true);

		/* kept only if no invalidation came in while it was looked up */
		CowAmOid = am;
		CowAmOidValid = (invals == CowAmOidInvals);
	}
	return CowAmOid;
}

/*
 * CowRelidIsCow: is relid an incetl_cow table?  By its pg_class row, without
 * opening (or locking) it.
 */
bool
CowRelidIsCow(Oid relid)
{
	HeapTuple	ctup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	bool		is_cow = false;

	if (HeapTupleIsValid(ctup))
	{
		Form_pg_class form = (Form_pg_class) GETSTRUCT(ctup);

		is_cow = form->relkind == RELKIND_RELATION && OidIsValid(form->relam) &&
			form->relam == CowTableAmOid();
		ReleaseSysCache(ctup);
	}
	return is_cow;
}

/*
 * CowCheckIndexStmt refuses, before it starts, a CREATE INDEX on an
 * incetl_cow table with an access method its build would refuse (one
 * other than btree, hash, gist, spgist, gin or brin: cow_index.c).  The
 * build's own refusal comes too late in two cases: CREATE INDEX
 * CONCURRENTLY commits the new index's catalog entry before building it,
 * so a refusal from the build would leave an INVALID index behind; and an
 * access method's build may look at the index before it scans the table
 * (BRIN's asserts that the index is BRIN's own, not another access method
 * over brinhandler).  Other concurrent builds, and REINDEX CONCURRENTLY
 * (whose indexes were built already), run: their validation pass is
 * cow_index_validate_scan (a unique index's inserts the rows the index
 * lacks with the uniqueness check, as heap's does; a BRIN index's bulk
 * delete lists no TIDs, so its pass inserts every current row, which
 * widens the ranges the build summarized, as on heap).
 */
static void
CowCheckIndexStmt(Node *parsetree)
{
	IndexStmt  *stmt;
	Oid			relid;
	Oid			am;

	if (!IsA(parsetree, IndexStmt))
		return;
	stmt = (IndexStmt *) parsetree;
	relid = RangeVarGetRelid(stmt->relation, NoLock, true);
	if (!OidIsValid(relid) || !CowRelidIsCow(relid))
		return;
	am = get_index_am_oid(stmt->accessMethod, true);
	if (OidIsValid(am) && !CowIndexAmAllowed(am))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("index access method \"%s\" is not supported on incetl_cow table \"%s\"",
						stmt->accessMethod, get_rel_name(relid)),
				 errhint("Use btree, hash, gist, spgist, gin or brin.")));
}

/*
 * Publications.  incetl_cow tables are published as heap tables are: a
 * write logs its rows for logical decoding (cow_logical.c, cow_decode.c).
 * A FOR ALL TABLES publication also publishes incetl's own tables -- the
 * catalogs of incetl_cow storage (incetl.cow_file_group, cow_commit, ...)
 * whose rows describe this database's files, and the pipeline catalogs --
 * which a subscriber must not apply: it gets a WARNING when created in a
 * database with incetl.
 */
static void
CowCheckPublicationStmt(Node *parsetree)
{
	CreatePublicationStmt *stmt;

	if (!IsA(parsetree, CreatePublicationStmt))
		return;
	stmt = (CreatePublicationStmt *) parsetree;
	if (!stmt->for_all_tables)
		return;
	if (!OidIsValid(get_extension_oid("incetl", true)))
		return;
	ereport(WARNING,
			(errmsg("publication \"%s\" publishes the tables of extension \"incetl\"",
					stmt->pubname),
			 errdetail("The publication is FOR ALL TABLES: it also publishes incetl's catalogs (incetl.cow_file_group, incetl.cow_commit, incetl.pipelines, ...), whose rows describe this database's incetl_cow storage and pipelines.  A subscriber must not apply them."),
			 errhint("Publish tables by name or schema instead (FOR TABLE, FOR TABLES IN SCHEMA).")));
}

/*
 * After ALTER TABLE ... RENAME COLUMN (which recurses to every table
 * inheriting the column), the options of those tables that name the old
 * name name the new one.  Rows of other tables are left alone.
 */
static void
cow_ProcessUtility(PlannedStmt *pstmt, const char *queryString,
				   bool readOnlyTree, ProcessUtilityContext context,
				   ParamListInfo params, QueryEnvironment *queryEnv,
				   DestReceiver *dest, QueryCompletion *qc)
{
	Node	   *parsetree = pstmt->utilityStmt;
	RenameStmt *rename = NULL;

	if (IsA(parsetree, RenameStmt) &&
		((RenameStmt *) parsetree)->renameType == OBJECT_COLUMN &&
		((RenameStmt *) parsetree)->relation != NULL)
		rename = (RenameStmt *) parsetree;
	CowCheckIndexStmt(parsetree);

	if (prev_ProcessUtility)
		prev_ProcessUtility(pstmt, queryString, readOnlyTree, context, params,
							queryEnv, dest, qc);
	else
		standard_ProcessUtility(pstmt, queryString, readOnlyTree, context, params,
								queryEnv, dest, qc);

	CowCheckPublicationStmt(parsetree);

	/*
	 * The shared cache keeps lists of versions by database OID and storage
	 * id: a later database may be given a dropped one's OID, and incetl
	 * made again in a database numbers its storages from 1 again.
	 */
	if (IsA(parsetree, DropdbStmt) ||
		IsA(parsetree, CreateExtensionStmt) ||
		IsA(parsetree, AlterExtensionStmt) ||
		(IsA(parsetree, DropStmt) &&
		 (((DropStmt *) parsetree)->removeType == OBJECT_EXTENSION ||
		  ((DropStmt *) parsetree)->removeType == OBJECT_SCHEMA)))
		CowSharedCacheForgetLists();

	if (rename != NULL && OidIsValid(CowCatalogRelid("cow_options", true)))
	{
		/* the rename holds AccessExclusiveLock on all these tables */
		Oid			relid = RangeVarGetRelid(rename->relation, NoLock, true);
		ListCell   *lc;

		if (!OidIsValid(relid))
			return;
		foreach(lc, find_all_inheritors(relid, NoLock, NULL))
		{
			Oid			child = lfirst_oid(lc);

			if (CowRelidIsCow(child))
				CowRenameOptionColumn(child, rename->subname, rename->newname);
		}
	}
}

void
CowHooksInit(void)
{
	prev_ProcessUtility = ProcessUtility_hook;
	ProcessUtility_hook = cow_ProcessUtility;
	prev_ExecutorStart = ExecutorStart_hook;
	ExecutorStart_hook = cow_ExecutorStart;
	prev_ExecutorFinish = ExecutorFinish_hook;
	ExecutorFinish_hook = cow_ExecutorFinish;
	prev_get_relation_info = get_relation_info_hook;
	get_relation_info_hook = cow_get_relation_info;
	prev_set_rel_pathlist = set_rel_pathlist_hook;
	set_rel_pathlist_hook = cow_set_rel_pathlist;
	prev_object_access = object_access_hook;
	object_access_hook = cow_object_access;
	CacheRegisterSyscacheCallback(AMOID, CowAmOidInvalidate, (Datum) 0);
	CacheRegisterSyscacheCallback(AMNAME, CowAmOidInvalidate, (Datum) 0);
}
