/*-------------------------------------------------------------------------
 *
 * cow_compress.c
 *	  zstd compression of incetl_cow column chunks.
 *
 * A chunk is stored compressed only when that pays: when it saves at least
 * 1/32 of the encoded size (an encoded chunk that is already bit-packed
 * seldom shrinks, and reading it then skips decompression), a column block
 * at least 1/8 (COW_BLOCK_MIN_SAVING: a lookup reads a few bytes of a raw
 * block, but decompresses a frame of a compressed one).  Otherwise the
 * caller keeps it raw and flags it COW_COL_UNCOMPRESSED.  Decompression
 * checks the decompressed size, so a damaged chunk raises an error rather
 * than returning garbage.  One compression and one decompression context
 * are kept per backend: creating them per chunk costs more than
 * compressing a small chunk.  Large column blocks are written as several
 * frames after an index of them, so that a point lookup decompresses only
 * the frames it needs (CowCompressBlock, below).
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

#include "port/pg_crc32c.h"
#include "utils/rel.h"

#include "cow/format.h"

static ZSTD_CCtx *CowCCtx = NULL;
static ZSTD_DCtx *CowDCtx = NULL;

/*
 * CowCompress returns a palloc'd compressed copy of src, or NULL when
 * compression does not make it smaller by at least 1/32.
 */
static ZSTD_CCtx *
CowCompressContext(void)
{
	if (CowCCtx == NULL)
	{
		CowCCtx = ZSTD_createCCtx();
		if (CowCCtx == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_OUT_OF_MEMORY),
					 errmsg("out of memory"),
					 errdetail("Could not create a zstd compression context.")));
	}
	return CowCCtx;
}

char *
CowCompress(const char *src, Size srclen, int level, Size *dstlen)
{
	size_t		bound = ZSTD_compressBound(srclen);
	char	   *dst;
	size_t		n;

	dst = palloc(bound);
	n = ZSTD_compressCCtx(CowCompressContext(), dst, bound, src, srclen, level);
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

/* ---------- framed blocks ---------- */

/*
 * A large column block is compressed as several independent zstd frames of
 * COW_FRAME_RAW raw bytes each, after a zstd skippable frame holding their
 * index:
 *
 *	[skippable frame: magic, payload length | CowFrameIndex, entries]
 *	[frame 0][frame 1]...
 *
 * zstd decompresses such a block whole as it does a single frame (it skips
 * skippable frames and concatenates the others), so whole-block readers,
 * including those of builds before framing, read framed blocks unchanged.
 * A reader that needs a few values (a point lookup) reads the index, then
 * only the frames holding the bytes it needs, each checked against its CRC
 * in the index and decompressed alone (CowDecompressFrame).
 */
typedef struct CowFrameIndex
{
	uint32		magic;			/* COW_FRAME_MAGIC */
	uint32		nframes;
	uint32		first_raw;		/* raw bytes of frame 0 */
	uint32		frame_raw;		/* raw bytes of each other frame (the last
								 * may have fewer) */
	uint32		unused;
	uint32		crc;			/* of this struct with crc zero, and the
								 * entries */
	/* CowFrameEntry entries[nframes] follow */
} CowFrameIndex;

#define COW_FRAME_MAGIC			0x43574652	/* "CWFR" */
#define COW_ZSTD_SKIPPABLE		(ZSTD_MAGIC_SKIPPABLE_START + 0xC)
#define COW_SKIPPABLE_HEADER	8		/* magic and length, little-endian */

static void
CowStoreLE32(char *p, uint32 v)
{
	p[0] = (char) (v & 0xFF);
	p[1] = (char) ((v >> 8) & 0xFF);
	p[2] = (char) ((v >> 16) & 0xFF);
	p[3] = (char) ((v >> 24) & 0xFF);
}

static uint32
CowLoadLE32(const char *p)
{
	const unsigned char *u = (const unsigned char *) p;

	return (uint32) u[0] | ((uint32) u[1] << 8) | ((uint32) u[2] << 16) |
		((uint32) u[3] << 24);
}

static pg_crc32c
CowFrameIndexCrc(const CowFrameIndex *ix, const CowFrameEntry *entries)
{
	CowFrameIndex copy = *ix;
	pg_crc32c	crc;

	copy.crc = 0;
	INIT_CRC32C(crc);
	COMP_CRC32C(crc, &copy, sizeof(copy));
	COMP_CRC32C(crc, entries, sizeof(CowFrameEntry) * ix->nframes);
	FIN_CRC32C(crc);
	return crc;
}

/* raw offset and length of frame i of a block of raw_len bytes */
void
CowFrameRange(uint32 first_raw, uint32 frame_raw, Size raw_len, uint32 i,
			  Size *off, Size *len)
{
	*off = (i == 0) ? 0 : first_raw + (Size) (i - 1) * frame_raw;
	*len = Min((Size) ((i == 0) ? first_raw : frame_raw), raw_len - *off);
}

/* frames of a block of raw_len bytes */
uint32
CowFrameCount(uint32 first_raw, uint32 frame_raw, Size raw_len)
{
	if (raw_len <= first_raw)
		return 1;
	return 1 + (uint32) ((raw_len - first_raw + frame_raw - 1) / frame_raw);
}

/*
 * CowCompressBlock is CowCompress for a column block of srclen raw bytes:
 * one of more than COW_FRAMED_MIN bytes is compressed as frames after
 * their index (see above), the first of head bytes (when 0 < head <
 * srclen: the encoder's hint, a VARLENA block's lengths), the others of
 * COW_FRAME_RAW; smaller ones as one frame.  NULL when compression does
 * not save 1/COW_BLOCK_MIN_SAVING of the block: it is then stored as it is
 * (bit-packed integers, dictionary codes, timestamps of many distinct
 * values), and a reader of a few of its values reads only their bytes,
 * where a compressed block costs the decompression of a 4 kB frame or of
 * the whole block per value; a scan copies it instead of decompressing
 * it.  The threshold costs about 2 % of a typical table's size and takes
 * two or three of the five decompressions off a point lookup of a table
 * like the benchmarks' orders.
 */
#define COW_BLOCK_MIN_SAVING	8

/*
 * CowCompressHead compresses a framed VARLENA block's first frame (its
 * null bitmap and bit-packed lengths, which every value read of the block
 * decompresses first) with zstd's matches no shorter than
 * COW_HEAD_MIN_MATCH bytes.  Packed lengths repeat in short irregular
 * runs, which zstd otherwise codes as many short matches, each a sequence
 * to decode: on the benchmarks' `note` heads (4.3 kB), 7-byte matches
 * make the frame 4 % smaller, its compression 10 % and its decompression
 * 12 % cheaper (90 k instructions to 79 k, once per block a backend
 * reads).  Readers need nothing: it is an ordinary zstd frame.
 */
#define COW_HEAD_MIN_MATCH		7

static size_t
CowCompressHead(char *dst, size_t cap, const char *src, size_t len, int level)
{
	ZSTD_CCtx  *cctx = CowCompressContext();
	size_t		n;

	(void) ZSTD_CCtx_reset(cctx, ZSTD_reset_session_and_parameters);
	n = ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, level);
	if (!ZSTD_isError(n))
		n = ZSTD_CCtx_setParameter(cctx, ZSTD_c_minMatch, COW_HEAD_MIN_MATCH);
	if (!ZSTD_isError(n))
		n = ZSTD_compress2(cctx, dst, cap, src, len);
	/* the other frames are compressed by level alone */
	(void) ZSTD_CCtx_reset(cctx, ZSTD_reset_session_and_parameters);
	return n;
}

char *
CowCompressBlock(const char *src, Size srclen, Size head, int level,
				 Size *dstlen)
{
	uint32		first_raw = COW_FRAME_RAW;
	bool		head_frame = false;
	uint32		nframes;
	Size		index_len;
	Size		bound = 0;
	Size		pos;
	char	   *dst;
	CowFrameIndex ix;
	CowFrameEntry *entries;
	uint32		i;

	if (srclen <= COW_FRAMED_MIN || srclen > PG_UINT32_MAX)
	{
		dst = CowCompress(src, srclen, level, dstlen);
		if (dst != NULL && *dstlen > srclen - srclen / COW_BLOCK_MIN_SAVING)
		{
			pfree(dst);
			dst = NULL;
		}
		return dst;
	}
	if (head > 0 && head < srclen && head <= PG_INT32_MAX)
	{
		first_raw = (uint32) head;
		head_frame = true;
	}
	nframes = CowFrameCount(first_raw, COW_FRAME_RAW, srclen);
	index_len = COW_SKIPPABLE_HEADER + sizeof(CowFrameIndex) +
		sizeof(CowFrameEntry) * nframes;
	for (i = 0; i < nframes; i++)
	{
		Size		off,
					len;

		CowFrameRange(first_raw, COW_FRAME_RAW, srclen, i, &off, &len);
		bound += ZSTD_compressBound(len);
	}
	dst = palloc(index_len + bound);
	entries = palloc(sizeof(CowFrameEntry) * nframes);
	pos = index_len;
	for (i = 0; i < nframes; i++)
	{
		Size		off,
					len;
		size_t		n;
		pg_crc32c	crc;

		CowFrameRange(first_raw, COW_FRAME_RAW, srclen, i, &off, &len);
		if (i == 0 && head_frame)
			n = CowCompressHead(dst + pos, index_len + bound - pos,
								src + off, len, level);
		else
			n = ZSTD_compressCCtx(CowCompressContext(), dst + pos,
								  index_len + bound - pos, src + off, len,
								  level);
		if (ZSTD_isError(n))
		{
			pfree(dst);
			pfree(entries);
			return NULL;
		}
		INIT_CRC32C(crc);
		COMP_CRC32C(crc, dst + pos, n);
		FIN_CRC32C(crc);
		entries[i].stored_len = (uint32) n;
		entries[i].crc = crc;
		pos += n;
	}
	if (pos > srclen - srclen / COW_BLOCK_MIN_SAVING)
	{
		pfree(dst);
		pfree(entries);
		return NULL;
	}

	memset(&ix, 0, sizeof(ix));
	ix.magic = COW_FRAME_MAGIC;
	ix.nframes = nframes;
	ix.first_raw = first_raw;
	ix.frame_raw = COW_FRAME_RAW;
	ix.crc = CowFrameIndexCrc(&ix, entries);
	CowStoreLE32(dst, COW_ZSTD_SKIPPABLE);
	CowStoreLE32(dst + 4, (uint32) (index_len - COW_SKIPPABLE_HEADER));
	memcpy(dst + COW_SKIPPABLE_HEADER, &ix, sizeof(ix));
	memcpy(dst + COW_SKIPPABLE_HEADER + sizeof(ix), entries,
		   sizeof(CowFrameEntry) * nframes);
	pfree(entries);
	*dstlen = pos;
	return dst;
}

/*
 * CowFrameIndexLength: given the first COW_FRAME_PROBE bytes (or all, when
 * fewer) of a compressed block, the length of its frame index (the
 * skippable frame at its start), or 0 when the block is not framed.
 */
Size
CowFrameIndexLength(const char *head, Size len)
{
	uint32		payload;

	if (len < COW_SKIPPABLE_HEADER + sizeof(CowFrameIndex) ||
		CowLoadLE32(head) != COW_ZSTD_SKIPPABLE ||
		CowLoadLE32(head + COW_SKIPPABLE_HEADER) != COW_FRAME_MAGIC)
		return 0;
	payload = CowLoadLE32(head + 4);
	return (Size) payload + COW_SKIPPABLE_HEADER;
}

/*
 * CowReadFrameIndex checks the frame index (index_len bytes, as
 * CowFrameIndexLength gave) of a framed block of stored_len bytes that
 * decompresses to raw_len bytes, and fills *f (entries and offsets
 * palloc'd in the current memory context).
 */
void
CowReadFrameIndex(const char *index, Size index_len, Size stored_len,
				  Size raw_len, CowFrames *f, Relation rel)
{
	CowFrameIndex ix;
	uint64		off;
	uint32		i;
	const char *why = NULL;

	memset(f, 0, sizeof(CowFrames));
	if (index_len < COW_SKIPPABLE_HEADER + sizeof(CowFrameIndex) ||
		index_len > stored_len)
		why = "bad frame index length";
	else
	{
		memcpy(&ix, index + COW_SKIPPABLE_HEADER, sizeof(ix));
		if (ix.frame_raw == 0 || ix.first_raw == 0 ||
			ix.nframes != CowFrameCount(ix.first_raw, ix.frame_raw, raw_len) ||
			index_len != COW_SKIPPABLE_HEADER + sizeof(CowFrameIndex) +
			sizeof(CowFrameEntry) * (Size) ix.nframes)
			why = "frame index does not match the block";
	}
	if (why == NULL)
	{
		f->nframes = ix.nframes;
		f->first_raw = ix.first_raw;
		f->frame_raw = ix.frame_raw;
		f->raw_len = raw_len;
		f->entries = palloc(sizeof(CowFrameEntry) * ix.nframes);
		memcpy(f->entries, index + COW_SKIPPABLE_HEADER + sizeof(ix),
			   sizeof(CowFrameEntry) * ix.nframes);
		if (CowFrameIndexCrc(&ix, f->entries) != ix.crc)
			why = "checksum mismatch in the frame index";
	}
	if (why == NULL)
	{
		f->offsets = palloc(sizeof(uint64) * ix.nframes);
		off = index_len;
		for (i = 0; i < ix.nframes; i++)
		{
			f->offsets[i] = off;
			off += f->entries[i].stored_len;
		}
		if (off != stored_len)
			why = "frame lengths do not add up";
	}
	if (why != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("could not read a column block of \"%s\": %s",
						rel ? RelationGetRelationName(rel) : "?", why)));
}

/*
 * CowDecompressFrame checks frame i of f (its stored bytes in src) against
 * its CRC and decompresses it into its place in raw (the whole block's raw
 * bytes).
 */
void
CowDecompressFrame(const CowFrames *f, uint32 i, const char *src, char *raw,
				   Relation rel)
{
	Size		off,
				len;
	pg_crc32c	crc;

	Assert(i < f->nframes);
	CowFrameRange(f->first_raw, f->frame_raw, f->raw_len, i, &off, &len);
	INIT_CRC32C(crc);
	COMP_CRC32C(crc, src, f->entries[i].stored_len);
	FIN_CRC32C(crc);
	if (crc != f->entries[i].crc)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("could not read a column block of \"%s\": checksum mismatch in frame %u",
						rel ? RelationGetRelationName(rel) : "?", i)));
	CowDecompress(src, f->entries[i].stored_len, raw + off, len, rel);
}
