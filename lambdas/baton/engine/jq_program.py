"""Compiling and running one jq program in this process, sandboxed (see json_jq_transform).

Kept apart from the task module so the supervised child (`baton.engine.jq_process`) imports
only this and the jq library.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, Final

# Put before every program, on a line of its own. Definitions shadow jq's builtins of the same
# name; a program that starts with `import` or `include` no longer parses.
_SANDBOX: Final = (
    "def env: {}; def get_search_list: []; def input_filename: null; "
    'def modulemeta: error("jq modules are not available in Baton"); '
    "def debug: .; def debug(message): .; def stderr: .; "
    "{} as $ENV |\n"
)
_SANDBOX_LINES: Final = _SANDBOX.count("\n")
_LINE: Final = re.compile(r"\bline (\d+)\b")
_MODULE_DIRECTIVE: Final = re.compile(r"^\s*(?:import|include)\b")
_NO_MODULES: Final = "jq modules are not available in Baton"
# Compiled programs kept per process: a workflow's expressions are a small, stable set.
_CACHE_SIZE: Final = 512


class JqError(Exception):
    """A jq program did not compile or failed on its input."""


def run_in_this_process(query: str, text: str, max_results: int) -> list[Any]:
    """Every value `query` produces from the JSON `text`; JqError if it fails or produces
    more than `max_results` values."""
    program = _compiled(query)
    results: list[Any] = []
    try:
        for result in program.input_text(text):
            if len(results) >= max_results:
                raise JqError(
                    f"The jq program produced more than {max_results} values; it may not end"
                )
            results.append(result)
    except (ValueError, TypeError, RecursionError) as error:
        raise JqError(_message(error)) from error
    return results


@lru_cache(maxsize=_CACHE_SIZE)
def _compile(query: str) -> Any:  # the library's compiled program
    import jq  # Imported here: only workflows that use jq pay for loading it.

    return jq.compile(_SANDBOX + query)


def _compiled(query: str) -> Any:
    try:
        return _compile(query)
    except ValueError as error:
        if _MODULE_DIRECTIVE.match(query):
            raise JqError(_NO_MODULES) from error
        raise JqError(_message(error)) from error


def _message(error: Exception) -> str:
    """The library's message, its line numbers counted from the start of the user's program."""
    message = str(error).strip() or type(error).__name__
    return _LINE.sub(lambda m: f"line {max(1, int(m.group(1)) - _SANDBOX_LINES)}", message)
