/*-------------------------------------------------------------------------
 *
 * cow_clean.c
 *	  VACUUM of incetl_cow tables.
 *
 * Copyright (c) 2026, incetl authors
 *
 * IDENTIFICATION
 *	  src/cow/cow_clean.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/multixact.h"
#include "commands/vacuum.h"
#include "storage/bufmgr.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "cow.h"
#include "cow_scan.h"

void
cow_relation_vacuum(Relation rel, VacuumParams *params,
					BufferAccessStrategy bstrategy)
{
	Snapshot	snap = RegisterSnapshot(GetLatestSnapshot());
	int			n,
				i;
	CowVersion *v = CowLoadVersions(CowStorageId(rel), snap, true, &n);
	double		rows = 0;

	for (i = 0; i < n; i++)
		rows += v[i].row_count;
	UnregisterSnapshot(snap);

	/* the table stores no transaction ids: everything is frozen */
	vac_update_relstats(rel, RelationGetNumberOfBlocks(rel), rows, 0,
						RelationGetForm(rel)->relhasindex, RecentXmin,
						GetOldestMultiXactId(), NULL, NULL, false);
}
