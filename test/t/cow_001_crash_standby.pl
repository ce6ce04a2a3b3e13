# incetl_cow survives a crash and replicates to a standby.
#
# Every page of a file group version is WAL-logged (log_newpage_buffer),
# the metapage through generic WAL, the catalogs are heap tables: a
# streaming standby must return the same rows, and a primary killed in the
# middle of an uncommitted write must come back with the committed state.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $primary = PostgreSQL::Test::Cluster->new('primary');
$primary->init(allows_streaming => 1);
$primary->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'incetl,pg_cron'
cron.database_name = 'postgres'
hot_standby_feedback = on
max_prepared_transactions = 5
});
$primary->start;
$primary->safe_psql('postgres', q{
CREATE EXTENSION incetl;
CREATE TABLE t (id int, v text, ts int) USING incetl_cow;
SELECT incetl.set_table_options('t', record_key => 'id', precombine => 'ts',
                                file_group_rows => 500, retain_commits => 1);
CREATE INDEX t_v ON t (v);
INSERT INTO t SELECT g, 'v' || (g % 10), 1 FROM generate_series(1, 5000) g;
});

$primary->backup('b');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'b', has_streaming => 1);
$standby->start;

my $check = q{
SELECT count(*), sum(id), count(DISTINCT v), max(ts) FROM t;
SELECT count(*) FROM incetl.verify('t');
SET enable_seqscan = off;
SELECT count(*) FROM t WHERE v = 'v3';
};

# writes that rewrite file groups, then VACUUM so later writes reuse pages
$primary->safe_psql('postgres', q{
INSERT INTO t SELECT g, 'w' || (g % 7), 2 FROM generate_series(1, 5000, 3) g;
UPDATE t SET v = 'v3' WHERE id % 100 = 0;
DELETE FROM t WHERE id > 4900;
});
$primary->safe_psql('postgres', 'VACUUM t');
$primary->safe_psql('postgres',
	q{INSERT INTO t SELECT g, 'v3', 3 FROM generate_series(1, 5000, 11) g});
$primary->wait_for_catchup($standby);

my $on_primary = $primary->safe_psql('postgres', $check);
my $on_standby = $standby->safe_psql('postgres', $check);
is($on_standby, $on_primary, 'standby returns the same rows as the primary');
like($on_primary, qr/^4909\|/, 'expected row count on the primary (4900 after the delete, 9 re-inserted)');

# crash with an uncommitted write in flight
my $bg = $primary->background_psql('postgres');
$bg->query_safe('BEGIN');
$bg->query_safe(q{INSERT INTO t SELECT g, 'lost', 9 FROM generate_series(1, 5000) g});
$primary->stop('immediate');
eval { $bg->quit; };
$primary->start;

my $after = $primary->safe_psql('postgres', $check);
is($after, $on_primary, 'after a crash the committed state is back, the uncommitted write is gone');

# two-phase commit: PREPARE TRANSACTION merges like COMMIT
$primary->safe_psql('postgres', q{
BEGIN;
INSERT INTO t VALUES (2, 'prepared', 11);
PREPARE TRANSACTION 'cow_2pc';
});
$primary->safe_psql('postgres', q{COMMIT PREPARED 'cow_2pc'});
is($primary->safe_psql('postgres', q{SELECT v FROM t WHERE id = 2}),
	'prepared', 'a prepared transaction writes on COMMIT PREPARED');

# the table still takes writes after recovery, and its standby follows
$primary->safe_psql('postgres',
	q{INSERT INTO t VALUES (1, 'after-crash', 10)});
$primary->safe_psql('postgres', 'VACUUM t');
is($primary->safe_psql('postgres', q{SELECT v FROM t WHERE id = 1}),
	'after-crash', 'writes after recovery');
is($primary->safe_psql('postgres', q{SELECT count(*) FROM incetl.verify('t')}),
	'0', 'verify finds no problem after recovery');
$primary->wait_for_catchup($standby);
is($standby->safe_psql('postgres', $check), $primary->safe_psql('postgres', $check),
	'standby follows after the primary restarts');

done_testing();
