"""The whole of Baton on this machine: moto for DynamoDB and SQS, and the Lambdas' own handlers.

Nothing from `baton` is imported before `start()` has set the environment, because the
pynamodb models read their table names and endpoint when they are first imported. For the
same reason the real handlers serve one Runtime per process (the first to import them); tests
that start several Runtimes pass stand-in handlers.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import shutil
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, cast

from embedded import tutorial
from embedded.functions import Function, Handler, LocalFunction, released_while_idle
from embedded.gateway import Gateway
from embedded.pollers import DEFAULT_WAIT_TIME_SECONDS, QueuePoller, Ticker
from embedded.resources import ProvisionedQueue, create_bucket, create_queues, create_tables

if TYPE_CHECKING:
    import threading

    from baton.store.schema import TableSpec
    from embedded.broadcast import Broadcast
    from embedded.environments import FunctionPool

logger = logging.getLogger(__name__)

# Variables read by the runtime itself (the handlers' own names are in baton.settings).
PORT_VARIABLE = "PORT"
TICK_SECONDS_VARIABLE = "BATON_TICK_SECONDS"
EVENT_QUEUES_VARIABLE = "BATON_EVENT_QUEUES"
LOCAL_METRICS_VARIABLE = "BATON_LOCAL_METRICS"
# For tests that must see a redelivery or a dead letter in seconds: every queue's visibility
# timeout and maxReceiveCount (unset: each queue's spec decides).
VISIBILITY_TIMEOUT_VARIABLE = "BATON_VISIBILITY_TIMEOUT_SECONDS"
MAX_RECEIVE_COUNT_VARIABLE = "BATON_MAX_RECEIVE_COUNT"
# Where moto's state is kept (unset: .baton/ in the checkout; empty: in memory, nothing kept).
DATA_DIR_VARIABLE = "BATON_DATA_DIR"
DEFAULT_DATA_DIR = Path(__file__).resolve().parent.parent / ".baton"
# How many execution environments (processes) serve the API function; 0 runs every handler in
# the runtime's own process. Unset: one per core and one more (an environment spends most of an
# invocation waiting for moto; with one per core the cores idled while every one waited).
ENVIRONMENTS_VARIABLE = "BATON_ENVIRONMENTS"

DEFAULT_PORT = 8080
DEFAULT_TICK_SECONDS = 60.0
DEFAULT_REGION = "us-east-1"
STOP_TIMEOUT_SECONDS = 10.0
STOP_GRACE_SECONDS = 0.5


def _import_handler(module_name: str) -> Handler:
    """The `handler` of one of Baton's Lambda modules, imported once the environment is set."""
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name and module_name.startswith(error.name):
            raise ModuleNotFoundError(
                f"The embedded runtime runs {module_name}.handler, but {error.name} cannot be "
                "imported: run `python -m embedded` from the repository root (it puts lambdas/ "
                "on sys.path), or pass a stand-in handler to Runtime",
                name=error.name,
            ) from error
        raise
    return cast(Handler, module.handler)


def _optional_int(env: Mapping[str, str], name: str, *, minimum: int) -> int | None:
    """An integer setting that may be absent; a value that is not one is refused clearly."""
    value = (env.get(name) or "").strip()
    if not value:
        return None
    try:
        number = int(value)
    except ValueError:
        number = minimum - 1
    if number < minimum:
        raise ValueError(f"{name} must be an integer of at least {minimum}, not {value!r}")
    return number


class Runtime:
    """Baton on this machine: `with Runtime(port=0) as rt: ...` or `start()` then `stop()`.

    Handlers default to the real `baton.handlers.api|events|timers|system_tasks` modules,
    imported in `start()`; pass `api_handler`, `events_handler`, `timers_handler` or
    `system_tasks_handler` to run stand-ins.
    `visibility_timeout_seconds` and `max_receive_count` override every queue's spec, so tests
    see a redelivery or a dead letter in seconds. With a `data_dir`, moto's state is kept there
    and rebuilt on the next start (see embedded.persistence); without, it is in memory only.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = DEFAULT_PORT,
        tick_seconds: float = DEFAULT_TICK_SECONDS,
        event_queue_names: Sequence[str] | None = None,
        endpoint_url: str | None = None,
        api_handler: Handler | None = None,
        events_handler: Handler | None = None,
        timers_handler: Handler | None = None,
        system_tasks_handler: Handler | None = None,
        seed: bool = True,
        queue_prefix: str = "baton",
        visibility_timeout_seconds: int | None = None,
        max_receive_count: int | None = None,
        wait_time_seconds: int = DEFAULT_WAIT_TIME_SECONDS,
        data_dir: Path | None = None,
        environments: int = 0,
    ) -> None:
        self.host = host
        self.environments = environments
        self.data_dir = data_dir
        self.requested_port = port
        self.tick_seconds = tick_seconds
        self.requested_event_queue_names = (
            None if event_queue_names is None else tuple(event_queue_names)
        )
        self.seed = seed
        self.queue_prefix = queue_prefix
        self.visibility_timeout_seconds = visibility_timeout_seconds
        self.max_receive_count = max_receive_count
        self.wait_time_seconds = wait_time_seconds
        self._injected: dict[str, Handler | None] = {
            "api": api_handler,
            "events": events_handler,
            "timers": timers_handler,
            "system_tasks": system_tasks_handler,
        }
        self._given_endpoint_url = endpoint_url
        # The key moto's server accepts: random per run, unless set for tools that inspect it.
        # (Imported here: `python -m embedded.moto_server` imports this package first.)
        from embedded.moto_server import ACCESS_KEY_VARIABLE, new_access_key_id

        self.access_key_id = os.environ.get(ACCESS_KEY_VARIABLE) or new_access_key_id()

        # Filled in by start().
        self.region = DEFAULT_REGION
        self.endpoint_url = ""
        self.sqs: Any = None
        self.dynamodb: Any = None
        self.table_specs: list[TableSpec] = []
        self.queues: dict[str, ProvisionedQueue] = {}
        self.event_queue_names: tuple[str, ...] = ()
        # The functions run in this process; the API's, when it runs in environments of its
        # own, is `api_pool` instead.
        self.functions: dict[str, LocalFunction] = {}
        self.api_pool: FunctionPool | None = None
        self.broadcast: Broadcast | None = None
        self._broadcast_dir: Path | None = None
        self.gateway: Gateway | None = None
        self.pollers: list[QueuePoller] = []
        self.ticker: Ticker | None = None
        self._moto: Any = None
        self._saved_environment: dict[str, str | None] = {}
        self._started = False
        self._stopped = False

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> Runtime:
        """The runtime `python -m embedded` runs: PORT, BATON_TICK_SECONDS, BATON_EVENT_QUEUES,
        AWS_ENDPOINT_URL (an endpoint to use instead of starting moto's server), BATON_DATA_DIR
        (unset: .baton/ in the checkout; empty: in memory), BATON_ENVIRONMENTS (the API's
        environment processes; unset: one per core and one more; 0: in this process), and for tests
        BATON_VISIBILITY_TIMEOUT_SECONDS and BATON_MAX_RECEIVE_COUNT (every queue's)."""
        env = os.environ if environ is None else environ
        data_dir = env.get(DATA_DIR_VARIABLE)
        queues = env.get(EVENT_QUEUES_VARIABLE, "")
        names = [name.strip() for name in queues.split(",") if name.strip()]
        try:
            port = int(env.get(PORT_VARIABLE) or DEFAULT_PORT)
            tick_seconds = float(env.get(TICK_SECONDS_VARIABLE) or DEFAULT_TICK_SECONDS)
        except ValueError as error:
            raise ValueError(
                f"{PORT_VARIABLE} must be an integer and {TICK_SECONDS_VARIABLE} a number of "
                f"seconds: {error}"
            ) from None
        environments = _optional_int(env, ENVIRONMENTS_VARIABLE, minimum=0)
        return cls(
            environments=(os.cpu_count() or 1) + 1 if environments is None else environments,
            port=port,
            tick_seconds=tick_seconds,
            event_queue_names=names or None,
            endpoint_url=env.get("AWS_ENDPOINT_URL") or None,
            visibility_timeout_seconds=_optional_int(env, VISIBILITY_TIMEOUT_VARIABLE, minimum=0),
            max_receive_count=_optional_int(env, MAX_RECEIVE_COUNT_VARIABLE, minimum=1),
            data_dir=DEFAULT_DATA_DIR if data_dir is None else Path(data_dir) if data_dir else None,
        )

    # -- what callers read ---------------------------------------------------------------

    @property
    def starts_moto(self) -> bool:
        """Whether start() starts moto's server (no endpoint was given)."""
        return self._given_endpoint_url is None

    @property
    def port(self) -> int:
        return self._gateway().port

    @property
    def base_url(self) -> str:
        return self._gateway().base_url

    @property
    def api_url(self) -> str:
        return self._gateway().api_url

    @property
    def queue_urls(self) -> dict[str, str]:
        """Every queue and dead-letter queue by name."""
        urls: dict[str, str] = {}
        for name, queue in self.queues.items():
            urls[name] = queue.url
            urls[queue.spec.dlq_name] = queue.dlq_url
        return urls

    @property
    def threads(self) -> list[threading.Thread]:
        """The threads this runtime started (moto's server keeps its own)."""
        workers = [*self.pollers, *([self.ticker] if self.ticker else [])]
        gateway = [self.gateway.thread] if self.gateway else []
        return [*gateway, *(w.thread for w in workers)]

    def banner(self) -> str:
        workflow = tutorial.workflow_name()
        lines = [
            "Baton is running.",
            f"  API           {self.api_url}",
            f"  DynamoDB/SQS  {self.endpoint_url}" + (" (moto)" if self._moto else ""),
            f"  Event queues  {', '.join(self.event_queue_names)}",
            f"  State         {self.data_dir or 'in memory: nothing is kept after it stops'}",
        ]
        if self.seed:
            lines += [
                "",
                f"Start the tutorial's workflow ({workflow}); it answers with the workflow id:",
                f"  curl -s -X POST {self.api_url}/workflow/{workflow} "
                "-H 'Content-Type: application/json' -d '{}'",
                "Read it back:",
                f"  curl -s {self.api_url}/workflow/<workflow id>",
            ]
        lines += ["", "Ctrl-C stops it."]
        return "\n".join(lines)

    # -- lifecycle -------------------------------------------------------------------------

    def __enter__(self) -> Runtime:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> Runtime:
        if self._started:
            raise RuntimeError("A Runtime starts once; create a new one to start again")
        self._started = True
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        # werkzeug (moto's server) would log every request to stderr.
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self.endpoint_url = self._given_endpoint_url or self._start_moto()
        self._set_aws_environment()

        import boto3

        # Credentials from the environment as set above (boto3's default session may have read
        # others earlier in this process).
        options = {
            "region_name": self.region,
            "endpoint_url": self.endpoint_url,
            "aws_access_key_id": os.environ["AWS_ACCESS_KEY_ID"],
            "aws_secret_access_key": os.environ["AWS_SECRET_ACCESS_KEY"],
        }
        self.sqs = boto3.client("sqs", **options)
        self.dynamodb = boto3.client("dynamodb", **options)

        from baton import topology
        from baton.store.schema import table_specs

        self.table_specs = table_specs()
        create_tables(self.dynamodb, self.table_specs)
        from baton.store.payloads import DEFAULT_BUCKET

        s3 = boto3.client("s3", **options)
        create_bucket(s3, DEFAULT_BUCKET, self.region)
        self.event_queue_names = self._resolve_event_queue_names(topology.DEFAULT_EVENT_QUEUES)
        specs = topology.all_queues(self.queue_prefix, self.event_queue_names)
        self.queues = create_queues(
            self.sqs,
            specs,
            visibility_timeout_seconds=self.visibility_timeout_seconds,
            max_receive_count=self.max_receive_count,
        )
        self._set_baton_environment()

        pooled = self.environments > 0 and self._injected.get("api") is None
        handlers = {
            kind: injected or _import_handler(f"baton.handlers.{kind}")
            for kind, injected in self._injected.items()
            if not (pooled and kind == "api")
        }
        if None in self._injected.values():
            self._warn_if_models_point_elsewhere()
        if self._injected.get("api") is None:
            # A long poll that waits lets other requests in, as other environments would.
            from baton import wakeup

            wakeup.work_signal.idle_hook = released_while_idle
        self.functions = {
            kind: LocalFunction(
                name=f"{self.queue_prefix}-{kind}",
                handler=handler,
                region=self.region,
                timeout_seconds=topology.FUNCTION_TIMEOUT_SECONDS[kind],
            )
            for kind, handler in handlers.items()
        }
        api: Function = (
            self._start_api_pool(topology.FUNCTION_TIMEOUT_SECONDS["api"])
            if pooled
            else self.functions["api"]
        )

        self.gateway = Gateway(function=api, host=self.host, port=self.requested_port)
        self.gateway.start()
        self.pollers = [
            QueuePoller(
                sqs=self.sqs,
                queue=queue,
                function=self.functions[queue.spec.consumer],
                region=self.region,
                wait_time_seconds=self.wait_time_seconds,
            )
            for queue in self.queues.values()
        ]
        for poller in self.pollers:
            poller.start()
        self.ticker = Ticker(
            function=self.functions["timers"],
            interval_seconds=self.tick_seconds,
            region=self.region,
        )
        self.ticker.start()
        if self.seed:
            try:
                tutorial.register(self.api_url)
            except (tutorial.TutorialNotRegistered, OSError) as error:
                logger.warning("The tutorial's definitions are not registered: %s", error)

    def stop(self) -> None:
        """Stop taking requests, stop the pollers and the ticker, stop moto; safe to repeat."""
        if self._stopped:
            return
        self._stopped = True
        if self.gateway:
            self.gateway.stop()
        workers = [*self.pollers, *([self.ticker] if self.ticker else [])]
        for worker in workers:
            worker.stop()
        if self.ticker:
            self.ticker.join(STOP_TIMEOUT_SECONDS)
        # A poller in a long poll ends when it is answered: a batch being handled is finished,
        # then moto's end answers the polls that still wait.
        grace_ends = time.monotonic() + STOP_GRACE_SECONDS
        for poller in self.pollers:
            poller.join(max(0.0, grace_ends - time.monotonic()), warn=False)
        if self.api_pool is not None:
            self.api_pool.stop()
        if self.broadcast is not None:
            self.broadcast.close()
        if self._broadcast_dir is not None:
            shutil.rmtree(self._broadcast_dir, ignore_errors=True)
        if self._moto is not None:
            self._moto.stop()
            for poller in self.pollers:
                poller.join(STOP_TIMEOUT_SECONDS)
        # A poll still waiting on an endpoint this runtime did not start ends on its own and
        # hands nothing on (see QueuePoller.poll_once).
        for client in (self.sqs, self.dynamodb):
            if client is not None:
                client.close()
        self._restore_environment()

    # -- inside start() ----------------------------------------------------------------------

    def _gateway(self) -> Gateway:
        if self.gateway is None:
            raise RuntimeError("The runtime has not started: call start() or use `with`")
        return self.gateway

    def _start_api_pool(self, timeout_seconds: float) -> FunctionPool:
        """The API's environments, and the wake-up group they share with this process (whose
        functions commit work the API's long polls wait for)."""
        from baton import wakeup
        from embedded.broadcast import Broadcast, group_directory
        from embedded.environments import FunctionPool

        self._broadcast_dir = group_directory()
        self.broadcast = Broadcast(self._broadcast_dir, "runtime").attach(wakeup.work_signal)
        self.api_pool = FunctionPool(
            name=f"{self.queue_prefix}-api",
            module="baton.handlers.api",
            region=self.region,
            timeout_seconds=timeout_seconds,
            size=self.environments,
            broadcast_dir=self._broadcast_dir,
            # Its own moto server checks the key, not the signature.
            key_only_signing=self.starts_moto,
        ).start()
        return self.api_pool

    def _start_moto(self) -> str:
        from embedded.moto_server import MotoProcess

        server = MotoProcess(
            self.host, access_key_id=self.access_key_id, data_dir=self.data_dir
        ).start()
        self._moto = server
        return server.url

    def _set(self, name: str, value: str) -> None:
        if name not in self._saved_environment:
            self._saved_environment[name] = os.environ.get(name)
        os.environ[name] = value

    def _set_default(self, name: str, value: str) -> None:
        if name not in os.environ:
            self._set(name, value)

    def _restore_environment(self) -> None:
        for name, value in self._saved_environment.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        self._saved_environment.clear()

    def _set_aws_environment(self) -> None:
        self.region = (
            os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or DEFAULT_REGION
        )
        self._set_default("AWS_REGION", self.region)
        self._set_default("AWS_DEFAULT_REGION", self.region)
        if self._moto is not None:
            # moto's server answers only this run's key (see embedded.moto_server).
            self._set("AWS_ACCESS_KEY_ID", self.access_key_id)
            self._set("AWS_SECRET_ACCESS_KEY", self.access_key_id)
            self._set_session_token_aside()
        else:
            self._set_default("AWS_ACCESS_KEY_ID", "testing")
            self._set_default("AWS_SECRET_ACCESS_KEY", "testing")
        self._set("AWS_ENDPOINT_URL", self.endpoint_url)

    def _set_session_token_aside(self) -> None:
        """A session token from the caller's own AWS credentials does not go with this key."""
        for name in ("AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_PROFILE"):
            if name in os.environ:
                self._saved_environment.setdefault(name, os.environ[name])
                del os.environ[name]

    def _resolve_event_queue_names(self, defaults: Sequence[str]) -> tuple[str, ...]:
        names = list(self.requested_event_queue_names or defaults)
        tutorial_queue = tutorial.event_queue_name()
        # The tutorial's handler is refused unless its queue is provisioned.
        if self.seed and tutorial_queue and tutorial_queue not in names:
            names.append(tutorial_queue)
        return tuple(dict.fromkeys(names))

    def _set_baton_environment(self) -> None:
        from baton import settings, topology
        from baton.store.payloads import DEFAULT_BUCKET

        for spec in self.table_specs:
            self._set(spec.env_var, spec.default_name)
        event_queues = {
            name: queue.url for name, queue in self.queues.items() if not queue.spec.internal
        }
        self._set(settings.EVENT_QUEUE_URLS, json.dumps(event_queues))
        self._set(
            settings.TIMER_QUEUE_URL, self.queues[topology.timer_queue(self.queue_prefix).name].url
        )
        decisions = topology.decision_queue(self.queue_prefix).name
        self._set(settings.DECISION_QUEUE_URL, self.queues[decisions].url)
        internal = topology.internal_event_queue(self.queue_prefix).name
        self._set(settings.INTERNAL_EVENT_QUEUE_URL, self.queues[internal].url)
        system_tasks = topology.system_task_queue(self.queue_prefix).name
        self._set(settings.SYSTEM_TASK_QUEUE_URL, self.queues[system_tasks].url)
        # HTTP tasks may call this machine's own servers; private networks stay refused.
        self._set_default(settings.HTTP_ALLOW_LOOPBACK, "true")
        self._set_default(settings.RETENTION_DAYS, "30")
        self._set(settings.PAYLOAD_BUCKET, DEFAULT_BUCKET)
        # Locally nothing stands in front of the API to check callers, so there is no token.
        self._set(settings.AUTH_MODE, "iam")
        self._set_default("POWERTOOLS_SERVICE_NAME", "baton")
        self._set_default("POWERTOOLS_METRICS_NAMESPACE", "Baton")
        self._set_default("POWERTOOLS_TRACE_DISABLED", "true")
        if os.environ.get(LOCAL_METRICS_VARIABLE) != "1":
            # Metrics are EMF lines on stdout, which would bury the console.
            self._set_default("POWERTOOLS_METRICS_DISABLED", "true")
        if "LOG_LEVEL" not in os.environ:
            self._set_default("POWERTOOLS_LOG_LEVEL", "WARNING")

    def _warn_if_models_point_elsewhere(self) -> None:
        models = sys.modules.get("baton.store.models")
        meta = getattr(getattr(models, "WorkflowItem", None), "Meta", None)
        host = getattr(meta, "host", None)
        if meta is not None and host != self.endpoint_url:
            logger.warning(
                "baton.store.models was imported before this runtime set AWS_ENDPOINT_URL, so "
                "its tables point at %s, not %s: start the Runtime before importing "
                "baton.store, and run one Runtime with the real handlers per process",
                host or "AWS",
                self.endpoint_url,
            )
