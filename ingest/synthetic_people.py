"""The ground-truth population behind the synthetic demo data set.

A person is an index into the arrays of :class:`People`; every array has one entry per person (or one row
for the 2-D ones). Generation is vectorised with numpy; the few per-person Python loops only format
strings. Cost is O(n) in the number of people.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

FIRST_NAMES: tuple[str, ...] = tuple("""
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
""".split())

LAST_NAMES: tuple[str, ...] = tuple("""
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
""".split())

STREET_NAMES: tuple[str, ...] = tuple("""
High Oak Church Station Mill Park Victoria Albert Queen Manor Grange Elm Willow Chestnut Beech Meadow Orchard
Springfield Highfield Windsor York Richmond Alexandra Clarence Marlborough Stanley Cavendish Ashfield Brookside
Riverside Woodland Hillside Greenway Fairview Rose Holly Cedar Maple Laurel Hawthorn Lime Poplar Sycamore
""".split())
STREET_SUFFIXES = ("Road", "Street", "Lane", "Avenue", "Close", "Drive", "Gardens", "Crescent", "Way", "Grove")
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
)

# UK mobile blocks that phonenumbers validates in full; 0745x, 0770x and 0791x are left out because
# parts of them are reserved or unallocated.
MOBILE_PREFIXES: tuple[str, ...] = tuple(
    [f"074{d}" for d in "01234678"] + [f"075{d}" for d in "0123456789"] + [f"077{d}" for d in "123456789"]
    + [f"078{d}" for d in "0123456789"] + [f"079{d}" for d in "02345678"]
)

EMAIL_DOMAINS = ("gmail.com", "hotmail.co.uk", "yahoo.co.uk", "outlook.com", "icloud.com", "btinternet.com",
                 "live.co.uk", "aol.com", "sky.com", "protonmail.com")
EMAIL_DOMAIN_WEIGHTS = (0.36, 0.16, 0.1, 0.1, 0.08, 0.06, 0.05, 0.03, 0.03, 0.03)
WORK_DOMAINS = ("acme-logistics.co.uk", "northwind.com", "bluefin-capital.com", "nhs.net", "brightlabs.io",
                "harbourlaw.co.uk", "greenleaf-energy.com", "citycouncil.gov.uk", "oakwood-school.org.uk",
                "stellar-media.co.uk", "pinnacle-retail.com", "quantum-analytics.io")

# Category -> (product noun, base price in GBP). Every noun comes in four editions (see EDITIONS).
CATEGORIES: dict[str, tuple[tuple[str, float], ...]] = {
    "running": (("Trail Shoes", 95.0), ("Running Socks", 12.0), ("Hydration Vest", 55.0), ("GPS Watch", 199.0)),
    "cycling": (("Bike Helmet", 60.0), ("Cycling Jersey", 45.0), ("Bike Light", 30.0), ("Puncture Kit", 9.0)),
    "kitchen": (("Chef Knife", 70.0), ("Cast Iron Pan", 40.0), ("Coffee Grinder", 85.0), ("Stand Mixer", 249.0)),
    "books": (("Crime Novel", 8.99), ("Cookbook", 22.0), ("Travel Guide", 15.0), ("Biography", 18.0)),
    "gaming": (("Game Controller", 55.0), ("Gaming Headset", 80.0), ("Mechanical Keyboard", 110.0),
               ("Strategy Game", 35.0)),
    "gardening": (("Pruning Shears", 25.0), ("Seed Kit", 12.0), ("Garden Hose", 30.0), ("Raised Bed", 90.0)),
    "beauty": (("Face Serum", 28.0), ("Lipstick", 16.0), ("Hair Dryer", 65.0), ("Perfume", 58.0)),
    "fashion": (("Denim Jacket", 75.0), ("Wool Scarf", 25.0), ("Leather Boots", 140.0), ("Summer Dress", 45.0)),
    "electronics": (("Wireless Earbuds", 120.0), ("Smart Speaker", 90.0), ("Phone Charger", 20.0),
                    ("E-Reader", 110.0)),
    "toys": (("Building Blocks", 35.0), ("Plush Bear", 15.0), ("Jigsaw Puzzle", 14.0), ("Remote Car", 40.0)),
    "home": (("Scented Candle", 18.0), ("Throw Blanket", 35.0), ("Table Lamp", 48.0), ("Picture Frame", 12.0)),
    "pets": (("Dog Bed", 45.0), ("Cat Tree", 70.0), ("Pet Treats", 6.0), ("Dog Lead", 15.0)),
}
CATEGORY_NAMES: tuple[str, ...] = tuple(CATEGORIES)
CATEGORY_WEIGHTS = np.array([1.2, 0.8, 1.3, 1.5, 1.0, 0.9, 1.1, 1.4, 1.3, 0.7, 1.2, 0.8])
EDITIONS = (("Classic", 1.0), ("Pro", 1.6), ("Lite", 0.8), ("Eco", 1.1))
PRODUCTS_PER_CATEGORY = 4 * len(EDITIONS)


@dataclass(frozen=True)
class Catalogue:
    """Products indexed as ``category * PRODUCTS_PER_CATEGORY + k``."""

    sku: np.ndarray
    name: np.ndarray
    slug: np.ndarray
    price: np.ndarray


@lru_cache(maxsize=1)
def product_catalogue() -> Catalogue:
    """The fixed product catalogue; the same for every seed so SKUs are stable across data sets."""
    sku, name, slug, price = [], [], [], []
    for category, nouns in CATEGORIES.items():
        for k, ((noun, base), (edition, factor)) in enumerate(
            (n, e) for n in nouns for e in EDITIONS
        ):
            sku.append(f"{category[:3].upper()}-{k + 1:03d}")
            name.append(f"{edition} {noun}")
            slug.append(f"{edition}-{noun}".lower().replace(" ", "-"))
            price.append(round(base * factor, 2))
    return Catalogue(np.array(sku, dtype=object), np.array(name, dtype=object),
                     np.array(slug, dtype=object), np.array(price))


@dataclass(frozen=True)
class NoiseRates:
    """Probabilities of each kind of mess, all proportional to ``difficulty`` (capped below 1)."""

    typo: float  # any name on any row
    duplicate_typo: float  # a name on a CRM duplicate row
    case: float  # names lower/upper-cased or padded with spaces
    phone_format: float  # a phone written other than as compact national digits
    email_format: float  # an email upper-cased, capitalised or padded
    date_format: float  # a birth date written other than ISO
    junk: float  # an identifier cell replaced by a placeholder or a malformed value
    crm_duplicate: float  # extra CRM rows per CRM person
    email_change: float  # people with an older, different personal email
    household: float  # people living in a multi-person household
    family_email: float  # households with a shared family email
    shared_device: float  # households whose members share a device

    @classmethod
    def from_difficulty(cls, difficulty: float) -> NoiseRates:
        def rate(base: float) -> float:
            return float(min(0.95, base * max(0.0, difficulty)))

        return cls(typo=rate(0.02), duplicate_typo=rate(0.6), case=rate(0.12), phone_format=rate(0.6),
                   email_format=rate(0.08), date_format=rate(0.5), junk=rate(0.02), crm_duplicate=rate(0.12),
                   email_change=rate(0.15), household=rate(0.2), family_email=rate(0.35),
                   shared_device=rate(0.25))


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
        birth_date=birth, street=street, city=city, postcode=postcode, household=household,
        email=emails[0], old_email=emails[1], work_email=emails[2], family_email=emails[3],
        mobile=_mobiles(rng, n), home_phone=_home_phones(rng, city, household, head),
        loyalty_id=np.where(has_card, "LC" + _text(loyalty), None),
        cookies=cookies, n_cookies=n_cookies, devices=devices, n_devices=n_devices,
        tastes=tastes, n_tastes=n_tastes,
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
    street = (_text(rng.integers(1, 240, n)) + " " + _pick_text(rng, STREET_NAMES, n) + " "
              + _pick_text(rng, STREET_SUFFIXES, n))
    postcode = (areas[city, rng.integers(0, 6, n)] + _text(rng.integers(1, 21, n)) + " "
                + _text(rng.integers(1, 10, n)) + letters[rng.integers(0, len(letters), n)]
                + letters[rng.integers(0, len(letters), n)])
    return street, city, postcode


def _text(numbers: np.ndarray) -> np.ndarray:
    """Integers as an object array of decimal strings."""
    return numbers.astype(str).astype(object)


def _pick_text(rng: np.random.Generator, words: tuple[str, ...], n: int) -> np.ndarray:
    return np.array(words, dtype=object)[rng.integers(0, len(words), n)]


def _email_set(
    rng: np.random.Generator, first: np.ndarray, last: np.ndarray, birth: np.ndarray,
    household: np.ndarray, head: np.ndarray, rates: NoiseRates,
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
    work = np.where(rng.random(n) < 0.25, first_ascii + "." + last_ascii + "@" + work_domain, None)
    seen: set[str] = set()
    personal = [_make_unique(column, seen, f"{k}") for k, column in enumerate((email, old, work))]
    return [*personal, _family_emails(rng, last_ascii, household, head, rates.family_email, seen)]


def _personal_emails(
    rng: np.random.Generator, first: np.ndarray, last: np.ndarray, year: np.ndarray
) -> np.ndarray:
    n = len(first)
    pattern, number = rng.integers(0, 6, n), _text(rng.integers(1, 100, n))
    weights = np.array(EMAIL_DOMAIN_WEIGHTS) / sum(EMAIL_DOMAIN_WEIGHTS)
    domain = np.array(EMAIL_DOMAINS, dtype=object)[rng.choice(len(EMAIL_DOMAINS), n, p=weights)]
    yy = np.char.zfill(year.astype(str), 2).astype(object)
    builders = (
        lambda i: first[i] + "." + last[i], lambda i: first[i] + last[i] + number[i],
        lambda i: first[i].astype("U1").astype(object) + last[i],
        lambda i: first[i] + "_" + last[i], lambda i: first[i] + yy[i], lambda i: last[i] + "." + first[i],
    )
    local = np.empty(n, dtype=object)
    for k, build in enumerate(builders):
        rows = np.flatnonzero(pattern == k)
        if len(rows):
            local[rows] = build(rows)
    return local + "@" + domain


def _family_emails(
    rng: np.random.Generator, last: np.ndarray, household: np.ndarray, head: np.ndarray, rate: float,
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
        [(f"{s}family@{d}", f"the{s}s@{d}")[k] if h else None
         for s, d, k, h in zip(last[head_of], domain, style, has_email)],
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


def _home_phones(
    rng: np.random.Generator, city: np.ndarray, household: np.ndarray, head: np.ndarray
) -> np.ndarray:
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
