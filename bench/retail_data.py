"""Held-out evaluation data: a US retailer's CRM, web sessions, till receipts and marketing list, with the truth.

Written without reference to the project's own generator (``ingest.synthetic``) or to the resolver, so no
resolution rule was fitted to it. :func:`generate_retail` writes ``crm.csv``, ``web_sessions.jsonl``,
``receipts.csv``, ``marketing.csv``, ``sources.yaml`` (``default_region: US``, ``date_order: MDY``),
``truth.csv`` (``source,record_id,person_id``, every record once) and ``people.csv`` (who each person is).
The same arguments give byte-identical files.

People live in households of 1-6 (a single adult, a couple, a parent or a couple with children aged 13+) in
36 US cities. Each has a mobile, one or two personal emails over time, browser cookies, maybe a phone app and
a loyalty card. Records per person vary from one to dozens (heavy shoppers have 20+ receipts). Every fill and
noise rate is a named constant below.

Traps, each put there on purpose:

- **Households share identifiers**: a home landline several members give as their phone (CRM, receipts); a
  family email (``thesmiths@...``, ``garciafamily@...``) used for a marketing sign-up and for tablet logins; a
  household tablet whose device id and browser cookie carry sessions logged in as different members; a loyalty
  card other members borrow at the till. Same household, different people.
- **Namesakes**: pairs of people living alone with the same common name, born 15+ years apart in different
  zips (the first pair is a Samuel and a Samantha Taylor, both "Sam Taylor"), and a marketing row holding only
  that name and a placeholder email.
- **Nicknames** across sources (Bob for Robert, Liz for Elizabeth, ...): CRM rows, card names, marketing first
  names, web display names, email addresses.
- **Typos**: letter swaps, dropped, doubled or keyboard-neighbour letters in names and emails; one-digit phone
  typos at the till.
- **Birth dates** with day and month swapped, one digit wrong, or the placeholder ``01/01/1900``.
- **Movers**: a household's old address on its first CRM accounts (and a few old zips elsewhere), the new one
  on later records.
- **Duplicate CRM accounts**: a second crm_id for one person, with a typo'd or nicknamed name, the new address
  and the newer email.
- **Twins**: same birth date, household, surname and address; different first names.
- **Formats**: phones in seven US formats; numbers possible but not assigned (unassigned area codes, an
  exchange starting with 1 after a typo); fictional 555-01xx numbers typed by staff, which repeat across
  people; ZIP+4; zips that lost their leading zero in a spreadsheet; states spelled out; street suffixes
  abbreviated or not; card names in card order (``STEVENS/ROBERT``), with an initial (``R STEVENS``), without
  accents.
- **Case and whitespace**: upper-case, lower-case and padded values.
- **Junk**: ``N/A``, ``unknown``, ``000-000-0000``, placeholder emails (``test@test.com``, ``none@none.com``,
  ``noemail@x.com``).

>>> _typo(_Draw(3), "Katherine") != "Katherine"
True
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

__all__ = ["generate_retail"]

logger = logging.getLogger(__name__)
T = TypeVar("T")
_Row = tuple[str, dict[str, Any]]  # (person id, the row as written)

# --- population -----------------------------------------------------------------------------------------------
REFERENCE_DAY = date(2025, 7, 1)  # "today" for ages; events run up to it
HOUSEHOLD_SIZES = ((1, 2, 3, 4, 5, 6), (0.36, 0.33, 0.14, 0.11, 0.05, 0.01))
SINGLE_PARENT_RATE = 0.2  # households with children headed by one adult
SAME_SEX_COUPLE_RATE = 0.06
PARTNER_SHARES_SURNAME_RATE = 0.75  # otherwise keeps their own (a few hyphenate)
MIDDLE_NAME_RATE = 0.6
FIRST_NAME_SKEW, SURNAME_SKEW = 12, 40  # a name's weight is 1 / (rank + skew): James ~3.5%, Smith ~1.3%
HYPHENATED_RATE = 0.15  # of partners keeping their own surname
TWIN_RATE = 0.04  # of households with two or more children
NAMESAKE_PAIRS_PER_PERSON = 0.006  # pairs of unrelated people living alone given one common name
MOVED_RATE = 0.12  # households with an old address on some records
APARTMENT_RATE = 0.3
ZIP4_RATE, ZIP4_WRITTEN_RATE = 0.15, 0.6  # addresses whose ZIP+4 is known; records of them that write it
DIRECTION_RATE, DIRECTION_SPELLED_RATE = 0.15, 0.3  # "W Oak St"; "West Oak St" on some records
# --- contact points -------------------------------------------------------------------------------------------
MOBILE_RATE = 0.88
LANDLINE_RATE = 0.35  # households of two or more with a home phone
UNASSIGNED_NUMBER_RATE = 0.02  # people whose number is possible but in no assigned range
NO_EMAIL_RATE = 0.08
SECOND_EMAIL_RATE = 0.18  # people who changed email (both are in use on some records)
EMAIL_NICKNAME_RATE = 0.2  # addresses built on the nickname: bob.stevens@...
FAMILY_EMAIL_RATE = 0.2  # households of two or more
TABLET_RATE, TABLET_USER_RATE = 0.12, 0.7  # households of two or more with a shared tablet; members using it
APP_RATE = 0.4  # people with the retailer's phone app (a device id)
LOYALTY_RATE = 0.55  # adults with a loyalty card; teenagers a fifth as often
HEAVY_SHOPPER_RATE = 0.03  # 20+ receipts each
# --- CRM ------------------------------------------------------------------------------------------------------
CRM_RATE = 0.72  # adults with an account; teenagers a third as often
CRM_DUPLICATE_RATE = 0.07
CRM_NICKNAME_RATE = 0.12
CRM_TYPO_RATE, CRM_DUPLICATE_TYPO_RATE = 0.02, 0.4
CRM_MIDDLE_RATE = 0.35  # of people with a middle name: written (in full or as an initial)
CRM_EMAIL_FILL, CRM_PHONE_FILL, CRM_DOB_FILL, CRM_GENDER_FILL, CRM_ADDRESS_FILL = 0.9, 0.8, 0.7, 0.45, 0.85
CRM_HOME_PHONE_RATE = 0.35  # of people in a household with a landline: give it rather than their mobile
CRM_STALE_ADDRESS_RATE = 0.75  # movers' first account keeps the old address
EMAIL_TYPO_RATE = 0.02
FAKE_PHONE_RATE = 0.015  # 555-01xx typed by staff
JUNK_VALUE_RATE = 0.01  # N/A, unknown, 000-000-0000 in a filled field
DOB_SWAP_RATE, DOB_TYPO_RATE, DOB_PLACEHOLDER_RATE = 0.03, 0.02, 0.005
UPPER_RATE, LOWER_RATE, PAD_RATE = 0.04, 0.03, 0.03
# --- web ------------------------------------------------------------------------------------------------------
WEB_RATE = 0.6
SESSIONS_MEAN = 1.3  # extra sessions beyond the first (Poisson)
APP_SESSION_SHARE = 0.5  # of app users' sessions
WEB_LOGIN_RATE, APP_LOGIN_RATE, TABLET_LOGIN_RATE = 0.35, 0.85, 0.6
TABLET_FAMILY_LOGIN_RATE = 0.35  # tablet logins with the family email, when there is one
WEB_NAME_RATE, WEB_NICKNAME_RATE = 0.1, 0.3  # logged-in sessions showing the display first name; a nickname
LOGIN_CAPITALISED_RATE = 0.05  # a phone keyboard capitalised the login email's first letter
LATEST_EMAIL_LOGIN_RATE = 0.8  # logins with the newer of two emails
# --- till receipts --------------------------------------------------------------------------------------------
POS_RATE = 0.72  # people who shop in store
RECEIPTS_MEAN, HEAVY_RECEIPTS_MEAN = 0.9, 12.0  # extra receipts beyond the first (heavy: beyond 20)
LOYALTY_SCAN_RATE, CARD_SPACED_RATE = 0.8, 0.2  # card numbers keyed with spaces: 6045 1234 5678
BORROWED_CARD_RATE = 0.35  # members without a card use the household's
CARD_PAYMENT_RATE = 0.62
TILL_ZIP_RATE, TILL_PHONE_RATE, TILL_PHONE_NO_CARD_RATE = 0.3, 0.08, 0.25
TILL_HOME_PHONE_RATE = 0.5  # of people with a landline at home: give it at the till
CARD_NICKNAME_RATE, CARD_TYPO_RATE, TILL_TYPO_RATE, TILL_OLD_ZIP_RATE = 0.06, 0.02, 0.02, 0.1
# --- marketing ------------------------------------------------------------------------------------------------
MARKETING_RATE = 0.42
MARKETING_BOTH_EMAILS_RATE = 0.4
MARKETING_NICKNAME_RATE = 0.35
MARKETING_FIRST_FILL, MARKETING_LAST_FILL, MARKETING_ZIP_FILL, MARKETING_BIRTHDAY_FILL = 0.9, 0.35, 0.7, 0.2
MARKETING_TYPO_RATE = 0.03
MARKETING_JUNK_RATE, JUNK_NAME_RATE = 0.025, 0.3  # rows with a placeholder email, per person; with name N/A
MARKETING_OLD_ZIP_RATE = 0.3  # movers signed up before they moved
FAMILY_SIGNUP_RATE = 0.6
NAMESAKE_ROW_RATE = 0.7  # namesake pairs with a junk marketing row (always the first pair)
ZIP_LOST_ZERO_RATE = 0.3  # zips starting with 0 read as a number by a spreadsheet
ACCENT_DROP_RATE = 0.4


# --- reference data -------------------------------------------------------------------------------------------
def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


#: city, state, area codes, first and last zip, weight
CITIES = (
    ("New York", "NY", "212 646 917", 10001, 10040, 9), ("Brooklyn", "NY", "718 347 929", 11201, 11239, 7),
    ("Los Angeles", "CA", "213 323 310", 90001, 90068, 8), ("San Francisco", "CA", "415 628", 94102, 94134, 4),
    ("San Jose", "CA", "408 669", 95110, 95139, 3), ("San Diego", "CA", "619 858", 92101, 92130, 4),
    ("Chicago", "IL", "312 773 872", 60601, 60661, 7), ("Springfield", "IL", "217", 62701, 62712, 1),
    ("Houston", "TX", "713 281 832", 77002, 77099, 6), ("Dallas", "TX", "214 469 972", 75201, 75254, 4),
    ("Austin", "TX", "512 737", 78701, 78759, 3), ("Phoenix", "AZ", "602 480 623", 85003, 85054, 4),
    ("Philadelphia", "PA", "215 267", 19102, 19154, 4), ("Pittsburgh", "PA", "412", 15201, 15238, 2),
    ("Seattle", "WA", "206", 98101, 98199, 3), ("Portland", "OR", "503 971", 97201, 97236, 2),
    ("Denver", "CO", "303 720", 80202, 80249, 3), ("Boston", "MA", "617 857", 2108, 2136, 3),
    ("Springfield", "MA", "413", 1101, 1129, 1), ("Atlanta", "GA", "404 470 678", 30303, 30350, 4),
    ("Miami", "FL", "305 786", 33125, 33199, 4), ("Orlando", "FL", "407 321", 32801, 32839, 2),
    ("Minneapolis", "MN", "612", 55401, 55455, 2), ("Detroit", "MI", "313", 48201, 48239, 2),
    ("Columbus", "OH", "614 380", 43201, 43235, 2), ("Nashville", "TN", "615 629", 37201, 37221, 2),
    ("Charlotte", "NC", "704 980", 28202, 28280, 2), ("Salt Lake City", "UT", "801 385", 84101, 84121, 1),
    ("Kansas City", "MO", "816", 64101, 64158, 2), ("Springfield", "MO", "417", 65801, 65810, 1),
    ("Baltimore", "MD", "410 443", 21201, 21239, 2), ("Newark", "NJ", "973 862", 7102, 7114, 2),
    ("Hartford", "CT", "860", 6101, 6120, 1), ("Albuquerque", "NM", "505", 87101, 87123, 1),
    ("Las Vegas", "NV", "702 725", 89101, 89149, 2), ("Madison", "WI", "608", 53703, 53726, 1),
)  # fmt: skip
STATES = {
    code: name.replace("_", " ")
    for code, name in (pair.split(":") for pair in _words(
        "NY:New_York CA:California IL:Illinois TX:Texas AZ:Arizona PA:Pennsylvania WA:Washington OR:Oregon "
        "CO:Colorado MA:Massachusetts GA:Georgia FL:Florida MN:Minnesota MI:Michigan OH:Ohio TN:Tennessee "
        "NC:North_Carolina UT:Utah MO:Missouri MD:Maryland NJ:New_Jersey CT:Connecticut NM:New_Mexico NV:Nevada "
        "WI:Wisconsin"
    ))
}  # fmt: skip
UNASSIGNED_AREA_CODES = ("237", "322", "383", "453", "538", "822")  # look real, assigned to no one
MALE = _words(
    "James Robert John Michael David William Richard Joseph Thomas Christopher Charles Daniel Matthew Anthony Mark "
    "Steven Donald Andrew Paul Joshua Kenneth Kevin Brian George Timothy Ronald Jason Edward Jeffrey Ryan Jacob "
    "Gary Nicholas Eric Jonathan Stephen Larry Justin Scott Brandon Benjamin Samuel Gregory Alexander Patrick Frank "
    "Raymond Jack Dennis Jerry Tyler Aaron José Adam Nathan Henry Zachary Douglas Peter Kyle Noah Ethan Jeremy "
    "Christian Walter Keith Austin Roger Terry Sean Gerald Carl Dylan Harold Jordan Jesse Bryan Lawrence Arthur "
    "Gabriel Bruce Logan Alan Juan Elijah Albert Wayne Randy Mason Vincent Liam Roy Caleb Russell Lucas Luis Carlos "
    "Miguel Wei Rahul Mohammed Hiroshi Andre Marcus Darnell Jamal"
)
FEMALE = _words(
    "Mary Patricia Jennifer Linda Elizabeth Barbara Susan Jessica Sarah Karen Lisa Nancy Betty Margaret Sandra "
    "Ashley Kimberly Emily Donna Michelle Carol Amanda Dorothy Melissa Deborah Stephanie Rebecca Sharon Laura "
    "Cynthia Kathleen Amy Angela Shirley Anna Brenda Pamela Emma Nicole Helen Samantha Katherine Christine Rachel "
    "Carolyn Janet Catherine María Heather Diane Ruth Julie Olivia Joyce Virginia Victoria Kelly Lauren Christina "
    "Joan Evelyn Judith Megan Andrea Cheryl Hannah Jacqueline Martha Gloria Teresa Ann Sara Madison Frances Kathryn "
    "Janice Jean Abigail Alice Judy Sophia Grace Denise Amber Marilyn Danielle Isabella Theresa Diana Natalie "
    "Brittany Charlotte Marie Kayla Alexis Alexandra Priya Mei Fatima Sofía Zoë Aaliyah Keisha Mónica"
)
SURNAMES = _words(
    "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez Gonzalez Wilson "
    "Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris Sanchez Clark Ramirez Lewis "
    "Robinson Walker Young Allen King Wright Scott Torres Nguyen Hill Flores Green Adams Nelson Baker Hall Rivera "
    "Campbell Mitchell Carter Roberts Gomez Phillips Evans Turner Diaz Parker Cruz Edwards Collins Reyes Stewart "
    "Morris Morales Murphy Cook Rogers Gutierrez Ortiz Morgan Cooper Peterson Bailey Reed Kelly Howard Ramos Kim "
    "Cox Ward Richardson Watson Brooks Chavez Wood James Bennett Gray Mendoza Ruiz Hughes Price Alvarez Castillo "
    "Sanders Patel Myers Long Ross Foster Jimenez Powell Jenkins Perry Russell Sullivan Bell Coleman Butler "
    "Henderson Barnes Fisher Vasquez Simmons Romero Jordan Patterson Hamilton Graham Reynolds Griffin Wallace "
    "Moreno West Cole Hayes Bryant Herrera Gibson Ellis Tran Medina Aguilar Stevens Murray Ford Castro Marshall "
    "Owens Harrison Fernandez McDonald Woods Washington Kennedy Wells Vargas Henry Chen Freeman Webb Tucker Guzman "
    "Burns Crawford Olson Simpson Porter Hunter Gordon Mendez Silva Shaw Snyder Mason Dixon Muñoz Hunt Hicks "
    "Holmes Palmer Wagner Black Robertson Boyd Rose Stone Salazar Fox Warren Mills Meyer Rice Schmidt Garza "
    "Daniels Ferguson Nichols Stephens Soto Weaver Ryan Gardner Payne Grant Dunn Spencer Hawkins Arnold Pierce "
    "Hansen Peters Santos Hart Bradley Knight Elliott Cunningham Duncan Armstrong Hudson Carroll Lane Riley "
    "Andrews Alvarado Ray Delgado Berry Perkins Hoffman Johnston Matthews Peña Richards Montgomery O'Brien "
    "O'Connor MacDonald Nowak Kowalski Schultz Yamamoto Singh Shah Wong DeLuca"
)
NICKNAMES = {
    formal: tuple(short.split("/"))
    for formal, short in (pair.split(":") for pair in _words(
        "Robert:Bob/Rob/Bobby William:Bill/Will/Billy James:Jim/Jimmy/Jamie Michael:Mike Richard:Rick/Rich "
        "Thomas:Tom/Tommy Christopher:Chris Anthony:Tony Joseph:Joe/Joey Daniel:Dan/Danny Matthew:Matt David:Dave "
        "Steven:Steve Edward:Ed/Eddie/Ted Charles:Charlie/Chuck Samuel:Sam Benjamin:Ben Alexander:Alex "
        "Nicholas:Nick Andrew:Andy/Drew Jonathan:Jon Timothy:Tim Patrick:Pat Gregory:Greg Kenneth:Ken "
        "Zachary:Zach Jacob:Jake Nathan:Nate Jennifer:Jen/Jenny Elizabeth:Liz/Beth/Lizzie Katherine:Kate/Katie/Kathy "
        "Margaret:Maggie/Peggy/Meg Samantha:Sam Alexandra:Alex/Lexi Christine:Chris/Chrissy Patricia:Pat/Patty/Trish "
        "Rebecca:Becky Susan:Sue/Suzy Deborah:Deb/Debbie Victoria:Vicky/Tori Jessica:Jess Kimberly:Kim "
        "Stephanie:Steph Abigail:Abby Jacqueline:Jackie Cynthia:Cindy Pamela:Pam Theresa:Tess Catherine:Cathy"
    ))
}  # fmt: skip
STREETS = _words(
    "Main Oak Maple Cedar Pine Elm Washington Lake Hill Park Walnut Spring Highland Sunset Lincoln Church Willow "
    "Meadow Forest River Ridge Valley Franklin Jefferson Madison Chestnut Cherry Birch Magnolia Hickory Laurel Mill "
    "Center Union Broad Market Water Grove Orchard Prospect Summit Fairview Lakeview Riverside Woodland Colonial "
    "1st 2nd 3rd 5th 7th 10th 12th 23rd 34th 86th"
)
SUFFIXES = (("Street", "St", "St."), ("Avenue", "Ave", "Ave."), ("Road", "Rd", "Rd."), ("Drive", "Dr", "Dr."),
            ("Lane", "Ln"), ("Boulevard", "Blvd"), ("Court", "Ct"), ("Place", "Pl"), ("Way",), ("Terrace", "Ter"))  # fmt: skip
DIRECTIONS = {"N": "North", "S": "South", "E": "East", "W": "West"}
DOMAINS = (("gmail.com", "yahoo.com", "hotmail.com", "outlook.com", "icloud.com", "aol.com", "comcast.net",
            "att.net", "sbcglobal.net", "msn.com", "verizon.net", "me.com", "protonmail.com"),
           (42, 14, 7, 7, 9, 4, 4, 3, 3, 2, 2, 2, 1))  # fmt: skip
PLACEHOLDER_EMAILS = ("test@test.com", "none@none.com", "noemail@x.com", "na@na.com", "no@email.com", "N/A")
JUNK_VALUES = ("N/A", "unknown", "n/a", "NULL")
PHONE_FORMATS = ("({a}) {e}-{n}", "{a}-{e}-{n}", "{a}.{e}.{n}", "+1 {a} {e} {n}", "{a}{e}{n}", "1-{a}-{e}-{n}",
                 "1{a}{e}{n}")  # fmt: skip
CRM_PHONE_WEIGHTS = (0.35, 0.2, 0.1, 0.1, 0.15, 0.05, 0.05)
TILL_PHONE_WEIGHTS = (0.05, 0.1, 0.0, 0.0, 0.75, 0.0, 0.1)
MONTHS = _words("January February March April May June July August September October November December")
PAGES = ("/", "/sale", "/women/dresses", "/men/shoes", "/kids", "/home/kitchen", "/cart", "/account",
         "/search?q=boots", "/stores", "/gift-cards", "/beauty")  # fmt: skip
OPT_IN = (("Y", "N", "yes", "no", "1", "0", "TRUE", "FALSE", "opted in", "unsubscribed"),
          (25, 8, 10, 4, 12, 5, 8, 3, 4, 3))  # fmt: skip
_KEYBOARD = ("qwertyuiop", "asdfghjkl", "zxcvbnm")


class _Draw:
    """The seeded generator, with the few kinds of draw the sources need."""

    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)

    def chance(self, p: float) -> bool:
        return bool(self.rng.random() < p)

    def between(self, low: int, high: int) -> int:
        """An integer in ``[low, high]``."""
        return int(self.rng.integers(low, high + 1))

    def one(self, items: Sequence[T]) -> T:
        return items[int(self.rng.integers(len(items)))]

    def weighted(self, items: Sequence[T], weights: Sequence[float]) -> T:
        p = np.asarray(weights, dtype=float)
        return items[int(self.rng.choice(len(items), p=p / p.sum()))]

    def digits(self, n: int) -> str:
        return "".join(str(d) for d in self.rng.integers(0, 10, n))

    def hex(self, n_bytes: int) -> str:
        return self.rng.bytes(n_bytes).hex()

    def timestamp(self, start: date, end: date) -> str:
        day = start + timedelta(days=self.between(0, (end - start).days))
        return f"{day.isoformat()}T{self.between(8, 21):02d}:{self.between(0, 59):02d}:{self.between(0, 59):02d}Z"


_ZIPF: dict[tuple[int, int], np.ndarray] = {}


def _common(draw: _Draw, names: Sequence[str], skew: int, top: int | None = None) -> str:
    """A name, those early in the list more often, as in a census table."""
    names = names[:top] if top else names
    if (len(names), skew) not in _ZIPF:
        _ZIPF[len(names), skew] = 1 / (np.arange(len(names)) + skew)
    return draw.weighted(names, _ZIPF[len(names), skew])


@dataclass
class _Address:
    number: str
    street: str  # with its direction, without its suffix: "W 34th", "Oak"
    suffix: int
    apt: str | None
    city: int
    zip: str
    plus4: str | None


@dataclass
class _Person:
    id: str
    household: _Household
    first: str
    last: str
    gender: str
    birth: date
    middle: str | None = None
    mobile: str | None = None
    emails: list[str] = field(default_factory=list)  # oldest first
    cookies: list[str] = field(default_factory=list)
    app_device: str | None = None
    loyalty: str | None = None
    heavy: bool = False

    @property
    def age(self) -> int:
        return (REFERENCE_DAY - self.birth).days // 365


@dataclass
class _Household:
    id: str
    address: _Address
    adults: int = 1
    old_address: _Address | None = None
    landline: str | None = None
    family_email: str | None = None
    tablet: tuple[str, str] | None = None  # (browser cookie, device id)
    tablet_users: list[_Person] = field(default_factory=list)
    members: list[_Person] = field(default_factory=list)


# --- text noise -----------------------------------------------------------------------------------------------
def _typo(draw: _Draw, text: str) -> str:
    """One slip of the keyboard after the first letter: swap, drop, double or hit a neighbour."""
    if len(text) < 4:
        return text
    i = draw.between(1, len(text) - 2)
    kind = draw.between(0, 3)
    if kind == 0 and text[i] != text[i + 1]:
        return text[:i] + text[i + 1] + text[i] + text[i + 2 :]
    if kind == 1:
        return text[:i] + text[i + 1 :]
    if kind == 2:
        return text[:i] + text[i] + text[i:]
    row = next((r for r in _KEYBOARD if text[i].lower() in r), None)
    if row is None:
        return text[:i] + text[i + 1 :]
    j = row.index(text[i].lower())
    return text[:i] + row[j + 1 if j + 1 < len(row) else j - 1] + text[i + 1 :]


def _cased(draw: _Draw, text: str | None) -> str | None:
    """Typed by a person: now and then in capitals, lower case or with stray spaces."""
    if text is None:
        return None
    if draw.chance(UPPER_RATE):
        text = text.upper()
    elif draw.chance(LOWER_RATE):
        text = text.lower()
    if draw.chance(PAD_RATE):
        text = draw.one((f" {text}", f"{text} ", f"{text}  ", f"  {text} "))
    return text


def _ascii(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def _nickname(draw: _Draw, first: str) -> str:
    return draw.one(NICKNAMES[first]) if first in NICKNAMES else first


# --- the population -------------------------------------------------------------------------------------------
def _address(draw: _Draw) -> _Address:
    city = draw.weighted(range(len(CITIES)), [c[5] for c in CITIES])
    low, high = CITIES[city][3:5]
    street = draw.one(STREETS)
    if draw.chance(DIRECTION_RATE) or street[0].isdigit():
        street = f"{draw.one(tuple(DIRECTIONS))} {street}"
    apt = f"{draw.between(1, 24)}{draw.one('ABCDEF')}" if draw.chance(APARTMENT_RATE) else None
    plus4 = draw.digits(4) if draw.chance(ZIP4_RATE) else None
    number = str(draw.between(1, 9800) if draw.chance(0.9) else draw.between(10000, 24000))
    return _Address(number, street, draw.between(0, len(SUFFIXES) - 1), apt, city, f"{draw.between(low, high):05d}",
                    plus4)  # fmt: skip


def _birth(draw: _Draw, age: int) -> date:
    return date(REFERENCE_DAY.year - age - 1, 7, 1) + timedelta(days=draw.between(0, 364))


def _person(draw: _Draw, number: int, household: _Household, gender: str, age: int, last: str) -> _Person:
    names = MALE if gender == "M" else FEMALE
    taken = {m.first for m in household.members}
    first = _common(draw, names, FIRST_NAME_SKEW)
    while first in taken:
        first = _common(draw, names, FIRST_NAME_SKEW)
    middle = _common(draw, names, FIRST_NAME_SKEW) if draw.chance(MIDDLE_NAME_RATE) else None
    person = _Person(f"P{number:05d}", household, first, last, gender, _birth(draw, age),
                     middle if middle != first else None)  # fmt: skip
    household.members.append(person)
    return person


def _household(draw: _Draw, number: int, size: int, first_person: int) -> _Household:
    household = _Household(f"H{number:05d}", _address(draw))
    household.adults = 1 if size == 1 or draw.chance(SINGLE_PARENT_RATE) else 2
    children = size - household.adults
    age = draw.between(38, 66) if children else int(19 + draw.rng.beta(2.0, 2.6) * 68)
    gender = draw.one("MF")
    head = _person(draw, first_person, household, gender, age, _common(draw, SURNAMES, SURNAME_SKEW))
    if household.adults == 2:
        partner_gender = gender if draw.chance(SAME_SEX_COUPLE_RATE) else "FM"["MF".index(gender)]
        last = head.last if draw.chance(PARTNER_SHARES_SURNAME_RATE) else _common(draw, SURNAMES, SURNAME_SKEW)
        if last != head.last and draw.chance(HYPHENATED_RATE):
            last = f"{last}-{head.last}"
        _person(draw, first_person + 1, household, partner_gender, max(19, age + draw.between(-6, 6)), last)
    for k in range(children):
        child_age = draw.between(13, min(30, age - 20))
        _person(draw, first_person + household.adults + k, household, draw.one("MF"), child_age, head.last)
    if draw.chance(MOVED_RATE):
        household.old_address = _address(draw)
    return household


def _households(draw: _Draw, people: int) -> list[_Household]:
    households: list[_Household] = []
    made = 0
    while made < people:
        size = min(draw.weighted(*HOUSEHOLD_SIZES), people - made)
        households.append(_household(draw, len(households) + 1, size, made + 1))
        made += size
    return households


def _at_least_one(draw: _Draw, candidates: list[T], rate: float) -> list[T]:
    """Candidates chosen at ``rate``, and one at least when there is any: every trap is in every data set."""
    chosen = [c for c in candidates if draw.chance(rate)]
    return chosen or candidates[:1]


def _add_twins(draw: _Draw, households: list[_Household]) -> None:
    for household in _at_least_one(draw, [h for h in households if len(h.members) - h.adults >= 2], TWIN_RATE):
        first, second = household.members[household.adults : household.adults + 2]
        second.birth = first.birth


def _add_namesakes(draw: _Draw, households: list[_Household]) -> list[tuple[_Person, _Person]]:
    """Pairs of people living alone, born 15+ years apart in different zips, given one common name."""
    singles = sorted((h.members[0] for h in households if len(h.members) == 1), key=lambda p: (p.birth, p.id))
    young, old = singles[len(singles) // 2 :], singles[: len(singles) // 2]
    pairs: list[tuple[_Person, _Person]] = []
    for a in young[: max(1, round(NAMESAKE_PAIRS_PER_PERSON * sum(len(h.members) for h in households)))]:
        b = next((p for p in old if (a.birth - p.birth).days > 15 * 365 and p.household.address.zip !=
                  a.household.address.zip and not any(b is p for pair in pairs for b in pair)), None)  # fmt: skip
        if b is None:
            break
        if not pairs:
            (a.first, a.gender), (b.first, b.gender), a.last = ("Samuel", "M"), ("Samantha", "F"), "Taylor"
        else:
            a.first = _common(draw, MALE if a.gender == "M" else FEMALE, FIRST_NAME_SKEW, top=12)
            a.last = _common(draw, SURNAMES, SURNAME_SKEW, top=12)
            b.first, b.gender = a.first, a.gender
        b.last, a.middle, b.middle = a.last, None, None
        pairs.append((a, b))
    return pairs


# --- contact points -------------------------------------------------------------------------------------------
def _unique(used: set[str], make: Callable[[], str]) -> str:
    """A fresh value from ``make``: two people never share a personal phone, email or card by accident."""
    value = make()
    while value in used:
        value = make()
    used.add(value)
    return value


def _phone_number(draw: _Draw, city: int) -> str:
    """Ten digits in one of the city's area codes; now and then in an area code no carrier was assigned."""
    codes = UNASSIGNED_AREA_CODES if draw.chance(UNASSIGNED_NUMBER_RATE) else CITIES[city][2].split()
    exchange = draw.between(200, 999)
    while exchange % 100 == 11 or exchange == 555:
        exchange = draw.between(200, 999)
    return f"{draw.one(codes)}{exchange}{draw.digits(4)}"


def _letters(text: str) -> str:
    return re.sub(r"[^a-z]", "", _ascii(text).lower())


def _email(draw: _Draw, person: _Person, used: set[str]) -> str:
    first = _letters(_nickname(draw, person.first) if draw.chance(EMAIL_NICKNAME_RATE) else person.first)
    last, year, n = _letters(person.last), person.birth.year, draw.between(1, 99)
    local = draw.one((f"{first}.{last}", f"{first}{last}", f"{first[0]}{last}", f"{first}_{last}",
                      f"{first}.{last}{n}", f"{first}{last[0]}{year % 100:02d}", f"{last}.{first}", f"{first}{year}",
                      f"{first[0]}{last}{n}", f"{first}{n}"))  # fmt: skip
    domain = draw.weighted(*DOMAINS)
    return _unique(used, lambda: f"{local}{draw.digits(2) if f'{local}@{domain}' in used else ''}@{domain}")


def _family_email(draw: _Draw, household: _Household, used: set[str]) -> str:
    head, other = household.members[:2]
    last = _letters(head.last)
    local = draw.one((f"the{last}s", f"{last}family", f"{last}{household.address.number}",
                      f"{_letters(head.first)}and{_letters(other.first)}", f"{last}household"))  # fmt: skip
    domain = draw.weighted(*DOMAINS)
    return _unique(used, lambda: f"{local}{draw.digits(2) if f'{local}@{domain}' in used else ''}@{domain}")


def _device_id(draw: _Draw) -> str:
    h = draw.hex(16)
    uid = f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
    return uid.upper() if draw.chance(0.55) else uid  # iOS writes advertising ids in capitals, Android does not


def _add_personal(draw: _Draw, person: _Person, used: set[str]) -> None:
    city = person.household.address.city
    person.mobile = _unique(used, lambda: _phone_number(draw, city)) if draw.chance(MOBILE_RATE) else None
    if not draw.chance(NO_EMAIL_RATE):
        person.emails = [_email(draw, person, used)]
        if draw.chance(SECOND_EMAIL_RATE):
            person.emails.append(_email(draw, person, used))
    person.cookies = [draw.hex(16) for _ in range(draw.weighted((1, 2, 3), (0.55, 0.3, 0.15)))]
    person.app_device = _device_id(draw) if draw.chance(APP_RATE) else None
    person.heavy = draw.chance(HEAVY_SHOPPER_RATE)
    rate = 0.9 if person.heavy else LOYALTY_RATE if person.age >= 18 else LOYALTY_RATE / 5
    person.loyalty = _unique(used, lambda: "6045" + draw.digits(8)) if draw.chance(rate) else None


def _add_contacts(draw: _Draw, households: list[_Household]) -> None:
    used: set[str] = set()  # only asked for membership, never iterated: the output does not depend on hashing
    for household in households:
        shared = len(household.members) > 1
        if shared and draw.chance(LANDLINE_RATE):
            household.landline = _unique(used, partial(_phone_number, draw, household.address.city))
        for person in household.members:
            _add_personal(draw, person, used)
        if shared and draw.chance(FAMILY_EMAIL_RATE):
            household.family_email = _family_email(draw, household, used)
    for household in _at_least_one(draw, [h for h in households if len(h.members) > 1], TABLET_RATE):
        household.tablet = (draw.hex(16), _device_id(draw))
        users = [m for m in household.members if draw.chance(TABLET_USER_RATE)]
        household.tablet_users = users if len(users) >= 2 else household.members[:2]


# --- values as each source writes them ------------------------------------------------------------------------
def _digit_typo(draw: _Draw, digits: str) -> str:
    i = draw.between(0, len(digits) - 1)
    return digits[:i] + str((int(digits[i]) + draw.between(1, 9)) % 10) + digits[i + 1 :]


def _phone_text(draw: _Draw, digits: str, weights: Sequence[float]) -> str:
    return draw.weighted(PHONE_FORMATS, weights).format(a=digits[:3], e=digits[3:6], n=digits[6:])


def _email_text(draw: _Draw, email: str, typo_rate: float) -> str:
    if draw.chance(JUNK_VALUE_RATE):
        return draw.one(PLACEHOLDER_EMAILS)
    local, domain = email.split("@")
    if draw.chance(typo_rate):
        local = _typo(draw, local)
    if draw.chance(UPPER_RATE * 2):  # typed on a phone, or copied from a signature: John.Smith@Gmail.com
        local, domain = ".".join(part.capitalize() for part in local.split(".")), domain.capitalize()
    return draw.one((f" {local}@{domain}", f"{local}@{domain} ")) if draw.chance(PAD_RATE) else f"{local}@{domain}"


def _crm_phone(draw: _Draw, person: _Person) -> str | None:
    if not draw.chance(CRM_PHONE_FILL):
        return None
    if draw.chance(JUNK_VALUE_RATE):
        return draw.one(("000-000-0000", "N/A", "unknown"))
    home = person.household.landline
    digits = home if home and (person.mobile is None or draw.chance(CRM_HOME_PHONE_RATE)) else person.mobile
    if digits and draw.chance(FAKE_PHONE_RATE):
        digits = f"{digits[:3]}555{draw.between(100, 199):04d}"
    return _phone_text(draw, digits, CRM_PHONE_WEIGHTS) if digits else None


def _date_typo(draw: _Draw, day: date) -> date:
    """One digit wrong: the day's last digit, the year's last two swapped, or the year off by one."""
    for _ in range(10):
        kind, year = draw.between(0, 2), day.year
        try:
            wrong = (day.replace(day=day.day // 10 * 10 + draw.between(0, 9)),
                     day.replace(year=year // 100 * 100 + year % 10 * 10 + year // 10 % 10),
                     day.replace(year=year + draw.one((-1, 1))))[kind]  # fmt: skip
        except ValueError:
            continue
        if wrong != day and wrong < REFERENCE_DAY:
            return wrong
    return day


def _dob_text(draw: _Draw, birth: date) -> str:
    if draw.chance(DOB_PLACEHOLDER_RATE):
        return "01/01/1900"
    day = birth
    if draw.chance(DOB_SWAP_RATE) and day.day <= 12 and day.day != day.month:
        day = date(day.year, day.day, day.month)
    elif draw.chance(DOB_TYPO_RATE):
        day = _date_typo(draw, day)
    style = draw.weighted((0, 1, 2), (0.7, 0.22, 0.08))
    return (f"{day.month:02d}/{day.day:02d}/{day.year}", day.isoformat(),
            f"{MONTHS[day.month - 1]} {day.day}, {day.year}")[style]  # fmt: skip


def _address_fields(draw: _Draw, address: _Address) -> dict[str, Any]:
    city, state = CITIES[address.city][:2]
    direction, _, name = address.street.rpartition(" ")
    if direction and draw.chance(DIRECTION_SPELLED_RATE):
        direction = DIRECTIONS[direction]
    variants = SUFFIXES[address.suffix]
    street = " ".join(x for x in (direction, name, draw.weighted(variants, (0.35, 0.5, 0.15)[: len(variants)])) if x)
    apt = address.apt and draw.weighted(("Apt {}", "Apt. {}", "#{}", "Unit {}", "APT {}"), (5, 2, 3, 2, 1))
    return {
        "street_no": address.number,
        "street": _cased(draw, street),
        "apt": apt.format(address.apt) if apt else None,
        "city": "unknown" if draw.chance(JUNK_VALUE_RATE) else _cased(draw, city),
        "state": draw.weighted((state, STATES[state], state.lower()), (0.85, 0.1, 0.05)),
        "zip": f"{address.zip}-{address.plus4}" if address.plus4 and draw.chance(ZIP4_WRITTEN_RATE) else address.zip,
    }


# --- the four sources -----------------------------------------------------------------------------------------
ADDRESS_COLUMNS = ("street_no", "street", "apt", "city", "state", "zip")
CRM_COLUMNS = ("crm_id", "first_name", "middle_name", "last_name", "email", "phone", "dob", "gender",
               *ADDRESS_COLUMNS, "created_at")  # fmt: skip
WEB_KEYS = ("session_id", "cookie_id", "device_id", "login_email", "first_name", "started_at", "channel",
            "landing_page", "pages")  # fmt: skip
POS_COLUMNS = ("receipt_id", "store_id", "ts", "loyalty_card", "card_name", "zip", "phone", "amount")
MARKETING_COLUMNS = ("contact_id", "email", "first_name", "last_name", "zip", "opt_in", "birthday", "signed_up_at")


def _crm_row(draw: _Draw, person: _Person, address: _Address, email: str | None, duplicate: bool) -> dict[str, Any]:
    first, last = person.first, person.last
    if draw.chance(CRM_NICKNAME_RATE * (3 if duplicate else 1)):
        first = _nickname(draw, first)
    if draw.chance(CRM_DUPLICATE_TYPO_RATE if duplicate else CRM_TYPO_RATE):
        first, last = (_typo(draw, first), last) if draw.chance(0.4) else (first, _typo(draw, last))
    middle = person.middle if person.middle and draw.chance(CRM_MIDDLE_RATE) else None
    row = {
        "first_name": _cased(draw, first),
        "middle_name": middle and draw.one((middle, middle[0], middle[0] + ".")),
        "last_name": _cased(draw, last),
        "email": _email_text(draw, email, EMAIL_TYPO_RATE) if email and draw.chance(CRM_EMAIL_FILL) else None,
        "phone": _crm_phone(draw, person),
        "dob": _dob_text(draw, person.birth) if draw.chance(CRM_DOB_FILL) else None,
        "gender": None,
        "created_at": draw.timestamp(
            *((date(2024, 1, 1), REFERENCE_DAY) if duplicate else (date(2012, 1, 1), date(2023, 12, 31)))
        ),
    }
    if draw.chance(CRM_GENDER_FILL):
        long = "Male" if person.gender == "M" else "Female"
        row["gender"] = draw.weighted((person.gender, long, person.gender.lower(), "U", "unknown"), (60, 28, 8, 3, 1))
    return row | (_address_fields(draw, address) if draw.chance(CRM_ADDRESS_FILL) else {})


def _crm(draw: _Draw, households: list[_Household]) -> list[_Row]:
    rows: list[_Row] = []
    for household in households:
        for person in household.members:
            if not draw.chance(CRM_RATE if person.age >= 18 else CRM_RATE / 3):
                continue
            old = household.old_address
            address = old if old and draw.chance(CRM_STALE_ADDRESS_RATE) else household.address
            email = person.emails[0] if person.emails else None
            rows.append((person.id, _crm_row(draw, person, address, email, duplicate=False)))
            if draw.chance(CRM_DUPLICATE_RATE):
                email = person.emails[-1] if person.emails else None
                rows.append((person.id, _crm_row(draw, person, household.address, email, duplicate=True)))
    return rows


def _session(draw: _Draw, person: _Person, channel: str, ids: tuple[str | None, str | None], login_rate: float,
             email: str | None) -> dict[str, Any]:  # fmt: skip
    logged_in = email is not None and draw.chance(login_rate)
    if logged_in and draw.chance(LOGIN_CAPITALISED_RATE):
        email = email[0].upper() + email[1:]
    name = None
    if logged_in and draw.chance(WEB_NAME_RATE):
        name = _nickname(draw, person.first) if draw.chance(WEB_NICKNAME_RATE) else person.first
    return {"cookie_id": ids[0], "device_id": ids[1], "login_email": email if logged_in else None, "first_name": name,
            "started_at": draw.timestamp(date(2024, 1, 1), REFERENCE_DAY), "channel": channel,
            "landing_page": draw.one(PAGES), "pages": int(draw.rng.geometric(0.25))}  # fmt: skip


def _login_email(draw: _Draw, person: _Person) -> str | None:
    return (person.emails[-1] if draw.chance(LATEST_EMAIL_LOGIN_RATE) else person.emails[0]) if person.emails else None


def _web(draw: _Draw, households: list[_Household]) -> list[_Row]:
    rows: list[_Row] = []
    for household in households:
        for person in household.members:
            if not draw.chance(WEB_RATE):
                continue
            for _ in range(1 + int(draw.rng.poisson(SESSIONS_MEAN))):
                app = person.app_device is not None and draw.chance(APP_SESSION_SHARE)
                cookie = person.cookies[min(len(person.cookies), int(draw.rng.geometric(0.6))) - 1]
                ids = (None, person.app_device) if app else (cookie, None)
                login = APP_LOGIN_RATE if app else WEB_LOGIN_RATE
                rows.append((person.id, _session(draw, person, "app" if app else "web", ids, login,
                                                 _login_email(draw, person))))  # fmt: skip
        if household.tablet:
            for person in household.tablet_users:
                for _ in range(draw.between(1, 4)):
                    family = household.family_email and draw.chance(TABLET_FAMILY_LOGIN_RATE)
                    email = household.family_email if family else _login_email(draw, person)
                    rows.append((person.id, _session(draw, person, "tablet", household.tablet, TABLET_LOGIN_RATE,
                                                     email)))  # fmt: skip
    return rows


def _card_name(draw: _Draw, person: _Person) -> str:
    first = _ascii(_nickname(draw, person.first) if draw.chance(CARD_NICKNAME_RATE) else person.first)
    last = _ascii(_typo(draw, person.last) if draw.chance(CARD_TYPO_RATE) else person.last)
    middle = f" {person.middle[0]}" if person.middle else ""
    style = draw.weighted(range(5), (0.45, 0.25, 0.12, 0.08, 0.1))
    text = (f"{first} {last}", f"{first[0]} {last}", f"{last}/{first}", f"{first}{middle} {last}",
            f"{first} {last}")[style]  # fmt: skip
    return text if style == 4 else text.upper()  # a phone wallet keeps the account's case; cards print capitals


def _till_zip(draw: _Draw, person: _Person) -> str:
    household = person.household
    old = household.old_address
    code = (old if old and draw.chance(TILL_OLD_ZIP_RATE) else household.address).zip
    return _digit_typo(draw, code) if draw.chance(TILL_TYPO_RATE) else code


def _till_phone(draw: _Draw, person: _Person) -> str | None:
    if draw.chance(JUNK_VALUE_RATE):
        return "000-000-0000"
    home = person.household.landline
    digits = home if home and (person.mobile is None or draw.chance(TILL_HOME_PHONE_RATE)) else person.mobile
    if digits and draw.chance(TILL_TYPO_RATE):
        digits = _digit_typo(draw, digits)
    return _phone_text(draw, digits, TILL_PHONE_WEIGHTS) if digits else None


def _receipt(draw: _Draw, person: _Person, household_card: str | None) -> dict[str, Any]:
    card = None
    if person.loyalty and draw.chance(LOYALTY_SCAN_RATE):
        card = person.loyalty
    elif household_card and not person.loyalty and draw.chance(BORROWED_CARD_RATE):
        card = household_card
    name = _card_name(draw, person) if draw.chance(CARD_PAYMENT_RATE) else None
    zip_code = _till_zip(draw, person) if draw.chance(TILL_ZIP_RATE) else None
    phone = _till_phone(draw, person) if draw.chance(TILL_PHONE_RATE if card else TILL_PHONE_NO_CARD_RATE) else None
    if not (card or name or zip_code or phone):  # the export holds receipts with customer data: a card sale here
        name = _card_name(draw, person)
    if card and draw.chance(CARD_SPACED_RATE):
        card = f"{card[:4]} {card[4:8]} {card[8:]}"
    return {"store_id": f"{person.household.address.city * 10 + draw.between(1, 3):03d}",
            "ts": draw.timestamp(date(2023, 7, 1), REFERENCE_DAY), "loyalty_card": card, "card_name": name,
            "zip": zip_code, "phone": phone, "amount": f"{draw.rng.lognormal(3.4, 0.8):.2f}"}  # fmt: skip


def _pos(draw: _Draw, households: list[_Household]) -> list[_Row]:
    rows: list[_Row] = []
    for household in households:
        card = next((m.loyalty for m in household.members[: household.adults] if m.loyalty), None)
        for person in household.members:
            if not (person.heavy or draw.chance(POS_RATE)):
                continue
            extra = draw.rng.poisson(HEAVY_RECEIPTS_MEAN if person.heavy else RECEIPTS_MEAN)
            rows += [(person.id, _receipt(draw, person, card)) for _ in range(int(extra) + (20 if person.heavy else 1))]
    return rows


def _spreadsheet_zip(draw: _Draw, code: str) -> str:
    if draw.chance(JUNK_VALUE_RATE * 2):
        return draw.one(("N/A", "00000"))
    return code.lstrip("0") if code.startswith("0") and draw.chance(ZIP_LOST_ZERO_RATE) else code


def _subscriber(draw: _Draw, person: _Person, email: str | None) -> dict[str, Any]:
    first = _nickname(draw, person.first) if draw.chance(MARKETING_NICKNAME_RATE) else person.first
    first = _ascii(first) if draw.chance(ACCENT_DROP_RATE) else first
    first = _typo(draw, first) if draw.chance(MARKETING_TYPO_RATE) else first
    old, birth = person.household.old_address, person.birth
    code = (old if old and draw.chance(MARKETING_OLD_ZIP_RATE) else person.household.address).zip
    return {
        "email": _email_text(draw, email, MARKETING_TYPO_RATE) if email else draw.one(PLACEHOLDER_EMAILS),
        "first_name": _cased(draw, first) if draw.chance(MARKETING_FIRST_FILL) else None,
        "last_name": _cased(draw, person.last) if draw.chance(MARKETING_LAST_FILL) else None,
        "zip": _spreadsheet_zip(draw, code) if draw.chance(MARKETING_ZIP_FILL) else None,
        "opt_in": draw.weighted(*OPT_IN),
        "birthday": f"{birth.month:02d}/{birth.day:02d}/{birth.year}" if draw.chance(MARKETING_BIRTHDAY_FILL) else None,
        "signed_up_at": draw.timestamp(date(2018, 1, 1), REFERENCE_DAY),
    }


def _marketing(draw: _Draw, households: list[_Household], namesakes: list[tuple[_Person, _Person]]) -> list[_Row]:
    rows: list[_Row] = []
    for household in households:
        for person in household.members:
            if person.emails and draw.chance(MARKETING_RATE):
                both = len(person.emails) > 1 and draw.chance(MARKETING_BOTH_EMAILS_RATE)
                rows += [(person.id, _subscriber(draw, person, e)) for e in person.emails[0 if both else -1 :]]
            if draw.chance(MARKETING_JUNK_RATE):  # signed up at the till without giving an email
                row = _subscriber(draw, person, None)
                rows.append((person.id, row | ({"first_name": "N/A"} if draw.chance(JUNK_NAME_RATE) else {})))
        if household.family_email and draw.chance(FAMILY_SIGNUP_RATE):
            adult = draw.one(household.members[: household.adults])
            rows.append((adult.id, _subscriber(draw, adult, household.family_email)))
    for pair in namesakes[:1] + [pair for pair in namesakes[1:] if draw.chance(NAMESAKE_ROW_RATE)]:  # Sam Taylor
        person = draw.one(pair)
        first = "Sam" if pair is namesakes[0] else person.first
        rows.append((person.id, dict.fromkeys(MARKETING_COLUMNS[1:]) | {
            "email": draw.one(PLACEHOLDER_EMAILS[:3]), "first_name": first, "last_name": person.last, "opt_in": "N",
            "signed_up_at": draw.timestamp(date(2018, 1, 1), REFERENCE_DAY)}))  # fmt: skip
    return rows


# --- the files ------------------------------------------------------------------------------------------------
SOURCES_YAML = """\
# A US retailer's four sources, written by bench/retail_data.py (held-out evaluation data).
sources:
  crm:
    path: crm.csv
    record_id: crm_id
    identifiers: {crm_id: crm_id, email: email, phone: phone}
    attributes: {first_name: first_name, middle_name: middle_name, last_name: last_name, dob: birth_date,
                 gender: gender, street_no: street_number, street: street, apt: address_line2, city: city,
                 state: region, zip: postcode}
    event: {type: account_created, timestamp: created_at}
  web:
    path: web_sessions.jsonl
    record_id: session_id
    identifiers: {cookie_id: cookie_id, device_id: device_id, login_email: email}
    attributes: {first_name: first_name}
    event: {type: session, timestamp: started_at, properties: [channel, landing_page, pages]}
  pos:
    path: receipts.csv
    record_id: receipt_id
    identifiers: {loyalty_card: loyalty_id, phone: phone}
    attributes: {card_name: full_name, zip: postcode}
    event: {type: purchase, timestamp: ts, properties: [store_id, amount]}
  marketing:
    path: marketing.csv
    record_id: contact_id
    identifiers: {email: email}
    attributes: {first_name: first_name, last_name: last_name, zip: postcode, opt_in: email_opt_in,
                 birthday: birth_date}
    event: {type: newsletter_signup, timestamp: signed_up_at}
options:
  default_region: US
  date_order: MDY
"""
#: source -> (file, record id column, columns in file order)
FILES = {
    "crm": ("crm.csv", "crm_id", CRM_COLUMNS),
    "web": ("web_sessions.jsonl", "session_id", WEB_KEYS),
    "pos": ("receipts.csv", "receipt_id", POS_COLUMNS),
    "marketing": ("marketing.csv", "contact_id", MARKETING_COLUMNS),
}


def _record_id(draw: _Draw, source: str, n: int, row: dict[str, Any]) -> str:
    if source == "crm":
        return f"CU{1_004_000 + n}"
    if source == "pos":
        return f"{row['store_id']}-{n:07d}"
    if source == "marketing":
        return f"MK{n:06d}"
    return f"{draw.hex(6)}{n:06x}"  # random-looking and unique


def _write_csv(path: Path, columns: Sequence[str], rows: list[dict[str, Any]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def _write_source(draw: _Draw, directory: Path, source: str, rows: list[_Row]) -> list[dict[str, str]]:
    """Shuffle the rows (duplicates are not neighbours), number them, write the file; the truth of each row."""
    name, id_column, columns = FILES[source]
    rows = [rows[i] for i in draw.rng.permutation(len(rows))]
    n = 0
    for _, row in rows:
        n += draw.between(1, 9)
        row[id_column] = _record_id(draw, source, n, row)
    written = [{c: row.get(c) for c in columns} for _, row in rows]
    if name.endswith(".jsonl"):
        text = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in written)
        (directory / name).write_text(text, encoding="utf-8")
    else:
        _write_csv(directory / name, columns, written)
    return [{"source": source, "record_id": row[id_column], "person_id": person} for person, row in rows]


def _cover_everyone(draw: _Draw, households: list[_Household], sources: dict[str, list[_Row]]) -> None:
    """A person with no record at all is given a receipt: everyone in ``people.csv`` is in the truth."""
    present = {person for rows in sources.values() for person, _ in rows}
    for household in households:
        for person in household.members:
            if person.id not in present:
                sources["pos"].append((person.id, _receipt(draw, person, None)))


def generate_retail(directory: Path, people: int = 3000, seed: int = 1) -> Path:
    """Write the four sources, ``truth.csv``, ``people.csv`` and ``sources.yaml`` (returned) into ``directory``.

    O(people) time and memory (about 2 s for 3,000 people); the same arguments give byte-identical files.
    """
    if people < 2:
        raise ValueError("people must be at least 2")
    draw = _Draw(seed)
    households = _households(draw, people)
    _add_twins(draw, households)
    namesakes = _add_namesakes(draw, households)
    _add_contacts(draw, households)
    sources = {"crm": _crm(draw, households), "web": _web(draw, households), "pos": _pos(draw, households),
               "marketing": _marketing(draw, households, namesakes)}  # fmt: skip
    _cover_everyone(draw, households, sources)
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    truth = [row for source, rows in sources.items() for row in _write_source(draw, directory, source, rows)]
    _write_csv(directory / "truth.csv", ("source", "record_id", "person_id"), truth)
    everyone = [{"person_id": p.id, "household_id": h.id, "first_name": p.first, "last_name": p.last,
                 "birth_date": p.birth.isoformat(), "zip": h.address.zip} for h in households for p in h.members]  # fmt: skip
    _write_csv(directory / "people.csv", tuple(everyone[0]), everyone)
    config = directory / "sources.yaml"
    config.write_text(SOURCES_YAML, encoding="utf-8")
    logger.info("wrote %d records of %d people to %s", len(truth), people, directory)
    return config


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.retail_data", description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--people", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    config = generate_retail(args.out_dir, args.people, args.seed)
    with (args.out_dir / "truth.csv").open(newline="") as handle:
        truth = list(csv.DictReader(handle))
    per_person = Counter(row["person_id"] for row in truth)
    sizes = sorted(per_person.values())
    for source, count in Counter(row["source"] for row in truth).items():
        print(f"{source:<10} {count:>7,} records  ({FILES[source][0]})")
    print(f"{'total':<10} {len(truth):>7,} records of {len(per_person):,} people: {len(truth) / len(per_person):.2f} "
          f"per person (median {sizes[len(sizes) // 2]}, max {sizes[-1]})")  # fmt: skip
    print(f"config: {config}")


if __name__ == "__main__":
    main()
