"""Conductor's search query grammar, read into a tree.

The grammar is that of Conductor's Elasticsearch and OpenSearch query parser (`Expression`,
`GroupedExpression`, `NameValue`, `ComparisonOp`, `ConstValue`, `ListConst`, `Range`):

    expression := term [ (AND | OR) expression ]
    term       := "(" expression ")" | name operator value
    operator   := "=" | "!=" | ">" | "<" | "IN" | "BETWEEN" | "STARTS_WITH" | "IS"
    value      := 'text' | "text" | number | "(" item, item, ... ")"  (after IN)
                | number AND number  (after BETWEEN) | null | not null  (after IS)

As in Conductor, `AND` and `OR` have no precedence: the right-hand side of either is the whole
rest of the expression (`a AND b OR c` is `a AND (b OR c)`); parentheses group. Two
leniencies: a bare word (`status = FAILED`) is read as a string (Conductor reads only numbers
unquoted), and quotes around the items of an IN list are dropped. What Conductor would ignore
after a complete expression is refused here, so a typo is never silently dropped.
"""

from __future__ import annotations

from dataclasses import dataclass

OPERATORS = ("=", "!=", ">", "<", "IN", "BETWEEN", "STARTS_WITH", "IS")
# A query longer than this is refused before it is read.
MAX_QUERY_LENGTH = 4096
_NUMBER_CHARS = frozenset("-e0123456789.")
_NAME_STOP = frozenset(" \t\r\n=<>!")
_WORD_STOP = frozenset(" \t\r\n()")


class QuerySyntaxError(ValueError):
    """The query does not follow the grammar; the message says where."""


@dataclass(frozen=True)
class Comparison:
    """`field operator value`; `values` holds one value, an IN list, or BETWEEN's two bounds."""

    field: str
    operator: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class Junction:
    """`left AND right` or `left OR right`."""

    operator: str  # "AND" or "OR"
    left: Node
    right: Node


Node = Comparison | Junction


def parse(query: str) -> Node | None:
    """The tree of `query`, or None for an empty query; QuerySyntaxError when it is not one."""
    if len(query) > MAX_QUERY_LENGTH:
        raise QuerySyntaxError(f"The query is longer than {MAX_QUERY_LENGTH} characters")
    reader = _Reader(query)
    reader.skip_space()
    if reader.at_end():
        return None
    node = reader.expression(depth=0)
    reader.skip_space()
    if not reader.at_end():
        raise reader.error("expected AND, OR or the end of the query")
    return node


# Parentheses nested deeper than this are refused (the reader recurses on them).
MAX_DEPTH = 32


class _Reader:
    def __init__(self, text: str) -> None:
        self.text = text
        self.position = 0

    def error(self, expected: str) -> QuerySyntaxError:
        found = self.text[self.position : self.position + 20] or "the end of the query"
        return QuerySyntaxError(
            f"Query syntax: {expected} at character {self.position + 1}, found '{found}'"
        )

    def at_end(self) -> bool:
        return self.position >= len(self.text)

    def peek(self, length: int = 1) -> str:
        return self.text[self.position : self.position + length]

    def skip_space(self) -> None:
        while not self.at_end() and self.text[self.position] in " \t\r\n":
            self.position += 1

    def keyword(self, word: str) -> bool:
        """Consume `word` if it comes next as a whole word."""
        end = self.position + len(word)
        if self.text[self.position : end] != word:
            return False
        if end < len(self.text) and (self.text[end].isalnum() or self.text[end] == "_"):
            return False
        self.position = end
        return True

    def expression(self, depth: int) -> Node:
        if depth > MAX_DEPTH:
            raise self.error(f"at most {MAX_DEPTH} nested parentheses")
        self.skip_space()
        left: Node
        if self.peek() == "(":
            self.position += 1
            left = self.expression(depth + 1)
            self.skip_space()
            if self.peek() != ")":
                raise self.error("expected ')'")
            self.position += 1
        else:
            left = self.comparison()
        self.skip_space()
        for operator in ("AND", "OR"):
            if self.keyword(operator):
                return Junction(operator, left, self.expression(depth))
        return left

    def comparison(self) -> Comparison:
        field = self.name()
        self.skip_space()
        operator = self.operator()
        self.skip_space()
        if operator == "IN":
            return Comparison(field, operator, self.items())
        if operator == "BETWEEN":
            low = self.number()
            self.skip_space()
            if not self.keyword("AND"):
                raise self.error("expected AND between BETWEEN's two numbers")
            self.skip_space()
            return Comparison(field, operator, (low, self.number()))
        if operator == "IS":
            if self.keyword("not"):
                self.skip_space()
                if not self.keyword("null"):
                    raise self.error("expected 'not null'")
                return Comparison(field, operator, ("not null",))
            if self.keyword("null"):
                return Comparison(field, operator, ("null",))
            raise self.error("expected null or not null after IS")
        return Comparison(field, operator, (self.value(),))

    def name(self) -> str:
        start = self.position
        while not self.at_end() and self.text[self.position] not in _NAME_STOP:
            self.position += 1
        name = self.text[start : self.position]
        if not name:
            raise self.error("expected a field name")
        return name

    def operator(self) -> str:
        for operator in ("!=", "=", ">", "<"):
            if self.peek(len(operator)) == operator:
                self.position += len(operator)
                return operator
        for operator in ("IN", "BETWEEN", "STARTS_WITH", "IS"):
            if self.keyword(operator):
                return operator
        raise self.error("expected an operator (=, !=, >, <, IN, BETWEEN, STARTS_WITH, IS)")

    def value(self) -> str:
        if self.peek() in ("'", '"'):
            return self.quoted()
        start = self.position
        while not self.at_end() and self.text[self.position] not in _WORD_STOP:
            self.position += 1
        word = self.text[start : self.position]
        if not word:
            raise self.error("expected a value")
        return word

    def quoted(self) -> str:
        delimiter = self.text[self.position]
        self.position += 1
        chars: list[str] = []
        while not self.at_end():
            char = self.text[self.position]
            self.position += 1
            if char == delimiter:
                return "".join(chars)
            if char == "\\" and not self.at_end():
                char = self.text[self.position]
                self.position += 1
            chars.append(char)
        raise QuerySyntaxError(f"Query syntax: a string is not closed with <{delimiter}>")

    def number(self) -> str:
        start = self.position
        while not self.at_end() and self.text[self.position] in _NUMBER_CHARS:
            self.position += 1
        if start == self.position:
            raise self.error("expected a number")
        return self.text[start : self.position]

    def items(self) -> tuple[str, ...]:
        if self.peek() != "(":
            raise self.error("expected '(' to open the IN list")
        end = self.text.find(")", self.position)
        if end < 0:
            raise QuerySyntaxError("Query syntax: expected ')' to close the IN list")
        raw = self.text[self.position + 1 : end]
        self.position = end + 1
        items = tuple(_unquoted(item.strip()) for item in raw.split(","))
        if any(not item for item in items):
            raise QuerySyntaxError(f"Query syntax: an empty item in the IN list ({raw})")
        return items


def _unquoted(item: str) -> str:
    if len(item) >= 2 and item[0] == item[-1] and item[0] in ("'", '"'):
        return item[1:-1]
    return item
