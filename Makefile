# One virtual environment for the whole workspace, made with uv (itself installed with pip when missing).
PYTHON ?= python3
UV_VERSION := 0.13.9
UV := $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
VENV := .venv
STAMP := $(VENV)/.synced

.PHONY: run test lint token sync clean benchmark

$(UV):
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet uv==$(UV_VERSION)

$(STAMP): $(UV) pyproject.toml uv.lock contracts/pyproject.toml runtime/pyproject.toml services/*/pyproject.toml testing/pyproject.toml clients/python/pyproject.toml
	$(UV) sync --frozen --all-packages
	@touch $(STAMP)

sync: $(STAMP)

run: $(STAMP)
	$(VENV)/bin/optimize-local run

test: $(STAMP)
	$(VENV)/bin/pytest -q $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .

token: $(STAMP)
	@$(VENV)/bin/optimize-local token $(USER) --groups "$(GROUPS)"

benchmark: $(STAMP)
	$(VENV)/bin/python benchmarks/import_export.py $(BENCHMARK_ARGS)

clean:
	rm -rf $(VENV) .tools
