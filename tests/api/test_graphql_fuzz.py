"""A GraphQL fuzz test over real HTTP, on each store: random queries built from the schema itself
(:func:`api.schema.build_schema`), valid and invalid, and malformed requests. Each must be answered (200 with
``data`` and/or ``errors``) or refused as the client's fault (400, 413 or 429 with a JSON body): never a 500,
and no error may be the masked ``Unexpected error.`` (a failure of the server) when the fault is the query's,
nor a store's failure (``graph query '...' failed``: the store is up, so the query's input made it fail), nor
an internal exception's text (a ``KeyError``'s key, a codec's complaint) instead of a message saying what is
wrong.

Every case is built by ``random.Random(seed)``; a failure names its seed and prints the query, its variables
and the answer (``generated(seed, schema, Pools.of(server))`` or ``mangled_case(...)`` builds it again; the
example data's profile ids are the same on every run). What varies:

* the operation: queries and mutations (mostly with arguments that name nothing, so the example data mostly
  stays), a subscription (the schema has none), several operations with a right, wrong or missing
  ``operationName``;
* the selection: random fields and sub-fields at random depth (past the depth limit at times), aliases (past
  the alias limit at times), inline and named fragments (unknown, unused, on the wrong type, spread in
  themselves), ``@include`` / ``@skip``, ``__typename`` and introspection, unknown fields, missing or needless
  sub-selections;
* the arguments: values from the example data and values of the right type that name nothing, values of the
  wrong type, arguments missing, unknown or repeated; as literals or as variables (declared with the right
  type, a wrong one or an unknown one; their values valid, of the wrong type, or missing); huge and negative
  integers and sizes, long strings, unicode, lone surrogates, null bytes, Cypher- and path-shaped strings,
  invalid cursors and dates, malformed number literals;
* the text: valid queries with random characters deleted, duplicated, inserted or swapped, or cut short;
* the request: bodies that are not JSON, not UTF-8, too big or too deeply nested, JSON fields of the wrong
  type, other content types and methods.

The last tests hold what the fuzzing found, each at its smallest.
"""

from __future__ import annotations

import base64
import json
import random
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from graphql import (
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    get_named_type,
    is_leaf_type,
)
from graphql.pyutils import Undefined

from api.schema import build_schema
from tests.api.conftest import Server

UNEXPECTED = "Unexpected error."
#: an error message that is the text of an internal exception, not a sentence for the caller: a KeyError's key,
#: an AttributeError, a TypeError, a traceback
PYTHON_ERROR = re.compile(
    r"^'[^']*'$|^\d+$|Traceback|has no attribute|NoneType|not subscriptable|unhashable type|positional argument|"
    r"object is not|not supported between instances|unsupported operand|codec can't"
)
#: a store's failure (graph.errors.StoreError): the store under test is up, so the query's input made it fail
STORE_FAILURE = re.compile(r"^graph query '[^']*' failed: ")
#: HTTP answers that say the request was the client's fault (each with a JSON body)
CLIENT_FAULTS = (400, 413, 429)
# requests per test (each test has a server and a key of its own): under a key's rate limit, 1,200 a minute
GENERATED_CASES = 500
MANGLED_CASES = 300
RANDOM_BODIES = 40


class Raw(str):
    """Text written into a query as it is: a malformed or out-of-range literal (never sent as a variable)."""


STRINGS: list[str] = [
    "", " ", "x", "0", "-1", "null", "true", "{}", "[]", "1e309", "NaN",
    "\x00", "ann\x00@mailbox.co.uk", "\n\t\r", "\u202e\u200b", "é", "日本語", "😀", "\ud800", "a\udfffb",
    "x" * 10_000, "ü" * 3_000,
    "' OR 1=1 --", '"}) MATCH (n) DETACH DELETE n //', "`; DROP DATABASE neo4j", "$id", "{{id}}", "%s%n%x",
    "../../../etc/passwd", "crm:", ":", "::", "crm:C1:extra", ":C1", "crm:\x00", "\\", '"', "'",
    "<script>alert(1)</script>", "=cmd|' /C calc'!A0",
]  # fmt: skip
INTS: list[Any] = [0, 1, 2, 5, 10, 20, 100, 499, 500, 501, 9_999, 10_000, 10_001, -1, -2, -(2**31), 2**31 - 1]
WRONG_INTS: list[Any] = [
    2**31, -(2**31) - 1, 2**53 + 1, 2**63, -(2**64), 10**30, 1.5, -0.5, 1e300, "10", "ten", True, [1], {"n": 1},
]  # fmt: skip
RAW_NUMBERS: list[Raw] = [
    Raw("1" + "0" * 5_000), Raw("-" + "9" * 5_000), Raw("1e400"), Raw("-1e-400"), Raw("01"), Raw("1."), Raw(".5"),
    Raw("1e"), Raw("0x10"), Raw("NaN"), Raw("Infinity"), Raw("-0"), Raw("1_000"), Raw("$undeclared"),
    Raw("SOME_ENUM"), Raw('"""block\nstring"""'), Raw('"unterminated'), Raw("[1, [2, [3]]]"), Raw("{a: {b: 1}}"),
]  # fmt: skip
SINCE: list[str] = [
    "2020-01-01", "2025-01-01T00:00:00Z", "2025-01-01T00:00:00+05:30", "1970-01-01", "0001-01-01",
    "9999-12-31T23:59:59Z", "2025-13-45", "2025-02-30", "2025-01-01T25:61:00", "yesterday", "-5", "1e10",
    "99999-01-01", "2025-01-01T00:00:00.123456789Z",
]  # fmt: skip
# values for arguments and input fields by name: the example data (tests.api.conftest), then near misses
BY_NAME: dict[str, list[str]] = {
    "type": ["email", "phone", "crm_id", "loyalty_id", "loyalty_card", "EMAIL", "Phone", "fax", "email "],
    "value": ["ann@mailbox.co.uk", "ANN@Mailbox.co.uk", "07911 123456", "+447911123456", "family@mailbox.co.uk",
              "C1", "L1", "L2", "nobody@nowhere", "not a phone", "+4479111234561234567890"],
    "source": ["crm", "pos", "CRM", "web", "crm "],
    "recordId": ["C1", "C2", "C3", "C4", "C5", "C6", "T1", "T2", "T3", "C9", "c1"],
    "a": ["crm:C1", "crm:C2", "crm:C3", "crm:C4", "crm:C5", "crm:C6", "pos:T1", "pos:T3", "crm:C9", "web:C1"],
    "records": ["crm:C1", "crm:C2", "pos:T1", "pos:T3", "crm:C9", "C1"],
    "since": SINCE,
    "purpose": ["email", "sms", "ads", "analytics", "EMAIL", "marketing"],
    "reason": ["fuzz", "a reason", "x" * 2_000],
}  # fmt: skip
BY_NAME["b"] = BY_NAME["a"]
ID_ARGUMENTS = ("id", "ids", "profileId", "profileIds")
MISSING_IDS = ["p-missing", "0", "-1", "00000000-0000-0000-0000-000000000000"]
MUTATIONS_NAMING_REAL_DATA = 0.4  # the share of mutations whose arguments name real profiles and records
ERASES_NAMING_REAL_DATA = 0.15  # of those, the share of erases by profile id that do (the data would run out)


@dataclass
class Pools:
    """What the example data holds, for arguments that name it."""

    profile_ids: list[str]
    cursors: list[str]

    @classmethod
    def of(cls, server: Server) -> Pools:
        edges = server.query("{ profiles(first: 100) { edges { cursor node { id } } } }")["data"]["profiles"]["edges"]
        return cls([e["node"]["id"] for e in edges], [e["cursor"] for e in edges])

    def bad_cursors(self) -> list[str]:
        wrong = [b"\xff\xfe\xfd", b"\x00", b"p-missing", b"", "😀".encode()]
        return ["!!!", "====", "a", "YQ", "%%%", *(base64.urlsafe_b64encode(w).decode() for w in wrong)]


@dataclass
class Case:
    """One request: a query, its variables and operation name; the seed it was built from."""

    query: str
    variables: dict[str, Any] | None = None
    operation_name: str | None = None
    seed: int | None = None

    def payload(self) -> dict[str, Any]:
        body: dict[str, Any] = {"query": self.query}
        if self.variables is not None:
            body["variables"] = self.variables
        if self.operation_name is not None:
            body["operationName"] = self.operation_name
        return body

    def describe(self) -> str:
        return (
            f"seed {self.seed}\n  query: {_short(self.query)}\n  variables: {_short(json.dumps(self.variables))}"
            f"\n  operationName: {self.operation_name!r}"
        ).removeprefix("seed None\n")


def _short(text: str, limit: int = 3_000) -> str:
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text):,} characters)"


def _literal(value: Any, ascii_only: bool = True) -> str:
    """``value`` as a GraphQL literal."""
    if isinstance(value, Raw):
        return str(value)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=ascii_only)
    if isinstance(value, list):
        return "[" + ", ".join(_literal(v, ascii_only) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_literal(v, ascii_only)}" for k, v in value.items()) + "}"
    raise TypeError(value)


def _no_raw(value: Any) -> Any:
    """``value`` fit for a JSON variable: a raw literal becomes its text."""
    if isinstance(value, Raw):
        return str(value)
    if isinstance(value, list):
        return [_no_raw(v) for v in value]
    if isinstance(value, dict):
        return {k: _no_raw(v) for k, v in value.items()}
    return value


@dataclass
class QueryFuzzer:
    """Builds one random operation over ``schema``; ``invalid`` is the chance of a fault at each step."""

    schema: GraphQLSchema
    pools: Pools
    rng: random.Random
    invalid: float
    mutation: bool = False
    real: bool = True  # arguments name real profiles and records (a mutation's mostly do not)
    max_depth: int = 4
    declarations: list[str] = field(default_factory=list)
    variables: dict[str, Any] = field(default_factory=dict)
    fragments: list[str] = field(default_factory=list)
    names: int = 0

    def fault(self, weight: float = 1.0) -> bool:
        return self.rng.random() < self.invalid * weight

    def name(self, prefix: str) -> str:
        self.names += 1
        return f"{prefix}{self.names}"

    # -- operations

    def case(self, seed: int) -> Case:
        rng = self.rng
        self.max_depth = rng.choice([1, 2, 3, 3, 4, 4, 5, 6, 8] + ([13, 16] if self.invalid else []))
        if self.fault(0.3):  # several operations: operationName picks one, or is missing or wrong
            first, second = self.operation("A"), self.operation("B")
            name = rng.choice(["A", "B", "C", None, ""])
            return Case(f"{first}\n{second}{self.fragment_text()}", self.variables or None, name, seed)
        name = rng.choice([None, None, "Fuzz", "fuzz_1"])
        text = self.operation(name)
        if rng.random() < 0.05:  # introspection instead
            text, name, self.fragments, self.variables = self.introspection(), None, [], {}
        variables = self.variables
        if self.fault(0.1):  # extra variables, or none of them
            variables = {**variables, "extra": rng.choice(STRINGS)} if rng.random() < 0.5 else {}
        chosen = name if rng.random() < 0.5 else None
        if self.fault(0.05):
            chosen = rng.choice(["Other", "", "fuzz_1 "])
        return Case(text + self.fragment_text(), variables or None, chosen, seed)

    def operation(self, name: str | None) -> str:
        rng = self.rng
        self.mutation = self.schema.mutation_type is not None and rng.random() < 0.2
        self.real = not self.mutation or rng.random() < MUTATIONS_NAMING_REAL_DATA
        kind = "mutation" if self.mutation else "query"
        if self.fault(0.1):
            kind = rng.choice(["subscription", "mutation", "query"])
        root = self.schema.mutation_type if kind == "mutation" and self.schema.mutation_type else self.schema.query_type
        assert root is not None
        start = len(self.declarations)
        body = self.selection(root, 1, fields=1 if self.mutation and rng.random() < 0.8 else rng.randint(1, 3))
        declared = self.declarations[start:]
        if self.fault(0.1):
            declared.append(rng.choice(["$unused: Int", "$unknownType: Foo", "$x: String!, $x: Int", "$bad: [[ID!]"]))
        header = kind if name is None else f"{kind} {name}"
        if declared:
            header += "(" + ", ".join(declared) + ")"
        elif name is None and not self.fault(0.2):
            header = "" if kind == "query" else kind  # the query shorthand
        return f"{header} {body}".strip()

    def introspection(self) -> str:
        type_name = self.rng.choice(["Profile", "Query", "Mutation", "IdentifierInput", "Nope", "", "\u0000"])
        return self.rng.choice([
            "{ __schema { queryType { name } mutationType { name } types { name kind fields { name args { name "
            "type { name kind ofType { name kind ofType { name } } } } } } } }",
            f"{{ __type(name: {json.dumps(type_name)}) {{ name kind fields {{ name type {{ name }} }} }} }}",
            "{ __typename }",
            "{ __schema { directives { name locations args { name } } } }",
        ])  # fmt: skip

    def fragment_text(self) -> str:
        return "".join(f"\n{f}" for f in self.fragments)

    # -- selections

    def selection(self, parent: GraphQLObjectType, depth: int, fields: int | None = None) -> str:
        rng = self.rng
        choices = list(parent.fields.items())
        if depth >= self.max_depth:  # leaves only, where there are any
            choices = [(n, f) for n, f in choices if is_leaf_type(get_named_type(f.type))] or choices[:0]
        if not choices:
            return "{ __typename }"
        count = fields or rng.randint(1, min(4, len(choices)))
        chosen = rng.sample(choices, min(count, len(choices)))
        nesting = [(n, f) for n, f in choices if get_named_type(f.type) is parent]  # Profile.household
        if self.max_depth > 12 and nesting and not any(pair in chosen for pair in nesting):
            chosen.append(rng.choice(nesting))  # on its way past the depth limit
        parts = [self.field(n, f, depth) for n, f in chosen]
        if rng.random() < 0.1:
            parts.append(rng.choice(["__typename", "kind: __typename"]))
        if self.fault(0.15):  # an unknown field, a known one misspelt, or a field of another type
            known = rng.choice(choices)[0]
            parts.append(rng.choice(["nope", known[:-1] or "x", known.upper(), "edges", "id", "node { id }"]))
        if self.fault(0.05):  # too many aliases
            name, found = rng.choice(choices)
            parts.extend(f"{self.name('al')}: {self.field(name, found, depth, alias=False)}" for _ in range(22))
        if depth < self.max_depth and rng.random() < 0.1:
            on = parent.name if not self.fault(0.3) else rng.choice(["Profile", "Traits", "Nope", "String"])
            inner = self.selection(parent, depth)
            parts.append(f"... on {on} {inner}" if rng.random() < 0.5 else self.named_fragment(on, inner))
        if self.fault(0.05):  # a fragment spread in itself
            name = self.name("Loop")
            self.fragments.append(f"fragment {name} on {parent.name} {{ __typename ...{name} }}")
            parts.append(f"...{name}")
        if self.fault(0.05):
            parts.append(rng.choice(["...Undefined", "... on Profile", "...", "@include(if: true)"]))
        if self.fault(0.05):  # an unused fragment
            self.named_fragment(parent.name, "{ __typename }")
        rng.shuffle(parts)
        return "{ " + " ".join(parts) + " }"

    def named_fragment(self, on: str, selection: str) -> str:
        name = self.name("F")
        self.fragments.append(f"fragment {name} on {on} {selection}")
        return f"...{name}"

    def field(self, name: str, found: GraphQLField, depth: int, alias: bool = True) -> str:
        rng = self.rng
        text = f"{self.name('a')}: {name}" if alias and rng.random() < 0.15 else name
        arguments = self.arguments(found)
        if arguments:
            text += f"({arguments})"
        if rng.random() < 0.08:
            text += " " + self.directive()
        named = get_named_type(found.type)
        if isinstance(named, GraphQLObjectType):
            if not self.fault(0.1):
                text += " " + self.selection(named, depth + 1)
        elif self.fault(0.1):
            text += " { id }"
        return text

    def directive(self) -> str:
        rng = self.rng
        if self.fault(0.3):
            return rng.choice(["@nope", "@include", "@skip(if: 1)", "@include(if: $undeclared)", "@deprecated"])
        condition = rng.choice(["true", "false"])
        if rng.random() < 0.5:
            condition = self.variable("Boolean!", rng.random() < 0.5)
        return f"@{rng.choice(['include', 'skip'])}(if: {condition})"

    # -- arguments and values

    def arguments(self, found: GraphQLField) -> str:
        rng = self.rng
        parts = []
        for name, argument in found.args.items():
            required = isinstance(argument.type, GraphQLNonNull) and argument.default_value is Undefined
            if not required and rng.random() < 0.5:
                continue
            if required and self.fault(0.15):
                continue  # a required argument left out
            parts.append(f"{name}: {self.argument(name, argument.type)}")
            if self.fault(0.05):
                parts.append(parts[-1])  # repeated
        if self.fault(0.1):
            parts.append(f"{rng.choice(['nope', 'first', 'id', 'limit'])}: {_literal(rng.choice(INTS))}")
        return ", ".join(parts)

    def argument(self, name: str, kind: GraphQLInputType) -> str:
        """An argument's value: a literal, or a variable declared and given a value."""
        rng = self.rng
        if rng.random() < 0.35:
            declared = str(kind)
            if self.fault(0.2):
                declared = rng.choice(["Int", "String!", "ID", "[String!]!", "Boolean", "Foo", "IdentifierInput"])
            value = _no_raw(self.value(kind, name))
            if self.fault(0.2):
                value = rng.choice([None, *WRONG_INTS, rng.choice(STRINGS), [[["deep"]]], {"type": 1}])
            return self.variable(declared, value, given=not self.fault(0.1))
        if self.fault(0.15):
            return _literal(rng.choice([*WRONG_INTS, *RAW_NUMBERS, *STRINGS[:12], None, [], {}]))
        return _literal(self.value(kind, name), ascii_only=rng.random() < 0.5)

    def variable(self, declared: str, value: Any, given: bool = True) -> str:
        name = self.name("v")
        default = ""
        if self.rng.random() < 0.05:
            default = f" = {_literal(self.rng.choice([None, 1, 'x', True]))}"
        self.declarations.append(f"${name}: {declared}{default}")
        if given:
            self.variables[name] = value
        return f"${name}"

    def value(self, kind: GraphQLInputType, name: str, nullable: bool = True) -> Any:
        """A value of type ``kind`` for the argument or input field ``name`` (of another type at times)."""
        rng = self.rng
        if isinstance(kind, GraphQLNonNull):
            return None if self.fault(0.1) else self.value(kind.of_type, name, nullable=False)
        if nullable and rng.random() < 0.1:
            return None
        if isinstance(kind, GraphQLList):
            if name == "ids" and self.real and len(self.pools.profile_ids) > 1 and rng.random() < 0.8:
                return rng.sample(self.pools.profile_ids, 2)  # a merge that can succeed
            if self.fault(0.1):
                return self.value(kind.of_type, name)  # a single item where a list goes (coerced to one)
            return [self.value(kind.of_type, name) for _ in range(rng.choice([0, 1, 1, 2, 3]))]
        if isinstance(kind, GraphQLInputObjectType):
            found = {n: self.value(f.type, n) for n, f in kind.fields.items() if not self.fault(0.2)}
            if self.fault(0.1):
                found["nope"] = "x"
            return found
        return self.scalar(getattr(kind, "name", ""), name)

    def scalar(self, type_name: str, name: str) -> Any:
        rng = self.rng
        if self.fault(0.15):
            return rng.choice([*WRONG_INTS, rng.choice(STRINGS), True, 1.25, [], {"a": 1}])
        if type_name == "Int":
            return rng.choice(INTS)
        if type_name == "Float":
            return rng.choice([0.0, 1.5, -1e300, 1e-300, 3])
        if type_name == "Boolean":
            return rng.random() < 0.5
        if rng.random() < 0.2:
            return rng.choice(STRINGS)
        if name in ID_ARGUMENTS:
            real = self.real and (name != "profileId" or rng.random() < ERASES_NAMING_REAL_DATA)
            return rng.choice(self.pools.profile_ids if real and self.pools.profile_ids else MISSING_IDS)
        if name == "after":
            return rng.choice(self.pools.cursors + self.pools.bad_cursors())
        if name in ("a", "b") and rng.random() < 0.3:
            return rng.choice(self.pools.profile_ids or MISSING_IDS)
        if not self.real and name in ("records", "value"):
            return rng.choice(["crm:C9", "nobody@nowhere", "pos:T9"])
        return rng.choice(BY_NAME.get(name) or STRINGS)


def mangled(text: str, rng: random.Random) -> str:
    """``text`` with a few random characters deleted, duplicated, inserted or swapped, or cut short."""
    chars = list(text)
    for _ in range(rng.randint(1, 3)):
        if not chars:
            break
        at = rng.randrange(len(chars))
        how = rng.choice(["delete", "duplicate", "insert", "swap", "cut"])
        if how == "delete":
            del chars[at]
        elif how == "duplicate":
            chars.insert(at, chars[at])
        elif how == "insert":
            chars.insert(at, rng.choice('{}()[]:$@!.,="#\\\x00\u00a0\ufeff😀\ud800\n...'))
        elif how == "swap" and at + 1 < len(chars):
            chars[at], chars[at + 1] = chars[at + 1], chars[at]
        elif how == "cut":
            del chars[at:]
    return "".join(chars)


# -- sending and judging


@contextmanager
def client(server: Server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, headers=server.headers, timeout=60) as session:
        yield session


def post(
    session: httpx.Client,
    body: bytes,
    content_type: str | None = "application/json",
    method: str = "POST",
    path: str = "/graphql",
) -> httpx.Response | str:
    """The answer to ``body``, or why there was none. A connection the server closed (after a 500, or while
    the body was still being sent) is tried once more on a new one."""
    headers = {"Content-Type": content_type} if content_type else {}
    for attempt in (1, 2):
        try:
            return session.request(method, path, content=body, headers=headers)
        except httpx.TransportError as exc:
            if attempt == 2:
                return f"no answer: {exc!r}"
    raise AssertionError("unreachable")


def send(session: httpx.Client, case: Case) -> httpx.Response | str:
    """``case`` as a JSON body (lone surrogates escaped, as JSON allows)."""
    return post(session, json.dumps(case.payload()).encode())


def problem(answer: httpx.Response | str, allowed: tuple[int, ...] = CLIENT_FAULTS) -> tuple[str, str] | None:
    """What is wrong with the answer to a request that may be at fault itself, as (kind, detail); None when
    nothing is."""
    if isinstance(answer, str):
        return "no answer", answer
    status, text = answer.status_code, _short(answer.text, 1_000)
    if status != 200 and status not in allowed:
        return f"HTTP {status}", text
    try:
        body = answer.json()
    except ValueError:
        return f"HTTP {status} without a JSON body", f"{answer.headers.get('content-type')}: {text}"
    if status != 200:
        return None
    if not isinstance(body, dict) or not body.keys() & {"data", "errors"}:
        return "HTTP 200 without data or errors", text
    errors = body.get("errors") or []
    if body.get("data") is None and not errors:
        return "HTTP 200 with neither data nor an error", text
    for error in errors:
        message = error.get("message") if isinstance(error, dict) else None
        if not isinstance(message, str) or not message.strip():
            return "an error without a message", text
        if message == UNEXPECTED:
            return UNEXPECTED, text
        if STORE_FAILURE.search(message):
            return "a store failure for the query's own input", text
        if PYTHON_ERROR.search(message):
            return "a Python exception's text as the message", text
    return None


@dataclass
class Tally:
    """The failures met, by kind, and how the answers went (to show the cases reach the resolvers)."""

    failures: dict[str, list[str]] = field(default_factory=dict)
    answered: int = 0  # 200 with some data

    def judge(self, what: str, answer: httpx.Response | str, allowed: tuple[int, ...] = CLIENT_FAULTS) -> None:
        found = problem(answer, allowed)
        if found is not None:
            kind, detail = found
            self.failures.setdefault(kind, []).append(f"{what}\n  -> {detail}")
        elif isinstance(answer, httpx.Response) and answer.status_code == 200 and answer.json().get("data"):
            self.answered += 1

    def report(self, shown: int = 3) -> str:
        """Each kind of failure with its count and its ``shown`` shortest cases."""
        parts = []
        for kind, cases in self.failures.items():
            examples = "\n\n".join(sorted(cases, key=len)[:shown])
            parts.append(f"=== {kind}: {len(cases)} case(s); the shortest:\n\n{examples}")
        return "\n\n".join(parts)


def generated(seed: int, schema: GraphQLSchema, pools: Pools) -> Case:
    """The case of ``seed``: every other one is built without intended faults."""
    rng = random.Random(seed)
    invalid = 0.0 if seed % 2 == 0 else rng.choice([0.03, 0.08, 0.2])
    return QueryFuzzer(schema, pools, rng, invalid).case(seed)


def mangled_case(seed: int, schema: GraphQLSchema, pools: Pools) -> Case:
    """The case of ``seed``, a query built without intended faults, with its text then :func:`mangled`."""
    rng = random.Random(seed)
    case = QueryFuzzer(schema, pools, rng, invalid=0.0).case(seed)
    case.query = mangled(case.query, rng)
    return case


@pytest.fixture(scope="module")
def schema() -> GraphQLSchema:
    return build_schema()._schema


# -- the tests


def test_random_queries_are_answered_or_refused_never_failing(server: Server, schema: GraphQLSchema) -> None:
    pools = Pools.of(server)
    tally = Tally()
    with client(server) as session:
        for seed in range(GENERATED_CASES):
            case = generated(seed, schema, pools)
            tally.judge(case.describe(), send(session, case))
    if tally.failures:
        pytest.fail(tally.report(), pytrace=False)
    assert tally.answered >= GENERATED_CASES // 5, f"only {tally.answered} cases got data: the fuzzer misses"


def test_mangled_query_text_is_refused_never_failing(server: Server, schema: GraphQLSchema) -> None:
    pools = Pools.of(server)
    tally = Tally()
    with client(server) as session:
        for seed in range(10_000, 10_000 + MANGLED_CASES):
            case = mangled_case(seed, schema, pools)
            tally.judge(case.describe(), send(session, case))
    if tally.failures:
        pytest.fail(tally.report(), pytrace=False)


def _nested(depth: int) -> Any:
    value: Any = "x"
    for _ in range(depth):
        value = {"a": value}
    return value


QUERY = "query($n: Int!) { profiles(first: $n) { edges { cursor } } }"


def _with_n(raw: str) -> bytes:
    """A body asking :data:`QUERY` with ``raw`` as the JSON text of its variable."""
    return b'{"query": ' + json.dumps(QUERY).encode() + b', "variables": {"n": ' + raw.encode() + b"}}"


#: request bodies, each sent as application/json
BODIES: list[bytes] = [
    b"", b"{", b"not json", b"\xff\xfe\x00", b'{"query": "{ __typename \xff }"}', b"\xef\xbb\xbf{\"query\": \"{ __typename }\"}",
    "{ __typename }".encode("utf-16"), b"null", b"42", b'"{ __typename }"', b"[]", b'[{"query": "{ __typename }"}]',
    b"{}", b'{"query": null}', b'{"query": 42}', b'{"query": ["{ __typename }"]}', b'{"query": {"a": 1}}',
    b'{"query": true}', b'{"query": ""}', b'{"query": "   "}', b'{"variables": {"n": 1}}',
    b'{"query": "{ __typename }", "variables": "x"}', b'{"query": "{ __typename }", "variables": []}',
    b'{"query": "{ __typename }", "variables": 42}', b'{"query": "{ __typename }", "operationName": 42}',
    b'{"query": "{ __typename }", "operationName": {}}', b'{"query": "{ __typename }", "extensions": "x"}',
    b'{"query": "{ __typename }", "extensions": {"persistedQuery": {"version": 1, "sha256Hash": "abc"}}}',
    b'{"query": "{ __typename }", "query": "{ nope }"}',
    _with_n("1" + "0" * 5_000), _with_n("NaN"), _with_n("Infinity"), _with_n("-Infinity"), _with_n("1e400"),
    _with_n("2.0"), _with_n('"\\ud800"'),
    json.dumps({"query": QUERY, "variables": {"n": _nested(31)}}).encode(),
    json.dumps({"query": QUERY, "variables": {"n": _nested(40)}}).encode(),
    b'{"query": "{ __typename }", "variables": {"n": ' + b"[" * 100_000 + b"]" * 100_000 + b"}}",
    json.dumps({"query": "{ __typename }" + " " * 1_100_000}).encode(),
    json.dumps({"query": "{ " + "__typename " * 1_000 + "}"}).encode(),
    json.dumps({"query": "{ " + "p: profile(id: \"x\") { id } " * 20 + "}"}).encode(),
    json.dumps({"query": "{" * 50_000 + "}" * 50_000}).encode(),
    json.dumps({"query": "{ profiles(after: " + "[" * 50_000 + "]" * 50_000 + ") { edges { cursor } } }"}).encode(),
    json.dumps({"query": "query(" + ", ".join(f"$v{n}: Int" for n in range(5_000)) + ") { __typename }"}).encode(),
    json.dumps({"query": "{ __typename }", "variables": {f"v{n}": n for n in range(50_000)}}).encode(),
    json.dumps({"query": "#" * 500_000}).encode(),
    json.dumps({"query": '"' * 10_000}).encode(),
]  # fmt: skip
#: (method, content type, body) sent otherwise than as a JSON POST
OTHER_REQUESTS: list[tuple[str, str | None, bytes]] = [
    ("POST", None, b'{"query": "{ __typename }"}'),
    ("POST", "text/plain", b'{"query": "{ __typename }"}'),
    ("POST", "text/plain", b"\xff\xfe"),
    ("POST", "application/graphql", b"{ __typename }"),
    ("POST", "application/x-www-form-urlencoded", b"query=%7B+__typename+%7D"),
    ("POST", "multipart/form-data; boundary=x", b"--x\r\nContent-Disposition: form-data; name=\"operations\"\r\n\r\n{}\r\n--x--\r\n"),
    ("POST", "multipart/form-data", b"garbage"),
    ("POST", "application/json; charset=latin-1", '{"query": "{ __typename }", "x": "é"}'.encode("latin-1")),
    ("POST", "APPLICATION/JSON", b'{"query": "{ __typename }"}'),
    ("POST", "application/graphql-response+json", b"\xff"),
    ("GET", None, b""),
    ("PUT", "application/json", b'{"query": "{ __typename }"}'),
    ("PATCH", "application/json", b"\xff"),
    ("DELETE", None, b""),
]  # fmt: skip
#: statuses that say a request of the wrong method or content type is the client's fault
WRONG_KIND = (*CLIENT_FAULTS, 405, 415, 422)


def test_malformed_requests_are_client_errors_never_failing(server: Server) -> None:
    tally = Tally()
    with client(server) as session:
        for n, body in enumerate(BODIES):
            tally.judge(f"body {n}: {_short(repr(body), 300)}", post(session, body))
        for method, content_type, body in OTHER_REQUESTS:
            answer = post(session, body, content_type, method, "/graphql?query=%7B__typename%7D")
            tally.judge(f"{method} {content_type}: {_short(repr(body), 300)}", answer, WRONG_KIND)
        for seed in range(RANDOM_BODIES):  # random bytes, and valid bodies cut short
            rng = random.Random(20_000 + seed)
            body = bytes(rng.randrange(256) for _ in range(rng.randint(1, 200)))
            if seed % 2:
                whole = json.dumps({"query": QUERY, "variables": {"n": 3}}).encode()
                body = whole[: rng.randrange(len(whole))]
            tally.judge(f"seed {20_000 + seed}: {body!r}", post(session, body))
    if tally.failures:
        pytest.fail(tally.report(), pytrace=False)


# -- what the fuzzing found, each at its smallest (one server per test: a server starts in about a second)


def test_a_json_body_that_is_no_object_is_a_client_error(server: Server) -> None:
    tally = Tally()
    with client(server) as session:
        for body in (b"null", b"42", b'"{ __typename }"', b"true"):
            tally.judge(repr(body), post(session, body))
    if tally.failures:
        pytest.fail(tally.report(shown=4), pytrace=False)


def test_an_unknown_fragment_is_refused_by_name(server: Server) -> None:
    with client(server) as session:
        answer = send(session, Case("{ __typename ...Undefined }"))
    assert problem(answer) is None, problem(answer)
    [error] = answer.json()["errors"]  # type: ignore[union-attr]
    assert "fragment" in error["message"].lower() and "Undefined" in error["message"], error


def test_a_lone_surrogate_in_a_variable_is_a_client_error(server: Server) -> None:
    tally = Tally()
    with client(server) as session:
        for case in (
            Case("query($c: String) { profiles(after: $c) { edges { cursor } } }", {"c": "\udfff"}),
            Case('query($a: String!) { explain(a: $a, b: "crm:C1") { summary } }', {"a": "crm:\ud800"}),
            Case("query($id: ID!) { profile(id: $id) { id } }", {"id": "\ud800"}),
        ):
            tally.judge(case.describe(), send(session, case))
    if tally.failures:
        pytest.fail(tally.report(shown=3), pytrace=False)


def test_a_request_strawberry_refuses_is_answered_in_json(server: Server) -> None:
    tally = Tally()
    with client(server) as session:
        for method, content_type, body in [
            ("POST", "application/json", b"{}"),
            ("POST", "application/json", b'{"query": "{ __typename }", "operationName": "Other"}'),
            ("POST", "application/json", b'{"query": 42}'),
            ("POST", "application/json", b'{"query": "{ __typename }", "variables": "x"}'),
            ("POST", "application/json", b'[{"query": "{ __typename }"}]'),
            ("POST", "text/plain", b'{"query": "{ __typename }"}'),
            ("GET", None, b""),
        ]:
            answer = post(session, body, content_type, method, "/graphql?query=%7B__typename%7D")
            tally.judge(f"{method} {content_type}: {body!r}", answer, WRONG_KIND)
    if tally.failures:
        pytest.fail(tally.report(shown=7), pytrace=False)
