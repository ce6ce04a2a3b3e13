/*-------------------------------------------------------------------------
 *
 * cow_writer.c
 *	  Encode a sorted set of rows as one file group version and write it.
 *
 * A column chunk is the column's null flags (one byte per row, only when
 * the column has NULLs) followed by its non-NULL values laid out as in a
 * heap tuple (typalign padding, varlenas with 4-byte headers, detoasted).
 * Each chunk is zstd-compressed at the table's level and carries a CRC of
 * its stored bytes and the column's min/max under the type's default
 * btree ordering.  The hidden commit-id column records, per row, the
 * commit that wrote that version of the row; incetl.changes() reads it.
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
#include "lib/stringinfo.h"
#include "port/pg_crc32c.h"
#include "utils/datum.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/sortsupport.h"
#include "utils/typcache.h"

#include "cow.h"

typedef struct CowChunk
{
	char	   *data;
	Size		len;
	bool		has_minmax;
	Datum		min;
	Datum		max;
} CowChunk;

/*
 * Column chunks are built row-major: one pass over the rows appends every
 * column's value to that column's buffer, so each row (scattered in memory)
 * is visited once rather than twice per column.  A chunk is its null bytes
 * (when the column has NULLs) padded to MAXALIGN, then the values, each
 * aligned as its type requires relative to the chunk start; the values are
 * gathered apart and the null bytes put in front at the end, which gives
 * the same bytes since the value area starts at a MAXALIGNed offset.
 */
typedef struct CowColEnc
{
	Form_pg_attribute att;
	bool		has_nulls;
	bool		all_null;
	bool		can_minmax;
	SortSupportData ssup;
	char	   *nulls;			/* [nrows]: 1 = NULL */
	StringInfoData vals;
} CowColEnc;

static void CowColEncInit(CowColEnc *e, Form_pg_attribute att, int64 nrows);
static void CowColEncAppend(CowColEnc *e, CowChunk *chunk, Datum value);
static void CowColEncFinish(CowColEnc *e, int64 nrows, int level,
							CowColumnDesc *desc, CowChunk *chunk,
							int64 *raw_total);
static void CowSerializeDatum(StringInfo buf, Datum value, bool byval, int len);

static void
CowColEncInit(CowColEnc *e, Form_pg_attribute att, int64 nrows)
{
	TypeCacheEntry *tc;

	memset(e, 0, sizeof(CowColEnc));
	e->att = att;
	e->all_null = true;
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
	}
	e->nulls = palloc0(Max(nrows, 1));
	initStringInfo(&e->vals);
	enlargeStringInfo(&e->vals,
					  Min((Size) nrows * (att->attlen > 0 ? att->attlen + 4 : 16),
						  (Size) 64 * 1024 * 1024));
}

static void
CowColEncAppend(CowColEnc *e, CowChunk *chunk, Datum value)
{
	Form_pg_attribute att = e->att;
	StringInfo	raw = &e->vals;
	Size		off = raw->len;
	Size		vlen;
	char		align = att->attalign;

	if (att->attlen == -1)
	{
		if (VARATT_IS_EXTERNAL(DatumGetPointer(value)) ||
			VARATT_IS_COMPRESSED(DatumGetPointer(value)))
			value = PointerGetDatum(detoast_attr((struct varlena *) DatumGetPointer(value)));
		if (align == TYPALIGN_CHAR || align == TYPALIGN_SHORT)
			align = TYPALIGN_INT;
		off = att_align_nominal(off, align);
		if (VARATT_IS_SHORT(DatumGetPointer(value)))
		{
			/* stored with a 4-byte header, as detoasting would give */
			Size		dlen = VARSIZE_SHORT(DatumGetPointer(value)) - VARHDRSZ_SHORT;

			vlen = dlen + VARHDRSZ;
			enlargeStringInfo(raw, off + vlen - raw->len);
			memset(raw->data + raw->len, 0, off - raw->len);
			SET_VARSIZE(raw->data + off, vlen);
			memcpy(raw->data + off + VARHDRSZ, VARDATA_SHORT(DatumGetPointer(value)), dlen);
		}
		else
		{
			vlen = VARSIZE(DatumGetPointer(value));
			enlargeStringInfo(raw, off + vlen - raw->len);
			memset(raw->data + raw->len, 0, off - raw->len);
			memcpy(raw->data + off, DatumGetPointer(value), vlen);
		}
	}
	else
	{
		if (att->attlen == -2)
			vlen = strlen(DatumGetCString(value)) + 1;
		else
			vlen = att->attlen;
		off = att_align_nominal(off, align);
		enlargeStringInfo(raw, off + vlen - raw->len);
		memset(raw->data + raw->len, 0, off - raw->len);
		if (att->attbyval)
			store_att_byval(raw->data + off, value, att->attlen);
		else
			memcpy(raw->data + off, DatumGetPointer(value), vlen);
	}
	raw->len = off + vlen;

	if (e->can_minmax)
	{
		if (!chunk->has_minmax)
		{
			chunk->min = chunk->max = value;
			chunk->has_minmax = true;
		}
		else
		{
			if (ApplySortComparator(value, false, chunk->min, false, &e->ssup) < 0)
				chunk->min = value;
			if (ApplySortComparator(value, false, chunk->max, false, &e->ssup) > 0)
				chunk->max = value;
		}
	}
}

/*
 * CowColEncFinish assembles, compresses and describes one column chunk.
 */
static void
CowColEncFinish(CowColEnc *e, int64 nrows, int level, CowColumnDesc *desc,
				CowChunk *chunk, int64 *raw_total)
{
	Form_pg_attribute att = e->att;
	char	   *raw;
	Size		rawlen;
	Size		clen;
	char	   *cdata;

	memset(desc, 0, sizeof(CowColumnDesc));
	desc->typid = att->atttypid;
	desc->attlen = att->attlen;
	desc->attbyval = att->attbyval;
	desc->attalign = att->attalign;
	if (att->attisdropped)
	{
		desc->flags = COW_COL_DROPPED | COW_COL_ALL_NULL;
		return;
	}
	if (e->all_null)
	{
		desc->flags = COW_COL_ALL_NULL | COW_COL_HAS_NULLS;
		chunk->has_minmax = false;
		return;
	}
	if (e->has_nulls)
	{
		Size		voff = MAXALIGN(nrows);

		rawlen = voff + e->vals.len;
		raw = palloc(rawlen);
		memcpy(raw, e->nulls, nrows);
		memset(raw + nrows, 0, voff - nrows);
		memcpy(raw + voff, e->vals.data, e->vals.len);
		pfree(e->vals.data);
		desc->flags |= COW_COL_HAS_NULLS;
	}
	else
	{
		raw = e->vals.data;
		rawlen = e->vals.len;
	}
	pfree(e->nulls);
	if (chunk->has_minmax)
		desc->flags |= COW_COL_HAS_MINMAX;

	desc->raw_len = rawlen;
	*raw_total += rawlen;
	cdata = CowCompress(raw, rawlen, level, &clen);
	if (cdata == NULL)
	{
		desc->flags |= COW_COL_UNCOMPRESSED;
		chunk->data = raw;
		chunk->len = rawlen;
	}
	else
	{
		pfree(raw);
		chunk->data = cdata;
		chunk->len = clen;
	}
	desc->stored_len = chunk->len;
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
 * CowWriteGroup encodes rows (already sorted by the record key, when
 * there is one) as a new file group version with a fresh row-number
 * range, writes its extent and describes it in *out.  The catalog row is
 * the caller's job.
 */
void
CowWriteGroup(Relation rel, TupleDesc tupdesc, const CowOptions *opts,
			  CowRow **rows, int64 nrows, int64 file_group_id,
			  int64 commit_id, CowVersion *out)
{
	int			natts = tupdesc->natts;
	CowColumnDesc *descs = palloc0(sizeof(CowColumnDesc) * (natts + 1));
	CowChunk   *chunks = palloc0(sizeof(CowChunk) * (natts + 1));
	StringInfoData blob;
	CowGroupHeader header;
	int64		raw_total = 0;
	int64	   *cids;
	int64		min_commit = PG_INT64_MAX,
				max_commit = 0;
	Size		header_len,
				total,
				offset;
	char	   *stream;
	int			i;
	int64		r;
	pg_crc32c	crc;
	CowColEnc  *enc;

	Assert(nrows > 0);

	enc = palloc(sizeof(CowColEnc) * Max(natts, 1));
	for (i = 0; i < natts; i++)
		CowColEncInit(&enc[i], TupleDescAttr(tupdesc, i), nrows);
	for (r = 0; r < nrows; r++)
	{
		CowRow	   *row = rows[r];

		for (i = 0; i < natts; i++)
		{
			CowColEnc  *e = &enc[i];

			if (e->att->attisdropped)
				continue;
			if (row->isnull[i])
			{
				e->nulls[r] = 1;
				e->has_nulls = true;
				continue;
			}
			e->all_null = false;
			CowColEncAppend(e, &chunks[i], row->values[i]);
		}
	}
	for (i = 0; i < natts; i++)
		CowColEncFinish(&enc[i], nrows, opts->compression_level, &descs[i],
						&chunks[i], &raw_total);
	pfree(enc);

	/* hidden commit-id column */
	cids = palloc(sizeof(int64) * nrows);
	for (r = 0; r < nrows; r++)
	{
		int64		c = rows[r]->commit_id ? rows[r]->commit_id : commit_id;

		cids[r] = c;
		min_commit = Min(min_commit, c);
		max_commit = Max(max_commit, c);
	}
	descs[natts].raw_len = sizeof(int64) * nrows;
	raw_total += descs[natts].raw_len;
	chunks[natts].data = CowCompress((char *) cids, descs[natts].raw_len,
									 opts->compression_level, &chunks[natts].len);
	if (chunks[natts].data == NULL)
	{
		chunks[natts].data = (char *) cids;
		chunks[natts].len = descs[natts].raw_len;
		descs[natts].flags |= COW_COL_UNCOMPRESSED;
	}
	descs[natts].stored_len = chunks[natts].len;

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
	if (opts->nkeys > 0)
	{
		int64		which[2] = {0, nrows - 1};
		int			w,
					k;

		for (w = 0; w < 2; w++)
		{
			if (w == 0)
				header.first_key_off = blob.len;
			else
				header.last_key_off = blob.len;
			for (k = 0; k < opts->nkeys; k++)
			{
				int			a = opts->key_attnums[k] - 1;
				Form_pg_attribute att = TupleDescAttr(tupdesc, a);

				CowSerializeDatum(&blob, rows[which[w]]->values[a],
								  att->attbyval, att->attlen);
			}
		}
	}

	header_len = MAXALIGN(sizeof(CowGroupHeader)) +
		sizeof(CowColumnDesc) * (natts + 1) + blob.len;
	total = header_len;
	for (i = 0; i <= natts; i++)
	{
		descs[i].offset = total;
		total += chunks[i].len;
		INIT_CRC32C(crc);
		if (chunks[i].len > 0)
			COMP_CRC32C(crc, chunks[i].data, chunks[i].len);
		FIN_CRC32C(crc);
		descs[i].crc = crc;
	}

	header.magic = COW_GROUP_MAGIC;
	header.version = COW_FORMAT_VERSION;
	header.header_len = header_len;
	header.natts = natts;
	header.nkeys = opts->nkeys;
	header.nrows = nrows;
	header.total_len = total;

	stream = palloc0(total);
	memcpy(stream, &header, sizeof(header));
	memcpy(CowGroupColumns(stream), descs, sizeof(CowColumnDesc) * (natts + 1));
	memcpy(CowGroupBlob((CowGroupHeader *) stream), blob.data, blob.len);
	INIT_CRC32C(crc);
	COMP_CRC32C(crc, stream, header_len);
	FIN_CRC32C(crc);
	((CowGroupHeader *) stream)->header_crc = crc;
	offset = header_len;
	for (i = 0; i <= natts; i++)
	{
		if (chunks[i].len > 0)
			memcpy(stream + offset, chunks[i].data, chunks[i].len);
		offset += chunks[i].len;
	}

	memset(out, 0, sizeof(CowVersion));
	out->file_group_id = file_group_id;
	out->commit_id = commit_id;
	out->row_count = nrows;
	out->first_row_number = CowReserveRowNumbers(rel, nrows);
	out->first_block = CowWriteExtent(rel, stream, total, &out->nblocks);
	out->header_bytes = header_len;
	out->bytes = total;
	out->raw_bytes = raw_total;
	out->min_commit = min_commit;
	out->max_commit = max_commit;
}
