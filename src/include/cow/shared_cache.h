/*-------------------------------------------------------------------------
 *
 * shared_cache.h
 *	  The server's cache of decompressed incetl_cow frames, in shared
 *	  memory (cow_shared_cache.c): the second level of a backend's read
 *	  cache (cow_read_cache.c); and the tables' lists of file group
 *	  versions kept there (cow_version_cache.c).
 *
 * Copyright (c) 2026, incetl authors
 *
 * src/include/cow/shared_cache.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef INCETL_COW_SHARED_CACHE_H
#define INCETL_COW_SHARED_CACHE_H

#include "cow/catalog.h"

/* incetl.cow_shared_cache_size, kB: 0 turns the cache off */
extern PGDLLIMPORT int CowSharedCacheSize;

/* the "frame" of a key saying an uncompressed block's CRC was verified */
#define COW_SHARED_VERIFIED		PG_UINT32_MAX

/* the "frame" of a key naming a block's value block (cow/format.h) */
#define COW_SHARED_VALUE_BLOCK	(PG_UINT32_MAX - 1)

/*
 * the "frame" of a key naming a small block decompressed whole (at most
 * COW_SHARED_WHOLE_MAX raw bytes: larger ones are framed)
 */
#define COW_SHARED_WHOLE_BLOCK	(PG_UINT32_MAX - 2)
#define COW_SHARED_WHOLE_MAX	COW_FRAMED_MIN

/*
 * The attidx of a key naming a version's row-number map (cow_rowmap.c),
 * and of one naming its description (its runs' count and absorbed ranges)
 */
#define COW_SHARED_ROW_MAP		(-1)
#define COW_SHARED_ROW_MAP_INFO	(-2)

/*
 * The attidx of a key naming a storage's list of file group versions
 * (cow_version_cache.c), which is no relation's frame: its version names
 * the database (node.dbNode, the rest of node zero), the storage id
 * (first_row_number), the generation (commit_id) and the epoch
 * (file_group_id); blockno is 1 for the current versions alone, 0 for all,
 * and 2 more for the row index over that list (CowRowIndex).
 */
#define COW_SHARED_VERSION_LIST	(-3)

/* the len of CowSharedCacheRead for cached bytes of any length */
#define COW_SHARED_ANY_LENGTH	((Size) -1)

/*
 * What a cached frame is of: one frame of one column block of one file
 * group version (CowVersionName, as the backend's read cache names it,
 * without the relation's OID), or, with attidx COW_SHARED_ROW_MAP, the
 * version's row-number map.  Compared as bytes: made with memset first.
 */
typedef struct CowSharedKey
{
	CowVersionName version;
	int32		attidx;
	uint32		blockno;
	uint32		frame;
	uint32		pad;			/* zero */
} CowSharedKey;

/* reads cached bytes in place (CowSharedCacheRead): short, no errors */
typedef void (*CowSharedReader) (const char *bytes, Size len, void *arg);

extern void CowSharedCacheInit(void);
extern bool CowSharedCacheKey(CowSharedKey *key, Relation rel,
							  const CowVersion *v, int attidx, uint32 blockno,
							  uint32 frame);
extern bool CowSharedCacheGet(const CowSharedKey *key, Size len, Size from,
							  Size n, char *dst);
extern bool CowSharedCacheRead(const CowSharedKey *key, Size len,
							   CowSharedReader reader, void *arg);
extern bool CowSharedCachePut(const CowSharedKey *key, const char *src,
							  Size len);
extern void CowSharedCacheForgetNode(RelFileNode node);
extern void CowSharedCacheStorageChanged(int64 storage_id);
extern bool CowSharedCacheStorageGeneration(int64 storage_id,
											uint64 *generation, uint64 *epoch);
extern void CowSharedCacheForgetLists(void);

/*
 * Storages' lists of file group versions (cow_version_cache.c).  A list
 * the cache answered with is named by a CowVersionListId, under which the
 * row index over it is kept too.
 */
typedef struct CowVersionListId
{
	bool		valid;			/* false: the list is not the cache's */
	int64		storage_id;
	uint64		generation;
	uint64		epoch;
	bool		current_only;
} CowVersionListId;

extern CowVersion *CowVersionCacheLoad(int64 storage_id, Snapshot snapshot,
									   bool current_only, int *nversions,
									   CowVersionListId *id);
extern struct CowRowIndex *CowVersionCacheRowIndex(Relation rel,
												   const CowVersionListId *id,
												   CowVersion *versions,
												   int n);

#endif							/* INCETL_COW_SHARED_CACHE_H */
