"""Baton's benchmarks (`make bench`); Baton's code is imported from lambdas/ as Lambda runs it."""

import sys
from pathlib import Path

_LAMBDAS = str(Path(__file__).resolve().parent.parent / "lambdas")
if _LAMBDAS not in sys.path:
    sys.path.insert(0, _LAMBDAS)
