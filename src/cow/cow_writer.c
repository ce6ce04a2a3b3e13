/*-------------------------------------------------------------------------
 *
 * cow_writer.c
 *	  Encode a sorted set of rows as one file group version and write it.
 *
 * Each column chunk is cut into blocks of COW_BLOCK_ROWS rows; each block
 * is encoded by cow_encoding.c (null bitmap, then the values in an
 * encoding chosen by type and data) and zstd-compressed at the table's
 * level when that pays, on its own, and carries a CRC of its stored bytes
 * in the chunk's block directory.  The chunk carries a CRC of that
 * directory and the column's min/max under the type's default btree
 * ordering, and the header the min/max of each block (format 4).  The
 * hidden commit-id column records, per row, the commit that wrote that
 * version of the row; incetl.changes() reads it.  In format 5 a stored row
 * carried over unchanged keeps its row number, recorded in the group's
 * row-number map (cow_rowmap.c), new and changed rows take fresh ones.
 *
 * Copyright (c) 2026, incetl authors
 *
 * IDENTIFICATION
 *	  src/cow/cow_writer.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/detoast.h"
#include "access/tupmacs.h"
#include "catalog/pg_type_d.h"
#include "lib/stringinfo.h"
#include "port/pg_bitutils.h"
#include "port/pg_crc32c.h"
#include "storage/buffile.h"
#include "utils/datum.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/sortsupport.h"
#include "utils/typcache.h"

#include "cow/write.h"

/* the on-disk column description (test/t/cow_002_corrupt_chunk.pl too) */
StaticAssertDecl(sizeof(CowColumnDesc) == 56,
				 "CowColumnDesc is 56 bytes on disk");

/*
 * One column chunk of a group being written, built block by block
 * (CowChunkAddBlock): the block directory, each block's stored bytes (an
 * exact-size copy, or NULL for a block of NULLs) and what the directory
 * and the column description say of the blocks so far.  The stored bytes
 * are written as they are, after the directory (CowWriteGroup's pieces),
 * never copied into one buffer.
 */
typedef struct CowChunk
{
	Size		len;			/* directory + stored bytes */
	int64		nblocks;		/* blocks added so far */
	int64		cap;			/* of the per-block arrays */
	CowBlockDesc *dir;			/* [nblocks] */
	char	  **data;			/* [nblocks] */
	bool		has_minmax;
	Datum		min;
	Datum		max;
	/* per block (format 4), when the column has min/max: else NULL */
	Datum	   *bmin;			/* [nblocks] */
	Datum	   *bmax;
	bool	   *bhas;			/* the block has a non-NULL value */
	/* across blocks */
	int64		nvals;			/* non-NULL values so far */
	bool		has_nulls;
	bool		any_compressed;
	bool		try_dict;		/* false once a block's dictionary was full */
	int			zstd_misses;
	int			uses[COW_ENC_VARLENA + 1];	/* blocks per encoding */
	uint64		raw_total;		/* encoded bytes */
	uint64		plain_bytes;	/* the values' size in a heap tuple */
	int64		imin;			/* int_order: the min/max as integers */
	int64		imax;
	/* stored bytes in a temporary file (data[] then NULL): where each is */
	BufFile    *file;
	int		   *fno;			/* [nblocks] */
	off_t	   *foff;
} CowChunk;

/*
 * Column values are gathered a block (COW_BLOCK_ROWS rows) at a time, in
 * one pass over the block's rows, into one array and null bitmap per
 * column: an incoming row (scattered in memory) is visited once rather
 * than once per column, and a run of stored rows that follow each other in
 * their decoded file group is copied column by column.  Each column's
 * block is then encoded, its min/max found and compressed while its
 * values are in the CPU cache.  The arrays are a block's, reused for the
 * next one: a group's memory is its stored (compressed) bytes, not its
 * values gathered again nor its encoded bytes before compression.
 */
typedef struct CowColEnc
{
	Form_pg_attribute att;
	bool		can_minmax;
	bool		int_order;		/* integer-like: min/max found by CowIntMinMax */
	SortSupportData ssup;
	bits8	   *nulls;			/* [COW_BLOCK_ROWS / 8]: bit set = NULL */
	Datum	   *vals;			/* the block's non-NULL values, detoasted (made
								 * by the first CowGroupWriterAddBlock: a
								 * block added column by column brings its
								 * own) */
	int64		nvals;
	int64		nnulls;
} CowColEnc;

StaticAssertDecl(COW_BLOCK_ROWS % 8 == 0,
				 "a block's null bitmap starts on a byte");

/*
 * Each block is encoded and compressed in this context, reset after it:
 * the encoders' buffers (and zstd's output, at most the input's bound) are
 * then the same memory for every block, column and group, instead of a new
 * piece of the group's context for every block.  Its first block is kept
 * across resets and enough for a block of most columns.  It lives in the
 * transaction (CowEncodeContextGet), so an idle backend keeps none of it.
 */
#define COW_ENCODE_CONTEXT_BLOCK	(1024 * 1024)
static MemoryContext CowEncodeContext = NULL;

static void
CowEncodeContextGone(void *arg)
{
	CowEncodeContext = NULL;
}

/* CowEncodeContextGet returns CowEncodeContext, reset, creating it first */
static MemoryContext
CowEncodeContextGet(void)
{
	if (CowEncodeContext == NULL)
	{
		MemoryContextCallback *cb;

		CowEncodeContext = GenerationContextCreate(TopTransactionContext,
												   "incetl cow encode block",
												   COW_ENCODE_CONTEXT_BLOCK,
												   COW_ENCODE_CONTEXT_BLOCK,
												   8 * COW_ENCODE_CONTEXT_BLOCK);
		/* on the parent: a callback on the context would go at its resets */
		cb = MemoryContextAlloc(TopTransactionContext, sizeof(MemoryContextCallback));
		cb->func = CowEncodeContextGone;
		cb->arg = NULL;
		MemoryContextRegisterResetCallback(TopTransactionContext, cb);
	}
	else
		MemoryContextReset(CowEncodeContext);
	return CowEncodeContext;
}

static void CowColEncInit(CowColEnc *e, Form_pg_attribute att);
static inline void CowColEncAppend(CowColEnc *e, Datum value);
static void CowChunkInit(CowChunk *chunk, int64 nrows);
static void CowChunkReserve(CowChunk *chunk, int64 b);
static void CowChunkAddBlock(CowColumnDesc *desc, CowChunk *chunk, int64 b,
							 const Datum *bv, int64 bvals, const bits8 *bnulls,
							 int64 brows, int level, SortSupport minmax);
static void CowChunkEnd(CowColumnDesc *desc, CowChunk *chunk);
static void CowSerializeDatum(StringInfo buf, Datum value, bool byval, int len);
static void CowWriteBlockMinMax(StringInfo blob, CowChunk *chunks,
								TupleDesc tupdesc, int64 nrows);

int			CowTestWriteGroupVersion = COW_GROUP_VERSION;

/*
 * CowIntMinMax takes block b's min/max (bvals values of e, e->int_order)
 * into chunk's, and the chunk's min/max, comparing integers.
 */
static void
CowIntMinMax(CowColEnc *e, const Datum *vals, CowChunk *chunk, int64 b,
			 int64 bvals)
{
	int			attlen = e->att->attlen;
	int64		imin,
				imax,
				vmin,
				vmax,
				i;

	if (bvals == 0)
		return;
	CowChunkReserve(chunk, b);
	if (chunk->bmin == NULL)
	{
		chunk->bmin = palloc(sizeof(Datum) * chunk->cap);
		chunk->bmax = palloc(sizeof(Datum) * chunk->cap);
		chunk->bhas = palloc0(sizeof(bool) * chunk->cap);
	}
	imin = imax = 0;
	vmin = vmax = CowDatumGetInt(vals[0], attlen);
	for (i = 1; i < bvals; i++)
	{
		int64		v = CowDatumGetInt(vals[i], attlen);

		if (v > vmax)
		{
			vmax = v;
			imax = i;
		}
		else if (v < vmin)
		{
			vmin = v;
			imin = i;
		}
	}
	chunk->bmin[b] = vals[imin];
	chunk->bmax[b] = vals[imax];
	chunk->bhas[b] = true;
	if (!chunk->has_minmax || vmin < chunk->imin)
	{
		chunk->imin = vmin;
		chunk->min = vals[imin];
	}
	if (!chunk->has_minmax || vmax > chunk->imax)
	{
		chunk->imax = vmax;
		chunk->max = vals[imax];
	}
	chunk->has_minmax = true;
}

static void
CowColEncInit(CowColEnc *e, Form_pg_attribute att)
{
	TypeCacheEntry *tc;

	memset(e, 0, sizeof(CowColEnc));
	e->att = att;
	if (att->attisdropped)
		return;
	tc = lookup_type_cache(att->atttypid, TYPECACHE_LT_OPR);
	if (OidIsValid(tc->lt_opr))
	{
		e->ssup.ssup_cxt = CurrentMemoryContext;
		e->ssup.ssup_collation = att->attcollation;
		e->ssup.ssup_nulls_first = false;
		PrepareSortSupportFromOrderingOp(tc->lt_opr, &e->ssup);
		e->can_minmax = true;
		e->int_order = CowTypeIsIntOrdered(att->atttypid);
	}
	e->nulls = palloc(COW_BLOCK_ROWS / 8);
}

/* CowColEncAppend adds an incoming value (stored ones are copied in runs) */
static inline void
CowColEncAppend(CowColEnc *e, Datum value)
{
	if (e->att->attlen == -1 &&
		(VARATT_IS_EXTERNAL(DatumGetPointer(value)) ||
		 VARATT_IS_COMPRESSED(DatumGetPointer(value))))
		value = PointerGetDatum(detoast_attr((struct varlena *) DatumGetPointer(value)));
	e->vals[e->nvals++] = value;
}

/*
 * CowChunkInit readies chunk for a column of about nrows rows (the arrays
 * grow if more blocks come: CowChunkReserve)
 */
static void
CowChunkInit(CowChunk *chunk, int64 nrows)
{
	memset(chunk, 0, sizeof(CowChunk));
	chunk->cap = Max((nrows + COW_BLOCK_ROWS - 1) / COW_BLOCK_ROWS, 1);
	chunk->dir = palloc0(sizeof(CowBlockDesc) * chunk->cap);
	chunk->data = palloc0(sizeof(char *) * chunk->cap);
	chunk->try_dict = true;
}

/* CowChunkReserve makes room in chunk's per-block arrays for block b */
static void
CowChunkReserve(CowChunk *chunk, int64 b)
{
	int64		old = chunk->cap;

	if (b < old)
		return;
	chunk->cap = Max(old * 2, b + 1);
	chunk->dir = repalloc(chunk->dir, sizeof(CowBlockDesc) * chunk->cap);
	memset(chunk->dir + old, 0, sizeof(CowBlockDesc) * (chunk->cap - old));
	chunk->data = repalloc(chunk->data, sizeof(char *) * chunk->cap);
	memset(chunk->data + old, 0, sizeof(char *) * (chunk->cap - old));
	if (chunk->fno != NULL)
	{
		chunk->fno = repalloc(chunk->fno, sizeof(int) * chunk->cap);
		chunk->foff = repalloc(chunk->foff, sizeof(off_t) * chunk->cap);
	}
	if (chunk->bmin != NULL)
	{
		chunk->bmin = repalloc(chunk->bmin, sizeof(Datum) * chunk->cap);
		chunk->bmax = repalloc(chunk->bmax, sizeof(Datum) * chunk->cap);
		chunk->bhas = repalloc(chunk->bhas, sizeof(bool) * chunk->cap);
		memset(chunk->bhas + old, 0, sizeof(bool) * (chunk->cap - old));
	}
}

/*
 * CowChunkAddBlock encodes and compresses block b of a column chunk: its
 * bvals values (bv) of brows rows, bnulls their null bitmap or NULL when
 * none is NULL.  desc has the type fields set; CowChunkEnd fills in its
 * flags, encoding, lengths and CRC once every block was added.
 *
 * Each block is encoded (its own encoding, null bitmap, dictionary...)
 * and compressed on its own, so that a reader can decode one block
 * without the others; the block directory in front of them says where
 * each one is.  Once a block had too many distinct values for a
 * dictionary, the later ones are not tried; once the first two blocks did
 * not pay for zstd, the later ones are stored uncompressed without trying
 * (bit-packed random integers, say: compressing them only costs time).
 *
 * With minmax (the column's comparator), the block's and the chunk's
 * min/max are found here, once the block is encoded (its values are then
 * in the CPU cache): from the scaled integers when the block got the
 * NUMERIC encoding (one display scale: their order is the values' order),
 * which is much cheaper than comparing numerics, else with the comparator;
 * the blocks' winners are then compared with the comparator (blocks may
 * have different scales).  Each block's min/max are kept in
 * chunk->bmin/bmax.
 *
 * The encoding and compression work in CowEncodeContext, reset here; the
 * stored bytes are copied out into the current context.
 */
static void
CowChunkAddBlock(CowColumnDesc *desc, CowChunk *chunk, int64 b,
				 const Datum *bv, int64 bvals, const bits8 *bnulls,
				 int64 brows, int level, SortSupport minmax)
{
	CowBlockDesc *dir;
	CowColumnDesc bd = *desc;
	CowEncodedChunk enc;
	MemoryContext old;
	Size		clen;
	char	   *cdata;
	const char *stored;
	int64		i;
	pg_crc32c	crc;

	CowChunkReserve(chunk, b);
	dir = &chunk->dir[b];
	chunk->nblocks = Max(chunk->nblocks, b + 1);
	if (bnulls)
		chunk->has_nulls = true;
	if (bvals == 0)
	{
		dir->flags = COW_BLK_ALL_NULL | COW_BLK_HAS_NULLS;
		return;
	}
	chunk->nvals += bvals;
	old = MemoryContextSwitchTo(CowEncodeContextGet());
	bd.flags = 0;
	CowEncodeChunk(&bd, bv, bvals, bnulls, brows, chunk->try_dict, &enc);
	MemoryContextSwitchTo(old);
	if (enc.dict_full)
		chunk->try_dict = false;
	if (minmax)
	{
		/* a dictionary block: its distinct values are enough */
		const Datum *mv = enc.distinct ? enc.distinct : bv;
		int64		mn = enc.distinct ? enc.ndistinct : bvals;
		int64		imin = 0,
					imax = 0;

		for (i = 1; i < mn; i++)
		{
			if (enc.scaled)
			{
				if (enc.scaled[i] > enc.scaled[imax])
					imax = i;
				else if (enc.scaled[i] < enc.scaled[imin])
					imin = i;
			}
			else if (ApplySortComparator(mv[i], false, mv[imax], false, minmax) > 0)
				imax = i;
			else if (ApplySortComparator(mv[i], false, mv[imin], false, minmax) < 0)
				imin = i;
		}
		if (!chunk->has_minmax ||
			ApplySortComparator(mv[imax], false, chunk->max, false, minmax) > 0)
			chunk->max = mv[imax];
		if (!chunk->has_minmax ||
			ApplySortComparator(mv[imin], false, chunk->min, false, minmax) < 0)
			chunk->min = mv[imin];
		chunk->has_minmax = true;
		if (chunk->bmin == NULL)
		{
			chunk->bmin = palloc(sizeof(Datum) * chunk->cap);
			chunk->bmax = palloc(sizeof(Datum) * chunk->cap);
			chunk->bhas = palloc0(sizeof(bool) * chunk->cap);
		}
		chunk->bmin[b] = mv[imin];
		chunk->bmax[b] = mv[imax];
		chunk->bhas[b] = true;
	}
	if (desc->attlen == -1)
	{
		for (i = 0; i < bvals; i++)
			chunk->plain_bytes += INTALIGN(VARSIZE_ANY_EXHDR(DatumGetPointer(bv[i])) + VARHDRSZ);
	}
	else if (desc->attlen == -2)
	{
		for (i = 0; i < bvals; i++)
			chunk->plain_bytes += strlen(DatumGetCString(bv[i])) + 1;
	}
	else
		chunk->plain_bytes += bvals * att_align_nominal(desc->attlen, desc->attalign);
	dir->encoding = bd.encoding;
	dir->raw_len = enc.len;
	dir->flags = bnulls ? COW_BLK_HAS_NULLS : 0;
	chunk->uses[Min(bd.encoding, COW_ENC_VARLENA)]++;
	chunk->raw_total += enc.len;
	cdata = NULL;
	if (chunk->any_compressed || chunk->zstd_misses < 2)
	{
		MemoryContextSwitchTo(CowEncodeContext);
		cdata = CowCompressBlock(enc.data, enc.len, enc.frame_head,
								 level, &clen);
		MemoryContextSwitchTo(old);
		if (cdata == NULL)
			chunk->zstd_misses++;
	}
	if (cdata == NULL)
	{
		dir->flags |= COW_BLK_UNCOMPRESSED;
		stored = enc.data;
		dir->stored_len = enc.len;
	}
	else
	{
		stored = cdata;
		dir->stored_len = clen;
		chunk->any_compressed = true;
	}
	INIT_CRC32C(crc);
	COMP_CRC32C(crc, stored, dir->stored_len);
	FIN_CRC32C(crc);
	dir->crc = crc;
	if (chunk->file != NULL)
	{
		BufFileTell(chunk->file, &chunk->fno[b], &chunk->foff[b]);
		BufFileWrite(chunk->file, (void *) stored, dir->stored_len);
	}
	else
	{
		chunk->data[b] = MemoryContextAllocHuge(CurrentMemoryContext,
												Max(dir->stored_len, 1));
		memcpy(chunk->data[b], stored, dir->stored_len);
	}
	MemoryContextReset(CowEncodeContext);
	chunk->len += dir->stored_len;
}

/*
 * CowChunkEnd completes a column chunk whose blocks were all added: its
 * flags, the encoding that stands for it, its lengths and the CRC of its
 * block directory.  A column without a non-NULL value stores nothing.
 */
static void
CowChunkEnd(CowColumnDesc *desc, CowChunk *chunk)
{
	Size		dir_len = sizeof(CowBlockDesc) * chunk->nblocks;
	pg_crc32c	crc;
	int			e;

	if (chunk->nvals == 0)
	{
		desc->flags = COW_COL_ALL_NULL | COW_COL_HAS_NULLS;
		chunk->has_minmax = false;
		chunk->len = 0;
		chunk->nblocks = 0;		/* no pieces */
		return;
	}
	if (chunk->has_nulls)
		desc->flags |= COW_COL_HAS_NULLS;
	if (chunk->has_minmax)
		desc->flags |= COW_COL_HAS_MINMAX;
	if (!chunk->any_compressed)
		desc->flags |= COW_COL_UNCOMPRESSED;
	/* the encoding most blocks use stands for the chunk in statistics */
	desc->encoding = COW_ENC_PLAIN;
	for (e = 0; e <= COW_ENC_VARLENA; e++)
		if (chunk->uses[e] > chunk->uses[desc->encoding])
			desc->encoding = e;
	chunk->len += dir_len;
	desc->raw_len = chunk->raw_total;
	desc->stored_len = chunk->len;
	INIT_CRC32C(crc);
	COMP_CRC32C(crc, chunk->dir, dir_len);
	FIN_CRC32C(crc);
	desc->crc = crc;
}

static void
CowSerializeDatum(StringInfo buf, Datum value, bool byval, int len)
{
	Size		sz = datumEstimateSpace(value, false, byval, len);
	char	   *p;

	enlargeStringInfo(buf, sz);
	p = buf->data + buf->len;
	datumSerialize(value, false, byval, len, &p);
	buf->len += sz;
}

/*
 * CowWriteBlockMinMax appends to the blob area the per-block min/max of
 * the columns (format 4, see format.h): the table of the columns' list
 * offsets, then each list, then the values.  A column none of whose block
 * extremes is longer than COW_BLOCK_MINMAX_MAX_BYTES serialized gets one.
 */
static void
CowWriteBlockMinMax(StringInfo blob, CowChunk *chunks, TupleDesc tupdesc,
					int64 nrows)
{
	int			natts = tupdesc->natts;
	int64		nblocks = (nrows + COW_BLOCK_ROWS - 1) / COW_BLOCK_ROWS;
	uint32	   *table = palloc0(sizeof(uint32) * Max(natts, 1));
	uint32		table_off = blob->len;
	int			i;

	enlargeStringInfo(blob, sizeof(uint32) * natts);
	blob->len += sizeof(uint32) * natts;
	for (i = 0; i < natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(tupdesc, i);
		CowChunk   *c = &chunks[i];
		uint32	   *list;
		uint32		list_off;
		int64		b;
		bool		fits = true;

		if (!c->has_minmax || c->bmin == NULL)
			continue;
		for (b = 0; b < nblocks && fits; b++)
			fits = !c->bhas[b] ||
				(datumEstimateSpace(c->bmin[b], false, att->attbyval, att->attlen) <= COW_BLOCK_MINMAX_MAX_BYTES &&
				 datumEstimateSpace(c->bmax[b], false, att->attbyval, att->attlen) <= COW_BLOCK_MINMAX_MAX_BYTES);
		if (!fits)
			continue;
		list = palloc0(sizeof(uint32) * 2 * nblocks);
		list_off = blob->len;
		enlargeStringInfo(blob, sizeof(uint32) * 2 * nblocks);
		blob->len += sizeof(uint32) * 2 * nblocks;
		for (b = 0; b < nblocks; b++)
		{
			if (!c->bhas[b])
				continue;
			list[2 * b] = blob->len;
			CowSerializeDatum(blob, c->bmin[b], att->attbyval, att->attlen);
			list[2 * b + 1] = blob->len;
			CowSerializeDatum(blob, c->bmax[b], att->attbyval, att->attlen);
		}
		memcpy(blob->data + list_off, list, sizeof(uint32) * 2 * nblocks);
		pfree(list);
		table[i] = list_off;
	}
	memcpy(blob->data + table_off, table, sizeof(uint32) * natts);
	pfree(table);
}

/*
 * A group being written (CowGroupWriter): the rows are handed over a block
 * at a time (CowGroupWriterAddBlock), each block encoded and compressed at
 * once, and only the stored bytes, the blocks' min/max and the first and
 * last key are kept (copied: the rows may go as soon as their block is
 * added).  CowGroupWriterEnd writes the extent.  CowWriteGroup writes a
 * sorted array of rows this way; a load appending new keys
 * (cow_write_state.c) hands its rows over as they come, and never holds a
 * whole group's rows.
 */
struct CowGroupWriter
{
	TupleDesc	tupdesc;
	int			natts;
	int			nkeys;
	AttrNumber	key_attnums[INDEX_MAX_KEYS];
	int			level;			/* compression */
	int64		commit_id;		/* of incoming rows */
	MemoryContext cxt;			/* everything below */
	CowColumnDesc *descs;		/* [natts + 1]: the commit ids last */
	CowChunk   *chunks;			/* [natts + 1] */
	CowColEnc  *enc;			/* [natts] */
	Datum	   *cids;			/* [COW_BLOCK_ROWS] */
	int64		nrows;			/* rows added */
	int64		nblocks;		/* blocks added */
	bool		last_partial;	/* the last block added was short */
	int64		min_commit;
	int64		max_commit;
	Datum	   *first_key;		/* [nkeys], copies */
	Datum	   *last_key;
	BufFile    *file;			/* the stored bytes, when spooled */
};

/* CowCopyDatum copies a by-reference value into the current context */
static inline Datum
CowCopyDatum(Datum value, Form_pg_attribute att)
{
	return att->attbyval ? value : datumCopy(value, false, att->attlen);
}

/*
 * CowGroupWriterBegin starts a group of rows of tupdesc under opts (about
 * nrows of them, a hint for the arrays), whose incoming rows get
 * commit_id.  Everything it keeps lives in cxt, which must outlive
 * CowGroupWriterEnd; the caller resets or deletes it.
 */
CowGroupWriter *
CowGroupWriterBegin(TupleDesc tupdesc, const CowOptions *opts, int64 nrows,
					int64 commit_id, bool spool, MemoryContext cxt)
{
	MemoryContext old = MemoryContextSwitchTo(cxt);
	CowGroupWriter *w = palloc0(sizeof(CowGroupWriter));
	int			natts = tupdesc->natts;
	int			i;

	Assert(opts->nkeys <= INDEX_MAX_KEYS);
	w->tupdesc = tupdesc;
	w->natts = natts;
	w->nkeys = opts->nkeys;
	memcpy(w->key_attnums, opts->key_attnums, sizeof(AttrNumber) * opts->nkeys);
	w->level = opts->compression_level;
	w->commit_id = commit_id;
	w->cxt = cxt;
	w->descs = palloc0(sizeof(CowColumnDesc) * (natts + 1));
	w->chunks = palloc0(sizeof(CowChunk) * (natts + 1));
	w->enc = palloc(sizeof(CowColEnc) * Max(natts, 1));
	w->min_commit = PG_INT64_MAX;
	w->max_commit = 0;
	w->first_key = palloc0(sizeof(Datum) * Max(w->nkeys, 1));
	w->last_key = palloc0(sizeof(Datum) * Max(w->nkeys, 1));
	for (i = 0; i < natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(tupdesc, i);

		CowColEncInit(&w->enc[i], att);
		w->descs[i].typid = att->atttypid;
		w->descs[i].attlen = att->attlen;
		w->descs[i].attbyval = att->attbyval;
		w->descs[i].attalign = att->attalign;
		w->descs[i].collation = att->attcollation;
		if (att->attisdropped)
			w->descs[i].flags = COW_COL_DROPPED | COW_COL_ALL_NULL;
		else
			CowChunkInit(&w->chunks[i], nrows);
	}
	/* hidden commit-id column (gathered with the others) */
	w->descs[natts].typid = INT8OID;
	w->descs[natts].attlen = sizeof(int64);
	w->descs[natts].attbyval = true;
	w->descs[natts].attalign = TYPALIGN_DOUBLE;
	CowChunkInit(&w->chunks[natts], nrows);
	w->cids = palloc(sizeof(Datum) * COW_BLOCK_ROWS);
	if (spool)
	{
		/* the transaction's, not the statement's: see CowSpillBegin */
		ResourceOwner save = CurrentResourceOwner;

		CurrentResourceOwner = TopTransactionResourceOwner;
		w->file = BufFileCreateTemp(false);
		CurrentResourceOwner = save;
		for (i = 0; i <= natts; i++)
		{
			CowChunk   *c = &w->chunks[i];

			if (i < natts && TupleDescAttr(tupdesc, i)->attisdropped)
				continue;
			c->file = w->file;
			c->fno = palloc(sizeof(int) * c->cap);
			c->foff = palloc(sizeof(off_t) * c->cap);
		}
	}
	MemoryContextSwitchTo(old);
	return w;
}

/*
 * CowGroupWriterClose gives up w's temporary file, if any (CowGroupWriterEnd
 * does, once the group is written); the caller then frees w's context.
 */
void
CowGroupWriterClose(CowGroupWriter *w)
{
	if (w->file != NULL)
		BufFileClose(w->file);
	w->file = NULL;
}

/* CowChunkStored returns the stored bytes of block b of c (palloc'd if read) */
static const char *
CowChunkStored(CowChunk *c, int64 b)
{
	char	   *buf;
	Size		len = c->dir[b].stored_len;

	if (c->file == NULL)
		return c->data[b];
	buf = palloc(Max(len, 1));
	if (BufFileSeek(c->file, c->fno[b], c->foff[b], SEEK_SET) != 0 ||
		BufFileRead(c->file, buf, len) != len)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not read temporary file of a file group being written: %m")));
	return buf;
}

/* rows added so far */
int64
CowGroupWriterRows(CowGroupWriter *w)
{
	return w->nrows;
}

/*
 * CowGroupWriterEncode encodes the block gathered in w->enc (vals[i]: the
 * e->nvals values of column i) and w->cids (n rows) as the group's next
 * block: each column's, then the commit ids'; then takes the first and
 * last key (firsts and lasts: the values of the key columns of the block's
 * first and last row) and counts the block.  The block's and the chunk's
 * min/max and the keys point into the values: copied, the values may go.
 * Call in w->cxt.
 */
static void
CowGroupWriterEncode(CowGroupWriter *w, int64 n, Datum *const *vals,
					 const Datum *firsts, const Datum *lasts)
{
	int			natts = w->natts;
	CowColEnc  *enc = w->enc;
	int64		b = w->nblocks;
	int			i;

	for (i = 0; i < natts; i++)
	{
		CowColEnc  *e = &enc[i];
		CowChunk   *c = &w->chunks[i];
		Datum		pmin = c->min,
					pmax = c->max;
		bool		had = c->has_minmax;

		if (e->att->attisdropped)
			continue;
		if (e->can_minmax && e->int_order)
			CowIntMinMax(e, vals[i], c, b, e->nvals);
		CowChunkAddBlock(&w->descs[i], c, b, vals[i], e->nvals,
						 e->nnulls > 0 ? e->nulls : NULL, n, w->level,
						 (e->can_minmax && !e->int_order) ? &e->ssup : NULL);
		if (!e->att->attbyval && c->bmin != NULL && c->bhas[b])
		{
			c->bmin[b] = CowCopyDatum(c->bmin[b], e->att);
			c->bmax[b] = CowCopyDatum(c->bmax[b], e->att);
			if (!had || c->min != pmin)
				c->min = c->bmin[b];
			if (!had || c->max != pmax)
				c->max = c->bmax[b];
		}
		else if (!e->att->attbyval && c->has_minmax)
		{
			if (!had || c->min != pmin)
				c->min = CowCopyDatum(c->min, e->att);
			if (!had || c->max != pmax)
				c->max = CowCopyDatum(c->max, e->att);
		}
	}
	CowChunkAddBlock(&w->descs[natts], &w->chunks[natts], b, w->cids, n, NULL,
					 n, w->level, NULL);

	/* the first and last key, copied */
	for (int k = 0; k < w->nkeys; k++)
	{
		Form_pg_attribute att = TupleDescAttr(w->tupdesc, w->key_attnums[k] - 1);

		if (w->nrows == 0)
			w->first_key[k] = CowCopyDatum(firsts[k], att);
		else if (!att->attbyval && w->last_key[k] != w->first_key[k])
			pfree(DatumGetPointer(w->last_key[k]));
		w->last_key[k] = CowCopyDatum(lasts[k], att);
	}
	w->nrows += n;
	w->nblocks++;
	w->last_partial = (n < COW_BLOCK_ROWS);
}

/*
 * CowGroupWriterAddBlock encodes rows[0..n-1] (1 <= n <= COW_BLOCK_ROWS,
 * in key order after the rows added before) as the group's next block.
 * Only the group's last block may have fewer than COW_BLOCK_ROWS rows.
 * The rows are not referenced afterwards.
 */
void
CowGroupWriterAddBlock(CowGroupWriter *w, CowRow **rows, int64 n)
{
	MemoryContext old = MemoryContextSwitchTo(w->cxt);
	int			natts = w->natts;
	CowColEnc  *enc = w->enc;
	Datum	   *vals[MaxTupleAttributeNumber];
	Datum		firsts[INDEX_MAX_KEYS];
	Datum		lasts[INDEX_MAX_KEYS];
	int64		r;
	int			i,
				k;

	Assert(n > 0 && n <= COW_BLOCK_ROWS && !w->last_partial);
	for (i = 0; i < natts; i++)
	{
		if (enc[i].att->attisdropped)
			continue;
		if (enc[i].vals == NULL)
			enc[i].vals = palloc(sizeof(Datum) * COW_BLOCK_ROWS);
		vals[i] = enc[i].vals;
		enc[i].nvals = 0;
		enc[i].nnulls = 0;
		memset(enc[i].nulls, 0, (n + 7) / 8);
	}
	for (r = 0; r < n; r++)
	{
		int64		c = rows[r]->commit_id ? rows[r]->commit_id : w->commit_id;

		w->cids[r] = Int64GetDatum(c);
		w->min_commit = Min(w->min_commit, c);
		w->max_commit = Max(w->max_commit, c);
	}
	for (r = 0; r < n;)
	{
		CowRow	   *row = rows[r];

		if (row->src != NULL)
		{
			/*
			 * A run of stored rows that follow each other in one decoded
			 * group: read it column by column, sequentially.
			 */
			CowDecodedGroup *g = row->src;
			int64		s0 = row->src_row;
			int64		len = 1;
			int64		j;

			while (r + len < n && rows[r + len]->src == g &&
				   rows[r + len]->src_row == s0 + len)
				len++;
			for (i = 0; i < natts; i++)
			{
				CowColEnc  *e = &enc[i];
				const bool *gn = g->isnull[i] + s0;
				const Datum *gv = g->values[i] + s0;
				Datum	   *dst;

				if (e->att->attisdropped)
					continue;
				/* decoded values are never toasted: copy them */
				dst = e->vals + e->nvals;
				for (j = 0; j < len; j++)
				{
					if (gn[j])
					{
						int64		bit = r + j;

						e->nulls[bit >> 3] |= 1 << (bit & 7);
						e->nnulls++;
					}
					else
						*dst++ = gv[j];
				}
				e->nvals = dst - e->vals;
			}
			r += len;
			continue;
		}

		/* an incoming row */
		for (i = 0; i < natts; i++)
		{
			CowColEnc  *e = &enc[i];

			if (e->att->attisdropped)
				continue;
			if (row->isnull[i])
			{
				e->nulls[r >> 3] |= 1 << (r & 7);
				e->nnulls++;
				continue;
			}
			CowColEncAppend(e, row->values[i]);
		}
		r++;
	}

	for (k = 0; k < w->nkeys; k++)
	{
		bool		isnull;

		firsts[k] = CowRowValue(rows[0], w->key_attnums[k] - 1, &isnull);
		lasts[k] = CowRowValue(rows[n - 1], w->key_attnums[k] - 1, &isnull);
	}
	CowGroupWriterEncode(w, n, vals, firsts, lasts);
	MemoryContextSwitchTo(old);
}

/*
 * CowGroupWriterAddColumns encodes n incoming rows (1 <= n <=
 * COW_BLOCK_ROWS, in key order after the rows added before, none NULL in a
 * key column) given column by column as the group's next block: vals[i]
 * the nvals[i] non-NULL values of column i in row order (detoasted),
 * isnull[i] its null flags by row.  As CowGroupWriterAddBlock, without
 * copying the values into arrays of its own (cow_wait_rows.c).
 */
void
CowGroupWriterAddColumns(CowGroupWriter *w, int64 n, const Datum *const *vals,
						 const int64 *nvals, const bool *const *isnull)
{
	MemoryContext old = MemoryContextSwitchTo(w->cxt);
	int			natts = w->natts;
	CowColEnc  *enc = w->enc;
	Datum		firsts[INDEX_MAX_KEYS];
	Datum		lasts[INDEX_MAX_KEYS];

	Assert(n > 0 && n <= COW_BLOCK_ROWS && !w->last_partial);
	for (int i = 0; i < natts; i++)
	{
		CowColEnc  *e = &enc[i];

		if (e->att->attisdropped)
			continue;
		e->nvals = nvals[i];
		e->nnulls = n - nvals[i];
		memset(e->nulls, 0, (n + 7) / 8);
		if (e->nnulls > 0)
		{
			for (int64 r = 0; r < n; r++)
			{
				if (isnull[i][r])
					e->nulls[r >> 3] |= 1 << (r & 7);
			}
		}
	}
	for (int64 r = 0; r < n; r++)
		w->cids[r] = Int64GetDatum(w->commit_id);
	w->min_commit = Min(w->min_commit, w->commit_id);
	w->max_commit = Max(w->max_commit, w->commit_id);
	for (int k = 0; k < w->nkeys; k++)
	{
		int			a = w->key_attnums[k] - 1;

		Assert(nvals[a] == n);
		firsts[k] = vals[a][0];
		lasts[k] = vals[a][n - 1];
	}
	CowGroupWriterEncode(w, n, (Datum *const *) vals, firsts, lasts);
	MemoryContextSwitchTo(old);
}

/*
 * CowGroupWriterEnd writes the group (at least one row added) as a new
 * file group version with a fresh row-number range and describes it in
 * *out.  The catalog row is the caller's job.
 */
/*
 * The row numbers of a group: first_row_number (reserved, -1: reserve them
 * at the end) and, in format 5, the row-number map of the stored rows it
 * carries (none: nruns 0) -- its description, the ranges it absorbed and
 * its stored bytes.
 */
typedef struct CowGroupNumbering
{
	int64		first_row_number;
	CowRowMapInfo info;
	CowRowRange *absorbed;
	char	   *stored;
	Size		stored_len;
} CowGroupNumbering;

static void CowGroupWriterFinish(CowGroupWriter *w, Relation rel,
								 int64 file_group_id, CowGroupNumbering *rnums,
								 CowVersion *out);

void
CowGroupWriterEnd(CowGroupWriter *w, Relation rel, int64 file_group_id,
				  CowVersion *out)
{
	CowGroupNumbering rnums;

	memset(&rnums, 0, sizeof(rnums));
	rnums.first_row_number = -1;
	CowGroupWriterFinish(w, rel, file_group_id, &rnums, out);
}

/*
 * CowGroupWriterFinish writes the group, its row numbers as rnums says:
 * CowGroupWriterEnd, or CowWriteGroup with a row-number map.
 */
static void
CowGroupWriterFinish(CowGroupWriter *w, Relation rel, int64 file_group_id,
					 CowGroupNumbering *rnums, CowVersion *out)
{
	MemoryContext old = MemoryContextSwitchTo(w->cxt);
	TupleDesc	tupdesc = w->tupdesc;
	int			natts = w->natts;
	CowColumnDesc *descs = w->descs;
	CowChunk   *chunks = w->chunks;
	int64		nrows = w->nrows;
	int64		nblocks = w->nblocks;
	StringInfoData blob;
	CowGroupHeader header;
	int64		raw_total = 0;
	Size		header_len,
				total;
	char	   *head;
	CowExtentPiece *pieces;
	int			npieces;
	int			i;
	int64		b;
	pg_crc32c	crc;

	Assert(nrows > 0);
	nblocks = w->nblocks;
	for (i = 0; i <= natts; i++)
	{
		if (i < natts && w->enc[i].att->attisdropped)
			continue;
		CowChunkEnd(&descs[i], &chunks[i]);
		/* raw bytes: as the values would take in a heap tuple */
		if (i < natts && chunks[i].nvals > 0)
			raw_total += (chunks[i].has_nulls ? (nrows + 7) / 8 : 0) +
				chunks[i].plain_bytes;
	}
	raw_total += sizeof(int64) * nrows;

	/* blob area: min/max per column, then first and last key */
	initStringInfo(&blob);
	appendStringInfoChar(&blob, '\0');	/* offset 0 means "none" */
	for (i = 0; i < natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(tupdesc, i);

		if (!chunks[i].has_minmax)
			continue;
		descs[i].min_off = blob.len;
		CowSerializeDatum(&blob, chunks[i].min, att->attbyval, att->attlen);
		descs[i].max_off = blob.len;
		CowSerializeDatum(&blob, chunks[i].max, att->attbyval, att->attlen);
	}
	memset(&header, 0, sizeof(header));
	if (CowTestWriteGroupVersion >= 4)
	{
		header.block_minmax_off = blob.len;
		CowWriteBlockMinMax(&blob, chunks, tupdesc, nrows);
	}
	if (w->nkeys > 0)
	{
		int			wk,
					k;

		for (wk = 0; wk < 2; wk++)
		{
			if (wk == 0)
				header.first_key_off = blob.len;
			else
				header.last_key_off = blob.len;
			for (k = 0; k < w->nkeys; k++)
			{
				Form_pg_attribute att = TupleDescAttr(tupdesc, w->key_attnums[k] - 1);

				CowSerializeDatum(&blob, wk == 0 ? w->first_key[k] : w->last_key[k],
								  att->attbyval, att->attlen);
			}
		}
	}

	/* format 5: the absorbed ranges, then the map's description, last */
	if (CowTestWriteGroupVersion >= 5)
	{
		if (rnums->info.nabsorbed > 0)
			appendBinaryStringInfo(&blob, (char *) rnums->absorbed,
								   sizeof(CowRowRange) * rnums->info.nabsorbed);
		appendBinaryStringInfo(&blob, (char *) &rnums->info, sizeof(rnums->info));
	}

	header_len = MAXALIGN(sizeof(CowGroupHeader)) +
		sizeof(CowColumnDesc) * (natts + 1) + blob.len;
	total = header_len;
	for (i = 0; i <= natts; i++)
	{
		descs[i].offset = total;
		total += chunks[i].len;
	}
	if (rnums->info.nruns > 0)
	{
		rnums->info.runs_offset = total;
		total += rnums->stored_len;
		memcpy(blob.data + blob.len - sizeof(rnums->info), &rnums->info,
			   sizeof(rnums->info));
	}

	header.magic = COW_GROUP_MAGIC;
	header.version = CowTestWriteGroupVersion;
	header.header_len = header_len;
	header.natts = natts;
	header.nkeys = w->nkeys;
	header.nrows = nrows;
	header.total_len = total;
	header.block_rows = COW_BLOCK_ROWS;

	/*
	 * The stream: header, column descriptors and blob, then the chunks, each
	 * its block directory and its blocks' stored bytes.
	 */
	head = palloc0(header_len);
	memcpy(head, &header, sizeof(header));
	memcpy(CowGroupColumns(head), descs, sizeof(CowColumnDesc) * (natts + 1));
	memcpy(CowGroupBlob((CowGroupHeader *) head), blob.data, blob.len);
	INIT_CRC32C(crc);
	COMP_CRC32C(crc, head, header_len);
	FIN_CRC32C(crc);
	((CowGroupHeader *) head)->header_crc = crc;
	pieces = palloc0(sizeof(CowExtentPiece) * (2 + (natts + 1) * (nblocks + 1)));
	pieces[0].data = head;
	pieces[0].len = header_len;
	npieces = 1;
	for (i = 0; i <= natts; i++)
	{
		CowChunk   *c = &chunks[i];

		if (c->len == 0)
			continue;
		pieces[npieces].data = (const char *) c->dir;
		pieces[npieces++].len = sizeof(CowBlockDesc) * c->nblocks;
		for (b = 0; b < c->nblocks; b++)
		{
			if (c->dir[b].flags & COW_BLK_ALL_NULL)
				continue;
			pieces[npieces].data = c->data[b];
			pieces[npieces].len = c->dir[b].stored_len;
			pieces[npieces].file = c->file;
			if (c->file != NULL)
			{
				pieces[npieces].fileno = c->fno[b];
				pieces[npieces].offset = c->foff[b];
			}
			npieces++;
		}
	}
	/* the row-number map, after the chunks (format 5, carried rows) */
	if (rnums->info.nruns > 0)
	{
		pieces[npieces].data = rnums->stored;
		pieces[npieces].len = rnums->stored_len;
		npieces++;
	}

	memset(out, 0, sizeof(CowVersion));
	out->file_group_id = file_group_id;
	out->commit_id = w->commit_id;
	out->row_count = nrows;
	out->first_row_number = rnums->first_row_number >= 0 ?
		rnums->first_row_number : CowReserveRowNumbers(rel, nrows);
	out->first_block = CowWriteExtent(rel, pieces, npieces, &out->nblocks);
	out->header_bytes = header_len;
	out->bytes = total;
	out->raw_bytes = raw_total;
	out->min_commit = w->min_commit;
	out->max_commit = w->max_commit;
	CowGroupWriterClose(w);
	MemoryContextSwitchTo(old);
}

/*
 * CowGroupWriterDecode hands the rows added so far back, decoded from their
 * stored blocks, a block at a time: emit(arg, values, isnull) per row, in
 * order (values valid for the call only).  For a load that must give its
 * rows back to the statement's buffer (cow_write_state.c) before the group
 * is written.  Commit ids are not handed back (incoming rows have none).
 */
void
CowGroupWriterDecode(CowGroupWriter *w, Relation rel,
					 void (*emit) (void *arg, Datum *values, bool *isnull),
					 void *arg)
{
	MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext,
											  "incetl cow decode written block",
											  ALLOCSET_DEFAULT_SIZES);
	MemoryContext old;
	int			natts = w->natts;
	Datum	  **vals = palloc(sizeof(Datum *) * Max(natts, 1));
	bool	  **nulls = palloc(sizeof(bool *) * Max(natts, 1));
	Datum	   *rv = palloc(sizeof(Datum) * Max(natts, 1));
	bool	   *rn = palloc(sizeof(bool) * Max(natts, 1));
	int			i;
	int64		b,
				r;

	for (b = 0; b < w->nblocks; b++)
	{
		int64		brows = Min((int64) COW_BLOCK_ROWS,
								w->nrows - b * COW_BLOCK_ROWS);

		old = MemoryContextSwitchTo(cxt);
		for (i = 0; i < natts; i++)
		{
			CowChunk   *c = &w->chunks[i];
			CowBlockDesc *bd;
			CowColumnDesc d = w->descs[i];
			const char *raw;

			vals[i] = palloc(sizeof(Datum) * brows);
			nulls[i] = palloc(sizeof(bool) * brows);
			if (w->enc[i].att->attisdropped ||
				(c->dir[b].flags & COW_BLK_ALL_NULL))
			{
				memset(nulls[i], true, brows);
				continue;
			}
			bd = &c->dir[b];
			d.flags = (bd->flags & COW_BLK_HAS_NULLS) ? COW_COL_HAS_NULLS : 0;
			d.encoding = bd->encoding;
			d.raw_len = bd->raw_len;
			raw = CowChunkStored(c, b);
			if (!(bd->flags & COW_BLK_UNCOMPRESSED))
			{
				char	   *buf = palloc(Max(bd->raw_len, 1));

				CowDecompress(raw, bd->stored_len, buf, bd->raw_len, rel);
				raw = buf;
			}
			(void) CowDecodeChunk(rel, 0, i + 1, &d, raw, brows, vals[i], nulls[i]);
		}
		MemoryContextSwitchTo(old);
		for (r = 0; r < brows; r++)
		{
			for (i = 0; i < natts; i++)
			{
				rv[i] = vals[i][r];
				rn[i] = nulls[i][r];
			}
			emit(arg, rv, rn);
		}
		MemoryContextReset(cxt);
	}
	MemoryContextDelete(cxt);
	pfree(vals);
	pfree(nulls);
	pfree(rv);
	pfree(rn);
}

/*
 * CowWriteGroup encodes rows (already sorted by the record key, when
 * there is one) as a new file group version with a fresh row-number
 * range, writes its extent and describes it in *out.  With carry, a stored
 * row (one with src) keeps its row number (format 5 only: older formats
 * give every row first_row_number + position); rownums (may be NULL)
 * receives each row's.  The catalog row is the caller's job.  The
 * writer's memory is of the current context.
 */
void
CowWriteGroup(Relation rel, TupleDesc tupdesc, const CowOptions *opts,
			  CowRow **rows, int64 nrows, int64 file_group_id,
			  int64 commit_id, bool carry, int64 *rownums, CowVersion *out)
{
	CowGroupWriter *w;
	CowGroupNumbering rnums;
	int64		first_row_number;
	int64	   *rn;
	int64		r,
				r0;
	pg_crc32c	crc;

	Assert(nrows > 0);

	/*
	 * Row numbers: the version reserves nrows fresh ones; in format 5 a
	 * stored row carried over unchanged keeps its own (when carry).
	 */
	memset(&rnums, 0, sizeof(rnums));
	first_row_number = CowReserveRowNumbers(rel, nrows);
	rnums.first_row_number = first_row_number;
	rn = rownums ? rownums : palloc(sizeof(int64) * nrows);
	if (carry && CowTestWriteGroupVersion >= 5)
	{
		CowRowRange *sources = NULL;
		int			nsources = 0,
					cap = 0;
		CowDecodedGroup *last = NULL;
		char	   *map_raw = NULL;
		Size		map_raw_len = 0;

		for (r = 0; r < nrows;)
		{
			CowDecodedGroup *g = rows[r]->src;
			int64		len = 1;

			if (g == NULL)
			{
				rn[r] = first_row_number + r;
				r++;
				continue;
			}
			/* a run of stored rows that follow each other in g */
			while (r + len < nrows && rows[r + len]->src == g &&
				   rows[r + len]->src_row == rows[r]->src_row + len)
				len++;
			CowGroupRowNumbers(g, (uint64) rows[r]->src_row, len, rn + r);
			r += len;
			if (g != last)
			{
				const CowRowMap *m = CowGetRowMap(rel, &g->version, false);

				if (nsources + 1 + (int) m->nabsorbed > cap)
				{
					cap = Max(cap * 2, nsources + 1 + (int) m->nabsorbed + 8);
					sources = sources ?
						repalloc(sources, sizeof(CowRowRange) * cap) :
						palloc(sizeof(CowRowRange) * cap);
				}
				sources[nsources].first = g->version.first_row_number;
				sources[nsources].count = g->version.row_count;
				nsources++;
				memcpy(sources + nsources, m->absorbed,
					   sizeof(CowRowRange) * m->nabsorbed);
				nsources += m->nabsorbed;
				last = g;
			}
		}
		CowBuildRowMap(rn, nrows, first_row_number, sources, nsources,
					   &map_raw, &map_raw_len, &rnums.info.nruns,
					   &rnums.absorbed, &rnums.info.nabsorbed);
		if (sources)
			pfree(sources);
		if (map_raw != NULL)
		{
			rnums.stored = CowCompress(map_raw, map_raw_len,
									   opts->compression_level,
									   &rnums.stored_len);
			if (rnums.stored == NULL)
			{
				rnums.stored = map_raw;
				rnums.stored_len = map_raw_len;
				rnums.info.runs_flags = COW_BLK_UNCOMPRESSED;
			}
			rnums.info.runs_raw_len = map_raw_len;
			rnums.info.runs_stored_len = rnums.stored_len;
			INIT_CRC32C(crc);
			COMP_CRC32C(crc, rnums.stored, rnums.stored_len);
			FIN_CRC32C(crc);
			rnums.info.runs_crc = crc;
		}
	}
	else
	{
		for (r = 0; r < nrows; r++)
			rn[r] = first_row_number + r;
	}

	w = CowGroupWriterBegin(tupdesc, opts, nrows, commit_id, false,
							CurrentMemoryContext);
	for (r0 = 0; r0 < nrows; r0 += COW_BLOCK_ROWS)
		CowGroupWriterAddBlock(w, rows + r0, Min((int64) COW_BLOCK_ROWS, nrows - r0));
	CowGroupWriterFinish(w, rel, file_group_id, &rnums, out);
	if (rownums == NULL)
		pfree(rn);
}

/*
 * CowWriterInit defines incetl.test_cow_group_version, a superuser-only
 * setting for tests: the file group format version this session writes.
 * 3 writes groups as builds before per-block min/max did, so that a test
 * can prove they are still read (and skipped by their chunk min/max).
 */
void
CowWriterInit(void)
{
	DefineCustomIntVariable("incetl.test_cow_group_version",
							"Test only: the file group format version written (3: without per-block min/max, 4: without the row-number map).",
							NULL,
							&CowTestWriteGroupVersion,
							COW_GROUP_VERSION,
							COW_GROUP_VERSION_MIN,
							COW_GROUP_VERSION,
							PGC_SUSET,
							GUC_NOT_IN_SAMPLE,
							NULL, NULL, NULL);
}
