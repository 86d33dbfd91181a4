# Baton's commands. Each target installs what it needs into .venv (Python), node_modules (CDK CLI),
# ui/node_modules (the web UI's build) and, for the browser tests, Debian's chromium package.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION ?= 20
export AWS_DEFAULT_REGION ?= us-east-1

.PHONY: run test lint typecheck unit synth cdk-check bench clean ui browser

$(STAMP): requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $(STAMP)

$(NODE_STAMP): package.json package-lock.json .npmrc
	npm install --no-audit --no-fund --silent
	touch $(NODE_STAMP)

UI_NODE_STAMP := ui/node_modules/.installed
UI_BUILD := ui/dist/index.html
UI_SOURCES := $(shell find ui/src -type f) ui/index.html ui/vite.config.ts ui/tsconfig.json

$(UI_NODE_STAMP): ui/package.json ui/package-lock.json ui/.npmrc
	cd ui && npm ci --no-audit --no-fund --silent
	touch $@

## make ui: the web UI built into ui/dist (type-checked by tsc, bundled by Vite)
$(UI_BUILD): $(UI_NODE_STAMP) $(UI_SOURCES)
	cd ui && npm run --silent build
ui: $(UI_BUILD)

# The browser tests drive Chromium through Playwright. Playwright's own browser download cannot
# run everywhere, so they use a Chromium from the system: BATON_CHROMIUM, or Debian's package,
# installed here when this user may (root, or sudo without a password).
BROWSER_STAMP := .build/browser.ok
$(BROWSER_STAMP):
	@mkdir -p .build
	@if [ -n "$$BATON_CHROMIUM" ] || command -v chromium >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "Installing Debian's chromium for the browser tests"; \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium >/dev/null \
		|| { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium >/dev/null; }; \
	elif command -v apt-get >/dev/null 2>&1 && sudo -n true 2>/dev/null; then \
		echo "Installing Debian's chromium for the browser tests"; \
		sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium >/dev/null; \
	else \
		echo "The browser tests need Chromium: install it (Debian: apt-get install chromium) or set BATON_CHROMIUM to a Chromium binary." >&2; \
		exit 1; \
	fi
	@touch $@
browser: $(BROWSER_STAMP)

## make run: Baton on this machine (moto for DynamoDB and SQS), API and web UI on 127.0.0.1:$${PORT:-8080}
run: $(STAMP) $(UI_BUILD)
	$(PY) -m embedded

## make test: lint, type checks, unit and end-to-end tests, cfn-lint and cdk-nag on the synthesized stacks
test: lint typecheck unit cdk-check

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(STAMP)
	$(VENV)/bin/mypy lambdas/baton infra embedded app.py bench

# The worker tests run Conductor's JavaScript SDK from node_modules; the UI tests a built UI in Chromium.
unit: $(STAMP) $(NODE_STAMP) $(UI_BUILD) $(BROWSER_STAMP)
	$(VENV)/bin/pytest -q

## make synth: every stack synthesized offline with the CDK CLI from npm (cdk.json runs .venv's python)
synth: $(STAMP) $(NODE_STAMP) $(UI_BUILD)
	npx --no-install cdk synth --quiet --no-notices

## cfn-lint on every template and cdk-nag's AwsSolutions pack (it runs inside synth and fails it on an unacknowledged finding),
## in both auth modes: cdk.json's (IAM) and Conductor's keys, which adds the authorizer and the token secret
KEYS_MODE_OUT := .build/cdk.out.conductor-keys
cdk-check: synth
	$(VENV)/bin/cfn-lint -i W3005 -- cdk.out/*.template.json
	npx --no-install cdk synth --quiet --no-notices -c authMode=conductor-keys --output $(KEYS_MODE_OUT)
	$(VENV)/bin/cfn-lint -i W3005 -- $(KEYS_MODE_OUT)/*.template.json

## make bench: benchmarks; figures go to bench/RESULTS.md
bench: $(STAMP)
	$(PY) -m bench

clean:
	rm -rf $(VENV) node_modules ui/node_modules ui/dist cdk.out .build .pytest_cache .mypy_cache .ruff_cache
