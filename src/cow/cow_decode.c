/*-------------------------------------------------------------------------
 *
 * cow_decode.c
 *	  The custom WAL resource manager of incetl_cow: decodes the row
 *	  changes cow_logical.c logs into the insert, update and delete
 *	  changes logical decoding queues for heap tables.
 *
 * Registered from _PG_init when the library is loaded by
 * shared_preload_libraries (it must be: every process that replays or
 * decodes WAL needs it, and RegisterCustomRmgr accepts nothing later).
 * Its id, COW_RMGR_ID, is one of the ids PostgreSQL leaves to extensions
 * (128-255; see doc/incetl_cow.md, Logical replication, on registering it).
 *
 * Redo does nothing: the pages a write changes are logged whole, by
 * records of their own; these records only describe the rows.  Decoding
 * follows heap_decode (src/backend/replication/logical/decode.c): nothing
 * before the snapshot builder has a full snapshot, nothing when fast
 * forwarding, only changes of the slot's database and of origins the
 * output plugin wants, each change queued in the record's transaction at
 * the record's position (many changes share it, as a heap multi-insert's
 * do).  Decoding then resolves the table from the RelFileNode and hands
 * the rows to the output plugin as heap rows.
 *
 * Copyright (c) 2026, incetl authors
 *
 * IDENTIFICATION
 *	  src/cow/cow_decode.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <zstd.h>

#include "access/htup_details.h"
#include "access/xlog_internal.h"
#include "access/xlogreader.h"
#include "miscadmin.h"
#include "replication/decode.h"
#include "replication/logical.h"
#include "replication/reorderbuffer.h"
#include "replication/snapbuild.h"

#include "cow/am.h"
#include "cow/write.h"

static void cow_rm_redo(XLogReaderState *record);
static void cow_rm_desc(StringInfo buf, XLogReaderState *record);
static const char *cow_rm_identify(uint8 info);
static void cow_rm_decode(LogicalDecodingContext *ctx, XLogRecordBuffer *buf);

static RmgrData CowRmgr = {
	.rm_name = COW_RMGR_NAME,
	.rm_redo = cow_rm_redo,
	.rm_desc = cow_rm_desc,
	.rm_identify = cow_rm_identify,
	.rm_decode = cow_rm_decode,
};

/* CowRmgrInit registers the resource manager (shared_preload_libraries). */
void
CowRmgrInit(void)
{
	if (process_shared_preload_libraries_in_progress)
		RegisterCustomRmgr(COW_RMGR_ID, &CowRmgr);
}

/* the pages are restored by their own full-page records: nothing to do */
static void
cow_rm_redo(XLogReaderState *record)
{
	uint8		info = XLogRecGetInfo(record) & ~XLR_INFO_MASK;

	if (info != XLOG_COW_CHANGES)
		elog(PANIC, "incetl_cow redo: unknown op code %u", info);
}

static const char *
cow_rm_identify(uint8 info)
{
	if ((info & ~XLR_INFO_MASK) == XLOG_COW_CHANGES)
		return "CHANGES";
	return NULL;
}

/*
 * CowRecordChanges: the header of an incetl_cow record into *hdr, and its
 * changes (decompressed into a palloc'd copy when they were compressed;
 * *copied says so), *len bytes.
 */
static char *
CowRecordChanges(XLogReaderState *record, xl_cow_changes *hdr, Size *len,
				 bool *copied)
{
	char	   *data = XLogRecGetData(record);
	Size		datalen = XLogRecGetDataLen(record);
	char	   *raw;
	size_t		n;

	*copied = false;
	if (datalen < SizeOfCowChanges)
		elog(ERROR, "incetl_cow record too short: %zu bytes", datalen);
	memcpy(hdr, data, SizeOfCowChanges);
	if (hdr->rawlen == 0)
	{
		*len = datalen - SizeOfCowChanges;
		return data + SizeOfCowChanges;
	}
	raw = palloc(hdr->rawlen);
	n = ZSTD_decompress(raw, hdr->rawlen, data + SizeOfCowChanges,
						datalen - SizeOfCowChanges);
	if (ZSTD_isError(n) || n != hdr->rawlen)
		elog(ERROR, "could not decompress incetl_cow record at %X/%X: %s",
			 LSN_FORMAT_ARGS(record->ReadRecPtr),
			 ZSTD_isError(n) ? ZSTD_getErrorName(n) : "size mismatch");
	*copied = true;
	*len = hdr->rawlen;
	return raw;
}

/*
 * The record's changes, counted by action: "rel 1663/5/16384; changes 3:
 * insert 1 update 1 delete 1".
 */
static void
cow_rm_desc(StringInfo buf, XLogReaderState *record)
{
	char	   *data;
	Size		len;
	bool		copied;
	xl_cow_changes hdr;
	Size		off = 0;
	uint32		counts[4] = {0, 0, 0, 0};

	if ((XLogRecGetInfo(record) & ~XLR_INFO_MASK) != XLOG_COW_CHANGES)
		return;
	data = CowRecordChanges(record, &hdr, &len, &copied);
	for (uint32 i = 0; i < hdr.nchanges && off + sizeof(xl_cow_change) <= len; i++)
	{
		xl_cow_change ch;

		memcpy(&ch, data + off, sizeof(ch));
		if (ch.action >= 1 && ch.action <= 3)
			counts[ch.action]++;
		off += sizeof(ch) + ch.old_len + ch.new_len;
	}
	appendStringInfo(buf, "rel %u/%u/%u; changes %u: insert %u update %u delete %u",
					 hdr.node.spcNode, hdr.node.dbNode, hdr.node.relNode,
					 hdr.nchanges, counts[COW_LOGICAL_INSERT],
					 counts[COW_LOGICAL_UPDATE], counts[COW_LOGICAL_DELETE]);
	if (hdr.rawlen > 0)
		appendStringInfo(buf, "; compressed %u bytes", hdr.rawlen);
	if (copied)
		pfree(data);
}

/* CowDecodeTuple copies a tuple image of the record into a tuple buffer. */
static ReorderBufferTupleBuf *
CowDecodeTuple(ReorderBuffer *rb, char *data, uint32 len)
{
	ReorderBufferTupleBuf *tb;

	if (len < SizeofHeapTupleHeader)
		elog(ERROR, "incetl_cow record holds a tuple of %u bytes", len);
	tb = ReorderBufferGetTupleBuf(rb, len - SizeofHeapTupleHeader);
	memcpy(tb->tuple.t_data, data, len);
	tb->tuple.t_len = len;
	ItemPointerSetInvalid(&tb->tuple.t_self);
	tb->tuple.t_tableOid = InvalidOid;
	return tb;
}

static void
cow_rm_decode(LogicalDecodingContext *ctx, XLogRecordBuffer *buf)
{
	XLogReaderState *r = buf->record;
	TransactionId xid = XLogRecGetXid(r);
	SnapBuild  *builder = ctx->snapshot_builder;
	char	   *data;
	Size		len;
	bool		copied;
	xl_cow_changes hdr;
	Size		off;

	ReorderBufferProcessXid(ctx->reorder, xid, buf->origptr);

	/* no snapshot yet, or just fast-forwarding: no data changes */
	if (SnapBuildCurrentState(builder) < SNAPBUILD_FULL_SNAPSHOT ||
		ctx->fast_forward)
		return;
	if ((XLogRecGetInfo(r) & ~XLR_INFO_MASK) != XLOG_COW_CHANGES)
		elog(ERROR, "incetl_cow decode: unknown op code %u",
			 XLogRecGetInfo(r) & ~XLR_INFO_MASK);
	if (!SnapBuildProcessChange(builder, xid, buf->origptr))
		return;

	/* only our database, and origins the output plugin wants */
	if (XLogRecGetDataLen(r) < SizeOfCowChanges)
		elog(ERROR, "incetl_cow record too short: %u bytes",
			 XLogRecGetDataLen(r));
	memcpy(&hdr, XLogRecGetData(r), SizeOfCowChanges);
	if (hdr.node.dbNode != ctx->slot->data.database)
		return;
	if (ctx->callbacks.filter_by_origin_cb != NULL &&
		filter_by_origin_cb_wrapper(ctx, XLogRecGetOrigin(r)))
		return;

	data = CowRecordChanges(r, &hdr, &len, &copied);
	off = 0;
	for (uint32 i = 0; i < hdr.nchanges; i++)
	{
		xl_cow_change ch;
		ReorderBufferChange *change;

		if (off + sizeof(ch) > len)
			elog(ERROR, "incetl_cow record truncated at change %u of %u",
				 i, hdr.nchanges);
		memcpy(&ch, data + off, sizeof(ch));
		off += sizeof(ch);
		if (off + ch.old_len + ch.new_len > len)
			elog(ERROR, "incetl_cow record truncated at change %u of %u",
				 i, hdr.nchanges);

		change = ReorderBufferGetChange(ctx->reorder);
		switch (ch.action)
		{
			case COW_LOGICAL_INSERT:
				change->action = REORDER_BUFFER_CHANGE_INSERT;
				break;
			case COW_LOGICAL_UPDATE:
				change->action = REORDER_BUFFER_CHANGE_UPDATE;
				break;
			case COW_LOGICAL_DELETE:
				change->action = REORDER_BUFFER_CHANGE_DELETE;
				break;
			default:
				elog(ERROR, "incetl_cow record holds unknown change %u",
					 ch.action);
		}
		change->origin_id = XLogRecGetOrigin(r);
		memcpy(&change->data.tp.relnode, &hdr.node, sizeof(RelFileNode));
		if (ch.flags & COW_CHANGE_HAS_OLD)
			change->data.tp.oldtuple = CowDecodeTuple(ctx->reorder, data + off,
													  ch.old_len);
		off += ch.old_len;
		if (ch.flags & COW_CHANGE_HAS_NEW)
			change->data.tp.newtuple = CowDecodeTuple(ctx->reorder, data + off,
													  ch.new_len);
		off += ch.new_len;
		change->data.tp.clear_toast_afterwards = true;

		ReorderBufferQueueChange(ctx->reorder, xid, buf->origptr, change, false);
	}
	if (copied)
		pfree(data);
}
