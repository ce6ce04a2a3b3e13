/*-------------------------------------------------------------------------
 *
 * cow_spill.c
 *	  A statement's rows beyond its memory budget, sorted on disk.
 *
 * cow_write_state.c buffers a statement's rows in memory.  When the buffer
 * outgrows maintenance_work_mem and the rows cannot simply be merged in
 * parts (see there), they move here: into a tuplesort ordered exactly as
 * the merge orders incoming rows -- record key, precombine NULLS FIRST,
 * arrival -- which spills to temporary files beyond maintenance_work_mem.
 * At the end of the statement cow_merge.c reads the rows back in that
 * order, one at a time, and merges them with the stored file groups in a
 * single pass, so a statement of any size runs in bounded memory and
 * still sees all its rows at once (a delete marker early in a statement
 * stops an older row of the same key later in it).
 *
 * A spilled row carries three columns after the table's: its arrival
 * number, a word holding the subtransaction that buffered it and whether it
 * came from an UPDATE, and the commit that wrote it (0 for a statement's
 * rows; a table rewrite, which sorts stored rows here too, keeps them).
 * A spilled row cannot be taken out again when its subtransaction aborts;
 * instead the abort is remembered (subtransaction id, next arrival number)
 * and such rows are skipped when read back.
 *
 * The tuplesort's temporary files belong to the top transaction's resource
 * owner (a statement's subtransaction may end before the rows are read),
 * and its memory to the write state's transaction-long context.
 *
 * Copyright (c) 2026, incetl authors
 *
 * IDENTIFICATION
 *	  src/cow/cow_spill.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/detoast.h"
#include "access/tupdesc.h"
#include "access/xact.h"
#include "catalog/pg_operator.h"
#include "catalog/pg_type.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/tuplesort.h"
#include "utils/typcache.h"

#include "cow/write.h"

#define COW_SPILL_UPDATE		0x1
#define COW_SPILL_SUBID_SHIFT	1

typedef struct CowSpillAbort
{
	SubTransactionId subid;		/* rows of this subtransaction or later ... */
	int64		before_seq;		/* ... that arrived before this are dead */
} CowSpillAbort;

struct CowSpill
{
	Tuplesortstate *sort;
	TupleDesc	desc;			/* the table's attributes + seq, flags,
								 * commit id (+ pending row number, when
								 * kept) */
	TupleTableSlot *slot;		/* to put rows */
	TupleTableSlot *rslot;		/* to read them back */
	int			natts;			/* the table's */
	int64		nrows;			/* rows put, tombstones included */
	int64		ntombstones;
	bool		sorted;
	bool		keep_pending;	/* rows keep their pending row numbers: the
								 * table has AFTER ROW triggers, whose
								 * events address new rows by them
								 * (CowNoteRowsMoved) */
	List	   *aborts;			/* of CowSpillAbort * */
};

/*
 * Runs a tuplesort call with the top transaction's resource owner, which
 * then owns any temporary file the call creates.
 */
#define COW_AS_TOP_OWNER(stmt) \
	do { \
		ResourceOwner save_owner_ = CurrentResourceOwner; \
		CurrentResourceOwner = TopTransactionResourceOwner; \
		stmt; \
		CurrentResourceOwner = save_owner_; \
	} while (0)

/*
 * CowSpillBegin creates the sort for rel's rows under opts, in cxt (which
 * must live as long as the rows are pending).
 */
CowSpill *
CowSpillBegin(Relation rel, const CowOptions *opts, MemoryContext cxt)
{
	MemoryContext old = MemoryContextSwitchTo(cxt);
	TupleDesc	reldesc = RelationGetDescr(rel);
	CowSpill   *s = palloc0(sizeof(CowSpill));
	int			nsort = opts->nkeys + 1 +
		(opts->precombine_attnum != InvalidAttrNumber ? 1 : 0);
	AttrNumber *attnums = palloc(sizeof(AttrNumber) * nsort);
	Oid		   *ops = palloc(sizeof(Oid) * nsort);
	Oid		   *colls = palloc(sizeof(Oid) * nsort);
	bool	   *nullsfirst = palloc(sizeof(bool) * nsort);
	int			n = 0;
	int			i;

	s->natts = reldesc->natts;
	s->keep_pending = rel->trigdesc != NULL &&
		(rel->trigdesc->trig_insert_after_row ||
		 rel->trigdesc->trig_update_after_row);
	s->desc = CreateTemplateTupleDesc(s->natts + (s->keep_pending ? 4 : 3));
	for (i = 0; i < s->natts; i++)
		TupleDescCopyEntry(s->desc, i + 1, reldesc, i + 1);
	TupleDescInitEntry(s->desc, s->natts + 1, "incetl_seq", INT8OID, -1, 0);
	TupleDescInitEntry(s->desc, s->natts + 2, "incetl_flags", INT8OID, -1, 0);
	TupleDescInitEntry(s->desc, s->natts + 3, "incetl_commit", INT8OID, -1, 0);
	if (s->keep_pending)
		TupleDescInitEntry(s->desc, s->natts + 4, "incetl_pending", INT8OID, -1, 0);
	s->slot = MakeSingleTupleTableSlot(s->desc, &TTSOpsVirtual);
	s->rslot = MakeSingleTupleTableSlot(s->desc, &TTSOpsMinimalTuple);

	for (i = 0; i < opts->nkeys + 1; i++)
	{
		AttrNumber	a;
		TypeCacheEntry *tc;

		if (i < opts->nkeys)
			a = opts->key_attnums[i];
		else if (opts->precombine_attnum != InvalidAttrNumber)
			a = opts->precombine_attnum;
		else
			break;
		tc = lookup_type_cache(TupleDescAttr(reldesc, a - 1)->atttypid,
							   TYPECACHE_LT_OPR);
		if (!OidIsValid(tc->lt_opr))
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_FUNCTION),
					 errmsg("column \"%s\" has type %s, which has no default btree ordering",
							NameStr(TupleDescAttr(reldesc, a - 1)->attname),
							format_type_be(TupleDescAttr(reldesc, a - 1)->atttypid))));
		attnums[n] = a;
		ops[n] = tc->lt_opr;
		colls[n] = TupleDescAttr(reldesc, a - 1)->attcollation;
		nullsfirst[n] = true;
		n++;
	}
	attnums[n] = s->natts + 1;	/* arrival order */
	ops[n] = Int8LessOperator;
	colls[n] = InvalidOid;
	nullsfirst[n] = false;
	n++;

	COW_AS_TOP_OWNER(s->sort = tuplesort_begin_heap(s->desc, n, attnums, ops,
													colls, nullsfirst,
													maintenance_work_mem,
													NULL, TUPLESORT_NONE));
	MemoryContextSwitchTo(old);
	return s;
}

/*
 * CowSpillPut adds one row (values already detoasted) with its arrival
 * number (row->seq), subtransaction, UPDATE flag and commit id.  A
 * tombstone is a delete-marker row that was already merged by an earlier
 * part of the statement: it is put so that it still outranks older rows of
 * its key.
 */
void
CowSpillPut(CowSpill *s, CowRow *row, SubTransactionId subid, bool tombstone)
{
	TupleTableSlot *slot = s->slot;

	Assert(!s->sorted);
	ExecClearTuple(slot);
	for (int a = 0; a < s->natts; a++)
		slot->tts_values[a] = CowRowValue(row, a, &slot->tts_isnull[a]);
	slot->tts_values[s->natts] = Int64GetDatum(row->seq);
	slot->tts_isnull[s->natts] = false;
	slot->tts_values[s->natts + 1] =
		Int64GetDatum(((int64) subid << COW_SPILL_SUBID_SHIFT) |
					  (row->is_update ? COW_SPILL_UPDATE : 0));
	slot->tts_isnull[s->natts + 1] = false;
	slot->tts_values[s->natts + 2] = Int64GetDatum(row->commit_id);
	slot->tts_isnull[s->natts + 2] = false;
	if (s->keep_pending)
	{
		slot->tts_values[s->natts + 3] = Int64GetDatum(row->pending);
		slot->tts_isnull[s->natts + 3] = false;
	}
	ExecStoreVirtualTuple(slot);
	COW_AS_TOP_OWNER(tuplesort_puttupleslot(s->sort, slot));
	s->nrows++;
	if (tombstone)
		s->ntombstones++;
}

/* Rows put that are not tombstones. */
int64
CowSpillRowCount(CowSpill *s)
{
	return s->nrows - s->ntombstones;
}

/*
 * CowSpillNoteAbort remembers that subtransaction subid (and everything
 * under it) aborted after rows up to arrival number next_seq - 1 came in.
 */
void
CowSpillNoteAbort(CowSpill *s, SubTransactionId subid, int64 next_seq,
				  MemoryContext cxt)
{
	CowSpillAbort *a = MemoryContextAlloc(cxt, sizeof(CowSpillAbort));
	MemoryContext old = MemoryContextSwitchTo(cxt);

	a->subid = subid;
	a->before_seq = next_seq;
	s->aborts = lappend(s->aborts, a);
	MemoryContextSwitchTo(old);
}

/*
 * CowSpillNext returns the next live row in (key, precombine, arrival)
 * order as a CowRow allocated in one chunk of cxt (pfree it when done), or
 * NULL at the end.  The first call sorts.
 */
CowRow *
CowSpillNext(CowSpill *s, MemoryContext cxt)
{
	TupleTableSlot *slot = s->rslot;
	bool		got;

	if (!s->sorted)
	{
		COW_AS_TOP_OWNER(tuplesort_performsort(s->sort));
		s->sorted = true;
	}
	for (;;)
	{
		int64		seq;
		int64		flags;
		SubTransactionId subid;
		bool		dead = false;
		ListCell   *lc;

		CHECK_FOR_INTERRUPTS();
		COW_AS_TOP_OWNER(got = tuplesort_gettupleslot(s->sort, true, false,
													  slot, NULL));
		if (!got)
			return NULL;
		slot_getallattrs(slot);
		seq = DatumGetInt64(slot->tts_values[s->natts]);
		flags = DatumGetInt64(slot->tts_values[s->natts + 1]);
		subid = (SubTransactionId) (flags >> COW_SPILL_SUBID_SHIFT);
		foreach(lc, s->aborts)
		{
			CowSpillAbort *a = lfirst(lc);

			if (subid >= a->subid && seq < a->before_seq)
			{
				dead = true;
				break;
			}
		}
		if (dead)
			continue;
		{
			CowRow	   *row = CowRowFromValues(s->desc, s->natts,
											   slot->tts_values,
											   slot->tts_isnull, seq,
											   (flags & COW_SPILL_UPDATE) != 0,
											   cxt);

			row->spilled = true;
			row->commit_id = DatumGetInt64(slot->tts_values[s->natts + 2]);
			if (s->keep_pending)
				row->pending = DatumGetInt64(slot->tts_values[s->natts + 3]);
			return row;
		}
	}
}

/* CowSpillEnd releases the sort and its temporary files. */
void
CowSpillEnd(CowSpill *s)
{
	COW_AS_TOP_OWNER(tuplesort_end(s->sort));
	ExecDropSingleTupleTableSlot(s->slot);
	ExecDropSingleTupleTableSlot(s->rslot);
	FreeTupleDesc(s->desc);
	list_free_deep(s->aborts);
	pfree(s);
}

/*
 * CowRowFromValues copies a row into one chunk of cxt: the CowRow, its
 * values/isnull arrays and a copy of every by-reference value, so the
 * merge uses the row as it is (no tuple to form here and deform there) and
 * one pfree releases it.  Short varlenas are kept short; only out-of-line,
 * compressed or expanded values are detoasted.
 */
CowRow *
CowRowFromValues(TupleDesc desc, int natts, Datum *src, bool *isnull,
				 int64 seq, bool is_update, MemoryContext cxt)
{
	Size		hdr = MAXALIGN(sizeof(CowRow)) + MAXALIGN(sizeof(Datum) * natts) +
		MAXALIGN(sizeof(bool) * Max(natts, 1));
	Size		size = hdr;
	Datum		detoasted[MaxTupleAttributeNumber];
	CowRow	   *row;
	char	   *data;
	int			i;

	for (i = 0; i < natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		Datum		v = src[i];

		detoasted[i] = v;
		if (isnull[i] || att->attbyval)
			continue;
		if (att->attlen == -1)
		{
			if (VARATT_IS_EXTERNAL(DatumGetPointer(v)) ||
				VARATT_IS_COMPRESSED(DatumGetPointer(v)))
				detoasted[i] = v = PointerGetDatum(detoast_attr((struct varlena *)
																DatumGetPointer(v)));
			size = att_align_nominal(size, TYPALIGN_INT) +
				VARSIZE_ANY(DatumGetPointer(v));
		}
		else if (att->attlen == -2)
			size += strlen(DatumGetCString(v)) + 1;
		else
			size = att_align_nominal(size, att->attalign) + att->attlen;
	}
	row = MemoryContextAlloc(cxt, size);
	memset(row, 0, sizeof(CowRow));
	row->values = (Datum *) ((char *) row + MAXALIGN(sizeof(CowRow)));
	row->isnull = (bool *) ((char *) row->values + MAXALIGN(sizeof(Datum) * natts));
	memcpy(row->isnull, isnull, sizeof(bool) * (uint32) natts);	/* natts >= 0 */
	row->seq = seq;
	row->is_update = is_update;
	data = (char *) row;
	size = hdr;
	for (i = 0; i < natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		Datum		v = detoasted[i];
		Size		len;

		if (isnull[i])
		{
			row->values[i] = (Datum) 0;
			continue;
		}
		if (att->attbyval)
		{
			row->values[i] = v;
			continue;
		}
		if (att->attlen == -1)
		{
			size = att_align_nominal(size, TYPALIGN_INT);
			len = VARSIZE_ANY(DatumGetPointer(v));
		}
		else if (att->attlen == -2)
			len = strlen(DatumGetCString(v)) + 1;
		else
		{
			size = att_align_nominal(size, att->attalign);
			len = att->attlen;
		}
		memcpy(data + size, DatumGetPointer(v), len);
		row->values[i] = PointerGetDatum(data + size);
		size += len;
		if (v != src[i])
			pfree(DatumGetPointer(v));
	}
	return row;
}
