/*-------------------------------------------------------------------------
 *
 * cow_slot.c
 *	  The tuple table slot of incetl_cow: a virtual slot that decodes
 *	  lazily.
 *
 * A scan stores a row as (file group, row index) and nothing else.  The
 * executor asks for the attributes it needs with slot_getsomeattrs(); only
 * then are those columns of the file group decompressed (once per group),
 * so count(*) decompresses nothing and sum(c) stops at column c even when
 * the planner gave the scan a physical target list.  A group read by
 * block (by_block: scans, key ranges) decodes the block of each column
 * that holds the row, when the row is read; one read a few rows at a time
 * (single_values: index fetches, bitmap scans) decodes only the row's
 * value out of the decompressed block, or out of its few raw bytes
 * through the block's value block (CowGroupValue).  Materializing or
 * copying the slot fetches every attribute first.  A column added after a
 * file group was written reads as its missing value (atthasmissing /
 * attmissingval) in the *slot's* descriptor, as heap's slot_getmissingattrs
 * does: an ALTER TABLE rewrite reads the old rows through a slot with the
 * descriptor from before the ALTER, after the relation's own descriptor
 * lost its missing values (RelationClearMissing).  Copies to heap tuples
 * carry the row's TID in t_self (ANALYZE sorts its sample by it).
 * Of the system columns, ctid and tableoid are the slot's (tts_tid,
 * tts_tableOid); xmin, xmax, cmin and cmax are refused (0A000): no row
 * stores the transaction or command that wrote or deleted it.  The
 * exceptions are the slots whose row's writer is known: xmin of a slot
 * filled by a row lock or by the executor's own fetch of an old row
 * (tuple_lock, tuple_fetch_row_version with SnapshotAny; not a TID scan):
 * those set it (CowSlotSetXmin) to the transaction that wrote the row's
 * file group version, or ours for a row of our own, because the executor
 * reads it there (ExecOnConflictUpdate, ExecCheckTupleVisible, the foreign
 * key triggers); and xmin and xmax of the row a statement just wrote or
 * deleted, which RETURNING reads (CowSlotSetXmax): ours and 0 for a row
 * inserted or updated, ours as xmax for a row deleted.
 *
 * Copyright (c) 2026, incetl authors
 *
 * IDENTIFICATION
 *	  src/cow/cow_slot.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/sysattr.h"
#include "executor/tuptable.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "cow/read.h"
#include "cow/storage.h"

typedef struct CowTupleTableSlot
{
	VirtualTupleTableSlot base;
	CowDecodedGroup *group;		/* NULL once all attributes are in the slot */
	uint64		row;
	TransactionId xmin;			/* known writer (CowSlotSetXmin), or Invalid */
	bool		has_xmax;		/* xmax is known (CowSlotSetXmax) */
	TransactionId xmax;			/* then the deleter, or Invalid for none */
} CowTupleTableSlot;

static TupleTableSlotOps CowSlotOpsData;

static void cow_slot_clear(TupleTableSlot *slot);
static void cow_slot_getsomeattrs(TupleTableSlot *slot, int natts);
static inline void CowStoreRowInline(Relation rel, CowDecodedGroup *g,
									 uint64 row, int64 rownum,
									 TupleTableSlot *slot);
static void CowStoreRowValues(CowDecodedGroup *g, uint64 row,
							  TupleTableSlot *slot);
static void cow_slot_set_direct(TupleTableSlot *slot, CowDecodedGroup *g,
								uint64 row, int i);
static void cow_slot_set_all_direct(CowDecodedGroup *g);
static void cow_slot_getattr(TupleTableSlot *slot, CowDecodedGroup *g,
							 uint64 row, int i);
static void cow_slot_materialize(TupleTableSlot *slot);
static HeapTuple cow_slot_copy_heap_tuple(TupleTableSlot *slot);
static MinimalTuple cow_slot_copy_minimal_tuple(TupleTableSlot *slot);
static void cow_slot_copyslot(TupleTableSlot *dstslot, TupleTableSlot *srcslot);
static Datum cow_slot_getsysattr(TupleTableSlot *slot, int attnum,
								 bool *isnull);

static void
cow_slot_clear(TupleTableSlot *slot)
{
	((CowTupleTableSlot *) slot)->group = NULL;
	((CowTupleTableSlot *) slot)->xmin = InvalidTransactionId;
	((CowTupleTableSlot *) slot)->has_xmax = false;
	TTSOpsVirtual.clear(slot);
}

/*
 * Fill tts_values/isnull up to natts from the file group.  The common case
 * -- a column wholly decoded, or whose block holding the row is, or one
 * the plan does not read -- costs two array reads; anything else (a
 * column to decode first, dropped, added after the version was written)
 * takes cow_slot_getattr.
 */
static void
cow_slot_getsomeattrs(TupleTableSlot *slot, int natts)
{
	CowTupleTableSlot *cs = (CowTupleTableSlot *) slot;
	CowDecodedGroup *g = cs->group;
	uint64		row = cs->row;
	int			stored;
	int			i;

	if (g == NULL)
		elog(ERROR, "incetl_cow slot has no row to read attributes from");
	stored = Min((int) g->header->natts, g->natts);
	/* most rows: every column decoded or unwanted, tested once */
	if (likely(natts <= stored &&
			   row - g->all_direct.lo < g->all_direct.n))
	{
		Datum	  **values = g->values;
		bool	  **isnull = g->isnull;
		const bool *unwanted = g->unwanted;

		for (i = slot->tts_nvalid; i < natts; i++)
		{
			if (unwanted[i])
			{
				slot->tts_values[i] = (Datum) 0;
				slot->tts_isnull[i] = true;
			}
			else
			{
				slot->tts_values[i] = values[i][row];
				slot->tts_isnull[i] = isnull[i][row];
			}
		}
		slot->tts_nvalid = natts;
		return;
	}
	for (i = slot->tts_nvalid; i < natts; i++)
	{
		if (likely(i < stored && row - g->direct[i].lo < g->direct[i].n))
		{
			/* the row's block of the column is decoded */
			slot->tts_values[i] = g->values[i][row];
			slot->tts_isnull[i] = g->isnull[i][row];
		}
		else if (i < stored && g->unwanted[i])
		{
			slot->tts_values[i] = (Datum) 0;
			slot->tts_isnull[i] = true;
		}
		else
		{
			cow_slot_getattr(slot, g, row, i);
			if (i < stored)
				cow_slot_set_direct(slot, g, row, i);
		}
	}
	slot->tts_nvalid = natts;
}

/*
 * cow_slot_set_direct: after attribute i of row "row" was read the slow
 * way, the rows around it that the next rows' reads take straight from
 * g->values[i] and g->isnull[i]: the whole group's when the column is
 * decoded, the row's block when it is, the key range's rows of a block it
 * covers in part.
 */
static void
cow_slot_set_direct(TupleTableSlot *slot, CowDecodedGroup *g, uint64 row,
					int i)
{
	uint32		block_rows = g->header->block_rows;
	uint32		b = row / block_rows;
	uint64		lo = (uint64) b * block_rows;
	uint64		hi = Min(lo + block_rows, g->nrows);

	if (TupleDescAttr(slot->tts_tupleDescriptor, i)->attisdropped)
		return;
	if (g->decoded[i])
	{
		lo = 0;
		hi = g->nrows;
	}
	else if (g->block_done[i] == NULL || !g->block_done[i][b])
	{
		if (g->block_part == NULL || g->block_part[i] == NULL ||
			!g->block_part[i][b] || row < g->range_lo || row >= g->range_hi)
			return;
		lo = Max(lo, g->range_lo);
		hi = Min(hi, g->range_hi);
	}
	g->direct[i].lo = lo;
	g->direct[i].n = hi - lo;
	cow_slot_set_all_direct(g);
}

/*
 * cow_slot_set_all_direct: the rows of g every stored column the slot
 * reads takes straight from values/isnull (the intersection of their
 * direct rows), the others being unwanted (read as NULL); none while a
 * column is to be decoded first (or is dropped).
 */
static void
cow_slot_set_all_direct(CowDecodedGroup *g)
{
	int			stored = Min((int) g->header->natts, g->natts);
	uint64		lo = 0,
				hi = PG_UINT64_MAX;

	for (int i = 0; i < stored; i++)
	{
		if (g->unwanted[i])
			continue;
		lo = Max(lo, g->direct[i].lo);
		hi = Min(hi, g->direct[i].lo + g->direct[i].n);
	}
	g->all_direct.lo = lo;
	g->all_direct.n = hi > lo ? hi - lo : 0;
}

/* attribute i of row "row" of g into the slot, decoding it if need be */
static void
cow_slot_getattr(TupleTableSlot *slot, CowDecodedGroup *g, uint64 row, int i)
{
	TupleDesc	desc = slot->tts_tupleDescriptor;

	CowGroupReadDropped(g, desc, i);
	if (TupleDescAttr(desc, i)->attisdropped)
	{
		slot->tts_values[i] = (Datum) 0;
		slot->tts_isnull[i] = true;
	}
	else if ((uint32) i >= g->header->natts)
	{
		/* added after the version was written: the slot's default */
		slot->tts_values[i] = getmissingattr(desc, i + 1,
											 &slot->tts_isnull[i]);
	}
	else if (i < g->natts && g->decoded[i])
	{
		slot->tts_values[i] = g->values[i][row];
		slot->tts_isnull[i] = g->isnull[i][row];
	}
	else if (i < g->natts && g->unwanted[i])
	{
		slot->tts_values[i] = (Datum) 0;
		slot->tts_isnull[i] = true;
	}
	else if (g->single_values)
	{
		if (!CowGroupValue(g, i, row, &slot->tts_values[i],
						   &slot->tts_isnull[i]))
		{
			slot->tts_values[i] = (Datum) 0;
			slot->tts_isnull[i] = true;
		}
	}
	else if (g->by_block ? CowGroupRow(g, i, row) : CowGroupColumn(g, i))
	{
		slot->tts_values[i] = g->values[i][row];
		slot->tts_isnull[i] = g->isnull[i][row];
	}
	else
	{
		slot->tts_values[i] = (Datum) 0;
		slot->tts_isnull[i] = true;
	}
}

/*
 * CowSlotRowCommit: the commit the slot's row carries (a row carried
 * unchanged into a rewrite keeps its commit).  The group's commit ids are
 * decoded on first use.
 */
static int64
CowSlotRowCommit(CowTupleTableSlot *cs)
{
	CowDecodedGroup *g = cs->group;

	if (g->commit_ids == NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(g->cxt);

		g->commit_ids = CowDecodeCommitIds(g->rel, &g->version, g->header);
		MemoryContextSwitchTo(old);
	}
	return g->commit_ids[cs->row];
}

/*
 * CowSlotRowWriter: the transaction that wrote the slot's row -- the
 * writer of the commit the row carries, as heap's xmin is the inserter of
 * the tuple version.
 */
static TransactionId
CowSlotRowWriter(CowTupleTableSlot *cs)
{
	return CowCommitWriterXid(CowStorageId(cs->group->rel), CowSlotRowCommit(cs));
}

/*
 * CowSlotRowXmax: the slot's row's xmax when it is known, else sets *why
 * and returns InvalidTransactionId.  Heap's xmax of a row version is the
 * transaction that deleted, updated or locked it, 0 when none did.  A
 * version of ours is superseded whole by the merge of any write to one of
 * its rows (the updater of its catalog row), and row locks lock the whole
 * table (cow_row_lock.c): so 0 is known when the version was superseded
 * by no transaction (or by one that aborted) and no transaction -- another
 * one, or ours -- holds a row lock or the writers' lock on the table.
 * Otherwise which rows were deleted or locked is recorded nowhere (a
 * rewrite carries rows unchanged; a row lock does not name its rows).
 */
static TransactionId
CowSlotRowXmax(CowTupleTableSlot *cs, bool *known, const char **why)
{
	CowDecodedGroup *g = cs->group;
	TransactionId updater;

	*known = false;
	if (!ItemPointerIsValid(&g->version.catalog_tid))
	{
		*why = "The row was not read from a stored file group version.";
		return InvalidTransactionId;
	}
	updater = CowVersionUpdater(g->rel, &g->version);
	if (TransactionIdIsValid(updater))
	{
		*why = "Its file group version was rewritten by a later write, which deleted, updated or carried each of its rows; which is not recorded per row.";
		return InvalidTransactionId;
	}
	if (CowRowsLockedByOthers(g->rel))
	{
		*why = "Another transaction holds a row lock or the writers' lock on the table, which locks its rows as a whole; which rows it locked or is writing is not recorded per row.";
		return InvalidTransactionId;
	}
	if (CowRowsLockedByUs(RelationGetRelid(g->rel)))
	{
		*why = "This transaction took a row lock on the table, which locks its rows as a whole; which rows it locked is not recorded per row.";
		return InvalidTransactionId;
	}
	*known = true;
	return InvalidTransactionId;
}

/*
 * The system columns other than ctid and tableoid (slot_getsysattr answers
 * those from the slot itself).  A file group version is written by one
 * commit for all its rows, old and new, and rows carry incetl commit ids:
 * xmin is the transaction that wrote the row's commit, cmin and cmax (heap
 * reads both from one field of its tuple header) the command of that
 * transaction that wrote it, and xmax 0 when no transaction can have
 * deleted or locked the row (CowSlotRowXmax).  Where a value is not known,
 * a made-up one would be worse than none: 0A000.
 */
static Datum
cow_slot_getsysattr(TupleTableSlot *slot, int attnum, bool *isnull)
{
	CowTupleTableSlot *cs = (CowTupleTableSlot *) slot;
	const char *attname;
	const char *detail = "incetl_cow rows do not store the transaction or command that wrote or deleted them.";
	const char *hint = "ctid and tableoid are available; incetl.changes() and incetl.table_changes() tell which commit wrote a row.";
	char	   *relname;

	*isnull = false;
	if (attnum == MinTransactionIdAttributeNumber &&
		TransactionIdIsValid(cs->xmin))
		return TransactionIdGetDatum(cs->xmin);
	if (attnum == MinTransactionIdAttributeNumber && cs->group != NULL)
		return TransactionIdGetDatum(CowSlotRowWriter(cs));
	if (attnum == MaxTransactionIdAttributeNumber && cs->has_xmax)
		return TransactionIdGetDatum(cs->xmax);
	if ((attnum == MinCommandIdAttributeNumber ||
		 attnum == MaxCommandIdAttributeNumber) && cs->group != NULL)
		return CommandIdGetDatum(CowCommitWriterCid(CowStorageId(cs->group->rel),
													CowSlotRowCommit(cs)));
	if (attnum == MaxTransactionIdAttributeNumber && cs->group != NULL)
	{
		bool		known;
		TransactionId xmax = CowSlotRowXmax(cs, &known, &detail);

		if (known)
			return TransactionIdGetDatum(xmax);
		hint = "Read xmax when no other transaction is writing to or locking rows of the table, and before this one locks any.";
	}
	switch (attnum)
	{
		case MinTransactionIdAttributeNumber:
			attname = "xmin";
			break;
		case MaxTransactionIdAttributeNumber:
			attname = "xmax";
			break;
		case MinCommandIdAttributeNumber:
			attname = "cmin";
			break;
		case MaxCommandIdAttributeNumber:
			attname = "cmax";
			break;
		default:
			elog(ERROR, "invalid attnum: %d", attnum);
			attname = NULL;		/* keep compiler quiet */
	}
	relname = OidIsValid(slot->tts_tableOid) ?
		get_rel_name(slot->tts_tableOid) : NULL;
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("system column \"%s\" is not supported on incetl_cow table \"%s\"",
					attname, relname ? relname : "?"),
			 errdetail_internal("%s", detail),
			 errhint("%s", hint)));
	*isnull = true;
	return (Datum) 0;			/* keep compiler quiet */
}

static void
cow_slot_materialize(TupleTableSlot *slot)
{
	slot_getallattrs(slot);
	((CowTupleTableSlot *) slot)->group = NULL;
	TTSOpsVirtual.materialize(slot);
}

static HeapTuple
cow_slot_copy_heap_tuple(TupleTableSlot *slot)
{
	HeapTuple	tup;

	slot_getallattrs(slot);
	tup = TTSOpsVirtual.copy_heap_tuple(slot);
	tup->t_self = slot->tts_tid;
	return tup;
}

static MinimalTuple
cow_slot_copy_minimal_tuple(TupleTableSlot *slot)
{
	slot_getallattrs(slot);
	return TTSOpsVirtual.copy_minimal_tuple(slot);
}

/*
 * CowSlotSetXmin gives a filled slot of ours the transaction that wrote its
 * row (see the header comment); other slots are left alone.  Clearing the
 * slot forgets it.
 */
void
CowSlotSetXmin(TupleTableSlot *slot, TransactionId xmin)
{
	if (slot->tts_ops == &CowSlotOpsData && !TTS_EMPTY(slot))
		((CowTupleTableSlot *) slot)->xmin = xmin;
}

/*
 * CowSlotSetXmax gives a filled slot of ours the transaction that deleted
 * its row, InvalidTransactionId for a live row, when it is known: the row
 * the running statement just wrote or deleted (see the header comment).
 */
void
CowSlotSetXmax(TupleTableSlot *slot, TransactionId xmax)
{
	if (slot->tts_ops == &CowSlotOpsData && !TTS_EMPTY(slot))
	{
		((CowTupleTableSlot *) slot)->has_xmax = true;
		((CowTupleTableSlot *) slot)->xmax = xmax;
	}
}

/*
 * A copy of a row keeps its TID (and, from one of our slots, its known
 * xmin and xmax; from another slot, none), as
 * a copy of a heap slot keeps the tuple's t_self: RelationFindReplTupleSeq
 * (logical replication's apply worker) locks the row it copied out of its
 * scan by the copy's TID.  The virtual slot's copy would leave it invalid.
 */
static void
cow_slot_copyslot(TupleTableSlot *dstslot, TupleTableSlot *srcslot)
{
	TTSOpsVirtual.copyslot(dstslot, srcslot);
	dstslot->tts_tid = srcslot->tts_tid;
	((CowTupleTableSlot *) dstslot)->xmin = InvalidTransactionId;
	((CowTupleTableSlot *) dstslot)->has_xmax = false;
	if (srcslot->tts_ops == &CowSlotOpsData)
	{
		((CowTupleTableSlot *) dstslot)->xmin =
			((CowTupleTableSlot *) srcslot)->xmin;
		((CowTupleTableSlot *) dstslot)->has_xmax =
			((CowTupleTableSlot *) srcslot)->has_xmax;
		((CowTupleTableSlot *) dstslot)->xmax =
			((CowTupleTableSlot *) srcslot)->xmax;
	}
}

const TupleTableSlotOps *
CowSlotOps(void)
{
	if (CowSlotOpsData.base_slot_size == 0)
	{
		CowSlotOpsData = TTSOpsVirtual;
		CowSlotOpsData.base_slot_size = sizeof(CowTupleTableSlot);
		CowSlotOpsData.clear = cow_slot_clear;
		CowSlotOpsData.getsomeattrs = cow_slot_getsomeattrs;
		CowSlotOpsData.getsysattr = cow_slot_getsysattr;
		CowSlotOpsData.materialize = cow_slot_materialize;
		CowSlotOpsData.copy_heap_tuple = cow_slot_copy_heap_tuple;
		CowSlotOpsData.copy_minimal_tuple = cow_slot_copy_minimal_tuple;
		CowSlotOpsData.copyslot = cow_slot_copyslot;
	}
	return &CowSlotOpsData;
}

/*
 * CowStoreRow puts row "row" of g into slot: lazily into our own slots,
 * decoded at once into any other kind.
 */
void
CowStoreRow(Relation rel, CowDecodedGroup *g, uint64 row, TupleTableSlot *slot)
{
	CowStoreRowInline(rel, g, row, -1, slot);
}

/*
 * CowStoreRowNumbered is CowStoreRow for a caller that knows the row's
 * number (an index fetch looked the row up by it): the slot's TID is made
 * from rownum instead of the group's row-number map, which a group opened
 * for one row would otherwise copy (CowGroupRowNumber).  rownum -1: not
 * known.
 */
void
CowStoreRowNumbered(Relation rel, CowDecodedGroup *g, uint64 row,
					int64 rownum, TupleTableSlot *slot)
{
	CowStoreRowInline(rel, g, row, rownum, slot);
}

/*
 * CowStoreRowInline: both of the above, the common case first (a scan
 * stores every row it returns this way).
 */
static inline void
CowStoreRowInline(Relation rel, CowDecodedGroup *g, uint64 row, int64 rownum,
				  TupleTableSlot *slot)
{
	if (likely(slot->tts_ops == &CowSlotOpsData))
	{
		CowTupleTableSlot *cs = (CowTupleTableSlot *) slot;

		/* what ExecClearTuple does, without its calls, for a slot that owns nothing */
		if (unlikely(TTS_SHOULDFREE(slot)))
			ExecClearTuple(slot);
		cs->group = g;
		cs->row = row;
		cs->xmin = InvalidTransactionId;
		cs->has_xmax = false;
		slot->tts_flags &= ~TTS_FLAG_EMPTY;
		slot->tts_nvalid = 0;
	}
	else
		CowStoreRowValues(g, row, slot);
	Assert(rownum < 0 || rownum == CowGroupRowNumber(g, row));
	CowRowNumberToTid(rownum >= 0 ? rownum : CowGroupRowNumber(g, row),
					  &slot->tts_tid);
	slot->tts_tableOid = RelationGetRelid(rel);
}

/*
 * CowStoreRowValues: the values of row "row" of g into a slot of another
 * kind, decoded now.
 */
static pg_noinline void
CowStoreRowValues(CowDecodedGroup *g, uint64 row, TupleTableSlot *slot)
{
	TupleDesc	desc = slot->tts_tupleDescriptor;
	int			i;

	ExecClearTuple(slot);
	for (i = 0; i < desc->natts; i++)
	{
		CowGroupReadDropped(g, desc, i);
		if (!TupleDescAttr(desc, i)->attisdropped &&
			(uint32) i >= g->header->natts)
			slot->tts_values[i] = getmissingattr(desc, i + 1,
												 &slot->tts_isnull[i]);
		else if (!TupleDescAttr(desc, i)->attisdropped && g->single_values &&
				 CowGroupValue(g, i, row, &slot->tts_values[i],
							   &slot->tts_isnull[i]))
			continue;
		else if (!TupleDescAttr(desc, i)->attisdropped && !g->single_values &&
				 (g->by_block ? CowGroupRow(g, i, row) : CowGroupColumn(g, i)))
		{
			slot->tts_values[i] = g->values[i][row];
			slot->tts_isnull[i] = g->isnull[i][row];
		}
		else
		{
			slot->tts_values[i] = (Datum) 0;
			slot->tts_isnull[i] = true;
		}
	}
	ExecStoreVirtualTuple(slot);
}
