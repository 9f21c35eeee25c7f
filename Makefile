# The two commands of the README: `make run` (set up and run) and `make test` (everything CI runs).
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
export HF_HUB_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: install run test check lint typecheck pytest index bench bench-bot clean

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	# torch first and pinned: the CPU wheel; an unpinned torch pulls a multi-GB CUDA build.
	$(VENV)/bin/pip install --quiet torch==2.13.0
	$(VENV)/bin/pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

run: install
	$(VENV)/bin/citebot run

index: install
	$(VENV)/bin/citebot index

test: install lint typecheck pytest

check: test

lint:
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .

typecheck:
	$(VENV)/bin/mypy

pytest:
	$(VENV)/bin/pytest -q

# Speed and scale figures (minutes; not part of the tests): see README, "Performance".
bench: install
	$(VENV)/bin/citebot bench

# Update-to-reply latency of the bot under a burst of 200 questions from 50 users.
bench-bot: install index
	$(VENV)/bin/python scripts/bench_bot.py --index var/index

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache .pytest_cache
