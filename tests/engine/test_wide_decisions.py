"""What keeps a decision wider than one transaction consistent, without a store.

- `settled`: how a workflow's tasks read when the writes after a wide commit have not landed.
- `MAX_OPEN_TASKS_CHANGED`: a running decision changes at most that many tasks that were open
  when read (they need the transaction's version conditions), then carries the rest over.
- `_split_for_transaction`: which changed tasks take the transaction, which follow it.
"""

from __future__ import annotations

from dataclasses import replace

from baton.engine import decider, lifecycle
from baton.engine.effects import ArmTimer
from baton.engine.run import MAX_OPEN_TASKS_CHANGED
from baton.engine.state import TaskStatus, Workflow, WorkflowStatus, settled
from baton.store.workflows import MAX_TRANSACTION_ITEMS, _split_for_transaction
from tests.engine.support import SECOND, T0, by_ref, fork, join, start, wait, workflow_def

WIDTH = 150


def _wide(**inputs: object) -> Workflow:
    references = [f"w{i}" for i in range(WIDTH)]
    definition = workflow_def(
        fork("fork", *[[wait(ref, **inputs)] for ref in references]), join("join", *references)
    )
    return start(definition).workflow


def _as_stored(workflow: Workflow) -> Workflow:
    """The workflow as a load reads it back: each task knows the status its item holds."""
    return replace(
        workflow,
        tasks=[replace(t, stored_status=t.status, store_key=t.task_id) for t in workflow.tasks],
    )


def test_under_an_ended_workflow_an_open_task_reads_canceled_and_an_ended_one_keeps_it() -> None:
    tasks = _wide().tasks
    done = replace(tasks[1], status=TaskStatus.COMPLETED, end_time=T0 + 5)
    read = settled(WorkflowStatus.TERMINATED, T0 + 9, [tasks[0], done, tasks[2]])
    assert [t.status for t in read] == [
        TaskStatus.COMPLETED,  # the FORK
        TaskStatus.COMPLETED,  # what got there first
        TaskStatus.CANCELED,
    ]
    assert read[1].end_time == T0 + 5
    assert (read[2].end_time, read[2].start_time) == (T0 + 9, tasks[2].start_time or T0 + 9)
    # A running workflow's tasks read as stored.
    assert settled(WorkflowStatus.RUNNING, 0, tasks) == tasks


def test_a_task_another_retries_reads_retried_and_acted_on() -> None:
    tasks = _wide().tasks
    first, other = tasks[1], tasks[2]
    attempt = replace(first, task_id="again", retry_count=1, retried_task_id=first.task_id)
    read = settled(WorkflowStatus.RUNNING, 0, [first, other, attempt])
    assert (read[0].retried, read[0].executed) == (True, True)
    assert (read[1].retried, read[2].retried) == (False, False)


def test_a_running_decision_changes_at_most_the_cap_of_open_tasks_then_carries_over() -> None:
    workflow = _as_stored(_wide(duration="1 second"))
    later = T0 + 2 * SECOND
    first = decider.decide(workflow, later)
    opened = [t for t in first.changed_tasks if t.stored_status == TaskStatus.IN_PROGRESS]
    # The cap, and the task it stopped at (marked for the next decision).
    assert len(opened) == MAX_OPEN_TASKS_CHANGED + 1
    assert MAX_OPEN_TASKS_CHANGED < MAX_TRANSACTION_ITEMS - 1
    assert any(isinstance(e, ArmTimer) and e.carry_over for e in first.effects)
    assert first.workflow.status == WorkflowStatus.RUNNING
    _, rest = _split_for_transaction(first, first.changed_tasks, MAX_TRANSACTION_ITEMS - 1)
    assert rest == []
    # The next decision goes on from there and the workflow completes.
    second = decider.decide(_as_stored(first.workflow), later)
    assert second.workflow.status == WorkflowStatus.COMPLETED
    assert by_ref(second.workflow, "join").status == TaskStatus.COMPLETED


def test_an_ending_is_not_cut_and_its_cancellations_follow_the_open_tasks_it_changed() -> None:
    workflow = _as_stored(_wide())
    ended = decider.terminate(workflow, "enough", T0 + SECOND)
    assert ended.workflow.status == WorkflowStatus.TERMINATED
    canceled = [t for t in ended.changed_tasks if t.status == TaskStatus.CANCELED]
    assert len(canceled) == WIDTH + 1  # every WAIT and the JOIN, in one decision
    room = MAX_TRANSACTION_ITEMS - 1
    inline, rest = _split_for_transaction(ended, ended.changed_tasks, room)
    assert len(inline) == room and len(inline) + len(rest) == WIDTH + 1


def test_a_retry_puts_the_reopened_join_in_the_transaction_and_lets_the_retried_marks_follow() -> (
    None
):
    ended = decider.terminate(_as_stored(_wide()), "enough", T0 + SECOND)
    stored = _as_stored(ended.workflow)
    retried = lifecycle.retry(stored, T0 + 2 * SECOND)
    changed = [t for t in retried.changed_tasks if t.task_id not in retried.new_task_ids]
    room = MAX_TRANSACTION_ITEMS - 1
    inline, rest = _split_for_transaction(retried, changed, room)
    assert by_ref(stored, "join").task_id in {t.task_id for t in inline}
    assert rest and all(t.retried for t in rest)
