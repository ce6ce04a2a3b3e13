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
#include "access/xlog.h"
#include "catalog/pg_type_d.h"
#include "nodes/bitmapset.h"
#include "port/pg_crc32c.h"
#include "utils/datum.h"
#include "utils/inval.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "cow/read.h"
#include "cow/read_cache.h"

static void CowBlockCorrupt(Relation rel, const CowVersion *v, int idx,
							const char *what) pg_attribute_noreturn();
static CowBlockDesc *CowCheckBlockDir(Relation rel, const CowVersion *v,
									  CowGroupHeader *h, int idx,
									  const char *dir);
static CowBlockDesc *CowReadBlockDir(Relation rel, const CowVersion *v,
									 CowGroupHeader *h, int idx,
									 struct CowMetaShare *share);
static bool CowDecodeBlock(Relation rel, const CowVersion *v, CowGroupHeader *h,
						   int idx, const CowBlockDesc *bd, uint32 b,
						   char *stored, Datum *values, bool *isnull);
static void CowDecodeChunkBlocks(Relation rel, const CowVersion *v,
								 CowGroupHeader *h, int idx, Datum *values,
								 bool *isnull);
static bool CowColumnIsStored(CowDecodedGroup *g, int attidx);
static bool CowGroupBlockMinMaxValid(CowGroupHeader *h);
static char *CowGroupBlockRaw(CowDecodedGroup *g, int attidx, uint32 b,
							  CowColumnDesc *d, CowLazyRaw **lazyp);
static void CowGroupFetchFrame(CowLazyRaw *lazy, uint32 frame, Size off,
							   Size len);
static char *CowGroupFramedRaw(CowDecodedGroup *g, int attidx, uint32 b,
							   uint64 off, CowLazyRaw **lazyp);
static void CowGroupDecodeBlock(CowDecodedGroup *g, int attidx, uint32 b);

/* the length of the blob area of a header that passed its CRC check */
static inline uint64
CowGroupBlobLen(CowGroupHeader *h)
{
	uint64		fixed = MAXALIGN(sizeof(CowGroupHeader)) +
		sizeof(CowColumnDesc) * ((uint64) h->natts + 1);

	return h->header_len > fixed ? h->header_len - fixed : 0;
}

/*
 * CowGroupBlockMinMaxValid checks the per-block min/max table of a header
 * (format 4) lies in its blob area, and that a version 3 header has none.
 * The lists and values it points to are checked when read
 * (CowGroupBlockMinMaxList, CowGroupBlockMinMax).
 */
static bool
CowGroupBlockMinMaxValid(CowGroupHeader *h)
{
	if (h->block_minmax_off == 0)
		return true;
	if (h->version < 4)
		return false;
	return (uint64) h->block_minmax_off + sizeof(uint32) * (uint64) h->natts <=
		CowGroupBlobLen(h);
}

/*
 * CowGroupRowMapInfo finds the row-number map's description at the end of
 * a version 5 header's blob area; false when it is not there or does not
 * fit (a corrupted header).  *absorbed points at the absorbed ranges (not
 * aligned: read them with memcpy).
 */
bool
CowGroupRowMapInfo(CowGroupHeader *h, CowRowMapInfo *info,
				   const char **absorbed)
{
	uint64		fixed = MAXALIGN(sizeof(CowGroupHeader)) +
		sizeof(CowColumnDesc) * ((uint64) h->natts + 1);
	uint64		at;

	if (h->version < 5 || h->header_len < fixed + 1 + sizeof(CowRowMapInfo))
		return false;
	at = h->header_len - sizeof(CowRowMapInfo);
	memcpy(info, (char *) h + at, sizeof(CowRowMapInfo));
	if ((uint64) info->nabsorbed * sizeof(CowRowRange) > at - fixed - 1)
		return false;
	if (info->nruns > h->nrows ||
		info->runs_raw_len != (uint64) info->nruns * COW_ROW_RUN_STORED ||
		(info->nruns == 0) != (info->runs_stored_len == 0) ||
		(info->nruns > 0 &&
		 (info->runs_offset < h->header_len ||
		  info->runs_offset + info->runs_stored_len > h->total_len)))
		return false;
	if (absorbed != NULL)
		*absorbed = (char *) h + at - sizeof(CowRowRange) * info->nabsorbed;
	return true;
}

/* a version 5 header has its row-number map's description (cow_rowmap.c) */
static bool
CowGroupRowMapValid(CowGroupHeader *h)
{
	CowRowMapInfo info;

	return h->version < 5 || CowGroupRowMapInfo(h, &info, NULL);
}

/*
 * A version's header and block directories never change (a write makes a
 * new version, with a new reserved range of row numbers), so a backend keeps the last ones it
 * read and checked: a point lookup would otherwise read and check the
 * header and one directory per column at every statement.  The key names
 * one version for good: relation, file (relfilenode), first row number
 * (row numbers are never reused in a storage), commit and file group id,
 * extent.  A relcache invalidation of the relation (DROP, TRUNCATE,
 * rewrites) forgets its entries, so a relfilenode reused by a later table
 * never finds them.  At most COW_META_CACHE_SIZE versions, replaced in
 * turn; callers get copies in their own memory context.
 */
#define COW_META_CACHE_SIZE		64

typedef struct CowMetaCacheEntry
{
	bool		valid;
	Oid			relid;
	CowVersionName version;
	uint32		header_bytes;
	struct CowMetaShare *share; /* header and directories */
} CowMetaCacheEntry;

/*
 * A cached version's checked header and block directories
 * ([header->natts + 1], each read when first asked for, or NULL), with
 * one reference held by the cache entry (or, once the entry is gone while
 * headers are pinned, by CowMetaCacheLent) and one by each group that
 * borrows them (CowOpenGroupBorrowed): freed when the last goes, so that
 * what a group borrowed outlives its entry, and only it does.
 */
typedef struct CowMetaShare
{
	int			refs;
	CowGroupHeader *header;
	CowBlockDesc **dirs;
} CowMetaShare;

static CowMetaCacheEntry CowMetaCache[COW_META_CACHE_SIZE];
static int	CowMetaCacheNext = 0;
static int	CowMetaCacheLastHit = 0;	/* where the last lookup found it */
static MemoryContext CowMetaCacheCxt = NULL;

/*
 * Headers lent out (CowGroupHeaderPin) while CowMetaCachePins > 0 are not
 * freed when their entry goes: the entry's reference to them waits in
 * CowMetaCacheLent, in CowMetaCacheCxt, until the last pin is released.
 */
static int	CowMetaCachePins = 0;
static List *CowMetaCacheLent = NIL;

/* CowMetaShareRelease drops a reference to s, freeing it with the last */
static void
CowMetaShareRelease(CowMetaShare *s)
{
	uint32		i;

	Assert(s->refs > 0);
	if (--s->refs > 0)
		return;
	for (i = 0; i <= s->header->natts; i++)
		if (s->dirs[i] != NULL)
			pfree(s->dirs[i]);
	pfree(s->dirs);
	pfree(s->header);
	pfree(s);
}

static void
CowMetaCacheFree(CowMetaCacheEntry *e)
{
	if (!e->valid)
		return;
	if (CowMetaCachePins > 0)
	{
		MemoryContext old = MemoryContextSwitchTo(CowMetaCacheCxt);

		CowMetaCacheLent = lappend(CowMetaCacheLent, e->share);
		MemoryContextSwitchTo(old);
	}
	else
		CowMetaShareRelease(e->share);
	e->share = NULL;
	e->valid = false;
}

static void
CowMetaCacheInvalidate(Datum arg, Oid relid)
{
	int			i;

	for (i = 0; i < COW_META_CACHE_SIZE; i++)
		if (CowMetaCache[i].valid &&
			(relid == InvalidOid || CowMetaCache[i].relid == relid))
			CowMetaCacheFree(&CowMetaCache[i]);
}

/*
 * CowMetaCacheFind looks from the entry last found on: the columns of one
 * version read one after the other (a lookup's row: a block directory
 * each) find it first, and a scan reading versions in the order it cached
 * them finds the next one second.
 */
static CowMetaCacheEntry *
CowMetaCacheFind(Relation rel, const CowVersion *v)
{
	int			n;
	int			i = CowMetaCacheLastHit;

	for (n = 0; n < COW_META_CACHE_SIZE; n++)
	{
		CowMetaCacheEntry *e = &CowMetaCache[i];

		if (e->valid && CowVersionNameIs(&e->version, rel->rd_node, v) &&
			e->relid == RelationGetRelid(rel) &&
			e->header_bytes == v->header_bytes)
		{
			CowMetaCacheLastHit = i;
			return e;
		}
		if (++i == COW_META_CACHE_SIZE)
			i = 0;
	}
	return NULL;
}

/* CowMetaCacheAdd keeps a copy of the checked header h of version v */
static void
CowMetaCacheAdd(Relation rel, const CowVersion *v, const CowGroupHeader *h)
{
	CowMetaCacheEntry *e;

	if (CowMetaCacheCxt == NULL)
	{
		CowMetaCacheCxt = AllocSetContextCreate(TopMemoryContext,
												"incetl cow version headers",
												ALLOCSET_DEFAULT_SIZES);
		CacheRegisterRelcacheCallback(CowMetaCacheInvalidate, (Datum) 0);
	}
	e = &CowMetaCache[CowMetaCacheNext];
	CowMetaCacheNext = (CowMetaCacheNext + 1) % COW_META_CACHE_SIZE;
	CowMetaCacheFree(e);
	e->share = MemoryContextAlloc(CowMetaCacheCxt, sizeof(CowMetaShare));
	e->share->refs = 1;
	e->share->header = MemoryContextAlloc(CowMetaCacheCxt, v->header_bytes);
	memcpy(e->share->header, h, v->header_bytes);
	e->share->dirs = MemoryContextAllocZero(CowMetaCacheCxt,
											sizeof(CowBlockDesc *) * (h->natts + 1));
	e->relid = RelationGetRelid(rel);
	CowVersionNameSet(&e->version, rel->rd_node, v);
	e->header_bytes = v->header_bytes;
	e->valid = true;
}

/*
 * CowReadGroupHeader reads and checks the header of a version, of any
 * format version this build reads (COW_GROUP_VERSION_MIN on), or copies it
 * from the backend's cache of them, in the current memory context.
 */
CowGroupHeader *
CowReadGroupHeader(Relation rel, const CowVersion *v)
{
	return CowReadGroupHeaderExt(rel, v, true);
}

/*
 * CowReadGroupHeaderExt is CowReadGroupHeader; with keep false, a header
 * read from the relation is not added to the backend's cache (a write
 * looking at the key bounds of every version, each once: a load of a
 * hundred file groups would otherwise fill the cache with the headers of
 * the groups it wrote, half a megabyte of the backend's memory).
 */
CowGroupHeader *
CowReadGroupHeaderExt(Relation rel, const CowVersion *v, bool keep)
{
	CowMetaCacheEntry *e = CowMetaCacheFind(rel, v);
	CowGroupHeader *h;
	pg_crc32c	crc,
				stored;

	if (e != NULL)
	{
		h = palloc(v->header_bytes);
		memcpy(h, e->share->header, v->header_bytes);
		return h;
	}

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

	/*
	 * An intact header of a format this build does not know was written by
	 * another build of incetl (a newer one, after a downgrade): say so
	 * rather than call it corrupted.
	 */
	if (h->magic == COW_GROUP_MAGIC && crc == stored &&
		(h->version < COW_GROUP_VERSION_MIN || h->version > COW_GROUP_VERSION))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("incetl_cow relation \"%s\": file group " INT64_FORMAT " (commit " INT64_FORMAT ") is in file group format %u, which this build of incetl cannot read",
						RelationGetRelationName(rel), v->file_group_id,
						v->commit_id, h->version),
				 errdetail("This build reads file group formats %d to %d.",
						   COW_GROUP_VERSION_MIN, COW_GROUP_VERSION),
				 errhint("Install the build of incetl that wrote the table, or a newer one.")));
	if (h->magic != COW_GROUP_MAGIC ||
		h->header_len != v->header_bytes ||
		h->block_rows == 0 || h->block_rows % 8 != 0 ||
		h->nrows != (uint64) v->row_count || crc != stored ||
		!CowGroupBlockMinMaxValid(h) || !CowGroupRowMapValid(h))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("incetl_cow relation \"%s\": file group " INT64_FORMAT " (commit " INT64_FORMAT ", block %u) has a corrupted header",
						RelationGetRelationName(rel), v->file_group_id,
						v->commit_id, v->first_block)));
	if (keep)
		CowMetaCacheAdd(rel, v, h);
	return h;
}

/*
 * CowMetaCacheEntryFor: the cache entry of version v, its header read (and
 * checked, and cached) first when the cache does not hold it.
 */
static CowMetaCacheEntry *
CowMetaCacheEntryFor(Relation rel, const CowVersion *v)
{
	CowMetaCacheEntry *e = CowMetaCacheFind(rel, v);

	if (e == NULL)
	{
		(void) CowReadGroupHeader(rel, v);
		e = CowMetaCacheFind(rel, v);
		if (e == NULL)
			elog(ERROR, "incetl_cow: file group header not cached after reading it");
	}
	return e;
}

/*
 * CowGroupHeaderPin returns the checked header of version v as the
 * backend's cache holds it, without the copy CowReadGroupHeader makes (a
 * scan with quals looks at the min/max of every version's header, and
 * most are ruled out): read only, and valid until CowGroupHeaderUnpin,
 * which the caller must call, on error too (PG_FINALLY).  Entries that
 * leave the cache meanwhile keep their header until then.
 */
const CowGroupHeader *
CowGroupHeaderPin(Relation rel, const CowVersion *v)
{
	CowMetaCacheEntry *e = CowMetaCacheEntryFor(rel, v);

	CowMetaCachePins++;
	return e->share->header;
}

void
CowGroupHeaderUnpin(void)
{
	Assert(CowMetaCachePins > 0);
	if (--CowMetaCachePins == 0 && CowMetaCacheLent != NIL)
	{
		ListCell   *lc;

		foreach(lc, CowMetaCacheLent)
			CowMetaShareRelease((CowMetaShare *) lfirst(lc));
		list_free(CowMetaCacheLent);
		CowMetaCacheLent = NIL;
	}
}

static void
CowBlockCorrupt(Relation rel, const CowVersion *v, int idx, const char *what)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATA_CORRUPTED),
			 errmsg("incetl_cow relation \"%s\": column %d of file group " INT64_FORMAT " (block %u) is corrupted: %s",
					RelationGetRelationName(rel), idx + 1, v->file_group_id,
					v->first_block, what)));
}

/*
 * CowCheckBlockDir checks the block directory of column idx (dir, the
 * first bytes of its stored chunk) against the chunk's CRC and lengths and
 * returns a copy of it.
 */
static CowBlockDesc *
CowCheckBlockDir(Relation rel, const CowVersion *v, CowGroupHeader *h, int idx,
				 const char *dir)
{
	CowColumnDesc *d = &CowGroupColumns(h)[idx];
	uint32		nblocks = CowGroupBlocks(h);
	Size		dir_len = sizeof(CowBlockDesc) * nblocks;
	CowBlockDesc *bd;
	uint64		stored = dir_len,
				raw = 0;
	pg_crc32c	crc;
	uint32		b;

	INIT_CRC32C(crc);
	COMP_CRC32C(crc, dir, dir_len);
	FIN_CRC32C(crc);
	if (crc != d->crc)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("incetl_cow relation \"%s\": checksum mismatch in column %d of file group " INT64_FORMAT " (block %u)",
						RelationGetRelationName(rel), idx + 1,
						v->file_group_id, v->first_block)));
	bd = palloc(dir_len);
	memcpy(bd, dir, dir_len);
	for (b = 0; b < nblocks; b++)
	{
		if ((bd[b].flags & COW_BLK_UNCOMPRESSED) &&
			bd[b].raw_len != bd[b].stored_len)
			CowBlockCorrupt(rel, v, idx, "inconsistent block lengths");
		if ((bd[b].flags & COW_BLK_ALL_NULL) && bd[b].stored_len != 0)
			CowBlockCorrupt(rel, v, idx, "inconsistent block lengths");
		if ((bd[b].flags & COW_BLK_HAS_NULLS) && !(d->flags & COW_COL_HAS_NULLS))
			CowBlockCorrupt(rel, v, idx, "a block has NULLs, its column none");
		stored += bd[b].stored_len;
		raw += bd[b].raw_len;
	}
	if (stored != d->stored_len || raw != d->raw_len)
		CowBlockCorrupt(rel, v, idx, "block lengths do not add up");
	return bd;
}

/*
 * CowReadBlockDir reads and checks the block directory of column idx (or
 * copies it from the backend's cache), in the current memory context.
 * With share (a group's borrowed header and directories, h its header:
 * CowOpenGroupBorrowed), the directory is kept there and returned itself,
 * read only.
 */
static CowBlockDesc *
CowReadBlockDir(Relation rel, const CowVersion *v, CowGroupHeader *h, int idx,
				CowMetaShare *share)
{
	CowColumnDesc *d = &CowGroupColumns(h)[idx];
	Size		dir_len = sizeof(CowBlockDesc) * CowGroupBlocks(h);
	CowMetaCacheEntry *e = share ? NULL : CowMetaCacheFind(rel, v);
	CowBlockDesc **cached = NULL;
	char	   *dir;
	CowBlockDesc *bd;

	Assert(share == NULL || share->header == h);
	if (share != NULL)
		cached = share->dirs;
	else if (e != NULL)
		cached = e->share->dirs;
	if (cached != NULL && (uint32) idx <= h->natts && cached[idx] != NULL)
	{
		if (share != NULL)
			return cached[idx];
		bd = palloc(dir_len);
		memcpy(bd, cached[idx], dir_len);
		return bd;
	}
	if (d->stored_len < dir_len)
		CowBlockCorrupt(rel, v, idx, "chunk is shorter than its block directory");
	dir = palloc(dir_len);
	CowReadExtentBytes(rel, v->first_block, v->nblocks, d->offset, dir_len, dir);
	bd = CowCheckBlockDir(rel, v, h, idx, dir);
	pfree(dir);
	if (cached != NULL && (uint32) idx <= h->natts)
	{
		cached[idx] = MemoryContextAlloc(CowMetaCacheCxt, dir_len);
		memcpy(cached[idx], bd, dir_len);
		if (share != NULL)
		{
			pfree(bd);
			return cached[idx];
		}
	}
	return bd;
}

/*
 * CowDecodeBlock decodes block b (directory entry bd) of column idx from
 * its stored bytes into values/isnull, which start at the block's first
 * row.  Returns true when the values point into stored, which must then
 * live as long as they do.
 */
static bool
CowDecodeBlock(Relation rel, const CowVersion *v, CowGroupHeader *h, int idx,
			   const CowBlockDesc *bd, uint32 b, char *stored, Datum *values,
			   bool *isnull)
{
	CowColumnDesc d = CowGroupColumns(h)[idx];
	uint64		brows = Min((uint64) h->block_rows, h->nrows - (uint64) b * h->block_rows);
	char	   *raw;
	pg_crc32c	crc;

	if (bd->flags & COW_BLK_ALL_NULL)
	{
		memset(isnull, true, brows);
		return false;
	}
	INIT_CRC32C(crc);
	COMP_CRC32C(crc, stored, bd->stored_len);
	FIN_CRC32C(crc);
	if (crc != bd->crc)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("incetl_cow relation \"%s\": checksum mismatch in block %u of column %d of file group " INT64_FORMAT " (block %u)",
						RelationGetRelationName(rel), b, idx + 1,
						v->file_group_id, v->first_block)));

	/* the block is decoded as a chunk of its own rows */
	d.flags = (bd->flags & COW_BLK_HAS_NULLS) ? COW_COL_HAS_NULLS : 0;
	d.encoding = bd->encoding;
	d.raw_len = bd->raw_len;
	CowBlocksDecoded++;
	if (bd->flags & COW_BLK_UNCOMPRESSED)
		return CowDecodeChunk(rel, v->file_group_id, idx + 1, &d, stored, brows,
							  values, isnull);
	raw = palloc(Max(bd->raw_len, 1));
	CowDecompress(stored, bd->stored_len, raw, bd->raw_len, rel);
	if (!CowDecodeChunk(rel, v->file_group_id, idx + 1, &d, raw, brows,
						values, isnull))
		pfree(raw);
	return false;
}

/*
 * CowDecodeChunkBlocks decodes every block of the stored chunk idx into
 * values/isnull[nrows], reading the chunk in one go.
 */
static void
CowDecodeChunkBlocks(Relation rel, const CowVersion *v, CowGroupHeader *h,
					 int idx, Datum *values, bool *isnull)
{
	CowColumnDesc *d = &CowGroupColumns(h)[idx];
	uint32		nblocks = CowGroupBlocks(h);
	Size		dir_len = sizeof(CowBlockDesc) * nblocks;
	char	   *stored;
	CowBlockDesc *bd;
	uint64		off = dir_len;
	bool		keep = false;
	uint32		b;

	if (d->stored_len < dir_len)
		CowBlockCorrupt(rel, v, idx, "chunk is shorter than its block directory");
	stored = MemoryContextAllocHuge(CurrentMemoryContext, Max(d->stored_len, 1));
	CowReadExtentBytes(rel, v->first_block, v->nblocks, d->offset,
					   d->stored_len, stored);
	bd = CowCheckBlockDir(rel, v, h, idx, stored);
	for (b = 0; b < nblocks; b++)
	{
		uint64		r0 = (uint64) b * h->block_rows;

		if (CowDecodeBlock(rel, v, h, idx, &bd[b], b, stored + off,
						   values + r0, isnull + r0))
			keep = true;
		off += bd[b].stored_len;
	}
	pfree(bd);
	if (!keep)
		pfree(stored);
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
	CowDecodeChunkBlocks(rel, v, h, attidx, values, isnull);
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

	if (d->flags & (COW_COL_HAS_NULLS | COW_COL_ALL_NULL | COW_COL_DROPPED) ||
		!d->attbyval || d->attlen != sizeof(int64))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("incetl_cow relation \"%s\": the commit ids of file group " INT64_FORMAT " are corrupted",
						RelationGetRelationName(rel), v->file_group_id)));
	CowDecodeChunkBlocks(rel, v, h, h->natts, values, isnull);
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
	return CowOpenGroupHeader(rel, v, NULL, all, needed);
}

/*
 * CowOpenGroupHeader is CowOpenGroup for a caller that has read the
 * version's header already (CowReadGroupHeader, in the current memory
 * context), which the group then uses: a scan checking min/max first
 * copies the header once, not twice.  With h NULL it is read here.
 */
CowDecodedGroup *
CowOpenGroupHeader(Relation rel, const CowVersion *v, CowGroupHeader *h,
				   bool all, Bitmapset *needed)
{
	CowDecodedGroup *g = palloc0(sizeof(CowDecodedGroup));
	Size		n;
	char	   *cols;

	g->rel = rel;
	g->cxt = CurrentMemoryContext;
	g->all = all;
	g->needed = needed;
	g->version = *v;
	g->header = h != NULL ? h : CowReadGroupHeader(rel, v);
	g->natts = RelationGetDescr(rel)->natts;
	g->nrows = g->header->nrows;
	g->nblocks = CowGroupBlocks(g->header);

	/*
	 * The per-column arrays in one allocation (a point lookup opens a group
	 * per statement): none is freed or grown alone.
	 */
	n = Max(g->natts, 1);
	cols = palloc0(MAXALIGN(sizeof(Datum *) * n) +
				   MAXALIGN(sizeof(bool *) * n) * 2 +
				   MAXALIGN(sizeof(CowBlockDesc *) * n) +
				   MAXALIGN(sizeof(CowDirectRows) * n) +
				   MAXALIGN(sizeof(uint32) * n) +
				   MAXALIGN(sizeof(bool) * n) * 2);
	g->values = (Datum **) cols;
	cols += MAXALIGN(sizeof(Datum *) * n);
	g->isnull = (bool **) cols;
	cols += MAXALIGN(sizeof(bool *) * n);
	g->block_done = (bool **) cols;
	cols += MAXALIGN(sizeof(bool *) * n);
	g->block_dirs = (CowBlockDesc **) cols;
	cols += MAXALIGN(sizeof(CowBlockDesc *) * n);
	g->direct = (CowDirectRows *) cols;
	cols += MAXALIGN(sizeof(CowDirectRows) * n);
	g->blocks_left = (uint32 *) cols;
	cols += MAXALIGN(sizeof(uint32) * n);
	g->decoded = (bool *) cols;
	cols += MAXALIGN(sizeof(bool) * n);
	g->unwanted = (bool *) cols;
	if (!all)
	{
		int			i;

		for (i = 0; i < g->natts; i++)
			g->unwanted[i] = !bms_is_member(i, needed);
	}
	return g;
}

/* the reset callback of a borrowing group's memory context */
static void
CowGroupReturnCallback(void *arg)
{
	CowMetaShareRelease((CowMetaShare *) arg);
}

/*
 * CowOpenGroupBorrowed is CowOpenGroup for a group that reads a few rows
 * (an index fetch opens one per statement): its header and block
 * directories are those the backend's cache holds, read only, not copies
 * of them -- the header alone is 7 kB at 100,000-row file groups, its
 * per-block min/max.  It holds a reference to them until the current
 * memory context, where the group lives, is reset or deleted (an error's
 * cleanup too): if their cache entry goes meanwhile, they stay until
 * then, and only they.
 */
CowDecodedGroup *
CowOpenGroupBorrowed(Relation rel, const CowVersion *v, bool all,
					 Bitmapset *needed)
{
	MemoryContextCallback *cb = palloc(sizeof(MemoryContextCallback));
	CowMetaCacheEntry *e = CowMetaCacheEntryFor(rel, v);
	CowDecodedGroup *g;

	e->share->refs++;
	cb->func = CowGroupReturnCallback;
	cb->arg = e->share;
	MemoryContextRegisterResetCallback(CurrentMemoryContext, cb);
	g = CowOpenGroupHeader(rel, v, e->share->header, all, needed);
	g->borrowed = e->share;
	return g;
}

/*
 * CowColumnIsStored says whether attribute attidx has a chunk of its own
 * in g (rather than reading as NULL or as its missing value throughout).
 */
static bool
CowColumnIsStored(CowDecodedGroup *g, int attidx)
{
	return (!TupleDescAttr(RelationGetDescr(g->rel), attidx)->attisdropped ||
			(g->read_dropped != NULL && g->read_dropped[attidx])) &&
		(uint32) attidx < g->header->natts &&
		!(CowGroupColumns(g->header)[attidx].flags &
		  (COW_COL_ALL_NULL | COW_COL_DROPPED));
}

/*
 * CowGroupReadDropped: before column attidx of g is read into a slot with
 * descriptor desc.  When desc still has the column and the relation has
 * dropped it -- ALTER TABLE rewriting the table with the column dropped in
 * the same command, whose USING expressions read it from the old rows --
 * its chunks are decoded as any other's (else it would read as NULL).
 */
void
CowGroupReadDropped(CowDecodedGroup *g, TupleDesc desc, int attidx)
{
	if (attidx >= g->natts || TupleDescAttr(desc, attidx)->attisdropped ||
		!TupleDescAttr(RelationGetDescr(g->rel), attidx)->attisdropped)
		return;
	if (g->read_dropped == NULL)
		g->read_dropped = MemoryContextAllocZero(g->cxt,
												 sizeof(bool) * Max(g->natts, 1));
	g->read_dropped[attidx] = true;
}

/*
 * CowGroupColumn makes column attidx available in g->values/isnull,
 * decompressing it if needed.  Returns false for a column that is not
 * wanted (the caller reads it as NULL).
 */
int64		CowChunksDecoded = 0;
int64		CowChunksByBlock = 0;
int64		CowBlocksDecoded = 0;

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
	if (g->block_done[attidx] != NULL)
	{
		uint32		b;

		/*
		 * some blocks were decoded for single rows: add the others (the
		 * last one makes the column decoded)
		 */
		for (b = 0; b < g->nblocks; b++)
			if (!g->block_done[attidx][b])
				CowGroupDecodeBlock(g, attidx, b);
		MemoryContextSwitchTo(old);
		return true;
	}
	else
	{
		g->values[attidx] = palloc(sizeof(Datum) * Max(g->nrows, 1));
		g->isnull[attidx] = palloc(sizeof(bool) * Max(g->nrows, 1));
		if (g->read_dropped != NULL && g->read_dropped[attidx] &&
			CowColumnIsStored(g, attidx))
			CowDecodeChunkBlocks(g->rel, &g->version, g->header, attidx,
								 g->values[attidx], g->isnull[attidx]);
		else
			CowDecodeColumn(g->rel, &g->version, g->header,
							RelationGetDescr(g->rel), attidx,
							g->values[attidx], g->isnull[attidx]);
	}
	g->decoded[attidx] = true;
	CowChunksDecoded++;
	MemoryContextSwitchTo(old);
	return true;
}

/* a framed block read frame by frame: what CowGroupFetchFrame needs */
typedef struct CowGroupFrames
{
	CowLazyRaw	lazy;			/* first: the decoder's handle */
	CowDecodedGroup *g;
	uint64		block_off;		/* of the block in the extent stream */
	char	   *raw;
	CowFrames	frames;			/* zero for an uncompressed block */
	bool	   *asked;			/* [frames.nframes]: a frame asked for before
								 * (CowGroupFetchFrame) */
	/* an uncompressed block read piece by piece (CowGroupPagedRaw) */
	bool		paged;
	Size		len;			/* its bytes */
	pg_crc32c	crc;			/* its CRC, from the block directory */
	int			attidx;
	uint32		blockno;
} CowGroupFrames;

/*
 * An uncompressed block of at least COW_PAGED_MIN bytes (bit-packed
 * integers zstd does not shrink) is read by a single-value reader in
 * pieces of COW_PAGED_PIECE bytes: see CowGroupPagedRaw.
 */
#define COW_PAGED_PIECE			512
#define COW_PAGED_MIN			(4 * COW_PAGED_PIECE)

/*
 * CowGroupKeepMarks keeps the length marks the decoder made for a block
 * read one value at a time (CowLazyRaw, cow/format.h): with the block's
 * handle, in the group's memory, and in the backend's read cache for the
 * next statement reading it.
 */
static void
CowGroupKeepMarks(CowLazyRaw *lazy, const uint64 *marks, uint32 nmarks,
				  Size at)
{
	CowGroupFrames *st = (CowGroupFrames *) lazy->arg;
	uint64	   *copy = MemoryContextAlloc(st->g->cxt, sizeof(uint64) * nmarks);

	memcpy(copy, marks, sizeof(uint64) * nmarks);
	if (lazy->marks != NULL)
		pfree(lazy->marks);
	lazy->marks = copy;
	lazy->nmarks = nmarks;
	lazy->marks_at = at;
	CowReadCachePutMarks(st->g->rel, &st->g->version, st->attidx, st->blockno,
						 marks, nmarks, at);
}

/*
 * CowGroupLazyInit sets the parts of a block's handle common to both kinds
 * (frames, pieces), with the length marks the read cache has of it.
 */
static void
CowGroupLazyInit(CowGroupFrames *st, uint32 nframes, uint32 first_raw,
				 uint32 frame_raw,
				 void (*fetch) (CowLazyRaw *lazy, uint32 frame, Size off,
								Size len))
{
	st->lazy.nframes = nframes;
	st->lazy.first_raw = first_raw;
	st->lazy.frame_raw = frame_raw;
	st->lazy.done = palloc0(sizeof(bool) * Max(nframes, 1));
	st->lazy.fetch = fetch;
	st->lazy.arg = st;
	st->lazy.keep_marks = CowGroupKeepMarks;
	st->lazy.marks = CowReadCacheGetMarks(st->g->rel, &st->g->version,
										  st->attidx, st->blockno,
										  &st->lazy.nmarks,
										  &st->lazy.marks_at);
}

/*
 * CowGroupLazyClobber: in assertion-enabled builds, fills the raw bytes of
 * a block read frame by frame or piece by piece with a pattern before any
 * is fetched, so that a decoder reading a byte it did not ask for
 * (CowChunkEnsure) decodes garbage the tests see, not the bytes an earlier
 * buffer happened to leave there.
 */
static inline void
CowGroupLazyClobber(char *raw, Size len)
{
#ifdef USE_ASSERT_CHECKING
	memset(raw, 0x7F, len);
#endif
}

/*
 * CowGroupLazyPart: the part [*from, *to) of the raw bytes [off, off +
 * len) a decoder asks for (CowLazyRaw) that lies in the frame or piece of
 * raw_len bytes at raw_off; true when that is not the whole frame.
 */
static inline bool
CowGroupLazyPart(Size raw_off, Size raw_len, Size off, Size len,
				 Size *from, Size *to)
{
	*from = Max(off, raw_off);
	*to = Min(off + len, raw_off + raw_len);
	return *from < *to && *to - *from < raw_len;
}

/*
 * CowGroupFetchPiece makes the bytes [off, off + len) in piece "piece" of
 * an uncompressed block read piece by piece present in its raw bytes (the
 * CowLazyRaw fetch of a block from CowGroupPagedRaw): only those when the
 * backend's read cache has the piece, else the whole piece.
 */
static void
CowGroupFetchPiece(CowLazyRaw *lazy, uint32 piece, Size off, Size len)
{
	CowGroupFrames *st = (CowGroupFrames *) lazy->arg;
	Size		start = (Size) piece * COW_PAGED_PIECE;
	Size		plen = Min(st->len - start, COW_PAGED_PIECE);
	Size		from,
				to;

	Assert(st->paged && start < st->len);
	/* read by this backend before (cow_read_cache.c) */
	if (CowGroupLazyPart(start, plen, off, len, &from, &to) &&
		CowReadCacheGetFramePart(st->g->rel, &st->g->version, st->attidx,
								 st->blockno, piece, plen, from - start,
								 to - from, false, true, st->raw + from))
		return;
	if (!CowReadCacheGetFrame(st->g->rel, &st->g->version, st->attidx,
							  st->blockno, piece, true, st->raw + start,
							  plen))
	{
		CowReadExtentBytes(st->g->rel, st->g->version.first_block,
						   st->g->version.nblocks, st->block_off + start,
						   plen, st->raw + start);
		CowReadCachePutFrame(st->g->rel, &st->g->version, st->attidx,
							 st->blockno, piece, st->raw + start, plen);
	}
	lazy->done[piece] = true;
}

/*
 * CowGroupPagedCheck verifies the CRC of an uncompressed block read piece
 * by piece once all its pieces are read (the block is then decoded whole,
 * and a whole block is always checked).
 */
static void
CowGroupPagedCheck(CowGroupFrames *st)
{
	pg_crc32c	crc;

	INIT_CRC32C(crc);
	COMP_CRC32C(crc, st->raw, st->len);
	FIN_CRC32C(crc);
	if (crc != st->crc)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("incetl_cow relation \"%s\": checksum mismatch in block %u of column %d of file group " INT64_FORMAT " (block %u)",
						RelationGetRelationName(st->g->rel), st->blockno,
						st->attidx + 1, st->g->version.file_group_id,
						st->g->version.first_block)));
}

/*
 * CowGroupPagedRaw: for uncompressed block b of column attidx of g, stored
 * at off in the extent stream, its raw bytes with none read yet and
 * *lazyp the handle that reads them piece by piece as a single-value
 * reader needs them (CowDecodeValue: an int block's header and the few
 * bytes of the value, not the 8 to 17 kB of a 4096-row block of
 * bit-packed integers); NULL when this does not apply.
 *
 * Without data checksums the block's CRC is verified first, over its
 * pages in place (CowExtentCrc): no copy of the block is made.  With data
 * checksums on (initdb --data-checksums), PostgreSQL verifies every page
 * of the relation when it reads it from disk (ERRCODE_DATA_CORRUPTED,
 * "invalid page"), which catches the damage on disk the block's CRC is
 * for, so the CRC, which would need every page of the block read, is not
 * verified for the few bytes read.  Either way the decoder checks every
 * header, width and length it reads; a block read whole (every piece
 * fetched, CowGroupBlockRaw) has its CRC verified as any other; scans,
 * merges and incetl.verify() read blocks whole.
 */
static char *
CowGroupPagedRaw(CowDecodedGroup *g, int attidx, uint32 b, uint64 off,
				 CowLazyRaw **lazyp)
{
	CowBlockDesc *bd = &g->block_dirs[attidx][b];
	CowGroupFrames *st;

	if (bd->stored_len < COW_PAGED_MIN || bd->stored_len != bd->raw_len)
		return NULL;
	if (!DataChecksumsEnabled() &&
		!CowReadCacheVerified(g->rel, &g->version, attidx, b))
	{
		if (CowExtentCrc(g->rel, g->version.first_block, g->version.nblocks,
						 off, bd->stored_len) != bd->crc)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("incetl_cow relation \"%s\": checksum mismatch in block %u of column %d of file group " INT64_FORMAT " (block %u)",
							RelationGetRelationName(g->rel), b, attidx + 1,
							g->version.file_group_id, g->version.first_block)));
		CowReadCacheSetVerified(g->rel, &g->version, attidx, b);
	}
	CowReadCachePutPieces(g->rel, &g->version, attidx, b, bd->stored_len,
						  COW_PAGED_PIECE);
	st = palloc0(sizeof(CowGroupFrames));
	st->g = g;
	st->block_off = off;
	st->paged = true;
	st->len = bd->stored_len;
	st->crc = bd->crc;
	st->attidx = attidx;
	st->blockno = b;
	/* pieces are read as needed: the bytes are not touched before */
	st->raw = MemoryContextAllocHuge(g->cxt, st->len);
	CowGroupLazyClobber(st->raw, st->len);
	CowGroupLazyInit(st, (st->len + COW_PAGED_PIECE - 1) / COW_PAGED_PIECE,
					 COW_PAGED_PIECE, COW_PAGED_PIECE, CowGroupFetchPiece);
	*lazyp = &st->lazy;
	CowBlocksDecoded++;
	return st->raw;
}

/* the bytes of a block read first, to find its frame index */
#define COW_FRAME_INDEX_READ	512

/*
 * CowGroupReadFrameIndex reads and checks the frame index of block b of
 * column attidx of g, stored compressed at off in the extent stream, into
 * *f and keeps it in the backend's read cache; false when the block is not
 * framed.  Only the block's first bytes are read.
 */
static bool
CowGroupReadFrameIndex(CowDecodedGroup *g, int attidx, uint32 b, uint64 off,
					   CowFrames *f)
{
	CowBlockDesc *bd = &g->block_dirs[attidx][b];
	char		head[COW_FRAME_INDEX_READ];
	Size		headlen = Min(bd->stored_len, COW_FRAME_INDEX_READ);
	Size		index_len;
	char	   *index;

	CowReadExtentBytes(g->rel, g->version.first_block, g->version.nblocks,
					   off, headlen, head);
	index_len = CowFrameIndexLength(head, headlen);
	if (index_len == 0)
		return false;
	if (index_len <= headlen)
		index = head;
	else
	{
		if (index_len > bd->stored_len)
			CowBlockCorrupt(g->rel, &g->version, attidx, "bad frame index length");
		index = palloc(index_len);
		CowReadExtentBytes(g->rel, g->version.first_block, g->version.nblocks,
						   off, index_len, index);
	}
	CowReadFrameIndex(index, index_len, bd->stored_len, bd->raw_len, f,
					  g->rel);
	if (index != head)
		pfree(index);
	CowReadCachePutFrames(g->rel, &g->version, attidx, b, f);
	return true;
}

/*
 * CowGroupFetchFrame makes the bytes [off, off + len) in frame "frame" of
 * a framed block present in its raw bytes (the CowLazyRaw fetch of a block
 * from CowGroupFramedRaw): only those when the frame was decompressed
 * before (the backend's read cache or the server's), else the whole frame,
 * read and decompressed.
 */
static void
CowGroupFetchFrame(CowLazyRaw *lazy, uint32 frame, Size off, Size len)
{
	CowGroupFrames *st = (CowGroupFrames *) lazy->arg;
	CowDecodedGroup *g = st->g;
	Size		stored_len;
	Size		raw_off,
				raw_len,
				from,
				to;
	char	   *src;
	bool		first = !st->asked[frame];

	st->asked[frame] = true;
	CowFrameRange(st->frames.first_raw, st->frames.frame_raw,
				  st->frames.raw_len, frame, &raw_off, &raw_len);
	/*
	 * A frame the backend has: the bytes asked for.  One only the server's
	 * cache has: those bytes too, unless it is a VARLENA block's first
	 * frame (its lengths, which a value read asks for piece by piece, each
	 * ask a look into the shared cache), taken whole.  Only the first ask
	 * of a frame counts as a read of it by this backend: a frame the
	 * backend reads in a second statement is kept in its cache
	 * (CowReadCacheCopyFrame), one it asks twice in a statement (two values,
	 * or a value's length and bytes) is not.
	 */
	if (CowGroupLazyPart(raw_off, raw_len, off, len, &from, &to) &&
		CowReadCacheGetFramePart(g->rel, &g->version, st->attidx,
								 st->blockno, frame, raw_len, from - raw_off,
								 to - from, frame > 0, first, st->raw + from))
		return;
	/* decompressed by this backend before (cow_read_cache.c) */
	if (CowReadCacheGetFrame(g->rel, &g->version, st->attidx, st->blockno,
							 frame, first, st->raw + raw_off, raw_len))
	{
		lazy->done[frame] = true;
		return;
	}
	/* the index's entries, not taken when the block was opened */
	if (st->frames.entries == NULL)
	{
		CowFrames	f;
		MemoryContext old = MemoryContextSwitchTo(g->cxt);

		if (!CowReadCacheGetFrames(g->rel, &g->version, st->attidx,
								   st->blockno, &f, true) &&
			!CowGroupReadFrameIndex(g, st->attidx, st->blockno,
									st->block_off, &f))
			CowBlockCorrupt(g->rel, &g->version, st->attidx,
							"frame index lost");
		if (f.nframes != st->frames.nframes ||
			f.first_raw != st->frames.first_raw ||
			f.frame_raw != st->frames.frame_raw ||
			f.raw_len != st->frames.raw_len)
			CowBlockCorrupt(g->rel, &g->version, st->attidx,
							"frame index changed");
		st->frames = f;
		MemoryContextSwitchTo(old);
	}
	stored_len = st->frames.entries[frame].stored_len;
	src = palloc(Max(stored_len, 1));
	CowReadExtentBytes(g->rel, g->version.first_block, g->version.nblocks,
					   st->block_off + st->frames.offsets[frame], stored_len,
					   src);
	CowDecompressFrame(&st->frames, frame, src, st->raw, g->rel);
	pfree(src);
	CowReadCachePutFrame(g->rel, &g->version, st->attidx, st->blockno, frame,
						 st->raw + raw_off, raw_len);
	lazy->done[frame] = true;
}

/*
 * CowGroupFramedRaw: for block b of column attidx of g, stored compressed
 * at off in the extent stream, when it is framed (cow_compress.c), its raw
 * bytes with no frame decompressed yet and *lazyp the handle that
 * decompresses them; otherwise NULL.  Only the block's first bytes (its
 * frame index) are read.  The frames' CRCs, in the index, which has its
 * own, stand for the block's: the block is never read whole on this path.
 */
static char *
CowGroupFramedRaw(CowDecodedGroup *g, int attidx, uint32 b, uint64 off,
				  CowLazyRaw **lazyp)
{
	CowBlockDesc *bd = &g->block_dirs[attidx][b];
	CowGroupFrames *st;

	if (bd->stored_len < COW_FRAME_PROBE)
		return NULL;
	st = palloc0(sizeof(CowGroupFrames));
	/* the index's entries are copied when a frame is decompressed */
	if (!CowReadCacheGetFrames(g->rel, &g->version, attidx, b, &st->frames,
							   false) &&
		!CowGroupReadFrameIndex(g, attidx, b, off, &st->frames))
	{
		pfree(st);
		return NULL;
	}
	st->g = g;
	st->attidx = attidx;
	st->blockno = b;
	st->block_off = off;
	st->raw = MemoryContextAllocHuge(g->cxt, Max(bd->raw_len, 1));
	st->asked = palloc0(sizeof(bool) * Max(st->frames.nframes, 1));
	CowGroupLazyClobber(st->raw, bd->raw_len);
	CowGroupLazyInit(st, st->frames.nframes, st->frames.first_raw,
					 st->frames.frame_raw, CowGroupFetchFrame);
	*lazyp = &st->lazy;
	CowBlocksDecoded++;
	return st->raw;
}

/*
 * CowGroupBlockOffset: where block b of stored column attidx of g is
 * stored in the extent stream (its block directory read).
 */
static uint64
CowGroupBlockOffset(CowDecodedGroup *g, int attidx, uint32 b)
{
	CowBlockDesc *dir = g->block_dirs[attidx];
	uint64		off = CowGroupColumns(g->header)[attidx].offset +
		sizeof(CowBlockDesc) * g->nblocks;
	uint32		k;

	Assert(dir != NULL);
	for (k = 0; k < b; k++)
		off += dir[k].stored_len;
	return off;
}

/*
 * CowGroupBlockRaw returns the raw (decompressed, CRC-checked) bytes of
 * block b of stored column attidx of g, NULL for a block that is NULL
 * throughout, and sets *d to the block's description as a chunk of its
 * own rows.  The column's block directory is read once; the last block
 * read of each column is kept in g, so the rows a lookup or a key range
 * reads from one block cost one decompression.  With lazyp, a framed
 * block may come back with its frames not decompressed yet: *lazyp is
 * then the handle (for CowDecodeValue) that decompresses them as they are
 * needed, else NULL; without, the block comes back whole.  Call in g->cxt.
 */
static char *
CowGroupBlockRaw(CowDecodedGroup *g, int attidx, uint32 b, CowColumnDesc *d,
				 CowLazyRaw **lazyp)
{
	CowBlockDesc *dir;
	CowColumnDesc *cd = &CowGroupColumns(g->header)[attidx];
	uint64		off;
	uint32		k;
	char	   *stored;
	char	   *raw;
	pg_crc32c	crc;

	if (g->block_dirs[attidx] == NULL)
		g->block_dirs[attidx] = CowReadBlockDir(g->rel, &g->version,
												g->header, attidx,
												g->borrowed);
	dir = g->block_dirs[attidx];

	/* the block is decoded as a chunk of its own rows */
	*d = *cd;
	d->flags = (dir[b].flags & COW_BLK_HAS_NULLS) ? COW_COL_HAS_NULLS : 0;
	d->encoding = dir[b].encoding;
	d->raw_len = dir[b].raw_len;
	if (dir[b].flags & COW_BLK_ALL_NULL)
		return NULL;

	if (lazyp != NULL)
		*lazyp = NULL;
	if (g->raw_blocks == NULL)
	{
		g->raw_blocks = palloc0(sizeof(char *) * g->natts);
		g->raw_block_no = palloc0(sizeof(uint32) * g->natts);
		g->raw_reads = palloc0(sizeof(uint32) * g->natts);
		g->raw_kept = palloc0(sizeof(bool) * g->natts);
		g->raw_lazy = palloc0(sizeof(CowLazyRaw *) * g->natts);
	}
	if (g->raw_block_no[attidx] == b + 1)
	{
		CowLazyRaw *lazy = g->raw_lazy[attidx];

		if (lazy != NULL && lazyp == NULL)
		{
			CowGroupFrames *st = (CowGroupFrames *) lazy->arg;

			if (st->paged)
			{
				/*
				 * read whole now, in one pass over its pages, and checked
				 * as a block read whole is
				 */
				CowReadExtentBytes(g->rel, g->version.first_block,
								   g->version.nblocks, st->block_off, st->len,
								   st->raw);
				CowGroupPagedCheck(st);
				g->raw_lazy[attidx] = NULL;
				pfree(lazy->done);
				if (lazy->marks != NULL)
					pfree(lazy->marks);
				pfree(st);
			}
			else
			{
				/* wanted whole: its frames not read yet (each is read once) */
				for (k = 0; k < lazy->nframes; k++)
					if (!lazy->done[k])
						lazy->fetch(lazy, k, 0, dir[b].raw_len);
			}
		}
		else if (lazy != NULL)
			*lazyp = lazy;
		return g->raw_blocks[attidx];
	}

	/* values of the block before may point into it: then it stays */
	if (g->raw_blocks[attidx] != NULL && !g->raw_kept[attidx])
		pfree(g->raw_blocks[attidx]);
	g->raw_blocks[attidx] = NULL;
	g->raw_block_no[attidx] = 0;
	if (g->raw_lazy[attidx] != NULL)
	{
		CowGroupFrames *st = (CowGroupFrames *) g->raw_lazy[attidx]->arg;

		pfree(st->lazy.done);
		if (st->lazy.marks != NULL)
			pfree(st->lazy.marks);
		if (st->frames.entries != NULL)
		{
			pfree(st->frames.entries);
			pfree(st->frames.offsets);
		}
		pfree(st);
		g->raw_lazy[attidx] = NULL;
	}

	off = CowGroupBlockOffset(g, attidx, b) - cd->offset;
	if (lazyp != NULL && !(dir[b].flags & COW_BLK_UNCOMPRESSED) &&
		dir[b].raw_len > COW_FRAMED_MIN)
	{
		raw = CowGroupFramedRaw(g, attidx, b, cd->offset + off, lazyp);
		if (raw != NULL)
		{
			g->raw_lazy[attidx] = *lazyp;
			g->raw_blocks[attidx] = raw;
			g->raw_block_no[attidx] = b + 1;
			g->raw_reads[attidx] = 0;
			g->raw_kept[attidx] = false;
			return raw;
		}
	}
	if (lazyp != NULL && (dir[b].flags & COW_BLK_UNCOMPRESSED))
	{
		raw = CowGroupPagedRaw(g, attidx, b, cd->offset + off, lazyp);
		if (raw != NULL)
		{
			g->raw_lazy[attidx] = *lazyp;
			g->raw_blocks[attidx] = raw;
			g->raw_block_no[attidx] = b + 1;
			g->raw_reads[attidx] = 0;
			g->raw_kept[attidx] = false;
			return raw;
		}
	}
	/* a small block read for a few rows, decompressed before */
	if (lazyp != NULL && dir[b].raw_len <= COW_READ_CACHE_WHOLE_MAX &&
		(raw = CowReadCacheGetWhole(g->rel, &g->version, attidx, b,
									dir[b].raw_len)) != NULL)
	{
		g->raw_blocks[attidx] = raw;
		g->raw_block_no[attidx] = b + 1;
		g->raw_reads[attidx] = 0;
		g->raw_kept[attidx] = false;
		return raw;
	}
	stored = MemoryContextAllocHuge(g->cxt, Max(dir[b].stored_len, 1));
	if (dir[b].stored_len > 0)
		CowReadExtentBytes(g->rel, g->version.first_block, g->version.nblocks,
						   cd->offset + off, dir[b].stored_len, stored);
	INIT_CRC32C(crc);
	COMP_CRC32C(crc, stored, dir[b].stored_len);
	FIN_CRC32C(crc);
	if (crc != dir[b].crc)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("incetl_cow relation \"%s\": checksum mismatch in block %u of column %d of file group " INT64_FORMAT " (block %u)",
						RelationGetRelationName(g->rel), b, attidx + 1,
						g->version.file_group_id, g->version.first_block)));
	CowBlocksDecoded++;
	if (dir[b].flags & COW_BLK_UNCOMPRESSED)
		raw = stored;
	else
	{
		raw = MemoryContextAllocHuge(g->cxt, Max(dir[b].raw_len, 1));
		CowDecompress(stored, dir[b].stored_len, raw, dir[b].raw_len, g->rel);
		pfree(stored);
	}
	if (lazyp != NULL)
		CowReadCachePutWhole(g->rel, &g->version, attidx, b, raw,
							 dir[b].raw_len,
							 !(dir[b].flags & COW_BLK_UNCOMPRESSED));
	g->raw_blocks[attidx] = raw;
	g->raw_block_no[attidx] = b + 1;
	g->raw_reads[attidx] = 0;
	g->raw_kept[attidx] = false;
	return raw;
}

/*
 * CowGroupBlockArrays allocates g->values/isnull of stored column attidx,
 * and its block_done, for a column decoded block by block, on first use.
 * CowGroupDecodeBlock decodes block b of it whole into them; the last of
 * its blocks makes the column decoded.  Call in g->cxt.
 */
static void
CowGroupBlockArrays(CowDecodedGroup *g, int attidx)
{
	if (g->block_done[attidx] == NULL)
	{
		g->values[attidx] = palloc(sizeof(Datum) * Max(g->nrows, 1));
		g->isnull[attidx] = palloc(sizeof(bool) * Max(g->nrows, 1));
		g->block_done[attidx] = palloc0(sizeof(bool) * g->nblocks);
		g->blocks_left[attidx] = g->nblocks;
	}
}

static void
CowGroupDecodeBlock(CowDecodedGroup *g, int attidx, uint32 b)
{
	uint64		r0 = (uint64) b * g->header->block_rows;
	uint64		brows = Min((uint64) g->header->block_rows, g->nrows - r0);
	CowColumnDesc d;
	char	   *raw;

	CowGroupBlockArrays(g, attidx);
	raw = CowGroupBlockRaw(g, attidx, b, &d, NULL);
	if (raw == NULL)
		memset(g->isnull[attidx] + r0, true, brows);
	else if (CowDecodeChunk(g->rel, g->version.file_group_id, attidx + 1, &d,
							raw, brows, g->values[attidx] + r0,
							g->isnull[attidx] + r0))
		g->raw_kept[attidx] = true;
	g->block_done[attidx][b] = true;
	if (--g->blocks_left[attidx] == 0)
	{
		/* every block decoded one by one: the column is, wholly */
		g->decoded[attidx] = true;
		CowChunksByBlock++;
	}
}

/*
 * CowGroupDecodeRows decodes the rows [from, to) of block b of stored
 * column attidx of g, and only them, into g->values/isnull (a key range
 * reading part of a block, CowGroupRow); CowGroupDecodeRowsInto into
 * values/isnull[to - from] (a window of single values, CowGroupValue).  A
 * framed block has only the frames those rows lie in decompressed.  Call
 * in g->cxt.
 */
static void
CowGroupDecodeRowsInto(CowDecodedGroup *g, int attidx, uint32 b, uint64 from,
					   uint64 to, Datum *values, bool *isnull)
{
	uint64		r0 = (uint64) b * g->header->block_rows;
	uint64		brows = Min((uint64) g->header->block_rows, g->nrows - r0);
	CowColumnDesc d;
	CowLazyRaw *lazy;
	char	   *raw;

	Assert(r0 <= from && from < to && to <= r0 + brows);
	raw = CowGroupBlockRaw(g, attidx, b, &d, &lazy);
	if (raw == NULL)
	{
		memset(values, 0, sizeof(Datum) * (to - from));
		memset(isnull, true, to - from);
	}
	else if (CowDecodeRange(g->rel, g->version.file_group_id, attidx + 1, &d,
							raw, lazy, brows, from - r0, to - r0,
							values, isnull))
		g->raw_kept[attidx] = true;
}

static void
CowGroupDecodeRows(CowDecodedGroup *g, int attidx, uint32 b, uint64 from,
				   uint64 to)
{
	CowGroupBlockArrays(g, attidx);
	if (g->block_part == NULL)
		g->block_part = palloc0(sizeof(bool *) * g->natts);
	if (g->block_part[attidx] == NULL)
		g->block_part[attidx] = palloc0(sizeof(bool) * g->nblocks);
	CowGroupDecodeRowsInto(g, attidx, b, from, to, g->values[attidx] + from,
						   g->isnull[attidx] + from);
	g->block_part[attidx][b] = true;
}

/*
 * CowGroupRow makes row "row" of column attidx available in
 * g->values/isnull, decompressing only the block that holds it (and the
 * column's block directory, once).  Of a block the key range
 * [g->range_lo, g->range_hi) covers in part, a row in the range has only
 * the range's rows of the block decoded (CowGroupDecodeRows); the rows of
 * the range must then be the only ones read from it.  Returns false for a
 * column that is not wanted.  Columns without a chunk of their own
 * (dropped, added later, all NULL) cost nothing to fill and are filled
 * whole.
 */
bool
CowGroupRow(CowDecodedGroup *g, int attidx, uint64 row)
{
	MemoryContext old;
	uint32		b;
	uint64		r0,
				r1;

	if (attidx >= g->natts)
		return false;
	if (g->decoded[attidx])
		return true;
	if (!g->all && !bms_is_member(attidx, g->needed))
		return false;
	if (!CowColumnIsStored(g, attidx))
		return CowGroupColumn(g, attidx);
	Assert(row < g->nrows);
	b = row / g->header->block_rows;
	if (g->block_done[attidx] != NULL && g->block_done[attidx][b])
		return true;

	old = MemoryContextSwitchTo(g->cxt);
	r0 = (uint64) b * g->header->block_rows;
	r1 = Min(r0 + g->header->block_rows, g->nrows);
	if (row >= g->range_lo && row < g->range_hi &&
		(g->range_lo > r0 || g->range_hi < r1))
	{
		/* a key range's rows of a block it covers in part */
		if (g->block_part == NULL || g->block_part[attidx] == NULL ||
			!g->block_part[attidx][b])
			CowGroupDecodeRows(g, attidx, b, Max(r0, g->range_lo),
							   Min(r1, g->range_hi));
	}
	else
		CowGroupDecodeBlock(g, attidx, b);
	MemoryContextSwitchTo(old);
	return true;
}

/*
 * CowGroupBlockUnits gives block b of stored numeric column attidx of g as
 * scaled integers (CowDecodeChunkUnits): units/isnull[0 .. rows of the
 * block), the values times 10^*dscale, without building numerics or
 * filling g->values.  Returns false when the block is not NUMERIC-encoded
 * (mixed scales, special values, big values), when its Datums are decoded
 * already, or for a column that is not wanted or not stored as numeric:
 * the caller then reads the block through CowGroupRow, which reuses the
 * block decompressed here.  A block of NULLs only gives true.
 */
bool
CowGroupBlockUnits(CowDecodedGroup *g, int attidx, uint32 b, int64 *units,
				   bool *isnull, int *dscale)
{
	uint64		r0 = (uint64) b * g->header->block_rows;
	uint64		brows;
	MemoryContext old;
	CowColumnDesc d;
	char	   *raw;
	bool		ok;

	if (attidx >= g->natts || g->decoded[attidx] ||
		(!g->all && !bms_is_member(attidx, g->needed)) ||
		!CowColumnIsStored(g, attidx) ||
		CowGroupColumns(g->header)[attidx].typid != NUMERICOID ||
		(g->block_done[attidx] != NULL && g->block_done[attidx][b]))
		return false;
	Assert(r0 < g->nrows);
	brows = Min((uint64) g->header->block_rows, g->nrows - r0);

	old = MemoryContextSwitchTo(g->cxt);
	raw = CowGroupBlockRaw(g, attidx, b, &d, NULL);
	if (raw == NULL)
	{
		memset(isnull, true, brows);
		*dscale = 0;
		ok = true;
	}
	else
		ok = CowDecodeChunkUnits(g->rel, g->version.file_group_id, attidx + 1,
								 &d, raw, brows, units, isnull, dscale);
	MemoryContextSwitchTo(old);
	return ok;
}

/*
 * CowGroupWanted: false for a column of g that is not wanted (the caller
 * reads it as NULL); a column without a chunk of its own (dropped, added
 * later, all NULL) is filled whole, which costs nothing.
 */
static bool
CowGroupWanted(CowDecodedGroup *g, int attidx)
{
	if (attidx >= g->natts)
		return false;
	if (!g->decoded[attidx])
	{
		if (!g->all && !bms_is_member(attidx, g->needed))
			return false;
		if (!CowColumnIsStored(g, attidx))
			(void) CowGroupColumn(g, attidx);
	}
	return true;
}

/*
 * CowGroupDecodeOne decodes row "row" of column attidx of g alone out of
 * the raw bytes of its block (d, starting at row r0), in g->cxt.
 */
static void
CowGroupDecodeOne(CowDecodedGroup *g, int attidx, uint64 r0, uint64 row,
				  const CowColumnDesc *d, const char *raw, CowLazyRaw *lazy,
				  Datum *value, bool *isnull)
{
	if (CowDecodeValue(g->rel, g->version.file_group_id, attidx + 1, d,
					   raw, lazy,
					   Min((uint64) g->header->block_rows, g->nrows - r0),
					   row - r0, value, isnull))
		g->raw_kept[attidx] = true;
}

/*
 * CowGroupValue sets *value and *isnull to row "row" of column attidx of
 * g, for a group read by block (point lookups): the first row read from a
 * block is read through the block's value block when this backend keeps
 * one (CowGroupValueFast: the value's few raw bytes, no raw buffer of the
 * block), else decoded alone out of the decompressed block
 * (CowDecodeValue), without decoding the rest of it, and the block's
 * value block made for the next statements (CowGroupKeepValueBlock).
 * From the COW_BLOCK_SINGLE_VALUES + 1st row on (an index range, a bitmap
 * or a key range reads many rows of a block, and decoding each alone
 * walks the block up to it), a window of
 * rows from the row on (or up to it, when the rows come in descending
 * order) is decoded into arrays of the window's own
 * (CowGroupDecodeRowsInto: of a framed block, only the frames the window
 * lies in are decompressed), COW_WINDOW_FIRST rows, then twice as many
 * each time a row falls outside it, and the block whole once a window
 * would reach half its size: a range of a hundred rows decodes about
 * those rows, a walk over the whole block at most twice its rows.  When a
 * block read from before must be decompressed again (rows read in another
 * order than the blocks', as an index on another column gives them), it
 * is decoded whole at once, as CowGroupRow decodes it: a block is
 * decompressed at most twice per group.  Returns false for a column that
 * is not wanted (the caller reads it as NULL).  Values live in g->cxt.
 */
#define COW_BLOCK_SINGLE_VALUES		1
#define COW_WINDOW_FIRST			64

/* row of column attidx from its window of single values, if it holds it */
static inline bool
CowGroupWindowValue(CowDecodedGroup *g, int attidx, uint64 row, Datum *value,
					bool *isnull)
{
	if (g->win_lo == NULL || row < g->win_lo[attidx] ||
		row >= g->win_hi[attidx])
		return false;
	*value = g->win_values[attidx][row - g->win_lo[attidx]];
	*isnull = g->win_isnull[attidx][row - g->win_lo[attidx]];
	return true;
}

/*
 * CowGroupDecodeWindow decodes the next window of column attidx around
 * row of block b (see above), or the block whole.  Call in g->cxt.
 */
static void
CowGroupDecodeWindow(CowDecodedGroup *g, int attidx, uint32 b, uint64 row)
{
	uint64		r0 = (uint64) b * g->header->block_rows;
	uint64		r1 = Min(r0 + g->header->block_rows, g->nrows);
	uint64		len,
				from,
				to,
				prev_lo;

	if (g->win_lo == NULL)
	{
		g->win_lo = palloc0(sizeof(uint64) * g->natts);
		g->win_hi = palloc0(sizeof(uint64) * g->natts);
		g->win_len = palloc0(sizeof(uint32) * g->natts);
		g->win_values = palloc0(sizeof(Datum *) * g->natts);
		g->win_isnull = palloc0(sizeof(bool *) * g->natts);
	}
	/* a window of another block: start again */
	if (g->win_hi[attidx] <= r0 || g->win_lo[attidx] >= r1)
		g->win_len[attidx] = 0;
	len = g->win_len[attidx] == 0 ? COW_WINDOW_FIRST :
		(uint64) g->win_len[attidx] * 2;
	prev_lo = g->win_lo[attidx];
	g->win_lo[attidx] = g->win_hi[attidx] = 0;
	if (len >= (r1 - r0) / 2)
	{
		CowGroupDecodeBlock(g, attidx, b);
		return;
	}
	if (g->win_len[attidx] != 0 && row < prev_lo)
	{
		/* descending: the window ends at the row */
		to = row + 1;
		from = to - Min(len, to - r0);
	}
	else
	{
		from = row;
		to = Min(r1, row + len);
	}

	/* a window is shorter than half a block: arrays of that size, once */
	if (g->win_values[attidx] == NULL)
	{
		uint32		cap = g->header->block_rows / 2;

		g->win_values[attidx] = palloc(sizeof(Datum) * cap);
		g->win_isnull[attidx] = palloc(sizeof(bool) * cap);
	}
	CowGroupDecodeRowsInto(g, attidx, b, from, to, g->win_values[attidx],
						   g->win_isnull[attidx]);
	g->win_lo[attidx] = from;
	g->win_hi[attidx] = to;
	g->win_len[attidx] = (uint32) len;
}

/*
 * A block read through its value block (CowGroupValueBytes): the block,
 * and where its bytes are, as the value block says -- copied out of it,
 * since reading bytes may make room in the read cache, which may drop the
 * value block.
 */
typedef struct CowGroupFetchArg
{
	CowDecodedGroup *g;
	int			attidx;
	uint32		b;
	uint64		stream_off;		/* the block's, in its column's stream */
	uint32		frame_first;	/* a framed block's frames' raw sizes, */
	uint32		frame_raw;		/* 0 when not known (CowValueBlock) */
	bool		early_read;		/* of this backend's first values of the block */
} CowGroupFetchArg;

static void
CowGroupFetchArgInit(CowGroupFetchArg *a, CowDecodedGroup *g, int attidx,
					 uint32 b, const CowValueBlock *vb)
{
	a->g = g;
	a->attidx = attidx;
	a->b = b;
	a->stream_off = vb->stream_off;
	a->frame_first = vb->frame_first;
	a->frame_raw = vb->frame_raw;
	a->early_read = CowReadCacheValueReads(g->rel, &g->version, attidx, b) <
		COW_VALUE_SHARED_READS;
}

/*
 * CowGroupValueBytes copies the raw bytes [off, off + len) of the block a
 * names into dst from where this backend has them at hand without
 * decompressing anything: an uncompressed block's pieces (the backend's
 * read cache, else its pages, as CowGroupFetchPiece reads them), the
 * frames of a framed block that the backend's cache or the server's
 * holds, a small block decompressed whole that either keeps.
 *
 * The first values this backend reads through the block's value block
 * (COW_VALUE_SHARED_READS of them: a new session's lookups, through a
 * value block another backend made) may take their bytes from where
 * nothing is kept: a framed block whose frame index this backend has not
 * read, through the frames' sizes its value block records, from the
 * server's cache alone; a small block, from the server's decompressed
 * copy, or from its pages when it is stored as it is.  A block read more
 * often is read as before instead, which keeps what it reads for the
 * reads after.  False when the bytes are not at hand (a frame not
 * decompressed yet): the caller then reads the block as before,
 * which decompresses and keeps what it reads.
 */
static bool
CowGroupValueBytes(const CowGroupFetchArg *a, Size off, Size len, char *dst)
{
	CowDecodedGroup *g = a->g;
	int			attidx = a->attidx;
	uint32		b = a->b;
	uint64		stream_off = a->stream_off;
	CowBlockDesc *bd;
	CowFrames	f;
	bool		local = false;
	bool		from_server = false;

	if (g->block_dirs[attidx] == NULL)
		g->block_dirs[attidx] = CowReadBlockDir(g->rel, &g->version,
												g->header, attidx,
												g->borrowed);
	bd = &g->block_dirs[attidx][b];
	if (off > bd->raw_len || len > bd->raw_len - off)
		return false;
	if ((bd->flags & COW_BLK_UNCOMPRESSED) &&
		bd->stored_len >= COW_PAGED_MIN && bd->stored_len == bd->raw_len)
	{
		/* read in place, its CRC checked when its value block was made */
		while (len > 0)
		{
			uint32		piece = off / COW_PAGED_PIECE;
			Size		start = (Size) piece * COW_PAGED_PIECE;
			Size		plen = Min(bd->raw_len - start, COW_PAGED_PIECE);
			Size		n = Min(len, start + plen - off);

			if (CowReadCacheGetFramePart(g->rel, &g->version, attidx, b,
										 piece, plen, off - start, n,
										 false, true, dst))
				;				/* the backend's cache holds the piece */
			else if (!CowReadCacheAskPiece(g->rel, &g->version, attidx, b,
										   piece))
			{
				/* a piece the cache would not keep: the bytes alone */
				CowReadExtentBytes(g->rel, g->version.first_block,
								   g->version.nblocks, stream_off + off, n,
								   dst);
			}
			else
			{
				char		buf[COW_PAGED_PIECE];

				CowReadExtentBytes(g->rel, g->version.first_block,
								   g->version.nblocks, stream_off + start,
								   plen, buf);
				CowReadCachePutFrame(g->rel, &g->version, attidx, b, piece,
									 buf, plen);
				memcpy(dst, buf + (off - start), n);
			}
			dst += n;
			off += n;
			len -= n;
		}
		return true;
	}
	if (!(bd->flags & COW_BLK_UNCOMPRESSED) && bd->raw_len > COW_FRAMED_MIN)
	{
		local = CowReadCacheGetFrames(g->rel, &g->version, attidx, b, &f,
									  false);
		if (!local && a->early_read && a->frame_first > 0 && a->frame_raw > 0)
		{
			/* framed, as its value block says: its frames' sizes */
			f.first_raw = a->frame_first;
			f.frame_raw = a->frame_raw;
			f.raw_len = bd->raw_len;
			f.nframes = CowFrameCount(f.first_raw, f.frame_raw, f.raw_len);
			f.entries = NULL;
			f.offsets = NULL;
			from_server = true;
		}
	}
	if (local || from_server)
	{
		while (len > 0)
		{
			uint32		frame = CowFrameOf(f.first_raw, f.frame_raw, off);
			Size		roff,
						rlen,
						n;

			if (frame >= f.nframes)
				return false;
			CowFrameRange(f.first_raw, f.frame_raw, f.raw_len, frame, &roff,
						  &rlen);
			n = Min(len, roff + rlen - off);

			if (from_server)
			{
				/* the bytes from the server's cache, nothing kept */
				if (!CowReadCacheGetSharedFramePart(g->rel, &g->version,
													attidx, b, frame, rlen,
													off - roff, n, dst))
					return false;
				dst += n;
				off += n;
				len -= n;
				continue;
			}

			/*
			 * As CowGroupFetchFrame asks: the bytes, from the server's cache
			 * too unless it is the block's first frame (a VARLENA block's
			 * lengths, asked for piece by piece), which is taken whole from
			 * there, so that the backend keeps it from its second read.
			 */
			if (!CowReadCacheGetFramePart(g->rel, &g->version, attidx, b,
										  frame, rlen, off - roff, n,
										  frame > 0, true, dst))
			{
				char	   *whole;

				if (frame > 0)
					return false;
				whole = palloc(Max(rlen, 1));
				if (!CowReadCacheGetFrame(g->rel, &g->version, attidx, b,
										  frame, true, whole, rlen))
				{
					pfree(whole);
					return false;
				}
				memcpy(dst, whole + (off - roff), n);
				pfree(whole);
			}
			dst += n;
			off += n;
			len -= n;
		}
		return true;
	}
	if (CowReadCacheGetWholePart(g->rel, &g->version, attidx, b,
								 bd->raw_len, off, len, dst, a->early_read))
		return true;
	if (a->early_read &&
		(bd->flags & COW_BLK_UNCOMPRESSED) && bd->stored_len == bd->raw_len)
	{
		/*
		 * a small block stored as it is, which this backend does not keep:
		 * the bytes alone, from its pages (its CRC checked when its value
		 * block was made, as for a larger one read in place)
		 */
		CowReadExtentBytes(g->rel, g->version.first_block, g->version.nblocks,
						   stream_off + off, len, dst);
		return true;
	}
	return false;
}

/* CowValueFetch of a block read through its value block */
static bool
CowGroupValueFetch(void *arg, Size off, Size len, char *dst)
{
	return CowGroupValueBytes((const CowGroupFetchArg *) arg, off, len, dst);
}

/* what a key range's probes found of a block's value block (CowGroupProbe) */
#define COW_PROBE_UNTRIED	0	/* not asked for yet */
#define COW_PROBE_KEPT		1	/* none kept: made after the first probe */
#define COW_PROBE_SLOW		2	/* none of use: probes decode their values */

/* what CowGroupValueFast did */
#define COW_FAST_DONE		0	/* the value was read */
#define COW_FAST_NONE		1	/* no value block kept for the block */
#define COW_FAST_NOT		2	/* one is, of no use this time */

/*
 * CowGroupValueFast reads row "row" of column attidx of g, in block b,
 * through the block's value block (cow/format.h) kept in the backend's
 * read cache: the value's few raw bytes, and no raw buffer of the block
 * nor its headers read again.  Call in g->cxt.
 */
static int
CowGroupValueFast(CowDecodedGroup *g, int attidx, uint32 b, uint64 row,
				  Datum *value, bool *isnull)
{
	const CowValueBlock *vb;
	uint64		r0 = (uint64) b * g->header->block_rows;
	uint64		k;
	Size		off,
				len;
	bool		lent;
	union
	{
		char		data[MAXALIGN(COW_VALUE_BYTES)];
		Datum		align;		/* fetch_att() reads a Datum's width */
	}			bytes;

	/* value blocks are kept in the read cache: none while it is off */
	if (CowReadCacheSize <= 0)
		return COW_FAST_NOT;
	vb = CowReadCacheGetValueBlock(g->rel, &g->version, attidx, b, &lent);
	if (vb == NULL)
		return COW_FAST_NONE;
	if (vb->kind == COW_VALUE_NONE ||
		vb->nrows != Min((uint64) g->header->block_rows, g->nrows - r0))
		return COW_FAST_NOT;
	CowValueBlockLocate(vb, row - r0, isnull, &k, &off, &len);
	if (*isnull)
	{
		*value = (Datum) 0;
		return COW_FAST_DONE;
	}
	if (vb->kind == COW_VALUE_VARLENA)
	{
		CowGroupFetchArg a;

		CowGroupFetchArgInit(&a, g, attidx, b, vb);
		if (!CowValueBlockVarlena(g->rel, vb, k, CowGroupValueFetch, &a,
								  value))
			return COW_FAST_NOT;
		return COW_FAST_DONE;
	}
	memset(&bytes, 0, sizeof(bytes));
	if (len > 0)
	{
		CowGroupFetchArg a;

		CowGroupFetchArgInit(&a, g, attidx, b, vb);
		if (!CowGroupValueBytes(&a, off, len, bytes.data))
			return COW_FAST_NOT;
		/*
		 * asked again: reading the bytes keeps the block's entry, but may
		 * have made room for them (a lent copy stays where it is)
		 */
		if (!lent)
		{
			vb = CowReadCacheGetValueBlock(g->rel, &g->version, attidx, b,
										   &lent);
			if (vb == NULL)
				return COW_FAST_NOT;
		}
	}
	*value = CowValueBlockValue(g->rel, vb, k, bytes.data);
	return COW_FAST_DONE;
}

/*
 * CowGroupKeepValueBlock makes the value block of block b of column
 * attidx of g, whose raw bytes (d, lazy) a value was just read from, and
 * keeps it in the backend's read cache for the next reads of the block.
 * A VARLENA block's costs reading every length of the block (its marks
 * and restarts, some 50,000 instructions): it is made the third time this
 * backend reads the block, so that a new session's lookups, or lookups
 * spread over more blocks than come back, do not pay for value blocks
 * seldom read through.  Call in g->cxt.
 */
static void
CowGroupKeepValueBlock(CowDecodedGroup *g, int attidx, uint32 b,
					   const CowColumnDesc *d, const char *raw,
					   CowLazyRaw *lazy)
{
	uint64		r0 = (uint64) b * g->header->block_rows;
	CowValueBlock *vb;
	CowFrames	f;

	if (d->encoding == COW_ENC_VARLENA &&
		CowReadCacheValueBlockAsks(g->rel, &g->version, attidx, b) < 2)
		return;

	vb = CowValueBlockBuild(g->rel, g->version.file_group_id, attidx + 1, d,
							raw, lazy,
							Min((uint64) g->header->block_rows, g->nrows - r0));
	vb->stream_off = CowGroupBlockOffset(g, attidx, b);
	/* a framed block's frames, for a backend that has not its frame index */
	if (CowReadCacheGetFrames(g->rel, &g->version, attidx, b, &f, false))
	{
		vb->frame_first = f.first_raw;
		vb->frame_raw = f.frame_raw;
	}
	CowReadCachePutValueBlock(g->rel, &g->version, attidx, b, vb);
	pfree(vb);
}

bool
CowGroupValue(CowDecodedGroup *g, int attidx, uint64 row, Datum *value,
			  bool *isnull)
{
	MemoryContext old;
	uint32		b;
	uint64		r0;
	CowColumnDesc d;
	char	   *raw;
	CowLazyRaw *lazy;
	bool		revisit;
	int			fast = COW_FAST_NOT;

	if (!CowGroupWanted(g, attidx))
		return false;
	Assert(row < g->nrows);
	b = row / g->header->block_rows;
	if (g->decoded[attidx] ||
		(g->block_done[attidx] != NULL && g->block_done[attidx][b]))
	{
		*value = g->values[attidx][row];
		*isnull = g->isnull[attidx][row];
		return true;
	}
	if (CowGroupWindowValue(g, attidx, row, value, isnull))
		return true;

	old = MemoryContextSwitchTo(g->cxt);
	if (g->block_seen == NULL)
	{
		g->block_seen = palloc0(sizeof(bool *) * g->natts);
		g->value_block_no = palloc0(sizeof(uint32) * g->natts);
	}
	if (g->block_seen[attidx] == NULL)
		g->block_seen[attidx] = palloc0(sizeof(bool) * g->nblocks);
	/* the first value read from a block: through its value block */
	if (!g->block_seen[attidx][b])
	{
		fast = CowGroupValueFast(g, attidx, b, row, value, isnull);
		if (fast == COW_FAST_DONE)
		{
			g->block_seen[attidx][b] = true;
			g->value_block_no[attidx] = b + 1;
			MemoryContextSwitchTo(old);
			return true;
		}
	}

	/*
	 * A block read from before, and decompressed again: decode it whole.
	 * The block whose first value was read through its value block is read
	 * from as a block read for the first time.
	 */
	revisit = g->block_seen[attidx][b] &&
		(g->raw_block_no == NULL || g->raw_block_no[attidx] != b + 1) &&
		g->value_block_no[attidx] != b + 1;
	g->block_seen[attidx][b] = true;
	g->value_block_no[attidx] = 0;
	raw = CowGroupBlockRaw(g, attidx, b, &d, &lazy);
	r0 = (uint64) b * g->header->block_rows;
	if (raw == NULL)
	{
		*value = (Datum) 0;
		*isnull = true;
	}
	else if (revisit)
	{
		CowGroupDecodeBlock(g, attidx, b);
		*value = g->values[attidx][row];
		*isnull = g->isnull[attidx][row];
	}
	else if (++g->raw_reads[attidx] > COW_BLOCK_SINGLE_VALUES)
	{
		CowGroupDecodeWindow(g, attidx, b, row);
		if (!CowGroupWindowValue(g, attidx, row, value, isnull))
		{
			/* decoded whole */
			*value = g->values[attidx][row];
			*isnull = g->isnull[attidx][row];
		}
	}
	else
	{
		CowGroupDecodeOne(g, attidx, r0, row, &d, raw, lazy, value, isnull);
		if (fast == COW_FAST_NONE)
			CowGroupKeepValueBlock(g, attidx, b, &d, raw, lazy);
	}
	MemoryContextSwitchTo(old);
	return true;
}

/*
 * CowGroupProbe sets *value and *isnull to row "row" of column attidx of
 * g, decoded alone out of its block (CowDecodeValue) unless it is decoded
 * already: the binary search for a key range's ends (cow_scan.c) reads a
 * dozen values of a block, and decodes none of the others.  A framed
 * block has only the frames of the values read decompressed.  A block
 * whose value block this backend keeps is read through it
 * (CowGroupValueFast), and the first probe of one without makes it, as a
 * lookup's first read of a block does (CowGroupValue; a VARLENA block's
 * is made the third statement that asks): the statement's next probes of
 * the block read through it, or, when there is none of use, do not ask
 * again.  Returns false for a column that is not wanted.  Values live in
 * g->cxt.
 */
bool
CowGroupProbe(CowDecodedGroup *g, int attidx, uint64 row, Datum *value,
			  bool *isnull)
{
	MemoryContext old;
	uint32		b;
	uint64		r0;
	CowColumnDesc d;
	char	   *raw;
	CowLazyRaw *lazy;
	int			fast;

	if (!CowGroupWanted(g, attidx))
		return false;
	Assert(row < g->nrows);
	b = row / g->header->block_rows;
	if (g->decoded[attidx] ||
		(g->block_done[attidx] != NULL && g->block_done[attidx][b]) ||
		(g->block_part != NULL && g->block_part[attidx] != NULL &&
		 g->block_part[attidx][b] && row >= g->range_lo && row < g->range_hi))
	{
		*value = g->values[attidx][row];
		*isnull = g->isnull[attidx][row];
		return true;
	}

	old = MemoryContextSwitchTo(g->cxt);
	if (g->probe_block == NULL)
	{
		g->probe_block = palloc0(sizeof(uint32) * g->natts);
		g->probe_state = palloc0(sizeof(uint8) * g->natts);
	}
	if (g->probe_block[attidx] != b + 1)
	{
		g->probe_block[attidx] = b + 1;
		g->probe_state[attidx] = COW_PROBE_UNTRIED;
	}
	/* through the block's value block, when this backend keeps one */
	fast = COW_FAST_NOT;
	if (g->probe_state[attidx] != COW_PROBE_SLOW)
	{
		fast = CowGroupValueFast(g, attidx, b, row, value, isnull);
		if (fast == COW_FAST_DONE)
		{
			MemoryContextSwitchTo(old);
			return true;
		}
		/* none of use, or none made when asked for: not asked again */
		if (fast == COW_FAST_NOT ||
			g->probe_state[attidx] == COW_PROBE_KEPT)
			g->probe_state[attidx] = COW_PROBE_SLOW;
	}
	raw = CowGroupBlockRaw(g, attidx, b, &d, &lazy);
	r0 = (uint64) b * g->header->block_rows;
	if (raw == NULL)
	{
		*value = (Datum) 0;
		*isnull = true;
	}
	else
	{
		CowGroupDecodeOne(g, attidx, r0, row, &d, raw, lazy, value, isnull);
		/* for the next probes, of this statement's or the next ones' */
		if (fast == COW_FAST_NONE &&
			g->probe_state[attidx] == COW_PROBE_UNTRIED)
		{
			CowGroupKeepValueBlock(g, attidx, b, &d, raw, lazy);
			g->probe_state[attidx] = COW_PROBE_KEPT;
		}
	}
	MemoryContextSwitchTo(old);
	return true;
}

/*
 * CowGroupKeyLinear: when the value block this backend keeps of the block
 * of column attidx of g holding row is a delta of width 0 (integers
 * growing by one step, consecutive keys: no NULL), sets *k so that row r
 * of the block holds CowLinearKeyValue(k, r), and returns true: a key
 * range's ends are then found by arithmetic, without a probe (cow_scan.c,
 * CowKeyBound).  False otherwise, and for a column not wanted.
 */
bool
CowGroupKeyLinear(CowDecodedGroup *g, int attidx, uint64 row,
				  CowLinearKeys *k)
{
	const CowValueBlock *vb;
	uint32		b;
	uint64		r0;
	bool		lent;

	if (CowReadCacheSize <= 0 || !CowGroupWanted(g, attidx))
		return false;
	Assert(row < g->nrows);
	b = row / g->header->block_rows;
	r0 = (uint64) b * g->header->block_rows;
	vb = CowReadCacheGetValueBlock(g->rel, &g->version, attidx, b, &lent);
	if (vb == NULL || vb->kind != COW_VALUE_INT || !vb->delta ||
		vb->has_nulls ||
		vb->nrows != Min((uint64) g->header->block_rows, g->nrows - r0))
		return false;
	/* the value block is lent: its scalars are read at once */
	k->r0 = r0;
	k->nrows = vb->nrows;
	k->first = vb->first;
	k->step = vb->base;
	k->attlen = vb->attlen;
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

/*
 * CowGroupBlockMinMaxList returns the per-block min/max list of column
 * attidx in h (format 4, see format.h), or NULL when the group has none
 * for it (a version 3 group, a column without min/max).  The list is
 * checked to lie in the blob area.
 */
const char *
CowGroupBlockMinMaxList(CowGroupHeader *h, int attidx)
{
	uint32		off;
	uint64		len = sizeof(uint32) * 2 * (uint64) CowGroupBlocks(h);

	if (h->block_minmax_off == 0 || (uint32) attidx >= h->natts)
		return NULL;
	memcpy(&off, CowGroupBlob(h) + h->block_minmax_off + sizeof(uint32) * attidx,
		   sizeof(uint32));
	if (off == 0)
		return NULL;
	if ((uint64) off + len > CowGroupBlobLen(h))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("incetl_cow file group has corrupted block min/max for column %d",
						attidx + 1)));
	return CowGroupBlob(h) + off;
}

/*
 * CowGroupBlockMinMax sets *min and *max to those of block b of the list
 * (CowGroupBlockMinMaxList) of a column of h, restored in the current
 * memory context, and returns true; returns false for a block NULL
 * throughout.
 */
bool
CowGroupBlockMinMax(CowGroupHeader *h, const char *list, uint32 b,
					Datum *min, Datum *max)
{
	uint32		offs[2];
	uint64		blob_len = CowGroupBlobLen(h);
	char	   *p;
	bool		isnull;

	memcpy(offs, list + sizeof(uint32) * 2 * (uint64) b, sizeof(offs));
	if (offs[0] == 0 && offs[1] == 0)
		return false;
	/* a serialized datum starts with its int header */
	if (offs[0] == 0 || offs[1] == 0 ||
		(uint64) offs[0] + sizeof(int) > blob_len ||
		(uint64) offs[1] + sizeof(int) > blob_len)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("incetl_cow file group has corrupted block min/max")));
	p = CowGroupBlob(h) + offs[0];
	*min = datumRestore(&p, &isnull);
	p = CowGroupBlob(h) + offs[1];
	*max = datumRestore(&p, &isnull);
	return true;
}
