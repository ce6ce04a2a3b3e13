/*-------------------------------------------------------------------------
 *
 * cow_encoding.c
 *	  Per-type encodings of incetl_cow column chunks.
 *
 * This file owns the layout of a column chunk before the writer's optional
 * zstd pass (cow_compress.c) and after the reader's decompression:
 *
 *	[null bitmap]	only when the column has NULLs (COW_COL_HAS_NULLS):
 *					one bit per row, set for NULL, padded to 8 bytes
 *	[body]			the column's non-NULL values in row order, in the
 *					encoding named by the chunk's CowColumnDesc.encoding
 *
 * The encodings, chosen per chunk from the type and the data:
 *
 *	PLAIN	the values as in a heap tuple (typalign padding relative to the
 *			body start, varlenas with 4-byte headers).  Fixed-length
 *			pass-by-reference types, cstrings and floats; any pass-by-value
 *			column that the INT encoding would not make smaller.
 *	INT		pass-by-value integer-like types of 1, 2, 4 or 8 bytes (int2,
 *			int4, int8, date, time, timestamp, timestamptz, oid, bool,
 *			"char", ...): one int block.
 *	NUMERIC	numeric columns whose values all share one display scale and,
 *			scaled by it, fit in an int64 (|value| < 10^16): the scale, then
 *			one int block of the scaled integers.  Anything else (NaN,
 *			infinities, mixed scales, bigger values) falls back to the
 *			varlena encodings.
 *	DICT	varlenas with few distinct values (at most COW_DICT_MAX_ENTRIES,
 *			each used twice on average): the distinct values as a VARLENA
 *			body, then one int block of codes.
 *	VARLENA	every other varlena: an int block of prefix lengths shared with
 *			the previous value (front coding, used only when it pays), an
 *			int block of the remaining lengths, then those bytes, without
 *			headers or padding, which zstd compresses much better.
 *
 * An int block (CowIntBlock) stores n int64 values either as frame of
 * reference (value - min) or as delta (value - previous value - smallest
 * delta, after the first value), whichever needs fewer bits, bit-packed
 * little-endian at that width (0 to 64).  All arithmetic is modulo 2^64,
 * so int64 minimum/maximum and wrapping deltas round-trip.
 *
 * Decoding gives exactly the Datums the PLAIN layout gives (byte for byte
 * for pass-by-reference values, which are always returned with 4-byte
 * varlena headers): a numeric is re-encoded at write time from its scaled
 * integer and compared with the original bytes, so a value that would not
 * come back identical keeps the chunk out of the NUMERIC encoding; a NUMERIC
 * chunk can also be read as its scaled integers (CowDecodeChunkUnits, for
 * the aggregate pushdown).  A block's headers can be kept as its value
 * block (CowValueBlockBuild), from which one value is then built out of
 * the few raw bytes that hold it.  Every
 * length, count, width and code read from a chunk is checked; a chunk
 * that does not add up is reported as ERRCODE_DATA_CORRUPTED.
 *
 * Copyright (c) 2026, incetl authors
 *
 * IDENTIFICATION
 *	  src/cow/cow_encoding.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/tupmacs.h"
#include "catalog/pg_type_d.h"
#include "common/hashfn.h"
#include "port/pg_bitutils.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "cow/format.h"

/* dictionary: at most this many entries, and at most one per two values */
#define COW_DICT_MAX_ENTRIES	4096
#define COW_DICT_SLOTS			(2 * COW_DICT_MAX_ENTRIES)

/* front coding: a shared prefix shorter than this is not taken */
#define COW_MIN_PREFIX			4

/* NUMERIC: scaled values must stay below this in absolute value */
#define COW_NUMERIC_LIMIT		INT64CONST(10000000000000000)	/* 10^16 */
#define COW_NUMERIC_MAX_DIGITS	5	/* base-10000 digits of 10^16 * 1000 */
#define COW_NUMERIC_MAX_SIZE	\
	INTALIGN(VARHDRSZ + sizeof(uint16) + sizeof(int16) * COW_NUMERIC_MAX_DIGITS)

/* on-disk numeric header bits (utils/adt/numeric.c) */
#define COW_NUMERIC_SHORT		0x8000
#define COW_NUMERIC_FLAG_MASK	0xC000
#define COW_NUMERIC_SIGN		0x2000
#define COW_NUMERIC_DSCALE_MASK	0x1F80
#define COW_NUMERIC_DSCALE_SHIFT 7
#define COW_NUMERIC_WEIGHT_SIGN	0x0040
#define COW_NUMERIC_WEIGHT_MASK	0x003F

/*
 * With 64-bit Datums, int blocks are decoded straight into the Datum array
 * (an integer-like pass-by-value Datum is its sign-extended value) and
 * int8 values are encoded from it without a copy; with 32-bit Datums
 * through an int64 array of their own.
 */
#if SIZEOF_DATUM == 8
#define COW_INT64_DATUMS(values, n)	((int64 *) (values))
#else
#define COW_INT64_DATUMS(values, n)	((int64 *) palloc(sizeof(int64) * Max((n), 1)))
#endif

#define COW_INT_FOR				0
#define COW_INT_DELTA			1

/* An int block's header; the packed values follow (8-byte aligned). */
typedef struct CowIntBlock
{
	uint32		count;			/* values in the block */
	uint8		mode;			/* COW_INT_FOR or COW_INT_DELTA */
	uint8		width;			/* bits per packed value, 0..64 */
	uint16		unused;
	int64		base;			/* FOR: the minimum; DELTA: the least delta */
	int64		first;			/* DELTA: the first value */
} CowIntBlock;

typedef struct CowNumericBody
{
	uint32		dscale;
	uint32		unused;
	/* an int block of the scaled values follows */
} CowNumericBody;

typedef struct CowVarlenaBody
{
	uint32		count;
	uint32		unused;
	uint64		suffix_bytes;
	/* int blocks of prefix and suffix lengths, then the suffix bytes */
} CowVarlenaBody;

typedef struct CowDictBody
{
	uint32		nentries;
	uint32		unused;
	/* a VARLENA body of the entries, then an int block of codes */
} CowDictBody;

/* where a chunk being decoded came from, for error messages */
typedef struct CowChunkReader
{
	const char *data;
	Size		len;
	Size		pos;
	Relation	rel;
	int64		file_group_id;
	int			colno;			/* 1-based; natts + 1 is the commit ids */
	CowLazyRaw *lazy;			/* frames still to decompress, or NULL */
} CowChunkReader;

/* a varlena body planned by CowVarlenaPlan, written by CowVarlenaWrite */
typedef struct CowVarlenaPlan
{
	int64		n;
	const Datum *values;
	int64	   *prefix;			/* [n] */
	int64	   *suffix;			/* [n] */
	uint64		suffix_bytes;
	CowIntBlock pblock;
	CowIntBlock sblock;
	Size		size;
} CowVarlenaPlan;

static Size CowPackedBytes(uint64 n, int width);
static int	CowBitWidth(uint64 range);
static void CowIntPlan(const int64 *v, int64 n, CowIntBlock *b);
static Size CowIntBlockSize(const CowIntBlock *b);
static char *CowIntBlockWrite(char *dst, const int64 *v, const CowIntBlock *b);
static void CowIntBlockRead(CowChunkReader *r, int64 count, int64 *out);
static char CowPlainAlign(const CowColumnDesc *d);
static void CowVarlenaPlanValues(CowVarlenaPlan *p, const Datum *values, int64 n,
								 bool front);
static char *CowVarlenaWrite(char *dst, const CowVarlenaPlan *p);
static char **CowVarlenaRead(CowChunkReader *r, int64 count);
static bool CowNumericScaled(const char *payload, Size len, int *dscale,
							 int64 *value);
static bool CowEncodeInt(CowColumnDesc *d, const Datum *values, int64 nvals,
						 Size head, CowEncodedChunk *out);
static bool CowEncodeNumeric(CowColumnDesc *d, const Datum *values, int64 nvals,
							 Size head, CowEncodedChunk *out);
static bool CowEncodeDict(CowColumnDesc *d, const Datum *values, int64 nvals,
						  Size head, CowEncodedChunk *out);
static void CowEncodeVarlena(CowColumnDesc *d, const Datum *values, int64 nvals,
							 Size head, CowEncodedChunk *out);
static void CowEncodePlain(CowColumnDesc *d, const Datum *values, int64 nvals,
						   Size head, CowEncodedChunk *out);
static void CowDecodePlain(CowChunkReader *r, const CowColumnDesc *d,
						   int64 nvals, Datum *values);
static void CowChunkCorrupt(CowChunkReader *r, const char *what) pg_attribute_noreturn();
static const char *CowChunkTake(CowChunkReader *r, Size len);

/* ---------- bit packing ---------- */

static inline void
CowStoreLE64(char *p, uint64 v)
{
#ifdef WORDS_BIGENDIAN
	v = pg_bswap64(v);
#endif
	memcpy(p, &v, sizeof(v));
}

static inline uint64
CowLoadLE64(const char *p)
{
	uint64		v;

	memcpy(&v, p, sizeof(v));
#ifdef WORDS_BIGENDIAN
	v = pg_bswap64(v);
#endif
	return v;
}

/*
 * Bytes of n packed values of width bits: whole 64-bit words plus one
 * slack word, so that the reader may always load 8 bytes (and one more)
 * at the byte where a value starts.
 */
static Size
CowPackedBytes(uint64 n, int width)
{
	if (width == 0 || n == 0)
		return 0;
	return ((n * width + 63) / 64 + 1) * sizeof(uint64);
}

static int
CowBitWidth(uint64 range)
{
	return range == 0 ? 0 : pg_leftmost_one_pos64(range) + 1;
}

/*
 * CowIntPlan chooses frame of reference or delta for v[n], whichever
 * packs into fewer bits (frame of reference on a tie: it decodes faster).
 */
static void
CowIntPlan(const int64 *v, int64 n, CowIntBlock *b)
{
	int64		min,
				max,
				dmin = 0,
				dmax = 0;
	int			wfor,
				wdelta;
	int64		i;

	memset(b, 0, sizeof(CowIntBlock));
	b->count = (uint32) n;
	b->mode = COW_INT_FOR;
	if (n == 0)
		return;
	min = max = v[0];
	if (n > 1)
		dmin = dmax = (int64) ((uint64) v[1] - (uint64) v[0]);
	for (i = 1; i < n; i++)
	{
		int64		d = (int64) ((uint64) v[i] - (uint64) v[i - 1]);

		if (v[i] < min)
			min = v[i];
		if (v[i] > max)
			max = v[i];
		if (d < dmin)
			dmin = d;
		if (d > dmax)
			dmax = d;
	}
	wfor = CowBitWidth((uint64) max - (uint64) min);
	wdelta = CowBitWidth((uint64) dmax - (uint64) dmin);
	if (n > 1 && wdelta < wfor)
	{
		b->mode = COW_INT_DELTA;
		b->width = wdelta;
		b->base = dmin;
		b->first = v[0];
	}
	else
	{
		b->width = wfor;
		b->base = min;
	}
}

static Size
CowIntBlockSize(const CowIntBlock *b)
{
	uint64		packed = b->count;

	if (b->mode == COW_INT_DELTA && packed > 0)
		packed--;
	return sizeof(CowIntBlock) + CowPackedBytes(packed, b->width);
}

/*
 * CowIntBlockWrite writes the block planned in *b for v[b->count] at dst
 * (8-byte aligned) and returns the end.
 */
static char *
CowIntBlockWrite(char *dst, const int64 *v, const CowIntBlock *b)
{
	char	   *out = dst + sizeof(CowIntBlock);
	char	   *end = dst + CowIntBlockSize(b);
	int			width = b->width;
	uint64		acc = 0;
	int			fill = 0;
	int64		i;

	memcpy(dst, b, sizeof(CowIntBlock));
	if (width == 0)
		return end;
	for (i = (b->mode == COW_INT_DELTA) ? 1 : 0; i < (int64) b->count; i++)
	{
		uint64		u;

		if (b->mode == COW_INT_DELTA)
			u = (uint64) v[i] - (uint64) v[i - 1] - (uint64) b->base;
		else
			u = (uint64) v[i] - (uint64) b->base;
		acc |= u << fill;
		fill += width;
		if (fill >= 64)
		{
			CowStoreLE64(out, acc);
			out += sizeof(uint64);
			fill -= 64;
			acc = (fill > 0) ? u >> (width - fill) : 0;
		}
	}
	while (out < end)
	{
		CowStoreLE64(out, acc);
		out += sizeof(uint64);
		acc = 0;
	}
	return end;
}

/*
 * CowIntBlockRead reads an int block of count values into out[count].
 */
static void
CowIntBlockRead(CowChunkReader *r, int64 count, int64 *out)
{
	CowIntBlock b;
	const char *packed;
	uint64		npacked;
	uint64		mask;
	int			width;
	int64		i;

	memcpy(&b, CowChunkTake(r, sizeof(CowIntBlock)), sizeof(CowIntBlock));
	if ((int64) b.count != count || b.width > 64 ||
		(b.mode != COW_INT_FOR && b.mode != COW_INT_DELTA))
		CowChunkCorrupt(r, "bad int block header");
	width = b.width;
	npacked = (b.mode == COW_INT_DELTA && count > 0) ? count - 1 : count;
	packed = CowChunkTake(r, CowPackedBytes(npacked, width));
	mask = (width == 64) ? ~UINT64CONST(0) : (UINT64CONST(1) << width) - 1;

	if (b.mode == COW_INT_FOR)
	{
		if (width == 0)
		{
			for (i = 0; i < count; i++)
				out[i] = b.base;
			return;
		}
		for (i = 0; i < count; i++)
		{
			uint64		bit = (uint64) i * width;
			int			shift = bit & 7;
			uint64		x = CowLoadLE64(packed + (bit >> 3)) >> shift;

			if (shift + width > 64)
				x |= (uint64) (unsigned char) packed[(bit >> 3) + 8] << (64 - shift);
			out[i] = (int64) ((uint64) b.base + (x & mask));
		}
	}
	else
	{
		uint64		prev = (uint64) b.first;

		if (count == 0)
			return;
		out[0] = b.first;
		for (i = 1; i < count; i++)
		{
			uint64		x = 0;

			if (width > 0)
			{
				uint64		bit = (uint64) (i - 1) * width;
				int			shift = bit & 7;

				x = CowLoadLE64(packed + (bit >> 3)) >> shift;
				if (shift + width > 64)
					x |= (uint64) (unsigned char) packed[(bit >> 3) + 8] << (64 - shift);
				x &= mask;
			}
			prev += (uint64) b.base + x;
			out[i] = (int64) prev;
		}
	}
}

/* ---------- reading helpers ---------- */

static void
CowChunkCorrupt(CowChunkReader *r, const char *what)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATA_CORRUPTED),
			 errmsg("incetl_cow relation \"%s\": column %d of file group " INT64_FORMAT " is corrupted",
					r->rel ? RelationGetRelationName(r->rel) : "?",
					r->colno, r->file_group_id),
			 errdetail("%s.", what)));
}

/*
 * CowChunkEnsure makes bytes [off, off + len) of a chunk read frame by
 * frame (r->lazy) present in r->data; a chunk read whole has them all.
 * The range is within the chunk (the callers check).  Only those bytes
 * may be made present: every byte the decoder reads of a chunk read frame
 * by frame is asked for here first.
 */
static inline void
CowChunkEnsure(CowChunkReader *r, Size off, Size len)
{
	CowLazyRaw *lazy = r->lazy;
	uint32		f,
				last;

	if (lazy == NULL || len == 0)
		return;
	Assert(off + len <= r->len);
	last = CowFrameOf(lazy->first_raw, lazy->frame_raw, off + len - 1);
	for (f = CowFrameOf(lazy->first_raw, lazy->frame_raw, off); f <= last; f++)
	{
		if (f >= lazy->nframes)
			CowChunkCorrupt(r, "chunk is longer than its frames");
		if (!lazy->done[f])
			lazy->fetch(lazy, f, off, len);
	}
}

/*
 * CowChunkSkip: the next len bytes of the chunk, 8-byte aligned in it,
 * without making them present (a chunk read frame by frame: the caller
 * ensures what it reads of them)
 */
static const char *
CowChunkSkip(CowChunkReader *r, Size len)
{
	const char *p;

	if (r->pos > r->len || len > r->len - r->pos)
		CowChunkCorrupt(r, "chunk is truncated");
	p = r->data + r->pos;
	r->pos = Min(r->len, MAXALIGN(r->pos + len));
	return p;
}

/* the next len bytes of the chunk, 8-byte aligned in it */
static const char *
CowChunkTake(CowChunkReader *r, Size len)
{
	const char *p = CowChunkSkip(r, len);

	CowChunkEnsure(r, p - r->data, len);
	return p;
}

/* ---------- VARLENA: prefix lengths, suffix lengths, suffix bytes ---------- */

/*
 * CowVarlenaPlanValues measures values[n] (detoasted varlenas) for a
 * VARLENA body.  With front, a value shares with the previous one its
 * common prefix of at least COW_MIN_PREFIX bytes; front coding is kept
 * only when the bytes it saves are at least four times what its prefix
 * lengths cost.  Front coding restarts (a value stored whole) at the first
 * value whose bytes start in each COW_FRAME_RAW bytes of the body's value
 * bytes: a framed block's frames hold those bytes (cow_compress.c), so a
 * value is rebuilt from the frames it lies in, not from every frame back
 * to the block's first value.
 */
static void
CowVarlenaPlanValues(CowVarlenaPlan *p, const Datum *values, int64 n, bool front)
{
	const char *prev = NULL;
	int64		prevlen = 0;
	uint64		saved = 0;
	uint64		total = 0;
	uint64		restart = COW_FRAME_RAW;
	int64		i;

	memset(p, 0, sizeof(CowVarlenaPlan));
	p->n = n;
	p->values = values;
	p->prefix = palloc(sizeof(int64) * Max(n, 1));
	p->suffix = palloc(sizeof(int64) * Max(n, 1));
	for (i = 0; i < n; i++)
	{
		const char *v = DatumGetPointer(values[i]);
		const char *data = VARDATA_ANY(v);
		int64		len = VARSIZE_ANY_EXHDR(v);
		int64		k = 0;

		if (front && prev != NULL)
		{
			int64		lim = Min(len, prevlen);

			while (k < lim && data[k] == prev[k])
				k++;
			if (k < COW_MIN_PREFIX)
				k = 0;
			/* total - saved: where this value's bytes start */
			if (total - saved >= restart)
			{
				k = 0;
				restart = ((total - saved) / COW_FRAME_RAW + 1) * COW_FRAME_RAW;
			}
		}
		p->prefix[i] = k;
		p->suffix[i] = len - k;
		saved += k;
		total += len;
		prev = data;
		prevlen = len;
	}
	CowIntPlan(p->prefix, n, &p->pblock);
	if (saved > 0 && saved < 4 * (uint64) CowIntBlockSize(&p->pblock))
	{
		/* not worth it: store every value whole */
		for (i = 0; i < n; i++)
		{
			p->suffix[i] += p->prefix[i];
			p->prefix[i] = 0;
		}
		saved = 0;
		CowIntPlan(p->prefix, n, &p->pblock);
	}
	CowIntPlan(p->suffix, n, &p->sblock);
	p->suffix_bytes = total - saved;
	p->size = sizeof(CowVarlenaBody) + CowIntBlockSize(&p->pblock) +
		CowIntBlockSize(&p->sblock) + MAXALIGN(p->suffix_bytes);
}

static char *
CowVarlenaWrite(char *dst, const CowVarlenaPlan *p)
{
	CowVarlenaBody body;
	char	   *out;
	int64		i;

	memset(&body, 0, sizeof(body));
	body.count = (uint32) p->n;
	body.suffix_bytes = p->suffix_bytes;
	memcpy(dst, &body, sizeof(body));
	out = dst + sizeof(body);
	out = CowIntBlockWrite(out, p->prefix, &p->pblock);
	out = CowIntBlockWrite(out, p->suffix, &p->sblock);
	for (i = 0; i < p->n; i++)
	{
		const char *v = DatumGetPointer(p->values[i]);

		memcpy(out, VARDATA_ANY(v) + p->prefix[i], p->suffix[i]);
		out += p->suffix[i];
	}
	memset(out, 0, MAXALIGN(p->suffix_bytes) - p->suffix_bytes);
	return dst + p->size;
}

/*
 * CowVarlenaRead decodes a VARLENA body of count values into one buffer
 * (each value with a 4-byte header, int-aligned) and returns pointers to
 * them.
 */
static char **
CowVarlenaRead(CowChunkReader *r, int64 count)
{
	CowVarlenaBody body;
	int64	   *prefix = palloc(sizeof(int64) * Max(count, 1));
	int64	   *suffix = palloc(sizeof(int64) * Max(count, 1));
	char	  **ptrs = palloc(sizeof(char *) * Max(count, 1));
	const char *src;
	uint64		need = 0,
				sum = 0;
	int64		prevlen = 0;
	char	   *buf;
	char	   *prev = NULL;
	Size		off = 0;
	int64		i;

	memcpy(&body, CowChunkTake(r, sizeof(body)), sizeof(body));
	if ((int64) body.count != count)
		CowChunkCorrupt(r, "value count differs from the null bitmap");
	CowIntBlockRead(r, count, prefix);
	CowIntBlockRead(r, count, suffix);
	if (body.suffix_bytes > r->len)
		CowChunkCorrupt(r, "bad byte count");
	src = CowChunkTake(r, body.suffix_bytes);

	/* check every length before trusting any of them */
	for (i = 0; i < count; i++)
	{
		uint64		len;

		if (prefix[i] < 0 || suffix[i] < 0 || prefix[i] > prevlen ||
			(uint64) suffix[i] > body.suffix_bytes)
			CowChunkCorrupt(r, "bad value length");
		len = (uint64) prefix[i] + (uint64) suffix[i];
		if (len > MaxAllocSize - VARHDRSZ)
			CowChunkCorrupt(r, "bad value length");
		sum += suffix[i];
		need += INTALIGN(len + VARHDRSZ);
		if (sum > body.suffix_bytes || need > MaxAllocHugeSize)
			CowChunkCorrupt(r, "bad value length");
		prevlen = len;
	}
	if (sum != body.suffix_bytes)
		CowChunkCorrupt(r, "value lengths do not add up");

	buf = MemoryContextAllocHuge(CurrentMemoryContext, Max(need, 1));
	for (i = 0; i < count; i++)
	{
		char	   *out = buf + off;
		Size		len = prefix[i] + suffix[i];

		SET_VARSIZE(out, len + VARHDRSZ);
		if (prefix[i] > 0)
			memcpy(VARDATA(out), VARDATA(prev), prefix[i]);
		memcpy(VARDATA(out) + prefix[i], src, suffix[i]);
		src += suffix[i];
		ptrs[i] = out;
		prev = out;
		off += INTALIGN(len + VARHDRSZ);
	}
	pfree(prefix);
	pfree(suffix);
	return ptrs;
}

/* ---------- NUMERIC ---------- */

static const int64 CowPow10[] = {
	INT64CONST(1), INT64CONST(10), INT64CONST(100), INT64CONST(1000),
	INT64CONST(10000), INT64CONST(100000), INT64CONST(1000000),
	INT64CONST(10000000), INT64CONST(100000000), INT64CONST(1000000000),
	INT64CONST(10000000000), INT64CONST(100000000000),
	INT64CONST(1000000000000), INT64CONST(10000000000000),
	INT64CONST(100000000000000), INT64CONST(1000000000000000)
};

/*
 * CowNumericBuild writes the numeric payload (header word and base-10000
 * digits, no varlena header) that numeric.c's make_result gives for
 * value / 10^dscale at display scale dscale, and returns its length.
 * |value| < COW_NUMERIC_LIMIT, 0 <= dscale <= 63.
 */
static inline int
CowNumericBuild(int64 value, int dscale, char *dst)
{
	uint64		u = (value < 0) ? -(uint64) value : (uint64) value;
	int			pad = (4 - dscale % 4) % 4;
	int			fracdigits = (dscale + pad) / 4;
	int16		digits[COW_NUMERIC_MAX_DIGITS + 1];
	int			n = 0,
				lo = 0,
				weight = 0,
				i;
	uint16		header;

	u *= (uint64) CowPow10[pad];
	while (u > 0)
	{
		digits[n++] = (int16) (u % 10000);
		u /= 10000;
	}
	/* digits[] is least significant first: skip trailing zeros */
	while (lo < n && digits[lo] == 0)
		lo++;
	header = COW_NUMERIC_SHORT | (dscale << COW_NUMERIC_DSCALE_SHIFT);
	if (n > 0)
	{
		weight = n - 1 - fracdigits;
		if (value < 0)
			header |= COW_NUMERIC_SIGN;
	}
	if (weight < 0)
		header |= COW_NUMERIC_WEIGHT_SIGN;
	header |= (weight & COW_NUMERIC_WEIGHT_MASK);
	memcpy(dst, &header, sizeof(uint16));
	for (i = n - 1; i >= lo; i--)
		memcpy(dst + sizeof(uint16) + (n - 1 - i) * sizeof(int16), &digits[i],
			   sizeof(int16));
	return sizeof(uint16) + (n - lo) * sizeof(int16);
}

/*
 * CowNumericScaled reads a numeric payload as value / 10^dscale.  False
 * for a special value, a long-format header, or a value that does not
 * fit or would not be rebuilt byte for byte by CowNumericBuild.
 */
static bool
CowNumericScaled(const char *payload, Size len, int *dscale, int64 *value)
{
	uint16		header;
	int			weight,
				ndigits,
				i;
	uint64		v = 0;
	char		rebuilt[sizeof(uint16) + sizeof(int16) * (COW_NUMERIC_MAX_DIGITS + 1)];

	if (len < sizeof(uint16) || (len - sizeof(uint16)) % sizeof(int16) != 0)
		return false;
	memcpy(&header, payload, sizeof(uint16));
	if ((header & COW_NUMERIC_FLAG_MASK) != COW_NUMERIC_SHORT)
		return false;
	*dscale = (header & COW_NUMERIC_DSCALE_MASK) >> COW_NUMERIC_DSCALE_SHIFT;
	weight = header & COW_NUMERIC_WEIGHT_MASK;
	if (header & COW_NUMERIC_WEIGHT_SIGN)
		weight |= ~COW_NUMERIC_WEIGHT_MASK;
	ndigits = (len - sizeof(uint16)) / sizeof(int16);
	if (ndigits > COW_NUMERIC_MAX_DIGITS)
		return false;
	for (i = 0; i < ndigits; i++)
	{
		int16		d;
		int			e = 4 * (weight - i) + *dscale;	/* decimal exponent */
		uint64		term;

		memcpy(&d, payload + sizeof(uint16) + i * sizeof(int16), sizeof(int16));
		if (d < 0 || d > 9999)
			return false;
		if (e >= 16)
		{
			if (d != 0)
				return false;
			continue;
		}
		/* below 10^16 + 9999 * 10^15: no overflow in uint64 */
		if (e >= 0)
			term = (uint64) d * (uint64) CowPow10[e];
		else if (e > -4 && d % CowPow10[-e] == 0)
			term = d / CowPow10[-e];
		else
			return false;		/* digits beyond the display scale */
		v += term;
		if (v >= (uint64) COW_NUMERIC_LIMIT)
			return false;
	}
	*value = (header & COW_NUMERIC_SIGN) ? -(int64) v : (int64) v;
	if (CowNumericBuild(*value, *dscale, rebuilt) != (int) len ||
		memcmp(rebuilt, payload, len) != 0)
		return false;
	return true;
}

/* ---------- encoders ---------- */

static bool
CowEncodeInt(CowColumnDesc *d, const Datum *values, int64 nvals, Size head,
			 CowEncodedChunk *out)
{
	const int64 *v;
	int64	   *copy = NULL;
	CowIntBlock b;
	int64		i;

#if SIZEOF_DATUM == 8
	/* an 8-byte pass-by-value Datum is the int64 itself: no copy */
	if (d->attlen == 8)
		v = (const int64 *) values;
	else
#endif
	{
		copy = palloc(sizeof(int64) * Max(nvals, 1));
		for (i = 0; i < nvals; i++)
			copy[i] = CowDatumGetInt(values[i], d->attlen);
		v = copy;
	}
	CowIntPlan(v, nvals, &b);
	if (b.width < d->attlen * 8)
	{
		out->len = head + CowIntBlockSize(&b);
		out->data = palloc0(out->len);
		CowIntBlockWrite(out->data + head, v, &b);
		d->encoding = COW_ENC_INT;
	}
	if (copy)
		pfree(copy);
	return out->data != NULL;
}

static bool
CowEncodeNumeric(CowColumnDesc *d, const Datum *values, int64 nvals, Size head,
				 CowEncodedChunk *out)
{
	int64	   *v = palloc(sizeof(int64) * Max(nvals, 1));
	int			dscale = -1;
	CowNumericBody body;
	CowIntBlock b;
	int64		i;

	for (i = 0; i < nvals; i++)
	{
		const char *p = DatumGetPointer(values[i]);
		int			s;

		if (!CowNumericScaled(VARDATA_ANY(p), VARSIZE_ANY_EXHDR(p), &s, &v[i]) ||
			(dscale >= 0 && s != dscale))
		{
			pfree(v);
			return false;
		}
		dscale = s;
	}
	CowIntPlan(v, nvals, &b);
	memset(&body, 0, sizeof(body));
	body.dscale = Max(dscale, 0);
	out->len = head + sizeof(body) + CowIntBlockSize(&b);
	out->data = palloc0(out->len);
	memcpy(out->data + head, &body, sizeof(body));
	CowIntBlockWrite(out->data + head + sizeof(body), v, &b);
	d->encoding = COW_ENC_NUMERIC;
	out->scaled = v;			/* the writer finds min/max with them */
	return true;
}

/*
 * CowEncodeDict builds a dictionary of the distinct values (by their
 * bytes) and uses it when there are few enough and it is smaller than the
 * values' bytes.
 */
typedef struct CowDictSlot
{
	uint32		hash;
	int32		entry;			/* -1: empty */
} CowDictSlot;

/*
 * Values a merge decoded from a dictionary block are pointers to that
 * block's few entries, the same pointer for the same value: a small cache
 * from pointer to code answers those without hashing or comparing bytes.
 */
#define COW_DICT_PTR_CACHE		64

typedef struct CowDictPtr
{
	Pointer		ptr;
	int64		code;
} CowDictPtr;

static bool
CowEncodeDict(CowColumnDesc *d, const Datum *values, int64 nvals, Size head,
			  CowEncodedChunk *out)
{
	int64		maxent = Min(COW_DICT_MAX_ENTRIES, nvals / 2);
	CowDictSlot *slots;
	CowDictPtr	ptrs[COW_DICT_PTR_CACHE];
	Datum	   *entries;
	int64	   *codes;
	int64		nent = 0;
	uint64		bytes = 0;
	CowVarlenaPlan ep;
	CowIntBlock cb;
	CowDictBody body;
	Size		size;
	char	   *p;
	int64		i;

	if (maxent < 1)
		return false;
	slots = palloc(sizeof(CowDictSlot) * COW_DICT_SLOTS);
	for (i = 0; i < COW_DICT_SLOTS; i++)
		slots[i].entry = -1;
	memset(ptrs, 0, sizeof(ptrs));
	entries = palloc(sizeof(Datum) * maxent);
	codes = palloc(sizeof(int64) * nvals);
	for (i = 0; i < nvals; i++)
	{
		const char *v = DatumGetPointer(values[i]);
		const char *data = VARDATA_ANY(v);
		Size		len = VARSIZE_ANY_EXHDR(v);
		CowDictPtr *pc = &ptrs[((uintptr_t) v >> 3) % COW_DICT_PTR_CACHE];
		uint32		h;
		uint32		s;

		bytes += len;
		if (pc->ptr == v)
		{
			codes[i] = pc->code;
			continue;
		}
		h = hash_bytes((const unsigned char *) data, (int) len);
		s = h & (COW_DICT_SLOTS - 1);
		for (;;)
		{
			CowDictSlot *slot = &slots[s];

			if (slot->entry < 0)
			{
				if (nent >= maxent)
				{
					out->dict_full = true;
					pfree(slots);
					pfree(entries);
					pfree(codes);
					return false;
				}
				slot->hash = h;
				slot->entry = nent;
				entries[nent] = values[i];
				codes[i] = nent++;
				pc->ptr = (Pointer) v;
				pc->code = codes[i];
				break;
			}
			if (slot->hash == h)
			{
				const char *e = DatumGetPointer(entries[slot->entry]);

				if (VARSIZE_ANY_EXHDR(e) == len && memcmp(VARDATA_ANY(e), data, len) == 0)
				{
					codes[i] = slot->entry;
					pc->ptr = (Pointer) v;
					pc->code = codes[i];
					break;
				}
			}
			s = (s + 1) & (COW_DICT_SLOTS - 1);
		}
	}
	pfree(slots);

	CowVarlenaPlanValues(&ep, entries, nent, false);
	CowIntPlan(codes, nvals, &cb);
	size = sizeof(body) + ep.size + CowIntBlockSize(&cb);
	if (size >= bytes)
	{
		pfree(entries);
		pfree(codes);
		return false;
	}
	memset(&body, 0, sizeof(body));
	body.nentries = (uint32) nent;
	out->len = head + size;
	out->data = palloc0(out->len);
	p = out->data + head;
	memcpy(p, &body, sizeof(body));
	p = CowVarlenaWrite(p + sizeof(body), &ep);
	CowIntBlockWrite(p, codes, &cb);
	d->encoding = COW_ENC_DICT;
	out->distinct = entries;
	out->ndistinct = nent;
	pfree(codes);
	return true;
}

static void
CowEncodeVarlena(CowColumnDesc *d, const Datum *values, int64 nvals, Size head,
				 CowEncodedChunk *out)
{
	CowVarlenaPlan p;

	CowVarlenaPlanValues(&p, values, nvals, true);
	out->len = head + p.size;
	out->data = palloc0(out->len);
	CowVarlenaWrite(out->data + head, &p);
	out->frame_head = head + sizeof(CowVarlenaBody) +
		CowIntBlockSize(&p.pblock) + CowIntBlockSize(&p.sblock);
	d->encoding = COW_ENC_VARLENA;
	pfree(p.prefix);
	pfree(p.suffix);
}

/* the values as in a heap tuple, aligned relative to the body start */
static void
CowEncodePlain(CowColumnDesc *d, const Datum *values, int64 nvals, Size head,
			   CowEncodedChunk *out)
{
	Size		off = head;
	Size		cap = head + 64;
	char	   *buf;
	int64		i;

	Assert(head == MAXALIGN(head));
	buf = palloc0(cap);
	for (i = 0; i < nvals; i++)
	{
		const char *p = DatumGetPointer(values[i]);
		Size		vlen;
		char		align = CowPlainAlign(d);

		if (d->attlen == -1)
			vlen = VARSIZE_ANY_EXHDR(p) + VARHDRSZ;
		else if (d->attlen == -2)
			vlen = strlen(p) + 1;
		else
			vlen = d->attlen;
		off = head + att_align_nominal(off - head, align);
		if (off + vlen > cap)
		{
			Size		newcap = Max(cap * 2, off + vlen);

			buf = repalloc_huge(buf, newcap);
			memset(buf + cap, 0, newcap - cap);
			cap = newcap;
		}
		if (d->attlen == -1)
		{
			/* always with a 4-byte header, as detoasting gives */
			SET_VARSIZE(buf + off, vlen);
			memcpy(buf + off + VARHDRSZ, VARDATA_ANY(p), vlen - VARHDRSZ);
		}
		else if (d->attbyval)
			store_att_byval(buf + off, values[i], d->attlen);
		else
			memcpy(buf + off, p, vlen);
		off += vlen;
	}
	out->data = buf;
	out->len = off;
	d->encoding = COW_ENC_PLAIN;
}

/*
 * CowEncodeChunk encodes one column chunk: nvals non-NULL values (in row
 * order, varlenas detoasted) of the type described by d (typid, attlen,
 * attbyval, attalign), and, when nulls is not NULL, the null bitmap of
 * nrows rows.  Sets d->encoding and returns the chunk in *out (palloc'd in
 * the current context).  Without try_dict, varlenas are not tried as a
 * dictionary (the writer's hint after a block with too many distinct
 * values: a column of distinct values would pay for a failed dictionary
 * in every block).
 */
void
CowEncodeChunk(CowColumnDesc *d, const Datum *values, int64 nvals,
			   const bits8 *nulls, int64 nrows, bool try_dict,
			   CowEncodedChunk *out)
{
	Size		head = nulls ? MAXALIGN((nrows + 7) / 8) : 0;
	Oid			base = getBaseType(d->typid);
	bool		done = false;

	memset(out, 0, sizeof(CowEncodedChunk));
	if (d->attbyval && (d->attlen == 1 || d->attlen == 2 || d->attlen == 4 ||
						d->attlen == 8) &&
		base != FLOAT4OID && base != FLOAT8OID)
		done = CowEncodeInt(d, values, nvals, head, out);
	else if (d->attlen == -1)
	{
		if (base == NUMERICOID)
			done = CowEncodeNumeric(d, values, nvals, head, out);
		if (!done && try_dict)
			done = CowEncodeDict(d, values, nvals, head, out);
		if (!done)
		{
			CowEncodeVarlena(d, values, nvals, head, out);
			done = true;
		}
	}
	if (!done)
		CowEncodePlain(d, values, nvals, head, out);
	if (nulls)
		memcpy(out->data, nulls, (nrows + 7) / 8);
}

/*
 * CowPlainAlign: the alignment of d's values in a PLAIN chunk (varlenas
 * are stored with 4-byte headers, so at least int-aligned).
 */
static char
CowPlainAlign(const CowColumnDesc *d)
{
	if (d->attlen == -1 &&
		(d->attalign == TYPALIGN_CHAR || d->attalign == TYPALIGN_SHORT))
		return TYPALIGN_INT;
	return d->attalign;
}

/*
 * CowPlainStep returns the PLAIN value at *off (aligned to align first)
 * of the values starting at start in r, checked to lie within the chunk,
 * and moves *off past it.
 */
static const char *
CowPlainStep(CowChunkReader *r, const CowColumnDesc *d, char align,
			 Size start, Size *off)
{
	const char *p;
	Size		avail;
	Size		vlen;

	*off = att_align_nominal(*off, align);
	if (start + *off >= r->len)
		CowChunkCorrupt(r, "chunk is truncated");
	p = r->data + start + *off;
	avail = r->len - (start + *off);
	if (d->attlen == -1)
	{
		if (avail < VARHDRSZ || !VARATT_IS_4B_U(p) || VARSIZE(p) < VARHDRSZ)
			CowChunkCorrupt(r, "bad value length");
		vlen = VARSIZE(p);
	}
	else if (d->attlen == -2)
		vlen = strnlen(p, avail) + 1;
	else
		vlen = d->attlen;
	if (vlen > avail)
		CowChunkCorrupt(r, "chunk is truncated");
	*off += vlen;
	return p;
}

/*
 * CowTypeIsIntOrdered: is typid a pass-by-value type whose order is that of
 * its value as a signed integer (the integer types, date, time and the
 * timestamps, or a domain over one)?  Their min/max and sort order can then
 * be found by comparing integers rather than by calling the comparator.
 */
static bool
CowBaseTypeIsIntOrdered(Oid typid)
{
	switch (typid)
	{
		case INT2OID:
		case INT4OID:
		case INT8OID:
		case DATEOID:
		case TIMEOID:
		case TIMESTAMPOID:
		case TIMESTAMPTZOID:
			return true;
		default:
			return false;
	}
}

bool
CowTypeIsIntOrdered(Oid typid)
{
	/* the types themselves without a catalog lookup, then domains */
	return CowBaseTypeIsIntOrdered(typid) ||
		CowBaseTypeIsIntOrdered(getBaseType(typid));
}

/* the encoding's name in incetl.column_stats(); -1 is an all-NULL chunk */
const char *
CowEncodingName(int encoding)
{
	switch (encoding)
	{
		case -1:
			return "null";
		case COW_ENC_PLAIN:
			return "plain";
		case COW_ENC_INT:
			return "int";
		case COW_ENC_NUMERIC:
			return "numeric";
		case COW_ENC_DICT:
			return "dictionary";
		case COW_ENC_VARLENA:
			return "varlena";
	}
	return "unknown";
}

/* ---------- decoders ---------- */

static void
CowDecodePlain(CowChunkReader *r, const CowColumnDesc *d, int64 nvals,
			   Datum *values)
{
	Size		start = r->pos;
	Size		off = 0;
	char		align = CowPlainAlign(d);
	int64		i;

	for (i = 0; i < nvals; i++)
		values[i] = fetch_att(CowPlainStep(r, d, align, start, &off),
							  d->attbyval, d->attlen);
	r->pos = Min(r->len, MAXALIGN(start + off));
}

/*
 * CowChunkReaderInit sets r to read raw, the decompressed bytes of a chunk
 * (or block) described by d, of column colno of a file group; lazy, when
 * not NULL, holds the frames still to decompress.
 */
static void
CowChunkReaderInit(CowChunkReader *r, Relation rel, int64 file_group_id,
				   int colno, const CowColumnDesc *d, const char *raw,
				   CowLazyRaw *lazy)
{
	r->data = raw;
	r->len = d->raw_len;
	r->pos = 0;
	r->rel = rel;
	r->file_group_id = file_group_id;
	r->colno = colno;
	r->lazy = lazy;
}

/*
 * CowChunkReadNulls reads the null bitmap at r (when d has one) into
 * isnull[0..nrows-1] and returns how many of the rows are not NULL.
 */
static int64
CowChunkReadNulls(CowChunkReader *r, const CowColumnDesc *d, uint64 nrows,
				  bool *isnull)
{
	const bits8 *bm;
	int64		nvals = 0;
	uint64		i;

	if (!(d->flags & COW_COL_HAS_NULLS))
	{
		memset(isnull, false, nrows);
		return nrows;
	}
	bm = (const bits8 *) CowChunkTake(r, (nrows + 7) / 8);
	for (i = 0; i < nrows; i++)
	{
		isnull[i] = (bm[i >> 3] >> (i & 7)) & 1;
		nvals += !isnull[i];
	}
	return nvals;
}

/*
 * CowDecodeChunk fills values/isnull[nrows] from the raw (decompressed)
 * chunk of column colno (1-based, for messages) described by d.  Returns
 * true when values point into raw, which must then live as long as they
 * do; otherwise they point into memory of their own (or are by value) and
 * the caller may free raw.  Everything is allocated in the current memory
 * context.
 */
bool
CowDecodeChunk(Relation rel, int64 file_group_id, int colno,
			   const CowColumnDesc *d, const char *raw, uint64 nrows,
			   Datum *values, bool *isnull)
{
	CowChunkReader r;
	int64		nvals = 0;
	uint64		i;
	bool		keeps_raw = false;

	CowChunkReaderInit(&r, rel, file_group_id, colno, d, raw, NULL);

	nvals = CowChunkReadNulls(&r, d, nrows, isnull);

	/* decode the nvals values into values[0..nvals-1] */
	switch (d->encoding)
	{
		case COW_ENC_PLAIN:
			CowDecodePlain(&r, d, nvals, values);
			keeps_raw = true;
			break;
		case COW_ENC_INT:
			if (!d->attbyval ||
				(d->attlen != 1 && d->attlen != 2 && d->attlen != 4 && d->attlen != 8))
				CowChunkCorrupt(&r, "int encoding of a type that is not an integer");
			{
				int64	   *v = COW_INT64_DATUMS(values, nvals);

				CowIntBlockRead(&r, nvals, v);
				/* the Datums fetch_att gives for these values */
				if ((Datum *) v != values)
				{
					int64		k;

					for (k = 0; k < nvals; k++)
						values[k] = CowIntDatum(v[k], d->attlen);
					pfree(v);
				}
			}
			break;
		case COW_ENC_NUMERIC:
			{
				CowNumericBody body;
				int64	   *v = COW_INT64_DATUMS(values, nvals);
				char	   *buf;
				Size		off = 0;
				int64		k;

				if (d->attlen != -1)
					CowChunkCorrupt(&r, "numeric encoding of a fixed-length type");
				memcpy(&body, CowChunkTake(&r, sizeof(body)), sizeof(body));
				if (body.dscale > (COW_NUMERIC_DSCALE_MASK >> COW_NUMERIC_DSCALE_SHIFT))
					CowChunkCorrupt(&r, "bad numeric scale");
				CowIntBlockRead(&r, nvals, v);
				buf = MemoryContextAllocHuge(CurrentMemoryContext,
											 Max(nvals, 1) * COW_NUMERIC_MAX_SIZE);
				for (k = 0; k < nvals; k++)
				{
					char	   *out = buf + off;
					int			len;

					if (v[k] <= -COW_NUMERIC_LIMIT || v[k] >= COW_NUMERIC_LIMIT)
						CowChunkCorrupt(&r, "numeric value out of range");
					len = CowNumericBuild(v[k], body.dscale, VARDATA(out));
					SET_VARSIZE(out, len + VARHDRSZ);
					values[k] = PointerGetDatum(out);	/* v[k] is read */
					off += INTALIGN(len + VARHDRSZ);
				}
				if ((Datum *) v != values)
					pfree(v);
			}
			break;
		case COW_ENC_DICT:
			{
				CowDictBody body;
				char	  **entries;
				int64	   *codes = COW_INT64_DATUMS(values, nvals);
				int64		k;

				if (d->attlen != -1)
					CowChunkCorrupt(&r, "dictionary encoding of a fixed-length type");
				memcpy(&body, CowChunkTake(&r, sizeof(body)), sizeof(body));
				if (body.nentries > COW_DICT_MAX_ENTRIES)
					CowChunkCorrupt(&r, "bad dictionary size");
				entries = CowVarlenaRead(&r, body.nentries);
				CowIntBlockRead(&r, nvals, codes);
				for (k = 0; k < nvals; k++)
				{
					if (codes[k] < 0 || codes[k] >= (int64) body.nentries)
						CowChunkCorrupt(&r, "dictionary code out of range");
					values[k] = PointerGetDatum(entries[codes[k]]);	/* codes[k] is read */
				}
				if ((Datum *) codes != values)
					pfree(codes);
				pfree(entries);
			}
			break;
		case COW_ENC_VARLENA:
			{
				char	  **ptrs;
				int64		k;

				if (d->attlen != -1)
					CowChunkCorrupt(&r, "varlena encoding of a fixed-length type");
				ptrs = CowVarlenaRead(&r, nvals);
				for (k = 0; k < nvals; k++)
					values[k] = PointerGetDatum(ptrs[k]);
				pfree(ptrs);
			}
			break;
		default:
			CowChunkCorrupt(&r, psprintf("unknown encoding %u", d->encoding));
	}

	/* spread the values over the rows, from the end: in place */
	if (nvals < (int64) nrows)
	{
		int64		k = nvals;

		for (i = nrows; i-- > 0;)
			values[i] = isnull[i] ? (Datum) 0 : values[--k];
	}
	return keeps_raw;
}

/*
 * CowDecodeChunkUnits decodes a NUMERIC-encoded chunk (d->encoding
 * COW_ENC_NUMERIC) of nrows rows without building numerics: units[row] is
 * the value times 10^*dscale (0 for NULL rows), isnull[row] its null flag,
 * *dscale the display scale every value of the chunk shares.  Returns false,
 * having read nothing, for a chunk of any other encoding: the caller then
 * decodes it with CowDecodeChunk.  The aggregate pushdown (cow_agg.c)
 * compares and sums numeric(p,s) columns this way.
 */
bool
CowDecodeChunkUnits(Relation rel, int64 file_group_id, int colno,
					const CowColumnDesc *d, const char *raw, uint64 nrows,
					int64 *units, bool *isnull, int *dscale)
{
	CowChunkReader r;
	CowNumericBody body;
	int64		nvals = 0;
	int64		k;
	uint64		i;

	if (d->encoding != COW_ENC_NUMERIC)
		return false;

	CowChunkReaderInit(&r, rel, file_group_id, colno, d, raw, NULL);

	nvals = CowChunkReadNulls(&r, d, nrows, isnull);

	if (d->attlen != -1)
		CowChunkCorrupt(&r, "numeric encoding of a fixed-length type");
	memcpy(&body, CowChunkTake(&r, sizeof(body)), sizeof(body));
	if (body.dscale > (COW_NUMERIC_DSCALE_MASK >> COW_NUMERIC_DSCALE_SHIFT))
		CowChunkCorrupt(&r, "bad numeric scale");
	CowIntBlockRead(&r, nvals, units);
	for (k = 0; k < nvals; k++)
		if (units[k] <= -COW_NUMERIC_LIMIT || units[k] >= COW_NUMERIC_LIMIT)
			CowChunkCorrupt(&r, "numeric value out of range");

	/* spread the values over the rows, from the end: in place */
	if (nvals < (int64) nrows)
	{
		k = nvals;
		for (i = nrows; i-- > 0;)
			units[i] = isnull[i] ? 0 : units[--k];
	}
	*dscale = (int) body.dscale;
	return true;
}

/* ---------- single values ---------- */

/*
 * A point lookup needs one value of a block: the readers below find it in
 * the raw chunk without decoding the others.  A frame-of-reference int
 * block is read at the value's bit offset, a delta block sums the deltas
 * before it, a VARLENA body walks the lengths before the value (from the
 * last value without a shared prefix), a dictionary reads the code and
 * then its entry, a PLAIN body computes the offset of a fixed-length value
 * or walks the lengths of variable-length ones.  Every header, length and
 * code they read is checked as the whole-chunk decoders check it; the
 * values they skip are not (the block's CRC covers them).
 */

/* an int block opened for reading single values */
typedef struct CowIntCursor
{
	CowIntBlock b;
	const char *packed;
	Size		packed_len;
	uint64		mask;
	CowChunkReader *r;			/* the chunk it is in */
} CowIntCursor;

/* a VARLENA body opened for reading single values */
typedef struct CowVarlenaCursor
{
	int64		count;
	CowIntCursor prefix;
	CowIntCursor suffix;
	const char *src;
	uint64		suffix_bytes;
} CowVarlenaCursor;

/* CowIntOpen reads the header of an int block of count values */
static void
CowIntOpen(CowChunkReader *r, int64 count, CowIntCursor *c)
{
	uint64		npacked;

	memcpy(&c->b, CowChunkTake(r, sizeof(CowIntBlock)), sizeof(CowIntBlock));
	if ((int64) c->b.count != count || c->b.width > 64 ||
		(c->b.mode != COW_INT_FOR && c->b.mode != COW_INT_DELTA))
		CowChunkCorrupt(r, "bad int block header");
	npacked = (c->b.mode == COW_INT_DELTA && count > 0) ? count - 1 : count;
	c->packed_len = CowPackedBytes(npacked, c->b.width);
	/* the readers below make present the values they read */
	c->packed = CowChunkSkip(r, c->packed_len);
	c->mask = (c->b.width == 64) ? ~UINT64CONST(0) :
		(UINT64CONST(1) << c->b.width) - 1;
	c->r = r;
}

/*
 * CowIntEnsure makes the packed values [first, first + n) of an opened int
 * block present (a chunk read frame by frame), with the bytes
 * CowIntPacked may load past them.
 */
static inline void
CowIntEnsure(const CowIntCursor *c, uint64 first, uint64 n)
{
	Size		from,
				to;

	if (c->r->lazy == NULL || c->b.width == 0 || n == 0)
		return;
	from = (first * c->b.width) >> 3;
	to = Min(((first + n) * c->b.width + 7) / 8 + sizeof(uint64) + 1,
			 c->packed_len);
	if (from < to)
		CowChunkEnsure(c->r, (c->packed - c->r->data) + from, to - from);
}

/* the packed value i of an opened int block */
static inline uint64
CowIntPacked(const CowIntCursor *c, uint64 i)
{
	uint64		bit;
	int			shift;
	uint64		x;

	if (c->b.width == 0)
		return 0;
	bit = i * c->b.width;
	shift = bit & 7;
	x = CowLoadLE64(c->packed + (bit >> 3)) >> shift;
	if (shift + c->b.width > 64)
		x |= (uint64) (unsigned char) c->packed[(bit >> 3) + 8] << (64 - shift);
	return x & c->mask;
}

/* CowIntHead decodes values [0, n) of an opened int block into out[n] */
static void
CowIntHead(const CowIntCursor *c, int64 n, int64 *out)
{
	int64		i;

	Assert(n <= (int64) c->b.count);
	if (c->b.mode == COW_INT_FOR)
	{
		CowIntEnsure(c, 0, n);
		for (i = 0; i < n; i++)
			out[i] = (int64) ((uint64) c->b.base + CowIntPacked(c, i));
	}
	else if (n > 0)
	{
		uint64		prev = (uint64) c->b.first;

		CowIntEnsure(c, 0, n - 1);
		out[0] = c->b.first;
		for (i = 1; i < n; i++)
		{
			prev += (uint64) c->b.base + CowIntPacked(c, i - 1);
			out[i] = (int64) prev;
		}
	}
}

/*
 * CowSumWordFields: the sum of the 64 / width values of width bits (1, 2,
 * 4, 8, 16 or 32) packed in x, added in parallel lanes: neighbouring
 * fields are summed into lanes twice as wide until the lanes' sum fits
 * where one multiplication gathers it.
 */
static inline uint64
CowSumWordFields(uint64 x, int width)
{
	switch (width)
	{
		case 1:
			x = x - ((x >> 1) & UINT64CONST(0x5555555555555555));
			/* FALLTHROUGH */
		case 2:
			x = (x & UINT64CONST(0x3333333333333333)) +
				((x >> 2) & UINT64CONST(0x3333333333333333));
			x = (x + (x >> 4)) & UINT64CONST(0x0F0F0F0F0F0F0F0F);
			/* eight bytes of at most 12 (2 bits) or 8 (1 bit) each */
			return (x * UINT64CONST(0x0101010101010101)) >> 56;
		case 4:
			/* eight bytes of at most 30 each */
			x = (x & UINT64CONST(0x0F0F0F0F0F0F0F0F)) +
				((x >> 4) & UINT64CONST(0x0F0F0F0F0F0F0F0F));
			return (x * UINT64CONST(0x0101010101010101)) >> 56;
		case 8:
			/* four 16-bit lanes of at most 510 each */
			x = (x & UINT64CONST(0x00FF00FF00FF00FF)) +
				((x >> 8) & UINT64CONST(0x00FF00FF00FF00FF));
			return (x * UINT64CONST(0x0001000100010001)) >> 48;
		case 16:
			x = (x & UINT64CONST(0x0000FFFF0000FFFF)) +
				((x >> 16) & UINT64CONST(0x0000FFFF0000FFFF));
			/* FALLTHROUGH */
		case 32:
			return (x & UINT64CONST(0xFFFFFFFF)) + (x >> 32);
	}
	pg_unreachable();
	return 0;
}

/*
 * CowIntSumPacked: the sum of the packed values [from, to) of an opened
 * int block (present: the caller ensures them), without their base.  A
 * VARLENA block's first lookup sums the lengths of the values before it
 * (thousands, see CowVarlenaPackedBefore), so values of at most 56 bits,
 * which one 8-byte load at their first byte holds whole, are taken by
 * walking the bit offset, with no per-value test for a ninth byte.
 */
static uint64
CowIntSumPacked(const CowIntCursor *c, uint64 from, uint64 to)
{
	uint64		sum = 0;
	uint64		i;

	if (c->b.width == 0 || from >= to)
		return 0;
	if (c->b.width <= 56)
	{
		const char *packed = c->packed;
		uint64		mask = c->mask;
		uint64		width = c->b.width;
		uint64		bit = from * width;
		uint64		end = to * width;

		/* a width dividing 64: whole words of values summed at once */
		if ((64 % width) == 0 && end - bit >= 128)
		{
			for (; (bit & 63) != 0; bit += width)
				sum += (CowLoadLE64(packed + (bit >> 3)) >> (bit & 7)) & mask;
			for (; bit + 64 <= end; bit += 64)
				sum += CowSumWordFields(CowLoadLE64(packed + (bit >> 3)),
										(int) width);
		}
		for (; bit < end; bit += width)
			sum += (CowLoadLE64(packed + (bit >> 3)) >> (bit & 7)) & mask;
#ifdef USE_ASSERT_CHECKING
		{
			uint64		check = 0;

			for (i = from; i < to; i++)
				check += CowIntPacked(c, i);
			Assert(check == sum);
		}
#endif
		return sum;
	}
	for (i = from; i < to; i++)
		sum += CowIntPacked(c, i);
	return sum;
}

/* value i of an opened int block */
static int64
CowIntValue(const CowIntCursor *c, int64 i)
{
	uint64		v;

	Assert(i >= 0 && i < (int64) c->b.count);
	if (c->b.mode == COW_INT_FOR)
	{
		CowIntEnsure(c, i, 1);
		return (int64) ((uint64) c->b.base + CowIntPacked(c, i));
	}
	/* the first value, plus i times the least delta, plus the rest */
	CowIntEnsure(c, 0, i);
	v = (uint64) c->b.first + (uint64) i * (uint64) c->b.base +
		CowIntSumPacked(c, 0, i);
	return (int64) v;
}

/* the body CowVarlenaBodyFetch copies suffix bytes from */
typedef struct CowVarlenaBodyArg
{
	CowChunkReader *r;
	const CowVarlenaCursor *c;
} CowVarlenaBodyArg;

static bool CowVarlenaRebuild(CowChunkReader *r, const int64 *prefix,
							  const int64 *suffix, int64 last, uint64 sum,
							  uint64 suffix_bytes, CowValueFetch fetch,
							  void *arg, Datum *value);
static bool CowVarlenaBodyFetch(void *arg, Size off, Size len, char *dst);

/* CowVarlenaOpen reads the headers of a VARLENA body of count values */
static void
CowVarlenaOpen(CowChunkReader *r, int64 count, CowVarlenaCursor *c)
{
	CowVarlenaBody body;

	memcpy(&body, CowChunkTake(r, sizeof(body)), sizeof(body));
	if ((int64) body.count != count)
		CowChunkCorrupt(r, "value count differs from the null bitmap");
	c->count = count;
	CowIntOpen(r, count, &c->prefix);
	CowIntOpen(r, count, &c->suffix);
	if (body.suffix_bytes > r->len)
		CowChunkCorrupt(r, "bad byte count");
	c->suffix_bytes = body.suffix_bytes;
	/* CowVarlenaValue makes present the bytes it copies */
	c->src = CowChunkSkip(r, body.suffix_bytes);
}

/*
 * CowVarlenaPackedBefore: the sum of the packed suffix lengths (without
 * their base) of values [0, k) of an opened VARLENA body.  For a block read
 * one value at a time (see CowLazyRaw in cow/format.h) the sum goes by the
 * block's length marks: from the last mark at or before k, and where the
 * marks known do not reach that far, summing from the last one known,
 * making the marks it passes, which are handed to the reader to keep --
 * the first lookup in a block sums no more than it would without marks.
 */
static uint64
CowVarlenaPackedBefore(CowChunkReader *r, const CowVarlenaCursor *c, int64 k)
{
	const CowIntCursor *sc = &c->suffix;
	CowLazyRaw *lazy = r->lazy;
	Size		at = sc->packed - r->data;
	uint32		want = (uint32) (k / COW_LENGTH_MARK_STEP);
	uint32		known;
	uint64		from;
	uint64		sum;
	uint64	   *marks;

	if (lazy == NULL || lazy->keep_marks == NULL || sc->b.width == 0 ||
		want == 0)
	{
		CowIntEnsure(sc, 0, (uint64) k);
		return CowIntSumPacked(sc, 0, (uint64) k);
	}
	known = (lazy->marks != NULL && lazy->marks_at == at) ? lazy->nmarks : 0;
	if (want < known)
		sum = lazy->marks[want];
	else
	{
		/* from the last mark known (or the body's start) to mark want */
		marks = palloc(sizeof(uint64) * (want + 1));
		if (known > 0)
			memcpy(marks, lazy->marks, sizeof(uint64) * known);
		else
			marks[known++] = 0;
		for (; known <= want; known++)
		{
			from = (uint64) (known - 1) * COW_LENGTH_MARK_STEP;
			CowIntEnsure(sc, from, COW_LENGTH_MARK_STEP);
			marks[known] = marks[known - 1] +
				CowIntSumPacked(sc, from, from + COW_LENGTH_MARK_STEP);
		}
		sum = marks[want];
		lazy->keep_marks(lazy, marks, known, at);
		pfree(marks);
	}
	from = (uint64) want * COW_LENGTH_MARK_STEP;
	CowIntEnsure(sc, from, (uint64) k - from);
	return sum + CowIntSumPacked(sc, from, (uint64) k);
}

/*
 * CowVarlenaChainStart: for value k of an opened VARLENA body whose prefix
 * and suffix lengths are frame-of-reference blocks (random access), the
 * last value at or before k stored whole (prefix length 0), from which
 * value k is rebuilt, and in *before the suffix bytes of the values before
 * that one.  Returns -1 when the lengths' blocks do not allow this (delta
 * blocks, or suffix lengths that are not all within the body's bytes): the
 * caller then walks every length before k.  The values before the chain
 * are only summed: their lengths, each within [0, suffix_bytes] by the
 * block's base and width, need no check of their own, and the sum is
 * checked against the body's bytes.
 */
static int64
CowVarlenaChainStart(CowChunkReader *r, const CowVarlenaCursor *c, int64 k,
					 uint64 *before)
{
	const CowIntCursor *pc = &c->prefix;
	const CowIntCursor *sc = &c->suffix;
	int64		start;
	uint64		sum;

	if (pc->b.mode != COW_INT_FOR || sc->b.mode != COW_INT_FOR ||
		pc->b.base < 0 || sc->b.base < 0 ||
		(uint64) sc->b.base > c->suffix_bytes ||
		sc->mask > c->suffix_bytes - (uint64) sc->b.base)
		return -1;
	/* the nearest value at or before k that shares no prefix */
	start = k;
	if (pc->b.base != 0 || pc->b.width != 0)
	{
		int64		window = k + 1;	/* the prefixes [window, k] are present */

		for (;;)
		{
			if (start < window)
			{
				/* the 64 prefixes before, made present at once */
				window = Max(start - 63, 0);
				CowIntEnsure(pc, window, start - window + 1);
			}
			if (pc->b.base + (int64) CowIntPacked(pc, start) == 0 || start == 0)
				break;
			start--;
		}
	}
	sum = (uint64) start * (uint64) sc->b.base +
		CowVarlenaPackedBefore(r, c, start);
	if (sum > c->suffix_bytes)
		CowChunkCorrupt(r, "bad value length");
	*before = sum;
	return start;
}

/*
 * CowVarlenaValue returns value k of an opened VARLENA body, with a 4-byte
 * header, palloc'd in the current memory context.  The lengths of the
 * values from the last one before it that shares no prefix are checked,
 * those of the values before that one summed (CowVarlenaChainStart; with
 * delta-coded lengths, every length before it is checked and summed); the
 * value is then rebuilt backwards: its own suffix, then the bytes before
 * it from the nearest earlier value whose shared prefix is shorter, and
 * so on down to a value that shares nothing -- a few copies, not one per
 * value before it.
 */
static Datum
CowVarlenaValue(CowChunkReader *r, const CowVarlenaCursor *c, int64 k)
{
	int64	   *prefix;
	int64	   *suffix;
	uint64		sum = 0;
	int64		start,
				i;
	CowVarlenaBodyArg body;
	Datum		value;

	Assert(k >= 0 && k < c->count);
	start = CowVarlenaChainStart(r, c, k, &sum);
	if (start >= 0)
	{
		/* the chain [start, k] only, read at random */
		prefix = palloc(sizeof(int64) * (k - start + 1));
		suffix = palloc(sizeof(int64) * (k - start + 1));
		CowIntEnsure(&c->prefix, start, k - start + 1);
		CowIntEnsure(&c->suffix, start, k - start + 1);
		for (i = start; i <= k; i++)
		{
			prefix[i - start] = c->prefix.b.base +
				(int64) CowIntPacked(&c->prefix, i);
			suffix[i - start] = c->suffix.b.base +
				(int64) CowIntPacked(&c->suffix, i);
		}
	}
	else
	{
		start = 0;
		sum = 0;
		prefix = palloc(sizeof(int64) * (k + 1));
		suffix = palloc(sizeof(int64) * (k + 1));
		CowIntHead(&c->prefix, k + 1, prefix);
		CowIntHead(&c->suffix, k + 1, suffix);
	}
	/* prefix[j], suffix[j]: of value start + j */
	body.r = r;
	body.c = c;
	(void) CowVarlenaRebuild(r, prefix, suffix, k - start, sum,
							 c->suffix_bytes, CowVarlenaBodyFetch, &body,
							 &value);
	pfree(prefix);
	pfree(suffix);
	return value;
}

/*
 * CowVarlenaRebuild checks the lengths prefix/suffix[0 .. last] of a chain
 * of VARLENA values (the first stored whole, or the body's first value),
 * whose first value's suffix bytes start sum bytes into the body's
 * suffix_bytes, and sets *value to the chain's last value, palloc'd with a
 * 4-byte header: its own suffix, then the bytes before it from the
 * nearest earlier value whose shared prefix is shorter, and so on -- a
 * few copies, not one per value of the chain.  fetch copies the suffix
 * bytes [off, off + len) of the body; false when it fails.
 */
static bool
CowVarlenaRebuild(CowChunkReader *r, const int64 *prefix, const int64 *suffix,
				  int64 last, uint64 sum, uint64 suffix_bytes,
				  CowValueFetch fetch, void *arg, Datum *value)
{
	int64		prevlen = 0,
				len,
				need,
				j;
	char	   *buf;

	for (j = 0; j <= last; j++)
	{
		if (prefix[j] < 0 || suffix[j] < 0 || prefix[j] > prevlen ||
			(uint64) suffix[j] > suffix_bytes)
			CowChunkCorrupt(r, "bad value length");
		prevlen = prefix[j] + suffix[j];
		if ((uint64) prevlen > MaxAllocSize - VARHDRSZ)
			CowChunkCorrupt(r, "bad value length");
		sum += suffix[j];
		if (sum > suffix_bytes)
			CowChunkCorrupt(r, "bad value length");
	}

	/* sum is now the end of the last value's suffix bytes */
	len = prefix[last] + suffix[last];
	buf = palloc(len + VARHDRSZ);
	SET_VARSIZE(buf, len + VARHDRSZ);
	need = len;					/* bytes [0, need) are still to be filled */
	for (j = last; need > 0; j--)
	{
		uint64		off;

		Assert(j >= 0);
		off = sum - suffix[j];
		/* value j has bytes [prefix[j], need) in its own suffix */
		if (prefix[j] < need)
		{
			if (!fetch(arg, off, need - prefix[j], buf + VARHDRSZ + prefix[j]))
				return false;
			need = prefix[j];
		}
		sum = off;
	}
	*value = PointerGetDatum(buf);
	return true;
}

/* CowValueFetch of the suffix bytes of a VARLENA body being decoded */
static bool
CowVarlenaBodyFetch(void *arg, Size off, Size len, char *dst)
{
	CowVarlenaBodyArg *a = (CowVarlenaBodyArg *) arg;

	CowChunkEnsure(a->r, (a->c->src - a->r->data) + off, len);
	memcpy(dst, a->c->src + off, len);
	return true;
}

/* ---------- row ranges ---------- */

/*
 * A key range needs the rows [from, to) of a block, usually far fewer than
 * its rows: the readers below decode them without decoding the others,
 * as the single-value readers find one.  A frame-of-reference int block is
 * read from the range's first bit, a delta block sums the deltas before
 * the range once, a VARLENA body rebuilds the values from the last one
 * before the range that shares no prefix (in a framed block, at most the
 * frame's values before it), a dictionary decodes the span of entries the
 * range's codes use.
 */

/* CowIntRange decodes values [first, first + n) of an opened int block */
static void
CowIntRange(const CowIntCursor *c, int64 first, int64 n, int64 *out)
{
	int64		i;

	Assert(first >= 0 && n >= 0 && first + n <= (int64) c->b.count);
	if (n == 0)
		return;
	if (c->b.mode == COW_INT_FOR)
	{
		CowIntEnsure(c, first, n);
		for (i = 0; i < n; i++)
			out[i] = (int64) ((uint64) c->b.base + CowIntPacked(c, first + i));
	}
	else
	{
		uint64		v = (uint64) c->b.first;

		CowIntEnsure(c, 0, first + n - 1);
		/* the deltas before the range, summed at once */
		v += (uint64) c->b.base * (uint64) first +
			CowIntSumPacked(c, 0, (uint64) first);
		out[0] = (int64) v;
		for (i = 1; i < n; i++)
		{
			v += (uint64) c->b.base + CowIntPacked(c, first + i - 1);
			out[i] = (int64) v;
		}
	}
}

/*
 * CowVarlenaRange sets out[n] to values [first, first + n) of an opened
 * VARLENA body, each with a 4-byte header, in one allocation in the
 * current memory context.  The lengths up to the range's end are checked, as
 * CowVarlenaValue checks them (from the last value at or before the
 * range's first that shares no prefix, those before it only summed, when
 * the lengths allow: CowVarlenaChainStart); the values are rebuilt in
 * order from that value.
 */
static void
CowVarlenaRange(CowChunkReader *r, const CowVarlenaCursor *c, int64 first,
				int64 n, Datum *out)
{
	int64		end = first + n;
	int64	   *prefix;
	int64	   *suffix;
	uint64		sum = 0,
				start_off = 0;
	int64		prevlen = 0,
				start = 0,
				base,
				i;
	Size		scratch_len = 0,
				need = 0,
				pos = 0;
	char	   *prev = NULL;
	char	   *scratch = NULL;
	char	   *buf;

	Assert(first >= 0 && n >= 0 && end <= c->count);
	if (n == 0)
		return;
	/* prefix[i - base], suffix[i - base]: of value i */
	base = CowVarlenaChainStart(r, c, first, &sum);
	if (base >= 0)
	{
		/* from the value first is rebuilt from, read at random */
		prefix = palloc(sizeof(int64) * (end - base));
		suffix = palloc(sizeof(int64) * (end - base));
		CowIntEnsure(&c->prefix, base, end - base);
		CowIntEnsure(&c->suffix, base, end - base);
		for (i = base; i < end; i++)
		{
			prefix[i - base] = c->prefix.b.base +
				(int64) CowIntPacked(&c->prefix, i);
			suffix[i - base] = c->suffix.b.base +
				(int64) CowIntPacked(&c->suffix, i);
		}
	}
	else
	{
		base = 0;
		sum = 0;
		prefix = palloc(sizeof(int64) * end);
		suffix = palloc(sizeof(int64) * end);
		CowIntHead(&c->prefix, end, prefix);
		CowIntHead(&c->suffix, end, suffix);
	}
	start = base;
	start_off = sum;
	for (i = base; i < end; i++)
	{
		if (prefix[i - base] < 0 || suffix[i - base] < 0 ||
			prefix[i - base] > prevlen ||
			(uint64) suffix[i - base] > c->suffix_bytes)
			CowChunkCorrupt(r, "bad value length");
		prevlen = prefix[i - base] + suffix[i - base];
		if ((uint64) prevlen > MaxAllocSize - VARHDRSZ)
			CowChunkCorrupt(r, "bad value length");
		/* the last value up to first that is stored whole */
		if (i <= first && prefix[i - base] == 0)
		{
			start = i;
			start_off = sum;
		}
		sum += suffix[i - base];
		if (sum > c->suffix_bytes)
			CowChunkCorrupt(r, "bad value length");
	}

	/* the suffix bytes of values [start, end) */
	if (sum > start_off)
		CowChunkEnsure(r, (c->src - r->data) + start_off, sum - start_off);

	/*
	 * The values before the range only lend their bytes to the next: each
	 * is rebuilt in place over the one before it (it keeps that one's first
	 * prefix bytes) in a scratch buffer.  The range's values share one
	 * allocation, as a block decoded whole (CowVarlenaRead).
	 */
	for (i = start; i < end; i++)
	{
		Size		len = prefix[i - base] + suffix[i - base];

		if (i < first)
			scratch_len = Max(scratch_len, len);
		else
			need += INTALIGN(len + VARHDRSZ);
	}
	if (need > MaxAllocHugeSize)
		CowChunkCorrupt(r, "bad value length");
	if (start < first)
		prev = scratch = palloc(Max(scratch_len, 1));
	buf = MemoryContextAllocHuge(CurrentMemoryContext, Max(need, 1));
	for (i = start; i < end; i++)
	{
		Size		len = prefix[i - base] + suffix[i - base];
		char	   *data;

		if (i < first)
			data = prev;		/* its prefix is the one before's */
		else
		{
			char	   *value = buf + pos;

			SET_VARSIZE(value, len + VARHDRSZ);
			data = VARDATA(value);
			if (prefix[i - base] > 0)
				memcpy(data, prev, prefix[i - base]);
			out[i - first] = PointerGetDatum(value);
			pos += INTALIGN(len + VARHDRSZ);
		}
		memcpy(data + prefix[i - base], c->src + start_off, suffix[i - base]);
		start_off += suffix[i - base];
		prev = data;
	}
	if (scratch != NULL)
		pfree(scratch);
	pfree(prefix);
	pfree(suffix);
}

/*
 * CowDecodeValue is CowDecodeChunk for the one row "row" of the nrows rows
 * of a raw chunk: it sets *value and *isnull to what CowDecodeChunk would
 * put at values[row] and isnull[row], the same bytes for a value passed by
 * reference.  Returns true when the value points into raw (a PLAIN value
 * passed by reference), which must then live as long as it does; values
 * of their own are palloc'd in the current memory context.
 */
bool
CowDecodeValue(Relation rel, int64 file_group_id, int colno,
			   const CowColumnDesc *d, const char *raw, CowLazyRaw *lazy,
			   uint64 nrows, uint64 row, Datum *value, bool *isnull)
{
	CowChunkReader r;
	int64		nvals = nrows;
	int64		k = row;
	bool		keeps_raw = false;

	Assert(row < nrows);
	CowChunkReaderInit(&r, rel, file_group_id, colno, d, raw, lazy);
	*isnull = false;
	*value = (Datum) 0;

	if (d->flags & COW_COL_HAS_NULLS)
	{
		const bits8 *bm = (const bits8 *) CowChunkTake(&r, (nrows + 7) / 8);
		uint64		whole = nrows / 8;

		if ((bm[row >> 3] >> (row & 7)) & 1)
		{
			*isnull = true;
			return false;
		}
		/* the values before row, and in all: the rows that are not NULL */
		k = row - pg_popcount((const char *) bm, row / 8) -
			pg_popcount32(bm[row >> 3] & ((1U << (row & 7)) - 1));
		nvals = nrows - pg_popcount((const char *) bm, whole);
		if (nrows % 8 != 0)
			nvals -= pg_popcount32(bm[whole] & ((1U << (nrows % 8)) - 1));
	}
	Assert(k >= 0 && k < nvals);

	switch (d->encoding)
	{
		case COW_ENC_PLAIN:
			{
				Size		start = r.pos;
				Size		off = 0;
				const char *p = NULL;
				char		align = CowPlainAlign(d);
				int64		i;

				if (d->attlen > 0)
				{
					/* every value starts at a multiple of its aligned length */
					off = (Size) k * att_align_nominal(d->attlen, align);
					if (start + off >= r.len || (Size) d->attlen > r.len - (start + off))
						CowChunkCorrupt(&r, "chunk is truncated");
					CowChunkEnsure(&r, start + off, d->attlen);
					p = r.data + start + off;
				}
				else
				{
					/* the values before it are walked: all of them */
					if (start < r.len)
						CowChunkEnsure(&r, start, r.len - start);
					for (i = 0; i <= k; i++)
						p = CowPlainStep(&r, d, align, start, &off);
				}
				*value = fetch_att(p, d->attbyval, d->attlen);
				keeps_raw = !d->attbyval;
			}
			break;
		case COW_ENC_INT:
			{
				CowIntCursor c;
				int64		v;

				if (!d->attbyval ||
					(d->attlen != 1 && d->attlen != 2 && d->attlen != 4 && d->attlen != 8))
					CowChunkCorrupt(&r, "int encoding of a type that is not an integer");
				CowIntOpen(&r, nvals, &c);
				v = CowIntValue(&c, k);
				*value = CowIntDatum(v, d->attlen);
			}
			break;
		case COW_ENC_NUMERIC:
			{
				CowNumericBody body;
				CowIntCursor c;
				int64		v;
				char	   *out;

				if (d->attlen != -1)
					CowChunkCorrupt(&r, "numeric encoding of a fixed-length type");
				memcpy(&body, CowChunkTake(&r, sizeof(body)), sizeof(body));
				if (body.dscale > (COW_NUMERIC_DSCALE_MASK >> COW_NUMERIC_DSCALE_SHIFT))
					CowChunkCorrupt(&r, "bad numeric scale");
				CowIntOpen(&r, nvals, &c);
				v = CowIntValue(&c, k);
				if (v <= -COW_NUMERIC_LIMIT || v >= COW_NUMERIC_LIMIT)
					CowChunkCorrupt(&r, "numeric value out of range");
				out = palloc(COW_NUMERIC_MAX_SIZE);
				SET_VARSIZE(out, CowNumericBuild(v, body.dscale, VARDATA(out)) + VARHDRSZ);
				*value = PointerGetDatum(out);
			}
			break;
		case COW_ENC_DICT:
			{
				CowDictBody body;
				CowVarlenaCursor entries;
				CowIntCursor codes;
				int64		code;

				if (d->attlen != -1)
					CowChunkCorrupt(&r, "dictionary encoding of a fixed-length type");
				memcpy(&body, CowChunkTake(&r, sizeof(body)), sizeof(body));
				if (body.nentries > COW_DICT_MAX_ENTRIES)
					CowChunkCorrupt(&r, "bad dictionary size");
				CowVarlenaOpen(&r, body.nentries, &entries);
				CowIntOpen(&r, nvals, &codes);
				code = CowIntValue(&codes, k);
				if (code < 0 || code >= (int64) body.nentries)
					CowChunkCorrupt(&r, "dictionary code out of range");
				*value = CowVarlenaValue(&r, &entries, code);
			}
			break;
		case COW_ENC_VARLENA:
			{
				CowVarlenaCursor c;

				if (d->attlen != -1)
					CowChunkCorrupt(&r, "varlena encoding of a fixed-length type");
				CowVarlenaOpen(&r, nvals, &c);
				*value = CowVarlenaValue(&r, &c, k);
			}
			break;
		default:
			CowChunkCorrupt(&r, psprintf("unknown encoding %u", d->encoding));
	}
	return keeps_raw;
}

/* ---------- value blocks: a value without its block's raw bytes ---------- */

/*
 * A lookup decodes one value of a block (CowDecodeValue), and a later
 * lookup another value of the same block: a table's lookups come back to
 * each of its blocks again and again.  Decoding one value reads the
 * block's headers each time -- the null bitmap, the int block's header, a
 * dictionary's entries -- through a raw buffer of the block's size that
 * the reader fills as the decoder asks for bytes.  A value block
 * (cow/format.h) is what those headers say, read once: from then on a
 * value is located (CowValueBlockLocate: NULL, or the few raw bytes that
 * hold its packed bits) and built from those bytes alone
 * (CowValueBlockValue).  Blocks of the INT, NUMERIC and DICT encodings
 * whose int block is random access -- frame of reference, or delta of
 * width 0 (consecutive keys) -- get one; the other blocks (PLAIN,
 * VARLENA, deltas of some width, whose value k needs the k deltas before
 * it) one of kind COW_VALUE_NONE.  A value built from a value block is
 * the Datum CowDecodeValue gives, byte for byte, and the same checks
 * apply: a code outside the dictionary, a numeric out of range are
 * reported as corruption as CowDecodeValue reports them.
 */

/* the NULLs before every 64th row of a null bitmap of nrows rows */
static void
CowValueBlockRanks(const bits8 *bm, uint64 nrows, uint32 *ranks)
{
	uint64		j;
	uint32		nulls = 0;

	for (j = 0; j * 64 < nrows; j++)
	{
		ranks[j] = nulls;
		nulls += pg_popcount((const char *) bm + j * 8,
							 Min((nrows + 7) / 8 - j * 8, 8));
	}
}

/*
 * CowValueBlockBuild reads the headers of the raw block described by d (of
 * nrows rows, column colno of a file group; lazy as for CowDecodeValue)
 * and returns its value block, palloc'd in the current memory context;
 * stream_off is left 0 for the caller.  Only the bytes of the headers (and
 * of a dictionary's entries) are made present.
 */
CowValueBlock *
CowValueBlockBuild(Relation rel, int64 file_group_id, int colno,
				   const CowColumnDesc *d, const char *raw, CowLazyRaw *lazy,
				   uint64 nrows)
{
	CowChunkReader r;
	CowValueBlock vb;
	CowValueBlock *out;
	const bits8 *bm = NULL;
	int64		nvals = nrows;
	CowIntCursor c;
	char	  **entries = NULL;
	uint32		nread = 0;
	uint64	   *marks = NULL;
	bits8	   *whole = NULL;
	Size		nulls_len = 0,
				ranks_len = 0,
				entries_len = 0,
				marks_len = 0,
				whole_len = 0,
				size;
	uint32		i;

	memset(&vb, 0, sizeof(vb));
	vb.kind = COW_VALUE_NONE;
	vb.nrows = (uint32) nrows;
	vb.attlen = d->attlen;
	vb.file_group_id = file_group_id;
	vb.colno = colno;
	CowChunkReaderInit(&r, rel, file_group_id, colno, d, raw, lazy);
	if (nrows == 0 || nrows > PG_UINT32_MAX)
		goto done;

	if (d->flags & COW_COL_HAS_NULLS)
	{
		uint64		whole = nrows / 8;

		nulls_len = (nrows + 7) / 8;
		bm = (const bits8 *) CowChunkTake(&r, nulls_len);
		nvals = nrows - pg_popcount((const char *) bm, whole);
		if (nrows % 8 != 0)
			nvals -= pg_popcount32(bm[whole] & ((1U << (nrows % 8)) - 1));
		ranks_len = sizeof(uint32) * ((nrows + 63) / 64);
		vb.has_nulls = true;
	}
	if (nvals == 0)
		goto done;

	switch (d->encoding)
	{
		case COW_ENC_PLAIN:
			/* fixed-length values, each at a multiple of its aligned length */
			if (d->attlen <= 0 || d->attlen > COW_VALUE_BYTES ||
				(d->attbyval && d->attlen > (int) sizeof(Datum)))
				goto done;
			vb.kind = COW_VALUE_PLAIN;
			vb.attbyval = d->attbyval;
			vb.stride = att_align_nominal(d->attlen, CowPlainAlign(d));
			vb.packed_off = r.pos;
			vb.packed_len = r.len - Min(r.pos, r.len);
			goto done;
		case COW_ENC_INT:
			if (!d->attbyval ||
				(d->attlen != 1 && d->attlen != 2 && d->attlen != 4 && d->attlen != 8))
				goto done;
			CowIntOpen(&r, nvals, &c);
			vb.kind = COW_VALUE_INT;
			break;
		case COW_ENC_NUMERIC:
			{
				CowNumericBody body;

				if (d->attlen != -1)
					goto done;
				memcpy(&body, CowChunkTake(&r, sizeof(body)), sizeof(body));
				if (body.dscale > (COW_NUMERIC_DSCALE_MASK >> COW_NUMERIC_DSCALE_SHIFT))
					goto done;
				CowIntOpen(&r, nvals, &c);
				vb.dscale = body.dscale;
				vb.kind = COW_VALUE_NUMERIC;
			}
			break;
		case COW_ENC_DICT:
			{
				CowDictBody body;
				CowVarlenaBody entries_body;
				Size		at;

				if (d->attlen != -1)
					goto done;
				memcpy(&body, CowChunkTake(&r, sizeof(body)), sizeof(body));
				if (body.nentries > COW_DICT_MAX_ENTRIES)
					goto done;
				/* a dictionary too big to keep is not read */
				at = r.pos;
				memcpy(&entries_body, CowChunkTake(&r, sizeof(entries_body)),
					   sizeof(entries_body));
				r.pos = at;
				if (entries_body.suffix_bytes > COW_VALUE_BLOCK_MAX)
					goto done;
				entries = CowVarlenaRead(&r, body.nentries);
				nread = body.nentries;
				for (i = 0; i < body.nentries; i++)
				{
					entries_len += sizeof(uint32) + INTALIGN(VARSIZE(entries[i]));
					if (entries_len > COW_VALUE_BLOCK_MAX)
						goto done;
				}
				CowIntOpen(&r, nvals, &c);
				vb.nentries = body.nentries;
				vb.kind = COW_VALUE_DICT;
			}
			break;
		case COW_ENC_VARLENA:
			{
				CowVarlenaCursor vc;
				const CowIntCursor *pc = &vc.prefix;
				const CowIntCursor *sc = &vc.suffix;
				uint64		sum = 0;
				int64		j;

				if (d->attlen != -1)
					goto done;
				CowVarlenaOpen(&r, nvals, &vc);
				/* lengths read at random, each within the body's bytes */
				if (pc->b.mode != COW_INT_FOR || sc->b.mode != COW_INT_FOR ||
					pc->b.base < 0 || sc->b.base < 0 ||
					(uint64) sc->b.base > vc.suffix_bytes ||
					sc->mask > vc.suffix_bytes - (uint64) sc->b.base)
					goto done;
				/* every length read once: the marks, the values stored whole */
				CowIntEnsure(sc, 0, nvals);
				marks_len = sizeof(uint64) * (nvals / 64 + 1);
				marks = palloc(marks_len);
				for (j = 0; j * 64 < nvals; j++)
				{
					marks[j] = sum;
					sum += (uint64) Min(64, nvals - j * 64) * (uint64) sc->b.base +
						CowIntSumPacked(sc, j * 64, Min(nvals, (j + 1) * 64));
				}
				if (nvals % 64 == 0)
					marks[nvals / 64] = sum;
				if (sum != vc.suffix_bytes)
					goto done;
				vb.front = (pc->b.base != 0 || pc->b.width != 0);
				if (vb.front)
				{
					CowIntEnsure(pc, 0, nvals);
					whole_len = (nvals + 7) / 8;
					whole = palloc0(whole_len);
					for (j = 0; j < nvals; j++)
						if (pc->b.base + (int64) CowIntPacked(pc, j) == 0)
							whole[j >> 3] |= 1 << (j & 7);
				}
				vb.prefix_base = pc->b.base;
				vb.prefix_width = pc->b.width;
				vb.prefix_off = pc->packed - r.data;
				vb.prefix_len = pc->packed_len;
				vb.src_off = vc.src - r.data;
				vb.suffix_bytes = vc.suffix_bytes;
				c = *sc;
				vb.kind = COW_VALUE_VARLENA;
			}
			break;
		default:
			goto done;
	}
	/* random access only: value k of a delta block needs the k before it */
	if (c.b.mode == COW_INT_DELTA && c.b.width != 0)
	{
		vb.kind = COW_VALUE_NONE;
		goto done;
	}
	vb.delta = (c.b.mode == COW_INT_DELTA);
	vb.width = c.b.width;
	vb.base = c.b.base;
	vb.first = c.b.first;
	vb.packed_off = c.packed - r.data;
	vb.packed_len = c.packed_len;

done:
	if (vb.kind == COW_VALUE_NONE)
	{
		/* nothing but the kind is read of it */
		vb.has_nulls = false;
		nulls_len = ranks_len = entries_len = marks_len = whole_len = 0;
	}
	size = MAXALIGN(sizeof(CowValueBlock)) + MAXALIGN(nulls_len) +
		MAXALIGN(ranks_len) + entries_len + MAXALIGN(marks_len) +
		MAXALIGN(whole_len);
	out = palloc(size);
	vb.size = size;
	*out = vb;
	if (vb.has_nulls)
	{
		out->nulls_off = MAXALIGN(sizeof(CowValueBlock));
		out->ranks_off = out->nulls_off + MAXALIGN(nulls_len);
		memcpy((char *) out + out->nulls_off, bm, nulls_len);
		CowValueBlockRanks(bm, nrows, (uint32 *) ((char *) out + out->ranks_off));
	}
	if (vb.kind == COW_VALUE_DICT)
	{
		uint32	   *offs;
		Size		at;

		out->entries_off = MAXALIGN(sizeof(CowValueBlock)) +
			MAXALIGN(nulls_len) + MAXALIGN(ranks_len);
		offs = (uint32 *) ((char *) out + out->entries_off);
		at = out->entries_off + INTALIGN(sizeof(uint32) * vb.nentries);
		Assert(at <= size);
		for (i = 0; i < vb.nentries; i++)
		{
			offs[i] = (uint32) at;
			memcpy((char *) out + at, entries[i], VARSIZE(entries[i]));
			at += INTALIGN(VARSIZE(entries[i]));
		}
		Assert(at <= size);
	}
	if (vb.kind == COW_VALUE_VARLENA)
	{
		out->marks_off = MAXALIGN(sizeof(CowValueBlock)) +
			MAXALIGN(nulls_len) + MAXALIGN(ranks_len);
		memcpy((char *) out + out->marks_off, marks, marks_len);
		if (vb.front)
		{
			out->whole_off = out->marks_off + MAXALIGN(marks_len);
			memcpy((char *) out + out->whole_off, whole, whole_len);
		}
	}
	if (entries != NULL)
	{
		if (nread > 0)
			pfree(entries[0]);	/* the one buffer of them all */
		pfree(entries);
	}
	if (marks != NULL)
		pfree(marks);
	if (whole != NULL)
		pfree(whole);
	return out;
}

/*
 * CowValueBlockLocate: for row "row" of the block of vb, *isnull, and
 * when it is not NULL, *k its index among the block's values and [*off,
 * *off + *len) the raw bytes of the block that hold its packed bits (*len
 * at most COW_VALUE_BYTES; 0 when the value needs none).
 */
void
CowValueBlockLocate(const CowValueBlock *vb, uint64 row, bool *isnull,
					uint64 *k, Size *off, Size *len)
{
	uint64		kk = row;

	Assert(vb->kind != COW_VALUE_NONE && row < vb->nrows);
	*isnull = false;
	*off = 0;
	*len = 0;
	if (vb->has_nulls)
	{
		const bits8 *bm = (const bits8 *) ((const char *) vb + vb->nulls_off);
		const uint32 *ranks = (const uint32 *) ((const char *) vb + vb->ranks_off);
		uint64		from = row & ~UINT64CONST(63);

		if ((bm[row >> 3] >> (row & 7)) & 1)
		{
			*isnull = true;
			return;
		}
		kk = row - ranks[row >> 6] -
			pg_popcount((const char *) bm + (from >> 3), (row - from) >> 3) -
			pg_popcount32(bm[row >> 3] & ((1U << (row & 7)) - 1));
	}
	*k = kk;
	if (vb->kind == COW_VALUE_PLAIN)
	{
		*off = vb->packed_off + kk * vb->stride;
		*len = vb->attlen;
	}
	else if (vb->kind != COW_VALUE_VARLENA && !vb->delta && vb->width > 0)
	{
		uint64		byte = (kk * vb->width) >> 3;

		Assert(byte < vb->packed_len);
		*off = vb->packed_off + byte;
		/* up to 64 bits from a bit offset within the first byte */
		*len = Min(9, vb->packed_len - byte);
	}
}

/*
 * CowValueBlockValue: value k of the block of vb, from bytes, the raw
 * bytes CowValueBlockLocate named, followed by zeros up to
 * COW_VALUE_BYTES, MAXALIGNed.  A value passed by reference is palloc'd in
 * the current memory context.
 */
Datum
CowValueBlockValue(Relation rel, const CowValueBlock *vb, uint64 k,
				   const char *bytes)
{
	CowChunkReader r;
	uint64		x = 0;
	int64		v;

	if (vb->kind == COW_VALUE_PLAIN)
	{
		char	   *out;

		if (vb->attbyval)
			return fetch_att(bytes, true, vb->attlen);
		out = palloc(vb->attlen);
		memcpy(out, bytes, vb->attlen);
		return PointerGetDatum(out);
	}
	if (!vb->delta && vb->width > 0)
	{
		int			shift = (k * vb->width) & 7;
		uint64		mask = vb->width == 64 ? ~UINT64CONST(0) :
			(UINT64CONST(1) << vb->width) - 1;

		x = CowLoadLE64(bytes) >> shift;
		if (shift + vb->width > 64)
			x |= (uint64) (unsigned char) bytes[8] << (64 - shift);
		x &= mask;
	}
	if (vb->delta)
		v = (int64) ((uint64) vb->first + k * (uint64) vb->base);
	else
		v = (int64) ((uint64) vb->base + x);

	memset(&r, 0, sizeof(r));
	r.rel = rel;
	r.file_group_id = vb->file_group_id;
	r.colno = vb->colno;
	switch (vb->kind)
	{
		case COW_VALUE_INT:
			return CowIntDatum(v, vb->attlen);
		case COW_VALUE_NUMERIC:
			{
				char	   *out;

				if (v <= -COW_NUMERIC_LIMIT || v >= COW_NUMERIC_LIMIT)
					CowChunkCorrupt(&r, "numeric value out of range");
				out = palloc(COW_NUMERIC_MAX_SIZE);
				SET_VARSIZE(out, CowNumericBuild(v, vb->dscale, VARDATA(out)) + VARHDRSZ);
				return PointerGetDatum(out);
			}
		case COW_VALUE_DICT:
			{
				const char *entry;
				char	   *out;

				if (v < 0 || v >= (int64) vb->nentries)
					CowChunkCorrupt(&r, "dictionary code out of range");
				entry = (const char *) vb +
					((const uint32 *) ((const char *) vb + vb->entries_off))[v];
				out = palloc(VARSIZE(entry));
				memcpy(out, entry, VARSIZE(entry));
				return PointerGetDatum(out);
			}
		default:
			elog(ERROR, "incetl_cow value block of kind %d has no values",
				 vb->kind);
	}
	return (Datum) 0;			/* keep the compiler quiet */
}

/* the suffix bytes of a VARLENA block read through its value block */
typedef struct CowValueSuffixArg
{
	CowValueFetch fetch;		/* the reader's, of raw bytes */
	void	   *arg;
	uint64		src_off;		/* raw offset of the suffix bytes */
} CowValueSuffixArg;

static bool CowValueSuffixFetch(void *arg, Size off, Size len, char *dst);

/*
 * CowValueLengths: packed values [from, to) of width bits of a packed
 * array of packed_len bytes at raw offset packed_off, plus base, into
 * out[to - from], their bytes fetched; false when fetch says so.
 */
static bool
CowValueLengths(int64 base, int width, uint64 packed_off, uint64 packed_len,
				uint64 from, uint64 to, CowValueFetch fetch, void *arg,
				int64 *out)
{
	uint64		first = (from * width) >> 3;
	uint64		end = Min(packed_len, ((to * width + 7) >> 3) + 9);
	uint64		mask = width == 64 ? ~UINT64CONST(0) :
		(UINT64CONST(1) << width) - 1;
	char	   *buf;
	uint64		i;

	Assert(from < to);
	if (width == 0)
	{
		for (i = from; i < to; i++)
			out[i - from] = base;
		return true;
	}
	if (first >= end)
		return false;
	/* the bytes, then zeros for the loads past them */
	buf = palloc0(end - first + 16);
	if (!fetch(arg, packed_off + first, end - first, buf))
	{
		pfree(buf);
		return false;
	}
	for (i = from; i < to; i++)
	{
		uint64		bit = i * width;
		uint64		at = (bit >> 3) - first;
		int			shift = bit & 7;
		uint64		x = CowLoadLE64(buf + at) >> shift;

		if (shift + width > 64)
			x |= (uint64) (unsigned char) buf[at + 8] << (64 - shift);
		out[i - from] = base + (int64) (x & mask);
	}
	pfree(buf);
	return true;
}

/*
 * CowValueBlockVarlena sets *value to value k of the VARLENA block of vb,
 * palloc'd in the current memory context with a 4-byte header, fetching
 * the raw bytes it reads with fetch: the suffix lengths from the block's
 * last mark before the value's chain, the prefix lengths of the chain
 * (from the last value at or before k stored whole), and the bytes the
 * value is rebuilt from, as CowVarlenaValue rebuilds it, with the same
 * checks.  Returns false when a fetch fails (or the block's first value
 * is not stored whole): the caller then reads the block as before.
 */
bool
CowValueBlockVarlena(Relation rel, const CowValueBlock *vb, uint64 k,
					 CowValueFetch fetch, void *arg, Datum *value)
{
	CowChunkReader r;
	CowValueBlock copy;
	CowValueSuffixArg src;
	int64		start = k;
	uint64		group;
	uint64		sum;
	int64	   *prefix;
	int64	   *suffix;
	int64		j;

	Assert(vb->kind == COW_VALUE_VARLENA);
	memset(&r, 0, sizeof(r));
	r.rel = rel;
	r.file_group_id = vb->file_group_id;
	r.colno = vb->colno;

	/* the nearest value at or before k stored whole */
	if (vb->front)
	{
		const bits8 *whole = (const bits8 *) ((const char *) vb + vb->whole_off);

		while (start > 0 && !((whole[start >> 3] >> (start & 7)) & 1))
			start--;
		if (!((whole[start >> 3] >> (start & 7)) & 1))
			return false;
	}
	/*
	 * The suffix lengths from the mark before it, the prefixes of the chain.
	 * vb is the cache's: what is read of it is read before the first fetch.
	 */
	group = (uint64) start & ~UINT64CONST(63);
	sum = ((const uint64 *) ((const char *) vb + vb->marks_off))[group >> 6];
	suffix = palloc(sizeof(int64) * (k - group + 1));
	prefix = palloc(sizeof(int64) * (k - start + 1));
	prefix[0] = 0;
	copy = *vb;
	if (!CowValueLengths(copy.base, copy.width, copy.packed_off,
						 copy.packed_len, group, k + 1, fetch, arg, suffix))
		return false;
	if (copy.front &&
		!CowValueLengths(copy.prefix_base, copy.prefix_width, copy.prefix_off,
						 copy.prefix_len, start, k + 1, fetch, arg, prefix))
		return false;
	for (j = group; j < start; j++)
		sum += suffix[j - group];
	if (sum > copy.suffix_bytes)
		CowChunkCorrupt(&r, "bad value length");
	/* prefix[j], suffix[j]: of value start + j */
	src.fetch = fetch;
	src.arg = arg;
	src.src_off = copy.src_off;
	return CowVarlenaRebuild(&r, prefix, suffix + (start - group), k - start,
							 sum, copy.suffix_bytes, CowValueSuffixFetch, &src,
							 value);
}

/* CowValueFetch of a VARLENA block's suffix bytes, through a raw fetch */
static bool
CowValueSuffixFetch(void *arg, Size off, Size len, char *dst)
{
	CowValueSuffixArg *a = (CowValueSuffixArg *) arg;

	return a->fetch(a->arg, a->src_off + off, len, dst);
}

/*
 * CowDecodeRange is CowDecodeChunk for the rows [from, to) of the nrows
 * rows of a raw chunk: it sets values/isnull[to - from] to what
 * CowDecodeChunk would put at values/isnull[from .. to - 1], the same
 * bytes for a value passed by reference, decoding only those rows (and
 * with lazy, making present only the frames they lie in).  Returns true
 * when values point into raw (PLAIN values passed by reference), which
 * must then live as long as they do; values of their own are palloc'd in
 * the current memory context.
 */
bool
CowDecodeRange(Relation rel, int64 file_group_id, int colno,
			   const CowColumnDesc *d, const char *raw, CowLazyRaw *lazy,
			   uint64 nrows, uint64 from, uint64 to, Datum *values,
			   bool *isnull)
{
	CowChunkReader r;
	int64		nvals = nrows;
	int64		k0 = from;		/* values before the range */
	int64		n = to - from;	/* values in it */
	Datum	   *vals = values;
	bool		keeps_raw = false;
	uint64		i;

	Assert(from < to && to <= nrows);
	CowChunkReaderInit(&r, rel, file_group_id, colno, d, raw, lazy);

	if (d->flags & COW_COL_HAS_NULLS)
	{
		const bits8 *bm = (const bits8 *) CowChunkTake(&r, (nrows + 7) / 8);
		uint64		whole = nrows / 8;

		n = 0;
		for (i = from; i < to; i++)
		{
			isnull[i - from] = (bm[i >> 3] >> (i & 7)) & 1;
			n += !isnull[i - from];
		}
		k0 = from - pg_popcount((const char *) bm, from / 8) -
			pg_popcount32(bm[from >> 3] & ((1U << (from & 7)) - 1));
		nvals = nrows - pg_popcount((const char *) bm, whole);
		if (nrows % 8 != 0)
			nvals -= pg_popcount32(bm[whole] & ((1U << (nrows % 8)) - 1));
		if (n < (int64) (to - from))
			vals = palloc(sizeof(Datum) * Max(n, 1));
	}
	else
		memset(isnull, false, to - from);
	Assert(k0 >= 0 && k0 + n <= nvals);

	if (n == 0)
	{
		/* NULL throughout */
		memset(values, 0, sizeof(Datum) * (to - from));
		if (vals != values)
			pfree(vals);
		return false;
	}
	switch (d->encoding)
	{
		case COW_ENC_PLAIN:
			{
				Size		start = r.pos;
				Size		off = 0;
				char		align = CowPlainAlign(d);
				int64		k;

				if (d->attlen > 0)
				{
					/* value k starts at a multiple of its aligned length */
					Size		stride = att_align_nominal(d->attlen, align);
					Size		last;

					off = start + (Size) k0 * stride;
					last = off + (Size) (n - 1) * stride;
					if (last >= r.len || (Size) d->attlen > r.len - last)
						CowChunkCorrupt(&r, "chunk is truncated");
					CowChunkEnsure(&r, off, last + d->attlen - off);
					for (k = 0; k < n; k++)
						vals[k] = fetch_att(r.data + off + (Size) k * stride,
											d->attbyval, d->attlen);
				}
				else
				{
					/* the values before the range are walked */
					if (start < r.len)
						CowChunkEnsure(&r, start, r.len - start);
					for (k = 0; k < k0 + n; k++)
					{
						const char *p = CowPlainStep(&r, d, align, start, &off);

						if (k >= k0)
							vals[k - k0] = fetch_att(p, d->attbyval, d->attlen);
					}
				}
				keeps_raw = !d->attbyval;
			}
			break;
		case COW_ENC_INT:
			{
				CowIntCursor c;
				int64	   *v = palloc(sizeof(int64) * n);
				int64		k;

				if (!d->attbyval ||
					(d->attlen != 1 && d->attlen != 2 && d->attlen != 4 && d->attlen != 8))
					CowChunkCorrupt(&r, "int encoding of a type that is not an integer");
				CowIntOpen(&r, nvals, &c);
				CowIntRange(&c, k0, n, v);
				for (k = 0; k < n; k++)
					vals[k] = CowIntDatum(v[k], d->attlen);
				pfree(v);
			}
			break;
		case COW_ENC_NUMERIC:
			{
				CowNumericBody body;
				CowIntCursor c;
				int64	   *v = palloc(sizeof(int64) * n);
				char	   *buf;
				int64		k;

				if (d->attlen != -1)
					CowChunkCorrupt(&r, "numeric encoding of a fixed-length type");
				memcpy(&body, CowChunkTake(&r, sizeof(body)), sizeof(body));
				if (body.dscale > (COW_NUMERIC_DSCALE_MASK >> COW_NUMERIC_DSCALE_SHIFT))
					CowChunkCorrupt(&r, "bad numeric scale");
				CowIntOpen(&r, nvals, &c);
				CowIntRange(&c, k0, n, v);
				buf = palloc(n * COW_NUMERIC_MAX_SIZE);
				for (k = 0; k < n; k++)
				{
					char	   *out = buf + k * COW_NUMERIC_MAX_SIZE;

					if (v[k] <= -COW_NUMERIC_LIMIT || v[k] >= COW_NUMERIC_LIMIT)
						CowChunkCorrupt(&r, "numeric value out of range");
					SET_VARSIZE(out, CowNumericBuild(v[k], body.dscale,
													 VARDATA(out)) + VARHDRSZ);
					vals[k] = PointerGetDatum(out);
				}
				pfree(v);
			}
			break;
		case COW_ENC_DICT:
			{
				CowDictBody body;
				CowVarlenaCursor entries;
				CowIntCursor codes;
				int64	   *code = palloc(sizeof(int64) * n);
				int64		minc = PG_INT64_MAX,
							maxc = -1;
				Datum	   *ents;
				int64		k;

				if (d->attlen != -1)
					CowChunkCorrupt(&r, "dictionary encoding of a fixed-length type");
				memcpy(&body, CowChunkTake(&r, sizeof(body)), sizeof(body));
				if (body.nentries > COW_DICT_MAX_ENTRIES)
					CowChunkCorrupt(&r, "bad dictionary size");
				CowVarlenaOpen(&r, body.nentries, &entries);
				CowIntOpen(&r, nvals, &codes);
				CowIntRange(&codes, k0, n, code);
				for (k = 0; k < n; k++)
				{
					if (code[k] < 0 || code[k] >= (int64) body.nentries)
						CowChunkCorrupt(&r, "dictionary code out of range");
					minc = Min(minc, code[k]);
					maxc = Max(maxc, code[k]);
				}
				/* the span of entries the range's codes use */
				ents = palloc(sizeof(Datum) * (maxc - minc + 1));
				CowVarlenaRange(&r, &entries, minc, maxc - minc + 1, ents);
				for (k = 0; k < n; k++)
					vals[k] = ents[code[k] - minc];
				pfree(ents);
				pfree(code);
			}
			break;
		case COW_ENC_VARLENA:
			{
				CowVarlenaCursor c;

				if (d->attlen != -1)
					CowChunkCorrupt(&r, "varlena encoding of a fixed-length type");
				CowVarlenaOpen(&r, nvals, &c);
				CowVarlenaRange(&r, &c, k0, n, vals);
			}
			break;
		default:
			CowChunkCorrupt(&r, psprintf("unknown encoding %u", d->encoding));
	}

	/* spread the values over the rows */
	if (vals != values)
	{
		int64		k = 0;

		for (i = 0; i < to - from; i++)
			values[i] = isnull[i] ? (Datum) 0 : vals[k++];
		pfree(vals);
	}
	return keeps_raw;
}
