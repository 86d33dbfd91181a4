"""What a task type's `validate` gets: one task of a definition, and where its problems go.

The problems are Conductor's `validationErrors` entries, each at a path.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

JsonObject = dict[str, Any]

_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
EXPRESSION_START = "${"


def child(path: str, key: str) -> str:
    """`path.key`, or `path["key"]` when the key is not a plain identifier."""
    if _PLAIN_KEY.fullmatch(key):
        return f"{path}.{key}" if path else key
    return f"{path}[{json.dumps(key)}]"


def item(path: str, index: int) -> str:
    return f"{path}[{index}]"


def is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def required_for(field_name: str, kind: str, task_name: str) -> str:
    """Conductor's message for a field a task type needs."""
    return f"{field_name} field is required for taskType: {kind} taskName: {task_name}"


@dataclass
class TaskCheck:
    """One task (its raw JSON) and the report its problems go to."""

    task: JsonObject
    path: str
    name: str
    kind: str
    workflow_name: str
    # Every taskReferenceName in the definition (a JOIN's joinOn must name one).
    references: set[str]
    report: Callable[[str, str, Any], None]
    errors: int = field(default=0)

    @property
    def inputs(self) -> JsonObject:
        inputs = self.task.get("inputParameters")
        return inputs if isinstance(inputs, dict) else {}

    def at(self, *keys: str | int) -> str:
        """The path of a value inside the task: `at("inputParameters", "x")`, `at("joinOn", 0)`."""
        path = self.path
        for key in keys:
            path = item(path, key) if isinstance(key, int) else child(path, key)
        return path

    def error(self, message: str, value: Any, *keys: str | int) -> None:
        self.errors += 1
        self.report(self.at(*keys), message, value)

    def missing(self, field_name: str, value: Any, *keys: str | int) -> None:
        """`field_name` is required for this task's type and is absent or blank."""
        self.error(required_for(field_name, self.kind, self.name), value, *keys)

    def required_text(self, *keys: str) -> str | None:
        """The non-blank string at `keys` (in the task), else reports it and returns None."""
        value: Any = self.task
        for key in keys:
            value = value.get(key) if isinstance(value, dict) else None
        if is_blank(value):
            self.missing(".".join(keys), value, *keys)
            return None
        if not isinstance(value, str):
            self.error(f"{keys[-1]} must be a string", value, *keys)
            return None
        return value
