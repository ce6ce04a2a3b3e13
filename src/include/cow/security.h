/*-------------------------------------------------------------------------
 *
 * cow/security.h
 *	  Who an incetl_cow write acts as, and what it may do: the table
 *	  owner's context for rewrites and cleaning, and the privileges and
 *	  row-level security an upsert needs where it replaces or deletes a
 *	  stored row (cow_security.c).
 *
 *	  Uses the catalogs (pg_class ACLs, pg_policy through the relcache)
 *	  and the executor; called by the merge (cow_merge.c), the options
 *	  (cow_options.c) and cleaning (cow_clean.c).
 *
 * Copyright (c) 2026, incetl authors
 *
 * IDENTIFICATION
 *	  src/include/cow/security.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef INCETL_COW_SECURITY_H
#define INCETL_COW_SECURITY_H

#include "nodes/pg_list.h"
#include "utils/acl.h"
#include "utils/rel.h"

#include "cow/read.h"

/* The context saved by CowBecomeTableOwner, restored by CowRestoreUser. */
typedef struct CowUserContext
{
	Oid			save_userid;
	int			save_sec_context;
	int			save_nestlevel;
} CowUserContext;

extern void CowBecomeTableOwner(Relation rel, CowUserContext *ctx);
extern void CowRestoreUser(CowUserContext *ctx);

/*
 * The checks of one merge: NULL from CowWriteCheckBegin when none is
 * needed (every writer may update and delete, and no row-level security
 * applies to them).
 */
typedef struct CowWriteCheck CowWriteCheck;
struct CowRow;

extern CowWriteCheck *CowWriteCheckBegin(Relation rel, List *writers,
										 bool delete_marker);
extern void CowCheckReplace(CowWriteCheck *wc, struct CowRow *stored,
							struct CowRow *incoming);
extern void CowCheckDelete(CowWriteCheck *wc, struct CowRow *stored);
extern void CowWriteCheckEnd(CowWriteCheck *wc);

/* a table opened after checking the caller may read it */
extern Relation CowOpenChecked(Oid relid, AclMode mode);

#endif							/* INCETL_COW_SECURITY_H */
