"""Property-based tests (hypothesis) of the ``sources.yaml`` loader, :func:`ingest.config.load_config`.

A config file is written by hand, copied from a wiki, saved in the wrong encoding or truncated by an editor;
whatever it holds, the loader must either return a config that ingest can use or raise one
:class:`graph.errors.ConfigError` whose message is a single line naming the file (the CLI prints it as it is,
with no traceback). Never another exception. Tried here with random YAML documents (random nesting of mappings,
lists and scalars under the config's own keys and random ones), mutations of valid configs (structural: keys
dropped, renamed, retyped; textual: slices cut, characters and lines inserted), random bytes (invalid UTF-8,
UTF-16, control characters), and a few hand-made hostile documents (deep nesting, alias bombs, recursion).
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from graph.errors import CdpError, ConfigError
from ingest.config import IDENTIFIER_TYPES, STANDARD_ATTRIBUTES, SourcesConfig, load_config
from ingest.normalise import NormaliseOptions
from tests.ingest.conftest import SOURCES_YAML

SETTINGS = settings(
    max_examples=200, deadline=None, database=None, print_blob=True, suppress_health_check=[HealthCheck.too_slow]
)
#: for the tests whose examples are big documents (generating them is most of the time)
FEWER = settings(SETTINGS, max_examples=100)
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_\-]*")

#: every key the loader knows, at every level, with the file's own spelling
FULL_YAML = """
sources:
  crm:
    path: crm.csv
    format: csv
    encoding: cp1252
    record_id: crm_id
    identifiers: {crm_id: crm_id, email: email, phone: phone, nino: national_id}
    attributes: {first_name: first_name, surname: last_name, dob: birth_date, town: city}
  till:
    path: till.data
    format: jsonl
    record_id: txn_id
    identifiers: {loyalty_card: loyalty_id}
    event: {type: purchase, timestamp: ts, properties: [sku, amount]}
options: {default_region: US, date_order: MDY}
"""
VALID_DOCUMENTS = [yaml.safe_load(FULL_YAML), yaml.safe_load(SOURCES_YAML)]
KEYS = [
    "sources", "options", "path", "format", "encoding", "record_id", "identifiers", "attributes", "event", "type",
    "timestamp", "properties", "default_region", "date_order", "base_dir", "crm", "<<",
]  # fmt: skip
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.dates()
    | st.text(max_size=12)
    | st.sampled_from(["csv", "jsonl", "parquet", "utf-8", "latin-1", "base64", "GB", "XX", "DMY", "a.csv", *KEYS])
)
MAP_KEYS = st.sampled_from(KEYS) | st.text(max_size=8) | st.integers() | st.none() | st.booleans()


def _trees(leaves: st.SearchStrategy[Any] = SCALARS) -> st.SearchStrategy[Any]:
    return st.recursive(
        leaves, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(MAP_KEYS, inner, max_size=5), max_leaves=30
    )


@pytest.fixture(scope="module")
def config_path(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One file rewritten by every example (hypothesis runs a test's examples in turn, one fixture for all)."""
    yield tmp_path_factory.mktemp("config") / "sources.yaml"


def _load(path: Path) -> SourcesConfig | ConfigError:
    """The config, or the ConfigError it raised after checking its message; any other exception fails the test."""
    try:
        config = load_config(path)
    except ConfigError as error:
        message = str(error)
        assert isinstance(error, CdpError)
        assert len(message.splitlines()) == 1, f"message spans lines: {message!r}"
        assert message.startswith(f"{path}: "), f"message does not name the file: {message!r}"
        assert len(message) > len(f"{path}: "), "a message says what is wrong"
        return error
    _check_usable(config, path)
    return config


def _check_usable(config: SourcesConfig, path: Path) -> None:
    """A config that loads is one ingest can start from: what it reads next raises nothing but ConfigError."""
    assert isinstance(config, SourcesConfig)
    assert config.sources and all(_NAME.fullmatch(name) for name in config.sources)
    assert config.base_dir == path.parent  # relative data paths are read next to the config, whatever it says
    NormaliseOptions(config.options.default_region, config.options.date_order)  # ValueError if it cannot
    for spec in config.sources.values():
        assert spec.record_id in spec.columns()
        "a".encode(spec.encoding)  # a text codec Python knows
        try:
            assert spec.file_format() in ("csv", "jsonl", "parquet")
        except ConfigError as error:
            assert len(str(error).splitlines()) == 1


def _write(path: Path, document: Any, flow: bool | None = None, unicode: bool = True) -> None:
    text = yaml.safe_dump(
        document, default_flow_style=flow, allow_unicode=unicode, sort_keys=False
    )  # keys of mixed types
    path.write_text(text, encoding="utf-8")


# ---------------------------------------------------------------- valid configs


@pytest.mark.parametrize("text", [FULL_YAML, SOURCES_YAML], ids=["every-key", "ingest-tests"])
def test_the_valid_configs_mutated_below_load(config_path: Path, text: str) -> None:
    config_path.write_text(text, encoding="utf-8")
    config = _load(config_path)
    assert isinstance(config, SourcesConfig)
    assert list(config.sources) == list(yaml.safe_load(text)["sources"])


_SOURCE_NAMES = st.builds(
    str.__add__,
    st.sampled_from(string.ascii_letters),
    st.text(string.ascii_letters + string.digits + "_-", max_size=12),
)
#: column names, any text but the line breaks PyYAML writes raw under allow_unicode and reads back as a space
_COLUMNS = st.text(st.characters(codec="utf-8", exclude_characters="\x85\u2028\u2029"), min_size=1, max_size=15)


@st.composite
def _valid_configs(draw: st.DrawFn) -> dict[str, Any]:
    sources = {}
    for name in draw(st.lists(_SOURCE_NAMES, min_size=1, max_size=4, unique=True)):
        spec: dict[str, Any] = {
            "path": draw(st.sampled_from(["a.csv", "dir/b.JSONL", "/abs/c.parquet", "d.ndjson", "Málaga.csv"])),
            "record_id": draw(_COLUMNS),
            "identifiers": draw(
                st.dictionaries(_COLUMNS, st.sampled_from([*IDENTIFIER_TYPES, "member_no"]), max_size=4)
            ),
            "attributes": draw(st.dictionaries(_COLUMNS, st.sampled_from([*STANDARD_ATTRIBUTES, "tier"]), max_size=4)),
        }
        if draw(st.booleans()):
            properties = draw(st.lists(_COLUMNS, max_size=3))
            spec["event"] = {"type": draw(_COLUMNS), "timestamp": draw(_COLUMNS), "properties": properties}
        if draw(st.booleans()):
            spec["encoding"] = draw(st.sampled_from(["utf-8", "UTF-16", "cp1252", "latin-1", "utf-8-sig"]))
        sources[name] = spec
    document: dict[str, Any] = {"sources": sources}
    if draw(st.booleans()):
        document["options"] = {
            "default_region": draw(st.sampled_from(["GB", "US", "DE", "IN", "BR"])),
            "date_order": draw(st.sampled_from(["DMY", "MDY"])),
        }
    return document


@FEWER
@given(document=_valid_configs(), flow=st.sampled_from([None, True, False]), unicode=st.booleans())
def test_a_valid_config_loads_as_written(
    config_path: Path, document: dict[str, Any], flow: bool, unicode: bool
) -> None:
    _write(config_path, document, flow, unicode)
    config = _load(config_path)
    assert isinstance(config, SourcesConfig), config
    assert list(config.sources) == list(document["sources"])
    for name, written in document["sources"].items():
        spec = config.sources[name]
        assert (str(spec.path), spec.record_id) == (written["path"], written["record_id"])
        assert (spec.identifiers, spec.attributes) == (written["identifiers"], written["attributes"])
        assert spec.file_format() == {".csv": "csv", ".parquet": "parquet"}.get(spec.path.suffix, "jsonl")
    options = document.get("options", {"default_region": "GB", "date_order": "DMY"})
    assert (config.options.default_region, config.options.date_order) == tuple(options.values())


# ---------------------------------------------------------------- random documents


@SETTINGS
@given(document=_trees(), flow=st.sampled_from([None, True, False]))
def test_any_yaml_document_loads_or_is_one_config_error(config_path: Path, document: Any, flow: bool) -> None:
    _write(config_path, document, flow)
    _load(config_path)


@FEWER
@given(sources=st.dictionaries(MAP_KEYS, _trees(), max_size=4), options=_trees())
@example(sources={"crm\nweb": {"path": "a.csv", "record_id": "id"}}, options={})  # a name with a line break
@example(sources={"crm": {"path": "a.csv", "record_id": "id", "identifiers": {"e": "bad\u2028type"}}}, options={})
@example(sources={"crm": {"path": "a.csv", "record_id": "id"}}, options={"default_region": "XX"})
def test_any_sources_mapping_loads_or_is_one_config_error(config_path: Path, sources: Any, options: Any) -> None:
    """Random documents rarely reach past the top-level check: these have ``sources:`` and ``options:``."""
    _write(config_path, {"sources": sources, "options": options})
    _load(config_path)


@st.composite
def _structural_mutation(draw: st.DrawFn) -> Any:
    """A valid config with one to three nodes of its tree dropped, replaced, renamed, added to or wrapped."""
    document = yaml.safe_load(yaml.safe_dump(draw(st.sampled_from(VALID_DOCUMENTS))))  # a deep copy
    for _ in range(draw(st.integers(1, 3))):
        parent: Any = document
        while True:  # walk down to a random mapping or list
            children = list(parent.items()) if isinstance(parent, dict) else list(enumerate(parent))
            inner = [(k, v) for k, v in children if isinstance(v, dict | list) and v]
            if not inner or draw(st.integers(0, 3)) == 0:
                break
            parent = draw(st.sampled_from(inner))[1]
        keys = list(parent) if isinstance(parent, dict) else list(range(len(parent)))
        op = draw(st.sampled_from(["drop", "replace", "rename", "add", "wrap", "null"]))
        if not keys or op == "add":
            if isinstance(parent, dict):
                parent[draw(MAP_KEYS)] = draw(_trees())
            else:
                parent.append(draw(_trees()))
            continue
        key = draw(st.sampled_from(keys))
        if op == "drop":
            del parent[key]
        elif op == "replace":
            parent[key] = draw(_trees())
        elif op == "rename" and isinstance(parent, dict):
            parent[draw(MAP_KEYS)] = parent.pop(key)
        elif op == "wrap":
            parent[key] = draw(st.sampled_from([[parent[key]], {"value": parent[key]}]))
        else:
            parent[key] = None
    return document


@FEWER
@given(document=_structural_mutation(), flow=st.sampled_from([None, True, False]))
def test_a_mutated_config_loads_or_is_one_config_error(config_path: Path, document: Any, flow: bool) -> None:
    _write(config_path, document, flow)
    _load(config_path)


YAML_SYNTAX = ":-?[]{},&*!|>'\"%@`#\t\n\r \\\x00\x85\u2028\ufeff"


@st.composite
def _textual_mutation(draw: st.DrawFn) -> str:
    """A valid config's text with slices cut, YAML syntax or any text inserted, lines repeated or re-indented."""
    text = draw(st.sampled_from([FULL_YAML, SOURCES_YAML]))
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(text)))
        op = draw(st.sampled_from(["cut", "syntax", "text", "line", "indent"]))
        if op == "cut":
            text = text[:at] + text[at + draw(st.integers(1, 40)) :]
        elif op == "syntax":
            text = text[:at] + draw(st.text(st.sampled_from(YAML_SYNTAX), min_size=1, max_size=4)) + text[at:]
        elif op == "text":
            text = text[:at] + draw(st.text(st.characters(codec="utf-8"), min_size=1, max_size=10)) + text[at:]
        else:
            lines = text.splitlines(keepends=True)
            n = draw(st.integers(0, len(lines) - 1))
            lines[n] = (
                lines[n] * 2 if op == "line" else draw(st.sampled_from(["", " ", "\t", "      "])) + lines[n].lstrip()
            )
            text = "".join(lines)
    return text


@SETTINGS
@given(text=_textual_mutation())
def test_a_corrupted_config_file_loads_or_is_one_config_error(config_path: Path, text: str) -> None:
    config_path.write_text(text, encoding="utf-8")
    _load(config_path)


# ---------------------------------------------------------------- bytes


@SETTINGS
@given(
    data=st.binary(max_size=300)
    | st.text(max_size=100).map(lambda t: t.encode("utf-16"))
    | st.sampled_from([FULL_YAML, SOURCES_YAML]).map(lambda t: t.encode("utf-16-le"))
    | st.sampled_from([FULL_YAML, SOURCES_YAML]).map(lambda t: t.replace("crm", "Crème").encode("latin-1"))
    | st.text(st.characters(codec=None), max_size=50).map(lambda t: t.encode("utf-8", "surrogatepass"))
)
@example(data=b"\xff\xfe\x00\x00")
@example(data=b"sources:\n  crm: {path: a.csv, record_id: \xc3(}\n")  # invalid UTF-8 in a valid-looking config
def test_any_bytes_load_or_are_one_config_error(config_path: Path, data: bytes) -> None:
    config_path.write_bytes(data)
    _load(config_path)


@SETTINGS
@given(
    at=st.integers(0, len(FULL_YAML.encode())),
    junk=st.binary(min_size=1, max_size=8) | st.sampled_from([b"\x00", b"\xef\xbb\xbf", b"\xc0\x80", b"\xed\xa0\x80"]),
)
def test_a_valid_config_with_bytes_spliced_in_loads_or_is_one_config_error(
    config_path: Path, at: int, junk: bytes
) -> None:
    data = FULL_YAML.encode()
    config_path.write_bytes(data[:at] + junk + data[at:])
    _load(config_path)


# ---------------------------------------------------------------- hostile documents


def _nested(depth: int, style: str) -> str:
    if style == "list":
        return "sources: " + "[" * depth + "]" * depth + "\n"
    if style == "map":
        return "sources: " + "{a: " * depth + "1" + "}" * depth + "\n"
    return "".join("  " * level + "a:\n" for level in range(depth))


@pytest.mark.parametrize("style", ["list", "map", "block"])
@pytest.mark.parametrize("depth", [10, 200, 5000])
def test_deep_nesting_is_one_config_error(config_path: Path, depth: int, style: str) -> None:
    config_path.write_text(_nested(depth, style), encoding="utf-8")
    error = _load(config_path)
    assert isinstance(error, ConfigError)
    if depth == 5000:
        assert "nested too deeply" in str(error)


LAUGHS = "".join(f"l{n}: &l{n} [{', '.join([f'*l{n - 1}' if n else 'lol'] * 9)}]\n" for n in range(9))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("sources: &s {crm: *s}\n", "source 'crm': missing key 'path'"),  # a mapping that holds itself
        ("sources: {crm: {path: a.csv, record_id: id, event: {type: t, timestamp: ts, properties: &p [*p]}}}\n",
         "event.properties.0: Input should be a valid string"),
        (LAUGHS + "sources: {crm: {path: a.csv, record_id: id, identifiers: *l8}}\n",
         "source 'crm': identifiers: Input should be a valid dictionary"),  # 9^9 lols, never expanded
        ("sources: !!python/object/apply:os.system ['echo pwned']\n", "not valid YAML: could not determine a constructor"),
        ("? [a, b]\n: c\n", "not valid YAML"),
        ("sources: {crm: {path: a.csv, record_id: id}}\n---\nsources: {}\n", "expected a single document"),
        ("sources:\n  \"crm\\nweb\": {path: a.csv, record_id: id}\n", "source name 'crm\\nweb' must start"),
        ("sources: {crm: {path: a.csv, record_id: id}}\noptions: {default_region: XX}\n",
         "options.default_region: Value error, 'XX' is not a region"),
        ("sources: {crm: {path: a.csv, record_id: id}}\noptions: {default_region: gb}\n", "'gb' is not a region"),
        ("sources: {crm: {path: a.csv, record_id: id, encoding: \"utf\\0-8\"}}\n", "encoding: Value error"),
        ("", "expected a mapping with a `sources:` key"),
    ],
    ids=["recursive-map", "recursive-list", "alias-bomb", "python-tag", "unhashable-key", "two-documents",
         "line-break-in-name", "unknown-region", "lower-case-region", "nul-in-encoding", "empty"],
)  # fmt: skip
def test_hostile_documents_are_one_config_error(config_path: Path, text: str, message: str) -> None:
    config_path.write_text(text, encoding="utf-8")
    error = _load(config_path)
    assert isinstance(error, ConfigError)
    assert message in str(error)


def test_a_directory_or_missing_file_is_one_config_error(tmp_path: Path) -> None:
    assert "cannot read" in str(_load(tmp_path))
    assert "file not found" in str(_load(tmp_path / "nope.yaml"))
