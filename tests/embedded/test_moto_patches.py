"""What the runtime changes in moto, checked in this process against moto's own behaviour."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.dynamodb.parsing.ast_nodes import Node  # type: ignore[attr-defined]
from moto.dynamodb.parsing.expressions import UpdateExpressionParser  # type: ignore[attr-defined]

from embedded import moto_patches

EXPRESSION = (
    "SET #a = :a, #m.#n = list_append(#m.#n, :l), #c = if_not_exists(#c, :zero) + :one, "
    "#l[0] = :a REMOVE #gone, #l[1] ADD #s :s DELETE #d :d"
)


def _shape(node: Any, parent: Any = None) -> Any:
    """A node's type and children, checking that each child points at its parent."""
    if not isinstance(node, Node):
        return node
    assert node.parent is parent
    children = node.children
    return (type(node), node.type, [_shape(c, node) for c in children or []])


def _nodes(node: Any) -> list[Any]:
    if not isinstance(node, Node):
        return []
    return [node, *(n for c in node.children or [] for n in _nodes(c))]


def test_a_parsed_tree_is_copied_whole_and_apart_from_the_original() -> None:
    tree = UpdateExpressionParser.make(EXPRESSION)
    copied = moto_patches.copied_tree(tree)

    assert _shape(copied) == _shape(copy.deepcopy(tree)) == _shape(tree)
    assert not {id(n) for n in _nodes(copied)} & {id(n) for n in _nodes(tree)}


@pytest.fixture
def table() -> Iterator[Any]:
    moto_patches.apply()
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        dynamodb.create_table(
            TableName="t",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        yield dynamodb


def test_updates_through_the_copied_trees_apply_as_moto_applies_them(table: Any) -> None:
    from moto.dynamodb.parsing import validators

    assert validators.deepcopy is not copy.deepcopy  # type: ignore[attr-defined]
    table.put_item(
        TableName="t",
        Item={
            "pk": {"S": "k"},
            "m": {"M": {"n": {"L": [{"N": "1"}]}}},
            "l": {"L": [{"S": "x"}, {"S": "y"}, {"S": "z"}]},
            "gone": {"S": "soon"},
            "d": {"SS": ["p", "q"]},
        },
    )
    names = {f"#{n}": n for n in ("a", "m", "n", "c", "l", "gone", "s", "d")}
    values = {
        ":a": {"S": "A"},
        ":l": {"L": [{"N": "2"}]},
        ":zero": {"N": "0"},
        ":one": {"N": "1"},
        ":s": {"SS": ["u"]},
        ":d": {"SS": ["p"]},
    }
    for _ in range(2):  # the second update reads the same parsed tree again
        table.update_item(
            TableName="t",
            Key={"pk": {"S": "k"}},
            UpdateExpression=EXPRESSION,
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
        )

    item = table.get_item(TableName="t", Key={"pk": {"S": "k"}})["Item"]
    assert item["a"] == {"S": "A"}
    assert item["m"] == {"M": {"n": {"L": [{"N": "1"}, {"N": "2"}, {"N": "2"}]}}}
    assert item["c"] == {"N": "2"}
    # The first update set l[0] and removed l[1] ("y"); the second removed "z".
    assert item["l"] == {"L": [{"S": "A"}]}
    assert "gone" not in item
    assert item["s"] == {"SS": ["u"]}
    assert item["d"] == {"SS": ["q"]}
