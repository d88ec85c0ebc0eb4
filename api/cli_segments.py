"""``cdp segment``: segments from the command line (create, list, preview, members). Registered on the main
app by :func:`register`; like every store command they run as jobs (:mod:`api.jobs`), here or in ``cdp serve``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

JobFn = Callable[..., Any]
DataDir = Annotated[Path | None, typer.Option("--data-dir", help="Embedded store directory (overrides CDP_DATA_DIR).")]
RULE_HELP = "A rule, e.g. 'traits.frequency >= 3 and consent.email and not attributes.city = \"London\"'"


def register(app: typer.Typer, job: JobFn) -> None:
    segment = typer.Typer(help="Segments: named rules over profiles (see the README's rule language).",
                          no_args_is_help=True)  # fmt: skip
    app.add_typer(segment, name="segment")

    @segment.command("create")
    def create(
        name: Annotated[str, typer.Argument(help="The segment's name")],
        rule: Annotated[str, typer.Option("--rule", help=RULE_HELP)],
        data_dir: DataDir = None,
    ) -> None:
        """Store a segment; its rule is checked first (an error names the column)."""
        made = job(data_dir, "segment_create", {"name": name, "rule": rule}, bars=False)
        typer.echo(f"segment {made['name']}: {made['rule']}", err=True)

    @segment.command("list")
    def list_(data_dir: DataDir = None) -> None:
        """Every segment: name, rule, who made it and when."""
        found = job(data_dir, "segment_list", {}, bars=False)
        if not found:
            typer.echo("no segments yet (cdp segment create NAME --rule RULE)", err=True)
        for s in found:
            typer.echo(f"{s['name']}\t{s['rule']}\t{s['created_by']}\t{s['created_at']}")

    @segment.command("preview")
    def preview(
        rule: Annotated[str, typer.Argument(help=RULE_HELP)],
        data_dir: DataDir = None,
    ) -> None:
        """How many profiles a rule holds now, and a few of them."""
        found = job(data_dir, "segment_preview", {"rule": rule}, bars=False)
        typer.echo(f"{found['members']:,} of {found['profiles']:,} profiles ({found['seconds'] * 1000:.0f} ms, profiles "
                   f"as of {found['as_of']})")  # fmt: skip
        for pid in found["sample"]:
            typer.echo(pid)

    @segment.command("members")
    def members(
        name: Annotated[str, typer.Argument(help="The segment's name")],
        out: Annotated[Path, typer.Option("--out", help="A .csv or .parquet file: profile_id, size")],
        data_dir: DataDir = None,
    ) -> None:
        """The segment's members now, written to a file."""
        done = job(data_dir, "segment_members", {"name": name, "out": str(out.resolve())}, bars=False)
        typer.echo(f"{done['rows']:,} members of {name} written to {done['out']}", err=True)
