"""One Lambda execution environment, in a process of its own: `python -I -S bootstrap.py
<config.json> <reply fd>`.

`-I -S` leave the interpreter with its standard library only; the config names what Lambda
would put on the path (the function's asset, its layers, the runtime's boto3), the handler and
the role's policy. Invocations come as JSON lines on stdin; each answer goes as one JSON line
to the reply file descriptor (stdout and stderr are the function's logs).
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import time
import traceback
import uuid
from typing import Any


class LambdaContext:
    """The context object Lambda's Python runtime passes to a handler."""

    def __init__(self, config: dict[str, Any]) -> None:
        name = config["function_name"]
        self.function_name = name
        self.function_version = "$LATEST"
        self.invoked_function_arn = config["function_arn"]
        self.memory_limit_in_mb = int(config["memory_mb"])
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME", f"/aws/lambda/{name}")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME", "local")
        self.identity = None
        self.client_context = None
        self._deadline = time.monotonic() + float(config["timeout_seconds"])

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def _error_body(error: BaseException) -> dict[str, Any]:
    return {
        "errorType": type(error).__name__,
        "errorMessage": str(error),
        "stackTrace": traceback.format_exception(error),
    }


def _loaded_modules() -> dict[str, str]:
    return {
        name: module.__file__
        for name, module in list(sys.modules.items())
        if getattr(module, "__file__", None)
    }


def main() -> None:
    with open(sys.argv[1]) as file:
        config = json.load(file)
    reply = os.fdopen(int(sys.argv[2]), "w", buffering=1)
    sys.path[:0] = config["paths"]
    # The policy check (standard library and the runtime's botocore only) comes last.
    sys.path.append(os.path.dirname(os.path.abspath(__file__)))
    import guard  # type: ignore[import-not-found]
    from iam_policy import Principal  # type: ignore[import-not-found]

    refused: list[dict[str, Any]] = []
    guard.install(Principal(**config["principal"]), refused)

    handler: Any = None
    init_error: dict[str, Any] | None = None
    try:  # Lambda's init phase: the handler's module is imported before the first event.
        module_name, function_name = config["handler"].rsplit(".", 1)
        handler = getattr(importlib.import_module(module_name), function_name)
    except Exception as error:
        init_error = _error_body(error)

    for line in sys.stdin:
        request = json.loads(line)
        answer: dict[str, Any]
        if request.get("probe") == "modules":
            answer = {"modules": _loaded_modules()}
        elif init_error is not None:
            answer = {"error": init_error}
        else:
            try:
                answer = {"result": handler(request["event"], LambdaContext(config))}
            except Exception as error:
                answer = {"error": _error_body(error)}
        answer["refused"] = refused[:]
        refused.clear()
        sys.stdout.flush()
        sys.stderr.flush()
        reply.write(json.dumps(answer, default=str) + "\n")


if __name__ == "__main__":
    main()
