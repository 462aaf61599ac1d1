# Every module of the repository (each directory with a go.mod).
MODULES := $(patsubst ./%,%,$(patsubst %/go.mod,%,$(shell find . -name go.mod -not -path './.git/*' | sort)))
GO_TEST_FLAGS ?= -race -count=1
SHELL := bash

.PHONY: test test-modules demo demo-backends fuzz fuzz-modules

# test needs PostgreSQL (initdb, pg_ctl), redis-server and chromium: it fails at
# once naming any that is missing and the apt-get command that installs it.
# MYACCOUNT_SKIP_SERVICES=1 runs the tests anyway; those that need a missing
# program skip. It starts a throwaway PostgreSQL and Redis (unless
# MYACCOUNT_POSTGRES_DSN / MYACCOUNT_REDIS_URL name running ones), then vets and
# tests every module, and ends by listing every skipped test. Under CI=true it
# fuzzes too.
test:
ifeq ($(MYACCOUNT_SKIP_SERVICES),)
	@scripts/check-services.sh
endif
	@scripts/with-services.sh $(MAKE) --no-print-directory test-modules $(if $(filter true,$(CI)),fuzz-modules)

# fuzz runs every Fuzz target of every module for FUZZTIME each (5s: about a
# minute in all), from the seeds in testdata/.
FUZZTIME ?= 5s
fuzz:
	@scripts/with-services.sh $(MAKE) --no-print-directory fuzz-modules

fuzz-modules:
	@FUZZTIME=$(FUZZTIME) scripts/fuzz.sh $(MODULES)

# test-modules vets and tests every module against the services in the
# environment, going on past a failing module, then lists the skipped tests.
test-modules:
	@tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	go build -o "$$tmp/testreport" ./internal/testreport || exit 1; \
	status=0; \
	for m in $(MODULES); do \
		echo "== $$m"; \
		(cd $$m && go vet ./... && set -o pipefail && \
			go test -json $(GO_TEST_FLAGS) ./... | "$$tmp/testreport" -skips "$$tmp/skips") || status=1; \
	done; \
	echo "== cmd/myaccount-demo -tags backends (the -postgres and -redis flags)"; \
	(cd cmd/myaccount-demo && go vet -tags backends ./... && set -o pipefail && \
		go test -json -tags backends -run Backends $(GO_TEST_FLAGS) . | "$$tmp/testreport" -skips "$$tmp/skips") || status=1; \
	"$$tmp/testreport" -list "$$tmp/skips"; \
	exit $$status

demo:
	go run ./cmd/myaccount-demo

# demo-backends runs the demo with its -postgres and -redis flags compiled in.
demo-backends:
	go run -tags backends ./cmd/myaccount-demo $(ARGS)

# bench runs the benchmarks of bench/ and the core's limiter benchmarks, ten
# passes of each package taking turns (so a change in the machine's load falls
# on every contender alike), prints benchstat's side-by-side comparisons, then
# runs the loopback load tests (the list, and the TOTP and email verifies
# against their fair floors). Raw results go to bench/results.txt and
# bench/load.txt. About 15 minutes on 2 cores.
BENCHSTAT := go run golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da
BENCH_PASSES := 1 2 3 4 5 6 7 8 9 10
BENCH_FLAGS := -test.run "^$$" -test.bench . -test.benchmem -test.benchtime 1s -test.timeout 30m
.PHONY: bench
bench:
	go test -c -o bench/bench.test ./bench/
	go test -c -o bench/core.test .
	bash -o pipefail -c 'for i in $(BENCH_PASSES); do \
		(cd bench && ./bench.test $(BENCH_FLAGS)) && ./bench/core.test $(BENCH_FLAGS) || exit 1; \
	done | tee bench/results.txt'
	rm -f bench/bench.test bench/core.test
	$(BENCHSTAT) -col /impl -filter '.name:TokenCheck' bench/results.txt
	$(BENCHSTAT) -col '/impl@(go-jwt-middleware-v2 myaccount-cache-off myaccount-cache-hit)' -filter '.name:TokenCheck' bench/results.txt
	$(BENCHSTAT) -col /impl -filter '.name:Enroll' bench/results.txt
	$(BENCHSTAT) -col /impl -filter '.name:EnrollSecurityKey' bench/results.txt
	$(BENCHSTAT) -col /impl -filter '.name:VerifyCode' bench/results.txt
	$(BENCHSTAT) -filter '.unit:handler/floor' bench/results.txt
	$(BENCHSTAT) -filter '.name:/^(List|Limiter)/' bench/results.txt
	$(BENCHSTAT) -col /impl -filter '.name:DPoP' bench/results.txt
	$(BENCHSTAT) -filter '.name:ReplayCache' bench/results.txt
	cd bench && bash -o pipefail -c "go run ./cmd/load -n 20000 -c 8 -rounds 5 | tee load.txt"
	cd bench && bash -o pipefail -c "go run ./cmd/load -scenario verify-totp -n 4000 -c 8 -rounds 5 | tee -a load.txt"
	cd bench && bash -o pipefail -c "go run ./cmd/load -scenario verify-email -n 4000 -c 8 -rounds 5 | tee -a load.txt"
