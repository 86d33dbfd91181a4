"""Fixtures of the store tests: `aws` (from tests/runtime), moto in this process."""

from tests.runtime.conftest import EVENT_QUEUES, aws  # noqa: F401 - the shared fixture
