"""Property-based tests (hypothesis) of every normaliser in :mod:`ingest.normalise`.

The table tests in ``test_normalise.py`` pin chosen values; these throw arbitrary text at every rule to check
the promises ingest and the API rely on for *any* input: a normaliser returns a string or ``None`` or raises
:class:`InvalidValue` with a one-line reason, never another exception (one bad cell must not stop an ingest);
the stored form is a fixed point (normalising it again changes nothing, so a value read back from the store,
an export or the API looks up the same identifier); and the forms of one value that people write (case,
spacing, national or international phone numbers, date formats, postcode spacing) meet in one stored form.
"""

from __future__ import annotations

import re
import string
import unicodedata
import warnings
from collections.abc import Callable
from datetime import date, datetime, time

import phonenumbers
import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from phonenumbers import PhoneNumberFormat, PhoneNumberType

from graph.errors import CdpError
from ingest.config import IDENTIFIER_TYPES, PURPOSES, STANDARD_ATTRIBUTES
from ingest.normalise import (
    _ATTRIBUTE_RULES,
    _IDENTIFIER_RULES,
    _MONTH_NAMES,
    _PLACEHOLDER_LOCAL_PARTS,
    PLACEHOLDER_VALUES,
    InvalidValue,
    NormaliseOptions,
    Phone,
    is_placeholder,
    name_key,
    normalise_attribute,
    normalise_identifier,
    normalise_phone,
)

#: modest example counts (the file runs in seconds); no example database written into the working tree, and
#: a failure prints the blob that reproduces it
SETTINGS = settings(
    max_examples=200, deadline=None, database=None, print_blob=True, suppress_health_check=[HealthCheck.too_slow]
)
OPTIONS = [NormaliseOptions(), NormaliseOptions(default_region="US", date_order="MDY"), NormaliseOptions("DE")]

#: every built-in identifier type, and one without a rule (opaque, trimmed text)
ID_TYPES = [*IDENTIFIER_TYPES, "membership_no"]
#: every standard attribute, a custom date (``*_date`` reads as a date) and a custom attribute (trimmed text)
ATTRIBUTES = [*STANDARD_ATTRIBUTES, "signup_date", "favourite_colour",
              *(f"consent_{p}{at}" for p in PURPOSES for at in ("", "_at"))]  # fmt: skip
PERSON_NAMES = ("first_name", "middle_name", "last_name", "full_name")
TITLED = ("city", "region", "street", "address_line2")

#: any text Python can hold: control characters, combining marks, lone surrogates (readers drop those, but a
#: normaliser called from the API or a notebook must still cope)
ANY_TEXT = st.text(st.characters(codec=None), max_size=40)
#: text made of what the rules look for, so the generated values reach past the first check of each rule
SHAPED_TEXT = st.text(
    st.sampled_from("0123456789+-()/.,:@ _'\t\n\u00a0\u200bAaBbEeGgMmSsTtXxZzÉéßøİıǅﬁ\u2019ⅫΣς٣²"), max_size=30
)
RAW_TEXT = ANY_TEXT | SHAPED_TEXT
#: values that are not text, as pandas columns deliver them
RAW_OTHER = st.none() | st.booleans() | st.integers() | st.floats() | st.dates() | st.datetimes()

ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
E164 = re.compile(r"\+[1-9]\d{1,16}")
UK_POSTCODE = re.compile(r"[A-Z]{1,2}\d[A-Z\d]? \d[A-Z]{2}")


def _outcome(call: Callable[[], object]) -> object:
    """The value a normaliser returns, or its ``InvalidValue``; any other exception fails the test.

    A reason is for a rejects file and an API error: one line, never empty."""
    try:
        return call()
    except InvalidValue as error:
        assert isinstance(error, CdpError) and isinstance(error, ValueError)
        assert error.reason and error.reason == str(error)
        assert len(error.reason.splitlines()) == 1, f"reason spans lines: {error.reason!r}"
        return error


def _value(result: object) -> str | None:
    assert result is None or isinstance(result, str | InvalidValue), f"unexpected result {result!r}"
    return None if isinstance(result, InvalidValue) else result


def _single_spaced(text: str) -> bool:
    return text == " ".join(text.split())


# ---------------------------------------------------------------- every identifier type


def test_the_tested_types_cover_every_rule() -> None:
    """If a rule is added to normalise.py, it must be added to the lists these properties run over."""
    assert set(_IDENTIFIER_RULES) <= set(ID_TYPES)
    assert set(_ATTRIBUTE_RULES) <= set(ATTRIBUTES)


@SETTINGS
@given(id_type=st.sampled_from(ID_TYPES), raw=RAW_TEXT | RAW_OTHER, opts=st.sampled_from(OPTIONS))
def test_identifier_is_text_none_or_invalid_value_and_a_fixed_point(
    id_type: str, raw: object, opts: NormaliseOptions
) -> None:
    value = _value(_outcome(lambda: normalise_identifier(id_type, raw, opts)))
    if value is None:
        return
    assert value and value == value.strip(), "a stored identifier is trimmed and never empty"
    assert normalise_identifier(id_type, value, opts) == value, "normalising a stored identifier changed it"


@SETTINGS
@given(id_type=st.sampled_from(["crm_id", "loyalty_id", "cookie_id", "device_id", "national_id"]), raw=RAW_TEXT)
def test_opaque_ids_lose_all_whitespace(id_type: str, raw: str) -> None:
    value = _value(_outcome(lambda: normalise_identifier(id_type, raw)))
    assume(value is not None)
    assert not any(c.isspace() for c in value)
    spaced = " \t".join(raw)  # whitespace anywhere in an id is copy-paste noise
    assert normalise_identifier(id_type, spaced) == value


@SETTINGS
@given(id_type=st.sampled_from(["cookie_id", "device_id", "national_id"]), raw=st.text(string.printable, min_size=1))
def test_case_insensitive_ids_ignore_the_case_they_were_written_in(id_type: str, raw: str) -> None:
    value = normalise_identifier(id_type, raw)
    assert normalise_identifier(id_type, raw.swapcase()) == value
    if value is not None:
        assert value == (value.upper() if id_type == "national_id" else value.lower())


@SETTINGS
@given(raw=st.text(st.sampled_from("ab12 -\t"), max_size=20))
def test_national_ids_drop_hyphens_and_spaces(raw: str) -> None:
    value = normalise_identifier("national_id", raw)
    assert value is None or not re.search(r"[\s\-]", value)
    assert normalise_identifier("national_id", raw.replace("-", " ")) == value


@SETTINGS
@given(raw=RAW_TEXT)
def test_unknown_identifier_types_keep_text_as_is_but_trimmed(raw: str) -> None:
    value = normalise_identifier("membership_no", raw)
    pasted = raw.translate(dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff")))  # zero-width junk goes
    assert value is None or (value in pasted and value == value.strip())


# ---------------------------------------------------------------- email


@SETTINGS
@given(raw=RAW_TEXT | st.emails(), opts=st.sampled_from(OPTIONS))
@example(raw="A@B.CO", opts=NormaliseOptions())
def test_a_normalised_email_is_lower_case_with_one_at_sign(raw: str, opts: NormaliseOptions) -> None:
    value = _value(_outcome(lambda: normalise_identifier("email", raw, opts)))
    if value is None:
        return
    assert value == value.lower()
    assert value.count("@") == 1
    local, domain = value.split("@")
    assert local and "." in domain
    assert not any(c.isspace() for c in value)


@st.composite
def _email_variants(draw: st.DrawFn) -> tuple[str, str]:
    """A valid address and the same address as people type it: any case, spaces or zero-width junk around it,
    a ``mailto:``."""
    address = draw(st.emails())
    flips = draw(st.lists(st.booleans(), min_size=len(address), max_size=len(address)))
    cased = "".join(c.swapcase() if flip else c for c, flip in zip(address, flips, strict=True))
    prefix = draw(st.sampled_from(["", "mailto:", "MAILTO:", "MailTo:"]))
    before, after = (
        draw(st.sampled_from([" \t\u200b", "\n", "\u00a0", ""])),
        draw(st.sampled_from(["\ufeff ", "\r\n", ""])),
    )
    return address, f"{before}{prefix}{cased}{after}"


@SETTINGS
@given(pair=_email_variants())
def test_the_same_email_written_differently_normalises_identically(pair: tuple[str, str]) -> None:
    address, variant = pair
    value = _value(_outcome(lambda: normalise_identifier("email", address)))
    assume(value is not None)  # st.emails() may draw a special-use domain (.local) that is refused
    assert normalise_identifier("email", variant) == value
    if "xn--" not in address.lower():  # punycode reads as its Unicode form; other ASCII is only lower-cased
        assert value == address.lower()


# ---------------------------------------------------------------- phone


@SETTINGS
@given(raw=RAW_TEXT | st.from_regex(r"(\+|00|tel:)?[0-9 ()\-]{3,20}", fullmatch=True), opts=st.sampled_from(OPTIONS))
def test_a_phone_is_e164_and_agrees_with_the_identifier_rule(raw: str, opts: NormaliseOptions) -> None:
    phone = _outcome(lambda: normalise_phone(raw, opts))
    identifier = _outcome(lambda: normalise_identifier("phone", raw, opts))
    if not isinstance(phone, Phone):
        assert phone is None or isinstance(phone, InvalidValue)
        assert type(identifier) is type(phone)
        return
    assert E164.fullmatch(phone.e164), phone
    assert identifier == phone.e164
    again = normalise_phone(phone.e164, opts)
    assert again == phone, "a phone in E.164 normalises to itself, whatever the default region"
    assert normalise_phone(phone.e164, NormaliseOptions("JP")) == phone


SUPPORTED = sorted(phonenumbers.SUPPORTED_REGIONS)


@st.composite
def _phone_number(draw: st.DrawFn) -> tuple[str, phonenumbers.PhoneNumber]:
    """A region and a possible number of it: the region's example mobile or fixed line number with its last
    digits replaced (same length, so still possible; valid or not)."""
    region = draw(st.sampled_from(SUPPORTED))
    kind = draw(st.sampled_from([PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE]))
    example_number = phonenumbers.example_number_for_type(region, kind)
    assume(example_number is not None)
    national = str(example_number.national_number)
    tail = draw(st.integers(0, min(3, len(national) - 1)))
    digits = national[: len(national) - tail] + draw(st.text("0123456789", min_size=tail, max_size=tail))
    number = phonenumbers.PhoneNumber(
        country_code=example_number.country_code,
        national_number=int(digits),
        italian_leading_zero=example_number.italian_leading_zero,
        number_of_leading_zeros=example_number.number_of_leading_zeros,
    )
    assume(phonenumbers.is_possible_number(number))
    return region, number


@SETTINGS
@given(drawn=_phone_number(), separator=st.sampled_from([" ", "-", ".", "", "  "]))
def test_a_number_written_nationally_or_internationally_normalises_identically(
    drawn: tuple[str, phonenumbers.PhoneNumber], separator: str
) -> None:
    region, number = drawn
    opts = NormaliseOptions(default_region=region)
    e164 = phonenumbers.format_number(number, PhoneNumberFormat.E164)
    international = phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)
    national = phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL)
    forms = [
        e164,
        international,
        international.replace(" ", separator),
        "00" + e164[1:],
        phonenumbers.format_number(number, PhoneNumberFormat.RFC3966),  # tel:+44-...
        f" {national} ",
    ]
    phones = {form: normalise_phone(form, opts) for form in forms}
    assert {p.e164 for p in phones.values() if p} == {e164}, phones
    assert all(phones.values()), phones
    assert {p.unverified for p in phones.values() if p} == {not phonenumbers.is_valid_number(number)}
    # the international forms do not depend on the default region
    other = "GB" if region not in ("GB", "GG", "IM", "JE") else "US"
    assert normalise_identifier("phone", e164, NormaliseOptions(other)) == e164


# ---------------------------------------------------------------- every attribute


@SETTINGS
@given(name=st.sampled_from(ATTRIBUTES), raw=RAW_TEXT | RAW_OTHER, opts=st.sampled_from(OPTIONS))
@example(name="city", raw="ßa", opts=NormaliseOptions())  # upper-cased "SSa" read back as shouting: "Ssa"
@example(name="country", raw="ﬁ", opts=NormaliseOptions())  # a ligature that title-cases to ASCII "Fi"
@example(name="last_name", raw="o'ßx", opts=NormaliseOptions())
def test_attribute_is_text_none_or_invalid_value_and_a_fixed_point(
    name: str, raw: object, opts: NormaliseOptions
) -> None:
    value = _value(_outcome(lambda: normalise_attribute(name, raw, opts)))
    if value is None:
        return
    assert value and value == value.strip()
    assert normalise_attribute(name, value, opts) == value, "normalising a stored attribute changed it"


@SETTINGS
@given(name=st.sampled_from(PERSON_NAMES), raw=RAW_TEXT | st.text(st.characters(categories=["L", "Zs"]), max_size=30))
def test_a_person_name_has_letters_no_digits_and_single_spaces(name: str, raw: str) -> None:
    value = _value(_outcome(lambda: normalise_attribute(name, raw)))
    if value is None:
        return
    assert any(c.isalpha() for c in value)
    assert not any(c.isdigit() for c in value)
    assert _single_spaced(value)
    assert "/" not in value  # a card's SURNAME/GIVEN was turned round


@SETTINGS
@given(name=st.sampled_from(TITLED), raw=RAW_TEXT)
def test_places_are_title_cased_and_single_spaced(name: str, raw: str) -> None:
    value = _value(_outcome(lambda: normalise_attribute(name, raw)))
    assume(value is not None)
    assert _single_spaced(value)
    for word in value.split():  # a first letter with an upper case is in it (ĸ, kra, has none)
        assert not (word[0].islower() and word[0].upper() != word[0]), word


@SETTINGS
@given(words=st.lists(st.text(string.ascii_letters, min_size=1, max_size=8), min_size=1, max_size=4))
def test_ascii_names_are_case_insensitive_and_capitalised(words: list[str]) -> None:
    """ "ANN SMITH" and "ann smith" are one name; a deliberately cased word (McDonald) may be kept, so only the
    first letter of each word is promised."""
    text = " ".join(words)
    shouted, quiet = normalise_attribute("first_name", text.upper()), normalise_attribute("first_name", text.lower())
    assert shouted == quiet
    assert shouted is not None and all(word[0].isupper() for word in shouted.split())
    assert shouted.lower() == text.lower()


def _valid_dates() -> st.SearchStrategy[date]:
    return st.dates(min_value=date(1900, 1, 1), max_value=date.today())


@SETTINGS
@given(name=st.sampled_from(["birth_date", "signup_date"]), raw=RAW_TEXT | RAW_OTHER, opts=st.sampled_from(OPTIONS))
def test_a_normalised_date_is_a_real_iso_calendar_date(name: str, raw: object, opts: NormaliseOptions) -> None:
    value = _value(_outcome(lambda: normalise_attribute(name, raw, opts)))
    if value is None:
        return
    assert ISO_DATE.fullmatch(value), value
    parsed = date.fromisoformat(value)  # a real calendar date, not 2025-02-30
    if name == "birth_date":
        assert date(1900, 1, 1) <= parsed <= date.today()


@st.composite
def _written_date(draw: st.DrawFn) -> tuple[date, str, NormaliseOptions]:
    """A date and one way people write it, with the options under which that writing is unambiguous."""
    day = draw(_valid_dates())
    month = _MONTH_NAMES[day.month - 1]
    month_name = draw(st.sampled_from([month, month[:3], month.upper(), month.capitalize()]))
    dmy, mdy = NormaliseOptions(date_order="DMY"), NormaliseOptions(date_order="MDY")
    sep = draw(st.sampled_from(["/", "-", "."]))
    forms = [
        (day.isoformat(), dmy),
        (day.isoformat(), mdy),
        (day.strftime("%Y%m%d"), dmy),
        (f"{day.year}/{day.month}/{day.day}", dmy),
        (f"{day.day}{sep}{day.month}{sep}{day.year}", dmy),
        (f"{day.day:02}{sep}{day.month:02}{sep}{day.year}", dmy),
        (f"{day.month}{sep}{day.day}{sep}{day.year}", mdy),
        (f"{day.day} {month_name} {day.year}", dmy),
        (f"{day.day}th of {month_name}, {day.year}".replace(" of", ""), mdy),
        (f"{month_name} {day.day}, {day.year}", dmy),
        (f"{day.isoformat()}T{draw(st.times()).isoformat(timespec='seconds')}Z", dmy),
        (f"  {day.isoformat()} 23:59  ", dmy),
    ]
    raw, opts = draw(st.sampled_from(forms))
    return day, raw, opts


@SETTINGS
@given(drawn=_written_date())
def test_a_date_written_any_usual_way_normalises_to_its_iso_form(drawn: tuple[date, str, NormaliseOptions]) -> None:
    day, raw, opts = drawn
    assert normalise_attribute("birth_date", raw, opts) == day.isoformat()
    assert normalise_attribute("signup_date", raw, opts) == day.isoformat()


@SETTINGS
@given(day=_valid_dates(), moment=st.times())
def test_date_and_datetime_objects_give_the_calendar_date(day: date, moment: time) -> None:
    assert normalise_attribute("birth_date", day) == day.isoformat()
    assert normalise_attribute("birth_date", datetime.combine(day, moment)) == day.isoformat()


@SETTINGS
@given(day=st.dates(min_value=date(1000, 1, 1)), opts=st.sampled_from(OPTIONS))
def test_birth_dates_outside_1900_to_today_are_refused(day: date, opts: NormaliseOptions) -> None:
    result = _outcome(lambda: normalise_attribute("birth_date", day.isoformat(), opts))
    if date(1900, 1, 1) <= day <= date.today():
        assert result == day.isoformat()
    else:
        assert isinstance(result, InvalidValue)
        assert normalise_attribute("signup_date", day.isoformat(), opts) == day.isoformat()  # no range


@SETTINGS
@given(raw=RAW_TEXT)
def test_gender_and_opt_in_are_closed_vocabularies(raw: str) -> None:
    assert _value(_outcome(lambda: normalise_attribute("gender", raw))) in (None, "M", "F", "X")
    assert _value(_outcome(lambda: normalise_attribute("email_opt_in", raw))) in (None, "true", "false")
    assert _value(_outcome(lambda: normalise_attribute("consent_sms", raw))) in (None, "true", "false")
    stamped = _value(_outcome(lambda: normalise_attribute("consent_ads_at", raw)))
    assert stamped is None or re.fullmatch(r"-?\d{4,}-\d\d-\d\dT\d\d:\d\d:\d\dZ", stamped), stamped


@SETTINGS
@given(
    name_word=st.sampled_from([("gender", "Non-Binary"), ("gender", "female"), ("email_opt_in", "Opted In")]),
    flips=st.lists(st.booleans(), min_size=10, max_size=10),
    pad=st.sampled_from(["", " ", "\t", "\u00a0"]),
)
def test_vocabulary_words_are_read_in_any_case_and_spacing(
    name_word: tuple[str, str], flips: list[bool], pad: str
) -> None:
    name, word = name_word
    cased = "".join(c.swapcase() if flip else c for c, flip in zip(word, flips, strict=False))
    spaced = pad + cased.replace(" ", "  ") + pad
    assert normalise_attribute(name, spaced) == normalise_attribute(name, word) is not None


@st.composite
def _uk_postcode(draw: st.DrawFn) -> str:
    letters = st.text(string.ascii_uppercase, min_size=1, max_size=1)
    area = draw(letters) + draw(st.sampled_from(["", draw(letters)]))
    district = draw(st.sampled_from(string.digits)) + draw(st.sampled_from(["", *string.digits, *"ABEHMNPRVWXY"]))
    inward = draw(st.sampled_from(string.digits)) + draw(letters) + draw(letters)
    return f"{area}{district} {inward}"


@SETTINGS
@given(postcode=_uk_postcode(), spacing=st.sampled_from(["", " ", "  ", "\t"]), lower=st.booleans())
def test_uk_postcodes_meet_in_one_form_whatever_the_spacing(postcode: str, spacing: str, lower: bool) -> None:
    outward, inward = postcode.split()
    written = f" {outward}{spacing}{inward} "
    value = normalise_attribute("postcode", written.lower() if lower else written)
    assert value == postcode
    assert UK_POSTCODE.fullmatch(value)


@SETTINGS
@given(raw=RAW_TEXT)
def test_any_postcode_is_upper_case_and_single_spaced(raw: str) -> None:
    value = _value(_outcome(lambda: normalise_attribute("postcode", raw)))
    assume(value is not None)
    assert value == value.upper() and _single_spaced(value)


@SETTINGS
@given(code=st.text(string.ascii_letters, min_size=2, max_size=3), pad=st.sampled_from(["", " ", "\t"]))
def test_country_codes_are_upper_case(code: str, pad: str) -> None:
    assert normalise_attribute("country", f"{pad}{code}{pad}") == code.upper()


# ---------------------------------------------------------------- name_key


@SETTINGS
@given(raw=st.text(max_size=40) | SHAPED_TEXT)
def test_name_key_is_ascii_lower_letters_and_single_spaces(raw: str) -> None:
    key = name_key(raw)
    assert re.fullmatch(r"([a-z]+( [a-z]+)*)?", key), key
    assert name_key(key) == key


def test_name_key_ignores_lone_surrogates() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # unidecode says it drops them
        assert name_key("Ann\ud800 Smith") == "ann smith"


#: Latin letters with and without accents: unidecode reads their composed and decomposed forms alike (the
#: micro sign is a Greek letter in Latin-1: unidecode reads it "u", its capital, Greek Mu, "M")
LATIN = st.text(
    st.characters(min_codepoint=0x41, max_codepoint=0x17F, categories=["Lu", "Ll"], exclude_characters="µ"),
    min_size=1,
    max_size=10,
)


@SETTINGS
@given(words=st.lists(LATIN, min_size=1, max_size=3), joiner=st.sampled_from([" ", "-", "  ", " - "]))
def test_name_key_ignores_case_accents_form_and_hyphens(words: list[str], joiner: str) -> None:
    key = name_key(" ".join(words))
    written = joiner.join(words)
    assert name_key(written.upper()) == name_key(written.lower()) == key
    assert name_key(unicodedata.normalize("NFD", written)) == name_key(unicodedata.normalize("NFC", written)) == key


# ---------------------------------------------------------------- is_placeholder


@SETTINGS
@given(id_type=st.sampled_from(ID_TYPES), value=RAW_TEXT)
@example(id_type="phone", value="+²")  # a digit to str.isdigit(), not to int()
def test_is_placeholder_answers_for_any_text(id_type: str, value: str) -> None:
    assert isinstance(is_placeholder(id_type, value), bool)


@pytest.mark.parametrize("id_type", ID_TYPES)
def test_every_listed_placeholder_is_one_in_any_case(id_type: str) -> None:
    for value in PLACEHOLDER_VALUES["*"] | PLACEHOLDER_VALUES.get(id_type, frozenset()):
        assert is_placeholder(id_type, value), value
    for value in PLACEHOLDER_VALUES["*"]:
        assert is_placeholder(id_type, value.upper()) and is_placeholder(id_type, f" {value} ")


@SETTINGS
@given(
    local=st.sampled_from(sorted(_PLACEHOLDER_LOCAL_PARTS))
    | st.from_regex(r"[a-z]{2,8}@example\.(com|org|net)", fullmatch=True),
    domain=st.sampled_from(["gmail.com", "shop.co.uk", "mail.example.com"]),
)
def test_junk_emails_are_placeholders(local: str, domain: str) -> None:
    address = local if "@" in local else f"{local}@{domain}"
    assert is_placeholder("email", normalise_identifier("email", address) or "")
    assert is_placeholder("email", address.upper())


@SETTINGS
@given(
    local=st.from_regex(r"[a-z]{4,10}\.[a-z]{2,10}", fullmatch=True),
    domain=st.sampled_from(["gmail.com", "shop.co.uk"]),
)
def test_ordinary_emails_are_not_placeholders(local: str, domain: str) -> None:
    assume(local not in _PLACEHOLDER_LOCAL_PARTS)
    assert not is_placeholder("email", f"{local}@{domain}")


@SETTINGS
@given(drawn=_phone_number(), digit=st.sampled_from(string.digits))
def test_a_phone_of_one_repeated_digit_is_a_placeholder(
    drawn: tuple[str, phonenumbers.PhoneNumber], digit: str
) -> None:
    _, number = drawn
    national = phonenumbers.national_significant_number(number)
    junk = f"+{number.country_code}{digit * len(national)}"
    assert is_placeholder("phone", junk)
    e164 = phonenumbers.format_number(number, PhoneNumberFormat.E164)
    if len(set(national)) > 1 and not any(national in run for run in ("01234567890123456789", "98765432109876543210")):
        assert not is_placeholder("phone", e164) or e164 in PLACEHOLDER_VALUES["phone"]


@SETTINGS
@given(
    id_type=st.sampled_from(["crm_id", "loyalty_id", "membership_no"]),
    prefix=st.text(string.ascii_uppercase, max_size=3),
    digit=st.sampled_from(string.digits),
    size=st.integers(1, 14),
)
def test_keys_of_one_repeated_digit(id_type: str, prefix: str, digit: str, size: int) -> None:
    """Zeros of any length and runs of six or more are blanks; 7, 111 and 2222 are real keys in many CRMs."""
    value = prefix + digit * size
    expected = digit == "0" or size >= 6 or value.lower() in PLACEHOLDER_VALUES["*"]
    assert is_placeholder(id_type, value) is expected
