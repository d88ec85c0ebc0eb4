"""Every command that uses the store, as a job: a name, JSON arguments, a JSON result.

A job runs either here, on a store this process opens, or in the ``cdp serve`` that holds the embedded
store (see :mod:`api.handoff`): the same function, on the same arguments, with progress streamed back.
Results are dataclasses turned into JSON and back by pydantic, so the CLI prints the same thing either
way. Paths are absolute: a server on this machine reads and writes the files the user named.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from graph.settings import Settings
from graph.store import GraphStore

__all__ = ["JOBS", "JobContext", "run_job_here"]

#: (bar name, done, total)
ProgressFn = Callable[[str, int, int], None]


@dataclass
class JobContext:
    """What a job gets: the store, the settings of the process running it, and where to report."""

    store: GraphStore
    settings: Settings
    progress: ProgressFn
    note: Callable[[str], None]  # a line for the user (e.g. "waiting for another writer")


def _ingest(ctx: JobContext, config: str, source: str | None) -> Any:
    from graph.lease import writer_lease
    from ingest.config import load_config
    from ingest.lookup import remember_ingest
    from ingest.normalise import NormaliseOptions
    from ingest.pipeline import ingest

    sources = load_config(Path(config))
    options = NormaliseOptions(sources.options.default_region, sources.options.date_order)
    types = {t for name, spec in sources.sources.items() if source in (None, name) for t in spec.identifiers.values()}
    with writer_lease(ctx.store, "ingest", ctx.settings.writer_wait_seconds, ctx.note):
        changed = remember_ingest(ctx.store, options, types)
        if changed:
            ctx.note(f"warning: {changed}")
        summary = ingest(sources, ctx.store, ctx.settings.data_dir / "rejects", source, ctx.progress,
                         workers=ctx.settings.ingest_workers)  # fmt: skip
    from api.memberships import refresh_memberships

    refresh_memberships(ctx.store)  # new events move traits: segments' entries and exits
    return summary


def _resolve(ctx: JobContext, settings: str, dry_run: bool, full: bool, labels: list[dict[str, Any]] | None) -> Any:
    import pandas as pd

    from api.overview import refresh_overview
    from resolve.runner import resolve
    from resolve.settings import settings_from_json

    frame = pd.DataFrame(labels) if labels is not None else None
    summary = resolve(ctx.store, settings_from_json(settings), ctx.progress, dry_run=dry_run, incremental=not full,
                      labels=frame, wait_s=ctx.settings.writer_wait_seconds)  # fmt: skip
    if not dry_run:
        refresh_overview(ctx.store)  # the console's figures, once per run
    return summary


def _match_settings(ctx: JobContext, settings: str) -> list[str]:
    from resolve.runner import chosen_settings
    from resolve.settings import settings_from_json

    return chosen_settings(ctx.store, settings_from_json(settings))


def _stats(ctx: JobContext) -> dict[str, Any]:
    from api.reports import collect_stats

    return collect_stats(ctx.store)


def _report(ctx: JobContext, with_pii: bool = False) -> dict[str, Any]:
    import contextlib

    from api.audit import audited
    from api.report_page import report_data

    ctx.progress("read the figures", 0, 1)
    # a report showing personal data is an export of it: logged like one
    with audited(ctx.store, "local", "export:report") if with_pii else contextlib.nullcontext():
        data = report_data(ctx.store, with_pii)
    ctx.progress("read the figures", 1, 1)
    return data


def _explain(ctx: JobContext, a: str, b: str) -> dict[str, Any]:
    from api.service import CustomerService

    found = _service(ctx, CustomerService).explain(a, b)
    return {**asdict(found), "same_profile": found.same_profile, "summary": found.summary}


def _evaluate(ctx: JobContext, truth: str) -> dict[str, Any]:
    import dataclasses

    from analytics.blocking_reach import blocking_reach
    from analytics.quality import evaluate, load_truth
    from graph.errors import NotFound
    from resolve.settings import last_run_settings

    labels = load_truth(truth)
    assigned = ctx.store.assignments().set_index("record")["profile_id"]
    if assigned.empty:
        raise NotFound("no resolved profiles yet: run `cdp resolve` first")
    reach = blocking_reach(ctx.store, labels, last_run_settings(ctx.store))
    return dataclasses.replace(evaluate(assigned, labels), blocking_reach=reach).to_dict()


def _export_profiles(ctx: JobContext, out: str) -> dict[str, Any]:
    from api.audit import audited
    from api.exports import export_profiles

    with audited(ctx.store, "local", "export:profiles"):
        return {"rows": export_profiles(ctx.store, Path(out)), "out": out}


def _export_traits(ctx: JobContext, out: str, as_of: str) -> dict[str, Any]:
    from api.audit import audited
    from api.exports import export_traits

    with audited(ctx.store, "local", "export:traits"):
        rows, without = export_traits(ctx.store, Path(out), datetime.fromisoformat(as_of), ctx.progress)
    return {"rows": rows, "without": without, "out": out, "as_of": as_of}


def _merge(ctx: JobContext, ids: list[str], reason: str, settings: str | None, actor: str) -> dict[str, Any]:
    from api.service import CustomerService
    from resolve.settings import settings_from_json

    service = _service(ctx, CustomerService, actor)
    return {"merged": service.merge_profiles(ids, reason, settings_from_json(settings) if settings else None)}


def _split(
    ctx: JobContext, profile_id: str, records: list[str], reason: str, settings: str | None, actor: str
) -> dict[str, Any]:
    from api.service import CustomerService
    from resolve.settings import settings_from_json

    service = _service(ctx, CustomerService, actor)
    chosen = settings_from_json(settings) if settings else None
    return {"parts": service.split_profile(profile_id, records, reason, chosen)}


def _embed(ctx: JobContext, settings: dict[str, Any], evaluate: bool) -> dict[str, Any]:
    from analytics.customer_graph import read_customer_graph
    from analytics.embedding_quality import link_prediction_auc
    from analytics.embedding_store import save_embeddings
    from analytics.embeddings import EmbeddingSettings, embed
    from graph.lease import writer_lease

    chosen = EmbeddingSettings.model_validate(settings)
    with writer_lease(ctx.store, "embed", ctx.settings.writer_wait_seconds, ctx.note):
        graph = read_customer_graph(ctx.store)
        embeddings = embed(graph, chosen, ctx.progress)
        save_embeddings(ctx.store, embeddings)
    quality = link_prediction_auc(graph, chosen) if evaluate else None
    return {"summary": embeddings.summary, "id": embeddings.id, "version": embeddings.version, "quality": quality}


def _lookalike(ctx: JobContext, seed: str, size: int, out: str, purpose: str = "email") -> dict[str, Any]:
    from analytics.lookalike import read_seed_file
    from api.exports import write_frame
    from api.service import CustomerService

    audience, unknown = _service(ctx, CustomerService).lookalike(read_seed_file(Path(seed)), size, purpose)
    write_frame(audience, Path(out))
    return {"rows": len(audience), "unknown": unknown, "out": out}


def _recommend(ctx: JobContext, out: str, k: int) -> dict[str, Any]:
    from api.audit import audited
    from api.exports import write_frame
    from api.service import CustomerService

    ctx.progress("recommend", 0, 1)
    with audited(ctx.store, "local", "export:recommendations"):
        frame = _service(ctx, CustomerService).recommendations_of(None, k)
    ctx.progress("recommend", 1, 1)
    write_frame(frame, Path(out))
    return {"rows": len(frame), "profiles": int(frame["profile_id"].nunique()), "out": out}


def _demo_sources(ctx: JobContext) -> list[str]:
    return sorted(ctx.store.records_by_source())


def _demo_report(ctx: JobContext, truth: str) -> dict[str, Any]:
    from api.demo import example_email
    from api.reports import collect_stats

    report = _evaluate(ctx, truth)
    assigned = ctx.store.assignments().set_index("record")["profile_id"]
    return {"evaluation": report, "stats": collect_stats(ctx.store), "example": example_email(ctx.store, assigned)}


def _keys_create(ctx: JobContext, name: str, scopes: str) -> str:
    from api.audit import audited
    from api.keys import create_key

    with audited(ctx.store, "local", "keys:create", detail=f"{name} ({scopes})"):
        return create_key(ctx.store, name, scopes)


def _keys_list(ctx: JobContext) -> list[dict[str, Any]]:
    from dataclasses import asdict

    from api.keys import list_keys

    return [asdict(key) for key in list_keys(ctx.store)]


def _keys_revoke(ctx: JobContext, name: str) -> None:
    from api.audit import audited
    from api.keys import revoke_key

    with audited(ctx.store, "local", "keys:revoke", detail=name):
        revoke_key(ctx.store, name)


def _erase(ctx: JobContext, profile_id: str | None, identifier: str | None, actor: str = "local") -> dict[str, Any]:
    from api.service import CustomerService
    from graph.errors import InvalidRequest

    named = None
    if identifier is not None:
        id_type, _, value = identifier.partition(":")
        if not id_type or not value:
            raise InvalidRequest(f"--identifier '{identifier}': write TYPE:VALUE, e.g. email:ann@example.com")
        named = (id_type.strip(), value.strip())
    return asdict(_service(ctx, CustomerService, actor).erase(profile_id, named))


def _audit(ctx: JobContext, since: str, limit: int) -> list[dict[str, Any]]:
    from dataclasses import asdict

    from api.audit import read_audit

    return [asdict(e) for e in read_audit(ctx.store, since, limit)]


def _review_queue(ctx: JobContext, first: int) -> dict[str, Any]:
    from api.review import review_queue

    return asdict(review_queue(ctx.store, first))


def _review_label(ctx: JobContext, record_a: str, record_b: str, match: bool, actor: str = "local") -> list[str]:
    from api.service import CustomerService

    return list(_service(ctx, CustomerService, actor).label_pair(record_a, record_b, match))


def _review_labels(ctx: JobContext) -> list[dict[str, Any]]:
    labels = ctx.store.pair_labels()
    return [{"record_a": a, "record_b": b, "match": bool(m), "actor": who, "at": at}
            for a, b, m, who, at in labels[["record_a", "record_b", "match", "actor", "at"]].itertuples(index=False)]  # fmt: skip


def _segment_create(ctx: JobContext, name: str, rule: str, actor: str = "local") -> dict[str, Any]:
    from api.segments import as_dict, create_segment

    return as_dict(create_segment(ctx.store, name, rule, actor))


def _segment_list(ctx: JobContext) -> list[dict[str, Any]]:
    from api.segments import as_dict, segments

    return [as_dict(s) for s in segments(ctx.store)]


def _segment_preview(ctx: JobContext, rule: str) -> dict[str, Any]:
    from api.segments import preview

    return asdict(preview(ctx.store, rule))


def _segment_members(ctx: JobContext, name: str, out: str) -> dict[str, Any]:
    from api.audit import audited
    from api.exports import write_frame
    from api.segments import segment_members

    with audited(ctx.store, "local", "export:segment"):
        members = segment_members(ctx.store, name)
        write_frame(members, Path(out))
    return {"rows": len(members), "out": out}


def _destination_add(ctx: JobContext, name: str, folder: str | None, webhook: str | None, secret: str,
                     batch_size: int, file_format: str = "csv") -> dict[str, Any]:  # fmt: skip
    from api.destinations import add_destination
    from graph.errors import InvalidRequest

    if (folder is None) == (webhook is None):
        raise InvalidRequest("give a destination either --folder PATH or --webhook URL (with --secret)")
    kind, target = ("folder", folder) if folder is not None else ("webhook", webhook)
    made = add_destination(ctx.store, name, kind, str(target), secret, batch_size, file_format)
    return {"name": made.name, "kind": made.kind, "target": made.target, "batch_size": made.batch_size,
            "format": made.format}  # fmt: skip


def _destination_list(ctx: JobContext) -> list[dict[str, Any]]:
    from api.destinations import destinations

    return [
        {
            "name": d.name,
            "kind": d.kind,
            "target": d.target,
            "batch_size": d.batch_size,
            "created_at": d.created_at,
            "format": d.format if d.kind == "folder" else "json",
        }
        for d in destinations(ctx.store)
    ]  # (the secret is never shown)


def _destination_deadletters(ctx: JobContext, name: str) -> list[dict[str, Any]]:
    from api.destinations import dead_letters

    found = dead_letters(ctx.store, name)
    return found[["key", "segment", "batch", "attempts", "outcome", "created_at"]].to_dict("records")


def _destination_sends(ctx: JobContext, name: str) -> list[dict[str, Any]]:
    from api.destinations import sends

    return sends(ctx.store, name).to_dict("records")


def _destination_replay(ctx: JobContext, name: str, actor: str = "local") -> dict[str, Any]:
    from api.service import CustomerService

    return asdict(_service(ctx, CustomerService, actor).replay_dead_letters(name))


def _audience_push(ctx: JobContext, segment: str, to: str, purpose: str, actor: str = "local") -> dict[str, Any]:
    from api.service import CustomerService

    return asdict(_service(ctx, CustomerService, actor).push_audience(segment, to, purpose))


def _journeys_run(ctx: JobContext, file: str, actor: str = "local") -> list[dict[str, Any]]:
    from api.service import CustomerService

    return [asdict(r) for r in _service(ctx, CustomerService, actor).run_journeys(Path(file))]


def _journeys_status(ctx: JobContext, file: str) -> dict[str, dict[str, int]]:
    from api.journeys import journey_status, load_journeys

    return journey_status(ctx.store, load_journeys(Path(file)))


def _service(ctx: JobContext, cls: Any, actor: str = "local") -> Any:
    from api.access import Principal
    from ingest.lookup import lookup_options

    return cls(ctx.store, lookup_options(ctx.store, ctx.settings), principal=Principal(actor),
               wait_s=ctx.settings.writer_wait_seconds)  # fmt: skip


#: name -> the function (its keyword arguments are the job's arguments) and the type of its result
JOBS: dict[str, tuple[Callable[..., Any], Any]] = {
    "ingest": (_ingest, "ingest.pipeline:IngestSummary"),
    "resolve": (_resolve, "resolve.runner:ResolveSummary"),
    "match_settings": (_match_settings, None),
    "stats": (_stats, None),
    "report": (_report, None),
    "explain": (_explain, None),
    "evaluate": (_evaluate, None),
    "export_profiles": (_export_profiles, None),
    "export_traits": (_export_traits, None),
    "merge": (_merge, None),
    "split": (_split, None),
    "embed": (_embed, None),
    "lookalike": (_lookalike, None),
    "recommend": (_recommend, None),
    "demo_sources": (_demo_sources, None),
    "demo_report": (_demo_report, None),
    "keys_create": (_keys_create, None),
    "keys_list": (_keys_list, None),
    "keys_revoke": (_keys_revoke, None),
    "audit": (_audit, None),
    "erase": (_erase, None),
    "review_queue": (_review_queue, None),
    "review_label": (_review_label, None),
    "review_labels": (_review_labels, None),
    "segment_create": (_segment_create, None),
    "segment_list": (_segment_list, None),
    "segment_preview": (_segment_preview, None),
    "segment_members": (_segment_members, None),
    "destination_add": (_destination_add, None),
    "destination_list": (_destination_list, None),
    "destination_deadletters": (_destination_deadletters, None),
    "destination_replay": (_destination_replay, None),
    "destination_sends": (_destination_sends, None),
    "audience_push": (_audience_push, None),
    "journeys_run": (_journeys_run, None),
    "journeys_status": (_journeys_status, None),
}


def result_type(name: str) -> Any:
    """The dataclass a job's result is, or None for plain JSON."""
    spec = JOBS[name][1]
    if spec is None:
        return None
    import importlib

    module, _, attr = spec.partition(":")
    return getattr(importlib.import_module(module), attr)


def to_json(name: str, result: Any) -> Any:
    """A job's result as JSON-ready data."""
    kind = result_type(name)
    if kind is None:
        return json.loads(json.dumps(result, default=str))
    from pydantic import TypeAdapter

    return TypeAdapter(kind).dump_python(result, mode="json")


def from_json(name: str, data: Any) -> Any:
    """A job's result back from JSON (the dataclass the job returned)."""
    kind = result_type(name)
    if kind is None:
        return data
    from pydantic import TypeAdapter

    return TypeAdapter(kind).validate_python(data)


def run_job_here(ctx: JobContext, name: str, args: dict[str, Any]) -> Any:
    """Run a job on ``ctx.store``; its result as JSON-ready data."""
    import inspect

    from graph.errors import InvalidRequest

    function, _ = JOBS[name]
    try:
        inspect.signature(function).bind(ctx, **args)
    except TypeError as exc:
        raise InvalidRequest(f"job '{name}': {exc}") from None
    return to_json(name, function(ctx, **args))
