# The two commands of the README: `make serve` and `make test`. Everything else is
# set up on the way, so both work on a fresh machine.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
DEMO_DB ?= var/demo.db
DEMO_ADMIN ?= admin@demo.workroute
DEMO_PASSWORD ?= Demo-admin-1
PORT ?= 8443

.PHONY: serve test lint typecheck unit bench system-deps clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

# PostgreSQL for the store tests and Chromium for the console's browser tests;
# installed from Debian's packages when missing (never a browser download).
system-deps:
	@if ! command -v chromium >/dev/null 2>&1; then \
	  echo "installing Chromium from Debian packages"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; \
	fi
	@if ! command -v initdb >/dev/null 2>&1 && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
	  echo "installing PostgreSQL from Debian packages"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq postgresql >/dev/null; \
	fi

# formulon, the executable reference of the formula differential test (npm).
NODE_STAMP := tests/differential/node_modules/.installed-stamp
$(NODE_STAMP): tests/differential/package-lock.json
	@command -v npm >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq nodejs npm >/dev/null; }
	cd tests/differential && npm ci --silent --no-audit --no-fund
	touch $(NODE_STAMP)

serve: $(STAMP)
	@mkdir -p $(dir $(DEMO_DB))
	$(BIN)/workroute init --db $(DEMO_DB) --admin-username $(DEMO_ADMIN) \
	  --admin-password $(DEMO_PASSWORD) --demo --exists-ok
	$(BIN)/workroute serve --db $(DEMO_DB) --port $(PORT) --dev-tls \
	  --show-logins "Logins: $(DEMO_ADMIN) / $(DEMO_PASSWORD) (admin); agents agent1..agent4@demo.workroute, supervisor@demo.workroute / Demo-agent-1"

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: $(STAMP)
	$(BIN)/mypy src tests bench

test: $(STAMP) system-deps $(NODE_STAMP) lint typecheck
	WORKROUTE_REQUIRE_POSTGRES=1 WORKROUTE_REQUIRE_FORMULON=1 WORKROUTE_REQUIRE_CHROMIUM=1 $(BIN)/pytest -q

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
