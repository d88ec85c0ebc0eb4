"""``cdp embed``, ``cdp audience lookalike`` and ``cdp recommend``: the analytics commands, registered on
the main app by :func:`register`; like every store command they run as jobs (:mod:`api.jobs`)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

#: (data dir, job name, arguments, with progress bars) -> its result
JobFn = Callable[..., Any]
DataDir = Annotated[Path | None, typer.Option("--data-dir", help="Embedded store directory (overrides CDP_DATA_DIR).")]
Out = Annotated[Path, typer.Option("--out", help="Output file: .csv or .parquet")]


def register(app: typer.Typer, job: JobFn) -> typer.Typer:
    """Register the commands; returns the ``cdp audience`` group (other commands join it)."""
    audience_app = typer.Typer(help="Audiences: lookalikes from the embeddings, pushes to destinations.",
                               no_args_is_help=True)  # fmt: skip
    app.add_typer(audience_app, name="audience")

    @app.command()
    def embed(
        settings_file: Annotated[Path | None, typer.Option("--settings", help="YAML/JSON node2vec settings.")] = None,
        evaluate: Annotated[bool, typer.Option("--evaluate", help="Also measure link-prediction AUC.")] = False,
        data_dir: DataDir = None,
    ) -> None:
        """Embed the customer graph with node2vec and store the model (replacing the last one)."""
        from graph.errors import CdpError

        try:
            settings = _embedding_settings(settings_file)
        except CdpError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(1) from None
        done = job(data_dir, "embed", {"settings": settings, "evaluate": evaluate})
        s, quality = done["summary"], done["quality"]
        typer.echo(f"embedded {s['nodes']:,} nodes ({s['edges']:,} edges) in {s['walks_s']:.1f} s of walks and "
                   f"{s['train_s']:.1f} s of training; model {done['id']}, graph version {done['version']}",
                   err=True)  # fmt: skip
        if quality:
            typer.echo(f"link prediction: AUC {quality['auc']:.3f} on {quality['held_out']:,} held-out links", err=True)

    @audience_app.command("lookalike")
    def lookalike(
        seed: Annotated[Path, typer.Option("--seed", help="CSV: profile_id, or identifier_type,identifier_value")],
        size: Annotated[int, typer.Option("--size", min=1, help="How many profiles.")],
        out: Out,
        purpose: Annotated[
            str, typer.Option("--purpose", help="email (emails), sms (phones), ads (both) or analytics (none)")
        ] = "email",
        data_dir: DataDir = None,
    ) -> None:
        """Write the SIZE profiles most like the seed customers: profile_id, score, email, phone (the contact
        details PURPOSE allows, of profiles whose latest consent to it is a grant); seeds left out."""
        args = {"seed": str(seed.resolve()), "size": size, "out": str(out.resolve()), "purpose": purpose}
        done = job(data_dir, "lookalike", args, False)
        unknown = done["unknown"]
        for line in unknown[:10]:
            typer.echo(f"seed not found: {line}", err=True)
        more = f" ({len(unknown) - 10:,} more)" if len(unknown) > 10 else ""
        typer.echo(f"wrote {done['rows']:,} profiles to {out}; {len(unknown):,} seed rows not found{more}", err=True)

    @app.command()
    def recommend(
        out: Out,
        k: Annotated[int, typer.Option("--k", min=1, help="Products per profile.")] = 10,
        data_dir: DataDir = None,
    ) -> None:
        """Write k product recommendations per profile (profile_id, product, score), products the profile
        already bought left out."""
        done = job(data_dir, "recommend", {"out": str(out.resolve()), "k": k})
        typer.echo(f"wrote {done['rows']:,} recommendations for {done['profiles']:,} profiles to {out}", err=True)

    return audience_app


def _embedding_settings(path: Path | None) -> dict[str, Any]:
    """Defaults, or a YAML/JSON file; unknown keys are errors naming them."""
    import yaml
    from pydantic import ValidationError

    from analytics.embeddings import EmbeddingSettings
    from graph.errors import ConfigError

    if path is None:
        return EmbeddingSettings().model_dump()
    try:
        raw = yaml.safe_load(path.read_text()) or {}
        return EmbeddingSettings.model_validate(raw).model_dump()
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: cannot read settings: {exc}") from None
    except ValidationError as exc:
        error = exc.errors()[0]
        key = ".".join(str(p) for p in error["loc"])
        what = "unknown setting" if error["type"] == "extra_forbidden" else error["msg"]
        raise ConfigError(f"{path}: {what}: '{key}' ({json.dumps(error.get('input'), default=str)})") from None
