"""bench.local_runtime's section of RESULTS.md, written from a run's result."""

from __future__ import annotations

from typing import Any

from bench.local_runtime import section


def _latency(workflows: int, clients: int) -> dict[str, Any]:
    return {
        "workflows": workflows,
        "clients": clients,
        "seconds": 10.0,
        "per_second": workflows / 10,
        "p50_ms": 100.0,
        "p99_ms": 200.0,
        "connection_errors": 0,
        "non_200": 0,
        "load_average": 1.0,
        "cpu_ms_per_workflow": {"moto": 8.0, "environments": 5.0, "runtime": 1.0},
    }


def test_memory_is_given_by_process_kind_whether_pids_are_numbers_or_text() -> None:
    kinds = {"10": "runtime", "11": "moto", "12": "environments", "13": "environments"}
    result: dict[str, Any] = {
        "sustained": _latency(1000, 16),
        **{f"latency_{c}": _latency(50 * c, c) for c in (8, 32, 64)},
        "process_kinds": kinds,
        "seed_counts": [1000, 10000],
        "idle_cpu_empty": 0.01,
        "idle_cpu_loaded": 0.02,
        "idle_cpu_restarted": 0.003,
        "stored_workflows": 25200,
        "data_dir_mb": 90.0,
        "restart_seconds": 12.0,
        "first_start_seconds": 3.0,
        "command": "python -m bench.local_runtime",
        "scale": 1,
    }
    for pid_type in (int, str):
        result["rss_small_mb"] = {
            pid_type(p): mb for p, mb in zip(kinds, (120, 300, 100, 100), strict=True)
        }
        result["rss_large_mb"] = {
            pid_type(p): mb for p, mb in zip(kinds, (120, 480, 100, 100), strict=True)
        }
        text = "\n".join(section(result))
        assert "environments 200 MB, moto 300 MB, runtime 120 MB" in text
        assert "moto grew 20 KB per seed-like workflow stored" in text
        assert "was busy 80% of a core" in text
        assert "?" not in text.split("Resident memory", 1)[1].split("Idle CPU", 1)[0]
