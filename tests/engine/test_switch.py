"""SWITCH (and DECISION): one case's tasks by a value or a script, then what follows the SWITCH.

The scenario tests port Conductor's SwitchTaskSpec on its four workflow fixtures.
"""

from __future__ import annotations

import pytest

from baton.engine.state import TaskStatus, WorkflowStatus
from tests.engine.support import (
    COMPLETED,
    IN_PROGRESS,
    SCHEDULED,
    T0,
    by_ref,
    complete,
    fixture,
    refs,
    shape,
    simple,
    start,
    switch,
    task,
    workflow_def,
)


def _by_kind(**fields):
    return workflow_def(
        switch("sw", {"a": [simple("a1"), simple("a2")], "b": [simple("b1")]}, **fields),
        simple("after"),
    )


def test_the_switch_completes_at_once_and_the_matching_case_starts():
    wf = start(_by_kind(default=[simple("d1")]), {"kind": "b"}).workflow
    sw = by_ref(wf, "sw")
    assert sw.task_type == "SWITCH"
    assert sw.task_def_name == "SWITCH"
    assert sw.status == COMPLETED
    assert sw.start_time == sw.end_time == T0
    assert sw.output_data == {"evaluationResult": ["b"], "selectedCase": "b"}
    assert sw.input_data == {"kind": "b", "case": "b", "hasChildren": "true"}
    assert refs(wf) == ["sw", "b1"]


def test_a_case_runs_its_tasks_in_order_then_what_follows_the_switch():
    wf = start(_by_kind(), {"kind": "a"}).workflow
    assert refs(wf) == ["sw", "a1"]
    wf = complete(wf, "a1", T0 + 1)
    assert refs(wf) == ["sw", "a1", "a2"]
    wf = complete(wf, "a2", T0 + 2)
    assert refs(wf) == ["sw", "a1", "a2", "after"]
    wf = complete(wf, "after", T0 + 3)
    assert wf.status == WorkflowStatus.COMPLETED


def test_the_default_case_runs_when_no_case_matches():
    wf = start(_by_kind(default=[simple("d1")]), {"kind": "zzz"}).workflow
    assert by_ref(wf, "sw").output_data["evaluationResult"] == ["zzz"]
    assert refs(wf) == ["sw", "d1"]


def test_with_no_match_and_no_default_the_workflow_continues_after_the_switch():
    wf = start(_by_kind(), {"kind": "zzz"}).workflow
    sw = by_ref(wf, "sw")
    assert sw.status == COMPLETED
    assert "hasChildren" not in sw.input_data
    assert refs(wf) == ["sw", "after"]


def test_a_missing_value_selects_the_case_named_null():
    wf = start(_by_kind(default=[simple("d1")]), {}).workflow
    assert by_ref(wf, "sw").output_data["evaluationResult"] == ["null"]
    assert refs(wf) == ["sw", "d1"]


def test_an_empty_matching_case_does_not_fall_back_to_the_default():
    definition = workflow_def(
        switch("sw", {"skip": []}, default=[simple("d1")]),
        simple("after"),
    )
    wf = start(definition, {"kind": "skip"}).workflow
    assert refs(wf) == ["sw", "after"]


@pytest.mark.parametrize(
    ("value", "case"),
    [(True, "true"), (2, "2"), (2.0, "2.0"), (2.5, "2.5"), ("x", "x")],
)
def test_a_value_selects_the_case_named_as_java_prints_it(value, case):
    definition = workflow_def(switch("sw", {case: [simple("hit")]}, default=[simple("miss")]))
    wf = start(definition, {"kind": value}).workflow
    assert refs(wf) == ["sw", "hit"]


@pytest.mark.parametrize(
    ("amount", "expected"),
    [(500, "big"), (5, "small")],
)
def test_a_javascript_expression_sees_the_inputs_as_dollar(amount, expected):
    definition = workflow_def(
        switch(
            "sw",
            {"big": [simple("big_order")], "small": [simple("small_order")]},
            evaluatorType="javascript",
            expression="$.amount > 100 ? 'big' : 'small'",
            inputParameters={"amount": "${workflow.input.amount}"},
        )
    )
    wf = start(definition, {"amount": amount}).workflow
    assert by_ref(wf, "sw").output_data["selectedCase"] == expected
    assert refs(wf) == ["sw", f"{expected}_order"]


def test_a_whole_number_from_javascript_selects_the_case_without_a_decimal_point():
    definition = workflow_def(
        switch(
            "sw",
            {"2": [simple("two")]},
            default=[simple("other")],
            evaluatorType="javascript",
            expression="1 + 1",
        )
    )
    assert refs(start(definition).workflow) == ["sw", "two"]


def test_a_script_that_throws_fails_the_switch_and_the_workflow():
    definition = workflow_def(
        switch(
            "sw",
            {"a": [simple("a1")]},
            evaluatorType="javascript",
            expression="$.missing.field",
        )
    )
    wf = start(definition).workflow
    assert by_ref(wf, "sw").status == TaskStatus.FAILED
    assert by_ref(wf, "sw").reason_for_incompletion
    assert refs(wf) == ["sw"]
    assert wf.status == WorkflowStatus.FAILED


def test_a_nested_switch_picks_its_own_case_then_continues_after_the_outer_switch():
    inner = switch("inner", {"x": [simple("x1")]}, value="${workflow.input.second}")
    definition = workflow_def(
        switch(
            "outer", {"nested": [inner, simple("after_inner")]}, value="${workflow.input.first}"
        ),
        simple("after_outer"),
    )
    wf = start(definition, {"first": "nested", "second": "x"}).workflow
    assert refs(wf) == ["outer", "inner", "x1"]
    wf = complete(wf, "x1", T0 + 1)
    assert refs(wf)[-1] == "after_inner"
    wf = complete(wf, "after_inner", T0 + 2)
    assert refs(wf)[-1] == "after_outer"


def test_decision_the_older_switch_selects_by_case_value_param():
    definition = workflow_def(
        task(
            "DECISION",
            "dec",
            caseValueParam="kind",
            inputParameters={"kind": "${workflow.input.kind}"},
            decisionCases={"a": [simple("a1")]},
            defaultCase=[simple("d1")],
        )
    )
    wf = start(definition, {"kind": "a"}).workflow
    dec = by_ref(wf, "dec")
    assert (dec.task_type, dec.task_def_name, dec.status) == ("DECISION", "DECISION", COMPLETED)
    assert dec.output_data == {"caseOutput": ["a"]}
    assert refs(wf) == ["dec", "a1"]


def test_decision_selects_by_case_expression():
    definition = workflow_def(
        task(
            "DECISION",
            "dec",
            caseExpression="$.n > 1 ? 'many' : 'one'",
            inputParameters={"n": "${workflow.input.n}"},
            decisionCases={"many": [simple("m")], "one": [simple("o")]},
        )
    )
    assert refs(start(definition, {"n": 3}).workflow) == ["dec", "m"]


# -- Conductor's SwitchTaskSpec -------------------------------------------------------------


def test_switch_task_spec_simple_switch_workflow():
    wf = start(
        fixture("simple_switch_task_integration_test.json"),
        {"param1": "p1", "param2": "p2", "case": "c"},
    ).workflow
    assert wf.status == WorkflowStatus.RUNNING
    assert shape(wf) == [("SWITCH", COMPLETED), ("integration_task_1", SCHEDULED)]
    assert by_ref(wf, "t1").input_data == {"p1": "p1", "p2": "p2"}

    wf = complete(wf, "t1", T0 + 1)
    assert wf.status == WorkflowStatus.RUNNING
    assert shape(wf) == [
        ("SWITCH", COMPLETED),
        ("integration_task_1", COMPLETED),
        ("integration_task_2", SCHEDULED),
    ]

    wf = complete(wf, "t2", T0 + 2)
    assert wf.status == WorkflowStatus.RUNNING
    assert len(wf.tasks) == 4
    assert shape(wf)[2:] == [("integration_task_2", COMPLETED), ("integration_task_20", SCHEDULED)]

    wf = complete(wf, "t20", T0 + 3)
    assert wf.status == WorkflowStatus.COMPLETED
    assert len(wf.tasks) == 4
    assert shape(wf)[3] == ("integration_task_20", COMPLETED)


def test_switch_task_spec_simple_switch_workflow_default_case():
    wf = start(
        fixture("simple_switch_task_integration_test.json"),
        {"param1": "p1", "param2": "p2", "case": "d"},
    ).workflow
    assert shape(wf) == [("SWITCH", COMPLETED), ("integration_task_5", SCHEDULED)]
    wf = complete(wf, "t5", T0 + 1)
    assert shape(wf)[2] == ("integration_task_20", SCHEDULED)


def test_switch_task_spec_switch_that_leads_to_a_fork_join():
    wf = start(
        fixture("switch_and_fork_join_integration_test.json"),
        {"param1": "p1", "param2": "p2", "case": "c"},
    ).workflow
    assert wf.status == WorkflowStatus.RUNNING
    assert shape(wf) == [
        ("FORK", COMPLETED),
        ("SWITCH", COMPLETED),
        ("integration_task_1", SCHEDULED),
        ("integration_task_10", SCHEDULED),
        ("JOIN", IN_PROGRESS),
    ]

    wf = complete(wf, "t1", T0 + 1)
    wf = complete(wf, "t10", T0 + 2)
    assert wf.status == WorkflowStatus.RUNNING
    assert len(wf.tasks) == 6
    assert shape(wf)[2:] == [
        ("integration_task_1", COMPLETED),
        ("integration_task_10", COMPLETED),
        ("JOIN", IN_PROGRESS),
        ("integration_task_2", SCHEDULED),
    ]
    assert by_ref(wf, "joinTask").input_data["joinOn"] == ["t20", "t10"]

    wf = complete(wf, "t2", T0 + 3)
    assert len(wf.tasks) == 7
    assert shape(wf)[4:] == [
        ("JOIN", IN_PROGRESS),
        ("integration_task_2", COMPLETED),
        ("integration_task_20", SCHEDULED),
    ]

    wf = complete(wf, "t20", T0 + 4)
    assert wf.status == WorkflowStatus.COMPLETED
    assert len(wf.tasks) == 7
    assert shape(wf)[4] == ("JOIN", COMPLETED)
    assert shape(wf)[6] == ("integration_task_20", COMPLETED)


def test_switch_task_spec_default_case_of_a_conditional_workflow():
    wf = start(
        fixture("conditional_switch_task_workflow_integration_test.json"),
        {"param1": "xxx", "param2": "two"},
    ).workflow
    assert wf.status == WorkflowStatus.RUNNING
    assert shape(wf) == [("SWITCH", COMPLETED), ("integration_task_10", SCHEDULED)]
    assert wf.tasks[0].output_data["evaluationResult"] == ["xxx"]

    wf = complete(wf, "t10", T0 + 1)
    assert wf.status == WorkflowStatus.COMPLETED
    assert shape(wf) == [
        ("SWITCH", COMPLETED),
        ("integration_task_10", COMPLETED),
        ("SWITCH", COMPLETED),
    ]
    assert wf.tasks[2].output_data["evaluationResult"] == ["null"]


@pytest.mark.parametrize(
    ("case_value", "expected_task", "expected_ref"),
    [("two", "integration_task_2", "t2"), ("one", "integration_task_1", "t1")],
)
def test_switch_task_spec_nested_cases_of_a_conditional_workflow(
    case_value, expected_task, expected_ref
):
    wf = start(
        fixture("conditional_switch_task_workflow_integration_test.json"),
        {"param1": "nested", "param2": case_value},
    ).workflow
    assert wf.status == WorkflowStatus.RUNNING
    assert shape(wf) == [("SWITCH", COMPLETED), ("SWITCH", COMPLETED), (expected_task, SCHEDULED)]
    assert wf.tasks[0].output_data["evaluationResult"] == ["nested"]
    assert wf.tasks[1].output_data["evaluationResult"] == [case_value]

    wf = complete(wf, expected_ref, T0 + 1)
    assert wf.status == WorkflowStatus.COMPLETED
    assert len(wf.tasks) == 4
    assert shape(wf)[2:] == [(expected_task, COMPLETED), ("SWITCH", COMPLETED)]
    assert wf.tasks[3].output_data["evaluationResult"] == ["null"]


def test_switch_task_spec_three_case_of_a_conditional_workflow():
    wf = start(
        fixture("conditional_switch_task_workflow_integration_test.json"),
        {"param1": "three", "param2": "two", "finalCase": "notify"},
    ).workflow
    assert shape(wf) == [("SWITCH", COMPLETED), ("integration_task_3", SCHEDULED)]
    assert wf.tasks[0].output_data["evaluationResult"] == ["three"]
    # "workflow.input.param2" without ${} is literal text.
    assert by_ref(wf, "t3").input_data == {"tp3": "workflow.input.param2"}

    wf = complete(wf, "t3", T0 + 1)
    assert wf.status == WorkflowStatus.RUNNING
    assert shape(wf) == [
        ("SWITCH", COMPLETED),
        ("integration_task_3", COMPLETED),
        ("SWITCH", COMPLETED),
        ("integration_task_4", SCHEDULED),
    ]
    assert wf.tasks[2].output_data["evaluationResult"] == ["notify"]

    wf = complete(wf, "integration_task_4", T0 + 2)
    assert wf.status == WorkflowStatus.COMPLETED
    assert shape(wf)[3] == ("integration_task_4", COMPLETED)


def test_switch_task_spec_switch_with_no_default_case():
    wf = start(
        fixture("switch_with_no_default_case_integration_test.json"),
        {"param1": "p1", "param2": "p2"},
    ).workflow
    assert wf.status == WorkflowStatus.RUNNING
    assert shape(wf) == [("SWITCH", COMPLETED), ("integration_task_2", SCHEDULED)]

    wf = complete(wf, "t2", T0 + 1)
    assert wf.status == WorkflowStatus.COMPLETED
    assert shape(wf) == [("SWITCH", COMPLETED), ("integration_task_2", COMPLETED)]


def test_decision_falls_back_to_its_default_for_an_empty_case_too():
    definition = workflow_def(
        task(
            "DECISION",
            "dec",
            caseValueParam="kind",
            inputParameters={"kind": "${workflow.input.kind}"},
            decisionCases={"skip": []},
            defaultCase=[simple("d1")],
        )
    )
    assert refs(start(definition, {"kind": "skip"}).workflow) == ["dec", "d1"]
