# The two set-up commands of the README: `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
DB     ?= demo.db

.PHONY: install demo test test-sqlite test-postgres chromium lint bench clean

$(BIN)/newsdesk: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	@touch $@

install: $(BIN)/newsdesk

## Install, then run the main job on the bundled sample data and show the result.
demo: install
	rm -f $(DB) $(DB)-wal $(DB)-shm
	$(BIN)/newsdesk --db $(DB) ingest samples/
	$(BIN)/newsdesk --db $(DB) articles
	@for id in $$($(BIN)/newsdesk --db $(DB) export articles | $(BIN)/python -c \
		'import json,sys; [print(json.loads(l)["id"]) for l in sys.stdin]'); do \
		echo; $(BIN)/newsdesk --db $(DB) show $$id; done
	@echo; $(BIN)/newsdesk --db $(DB) stories
	@for id in $$($(BIN)/newsdesk --db $(DB) export articles | $(BIN)/python -c \
		'import json,sys; print("\n".join(sorted({json.loads(l)["story"] for l in sys.stdin})))'); do \
		echo; $(BIN)/newsdesk --db $(DB) story $$id; done

## Install, then run the whole test suite twice: on SQLite, then on PostgreSQL
## (TEST_PG; the run fails if that server is unreachable). `make test-sqlite` skips it.
TEST_PG ?= postgresql+psycopg://postgres@127.0.0.1:5432/test

test: test-sqlite test-postgres

# The browser tests drive Debian's Chromium (/usr/bin/chromium); installed once with apt.
chromium:
	@bash .ci/chromium

test-sqlite: install chromium
	$(BIN)/python -m pytest -q

test-postgres: install chromium
	NEWSDESK_TEST_DB=$(TEST_PG) $(BIN)/python -m pytest -q

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy src

clean:
	rm -rf $(VENV) $(DB) $(DB)-wal $(DB)-shm build *.egg-info src/*.egg-info
