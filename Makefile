# Two entry points for a fresh machine: `make demo` and `make test`. Both create .venv and install first.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
STAGE ?= dev

.PHONY: install test demo sandbox lint layer package deploy delete bench clean

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

install: $(STAMP)

# One worker per core, a whole file each: a process keeps one sandbox (moto is process-wide); 11.7 -> 6.7 min on 2 cores.
test: $(STAMP)
	$(PY) -m pytest -q -n auto --dist loadfile

lint: $(STAMP)
	$(PY) -m ruff check --select F,E9 --line-length 120 app.py chalice_app sandbox tests layers/build.py policies benchmarks

demo: $(STAMP)
	$(PY) -m sandbox.demo

# The loopback sandbox for trying costguard and kubectl by hand: prints `export` lines, runs until Ctrl-C.
sandbox: $(STAMP)
	$(VENV)/bin/costguard sandbox up

# The pruned dependency layer, placed where Chalice looks for its managed layer.
layer: $(STAMP)
	$(PY) layers/build.py

# Steps that need AWS run through layers/stage_env.py: the region from the environment or else the stage's
# COSTGUARD_REGION (said on stderr), credentials where AWS is called; what is missing is named in one line.
AWS_STEP = $(PY) layers/stage_env.py --stage $(STAGE)

package: layer
	COSTGUARD_STAGE=$(STAGE) $(AWS_STEP) --needs region -- $(VENV)/bin/chalice package --stage $(STAGE) build/package

deploy: layer
	COSTGUARD_STAGE=$(STAGE) $(AWS_STEP) --needs region,credentials -- $(VENV)/bin/chalice deploy --stage $(STAGE)

delete: $(STAMP)
	COSTGUARD_STAGE=$(STAGE) $(AWS_STEP) --needs region,credentials -- $(VENV)/bin/chalice delete --stage $(STAGE)

bench: $(STAMP)
	for script in benchmarks/bench_*.py; do $(PY) $$script || exit 1; done

clean:
	rm -rf $(VENV) build layers/.cache .chalice/deployments
