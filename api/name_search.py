"""Finding profiles by a person's name, as an analyst types it ("ann smith", "Smith, Ann").

Names are not identifiers, so no index holds them: the store scans record attributes, in lower case, for each
word of the name (in the stored JSON's escaped form), and each record found is kept when
every word of the query is one of the words of its name fields (compared by
:func:`ingest.normalise.name_key`: ASCII, lower case, so "lopez" finds "López" once another word of the name
is found as typed). Cost: one scan of the records' attributes per word, then O(records found).
"""

from __future__ import annotations

import json
from collections import Counter

from api.pii import pii_kind
from graph.store import GraphStore
from ingest.normalise import InvalidValue, name_key, normalise_attribute

__all__ = ["profiles_by_name"]

#: records read from the scan at most: a very common surname alone finds its first profiles, not all
SCANNED = 5_000


def profiles_by_name(store: GraphStore, name: str, first: int) -> list[str]:
    """Up to ``first`` profiles with a record whose name fields hold every word of ``name``, most such
    records first. An empty name, or one without a letter, finds nothing."""
    words = name_key(name.replace(",", " ")).split()
    if not words or first <= 0:
        return []
    wanted = set(words)
    seen: dict[str, tuple[str, str]] = {}  # record -> (profile, attributes)
    for needle in _needles(name):
        found = store.records_containing(needle, SCANNED)
        for record, text, profile_id in zip(found["record"], found["attributes"], found["profile_id"], strict=True):
            seen.setdefault(str(record), (str(profile_id), str(text)))
    hits: Counter[str] = Counter()
    for profile_id, text in seen.values():
        values = json.loads(text)
        held = {w for k, v in values.items() if pii_kind(k) == "name" for w in name_key(str(v)).split()}
        if wanted <= held:
            hits[profile_id] += 1
    return [pid for pid, _ in sorted(hits.items(), key=lambda item: (-item[1], item[0]))[:first]]


def _needles(name: str) -> list[str]:
    """Each word of ``name`` as a name's stored JSON text holds it (non-ASCII letters escaped), in lower case,
    longest first; words of one letter are left out (they would find every record)."""
    out: list[str] = []
    for word in sorted(set(name.replace(",", " ").split()), key=lambda w: (-len(w), w)):
        try:
            stored = normalise_attribute("last_name", word) or ""
        except InvalidValue:
            continue
        needle = json.dumps(stored)[1:-1].lower()
        if len(name_key(stored)) >= 2 and needle not in out:
            out.append(needle)
    return out
