/*-------------------------------------------------------------------------
 *
 * cow_logical.c
 *	  The WAL records that make the rows of incetl_cow tables visible to
 *	  logical decoding.
 *
 * incetl_cow logs the pages of the file group versions it writes whole
 * (log_newpage_buffer) and its metapage as generic WAL: enough for crash
 * recovery and standbys, nothing logical decoding can read.  So, when
 * wal_level = logical and the table is one logical decoding sees (a
 * permanent user table: RelationIsLogicallyLogged), a write also logs what
 * it changed row by row: a merge (cow_merge.c) and a restore
 * (cow_savepoint.c) report each row they insert, update or delete here, in
 * order, and these functions log them, many rows a record, in the writing
 * transaction (its subtransaction's xid), before its commit record.
 * cow_decode.c, the custom WAL resource manager, turns the records into
 * the insert, update and delete changes heap records decode to; a rolled
 * back transaction's records are dropped by decoding as heap's are.
 *
 * Tuples are heap tuples of the table's descriptor (heap_form_tuple), as
 * decoding hands them to output plugins.  The old tuple follows the
 * table's replica identity as heap_update and heap_delete log it: FULL,
 * the whole old row; DEFAULT (the primary key) or USING INDEX, the
 * identity's columns (the others NULL), for an update only when one of
 * them changed; NOTHING, or DEFAULT without a primary key, none.
 *
 * Copyright (c) 2026, incetl authors
 *
 * IDENTIFICATION
 *	  src/cow/cow_logical.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/sysattr.h"
#include "access/xact.h"
#include "access/xloginsert.h"
#include "catalog/catalog.h"
#include "catalog/pg_class.h"
#include "lib/stringinfo.h"
#include "utils/datum.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/relcache.h"

#include "cow/write.h"

/*
 * A record is written once this many bytes of changes are waiting; they
 * are compressed (zstd, fast level: rows of one table compress well, and a
 * record is small enough for decoding to hold).
 */
#define COW_LOGICAL_RECORD_BYTES	(128 * 1024)
#define COW_LOGICAL_ZSTD_LEVEL		1

struct CowLogicalLog
{
	Relation	rel;
	TupleDesc	desc;
	char		replident;		/* REPLICA_IDENTITY_* */
	Bitmapset  *idattrs;		/* identity key columns (attnum -
								 * FirstLowInvalidHeapAttributeNumber) */
	StringInfoData buf;			/* xl_cow_changes and the changes so far */
	uint32		nchanges;
	MemoryContext cxt;			/* tuples of the current change */
};

/*
 * CowLogicalBegin: a log for one merge or restore of rel, or NULL when
 * logical decoding does not see rel (wal_level below logical, a temporary
 * or unlogged table, a transient table of a rewrite -- callers do not ask
 * for one then).
 */
CowLogicalLog *
CowLogicalBegin(Relation rel)
{
	CowLogicalLog *log;
	xl_cow_changes hdr;

	if (!RelationIsLogicallyLogged(rel))
		return NULL;
	log = palloc0(sizeof(CowLogicalLog));
	log->rel = rel;
	log->desc = RelationGetDescr(rel);
	log->replident = rel->rd_rel->relreplident;
	if (log->replident == REPLICA_IDENTITY_DEFAULT ||
		log->replident == REPLICA_IDENTITY_INDEX)
		log->idattrs = RelationGetIndexAttrBitmap(rel,
												  INDEX_ATTR_BITMAP_IDENTITY_KEY);
	log->cxt = AllocSetContextCreate(CurrentMemoryContext,
									 "incetl cow logical change",
									 ALLOCSET_DEFAULT_SIZES);
	initStringInfo(&log->buf);
	memset(&hdr, 0, sizeof(hdr));
	hdr.node = rel->rd_node;
	appendBinaryStringInfo(&log->buf, (char *) &hdr, SizeOfCowChanges);
	return log;
}

/* CowLogicalFlush logs the changes waiting, if any, as one record. */
static void
CowLogicalFlush(CowLogicalLog *log)
{
	Size		rawlen = log->buf.len - SizeOfCowChanges;
	Size		zlen = 0;
	char	   *z;
	uint32		zraw = 0;

	if (log->nchanges == 0)
		return;
	z = CowCompress(log->buf.data + SizeOfCowChanges, rawlen,
					COW_LOGICAL_ZSTD_LEVEL, &zlen);
	if (z != NULL)
		zraw = (uint32) rawlen;
	memcpy(log->buf.data + offsetof(xl_cow_changes, nchanges),
		   &log->nchanges, sizeof(uint32));
	memcpy(log->buf.data + offsetof(xl_cow_changes, rawlen),
		   &zraw, sizeof(uint32));

	/* the record carries the xid: assign it first (that may log too) */
	(void) GetCurrentTransactionId();
	XLogBeginInsert();
	XLogSetRecordFlags(XLOG_INCLUDE_ORIGIN);
	if (z != NULL)
	{
		XLogRegisterData(log->buf.data, SizeOfCowChanges);
		XLogRegisterData(z, zlen);
	}
	else
		XLogRegisterData(log->buf.data, log->buf.len);
	(void) XLogInsert(COW_RMGR_ID, XLOG_COW_CHANGES);
	if (z != NULL)
		pfree(z);

	log->buf.len = SizeOfCowChanges;
	log->nchanges = 0;
}

/*
 * CowLogicalOldKey: the old tuple of an update or delete as the replica
 * identity wants it, or NULL for none.  new_values: an update's new row
 * (the identity's columns are logged only when one of them changed), or
 * NULL for a delete.
 */
static HeapTuple
CowLogicalOldKey(CowLogicalLog *log, Datum *old_values, bool *old_nulls,
				 Datum *new_values, bool *new_nulls)
{
	TupleDesc	desc = log->desc;
	Datum	   *values;
	bool	   *nulls;
	bool		changed = (new_values == NULL);
	int			i;

	if (log->replident == REPLICA_IDENTITY_FULL)
		return heap_form_tuple(desc, old_values, old_nulls);
	if (log->replident == REPLICA_IDENTITY_NOTHING || log->idattrs == NULL)
		return NULL;

	values = palloc(sizeof(Datum) * Max(desc->natts, 1));
	nulls = palloc(sizeof(bool) * Max(desc->natts, 1));
	for (i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (!bms_is_member(i + 1 - FirstLowInvalidHeapAttributeNumber,
						   log->idattrs))
		{
			values[i] = (Datum) 0;
			nulls[i] = true;
			continue;
		}
		values[i] = old_values[i];
		nulls[i] = old_nulls[i];
		if (!changed &&
			(old_nulls[i] != new_nulls[i] ||
			 (!old_nulls[i] &&
			  !datumIsEqual(old_values[i], new_values[i],
							att->attbyval, att->attlen))))
			changed = true;
	}
	if (!changed)
		return NULL;
	return heap_form_tuple(desc, values, nulls);
}

/* CowLogicalAdd appends one change; a record is logged when enough wait. */
static void
CowLogicalAdd(CowLogicalLog *log, uint8 action, HeapTuple oldtup,
			  HeapTuple newtup)
{
	xl_cow_change ch;

	memset(&ch, 0, sizeof(ch));
	ch.action = action;
	if (oldtup != NULL)
	{
		ch.flags |= COW_CHANGE_HAS_OLD;
		ch.old_len = oldtup->t_len;
	}
	if (newtup != NULL)
	{
		ch.flags |= COW_CHANGE_HAS_NEW;
		ch.new_len = newtup->t_len;
	}
	appendBinaryStringInfo(&log->buf, (char *) &ch, sizeof(ch));
	if (oldtup != NULL)
		appendBinaryStringInfo(&log->buf, (char *) oldtup->t_data, oldtup->t_len);
	if (newtup != NULL)
		appendBinaryStringInfo(&log->buf, (char *) newtup->t_data, newtup->t_len);
	log->nchanges++;
	MemoryContextReset(log->cxt);
	if (log->buf.len >= COW_LOGICAL_RECORD_BYTES)
		CowLogicalFlush(log);
}

/* CowLogicalInsert: a row was inserted. */
void
CowLogicalInsert(CowLogicalLog *log, Datum *values, bool *nulls)
{
	MemoryContext old = MemoryContextSwitchTo(log->cxt);
	HeapTuple	newtup = heap_form_tuple(log->desc, values, nulls);

	MemoryContextSwitchTo(old);
	CowLogicalAdd(log, COW_LOGICAL_INSERT, NULL, newtup);
}

/* CowLogicalUpdate: a row was replaced by another (of the same key). */
void
CowLogicalUpdate(CowLogicalLog *log, Datum *old_values, bool *old_nulls,
				 Datum *values, bool *nulls)
{
	MemoryContext old = MemoryContextSwitchTo(log->cxt);
	HeapTuple	oldtup = CowLogicalOldKey(log, old_values, old_nulls,
										  values, nulls);
	HeapTuple	newtup = heap_form_tuple(log->desc, values, nulls);

	MemoryContextSwitchTo(old);
	CowLogicalAdd(log, COW_LOGICAL_UPDATE, oldtup, newtup);
}

/* CowLogicalDelete: a row was deleted. */
void
CowLogicalDelete(CowLogicalLog *log, Datum *old_values, bool *old_nulls)
{
	MemoryContext old = MemoryContextSwitchTo(log->cxt);
	HeapTuple	oldtup = CowLogicalOldKey(log, old_values, old_nulls,
										  NULL, NULL);

	MemoryContextSwitchTo(old);
	CowLogicalAdd(log, COW_LOGICAL_DELETE, oldtup, NULL);
}

/* CowLogicalEnd logs the changes still waiting and frees the log. */
void
CowLogicalEnd(CowLogicalLog *log)
{
	if (log == NULL)
		return;
	CowLogicalFlush(log);
	pfree(log->buf.data);
	MemoryContextDelete(log->cxt);
	bms_free(log->idattrs);
	pfree(log);
}
