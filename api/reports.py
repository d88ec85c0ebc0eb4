"""What the CLI prints: ingest and resolve summaries, store statistics."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
from rich.table import Table

from analytics.health import conflicting_profiles, strong_values
from analytics.quality import Evaluation
from api.progress import console
from graph.model import USABLE_STATUSES, IdentifierStatus
from graph.store import GraphStore
from ingest.pipeline import IngestSummary
from resolve.changes import ChangePreview
from resolve.explain import USER_MERGE, Explanation
from resolve.runner import ResolveSummary


def _table(title: str, *columns: str) -> Table:
    table = Table(title=title, title_justify="left")
    for n, column in enumerate(columns):
        table.add_column(column, justify="left" if n == 0 else "right")
    return table


def print_ingest(summary: IngestSummary) -> None:
    table = _table("Ingest", "Source", "rows read", "created", "updated", "unchanged", "identifiers", "rejects")
    for s in summary.sources:
        w = s.writes
        table.add_row(
            s.source, *(f"{n:,}" for n in (s.rows_read, w.created, w.updated, w.unchanged, w.identifiers, s.rejects))
        )
    console.print(table)
    rate = summary.rows_read / summary.seconds if summary.seconds else 0
    console.print(f"{summary.rows_read:,} rows in {summary.seconds:.1f} s ({rate:,.0f} rows/s)")
    for s in summary.sources:
        notes = [(f"{s.source}: {warning}", "yellow") for warning in s.warnings]
        if s.region_hint:
            notes.append((f"{s.source}: {s.region_hint}", "yellow"))
        listed = f"listed in {s.rejects_file}"
        if s.rejects:
            notes.append((f"{s.rejects:,} rejected rows of {s.source} written to {s.rejects_file}", "yellow"))
        if s.invalid_values:
            dropped = ", ".join(f"{c}: {n:,}" for c, n in sorted(s.invalid_values.items()))
            total = sum(s.invalid_values.values())
            notes.append((f"{s.source}: {total:,} values dropped from matching ({dropped}), {listed}", ""))
        if s.events_dropped:
            lost = ", ".join(f"unreadable {c}: {n:,}" for c, n in sorted(s.events_dropped.items()))
            total = sum(s.events_dropped.values())
            notes.append((f"{s.source}: {total:,} events not recorded ({lost}), {listed}", ""))
        if s.duplicate_ids:
            notes.append((f"{s.source}: {s.duplicate_ids:,} rows repeated a record id (the last one wins)", ""))
        if s.suppressed:
            notes.append((f"{s.source}: {s.suppressed:,} rows of erased customers skipped (suppressed by `cdp erase`)",
                          ""))  # fmt: skip
        for note, style in notes:  # markup off: a path or a warning may hold "[...]"
            console.print(note, style=style, markup=False, highlight=False, soft_wrap=True)


_OVERRIDE_NAMES = {"must_link": "user merge", "cannot_link": "user split"}
UNVERIFIED = IdentifierStatus.UNVERIFIED.value


def print_resolve(summary: ResolveSummary) -> None:
    verb = "would resolve" if summary.dry_run else "resolved"
    console.print(
        f"{verb} {summary.records:,} records into {summary.profiles:,} profiles "
        f"({summary.singletons:,} single-record, largest {summary.largest_profile:,}) in {summary.seconds:.1f} s"
    )
    if summary.incremental:
        console.print(f"incremental: resolved again the {summary.resolved_records:,} records new ones could change "
                      "(the match model of the last full run kept; `cdp resolve --full` estimates it again)")  # fmt: skip
    changes = summary.changes
    console.print(
        f"changes: {summary.new_profiles:,} new profiles, {summary.removed_profiles:,} removed, "
        f"{summary.moved_records:,} records assigned or moved, {changes.merges:,} merges, {changes.splits:,} splits"
    )
    if summary.households:
        console.print(f"households of two or more profiles (people sharing a home, not merged): {summary.households:,}")
    if summary.rejected_links:
        example = summary.rejected_examples[0]
        console.print(
            f"links cut to keep profiles within their limits: {summary.rejected_links:,} "
            f"(e.g. {example['record']} - {example['identifier']}: {example['reason']})",
            highlight=False,
        )
    _print_overrides(summary.overrides)
    if summary.dry_run:
        _print_change_examples(changes)
        console.print("dry run: nothing was written")
        if summary.pending_run:
            console.print(f"[yellow]run {summary.pending_run} was interrupted: the next resolve finishes its writes "
                          "first, so these changes are measured against a graph it half wrote[/yellow]")  # fmt: skip
    if summary.ignored_identifiers:
        ignored = ", ".join(f"{k}: {v:,}" for k, v in sorted(summary.ignored_identifiers.items()))
        console.print(f"identifiers ignored by resolution: {ignored} (see `cdp stats`)")


def _print_overrides(overrides: dict[str, Any]) -> None:
    if overrides.get("must_links") or overrides.get("splits"):
        console.print(f"user overrides kept: {overrides['must_links']:,} merge links, {overrides['splits']:,} splits")
    for item in overrides.get("superseded") or []:
        console.print(
            f"[yellow]superseded:[/yellow] {_OVERRIDE_NAMES[item['kind']]} {item['action']} ({item['records']}): "
            f"the later {item['superseded_by']} contradicts it and wins",
            highlight=False,
        )


def _print_change_examples(changes: ChangePreview) -> None:
    table = _table("What would change (largest first)", "change", "profile", "records", "detail")
    for merge in changes.merge_examples:
        table.add_row("merge", str(merge["profile"]), f"{merge['records']:,}", "from " + ", ".join(merge["from"]))
    for split in changes.split_examples:
        table.add_row("split", str(split["profile"]), f"{split['records']:,}", "into " + ", ".join(split["into"]))
    for move in changes.move_examples:
        kind, origin = ("move", f"from {move['from']}") if move["from"] else ("assign", "(had no profile)")
        table.add_row(kind, str(move["to"]), "1", f"{move['record']} {origin}")
    if table.row_count:
        console.print(table)


def collect_stats(store: GraphStore, strong: pd.DataFrame | None = None) -> dict[str, Any]:
    """Everything ``cdp stats`` shows, as plain data (``strong``: :func:`strong_values`, when read already)."""
    records = store.records_by_source()
    identifiers: dict[str, dict[str, int]] = {}
    for row in store.identifiers_by_type():
        identifiers.setdefault(row["type"], {})[row["status"]] = row["n"]
    sizes = store.profile_size_counts()
    run = store.latest_run()
    last = json.loads(run["summary"]) if run else None
    return {
        "store": store.describe(),
        "records_by_source": records,
        "identifiers_by_type": identifiers,
        "events": store.event_count(),
        "profiles": sum(sizes.values()),
        "profile_sizes": dict(sorted(sizes.items())),
        "shared_identifiers": last["top_shared"] if last else [],
        "conflicting_profiles": conflicting_profiles(strong_values(store) if strong is None else strong),
        "last_resolve": {
            k: last.get(k) for k in ("run_id", "seconds", "profiles", "ignored_identifiers", "rejected_links")
        }
        if last
        else None,
    }


def print_stats(figures: dict[str, Any]) -> None:
    console.print(f"[bold]{figures['store']}[/bold]")
    table = _table("Records", "Source", "records")
    for source, n in sorted(figures["records_by_source"].items()):
        table.add_row(source, f"{n:,}")
    console.print(table)
    table = _table("Identifiers", "Type", "active", "unverified", "ignored")  # unverified ones link records too
    for id_type, by_status in sorted(figures["identifiers_by_type"].items()):
        ignored = ", ".join(f"{s} {n:,}" for s, n in sorted(by_status.items()) if s not in USABLE_STATUSES)
        unverified = f"{by_status[UNVERIFIED]:,}" if UNVERIFIED in by_status else "-"
        table.add_row(id_type, f"{by_status.get('active', 0):,}", unverified, ignored or "-")
    console.print(table)
    console.print(f"events: {figures['events']:,}   profiles: {figures['profiles']:,}")
    console.print(f"profile sizes: {_histogram(figures['profile_sizes'])}")
    last = figures["last_resolve"] or {}
    if last.get("rejected_links"):
        console.print(f"links the last resolve cut to keep profiles within their limits: {last['rejected_links']:,}")
    if figures["conflicting_profiles"]:
        conflicts = ", ".join(f"{kind} {n:,}" for kind, n in sorted(figures["conflicting_profiles"].items()))
        console.print(f"profiles holding two different values of a one-per-person field: {conflicts}")
    if figures["shared_identifiers"]:
        table = _table("Shared identifiers (over the per-type cap, ignored)", "Identifier", "records")
        for item in figures["shared_identifiers"]:
            table.add_row(str(item["identifier"]), f"{item['records']:,}")
        console.print(table)


def _histogram(sizes: dict[int, int]) -> str:
    buckets: dict[str, int] = {}
    for size, n in sizes.items():
        label = str(size) if size <= 5 else "6-10" if size <= 10 else "11-50" if size <= 50 else ">50"
        buckets[label] = buckets.get(label, 0) + n
    return "  ".join(f"{k}: {v:,}" for k, v in buckets.items())


def print_evaluation(result: Evaluation) -> None:
    table = _table("resolution against ground truth", "measure", "precision", "recall", "F1")
    for name, scores in (("pairwise", result.pairwise), ("B-cubed", result.bcubed)):
        table.add_row(name, f"{scores.precision:.4f}", f"{scores.recall:.4f}", f"{scores.f1:.4f}")
    console.print(table)
    profile, entity = result.largest_profile, result.largest_entity
    console.print(
        f"scored {result.scored:,} records ({result.unlabelled:,} resolved but not in the truth file, "
        f"{result.unresolved:,} in the truth file but not resolved)\n"
        f"largest profile {profile[0]}: {profile[1]:,} records; largest true entity {entity[0]}: {entity[1]:,}"
    )
    if result.blocking_reach is not None:
        console.print(f"blocking: {result.blocking_reach:.2%} of true pairs reach scoring or share an identifier "
                      "(the rest no resolve with these settings can link)")  # fmt: skip


def print_explanation(found: Explanation) -> None:
    console.print(f"[bold]{found.a}[/bold] and [bold]{found.b}[/bold]: {found.summary}", highlight=False)
    for n, hop in enumerate(found.hops, 1):
        if hop.comparisons:
            console.print(f"  {n}. {hop.from_record} -> {hop.to_record}: fuzzy match, probability "
                          f"{hop.identifier_value}, total weight {hop.weight:+.2f}", highlight=False)  # fmt: skip
            for c in hop.comparisons:
                console.print(f"       {c.comparison:<14} {c.level:<36} {c.weight:+.2f}", highlight=False)
            continue
        if hop.kind == USER_MERGE:
            console.print(f"  {n}. {hop.from_record} -> {hop.to_record}: merged by a user: {hop.identifier_value}",
                          highlight=False)  # fmt: skip
            continue
        console.print(f"  {n}. {hop.from_record} -> {hop.to_record}: both hold {hop.identifier_type} "
                      f"{hop.identifier_value}", highlight=False)  # fmt: skip
    for barrier in found.barriers:
        console.print(f"  kept apart: {barrier.identifier_type} {barrier.identifier_value} {barrier.reason}",
                      highlight=False)  # fmt: skip


def stats_from_json(figures: dict[str, Any]) -> dict[str, Any]:
    """``collect_stats`` output back from JSON (profile sizes are integer keys again)."""
    return {**figures, "profile_sizes": {int(size): n for size, n in figures["profile_sizes"].items()}}


def print_explanation_json(payload: dict[str, Any]) -> None:
    """:func:`print_explanation` of an explanation sent as JSON (by a job), with its pair score."""
    from pydantic import TypeAdapter

    found = TypeAdapter(Explanation).validate_python(payload)
    print_explanation(found)
    score = found.pair_score
    if score:
        keys = ", ".join(score.blocking_rules) or "none (never compared)"
        console.print(f"  fuzzy-match score: probability {score.probability:.4f}, total weight {score.weight:+.2f}, "
                      f"threshold {score.threshold:g}; blocking keys shared: {keys}", highlight=False)  # fmt: skip
        for c in score.comparisons:
            console.print(f"       {c.comparison:<14} {c.level:<36} {c.weight:+.2f}", highlight=False)
