#!/usr/bin/env perl
# test/fuzz/cow_fuzz.pl -- differential fuzzer for the incetl_cow access method
#
# Seeded random sequences of statements run against an incetl_cow table "c"
# and, in the same session and transaction, against a heap table "o" (the
# oracle) that implements doc/incetl_cow.md's write rules in plain SQL:
# DISTINCT ON (key) ... ORDER BY key, precombine DESC NULLS LAST, arrival DESC
# collapses a statement's rows, INSERT ... ON CONFLICT (key) DO UPDATE with a
# precombine test applies them, a DELETE applies winning delete markers.
# The oracle also records, per row, the commit id that last wrote it (_wc),
# and after every commit a copy of its rows (table "hist"): since hist and o
# live in the same transaction as c, ROLLBACK and ROLLBACK TO SAVEPOINT undo
# the oracle's history exactly as they undo c's.
#
# After every statement: c and o hold the same rows; incetl.verify('c') is
# empty; an aggregate over c (pushed down) equals the one over o; for a new
# commit, as_of(c, commit) equals the oracle's copy, changes(c, previous,
# commit) equals the oracle's rows written after the previous commit, and
# commits(c) shows the statement's operation (and its counts where the
# documented rules fix them), net_changes(c, previous, commit) reports as
# gone and new the rows that differ, as row versions, between the oracle's
# copies and table_changes() of that one commit the same rows.  Every tenth statement, as_of of a sample of
# the commits, at the end of every commit (or the documented "no longer
# retained" error), and changes() and net_changes() between pairs of
# commits.
#
# Race rounds (every fourth seed, --race-every): two more sessions
# (READ COMMITTED or REPEATABLE READ) write overlapping keys in concurrent
# transactions; the oracle then applies the committed transactions' rows in
# commit-id order (writers serialize at their first flush, so commit ids
# follow commit order) and must match.
#
# A failing sequence is shrunk (delta debugging: drop chunks of statements
# while the same kind of failure remains) and written as a psql script that
# reproduces it on a fresh database with incetl: paste it into a regression
# test.
#
# Usage (the server is the one PGHOST/PGPORT/PGUSER/PGDATABASE point to; it
# must preload incetl; the fuzzer works in schema cow_fuzz, dropped first;
# --schema NAME for another, so that runs can share a database):
#   perl test/fuzz/cow_fuzz.pl --seed 42 --sequences 20 [--statements 40]
#   perl test/fuzz/cow_fuzz.pl --seconds 600            # random base seed
#   perl test/fuzz/cow_fuzz.pl --seed 1234 --sequences 1   # replay one seed
# Sequence i of a run uses seed BASE+i and prints it; a replay of that seed
# with --sequences 1 runs exactly the same statements.
#
# --avoid=LIST (default "known"; "none" turns every switch off, "known,-NAME"
# all but one, "known,NAME" one more) steers the generator and the checks
# away from bugs.  "known" is the bugs not fixed on main yet: none now.
# The switches name bugs fixed on main since (each is off by default; with
# it off, the fuzzer found each bug in runs of this generator):
#   abort_visibility   found by this fuzzer: after a write statement fails
#                      (a NULL key after other rows) and ROLLBACK TO
#                      SAVEPOINT, the transaction's next write is invisible
#                      to the transaction itself (seen after commit); with
#                      the switch on, no statement fails on a NULL key in a
#                      transaction
#   carry_crash        a large statement in key order under a 1MB
#                      maintenance_work_mem starts beyond the table's last key
#                      (merged in parts into a table holding a higher key, it
#                      crashes in CowOutCarry)
#   marker_counts      commit counts are not compared for a statement that
#                      holds a delete marker (when its first rows ascend from
#                      beyond the table's last key, it is merged a file group
#                      at a time, and a key an early part inserted and a later
#                      marker deleted counts as inserted and deleted)
#   default_rewrite    no ALTER COLUMN ... TYPE (a rewrite) once a column was
#                      added with a DEFAULT (the rewrite loses the default of
#                      the rows stored before)
#   truncate_twice     at most one TRUNCATE per transaction
#   truncate_timeline  as_of/changes are compared only for commits after the
#                      latest TRUNCATE
#   rewrite_timeline   found by this fuzzer: after an ALTER TABLE rewrite
#                      (ALTER COLUMN ... TYPE), as_of() of an earlier commit
#                      returned no rows and changes() up to one nothing;
#                      compared only after the latest rewrite
# Stale row addresses after UPDATE in a transaction, another bug known when
# this was written, did not show in runs of this generator, so it has no
# switch; backward cursors are not generated.
#
# Exit status: 0 when every sequence passed, 1 when one failed (the shrunk
# script is printed and saved under --out), 2 on usage errors.

use strict;
use warnings;
use FindBin;
use lib $FindBin::Bin;
use FuzzSession;
use Getopt::Long;
use Time::HiRes qw(time);
use File::Path qw(make_path);

# Every switch, and those "known" turns on: bugs not fixed yet on main.
my %SWITCHES = map { $_ => 1 } qw(carry_crash truncate_twice truncate_timeline
  marker_counts default_rewrite rewrite_timeline abort_visibility);
my %KNOWN = map { $_ => 1 } qw();

my $opt_seed;
my $opt_sequences;
my $opt_seconds;
my $opt_statements = 40;
my $opt_race_every = 4;
my $opt_avoid = 'known';
my $opt_out = '/tmp/cow_fuzz';
my $opt_shrink_seconds = 300;
my $opt_shrink = 1;
my $opt_verbose = 0;
my $opt_psql = 'psql';
my $opt_keep_going = 0;
my $opt_schema = 'cow_fuzz';

GetOptions(
	'seed=i' => \$opt_seed,
	'sequences=i' => \$opt_sequences,
	'seconds=f' => \$opt_seconds,
	'statements=i' => \$opt_statements,
	'race-every=i' => \$opt_race_every,
	'avoid=s' => \$opt_avoid,
	'out=s' => \$opt_out,
	'shrink!' => \$opt_shrink,
	'shrink-seconds=i' => \$opt_shrink_seconds,
	'keep-going!' => \$opt_keep_going,
	'schema=s' => \$opt_schema,
	'psql=s' => \$opt_psql,
	'verbose|v+' => \$opt_verbose) or exit 2;

my %AVOID;
for my $a (split /,/, $opt_avoid)
{
	if ($a eq 'known') { %AVOID = (%AVOID, %KNOWN); }
	elsif ($a eq 'none') { }
	elsif ($SWITCHES{$a}) { $AVOID{$a} = 1; }
	elsif ($a =~ /^-(.*)/ && $SWITCHES{$1}) { delete $AVOID{$1}; }
	else { print STDERR "unknown --avoid switch \"$a\"\n"; exit 2; }
}
$opt_seed = int(time * 1000) % 1000000000 unless defined $opt_seed;
$opt_sequences = 10 if !defined $opt_sequences && !defined $opt_seconds;

make_path($opt_out);
my $ERRLOG = "$opt_out/psql-stderr.log";

# ----------------------------------------------------------------------
# Random numbers: our own generator (a 32-bit LCG step mixed), so that a
# seed gives the same sequence on every Perl build.
# ----------------------------------------------------------------------
my $RNG = 1;
sub rseed { $RNG = ($_[0] * 2654435761 + 12345) % 4294967296; rnd(2) for 1 .. 3; }
sub rnd
{
	my ($n) = @_;
	$RNG = (1103515245 * $RNG + 12345) % 2147483648;
	my $x = ($RNG >> 7) ^ (($RNG & 127) << 17);
	return $x % $n;
}
sub chance { return rnd(1000) < $_[0] * 1000; }
sub pick { return $_[rnd(scalar @_)]; }
sub wpick
{
	my (@pairs) = @_;
	my $total = 0;
	$total += $pairs[ 2 * $_ + 1 ] for 0 .. $#pairs / 2;
	my $r = rnd($total);
	for (my $i = 0; $i < @pairs; $i += 2)
	{
		return $pairs[$i] if $r < $pairs[ $i + 1 ];
		$r -= $pairs[ $i + 1 ];
	}
	return $pairs[-2];
}

# ----------------------------------------------------------------------
# Generation: a sequence is a setup plus a list of statements, each a hash
# of fixed parameters.  Whether a statement applies (a COMMIT outside a
# transaction, a savepoint that does not exist) is decided when it runs, so
# any sublist of a sequence is a valid sequence: that is what shrinking needs.
# ----------------------------------------------------------------------

sub gen_rows
{
	my ($ks, $n, $order, $nullkey) = @_;
	my @rows;
	for my $i (1 .. $n)
	{
		my $k = 1 + rnd($ks);
		push @rows, [
			$k, rnd(3),
			chance(0.1) ? undef : rnd(10),
			chance(0.15) ? 1 : (chance(0.1) ? undef : 0),
			pick('a', 'b', 'c', 'dd', 'eee', 'f') . rnd(100) ];
	}
	if ($order eq 'asc')
	{
		my $k = 1 + rnd($ks);
		for my $r (@rows) { $r->[0] = $k; $k += 1 + rnd(3); }
	}
	elsif ($order eq 'sorted')
	{
		# key order with duplicate keys (a marker may follow a row of its key)
		@rows = sort { $a->[0] <=> $b->[0] } @rows;
	}
	elsif ($order eq 'desc')
	{
		@rows = sort { $b->[0] <=> $a->[0] } @rows;
	}
	$rows[ rnd($n) ][0] = undef if $nullkey;
	return \@rows;
}

sub gen_sequence
{
	my ($seed, $nstmt) = @_;
	rseed($seed);
	my $ks = pick(12, 30, 60, 300);
	my %setup = (
		seed => $seed,
		keyspace => $ks,
		fgr => pick(2, 3, 5, 16, 100),
		retain => pick(1, 2, 5, 1000),
		small_mwm => chance(0.3));
	my @st;
	for my $i (1 .. $nstmt)
	{
		my $t = wpick(
			ins_values => 14, ins_select => 7, copy => 6, big => 6,
			update => 9, delete => 6, truncate => 2,
			begin => 7, commit => 5, rollback => 2, savepoint => 4,
			rollback_to => 3, release => 2, abort => 2,
			vacuum => 2, clean => 2, opt_fgr => 2, opt_key => 3,
			opt_pc => 1, opt_retain => 1,
			create_index => 2, drop_index => 1, idx_check => 3,
			add_col => 2, drop_col => 1, alter_type => 2, mwm => 2);
		my %s = (t => $t);
		if ($t eq 'ins_values' || $t eq 'ins_select' || $t eq 'copy')
		{
			my $order = wpick(random => 5, asc => 3, sorted => 2, desc => 1);
			$s{rows} = gen_rows($ks, 1 + rnd(pick(3, 8, 20)), $order, chance(0.05));
			$s{beyond} = ($order eq 'asc' || $order eq 'sorted') && chance(0.5);
		}
		elsif ($t eq 'big')
		{
			$s{mode} = pick('random', 'asc', 'asc_low', 'beyond', 'asc_break', 'markers_first',
				'nearly', 'jump_back', 'jump_mid');
			$s{jlen} = pick(200, 700, 2000);    # jump_mid: the early stretches
			$s{jat} = pick(0.25, 0.4);
			$s{n} = pick(300, 3000, 8000);
			$s{pad} = pick(20, 150, 300);
			$s{salt} = rnd(100000);
			$s{base} = rnd($ks);
			$s{small} = chance(0.5);    # under maintenance_work_mem = 1MB
		}
		elsif ($t eq 'update')
		{
			$s{set} = pick('v', 'p_up', 'p_down', 'p_null', 'k_shift', 'k_neg',
				'k2_rot', 'marker', 'e_inc', 'v_p');
			$s{where} = gen_where($ks);
		}
		elsif ($t eq 'delete') { $s{where} = gen_where($ks); }
		elsif ($t eq 'savepoint' || $t eq 'rollback_to' || $t eq 'release')
		{
			$s{name} = 's' . rnd(3);
		}
		elsif ($t eq 'abort') { $s{how} = pick('div0', 'nullkey'); }
		elsif ($t eq 'clean') { $s{keep} = pick('NULL', 0, 1, 3); }
		elsif ($t eq 'opt_fgr') { $s{fgr} = pick(2, 3, 7, 50, 1000); }
		elsif ($t eq 'opt_key') { $s{key} = pick('k', 'k,k2'); }
		elsif ($t eq 'opt_pc') { $s{pc} = pick('p', ''); }
		elsif ($t eq 'opt_retain') { $s{retain} = pick(1, 3, 1000); }
		elsif ($t eq 'create_index')
		{
			$s{idx} = pick('k', 'v', 'hash_k2', 'k_k2', 'e');
		}
		elsif ($t eq 'drop_index') { $s{idx} = pick('k', 'v', 'hash_k2', 'k_k2', 'e'); }
		elsif ($t eq 'idx_check')
		{
			$s{lo} = rnd($ks + 5) - 2;
			$s{hi} = $s{lo} + rnd($ks / 2 + 2);
			$s{q} = pick('range', 'point', 'v', 'vonly', 'k2');
			$s{bitmap} = chance(0.3) ? 1 : 0;
		}
		elsif ($t eq 'add_col') { $s{default} = pick(undef, 7, -1); }
		elsif ($t eq 'alter_type') { $s{type} = pick('bigint', 'integer'); }
		elsif ($t eq 'mwm') { $s{small} = chance(0.6); }
		push @st, \%s;
	}
	return (\%setup, \@st);
}

sub gen_where
{
	my ($ks) = @_;
	my $w = pick('range', 'mod', 'pnull', 'vlike', 'all', 'key', 'inlist');
	if ($w eq 'range')
	{
		my $lo = 1 + rnd($ks);
		return "k BETWEEN $lo AND " . ($lo + rnd($ks / 3 + 1));
	}
	return 'k % ' . (2 + rnd(4)) . ' = ' . rnd(2) if $w eq 'mod';
	return 'p IS NULL' if $w eq 'pnull';
	return "v LIKE '" . pick('a', 'b', 'dd', 'u') . "%'" if $w eq 'vlike';
	return 'k = ' . (1 + rnd($ks)) if $w eq 'key';
	if ($w eq 'inlist')
	{
		my $lo = 1 + rnd($ks);

		# a list longer than COW_SCAN_MAX_POINTS (64) is not searched
		# element by element
		return 'k IN (' . join(', ', map { 1 + rnd($ks) } 1 .. 70) . ')'
		  if rnd(4) == 0;
		return "k IN ($lo, " . ($lo + rnd(5)) . ', ' . (1 + rnd($ks)) . ', NULL)';
	}
	return 'true';
}

# ----------------------------------------------------------------------
# Execution
# ----------------------------------------------------------------------

my $S;          # the session of the sequence being run
my @SCRIPT;     # what a reproduction needs: the SQL sent for c and stage
my %M;          # model: keymode, pc, e, etype, ehasdef, mwm_small, indexes
my %X;          # per-run bookkeeping (transaction state, counters)
my $NSTMT = 0;  # statements run in total (for the rate)

package Fail;
sub new { my ($c, %a) = @_; return bless {%a}, $c; }
package main;

# $check: SQL that shows the failure on c alone, the last line of the script
sub fail_now
{
	my ($class, $detail, $check) = @_;
	die Fail->new(class => $class, detail => $detail, check => $check);
}

sub lit
{
	my ($v) = @_;
	return 'NULL' unless defined $v;
	return $v if $v =~ /^-?\d+$/;
	return "'$v'";
}

sub sql_ok
{
	my ($sql, %o) = @_;
	my $r = $S->run($sql);
	if ($r->{state} eq 'CRASH')
	{
		push @SCRIPT, $sql if $o{record};
		fail_now('crash', "server crashed or connection lost at: $sql");
	}
	if ($r->{state} ne '00000')
	{
		push @SCRIPT, $sql if $o{record};
		fail_now($o{class} || "error $r->{state}", "$sql\n  => ERROR $r->{state}: $r->{msg}");
	}
	push @SCRIPT, $sql if $o{record};
	return $r->{rows};
}

# c's statements: recorded for the reproduction.
sub cow { return sql_ok($_[0], record => 1, class => $_[1]); }

# the oracle's and the harness's own statements: not recorded.
sub orc { return sql_ok($_[0], class => 'oracle (harness bug?)'); }

sub one { my $rows = orc($_[0]); return $rows->[0]; }

sub cols { return 'k, k2, p, d, v' . ($M{e} ? ', e' : ''); }
sub keycols { return $M{key} eq 'k' ? 'k' : 'k, k2'; }
sub keyjoin
{
	my ($a, $b) = @_;
	return $M{key} eq 'k' ? "$a.k = $b.k" : "$a.k = $b.k AND $a.k2 = $b.k2";
}

sub setup_sql
{
	my ($setup) = @_;
	return (
		"SET client_min_messages = warning;",
		"DROP SCHEMA IF EXISTS $opt_schema CASCADE;",
		"CREATE SCHEMA $opt_schema;",
		"SET search_path = $opt_schema, public;",
		"CREATE TABLE c (k int, k2 int, p int, d boolean, v text) USING incetl_cow;",
		"SELECT incetl.set_table_options('c', record_key => 'k', precombine => 'p', "
		  . "delete_marker => 'd', file_group_rows => $setup->{fgr}, "
		  . "retain_commits => $setup->{retain});",
		"CREATE TABLE stage (seq int, k int, k2 int, p int, d boolean, v text);",
		($setup->{small_mwm} ? ("SET maintenance_work_mem = '1MB';") : ()));
}

sub start_sequence
{
	my ($setup) = @_;
	$S->close if $S;
	$S = FuzzSession->new(psql => $opt_psql, errlog => $ERRLOG);
	@SCRIPT = ();
	%M = (key => 'k', pc => 1, e => 0, etype => 'integer', ehasdef => 0,
		mwm_small => $setup->{small_mwm} ? 1 : 0, indexes => {}, fgr => $setup->{fgr});
	%X = (txn => 0, sps => [], trunc_in_txn => 0, trunc_floor => 0,
		added_default => 0, ks => $setup->{keyspace});
	cow($_) for setup_sql($setup);
	orc("CREATE TABLE o (k int, k2 int, p int, d boolean, v text, _wc bigint, "
		  . "CONSTRAINT o_pkey PRIMARY KEY (k));");
	orc("CREATE TABLE hist (cid bigint, k int, k2 int, p int, d boolean, v text, _wc bigint);");
}

# After a rollback the model follows the database: c's options, its column
# e, indexes and maintenance_work_mem are all transactional.
sub resync
{
	my $r = one("SELECT array_to_string(record_key, ','), coalesce(precombine, ''), "
		  . "(SELECT format_type(atttypid, atttypmod) || ',' || atthasdef FROM pg_attribute "
		  . " WHERE attrelid = 'c'::regclass AND attname = 'e' AND NOT attisdropped), "
		  . "current_setting('maintenance_work_mem'), file_group_rows, "
		  . "(SELECT string_agg(indexname, ',') FROM pg_indexes WHERE schemaname = '$opt_schema' AND tablename = 'c') "
		  . "FROM incetl.table_options('c');");
	my ($key, $pc, $e, $mwm, $fgr, $idx) = split /\|/, $r;
	$M{fgr} = $fgr;
	$M{key} = $key;
	$M{pc} = $pc eq 'p' ? 1 : 0;
	if ($e ne '<NULL>')
	{
		my ($t, $def) = split /,/, $e;
		$M{e} = 1;
		$M{etype} = $t;
		$M{ehasdef} = $def eq 't' ? 1 : 0;
	}
	else { $M{e} = 0; }
	$M{mwm_small} = $mwm eq '1MB' ? 1 : 0;
	$M{indexes} = { map { $_ => 1 } grep { $_ ne '<NULL>' } split /,/, $idx };
}

sub latest { return one("SELECT coalesce(incetl.latest_commit('c'), 0);"); }

# Fill stage with rows (arrival order = seq).
sub fill_stage
{
	my ($rows, $beyond) = @_;
	cow("DELETE FROM stage;");
	my @v;
	my $i = 0;
	for my $r (@$rows)
	{
		$i++;
		my $k = defined $r->[0] && $beyond ? "(SELECT coalesce(max(k), 0) FROM c) + $r->[0]" : lit($r->[0]);
		push @v, "($i, $k, $r->[1], " . lit($r->[2]) . ", "
		  . (defined $r->[3] ? ($r->[3] ? 'true' : 'false') : 'NULL') . ", '$r->[4]')";
	}
	cow("INSERT INTO stage VALUES " . join(', ', @v) . ";");
}

# The oracle's upsert of stage's rows; returns [inserted, updated, deleted].
sub oracle_upsert
{
	my ($cid, $with_e) = @_;
	my $kc = keycols();
	my $ord = $M{pc} ? 'p DESC NULLS LAST, seq DESC' : 'seq DESC';
	my $wins = $M{pc}
	  ? 'o.k IS NULL OR (CASE WHEN i.p IS NULL THEN o.p IS NULL ELSE o.p IS NULL OR o.p <= i.p END)'
	  : 'true';
	my $ecol = ($M{e} && $with_e) ? ', e' : '';
	my $eset = $M{e} ? ', e = excluded.e' : '';
	my $r = one(
		"WITH inc AS (SELECT DISTINCT ON ($kc) k, k2, p, d, v$ecol FROM stage ORDER BY $kc, $ord), "
		  . "win AS (SELECT i.*, o.k IS NOT NULL AS had FROM inc i LEFT JOIN o ON "
		  . keyjoin('o', 'i') . " WHERE $wins), "
		  . "del AS (DELETE FROM o USING win w WHERE w.d IS TRUE AND w.had AND " . keyjoin('o', 'w')
		  . " RETURNING 1), "
		  . "ins AS (INSERT INTO o (k, k2, p, d, v, _wc$ecol) SELECT k, k2, p, d, v, $cid$ecol FROM win "
		  . "WHERE d IS NOT TRUE ON CONFLICT ($kc) DO UPDATE SET k2 = excluded.k2, p = excluded.p, "
		  . "d = excluded.d, v = excluded.v, _wc = excluded._wc$eset RETURNING 1) "
		  . "SELECT (SELECT count(*) FROM win WHERE d IS NOT TRUE AND NOT had), "
		  . "(SELECT count(*) FROM win WHERE d IS NOT TRUE AND had), (SELECT count(*) FROM del);");
	return [ split /\|/, $r ];
}

sub stage_has_null_key
{
	return one("SELECT count(*) FROM stage WHERE k IS NULL"
		  . ($M{key} eq 'k' ? '' : ' OR k2 IS NULL') . ";") > 0;
}

# Run one statement of a sequence on c and on the oracle, then check.
sub exec_stmt
{
	my ($s) = @_;
	my $t = $s->{t};
	my $kc = keycols();

	# Transaction control.
	if ($t eq 'begin')
	{
		return if $X{txn};
		cow("BEGIN;");
		%X = (%X, txn => 1, sps => [], trunc_in_txn => 0);
		return 1;
	}
	if ($t eq 'commit' || $t eq 'rollback')
	{
		return unless $X{txn};
		cow(uc($t) . ";");
		$X{txn} = 0;
		resync() if $t eq 'rollback';
		check_state(undef, undef);
		return 1;
	}
	if ($t eq 'savepoint')
	{
		return unless $X{txn};
		cow("SAVEPOINT $s->{name};");
		push @{ $X{sps} }, $s->{name};
		return 1;
	}
	if ($t eq 'rollback_to' || $t eq 'release')
	{
		return unless $X{txn} && grep { $_ eq $s->{name} } @{ $X{sps} };
		if ($t eq 'release')
		{
			cow("RELEASE SAVEPOINT $s->{name};");
			pop @{ $X{sps} } while $X{sps}[-1] ne $s->{name};
			pop @{ $X{sps} };
			return 1;
		}
		cow("ROLLBACK TO SAVEPOINT $s->{name};");
		pop @{ $X{sps} } while $X{sps}[-1] ne $s->{name};
		resync();
		check_state(undef, undef);
		return 1;
	}
	if ($t eq 'abort')
	{
		return unless $X{txn};
		my $div0 = $s->{how} eq 'div0' || $AVOID{abort_visibility};
		my $sql = $div0 ? "SELECT 1 / 0;" : "INSERT INTO c (k, v) VALUES (NULL, 'x');";
		expect_error($sql, $div0 ? '22012' : '23502');
		return 1;
	}

	my $before = latest();
	my (%chk, $with_e);

	if ($t eq 'ins_values' || $t eq 'ins_select' || $t eq 'copy')
	{
		fill_stage($s->{rows}, $s->{beyond});
		my $rows = orc("SELECT k, k2, p, d, v FROM stage ORDER BY seq;");
		my $nullkey = stage_has_null_key();
		my $sql;
		# psql does not set SQLSTATE for an error ending COPY FROM STDIN: a
		# statement expected to fail is an INSERT (an unexpected error in
		# a COPY still shows as differing rows)
		if ($t eq 'ins_values' || ($t eq 'copy' && $nullkey))
		{
			$sql = "INSERT INTO c (k, k2, p, d, v) VALUES "
			  . join(', ', map {
					my @f = map { $_ eq '<NULL>' ? 'NULL' : $_ } split /\|/, $_;
					"($f[0], $f[1], $f[2], " . ($f[3] eq 't' ? 'true' : $f[3] eq 'f' ? 'false' : 'NULL')
					  . ", '$f[4]')" } @$rows) . ";";
		}
		elsif ($t eq 'ins_select')
		{
			$sql = "INSERT INTO c (k, k2, p, d, v) SELECT k, k2, p, d, v FROM stage ORDER BY seq;";
		}
		else
		{
			$sql = "COPY c (k, k2, p, d, v) FROM STDIN;\n"
			  . join('', map {
					my @f = map { $_ eq '<NULL>' ? '\N' : $_ } split /\|/, $_;
					join("\t", @f) . "\n" } @$rows) . "\\.";
		}
		if ($nullkey)
		{
			return if $X{txn} && $AVOID{abort_visibility};
			expect_error($sql, '23502');
			return 1;
		}
		cow($sql);
		my $hasmark = grep { (split /\|/)[3] eq 't' } @$rows;
		$chk{op} = 'upsert';
		$chk{counts_ok} = !($hasmark && $AVOID{marker_counts});
	}
	elsif ($t eq 'big')
	{
		my ($n, $pad, $salt) = @$s{qw(n pad salt)};
		# a statement in key order beyond the last key is merged a file
		# group's worth at a time, and each part reads every version: keep
		# the number of parts bounded (8000 rows in 2-row groups took minutes)
		my $ks = $X{ks} * 10;
		my $mode = $s->{mode};
		my $reset;
		if ($s->{small} && !$M{mwm_small})
		{
			cow("SET maintenance_work_mem = '1MB';");
			$M{mwm_small} = $reset = 1;
		}
		$mode = 'beyond' if $mode =~ /^asc(_low)?$/ && $M{mwm_small} && $AVOID{carry_crash};
		my $cap = ($mode =~ /^(beyond|nearly|jump_back|jump_mid)$/ ? 250 : 1000) * $M{fgr};
		$n = $cap if $n > $cap;
		my ($kexpr, $ord) = ("((g * 7919 + $salt) % $ks) + 1", 'g');
		if ($mode eq 'asc') { $kexpr = "$s->{base} + g"; }
		elsif ($mode eq 'asc_low') { $kexpr = "g - $n - 1"; }    # below every stored key
		elsif ($mode eq 'beyond') { $kexpr = "(SELECT coalesce(max(k), 0) FROM c) + g * 2"; }
		elsif ($mode eq 'asc_break')
		{
			$kexpr = $AVOID{carry_crash} && $M{mwm_small}
			  ? "(SELECT coalesce(max(k), 0) FROM c) + CASE WHEN g <= $n / 2 THEN g ELSE g - $n / 2 END"
			  : "$s->{base} + CASE WHEN g <= $n / 2 THEN g ELSE g - $n / 2 END";
		}
		elsif ($mode eq 'markers_first') { $ord = "(g % 2) DESC, g"; }
		elsif ($mode eq 'nearly')
		{
			# beyond the last key, nearly in key order: rows a little early
			# or late (within the reordering heap), far late (to the spill),
			# and repeated keys (every fifth key twice)
			$kexpr = "(SELECT coalesce(max(k), 0) FROM c) + g - (g % 5 = 0)::int";
			$ord = "g + CASE WHEN g % 7 = 0 THEN -15 WHEN g % 11 = 0 THEN 40 "
			  . "WHEN g % 29 = 0 THEN 3 * $n / 4 ELSE 0 END, g";
		}
		elsif ($mode eq 'jump_back')
		{
			# beyond the last key, a source whose scan began near its end:
			# the last eighth of the keys first, then the rest in order, and
			# repeated keys (every fifth key twice)
			$kexpr = "(SELECT coalesce(max(k), 0) FROM c) + g - (g % 5 = 0)::int";
			$ord = "CASE WHEN g > $n - $n / 8 THEN g - $n ELSE g END, g";
		}
		elsif ($mode eq 'jump_mid')
		{
			# beyond the last key, a source that jumps in its middle: a
			# stretch of later keys comes early, right after row $a, then the
			# rows between; the same again near the end.  A stretch longer
			# than the rows waiting after a block (512) is taken back, or
			# given back with the appender's group when it was partly
			# encoded, and makes the statement keep more; repeated keys
			# (every fifth key twice)
			my $len = $s->{jlen} < $n / 8 ? $s->{jlen} : int($n / 8);
			my $a = int($n * $s->{jat});
			my $gap = int($n / 8);
			my $b = $n - $len - int($n / 16);
			$kexpr = "(SELECT coalesce(max(k), 0) FROM c) + g - (g % 5 = 0)::int";
			$ord = "CASE WHEN g > $a + $gap AND g <= $a + $gap + $len THEN $a "
			  . "WHEN g > $n - $len THEN $b ELSE g END, g";
		}
		my $dexpr = $mode eq 'markers_first' ? '(g % 2 = 1 AND g % 5 = 0)' : "(g % 13 = $salt % 13)";
		my $pexpr = $mode eq 'markers_first' ? "CASE WHEN g % 2 = 1 THEN 20 ELSE g % 10 END" : "(g * 31 + $salt) % 20";
		cow("DELETE FROM stage;");
		cow("INSERT INTO stage SELECT row_number() OVER (ORDER BY $ord), $kexpr, g % 3, $pexpr, $dexpr, "
			  . "'b' || g || repeat('x', $pad) FROM generate_series(1, $n) g;");
		cow("INSERT INTO c (k, k2, p, d, v) SELECT k, k2, p, d, v FROM stage ORDER BY seq;");
		$chk{op} = 'upsert';
		# documented: past the budget, counts around a delete marker compare
		# with the first part merged, not with the table before the statement
		my $hasmark = one("SELECT count(*) FROM stage WHERE d;") > 0;
		$chk{counts_ok} = !($hasmark && ($M{mwm_small} || $AVOID{marker_counts}));
		if ($reset)
		{
			cow("RESET maintenance_work_mem;");
			$M{mwm_small} = 0;
		}
	}
	elsif ($t eq 'update')
	{
		my $set = $s->{set};
		return if $set eq 'e_inc' && !$M{e};
		my %assign = (
			v => [ v => "'u' || k" ],
			p_up => [ p => 'p + 1' ],
			p_down => [ p => 'p - 3' ],
			p_null => [ p => 'NULL' ],
			k_shift => [ k => 'k + 1000' ],
			k_neg => [ k => '-k' ],
			k2_rot => [ k2 => '(k2 + 1) % 3' ],
			marker => [ d => 'true' ],
			e_inc => [ e => 'e + 1' ],
			v_p => [ v => "v || 'w'", p => 'coalesce(p, 0) + 2' ]);
		my @a = @{ $assign{$set} };
		my %a = @a;
		my @pairs;
		for (my $i = 0; $i < @a; $i += 2) { push @pairs, "$a[$i] = $a[$i + 1]"; }
		cow("UPDATE c SET " . join(', ', @pairs) . " WHERE $s->{where};");
		my $sel = join ', ', map { exists $a{$_} ? "$a{$_} AS $_" : $_ } split /, /, cols();
		orc("DELETE FROM stage;");
		orc("ALTER TABLE stage ADD COLUMN e $M{etype};") if $M{e};
		orc("INSERT INTO stage (seq, " . cols() . ") SELECT row_number() OVER (), $sel FROM o WHERE $s->{where};");
		my $n = one("SELECT count(*) FROM stage;");
		orc("DELETE FROM o WHERE $s->{where};");
		$chk{op} = 'update';
		$chk{counts} = [ 0, $n, 0 ];
		$chk{counts_ok} = !grep { exists $a{$_} } qw(k k2 p d);
		$with_e = 1;
	}
	elsif ($t eq 'delete')
	{
		cow("DELETE FROM c WHERE $s->{where};");
		$chk{op} = 'delete';
		$chk{delete_where} = $s->{where};
		$chk{counts_ok} = 1;
	}
	elsif ($t eq 'truncate')
	{
		return if $X{txn} && $X{trunc_in_txn} && $AVOID{truncate_twice};
		cow("TRUNCATE c;");
		$X{trunc_in_txn} = 1 if $X{txn};
		$chk{op} = 'truncate';
		$chk{truncate} = 1;
	}
	elsif ($t eq 'vacuum')
	{
		return if $X{txn};
		cow("VACUUM c;");
	}
	elsif ($t eq 'clean') { cow("SELECT incetl.clean('c', $s->{keep});"); }
	elsif ($t eq 'opt_fgr')
	{
		cow("SELECT incetl.set_table_options('c', file_group_rows => $s->{fgr});");
		$M{fgr} = $s->{fgr};
	}
	elsif ($t eq 'opt_retain')
	{
		cow("SELECT incetl.set_table_options('c', retain_commits => $s->{retain});");
	}
	elsif ($t eq 'opt_pc')
	{
		return if ($s->{pc} eq 'p') == ($M{pc} == 1);
		cow("SELECT incetl.set_table_options('c', precombine => '$s->{pc}');");
		$M{pc} = $s->{pc} eq 'p' ? 1 : 0;
	}
	elsif ($t eq 'opt_key')
	{
		return if $s->{key} eq $M{key};
		if ($s->{key} eq 'k')
		{
			# narrowing collapses rows of one k: skip when which one wins
			# is not fixed by the precombine
			my $tie = $M{pc}
			  ? "SELECT count(*) FROM (SELECT k, p, count(*) FROM o GROUP BY k, p HAVING count(*) > 1) x "
			  . "WHERE (x.p IS NULL AND NOT EXISTS (SELECT FROM o WHERE o.k = x.k AND o.p IS NOT NULL)) "
			  . "OR x.p = (SELECT max(p) FROM o WHERE o.k = x.k);"
			  : "SELECT count(*) FROM (SELECT k FROM o GROUP BY k HAVING count(*) > 1) x;";
			return if one($tie) > 0;
		}
		cow("SELECT incetl.set_table_options('c', record_key => '$s->{key}');");
		$M{key} = $s->{key};
		$chk{rekey} = 1;
		$chk{op} = 'rewrite';
	}
	elsif ($t eq 'create_index')
	{
		my $i = $s->{idx};
		return if $M{indexes}{"c_$i"} || ($i eq 'e' && !$M{e});
		my %def = (k => '(k)', v => '(v)', hash_k2 => 'USING hash (k2)', k_k2 => '(k, k2)', e => '(e)');
		cow("CREATE INDEX c_$i ON c $def{$i};");
		$M{indexes}{"c_$i"} = 1;
	}
	elsif ($t eq 'drop_index')
	{
		return unless $M{indexes}{"c_$s->{idx}"};
		cow("DROP INDEX c_$s->{idx};");
		delete $M{indexes}{"c_$s->{idx}"};
	}
	elsif ($t eq 'idx_check')
	{
		return unless %{ $M{indexes} };
		# a range reads the columns it returns in both directions: an index scan
		# decodes windows of rows growing from (or, backwards, up to) the
		# row it reads (CowGroupValue)
		my %q = (
			range => [ "SELECT k FROM %s WHERE k BETWEEN $s->{lo} AND $s->{hi} ORDER BY k",
					   "SELECT k, k2, p, d, v FROM %s WHERE k BETWEEN $s->{lo} AND $s->{hi} ORDER BY k, k2, p, d, v",
					   "SELECT k, k2, p, d, v FROM %s WHERE k BETWEEN $s->{lo} AND $s->{hi} ORDER BY k DESC, k2 DESC, p DESC, d DESC, v DESC" ],
			point => [ "SELECT k, k2, p, v FROM %s WHERE k = $s->{lo} ORDER BY k2" ],
			v => [ "SELECT v, k FROM %s WHERE v >= 'b' AND v < 'c' ORDER BY v, k, k2" ],
			vonly => [ "SELECT v FROM %s WHERE v >= 'b' AND v < 'e' ORDER BY v" ],
			# through the hash index when there is one: every row is
			# rechecked on k2, which the query does not return
			k2 => [ "SELECT v, k FROM %s WHERE k2 = $s->{lo} ORDER BY v, k" ]);
		# index (and index-only) scans, or bitmap scans: no sequential
		# scan; either decodes only the columns the query reads
		my $other = $s->{bitmap} ? 'indexscan' : 'bitmapscan';
		foreach my $q (@{ $q{ $s->{q} } })
		{
			cow("SET enable_seqscan = off;");
			cow("SET enable_$other = off;");
			my $got = cow(sprintf($q, 'c') . ";");
			cow("RESET enable_seqscan;");
			cow("RESET enable_$other;");
			my $want = orc(sprintf($q, 'o') . ";");
			if (join("\n", @$got) ne join("\n", @$want))
			{
				fail_now('index scan differs', sprintf($q, 'c')
					  . "\n  cow:    " . join(' ', @$got) . "\n  oracle: " . join(' ', @$want));
			}
		}
		return 1;
	}
	elsif ($t eq 'add_col')
	{
		return if $M{e};
		my $d = defined $s->{default} ? " DEFAULT $s->{default}" : '';
		cow("ALTER TABLE c ADD COLUMN e integer$d;");
		orc("ALTER TABLE o ADD COLUMN e integer$d;");
		$X{added_default} = 1 if defined $s->{default};
		orc("ALTER TABLE hist ADD COLUMN e integer;") unless one("SELECT count(*) FROM pg_attribute WHERE attrelid = 'hist'::regclass AND attname = 'e' AND NOT attisdropped;");
		%M = (%M, e => 1, etype => 'integer', ehasdef => defined $s->{default} ? 1 : 0);
	}
	elsif ($t eq 'drop_col')
	{
		return unless $M{e};
		cow("ALTER TABLE c DROP COLUMN e;");
		orc("ALTER TABLE o DROP COLUMN e;");
		$M{e} = 0;
		delete $M{indexes}{c_e};
	}
	elsif ($t eq 'alter_type')
	{
		return unless $M{e} && $M{etype} ne $s->{type};
		return if $X{added_default} && $AVOID{default_rewrite};
		cow("ALTER TABLE c ALTER COLUMN e TYPE $s->{type};");
		orc("ALTER TABLE o ALTER COLUMN e TYPE $s->{type};");
		$M{etype} = $s->{type};
		$chk{rewrite_all} = 1;
	}
	elsif ($t eq 'mwm')
	{
		cow($s->{small} ? "SET maintenance_work_mem = '1MB';" : "RESET maintenance_work_mem;");
		$M{mwm_small} = $s->{small} ? 1 : 0;
		return 1;
	}
	else { die "unknown statement type $t"; }

	# The commit the statement made, if any.
	my $after = latest();
	my $cid = $after > $before ? $after : undef;
	my $wc = $cid // $before;

	# The oracle.
	my $counts;
	if ($t eq 'ins_values' || $t eq 'ins_select' || $t eq 'copy' || $t eq 'big')
	{
		$counts = oracle_upsert($wc, 0);
	}
	elsif ($t eq 'update')
	{
		oracle_upsert($wc, 1);
		orc("ALTER TABLE stage DROP COLUMN e;") if $M{e};
		$counts = $chk{counts};
	}
	elsif ($t eq 'delete')
	{
		$counts = [ 0, 0, scalar @{ orc("DELETE FROM o WHERE $chk{delete_where} RETURNING 1;") } ];
	}
	elsif ($chk{truncate})
	{
		orc("TRUNCATE o;");
		$X{trunc_floor} = $wc if $AVOID{truncate_timeline} && $wc > $X{trunc_floor};
	}
	elsif ($chk{rekey})
	{
		if ($M{key} eq 'k')
		{
			my $ord = $M{pc} ? 'p DESC NULLS LAST' : 'k2';
			orc("DELETE FROM o WHERE ctid NOT IN (SELECT DISTINCT ON (k) ctid FROM o ORDER BY k, $ord);");
		}
		orc("ALTER TABLE o DROP CONSTRAINT o_pkey, ADD CONSTRAINT o_pkey PRIMARY KEY ($M{key});");
	}
	elsif ($chk{rewrite_all})
	{
		orc("UPDATE o SET _wc = $cid;") if $cid;
		# (a rewrite of an empty table records no commit, and still loses
		# the history before it)
		$X{trunc_floor} = $before + 1 if $AVOID{rewrite_timeline};
	}
	if ($cid)
	{
		orc("INSERT INTO hist (cid, " . cols() . ", _wc) SELECT $cid, " . cols() . ", _wc FROM o;");
	}
	check_state($cid, $before, $chk{op}, $chk{counts_ok} ? $counts : undef);
	return 1;
}

# A statement that must fail with SQLSTATE $state; in a transaction, roll
# back what the failure aborted (to the innermost savepoint, or all of it).
sub expect_error
{
	my ($sql, $state) = @_;
	my $r = $S->run($sql);
	push @SCRIPT, $sql;
	fail_now('crash', "server crashed at: $sql") if $r->{state} eq 'CRASH';
	if ($r->{state} ne $state)
	{
		fail_now("expected error $state", "$sql\n  => $r->{state} $r->{msg} (expected SQLSTATE $state)");
	}
	if ($X{txn})
	{
		if (@{ $X{sps} }) { cow("ROLLBACK TO SAVEPOINT $X{sps}[-1];"); }
		else { cow("ROLLBACK;"); $X{txn} = 0; }
		resync();
	}
	check_state(undef, undef);
}

sub rows_diff
{
	my ($a, $b, $cols) = @_;
	return orc("(SELECT 'cow', $cols FROM $a EXCEPT ALL SELECT 'cow', $cols FROM $b) UNION ALL "
		  . "(SELECT 'oracle', $cols FROM $b EXCEPT ALL SELECT 'oracle', $cols FROM $a) LIMIT 12;");
}

sub check_fail
{
	my ($class, $what, $diff, $check) = @_;
	fail_now($class, "$what\n  " . join("\n  ", @$diff), $check);
}

# The checks after a statement: rows, verify, aggregates, and for a commit
# $cid (made after commit $prev) its as_of, changes and commits() row.
my $CHECK_RANGES = 0;

sub check_state
{
	my ($cid, $prev, $op, $counts) = @_;
	my $cols = cols();
	my $d = rows_diff('c', 'o', $cols);
	check_fail('rows differ', "c and the oracle differ (rows only in one of them):", $d,
		"SELECT $cols FROM c ORDER BY k, k2;") if @$d;
	my $v = orc("SELECT * FROM incetl.verify('c');");
	check_fail('verify', "incetl.verify('c') reports problems:", $v, "SELECT * FROM incetl.verify('c');") if @$v;
	my $agg = 'count(*), sum(p), min(k), max(k2), max(v), count(d)';
	# over the table, and over a key range (planned as the pushdown or an
	# Agg over the key-range scan, by the range's size), the range moving
	# from check to check without drawing on the generator; and over one
	# with other quals, which the scan's node evaluates without the bounds
	# on the rows the range holds (CowSeqScanKeyRange)
	$CHECK_RANGES++;
	my $lo = 1 + ($CHECK_RANGES * 37) % 200;
	my $hi = $lo + ($CHECK_RANGES * 13) % 90;
	foreach my $w ('', " WHERE k BETWEEN $lo AND $hi",
				   " WHERE k > $lo AND (k + k2) % 3 <> 1 AND k <= $hi AND p IS NOT NULL")
	{
		my $ag = orc("SELECT (SELECT row($agg)::text FROM c$w), (SELECT row($agg)::text FROM o$w);");
		my ($ac, $ao) = split /\|/, $ag->[0];
		check_fail('aggregate differs', "SELECT $agg FROM c$w:", [ "cow $ac", "oracle $ao" ],
			"SELECT $agg FROM c$w;") if $ac ne $ao;
	}
	# one of these per check, in turn (again without drawing on the
	# generator): ORDER BY ... LIMIT (the top-N scan), and the generic
	# scan under a join, a grouping and a DISTINCT aggregate (the planner's
	# physical target lists, the columns decoded by the query's own)
	my @ordered = (
		"SELECT k, k2, p, v FROM %s ORDER BY p DESC NULLS LAST, k, k2 LIMIT 7",
		"SELECT k, v FROM %s ORDER BY v NULLS FIRST, k, k2 LIMIT 5",
		"SELECT k, k2 FROM %s ORDER BY k DESC, k2 DESC LIMIT 3",
		"SELECT x.p, count(*), sum(x.k), max(y.v) FROM %s x JOIN %s y ON y.k = x.k + 1 GROUP BY x.p ORDER BY 1",
		"SELECT p % 3, count(DISTINCT v), sum(length(v)), min(k2) FROM %s GROUP BY 1 ORDER BY 1");
	my $q = $ordered[ $CHECK_RANGES % @ordered ];
	my ($qc, $qo) = ($q =~ s/%s/c/gr, $q =~ s/%s/o/gr);
	my ($got, $want) = (orc("$qc;"), orc("$qo;"));
	check_fail('ordered query differs', "$qc:",
		[ "cow:    " . join(' ', @$got), "oracle: " . join(' ', @$want) ], "$qc;")
	  if join("\n", @$got) ne join("\n", @$want);
	return unless $cid;
	check_commit($cid);
	check_changes($prev, $cid);
	check_net($prev, $cid, 1);
	if ($op)
	{
		my $r = one("SELECT operation, rows_inserted, rows_updated, rows_deleted FROM incetl.commits('c') WHERE commit_id = $cid;");
		my ($gop, @gc) = split /\|/, ($r // 'none');
		if ($gop ne $op)
		{
			fail_now('commit operation', "commits('c') shows operation $gop for commit $cid, expected $op",
				"SELECT * FROM incetl.commits('c');");
		}
		if ($counts && join(',', @gc) ne join(',', @$counts))
		{
			fail_now('commit counts', "commits('c') counts for commit $cid (inserted, updated, deleted): "
				  . join(',', @gc) . ", the oracle's: " . join(',', @$counts), "SELECT * FROM incetl.commits('c');");
		}
	}
}

# A timeline query that may fail with a documented error (an old commit no
# longer retained): inside the sequence's transaction it runs under a
# savepoint, so that the error does not abort the transaction (and with it
# the statements the harness believes done; a rewrite inside a transaction
# makes its commits before it unreadable at once).
sub run_timeline
{
	my ($sql) = @_;
	return $S->run($sql) unless $X{txn};
	orc("SAVEPOINT cow_fuzz_check;");
	my $r = $S->run($sql);
	return $r if $r->{state} eq 'CRASH';
	orc("ROLLBACK TO SAVEPOINT cow_fuzz_check;") if $r->{state} ne '00000';
	orc("RELEASE SAVEPOINT cow_fuzz_check;");
	return $r;
}

sub check_commit
{
	my ($cid) = @_;
	return if $cid < $X{trunc_floor};
	my $cols = 'k, k2, p, d, v';
	my ($a, $b) = ("incetl.as_of(NULL::c, $cid)", "(SELECT * FROM hist WHERE cid = $cid) h");
	# retain_commits, VACUUM, clean() and autovacuum (at any time) make old
	# commits unavailable: that error is documented, an empty answer is not
	my $r = run_timeline("(SELECT 'cow', $cols FROM $a EXCEPT ALL SELECT 'cow', $cols FROM $b) UNION ALL "
		  . "(SELECT 'oracle', $cols FROM $b EXCEPT ALL SELECT 'oracle', $cols FROM $a) LIMIT 12;");
	fail_now('crash', "server crashed in as_of($cid)") if $r->{state} eq 'CRASH';
	if ($r->{state} ne '00000')
	{
		return if $r->{state} eq '22023' && $r->{msg} =~ /no longer retained/;
		fail_now("as_of error $r->{state}", "as_of(c, $cid): $r->{msg}");
	}
	my $d = $r->{rows};
	check_fail('as_of differs', "as_of(NULL::c, $cid) and the oracle's rows after commit $cid differ:", $d,
		"SELECT * FROM incetl.as_of(NULL::c, $cid) ORDER BY k, k2;") if @$d;
}

sub check_changes
{
	my ($since, $until) = @_;
	my $cols = 'k, k2, p, d, v';
	my ($a, $b) = ("incetl.changes(NULL::c, $since, $until)",
		"(SELECT * FROM hist WHERE cid = $until AND _wc > $since) h");
	# as in rows_diff; autovacuum may clean $until's versions at any time
	my $r = run_timeline("(SELECT 'cow', $cols FROM $a EXCEPT ALL SELECT 'cow', $cols FROM $b) UNION ALL "
		  . "(SELECT 'oracle', $cols FROM $b EXCEPT ALL SELECT 'oracle', $cols FROM $a) LIMIT 12;");
	fail_now('crash', "server crashed in changes($since, $until)") if $r->{state} eq 'CRASH';
	if ($r->{state} ne '00000')
	{
		return if $r->{state} eq '22023' && $r->{msg} =~ /no longer retained/;
		fail_now("changes error $r->{state}", "changes(c, $since, $until): $r->{msg}");
	}
	my $d = $r->{rows};
	check_fail('changes differ', "changes(NULL::c, $since, $until) and the oracle's rows written after $since differ:", $d,
		"SELECT * FROM incetl.changes(NULL::c, $since, $until) ORDER BY k, k2;")
	  if @$d;
}

# net_changes(since, until) against the oracle's history: the rows it
# reports gone (before: updates and deletes) are the rows at since that are
# not at until as the same row version (same _wc), and the rows it reports
# new (after: inserts and updates) the reverse -- whatever the record key,
# also across a change of it.  With $one (the range holds one commit),
# table_changes(since, until) returns exactly the same rows.
sub check_net
{
	my ($since, $until, $one) = @_;
	my $cols = 'k, k2, p, d, v';
	my ($fb, $fa) = map { my $r = $_; join(', ', map { "($r).$_" } split /, /, $cols) } qw(before after);
	my $old = "SELECT $cols, _wc FROM hist WHERE cid = $since";
	my $new = "SELECT $cols, _wc FROM hist WHERE cid = $until";
	my $nb = "SELECT $fb FROM n WHERE operation <> 'insert'";
	my $na = "SELECT $fa FROM n WHERE operation <> 'delete'";
	my $sql = "WITH n AS MATERIALIZED (SELECT * FROM incetl.net_changes(NULL::c, $since, $until)), "
	  . "gone AS (SELECT $cols FROM ($old EXCEPT ALL $new) x), "
	  . "came AS (SELECT $cols FROM ($new EXCEPT ALL $old) x) "
	  . "(SELECT 'cow gone', * FROM ($nb EXCEPT ALL SELECT * FROM gone) x) UNION ALL "
	  . "(SELECT 'oracle gone', * FROM (SELECT * FROM gone EXCEPT ALL $nb) x) UNION ALL "
	  . "(SELECT 'cow new', * FROM ($na EXCEPT ALL SELECT * FROM came) x) UNION ALL "
	  . "(SELECT 'oracle new', * FROM (SELECT * FROM came EXCEPT ALL $na) x) LIMIT 12;";
	my $r = run_timeline($sql);
	fail_now('crash', "server crashed in net_changes($since, $until)") if $r->{state} eq 'CRASH';
	if ($r->{state} ne '00000')
	{
		return if $r->{state} eq '22023' && $r->{msg} =~ /no longer retained/;
		fail_now("net_changes error $r->{state}", "net_changes(c, $since, $until): $r->{msg}");
	}
	my $d = $r->{rows};
	check_fail('net_changes differ', "net_changes(NULL::c, $since, $until) and the oracle's rows at $since and $until differ:", $d,
		"SELECT * FROM incetl.net_changes(NULL::c, $since, $until);")
	  if @$d;
	return unless $one;
	my $t = "SELECT commit_id, operation, before::text, after::text FROM incetl.%s(NULL::c, $since, $until)";
	my ($tc, $nc) = (sprintf($t, 'table_changes'), sprintf($t, 'net_changes'));
	$r = run_timeline("(SELECT 'table_changes', * FROM ($tc EXCEPT ALL $nc) x) UNION ALL "
		  . "(SELECT 'net_changes', * FROM ($nc EXCEPT ALL $tc) x) LIMIT 12;");
	fail_now('crash', "server crashed in table_changes($since, $until)") if $r->{state} eq 'CRASH';
	if ($r->{state} ne '00000')
	{
		return if $r->{state} eq '22023' && $r->{msg} =~ /no longer retained/;
		fail_now("table_changes error $r->{state}", "table_changes(c, $since, $until): $r->{msg}");
	}
	$d = $r->{rows};
	check_fail('table_changes differ', "table_changes(NULL::c, $since, $until) of one commit and net_changes differ:", $d,
		"SELECT * FROM incetl.table_changes(NULL::c, $since, $until);")
	  if @$d;
}

# as_of of the commits the oracle recorded (all of them with $all, else the
# last four and every fifth), and changes() between some of them.
sub check_timeline
{
	my ($all) = @_;
	my $cids = orc("SELECT DISTINCT cid FROM hist ORDER BY cid;");
	my @c = grep { $_ >= $X{trunc_floor} } @$cids;
	for my $i (0 .. $#c)
	{
		check_commit($c[$i]) if $all || $i % 5 == 0 || $i > $#c - 4;
	}
	my $tl = orc("SELECT commit_id FROM incetl.commits('c');");
	my %have = map { $_ => 1 } @$tl;
	for my $cid (@$cids)
	{
		fail_now('commits missing', "commit $cid is not in incetl.commits('c')", "SELECT * FROM incetl.commits('c');")
		  unless $have{$cid};
	}
	return unless @c >= 2;
	for (1 .. 3)
	{
		my ($a, $b) = sort { $a <=> $b } ((0, @c)[ ($_ * 7) % (@c + 1) ], $c[ ($_ * 3 + @c) % @c ]);
		next if $a == $b;
		check_changes($a, $b);
		check_net($a, $b, 0);
	}
}

sub describe
{
	my ($s) = @_;
	return join ' ', map { "$_=" . (ref $s->{$_} ? scalar(@{ $s->{$_} }) . ' rows' : $s->{$_} // 'NULL') }
	  sort keys %$s;
}

# Run a sequence; returns undef, or the Fail (with the script so far).
sub run_sequence
{
	my ($setup, $stmts) = @_;
	my $f;
	eval {
		start_sequence($setup);
		my $n = 0;
		for my $s (@$stmts)
		{
			print "    ", describe($s), "\n" if $opt_verbose > 1;
			$NSTMT++ if exec_stmt($s);
			$n++;
			check_timeline() if $n % 10 == 0 && !$X{txn};
		}
		if ($X{txn}) { cow("COMMIT;"); $X{txn} = 0; check_state(undef, undef); }
		check_timeline(1);
		1;
	} or do {
		$f = $@;
		die $f unless ref $f eq 'Fail';
		$f->{script} = [@SCRIPT];
	};
	wait_for_server() if $f && $f->{class} eq 'crash';
	return $f;
}

sub wait_for_server
{
	for (1 .. 120)
	{
		my $s = FuzzSession->new(psql => $opt_psql, errlog => $ERRLOG);
		my $r = $s->run("SELECT 1;");
		$s->close;
		return if $r->{state} eq '00000';
		sleep 1;
	}
	die "the server did not come back after a crash\n";
}

# ----------------------------------------------------------------------
# Races: two sessions upsert overlapping keys in concurrent transactions.
# ----------------------------------------------------------------------

sub run_race
{
	my ($seed) = @_;
	rseed($seed);
	my $setup = { seed => $seed, keyspace => 20, fgr => pick(3, 16), retain => 1000, small_mwm => 0 };
	my $f;
	my @sess;
	eval {
		start_sequence($setup);
		cow("INSERT INTO c (k, k2, p, d, v) SELECT g, 0, 5, false, 'init' FROM generate_series(1, 20) g;");
		orc("INSERT INTO o SELECT g, 0, 5, false, 'init', " . latest() . " FROM generate_series(1, 20) g;");
		orc("INSERT INTO hist SELECT " . latest() . ", k, k2, p, d, v, _wc FROM o;");
		for my $round (1 .. 3)
		{
			@sess = map { FuzzSession->new(psql => $opt_psql, errlog => $ERRLOG) } 1 .. 2;
			my @plan;
			for my $i (0 .. 1)
			{
				my $iso = pick('READ COMMITTED', 'READ COMMITTED', 'REPEATABLE READ');
				my @stmts = map { gen_rows(20, 1 + rnd(6), pick('random', 'asc'), 0) } 1 .. 1 + rnd(3);
				push @plan, { iso => $iso, stmts => \@stmts, rollback => chance(0.15) };
			}
			# send both transactions, statement by statement, interleaved
			my @sent;
			for my $i (0 .. 1)
			{
				$sess[$i]->send("SET search_path = $opt_schema, public;");
				$sess[$i]->send("BEGIN ISOLATION LEVEL $plan[$i]{iso};");
				push @sent, [ 'set', 'begin' ];
			}
			my $max = 0;
			$max < @{ $_->{stmts} } and $max = @{ $_->{stmts} } for @plan;
			for my $j (0 .. $max - 1)
			{
				for my $i (0 .. 1)
				{
					my $rows = $plan[$i]{stmts}[$j] or next;
					my $sql = "INSERT INTO c (k, k2, p, d, v) VALUES " . join(', ', map {
							"($_->[0], $_->[1], " . lit($_->[2]) . ", "
							  . (defined $_->[3] ? ($_->[3] ? 'true' : 'false') : 'NULL') . ", '$_->[4]')" } @$rows) . ";";
					$sess[$i]->send("SELECT pg_sleep(0.0" . rnd(3) . ");");
					$sess[$i]->send($sql);
					$sess[$i]->send("SELECT last_commit_id FROM incetl.cow_write_counts('c');");
					push @{ $sent[$i] }, 'sleep', [ $sql, $rows ], 'cid';
				}
			}
			for my $i (0 .. 1)
			{
				$sess[$i]->send($plan[$i]{rollback} ? "ROLLBACK;" : "COMMIT;");
				push @{ $sent[$i] }, 'end';
			}
			# collect
			my @done;
			for my $i (0 .. 1)
			{
				my ($ok, @writes, $pending) = (1);
				for my $what (@{ $sent[$i] })
				{
					my $r = $sess[$i]->finish;
					fail_now('crash', "race session crashed") if $r->{state} eq 'CRASH';
					if (ref $what)
					{
						push @SCRIPT, "-- session " . ($i + 1) . ": $what->[0]";
						if ($r->{state} ne '00000' && $ok)
						{
							# a REPEATABLE READ writer may fail with 40001
							if ($r->{state} eq '40001' && $plan[$i]{iso} ne 'READ COMMITTED') { $ok = 0; }
							else { fail_now("race error $r->{state}", "$what->[0]\n  => $r->{msg}"); }
						}
						$pending = $what->[1];
					}
					elsif ($what eq 'cid' && $ok && $r->{state} eq '00000')
					{
						my $c = $r->{rows}[0];
						push @writes, [ $pending, $c eq '<NULL>' ? 0 : $c ];
					}
					elsif ($what eq 'end') { $ok = 0 if $plan[$i]{rollback} || $r->{state} ne '00000'; }
				}
				push @done, { ok => $ok, writes => \@writes };
			}
			$_->close for @sess;
			@sess = ();
			# The oracle applies the committed transactions in commit order.
			# A writer holds the writers' lock from its first write to its
			# end, so the transactions ran one after the other; one whose
			# writes all changed nothing made no commit (its commit ids are
			# all 0), and may have run before or after the other: its
			# writes must then change nothing in the oracle either, applied
			# first or applied last (fuzzer seed 224457772: delete markers
			# outranked by the precombine field of rows the other
			# transaction had committed first).
			my @committed = sort { $a->{writes}[-1][1] <=> $b->{writes}[-1][1] }
			  grep { $_->{ok} && @{ $_->{writes} } } @done;
			my @nocommit = grep { !grep { $_->[1] } @{ $_->{writes} } } @committed;
			@committed = grep { grep { $_->[1] } @{ $_->{writes} } } @committed;
			my $prev = one("SELECT max(cid) FROM hist;");
			my $apply = sub {
				my ($tx) = @_;
				for my $w (@{ $tx->{writes} })
				{
					my ($rows, $cid) = @$w;
					orc("DELETE FROM stage;");
					my $i = 0;
					orc("INSERT INTO stage VALUES " . join(', ', map {
							$i++; "($i, $_->[0], $_->[1], " . lit($_->[2]) . ", "
							  . (defined $_->[3] ? ($_->[3] ? 'true' : 'false') : 'NULL') . ", '$_->[4]')" } @$rows) . ";");
					oracle_upsert($cid, 0);
					next unless $cid;
					orc("DELETE FROM hist WHERE cid = $cid;");
					orc("INSERT INTO hist SELECT $cid, k, k2, p, d, v, _wc FROM o;");
				}
			};
			# does applying tx change the oracle's rows? (undone if so)
			my $changes = sub {
				my ($tx) = @_;
				orc("DROP TABLE IF EXISTS o_before;");
				orc("CREATE TEMP TABLE o_before AS SELECT * FROM o;");
				$apply->($tx);
				my $d = one("SELECT count(*) FROM ((SELECT k, k2, p, d, v FROM o EXCEPT ALL SELECT k, k2, p, d, v FROM o_before) UNION ALL (SELECT k, k2, p, d, v FROM o_before EXCEPT ALL SELECT k, k2, p, d, v FROM o)) x;");
				if ($d)
				{
					orc("DELETE FROM o;");
					orc("INSERT INTO o SELECT * FROM o_before;");
				}
				return $d;
			};
			my @late;
			for my $tx (@nocommit)
			{
				push @late, $tx if $changes->($tx);
			}
			$apply->($_) for @committed;
			for my $tx (@late)
			{
				fail_now('race write lost', "a committed transaction made no commit, but its writes change the oracle's rows whether applied first or last:\n"
					  . join("\n", map { '  ' . join(', ', map { "($_->[0], $_->[1], " . ($_->[2] // 'NULL') . ", " . ($_->[3] // 'NULL') . ", $_->[4])" } @{ $_->[0] }) } @{ $tx->{writes} }))
				  if $changes->($tx);
			}
			push @SCRIPT, "-- round $round: committed in this order: "
			  . join(', ', map { join('/', map { $_->[1] } @{ $_->{writes} }) } @nocommit, @committed);
			check_state(undef, undef);
			my $last = latest();
			check_commit($last) if $last > $prev;
			check_changes($prev, $last) if $last > $prev;
			check_net($prev, $last, 0) if $last > $prev;
		}
		check_timeline(1);
		1;
	} or do {
		$f = $@;
		die $f unless ref $f eq 'Fail';
		$f->{script} = [@SCRIPT];
		$_->close for @sess;
	};
	wait_for_server() if $f && $f->{class} eq 'crash';
	return $f;
}

# ----------------------------------------------------------------------
# Shrinking (ddmin over the statement list) and reporting
# ----------------------------------------------------------------------

sub shrink
{
	my ($setup, $stmts, $class) = @_;
	my $deadline = time + $opt_shrink_seconds;
	my @cur = @$stmts;
	my $best;
	my $n = 2;
	my $runs = 0;
	while (@cur >= 2 && time < $deadline)
	{
		my $chunk = int((@cur + $n - 1) / $n);
		my $reduced = 0;
		for (my $start = 0; $start < @cur && time < $deadline; $start += $chunk)
		{
			my @cand = (@cur[ 0 .. $start - 1 ], @cur[ $start + $chunk .. $#cur ]);
			next unless @cand;
			$runs++;
			my $f = run_sequence($setup, \@cand);
			if ($f && $f->{class} eq $class)
			{
				@cur = @cand;
				$best = $f;
				$n = $n > 2 ? $n - 1 : 2;
				$reduced = 1;
				last;
			}
		}
		next if $reduced;
		last if $chunk == 1;
		$n = $n * 2 > @cur ? scalar @cur : $n * 2;
	}
	$best = run_sequence($setup, \@cur) unless $best;
	print "  shrunk to ", scalar(@cur), " statements in $runs runs\n";
	return ($best, \@cur) if $best && $best->{class} eq $class;
	# it did not fail again: report the first run as it was
	print "  the failure did not reproduce while shrinking (timing-dependent?)\n";
	return (undef, $stmts);
}

sub report
{
	my ($name, $seed, $f, $nstmts) = @_;
	my $file = "$opt_out/fail-$name-seed$seed.sql";
	open my $fh, '>', $file or die "$file: $!";
	my $detail = $f->{detail};
	$detail =~ s/^/-- /mg;
	my $body = "-- incetl_cow fuzzer: $f->{class}\n"
	  . "-- replay: perl test/fuzz/cow_fuzz.pl --seed $seed --sequences 1"
	  . ($name eq 'race' ? " --race-every 1" : '') . " --avoid=$opt_avoid"
	  . ($opt_schema ne 'cow_fuzz' ? " --schema $opt_schema" : '') . "\n"
	  . ($nstmts ? "-- minimal sequence: $nstmts statements of the generator\n" : '')
	  . "-- run with: psql -X -v ON_ERROR_STOP=0 -f $file (a database with incetl)\n"
	  . "-- the failing check:\n$detail\n"
	  . join("\n", @{ $f->{script} }) . "\n"
	  . ($f->{check} ? "-- the check, on c alone:\n$f->{check}\n" : '');
	print $fh $body;
	close $fh;
	print "FAILED ($f->{class}); script saved in $file\n$body";
}

# ----------------------------------------------------------------------
# Main
# ----------------------------------------------------------------------

$| = 1;
print "cow_fuzz: base seed $opt_seed, ", ($opt_seconds ? "$opt_seconds s" : "$opt_sequences sequences"),
  " of $opt_statements statements, avoid: ", (join(',', sort keys %AVOID) || 'nothing'), "\n";
my $t0 = time;
my ($nseq, $nfail) = (0, 0);
for (my $i = 0;; $i++)
{
	last if defined $opt_sequences && $i >= $opt_sequences;
	last if $opt_seconds && time - $t0 >= $opt_seconds;
	my $seed = $opt_seed + $i;
	$nseq++;
	my $race = $opt_race_every > 0 && $seed % $opt_race_every == 0;
	my $ts = time;
	my $n0 = $NSTMT;
	my $f;
	if ($race)
	{
		$f = run_race($seed);
		printf "  seed %d: race, %s (%.1f s)\n", $seed, $f ? "FAILED: $f->{class}" : 'ok', time - $ts;
		if ($f) { report('race', $seed, $f); $nfail++; }
	}
	else
	{
		my ($setup, $stmts) = gen_sequence($seed, $opt_statements);
		$f = run_sequence($setup, $stmts);
		printf "  seed %d: %d statements, %s (%.1f s)\n", $seed, $NSTMT - $n0,
		  $f ? "FAILED: $f->{class}" : 'ok', time - $ts;
		if ($f)
		{
			my $cur = $stmts;
			if ($opt_shrink)
			{
				my ($g, $c) = shrink($setup, $stmts, $f->{class});
				($f, $cur) = ($g, $c) if $g;
			}
			report('seq', $seed, $f, scalar @$cur);
			$nfail++;
		}
	}
	last if $nfail && !$opt_keep_going;
}
$S->close if $S;
my $el = time - $t0;
printf "cow_fuzz: %d sequences, %d statements in %.1f s (%.1f statements/s, %.2f sequences/s), %d failed\n",
  $nseq, $NSTMT, $el, $NSTMT / ($el || 1), $nseq / ($el || 1), $nfail;
exit($nfail ? 1 : 0);
