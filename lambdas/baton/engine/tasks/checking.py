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
_INTEGER_TEXT = re.compile(r"\s*-?[0-9]+\s*")
EXPRESSION_START = "${"
# Conductor's versions are Java ints; Baton's keys also order them as ten digits, so none is
# negative.
MAX_VERSION = 2**31 - 1


def child(path: str, key: str) -> str:
    """`path.key`, or `path["key"]` when the key is not a plain identifier."""
    if _PLAIN_KEY.fullmatch(key):
        return f"{path}.{key}" if path else key
    return f"{path}[{json.dumps(key)}]"


def item(path: str, index: int) -> str:
    return f"{path}[{index}]"


def is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def is_expression(value: Any) -> bool:
    """A `${...}` value, known only when the task runs."""
    return isinstance(value, str) and value.startswith(EXPRESSION_START)


def integer_value(value: Any) -> int | None:
    """The integer Conductor's JSON mapper reads from `value`, or None when it reads none."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and _INTEGER_TEXT.fullmatch(value):
        return int(value)
    return None


def boolean_value(value: Any) -> bool | None:
    """The boolean Conductor's JSON mapper reads from `value`, or None when it reads none."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return None


class FieldReport:
    """The small checks of one field every kind of definition shares; problems go to `add`."""

    def add(self, path: str, message: str, invalid_value: Any) -> None:
        raise NotImplementedError

    def required_text(self, data: JsonObject, base: str, key: str, missing: str) -> str | None:
        """`data[key]` if it is a non-blank string; otherwise reports `missing` or a type error."""
        value = data.get(key)
        if is_blank(value):
            self.add(child(base, key), missing, value)
            return None
        if not isinstance(value, str):
            self.add(child(base, key), f"{key} must be a string", value)
            return None
        return value

    def optional_text(self, data: JsonObject, base: str, key: str) -> None:
        value = data.get(key)
        if value is not None and not isinstance(value, str):
            self.add(child(base, key), f"{key} must be a string", value)

    def integer(
        self,
        data: JsonObject,
        base: str,
        key: str,
        *,
        minimum: int | None = None,
        too_small: str | None = None,
    ) -> int | None:
        """`data[key]` read as an integer (None when absent or unreadable), reporting problems.

        `too_small` may use `{value}`; the value is returned even when it is below `minimum`,
        so that checks relating two fields can still run.
        """
        value = data.get(key)
        if value is None:
            return None
        number = integer_value(value)
        if number is None:
            self.add(child(base, key), f"{key} must be an integer", value)
            return None
        if minimum is not None and number < minimum:
            message = too_small or f"{key}: {{value}} must be >= {minimum}"
            self.add(child(base, key), message.format(value=number), value)
        return number

    def version(self, data: JsonObject, base: str, key: str) -> None:
        """A workflow version: 0 to MAX_VERSION."""
        number = self.integer(
            data, base, key, minimum=0, too_small=f"{key}: {{value}} must be >= 0"
        )
        if number is not None and number > MAX_VERSION:
            self.add(child(base, key), f"{key}: {number} must be at most {MAX_VERSION}", number)

    def boolean(self, data: JsonObject, base: str, key: str) -> None:
        value = data.get(key)
        if value is not None and boolean_value(value) is None:
            self.add(child(base, key), f"{key} must be true or false", value)

    def object(self, data: JsonObject, base: str, key: str) -> None:
        value = data.get(key)
        if value is not None and not isinstance(value, dict):
            self.add(child(base, key), f"{key} must be a JSON object", value)

    def string_list(self, data: JsonObject, base: str, key: str) -> None:
        value = data.get(key)
        if value is None:
            return
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.add(child(base, key), f"{key} must be a list of strings", value)

    def choice(self, data: JsonObject, base: str, key: str, choices: tuple[str, ...]) -> None:
        value = data.get(key)
        if value is not None and value not in choices:
            self.add(child(base, key), f"{key} must be one of {', '.join(choices)}", value)


class _ToCheck(FieldReport):
    def __init__(self, check: TaskCheck) -> None:
        self._check = check

    def add(self, path: str, message: str, invalid_value: Any) -> None:
        self._check.errors += 1
        self._check.report(path, message, invalid_value)


def _no_nested_definitions(data: Any) -> list[tuple[str, str, Any]]:
    return []


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
    # The problems (path, message, value) of a workflow definition given inline (a
    # SUB_WORKFLOW's), checked as if it were registered.
    workflow_def_problems: Callable[[Any], list[tuple[str, str, Any]]] = _no_nested_definitions
    errors: int = field(default=0)

    @property
    def fields(self) -> FieldReport:
        """The shared field checks, reporting into this task's report."""
        return _ToCheck(self)

    @property
    def template(self) -> JsonObject:
        """The inputTemplate of the task's inline taskDefinition, if it has one."""
        definition = self.task.get("taskDefinition")
        template = definition.get("inputTemplate") if isinstance(definition, dict) else None
        return template if isinstance(template, dict) else {}

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
