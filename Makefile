# firehose-drain — see README.md.
GO       ?= go
DATA     ?= ./.aient
LISTEN   ?= 127.0.0.1:8080
GOFLAGS_LAMBDA = CGO_ENABLED=0 GOOS=linux GOARCH=arm64
LDFLAGS  = -s -w
BENCHCOUNT ?= 6
FUZZTIME ?= 30s

.PHONY: run install test test-long lint lint-cfn-lint-present lint-tools bench bench-console bench-rss fuzz build clean storm chaos

# golangci-lint, pinned, built by `make lint` itself from the Go module proxy into a cache
# outside the work tree (kept across clones on one machine; a fresh machine builds it once).
GOLANGCI_LINT_VERSION ?= v2.15.0
TOOLS_DIR ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/firehose-drain/tools
GOLANGCI_LINT = $(TOOLS_DIR)/golangci-lint-$(GOLANGCI_LINT_VERSION)/golangci-lint

## run: the local server (ingest + grouper + pages) over the embedded store in $(DATA)
run:
	$(GO) run ./cmd/aient serve --listen $(LISTEN) --data $(DATA)

## install: the aient command into $(go env GOPATH)/bin (go install ./cmd/aient)
install:
	$(GO) install ./cmd/aient

## test: everything CI runs — make lint (vet's analyzers, gofmt, golangci-lint, cfn-lint), then the
## race-enabled tests (moto-backed AWS tests included)
# -vet=off: go test's own vet pass is ten of the analyzers make lint has just run (golangci-lint's
# govet, below). -ldflags=-w: test binaries without DWARF, which only a debugger reads (stack traces
# and race reports come from the runtime's own line tables): about a third less link time each.
# RACE_UNINSTRUMENTED: every package is race-instrumented but these, SQLite's C translated to Go
# (modernc.org/sqlite/lib) and the C library and allocator it runs on, whose every memory access
# the detector would track: 82 CPU s for the embedded store's tests instead of 15. The races make test
# looks for are this module's: its goroutines reach SQLite only through database/sql (one goroutine
# per connection at a time), and SQLite's own locks are Go sync primitives the detector still sees.
# Not modernc.org/sqlite, the driver: it instantiates sync.Map's generic code, and the linker keeps
# one copy of an instantiation for the whole binary, uninstrumented then for everyone (false races
# in encoding/json's cache, seen); the packages listed instantiate no generic code of the standard
# library. `go test -race ./...` without the Makefile instruments everything.
RACE_UNINSTRUMENTED ?= modernc.org/sqlite/lib modernc.org/libc/... modernc.org/memory
# TEST_FIRST: the packages whose tests take longest, longest first (go test builds and starts
# packages in the order it is given them, ./... in alphabetical order): one of them started
# last would leave the other core idle while it ends. The rest follow in ./...'s order.
TEST_FIRST ?= ./pkg/problems/ddb ./cmd/aient/cli ./internal/testkit/deploytest ./pkg/embedded \
	./internal/testkit/chaos ./pkg/cwpayload ./pkg/drains/ddb ./pkg/ingest ./pkg/console
# TEST_P: test binaries (and builds) at once; go test's default is one per core. A running test
# binary keeps 0.78 of a core busy on average (make test on a clean clone: 274 CPU s over 353 s of
# test binaries running, the rest of a core waits on moto, a browser, a subprocess or a timer),
# so one more than the cores keeps them busy.
TEST_P ?= $(shell n=$$(nproc 2>/dev/null || echo 2); echo $$((n + 1)))
test: lint
	$(GO) test -race -count=1 -p $(TEST_P) -vet=off -ldflags=-w $(foreach p,$(RACE_UNINSTRUMENTED),-gcflags='$(p)=-race=false') $(TEST_FIRST) ./...

## test-long: the tests make test runs at a smaller size, at full size (AIENT_TEST_LONG=1, see
## internal/testkit/scale): the log store oracle over 20,000 lines, 200 MB streamed, ...
test-long:
	AIENT_TEST_LONG=1 $(GO) test -race -count=1 -timeout 30m ./pkg/embedded ./pkg/otlplogs ./pkg/console ./pkg/cwpayload

## lint: gofmt, golangci-lint (.golangci.yml: govet, gofumpt, staticcheck, errcheck, ...) and cfn-lint
# No separate `go vet ./...`: golangci-lint's govet (enable-all in .golangci.yml) runs every
# analyzer go vet runs, and more, except loopclosure, which it leaves off for modules at go 1.22
# or later, where loopclosure reports nothing (each iteration has its own variable).
lint: lint-cfn-lint-present $(GOLANGCI_LINT)
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GOLANGCI_LINT) run --allow-parallel-runners ./...
	@if [ -f template.yaml ]; then cfn-lint template.yaml deploy/*.yaml; fi

# lint-cfn-lint-present fails first, before any other lint step runs, when cfn-lint is not on
# the PATH, saying what to install (cmd/aient/cli's TestMakeLintWithoutCfnLint runs it).
lint-cfn-lint-present:
	@command -v cfn-lint >/dev/null 2>&1 || { echo "make lint needs cfn-lint (with the SAM translator): pip install cfn-lint" >&2; exit 1; }

## lint-tools: build the pinned golangci-lint (make lint does it when it is missing)
lint-tools: $(GOLANGCI_LINT)

$(GOLANGCI_LINT):
	@echo "building golangci-lint $(GOLANGCI_LINT_VERSION) into $(@D) (once per machine)"
	@mkdir -p $(@D)
	GOBIN=$(@D) $(GO) install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION)

## bench: the ingest and grouping benchmarks, $(BENCHCOUNT) counts, summarised by benchstat
bench:
	$(GO) test -run '^$$' -bench . -benchmem -count $(BENCHCOUNT) -cpu 1 ./... | tee bench.txt
	@command -v benchstat >/dev/null 2>&1 || $(GO) install golang.org/x/perf/cmd/benchstat@latest
	@"$$($(GO) env GOPATH)/bin/benchstat" bench.txt

## bench-console: the console's p50/p99 over 10,000 problems and 1,000,000 occurrences on the
## embedded store (generated once in $(CONSOLE_BENCH_DIR); minutes the first time)
CONSOLE_BENCH_DIR ?= $(CURDIR)/.bench-console
bench-console:
	AIENT_CONSOLE_BENCH_DIR=$(CONSOLE_BENCH_DIR) $(GO) test -run '^$$' -bench BenchmarkConsole -benchtime 50x -count $(BENCHCOUNT) -cpu 1 -timeout 60m ./pkg/console | tee bench-console.txt
	@command -v benchstat >/dev/null 2>&1 || $(GO) install golang.org/x/perf/cmd/benchstat@latest
	@"$$($(GO) env GOPATH)/bin/benchstat" bench-console.txt

## bench-logs: the local log store: search latency (p50/p99 per kind of search) over 10,000,000
## generated lines (generated once into $(LOGS_BENCH_DIR), outside the tree: resumable, ~30 min
## on a shared machine the first time), then `aient serve` ingesting while searching
LOGS_BENCH_DIR ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/firehose-drain/bench-logs
LOGS_BENCH_LINES ?= 10000000
.PHONY: bench-logs
bench-logs:
	AIENT_LOGS_BENCH_DIR=$(LOGS_BENCH_DIR) AIENT_LOGS_BENCH_LINES=$(LOGS_BENCH_LINES) $(GO) test -run '^$$' -bench BenchmarkLogSearch -benchtime 1300x -count $(BENCHCOUNT) -cpu 1 -timeout 180m ./pkg/embedded | tee bench-logs.txt
	$(GO) test -run '^$$' -bench 'BenchmarkLogPut$$' -benchtime 60x -count $(BENCHCOUNT) -cpu 1 ./pkg/embedded | tee -a bench-logs.txt
	$(GO) test -run '^$$' -bench BenchmarkServeLogStore -benchtime 20x -count $(BENCHCOUNT) -cpu 1 -timeout 60m ./cmd/aient/cli | tee -a bench-logs.txt
	@command -v benchstat >/dev/null 2>&1 || $(GO) install golang.org/x/perf/cmd/benchstat@latest
	@"$$($(GO) env GOPATH)/bin/benchstat" bench-logs.txt

## bench-rss: peak RSS of the real ingest binary on a 5.5 MB delivery beside the OpenTelemetry
## Collector's own Firehose receiver on the same body (bench/collector-firehose, its own module)
COLLECTOR_FIREHOSE = $(TOOLS_DIR)/collector-firehose
bench-rss:
	cd bench/collector-firehose && $(GO) build -o $(COLLECTOR_FIREHOSE) .
	AIENT_BENCH_COLLECTOR_FIREHOSE=$(COLLECTOR_FIREHOSE) $(GO) test -run '^$$' -bench BenchmarkPeakRSS -benchtime 1x -count $(BENCHCOUNT) -timeout 60m ./internal/testkit/deploytest | tee bench-rss.txt
	@command -v benchstat >/dev/null 2>&1 || $(GO) install golang.org/x/perf/cmd/benchstat@latest
	@"$$($(GO) env GOPATH)/bin/benchstat" bench-rss.txt

## storm: the grouper under simulated error storms, 30 virtual seconds each (make test runs 1)
storm:
	$(GO) test -count=1 -run '^TestStorm$$' -v -timeout 30m ./internal/testkit/stormsim -args -storm.seconds=30

## chaos: the long chaos drill — faults before moto under the real functions, SIGKILL loop on
## aient serve — and its summary table (make test runs a short one)
chaos:
	$(GO) test -count=1 -v -run '^TestDrill' -timeout 60m ./internal/testkit/chaos -args -chaos.long

## fuzz: every fuzz target for $(FUZZTIME) each
fuzz:
	@for pkg in $$($(GO) list ./...); do \
	  for t in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	    echo "== $$pkg $$t"; $(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done

## build: the Lambda bootstrap binaries for linux/arm64 in bin/
build:
	$(GOFLAGS_LAMBDA) $(GO) build -tags lambda.norpc -trimpath -ldflags '$(LDFLAGS)' -o bin/ingest/bootstrap ./functions/ingest
	$(GOFLAGS_LAMBDA) $(GO) build -tags lambda.norpc -trimpath -ldflags '$(LDFLAGS)' -o bin/grouper/bootstrap ./functions/grouper
	$(GOFLAGS_LAMBDA) $(GO) build -tags lambda.norpc -trimpath -ldflags '$(LDFLAGS)' -o bin/alerts/bootstrap ./functions/alerts
	$(GOFLAGS_LAMBDA) $(GO) build -tags lambda.norpc -trimpath -ldflags '$(LDFLAGS)' -o bin/sources/bootstrap ./functions/sources

# SAM (BuildMethod: makefile) calls these with ARTIFACTS_DIR set.
build-IngestFunction:
	$(GOFLAGS_LAMBDA) $(GO) build -tags lambda.norpc -trimpath -ldflags '$(LDFLAGS)' -o $(ARTIFACTS_DIR)/bootstrap ./functions/ingest

build-GrouperFunction:
	$(GOFLAGS_LAMBDA) $(GO) build -tags lambda.norpc -trimpath -ldflags '$(LDFLAGS)' -o $(ARTIFACTS_DIR)/bootstrap ./functions/grouper

build-AlertsFunction:
	$(GOFLAGS_LAMBDA) $(GO) build -tags lambda.norpc -trimpath -ldflags '$(LDFLAGS)' -o $(ARTIFACTS_DIR)/bootstrap ./functions/alerts

# The source functions are one binary (functions/sources); AIENT_SOURCE_KIND picks the kind.
build-KinesisSourceFunction:
	$(GOFLAGS_LAMBDA) $(GO) build -tags lambda.norpc -trimpath -ldflags '$(LDFLAGS)' -o $(ARTIFACTS_DIR)/bootstrap ./functions/sources

build-S3SourceFunction:
	$(GOFLAGS_LAMBDA) $(GO) build -tags lambda.norpc -trimpath -ldflags '$(LDFLAGS)' -o $(ARTIFACTS_DIR)/bootstrap ./functions/sources

build-SubscriptionSourceFunction:
	$(GOFLAGS_LAMBDA) $(GO) build -tags lambda.norpc -trimpath -ldflags '$(LDFLAGS)' -o $(ARTIFACTS_DIR)/bootstrap ./functions/sources

clean:
	rm -rf bin bench.txt bench-console.txt .bench-console bench-logs.txt
