/*-------------------------------------------------------------------------
 *
 * cow_compress.c
 *	  zstd compression of incetl_cow column chunks.
 *
 * A chunk is stored compressed only when that pays: when it saves at least
 * 1/32 of the encoded size (an encoded chunk that is already bit-packed
 * seldom shrinks, and reading it then skips decompression).  Otherwise the
 * caller keeps it raw and flags it COW_COL_UNCOMPRESSED.  Decompression
 * checks the decompressed size, so a damaged chunk raises an error rather
 * than returning garbage.  One compression and one decompression context
 * are kept per backend: creating them per chunk costs more than
 * compressing a small chunk.
 *
 * Copyright (c) 2026, incetl authors
 *
 * IDENTIFICATION
 *	  src/cow/cow_compress.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <zstd.h>

#include "utils/rel.h"

#include "cow/format.h"

static ZSTD_CCtx *CowCCtx = NULL;
static ZSTD_DCtx *CowDCtx = NULL;

/*
 * CowCompress returns a palloc'd compressed copy of src, or NULL when
 * compression does not make it smaller by at least 1/32.
 */
char *
CowCompress(const char *src, Size srclen, int level, Size *dstlen)
{
	size_t		bound = ZSTD_compressBound(srclen);
	char	   *dst;
	size_t		n;

	if (CowCCtx == NULL)
	{
		CowCCtx = ZSTD_createCCtx();
		if (CowCCtx == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_OUT_OF_MEMORY),
					 errmsg("out of memory"),
					 errdetail("Could not create a zstd compression context.")));
	}
	dst = palloc(bound);
	n = ZSTD_compressCCtx(CowCCtx, dst, bound, src, srclen, level);
	if (ZSTD_isError(n) || n > srclen - srclen / 32 || n >= srclen)
	{
		pfree(dst);
		return NULL;
	}
	*dstlen = n;
	return dst;
}

void
CowDecompress(const char *src, Size srclen, char *dst, Size rawlen,
			  Relation rel)
{
	size_t		n;

	if (CowDCtx == NULL)
	{
		CowDCtx = ZSTD_createDCtx();
		if (CowDCtx == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_OUT_OF_MEMORY),
					 errmsg("out of memory"),
					 errdetail("Could not create a zstd decompression context.")));
	}
	n = ZSTD_decompressDCtx(CowDCtx, dst, rawlen, src, srclen);
	if (ZSTD_isError(n) || n != rawlen)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("could not decompress a column chunk of \"%s\": %s",
						rel ? RelationGetRelationName(rel) : "?",
						ZSTD_isError(n) ? ZSTD_getErrorName(n) : "size mismatch")));
}
