# The two commands: `make demo` and `make test`. Both install what they need
# (Debian packages, a virtual environment, the project) and are idempotent.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed

.PHONY: demo test deps venv cups lint typecheck pytest bench clean install uninstall

demo: deps venv cups
	$(VENV)/bin/kiosk demo

test: deps venv cups lint typecheck pytest

deps:
	@scripts/system-deps.sh

venv: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	@# pip's index configuration here warns about absent mirrors; keep real errors.
	set -o pipefail; $(VENV)/bin/pip install --quiet --disable-pip-version-check -e '.[test]' 2>&1 \
		| { grep -v "^WARNING: Location '.*' is ignored" || true; }
	@touch $(STAMP)

cups:
	@scripts/setup-cups.sh

lint: venv
	$(VENV)/bin/ruff check kiosk devices video printer hygiene hub tests bench

typecheck: venv
	$(VENV)/bin/mypy

pytest: venv
	$(VENV)/bin/pytest -q

bench: deps venv cups
	@for b in bench/bench_*.py; do echo "== $$b"; $(VENV)/bin/python $$b || exit 1; done

clean:
	rm -rf $(VENV) build *.egg-info .mypy_cache .pytest_cache .ruff_cache

# A cabin (README "Deploying a cabin"): as root on the cabin PC, or into a tree with
# DESTDIR=/path (nothing of this machine touched). Independent of the targets above.
install:
	@DESTDIR="$(DESTDIR)" scripts/install.sh

uninstall:
	@DESTDIR="$(DESTDIR)" scripts/uninstall.sh
