/*-------------------------------------------------------------------------
 *
 * cow_delete_set.c
 *	  The row numbers a statement deletes: a sparse bitmap.
 *
 * DELETE and UPDATE name the rows they remove by row number (the TID the
 * scan handed out).  A statement may remove every row of a large table, so
 * the set is a hash of fixed-size bitmap chunks: one bit per row number,
 * about an eighth of a byte per row of the table at worst, and a lookup is
 * one hash probe (cached for runs of neighbouring row numbers).
 *
 * Deletes made inside a subtransaction must vanish if it aborts; those
 * (rare: a function's exception block) are also logged with their
 * subtransaction so they can be taken out again.  Deletes of the top
 * transaction need no log: its abort discards the whole set.
 *
 * Copyright (c) 2026, incetl authors
 *
 * IDENTIFICATION
 *	  src/cow/cow_delete_set.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "port/pg_bitutils.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"

#include "cow/write.h"

#define COW_DEL_CHUNK_BITS	13	/* 8192 row numbers per chunk */
#define COW_DEL_CHUNK_ROWS	(INT64CONST(1) << COW_DEL_CHUNK_BITS)
#define COW_DEL_WORDS		(COW_DEL_CHUNK_ROWS / 64)

typedef struct CowDelChunk
{
	int64		chunkno;		/* hash key: rownum >> COW_DEL_CHUNK_BITS */
	uint64		bits[COW_DEL_WORDS];
} CowDelChunk;

typedef struct CowDelLogged
{
	int64		rownum;
	SubTransactionId subid;
} CowDelLogged;

struct CowDeleteSet
{
	MemoryContext cxt;
	HTAB	   *chunks;
	CowDelChunk *last;			/* chunk of the last lookup, or NULL */
	int64		count;
	List	   *logged;			/* of CowDelLogged *: deletes in subxacts */
};

CowDeleteSet *
CowDeleteSetCreate(MemoryContext cxt)
{
	CowDeleteSet *s = MemoryContextAllocZero(cxt, sizeof(CowDeleteSet));
	HASHCTL		ctl;

	ctl.keysize = sizeof(int64);
	ctl.entrysize = sizeof(CowDelChunk);
	ctl.hcxt = cxt;
	s->cxt = cxt;
	s->chunks = hash_create("incetl cow deleted rows", 64, &ctl,
							HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	return s;
}

static CowDelChunk *
CowDelFindChunk(CowDeleteSet *s, int64 rownum, bool create)
{
	int64		chunkno = rownum >> COW_DEL_CHUNK_BITS;
	CowDelChunk *c;
	bool		found;

	if (s->last && s->last->chunkno == chunkno)
		return s->last;
	c = hash_search(s->chunks, &chunkno, create ? HASH_ENTER : HASH_FIND, &found);
	if (c == NULL)
		return NULL;
	if (!found)
		memset(c->bits, 0, sizeof(c->bits));
	s->last = c;
	return c;
}

/*
 * CowDeleteSetAdd adds rownum, deleted by subtransaction subid.  Returns
 * false when it was already in the set.
 */
bool
CowDeleteSetAdd(CowDeleteSet *s, int64 rownum, SubTransactionId subid)
{
	CowDelChunk *c = CowDelFindChunk(s, rownum, true);
	int64		off = rownum & (COW_DEL_CHUNK_ROWS - 1);
	uint64		bit = UINT64CONST(1) << (off % 64);

	if (c->bits[off / 64] & bit)
		return false;
	c->bits[off / 64] |= bit;
	s->count++;
	if (subid != TopSubTransactionId)
	{
		CowDelLogged *l = MemoryContextAlloc(s->cxt, sizeof(CowDelLogged));
		MemoryContext old = MemoryContextSwitchTo(s->cxt);

		l->rownum = rownum;
		l->subid = subid;
		s->logged = lappend(s->logged, l);
		MemoryContextSwitchTo(old);
	}
	return true;
}

bool
CowDeleteSetContains(CowDeleteSet *s, int64 rownum)
{
	CowDelChunk *c;
	int64		off;

	if (s == NULL || s->count == 0)
		return false;
	c = CowDelFindChunk(s, rownum, false);
	if (c == NULL)
		return false;
	off = rownum & (COW_DEL_CHUNK_ROWS - 1);
	return (c->bits[off / 64] & (UINT64CONST(1) << (off % 64))) != 0;
}

int64
CowDeleteSetCount(CowDeleteSet *s)
{
	return s ? s->count : 0;
}

/*
 * CowDeleteSetAbortSub takes out the deletes of subtransaction subid and
 * of the subtransactions under it (their ids are larger).
 */
void
CowDeleteSetAbortSub(CowDeleteSet *s, SubTransactionId subid)
{
	List	   *keep = NIL;
	ListCell   *lc;
	MemoryContext old;

	if (s == NULL || s->logged == NIL)
		return;
	old = MemoryContextSwitchTo(s->cxt);
	foreach(lc, s->logged)
	{
		CowDelLogged *l = lfirst(lc);

		if (l->subid >= subid)
		{
			CowDelChunk *c = CowDelFindChunk(s, l->rownum, false);
			int64		off = l->rownum & (COW_DEL_CHUNK_ROWS - 1);

			Assert(c != NULL);
			c->bits[off / 64] &= ~(UINT64CONST(1) << (off % 64));
			s->count--;
			pfree(l);
		}
		else
			keep = lappend(keep, l);
	}
	list_free(s->logged);
	s->logged = keep;
	MemoryContextSwitchTo(old);
}

static int
CowDelChunkCmp(const void *a, const void *b)
{
	int64		x = *(const int64 *) a;
	int64		y = *(const int64 *) b;

	return x < y ? -1 : (x > y ? 1 : 0);
}

/*
 * CowDeleteSetCountRange counts the row numbers in [lo, hi).
 */
int64
CowDeleteSetCountRange(CowDeleteSet *s, int64 lo, int64 hi)
{
	int64		n = 0;
	int64		chunkno;

	if (s == NULL || s->count == 0 || lo >= hi)
		return 0;
	for (chunkno = lo >> COW_DEL_CHUNK_BITS;
		 chunkno <= (hi - 1) >> COW_DEL_CHUNK_BITS; chunkno++)
	{
		CowDelChunk *c = hash_search(s->chunks, &chunkno, HASH_FIND, NULL);
		int64		base = chunkno << COW_DEL_CHUNK_BITS;
		int64		from = Max(lo, base) - base;
		int64		to = Min(hi, base + COW_DEL_CHUNK_ROWS) - base;	/* exclusive */

		if (c == NULL)
			continue;
		for (int64 w = from / 64; w <= (to - 1) / 64; w++)
		{
			uint64		word = c->bits[w];

			if (w == from / 64 && from % 64 != 0)
				word &= ~UINT64CONST(0) << (from % 64);
			if (w == (to - 1) / 64 && to % 64 != 0)
				word &= ~(~UINT64CONST(0) << (to % 64));
			n += pg_popcount64(word);
		}
	}
	return n;
}

/*
 * CowDeleteSetIterBegin starts a walk over the row numbers of s (NULL:
 * none) in ascending order, CowDeleteSetIterNext taking one at a time:
 * the walk keeps the set's chunk numbers, eight bytes for 8192 rows, where
 * a list of the row numbers would take eight bytes a row (an UPDATE of
 * every row of a large table deletes them all).  s must not change until
 * CowDeleteSetIterEnd.
 */
void
CowDeleteSetIterBegin(CowDeleteSet *s, CowDeleteSetIter *it)
{
	int64		nchunks = s ? hash_get_num_entries(s->chunks) : 0;
	HASH_SEQ_STATUS seq;
	CowDelChunk *c;
	int64		i = 0;

	memset(it, 0, sizeof(CowDeleteSetIter));
	it->set = s;
	it->chunknos = palloc(sizeof(int64) * Max(nchunks, 1));
	if (s != NULL)
	{
		hash_seq_init(&seq, s->chunks);
		while ((c = hash_seq_search(&seq)) != NULL)
			it->chunknos[i++] = c->chunkno;
	}
	if (i > 1)
		qsort(it->chunknos, i, sizeof(int64), CowDelChunkCmp);
	it->nchunks = i;
	it->word = COW_DEL_WORDS;	/* no chunk being walked yet */
}

bool
CowDeleteSetIterNext(CowDeleteSetIter *it, int64 *rownum)
{
	while (it->rest == 0)
	{
		if (it->word + 1 < COW_DEL_WORDS)
			it->rest = it->bits[++it->word];
		else if (it->next_chunk < it->nchunks)
		{
			int64		chunkno = it->chunknos[it->next_chunk++];
			CowDelChunk *c = hash_search(it->set->chunks, &chunkno,
										 HASH_FIND, NULL);

			it->bits = c->bits;
			it->base = chunkno << COW_DEL_CHUNK_BITS;
			it->word = 0;
			it->rest = it->bits[0];
		}
		else
			return false;
	}
	*rownum = it->base + it->word * 64 + pg_rightmost_one_pos64(it->rest);
	it->rest &= it->rest - 1;
	return true;
}

void
CowDeleteSetIterEnd(CowDeleteSetIter *it)
{
	pfree(it->chunknos);
	it->chunknos = NULL;
}

void
CowDeleteSetFree(CowDeleteSet *s)
{
	if (s == NULL)
		return;
	hash_destroy(s->chunks);
	list_free_deep(s->logged);
	pfree(s);
}
