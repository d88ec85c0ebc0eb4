"""Journeys (issue 15, item 4): a trigger enrols customers, steps run in order (a wait holds them until due,
a false condition lets them leave, a send plans a batch), a frequency cap holds back sends, and however often
`cdp journeys run` runs, or if it dies half-way, each customer does each step once: a journey's send reaches
the receiver once per customer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from api.access import Principal
from api.destinations import add_destination
from api.journeys import journey_status, load_journeys
from api.segments import create_segment, segment_members
from api.service import CustomerService
from graph.errors import ConfigError
from graph.store import GraphStore
from ingest.config import load_config
from ingest.pipeline import ingest
from ingest.synthetic import generate_dataset
from resolve.runner import resolve
from resolve.settings import ResolveSettings
from tests.api.test_destinations import FAST, SECRET, Receiver, receiver  # noqa: F401 - the receiver fixture

JOURNEYS = """
journeys:
  welcome-buyers:
    trigger: {entered: buyers}
    steps:
      - wait: 2d
      - condition: consent.email
      - send: {to: hook, purpose: email}
      - send: {to: hook, purpose: email}
    cap: {sends: 1, per: 30d}
"""
T0 = datetime(2026, 12, 1, 9, tzinfo=UTC)


@pytest.fixture
def service(store: GraphStore, tmp_path: Path) -> CustomerService:
    data = generate_dataset(tmp_path / "data", 3_000, seed=7)
    ingest(load_config(data.config_path), store, tmp_path / "rejects")
    resolve(store, ResolveSettings())
    create_segment(store, "buyers", "traits.frequency >= 2", "tests")
    return CustomerService(store, principal=Principal("tests"))


def test_steps_waits_conditions_caps_and_exactly_once(service: CustomerService, tmp_path: Path,
                                                      receiver: tuple[Receiver, str]) -> None:  # noqa: F811  # fmt: skip
    state, url = receiver
    state.fail_first = {0}
    add_destination(service.store, "hook", "webhook", url, SECRET, batch_size=10)
    file = tmp_path / "journeys.yaml"
    file.write_text(JOURNEYS)
    journeys = load_journeys(file)
    members = set(segment_members(service.store, "buyers")["profile_id"])

    first = service.run_journeys(file, T0, FAST)[0]
    assert first.enrolled == len(members) > 20 and first.planned == 0  # everyone waits two days
    assert journey_status(service.store, journeys)["welcome-buyers"] == {"step 2": len(members)}
    again = service.run_journeys(file, T0 + timedelta(hours=1), FAST)[0]
    assert (again.enrolled, again.advanced, again.planned) == (0, 0, 0)  # not due yet, not enrolled twice

    consent = service.consent_of(sorted(members))
    agreed = {p for p in members if (c := consent[p].get("email")) is not None and c.granted}
    assert 0 < len(agreed) < len(members)
    due = service.run_journeys(file, T0 + timedelta(days=2, hours=1), FAST)[0]
    assert due.left == len(members) - len(agreed) and due.planned == len(agreed)
    assert due.capped == len(agreed)  # the second send step: one send per 30 days
    assert due.finished == len(agreed) and due.at_step == {}  # the last step done: finished at once
    assert journey_status(service.store, journeys)["welcome-buyers"] == {"done": len(agreed),
                                                                         "left": len(members) - len(agreed)}  # fmt: skip
    later = service.run_journeys(file, T0 + timedelta(days=3), FAST)[0]
    assert (later.enrolled, later.advanced, later.planned) == (0, 0, 0)
    sent = [m["profile_id"] for p in state.accepted.values() for m in p["entered"]]
    assert sorted(sent) == sorted(agreed)  # once each, though the first batch failed its first attempt


class Killed(Exception):
    pass


def test_a_run_killed_half_way_does_each_step_once(service: CustomerService, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                   receiver: tuple[Receiver, str]) -> None:  # noqa: F811  # fmt: skip
    state, url = receiver
    add_destination(service.store, "hook", "webhook", url, SECRET, batch_size=10)
    file = tmp_path / "journeys.yaml"
    file.write_text("journeys:\n  thanks:\n    trigger: {entered: buyers}\n    steps:\n"
                    "      - send: {to: hook, purpose: analytics}\n")  # fmt: skip
    real_write = service.store.write

    def write(work: Any, what: str) -> Any:
        if what == "record a send" and len(state.accepted) >= 2:
            raise Killed  # two batches received, then the process dies before marking the second sent
        return real_write(work, what)

    monkeypatch.setattr(service.store, "write", write)
    with pytest.raises(Killed):
        service.run_journeys(file, T0, FAST)
    monkeypatch.setattr(service.store, "write", real_write)
    for hours in (1, 2):
        run = service.run_journeys(file, T0 + timedelta(hours=hours), FAST)[0]
        assert (run.enrolled, run.planned) == (0, 0)  # the killed run's steps stand; none is done again
    members = set(segment_members(service.store, "buyers")["profile_id"])
    sent = [m["profile_id"] for p in state.accepted.values() for m in p["entered"]]
    assert sorted(sent) == sorted(members) and all(m["email"] is None for p in state.accepted.values()
                                                   for m in p["entered"])  # fmt: skip


def test_a_journeys_file_error_names_the_journey_and_step(tmp_path: Path) -> None:
    file = tmp_path / "journeys.yaml"
    file.write_text("journeys:\n  j:\n    trigger: {entered: s}\n    steps:\n      - wait: soon\n")
    with pytest.raises(ConfigError, match="journey 'j', step 1: wait: 'soon' is not a window"):
        load_journeys(file)
    file.write_text("journeys:\n  j:\n    trigger: {entered: s}\n    steps:\n      - condition: 'traits.x > 1'\n")
    with pytest.raises(ConfigError, match="journey 'j', step 1, line 1, column 8: unknown traits 'x'"):
        load_journeys(file)


def test_the_scheduler_runs_journeys_on_a_timer(service: CustomerService, tmp_path: Path) -> None:
    import time

    from api.scheduler import JourneyScheduler

    add_destination(service.store, "drop", "folder", str(tmp_path / "drop"), batch_size=100)
    file = tmp_path / "journeys.yaml"
    file.write_text("journeys:\n  thanks:\n    trigger: {entered: buyers}\n    steps:\n"
                    "      - send: {to: drop, purpose: analytics}\n")  # fmt: skip
    timer = JourneyScheduler(service.store, file, every_s=0.2).start()
    try:
        deadline = time.monotonic() + 60
        while timer.runs < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        timer.close()
    assert timer.runs >= 3
    members = set(segment_members(service.store, "buyers")["profile_id"])
    written = [
        line.split(",")[1] for f in (tmp_path / "drop").rglob("*.csv") for line in f.read_text().splitlines()[1:]
    ]
    assert sorted(written) == sorted(members)  # three runs or more, one send each
    assert journey_status(service.store, load_journeys(file))["thanks"] == {"done": len(members)}
