"""``sources.yaml``: which files to read and how their columns map to identifiers, attributes and events."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

import phonenumbers
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from graph.errors import ConfigError

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_\-]*$")

IDENTIFIER_TYPES = ("email", "phone", "crm_id", "loyalty_id", "cookie_id", "device_id", "national_id")
STANDARD_ATTRIBUTES = (
    "first_name", "middle_name", "last_name", "full_name", "birth_date", "gender", "street_number",
    "street", "address_line2", "city", "postcode", "region", "country", "email_opt_in",
)  # fmt: skip
#: what a customer consents to: being emailed, texted, targeted by ads, measured in analytics
PURPOSES = ("email", "sms", "ads", "analytics")
Purpose = Literal["email", "sms", "ads", "analytics"]
FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet"}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class EventSpec(_Strict):
    type: str
    timestamp: str
    properties: list[str] = Field(default_factory=list)


class ConsentSpec(_Strict):
    """A yes/no column stating consent to one purpose, and the column saying when it was given or withdrawn
    (without one, as of when the record was last seen)."""

    column: str
    at: str | None = None


class SourceSpec(_Strict):
    path: Path
    format: Literal["csv", "jsonl", "parquet"] | None = None
    record_id: str
    identifiers: dict[str, str] = Field(default_factory=dict)
    attributes: dict[str, str] = Field(default_factory=dict)
    event: EventSpec | None = None
    consent: dict[Purpose, ConsentSpec] = Field(default_factory=dict)
    encoding: str = "utf-8"

    @field_validator("consent", mode="before")
    @classmethod
    def _a_column_alone(cls, value: Any) -> Any:  # `email: opt_in` is `email: {column: opt_in}`
        if isinstance(value, dict):
            return {k: {"column": v} if isinstance(v, str) else v for k, v in value.items()}
        return value

    @field_validator("encoding")
    @classmethod
    def _encoding_is_a_text_codec(cls, value: str) -> str:
        try:
            "a".encode(value)  # LookupError for a name Python does not know or a bytes-to-bytes codec (base64)
        except (LookupError, UnicodeError):
            raise ValueError(f"unknown text encoding '{value}' (for example utf-8, cp1252, latin-1, utf-16)") from None
        return value

    @field_validator("identifiers")
    @classmethod
    def _identifier_types_are_names(cls, value: dict[str, str]) -> dict[str, str]:
        for column, id_type in value.items():
            if not _NAME.match(id_type):
                raise ValueError(f"identifier type '{id_type}' of column '{column}' must be a plain name")
        return value

    def file_format(self) -> str:
        if self.format:
            return self.format
        fmt = FORMATS.get(self.path.suffix.lower())
        if fmt is None:
            raise ConfigError(f"{self.path}: unknown file extension; set `format:` to csv, jsonl or parquet")
        return fmt

    def attribute_columns(self) -> list[tuple[str, str]]:
        """``(column, attribute)`` of every attribute a record keeps, consent included (``consent_email``,
        ``consent_email_at``: see :mod:`resolve.consent`)."""
        pairs = list(self.attributes.items())
        for purpose, spec in self.consent.items():
            pairs.append((spec.column, f"consent_{purpose}"))
            if spec.at:
                pairs.append((spec.at, f"consent_{purpose}_at"))
        return pairs

    def columns(self) -> dict[str, str]:
        """Every column the source reads, mapped to the key of the config that names it."""
        named = {self.record_id: "record_id"}
        named.update({c: "identifiers" for c in self.identifiers})
        named.update({c: "attributes" for c in self.attributes})
        for purpose, spec in self.consent.items():
            named[spec.column] = f"consent.{purpose}"
            if spec.at:
                named[spec.at] = f"consent.{purpose}.at"
        if self.event:
            named[self.event.timestamp] = "event.timestamp"
            named.update({c: "event.properties" for c in self.event.properties})
        return named


class Options(_Strict):
    default_region: str = "GB"
    date_order: Literal["DMY", "MDY"] = "DMY"

    @field_validator("default_region")
    @classmethod
    def _region_is_known(cls, value: str) -> str:  # else the config loads and ingest fails on a ValueError
        if value not in phonenumbers.SUPPORTED_REGIONS:
            raise ValueError(f"'{value}' is not a region code phone numbers know (for example GB, US, DE)")
        return value


class SourcesConfig(_Strict):
    sources: dict[str, SourceSpec]
    options: Options = Field(default_factory=Options)
    base_dir: Path = Path(".")

    @field_validator("sources")
    @classmethod
    def _names(cls, value: dict[str, SourceSpec]) -> dict[str, SourceSpec]:
        if not value:
            raise ValueError("no sources listed")
        for name in value:
            if not _NAME.match(name):
                raise ValueError(f"source name '{name}' must start with a letter and hold only [A-Za-z0-9_-]")
        return value

    def path_of(self, name: str) -> Path:
        path = self.sources[name].path
        return path if path.is_absolute() else self.base_dir / path


def load_config(path: Path) -> SourcesConfig:
    """Read and validate ``sources.yaml``; every problem is a one-line :class:`ConfigError`."""
    try:
        raw = yaml.safe_load(Path(path).read_text())
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {str(exc).splitlines()[0]} {_mark(exc)}") from None
    except RecursionError:  # PyYAML builds nested collections recursively: a few hundred levels exhaust the stack
        raise ConfigError(f"{path}: not valid YAML: nested too deeply") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping with a `sources:` key")
    try:
        return SourcesConfig.model_validate({**raw, "base_dir": Path(path).parent})
    except ValidationError as exc:
        raise ConfigError(f"{path}: {_describe(exc)}") from None


def _mark(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    return f"(line {mark.line + 1}, column {mark.column + 1})" if mark else ""


def _describe(exc: ValidationError) -> str:
    return "; ".join(_describe_one(error) for error in exc.errors())


def _shown(value: object) -> str:
    """Text from the file as a one-line message shows it: line breaks and other unprintable characters escaped.

    >>> _shown("crm\\nweb"), _shown("Málaga")
    ('crm\\\\nweb', 'Málaga')
    """
    text = str(value)
    return text if text.isprintable() else "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _describe_one(error: Any) -> str:
    loc = [_shown(p) for p in error["loc"]]
    where = f"source '{loc[1]}': " if len(loc) > 1 and loc[0] == "sources" else ""
    key = ".".join(loc[2:] if where else loc)
    if error["type"] == "extra_forbidden":
        return f"{where}unknown key '{key}'"
    if error["type"] == "missing":
        return f"{where}missing key '{key}'"
    return f"{where}{key}: {_shown(error['msg'])}"
