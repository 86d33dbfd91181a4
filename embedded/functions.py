"""Lambda functions played in this process: the handler, its context, one invocation at a time."""

from __future__ import annotations

import collections
import contextlib
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any, Protocol, TypeAlias

# A Lambda handler as the runtime calls it: `handler(event, context)`.
Handler: TypeAlias = Callable[[dict[str, Any], Any], Any]


class Function(Protocol):
    """What the gateway and the pollers invoke: a function in this process, or a pool of
    environment processes (embedded.environments)."""

    name: str

    def invoke(self, event: dict[str, Any]) -> Any: ...


# The function whose invocation the current thread is running, if any.
_current = threading.local()

# moto's account; ARNs built here match the ones moto reports for its queues.
ACCOUNT_ID = "123456789012"
MEMORY_MB = 512


class LambdaContext:
    """The fields of Lambda's context object that Powertools and handlers read."""

    def __init__(self, *, function_name: str, region: str, timeout_seconds: float) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:{region}:{ACCOUNT_ID}:function:{function_name}"
        self.memory_limit_in_mb = MEMORY_MB
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = f"local/{self.aws_request_id}"
        self.identity: Any = None
        self.client_context: Any = None
        self._deadline = time.monotonic() + timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


class FairLock:
    """A lock granted in the order it was asked for.

    `threading.Lock` lets whichever thread asks first after a release in, often the one that
    has just released it: with dozens of requests waiting on one environment, some waited many
    times longer than the rest (the tail of the latency). Here a release hands the lock to the
    oldest waiter.
    """

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._held = False
        self._waiters: collections.deque[threading.Lock] = collections.deque()

    def acquire(self) -> None:
        with self._mutex:
            if not self._held:
                self._held = True
                return
            turn = threading.Lock()
            turn.acquire()
            self._waiters.append(turn)
        turn.acquire()  # released by the release that hands this thread the lock

    def release(self) -> None:
        with self._mutex:
            if not self._held:
                raise RuntimeError("release of a FairLock that is not held")
            if self._waiters:
                self._waiters.popleft().release()  # still held: now by the oldest waiter
            else:
                self._held = False

    def __enter__(self) -> FairLock:
        self.acquire()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release()


class LocalFunction:
    """One Lambda function: a handler called with a fresh context per invocation.

    Invocations are serialized, as in a single Lambda execution environment: handlers keep
    per-invocation state in module-level objects (Powertools' resolver holds the current event,
    a BatchProcessor holds the current batch), which concurrent calls would trample.
    """

    def __init__(self, *, name: str, handler: Handler, region: str, timeout_seconds: float) -> None:
        self.name = name
        self.handler = handler
        self.region = region
        self.timeout_seconds = timeout_seconds
        self._lock = FairLock()

    def invoke(self, event: dict[str, Any]) -> Any:
        context = LambdaContext(
            function_name=self.name, region=self.region, timeout_seconds=self.timeout_seconds
        )
        with self._lock:
            _current.function = self
            try:
                return self.handler(event, context)
            finally:
                _current.function = None


@contextlib.contextmanager
def released_while_idle() -> Iterator[None]:
    """Let the current invocation's function serve other invocations while this one waits.

    On AWS a request that waits (a long poll) holds its own execution environment and the
    next request gets another one; here every function is one environment, so a waiting
    invocation steps aside until its wait ends, then carries on. A waiting invocation must
    read its event before it waits: the handler's per-invocation state belongs to whichever
    invocation runs.
    """
    function: LocalFunction | None = getattr(_current, "function", None)
    if function is None:
        yield
        return
    _current.function = None
    function._lock.release()
    try:
        yield
    finally:
        function._lock.acquire()
        _current.function = function
