"""PII masking over real HTTP, on each store: a key without ``read:pii`` sees no email, phone, name, birth date,
street or national id anywhere, proved by walking the whole schema (every root field, every field under it),
and a key with it sees them whole. A field added later is walked too; one whose required argument the walk
cannot fill fails here until it is given a value."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from graphql import GraphQLList, GraphQLNonNull, GraphQLObjectType, Undefined, get_named_type

from analytics.embeddings import EmbeddingSettings, embed_store
from api.keys import create_key
from api.pii import PiiMask, pii_kind
from api.schema import build_schema
from tests.api.conftest import Server

#: every personal value of the example data (tests/api/conftest.py), as stored and as written in the files
PII = ["ann@mailbox.co.uk", "ann.smith@work.co.uk", "bob@mailbox.co.uk", "family@mailbox.co.uk", "+447911123456",
       "+447812345678", "07911", "07812", '"Smith"', '"Jones"', '"Anne"', '"Ann"', '"Bob"', '"Cat"', '"Dan"']  # fmt: skip


#: root fields only an admin key may read (walked by the admin test of the audit log, tests/api/test_audit.py)
ADMIN_ONLY = ("query($since: String!) { auditLog",)


def _arguments(server: Server, profile_id: str) -> dict[str, Any]:
    """A value for each required argument the walk meets, by name."""
    return {"id": profile_id, "type": "email", "value": "ann@mailbox.co.uk", "source": "crm", "recordId": "C1",
            "a": "crm:C1", "b": "crm:C4", "size": 5, "profileIds": [profile_id], "since": "2000-01-01",
            "name": "Ann Smith", "rule": "profile.size >= 1"}  # fmt: skip


def _required(argument: Any) -> bool:
    return isinstance(argument.type, GraphQLNonNull) and argument.default_value is Undefined


def _selection(kind: Any, seen: frozenset[str], depth: int) -> str:
    """Every field of ``kind``, recursively; an object type is expanded once per path (household -> household...)."""
    named = get_named_type(kind)
    if not isinstance(named, GraphQLObjectType):
        return ""
    parts = []
    for name, field in named.fields.items():
        required = [a for a, arg in field.args.items() if _required(arg)]
        assert not required, f"{named.name}.{name} takes required arguments {required}: give the walk values"
        inner = get_named_type(field.type)
        if isinstance(inner, GraphQLObjectType):
            if inner.name in seen or depth > 6:
                continue
            parts.append(f"{name} {{ {_selection(inner, seen | {inner.name}, depth + 1)} }}")
        else:
            parts.append(name)
    return " ".join(parts)


def _walk_queries(values: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    schema = build_schema()._schema
    queries = []
    for name, field in schema.query_type.fields.items():
        args = {a: values[a] for a in field.args if a in values}
        missing = [a for a, arg in field.args.items() if _required(arg) and a not in values]
        assert not missing, f"Query.{name} takes {missing}: add a value to _arguments"
        declared = ", ".join(f"${a}: {_type(field.args[a].type)}" for a in args)
        passed = ", ".join(f"{a}: ${a}" for a in args)
        body = _selection(field.type, frozenset({get_named_type(field.type).name}), 0)
        text = f"query{f'({declared})' if declared else ''} {{ {name}{f'({passed})' if passed else ''}"
        queries.append((text + (f" {{ {body} }}" if body else "") + " }", args))
    return queries


def _type(kind: Any) -> str:
    if isinstance(kind, GraphQLNonNull):
        return f"{_type(kind.of_type)}!"
    if isinstance(kind, GraphQLList):
        return f"[{_type(kind.of_type)}]"
    return kind.name


def _answers(server: Server, key: str, queries: list[tuple[str, dict[str, Any]]]) -> str:
    texts = []
    for query, variables in queries:
        response = httpx.post(f"{server.url}/graphql", json={"query": query, "variables": variables},
                              headers={"Authorization": f"Bearer {key}"}, timeout=60)  # fmt: skip
        assert response.status_code == 200, response.text
        body = response.json()
        failed = [e["message"] for e in body.get("errors", [])]
        if query.startswith(ADMIN_ONLY):  # the audit log holds no personal value, and only admin reads it
            assert len(failed) == 1 and failed[0].endswith("lacks the scope 'admin'"), failed
            continue
        assert body.get("data") is not None, (query, body)
        assert not failed, (query, failed)  # every field answered: a null hides nothing
        texts.append(json.dumps(body))
    return "\n".join(texts)


@pytest.fixture
def walked(server: Server) -> tuple[Server, list[tuple[str, dict[str, Any]]]]:
    embed_store(server.store, EmbeddingSettings(workers=1, walks_per_node=5, dimensions=8))
    pid = server.query('{ profileByRecord(source: "crm", recordId: "C1") { id } }')["data"]["profileByRecord"]["id"]
    queries = _walk_queries(_arguments(server, pid))
    explain = next(q for q, _ in queries if "explain(" in q)
    return server, [*queries, (explain, {"a": "crm:C1", "b": "crm:C3"})]  # same profile: a chain of identifiers


def test_without_read_pii_no_personal_value_leaves_the_api(walked: tuple[Server, list]) -> None:
    server, queries = walked
    reader = create_key(server.store, "reader", "read:profiles,export")
    answers = _answers(server, reader, queries)
    assert [value for value in PII if value in answers] == []
    assert "a***@mailbox.co.uk" in answers and "+44*******456" in answers and '"S***"' in answers


def test_with_read_pii_the_same_walk_sees_them_whole(walked: tuple[Server, list]) -> None:
    server, queries = walked
    answers = _answers(server, create_key(server.store, "support", "read:profiles,read:pii,export"), queries)
    assert [value for value in PII if value in answers and value != "07911" and value != "07812"] == [
        v for v in PII if v not in ("07911", "07812")
    ]  # every personal value is there (numbers as E.164): the walk reaches them all


@pytest.mark.parametrize(
    ("name", "value", "shown"),
    [
        ("email", "jane.doe@gmail.com", "j***@gmail.com"), ("phone", "+447911123124", "+44*******124"),
        ("birth_date", "1979-04-02", "1979-**-**"), ("first_name", "Jane", "J***"), ("street", "1 High St", "***"),
        ("postcode", "LS1 4AP", "LS1 ***"), ("national_id", "AB123456C", "*******6C"),
        ("home_phone", "+12025550143", "+12******143"), ("date_of_birth", "1980-01-31", "1980-**-**"),
        ("city", "Leeds", "Leeds"), ("email_opt_in", "true", "true"), ("loyalty_id", "L-77", "L-77"),
    ],
)  # fmt: skip
def test_each_kind_of_value_is_masked_by_its_rule(name: str, value: str, shown: str) -> None:
    assert PiiMask(reveal=False).attribute(name, value) == shown
    assert PiiMask(reveal=True).attribute(name, value) == value


def test_a_revealing_mask_notes_whose_data_it_showed() -> None:
    mask = PiiMask(reveal=True)
    mask.attribute("city", "Leeds", "p1")  # not personal: nothing to note
    mask.identifier("email", "a@b.co", "p2")
    assert mask.revealed == {"p2"} and pii_kind("surname") == "name"
