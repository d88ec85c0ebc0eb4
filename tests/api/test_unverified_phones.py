"""An unverified phone (in no assigned number range) on each store, as users see it: `cdp ingest` (the
region hint), `cdp stats`, `cdp explain` and the GraphQL 360 view."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from typer.testing import CliRunner

from api.app import create_app
from api.cli import app
from api.reports import collect_stats
from graph.settings import StoreSettings
from graph.store import GraphStore
from ingest.config import load_config
from ingest.pipeline import ingest
from resolve.runner import resolve
from resolve.settings import ResolveSettings

SOURCES = """
sources:
  crm:
    path: crm.csv
    record_id: crm_id
    identifiers: {phone: phone}
    attributes: {first_name: first_name}
  us:
    path: us.csv
    record_id: id
    identifiers: {phone: phone}
"""
CRM = "crm_id,phone,first_name\nC1,07700 900123,Ann\nC2,+44 7700 900123,Ann\nC3,07911 123456,Bob\n"
US = "id,phone\nU1,(415) 555-2671\nU2,212 555 0188\nU3,312.555.0199\n"
PROFILE = """query($v: String!) { profileByIdentifier(type: "phone", value: $v) {
  size records { recordId } identifiers { value status } } }"""


def _files(directory: Path) -> Path:
    (directory / "sources.yaml").write_text(SOURCES)
    (directory / "crm.csv").write_text(CRM)
    (directory / "us.csv").write_text(US)
    return directory / "sources.yaml"


def test_stats_and_the_360_view_show_the_phone_as_unverified(
    store: GraphStore, store_settings: StoreSettings, tmp_path: Path
) -> None:
    ingest(load_config(_files(tmp_path)), store, tmp_path / "rejects", only="crm")
    resolve(store, ResolveSettings())
    assert collect_stats(store)["identifiers_by_type"] == {"phone": {"unverified": 1, "active": 1}}
    settings = store_settings.model_copy(
        update={"neo4j_password": SecretStr("not-a-default-pw"), "allowed_hosts": ["testserver"]}  # TestClient's Host
    )
    with TestClient(create_app(settings, store=store, insecure_local=True)) as client:
        answer = client.post("/graphql", json={"query": PROFILE, "variables": {"v": "07700 900123"}}).json()
    profile = answer["data"]["profileByIdentifier"]
    assert profile["size"] == 2 and {r["recordId"] for r in profile["records"]} == {"C1", "C2"}
    assert profile["identifiers"] == [{"value": "+447700900123", "status": "unverified"}]


@pytest.fixture
def project(tmp_path: Path, store_settings: StoreSettings, store: GraphStore, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The source files; CDP_* pointing at the (empty) store under test, which the CLI opens itself."""
    _files(tmp_path)
    monkeypatch.setenv("CDP_STORE", store_settings.store)
    store.close()
    return tmp_path


def _cdp(project: Path, *args: str) -> str:
    result = CliRunner().invoke(app, [*args, "--data-dir", str(project / "cdp")])
    assert result.exit_code == 0, result.output
    return " ".join(result.output.split())  # the console wraps long lines


def test_the_cli_hints_at_the_region_and_counts_unverified_phones(project: Path) -> None:
    ingested = _cdp(project, "ingest", str(project / "sources.yaml"))
    assert (
        "us: 3 of 3 phones written without a country code (100%) are not valid numbers in the default region "
        "GB; 3 of 3 sampled are valid in US: set `options: {default_region: US}` in sources.yaml" in ingested
    )
    assert "crm: " not in ingested.split("rows/s)")[-1]  # its phones read well in GB: no hint
    _cdp(project, "resolve")
    stats = json.loads(_cdp(project, "stats", "--json"))
    assert stats["identifiers_by_type"] == {"phone": {"unverified": 4, "active": 1}}  # the US ones read in GB
    table = " ".join(re.sub("[\u2500-\u257f]", " ", _cdp(project, "stats")).split())  # no box drawing
    assert "Type active unverified ignored phone 1 4 -" in table
    explained = _cdp(project, "explain", "crm:C1", "crm:C2")
    assert "linked by phone +447700900123" in explained and "ignored" not in explained
