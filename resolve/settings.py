"""Resolution settings: a validated, serialisable object saved beside every run so a run can be reproduced."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, PositiveFloat, PositiveInt, ValidationError

from graph.errors import ConfigError
from graph.store import GraphStore
from resolve.match_settings import MatchSettings

#: how many records one identifier value may link before it is treated as shared and ignored.
#: Generous for ids that many transactions of one person carry (loyalty card, cookie), tight for ids
#: that belong to exactly one person (national id).
DEFAULT_CAPS = {
    "email": 60,
    "phone": 60,
    "crm_id": 10,
    "loyalty_id": 250,
    "cookie_id": 150,
    "device_id": 150,
    "national_id": 10,
}


#: how strongly one link of a type ties two records, before dividing by how many records the value links
DEFAULT_STRENGTHS = {
    "national_id": 10.0,
    "crm_id": 8.0,
    "loyalty_id": 4.0,
    "email": 3.0,
    "phone": 3.0,
    "device_id": 2.0,
    "cookie_id": 1.0,
}


class ResolveSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    max_records_per_identifier: dict[str, int] = Field(default_factory=lambda: dict(DEFAULT_CAPS))
    default_max_records: int = Field(default=60, ge=2)
    blocklist: dict[str, list[str]] = Field(default_factory=dict)  # identifier type -> raw values
    use_placeholder_blocklist: bool = True
    #: distinct values of a type one profile may hold; more is conflicting evidence and splits it
    max_values_per_profile: dict[str, PositiveInt] = Field(default_factory=lambda: {"national_id": 1})
    max_profile_size: int = Field(default=1000, ge=2)
    strengths: dict[str, PositiveFloat] = Field(default_factory=lambda: dict(DEFAULT_STRENGTHS))
    default_strength: float = Field(default=2.0, gt=0)
    #: identifier types a family may share (a family email, a home phone, a tablet and its browser's cookie):
    #: shared between profiles, they make them one household
    household_types: list[str] = Field(default_factory=lambda: ["email", "phone", "device_id", "cookie_id"])
    max_household_profiles: int = Field(default=8, ge=2)
    #: fuzzy matching of records that share no identifier
    matching: MatchSettings = Field(default_factory=MatchSettings)

    def cap(self, id_type: str) -> int:
        return self.max_records_per_identifier.get(id_type, self.default_max_records)

    def link_strength(self, id_type: str) -> float:
        return self.strengths.get(id_type, self.default_strength)

    def to_json(self) -> str:
        return self.model_dump_json()


def load_resolve_settings(path: Path | None) -> ResolveSettings:
    """Defaults when ``path`` is None, else a YAML or JSON file; unknown keys are errors naming the key."""
    if path is None:
        return ResolveSettings()
    try:
        raw = yaml.safe_load(Path(path).read_text()) or {}
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: cannot read settings: {exc}") from None
    try:
        return ResolveSettings.model_validate(raw)
    except ValidationError as exc:
        error = exc.errors()[0]
        key = ".".join(str(p) for p in error["loc"])
        what = "unknown setting" if error["type"] == "extra_forbidden" else error["msg"]
        raise ConfigError(f"{path}: {what}: '{key}'") from None


def settings_from_json(text: str) -> ResolveSettings:
    return ResolveSettings.model_validate(json.loads(text))


def last_run_settings(store: GraphStore) -> ResolveSettings:
    """The settings the last resolve of ``store`` ran with (saved with its summary); defaults before any run.
    Comparisons that run chose from the data are marked so (``MatchSettings.comparisons_chosen``)."""
    run = store.latest_run()
    if run is None:
        return ResolveSettings()
    summary = json.loads(run["summary"])
    settings = ResolveSettings.model_validate(summary.get("settings") or {})
    given = ((summary.get("matching") or {}).get("chosen") or {}).get("given")
    if given is not None and "comparisons" not in given and settings.matching.comparisons is not None:
        matching = settings.matching.model_copy(update={"comparisons_chosen": True})
        settings = settings.model_copy(update={"matching": matching})
    return settings
