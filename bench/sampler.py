"""A sampling profiler over every thread: which functions the process spends its time in.

cProfile sees one thread; the embedded runtime runs its work on many (HTTP requests, queue
pollers, moto's server). Sampling every thread's stack names the bottleneck across all.
"""

from __future__ import annotations

import sys
import sysconfig
import threading
from collections import Counter
from types import FrameType


def _label(frame: FrameType) -> str:
    code = frame.f_code
    path = code.co_filename
    for marker in ("site-packages/", "lambdas/", "embedded/", "bench/"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    else:
        # The standard library: named by module, not by where this machine installed it.
        stdlib = sysconfig.get_paths()["stdlib"] + "/"
        if path.startswith(stdlib):
            path = "stdlib/" + path[len(stdlib) :]
    return f"{path}:{code.co_name}"


class Sampler:
    """Samples all threads' stacks every `interval` seconds while running."""

    def __init__(self, interval: float = 0.005) -> None:
        self.interval = interval
        self.inclusive: Counter[str] = Counter()
        self.own: Counter[str] = Counter()
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sampler", daemon=True)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        me = threading.get_ident()
        while not self._stop.wait(self.interval):
            for thread_id, frame in sys._current_frames().items():
                if thread_id == me:
                    continue
                labels = []
                current: FrameType | None = frame
                while current is not None:
                    labels.append(_label(current))
                    current = current.f_back
                # Threads parked in a wait (long polls, idle servers) are not work.
                if any(
                    name.endswith((":wait", ":select", ":_wait_for_tstate_lock", ":accept"))
                    for name in labels[:2]
                ):
                    continue
                self.samples += 1
                self.own[labels[0]] += 1
                for label in set(labels):
                    self.inclusive[label] += 1

    def share(self, label: str) -> float:
        """Share of busy samples with `label` anywhere on the stack."""
        return 100.0 * self.inclusive[label] / max(1, self.samples)

    def top(
        self, counter: Counter[str], count: int = 12, prefix: str = ""
    ) -> list[tuple[str, float]]:
        """The most sampled labels (starting with `prefix`), as shares of busy samples."""
        total = max(1, self.samples)
        chosen = [(label, n) for label, n in counter.most_common() if label.startswith(prefix)]
        return [(label, 100.0 * n / total) for label, n in chosen[:count]]
