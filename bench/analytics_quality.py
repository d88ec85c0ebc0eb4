"""Benchmark: the analytics of resolved demo data through the product path, against the demo's known tastes.

    python -m bench.analytics_quality                        # 10k, 100k and 400k records
    python -m bench.analytics_quality --sizes 10000 --no-write

Each size runs in its own process on an empty embedded store: ``ingest`` of ``sources.yaml``, ``resolve``
with default settings, ``embed_store`` with default settings (as ``cdp ingest``, ``cdp resolve`` and
``cdp embed`` do), then the measures of :mod:`analytics.embedding_quality`:

- link-prediction AUC (:func:`link_prediction_auc` on the store's customer graph);
- lookalike lift for every taste of the demo: each profile stands for the true person most of its
  records belong to; a cohort is the profiles (with a vector) whose person's first taste is that
  category; a random 20% of it are the seeds, the audience is :func:`analytics.lookalike.lookalike_scores`
  of the size of the rest, and the lift is its share in the rest of the cohort over that rest's share of
  every non-seed profile with a vector (1.0 is random);
- recommendations on a temporal holdout (:func:`recommendation_quality`): hit rate and NDCG at 10 for
  node2vec, most popular and item-kNN;
- ``similarProfiles(id, k: 10)`` over real HTTP: ``cdp serve`` (uvicorn) in its own process on a loopback
  port over the store just built, one keep-alive client in this process, queries one at a time for random
  profiles with a vector, after a warm-up.

The data is ``generate_dataset(..., n_records=N, seed=7)`` in ``bench/out/analytics-N`` (shared with
``bench/embed.py``). The largest default size gives over 100k profiles with a vector, the size the latency
target is set at.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd
from rich.console import Console

from bench import common
from bench.common import ROOT
from bench.embed import demo_data
from bench.splink_peer import run_measured

SIZES = "10000,100000,400000"
SEED_SHARE = 0.2
QUERIES, WARM_UP, K = 2000, 100, 10
SIMILAR = "query($id: ID!, $k: Int!) { similarProfiles(id: $id, k: $k) { profile { id } score } }"
console = Console(stderr=True)
T = TypeVar("T")


def _timed(steps: dict[str, float], name: str, run: Callable[[], T]) -> T:
    console.print(f"  {name} ...")
    started = time.perf_counter()
    result = run()
    steps[name] = time.perf_counter() - started
    return result


def majority_person(assignments: pd.DataFrame, truth: pd.Series) -> pd.Series:
    """Profile id -> the true person most of its records belong to (ties: the first person by id)."""
    frame = pd.DataFrame({"profile": assignments["profile_id"].to_numpy(),
                          "person": truth.reindex(assignments["record"]).to_numpy()}).dropna()  # fmt: skip
    counts = frame.groupby(["profile", "person"]).size().reset_index(name="n")
    counts = counts.sort_values(["profile", "n", "person"], ascending=[True, False, True])
    return counts.drop_duplicates("profile").set_index("profile")["person"]


def lookalike_lifts(index: Any, person_of: pd.Series, people: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    """``taste, cohort, seeds, lift``: one lookalike audience per first taste (see the module docstring)."""
    from analytics.embedding_quality import lookalike_lift
    from analytics.lookalike import lookalike_scores

    rng = np.random.default_rng(seed)
    first_taste = people.set_index("person_id")["tastes"].str.split("|").str[0]
    profiles = pd.Series(index.ids, index=index.ids)
    taste = first_taste.reindex(person_of.reindex(profiles).to_numpy()).to_numpy()
    rows = []
    for name in sorted(pd.unique(taste[pd.notna(taste)])):
        cohort = profiles[taste == name].tolist()
        seeds = rng.choice(cohort, size=max(1, int(SEED_SHARE * len(cohort))), replace=False).tolist()
        rest = set(cohort) - set(seeds)
        audience = lookalike_scores(index, seeds, len(rest))["profile_id"].tolist()
        lift = lookalike_lift(audience, rest, set(profiles) - set(seeds))
        rows.append({"taste": name, "cohort": len(cohort), "seeds": len(seeds), "lift": lift})
    return pd.DataFrame(rows)


def similar_latency(url: str, ids: list[str], rng: np.random.Generator) -> dict[str, float]:
    """Milliseconds per ``similarProfiles`` request (HTTP round trip) for random ``ids``, after a warm-up."""
    import httpx

    with httpx.Client(base_url=url, timeout=30) as client:

        def ask(profile_id: str) -> float:
            started = time.perf_counter()
            response = client.post("/graphql", json={"query": SIMILAR, "variables": {"id": profile_id, "k": K}})
            seconds = time.perf_counter() - started
            body = response.json()
            if response.status_code != 200 or body.get("errors") or len(body["data"]["similarProfiles"]) != K:
                raise RuntimeError(f"similarProfiles({profile_id}): {response.status_code} {str(body)[:300]}")
            return seconds * 1000

        first = ask(ids[0])  # loads the model into the process's cache
        for profile_id in rng.choice(ids, size=WARM_UP):
            ask(str(profile_id))
        times = np.array([ask(str(profile_id)) for profile_id in rng.choice(ids, size=QUERIES)])
    p50, p95, p99 = np.percentile(times, [50, 95, 99])
    return {"first_ms": first, "p50_ms": p50, "p95_ms": p95, "p99_ms": p99, "max_ms": float(times.max()),
            "queries": float(QUERIES)}  # fmt: skip


def _one(records: int) -> dict[str, Any]:
    """Every step and measure on ``records`` records of demo data, in a fresh embedded store."""
    from analytics.customer_graph import read_customer_graph
    from analytics.embedding_quality import link_prediction_auc, recommendation_quality
    from analytics.embeddings import EmbeddingSettings, embed_store
    from analytics.quality import load_truth
    from analytics.similarity import SimilarityIndex
    from graph.settings import StoreSettings, open_store
    from ingest.config import load_config
    from ingest.pipeline import ingest
    from resolve.runner import resolve
    from resolve.settings import ResolveSettings

    directory, settings, steps = demo_data(records), EmbeddingSettings(), dict[str, float]()
    with tempfile.TemporaryDirectory(prefix="cdp-analytics-") as tmp:
        store = open_store(StoreSettings(store="embedded", data_dir=Path(tmp) / "store"))
        config = load_config(directory / "sources.yaml")
        _timed(steps, "ingest", lambda: ingest(config, store, Path(tmp) / "rejects"))
        resolved = _timed(steps, "resolve", lambda: resolve(store, ResolveSettings()))
        embeddings = _timed(steps, "embed", lambda: embed_store(store, settings))
        link = _timed(steps, "link_auc", lambda: link_prediction_auc(read_customer_graph(store), settings))
        recs = _timed(steps, "recommend", lambda: recommendation_quality(store.profile_events(), settings))
        index = SimilarityIndex(embeddings, "profile")
        truth = load_truth(str(directory / "truth.csv"))
        people = pd.read_csv(directory / "people.csv", dtype=str)
        lifts = _timed(steps, "lookalike", lambda: lookalike_lifts(
            index, majority_person(store.assignments(), truth), people))  # fmt: skip
        store.close()  # the server process opens it
        with common.serving("embedded", Path(tmp) / "store", Path(tmp) / "serve.log") as (url, _):
            latency = _timed(steps, "latency", lambda: similar_latency(url, index.ids.tolist(),
                                                                       np.random.default_rng(1)))  # fmt: skip
    return {
        "records": records, "profiles": resolved.profiles, "embedded_profiles": len(index),
        "nodes": embeddings.summary["nodes"], "walks_s": embeddings.summary["walks_s"],
        "train_s": embeddings.summary["train_s"], "steps": steps, "link": link, "recommend": recs,
        "lifts": lifts.to_dict("records"), "latency": latency,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }  # fmt: skip


def _step_row(r: dict[str, Any]) -> str:
    s = r["steps"]
    return (
        f"| {r['records']:,} | {r['profiles']:,} | {r['embedded_profiles']:,} | {r['nodes']:,} | {s['ingest']:.1f} | "
        f"{s['resolve']:.1f} | {s['embed']:.1f} ({r['walks_s']:.1f} + {r['train_s']:.1f}) | {s['link_auc']:.1f} | "
        f"{s['recommend']:.1f} | {s['lookalike']:.1f} | {s['latency']:.1f} | {r['peak_rss_mb']:,.0f} |"
    )


def _quality_row(r: dict[str, Any]) -> str:
    lifts = pd.Series([c["lift"] for c in r["lifts"]])
    rec = r["recommend"]
    hits = " / ".join(f"{rec[m]['hit_rate@10']:.3f}" for m in ("node2vec", "most_popular", "item_knn"))
    ndcg = " / ".join(f"{rec[m]['ndcg@10']:.3f}" for m in ("node2vec", "most_popular", "item_knn"))
    return (
        f"| {r['records']:,} | {r['link']['auc']:.4f} ({r['link']['held_out']:,}) | {lifts.min():.2f} / "
        f"{lifts.median():.2f} / {lifts.max():.2f} ({len(lifts)}) | {hits} | {ndcg} | "
        f"{int(rec['holdout']['profiles']):,} |"
    )


def _latency_row(r: dict[str, Any]) -> str:
    t = r["latency"]
    return (f"| {r['records']:,} | {r['embedded_profiles']:,} | {int(t['queries']):,} | {t['first_ms']:.0f} | "
            f"{t['p50_ms']:.1f} | {t['p95_ms']:.1f} | {t['p99_ms']:.1f} | {t['max_ms']:.1f} |")  # fmt: skip


def _lift_lines(results: list[dict[str, Any]]) -> list[str]:
    tastes = sorted({c["taste"] for r in results for c in r["lifts"]})
    lines = ["| records | " + " | ".join(tastes) + " |", "|" + "---|" * (len(tastes) + 1)]
    for r in results:
        by_taste = {c["taste"]: c for c in r["lifts"]}
        cells = [f"{by_taste[t]['lift']:.2f} ({by_taste[t]['cohort']:,})" if t in by_taste else "-" for t in tastes]
        lines.append(f"| {r['records']:,} | " + " | ".join(cells) + " |")
    return lines


def section(results: list[dict[str, Any]], command: str, commit: str, load: float) -> str:
    """The BENCHMARKS.md section for one run; ``commit`` and ``load`` as they were when it started."""
    return "\n".join([
        f"\n## Analytics quality through the product path ({datetime.now(UTC):%Y-%m-%d}, commit {commit})\n",
        f"Machine: {common.machine()}; 1-minute load average {load:.1f} before the run (a shared machine)\n",
        f"Command: `{command}`\n",
        "The demo data (`generate_dataset(..., n_records=N, seed=7)`), each size in a fresh process on an empty "
        "embedded store: `ingest`, `resolve(store, ResolveSettings())`, `embed_store(store, "
        "EmbeddingSettings())`, then `link_prediction_auc` and `recommendation_quality` (each embeds its own "
        "training graph again), lookalike audiences per taste and `similarProfiles` over HTTP "
        "(see `bench/analytics_quality.py`). Seconds of each step (embed: walks + training); peak RSS of "
        "the process.\n",
        "| records | profiles | with a vector | graph nodes | ingest s | resolve s | embed s (walks + train) | "
        "link AUC s | recommend s | lookalike s | latency s | peak RSS MB |",
        "|" + "---|" * 12,
        *[_step_row(r) for r in results],
        "",
        "Quality. Link AUC: held-out customer-product links (how many) against as many unlinked pairs, "
        "cosine of input + output vectors. Lookalike lift: min / median / max over the taste cohorts "
        f"(how many), seeds a random {SEED_SHARE:.0%} of each cohort, audience the size of the rest "
        "(target >= 4x). Recommendations: hit rate and NDCG at 10 on the temporal holdout (purchases after the "
        "80% quantile of event time, products not bought before), node2vec / most popular / item-kNN, and "
        "how many profiles were scored (target: node2vec beats both baselines on hit rate).\n",
        "| records | link AUC (held out) | lookalike lift min / median / max (cohorts) | hit rate@10 n2v / pop / "
        "iknn | NDCG@10 n2v / pop / iknn | holdout profiles |",
        "|" + "---|" * 6,
        *[_quality_row(r) for r in results],
        "",
        "Lookalike lift per first taste (cohort size):\n",
        *_lift_lines(results),
        "",
        f"`similarProfiles(id, k: {K})` over HTTP: `cdp serve` (uvicorn, one worker) in its own process on "
        f"loopback, one keep-alive httpx client in the benchmark's process, {WARM_UP} warm-up queries after the first (which loads the model), then {QUERIES:,} "
        "queries one at a time for random profiles with a vector; milliseconds per request (target p99 < 25 ms "
        "at >= 100k profiles).\n",
        "| records | profiles with a vector | queries | first ms | p50 ms | p95 ms | p99 ms | max ms |",
        "|" + "---|" * 8,
        *[_latency_row(r) for r in results],
        "",
    ])  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description="Analytics quality and latency on resolved demo data.")
    parser.add_argument("--sizes", default=SIZES, help=f"comma-separated record counts (default {SIZES})")
    parser.add_argument("--no-write", action="store_true", help="print the section; do not append it")
    parser.add_argument("--out", type=Path, default=ROOT / "BENCHMARKS.md")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(_one(args.one), default=float))
        return
    commit, load = common.commit(), os.getloadavg()[0]
    results = []
    for records in [int(s) for s in args.sizes.split(",")]:
        console.print(f"[bold]{records:,} records[/bold]")
        run = run_measured([sys.executable, "-m", "bench.analytics_quality", "--one", str(records)])
        results.append(json.loads(run.stdout.strip().splitlines()[-1]))
        console.print(
            _step_row(results[-1]), _quality_row(results[-1]), _latency_row(results[-1]), sep="\n", highlight=False
        )
    text = section(results, f"python -m bench.analytics_quality --sizes {args.sizes}", commit, load)
    common.publish(text, args.out, args.no_write)


if __name__ == "__main__":
    main()
