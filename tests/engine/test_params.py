"""Parameter substitution, checked against Conductor's ParametersUtils behaviour."""

from __future__ import annotations

import copy
import os
import threading
from decimal import Decimal
from typing import Any
from unittest import mock

import pytest
from hypothesis import given
from hypothesis import strategies as st

from baton.engine.params import java_text, resolve

WORKFLOW_DOCUMENT: dict[str, Any] = {
    "workflow": {
        "input": {
            "requestId": "request id 001",
            "a": 1,
            "k": "a",
            "ratio": 2.0,
            "flag": True,
            "nothing": None,
            "map": {"x": 1, "y": "s"},
            "list": [1, "x", None, True],
            "items": [
                {"id": "i1", "qty": 1, "price": 2.5},
                {"id": "i2", "qty": 3, "price": 4},
            ],
        },
        "output": {
            "names": [{"name": "The Who", "year": 1984}, {"name": "The Doors", "year": 1971}]
        },
        "workflowId": "wf-1",
        "status": "RUNNING",
        "variables": {"counter": 3},
    },
    "task2": {"output": {"location": "http://location"}, "status": "COMPLETED"},
    "task-ref": {"output": {"items": [{"id": 7}]}},
}


def resolve_one(template: Any, **kwargs: Any) -> Any:
    return resolve(template, WORKFLOW_DOCUMENT, **kwargs)


# --- Conductor's own examples -------------------------------------------------------------


def test_replace_reads_paths_from_the_document():
    # ParametersUtilsTest.testReplace
    payload = {
        "name": "conductor",
        "version": 2,
        "externalId": '{"taskRefName":"t001","workflowId":"w002"}',
    }
    replaced = resolve({"k1": "${$.externalId}", "k4": "${name}", "k5": "${version}"}, payload)
    assert replaced == {
        "k1": '{"taskRefName":"t001","workflowId":"w002"}',
        "k4": "conductor",
        "k5": 2,
    }


def test_replace_with_a_list_as_the_root():
    # ParametersUtilsTest.testReplaceWithArrayExpand, after JsonUtils.expand
    payload: Any = [
        {
            "externalId": [{"taskRefName": "t001", "workflowId": "w002"}],
            "name": "conductor",
            "version": 2,
        }
    ]
    replaced = resolve(
        {
            "k1": "${$..externalId}",
            "k2": "${$[0].externalId[0].taskRefName}",
            "k3": "${__json_externalId.taskRefName}",
            "k4": "${$[0].name}",
            "k5": "${$[0].version}",
        },
        payload,
    )
    assert replaced == {
        "k1": [[{"taskRefName": "t001", "workflowId": "w002"}]],
        "k2": "t001",
        "k3": None,
        "k4": "conductor",
        "k5": 2,
    }


def test_replace_with_an_expanded_map():
    # ParametersUtilsTest.testReplaceWithMapExpand
    payload = {
        "externalId": {"taskRefName": "t001", "workflowId": "w002"},
        "name": "conductor",
        "version": 2,
    }
    replaced = resolve(
        {"k2": "${externalId.taskRefName}", "k4": "${name}", "k5": "${version}"}, payload
    )
    assert replaced == {"k2": "t001", "k4": "conductor", "k5": 2}


def test_replace_recurses_into_maps_and_lists_without_mutating_the_template():
    # ParametersUtilsTest.testReplaceInputWithMapAndList
    payload = {"name": "conductor", "version": 2, "externalId": '{"a":1}'}
    template = {
        "k1": "${$.externalId}",
        "k2": "${name}",
        "k3": "${version}",
        "k4": "${}",
        "k5": "${    }",
        "map": {"name": "${name}", "version": "${version}"},
        "list": ["${name}", "${version}"],
    }
    original = copy.deepcopy(template)
    replaced = resolve(template, payload)
    assert replaced == {
        "k1": '{"a":1}',
        "k2": "conductor",
        "k3": 2,
        "k4": "",
        "k5": "",
        "map": {"name": "conductor", "version": 2},
        "list": ["conductor", 2],
    }
    assert template == original


def test_nested_path_expressions_resolve_inside_out():
    # ParametersUtilsTest.testNestedPathExpressions
    payload = {
        "name": "conductor",
        "index": 1,
        "mapValue": "a",
        "recordIds": [1, 2, 3],
        "map": {"a": [1, 2, 3], "b": [2, 4, 5], "c": [3, 7, 8]},
    }
    replaced = resolve(
        {
            "k1": "${recordIds[${index}]}",
            "k2": "${map.${mapValue}[${index}]}",
            "k3": "${map.b[${map.${mapValue}[${index}]}]}",
        },
        payload,
    )
    assert replaced == {"k1": 2, "k2": 2, "k3": 5}


def test_line_terminators_are_kept():
    # ParametersUtilsTest.testReplaceWithLineTerminators
    payload = {"name": "conductor", "version": 2}
    replaced = resolve(
        {
            "k1": "Name: ${name}; Version: ${version};",
            "k2": "Name: ${name};\nVersion: ${version};",
            "k3": "Name: ${name};\rVersion: ${version};",
            "k4": "Name: ${name};\r\nVersion: ${version};",
        },
        payload,
    )
    assert replaced == {
        "k1": "Name: conductor; Version: 2;",
        "k2": "Name: conductor;\nVersion: 2;",
        "k3": "Name: conductor;\rVersion: 2;",
        "k4": "Name: conductor;\r\nVersion: 2;",
    }


def test_escaped_tags():
    # ParametersUtilsTest.testReplaceWithEscapedTags
    payload = {"someString": "conductor", "someNumber": 2}
    template = {
        "k1": "${$.someString} $${$.someNumber}${$.someNumber} ${$.someNumber}$${$.someString}",
        "k2": "$${$.someString}afterText",
        "k3": "beforeText$${$.someString}",
        "k4": "$${$.someString} afterText",
        "k5": "beforeText $${$.someString}",
        "map": {"a": "${someString}", "b": "${someNumber}", "c": "$${someString} ${someNumber}"},
        "list": ["${someString}", "${someNumber}", "${someString} $${someNumber}"],
    }
    assert resolve(template, payload) == {
        "k1": "conductor ${$.someNumber}2 2${$.someString}",
        "k2": "${$.someString}afterText",
        "k3": "beforeText${$.someString}",
        "k4": "${$.someString} afterText",
        "k5": "beforeText ${$.someString}",
        "map": {"a": "conductor", "b": 2, "c": "${someString} 2"},
        "list": ["conductor", 2, "conductor ${someNumber}"],
    }


def test_task_input_v2_examples():
    # DeciderService tests: getTaskInputV2 and getTaskInputV2Partial
    template = {
        "workflowInputParam": "${workflow.input.requestId}",
        "taskOutputParam": "${task2.output.location}",
        "taskOutputParam2": "${task2.output.locationBad}",
        "taskOutputParam3": "${task3.output.location}",
        "constParam": "Some String value   &",
        "nullValue": None,
        "task2Status": "${task2.status}",
        "partial": "${task2.output.location}/something?host=${task3.output.location}",
        "jsonPathExtracted": "${workflow.output.names[*].year}",
        "secondName": "${workflow.output.names[1].name}",
        "concatenatedName": (
            "The Band is: ${workflow.output.names[1].name}-\t${workflow.output.names[0].name}"
        ),
        "task_id": "${CPEWF_TASK_ID}",
    }
    assert resolve_one(template, task_id="t-42") == {
        "workflowInputParam": "request id 001",
        "taskOutputParam": "http://location",
        "taskOutputParam2": None,
        "taskOutputParam3": None,
        "constParam": "Some String value   &",
        "nullValue": None,
        "task2Status": "COMPLETED",
        "partial": "http://location/something?host=null",
        "jsonPathExtracted": [1984, 1971],
        "secondName": "The Doors",
        "concatenatedName": "The Band is: The Doors-\tThe Who",
        "task_id": "t-42",
    }


# --- Paths --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("${workflow.input.a}", 1),
        ("${workflow.input.ratio}", 2.0),
        ("${workflow.input.flag}", True),
        ("${workflow.input.nothing}", None),
        ("${workflow.input.map}", {"x": 1, "y": "s"}),
        ("${workflow.input.list}", [1, "x", None, True]),
        ("${workflow.input.items[0].id}", "i1"),
        ("${workflow.input.items[-1].id}", "i2"),
        ("${workflow.input['map']['y']}", "s"),
        ('${workflow.input["map"].x}', 1),
        ("${task-ref.output.items[0].id}", 7),
        ("${$.workflow.workflowId}", "wf-1"),
        ("${workflow.variables.counter}", 3),
        ("${$}", WORKFLOW_DOCUMENT),
    ],
)
def test_definite_paths_keep_the_json_type(template: str, expected: Any):
    assert resolve_one(template) == expected
    assert type(resolve_one(template)) is type(expected)


@pytest.mark.parametrize(
    "template",
    [
        "${workflow.input.missing}",
        "${workflow.input.missing.deeper}",
        "${workflow.input.a.b}",  # a name on a number
        "${workflow.input.items[9]}",
        "${workflow.input.map[0]}",  # an index on an object
        "${workflow.input.items.id}",  # a name on a list
        "${nosuchtask.output.x}",
    ],
)
def test_missing_definite_paths_give_none(template: str):
    assert resolve_one(template) is None


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("${workflow.input..price}", [2.5, 4]),
        ("${workflow.input.items[*].id}", ["i1", "i2"]),
        ("${workflow.input.items[?(@.qty > 1)]}", [{"id": "i2", "qty": 3, "price": 4}]),
        ("${workflow.input.items[?(@.qty > 1)].id}", ["i2"]),
        ("${workflow.input.items[0:1].id}", ["i1"]),
        ("${workflow.input.items[0,1].qty}", [1, 3]),
        ("${workflow.input.map.*}", [1, "s"]),
        ("${workflow.input.items[?(@.qty > 10)]}", []),
        ("${workflow.input.missing[*]}", []),
        ("${workflow.input.missing..x}", []),
    ],
)
def test_indefinite_paths_give_lists(template: str, expected: list[Any]):
    assert resolve_one(template) == expected


@pytest.mark.parametrize(
    "template",
    ["${workflow.input.}", "${workflow..}", "${ workflow.input.a}", "${$workflow}", "${a(}"],
)
def test_invalid_paths_give_none(template: str):
    assert resolve_one(template) is None


def test_trailing_spaces_in_a_path_are_ignored_as_jayway_does():
    assert resolve_one("${workflow.input.a  }") == 1


@pytest.mark.parametrize(
    ("name", "value"),
    [("a:b", 1), ("user@example", 2), ("a$", 3), ("a/b", 4), ("1st", 5), ("é", 6)],
)
def test_dotted_names_take_any_character_jayway_does(name: str, value: int):
    document = {"input": {name: value}}
    assert resolve("${input." + name + "}", document) == value
    assert resolve("${$.." + name + "}", document) == [value]


# --- Text ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("x ${workflow.input.a} y", "x 1 y"),
        ("${workflow.input.a}${workflow.input.k}", "1a"),
        ("n=${workflow.input.nothing}", "n=null"),
        ("n=${workflow.input.missing}", "n=null"),
        ("b=${workflow.input.flag}", "b=true"),
        ("r=${workflow.input.ratio}", "r=2.0"),
        ("m=${workflow.input.map}", "m={x=1, y=s}"),
        ("l=${workflow.input.list}", "l=[1, x, null, true]"),
        ("a${}b", "ab"),
        # Indefinite results are json-smart arrays in Conductor, which print as JSON.
        ("ids=${workflow.input.items[*].id}", 'ids=["i1","i2"]'),
        ("none=${workflow.input.items[?(@.qty > 10)]}", "none=[]"),
    ],
)
def test_embedded_expressions_are_spliced_as_java_prints_them(template: str, expected: str):
    assert resolve_one(template) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, "null"),
        (True, "true"),
        (False, "false"),
        (0, "0"),
        (-12, "-12"),
        (2**70, str(2**70)),
        (2.0, "2.0"),
        (2.5, "2.5"),
        (-0.0, "-0.0"),
        (0.001, "0.001"),
        (9.99e-4, "9.99E-4"),
        (1e-5, "1.0E-5"),
        (9999999.0, "9999999.0"),
        (1e7, "1.0E7"),
        (123456789.123, "1.23456789123E8"),
        (1e21, "1.0E21"),
        (0.1 + 0.2, "0.30000000000000004"),
        (float("nan"), "NaN"),
        (float("inf"), "Infinity"),
        (float("-inf"), "-Infinity"),
        (Decimal("2"), "2"),
        (Decimal("2.0"), "2.0"),
        ("text", "text"),
        ({"a": 1, "b": "x", "c": None}, "{a=1, b=x, c=null}"),
        ({"d": [1, 2.0, True, None], "e": {}}, "{d=[1, 2.0, true, null], e={}}"),
        ([], "[]"),
    ],
)
def test_java_text(value: Any, expected: str):
    assert java_text(value) == expected


def test_text_without_expressions_is_returned_unchanged():
    assert resolve_one("plain text {with} $ signs") == "plain text {with} $ signs"


def test_an_unclosed_expression_stops_substitution_for_the_rest_of_the_text():
    # Conductor's pattern finds nothing after a `${` that never closes.
    assert resolve_one("${a ${workflow.input.a}") == "${a ${workflow.input.a}"
    assert resolve_one("${workflow.input.a} ${b ${workflow.input.a}") == "1 ${b ${workflow.input.a}"


def test_braces_are_balanced_without_regard_to_quotes():
    assert resolve_one("${workflow.input.a}}") == "1}"
    assert resolve({"x": {"y": 1}}, {}) == {"x": {"y": 1}}
    assert resolve("{${a}}", {"a": 5}) == "{5}"


def test_unescaping_also_applies_to_spliced_values():
    # Conductor unescapes `$${` in the finished text, values included.
    assert resolve("v=${v}", {"v": "$${x}"}) == "v=${x}"
    assert resolve("${v}", {"v": "$${x}"}) == "$${x}"


def test_nested_expression_inside_text():
    assert resolve_one("value: ${workflow.input.${workflow.input.k}}!") == "value: 1!"


# --- Special names ------------------------------------------------------------------------


def test_task_id():
    assert resolve_one("${CPEWF_TASK_ID}", task_id="t-1") == "t-1"
    assert resolve_one("id=${CPEWF_TASK_ID}", task_id="t-1") == "id=t-1"


def test_task_id_without_a_task_is_left_as_written():
    assert resolve_one("${CPEWF_TASK_ID}") == "${CPEWF_TASK_ID}"
    assert resolve_one("id=${CPEWF_TASK_ID}") == "id=${CPEWF_TASK_ID}"


def test_secrets_are_left_as_written():
    assert resolve_one("${workflow.secrets.DB_PASSWORD}") == "${workflow.secrets.DB_PASSWORD}"
    assert resolve_one("Bearer ${workflow.secrets.TOKEN}") == "Bearer ${workflow.secrets.TOKEN}"


def test_event_payload_is_the_document():
    payload = {"workflowInstanceId": "wf-9", "status": "DONE", "data": {"orderId": "o1"}}
    template = {
        "workflowId": "${workflowInstanceId}",
        "taskRefName": "wait_ref",
        "output": {"order": "${data.orderId}", "status": "${status}"},
    }
    assert resolve(template, payload) == {
        "workflowId": "wf-9",
        "taskRefName": "wait_ref",
        "output": {"order": "o1", "status": "DONE"},
    }


# --- Environment --------------------------------------------------------------------------


def test_environment_variables_are_never_resolved(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("BATON_PROBE_VARIABLE", "leaked")
    monkeypatch.setenv("HOME", "/leaked")
    assert resolve("${BATON_PROBE_VARIABLE}", {}) is None
    assert resolve("${HOME}", {}) is None
    assert resolve("${PATH}", {}) is None
    assert resolve("x${BATON_PROBE_VARIABLE}", {}) == "xnull"
    assert resolve("${HOME}", {"HOME": "from the document"}) == "from the document"


class _ExplodingEnvironment(dict[str, str]):
    def __getitem__(self, key: str) -> str:
        raise AssertionError(f"read os.environ[{key!r}]")

    def get(self, key: str, default: Any = None) -> Any:
        raise AssertionError(f"read os.environ.get({key!r})")

    def __contains__(self, key: object) -> bool:
        raise AssertionError(f"checked {key!r} in os.environ")


def test_resolution_does_not_touch_os_environ():
    templates = [
        "${HOME}",
        "${workflow.input.a}",
        "x ${workflow.input.items[?(@.qty > 1)].id} ${CPEWF_TASK_ID}",
        "${workflow.input.${workflow.input.k}}",
        "${NETFLIX_ENV} ${NETFLIX_STACK}",
    ]
    resolve_one(templates)  # Warms the caches and the lazy JSONPath import first.
    with (
        mock.patch.object(os, "environ", _ExplodingEnvironment()),
        mock.patch.object(os, "getenv", side_effect=AssertionError("os.getenv")),
    ):
        assert resolve_one(templates, task_id="t") == [
            None,
            1,
            'x ["i2"] t',
            1,
            "null null",
        ]


# --- Structure ----------------------------------------------------------------------------


def test_non_string_scalars_and_keys_are_kept():
    template = {"${workflow.input.k}": 1, "n": 2.5, "b": False, "none": None}
    assert resolve_one(template) == template


def test_tuples_become_lists():
    assert resolve_one(("${workflow.input.a}", 2)) == [1, 2]


def test_containers_are_new_objects():
    template: dict[str, Any] = {"inner": {"list": ["${workflow.input.a}"]}}
    resolved = resolve_one(template)
    resolved["inner"]["list"].append("more")
    assert template == {"inner": {"list": ["${workflow.input.a}"]}}


def test_concurrent_resolution():
    # ParametersUtilsTest.testReplaceConcurrent
    errors: list[str] = []

    def work(worker: int) -> None:
        for i in range(500):
            expected = f"test-{worker}-{i}"
            payload = {"payload": {"someId": expected}, "name": "conductor"}
            replaced = resolve({"k1": "${payload.someId}", "k2": "${name}"}, payload)
            if replaced != {"k1": expected, "k2": "conductor"}:
                errors.append(repr(replaced))

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


# --- Properties ---------------------------------------------------------------------------

json_scalars = (
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20)
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=8), children, max_size=5)
    ),
    max_leaves=20,
)


def _contains_expression_opening(value: Any) -> bool:
    if isinstance(value, str):
        return "${" in value
    if isinstance(value, dict):
        return any(_contains_expression_opening(v) for v in value.values())
    if isinstance(value, list):
        return any(_contains_expression_opening(v) for v in value)
    return False


@given(json_values)
def test_templates_without_expressions_resolve_to_an_equal_value(template: Any):
    if _contains_expression_opening(template):
        return
    assert resolve(template, WORKFLOW_DOCUMENT) == template


@given(json_values)
def test_a_lone_expression_returns_exactly_the_stored_value(value: Any):
    document = {"workflow": {"input": {"x": value}}}
    resolved = resolve("${workflow.input.x}", document)
    assert resolved == value
    assert type(resolved) is type(value)


plain_text = st.text(alphabet=st.characters(blacklist_characters="${}"), max_size=15)


@given(prefix=plain_text, inner=plain_text, suffix=plain_text)
def test_escaped_expressions_round_trip(prefix: str, inner: str, suffix: str):
    template = prefix + "$${" + inner + "}" + suffix
    assert resolve(template, WORKFLOW_DOCUMENT) == prefix + "${" + inner + "}" + suffix


env_names = st.from_regex(r"BATON_PROBE_[A-Z][A-Z0-9_]{0,10}", fullmatch=True)


# What an environment variable can hold: no NUL bytes, nothing that can't be encoded.
env_values = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    min_size=1,
    max_size=10,
)


@given(name=env_names, value=env_values)
def test_environment_variables_are_never_seen(name: str, value: str):
    with mock.patch.dict(os.environ, {name: value}):
        assert resolve("${" + name + "}", {}) is None
        assert resolve("<${" + name + "}>", {}) == "<null>"


def test_the_whole_workflow_document_resolves_to_a_plain_copy():
    """`${$}` over a running workflow (a definition stored before Baton refused it): the
    document is built lazily, and what a task gets must be plain data that can be stored."""
    import json

    from baton.engine.run import Run
    from tests.engine.support import set_variable, start, workflow_def

    decision = start(workflow_def(set_variable("first", a=1)), {"x": 2})
    run = Run(decision.workflow, decision.workflow.update_time)
    whole = resolve("${$}", run.document)
    assert type(whole) is dict
    assert whole["workflow"]["input"] == {"x": 2}
    assert whole["first"]["input"] == {"a": 1}
    json.dumps(whole)  # plain JSON data
    # Over a plain document (an event handler's message) it is the message itself.
    assert resolve("${$}", {"id": 7}) == {"id": 7}
