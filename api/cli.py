"""``cdp``: the command line. Settings are read here, at the edge, and passed down.

Commands that use the store run as jobs (:mod:`api.jobs`): here, or in the ``cdp serve`` that holds
the embedded store (:mod:`api.handoff`). Everything heavy is imported inside the command that needs it,
so ``cdp --help`` and ``cdp --version`` answer at once.
"""

from __future__ import annotations

import logging
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
import typer.core

from api import cli_destinations, cli_insights, cli_privacy, cli_report, cli_review, cli_segments

if TYPE_CHECKING:
    from graph.settings import Settings

app = typer.Typer(help="cdp-graph: unify customer data into resolved profiles.", no_args_is_help=True)
export_app = typer.Typer(help="Export resolved data.", no_args_is_help=True)
app.add_typer(export_app, name="export")
keys_app = typer.Typer(help="API keys: create, list and revoke who may call `cdp serve`.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")

DataDir = Annotated[Path | None, typer.Option("--data-dir", help="Embedded store directory (overrides CDP_DATA_DIR).")]
_VERBOSE = ("-v", "--verbose")


def _flag_type(self: typer.core.TyperOption, ctx: Any, _shown: Any = typer.core.TyperOption.display_type_rich) -> Any:
    """A flag takes no value, so its help shows no ``<bool>`` type (typer 0.29 shows one)."""
    return None if self.is_flag else _shown(self, ctx)


typer.core.TyperOption.display_type_rich = _flag_type  # type: ignore[method-assign]


def settings_for(data_dir: Path | None) -> Settings:
    from graph.settings import Settings

    settings = Settings()
    return settings.model_copy(update={"data_dir": data_dir}) if data_dir else settings


def fail(exc: BaseException) -> typer.Exit:
    """One line on stderr, exit status 1."""
    typer.echo(f"error: {exc}", err=True)
    return typer.Exit(1)


def job(data_dir: Path | None, name: str, args: dict[str, Any], bars: bool = True) -> Any:
    """Run job ``name`` (see :mod:`api.jobs`) with progress bars; a :class:`CdpError` ends the command
    with its one-line message."""
    from api.handoff import run_job
    from api.progress import console, progress_bars
    from graph.errors import CdpError

    def note(text: str) -> None:
        console.print(text, highlight=False, markup=False)

    try:
        settings = settings_for(data_dir)
        if not bars:
            return run_job(settings, name, args, lambda *_: None, note)
        with progress_bars() as update:
            return run_job(settings, name, args, update, note)
    except CdpError as exc:
        raise fail(exc) from None
    except KeyboardInterrupt:
        typer.echo("interrupted: every write made so far is complete; run the command again to finish", err=True)
        raise typer.Exit(130) from None


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        typer.echo(f"cdp-graph {version('cdp-graph')}")
        raise typer.Exit()


@app.callback()
def main_options(
    verbose: Annotated[bool, typer.Option(*_VERBOSE, help="Log queries and timings (anywhere on the line).")] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
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
    from api import reports
    from graph.errors import CdpError
    from ingest.config import load_config
    from ingest.pipeline import check_sources

    try:
        check_sources(load_config(config), source)  # before anything is written, here or in a server
    except CdpError as exc:
        raise fail(exc) from None
    reports.print_ingest(job(data_dir, "ingest", {"config": str(config.resolve()), "source": source}))


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
    show_settings: Annotated[
        bool,
        typer.Option("--show-settings", help="Print the comparisons and blocking rules a full run would use, and why."),
    ] = False,
    data_dir: DataDir = None,
) -> None:
    """Resolve records into customer profiles: after the first run, only what new records can change.
    --labels refines the estimated match model with labelled pairs (and so makes it a full run).
    --show-settings prints, as YAML a settings file can start from, what a run would compare and block on
    (chosen from the data where no settings file says) and why; it resolves nothing."""
    from api import reports
    from api.progress import console
    from graph.errors import CdpError
    from resolve.labels import load_labels
    from resolve.settings import load_resolve_settings

    try:
        settings = load_resolve_settings(settings_file)
        labels = load_labels(labels_file).to_dict("records") if labels_file else None
    except CdpError as exc:
        raise fail(exc) from None
    if show_settings:
        typer.echo("\n".join(job(data_dir, "match_settings", {"settings": settings.to_json()}, bars=False)))
        return
    args = {"settings": settings.to_json(), "dry_run": dry_run, "full": full, "labels": labels}
    summary = job(data_dir, "resolve", args)
    reports.print_resolve(summary)
    used = summary.matching.get("labels") or {}
    if labels is not None and isinstance(used, dict):
        console.print(f"match model refined with {used.get('pairs', 0):,} labelled pairs (matches: "
                      f"{used.get('matches', 0):,}, non-matches: {used.get('non_matches', 0):,})", highlight=False)  # fmt: skip


@keys_app.command("create")
def keys_create(
    name: Annotated[str, typer.Option("--name", help="What the key is for (letters, digits, _ . -)")],
    scopes: Annotated[
        str, typer.Option("--scopes", help="Comma-separated: read:profiles, read:pii, write:profiles, export, admin")
    ],
    data_dir: DataDir = None,
) -> None:
    """Create a key and print it, alone on stdout: it is shown this once and stored only as a hash."""
    key = job(data_dir, "keys_create", {"name": name, "scopes": scopes}, bars=False)
    typer.echo(key)
    typer.echo(f"key '{name}' created with scopes {scopes}; it is not shown again", err=True)


@keys_app.command("list")
def keys_list(data_dir: DataDir = None) -> None:
    """Every key's name, scopes, and when it was created and last used (never the key)."""
    rows = job(data_dir, "keys_list", {}, bars=False)
    if not rows:
        typer.echo("no keys (create one with `cdp keys create --name NAME --scopes SCOPES`)", err=True)
    for row in rows:
        typer.echo(f"{row['name']}\t{','.join(row['scopes'])}\tcreated {row['created_at']}\t"
                   f"last used {row['last_used_at'] or 'never'}")  # fmt: skip


@keys_app.command("revoke")
def keys_revoke(name: Annotated[str, typer.Argument(help="The key's name")], data_dir: DataDir = None) -> None:
    """Delete a key: requests carrying it are refused from now on."""
    job(data_dir, "keys_revoke", {"name": name}, bars=False)
    typer.echo(f"key '{name}' revoked", err=True)


@export_app.command("profiles")
def export_profiles(
    out: Annotated[Path, typer.Option("--out", help="Output file: .csv or .parquet")],
    data_dir: DataDir = None,
) -> None:
    """Write source,record_id,profile_id, one row per record."""
    done = job(data_dir, "export_profiles", {"out": str(out.resolve())}, bars=False)
    typer.echo(f"wrote {done['rows']:,} rows to {out}", err=True)


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
    moment = as_of or datetime.now(UTC)
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # a date, or a time without a zone
    done = job(data_dir, "export_traits", {"out": str(out.resolve()), "as_of": moment.isoformat()})
    typer.echo(f"wrote {done['rows']:,} rows to {out} (traits as of {moment.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}; "
               f"{done['without']:,} profiles without events by then have no row)", err=True)  # fmt: skip


@app.command()
def stats(
    data_dir: DataDir = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")] = False,
    plot: Annotated[
        Path | None, typer.Option("--plot", help="Also draw the profile size distribution (.png/.svg).")
    ] = None,
) -> None:
    """Counts, profile sizes, and the identifiers resolution ignored."""
    import json

    from api import reports

    figures = reports.stats_from_json(job(data_dir, "stats", {}, bars=False))
    if as_json:
        print(json.dumps(figures, indent=2))
    else:
        reports.print_stats(figures)
    if plot:
        from analytics.plots import plot_profile_sizes

        try:
            plot_profile_sizes(figures["profile_sizes"], plot)
        except ValueError as exc:
            raise fail(exc) from None
        typer.echo(f"profile size distribution drawn in {plot}", err=True)


@app.command()
def explain(
    a: Annotated[str, typer.Argument(help="A record (SOURCE:RECORD_ID) or a profile id")],
    b: Annotated[str, typer.Argument(help="Another record or profile id")],
    data_dir: DataDir = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")] = False,
) -> None:
    """Why two records (or profiles) are one profile (the chain of evidence), or why they are not."""
    import json

    from api import reports

    payload = job(data_dir, "explain", {"a": a, "b": b}, bars=False)
    if as_json:
        print(json.dumps(payload, indent=2))
    else:
        reports.print_explanation_json(payload)


@app.command()
def evaluate(
    truth: Annotated[Path, typer.Option("--truth", help="CSV with columns source,record_id,person_id.")],
    data_dir: DataDir = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Score the resolved profiles against ground truth: pairwise and B-cubed precision/recall/F1."""
    import json

    from pydantic import TypeAdapter

    from analytics.quality import Evaluation
    from api import reports

    result = job(data_dir, "evaluate", {"truth": str(truth.resolve())}, bars=False)
    if as_json:
        print(json.dumps(result, indent=2))
    else:
        reports.print_evaluation(TypeAdapter(Evaluation).validate_python(result))


SettingsFile = Annotated[
    Path | None,
    typer.Option("--settings", help="Resolution settings for the resolve that follows (default: the last run's)."),
]
Reason = Annotated[str, typer.Option("--reason", help="Why: kept on the profiles' history.")]


def _actor() -> str:
    """The OS user, whose name goes on the profiles' history."""
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a bare container)
        return "local"


def _settings_json(path: Path | None) -> str | None:
    from graph.errors import CdpError
    from resolve.settings import load_resolve_settings

    try:
        return load_resolve_settings(path).to_json() if path else None
    except CdpError as exc:
        raise fail(exc) from None


@app.command()
def merge(
    ids: Annotated[list[str], typer.Argument(help="Two or more profile ids")],
    reason: Reason,
    settings_file: SettingsFile = None,
    data_dir: DataDir = None,
) -> None:
    """Merge profiles for good: every later resolve keeps their records in one profile."""
    args = {"ids": ids, "reason": reason, "settings": _settings_json(settings_file), "actor": _actor()}
    merged = job(data_dir, "merge", args, bars=False)["merged"]
    typer.echo(f"merged {', '.join(ids)} into {merged}; later resolves keep them together", err=True)


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
    keys = [key.strip() for value in records for key in value.split(",") if key.strip()]
    args = {"profile_id": profile_id, "records": keys, "reason": reason, "settings": _settings_json(settings_file),
            "actor": _actor()}  # fmt: skip
    parts = job(data_dir, "split", args, bars=False)["parts"]
    typer.echo(f"split {profile_id} into {', '.join(parts)}; later resolves keep them apart", err=True)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8000,
    access_log: Annotated[
        bool, typer.Option("--access-log", help="Log every request (costs ~5% of a 360 view).")
    ] = False,
    insecure_local: Annotated[
        bool, typer.Option("--insecure-local", help="Serve without API keys, on loopback only.")
    ] = False,
    scheduler: Annotated[
        Path | None, typer.Option("--scheduler", help="Run the journeys of this file on a timer (see --every).")
    ] = None,
    every: Annotated[float, typer.Option("--every", help="Seconds between journey runs.", min=1)] = 60.0,
    data_dir: DataDir = None,
) -> None:
    """Serve the GraphQL API (GraphiQL at /graphql) to callers with an API key (`cdp keys create`). While it
    runs, other `cdp` commands on its embedded store hand their work to it."""
    from api.serving import serve as run_server
    from graph.errors import CdpError

    try:
        run_server(settings_for(data_dir), host, port, access_log, insecure_local, scheduler, every)
    except CdpError as exc:
        raise fail(exc) from None


@app.command()
def demo(
    records: Annotated[int, typer.Option(help="Approximate number of source rows to generate.")] = 10_000,
    seed: Annotated[int, typer.Option(help="Random seed of the generator.")] = 42,
    data_dir: DataDir = None,
) -> None:
    """Generate multi-source data with ground truth, ingest, resolve and score the result."""
    from api.demo import run_demo
    from graph.errors import CdpError

    try:
        run_demo(settings_for(data_dir), records, seed, lambda name, args, bars: job(data_dir, name, args, bars))
    except CdpError as exc:
        raise fail(exc) from None


@app.command("schema")
def schema_sdl(out: Annotated[Path | None, typer.Option("--out", help="Write the SDL here.")] = None) -> None:
    """Print (or write) the GraphQL schema in SDL; the committed schema.graphql is this output."""
    from api.schema import build_schema

    sdl = build_schema().as_str() + "\n"
    if out:
        out.write_text(sdl)
    else:
        print(sdl, end="")


audience_app = cli_insights.register(app, job)
cli_privacy.register(app, job)
cli_review.register(app, job)
cli_report.register(app, job)
cli_segments.register(app, job)
cli_destinations.register(app, job, audience_app)


def main() -> None:
    """The ``cdp`` entry point: ``-v`` may come anywhere on the line (it is moved to the front)."""
    args = sys.argv[1:]
    end = args.index("--") if "--" in args else len(args)
    verbose = [a for a in args[:end] if a in _VERBOSE]
    rest = [a for n, a in enumerate(args) if not (n < end and a in _VERBOSE)]
    app(args=verbose[:1] + rest, prog_name="cdp")


if __name__ == "__main__":
    main()
