"""JavaScript conditions, evaluated as Conductor does: ``$`` is bound to the inputs.

Used by SWITCH's javascript evaluator, DO_WHILE's ``loopCondition`` and event handler
conditions. A script is a bare expression (``$.status == 'READY'``), a list of statements whose
last expression statement gives the result (``var x = $.a; x > 1``), or an immediately called
function (``(function(){ ... return x; })()``).

Scripts run in V8 (mini-racer), never in Python. Each thread keeps one V8 context and reuses it
while scripts succeed; any failure throws the context away so the next script starts clean.
The runner is called as a function with the bindings as a string argument, so no evaluation
compiles a new script holding its input (compiled sources are kept by V8's caches, and with
100 KB inputs they filled the heap). V8 collects garbage lazily, and the memory limit counts
what it has not collected yet: when the heap passes half the limit after a script, V8 is asked
for a full collection, and a script stopped by the limit is tried once more in a fresh context
before it fails, so a correct script never fails because of what earlier scripts left.
Between scripts the context is kept clean as well: ``$`` and ``var`` declarations live in a
function scope made for each call, and globals a script creates or replaces are deleted or put
back afterwards (a context that can't be put back is replaced). Changes a script makes inside
built-in objects, such as a new ``Array.prototype`` method, are not undone.

Unlike Conductor (GraalJS), ``$`` is plain JSON data: Java methods such as ``$.list.get(0)`` or
``$.list.size()`` don't exist.
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final

from baton.engine.limits import MAX_JSON_DEPTH, json_depth_exceeds
from baton.engine.params import java_text

if TYPE_CHECKING:
    from py_mini_racer import JSFunction, MiniRacer

__all__ = ["ScriptError", "ScriptLimitError", "evaluate", "is_truthy", "result_as_case"]

_RUNNER: Final = "__batonEvaluate"
_LONG_MIN: Final = -(2**63)
_LONG_MAX: Final = 2**63 - 1
_FLUSH_TIMEOUT_SECONDS: Final = 1.0
# V8 messages start with where the error happened ("undefined:1: TypeError: ..."), then repeat
# the source line and a stack; the first line, without the location, says what went wrong.
_ERROR_LOCATION = re.compile(r"^\S*:(\d+): ")

# Installed once per context. The script runs through direct eval inside a function built by
# `new Function`, whose only scope is the global one, so a script can neither see nor change the
# runner's own variables. The reply is JSON: {"value": ...} (absent for undefined),
# {"number": "NaN" | "Infinity" | "-Infinity"} for what JSON can't hold, and "dirty" when the
# globals could not be put back.
_INSTALL_RUNNER: Final = f"""
(function (globalObject) {{
  var parse = JSON.parse;
  var stringify = JSON.stringify;
  var isFiniteNumber = Number.isFinite;
  var ownNames = Object.getOwnPropertyNames;
  var baselineNames = ownNames(globalObject);
  var baseline = Object.create(null);
  for (var i = 0; i < baselineNames.length; i++) {{
    baseline[baselineNames[i]] = globalObject[baselineNames[i]];
  }}
  var run = new Function("$", "__batonSource", "return eval(__batonSource);");

  function same(a, b) {{
    return a === b || (a !== a && b !== b);
  }}

  function restoreGlobals() {{
    var clean = true;
    var names = ownNames(globalObject);
    var name;
    for (var i = 0; i < names.length; i++) {{
      name = names[i];
      if (name === "{_RUNNER}") continue;
      if (!(name in baseline)) {{
        try {{ delete globalObject[name]; }} catch (error) {{}}
        if (name in globalObject) clean = false;
      }} else if (!same(globalObject[name], baseline[name])) {{
        try {{ globalObject[name] = baseline[name]; }} catch (error) {{}}
        if (!same(globalObject[name], baseline[name])) clean = false;
      }}
    }}
    for (var j = 0; j < baselineNames.length; j++) {{
      if (!(baselineNames[j] in globalObject)) clean = false;
    }}
    return clean;
  }}

  function evaluate(bindingsJson, source) {{
    var reply = {{}};
    try {{
      var value = run(parse(bindingsJson), source);
      if (typeof value === "number" && !isFiniteNumber(value)) {{
        reply.number = String(value);
      }} else {{
        reply.value = value;
      }}
    }} finally {{
      if (!restoreGlobals()) reply.dirty = true;
    }}
    return stringify(reply);
  }}

  Object.defineProperty(globalObject, "{_RUNNER}", {{
    value: evaluate, writable: false, enumerable: false, configurable: false
  }});
}})(globalThis);
"""


class ScriptError(Exception):
    """A script did not parse, threw, ran out of time or memory, or gave a non-JSON value.

    `line` is the line of the script where it failed, when the engine says.
    """

    def __init__(self, message: str, *, line: int | None = None) -> None:
        super().__init__(message)
        self.line = line


class ScriptLimitError(ScriptError):
    """A script ran past its time or memory limit: the script itself may be correct."""


# The memory limit grows with the input: V8 holds the bindings as a string, then as objects.
_MEMORY_PER_BINDINGS_BYTE: Final = 16


# How much input a context takes in between looks at its heap (a look costs about as much as
# a small evaluation).
_HEAP_CHECK_BYTES: Final = 1024 * 1024
_HEAP_CHECK_EVALUATIONS: Final = 64


@dataclass
class _Context:
    racer: MiniRacer
    runner: JSFunction
    # Input handed to V8 and evaluations since the heap was last looked at.
    bytes_since_check: int = 0
    evaluations_since_check: int = 0


class _ThreadContext(threading.local):
    context: _Context | None = None


_thread_context = _ThreadContext()


def memory_limit(max_memory_bytes: int, bindings_json: str) -> int:
    """The V8 heap limit for one evaluation over `bindings_json`."""
    return max_memory_bytes + _MEMORY_PER_BINDINGS_BYTE * len(bindings_json)


def evaluate(
    expression: str,
    bindings: Mapping[str, Any],
    *,
    timeout_ms: int = 1000,
    max_memory_bytes: int = 64 * 1024 * 1024,
) -> Any:
    """Run ``expression`` with ``$`` bound to a JSON copy of ``bindings``; return its value.

    The value comes back as JSON data (dict, list, str, int, float, bool or None; undefined and
    functions become None). NaN and infinities, which JSON can't hold, come back as floats.
    Every failure, including running past ``timeout_ms`` or the memory limit
    (``max_memory_bytes`` plus room for the bindings), raises ScriptError.
    """
    if timeout_ms <= 0 or max_memory_bytes <= 0:
        raise ValueError("timeout_ms and max_memory_bytes must be positive")
    bindings = needed_bindings(expression, bindings)
    try:
        bindings_json = json.dumps(bindings, default=_json_default, allow_nan=False)
    except (TypeError, ValueError) as error:
        raise ScriptError(f"Bindings are not JSON: {error}") from error
    limit = memory_limit(max_memory_bytes, bindings_json)
    try:
        reply = _run(bindings_json, expression, timeout_ms, limit)
    except _OutOfMemory:
        # Perhaps garbage of earlier scripts that V8 had not collected: once more, clean.
        try:
            reply = _run(bindings_json, expression, timeout_ms, limit)
        except _OutOfMemory as error:
            raise ScriptLimitError("Script ran out of memory") from error
    try:
        decoded = json.loads(reply)
    except RecursionError:
        decoded = None
    if not isinstance(decoded, dict) or json_depth_exceeds(decoded.get("value")):
        raise ScriptError(f"The script's value nests more than {MAX_JSON_DEPTH} levels deep")
    if decoded.get("dirty"):
        _discard_context()
    if "number" in decoded:
        return float(decoded["number"])
    return decoded.get("value")


# `$` as its own identifier (not part of `a$` or `$x`), and what may follow it: `.name` or
# `['name']`. A second level (`$.loop.iteration`) is read the same way.
# (Written as an alternation: the character class `[\w$\u0080-\U0010ffff]` says the same but
# takes Python's regex compiler tens of milliseconds, paid by every cold start.)
_IDENTIFIER_CHAR = r"(?:[\w$]|[^\x00-\x7f])"
_DOLLAR = re.compile(rf"(?<!{_IDENTIFIER_CHAR})\$(?!{_IDENTIFIER_CHAR})")
_MEMBER = re.compile(
    rf"\.([A-Za-z_$][\w$]*)(?!{_IDENTIFIER_CHAR})|\[\s*(?:'([^'\\\n]*)'|\"([^\"\\\n]*)\")\s*\]"
)
# Ways to reach `$` without naming it: the runner's `arguments`, a direct `eval` of built
# text, an escaped identifier (`\u0024`).
_OPAQUE = re.compile(r"\barguments\b|\beval\b|\\u|\\x")


def needed_bindings(expression: str, bindings: Mapping[str, Any]) -> Mapping[str, Any]:
    """The part of ``bindings`` that ``expression`` can read.

    Each DO_WHILE iteration adds its outputs to the loop task's output, which Conductor hands
    to the condition whole; a condition such as ``$.loop['iteration'] < 10`` reads one number
    of it. When every use of ``$`` in the source is a member read by name (``$.a``,
    ``$['a']``, ``$.a.b``) of keys that exist, only those members are passed; any other use
    (``$`` alone, ``$[x]``, ``eval``, ``arguments``, a name an object inherits such as
    ``hasOwnProperty``) passes everything, so what a script sees is never changed.
    """
    if _OPAQUE.search(expression):
        return bindings
    whole: set[str] = set()
    members: dict[str, set[str]] = {}
    for dollar in _DOLLAR.finditer(expression):
        first = _MEMBER.match(expression, dollar.end())
        if first is None:
            return bindings
        name = _member_name(first)
        if name not in bindings:
            return bindings
        second = _MEMBER.match(expression, first.end())
        value = bindings[name]
        if second is None or not isinstance(value, Mapping) or _member_name(second) not in value:
            whole.add(name)
        else:
            members.setdefault(name, set()).add(_member_name(second))
    needed: dict[str, Any] = {name: bindings[name] for name in whole}
    for name, names in members.items():
        if name not in whole:
            needed[name] = {member: bindings[name][member] for member in names}
    return needed


def _member_name(match: re.Match[str]) -> str:
    return next(group for group in match.groups() if group is not None)


class _OutOfMemory(Exception):
    """V8 stopped the script at the memory limit (the context has been discarded)."""


def _run(bindings_json: str, expression: str, timeout_ms: int, limit: int) -> str:
    context = _context()
    racer = context.racer
    try:
        racer.set_hard_memory_limit(limit)
        reply = context.runner(bindings_json, expression, timeout_sec=timeout_ms / 1000)
    except Exception as error:  # Anything the engine raises is the script's failure.
        out_of_memory = _is_out_of_memory(racer, error)
        _discard_context()
        if out_of_memory:
            raise _OutOfMemory from error
        if _is_timeout(error):
            raise ScriptLimitError(_describe(error)) from error
        raise ScriptError(_describe(error), line=_error_line(error)) from error
    if not isinstance(reply, str):
        _discard_context()
        raise ScriptError(f"Unexpected reply from the script engine: {type(reply).__name__}")
    context.bytes_since_check += len(bindings_json) + len(expression)
    context.evaluations_since_check += 1
    if (
        context.bytes_since_check >= _HEAP_CHECK_BYTES
        or context.evaluations_since_check >= _HEAP_CHECK_EVALUATIONS
    ):
        context.bytes_since_check = context.evaluations_since_check = 0
        _collect_if_near(racer, limit)
    return reply


def _is_out_of_memory(racer: MiniRacer, error: Exception) -> bool:
    from py_mini_racer import JSOOMException

    if isinstance(error, JSOOMException):
        return True
    # A script terminated at the limit can surface as a plain error whose message is "null".
    with contextlib.suppress(Exception):
        return racer.was_hard_memory_limit_reached()
    return False


def _collect_if_near(racer: MiniRacer, limit: int) -> None:
    """Ask V8 for a full collection when the heap has passed half the limit."""
    with contextlib.suppress(Exception):
        if racer.heap_stats()["total_heap_size"] > limit // 2:
            racer.low_memory_notification()


def is_truthy(value: Any) -> bool:
    """Conductor's test for a condition's result: True, or a number greater than zero."""
    if isinstance(value, bool):
        return value
    if isinstance(value, Decimal):
        return not value.is_nan() and value > 0  # Comparing a Decimal NaN raises.
    if isinstance(value, (int, float)):
        return value > 0
    return False


def result_as_case(value: Any) -> str:
    """SWITCH's case key for a script result, as Java's ``"" + result`` prints it.

    None -> ``null``, True -> ``true``, 2.0 -> ``2`` (GraalJS hands whole numbers to Java as
    integers), 2.5 -> ``2.5``, strings as they are.
    """
    if isinstance(value, float) and value.is_integer() and _LONG_MIN <= value <= _LONG_MAX:
        return str(int(value))
    return java_text(value)


def _context() -> _Context:
    context = _thread_context.context
    if context is None:
        from py_mini_racer import JSFunction, MiniRacer  # Imported here: loading V8 is slow.

        racer = MiniRacer()
        racer.eval(_INSTALL_RUNNER)
        runner = racer.eval(_RUNNER)
        if not isinstance(runner, JSFunction):
            racer.close()
            raise ScriptError("The script engine did not install its runner")
        context = _Context(racer, runner)
        _thread_context.context = context
    return context


def _discard_context() -> None:
    context = _thread_context.context
    _thread_context.context = None
    if context is None:
        return
    racer = context.racer
    # A script stopped by its timeout reports back later; wait for that with a trivial script,
    # or the report reaches a closed event loop and the library prints an error.
    with contextlib.suppress(Exception):
        racer.eval("0", timeout_sec=_FLUSH_TIMEOUT_SECONDS)
    racer.close()


def _is_timeout(error: Exception) -> bool:
    from py_mini_racer import JSTimeoutException

    return isinstance(error, JSTimeoutException)


def _error_line(error: Exception) -> int | None:
    location = _ERROR_LOCATION.match(str(error).strip())
    line = location.group(1) if location else None
    return int(line) if line else None


def _describe(error: Exception) -> str:
    from py_mini_racer import JSOOMException, JSTimeoutException

    if isinstance(error, JSTimeoutException):
        return "Script timed out"
    if isinstance(error, JSOOMException):
        return "Script ran out of memory"
    first_line = str(error).strip().split("\n", 1)[0]
    message = _ERROR_LOCATION.sub("", first_line).strip()
    return message or type(error).__name__


def _json_default(value: Any) -> Any:
    # DynamoDB hands numbers back as Decimal.
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"{value} is not a JSON number")
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"{type(value).__name__} is not JSON")
