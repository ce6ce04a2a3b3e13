# test/fuzz/FuzzSession.pm -- one psql session driven statement by statement
#
# The fuzzer talks to the server through psql (no DBD::Pg on a fresh Debian
# machine): a psql reading its script from a pipe runs each statement as soon
# as its line arrives, so after every statement we send
#     \echo @@END :SQLSTATE :LAST_ERROR_MESSAGE
# and read the result rows up to that marker.  SQLSTATE is 00000 after a
# statement that succeeded; after an error the message follows it (one
# line, so statements can be sent ahead and their results read later).  A
# server crash or lost connection ends psql: the read sees end of file and
# the result says so (sqlstate "CRASH").
#
# Rows come back unaligned, fields separated by "|", NULL as "<NULL>".

package FuzzSession;

use strict;
use warnings;
use IPC::Open2;

sub new
{
	my ($class, %opt) = @_;
	my $psql = $opt{psql} || 'psql';
	my $errlog = $opt{errlog} || '/dev/null';
	my @cmd = ($psql, '-X', '-q', '-A', '-t', '-F', '|', '-P', 'null=<NULL>',
		'-v', 'ON_ERROR_STOP=0', '-v', 'VERBOSITY=terse');
	push @cmd, '-d', $opt{db} if defined $opt{db};
	my $q = join ' ', map { my $a = $_; $a =~ s/'/'\\''/g; "'$a'" } @cmd;
	my ($out, $in);
	my $pid = open2($out, $in, 'sh', '-c', "exec $q 2>>'$errlog'");
	$in->autoflush(1);
	my $self = bless { pid => $pid, in => $in, out => $out, dead => 0 }, $class;
	return $self;
}

# Send SQL (it must end with ";") without waiting; collect with finish().
sub send
{
	my ($self, $sql) = @_;
	return if $self->{dead};
	local $SIG{PIPE} = 'IGNORE';
	my $in = $self->{in};
	print $in $sql, "\n\\echo \@\@END :SQLSTATE :LAST_ERROR_MESSAGE\n" or $self->{dead} = 1;
}

# Read the result of the statement sent last: { rows => [...], state => '00000',
# msg => '...' }.
sub finish
{
	my ($self) = @_;
	my @rows;
	my $out = $self->{out};
	return { rows => [], state => 'CRASH', msg => 'session is gone' } if $self->{dead};
	while (defined(my $l = <$out>))
	{
		chomp $l;
		if ($l =~ /^\@\@END ?(\S*) ?(.*)/)
		{
			my $st = $1 eq '' ? '00000' : $1;
			return { rows => \@rows, state => $st, msg => $st eq '00000' ? '' : $2 };
		}
		push @rows, $l;
	}
	$self->{dead} = 1;
	return { rows => \@rows, state => 'CRASH', msg => 'psql ended: server crashed or connection lost' };
}

sub run
{
	my ($self, $sql) = @_;
	$self->send($sql);
	return $self->finish;
}

sub close
{
	my ($self) = @_;
	local $SIG{PIPE} = 'IGNORE';
	my $in = $self->{in};
	print $in "\\q\n" unless $self->{dead};
	close $in;
	close $self->{out};
	waitpid $self->{pid}, 0;
}

1;
