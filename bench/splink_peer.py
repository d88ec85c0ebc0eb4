"""Splink 5 (DuckDB) as the peer tool on FEBRL, run the way Splink's own FEBRL examples run it.

The model follows ``docs/demos/examples/duckdb/febrl3.ipynb`` and ``febrl4.ipynb`` of the Splink
repository: the same blocking rules, comparisons and training steps (probability two random records match
from deterministic rules, u by random sampling of 1e6 pairs, m by EM blocked on date of birth, then on
postcode), and predictions at match probability 0.2, the threshold both examples score their matches at.
Clusters are the connected components of those predictions (``cluster_pairwise_predictions_at_threshold``
at 0.2). The FEBRL4 example also clusters at 0.99 to show cluster sizes; that stricter clustering is
scored too, untimed, as ``f1_at_0.99``.

Splink runs in a fresh process (``python -m bench.splink_peer --child ...``) so its peak RSS is its own;
the clusters are scored in the parent against the truth, with analytics.quality's pairwise scores.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from analytics.quality import pairwise_scores
from bench.common import ROOT
from bench.febrl_data import FIELDS, FebrlData

PREDICT_THRESHOLD = 0.2  # both examples' linker.inference.predict(threshold_match_probability=0.2)
CLUSTER_THRESHOLD = 0.2  # every prediction the examples score as a match joins a cluster
STRICT_THRESHOLD = 0.99  # the FEBRL4 example's cluster-size view; scored for reference, not timed


@dataclass(frozen=True)
class Measured:
    """One finished subprocess: wall seconds, its peak resident memory, what it printed."""

    seconds: float
    peak_rss_mb: float
    stdout: str
    stderr: str


def run_measured(cmd: list[str], *, cwd: Path = ROOT, env: dict[str, str] | None = None) -> Measured:
    """Run ``cmd`` to completion; its peak RSS comes from ``wait4`` on that child alone (ru_maxrss, KiB).

    ``getrusage(RUSAGE_CHILDREN)`` would report the largest of every child waited for so far, so a
    later, smaller step would inherit an earlier step's peak.
    """
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out, stderr=err, text=True)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if proc.returncode != 0:
        tail = "\n".join((stderr or stdout).strip().splitlines()[-15:])
        raise RuntimeError(f"`{' '.join(cmd)}` exited {proc.returncode}:\n{tail}")
    return Measured(seconds, usage.ru_maxrss / 1024, stdout, stderr)


def _settings(dataset: str) -> Any:
    import splink.comparison_library as cl
    from splink import SettingsCreator, block_on

    # FEBRL dates are YYYYMMDD strings, some impossible (19551192): those compare as missing
    dob = cl.DateOfBirthComparison(
        "date_of_birth", input_is_string=True, datetime_format="%Y%m%d", invalid_dates_as_null=True
    )
    blocking: list[Any]
    comparisons: list[Any]
    if dataset == "febrl3":
        blocking = [block_on(c) for c in ("soc_sec_id", "given_name", "surname", "date_of_birth", "postcode")]
        comparisons = [
            cl.NameComparison("given_name"),
            cl.NameComparison("surname"),
            dob,
            cl.DamerauLevenshteinAtThresholds("soc_sec_id", [2]),
            cl.ExactMatch("street_number").configure(term_frequency_adjustments=True),
            cl.ExactMatch("postcode").configure(term_frequency_adjustments=True),
        ]
    else:
        blocking = [
            block_on("given_name", "surname"),
            "l.given_name = r.surname and l.surname = r.given_name",
            block_on("date_of_birth"),
            block_on("soc_sec_id"),
            block_on("state", "address_1"),
            block_on("street_number", "address_1"),
            block_on("postcode"),
        ]
        comparisons = [
            cl.NameComparison("given_name").configure(term_frequency_adjustments=True),
            cl.NameComparison("surname").configure(term_frequency_adjustments=True),
            dob,
            cl.DamerauLevenshteinAtThresholds("soc_sec_id", [1, 2]),
            cl.ExactMatch("street_number").configure(term_frequency_adjustments=True),
            cl.DamerauLevenshteinAtThresholds("postcode", [1, 2]).configure(term_frequency_adjustments=True),
        ]
    return SettingsCreator(
        unique_id_column_name="unique_id",
        link_type="dedupe_only" if dataset == "febrl3" else "link_only",
        blocking_rules_to_generate_predictions=blocking,
        comparisons=comparisons,
        retain_intermediate_calculation_columns=True,
    )


def _train(linker: Any, dataset: str) -> None:
    from splink import block_on

    deterministic: list[Any] = [block_on("soc_sec_id"), block_on("given_name", "surname", "date_of_birth")]
    if dataset == "febrl3":
        deterministic.append(
            "l.given_name = r.surname and l.surname = r.given_name and l.date_of_birth = r.date_of_birth"
        )
    training = linker.training
    training.estimate_probability_two_random_records_match(deterministic, recall=0.9 if dataset == "febrl3" else 0.8)
    training.estimate_u_using_random_sampling(max_pairs=1e6, seed=2)
    no_tf = dataset == "febrl4"  # the FEBRL4 example trains m without term frequencies, the FEBRL3 one with
    for column in ("date_of_birth", "postcode"):
        training.estimate_parameters_using_expectation_maximisation(
            block_on(column), estimate_without_term_frequencies=no_tf
        )


def _child(dataset: str, records_path: Path, clusters_path: Path) -> dict[str, float]:
    """Train, predict and cluster; write ``unique_id,cluster_id``; return the seconds of each step."""
    import logging

    import pyarrow.compute as pc
    import pyarrow.parquet as pq
    from splink import DuckDBAPI, Linker

    table = pq.read_table(records_path)
    db_api = DuckDBAPI()
    inputs = [
        db_api.register(
            table.filter(pc.equal(table["source"], source)).drop_columns(["source"]), dataset_display_name=source
        )
        for source in sorted(pc.unique(table["source"]).to_pylist())
    ]
    started = time.perf_counter()
    linker = Linker(inputs if len(inputs) > 1 else inputs[0], _settings(dataset), log_level=logging.WARNING)
    _train(linker, dataset)
    trained = time.perf_counter()
    predictions = linker.inference.predict(threshold_match_probability=PREDICT_THRESHOLD)
    predicted = time.perf_counter()
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
        predictions, threshold_match_probability=CLUSTER_THRESHOLD
    )
    frame = clusters.as_pandas_dataframe()[["unique_id", "cluster_id"]]
    clustered = time.perf_counter()
    strict = linker.clustering.cluster_pairwise_predictions_at_threshold(
        predictions, threshold_match_probability=STRICT_THRESHOLD
    ).as_pandas_dataframe()
    frame = frame.merge(strict[["unique_id", "cluster_id"]], on="unique_id", suffixes=("", "_strict"))
    frame.astype(str).to_parquet(clusters_path, index=False)
    return {
        "train_s": trained - started,
        "predict_s": predicted - trained,
        "cluster_s": clustered - predicted,
        "pairs_predicted": float(predictions.as_duckdbpyrelation().aggregate("count(*)").fetchall()[0][0]),
    }


def run_splink(data: FebrlData) -> dict[str, Any]:
    """Splink on ``data`` in a fresh process: seconds (train + predict + cluster, and each), records/s,
    peak RSS of that process, and the pairwise precision/recall/F1 of its clusters against the truth."""
    with tempfile.TemporaryDirectory(prefix="splink-febrl-") as tmp:
        records_path, clusters_path = Path(tmp) / "records.parquet", Path(tmp) / "clusters.parquet"
        records = data.records[["source", *FIELDS]].assign(unique_id=data.keys())
        records.to_parquet(records_path, index=False)
        cmd = [sys.executable, "-m", "bench.splink_peer", "--child", data.name, str(records_path), str(clusters_path)]
        measured = run_measured(cmd)
        steps = json.loads(measured.stdout.strip().splitlines()[-1])
        clusters = pd.read_parquet(clusters_path)
    scores = pairwise_scores(pd.Series(clusters["cluster_id"].to_numpy(), index=clusters["unique_id"]), data.truth)
    strict = pairwise_scores(
        pd.Series(clusters["cluster_id_strict"].to_numpy(), index=clusters["unique_id"]), data.truth
    )
    seconds = steps["train_s"] + steps["predict_s"] + steps["cluster_s"]
    return {
        "tool": "splink",
        "records": len(data.records),
        "seconds": seconds,
        "train_s": steps["train_s"],
        "predict_s": steps["predict_s"],
        "cluster_s": steps["cluster_s"],
        "process_s": measured.seconds,
        "records_per_s": len(data.records) / seconds,
        "peak_rss_mb": measured.peak_rss_mb,
        "precision": scores.precision,
        "recall": scores.recall,
        "f1": scores.f1,
        "scored": scores.records,
        "pairs_predicted": int(steps["pairs_predicted"]),
        "clusters": int(clusters["cluster_id"].nunique()),
        "f1_at_0.99": strict.f1,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description="Run Splink on a FEBRL data set (the --child step).")
    parser.add_argument("--child", nargs=3, metavar=("DATASET", "RECORDS", "CLUSTERS"), required=True)
    args = parser.parse_args()
    dataset, records_path, clusters_path = args.child
    print(json.dumps(_child(dataset, Path(records_path), Path(clusters_path))))


if __name__ == "__main__":
    main()
