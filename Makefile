# The two promises of the README: `make demo` and `make test`, on a fresh machine.
# Everything they need (virtualenv, Python packages, Kafka jars) is installed here.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: install tools test lint demo kafka-up kafka-down bench clean

install: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[test]'
	touch $@

lint: install
	$(BIN)/ruff check .

test: install tools
	$(BIN)/ruff check .
	$(BIN)/bingxian kafka fetch
	$(BIN)/python -m pytest

# kcat backs the department documentation's command-line example, which the suite runs.
tools:
	@command -v kcat >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get update -qq && apt-get install -y -qq kcat >/dev/null; } || echo "kcat not installed: its documentation test will be skipped"

demo: install
	$(BIN)/bingxian kafka fetch
	$(BIN)/bingxian demo

kafka-up: install
	$(BIN)/bingxian kafka up

kafka-down: install
	$(BIN)/bingxian kafka down

bench: install
	$(BIN)/python -m bench.connectors
	$(BIN)/python -m bench.dedup
	$(BIN)/python -m bench.processor
	$(BIN)/python -m bench.e2e

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
