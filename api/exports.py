"""Exports of resolved data to files (CSV or Parquet by extension)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

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
