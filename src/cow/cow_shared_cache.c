/*-------------------------------------------------------------------------
 *
 * cow_shared_cache.c
 *	  The server's cache of decompressed incetl_cow frames, in shared
 *	  memory: a frame one backend decompressed for a lookup, the next
 *	  backend reading it copies instead of decompressing it again.
 *
 * A backend's read cache (cow_read_cache.c) keeps the frames it
 * decompressed, but a new session starts with none: its first lookup in
 * each block decompresses the block's first frame (a VARLENA block's null
 * bitmap and lengths, what every value read needs) and the frame of the
 * value, some 80 k instructions of zstd a block, where heap finds its
 * page in shared buffers, decoded once for every backend.  This cache is
 * to the read cache what shared buffers are to a backend: the frames
 * decompressed by any backend, the marks that an uncompressed block's CRC
 * was verified, the value blocks backends made of blocks (what reading one
 * value of a block needs of its headers, cow/format.h), small blocks
 * decompressed whole (whose values' bytes a backend without them copies
 * from here, cow_read_cache.c, CowReadCacheGetWholePart), and the row-number
 * maps of file group versions, checked
 * and built into arrays (cow_rowmap.c), for every backend of the server;
 * and tables' lists of file group versions (cow_version_cache.c), keyed
 * by generations counted here.
 *
 * The cache is an arena of incetl.cow_shared_cache_size bytes written as a
 * ring: each record (a key, a length, the frame's bytes) is written after
 * the last, and the oldest records are dropped to make room (first in,
 * first out: a frame read often is read again from the backend's own
 * cache, which keeps the most recently used).  A partitioned hash table
 * maps a key to its record.
 *
 * What every read of a block needs -- its value block, the mark that its
 * CRC was verified, its first frame (a VARLENA block's lengths), a small
 * block whole, a version's row-number map, a table's list of versions --
 * is not dropped in its turn if it was read since it was written: it is
 * written again at the head (a second chance, as a clock sweep gives a
 * buffer used since it last passed), up to COW_SHARED_KEEP_BUDGET bytes
 * for each record written.  Those are small, and a stream of lookups over
 * a table whose frames do not fit would otherwise drop them with the
 * frames: each lookup then made the value blocks again, reading and
 * checking the whole block.  The other frames of a block, which only the
 * reads of their rows need, pass in order.  Locks:
 *
 *	- a reader takes the key's partition lock shared, finds the record,
 *	  copies its bytes out (or searches them in place: a row number in a
 *	  version's row-number map, CowSharedCacheRead) and releases the lock;
 *	- a writer takes the arena lock (one writer at a time), drops the
 *	  oldest records until the new one fits -- each removed from the hash
 *	  under its partition lock exclusive, so no reader is still copying it
 *	  -- writes the record and enters it under its partition lock.
 *
 * Locks are taken arena first, then one partition; a reader holds one
 * partition lock only.  Nothing here raises an error once a lock is held.
 *
 * What a key names never changes (cow/shared_cache.h): a list of versions
 * is named by the generation of the catalog rows it was read from (see
 * CowSharedCacheStorageChanged), and file group versions
 * are written once, at row numbers and a commit id no other version of
 * the storage has.  A relfilenode is used again only by new storage, and
 * every new incetl_cow storage first forgets what the cache holds for its
 * relfilenode (CowSharedCacheForgetNode, from the table AM's callbacks
 * that give a table a new or emptied file: relation_set_new_filenode,
 * relation_nontransactional_truncate, relation_copy_data), so a record of
 * a dropped table is never read as one of a new one.  Temporary tables,
 * whose relfilenodes two backends may share, are not cached here, nor
 * is anything during recovery (a hot standby replays drops and creations
 * without those calls).  The bytes were checked when they were first read
 * (each frame against the CRC of the frame index), as the backend's cache
 * trusts what it checked.
 *
 * Reading a relation's frames from here needs what reading them at all
 * needs: the relation opened by the executor, its privileges checked.
 *
 * Copyright (c) 2026, incetl authors
 *
 * IDENTIFICATION
 *	  src/cow/cow_shared_cache.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "common/hashfn.h"
#include "access/xlog.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "port/atomics.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/rel.h"

#include "cow/shared_cache.h"

int			CowSharedCacheSize = -1;	/* kB; -1: from shared_buffers */

/*
 * incetl.cow_shared_cache_size = -1 (the default) sizes the cache from
 * shared_buffers, as wal_buffers = -1 does: a quarter of it, since the
 * cache holds decompressed what shared buffers hold compressed (the bench
 * table's text is half its size compressed), at least 64 MB and at most
 * 1 GB.
 */
#define COW_SHARED_AUTO_MIN		(64 * 1024) /* kB */
#define COW_SHARED_AUTO_MAX		(1024 * 1024)	/* kB */

#define COW_SHARED_PARTITIONS	16
#define COW_SHARED_TRANCHE		"incetl_cow_shared_cache"

/* counters of catalog row changes, shared by storages of one hash */
#define COW_SHARED_GENERATIONS	4096

/* a hash entry for every this many bytes of arena: frames are 4 kB */
#define COW_SHARED_BYTES_PER_ENTRY	2048

/* a record: its header, then len bytes (both MAXALIGNed) */
typedef struct CowSharedRecord
{
	CowSharedKey key;
	uint32		len;
	uint32		padding;		/* 1: the rest of the arena is unused */
} CowSharedRecord;

#define COW_SHARED_HEADER		MAXALIGN(sizeof(CowSharedRecord))

typedef struct CowSharedEntry
{
	CowSharedKey key;			/* first: the hash key */
	uint64		pos;			/* of the record, in bytes written so far */
	uint32		len;
	pg_atomic_uint32 read;		/* 1: read since written (or kept) */
} CowSharedEntry;

/*
 * A record read since it was written is kept (written again at the head)
 * rather than dropped when it is of this size at most and one of those
 * every read of a block needs (CowSharedKeepable); a write keeps at most
 * COW_SHARED_KEEP_BUDGET bytes of them before it drops the rest.
 */
#define COW_SHARED_KEEP_MAX		(32 * 1024)
#define COW_SHARED_KEEP_BUDGET	(64 * 1024)

/*
 * A partition's lookup counters, a cache line each: every lookup counts
 * one, and one counter for all would be a line every backend writes.
 */
typedef union CowSharedCounts
{
	struct
	{
		pg_atomic_uint64 hits;
		pg_atomic_uint64 misses;
	}			c;
	char		pad[PG_CACHE_LINE_SIZE];
} CowSharedCounts;

typedef struct CowSharedCtl
{
	Size		size;			/* of the arena */
	uint32		max_entries;
	/* under the arena lock: records in [tail, head), as positions */
	uint64		head;
	uint64		tail;
	pg_atomic_uint32 entries;
	pg_atomic_uint64 writes;
	pg_atomic_uint64 dropped;
	CowSharedCounts counts[COW_SHARED_PARTITIONS];
	/* generations of storages' catalog rows (see below) */
	pg_atomic_uint64 epoch;
	pg_atomic_uint64 generations[COW_SHARED_GENERATIONS];
} CowSharedCtl;

static CowSharedCtl *CowShared = NULL;
/* a record being kept, while it moves (under the arena lock) */
static union
{
	char		data[MAXALIGN(sizeof(CowSharedRecord)) + COW_SHARED_KEEP_MAX];
	double		align;
}			CowSharedMoving;
static char *CowSharedArena = NULL;
static HTAB *CowSharedHash = NULL;
static LWLockPadded *CowSharedLocks = NULL; /* [0] arena, then partitions */

static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

static Size
CowSharedArenaSize(void)
{
	return (Size) TYPEALIGN_DOWN(MAXIMUM_ALIGNOF,
								 (Size) CowSharedCacheSize * 1024);
}

static uint32
CowSharedMaxEntries(void)
{
	return (uint32) Max(CowSharedArenaSize() / COW_SHARED_BYTES_PER_ENTRY, 64);
}

/*
 * CowSharedResolveSize turns incetl.cow_shared_cache_size = -1 into its
 * size, a quarter of shared_buffers within COW_SHARED_AUTO_MIN and _MAX,
 * and sets the setting to it (as a default: SHOW gives the size), once,
 * in the postmaster before the shared memory is sized; backends inherit
 * it.
 */
static void
CowSharedResolveSize(void)
{
	int64		kb;
	char		buf[32];

	if (CowSharedCacheSize != -1)
		return;
	kb = (int64) NBuffers * (BLCKSZ / 1024) / 4;
	kb = Max(kb, COW_SHARED_AUTO_MIN);
	kb = Min(kb, COW_SHARED_AUTO_MAX);
	snprintf(buf, sizeof(buf), "%d", (int) kb);
	SetConfigOption("incetl.cow_shared_cache_size", buf, PGC_POSTMASTER,
					PGC_S_DYNAMIC_DEFAULT);
	/* -1 written in postgresql.conf outranks a default */
	if (CowSharedCacheSize == -1)
		SetConfigOption("incetl.cow_shared_cache_size", buf, PGC_POSTMASTER,
						PGC_S_OVERRIDE);
}

static void
CowSharedShmemRequest(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	CowSharedResolveSize();
	if (CowSharedCacheSize <= 0)
		return;
	RequestAddinShmemSpace(add_size(MAXALIGN(sizeof(CowSharedCtl)),
									CowSharedArenaSize()));
	RequestAddinShmemSpace(hash_estimate_size(CowSharedMaxEntries(),
											  sizeof(CowSharedEntry)));
	RequestNamedLWLockTranche(COW_SHARED_TRANCHE, 1 + COW_SHARED_PARTITIONS);
}

static void
CowSharedShmemStartup(void)
{
	bool		found;
	HASHCTL		info;
	uint32		max_entries;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	if (CowSharedCacheSize <= 0)
		return;
	max_entries = CowSharedMaxEntries();
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	CowShared = ShmemInitStruct("incetl_cow shared cache",
								add_size(MAXALIGN(sizeof(CowSharedCtl)),
										 CowSharedArenaSize()),
								&found);
	if (!found)
	{
		CowShared->size = CowSharedArenaSize();
		CowShared->max_entries = max_entries;
		CowShared->head = 0;
		CowShared->tail = 0;
		pg_atomic_init_u32(&CowShared->entries, 0);
		for (int i = 0; i < COW_SHARED_PARTITIONS; i++)
		{
			pg_atomic_init_u64(&CowShared->counts[i].c.hits, 0);
			pg_atomic_init_u64(&CowShared->counts[i].c.misses, 0);
		}
		pg_atomic_init_u64(&CowShared->writes, 0);
		pg_atomic_init_u64(&CowShared->dropped, 0);
		pg_atomic_init_u64(&CowShared->epoch, 0);
		for (int i = 0; i < COW_SHARED_GENERATIONS; i++)
			pg_atomic_init_u64(&CowShared->generations[i], 0);
	}
	CowSharedArena = (char *) CowShared + MAXALIGN(sizeof(CowSharedCtl));
	info.keysize = sizeof(CowSharedKey);
	info.entrysize = sizeof(CowSharedEntry);
	info.num_partitions = COW_SHARED_PARTITIONS;
	CowSharedHash = ShmemInitHash("incetl_cow shared cache index",
								  max_entries, max_entries, &info,
								  HASH_ELEM | HASH_BLOBS | HASH_PARTITION);
	CowSharedLocks = GetNamedLWLockTranche(COW_SHARED_TRANCHE);
	LWLockRelease(AddinShmemInitLock);
}

/* may this backend use the cache now? */
static inline bool
CowSharedUsable(void)
{
	return CowShared != NULL && !RecoveryInProgress();
}

static inline LWLock *
CowSharedPartitionLock(uint32 hash)
{
	return &CowSharedLocks[1 + hash % COW_SHARED_PARTITIONS].lock;
}

/*
 * CowSharedCacheRead calls reader on the cached bytes of key, which are
 * len bytes (or any number, COW_SHARED_ANY_LENGTH), in place, under the
 * key's partition lock; false (reader not called) when they are not
 * cached.  For a search that reads a few of many bytes (a row number
 * looked up in a version's row-number map: a new session's lookups would
 * otherwise copy the whole map to find one row).  The reader runs with a
 * lock held: it must be short, and must neither raise an error nor take a
 * lock.
 */
bool
CowSharedCacheRead(const CowSharedKey *key, Size len, CowSharedReader reader,
				   void *arg)
{
	uint32		hash;
	LWLock	   *lock;
	CowSharedEntry *e;
	CowSharedCounts *counts;
	bool		hit = false;

	if (!CowSharedUsable())
		return false;
	hash = get_hash_value(CowSharedHash, key);
	lock = CowSharedPartitionLock(hash);
	LWLockAcquire(lock, LW_SHARED);
	e = hash_search_with_hash_value(CowSharedHash, key, hash, HASH_FIND, NULL);
	if (e != NULL && (len == COW_SHARED_ANY_LENGTH || e->len == len))
	{
		reader(CowSharedArena + e->pos % CowShared->size + COW_SHARED_HEADER,
			   e->len, arg);
		hit = true;
		/* written only when it changes: a hot record's line stays shared */
		if (pg_atomic_read_u32(&e->read) == 0)
			pg_atomic_write_u32(&e->read, 1);
	}
	LWLockRelease(lock);
	counts = &CowShared->counts[hash % COW_SHARED_PARTITIONS];
	pg_atomic_fetch_add_u64(hit ? &counts->c.hits : &counts->c.misses, 1);
	return hit;
}

/* what CowSharedCacheGet copies out */
typedef struct CowSharedCopy
{
	Size		from;
	Size		n;
	char	   *dst;
} CowSharedCopy;

static void
CowSharedCopyOut(const char *bytes, Size len, void *arg)
{
	CowSharedCopy *c = arg;

	Assert(c->from <= len && c->n <= len - c->from);
	if (c->n > 0)
		memcpy(c->dst, bytes + c->from, c->n);
}

/*
 * CowSharedCacheGet copies bytes [from, from + n) of the cached bytes of
 * key, which are len bytes, into dst; false when they are not cached.  A
 * reader of a few values copies only their bytes (CowReadCacheGetFramePart).
 */
bool
CowSharedCacheGet(const CowSharedKey *key, Size len, Size from, Size n,
				  char *dst)
{
	CowSharedCopy c;

	c.from = from;
	c.n = n;
	c.dst = dst;
	return CowSharedCacheRead(key, len, CowSharedCopyOut, &c);
}

/*
 * CowSharedForget removes the hash entry of the record at pos, if it is
 * still that record's (a later record of the same key replaces it).
 * Under the arena lock.
 */
static bool
CowSharedForget(const CowSharedRecord *r, uint64 pos)
{
	uint32		hash = get_hash_value(CowSharedHash, &r->key);
	LWLock	   *lock = CowSharedPartitionLock(hash);
	CowSharedEntry *e;
	bool		removed = false;

	LWLockAcquire(lock, LW_EXCLUSIVE);
	e = hash_search_with_hash_value(CowSharedHash, &r->key, hash, HASH_FIND,
									NULL);
	if (e != NULL && e->pos == pos)
	{
		(void) hash_search_with_hash_value(CowSharedHash, &r->key, hash,
										   HASH_REMOVE, NULL);
		pg_atomic_fetch_sub_u32(&CowShared->entries, 1);
		removed = true;
	}
	LWLockRelease(lock);
	return removed;
}

/*
 * CowSharedNext: the record at *pos, or NULL when *pos is the end of the
 * arena (its unused rest): *pos then moves to the arena's start.  For
 * records in [tail, head), under the arena lock.
 */
static const CowSharedRecord *
CowSharedNext(uint64 *pos)
{
	Size		size = CowShared->size;
	Size		off = *pos % size;
	const CowSharedRecord *r;

	if (size - off < COW_SHARED_HEADER)
	{
		*pos += size - off;
		return NULL;
	}
	r = (const CowSharedRecord *) (CowSharedArena + off);
	if (r->padding)
	{
		*pos += size - off;
		return NULL;
	}
	return r;
}

/*
 * CowSharedCacheKey makes the key of frame "frame" of block blockno of
 * column attidx of version v of rel (with attidx COW_SHARED_ROW_MAP, of
 * the version's row-number map, COW_SHARED_ROW_MAP_INFO, of its
 * description); false when the relation's records are
 * not kept here (a temporary table: two backends' may have one
 * relfilenode).
 */
bool
CowSharedCacheKey(CowSharedKey *key, Relation rel, const CowVersion *v,
				  int attidx, uint32 blockno, uint32 frame)
{
	if (rel->rd_rel->relpersistence == RELPERSISTENCE_TEMP)
		return false;
	/* the key is hashed and compared as bytes: no stray padding */
	memset(key, 0, sizeof(CowSharedKey));
	CowVersionNameSet(&key->version, rel->rd_node, v);
	key->attidx = attidx;
	key->blockno = blockno;
	key->frame = frame;
	return true;
}

/* the arena bytes of a record of len bytes */
static inline Size
CowSharedRecordSize(Size len)
{
	return COW_SHARED_HEADER + MAXALIGN(len);
}

/*
 * CowSharedKeepable: is a record of key and len one that every read of a
 * block needs (or of a table, or a version), kept while it is read?  Not
 * a frame after a block's first, which only the reads of its rows need.
 */
static inline bool
CowSharedKeepable(const CowSharedKey *key, Size len)
{
	if (CowSharedRecordSize(len) > COW_SHARED_HEADER + COW_SHARED_KEEP_MAX)
		return false;
	return key->attidx < 0 || key->frame == 0 ||
		key->frame >= COW_SHARED_WHOLE_BLOCK;
}

/*
 * CowSharedPlace: where a record of need bytes goes at the head, past the
 * arena's end starting over at its start (a record is never split)
 */
static inline uint64
CowSharedPlace(Size need)
{
	Size		size = CowShared->size;
	uint64		start = CowShared->head;

	if (size - start % size < need)
		start += size - start % size;
	return start;
}

/*
 * CowSharedWrite writes a record of key and the len bytes at src to the
 * arena at start (CowSharedPlace), where the record's bytes from the head
 * on are free, marks the unused end of the arena when start wrapped
 * around, and moves the head past the record.  Under the arena lock.
 */
static void
CowSharedWrite(uint64 start, const CowSharedKey *key, const char *src,
			   Size len)
{
	Size		size = CowShared->size;
	CowSharedRecord *r;

	if (start != CowShared->head &&
		size - CowShared->head % size >= COW_SHARED_HEADER)
	{
		r = (CowSharedRecord *) (CowSharedArena + CowShared->head % size);
		r->padding = 1;
	}
	r = (CowSharedRecord *) (CowSharedArena + start % size);
	r->key = *key;
	r->len = (uint32) len;
	r->padding = 0;
	if (len > 0)
		memcpy((char *) r + COW_SHARED_HEADER, src, len);
	CowShared->head = start + CowSharedRecordSize(len);
}

/*
 * CowSharedKeepOrDrop makes room of the oldest record, at pos: it is
 * dropped, or, when it is one to keep (CowSharedKeepable) and was read
 * since it was written, written again at the head while *budget lasts.
 * The tail moves past it either way.  Under the arena lock.
 */
static void
CowSharedKeepOrDrop(const CowSharedRecord *old, uint64 pos, Size *budget)
{
	Size		osize = CowSharedRecordSize(old->len);
	bool		keepable = osize <= *budget &&
		CowSharedKeepable(&old->key, old->len);
	uint32		hash = get_hash_value(CowSharedHash, &old->key);
	LWLock	   *lock = CowSharedPartitionLock(hash);
	CowSharedEntry *e;

	/* the record's bytes stay as they are until written over, below */
	CowShared->tail = pos + osize;
	LWLockAcquire(lock, LW_EXCLUSIVE);
	e = hash_search_with_hash_value(CowSharedHash, &old->key, hash,
									HASH_FIND, NULL);
	if (e != NULL && e->pos == pos)
	{
		uint64		start = CowSharedPlace(osize);

		if (keepable && pg_atomic_read_u32(&e->read) != 0 &&
			start + osize - CowShared->tail <= CowShared->size)
		{
			CowSharedRecord *moving = (CowSharedRecord *) CowSharedMoving.data;

			/*
			 * a copy first, since it may be written over where it goes;
			 * readers of the key wait on its lock while it moves
			 */
			memcpy(moving, old, osize);
			CowSharedWrite(start, &moving->key,
						   (char *) moving + COW_SHARED_HEADER, moving->len);
			e->pos = start;
			pg_atomic_write_u32(&e->read, 0);
			*budget -= osize;
		}
		else
		{
			(void) hash_search_with_hash_value(CowSharedHash, &old->key,
											   hash, HASH_REMOVE, NULL);
			pg_atomic_fetch_sub_u32(&CowShared->entries, 1);
			pg_atomic_fetch_add_u64(&CowShared->dropped, 1);
		}
	}
	LWLockRelease(lock);
}

/*
 * CowSharedCachePut keeps a copy of len bytes for key, unless they are
 * cached already (another backend got there first) or too large: at most
 * an eighth of the arena.  True when they are in the cache now; false when
 * they could not be kept (the cache off or full, or the bytes too large).
 */
bool
CowSharedCachePut(const CowSharedKey *key, const char *src, Size len)
{
	Size		size;
	Size		need = CowSharedRecordSize(len);
	uint32		hash;
	LWLock	   *lock;
	LWLock	   *arena_lock;
	uint64		start;
	CowSharedEntry *e;
	bool		found;
	bool		entered;
	Size		budget = COW_SHARED_KEEP_BUDGET;

	if (!CowSharedUsable())
		return false;
	size = CowShared->size;
	if (need > size / 8)
		return false;
	hash = get_hash_value(CowSharedHash, key);
	lock = CowSharedPartitionLock(hash);
	arena_lock = &CowSharedLocks[0].lock;

	LWLockAcquire(arena_lock, LW_EXCLUSIVE);
	LWLockAcquire(lock, LW_SHARED);
	found = hash_search_with_hash_value(CowSharedHash, key, hash, HASH_FIND,
										NULL) != NULL;
	LWLockRelease(lock);
	if (found)
	{
		LWLockRelease(arena_lock);
		return true;
	}

	/*
	 * Drop (or keep) the oldest records until [start, start + need) is
	 * free; a record kept moves the head, so where this one goes is asked
	 * again each time.
	 */
	for (;;)
	{
		uint64		pos = CowShared->tail;
		const CowSharedRecord *old;

		start = CowSharedPlace(need);
		if (start + need - CowShared->tail <= size)
			break;
		old = CowSharedNext(&pos);
		if (old == NULL)
			CowShared->tail = pos;
		else
			CowSharedKeepOrDrop(old, pos, &budget);
	}
	CowSharedWrite(start, key, src, len);

	LWLockAcquire(lock, LW_EXCLUSIVE);
	entered = false;
	if (pg_atomic_read_u32(&CowShared->entries) < CowShared->max_entries)
	{
		e = hash_search_with_hash_value(CowSharedHash, key, hash,
										HASH_ENTER_NULL, &found);
		if (e != NULL)
		{
			if (!found)
				pg_atomic_fetch_add_u32(&CowShared->entries, 1);
			e->pos = start;
			e->len = (uint32) len;
			pg_atomic_init_u32(&e->read, 0);
			entered = true;
		}
	}
	LWLockRelease(lock);
	LWLockRelease(arena_lock);
	pg_atomic_fetch_add_u64(&CowShared->writes, 1);
	return entered;
}

/*
 * CowSharedCacheForgetNode forgets every record of the file node: called
 * before new incetl_cow storage is made in it, so that what the cache
 * holds of an earlier file of the same number (a dropped table's) is
 * never read as the new one's.  The records stay in the arena until
 * their turn to be dropped, found by no key.
 */
void
CowSharedCacheForgetNode(RelFileNode node)
{
	LWLock	   *arena_lock;
	uint64		pos;

	if (CowShared == NULL)
		return;
	arena_lock = &CowSharedLocks[0].lock;
	LWLockAcquire(arena_lock, LW_EXCLUSIVE);
	pos = CowShared->tail;
	while (pos < CowShared->head)
	{
		const CowSharedRecord *r = CowSharedNext(&pos);

		if (r == NULL)
			continue;
		if (RelFileNodeEquals(r->key.version.node, node))
			(void) CowSharedForget(r, pos);
		pos += CowSharedRecordSize(r->len);
	}
	LWLockRelease(arena_lock);
}

/*
 * Generations of storages' catalog rows.  A record made from catalog rows
 * (a storage's file group versions as incetl.cow_file_group lists them,
 * cow_version_cache.c) is keyed by the storage's generation, which every
 * change to those rows counts: the writer counts it after changing the
 * rows and before its transaction commits (CowSharedCacheStorageChanged),
 * so a record read before the change names an older generation and no
 * reader after the commit finds it.  Storages whose (database, storage
 * id) hash alike share a counter: a change to one makes the others'
 * records unreachable too -- a miss, never a wrong answer.  The epoch is
 * counted by DROP DATABASE, since a later database may be given the
 * dropped one's OID, and by CREATE, ALTER and DROP EXTENSION (and DROP
 * SCHEMA): incetl made again numbers its storages from 1 again, and the
 * catalog rows of a storage dropped with the extension may go with the
 * catalog, uncounted.
 */
static pg_atomic_uint64 *
CowSharedGenerationOf(int64 storage_id)
{
	struct
	{
		Oid			db;
		int64		storage_id;
	}			k;

	memset(&k, 0, sizeof(k));
	k.db = MyDatabaseId;
	k.storage_id = storage_id;
	return &CowShared->generations[hash_bytes((const unsigned char *) &k,
											  sizeof(k)) %
								   COW_SHARED_GENERATIONS];
}

/*
 * CowSharedCacheStorageChanged counts a change to the catalog rows of a
 * storage of this database, made by the running transaction.
 */
void
CowSharedCacheStorageChanged(int64 storage_id)
{
	if (CowShared == NULL)
		return;
	/* a full barrier: the change is in its buffer before the count */
	pg_atomic_fetch_add_u64(CowSharedGenerationOf(storage_id), 1);
}

/*
 * CowSharedCacheStorageGeneration sets *generation and *epoch for the key
 * of a record made from the catalog rows of a storage of this database;
 * false when the cache is not usable now.
 */
bool
CowSharedCacheStorageGeneration(int64 storage_id, uint64 *generation,
								uint64 *epoch)
{
	if (!CowSharedUsable())
		return false;
	*generation = pg_atomic_read_u64(CowSharedGenerationOf(storage_id));
	*epoch = pg_atomic_read_u64(&CowShared->epoch);
	return true;
}

/*
 * CowSharedCacheForgetLists makes every record kept by generation
 * unreachable: DROP DATABASE, and incetl created, updated or dropped in a
 * database (see above; cow_hooks.c).
 */
void
CowSharedCacheForgetLists(void)
{
	if (CowShared != NULL)
		pg_atomic_fetch_add_u64(&CowShared->epoch, 1);
}

/*
 * incetl.cow_shared_cache_stats() reports the cache's size, the bytes of
 * records its arena holds (dropped and forgotten ones until their turn to
 * be overwritten), the frames it finds by key, and since the server
 * started: lookups that found their frame (hits) and did not (misses),
 * records written and dropped to make room.  Zeroes when the cache is off.
 */
PG_FUNCTION_INFO_V1(incetl_cow_shared_cache_stats);

Datum
incetl_cow_shared_cache_stats(PG_FUNCTION_ARGS)
{
	TupleDesc	desc;
	Datum		values[7];
	bool		nulls[7] = {false, false, false, false, false, false, false};
	int			i;

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	desc = BlessTupleDesc(desc);
	for (i = 0; i < 7; i++)
		values[i] = Int64GetDatum(0);
	if (CowShared != NULL)
	{
		int64		hits = 0,
					misses = 0;

		values[0] = Int64GetDatum((int64) CowShared->size);
		LWLockAcquire(&CowSharedLocks[0].lock, LW_SHARED);
		values[1] = Int64GetDatum((int64) (CowShared->head - CowShared->tail));
		LWLockRelease(&CowSharedLocks[0].lock);
		values[2] = Int64GetDatum((int64) pg_atomic_read_u32(&CowShared->entries));
		for (i = 0; i < COW_SHARED_PARTITIONS; i++)
		{
			hits += (int64) pg_atomic_read_u64(&CowShared->counts[i].c.hits);
			misses += (int64) pg_atomic_read_u64(&CowShared->counts[i].c.misses);
		}
		values[3] = Int64GetDatum(hits);
		values[4] = Int64GetDatum(misses);
		values[5] = Int64GetDatum((int64) pg_atomic_read_u64(&CowShared->writes));
		values[6] = Int64GetDatum((int64) pg_atomic_read_u64(&CowShared->dropped));
	}
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
}

/*
 * CowSharedCacheInit, loaded from shared_preload_libraries, defines
 * incetl.cow_shared_cache_size and asks for the cache's shared memory.
 * Loaded later (LOAD, or a server without incetl preloaded) it does
 * neither: a setting fixed at server start cannot be defined after it
 * (PostgreSQL ends the session), and there is no cache.
 */
void
CowSharedCacheInit(void)
{
	if (!process_shared_preload_libraries_in_progress)
		return;
	DefineCustomIntVariable("incetl.cow_shared_cache_size",
							"Shared memory the server keeps decompressed incetl_cow column frames in, for lookups and key ranges of every backend.",
							"Frames a backend decompressed for a point lookup or a key range "
							"are kept here too, so that other backends, new sessions among "
							"them, copy them instead of decompressing them again. -1 (the "
							"default) sizes it from shared_buffers: a quarter, at least 64MB "
							"and at most 1GB. 0 turns the cache off. Takes effect at server "
							"start.",
							&CowSharedCacheSize,
							-1, -1, MAX_KILOBYTES,
							PGC_POSTMASTER,
							GUC_UNIT_KB,
							NULL, NULL, NULL);
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = CowSharedShmemRequest;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = CowSharedShmemStartup;
}
