"""The cases issue 12 found on data the defaults were never tuned on, each resolved with the default settings
on each real store: nicknames, namesakes chained by a name-only record, a typo'd national id, a shared
tablet, swapped names, and what zero-config matching chooses."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from graph.model import IdentifierLink, SourceRecord
from graph.store import GraphStore
from resolve.defaults import complete_settings, describe
from resolve.explain import explain
from resolve.match_settings import MatchSettings
from resolve.runner import resolve
from resolve.settings import ResolveSettings, last_run_settings
from tests.resolve.test_matching import _population

T = "2025-01-01T00:00:00Z"


def _rec(key: str, ids: dict[str, str], **attributes: str) -> SourceRecord:
    source, rid = key.split(":")
    return SourceRecord(source, rid, [IdentifierLink(t, v) for t, v in ids.items()], attributes, T)


def _profile(store: GraphStore) -> pd.Series:
    return store.assignments().set_index("record")["profile_id"]


def _with_population(
    store: GraphStore, records: list[SourceRecord], settings: ResolveSettings | None = None
) -> pd.Series:
    """``records`` among 200 people in a CRM and a marketing list (so the model is estimated), resolved."""
    population, _ = _population(seed=11, people=200)
    store.upsert_records(population + records)
    resolve(store, settings or ResolveSettings())
    return _profile(store)


def test_bob_and_robert_sharing_email_phone_and_birth_date_are_one_profile(store: GraphStore) -> None:
    born, home = "1971-04-02", "zz9 9zz"
    profile = _with_population(store, [
        _rec("crm:bob1", {"crm_id": "CB1", "email": "r.stevens@mail.com", "phone": "+447911123456"},
             first_name="Robert", last_name="Stevens", birth_date=born, postcode=home),
        _rec("mkt:bob2", {"email": "r.stevens@mail.com"}, first_name="Bob", last_name="Stevens", birth_date=born,
             postcode=home),
        _rec("pos:bob3", {"phone": "+447911123456"}, full_name="Bob Stevens"),
    ])  # fmt: skip
    assert profile["crm:bob1"] == profile["mkt:bob2"] == profile["pos:bob3"]
    found = explain(store, "crm:bob1", "mkt:bob2")
    assert found.same_profile and "kept apart" not in found.summary
    levels = {c.comparison: c.level for hop in found.hops for c in hop.comparisons}
    assert levels.get("first_name", "nickname") == "nickname"  # a fuzzy hop, if any, calls Bob a nickname


def test_two_sam_taylors_are_not_chained_by_a_name_only_row(store: GraphStore) -> None:
    profile = _with_population(store, [
        _rec("crm:sam1", {"crm_id": "S1"}, first_name="Sam", last_name="Taylor", birth_date="1962-03-04",
             postcode="qq1 1aa", street="1 Mill Lane"),
        _rec("crm:sam2", {"crm_id": "S2"}, first_name="Sam", last_name="Taylor", birth_date="1984-08-09",
             postcode="qq7 7bb", street="9 High Street"),
        _rec("mkt:sam3", {"email": "noemail@x.com"}, first_name="Sam", last_name="Taylor"),
    ], ResolveSettings(matching=MatchSettings(threshold=0.8)))  # fmt: skip
    # at this threshold the name-only row (probability ~0.83 with each: a rare name, nothing else) matches both
    links = store.match_links()
    assert {"crm:sam1", "crm:sam2"} <= set(links.loc[links["record_b"] == "mkt:sam3", "record_a"])
    assert profile["crm:sam1"] != profile["crm:sam2"]  # the chain is cut: they disagree on birth date and address
    assert profile["mkt:sam3"] in (profile["crm:sam1"], profile["crm:sam2"])  # it stays with one of them
    rejected = {row["identifier"]: row["reason"] for row in store.rejected_links_of(["crm:sam1", "crm:sam2"])}
    assert any("birth_date different" in reason for reason in rejected.values())


def test_a_typod_national_id_is_one_value_and_two_ids_still_conflict(store: GraphStore) -> None:
    profile = _with_population(store, [
        # one person, the id keyed with two digits swapped on one of her records
        _rec("crm:t1", {"national_id": "JK481937B", "email": "ann.cole@mail.com"}, first_name="Ann",
             last_name="Cole", birth_date="1980-01-02"),
        _rec("mkt:t2", {"national_id": "JK481973B", "email": "ann.cole@mail.com"}, first_name="Ann",
             last_name="Cole", birth_date="1980-01-02"),
        # two people behind one email, with ids nothing alike
        _rec("crm:u1", {"national_id": "MN902211A", "email": "family@mail.com"}, first_name="Ivor",
             last_name="Hale", birth_date="1950-05-05"),
        _rec("mkt:u2", {"national_id": "PR118830C", "email": "family@mail.com"}, first_name="Jude",
             last_name="Hale", birth_date="1990-09-09"),
    ])  # fmt: skip
    assert profile["crm:t1"] == profile["mkt:t2"]
    assert profile["crm:u1"] != profile["mkt:u2"]


def test_a_shared_tablet_links_a_household_not_its_people(store: GraphStore) -> None:
    tablet = "tablet-0042"
    profile = _with_population(store, [
        _rec("crm:mum", {"crm_id": "M1", "email": "jane.doe@mail.com"}, first_name="Jane", last_name="Doe",
             birth_date="1965-02-03", postcode="hh1 1hh"),
        _rec("crm:son", {"crm_id": "M2", "email": "tom.doe@mail.com"}, first_name="Tom", last_name="Doe",
             birth_date="1995-06-07", postcode="hh1 1hh"),
        _rec("web:s1", {"device_id": tablet, "cookie_id": "c1", "email": "jane.doe@mail.com"}),
        _rec("web:s2", {"device_id": tablet, "cookie_id": "c2", "email": "tom.doe@mail.com"}),
        _rec("web:s3", {"device_id": tablet, "cookie_id": "c3"}),  # nobody logged in
    ])  # fmt: skip
    assert profile["crm:mum"] != profile["crm:son"]
    assert profile["web:s1"] == profile["crm:mum"] and profile["web:s2"] == profile["crm:son"]
    assert profile["web:s3"] not in (profile["crm:mum"], profile["crm:son"])  # whose session is unknown
    members = {row["member"] for row in store.household_of([profile["crm:mum"]])}
    assert profile["crm:son"] in members  # still one household


def test_swapped_first_and_last_names_are_compared_crosswise(store: GraphStore) -> None:
    profile = _with_population(store, [
        _rec("crm:w1", {"crm_id": "W1"}, first_name="Luke", last_name="Gazzola", birth_date="1942-09-29",
             postcode="ww1 1ww"),
        _rec("mkt:w2", {"email": "lg@mail.com"}, first_name="Gazzola", last_name="Luke", birth_date="1942-09-29",
             postcode="ww1 1ww"),
    ])  # fmt: skip
    assert profile["crm:w1"] == profile["mkt:w2"]


def test_zero_config_compares_every_mapped_attribute_and_says_why(store: GraphStore) -> None:
    _with_population(store, [
        _rec(f"crm:x{n}", {"national_id": f"QZ12398{n}A"}, first_name="Mia", middle_name="Rose", last_name="Field",
             gender="F", street_number=f"1{n}", address_line2="Flat 3", region="Kent", birth_date="1991-01-01")
        for n in range(2)
    ])  # fmt: skip
    chosen = last_run_settings(store).matching
    names = [c.name for c in chosen.chosen_comparisons]
    for name in ("first_name", "middle_name", "last_name", "birth_date", "gender", "street_number",
                 "address_line2", "postcode", "region", "national_id", "email_local"):  # fmt: skip
        assert name in names
    kinds = {c.name: c.kind for c in chosen.chosen_comparisons}
    assert kinds["national_id"] == "levenshtein" and kinds["street_number"] == "exact"
    assert chosen.blocking and all("national_id" not in rule for rule in chosen.blocking)
    summary = json.loads(store.latest_run()["summary"])
    why = summary["matching"]["chosen"]
    assert why["comparisons"]["email_local"].startswith("from email identifiers")
    assert why["fallback"] and why["measured_pairs"] == 0  # no two records share an identifier: nothing to measure


def test_chosen_rules_reach_what_they_say_and_stay_within_the_budget() -> None:
    """Oracle: the reach reported for the chosen rules is the share of identifier-proven pairs agreeing on
    every field of one of them, counted with plain pandas; a rule of one common value is never chosen."""
    rng = np.random.default_rng(4)
    n = 3000
    person = rng.integers(0, 1200, n)
    first = np.array([f"f{p % 150}" for p in person], dtype=object)
    born = np.array([f"19{50 + p % 50}-0{1 + p % 9}-1{p % 10}" for p in person], dtype=object)
    first[rng.random(n) < 0.2] = None
    born[rng.random(n) < 0.2] = None
    gender = rng.choice(["m", "f"], n)
    attributes = pd.DataFrame({"record": [f"s:{i}" for i in range(n)], "attributes": [
        json.dumps({k: v for k, v in (("first_name", f), ("birth_date", b), ("gender", g)) if v is not None})
        for f, b, g in zip(first, born, gender, strict=True)]})  # fmt: skip
    links = pd.DataFrame({"record": attributes["record"], "identifier": [f"crm_id:{p}" for p in person]})
    settings, choice = complete_settings(
        attributes, links, MatchSettings(min_pair_budget=1_000, pair_budget_per_record=5)
    )
    assert ["gender"] not in settings.blocking  # blocks of half the records: over the size limit, reach nothing
    assert sum(r.pairs for r in choice.rules) <= choice.budget == 15_000
    fields = pd.DataFrame({"first_name": first, "birth_date": born, "gender": gender})
    rows = pd.DataFrame({"row": np.arange(n), "person": person}).sort_values(["person", "row"])
    same = rows["person"].to_numpy()
    pairs = np.concatenate([np.column_stack([rows["row"].to_numpy()[:-k], rows["row"].to_numpy()[k:]])[same[:-k] == same[k:]]
                            for k in (1, 2)])  # fmt: skip
    attributed = fields.notna().any(axis=1).to_numpy()
    pairs = pairs[attributed[pairs[:, 0]] & attributed[pairs[:, 1]]]
    reached = np.zeros(len(pairs), dtype=bool)
    for rule in settings.blocking:
        left, right = fields.iloc[pairs[:, 0]][rule].to_numpy(), fields.iloc[pairs[:, 1]][rule].to_numpy()
        reached |= (pd.notna(left).all(axis=1)) & (left == right).all(axis=1)
    assert choice.measured_pairs == len(pairs)
    assert choice.reach == pytest.approx(reached.mean(), abs=1e-4)


def test_given_comparisons_and_rules_are_kept_and_only_what_is_left_out_is_chosen() -> None:
    attributes = pd.DataFrame({"record": [f"a:{i}" for i in range(4)],
                               "attributes": [json.dumps({"first_name": n, "last_name": "Ng", "city": "Leeds"})
                                              for n in ("Al", "Al", "Bo", "Bo")]})  # fmt: skip
    links = pd.DataFrame({"record": ["a:0", "a:1"], "identifier": ["crm_id:1", "crm_id:1"]})
    given = MatchSettings(blocking=[["last_name"]])
    settings, choice = complete_settings(attributes, links, given)
    assert settings.blocking == [["last_name"]] and choice.given == ["blocking"]
    assert [c.name for c in settings.chosen_comparisons] == ["first_name", "last_name", "city"]
    text = "\n".join(describe(settings, choice))
    assert "- [last_name]  # given in the settings file" in text and "first_name" in text


def test_two_people_at_one_address_are_a_household_not_one_person() -> None:
    """Hannah and Jason Ramirez share a surname and a full address and nothing else: what agrees is what a
    family shares, and a different first name says two people, though it weighs less than
    ``conflict_weight``. With their birth dates agreeing too, or a customer number, they would be one."""
    from resolve.comparisons import Comparison
    from resolve.matching import vetoed

    comparisons = [
        Comparison(name="first_name", kind="jaro_winkler", thresholds=[0.92]),
        Comparison(name="last_name", kind="jaro_winkler", thresholds=[0.92]),
        Comparison(name="birth_date", kind="date"),
        Comparison(name="street", kind="exact"),
        Comparison(name="postcode", kind="postcode"),
        Comparison(name="customer_no", kind="exact"),
    ]
    #                  first  last  born  street  postcode  customer_no   (levels: 0 missing, 1 different)
    levels = np.array([[1,     3,    0,    2,      4,        0],    # Hannah / Jason: family fields only
                       [1,     3,    4,    2,      4,        0],    # ... and the same birth date
                       [1,     3,    0,    2,      4,        2],    # ... and the same customer number
                       [3,     3,    0,    2,      4,        0]])  # first names agree  # fmt: skip
    weights = np.array([[-6.2, 8.1, 0.0, 15.1, 16.4, 0.0],
                        [-6.2, 8.1, 9.0, 15.1, 16.4, 0.0],
                        [-6.2, 8.1, 0.0, 15.1, 16.4, 12.0],
                        [7.0, 8.1, 0.0, 15.1, 16.4, 0.0]])  # fmt: skip
    assert vetoed(comparisons, levels, weights, MatchSettings()).tolist() == [True, False, False, False]
    assert not vetoed(comparisons, levels, weights, MatchSettings(household_conflict_weight=None)).any()


def test_a_family_tablet_and_its_browser_cookie_do_not_merge_its_users(store: GraphStore) -> None:
    """A tablet's sessions carry its device id and its browser's cookie; logged in as mother and son, they
    link two people's CRM records. Both values are a household's (``household_types`` holds ``cookie_id``)."""
    tablet = {"device_id": "tab-1", "cookie_id": "ck-1"}
    profile = _with_population(store, [
        _rec("crm:mum", {"crm_id": "M1", "email": "ann.ode@mail.com"}, first_name="Ann", last_name="Ode",
             birth_date="1970-05-06"),
        _rec("crm:son", {"crm_id": "S1", "email": "leo.ode@mail.com"}, first_name="Leo", last_name="Ode",
             birth_date="2004-09-10"),
        _rec("web:s1", {**tablet, "email": "ann.ode@mail.com"}),
        _rec("web:s2", {**tablet, "email": "leo.ode@mail.com"}),
        _rec("web:s3", tablet),
    ])  # fmt: skip
    assert profile["crm:mum"] == profile["web:s1"]
    assert profile["crm:son"] == profile["web:s2"]
    assert profile["crm:mum"] != profile["crm:son"]
