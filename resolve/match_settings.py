"""Settings of fuzzy matching: comparisons, blocking rules and the decision threshold, as data."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, PositiveInt, model_validator

from resolve.comparisons import Comparison


class MatchSettings(BaseModel):
    """Fuzzy matching of records that share no identifier.

    A comparison's ``field`` is a record attribute (``first_name``, ``birth_date``, a custom one);
    ``first_name`` and ``last_name`` fall back to the first and last word of ``full_name``; ``national_id``
    and ``email_local`` may come from identifiers (see :mod:`resolve.fields`).

    ``comparisons`` and ``blocking`` left out (None) are chosen from the data by each full run (see
    :mod:`resolve.defaults`): a comparison for every standard attribute the sources map, blocking rules by
    measured reach within ``pair_budget_per_record``.
    """

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    comparisons: list[Comparison] | None = None
    #: the comparisons were chosen from the data by a resolve run, not given: set on the settings read back
    #: from that run (:func:`resolve.settings.last_run_settings`); never serialised, so a saved model's
    #: key stays the user's settings
    comparisons_chosen: bool = Field(default=False, exclude=True)
    blocking: list[list[str]] | None = None
    #: the blocking rules EM estimates ``m`` on (None: all of them); chosen rules of surnames and addresses
    #: alone find candidates but are not trained on, as their blocks are full of families
    training_blocking: list[list[str]] | None = None
    max_block_size: PositiveInt = 200
    #: chosen blocking rules may yield about this many candidate pairs per record (at least ``min_pair_budget``)
    pair_budget_per_record: PositiveInt = 10
    min_pair_budget: PositiveInt = 100_000
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
    #: a match link weighing less (probability below 0.999 at 10) is weak evidence: a chain of weak links
    #: between two records whose attributes disagree by ``conflict_weight`` is cut
    weak_match_weight: float = 10.0
    #: the fields whose disagreement is conflicting evidence: who a person is (names, birth date, gender),
    #: not where they live or how they are reached, which change while the person does not (two national ids
    #: are the profile limits' business: ``max_values_per_profile``)
    conflict_fields: list[str] = Field(
        default_factory=lambda: ["first_name", "middle_name", "last_name", "birth_date", "gender"]
    )
    #: fields a family shares, whose agreement says "same household", not "same person"; any other field
    #: agreeing (a national id, a customer number) outweighs a disagreement of ``conflict_fields``
    family_fields: list[str] = Field(
        default_factory=lambda: [
            "last_name",
            "street_number",
            "street",
            "address_line2",
            "city",
            "postcode",
            "region",
            "country",
            "email_local",
        ]  # fmt: skip
    )
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
        if self.comparisons is None:
            return self
        names = [c.name for c in self.comparisons]
        duplicated = sorted({n for n in names if names.count(n) > 1})
        if duplicated:
            raise ValueError(f"comparison names must be unique: {duplicated}")
        fields = {c.field for c in self.comparisons}
        for number, rule in enumerate(self.blocking or [], start=1):
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
        return list(dict.fromkeys(c.field for c in self.chosen_comparisons))

    @property
    def chosen_comparisons(self) -> list[Comparison]:
        if self.comparisons is None:
            raise ValueError("comparisons are chosen from the data first (resolve.defaults.complete_settings)")
        return self.comparisons

    @property
    def automatic(self) -> bool:
        """Whether the comparisons or the blocking rules are left to be chosen from the data."""
        return self.comparisons is None or self.blocking is None

    @property
    def explicit(self) -> bool:
        """True when the user chose the comparisons (then a field no record has is an error; a chosen one
        is left out, as when a re-resolve after an erase no longer finds the field it was chosen for)."""
        return self.comparisons is not None and not self.comparisons_chosen
