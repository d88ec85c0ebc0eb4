"""Guards that keep junk identifiers from chaining strangers into one profile.

An identifier is ignored by resolution when it is a built-in placeholder (``test@test.com``), on the
user's blocklist, or links more records than its type's cap (a shared value: a call-centre phone, a
shop's loyalty card). A phone ingest found in no assigned number range is ``unverified``: it still links
records (two records holding the same well-formed number), unless one of those rules ignores it.
"""

from __future__ import annotations

import pandas as pd

from graph.model import IdentifierStatus
from ingest.normalise import InvalidValue, normalise_identifier
from ingest.placeholders import placeholder_keys
from resolve.settings import ResolveSettings


def identifier_status(links: pd.DataFrame, settings: ResolveSettings) -> pd.Series:
    """Status of every identifier in ``links`` (columns ``record, identifier`` and, as the store's
    ``record_links`` reads them, ``unverified``), indexed by identifier key. Placeholder, blocklisted and
    shared take precedence over unverified.

    O(m) over the links, plus one placeholder check per identifier that links two records or more (a
    value on a single record links nothing, so it is left unchecked). The unverified flag is read, never
    decided here: ingest decided it where it parsed the phone.
    """
    degree = links.groupby("identifier", sort=False)["record"].nunique()
    keys = degree.index.to_series()
    types = keys.str.replace(r":.*$", "", regex=True)
    caps = types.map(settings.max_records_per_identifier).fillna(settings.default_max_records)
    status = pd.Series(IdentifierStatus.ACTIVE.value, index=degree.index, dtype=object)
    if "unverified" in links.columns:
        unverified = links.loc[links["unverified"].eq(True).to_numpy(), "identifier"].unique()
        if len(unverified):
            status.loc[unverified] = IdentifierStatus.UNVERIFIED.value
    status[degree.to_numpy() > caps.to_numpy()] = IdentifierStatus.SHARED.value
    blocked = _blocklist_keys(settings)
    status[keys.isin(blocked).to_numpy()] = IdentifierStatus.BLOCKLISTED.value
    if settings.use_placeholder_blocklist:
        linking = keys[(degree >= 2).to_numpy()]
        status[linking[placeholder_keys(linking.tolist())].tolist()] = IdentifierStatus.PLACEHOLDER.value
    return status


def _blocklist_keys(settings: ResolveSettings) -> set[str]:
    keys = set()
    for id_type, values in settings.blocklist.items():
        for raw in values:
            try:
                value = normalise_identifier(id_type, raw)
            except InvalidValue:
                value = str(raw).strip()
            if value:
                keys.add(f"{id_type}:{value}")
    return keys
