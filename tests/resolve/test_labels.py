"""Labelled pairs refine the match model: the formula, a run where EM takes households for people, the
labels file's errors, and ``cdp resolve --labels``."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner, Result

from analytics.quality import pairwise_scores
from api.cli import app
from graph.errors import ConfigError
from graph.model import IdentifierLink, SourceRecord
from graph.store import GraphStore
from resolve.defaults import ATTRIBUTE_COMPARISONS, FALLBACK_BLOCKING
from resolve.fellegi_sunter import MatchModel, refine_with_labels
from resolve.incremental import load_model
from resolve.labels import check_labels, load_labels
from resolve.match_settings import MatchSettings
from resolve.matching import find_matches
from resolve.runner import resolve
from resolve.settings import ResolveSettings
from tests.api.conftest import CRM, POS, SOURCES

FIRST = ["james", "mary", "oliver", "amelia", "harry", "isla", "jack", "ava", "george", "mia", "noah", "emily",
         "leo", "grace", "arthur", "freya", "oscar", "lily", "theo", "ella"]  # fmt: skip
LAST = ["smith", "jones", "taylor", "brown", "wilson", "evans", "thomas", "roberts", "walker", "wright",
        "hughes", "green", "hall", "wood", "clarke", "patel", "khan", "lewis", "young", "king"]  # fmt: skip
STREETS = ["high street", "station road", "church lane", "park avenue", "mill road", "green lane", "manor way"]
SEEN = "2025-01-01T00:00:00Z"


def test_labels_pull_a_wrong_m_toward_the_labelled_frequencies() -> None:
    # EM thought matches disagree on birth date half the time; the labelled matches say 1 in 10
    model = MatchModel(
        ["birth_date", "city"],
        [["missing", "different", "exact"], ["missing", "different", "exact"]],
        m=[np.array([1.0, 0.5, 0.5]), np.array([1.0, 0.1, 0.9])],
        u=[np.array([1.0, 0.99, 0.01]), np.array([1.0, 0.8, 0.2])],
        prior=0.001,
        trained={"random_pairs": 1000},
    )
    birth = [1] + [2] * 9 + [0] * 5 + [2] * 6  # 10 matches with a birth date (1 differs), 5 without; 6 non-matches
    levels = np.array([[b, 2] for b in birth], dtype=np.int8)
    is_match = np.array([True] * 15 + [False] * 6)
    refined = refine_with_labels(model, levels, is_match, strength=4)
    s = 0.01  # the Laplace floor
    birth_total, city_total = 10 + 4 + 2 * s, 15 + 4 + 2 * s  # labelled matches with a value + strength
    assert refined.m[0][1:] == pytest.approx([(1 + 4 * 0.5 + s) / birth_total, (9 + 4 * 0.5 + s) / birth_total])
    assert refined.m[1][1:] == pytest.approx([(0 + 4 * 0.1 + s) / city_total, (15 + 4 * 0.9 + s) / city_total])
    # u: the 6 non-matches against the 1,000 random pairs u came from
    assert refined.u[0][2] == pytest.approx((6 + 1000 * 0.01 + s) / (6 + 1000 + 2 * s))
    assert refined.m[0][0] == refined.u[0][0] == 1.0 and refined.m[0][1:].sum() == pytest.approx(1.0)
    assert refined.prior == model.prior and refined.trained["labelled_matches"] == 15
    assert model.m[0][1] == 0.5  # the model given is left as it was
    unseen = refine_with_labels(model, levels[:1], np.array([True]), strength=0)
    assert unseen.m[1][1] > 0  # no labelled pair was "different": the Laplace floor keeps it above 0


def _households(seed: int, n_households: int) -> tuple[list[SourceRecord], pd.Series]:
    """Families sharing a surname and an address, each person in the CRM and in marketing (a fifth with a
    surname typo, some with a first-name typo or no birth date); no identifier in common."""
    rng = np.random.default_rng(seed)
    records: list[SourceRecord] = []
    truth: dict[str, str] = {}
    for _ in range(n_households):
        home = {"last_name": LAST[rng.integers(len(LAST))], "city": ["leeds", "york", "hull", "bath"][rng.integers(4)],
                "postcode": f"ab{1 + rng.integers(40)} {rng.integers(10)}{'cdefg'[rng.integers(5)]}{'hjkl'[rng.integers(4)]}",
                "street": f"{1 + rng.integers(200)} {STREETS[rng.integers(len(STREETS))]}"}  # fmt: skip
        for first in rng.choice(FIRST, 1 + rng.integers(4), replace=False):
            p = len(truth) // 2
            crm = {**home, "first_name": str(first), "birth_date": f"{1950 + rng.integers(60)}-0{1 + rng.integers(9)}-1{rng.integers(10)}"}  # fmt: skip
            mkt = {
                **crm,
                "last_name": _typo(rng, crm["last_name"], 0.2),
                "first_name": _typo(rng, crm["first_name"], 0.15),
            }
            if rng.random() < 0.1:
                del mkt["birth_date"]
            records += [SourceRecord("crm", f"c{p}", [IdentifierLink("crm_id", f"C{p}")], crm, SEEN),
                        SourceRecord("mkt", f"m{p}", [IdentifierLink("email", f"p{p}@x.com")], mkt, SEEN)]  # fmt: skip
            truth[f"crm:c{p}"] = truth[f"mkt:m{p}"] = str(p)
    return records, pd.Series(truth)


def _typo(rng: np.random.Generator, word: str, chance: float) -> str:
    if rng.random() >= chance:
        return word
    i = int(rng.integers(1, len(word)))
    return word[:i] + ("x" if word[i] != "x" else "y") + word[i + 1 :]


def test_labels_stop_em_taking_households_for_people(store: GraphStore) -> None:
    records, truth = _households(seed=1, n_households=300)
    store.upsert_records(records)
    # a rule on surname and postcode finds people whose first name has a typo, and their families too: EM
    # on its pairs takes "same household" for "same person" (m of a different first name or birth date ~0.57)
    # (the comparisons and rules fixed, and the conflict checks off, so this is about what labels do to EM)
    compared = [
        ATTRIBUTE_COMPARISONS[n] for n in ("first_name", "last_name", "birth_date", "postcode", "street", "city")
    ]
    settings = ResolveSettings(matching=MatchSettings(
        comparisons=compared, blocking=[*FALLBACK_BLOCKING, ["last_name", "postcode"]], conflict_weight=None,
        household_conflict_weight=None))  # fmt: skip
    resolve(store, settings)
    before = pairwise_scores(store.assignments().set_index("record")["profile_id"], truth)
    links = store.match_links().sort_values(["record_a", "record_b"])
    reviewed = links.sample(400, random_state=0)  # someone reviews 400 of the links made
    labels = reviewed.assign(match=(truth[reviewed["record_a"]].to_numpy() == truth[reviewed["record_b"]].to_numpy()))
    summary = resolve(store, settings, labels=labels, incremental=True)
    after = pairwise_scores(store.assignments().set_index("record")["profile_id"], truth)
    # which links the first run makes can vary a little with the order a store returns rows (EM samples
    # its training pairs in that order), so the reviewed sample is counted rather than hard-coded
    matches = int(labels["match"].sum())
    used = summary.matching["labels"]
    assert (used["pairs"], used["matches"], used["non_matches"]) == (400, matches, 400 - matches)
    assert 60 <= matches <= 120
    counted = used["per_comparison"]
    assert all(counted[name] == 400 for name in ("first_name", "last_name", "postcode", "street", "city"))
    assert 320 <= counted["birth_date"] < 400  # some records have no birth date
    assert not summary.incremental  # labels refine a model this run estimates
    # F1 0.33 -> 0.66: the refined m (a different first name: 0.57 -> 0.03) leaves most families apart;
    # the rest stay chained through fuzzy links, which the conflict check does not cut between records that
    # share no identifier (FEBRL's garbled duplicates of one person disagree with each other the same way)
    assert before.precision < 0.25 and after.precision > 0.45
    assert before.recall > 0.95 and after.recall > 0.95
    assert before.f1 < 0.35 and after.f1 > 0.6
    saved = load_model(store, settings)  # the refined model is the one incremental runs reuse
    assert saved is not None and saved.trained["labelled_matches"] == matches


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_the_labels_file_errors_name_the_line_and_field(tmp_path: Path) -> None:
    good = load_labels(_write(tmp_path / "ok.csv", "record_a,record_b,match\ncrm:1, crm:2 ,1\n\ncrm:3,crm:4,FALSE\n"))
    assert good.to_dict("list") == {
        "record_a": ["crm:1", "crm:3"],
        "record_b": ["crm:2", "crm:4"],
        "match": [True, False],
    }
    assert good.index.tolist() == [0, 2]  # line 2 and line 4 (the blank line 3 is skipped)
    cases = {
        "record_a,match\ncrm:1,1\n": "lacks column(s) record_b",
        "record_a,record_b,match\ncrm:1,crm:2,1\ncrm:1,crm:3,maybe\n": "line 3, field match: is 'maybe', not 1/0 or true/false",
        "record_a,record_b,match\ncrm:1,,1\n": "line 2, field record_b: is empty",
        "record_a,record_b,match\ncrm:1,crm:1,1\n": "line 2: record_a and record_b are the same record",
        "record_a,record_b,match\n": "has no labelled pairs",
        "record_a,record_b,match\ncrm:1,crm:2,1\ncrm:3,crm:4,0\ncrm:2,crm:1,0\ncrm:3,crm:4,false\n":
            "2 pair(s) labelled more than once: crm:1 / crm:2 on lines 2, 4 (a match and a non-match); "
            "crm:3 / crm:4 on lines 3, 5",
    }  # fmt: skip
    for number, (text, message) in enumerate(cases.items()):
        path = _write(tmp_path / f"{number}.csv", text)
        with pytest.raises(ConfigError, match=f"labels file {re.escape(str(path))}.*{re.escape(message)}"):
            load_labels(path)
    with pytest.raises(ConfigError, match="cannot read the labels file"):
        load_labels(tmp_path / "absent.csv")


def test_unknown_records_are_listed_and_labels_need_an_estimated_model() -> None:
    attributes = pd.DataFrame({"record": [f"crm:{i}" for i in range(4)],
                               "attributes": [json.dumps({"first_name": "ann", "last_name": "lee"})] * 4})  # fmt: skip
    components = pd.Series(range(4), index=attributes["record"])
    rows = [("crm:0", "crm:1", 1), ("crm:9", "crm:2", 0)] + [(f"web:{i}", "crm:0", 0) for i in range(6)]
    labels = check_labels(pd.DataFrame(rows, columns=["record_a", "record_b", "match"]))
    with pytest.raises(ConfigError, match=r"labels name 7 record\(s\) not in the store: line 3 record_a 'crm:9', "
                       r"line 4 record_a 'web:0', .*line 7 record_a 'web:3', \.\.\. \(records are SOURCE:ID"):  # fmt: skip
        find_matches(attributes, components, MatchSettings(), labels=labels)
    known = labels.iloc[:1]
    result = find_matches(attributes, components, MatchSettings(), labels=known)
    assert result.labels["pairs"] == 1 and result.model is not None and result.model.trained["labelled_matches"] == 1
    with pytest.raises(ConfigError, match="run without a given"):
        find_matches(attributes, components, MatchSettings(), model=result.model, labels=known)
    with pytest.raises(ConfigError, match="matching is turned off"):
        find_matches(attributes, components, MatchSettings(enabled=False), labels=known)


def test_cdp_resolve_with_labels(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CDP_STORE", "embedded")
    for name, text in (("sources.yaml", SOURCES), ("crm.csv", CRM), ("pos.csv", POS)):
        _write(tmp_path / name, text)
    runner = CliRunner()

    def cdp(*args: str) -> Result:
        return runner.invoke(app, [*args, "--data-dir", str(tmp_path / "cdp")])

    assert cdp("ingest", str(tmp_path / "sources.yaml")).exit_code == 0
    labels = _write(tmp_path / "labels.csv", "record_a,record_b,match\ncrm:C1,crm:C2,1\ncrm:C4,crm:C5,0\n")
    result = cdp("resolve", "--labels", str(labels))
    assert result.exit_code == 0, result.output
    assert "match model refined with 2 labelled pairs (matches: 1, non-matches: 1)" in result.output
    bad = _write(tmp_path / "bad.csv", "record_a,record_b,match\ncrm:C1,crm:C2,yes\n")
    failed = cdp("resolve", "--labels", str(bad))
    assert failed.exit_code == 1 and "line 2, field match: is 'yes'" in failed.output
    unknown = _write(tmp_path / "unknown.csv", "record_a,record_b,match\ncrm:C1,crm:C99,1\n")
    failed = cdp("resolve", "--labels", str(unknown))
    assert failed.exit_code == 1 and "line 2 record_b 'crm:C99'" in failed.output
