# Two commands on a fresh machine: `make run` and `make test` (see README).
SHELL := /bin/bash
PORT ?= 8000
# Links in the mail that `make run` sends lead to the port it serves (`make run PORT=8123`),
# unless SITE_URL is given.
SITE_URL ?= http://127.0.0.1:$(PORT)
# uv must use a Python already on the machine (3.12 or newer), never download one.
export UV_PYTHON_DOWNLOADS := never

PYTHON ?= $(shell for p in python3.13 python3.12 python3 \
	$$HOME/.pyenv/versions/3.13*/bin/python3 $$HOME/.pyenv/versions/3.12*/bin/python3 \
	/usr/bin/python3.13 /usr/bin/python3.12; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' \
	2>/dev/null && command -v $$p && break; done)
UV ?= $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
MANAGE := $(UV) run --frozen python manage.py

.PHONY: install run test lint check-deploy clean messages messages-check

.tools/bin/uv:
	@test -n "$(PYTHON)" || { echo "Python 3.12 or newer is needed; none was found." >&2; exit 1; }
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet uv

install: $(if $(filter .tools/bin/uv,$(UV)),.tools/bin/uv)
	$(UV) sync --frozen --python "$(PYTHON)"
	@# The catalogs' .mo files are built here, not committed, by Babel (a dependency), so
	@# that installing needs no GNU gettext. A catalog marked fuzzy is skipped (and
	@# `make messages-check` says so).
	if compgen -G "locale/*/LC_MESSAGES/django.po" >/dev/null; then \
		$(UV) run --frozen pybabel -q compile -d locale -D django; fi

# Update locale/*/LC_MESSAGES/django.po from the code, for translators (needs gettext).
messages: install
	$(UV) run --frozen python scripts/check_messages.py --write

# Fails when a catalog is stale, or has an untranslated or fuzzy entry (needs gettext).
messages-check: install
	$(UV) run --frozen python scripts/check_messages.py

run: install
	DEBUG=true $(MANAGE) migrate --no-input
	DEBUG=true $(MANAGE) createcachetable
	DEBUG=true $(MANAGE) seed_demo
	@# A task worker beside the web server, as in production: it sends the mail.
	DEBUG=true SITE_URL=$(SITE_URL) $(MANAGE) db_worker --no-reload & worker=$$!; \
	trap 'kill $$worker 2>/dev/null' EXIT; \
	DEBUG=true SITE_URL=$(SITE_URL) $(MANAGE) runserver 127.0.0.1:$(PORT)

test: install
	$(UV) run --frozen pytest -n auto

lint: install
	$(UV) run --frozen ruff check .
	$(UV) run --frozen ruff format --check .

clean:
	rm -rf .venv .tools staticfiles .pytest_cache .ruff_cache
