"""Splink 5 (DuckDB) on any data set described by a cdp ``sources.yaml``, set up as ``bench/demo_splink.py``
sets it up for the demo data.

``flatten`` reads each source's rows as ``cdp ingest`` reads them (``ingest.readers``; a record id given
twice keeps its last row) and maps its columns to standard names through the source's ``attributes:`` and
``identifiers:``; values are normalised by the project's rules with the file's ``options:`` (phone
region, date order), so both tools read the same values. Two columns mapped to one name (a CRM's email
and work email) become one column: the first non-empty value, in mapping order. A card's ``full_name``
stands in for a missing first name (its first word) and last name (its last word).

The model is demo_splink's, over the columns the data has: name, date of birth and postcode comparisons,
exact city, an exact match per identifier type (term frequencies on email, phone and city); an identifier
whose values never repeat (each record's own CRM id) is neither compared nor blocked on. Blocking on each
identifier and on a name with date of birth or postcode; the prior from the deterministic rules among
email, phone and (first name, last name, birth date); u by random sampling; m by EM blocked on phone,
(last name, postcode), cookie and device, where the data has them (else on (last name, birth date)).

Runs as its own process (``python -m bench.splink_sources RECORDS CLUSTERS``) so its peak RSS is its own;
:func:`run_splink` is the parent's side.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import Any

import pandas as pd

from analytics.quality import evaluate, load_truth
from bench.demo_splink import EM_BLOCKING, PRIOR_RULES, _clean, train_predict_cluster
from bench.splink_peer import run_measured
from ingest.config import SourcesConfig, SourceSpec, load_config
from ingest.normalise import NormaliseOptions, normalise_attribute, normalise_identifier
from ingest.readers import read_rows

#: the attributes Splink compares (demo_splink's), in table order
ATTRIBUTES = ("first_name", "last_name", "birth_date", "postcode", "city")
_TERM_FREQUENCY = ("email", "phone")
LIMIT_S = 900  # a Splink run still going after 15 minutes is recorded as not finished


def _rows(config: SourcesConfig, name: str) -> pd.DataFrame:
    spec = config.sources[name]
    rows = [row.values for row in read_rows(config.path_of(name), spec.file_format(), spec.encoding) if row.values]
    frame = pd.DataFrame(rows, dtype=object)
    frame = frame.dropna(subset=[spec.record_id])
    frame[spec.record_id] = frame[spec.record_id].astype(str).str.strip()
    return frame.drop_duplicates(spec.record_id, keep="last").reset_index(drop=True)


def _mapped(spec: SourceSpec) -> list[tuple[str, str, bool]]:
    """(column, standard name, is identifier), attributes first, in the order the config lists them."""
    wanted = {*ATTRIBUTES, "full_name"}
    columns = [(c, n, False) for c, n in spec.attributes.items() if n in wanted]
    return columns + [(c, n, True) for c, n in spec.identifiers.items()]


def _source_table(config: SourcesConfig, name: str, opts: NormaliseOptions) -> pd.DataFrame:
    spec, raw = config.sources[name], _rows(config, name)
    table = pd.DataFrame({"unique_id": name + ":" + raw[spec.record_id], "source_dataset": name})
    for column, standard, is_identifier in _mapped(spec):
        if column not in raw:
            continue
        rule = normalise_identifier if is_identifier else normalise_attribute
        values = _clean(raw[column], partial(rule, standard, opts=opts))
        table[standard] = table[standard].combine_first(values) if standard in table else values
    if "full_name" in table:  # card names ("SMITH/ANN" -> "Ann Smith"): first word and last word
        words = table.pop("full_name").str.split()
        for standard, word in (("first_name", words.str[0]), ("last_name", words.str[-1].where(words.str.len() > 1))):
            table[standard] = table[standard].combine_first(word) if standard in table else word
    return table.astype(object)


def flatten(config_path: Path) -> pd.DataFrame:
    """Every source of ``config_path`` as one table: ``unique_id`` (``source:record_id``, the key cdp and
    the truth use), ``source_dataset``, the ``ATTRIBUTES`` some source has, then each identifier type."""
    config = load_config(config_path)
    opts = NormaliseOptions(config.options.default_region, config.options.date_order)
    frame = pd.concat([_source_table(config, name, opts) for name in config.sources], ignore_index=True)
    frame = frame.dropna(axis=1, how="all")  # a mapped column without one valid value
    head = ["unique_id", "source_dataset", *(a for a in ATTRIBUTES if a in frame)]
    identifiers = sorted(c for c in frame if c not in head)
    return frame[head + identifiers].astype(object).where(frame[head + identifiers].notna(), None)


# ---- the child process: Splink ---------------------------------------------------------------------


def settings(columns: Sequence[str], identifiers: Sequence[str], sources: int) -> Any:
    """demo_splink's model over ``columns`` (the table's attributes) and the compared ``identifiers``."""
    import splink.comparison_library as cl
    from splink import SettingsCreator, block_on

    names = [c for c in ("first_name", "last_name") if c in columns]
    comparisons: list[Any] = [cl.NameComparison(c).configure(term_frequency_adjustments=True) for c in names]
    if "birth_date" in columns:
        comparisons.append(cl.DateOfBirthComparison("birth_date", input_is_string=True))
    if "postcode" in columns:
        comparisons.append(cl.PostcodeComparison("postcode"))
    if "city" in columns:
        comparisons.append(cl.ExactMatch("city").configure(term_frequency_adjustments=True))
    for identifier in identifiers:
        exact = cl.ExactMatch(identifier)
        comparisons.append(exact.configure(term_frequency_adjustments=True) if identifier in _TERM_FREQUENCY else exact)
    blocking: list[Any] = [block_on(i) for i in identifiers]
    blocking += [block_on(n, o) for n in names for o in ("birth_date", "postcode") if o in columns]
    return SettingsCreator(
        link_type="link_and_dedupe" if sources > 1 else "dedupe_only",
        unique_id_column_name="unique_id",
        blocking_rules_to_generate_predictions=blocking,
        comparisons=comparisons,
        retain_intermediate_calculation_columns=False,
    )


def _present(rules: Sequence[tuple[str, ...]], columns: Sequence[str]) -> list[tuple[str, ...]]:
    return [rule for rule in rules if all(c in columns for c in rule)]


def link(records_path: Path, clusters_path: Path) -> dict[str, Any]:
    """Train, predict and cluster the flattened records; write ``unique_id,cluster_id``; the seconds."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq
    from splink import DuckDBAPI

    table = pq.read_table(records_path)
    columns = [c for c in table.column_names if c in ATTRIBUTES]
    others = [c for c in table.column_names if c not in (*ATTRIBUTES, "unique_id", "source_dataset")]
    # an identifier whose values never repeat (a record's own id) never agrees: no m to estimate
    identifiers = [c for c in others if pc.count_distinct(table[c]).as_py() < pc.count(table[c]).as_py()]
    table = table.drop_columns([c for c in others if c not in identifiers])
    sources = list(dict.fromkeys(table["source_dataset"].to_pylist()))
    db_api = DuckDBAPI()
    inputs = [
        db_api.register(
            table.filter(pc.equal(table["source_dataset"], source)).drop_columns(["source_dataset"]),
            dataset_display_name=source,
        )
        for source in sources
    ]
    kept = [*columns, *identifiers]
    em_blocking = _present(EM_BLOCKING, kept) or _present([("last_name", "birth_date")], kept)
    prior = _present(PRIOR_RULES, kept) or _present([("first_name", "last_name")], kept)
    steps = train_predict_cluster(
        inputs, settings(columns, identifiers, len(sources)), clusters_path, em_blocking, prior
    )
    return {**steps, "identifiers": identifiers}


# ---- the parent's side ------------------------------------------------------------------------------


def run_splink(config_path: Path, truth_path: Path) -> dict[str, Any]:
    """Splink on the sources of ``config_path`` in its own process, stopped after ``LIMIT_S``: F1,
    precision, recall (pairwise, against ``truth_path``), seconds of train + predict + cluster."""
    with tempfile.TemporaryDirectory(prefix="splink-sources-") as tmp:
        records_path, clusters_path = Path(tmp) / "records.parquet", Path(tmp) / "clusters.parquet"
        flat = flatten(config_path)
        flat.to_parquet(records_path, index=False)
        child = [sys.executable, "-m", "bench.splink_sources", str(records_path), str(clusters_path)]
        started = time.perf_counter()
        try:  # wait4 on `timeout` reports the largest RSS of the process tree it reaped: Splink's own
            measured = run_measured(["timeout", "--kill-after=30", str(LIMIT_S), *child])
        except RuntimeError as exc:
            if time.perf_counter() - started >= LIMIT_S:
                raise RuntimeError(f"did not finish in {LIMIT_S // 60} min") from exc
            raise
        steps = json.loads(measured.stdout.strip().splitlines()[-1])
        clusters = pd.read_parquet(clusters_path)
    assigned = pd.Series(clusters["cluster_id"].to_numpy(), index=clusters["unique_id"].to_numpy())
    scores = evaluate(assigned, load_truth(str(truth_path)))
    return {
        "records": len(flat),
        "seconds": steps["train_s"] + steps["predict_s"] + steps["cluster_s"],
        "process_s": measured.seconds,
        "peak_rss_mb": measured.peak_rss_mb,
        "f1": scores.pairwise.f1,
        "precision": scores.pairwise.precision,
        "recall": scores.pairwise.recall,
        "largest_profile": scores.largest_profile[1],
        **steps,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description="Splink 5 on records flattened from a sources.yaml.")
    parser.add_argument("records", type=Path, help="Parquet written from flatten()")
    parser.add_argument("clusters", type=Path, help="where to write unique_id,cluster_id (Parquet)")
    args = parser.parse_args()
    print(json.dumps(link(args.records, args.clusters)))


if __name__ == "__main__":
    main()
