/*-------------------------------------------------------------------------
 *
 * cow_row_images.c
 *	  Images of the rows a transaction writes into incetl_cow tables that
 *	  have AFTER ROW INSERT or UPDATE triggers, for the after-trigger
 *	  queue's fetches of NEW.
 *
 * The after-trigger queue keeps each new row by TID -- the pending TID its
 * slot got when the statement buffered it -- and fetches it when the
 * event fires: immediate triggers after the statement's merge (cow_hooks.c),
 * deferred ones at commit.  By then a row is stored under a real row
 * number (the merge records which, CowNoteRowsMoved, and the fetch gives
 * it), or was not stored at all (collapsed by a later row of its key, lost
 * to a newer stored row, a delete marker, its subtransaction rolled back),
 * and NEW is still the row as the statement wrote it, as on heap.  So,
 * only for a relation with AFTER ROW INSERT or UPDATE triggers (foreign
 * keys included), each buffered row's image is kept here, by pending row
 * number, for the rest of the transaction.  Plain loads keep nothing, nor
 * do loads of tables whose only such triggers are the unique_key_recheck
 * triggers of deferrable constraints: the merge queues their events at
 * real TIDs (cow_unique.c).
 *
 * Images take memory up to work_mem; past it they are appended to a
 * temporary file of the transaction (BufFile, under temp_tablespaces), so
 * a large statement costs disk rather than memory: the hash entry of a
 * row (its pending row number, relation and place) stays in memory, as
 * an event does in PostgreSQL's own queue.  The file is closed when the
 * transaction commits or prepares, after its deferred triggers fired; an
 * abort closes it through the transaction's resource owner.
 *
 * Copyright (c) 2026, incetl authors
 *
 * IDENTIFICATION
 *	  src/cow/cow_row_images.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/pg_trigger.h"
#include "commands/tablespace.h"
#include "commands/trigger.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "storage/buffile.h"
#include "storage/proc.h"
#include "utils/fmgroids.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/resowner.h"

#include "cow/write.h"

typedef struct CowRowImage
{
	int64		pending;		/* hash key: the pending row number */
	Oid			relid;
	uint32		len;			/* the minimal tuple's t_len */
	MinimalTuple image;			/* in memory, or NULL: in the file */
	int			fileno;			/* place in the file (BufFileTell) */
	off_t		offset;
} CowRowImage;

typedef struct CowRowImages
{
	LocalTransactionId lxid;	/* the transaction they belong to */
	MemoryContext cxt;			/* under TopTransactionContext */
	HTAB	   *rows;			/* CowRowImage by pending row number */
	Size		mem_bytes;		/* images held in memory */
	BufFile    *file;			/* images past work_mem, or NULL */
	int			end_fileno;		/* its end, where the next image goes */
	off_t		end_offset;
} CowRowImages;

static CowRowImages Images = {InvalidLocalTransactionId};

static bool
CowRowImagesCurrent(void)
{
	return Images.rows != NULL && Images.lxid == MyProc->lxid;
}

/*
 * CowKeepsRowImages: does a row written into rel need its image kept?
 * Only for AFTER ROW INSERT or UPDATE triggers other than the
 * unique_key_recheck triggers of deferrable constraints (the merge queues
 * those at the rows' real TIDs).
 */
bool
CowKeepsRowImages(Relation rel)
{
	TriggerDesc *td = rel->trigdesc;
	int			i;

	if (td == NULL || !(td->trig_insert_after_row || td->trig_update_after_row))
		return false;
	for (i = 0; i < td->numtriggers; i++)
	{
		Trigger    *t = &td->triggers[i];

		if (TRIGGER_FOR_ROW(t->tgtype) && TRIGGER_FOR_AFTER(t->tgtype) &&
			(TRIGGER_FOR_INSERT(t->tgtype) || TRIGGER_FOR_UPDATE(t->tgtype)) &&
			t->tgfoid != F_UNIQUE_KEY_RECHECK)
			return true;
	}
	return false;
}

/* append tuple to the transaction's file, creating it at the first */
static void
CowRowImageToFile(CowRowImage *e, MinimalTuple tuple)
{
	if (Images.file == NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(Images.cxt);
		ResourceOwner owner = CurrentResourceOwner;

		/*
		 * The file lives as long as the transaction: a subtransaction's
		 * abort must not close it under the images of the rows before it.
		 */
		PrepareTempTablespaces();
		CurrentResourceOwner = TopTransactionResourceOwner;
		Images.file = BufFileCreateTemp(false);
		CurrentResourceOwner = owner;
		MemoryContextSwitchTo(old);
	}
	else if (BufFileSeek(Images.file, Images.end_fileno, Images.end_offset,
						 SEEK_SET) != 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not seek in a temporary file of row images")));

	/*
	 * Our own end rather than SEEK_END: that is the size on disk, without
	 * what is still in the file's buffer.
	 */
	e->fileno = Images.end_fileno;
	e->offset = Images.end_offset;
	BufFileWrite(Images.file, tuple, tuple->t_len);
	BufFileTell(Images.file, &Images.end_fileno, &Images.end_offset);
}

/*
 * CowKeepRowImage keeps the image of the row rel's statement buffered
 * under pending row number pending.
 */
void
CowKeepRowImage(Relation rel, int64 pending, Datum *values, bool *isnull)
{
	CowRowImage *e;
	MemoryContext old;
	MinimalTuple tuple;
	bool		found;

	if (!CowRowImagesCurrent())
	{
		HASHCTL		ctl;

		/* the previous transaction's images went with its memory */
		memset(&Images, 0, sizeof(Images));
		Images.cxt = AllocSetContextCreate(TopTransactionContext,
										   "incetl cow row images",
										   ALLOCSET_DEFAULT_SIZES);
		ctl.keysize = sizeof(int64);
		ctl.entrysize = sizeof(CowRowImage);
		ctl.hcxt = Images.cxt;
		Images.rows = hash_create("incetl cow row images", 256, &ctl,
								  HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
		Images.lxid = MyProc->lxid;
	}
	e = hash_search(Images.rows, &pending, HASH_ENTER, &found);
	if (found && e->image != NULL)
	{
		Images.mem_bytes -= GetMemoryChunkSpace(e->image);
		pfree(e->image);
	}
	e->relid = RelationGetRelid(rel);
	old = MemoryContextSwitchTo(Images.cxt);
	tuple = heap_form_minimal_tuple(RelationGetDescr(rel), values, isnull);
	MemoryContextSwitchTo(old);
	e->len = tuple->t_len;
	if (Images.mem_bytes + GetMemoryChunkSpace(tuple) <= (Size) work_mem * 1024L)
	{
		e->image = tuple;
		Images.mem_bytes += GetMemoryChunkSpace(tuple);
	}
	else
	{
		e->image = NULL;
		CowRowImageToFile(e, tuple);
		pfree(tuple);
	}
}

/*
 * CowFetchPendingRow puts into slot the row this transaction buffered
 * under pending row number rownum, as the statement wrote it, with the
 * real TID it was stored under (else the pending one) and our xid as
 * xmin; false when no image was kept (a relation without AFTER ROW
 * triggers, see above).  It merges nothing.
 */
bool
CowFetchPendingRow(Relation rel, int64 rownum, TupleTableSlot *slot)
{
	CowRowImage *e;
	int64		stored;

	if (!CowRowImagesCurrent())
		return false;
	e = hash_search(Images.rows, &rownum, HASH_FIND, NULL);
	if (e == NULL || e->relid != RelationGetRelid(rel))
		return false;
	if (e->image != NULL)
		ExecForceStoreMinimalTuple(e->image, slot, false);
	else
	{
		MinimalTuple tuple = palloc(e->len);

		if (BufFileSeek(Images.file, e->fileno, e->offset, SEEK_SET) != 0 ||
			BufFileRead(Images.file, tuple, e->len) != e->len)
			ereport(ERROR,
					(errcode_for_file_access(),
					 errmsg("could not read the image of a row of \"%s\" from a temporary file",
							RelationGetRelationName(rel))));
		ExecForceStoreMinimalTuple(tuple, slot, true);
	}
	ExecMaterializeSlot(slot);
	stored = CowMovedTo(rel, rownum);
	CowRowNumberToTid(stored != 0 ? stored : rownum, &slot->tts_tid);
	slot->tts_tableOid = RelationGetRelid(rel);
	CowSlotSetXmin(slot, GetCurrentTransactionId());
	return true;
}

static void
CowRowImagesXactCallback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_PARALLEL_COMMIT:
		case XACT_EVENT_PREPARE:

			/*
			 * Every after-trigger event has fired; close the file before
			 * the resource owner would report it as leaked.  (MyProc->lxid
			 * is already reset: whatever Images holds is this
			 * transaction's, the previous one's were cleared at its end.)
			 */
			if (Images.file != NULL)
				BufFileClose(Images.file);
			memset(&Images, 0, sizeof(Images));
			break;
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
			/* the resource owner closes the file, the memory goes */
			memset(&Images, 0, sizeof(Images));
			break;
		default:
			break;
	}
}

void
CowRowImagesInit(void)
{
	RegisterXactCallback(CowRowImagesXactCallback, NULL);
}
