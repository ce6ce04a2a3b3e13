/*-------------------------------------------------------------------------
 *
 * cow_rowmap.c
 *	  Row numbers: which row number each position of a file group version
 *	  holds, and which version (and position) holds a row number.
 *
 * A row's TID is its row number (cow_storage.c CowRowNumberToTid).  Up to
 * format 4 the row at position p of a version is row first_row_number + p.
 * From format 5 a rewrite gives each row it carries over unchanged the row
 * number it had (so that it needs no new index entry, as a HOT update), and
 * new or changed rows fresh numbers from the version's reserved range; the
 * group records the map as runs and the reserved ranges of the ancestors
 * it carries numbers from, its absorbed ranges (format.h CowRowMapInfo).
 *
 * A lookup by row number among a list of versions (CowRowIndex) finds the
 * versions whose reserved or absorbed ranges hold the number -- more than
 * one when the list holds an old version and its rewrite, or two children
 * of a split group -- then the position through each one's reverse map.
 * The versions current for one snapshot hold disjoint sets of row numbers
 * (an updated row always takes a fresh number), so for such a list at most
 * one holds it.
 *
 * Maps never change once written: a backend keeps those it read (by
 * relation, relfilenode, file group, commit, first row number and extent)
 * until a relcache invalidation of the relation, and the server's shared
 * cache keeps the arrays built from them for every backend.  A lookup by
 * row number searches the shared cache's copy in place until the backend
 * has looked up a few dozen rows of the version (CowRowMapFind): a new
 * session's first lookups need one row of each of many maps.
 *
 * Copyright (c) 2026, incetl authors
 *
 * IDENTIFICATION
 *	  src/cow/cow_rowmap.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "port/pg_crc32c.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/memutils.h"

#include "cow/read.h"
#include "cow/shared_cache.h"

/* ---------- writing a map ---------- */

static int
CowRangeCmp(const void *a, const void *b)
{
	const CowRowRange *ra = a;
	const CowRowRange *rb = b;

	if (ra->first != rb->first)
		return ra->first < rb->first ? -1 : 1;
	if (ra->count != rb->count)
		return ra->count < rb->count ? -1 : 1;
	return 0;
}

static const CowRowRun *CowRunsSortArg;
static int	CowRunByRowNumberCmp(const void *a, const void *b);

/*
 * CowRunsByRowNumber returns the indexes of runs[n] sorted by row number.
 * The carried runs of a group mostly come in ascending order (rows keep
 * their key order, and numbers were given in it), and so do the fresh
 * ones (first + position): when both do, the two lists are merged, else
 * sorted.
 */
static uint32 *
CowRunsByRowNumber(const CowRowRun *runs, uint32 n, int64 first, int64 nrows)
{
	uint32	   *by_rn = palloc(sizeof(uint32) * n);
	uint32	   *carried = palloc(sizeof(uint32) * n);
	uint32	   *fresh = palloc(sizeof(uint32) * n);
	uint32		nc = 0,
				nf = 0,
				c = 0,
				f = 0,
				k = 0;
	bool		sorted = true;

	for (uint32 i = 0; i < n; i++)
	{
		bool		is_fresh = (runs[i].rownum >= first &&
								runs[i].rownum < first + nrows);
		uint32	   *list = is_fresh ? fresh : carried;
		uint32	   *cnt = is_fresh ? &nf : &nc;

		if (*cnt > 0 && runs[list[*cnt - 1]].rownum > runs[i].rownum)
			sorted = false;
		list[(*cnt)++] = i;
	}
	if (sorted)
	{
		while (c < nc || f < nf)
		{
			if (f >= nf || (c < nc && runs[carried[c]].rownum < runs[fresh[f]].rownum))
				by_rn[k++] = carried[c++];
			else
				by_rn[k++] = fresh[f++];
		}
	}
	else
	{
		for (uint32 i = 0; i < n; i++)
			by_rn[i] = i;
		CowRunsSortArg = runs;
		qsort(by_rn, n, sizeof(uint32), CowRunByRowNumberCmp);
		CowRunsSortArg = NULL;
	}
	pfree(carried);
	pfree(fresh);
	return by_rn;
}

static int
CowRunByRowNumberCmp(const void *a, const void *b)
{
	int64		x = CowRunsSortArg[*(const uint32 *) a].rownum;
	int64		y = CowRunsSortArg[*(const uint32 *) b].rownum;

	return x < y ? -1 : (x > y ? 1 : 0);
}

/*
 * CowBuildRowMap describes rownums[nrows] (the row number of each position
 * of a group being written, whose own reserved range starts at first) as
 * runs, and the ranges of sources (ranges that may hold carried numbers:
 * the reserved and absorbed ranges of the versions rows were carried from)
 * that hold at least one number, as absorbed ranges.  Everything is
 * palloc'd; *raw is the runs then the reverse map, *raw_len its length, or
 * NULL when every row has a fresh number.
 */
void
CowBuildRowMap(const int64 *rownums, int64 nrows, int64 first,
			   CowRowRange *sources, int nsources,
			   char **raw, Size *raw_len, uint32 *nruns,
			   CowRowRange **absorbed, uint32 *nabsorbed)
{
	CowRowRun  *runs;
	uint32		n = 0;
	uint32	   *by_rn;
	int64		r;

	*raw = NULL;
	*raw_len = 0;
	*nruns = 0;
	*absorbed = NULL;
	*nabsorbed = 0;

	/* identity: every row fresh, in position order */
	for (r = 0; r < nrows; r++)
		if (rownums[r] != first + r)
			break;
	if (r == nrows)
		return;

	/* runs: at most one per row, but few in practice (grown as needed) */
	{
		int64		cap = Min(nrows, 1024);

		runs = palloc(sizeof(CowRowRun) * cap);
		for (r = 0; r < nrows; r++)
		{
			if (n > 0 && rownums[r] == runs[n - 1].rownum + runs[n - 1].len)
				runs[n - 1].len++;
			else
			{
				if (n == cap)
				{
					cap = Min(cap * 2, nrows);
					runs = repalloc_huge(runs, sizeof(CowRowRun) * cap);
				}
				runs[n].rownum = rownums[r];
				runs[n].pos = (uint32) r;
				runs[n].len = 1;
				n++;
			}
		}
	}
	by_rn = CowRunsByRowNumber(runs, n, first, nrows);

	/*
	 * The source ranges still holding a carried number: a range holds one
	 * when a run (runs by row number, disjoint) overlaps it.  The group's
	 * own reserved range holds only fresh numbers.
	 */
	if (nsources > 0)
	{
		int			k = 0;

		qsort(sources, nsources, sizeof(CowRowRange), CowRangeCmp);
		*absorbed = palloc(sizeof(CowRowRange) * nsources);
		for (int i = 0; i < nsources; i++)
		{
			uint32		lo = 0,
						hi = n;

			if (i > 0 && sources[i].first == sources[i - 1].first &&
				sources[i].count == sources[i - 1].count)
				continue;
			/* the first run (by row number) ending after sources[i].first */
			while (lo < hi)
			{
				uint32		mid = (lo + hi) / 2;
				const CowRowRun *run = &runs[by_rn[mid]];

				if (run->rownum + run->len <= sources[i].first)
					lo = mid + 1;
				else
					hi = mid;
			}
			if (lo < n &&
				runs[by_rn[lo]].rownum < sources[i].first + sources[i].count)
				(*absorbed)[k++] = sources[i];
		}
		*nabsorbed = k;
	}

	/*
	 * Stored as columns, which zstd compresses better than the structs:
	 * each run's length, then each run's row number less the one that
	 * would continue the run before it (0 before the first: small where
	 * fresh numbers follow each other), then the reverse map.  Positions
	 * are the lengths added up.
	 */
	*raw_len = (Size) n * COW_ROW_RUN_STORED;
	*raw = palloc(*raw_len);
	{
		uint32	   *lens = (uint32 *) *raw;
		int64	   *gaps = (int64 *) (*raw + sizeof(uint32) * n);
		uint32	   *rev = (uint32 *) (*raw + (sizeof(uint32) + sizeof(int64)) * n);
		int64		next = 0;

		for (uint32 i = 0; i < n; i++)
		{
			lens[i] = runs[i].len;
			gaps[i] = runs[i].rownum - next;
			next = runs[i].rownum + runs[i].len;
		}
		memcpy(rev, by_rn, sizeof(uint32) * n);
	}
	*nruns = n;
	pfree(runs);
	pfree(by_rn);
}

/* ---------- the backend's cache of maps ---------- */

typedef struct CowRowMapKey
{
	Oid			relid;
	RelFileNode node;
	int64		file_group_id;
	int64		commit_id;
	int64		first_row_number;
	BlockNumber first_block;
} CowRowMapKey;

typedef struct CowRowMapEntry
{
	CowRowMapKey key;
	CowRowMap	map;
	bool		runs_loaded;
	uint32		lent;			/* lookups answered from the shared cache */
} CowRowMapEntry;

/*
 * Lookups of one version's row numbers answered in the shared cache's copy
 * of its runs (CowRowMapFind) before the backend copies them: a copy costs
 * what some tens of lookups there cost (a map of some thousands of runs is
 * tens of kB, a new page of the backend's memory every 4 kB), and a new
 * session doing a few lookups needs a few rows of each map.
 */
#define COW_ROWMAP_LEND_MAX		64

/* entries, and bytes of runs, kept before the cache starts afresh */
#define COW_ROWMAP_CACHE_MAX	8192
#define COW_ROWMAP_CACHE_BYTES	(64 * 1024 * 1024)

static HTAB *CowRowMapCache = NULL;
static MemoryContext CowRowMapCxt = NULL;
static bool CowRowMapCallbackSet = false;
static Size CowRowMapBytes = 0;	/* runs held by the cache */

/*
 * Counts the cache's resets: a map handed out stays where it is until the
 * next one (entries are never removed one by one, and dynahash does not
 * move an entry when it grows), so an open group keeps a pointer to its
 * map with the count it was found at (CowGroupMap) instead of a copy.
 */
static uint64 CowRowMapGeneration = 0;

static void
CowRowMapCacheReset(void)
{
	if (CowRowMapCxt != NULL)
		MemoryContextDelete(CowRowMapCxt);
	CowRowMapCxt = NULL;
	CowRowMapCache = NULL;
	CowRowMapBytes = 0;
	CowRowMapGeneration++;
}

static void
CowRowMapInvalidate(Datum arg, Oid relid)
{
	HASH_SEQ_STATUS st;
	CowRowMapEntry *e;
	bool		found = false;

	if (CowRowMapCache == NULL)
		return;
	if (relid == InvalidOid)
	{
		CowRowMapCacheReset();
		return;
	}
	hash_seq_init(&st, CowRowMapCache);
	while ((e = hash_seq_search(&st)) != NULL)
	{
		if (e->key.relid == relid)
		{
			found = true;
			hash_seq_term(&st);
			break;
		}
	}
	if (found)
		CowRowMapCacheReset();
}

/*
 * A lookup by row number searches the runs by row number in two steps:
 * the fence (the row number of every COW_ROWMAP_FENCE_STEP-th run, a few
 * hundred bytes for a map of thousands of runs), then the 4 kB of runs
 * after the fence entry found, each holding its position and length.  A
 * search over one array of every run's row number, then the run it names,
 * touched a cache line on as many pages of the map as its halvings, and
 * in a new session, where a lookup reads each map's shared copy in place,
 * each page touched the first time is a page fault.
 */
#define COW_ROWMAP_FENCE_STEP	256

static inline uint32
CowRowMapFences(uint32 nruns)
{
	return (nruns + COW_ROWMAP_FENCE_STEP - 1) / COW_ROWMAP_FENCE_STEP;
}

/* the bytes of a map's arrays: runs, rn_runs and rn_fence, in that order */
static inline Size
CowRowMapArraysSize(uint32 nruns)
{
	return 2 * sizeof(CowRowRun) * (Size) nruns +
		sizeof(int64) * (Size) CowRowMapFences(nruns);
}

/*
 * CowRowMapSetArrays points m's runs, rn_runs and rn_fence at their places
 * in arrays, CowRowMapArraysSize(nruns) bytes laid out in that order (the
 * backend's copy, or the shared cache's searched in place).
 */
static inline void
CowRowMapSetArrays(CowRowMap *m, const char *arrays, uint32 nruns)
{
	m->runs = (CowRowRun *) arrays;
	m->rn_runs = (CowRowRun *) (arrays + sizeof(CowRowRun) * (Size) nruns);
	m->rn_fence = (int64 *) (arrays + 2 * sizeof(CowRowRun) * (Size) nruns);
}

static void
CowRowMapCorrupt(Relation rel, const CowVersion *v, const char *what)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATA_CORRUPTED),
			 errmsg("incetl_cow relation \"%s\": the row-number map of file group " INT64_FORMAT " (block %u) is corrupted: %s",
					RelationGetRelationName(rel), v->file_group_id,
					v->first_block, what)));
}

/*
 * CowRowMapLoadRuns reads, checks and decompresses a map's runs.
 *
 * The arrays built (runs, rn_start, by_rn: one allocation) are kept in the
 * server's cache too, and taken from there when another backend put them
 * there: a new session's first lookups in a table rewritten by upserts
 * need every version's map, some thousands of runs each, which it would
 * otherwise read, decompress and check again (7 M instructions for the 12
 * versions of cow_bench.sh's 1 M-row table).  The maps there were checked
 * when first read, as the frames there were.
 */
static void
CowRowMapLoadRuns(Relation rel, const CowVersion *v, CowRowMapEntry *e,
				  const CowRowMapInfo *info)
{
	char	   *stored;
	char	   *raw;
	char	   *arrays;
	pg_crc32c	crc;
	CowRowMap  *m = &e->map;
	Size		len = CowRowMapArraysSize(info->nruns);
	CowSharedKey key;
	bool		shared = CowSharedCacheKey(&key, rel, v, COW_SHARED_ROW_MAP,
										0, 0);

	arrays = MemoryContextAllocHuge(CowRowMapCxt, len);
	CowRowMapSetArrays(m, arrays, info->nruns);
	CowRowMapBytes += len;
	if (shared && CowSharedCacheGet(&key, len, 0, len, arrays))
	{
		e->runs_loaded = true;
		return;
	}

	stored = palloc(info->runs_stored_len);
	CowReadExtentBytes(rel, v->first_block, v->nblocks, info->runs_offset,
					   info->runs_stored_len, stored);
	INIT_CRC32C(crc);
	COMP_CRC32C(crc, stored, info->runs_stored_len);
	FIN_CRC32C(crc);
	if (crc != info->runs_crc)
		CowRowMapCorrupt(rel, v, "checksum mismatch");
	raw = palloc(info->runs_raw_len);
	if (info->runs_flags & COW_BLK_UNCOMPRESSED)
	{
		if (info->runs_stored_len != info->runs_raw_len)
			CowRowMapCorrupt(rel, v, "inconsistent lengths");
		memcpy(raw, stored, info->runs_raw_len);
	}
	else
		CowDecompress(stored, info->runs_stored_len, raw, info->runs_raw_len,
					  rel);
	pfree(stored);

	/* the stored columns (CowBuildRowMap) back into runs */
	{
		const uint32 *lens = (const uint32 *) raw;
		const int64 *gaps = (const int64 *) (raw + sizeof(uint32) * info->nruns);
		int64		next = 0;

		for (uint32 i = 0; i < info->nruns; i++)
		{
			if (gaps[i] < -COW_MAX_ROW_NUMBER || gaps[i] > COW_MAX_ROW_NUMBER)
				CowRowMapCorrupt(rel, v, "a row number is out of range");
			m->runs[i].rownum = next + gaps[i];
			m->runs[i].len = lens[i];
			next = m->runs[i].rownum + lens[i];
		}
	}

	/*
	 * The runs tile the positions; the reverse map (the runs' indexes by
	 * row number) is sorted and gives the runs by row number, and their
	 * fence.
	 */
	{
		const uint32 *by_rn = (const uint32 *)
			(raw + (sizeof(uint32) + sizeof(int64)) * info->nruns);
		uint64		pos = 0;

		for (uint32 i = 0; i < m->nruns; i++)
		{
			if (m->runs[i].len == 0 || pos + m->runs[i].len > (uint64) v->row_count ||
				m->runs[i].rownum < 0 ||
				m->runs[i].rownum >= COW_MAX_ROW_NUMBER)
				CowRowMapCorrupt(rel, v, "runs do not tile the rows");
			m->runs[i].pos = (uint32) pos;
			pos += m->runs[i].len;
		}
		if (pos != (uint64) v->row_count)
			CowRowMapCorrupt(rel, v, "runs do not tile the rows");
		for (uint32 i = 0; i < m->nruns; i++)
		{
			if (by_rn[i] >= m->nruns ||
				(i > 0 && m->runs[by_rn[i]].rownum <
				 m->runs[by_rn[i - 1]].rownum + m->runs[by_rn[i - 1]].len))
				CowRowMapCorrupt(rel, v, "the reverse map is not sorted");
			m->rn_runs[i] = m->runs[by_rn[i]];
			if (i % COW_ROWMAP_FENCE_STEP == 0)
				m->rn_fence[i / COW_ROWMAP_FENCE_STEP] = m->rn_runs[i].rownum;
		}
	}
	pfree(raw);
	e->runs_loaded = true;
	if (shared)
		(void) CowSharedCachePut(&key, arrays, len);
}

/*
 * A map's description in the shared cache (COW_SHARED_ROW_MAP_INFO): its
 * runs' count and its absorbed ranges, what a backend's lookups among a
 * list of versions need of every version of the list (CowRowIndexBuild):
 * a new session would otherwise read and check each version's header for
 * them, when its lookup reads one version.  Kept for up to
 * COW_ROWMAP_SHARED_RANGES absorbed ranges (a few kB, copied through the
 * stack); a version with more is read from its header.
 */
#define COW_ROWMAP_SHARED_RANGES	128

typedef struct CowRowMapSharedDesc
{
	uint32		nruns;
	uint32		nabsorbed;
	CowRowRange absorbed[COW_ROWMAP_SHARED_RANGES];
} CowRowMapSharedDesc;

#define COW_ROWMAP_DESC_SIZE(nabsorbed) \
	(offsetof(CowRowMapSharedDesc, absorbed) + \
	 sizeof(CowRowRange) * (nabsorbed))

/* copies a cached description out, when it fits and is whole */
static void
CowRowMapDescCopyOut(const char *bytes, Size len, void *arg)
{
	CowRowMapSharedDesc *d = arg;

	if (len < COW_ROWMAP_DESC_SIZE(0) || len > sizeof(CowRowMapSharedDesc))
		return;
	memcpy(d, bytes, len);
	if (len != COW_ROWMAP_DESC_SIZE(d->nabsorbed))
		d->nabsorbed = PG_UINT32_MAX;
}

/* sets m's runs' count and its absorbed ranges (not aligned: copied) */
static void
CowRowMapSetInfo(CowRowMap *m, uint32 nruns, uint32 nabsorbed,
				 const void *absorbed)
{
	m->nruns = nruns;
	m->nabsorbed = nabsorbed;
	if (nabsorbed > 0)
	{
		m->absorbed = MemoryContextAlloc(CowRowMapCxt,
										 sizeof(CowRowRange) * nabsorbed);
		memcpy(m->absorbed, absorbed, sizeof(CowRowRange) * nabsorbed);
	}
}

/*
 * CowRowMapSharedInfo sets m's runs' count and absorbed ranges from the
 * shared cache; false when it does not hold them.
 */
static bool
CowRowMapSharedInfo(Relation rel, const CowVersion *v, CowRowMap *m)
{
	CowSharedKey key;
	CowRowMapSharedDesc d;

	d.nabsorbed = PG_UINT32_MAX;
	if (!CowSharedCacheKey(&key, rel, v, COW_SHARED_ROW_MAP_INFO, 0, 0) ||
		!CowSharedCacheRead(&key, COW_SHARED_ANY_LENGTH,
							CowRowMapDescCopyOut, &d) ||
		d.nabsorbed == PG_UINT32_MAX)
		return false;
	CowRowMapSetInfo(m, d.nruns, d.nabsorbed, d.absorbed);
	return true;
}

/*
 * CowRowMapReadInfo sets m's runs' count and absorbed ranges from version
 * v's header (none before format 5), and keeps them in the shared cache.
 */
static void
CowRowMapReadInfo(Relation rel, const CowVersion *v, CowRowMap *m)
{
	CowGroupHeader *h = CowReadGroupHeader(rel, v);
	CowRowMapInfo info;
	const char *absorbed;
	CowSharedKey key;

	if (CowGroupRowMapInfo(h, &info, &absorbed))
		CowRowMapSetInfo(m, info.nruns, info.nabsorbed, absorbed);
	else if (h->version >= 5)
		CowRowMapCorrupt(rel, v, "no map in the header");
	pfree(h);
	if (m->nabsorbed <= COW_ROWMAP_SHARED_RANGES &&
		CowSharedCacheKey(&key, rel, v, COW_SHARED_ROW_MAP_INFO, 0, 0))
	{
		CowRowMapSharedDesc d;

		memset(&d, 0, COW_ROWMAP_DESC_SIZE(m->nabsorbed));
		d.nruns = m->nruns;
		d.nabsorbed = m->nabsorbed;
		if (m->nabsorbed > 0)
			memcpy(d.absorbed, m->absorbed, sizeof(CowRowRange) * m->nabsorbed);
		(void) CowSharedCachePut(&key, (const char *) &d,
								 COW_ROWMAP_DESC_SIZE(m->nabsorbed));
	}
}

/*
 * CowRowMapGetEntry: the backend's cache entry of version v's map, made
 * with its absorbed ranges (its runs not read) when new.
 */
static CowRowMapEntry *
CowRowMapGetEntry(Relation rel, const CowVersion *v)
{
	CowRowMapKey key;
	CowRowMapEntry *e;
	bool		found;

	if (CowRowMapCache != NULL &&
		(hash_get_num_entries(CowRowMapCache) >= COW_ROWMAP_CACHE_MAX ||
		 CowRowMapBytes >= COW_ROWMAP_CACHE_BYTES))
		CowRowMapCacheReset();
	if (CowRowMapCache == NULL)
	{
		HASHCTL		ctl;

		if (!CowRowMapCallbackSet)
		{
			CacheRegisterRelcacheCallback(CowRowMapInvalidate, (Datum) 0);
			CowRowMapCallbackSet = true;
		}
		CowRowMapCxt = AllocSetContextCreate(TopMemoryContext,
											 "incetl cow row-number maps",
											 ALLOCSET_DEFAULT_SIZES);
		memset(&ctl, 0, sizeof(ctl));
		ctl.keysize = sizeof(CowRowMapKey);
		ctl.entrysize = sizeof(CowRowMapEntry);
		ctl.hcxt = CowRowMapCxt;
		CowRowMapCache = hash_create("incetl cow row-number maps", 256, &ctl,
									 HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	}

	memset(&key, 0, sizeof(key));
	key.relid = RelationGetRelid(rel);
	key.node = rel->rd_node;
	key.file_group_id = v->file_group_id;
	key.commit_id = v->commit_id;
	key.first_row_number = v->first_row_number;
	key.first_block = v->first_block;
	e = hash_search(CowRowMapCache, &key, HASH_ENTER, &found);
	if (!found)
	{
		memset(&e->map, 0, sizeof(CowRowMap));
		e->runs_loaded = false;
		e->lent = 0;
		e->map.first_row_number = v->first_row_number;
		e->map.nrows = v->row_count;
		PG_TRY();
		{
			if (!CowRowMapSharedInfo(rel, v, &e->map))
				CowRowMapReadInfo(rel, v, &e->map);
		}
		PG_CATCH();
		{
			hash_search(CowRowMapCache, &key, HASH_REMOVE, NULL);
			PG_RE_THROW();
		}
		PG_END_TRY();
		if (e->map.nruns == 0)
			e->runs_loaded = true;
	}
	return e;
}

/* CowRowMapLoad: the runs of e, read into the backend's cache */
static void
CowRowMapLoad(Relation rel, const CowVersion *v, CowRowMapEntry *e)
{
	CowGroupHeader *h = CowReadGroupHeader(rel, v);
	CowRowMapInfo info;

	if (!CowGroupRowMapInfo(h, &info, NULL))
		CowRowMapCorrupt(rel, v, "no map in the header");
	pfree(h);
	CowRowMapLoadRuns(rel, v, e, &info);
}

/*
 * CowGetRowMap returns the row-number map of version v: its absorbed
 * ranges always, its runs when runs (a version whose rows have fresh
 * numbers has none).  The map belongs to the backend's cache: use it
 * before the next call (a cache reset, or an invalidation, frees it).
 */
const CowRowMap *
CowGetRowMap(Relation rel, const CowVersion *v, bool runs)
{
	CowRowMapEntry *e = CowRowMapGetEntry(rel, v);

	if (runs && !e->runs_loaded)
		CowRowMapLoad(rel, v, e);
	return &e->map;
}

/* a row number searched for in the shared cache's copy of a map's runs */
typedef struct CowRowMapProbe
{
	uint32		nruns;
	int64		rn;
	int64		pos;			/* out: CowRowMapPosition's */
} CowRowMapProbe;

static void
CowRowMapProbeShared(const char *bytes, Size len, void *arg)
{
	CowRowMapProbe *p = arg;
	CowRowMap	m;

	memset(&m, 0, sizeof(m));
	m.nruns = p->nruns;
	CowRowMapSetArrays(&m, bytes, p->nruns);
	p->pos = CowRowMapPosition(&m, p->rn);
}

/*
 * CowRowMapFind: the position of row number rn in version v (its map's
 * runs searched), or -1.  While the backend has not copied the runs, the
 * shared cache's copy is searched in place, up to COW_ROWMAP_LEND_MAX
 * times a version; then, or when the shared cache does not hold them, they
 * are copied or read.
 */
static int64
CowRowMapFind(Relation rel, const CowVersion *v, int64 rn)
{
	CowRowMapEntry *e = CowRowMapGetEntry(rel, v);

	if (!e->runs_loaded && e->lent < COW_ROWMAP_LEND_MAX)
	{
		CowSharedKey key;
		CowRowMapProbe probe;

		probe.nruns = e->map.nruns;
		probe.rn = rn;
		probe.pos = -1;
		if (CowSharedCacheKey(&key, rel, v, COW_SHARED_ROW_MAP, 0, 0) &&
			CowSharedCacheRead(&key, CowRowMapArraysSize(e->map.nruns),
							   CowRowMapProbeShared, &probe))
		{
			e->lent++;
			return probe.pos;
		}
	}
	if (!e->runs_loaded)
		CowRowMapLoad(rel, v, e);
	return CowRowMapPosition(&e->map, rn);
}

/* the run of m holding position pos (runs loaded) */
static inline uint32
CowRowMapRunAt(const CowRowMap *m, int64 pos, uint32 hint)
{
	uint32		lo = 0,
				hi = m->nruns;

	if (hint < m->nruns && m->runs[hint].pos <= pos &&
		pos < (int64) m->runs[hint].pos + m->runs[hint].len)
		return hint;
	if (hint + 1 < m->nruns && m->runs[hint + 1].pos <= pos &&
		pos < (int64) m->runs[hint + 1].pos + m->runs[hint + 1].len)
		return hint + 1;
	while (hi - lo > 1)
	{
		uint32		mid = (lo + hi) / 2;

		if (m->runs[mid].pos <= pos)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

/*
 * CowRowMapNumber: the row number at position pos of a map whose runs are
 * loaded.  *hint (may be NULL) is the run last found, to start from.
 */
int64
CowRowMapNumber(const CowRowMap *m, int64 pos, uint32 *hint)
{
	uint32		i;

	if (m->nruns == 0)
		return m->first_row_number + pos;
	i = CowRowMapRunAt(m, pos, hint ? *hint : 0);
	if (hint)
		*hint = i;
	return m->runs[i].rownum + (pos - m->runs[i].pos);
}

/*
 * CowRowMapPosition: the position that holds row number rn in a map whose
 * runs are loaded, or -1.
 */
int64
CowRowMapPosition(const CowRowMap *m, int64 rn)
{
	uint32		lo = 0,
				hi;

	if (m->nruns == 0)
	{
		if (rn >= m->first_row_number && rn < m->first_row_number + m->nrows)
			return rn - m->first_row_number;
		return -1;
	}
	/*
	 * the last run (by row number) starting at or before rn: its fence
	 * entry, then the run among the COW_ROWMAP_FENCE_STEP after it
	 */
	if (m->rn_fence[0] > rn)
		return -1;
	hi = CowRowMapFences(m->nruns);
	while (hi - lo > 1)
	{
		uint32		mid = (lo + hi) / 2;

		if (m->rn_fence[mid] <= rn)
			lo = mid;
		else
			hi = mid;
	}
	lo *= COW_ROWMAP_FENCE_STEP;
	hi = Min(lo + COW_ROWMAP_FENCE_STEP, m->nruns);
	while (hi - lo > 1)
	{
		uint32		mid = (lo + hi) / 2;

		if (m->rn_runs[mid].rownum <= rn)
			lo = mid;
		else
			hi = mid;
	}
	{
		const CowRowRun *run = &m->rn_runs[lo];

		if (rn < run->rownum + run->len)
			return run->pos + (rn - run->rownum);
	}
	return -1;
}

/*
 * CowVersionPosition: the position of row number rn in version v, or -1
 * when v does not hold it.
 */
int64
CowVersionPosition(Relation rel, const CowVersion *v, int64 rn)
{
	const CowRowMap *m = CowGetRowMap(rel, v, false);
	bool		maybe = (rn >= v->first_row_number &&
						 rn < v->first_row_number + v->row_count);

	for (uint32 i = 0; !maybe && i < m->nabsorbed; i++)
		maybe = (rn >= m->absorbed[i].first &&
				 rn < m->absorbed[i].first + m->absorbed[i].count);
	if (!maybe)
		return -1;
	if (m->nruns > 0)
		return CowRowMapFind(rel, v, rn);
	return CowRowMapPosition(m, rn);
}

/*
 * CowVersionOverlaps: may version v hold a row number in [lo, hi)?
 */
bool
CowVersionOverlaps(Relation rel, const CowVersion *v, int64 lo, int64 hi)
{
	const CowRowMap *m;

	if (v->first_row_number < hi && v->first_row_number + v->row_count > lo)
		return true;
	m = CowGetRowMap(rel, v, false);
	for (uint32 i = 0; i < m->nabsorbed; i++)
		if (m->absorbed[i].first < hi &&
			m->absorbed[i].first + m->absorbed[i].count > lo)
			return true;
	return false;
}

/*
 * CowGroupMap: the row-number map of an open group, with its runs: the
 * backend's cached map, found again when the cache was reset since the
 * group last asked (a key range reads a few rows of a group whose map may
 * hold thousands of runs: a copy of them per statement would cost more
 * than the rows' decoding).
 */
static inline const CowRowMap *
CowGroupMap(CowDecodedGroup *g)
{
	if (g->rowmap == NULL || g->rowmap_generation != CowRowMapGeneration)
	{
		g->rowmap = CowGetRowMap(g->rel, &g->version, true);
		/* read after: CowGetRowMap may have reset the cache to make room */
		g->rowmap_generation = CowRowMapGeneration;
	}
	return g->rowmap;
}

/*
 * CowGroupRowNumberRun is CowGroupRowNumber (read.h) for a position
 * outside the run found last: it finds pos's run in the group's map and
 * keeps it in g.
 */
int64
CowGroupRowNumberRun(CowDecodedGroup *g, uint64 pos)
{
	const CowRowMap *m = CowGroupMap(g);
	int64		rownum = CowRowMapNumber(m, (int64) pos, &g->rowmap_hint);
	const CowRowRun *run;

	if (m->nruns == 0)
	{
		g->run_lo = 0;
		g->run_n = g->nrows;
		g->run_delta = m->first_row_number;
		return rownum;
	}
	run = &m->runs[g->rowmap_hint];
	if (pos >= run->pos && pos < (uint64) run->pos + run->len)
	{
		g->run_lo = run->pos;
		g->run_n = run->len;
		g->run_delta = run->rownum - run->pos;
	}
	return rownum;
}

/*
 * CowGroupRowNumbers puts the row numbers of positions pos .. pos + n - 1
 * of an open group into out[n].
 */
void
CowGroupRowNumbers(CowDecodedGroup *g, uint64 pos, int64 n, int64 *out)
{
	const CowRowMap *m = CowGroupMap(g);
	int64		k = 0;

	if (m->nruns == 0)
	{
		for (k = 0; k < n; k++)
			out[k] = m->first_row_number + (int64) pos + k;
		return;
	}
	while (k < n)
	{
		uint32		i = CowRowMapRunAt(m, (int64) pos + k, g->rowmap_hint);
		const CowRowRun *run = &m->runs[i];
		int64		off = (int64) pos + k - run->pos;
		int64		len = Min((int64) run->len - off, n - k);

		g->rowmap_hint = i;
		for (int64 j = 0; j < len; j++)
			out[k + j] = run->rownum + off + j;
		k += len;
	}
}

/*
 * CowGroupPosition: the position of row number rn in an open group, or -1.
 */
int64
CowGroupPosition(CowDecodedGroup *g, int64 rn)
{
	return CowRowMapPosition(CowGroupMap(g), rn);
}

/* ---------- lookups among a list of versions ---------- */

typedef struct CowRowInterval
{
	int64		lo;
	int64		hi;				/* exclusive */
	int			vi;
} CowRowInterval;

struct CowRowIndex
{
	Relation	rel;
	CowVersion *versions;		/* the caller's */
	int			nversions;
	bool		simple;			/* no version absorbs a range: the reserved
								 * ranges alone, sorted and disjoint */
	int			nintervals;
	CowRowInterval *intervals;	/* sorted by lo */
	int64	   *max_hi;			/* [i]: max of intervals[0..i].hi */
};

static int
CowIntervalCmp(const void *a, const void *b)
{
	const CowRowInterval *x = a;
	const CowRowInterval *y = b;

	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	return x->vi < y->vi ? -1 : (x->vi > y->vi ? 1 : 0);
}

/*
 * CowRowIndexSetRelation: the relation later lookups read maps through.
 * An index kept longer than the statement that built it (a cache across
 * calls) must be given the caller's relation before each lookup: the one
 * it was built with may be closed, or be another relation of the same
 * storage (a rewrite's transient table).
 */
void
CowRowIndexSetRelation(CowRowIndex *ix, Relation rel)
{
	if (ix != NULL)
		ix->rel = rel;
}

/*
 * CowRowIndexSetMaxHi fills ix->max_hi over its sorted intervals, and
 * takes ix for not simple when two of them overlap.
 */
static void
CowRowIndexSetMaxHi(CowRowIndex *ix)
{
	int			k = ix->nintervals;

	ix->max_hi = palloc(sizeof(int64) * Max(k, 1));
	for (int i = 0; i < k; i++)
	{
		ix->max_hi[i] = ix->intervals[i].hi;
		if (i > 0 && ix->max_hi[i - 1] > ix->max_hi[i])
			ix->max_hi[i] = ix->max_hi[i - 1];
		/* reserved ranges of one list are disjoint: overlaps are absorbed */
		if (i > 0 && ix->intervals[i].lo < ix->max_hi[i - 1])
			ix->simple = false;
	}
}

/*
 * CowRowIndexBuild prepares lookups by row number among versions[n] (kept
 * by reference: the caller keeps the list while the index is used), in the
 * current memory context.  It reads each version's absorbed ranges.
 */
CowRowIndex *
CowRowIndexBuild(Relation rel, CowVersion *versions, int n)
{
	CowRowIndex *ix = palloc0(sizeof(CowRowIndex));
	int			cap = Max(n, 1);
	int			k = 0;

	ix->rel = rel;
	ix->versions = versions;
	ix->nversions = n;
	ix->intervals = palloc(sizeof(CowRowInterval) * cap);
	ix->simple = true;
	for (int i = 0; i < n; i++)
	{
		const CowRowMap *m = CowGetRowMap(rel, &versions[i], false);

		if (k + 1 + (int) m->nabsorbed > cap)
		{
			cap = Max(cap * 2, k + 1 + (int) m->nabsorbed);
			ix->intervals = repalloc(ix->intervals, sizeof(CowRowInterval) * cap);
		}
		ix->intervals[k].lo = versions[i].first_row_number;
		ix->intervals[k].hi = versions[i].first_row_number + versions[i].row_count;
		ix->intervals[k].vi = i;
		k++;
		for (uint32 a = 0; a < m->nabsorbed; a++)
		{
			ix->intervals[k].lo = m->absorbed[a].first;
			ix->intervals[k].hi = m->absorbed[a].first + m->absorbed[a].count;
			ix->intervals[k].vi = i;
			k++;
			ix->simple = false;
		}
		if (m->nruns > 0)
			ix->simple = false;
	}
	ix->nintervals = k;
	if (k > 1)
		qsort(ix->intervals, k, sizeof(CowRowInterval), CowIntervalCmp);
	CowRowIndexSetMaxHi(ix);
	return ix;
}

/*
 * CowRowIndexCopy: ix for versions[], a copy of the list ix was built
 * over, in the current memory context (what CowRowIndexBuild would build,
 * without reading the maps or sorting again).
 */
CowRowIndex *
CowRowIndexCopy(const CowRowIndex *ix, CowVersion *versions)
{
	CowRowIndex *copy = palloc(sizeof(CowRowIndex));
	int			k = Max(ix->nintervals, 1);

	*copy = *ix;
	copy->versions = versions;
	copy->intervals = palloc(sizeof(CowRowInterval) * k);
	memcpy(copy->intervals, ix->intervals,
		   sizeof(CowRowInterval) * ix->nintervals);
	copy->max_hi = palloc(sizeof(int64) * k);
	memcpy(copy->max_hi, ix->max_hi, sizeof(int64) * ix->nintervals);
	return copy;
}

/*
 * A CowRowIndex as bytes, for the shared cache (cow_version_cache.c): this
 * header, then the intervals.  What it holds follows from the list it was
 * built over alone (each version's reserved and absorbed ranges), so it is
 * kept with that list, and a new session's first lookup does not read the
 * description of every version of the list to build it again.
 */
typedef struct CowRowIndexFlat
{
	int32		nversions;
	int32		nintervals;
	bool		simple;
} CowRowIndexFlat;

#define COW_ROWIX_FLAT_HEADER	MAXALIGN(sizeof(CowRowIndexFlat))

/* CowRowIndexFlatten: ix as bytes, palloc'd, *len of them */
char *
CowRowIndexFlatten(const CowRowIndex *ix, Size *len)
{
	CowRowIndexFlat *h;
	char	   *bytes;

	*len = COW_ROWIX_FLAT_HEADER + sizeof(CowRowInterval) * ix->nintervals;
	bytes = palloc0(*len);
	h = (CowRowIndexFlat *) bytes;
	h->nversions = ix->nversions;
	h->nintervals = ix->nintervals;
	h->simple = ix->simple;
	if (ix->nintervals > 0)
		memcpy(bytes + COW_ROWIX_FLAT_HEADER, ix->intervals,
			   sizeof(CowRowInterval) * ix->nintervals);
	return bytes;
}

/*
 * CowRowIndexUnflatten: the index of len bytes made by CowRowIndexFlatten
 * over versions[n] (the same list), in the current memory context; NULL
 * when the bytes are not an index over n versions.
 */
CowRowIndex *
CowRowIndexUnflatten(Relation rel, CowVersion *versions, int n,
					 const char *bytes, Size len)
{
	const CowRowIndexFlat *h = (const CowRowIndexFlat *) bytes;
	CowRowIndex *ix;
	int			k;

	if (len < COW_ROWIX_FLAT_HEADER || h->nversions != n ||
		h->nintervals < 0 ||
		len != COW_ROWIX_FLAT_HEADER + sizeof(CowRowInterval) * h->nintervals)
		return NULL;
	k = h->nintervals;
	ix = palloc0(sizeof(CowRowIndex));
	ix->rel = rel;
	ix->versions = versions;
	ix->nversions = n;
	ix->simple = h->simple;
	ix->nintervals = k;
	ix->intervals = palloc(sizeof(CowRowInterval) * Max(k, 1));
	if (k > 0)
		memcpy(ix->intervals, bytes + COW_ROWIX_FLAT_HEADER,
			   sizeof(CowRowInterval) * k);
	for (int i = 0; i < k; i++)
	{
		if (ix->intervals[i].vi < 0 || ix->intervals[i].vi >= n)
		{
			pfree(ix->intervals);
			pfree(ix);
			return NULL;
		}
	}
	CowRowIndexSetMaxHi(ix);
	return ix;
}

/* CowRowIndexSimple: does every version hold its own reserved range alone? */
bool
CowRowIndexSimple(CowRowIndex *ix)
{
	return ix->simple;
}

void
CowRowIndexFree(CowRowIndex *ix)
{
	if (ix == NULL)
		return;
	pfree(ix->intervals);
	pfree(ix->max_hi);
	pfree(ix);
}

/*
 * CowRowIndexFind returns the index in the list of a version holding row
 * number rn, and its position there in *pos (may be NULL), or -1.  When
 * several versions of the list hold it (a list of every version some
 * snapshot may see), the one with the highest commit id.
 */
int
CowRowIndexFind(CowRowIndex *ix, int64 rn, int64 *pos)
{
	int			lo = 0,
				hi = ix->nintervals - 1,
				last = -1;
	int			best = -1;
	int64		best_pos = -1;

	/* the last interval with lo <= rn */
	while (lo <= hi)
	{
		int			mid = (lo + hi) / 2;

		if (ix->intervals[mid].lo <= rn)
		{
			last = mid;
			lo = mid + 1;
		}
		else
			hi = mid - 1;
	}
	for (int i = last; i >= 0 && ix->max_hi[i] > rn; i--)
	{
		const CowRowInterval *iv = &ix->intervals[i];
		int64		p;

		if (rn >= iv->hi)
			continue;
		if (best >= 0 &&
			ix->versions[iv->vi].commit_id <= ix->versions[best].commit_id)
			continue;
		if (ix->simple)
			p = rn - ix->versions[iv->vi].first_row_number;
		else
		{
			p = CowRowMapFind(ix->rel, &ix->versions[iv->vi], rn);
		}
		if (p < 0)
			continue;
		best = iv->vi;
		best_pos = p;
		if (ix->simple)
			break;
	}
	if (pos != NULL)
		*pos = best_pos;
	return best;
}

/*
 * CowRowIndexNextBusy: the smallest row number >= rn in a reserved or
 * absorbed range of the list, or -1.
 */
int64
CowRowIndexNextBusy(CowRowIndex *ix, int64 rn)
{
	int			lo = 0,
				hi = ix->nintervals;

	/* the first interval whose prefix reaches past rn */
	while (lo < hi)
	{
		int			mid = (lo + hi) / 2;

		if (ix->max_hi[mid] <= rn)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo >= ix->nintervals)
		return -1;
	return Max(rn, ix->intervals[lo].lo);
}

/*
 * CowRowIndexEnd: one past the highest row number any version of
 * the list reserved (numbers are reserved in ascending order, and carried
 * numbers come from earlier reservations).
 */
int64
CowRowIndexEnd(CowRowIndex *ix)
{
	int64		end = 0;

	for (int i = 0; i < ix->nversions; i++)
		end = Max(end, ix->versions[i].first_row_number +
				  ix->versions[i].row_count);
	return end;
}

/*
 * CowFindRow: as CowRowIndexFind, for a one-off lookup in a list.
 */
int
CowFindRow(Relation rel, CowVersion *versions, int n, int64 rn, int64 *pos)
{
	CowRowIndex *ix = CowRowIndexBuild(rel, versions, n);
	int			vi = CowRowIndexFind(ix, rn, pos);

	CowRowIndexFree(ix);
	return vi;
}
