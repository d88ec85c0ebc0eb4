"""Per-request DataLoaders: one store query per field per batch of profiles, never one per profile, and
one query for fields computed from the same rows (golden attributes from the records, traits from the
events)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from strawberry.dataloader import DataLoader

from analytics.traits import ProfileTraits
from api.service import CustomerService

T = TypeVar("T")


def _loader(fetch: Callable[[Sequence[str]], dict[str, Any]], default: Callable[[], Any]) -> DataLoader:
    async def load(keys: list[str]) -> list[Any]:
        found = await asyncio.to_thread(fetch, keys)  # store drivers are blocking
        return [found.get(key, default()) for key in keys]

    return DataLoader(load_fn=load)


def _derived(base: DataLoader, compute: Callable[[Any], Any]) -> DataLoader:
    """A loader of values computed from another loader's, which reads the store once for both."""

    async def load(keys: list[str]) -> list[Any]:
        return [compute(value) for value in await base.load_many(keys)]

    return DataLoader(load_fn=load)


@dataclass
class Loaders:
    size: DataLoader
    records: DataLoader
    identifiers: DataLoader
    events: DataLoader
    golden: DataLoader
    household: DataLoader
    history: DataLoader
    traits: DataLoader


def make_loaders(service: CustomerService) -> Loaders:
    records = _loader(service.records_of, list)
    event_rows = _loader(service.event_rows_of, list)
    return Loaders(
        size=_loader(service.existing_profiles, lambda: None),
        records=records,
        identifiers=_loader(service.identifiers_of, list),
        events=_derived(event_rows, service.events_from),
        golden=_derived(records, service.golden_from),
        household=_loader(service.household_of, list),
        history=_loader(service.history_of, list),
        traits=_derived(event_rows, lambda rows: service.traits_from(rows) if rows else ProfileTraits()),
    )
