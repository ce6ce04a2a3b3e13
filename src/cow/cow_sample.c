/*-------------------------------------------------------------------------
 *
 * cow_sample.c
 *	  TABLESAMPLE on incetl_cow tables.
 *
 * A sampling method (SYSTEM, BERNOULLI, tsm_system_rows, tsm_system_time)
 * asks for blocks and, within a block, for offsets.  Our "blocks" are the
 * blocks of our TIDs: row-number buckets of COW_ROWS_PER_BLOCK rows (see
 * cow/storage.h), up to the last row of the current versions the scan's
 * snapshot sees; offset o of bucket b is row number
 * b * COW_ROWS_PER_BLOCK + o - 1.  A row number no current version holds
 * (superseded, deleted, never written) is skipped like a dead heap tuple,
 * so the sample only ever returns rows the snapshot sees, and SYSTEM takes
 * whole buckets.  The mapping depends only on the current versions, so
 * REPEATABLE gives the same sample for the same table state.
 *
 * (ANALYZE maps the physical blocks of extents onto row slices instead;
 * that suits its block count, but a slice of a well-compressed extent can
 * hold more rows than an OffsetNumber counts, and the sample's offsets are
 * then no TIDs.)
 *
 * Copyright (c) 2026, incetl authors
 *
 * IDENTIFICATION
 *	  src/cow/cow_sample.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/tsmapi.h"
#include "miscadmin.h"
#include "nodes/execnodes.h"
#include "pgstat.h"
#include "utils/memutils.h"

#include "cow/read.h"

static BlockNumber CowSampleNextBusyBlock(CowRowIndex *ix, BlockNumber from,
										  BlockNumber nblocks);

/*
 * CowSampleNextBusyBlock returns the first bucket at or after "from" that
 * holds a row of a current version, or InvalidBlockNumber: a sequential
 * sample (BERNOULLI) skips the long runs of superseded row numbers an
 * upserted table has.
 */
static BlockNumber
CowSampleNextBusyBlock(CowRowIndex *ix, BlockNumber from, BlockNumber nblocks)
{
	int64		rn;

	if (from >= nblocks)
		return InvalidBlockNumber;
	rn = CowRowIndexNextBusy(ix, (int64) from * COW_ROWS_PER_BLOCK);
	if (rn < 0)
		return InvalidBlockNumber;
	return (BlockNumber) (rn / COW_ROWS_PER_BLOCK);
}

bool
cow_scan_sample_next_block(TableScanDesc sscan, SampleScanState *scanstate)
{
	CowScanDesc scan = (CowScanDesc) sscan;
	TsmRoutine *tsm = scanstate->tsmroutine;
	BlockNumber blockno;

	if (!scan->sample_started)
	{
		int64		end = CowRowIndexEnd(CowScanRowIndex(sscan));

		scan->sample_nblocks = (BlockNumber)
			((end + COW_ROWS_PER_BLOCK - 1) / COW_ROWS_PER_BLOCK);
	}
	if (scan->sample_nblocks == 0)
		return false;

	if (tsm->NextSampleBlock)
		blockno = tsm->NextSampleBlock(scanstate, scan->sample_nblocks);
	else if (!scan->sample_started)
		blockno = CowSampleNextBusyBlock(CowScanRowIndex(sscan), 0,
										 scan->sample_nblocks);
	else
		blockno = CowSampleNextBusyBlock(CowScanRowIndex(sscan),
										 scan->sample_block + 1,
										 scan->sample_nblocks);

	if (!BlockNumberIsValid(blockno))
	{
		MemoryContextReset(scan->group_cxt);
		scan->group = NULL;
		scan->sample_version = -1;
		scan->sample_started = false;
		return false;
	}
	scan->sample_block = blockno;
	scan->sample_started = true;
	return true;
}

bool
cow_scan_sample_next_tuple(TableScanDesc sscan, SampleScanState *scanstate,
						   TupleTableSlot *slot)
{
	CowScanDesc scan = (CowScanDesc) sscan;
	TsmRoutine *tsm = scanstate->tsmroutine;
	CowVersion *versions;
	int			n;

	versions = CowScanVersions(sscan, &n);
	for (;;)
	{
		OffsetNumber off;
		int64		rn;
		int64		pos;
		int			vi;

		CHECK_FOR_INTERRUPTS();
		off = tsm->NextSampleTuple(scanstate, scan->sample_block,
								   COW_ROWS_PER_BLOCK);
		if (!OffsetNumberIsValid(off))
		{
			ExecClearTuple(slot);
			return false;
		}
		rn = (int64) scan->sample_block * COW_ROWS_PER_BLOCK + off - 1;
		vi = CowRowIndexFind(CowScanRowIndex(sscan), rn, &pos);
		if (vi < 0)
			continue;			/* no current row has this number */
		{
			if (vi != scan->sample_version)
			{
				MemoryContext old;

				MemoryContextReset(scan->group_cxt);
				old = MemoryContextSwitchTo(scan->group_cxt);
				scan->group = CowOpenGroup(sscan->rs_rd, &versions[vi],
										   true, NULL);
				MemoryContextSwitchTo(old);
				scan->sample_version = vi;
			}
		}
		CowStoreRow(sscan->rs_rd, scan->group, (uint64) pos, slot);
		pgstat_count_heap_getnext(sscan->rs_rd);
		return true;
	}
}
