"""The decision budget: one decision does bounded work and carries the rest over.

A DO_WHILE whose body completes at once (SET_VARIABLE) would otherwise run every iteration in
one decision, and one whose condition is slow would hold a request for minutes. Each decision
here stops within its budget with a timer due at once (`ArmTimer`), the task it stopped at
marked (`continue_at`), and the next decision picks up where it stopped.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pytest

from baton.engine import decider
from baton.engine.decider import Decision
from baton.engine.effects import ArmTimer
from baton.engine.run import DecisionBudget
from baton.engine.state import Workflow, WorkflowStatus
from tests.engine.support import (
    COMPLETED,
    T0,
    by_ref,
    loop,
    set_variable,
    start,
    switch,
    wait,
    workflow_def,
)


@dataclass
class Budgets:
    """Hands out one budget per decision and keeps them, to check what each one spent.

    Time is fake: each script evaluation takes `seconds_per_evaluation` of it.
    """

    max_steps: int = 1000
    max_new_tasks: int = 1000
    max_evaluations: int = 100
    max_seconds: float = 2.0
    seconds_per_evaluation: float = 0.0
    issued: list[DecisionBudget] = field(default_factory=list)

    def __call__(self) -> DecisionBudget:
        budget = DecisionBudget(
            max_steps=self.max_steps,
            max_new_tasks=self.max_new_tasks,
            max_evaluations=self.max_evaluations,
            max_seconds=self.max_seconds,
        )
        budget.clock = lambda: budget.evaluations * self.seconds_per_evaluation
        self.issued.append(budget)
        return budget


def carry_over_timers(decision: Decision) -> list[ArmTimer]:
    return [
        effect
        for effect in decision.effects
        if isinstance(effect, ArmTimer)
        and (task := decision.workflow.task_by_id(effect.task_id)) is not None
        and task.continue_at
    ]


def run_to_the_end(first: Decision, budgets: Budgets, *, limit: int = 200) -> list[Decision]:
    """Decide again, as the carry-over timer does, until no decision is carried over."""
    decisions = [first]
    now = T0
    while carry_over_timers(decisions[-1]):
        assert len(decisions) < limit, "the workflow never finished"
        (timer,) = carry_over_timers(decisions[-1])
        assert timer.due_at == now  # due at once: the next decision runs right away
        now += 1
        decisions.append(decider.decide(decisions[-1].workflow, now, budget=budgets()))
    return decisions


def counting_loop(times: int, condition: str = "$.loop['iteration'] < $.times") -> Workflow:
    return workflow_def(
        loop("loop", [set_variable("count", n="${loop.output.iteration}")], condition, times=times)
    )


def test_a_loop_of_many_quick_iterations_completes_over_several_decisions() -> None:
    budgets = Budgets(max_steps=200, max_new_tasks=10_000)
    decisions = run_to_the_end(start(counting_loop(1500), budget=budgets()), budgets)

    final = decisions[-1].workflow
    assert final.status == WorkflowStatus.COMPLETED
    assert by_ref(final, "loop").output_data["iteration"] == 1500
    assert final.variables == {"n": 1500}
    assert [t.reference_task_name for t in final.tasks][1:] == [
        f"count__{i}" for i in range(1, 1501)
    ]
    assert all(t.status == COMPLETED and t.continue_at == 0 for t in final.tasks)
    # Each iteration takes two steps (the SET_VARIABLE runs, the loop goes on).
    assert len(decisions) >= 1500 * 2 // 200
    for budget in budgets.issued:
        assert budget.steps <= budget.max_steps


def test_new_tasks_per_decision_are_bounded() -> None:
    budgets = Budgets(max_new_tasks=50)
    decisions = run_to_the_end(start(counting_loop(300), budget=budgets()), budgets)
    assert decisions[-1].workflow.status == WorkflowStatus.COMPLETED
    for decision in decisions:
        assert len(decision.new_task_ids) <= 50


def test_a_loop_with_slow_conditions_does_a_few_evaluations_per_decision() -> None:
    # Each evaluation "takes" 0.9 s: a 2 s budget allows three (the third starts at 1.8 s).
    budgets = Budgets(seconds_per_evaluation=0.9)
    decisions = run_to_the_end(start(counting_loop(20), budget=budgets()), budgets)

    final = decisions[-1].workflow
    assert final.status == WorkflowStatus.COMPLETED
    assert by_ref(final, "loop").output_data["iteration"] == 20
    assert len(decisions) >= 20 // 3
    for budget in budgets.issued:
        assert budget.evaluations <= 3
        # A step starts only within the budget; the one running then may finish past it.
        assert (budget.evaluations - 1) * 0.9 < budget.max_seconds


def test_script_evaluations_per_decision_are_bounded() -> None:
    budgets = Budgets(max_evaluations=7)
    decisions = run_to_the_end(start(counting_loop(50), budget=budgets()), budgets)
    assert decisions[-1].workflow.status == WorkflowStatus.COMPLETED
    assert max(b.evaluations for b in budgets.issued) == 7


def test_javascript_switches_count_as_evaluations() -> None:
    body = [
        switch(
            "pick",
            {"true": [set_variable("seen", n="${loop.output.iteration}")]},
            evaluatorType="javascript",
            expression="$.n % 2 == 0",
            inputParameters={"n": "${loop.output.iteration}"},
        )
    ]
    definition = workflow_def(loop("loop", body, "$.loop['iteration'] < 30"))
    budgets = Budgets(max_evaluations=5)
    decisions = run_to_the_end(start(definition, budget=budgets()), budgets)
    assert decisions[-1].workflow.status == WorkflowStatus.COMPLETED
    assert decisions[-1].workflow.variables == {"n": 30}
    # The step that ends an iteration evaluates the condition and schedules the next SWITCH,
    # which evaluates its expression: the budget is checked before each step.
    assert all(b.evaluations <= 5 + 1 for b in budgets.issued)


def test_the_carry_over_mark_is_cleared_by_the_next_decision_of_any_kind() -> None:
    budgets = Budgets(max_steps=5)
    first = start(counting_loop(100), budget=budgets())
    (timer,) = carry_over_timers(first)
    marked = first.workflow.task_by_id(timer.task_id)
    assert marked is not None and marked.continue_at == T0
    assert marked in first.changed_tasks  # written, so the store indexes the mark

    # Terminated before the timer fires: the mark goes with that decision.
    ended = decider.terminate(first.workflow, "stop", T0 + 1)
    cleared = ended.workflow.task_by_id(timer.task_id)
    assert cleared is not None and cleared.continue_at == 0
    assert cleared in ended.changed_tasks
    assert carry_over_timers(ended) == []


def test_a_decision_within_its_budget_is_not_carried_over() -> None:
    budgets = Budgets()
    decision = start(workflow_def(wait("gate"), set_variable("after", x=1)), budget=budgets())
    assert carry_over_timers(decision) == []
    assert all(t.continue_at == 0 for t in decision.workflow.tasks)
    assert budgets.issued[0].steps < 5


def test_a_carried_over_decision_is_what_one_unbounded_decision_gives() -> None:
    unbounded = Budgets(max_steps=10**9, max_new_tasks=10**9, max_evaluations=10**9)
    (whole,) = run_to_the_end(start(counting_loop(120), budget=unbounded()), unbounded)
    small = Budgets(max_steps=7)
    pieces = run_to_the_end(start(counting_loop(120), budget=small()), small)
    assert len(pieces) > 10

    def outcome(workflow: Workflow) -> list[tuple[str, str, object, object]]:
        return [(t.task_id, t.status.value, t.input_data, t.output_data) for t in workflow.tasks]

    assert outcome(pieces[-1].workflow) == outcome(whole.workflow)
    assert pieces[-1].workflow.variables == whole.workflow.variables
    assert pieces[-1].workflow.output == whole.workflow.output


def test_three_thousand_iterations_complete_and_the_condition_input_stays_small(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each iteration adds its outputs to the loop's output, which Conductor hands to the
    condition whole; this condition reads one number of it, and is handed only that."""
    from baton.engine import js

    run = js._run
    handed: list[int] = []

    def measured(bindings_json: str, expression: str, timeout: int, limit: int) -> str:
        handed.append(len(bindings_json))
        return run(bindings_json, expression, timeout, limit)

    monkeypatch.setattr(js, "_run", measured)
    definition = workflow_def(
        loop(
            "loop",
            [set_variable("count", n="${loop.output.iteration}", padding="x" * 200)],
            "$.loop['iteration'] < 3000 || false",
        )
    )
    budgets = Budgets()
    decisions = run_to_the_end(start(definition, budget=budgets()), budgets)

    final = decisions[-1].workflow
    assert final.status == WorkflowStatus.COMPLETED
    assert by_ref(final, "loop").output_data["iteration"] == 3000
    assert len(handed) == 3000
    assert max(handed) == len(json.dumps({"loop": {"iteration": 3000}}))


def test_a_decision_whose_time_is_spent_before_it_starts_still_takes_one_step() -> None:
    """Otherwise a slow load before the first step would carry over forever, doing nothing."""

    def spent_budget() -> DecisionBudget:
        budget = DecisionBudget(max_seconds=1.0)
        ticks = iter(range(0, 10_000, 5))  # every look at the clock is 5 s later
        budget.clock = lambda: float(next(ticks))
        return budget

    decision = start(counting_loop(3), budget=spent_budget())
    for now in range(T0 + 1, T0 + 20):
        if not carry_over_timers(decision):
            break
        decision = decider.decide(decision.workflow, now, budget=spent_budget())
    assert decision.workflow.status == WorkflowStatus.COMPLETED
    assert decision.workflow.variables == {"n": 3}
