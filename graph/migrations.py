"""Bring a graph written by an older version of cdp-graph up to the current layout, once, when opened.

The layout version is stored with the graph (``schema_version``). Version 2 reads a profile's history
along ``HAS_HISTORY`` edges: entries written before are linked to their profiles. (Households moved to
``Household`` nodes in the same version; an older graph's are rebuilt by its next resolve.) Version 3
declares ``Identifier.unverified`` (:data:`graph.schema.ADDED_PROPERTIES`): the embedded store adds the
column, false on every identifier (an older ingest rejected the phones that would be true); Neo4j needs
nothing, its reads take a missing property as false. Version 4 declares ``Destination.format`` (csv or parquet,
for a folder): a destination added before reads as csv, the one format there was.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from graph.schema import ADDED_PROPERTIES
from graph.store import GraphStore

logger = logging.getLogger(__name__)

__all__ = ["SCHEMA_VERSION", "migrate"]

SCHEMA_VERSION = 4
_KEY = "schema_version"


def migrate(store: GraphStore) -> None:
    """Upgrade ``store`` to :data:`SCHEMA_VERSION` if it is older (idempotent; one read when current)."""
    version = int(store.graph_settings().get(_KEY, 1))
    if version >= SCHEMA_VERSION:
        return

    def upgrade(tx: Any) -> None:
        if version < 2:
            tx.link_unlinked_history()
        for added_in, label, name in ADDED_PROPERTIES:
            if version < added_in:
                tx.add_property(label, name)
        tx.set_graph_setting(_KEY, json.dumps(SCHEMA_VERSION))

    logger.info("upgrading the graph from layout %d to %d", version, SCHEMA_VERSION)
    store.write(upgrade, "upgrade the graph's layout")
