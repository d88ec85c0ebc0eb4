"""Incremental resolution: after new records arrive, only the part of the graph they can change is
resolved again, with the match model the last full run estimated.

The part that can change (the *focus*) is every record connected to a new record, or to an identifier
whose status changed, through anything resolution looks at: active identifiers, the last run's match
links (cut or not), candidate pairs of a new record, overrides, and blocks a new record pushed over the
size limit (their old pairs are skipped now). Each connected part is resolved whole, so limits and cuts
see what a full run would see; everything outside keeps its profile untouched. With the model fixed, the
result equals a full run with that model (the test suite checks it on seeded random batches).

A full run is needed instead when there is no model yet, when the settings changed, or when ingest
changed existing records (their old blocks and links are gone, so what they used to touch is unknown).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pandas as pd

from graph.frames import among
from graph.store import GraphStore
from resolve.blocking import crossed_blocks
from resolve.components import record_components
from resolve.fellegi_sunter import MatchModel
from resolve.matching import Candidates
from resolve.settings import ResolveSettings

MODEL_ID = "current"


@dataclass(frozen=True)
class Plan:
    """What an incremental run resolves again: a boolean per record (``records`` order)."""

    focus: np.ndarray
    new_records: int


def load_model(store: GraphStore, settings: ResolveSettings) -> MatchModel | None:
    """The saved model when it was estimated under ``settings``; else None (a full run is needed)."""
    saved = store.match_model(MODEL_ID)
    if saved is None or saved["settings"] != settings.to_json():
        return None
    return MatchModel.from_dict(json.loads(saved["model"]))


def saved_model(store: GraphStore) -> MatchModel | None:
    """The model the last full run estimated, whatever its settings (they are the last run's)."""
    saved = store.match_model(MODEL_ID)
    return None if saved is None else MatchModel.from_dict(json.loads(saved["model"]))


def changed_records(store: GraphStore) -> list[str]:
    return store.changed_records()


def plan(
    records: pd.Series,
    links: pd.DataFrame,
    used: pd.DataFrame,
    previous: pd.Series,
    status_changed: pd.Index,
    old_matches: pd.DataFrame,
    candidates: Candidates | None,
    settings: ResolveSettings,
    verdicts: pd.DataFrame | None = None,
) -> Plan:
    """The focus of an incremental run. ``used``: the active links (with the new records');
    ``old_matches``: the last run's match links (``record_a, record_b``); ``status_changed``: identifiers
    whose status differs from the stored one; ``verdicts``: reviewers' labelled pairs (``record_a,
    record_b``), whose records every incremental run looks at again, so a verdict given since the last run
    is honoured (each costs the size of the profiles it touches). O(records + links)."""
    new = ~among(records, previous.index)
    new_keys = set(records[new])
    held_by_new = links.loc[among(links["record"], new_keys), "identifier"]
    influence = [
        used[["record", "identifier"]],
        links.loc[among(links["identifier"], status_changed) | among(links["identifier"], held_by_new),
                  ["record", "identifier"]],
        _pair_links(old_matches["record_a"], old_matches["record_b"], "old"),
    ]  # fmt: skip
    if verdicts is not None:
        influence.append(_pair_links(verdicts["record_a"], verdicts["record_b"], "verdict"))
    if candidates is not None:
        keys = candidates.fields.index
        is_new = among(pd.Index(keys), new_keys)
        touching = candidates.pairs[is_new[candidates.pairs[:, 0]] | is_new[candidates.pairs[:, 1]]]
        influence.append(_pair_links(keys[touching[:, 0]], keys[touching[:, 1]], "pair"))
        crossed = crossed_blocks(candidates.codes, candidates.rules, settings.matching.max_block_size, is_new)
        rows = crossed["row"].to_numpy(dtype=np.int64)
        influence.append(pd.DataFrame({"record": keys[rows], "identifier": "block:" + crossed["block"].astype(str)}))
    components = record_components(records, pd.concat(influence, ignore_index=True))
    seeds = set(records[new]) | set(links.loc[among(links["identifier"], status_changed), "record"])
    if verdicts is not None:
        seeds |= set(verdicts["record_a"]) | set(verdicts["record_b"])
    hit = set(components[among(components.index, seeds)])
    return Plan(components.reindex(records).isin(hit).to_numpy(), int(new.sum()))


def _pair_links(left: pd.Index | pd.Series, right: pd.Index | pd.Series, tag: str) -> pd.DataFrame:
    left, right = pd.Series(np.asarray(left, dtype=object)), pd.Series(np.asarray(right, dtype=object))
    key = f"{tag}:" + left + "|" + right
    return pd.concat([pd.DataFrame({"record": left, "identifier": key}),
                      pd.DataFrame({"record": right, "identifier": key})], ignore_index=True)  # fmt: skip
