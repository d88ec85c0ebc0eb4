"""Households: different people who share an address-like identifier (a family email, a home phone, a
shared device) are linked as one household, never merged into one profile.

Two profiles are in one household when records of both hold the same email, phone or device value
(`household_types`) that resolution did not use to merge them: it was cut by a limit, blocklisted, or
shared by more records than its type's cap. Placeholders never make a household, and a value held by
more than `max_household_profiles` profiles (a call-centre phone) is not a home. Households are the
connected components of profiles over such values. O(n + m).
"""

from __future__ import annotations

import hashlib

import pandas as pd

from graph.frames import among
from graph.model import IdentifierStatus
from resolve.components import record_components
from resolve.settings import ResolveSettings


def households(links: pd.DataFrame, status: pd.Series, profile_of: pd.Series, settings: ResolveSettings) -> pd.Series:
    """Household id per profile, for profiles that share a household with another one.

    >>> links = pd.DataFrame({"record": ["a", "b", "c"], "identifier": ["email:f@x.com"] * 2 + ["email:c@x.com"]})
    >>> status = pd.Series({"email:f@x.com": "blocklisted", "email:c@x.com": "active"})
    >>> households(links, status, pd.Series({"a": "p1", "b": "p2", "c": "p3"}), ResolveSettings()).index.tolist()
    ['p1', 'p2']
    """
    prefixes = tuple(f"{t}:" for t in settings.household_types)
    homes = links[links["identifier"].str.startswith(prefixes)]
    homes = homes[homes["identifier"].map(status).to_numpy() != IdentifierStatus.PLACEHOLDER.value]
    pairs = pd.DataFrame({"profile": homes["record"].map(profile_of), "identifier": homes["identifier"]})
    pairs = pairs.dropna().drop_duplicates()
    spread = pairs.groupby("identifier")["profile"].nunique()
    shared = spread.index[(spread >= 2) & (spread <= settings.max_household_profiles)]
    pairs = pairs[among(pairs["identifier"], shared)].rename(columns={"profile": "record"})
    if pairs.empty:
        return pd.Series(dtype="str", name="household_id")
    labels = record_components(pairs["record"], pairs)
    first = labels.index.to_series().groupby(labels.to_numpy()).min()
    ids = {label: "h_" + hashlib.blake2b(str(p).encode(), digest_size=8).hexdigest() for label, p in first.items()}
    return labels.map(ids).rename("household_id")
