# Makefile for incetl (PGXS)
#
#   make                 build
#   make install         install into the PostgreSQL found by $(PG_CONFIG)
#   make test            install dependencies, build, start throwaway clusters
#                        and run every suite (pg_regress, isolation, TAP, shell)
#   make demo            the guided tour: a cluster with pg_cron and a pipeline
#   make fuzz            the incetl_cow differential fuzzer on a throwaway cluster
#                        (FUZZ_SECONDS=600, FUZZ_SEED, FUZZ_SEQUENCES, FUZZ_AVOID;
#                        see test/fuzz/run_fuzz.sh)
#   make bench           test/bench/run_bench.sh (pipelines vs hand-written SQL),
#                        then test/bench/cow_bench.sh (incetl_cow vs heap),
#                        then test/bench/analytics_bench.sh (sixteen
#                        analytical queries, incetl_cow vs heap)
#   make bench-pgincr    test/bench/pgincr_bench.sh (incetl_run vs
#                        pg_incremental's run, reproduced in SQL; BENCH_ROWS)
#   make bench-feed      test/bench/changefeed_bench.sh (the change feed vs a
#                        watermark query, a heap diff and a full scan)
#   make bench-index     test/bench/index_size_bench.sh (a btree on an
#                        incetl_cow table's key after upserts, with leaf fill)
#   make bench-mem       test/bench/mem_bench.sh (peak memory of a 10 M-row
#                        INSERT ... SELECT, incetl_cow vs heap; BENCH_REPS)
#   make bench-memscale  test/bench/mem_scale_bench.sh (a statement's peak
#                        private memory on 1 M and 3 M rows: does it grow
#                        with the table?  BENCH_SCALE_ROWS)
#   make pgregress       test/pg_regress_cow.sh: PostgreSQL's own regression
#                        suite under heap and under incetl_cow (as root)
#   make installcheck    pg_regress + isolation against a running server that
#                        preloads incetl and pg_cron (test/run_tests.sh does this)

MODULE_big = incetl
SRCS = $(sort $(wildcard src/*.c src/*/*.c))
OBJS = $(SRCS:.c=.o)
PG_CPPFLAGS = -I$(srcdir)/src/include
PG_CFLAGS = -Wall -Wmissing-prototypes -Werror
SHLIB_LINK += -lzstd

EXTENSION = incetl
DATA = $(wildcard sql/incetl--*.sql)

# Every sql/*.sql except the extension scripts is a regression test.
REGRESS = $(sort $(filter-out incetl--%,$(basename $(notdir $(wildcard sql/*.sql)))))
REGRESS_OPTS = --load-extension=incetl
ISOLATION = $(sort $(basename $(notdir $(wildcard test/specs/*.spec))))
ISOLATION_OPTS = --inputdir=test --outputdir=test/output_iso --load-extension=incetl

PG_CONFIG ?= pg_config
PGXS := $(shell command -v $(PG_CONFIG) >/dev/null 2>&1 && $(PG_CONFIG) --pgxs)
ifneq ($(PGXS),)
include $(PGXS)
else
# No PostgreSQL yet (a fresh machine): make test and make demo install it.
all install installcheck:
	@echo "incetl: $(PG_CONFIG) not found: install postgresql-server-dev-15, or run" \
		"'make test' or 'make demo' as root, which install what they need" >&2; exit 1
endif

# PGXS tracks no header dependencies (unless PostgreSQL was configured
# with --enable-depend): every object, and its bitcode, depends on every
# header of ours, so that a changed struct never leaves a stale object.
OUR_HEADERS = $(wildcard src/include/*.h src/include/*/*.h)
$(OBJS) $(OBJS:.o=.bc): $(OUR_HEADERS)

.PHONY: test demo bench pgregress
test:
	bash test/run_tests.sh

demo:
	bash test/demo.sh

pgregress:
	bash test/pg_regress_cow.sh

bench:
	bash test/bench/run_bench.sh
	bash test/bench/cow_bench.sh
	bash test/bench/analytics_bench.sh

.PHONY: bench-pgincr
bench-pgincr:
	bash test/bench/pgincr_bench.sh

.PHONY: bench-feed
bench-feed:
	bash test/bench/changefeed_bench.sh

.PHONY: bench-index
bench-index:
	bash test/bench/index_size_bench.sh

.PHONY: bench-mem
bench-mem:
	bash test/bench/mem_bench.sh

.PHONY: bench-memscale
bench-memscale:
	bash test/bench/mem_scale_bench.sh

.PHONY: fuzz
fuzz:
	FUZZ_SECONDS="$(FUZZ_SECONDS)" FUZZ_SEED="$(FUZZ_SEED)" \
	FUZZ_SEQUENCES="$(FUZZ_SEQUENCES)" FUZZ_STATEMENTS="$(FUZZ_STATEMENTS)" \
	FUZZ_AVOID="$(FUZZ_AVOID)" FUZZ_KEEP_GOING="$(FUZZ_KEEP_GOING)" \
	bash test/fuzz/run_fuzz.sh

.PHONY: demo-stop
demo-stop:
	bash test/demo_stop.sh
