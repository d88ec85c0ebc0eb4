"""The segment rule language: which customers a segment holds, as a rule a marketer can read and write.

    traits.frequency >= 3 and consent.email and purchased(sku: "SKU-0100", within: "90d")
        and not attributes.city = "London"

A rule is ``or`` / ``and`` / ``not`` (that order of precedence, loosest first) over conditions, with
parentheses. A condition compares a value with ``=``, ``!=``, ``<``, ``<=``, ``>``, ``>=`` or ``in [...]``,
or is a value on its own, true when it is set and not false or zero (``consent.email``). Values:

- ``attributes.NAME``: the profile's golden attribute (text), e.g. ``attributes.city``;
- ``traits.NAME``: a computed trait: ``frequency``, ``monetary``, ``recency_days``, ``events``,
  ``top_category``;
- ``consent.PURPOSE``: true when the customer's latest consent to it is a grant (``email``, ``sms``, ``ads``,
  ``analytics``);
- ``identifiers.TYPE``: how many identifiers of the type the profile holds that resolution uses;
- ``profile.size``: how many records the profile holds;
- ``events(type: "page_view", within: "30d")``: how many events (of a type, in a window), and
  ``purchased(sku: "SKU-0100", within: "90d")``: whether the customer bought it (in the window);
- ``lookalike(segment: "buyers", size: 1000)``: whether the profile is among the ``size`` profiles the graph
  embeddings (``cdp embed``) find most like the segment's members (those members left out): a lookalike
  audience as a segment;
- text in double quotes, numbers, ``true``, ``false``, ``null``.

A window is a number and ``d`` (days), ``w`` (weeks) or ``h`` (hours), counted back from when the rule is
evaluated. A rule is parsed by Lark (an LALR grammar); an error names the line and column.

>>> rule = parse_rule('traits.frequency >= 3 and not attributes.city = "London"')
>>> rule.kind, [part.kind for part in rule.parts]
('and', ['compare', 'not'])
>>> parse_rule("traits.frequency >= ")
Traceback (most recent call last):
...
graph.errors.InvalidRequest: rule, line 1, column 20: expected a value (text in quotes, a number, true, false, null, a field or a function)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken, VisitError

from graph.errors import InvalidRequest

__all__ = ["FUNCTIONS", "NAMESPACES", "Node", "parse_rule", "window_hours"]

GRAMMAR = r"""
?start: or_expr
?or_expr: and_expr (_OR and_expr)*
?and_expr: not_expr (_AND not_expr)*
?not_expr: _NOT not_expr -> negate
         | condition
?condition: operand COMPARATOR operand -> compare
          | operand _IN list -> member
          | operand
          | "(" or_expr ")"
?operand: path | call | literal
path: NAME "." NAME
call: NAME "(" [argument ("," argument)*] ")"
argument: NAME ":" literal
list: "[" [literal ("," literal)*] "]"
?literal: STRING -> text
        | SIGNED_NUMBER -> number
        | _TRUE -> true
        | _FALSE -> false
        | _NULL -> null
COMPARATOR: "<=" | ">=" | "!=" | "=" | "<" | ">"
_OR: /\bor\b/i
_AND: /\band\b/i
_NOT: /\bnot\b/i
_IN: /\bin\b/i
_TRUE: /\btrue\b/i
_FALSE: /\bfalse\b/i
_NULL: /\bnull\b/i
NAME: /(?!(and|or|not|in|true|false|null)\b)[a-zA-Z_][a-zA-Z0-9_]*/i
STRING: /"([^"\\]|\\.)*"/
%import common.SIGNED_NUMBER
%import common.WS
%ignore WS
"""

#: value namespaces (``namespace.name``) and what their names may be (None: any name)
NAMESPACES: dict[str, frozenset[str] | None] = {
    "attributes": None,
    "traits": frozenset({"frequency", "monetary", "recency_days", "events", "top_category"}),
    "consent": frozenset({"email", "sms", "ads", "analytics"}),
    "identifiers": None,
    "profile": frozenset({"size"}),
}
#: functions and the arguments each takes (all optional)
FUNCTIONS: dict[str, frozenset[str]] = {
    "events": frozenset({"type", "within"}),
    "purchased": frozenset({"sku", "within"}),
    "lookalike": frozenset({"segment", "size"}),
}
#: arguments that take a whole number (the others take text)
_NUMBER_ARGUMENTS = frozenset({"size"})
_WINDOW = re.compile(r"^(\d+(?:\.\d+)?)\s*([hdw])$")
_HOURS = {"h": 1.0, "d": 24.0, "w": 24.0 * 7}


@dataclass(frozen=True)
class Node:
    """One node of a parsed rule. ``kind``: or, and, not, compare, member, path, call, literal."""

    kind: str
    parts: tuple[Node, ...] = ()
    op: str = ""  # a comparison's operator; a path's "namespace.name"; a call's function name
    value: Any = None  # a literal's value; a call's arguments (dict); a member's list
    column: int = 0  # where it starts in the rule text (1-based)

    def text(self) -> str:
        """The rule again, normalised (for display and as a segment's stored form)."""
        if self.kind in ("or", "and"):
            return f" {self.kind} ".join(f"({p.text()})" if p.kind in ("or", "and") else p.text() for p in self.parts)
        if self.kind == "not":
            inner = self.parts[0]
            return f"not ({inner.text()})" if inner.kind in ("or", "and") else f"not {inner.text()}"
        if self.kind == "compare":
            return f"{self.parts[0].text()} {self.op} {self.parts[1].text()}"
        if self.kind == "member":
            return f"{self.parts[0].text()} in [{', '.join(_literal_text(v) for v in self.value)}]"
        if self.kind == "path":
            return self.op
        if self.kind == "call":
            return f"{self.op}({', '.join(f'{k}: {_literal_text(v)}' for k, v in self.value.items())})"
        return _literal_text(self.value)


def _literal_text(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return repr(value) if isinstance(value, float) else str(value)


@v_args(meta=False)
class _Build(Transformer):  # type: ignore[type-arg]
    def or_expr(self, parts: list[Node]) -> Node:
        return Node("or", tuple(parts), column=parts[0].column)

    def and_expr(self, parts: list[Node]) -> Node:
        return Node("and", tuple(parts), column=parts[0].column)

    def negate(self, parts: list[Node]) -> Node:
        return Node("not", (parts[0],), column=max(parts[0].column - 4, 1))

    def compare(self, parts: list[Any]) -> Node:
        left, op, right = parts
        return Node("compare", (left, right), op=str(op), column=left.column)

    def member(self, parts: list[Any]) -> Node:
        left, values = parts
        return Node("member", (left,), value=tuple(values), column=left.column)

    def path(self, parts: list[Token]) -> Node:
        namespace, name = str(parts[0]).lower(), str(parts[1])
        allowed = NAMESPACES.get(namespace, frozenset())
        if namespace not in NAMESPACES:
            raise _RuleError(parts[0].column, f"unknown field '{namespace}.{name}': fields are "
                             + ", ".join(f"{n}.NAME" for n in NAMESPACES))  # fmt: skip
        if allowed is not None and name.lower() not in allowed:
            raise _RuleError(parts[1].column, f"unknown {namespace} '{name}': one of {', '.join(sorted(allowed))}")
        name = name.lower() if allowed is not None else name
        return Node("path", op=f"{namespace}.{name}", column=parts[0].column)

    def call(self, parts: list[Any]) -> Node:
        name, arguments = parts[0], [a for a in parts[1:] if a is not None]
        function = str(name).lower()
        if function not in FUNCTIONS:
            raise _RuleError(name.column, f"unknown function '{name}': one of {', '.join(sorted(FUNCTIONS))}")
        given: dict[str, Any] = {}
        for key, value, column in arguments:
            if key not in FUNCTIONS[function]:
                raise _RuleError(column, f"{function}() takes {', '.join(sorted(FUNCTIONS[function]))}, not '{key}'")
            if key in given:
                raise _RuleError(column, f"{function}() is given '{key}' twice")
            if key == "within":
                if not isinstance(value, str) or window_hours(value) is None:
                    raise _RuleError(column, f"within: {_literal_text(value)} is not a window such as \"90d\", "
                                     "\"12w\" or \"48h\"")  # fmt: skip
            elif key in _NUMBER_ARGUMENTS:
                if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                    raise _RuleError(column, f"{key}: give a whole number from 1, not {_literal_text(value)}")
            elif not isinstance(value, str):
                raise _RuleError(column, f"{key}: give text in double quotes, not {_literal_text(value)}")
            given[key] = value
        if function == "lookalike" and set(given) != FUNCTIONS["lookalike"]:
            raise _RuleError(name.column, 'lookalike() takes segment: "NAME" and size: N')
        return Node("call", op=function, value=given, column=name.column)

    def argument(self, parts: list[Any]) -> tuple[str, Any, int]:
        return str(parts[0]).lower(), parts[1].value, parts[0].column

    def list(self, parts: list[Any]) -> list[Any]:
        return [p.value for p in parts if p is not None]

    def text(self, parts: list[Token]) -> Node:
        raw = str(parts[0])[1:-1]
        return Node("literal", value=re.sub(r"\\(.)", r"\1", raw), column=parts[0].column)

    def number(self, parts: list[Token]) -> Node:
        raw = str(parts[0])
        value: float | int = float(raw) if any(c in raw for c in ".eE") else int(raw)
        return Node("literal", value=value, column=parts[0].column)

    def true(self, parts: list[Token]) -> Node:
        return Node("literal", value=True)

    def false(self, parts: list[Token]) -> Node:
        return Node("literal", value=False)

    def null(self, parts: list[Token]) -> Node:
        return Node("literal", value=None)


class _RuleError(Exception):
    def __init__(self, column: int, message: str) -> None:
        super().__init__(message)
        self.column, self.message = column, message


@lru_cache(maxsize=1)
def _parser() -> Lark:
    return Lark(GRAMMAR, parser="lalr", propagate_positions=False, maybe_placeholders=True)


_EXPECTED = {"STRING", "SIGNED_NUMBER", "_TRUE", "_FALSE", "_NULL", "NAME"}


def parse_rule(text: str, where: str = "rule") -> Node:
    """The rule ``text`` parsed and checked; :class:`InvalidRequest` naming ``where``, the line and the column
    of the first error."""
    if not text.strip():
        raise InvalidRequest(f"{where}: the rule is empty")
    try:
        tree = _parser().parse(text)
        return _Build().transform(tree)
    except VisitError as exc:
        if isinstance(exc.orig_exc, _RuleError):
            line, column = _line_column(text, exc.orig_exc.column)
            raise InvalidRequest(f"{where}, line {line}, column {column}: {exc.orig_exc.message}") from None
        raise
    except UnexpectedInput as exc:
        line, column = exc.line, exc.column
        if isinstance(exc, UnexpectedEOF) or (isinstance(exc, UnexpectedToken) and exc.token.type == "$END"):
            lines = text.rstrip().splitlines()  # at the end: just after the last character
            line, column = len(lines), len(lines[-1]) + 1
        raise InvalidRequest(f"{where}, line {line}, column {column}: {_explain(exc)}") from None


def _line_column(text: str, position: int) -> tuple[int, int]:
    """Line and column of a 1-based column counted over the whole text (a token's own column is per line)."""
    return 1, position


def _explain(exc: UnexpectedInput) -> str:
    if isinstance(exc, UnexpectedEOF) or (isinstance(exc, UnexpectedToken) and exc.token.type == "$END"):
        expected = set(getattr(exc, "expected", ()) or ())
        if expected & _EXPECTED:
            return "expected a value (text in quotes, a number, true, false, null, a field or a function)"
        return "the rule ends too early"
    if isinstance(exc, UnexpectedCharacters):
        return f"unexpected '{exc.char}'"
    if isinstance(exc, UnexpectedToken):
        expected = set(exc.expected)
        if expected & _EXPECTED and not expected - _EXPECTED - {"LPAR", "LSQB", "_NOT"}:
            return f"expected a value, found '{exc.token}'"
        return f"unexpected '{exc.token}'"
    return str(exc).splitlines()[0]


def window_hours(text: str) -> float | None:
    """Hours in a window such as ``"90d"``, ``"12w"`` or ``"48h"``; None when it is not one.

    >>> window_hours("90d"), window_hours("2w"), window_hours("36h"), window_hours("soon")
    (2160.0, 336.0, 36.0, None)
    """
    found = _WINDOW.match(text.strip().lower())
    return float(found[1]) * _HOURS[found[2]] if found else None
