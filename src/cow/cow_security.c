/*-------------------------------------------------------------------------
 *
 * cow_security.c
 *	  Who an incetl_cow write acts as, and what it may do.
 *
 * Two concerns, both about acting for somebody else:
 *
 *	1. Work on the whole table done on a caller's behalf -- the rewrite of
 *	   set_table_options() and of a restored options row, and cleaning --
 *	   evaluates the table owner's code (index expressions and predicates).
 *	   Like VACUUM, CLUSTER and REINDEX since CVE-2022-1552, it runs as the
 *	   table owner in a security-restricted operation, with a GUC nest
 *	   level discarded afterwards and search_path pg_catalog, pg_temp
 *	   (CowBecomeTableOwner / CowRestoreUser).  A superuser who rewrites a
 *	   stranger's table thus never runs the stranger's functions as
 *	   superuser.
 *
 *	2. An INSERT into a table with a record key is an upsert: the executor
 *	   checked INSERT (and the INSERT policies), but a row that replaces a
 *	   stored one is an update, and a delete-marker row that removes one is
 *	   a delete.  The merge calls CowCheckReplace / CowCheckDelete for each,
 *	   and they require what INSERT ... ON CONFLICT DO UPDATE and DELETE
 *	   require on heap: UPDATE privilege on the columns the new row changes
 *	   (any column when it changes none), DELETE privilege, and with
 *	   row-level security the UPDATE policies' USING expression on the
 *	   stored row and their WITH CHECK expression on the new one, or the
 *	   DELETE policies' USING expression on the deleted row.  A violation
 *	   is an error (42501), so the statement writes nothing; rows that lose
 *	   to a newer stored row replace nothing and need nothing more.
 *
 *	   The checks run as each role that buffered rows of the statement
 *	   (CowPending.writers): the merge may run later, at commit.  The
 *	   policies are PostgreSQL's own (get_row_security_policies for an
 *	   INSERT ... ON CONFLICT DO UPDATE, and for a DELETE).  Policies
 *	   without subqueries are compiled once and evaluated on the row; a
 *	   policy with a subquery is planned as a one-row query whose
 *	   parameters are the row's columns, and run for each row it checks.
 *
 * Copyright (c) 2026, incetl authors
 *
 * IDENTIFICATION
 *	  src/cow/cow_security.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/attnum.h"
#include "access/relation.h"
#include "access/tupdesc.h"
#include "catalog/pg_class.h"
#include "executor/executor.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "rewrite/rewriteHandler.h"
#include "rewrite/rewriteManip.h"
#include "rewrite/rowsecurity.h"
#include "tcop/dest.h"
#include "tcop/tcopprot.h"
#include "utils/acl.h"
#include "utils/datum.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rls.h"
#include "utils/snapmgr.h"

#include "cow/security.h"

/*
 * One set of row-level security checks of one kind (the UPDATE policies'
 * USING expression on a stored row, say): a row passes when every check
 * is true.  Either compiled expressions (no subquery) or a planned query
 * returning one boolean column per check.
 */
typedef struct CowPolicySet
{
	int			nchecks;
	char	  **polnames;		/* [nchecks], NULL entries when unnamed */
	ExprState **quals;			/* [nchecks], or NULL when planned */
	PlannedStmt *plan;			/* NULL unless a check has a subquery */
} CowPolicySet;

/* What one role that buffered rows may do. */
typedef struct CowWriterCheck
{
	Oid			userid;
	bool		update_all;		/* UPDATE on the table */
	bool		delete_ok;		/* DELETE on the table (checked once) */
	bool	   *column_ok;		/* [natts]: UPDATE on the column, known */
	bool		rls;			/* row-level security applies */
	CowPolicySet *conflict;		/* UPDATE USING, on the stored row */
	CowPolicySet *update;		/* UPDATE WITH CHECK, on the new row */
	CowPolicySet *delete;		/* DELETE USING, on the stored row */
} CowWriterCheck;

struct CowWriteCheck
{
	Relation	rel;
	TupleDesc	tupdesc;
	MemoryContext cxt;
	EState	   *estate;
	TupleTableSlot *slot;
	int			nwriters;
	CowWriterCheck *writers;
};

/* A DestReceiver that ANDs the boolean columns of the rows it receives. */
typedef struct CowCheckReceiver
{
	DestReceiver pub;
	int			failed;			/* first false or NULL column, -1 */
} CowCheckReceiver;

static CowPolicySet *CowPolicySetBuild(CowWriteCheck *wc, List *quals,
									   List *polnames, bool has_sublinks);
static int	CowPolicySetFailed(CowWriteCheck *wc, CowPolicySet *set,
							   Oid userid, TupleTableSlot *slot);
static void CowPrepareRls(CowWriteCheck *wc, CowWriterCheck *w);
static Node *CowVarToParam(Var *var, replace_rte_variables_context *context);
static void CowRowToSlot(CowWriteCheck *wc, struct CowRow *row);
static bool CowCheckReceive(TupleTableSlot *slot, DestReceiver *self);
static void CowCheckStartup(DestReceiver *self, int operation, TupleDesc typeinfo);
static void CowCheckShutdown(DestReceiver *self);
static void CowCheckDestroy(DestReceiver *self);

/* ---------- the table owner's context ---------- */

/*
 * CowBecomeTableOwner switches to the owner of rel, as VACUUM does: its
 * user id, a security-restricted operation, a new GUC nest level and a
 * safe search_path.
 */
void
CowBecomeTableOwner(Relation rel, CowUserContext *ctx)
{
	GetUserIdAndSecContext(&ctx->save_userid, &ctx->save_sec_context);
	SetUserIdAndSecContext(rel->rd_rel->relowner,
						   ctx->save_sec_context | SECURITY_RESTRICTED_OPERATION);
	ctx->save_nestlevel = NewGUCNestLevel();
	(void) set_config_option("search_path", "pg_catalog, pg_temp",
							 PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
}

/*
 * CowRestoreUser leaves it, discarding every setting made inside (also
 * those made with SET or set_config(..., false) by the owner's code).
 * On error the (sub)transaction abort does the same.
 */
void
CowRestoreUser(CowUserContext *ctx)
{
	AtEOXact_GUC(false, ctx->save_nestlevel);
	SetUserIdAndSecContext(ctx->save_userid, ctx->save_sec_context);
}

/* ---------- checks of an upsert ---------- */

/*
 * CowWriteCheckBegin prepares the checks of a merge of rows buffered by
 * the roles in writers (user OIDs).  Returns NULL when no check is needed:
 * every writer has UPDATE on the table (and DELETE, when the table has a
 * delete marker), and row-level security does not apply to any.
 */
CowWriteCheck *
CowWriteCheckBegin(Relation rel, List *writers, bool delete_marker)
{
	Oid			relid = RelationGetRelid(rel);
	MemoryContext cxt;
	MemoryContext old;
	CowWriteCheck *wc;
	ListCell   *lc;
	bool		needed = false;
	int			i = 0;

	foreach(lc, writers)
	{
		Oid			u = lfirst_oid(lc);

		if (pg_class_aclcheck(relid, u, ACL_UPDATE) != ACLCHECK_OK ||
			(delete_marker && pg_class_aclcheck(relid, u, ACL_DELETE) != ACLCHECK_OK) ||
			check_enable_rls(relid, u, false) == RLS_ENABLED)
			needed = true;
	}
	if (!needed)
		return NULL;

	cxt = AllocSetContextCreate(CurrentMemoryContext, "incetl cow write checks",
								ALLOCSET_SMALL_SIZES);
	old = MemoryContextSwitchTo(cxt);
	wc = palloc0(sizeof(CowWriteCheck));
	wc->rel = rel;
	wc->tupdesc = RelationGetDescr(rel);
	wc->cxt = cxt;
	wc->nwriters = list_length(writers);
	wc->writers = palloc0(sizeof(CowWriterCheck) * wc->nwriters);
	foreach(lc, writers)
	{
		CowWriterCheck *w = &wc->writers[i++];

		w->userid = lfirst_oid(lc);
		w->update_all = (pg_class_aclcheck(relid, w->userid, ACL_UPDATE) == ACLCHECK_OK);
		w->column_ok = palloc0(sizeof(bool) * wc->tupdesc->natts);
		w->rls = (check_enable_rls(relid, w->userid, false) == RLS_ENABLED);
		if (w->rls)
			CowPrepareRls(wc, w);
	}
	MemoryContextSwitchTo(old);
	return wc;
}

void
CowWriteCheckEnd(CowWriteCheck *wc)
{
	if (wc == NULL)
		return;
	if (wc->slot)
		ExecDropSingleTupleTableSlot(wc->slot);
	if (wc->estate)
		FreeExecutorState(wc->estate);
	MemoryContextDelete(wc->cxt);
}

/*
 * CowPrepareRls gets the policies that apply to writer w, as the rewriter
 * would for INSERT ... ON CONFLICT DO UPDATE (the replaced row and the new
 * one) and for DELETE (the deleted row), and compiles them.
 */
static void
CowPrepareRls(CowWriteCheck *wc, CowWriterCheck *w)
{
	Query	   *q;
	RangeTblEntry *rte;
	List	   *quals;
	List	   *wcos;
	bool		has_rls;
	bool		has_sublinks;
	List	   *conflict = NIL,
			   *conflict_names = NIL,
			   *update = NIL,
			   *update_names = NIL;
	ListCell   *lc;

	rte = makeNode(RangeTblEntry);
	rte->rtekind = RTE_RELATION;
	rte->relid = RelationGetRelid(wc->rel);
	rte->relkind = RELKIND_RELATION;
	rte->rellockmode = RowExclusiveLock;
	rte->checkAsUser = w->userid;

	q = makeNode(Query);
	q->commandType = CMD_INSERT;
	q->resultRelation = 1;
	q->rtable = list_make1(rte);
	q->onConflict = makeNode(OnConflictExpr);
	q->onConflict->action = ONCONFLICT_UPDATE;
	rte->requiredPerms = ACL_INSERT | ACL_UPDATE;
	get_row_security_policies(q, rte, 1, &quals, &wcos, &has_rls, &has_sublinks);
	foreach(lc, wcos)
	{
		WithCheckOption *wco = lfirst_node(WithCheckOption, lc);

		/* WCO_RLS_INSERT_CHECK: the executor checked the new row already */
		if (wco->kind == WCO_RLS_CONFLICT_CHECK)
		{
			conflict = lappend(conflict, wco->qual);
			conflict_names = lappend(conflict_names, wco->polname);
		}
		else if (wco->kind == WCO_RLS_UPDATE_CHECK)
		{
			update = lappend(update, wco->qual);
			update_names = lappend(update_names, wco->polname);
		}
	}
	w->conflict = CowPolicySetBuild(wc, conflict, conflict_names, has_sublinks);
	w->update = CowPolicySetBuild(wc, update, update_names, has_sublinks);

	q->commandType = CMD_DELETE;
	q->onConflict = NULL;
	rte->requiredPerms = ACL_DELETE;
	get_row_security_policies(q, rte, 1, &quals, &wcos, &has_rls, &has_sublinks);
	w->delete = CowPolicySetBuild(wc, quals, NIL, has_sublinks);
}

/*
 * CowVarToParam replaces a column of the checked table (range table entry
 * 1 of the policy's expression) with parameter $attnum, so that a policy
 * with a subquery can be planned as a query of its own.
 */
static Node *
CowVarToParam(Var *var, replace_rte_variables_context *context)
{
	Param	   *p;

	if (var->varattno <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("row-level security policies that refer to a whole row or a system column are not supported on upserts into incetl_cow tables")));
	p = makeNode(Param);
	p->paramkind = PARAM_EXTERN;
	p->paramid = var->varattno;
	p->paramtype = var->vartype;
	p->paramtypmod = var->vartypmod;
	p->paramcollid = var->varcollid;
	p->location = -1;
	return (Node *) p;
}

/*
 * CowPolicySetBuild compiles quals (boolean expressions over the table's
 * columns as Vars of range table entry 1).  Without subqueries they are
 * prepared for evaluation on a slot; otherwise they become the target
 * list of one SELECT with the columns as parameters, rewritten (views and
 * the policies of tables in the subqueries) and planned.
 */
static CowPolicySet *
CowPolicySetBuild(CowWriteCheck *wc, List *quals, List *polnames,
				  bool has_sublinks)
{
	CowPolicySet *set = palloc0(sizeof(CowPolicySet));
	ListCell   *lc;
	int			i = 0;

	set->nchecks = list_length(quals);
	set->polnames = palloc0(sizeof(char *) * Max(set->nchecks, 1));
	foreach(lc, polnames)
		set->polnames[i++] = lfirst(lc);
	if (set->nchecks == 0)
		return set;

	if (!has_sublinks)
	{
		if (wc->estate == NULL)
		{
			wc->estate = CreateExecutorState();
			wc->slot = MakeSingleTupleTableSlot(wc->tupdesc, &TTSOpsVirtual);
		}
		set->quals = palloc(sizeof(ExprState *) * set->nchecks);
		i = 0;
		foreach(lc, quals)
		{
			Expr	   *e = expression_planner((Expr *) lfirst(lc));
			MemoryContext old = MemoryContextSwitchTo(wc->estate->es_query_cxt);

			set->quals[i++] = ExecPrepareQual(make_ands_implicit(e), wc->estate);
			MemoryContextSwitchTo(old);
		}
	}
	else
	{
		Query	   *q = makeNode(Query);
		List	   *rewritten;
		bool		outer_sublinks = false;

		q->commandType = CMD_SELECT;
		q->querySource = QSRC_ORIGINAL;
		q->canSetTag = true;
		q->jointree = makeFromExpr(NIL, NULL);
		q->hasSubLinks = true;
		i = 0;
		foreach(lc, quals)
		{
			Node	   *e = replace_rte_variables(copyObject((Node *) lfirst(lc)),
												  1, 0, CowVarToParam, NULL,
												  &outer_sublinks);

			i++;
			q->targetList = lappend(q->targetList,
									makeTargetEntry((Expr *) e, i,
													psprintf("check%d", i), false));
		}
		/* the policies' subqueries come from the relcache: lock what they read */
		AcquireRewriteLocks(q, true, false);
		rewritten = QueryRewrite(q);
		if (list_length(rewritten) != 1)
			elog(ERROR, "row-level security check rewritten to %d queries",
				 list_length(rewritten));
		set->plan = pg_plan_query(linitial_node(Query, rewritten), NULL, 0, NULL);
		if (wc->slot == NULL)
		{
			wc->estate = CreateExecutorState();
			wc->slot = MakeSingleTupleTableSlot(wc->tupdesc, &TTSOpsVirtual);
		}
	}
	return set;
}

static void
CowCheckStartup(DestReceiver *self, int operation, TupleDesc typeinfo)
{
}

static bool
CowCheckReceive(TupleTableSlot *slot, DestReceiver *self)
{
	CowCheckReceiver *r = (CowCheckReceiver *) self;

	slot_getallattrs(slot);
	for (int i = 0; i < slot->tts_tupleDescriptor->natts && r->failed < 0; i++)
		if (slot->tts_isnull[i] || !DatumGetBool(slot->tts_values[i]))
			r->failed = i;
	return true;
}

static void
CowCheckShutdown(DestReceiver *self)
{
}

static void
CowCheckDestroy(DestReceiver *self)
{
}

/*
 * CowPolicySetFailed evaluates set on the row in slot as userid and
 * returns the index of the first check that is not true, or -1.
 */
static int
CowPolicySetFailed(CowWriteCheck *wc, CowPolicySet *set, Oid userid,
				   TupleTableSlot *slot)
{
	Oid			save_userid;
	int			save_sec;
	int			failed = -1;

	if (set == NULL || set->nchecks == 0)
		return -1;

	/* policies see current_user as the writer, as they did in its statement */
	GetUserIdAndSecContext(&save_userid, &save_sec);
	if (save_userid != userid)
		SetUserIdAndSecContext(userid, save_sec | SECURITY_LOCAL_USERID_CHANGE);

	if (set->plan == NULL)
	{
		ExprContext *econtext = GetPerTupleExprContext(wc->estate);

		econtext->ecxt_scantuple = slot;
		for (int i = 0; i < set->nchecks && failed < 0; i++)
			if (!ExecQual(set->quals[i], econtext))
				failed = i;
		ResetExprContext(econtext);
	}
	else
	{
		TupleDesc	desc = wc->tupdesc;
		ParamListInfo params = makeParamList(desc->natts);
		CowCheckReceiver recv;
		QueryDesc  *qd;

		for (int a = 0; a < desc->natts; a++)
		{
			ParamExternData *prm = &params->params[a];

			prm->value = slot->tts_values[a];
			prm->isnull = slot->tts_isnull[a];
			prm->pflags = PARAM_FLAG_CONST;
			prm->ptype = TupleDescAttr(desc, a)->attisdropped ?
				InvalidOid : TupleDescAttr(desc, a)->atttypid;
		}
		memset(&recv, 0, sizeof(recv));
		recv.pub.receiveSlot = CowCheckReceive;
		recv.pub.rStartup = CowCheckStartup;
		recv.pub.rShutdown = CowCheckShutdown;
		recv.pub.rDestroy = CowCheckDestroy;
		recv.pub.mydest = DestNone;
		recv.failed = -1;

		qd = CreateQueryDesc(set->plan, "incetl_cow row-level security check",
							 GetActiveSnapshot(), InvalidSnapshot,
							 (DestReceiver *) &recv, params, NULL, 0);
		ExecutorStart(qd, 0);
		ExecutorRun(qd, ForwardScanDirection, 0, true);
		ExecutorFinish(qd);
		ExecutorEnd(qd);
		FreeQueryDesc(qd);
		pfree(params);
		failed = recv.failed;
	}

	if (save_userid != userid)
		SetUserIdAndSecContext(save_userid, save_sec);
	return failed;
}

/* CowRowToSlot puts a stored or incoming row into the checks' slot. */
static void
CowRowToSlot(CowWriteCheck *wc, struct CowRow *row)
{
	TupleTableSlot *slot = wc->slot;

	ExecClearTuple(slot);
	for (int a = 0; a < wc->tupdesc->natts; a++)
	{
		if (TupleDescAttr(wc->tupdesc, a)->attisdropped)
		{
			slot->tts_values[a] = (Datum) 0;
			slot->tts_isnull[a] = true;
		}
		else
			slot->tts_values[a] = CowRowValue(row, a, &slot->tts_isnull[a]);
	}
	ExecStoreVirtualTuple(slot);
}

/*
 * CowCheckReplace: incoming replaces stored (same record key, incoming
 * wins).  Every writer of the statement must be allowed to update the
 * columns it changes, and pass the UPDATE policies.
 */
void
CowCheckReplace(CowWriteCheck *wc, struct CowRow *stored, struct CowRow *incoming)
{
	TupleDesc	desc;
	const char *relname;

	if (wc == NULL)
		return;
	desc = wc->tupdesc;
	relname = RelationGetRelationName(wc->rel);
	for (int i = 0; i < wc->nwriters; i++)
	{
		CowWriterCheck *w = &wc->writers[i];
		int			failed;

		if (!w->update_all)
		{
			bool		any_changed = false;

			for (int a = 0; a < desc->natts; a++)
			{
				Form_pg_attribute att = TupleDescAttr(desc, a);
				bool		n1,
							n2;
				Datum		v1,
							v2;

				if (att->attisdropped)
					continue;
				v1 = CowRowValue(stored, a, &n1);
				v2 = CowRowValue(incoming, a, &n2);
				if (n1 == n2 && (n1 || datum_image_eq(v1, v2, att->attbyval, att->attlen)))
					continue;
				any_changed = true;
				if (w->column_ok[a])
					continue;
				if (pg_attribute_aclcheck(RelationGetRelid(wc->rel), att->attnum,
										  w->userid, ACL_UPDATE) != ACLCHECK_OK)
					ereport(ERROR,
							(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
							 errmsg("permission denied for table %s", relname),
							 errdetail("The row replaces a stored row with the same record key and changes column \"%s\", which role \"%s\" may not update.",
									   NameStr(att->attname),
									   GetUserNameFromId(w->userid, false)),
							 errhint("An INSERT into an incetl_cow table with a record key is an upsert: replacing a stored row needs UPDATE privilege, as INSERT ... ON CONFLICT DO UPDATE does.")));
				w->column_ok[a] = true;
			}
			if (!any_changed &&
				pg_attribute_aclcheck_all(RelationGetRelid(wc->rel), w->userid,
										  ACL_UPDATE, ACLMASK_ANY) != ACLCHECK_OK)
				ereport(ERROR,
						(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
						 errmsg("permission denied for table %s", relname),
						 errdetail("The row replaces a stored row with the same record key; role \"%s\" has no UPDATE privilege on the table.",
								   GetUserNameFromId(w->userid, false)),
						 errhint("An INSERT into an incetl_cow table with a record key is an upsert: replacing a stored row needs UPDATE privilege, as INSERT ... ON CONFLICT DO UPDATE does.")));
		}
		if (!w->rls)
			continue;
		CowRowToSlot(wc, stored);
		failed = CowPolicySetFailed(wc, w->conflict, w->userid, wc->slot);
		if (failed >= 0)
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 w->conflict->polnames[failed] ?
					 errmsg("new row violates row-level security policy \"%s\" (USING expression) for table \"%s\"",
							w->conflict->polnames[failed], relname) :
					 errmsg("new row violates row-level security policy (USING expression) for table \"%s\"",
							relname),
					 errdetail("The row would replace a stored row with the same record key that the UPDATE policies do not let role \"%s\" update.",
							   GetUserNameFromId(w->userid, false))));
		CowRowToSlot(wc, incoming);
		failed = CowPolicySetFailed(wc, w->update, w->userid, wc->slot);
		if (failed >= 0)
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 w->update->polnames[failed] ?
					 errmsg("new row violates row-level security policy \"%s\" for table \"%s\"",
							w->update->polnames[failed], relname) :
					 errmsg("new row violates row-level security policy for table \"%s\"",
							relname),
					 errdetail("The row replaces a stored row with the same record key, and the UPDATE policies' WITH CHECK expression rejects it.")));
	}
}

/*
 * CowCheckDelete: a delete-marker row deletes stored.  Every writer needs
 * DELETE on the table and must pass the DELETE policies.
 */
void
CowCheckDelete(CowWriteCheck *wc, struct CowRow *stored)
{
	const char *relname;

	if (wc == NULL)
		return;
	relname = RelationGetRelationName(wc->rel);
	for (int i = 0; i < wc->nwriters; i++)
	{
		CowWriterCheck *w = &wc->writers[i];

		if (!w->delete_ok)
		{
			if (pg_class_aclcheck(RelationGetRelid(wc->rel), w->userid,
								  ACL_DELETE) != ACLCHECK_OK)
				ereport(ERROR,
						(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
						 errmsg("permission denied for table %s", relname),
						 errdetail("A delete-marker row deletes the stored row with its record key; role \"%s\" has no DELETE privilege on the table.",
								   GetUserNameFromId(w->userid, false))));
			w->delete_ok = true;
		}
		if (!w->rls)
			continue;
		CowRowToSlot(wc, stored);
		if (CowPolicySetFailed(wc, w->delete, w->userid, wc->slot) >= 0)
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("row-level security policy for table \"%s\" does not allow deleting the stored row",
							relname),
					 errdetail("A delete-marker row deletes the stored row with its record key, and the DELETE policies do not let role \"%s\" delete it.",
							   GetUserNameFromId(w->userid, false))));
	}
}

/*
 * CowOpenChecked opens relid with AccessShareLock after checking it is an
 * incetl_cow table the caller may SELECT.
 */
Relation
CowOpenChecked(Oid relid, AclMode mode)
{
	Relation	rel;
	AclResult	aclresult;

	rel = relation_open(relid, AccessShareLock);
	CowCheckCowRelation(rel);
	aclresult = pg_class_aclcheck(relid, GetUserId(), mode);
	if (aclresult != ACLCHECK_OK)
		aclcheck_error(aclresult, OBJECT_TABLE, RelationGetRelationName(rel));
	return rel;
}
