"""Embedding-backed reads for the service facade: similar customers, lookalike audiences, recommendations.

The stored model is loaded once per process and reloaded when ``cdp embed`` stores a new one (its id is
checked at most once a second: one small query), so an API query costs one matrix-vector product.
Contact details in an audience are the golden email and phone the audience's purpose allows
(:data:`resolve.consent.CONTACT_FIELDS`), of profiles whose latest consent to that purpose is a grant
(:mod:`resolve.consent`); others get the profile id and score only.
"""

from __future__ import annotations

import threading
import time
import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from analytics.customer_graph import parse_properties
from analytics.embedding_store import Embeddings, load_embeddings
from analytics.embeddings import current_embeddings
from analytics.lookalike import SeedList, lookalike_scores
from analytics.recommend import recommend
from analytics.similarity import SimilarityIndex
from graph.errors import InvalidRequest, NotFound
from graph.model import USABLE_STATUSES, IdentifierStatus, identifier_key
from graph.store import GraphStore
from ingest.normalise import InvalidValue, normalise_identifier
from resolve.consent import CONTACT_FIELDS, PURPOSES

if TYPE_CHECKING:
    from api.service import CustomerService, IdentifierView


def check_purpose(purpose: str) -> str:
    """``purpose`` when it is one of :data:`resolve.consent.PURPOSES`, else an error listing them."""
    if purpose not in PURPOSES:
        raise InvalidRequest(f"unknown purpose '{purpose}' (purposes: {', '.join(PURPOSES)})")
    return purpose


@dataclass
class LoadedModel:
    embeddings: Embeddings
    profiles: SimilarityIndex


class ModelCache:
    """The current embedding model of each store, loaded on first use and when its id changes; the id is
    read from the store at most once every ``recheck_s`` seconds (a new model is served within that)."""

    def __init__(self, recheck_s: float = 1.0) -> None:
        self.recheck_s = recheck_s
        self._lock = threading.Lock()
        # store -> (model id, model, monotonic time the id was last read); weak, so a closed store's model goes
        self._loaded: weakref.WeakKeyDictionary[GraphStore, tuple[str, LoadedModel, float]] = (
            weakref.WeakKeyDictionary()
        )

    def get(self, store: GraphStore) -> LoadedModel:
        cached = self._loaded.get(store)
        if cached is not None and time.monotonic() - cached[2] < self.recheck_s:
            return cached[1]
        current = store.embedding_model()
        if current is None:
            raise NotFound("no embeddings yet: run `cdp embed` (after `cdp resolve`)")
        with self._lock:
            cached = self._loaded.get(store)
            if cached is None or cached[0] != current["id"]:
                embeddings = load_embeddings(store)
                if embeddings is None:
                    raise NotFound("no embeddings yet: run `cdp embed` (after `cdp resolve`)")
                cached = (embeddings.id, LoadedModel(embeddings, SimilarityIndex(embeddings, "profile")), 0.0)
            self._loaded[store] = (cached[0], cached[1], time.monotonic())
            return cached[1]


MODELS = ModelCache()


def seed_profiles(service: CustomerService, seeds: SeedList) -> tuple[list[str], list[str]]:
    """The live profiles a seed list names (merged-away ids followed) and one line per seed not found,
    saying why (unknown id, unknown identifier type, invalid identifier value, identifier held by no profile)."""
    asked = [pid for _, pid in seeds.profile_ids]
    current = service.current_ids(asked)
    found = [current[pid] for pid in asked if pid in current]
    unknown = [f"{line}: no profile '{pid}'" for line, pid in seeds.profile_ids if pid not in current]
    keys, lines = [], []
    bad_types = _unknown_types(service, {id_type for _, id_type, _ in seeds.identifiers})
    for line, id_type, raw in seeds.identifiers:
        if id_type in bad_types:
            unknown.append(f"{line}: {bad_types[id_type]}")
            continue
        try:
            value = normalise_identifier(id_type, raw, service.options)
        except InvalidValue as exc:
            unknown.append(f"{line}: {id_type} '{raw}' is not a valid value: {exc.reason}")
            continue
        keys.append(identifier_key(id_type, value) if value else "")
        lines.append((line, id_type, raw))
    held = service.store.profile_by_identifiers([k for k in keys if k])
    for key, (line, id_type, raw) in zip(keys, lines, strict=True):
        if key in held:
            found.append(held[key])
        else:
            unknown.append(f"{line}: no profile holds {id_type} '{raw}'")
    return list(dict.fromkeys(found)), unknown


def _unknown_types(service: CustomerService, types: set[str]) -> dict[str, str]:
    """Each of ``types`` that is not a known identifier type, with the error saying the known ones."""
    out = {}
    for id_type in sorted(types):
        try:
            service.check_identifier_type(id_type)
        except InvalidRequest as exc:
            out[id_type] = str(exc)
    return out


def lookalike_audience(service: CustomerService, seeds: list[str], size: int, purpose: str = "email") -> pd.DataFrame:
    """``profile_id, score, email, phone`` of the ``size`` profiles most like ``seeds`` (a fresh model
    only); contact details only those ``purpose`` allows, of profiles that consented to it."""
    embeddings, _ = current_embeddings(service.store, fresh=True)
    audience = lookalike_scores(SimilarityIndex(embeddings, "profile"), seeds, size)
    return audience.join(contacts(service, audience["profile_id"].tolist(), purpose), on="profile_id")


def _contact_rank(held: IdentifierView) -> tuple[bool, int, str, str]:
    return held.status == IdentifierStatus.ACTIVE, len(held.sources), held.last_seen, held.value


def consenting(service: CustomerService, ids: list[str], purpose: str, chunk: int = 5_000) -> list[str]:
    """Those of ``ids`` whose latest consent to ``purpose`` is a grant (read ``chunk`` profiles at a time)."""
    check_purpose(purpose)
    out = []
    for start in range(0, len(ids), chunk):
        part = ids[start : start + chunk]
        consent = service.consent_of(part)
        out += [pid for pid in part if (state := consent[pid].get(purpose)) is not None and state.granted]
    return out


def contacts(service: CustomerService, ids: list[str], purpose: str = "email") -> pd.DataFrame:
    """Golden ``email`` and ``phone`` (the active value most sources hold, then the latest seen; an unverified
    phone only without an active one), those ``purpose`` allows, of the profiles whose latest consent to it
    is a grant, indexed by profile id; empty for the rest."""
    allowed = CONTACT_FIELDS[check_purpose(purpose)]
    consent = service.consent_of(ids)
    identifiers = service.identifiers_of(ids)
    rows = []
    for pid in ids:
        state = consent.get(pid, {}).get(purpose)
        opted = state is not None and state.granted
        best = {}
        for kind in ("email", "phone"):
            held = [v for v in identifiers.get(pid, []) if v.type == kind and v.status in USABLE_STATUSES]
            pick = max(held, key=_contact_rank, default=None)
            best[kind] = pick.value if (pick and opted and kind in allowed) else ""
        rows.append({"profile_id": pid, **best})
    return pd.DataFrame(rows, columns=["profile_id", "email", "phone"]).set_index("profile_id")


def purchases_of(store: GraphStore, ids: list[str] | None) -> pd.DataFrame:
    """``profile_id, sku`` of every purchase (of ``ids``, or of every profile)."""
    if ids is None:
        events = store.profile_events()
    else:
        events = pd.DataFrame(store.events_of(ids), columns=["profile_id", "type", "ts", "source", "properties"])
    events = events[events["type"] == "purchase"]
    sku = parse_properties(events["properties"], ["sku"])["sku"]
    return pd.DataFrame({"profile_id": events["profile_id"].to_numpy(), "sku": sku.to_numpy()}).dropna()


def recommendations(service: CustomerService, ids: list[str] | None, k: int) -> pd.DataFrame:
    """``profile_id, product, score``: ``k`` products for each of ``ids`` (every profile with a vector when
    None) that it has not bought."""
    model = MODELS.get(service.store)
    profiles = ids if ids is not None else model.profiles.ids.tolist()
    return recommend(model.embeddings, profiles, purchases_of(service.store, ids), k)
