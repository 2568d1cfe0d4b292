# Two commands on a fresh machine with Python 3.11 and make:
#   make run   - create .venv, install, run the flagship model (summary + plot)
#   make test  - create .venv, install, lint, type-check and run the test suite
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
RUN_MODEL ?= $(shell test -f src/quidpro/models/nk_russia.yaml && echo nk_russia || echo logistic)

.PHONY: run test check bench fuzz clean

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "need $(PYTHON) on PATH"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	mkdir -p out
	$(BIN)/quidpro run $(RUN_MODEL) --plot out/$(RUN_MODEL).png --out out/$(RUN_MODEL).csv

# Everything the tests read is in the repository (tests/data/); -rs names any skip.
test: $(STAMP)
	bash scripts/install-system-deps.sh
	bash scripts/check
	$(BIN)/python -m pytest -q -rs

check: $(STAMP)
	bash scripts/check

# The numbers in docs/benchmarks.md (several minutes; PySD comes with the dev extra).
bench: $(STAMP)
	$(BIN)/python benchmarks/bench_core.py
	$(BIN)/python benchmarks/bench_targets.py 1 10
	$(BIN)/python benchmarks/bench_scaling.py 1 10 100
	$(BIN)/python benchmarks/bench_xmile.py
	$(BIN)/python benchmarks/bench_ensemble.py
	$(BIN)/python benchmarks/bench_kernel.py
	$(BIN)/python benchmarks/bench_loops.py --runs 200
	$(BIN)/python benchmarks/bench_startup.py
	$(BIN)/python benchmarks/bench_web.py --browser

# 10,000 mutated model files and 3,000 mutated Vensim .mdl files: zero tracebacks and
# zero hangs (docs/hardening.md);
# any crash is written to tests/fuzz/regressions/ and replayed by `make test`.
FUZZ_N ?= 10000
FUZZ_SEED ?= 13
FUZZ_VENSIM_N ?= 3000
fuzz: $(STAMP)
	$(BIN)/python -m tests.fuzz.mutate $(FUZZ_N) $(FUZZ_SEED)
	$(BIN)/python -m tests.fuzz.vensim $(FUZZ_VENSIM_N) $(FUZZ_SEED)

clean:
	rm -rf $(VENV) out .pytest_cache .mypy_cache .ruff_cache
