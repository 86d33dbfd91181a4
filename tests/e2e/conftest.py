"""One `python -m embedded` per test module, on free ports, stopped when the module is done.

Each module gets its own runtime (and so its own tables and queues): the event handlers one
module registers never see the messages of another.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.runtime_process import RuntimeDidNotStart, RuntimeProcess, start_runtime


@pytest.fixture(scope="module")
def runtime() -> Iterator[RuntimeProcess]:
    try:
        started = start_runtime()
    except RuntimeDidNotStart as error:
        pytest.fail(str(error), pytrace=False)
    try:
        yield started
    finally:
        started.stop()
