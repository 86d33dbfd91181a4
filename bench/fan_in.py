"""Fan-in: the branches of one FORK completed at the same moment by many writer processes.

Each writer process plays one Lambda execution environment of the API function: released
together by a barrier, the writers complete their share of the FORK's WAIT tasks through
`Baton.update_task` (what `POST /api/tasks` runs), each with its own output. Decider processes
play the timers function's event source mappings: they receive batches from the timer queue and
the decision queue (FIFO, one message group per workflow) and hand them to the timers handler,
which decides the workflows that task updates written alone asked a decision for. Everything
runs against one moto server, which applies DynamoDB requests one at a time. Each process
counts what it asks of AWS (`bench.metering`) and its store's commits; the report sums them.

Run alone with `.venv/bin/python -m bench.fan_in` (the 1,000 x 100 fan-in and the width
sweep; it writes its section of RESULTS.md), or `... -m bench.fan_in WIDTH WRITERS` for one
fan-in, printed as JSON; `... -m bench.fan_in --section FAN_IN.json SWEEP.json...` writes the
section from such printed runs.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import sys
import time
import traceback
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from statistics import median
from typing import Any

from bench.results import write_section

WIDTH = 1000
WRITERS = 100
# The timers function's concurrent environments while the decisions are asked for.
DECIDERS = 4
SWEEP_WIDTHS = (10, 100, 1000)
# The sweep scales the writers with the width, as the fan-in has them: one per ten branches.
BRANCHES_PER_WRITER = 10
SECTION_TITLE = "## 9. Fan-in: one FORK, many writers"
COMMAND = ".venv/bin/python -m bench.fan_in"
# Only so that a broken run fails instead of hanging; nothing is timed against it.
PROCESS_DEADLINE_SECONDS = 1800.0
REGION = "us-east-1"
# A decider stops once the writers are done and this many receives in a row found nothing.
EMPTY_RECEIVES_TO_STOP = 10
EMPTY_RECEIVE_PAUSE_SECONDS = 0.2
# A failed decision message comes back after this, not after the queue's visibility timeout.
FAILED_REDELIVERY_SECONDS = 2
MOTO_READ_TIMEOUT_SECONDS = 900


def fork_of_waits(width: int, name: str = "bench_fan_in") -> dict[str, Any]:
    """A FORK of `width` WAIT branches (`wait_<i>_ref`) and the JOIN on all of them."""
    references = [f"wait_{i}_ref" for i in range(width)]
    return {
        "name": name,
        "version": 1,
        "schemaVersion": 2,
        "tasks": [
            {
                "name": "fork",
                "taskReferenceName": "fork_ref",
                "type": "FORK_JOIN",
                "forkTasks": [
                    [{"name": f"wait_{i}", "taskReferenceName": ref, "type": "WAIT"}]
                    for i, ref in enumerate(references)
                ],
            },
            {"name": "join", "taskReferenceName": "join_ref", "type": "JOIN", "joinOn": references},
        ],
    }


# -- in the spawned processes (nothing imports `baton` before the environment is set) --------


def enter_environment(environment: dict[str, str]) -> None:
    """Set the environment a function has, before anything imports `baton`."""
    os.environ.update(environment)
    # What a function prints (its metrics, its logs) goes to stderr: stdout is the run's JSON.
    sys.stdout = sys.stderr
    # One moto server answers every process one DynamoDB request at a time: under a hundred
    # writers a request can wait longer than pynamodb's 30 s before it is served (DynamoDB
    # answers in milliseconds), and a timed-out request retried would count as an error.
    from pynamodb import settings

    settings.default_settings_dict["read_timeout_seconds"] = MOTO_READ_TIMEOUT_SECONDS


def _in_process(
    results: Any,
    index: int,
    enter: Callable[[dict[str, str]], None],
    environment: dict[str, str],
    function: Callable[..., Any],
    args: Any,
) -> None:
    enter(environment)
    try:
        results.put((index, "ok", function(*args)))
    except BaseException as error:
        results.put((index, "error", f"{type(error).__name__}: {error}\n{traceback.format_exc()}"))


def call_in_processes(
    environment: dict[str, str],
    calls: list[tuple[Callable[..., Any], tuple[Any, ...]]],
    *,
    enter: Callable[[dict[str, str]], None] = enter_environment,
    deadline_seconds: float = PROCESS_DEADLINE_SECONDS,
) -> list[Any]:
    """Run each `function(*args)` at once, each in a fresh spawned process that first calls
    `enter(environment)` (a module-level function: it is pickled); their results."""
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    processes = [
        context.Process(
            target=_in_process, args=(results, i, enter, environment, f, a), daemon=True
        )
        for i, (f, a) in enumerate(calls)
    ]
    for process in processes:
        process.start()
    outcomes: dict[int, tuple[str, Any]] = {}
    try:
        for _ in processes:
            index, outcome, value = results.get(timeout=deadline_seconds)
            outcomes[index] = (outcome, value)
    finally:
        for process in processes:
            process.join(deadline_seconds)
            if process.is_alive():
                process.kill()
    failures = [value for outcome, value in outcomes.values() if outcome != "ok"]
    if failures:
        raise AssertionError("A process failed:\n" + "\n".join(failures))
    return [outcomes[index][1] for index in range(len(calls))]


def _recording_commits() -> list[dict[str, Any]]:
    """What each commit this process makes decided: the workflow's status, the JOINs it
    completed."""
    from baton.engine.decider import Decision
    from baton.engine.state import TaskStatus
    from baton.store.workflows import WorkflowStore

    recorded: list[dict[str, Any]] = []
    commit = WorkflowStore._commit

    def recording(self: WorkflowStore, decision: Decision, **options: Any) -> None:
        commit(self, decision, **options)
        recorded.append(
            {
                "status": decision.workflow.status.value,
                "joinsCompleted": [
                    t.task_id
                    for t in decision.changed_tasks
                    if t.task_type == "JOIN" and t.status == TaskStatus.COMPLETED
                ],
            }
        )

    WorkflowStore._commit = recording  # type: ignore[method-assign]
    return recorded


def _metered_report(meter: Any) -> dict[str, Any]:
    return {
        "writeUnits": meter.write_units + sum(meter.index_writes.by_index.values()),
        "readUnits": meter.read_units,
        "calls": dict(meter.calls),
    }


def start_fork(workflow_id: str, definition: dict[str, Any]) -> dict[str, str]:
    """Start the FORK; its WAIT tasks' ids by reference."""
    from baton.engine.definitions import WorkflowDef
    from baton.service import Baton, StartRequest

    service = Baton()
    service.start(
        StartRequest(
            name=definition["name"],
            workflow_def=WorkflowDef.from_json(definition),
            workflow_id=workflow_id,
        )
    )
    workflow = service.get(workflow_id, include_tasks=True)
    return {t["referenceTaskName"]: t["taskId"] for t in workflow["tasks"]}


def write_completions(
    workflow_id: str,
    assignments: list[tuple[int, str]],
    released: Any,
    finished: Any,
    writers_done: Any,
) -> dict[str, Any]:
    """One API environment completing WAIT tasks by id, each with `{"branch": i}`, as fast
    as it can once `released`; what fails is counted, not raised."""
    try:
        return _write_completions(workflow_id, assignments, released, finished, writers_done)
    except BaseException:
        released.abort()
        finished.abort()
        writers_done.set()  # the deciders stop too: the run has failed
        raise


def _write_completions(
    workflow_id: str,
    assignments: list[tuple[int, str]],
    released: Any,
    finished: Any,
    writers_done: Any,
) -> dict[str, Any]:
    from baton.engine.decider import TaskUpdate
    from baton.engine.state import TaskStatus
    from baton.service import Baton
    from bench.metering import metering

    recorded = _recording_commits()
    service = Baton()
    service.store.load(workflow_id)  # opens the connection, as a warm container has it
    errors: list[str] = []
    seconds: list[float] = []
    released.wait(PROCESS_DEADLINE_SECONDS)
    released_at = time.time() * 1000
    with metering() as meter:
        for branch, task_id in assignments:
            update = TaskUpdate(status=TaskStatus.COMPLETED, output={"branch": branch})
            began = time.perf_counter()
            try:
                service.update_task(workflow_id, task_id, update)
            except Exception as error:
                errors.append(f"{type(error).__name__}: {error}")
            seconds.append(time.perf_counter() - began)
    finished.wait(PROCESS_DEADLINE_SECONDS)
    if writers_done is not None:
        writers_done.set()
    stats = service.store.stats
    return {
        "loadsCaughtUp": stats.loads_caught_up,
        "loadsWhole": stats.loads_whole,
        "releasedAt": released_at,
        "errors": errors,
        "seconds": seconds,
        "commits": stats.commits,
        "retries": stats.retries,
        "writtenAlone": stats.written_alone,
        "updatesAlone": stats.updates_alone,
        "decisions": recorded,
        **_metered_report(meter),
    }


def decide_from_timer_queue(
    timer_queue_url: str, writers_done: Any, pollers: Any = None
) -> dict[str, Any]:
    """One timers environment: batches from the timer queue and the decision queue (FIFO,
    one message group per workflow; its URL from the environment) through the timers
    handler, as Lambda's event source mappings deliver them, until the writers are done and
    both queues have been found empty EMPTY_RECEIVES_TO_STOP times in a row. `pollers`: a
    lock the deciders share around their queue calls: moto's server serves SQS requests on
    several threads at once, and two receives at the same moment can hand out one message
    twice (whose first delete then misses it, leaving it in flight for the visibility
    timeout), or one workflow's asks to two deciders (moto reads which groups are in flight
    as a receive begins)."""
    serialized = pollers if pollers is not None else nullcontext()
    import boto3

    from baton import runtime, settings
    from baton.handlers import timers
    from bench.metering import metering
    from embedded.functions import LambdaContext
    from embedded.pollers import sqs_record

    recorded = _recording_commits()
    sqs = boto3.client("sqs", endpoint_url=os.environ["AWS_ENDPOINT_URL"], region_name=REGION)
    context = LambdaContext(function_name="baton-timers", region=REGION, timeout_seconds=60)
    queue_urls = [timer_queue_url]
    if os.environ.get(settings.DECISION_QUEUE_URL):
        queue_urls.append(os.environ[settings.DECISION_QUEUE_URL])
    batches: list[int] = []
    failed = 0
    empty = 0
    turn = 0
    found_this_round = False
    with metering() as meter:
        while empty < EMPTY_RECEIVES_TO_STOP:
            # The queues in turn, as their mappings poll them side by side.
            queue_url = queue_urls[turn % len(queue_urls)]
            turn += 1
            round_ends = turn % len(queue_urls) == 0
            with meter.paused(), serialized:  # Lambda's pollers receive, not the function
                # Short polls: moto's server can hold a long poll past the client's timeout
                # while many receives wait on one queue.
                messages = sqs.receive_message(
                    QueueUrl=queue_url,
                    MaxNumberOfMessages=10,
                    WaitTimeSeconds=0,
                    MessageSystemAttributeNames=["All"],
                ).get("Messages", [])
            if not messages:
                if not round_ends or found_this_round:
                    found_this_round = found_this_round and not round_ends
                    continue  # another queue's turn, or a round that found work
                with meter.paused(), serialized:
                    in_flight = any(_messages_in_flight(sqs, url) for url in queue_urls)
                settled = writers_done.is_set() and not in_flight
                empty = empty + 1 if settled else 0
                time.sleep(EMPTY_RECEIVE_PAUSE_SECONDS)
                continue
            empty = 0
            found_this_round = not round_ends
            arn = _queue_arn(queue_url)
            records = [sqs_record(m, queue_arn=arn, region=REGION) for m in messages]
            failures = failed_records(timers.handler, records, context)
            failed += len(failures)
            if failures:
                with meter.paused(), serialized:
                    _redeliver_soon(sqs, queue_url, records, failures)
            batches.append(len(records))
            done = [r for r in records if r["messageId"] not in failures]
            if done:
                with meter.paused(), serialized:
                    sqs.delete_message_batch(
                        QueueUrl=queue_url,
                        Entries=[
                            {"Id": str(i), "ReceiptHandle": r["receiptHandle"]}
                            for i, r in enumerate(done)
                        ],
                    )
    stats = runtime.baton().store.stats
    return {
        "loadsCaughtUp": stats.loads_caught_up,
        "loadsWhole": stats.loads_whole,
        "batches": batches,
        "failed": failed,
        "commits": stats.commits,
        "retries": stats.retries,
        "decisions": recorded,
        **_metered_report(meter),
    }


def _queue_arn(queue_url: str) -> str:
    """The ARN moto gives the queue of this URL (its account, its name)."""
    return f"arn:aws:sqs:{REGION}:123456789012:{queue_url.rsplit('/', 1)[-1]}"


def failed_records(
    handler: Callable[[dict[str, Any], Any], Any], records: list[dict[str, Any]], context: Any
) -> set[str]:
    """The ids of the records a batch through `handler` leaves on the queue, as Lambda reads
    its answer. A handler that raises (Powertools does when every record failed) fails the
    whole batch: Lambda leaves it on the queue, which delivers it again after its visibility
    timeout, and so does this."""
    from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

    from embedded.pollers import failed_message_ids

    try:
        result = handler({"Records": records}, context)
    except BatchProcessingError as error:
        print(f"Every record of a batch failed: {error}"[:2000], file=sys.stderr, flush=True)
        return {r["messageId"] for r in records}
    failed = failed_message_ids(records, result)
    module = sys.modules.get(getattr(handler, "__module__", ""))
    for info in getattr(getattr(module, "processor", None), "exceptions", []):
        # Why a record failed (Powertools keeps each failed record's exception).
        print(f"A record failed: {info[0].__name__}: {info[1]}"[:2000], file=sys.stderr)
    return failed


def _redeliver_soon(
    sqs: Any, queue_url: str, records: list[dict[str, Any]], failures: set[str]
) -> None:
    """Moves the queue's clock for the failed records: Lambda would see them again after the
    queue's visibility timeout (minutes); a run, and a test, should not wait that long."""
    sqs.change_message_visibility_batch(
        QueueUrl=queue_url,
        Entries=[
            {
                "Id": str(i),
                "ReceiptHandle": r["receiptHandle"],
                "VisibilityTimeout": FAILED_REDELIVERY_SECONDS,
            }
            for i, r in enumerate(records)
            if r["messageId"] in failures
        ],
    )


def _messages_in_flight(sqs: Any, queue_url: str) -> bool:
    """Whether the queue holds messages received and not yet deleted: a failed batch comes
    back after its visibility timeout, and a decider must still be there to take it."""
    attributes = sqs.get_queue_attributes(
        QueueUrl=queue_url,
        AttributeNames=["ApproximateNumberOfMessagesNotVisible", "ApproximateNumberOfMessages"],
    )["Attributes"]
    return any(int(count) > 0 for count in attributes.values())


def read_back(workflow_id: str) -> dict[str, Any]:
    from baton.service import Baton

    return Baton().get(workflow_id, include_tasks=True)


# -- the driver ------------------------------------------------------------------------------


def fan_in(
    environment: dict[str, str],
    timer_queue_url: str,
    *,
    width: int,
    writers: int,
    deciders: int = DECIDERS,
) -> dict[str, Any]:
    """Start a FORK of `width` WAITs, have `writers` processes complete its branches at
    once and `deciders` take the timer queue; what happened, summed over the processes."""
    context = multiprocessing.get_context("spawn")
    workflow_id = str(uuid.uuid4())
    began = time.monotonic()
    (task_ids,) = call_in_processes(
        environment, [(start_fork, (workflow_id, fork_of_waits(width)))]
    )
    branches = [(i, task_ids[f"wait_{i}_ref"]) for i in range(width)]
    released, finished = context.Barrier(writers), context.Barrier(writers)
    writers_done = context.Event()
    pollers = context.Lock()
    started = time.monotonic()
    reports = call_in_processes(
        environment,
        [
            (
                write_completions,
                (workflow_id, branches[p::writers], released, finished, writers_done),
            )
            for p in range(writers)
        ]
        + [
            (decide_from_timer_queue, (timer_queue_url, writers_done, pollers))
            for _ in range(deciders)
        ],
    )
    ran = time.monotonic()
    (workflow,) = call_in_processes(environment, [(read_back, (workflow_id,))])
    # How long the harness's phases took (the start, the writers and deciders, the read).
    phases = [started - began, ran - started, time.monotonic() - ran]
    written, decided = reports[:writers], reports[writers:]
    attempts = sum(r["commits"] + r["retries"] for r in reports)
    seconds = sorted(s for r in written for s in r["seconds"])
    released_at = min(r["releasedAt"] for r in written)
    decisions = [d for r in reports for d in r["decisions"]]
    return {
        "width": width,
        "writers": writers,
        "deciders": deciders,
        "phaseSeconds": phases,
        "workflow": workflow,
        "errors": [e for r in written for e in r["errors"]],
        "attempts": attempts,
        "attemptsPerCompletion": attempts / width,
        "writerAttempts": sum(r["commits"] + r["retries"] for r in written),
        "deciderAttempts": sum(r["commits"] + r["retries"] for r in decided),
        "writtenAlone": sum(r["writtenAlone"] for r in written),
        # Of those, written alone without trying a decision (a wide workflow's updates).
        "updatesAlone": sum(r["updatesAlone"] for r in written),
        "decideMessages": sum(size for r in decided for size in r["batches"]),
        "decideBatches": sum(len(r["batches"]) for r in decided),
        "decideFailures": sum(r["failed"] for r in decided),
        "workflowCompletions": len([d for d in decisions if d["status"] == "COMPLETED"]),
        "joinCompletions": sum(len(d["joinsCompleted"]) for d in decisions),
        "updateSeconds": {
            "median": median(seconds),
            "p99": seconds[min(len(seconds) - 1, int(len(seconds) * 0.99))],
            "max": seconds[-1],
        },
        # From the writers' release to the workflow's end (its endTime, on the same clock).
        "wallSeconds": (int(workflow["endTime"]) - released_at) / 1000
        if workflow.get("endTime")
        else None,
        "writeUnits": sum(r["writeUnits"] for r in reports),
        "readUnits": sum(r["readUnits"] for r in reports),
        "writerReadUnits": sum(r["readUnits"] for r in written),
        "writerWriteUnits": sum(r["writeUnits"] for r in written),
        # Decisions' loads that read only what changed, and those that read every task.
        "loadsCaughtUp": sum(r["loadsCaughtUp"] for r in reports),
        "loadsWhole": sum(r["loadsWhole"] for r in reports),
        # What the completions and their decisions asked of AWS, by operation.
        "requests": dict(sum((Counter(r["calls"]) for r in reports), Counter())),
    }


@contextmanager
def moto_endpoint() -> Iterator[tuple[dict[str, str], str]]:
    """A moto server with Baton's tables and queues: the functions' environment, and the
    timer queue's URL."""
    import boto3

    from baton import topology
    from baton.store import payloads
    from baton.store.schema import table_specs
    from embedded import resources
    from embedded.moto_server import MotoProcess

    server = MotoProcess("127.0.0.1").start()
    try:
        options = {
            "endpoint_url": server.url,
            "region_name": REGION,
            "aws_access_key_id": "testing",
            "aws_secret_access_key": "testing",
        }
        resources.create_tables(boto3.client("dynamodb", **options), table_specs())
        resources.create_bucket(boto3.client("s3", **options), payloads.DEFAULT_BUCKET, REGION)
        queues = resources.create_queues(
            boto3.client("sqs", **options), topology.all_queues("baton", [])
        )
        timer_url = queues[topology.timer_queue("baton").name].url
        environment = {
            "AWS_ENDPOINT_URL": server.url,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            "BATON_EVENT_QUEUE_URLS": "{}",
            "BATON_TIMER_QUEUE_URL": timer_url,
            "BATON_DECISION_QUEUE_URL": queues[topology.decision_queue("baton").name].url,
            "BATON_INTERNAL_EVENT_QUEUE_URL": queues[
                topology.internal_event_queue("baton").name
            ].url,
            "POWERTOOLS_METRICS_DISABLED": "true",
            # As the stacks set it: without one, a full buffer of metrics fails its record.
            "POWERTOOLS_METRICS_NAMESPACE": "Baton",
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_LOG_LEVEL": "WARNING",
        }
        yield environment, timer_url
    finally:
        server.stop()


def measure(
    report: Callable[[str], None], width: int = WIDTH, writers: int = WRITERS
) -> dict[str, Any]:
    """The fan-in at full size, then the width sweep, each on a fresh moto server."""
    with moto_endpoint() as (environment, timer_url):
        report(f"fan-in: {width} branches, {writers} writers...")
        main = fan_in(environment, timer_url, width=width, writers=writers)
    load = os.getloadavg()
    report(json.dumps({**_summary(main), "loadAverage": load}))
    sweep = []
    for sweep_width in SWEEP_WIDTHS:
        sweep_writers = sweep_writers_of(sweep_width)
        if (sweep_width, sweep_writers) == (width, writers):
            sweep.append(main)  # the fan-in itself is this point of the sweep
            continue
        with moto_endpoint() as (environment, timer_url):
            report(f"width sweep: {sweep_width} branches, {sweep_writers} writers...")
            sweep.append(fan_in(environment, timer_url, width=sweep_width, writers=sweep_writers))
        report(json.dumps(_summary(sweep[-1])))
    return {"fanIn": main, "loadAfterFanIn": load, "sweep": sweep}


def sweep_writers_of(width: int) -> int:
    return max(1, width // BRANCHES_PER_WRITER)


def _summary(result: dict[str, Any]) -> dict[str, Any]:
    """A result without the workflow it read back."""
    return {k: v for k, v in result.items() if k != "workflow"}


def section(result: dict[str, Any]) -> list[str]:
    main = result["fanIn"]
    load = result["loadAfterFanIn"]
    update = main["updateSeconds"]
    lines = [
        SECTION_TITLE,
        "",
        f"`{COMMAND}`: a FORK of {main['width']} WAITs whose tasks {main['writers']} writer "
        f"processes complete at the same moment through `Baton.update_task`, {main['deciders']} "
        "processes taking the timer and decision queues' batches through the timers handler "
        "(the decision queue hands out one batch of a workflow's asks at a time), one moto "
        "server, which applies DynamoDB requests one at a time: times are moto's, not "
        "DynamoDB's (load average after the run: "
        f"{load[0]:.2f}, {load[1]:.2f}, {load[2]:.2f}; the machine is shared).",
        "",
        f"- Errors returned to callers: {len(main['errors'])}; decision messages that failed: "
        f"{main['decideFailures']}",
        f"- Commit attempts (workflow commits and lost races, every process): "
        f"{main['attempts']}, {main['attemptsPerCompletion']:.2f} per completion (target at "
        f"most 1.5: {'met' if main['attemptsPerCompletion'] <= 1.5 else 'NOT met'}); by the "
        f"writers {main['writerAttempts']}, by the timers handler {main['deciderAttempts']}",
        f"- Updates written onto their task alone: {main['writtenAlone']} of {main['width']}, "
        f"{main.get('updatesAlone', 0)} of them without trying a decision (a wide workflow's); "
        f"decision messages: {main['decideMessages']} in {main['decideBatches']} batches",
        f"- JOIN completed {main['joinCompletions']} time(s), workflow completed "
        f"{main['workflowCompletions']} time(s)",
        f"- A task update's answer: median {update['median'] * 1000:.0f} ms, p99 "
        f"{update['p99'] * 1000:.0f} ms, max {update['max'] * 1000:.0f} ms",
        "- Wall time from the writers' release to the workflow's end: "
        + (f"{main['wallSeconds']:.1f} s" if main["wallSeconds"] is not None else "not ended"),
        f"- DynamoDB: {main['writeUnits']:.0f} write units, {main['readUnits']:.0f} read units "
        f"({main['writeUnits'] / main['width']:.1f} and {main['readUnits'] / main['width']:.1f} "
        "per branch); of them the writers' "
        f"{main.get('writerWriteUnits', 0):.0f} write and {main.get('writerReadUnits', 0):.0f} "
        "read units, the rest the deciders'",
        f"- Decisions' loads: {main.get('loadsCaughtUp', 0)} read only what changed (the workflow "
        f"item, the task items its log names, their own tasks), {main.get('loadsWhole', 0)} read "
        "every task item",
        "- Requests per completion (writers and deciders): "
        + ", ".join(
            f"{operation} {count / main['width']:.2f}"
            for operation, count in sorted(main.get("requests", {}).items())
        ),
        "",
    ]
    if not result["sweep"]:
        return [*lines, "Width sweep: not measured in this run.", ""]
    lines += [
        f"Width sweep (one writer per {BRANCHES_PER_WRITER} branches, {main['deciders']} "
        "deciders; units of the completions and their decisions, not of the start):",
        "",
        "| branches | writers | write units per branch | read units per branch | wall time per "
        "branch | attempts per completion | loads by key / whole |",
        "|---|---|---|---|---|---|---|",
    ]
    for entry in result["sweep"]:
        width = entry["width"]
        wall = entry["wallSeconds"]
        lines.append(
            f"| {width} | {entry['writers']} | {entry['writeUnits'] / width:.1f} "
            f"| {entry['readUnits'] / width:.1f} | {wall / width * 1000:.0f} ms "
            f"| {entry['attemptsPerCompletion']:.2f} "
            f"| {entry['loadsCaughtUp']} / {entry['loadsWhole']} |"
            if wall is not None
            else f"| {width} | {entry['writers']} | not completed | | | | |"
        )
    lines += ["", *_linearity(result["sweep"]), ""]
    return lines


def _linearity(sweep: list[dict[str, Any]]) -> list[str]:
    """Whether units and wall time per branch stay within 1.5x of each other over the sweep."""
    ended = [e for e in sweep if e["wallSeconds"] is not None]
    if len(ended) < len(sweep):
        return ["Not every workflow of the sweep completed: linearity not judged."]

    def spread(per_branch: list[float]) -> float:
        return max(per_branch) / min(per_branch) if min(per_branch) > 0 else float("inf")

    measures = {
        "write units": spread([e["writeUnits"] / e["width"] for e in ended]),
        "read units": spread([e["readUnits"] / e["width"] for e in ended]),
        "wall time": spread([e["wallSeconds"] / e["width"] for e in ended]),
    }
    judged = ", ".join(
        f"{name} {ratio:.2f}x ({'within' if ratio <= 1.5 else 'NOT within'} 1.5x)"
        for name, ratio in measures.items()
    )
    return [f"Per branch, largest over smallest across the sweep: {judged}."]


def _report(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--section":
        # Results saved by runs of `WIDTH WRITERS` (the fan-in, then the sweep's widths).
        main_run, *sweep = [json.loads(Path(name).read_text()) for name in sys.argv[2:]]
        lines = section(
            {"fanIn": main_run, "loadAfterFanIn": main_run["loadAverage"], "sweep": sweep}
        )
        print("\n".join(lines))
        write_section(SECTION_TITLE, lines)
        return
    if len(sys.argv) == 3:
        before = os.getloadavg()
        with moto_endpoint() as (environment, timer_url):
            result = fan_in(
                environment, timer_url, width=int(sys.argv[1]), writers=int(sys.argv[2])
            )
        loads = {"loadAverageBefore": before, "loadAverage": os.getloadavg()}
        print(json.dumps({**_summary(result), **loads}, indent=2))
        return
    lines = section(measure(_report))
    print("\n".join(lines))
    write_section(SECTION_TITLE, lines)


if __name__ == "__main__":
    main()
