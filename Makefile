# pricefn — make run starts the engine locally; make test runs every check CI runs.
GO       ?= go
BIN      ?= bin/pricefn
ADDR     ?= :8080
BENCH    ?= .
BENCHTIME?= 1s

.PHONY: all build run test deps check fmt vet unit race fuzz fuzz-short chaos bench bench-pipeline clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/pricefn

# The whole engine (gateway, broker, ingress, pricer, aggregator) in one process.
run: build
	$(BIN) dev --addr $(ADDR)

# Everything CI runs: formatting, vet, the unit and end-to-end tests under
# the race detector. The tests start their own redis-server: deps installs
# Debian's when it is missing.
test: deps check race fuzz-short

deps:
	@command -v redis-server >/dev/null 2>&1 || { \
		echo "installing redis-server (the store tests start their own)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null; }
	@command -v redis-server >/dev/null 2>&1 || { echo "redis-server is needed by the tests: apt-get install redis-server"; exit 1; }

check: fmt vet

fmt:
	@out="$$(gofmt -l .)"; if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

unit:
	$(GO) test -count=1 ./...

# The concurrent parts run under the race detector. The pricing maths
# (pricing/..., and batch's reference sweeps) are single-goroutine numerics
# that the detector slows tenfold: they run without it, and batch's
# concurrent pricing tests run under it.
RACE_PKGS = $$($(GO) list ./... | grep -v -e '/pricing$$' -e '/pricing/' -e '/batch$$')
race:
	$(GO) test -race -count=1 -timeout 20m $(RACE_PKGS)
	$(GO) test -race -count=1 -run 'TestPriceConcurrent|TestPriceCancelled' ./batch/
	$(GO) test -count=1 -timeout 20m ./pricing/... ./batch/

# Fuzz targets (package:Target), corpus in each package's testdata/fuzz.
# make test runs each for FUZZ_SHORT; make fuzz for FUZZTIME (60s) each.
FUZZ_TARGETS = batch:FuzzBatch batch:FuzzResultsRoundTrip events:FuzzDecode \
	functions/pricer:FuzzHandle functions/aggregator:FuzzHandle functions/ingress:FuzzSubmit \
	auth:FuzzParseTokens
FUZZTIME   ?= 60s
FUZZ_SHORT ?= 2s

fuzz:
	@for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; fn=$${t#*:}; echo "fuzz $$pkg $$fn ($(FUZZTIME))"; \
		$(GO) test -run '^$$' -fuzz "^$$fn\$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 10s ./$$pkg || exit 1; \
	done

fuzz-short:
	@$(MAKE) --no-print-directory fuzz FUZZTIME=$(FUZZ_SHORT)

# The state issue's check with real processes (two minutes): two aggregator
# replicas on one redis-server, pricer and aggregator SIGKILLed mid-batch,
# the pricer away for 30 s; results must equal pricefn price's.
chaos:
	bench/chaos.sh

# Benchmarks: ns per trade for each engine and the batch pricer.
bench:
	$(GO) test -run '^$$' -bench '$(BENCH)' -benchmem -benchtime $(BENCHTIME) ./pricing/... ./batch/...

# End to end: a batch of N Europeans through pricefn price and through the
# pipeline (pricefn dev + submit), timed, results compared.
N ?= 100000
bench-pipeline: build
	N=$(N) bench/pipeline.sh

clean:
	rm -rf bin
