/*-------------------------------------------------------------------------
 *
 * cow_verify.c
 *	  incetl.verify(): check every current file group of a table.
 *
 * For each current version: the extent lies inside the relation and does
 * not overlap another current version; the header and every column chunk
 * pass their CRC and decompress to the recorded size; the row count
 * matches the catalog; rows are in strictly ascending record key order,
 * from the first and last key the header records; every column's recorded
 * min/max are those of its values; every row number the group's map gives
 * (format 5) lies in its reserved range or in one of its absorbed ranges;
 * key ranges of the groups do not overlap, and no two current groups hold
 * the same row number.  Each problem is returned
 * as a row (an error while reading one group is caught and reported, and
 * the check goes on).
 *
 * Memory does not grow with the table: each group is decoded in a context
 * reset after it, and the row numbers of all groups are checked for
 * duplicates through a sort bounded by maintenance_work_mem (it spills to
 * temporary files beyond), as CREATE INDEX sorts.
 *
 * Copyright (c) 2026, incetl authors
 *
 * IDENTIFICATION
 *	  src/cow/cow_verify.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/relation.h"
#include "access/xact.h"
#include "catalog/pg_operator.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/snapmgr.h"
#include "utils/sortsupport.h"
#include "utils/tuplesort.h"
#include "utils/typcache.h"

#include "cow/maintenance.h"
#include "cow/security.h"

PG_FUNCTION_INFO_V1(incetl_cow_verify);

/*
 * The resource owner of the call: problems go to the result's tuplestore,
 * which may spill to a temporary file, under it and not under the
 * subtransaction a group is read in (whose end would close the file).
 */
static ResourceOwner CowVerifyOwner;

static void CowReport(ReturnSetInfo *rsinfo, const CowVersion *v,
					  const char *problem);
static void CowCheckMinMax(ReturnSetInfo *rsinfo, const CowVersion *v,
						   TupleDesc desc, CowDecodedGroup *g);

static void
CowReport(ReturnSetInfo *rsinfo, const CowVersion *v, const char *problem)
{
	Datum		values[3];
	bool		nulls[3] = {false, false, false};
	ResourceOwner save = CurrentResourceOwner;

	values[0] = Int64GetDatum(v->file_group_id);
	values[1] = Int64GetDatum(v->commit_id);
	values[2] = CStringGetTextDatum(problem);
	CurrentResourceOwner = CowVerifyOwner;
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	CurrentResourceOwner = save;
}

/*
 * CowCheckMinMax reports each column whose recorded min/max are not the
 * smallest and largest of its values, compared in the type's order under
 * the collation recorded with them (what scans skip file groups by), and
 * likewise each block's (format 4: what scans skip blocks by).  Columns
 * written before a type change are left alone, as scans do.
 */
static void
CowCheckMinMax(ReturnSetInfo *rsinfo, const CowVersion *v, TupleDesc desc,
			   CowDecodedGroup *g)
{
	CowGroupHeader *h = g->header;
	int			a;

	for (a = 0; a < Min((int) h->natts, desc->natts); a++)
	{
		CowColumnDesc *d = &CowGroupColumns(h)[a];
		Form_pg_attribute att = TupleDescAttr(desc, a);
		TypeCacheEntry *tc;
		SortSupportData ssup;
		Datum		min,
					max,
					vmin = (Datum) 0,
					vmax = (Datum) 0;
		bool		any = false;
		uint64		r;
		const char *list;
		uint32		b;

		if (att->attisdropped || d->typid != att->atttypid ||
			!(d->flags & COW_COL_HAS_MINMAX))
			continue;
		tc = lookup_type_cache(d->typid, TYPECACHE_LT_OPR);
		if (!OidIsValid(tc->lt_opr))
			continue;
		memset(&ssup, 0, sizeof(ssup));
		ssup.ssup_cxt = CurrentMemoryContext;
		ssup.ssup_collation = d->collation;
		PrepareSortSupportFromOrderingOp(tc->lt_opr, &ssup);
		for (r = 0; r < g->nrows; r++)
		{
			Datum		x = g->values[a][r];

			if (g->isnull[a][r])
				continue;
			if (!any || ApplySortComparator(x, false, vmin, false, &ssup) < 0)
				vmin = x;
			if (!any || ApplySortComparator(x, false, vmax, false, &ssup) > 0)
				vmax = x;
			any = true;
		}
		CowGroupMinMax(h, a, &min, &max);
		if (!any)
			CowReport(rsinfo, v, psprintf("column \"%s\" has a min/max but no values",
										  NameStr(att->attname)));
		else if (ApplySortComparator(vmin, false, min, false, &ssup) != 0 ||
				 ApplySortComparator(vmax, false, max, false, &ssup) != 0)
			CowReport(rsinfo, v, psprintf("recorded min/max of column \"%s\" are not those of its values",
										  NameStr(att->attname)));

		/* each block's */
		list = CowGroupBlockMinMaxList(h, a);
		for (b = 0; list != NULL && b < g->nblocks; b++)
		{
			uint64		r0 = (uint64) b * h->block_rows;
			uint64		r1 = Min(r0 + h->block_rows, g->nrows);
			bool		has = CowGroupBlockMinMax(h, list, b, &min, &max);

			any = false;
			for (r = r0; r < r1; r++)
			{
				Datum		x = g->values[a][r];

				if (g->isnull[a][r])
					continue;
				if (!any || ApplySortComparator(x, false, vmin, false, &ssup) < 0)
					vmin = x;
				if (!any || ApplySortComparator(x, false, vmax, false, &ssup) > 0)
					vmax = x;
				any = true;
			}
			if (any != has ||
				(any && (ApplySortComparator(vmin, false, min, false, &ssup) != 0 ||
						 ApplySortComparator(vmax, false, max, false, &ssup) != 0)))
			{
				CowReport(rsinfo, v, psprintf("recorded min/max of block %u of column \"%s\" are not those of its values",
											  b, NameStr(att->attname)));
				break;
			}
		}
	}
}

/*
 * CowCheckRowNumbers reports row numbers of g outside its reserved and
 * absorbed ranges, and positions its reverse map does not lead back to.
 * When there are none, it returns the group's row numbers (palloc'd, g's
 * g->nrows of them) for the check that no two current groups hold the
 * same one; else NULL.
 */
static int64 *
CowCheckRowNumbers(ReturnSetInfo *rsinfo, Relation rel, const CowVersion *v,
				   CowDecodedGroup *g)
{
	const CowRowMap *m = CowGetRowMap(rel, v, false);
	CowRowRange *absorbed = NULL;
	uint32		nabsorbed = m->nabsorbed;
	int64	   *rows = palloc(sizeof(int64) * Max(g->nrows, 1));

	if (nabsorbed > 0)
	{
		absorbed = palloc(sizeof(CowRowRange) * nabsorbed);
		memcpy(absorbed, m->absorbed, sizeof(CowRowRange) * nabsorbed);
	}
	for (uint64 r = 0; r < g->nrows; r++)
	{
		int64		rn = CowGroupRowNumber(g, r);
		bool		in = (rn >= v->first_row_number &&
						  rn < v->first_row_number + v->row_count);

		for (uint32 a = 0; !in && a < nabsorbed; a++)
			in = (rn >= absorbed[a].first &&
				  rn < absorbed[a].first + absorbed[a].count);
		if (!in)
		{
			CowReport(rsinfo, v, psprintf("row number " INT64_FORMAT " of row " UINT64_FORMAT " is in none of the group's ranges",
										  rn, r));
			return NULL;
		}
		if (CowGroupPosition(g, rn) != (int64) r)
		{
			CowReport(rsinfo, v, psprintf("the reverse map does not lead row number " INT64_FORMAT " back to row " UINT64_FORMAT,
										  rn, r));
			return NULL;
		}
		rows[r] = rn;
	}
	return rows;
}

/*
 * CowCheckRowNumbersDisjoint: the row numbers of the groups numbered[]
 * marks, sorted in *sort, are all different; else the first repeated one
 * is reported against the second group (in versions[] order) holding it.
 */
static void
CowCheckRowNumbersDisjoint(ReturnSetInfo *rsinfo, Relation rel,
						   CowVersion *versions, int n, const bool *numbered,
						   Tuplesortstate *sort)
{
	Datum		d;
	bool		isnull;
	bool		have = false;
	int64		prev = 0;
	int64		dup = 0;
	bool		found = false;
	int			first = -1;

	tuplesort_performsort(sort);
	while (tuplesort_getdatum(sort, true, &d, &isnull, NULL))
	{
		int64		rn = DatumGetInt64(d);

		if (have && rn == prev)
		{
			dup = rn;
			found = true;
			break;
		}
		prev = rn;
		have = true;
	}
	if (!found)
		return;
	for (int i = 0; i < n; i++)
	{
		if (!numbered[i] || CowVersionPosition(rel, &versions[i], dup) < 0)
			continue;
		if (first < 0)
			first = i;
		else
		{
			CowReport(rsinfo, &versions[i],
					  psprintf("row number " INT64_FORMAT " is held by file group " INT64_FORMAT " too",
							   dup, versions[first].file_group_id));
			return;
		}
	}
}

Datum
incetl_cow_verify(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Relation	rel;
	TupleDesc	desc;
	CowOptions	opts;
	int			n,
				i,
				k;
	CowVersion *versions;
	BlockNumber nblocks;
	SortSupport keys = NULL;
	Datum	  **firsts;
	Datum	  **lasts;
	bool	   *ok;
	bool	   *numbered;
	Tuplesortstate *rownums;
	MemoryContext cxt = CurrentMemoryContext;
	MemoryContext gcxt;
	ResourceOwner owner = CurrentResourceOwner;

	InitMaterializedSRF(fcinfo, 0);
	rel = CowOpenChecked(PG_GETARG_OID(0), ACL_SELECT);
	desc = RelationGetDescr(rel);
	CowLoadOptions(rel, GetActiveSnapshot(), &opts);
	versions = CowLoadVersions(CowStorageId(rel), GetActiveSnapshot(), true, &n);
	nblocks = CowPhysicalBlocks(rel);
	firsts = palloc0(sizeof(Datum *) * Max(n, 1));
	lasts = palloc0(sizeof(Datum *) * Max(n, 1));
	ok = palloc0(sizeof(bool) * Max(n, 1));
	numbered = palloc0(sizeof(bool) * Max(n, 1));
	CowVerifyOwner = owner;
	rownums = tuplesort_begin_datum(INT8OID, Int8LessOperator, InvalidOid,
									false, maintenance_work_mem, NULL,
									TUPLESORT_NONE);
	gcxt = AllocSetContextCreate(cxt, "incetl cow verify group",
								 ALLOCSET_DEFAULT_SIZES);
	if (opts.nkeys > 0)
	{
		keys = palloc0(sizeof(SortSupportData) * opts.nkeys);
		for (k = 0; k < opts.nkeys; k++)
		{
			Form_pg_attribute att = TupleDescAttr(desc, opts.key_attnums[k] - 1);

			keys[k].ssup_cxt = CurrentMemoryContext;
			keys[k].ssup_collation = att->attcollation;
			PrepareSortSupportFromOrderingOp(lookup_type_cache(att->atttypid,
															   TYPECACHE_LT_OPR)->lt_opr,
											 &keys[k]);
		}
	}

	for (i = 0; i < n; i++)
	{
		CowVersion *v = &versions[i];
		int			j;
		int64	   *rows = NULL;	/* set in PG_TRY, reset in PG_CATCH */
		uint64		nrows = 0;

		if (v->first_block < 1 || v->first_block + v->nblocks > nblocks)
		{
			CowReport(rsinfo, v, psprintf("extent %u+%u lies outside the relation (%u pages)",
										  v->first_block, v->nblocks, nblocks));
			continue;
		}
		for (j = 0; j < i; j++)
			if (v->first_block < versions[j].first_block + versions[j].nblocks &&
				versions[j].first_block < v->first_block + v->nblocks)
				CowReport(rsinfo, v, psprintf("extent overlaps file group " INT64_FORMAT,
											  versions[j].file_group_id));

		BeginInternalSubTransaction(NULL);
		MemoryContextSwitchTo(gcxt);
		PG_TRY();
		{
			CowDecodedGroup *g = CowDecodeGroup(rel, v, true, NULL, true);
			uint64		r;

			if (g->nrows != (uint64) v->row_count)
				CowReport(rsinfo, v, "row count differs from the catalog");
			if (opts.nkeys > 0 && g->nrows > 0)
			{
				for (r = 1; r < g->nrows; r++)
				{
					int			c = 0;

					for (k = 0; k < opts.nkeys && c == 0; k++)
					{
						int			a = opts.key_attnums[k] - 1;

						c = ApplySortComparator(g->values[a][r - 1], g->isnull[a][r - 1],
												g->values[a][r], g->isnull[a][r], &keys[k]);
					}
					if (c >= 0)
					{
						CowReport(rsinfo, v, psprintf("rows " UINT64_FORMAT " and " UINT64_FORMAT " are not in ascending key order",
													  r - 1, r));
						break;
					}
				}
				firsts[i] = MemoryContextAlloc(cxt, sizeof(Datum) * opts.nkeys);
				lasts[i] = MemoryContextAlloc(cxt, sizeof(Datum) * opts.nkeys);
				CowGroupKeyBounds(g->header, firsts[i], lasts[i]);
				ok[i] = true;
				for (k = 0; k < opts.nkeys && ok[i]; k++)
				{
					int			a = opts.key_attnums[k] - 1;

					if (ApplySortComparator(firsts[i][k], false, g->values[a][0], false, &keys[k]) != 0 ||
						ApplySortComparator(lasts[i][k], false, g->values[a][g->nrows - 1],
											false, &keys[k]) != 0)
					{
						CowReport(rsinfo, v, "first or last key in the header is not the first or last row's");
						ok[i] = false;
					}
				}
			}
			CowCheckMinMax(rsinfo, v, desc, g);
			rows = CowCheckRowNumbers(rsinfo, rel, v, g);
			nrows = g->nrows;
			ReleaseCurrentSubTransaction();
		}
		PG_CATCH();
		{
			ErrorData  *edata;

			MemoryContextSwitchTo(cxt);
			edata = CopyErrorData();
			FlushErrorState();
			RollbackAndReleaseCurrentSubTransaction();
			rows = NULL;
			CowReport(rsinfo, v, edata->detail ?
					  psprintf("%s: %s", edata->message, edata->detail) :
					  edata->message);
			FreeErrorData(edata);
		}
		PG_END_TRY();
		MemoryContextSwitchTo(cxt);
		CurrentResourceOwner = owner;

		/*
		 * The keys the header bounds the group by outlive its context; its
		 * row numbers go to the sort here, under the call's resource owner
		 * (a sort that spills keeps its files to the end).
		 */
		if (ok[i])
		{
			for (k = 0; k < opts.nkeys; k++)
			{
				Form_pg_attribute att = TupleDescAttr(desc, opts.key_attnums[k] - 1);

				firsts[i][k] = datumCopy(firsts[i][k], att->attbyval, att->attlen);
				lasts[i][k] = datumCopy(lasts[i][k], att->attbyval, att->attlen);
			}
		}
		if (rows != NULL)
		{
			for (uint64 r = 0; r < nrows; r++)
				tuplesort_putdatum(rownums, Int64GetDatum(rows[r]), false);
			numbered[i] = true;
		}
		MemoryContextReset(gcxt);
	}

	/* key ranges of groups must not overlap */
	for (i = 0; i < n && opts.nkeys > 0; i++)
	{
		int			j;

		if (!ok[i])
			continue;
		for (j = 0; j < n; j++)
		{
			int			c1 = 0,
						c2 = 0;

			if (j == i || !ok[j])
				continue;
			/* overlap when first_i <= last_j and first_j <= last_i */
			for (k = 0; k < opts.nkeys && c1 == 0; k++)
				c1 = ApplySortComparator(firsts[i][k], false, lasts[j][k], false, &keys[k]);
			for (k = 0; k < opts.nkeys && c2 == 0; k++)
				c2 = ApplySortComparator(firsts[j][k], false, lasts[i][k], false, &keys[k]);
			if (c1 <= 0 && c2 <= 0 && i < j)
				CowReport(rsinfo, &versions[i],
						  psprintf("key range overlaps file group " INT64_FORMAT,
								   versions[j].file_group_id));
		}
	}
	/* the current groups' row numbers are disjoint */
	CowCheckRowNumbersDisjoint(rsinfo, rel, versions, n, numbered, rownums);
	tuplesort_end(rownums);
	MemoryContextDelete(gcxt);
	relation_close(rel, AccessShareLock);
	return (Datum) 0;
}
