/*-------------------------------------------------------------------------
 *
 * cow_wait_rows.c
 *	  The rows an appending statement holds until their block is written,
 *	  kept column by column as the group writer takes them.
 *
 * A statement appending in key order (cow_write_state.c, CowAppender) hands
 * its rows to the file group being written a block (COW_BLOCK_ROWS rows) at
 * a time, and holds back the last few a late row may still take back into
 * the reordering heap.  Held as rows (CowRow: a header, a Datum and a null
 * flag per column, then the values' bytes, rounded up to the allocator's
 * next power of two) a row of six columns took 272 bytes; here it is a
 * Datum and a flag per column in arrays, its arrival and pending numbers,
 * and only its by-reference values' bytes, packed one after the other in an
 * arena.  The block is then handed to the writer as its columns' arrays
 * (CowWaitRowsColumn), without a copy.
 *
 * Rows leave first in, first out (CowWaitRowsDrop, once their block is
 * encoded) or last in, first out (CowWaitRowsPop: taken back), so the
 * arena is a queue of segments (COW_WAIT_SEGMENT bytes, or a row's bytes
 * if more): a row's bytes lie in one segment, rows are added to the last,
 * a row taken back gives its bytes back to it, and a segment is freed once
 * its rows are all gone.  Values never move while they wait.  A value
 * larger than COW_WAIT_INLINE_MAX is kept in a chunk of its own, so that a
 * few large values make no segment large; its size tells it.
 *
 * Values are read as they were given: CowRowFromValues detoasted them.
 *
 * Copyright (c) 2026, incetl authors
 *
 * IDENTIFICATION
 *	  src/cow/cow_wait_rows.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/tupmacs.h"
#include "utils/memutils.h"

#include "cow/write.h"

#define COW_WAIT_INLINE_MAX		8192
#define COW_WAIT_SEGMENT		(16 * 1024)

typedef struct CowWaitSegment
{
	struct CowWaitSegment *next;
	Size		used;
	Size		size;
	char		data[FLEXIBLE_ARRAY_MEMBER];	/* MAXALIGNed */
} CowWaitSegment;

struct CowWaitRows
{
	TupleDesc	desc;
	int			natts;
	int			cap;			/* rows */
	int			n;				/* rows held */
	MemoryContext cxt;			/* everything below */
	Datum	  **vals;			/* [natts][cap]: the non-NULL values of each
								 * column, in row order */
	int		   *nvals;			/* [natts] */
	bool	  **isnull;			/* [natts][cap], by row */
	int64	   *seq;			/* [cap]: arrival numbers */
	int64	   *pending;		/* [cap]: pending row numbers */
	CowWaitSegment **row_seg;	/* [cap]: the segment of each row's bytes */
	Size	   *row_off;		/* [cap]: where in it they start */
	CowWaitSegment *head;		/* the oldest segment */
	CowWaitSegment *tail;		/* the newest: rows are added to it */
};

/* CowWaitValueSize: the bytes of a non-NULL by-reference value */
static inline Size
CowWaitValueSize(Form_pg_attribute att, Datum value)
{
	if (att->attlen == -1)
		return VARSIZE_ANY(DatumGetPointer(value));
	if (att->attlen == -2)
		return strlen(DatumGetCString(value)) + 1;
	return att->attlen;
}

/* CowWaitNewSegment makes an empty segment of at least need bytes */
static CowWaitSegment *
CowWaitNewSegment(CowWaitRows *wr, Size need)
{
	Size		size = Max(need, COW_WAIT_SEGMENT);
	CowWaitSegment *seg;

	seg = MemoryContextAllocHuge(wr->cxt, offsetof(CowWaitSegment, data) + size);
	seg->next = NULL;
	seg->used = 0;
	seg->size = size;
	return seg;
}

/*
 * CowWaitRowsCreate makes an empty holder of at most cap rows of desc, in
 * a context of its own under parent.
 */
CowWaitRows *
CowWaitRowsCreate(TupleDesc desc, int cap, MemoryContext parent)
{
	MemoryContext cxt = AllocSetContextCreate(parent, "incetl cow waiting rows",
											  ALLOCSET_DEFAULT_SIZES);
	MemoryContext old = MemoryContextSwitchTo(cxt);
	CowWaitRows *wr = palloc0(sizeof(CowWaitRows));
	int			natts = desc->natts;

	wr->desc = desc;
	wr->natts = natts;
	wr->cap = cap;
	wr->cxt = cxt;
	wr->vals = palloc0(sizeof(Datum *) * Max(natts, 1));
	wr->nvals = palloc0(sizeof(int) * Max(natts, 1));
	wr->isnull = palloc0(sizeof(bool *) * Max(natts, 1));
	for (int i = 0; i < natts; i++)
	{
		if (TupleDescAttr(desc, i)->attisdropped)
			continue;
		wr->vals[i] = palloc(sizeof(Datum) * cap);
		wr->isnull[i] = palloc(sizeof(bool) * cap);
	}
	wr->seq = palloc(sizeof(int64) * cap);
	wr->pending = palloc(sizeof(int64) * cap);
	wr->row_seg = palloc(sizeof(CowWaitSegment *) * cap);
	wr->row_off = palloc(sizeof(Size) * cap);
	wr->head = wr->tail = CowWaitNewSegment(wr, 0);
	MemoryContextSwitchTo(old);
	return wr;
}

/* CowWaitRowsReserve lets wr hold cap rows (more than it could) */
void
CowWaitRowsReserve(CowWaitRows *wr, int cap)
{
	if (cap <= wr->cap)
		return;
	for (int i = 0; i < wr->natts; i++)
	{
		if (TupleDescAttr(wr->desc, i)->attisdropped)
			continue;
		wr->vals[i] = repalloc(wr->vals[i], sizeof(Datum) * cap);
		wr->isnull[i] = repalloc(wr->isnull[i], sizeof(bool) * cap);
	}
	wr->seq = repalloc(wr->seq, sizeof(int64) * cap);
	wr->pending = repalloc(wr->pending, sizeof(int64) * cap);
	wr->row_seg = repalloc(wr->row_seg, sizeof(CowWaitSegment *) * cap);
	wr->row_off = repalloc(wr->row_off, sizeof(Size) * cap);
	wr->cap = cap;
}

/* CowWaitRowsFree drops wr and every value it holds */
void
CowWaitRowsFree(CowWaitRows *wr)
{
	MemoryContextDelete(wr->cxt);
}

int
CowWaitRowsCount(CowWaitRows *wr)
{
	return wr->n;
}

/*
 * CowWaitRowsPush appends row (a row of wr's descriptor with values, its
 * by-reference values detoasted) after the rows held, as an incoming row:
 * the writer gives its block the statement's commit id.  Its values are
 * copied; the caller still owns row.
 */
void
CowWaitRowsPush(CowWaitRows *wr, CowRow *row)
{
	int			r = wr->n;
	CowWaitSegment *seg = wr->tail;
	Size		start = seg->used;
	Size		end = start;
	Size		end0 = 0;		/* the same from a segment's start */

	Assert(r < wr->cap);
	Assert(row->values != NULL);

	/* the bytes of the values kept in the arena: in the last segment? */
	for (int i = 0; i < wr->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(wr->desc, i);
		Size		len;

		if (att->attbyval || att->attisdropped || row->isnull[i])
			continue;
		len = CowWaitValueSize(att, row->values[i]);
		if (len <= COW_WAIT_INLINE_MAX)
		{
			end = att_align_nominal(end, att->attalign) + len;
			end0 = att_align_nominal(end0, att->attalign) + len;
		}
	}
	if (end > seg->size)
	{
		seg = CowWaitNewSegment(wr, end0);
		wr->tail->next = seg;
		wr->tail = seg;
		start = 0;
	}

	end = start;
	for (int i = 0; i < wr->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(wr->desc, i);
		Datum		value = row->values[i];
		Size		len;
		char	   *copy;

		if (att->attisdropped)
			continue;
		wr->isnull[i][r] = row->isnull[i];
		if (row->isnull[i])
			continue;
		if (!att->attbyval)
		{
			Assert(att->attlen != -1 ||
				   (!VARATT_IS_EXTERNAL(DatumGetPointer(value)) &&
					!VARATT_IS_COMPRESSED(DatumGetPointer(value))));
			len = CowWaitValueSize(att, value);
			if (len <= COW_WAIT_INLINE_MAX)
			{
				end = att_align_nominal(end, att->attalign);
				copy = seg->data + end;
				end += len;
			}
			else
				copy = MemoryContextAllocHuge(wr->cxt, len);
			memcpy(copy, DatumGetPointer(value), len);
			value = PointerGetDatum(copy);
		}
		wr->vals[i][wr->nvals[i]++] = value;
	}
	Assert(end <= seg->size);
	wr->seq[r] = row->seq;
	wr->pending[r] = row->pending;
	wr->row_seg[r] = seg;
	wr->row_off[r] = start;
	seg->used = end;
	wr->n = r + 1;
}

/* CowWaitFreeLarge frees v if it is a large value kept apart */
static inline void
CowWaitFreeLarge(Form_pg_attribute att, Datum v)
{
	if (!att->attbyval && CowWaitValueSize(att, v) > COW_WAIT_INLINE_MAX)
		pfree(DatumGetPointer(v));
}

/*
 * CowWaitRowsLast fills values and isnull (natts each) with the last row's
 * values, pointing into wr: valid until wr next changes.
 */
void
CowWaitRowsLast(CowWaitRows *wr, Datum *values, bool *isnull)
{
	int			r = wr->n - 1;

	Assert(r >= 0);
	for (int i = 0; i < wr->natts; i++)
	{
		isnull[i] = TupleDescAttr(wr->desc, i)->attisdropped || wr->isnull[i][r];
		values[i] = isnull[i] ? (Datum) 0 : wr->vals[i][wr->nvals[i] - 1];
	}
}

/*
 * CowWaitRowsColumn: column i of the first n rows, as the group writer
 * takes a block -- its non-NULL values in row order (*vals, *nvals of
 * them) and its null flags by row (*isnull).  Pointers into wr, valid
 * until it next changes.
 */
void
CowWaitRowsColumn(CowWaitRows *wr, int i, int n, const Datum **vals,
				  int64 *nvals, const bool **isnull)
{
	int64		k = 0;

	Assert(n <= wr->n);
	for (int j = 0; j < n; j++)
		k += !wr->isnull[i][j];
	*vals = wr->vals[i];
	*nvals = k;
	*isnull = wr->isnull[i];
}

/*
 * CowWaitRowsPop removes the last row, returned as a CowRow in cxt (its
 * arrival and pending numbers kept).
 */
CowRow *
CowWaitRowsPop(CowWaitRows *wr, MemoryContext cxt)
{
	int			r = wr->n - 1;
	Datum	   *values = palloc(sizeof(Datum) * Max(wr->natts, 1));
	bool	   *isnull = palloc(sizeof(bool) * Max(wr->natts, 1));
	CowRow	   *row;

	CowWaitRowsLast(wr, values, isnull);
	row = CowRowFromValues(wr->desc, wr->natts, values, isnull, wr->seq[r],
						   false, cxt);
	row->pending = wr->pending[r];
	for (int i = 0; i < wr->natts; i++)
	{
		if (isnull[i])
			continue;
		CowWaitFreeLarge(TupleDescAttr(wr->desc, i), values[i]);
		wr->nvals[i]--;
	}
	/* its bytes go back to its segment, the last (or an empty one after it) */
	while (wr->tail != wr->row_seg[r])
	{
		CowWaitSegment *seg = wr->head;

		Assert(wr->tail->used == 0);
		while (seg->next != wr->tail)
			seg = seg->next;
		pfree(wr->tail);
		seg->next = NULL;
		wr->tail = seg;
	}
	wr->tail->used = wr->row_off[r];
	wr->n = r;
	pfree(values);
	pfree(isnull);
	return row;
}

/*
 * CowWaitRowsCopyAll returns every row held, in order, as CowRows in cxt
 * (an array of CowWaitRowsCount rows); wr is unchanged.
 */
CowRow **
CowWaitRowsCopyAll(CowWaitRows *wr, MemoryContext cxt)
{
	int			natts = wr->natts;
	int		   *k = palloc0(sizeof(int) * Max(natts, 1));
	Datum	   *values = palloc(sizeof(Datum) * Max(natts, 1));
	bool	   *isnull = palloc(sizeof(bool) * Max(natts, 1));
	CowRow	  **rows = palloc(sizeof(CowRow *) * Max(wr->n, 1));

	for (int r = 0; r < wr->n; r++)
	{
		for (int i = 0; i < natts; i++)
		{
			isnull[i] = TupleDescAttr(wr->desc, i)->attisdropped ||
				wr->isnull[i][r];
			values[i] = isnull[i] ? (Datum) 0 : wr->vals[i][k[i]++];
		}
		rows[r] = CowRowFromValues(wr->desc, natts, values, isnull,
								   wr->seq[r], false, cxt);
		rows[r]->pending = wr->pending[r];
	}
	pfree(k);
	pfree(values);
	pfree(isnull);
	return rows;
}

/*
 * CowWaitRowsDrop forgets the first n rows (their block was encoded): the
 * rows after them move to the front, and the segments that held only their
 * bytes are freed.
 */
void
CowWaitRowsDrop(CowWaitRows *wr, int n)
{
	int			left = wr->n - n;

	Assert(n >= 0 && n <= wr->n);
	if (n == 0)
		return;
	for (int i = 0; i < wr->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(wr->desc, i);
		int			k = 0;

		if (att->attisdropped)
			continue;
		for (int j = 0; j < n; j++)
		{
			if (wr->isnull[i][j])
				continue;
			CowWaitFreeLarge(att, wr->vals[i][k]);
			k++;
		}
		memmove(wr->vals[i], wr->vals[i] + k, sizeof(Datum) * (wr->nvals[i] - k));
		wr->nvals[i] -= k;
		memmove(wr->isnull[i], wr->isnull[i] + n, sizeof(bool) * left);
	}
	memmove(wr->seq, wr->seq + n, sizeof(int64) * left);
	memmove(wr->pending, wr->pending + n, sizeof(int64) * left);
	memmove(wr->row_seg, wr->row_seg + n, sizeof(CowWaitSegment *) * left);
	memmove(wr->row_off, wr->row_off + n, sizeof(Size) * left);
	wr->n = left;

	/* free the segments before the first row's; with no rows, all but one */
	while (wr->head != wr->tail && (left == 0 || wr->head != wr->row_seg[0]))
	{
		CowWaitSegment *next = wr->head->next;

		pfree(wr->head);
		wr->head = next;
	}
	if (left == 0)
		wr->tail->used = 0;
}
