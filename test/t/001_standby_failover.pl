# test/t/001_standby_failover.pl -- a pipeline on a streaming-replication pair
#
# What a user running incetl on a primary with a hot standby relies on:
#
#   1. Everything a run commits -- target rows, watermark, run log -- reaches
#      the standby through WAL, and reads the same there.
#   2. incetl_run on the standby fails at once with a clear error (the
#      standby is read-only) and hurts nothing: the server stays up and the
#      primary's pipeline carries on.
#   3. After failover (the standby promoted), the pipeline continues from the
#      replicated watermark: the next run writes exactly the rows changed
#      since, and the target equals the source.
#
# Both nodes preload incetl and pg_cron through TEMP_CONFIG (run_tests.sh).

use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $primary = PostgreSQL::Test::Cluster->new('primary');
$primary->init(allows_streaming => 1);
$primary->start;

$primary->safe_psql(
	'postgres', q{
	CREATE EXTENSION incetl;
	CREATE TABLE public.orders (
		order_id   bigint PRIMARY KEY,
		amount     numeric(12,2),
		updated_at timestamptz NOT NULL);
	INSERT INTO public.orders
	SELECT g, g * 1.5, now() - interval '1 hour' + g * interval '1 second'
	FROM generate_series(1, 1000) AS g;
	SELECT incetl.create_pipeline(
		name => 'orders_copy', source => 'public.orders',
		watermark_column => 'updated_at', target => 'public.orders_copy',
		record_key => 'order_id', precombine => 'updated_at');
});
is($primary->safe_psql('postgres', q{SELECT incetl_run('orders_copy')}),
	'1000', 'primary: the first run loads every row');

$primary->backup('base');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'base', has_streaming => 1);
$standby->start;

# A second run after the backup: its commit must arrive by streaming.
$primary->safe_psql(
	'postgres', q{
	UPDATE public.orders SET amount = amount + 1, updated_at = now()
	WHERE order_id <= 100;
});
is($primary->safe_psql('postgres', q{SELECT incetl_run('orders_copy')}),
	'100', 'primary: an incremental run');
$primary->wait_for_catchup($standby);

# 1. The standby reads what the primary committed.
my %same = (
	'target' => q{SELECT count(*), sum(amount) FROM public.orders_copy},
	'watermark' => q{SELECT watermark, run_id FROM incetl.watermarks},
	'run log' => q{SELECT run_id, status, records_processed
	               FROM incetl.run_log ORDER BY run_id},);
foreach my $what (sort keys %same)
{
	is( $standby->safe_psql('postgres', $same{$what}),
		$primary->safe_psql('postgres', $same{$what}),
		"standby: the $what is the primary's");
}

# 2. A run on the standby is refused, promptly and harmlessly.
my ($out, $err, $timed_out) = ('', '', 0);
my $rc = $standby->psql(
	'postgres', q{SELECT incetl_run('orders_copy')},
	stdout => \$out,
	stderr => \$err,
	timeout => 20,
	timed_out => \$timed_out);
ok(!$timed_out, 'standby: incetl_run returns within 20 s');
ok(defined $rc && $rc != 0, 'standby: incetl_run fails');
like($err, qr/read-only|recovery|standby/i, 'standby: the error says why');
if ($timed_out)
{
	# Do not leave a stuck run behind to wake up at promotion.
	$standby->safe_psql('postgres',
		q{SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		  WHERE query LIKE 'SELECT incetl_run(%'});
}
is($standby->safe_psql('postgres', 'SELECT pg_is_in_recovery()'),
	't', 'standby: still up, still a standby');
is($primary->safe_psql('postgres', q{SELECT incetl_run('orders_copy')}),
	'0', 'primary: the pipeline is unharmed (nothing new to do)');

# 3. Failover: changes the old primary never processed, then promotion.
$primary->safe_psql(
	'postgres', q{
	UPDATE public.orders SET amount = amount * 2, updated_at = now()
	WHERE order_id BETWEEN 500 AND 519;
	INSERT INTO public.orders
	SELECT g, g * 1.5, now() FROM generate_series(1001, 1030) AS g;
});
$primary->wait_for_catchup($standby);
$primary->stop;
$standby->promote;
$standby->poll_query_until('postgres', 'SELECT NOT pg_is_in_recovery()')
  or die 'the standby did not leave recovery';

is($standby->safe_psql('postgres', q{SELECT incetl_run('orders_copy')}),
	'50', 'promoted: the next run writes exactly the 50 rows changed since');
is( $standby->safe_psql(
		'postgres', q{
		SELECT count(*) FROM (
			(SELECT order_id, amount, updated_at FROM public.orders
			 EXCEPT ALL
			 SELECT order_id, amount, updated_at FROM public.orders_copy)
			UNION ALL
			(SELECT order_id, amount, updated_at FROM public.orders_copy
			 EXCEPT ALL
			 SELECT order_id, amount, updated_at FROM public.orders)) AS d}),
	'0',
	'promoted: the target equals the source');
is($standby->safe_psql('postgres', q{SELECT incetl_run('orders_copy')}),
	'0', 'promoted: and a further run finds nothing');

$standby->stop;
done_testing();
