"""Zero-config matching: with no settings file, comparisons and blocking rules are chosen from the data.

**Comparisons.** Every standard attribute the sources map (on two records or more) gets the comparison
that suits its type (:data:`ATTRIBUTE_COMPARISONS`): names by Jaro-Winkler with
nicknames and initials and term frequencies, dates with typos, transpositions and swapped day and month,
postcodes by part, street numbers exactly. Two come from identifiers: a national id by edit distance (a
typo'd id is near agreement, not a different person) and an email by its local part.

**Blocking.** Candidate rules are every field alone and every two fields together. Their reach is
measured on the pairs the data already proves are one person, the attributed records that share an
identifier (label-free, as the identifiers are there anyway). Rules are chosen greedily by new pairs
reached per candidate pair compared, within a budget of ``pair_budget_per_record`` candidate pairs per
record, until a rule would add less than :data:`MIN_GAIN` of the reachable pairs. A national id is not
blocked on: records whose ids agree are linked by the id already. EM estimates ``m`` only on the chosen
rules holding a field that is a person's own (:data:`OWN_FIELDS`: a first name, a birth date): a block of
surnames, addresses or email local parts (``thesmiths``) alone is full of families, and EM would learn
them as people. With too few such pairs to measure (no identifiers), the rules fall back to
:data:`FALLBACK_BLOCKING`.

Settings a user gives (comparisons, blocking, or both) are kept as they are; only what is left out is
chosen. The choice and its reasons are saved with the run (``cdp resolve --show-settings`` prints them).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import yaml

from graph.errors import ConfigError
from graph.frames import among
from resolve.blocking import block_key, rule_name
from resolve.comparisons import Comparison, FieldColumn
from resolve.components import record_components
from resolve.fields import IDENTIFIER_FIELDS, record_fields
from resolve.match_settings import MatchSettings

#: standard attribute (or identifier field) -> its comparison, in the order they are listed
ATTRIBUTE_COMPARISONS: dict[str, Comparison] = {
    c.name: c
    for c in (
        Comparison(
            name="first_name",
            kind="jaro_winkler",
            thresholds=[0.92, 0.8],
            term_frequency=True,
            initials=True,
            nicknames=True,
        ),  # fmt: skip
        Comparison(name="middle_name", kind="jaro_winkler", thresholds=[0.9], initials=True, nicknames=True),
        Comparison(name="last_name", kind="jaro_winkler", thresholds=[0.92, 0.8], term_frequency=True),
        Comparison(name="birth_date", kind="date"),
        Comparison(name="gender", kind="exact"),
        Comparison(name="street_number", kind="exact"),
        Comparison(name="street", kind="jaro_winkler", thresholds=[0.9, 0.7]),
        Comparison(name="address_line2", kind="jaro_winkler", thresholds=[0.9]),
        Comparison(name="city", kind="jaro_winkler", thresholds=[0.9], term_frequency=True),
        Comparison(name="postcode", kind="postcode"),
        Comparison(name="region", kind="exact"),
        Comparison(name="country", kind="exact"),
        Comparison(name="national_id", kind="levenshtein", thresholds=[1, 2]),
        # one edit, not Jaro-Winkler (locals start alike); built from the name, it adds nothing to agreeing names
        Comparison(name="email_local", kind="levenshtein", thresholds=[1], implied_by=["first_name", "last_name"]),
    )
}
#: fields never blocked on: records agreeing on them are linked by the identifier already
NOT_BLOCKED = frozenset({"national_id"})
#: fields that are a person's own: a family shares its surname, address and phone, so a block of those
#: alone is a block of households, on which EM would learn households instead of people
OWN_FIELDS = frozenset({"first_name", "middle_name", "birth_date"})
FALLBACK_BLOCKING = [
    ["last_name", "birth_date"],
    ["first_name", "birth_date"],
    ["first_name", "last_name", "postcode"],
    ["postcode", "birth_date"],
    ["first_name", "last_name"],
]
MIN_GAIN = 0.001  # a rule reaching fewer new pairs than this share of the measured ones is not worth its cost
MAX_RULES = 12
MIN_MEASURED_PAIRS = 50  # fewer pairs proven by identifiers: reach cannot be measured, fall back
SAMPLE_RECORDS = 200_000  # rules are measured on at most this many records (costs scaled back up)


@dataclass
class RuleChoice:
    rule: list[str]
    pairs: int  # candidate pairs the rule yields (estimated from a sample on large data)
    reach: float  # share of the measured pairs it reaches alone
    added: float  # share it added to the rules chosen before it


@dataclass
class Choice:
    """What a run chose and why."""

    comparisons: dict[str, str] = field(default_factory=dict)  # name -> why
    rules: list[RuleChoice] = field(default_factory=list)
    measured_pairs: int = 0  # pairs proven by identifiers that reach was measured on
    reach: float | None = None  # share of them the chosen rules reach together
    budget: int = 0
    fallback: bool = False  # too few measured pairs: the fallback rules were used
    given: list[str] = field(default_factory=list)  # what the settings fixed ("comparisons", "blocking")
    #: the fields read to choose (``record_fields`` of the candidate names), kept so blocking reads them once
    fields: pd.DataFrame | None = field(default=None, repr=False)

    def to_dict(self) -> dict[str, object]:
        return {
            "comparisons": self.comparisons,
            "blocking": [vars(r) for r in self.rules],
            "measured_pairs": self.measured_pairs,
            "reach": self.reach,
            "pair_budget": self.budget,
            "fallback": self.fallback,
            "given": self.given,
        }


def complete_settings(
    attributes: pd.DataFrame, identifiers: pd.DataFrame | None, settings: MatchSettings
) -> tuple[MatchSettings, Choice]:
    """``settings`` with the comparisons and blocking rules they leave out chosen from the data.

    ``attributes``: ``record, attributes`` (JSON); ``identifiers``: the usable links ``record, identifier``.
    O(records x candidate fields + candidate rules x sampled records)."""
    choice = Choice(given=[k for k in ("comparisons", "blocking") if getattr(settings, k) is not None])
    if not settings.automatic:
        return settings, choice
    comparisons = settings.comparisons
    if comparisons is None:
        names = list(ATTRIBUTE_COMPARISONS)
        fields = choice.fields = record_fields(attributes, names, identifiers)
        comparisons = []
        for name in names:
            column = fields[name]
            filled = int(column.notna().sum())
            distinct = column.nunique()
            if filled >= 2:
                comparisons.append(ATTRIBUTE_COMPARISONS[name])
                origin = f"from {IDENTIFIER_FIELDS[name]} identifiers" if name in IDENTIFIER_FIELDS else "mapped"
                choice.comparisons[name] = (
                    f"{origin}, on {filled / max(len(fields), 1):.0%} of records, {distinct:,} values"
                )
    else:
        fields = choice.fields = record_fields(
            attributes, list(dict.fromkeys(c.field for c in comparisons)), identifiers
        )
    if settings.blocking is not None:
        missing = sorted({f for rule in settings.blocking for f in rule} - {c.field for c in comparisons})
        if missing:
            raise ConfigError(f"blocking names field '{missing[0]}', which no chosen comparison compares")
        return settings.model_copy(update={"comparisons": comparisons}), choice
    blockable = [c.field for c in comparisons if c.field not in NOT_BLOCKED and c.field in fields]
    rules = choose_blocking(fields[list(dict.fromkeys(blockable))], identifiers, settings, choice)
    training = settings.training_blocking
    if training is None:
        training = [rule for rule in rules if OWN_FIELDS.intersection(rule)] or rules
    update = {"comparisons": comparisons, "blocking": rules, "training_blocking": training}
    return settings.model_copy(update=update), choice


def choose_blocking(
    fields: pd.DataFrame, identifiers: pd.DataFrame | None, settings: MatchSettings, choice: Choice
) -> list[list[str]]:
    """Blocking rules over ``fields`` (one row per record) by measured reach within the pair budget."""
    n = len(fields)
    budget = max(settings.min_pair_budget, settings.pair_budget_per_record * n)
    choice.budget = budget
    rng = np.random.default_rng(settings.seed)
    sample = np.sort(rng.choice(n, SAMPLE_RECORDS, replace=False)) if n > SAMPLE_RECORDS else np.arange(n)
    scale = n / max(len(sample), 1)
    codes = pd.DataFrame({name: FieldColumn.of(fields[name].to_numpy(dtype=object)[sample]).codes for name in fields})
    proven = _proven_pairs(fields.index[sample], codes, identifiers)
    choice.measured_pairs = len(proven)
    present = [name for name in codes.columns if (codes[name] >= 0).any()]
    if len(proven) < MIN_MEASURED_PAIRS:
        choice.fallback = True
        rules = [r for r in FALLBACK_BLOCKING if all(f in present for f in r)]
        return rules or [[name] for name in present[:1]]
    cap = max(2, int(settings.max_block_size / scale))
    measured = [_measure(codes, rule, proven, cap, scale) for rule in _candidate_rules(present)]
    covered = np.zeros(len(proven), dtype=bool)
    left, chosen = budget, []
    while len(chosen) < MAX_RULES:
        best, best_score = None, 0.0
        for rule, pairs, reaches in measured:
            gain = int((reaches & ~covered).sum())
            if pairs > left or gain < max(1, MIN_GAIN * len(proven)):
                continue
            score = gain / (pairs + budget / 1000)  # new pairs reached per pair compared
            if score > best_score:
                best, best_score = (rule, pairs, reaches, gain), score
        if best is None:
            break
        rule, pairs, reaches, gain = best
        chosen.append(rule)
        choice.rules.append(RuleChoice(rule, pairs, round(float(reaches.mean()), 4), round(gain / len(proven), 4)))
        covered |= reaches
        left -= pairs
    choice.reach = round(float(covered.mean()), 4)
    return chosen or [r for r in FALLBACK_BLOCKING if all(f in present for f in r)]


def _candidate_rules(present: list[str]) -> list[list[str]]:
    return [[name] for name in present] + [list(pair) for pair in itertools.combinations(present, 2)]


def _measure(codes: pd.DataFrame, rule: list[str], proven: np.ndarray, cap: int, scale: float) -> tuple:
    """The rule, its candidate pairs (scaled to all records), and which proven pairs it reaches."""
    key = block_key(codes, rule)
    keyed = key >= 0
    sizes = np.bincount(key[keyed]) if keyed.any() else np.zeros(1, dtype=np.int64)
    usable = (sizes >= 2) & (sizes <= cap)
    pairs = int((sizes[usable] * (sizes[usable] - 1) // 2).sum() * scale * scale)
    left, right = key[proven[:, 0]], key[proven[:, 1]]
    reaches = (left >= 0) & (left == right) & usable[np.where(left >= 0, left, 0)]
    return rule, pairs, reaches


def _proven_pairs(keys: pd.Index, codes: pd.DataFrame, identifiers: pd.DataFrame | None) -> np.ndarray:
    """Row pairs of attributed records that share an identifier, directly or through other records: for
    each such group, neighbours in record order (about two pairs a record, so a big group does not
    dominate). O(records + links)."""
    if identifiers is None or identifiers.empty:
        return np.empty((0, 2), dtype=np.int64)
    attributed = (codes.to_numpy() >= 0).any(axis=1)
    held = identifiers[among(identifiers["record"], keys)]
    labels = record_components(pd.Series(keys), held).reindex(keys).to_numpy()
    rows = np.flatnonzero(attributed)
    order = rows[np.argsort(labels[rows], kind="stable")]
    group = labels[order]
    parts = []
    for step in (1, 2):
        same = group[step:] == group[:-step] if len(group) > step else np.zeros(0, dtype=bool)
        parts.append(np.column_stack([order[:-step][same], order[step:][same]]) if len(same) else np.empty((0, 2)))
    return np.concatenate(parts).astype(np.int64)


def describe(settings: MatchSettings, choice: Choice) -> list[str]:
    """The chosen settings as YAML lines a settings file can start from, each choice with its reason."""
    lines = ["matching:", "  comparisons:"]
    given = "given in the settings file"
    for c in settings.chosen_comparisons:
        spec = c.model_dump(exclude_defaults=True)
        if spec.get("field") == c.name:
            spec.pop("field")
        text = yaml.safe_dump(spec, default_flow_style=True, sort_keys=False, width=10_000).strip()
        lines.append(f"    - {text}  # {choice.comparisons.get(c.name, given)}")
    lines.append("  blocking:")
    reasons = {rule_name(r.rule): r for r in choice.rules}
    for rule in settings.blocking or []:
        r = reasons.get(rule_name(rule))
        why = (
            f"{r.pairs:,} pairs; reaches {r.reach:.1%} of the {choice.measured_pairs:,} pairs identifiers prove, "
            f"+{r.added:.1%} over the rules above"
            if r
            else ("fallback: too few pairs proven by identifiers to measure reach" if choice.fallback else given)
        )
        lines.append(f"    - [{', '.join(rule)}]  # {why}")
    if choice.reach is not None:
        lines.append(f"  # together: {choice.reach:.1%} of the proven pairs, budget {choice.budget:,} pairs")
    if settings.training_blocking is not None and settings.training_blocking != settings.blocking:
        lines.append("  training_blocking:  # EM estimates m on these; the others gather families too")
        lines += [f"    - [{', '.join(rule)}]" for rule in settings.training_blocking]
    lines.append(f"  threshold: {settings.threshold:g}")
    return lines
