"""The oracle ceiling (bench/oracle.py) on hand-made records: which evidence links two records of a person."""

from __future__ import annotations

import doctest
import json

import pandas as pd
import pytest

import bench.oracle
from bench.oracle import first_names_compatible, identifiable, oracle

pytest.importorskip("nicknames")

#: record -> (person, attributes, identifiers)
RECORDS: dict[str, tuple[str, dict[str, str], list[str]]] = {
    # a family email held by two people links neither person's records
    "web:mum1": ("mum", {}, ["email:lee.family@gmail.com", "cookie_id:c1"]),
    "web:mum2": ("mum", {}, ["email:lee.family@gmail.com"]),
    "web:son1": ("son", {}, ["email:lee.family@gmail.com"]),
    # a placeholder is no evidence; a person's own email is
    "web:p1": ("pat", {}, ["email:test@test.com"]),
    "web:p2": ("pat", {}, ["email:test@test.com"]),
    "web:k1": ("kim", {}, ["email:kim@mail.com"]),
    "web:k2": ("kim", {}, ["email:kim@mail.com"]),
    # a nickname with the same birth date links; with a different one and nothing else equal it does not
    "crm:w1": ("will", {"first_name": "William", "last_name": "Smith", "birth_date": "1970-01-01"}, []),
    "crm:w2": ("will", {"first_name": "Bill", "last_name": "Smith", "birth_date": "1970-01-01"}, []),
    "crm:w3": ("will", {"first_name": "Bill", "last_name": "Smyth", "birth_date": "1971-01-01"}, []),
    # a card name alone: linked when no one else has a compatible name (an initial, a typo) ...
    "crm:z1": ("zelda", {"first_name": "Zelda", "last_name": "Quinn", "birth_date": "1980-05-05"}, []),
    "pos:z2": ("zelda", {"full_name": "Z Qiunn"}, []),
    # ... and not when another person's name is compatible with it
    "crm:j1": ("john", {"first_name": "John", "last_name": "Brown", "birth_date": "1990-02-02"}, []),
    "mkt:j2": ("john", {"first_name": "John", "last_name": "Brown", "postcode": "SW1A 1AA"}, []),
    "crm:jon": ("jon", {"first_name": "Jon", "last_name": "Browne", "birth_date": "1950-03-03"}, []),
}


def _frames() -> tuple[pd.Series, pd.DataFrame, pd.DataFrame, pd.Series]:
    records = pd.Series(list(RECORDS))
    links = pd.DataFrame(
        [(key, identifier) for key, (_, _, ids) in RECORDS.items() for identifier in ids],
        columns=["record", "identifier"],
    )
    attributes = pd.DataFrame(
        [(key, json.dumps(values)) for key, (_, values, _) in RECORDS.items()], columns=["record", "attributes"]
    )
    truth = pd.Series({key: person for key, (person, _, _) in RECORDS.items()})
    return records, links, attributes, truth


def _together(clusters: pd.Series, a: str, b: str) -> bool:
    return bool(clusters[a] == clusters[b])


def test_a_family_email_is_not_evidence_a_placeholder_neither_an_own_email_is() -> None:
    clusters = oracle(*_frames()).clusters
    assert not _together(clusters, "web:mum1", "web:mum2")
    assert not _together(clusters, "web:p1", "web:p2")
    assert _together(clusters, "web:k1", "web:k2")


def test_a_nickname_with_the_same_birth_date_links() -> None:
    clusters = oracle(*_frames()).clusters
    assert _together(clusters, "crm:w1", "crm:w2")
    assert not _together(clusters, "crm:w1", "crm:w3")


def test_a_name_alone_links_only_when_no_one_else_has_a_compatible_name() -> None:
    clusters = oracle(*_frames()).clusters
    assert _together(clusters, "crm:z1", "pos:z2")  # "Z Qiunn": an initial and an adjacent swap
    assert not _together(clusters, "crm:j1", "mkt:j2")  # Jon Browne is one edit from each part


def test_the_ceiling_never_merges_two_people_and_counts_its_links() -> None:
    result = oracle(*_frames())
    pairwise = result.evaluation.pairwise
    assert pairwise.precision == 1.0
    assert pairwise.correct_pairs == 3  # kim, william, zelda
    assert result.linked_by == {"identifier": 1, "name_and_attribute": 1, "identifiable_name": 1}


def test_records_the_truth_does_not_name_are_left_out() -> None:
    records, links, attributes, truth = _frames()
    result = oracle(pd.concat([records, pd.Series(["web:stranger"])]), links, attributes, truth)
    assert "web:stranger" not in result.clusters.index
    assert result.evaluation.unlabelled == 0


def test_name_compatibility() -> None:
    assert first_names_compatible("g", "gemma") and not first_names_compatible("g", "james")
    assert first_names_compatible("katherine", "kate") and first_names_compatible("sara", "sarah")
    assert first_names_compatible("bob", "rob")  # both nicknames of Robert
    assert not first_names_compatible("anna", "john")


def test_identifiable_looks_past_the_persons_own_records() -> None:
    table = pd.DataFrame(
        {"person": ["a", "a", "b"], "first": ["ann", "ann", "ann"], "last": ["lee", "lee", "leigh"]},
        index=["r1", "r2", "r3"],
    )
    assert identifiable(table).to_dict() == {"r1": True, "r2": True, "r3": True}
    table.loc["r3", "last"] = "lea"
    assert identifiable(table).to_dict() == {"r1": False, "r2": False, "r3": False}


def test_docstring_examples() -> None:
    assert doctest.testmod(bench.oracle).failed == 0
