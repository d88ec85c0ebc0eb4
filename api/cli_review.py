"""``cdp review``: the review queue from the command line (the console's ``/review`` page is the same queue),
a reviewer's verdict on a pair, and every verdict as a ``--labels`` CSV. Registered on the main app by
:func:`register`; like every store command they run as jobs (:mod:`api.jobs`), here or in ``cdp serve``."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

JobFn = Callable[..., Any]
DataDir = Annotated[Path | None, typer.Option("--data-dir", help="Embedded store directory (overrides CDP_DATA_DIR).")]


def register(app: typer.Typer, job: JobFn) -> None:
    review = typer.Typer(help="The review queue: pairs near the match threshold, flagged profiles, verdicts.",
                         no_args_is_help=True)  # fmt: skip
    app.add_typer(review, name="review")

    @review.command("queue")
    def queue(
        first: Annotated[int, typer.Option("--first", help="At most this many pairs and flagged profiles", min=1)] = 20,
        data_dir: DataDir = None,
    ) -> None:
        """Pairs scored nearest the threshold (without a verdict yet) and flagged profiles, after the last resolve."""
        found = job(data_dir, "review_queue", {"first": first}, bars=False)
        typer.echo(f"after resolve run {found['run_id'] or '-'} ({found['as_of'] or 'never'}), threshold "
                   f"{found['threshold']:g}", err=True)  # fmt: skip
        for p in found["pairs"]:
            evidence = ", ".join(f"{c['comparison']} {c['level']} ({c['weight']:+.1f})" for c in p["evidence"])
            typer.echo(f"{p['record_a']}\t{p['record_b']}\t{p['probability']:.3f}\t"
                       f"{'linked' if p['linked'] else 'not linked'}\t{evidence}")  # fmt: skip
        for f in found["flagged"]:
            typer.echo(f"{f['profile_id']}\t{len(f['values'])} values of {f['kind']}")
        if not found["pairs"] and not found["flagged"]:
            typer.echo("nothing to review", err=True)

    @review.command("label")
    def label(
        record_a: Annotated[str, typer.Argument(help="SOURCE:RECORD_ID")],
        record_b: Annotated[str, typer.Argument(help="SOURCE:RECORD_ID")],
        match: Annotated[bool, typer.Option("--match/--not-match", help="The verdict")],
        data_dir: DataDir = None,
    ) -> None:
        """Label two records a match or not: every later resolve honours it, full runs learn from it."""
        a, b = job(data_dir, "review_label", {"record_a": record_a, "record_b": record_b, "match": match}, bars=False)
        typer.echo(f"{a} and {b}: {'a match' if match else 'not a match'}; the next resolve honours it", err=True)

    @review.command("labels")
    def labels(
        out: Annotated[Path, typer.Option("--out", help="CSV file to write (record_a,record_b,match)")],
        data_dir: DataDir = None,
    ) -> None:
        """Every verdict as a labels CSV, the format `cdp resolve --labels` takes."""
        rows = job(data_dir, "review_labels", {}, bars=False)
        with out.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["record_a", "record_b", "match", "actor", "at"])
            writer.writerows([r["record_a"], r["record_b"], int(r["match"]), r["actor"], r["at"]] for r in rows)
        typer.echo(f"{len(rows):,} labelled pairs written to {out}", err=True)
