# sls2siem — build, run the local cloud, test.
# `make run` and `make test` do all set-up on a fresh machine (Debian 12, root).

GO        ?= go
BIN       := bin
FUNCTION  := $(BIN)/sls2siem
LOCALCLOUD:= $(BIN)/localcloud
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -s -w -buildid= -X main.version=$(VERSION)
GOBUILD   := CGO_ENABLED=0 GOOS=linux GOARCH=amd64 $(GO) build -trimpath -ldflags '$(LDFLAGS)'

# The local cloud's settings (see README "Local cloud").
CONTRACT  ?= custom
DATA      ?= testdata/logstore

.PHONY: all build localcloud run test test-deps unit lint bench clean

all: build

## build: the function binary, linux/amd64, static, reproducible
build:
	$(GOBUILD) -o $(FUNCTION) .

localcloud:
	$(GO) build -o $(LOCALCLOUD) ./internal/localcloud/cmd/localcloud

## run: ship the sample logstore through the local FC emulator to a syslog receiver
##      (embedded by default; a real one when SYSLOG_HOST is set)
run: build localcloud
	$(LOCALCLOUD) -function $(FUNCTION) -contract $(CONTRACT) -data $(DATA)

## test-deps: install the real receivers the tests use (rsyslog, syslog-ng)
test-deps:
	bash scripts/install-receivers.sh

## test: install what the tests need, then vet, format check and every test with -race
test: test-deps lint
	SLS2SIEM_REQUIRE_RECEIVERS=1 $(GO) test -race -count=1 ./...

## lint: go vet and gofmt check
lint:
	$(GO) vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

## bench: encoder benchmarks
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./internal/format/

clean:
	rm -rf $(BIN)
