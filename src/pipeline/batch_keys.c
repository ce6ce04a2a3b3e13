/*-------------------------------------------------------------------------
 *
 * batch_keys.c
 *	  Whether a batch can hold two rows of one record key.
 *
 *	  A target writer reduces the batch to one row per record key before it
 *	  upserts (target_heap.c's DISTINCT ON).  That step is needed only when
 *	  the batch may repeat a key.  It cannot when:
 *
 *	  - the source is a plain table (or a partitioned one) without
 *		inheritance children, read by a value watermark (not an incetl_cow
 *		source, whose rows come from the change functions);
 *	  - the source has a valid, immediate, non-partial unique btree index
 *		(or primary key) on exactly the columns the record key comes from,
 *		with the default operator classes and deterministic collations, and
 *		the target's key columns have the same types and collations (so the
 *		target's unique index calls two keys equal exactly when the source's
 *		does), with no other kind of unique index on them;
 *	  - and no transform, or one that provably passes the record key
 *		columns through: analysed by the parser (never by text), a single
 *		SELECT of one scan of "batch" -- no join, set operation, WITH,
 *		grouping, aggregate or set-returning function in its target list --
 *		whose key columns are plain references to distinct source columns.
 *
 *	  Anything else keeps the dedup.  The answer holds under the run's
 *	  snapshot: a unique index admits one visible row per key in any MVCC
 *	  snapshot, and the batch is a subset of the source.
 *
 *	  Uses batch.c and names.c.
 *
 * Copyright (c) 2026, incetl developers
 *
 * IDENTIFICATION
 *	  src/pipeline/batch_keys.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/pg_am.h"
#include "catalog/pg_class.h"
#include "catalog/pg_index.h"
#include "commands/defrem.h"
#include "nodes/bitmapset.h"
#include "nodes/parsenodes.h"
#include "parser/analyze.h"
#include "parser/parser.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/syscache.h"

#include "incetl.h"

static bool PlainUniqueIndex(HeapTuple indtup, Oid relid, Bitmapset *cols,
							 Oid *collations);
static Bitmapset *TransformKeySources(IncetlPipeline *p, Oid source_relid,
									  List **source_names);

/*
 * PlainUniqueIndex: is the pg_index row indtup a valid, immediate,
 * non-partial, expression-free unique btree index of relid with default
 * operator classes and deterministic collations on exactly the columns
 * cols?  On success the key columns' collations go to collations[] (in
 * the order of the index's columns; may be NULL).
 */
static bool
PlainUniqueIndex(HeapTuple indtup, Oid relid, Bitmapset *cols, Oid *collations)
{
	Form_pg_index idx = (Form_pg_index) GETSTRUCT(indtup);
	Bitmapset  *keys = NULL;
	oidvector  *indclass;
	oidvector  *indcoll;
	Datum		d;
	bool		isnull;
	HeapTuple	reltup;
	Oid			relam;

	if (!idx->indisunique || !idx->indimmediate || !idx->indisvalid ||
		!heap_attisnull(indtup, Anum_pg_index_indpred, NULL) ||
		!heap_attisnull(indtup, Anum_pg_index_indexprs, NULL) ||
		idx->indnkeyatts != bms_num_members(cols))
		return false;

	reltup = SearchSysCache1(RELOID, ObjectIdGetDatum(idx->indexrelid));
	if (!HeapTupleIsValid(reltup))
		return false;
	relam = ((Form_pg_class) GETSTRUCT(reltup))->relam;
	ReleaseSysCache(reltup);
	if (relam != BTREE_AM_OID)
		return false;

	d = SysCacheGetAttr(INDEXRELID, indtup, Anum_pg_index_indclass, &isnull);
	if (isnull)
		return false;
	indclass = (oidvector *) DatumGetPointer(d);
	d = SysCacheGetAttr(INDEXRELID, indtup, Anum_pg_index_indcollation, &isnull);
	if (isnull)
		return false;
	indcoll = (oidvector *) DatumGetPointer(d);

	for (int i = 0; i < idx->indnkeyatts; i++)
	{
		AttrNumber	attno = idx->indkey.values[i];
		Oid			coll = indcoll->values[i];

		if (attno <= 0 || bms_is_member(attno, keys))
			return false;
		keys = bms_add_member(keys, attno);
		if (indclass->values[i] != GetDefaultOpClass(get_atttype(relid, attno),
													 BTREE_AM_OID))
			return false;
		if (OidIsValid(coll) && !get_collation_isdeterministic(coll))
			return false;
		if (collations)
			collations[i] = coll;
	}
	return bms_equal(keys, cols);
}

/*
 * TransformKeySources maps the record key columns of the batch to the
 * source columns they come from: with no transform, themselves; with one,
 * through parse analysis of the batch query (see the file header).
 * Returns the source attribute numbers, or NULL when a key is not a plain
 * pass-through or the transform could repeat a row.  *source_names gets
 * the source column of each record key, in the record key's order.
 */
static Bitmapset *
TransformKeySources(IncetlPipeline *p, Oid source_relid, List **source_names)
{
	Bitmapset  *attnos = NULL;
	Query	   *top;
	Query	   *t;
	CommonTableExpr *cte;
	RangeTblEntry *rte;
	RangeTblRef *ref;
	List	   *raw;
	char	   *sql;
	ListCell   *lc;

	*source_names = NIL;
	if (p->transform == NULL)
	{
		foreach(lc, p->record_key)
		{
			char	   *col = (char *) lfirst(lc);
			AttrNumber	attno = get_attnum(source_relid, col);

			if (attno <= 0 || bms_is_member(attno, attnos))
				return NULL;
			attnos = bms_add_member(attnos, attno);
			*source_names = lappend(*source_names, col);
		}
		return attnos;
	}

	/* the batch query over no rows, as describing the batch plans it */
	sql = IncetlBatchSql(p, source_relid, "false");
	raw = raw_parser(sql, RAW_PARSE_DEFAULT);
	if (list_length(raw) != 1)
		return NULL;
	top = parse_analyze_fixedparams(linitial_node(RawStmt, raw), sql, NULL, 0, NULL);

	/* WITH batch AS (SELECT * FROM source ...) SELECT * FROM (t) AS ... */
	if (list_length(top->cteList) != 1 || list_length(top->rtable) != 1)
		return NULL;
	cte = linitial_node(CommonTableExpr, top->cteList);
	rte = linitial_node(RangeTblEntry, top->rtable);
	if (strcmp(cte->ctename, "batch") != 0 || rte->rtekind != RTE_SUBQUERY)
		return NULL;
	t = rte->subquery;

	/* one scan of batch; nothing that can make two rows of one */
	if (t->commandType != CMD_SELECT || t->setOperations != NULL ||
		t->cteList != NIL || t->hasTargetSRFs || t->hasAggs ||
		t->groupClause != NIL || t->groupingSets != NIL ||
		t->havingQual != NULL || t->hasModifyingCTE ||
		list_length(t->rtable) != 1 ||
		list_length(t->jointree->fromlist) != 1 ||
		!IsA(linitial(t->jointree->fromlist), RangeTblRef))
		return NULL;
	ref = linitial_node(RangeTblRef, t->jointree->fromlist);
	rte = linitial_node(RangeTblEntry, t->rtable);
	if (ref->rtindex != 1 || rte->rtekind != RTE_CTE ||
		strcmp(rte->ctename, "batch") != 0 || rte->ctelevelsup != 1 ||
		rte->self_reference)
		return NULL;

	foreach(lc, p->record_key)
	{
		char	   *key = (char *) lfirst(lc);
		TargetEntry *found = NULL;
		ListCell   *tl;
		Var		   *var;
		char	   *srccol;
		AttrNumber	attno;

		foreach(tl, t->targetList)
		{
			TargetEntry *te = lfirst_node(TargetEntry, tl);

			if (te->resjunk || te->resname == NULL || strcmp(te->resname, key) != 0)
				continue;
			if (found != NULL)
				return NULL;	/* the name twice: which one is the key? */
			found = te;
		}
		if (found == NULL || !IsA(found->expr, Var))
			return NULL;
		var = (Var *) found->expr;
		if (var->varno != 1 || var->varlevelsup != 0 || var->varattno <= 0 ||
			var->varattno > list_length(cte->ctecolnames))
			return NULL;
		srccol = strVal(list_nth(cte->ctecolnames, var->varattno - 1));
		attno = get_attnum(source_relid, srccol);
		if (attno <= 0 || bms_is_member(attno, attnos))
			return NULL;
		attnos = bms_add_member(attnos, attno);
		*source_names = lappend(*source_names, srccol);
	}
	return attnos;
}

/*
 * IncetlBatchKeysUnique tells whether the batch of a run can hold at most
 * one row per record key (see the file header); *reason, when it does,
 * names the source's unique index.  Runs as the pipeline owner.
 */
bool
IncetlBatchKeysUnique(IncetlPipeline *p, Oid source_relid, Oid target_relid,
					  char **reason)
{
	Relation	rel;
	List	   *indexes;
	List	   *source_names;
	Bitmapset  *cols;
	Bitmapset  *target_cols = NULL;
	Oid			found = InvalidOid;
	Oid		   *collations;
	int			nkeys = list_length(p->record_key);
	ListCell   *lc;
	char		relkind;

	if (IncetlFeedMode(p) || IncetlRelationIsCow(source_relid))
		return false;
	relkind = get_rel_relkind(source_relid);
	if (relkind == RELKIND_RELATION)
	{
		HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(source_relid));
		bool		children;

		if (!HeapTupleIsValid(tup))
			return false;
		children = ((Form_pg_class) GETSTRUCT(tup))->relhassubclass;
		ReleaseSysCache(tup);
		if (children)
			return false;		/* a parent's index does not cover them */
	}
	else if (relkind != RELKIND_PARTITIONED_TABLE)
		return false;

	cols = TransformKeySources(p, source_relid, &source_names);
	if (cols == NULL)
		return false;

	/* the source's unique index on exactly those columns */
	collations = palloc0(sizeof(Oid) * nkeys);
	rel = table_open(source_relid, AccessShareLock);
	indexes = RelationGetIndexList(rel);
	table_close(rel, AccessShareLock);
	foreach(lc, indexes)
	{
		HeapTuple	tup = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(lfirst_oid(lc)));
		bool		match;

		if (!HeapTupleIsValid(tup))
			continue;
		match = PlainUniqueIndex(tup, source_relid, cols, collations);
		ReleaseSysCache(tup);
		if (match)
		{
			found = lfirst_oid(lc);
			break;
		}
	}
	if (!OidIsValid(found))
		return false;

	/* the target compares its key columns as the source does */
	foreach(lc, source_names)
	{
		int			i = foreach_current_index(lc);
		char	   *key = (char *) list_nth(p->record_key, i);
		AttrNumber	s = get_attnum(source_relid, (char *) lfirst(lc));
		AttrNumber	d = get_attnum(target_relid, key);
		Oid			typ,
					coll,
					styp,
					scoll;
		int32		typmod;

		if (d <= 0)
			return false;
		get_atttypetypmodcoll(target_relid, d, &typ, &typmod, &coll);
		get_atttypetypmodcoll(source_relid, s, &styp, &typmod, &scoll);
		if (typ != styp || coll != scoll)
			return false;
		target_cols = bms_add_member(target_cols, d);
	}

	/* and every unique index of the target on them (its arbiters) alike */
	rel = table_open(target_relid, AccessShareLock);
	indexes = RelationGetIndexList(rel);
	table_close(rel, AccessShareLock);
	foreach(lc, indexes)
	{
		HeapTuple	tup = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(lfirst_oid(lc)));
		Form_pg_index idx;
		Bitmapset  *keys = NULL;
		bool		plain;

		if (!HeapTupleIsValid(tup))
			return false;
		idx = (Form_pg_index) GETSTRUCT(tup);
		for (int i = 0; i < idx->indnkeyatts; i++)
			keys = bms_add_member(keys, Max(idx->indkey.values[i], 0));
		plain = !idx->indisunique || !bms_equal(keys, target_cols) ||
			PlainUniqueIndex(tup, target_relid, target_cols, NULL);
		ReleaseSysCache(tup);
		if (!plain)
			return false;
	}

	if (reason)
		*reason = psprintf("unique index %s of %s on (%s)",
						   quote_identifier(get_rel_name(found)), p->source,
						   IncetlNameList(source_names));
	return true;
}
