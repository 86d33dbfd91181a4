"""The tutorial's definitions, loaded from the files the embedded runtime registers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

SEED_DIR = Path(__file__).resolve().parent.parent / "embedded" / "seed"


def event_testing() -> dict[str, Any]:
    return json.loads((SEED_DIR / "event_testing.json").read_text())


def complete_task_event() -> dict[str, Any]:
    return json.loads((SEED_DIR / "complete_task_event.json").read_text())
