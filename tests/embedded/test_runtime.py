"""The runtime starts, registers the tutorial, and stops cleanly."""

from __future__ import annotations

import logging
import os
import threading
import urllib.error
import urllib.request
from typing import Any

import pytest
from moto.server import ThreadedMotoServer

from embedded import Runtime, tutorial
from tests.embedded.conftest import StandIns

pytestmark = pytest.mark.slow


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2):
            return True
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False


def stand_in_runtime(stand_ins: StandIns, **kwargs: Any) -> Runtime:
    return Runtime(
        port=0,
        api_handler=stand_ins.api,
        events_handler=stand_ins.events,
        timers_handler=stand_ins.timers,
        system_tasks_handler=stand_ins.system_tasks,
        **kwargs,
    )


def test_it_starts_and_stops_cleanly() -> None:
    environment = dict(os.environ)
    threads_before = set(threading.enumerate())
    runtime = stand_in_runtime(StandIns(), tick_seconds=0.2, event_queue_names=["embedded_a"])
    runtime.start()
    threads = runtime.threads
    endpoint, api_url = runtime.endpoint_url, runtime.api_url

    assert all(thread.is_alive() for thread in threads)
    assert {t.name for t in threads} >= {"baton-gateway", "baton-ticker", "baton-poller-embedded_a"}
    assert answers(runtime.base_url + "/")
    runtime.stop()

    assert not any(thread.is_alive() for thread in threads)
    new_threads = set(threading.enumerate()) - threads_before
    assert not [t for t in new_threads if t.name.startswith("baton-")]
    assert not answers(endpoint)
    assert not answers(api_url)
    # The environment it set for the handlers is put back.
    assert dict(os.environ) == environment
    runtime.stop()


def test_it_registers_the_tutorial_verbatim(runtime: Runtime, stand_ins: StandIns) -> None:
    seeded = [(e["httpMethod"], e["path"], e["body"]) for e in stand_ins.api_events[:2]]

    assert seeded == [
        ("POST", "/api/metadata/workflow", tutorial.WORKFLOW_FILE.read_text()),
        ("POST", "/api/event", tutorial.EVENT_HANDLER_FILE.read_text()),
    ]
    assert stand_ins.api_events[0]["headers"]["Content-Type"] == "application/json"


@pytest.mark.parametrize(("status", "warned"), [(409, False), (500, True)])
def test_a_tutorial_already_registered_is_fine(
    status: int, warned: bool, caplog: pytest.LogCaptureFixture
) -> None:
    def api(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return {"statusCode": status, "body": '{"message": "exists"}'}

    stand_ins = StandIns()
    with (
        caplog.at_level(logging.WARNING, logger="embedded"),
        Runtime(
            port=0,
            event_queue_names=["embedded_b"],
            api_handler=api,
            events_handler=stand_ins.events,
            timers_handler=stand_ins.timers,
            system_tasks_handler=stand_ins.system_tasks,
        ),
    ):
        pass
    assert ("not registered" in caplog.text) is warned


def test_the_banner_names_the_api_and_how_to_start_the_tutorial(runtime: Runtime) -> None:
    banner = runtime.banner()

    assert runtime.api_url in banner
    assert (
        f"curl -s -X POST {runtime.api_url}/workflow/event_testing "
        "-H 'Content-Type: application/json' -d '{}'"
    ) in banner
    assert f"curl -s {runtime.api_url}/workflow/" in banner


def test_an_endpoint_given_is_used_and_left_running() -> None:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        with stand_in_runtime(
            StandIns(), endpoint_url=endpoint, seed=False, event_queue_names=["embedded_c"]
        ) as runtime:
            assert runtime.endpoint_url == endpoint
            assert runtime.queue_urls["embedded_c"].startswith(endpoint)
        assert answers(endpoint + "/moto-api/")
    finally:
        server.stop()


def test_settings_come_from_the_environment() -> None:
    runtime = Runtime.from_environment(
        {
            "PORT": "0",
            "BATON_TICK_SECONDS": "2.5",
            "BATON_EVENT_QUEUES": "one, two,,",
            "AWS_ENDPOINT_URL": "http://127.0.0.1:4566",
        }
    )
    assert runtime.requested_port == 0
    assert runtime.tick_seconds == 2.5
    assert runtime.requested_event_queue_names == ("one", "two")

    defaults = Runtime.from_environment({})
    assert defaults.requested_port == 8080
    assert defaults.tick_seconds == 60
    assert defaults.requested_event_queue_names is None

    with pytest.raises(ValueError, match="PORT"):
        Runtime.from_environment({"PORT": "eighty"})
