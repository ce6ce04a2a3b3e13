/*-------------------------------------------------------------------------
 *
 * cow_reader.c
 *	  Read file group versions: headers, column chunks, whole groups.
 *
 * Decoded values live in the caller's current memory context (in the
 * decompressed chunk for PLAIN chunks, in buffers of their own otherwise,
 * see cow_encoding.c); callers reset a per-file-group context when they
 * move on.  Every chunk's CRC is checked before it is decompressed, and
 * the header's CRC when it is read.
 *
 * Copyright (c) 2026, incetl authors
 *
 * IDENTIFICATION
 *	  src/cow/cow_reader.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/tupmacs.h"
#include "nodes/bitmapset.h"
#include "port/pg_crc32c.h"
#include "utils/datum.h"
#include "utils/rel.h"

#include "cow.h"

static char *CowReadChunk(Relation rel, const CowVersion *v, CowGroupHeader *h,
						  int idx);

/*
 * CowReadGroupHeader reads and checks the header of a version.
 */
CowGroupHeader *
CowReadGroupHeader(Relation rel, const CowVersion *v)
{
	CowGroupHeader *h;
	pg_crc32c	crc,
				stored;

	if (v->header_bytes < MAXALIGN(sizeof(CowGroupHeader)))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("incetl_cow relation \"%s\": file group " INT64_FORMAT " has a bad header length",
						RelationGetRelationName(rel), v->file_group_id)));
	h = palloc(v->header_bytes);
	CowReadExtentBytes(rel, v->first_block, v->nblocks, 0, v->header_bytes,
					   (char *) h);
	stored = h->header_crc;
	h->header_crc = 0;
	INIT_CRC32C(crc);
	COMP_CRC32C(crc, h, v->header_bytes);
	FIN_CRC32C(crc);
	h->header_crc = stored;
	if (h->magic != COW_GROUP_MAGIC || h->version != COW_FORMAT_VERSION ||
		h->header_len != v->header_bytes ||
		h->nrows != (uint64) v->row_count || crc != stored)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("incetl_cow relation \"%s\": file group " INT64_FORMAT " (commit " INT64_FORMAT ", block %u) has a corrupted header",
						RelationGetRelationName(rel), v->file_group_id,
						v->commit_id, v->first_block)));
	return h;
}

/*
 * CowReadChunk returns the raw (decompressed) bytes of column idx.
 */
static char *
CowReadChunk(Relation rel, const CowVersion *v, CowGroupHeader *h, int idx)
{
	CowColumnDesc *d = &CowGroupColumns(h)[idx];
	char	   *stored = palloc(Max(d->stored_len, 1));
	char	   *raw;
	pg_crc32c	crc;

	CowReadExtentBytes(rel, v->first_block, v->nblocks, d->offset,
					   d->stored_len, stored);
	INIT_CRC32C(crc);
	if (d->stored_len > 0)
		COMP_CRC32C(crc, stored, d->stored_len);
	FIN_CRC32C(crc);
	if (crc != d->crc)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("incetl_cow relation \"%s\": checksum mismatch in column %d of file group " INT64_FORMAT " (block %u)",
						RelationGetRelationName(rel), idx + 1,
						v->file_group_id, v->first_block)));
	if (d->flags & COW_COL_UNCOMPRESSED)
	{
		if (d->raw_len != d->stored_len)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("incetl_cow relation \"%s\": column %d of file group " INT64_FORMAT " has inconsistent lengths",
							RelationGetRelationName(rel), idx + 1, v->file_group_id)));
		return stored;
	}
	raw = palloc(Max(d->raw_len, 1));
	CowDecompress(stored, d->stored_len, raw, d->raw_len, rel);
	pfree(stored);
	return raw;
}

/*
 * CowDecodeColumn fills values/isnull[nrows] for 0-based attribute attidx.
 */
void
CowDecodeColumn(Relation rel, const CowVersion *v, CowGroupHeader *h,
				TupleDesc tupdesc, int attidx, Datum *values, bool *isnull)
{
	Form_pg_attribute att = TupleDescAttr(tupdesc, attidx);
	uint64		nrows = h->nrows;
	CowColumnDesc *d;
	char	   *raw;
	uint64		i;

	if (att->attisdropped)
	{
		memset(isnull, true, nrows);
		return;
	}
	if ((uint32) attidx >= h->natts)
	{
		/* column added after this version was written */
		bool		missing_null;
		Datum		missing = getmissingattr(tupdesc, attidx + 1, &missing_null);

		for (i = 0; i < nrows; i++)
		{
			values[i] = missing;
			isnull[i] = missing_null;
		}
		return;
	}
	d = &CowGroupColumns(h)[attidx];
	if (d->flags & (COW_COL_ALL_NULL | COW_COL_DROPPED))
	{
		memset(isnull, true, nrows);
		return;
	}

	/* decode with the layout the chunk was written with */
	raw = CowReadChunk(rel, v, h, attidx);
	if (!CowDecodeChunk(rel, v->file_group_id, attidx + 1, d, raw, nrows,
						values, isnull))
		pfree(raw);
}

/*
 * CowDecodeCommitIds returns the commit id of every row of a version.
 */
int64 *
CowDecodeCommitIds(Relation rel, const CowVersion *v, CowGroupHeader *h)
{
	CowColumnDesc *d = &CowGroupColumns(h)[h->natts];
	uint64		nrows = h->nrows;
	Datum	   *values = palloc(sizeof(Datum) * Max(nrows, 1));
	bool	   *isnull = palloc(sizeof(bool) * Max(nrows, 1));
	char	   *raw;

	if (d->flags & (COW_COL_HAS_NULLS | COW_COL_ALL_NULL | COW_COL_DROPPED) ||
		!d->attbyval || d->attlen != sizeof(int64))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("incetl_cow relation \"%s\": the commit ids of file group " INT64_FORMAT " are corrupted",
						RelationGetRelationName(rel), v->file_group_id)));
	raw = CowReadChunk(rel, v, h, h->natts);
	if (!CowDecodeChunk(rel, v->file_group_id, h->natts + 1, d, raw, nrows,
						values, isnull))
		pfree(raw);
	pfree(isnull);
#if SIZEOF_DATUM == 8
	/* an int8 Datum is the int64 itself */
	return (int64 *) values;
#else
	{
		int64	   *ids = palloc(sizeof(int64) * Max(nrows, 1));
		uint64		i;

		for (i = 0; i < nrows; i++)
			ids[i] = DatumGetInt64(values[i]);
		return ids;
	}
#endif
}

/*
 * CowOpenGroup reads the header of a version and prepares to decode the
 * columns in needed (0-based attribute indexes), or all, on first use.
 * Everything is allocated in the current memory context.
 */
CowDecodedGroup *
CowOpenGroup(Relation rel, const CowVersion *v, bool all, Bitmapset *needed)
{
	CowDecodedGroup *g = palloc0(sizeof(CowDecodedGroup));

	g->rel = rel;
	g->cxt = CurrentMemoryContext;
	g->all = all;
	g->needed = needed;
	g->version = *v;
	g->header = CowReadGroupHeader(rel, v);
	g->natts = RelationGetDescr(rel)->natts;
	g->nrows = g->header->nrows;
	g->decoded = palloc0(sizeof(bool) * Max(g->natts, 1));
	g->unwanted = palloc0(sizeof(bool) * Max(g->natts, 1));
	if (!all)
	{
		int			i;

		for (i = 0; i < g->natts; i++)
			g->unwanted[i] = !bms_is_member(i, needed);
	}
	g->values = palloc0(sizeof(Datum *) * Max(g->natts, 1));
	g->isnull = palloc0(sizeof(bool *) * Max(g->natts, 1));
	return g;
}

/*
 * CowGroupColumn makes column attidx available in g->values/isnull,
 * decompressing it if needed.  Returns false for a column that is not
 * wanted (the caller reads it as NULL).
 */
int64		CowChunksDecoded = 0;

bool
CowGroupColumn(CowDecodedGroup *g, int attidx)
{
	MemoryContext old;

	if (attidx >= g->natts)
		return false;
	if (g->decoded[attidx])
		return true;
	if (!g->all && !bms_is_member(attidx, g->needed))
		return false;
	old = MemoryContextSwitchTo(g->cxt);
	g->values[attidx] = palloc(sizeof(Datum) * Max(g->nrows, 1));
	g->isnull[attidx] = palloc(sizeof(bool) * Max(g->nrows, 1));
	CowDecodeColumn(g->rel, &g->version, g->header, RelationGetDescr(g->rel),
					attidx, g->values[attidx], g->isnull[attidx]);
	g->decoded[attidx] = true;
	CowChunksDecoded++;
	MemoryContextSwitchTo(old);
	return true;
}

/*
 * CowDecodeGroup decodes all columns of a version, or those in needed,
 * at once, and its commit ids when asked.
 */
CowDecodedGroup *
CowDecodeGroup(Relation rel, const CowVersion *v, bool all, Bitmapset *needed,
			   bool commit_ids)
{
	CowDecodedGroup *g = CowOpenGroup(rel, v, all, needed);
	int			i;

	for (i = 0; i < g->natts; i++)
		(void) CowGroupColumn(g, i);
	if (commit_ids)
		g->commit_ids = CowDecodeCommitIds(rel, v, g->header);
	return g;
}

/*
 * CowGroupKeyBounds restores the first and last record key of a version
 * (nkeys datums each).
 */
void
CowGroupKeyBounds(CowGroupHeader *h, Datum *first, Datum *last)
{
	char	   *p;
	uint32		k;
	bool		isnull;

	if (h->nkeys == 0)
		return;
	p = CowGroupBlob(h) + h->first_key_off;
	for (k = 0; k < h->nkeys; k++)
		first[k] = datumRestore(&p, &isnull);
	p = CowGroupBlob(h) + h->last_key_off;
	for (k = 0; k < h->nkeys; k++)
		last[k] = datumRestore(&p, &isnull);
}

void
CowGroupMinMax(CowGroupHeader *h, int attidx, Datum *min, Datum *max)
{
	CowColumnDesc *d = &CowGroupColumns(h)[attidx];
	char	   *p;
	bool		isnull;

	Assert(d->flags & COW_COL_HAS_MINMAX);
	p = CowGroupBlob(h) + d->min_off;
	*min = datumRestore(&p, &isnull);
	p = CowGroupBlob(h) + d->max_off;
	*max = datumRestore(&p, &isnull);
}
