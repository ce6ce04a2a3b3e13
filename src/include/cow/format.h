/*-------------------------------------------------------------------------
 *
 * cow/format.h
 *	  The file group format: a version's byte stream (header, column
 *	  descriptors, blocks), the per-type chunk encodings, and zstd
 *	  (cow_encoding.c, cow_compress.c).  The lowest layer.
 *
 * Uses nothing of incetl_cow.
 *
 * Copyright (c) 2026, incetl authors
 *
 * IDENTIFICATION
 *	  src/include/cow/format.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef INCETL_COW_FORMAT_H
#define INCETL_COW_FORMAT_H

#include "access/stratnum.h"
#include "utils/rel.h"

/* ---------- compression ---------- */

extern char *CowCompress(const char *src, Size srclen, int level, Size *dstlen);
extern void CowDecompress(const char *src, Size srclen, char *dst, Size rawlen,
						  Relation rel);

/*
 * Framed blocks (cow_compress.c): a column block of more than
 * COW_FRAMED_MIN raw bytes is compressed as independent zstd frames, after
 * a zstd skippable frame indexing them: the first frame holds first_raw
 * raw bytes (a VARLENA block's null bitmap and lengths: what every value
 * read needs), each other frame COW_FRAME_RAW (the last may have fewer).
 * CowDecompress reads such a block whole, CowDecompressFrame one frame.
 * COW_FRAME_PROBE bytes from a block's start tell whether it is framed
 * and how long its index is (CowFrameIndexLength).
 */
#define COW_FRAME_RAW			4096
#define COW_FRAMED_MIN			(2 * COW_FRAME_RAW)
#define COW_FRAME_PROBE			16

typedef struct CowFrameEntry
{
	uint32		stored_len;		/* compressed bytes of the frame */
	uint32		crc;			/* of those bytes */
} CowFrameEntry;

typedef struct CowFrames
{
	uint32		nframes;
	uint32		first_raw;		/* raw bytes of frame 0 */
	uint32		frame_raw;		/* raw bytes of each other frame, the last
								 * may have fewer */
	Size		raw_len;		/* of the whole block */
	CowFrameEntry *entries;		/* [nframes] */
	uint64	   *offsets;		/* [nframes]: of each frame in the block */
} CowFrames;

/* the frame holding raw byte off */
static inline uint32
CowFrameOf(uint32 first_raw, uint32 frame_raw, Size off)
{
	return off < first_raw ? 0 : 1 + (uint32) ((off - first_raw) / frame_raw);
}

extern char *CowCompressBlock(const char *src, Size srclen, Size head,
							  int level, Size *dstlen);
extern Size CowFrameIndexLength(const char *head, Size len);
extern void CowReadFrameIndex(const char *index, Size index_len,
							  Size stored_len, Size raw_len, CowFrames *f,
							  Relation rel);
extern void CowFrameRange(uint32 first_raw, uint32 frame_raw, Size raw_len,
						  uint32 i, Size *off, Size *len);
extern uint32 CowFrameCount(uint32 first_raw, uint32 frame_raw, Size raw_len);
extern void CowDecompressFrame(const CowFrames *f, uint32 i, const char *src,
							   char *raw, Relation rel);

/*
 * A raw block whose frames are decompressed as the single-value decoder
 * (CowDecodeValue) reaches them: done[i] says whether frame i is in the
 * raw bytes yet, and fetch (the reader's) puts there what the decoder is
 * about to read of it: the raw bytes [off, off + len) that lie in frame
 * i.  It may put that part only, leaving done[i] false (a frame the
 * reader has decompressed already: copying 50 bytes of it costs less than
 * copying 4 kB), or the whole frame, setting done[i].  So the decoder
 * reads no byte of a block it has not asked for (CowChunkEnsure).
 *
 * The decoder finds a VARLENA value's bytes by summing the lengths of the
 * values before it.  For a block read one value at a time, it keeps the
 * sums it makes as marks: marks[j] (j < nmarks) is the sum of the suffix
 * lengths (without their base) of the values before value
 * j * COW_LENGTH_MARK_STEP of the body whose packed suffix lengths start
 * at raw offset marks_at.  It hands the marks it made to keep_marks (the
 * reader's, or NULL: then none are made), which keeps them with the block
 * (cow_read_cache.c) and sets marks here; a later read of the block at a
 * value the marks reach sums at most COW_LENGTH_MARK_STEP - 1 lengths.
 */
#define COW_LENGTH_MARK_STEP	64

typedef struct CowLazyRaw CowLazyRaw;
struct CowLazyRaw
{
	uint32		nframes;
	uint32		first_raw;
	uint32		frame_raw;
	bool	   *done;			/* [nframes] */
	void		(*fetch) (CowLazyRaw *lazy, uint32 frame, Size off, Size len);
	void	   *arg;			/* the reader's */
	uint64	   *marks;			/* [nmarks], or NULL */
	uint32		nmarks;
	Size		marks_at;
	void		(*keep_marks) (CowLazyRaw *lazy, const uint64 *marks,
							   uint32 nmarks, Size at);
};

/* ---------- file group format (writer / reader) ---------- */

#define COW_GROUP_MAGIC			0x43574731	/* "CWG1" */

/*
 * File group format versions.  Version 3 has min/max per column chunk;
 * version 4 adds min/max per column block (the header's block_minmax_off);
 * version 5, which this build writes, adds the row-number map (below).
 * All three are read: a version 3 group is skipped by its chunk min/max
 * only, and the row at position p of a version 3 or 4 group has row number
 * first_row_number + p.  (The metapage has a version of its own,
 * COW_FORMAT_VERSION.)
 */
#define COW_GROUP_VERSION_MIN	3
#define COW_GROUP_VERSION		5
extern int	CowTestWriteGroupVersion;	/* incetl.test_cow_group_version */

#define COW_COL_HAS_NULLS		0x01
#define COW_COL_ALL_NULL		0x02
#define COW_COL_HAS_MINMAX		0x04
#define COW_COL_UNCOMPRESSED	0x08
#define COW_COL_DROPPED			0x10

/*
 * Rows per column block of the file groups this build writes.  Smaller
 * blocks make a point lookup cheaper (it decodes one block per column) and
 * compress a little worse; 4096 rows cost under 1 % of the size on the
 * bench data.  A multiple of 8, so a block's share of the column's null
 * bitmap starts on a byte.
 */
#define COW_BLOCK_ROWS			4096

typedef struct CowColumnDesc
{
	uint32		flags;
	uint32		crc;			/* of the chunk's block directory */
	uint64		offset;			/* from the start of the extent stream */
	uint64		stored_len;		/* directory plus stored blocks */
	uint64		raw_len;		/* of the encoded blocks, before zstd */
	uint32		min_off;		/* into the header blob area */
	uint32		max_off;
	Oid			typid;			/* the column's type when written: the */
	int16		attlen;			/* layout is decoded with these, so a */
	bool		attbyval;		/* rewrite (ALTER COLUMN TYPE) can still */
	char		attalign;		/* read the old values */
	uint8		encoding;		/* COW_ENC_* most blocks use (for stats) */
	Oid			collation;		/* min/max are ordered under this one */
} CowColumnDesc;

typedef struct CowGroupHeader
{
	uint32		magic;
	uint32		version;
	uint32		header_len;		/* header, descs and blob area */
	uint32		header_crc;		/* over the header with this field zero */
	uint32		natts;			/* user attributes; desc natts is commit ids */
	uint32		nkeys;			/* key columns in first/last key */
	uint64		nrows;
	uint32		first_key_off;	/* into the blob area; 0 when no key */
	uint32		last_key_off;
	uint64		total_len;		/* header plus all chunks */
	uint32		block_rows;		/* rows per column block (the last may
								 * have fewer) */
	uint32		block_minmax_off;	/* version 4: into the blob area, the
									 * per-block min/max of the columns
									 * (CowGroupBlockMinMax), or 0; 0 in
									 * version 3 */
	/* CowColumnDesc cols[natts + 1] follow, then the blob area */
} CowGroupHeader;

#define CowGroupColumns(h) \
	((CowColumnDesc *) ((char *) (h) + MAXALIGN(sizeof(CowGroupHeader))))
#define CowGroupBlob(h) \
	((char *) CowGroupColumns(h) + sizeof(CowColumnDesc) * ((h)->natts + 1))

/*
 * The block directory entry of one block of a column chunk.  A block's
 * stored bytes follow those of the blocks before it, after the directory.
 */
typedef struct CowBlockDesc
{
	uint64		stored_len;
	uint64		raw_len;		/* encoded, before zstd */
	uint32		crc;			/* of the stored bytes */
	uint8		encoding;		/* COW_ENC_* */
	uint8		flags;			/* COW_BLK_* */
	uint16		unused;
} CowBlockDesc;

#define COW_BLK_HAS_NULLS		0x01
#define COW_BLK_ALL_NULL		0x02	/* no bytes stored */
#define COW_BLK_UNCOMPRESSED	0x04

/*
 * Per-block min/max (version 4).  At the header's block_minmax_off in the
 * blob area: a uint32 per user column, the offset of that column's list,
 * or 0 when the column has none (no btree ordering, NULL throughout, or a
 * value longer than COW_BLOCK_MINMAX_MAX_BYTES serialized, which would
 * bloat the header every scan reads).  A column's list is a uint32 pair
 * per block, the offsets of the block's serialized min and max, both 0
 * when the block is NULL throughout.  Offsets are into the blob area, not
 * aligned: read them with memcpy.
 */
#define COW_BLOCK_MINMAX_MAX_BYTES	64

/*
 * The row-number map (version 5).  A rewrite gives each row it carries over
 * unchanged the row number it had, so that its index entries stay valid,
 * and new or changed rows fresh numbers from the version's reserved range
 * (first_row_number + position).  The map is a list of runs, each a run of
 * consecutive positions holding consecutive row numbers, sorted by
 * position, and the runs' indexes sorted by row number (the reverse map),
 * stored as three columns -- each run's length (uint32), its row number
 * less the one that would continue the run before it (int64; the first
 * run's, its row number), the reverse map (uint32); positions are the
 * lengths added up -- compressed after the column chunks; a group whose
 * rows all have fresh numbers has no runs (nruns 0).  The absorbed ranges are the
 * reserved ranges (first_row_number, row_count) of the ancestors whose
 * numbers the group carries, so that a lookup by row number finds the
 * versions that may hold it without reading their maps.  The blob area
 * ends with the absorbed ranges, then a CowRowMapInfo.
 */
typedef struct CowRowRun
{
	int64		rownum;			/* of the run's first position */
	uint32		pos;
	uint32		len;
} CowRowRun;

typedef struct CowRowRange
{
	int64		first;
	int64		count;
} CowRowRange;

#define COW_ROW_RUN_STORED	(sizeof(uint32) + sizeof(int64) + sizeof(uint32))

typedef struct CowRowMapInfo
{
	uint32		nruns;			/* 0: every row has a fresh number */
	uint32		nabsorbed;		/* CowRowRange before this struct */
	uint64		runs_offset;	/* from the start of the extent stream */
	uint64		runs_stored_len;
	uint64		runs_raw_len;	/* nruns * COW_ROW_RUN_STORED */
	uint32		runs_crc;		/* of the stored bytes */
	uint32		runs_flags;		/* COW_BLK_UNCOMPRESSED or 0 */
} CowRowMapInfo;

#define CowGroupBlocks(h) \
	((uint32) (((h)->nrows + (h)->block_rows - 1) / (h)->block_rows))

/*
 * Column block encodings (cow_encoding.c).  A raw block is the null bitmap
 * (when the block has NULLs) followed by the values in one of these.
 */
#define COW_ENC_PLAIN			0	/* as in a heap tuple */
#define COW_ENC_INT				1	/* integer-like: frame of reference or delta */
#define COW_ENC_NUMERIC			2	/* numeric as scaled int64 */
#define COW_ENC_DICT			3	/* varlena: dictionary + codes */
#define COW_ENC_VARLENA			4	/* varlena: lengths + bytes */

typedef struct CowEncodedChunk
{
	char	   *data;			/* the raw chunk */
	Size		len;
	int64	   *scaled;			/* NUMERIC: the values as integers at their
								 * one display scale (so in the values'
								 * order), palloc'd; else NULL */
	bool		dict_full;		/* a dictionary was tried and had too many
								 * distinct values */
	Datum	   *distinct;		/* DICT: the distinct values (pointing into
								 * the input), palloc'd; else NULL */
	int64		ndistinct;
	Size		frame_head;		/* VARLENA: where the values' bytes start
								 * (CowCompressBlock's first frame ends
								 * there); else 0 */
} CowEncodedChunk;

extern void CowEncodeChunk(CowColumnDesc *d, const Datum *values, int64 nvals,
						   const bits8 *nulls, int64 nrows, bool try_dict,
						   CowEncodedChunk *out);
extern const char *CowEncodingName(int encoding);
extern bool CowTypeIsIntOrdered(Oid typid);

/* the value of a pass-by-value integer Datum of attlen 1, 2, 4 or 8 */
static inline int64
CowDatumGetInt(Datum d, int attlen)
{
	switch (attlen)
	{
		case 8:
			return DatumGetInt64(d);
		case 4:
			return DatumGetInt32(d);
		case 2:
			return DatumGetInt16(d);
		default:
			return DatumGetChar(d);
	}
}

/*
 * CowIntCompare: does "a op b" hold, op the btree comparison of strategy
 * (BTLessStrategyNumber ... BTGreaterStrategyNumber)?
 */
static inline bool
CowIntCompare(int strategy, int64 a, int64 b)
{
	switch (strategy)
	{
		case BTLessStrategyNumber:
			return a < b;
		case BTLessEqualStrategyNumber:
			return a <= b;
		case BTEqualStrategyNumber:
			return a == b;
		case BTGreaterEqualStrategyNumber:
			return a >= b;
		default:
			return a > b;
	}
}

/*
 * A value block (cow_encoding.c, CowValueBlockBuild): what reading one
 * value of a block needs once the block's headers are read -- its null
 * bitmap, its int block's header, a dictionary's entries -- so that a
 * later read of a value of the block reads only the few raw bytes that
 * hold it (CowValueBlockLocate, CowValueBlockValue), without a raw buffer
 * of the block's size and without reading the headers again.  Flat: one
 * allocation of size bytes, which a cache can copy as it is.  Blocks whose
 * values cannot be read that way have one of kind COW_VALUE_NONE.  Only
 * cow_encoding.c reads the fields below frame_raw (stream_off, frame_first
 * and frame_raw are the reader's, cow_reader.c).
 */
#define COW_VALUE_NONE			0
#define COW_VALUE_INT			1
#define COW_VALUE_NUMERIC		2
#define COW_VALUE_DICT			3
#define COW_VALUE_PLAIN			4	/* fixed length, COW_VALUE_BYTES at most */
#define COW_VALUE_VARLENA		5	/* lengths, bytes: CowValueBlockVarlena */

/* the most raw bytes a value of a value block is built from */
#define COW_VALUE_BYTES			16

/*
 * CowIntDatum: the Datum fetch_att gives for integer v of a by-value type
 * attlen bytes long: what an int block's readers return.
 */
static inline Datum
CowIntDatum(int64 v, int attlen)
{
	return attlen == 8 ? Int64GetDatum(v) :
		attlen == 4 ? Int32GetDatum((int32) v) :
		attlen == 2 ? Int16GetDatum((int16) v) :
		CharGetDatum((char) v);
}

/* a value block is kept only up to this size (a dictionary's entries) */
#define COW_VALUE_BLOCK_MAX		(16 * 1024)

typedef struct CowValueBlock
{
	Size		size;			/* of the whole, what follows included */
	uint8		kind;			/* COW_VALUE_* */
	uint64		stream_off;		/* the reader's: where the block is */
	uint32		frame_first;	/* the reader's: a framed block's frames' */
	uint32		frame_raw;		/* raw sizes (CowFrames), or 0 */
	/* the block's rows and their NULLs */
	uint32		nrows;
	bool		has_nulls;
	uint32		nulls_off;		/* from the start: the null bitmap */
	uint32		ranks_off;		/* uint32 per 64 rows: the NULLs before */
	/* the int block of the values, of a NUMERIC's, or of a DICT's codes */
	bool		delta;			/* delta of width 0, else frame of reference */
	uint8		width;
	int16		attlen;
	bool		attbyval;		/* PLAIN: values are attlen bytes each, */
	uint32		stride;			/* stride apart from packed_off */
	int64		base;
	int64		first;
	uint64		packed_off;		/* raw offset of the packed values */
	uint64		packed_len;
	/* VARLENA: the int block above is the suffix lengths'; these follow */
	int64		prefix_base;	/* the prefix lengths' frame of reference */
	uint8		prefix_width;
	bool		front;			/* some values share a prefix */
	uint64		prefix_off;		/* raw offset of their packed values */
	uint64		prefix_len;
	uint64		src_off;		/* raw offset of the suffix bytes */
	uint64		suffix_bytes;
	uint32		marks_off;		/* uint64 per 64 values: the suffix bytes
								 * before */
	uint32		whole_off;		/* with front: a bit per value stored
								 * whole */
	/* what the values are built with */
	uint32		dscale;			/* NUMERIC */
	uint32		nentries;		/* DICT */
	uint32		entries_off;	/* DICT: uint32 offsets (from the start) of
								 * its entries, varlenas with 4-byte
								 * headers */
	int64		file_group_id;	/* for messages */
	int			colno;
} CowValueBlock;

extern CowValueBlock *CowValueBlockBuild(Relation rel, int64 file_group_id,
										 int colno, const CowColumnDesc *d,
										 const char *raw, CowLazyRaw *lazy,
										 uint64 nrows);
extern void CowValueBlockLocate(const CowValueBlock *vb, uint64 row,
								bool *isnull, uint64 *k, Size *off,
								Size *len);
extern Datum CowValueBlockValue(Relation rel, const CowValueBlock *vb,
								uint64 k, const char *bytes);

/* copies raw bytes [off, off + len) of the block into dst, or says false */
typedef bool (*CowValueFetch) (void *arg, Size off, Size len, char *dst);

extern bool CowValueBlockVarlena(Relation rel, const CowValueBlock *vb,
								 uint64 k, CowValueFetch fetch, void *arg,
								 Datum *value);

extern bool CowDecodeChunk(Relation rel, int64 file_group_id, int colno,
						   const CowColumnDesc *d, const char *raw, uint64 nrows,
						   Datum *values, bool *isnull);
extern bool CowDecodeChunkUnits(Relation rel, int64 file_group_id, int colno,
								const CowColumnDesc *d, const char *raw,
								uint64 nrows, int64 *units, bool *isnull,
								int *dscale);
extern bool CowDecodeValue(Relation rel, int64 file_group_id, int colno,
						   const CowColumnDesc *d, const char *raw,
						   CowLazyRaw *lazy, uint64 nrows, uint64 row,
						   Datum *value, bool *isnull);
extern bool CowDecodeRange(Relation rel, int64 file_group_id, int colno,
						   const CowColumnDesc *d, const char *raw,
						   CowLazyRaw *lazy, uint64 nrows, uint64 from,
						   uint64 to, Datum *values, bool *isnull);

#endif							/* INCETL_COW_FORMAT_H */
