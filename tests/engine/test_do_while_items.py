"""DO_WHILE over a list (`items`), keepLastN, and long loops whose condition stays cheap.

As Conductor's DoWhile: the body reads `${<loop>.output.loopItem}` and `loopIndex`; an empty
list completes the loop with iteration 0; a condition, when given, must hold as well as an
item being left. keepLastN removes older iterations from the output and the workflow.
"""

from __future__ import annotations

from typing import Any

from baton.engine import decider, js
from baton.engine.run import DecisionBudget
from baton.engine.state import TaskStatus, Workflow, WorkflowStatus
from baton.engine.validation import validate_workflow_def
from tests.engine.support import (
    COMPLETED,
    SCHEDULED,
    SECOND,
    T0,
    by_ref,
    complete,
    fork,
    join,
    loop,
    refs,
    simple,
    start,
    switch,
    task,
    workflow_def,
)


def _over_items(condition: str | None = None, body: list[dict[str, Any]] | None = None, **inputs):
    looped = task(
        "DO_WHILE",
        "each",
        items="${workflow.input.list}",
        loopOver=body
        or [
            simple(
                "work",
                inputParameters={
                    "item": "${each.output.loopItem}",
                    "index": "${each.output.loopIndex}",
                },
            )
        ],
        inputParameters=inputs,
    )
    if condition is not None:
        looped["loopCondition"] = condition
    return workflow_def(looped, simple("after"))


def test_the_body_runs_once_per_item_reading_the_item_and_its_index():
    wf = start(_over_items(), {"list": ["a", {"b": 1}, 3]}).workflow
    assert by_ref(wf, "each").output_data == {"iteration": 1, "loopIndex": 0, "loopItem": "a"}
    assert by_ref(wf, "work__1").input_data == {"item": "a", "index": 0}
    wf = complete(wf, "work", T0 + SECOND, done=1)
    assert by_ref(wf, "work__2").input_data == {"item": {"b": 1}, "index": 1}
    wf = complete(wf, "work", T0 + 2 * SECOND, done=2)
    assert by_ref(wf, "work__3").input_data == {"item": 3, "index": 2}
    wf = complete(wf, "work", T0 + 3 * SECOND, done=3)
    each = by_ref(wf, "each")
    assert each.status == COMPLETED
    assert each.output_data["iteration"] == 3
    assert each.output_data["3"] == {"work": {"done": 3}}
    assert by_ref(wf, "after").status == SCHEDULED


def test_an_empty_list_completes_the_loop_at_once_with_iteration_zero():
    wf = start(_over_items(), {"list": []}).workflow
    assert refs(wf) == ["each", "after"]
    assert by_ref(wf, "each").status == COMPLETED
    assert by_ref(wf, "each").output_data == {"iteration": 0}


def test_a_single_value_is_a_list_of_one():
    wf = start(_over_items(), {"list": "solo"}).workflow
    assert by_ref(wf, "work__1").input_data["item"] == "solo"
    wf = complete(wf, "work", T0 + SECOND)
    assert by_ref(wf, "each").status == COMPLETED


def test_a_condition_may_end_a_list_iteration_early():
    wf = start(_over_items("$.loopItem != 'stop'"), {"list": ["a", "stop", "c"]}).workflow
    wf = complete(wf, "work", T0 + SECOND)
    wf = complete(wf, "work", T0 + 2 * SECOND)
    assert by_ref(wf, "each").status == COMPLETED
    assert by_ref(wf, "each").output_data["iteration"] == 2
    assert "work__3" not in refs(wf)


def test_orkes_items_input_iterates_too():
    looped = loop("each", [simple("work", inputParameters={"i": "${each.output.loopItem}"})], "")
    looped["inputParameters"] = {"_items": "${workflow.input.list}"}
    del looped["loopCondition"]
    wf = start(workflow_def(looped), {"list": [1, 2]}).workflow
    assert by_ref(wf, "work__1").input_data == {"i": 1}
    wf = complete(wf, "work", T0 + SECOND)
    assert by_ref(wf, "work__2").input_data == {"i": 2}


def test_a_list_iteration_over_a_fork_and_a_switch():
    body = [
        fork("f", [simple("a")], [simple("b")]),
        join("j", "a", "b"),
        switch(
            "route",
            {"x": [simple("on_x")]},
            default=[simple("other")],
            value="${each.output.loopItem}",
        ),
    ]
    wf = start(_over_items(body=body), {"list": ["x", "y"]}).workflow
    for iteration, expected in ((1, "on_x"), (2, "other")):
        wf = complete(wf, "a", T0 + iteration * SECOND)
        wf = complete(wf, "b", T0 + iteration * SECOND)
        assert by_ref(wf, f"{expected}__{iteration}").status == SCHEDULED
        wf = complete(wf, expected, T0 + iteration * SECOND + 1)
    assert by_ref(wf, "each").status == COMPLETED


# -- keepLastN -------------------------------------------------------------------------------


def _kept(keep: int) -> Any:
    return workflow_def(
        loop("loop", [simple("step")], "$.loop['iteration'] < 10", keepLastN=keep),
        simple("after"),
    )


def test_keep_last_n_removes_older_iterations_from_the_output_and_the_workflow():
    wf = start(_kept(2)).workflow
    for iteration in range(1, 5):
        wf = complete(wf, "step", T0 + iteration * SECOND, n=iteration)
    # Iteration 4 ended: 3 and 4 are kept, 5 has started.
    assert refs(wf) == ["loop", "step__3", "step__4", "step__5"]
    output = by_ref(wf, "loop").output_data
    assert sorted(k for k in output if k.isdigit()) == ["3", "4"]
    assert output["iteration"] == 5


def test_the_decision_reports_the_removed_stored_tasks():
    wf = start(_kept(1)).workflow
    wf = complete(wf, "step", T0 + SECOND)
    # The store holds step__1 (as it would once committed) when iteration 2 ends.
    for t in wf.tasks:
        t.store_key = f"key-{t.task_id}"
    target = decider.find_task(wf, reference="step")
    assert target is not None
    result = decider.TaskUpdate(status=TaskStatus.COMPLETED)
    decision = decider.update_task(wf, target.task_id, result, T0 + 2 * SECOND)
    assert [t.reference_task_name for t in decision.removed_tasks] == ["step__1"]
    assert refs(decision.workflow) == ["loop", "step__2", "step__3"]
    assert all(t.task_id in decision.new_task_ids or t.store_key for t in decision.changed_tasks)


def test_keep_last_n_removes_the_branches_of_a_dynamic_fork_in_the_body_too():
    fan = task(
        "FORK_JOIN_DYNAMIC",
        "fan",
        inputParameters={"forkTaskType": "NOOP", "forkTaskInputs": [1, 2]},
    )
    definition = workflow_def(
        loop("loop", [fan, join("gather")], "$.loop['iteration'] < 3", keepLastN=1),
        simple("after"),
    )
    wf = start(definition).workflow
    assert wf.status == WorkflowStatus.RUNNING
    # Iteration 3 is the one kept; the NOOP branches of 1 and 2 went with their fork.
    assert refs(wf) == [
        "loop",
        "fan__3",
        "_fan_NOOP_0__3",
        "_fan_NOOP_1__3",
        "gather__3",
        "after",
    ]


def _drive(wf: Workflow, now: int, limit: int = 1000) -> Workflow:
    """Decide again (as the carry-over timer does) until the workflow stops changing."""
    for _ in range(limit):
        decision = decider.decide(wf, now)
        wf = decision.workflow
        if not decision.changed or wf.status != WorkflowStatus.RUNNING:
            break
    return wf


def test_two_thousand_iterations_with_keep_last_n_stay_small_and_the_condition_cheap():
    definition = workflow_def(
        loop(
            "loop",
            [task("NOOP", "tick")],
            "$.loop['iteration'] < 2000",
            keepLastN=3,
        ),
    )
    budget = DecisionBudget(max_seconds=3600)
    wf = start(definition, budget=budget).workflow
    wf = _drive(wf, T0)
    assert wf.status == WorkflowStatus.COMPLETED
    assert by_ref(wf, "loop").output_data["iteration"] == 2000
    assert refs(wf) == ["loop", "tick__1998", "tick__1999", "tick__2000"]
    assert sorted(k for k in by_ref(wf, "loop").output_data if k.isdigit()) == [
        "1998",
        "1999",
        "2000",
    ]


def test_without_keep_last_n_the_condition_sees_only_what_it_names(monkeypatch):
    """The loop's output grows every iteration; the condition is handed one number of it."""
    handed: list[Any] = []
    original = js.needed_bindings

    def spy(expression: str, bindings: Any) -> Any:
        needed = original(expression, bindings)
        handed.append(needed)
        return needed

    monkeypatch.setattr(js, "needed_bindings", spy)
    definition = workflow_def(loop("loop", [task("NOOP", "tick")], "$.loop['iteration'] < 200"))
    wf = _drive(start(definition).workflow, T0)
    assert wf.status == WorkflowStatus.COMPLETED
    assert len(by_ref(wf, "loop").output_data) == 201  # every iteration's outputs, kept
    assert len(handed) == 200
    assert all(needed == {"loop": {"iteration": n}} for n, needed in enumerate(handed, 1))


def test_a_loop_whose_output_outgrows_what_a_task_keeps_fails_saying_so():
    """Without keepLastN every iteration's outputs stay in the loop's output: past 256 KB the
    loop fails with a reason, rather than the store refusing the commit."""
    body = task(
        "INLINE",
        "big",
        inputParameters={"evaluatorType": "javascript", "expression": "'x'.repeat(20000)"},
    )
    definition = workflow_def(loop("loop", [body], "true"))
    wf = _drive(start(definition).workflow, T0)
    assert wf.status == WorkflowStatus.FAILED
    loop_task = by_ref(wf, "loop")
    assert loop_task.status == TaskStatus.FAILED_WITH_TERMINAL_ERROR
    assert "set keepLastN" in (loop_task.reason_for_incompletion or "")
    assert loop_task.iteration == 14  # 14 outputs of 20 KB pass 256 KB


def test_with_keep_last_n_the_same_loop_runs_on():
    body = task(
        "INLINE",
        "big",
        inputParameters={"evaluatorType": "javascript", "expression": "'x'.repeat(20000)"},
    )
    definition = workflow_def(loop("loop", [body], "$.loop['iteration'] < 40", keepLastN=2))
    wf = _drive(start(definition).workflow, T0)
    assert wf.status == WorkflowStatus.COMPLETED


# -- validation ------------------------------------------------------------------------------


def _errors(*tasks: dict[str, Any]) -> list[tuple[str, str]]:
    return [(e.path, e.message) for e in validate_workflow_def(workflow_def(*tasks).to_json())]


def test_items_makes_the_condition_optional():
    assert _errors(*_over_items().to_json()["tasks"]) == []


def test_without_items_the_condition_is_required():
    bare = task("DO_WHILE", "loop", loopOver=[simple("a")])
    assert _errors(bare) == [
        (
            "tasks[0].loopCondition",
            "loopCondition field is required for taskType: DO_WHILE taskName: loop",
        )
    ]


def test_keep_last_n_must_be_a_positive_integer():
    bad = loop("loop", [simple("a")], "false", keepLastN=0)
    assert _errors(bad) == [
        ("tasks[0].inputParameters.keepLastN", "keepLastN must be an integer >= 1")
    ]


def test_items_must_be_an_expression_string():
    bad = task("DO_WHILE", "loop", items=[1, 2], loopOver=[simple("a")])
    [(path, _)] = _errors(bad)
    assert path == "tasks[0].items"
