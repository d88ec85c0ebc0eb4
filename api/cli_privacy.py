"""``cdp audit`` and ``cdp erase``: the privacy commands, registered on the main app by :func:`register`;
like every store command they run as jobs (:mod:`api.jobs`), here or in the ``cdp serve`` holding the store."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

JobFn = Callable[..., Any]
DataDir = Annotated[Path | None, typer.Option("--data-dir", help="Embedded store directory (overrides CDP_DATA_DIR).")]


def register(app: typer.Typer, job: JobFn) -> None:
    @app.command()
    def erase(
        identifier: Annotated[
            str | None, typer.Option("--identifier", help="TYPE:VALUE, e.g. email:ann@example.com")
        ] = None,
        profile: Annotated[str | None, typer.Option("--profile", help="A profile id")] = None,
        data_dir: DataDir = None,
    ) -> None:
        """Erase a customer for good: their records, identifiers, events and vector; a re-ingest skips them."""
        done = job(data_dir, "erase", {"profile_id": profile, "identifier": identifier}, bars=False)
        typer.echo(
            f"erased profile {', '.join(done['profiles'])}: {done['records']:,} records, {done['identifiers']:,} "
            f"identifiers ({done['identifiers_kept']:,} kept: other customers hold them), {done['events']:,} "
            f"events, {done['embeddings']:,} vectors; {done['suppressed']:,} suppression entries written",
            err=True,
        )

    @app.command()
    def audit(
        since: Annotated[str, typer.Option("--since", help="An ISO date or time, UTC (2026-12-01, 2026-12-01T09:00)")],
        limit: Annotated[int, typer.Option("--limit", help="At most this many entries", min=1)] = 1_000,
        data_dir: DataDir = None,
    ) -> None:
        """The audit log from --since, oldest first: time, who, action, outcome, profiles touched, detail."""
        rows = job(data_dir, "audit", {"since": since, "limit": limit}, bars=False)
        if not rows:
            typer.echo(f"no audit entries since {since}", err=True)
        for row in rows:
            targets = ",".join(row["targets"][:5]) + (f",+{len(row['targets']) - 5}" if len(row["targets"]) > 5 else "")
            typer.echo(f"{row['at']}\t{row['actor']}\t{row['action']}\t{row['outcome']}\t{targets or '-'}\t"
                       f"{row['detail']}")  # fmt: skip
