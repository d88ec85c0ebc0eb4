"""How lookups read values: as ingest read the graph's, whatever the looking process's own settings."""

from __future__ import annotations

from api.service import CustomerService
from graph.model import IdentifierLink, SourceRecord
from graph.settings import Settings
from graph.store import GraphStore
from ingest.lookup import OptionsCache, known_identifier_types, lookup_options, remember_ingest
from ingest.normalise import NormaliseOptions
from resolve.runner import resolve
from resolve.settings import ResolveSettings


def test_lookups_use_the_options_ingest_stored(store: GraphStore) -> None:
    gb = Settings(default_region="GB")
    assert lookup_options(store, gb).default_region == "GB"  # nothing ingested yet: the setting
    assert remember_ingest(store, NormaliseOptions("US", "MDY"), {"phone", "member_no"}) is None
    assert lookup_options(store, gb) == NormaliseOptions("US", "MDY")
    assert "member_no" in known_identifier_types(store) and "email" in known_identifier_types(store)
    store.upsert_records(
        [SourceRecord("us", "U1", [IdentifierLink("phone", "+14155550134")], {}, "2025-01-01T00:00:00Z")]
    )
    resolve(store, ResolveSettings())
    service = CustomerService(store, OptionsCache(store, gb).get)
    assert (
        service.profiles_by_identifier("phone", "(415) 555-0134")
        == service.profiles_by_identifier("phone", "+1 415 555 0134")
        != []
    )  # a US number written nationally, found by a process whose own region is GB


def test_changing_the_options_warns(store: GraphStore) -> None:
    remember_ingest(store, NormaliseOptions("US", "MDY"), {"phone"})
    warning = remember_ingest(store, NormaliseOptions("GB", "DMY"), {"email"})
    assert warning is not None and "read with the old options" in warning
    assert set(known_identifier_types(store)) >= {"phone", "email"}
