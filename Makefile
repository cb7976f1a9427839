# Every target creates .venv when missing and installs what it needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PURE_TESTS ?= tests/engine tests/conductor tests/conditions tests/rules tests/test_hotpath.py tests/test_jsonfast.py -m 'not slow'
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: demo test bench compile docs clean

# The editable install skips compiling (its build directory is thrown away); `compile` then builds
# the compiled core in place, incrementally: only modules whose source changed are compiled again.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	RULES_ENGINE_PURE_PYTHON=1 $(BIN)/python -m pip install --quiet -e '.[test,bench]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

compile: $(STAMP)
	$(BIN)/python setup.py --quiet build_ext --inplace
	$(BIN)/rules-engine --version

demo: compile
	$(BIN)/rules-engine demo $(DEMO_ARGS)

# The whole suite runs on the compiled core; the unit tests of the compiled modules run once more
# as pure Python, the form the package takes where no C compiler is (docs/architecture.md).
test: compile
	$(BIN)/python -m pytest $(PYTEST_ARGS)
	RULES_ENGINE_PURE_PYTHON=1 $(BIN)/python -m pytest -q $(PURE_TESTS)

bench: compile
	$(BIN)/python -m bench $(BENCH_ARGS)

docs: $(STAMP)
	$(BIN)/python -m rules_engine.clidoc > docs/cli.md
	$(BIN)/mkdocs build --strict

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache rules_engine/_compiled.json
	find rules_engine -name '*.so' -delete
