# pricefn — make run starts the engine locally; make test runs every check CI runs.
GO       ?= go
BIN      ?= bin/pricefn
ADDR     ?= :8080
BENCH    ?= .
BENCHTIME?= 1s

.PHONY: all build run test deps check fmt vet unit race fuzz fuzz-short chaos bench bench-pipeline bench-compare clean images deploy deploy-helm cluster-test observe

all: build

build:
	$(GO) build -o $(BIN) ./cmd/pricefn
	$(GO) build -o $(dir $(BIN))pricefn-plan ./cmd/pricefn-plan

# The whole engine (gateway, broker, ingress, pricer, aggregator) in one process.
run: build
	$(BIN) dev --addr $(ADDR)

# Everything CI runs: formatting, vet, the unit and end-to-end tests under
# the race detector. The tests start their own redis-server and prometheus
# and drive chromium (the console): deps installs Debian's redis-server and
# chromium when missing, the monitoring test its prometheus.
test: deps check race fuzz-short

deps:
	@command -v redis-server >/dev/null 2>&1 || { \
		echo "installing redis-server (the store tests start their own)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null; }
	@command -v redis-server >/dev/null 2>&1 || { echo "redis-server is needed by the tests: apt-get install redis-server"; exit 1; }
	@command -v chromium >/dev/null 2>&1 || { \
		echo "installing chromium (the console's browser tests drive Debian's)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }
	@command -v chromium >/dev/null 2>&1 || { echo "chromium is needed by the console's tests: apt-get install chromium"; exit 1; }

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
# concurrent pricing tests run under it. So are knative/'s checks of the
# manifests and the chart (Helm renders, Knative's validation, no
# goroutine of ours; 57 s under the detector, 10 s without).
RACE_PKGS = $$($(GO) list ./... | grep -v -e '/pricing$$' -e '/pricing/' -e '/batch$$' -e '/knative$$')
race:
	$(GO) test -race -count=1 -timeout 20m $(RACE_PKGS)
	$(GO) test -race -count=1 -run 'TestPriceConcurrent|TestPriceCancelled|TestDecodePlanParallel|TestResultsCheck|TestReleaseReusesTrades|TestPricingSharesItsCores|TestScenariosShareTheCores|TestPriceTakesNoUnitPastTheEnd|TestStreamPriceTo|TestCompileScratchServesAnotherJob' ./batch/
	$(GO) test -count=1 -timeout 20m ./pricing/... ./batch/ ./knative/

# Fuzz targets (package:Target), corpus in each package's testdata/fuzz.
# make test runs each for FUZZ_SHORT; make fuzz for FUZZTIME (60s) each.
# FUZZ_SHORT is a count of inputs, not a duration: Go 1.26's fuzzing
# coordinator can fail a target with a bare "context deadline exceeded"
# when a duration ends while a worker is mid-input (go.dev/issue/75804,
# fixed in Go 1.27), which a loaded 2-core machine hits now and then.
FUZZ_TARGETS = batch:FuzzBatch batch:FuzzResultsRoundTrip batch:FuzzFlatMembers batch:FuzzLayout events:FuzzDecode \
	functions/pricer:FuzzHandle functions/aggregator:FuzzHandle functions/ingress:FuzzSubmit \
	auth:FuzzParseTokens
FUZZTIME   ?= 60s
FUZZ_SHORT ?= 3000x

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
# pipeline (pricefn dev + submit), timed, results compared; then again once
# FILL more batches have filled the engine's store (default: enough to)
# and up to SETTLE more its heap's growth (until its peak RSS settles);
# then compute-heavy batches (200 arithmetic Asians, 2,000 FD Americans)
# both ways, and the per-chunk overhead in µs of CHUNKS one-trade batches.
N ?= 100000
RUNS ?= 5
CHUNKS ?= 60
bench-pipeline: build
	N=$(N) RUNS=$(RUNS) FILL=$(FILL) SETTLE=$(SETTLE) CHUNKS=$(CHUNKS) bench/pipeline.sh

# Our engines against QuantLib's on the same trades, one invocation: a
# table of figure, ours, QuantLib, ratio (bench/README.md). Builds the C++
# side (bench/quantlib) when missing; MIN is the least CPU seconds a figure.
MIN ?= 0.3
bench-compare:
	MIN=$(MIN) bench/compare.sh

# Knative, for users with a registry and ko (not run here: neither is
# reachable). KO_DOCKER_REPO is where ko pushes; knative/ and the chart use
# namespace pricefn. deploy creates the placeholder Secrets of
# knative/secrets.yaml only where none exist, never over real ones.
KO_DOCKER_REPO ?= registry.example.com/pricefn
NAMESPACE      ?= pricefn
HELM_ARGS      ?=
KO             ?= KO_DOCKER_REPO=$(KO_DOCKER_REPO) ko

images:
	$(KO) build --preserve-import-paths ./cmd/pricefn ./functions/pricer/cmd

deploy:
	kubectl create namespace pricefn --dry-run=client -o yaml | kubectl apply -f -
	kubectl create -f knative/secrets.yaml 2>/dev/null || true
	$(KO) resolve --preserve-import-paths -f knative/broker.yaml -f knative/redis.yaml \
		-f knative/services.yaml -f knative/triggers.yaml | kubectl apply -f -

deploy-helm:
	helm upgrade --install pricefn charts/pricefn --namespace $(NAMESPACE) --create-namespace \
		--set image=$$($(KO) build --preserve-import-paths ./cmd/pricefn) \
		$(foreach f,$(wildcard knative/monitoring/*.yaml),--set-file monitoring.objects.$(basename $(notdir $(f)))=$(f)) \
		$(foreach f,$(wildcard knative/monitoring/*.json),--set-file monitoring.dashboards.$(basename $(notdir $(f)))=$(f)) \
		$(HELM_ARGS)

# A real control plane (kube-apiserver, etcd, controller-manager,
# scheduler, kwok, Knative Serving's webhook, controller and autoscaler)
# accepts and reconciles knative/ and the chart. Binaries are built once
# into ~/.cache/pricefn-cluster (PRICEFN_CLUSTER_CACHE): a cold build takes
# ~33 CPU-minutes. Not part of make test.
cluster-test:
	cd cluster && $(GO) test -count=1 -timeout 100m -v -run TestCluster .

# Debian's prometheus (installed when missing) scraping a running
# "pricefn dev" on its internal address, where it serves /metrics with or
# without tokens (its gateway serves them only without): start it with
# "pricefn dev --internal-addr $(INTERNAL)". Uses
# knative/monitoring/prometheus.yml; the dashboards there work against it.
INTERNAL  ?= 127.0.0.1:9464
PROM_ADDR ?= 127.0.0.1:9090
observe:
	@command -v prometheus >/dev/null 2>&1 || { \
		echo "installing prometheus (Debian's package)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null; }
	@command -v prometheus >/dev/null 2>&1 || { echo "make observe needs prometheus: apt-get install prometheus"; exit 1; }
	@if command -v curl >/dev/null 2>&1 && ! curl -fsS -o /dev/null http://$(INTERNAL)/metrics; then \
		echo "no pricefn dev at http://$(INTERNAL)/metrics yet: start it with 'pricefn dev --internal-addr $(INTERNAL)'"; fi
	@dir=$$(mktemp -d) && sed 's/127\.0\.0\.1:9464/$(INTERNAL)/' knative/monitoring/prometheus.yml >$$dir/prometheus.yml && \
		echo "Prometheus: http://$(PROM_ADDR) (scraping http://$(INTERNAL)/metrics every 5s; data in $$dir; Ctrl-C stops it)" && \
		exec prometheus --config.file=$$dir/prometheus.yml --storage.tsdb.path=$$dir/data \
			--web.listen-address=$(PROM_ADDR) --log.level=warn

clean:
	rm -rf bin
