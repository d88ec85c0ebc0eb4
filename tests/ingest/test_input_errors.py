"""Whatever a file holds, ingest ends in a summary or a one-line error: broken quotes cost their own lines,
bytes that do not decode are rejects naming the byte offset, empty files say so, deep JSON is a reject."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from graph.errors import CdpError, ConfigError
from graph.store import GraphStore
from ingest.config import load_config
from ingest.pipeline import IngestSummary, SourceSummary, ingest
from ingest.readers import read_rows

HEADER = "id,email,name,city\n"


def _rows(n: int, start: int = 1) -> str:
    return "".join(f"N{i:03},user{i}@example.com,Person {i},Leeds\n" for i in range(start, start + n))


def _write_source(tmp_path: Path, name: str, content: bytes, options: str = "") -> Path:
    """``<name>`` (a .csv or .jsonl) and a sources.yaml reading it; returns the config path."""
    (tmp_path / name).write_bytes(content)
    config = tmp_path / "sources.yaml"
    config.write_text(
        f"sources:\n  src:\n    path: {name}\n    record_id: id\n    identifiers: {{email: email}}\n"
        f"    attributes: {{name: full_name}}\n{options}"
    )
    return config


def _ingest(config: Path, store: GraphStore) -> SourceSummary:
    summary: IngestSummary = ingest(load_config(config), store, config.parent / "rejects")
    return summary.sources[0]


def _rejects(tmp_path: Path, kind: str = "row") -> list[dict[str, str]]:
    path = tmp_path / "rejects" / "src.csv"
    if not path.exists():
        return []
    with path.open(newline="", encoding="utf-8") as handle:
        return [r for r in csv.DictReader(handle) if r["kind"] == kind]


def _attributes(store: GraphStore) -> dict[str, dict[str, str]]:
    frame = store.record_attributes()
    return {key: json.loads(value) for key, value in zip(frame["record"], frame["attributes"], strict=True)}


def test_a_broken_quote_costs_only_its_own_line(tmp_path: Path, store: GraphStore) -> None:
    unclosed = 'N013,mo.ali@gmail.com,"Mohammed ""Mo"" Ali,Leeds\n'  # the quote never closes
    text = HEADER + _rows(12) + unclosed + _rows(27, start=14)
    summary = _ingest(_write_source(tmp_path, "crm.csv", text.encode()), store)
    assert (summary.rows_read, summary.rejects, summary.writes.created) == (40, 1, 39)
    (reject,) = _rejects(tmp_path)
    assert reject["line"] == "14" and reject["reason"] == "expected 4 fields, found 3"
    assert reject["raw"] == unclosed.rstrip("\n")
    assert {f"src:N{i:03}" for i in range(1, 41)} - set(_attributes(store)) == {"src:N013"}


def test_a_stray_quote_inside_a_quoted_field_keeps_the_following_rows(tmp_path: Path, store: GraphStore) -> None:
    text = HEADER + _rows(12) + 'N013,mo.ali@gmail.com,"Mohammed "Mo" Ali",Leeds\n' + _rows(27, start=14)
    summary = _ingest(_write_source(tmp_path, "crm.csv", text.encode()), store)
    assert summary.rows_read == 40 and summary.writes.created + summary.rejects == 40
    assert len(_attributes(store)) == summary.writes.created >= 39


def test_an_unclosed_quote_on_the_last_line_is_its_own_reject(tmp_path: Path, store: GraphStore) -> None:
    text = HEADER + _rows(3) + 'N004,x@example.com,"Unfinished\n'
    summary = _ingest(_write_source(tmp_path, "crm.csv", text.encode()), store)
    assert (summary.rows_read, summary.rejects, summary.writes.created) == (4, 1, 3)
    assert _rejects(tmp_path)[0]["line"] == "5"


def test_a_multi_line_quoted_field_with_the_right_field_count_is_one_row(tmp_path: Path, store: GraphStore) -> None:
    text = HEADER + _rows(1) + 'N002,ann@example.com,"Ann\nSmith",London\n' + _rows(2, start=3)
    summary = _ingest(_write_source(tmp_path, "crm.csv", text.encode()), store)
    assert (summary.rows_read, summary.rejects, summary.writes.created) == (4, 0, 4)
    spans = [(row.line, row.last_line) for row in read_rows(tmp_path / "crm.csv", "csv")]
    assert spans == [(2, 2), (3, 4), (5, 5), (6, 6)]


def test_bytes_that_do_not_decode_are_a_reject_naming_the_byte_offset(tmp_path: Path, store: GraphStore) -> None:
    content = (HEADER + _rows(2)).encode() + b"N003,jose@example.com,Jos\xe9 Garc\xeda,Madrid\n" + _rows(3, 4).encode()
    summary = _ingest(_write_source(tmp_path, "crm.csv", content), store)
    assert (summary.rows_read, summary.rejects, summary.writes.created) == (6, 1, 5)
    (reject,) = _rejects(tmp_path)
    assert reject["line"] == "4"
    offset = content.index(b"\xe9")
    assert reject["reason"] == f"not valid utf-8 at byte offset {offset}"
    assert reject["raw"] == "N003,jose@example.com,Jos\\xe9 Garc\\xeda,Madrid"
    assert not any("\ufffd" in value for attrs in _attributes(store).values() for value in attrs.values())


def test_bytes_that_do_not_decode_far_into_the_file_are_not_replaced(tmp_path: Path, store: GraphStore) -> None:
    content = (HEADER + _rows(3000)).encode() + b"N999,x@example.com,Bad \xff,Leeds\n"
    summary = _ingest(_write_source(tmp_path, "crm.csv", content), store)
    assert (summary.rejects, summary.writes.created) == (1, 3000)
    offset = content.index(b"\xff")
    assert _rejects(tmp_path)[0]["reason"] == f"not valid utf-8 at byte offset {offset}"


def test_encoding_reads_a_cp1252_file(tmp_path: Path, store: GraphStore) -> None:
    content = (HEADER + "N001,jose@example.com,José García,Málaga\n").encode("cp1252")
    summary = _ingest(_write_source(tmp_path, "crm.csv", content, "    encoding: cp1252\n"), store)
    assert (summary.rejects, summary.writes.created) == (0, 1)
    assert _attributes(store)["src:N001"]["full_name"] == "José García"


def test_encoding_reads_a_utf16_file_and_a_bad_one_is_one_line(tmp_path: Path, store: GraphStore) -> None:
    good = (HEADER + _rows(2)).encode("utf-16")
    summary = _ingest(_write_source(tmp_path, "crm.csv", good, "    encoding: utf-16\n"), store)
    assert (summary.rejects, summary.writes.created) == (0, 2)
    config = _write_source(tmp_path, "crm.csv", good + b"\x00\xd8", "    encoding: utf-16\n")  # a lone surrogate
    with pytest.raises(CdpError, match=r"crm\.csv: line 4 is not valid utf-16 at byte offset \d+$"):
        _ingest(config, store)


@pytest.mark.parametrize("encoding", ["utf-9", "base64"])
def test_an_unknown_encoding_is_a_one_line_config_error(tmp_path: Path, encoding: str) -> None:
    config = _write_source(tmp_path, "crm.csv", HEADER.encode(), f"    encoding: {encoding}\n")
    with pytest.raises(ConfigError, match=f"source 'src': encoding: .*'{encoding}'") as error:
        load_config(config)
    assert "\n" not in str(error.value)


def test_a_header_that_does_not_decode_is_a_one_line_error(tmp_path: Path, store: GraphStore) -> None:
    config = _write_source(tmp_path, "crm.csv", b"id,email,na\xefme,city\n" + _rows(1).encode())
    with pytest.raises(ConfigError, match=r"crm\.csv: line 1 \(the header\) is not valid utf-8 at byte offset 11"):
        _ingest(config, store)


def test_a_binary_file_is_a_one_line_error(tmp_path: Path, store: GraphStore) -> None:
    config = _write_source(tmp_path, "crm.csv", bytes(range(256)) * 40)
    with pytest.raises(CdpError) as error:
        _ingest(config, store)
    assert "crm.csv" in str(error.value) and "\n" not in str(error.value)


def test_lone_surrogates_are_dropped_with_a_reason(tmp_path: Path, store: GraphStore) -> None:
    lines = [
        r'{"id": "J1", "email": "ann\ud800@example.com", "name": "Ann"}',
        r'{"id": "J2\udc00", "email": "bob@example.com", "name": "Bob"}',
        r'{"id": "J3", "email": "cy@example.com", "name": "Cy", "note": "\ud83d\ude00"}',  # a valid pair stays
        r'{"id": "J4", "email": "dee@example.com", "name": "Dee", "nest": {"\ud800": "\udfff"}}',
    ]
    summary = _ingest(_write_source(tmp_path, "web.jsonl", "\n".join(lines).encode()), store)
    assert (summary.rows_read, summary.rejects, summary.writes.created) == (4, 1, 3)
    assert summary.invalid_values == {"email": 1}
    (value,) = _rejects(tmp_path, "value")
    assert (value["line"], value["column"]) == ("1", "email")
    assert value["value"] == "ann\\ud800@example.com" and "lone surrogate" in value["reason"]
    assert _rejects(tmp_path)[0]["line"] == "2" and "lone surrogate" in _rejects(tmp_path)[0]["reason"]
    rows = list(read_rows(tmp_path / "web.jsonl", "jsonl"))
    assert rows[2].values is not None and rows[2].values["note"] == "\U0001f600" and not rows[2].dropped


def test_lone_surrogates_from_a_csv_codec_are_dropped(tmp_path: Path, store: GraphStore) -> None:
    content = HEADER.encode() + b"N001,a@example.com,Ann \\ud800,Leeds\nN002,b@example.com,Bob,York\n"
    summary = _ingest(_write_source(tmp_path, "crm.csv", content, "    encoding: raw_unicode_escape\n"), store)
    assert (summary.rejects, summary.writes.created, summary.invalid_values) == (0, 2, {"name": 1})


@pytest.mark.parametrize("depth", [100_000, 500])
def test_deeply_nested_json_is_a_reject(tmp_path: Path, store: GraphStore, depth: int) -> None:
    nested = "[" * depth + "]" * depth
    lines = ['{"id": "J1", "email": "a@example.com", "name": "Ann"}', f'{{"id": "J2", "email": {nested}}}']
    summary = _ingest(_write_source(tmp_path, "web.jsonl", "\n".join(lines).encode()), store)
    assert (summary.rows_read, summary.rejects, summary.writes.created) == (2, 1, 1)
    assert "nested" in _rejects(tmp_path)[0]["reason"]


def test_a_field_over_the_csv_limit_is_a_reject(tmp_path: Path, store: GraphStore) -> None:
    text = HEADER + _rows(1) + f"N002,b@example.com,{'x' * 10_000_001},Leeds\n" + _rows(1, start=3)
    summary = _ingest(_write_source(tmp_path, "crm.csv", text.encode()), store)
    assert (summary.rows_read, summary.rejects, summary.writes.created) == (3, 1, 2)
    (reject,) = _rejects(tmp_path)
    assert reject["line"] == "3" and "field larger than" in reject["reason"] and len(reject["raw"]) <= 2000


def test_a_json_line_over_the_limit_is_a_reject(tmp_path: Path, store: GraphStore) -> None:
    lines = [json.dumps({"id": "J2", "email": "", "name": "x" * 10_000_001}), '{"id": "J1", "email": "", "name": ""}']
    summary = _ingest(_write_source(tmp_path, "web.jsonl", "\n".join(lines).encode()), store)
    assert (summary.rows_read, summary.rejects, summary.writes.created) == (2, 1, 1)
    assert "longer than" in _rejects(tmp_path)[0]["reason"]


def test_nul_characters_do_not_crash(tmp_path: Path, store: GraphStore) -> None:
    text = HEADER + "N001,a@exam\x00ple.com,An\x00n,Leeds\n" + _rows(1, start=2)
    summary = _ingest(_write_source(tmp_path, "crm.csv", text.encode()), store)
    assert summary.rows_read == 2 and summary.writes.created + summary.rejects == 2


def test_a_header_only_csv_says_no_data_rows(tmp_path: Path, store: GraphStore) -> None:
    summary = _ingest(_write_source(tmp_path, "crm.csv", HEADER.encode()), store)
    assert (summary.rows_read, summary.writes.created) == (0, 0)
    assert summary.warnings == [f"{tmp_path / 'crm.csv'}: no data rows"]


@pytest.mark.parametrize("content", [b"", b"\n\n"])
def test_an_empty_json_lines_file_says_no_data_rows(tmp_path: Path, store: GraphStore, content: bytes) -> None:
    summary = _ingest(_write_source(tmp_path, "web.jsonl", content), store)
    assert summary.rows_read == 0 and summary.warnings == [f"{tmp_path / 'web.jsonl'}: no data rows"]


def test_an_empty_parquet_file_says_no_data_rows(tmp_path: Path, store: GraphStore) -> None:
    import pandas as pd

    config = _write_source(tmp_path, "pos.parquet", b"")
    pd.DataFrame({"id": [], "email": [], "name": []}, dtype=str).to_parquet(tmp_path / "pos.parquet")
    summary = _ingest(config, store)
    assert summary.rows_read == 0 and summary.warnings == [f"{tmp_path / 'pos.parquet'}: no data rows"]


def test_an_empty_csv_says_the_file_is_empty(tmp_path: Path, store: GraphStore) -> None:
    config = _write_source(tmp_path, "crm.csv", b"")
    with pytest.raises(ConfigError, match=f"^{tmp_path / 'crm.csv'}: the file is empty \\(no header\\)$"):
        _ingest(config, store)


def test_old_mac_line_endings_still_read(tmp_path: Path, store: GraphStore) -> None:
    summary = _ingest(_write_source(tmp_path, "crm.csv", (HEADER + _rows(3)).replace("\n", "\r").encode()), store)
    assert (summary.rows_read, summary.rejects, summary.writes.created) == (3, 0, 3)
