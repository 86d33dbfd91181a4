"""jq programs run in a supervised child process, so one that never ends can be stopped.

The jq library runs a program to its end while holding the GIL: nothing in the process can
interrupt `[range(1e12)]` or `def f: f; f`. Each evaluation is therefore sent over a
multiprocessing Pipe to one child process (started on first use and reused, with its compiled
programs cached), and the answer awaited for at most the time limit. A child that does not
answer in time is killed and a new one started for the next evaluation; the evaluation fails
with JqLimitError. The child runs under an address-space limit (RLIMIT_AS), so a program that
builds a huge value fails there instead of taking the function's memory; a child that dies
that way is replaced too.

A Pipe rather than a Queue or Pool: Lambda has no /dev/shm, which those need. The child is
started with `spawn`, so it shares no locks or threads with the parent.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from multiprocessing.connection import Connection

# What one evaluation may take, as INLINE scripts may (baton.engine.js).
TIME_LIMIT_SECONDS: Final = 1.0
# The child's address space: the interpreter and jq need about 60 MB of it; the rest is the
# room a program has to build values. With the parent it fits in the functions' 512 MB
# (infra/functions.py), so a runaway program fails here, not by Lambda's out-of-memory kill.
MEMORY_LIMIT_BYTES: Final = 256 * 1024 * 1024
# Starting the child (a fresh interpreter importing jq) is given this long.
_START_SECONDS: Final = 30.0


class JqProcessError(Exception):
    """The program failed; the message is jq's (or the child's) own."""


class JqLimitError(JqProcessError):
    """The program ran past the time limit or out of memory; the child was replaced."""


def _serve(connection: Connection, memory_limit: int, max_results: int) -> None:
    """The child: evaluate what arrives until the pipe closes."""
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (memory_limit, memory_limit))
    except (ImportError, ValueError, OSError):
        pass  # no limit where the platform refuses one; the time limit still holds
    from baton.engine.jq_program import JqError, run_in_this_process

    connection.send(("ready", None))
    while True:
        try:
            query, text = connection.recv()
        except EOFError:
            return
        try:
            reply: tuple[str, Any] = ("ok", run_in_this_process(query, text, max_results))
        except JqError as error:
            reply = ("error", str(error))
        except MemoryError:
            reply = ("memory", None)
        connection.send(reply)


class JqProcess:
    """One supervised child, used by one evaluation at a time."""

    def __init__(
        self,
        *,
        time_limit_seconds: float = TIME_LIMIT_SECONDS,
        memory_limit_bytes: int = MEMORY_LIMIT_BYTES,
    ) -> None:
        self.time_limit_seconds = time_limit_seconds
        self.memory_limit_bytes = memory_limit_bytes
        self._lock = threading.Lock()
        self._process: Any = None
        self._connection: Connection | None = None
        # How many children were started: the first, and one after each kill.
        self.started = 0

    def _start(self, max_results: int) -> Connection:
        # Imported on the first jq task: multiprocessing (and pickle) cost every cold start
        # otherwise, and most workflows have no JSON_JQ_TRANSFORM.
        import multiprocessing

        context = multiprocessing.get_context("spawn")
        parent, child = context.Pipe(duplex=True)
        process = context.Process(
            target=_serve,
            args=(child, self.memory_limit_bytes, max_results),
            name="baton-jq",
            daemon=True,
        )
        process.start()
        child.close()
        if not parent.poll(_START_SECONDS) or parent.recv()[0] != "ready":
            process.kill()
            raise JqProcessError("The jq process did not start")
        self._process, self._connection = process, parent
        self.started += 1
        return parent

    def _stop(self) -> None:
        if self._connection is not None:
            self._connection.close()
        if self._process is not None:
            self._process.kill()
            self._process.join(5)
        self._process = self._connection = None

    def evaluate(self, query: str, text: str, max_results: int) -> list[Any]:
        """Every value `query` produces from the JSON `text`, within the limits."""
        with self._lock:
            connection = self._connection
            if connection is None or not self._process.is_alive():
                self._stop()
                connection = self._start(max_results)
            reply: tuple[str, Any]
            try:
                connection.send((query, text))
                answered = connection.poll(self.time_limit_seconds)
                reply = connection.recv() if answered else ("time", None)
            except (EOFError, OSError):
                reply = ("died", None)
            kind, value = reply
            if kind == "ok":
                return list(value or ())
            if kind == "error":
                raise JqProcessError(str(value))
            self._stop()  # the next evaluation starts a fresh child
            if kind == "time":
                raise JqLimitError(
                    f"The jq program did not finish within {self.time_limit_seconds:g} s; it "
                    "may not end (a recursion or a range without end)"
                )
            raise JqLimitError(
                f"The jq program ran out of memory (its limit is "
                f"{self.memory_limit_bytes // (1024 * 1024)} MB)"
            )

    def close(self) -> None:
        with self._lock:
            self._stop()


_shared = JqProcess()


def evaluate(query: str, text: str, max_results: int) -> list[Any]:
    """Evaluate in this process's shared child."""
    return _shared.evaluate(query, text, max_results)
