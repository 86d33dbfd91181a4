"""The README's map of the code names every module with the line its docstring opens with."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MAPPED_FOLDERS = ("lambdas/baton", "embedded", "infra", "bench")


def _modules() -> list[Path]:
    found = [ROOT / "app.py"]
    for folder in MAPPED_FOLDERS:
        found.extend(sorted((ROOT / folder).rglob("*.py")))
    return found


def _opening_line(module: Path) -> str:
    docstring = ast.get_docstring(ast.parse(module.read_text(encoding="utf-8")))
    assert docstring, f"{module.relative_to(ROOT)} has no module docstring"
    return docstring.strip().splitlines()[0]


def test_every_module_is_in_the_map_with_its_opening_line() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = [
        f"- `{path}`: {line}"
        for module in _modules()
        if f"- `{(path := module.relative_to(ROOT).as_posix())}`: {(line := _opening_line(module))}"
        not in readme
    ]
    assert not missing, "README's map of the code lacks (or words differently):\n" + "\n".join(
        missing
    )


def test_the_map_names_no_module_that_is_gone() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Map of the code", 1)[1].split("\n## ", 1)[0]
    named = [
        line.split("`")[1]
        for line in section.splitlines()
        if line.startswith("- `") and line.split("`")[1].endswith(".py")
    ]
    assert named, "the map of the code names no module"
    gone = [path for path in named if not (ROOT / path).is_file()]
    assert not gone, f"the map names modules that do not exist: {gone}"
