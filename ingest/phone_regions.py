"""Which region a source's phone numbers are written in, when it is not the default one.

Ingest reads a phone written without ``+country`` (or ``00``) in ``options.default_region``. When most of
a source's phones written that way are not valid numbers there (rejected, or kept only as unverified), the
region is probably wrong: US numbers read in GB are mostly the right length for a UK number and in no
assigned UK range. Ingest then tries a few likely regions on a sample of the failing values and names the
first in which most of them are valid. A number written with its country code says where it is from, so
it is not counted. O(values) to count, O(sample x regions) parses to name the region.

The hint is a hint: some numbering plans (India's, Germany's) accept most digit strings of the right
length, so a source made mostly of unassigned numbers of the default region may be named one of those.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from ingest.normalise import InvalidValue, NormaliseOptions, Phone, normalise_phone

__all__ = ["LIKELY_REGIONS", "SAMPLE_SIZE", "PhoneTally", "region_hint"]

#: regions tried, in this order (a tie goes to the first)
LIKELY_REGIONS = ("US", "CA", "GB", "AU", "IE", "NZ", "IN", "DE", "FR")
#: distinct failing values kept per source to try the regions on
SAMPLE_SIZE = 200
_WITH_COUNTRY_CODE = re.compile(r"\s*(?:tel:)?\s*(?:\+|00)", re.IGNORECASE)


@dataclass
class PhoneTally:
    """A source's phone values written without a country code: how many there are, how many are not valid
    numbers in the default region (invalid or unverified), and the first :data:`SAMPLE_SIZE` distinct ones
    of those, as they were read."""

    values: int = 0
    failing: int = 0
    sample: list[object] = field(default_factory=list)

    def add(self, raws: Sequence[object], phones: Sequence[Phone | None], invalid_rows: Sequence[int]) -> None:
        """One column of a chunk: its raw values, what each normalised to, and the rows that were invalid."""
        invalid = set(invalid_rows)
        present = [row for row, phone in enumerate(phones) if phone is not None or row in invalid]
        national = [row for row in present if not _WITH_COUNTRY_CODE.match(str(raws[row]))]
        failing = [row for row in national if (phone := phones[row]) is None or phone.unverified]
        self.values += len(national)
        self.failing += len(failing)
        self._keep([raws[row] for row in failing])

    def merge(self, other: PhoneTally) -> None:
        self.values += other.values
        self.failing += other.failing
        self._keep(other.sample)

    def _keep(self, raws: Sequence[object]) -> None:
        seen = {str(raw) for raw in self.sample}
        for raw in raws:
            if len(self.sample) >= SAMPLE_SIZE:
                return
            if str(raw) not in seen:
                seen.add(str(raw))
                self.sample.append(raw)


def region_hint(tally: PhoneTally, default_region: str) -> str | None:
    """A warning when most (over half) of the phone values written without a country code are not valid
    numbers in ``default_region`` and most of the sampled ones are in one of :data:`LIKELY_REGIONS`, naming
    the first such; None otherwise (values that are numbers nowhere are junk, listed in the rejects file).

    >>> raws, tally = ["(415) 555-2671", "312.555.0199", "07911 123456"], PhoneTally()
    >>> tally.add(raws, [normalise_phone(raw) for raw in raws], invalid_rows=[])  # read in GB: 2 unverified
    >>> print(region_hint(tally, "GB"))  # doctest: +NORMALIZE_WHITESPACE
    2 of 3 phones written without a country code (67%) are not valid numbers in the default region GB;
    2 of 2 sampled are valid in US: set `options: {default_region: US}` in sources.yaml if that is where
    they come from
    """
    if not tally.values or tally.failing * 2 <= tally.values:
        return None
    tried = [region for region in LIKELY_REGIONS if region != default_region]
    valid = {region: sum(_valid_in(raw, region) for raw in tally.sample) for region in tried}
    best = max(tried, key=lambda region: valid[region])
    if valid[best] * 2 <= len(tally.sample):
        return None
    return (
        f"{tally.failing:,} of {tally.values:,} phones written without a country code "
        f"({tally.failing / tally.values:.0%}) are not valid numbers in the default region {default_region}; "
        f"{valid[best]:,} of {len(tally.sample):,} sampled are valid in {best}: set "
        f"`options: {{default_region: {best}}}` in sources.yaml if that is where they come from"
    )


def _valid_in(raw: object, region: str) -> bool:
    try:
        phone = normalise_phone(raw, NormaliseOptions(default_region=region))
    except InvalidValue:
        return False
    return phone is not None and not phone.unverified
