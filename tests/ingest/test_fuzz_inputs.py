"""Hundreds of mangled CSV and JSON Lines files, made by seeded random mutations, each through the real ingest.

The only acceptable outcomes are a summary or a :class:`graph.errors.CdpError` with a one-line message, and
nothing may be lost: every non-empty line is part of exactly one row read, and every row read is a record
written, a repeated record id or a line of the rejects file. Embedded store only, small files (two huge ones).
"""

from __future__ import annotations

import csv
import json
import random
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from graph.errors import CdpError
from graph.settings import StoreSettings, open_store
from graph.store import GraphStore
from ingest.config import load_config
from ingest.pipeline import IngestSummary, ingest
from ingest.readers import read_rows

SEED = 20_250_611
FILES_PER_FORMAT = 130
HUGE = 10_000_001  # characters: one over the CSV module's field limit
COLUMNS = ["id", "email", "phone", "name", "city", "ts", "amount"]
SOURCES_YAML = """sources:
  {name}:
    path: {path}
    record_id: id
    identifiers: {{email: email, phone: phone}}
    attributes: {{name: full_name, city: city}}
    event: {{type: purchase, timestamp: ts, properties: [amount]}}
"""
Mutation = Callable[[random.Random, bytes, str], bytes]


def _people(rng: random.Random, n: int) -> Iterator[list[str]]:
    names = ["Ann Smith", "José García", 'Mo "the Pro" Ali', "O'Neil, Pat", "Zoë\nMultiline", "李 小龙", ""]
    for i in range(n):
        phone = rng.choice(["07911 123456", "+44 20 7946 0958", "12", ""])
        ts = rng.choice(["2025-03-01T09:00:00Z", "2025-03-01 10:00", "yesterday", ""])
        email = rng.choice([f"user{i}@example.com", "not-an-email", ""])
        yield [f"N{i:03}", email, phone, rng.choice(names), rng.choice(["Leeds", "Málaga"]), ts, str(i * 1.5)]


def _base(rng: random.Random, fmt: str) -> bytes:
    rows = list(_people(rng, rng.randint(5, 30)))
    if fmt == "jsonl":
        ascii_only = rng.random() < 0.5
        return "".join(
            json.dumps(dict(zip(COLUMNS, row, strict=True)), ensure_ascii=ascii_only) + "\n" for row in rows
        ).encode()
    lines = [",".join(COLUMNS)] + [_csv_line(row) for row in rows]
    return ("\n".join(lines) + "\n").encode()


def _csv_line(row: list[str]) -> str:
    return ",".join(f'"{v.replace(chr(34), chr(34) * 2)}"' if any(c in v for c in ',"\n') else v for v in row)


def _insert(rng: random.Random, data: bytes, piece: bytes) -> bytes:
    at = rng.randint(0, len(data))
    return data[:at] + piece + data[at:]


def _flip(rng: random.Random, data: bytes, fmt: str) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 20)):
        if out:
            out[rng.randrange(len(out))] = rng.randrange(256)
    return bytes(out)


def _truncate(rng: random.Random, data: bytes, fmt: str) -> bytes:
    return data[: rng.randint(0, len(data))]


def _quotes(rng: random.Random, data: bytes, fmt: str) -> bytes:
    for _ in range(rng.randint(1, 5)):
        data = _insert(rng, data, rng.choice([b'"', b'""', b'"\n', b',"']))
    return data


def _nul(rng: random.Random, data: bytes, fmt: str) -> bytes:
    return _insert(rng, data, b"\x00" * rng.randint(1, 3))


def _invalid_utf8(rng: random.Random, data: bytes, fmt: str) -> bytes:
    return _insert(rng, data, rng.choice([b"\xff", b"\xc3(", b"\xe9", b"\xed\xa0\x80", b"\x80", b"\xf0\x28\x8c"]))


def _surrogate(rng: random.Random, data: bytes, fmt: str) -> bytes:
    escape = rng.choice([b"\\ud800", b"\\udfff", b"\\ud83d"])
    if fmt == "jsonl" and b'": "' in data:
        parts = data.split(b'": "')
        at = rng.randrange(1, len(parts))
        parts[at] = escape + parts[at]  # inside a string value
        return b'": "'.join(parts)
    return _insert(rng, data, escape)


def _line_breaks(rng: random.Random, data: bytes, fmt: str) -> bytes:
    for _ in range(rng.randint(1, 4)):
        data = _insert(rng, data, rng.choice([b"\n", b"\r", b"\r\n", b"\n\n"]))
    return data


def _shuffle_lines(rng: random.Random, data: bytes, fmt: str) -> bytes:
    head, *lines = data.split(b"\n")
    lines += rng.sample(lines, min(len(lines), 3))  # repeated rows (and record ids)
    rng.shuffle(lines)
    return b"\n".join([head, *lines])


def _deep(rng: random.Random, data: bytes, fmt: str) -> bytes:
    depth = rng.choice([200, 2_000, 100_000])
    nested = b"[" * depth + b"]" * depth
    line = b'{"id": "DEEP", "email": ' + nested + b"}" if fmt == "jsonl" else b"DEEP," + nested
    return _insert_line(rng, data, line)


def _garbage(rng: random.Random, data: bytes, fmt: str) -> bytes:
    return _insert(rng, data, rng.randbytes(rng.randint(1, 200)))


def _crlf_bom(rng: random.Random, data: bytes, fmt: str) -> bytes:
    return b"\xef\xbb\xbf" + data.replace(b"\n", b"\r\n")


def _insert_line(rng: random.Random, data: bytes, line: bytes) -> bytes:
    lines = data.split(b"\n")
    lines.insert(rng.randint(1, len(lines)), line)
    return b"\n".join(lines)


MUTATIONS: dict[str, Mutation] = {
    "flip": _flip, "truncate": _truncate, "quotes": _quotes, "nul": _nul, "invalid_utf8": _invalid_utf8,
    "surrogate": _surrogate, "line_breaks": _line_breaks, "shuffle": _shuffle_lines, "deep": _deep,
    "garbage": _garbage, "crlf_bom": _crlf_bom,
}  # fmt: skip
WHOLE_FILE = ["binary", "empty", "header_only"]


def _plan() -> list[tuple[str, int, tuple[str, ...]]]:
    """(format, case number, mutations) for every case, decided by the seed alone."""
    rng = random.Random(SEED)
    cases = []
    for fmt in ("csv", "jsonl"):
        for n in range(FILES_PER_FORMAT):
            if n == 0:
                names: tuple[str, ...] = ("huge",)
            elif rng.random() < 0.08:
                names = (rng.choice(WHOLE_FILE),)
            else:
                names = tuple(rng.sample(sorted(MUTATIONS), rng.randint(1, 3)))
            cases.append((fmt, n, names))
    return cases


def _content(fmt: str, n: int, names: tuple[str, ...]) -> bytes:
    rng = random.Random(f"{SEED}-{fmt}-{n}")
    data = _base(rng, fmt)
    for name in names:
        if name == "binary":
            data = rng.randbytes(rng.randint(1, 4000))
        elif name == "empty":
            data = b""
        elif name == "header_only":
            data = data.split(b"\n")[0] + b"\n" if fmt == "csv" else b"\n \n"
        elif name == "huge":
            field = b"x" * HUGE
            huge = b'{"id": "HUGE", "name": "' + field + b'"}' if fmt == "jsonl" else b"HUGE,a@b.co,," + field
            data = _insert_line(rng, data, huge)
        else:
            data = MUTATIONS[name](rng, data, fmt)
    return data


@pytest.fixture(scope="module")
def fuzz_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GraphStore]:
    store = open_store(StoreSettings(store="embedded", data_dir=tmp_path_factory.mktemp("fuzz") / "cdp"))
    try:
        yield store
    finally:
        store.close()


@pytest.mark.parametrize(("fmt", "n", "names"), _plan(), ids=lambda v: "+".join(v) if isinstance(v, tuple) else str(v))
def test_a_mangled_file_ends_in_a_summary_or_a_one_line_error(
    tmp_path: Path, fuzz_store: GraphStore, fmt: str, n: int, names: tuple[str, ...]
) -> None:
    content = _content(fmt, n, names)
    path = tmp_path / f"{fmt}{n}.{fmt}"
    path.write_bytes(content)
    name = f"{fmt}{n}"
    (tmp_path / "sources.yaml").write_text(SOURCES_YAML.format(name=name, path=path.name))
    try:
        summary = ingest(load_config(tmp_path / "sources.yaml"), fuzz_store, tmp_path / "rejects")
    except CdpError as exc:
        assert str(exc) and "\n" not in str(exc)
        return
    _check_nothing_lost(path, content, fmt, summary, tmp_path / "rejects" / f"{name}.csv")


def _check_nothing_lost(path: Path, content: bytes, fmt: str, summary: IngestSummary, rejects: Path) -> None:
    (source,) = summary.sources
    spans = [(row.line, row.last_line) for row in read_rows(path, fmt)]
    covered = [line for first, last in spans for line in range(first, last + 1)]
    assert len(covered) == len(set(covered)), "a line was read twice"
    assert _non_empty_lines(content, fmt) <= set(covered), "a non-empty line was neither a row nor a reject"
    assert source.rows_read == len(spans)
    assert source.writes.created + source.duplicate_ids + source.rejects == source.rows_read
    listed = []
    if rejects.exists():
        with rejects.open(newline="", encoding="utf-8") as handle:
            listed = [int(r["line"]) for r in csv.DictReader(handle) if r["kind"] == "row"]
    assert len(listed) == source.rejects and set(listed) <= {first for first, _ in spans}
    assert bool(source.warnings) == (source.rows_read == 0)


def _non_empty_lines(content: bytes, fmt: str) -> set[int]:
    """1-based numbers of the lines that hold anything (the CSV header aside), split as text files are."""
    lines = content.removeprefix(b"\xef\xbb\xbf").splitlines()
    if fmt == "csv":
        return {n for n, line in enumerate(lines, start=1) if n > 1 and line}
    return {n for n, line in enumerate(lines, start=1) if line.decode("utf-8", "replace").strip()}
