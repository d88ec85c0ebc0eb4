"""Weighted matching: comparisons, blocking (against brute force), the EM estimate (against known m and u),
and fuzzy matches resolved, limited and explained on each real store."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from analytics.quality import pairwise_scores
from graph.errors import ConfigError
from graph.model import IdentifierLink, SourceRecord
from graph.store import GraphStore
from resolve.blocking import blocking_completeness, candidate_pairs
from resolve.comparisons import Comparison
from resolve.defaults import complete_settings
from resolve.explain import explain
from resolve.fellegi_sunter import MatchModel, estimate_m
from resolve.fields import record_fields
from resolve.match_settings import MatchSettings
from resolve.matching import find_matches
from resolve.runner import resolve
from resolve.settings import ResolveSettings, load_resolve_settings

FIRST = ["james", "mary", "oliver", "amelia", "harry", "isla", "jack", "ava", "george", "mia", "noah", "emily"]
LAST = ["smith", "jones", "taylor", "brown", "wilson", "evans", "thomas", "roberts", "walker", "wright",
        "hughes", "green", "hall", "wood", "clarke"]  # fmt: skip


def _levels(comparison: Comparison, left: list[str | None], right: list[str | None]) -> list[int]:
    return comparison.levels(np.array(left, dtype=object), np.array(right, dtype=object)).tolist()


def test_comparison_levels_rank_closeness() -> None:
    jw = Comparison(name="last_name", kind="jaro_winkler", thresholds=[0.8, 0.92])
    assert _levels(jw, ["smith", "smith", "smith", "smith", None, "smith"],
                   ["smith", "smithe", "smyth", "jones", "x", ""]) == [4, 3, 2, 1, 0, 0]  # fmt: skip
    lev = Comparison(name="ssn", kind="levenshtein", thresholds=[2, 1])
    assert lev.labels() == ["missing", "different", "levenshtein <= 2", "levenshtein <= 1", "exact"]
    assert _levels(lev, ["1234567", "1234567", "1234567", "1234567"], ["1234567", "1234568", "1234599", "9999999"]) \
        == [4, 3, 2, 1]  # fmt: skip
    date = Comparison(name="birth_date", kind="date")
    assert _levels(date, ["1985-03-12", "1985-03-12", "1985-03-12", "1985-03-12", "1985-03-12"],
                   ["1985-03-12", "1985-12-03", "1985-03-21", "1986-07-01", "1990-03-12"]) == [4, 3, 3, 2, 1]  # fmt: skip
    postcode = Comparison(name="postcode", kind="postcode")
    assert _levels(postcode, ["sw1a 1aa", "sw1a 1aa", "sw1a 1aa"], ["sw1a 1ab", "sw1 9zz", "m1 1aa"]) == [3, 2, 1]


def test_unknown_comparisons_and_fields_are_errors_naming_them(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="kind"):
        MatchSettings.model_validate({"comparisons": [{"name": "x", "kind": "soundex"}]})
    with pytest.raises(ValidationError, match="blocking rule 2 names unknown field 'shoe_size'"):
        MatchSettings(comparisons=[Comparison(name="last_name", kind="exact")], blocking=[["last_name"], ["shoe_size"]])
    # comparisons left to the data: the rule is checked against what the data gives, when a run chooses
    named = pd.DataFrame({"record": ["a:1", "a:2"], "attributes": [json.dumps({"last_name": n}) for n in ("Li", "Ng")]})
    with pytest.raises(ConfigError, match="blocking names field 'shoe_size', which no chosen comparison compares"):
        complete_settings(named, None, MatchSettings(blocking=[["last_name"], ["shoe_size"]]))
    path = tmp_path / "s.yaml"
    path.write_text("matching:\n  comparisons:\n    - {name: nick, kind: exact, colour: red}\n")
    with pytest.raises(ConfigError, match="unknown setting: 'matching.comparisons.0.colour'"):
        load_resolve_settings(path)
    chosen = MatchSettings(comparisons=[Comparison(name="nickname", kind="exact")], blocking=[["nickname"]])
    attributes = pd.DataFrame({"record": ["a:1"], "attributes": [json.dumps({"first_name": "Ann"})]})
    with pytest.raises(ConfigError, match="comparison 'nickname' names field 'nickname', which no record has"):
        find_matches(attributes, pd.Series([0], index=["a:1"]), chosen)


@pytest.mark.parametrize("seed", range(5))
def test_blocking_equals_brute_force(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 60
    fields = pd.DataFrame({
        "a": rng.choice(["x", "y", "z", None], n), "b": rng.choice(["1", "2", "3", "4", "5", None], n),
        "c": rng.choice([str(i) for i in range(12)], n)})  # fmt: skip
    rules = [["a", "b"], ["c"]]
    limit = 6
    pairs, report = candidate_pairs(fields, rules, max_block_size=limit)
    expected = set()
    for rule in rules:
        keys = fields[rule].apply(lambda row: None if row.isna().any() else tuple(row), axis=1)
        sizes = keys.value_counts()
        for i, j in itertools.combinations(range(n), 2):
            if keys[i] is not None and keys[i] == keys[j] and sizes[keys[i]] <= limit:
                expected.add((i, j))
    assert {tuple(p) for p in pairs.tolist()} == expected
    assert report.pairs == len(expected)
    truth = rng.integers(0, 15, n)
    true_pairs = [(i, j) for i, j in itertools.combinations(range(n), 2) if truth[i] == truth[j]]
    reached = sum((i, j) in expected for i, j in true_pairs)
    assert blocking_completeness(pairs, truth) == pytest.approx(reached / len(true_pairs))


def test_em_recovers_known_m_from_unlabelled_pairs() -> None:
    rng = np.random.default_rng(3)
    true_m = [np.array([1, 0.05, 0.15, 0.8]), np.array([1, 0.1, 0.9]), np.array([1, 0.2, 0.8])]
    true_u = [np.array([1, 0.9, 0.08, 0.02]), np.array([1, 0.7, 0.3]), np.array([1, 0.95, 0.05])]
    n, share = 40_000, 0.3
    match = rng.random(n) < share
    levels = np.zeros((n, 3), dtype=np.int8)
    for c in range(3):
        for is_match, table in ((True, true_m[c]), (False, true_u[c])):
            rows = np.flatnonzero(match == is_match)
            levels[rows, c] = rng.choice(np.arange(1, len(table)), len(rows), p=table[1:])
    start = MatchModel(["a", "b", "c"], [["m", "d", "f", "e"], ["m", "d", "e"], ["m", "d", "e"]],
                       [np.array([1, 0.3, 0.3, 0.4]), np.array([1, 0.5, 0.5]), np.array([1, 0.5, 0.5])],
                       true_u, prior=0.5)  # fmt: skip
    m, prior = estimate_m(levels, start, skip=set(), iterations=60)
    assert prior == pytest.approx(share, abs=0.02)
    for c in range(3):
        assert m[c][1:] == pytest.approx(true_m[c][1:], abs=0.03)


def _population(seed: int, people: int) -> tuple[list[SourceRecord], dict[str, str]]:
    """Each person in the CRM once and in marketing, a third with a surname typo and a tenth having moved;
    no identifier in common."""
    rng = np.random.default_rng(seed)
    records, truth = [], {}
    for p in range(people):
        first, last = FIRST[rng.integers(len(FIRST))], LAST[rng.integers(len(LAST))]
        born = f"{1950 + rng.integers(50)}-{1 + rng.integers(12):02d}-{1 + rng.integers(28):02d}"
        postcode = f"ab{1 + rng.integers(30)} {rng.integers(10)}cd"
        crm = {"first_name": first.title(), "last_name": last.title(), "birth_date": born, "postcode": postcode}
        typo = last[:-1] + ("x" if last[-1] != "x" else "y") if rng.random() < 0.33 else last
        moved = f"ab{1 + rng.integers(30)} {rng.integers(10)}cd" if rng.random() < 0.1 else postcode
        mkt = {"first_name": first.title(), "last_name": typo.title(), "birth_date": born, "postcode": moved}
        records.append(SourceRecord("crm", f"c{p}", [IdentifierLink("crm_id", f"C{p}")], crm, "2025-01-01T00:00:00Z"))
        records.append(SourceRecord("mkt", f"m{p}", [IdentifierLink("email", f"p{p}@x.com")], mkt,
                                    "2025-01-01T00:00:00Z"))  # fmt: skip
        truth[f"crm:c{p}"] = truth[f"mkt:m{p}"] = str(p)
    return records, truth


def test_fuzzy_matching_resolves_people_with_no_shared_identifier(store: GraphStore) -> None:
    records, truth = _population(seed=1, people=300)
    store.upsert_records(records)
    summary = resolve(store, ResolveSettings())
    assigned = store.assignments().set_index("record")["profile_id"]
    scores = pairwise_scores(assigned, pd.Series(truth))
    # 12 first names and 15 surnames for 300 people: names say little, birth date and postcode the rest
    assert scores.precision >= 0.97 and scores.recall >= 0.9
    assert summary.matching["match_links"] >= 270
    model = summary.matching["model"]
    assert isinstance(model, dict) and model["trained"]["records"] == 600
    off = resolve(store, ResolveSettings(matching=MatchSettings(enabled=False)))
    assert off.profiles == 600  # without matching nothing links them


def test_a_fuzzy_hop_is_explained_with_levels_and_weights(store: GraphStore) -> None:
    records, _ = _population(seed=2, people=200)
    store.upsert_records(records)
    resolve(store, ResolveSettings())
    by_key = {r.key: r.attributes for r in records}
    typo = next(p for p in range(200) if by_key[f"crm:c{p}"]["last_name"] != by_key[f"mkt:m{p}"]["last_name"]
                and by_key[f"crm:c{p}"]["postcode"] == by_key[f"mkt:m{p}"]["postcode"])  # fmt: skip
    found = explain(store, f"crm:c{typo}", f"mkt:m{typo}")
    assert found.same_profile
    [hop] = found.hops
    assert hop.kind == "fuzzy_match" and float(hop.identifier_value) >= 0.95
    levels = {c.comparison: c.level for c in hop.comparisons}
    assert levels["first_name"] == "exact" and levels["birth_date"] == "exact"
    assert levels["last_name"].startswith("jaro_winkler")
    prior = hop.weight - sum(c.weight for c in hop.comparisons)
    assert prior < 0  # the population prior: any two records are unlikely to match
    assert "fuzzy match" in found.summary


def test_a_fuzzy_chain_between_two_national_ids_is_cut_and_reported(store: GraphStore) -> None:
    records, _ = _population(seed=3, people=200)
    a = {"first_name": "Zebedee", "last_name": "Quartermaine", "birth_date": "1970-01-01", "postcode": "zz1 1zz"}
    records += [
        SourceRecord("crm", "n1", [IdentifierLink("national_id", "AB123456C")], a, "2025-01-01T00:00:00Z"),
        SourceRecord("crm", "n2", [IdentifierLink("national_id", "ZX987654A")], a, "2025-01-01T00:00:00Z"),
    ]
    store.upsert_records(records)
    summary = resolve(store, ResolveSettings())
    assigned = store.assignments().set_index("record")["profile_id"]
    assert assigned["crm:n1"] != assigned["crm:n2"]
    assert any(r["identifier"].startswith("match:") and "national_id" in r["reason"]
               for r in summary.rejected_examples)  # fmt: skip
    apart = explain(store, "crm:n1", "crm:n2")
    assert not apart.same_profile


def test_record_fields_fall_back_to_the_card_name() -> None:
    attributes = pd.DataFrame({"record": ["pos:1", "crm:1"], "attributes": [
        json.dumps({"full_name": "Ann  Lee-Smith"}), json.dumps({"first_name": "ANN", "last_name": "Lee"})]})  # fmt: skip
    fields = record_fields(attributes, ["first_name", "last_name", "postcode"])
    assert fields.loc["pos:1"].tolist() == ["ann", "lee-smith", None]
    assert fields.loc["crm:1"].tolist() == ["ann", "lee", None]


def test_a_saved_model_scores_exactly_as_the_estimated_one() -> None:
    records, _ = _population(seed=4, people=300)
    attributes = pd.DataFrame({"record": [r.key for r in records],
                               "attributes": [json.dumps(r.attributes) for r in records]})  # fmt: skip
    components = pd.Series(range(len(records)), index=attributes["record"])
    estimated = find_matches(attributes, components, MatchSettings())
    assert estimated.model is not None and estimated.model.tf
    reloaded = MatchModel.from_dict(json.loads(json.dumps(estimated.model.to_dict())))
    again = find_matches(attributes, components, MatchSettings(), model=reloaded)
    pd.testing.assert_frame_equal(again.edges, estimated.edges)


def test_em_on_a_block_of_namesakes_ignores_an_email_built_from_the_name() -> None:
    """Namesakes (two James Smiths) share ``james.smith`` at different domains. On the first-and-last-name
    block, that local part is implied by the block's names: EM must not take it as evidence and learn that a
    person's duplicates often disagree on birth date (that let a family sharing an address merge at 1M)."""
    from resolve.matching import block

    rng = np.random.default_rng(3)
    rows, held, person = [], [], {}
    for p in range(400):
        first, last = FIRST[rng.integers(len(FIRST))], LAST[rng.integers(len(LAST))]
        born = f"{rng.integers(1940, 2005)}-{rng.integers(1, 13):02d}-{rng.integers(1, 29):02d}"
        for copy in range(2):
            key = f"crm:{p}-{copy}"
            person[key] = p
            rows.append(
                {"record": key, "attributes": json.dumps({"first_name": first, "last_name": last, "birth_date": born})}
            )
            held.append(
                {
                    "record": key,
                    "identifier": f"email:{first}.{last}@{rng.choice(['gmail.com', 'yahoo.com', 'aol.com'])}",
                }
            )
    attributes, identifiers = pd.DataFrame(rows), pd.DataFrame(held)
    settings = MatchSettings(
        comparisons=[
            Comparison(name="first_name", kind="exact"),
            Comparison(name="last_name", kind="exact"),
            Comparison(name="birth_date", kind="date"),
            Comparison(name="email_local", kind="levenshtein", thresholds=[1], implied_by=["first_name", "last_name"]),
        ],
        blocking=[["first_name", "last_name"]],
    )
    candidates = block(attributes, settings, identifiers)
    components = pd.Series(range(len(attributes)), index=attributes["record"])
    result = find_matches(attributes, components, settings, candidates=candidates)
    born = result.model.names.index("birth_date")
    assert result.model.m[born][1] < 0.1  # level 1: different
    assert len(result.edges) > 300
    assert all(person[a] == person[b] for a, b in zip(result.edges["record_a"], result.edges["record_b"], strict=True))


def test_the_fields_read_to_choose_are_the_fields_blocking_reads() -> None:
    """Blocking reuses the columns read to choose the comparisons: each is what reading it alone gives."""
    from resolve.defaults import ATTRIBUTE_COMPARISONS

    attributes = pd.DataFrame({
        "record": ["a", "b", "c", "d"],
        "attributes": [json.dumps({"first_name": "Ann", "birth_date": "1980-01-02"}), json.dumps({"full_name": "Bo Lee"}),
                       "", json.dumps({"first_name": "n/a", "postcode": "LS1 1AA"})],
    })  # fmt: skip
    links = pd.DataFrame(
        {"record": ["a", "b", "d"], "identifier": ["email:ann@x.com", "national_id:AB123456D", "email:n/a"]}
    )
    everything = record_fields(attributes, list(ATTRIBUTE_COMPARISONS), links)
    for names in (
        ["first_name", "last_name"],
        ["email_local", "postcode"],
        ["national_id", "birth_date", "first_name"],
    ):
        alone = record_fields(attributes, names, links)
        assert everything[names].equals(alone), names
    assert everything.loc["b", "last_name"] == "lee" and everything.loc["a", "email_local"] == "ann"
