"""``cdp embed``, ``cdp audience lookalike`` and ``cdp recommend``, and similarProfiles, lookalikeAudience
and Profile.recommendations over real HTTP, on each store."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from analytics.embeddings import EmbeddingSettings, embed_store
from api.cli import app
from api.insights import ModelCache
from api.service import CustomerService
from graph.model import Event, IdentifierLink, SourceRecord
from graph.settings import StoreSettings, open_store
from graph.store import GraphStore
from resolve.runner import resolve
from resolve.settings import ResolveSettings
from tests.api.conftest import Server

runner = CliRunner()
TASTES = {"books": ["B1", "B2", "B3", "B4"], "toys": ["T1", "T2", "T3", "T4"]}


def _customers(n: int = 40) -> list[SourceRecord]:
    """Even customers buy books, odd ones toys; each opted in, with an email and a phone."""
    out = []
    for c in range(n):
        taste = "books" if c % 2 == 0 else "toys"
        events = [Event("purchase" if k < 2 else "page_view", f"2025-0{k + 1}-01T00:00:00Z",
                        {"sku": TASTES[taste][(c + k) % 4], "category": taste}) for k in range(4)]  # fmt: skip
        ids = [IdentifierLink("email", f"c{c}@x.com"), IdentifierLink("phone", f"+4477009000{c:02d}")]
        out.append(SourceRecord("shop", str(c), ids, {"email_opt_in": "true" if c < 30 else "false"}, "2025-01-01",
                                events))  # fmt: skip
    return out


def _loaded(store: GraphStore) -> dict[str, str]:
    store.upsert_records(_customers())
    resolve(store, ResolveSettings())
    embed_store(store, EmbeddingSettings(workers=1, walks_per_node=20, dimensions=16))
    return (
        store.assignments().assign(c=lambda f: f["record"].str.split(":").str[1]).set_index("c")["profile_id"].to_dict()
    )


def test_similar_customers_share_a_taste(store: GraphStore) -> None:
    profile = _loaded(store)
    service = CustomerService(store)
    found = service.similar_profiles(profile["0"], 5)
    assert len(found) == 5 and profile["0"] not in [p for p, _ in found]
    assert [s for _, s in found] == sorted((s for _, s in found), reverse=True)
    even = {profile[str(c)] for c in range(0, 40, 2)}
    assert sum(p in even for p, _ in found) >= 4  # book buyers are like book buyers
    recs = service.recommendations_of([profile["0"]], 3)
    bought = {TASTES["books"][0], TASTES["books"][1]}  # customer 0 bought B1 and B2, viewed B3 and B4
    assert set(recs["product"][:2]) == {"B3", "B4"}  # what it viewed, of its taste, comes first
    assert not set(recs["product"]) & bought


def test_the_model_cache_reads_the_model_id_at_most_once_per_interval(
    store: GraphStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    _loaded(store)
    asked: list[str] = []
    run = store.run
    monkeypatch.setattr(store, "run", lambda query, **kw: asked.append(query.name) or run(query, **kw))
    slow, eager = ModelCache(recheck_s=3600), ModelCache(recheck_s=0)
    first, first_eager = slow.get(store), eager.get(store)
    embed_store(store, EmbeddingSettings(workers=1, walks_per_node=5, dimensions=8, seed=1))  # a new model
    asked.clear()
    assert slow.get(store) is first and asked == []  # within the interval: no query, the model it has
    newer = eager.get(store)
    assert asked[0] == "embedding_model" and "embedding_chunks" in asked  # past it: checked, and reloaded
    assert newer is not first_eager
    assert newer.embeddings.id != first_eager.embeddings.id and newer.profiles.matrix.shape[1] == 8
    asked.clear()
    assert eager.get(store) is newer and asked == ["embedding_model"]  # same id: checked, not reloaded


def test_cli_embed_lookalike_and_recommend(
    store: GraphStore, store_settings: StoreSettings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CDP_STORE", store_settings.store)
    store.upsert_records(_customers())
    resolve(store, ResolveSettings())
    store.close()  # the CLI opens its own
    data = ["--data-dir", str(store_settings.data_dir)] if store_settings.store == "embedded" else []
    before = runner.invoke(app, ["audience", "lookalike", "--seed", str(tmp_path / "none.csv"), "--size", "3",
                                 "--out", str(tmp_path / "a.csv"), *data])  # fmt: skip
    assert before.exit_code == 1 and "cannot read the seed file" in " ".join(before.output.split())
    embedded = runner.invoke(app, ["embed", "--evaluate", *data])
    assert embedded.exit_code == 0, embedded.output
    text = " ".join(embedded.output.split())
    assert "embedded 50 nodes" in text and "link prediction: AUC" in text
    seeds = tmp_path / "seeds.csv"
    seeds.write_text("identifier_type,identifier_value\nemail,C0@X.COM\nemail,c2@x.com\nemail,nobody@x.com\n")
    out = tmp_path / "audience.csv"
    made = runner.invoke(app, ["audience", "lookalike", "--seed", str(seeds), "--size", "10", "--out", str(out), *data])
    assert made.exit_code == 0, made.output
    text = " ".join(made.output.split())  # rich wraps lines at the terminal width
    assert "line 4: no profile holds email 'nobody@x.com'" in text and "1 seed rows not found" in text
    audience = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert list(audience.columns) == ["profile_id", "score", "email", "phone"] and len(audience) == 10
    reopened = open_store(store_settings)
    try:
        owner = reopened.assignments().assign(c=lambda f: f["record"].str.split(":").str[1])
    finally:
        reopened.close()
    customer = audience["profile_id"].map(owner.set_index("profile_id")["c"]).astype(int)
    assert (customer % 2 == 0).sum() >= 8  # the seeds buy books
    assert not ({0, 2} & set(customer))  # seeds left out
    opted = customer < 30
    assert (audience.loc[opted, "email"] == "c" + customer[opted].astype(str) + "@x.com").all()
    assert (audience.loc[~opted, ["email", "phone"]] == "").all().all()  # no consent, no contact details
    nobody = tmp_path / "nobody.csv"
    nobody.write_text("profile_id\np_unknown\n")
    none = runner.invoke(app, ["audience", "lookalike", "--seed", str(nobody), "--size", "5", "--out", str(out), *data])
    assert none.exit_code == 1 and "no known customer in the seed list" in " ".join(none.output.split())
    recs = tmp_path / "recs.parquet"
    recommended = runner.invoke(app, ["recommend", "--k", "2", "--out", str(recs), *data])
    assert recommended.exit_code == 0, recommended.output
    frame = pd.read_parquet(recs)
    assert list(frame.columns) == ["profile_id", "product", "score"] and len(frame) == 80


def test_embed_on_a_store_without_events_is_a_clear_error(
    store: GraphStore, store_settings: StoreSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CDP_STORE", store_settings.store)
    store.upsert_records([SourceRecord("crm", "1", [IdentifierLink("email", "a@x.com")], {}, "2025-01-01")])
    resolve(store, ResolveSettings())
    store.close()
    data = ["--data-dir", str(store_settings.data_dir)] if store_settings.store == "embedded" else []
    result = runner.invoke(app, ["embed", *data])
    assert result.exit_code == 1 and "the customer graph is empty" in " ".join(result.output.split())


def test_graphql_similar_profiles_recommendations_and_lookalike(server: Server) -> None:
    profile = _loaded(server.store)
    similar = server.query("query($id: ID!) { similarProfiles(id: $id, k: 3) { profile { id } score } }",
                           id=profile["1"])["data"]["similarProfiles"]  # fmt: skip
    assert len(similar) == 3 and profile["1"] not in [s["profile"]["id"] for s in similar]
    recs = server.query("query($id: ID!) { profile(id: $id) { recommendations(k: 2) { product score } } }",
                        id=profile["1"])["data"]["profile"]["recommendations"]  # fmt: skip
    assert len(recs) == 2 and all(r["product"].startswith("T") for r in recs)
    query = """query($ids: [ID!]) { lookalikeAudience(size: 4, profileIds: $ids,
        identifiers: [{type: "email", value: "c3@x.com"}, {type: "email", value: "zz@x.com"}]) {
        members { profile { id } score email } unknownSeeds } }"""
    found = server.query(query, ids=[profile["1"], "p_nope"])["data"]["lookalikeAudience"]
    assert len(found["members"]) == 4
    assert found["unknownSeeds"] == [
        "profileIds[1]: no profile 'p_nope'",
        "identifiers[1]: no profile holds email 'zz@x.com'",
    ]
    missing = server.query('{ similarProfiles(id: "p_nope") { score } }')
    assert "no profile 'p_nope'" in missing["errors"][0]["message"]
    quiet = profile["C5"]  # a CRM record of the example, no events: an empty or explained answer, no crash
    none = server.query("query($id: ID!) { profile(id: $id) { recommendations { product } } }", id=quiet)
    assert none["data"]["profile"]["recommendations"] == []
    unknown = server.query("query($id: ID!) { similarProfiles(id: $id) { score } }", id=quiet)
    assert "it has no events" in unknown["errors"][0]["message"]
