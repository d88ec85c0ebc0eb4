"""Benchmark: node2vec embeddings of the customer graph, cdp's numba kernels beside the ``node2vec`` package.

    python -m bench.embed                                   # ~10k, ~100k and ~1M nodes, both tools
    python -m bench.embed --sizes 10000 --tools cdp --no-write

Needs ``pip install -e '.[bench]'`` (the reference, ``node2vec==0.4.3``, and its gensim 4).

The graph is :func:`analytics.customer_graph.build_customer_graph` of the demo data
(``generate_dataset(..., n_records=N, seed=7)`` in ``bench/out/analytics-N``) with the true persons as
profiles: the web and POS events, each under the ``person_id`` of its record in ``truth.csv``, so no ingest
or resolve is involved. N is chosen so the graph has about the target number of nodes.

Both tools embed the same training graph with the same settings (:class:`analytics.embeddings.EmbeddingSettings`'
defaults: p, q, walk length, walks per node, dimensions, window, negatives, subsampling, one epoch, two
workers): 10% of the customer-product links held out as :func:`analytics.embedding_quality.link_prediction_auc`
holds them out (the same seeded draws), so the seconds and the AUC come from one run. Each tool runs in its
own process (``python -m bench.embed --child TOOL ...``), stopped after a time limit or when its process tree
passes a memory budget. The AUC is scored here, the same way for both: the cosine of input + output vectors
(what cdp's similarity uses; for gensim ``model.wv`` plus ``model.syn1neg``, rows put in node order), and the
cosine of input vectors alone.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from rich.console import Console

from analytics.customer_graph import CustomerGraph, build_customer_graph
from analytics.embedding_quality import Holdout, holdout
from analytics.embeddings import EmbeddingSettings
from bench import common
from bench.common import ROOT

TOOLS = ("cdp", "node2vec")
SIZES = "10000,100000,1000000"
RECORDS_PER_NODE = 3.9  # demo records per customer-graph node (persons with web or POS events + ~220 items)
LIMIT_S = {"cdp": 1800, "node2vec": 1200}
MEMORY_MB = 8192  # a process tree past this is stopped: the machine is shared
console = Console(stderr=True)


def demo_data(records: int) -> Path:
    """``bench/out/analytics-<records>``, generated on first use."""
    return common.demo_data(records, "analytics")


def person_events(directory: Path) -> pd.DataFrame:
    """The web and POS events of the demo data under their true person (``profile_id, type, ts, source,
    properties``), properties as ``sources.yaml`` lists them, as :meth:`GraphStore.profile_events` gives them."""
    from ingest.config import load_config

    truth = pd.read_csv(directory / "truth.csv", dtype=str)
    person = pd.Series(truth["person_id"].to_numpy(), index=truth["source"] + ":" + truth["record_id"])
    config = load_config(directory / "sources.yaml")
    frames = []
    for source in ("web", "pos"):
        spec = config.sources[source]
        assert spec.event is not None
        path = directory / spec.path
        rows = pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_json(path, lines=True, dtype=False)
        props = rows[spec.event.properties].to_json(orient="records", lines=True).splitlines()
        frames.append(pd.DataFrame({
            "profile_id": person.reindex(source + ":" + rows[spec.record_id].astype(str)).to_numpy(),
            "type": spec.event.type, "ts": rows[spec.event.timestamp].astype(str).to_numpy(), "source": source,
            "properties": props,
        }))  # fmt: skip
    return pd.concat(frames, ignore_index=True).dropna(subset=["profile_id"])


def auc(vectors: np.ndarray, split: Holdout) -> float:
    """ROC AUC of the cosine of each scored pair (a zero vector scores 0)."""
    from sklearn.metrics import roc_auc_score

    from analytics.similarity import normalised

    unit = normalised(vectors)
    return float(roc_auc_score(split.labels, (unit[split.pairs[:, 0]] * unit[split.pairs[:, 1]]).sum(axis=1)))


@dataclass
class Limited:
    """A child process run under a time limit and a memory budget: how it ended, its seconds, the peak RSS
    of its process tree and what it printed."""

    seconds: float
    peak_rss_mb: float
    stdout: str
    stderr: str
    returncode: int
    stopped: str = ""  # why it was stopped ("time limit", "memory budget"); empty when it ended by itself
    samples: list[float] = field(default_factory=list, repr=False)


def _descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                with open(f"/proc/{entry.name}/stat") as handle:
                    ppid = int(handle.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def _rss_mb(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/statm") as handle:
                total += int(handle.read().split()[1])
        except (OSError, IndexError, ValueError):
            continue
    return total * os.sysconf("SC_PAGE_SIZE") / 2**20


def run_limited(cmd: list[str], limit_s: float, memory_mb: float) -> Limited:
    """Run ``cmd``; every 0.2 s add up the RSS of its process tree (the reference's walks run in joblib
    worker processes, which ``ru_maxrss`` would miss) and kill the tree, by pid, past either limit."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=out, stderr=err, text=True, start_new_session=True)
        peak, stopped, done = [0.0], [""], threading.Event()

        def watch() -> None:
            while not done.wait(0.2):
                pids = _descendants(proc.pid)
                peak[0] = max(peak[0], _rss_mb(pids))
                over = "time limit" if time.perf_counter() - started > limit_s else ""
                over = over or ("memory budget" if peak[0] > memory_mb else "")
                if over and not stopped[0]:
                    stopped[0] = over
                    for pid in reversed(pids):
                        with contextlib.suppress(ProcessLookupError):
                            os.kill(pid, signal.SIGKILL)

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
        done.set()
        watcher.join()
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Limited(seconds, max(peak[0], usage.ru_maxrss / 1024), out.read(), err.read(), proc.returncode,
                       stopped[0])  # fmt: skip


def _child_cdp(graph_path: Path, out_path: Path, settings: EmbeddingSettings) -> dict[str, Any]:
    from analytics.embeddings import embed

    started = time.perf_counter()
    tiny = np.array([[0, 1], [1, 2], [2, 3], [0, 2], [3, 4]], dtype=np.int64)
    keys = np.array([f"profile:{i}" for i in range(5)], dtype=object)
    embed(CustomerGraph(keys, keys.copy(), tiny, np.ones(len(tiny))), settings)  # load or compile the kernels
    jit_s = time.perf_counter() - started
    graph = _load_graph(graph_path)
    print("stage embed", flush=True)
    embeddings = embed(graph, settings)
    np.savez(out_path, inputs=embeddings.inputs, outputs=np.asarray(embeddings.outputs))
    summary = embeddings.summary
    return {"jit_s": jit_s, "walks_s": summary["walks_s"], "train_s": summary["train_s"], "tokens": summary["tokens"]}


def _child_node2vec(graph_path: Path, out_path: Path, settings: EmbeddingSettings) -> dict[str, Any]:
    import networkx as nx
    from node2vec import Node2Vec

    graph = _load_graph(graph_path)
    seconds: dict[str, Any] = {}

    class Timed(Node2Vec):  # type: ignore[misc]  # the constructor precomputes and walks: time each
        def _precompute_probabilities(self) -> None:
            started = time.perf_counter()
            print("stage precompute", flush=True)
            super()._precompute_probabilities()
            seconds["precompute_s"] = time.perf_counter() - started
            print("stage walks", flush=True)

    started = time.perf_counter()
    nx_graph = nx.Graph()
    nx_graph.add_nodes_from(range(graph.n_nodes))
    nx_graph.add_weighted_edges_from(zip(graph.edges[:, 0].tolist(), graph.edges[:, 1].tolist(),
                                         graph.weights.tolist(), strict=True))  # fmt: skip
    seconds["networkx_s"] = time.perf_counter() - started
    s = settings
    started = time.perf_counter()
    model = Timed(nx_graph, dimensions=s.dimensions, walk_length=s.walk_length, num_walks=s.walks_per_node, p=s.p,
                  q=s.q, weight_key="weight", workers=s.workers, quiet=True, seed=s.seed)  # fmt: skip
    seconds["walks_s"] = time.perf_counter() - started - seconds["precompute_s"]
    print("stage train", flush=True)
    started = time.perf_counter()
    fitted = model.fit(window=s.window, min_count=1, negative=s.negative, epochs=s.epochs, sample=s.sample,
                       workers=s.workers, seed=s.seed)  # fmt: skip
    seconds["train_s"] = time.perf_counter() - started
    rows = np.array([fitted.wv.key_to_index.get(str(i), -1) for i in range(graph.n_nodes)])
    inputs = np.zeros((graph.n_nodes, s.dimensions), dtype=np.float32)
    outputs = np.zeros_like(inputs)
    inputs[rows >= 0], outputs[rows >= 0] = fitted.wv.vectors[rows[rows >= 0]], fitted.syn1neg[rows[rows >= 0]]
    np.savez(out_path, inputs=inputs, outputs=outputs)
    return seconds | {"tokens": int(fitted.corpus_total_words), "unvisited": int((rows < 0).sum())}


def _save_graph(graph: CustomerGraph, path: Path) -> None:
    np.savez(path, keys=graph.keys.astype(str), edges=graph.edges, weights=graph.weights)


def _load_graph(path: Path) -> CustomerGraph:
    data = np.load(path)
    keys = data["keys"].astype(object)
    kinds = np.array([k.split(":", 1)[0] for k in keys], dtype=object)
    return CustomerGraph(keys, kinds, data["edges"], data["weights"])


def _stage(printed: str) -> str:
    stages = [line.split(" ", 1)[1] for line in printed.splitlines() if line.startswith("stage ")]
    return stages[-1] if stages else "start-up"


def run_tool(
    tool: str, graph_path: Path, split: Holdout, settings: EmbeddingSettings, memory_mb: float
) -> dict[str, Any]:
    """Embed the training graph with ``tool`` in its own process, then score its vectors."""
    with tempfile.TemporaryDirectory(prefix="cdp-embed-") as tmp:
        out = Path(tmp) / "vectors.npz"
        cmd = [sys.executable, "-m", "bench.embed", "--child", tool, str(graph_path), str(out),
               "--settings", settings.model_dump_json()]  # fmt: skip
        run = run_limited(cmd, LIMIT_S[tool], memory_mb)
        if run.stopped:
            return {"tool": tool, "error": f"stopped by the {run.stopped} after {run.seconds:,.0f} s, in "
                    f"{_stage(run.stdout)} (peak RSS {run.peak_rss_mb:,.0f} MB)", "seconds": run.seconds}  # fmt: skip
        if run.returncode != 0:
            tail = (run.stderr or run.stdout).strip().splitlines()[-1:] or ["?"]
            return {"tool": tool, "error": f"failed (exit {run.returncode}) in {_stage(run.stdout)}: {tail[0][:200]}"}
        steps = json.loads(run.stdout.strip().splitlines()[-1])
        vectors = np.load(out)
        inputs, outputs = vectors["inputs"], vectors["outputs"]
    walks_s = steps["walks_s"] + steps.get("precompute_s", 0.0)
    return {
        "tool": tool,
        **steps,
        "walks_total_s": walks_s,
        "embed_s": walks_s + steps["train_s"],
        "process_s": run.seconds,
        "peak_rss_mb": run.peak_rss_mb,
        "auc": auc(inputs + outputs, split),
        "auc_inputs": auc(inputs, split),
    }


def transition_table_mb(graph: CustomerGraph) -> float:
    """What the reference's precomputed second-order probabilities take at least: one float64 per
    neighbour of ``v`` for every neighbour it can be entered from, for every node ``v`` (sum of squared
    degrees x 8 bytes, the arrays' own overhead left out)."""
    degree = np.bincount(graph.edges.ravel(), minlength=graph.n_nodes).astype(np.float64)
    return float((degree**2).sum() * 8 / 2**20)


def measure(target: int, tools: list[str], skip: dict[str, str], memory_mb: float, seeds: list[int]) -> dict[str, Any]:
    """One graph of about ``target`` nodes, every tool on it once per seed (each seed its own holdout and
    training seed, the same for both tools); ``skip``: tools not to run, with why."""
    records = int(round(target * RECORDS_PER_NODE, -3))
    directory = demo_data(records)
    graph = build_customer_graph(person_events(directory))
    first = holdout(graph, seeds[0])
    console.print(f"[bold]~{target:,} nodes[/bold]: {records:,} records, {graph.n_nodes:,} nodes, "
                  f"{graph.n_edges:,} edges, {int(first.labels.sum()):,} held out")  # fmt: skip
    row: dict[str, Any] = {"target": target, "records": records, "nodes": graph.n_nodes, "edges": graph.n_edges,
                           "train_edges": first.train.n_edges, "held_out": int(first.labels.sum()),
                           "table_mb": transition_table_mb(first.train), "tools": {}, "seeds": {}}  # fmt: skip
    for seed in seeds:
        settings = EmbeddingSettings(seed=seed)
        split = first if seed == seeds[0] else holdout(graph, seed)
        with tempfile.TemporaryDirectory(prefix="cdp-embed-graph-") as tmp:
            graph_path = Path(tmp) / "train.npz"
            _save_graph(split.train, graph_path)
            for tool in tools:
                if tool in skip:
                    row["tools"][tool] = {"tool": tool, "error": skip[tool], "seed": seed}
                    continue
                console.print(f" {tool}, seed {seed} ...")
                run = run_tool(tool, graph_path, split, settings, memory_mb) | {"seed": seed}
                row["seeds"].setdefault(tool, []).append(run)
                row["tools"].setdefault(tool, run)  # the first seed's run: what the single-seed figures use
                console.print(f"  {_row(row, run)}", highlight=False)
                if "error" in run:
                    skip[tool] = f"not run: did not finish at {row['nodes']:,} nodes"
    return row


def _over_seeds(rows: list[dict[str, Any]]) -> list[str]:
    """AUC mean and spread over the seeds of each size with more than one, and the paired difference."""
    lines = []
    for row in rows:
        runs = {tool: [r for r in found if "auc" in r] for tool, found in row["seeds"].items()}
        if max((len(r) for r in runs.values()), default=0) < 2:
            continue
        parts = [f"{tool} {np.mean([r['auc'] for r in found]):.4f} +/- {np.std([r['auc'] for r in found], ddof=1):.4f}"
                 f" ({len(found)} seeds, embed {np.mean([r['embed_s'] for r in found]):.1f} s)"
                 for tool, found in runs.items() if len(found) > 1]  # fmt: skip
        pairs = [(c["auc"], n["auc"]) for c in runs.get("cdp", []) for n in runs.get("node2vec", [])
                 if c["seed"] == n["seed"]]  # fmt: skip
        if len(pairs) > 1:
            diff = np.array([c - n for c, n in pairs])
            parts.append(f"cdp - node2vec, paired by seed: {diff.mean():+.4f} +/- {diff.std(ddof=1):.4f} "
                         f"(min {diff.min():+.4f}, max {diff.max():+.4f})")  # fmt: skip
        lines.append(f"- {row['nodes']:,} nodes, AUC (in+out) over seeds: " + "; ".join(parts))
    return ["AUC over seeds (mean +/- sample standard deviation):\n", *lines, ""] if lines else []


def _size(mb: float) -> str:
    return f"{mb:,.0f} MB" if mb < 1024 else f"{mb / 1024:,.1f} GiB"


def _detail(row: dict[str, Any], r: dict[str, Any]) -> str:
    if r["tool"] == "cdp":
        return f"numba kernels loaded/compiled in {r['jit_s']:.1f} s before the clock; {r['tokens']:,} walk tokens"
    table = f"transition tables >= {_size(row['table_mb'])} (computed)"
    if "error" in r:
        return f"{r['error']}; {table}"
    return (f"networkx graph {r['networkx_s']:.1f} s, precompute {r['precompute_s']:.1f} s + walks "
            f"{r['walks_s']:.1f} s; {table}")  # fmt: skip


def _row(row: dict[str, Any], r: dict[str, Any]) -> str:
    head = (f"| {row['target']:,} | {row['records']:,} | {row['nodes']:,} | {row['train_edges']:,} | {r['tool']} | "
            f"{r.get('seed', 0)} |")  # fmt: skip
    if "error" in r:
        return head + f" - | - | - | - | - | - | - | {_detail(row, r)} |"
    return head + (
        f" {r['walks_total_s']:.1f} | {r['train_s']:.1f} | {r['embed_s']:.1f} | {r['process_s']:.1f} | "
        f"{r['peak_rss_mb']:,.0f} | {r['auc']:.4f} | {r['auc_inputs']:.4f} | {_detail(row, r)} |"
    )


def _ratios(rows: list[dict[str, Any]]) -> list[str]:
    lines = ["| nodes | embed s node2vec / cdp | process s node2vec / cdp | peak RSS node2vec / cdp | "
             "AUC in+out cdp - node2vec | AUC in cdp - node2vec |", "|---|---|---|---|---|---|"]  # fmt: skip
    for row in rows:
        cdp, ref = row["tools"].get("cdp", {}), row["tools"].get("node2vec", {})
        if "auc" in cdp and "auc" in ref:
            lines.append(
                f"| {row['nodes']:,} | {ref['embed_s'] / cdp['embed_s']:.1f}x | {ref['process_s'] / cdp['process_s']:.1f}x"
                f" | {ref['peak_rss_mb'] / cdp['peak_rss_mb']:.1f}x | {cdp['auc'] - ref['auc']:+.4f} | "
                f"{cdp['auc_inputs'] - ref['auc_inputs']:+.4f} |"
            )
    return lines if len(lines) > 2 else []


def _estimates(rows: list[dict[str, Any]]) -> list[str]:
    """The node2vec package's seconds where it did not finish, scaled from its largest finished run: its
    precompute by the sum of squared degrees, its walks and training by the number of nodes. Estimates."""
    done = [row for row in rows if "auc" in row["tools"].get("node2vec", {})]
    if not done:
        return []
    base, ref = done[-1], done[-1]["tools"]["node2vec"]
    lines = []
    for row in rows:
        cdp = row["tools"].get("cdp", {})
        if "auc" in row["tools"].get("node2vec", {}) or "embed_s" not in cdp:
            continue
        scale = row["nodes"] / base["nodes"]
        seconds = ref["precompute_s"] * row["table_mb"] / base["table_mb"] + (ref["walks_s"] + ref["train_s"]) * scale
        lines.append(
            f"- {row['nodes']:,} nodes: ~{seconds / 3600:,.1f} h (~{seconds / cdp['embed_s']:,.0f}x cdp's embed s), "
            f"with >= {_size(row['table_mb'])} of transition tables (copied to each joblib walk worker)"
        )
    head = (
        f"Estimate, not measured: the node2vec package where it did not run to the end, scaled from its run on "
        f"{base['nodes']:,} nodes (precompute by the sum of squared degrees, walks and training by the number "
        "of nodes):\n"
    )
    return [head, *lines, ""] if lines else []


def section(rows: list[dict[str, Any]], command: str, commit: str, load: float, memory_mb: float) -> str:
    """The BENCHMARKS.md section for one run; ``commit`` and ``load`` as they were when it started."""
    head = ("| target nodes | records | nodes | edges trained on | tool | seed | walks s | train s | embed s | "
            "process s | peak RSS MB | AUC in+out | AUC in | detail |")  # fmt: skip
    lines = [
        _row(row, r) for row in rows for tool in row["tools"] for r in row["seeds"].get(tool) or [row["tools"][tool]]
    ]
    return "\n".join([
        f"\n## node2vec embeddings beside the node2vec package ({datetime.now(UTC):%Y-%m-%d}, commit {commit})\n",
        f"Machine: {common.machine()}; 1-minute load average {load:.1f} before the run (a shared machine)\n",
        f"Command: `{command}`\n",
        "The customer graph of the demo data (`generate_dataset(..., n_records=N, seed=7)`) with the true "
        "persons as profiles (web and POS events under the `person_id` of their record), 10% of the "
        "customer-product links held out as `link_prediction_auc` holds them out. Both tools embed the same "
        "training graph with `EmbeddingSettings(seed=S)` (p 1, q 0.5, walks of 30, 10 per node, 64 dimensions, "
        "window 5, 5 negatives, sample 1e-3, 1 epoch, 2 workers), each in its own process, once per seed S "
        "(each seed draws its own holdout, the same for both tools; the ratios are the first seed's): cdp's "
        "`analytics.embeddings.embed`; `node2vec` 0.4.3 (`Node2Vec(...)`, then `.fit(...)`: gensim 4.4.0 "
        "Word2Vec, skip-gram). walks s is the walks (for node2vec with its transition-probability "
        "precompute), embed s walks + training; process s the whole process (imports, loading the graph, "
        "writing the vectors). Peak RSS: the process tree's, sampled every 0.2 s (node2vec walks in two "
        f"joblib worker processes). Stopped after {LIMIT_S['node2vec'] // 60} min (node2vec) or "
        f"{LIMIT_S['cdp'] // 60} min (cdp), or past {memory_mb / 1024:.0f} GiB. AUC: held-out links "
        "against as many random unlinked customer-product pairs, by the cosine of input + output vectors "
        "(gensim: `wv` + `syn1neg`), and of input vectors alone, scored the same way for both.\n",
        head,
        "|" + "---|" * 14,
        *lines,
        "",
        *_ratios(rows),
        "",
        *_over_seeds(rows),
        *_estimates(rows),
    ])  # fmt: skip


def _child_main(tool: str, graph_path: Path, out_path: Path, settings_json: str) -> None:
    settings = EmbeddingSettings.model_validate_json(settings_json)
    run = _child_cdp if tool == "cdp" else _child_node2vec
    print(json.dumps(run(graph_path, out_path, settings)), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description="node2vec embeddings: cdp beside the node2vec package.")
    parser.add_argument("--sizes", default=SIZES, help=f"comma-separated target node counts (default {SIZES})")
    parser.add_argument("--tools", default=",".join(TOOLS), help="comma-separated: cdp,node2vec")
    parser.add_argument("--seeds", default="0", help="comma-separated seeds: each tool runs once per seed (AUC spread)")
    parser.add_argument("--memory-mb", type=float, default=MEMORY_MB, help="stop a tool's process tree past this")
    parser.add_argument("--no-write", action="store_true", help="print the section; do not append it")
    parser.add_argument("--out", type=Path, default=ROOT / "BENCHMARKS.md")
    parser.add_argument("--child", nargs=3, metavar=("TOOL", "GRAPH", "OUT"), help=argparse.SUPPRESS)
    parser.add_argument("--settings", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child_main(args.child[0], Path(args.child[1]), Path(args.child[2]), args.settings)
        return
    tools = args.tools.split(",")
    if unknown := sorted(set(tools) - set(TOOLS)):
        parser.error(f"unknown tool: {', '.join(unknown)}")
    seeds = [int(s) for s in args.seeds.split(",")]
    commit, load = common.commit(), os.getloadavg()[0]
    rows, skip = [], dict[str, str]()
    for target in [int(s) for s in args.sizes.split(",")]:
        rows.append(measure(target, tools, skip, args.memory_mb, seeds))  # a tool that failed is skipped after
    command = f"python -m bench.embed --sizes {args.sizes} --tools {args.tools}" + (
        f" --seeds {args.seeds}" if args.seeds != "0" else ""
    )
    text = section(rows, command, commit, load, args.memory_mb)
    common.publish(text, args.out, args.no_write)


if __name__ == "__main__":
    main()
