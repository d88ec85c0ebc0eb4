"""``cdp demo``: synthetic multi-source data with ground truth -> ingest -> resolve -> scores.

The store work runs as jobs (:mod:`api.jobs`), so the demo works beside a running ``cdp serve`` too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd

from analytics.plots import plot_profile_sizes
from analytics.quality import Evaluation
from api import reports
from api.progress import console
from api.service import CustomerService
from graph.errors import ConfigError
from graph.settings import Settings
from graph.store import GraphStore
from ingest.synthetic import generate_dataset

DEMO_SOURCES = {"crm", "web", "pos", "marketing"}

#: (job name, arguments, with progress bars) -> its result
JobFn = Callable[[str, dict[str, Any], bool], Any]


def run_demo(settings: Settings, n_records: int, seed: int, job: JobFn) -> None:
    directory = (settings.data_dir / "demo").resolve()
    console.print(f"generating ~{n_records:,} source rows (seed {seed}) in {directory}")
    dataset = generate_dataset(directory, n_records=n_records, seed=seed)
    foreign = set(job("demo_sources", {}, False)) - DEMO_SOURCES
    if foreign:
        raise ConfigError(
            f"the store already holds other data (sources {', '.join(sorted(foreign))}); "
            "run the demo with --data-dir pointing at an empty directory"
        )
    reports.print_ingest(job("ingest", {"config": str(dataset.config_path.resolve()), "source": None}, True))
    from resolve.settings import ResolveSettings

    args = {"settings": ResolveSettings().to_json(), "dry_run": False, "full": False, "labels": None}
    reports.print_resolve(job("resolve", args, True))
    report = job("demo_report", {"truth": str(dataset.truth_path.resolve())}, False)
    _print_scores(report, dataset.n_people, dataset.truth_path)
    stats = reports.stats_from_json(report["stats"])
    reports.print_stats(stats)
    chart = plot_profile_sizes(stats["profile_sizes"], directory / "profile_sizes.png", "Demo profile sizes")
    console.print(f"profile size distribution: {chart}")
    flag = f" --data-dir {settings.data_dir}" if str(settings.data_dir) != ".cdp" else ""
    console.print(
        f"\nNext: [bold]cdp serve --insecure-local{flag}[/bold] (loopback, no API keys) and open "
        "http://127.0.0.1:8000/graphql (GraphiQL), e.g.\n"
        f'  {{ profileByIdentifier(type: "email", value: "{report["example"]}") {{ id attributes {{ name value source }} }} }}'
    )


def _print_scores(report: dict[str, Any], people: int, truth: object) -> None:
    from pydantic import TypeAdapter

    result = TypeAdapter(Evaluation).validate_python(report["evaluation"])
    scores = result.pairwise
    console.print(
        f"[bold]against the ground truth[/bold] ({people:,} people): "
        f"precision {scores.precision:.4f}, recall {scores.recall:.4f}, F1 {scores.f1:.4f} (pairwise); "
        f"B-cubed F1 {result.bcubed.f1:.4f}; largest profile {result.largest_profile[1]} records vs largest "
        f"true person {result.largest_entity[1]} (again any time: cdp evaluate --truth {truth})"
    )


def example_email(store: GraphStore, assigned: pd.Series) -> str:
    """An email of a profile with several records, so the suggested query shows a real 360 view."""
    sizes = assigned.value_counts()
    service = CustomerService(store)
    for profile_id in sizes.index[:20]:
        emails = [i.value for i in service.identifiers_of([profile_id]).get(profile_id, []) if i.type == "email"]
        active = [e for e in emails if e]
        if active:
            return active[0]
    return "someone@mail.co.uk"
