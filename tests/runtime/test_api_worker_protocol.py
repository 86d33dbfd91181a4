"""Conductor's worker protocol through the API handler: batch poll, callbacks, heartbeats,
update-v2 and domains (the SDKs' runners use exactly these calls)."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from baton import runtime
from tests.runtime.lambda_events import call_api


class Clock:
    def __init__(self, start: int) -> None:
        self.now = start

    def __call__(self) -> int:
        return self.now


def _flow(name: str, *task_names: str) -> dict[str, Any]:
    return {
        "name": name,
        "version": 1,
        "tasks": [
            {"name": t, "taskReferenceName": f"{t}_ref", "type": "SIMPLE"} for t in task_names
        ],
    }


@pytest.fixture
def clock(aws: Any) -> Clock:
    moved = Clock(runtime.baton().clock())
    runtime.baton().clock = moved
    for definition in (_flow("one_step", "work"), _flow("two_steps", "work", "next_work")):
        assert call_api("POST", "/api/metadata/workflow", definition).status == 200
    return moved


def _start(name: str = "one_step", **request: Any) -> str:
    response = call_api("POST", "/api/workflow", {"name": name, "input": {}, **request})
    assert response.status == 200, response.body
    return response.body


def _batch(task_type: str = "work", **query: Any) -> Any:
    response = call_api(
        "GET",
        f"/api/tasks/poll/batch/{task_type}",
        query={"timeout": "0", **{k: str(v) for k, v in query.items()}},
    )
    assert response.status == 200, response.body
    return response.json()


def _result(task: dict[str, Any], status: str, **fields: Any) -> dict[str, Any]:
    return {
        "workflowInstanceId": task["workflowInstanceId"],
        "taskId": task["taskId"],
        "status": status,
        **fields,
    }


def _task(task_id: str) -> dict[str, Any]:
    return call_api("GET", f"/api/tasks/{task_id}").json()


def test_an_empty_batch_poll_answers_200_with_an_empty_list(clock: Clock) -> None:
    response = call_api("GET", "/api/tasks/poll/batch/work", query={"timeout": "0"})
    assert response.status == 200
    assert response.json() == []


def test_a_batch_poll_hands_out_up_to_count_tasks_each_once(clock: Clock) -> None:
    for _ in range(5):
        _start()
    first = _batch(count=3, workerid="w1")
    second = _batch(count=3, workerid="w2")
    assert (len(first), len(second)) == (3, 2)
    assert not {t["taskId"] for t in first} & {t["taskId"] for t in second}
    for task in first:
        assert (task["status"], task["workerId"], task["pollCount"]) == ("IN_PROGRESS", "w1", 1)
        assert task["startTime"] == task["updateTime"] == clock.now
    assert _batch() == []


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"timeout": "5001"}, "Long Poll Timeout value cannot be more than 5 seconds"),
        ({"count": "0"}, "count must be between 1 and 100"),
        ({"count": "many"}, "must be an integer"),
    ],
)
def test_a_bad_batch_poll_gets_a_400(clock: Clock, query: dict[str, str], message: str) -> None:
    response = call_api("GET", "/api/tasks/poll/batch/work", query=query)
    assert response.status == 400
    assert message in response.json()["message"]


def test_a_waiting_poll_receives_a_task_scheduled_while_it_waits(clock: Clock) -> None:
    received: list[Any] = []
    poller = threading.Thread(
        target=lambda: received.append(
            call_api("GET", "/api/tasks/poll/batch/work", query={"timeout": "5000"}).json()
        )
    )
    poller.start()
    workflow_id = _start()
    poller.join(30)
    assert [t["workflowInstanceId"] for t in received[0]] == [workflow_id]


def test_an_in_progress_result_with_a_callback_is_offered_again_after_the_delay(
    clock: Clock,
) -> None:
    _start()
    [task] = _batch(workerid="w1")
    update = _result(task, "IN_PROGRESS", callbackAfterSeconds=30, outputData={"step": 1})
    assert call_api("POST", "/api/tasks", update).status == 200
    held = _task(task["taskId"])
    assert (held["status"], held["callbackAfterSeconds"]) == ("SCHEDULED", 30)
    clock.now += 29_000
    assert _batch() == []
    clock.now += 1_000
    [again] = _batch(workerid="w2")
    assert again["taskId"] == task["taskId"]
    assert (again["pollCount"], again["workerId"], again["callbackAfterSeconds"]) == (2, "w2", 0)
    assert again["startTime"] == task["startTime"]
    assert again["outputData"] == {"step": 1}


def test_a_heartbeat_keeps_the_task_and_restarts_its_response_timeout(clock: Clock) -> None:
    task_def = {"name": "work", "retryCount": 0, "responseTimeoutSeconds": 30}
    assert call_api("POST", "/api/metadata/taskdefs", [task_def]).status == 200
    _start()
    [task] = _batch(workerid="w1")
    assert task["responseTimeoutSeconds"] == 30
    clock.now += 20_000
    heartbeat = _result(task, "IN_PROGRESS", extendLease=True)
    assert call_api("POST", "/api/tasks", heartbeat).status == 200
    held = _task(task["taskId"])
    assert (held["status"], held["updateTime"]) == ("IN_PROGRESS", clock.now)
    assert _batch() == []
    clock.now += 25_000  # 45 s after the poll, 25 s after the heartbeat
    runtime.baton().sweep()
    assert _task(task["taskId"])["status"] == "IN_PROGRESS"
    clock.now += 6_000
    runtime.baton().sweep()
    assert _task(task["taskId"])["status"] == "TIMED_OUT"


def test_update_v2_hands_the_worker_its_next_task_of_the_type(clock: Clock) -> None:
    _start()
    _start()
    [task] = _batch(workerid="w1")
    response = call_api("POST", "/api/tasks/update-v2", _result(task, "COMPLETED", workerId="w1"))
    assert response.status == 200
    following = response.json()
    assert following["taskDefName"] == "work"
    assert following["taskId"] != task["taskId"]
    assert following["workerId"] == "w1"
    done = call_api("POST", "/api/tasks/update-v2", _result(following, "COMPLETED"))
    assert done.status == 204
    _start()
    [held] = _batch()
    still_going = call_api("POST", "/api/tasks/update-v2", _result(held, "IN_PROGRESS"))
    assert still_going.status == 204


def test_a_domain_task_goes_only_to_polls_of_that_domain(clock: Clock) -> None:
    routed = _start(taskToDomain={"work": "blue"})
    plain = _start()
    wildcard = _start(taskToDomain={"*": "green"})
    assert [t["workflowInstanceId"] for t in _batch(count=5)] == [plain]
    [blue] = _batch(count=5, domain="blue")
    assert (blue["workflowInstanceId"], blue["domain"]) == (routed, "blue")
    [green] = _batch(count=5, domain="green")
    assert green["workflowInstanceId"] == wildcard


def test_a_fallback_list_without_live_pollers_queues_in_its_last_domain(clock: Clock) -> None:
    _start(taskToDomain={"work": "gold,silver"})
    _start(taskToDomain={"work": "gold,NO_DOMAIN"})
    assert [t["domain"] for t in _batch(domain="silver")] == ["silver"]
    [no_domain] = _batch()
    assert "domain" not in no_domain


def test_a_fallback_list_queues_in_its_first_domain_with_a_live_poller(clock: Clock) -> None:
    assert _batch(domain="silver", workerid="s1") == []  # a silver worker polls, finds nothing
    _start(taskToDomain={"work": "gold,silver,NO_DOMAIN"})
    [task] = _batch(domain="silver")
    assert task["domain"] == "silver"
    clock.now += 11_000  # Conductor's activeWorkerLastPollTimeout (10 s) has passed
    _start(taskToDomain={"work": "gold,silver,NO_DOMAIN"})
    [later] = _batch()
    assert "domain" not in later


def test_poll_data_names_each_queue_its_last_worker_and_time(clock: Clock) -> None:
    _batch(workerid="w1")
    _batch(domain="blue", workerid="w2")
    _batch("next_work", workerid="w3")
    data = call_api("GET", "/api/tasks/queue/polldata", query={"taskType": "work"}).json()
    assert sorted(data, key=lambda d: d.get("domain", "")) == [
        {"queueName": "work", "workerId": "w1", "lastPollTime": clock.now},
        {"queueName": "work", "domain": "blue", "workerId": "w2", "lastPollTime": clock.now},
    ]
    every = call_api("GET", "/api/tasks/queue/polldata/all").json()
    assert {d["queueName"] for d in every} == {"work", "next_work"}
    missing = call_api("GET", "/api/tasks/queue/polldata")
    assert missing.status == 400


def test_task_logs_from_results_and_the_log_endpoint(clock: Clock) -> None:
    _start()
    [task] = _batch()
    assert call_api("GET", f"/api/tasks/{task['taskId']}/log").status == 204
    logged = _result(
        task, "IN_PROGRESS", extendLease=True, logs=[{"log": "starting", "createdTime": 1}]
    )
    assert call_api("POST", "/api/tasks", logged).status == 200
    assert call_api("POST", f"/api/tasks/{task['taskId']}/log", "x" * 10_000).status == 200
    logs = call_api("GET", f"/api/tasks/{task['taskId']}/log").json()
    assert [entry["log"] for entry in logs] == ["starting", "x" * 4_096]
    assert {entry["taskId"] for entry in logs} == {task["taskId"]}
    assert call_api("POST", "/api/tasks/no-such-task/log", "hello").status == 404


def _task_def(**fields: Any) -> None:
    body = [{"name": "work", "retryCount": 0, "responseTimeoutSeconds": 600, **fields}]
    assert call_api("POST", "/api/metadata/taskdefs", body).status == 200


def test_concurrent_exec_limit_holds_tasks_back_while_the_limit_is_running(clock: Clock) -> None:
    _task_def(concurrentExecLimit=2)
    for _ in range(3):
        _start()
    running = _batch(count=5)
    assert len(running) == 2
    assert _batch(count=5) == []
    assert call_api("POST", "/api/tasks", _result(running[0], "COMPLETED")).status == 200
    assert len(_batch(count=5)) == 1
    assert _batch(count=5) == []


def test_rate_limit_hands_out_at_most_so_many_per_window(clock: Clock) -> None:
    _task_def(rateLimitPerFrequency=2, rateLimitFrequencyInSeconds=10)
    clock.now -= clock.now % 10_000  # the start of a window
    for _ in range(5):
        _start()
    assert len(_batch(count=5)) == 2
    clock.now += 9_000
    assert _batch(count=5) == []
    clock.now += 1_000
    assert len(_batch(count=5)) == 2


def test_a_task_nobody_polls_in_time_times_out_and_is_retried(clock: Clock) -> None:
    _task_def(pollTimeoutSeconds=5, retryCount=1, retryDelaySeconds=0, timeoutPolicy="RETRY")
    workflow_id = _start()
    clock.now += 5_000
    runtime.baton().sweep()
    tasks = call_api("GET", f"/api/workflow/{workflow_id}").json()["tasks"]
    assert [t["status"] for t in tasks] == ["TIMED_OUT", "SCHEDULED"]
    assert tasks[0]["reasonForIncompletion"].startswith("Task poll timed out after 5 seconds")
    [retried] = _batch()
    assert retried["retryCount"] == 1


def test_a_start_delay_keeps_the_task_from_polls_until_it_has_passed(clock: Clock) -> None:
    delayed = {
        "name": "delayed",
        "version": 1,
        "tasks": [
            {"name": "work", "taskReferenceName": "work_ref", "type": "SIMPLE", "startDelay": 30}
        ],
    }
    assert call_api("POST", "/api/metadata/workflow", delayed).status == 200
    workflow_id = _start("delayed")
    clock.now += 29_000
    assert _batch() == []
    clock.now += 1_000
    [task] = _batch()
    assert (task["workflowInstanceId"], task["startDelayInSeconds"]) == (workflow_id, 30)


def test_queue_endpoints_count_scheduled_tasks_per_queue(clock: Clock) -> None:
    _task_def()
    for _ in range(3):
        _start()
    _start(taskToDomain={"work": "blue"})
    _batch(domain="blue")  # takes the blue task, and leaves poll data for the blue queue
    _batch(domain="blue")
    sizes = call_api("GET", "/api/tasks/queue/sizes", query={"taskType": "work"}).json()
    assert sizes == {"work": 3}
    size = call_api("GET", "/api/tasks/queue/size", query={"taskType": "work", "domain": "blue"})
    assert size.json() == 0
    assert call_api("GET", "/api/tasks/queue/all").json() == {"work": 3, "blue:work": 0}
    verbose = call_api("GET", "/api/tasks/queue/all/verbose").json()
    assert verbose["work"] == {"a": {"size": 3, "uacked": 0}}
    requeued = call_api("POST", "/api/tasks/queue/requeue/work")
    assert (requeued.status, requeued.body) == (200, "0")


def test_queue_sizes_without_task_types_and_overlong_names(clock: Clock) -> None:
    assert call_api("GET", "/api/tasks/queue/sizes").json() == {}
    long_domain = call_api(
        "GET", "/api/tasks/poll/batch/work", query={"timeout": "0", "domain": "d" * 300}
    )
    assert long_domain.status == 400
    long_worker = call_api("GET", "/api/tasks/poll/work", query={"workerid": "w" * 300})
    assert long_worker.status == 400


def test_a_poll_between_a_start_staging_its_tasks_and_its_commit_leaves_them_pollable(
    clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A new workflow's tasks are written before the workflow's own item; a poll from another
    environment in between finds them in the poll index with no workflow yet, and must not
    drop them from it (the next poll hands them out)."""
    from baton.service import StartRequest
    from baton.store.models import TaskItem
    from baton.store.workflows import PENDING_EFFECT_GRACE_MS, WorkflowStore

    write_workflow = WorkflowStore._write_workflow
    polled_in_between: list[Any] = []

    def poll_first(self: WorkflowStore, *args: Any, **kwargs: Any) -> Any:
        if not polled_in_between:
            polled_in_between.append(_batch())
        return write_workflow(self, *args, **kwargs)

    monkeypatch.setattr(WorkflowStore, "_write_workflow", poll_first)
    workflow_id = _start()
    monkeypatch.setattr(WorkflowStore, "_write_workflow", write_workflow)
    assert polled_in_between == [[]]
    (task,) = _batch()
    assert task["workflowInstanceId"] == workflow_id

    # A task whose start never landed is dropped from the poll index once the grace passed.
    def crash(self: WorkflowStore, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("the environment died before the commit")

    monkeypatch.setattr(WorkflowStore, "_write_workflow", crash)
    with pytest.raises(RuntimeError):
        runtime.baton().start(StartRequest(name="one_step"))
    monkeypatch.setattr(WorkflowStore, "_write_workflow", write_workflow)

    def listed() -> list[str]:
        return [str(item.task_key) for item in TaskItem.scan() if item.poll_key is not None]

    assert len(listed()) == 1
    assert _batch() == []
    assert len(listed()) == 1
    clock.now += PENDING_EFFECT_GRACE_MS + 1
    assert _batch() == []
    assert listed() == []
