"""What moto was told, kept on disk: a write-ahead journal replayed on start, compacted into a
snapshot.

moto keeps its state in memory only. Every request that changes state and succeeds is appended
to the journal and fsync'd before its answer leaves moto, so whatever the API acknowledged is on
disk, whenever the process is killed. Appends are group-committed: one fsync covers every
record written while the previous one ran.

- DynamoDB writes and table requests, SQS queue requests and anything else that changes state
  (S3 objects) are kept as the request itself and replayed through moto's app in order: DynamoDB
  applies them one at a time (see `DurableApp`), so the replay reaches the same state.
- SQS messages are kept as what moto stored when they were sent (id, body, attributes, when they
  become visible) and removed when deleted; a replayed send would get a new id and a new delay.
  A message received but not deleted comes back visible after a restart, as it would after its
  visibility timeout: SQS delivers at least once, and Baton's consumers are idempotent.

A snapshot is moto's tables (pickled), the messages in every queue, and the queue and other
requests that have no other record. A snapshot is written to a temporary file, fsync'd and
renamed over the last one; only then are the journals it covers deleted. Each journal record
carries its length and a CRC: a record cut short by a crash is the end of the journal.
"""

from __future__ import annotations

import logging
import os
import pickle
import struct
import threading
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

SNAPSHOT_NAME = "snapshot.pickle"
JOURNAL_PREFIX = "journal-"
JOURNAL_SUFFIX = ".log"
# A journal this large is compacted into a new snapshot.
COMPACT_AFTER_BYTES = 64 * 1024 * 1024
_HEADER = struct.Struct(">II")  # length, crc32
FORMAT_VERSION = 1


@dataclass
class Record:
    """One journal record. `kind` is "request" (replayed through moto's app), "send" (SQS
    messages as stored) or "delete" (SQS message ids removed)."""

    kind: str
    data: dict[str, Any]


@dataclass
class Snapshot:
    next_journal: int = 0
    tables: dict[str, Any] = field(default_factory=dict)
    # Queue name -> the messages it held, as moto's Message objects.
    messages: dict[str, list[Any]] = field(default_factory=dict)
    # Requests replayed before the tables and messages are put back: queues, S3 objects.
    requests: list[dict[str, Any]] = field(default_factory=list)
    version: int = FORMAT_VERSION


def _fsync_directory(directory: Path) -> None:
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _journal_path(directory: Path, generation: int) -> Path:
    return directory / f"{JOURNAL_PREFIX}{generation:08d}{JOURNAL_SUFFIX}"


def journal_generations(directory: Path) -> list[int]:
    generations = []
    for path in directory.glob(f"{JOURNAL_PREFIX}*{JOURNAL_SUFFIX}"):
        number = path.name[len(JOURNAL_PREFIX) : -len(JOURNAL_SUFFIX)]
        if number.isdigit():
            generations.append(int(number))
    return sorted(generations)


def read_records(path: Path) -> Iterator[Record]:
    """The records of one journal, up to the first one that is incomplete or corrupt."""
    data = path.read_bytes()
    offset = 0
    while offset + _HEADER.size <= len(data):
        length, crc = _HEADER.unpack_from(data, offset)
        start = offset + _HEADER.size
        payload = data[start : start + length]
        if len(payload) < length or zlib.crc32(payload) != crc:
            logger.warning("%s ends with an incomplete record; the rest is ignored", path.name)
            return
        kind, body = pickle.loads(payload)
        yield Record(kind, body)
        offset = start + length


def read_snapshot(directory: Path) -> Snapshot:
    path = directory / SNAPSHOT_NAME
    if not path.exists():
        return Snapshot()
    with path.open("rb") as file:
        snapshot = pickle.load(file)
    if not isinstance(snapshot, Snapshot) or snapshot.version != FORMAT_VERSION:
        raise ValueError(f"{path} is not a snapshot this version of Baton can read")
    return snapshot


def write_snapshot(directory: Path, snapshot: Snapshot) -> None:
    temporary = directory / (SNAPSHOT_NAME + ".tmp")
    with temporary.open("wb") as file:
        pickle.dump(snapshot, file, protocol=pickle.HIGHEST_PROTOCOL)
        file.flush()
        os.fsync(file.fileno())
    os.replace(temporary, directory / SNAPSHOT_NAME)
    _fsync_directory(directory)


class Journal:
    """An append-only file of records; `append` then `wait_durable` (outside any lock that
    other writers need) makes a record durable, sharing fsyncs between concurrent writers."""

    def __init__(self, directory: Path, generation: int) -> None:
        self.directory = directory
        self.generation = generation
        self.path = _journal_path(directory, generation)
        self._descriptor = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        _fsync_directory(directory)
        self.size = os.fstat(self._descriptor).st_size
        self._lock = threading.Lock()
        self._synced = threading.Condition()
        self._written = 0
        self._durable = 0
        self._syncing = False
        self._closed = False

    def append(self, record: Record) -> int:
        """Write a record (not yet fsync'd); its sequence number, for `wait_durable`."""
        payload = pickle.dumps((record.kind, record.data), protocol=pickle.HIGHEST_PROTOCOL)
        frame = _HEADER.pack(len(payload), zlib.crc32(payload)) + payload
        with self._lock:
            os.write(self._descriptor, frame)
            self.size += len(frame)
            self._written += 1
            return self._written

    @property
    def written(self) -> int:
        with self._lock:
            return self._written

    def wait_durable(self, sequence: int) -> None:
        """Return once every record up to `sequence` is on disk."""
        with self._synced:
            while self._durable < sequence and not self._closed:
                if self._syncing:
                    self._synced.wait()
                    continue
                self._syncing = True
                target = self.written
                self._synced.release()
                try:
                    os.fsync(self._descriptor)
                finally:
                    self._synced.acquire()
                    self._syncing = False
                self._durable = max(self._durable, target)
                self._synced.notify_all()

    def close(self) -> None:
        """fsync and close; whoever still waits on this journal is then durable."""
        with self._synced:
            while self._syncing:
                self._synced.wait()
            with self._lock:
                os.fsync(self._descriptor)
                os.close(self._descriptor)
                self._durable = self._written
            self._closed = True
            self._synced.notify_all()


class Persistence:
    """The data directory: the current journal and the snapshot it follows."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.journal: Journal | None = None
        # The generation the next journal gets.
        self.next_generation = 0

    def load(self) -> tuple[Snapshot, Iterable[Record]]:
        """The snapshot and the records written after it, oldest first."""
        self.directory.mkdir(parents=True, exist_ok=True)
        snapshot = read_snapshot(self.directory)
        generations = [g for g in journal_generations(self.directory) if g >= snapshot.next_journal]
        self.next_generation = max([snapshot.next_journal, *(g + 1 for g in generations)])

        def records() -> Iterator[Record]:
            for generation in generations:
                yield from read_records(_journal_path(self.directory, generation))

        return snapshot, records()

    def open_journal(self, generation: int) -> Journal:
        self.journal = Journal(self.directory, generation)
        return self.journal

    def compact(self, snapshot: Snapshot) -> None:
        """Write `snapshot` (which holds everything journalled so far), start a new journal
        and delete the old ones. Callers hold every lock writers take."""
        generation = self.next_generation
        snapshot.next_journal = generation
        if self.journal is not None:
            self.journal.close()
        write_snapshot(self.directory, snapshot)
        self.open_journal(generation)
        self.next_generation = generation + 1
        for stale in journal_generations(self.directory):
            if stale < generation:
                _journal_path(self.directory, stale).unlink(missing_ok=True)


def summary(directory: Path) -> str:
    """A line for the banner: where the state lives and how much of it there is."""
    sizes = sum(p.stat().st_size for p in directory.glob("*") if p.is_file())
    return f"{directory} ({sizes / 1e6:.1f} MB)"
