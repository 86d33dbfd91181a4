"""FORK_JOIN: starts every branch at once; the JOIN that follows it waits for them."""

from __future__ import annotations

from baton.engine.definitions import WorkflowTask
from baton.engine.run import Run, WorkflowFails
from baton.engine.state import Task, TaskStatus
from baton.engine.tasks.base import TaskType
from baton.engine.tasks.checking import TaskCheck

NOT_FOLLOWED_BY_JOIN = "Fork task definition is not followed by a join task.  Check the blueprint"


class ForkNotFollowedByJoin(WorkflowFails):
    pass


class ForkJoin(TaskType):
    name = "FORK_JOIN"
    dynamic_may_name = False
    retriable = False

    def validate(self, check: TaskCheck) -> None:
        forks = check.task.get("forkTasks")
        if forks is None or forks == []:
            check.error(
                "forkTasks should have atleast one task for taskType: FORK_JOIN taskName: "
                f"{check.name}",
                forks,
                "forkTasks",
            )
            return
        if not isinstance(forks, list):
            check.error("forkTasks must be a list of task lists", forks, "forkTasks")
            return
        for index, branch in enumerate(forks):
            # Conductor's fork starts each branch with its first task: an empty one breaks it.
            if not isinstance(branch, list) or not branch:
                check.error(
                    "each fork branch must be a non-empty list of tasks", branch, "forkTasks", index
                )

    def schedule(self, run: Run, definition: WorkflowTask, iteration: int) -> list[Task]:
        from baton.engine.tasks import schedule as schedule_definition

        join = run.index.next_after(definition.task_reference_name)
        if join is None or join.type != "JOIN":
            raise ForkNotFollowedByJoin(NOT_FOLLOWED_BY_JOIN)
        fork = run.new_task(
            definition, iteration=iteration, status=TaskStatus.COMPLETED, task_type="FORK"
        )
        fork.task_def_name = "FORK"
        fork.start_time = fork.end_time = run.now
        run.add(fork)
        created = [fork]
        for branch in definition.fork_tasks:
            if branch:
                created.extend(schedule_definition(run, branch[0], iteration))
        created.extend(schedule_definition(run, join, iteration))
        return created
