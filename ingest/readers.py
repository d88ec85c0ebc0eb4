"""Read CSV, JSON Lines and Parquet extracts row by row, with line numbers, never crashing on a bad row.

A file is split into lines as text files are (``\\n``, ``\\r\\n`` or ``\\r``) from its bytes, and each line is
decoded on its own in the source's encoding, so bytes that do not decode cost only their line: it is rejected
as "not valid utf-8 at byte offset N" (N counted from the start of the file) and no character is ever replaced.
Encodings in which a line break is not the byte ``\\n`` (UTF-16, UTF-32) are decoded whole instead, and bytes
that do not decode there are a one-line error naming the line and byte offset.

A CSV row whose quoted field runs across lines and then has the wrong number of fields (a quote that never
closes) is read again line by line, so each line becomes a row or its own reject instead of swallowing the
rest of the file. Values holding a lone surrogate (from a ``\\ud800`` JSON escape) are dropped with a reason.
"""

from __future__ import annotations

import codecs
import csv
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from graph.errors import CdpError, ConfigError

MAX_FIELD = 10_000_000  # characters in one CSV field or one JSON line
MAX_DEPTH = 100  # nesting of JSON arrays and objects
csv.field_size_limit(MAX_FIELD)

_ASCII_PROBE = '\r\n,"{}[]:\\ aZ09'
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_TEXT_LINES = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")

#: a line of a file: (number from 1, its text with its line break, why it could not be decoded or "")
Line = tuple[int, str, str]
#: a value dropped while reading: (column, the value as text, reason)
DroppedValue = tuple[str, str, str]


@dataclass(frozen=True)
class RawRow:
    line: int  # 1-based first line in the file (CSV, JSON Lines) or row number (Parquet)
    values: dict[str, Any] | None  # None when the row could not be read
    error: str = ""
    raw: str = ""
    last_line: int = 0  # last line of a row that spans several (a quoted line break); 0: the same as ``line``
    dropped: tuple[DroppedValue, ...] = ()  # values removed from ``values`` while reading

    def __post_init__(self) -> None:
        if not self.last_line:
            object.__setattr__(self, "last_line", self.line)


def file_columns(path: Path, fmt: str, encoding: str = "utf-8") -> set[str] | None:
    """Columns of a file, read from its header (CSV), schema (Parquet) or first rows (JSON Lines);
    None when a JSON Lines file has no readable row to learn them from."""
    _check_readable(path)
    if fmt == "csv":
        return set(_csv_header(path, csv.reader(_Lines(read_lines(path, encoding)))))
    if fmt == "parquet":
        import pyarrow.parquet as pq

        try:
            return set(pq.read_schema(path).names)
        except Exception as exc:
            raise ConfigError(f"{path}: not a readable Parquet file: {_first_line(exc)}") from None
    columns: set[str] = set()
    readable = False
    for row in _head(read_rows(path, fmt, encoding), 1000):
        if row.values is not None:
            readable = True
            columns.update(row.values)
    return columns if readable else None


def count_rows(path: Path, fmt: str) -> int:
    """Number of data rows, for progress bars (cheap: counts newlines or reads Parquet metadata)."""
    if fmt == "parquet":
        import pyarrow.parquet as pq

        return int(pq.ParquetFile(path).metadata.num_rows)
    with path.open("rb") as handle:
        lines = sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))
    return max(lines - (1 if fmt == "csv" else 0), 0)


def read_rows(path: Path, fmt: str, encoding: str = "utf-8") -> Iterator[RawRow]:
    _check_readable(path)
    if fmt == "csv":
        return _read_csv(path, encoding)
    if fmt == "jsonl":
        return _read_jsonl(path, encoding)
    return _read_parquet(path)


def read_lines(path: Path, encoding: str = "utf-8") -> Iterator[Line]:
    """Every line of a file, decoded; a line that does not decode carries the reason and its text with
    the undecodable bytes shown as ``\\xNN``. O(size of the file); one line in memory at a time."""
    codec = _codec(encoding)
    if not _ascii_compatible(codec):
        yield from _decoded_whole(path, codec)
        return
    offset = 0
    with path.open("rb") as handle:
        for number, data in enumerate(_byte_lines(handle), start=1):
            skip = 3 if number == 1 and codec == "utf-8" and data.startswith(codecs.BOM_UTF8) else 0
            try:
                yield number, data[skip:].decode(codec), ""
            except UnicodeDecodeError as exc:
                shown = data[skip:].decode(codec, "backslashreplace")
                yield number, shown, f"not valid {codec} at byte offset {offset + skip + exc.start}"
            offset += len(data)


def _codec(encoding: str) -> str:
    name = codecs.lookup(encoding).name
    return "utf-8" if name == "utf-8-sig" else name  # a byte order mark is skipped on the first line anyway


def _ascii_compatible(codec: str) -> bool:
    """Whether line breaks, quotes and delimiters are single ASCII bytes, so lines can be split as bytes."""
    try:
        return _ASCII_PROBE.encode(codec) == _ASCII_PROBE.encode("ascii")
    except (UnicodeError, LookupError):
        return False


def _byte_lines(handle: BinaryIO) -> Iterator[bytes]:
    """Lines split on ``\\n``, ``\\r\\n`` or ``\\r``, each with its line break, read a block at a time."""
    tail: list[bytes] = []  # the start of a line that the next block continues (or a "\r" it may end with "\n")
    for block in iter(lambda: handle.read(1 << 20), b""):
        for piece in block.splitlines(keepends=True):
            if tail and tail[-1].endswith(b"\r"):
                if piece == b"\n":
                    tail.append(piece)
                    piece = b""
                yield b"".join(tail)
                tail = []
            if piece:
                tail.append(piece)
                if piece.endswith(b"\n"):
                    yield b"".join(tail)
                    tail = []
    if tail:
        yield b"".join(tail)


def _decoded_whole(path: Path, codec: str) -> Iterator[Line]:
    data = path.read_bytes()
    try:
        text = data.decode(codec)
    except UnicodeDecodeError as exc:
        line = len(_LINE_BREAK.findall(data[: exc.start].decode(codec, "replace"))) + 1
        raise ConfigError(f"{path}: line {line} is not valid {codec} at byte offset {exc.start}") from None
    for number, match in enumerate(_TEXT_LINES.finditer(text.removeprefix("\ufeff")), start=1):
        yield number, match.group(), ""


def _check_readable(path: Path) -> None:
    if not path.exists():
        raise ConfigError(f"{path}: file not found")
    if not path.is_file():
        raise ConfigError(f"{path}: not a file")


class _Undecodable(Exception):
    """Raised through the CSV reader when the next line does not decode."""


class _Lines:
    """The lines fed to ``csv.reader``, remembering which ones the current record took."""

    def __init__(self, source: Iterable[Line]) -> None:
        self._source = iter(source)
        self.taken: list[Line] = []

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        line = next(self._source)
        self.taken.append(line)
        if line[2]:
            raise _Undecodable(line[2])
        return line[1]


def _csv_header(path: Path, reader: Any) -> list[str]:
    try:
        header: list[str] = next(reader)
    except StopIteration:
        raise ConfigError(f"{path}: the file is empty (no header)") from None
    except _Undecodable as exc:
        hint = "set `encoding:` for this source in sources.yaml"
        raise ConfigError(f"{path}: line 1 (the header) is {exc}; {hint}") from None
    except csv.Error as exc:
        raise ConfigError(f"{path}: line 1 (the header) is not readable CSV: {exc}") from None
    if not header:
        raise ConfigError(f"{path}: line 1 (the header) is blank")
    return header


def _read_csv(path: Path, encoding: str) -> Iterator[RawRow]:
    feed = _Lines(read_lines(path, encoding))
    reader = csv.reader(feed)
    header = _csv_header(path, reader)
    check = _codec(encoding) != "utf-8"  # strict UTF-8 never decodes to a lone surrogate
    while True:
        feed.taken = []
        try:
            fields = next(reader)
        except StopIteration:
            return
        except (_Undecodable, csv.Error):
            yield from _line_by_line(header, feed.taken, check)
            continue
        if len(fields) == len(header):
            yield _csv_row(header, fields, feed.taken[0][0], feed.taken[-1][0], check)
        elif len(feed.taken) > 1:  # a quote that never closed took the following lines
            yield from _line_by_line(header, feed.taken, check)
        elif fields:
            reason = f"expected {len(header)} fields, found {len(fields)}"
            yield RawRow(feed.taken[0][0], None, reason, feed.taken[0][1].rstrip("\r\n"))


def _line_by_line(header: list[str], taken: list[Line], check: bool) -> Iterator[RawRow]:
    """Each line of a span read on its own: a row when it has the header's field count, else a reject."""
    for number, text, problem in taken:
        raw = text.rstrip("\r\n")
        if problem:
            yield RawRow(number, None, problem, raw)
            continue
        if not raw:
            continue
        try:
            fields = next(csv.reader([raw]))
        except csv.Error as exc:
            yield RawRow(number, None, f"unreadable CSV: {exc}", raw)
            continue
        if len(fields) == len(header):
            yield _csv_row(header, fields, number, number, check)
        else:
            yield RawRow(number, None, f"expected {len(header)} fields, found {len(fields)}", raw)


def _csv_row(header: list[str], fields: list[str], first: int, last: int, check: bool) -> RawRow:
    values = dict(zip(header, fields, strict=True))
    dropped = _drop_lone_surrogates(values) if check and any(map(_LONE_SURROGATE.search, fields)) else ()
    return RawRow(first, values, last_line=last, dropped=dropped)


def _read_jsonl(path: Path, encoding: str) -> Iterator[RawRow]:
    check = _codec(encoding) != "utf-8"
    for number, text, problem in read_lines(path, encoding):
        if problem:
            yield RawRow(number, None, problem, text.rstrip("\r\n"))
        elif text.strip():
            yield _json_row(number, text, check)


def _json_row(number: int, text: str, check: bool) -> RawRow:
    raw = text.rstrip("\r\n")
    if len(raw) > MAX_FIELD:
        return RawRow(number, None, f"the line is longer than {MAX_FIELD:,} characters", raw)
    try:
        value = json.loads(raw)
    except RecursionError:
        return RawRow(number, None, f"JSON nested deeper than {MAX_DEPTH} levels", raw)
    except ValueError as exc:
        return RawRow(number, None, f"invalid JSON: {getattr(exc, 'msg', None) or exc}", raw)
    if not isinstance(value, dict):
        return RawRow(number, None, "expected a JSON object", raw)
    if raw.count("[") + raw.count("{") > MAX_DEPTH and _depth(value) > MAX_DEPTH:
        return RawRow(number, None, f"JSON nested deeper than {MAX_DEPTH} levels", raw)
    if _SURROGATE_ESCAPE.search(raw) or (check and _LONE_SURROGATE.search(raw)):
        return RawRow(number, value, dropped=_drop_lone_surrogates(value))
    return RawRow(number, value)


def _depth(value: Any) -> int:
    """How deeply arrays and objects nest, without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, (list, dict)):
            deepest = max(deepest, level)
            stack.extend((child, level + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


def _drop_lone_surrogates(values: dict[str, Any]) -> tuple[DroppedValue, ...]:
    """Set to None every text value holding a lone surrogate (it cannot be written as UTF-8), with why."""
    dropped = []
    for column, value in values.items():
        if isinstance(value, str) and (found := _LONE_SURROGATE.search(value)):
            code = f"\\u{ord(found.group()):04x}"
            shown = value.encode("utf-8", "backslashreplace").decode("utf-8")
            dropped.append((column, shown, f"not valid Unicode: a lone surrogate {code}"))
            values[column] = None
    return tuple(dropped)


def _read_parquet(path: Path) -> Iterator[RawRow]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    number = 0
    try:
        for batch in pq.ParquetFile(path).iter_batches(batch_size=10_000):
            for values in batch.to_pylist():
                number += 1
                yield RawRow(number, values)
    except (pa.ArrowException, OSError) as exc:
        raise CdpError(f"{path}: not a readable Parquet file after row {number}: {_first_line(exc)}") from None


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def _head(rows: Iterator[RawRow], n: int) -> Iterator[RawRow]:
    for i, row in enumerate(rows):
        if i >= n:
            return
        yield row
