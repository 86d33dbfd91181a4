#!/usr/bin/env python3
"""`cdk synth` / `cdk deploy` entry point (cdk.json runs it with the project's virtualenv)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

# jsii warns at length about Node 20's end of life on every start; it works fine.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
# The stacks are read off the Lambda code (`baton.topology`, `baton.settings`, `baton.store`).
sys.path.insert(0, str(Path(__file__).resolve().parent / "lambdas"))

from aws_cdk import App

from infra.application import build

app = App()
build(app)
app.synth()
