"""Wake-up signals shared by the runtime's processes, over local datagram sockets.

A commit in one execution environment must wake a long poll (or a synchronous execute) waiting
in another at once, not on its next one-second recheck. Every process of the runtime (the
runtime itself and each environment) binds a Unix datagram socket in one directory the runtime
owns; a notification is sent to every other socket there, and each process's listener delivers
it to its own waiters. Only the keys and the tasks' ids travel (not what the committing
process knew of them: a woken poll in another process reads the task). A datagram that cannot
be sent (a full buffer, an environment being replaced) is dropped: the recheck still finds the
work.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import threading
from pathlib import Path

from baton import wakeup

logger = logging.getLogger(__name__)

SUFFIX = ".sock"
# A notification names at most this many tasks per key (a woken poll queries for the rest).
MAX_CANDIDATES = 64
MAX_DATAGRAM_BYTES = 65536

Work = dict[wakeup.SignalKey, list[wakeup.Candidate]]


def encode(work: Work) -> bytes:
    return json.dumps(
        [
            [task_type, domain, [[c.workflow_id, c.task_key] for c in candidates[:MAX_CANDIDATES]]]
            for (task_type, domain), candidates in work.items()
        ],
        separators=(",", ":"),
    ).encode()


def decode(data: bytes) -> Work:
    return {
        (str(task_type), str(domain)): [
            wakeup.Candidate(str(workflow_id), str(task_key)) for workflow_id, task_key in tasks
        ]
        for task_type, domain, tasks in json.loads(data)
    }


class Broadcast:
    """This process's member of the group in `directory`, named `name` (unique in the group)."""

    def __init__(self, directory: Path, name: str) -> None:
        self.directory = directory
        self.path = directory / f"{name}{SUFFIX}"
        self.path.unlink(missing_ok=True)  # left by an environment this one replaces
        self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._socket.bind(str(self.path))
        self._sender = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._sender.setblocking(False)
        self._signal: wakeup.WorkSignal | None = None
        self._closed = False
        self._thread = threading.Thread(target=self._listen, name="wakeup-broadcast", daemon=True)

    def attach(self, signal: wakeup.WorkSignal) -> Broadcast:
        """Publish `signal`'s notifications to the group and deliver the group's to it."""
        self._signal = signal
        signal.publish = self.publish
        self._thread.start()
        return self

    def peers(self) -> list[str]:
        try:
            names = os.listdir(self.directory)
        except OSError:
            return []
        own = self.path.name
        return [str(self.directory / n) for n in names if n.endswith(SUFFIX) and n != own]

    def publish(self, work: Work) -> None:
        data = encode(work)
        if len(data) > MAX_DATAGRAM_BYTES:
            data = encode({key: [] for key in work})
        for peer in self.peers():
            # A peer gone or busy finds the work on its recheck.
            with contextlib.suppress(OSError):
                self._sender.sendto(data, peer)

    def _listen(self) -> None:
        while not self._closed:
            try:
                data = self._socket.recv(MAX_DATAGRAM_BYTES)
            except OSError:
                return
            if not data:
                continue
            try:
                work = decode(data)
            except (ValueError, TypeError):
                logger.warning("A wake-up datagram could not be read; ignored")
                continue
            if self._signal is not None:
                self._signal.deliver(work)

    def close(self) -> None:
        self._closed = True
        if self._signal is not None and self._signal.publish == self.publish:
            self._signal.publish = None
        with contextlib.suppress(OSError):
            self._sender.sendto(b"", str(self.path))  # wakes the listener's recv
        self.path.unlink(missing_ok=True)
        for each in (self._socket, self._sender):
            with contextlib.suppress(OSError):
                each.shutdown(socket.SHUT_RDWR)
            each.close()
