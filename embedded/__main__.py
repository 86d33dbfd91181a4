"""`python -m embedded` (`make run`): Baton on 127.0.0.1:$PORT until Ctrl-C or SIGTERM."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
import warnings
from types import FrameType

from embedded.runtime import DATA_DIR_VARIABLE, Runtime

logger = logging.getLogger("embedded")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m embedded", description="Baton on this machine (make run)."
    )
    parser.add_argument(
        "--in-memory",
        action="store_true",
        help="keep nothing: start empty and forget everything on stop (as BATON_DATA_DIR=)",
    )
    arguments = parser.parse_args(argv)
    if arguments.in_memory:
        os.environ[DATA_DIR_VARIABLE] = ""
    logging.basicConfig(
        level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logger.setLevel(os.environ.get("LOG_LEVEL", "INFO").upper())
    # Metrics are off locally, so every invocation would warn that it has none to publish.
    warnings.filterwarnings("ignore", message="No application metrics to publish")
    stop_requested = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop_requested.set()
        # A second Ctrl-C ends the process at once, should a clean stop hang.
        signal.signal(signal.SIGINT, signal.default_int_handler)

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)

    try:
        runtime = Runtime.from_environment()
        if runtime.starts_moto:
            # Every request of this process then goes to that server, which checks the key only.
            from embedded.dynamodb_wire import route_item_requests
            from embedded.environments import send_over_plain_connections, sign_with_key_only

            sign_with_key_only()
            runtime.start()
            send_over_plain_connections(runtime.endpoint_url)
            route_item_requests(runtime.endpoint_url, runtime.access_key_id, runtime.region)
        else:
            runtime.start()
    except Exception as error:
        expected = isinstance(error, (ModuleNotFoundError, ValueError, OSError))
        logger.error("Baton did not start: %s", error, exc_info=not expected)
        return 1
    print(runtime.banner(), flush=True)
    try:
        while not stop_requested.wait(0.5):
            pass
    finally:
        print("Stopping Baton...", flush=True)
        runtime.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
