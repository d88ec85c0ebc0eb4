"""Phones in bulk: the usual written forms of a number decided over a whole column with Arrow's string
kernels, using libphonenumber's own metadata, instead of one ``phonenumbers`` call (~150-400 us) per value.

A value is settled here when it is plain ASCII in one of the forms a CRM or a till writes
(``+44 7911 123456``, ``0044 7911 123456``, ``07911 123456``, ``(415) 555-2671``, with spaces, dots, dashes,
slashes and brackets), its country calling code is a geographic one and the result is a possible number:
then its E.164 form and whether it is in an assigned range (``Phone.unverified``) are what
:func:`ingest.normalise.normalise_phone` gives, step for step as ``phonenumbers.parse``,
``is_possible_number_with_reason`` and ``is_valid_number`` decide them (the country code read from the
first one to three digits after ``+``; the national prefix stripped as the region's
``national_prefix_for_parsing`` says, unless that leaves a number the region's pattern rejects or of an
impossible length; validity as the region the number belongs to, found as ``region_code_for_number`` finds
it, describes it). Everything else (other characters, a ``tel:`` URI, a region whose prefix rule rewrites
digits, a national number that starts like the country code or the international prefix, a number that is
not possible) is left to the per-value rule, which gives the exact reason it is rejected. Tests hold the
two equal on random and messy columns in many regions.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache

import numpy as np
import pandas as pd
import phonenumbers
import pyarrow as pa
import pyarrow.compute as pc
from phonenumbers import COUNTRY_CODE_TO_REGION_CODE, PhoneMetadata

from ingest.normalise import Phone

__all__ = ["bulk_phones"]

_SHAPE = r"^ *(?:\+|00)?[0-9 ().\-/]+ *$"  # what is settled here: ASCII digits and the usual separators
_MAX_TEXT = 200  # phonenumbers refuses input over 250 characters: far longer than any number here
_MIN_NSN, _MAX_NSN = 2, 17
#: the descriptions ``_number_type_helper`` tries: a number matching the general one and any of these is valid
_TYPES = ("premium_rate", "toll_free", "shared_cost", "voip", "personal_number", "pager", "uan", "voicemail",
          "fixed_line", "mobile")  # fmt: skip
_CODES = {str(cc) for cc in COUNTRY_CODE_TO_REGION_CODE}


def bulk_phones(values: pd.Series, region: str) -> tuple[np.ndarray, pd.Series]:
    """For distinct phone texts: which are settled here, and their :class:`Phone` (None where not settled)."""
    text = pa.array(values.astype("str"), pa.string(), from_pandas=True)
    out: list[Phone | None] = [None] * len(text)
    settled = np.zeros(len(text), dtype=bool)
    if not len(text):
        return settled, pd.Series(out, dtype=object)
    shaped = _filled(pc.match_substring_regex(text, _SHAPE)) & (_np(pc.utf8_length(text)) <= _MAX_TEXT)
    trimmed = pc.utf8_trim(text, " ")
    digits = pc.replace_substring_regex(trimmed, r"[^0-9]", "")
    shaped &= _np(pc.utf8_length(digits)) >= 3  # phonenumbers takes two digits only when they are all there is
    plus = _filled(pc.starts_with(trimmed, "+"))
    idd = _filled(pc.starts_with(trimmed, "00")) & ~plus
    full = np.array(digits.to_pylist(), dtype=object)
    full[idd] = [d[2:] for d in full[idd]]  # "00" is rewritten as "+" before parsing (ingest.normalise)
    international = plus | idd
    own = PhoneMetadata.metadata_for_region(region)
    codes = np.full(len(full), "", dtype=object)
    nationals = np.full(len(full), "", dtype=object)
    for i in np.flatnonzero(shaped & international):
        number = full[i]
        if len(number) <= _MIN_NSN or number[0] == "0":
            continue  # phonenumbers' errors (or a retry without the "+"): the rule says which
        code = next((number[:k] for k in (1, 2, 3) if number[:k] in _CODES), "")
        codes[i], nationals[i] = code, number[len(code) :] if code else ""
    national = shaped & ~international
    if national.any() and phonenumbers.region_code_for_country_code(own.country_code) == region:
        # (a region that is not its code's main one, Jersey in +44, parses with its own prefix rule: per value)
        local = pa.array(full[national].tolist(), pa.string())
        as_code = _filled(pc.starts_with(local, str(own.country_code)))
        as_idd = _matches(local, own.international_prefix, anchored_end=False) if own.international_prefix else False
        plain = np.flatnonzero(national)[~(as_code | as_idd)]
        codes[plain], nationals[plain] = str(own.country_code), full[plain]
    for code in sorted(set(codes[codes != ""].tolist())):
        rows = np.flatnonzero(codes == code)
        for row, phone in zip(rows.tolist(), _decide(int(code), nationals[rows].tolist()), strict=True):
            if phone is not None:
                out[row], settled[row] = phone, True
    return settled, pd.Series(out, dtype=object)


def _decide(code: int, numbers: Sequence[str]) -> list[Phone | None]:
    """The phones of one country calling code from their national digits (after the code), None where the
    per-value rule must decide: what ``parse`` then ``is_possible_number_with_reason`` and ``is_valid_number``
    do for numbers of that code."""
    regions = COUNTRY_CODE_TO_REGION_CODE[code]
    main = phonenumbers.region_code_for_country_code(code)
    meta = (
        PhoneMetadata.metadata_for_region(main, None) if main != phonenumbers.REGION_CODE_FOR_NON_GEO_ENTITY else None
    )
    if meta is None or (meta.national_prefix_transform_rule or ""):
        return [None] * len(numbers)  # non-geographic codes and prefix rules that rewrite digits: per value
    number = pa.array(list(numbers), pa.string())
    length = _np(pc.utf8_length(number))
    nsn = _strip_national_prefix(number, length, meta)
    n_length = _np(pc.utf8_length(nsn))
    general = meta.general_desc
    possible = (np.isin(n_length, list(general.possible_length)) & ~np.isin(n_length, list(general.possible_length_local_only))
                & (n_length >= _MIN_NSN) & (n_length <= _MAX_NSN) & (length >= _MIN_NSN))  # fmt: skip
    valid = _valid(nsn, n_length, regions)
    texts = nsn.to_pylist()
    return [Phone(f"+{code}{texts[i]}", not valid[i]) if possible[i] else None for i in range(len(texts))]


def _strip_national_prefix(number: pa.Array, length: np.ndarray, meta: PhoneMetadata) -> pa.Array:
    """``_maybe_strip_national_prefix_carrier_code`` then the length test ``parse`` applies to its result."""
    prefix = meta.national_prefix_for_parsing
    if not prefix:
        return number
    found = pc.extract_regex(number, f"^(?P<prefix>{_uncaptured(prefix)})").field("prefix")
    ends = _np(pc.utf8_length(pc.fill_null(found, "")))
    matched = _np(pc.is_valid(found))
    starts = pa.array(np.where(matched, ends, 0))
    stripped = pa.array([s[e:] for s, e in zip(number.to_pylist(), starts.to_pylist(), strict=True)], pa.string())
    general = meta.general_desc.national_number_pattern or ""
    viable_before = _matches(number, general) if general else np.zeros(len(length), bool)
    viable_after = _matches(stripped, general) if general else np.zeros(len(length), bool)
    strip = matched & ~(viable_before & ~viable_after)
    s_length = _np(pc.utf8_length(stripped))
    lengths, local = list(meta.general_desc.possible_length), list(meta.general_desc.possible_length_local_only)
    keeps = ~np.isin(s_length, local) & (np.isin(s_length, lengths) | (s_length > max(lengths)))  # not too short,
    use = strip & keeps  # local-only or an invalid length: those keep the prefix
    return pc.if_else(pa.array(use), stripped, number)


def _valid(nsn: pa.Array, length: np.ndarray, regions: Sequence[str]) -> np.ndarray:
    """``is_valid_number``: the region ``region_code_for_number`` picks (the first whose leading digits
    start the number, or, for a region without them, which describes it), and that region describes it."""
    if len(regions) == 1:
        return _described(nsn, length, PhoneMetadata.metadata_for_region(regions[0], None))
    chosen = np.full(len(length), -1)
    described = []
    for n, region in enumerate(regions):
        meta = PhoneMetadata.metadata_for_region(region, None)
        described.append(_described(nsn, length, meta) if meta is not None else np.zeros(len(length), bool))
        if meta is None:
            continue
        picks = (
            _matches(nsn, meta.leading_digits, anchored_end=False) if meta.leading_digits is not None else described[n]
        )
        chosen = np.where((chosen < 0) & picks, n, chosen)
    table = np.vstack(described)
    return np.where(chosen >= 0, table[np.maximum(chosen, 0), np.arange(len(length))], False)


def _described(nsn: pa.Array, length: np.ndarray, meta: PhoneMetadata | None) -> np.ndarray:
    """``_number_type_helper(...) != UNKNOWN``: the general description and one of a type's match."""
    if meta is None:
        return np.zeros(len(length), bool)
    out = _desc_matches(nsn, length, meta.general_desc)
    if not out.any():
        return out
    typed = np.zeros(len(length), bool)
    for name in _TYPES:
        typed |= _desc_matches(nsn, length, getattr(meta, name))
    return out & typed


def _desc_matches(nsn: pa.Array, length: np.ndarray, desc: object) -> np.ndarray:
    """``_is_number_matching_desc``: one of its possible lengths (when it lists any) and its pattern in full."""
    pattern = getattr(desc, "national_number_pattern", None)
    if desc is None or not pattern:
        return np.zeros(len(length), bool)
    lengths = list(desc.possible_length)  # type: ignore[attr-defined]
    fits = np.isin(length, lengths) if lengths else np.ones(len(length), bool)
    return fits & _matches(nsn, pattern)


@cache
def _uncaptured(pattern: str) -> str:
    """The pattern with its capturing groups made non-capturing (Arrow names every group it extracts)."""
    return re.sub(r"(?<!\\)\((?!\?)", "(?:", pattern)


def _matches(values: pa.Array, pattern: str, anchored_end: bool = True) -> np.ndarray:
    """Whether each value matches ``pattern`` from its start (to its end when ``anchored_end``), as
    Python's ``re`` would: RE2 runs it; a pattern RE2 does not take runs in ``re``."""
    full = f"^(?:{pattern}){'$' if anchored_end else ''}"
    try:
        return _filled(pc.match_substring_regex(values, full))
    except pa.ArrowInvalid:
        compiled = re.compile(full)
        return np.array([v is not None and compiled.search(v) is not None for v in values.to_pylist()], bool)


def _filled(mask: pa.Array) -> np.ndarray:
    return _np(pc.fill_null(mask, False)).astype(bool)


def _np(values: pa.Array) -> np.ndarray:
    return values.to_numpy(zero_copy_only=False)
