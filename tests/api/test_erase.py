"""Erasing a customer, on each store: over GraphQL and the CLI, nothing of them is left in any node of the
store, in an export made after, or in the embeddings; a re-ingest of the same files skips their rows and
says so; the other customers keep their profiles; refusals say why."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd

from analytics.embedding_store import load_embeddings
from analytics.embeddings import EmbeddingSettings, embed_store
from api.exports import export_profiles
from api.keys import create_key
from graph.model import Label
from graph.settings import StoreSettings, open_store
from graph.store import GraphStore
from ingest.config import load_config
from ingest.pipeline import ingest
from resolve.runner import resolve
from resolve.settings import ResolveSettings
from tests.api.conftest import Server, load_example

#: Bob (crm C4 and pos T3, linked by his phone): every trace of him a store could keep
BOB = ["bob@mailbox.co.uk", "+447812345678", "Jones", "Hull", "crm:C4", "pos:T3", "loyalty_id:L2", "pos:T3#0"]
ERASE = """mutation($type: String!, $value: String!) {
  eraseCustomer(identifier: {type: $type, value: $value}) {
    profiles records identifiers identifiersKept events suppressed embeddings movedRecords } }"""


def _everything(store: GraphStore, but: tuple[Label, ...] = ()) -> str:
    """Every property of every node of every label (but those of ``but``), as one text to search."""
    return json.dumps({label.value: store.all_nodes(label) for label in Label if label not in but}, default=str)


def _profile_of(server: Server, record: str) -> str:
    query = 'query($r: String!) { profileByRecord(source: "crm", recordId: $r) { id } }'
    return server.query(query, r=record)["data"]["profileByRecord"]["id"]


def test_an_erased_customer_leaves_nothing_and_stays_erased(server: Server, tmp_path: Path) -> None:
    embed_store(server.store, EmbeddingSettings(workers=1, walks_per_node=5, dimensions=8))
    before = load_embeddings(server.store)
    ann, bob = _profile_of(server, "C1"), _profile_of(server, "C4")
    assert [trace for trace in BOB if trace in _everything(server.store)] == BOB  # the search finds each trace

    report = server.query(ERASE, type="email", value="BOB@mailbox.co.uk")["data"]["eraseCustomer"]
    assert report == {"profiles": [bob], "records": 2, "identifiers": 4, "identifiersKept": 0, "events": 1,
                      "suppressed": 6, "embeddings": 1, "movedRecords": 0}  # fmt: skip
    stored = _everything(server.store)
    assert [trace for trace in BOB if trace in stored] == []
    export_profiles(server.store, tmp_path / "profiles.csv")
    exported = pd.read_csv(tmp_path / "profiles.csv", dtype=str)
    assert "C4" not in set(exported["record_id"]) and "T3" not in set(exported["record_id"])
    assert bob not in _everything(server.store, but=(Label.AUDIT_ENTRY,))  # the log keeps who erased which id
    after = load_embeddings(server.store)
    assert after is not None and before is not None and after.id != before.id
    assert f"profile:{bob}" not in set(after.keys) and len(after.keys) == len(before.keys) - 1
    assert _profile_of(server, "C1") == ann  # the others keep their profiles

    crm = tmp_path / "crm.csv"  # Bob's row comes back with a value ingest drops: it is written nowhere either
    crm.write_text(crm.read_text().replace("C4,bob@mailbox.co.uk,07812 345678", "C4,bob@mailbox.co.uk,07812 34567x"))
    again = ingest(load_config(tmp_path / "sources.yaml"), server.store, tmp_path / "rejects")
    assert {s.source: s.suppressed for s in again.sources} == {"crm": 1, "pos": 1}
    rejects = "".join(p.read_text() for p in (tmp_path / "rejects").glob("*.csv"))
    assert "34567x" not in rejects and "34567x" not in _everything(server.store)
    resolve(server.store, ResolveSettings(blocklist={"email": ["family@mailbox.co.uk"]}))
    assert [trace for trace in BOB if trace in _everything(server.store)] == []
    assert server.query('{ profileByIdentifier(type: "email", value: "bob@mailbox.co.uk") { id } }')["data"] == {
        "profileByIdentifier": None
    }
    log = [e for e in server.store.audit_entries("2000", 100) if e["action"] == "erase"]
    assert [(e["actor"], e["outcome"], json.loads(e["targets"])) for e in log] == [("tests", "ok", [bob])]


def test_erase_refusals_say_why(server: Server) -> None:
    reader = create_key(server.store, "reader", "read:profiles,read:pii")
    server.key = reader
    denied = server.query(ERASE, type="email", value="bob@mailbox.co.uk")
    assert "lacks the scope 'write:profiles'" in denied["errors"][0]["message"]
    server.key = create_key(server.store, "dpo", "read:profiles,write:profiles")
    shared = server.query(ERASE, type="email", value="family@mailbox.co.uk")
    assert "held by 2 profiles" in shared["errors"][0]["message"]
    unknown = server.query(ERASE, type="email", value="nobody@mailbox.co.uk")
    assert "held by no profile" in unknown["errors"][0]["message"]
    both = server.query("mutation { eraseCustomer { records } }")
    assert "by a profile id or by an identifier" in both["errors"][0]["message"]
    assert server.query('{ profileByRecord(source: "crm", recordId: "C4") { size } }')["data"]["profileByRecord"] == {
        "size": 2
    }  # nothing was erased


def test_cdp_erase_by_profile_and_the_ingest_summary(tmp_path: Path, store_settings: StoreSettings) -> None:
    data_dir = tmp_path / "cdp"
    settings = StoreSettings(store="embedded", data_dir=data_dir)
    store = open_store(settings)
    try:
        load_example(store, tmp_path)
        bob = store.profiles_of_records(["crm:C4"])["crm:C4"]
    finally:
        store.close()
    env = {**os.environ, "CDP_DATA_DIR": str(data_dir), "CDP_STORE": "embedded"}
    cdp = lambda *args: subprocess.run([sys.executable, "-m", "api.cli", *args], env=env, capture_output=True,  # noqa: E731
                                       text=True, timeout=180)  # fmt: skip
    erased = cdp("erase", "--profile", bob)
    assert erased.returncode == 0, erased.stderr
    assert f"erased profile {bob}: 2 records" in erased.stderr and "6 suppression entries" in erased.stderr
    again = cdp("ingest", str(tmp_path / "sources.yaml"))
    assert again.returncode == 0, again.stderr
    assert "crm: 1 rows of erased customers skipped" in again.stderr + again.stdout
    assert cdp("erase", "--identifier", "email").returncode != 0


def test_an_erase_takes_the_customers_values_out_of_the_data_quality_examples(
    store: GraphStore, tmp_path: Path
) -> None:
    from api.erasure import erase_customer
    from ingest.column_profile import stored_profiles
    from tests.api.conftest import CRM, POS, SOURCES

    (tmp_path / "sources.yaml").write_text(SOURCES)
    (tmp_path / "crm.csv").write_text(CRM.replace("C4,bob@mailbox.co.uk,07812 345678", "C4,bob@@mailbox,07812 345678")
                                      .replace("C1,ann@mailbox.co.uk", "C1,ann@@mailbox"))  # fmt: skip
    (tmp_path / "pos.csv").write_text(POS)
    ingest(load_config(tmp_path / "sources.yaml"), store, tmp_path / "rejects")
    resolve(store, ResolveSettings(blocklist={"email": ["family@mailbox.co.uk"]}))

    def examples() -> dict[str, str]:
        crm = next(p for p in stored_profiles(store.graph_settings()) if p.source == "crm")
        return {e["value"]: e["record"] for c in crm.columns for e in c.examples}

    assert examples() == {"bob@@mailbox": "crm:C4", "ann@@mailbox": "crm:C1"}
    bob = store.profile_of_record("crm:C4")
    assert bob is not None
    erase_customer(store, [bob], "tests")
    assert examples() == {"ann@@mailbox": "crm:C1"}  # Ann's stays: only the erased customer's rows go
    assert "bob@@mailbox" not in _everything(store)


def test_an_erase_re_resolves_when_the_customer_held_the_only_values_of_a_chosen_field(store: GraphStore) -> None:
    """The last run chose a birth-date comparison because two records (both Bob's) had one; the re-resolve
    after Bob is erased leaves that comparison out instead of failing for a field no record has."""
    from api.erasure import erase_customer
    from graph.model import IdentifierLink, SourceRecord
    from resolve.settings import last_run_settings

    def rec(rid: str, email: str, phone: str, **attributes: str) -> SourceRecord:
        links = [IdentifierLink("email", email), IdentifierLink("phone", phone)]
        return SourceRecord("crm", rid, links, {"first_name": "Ann", **attributes}, "2025-01-01T00:00:00Z")

    store.upsert_records([
        rec("1", "ann@x.com", "+447911000001"), rec("2", "cy@x.com", "+447911000002"),
        rec("3", "bob@x.com", "+447911000003", birth_date="1980-02-01"),
        rec("4", "bob2@x.com", "+447911000003", birth_date="1980-02-01"),
    ])  # fmt: skip
    resolve(store, ResolveSettings())
    chosen = last_run_settings(store).matching
    assert "birth_date" in chosen.fields and not chosen.explicit  # chosen from the data, not given
    given = ResolveSettings.model_validate({"matching": {"comparisons": [c.model_dump() for c in chosen.comparisons]}})
    assert given.matching.explicit  # the same comparisons given by a user stay explicit
    bob = store.profile_of_record("crm:3")
    assert bob is not None
    erase_customer(store, [bob], "tests")
    assert set(store.assignments()["record"]) == {"crm:1", "crm:2"}
