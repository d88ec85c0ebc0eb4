"""Value normalisation shared by ingest and API look-ups, so one raw value always maps to one stored form.

Every public function returns ``None`` for a missing value (``None``, NaN, NaT, ``pd.NA``, blank text) and
raises :class:`InvalidValue` when a value is present but cannot be normalised. String work is memoised in
bounded LRU caches keyed on ``(type, text, options)``; invalid results are cached too.
"""

from __future__ import annotations

import itertools
import math
import numbers
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache

import email_validator
import phonenumbers
from unidecode import unidecode

from graph.errors import CdpError
from ingest.config import PURPOSES

_CACHE_SIZE = 200_000
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))  # zero-width junk from copy-paste
_Result = tuple[str | None, str | None]  # (value, reason it is invalid): failures are cached as well


class InvalidValue(CdpError, ValueError):
    """A value is present but cannot be normalised; ``reason`` says why in a few words."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class NormaliseOptions:
    """How to read values that do not say so themselves."""

    default_region: str = "GB"  # phonenumbers region for numbers written without +country
    date_order: str = "DMY"  # how to read an ambiguous 03/04/1985: "DMY" or "MDY"

    def __post_init__(self) -> None:
        if self.date_order not in ("DMY", "MDY"):
            raise ValueError(f"date_order must be 'DMY' or 'MDY', not {self.date_order!r}")
        if self.default_region not in phonenumbers.SUPPORTED_REGIONS:
            raise ValueError(f"default_region {self.default_region!r} is not a phonenumbers region")


def _is_missing(raw: object) -> bool:
    if raw is None or isinstance(raw, str):
        return raw is None or not raw.strip()
    try:
        return bool(raw != raw)  # noqa: PLR0124 -- NaN and NaT are the only values unequal to themselves
    except TypeError:  # pd.NA refuses to be a bool
        return True


def _to_text(raw: object) -> str:
    """Text of a present value; integral numbers (``123.0`` from a pandas column) lose their ``.0``."""
    if isinstance(raw, str):
        text = raw
    elif isinstance(raw, bool):
        text = "true" if raw else "false"
    elif isinstance(raw, numbers.Integral):
        text = str(int(raw))
    elif isinstance(raw, numbers.Real):
        number = float(raw)
        if not math.isfinite(number):
            raise InvalidValue(f"not a finite number: {number}")
        text = str(int(number)) if number.is_integer() else repr(number)
    else:
        text = str(raw)
    return (text if text.isascii() else text.translate(_INVISIBLE)).strip()


def _collapse(text: str) -> str:
    return " ".join(text.split())


def _reason(prefix: str, error: Exception) -> str:
    message = re.sub(r"^\(\d+\)\s*", "", str(error)).rstrip(".")  # phonenumbers prefixes an error code
    return f"{prefix}: {message[:1].lower()}{message[1:]}"


_EMAIL_PLAIN = re.compile(  # ASCII dot-atom addresses that email_validator returns unchanged (tested)
    r"(?P<local>[a-z0-9_%+'=-]+(?:\.[a-z0-9_%+'=-]+)*)@"
    r"(?P<domain>(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63})"
)
_WHITESPACE = re.compile(r"\s")
_SPECIAL_USE_SUFFIXES = tuple("." + d for d in email_validator.SPECIAL_USE_DOMAIN_NAMES)  # .local, .test
_PHONE_CHARS = re.compile(r"\+?[\d\s().\-/]+")


def _email(text: str, opts: NormaliseOptions) -> str:
    text = text.lower().removeprefix("mailto:")
    if "@" not in text:
        raise InvalidValue("not a valid email: missing @")
    if _WHITESPACE.search(text):
        raise InvalidValue("not a valid email: contains whitespace")
    if _is_plain_email(text):
        return text  # skipping email_validator here saves ~50 us a value
    try:
        return str(email_validator.validate_email(text, check_deliverability=False).normalized).lower()
    except email_validator.EmailNotValidError as error:
        raise InvalidValue(_reason("not a valid email", error)) from None


def _is_plain_email(text: str) -> bool:
    plain = _EMAIL_PLAIN.fullmatch(text)
    if not plain or len(text) > 254 or len(plain["local"]) > 64 or "--" in (domain := plain["domain"]):
        return False
    return not ("." + domain).endswith(_SPECIAL_USE_SUFFIXES)


@dataclass(frozen=True)
class Phone:
    """A phone number in E.164. ``unverified``: the right length for its country, but in no range
    libphonenumber knows to be assigned (07700 900xxx, kept for drama; a range assigned after its metadata)."""

    e164: str
    unverified: bool


def _parse_phone(text: str, opts: NormaliseOptions) -> Phone:
    if text[:4].lower() == "tel:":
        text = text[4:].strip()
    if not _PHONE_CHARS.fullmatch(text):
        raise InvalidValue("not a valid phone: unexpected characters")
    if text.startswith("00"):
        text = "+" + text[2:]  # the international prefix of most countries, whatever the default region
    try:
        number = phonenumbers.parse(text, opts.default_region)
    except phonenumbers.NumberParseException as error:
        raise InvalidValue(_reason("not a valid phone", error)) from None
    possible = phonenumbers.is_possible_number_with_reason(number)
    if possible == phonenumbers.ValidationResult.IS_POSSIBLE_LOCAL_ONLY:  # 555 0143: which area's?
        raise InvalidValue("not a valid phone: a local number without its area code")
    if possible != phonenumbers.ValidationResult.IS_POSSIBLE:
        raise InvalidValue("not a valid phone: wrong length for its country")
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return Phone(e164, unverified=not phonenumbers.is_valid_number(number))


@lru_cache(maxsize=_CACHE_SIZE)
def _phone_cached(text: str, opts: NormaliseOptions) -> tuple[Phone | None, str | None]:
    try:
        return _parse_phone(text, opts), None
    except InvalidValue as error:
        return None, error.reason


def _checked_phone(text: str, opts: NormaliseOptions) -> Phone:
    phone, reason = _phone_cached(text, opts)
    if phone is None:
        raise InvalidValue(reason or "not a valid phone")
    return phone


def _phone(text: str, opts: NormaliseOptions) -> str:
    return _checked_phone(text, opts).e164


def normalise_phone(raw: object, opts: NormaliseOptions = NormaliseOptions()) -> Phone | None:
    """A phone in E.164 and whether it is unverified, parsed once (ingest stores both); the E.164 form is
    what ``normalise_identifier("phone", raw)`` gives.

    >>> normalise_phone("07700 900123"), normalise_phone("07911 123456").unverified
    (Phone(e164='+447700900123', unverified=True), False)
    """
    if _is_missing(raw) or not (text := _to_text(raw)):
        return None
    return _checked_phone(text, opts)


_Rule = Callable[[str, NormaliseOptions], str | None]
_IDENTIFIER_RULES: dict[str, _Rule] = {
    "email": _email,
    "phone": _phone,
    "crm_id": lambda text, opts: "".join(text.split()),
    "loyalty_id": lambda text, opts: "".join(text.split()),
    "cookie_id": lambda text, opts: "".join(text.split()).lower(),
    "device_id": lambda text, opts: "".join(text.split()).lower(),
    "national_id": lambda text, opts: re.sub(r"[\s\-]+", "", text).upper(),
}


def _opaque(text: str, opts: NormaliseOptions) -> str:
    return text


@lru_cache(maxsize=_CACHE_SIZE)
def _identifier_cached(id_type: str, text: str, opts: NormaliseOptions) -> _Result:
    try:
        return _IDENTIFIER_RULES.get(id_type, _opaque)(text, opts) or None, None
    except InvalidValue as error:
        return None, error.reason


#: the longest identifier value or record id kept, in UTF-8 bytes: every store indexes them (Neo4j refuses
#: an index key over 8 kB), and no real id comes near it
MAX_KEY_CHARS = 4_000


def normalise_identifier(id_type: str, raw: object, opts: NormaliseOptions = NormaliseOptions()) -> str | None:
    """The stored form of an identifier; types without a rule are opaque, trimmed strings.

    >>> normalise_identifier("phone", "0044 (0)20 7946 0958")
    '+442079460958'
    >>> normalise_identifier("crm_id", 123.0), normalise_identifier("device_id", " AB-12 cd ")
    ('123', 'ab-12cd')
    """
    if _is_missing(raw) or not (text := _to_text(raw)):
        return None
    value, reason = _identifier_cached(id_type, text, opts)
    if reason is not None:
        raise InvalidValue(reason)
    if value is not None and len(value) > MAX_KEY_CHARS // 4 and len(value.encode()) > MAX_KEY_CHARS:
        raise InvalidValue(f"longer than {MAX_KEY_CHARS:,} bytes ({len(value.encode()):,})")
    return value


_NAME_BAD = re.compile(r"[^\w\s'\-.,]|_")
_MONTH_NAMES = ("january", "february", "march", "april", "may", "june", "july", "august", "september",
                "october", "november", "december")  # fmt: skip
_MONTHS = {n: i for i, n in enumerate(_MONTH_NAMES, 1)} | {n[:3]: i for i, n in enumerate(_MONTH_NAMES, 1)}
_MONTHS["sept"] = 9
_SEP = r"[\s\-/.,]*"
_DATE_YMD = re.compile(r"(\d{4})([-/.]?)(\d{1,2})\2(\d{1,2})")
_DATETIME = re.compile(r"(\d{4})-(\d\d?)-(\d\d?)[t ]\d\d?:\d\d(:\d\d([.,]\d+)?)? ?(z|[+-]\d\d(:?\d\d)?)?")
_DATE_NUMERIC = re.compile(r"(\d{1,2})([-/.])(\d{1,2})\2(\d{4})")
_DATE_TWO_DIGIT_YEAR = re.compile(r"\d{1,2}([-/.])\d{1,2}\1\d\d")
_DATE_DAY_FIRST = re.compile(rf"(\d{{1,2}})(?:st|nd|rd|th)?{_SEP}([a-z]+){_SEP}(\d{{4}})")
_DATE_MONTH_FIRST = re.compile(rf"([a-z]+){_SEP}(\d{{1,2}})(?:st|nd|rd|th)?{_SEP}(\d{{4}})")
_UK_POSTCODE = re.compile(r"([A-Z]{1,2}\d[A-Z\d]?)(\d[A-Z]{2})|(GIR)(0AA)")
_GENDERS: dict[str, str | None] = (
    dict.fromkeys(("m", "male", "man"), "M")
    | dict.fromkeys(("f", "female", "woman"), "F")
    | dict.fromkeys(("x", "nb", "non-binary", "nonbinary", "non binary", "other", "diverse"), "X")
    | dict.fromkeys(("u", "unknown", "not known", "unspecified", "not specified", "prefer not to say"), None)
    | dict.fromkeys(("n/a", "na", "-", "?"), None)
)
_OPT_IN = (
    dict.fromkeys(("true", "t", "yes", "y", "1", "on", "opted in", "opt in", "opt-in", "subscribed"), "true")
    | dict.fromkeys(("false", "f", "no", "n", "0", "off", "opted out", "opt out", "opt-out"), "false")
    | {"unsubscribed": "false"}
)


def _title_word(word: str) -> str:
    """Title-case one word unless it is already deliberately cased (``McDonald``, ``DeVito``, ``O'Neil``)."""
    shouting = any(a.isupper() and b.isupper() for a, b in itertools.pairwise(word))
    if word[:1].isupper() and not shouting and word != word.capitalize():
        return word
    # title(), not upper(): a letter whose capital is two ("ß" is "SS", "ﬁ" is "FI") would read as shouting
    # the next time, so the stored form would not be a fixed point
    word = re.sub(r"(?:^|(?<=-))\w", lambda m: m[0].title(), word.lower())  # Anne-Marie
    return re.sub(r"\b(\w)'(\w)(?=\w)", lambda m: f"{m[1]}'{m[2].title()}", word)  # O'Neil, not King'S


def _title(text: str, opts: NormaliseOptions | None = None) -> str:
    return " ".join(_title_word(word) for word in unicodedata.normalize("NFC", text).split())


def _person_name(text: str, opts: NormaliseOptions) -> str:
    text = unicodedata.normalize("NFC", text.replace("\u2019", "'"))
    if any(c.isdigit() for c in text):
        raise InvalidValue("not a valid name: contains digits")
    for bad in _NAME_BAD.finditer(text):
        if not unicodedata.category(bad.group()).startswith("M"):  # combining marks belong to letters
            raise InvalidValue(f"not a valid name: unexpected character {bad.group()!r}")
    if not any(c.isalpha() for c in text):
        raise InvalidValue("not a valid name: no letters")
    return _title(text)


def _card_order(text: str) -> str:
    """Payment cards print ``SURNAME/GIVEN``; a full name reads ``Given Surname``.

    >>> _card_order("SMITH/ANN")
    'ANN SMITH'
    """
    if text.count("/") == 1:
        surname, given = (part.strip() for part in text.split("/"))
        if surname and given:
            return f"{given} {surname}"
    return text


def _checked_date(year: str | int, month: str | int, day: str | int) -> str:
    try:
        return date(int(year), int(month), int(day)).isoformat()
    except ValueError:
        raise InvalidValue(f"impossible date: year {year}, month {month}, day {day}") from None


def _parse_date(text: str, opts: NormaliseOptions) -> str:
    text = _collapse(text.lower())
    if (m := _DATE_YMD.fullmatch(text)) and (m[2] or len(text) == 8):  # 1985-03-12, 1985/3/12, 19850312
        return _checked_date(m[1], m[3], m[4])
    if m := _DATETIME.fullmatch(text):  # the calendar date as written; no time zone conversion
        return _checked_date(m[1], m[2], m[3])
    if m := _DATE_NUMERIC.fullmatch(text):
        day, month = (m[1], m[3]) if opts.date_order == "DMY" else (m[3], m[1])
        return _checked_date(m[4], month, day)
    if (m := _DATE_DAY_FIRST.fullmatch(text)) and m[2] in _MONTHS:
        return _checked_date(m[3], _MONTHS[m[2]], m[1])
    if (m := _DATE_MONTH_FIRST.fullmatch(text)) and m[1] in _MONTHS:
        return _checked_date(m[3], _MONTHS[m[1]], m[2])
    if _DATE_TWO_DIGIT_YEAR.fullmatch(text):
        raise InvalidValue("not a valid date: two-digit year is ambiguous")
    raise InvalidValue("not a valid date: unrecognised format")


def _choice(table: Mapping[str, str | None], what: str) -> _Rule:
    def rule(text: str, opts: NormaliseOptions) -> str | None:
        key = _collapse(text.lower())
        if key not in table:
            raise InvalidValue(f"not a recognised {what}: {text!r}")
        return table[key]

    return rule


def _postcode(text: str, opts: NormaliseOptions) -> str:
    text = _collapse(text.upper())
    if m := _UK_POSTCODE.fullmatch(text.replace(" ", "")):
        return " ".join(g for g in m.groups() if g)
    return text


def _country(text: str, opts: NormaliseOptions) -> str:
    text = _title(text)  # first: a ligature may title-case to a code ("ﬁ" is "Fi"), read as "FI" the next time
    if text.isascii() and text.isalpha() and len(text) in (2, 3):  # ISO 3166 alpha-2 or alpha-3 code
        return text.upper()
    return text


def _timestamp(text: str) -> str:
    """ISO 8601 (a date alone is its midnight) in UTC; a time without a zone is taken as UTC.

    >>> _timestamp("2025-03-01"), _timestamp("2025-03-01T10:00:00+01:00")
    ('2025-03-01T00:00:00Z', '2025-03-01T09:00:00Z')
    """
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidValue(f"not an ISO 8601 time: {text[:40]!r}") from None
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.isoformat(timespec="seconds") + "Z"


_ATTRIBUTE_RULES: dict[str, _Rule] = {
    **dict.fromkeys(("first_name", "middle_name", "last_name"), _person_name),
    "full_name": lambda text, opts: _person_name(_card_order(text), opts),
    **dict.fromkeys(("city", "region", "street", "address_line2"), _title),
    "birth_date": _parse_date,
    "gender": _choice(_GENDERS, "gender"),
    "email_opt_in": _choice(_OPT_IN, "yes/no value"),
    **{f"consent_{purpose}": _choice(_OPT_IN, "yes/no value") for purpose in PURPOSES},
    **{f"consent_{purpose}_at": lambda text, opts: _timestamp(text) for purpose in PURPOSES},
    "postcode": _postcode,
    "country": _country,
}


@lru_cache(maxsize=_CACHE_SIZE)
def _attribute_cached(name: str, text: str, opts: NormaliseOptions) -> _Result:
    rule = _ATTRIBUTE_RULES.get(name, _parse_date if name.endswith("_date") else _opaque)
    try:
        return rule(text, opts) or None, None
    except InvalidValue as error:
        return None, error.reason


def normalise_attribute(name: str, raw: object, opts: NormaliseOptions = NormaliseOptions()) -> str | None:
    """The stored form of a profile attribute; names without a rule are custom attributes, trimmed text.

    >>> normalise_attribute("last_name", "  o'neil-SMITH "), normalise_attribute("postcode", "sw1a1aa")
    ("O'Neil-Smith", 'SW1A 1AA')
    >>> normalise_attribute("birth_date", "March 12, 1985"), normalise_attribute("gender", "Female")
    ('1985-03-12', 'F')
    """
    if _is_missing(raw):
        return None
    value: str | None
    if isinstance(raw, date) and name.endswith("_date"):  # datetime and pd.Timestamp are dates too
        value = (raw.date() if isinstance(raw, datetime) else raw).isoformat()
    elif not (text := _to_text(raw)):
        return None
    else:
        value, reason = _attribute_cached(name, text, opts)
        if reason is not None:
            raise InvalidValue(reason)
    if value is not None and name == "birth_date":  # checked outside the cache: "today" moves on
        if value > date.today().isoformat():
            raise InvalidValue(f"birth date {value} is in the future")
        if value < "1900-01-01":
            raise InvalidValue(f"birth date {value} is before 1900")
    return value


def name_key(value: str) -> str:
    """Matching key for a name: ASCII, lowercase, letters and single spaces; a hyphen separates words.

    >>> name_key("José  O'Neil"), name_key("Anne-Marie"), name_key("ZOË smith-jones ")
    ('jose oneil', 'anne marie', 'zoe smith jones')
    """
    return " ".join(re.sub(r"[^a-z\s]", "", unidecode(value).lower().replace("-", " ")).split())


PLACEHOLDER_VALUES: dict[str, frozenset[str]] = {
    "*": frozenset({"n/a", "na", "none", "null", "unknown", "test", "0", "-", "x", "xxx", "00000000",
                    "123456789", "undefined", "nan"}),
    "email": frozenset({"test@test.com", "test@example.com", "noemail@noemail.com", "none@none.com",
                        "na@na.com", "no@email.com", "info@example.com", "a@a.com", "x@x.com", "xx@xx.com",
                        "xxx@xxx.com", "email@email.com", "abc@abc.com", "asdf@asdf.com", "user@domain.com",
                        "name@domain.com", "test@gmail.com"}),
    # E.164; most are in no assigned range, so they would be kept as unverified phones without this list
    "phone": frozenset({"+441234567890", "+447700900000", "+447000000000", "+442000000000", "+447123456789",
                        "+15555555555", "+10000000000", "+11234567890", "+12345678901"}),
    # HMRC's published example NINO, a common NINO example, and the SSN printed on a 1938 wallet insert.
    "national_id": frozenset({"QQ123456C", "AB123456C", "AA000000A", "000000000", "078051120"}),
}  # fmt: skip
_PLACEHOLDER_LOCAL_PARTS = frozenset({
    "test", "noemail", "none", "na", "unknown", "no", "null", "donotreply", "noreply", "no-reply",
    "do-not-reply", "nomail", "no.email", "invalid", "notprovided", "not.provided", "dummy", "fake",
})  # fmt: skip
_RESERVED_EMAIL_DOMAINS = ("example.com", "example.org", "example.net")  # RFC 2606
_SEQUENTIAL_DIGITS = ("01234567890123456789", "98765432109876543210")


def _national_number(e164: str) -> str:
    digits = e164.lstrip("+")
    for size in (1, 2, 3):  # country codes form a prefix code: the first known prefix is the one
        # isdecimal, not isdigit: "²" is a digit that int() refuses
        if digits[:size].isdecimal() and int(digits[:size]) in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
            return digits[size:]
    return digits


def is_placeholder(id_type: str, normalised_value: str) -> bool:
    """Whether an already normalised identifier is junk that must not link records together.

    >>> is_placeholder("email", "noreply@shop.co.uk"), is_placeholder("phone", "+447777777777")
    (True, True)
    >>> is_placeholder("crm_id", "NULL"), is_placeholder("crm_id", "111"), is_placeholder("crm_id", "000")
    (True, False, True)
    >>> is_placeholder("loyalty_id", "LC0000000000"), is_placeholder("loyalty_id", "LC1818027954")
    (True, False)
    """
    value = normalised_value.strip()
    if value.lower() in PLACEHOLDER_VALUES["*"] or value in PLACEHOLDER_VALUES.get(id_type, ()):
        return True
    if id_type == "email":
        local, _, domain = value.lower().rpartition("@")
        reserved = any(domain == d or domain.endswith("." + d) for d in _RESERVED_EMAIL_DOMAINS)
        return local in _PLACEHOLDER_LOCAL_PARTS or reserved
    if id_type == "phone":
        national = _national_number(value)
        sequential = len(national) >= 7 and any(national in run for run in _SEQUENTIAL_DIGITS)
        return (national.isdigit() and len(set(national)) == 1) or sequential
    # Short keys of one digit (7, 111, 2222) are real rows in many CRMs; zeros and long runs are not,
    # behind a letter prefix too (LC0000000000: a card scheme's prefix on a blank number).
    digits = value.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_")
    return digits.isdigit() and len(set(digits)) == 1 and (digits[0] == "0" or len(digits) >= 6)
