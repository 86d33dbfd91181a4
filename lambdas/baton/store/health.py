"""Whether each table the API function uses answers: one cheap read per table.

Each probe reads a key no item has, with an action the API function is already granted on
that table (GetItem, or Query on Tasks), so a probe that succeeds shows the table exists, is
reachable and lets the function read it. Nothing is written.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass

from pynamodb.exceptions import DoesNotExist
from pynamodb.models import Model

from baton.store.models import MetadataItem, TaskItem, WorkflowItem

# No workflow id, task key or metadata partition is ever this (ids are UUIDs, partitions
# upper-case kinds).
_PROBE_KEY = "baton-health-probe"


@dataclass(frozen=True)
class TableHealth:
    name: str
    table: str
    error: str | None

    @property
    def healthy(self) -> bool:
        return self.error is None


def _get_workflow() -> None:
    with suppress(DoesNotExist):
        WorkflowItem.get(_PROBE_KEY)


def _query_tasks() -> None:
    for _ in TaskItem.query(_PROBE_KEY, limit=1):
        break


def _get_metadata() -> None:
    with suppress(DoesNotExist):
        MetadataItem.get(_PROBE_KEY, _PROBE_KEY)


_PROBES: tuple[tuple[str, type[Model], Callable[[], None]], ...] = (
    ("Workflows", WorkflowItem, _get_workflow),
    ("Tasks", TaskItem, _query_tasks),
    ("Metadata", MetadataItem, _get_metadata),
)


def table_health() -> list[TableHealth]:
    """Each table's state; a probe that fails gives its error instead of raising."""
    found = []
    for name, model, probe in _PROBES:
        table = str(model.Meta.table_name)
        try:
            probe()
        except Exception as error:
            # Conductor's Health records an error as the exception's class and message.
            found.append(TableHealth(name, table, f"{type(error).__name__}: {error}"))
        else:
            found.append(TableHealth(name, table, None))
    return found
