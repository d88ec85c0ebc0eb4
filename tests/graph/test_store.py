"""The store protocol, against each real store: what the queries did, never how they were spelled."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from graph.errors import StoreError
from graph.model import Event, IdentifierLink, Label, Rel, SourceRecord
from graph.query import Query
from graph.store import GraphStore
from resolve.apply import apply_plan
from resolve.journal import RunPlan


def _record(rid: str, email: str, name: str = "Ann", ts: str = "2025-01-01T00:00:00Z") -> SourceRecord:
    return SourceRecord(
        "crm",
        rid,
        [IdentifierLink("email", email), IdentifierLink("crm_id", rid)],
        {"first_name": name},
        ts,
        [Event("purchase", ts, {"sku": "A1", "amount": 9.5})],
    )


def _links(store: GraphStore) -> set[tuple[str, str]]:
    frame = store.record_links()
    return set(zip(frame["record"], frame["identifier"], strict=True))


def test_schema_creation_is_idempotent(store: GraphStore) -> None:
    store.ensure_schema()
    store.ensure_schema()
    assert store.record_keys().empty


def test_upsert_creates_records_identifiers_and_events(store: GraphStore) -> None:
    counts = store.upsert_records([_record("1", "a@x.com"), _record("2", "a@x.com")])
    assert (counts.created, counts.updated, counts.unchanged, counts.events) == (2, 0, 0, 2)
    assert _links(store) == {
        ("crm:1", "email:a@x.com"), ("crm:1", "crm_id:1"), ("crm:2", "email:a@x.com"), ("crm:2", "crm_id:2"),
    }  # fmt: skip
    identifiers = store.cypher("ids", "MATCH (i:Identifier) RETURN count(*) AS n")[0]["n"]
    assert identifiers == 3  # the shared email is one node


def test_reupserting_the_same_records_changes_nothing(store: GraphStore) -> None:
    records = [_record("1", "a@x.com"), _record("2", "b@x.com")]
    store.upsert_records(records)
    before = _links(store)
    counts = store.upsert_records(records)
    assert (counts.created, counts.updated, counts.unchanged) == (0, 0, 2)
    assert _links(store) == before
    assert store.cypher("n", "MATCH (e:Event) RETURN count(*) AS n")[0]["n"] == 2


def test_a_changed_record_replaces_its_links_and_keeps_first_seen(store: GraphStore) -> None:
    store.upsert_records([_record("1", "a@x.com", ts="2025-01-01T00:00:00Z")])
    counts = store.upsert_records([_record("1", "new@x.com", name="Anna", ts="2025-06-01T00:00:00Z")])
    assert (counts.created, counts.updated) == (0, 1)
    assert _links(store) == {("crm:1", "email:new@x.com"), ("crm:1", "crm_id:1")}
    rows = store.cypher(
        "seen",
        "MATCH (:Record {key: $k})-[e:HAS_IDENTIFIER]->(i:Identifier {key: $i}) RETURN e.first_seen AS f, e.last_seen AS l",
        {"k": "crm:1", "i": "crm_id:1"},
    )
    assert rows == [{"f": "2025-01-01T00:00:00Z", "l": "2025-06-01T00:00:00Z"}]
    attrs = store.cypher("a", "MATCH (r:Record {key: $k}) RETURN r.attributes AS a", {"k": "crm:1"})[0]["a"]
    assert json.loads(attrs) == {"first_name": "Anna"}
    assert store.cypher("n", "MATCH (e:Event) RETURN count(*) AS n")[0]["n"] == 1


def test_values_travel_as_parameters_not_as_cypher(store: GraphStore) -> None:
    nasty = "x'}) DETACH DELETE n //\"@x.com"
    store.upsert_records([_record("1", nasty)])
    assert ("crm:1", f"email:{nasty}") in _links(store)


def test_a_failing_query_is_reported_with_its_name(store: GraphStore) -> None:
    with pytest.raises(StoreError, match="'broken_on_purpose'"):
        store.cypher("broken_on_purpose", "MATCH (n:Record) RETURN n.key AS k ORDER BY")


def test_a_failed_transaction_writes_nothing(store: GraphStore) -> None:
    with pytest.raises(StoreError), store.transaction() as tx:
        tx.create_nodes(Label.RECORD, pd.DataFrame([
            {"key": "crm:9", "source": "crm", "record_id": "9", "attributes": "{}", "hash": "h", "seen_at": "t"}
        ]))  # fmt: skip
        assert tx.record_keys()["record"].tolist() == ["crm:9"]  # visible inside the transaction
        assert store.record_keys().empty  # and to nobody else before the commit
        tx.run(Query("broken_on_purpose", "RETURN nonsense("))
    assert store.record_keys().empty


def test_a_query_refuses_parameters_it_does_not_take(store: GraphStore) -> None:
    with pytest.raises(TypeError, match="'profile_of_record' takes \\['key'\\]"):
        store.run(Query("profile_of_record", "MATCH (r:Record {key: $key}) RETURN r.key AS k"), keys=["x"])


def test_an_empty_result_has_the_declared_columns(store: GraphStore) -> None:
    assert list(store.profile_links(["nobody"]).columns) == [
        "profile_id", "record", "identifier", "type", "value", "status"
    ]  # fmt: skip


def test_a_record_repeated_in_one_batch_keeps_its_last_row(store: GraphStore) -> None:
    counts = store.upsert_records([_record("1", "old@x.com"), _record("2", "b@x.com"), _record("1", "new@x.com")])
    assert (counts.created, counts.identifiers, counts.events) == (2, 4, 2)
    assert _links(store) == {
        ("crm:1", "email:new@x.com"), ("crm:1", "crm_id:1"), ("crm:2", "email:b@x.com"), ("crm:2", "crm_id:2"),
    }  # fmt: skip


def test_bulk_created_nodes_and_edges_carry_their_properties(store: GraphStore) -> None:
    store.upsert_records([_record("1", "a@x.com")])
    profiles = pd.DataFrame({"id": ["p1", "p2"], "size": [1, 0], "updated_at": ["t", "t"]})
    with store.transaction() as tx:
        tx.create_nodes(Label.PROFILE, profiles[["updated_at", "size", "id"]])  # column order does not matter
        tx.create_edges(Rel.IN_PROFILE, pd.DataFrame({"record": ["crm:1"], "profile_id": ["p1"]}))
    assert store.profile_sizes_of(["p1", "p2"]) == {"p1": 1, "p2": 0}
    assert store.assignments().to_dict("records") == [{"record": "crm:1", "profile_id": "p1"}]


def test_assignments_move_records_and_remove_empty_profiles(store: GraphStore) -> None:
    store.upsert_records([_record("1", "a@x.com"), _record("2", "b@x.com")])
    apply_plan(store, _plan("r1", {"crm:1": "p_a", "crm:2": "p_a"}, {"p_a": 2}, reassigned=[]))
    apply_plan(store, _plan("r2", {"crm:2": "p_b"}, {"p_a": 1, "p_b": 1}, reassigned=["crm:2"]))
    frame = store.assignments()
    assert sorted(zip(frame["record"], frame["profile_id"], strict=True)) == [("crm:1", "p_a"), ("crm:2", "p_b")]
    apply_plan(store, _plan("r3", {"crm:1": "p_b"}, {"p_b": 2}, ["p_a"], reassigned=["crm:1"]))
    assert len(store.assignments()) == 2  # moved, not copied
    assert store.profile_sizes_of(["p_a", "p_b"]) == {"p_b": 2}


def test_applying_a_plan_again_changes_nothing(store: GraphStore) -> None:
    """Every step of a run's writes can run again (a run interrupted and finished by the next one)."""
    store.upsert_records([_record("1", "a@x.com"), _record("2", "b@x.com")])
    plan = _plan("r1", {"crm:1": "p_a", "crm:2": "p_a"}, {"p_a": 2}, reassigned=[])
    apply_plan(store, plan)
    before = store.assignments().sort_values("record").to_dict("records")
    apply_plan(store, plan, resumed=True)
    assert store.assignments().sort_values("record").to_dict("records") == before
    assert store.profile_sizes_of(["p_a"]) == {"p_a": 2}


def _plan(
    run_id: str, moves: dict[str, str], sizes: dict[str, int], removed: list[str] | None = None,
    reassigned: list[str] | None = None,
) -> RunPlan:  # fmt: skip
    return RunPlan(
        run_id, "t",
        profiles=pd.DataFrame({"id": list(sizes), "size": list(sizes.values()), "updated_at": "t"}),
        moves=pd.DataFrame({"record": list(moves), "profile_id": list(moves.values())}),
        removed=removed or [], reassigned=reassigned,
    )  # fmt: skip


def test_history_written_by_an_older_version_is_linked_when_opened(store: GraphStore) -> None:
    """Before layout 2, history entries had no edge to their profile; opening such a graph links them."""
    from graph.migrations import SCHEMA_VERSION, migrate

    _unlinked_history(store)
    with store.transaction() as tx:
        tx.set_graph_setting("schema_version", "1")
    assert store.profile_history(["p1"]) == []  # not linked: invisible to the edge-following read
    migrate(store)
    migrate(store)  # once only
    assert [row["kind"] for row in store.profile_history(["p1"])] == ["created"]
    assert store.graph_settings()["schema_version"] == SCHEMA_VERSION


def test_upgrading_twice_links_history_once(store: GraphStore) -> None:
    """A graph whose layout version was lost (cleared settings) is upgraded again: nothing is linked twice."""
    from graph.migrations import migrate

    _unlinked_history(store)
    for _ in range(2):
        store.cypher("forget", "MATCH (s:GraphSetting) DELETE s")
        migrate(store)
    assert len(store.profile_history(["p1"])) == 1


def test_an_unverified_phone_is_stored_with_its_flag_and_starts_unverified(store: GraphStore) -> None:
    """Ingest decides the flag; the identifier keeps it, starts with the status ``unverified`` and every link
    to it reads it, so resolve never parses a phone again."""
    drama = IdentifierLink("phone", "+447700900123", unverified=True)
    store.upsert_records([
        SourceRecord("crm", "1", [drama, IdentifierLink("email", "a@x.com")], {}, "2025-01-01T00:00:00Z"),
        SourceRecord("crm", "2", [drama, IdentifierLink("phone", "+447911123456")], {}, "2025-01-01T00:00:00Z"),
    ])  # fmt: skip
    links = store.record_links()
    assert links["unverified"].dtype == bool
    assert sorted(links.loc[links["unverified"], "record"]) == ["crm:1", "crm:2"]
    assert set(links.loc[links["unverified"], "identifier"]) == {"phone:+447700900123"}
    assert sorted((r["type"], r["status"], r["n"]) for r in store.identifiers_by_type()) == [
        ("email", "active", 1), ("phone", "active", 1), ("phone", "unverified", 1),
    ]  # fmt: skip
    assert store.flagged_identifiers() == {"phone:+447700900123": "unverified"}


def test_identifiers_written_before_the_unverified_flag_read_as_verified(store: GraphStore) -> None:
    """Layout 3 declares ``Identifier.unverified``: a graph of layout 2 opens, its identifiers read as
    verified (that ingest rejected unverified phones), and new ones are written with the flag."""
    from graph.migrations import SCHEMA_VERSION, migrate

    store.upsert_records([_record("1", "a@x.com")])
    if store.kind == "embedded":
        store.cypher("older_layout", "ALTER TABLE Identifier DROP unverified")
    else:
        store.cypher("older_layout", "MATCH (i:Identifier) REMOVE i.unverified")
    with store.transaction() as tx:
        tx.set_graph_setting("schema_version", "2")
    migrate(store)
    assert store.graph_settings()["schema_version"] == SCHEMA_VERSION
    assert not store.record_links()["unverified"].any()
    drama = IdentifierLink("phone", "+447700900123", unverified=True)
    store.upsert_records([SourceRecord("crm", "2", [drama], {}, "2025-01-01T00:00:00Z")])
    links = store.record_links()
    assert links.loc[links["unverified"], "identifier"].tolist() == ["phone:+447700900123"]


def _unlinked_history(store: GraphStore) -> None:
    """A profile and a history entry as an older version wrote them: no ``HAS_HISTORY`` edge."""
    with store.transaction() as tx:
        tx.create_nodes(Label.PROFILE, pd.DataFrame({"id": ["p1"], "size": [1], "updated_at": ["t"]}))
        tx.create_nodes(Label.PROFILE_EVENT, pd.DataFrame([{
            "key": "p1|created|r1", "profile_id": "p1", "kind": "created", "detail": "1 records",
            "reason": "resolve run r1", "actor": "resolver", "at": "t",
        }]))  # fmt: skip
