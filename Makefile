# The targets README names are the ones CI runs.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: install run test lint typecheck unit fuzz bench system-deps postgres clean

$(PY):
	$(PYTHON) -m venv $(VENV)

# The C extension is built by the install: a changed .pyx needs it again.
$(STAMP): pyproject.toml src/leadsync/soap/_speedups.pyx src/leadsync/operations/text.py \
		src/leadsync/operations/text.pxd setup.py | $(PY)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $@

install: $(STAMP)

run: install
	$(VENV)/bin/leadsync serve

# Debian packages the tests need: PHP's SoapClient, Chromium and its driver.
system-deps:
	@if ! command -v php >/dev/null 2>&1 || ! php -m 2>/dev/null | grep -qi '^soap$$'; then \
		echo "installing php-cli and php-soap"; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq php-cli php-soap >/dev/null; \
	fi
	@# The console's browser tests drive Debian's Chromium; nothing downloads a browser.
	@if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then \
		echo "installing chromium and chromium-driver"; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium chromium-driver >/dev/null; \
	fi

# The PostgreSQL backend's tests need the local server; start it when it is down.
postgres:
	@if command -v pg_isready >/dev/null 2>&1 && ! pg_isready -q -h 127.0.0.1 -p 5432; then \
		echo "starting PostgreSQL"; \
		pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main start || true; \
		for i in 1 2 3 4 5 6 7 8 9 10; do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done; \
	fi

lint: install
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/ruff format --check src tests bench

typecheck: install
	$(VENV)/bin/mypy

unit: install
	$(PY) -m pytest

# The whole suite, none of it skipped; then the SOAP semantics and the record reader again
# with the C extension switched off, so both readers are held to the same tests.
NO_SPEEDUPS_TESTS := tests/operations tests/mktows tests/wire/test_exact_text.py \
	$(addprefix tests/soap/,test_record_reader.py test_sync_multiple_leads.py test_sync_lead.py \
	test_characters.py test_bad_input.py test_tolerance.py)

test: install system-deps postgres lint typecheck
	CI=$${CI:-1} $(PY) -m pytest --no-skips
	CI=$${CI:-1} LEADSYNC_NO_SPEEDUPS=1 $(PY) -m pytest -q $(NO_SPEEDUPS_TESTS)

# The SOAP endpoint's request parsing fuzzed far longer than `make test` does.
fuzz: install
	LEADSYNC_FUZZ_EXAMPLES=$${LEADSYNC_FUZZ_EXAMPLES:-20000} $(PY) -m pytest -q -p no:cacheprovider tests/serving/test_fuzz.py

bench: install postgres
	$(PY) bench/run.py

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info .pytest_cache .mypy_cache .ruff_cache
