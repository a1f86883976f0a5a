# Registre — two commands: `make run` (whole system, embedded default) and `make test`.
# Only Python 3.11 and make are needed: uv is bootstrapped with pip when missing.

SHELL := /bin/bash
UV := $(shell command -v uv 2>/dev/null)
ifeq ($(UV),)
UV := .tools/bin/uv
endif

.PHONY: install run test test-unit demo clean-var

$(UV):
	python3 -m venv .tools && .tools/bin/pip install --quiet uv

install: $(UV)
	$(UV) sync --frozen

run: install
	$(UV) run --frozen registre run

test: install
	$(UV) run --frozen pytest -q -p no:cacheprovider

test-unit: install
	$(UV) run --frozen pytest -q tests/unit

demo: install
	$(UV) run --frozen registre demo

clean-var:
	rm -rf var
