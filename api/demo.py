"""``cdp demo``: synthetic multi-source data with ground truth -> ingest -> resolve -> scores."""

from __future__ import annotations

import pandas as pd

from analytics.plots import plot_profile_sizes
from analytics.quality import evaluate, load_truth
from api import reports
from api.progress import console, progress_bars
from api.service import CustomerService
from graph.errors import ConfigError
from graph.settings import StoreSettings, open_store
from graph.store import GraphStore
from ingest.config import load_config
from ingest.pipeline import ingest
from ingest.synthetic import generate_dataset
from resolve.runner import resolve
from resolve.settings import ResolveSettings

DEMO_SOURCES = {"crm", "web", "pos", "marketing"}


def run_demo(settings: StoreSettings, n_records: int, seed: int) -> None:
    directory = settings.data_dir / "demo"
    console.print(f"generating ~{n_records:,} source rows (seed {seed}) in {directory}")
    dataset = generate_dataset(directory, n_records=n_records, seed=seed)
    store = open_store(settings)
    try:
        _refuse_foreign_data(store)
        with progress_bars() as update:
            ingested = ingest(load_config(dataset.config_path), store, settings.data_dir / "rejects", None, update)
        reports.print_ingest(ingested)
        with progress_bars() as update:
            resolved = resolve(store, ResolveSettings(), update)
        reports.print_resolve(resolved)
        assigned = store.assignments().set_index("record")["profile_id"]
        stats = reports.collect_stats(store)
        example = _example_email(store, assigned)
    finally:
        store.close()
    result = evaluate(assigned, load_truth(str(dataset.truth_path)))
    scores = result.pairwise
    console.print(
        f"[bold]against the ground truth[/bold] ({dataset.n_people:,} people): "
        f"precision {scores.precision:.4f}, recall {scores.recall:.4f}, F1 {scores.f1:.4f} (pairwise); "
        f"B-cubed F1 {result.bcubed.f1:.4f}; largest profile {result.largest_profile[1]} records vs largest "
        f"true person {result.largest_entity[1]} (again any time: cdp evaluate --truth {dataset.truth_path})"
    )
    reports.print_stats(stats)
    chart = plot_profile_sizes(stats["profile_sizes"], directory / "profile_sizes.png", "Demo profile sizes")
    console.print(f"profile size distribution: {chart}")
    flag = f" --data-dir {settings.data_dir}" if str(settings.data_dir) != ".cdp" else ""
    console.print(
        f"\nNext: [bold]cdp serve{flag}[/bold] and open http://127.0.0.1:8000/graphql (GraphiQL), e.g.\n"
        f'  {{ profileByIdentifier(type: "email", value: "{example}") {{ id attributes {{ name value source }} }} }}'
    )


def _example_email(store: GraphStore, assigned: pd.Series) -> str:
    """An email of a profile with several records, so the suggested query shows a real 360 view."""
    sizes = assigned.value_counts()
    service = CustomerService(store)
    for profile_id in sizes.index[:20]:
        emails = [i.value for i in service.identifiers_of([profile_id]).get(profile_id, []) if i.type == "email"]
        active = [e for e in emails if e]
        if active:
            return active[0]
    return "someone@mail.co.uk"


def _refuse_foreign_data(store: GraphStore) -> None:
    sources = set(store.records_by_source())
    foreign = sources - DEMO_SOURCES
    if foreign:
        raise ConfigError(
            f"the store already holds other data (sources {', '.join(sorted(foreign))}); "
            "run the demo with --data-dir pointing at an empty directory"
        )
