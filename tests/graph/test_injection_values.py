"""Cypher-injection-shaped values are data, on both stores: they round-trip and they touch nothing else.

Every value ingest writes reaches the graph as a query parameter, never spliced into Cypher text; this keeps
it so (issue 13). A CSV whose record ids, identifier values, attribute values, event type, event properties
and even column and attribute names hold quote-breaking Cypher (``x' OR 1=1 //``,
``"}) MATCH (n) DETACH DELETE n //``), parameter and template syntax (``$param``, ``{x}``), backticks, NUL,
emoji, right-to-left marks, line breaks and very long text is ingested and resolved next to an ordinary
source. Then, through :class:`api.service.CustomerService` as the API reads them, every value reads back as
it was written (after the normalisation the type promises), a look-up by each hostile identifier finds its
one profile and nothing else, and the ordinary source's records, identifiers and profiles are all still
there, unchanged: nothing was deleted, matched or merged beyond what the data says.
"""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import pytest

from api.service import CustomerService, IdentifierView, RecordView
from graph.errors import NotFound
from graph.model import Label
from graph.store import GraphStore
from ingest.config import load_config
from ingest.lookup import remember_ingest
from ingest.normalise import NormaliseOptions, normalise_attribute, normalise_identifier
from ingest.pipeline import ingest
from resolve.runner import resolve
from resolve.settings import ResolveSettings

#: values that end a quoted string, a map or a pattern in Cypher, or are otherwise awkward for a store
PAYLOADS = [
    "x' OR 1=1 //",
    '"}) MATCH (n) DETACH DELETE n //',
    "'}) MATCH (n) DETACH DELETE n RETURN 1 //",
    "\\'}) WITH 1 AS x MATCH (m) SET m.hacked = true //",
    'x"}) RETURN 1 UNION MATCH (n) RETURN n //',
    "\u0000",
    "a\u0000b",
    "$param",
    "$1",
    "{x}",
    "{",
    "}",
    "`n`",
    "` MATCH (n) DETACH DELETE n //",
    "/* comment */",
    "; CALL db.clear() ;",
    "CALL apoc.periodic.iterate('MATCH (n) RETURN n', 'DETACH DELETE n', {})",
    "\\",
    "\\u0041\\n",
    "%s%n{{x}}${x}",
    "😀👨‍👩‍👧 emoji",
    "\u202eright-to-left\u202c",
    "مرحبا بالعالم",
    "line1\nline2",
    "cr\r\nlf\ttab",
    "long " + "x' OR 1=1 //" * 300,  # 3.6k characters (the most kept is 4,000 bytes): in an indexed key too
]
HOSTILE_TYPE = "x'}) MATCH (n) DETACH DELETE n //"  # the event type, from sources.yaml
HOSTILE_PROPERTY = "` DETACH DELETE n //"  # a column name, the key of an event property
HOSTILE_ATTRIBUTE = "x' OR 1=1 //"  # an attribute name (a custom attribute), the key in a record's attributes
LINKED = 1  # the ordinary source has a record sharing this payload's member number: one profile of the two

SOURCES = f"""
sources:
  base:
    path: base.csv
    record_id: id
    identifiers: {{crm: crm_id, card: loyalty_id, member: member_no}}
    attributes: {{note: remark}}
  inj:
    path: inj.csv
    record_id: id
    identifiers: {{crm: crm_id, card: loyalty_id, member: member_no}}
    attributes: {{note: remark, odd: "{HOSTILE_ATTRIBUTE}"}}
    event: {{type: "{HOSTILE_TYPE}", timestamp: ts, properties: [sku, "{HOSTILE_PROPERTY}"]}}
"""
BASE_ROWS = [
    {"id": "B1", "crm": "C-1", "card": "L-1", "member": "M-1", "note": "ordinary"},
    {"id": "B2", "crm": "C-2", "card": "L-2", "member": "M-2", "note": "ordinary too"},
    {"id": "B3", "crm": "C-3", "card": "L-2", "member": "M-3", "note": "shares a card with B2"},
    {"id": "B4", "crm": "C-4", "card": "L-4", "member": PAYLOADS[LINKED], "note": "shares a member no"},
]
COUNTED = [Label.RECORD, Label.IDENTIFIER, Label.EVENT, Label.PROFILE]


def _write_csv(path: Path, rows: list[dict[str, str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), quoting=csv.QUOTE_ALL)
        writer.writeheader()
        writer.writerows(rows)


def _injected_rows() -> list[dict[str, str]]:
    return [
        {
            "id": payload,
            "crm": payload,
            "card": f"card {payload}",
            "member": payload,
            "note": payload,
            "odd": f"odd {payload}",
            "ts": f"2025-01-{n + 1:02}T10:00:00Z",
            "sku": payload,
            "` DETACH DELETE n //": f"prop {payload}",
        }
        for n, payload in enumerate(PAYLOADS)
    ]


def _counts(store: GraphStore) -> Counter[str]:
    """Nodes of each label that ingest and resolve write."""
    return Counter(
        {
            label.value: store.cypher("count", f"MATCH (n:{label.value}) RETURN count(n) AS n")[0]["n"]
            for label in COUNTED
        }
    )


def _ingest(store: GraphStore, directory: Path, only: str) -> None:
    """As ``cdp ingest`` then ``cdp resolve`` do: the types a source maps are remembered for look-ups."""
    config = load_config(directory / "sources.yaml")
    remember_ingest(store, NormaliseOptions(), set(config.sources[only].identifiers.values()))
    summary = ingest(config, store, directory / "rejects", only=only)
    (source,) = summary.sources
    assert (source.rejects, source.duplicate_ids, source.invalid_values) == (0, 0, {}), source
    resolve(store, ResolveSettings())


def _views(service: CustomerService, source: str, record_id: str) -> tuple[str, RecordView, list[IdentifierView]]:
    profile = service.profile_of_record(source, record_id)
    assert profile is not None, f"no profile for record {record_id!r}"
    (record,) = [r for r in service.records_of([profile])[profile] if (r.source, r.record_id) == (source, record_id)]
    return profile, record, service.identifiers_of([profile])[profile]


def test_the_payloads_are_distinct_values_of_each_column() -> None:
    """Each hostile row must be a record of its own with identifiers of its own, or the counts below lie; and
    the values expected back are the payloads themselves, trimmed, but for the rule of each type (an id loses
    its whitespace, and text loses the zero-width joiners of copy-paste, which the emoji family is made of)."""
    assert len({p.strip() for p in PAYLOADS}) == len(PAYLOADS)
    for id_type in ("crm_id", "loyalty_id", "member_no"):
        values = [normalise_identifier(id_type, p) for p in PAYLOADS]
        assert None not in values and len(set(values)) == len(PAYLOADS), id_type
    for payload in PAYLOADS:
        kept = payload.strip().replace("\u200d", "")
        assert normalise_identifier("member_no", payload) == normalise_attribute("remark", payload) == kept
        assert normalise_identifier("crm_id", payload) == "".join(kept.split())


def test_injection_shaped_values_round_trip_as_data(store: GraphStore, tmp_path: Path) -> None:
    (tmp_path / "sources.yaml").write_text(SOURCES, encoding="utf-8")
    _write_csv(tmp_path / "base.csv", BASE_ROWS)
    _write_csv(tmp_path / "inj.csv", _injected_rows())
    service = CustomerService(store)

    _ingest(store, tmp_path, "base")
    before = _counts(store)
    assert before == Counter({"Record": 4, "Identifier": 11, "Event": 0, "CustomerProfile": 3})
    base_views = {row["id"]: _views(service, "base", row["id"]) for row in BASE_ROWS}

    _ingest(store, tmp_path, "inj")
    n = len(PAYLOADS)
    # every hostile row added one record, one event and three identifiers, and one profile but for the one
    # that joined B4's (its member number is B4's): nothing else was created, deleted or merged
    added = Counter({"Record": n, "Identifier": 3 * n - 1, "Event": n, "CustomerProfile": n - 1})
    assert _counts(store) == before + added

    for row in BASE_ROWS:  # the ordinary source reads as before: same profile, record and identifiers
        profile, record, identifiers = _views(service, "base", row["id"])
        old_profile, old_record, old_identifiers = base_views[row["id"]]
        assert (record.record_id, record.attributes) == (old_record.record_id, old_record.attributes)
        if row is not BASE_ROWS[-1]:
            assert profile == old_profile
            assert [(i.type, i.value) for i in identifiers] == [(i.type, i.value) for i in old_identifiers]

    seen: set[str] = set()
    for row in _injected_rows():
        payload = row["id"]
        record_id = payload.strip()
        profile, record, identifiers = _views(service, "inj", record_id)
        assert record.record_id == record_id
        attributes = {"remark": payload, HOSTILE_ATTRIBUTE: row["odd"]}
        assert record.attributes == {name: normalise_attribute(name, raw) for name, raw in attributes.items()}
        expected = {
            ("crm_id", normalise_identifier("crm_id", payload)),
            ("loyalty_id", normalise_identifier("loyalty_id", row["card"])),
            ("member_no", normalise_identifier("member_no", payload)),
        }
        assert expected <= {(i.type, i.value) for i in identifiers}
        for id_type, raw in (("crm_id", payload), ("loyalty_id", row["card"]), ("member_no", payload)):
            assert service.profiles_by_identifier(id_type, raw) == [profile], (id_type, raw)
        (event,) = service.events_of([profile])[profile]
        assert (event.type, event.source) == (HOSTILE_TYPE, "inj")
        assert event.properties == {"sku": payload.strip(), HOSTILE_PROPERTY: row[HOSTILE_PROPERTY].strip()}
        if payload == PAYLOADS[LINKED]:
            assert profile == service.profile_of_record("base", "B4")
            assert {r.record_id for r in service.records_of([profile])[profile]} == {"B4", record_id}
        else:
            assert [r.record_id for r in service.records_of([profile])[profile]] == [record_id]
        seen.add(profile)
    assert len(seen) == n  # one profile per hostile row: none matched another


@pytest.mark.parametrize("payload", [PAYLOADS[1], PAYLOADS[13], PAYLOADS[5]], ids=["quote", "backtick", "nul"])
def test_a_look_up_by_an_absent_hostile_value_finds_nothing_and_changes_nothing(
    store: GraphStore, tmp_path: Path, payload: str
) -> None:
    (tmp_path / "sources.yaml").write_text(SOURCES, encoding="utf-8")
    _write_csv(tmp_path / "base.csv", BASE_ROWS)
    _ingest(store, tmp_path, "base")
    before = _counts(store)
    service = CustomerService(store)
    assert service.profiles_by_identifier("crm_id", payload) == []
    assert service.profile_of_record("base", payload) is None
    assert service.records_of([payload]) == {} and service.identifiers_of([payload]) == {}
    assert _counts(store) == before


LONG = "x' OR 1=1 //" * 1000  # 12 kB: over the 8 kB a Neo4j RANGE index takes as a key


def test_a_value_too_long_for_an_index_is_dropped_with_a_reason_on_every_store(
    store: GraphStore, tmp_path: Path
) -> None:
    """A 12 kB identifier or record id (Neo4j refuses an index key over 8 kB, and would fail the whole batch)
    is dropped with a reason like any bad value, on every store alike; the rest of the batch is written."""
    (tmp_path / "sources.yaml").write_text(SOURCES, encoding="utf-8")
    rows = [{"id": "R1", "crm": "C-1", "card": "L-1", "member": LONG, "note": "long member no"},
            {"id": LONG, "crm": "C-2", "card": "L-2", "member": "M-2", "note": "long record id"}]  # fmt: skip
    _write_csv(tmp_path / "base.csv", rows)
    config = load_config(tmp_path / "sources.yaml")
    remember_ingest(store, NormaliseOptions(), {"crm_id", "loyalty_id", "member_no"})
    (summary,) = ingest(config, store, tmp_path / "rejects", only="base").sources
    resolve(store, ResolveSettings())
    service = CustomerService(store)
    assert summary.invalid_values == {"member": 1} and summary.rejects == 1 and summary.writes.created == 1
    with pytest.raises(NotFound, match="longer than 4,000 bytes"):
        service.profiles_by_identifier("member_no", LONG)
    assert service.profile_of_record("base", "R1")
    assert "longer than 4,000 bytes" in (tmp_path / "rejects" / "base.csv").read_text()
