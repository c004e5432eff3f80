# Two commands do all set-up on a fresh machine:
#   make demo   create .venv, install, run the main pipeline on bundled data in paper mode
#   make test   create .venv with the dev extra, lint, run the whole suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench schemas clean

$(STAMP): pyproject.toml
	@echo "Setting up $(VENV): tradekit and its dependencies (ccxt, typer, pydantic, numpy,"
	@echo "TA-Lib, ...) and the dev tools (pytest, hypothesis, ruff). The first time this takes"
	@echo "1-2 minutes; later runs skip it until pyproject.toml changes."
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip install -e '.[dev]'
	touch $@

demo: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" bin/tk-demo

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: $(STAMP)
	$(BIN)/python bench/startup.py
	$(BIN)/python bench/indicators.py
	$(BIN)/python bench/replay.py
	$(BIN)/python bench/exchange.py
	$(BIN)/python bench/risk.py
	$(BIN)/python bench/exec.py
	$(BIN)/python bench/guard.py
	$(BIN)/python bench/news.py
	$(BIN)/python bench/report.py
	$(BIN)/python bench/parse.py tests/data/telegram/dev-set.jsonl
	$(BIN)/python bench/parse_tg.py
	$(BIN)/python bench/poll.py
	$(BIN)/python bench/backtest.py

schemas: $(STAMP)
	$(BIN)/tk schema --write schemas

clean:
	rm -rf $(VENV) memory/demo .pytest_cache .ruff_cache
