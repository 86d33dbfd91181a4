"""JavaScript conditions, evaluated as Conductor does: ``$`` is bound to the inputs.

Used by SWITCH's javascript evaluator, DO_WHILE's ``loopCondition`` and event handler
conditions. A script is a bare expression (``$.status == 'READY'``), a list of statements whose
last expression statement gives the result (``var x = $.a; x > 1``), or an immediately called
function (``(function(){ ... return x; })()``).

Scripts run in V8 (mini-racer), never in Python. Each thread keeps one V8 context and reuses it
while scripts succeed; any failure throws the context away so the next script starts clean.
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
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final

from baton.engine.params import java_text

if TYPE_CHECKING:
    from py_mini_racer import MiniRacer

__all__ = ["ScriptError", "evaluate", "is_truthy", "result_as_case"]

_RUNNER: Final = "__batonEvaluate"
_LONG_MIN: Final = -(2**63)
_LONG_MAX: Final = 2**63 - 1
_FLUSH_TIMEOUT_SECONDS: Final = 1.0
# V8 messages start with where the error happened ("undefined:1: TypeError: ..."), then repeat
# the source line and a stack; the first line, without the location, says what went wrong.
_ERROR_LOCATION = re.compile(r"^\S*:\d+: ")

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
    """A script did not parse, threw, ran out of time or memory, or gave a non-JSON value."""


class _ThreadContext(threading.local):
    racer: MiniRacer | None = None


_thread_context = _ThreadContext()


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
    Every failure, including running past ``timeout_ms`` or ``max_memory_bytes``, raises
    ScriptError.
    """
    if timeout_ms <= 0 or max_memory_bytes <= 0:
        raise ValueError("timeout_ms and max_memory_bytes must be positive")
    try:
        bindings_json = json.dumps(bindings, default=_json_default, allow_nan=False)
    except (TypeError, ValueError) as error:
        raise ScriptError(f"Bindings are not JSON: {error}") from error
    call = f"{_RUNNER}({json.dumps(bindings_json)}, {json.dumps(expression)})"

    racer = _racer()
    try:
        reply = racer.eval(call, timeout_sec=timeout_ms / 1000, max_memory=max_memory_bytes)
    except Exception as error:  # Anything the engine raises is the script's failure.
        _discard_racer()
        raise ScriptError(_describe(error)) from error
    if not isinstance(reply, str):
        _discard_racer()
        raise ScriptError(f"Unexpected reply from the script engine: {type(reply).__name__}")

    decoded = json.loads(reply)
    if decoded.get("dirty"):
        _discard_racer()
    if "number" in decoded:
        return float(decoded["number"])
    return decoded.get("value")


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


def _racer() -> MiniRacer:
    racer = _thread_context.racer
    if racer is None:
        from py_mini_racer import MiniRacer  # Imported here: loading V8 is slow.

        racer = MiniRacer()
        racer.eval(_INSTALL_RUNNER)
        _thread_context.racer = racer
    return racer


def _discard_racer() -> None:
    racer = _thread_context.racer
    _thread_context.racer = None
    if racer is None:
        return
    # A script stopped by its timeout reports back later; wait for that with a trivial script,
    # or the report reaches a closed event loop and the library prints an error.
    with contextlib.suppress(Exception):
        racer.eval("0", timeout_sec=_FLUSH_TIMEOUT_SECONDS)
    racer.close()


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
