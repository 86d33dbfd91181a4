# Baton's commands. Each target installs what it needs into .venv (Python) and node_modules (CDK CLI).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION ?= 20
export AWS_DEFAULT_REGION ?= us-east-1

.PHONY: run test lint typecheck unit synth cdk-check bench clean

$(STAMP): requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $(STAMP)

$(NODE_STAMP): package.json package-lock.json .npmrc
	npm install --no-audit --no-fund --silent
	touch $(NODE_STAMP)

## make run: Baton on this machine (moto for DynamoDB and SQS), API on 127.0.0.1:$${PORT:-8080}
run: $(STAMP)
	$(PY) -m embedded

## make test: lint, type checks, unit and end-to-end tests, cfn-lint and cdk-nag on the synthesized stacks
test: lint typecheck unit cdk-check

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(STAMP)
	$(VENV)/bin/mypy lambdas/baton infra embedded app.py bench

# The worker tests run Conductor's JavaScript SDK from node_modules.
unit: $(STAMP) $(NODE_STAMP)
	$(VENV)/bin/pytest -q

## make synth: every stack synthesized offline with the CDK CLI from npm (cdk.json runs .venv's python)
synth: $(STAMP) $(NODE_STAMP)
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
	rm -rf $(VENV) node_modules cdk.out .build .pytest_cache .mypy_cache .ruff_cache
