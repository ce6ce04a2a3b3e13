/*-------------------------------------------------------------------------
 *
 * cow/write.h
 *	  The write path: a statement's buffered rows and deletes
 *	  (cow_write_state.c), the row numbers it deletes (cow_delete_set.c),
 *	  rows beyond memory (cow_spill.c), the copy-on-write merge and
 *	  rewrite (cow_merge.c), writing file groups (cow_writer.c), the rows
 *	  an appending statement holds until their block (cow_wait_rows.c),
 *	  and the images of rows written under AFTER ROW triggers
 *	  (cow_row_images.c).
 *
 * Uses cow/read.h and the layers below it; the merge also uses
 * cow/security.h.
 *
 * Copyright (c) 2026, incetl authors
 *
 * IDENTIFICATION
 *	  src/include/cow/write.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef INCETL_COW_WRITE_H
#define INCETL_COW_WRITE_H

#include "nodes/lockoptions.h"
#include "storage/lock.h"

#include "cow/read.h"

extern void CowWriteGroup(Relation rel, TupleDesc tupdesc, const CowOptions *opts,
						  CowRow **rows, int64 nrows, int64 file_group_id,
						  int64 commit_id, bool carry, int64 *rownums,
						  CowVersion *out);

/* a group written a block at a time, its rows handed over as they come */
typedef struct CowGroupWriter CowGroupWriter;
extern CowGroupWriter *CowGroupWriterBegin(TupleDesc tupdesc, const CowOptions *opts,
										   int64 nrows, int64 commit_id,
										   bool spool, MemoryContext cxt);
extern void CowGroupWriterClose(CowGroupWriter *w);
extern void CowGroupWriterAddBlock(CowGroupWriter *w, CowRow **rows, int64 n);
extern void CowGroupWriterAddColumns(CowGroupWriter *w, int64 n,
									 const Datum *const *vals,
									 const int64 *nvals,
									 const bool *const *isnull);
extern int64 CowGroupWriterRows(CowGroupWriter *w);
extern void CowGroupWriterEnd(CowGroupWriter *w, Relation rel,
							  int64 file_group_id, CowVersion *out);
extern void CowGroupWriterDecode(CowGroupWriter *w, Relation rel,
								 void (*emit) (void *arg, Datum *values, bool *isnull),
								 void *arg);

/* rows an appending statement holds until their block (cow_wait_rows.c) */
typedef struct CowWaitRows CowWaitRows;
extern CowWaitRows *CowWaitRowsCreate(TupleDesc desc, int cap,
									  MemoryContext parent);
extern void CowWaitRowsReserve(CowWaitRows *wr, int cap);
extern void CowWaitRowsFree(CowWaitRows *wr);
extern int	CowWaitRowsCount(CowWaitRows *wr);
extern void CowWaitRowsPush(CowWaitRows *wr, CowRow *row);
extern void CowWaitRowsLast(CowWaitRows *wr, Datum *values, bool *isnull);
extern void CowWaitRowsColumn(CowWaitRows *wr, int i, int n,
							  const Datum **vals, int64 *nvals,
							  const bool **isnull);
extern CowRow *CowWaitRowsPop(CowWaitRows *wr, MemoryContext cxt);
extern CowRow **CowWaitRowsCopyAll(CowWaitRows *wr, MemoryContext cxt);
extern void CowWaitRowsDrop(CowWaitRows *wr, int n);

/* ---------- write state and merge ---------- */

extern void CowBufferInsert(Relation rel, TupleTableSlot *slot, CommandId cid,
							bool is_update);
extern int	CowBufferDelete(Relation rel, ItemPointer tid, CommandId cid,
							CommandId *cmax);
extern bool CowBufferDeleted(Relation rel, int64 rownum);
extern CommandId CowSelfModifiedCmax(Relation rel, int64 rownum,
									 CommandId cid);
extern void CowMergeForRowTriggers(Relation rel, int64 rownum);
extern void CowFlushAll(void);
extern void CowFlushRelation(Oid relid);
extern void CowDiscardRelation(Oid relid);
extern void CowMergeEarlierChanges(Relation rel);
extern bool CowHasPending(void);
extern void CowCheckUnmergedRead(Relation rel, Snapshot snapshot,
								 bool may_merge, bool quiet);
extern void CowWriteStateInit(void);

/* ---------- row images for AFTER ROW triggers (cow_row_images.c) ---------- */

extern bool CowKeepsRowImages(Relation rel);
extern void CowKeepRowImage(Relation rel, int64 pending, Datum *values,
							bool *isnull);
extern bool CowFetchPendingRow(Relation rel, int64 rownum, TupleTableSlot *slot);
extern void CowRowImagesInit(void);
extern void CowWriterInit(void);

typedef struct CowSpill CowSpill;
typedef struct CowDeleteSet CowDeleteSet;

/* row numbers a statement deletes (cow_delete_set.c) */
extern CowDeleteSet *CowDeleteSetCreate(MemoryContext cxt);
extern bool CowDeleteSetAdd(CowDeleteSet *s, int64 rownum, SubTransactionId subid);
extern bool CowDeleteSetContains(CowDeleteSet *s, int64 rownum);
extern int64 CowDeleteSetCount(CowDeleteSet *s);
extern int64 CowDeleteSetCountRange(CowDeleteSet *s, int64 lo, int64 hi);
extern void CowDeleteSetAbortSub(CowDeleteSet *s, SubTransactionId subid);

/* a walk over a delete set's row numbers (CowDeleteSetIterBegin) */
typedef struct CowDeleteSetIter
{
	CowDeleteSet *set;
	int64	   *chunknos;		/* the set's chunks, ascending */
	int64		nchunks;
	int64		next_chunk;		/* of chunknos[] */
	const uint64 *bits;			/* of the chunk being walked */
	int64		base;			/* its first row number */
	int			word;			/* of bits[] */
	uint64		rest;			/* bits of bits[word] not returned yet */
} CowDeleteSetIter;

extern void CowDeleteSetIterBegin(CowDeleteSet *s, CowDeleteSetIter *it);
extern bool CowDeleteSetIterNext(CowDeleteSetIter *it, int64 *rownum);
extern void CowDeleteSetIterEnd(CowDeleteSetIter *it);
extern void CowDeleteSetFree(CowDeleteSet *s);

/* what one part of a statement merged early changed (see CowPending) */
typedef struct CowPartCounts
{
	SubTransactionId subid;		/* the part was merged in */
	int64		inserted;
	int64		updated;
	int64		deleted;
	int32		file_groups_written;
	int64		bytes_written;
} CowPartCounts;

typedef struct CowPending
{
	Oid			relid;
	List	   *rows;			/* of CowRow (one chunk of row_cxt each), arrival order */
	List	   *row_subids;		/* int list: SubTransactionId per row */
	SubTransactionId min_subid; /* smallest subtransaction that buffered a
								 * row or delete of the statement (spilled
								 * or merged in parts too), or Invalid */
	int64		next_seq;		/* arrival number of the statement's next row */
	CommandId	write_cid;		/* command of the statement's first buffered
								 * row or delete, InvalidCommandId when none
								 * (CowCheckUnmergedRead) */
	CowDeleteSet *deletes;		/* row numbers deleted, NULL when none */
	Size		bytes;
	bool		opts_loaded;
	CowOptions	opts;			/* as of the first buffered row */
	List	   *writers;		/* OIDs of the roles that buffered the
								 * statement's rows: the merge checks what
								 * each may replace or delete
								 * (cow_security.c) */

	/*
	 * The statement's rows beyond the memory budget, sorted on disk
	 * (cow_spill.c); NULL until needed.  It may hold only tombstones (delete
	 * markers already merged in an earlier part of the statement).
	 */
	CowSpill   *spill;

	/*
	 * One statement is one commit, also when merged in parts: the parts
	 * share stmt_commit_id (0 until the first merge) and the last merge
	 * writes the commit row with every part's counts (stmt_parts, of
	 * CowPartCounts *; a part rolled back with its subtransaction is taken
	 * out).
	 */
	int64		stmt_commit_id;
	List	   *stmt_parts;

	/*
	 * Rows arrive in strictly ascending record-key order (opts' key, so no
	 * two share a key), over the whole statement so far: the merge then
	 * needs neither sort nor collapse, and the rows can be merged in parts.
	 * Checked row by row against the previous row (last_row; last_key is a
	 * copy kept once the buffer was merged or spilled).
	 */
	bool		keys_ascending;
	struct CowRow *last_row;	/* last buffered row, NULL when none */
	struct CowRow *last_key;	/* copy in the write context, or NULL */
	struct SortSupportData *key_ssup;	/* [opts.nkeys], NULL until needed */
	MemoryContext row_cxt;		/* the buffered CowRows: a generation
								 * context, reset (not pfree'd row by row)
								 * when merged or spilled */

	/*
	 * A part of a statement in key order merged early (CowFlushPart) writes
	 * its new keys beyond the table's last key in whole file groups only:
	 * the rows left over (fewer than file_group_rows, the part's last) are
	 * handed back in carried and buffered again, to start the next part's
	 * first group -- rather than written as a short group that the next
	 * part would rewrite.
	 */
	bool		carry_allowed;
	List	   *carried;		/* of CowRow, still in row_cxt */
	MemoryContext spare_cxt;	/* the other row context, when the carried
								 * rows moved: its first block, sized for a
								 * part, is kept for the next one */

	/*
	 * Whether the statement, in key order, started beyond the table's last
	 * key (CowRowBeyondEnd), so that every row appends: then a part is
	 * merged as soon as a file group's worth is buffered.  0 until checked
	 * (once a group's worth is buffered), 1 yes, -1 no.
	 */
	int			appending;

	/*
	 * A merge's two per-group contexts (the writer's arrays, a decoded
	 * group), kept across the parts of a statement -- a load merged a file
	 * group's worth at a time would otherwise fault their memory in for
	 * every part -- and deleted at its end.
	 */
	MemoryContext merge_cxt[2];

	/*
	 * A statement appending in key order whose order broke: rows pass
	 * through a small reordering heap (cow_write_state.c), leave it in key
	 * order for the buffer (still merged a group's worth at a time), and
	 * only rows behind the buffer's last key go to the spill sort.  NULL
	 * otherwise.
	 */
	struct CowReorder *reorder;

	/*
	 * A statement appending beyond the table's last key in key order: its
	 * rows go into the file group being written as they come, a block at a
	 * time, rather than into rows (CowAppender, cow_write_state.c).  NULL
	 * otherwise; append_off once the statement may not (or no longer) do
	 * that.
	 */
	struct CowAppender *append;
	bool		append_off;

	/*
	 * An INSERT ... ON CONFLICT statement is writing the table: it holds
	 * the writers' lock, and its arbiter checks see the rows it buffered
	 * (CowPendingFetch).  Set by CowBeginOnConflict, in subtransaction
	 * on_conflict_subid; reset with the statement.
	 */
	bool		on_conflict;
	SubTransactionId on_conflict_subid;

	/*
	 * Merges while a writing statement still runs: a query of a later
	 * command reading the table (CowCheckUnmergedRead), or a nested
	 * statement's end, merges what the statement buffered so far.  The
	 * statement's scan goes on returning row numbers of the versions such a
	 * merge replaced, so a delete by a command not later than merge_cid
	 * (the command counter when the relation's writes were last merged,
	 * InvalidCommandId: never) is resolved to the row's current number
	 * (CowBufferDelete), through cur_versions: the versions the newest
	 * snapshot sees, loaded again after each merge (merge_serial).
	 * self_deleted holds what command self_deleted_cid deleted before such
	 * merges, as its scan numbered the rows: a row gone since is one it
	 * deleted itself (skipped, as heap skips a row updated by its own
	 * command) or one a later command changed (heap's 27000).
	 */
	CommandId	merge_cid;
	int64		merge_serial;
	int64		cur_serial;
	CowVersion *cur_versions;
	struct CowRowIndex *cur_index;	/* lookups among cur_versions */
	int			cur_nversions;
	CowDeleteSet *self_deleted;
	CommandId	self_deleted_cid;
	CommandId	last_cid;		/* command of the last buffered write */
} CowPending;

extern bool CowRowBeyondEnd(Relation rel, const CowOptions *opts, CowRow *row);
extern CowRow *CowRowFromValues(TupleDesc desc, int natts, Datum *values,
								bool *isnull, int64 seq, bool is_update,
								MemoryContext cxt);

/* rows beyond memory (cow_spill.c) */
extern CowSpill *CowSpillBegin(Relation rel, const CowOptions *opts,
							   MemoryContext cxt);
extern void CowSpillPut(CowSpill *s, CowRow *row, SubTransactionId subid,
						bool tombstone);
extern int64 CowSpillRowCount(CowSpill *s);
extern void CowSpillNoteAbort(CowSpill *s, SubTransactionId subid,
							  int64 next_seq, MemoryContext cxt);
extern CowRow *CowSpillNext(CowSpill *s, MemoryContext cxt);
extern void CowSpillEnd(CowSpill *s);

/* the record key's order, as the merge compares keys (cow_merge.c) */
extern struct SortSupportData *CowKeyComparators(TupleDesc tupdesc,
												 const CowOptions *opts);
extern int	CowCompareKeys(struct SortSupportData *keys, int nkeys,
						   const Datum *a, const Datum *b);

/* unique and exclusion constraints (cow_unique.c) */
extern PGDLLIMPORT bool CowAfterTriggerQueueOpen;
extern bool CowIsKeyConstraint(Relation index, const CowOptions *opts);
extern bool CowIndexNeedsCheck(Relation index, struct IndexInfo *ii,
							   const CowOptions *opts);
extern void CowCheckWrittenRows(Relation rel, const CowOptions *opts,
								const int64 *rownums, int64 n);

/* what a uniqueness check finds of this backend's writes (cow_write_state.c) */
extern int	CowPendingFetch(Relation rel, int64 rownum, TupleTableSlot *slot);
extern bool CowPendingRowFetch(Relation rel, int64 rownum, TupleTableSlot *slot);
extern bool CowPendingEntriesRemovable(Relation rel);
extern void CowBeginOnConflict(Relation rel);
extern bool CowOnConflictRunning(Relation rel);
extern void CowBufferInsertSpeculative(Relation rel, TupleTableSlot *slot,
									   CommandId cid);
extern void CowCompleteSpeculative(Relation rel, TupleTableSlot *slot,
								   bool succeeded);

extern void CowMergeAndWrite(Relation rel, CowPending *pending, CowSpill *spill,
							 bool final);
extern bool CowAppendBegin(Relation rel, CowPending *pending, CowRow *first,
						   CowOptions *opts);
extern void CowAppendWriteGroup(Relation rel, CowPending *pending,
								CowGroupWriter *w);
extern void CowRewriteTable(Relation rel);
extern void CowLockWriters(Relation rel);
extern bool CowExcludeWriters(Relation rel, bool nowait);
extern bool CowLockRows(Relation rel, LOCKMODE mode, LockWaitPolicy wait_policy,
						bool *acquired);

/*
 * Logical decoding of incetl_cow tables (cow_logical.c writes the records,
 * cow_decode.c is the WAL resource manager that decodes them).  A merge
 * that changes rows of a table logical decoding sees logs, in its
 * transaction, records of the rows it inserts, updates and deletes, in
 * order, many rows a record: a header, then the changes, zstd-compressed
 * when that makes them smaller (rawlen > 0) -- per change an xl_cow_change
 * and the old and new tuples it has (heap tuple images, t_len bytes each,
 * unaligned).
 */
#define COW_RMGR_ID			146
#define COW_RMGR_NAME		"incetl_cow"
#define XLOG_COW_CHANGES	0x00

#define COW_LOGICAL_INSERT	1
#define COW_LOGICAL_UPDATE	2
#define COW_LOGICAL_DELETE	3

typedef struct xl_cow_changes
{
	RelFileNode node;			/* the table's, as heap records name it */
	uint32		nchanges;
	uint32		rawlen;			/* length of the changes when compressed,
								 * 0 when they follow as they are */
	/* nchanges changes follow */
} xl_cow_changes;

#define SizeOfCowChanges	(offsetof(xl_cow_changes, rawlen) + sizeof(uint32))

typedef struct xl_cow_change
{
	uint8		action;			/* COW_LOGICAL_* */
	uint8		flags;			/* COW_CHANGE_HAS_OLD / _NEW */
	uint32		old_len;		/* t_len of the old tuple, or 0 */
	uint32		new_len;		/* t_len of the new tuple, or 0 */
	/* old tuple, then new tuple */
} xl_cow_change;

#define COW_CHANGE_HAS_OLD	0x01
#define COW_CHANGE_HAS_NEW	0x02

typedef struct CowLogicalLog CowLogicalLog;

extern CowLogicalLog *CowLogicalBegin(Relation rel);
extern void CowLogicalInsert(CowLogicalLog *log, Datum *values, bool *nulls);
extern void CowLogicalUpdate(CowLogicalLog *log, Datum *old_values,
							 bool *old_nulls, Datum *values, bool *nulls);
extern void CowLogicalDelete(CowLogicalLog *log, Datum *old_values,
							 bool *old_nulls);
extern void CowLogicalEnd(CowLogicalLog *log);

#endif							/* INCETL_COW_WRITE_H */
