"""bench/RESULTS.md by sections, `make bench`'s assembly of them, and the simulated day's sums."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import bench.__main__ as bench_main
from bench import cost, results, scale_day

TEXT = "# Benchmark results\n\nheader\n\n## 1. One\n\nfirst\n\n## 2. Two\n\nsecond\n"


def test_a_section_is_replaced_and_the_others_kept() -> None:
    replaced = results.replace_section(TEXT, "## 1. One", ["## 1. One", "", "new", ""])
    assert replaced == "# Benchmark results\n\nheader\n\n## 1. One\n\nnew\n\n## 2. Two\n\nsecond\n"


def test_the_last_section_is_replaced_to_the_end() -> None:
    replaced = results.replace_section(TEXT, "## 2. Two", ["## 2. Two", "", "newer", ""])
    assert replaced.endswith("## 1. One\n\nfirst\n\n## 2. Two\n\nnewer\n")


def test_a_missing_section_is_appended() -> None:
    added = results.replace_section(TEXT, "## 3. Three", ["## 3. Three", "", "third"])
    assert added == TEXT + "\n## 3. Three\n\nthird\n"


def test_a_missing_section_goes_before_the_first_that_follows_it() -> None:
    added = results.replace_section(
        TEXT, "## 1b. Between", ["## 1b. Between", "", "b", ""], ("## 9. Gone", "## 2. Two")
    )
    assert added.endswith("## 1. One\n\nfirst\n\n## 1b. Between\n\nb\n\n## 2. Two\n\nsecond\n")


def test_a_title_that_prefixes_another_is_not_mistaken_for_it() -> None:
    text = "# R\n\n## 2b. Many\n\nmany\n\n## 2. Two\n\ntwo\n"
    replaced = results.replace_section(text, "## 2. Two", ["## 2. Two", "", "2"])
    assert replaced == "# R\n\n## 2b. Many\n\nmany\n\n## 2. Two\n\n2\n"


def test_write_section_keeps_the_rest_of_the_file(tmp_path: Path) -> None:
    path = tmp_path / "RESULTS.md"
    path.write_text(TEXT)
    results.write_section("## 1. One", ["## 1. One", "", "again", ""], path)
    assert "again" in path.read_text() and "second" in path.read_text()


def test_quick_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(results.QUICK_VARIABLE, "1")
    assert results.quick_from_environment()
    monkeypatch.setenv(results.QUICK_VARIABLE, "0")
    assert not results.quick_from_environment()


def test_every_section_has_its_own_title_and_name() -> None:
    sections = bench_main.sections()
    assert len({s.title for s in sections}) == len(sections)
    assert len({s.name for s in sections}) == len(sections)
    assert all(s.title.startswith("## ") for s in sections)
    names = [s.name for s in sections]
    assert {"search", "instructions", "fan_in", "scale_day", "local_runtime"} <= set(names)


@pytest.fixture(autouse=True)
def _sections_measured_here(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bench_main, "measure", lambda section, run: section.write(run))


def test_a_section_whose_own_process_fails_keeps_the_figures_from_before(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The real child process, asked for a section it does not have: it fails, nothing is
    # taken for the section's lines, and the figures from before are kept and said stale.
    monkeypatch.setattr(bench_main, "measure", bench_main._lines_in_child)
    section = bench_main.Section("no_such_section", "## 2. Two", lambda _: ["## 2. Two", "new"])
    lines = bench_main._write(section, _run(), TEXT)
    assert "new" not in lines and "second" in lines
    assert "Not refreshed" in lines[2] and "exit status" in lines[2]


def _run(quick: bool = False) -> bench_main.Run:
    return bench_main.Run(lambda _: None, quick, None)


def test_a_failing_section_keeps_the_figures_from_before_and_says_so() -> None:
    def broken(run: bench_main.Run) -> list[str]:
        raise RuntimeError("no moto")

    section = bench_main.Section("two", "## 2. Two", broken)
    lines = bench_main._write(section, _run(), TEXT)
    assert lines[0] == "## 2. Two"
    assert "Not refreshed" in lines[2] and "RuntimeError: no moto" in lines[2]
    assert "second" in lines


def test_a_shortened_section_says_so() -> None:
    section = bench_main.Section("one", "## 1. One", lambda _: ["## 1. One", "", "x"], "less")
    assert "Shortened run" in bench_main._write(section, _run(quick=True), TEXT)[2]
    assert bench_main._write(section, _run(quick=False), TEXT) == ["## 1. One", "", "x"]


def _measured() -> dict[str, Any]:
    """A seed's measurement in the shape `bench.cost.measure_seed` returns."""
    return {
        "runs": 20,
        "dynamodb_write_units": 20.0,
        "dynamodb_read_units": 6.0,
        "dynamodb_index_write_units": {"by_due_time": 4.0, "by_type_status": 3.0},
        "sqs_requests": 3.0,
        "lambda_invocations": {"api": 1.0, "events": 0.5},
        "lambda_mean_seconds": {"api": 0.05, "events": 0.2},
        "api_requests": 1.0,
        "calls": {"sqs.SendMessage": 2.0},
        "units_by_table": {"Workflows": {"write": 12.0, "read": 3.0}},
        "stored_bytes": {"table": 4096.0, "indexes": 1024.0},
    }


def test_the_day_multiplies_the_measured_workflow_out() -> None:
    simulated = scale_day.day(_measured(), 1_000, 2.0)
    assert simulated["workflows"] == 86_400_000
    per_million = cost.baton_cost(_measured())
    assert simulated["variable"]["DynamoDB writes"] == pytest.approx(
        per_million["DynamoDB writes"] * 86.4
    )
    # 86.4 million workflows a day kept 30 days, 5 KB each.
    assert simulated["kept_gb"] == pytest.approx(86_400_000 * 30 * 5120 / 1024**3)


def test_the_quotas_are_checked_at_the_peak() -> None:
    found = {c.bound: c for c in scale_day.checks(_measured(), 2_000)}
    stage = found["API Gateway, Baton's stage (`apiRateLimit`)"]
    assert (stage.demand, stage.limit, stage.exceeded) == (2_000, 200, True)
    # 2,000 a second times 0.05 s, and 1,000 a second times 0.2 s.
    assert found["Lambda concurrent executions (per region)"].demand == pytest.approx(300)
    new_table = found["DynamoDB `Workflows` table, writes a new table takes at once"]
    assert new_table.demand == 24_000 and new_table.exceeded
    due = found["DynamoDB index `by_due_time`, one of its 8 partitions"]
    assert due.demand == pytest.approx(1_000) and not due.exceeded
    assert found["DynamoDB index `by_type_status`, one of its 4 partitions"].exceeded


def test_the_section_names_each_exceeded_bound() -> None:
    lines = scale_day.section(_measured())
    assert lines[0] == scale_day.SECTION_TITLE
    summary = next(line for line in lines if line.startswith("- Exceeded at the peak"))
    assert "apiRateLimit" in summary and "by_type_status" in summary


def test_the_shortened_runs_pass_options_the_benchmarks_take() -> None:
    import inspect

    from bench import end_to_end, local_runtime

    inspect.signature(end_to_end.run).bind(print, **bench_main.QUICK_END_TO_END)
    inspect.signature(local_runtime.run).bind(print, **bench_main.QUICK_LOCAL)
    inspect.signature(cost.measure_seed).bind(print, bench_main.QUICK_SEED_RUNS)


def _fake_sections() -> list[bench_main.Section]:
    return [
        bench_main.Section("one", "## 1. One", lambda _: ["## 1. One", "", "fresh one", ""]),
        bench_main.Section(
            "two", "## 2. Two", lambda _: ["## 2. Two", "", "fresh two", ""], "fewer runs"
        ),
    ]


def test_a_full_run_writes_the_header_and_every_section(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "RESULTS.md"
    path.write_text(TEXT)
    monkeypatch.setattr(bench_main, "RESULTS", path)
    monkeypatch.setattr(bench_main, "sections", _fake_sections)
    monkeypatch.setenv(results.QUICK_VARIABLE, "1")
    monkeypatch.setattr("sys.argv", ["bench"])
    bench_main.main()
    written = path.read_text()
    assert written.startswith("# Benchmark results\n\nRun ")
    assert "BENCH_QUICK=1" in written.splitlines()[2]
    assert "fresh one" in written and "fresh two" in written and "first" not in written
    assert "**Shortened run** (`BENCH_QUICK=1`): fewer runs" in written


def test_only_refreshes_the_sections_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "RESULTS.md"
    path.write_text(TEXT)
    monkeypatch.setattr(bench_main, "RESULTS", path)
    monkeypatch.setattr(bench_main, "sections", _fake_sections)
    monkeypatch.delenv(results.QUICK_VARIABLE, raising=False)
    monkeypatch.setattr("sys.argv", ["bench", "--only", "two"])
    bench_main.main()
    written = path.read_text()
    assert written.startswith(TEXT.split("## 2. Two", maxsplit=1)[0])
    assert "fresh two" in written and "fresh one" not in written
    assert "`python -m bench --only two`" in written
