"""Read CSV, JSON Lines and Parquet extracts row by row, with line numbers, never crashing on a bad row."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from graph.errors import ConfigError

csv.field_size_limit(10_000_000)


@dataclass(frozen=True)
class RawRow:
    line: int  # 1-based line in the file (CSV, JSON Lines) or row number (Parquet)
    values: dict[str, Any] | None  # None when the row could not be read
    error: str = ""
    raw: str = ""


def file_columns(path: Path, fmt: str) -> set[str]:
    """Columns of a file, read from its header (CSV), schema (Parquet) or first rows (JSON Lines)."""
    _check_readable(path)
    if fmt == "csv":
        with path.open(newline="", encoding="utf-8-sig") as handle:
            return set(next(csv.reader(handle), []))
    if fmt == "parquet":
        import pyarrow.parquet as pq

        try:
            return set(pq.read_schema(path).names)
        except Exception as exc:
            raise ConfigError(f"{path}: not a readable Parquet file: {exc}") from None
    columns: set[str] = set()
    for row in _head(read_rows(path, fmt), 1000):
        if row.values:
            columns.update(row.values)
    return columns


def count_rows(path: Path, fmt: str) -> int:
    """Number of data rows, for progress bars (cheap: counts newlines or reads Parquet metadata)."""
    if fmt == "parquet":
        import pyarrow.parquet as pq

        return int(pq.ParquetFile(path).metadata.num_rows)
    with path.open("rb") as handle:
        lines = sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))
    return max(lines - (1 if fmt == "csv" else 0), 0)


def read_rows(path: Path, fmt: str) -> Iterator[RawRow]:
    _check_readable(path)
    if fmt == "csv":
        return _read_csv(path)
    if fmt == "jsonl":
        return _read_jsonl(path)
    return _read_parquet(path)


def _check_readable(path: Path) -> None:
    if not path.exists():
        raise ConfigError(f"{path}: file not found")
    if not path.is_file():
        raise ConfigError(f"{path}: not a file")


def _read_csv(path: Path) -> Iterator[RawRow]:
    with path.open(newline="", encoding="utf-8-sig", errors="replace") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None:
            return
        width = len(header)
        line = reader.line_num
        for fields in reader:
            start, line = line + 1, reader.line_num
            if not fields:
                continue
            if len(fields) != width:
                reason = f"expected {width} fields, found {len(fields)}"
                yield RawRow(start, None, reason, ",".join(fields))
                continue
            yield RawRow(start, dict(zip(header, fields, strict=True)))


def _read_jsonl(path: Path) -> Iterator[RawRow]:
    with path.open(encoding="utf-8", errors="replace") as handle:
        for number, text in enumerate(handle, start=1):
            if not text.strip():
                continue
            try:
                value = json.loads(text)
            except json.JSONDecodeError as exc:
                yield RawRow(number, None, f"invalid JSON: {exc.msg}", text.rstrip("\n"))
                continue
            if not isinstance(value, dict):
                yield RawRow(number, None, "expected a JSON object", text.rstrip("\n"))
                continue
            yield RawRow(number, value)


def _read_parquet(path: Path) -> Iterator[RawRow]:
    import pyarrow.parquet as pq

    number = 0
    for batch in pq.ParquetFile(path).iter_batches(batch_size=10_000):
        for values in batch.to_pylist():
            number += 1
            yield RawRow(number, values)


def _head(rows: Iterator[RawRow], n: int) -> Iterator[RawRow]:
    for i, row in enumerate(rows):
        if i >= n:
            return
        yield row
