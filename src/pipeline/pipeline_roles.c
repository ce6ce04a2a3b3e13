/*-------------------------------------------------------------------------
 *
 * pipeline_roles.c
 *	  What role DDL does to pipelines: a ProcessUtility hook.
 *
 *	  A pipeline is owned by a role OID (incetl.pipelines.owner, regrole),
 *	  so ALTER ROLE ... RENAME keeps its pipelines, and a new role that
 *	  takes a dropped role's name gets none of them.  PostgreSQL records
 *	  ownership of its own objects in pg_shdepend; incetl's catalogs are
 *	  tables of one database, so this hook gives role DDL the same meaning
 *	  for the pipelines of the database it runs in:
 *
 *	DROP ROLE		refused (2BP01) while the role owns pipelines, as for
 *					any object it owns;
 *	REASSIGN OWNED	gives the role's pipelines to the new role (and moves
 *					their pg_cron jobs to it);
 *	DROP OWNED		drops the role's pipelines (and their pg_cron jobs;
 *					their run_log rows stay, as with drop_pipeline) before
 *					the statement revokes the role's privileges;
 *	ALTER ROLE ... RENAME
 *					pg_cron knows a job's user by name: a superuser's
 *					rename updates the jobs of the role's pipelines, anyone
 *					else's draws a WARNING saying which jobs to fix.
 *
 *	  Pipelines of other databases are out of reach (as PostgreSQL's own
 *	  objects are for DROP OWNED): if their owner is dropped they cannot
 *	  run (IncetlCheckOwnerExists) until a superuser gives them to another
 *	  role.
 *
 * Copyright (c) 2026, incetl developers
 *
 * IDENTIFICATION
 *	  src/pipeline/pipeline_roles.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "tcop/utility.h"
#include "utils/acl.h"
#include "utils/builtins.h"

#include "incetl.h"

static ProcessUtility_hook_type prev_ProcessUtility = NULL;

static void incetl_roles_ProcessUtility(PlannedStmt *pstmt, const char *queryString,
										bool readOnlyTree,
										ProcessUtilityContext context,
										ParamListInfo params,
										QueryEnvironment *queryEnv,
										DestReceiver *dest, QueryCompletion *qc);
static bool PipelinesHere(void);
static List *PipelinesOwnedBy(Oid roleid);
static List *RoleOids(List *rolespecs, bool missing_ok);
static void CheckDropRole(Oid roleid);
static void ReassignPipelines(Oid oldrole, Oid newrole);
static void DropPipelines(Oid roleid);
static void FollowRename(const char *oldname, const char *newname);

/*
 * PipelinesHere: incetl is installed in this database, with catalogs of
 * this library's version (during an update from 0.1, owners are names).
 */
static bool
PipelinesHere(void)
{
	char	   *version;

	if (creating_extension)
		return false;
	version = IncetlCatalogVersion();
	return version != NULL && strcmp(version, INCETL_CATALOG_VERSION) == 0;
}

/* The names of the pipelines owned by roleid, in name order. */
static List *
PipelinesOwnedBy(Oid roleid)
{
	MemoryContext callercxt = CurrentMemoryContext;
	IncetlUserContext uctx;
	Oid			argtypes[1] = {OIDOID};
	Datum		values[1];
	List	   *names = NIL;

	values[0] = ObjectIdGetDatum(roleid);
	IncetlBecomeCatalogOwner(&uctx);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args("SELECT name FROM incetl.pipelines "
							  "WHERE owner::pg_catalog.oid OPERATOR(pg_catalog.=) $1 "
							  "ORDER BY name",
							  1, argtypes, values, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read incetl.pipelines");
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		MemoryContext spicxt = MemoryContextSwitchTo(callercxt);

		names = lappend(names, SPI_getvalue(SPI_tuptable->vals[i],
											SPI_tuptable->tupdesc, 1));
		MemoryContextSwitchTo(spicxt);
	}
	SPI_finish();
	IncetlRestoreUser(&uctx);
	return names;
}

/* The OIDs of a statement's roles (skipping missing ones when missing_ok). */
static List *
RoleOids(List *rolespecs, bool missing_ok)
{
	List	   *oids = NIL;
	ListCell   *lc;

	foreach(lc, rolespecs)
	{
		Oid			roleid = get_rolespec_oid(lfirst_node(RoleSpec, lc), missing_ok);

		if (OidIsValid(roleid))
			oids = lappend_oid(oids, roleid);
	}
	return oids;
}

static void
CheckDropRole(Oid roleid)
{
	List	   *names = PipelinesOwnedBy(roleid);
	StringInfoData list;
	ListCell   *lc;

	if (names == NIL)
		return;
	initStringInfo(&list);
	foreach(lc, names)
		appendStringInfo(&list, "%s%s", list.len > 0 ? ", " : "",
						 quote_identifier(lfirst(lc)));
	ereport(ERROR,
			(errcode(ERRCODE_DEPENDENT_OBJECTS_STILL_EXIST),
			 errmsg("role \"%s\" cannot be dropped because some objects depend on it",
					GetUserNameFromId(roleid, false)),
			 errdetail("owner of incetl pipeline%s %s",
					   list_length(names) > 1 ? "s" : "", list.data),
			 errhint("Give them to another role with incetl.alter_pipeline(name, owner => ...) or "
					 "REASSIGN OWNED, or drop them with incetl.drop_pipeline() or DROP OWNED.")));
}

/*
 * ReassignPipelines gives oldrole's pipelines to newrole.  Their pg_cron
 * jobs are scheduled again under the new owner.
 */
static void
ReassignPipelines(Oid oldrole, Oid newrole)
{
	ListCell   *lc;

	foreach(lc, PipelinesOwnedBy(oldrole))
	{
		IncetlPipeline *p = IncetlLoadPipeline(lfirst(lc), false);
		Oid			types[2] = {TEXTOID, OIDOID};
		Datum		values[2];

		if (p->schedule != NULL)
			(void) IncetlUnscheduleJob(p, true);
		values[0] = CStringGetTextDatum(p->name);
		values[1] = ObjectIdGetDatum(newrole);
		IncetlCatalogExec("UPDATE incetl.pipelines SET owner = $2::pg_catalog.regrole "
						  "WHERE name = $1", 2, types, values, NULL, 1);
		p->owner = newrole;
		if (p->schedule != NULL &&
			OidIsValid(get_extension_oid("pg_cron", true)))
			(void) IncetlScheduleJob(p, p->schedule);
	}
}

/* DropPipelines drops roleid's pipelines, as drop_pipeline() would. */
static void
DropPipelines(Oid roleid)
{
	ListCell   *lc;

	foreach(lc, PipelinesOwnedBy(roleid))
	{
		IncetlPipeline *p = IncetlLoadPipeline(lfirst(lc), false);
		Oid			types[1] = {TEXTOID};
		Datum		values[1];

		(void) IncetlUnscheduleJob(p, true);
		values[0] = CStringGetTextDatum(p->name);
		IncetlCatalogExec("DELETE FROM incetl.pipelines WHERE name = $1",
						  1, types, values, NULL, 1);
	}
}

/*
 * FollowRename: the pg_cron jobs of the renamed role's pipelines still
 * name the old user.  A superuser may update them; anyone else is told.
 */
static void
FollowRename(const char *oldname, const char *newname)
{
	Oid			roleid = get_role_oid(newname, true);
	List	   *names;
	StringInfoData jobs;
	ListCell   *lc;

	if (!OidIsValid(roleid) || !OidIsValid(get_extension_oid("pg_cron", true)))
		return;
	names = PipelinesOwnedBy(roleid);
	if (names == NIL)
		return;
	initStringInfo(&jobs);
	foreach(lc, names)
		appendStringInfo(&jobs, "%s%s", jobs.len > 0 ? ", " : "",
						 quote_literal_cstr(psprintf("incetl:%s", (char *) lfirst(lc))));

	if (superuser())
	{
		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		if (SPI_execute(psprintf("UPDATE cron.job SET username = %s "
								 "WHERE username OPERATOR(pg_catalog.=) %s "
								 "AND database OPERATOR(pg_catalog.=) pg_catalog.current_database() "
								 "AND jobname OPERATOR(pg_catalog.=) ANY (ARRAY[%s])",
								 quote_literal_cstr(newname), quote_literal_cstr(oldname),
								 jobs.data),
						false, 0) != SPI_OK_UPDATE)
			elog(ERROR, "could not update the pg_cron jobs of role \"%s\"", newname);
		SPI_finish();
	}
	else
		ereport(WARNING,
				(errmsg("the pg_cron jobs of the pipelines of role \"%s\" still run as \"%s\"",
						newname, oldname),
				 errdetail("pg_cron knows the user of a job by name."),
				 errhint("A superuser can update them: UPDATE cron.job SET username = %s "
						 "WHERE username = %s AND jobname IN (%s);",
						 quote_literal_cstr(newname), quote_literal_cstr(oldname),
						 jobs.data)));
}

static void
incetl_roles_ProcessUtility(PlannedStmt *pstmt, const char *queryString,
							bool readOnlyTree, ProcessUtilityContext context,
							ParamListInfo params, QueryEnvironment *queryEnv,
							DestReceiver *dest, QueryCompletion *qc)
{
	Node	   *parsetree = pstmt->utilityStmt;
	List	   *roles = NIL;
	Oid			newrole = InvalidOid;
	ListCell   *lc;
	bool		here = false;

	if (IsA(parsetree, DropRoleStmt) || IsA(parsetree, ReassignOwnedStmt) ||
		IsA(parsetree, DropOwnedStmt) ||
		(IsA(parsetree, RenameStmt) &&
		 ((RenameStmt *) parsetree)->renameType == OBJECT_ROLE))
		here = PipelinesHere();

	if (here && IsA(parsetree, DropRoleStmt))
	{
		DropRoleStmt *stmt = (DropRoleStmt *) parsetree;

		foreach(lc, RoleOids(stmt->roles, true))
			CheckDropRole(lfirst_oid(lc));
	}
	else if (here && IsA(parsetree, ReassignOwnedStmt))
	{
		ReassignOwnedStmt *stmt = (ReassignOwnedStmt *) parsetree;

		roles = RoleOids(stmt->roles, false);
		newrole = get_rolespec_oid(stmt->newrole, false);
	}
	else if (here && IsA(parsetree, DropOwnedStmt))
	{
		/*
		 * Before the statement revokes the role's privileges (USAGE on
		 * schema cron among them, which removing its jobs needs).  Roles the
		 * caller may not act for are left to the statement to refuse.
		 */
		foreach(lc, RoleOids(((DropOwnedStmt *) parsetree)->roles, false))
			if (has_privs_of_role(GetUserId(), lfirst_oid(lc)))
				DropPipelines(lfirst_oid(lc));
	}

	if (prev_ProcessUtility)
		prev_ProcessUtility(pstmt, queryString, readOnlyTree, context, params,
							queryEnv, dest, qc);
	else
		standard_ProcessUtility(pstmt, queryString, readOnlyTree, context,
								params, queryEnv, dest, qc);

	/* PostgreSQL checked the caller's rights over these roles */
	if (!here)
		return;
	if (IsA(parsetree, ReassignOwnedStmt))
	{
		foreach(lc, roles)
			if (lfirst_oid(lc) != newrole)
				ReassignPipelines(lfirst_oid(lc), newrole);
	}
	else if (IsA(parsetree, RenameStmt))
	{
		RenameStmt *stmt = (RenameStmt *) parsetree;

		FollowRename(stmt->subname, stmt->newname);
	}
}

void
IncetlRolesInit(void)
{
	prev_ProcessUtility = ProcessUtility_hook;
	ProcessUtility_hook = incetl_roles_ProcessUtility;
}
