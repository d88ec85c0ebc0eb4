"""``cdp destination`` (add, list, sends, deadletters, replay) and ``cdp audience push``: where audiences go and
sending them (:mod:`api.destinations`). Registered on the main app by :func:`register`; like every store
command they run as jobs (:mod:`api.jobs`), here or in ``cdp serve``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

JobFn = Callable[..., Any]
DataDir = Annotated[Path | None, typer.Option("--data-dir", help="Embedded store directory (overrides CDP_DATA_DIR).")]
JourneysFile = Annotated[Path, typer.Option("--file", help="The journeys file")]


def register(app: typer.Typer, job: JobFn, audience: typer.Typer) -> None:
    journeys = typer.Typer(help="Journeys: steps after a trigger, from journeys.yaml.", no_args_is_help=True)
    app.add_typer(journeys, name="journeys")

    @journeys.command("run")
    def run(file: JourneysFile = Path("journeys.yaml"), data_dir: DataDir = None) -> None:
        """Enrol customers the triggers name, advance every due step once, then send what was planned."""
        for r in job(data_dir, "journeys_run", {"file": str(file.resolve())}, bars=False):
            typer.echo(f"{r['journey']}: {r['enrolled']:,} enrolled, {r['advanced']:,} advanced, {r['planned']:,} "
                       f"sends planned ({r['capped']:,} capped), {r['left']:,} left, {r['finished']:,} finished", err=True)  # fmt: skip

    @journeys.command("status")
    def status(file: JourneysFile = Path("journeys.yaml"), data_dir: DataDir = None) -> None:
        """Customers at each step of each journey."""
        for name, counts in job(data_dir, "journeys_status", {"file": str(file.resolve())}, bars=False).items():
            typer.echo(f"{name}\t" + ("\t".join(f"{k}: {v:,}" for k, v in counts.items()) or "nobody yet"))

    destination = typer.Typer(help="Destinations audiences are pushed to: folders and webhooks.", no_args_is_help=True)
    app.add_typer(destination, name="destination")

    @destination.command("add")
    def add(
        name: Annotated[str, typer.Argument(help="The destination's name")],
        folder: Annotated[Path | None, typer.Option("--folder", help="Write each batch as a file here")] = None,
        webhook: Annotated[str | None, typer.Option("--webhook", help="POST each batch (JSON) to this URL")] = None,
        secret: Annotated[
            str,
            typer.Option("--secret", help="The webhook's signing secret (16+ characters)", envvar="CDP_WEBHOOK_SECRET"),
        ] = "",  # fmt: skip
        batch_size: Annotated[int, typer.Option("--batch-size", help="Members per batch", min=1)] = 500,
        file_format: Annotated[str, typer.Option("--format", help="A folder's files: csv or parquet")] = "csv",
        data_dir: DataDir = None,
    ) -> None:
        """Add a destination: a folder of CSV or Parquet files, or a webhook with its signing secret."""
        args = {"name": name, "folder": str(folder.resolve()) if folder else None, "webhook": webhook,
                "secret": secret, "batch_size": batch_size, "file_format": file_format}  # fmt: skip
        made = job(data_dir, "destination_add", args, bars=False)
        typer.echo(
            f"destination {made['name']}: {made['kind']} {made['target']}, {made['batch_size']} per batch"
            + (f" as {made['format']}" if made["kind"] == "folder" else ""),
            err=True,
        )

    @destination.command("list")
    def list_(data_dir: DataDir = None) -> None:
        """Every destination (secrets are never shown)."""
        for d in job(data_dir, "destination_list", {}, bars=False):
            typer.echo(f"{d['name']}\t{d['kind']}\t{d['format']}\t{d['target']}\t{d['batch_size']}\t{d['created_at']}")

    @destination.command("deadletters")
    def deadletters(name: Annotated[str, typer.Argument(help="The destination")], data_dir: DataDir = None) -> None:
        """Batches the destination refused or never answered, after every retry."""
        found = job(data_dir, "destination_deadletters", {"name": name}, bars=False)
        if not found:
            typer.echo(f"no dead letters for {name}", err=True)
        for b in found:
            typer.echo(f"{b['key']}\t{b['segment']}\tbatch {b['batch']}\t{b['attempts']} attempts\t{b['outcome']}")

    @destination.command("sends")
    def sends(name: Annotated[str, typer.Argument(help="The destination")], data_dir: DataDir = None) -> None:
        """Every batch sent or planned to the destination: when, which segment, how many, the outcome."""
        found = job(data_dir, "destination_sends", {"name": name}, bars=False)
        if not found:
            typer.echo(f"nothing sent to {name} yet", err=True)
        columns = ["created_at", "sent_at", "segment", "sync", "batch", "purpose", "entered", "exited", "status",
                   "attempts", "outcome"]  # fmt: skip
        typer.echo("\t".join(columns))
        for b in found:
            typer.echo("\t".join(str(b[c]) for c in columns))

    @destination.command("replay")
    def replay(name: Annotated[str, typer.Argument(help="The destination")], data_dir: DataDir = None) -> None:
        """Send the dead letters again."""
        done = job(data_dir, "destination_replay", {"name": name}, bars=False)
        typer.echo(f"{done['sent']} sent, {done['dead']} dead again", err=True)

    @audience.command("push")
    def push(
        segment: Annotated[str, typer.Argument(help="The segment")],
        to: Annotated[str, typer.Option("--to", help="The destination")],
        purpose: Annotated[
            str,
            typer.Option(
                "--purpose",
                help="email, sms, ads or analytics: which contact details go, for customers who consent to it",
            ),
        ] = "email",  # fmt: skip
        data_dir: DataDir = None,
    ) -> None:
        """Send a segment's entries and exits since the last push to a destination."""
        done = job(data_dir, "audience_push", {"segment": segment, "to": to, "purpose": purpose}, bars=False)
        typer.echo(f"{segment} -> {to}: {done['entered']:,} entered, {done['exited']:,} exited, {done['batches']} "
                   f"batches planned; {done['sent']} sent ({done['resumed']} left by an earlier push), "
                   f"{done['dead']} dead", err=True)  # fmt: skip
