"""What machine a benchmark ran on."""

from __future__ import annotations

import os
import platform
import sys


def describe() -> dict[str, str]:
    memory = "unknown"
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemTotal:"):
                    memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                    break
    except OSError:
        pass
    return {
        "cores": str(os.cpu_count()),
        "memory": memory,
        "cpu": platform.processor() or platform.machine(),
        "python": sys.version.split()[0],
        "system": f"{platform.system()} {platform.release()}",
    }
