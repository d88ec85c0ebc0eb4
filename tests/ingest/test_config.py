"""Bad configuration fails before anything is written, with one line naming what is wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from graph.errors import ConfigError
from ingest.config import load_config
from ingest.pipeline import check_sources


def test_a_valid_config_loads(sources_dir: Path) -> None:
    config = load_config(sources_dir / "sources.yaml")
    assert list(config.sources) == ["crm", "web", "pos"]
    assert config.sources["web"].file_format() == "jsonl"
    assert config.path_of("crm") == sources_dir / "crm.csv"
    assert check_sources(config) == ["crm", "web", "pos"]


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="nope.yaml: file not found"):
        load_config(tmp_path / "nope.yaml")


def test_yaml_error_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("sources:\n  crm: {path: a.csv\n")
    with pytest.raises(ConfigError, match=r"not valid YAML.*line"):
        load_config(path)


@pytest.mark.parametrize(
    ("yaml_text", "message"),
    [
        ("sources:\n  crm: {path: a.csv, record_id: id, idents: {}}\n", "source 'crm': unknown key 'idents'"),
        ("sources:\n  crm: {path: a.csv}\n", "source 'crm': missing key 'record_id'"),
        ("source: {}\n", "unknown key 'source'"),
        ("sources:\n  'bad:name': {path: a.csv, record_id: id}\n", "source name 'bad:name'"),
    ],
)
def test_bad_keys_are_named(tmp_path: Path, yaml_text: str, message: str) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(yaml_text)
    with pytest.raises(ConfigError, match=message):
        load_config(path)


def test_a_missing_column_names_source_key_and_column(sources_dir: Path) -> None:
    text = (sources_dir / "sources.yaml").read_text().replace("dob: birth_date", "birthday: birth_date")
    (sources_dir / "sources.yaml").write_text(text)
    with pytest.raises(ConfigError, match="source 'crm': attributes column 'birthday' is not in .*crm.csv"):
        check_sources(load_config(sources_dir / "sources.yaml"))


def test_a_missing_data_file_is_named(sources_dir: Path) -> None:
    (sources_dir / "pos.parquet").unlink()
    with pytest.raises(ConfigError, match="pos.parquet: file not found"):
        check_sources(load_config(sources_dir / "sources.yaml"))


def test_an_unknown_source_filter_is_an_error(sources_dir: Path) -> None:
    with pytest.raises(ConfigError, match="no source named 'erp'"):
        check_sources(load_config(sources_dir / "sources.yaml"), "erp")
