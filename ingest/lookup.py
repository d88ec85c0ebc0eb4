"""How a looked-up value is normalised: as ingest normalised the graph's values.

Ingest stores its :class:`ingest.normalise.NormaliseOptions` (the phone region, the date order) and the
identifier types its sources map with the graph; every lookup (the API, ``cdp audience lookalike``, the
seed lists) reads them back, so ``07911 123456`` finds the number ingest stored whatever region the
looking process runs in.
"""

from __future__ import annotations

import json
import time
from typing import Any

from graph.settings import Settings
from graph.store import GraphStore
from ingest.config import IDENTIFIER_TYPES
from ingest.normalise import NormaliseOptions

__all__ = ["OptionsCache", "known_identifier_types", "lookup_options", "remember_ingest"]

_OPTIONS, _TYPES = "normalise_options", "identifier_types"


def lookup_options(store: GraphStore, settings: Settings) -> NormaliseOptions:
    """The options ingest stored with the graph; ``settings.default_region`` before any ingest."""
    stored = store.graph_settings().get(_OPTIONS)
    if stored:
        return NormaliseOptions(stored["default_region"], stored["date_order"])
    return NormaliseOptions(default_region=settings.default_region)


def known_identifier_types(store: GraphStore) -> list[str]:
    """The built-in identifier types and every other type a source has mapped, sorted."""
    return sorted(set(IDENTIFIER_TYPES) | set(store.graph_settings().get(_TYPES) or []))


def remember_ingest(store: GraphStore, options: NormaliseOptions, identifier_types: set[str]) -> str | None:
    """Store ``options`` and add ``identifier_types`` to those stored; a warning when the options differ
    from the ones earlier ingests stored (values already in the graph were read the old way)."""
    stored = store.graph_settings()
    before: dict[str, Any] | None = stored.get(_OPTIONS)
    now = {"default_region": options.default_region, "date_order": options.date_order}
    types = sorted(set(stored.get(_TYPES) or []) | identifier_types)

    def save(tx: Any) -> None:
        tx.set_graph_setting(_OPTIONS, json.dumps(now))
        tx.set_graph_setting(_TYPES, json.dumps(types))

    store.write(save, "remember how ingest read values")
    if before and before != now:
        return (f"options changed since the last ingest ({before} -> {now}): values already in the graph were "
                "read with the old options and lookups now use the new ones")  # fmt: skip
    return None


class OptionsCache:
    """:func:`lookup_options` for a server: read from the store at most once every ``recheck_s`` seconds,
    so a new ingest's options are used within that and a request costs no query."""

    def __init__(self, store: GraphStore, settings: Settings, recheck_s: float = 1.0) -> None:
        self.store, self.settings, self.recheck_s = store, settings, recheck_s
        self._options: NormaliseOptions | None = None
        self._read_at = 0.0

    def get(self) -> NormaliseOptions:
        now = time.monotonic()
        if self._options is None or now - self._read_at >= self.recheck_s:
            self._options, self._read_at = lookup_options(self.store, self.settings), now
        return self._options
