"""Settings of fuzzy matching: comparisons, blocking rules and the decision threshold, as data."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, PositiveInt, model_validator

from resolve.comparisons import Comparison


def _default_comparisons() -> list[Comparison]:
    return [
        Comparison(name="first_name", kind="jaro_winkler", thresholds=[0.92, 0.8], term_frequency=True, initials=True),
        Comparison(name="last_name", kind="jaro_winkler", thresholds=[0.92, 0.8], term_frequency=True),
        Comparison(name="birth_date", kind="date"),
        Comparison(name="postcode", kind="postcode"),
        Comparison(name="street", kind="jaro_winkler", thresholds=[0.9]),
        Comparison(name="city", kind="exact", term_frequency=True),
    ]


def _default_blocking() -> list[list[str]]:
    return [
        ["last_name", "birth_date"],
        ["first_name", "birth_date"],
        ["first_name", "last_name", "postcode"],
        ["postcode", "birth_date"],
        ["first_name", "last_name"],
    ]


class MatchSettings(BaseModel):
    """Fuzzy matching of records that share no identifier.

    A comparison's ``field`` is a record attribute (``first_name``, ``birth_date``, a custom one);
    ``first_name`` and ``last_name`` fall back to the first and last word of ``full_name``.
    """

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    comparisons: list[Comparison] = Field(default_factory=_default_comparisons)
    blocking: list[list[str]] = Field(default_factory=_default_blocking)
    max_block_size: PositiveInt = 200
    #: match probability from which two records are linked
    threshold: float = Field(default=0.95, gt=0, lt=1)
    #: strength of a match link at probability 1 when a limit must cut (an email is 3)
    link_strength: float = Field(default=3.0, gt=0)
    #: two records sharing an identifier are kept apart when their disagreements alone weigh this or
    #: less (a different first name and a different birth date); None turns the check off
    conflict_weight: float | None = Field(default=-9.0, le=0)
    #: records held together only by values a family shares (the ``household_types``: a family email, a
    #: home phone, a tablet) are kept apart from this weaker disagreement (a different first name alone)
    household_conflict_weight: float | None = Field(default=-5.0, le=0)
    training_pairs: PositiveInt = 300_000  # per blocking rule, sampled
    random_pairs: PositiveInt = 100_000  # for u of the levels between exact and different
    min_training_pairs: PositiveInt = 300  # fewer: the starting values are kept
    em_iterations: PositiveInt = 20
    seed: int = 0

    @property
    def checks_conflicts(self) -> bool:
        return self.conflict_weight is not None or self.household_conflict_weight is not None

    @model_validator(mode="after")
    def _check(self) -> MatchSettings:
        names = [c.name for c in self.comparisons]
        duplicated = sorted({n for n in names if names.count(n) > 1})
        if duplicated:
            raise ValueError(f"comparison names must be unique: {duplicated}")
        fields = {c.field for c in self.comparisons}
        for number, rule in enumerate(self.blocking, start=1):
            if not rule:
                raise ValueError(f"blocking rule {number} is empty")
            unknown = [f for f in rule if f not in fields]
            if unknown:
                raise ValueError(
                    f"blocking rule {number} names unknown field '{unknown[0]}' (fields: {', '.join(sorted(fields))})"
                )
        return self

    @property
    def fields(self) -> list[str]:
        return list(dict.fromkeys(c.field for c in self.comparisons))

    @property
    def explicit(self) -> bool:
        """True when the comparisons are not the defaults, so the user chose them (then a field no record
        has is an error; a default comparison whose field the data lacks is just left out)."""
        return self.comparisons != _default_comparisons()
