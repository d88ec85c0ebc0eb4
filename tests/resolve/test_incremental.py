"""Incremental resolve equals a full recompute: on seeded random batches, after each incremental run a
full run with the same match model would change nothing (no record moves, no merge, no split)."""

from __future__ import annotations

import numpy as np
import pytest

from graph.model import IdentifierLink, SourceRecord
from graph.store import GraphStore
from resolve.incremental import load_model
from resolve.match_settings import MatchSettings
from resolve.runner import resolve
from resolve.settings import ResolveSettings

FIRST = ["ann", "bob", "cara", "dev", "eve", "finn", "gus", "hana", "ivan", "jo", "kit", "lea"]
LAST = ["moss", "nash", "owen", "pike", "quin", "reid", "shaw", "tate", "upton", "vale", "wren", "york"]


def _settings() -> ResolveSettings:
    # tight caps, a national id limit and small blocks, so new records flip statuses, cut profiles and
    # push blocks over the size limit
    return ResolveSettings(
        max_records_per_identifier={"email": 4, "phone": 4, "national_id": 10},
        matching=MatchSettings(
            # postcode blocks hold about 12 records at first: new records push some over the limit
            blocking=[
                ["last_name", "birth_date"],
                ["first_name", "birth_date"],
                ["postcode"],
                ["first_name", "last_name"],
            ],
            max_block_size=14,
            min_training_pairs=20,
        ),
    )


def _batch(rng: np.random.Generator, start: int, n: int, people: int) -> list[SourceRecord]:
    out = []
    for k in range(start, start + n):
        p = int(rng.integers(people))
        ids = []
        if rng.random() < 0.5:
            ids.append(IdentifierLink("email", f"p{p}@x.com" if rng.random() < 0.85 else f"fam{p % 7}@x.com"))
        if rng.random() < 0.3:
            ids.append(IdentifierLink("phone", f"+4479{p % 40:08d}"))
        if rng.random() < 0.15:
            ids.append(IdentifierLink("national_id", f"N{p if rng.random() < 0.9 else p + 1}"))
        last = LAST[p % len(LAST)]
        if rng.random() < 0.2:
            last = last[:-1] + "x"
        attributes = {"first_name": FIRST[(p // 12) % len(FIRST)], "last_name": last}
        if rng.random() < 0.6:
            attributes["birth_date"] = f"19{50 + p % 40}-0{1 + p % 9}-1{p % 10}"
        if rng.random() < 0.6:
            attributes["postcode"] = f"ab{p % 15} 1cd"
        out.append(SourceRecord("src", f"r{k}", ids, attributes, "2025-01-01T00:00:00Z"))
    return out


def _partition(store: GraphStore) -> set[frozenset[str]]:
    assigned = store.assignments()
    return {frozenset(group) for _, group in assigned.groupby("profile_id")["record"]}


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_incremental_resolve_equals_a_full_recompute(store: GraphStore, seed: int) -> None:
    rng = np.random.default_rng(seed)
    settings = _settings()
    store.upsert_records(_batch(rng, 0, 300, people=150))
    first = resolve(store, settings)
    assert not first.incremental
    model = load_model(store, settings)
    assert model is not None
    start = 300
    for size in (1, 25, 60):
        store.upsert_records(_batch(rng, start, size, people=170))
        start += size
        step = resolve(store, settings, incremental=True)
        assert step.incremental and step.records == start
        assert 0 < step.resolved_records < start  # only a part was resolved again
        assert store.assignments()["record"].nunique() == start
        full = resolve(store, settings, model=model, dry_run=True)
        assert not full.incremental
        changes = full.changes
        assert (changes.moved_records, changes.merges, changes.splits) == (0, 0, 0), (size, changes)
    before = _partition(store)
    resolve(store, settings, model=model)  # a real full run with the model: the same profiles
    assert _partition(store) == before


def test_changed_records_or_new_settings_fall_back_to_a_full_run(store: GraphStore) -> None:
    rng = np.random.default_rng(5)
    settings = _settings()
    records = _batch(rng, 0, 120, people=60)
    store.upsert_records(records)
    resolve(store, settings)
    changed = records[0]
    changed.attributes = {**changed.attributes, "last_name": "changed"}
    store.upsert_records([changed])
    assert not resolve(store, settings, incremental=True).incremental  # the record's old blocks are unknown
    store.upsert_records(_batch(rng, 120, 5, people=60))
    assert resolve(store, settings, incremental=True).incremental
    other = settings.model_copy(update={"max_profile_size": 500})
    assert not resolve(store, other, incremental=True).incremental  # no model for these settings


def test_a_block_pushed_over_the_size_limit_is_resolved_again(store: GraphStore) -> None:
    settings = ResolveSettings(matching=MatchSettings(blocking=[["postcode"]], max_block_size=3))

    def person(rid: str, first: str, last: str) -> SourceRecord:
        attributes = {"first_name": first, "last_name": last, "postcode": "ab1 2cd"}
        return SourceRecord("src", rid, [], attributes, "2025-01-01T00:00:00Z")

    store.upsert_records([person("a1", "Ann", "Moss"), person("a2", "Ann", "Moss"), person("b", "Bob", "Nash")])
    resolve(store, settings)
    assert store.assignments().groupby("profile_id").size().max() == 2  # a1 and a2 matched in their block
    store.upsert_records([person("c", "Cara", "Owen")])  # the block now holds 4: its pairs are skipped
    step = resolve(store, settings, incremental=True)
    assert step.incremental and step.resolved_records == 4
    assert store.assignments()["profile_id"].nunique() == 4  # as a full run would: nothing compares a1 and a2
