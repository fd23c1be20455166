# Samtycke — the entry point for people and CI alike (.ci/run calls `make test`).
# Everything local lives under .data/ (binaries, service data, npm cache).

GO        ?= go
VERSION   ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -s -w -X main.version=$(VERSION)
BIN       := .data/bin/samtycke

# go test arguments; override on the command line, e.g. make test TEST_ARGS='-run TestX ./server/...'
TEST_ARGS  ?= -race -count=1 -timeout 20m ./...
BENCH_ARGS ?= -run '^$$' -bench . -benchtime 1x ./...
# -fuzz takes one package per run: each package here is fuzzed in turn, every Fuzz target of it
# for FUZZTIME (`-fuzz .` alone refuses a package with more than one target).
FUZZ_PKGS ?= ./server/internal/bundle ./server/internal/consent ./server/internal/siteconfig ./server/internal/spool
FUZZTIME  ?= 60s
STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@latest
GOFMT_DIRS = $(wildcard server banner-js dashboard schemas)

.DEFAULT_GOAL := help

.PHONY: help build run test bench fuzz lint services-up services-down clean distclean wordpress-plugin

help: ## list the targets
	@echo 'Samtycke — make targets:'
	@awk 'BEGIN { FS = ":.*## " } /^[a-z][a-z-]*:.*## / { printf "  %-14s %s\n", $$1, $$2 }' $(MAKEFILE_LIST)

build: ## build .data/bin/samtycke (static, version from git)
	@mkdir -p $(dir $(BIN))
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN) ./server/cmd/samtycke

run: build ## start ClickHouse + Redis if needed and serve the demo on http://127.0.0.1:8080
	@.ci/dev-run

test: ## every test: chdb replay, gofmt, vet, unit, integration (ClickHouse, Redis), browser
	@.ci/test test $(TEST_ARGS)

bench: ## the benchmarks, with the services up
	@.ci/test bench $(BENCH_ARGS)

fuzz: ## fuzz every Fuzz target in FUZZ_PKGS for FUZZTIME each
	@set -e; for pkg in $(FUZZ_PKGS); do \
		targets=$$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); \
		[ -n "$$targets" ] || { echo "fuzz: no Fuzz targets in $$pkg" >&2; exit 1; }; \
		for t in $$targets; do \
			echo "== $(GO) test -run '^$$' -fuzz '^$$t$$' -fuzztime $(FUZZTIME) $$pkg"; \
			$(GO) test -run '^$$' -fuzz "^$$t\$$" -fuzztime $(FUZZTIME) $$pkg; \
		done; \
	done

lint: ## gofmt, go vet, staticcheck
	@out=$$(gofmt -l $(GOFMT_DIRS)); if [ -n "$$out" ]; then echo "gofmt -w needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

wordpress-plugin: ## zip the WordPress plugin into .data/dist/samtycke-wordpress.zip
	@mkdir -p .data/dist && rm -f .data/dist/samtycke-wordpress.zip
	cd integrations/wordpress && zip -qr ../../.data/dist/samtycke-wordpress.zip samtycke

services-up: ## start ClickHouse and Redis (if needed) and print their env
	@.ci/services up

services-down: ## stop the services .ci/services started
	@.ci/services down

clean: ## remove built binaries
	rm -rf .data/bin

distclean: ## stop our services and remove .data entirely
	@.ci/services down
	rm -rf .data
