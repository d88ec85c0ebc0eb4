"""Embeddings on the demo data, on each store: the lookalike of a planted cohort is enriched for it, and
recommendations beat the most-popular baseline on a temporal holdout."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analytics.embedding_quality import lookalike_lift, recommendation_quality
from analytics.embeddings import EmbeddingSettings, current_embeddings, embed_store
from analytics.lookalike import lookalike_scores
from analytics.similarity import SimilarityIndex
from graph.errors import ConfigError
from graph.model import Event, IdentifierLink, SourceRecord
from graph.store import GraphStore
from ingest.config import load_config
from ingest.pipeline import ingest
from ingest.synthetic import generate_dataset
from resolve.runner import resolve
from resolve.settings import ResolveSettings

SETTINGS = EmbeddingSettings(workers=1, seed=3)


@pytest.fixture
def demo(store: GraphStore, tmp_path: Path) -> tuple[GraphStore, Path]:
    data = tmp_path / "data"
    generate_dataset(data, n_records=4000, seed=11)
    ingest(load_config(data / "sources.yaml"), store, tmp_path / "rejects", workers=0)
    resolve(store, ResolveSettings())
    return store, data


def _people_of_profiles(store: GraphStore, data: Path) -> pd.Series:
    truth = pd.read_csv(data / "truth.csv", dtype=str)
    records = truth["source"] + ":" + truth["record_id"]
    profile = records.map(store.assignments().set_index("record")["profile_id"])
    return truth.assign(profile=profile).dropna().groupby("profile")["person_id"].agg(lambda s: s.mode().iloc[0])


def test_the_lookalike_of_a_planted_cohort_is_enriched_for_it(demo: tuple[GraphStore, Path]) -> None:
    store, data = demo
    embeddings = embed_store(store, SETTINGS)
    index = SimilarityIndex(embeddings, "profile")
    tastes = pd.read_csv(data / "people.csv", dtype=str).set_index("person_id")["tastes"]
    person = _people_of_profiles(store, data).reindex(index.ids)
    main_taste = person.map(tastes.str.split("|").str[0])
    rng = np.random.default_rng(0)
    for taste in ("gaming", "pets"):
        cohort = set(main_taste.index[main_taste == taste])
        seeds = rng.choice(sorted(cohort), size=len(cohort) // 4, replace=False).tolist()
        audience = lookalike_scores(index, seeds, len(cohort) - len(seeds))
        assert not set(audience["profile_id"]) & set(seeds)  # seeds are never their own audience
        assert audience["score"].is_monotonic_decreasing
        lift = lookalike_lift(audience["profile_id"].tolist(), cohort, set(index.ids) - set(seeds))
        assert lift > 4, (taste, lift)  # random would be 1


def test_recommendations_beat_most_popular_and_item_knn(demo: tuple[GraphStore, Path]) -> None:
    store, _ = demo
    quality = recommendation_quality(store.profile_events(), SETTINGS)
    ours = quality["node2vec"]["hit_rate@10"]
    assert quality["holdout"]["profiles"] > 50
    assert ours > quality["most_popular"]["hit_rate@10"] and ours > quality["item_knn"]["hit_rate@10"]
    assert quality["node2vec"]["ndcg@10"] > quality["most_popular"]["ndcg@10"]


def test_a_model_goes_stale_when_the_graph_changes(store: GraphStore) -> None:
    def buyer(n: int) -> SourceRecord:
        event = Event("purchase", "2025-01-01T00:00:00Z", {"sku": f"S{n % 3}", "category": "books"})
        return SourceRecord("pos", str(n), [IdentifierLink("email", f"c{n}@x.com")], {}, "2025-01-01", [event])

    store.upsert_records([buyer(n) for n in range(6)])
    resolve(store, ResolveSettings())
    embed_store(store, SETTINGS)
    assert current_embeddings(store, fresh=True)[1] is False
    store.upsert_records([buyer(9)])  # new events: the model no longer covers every profile
    resolve(store, ResolveSettings())
    assert current_embeddings(store)[1] is True  # interactive reads answer, and know
    with pytest.raises(ConfigError, match="stale"):
        current_embeddings(store, fresh=True)
