"""The wake-up group's directory: named after its runtime, and removed on a later start once that
runtime has ended (a `kill -9` leaves it behind)."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from pathlib import Path

from embedded.broadcast import (
    DIRECTORY_PREFIX,
    SUFFIX,
    UNNAMED_GRACE_SECONDS,
    Broadcast,
    group_directory,
    remove_stale_groups,
)


def _ended_pid() -> int:
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


def _left_socket(directory: Path, name: str) -> None:
    """A socket file whose process has gone, as a kill -9 leaves it."""
    bound = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    bound.bind(str(directory / f"{name}{SUFFIX}"))
    bound.close()


def _aged(directory: Path) -> Path:
    past = time.time() - UNNAMED_GRACE_SECONDS - 10
    os.utime(directory, (past, past))
    return directory


def test_a_directory_is_named_after_its_runtime(tmp_path: Path) -> None:
    directory = group_directory(tmp_path)
    assert directory.name.startswith(f"{DIRECTORY_PREFIX}{os.getpid()}-")
    assert directory.is_dir()


def test_the_directory_of_an_ended_runtime_is_removed_and_a_living_ones_kept(
    tmp_path: Path,
) -> None:
    ended = tmp_path / f"{DIRECTORY_PREFIX}{_ended_pid()}-abc"
    ended.mkdir()
    _left_socket(ended, "runtime")
    living = group_directory(tmp_path)
    other = tmp_path / "unrelated"
    other.mkdir()

    newer = group_directory(tmp_path)

    assert not ended.exists()
    assert living.is_dir() and newer.is_dir() and other.is_dir()


def test_an_unnamed_directory_goes_only_once_old_and_with_no_one_listening(
    tmp_path: Path,
) -> None:
    abandoned = tmp_path / f"{DIRECTORY_PREFIX}q7w1x2z9"
    abandoned.mkdir()
    _left_socket(abandoned, "runtime")
    _aged(abandoned)
    empty = tmp_path / f"{DIRECTORY_PREFIX}empty000"
    empty.mkdir()
    _aged(empty)
    fresh = tmp_path / f"{DIRECTORY_PREFIX}fresh000"
    fresh.mkdir()
    listened = tmp_path / f"{DIRECTORY_PREFIX}listened"
    listened.mkdir()
    member = Broadcast(listened, "runtime")
    try:
        _aged(listened)
        removed = remove_stale_groups(tmp_path)
    finally:
        member.close()

    assert sorted(removed) == sorted([abandoned, empty])
    assert fresh.is_dir() and listened.is_dir()
