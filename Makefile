VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: venv test quick demo lint bench clean

# The virtualenv is rebuilt whenever the project's metadata changes.
$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

# One worker per core (pytest-xdist), a test file's tests on one worker so that its
# module fixtures (a seeded moto account, a collected database) are made once.
test: $(STAMP)
	$(PY) -m pytest -q -n auto --dist loadfile

# The loop while developing: everything but the few slow end-to-end tests.
quick: $(STAMP)
	$(PY) -m pytest -q -n auto --dist loadfile -m "not slow"

demo: $(STAMP)
	$(VENV)/bin/cfgmon demo

lint: $(STAMP)
	$(VENV)/bin/ruff check .

bench: $(STAMP)
	$(PY) benchmarks/patterns.py
	$(PY) benchmarks/check.py
	$(PY) benchmarks/collect.py

clean:
	rm -rf $(VENV) .pytest_cache build dist *.egg-info
