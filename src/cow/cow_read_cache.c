/*-------------------------------------------------------------------------
 *
 * cow_read_cache.c
 *	  A backend's cache of decompressed column blocks and frames, for the
 *	  reads of a few rows of a block: point lookups through an index, key
 *	  ranges, the binary search for a key range's ends.
 *
 * Such a read costs little decoding (one row, or the hundred of a key
 * range) but decompresses what it reads: a framed block's index and the
 * frames its values lie in, a small block whole.  The next statement
 * reading near the same rows (the same key range again, a hot key, a
 * lookup in a block read before: every lookup reads the frame of a
 * VARLENA block's lengths) would decompress them again.  File group
 * versions never change once written (a write makes a new version, at
 * a new reserved range of row numbers), so what was decompressed can be kept:
 *
 *	- a framed block's frame index (CowFrames) and its frames, one by one,
 *	  as they are decompressed (cow_reader.c, CowGroupFramedRaw and
 *	  CowGroupFetchFrame): with the server's cache (cow_shared_cache.c) on,
 *	  a frame is put there only, and kept here once this backend reads it
 *	  whole a second time (CowReadCacheCopyFrame), so that frames read once
 *	  cost the backend no memory;
 *	- a whole block of at most COW_READ_CACHE_WHOLE_MAX raw bytes, read for
 *	  a few rows (a dictionary block, a small integer block);
 *	- the length marks of a VARLENA block read one value at a time
 *	  (CowLazyRaw in cow/format.h): the sums of its values' lengths every
 *	  COW_LENGTH_MARK_STEP values, as far as reads summed them, so that a
 *	  value's bytes are found without summing the lengths of all the
 *	  values before it;
 *	- that the CRC of an uncompressed block read in place was verified
 *	  (CowGroupPagedRaw), which otherwise reads every page of the block at
 *	  every statement, and the 512-byte pieces of it read (an int block's
 *	  header and the bits of one value: a copy instead of a buffer pin and
 *	  lock each), each from the second time this backend reads it;
 *	- the block's value block (cow/format.h), made when this backend first
 *	  reads a value of the block (a VARLENA block's, which costs a pass over
 *	  its lengths, the third time): its null bitmap, its int block's
 *	  header, a dictionary's entries, a VARLENA block's length marks and
 *	  restarts, from which the next lookups in the block read a value from
 *	  its few raw bytes (cow_reader.c, CowGroupValueFast); one the server's
 *	  cache holds is lent for the backend's first COW_VALUE_SHARED_READS
 *	  values of the block, and kept from then on.
 *
 * The key names one block for good: the version as the version header
 * cache of cow_reader.c names it (CowVersionName: file (relfilenode),
 * first row number, commit, file group id and extent), the relation, then
 * column and block.  A relcache invalidation of the relation (DROP, TRUNCATE,
 * rewrites) forgets its entries, so a relfilenode reused by a later table
 * never finds them.  Entries are dropped least recently used first once
 * the cache holds more than incetl.cow_read_cache_size (kB; 0 turns it
 * off).  Nothing handed out points into the cache but a value block,
 * which its reader reads at once, asking again after any call that may
 * make room (the block's own entry is never the one dropped to make room
 * for what the block's reader adds): cached bytes are copied into the
 * caller's buffers, so an entry can go at any time.
 *
 * What is cached was checked when it was first read (each frame against
 * its CRC in the frame index, a whole block against the CRC of its block
 * directory entry), as scans check what they read; a backend reading the
 * same block again trusts its copy, as it trusts a version header it
 * cached.
 *
 * Copyright (c) 2026, incetl authors
 *
 * IDENTIFICATION
 *	  src/cow/cow_read_cache.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/hashfn.h"
#include "lib/ilist.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/memutils.h"

#include "cow/read_cache.h"
#include "cow/shared_cache.h"

int			CowReadCacheSize = 16384;	/* kB */

typedef struct CowReadCacheKey
{
	CowVersionName version;
	Oid			relid;
	int32		attidx;
	uint32		blockno;
} CowReadCacheKey;

typedef struct CowReadCacheEntry
{
	CowReadCacheKey key;		/* first: the hash key */
	dlist_node	lru;			/* most recently used at the head */
	Size		bytes;			/* what the entry holds, counted */
	bool		verified;		/* an uncompressed block's CRC was checked */
	bool		has_frames;		/* frames is the block's frame index */
	CowFrames	frames;			/* entries and offsets: the cache's */
	char	  **frame_data;		/* [frames.nframes]: decompressed, or NULL */
	bool	   *frame_seen;		/* [frames.nframes]: read once and not
								 * kept (CowReadCachePutFrame) */
	char	   *whole;			/* the raw block, or NULL */
	Size		whole_len;
	uint64	   *marks;			/* a VARLENA body's length marks, or NULL */
	uint32		nmarks;
	Size		marks_at;
	CowValueBlock *value_block; /* the block's value block, or NULL */
	uint8		value_block_asks;	/* times one was asked for, not made */
	uint8		value_reads;	/* values read through the value block */
} CowReadCacheEntry;

static HTAB *CowReadCacheHash = NULL;
static MemoryContext CowReadCacheCxt = NULL;
static dlist_head CowReadCacheLru = DLIST_STATIC_INIT(CowReadCacheLru);
static Size CowReadCacheBytes = 0;
static List *CowReadCacheRelids = NIL;	/* relations entries were made for
										 * (in CowReadCacheCxt): others'
										 * invalidations cost no search */

/*
 * The entry found last, and its key: a lookup asks for one block's entry
 * several times running (its frame index, then its frames, its length
 * marks), which this answers without hashing the key.  Forgotten when the
 * entry is dropped.
 */
static CowReadCacheEntry *CowReadCacheLast = NULL;
static CowReadCacheKey CowReadCacheLastKey;

static void CowReadCacheClear(void);

/* the cache's budget in bytes */
static inline Size
CowReadCacheBudget(void)
{
	return (Size) CowReadCacheSize * 1024;
}

/*
 * CowReadCacheHashKey: the hash of a key, from its fields (a point lookup
 * looks up some thirty keys of 56 bytes: hash_bytes over each costs more
 * than mixing the fields that differ)
 */
static uint32
CowReadCacheHashKey(const void *key, Size keysize)
{
	const CowReadCacheKey *k = (const CowReadCacheKey *) key;
	uint32		h;

	Assert(keysize == sizeof(CowReadCacheKey));
	h = murmurhash32((uint32) k->version.first_row_number ^ (uint32) k->blockno);
	h = hash_combine(h, murmurhash32((uint32) (k->version.first_row_number >> 32) ^
									 (uint32) k->version.commit_id ^
									 ((uint32) k->attidx << 16)));
	h = hash_combine(h, murmurhash32(k->version.node.relNode ^ k->relid ^
									 (uint32) k->version.file_group_id ^
									 k->version.first_block));
	return h;
}

/* drop entry e and what it holds */
static void
CowReadCacheDrop(CowReadCacheEntry *e)
{
	uint32		i;
	bool		found;

	if (e == CowReadCacheLast)
		CowReadCacheLast = NULL;
	dlist_delete(&e->lru);
	if (e->frame_data != NULL)
	{
		for (i = 0; i < e->frames.nframes; i++)
			if (e->frame_data[i] != NULL)
				pfree(e->frame_data[i]);
		pfree(e->frame_data);
	}
	if (e->frame_seen != NULL)
		pfree(e->frame_seen);
	if (e->frames.entries != NULL)
		pfree(e->frames.entries);
	if (e->frames.offsets != NULL)
		pfree(e->frames.offsets);
	if (e->whole != NULL)
		pfree(e->whole);
	if (e->marks != NULL)
		pfree(e->marks);
	if (e->value_block != NULL)
		pfree(e->value_block);
	CowReadCacheBytes -= e->bytes;
	(void) hash_search(CowReadCacheHash, &e->key, HASH_REMOVE, &found);
	Assert(found);
}

/* forget everything: the cache off, or every relation invalidated */
static void
CowReadCacheClear(void)
{
	CowReadCacheLast = NULL;
	if (CowReadCacheHash == NULL)
		return;
	hash_destroy(CowReadCacheHash);
	CowReadCacheHash = NULL;
	CowReadCacheRelids = NIL;
	MemoryContextReset(CowReadCacheCxt);
	dlist_init(&CowReadCacheLru);
	CowReadCacheBytes = 0;
}

static void
CowReadCacheInvalidate(Datum arg, Oid relid)
{
	HASH_SEQ_STATUS status;
	CowReadCacheEntry *e;

	if (CowReadCacheHash == NULL)
		return;
	if (relid == InvalidOid)
	{
		CowReadCacheClear();
		return;
	}
	if (!list_member_oid(CowReadCacheRelids, relid))
		return;
	CowReadCacheRelids = list_delete_oid(CowReadCacheRelids, relid);
	hash_seq_init(&status, CowReadCacheHash);
	while ((e = hash_seq_search(&status)) != NULL)
		if (e->key.relid == relid)
			CowReadCacheDrop(e);
}

/* drop the least recently used entries beyond the budget, but keep */
static void
CowReadCacheTrim(CowReadCacheEntry *keep)
{
	while (CowReadCacheBytes > CowReadCacheBudget() &&
		   !dlist_is_empty(&CowReadCacheLru))
	{
		CowReadCacheEntry *e = dlist_tail_element(CowReadCacheEntry, lru,
												  &CowReadCacheLru);

		if (e == keep)
			break;
		CowReadCacheDrop(e);
	}
}

static void
CowReadCacheMakeKey(CowReadCacheKey *key, Relation rel, const CowVersion *v,
					int attidx, uint32 blockno)
{
	/* the key is hashed and compared as bytes: no stray padding */
	memset(key, 0, sizeof(CowReadCacheKey));
	CowVersionNameSet(&key->version, rel->rd_node, v);
	key->relid = RelationGetRelid(rel);
	key->attidx = attidx;
	key->blockno = blockno;
}

/*
 * CowReadCacheFind: the entry of the block, made when create (NULL when
 * the cache is off, or the block has none and create is false); the
 * entry becomes the most recently used.
 */
static CowReadCacheEntry *
CowReadCacheFind(Relation rel, const CowVersion *v, int attidx,
				 uint32 blockno, bool create)
{
	CowReadCacheKey key;
	CowReadCacheEntry *e;
	bool		found;

	if (CowReadCacheSize <= 0)
	{
		CowReadCacheClear();
		return NULL;
	}
	if (CowReadCacheHash == NULL)
	{
		HASHCTL		ctl;

		if (!create)
			return NULL;
		if (CowReadCacheCxt == NULL)
			CowReadCacheCxt = AllocSetContextCreate(TopMemoryContext,
													"incetl cow read cache",
													ALLOCSET_DEFAULT_SIZES);
		ctl.keysize = sizeof(CowReadCacheKey);
		ctl.entrysize = sizeof(CowReadCacheEntry);
		ctl.hash = CowReadCacheHashKey;
		ctl.hcxt = CowReadCacheCxt;
		CowReadCacheHash = hash_create("incetl cow read cache", 256, &ctl,
									   HASH_ELEM | HASH_FUNCTION | HASH_CONTEXT);
	}
	/* the entry found last: compared field by field, no key made */
	if (CowReadCacheLast != NULL &&
		CowReadCacheLastKey.blockno == blockno &&
		CowReadCacheLastKey.attidx == attidx &&
		CowReadCacheLastKey.relid == RelationGetRelid(rel) &&
		CowVersionNameIs(&CowReadCacheLastKey.version, rel->rd_node, v))
	{
		e = CowReadCacheLast;
		dlist_move_head(&CowReadCacheLru, &e->lru);
		return e;
	}
	CowReadCacheMakeKey(&key, rel, v, attidx, blockno);
	/* first, so that an entry is never left half made */
	if (create && !list_member_oid(CowReadCacheRelids, key.relid))
	{
		MemoryContext old = MemoryContextSwitchTo(CowReadCacheCxt);

		CowReadCacheRelids = lappend_oid(CowReadCacheRelids, key.relid);
		MemoryContextSwitchTo(old);
	}
	e = hash_search(CowReadCacheHash, &key, create ? HASH_ENTER : HASH_FIND,
					&found);
	if (e == NULL)
		return NULL;
	if (!found)
	{
		e->bytes = sizeof(CowReadCacheEntry);
		e->verified = false;
		e->has_frames = false;
		memset(&e->frames, 0, sizeof(CowFrames));
		e->frame_data = NULL;
		e->frame_seen = NULL;
		e->whole = NULL;
		e->whole_len = 0;
		e->marks = NULL;
		e->nmarks = 0;
		e->marks_at = 0;
		e->value_block = NULL;
		e->value_block_asks = 0;
		e->value_reads = 0;
		CowReadCacheBytes += e->bytes;
	}
	else
		dlist_delete(&e->lru);
	dlist_push_head(&CowReadCacheLru, &e->lru);
	CowReadCacheLast = e;
	CowReadCacheLastKey = key;
	return e;
}

/* count bytes more for e, then keep the cache within its budget */
static void
CowReadCacheGrew(CowReadCacheEntry *e, Size bytes)
{
	e->bytes += bytes;
	CowReadCacheBytes += bytes;
	CowReadCacheTrim(e);
}

/*
 * CowReadCacheGetFrames sets *f to the cached frame index of a framed
 * block, its arrays in the current memory context; false when it is not
 * cached.  Without entries, only its sizes (where each frame's raw bytes
 * are), f->entries and f->offsets NULL: a reader whose frames are all
 * cached needs no more, and copies no more.
 */
bool
CowReadCacheGetFrames(Relation rel, const CowVersion *v, int attidx,
					  uint32 blockno, CowFrames *f, bool entries)
{
	CowReadCacheEntry *e = CowReadCacheFind(rel, v, attidx, blockno, false);

	if (e == NULL || !e->has_frames || e->frames.entries == NULL)
		return false;
	*f = e->frames;
	if (!entries)
	{
		/* the sizes alone: where each frame's raw bytes are */
		f->entries = NULL;
		f->offsets = NULL;
		return true;
	}
	f->entries = palloc(sizeof(CowFrameEntry) * f->nframes);
	memcpy(f->entries, e->frames.entries, sizeof(CowFrameEntry) * f->nframes);
	f->offsets = palloc(sizeof(uint64) * f->nframes);
	memcpy(f->offsets, e->frames.offsets, sizeof(uint64) * f->nframes);
	return true;
}

/* CowReadCachePutFrames keeps a copy of the checked frame index f */
void
CowReadCachePutFrames(Relation rel, const CowVersion *v, int attidx,
					  uint32 blockno, const CowFrames *f)
{
	CowReadCacheEntry *e = CowReadCacheFind(rel, v, attidx, blockno, true);
	CowFrameEntry *entries;
	uint64	   *offsets;
	char	  **data;
	bool	   *seen;

	if (e == NULL || e->has_frames || f->nframes == 0)
		return;
	/* allocated first: an error leaves the entry as it was */
	entries = MemoryContextAlloc(CowReadCacheCxt,
								 sizeof(CowFrameEntry) * f->nframes);
	offsets = MemoryContextAlloc(CowReadCacheCxt, sizeof(uint64) * f->nframes);
	data = MemoryContextAllocZero(CowReadCacheCxt, sizeof(char *) * f->nframes);
	seen = MemoryContextAllocZero(CowReadCacheCxt, sizeof(bool) * f->nframes);
	memcpy(entries, f->entries, sizeof(CowFrameEntry) * f->nframes);
	memcpy(offsets, f->offsets, sizeof(uint64) * f->nframes);
	e->frames = *f;
	e->frames.entries = entries;
	e->frames.offsets = offsets;
	e->frame_data = data;
	e->frame_seen = seen;
	e->has_frames = true;
	CowReadCacheGrew(e, (sizeof(CowFrameEntry) + sizeof(uint64) +
						 sizeof(char *) + sizeof(bool)) * f->nframes);
}

/*
 * CowReadCachePutPieces makes the entry of an uncompressed block of len
 * bytes read in pieces of piece_len bytes (CowGroupPagedRaw), which are
 * then kept as the frames of a framed block are (CowReadCachePutFrame,
 * CowReadCacheGetFrame): a piece from the cache costs a copy, not a
 * buffer pin and lock.
 */
void
CowReadCachePutPieces(Relation rel, const CowVersion *v, int attidx,
					  uint32 blockno, Size len, uint32 piece_len)
{
	CowReadCacheEntry *e = CowReadCacheFind(rel, v, attidx, blockno, true);
	uint32		npieces = (len + piece_len - 1) / piece_len;

	char	  **data;
	bool	   *seen;

	if (e == NULL || e->has_frames || npieces == 0)
		return;
	data = MemoryContextAllocZero(CowReadCacheCxt, sizeof(char *) * npieces);
	seen = MemoryContextAllocZero(CowReadCacheCxt, sizeof(bool) * npieces);
	memset(&e->frames, 0, sizeof(CowFrames));
	e->frames.nframes = npieces;
	e->frames.first_raw = piece_len;
	e->frames.frame_raw = piece_len;
	e->frames.raw_len = len;
	e->frame_data = data;
	e->frame_seen = seen;
	e->has_frames = true;
	CowReadCacheGrew(e, (sizeof(char *) + sizeof(bool)) * npieces);
}

/*
 * CowReadCacheAskPiece counts a read of piece "piece" of a block read in
 * pieces (CowReadCachePutPieces) that the backend's cache does not hold,
 * and says whether the cache would keep the piece if given it now
 * (CowReadCachePutFrame): from its second read by this backend on.  A
 * reader of one value reads only that value's bytes of a piece the cache
 * would not keep, not the whole piece: a new session's lookups read most
 * pieces once, and copying 512 bytes for the eight a value needs reads
 * cache lines of the buffer nobody uses.
 */
bool
CowReadCacheAskPiece(Relation rel, const CowVersion *v, int attidx,
					 uint32 blockno, uint32 piece)
{
	CowReadCacheEntry *e = CowReadCacheFind(rel, v, attidx, blockno, false);

	if (e == NULL || !e->has_frames || e->frames.entries != NULL ||
		piece >= e->frames.nframes || e->frame_data[piece] != NULL)
		return false;
	if (!e->frame_seen[piece])
	{
		e->frame_seen[piece] = true;
		return false;
	}
	return true;
}

/* CowReadCacheKeepFrame keeps a copy of frame "frame" in entry e */
static void
CowReadCacheKeepFrame(CowReadCacheEntry *e, uint32 frame, const char *src,
					  Size len)
{
	if (len > CowReadCacheBudget())
		return;
	e->frame_data[frame] = MemoryContextAlloc(CowReadCacheCxt, Max(len, 1));
	memcpy(e->frame_data[frame], src, len);
	CowReadCacheGrew(e, len);
}

/*
 * CowReadCacheCopyFrame copies bytes [from, from + n) of frame "frame" (len
 * bytes) of a framed block, or of a piece of a block read in pieces, into
 * dst: from the backend's cache, else, with shared, from the server's (a
 * decompressed frame another backend, or this one, put there).  False when
 * the frame is not found.
 *
 * A frame found in the server's cache is copied from there: the bytes
 * asked for, which a reader of one value asks (a lookup's bytes of a 4 kB
 * frame of `note` are about 50), and never kept; a whole frame (a VARLENA
 * block's first frame, its lengths, which a value read asks for piece by
 * piece) is kept in the backend's cache the second time this backend
 * reads it.  A new session's lookups read most frames once: copying each
 * into memory of its own would grow the backend by a page a frame (a page
 * fault each); and lookups spread over more frames than the backend's
 * cache holds would copy whole frames in only to drop them again.  first
 * says whether this is a read of the frame: a reader asking again for
 * bytes of a frame it was given part of (first false) is not reading it
 * again.
 */
static bool
CowReadCacheCopyFrame(Relation rel, const CowVersion *v, int attidx,
					  uint32 blockno, uint32 frame, Size len, Size from,
					  Size n, bool shared, bool first, char *dst)
{
	CowReadCacheEntry *e = CowReadCacheFind(rel, v, attidx, blockno, false);
	CowSharedKey key;
	char	   *copy;

	Assert(from <= len && n <= len - from);
	if (e == NULL || !e->has_frames || frame >= e->frames.nframes)
		return false;
	if (e->frame_data[frame] != NULL)
	{
		memcpy(dst, e->frame_data[frame] + from, n);
		return true;
	}
	if (!shared || e->frames.entries == NULL ||
		!CowSharedCacheKey(&key, rel, v, attidx, blockno, frame))
		return false;
	Assert(e->frame_seen != NULL);
	if (!first || !e->frame_seen[frame] || n < len ||
		len > CowReadCacheBudget())
	{
		if (!CowSharedCacheGet(&key, len, from, n, dst))
			return false;
		if (first)
			e->frame_seen[frame] = true;
		return true;
	}
	/* the whole frame, read there before: keep it */
	copy = MemoryContextAlloc(CowReadCacheCxt, Max(len, 1));
	if (!CowSharedCacheGet(&key, len, 0, len, copy))
	{
		pfree(copy);
		return false;
	}
	memcpy(dst, copy + from, n);
	e->frame_data[frame] = copy;
	CowReadCacheGrew(e, len);
	return true;
}

/*
 * CowReadCacheGetFrame copies the decompressed frame "frame" (len bytes)
 * of a framed block, or a piece of a block read in pieces, into dst; false
 * when it is not cached.  first: the reader's first ask for the frame
 * (CowReadCacheCopyFrame).
 */
bool
CowReadCacheGetFrame(Relation rel, const CowVersion *v, int attidx,
					 uint32 blockno, uint32 frame, bool first, char *dst,
					 Size len)
{
	return CowReadCacheCopyFrame(rel, v, attidx, blockno, frame, len, 0, len,
								 true, first, dst);
}

/*
 * CowReadCacheGetFramePart copies bytes [from, from + n) of frame "frame"
 * (len bytes) of a framed block, or of a piece of a block read in pieces,
 * into dst; false when the frame is not cached (with shared false: not in
 * the backend's cache).  It is what a reader of one value asks for: the
 * few bytes it reads, not the frame, are copied (a lookup's bytes of a
 * 4 kB frame of `note` are about 50).
 */
bool
CowReadCacheGetFramePart(Relation rel, const CowVersion *v, int attidx,
						 uint32 blockno, uint32 frame, Size len, Size from,
						 Size n, bool shared, bool first, char *dst)
{
	return CowReadCacheCopyFrame(rel, v, attidx, blockno, frame, len, from, n,
								 shared, first, dst);
}

/*
 * CowReadCacheGetSharedFramePart copies bytes [from, from + n) of frame
 * "frame" (len bytes) of a framed block from the server's cache alone,
 * for a reader that knows the block's frames from its value block but has
 * not read its frame index (cow_reader.c, CowGroupValueBytes); false when
 * the server's cache does not hold the frame.  Nothing is kept.
 */
bool
CowReadCacheGetSharedFramePart(Relation rel, const CowVersion *v, int attidx,
							   uint32 blockno, uint32 frame, Size len,
							   Size from, Size n, char *dst)
{
	CowSharedKey key;

	if (CowReadCacheSize <= 0 || from > len || n > len - from)
		return false;
	return CowSharedCacheKey(&key, rel, v, attidx, blockno, frame) &&
		CowSharedCacheGet(&key, len, from, n, dst);
}

/*
 * CowReadCachePutFrame keeps a copy of frame "frame" (len bytes, checked
 * and decompressed) of a framed block whose index is cached, or of a
 * piece of a block read in pieces.  A decompressed frame goes to the
 * server's cache.  Either is kept in the backend's the second time this
 * backend reads it: the first time, a frame the server's cache took is
 * left there (CowReadCacheCopyFrame), and a piece is read from its buffer
 * again if it is asked for again.  A frame the server's cache could not
 * take is kept at once.
 */
void
CowReadCachePutFrame(Relation rel, const CowVersion *v, int attidx,
					 uint32 blockno, uint32 frame, const char *src, Size len)
{
	CowReadCacheEntry *e = CowReadCacheFind(rel, v, attidx, blockno, false);
	CowSharedKey key;
	bool		later;

	if (e == NULL || !e->has_frames || frame >= e->frames.nframes ||
		e->frame_data[frame] != NULL)
		return;
	if (e->frames.entries == NULL)
		later = !e->frame_seen[frame];	/* a piece of a block read in place */
	else
		later = CowSharedCacheKey(&key, rel, v, attidx, blockno, frame) &&
			CowSharedCachePut(&key, src, len) && !e->frame_seen[frame];
	if (later)
	{
		e->frame_seen[frame] = true;
		return;
	}
	CowReadCacheKeepFrame(e, frame, src, len);
}

/*
 * CowReadCacheGetWhole: a copy, in the current memory context, of the
 * cached raw block (len bytes), or NULL.
 */
char *
CowReadCacheGetWhole(Relation rel, const CowVersion *v, int attidx,
					 uint32 blockno, Size len)
{
	CowReadCacheEntry *e = CowReadCacheFind(rel, v, attidx, blockno, false);
	char	   *raw;

	if (e == NULL || e->whole == NULL || e->whole_len != len)
		return NULL;
	raw = palloc(Max(len, 1));
	memcpy(raw, e->whole, len);
	return raw;
}

/*
 * CowSharedWholeKey sets *key to name a small decompressed block of len
 * bytes in the server's cache (COW_SHARED_WHOLE_BLOCK); false when such a
 * block is not kept there (too large, the caches off, a temporary table).
 */
static bool
CowSharedWholeKey(CowSharedKey *key, Relation rel, const CowVersion *v,
				  int attidx, uint32 blockno, Size len)
{
	return len <= COW_SHARED_WHOLE_MAX && CowReadCacheSize > 0 &&
		CowSharedCacheKey(key, rel, v, attidx, blockno, COW_SHARED_WHOLE_BLOCK);
}

/*
 * CowReadCachePutWhole keeps a copy of a checked raw block of len bytes;
 * one that was decompressed (share), of at most COW_SHARED_WHOLE_MAX
 * bytes, goes to the server's cache too, where the readers of a value of
 * it in other backends find its bytes (CowReadCacheGetWholePart).
 */
void
CowReadCachePutWhole(Relation rel, const CowVersion *v, int attidx,
					 uint32 blockno, const char *src, Size len, bool share)
{
	CowReadCacheEntry *e;
	CowSharedKey key;

	if (share && CowSharedWholeKey(&key, rel, v, attidx, blockno, len))
		(void) CowSharedCachePut(&key, src, len);
	if (len > COW_READ_CACHE_WHOLE_MAX || len > CowReadCacheBudget())
		return;
	e = CowReadCacheFind(rel, v, attidx, blockno, true);
	if (e == NULL || e->whole != NULL)
		return;
	e->whole = MemoryContextAlloc(CowReadCacheCxt, Max(len, 1));
	memcpy(e->whole, src, len);
	e->whole_len = len;
	CowReadCacheGrew(e, len);
}

/*
 * CowReadCacheGetWholePart copies bytes [from, from + n) of the cached raw
 * block (len bytes) into dst, from the backend's cache, else, with shared,
 * from the server's (a small decompressed block another backend, or this
 * one, put there: the bytes asked for alone, nothing kept); false when
 * neither holds it.
 */
bool
CowReadCacheGetWholePart(Relation rel, const CowVersion *v, int attidx,
						 uint32 blockno, Size len, Size from, Size n,
						 char *dst, bool shared)
{
	CowReadCacheEntry *e = CowReadCacheFind(rel, v, attidx, blockno, false);
	CowSharedKey key;

	if (from > len || n > len - from)
		return false;
	if (e != NULL && e->whole != NULL && e->whole_len == len)
	{
		memcpy(dst, e->whole + from, n);
		return true;
	}
	return shared && CowSharedWholeKey(&key, rel, v, attidx, blockno, len) &&
		CowSharedCacheGet(&key, len, from, n, dst);
}

/* what CowValueBlockCopyOut copies a shared value block into */
typedef struct CowValueBlockCopy
{
	char	   *dst;			/* COW_VALUE_BLOCK_MAX bytes */
	Size		len;			/* the record's */
} CowValueBlockCopy;

/* copies a value block out of the server's cache (under its lock: no error) */
static void
CowValueBlockCopyOut(const char *bytes, Size len, void *arg)
{
	CowValueBlockCopy *c = arg;

	c->len = len;
	if (len >= sizeof(CowValueBlock) && len <= COW_VALUE_BLOCK_MAX)
		memcpy(c->dst, bytes, len);
}

/*
 * CowReadCacheGetValueBlock: the value block kept for a block
 * (cow/format.h), or NULL.  It is the cache's: valid until the next call
 * that may drop entries other than the block's own (a call about another
 * block, or a relcache invalidation), and never to be changed.  One this
 * backend has not made may be the server's (CowReadCachePutValueBlock):
 * then it is copied from there into the backend's cache, so that a new
 * session's first read of a block another backend read already costs a
 * copy of some hundred bytes, not the block's headers read and checked
 * and its value block made again (what a value block holds depends only
 * on the version's bytes, which never change).  While this backend has
 * read fewer than COW_VALUE_SHARED_READS values of the block, the copy is
 * lent instead (*lent set): valid until the next call of this function,
 * and not kept, since a new session's lookups mostly read a block once;
 * copying each into memory of its own grew the backend by a page every
 * eight blocks read (a page fault each).
 */
const CowValueBlock *
CowReadCacheGetValueBlock(Relation rel, const CowVersion *v, int attidx,
						  uint32 blockno, bool *lent)
{
	CowReadCacheEntry *e = CowReadCacheFind(rel, v, attidx, blockno, false);
	static char *copy_buffer = NULL;
	CowValueBlockCopy c;
	CowSharedKey key;

	*lent = false;
	if (e != NULL && e->value_block != NULL)
		return e->value_block;
	if (CowReadCacheSize <= 0 ||
		!CowSharedCacheKey(&key, rel, v, attidx, blockno, COW_SHARED_VALUE_BLOCK))
		return NULL;
	if (copy_buffer == NULL)
		copy_buffer = MemoryContextAlloc(TopMemoryContext, COW_VALUE_BLOCK_MAX);
	c.dst = copy_buffer;
	c.len = 0;
	if (!CowSharedCacheRead(&key, COW_SHARED_ANY_LENGTH, CowValueBlockCopyOut, &c) ||
		c.len < sizeof(CowValueBlock) || c.len > COW_VALUE_BLOCK_MAX ||
		((CowValueBlock *) copy_buffer)->size != c.len ||
		c.len > CowReadCacheBudget())
		return NULL;
	if (e == NULL || e->value_reads < COW_VALUE_SHARED_READS)
	{
		*lent = true;
		return (const CowValueBlock *) copy_buffer;
	}
	/* the block's entry, found above, has none yet */
	e->value_block = MemoryContextAlloc(CowReadCacheCxt, c.len);
	memcpy(e->value_block, copy_buffer, c.len);
	CowReadCacheGrew(e, c.len);
	return e->value_block;
}

/* an entry's counter: its value, then one more (it stops at 255) */
static int
CowReadCacheCount(uint8 *counter)
{
	int			was = *counter;

	if (*counter < PG_UINT8_MAX)
		(*counter)++;
	return was;
}

/*
 * CowReadCacheValueBlockAsks says how many times a value block was asked
 * for the block before (CowGroupKeepValueBlock makes the costly ones from
 * the third ask), and counts this ask.
 */
int
CowReadCacheValueBlockAsks(Relation rel, const CowVersion *v, int attidx,
						   uint32 blockno)
{
	CowReadCacheEntry *e = CowReadCacheFind(rel, v, attidx, blockno, true);

	return e == NULL ? 0 : CowReadCacheCount(&e->value_block_asks);
}

/*
 * CowReadCacheValueReads says how many values of the block this backend
 * read through its value block before (cow_reader.c, CowGroupValueFast:
 * the first COW_VALUE_SHARED_READS ones' bytes may come from where nothing
 * is kept, and their value block is lent), and counts this one.
 */
int
CowReadCacheValueReads(Relation rel, const CowVersion *v, int attidx,
					   uint32 blockno)
{
	CowReadCacheEntry *e = CowReadCacheFind(rel, v, attidx, blockno, true);

	return e == NULL ? 0 : CowReadCacheCount(&e->value_reads);
}

/*
 * CowReadCachePutValueBlock keeps a copy of a block's value block, and
 * gives one to the server's cache for the other backends
 * (CowReadCacheGetValueBlock)
 */
void
CowReadCachePutValueBlock(Relation rel, const CowVersion *v, int attidx,
						  uint32 blockno, const CowValueBlock *vb)
{
	CowReadCacheEntry *e;
	CowSharedKey key;

	if (vb->size > CowReadCacheBudget())
		return;
	e = CowReadCacheFind(rel, v, attidx, blockno, true);
	if (e == NULL || e->value_block != NULL)
		return;
	e->value_block = MemoryContextAlloc(CowReadCacheCxt, vb->size);
	memcpy(e->value_block, vb, vb->size);
	CowReadCacheGrew(e, vb->size);
	if (vb->size <= COW_VALUE_BLOCK_MAX &&
		CowSharedCacheKey(&key, rel, v, attidx, blockno, COW_SHARED_VALUE_BLOCK))
		(void) CowSharedCachePut(&key, (const char *) vb, vb->size);
}

/*
 * CowReadCacheGetMarks: a copy, in the current memory context, of the
 * length marks kept for a block (CowLazyRaw, cow/format.h), with their
 * count and the raw offset they were made at; NULL when none are.
 */
uint64 *
CowReadCacheGetMarks(Relation rel, const CowVersion *v, int attidx,
					 uint32 blockno, uint32 *nmarks, Size *at)
{
	CowReadCacheEntry *e = CowReadCacheFind(rel, v, attidx, blockno, false);
	uint64	   *marks;

	*nmarks = 0;
	*at = 0;
	if (e == NULL || e->marks == NULL)
		return NULL;
	marks = palloc(sizeof(uint64) * e->nmarks);
	memcpy(marks, e->marks, sizeof(uint64) * e->nmarks);
	*nmarks = e->nmarks;
	*at = e->marks_at;
	return marks;
}

/*
 * CowReadCachePutMarks keeps a copy of a block's length marks, in place of
 * fewer kept before
 */
void
CowReadCachePutMarks(Relation rel, const CowVersion *v, int attidx,
					 uint32 blockno, const uint64 *marks, uint32 nmarks,
					 Size at)
{
	CowReadCacheEntry *e;
	Size		len = sizeof(uint64) * nmarks;
	uint64	   *copy;

	if (nmarks == 0 || len > CowReadCacheBudget())
		return;
	e = CowReadCacheFind(rel, v, attidx, blockno, true);
	if (e == NULL || (e->marks != NULL && e->nmarks >= nmarks))
		return;
	/* allocated first: an error leaves the entry as it was */
	copy = MemoryContextAlloc(CowReadCacheCxt, len);
	memcpy(copy, marks, len);
	if (e->marks != NULL)
	{
		pfree(e->marks);
		e->bytes -= sizeof(uint64) * e->nmarks;
		CowReadCacheBytes -= sizeof(uint64) * e->nmarks;
	}
	e->marks = copy;
	e->nmarks = nmarks;
	e->marks_at = at;
	CowReadCacheGrew(e, len);
}

/* has the CRC of this uncompressed block been verified in this backend? */
bool
CowReadCacheVerified(Relation rel, const CowVersion *v, int attidx,
					 uint32 blockno)
{
	CowReadCacheEntry *e = CowReadCacheFind(rel, v, attidx, blockno, false);
	CowSharedKey key;

	if (e != NULL && e->verified)
		return true;
	/* verified by another backend (kept in the server's cache) */
	if (CowReadCacheSize <= 0 ||
		!CowSharedCacheKey(&key, rel, v, attidx, blockno,
							   COW_SHARED_VERIFIED) ||
		!CowSharedCacheGet(&key, 0, 0, 0, NULL))
		return false;
	e = CowReadCacheFind(rel, v, attidx, blockno, true);
	if (e != NULL)
		e->verified = true;
	CowReadCacheTrim(e);
	return true;
}

void
CowReadCacheSetVerified(Relation rel, const CowVersion *v, int attidx,
						uint32 blockno)
{
	CowReadCacheEntry *e = CowReadCacheFind(rel, v, attidx, blockno, true);
	CowSharedKey key;

	if (e == NULL)
		return;
	e->verified = true;
	CowReadCacheTrim(e);
	if (CowSharedCacheKey(&key, rel, v, attidx, blockno,
							  COW_SHARED_VERIFIED))
		(void) CowSharedCachePut(&key, NULL, 0);
}

/*
 * CowReadCacheInit defines incetl.cow_read_cache_size and registers the
 * relcache callback that forgets a relation's entries.
 */
void
CowReadCacheInit(void)
{
	DefineCustomIntVariable("incetl.cow_read_cache_size",
							"Memory a backend keeps decompressed incetl_cow column blocks in, for lookups and key ranges.",
							"Point lookups and key ranges reading a few rows of a block keep "
							"the frames and small blocks they decompressed, so that reading "
							"near them again does not decompress them again. 0 turns the "
							"cache off.",
							&CowReadCacheSize,
							16384, 0, MAX_KILOBYTES,
							PGC_USERSET,
							GUC_UNIT_KB,
							NULL, NULL, NULL);
	CacheRegisterRelcacheCallback(CowReadCacheInvalidate, (Datum) 0);
}
