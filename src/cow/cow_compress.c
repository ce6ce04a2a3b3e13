/*-------------------------------------------------------------------------
 *
 * cow_compress.c
 *	  zstd compression of incetl_cow column chunks.
 *
 * A chunk is stored compressed only when that saves space; otherwise the
 * caller keeps it raw and flags it COW_COL_UNCOMPRESSED.  Decompression
 * checks the decompressed size, so a damaged chunk raises an error rather
 * than returning garbage.
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

#include "cow.h"

/*
 * CowCompress returns a palloc'd compressed copy of src, or NULL when
 * compression does not make it smaller.
 */
char *
CowCompress(const char *src, Size srclen, int level, Size *dstlen)
{
	size_t		bound = ZSTD_compressBound(srclen);
	char	   *dst = palloc(bound);
	size_t		n;

	n = ZSTD_compress(dst, bound, src, srclen, level);
	if (ZSTD_isError(n) || n >= srclen)
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
	size_t		n = ZSTD_decompress(dst, rawlen, src, srclen);

	if (ZSTD_isError(n) || n != rawlen)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("could not decompress a column chunk of \"%s\": %s",
						rel ? RelationGetRelationName(rel) : "?",
						ZSTD_isError(n) ? ZSTD_getErrorName(n) : "size mismatch")));
}
