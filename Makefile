# Two commands on a fresh machine: `make demo` and `make test`.
# Both create .venv, install torch's CPU/CUDA pin first (so no dependency can pull
# a different build), then the project with its extras.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
TORCH  := torch==2.13.0
STAMP  := $(VENV)/.installed

.PHONY: demo test lint typecheck bench gpu-check clean tools

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check $(TORCH)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]' '$(TORCH)'
	$(BIN)/python -c "import torch; assert torch.__version__.startswith('2.13.0'), torch.__version__"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python examples/digits_demo.py

# Two pytest workers (pytest-xdist): a module's tests stay on one worker (its module
# fixtures start once), the memory-heavy ones share a group, the slowest go first
# (tests/conftest.py schedules them). `make test PYTEST_WORKERS=0` runs them in one process.
PYTEST_WORKERS ?= 2
test: $(STAMP) lint typecheck tools
	$(BIN)/pytest $(if $(filter 0,$(PYTEST_WORKERS)),,-n $(PYTEST_WORKERS) --dist loadscope --no-loadscope-reorder)

# Debian tools some tests use (command:package): Chromium (the dashboard's browser test),
# a Compose CLI (`docker-compose config` on docker-compose.yml), strace (slows Redis's
# fsync in a durability test) and Graphviz (plot_model's `dot` path). Each test says why
# it skips without.
tools:
	@for pair in chromium:chromium docker-compose:docker-compose strace:strace dot:graphviz; do \
		tool=$${pair%%:*}; package=$${pair#*:}; \
		command -v $$tool >/dev/null || ! command -v apt-get >/dev/null || \
		apt-get install -y -qq $$package >/dev/null 2>&1 || \
		(apt-get update -qq && apt-get install -y -qq $$package >/dev/null 2>&1) || \
		echo "could not install $$package: the tests that need it will be skipped"; \
	done

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python benchmarks/engine.py

# On a CUDA machine: the CUDA-marked tests and the engine benchmark on the GPU (against a
# tuned and a torch.compile loop). Without CUDA it says so and exits 0.
gpu-check: $(STAMP)
	$(BIN)/python benchmarks/gpu_check.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache *.egg-info
