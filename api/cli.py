"""``cdp``: the command line. Settings are read here, at the edge, and passed down."""

from __future__ import annotations

import dataclasses
import getpass
import json
import logging
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from api import cli_insights, reports
from api.progress import console, progress_bars
from graph.errors import CdpError
from graph.settings import StoreSettings, open_store
from graph.store import GraphStore

if TYPE_CHECKING:
    from api.service import CustomerService
    from resolve.explain import PairScore

app = typer.Typer(help="cdp-graph: unify customer data into resolved profiles.", no_args_is_help=True)
export_app = typer.Typer(help="Export resolved data.", no_args_is_help=True)
app.add_typer(export_app, name="export")

DataDir = Annotated[Path | None, typer.Option("--data-dir", help="Embedded store directory (overrides CDP_DATA_DIR).")]


def store_settings(data_dir: Path | None) -> StoreSettings:
    settings = StoreSettings()
    return settings.model_copy(update={"data_dir": data_dir}) if data_dir else settings


def _open(data_dir: Path | None) -> GraphStore:
    return open_store(store_settings(data_dir))


def _fail(exc: Exception) -> typer.Exit:
    console.print(f"[red]error:[/red] {exc}", highlight=False, soft_wrap=True)
    return typer.Exit(1)


@app.callback()
def main(verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log queries and timings.")] = False) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )


@app.command()
def ingest(
    config: Annotated[Path, typer.Argument(help="sources.yaml")],
    source: Annotated[str | None, typer.Option("--source", help="Ingest only this source.")] = None,
    data_dir: DataDir = None,
) -> None:
    """Read the sources of CONFIG into the identity graph (re-running changes nothing)."""
    from ingest.config import load_config
    from ingest.pipeline import check_sources
    from ingest.pipeline import ingest as run_ingest

    try:
        sources = load_config(config)
        check_sources(sources, source)
        settings = store_settings(data_dir)
        store = open_store(settings)
        try:
            with progress_bars() as update:
                summary = run_ingest(sources, store, settings.data_dir / "rejects", source, update)
        finally:
            store.close()
    except CdpError as exc:
        raise _fail(exc) from None
    reports.print_ingest(summary)


@app.command()
def resolve(
    settings_file: Annotated[Path | None, typer.Option("--settings", help="Resolution settings (YAML/JSON).")] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show the merges, splits and moves a run would make; write nothing.")
    ] = False,
    full: Annotated[
        bool, typer.Option("--full", help="Resolve everything and estimate the match model again.")
    ] = False,
    labels_file: Annotated[
        Path | None, typer.Option("--labels", help="Pairs labelled match or not (CSV record_a,record_b,match).")
    ] = None,
    data_dir: DataDir = None,
) -> None:
    """Resolve records into customer profiles: after the first run, only what new records can change.
    --labels refines the estimated match model with labelled pairs (and so makes it a full run)."""
    from resolve.labels import load_labels
    from resolve.runner import resolve as run_resolve
    from resolve.settings import load_resolve_settings

    try:
        settings = load_resolve_settings(settings_file)
        labels = load_labels(labels_file) if labels_file else None
        store = _open(data_dir)
        try:
            with progress_bars() as update:
                summary = run_resolve(store, settings, update, dry_run=dry_run, incremental=not full, labels=labels)
        finally:
            store.close()
    except CdpError as exc:
        raise _fail(exc) from None
    reports.print_resolve(summary)
    used = summary.matching.get("labels") or {}
    if labels is not None and isinstance(used, dict):
        console.print(f"match model refined with {used.get('pairs', 0):,} labelled pairs (matches: "
                      f"{used.get('matches', 0):,}, non-matches: {used.get('non_matches', 0):,})", highlight=False)  # fmt: skip


@export_app.command("profiles")
def export_profiles(
    out: Annotated[Path, typer.Option("--out", help="Output file: .csv or .parquet")],
    data_dir: DataDir = None,
) -> None:
    """Write source,record_id,profile_id, one row per record."""
    from api.exports import export_profiles as run_export

    try:
        store = _open(data_dir)
        try:
            rows = run_export(store, out)
        finally:
            store.close()
    except CdpError as exc:
        raise _fail(exc) from None
    console.print(f"wrote {rows:,} rows to {out}")


@export_app.command("traits")
def export_traits(
    out: Annotated[Path, typer.Option("--out", help="Output file: .csv or .parquet")],
    as_of: Annotated[
        datetime | None,
        typer.Option(
            "--as-of",
            formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%S%z"],
            help="Traits as they stood then (a date is 00:00 UTC); later events are left out. Default: now.",
        ),
    ] = None,
    data_dir: DataDir = None,
) -> None:
    """Write each profile's traits computed from its events: recency_days, frequency, monetary, first_seen,
    last_seen, top_category, events, channel_mix; one row per profile with events."""
    from api.exports import export_traits as run_export

    moment = as_of or datetime.now(UTC)
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # a date, or a time without a zone
    try:
        store = _open(data_dir)
        try:
            with progress_bars() as update:
                rows, without = run_export(store, out, moment, update)
        finally:
            store.close()
    except CdpError as exc:
        raise _fail(exc) from None
    console.print(f"wrote {rows:,} rows to {out} (traits as of {moment.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}; "
                  f"{without:,} profiles without events by then have no row)", highlight=False)  # fmt: skip


@app.command()
def stats(
    data_dir: DataDir = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")] = False,
    plot: Annotated[
        Path | None, typer.Option("--plot", help="Also draw the profile size distribution (.png/.svg).")
    ] = None,
) -> None:
    """Counts, profile sizes, and the identifiers resolution ignored."""
    try:
        store = _open(data_dir)
        try:
            figures = reports.collect_stats(store)
        finally:
            store.close()
    except CdpError as exc:
        raise _fail(exc) from None
    if as_json:
        print(json.dumps(figures, indent=2))
    else:
        reports.print_stats(figures)
    if plot:
        from analytics.plots import plot_profile_sizes

        try:
            plot_profile_sizes(figures["profile_sizes"], plot)
        except ValueError as exc:
            raise _fail(exc) from None
        console.print(f"profile size distribution drawn in {plot}")


@app.command()
def explain(
    a: Annotated[str, typer.Argument(help="A record (SOURCE:RECORD_ID) or a profile id")],
    b: Annotated[str, typer.Argument(help="Another record or profile id")],
    data_dir: DataDir = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")] = False,
) -> None:
    """Why two records (or profiles) are one profile (the chain of evidence), or why they are not."""
    from api.service import CustomerService

    try:
        store = _open(data_dir)
        try:
            found = CustomerService(store).explain(a, b)
        finally:
            store.close()
    except CdpError as exc:
        raise _fail(exc) from None
    if as_json:
        payload = {**asdict(found), "same_profile": found.same_profile, "summary": found.summary}
        print(json.dumps(payload, indent=2))
    else:
        reports.print_explanation(found)
        if found.pair_score:
            _print_pair_score(found.pair_score)


def _print_pair_score(score: PairScore) -> None:
    keys = ", ".join(score.blocking_rules) or "none (never compared)"
    console.print(f"  fuzzy-match score: probability {score.probability:.4f}, total weight {score.weight:+.2f}, "
                  f"threshold {score.threshold:g}; blocking keys shared: {keys}", highlight=False)  # fmt: skip
    for c in score.comparisons:
        console.print(f"       {c.comparison:<14} {c.level:<36} {c.weight:+.2f}", highlight=False)


@app.command()
def evaluate(
    truth: Annotated[Path, typer.Option("--truth", help="CSV with columns source,record_id,person_id.")],
    data_dir: DataDir = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Score the resolved profiles against ground truth: pairwise and B-cubed precision/recall/F1."""
    from analytics.blocking_reach import blocking_reach
    from analytics.quality import evaluate as score
    from analytics.quality import load_truth
    from resolve.settings import last_run_settings

    try:
        labels = load_truth(str(truth))
        store = _open(data_dir)
        try:
            assigned = store.assignments().set_index("record")["profile_id"]
            reach = blocking_reach(store, labels, last_run_settings(store)) if not assigned.empty else None
        finally:
            store.close()
    except CdpError as exc:
        raise _fail(exc) from None
    if assigned.empty:
        raise _fail(CdpError("no resolved profiles yet: run `cdp resolve` first"))
    result = dataclasses.replace(score(assigned, labels), blocking_reach=reach)
    if as_json:
        print(json.dumps(result.to_dict(), indent=2))
    else:
        reports.print_evaluation(result)


SettingsFile = Annotated[
    Path | None,
    typer.Option("--settings", help="Resolution settings for the resolve that follows (default: the last run's)."),
]
Reason = Annotated[str, typer.Option("--reason", help="Why: kept on the profiles' history.")]


def _override_service(store: GraphStore) -> CustomerService:
    """The service acting as the OS user, whose name goes on the profiles' history."""
    from api.access import Principal
    from api.service import CustomerService

    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a bare container)
        user = "local"
    return CustomerService(store, principal=Principal(user))


@app.command()
def merge(
    ids: Annotated[list[str], typer.Argument(help="Two or more profile ids")],
    reason: Reason,
    settings_file: SettingsFile = None,
    data_dir: DataDir = None,
) -> None:
    """Merge profiles for good: every later resolve keeps their records in one profile."""
    from resolve.settings import load_resolve_settings

    try:
        settings = load_resolve_settings(settings_file) if settings_file else None
        store = _open(data_dir)
        try:
            merged = _override_service(store).merge_profiles(ids, reason, settings)
        finally:
            store.close()
    except CdpError as exc:
        raise _fail(exc) from None
    console.print(f"merged {', '.join(ids)} into {merged}; later resolves keep them together", highlight=False)


@app.command()
def split(
    profile_id: Annotated[str, typer.Argument(help="The profile to split")],
    records: Annotated[
        list[str], typer.Option("--records", help="Records to split off: SOURCE:ID,SOURCE:ID (repeatable).")
    ],
    reason: Reason,
    settings_file: SettingsFile = None,
    data_dir: DataDir = None,
) -> None:
    """Split records off a profile for good: every later resolve keeps them apart from its other records."""
    from resolve.settings import load_resolve_settings

    keys = [key.strip() for value in records for key in value.split(",") if key.strip()]
    try:
        settings = load_resolve_settings(settings_file) if settings_file else None
        store = _open(data_dir)
        try:
            parts = _override_service(store).split_profile(profile_id, keys, reason, settings)
        finally:
            store.close()
    except CdpError as exc:
        raise _fail(exc) from None
    console.print(f"split {profile_id} into {', '.join(parts)}; later resolves keep them apart", highlight=False)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8000,
    data_dir: DataDir = None,
) -> None:
    """Serve the GraphQL API (GraphiQL at /graphql)."""
    import uvicorn

    from api.app import create_app

    try:
        application = create_app(store_settings(data_dir))
    except CdpError as exc:
        raise _fail(exc) from None
    console.print(f"GraphiQL: http://{host}:{port}/graphql")
    uvicorn.run(application, host=host, port=port, log_level="info")


@app.command()
def demo(
    records: Annotated[int, typer.Option(help="Approximate number of source rows to generate.")] = 10_000,
    seed: Annotated[int, typer.Option(help="Random seed of the generator.")] = 42,
    data_dir: DataDir = None,
) -> None:
    """Generate multi-source data with ground truth, ingest, resolve and score the result."""
    from api.demo import run_demo

    try:
        run_demo(store_settings(data_dir), records, seed)
    except CdpError as exc:
        raise _fail(exc) from None


@app.command("schema")
def schema_sdl(out: Annotated[Path | None, typer.Option("--out", help="Write the SDL here.")] = None) -> None:
    """Print (or write) the GraphQL schema in SDL; the committed schema.graphql is this output."""
    from api.schema import build_schema

    sdl = build_schema().as_str() + "\n"
    if out:
        out.write_text(sdl)
    else:
        print(sdl, end="")


cli_insights.register(app, _open, _fail)

if __name__ == "__main__":
    app()
