"""How deep JSON may nest in what Baton keeps: definitions, inputs, outputs and variables.

Conductor sets no such limit (Jackson reads up to 1,000 levels), but Baton's resolver, its
store and the V8 bridge walk values level by level, and a value nested hundreds of levels
deep would exhaust Python's stack halfway through a request. A bound far above what real
data nests keeps every walk safe and lets a request be refused before anything is written.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

MAX_JSON_DEPTH: Final = 128


def json_depth_exceeds(value: Any, limit: int = MAX_JSON_DEPTH) -> bool:
    """True when `value` nests objects and arrays more than `limit` levels deep.

    The walk goes at most `limit` + 1 levels down whatever the value holds, so its recursion
    is bounded and it is safe on any value the JSON parser could build.
    """
    return _nests_deeper(value, limit)


_SCALARS = (str, int, float, bool, type(None))


def _nests_deeper(node: Any, levels_left: int) -> bool:
    kind = type(node)
    if kind is dict:
        children: Any = node.values()
    elif kind is list or kind is tuple:
        children = node
    elif kind in _SCALARS:
        return False
    elif isinstance(node, Mapping):
        children = node.values()
    elif isinstance(node, (list, tuple)):
        children = node
    else:
        return False
    if levels_left <= 0:
        return True
    for child in children:
        if type(child) not in _SCALARS and _nests_deeper(child, levels_left - 1):
            return True
    return False
