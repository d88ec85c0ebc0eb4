"""The ground-truth population behind the synthetic demo data set, and how people write their details.

A person is an index into the arrays of :class:`People`; every array has one entry per person (or one row
for the 2-D ones). Generation is vectorised with numpy; the few per-person Python loops only format
strings. Cost is O(n) in the number of people. The second half renders a clean value the way a source
might hold it: re-cased, re-formatted, misspelt or replaced by junk.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, fields
from functools import partial

import numpy as np

MISSING = np.array(None, dtype=object)  # a 0-d "no value" that np.where broadcasts


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


FIRST_NAMES = _words("""
Oliver George Harry Jack Jacob Noah Charlie Muhammad Thomas Oscar William James Henry Leo Alfie Joshua Freddie
Archie Ethan Isaac Alexander Joseph Edward Samuel Max Daniel Arthur Lucas Mohammed Logan Theo Harrison Benjamin
Mason Sebastian Finley Adam Dylan Zachary Riley Teddy David Toby Jake Louie Elijah Reuben Arlo Hugo Luca Matthew
Harvey Reggie Michael Jude Albert Tommy Luke Stanley Frankie Gabriel Elliot Ronnie Charles Louis Frederick Nathan
Lewis Blake Rory Ryan Tyler Dexter Ezra Kai Caleb Bobby Austin Carter Jamie Aaron Robert Ben John Paul Mark Stephen
Andrew Peter Richard Christopher Simon Kevin Gary Ian Neil Martin Graham Colin Keith Alan Brian Sean Liam Patrick
Ciaran Declan Callum Kieran Owen Rhys Dafydd Gareth Huw Iain Fraser Angus Hamish Ravi Arjun Rohan Sanjay Vikram
Amir Omar Yusuf Hassan Tariq Wei Jun Hiroshi Kenji Mateo Diego Javier José Andrés Jesús Søren Björn Jürgen
François Jérôme Loïc Zoltán Seán Jean-Paul Olivia Amelia Isla Ava Mia Ivy Lily Isabella Rosie Sophia Grace Willow
Freya Florence Emily Ella Poppy Evie Elsie Charlotte Evelyn Sienna Sofia Daisy Phoebe Sophie Alice Harper Matilda
Ruby Emilia Maya Millie Isabelle Lucy Chloe Scarlett Jessica Eleanor Hannah Holly Emma Sarah Laura Rebecca Rachel
Claire Helen Karen Susan Julie Nicola Lisa Amanda Joanne Michelle Kelly Louise Gemma Kirsty Leanne Stacey Jade
Megan Bethany Abigail Niamh Aoife Siobhan Caoimhe Sinéad Róisín Siân Cerys Ffion Catrin Eilidh Morag Priya
Ananya Aisha Fatima Zainab Maryam Layla Noor Mei Yuki Sakura Lucía María Inés Beatriz Ángela Zoë Chloé Renée
Noémie Hélène Anaïs Léa Magdalena Agnieszka Zofia Małgorzata Ingrid Astrid Anne-Marie Mary-Jane Marie-Claire
""")

LAST_NAMES = _words("""
Smith Jones Williams Taylor Brown Davies Evans Wilson Thomas Johnson Roberts Robinson Thompson Wright Walker White
Edwards Hughes Green Hall Lewis Harris Clarke Patel Jackson Wood Turner Martin Cooper Hill Ward Morris Moore Clark
Lee King Baker Harrison Morgan Allen James Scott Phillips Watson Davis Parker Price Bennett Young Griffiths
Mitchell Kelly Cook Carter Richardson Bailey Collins Bell Shaw Murphy Miller Cox Richards Khan Marshall Anderson
Simpson Ellis Adams Singh Begum Wilkinson Foster Chapman Powell Webb Rogers Gray Mason Ali Hunt Hussain Campbell
Matthews Owen Palmer Holmes Mills Barnes Knight Lloyd Butler Russell Barker Fisher Stevens Jenkins Murray Dixon
Harvey Graham Pearson Ahmed Fletcher Walsh Kaur Gibson Howard Andrews Stewart Elliott Reynolds Saunders Payne Fox
Ford Pearce Day Brooks West Lawrence Cole Atkinson Bradley Spencer Gill Dawson Ball Burton O'Brien Watts Rose Booth
Perry Ryan Grant Wells Armstrong Francis Rees Hayes Hart Hudson Newman Barrett Webster Hunter Gregory Carr Lowe
Page Marsh Riley Dunn Woods Parsons Berry Stone Reid Holland Hawkins Harding Porter Robertson Newton Reed Kennedy
Williamson Bird Gardner Shah Dean Lane Cooke Bates Henderson Parry Burgess Bishop Walton Burns Nicholson Shepherd
Ross Cross Long Freeman Warren Nicholls Hamilton Byrne Sutton McDonald Yates Hodgson Robson Curtis Hopkins
O'Connor Coleman Watkins Moss McCarthy Chambers O'Neill O'Neil Griffin Sharp Hardy Wheeler Potter Osborne
Johnston Gordon Doyle Wallace Jordan Hutchinson Rowe Burke Pritchard Gilbert Willis Higgins Read Miles Stevenson
Hammond Arnold Buckley Walters Hewitt Barber Nelson Slater Sullivan Whitehead Mann Frost Lambert Akhtar Lynch
Goodwin Barton Woodward Thomson Cunningham Quinn Barnett Baxter Clayton Nash Greenwood Jennings Holt Kemp Poole
Gallagher Bond Stokes Tucker Davidson Fowler Heath Norman Middleton Lawson Banks French Jarvis Gibbs Ferguson
Hayward Carroll Douglas Dickinson Todd Barlow Peters Knowles Hartley Miah Simmons Morton Field Morrison Norris
Townsend Preston Hancock Thornton Baldwin Burrows Briggs Pugh Müller Schmidt Schröder Weiß Nowak Kowalski
Wiśniewski García Rodríguez Fernández López Núñez Muñoz Pérez Sánchez Gómez Martínez Ferreira Gonçalves Rossi
Russo Esposito Bianchi Dubois Lefèvre Girard Mercier Nguyen Tran Wang Zhang Chen Liu Tanaka Suzuki Kim Park Choi
Okafor Adeyemi Mensah Osei Smith-Jones Hughes-Williams Lloyd-Webber Fox-Taylor Owen-Jones Davies-Evans MacLeod
McKenzie MacDonald Fitzgerald D'Souza D'Arcy
""")

STREET_NAMES = _words("""
High Oak Church Station Mill Park Victoria Albert Queen Manor Grange Elm Willow Chestnut Beech Meadow Orchard
Springfield Highfield Windsor York Richmond Alexandra Clarence Marlborough Stanley Cavendish Ashfield Brookside
Riverside Woodland Hillside Greenway Fairview Rose Holly Cedar Maple Laurel Hawthorn Lime Poplar Sycamore
""")
STREET_SUFFIXES = _words("Road Street Lane Avenue Close Drive Gardens Crescent Way Grove")
INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"  # the letters a UK inward code may use


@dataclass(frozen=True)
class City:
    name: str
    postcode_areas: tuple[str, ...]
    dial_code: str
    lead_digits: tuple[str, ...]  # subscriber-number starts that phonenumbers accepts for this code
    store: str
    weight: float


CITIES: tuple[City, ...] = (
    City("London", ("SW", "SE", "N", "E", "W", "NW"), "020", ("7", "8"), "London Oxford Street", 0.30),
    City("Manchester", ("M",), "0161", ("2", "4", "6"), "Manchester Arndale", 0.09),
    City("Birmingham", ("B",), "0121", ("2", "4", "5"), "Birmingham Bullring", 0.09),
    City("Leeds", ("LS",), "0113", ("2", "3", "4"), "Leeds Trinity", 0.06),
    City("Glasgow", ("G",), "0141", ("2", "3", "4"), "Glasgow Buchanan", 0.06),
    City("Liverpool", ("L",), "0151", ("2", "4", "5"), "Liverpool One", 0.06),
    City("Bristol", ("BS",), "0117", ("2", "3", "4"), "Bristol Cabot Circus", 0.06),
    City("Sheffield", ("S",), "0114", ("2", "3"), "Sheffield Meadowhall", 0.05),
    City("Edinburgh", ("EH",), "0131", ("2", "3", "4"), "Edinburgh Princes Street", 0.05),
    City("Cardiff", ("CF",), "029", ("20",), "Cardiff St Davids", 0.04),
    City("Nottingham", ("NG",), "0115", ("2", "9"), "Nottingham Victoria", 0.04),
    City("Leicester", ("LE",), "0116", ("2", "3"), "Leicester Highcross", 0.03),
    City("Newcastle upon Tyne", ("NE",), "0191", ("2", "3", "4"), "Newcastle Eldon Square", 0.04),
    City("Oxford", ("OX",), "01865", ("2", "3", "4"), "Oxford Westgate", 0.035),
    City("Cambridge", ("CB",), "01223", ("2", "3", "4"), "Cambridge Grand Arcade", 0.035),
)  # fmt: skip

# UK mobile blocks that phonenumbers validates in full; 0745, 0749, 0770 and 0791 are left out because
# parts of them are reserved (07700 900xxx is for drama) or unallocated.
MOBILE_PREFIXES = _words("""
0740 0741 0742 0743 0744 0746 0747 0748 0750 0751 0752 0753 0754 0755 0756 0757 0758 0759 0771 0772 0773 0774
0775 0776 0777 0778 0779 0780 0781 0782 0783 0784 0785 0786 0787 0788 0789 0790 0792 0793 0794 0795 0796 0797 0798
""")

EMAIL_DOMAINS = _words("gmail.com hotmail.co.uk yahoo.co.uk outlook.com icloud.com btinternet.com live.co.uk aol.com")
EMAIL_DOMAIN_WEIGHTS = (0.38, 0.17, 0.11, 0.11, 0.08, 0.06, 0.05, 0.04)
WORK_DOMAINS = _words("""
acme-logistics.co.uk northwind.com bluefin-capital.com nhs.net brightlabs.io harbourlaw.co.uk greenleaf-energy.com
citycouncil.gov.uk oakwood-school.org.uk stellar-media.co.uk pinnacle-retail.com quantum-analytics.io
""")

# Product categories, in the order of the catalogue; a person's tastes are 1-3 of them.
CATEGORY_NAMES = _words("running cycling kitchen books gaming gardening beauty fashion electronics toys home pets")
CATEGORY_WEIGHTS = np.array([1.2, 0.8, 1.3, 1.5, 1.0, 0.9, 1.1, 1.4, 1.3, 0.7, 1.2, 0.8])
JUNK_EMAILS = _words("test@test.com n/a unknown none@none.com noemail@example.com a@a.com -")
JUNK_PHONES = _words("0000000000 +441234567890 n/a unknown 00000000000 1234567890 -")
JUNK_LOYALTY = _words("0 n/a unknown LC0000000000")
MALFORMED_SHARE = 0.3  # of junk cells: a damaged real value rather than a placeholder
MONTHS = _words("Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec")


@dataclass(frozen=True)
class NoiseRates:
    """Probabilities of each kind of mess; the defaults are difficulty 1."""

    typo: float = 0.02  # any name on any row
    duplicate_typo: float = 0.6  # a name on a CRM duplicate row
    case: float = 0.12  # names or postcodes lower/upper-cased or padded with spaces
    phone_format: float = 0.6  # a phone written other than as compact national digits
    email_format: float = 0.08  # an email upper-cased, capitalised or padded
    date_format: float = 0.5  # a birth date written other than ISO
    junk: float = 0.02  # an identifier cell replaced by a placeholder or a malformed value
    crm_duplicate: float = 0.12  # extra CRM rows per CRM person
    email_change: float = 0.15  # people with an older, different personal email
    household: float = 0.2  # people living in a multi-person household
    family_email: float = 0.35  # households with a shared family email
    shared_device: float = 0.25  # households whose members share a device

    @classmethod
    def from_difficulty(cls, difficulty: float) -> NoiseRates:
        """Every rate scaled linearly by ``difficulty`` and capped at 0.95."""
        base = cls()
        return cls(**{f.name: min(0.95, getattr(base, f.name) * max(0.0, difficulty)) for f in fields(cls)})


@dataclass(frozen=True)
class People:
    """One entry per person. Optional values are ``None``; phones are national digits ('07...')."""

    person_id: np.ndarray
    first_name: np.ndarray
    last_name: np.ndarray
    birth_date: np.ndarray  # datetime64[D]
    street: np.ndarray
    city: np.ndarray  # index into CITIES
    postcode: np.ndarray
    household: np.ndarray  # household number, -1 for people living alone
    email: np.ndarray
    old_email: np.ndarray
    work_email: np.ndarray
    family_email: np.ndarray
    mobile: np.ndarray
    home_phone: np.ndarray
    loyalty_id: np.ndarray
    cookies: np.ndarray  # (n, 3), first n_cookies used
    n_cookies: np.ndarray
    devices: np.ndarray  # (n, 3), first n_devices used
    n_devices: np.ndarray
    tastes: np.ndarray  # (n, 3) category indices, first n_tastes used
    n_tastes: np.ndarray

    @property
    def n(self) -> int:
        return len(self.person_id)


def fold_ascii(text: str) -> str:
    """'Zoë O'Neil' -> 'zoeoneil' style folding used to build email local parts."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    return "".join(ch for ch in plain if ch.isalnum() or ch == "-")


def generate_people(rng: np.random.Generator, n: int, rates: NoiseRates) -> People:
    """Draw ``n`` people with households, contact details, web identifiers and tastes. O(n)."""
    first = rng.integers(0, len(FIRST_NAMES), n)
    last = rng.integers(0, len(LAST_NAMES), n)
    household, head = _households(rng, n, rates.household)
    last = last[head]
    street, city, postcode = _addresses(rng, n)
    street, city, postcode = street[head], city[head], postcode[head]
    birth = np.datetime64("1945-01-01") + rng.integers(0, 62 * 365, n).astype("timedelta64[D]")
    emails = _email_set(rng, first, last, birth, household, head, rates)
    cookies, n_cookies = _web_ids(rng, n, "xxxxxxxx-xxxx-4xxx-xxxx-xxxxxxxxxxxx", (0.5, 0.3, 0.2))
    devices, n_devices = _web_ids(rng, n, "dev_xxxxxxxxxxxxxxxx", (0.6, 0.3, 0.1))
    _share_devices(rng, devices, household, head, rates.shared_device)
    tastes, n_tastes = _tastes(rng, n)
    has_card = rng.random(n) < 0.8
    loyalty = 1_000_000_000 + rng.choice(9_000_000_000, n, replace=False)
    return People(
        person_id="P" + np.char.zfill(np.arange(1, n + 1).astype(str), 7).astype(object),
        first_name=np.array(FIRST_NAMES, dtype=object)[first],
        last_name=np.array(LAST_NAMES, dtype=object)[last],
        birth_date=birth,
        street=street,
        city=city,
        postcode=postcode,
        household=household,
        email=emails[0],
        old_email=emails[1],
        work_email=emails[2],
        family_email=emails[3],
        mobile=_mobiles(rng, n),
        home_phone=_home_phones(rng, city, household, head),
        loyalty_id=np.where(has_card, "LC" + _text(loyalty), MISSING),
        cookies=cookies,
        n_cookies=n_cookies,
        devices=devices,
        n_devices=n_devices,
        tastes=tastes,
        n_tastes=n_tastes,
    )


def _households(rng: np.random.Generator, n: int, rate: float) -> tuple[np.ndarray, np.ndarray]:
    """Group a random ``rate`` share of people into households of 2-4; returns (household, head)."""
    household = np.full(n, -1, dtype=np.int64)
    head = np.arange(n)
    sizes = rng.choice([2, 3, 4], size=max(1, n // 2), p=[0.55, 0.3, 0.15])
    sizes = sizes[np.cumsum(sizes) <= round(rate * n)]
    if len(sizes) == 0:
        return household, head
    members = rng.permutation(n)[: sizes.sum()]
    household[members] = np.repeat(np.arange(len(sizes)), sizes)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    head[members] = np.repeat(members[starts], sizes)
    return household, head


def _addresses(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    weights = np.array([c.weight for c in CITIES])
    city = rng.choice(len(CITIES), n, p=weights / weights.sum())
    areas = np.array([[c.postcode_areas[k % len(c.postcode_areas)] for k in range(6)] for c in CITIES], dtype=object)
    letters = np.array(list(INWARD_LETTERS), dtype=object)
    number, district = _text(rng.integers(1, 240, n)), _text(rng.integers(1, 21, n))
    sector = _text(rng.integers(1, 10, n))
    street = number + " " + _pick_text(rng, STREET_NAMES, n) + " " + _pick_text(rng, STREET_SUFFIXES, n)
    inward = sector + letters[rng.integers(0, len(letters), n)] + letters[rng.integers(0, len(letters), n)]
    postcode = areas[city, rng.integers(0, 6, n)] + district + " " + inward
    return street, city, postcode


def _text(numbers: np.ndarray) -> np.ndarray:
    """Integers as an object array of decimal strings."""
    return numbers.astype(str).astype(object)


def _pick_text(rng: np.random.Generator, words: tuple[str, ...], n: int) -> np.ndarray:
    return np.array(words, dtype=object)[rng.integers(0, len(words), n)]


def _email_set(
    rng: np.random.Generator,
    first: np.ndarray,
    last: np.ndarray,
    birth: np.ndarray,
    household: np.ndarray,
    head: np.ndarray,
    rates: NoiseRates,
) -> list[np.ndarray]:
    """Personal, old personal, work and family emails; no two people (or households) share one."""
    n = len(first)
    first_ascii = np.array([fold_ascii(x) for x in FIRST_NAMES], dtype=object)[first]
    last_ascii = np.array([fold_ascii(x) for x in LAST_NAMES], dtype=object)[last]
    year = birth.astype("datetime64[Y]").astype(np.int64) % 100
    email = _personal_emails(rng, first_ascii, last_ascii, year)
    old = _personal_emails(rng, first_ascii, last_ascii, year)
    old[rng.random(n) >= rates.email_change] = None
    work_domain = rng.choice(np.array(WORK_DOMAINS, dtype=object), n)
    work = np.where(rng.random(n) < 0.25, first_ascii + "." + last_ascii + "@" + work_domain, MISSING)
    seen: set[str] = set()
    personal = [_make_unique(column, seen, f"{k}") for k, column in enumerate((email, old, work))]
    return [*personal, _family_emails(rng, last_ascii, household, head, rates.family_email, seen)]


def _personal_emails(rng: np.random.Generator, first: np.ndarray, last: np.ndarray, year: np.ndarray) -> np.ndarray:
    n = len(first)
    pattern, number = rng.integers(0, 6, n), _text(rng.integers(1, 100, n))
    weights = np.array(EMAIL_DOMAIN_WEIGHTS) / sum(EMAIL_DOMAIN_WEIGHTS)
    domain = np.array(EMAIL_DOMAINS, dtype=object)[rng.choice(len(EMAIL_DOMAINS), n, p=weights)]
    yy = np.char.zfill(year.astype(str), 2).astype(object)
    builders = (
        lambda i: first[i] + "." + last[i],
        lambda i: first[i] + last[i] + number[i],
        lambda i: first[i].astype("U1").astype(object) + last[i],
        lambda i: first[i] + "_" + last[i],
        lambda i: first[i] + yy[i],
        lambda i: last[i] + "." + first[i],
    )
    local = np.empty(n, dtype=object)
    for k, build in enumerate(builders):
        rows = np.flatnonzero(pattern == k)
        if len(rows):
            local[rows] = build(rows)
    return local + "@" + domain


def _family_emails(
    rng: np.random.Generator,
    last: np.ndarray,
    household: np.ndarray,
    head: np.ndarray,
    rate: float,
    seen: set[str],
) -> np.ndarray:
    """A shared address such as smithfamily@gmail.com for a ``rate`` share of households."""
    family = np.full(len(last), None, dtype=object)
    members = np.flatnonzero(household >= 0)
    if len(members) == 0:
        return family
    n_households = int(household.max()) + 1
    has_email = rng.random(n_households) < rate
    style = rng.integers(0, 2, n_households)
    domain = rng.choice(np.array(EMAIL_DOMAINS[:4], dtype=object), n_households)
    head_of = np.zeros(n_households, dtype=np.int64)
    head_of[household[members]] = head[members]
    address = np.array(
        [
            (f"{s}family@{d}", f"the{s}s@{d}")[k] if h else None
            for s, d, k, h in zip(last[head_of], domain, style, has_email, strict=False)
        ],
        dtype=object,
    )
    family[members] = _make_unique(address, seen, "h")[household[members]]
    return family


def _make_unique(values: np.ndarray, seen: set[str], tag: str) -> np.ndarray:
    """Suffix '.<tag><i>' to any value that someone else already owns, then claim it."""
    out = values.copy()
    for i, value in enumerate(values):
        if value is None:
            continue
        if value in seen:
            local, domain = value.split("@")
            value = out[i] = f"{local}.{tag}{i}@{domain}"
        seen.add(value)
    return out


def _mobiles(rng: np.random.Generator, n: int) -> np.ndarray:
    codes = rng.choice(len(MOBILE_PREFIXES) * 10_000_000, n, replace=False)
    subscriber = np.char.zfill((codes % 10_000_000).astype(str), 7).astype(object)
    return np.array(MOBILE_PREFIXES, dtype=object)[codes // 10_000_000] + subscriber


def _home_phones(rng: np.random.Generator, city: np.ndarray, household: np.ndarray, head: np.ndarray) -> np.ndarray:
    """A landline for 70% of households (shared by all members) and 10% of people living alone."""
    n = len(city)
    draw = rng.random(n)[head]
    lead, rest = rng.integers(0, 6, n)[head], rng.integers(0, 10**7, n)[head]
    has_line = np.where(household >= 0, draw < 0.7, draw < 0.1)
    out = np.full(n, None, dtype=object)
    for i in np.flatnonzero(has_line):
        c = CITIES[city[i]]
        prefix = c.dial_code + c.lead_digits[lead[i] % len(c.lead_digits)]
        out[i] = prefix + f"{rest[i]:07d}"[: 11 - len(prefix)]
    return out


def _web_ids(
    rng: np.random.Generator, n: int, template: str, count_p: tuple[float, float, float]
) -> tuple[np.ndarray, np.ndarray]:
    """Three random ids per person, each ``template`` with its 'x's replaced by hex digits."""
    return _random_hex(rng, 3 * n, template).reshape(n, 3), rng.choice([1, 2, 3], n, p=count_p)


def _random_hex(rng: np.random.Generator, count: int, template: str) -> np.ndarray:
    slots = np.frombuffer(template.encode("ascii"), dtype=np.uint8)
    holes = np.flatnonzero(slots == ord("x"))
    digits = np.frombuffer(rng.bytes((count * len(holes) + 1) // 2).hex().encode("ascii"), dtype=np.uint8)
    chars = np.tile(slots, (count, 1))
    chars[:, holes] = digits[: count * len(holes)].reshape(count, len(holes))
    return chars.view(f"S{len(template)}").ravel().astype(f"U{len(template)}").astype(object)


def _share_devices(
    rng: np.random.Generator, devices: np.ndarray, household: np.ndarray, head: np.ndarray, rate: float
) -> None:
    """Some households share a family tablet: the head's first device becomes everyone's first device."""
    n_households = int(household.max()) + 1
    if n_households == 0:
        return
    sharing = rng.random(n_households) < rate
    members = np.flatnonzero((household >= 0) & sharing[np.maximum(household, 0)])
    devices[members, 0] = devices[head[members], 0]


def _tastes(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """1-3 distinct favourite categories per person, popular categories more likely (Gumbel top-k)."""
    keys = np.log(CATEGORY_WEIGHTS) + rng.gumbel(size=(n, len(CATEGORY_NAMES)))
    tastes = np.argsort(-keys, axis=1)[:, :3]
    return tastes, rng.choice([1, 2, 3], n, p=[0.4, 0.4, 0.2])


# --- how people write their details down ---------------------------------------------------------

Style = Callable[[str], str]
NAME_STYLES: tuple[Style, ...] = (
    str.lower,
    str.upper,
    lambda v: f" {v}",
    lambda v: v.replace(" ", "  ") + "  ",
)
EMAIL_STYLES: tuple[Style, ...] = (
    str.upper,
    lambda v: v[:1].upper() + v[1:],
    lambda v: f" {v}",
    lambda v: f"{v} ",
)
POSTCODE_STYLES: tuple[Style, ...] = (
    str.lower,
    lambda v: v.replace(" ", ""),
    lambda v: v.lower().replace(" ", ""),
)
DATE_STYLES: tuple[Style, ...] = (  # from ISO: '12/03/1985' (day first) and '12 Mar 1985'
    lambda d: f"{d[8:]}/{d[5:7]}/{d[:4]}",
    lambda d: f"{int(d[8:])} {MONTHS[int(d[5:7]) - 1]} {d[:4]}",
)


def format_phone(national: str, style: int) -> str:
    """A UK number given as national digits, written in one of six common styles.

    >>> [format_phone("07912345678", s) for s in range(4)]
    ['07912345678', '07912 345678', '+44 7912 345678', '(07912) 345 678']
    >>> format_phone("02079460123", 1), format_phone("01614960123", 4), format_phone("01865234567", 5)
    ('020 7946 0123', '00441614960123', '+441865234567')
    """
    split = 3 if national.startswith("02") else 5 if national.startswith("07") or national[3] != "1" else 4
    head, rest = national[:split], national[split:]
    grouped = f"{rest[:4]} {rest[4:]}" if len(rest) == 8 else f"{rest[:3]} {rest[3:]}" if len(rest) == 7 else rest
    return (
        national,
        f"{head} {grouped}",
        f"+44 {head[1:]} {grouped}",
        f"({head}) {rest[:3]} {rest[3:]}",
        "0044" + national[1:],
        "+44" + national[1:],
    )[style]


PHONE_STYLES: tuple[Style, ...] = tuple(partial(format_phone, style=k) for k in range(1, 6))


def restyle(rng: np.random.Generator, values: np.ndarray, rate: float, styles: tuple[Style, ...]) -> np.ndarray:
    """Rewrite a ``rate`` share of the present values with one of ``styles``, chosen uniformly."""
    out = values.copy()
    hit = np.flatnonzero((rng.random(len(values)) < rate) & (values != None))  # noqa: E711 (elementwise on an array)
    for i, style in zip(hit, rng.integers(0, len(styles), len(hit)), strict=False):
        out[i] = styles[style](out[i])
    return out


def inject_junk(
    rng: np.random.Generator,
    values: np.ndarray,
    rate: float,
    placeholders: tuple[str, ...],
    malform: Callable[[str, int], str],
) -> np.ndarray:
    """Replace a ``rate`` share of cells by a placeholder or, for MALFORMED_SHARE of present values,
    by ``malform(value, k)`` with k in 0..2."""
    out = values.copy()
    hit = np.flatnonzero(rng.random(len(values)) < rate)
    damaged = rng.random(len(hit)) < MALFORMED_SHARE
    picks, ks = rng.integers(0, len(placeholders), len(hit)), rng.integers(0, 3, len(hit))
    for i, bad, pick, k in zip(hit, damaged, picks, ks, strict=False):
        out[i] = malform(out[i], k) if bad and out[i] is not None else placeholders[pick]
    return out


def noisy_phones(rng: np.random.Generator, national: np.ndarray, rates: NoiseRates) -> np.ndarray:
    """Re-formatted phones, some junk; a malformed phone keeps fewer than ten of its digits."""
    styled = restyle(rng, national, rates.phone_format, PHONE_STYLES)
    return inject_junk(
        rng,
        styled,
        rates.junk,
        JUNK_PHONES,
        lambda v, k: "".join(ch for ch in v if ch.isdigit())[: 2 + 2 * k],
    )


def noisy_emails(rng: np.random.Generator, emails: np.ndarray, rates: NoiseRates) -> np.ndarray:
    """Re-cased or padded emails, some junk ('john@', 'johngmail.com', 'john@@gmail.com')."""
    styled = restyle(rng, emails, rates.email_format, EMAIL_STYLES)
    return inject_junk(
        rng,
        styled,
        rates.junk,
        JUNK_EMAILS,
        lambda v, k: (v.split("@")[0] + "@", v.replace("@", ""), v.replace("@", "@@"))[k],
    )


def format_dates(rng: np.random.Generator, dates: np.ndarray, rate: float) -> np.ndarray:
    """ISO dates, with a ``rate`` share written day-first or with the month's name."""
    return restyle(rng, np.datetime_as_string(dates, unit="D").astype(object), rate, DATE_STYLES)
