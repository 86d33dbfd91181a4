"""Wake-up signals shared by the runtime's processes, over local datagram sockets.

A commit in one execution environment must wake a long poll (or a synchronous execute) waiting
in another at once, not on its next one-second recheck. Every process of the runtime (the
runtime itself and each environment) binds a Unix datagram socket in one directory the runtime
owns; a notification is sent to every other socket there, and each process's listener delivers
it to its own waiters. Only the keys and the tasks' ids travel (not what the committing
process knew of them: a woken poll in another process reads the task). A datagram that cannot
be sent (a full buffer, an environment being replaced) is dropped: the recheck still finds the
work.

The directory is named after the runtime's process id (`group_directory`). A runtime killed
with `kill -9` cannot remove its own, so each start removes those whose runtime has ended.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import socket
import tempfile
import threading
import time
from pathlib import Path

from baton import wakeup

logger = logging.getLogger(__name__)

SUFFIX = ".sock"
# A notification names at most this many tasks per key (a woken poll queries for the rest).
MAX_CANDIDATES = 64
MAX_DATAGRAM_BYTES = 65536

Work = dict[wakeup.SignalKey, list[wakeup.Candidate]]

DIRECTORY_PREFIX = "baton-wakeup-"
# A directory that names no process (made before they were named) is left alone this long after
# it last changed, in case its runtime is still starting.
UNNAMED_GRACE_SECONDS = 60.0


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True


def _owner(directory: Path) -> int | None:
    """The process id a group directory is named after, if it is."""
    number, dash, _ = directory.name[len(DIRECTORY_PREFIX) :].partition("-")
    return int(number) if dash and number.isdigit() else None


def _any_member_listening(directory: Path) -> bool:
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as probe:
        probe.setblocking(False)
        for path in directory.glob(f"*{SUFFIX}"):
            try:
                probe.sendto(b"", str(path))  # an empty datagram is ignored by listeners
            except BlockingIOError:
                return True  # a full buffer: someone reads it
            except OSError:
                continue  # no one bound there any more
            return True
    return False


def is_stale(directory: Path, *, now: float | None = None) -> bool:
    """Whether a group directory belongs to a runtime that has ended."""
    owner = _owner(directory)
    if owner is not None:
        return not _process_alive(owner)
    try:
        age = (time.time() if now is None else now) - directory.stat().st_mtime
    except OSError:
        return False
    return age > UNNAMED_GRACE_SECONDS and not _any_member_listening(directory)


def remove_stale_groups(parent: Path | None = None) -> list[Path]:
    """Remove the group directories under `parent` (the temporary directory) whose runtime has
    ended; those removed."""
    root = Path(parent or tempfile.gettempdir())
    removed = []
    for directory in root.glob(f"{DIRECTORY_PREFIX}*"):
        if directory.is_dir() and not directory.is_symlink() and is_stale(directory):
            shutil.rmtree(directory, ignore_errors=True)
            removed.append(directory)
    return removed


def group_directory(parent: Path | None = None) -> Path:
    """A new group directory for this process, after removing those left by ended runtimes."""
    removed = remove_stale_groups(parent)
    if removed:
        logger.info("Removed %d wake-up directory(ies) left by ended runtimes", len(removed))
    prefix = f"{DIRECTORY_PREFIX}{os.getpid()}-"
    return Path(tempfile.mkdtemp(prefix=prefix, dir=str(parent) if parent else None))


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
