# sls2siem — build, package, deploy, run the local cloud, test.
# `make run` and `make test` do all set-up on a fresh machine (Debian 12, root).

GO        ?= go
BIN       := bin
FUNCTION  := $(BIN)/sls2siem
LOCALCLOUD:= $(BIN)/localcloud
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT    ?= $(shell git rev-parse HEAD 2>/dev/null)
LDFLAGS   := -s -w -buildid= -X main.version=$(VERSION) -X main.commit=$(COMMIT)
GOBUILD   := CGO_ENABLED=0 GOOS=linux GOARCH=amd64 $(GO) build -trimpath -ldflags '$(LDFLAGS)'

# Deployment (docs/deploy.md): the code zip s.yaml uploads, the layer zip of
# the SIEM's CA and client certificate, the pinned Serverless Devs CLI.
DIST      := dist
PACKAGE   := $(DIST)/sls2siem.zip
LAYER     := $(DIST)/sls2siem-layer.zip
LAYER_CA  ?= layer/ssl/siem-ca.pem
LAYER_CERT?=
LAYER_KEY ?=
S_STAMP   := deploy/node_modules/.installed
S         ?= deploy/node_modules/.bin/s

# Every package that has a benchmark.
BENCH_PKGS = $(shell grep -rl --include='*_test.go' --exclude-dir=node_modules --exclude-dir=.git '^func Benchmark' . | xargs -r -n1 dirname | sort -u)

# The local cloud's settings (docs/local-cloud.md).
CONTRACT  ?= custom
DATA      ?= testdata/logstore
MODE      ?= trigger
SCENARIO  ?=

.PHONY: all build package layer deploy deploy-deps preview localcloud run serve receiver test test-deps nodesdk-deps unit lint bench sim clean

all: build

## build: the function binary, linux/amd64, static, reproducible
build:
	$(GOBUILD) -o $(FUNCTION) .

## package: the code zip s.yaml deploys ($(PACKAGE)): the binary at its root,
##          executable, reproducible
package: build
	$(GO) run ./scripts/mkzip -o $(PACKAGE) $(FUNCTION)=sls2siem:0755

## layer: the layer zip ($(LAYER)) of the SIEM's CA bundle (LAYER_CA) and an
##        optional client certificate and key (LAYER_CERT, LAYER_KEY), unpacked under /opt/ssl;
##        without a CA bundle it fails, unless LAYER_CA=none says the SIEM needs none
layer: build
	GO=$(GO) bash layer/build.sh -bin $(FUNCTION) -ca "$(LAYER_CA)" $(if $(LAYER_CERT)$(LAYER_KEY),-cert "$(LAYER_CERT)" -key "$(LAYER_KEY)") -o $(LAYER)

## deploy-deps: the Serverless Devs CLI pinned in deploy/package-lock.json
deploy-deps: $(S_STAMP)

$(S_STAMP): deploy/package.json deploy/package-lock.json
	bash scripts/install-deploy-tools.sh
	touch $@

## preview: render s.yaml with the current environment (s preview)
preview: deploy-deps
	$(S) preview

## deploy: s deploy (its pre-deploy actions run make package); DEPLOY_FLAGS=-y
##         answers s's questions with yes
deploy: deploy-deps
	$(S) deploy $(DEPLOY_FLAGS)

localcloud:
	$(GO) build -o $(LOCALCLOUD) ./internal/localcloud/cmd/localcloud

## run: ship the sample logstore through the local FC emulator to a syslog receiver
##      (embedded by default; a real one when SYSLOG_HOST is set);
##      MODE=consume: two `sls2siem consume` daemons share it as a consumer group;
##      SCENARIO=outage: the receiver refuses connections past the trigger's retries, the ranges
##      are dead-lettered, the receiver comes back and `sls2siem redrive` ships them (0 lost, else exit 1)
run: build localcloud
	$(LOCALCLOUD) -mode $(MODE) -function $(FUNCTION) -contract $(CONTRACT) -data $(DATA)$(if $(SCENARIO), -scenario $(SCENARIO))

## test-deps: install the real receivers the tests use (rsyslog, syslog-ng);
##            deploy-deps installs the s CLI the s.yaml tests render with
## serve: the local cloud as a service (SLS emulator with the sample and an empty
##        dead-letter logstore on SERVE_ADDR, trigger events in bin/events) until Ctrl-C;
##        it prints the export lines for running bin/sls2siem by hand (docs/local-cloud.md)
SERVE_ADDR ?= 127.0.0.1:18080
serve: build localcloud
	$(LOCALCLOUD) -mode serve -addr $(SERVE_ADDR) -events $(BIN)/events -data $(DATA)

## receiver: a syslog receiver on RECEIVER_ADDR, TCP (lf or octet-counting framing, any
##           number of connections) and UDP, until Ctrl-C; every message is one line of
##           RECEIVER_OUT (truncated at start; stdout when empty)
RECEIVER_ADDR ?= 127.0.0.1:15514
RECEIVER_OUT  ?=
receiver: localcloud
	$(LOCALCLOUD) -mode receive -addr $(RECEIVER_ADDR)$(if $(RECEIVER_OUT), -out $(RECEIVER_OUT))

test-deps:
	bash scripts/install-receivers.sh

## nodesdk-deps: the Node.js SLS SDKs pinned in $(NODESDK)/package-lock.json (the emulator's other clients)
NODESDK := internal/localcloud/nodesdk/testdata
nodesdk-deps: $(NODESDK)/node_modules/.installed
$(NODESDK)/node_modules/.installed: $(NODESDK)/package.json $(NODESDK)/package-lock.json
	bash scripts/install-nodesdk.sh
	touch $@

## test: install what the tests need, then vet, format check and every test with -race,
##       then the delivery simulator without -race (about 45 s of fresh schedules, and
##       the planted-bug tests, which -race makes too slow)
test: test-deps deploy-deps nodesdk-deps lint
	SLS2SIEM_REQUIRE_RECEIVERS=1 $(GO) test -race -count=1 -timeout 30m ./...
	$(GO) test -count=1 -run 'TestSim' $(SIM_PKGS)

## sim: the delivery simulator over SEEDS fresh schedules (from SIM_FIRST, default
##      drawn from the clock); a failing seed replays with
##      go test ./internal/delivery/sim -run 'TestSim$$' -seed N -v
SEEDS     ?= 100000
SIM_FIRST ?= 0
SIM_PKGS  := ./internal/delivery/sim ./internal/relp ./internal/ship ./internal/ledger
sim:
	$(GO) test -count=1 -timeout 0 -run 'TestSim$$' -v ./internal/delivery/sim -sim.seeds $(SEEDS) -sim.first $(SIM_FIRST)

## lint: go vet and gofmt check
lint:
	$(GO) vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

## bench: the shipping report (1M logs: decode and send ceilings, end to end into a
##        sink and into rsyslog over TCP and TLS, peak RSS, warm handshakes), then every
##        package benchmark (encoders per format, decoder, cold start); all into $(BENCH_OUT)
BENCH_OUT ?= bench-results.txt
bench: build test-deps
	SLS2SIEM_BENCH_OUT=$(CURDIR)/$(BENCH_OUT) $(GO) test -run '^$$' -bench . -benchtime 1x -timeout 30m ./internal/e2e
	$(GO) test -run '^$$' -bench . -benchmem $(filter-out ./internal/e2e,$(BENCH_PKGS)) | tee -a $(BENCH_OUT)
	@echo "bench: figures written to $(BENCH_OUT)"

clean:
	rm -rf $(BIN) $(DIST)
