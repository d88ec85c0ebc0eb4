"""Why two records were not merged: the saved match model's score of the pair, on each real store."""

from __future__ import annotations

import pytest

from graph.model import IdentifierLink, Label, SourceRecord
from graph.store import GraphStore
from resolve.explain import Explanation, explain
from resolve.incremental import saved_model
from resolve.match_settings import MatchSettings
from resolve.runner import resolve
from resolve.settings import ResolveSettings
from tests.resolve.test_matching import _population

ZED = {"first_name": "Zebedee", "last_name": "Quartermaine", "birth_date": "1970-01-01", "postcode": "zz1 1zz"}


def _rec(key: str, id_type: str, value: str, attributes: dict[str, str]) -> SourceRecord:
    source, rid = key.split(":")
    return SourceRecord(source, rid, [IdentifierLink(id_type, value)], attributes, "2025-01-01T00:00:00Z")


def _adds_up(store: GraphStore, found: Explanation) -> None:
    """The reported weight is the prior plus every comparison's weight, and the probability follows from it."""
    score = found.pair_score
    assert score is not None
    model = saved_model(store)
    assert model is not None
    assert score.weight == pytest.approx(model.prior_weight() + sum(c.weight for c in score.comparisons))
    assert score.probability == pytest.approx(1 / (1 + 2**-score.weight))
    assert [c.comparison for c in score.comparisons] == model.names


def test_namesakes_score_below_the_threshold_and_strangers_are_never_compared(store: GraphStore) -> None:
    records, _ = _population(seed=5, people=200)
    store.upsert_records(records)
    resolve(store, ResolveSettings())
    crm = {r.key: r.attributes for r in records if r.source == "crm"}
    namesakes = next((x, y) for x in crm for y in crm if x < y and crm[x]["first_name"] == crm[y]["first_name"]
                     and crm[x]["last_name"] == crm[y]["last_name"] and crm[x]["birth_date"] != crm[y]["birth_date"]
                     and crm[x]["postcode"] != crm[y]["postcode"])  # fmt: skip
    below = explain(store, *namesakes)
    assert not below.same_profile and below.pair_score is not None
    assert below.pair_score.probability < below.pair_score.threshold == 0.95
    assert below.pair_score.blocking_rules == ["first_name & last_name"]
    levels = {c.comparison: c.level for c in below.pair_score.comparisons}
    assert levels["first_name"] == levels["last_name"] == "exact" and levels["birth_date"] != "exact"
    _adds_up(store, below)
    score = below.pair_score
    assert below.summary.endswith(
        f"fuzzy match probability {score.probability:.4f} (weight {score.weight:+.1f}) is below the threshold 0.95"
    )
    strangers = next((x, y) for x in crm for y in crm if all(crm[x][f] != crm[y][f] for f in crm[x]))
    apart = explain(store, *strangers)
    assert apart.pair_score is not None and apart.pair_score.blocking_rules == []
    assert "not scored: the records share no blocking key, so they are never compared" in apart.summary
    _adds_up(store, apart)


def test_a_pair_over_the_threshold_keeps_the_reason_that_cut_it(store: GraphStore) -> None:
    records, _ = _population(seed=3, people=200)
    records += [_rec("crm:n1", "national_id", "AB123456C", ZED), _rec("crm:n2", "national_id", "ZX987654A", ZED)]
    store.upsert_records(records)
    resolve(store, ResolveSettings())
    found = explain(store, "crm:n1", "crm:n2")
    assert not found.same_profile and found.pair_score is not None
    assert found.pair_score.probability >= 0.95
    assert "but the match link was cut: conflicting national_id: AB123456C vs ZX987654A" in found.summary
    _adds_up(store, found)
    [stored] = store.match_links_among(["crm:n1", "crm:n2"]).to_dict("records")
    assert found.pair_score.weight == pytest.approx(stored["weight"], abs=1e-3)  # as the resolve scored it


def test_a_pair_in_blocks_over_the_size_limit_was_never_compared(store: GraphStore) -> None:
    store.upsert_records([_rec("crm:z1", "email", "z1@x.com", ZED), _rec("mkt:z2", "email", "z2@x.com", ZED)])
    resolve(store, ResolveSettings(matching=MatchSettings(max_block_size=1)))
    found = explain(store, "crm:z1", "mkt:z2")
    assert not found.same_profile and found.pair_score is not None and found.pair_score.probability >= 0.95
    assert "they were never compared: every block they share is over the size limit of 1" in found.summary
    assert "first_name & last_name: 2 records" in found.summary


def test_no_score_without_matching_or_a_saved_model(store: GraphStore) -> None:
    store.upsert_records([_rec("crm:z1", "email", "z1@x.com", ZED), _rec("mkt:z2", "email", "z2@x.com", ZED)])
    resolve(store, ResolveSettings(matching=MatchSettings(enabled=False)))
    off = explain(store, "crm:z1", "mkt:z2")
    assert off.pair_score is None and off.summary.endswith("; not scored: fuzzy matching is off")
    store.cypher("forget_runs", f"MATCH (r:{Label.RESOLVE_RUN}) DELETE r")  # now the defaults apply: matching on
    gone = explain(store, "crm:z1", "mkt:z2")
    assert gone.pair_score is None and gone.unscored == "not scored: no match model saved (run `cdp resolve`)"
