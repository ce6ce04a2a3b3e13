#!/usr/bin/env bash
# test/pg_regress_cow.sh -- PostgreSQL 15's own regression suite with
# incetl_cow as the default table access method
#
# The measure of incetl_cow's compatibility.  This script gets PostgreSQL
# 15's source (test/lib.sh, incetl_pg_source: Debian's source package), builds
# the suite's C helpers (regress.so, autoinc.so, refint.so) and incetl
# against the PostgreSQL it tests, installs incetl there, and runs
# src/test/regress's parallel_schedule twice, each time on a throwaway
# cluster:
#
#   heap        plain PostgreSQL (nothing preloaded): the baseline
#   incetl_cow  incetl preloaded, the extension created in the test database
#               and default_table_access_method = incetl_cow set on it
#
# It then prints, per test, whether it passed under heap and under
# incetl_cow and, for a test that fails only under incetl_cow, the reason
# class, read from the server log and from the test's diff hunk by hunk:
#
#   refused feature         the test logged a 0A000 the heap run did not
#                           (the first such message is shown)
#   error                   an ERROR (or a lost connection) heap did not have
#   wrong result            a hunk that is none of the classes below
#   plan or row-order only  every hunk is EXPLAIN output, or the same lines
#                           in another order
#   sizes                   as above, but some hunk differs only in numbers
#                           next to sizes, pages, bytes or tuples, or shows
#                           a query of the storage (pg_relation_size,
#                           relpages, the toast table, pg_column_compression)
#
# A hunk that is none of these as a whole is read run by run (diff joins
# changes a few lines apart: a plan just above rows in another order): each
# run of changed lines must be plan, order or sizes on its own, a plan's
# header or row count counting as plan next to a plan, and the runs that
# are none of them must together remove and add the same lines (a row moved
# across a context line).  doc/incetl_cow.md, PostgreSQL's regression
# suite, lists every remaining difference with its reason.
#
# and a summary: how many tests pass under each, how many fail under
# incetl_cow per class.  The table is also written to
# $INCETL_PGREGRESS_DIR/summary.txt.  It fails (exit 1) when the incetl_cow server
# crashed (a backend killed by a signal, a PANIC) or logged an internal error
# (SQLSTATE XX000, XX001), listing each with its test and statement.  A minor
# version between the source and the server does not matter: both runs use
# the same server and the same tests.
#
# Not part of `make test` (it takes a few minutes and may download the
# source); run it as root (it installs incetl into the server):
#
#     make pgregress                          # or: bash test/pg_regress_cow.sh
#     INCETL_PG_BIN=/opt/pg/bin bash test/pg_regress_cow.sh
#
# Knobs: INCETL_PG_BIN (the server, default /usr/lib/postgresql/15/bin),
#        INCETL_PG_SOURCE (an extracted PostgreSQL 15 source tree to use; by
#        default the one test/cassert.sh downloaded, else a fresh download),
#        INCETL_PGREGRESS_DIR (/tmp/incetl-pgregress),
#        INCETL_PGREGRESS_PORT (54398),
#        INCETL_PGREGRESS_REPORT_ONLY=1 (run nothing: print the table of the
#        runs already in INCETL_PGREGRESS_DIR again),
#        INCETL_PGREGRESS_SHOW_OTHER=1 (also print every hunk classed as a
#        wrong result, for triage).
# Output stays in INCETL_PGREGRESS_DIR: heap/ and cow/ each hold the
# cluster's server.log, pg_regress's regression.out and regression.diffs.

set -euo pipefail
export LC_ALL=C

SRC_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=test/lib.sh
source "$SRC_DIR/test/lib.sh"

WORK=${INCETL_PGREGRESS_DIR:-/tmp/incetl-pgregress}
PORT=${INCETL_PGREGRESS_PORT:-54398}
RUNNER=$(incetl_runner_user)

if [ "${INCETL_PGREGRESS_REPORT_ONLY:-0}" != 1 ]; then
incetl_is_root || incetl_die "run test/pg_regress_cow.sh as root (it installs incetl)"
[ -x "$INCETL_PG_BIN/postgres" ] || incetl_die "no server in INCETL_PG_BIN=$INCETL_PG_BIN"
mkdir -p "$WORK"

# test/cassert.sh's download serves as well, when there is one
CASSERT_SRC=${INCETL_CASSERT_DIR:-/tmp/incetl-cassert}/src
if [ -z "${INCETL_PG_SOURCE:-}" ] && ! ls -d "$WORK"/src/postgresql-15.*/ >/dev/null 2>&1 &&
        ls -d "$CASSERT_SRC"/postgresql-15.*/ >/dev/null 2>&1; then
    pgsrc=$(incetl_pg_source "$CASSERT_SRC") || incetl_die "could not get PostgreSQL 15's source"
else
    pgsrc=$(incetl_pg_source "$WORK/src") || incetl_die "could not get PostgreSQL 15's source"
fi
incetl_log "PostgreSQL source: $pgsrc; server: $("$INCETL_PG_BIN/postgres" --version)"

# incetl, built and installed into the server under test
incetl_copy_tree "$SRC_DIR" "$WORK/tree"
incetl_build "$WORK/tree" || incetl_die "building incetl failed"

# The suite (tests, expected outputs, data files) and its C helpers, built
# with PGXS against the server under test (pg_regress's --dlpath).
R=$WORK/regress
incetl_rm_dir "$R"
mkdir -p "$R"
cp -r "$pgsrc/src/test/regress/sql" "$pgsrc/src/test/regress/expected" \
    "$pgsrc/src/test/regress/data" "$pgsrc/src/test/regress/parallel_schedule" \
    "$pgsrc/src/test/regress/regress.c" "$pgsrc/contrib/spi/autoinc.c" \
    "$pgsrc/contrib/spi/refint.c" "$R/"
[ -f "$pgsrc/src/test/regress/resultmap" ] && cp "$pgsrc/src/test/regress/resultmap" "$R/"
cat >"$R/Makefile" <<'EOF'
MODULES = regress autoinc refint
PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)
EOF
chown -R "$RUNNER:" "$WORK"
incetl_as_runner make -s -C "$R" PG_CONFIG="$INCETL_PG_CONFIG" >"$WORK/regress-build.log" 2>&1 ||
    incetl_die "building the suite's C helpers failed: see $WORK/regress-build.log"

PG_REGRESS=$("$INCETL_PG_CONFIG" --pkglibdir)/pgxs/src/test/regress/pg_regress

# run_suite NAME PRELOAD SETUP_SQL: a fresh cluster in $WORK/NAME, the test
# database "regression" made as pg_regress would make it plus SETUP_SQL, then
# the parallel schedule with --use-existing.  The log line prefix carries
# each message's SQLSTATE (%e) and its test (pg_regress names every
# connection pg_regress/TEST); connections are logged so that a crashed
# backend's pid leads to its test.
run_suite() {
    local name=$1 preload=$2 setup=$3 C=$WORK/$1
    incetl_log "running the regression suite under $name"
    incetl_cluster_init "$C" "$PORT" postgres \
        "shared_preload_libraries = '$preload'" \
        "log_line_prefix = '%m [%p] %e %a '" \
        "log_min_error_statement = error" \
        "log_connections = on" \
        "max_connections = 100"
    incetl_cluster_start "$C"
    incetl_cluster_psql "$C" -c "CREATE DATABASE regression TEMPLATE = template0"
    incetl_cluster_psql "$C" -d regression <<EOF
ALTER DATABASE regression SET lc_messages TO 'C';
ALTER DATABASE regression SET lc_monetary TO 'C';
ALTER DATABASE regression SET lc_numeric TO 'C';
ALTER DATABASE regression SET lc_time TO 'C';
ALTER DATABASE regression SET bytea_output TO 'hex';
ALTER DATABASE regression SET timezone_abbreviations TO 'Default';
$setup
EOF
    mkdir -p "$C/out"
    chown "$RUNNER:" "$C/out"
    # pg_regress fails when a test fails: that is what we count, not a stop
    (cd "$R" && incetl_as_runner "$PG_REGRESS" --bindir="$INCETL_PG_BIN" \
        --host="$C/sock" --port="$PORT" --use-existing --dbname=regression \
        --inputdir="$R" --outputdir="$C/out" --dlpath="$R" \
        --schedule="$R/parallel_schedule" >"$C/pg_regress.log" 2>&1) || true
    incetl_cluster_stop "$C"
    [ -f "$C/out/regression.out" ] ||
        { tail -n 20 "$C/pg_regress.log"; incetl_die "pg_regress did not run under $name"; }
}

run_suite heap "" ""
run_suite cow incetl "CREATE EXTENSION incetl;
ALTER DATABASE regression SET default_table_access_method TO incetl_cow;"
fi

# The table, and the verdict.
status=0
perl - "$WORK/heap/out/regression.out" "$WORK/cow/out/regression.out" \
    "$WORK/heap/server.log" "$WORK/cow/server.log" "$WORK/cow/out/regression.diffs" \
    "$WORK/summary.txt" <<'PERL' || status=1
use strict;
use warnings;

my ($heap_out, $cow_out, $heap_log, $cow_log, $cow_diffs, $summary) = @ARGV;

# "test NAME ... ok 12 ms", "     NAME ... FAILED 40 ms", "... failed (ignored)"
sub results
{
    my ($file) = @_;
    my %r;
    open(my $fh, '<', $file) or die "$file: $!";
    while (<$fh>)
    {
        $r{$2} = ($3 eq 'ok') ? 'ok' : 'failed'
          if /^\s*(test\s+)?(\S+)\s+\.\.\.\s+(ok|FAILED|failed)/;
    }
    return \%r;
}
my $heap = results($heap_out);
my $cow  = results($cow_out);

# A server log: error messages per test and SQLSTATE, internal errors, crashes.  The
# suite provokes some internal errors on purpose (pglz_decompress failed,
# could not open relation with OID 0, ...): those the heap server logs too,
# for the same test and message, are the suite's and not counted.
sub scan_log
{
    my ($file) = @_;
    my (%test_of_pid, %states, @internal, @crashes, %pending);
    open(my $log, '<', $file) or die "$file: $!";
    while (my $line = <$log>)
    {
        chomp $line;
        # "%m [%p] %e %a LEVEL:  message"; %m is three words
        next unless $line =~ /^\S+ \S+ \S+ \[(\d+)\] (\w{5}) (\S*) ?(\w+):  (.*)$/;
        my ($pid, $state, $app, $level, $msg) = ($1, $2, $3, $4, $5);
        $test_of_pid{$pid} = $1
          if $msg =~ /^connection authorized: .*application_name=pg_regress\/(\S+)/;
        my $test = $app =~ m{^pg_regress/(.+)} ? $1 : ($test_of_pid{$pid} // '?');
        if ($level eq 'STATEMENT' && $pending{$pid})
        {
            $pending{$pid}{statement} = $msg;
            delete $pending{$pid};
            next;
        }
        if ($level eq 'DETAIL' && $msg =~ /^Failed process was running: (.*)/ && @crashes)
        {
            $crashes[-1]{statement} //= $1;
            next;
        }
        if ($level =~ /^(ERROR|FATAL|PANIC)$/)
        {
            (my $m = $msg) =~ s/\d+/N/g;
            $states{$test}{$state}{$m} = 1;
            if ($state =~ /^XX00[01]$/ || $level eq 'PANIC')
            {
                (my $key = "$test\t$level:  $msg") =~ s/\d+/N/g;
                my $e = { test => $test, state => $state,
                          message => "$level:  $msg", key => $key };
                push @internal, $e;
                $pending{$pid} = $e;
            }
        }
        if ($msg =~ /^(server|background worker) process .*\(PID (\d+)\) was terminated by signal/)
        {
            push @crashes, { test => $test_of_pid{$2} // '?', message => $msg };
        }
    }
    return (\%states, \@internal, \@crashes);
}
my ($states, $cow_internal, $cow_crashes) = scan_log($cow_log);
my ($heap_states, $heap_internal, undef) = scan_log($heap_log);
my %heap_key = map { $_->{key} => 1 } @$heap_internal;
my @crashes  = @$cow_crashes;
my @internal = grep { !$heap_key{ $_->{key} } } @$cow_internal;
my %states   = %$states;

# The diff of each test under incetl_cow, as hunks of removed, added and
# context lines.  "diff -U3 .../expected/NAME.out .../results/NAME.out" opens
# a test's section, followed by its two file lines.
sub diff_hunks
{
    my ($file) = @_;
    my (%hunks, $test, $hunk);
    my $header = 0;
    open(my $fh, '<', $file) or return {};
    while (my $line = <$fh>)
    {
        chomp $line;
        if ($line =~ m{^diff .*/results/([^/\s]+)\.out$})
        {
            ($test, $hunk, $header) = ($1, undef, 2);
            next;
        }
        next unless defined $test;
        if ($header > 0) { $header--; next; }
        if ($line =~ /^@@ /)
        {
            $hunk = { '-' => [], '+' => [], ' ' => [], seq => [] };
            push @{ $hunks{$test} }, $hunk;
            next;
        }
        next unless $hunk && $line =~ /^([-+ ])(.*)$/;
        push @{ $hunk->{$1} }, $2;
        push @{ $hunk->{seq} }, [ $1, $2 ];
    }
    return \%hunks;
}

# EXPLAIN output: plan nodes, their properties, the QUERY PLAN header.
my $plan_node = qr/^\s*(?:->\s+)?(?:(?:Parallel|Partial|Finalize|Incremental|Custom|Async)\s+)*
    (?:Seq\sScan|Index\sScan|Index\sOnly\sScan|Bitmap\sHeap\sScan|Bitmap\sIndex\sScan|
       Tid\sScan|Tid\sRange\sScan|Sample\sScan|Subquery\sScan|Function\sScan|
       Table\sFunction\sScan|Values\sScan|CTE\sScan|WorkTable\sScan|Foreign\sScan|
       Named\sTuplestore\sScan|Custom\sScan|Result|Sort|Hash|Hash\sJoin|Merge\sJoin|Nested\sLoop|
       Aggregate|HashAggregate|GroupAggregate|MixedAggregate|Append|Merge\sAppend|
       Limit|Gather|Gather\sMerge|Materialize|Memoize|Unique|SetOp|HashSetOp|Group|
       WindowAgg|LockRows|Insert|Update|Delete|Merge|BitmapAnd|BitmapOr|ProjectSet|
       Recursive\sUnion)\b/x;
my $plan_line = qr/^\s*(?:(?:Filter|Index\sCond|Recheck\sCond|Hash\sCond|Merge\sCond|
       Join\sFilter|Sort\sKey|Presorted\sKey|Group\sKey|Hash\sKey|Output|Heap\sFetches|
       Rows\sRemoved\sby\s[\w\s]+|Workers\sPlanned|Workers\sLaunched|Order\sBy|
       One-Time\sFilter|Cache\sKey|Cache\sMode|TID\sCond|Sort\sMethod|Subplans\sRemoved|
       Run\sCondition|Conflict\s\w+|Relations|Single\sCopy|Batches|Buckets|
       Exact\sHeap\sBlocks|Lossy\sHeap\sBlocks|Heap\sBlocks|Sampling|Index\sSearches|
       Inner\sUnique|Hits|File\sGroups\sRead|File\sGroups\sSkipped|Column\sChunks\sDecoded|
       Rows\sKept|Rows\sTaken):|
       (?:InitPlan|SubPlan)\s+\d|(?:QUERY\sPLAN|explain_\w+)\s*$|-+$|\(\d+\srows?\)$)/x;
# a plan's header (QUERY PLAN, or the suite's explain_* functions) and its
# underline: their width follows the plan's lines
my $plan_header = qr/^\s*(?:QUERY\sPLAN|explain_\w+)\s*$|^-+$/;
# the row count psql prints after a plan
my $row_count = qr/^\(\d+\srows?\)$/;
my $size_words = qr/size|pages|bytes|\bkB\b|\bMB\b|blocks|tuples|toast/i;
# a query of the storage itself: whatever it shows differs with the AM
my $storage_query = qr/pg_\w*size|pg_size_pretty|pg_column_compression|relpages|reltuples|reltoastrelid|toast/i;

sub sorted { return join("\n", sort @_); }

# a line with its numbers (and a size's unit, "8192 bytes" / "24 kB") as N
sub numbers_out
{
    my ($x) = @_;
    $x =~ s/\d+(?:\.\d+)?(?:\s+(?:bytes|kB|MB|GB))?/N/g;
    $x =~ s/\s+/ /g;
    return $x;
}

# The class of a run of changed lines: plan, order, sizes or other.
sub block_class
{
    my ($h) = @_;
    my @minus = @{ $h->{'-'} };
    my @plus  = @{ $h->{'+'} };
    my @all   = (@minus, @plus);
    return 'other' unless @all;
    return 'plan'
      if (grep { /$plan_node/ } @all) && !(grep { !/$plan_node/ && !/$plan_line/ } @all);
    return 'order' if @minus && sorted(@minus) eq sorted(@plus);
    my @nm = map { numbers_out($_) } @minus;
    my @np = map { numbers_out($_) } @plus;
    return 'sizes'
      if @minus && sorted(@nm) eq sorted(@np) &&
      grep { /$size_words/ } (@all, @{ $h->{' '} });
    return 'sizes' if grep { /$storage_query/ } (@all, @{ $h->{' '} });
    return 'other';
}

# The runs of changed lines of a hunk, each with the hunk's context lines:
# diff joins changes fewer than seven lines apart into one hunk (a plan
# changed just above the query's rows in another order).
sub change_blocks
{
    my ($h) = @_;
    my (@blocks, $b, $before);
    for my $l (@{ $h->{seq} })
    {
        my ($kind, $text) = @$l;
        if ($kind eq ' ')
        {
            undef $b;
            $before = $text;
            next;
        }
        if (!$b)
        {
            $b = { '-' => [], '+' => [], ' ' => $h->{' '}, before => $before };
            push @blocks, $b;
        }
        push @{ $b->{$kind} }, $text;
    }
    return @blocks;
}

# The class of one hunk: that of all its lines together, else the weakest
# of its runs of changed lines taken one by one.  Runs that are none of
# the classes on their own are order when together they remove and add
# the same lines (a row moved across a context line), else the hunk is
# other.
sub hunk_class
{
    my ($h) = @_;
    my $c = block_class($h);
    return $c if $c ne 'other';
    my @blocks = change_blocks($h);
    return 'other' unless @blocks;
    my %rank = (plan => 0, order => 1, sizes => 2);
    my $worst = 'plan';
    my (@moved_minus, @moved_plus);
    # the QUERY PLAN header of a plan whose first node is context
    my $in_plan = grep { /$plan_node/ } map { $_->[1] } @{ $h->{seq} };
    for my $b (@blocks)
    {
        my @lines = (@{ $b->{'-'} }, @{ $b->{'+'} });
        my $k = block_class($b);
        # the header of a plan whose first node is context, the row
        # count right after a plan's last line, or a node's properties
        # (its Output list, a Filter) below a node that is context
        $k = 'plan'
          if $k eq 'other' && $in_plan &&
          (!(grep { !/$plan_header/ } @lines) ||
           (!(grep { !/$plan_line/ || /$plan_header/ } @lines) &&
            (grep { !/$row_count/ } @lines) &&
            defined $b->{before} &&
            ($b->{before} =~ /$plan_node/ || $b->{before} =~ /$plan_line/) &&
            $b->{before} !~ /$plan_header|$row_count/) ||
           (!(grep { !/$row_count/ } @lines) && defined $b->{before} &&
            ($b->{before} =~ /$plan_node/ ||
             ($b->{before} =~ /$plan_line/ && $b->{before} !~ /$plan_header|$row_count/))));
        if ($k eq 'other')
        {
            push @moved_minus, @{ $b->{'-'} };
            push @moved_plus,  @{ $b->{'+'} };
            $k = 'order';
        }
        $worst = $k if $rank{$k} > $rank{$worst};
    }
    return 'other'
      if (@moved_minus || @moved_plus) && sorted(@moved_minus) ne sorted(@moved_plus);
    return $worst;
}

my $hunks = diff_hunks($cow_diffs);
my %crashed = map { $_->{test} => 1 } @crashes, @internal;

my @tests = sort keys %$heap;
# INCETL_PGREGRESS_SHOW_OTHER=1: print every hunk classed other (triage)
my $show_other = ($ENV{INCETL_PGREGRESS_SHOW_OTHER} // '') eq '1';
my $shown = '';
my (@heap_ok, @cow_ok, @both, %class, %note);

# class_hunks WHAT, HUNKS: how many of the hunks fall in each class (with
# INCETL_PGREGRESS_SHOW_OTHER, those classed other are kept for printing)
sub class_hunks
{
    my ($what, @h) = @_;
    my %hc;
    for my $h (@h)
    {
        my $k = hunk_class($h);
        $hc{$k}++;
        $shown .= "\n--- $what, a hunk classed other:\n" .
          join("\n", map { $_->[0] . $_->[1] } @{ $h->{seq} }) . "\n"
          if $k eq 'other' && $show_other;
    }
    return %hc;
}
for my $t (@tests)
{
    my $c = $cow->{$t} // 'failed';
    push @heap_ok, $t if $heap->{$t} eq 'ok';
    push @cow_ok,  $t if $c eq 'ok';
    next if $c eq 'ok';
    if ($heap->{$t} ne 'ok') { push @both, $t; next; }
    # a refusal: a 0A000 error the heap run did not raise in this test (the
    # suite tests some of PostgreSQL's own 0A000 errors)
    my @refusals = sort grep { !$heap_states->{$t}{'0A000'}{$_} }
      keys %{ $states{$t}{'0A000'} // {} };
    my @h = @{ $hunks->{$t} // [] };
    my %hc = class_hunks($t, @h);
    if ($crashed{$t})
    {
        $class{$t} = 'crash or internal error';
    }
    elsif (@refusals)
    {
        $class{$t} = 'refused feature';
        ($note{$t} = $refusals[0]) =~ s/^(.{70}).+$/$1.../;
    }
    elsif (!@h || grep { grep { /^(ERROR|FATAL|PANIC):|connection to server was lost/ } @{ $_->{'+'} } } @h)
    {
        $class{$t} = 'error';
    }
    elsif ($hc{other})
    {
        $class{$t} = 'wrong result';
    }
    elsif ($hc{sizes})
    {
        $class{$t} = 'sizes';
    }
    else
    {
        $class{$t} = 'plan or row-order only';
    }
    $note{$t} //= join(', ', map { "$hc{$_} $_" } sort keys %hc) . ' hunks' if %hc;
}

# The tests that fail under heap too are not classed against the expected
# files: incetl_cow's results are compared with heap's own instead, hunk by
# hunk as above ("same as heap" when the two files are equal).
(my $heap_res = $heap_out) =~ s{regression\.out$}{results};
(my $cow_res = $cow_out) =~ s{regression\.out$}{results};
(my $vs_file = $cow_out) =~ s{regression\.out$}{vs_heap.diff};
my %vs_heap;
for my $t (@both)
{
    my ($hf, $cf) = ("$heap_res/$t.out", "$cow_res/$t.out");
    next unless -f $hf && -f $cf;
    open(my $d, '-|', 'diff', '-U3', $hf, $cf) or die "diff: $!";
    my @lines = <$d>;
    close($d);
    open(my $vf, '>', $vs_file) or die "$vs_file: $!";
    print $vf "diff -U3 $hf $cf\n", @lines;
    close($vf);
    my @h = @{ diff_hunks($vs_file)->{$t} // [] };
    my %hc = class_hunks("$t (against heap's results)", @h);
    $vs_heap{$t} = !@h ? 'same as heap'
      : $hc{other} ? 'differs from heap'
      : $hc{sizes} ? 'sizes' : 'plan or row-order only';
    $vs_heap{$t} .= ': ' . join(', ', map { "$hc{$_} $_" } sort keys %hc) . ' hunks' if %hc;
}

my $out = '';
$out .= sprintf "\nPer test (heap, incetl_cow, the class of an incetl_cow-only failure):\n";
for my $t (@tests)
{
    my $c = $cow->{$t} // 'failed';
    $out .= sprintf "  %-36s %-6s %-6s %s%s\n", $t, $heap->{$t} eq 'ok' ? 'pass' : 'FAIL',
      $c eq 'ok' ? 'pass' : 'FAIL',
      $class{$t} // ($heap->{$t} ne 'ok' ? '(fails under heap; against heap\'s results: ' .
                     ($vs_heap{$t} // '?') . ')' : ''),
      defined $note{$t} ? ": $note{$t}" : '';
}
my @classes = ('refused feature', 'error', 'wrong result', 'plan or row-order only',
               'sizes', 'crash or internal error');
$out .= sprintf "\nPostgreSQL regression suite, %d tests\n", scalar @tests;
$out .= sprintf "  %-58s %4d\n", 'passed under heap (baseline)', scalar @heap_ok;
$out .= sprintf "  %-58s %4d\n", 'passed under incetl_cow', scalar @cow_ok;
for my $k (@classes)
{
    my @in = grep { ($class{$_} // '') eq $k } @tests;
    $out .= sprintf "  %-58s %4d\n", "failed only under incetl_cow: $k", scalar @in;
}
$out .= sprintf "  %-58s %4d\n", 'failed under heap too', scalar @both;
$out .= sprintf "  %-58s %4d\n", 'incetl_cow server crashes', scalar @crashes;
$out .= sprintf "  %-58s %4d\n", 'incetl_cow internal errors (XX000, XX001, PANIC)', scalar @internal;
$out .= sprintf "  %-58s %4d\n", '(internal errors the suite provokes under heap too)',
  @$cow_internal - @internal;
for my $k (@classes)
{
    my @in = grep { ($class{$_} // '') eq $k } @tests;
    $out .= "\nfailed only under incetl_cow, $k:\n  @in\n" if @in;
}
$out .= "\nfailed under heap too, incetl_cow's results against heap's:\n" .
  join('', map { "  $_: " . ($vs_heap{$_} // 'no results file') . "\n" } @both) if @both;
for my $c (@crashes)
{
    $out .= sprintf "\nCRASH in test %s: %s\n  statement: %s\n", $c->{test}, $c->{message},
      $c->{statement} // '?';
}
for my $e (@internal)
{
    $out .= sprintf "\nINTERNAL ERROR %s in test %s: %s\n  statement: %s\n", $e->{state},
      $e->{test}, $e->{message}, $e->{statement} // '?';
}
print $shown if $show_other;
print $out;
if (open(my $sf, '>', $summary)) { print $sf $out; close($sf); }
exit((@crashes || @internal) ? 1 : 0);
PERL
echo
echo "diffs: $WORK/cow/out/regression.diffs (heap: $WORK/heap/out/regression.diffs)"
exit "$status"
