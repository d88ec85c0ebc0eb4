"""The review queue (issue 14, item 6): pairs scored nearest the threshold and flagged profiles, queued after
each resolve run; a reviewer's verdict is a stored labelled pair that the next resolve honours (incremental or
full, equally) and full runs learn from; and in a real Chromium on each store, a verdict given on /review
changes the next resolve, and merge acts at once."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from api.jobs import JobContext, run_job_here
from api.keys import create_key
from api.overview import refresh_overview
from api.review import label_pair, review_queue
from graph.errors import InvalidRequest, NotFound
from graph.settings import Settings, StoreSettings
from graph.store import GraphStore
from ingest.config import load_config
from ingest.pipeline import ingest
from ingest.synthetic import generate_dataset
from resolve.incremental import load_model
from resolve.runner import resolve
from resolve.settings import ResolveSettings
from tests.api.conftest import Server, serving
from tests.api.test_console import SCREENSHOTS, _sign_in, _watch
from tests.api.test_graphiql_browser import page  # noqa: F401 - the Chromium page fixture


def _load(store: GraphStore, directory: Path) -> None:
    """3,000 demo records (1,000 people): enough for a trained model and pairs on both sides of the threshold."""
    data = generate_dataset(directory / "data", 3_000, seed=7)
    ingest(load_config(data.config_path), store, directory / "rejects")
    resolve(store, ResolveSettings())
    refresh_overview(store)


def _profiles(store: GraphStore) -> pd.Series:
    return store.assignments().set_index("record")["profile_id"]


def _only_link(store: GraphStore, linked: bool) -> tuple[str, str]:
    """A queued pair the run linked (or not) whose two records nothing else joins: each alone in its profile,
    or (linked) the two of them alone in one."""
    profiles = _profiles(store)
    sizes = profiles.value_counts()
    for p in review_queue(store, 500).pairs:
        a, b = profiles[p.record_a], profiles[p.record_b]
        if p.linked == linked and (a == b and sizes[a] == 2 if linked else sizes[a] == sizes[b] == 1):
            return p.record_a, p.record_b
    raise AssertionError(f"no queued {'linked' if linked else 'unlinked'} pair stands alone")


def _partition(store: GraphStore) -> set[frozenset[str]]:
    profiles = _profiles(store)
    return {frozenset(group.index) for _, group in profiles.groupby(profiles)}


def test_the_queue_holds_pairs_either_side_of_the_threshold_with_their_evidence(
    store: GraphStore, tmp_path: Path
) -> None:
    _load(store, tmp_path)
    queue = review_queue(store, 500)
    summary = json.loads(store.latest_run()["summary"])
    scored = summary["matching"]["near_threshold"]
    assert queue.run_id == summary["run_id"] and queue.threshold == 0.95
    assert {(p.record_a, p.record_b) for p in queue.pairs} == {(p["record_a"], p["record_b"]) for p in scored}
    at = summary["matching"]["weights"]["threshold_weight"]
    linked = [p for p in queue.pairs if p.linked]
    assert linked and all(p.probability >= 0.95 for p in linked)
    assert any(not p.linked for p in queue.pairs) and all(abs(p.weight - at) <= 4.0 for p in queue.pairs)
    distances = [abs(p.weight - at) for p in queue.pairs]
    assert distances == sorted(distances)  # nearest the threshold first
    # the evidence adds up to the pair's weight (the prior is the rest), and the records are shown
    prior = summary["matching"]["model"]["prior"]
    for p in queue.pairs[:20]:
        assert abs(sum(c["weight"] for c in p.evidence) + _log_odds(prior) - p.weight) < 0.01
        assert p.attributes_a and p.attributes_b and p.profile_a and p.profile_b


def _log_odds(p: float) -> float:
    import math

    return math.log2(p / (1 - p))


def test_flagged_profiles_are_those_holding_two_values_of_a_one_per_person_field(
    store: GraphStore, tmp_path: Path
) -> None:
    _load(store, tmp_path)
    records = store.profile_record_attributes()
    birth = pd.DataFrame({"profile_id": records["profile_id"],
                          "value": [json.loads(a).get("birth_date") for a in records["attributes"]]}).dropna()  # fmt: skip
    oracle = {pid for pid, values in birth.groupby("profile_id")["value"] if values.nunique() > 1}
    flagged = {f.profile_id for f in review_queue(store, 500).flagged if f.kind == "birth_date"}
    assert flagged == oracle


def test_a_verdict_is_honoured_by_the_next_resolve_incremental_or_full(store: GraphStore, tmp_path: Path) -> None:
    _load(store, tmp_path)
    apart_a, apart_b = _only_link(store, linked=True)
    join_a, join_b = _only_link(store, linked=False)
    label_pair(store, apart_a, apart_b, False, "reviewer")
    label_pair(store, join_b, join_a, True, "reviewer")  # either way round
    assert store.changed_records() == []  # no record changed: an incremental run still looks at these
    incremental = resolve(store, ResolveSettings(), incremental=True)
    assert incremental.incremental and incremental.matching["verdicts"] == {"linked": 1, "kept_apart": 1}
    profiles = _profiles(store)
    assert profiles[apart_a] != profiles[apart_b] and profiles[join_a] == profiles[join_b]
    after_incremental = _partition(store)

    same_model = resolve(store, ResolveSettings(), model=load_model(store, ResolveSettings()))
    assert not same_model.incremental and same_model.matching["verdicts"] == {"linked": 1, "kept_apart": 1}
    assert _partition(store) == after_incremental  # incremental equals a full recompute with the same model
    full = resolve(store, ResolveSettings())  # estimates its model: learns from the verdicts too
    assert not full.incremental and full.matching["labels"]["pairs"] == 2
    assert full.matching["verdicts"] == {"linked": 1, "kept_apart": 1}
    profiles = _profiles(store)
    assert profiles[apart_a] != profiles[apart_b] and profiles[join_a] == profiles[join_b]
    refresh_overview(store)
    queued = {(p.record_a, p.record_b) for p in review_queue(store, 500).pairs}
    assert (min(apart_a, apart_b), max(apart_a, apart_b)) not in queued  # decided: off the queue
    decided = {p.record_a for p in review_queue(store, 500, include_labelled=True).pairs if p.verdict is not None}
    assert decided and decided <= {apart_a, apart_b, join_a, join_b}

    label_pair(store, apart_a, apart_b, True, "reviewer")  # changed their mind: the later verdict replaces it
    labels = store.pair_labels()
    assert len(labels) == 2 and labels["match"].astype(bool).all()
    resolve(store, ResolveSettings(), incremental=True)
    assert _profiles(store)[apart_a] == _profiles(store)[apart_b]


def test_a_verdict_names_two_records_of_the_store(store: GraphStore, tmp_path: Path) -> None:
    _load(store, tmp_path)
    with pytest.raises(NotFound, match="no record 'crm:nope'"):
        label_pair(store, "crm:CRM00000001", "crm:nope", True, "reviewer")
    with pytest.raises(InvalidRequest, match="two different records"):
        label_pair(store, "crm:CRM00000001", "crm:CRM00000001", True, "reviewer")
    assert store.pair_labels().empty


@pytest.fixture
def review_server(store: GraphStore, store_settings: StoreSettings, tmp_path: Path) -> Iterator[Server]:
    _load(store, tmp_path)
    with serving(store, store_settings, create_key(store, "tests", "admin")) as running:
        yield running


REVIEW = """{ reviewQueue(first: 100) { pairs { recordA recordB linked profileA profileB } flagged { profileId } } }"""


@pytest.mark.parametrize("store_kind", ["embedded", "neo4j"])
def test_a_verdict_on_the_review_page_changes_the_next_resolve(
    page: Any,  # noqa: F811
    review_server: Server,
    store_settings: StoreSettings,
    store_kind: str,
) -> None:
    server, store = review_server, review_server.store
    elsewhere, errors = _watch(page)
    page.set_viewport_size({"width": 1400, "height": 900})
    _sign_in(page, server, server.key)
    page.goto(f"{server.url}/review")
    page.wait_for_selector("body[data-ready=true][data-page=review]")
    expected = server.query(REVIEW)["data"]["reviewQueue"]
    shown = {m: int(page.get_attribute(f'[data-metric="{m}"]', "data-value")) for m in ("pairs", "linked", "flagged")}
    assert shown == {"pairs": len(expected["pairs"]), "linked": sum(p["linked"] for p in expected["pairs"]),
                     "flagged": len(expected["flagged"])}  # fmt: skip
    assert page.locator("#pairs tbody tr").count() == len(expected["pairs"]) > 0
    page.screenshot(path=str(SCREENSHOTS / f"review-{store_kind}.png"))

    a, b = _only_link(store, linked=True)
    row = page.locator(f'#pairs tr[data-pair="{a}|{b}"]')
    row.locator("button[data-action=explain]").click()
    page.wait_for_function(f"() => document.querySelector('tr[data-pair=\"{a}|{b}\"] .explained').textContent")
    assert "same profile" in row.locator(".explained").inner_text()
    row.locator("button[data-action=not-match]").click()
    page.wait_for_selector(f'#pairs tr[data-pair="{a}|{b}"][data-verdict=not-match]')
    assert page.get_attribute('[data-metric="decided"]', "data-value") == "1"
    assert store.pair_labels()[["record_a", "record_b", "match"]].values.tolist() == [[a, b, False]]
    assert _profiles(store)[a] == _profiles(store)[b]  # a verdict waits for the next resolve

    # `cdp resolve`: the job the CLI runs (incremental by default), here on the server's store
    context = JobContext(store, Settings(**store_settings.model_dump()), lambda *_: None, lambda _: None)
    run_job_here(context, "resolve", {"settings": ResolveSettings().to_json(), "dry_run": False, "full": False,
                                      "labels": None})  # fmt: skip
    assert _profiles(store)[a] != _profiles(store)[b]
    page.reload()
    page.wait_for_selector("body[data-ready=true][data-page=review]")
    assert page.locator(f'#pairs tr[data-pair="{a}|{b}"]').count() == 0  # decided: off the queue

    c, d = _only_link(store, linked=False)
    page.locator(f'#pairs tr[data-pair="{c}|{d}"] button[data-action=merge]').click()
    page.wait_for_selector(f'#pairs tr[data-pair="{c}|{d}"][data-verdict=merge]')
    assert _profiles(store)[c] == _profiles(store)[d]  # a merge acts at once
    assert elsewhere == [] and errors == []


def test_search_by_name_finds_the_profiles_a_plain_scan_finds(store: GraphStore, tmp_path: Path) -> None:
    from api.name_search import profiles_by_name
    from api.pii import pii_kind
    from ingest.normalise import name_key

    _load(store, tmp_path)
    records = store.profile_record_attributes()
    names = [{w for k, v in json.loads(a).items() if pii_kind(k) == "name" for w in name_key(str(v)).split()}
             for a in records["attributes"]]  # fmt: skip
    people = sorted({" ".join(sorted(n)) for n in names if len(n) == 2})[::37][:12]
    assert len(people) >= 10
    for person in people:
        words = set(person.split())
        held = records["profile_id"][[words <= n for n in names]]
        oracle = held.value_counts()
        expected = sorted(oracle.index, key=lambda pid: (-oracle[pid], pid))[:20]
        typed = ", ".join(w.upper() for w in reversed(person.split()))  # "SMITH, ANN"
        assert profiles_by_name(store, typed, 20) == expected, person
    assert profiles_by_name(store, "Zz Nobody", 20) == [] and profiles_by_name(store, " ,", 20) == []
