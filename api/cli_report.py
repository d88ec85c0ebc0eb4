"""``cdp report``: the overview and data quality as one self-contained HTML file (:mod:`api.report_page`),
registered on the main app by :func:`register`; it reads the store as a job (:mod:`api.jobs`)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

DataDir = Annotated[Path | None, typer.Option("--data-dir", help="Embedded store directory (overrides CDP_DATA_DIR).")]


def register(app: typer.Typer, job: Callable[..., Any]) -> None:
    @app.command()
    def report(
        out: Annotated[Path, typer.Option("--out", help="The HTML file to write.")],
        with_pii: Annotated[
            bool, typer.Option("--with-pii", help="Show invalid examples and shared values unmasked.")
        ] = False,
        data_dir: DataDir = None,
    ) -> None:
        """Write the overview and data quality, figures and charts, as one HTML file that needs no server."""
        from api.report_page import render_report

        data = job(data_dir, "report", {"with_pii": with_pii})
        out.write_text(render_report(data), encoding="utf-8")
        masked = "personal data included" if with_pii else "personal data masked"
        typer.echo(f"wrote {out} ({masked}; it makes no request: open it in any browser)", err=True)
