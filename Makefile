# Registre — two commands: `make run` (whole system, embedded default) and `make test`.
# Only Python 3.11 and make are needed: uv is bootstrapped with pip when missing.

SHELL := /bin/bash
UV := $(shell command -v uv 2>/dev/null)
ifeq ($(UV),)
UV := .tools/bin/uv
endif

# Every target runs the locked environment's own `registre` (.venv/bin/registre): no `uv` on
# PATH is needed once `make install` has run.
REGISTRE := .venv/bin/registre
SCENARIO ?= metrokawa
VIEW ?=
EVENTS ?= 100000
SIGNATURES ?= 200000
CONCURRENCY ?= 8,32
PB ?= tests/data/pabulib/Poland_Wieliczka_2023_Green_Budget.pb
RULE ?= mes-add1
REPEAT ?= 3

.PHONY: install tools run test test-unit demo rebuild bench-projections bench-signatures bench-budget clean-var

$(UV):
	python3 -m venv .tools && .tools/bin/pip install --quiet uv

# The `reference` group (pabutools, GPL) is synced too: the tests compare our budget rules with it
# and `registre bench budget` times it; no production module imports it.
install: $(UV)
	$(UV) sync --frozen --group reference

run: install
	$(UV) run --frozen registre run

# wrk, the HTTP load generator of `bench signatures` (Debian's package): installed when
# missing and run as root (CI), else the command to run is printed.
tools:
	@command -v wrk >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get install -y wrk || { apt-get update && apt-get install -y wrk; }; \
	  else \
	    echo "wrk is not installed; run:  sudo apt-get install -y wrk"; \
	  fi; }

test: install tools
	$(UV) run --frozen --group reference pytest -q -p no:cacheprovider

test-unit: install
	$(UV) run --frozen --group reference pytest -q tests/unit

demo: install  # make demo SCENARIO=veto | evaluation | garant | interpellation | budget (with `make run` going)
	$(REGISTRE) demo --scenario $(or $(SCENARIO),metrokawa)

rebuild: install  # make rebuild [VIEW=public_views]: re-make views from the log
	$(REGISTRE) projections rebuild $(if $(VIEW),--view $(VIEW))

bench-projections: install  # make bench-projections EVENTS=1000000
	$(REGISTRE) bench projections --events $(EVENTS)

bench-signatures: install tools  # make bench-signatures SIGNATURES=20000 CONCURRENCY=8,32
	$(REGISTRE) bench signatures --signatures $(SIGNATURES) --concurrency $(CONCURRENCY)

bench-budget: install  # make bench-budget PB=tests/data/pabulib/Poland_Wieliczka_2023_Green_Budget.pb
	$(REGISTRE) bench budget $(PB) --rule $(RULE) --repeat $(REPEAT)

clean-var:
	rm -rf var
