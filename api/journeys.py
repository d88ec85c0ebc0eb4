"""Journeys: what happens to a customer after a trigger, step by step, defined in ``journeys.yaml``::

    journeys:
      welcome-buyers:
        trigger: {entered: buyers}            # or {exited: SEGMENT}, or {event: purchase}
        steps:
          - wait: 2d                          # h, d or w
          - condition: consent.email and traits.frequency >= 3   # a segment rule; false: the customer leaves
          - send: {to: crm-hook, purpose: email}
        cap: {sends: 1, per: 30d}             # at most this many sends per customer per window

``cdp journeys run`` enrols the customers the trigger names since the last run (members who entered or left
the segment since then, or customers with a new event of the type), then advances every customer whose next
step is due, as far as it can go (a wait stops it until due). A run's changes to the customers' states, the
send batches its steps planned (in the destination's outbox, :mod:`api.destinations`) and the trigger's
members as of the run are written in one transaction, and only then are the batches sent. So whether a run is
repeated or killed half-way, each customer does each step once: a step is either written with everything it
planned, or not at all, and a planned batch goes out once (its ``Idempotency-Key`` is the same on every
attempt). A customer still in a journey is not enrolled again; one who finished or left may be, by a later
trigger. ``cdp journeys status`` counts customers per step.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from analytics.profile_table import ProfileTable
from analytics.segment_eval import evaluate
from analytics.segment_rules import parse_rule, window_hours
from api.destinations import OUTBOX_COLUMNS, ContactsFn, RetryPolicy, deliver, destination_named
from api.destinations import plan_batches as _batches
from api.segments import NAME, fresh_profile_table, segment_named
from graph.errors import ConfigError, InvalidRequest
from graph.lease import writer_lease
from graph.store import GraphStore

__all__ = ["Journey", "JourneyRun", "load_journeys", "run_journeys", "journey_status"]

STATE_COLUMNS = ["key", "journey", "profile_id", "step", "due_at", "entered_at", "status", "sends"]


@dataclass(frozen=True)
class Step:
    kind: str  # wait, condition, send
    hours: float = 0.0
    rule: str = ""
    to: str = ""
    purpose: str = "email"


@dataclass(frozen=True)
class Journey:
    name: str
    trigger: tuple[str, str]  # (entered | exited | event, segment or event type)
    steps: tuple[Step, ...]
    cap_sends: int | None = None
    cap_hours: float | None = None


@dataclass
class JourneyRun:
    journey: str
    enrolled: int = 0
    advanced: int = 0  # customers who did at least one step
    left: int = 0  # a condition was false
    finished: int = 0
    planned: int = 0  # sends planned
    capped: int = 0  # sends skipped by the frequency cap
    at_step: dict[str, int] = field(default_factory=dict)


def load_journeys(path: Path) -> list[Journey]:
    """The journeys of a YAML file; an error names the journey and the step."""
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from None
    found = []
    for name, spec in (raw.get("journeys") or {}).items():
        where = f"{path}: journey '{name}'"
        if not NAME.match(str(name)) or not isinstance(spec, dict):
            raise ConfigError(f"{where}: a name of letters, digits, '_', '.', '-' with trigger and steps")
        trigger = spec.get("trigger") or {}
        kinds = [k for k in ("entered", "exited", "event") if k in trigger]
        if len(kinds) != 1 or len(trigger) != 1:
            raise ConfigError(f"{where}, trigger: one of entered: SEGMENT, exited: SEGMENT or event: TYPE")
        steps = [_step(s, f"{where}, step {n + 1}") for n, s in enumerate(spec.get("steps") or [])]
        if not steps:
            raise ConfigError(f"{where}: no steps")
        cap = spec.get("cap") or {}
        hours = window_hours(str(cap.get("per", ""))) if cap else None
        if cap and (not isinstance(cap.get("sends"), int) or hours is None):
            raise ConfigError(f"{where}, cap: give sends: N and per: WINDOW (e.g. 30d)")
        found.append(Journey(str(name), (kinds[0], str(trigger[kinds[0]])), tuple(steps),
                             cap.get("sends") if cap else None, hours))  # fmt: skip
    return found


def _step(spec: Any, where: str) -> Step:
    if not isinstance(spec, dict) or len(spec) != 1:
        raise ConfigError(f"{where}: one of wait: WINDOW, condition: RULE, send: {{to: DEST, purpose: P}}")
    kind, value = next(iter(spec.items()))
    if kind == "wait":
        hours = window_hours(str(value))
        if hours is None:
            raise ConfigError(f"{where}: wait: '{value}' is not a window such as 2d, 12h or 1w")
        return Step("wait", hours=hours)
    if kind == "condition":
        try:
            return Step("condition", rule=parse_rule(str(value), where=where).text())
        except InvalidRequest as exc:
            raise ConfigError(str(exc)) from None
    if kind == "send" and isinstance(value, dict) and "to" in value:
        return Step("send", to=str(value["to"]), purpose=str(value.get("purpose", "email")))
    raise ConfigError(f"{where}: one of wait: WINDOW, condition: RULE, send: {{to: DEST, purpose: P}}")


def run_journeys(store: GraphStore, journeys: list[Journey], contacts: ContactsFn, now: datetime | None = None,
                 policy: RetryPolicy | None = None, wait_s: float = 600.0) -> list[JourneyRun]:  # fmt: skip
    """Enrol and advance every journey once (see the module), then send what the runs planned."""
    moment = now or datetime.now(UTC)
    runs = []
    with writer_lease(store, "journeys", wait_s):
        table = fresh_profile_table(store, moment)
        used = set()
        for journey in journeys:
            for step in journey.steps:
                if step.kind == "send":
                    destination_named(store, step.to)
                    used.add(step.to)
            if journey.trigger[0] != "event":
                segment_named(store, journey.trigger[1])
            runs.append(_run(store, journey, table, moment))
        for name in sorted(used):  # what these runs (and any run before them) planned
            deliver(store, destination_named(store, name), contacts, policy or RetryPolicy())
    return runs


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _run(store: GraphStore, journey: Journey, table: ProfileTable, moment: datetime) -> JourneyRun:
    report = JourneyRun(journey.name)
    stamp = _iso(moment)
    states = {r["profile_id"]: r for r in store.journey_states(journey.name).to_dict("records")}
    enrolled, sync = _triggered(store, journey, table, moment)
    for pid in enrolled:
        if states.get(pid, {}).get("status") != "active":
            sends = states.get(pid, {}).get("sends", "[]")
            states[pid] = {"key": f"{journey.name}|{pid}", "journey": journey.name, "profile_id": pid, "step": 0,
                           "due_at": stamp, "entered_at": stamp, "status": "active", "sends": sends}  # fmt: skip
            report.enrolled += 1
    changed: dict[str, dict[str, Any]] = {pid: states[pid] for pid in enrolled if pid in states}
    sends: dict[tuple[int, str, str], list[str]] = {}  # (step, destination, purpose) -> profiles
    live = table.profiles.index
    for pid, state in states.items():
        if state["status"] != "active" or state["due_at"] > stamp:
            continue
        if pid not in live:  # erased or merged away since: the journey ends for this id
            changed[pid] = {**state, "status": "left"}
            continue
        state = dict(state)
        did = False
        while state["status"] == "active" and state["due_at"] <= stamp:
            n = int(state["step"])
            if n >= len(journey.steps):
                state["status"] = "done"
                report.finished += 1
                break
            step, did = journey.steps[n], True
            if step.kind == "wait":  # the next step is due after the wait
                state["due_at"], state["step"] = _iso(moment + timedelta(hours=step.hours)), n + 1
                break
            if step.kind == "condition" and not _holds(step.rule, table, pid):
                state["status"] = "left"
                report.left += 1
                break
            if step.kind == "send":
                if _capped(journey, state, moment):
                    report.capped += 1
                else:
                    sends.setdefault((n, step.to, step.purpose), []).append(pid)
                    state["sends"] = json.dumps([*json.loads(state["sends"] or "[]"), stamp])
                    report.planned += 1
            state["step"] = n + 1
        if did:
            report.advanced += 1
            changed[pid] = state
    batches = [_batches(destination_named(store, dest), f"journey:{journey.name}", purpose, sorted(pids), [])
               for (_, dest, purpose), pids in sorted(sends.items())]  # fmt: skip
    frame = pd.DataFrame([{c: s[c] for c in STATE_COLUMNS} for s in changed.values()], columns=STATE_COLUMNS)
    outbox = pd.concat(batches, ignore_index=True) if batches else pd.DataFrame(columns=OUTBOX_COLUMNS)
    store.write(lambda tx: tx.advance_journey(frame, outbox, sync), "advance a journey")
    for state in {**states, **changed}.values():
        if state["status"] == "active":
            key = f"step {int(state['step']) + 1}"
            report.at_step[key] = report.at_step.get(key, 0) + 1
    return report


def _triggered(store: GraphStore, journey: Journey, table: ProfileTable,
               moment: datetime) -> tuple[list[str], tuple[str, str, str]]:  # fmt: skip
    """Profiles the trigger names since the last run, and the trigger's state to store with this run."""
    kind, name = journey.trigger
    key = f"journey:{journey.name}"
    last = store.sync_state(key)
    if kind == "event":
        since = pd.Timestamp(last["synced_at"]) if last else None
        events = table.events[(table.events["type"] == name) & (table.events["ts"] <= pd.Timestamp(moment))]
        if since is not None:
            events = events[events["ts"] > since]
        return sorted(set(events["profile_id"])), (key, "[]", _iso(moment))
    rule = segment_named(store, name).rule
    members = evaluate(parse_rule(rule), table)
    now = set(table.profiles.index[members.to_numpy()])
    before = set(json.loads(last["members"])) if last else set()
    picked = now - before if kind == "entered" else before - now
    return sorted(picked), (key, json.dumps(sorted(now)), _iso(moment))


def _holds(rule: str, table: ProfileTable, pid: str) -> bool:
    events = table.events
    one = ProfileTable(table.profiles.loc[[pid]], events[events["profile_id"] == pid], table.as_of, table.lookalike)
    return bool(evaluate(parse_rule(rule), one).iloc[0])


def _capped(journey: Journey, state: dict[str, Any], moment: datetime) -> bool:
    if journey.cap_sends is None or journey.cap_hours is None:
        return False
    since = _iso(moment - timedelta(hours=journey.cap_hours))
    return sum(at >= since for at in json.loads(state["sends"] or "[]")) >= journey.cap_sends


def journey_status(store: GraphStore, journeys: list[Journey]) -> dict[str, dict[str, int]]:
    """Per journey: customers at each step (``step N``), finished (``done``) and ``left``."""
    out = {}
    for journey in journeys:
        counts: dict[str, int] = {}
        for state in store.journey_states(journey.name).to_dict("records"):
            where = f"step {int(state['step']) + 1}" if state["status"] == "active" else state["status"]
            counts[where] = counts.get(where, 0) + 1
        out[journey.name] = dict(sorted(counts.items()))
    return out
