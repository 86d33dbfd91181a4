"""Conductor's ``${...}`` parameter substitution (ParametersUtils).

A template is any JSON-like value. Strings in it may hold expressions: a balanced ``${...}``
not preceded by ``$``. The expression is a JSONPath rooted at ``$.`` of the document, e.g.
``${workflow.input.a}``, ``${task_ref.output.items[0].id}`` or ``${workflow.input..price}``.

* A string that is exactly one expression keeps the value's JSON type.
* An expression inside other text is spliced in as Java's ``Objects.toString`` prints it:
  ``null``, ``true``, ``2.0``, ``{a=1, b=x}``, ``[1, 2]``. The list an indefinite path gives
  is a json-smart array in Conductor, which prints as JSON: ``["x","y"]``.
* ``$${x}`` is an escape for the literal text ``${x}``.
* Nested expressions are resolved inside out: ``${workflow.input.${workflow.input.key}}``.
* A missing definite path gives None. An indefinite path (wildcard, ``..``, filter, slice or
  union) gives a list, which may be empty. ``${}`` gives "". An invalid path gives None.
* ``${CPEWF_TASK_ID}`` is the id of the task being scheduled; with no task it stays as written.
* ``${workflow.secrets.NAME}`` stays as written, as in Conductor without a secrets provider.

Unlike Conductor, a name that is neither in the document nor ``CPEWF_TASK_ID`` is never looked
up in environment variables or process settings: ``${HOME}`` is just a missing path.

Values read from the document are returned as they are, not copied: treat them as read-only.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from decimal import Decimal
from functools import lru_cache
from typing import Any, Final

__all__ = ["java_text", "names_whole_document", "resolve"]

_EXPRESSION_OPEN: Final = "${"
_ESCAPED_OPEN: Final = "$${"
_TASK_ID_NAME: Final = "CPEWF_TASK_ID"
_SECRETS_PREFIX: Final = "workflow.secrets."

_BRACE = re.compile(r"[{}]")

# Where a dotted name ends in Jayway's path syntax; anything else, even `$`, `:` or `@`, is part
# of the name.
_NAME_END = re.compile(r"[.\[ (]")
_INDEX = re.compile(r"\[(-?[0-9]+)\]")
_QUOTED_NAME = re.compile(r"\['([^'\\]*)'\]|\[\"([^\"\\]*)\"\]")

# json-smart escapes these when it prints a string; the ranges as uppercase \uXXXX.
_JSON_SMART_ESCAPES = re.compile(r'["\\/\x00-\x1f\x7f-\x9f\u2000-\u20ff]')
_JSON_SMART_NAMED_ESCAPES: Final = {
    '"': r"\"",
    "\\": r"\\",
    "/": r"\/",
    "\b": r"\b",
    "\f": r"\f",
    "\n": r"\n",
    "\r": r"\r",
    "\t": r"\t",
}

_PARSE_CACHE_SIZE: Final = 4096
_PATH_CACHE_SIZE: Final = 4096


class _KeepLiteral:
    """Marks an expression Conductor leaves as written."""

    __slots__ = ()


_KEEP_LITERAL: Final = _KeepLiteral()


class _BlankPath:
    """``${}`` and ``${  }``: Conductor substitutes the empty string."""

    __slots__ = ()
    indefinite = False

    def read(self, document: Any, task_id: str | None) -> Any:
        return ""


class _SecretPath:
    """``${workflow.secrets.*}``, left for a secrets provider to fill in at hand-off."""

    __slots__ = ()
    indefinite = False

    def read(self, document: Any, task_id: str | None) -> Any:
        return _KEEP_LITERAL


class _TaskIdPath:
    __slots__ = ()
    indefinite = False

    def read(self, document: Any, task_id: str | None) -> Any:
        return _KEEP_LITERAL if task_id is None else task_id


class _InvalidPath:
    """A path Jayway rejects: Conductor logs it and substitutes null."""

    __slots__ = ()
    indefinite = False

    def read(self, document: Any, task_id: str | None) -> Any:
        return None


class _PlainPath:
    """A definite path of names and indexes, walked by hand."""

    __slots__ = ("steps",)
    indefinite = False

    def __init__(self, steps: tuple[str | int, ...]) -> None:
        self.steps = steps

    def read(self, document: Any, task_id: str | None) -> Any:
        if not self.steps and not isinstance(document, dict):
            # `${$}` over a workflow: the document is built lazily, task by task; the value
            # is a copy of all of it (Conductor's whole parameter map).
            return dict(document)
        node = document
        for step in self.steps:
            if isinstance(step, str):
                if not isinstance(node, Mapping):
                    return None
                node = node.get(step)
            else:
                if not isinstance(node, (list, tuple)):
                    return None
                try:
                    node = node[step]
                except IndexError:
                    return None
            if node is None:
                return None
        return node


class _QueryPath:
    """Any other path, handed to JSONPath."""

    __slots__ = ("indefinite", "query")

    def __init__(self, query: Any, *, indefinite: bool) -> None:
        self.query = query
        self.indefinite = indefinite

    def read(self, document: Any, task_id: str | None) -> Any:
        try:
            matches = self.query.findall(document)
        except Exception:  # Jayway's SUPPRESS_EXCEPTIONS: null, or [] for indefinite paths.
            return [] if self.indefinite else None
        if self.indefinite:
            return list(matches)
        return matches[0] if matches else None


_Path = _BlankPath | _SecretPath | _TaskIdPath | _InvalidPath | _PlainPath | _QueryPath
_BLANK_PATH: Final = _BlankPath()
_SECRET_PATH: Final = _SecretPath()
_TASK_ID_PATH: Final = _TaskIdPath()
_INVALID_PATH: Final = _InvalidPath()


class _Expression:
    """One ``${...}``: its inner text as parts, and its path when that text is fixed."""

    __slots__ = ("inner", "path", "source")

    def __init__(self, source: str, inner: tuple[_Part, ...]) -> None:
        self.source = source
        self.inner = inner
        # Without nested expressions the path never changes, so it is compiled once, here.
        self.path: _Path | None = None
        if not inner:
            self.path = _compile_path("")
        elif len(inner) == 1 and isinstance(inner[0], str):
            self.path = _compile_path(inner[0])


_Part = str | _Expression


class _Template:
    """A parsed string: literal text and expressions, in order."""

    __slots__ = ("parts", "whole")

    def __init__(self, parts: tuple[_Part, ...]) -> None:
        self.parts = parts
        only = parts[0] if len(parts) == 1 else None
        self.whole = only if isinstance(only, _Expression) else None


def resolve(template: Any, document: Mapping[str, Any], *, task_id: str | None = None) -> Any:
    """Return a copy of ``template`` with every ``${...}`` in its strings read from ``document``.

    Dicts and lists are rebuilt; keys and non-string scalars are kept as they are. For an event
    handler the document is the message payload, so ``${workflowInstanceId}`` reads its field.
    """
    if isinstance(template, str):
        return _resolve_text(template, document, task_id)
    if isinstance(template, Mapping):
        return {key: resolve(value, document, task_id=task_id) for key, value in template.items()}
    if isinstance(template, (list, tuple)):
        return [resolve(item, document, task_id=task_id) for item in template]
    return template


def names_whole_document(text: str) -> bool:
    """True when `text` holds an expression for the whole document (``${$}``, ``${@}``)."""
    if _EXPRESSION_OPEN not in text:
        return False
    pending = list(_parse(text).parts)
    while pending:
        part = pending.pop()
        if isinstance(part, _Expression):
            if isinstance(part.path, _PlainPath) and not part.path.steps:
                return True
            pending.extend(part.inner)
    return False


def java_text(value: Any) -> str:
    """Render ``value`` as Java's ``Objects.toString`` does for the JSON object Jackson builds.

    None -> ``null``, True -> ``true``, 2.0 -> ``2.0``, 1e7 -> ``1.0E7``, {"a": 1} -> ``{a=1}``,
    [1, "x"] -> ``[1, x]``.
    """
    if isinstance(value, str):
        return value
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _java_double_text(value)
    if isinstance(value, Decimal):
        # DynamoDB hands numbers back as Decimal; Jackson reads 2 as an int and 2.0 as a double.
        exponent = value.as_tuple().exponent
        if isinstance(exponent, int) and exponent >= 0:
            return str(int(value))
        return _java_double_text(float(value))
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{java_text(k)}={java_text(v)}" for k, v in value.items()) + "}"
    if isinstance(value, Sequence) and not isinstance(value, (bytes, bytearray)):
        return "[" + ", ".join(java_text(item) for item in value) + "]"
    return str(value)


def _java_double_text(value: float) -> str:
    """Java's ``Double.toString``: plain from 1e-3 up to 1e7, else ``d.dddE±n``."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0:
        return "-0.0" if math.copysign(1.0, value) < 0 else "0.0"
    if 1e-3 <= abs(value) < 1e7:
        return repr(value)  # Python prints these plainly, with the same shortest digits.
    sign, digits, exponent = Decimal(repr(value)).as_tuple()
    significant = "".join(map(str, digits)).rstrip("0")
    scientific_exponent = int(exponent) + len(digits) - 1
    fraction = significant[1:] or "0"
    return f"{'-' if sign else ''}{significant[0]}.{fraction}E{scientific_exponent}"


def _json_smart_text(value: Any) -> str:
    """JSON as json-smart writes it: compact, doubles as Java prints them, and more escapes."""
    if isinstance(value, str):
        return '"' + _JSON_SMART_ESCAPES.sub(_json_smart_escape, value) + '"'
    if isinstance(value, Mapping):
        members = (f"{_json_smart_text(str(k))}:{_json_smart_text(v)}" for k, v in value.items())
        return "{" + ",".join(members) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(_json_smart_text(item) for item in value) + "]"
    return java_text(value)


def _json_smart_escape(match: re.Match[str]) -> str:
    character = match.group()
    named = _JSON_SMART_NAMED_ESCAPES.get(character)
    return named if named is not None else f"\\u{ord(character):04X}"


def _resolve_text(text: str, document: Any, task_id: str | None) -> Any:
    if _EXPRESSION_OPEN not in text:
        return text
    template = _parse(text)
    whole = template.whole
    if whole is not None:
        value = _path_of(whole, document, task_id).read(document, task_id)
        if value is not _KEEP_LITERAL:
            return value
    return _render(template.parts, document, task_id)


def _render(parts: tuple[_Part, ...], document: Any, task_id: str | None) -> str:
    """Splice expressions into text, then unescape ``$${`` as Conductor does (values too)."""
    pieces: list[str] = []
    for part in parts:
        if isinstance(part, str):
            pieces.append(part)
            continue
        path = _path_of(part, document, task_id)
        value = path.read(document, task_id)
        if value is _KEEP_LITERAL:
            pieces.append(part.source)
        elif path.indefinite:
            pieces.append(_json_smart_text(value))
        else:
            pieces.append(java_text(value))
    return "".join(pieces).replace(_ESCAPED_OPEN, _EXPRESSION_OPEN)


def _path_of(expression: _Expression, document: Any, task_id: str | None) -> _Path:
    if expression.path is not None:
        return expression.path
    return _compile_path(_render(expression.inner, document, task_id))


@lru_cache(maxsize=_PARSE_CACHE_SIZE)
def _parse(text: str) -> _Template:
    return _Template(_split(text))


def _split(text: str) -> tuple[_Part, ...]:
    """Cut text into literals and expressions, matching each ``${`` with its balancing ``}``.

    Braces are counted without regard to quotes, as Conductor's pattern does. A ``${`` that never
    closes ends the search: Conductor's pattern finds nothing after it either.
    """
    parts: list[_Part] = []
    literal_start = 0
    search_from = 0
    while True:
        start = text.find(_EXPRESSION_OPEN, search_from)
        if start < 0:
            break
        if start > 0 and text[start - 1] == "$":
            search_from = start + 1
            continue
        end = _closing_brace(text, start + 1)
        if end < 0:
            break
        if start > literal_start:
            parts.append(text[literal_start:start])
        parts.append(_Expression(text[start : end + 1], _split(text[start + 2 : end])))
        literal_start = search_from = end + 1
    if literal_start < len(text):
        parts.append(text[literal_start:])
    return tuple(parts)


def _closing_brace(text: str, open_at: int) -> int:
    depth = 0
    for brace in _BRACE.finditer(text, open_at):
        depth += 1 if brace.group() == "{" else -1
        if depth == 0:
            return brace.start()
    return -1


@lru_cache(maxsize=_PATH_CACHE_SIZE)
def _compile_path(path_text: str) -> _Path:
    if not path_text.strip():
        return _BLANK_PATH
    if path_text.startswith(_SECRETS_PREFIX):
        return _SECRET_PATH
    if path_text == _TASK_ID_NAME:
        return _TASK_ID_PATH
    steps = _jayway_steps(path_text.rstrip(" "))  # Jayway ignores trailing spaces only.
    if steps is None:
        return _INVALID_PATH
    if all(not isinstance(step, _Selector) for step in steps):
        # Plain names and indexes, nearly every path there is: walked without JSONPath.
        return _PlainPath(tuple(step for step in steps if not isinstance(step, _Selector)))
    return _compile_query("$" + "".join(_bracketed(step) for step in steps))


class _Selector(str):
    """Path text for JSONPath as it is: a wildcard, deep scan, filter, slice or union."""

    __slots__ = ()


def _jayway_steps(path: str) -> list[str | int | _Selector] | None:
    """Split a path as Jayway reads it into names, indexes and other selectors.

    Returns None for a path Jayway rejects. A path not starting at the root (``$``, or ``@``
    outside a filter) is read from ``$.``.
    """
    if path[:1] in ("$", "@"):
        position = 1
    else:
        path = "." + path
        position = 0
    steps: list[str | int | _Selector] = []
    while position < len(path):
        character = path[position]
        if character == "[":
            end = _closing_bracket(path, position)
            if end < 0:
                return None
            steps.append(_bracket_step(path[position : end + 1]))
            position = end + 1
        elif character == "." and path.startswith("..", position):
            name, position = _dotted_name(path, position + 2)
            if not name and path.startswith("[", position):
                steps.append(_Selector(".."))  # The bracket that follows is what is searched for.
            elif not name:
                return None  # Jayway: a path must not end with "." or "..".
            else:
                steps.append(_Selector("..*" if name == "*" else f"..[{_quoted(name)}]"))
        elif character == ".":
            name, position = _dotted_name(path, position + 1)
            if name == "*":
                steps.append(_Selector("[*]"))
            elif name:
                steps.append(name)
            elif not path.startswith("[", position):
                return None
        else:
            return None  # A space or "(" after a name (functions aren't supported), or "$x".
    return steps


def _dotted_name(path: str, start: int) -> tuple[str, int]:
    end = _NAME_END.search(path, start)
    stop = len(path) if end is None else end.start()
    return path[start:stop], stop


def _closing_bracket(path: str, open_at: int) -> int:
    """Index of the ``]`` closing the ``[`` at ``open_at``, past quotes and nested brackets."""
    depth = 0
    quote = ""
    position = open_at
    while position < len(path):
        character = path[position]
        if quote:
            if character == "\\":
                position += 1
            elif character == quote:
                quote = ""
        elif character in "'\"":
            quote = character
        elif character in "[(":
            depth += 1
        elif character in ")]":
            depth -= 1
            if depth == 0:
                return position if character == "]" else -1
        position += 1
    return -1


def _bracket_step(text: str) -> str | int | _Selector:
    index = _INDEX.fullmatch(text)
    if index is not None:
        return int(index.group(1))
    quoted = _QUOTED_NAME.fullmatch(text)
    if quoted is not None:
        single_quoted, double_quoted = quoted.groups()
        return single_quoted if single_quoted is not None else double_quoted
    return _Selector(text)


def _bracketed(step: str | int | _Selector) -> str:
    if isinstance(step, _Selector):
        return step
    if isinstance(step, int):
        return f"[{step}]"
    return f"[{_quoted(step)}]"


def _quoted(name: str) -> str:
    return "'" + name.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _compile_query(rooted: str) -> _QueryPath | _InvalidPath:
    import jsonpath  # Imported here: loading it costs more than the rest of this module.

    try:
        query = jsonpath.compile(rooted)
    except Exception:
        return _INVALID_PATH
    singular_query = getattr(query, "singular_query", None)  # Absent on `|` unions.
    definite = bool(singular_query()) if callable(singular_query) else False
    return _QueryPath(query, indefinite=not definite)
