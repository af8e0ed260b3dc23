# Two commands: `make run` (the hub on embedded defaults) and `make test` (the whole suite).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.txt | cksum | cut -d' ' -f1)

.PHONY: install run test bench chaos browser lint clean

$(STAMP): requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements.txt
	rm -f $(VENV)/.installed-* && touch $(STAMP)

install: $(STAMP)

# Debian's Chromium for the browser tests (Playwright drives it; it never downloads a browser).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else sudo apt-get install -y -qq chromium; fi; }

run: install
	$(BIN)/python -m integration_hub.devserver

test: install browser
	$(BIN)/python -m pytest --create-db

lint: install
	$(BIN)/ruff check .

# Every benchmark, on DATABASE_URL/REDIS_URL when set, else on embedded servers (see bench/run.py).
bench: install
	$(BIN)/python bench/run.py

# The chaos run (tests/chaos/run.py): 2,000 orders while everything around the hub fails; SEED=n replays one.
chaos: install
	$(BIN)/python tests/chaos/run.py $(if $(SEED),--seed $(SEED))

clean:
	rm -rf $(VENV) var
