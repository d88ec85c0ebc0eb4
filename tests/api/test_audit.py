"""The audit log over real HTTP, on each store: mutations, reads that showed personal data, exports and
refusals are appended with the key's name, the profiles touched and the outcome, never the data itself;
`auditLog` is for admin keys only, and `cdp audit --since` prints the log."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx

from api.audit import read_audit
from api.keys import create_key
from tests.api.conftest import Server

ANN = '{ profileByRecord(source: "crm", recordId: "C1") { id identifiers { value } records { attributes } } }'
SINCE = "2000-01-01"


def _as(server: Server, key: str, query: str, **variables: object) -> dict:
    response = httpx.post(f"{server.url}/graphql", json={"query": query, "variables": variables},
                          headers={"Authorization": f"Bearer {key}"}, timeout=30)  # fmt: skip
    assert response.status_code == 200, response.text
    return response.json()


def _entries(server: Server) -> list:
    return read_audit(server.store, SINCE)  # mutations append in the request's thread: there when it is answered


def _settled(server: Server) -> list:
    """The log once the background writer has caught up (it writes in order: a later read's entry last)."""
    for _ in range(100):
        found = read_audit(server.store, SINCE)
        if any(e.action == "read:pii" and e.actor == "support" for e in found):
            return found
        time.sleep(0.05)
    return read_audit(server.store, SINCE)


def test_reads_with_pii_are_logged_and_masked_reads_are_not(server: Server) -> None:
    reader = create_key(server.store, "reader", "read:profiles")
    support = create_key(server.store, "support", "read:profiles,read:pii")
    ann = _as(server, reader, ANN)["data"]["profileByRecord"]["id"]
    _as(server, support, ANN)
    found = _settled(server)
    pii_reads = [e for e in found if e.action == "read:pii"]
    assert [(e.actor, e.targets, e.outcome) for e in pii_reads] == [("support", (ann,), "ok")]
    assert pii_reads[0].detail == "graphql anonymous" and re.fullmatch(r"\d{4}-\d\d-\d\dT[\d:.]+Z", pii_reads[0].at)
    assert "ann@mailbox.co.uk" not in json.dumps([vars(e) for e in found])


def test_mutations_and_refusals_are_logged_with_their_outcome(server: Server) -> None:
    reader = create_key(server.store, "reader", "read:profiles")
    query = 'query($r: String!) { profileByRecord(source: "crm", recordId: $r) { id } }'
    ids = [_as(server, server.key, query, r=r)["data"]["profileByRecord"]["id"] for r in ("C1", "C4")]
    merge = 'mutation($ids: [ID!]!) { mergeProfiles(ids: $ids, reason: "same person, ann@x.com") { id } }'
    denied = _as(server, reader, merge, ids=ids)
    assert "lacks the scope 'write:profiles'" in denied["errors"][0]["message"]
    merged = _as(server, server.key, merge, ids=ids)["data"]["mergeProfiles"]["id"]
    missing = _as(server, server.key, merge, ids=["p_nope", ids[0]])
    assert missing["errors"]
    log = [(e.actor, e.action, e.outcome, e.targets) for e in _entries(server) if e.action == "merge"]
    assert log == [
        ("reader", "merge", "denied", tuple(sorted(ids))),
        ("tests", "merge", "ok", tuple(sorted({*ids, merged}))),
        ("tests", "merge", "error: NotFound", tuple(sorted(["p_nope", ids[0]]))),
    ]
    assert "ann@x.com" not in json.dumps([vars(e) for e in _entries(server)])  # the reason is the user's text: kept out


def test_the_audit_log_is_for_admin_keys(server: Server) -> None:
    support = create_key(server.store, "support", "read:profiles,read:pii,write:profiles,export")
    refused = _as(server, support, '{ auditLog(since: "2000-01-01") { action } }')
    assert refused["data"] is None and "lacks the scope 'admin'" in refused["errors"][0]["message"]
    _as(server, support, ANN)
    _settled(server)
    body = _as(server, server.key, '{ auditLog(since: "2000-01-01") { actor action targets outcome } }')
    assert {"actor": "support", "action": "read:pii", "outcome": "ok"}.items() <= body["data"]["auditLog"][0].items()
    later = _as(server, server.key, '{ auditLog(since: "2999-01-01") { action } }')
    assert later["data"]["auditLog"] == []


def test_cdp_audit_prints_key_changes_and_exports(tmp_path: Path) -> None:
    env = {**os.environ, "CDP_DATA_DIR": str(tmp_path / "cdp"), "CDP_STORE": "embedded"}
    run = lambda *args: subprocess.run([sys.executable, "-m", "api.cli", *args], env=env, capture_output=True,  # noqa: E731
                                       text=True, timeout=120)  # fmt: skip
    assert run("keys", "create", "--name", "app", "--scopes", "read:profiles").returncode == 0
    assert run("keys", "revoke", "app").returncode == 0
    assert run("keys", "revoke", "app").returncode != 0
    printed = run("audit", "--since", "2000-01-01")
    assert printed.returncode == 0, printed.stderr
    lines = [line.split("\t") for line in printed.stdout.splitlines()]
    assert [(f[1], f[2], f[3], f[5]) for f in lines] == [
        ("local", "keys:create", "ok", "app (read:profiles)"),
        ("local", "keys:revoke", "ok", "app"),
        ("local", "keys:revoke", "error: InvalidRequest", "app"),
    ]
    assert "no audit entries" in run("audit", "--since", "2999-01-01").stderr
