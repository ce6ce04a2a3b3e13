/*-------------------------------------------------------------------------
 *
 * cow.h
 *	  The interface of the incetl_cow table access method to the rest of
 *	  incetl: module init, "is this an incetl_cow table", and what a
 *	  transaction wrote and committed (the pipeline layer's target writer
 *	  and commit-id watermarks use these).
 *
 *	  Inside src/cow, declarations live in one header per layer, under
 *	  src/include/cow/ (see doc/incetl_cow.md, Source map), from the bottom
 *	  up: format.h, storage.h, catalog.h, read.h, security.h, write.h,
 *	  maintenance.h, am.h.  Each includes the ones below it that it needs.
 *
 * On-disk layout of a relation's main fork:
 *
 *	block 0			metapage (CowMetaPageData): magic, version, storage id,
 *					counters for row numbers, commit ids, file group ids
 *	blocks 1..		extents: every file group *version* is a contiguous run
 *					of pages holding one logical byte stream
 *
 * The byte stream of a file group version starts with a header
 * (CowGroupHeader + one CowColumnDesc per attribute + one for the hidden
 * commit-id column + a blob area holding min/max and first/last key
 * datums), followed by one chunk per column: encoded by type and data
 * (cow_encoding.c), then zstd-compressed when that pays.  Every page
 * stores COW_PAGE_DATA bytes of the stream after its page header.
 *
 * Copyright (c) 2026, incetl authors
 *
 * IDENTIFICATION
 *	  src/include/cow.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef INCETL_COW_H
#define INCETL_COW_H

#include "utils/rel.h"
#include "utils/snapshot.h"

/* module init: hooks and callbacks (cow_tableam.c) */
extern void cow_init(void);

/* is rel an incetl_cow table? (cow_metadata.c) */
extern bool CowIsCowRelation(Relation rel);

/* is relid one?  By its pg_class row, without opening it (cow_hooks.c) */
extern bool CowRelidIsCow(Oid relid);

/* what this transaction wrote to relid so far (cow_counts.c) */
extern void cow_write_counts(Oid relid, int64 *inserted, int64 *updated,
							 int64 *deleted);
extern int64 cow_last_commit_id(Oid relid);

/* the newest commit of relid a snapshot sees (cow_timeline.c) */
extern int64 cow_latest_commit_id(Oid relid, Snapshot snapshot);

/*
 * Can as_of(commit_id) of relid (and so the net change feed from it) still
 * be read under snapshot?  When not, *oldest gets the oldest commit that
 * can (cow_timeline.c).  Commit 0, the empty table before the first
 * commit, always can.
 */
extern bool cow_commit_readable(Oid relid, int64 commit_id, Snapshot snapshot,
								int64 *oldest);

/*
 * Readers outside src/cow that need history kept: the pipeline layer's
 * pipelines reading a table's change feed from their watermark commit.
 * The hook returns the oldest commit id whose as_of() such a reader still
 * needs (0: none) and sets *holder to a description for messages (e.g.
 * 'pipeline "silver"').  Cleaning keeps what it needs (cow_clean.c).
 */
typedef int64 (*CowHistoryHolderHook) (Relation rel, char **holder);
extern PGDLLIMPORT CowHistoryHolderHook cow_history_holder_hook;

#endif							/* INCETL_COW_H */
