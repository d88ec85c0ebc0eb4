"""``cdp embed``, ``cdp audience lookalike`` and ``cdp recommend``: the analytics commands, registered on
the main app by :func:`register`."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from api.progress import console, progress_bars
from graph.errors import CdpError, ConfigError
from graph.store import GraphStore

OpenFn = Callable[[Path | None], GraphStore]
FailFn = Callable[[Exception], typer.Exit]
DataDir = Annotated[Path | None, typer.Option("--data-dir", help="Embedded store directory (overrides CDP_DATA_DIR).")]
Out = Annotated[Path, typer.Option("--out", help="Output file: .csv or .parquet")]


def register(app: typer.Typer, open_store: OpenFn, fail: FailFn) -> None:
    audience_app = typer.Typer(help="Build audiences from the embeddings.", no_args_is_help=True)
    app.add_typer(audience_app, name="audience")

    @app.command()
    def embed(
        settings_file: Annotated[Path | None, typer.Option("--settings", help="YAML/JSON node2vec settings.")] = None,
        evaluate: Annotated[bool, typer.Option("--evaluate", help="Also measure link-prediction AUC.")] = False,
        data_dir: DataDir = None,
    ) -> None:
        """Embed the customer graph with node2vec and store the model (replacing the last one)."""
        from analytics.customer_graph import read_customer_graph
        from analytics.embedding_quality import link_prediction_auc
        from analytics.embedding_store import save_embeddings
        from analytics.embeddings import embed as run_embed

        try:
            settings = _embedding_settings(settings_file)
            store = open_store(data_dir)
            try:
                graph = read_customer_graph(store)
                with progress_bars() as update:
                    embeddings = run_embed(graph, settings, update)
                save_embeddings(store, embeddings)
                quality = link_prediction_auc(graph, settings) if evaluate else None
            finally:
                store.close()
        except CdpError as exc:
            raise fail(exc) from None
        s = embeddings.summary
        console.print(f"embedded {s['nodes']:,} nodes ({s['edges']:,} edges) in {s['walks_s']:.1f} s of walks and "
                      f"{s['train_s']:.1f} s of training; model {embeddings.id}, graph version {embeddings.version}",
                      highlight=False)  # fmt: skip
        if quality:
            console.print(f"link prediction: AUC {quality['auc']:.3f} on {quality['held_out']:,} held-out links")

    @audience_app.command("lookalike")
    def lookalike(
        seed: Annotated[Path, typer.Option("--seed", help="CSV: profile_id, or identifier_type,identifier_value")],
        size: Annotated[int, typer.Option("--size", min=1, help="How many profiles.")],
        out: Out,
        data_dir: DataDir = None,
    ) -> None:
        """Write the SIZE profiles most like the seed customers: profile_id, score, email, phone (contact
        details of profiles that opted in); seeds left out."""
        from analytics.lookalike import read_seed_file
        from api.exports import write_frame
        from api.service import CustomerService

        try:
            seeds = read_seed_file(seed)
            store = open_store(data_dir)
            try:
                audience, unknown = CustomerService(store).lookalike(seeds, size)
            finally:
                store.close()
            write_frame(audience, out)
        except CdpError as exc:
            raise fail(exc) from None
        for line in unknown[:10]:
            console.print(f"[yellow]seed not found:[/yellow] {line}", highlight=False)
        more = f" ({len(unknown) - 10:,} more)" if len(unknown) > 10 else ""
        console.print(f"wrote {len(audience):,} profiles to {out}; {len(unknown):,} seed rows not found{more}")

    @app.command()
    def recommend(
        out: Out,
        k: Annotated[int, typer.Option("--k", min=1, help="Products per profile.")] = 10,
        data_dir: DataDir = None,
    ) -> None:
        """Write k product recommendations per profile (profile_id, product, score), products the profile
        already bought left out."""
        from api.exports import write_frame
        from api.service import CustomerService

        try:
            store = open_store(data_dir)
            try:
                with progress_bars() as update:
                    update("recommend", 0, 1)
                    frame = CustomerService(store).recommendations_of(None, k)
                    update("recommend", 1, 1)
            finally:
                store.close()
            write_frame(frame, out)
        except CdpError as exc:
            raise fail(exc) from None
        console.print(f"wrote {len(frame):,} recommendations for {frame['profile_id'].nunique():,} profiles to {out}")


def _embedding_settings(path: Path | None):  # type: ignore[no-untyped-def]
    """Defaults, or a YAML/JSON file; unknown keys are errors naming them."""
    import yaml
    from pydantic import ValidationError

    from analytics.embeddings import EmbeddingSettings

    if path is None:
        return EmbeddingSettings()
    try:
        raw = yaml.safe_load(path.read_text()) or {}
        return EmbeddingSettings.model_validate(raw)
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: cannot read settings: {exc}") from None
    except ValidationError as exc:
        error = exc.errors()[0]
        key = ".".join(str(p) for p in error["loc"])
        what = "unknown setting" if error["type"] == "extra_forbidden" else error["msg"]
        raise ConfigError(f"{path}: {what}: '{key}' ({json.dumps(error.get('input'), default=str)})") from None
