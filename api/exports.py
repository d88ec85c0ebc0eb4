"""Exports of resolved data to files (CSV or Parquet by extension)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pandas as pd

from analytics.traits import iso_utc, profile_traits
from graph.errors import ConfigError, NotFound
from graph.store import GraphStore


def write_frame(frame: pd.DataFrame, out: Path) -> None:
    suffix = out.suffix.lower()
    if suffix not in (".csv", ".parquet"):
        raise ConfigError(f"{out}: choose a .csv or .parquet file name")
    out.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".csv":
        frame.to_csv(out, index=False)
    else:
        frame.to_parquet(out, index=False)


def export_profiles(store: GraphStore, out: Path) -> int:
    """``source,record_id,profile_id``, one row per resolved record, sorted; returns the row count."""
    assigned = store.assignments()
    if assigned.empty:
        raise NotFound("no resolved profiles yet: run `cdp resolve` first")
    parts = assigned["record"].str.split(":", n=1, expand=True)
    frame = pd.DataFrame({"source": parts[0], "record_id": parts[1], "profile_id": assigned["profile_id"]})
    frame = frame.sort_values(["source", "record_id"], kind="stable")
    write_frame(frame, out)
    return len(frame)


def export_traits(
    store: GraphStore, out: Path, as_of: datetime, on_progress: Callable[[str, int, int], None] | None = None
) -> tuple[int, int]:
    """The traits of :func:`analytics.traits.profile_traits` as of ``as_of``, one row per profile with
    events, sorted by ``profile_id``. In CSV the timestamps are ISO 8601 text and ``channel_mix`` compact
    JSON; Parquet keeps timestamps and makes ``channel_mix`` a struct. Returns the rows written and the
    profiles left out for want of events."""
    assigned = store.assignments()
    if assigned.empty:  # an empty Neo4j result has no columns either
        raise NotFound("no resolved profiles yet: run `cdp resolve` first")
    profiles = assigned["profile_id"].nunique()
    step = on_progress or (lambda name, done, total: None)
    step("traits", 0, 3)
    events = store.profile_events()
    step("traits", 1, 3)
    traits = profile_traits(events, as_of).reset_index()
    step("traits", 2, 3)
    if out.suffix.lower() == ".csv":
        traits = traits.assign(
            first_seen=iso_utc(traits["first_seen"]),
            last_seen=iso_utc(traits["last_seen"]),
            channel_mix=[json.dumps(mix, separators=(",", ":")) for mix in traits["channel_mix"]],
        )
    write_frame(traits, out)
    step("traits", 3, 3)
    return len(traits), profiles - len(traits)
