"""The API function serves the web UI's build on the UI's resources, and nothing else there."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from baton import web_ui
from tests.runtime.lambda_events import FakeContext, api_event, call_api


@pytest.fixture
def build(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text("<!doctype html><title>Baton</title>")
    (tmp_path / "assets" / "index-abc123.js").write_text("console.log('baton')")
    (tmp_path / "assets" / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\xff")
    (tmp_path.parent / "secret.txt").write_text("not the UI's")
    monkeypatch.setenv(web_ui.UI_DIR_VARIABLE, str(tmp_path))
    return tmp_path


def ui_event(path: str, method: str = "GET", resource: str = "/{proxy+}") -> dict[str, Any]:
    return {"resource": resource, "path": path, "httpMethod": method}


def test_a_ui_route_gets_the_page_and_an_asset_gets_itself_cached_for_good(build: Path) -> None:
    page = web_ui.answer(ui_event("/execution/some-id"))
    assert page["statusCode"] == 200
    assert page["headers"]["Content-Type"].startswith("text/html")
    assert page["headers"]["Cache-Control"] == "no-cache"
    assert page["body"] == (build / "index.html").read_text()

    asset = web_ui.answer(ui_event("/assets/index-abc123.js"))
    assert asset["headers"]["Content-Type"].startswith("text/javascript")
    assert "immutable" in asset["headers"]["Cache-Control"]
    assert asset["body"] == "console.log('baton')"

    root = web_ui.answer(ui_event("/", resource="/"))
    assert root["body"] == page["body"]


def test_binary_files_are_base64_as_api_gateway_expects(build: Path) -> None:
    image = web_ui.answer(ui_event("/assets/logo.png"))
    assert image["isBase64Encoded"] is True
    assert base64.b64decode(image["body"]) == (build / "assets" / "logo.png").read_bytes()


@pytest.mark.parametrize(
    "path", ["/../secret.txt", "/assets/../../secret.txt", "/%2e%2e/secret.txt"]
)
def test_a_path_that_climbs_out_of_the_build_gets_the_page(build: Path, path: str) -> None:
    answer = web_ui.answer(ui_event(path))
    assert answer["statusCode"] == 200
    assert "not the UI's" not in answer["body"]
    assert answer["body"] == (build / "index.html").read_text()


def test_only_get_and_head(build: Path) -> None:
    answer = web_ui.answer(ui_event("/definitions", method="POST"))
    assert answer["statusCode"] == 405


def test_without_a_build_the_root_says_how_to_build_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(web_ui.UI_DIR_VARIABLE, str(tmp_path / "nothing"))
    root = web_ui.answer(ui_event("/", resource="/"))
    assert root["statusCode"] == 200 and "make ui" in root["body"]
    assert web_ui.answer(ui_event("/executions"))["statusCode"] == 404


def test_the_api_function_answers_the_ui_resources_with_files_and_api_paths_with_the_api(
    build: Path, aws: Any
) -> None:
    from baton.handlers import api as api_handler

    # A UI resource whose path looks like the API's still gets only files.
    event = {**api_event("GET", "/api/metadata/workflow"), "resource": "/{proxy+}"}
    page = api_handler.handler(event, FakeContext())
    assert page["headers"]["Content-Type"].startswith("text/html")
    assert page["body"] == (build / "index.html").read_text()

    listed = call_api("GET", "/api/metadata/workflow")
    assert listed.status == 200 and isinstance(json.loads(listed.body), list)
