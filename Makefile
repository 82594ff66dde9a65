# One entry point for a fresh clone: `make test` and `make conform` bootstrap
# everything they need (venv, Python packages, Go host, toxiproxy-server).
# Every step is idempotent: stamps and file targets skip work already done.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
TOOLS := $(CURDIR)/.tools
GOBIN_DIR := $(TOOLS)/bin
TOXIPROXY_VERSION := v2.5.0
PYTEST_WORKERS ?= auto

.PHONY: bootstrap venv gohost toxiproxy test conform lint clean

bootstrap: venv gohost toxiproxy

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	@touch $@

# The Go host (harness/gometa_host) runs one genuine gometa member; gometa is a
# Go module dependency fetched through the module proxy, never vendored.
gohost: $(GOBIN_DIR)/gometa-host

GOHOST_SRC := $(shell find harness/gometa_host -name '*.go' -o -name 'go.mod' -o -name 'go.sum' 2>/dev/null)

$(GOBIN_DIR)/gometa-host: $(GOHOST_SRC)
	@command -v go >/dev/null || { echo "ERROR: Go toolchain not found; the Go target cannot be built" >&2; exit 1; }
	@mkdir -p $(GOBIN_DIR)
	cd harness/gometa_host && go build -buildvcs=false -o $(GOBIN_DIR)/gometa-host .

toxiproxy: $(GOBIN_DIR)/toxiproxy-server

$(GOBIN_DIR)/toxiproxy-server:
	@command -v go >/dev/null || { echo "ERROR: Go toolchain not found; cannot install toxiproxy-server" >&2; exit 1; }
	@mkdir -p $(GOBIN_DIR)
	GOBIN=$(TOOLS)/toxiproxy go install github.com/Shopify/toxiproxy/v2/cmd/server@$(TOXIPROXY_VERSION)
	mv $(TOOLS)/toxiproxy/server $@

lint: venv
	$(VENV)/bin/ruff check wire refnode harness conformance tests
	$(VENV)/bin/mypy

test: bootstrap
	$(VENV)/bin/ruff check wire refnode harness conformance tests
	$(VENV)/bin/mypy
	PATH=$(GOBIN_DIR):$$PATH $(PY) -m pytest -n $(PYTEST_WORKERS) -p no:cacheprovider

conform: bootstrap
	@mkdir -p reports
	@if [ -f conformance/cli.py ]; then \
		PATH=$(GOBIN_DIR):$$PATH $(VENV)/bin/gmc conform --all --report-dir reports; \
	else \
		echo "make conform: the conformance suite (conformance/) is not there yet;" >&2; \
		echo "bootstrap is done; run 'make test' for everything that exists." >&2; \
		exit 2; \
	fi

clean:
	rm -rf $(VENV) $(TOOLS) reports
