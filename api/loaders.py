"""Per-request DataLoaders: one store query per field per batch of profiles, never one per profile."""

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
    return Loaders(
        size=_loader(service.existing_profiles, lambda: None),
        records=_loader(service.records_of, list),
        identifiers=_loader(service.identifiers_of, list),
        events=_loader(service.events_of, list),
        golden=_loader(service.golden_of, list),
        household=_loader(service.household_of, list),
        history=_loader(service.history_of, list),
        traits=_loader(service.traits_of, ProfileTraits),
    )
