"""A resolve does not depend on the order the store returns rows in: the match model EM estimates and the
profiles it forms are the same whatever order records, identifier links and attributes arrive in."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from graph.store import GraphStore
from ingest.config import load_config
from ingest.pipeline import ingest
from ingest.synthetic import generate_dataset
from resolve.incremental import load_model
from resolve.runner import resolve
from resolve.settings import ResolveSettings


def _partition(store: GraphStore) -> set[frozenset[str]]:
    groups = store.assignments().groupby("profile_id")["record"].agg(frozenset)
    return set(groups)


def _shuffled(read: object, seed: int) -> object:
    def shuffled_read(*args: object, **kwargs: object) -> pd.DataFrame:
        return read(*args, **kwargs).sample(frac=1, random_state=seed).reset_index(drop=True)  # type: ignore[operator]

    return shuffled_read


@pytest.mark.parametrize("seed", [1, 2])
def test_resolve_is_the_same_whatever_order_the_store_reads_in(store: GraphStore, tmp_path: Path, seed: int) -> None:
    data = generate_dataset(tmp_path / "data", n_records=1500, seed=3)
    ingest(load_config(data.config_path), store, tmp_path / "rejects")
    settings = ResolveSettings()
    resolve(store, settings)
    expected, model = _partition(store), load_model(store, settings)
    assert model is not None and model.trained["candidate_pairs"] > 0  # EM ran on fuzzy candidates
    for read in ("record_keys", "record_links", "record_attributes"):
        setattr(store, read, _shuffled(getattr(store, read), seed))
    resolve(store, settings)  # a full run again: the model is estimated anew, from rows in another order
    again = load_model(store, settings)
    assert again is not None and again.trained == model.trained
    for before, after in zip(model.m + model.u, again.m + again.u, strict=True):
        np.testing.assert_allclose(after, before, rtol=1e-9)
    assert again.prior == pytest.approx(model.prior, rel=1e-9)
    assert _partition(store) == expected


def test_the_customer_graph_is_the_same_whatever_order_the_store_reads_in(
    store: GraphStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Node numbers, and so a seeded embedding's vectors, follow from the order of the graph's nodes."""
    from analytics.customer_graph import read_customer_graph

    data = generate_dataset(tmp_path / "data", n_records=600, seed=4)
    ingest(load_config(data.config_path), store, tmp_path / "rejects")
    resolve(store, ResolveSettings())
    expected = read_customer_graph(store)
    monkeypatch.setattr(store, "profile_events", _shuffled(store.profile_events, 5))
    again = read_customer_graph(store)
    assert list(again.keys) == list(expected.keys) and np.array_equal(again.edges, expected.edges)
