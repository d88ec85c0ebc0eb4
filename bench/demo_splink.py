"""Splink 5 (DuckDB) on the synthetic demo data, set up the way a new user following Splink's docs would.

The four sources are flattened into one table per source with the same columns (``flatten``): names,
ISO birth date, postcode, city, email, phone and the exact ids (crm_id, loyalty_id, cookie_id,
device_id). Values are cleaned with the project's own rules (``ingest/normalise.py``) so both tools
read the same values; placeholders such as ``test@test.com`` are valid emails and stay as they are.
The CRM's ``work_email`` is left out (the table has one email column); cdp reads both.

The model follows Splink's ``deduplicate_50k_synthetic`` example: names, date of birth and postcode
from the comparison library, exact matches for email, phone and the ids (term frequencies on email,
phone and city, where a common value is weaker evidence); blocking on each exact id and on a name with
date of birth or postcode; the prior from deterministic rules, u by random sampling, m by EM blocked on
phone, (last name, postcode), cookie and device; predictions at 0.9 clustered at 0.9.

Splink 5.0.0 raises ``ValueError`` when EM drives an m probability below 1e-300 instead of flooring it
(here: EM blocked on (first name, last name) or on email, the docs' usual first choices, at 10k
records; on phone at 100k). Such a session is skipped and named in the result, and the model is put
back as it was before it: the failed session leaves the linker's live settings mutated.

``crm_id`` is the CRM's record id: every CRM record has its own, so it never agrees between two records.
It is in the table and in the blocking rules (where it finds no pair) but not compared: a comparison
that never agrees has no m to estimate.

Runs as its own process (``python -m bench.demo_splink RECORDS CLUSTERS``) so its peak RSS is its own.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import pandas as pd

from ingest.normalise import InvalidValue, normalise_attribute, normalise_identifier

THRESHOLD = 0.9  # predictions kept, and clustered, at this match probability
COLUMNS = (
    "unique_id", "source_dataset", "first_name", "last_name", "birth_date", "postcode", "city", "email",
    "phone", "crm_id", "loyalty_id", "cookie_id", "device_id",
)  # fmt: skip
#: source -> (file, record id column, {file column: table column}), as bench/out/data-N/sources.yaml maps them
SOURCES: dict[str, tuple[str, str, dict[str, str]]] = {
    "crm": (
        "crm.csv",
        "crm_id",
        {
            "crm_id": "crm_id",
            "first_name": "first_name",
            "surname": "last_name",
            "dob": "birth_date",
            "postcode": "postcode",
            "city": "city",
            "email": "email",
            "phone": "phone",
        },
    ),  # fmt: skip
    "web": ("web.jsonl", "session_id", {"cookie": "cookie_id", "device": "device_id", "login_email": "email"}),
    "pos": ("pos.parquet", "txn_id", {"loyalty_card": "loyalty_id", "phone": "phone", "card_name": "full_name"}),
    "marketing": (
        "marketing.csv",
        "contact_id",
        {"fname": "first_name", "lname": "last_name", "zip": "postcode", "email": "email", "mobile": "phone"},
    ),
}
_IDENTIFIERS = ("email", "phone", "crm_id", "loyalty_id", "cookie_id", "device_id")
#: EM sessions: each trains the m of every comparison its blocking columns leave free. Web sessions carry
#: no name, so cookie and device are trained only in sessions blocked on each other.
EM_BLOCKING = (("phone",), ("last_name", "postcode"), ("cookie_id",), ("device_id",))
#: the deterministic rules the prior (the probability that two random records match) is estimated from
PRIOR_RULES = (("email",), ("phone",), ("first_name", "last_name", "birth_date"))


def _read(path: Path) -> pd.DataFrame:
    if path.suffix == ".parquet":
        frame = pd.read_parquet(path)
    elif path.suffix == ".jsonl":
        frame = pd.read_json(path, lines=True, dtype=False)
    else:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    return frame.astype(object).where(frame.notna(), None)


def _clean(values: pd.Series, rule: Callable[[object], str | None]) -> pd.Series:
    """``rule`` over each distinct value once; a value it rejects (``-``, ``n/a``, ``07``) is missing."""

    def safe(raw: object) -> str | None:
        try:
            return rule(raw)
        except InvalidValue:
            return None

    distinct = values.dropna().unique()
    return values.map(dict(zip(distinct, map(safe, distinct), strict=True))).astype(object)


def _source_table(directory: Path, source: str) -> pd.DataFrame:
    file, record_id, columns = SOURCES[source]
    raw = _read(directory / file)
    table = pd.DataFrame({"unique_id": source + ":" + raw[record_id].astype(str), "source_dataset": source})
    for column, name in columns.items():
        rule = normalise_identifier if name in _IDENTIFIERS else normalise_attribute
        table[name] = _clean(raw[column], partial(rule, name))
    if "full_name" in table:  # card names ("SMITH/ANN" -> "Ann Smith"): first word and last word
        words = table.pop("full_name").str.split()
        table["first_name"] = words.str[0]
        table["last_name"] = words.str[-1].where(words.str.len() > 1)
    return table.reindex(columns=list(COLUMNS)).astype(object)


def flatten(directory: Path) -> pd.DataFrame:
    """The four demo sources in ``directory`` as one table with ``COLUMNS``; missing values are None."""
    return pd.concat([_source_table(directory, s) for s in SOURCES], ignore_index=True)


def settings() -> Any:
    import splink.comparison_library as cl
    from splink import SettingsCreator, block_on

    return SettingsCreator(
        link_type="link_and_dedupe",
        unique_id_column_name="unique_id",
        blocking_rules_to_generate_predictions=[
            *(block_on(column) for column in _IDENTIFIERS),
            block_on("first_name", "birth_date"),
            block_on("last_name", "birth_date"),
            block_on("first_name", "postcode"),
            block_on("last_name", "postcode"),
        ],
        comparisons=[
            cl.NameComparison("first_name").configure(term_frequency_adjustments=True),
            cl.NameComparison("last_name").configure(term_frequency_adjustments=True),
            cl.DateOfBirthComparison("birth_date", input_is_string=True),
            cl.PostcodeComparison("postcode"),
            cl.ExactMatch("city").configure(term_frequency_adjustments=True),
            cl.ExactMatch("email").configure(term_frequency_adjustments=True),
            cl.ExactMatch("phone").configure(term_frequency_adjustments=True),
            cl.ExactMatch("loyalty_id"),
            cl.ExactMatch("cookie_id"),
            cl.ExactMatch("device_id"),
        ],
        retain_intermediate_calculation_columns=False,
    )


def train(
    linker: Any,
    em_blocking: Sequence[tuple[str, ...]] = EM_BLOCKING,
    prior_rules: Sequence[tuple[str, ...]] = PRIOR_RULES,
) -> list[str]:
    """Prior, u and m as the docs do; return the EM blocking rules Splink failed on (skipped)."""
    from splink import block_on

    training = linker.training
    training.estimate_probability_two_random_records_match([block_on(*rule) for rule in prior_rules], recall=0.8)
    training.estimate_u_using_random_sampling(max_pairs=1e7, seed=7)
    failed = []
    for columns in em_blocking:
        # a session that raises leaves the linker's live model mutated (its blocked comparisons dropped,
        # the prior replaced by the session's): put the model back as it was before the session
        saved = linker._settings_obj.core_model_settings.copy()
        try:
            training.estimate_parameters_using_expectation_maximisation(
                block_on(*columns), estimate_without_term_frequencies=True
            )
        except ValueError as exc:  # Splink 5 refuses an m that EM drives below 1e-300 instead of flooring it
            linker._settings_obj.core_model_settings = saved
            failed.append(f"{'+'.join(columns)}: {str(exc).split('.')[0]}")
    return failed


def link(records_path: Path, clusters_path: Path) -> dict[str, Any]:
    """Train, predict and cluster; write ``unique_id,cluster_id``; return the seconds of each step."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq
    from splink import DuckDBAPI

    table = pq.read_table(records_path)
    db_api = DuckDBAPI()
    inputs = [
        db_api.register(
            table.filter(pc.equal(table["source_dataset"], source)).drop_columns(["source_dataset"]),
            dataset_display_name=source,
        )
        for source in SOURCES
    ]
    del table
    return train_predict_cluster(inputs, settings(), clusters_path)


def train_predict_cluster(
    inputs: list[Any],
    model: Any,
    clusters_path: Path,
    em_blocking: Sequence[tuple[str, ...]] = EM_BLOCKING,
    prior_rules: Sequence[tuple[str, ...]] = PRIOR_RULES,
) -> dict[str, Any]:
    """Train ``model`` (a ``SettingsCreator``) on the registered ``inputs``, predict and cluster at
    ``THRESHOLD``; write ``unique_id,cluster_id`` to ``clusters_path``; the seconds of each step."""
    import logging

    from splink import Linker

    started = time.perf_counter()
    linker = Linker(inputs if len(inputs) > 1 else inputs[0], model, log_level=logging.WARNING)
    em_failed = train(linker, em_blocking, prior_rules)
    trained = time.perf_counter()
    predictions = linker.inference.predict(threshold_match_probability=THRESHOLD)
    predicted = time.perf_counter()
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
        predictions, threshold_match_probability=THRESHOLD
    )
    clusters.as_duckdbpyrelation().select("unique_id, cast(cluster_id as varchar) as cluster_id").write_parquet(
        str(clusters_path)
    )
    clustered = time.perf_counter()
    return {
        "train_s": trained - started,
        "predict_s": predicted - trained,
        "cluster_s": clustered - predicted,
        "em_failed": em_failed,
        "pairs_predicted": int(predictions.as_duckdbpyrelation().aggregate("count(*)").fetchall()[0][0]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description="Splink 5 on flattened demo records (a child of bench.demo_peer).")
    parser.add_argument("records", type=Path, help="Parquet written from flatten()")
    parser.add_argument("clusters", type=Path, help="where to write unique_id,cluster_id (Parquet)")
    args = parser.parse_args()
    print(json.dumps(link(args.records, args.clusters)))


if __name__ == "__main__":
    main()
