/*-------------------------------------------------------------------------
 *
 * cow/read_cache.h
 *	  A backend's cache of decompressed column blocks and frames for the
 *	  reads of a few rows (point lookups, key ranges): cow_read_cache.c.
 *
 * Copyright (c) 2026, incetl authors
 *
 * IDENTIFICATION
 *	  src/include/cow/read_cache.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef INCETL_COW_READ_CACHE_H
#define INCETL_COW_READ_CACHE_H

#include "utils/rel.h"

#include "cow/catalog.h"
#include "cow/format.h"

/* incetl.cow_read_cache_size, kB: 0 turns the cache off */
extern PGDLLIMPORT int CowReadCacheSize;

/* a whole raw block is kept only up to this size */
#define COW_READ_CACHE_WHOLE_MAX	(64 * 1024)

extern void CowReadCacheInit(void);

/*
 * Every function names one block of one column of one file group version
 * (rel, v, attidx, blockno).  Nothing returned points into the cache but
 * a value block (CowReadCacheGetValueBlock), which is read at once: the
 * cached bytes are copied out, so that the cache may drop an entry at any
 * time.
 */
extern bool CowReadCacheGetFrames(Relation rel, const CowVersion *v,
								  int attidx, uint32 blockno, CowFrames *f,
								  bool entries);
extern void CowReadCachePutFrames(Relation rel, const CowVersion *v,
								  int attidx, uint32 blockno,
								  const CowFrames *f);
extern void CowReadCachePutPieces(Relation rel, const CowVersion *v,
								  int attidx, uint32 blockno, Size len,
								  uint32 piece_len);
extern bool CowReadCacheAskPiece(Relation rel, const CowVersion *v,
								 int attidx, uint32 blockno, uint32 piece);
extern bool CowReadCacheGetFrame(Relation rel, const CowVersion *v,
								 int attidx, uint32 blockno, uint32 frame,
								 bool first, char *dst, Size len);
extern bool CowReadCacheGetSharedFramePart(Relation rel,
										   const CowVersion *v, int attidx,
										   uint32 blockno, uint32 frame,
										   Size len, Size from, Size n,
										   char *dst);
extern bool CowReadCacheGetFramePart(Relation rel, const CowVersion *v,
									 int attidx, uint32 blockno, uint32 frame,
									 Size len, Size from, Size n,
									 bool shared, bool first, char *dst);
extern void CowReadCachePutFrame(Relation rel, const CowVersion *v,
								 int attidx, uint32 blockno, uint32 frame,
								 const char *src, Size len);
extern char *CowReadCacheGetWhole(Relation rel, const CowVersion *v,
								  int attidx, uint32 blockno, Size len);
extern void CowReadCachePutWhole(Relation rel, const CowVersion *v,
								 int attidx, uint32 blockno, const char *src,
								 Size len, bool share);
extern bool CowReadCacheGetWholePart(Relation rel, const CowVersion *v,
									 int attidx, uint32 blockno, Size len,
									 Size from, Size n, char *dst,
									 bool shared);
extern const CowValueBlock *CowReadCacheGetValueBlock(Relation rel,
													  const CowVersion *v,
													  int attidx,
													  uint32 blockno,
													  bool *lent);
extern int	CowReadCacheValueBlockAsks(Relation rel, const CowVersion *v,
									   int attidx, uint32 blockno);
/*
 * The values of a block a backend reads through its value block before it
 * keeps the value block and the bytes it reads in its own memory: the
 * first ones take them from the server's cache, or the block's pages,
 * where nothing is kept (cow_reader.c, CowGroupValueBytes)
 */
#define COW_VALUE_SHARED_READS	4

extern int	CowReadCacheValueReads(Relation rel, const CowVersion *v,
								   int attidx, uint32 blockno);
extern void CowReadCachePutValueBlock(Relation rel, const CowVersion *v,
									  int attidx, uint32 blockno,
									  const CowValueBlock *vb);
extern uint64 *CowReadCacheGetMarks(Relation rel, const CowVersion *v,
									int attidx, uint32 blockno,
									uint32 *nmarks, Size *at);
extern void CowReadCachePutMarks(Relation rel, const CowVersion *v,
								 int attidx, uint32 blockno,
								 const uint64 *marks, uint32 nmarks, Size at);
extern bool CowReadCacheVerified(Relation rel, const CowVersion *v,
								 int attidx, uint32 blockno);
extern void CowReadCacheSetVerified(Relation rel, const CowVersion *v,
									int attidx, uint32 blockno);

#endif							/* INCETL_COW_READ_CACHE_H */
