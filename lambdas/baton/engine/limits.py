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

    Walked without recursion, so it is safe on any value the JSON parser could build.
    """
    pending: list[tuple[Any, int]] = [(value, 1)]
    while pending:
        node, depth = pending.pop()
        if isinstance(node, Mapping):
            children: Any = node.values()
        elif isinstance(node, (list, tuple)):
            children = node
        else:
            continue
        if depth > limit:
            return True
        pending.extend((child, depth + 1) for child in children)
    return False
