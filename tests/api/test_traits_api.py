"""Computed traits through the facade, the ``cdp export traits`` command and GraphQL, on each store."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from typer.testing import CliRunner

from api.access import AccessDenied, Principal
from api.cli import app
from api.service import CustomerService
from graph.model import Event, IdentifierLink, SourceRecord
from graph.settings import StoreSettings
from graph.store import GraphStore
from resolve.runner import resolve
from resolve.settings import ResolveSettings
from tests.api.conftest import CRM, POS, SOURCES, Server

runner = CliRunner()


def _rec(source: str, rid: str, email: str, *events: Event) -> SourceRecord:
    return SourceRecord(source, rid, [IdentifierLink("email", email)], {}, "2025-01-01T00:00:00Z", list(events))


def test_traits_of_profiles_with_and_without_events(store: GraphStore) -> None:
    store.upsert_records([
        _rec("crm", "1", "ann@x.com"),
        _rec("web", "s1", "ann@x.com", Event("page_view", "2025-02-01T00:00:00Z", {"category": "books"})),
        _rec("pos", "t1", "ann@x.com", Event("purchase", "2025-02-10T00:00:00Z", {"category": "toys", "amount": 20.0})),
        _rec("pos", "t2", "ann@x.com", Event("purchase", "2025-03-10T00:00:00Z", {"amount": 5})),  # after as_of
        _rec("crm", "2", "bo@x.com"),
    ])  # fmt: skip
    resolve(store, ResolveSettings())
    service = CustomerService(store)
    ann, bo = service.profile_of_record("crm", "1"), service.profile_of_record("crm", "2")
    assert ann and bo
    found = service.traits_of([ann, bo, "p_unknown"], as_of=datetime(2025, 3, 1, tzinfo=UTC))
    assert list(found) == [ann]  # the caller gives the others ProfileTraits(): no events, nothing to compute
    traits = found[ann]
    assert (traits.recency_days, traits.frequency, traits.monetary, traits.events) == (19.0, 1, 20.0, 2)
    assert (traits.first_seen, traits.last_seen) == ("2025-02-01T00:00:00Z", "2025-02-10T00:00:00Z")
    assert traits.top_category == "toys" and traits.channel_mix == {"pos": 0.5, "web": 0.5}
    assert service.traits_of([ann])[ann].frequency == 2  # as of now: the March purchase counts too
    reader = CustomerService(store, principal=Principal("etl", frozenset({"write:profiles"})))
    with pytest.raises(AccessDenied, match="lacks the scope .read:profiles."):
        reader.traits_of([ann])


# ---- cdp export traits ------------------------------------------------------------------------------


@pytest.fixture
def project(tmp_path: Path, store_settings: StoreSettings, store: GraphStore, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The example sources in tmp_path; CDP_* env pointing at the (empty) store under test."""
    (tmp_path / "sources.yaml").write_text(SOURCES)
    (tmp_path / "crm.csv").write_text(CRM)
    (tmp_path / "pos.csv").write_text(POS)
    monkeypatch.setenv("CDP_STORE", store_settings.store)
    store.close()  # the CLI opens its own (embedded: one writer per directory)
    return tmp_path


def _cdp(project: Path, *args: str) -> Any:
    return runner.invoke(app, [*args, "--data-dir", str(project / "cdp")])


def test_export_traits_needs_a_resolve_first(project: Path) -> None:
    _cdp(project, "ingest", str(project / "sources.yaml"))
    result = _cdp(project, "export", "traits", "--out", str(project / "traits.csv"))
    assert result.exit_code == 1 and not (project / "traits.csv").exists()
    assert "no resolved profiles yet: run `cdp resolve` first" in " ".join(result.output.split())


def test_export_traits_writes_one_row_per_profile_with_events(project: Path) -> None:
    _cdp(project, "ingest", str(project / "sources.yaml"))
    _cdp(project, "resolve")
    _cdp(project, "export", "profiles", "--out", str(project / "profiles.csv"))
    profile_of = pd.read_csv(project / "profiles.csv", dtype=str).set_index("record_id")["profile_id"]
    result = _cdp(project, "export", "traits", "--out", str(project / "traits.csv"), "--as-of", "2025-03-01")
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "wrote 1 rows" in text and "as of 2025-03-01T00:00:00Z; 3 profiles without events by then" in text
    frame = pd.read_csv(project / "traits.csv", dtype=str, keep_default_na=False)  # Bob's T3 is 5 March: no row
    assert frame.to_dict("records") == [{
        "profile_id": profile_of["T1"], "recency_days": "23.5833", "frequency": "2", "monetary": "13.5",
        "first_seen": "2025-01-05T10:00:00Z", "last_seen": "2025-02-05T10:00:00Z", "top_category": "",
        "events": "2", "channel_mix": '{"pos":1.0}',
    }]  # fmt: skip
    now = _cdp(project, "export", "traits", "--out", str(project / "traits.parquet"))
    assert now.exit_code == 0, now.output
    parquet = pd.read_parquet(project / "traits.parquet").set_index("profile_id")
    assert sorted(parquet.index) == sorted({profile_of["T1"], profile_of["T3"]})
    bob = parquet.loc[profile_of["T3"]]
    assert bob["last_seen"] == pd.Timestamp("2025-03-05T10:00:00Z") and bob["channel_mix"] == {"pos": 1.0}
    assert bob["monetary"] == 10.5 and bob["frequency"] == 1 and bob["top_category"] is None


def test_export_traits_refuses_an_unreadable_date(project: Path) -> None:
    result = _cdp(project, "export", "traits", "--out", str(project / "t.csv"), "--as-of", "1st of March")
    assert result.exit_code == 2 and "--as-of" in result.output


# ---- GraphQL ------------------------------------------------------------------------------------------

TRAITS = "traits { recencyDays frequency monetary firstSeen lastSeen topCategory events channelMix { channel share } }"


def test_profile_traits_in_graphql(server: Server) -> None:
    query = f'query($r: String!) {{ profileByRecord(source: "crm", recordId: $r) {{ id {TRAITS} }} }}'
    before = datetime.now(UTC)
    ann = server.query(query, r="C1")["data"]["profileByRecord"]["traits"]
    after = datetime.now(UTC)
    last_purchase = datetime(2025, 2, 5, 10, tzinfo=UTC)
    days = [(moment - last_purchase).total_seconds() / 86400 for moment in (before, after)]
    assert days[0] - 1e-4 <= ann.pop("recencyDays") <= days[1] + 1e-4  # as of now
    assert ann == {
        "frequency": 2, "monetary": 13.5, "firstSeen": "2025-01-05T10:00:00Z", "lastSeen": "2025-02-05T10:00:00Z",
        "topCategory": None, "events": 2, "channelMix": [{"channel": "pos", "share": 1.0}],
    }  # fmt: skip
    cat = server.query(query, r="C5")["data"]["profileByRecord"]["traits"]  # a CRM record alone: no events
    assert cat == {
        "recencyDays": None, "frequency": 0, "monetary": None, "firstSeen": None, "lastSeen": None,
        "topCategory": None, "events": 0, "channelMix": [],
    }  # fmt: skip


def test_a_page_of_traits_costs_one_read(server: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    names: list[str] = []
    run = server.store.run

    def counted(query: Any, **params: Any) -> Any:
        names.append(query.name)
        return run(query, **params)

    monkeypatch.setattr(server.store, "run", counted)
    body = server.query(f"{{ profiles(first: 10) {{ edges {{ node {{ id {TRAITS} }} }} }} }}")
    events = sorted(edge["node"]["traits"]["events"] for edge in body["data"]["profiles"]["edges"])
    reads = [n for n in names if n.removesuffix("_one") == "profile_events"]  # the per-id form on the embedded store
    assert events == [0, 0, 1, 2] and len(reads) == (len(events) if server.store.per_profile_reads else 1)
    assert json.dumps(body).count('"channel": "pos"') == 2
