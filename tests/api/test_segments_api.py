"""Segments over GraphQL and the CLI (issue 15, first part): created with a checked rule (an error names the
column), listed, previewed with the count a plain pandas filter of the profile table gives, members written
to a file, and a profile's segments; the export scope guards them."""

from __future__ import annotations

from pathlib import Path

import httpx
import pandas as pd

from api.keys import create_key
from api.segments import profile_table
from tests.api.conftest import Server

CREATE = "mutation($n: String!, $r: String!) { createSegment(name: $n, rule: $r) { name rule createdBy } }"
RULE = 'attributes.city = "Leeds" or identifiers.email >= 2'


def _post(server: Server, key: str, query: str, **variables: object) -> dict:
    response = httpx.post(f"{server.url}/graphql", json={"query": query, "variables": variables},
                          headers={"Authorization": f"Bearer {key}"}, timeout=30)  # fmt: skip
    assert response.status_code == 200, response.text
    return response.json()


def test_segments_over_graphql(server: Server) -> None:
    made = server.query(CREATE, n="leeds", r=RULE)["data"]["createSegment"]
    assert made == {"name": "leeds", "rule": RULE, "createdBy": "tests"}
    again = server.query(CREATE, n="leeds", r=RULE)
    assert "a segment 'leeds' exists already" in again["errors"][0]["message"]
    bad = server.query(CREATE, n="bad", r="traits.frequency >= ")
    assert "segment 'bad', line 1, column 20: expected a value" in bad["errors"][0]["message"]
    assert server.query("{ segments { name } }")["data"]["segments"] == [{"name": "leeds"}]

    table = profile_table(server.store).profiles  # the oracle: the same profiles filtered by pandas
    expected = table[(table["attributes.city"] == "Leeds") | (table["identifiers.email"] >= 2)].index
    preview = server.query("query($r: String!) { previewSegment(rule: $r, sample: 100) { members profiles sample } }",
                           r=RULE)["data"]["previewSegment"]  # fmt: skip
    assert preview == {"members": len(expected), "profiles": len(table), "sample": sorted(expected)}
    assert 0 < len(expected) < len(table)
    ann = server.query('{ profileByRecord(source: "crm", recordId: "C1") { id segments } }')["data"]["profileByRecord"]
    bob = server.query('{ profileByRecord(source: "crm", recordId: "C4") { id segments } }')["data"]["profileByRecord"]
    assert ann["segments"] == ["leeds"] and bob["segments"] == []  # Ann lives in Leeds, Bob in Hull

    reader = create_key(server.store, "reader", "read:profiles")
    refused = _post(server, reader, CREATE, n="other", r=RULE)
    assert refused["errors"][0]["message"].endswith("lacks the scope 'export'")


def test_segments_from_the_cli(server: Server, tmp_path: Path) -> None:
    from api.jobs import JobContext, run_job_here
    from graph.settings import Settings

    context = JobContext(server.store, Settings(), lambda *_: None, lambda _: None)
    run_job_here(context, "segment_create", {"name": "leeds", "rule": RULE})
    listed = run_job_here(context, "segment_list", {})
    assert [(s["name"], s["rule"], s["created_by"]) for s in listed] == [("leeds", RULE, "local")]
    preview = run_job_here(context, "segment_preview", {"rule": RULE})
    out = tmp_path / "leeds.csv"
    done = run_job_here(context, "segment_members", {"name": "leeds", "out": str(out)})
    written = pd.read_csv(out)
    assert done["rows"] == len(written) == preview["members"] and list(written.columns) == ["profile_id", "size"]
    assert set(written["profile_id"]) >= set(preview["sample"])


def test_a_lookalike_audience_is_a_segment(server: Server) -> None:
    from analytics.embeddings import EmbeddingSettings, current_embeddings, embed_store
    from analytics.lookalike import lookalike_scores
    from analytics.similarity import SimilarityIndex
    from api.segments import preview

    embed_store(server.store, EmbeddingSettings(workers=1, walks_per_node=5, dimensions=8))
    server.query(CREATE, n="leeds", r=RULE)
    rule = 'lookalike(segment: "leeds", size: 2)'
    made = server.query(CREATE, n="like-leeds", r=rule)["data"]["createSegment"]
    assert made["rule"] == rule
    table = profile_table(server.store).profiles
    seeds = list(table[(table["attributes.city"] == "Leeds") | (table["identifiers.email"] >= 2)].index)
    embeddings, _ = current_embeddings(server.store)
    expected = sorted(lookalike_scores(SimilarityIndex(embeddings, "profile"), seeds, 2)["profile_id"])
    shown = preview(server.store, rule, sample=10)
    assert shown.sample == expected and shown.members == len(expected) >= 1 and not set(expected) & set(seeds)
    loop = server.query(CREATE, n="loop", r='lookalike(segment: "loop", size: 2)')
    assert "segment 'loop' is a lookalike of itself" in loop["errors"][0]["message"]
    bad = server.query(CREATE, n="bad", r='lookalike(segment: "leeds")')
    assert 'lookalike() takes segment: "NAME" and size: N' in bad["errors"][0]["message"]
