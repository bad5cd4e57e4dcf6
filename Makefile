# Two commands do everything on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP_RUN := $(VENV)/.installed-run
STAMP_TEST := $(VENV)/.installed-test

.PHONY: run test console check lint typecheck pytest bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP_RUN): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e .
	touch $@

$(STAMP_TEST): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@ $(STAMP_RUN)

run: $(STAMP_RUN)
	$(PY) -m bot run

console: $(STAMP_RUN)
	$(PY) -m bot console $(if $(LANG_CODE),--lang $(LANG_CODE))

check: $(STAMP_RUN)
	$(PY) -m bot check dialogues

lint: $(STAMP_TEST)
	$(PY) -m ruff check bot tests bench
	$(PY) -m ruff format --check bot tests bench

typecheck: $(STAMP_TEST)
	$(PY) -m mypy

# Most tests run on two workers (xdist); the few that measure time under load run alone after.
pytest: $(STAMP_TEST)
	$(PY) -m pytest -n 2 --dist loadgroup -m "not serial"
	$(PY) -m pytest -m serial

test: lint typecheck check pytest

bench: $(STAMP_TEST)
	$(PY) -m pip install --quiet -e '.[test,bench]'
	$(PY) -m bench.turns

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
