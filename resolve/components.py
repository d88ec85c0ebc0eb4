"""Connected components of the record-identifier graph, in the style of networkx's ``connected``."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components


def record_components(records: pd.Series, links: pd.DataFrame) -> pd.Series:
    """Component label of every record: records sharing an identifier, directly or through a chain of
    records, get the same label. Labels are dense ints ``0..k-1`` in no particular order.

    ``records`` holds every record key (a record without identifiers is its own component);
    ``links`` has columns ``record, identifier`` and only the links resolution may use.
    Cost: O(n + m) for n records and identifiers and m links (scipy's union of a sparse graph).

    >>> links = pd.DataFrame({"record": ["a", "b", "c"], "identifier": ["e:1", "e:1", "e:2"]})
    >>> labels = record_components(pd.Series(["a", "b", "c", "d"]), links)
    >>> labels["a"] == labels["b"], labels["a"] == labels["c"], labels.nunique()
    (np.True_, np.False_, 3)
    """
    record_index = pd.Index(pd.unique(records))
    n_records = len(record_index)
    rows = record_index.get_indexer(links["record"])
    known = rows >= 0
    id_codes, _ = pd.factorize(links["identifier"][known])
    n_nodes = n_records + (int(id_codes.max()) + 1 if len(id_codes) else 0)
    cols = id_codes + n_records
    adjacency = coo_matrix((np.ones(len(cols), dtype=np.int8), (rows[known], cols)), shape=(n_nodes, n_nodes))
    _, labels = connected_components(adjacency, directed=False)
    record_labels = labels[:n_records]
    dense, _ = pd.factorize(record_labels)
    return pd.Series(dense, index=record_index, name="component")
