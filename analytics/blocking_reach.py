"""Blocking completeness against ground truth: the share of true pairs that reach scoring."""

from __future__ import annotations

import numpy as np
import pandas as pd

from graph.model import USABLE_STATUSES
from graph.store import GraphStore
from resolve.blocking import blocking_completeness
from resolve.components import record_components
from resolve.guards import identifier_status
from resolve.matching import block
from resolve.settings import ResolveSettings


def blocking_reach(store: GraphStore, truth: pd.Series, settings: ResolveSettings) -> float | None:
    """Share of true pairs (records with the same person in ``truth``) that a resolve with ``settings``
    can link at all: a candidate pair of the blocking rules, or already joined by active identifiers.
    None when fuzzy matching is off or no record has attributes. O(records + candidate pairs)."""
    attributes = store.record_attributes()
    if not settings.matching.enabled or attributes.empty:
        return None
    links = store.record_links()
    status = identifier_status(links, settings)
    active = links[links["identifier"].map(status).isin(USABLE_STATUSES).to_numpy()]
    candidates = block(attributes, settings.matching, active)
    keys = candidates.fields.index
    linked = record_components(pd.Series(keys), active).reindex(keys).to_numpy()
    labels = truth.reindex(keys).to_numpy(dtype=object)
    return blocking_completeness(candidates.pairs, labels, np.asarray(linked))
