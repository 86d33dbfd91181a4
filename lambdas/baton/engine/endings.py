"""Beyond a workflow's own tasks: its timeout, its children and parent, its failure workflow.

As Conductor's WorkflowExecutorOps.terminateWorkflow and DeciderService.checkWorkflowTimeout:

- A definition's `timeoutSeconds` counts from the workflow's creation. TIME_OUT_WF ends the
  workflow TIMED_OUT (open tasks CANCELED); ALERT_ONLY records a TimeoutAlert once, in the
  first decision past the deadline, and the workflow runs on. A timer wakes the workflow at
  its deadline: one open task carries it in the due index.
- A SUB_WORKFLOW task that is CANCELED (its workflow ended) terminates its child.
- A child's end is reported to its parent's task (ReportToParent).
- A workflow that FAILED, TIMED_OUT or was TERMINATED by its own run (a TERMINATE task, a
  canceled child), not by the terminate API, starts its failure workflow once, under an id
  derived from its own, named in its output as `conductor.failure_workflow`.

Effects about the workflow as a whole are recorded on one of its tasks (the anchor), so the
commit that ends the workflow also records what it still owes, and the sweep finds it.
"""

from __future__ import annotations

from baton.engine.effects import (
    ArmTimer,
    ReportToParent,
    StartFailureWorkflow,
    TerminateChild,
    TimeoutAlert,
)
from baton.engine.run import Run
from baton.engine.state import Task, TaskStatus, Workflow, WorkflowStatus, failure_workflow_id

FAILURE_WORKFLOW_OUTPUT = "conductor.failure_workflow"
_STARTS_FAILURE_WORKFLOW = frozenset(
    {WorkflowStatus.FAILED, WorkflowStatus.TIMED_OUT, WorkflowStatus.TERMINATED}
)


def workflow_deadline(workflow: Workflow) -> int | None:
    """When the workflow's timeoutSeconds runs out (epoch ms), if it has one."""
    seconds = workflow.definition.timeout_seconds
    if seconds <= 0:
        return None
    return workflow.create_time + seconds * 1000


def pending_workflow_deadline(workflow: Workflow) -> int | None:
    """The workflow deadline a timer must still wake it for: none once ended, and none for
    ALERT_ONLY once the alert has been given (the workflow was updated past its deadline)."""
    deadline = workflow_deadline(workflow)
    if deadline is None or workflow.status.is_terminal:
        return None
    if workflow.definition.timeout_policy != "TIME_OUT_WF" and workflow.update_time >= deadline:
        return None
    return deadline


def timed_out(run: Run) -> str | None:
    """The reason the workflow times out now (TIME_OUT_WF), else None; past an ALERT_ONLY
    deadline the alert is recorded here, once."""
    wf = run.workflow
    deadline = workflow_deadline(wf)
    if deadline is None or wf.status.is_terminal or run.now < deadline:
        return None
    policy = wf.definition.timeout_policy
    reason = (
        f"Workflow timed out after {(run.now - wf.create_time) // 1000} seconds. Timeout "
        f"configured as {wf.definition.timeout_seconds} seconds. Timeout policy configured "
        f"to {policy}"
    )
    if policy == "TIME_OUT_WF":
        return reason
    if run.before.update_time < deadline:
        run.effects.append(TimeoutAlert(task_id="", reason=reason))
        run.touch_workflow()  # the alert is given: later decisions do not repeat it
        _reindex_open_tasks(run)
    return None


def _reindex_open_tasks(run: Run) -> None:
    """Rewrite the open tasks' due entries without the spent deadline (their own times kept:
    a worker task's response timeout counts from its update time)."""
    for task in list(run.workflow.tasks):
        if not task.status.is_terminal and not task.retried:
            kept = task.update_time
            run.edit(task).update_time = kept


def carry_workflow_deadline(run: Run) -> None:
    """Have one open task carry the workflow's deadline in its timer: a changed one if any,
    else any open task (its own times kept)."""
    wf = run.workflow
    deadline = pending_workflow_deadline(wf)
    if deadline is None or wf.status != WorkflowStatus.RUNNING:
        return
    carrier = next((t for t in run.changed.values() if _open(t)), None)
    if carrier is None:
        carrier = next((t for t in wf.tasks if _open(t)), None)
        if carrier is None:
            return
        kept = carrier.update_time
        carrier = run.edit(carrier)
        carrier.update_time = kept
    from baton.engine.tasks import task_type_for  # the registry imports the engine's modules

    own = task_type_for(carrier).deadline(carrier)
    run.effects.append(
        ArmTimer(task_id=carrier.task_id, due_at=min(own, deadline) if own else deadline)
    )


def _open(task: Task) -> bool:
    return not task.status.is_terminal and not task.retried


def _anchor(run: Run) -> Task | None:
    """The task an owed effect about the whole workflow is recorded on: one this decision
    changed, else the latest task (rewritten with its own times kept)."""
    changed = next(iter(run.changed.values()), None)
    if changed is not None:
        return changed
    latest = next((t for t in reversed(run.workflow.tasks)), None)
    if latest is None:
        return None
    kept = latest.update_time
    edited = run.edit(latest)
    edited.update_time = kept
    return edited


def child_terminations(run: Run) -> None:
    """Each SUB_WORKFLOW task this decision CANCELED terminates its child."""
    wf = run.workflow
    before = {t.task_id: t for t in run.before.tasks if t.sub_workflow_id}
    for task in list(run.changed.values()):
        earlier = before.get(task.task_id)
        if (
            task.status != TaskStatus.CANCELED
            or not task.sub_workflow_id
            or earlier is None
            or earlier.status.is_terminal
        ):
            continue
        run.effects.append(
            TerminateChild(
                task_id=task.task_id,
                child_workflow_id=task.sub_workflow_id,
                reason=parent_ended_reason(wf),
            )
        )


def parent_ended_reason(parent: Workflow) -> str:
    """Why a child is terminated when its parent ends, in Conductor's words."""
    if parent.reason_for_incompletion:
        return f"Parent workflow has been terminated with reason: {parent.reason_for_incompletion}"
    return f"Parent workflow has been terminated with status {parent.status.value}"


def ending_effects(run: Run) -> None:
    """What the decision that ends the workflow owes: its parent told, its failure workflow."""
    wf = run.workflow
    if not wf.status.is_terminal or run.before.status.is_terminal:
        return
    if wf.parent_workflow_id and wf.parent_workflow_task_id:
        anchor = _anchor(run)
        run.effects.append(
            ReportToParent(
                task_id=anchor.task_id if anchor else "",
                parent_workflow_id=wf.parent_workflow_id,
                parent_task_id=wf.parent_workflow_task_id,
            )
        )
    name = _failure_workflow_name(run)
    if name and wf.status in _STARTS_FAILURE_WORKFLOW and run.failure_workflow_allowed:
        anchor = _anchor(run)
        started = failure_workflow_id(wf.workflow_id)
        wf.output = {**wf.output, FAILURE_WORKFLOW_OUTPUT: started}
        version = wf.definition.raw.get("failureWorkflowVersion")
        run.effects.append(
            StartFailureWorkflow(
                task_id=anchor.task_id if anchor else "",
                workflow_id=started,
                name=name,
                version=version if isinstance(version, int) else None,
            )
        )


def failure_workflow_name(workflow: Workflow) -> str | None:
    """The failure workflow `workflow`'s definition names for it (resolved), if any."""
    return _failure_workflow_name(Run(workflow, workflow.update_time))


def _failure_workflow_name(run: Run) -> str | None:
    """The failureWorkflow, resolved when it is a `${workflow.input.x}` expression."""
    name = run.workflow.definition.failure_workflow
    if not name or not name.strip():
        return None
    if name.startswith("$"):
        resolved = run.resolve({"name": name}).get("name")
        return resolved if isinstance(resolved, str) and resolved.strip() else None
    return name
