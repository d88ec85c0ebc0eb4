"""Synthetic multi-source customer data with ground truth, for ``cdp demo``, tests and benchmarks.

Four sources (CRM csv, web analytics JSON Lines, point-of-sale Parquet, marketing csv) describe one
population drawn by :mod:`ingest.synthetic_people`. ``truth.csv`` maps every row to its person and
``people.csv`` records each person's latent tastes, which drive 80% of their page views and purchases.

>>> import tempfile
>>> with tempfile.TemporaryDirectory() as tmp:
...     data = generate_dataset(Path(tmp), n_records=300, seed=1)
...     sorted(data.records_per_source), data.n_records
(['crm', 'marketing', 'pos', 'web'], 300)
"""

from __future__ import annotations

import csv
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from json.encoder import encode_basestring  # type: ignore[attr-defined]
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from ingest.synthetic_people import (
    CATEGORY_NAMES,
    CITIES,
    JUNK_LOYALTY,
    MISSING,
    NAME_STYLES,
    POSTCODE_STYLES,
    NoiseRates,
    People,
    format_dates,
    generate_people,
    inject_junk,
    noisy_emails,
    noisy_phones,
    restyle,
)

logger = logging.getLogger(__name__)

Columns = dict[str, np.ndarray]
ProgressCallback = Callable[[str, int], None]

# Fixed so that a seed always yields the same bytes; event times fall in the two years before it.
REFERENCE_TIME = np.datetime64("2026-11-01T00:00:00", "s")
HISTORY_SECONDS = 2 * 365 * 24 * 3600
TASTE_SHARE = 0.8  # share of views and purchases drawn from the person's own tastes
FILES = {"crm": "crm.csv", "web": "web.jsonl", "pos": "pos.parquet", "marketing": "marketing.csv"}
SHARES = {"crm": 0.22, "web": 0.36, "pos": 0.30, "marketing": 0.12}  # of all rows

# Category (in CATEGORY_NAMES order) -> (product noun, base price in GBP); each noun has four EDITIONS.
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
}  # fmt: skip
EDITIONS = (("Classic", 1.0), ("Pro", 1.6), ("Lite", 0.8), ("Eco", 1.1))
PRODUCTS_PER_CATEGORY = 4 * len(EDITIONS)


SOURCES_YAML = """\
sources:
  crm:
    path: crm.csv
    record_id: crm_id
    identifiers: {crm_id: crm_id, email: email, work_email: email, phone: phone, loyalty_card: loyalty_id}
    attributes: {first_name: first_name, surname: last_name, dob: birth_date, street: street, city: city, \
postcode: postcode, opt_in: email_opt_in}
  web:   # web analytics sessions, JSON Lines
    path: web.jsonl
    record_id: session_id
    identifiers: {cookie: cookie_id, device: device_id, login_email: email}
    event: {type: page_view, timestamp: ts, properties: [page, category, product, sku]}
  pos:   # point of sale, Parquet
    path: pos.parquet
    record_id: txn_id
    identifiers: {loyalty_card: loyalty_id, phone: phone}
    attributes: {card_name: full_name}
    event: {type: purchase, timestamp: ts, properties: [sku, category, amount, store]}
  marketing:  # marketing automation list, CSV
    path: marketing.csv
    record_id: contact_id
    identifiers: {email: email, mobile: phone}
    attributes: {fname: first_name, lname: last_name, zip: postcode, subscribed: email_opt_in}
"""


@dataclass(frozen=True)
class SyntheticDataset:
    """Where a generated data set was written, and how big it is."""

    directory: Path
    config_path: Path  # sources.yaml written into directory
    truth_path: Path  # truth.csv: source,record_id,person_id, one row per record of every source
    n_people: int
    n_records: int  # total rows over all sources
    records_per_source: dict[str, int]


def generate_dataset(
    directory: Path,
    n_records: int = 10_000,
    seed: int = 42,
    difficulty: float = 1.0,
    on_progress: ProgressCallback | None = None,
) -> SyntheticDataset:
    """Write the four sources, ``sources.yaml``, ``truth.csv`` and ``people.csv`` into ``directory``.

    ``n_records`` is the total row count over all sources (exact, split by fixed shares) and about three
    rows per person. ``difficulty`` scales every kind of noise linearly; 0 gives clean, canonical data.
    The same arguments always produce byte-identical files. O(n_records).
    """
    if n_records < 1 or difficulty < 0:
        raise ValueError(f"need n_records >= 1 and difficulty >= 0, got {n_records}, {difficulty}")
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    rates = NoiseRates.from_difficulty(difficulty)
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(1 + len(FILES))]
    people = generate_people(streams[0], max(1, round(n_records / 3)), rates)
    truth: list[Columns] = []
    sizes: dict[str, int] = {}
    for (source, n_rows), rng in zip(_source_sizes(n_records).items(), streams[1:], strict=False):
        truth.append(_write_one_source(directory, source, rng, people, n_rows, rates))
        sizes[source] = len(truth[-1]["record_id"])
        if on_progress is not None:
            on_progress(source, sizes[source])
    merged = {name: np.concatenate([part[name] for part in truth]) for name in truth[0]}
    return _write_metadata(directory, people, merged, sizes)


def _write_one_source(
    directory: Path, source: str, rng: np.random.Generator, people: People, n_rows: int, rates: NoiseRates
) -> Columns:
    """Build and write one source; returns its truth rows."""
    builders = {"crm": _crm_rows, "web": _web_rows, "pos": _pos_rows, "marketing": _marketing_rows}
    columns, owners = builders[source](rng, people, n_rows, rates)
    _write_source(directory / FILES[source], columns)
    logger.info("wrote %d %s records to %s", len(owners), source, directory / FILES[source])
    return {
        "source": np.full(len(owners), source, dtype=object),
        "record_id": next(iter(columns.values())),  # the record id is always the first column
        "person_id": people.person_id[owners],
    }


def _source_sizes(n_records: int) -> dict[str, int]:
    """Split ``n_records`` by SHARES with largest remainders, so the sizes add up exactly."""
    exact = {source: share * n_records for source, share in SHARES.items()}
    sizes = {source: int(value) for source, value in exact.items()}
    by_remainder = sorted(exact, key=lambda s: exact[s] - sizes[s], reverse=True)
    for source in by_remainder[: n_records - sum(sizes.values())]:
        sizes[source] += 1
    return sizes


def _write_metadata(directory: Path, people: People, truth: Columns, sizes: dict[str, int]) -> SyntheticDataset:
    config_path, truth_path = directory / "sources.yaml", directory / "truth.csv"
    config_path.write_text(SOURCES_YAML, encoding="utf-8")
    _write_csv(truth_path, truth)
    names = np.array(CATEGORY_NAMES, dtype=object)[people.tastes]
    tastes = (
        names[:, 0]
        + np.where(people.n_tastes > 1, "|" + names[:, 1], "")
        + np.where(people.n_tastes > 2, "|" + names[:, 2], "")
    )
    _write_csv(directory / "people.csv", {"person_id": people.person_id, "tastes": tastes})
    return SyntheticDataset(
        directory=directory,
        config_path=config_path,
        truth_path=truth_path,
        n_people=people.n,
        n_records=sum(sizes.values()),
        records_per_source=sizes,
    )


def _write_source(path: Path, columns: Columns) -> None:
    if path.suffix == ".csv":
        _write_csv(path, columns)
    elif path.suffix == ".parquet":
        pq.write_table(pa.table({name: pa.array(values) for name, values in columns.items()}), path)
    else:
        with path.open("w", encoding="utf-8", newline="\n") as handle:
            handle.writelines(_json_lines(columns))


def _write_csv(path: Path, columns: Columns) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(zip(*columns.values(), strict=False))


def _json_lines(columns: Columns) -> list[str]:
    """One JSON object per row, each value encoded once per column (much faster than json.dumps per row)."""
    keys = (json.dumps(name).replace("{", "{{").replace("}", "}}") for name in columns)
    template = "{{" + ", ".join(f"{key}: {{}}" for key in keys) + "}}\n"
    encoded = [
        [encode_basestring(v) if type(v) is str else _json_value(v) for v in values.tolist()]
        for values in columns.values()
    ]
    return [template.format(*row) for row in zip(*encoded, strict=False)]


def _json_value(value: object) -> str:
    return "null" if value is None else json.dumps(value, ensure_ascii=False)


# --- who appears where ---------------------------------------------------------------------------


def _allocate(rng: np.random.Generator, n_people: int, n_rows: int, reach: float) -> tuple[np.ndarray, np.ndarray]:
    """Owners of ``n_rows`` rows: a ``reach`` share of people get one row each, the remaining rows go
    to those members with heavy-tailed weights. Returns (owner, is_repeat), shuffled."""
    n_members = int(min(n_people, n_rows, max(1, round(reach * n_people)))) if n_rows else 0
    members = rng.choice(n_people, n_members, replace=False)
    weights = rng.gamma(0.7, size=n_members)
    extra = (
        members[rng.choice(n_members, n_rows - n_members, p=weights / weights.sum())]
        if n_rows > n_members
        else np.empty(0, dtype=np.int64)
    )
    owners = np.concatenate([members, extra]).astype(np.int64)
    order = rng.permutation(n_rows)
    return owners[order], (np.arange(n_rows) >= n_members)[order]


def _record_ids(prefix: str, n: int) -> np.ndarray:
    return np.array([f"{prefix}{i:08d}" for i in range(1, n + 1)], dtype=object)


def _chance(rng: np.random.Generator, n: int, p: float | np.ndarray) -> np.ndarray:
    return rng.random(n) < p


def _either(mask: np.ndarray, first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """``first`` where ``mask`` and it is present, else ``second``."""
    return np.where(mask & (first != None), first, second)  # noqa: E711 (elementwise on an array)


def _blank(rng: np.random.Generator, values: np.ndarray, p: float) -> np.ndarray:
    return np.where(_chance(rng, len(values), p), MISSING, values)


# --- the sources ---------------------------------------------------------------------------------


def _crm_rows(rng: np.random.Generator, people: People, n_rows: int, rates: NoiseRates) -> tuple[Columns, np.ndarray]:
    """CRM contacts; repeat rows are duplicates that carry the older email and often a typo'd name."""
    owners, repeat = _allocate(rng, people.n, n_rows, SHARES["crm"] * 3 / (1 + rates.crm_duplicate))
    n = len(owners)
    email = _either(repeat, people.old_email[owners], people.email[owners])
    email = _either(_chance(rng, n, 0.3) & ~repeat, people.family_email[owners], email)
    phone = _either(_chance(rng, n, 0.35), people.home_phone[owners], people.mobile[owners])
    first, last = misspell_names(rng, people, owners, np.where(repeat, rates.duplicate_typo, rates.typo))
    columns = {
        "crm_id": _record_ids("CRM", n),
        "first_name": restyle(rng, first, rates.case, NAME_STYLES),
        "surname": restyle(rng, last, rates.case, NAME_STYLES),
        "email": noisy_emails(rng, _blank(rng, email, 0.05), rates),
        "work_email": noisy_emails(rng, _blank(rng, people.work_email[owners], 0.3), rates),
        "phone": noisy_phones(rng, _blank(rng, phone, 0.1), rates),
        "dob": format_dates(rng, people.birth_date[owners], rates.date_format),
        "street": people.street[owners],
        "city": np.array([c.name for c in CITIES], dtype=object)[people.city[owners]],
        "postcode": restyle(rng, people.postcode[owners], rates.case, POSTCODE_STYLES),
        "opt_in": np.where(_chance(rng, n, 0.55), "Y", "N").astype(object),
        # members who signed up for the loyalty scheme at the desk: the CRM keeps their card number
        "loyalty_card": _blank(rng, people.loyalty_id[owners], 0.3),
    }
    return columns, owners


def _marketing_rows(
    rng: np.random.Generator, people: People, n_rows: int, rates: NoiseRates
) -> tuple[Columns, np.ndarray]:
    owners, _ = _allocate(rng, people.n, n_rows, SHARES["marketing"] * 3)
    n = len(owners)
    email = _either(_chance(rng, n, 0.5), people.old_email[owners], people.email[owners])
    email = _either(_chance(rng, n, 0.25), people.family_email[owners], email)
    first, last = misspell_names(rng, people, owners, rates.typo)
    columns = {
        "contact_id": _record_ids("MKT", n),
        "email": noisy_emails(rng, email, rates),
        "mobile": noisy_phones(rng, _blank(rng, people.mobile[owners], 0.3), rates),
        "fname": restyle(rng, first, rates.case, NAME_STYLES),
        "lname": restyle(rng, last, rates.case, NAME_STYLES),
        "zip": restyle(rng, _blank(rng, people.postcode[owners], 0.2), rates.case, POSTCODE_STYLES),
        "subscribed": np.where(_chance(rng, n, 0.7), "true", "false").astype(object),
    }
    return columns, owners


def _web_rows(rng: np.random.Generator, people: People, n_rows: int, rates: NoiseRates) -> tuple[Columns, np.ndarray]:
    """Sessions with one page view each; 30% logged in. Rows are in time order."""
    owners, _ = _allocate(rng, people.n, n_rows, 0.55)
    ts, order = _timestamps(rng, len(owners))
    owners, n = owners[order], len(owners)
    login = _either(_chance(rng, n, 0.15), people.work_email[owners], people.email[owners])
    login = _either(_chance(rng, n, 0.1), people.old_email[owners], login)
    product = _taste_products(rng, people, owners)
    catalogue = product_catalogue()
    category = np.array(CATEGORY_NAMES, dtype=object)[_category_of(product)]
    columns = {
        "session_id": _record_ids("WS", n),
        "ts": ts,
        "cookie": _pick(rng, people.cookies[owners], people.n_cookies[owners]),
        "device": _pick(rng, people.devices[owners], people.n_devices[owners]),
        "login_email": noisy_emails(rng, np.where(_chance(rng, n, 0.3), login, MISSING), rates),
        "page": "/" + category + "/" + catalogue.slug[product],
        "category": category,
        "product": catalogue.name[product],
        "sku": catalogue.sku[product],  # as an e-commerce tag records it, so views and purchases meet
    }
    return columns, owners


def _pos_rows(rng: np.random.Generator, people: People, n_rows: int, rates: NoiseRates) -> tuple[Columns, np.ndarray]:
    """Till transactions: mostly identified by loyalty card, some by phone, some by neither."""
    owners, _ = _allocate(rng, people.n, n_rows, 0.45)
    ts, order = _timestamps(rng, len(owners))
    owners, n = owners[order], len(owners)
    product = _taste_products(rng, people, owners)
    catalogue = product_catalogue()
    phone = _either(_chance(rng, n, 0.3), people.home_phone[owners], people.mobile[owners])
    quantity = rng.choice([1, 2, 3], n, p=[0.85, 0.12, 0.03])
    home_store = _chance(rng, n, 0.75)
    store = np.where(home_store, people.city[owners], rng.integers(0, len(CITIES), n))
    columns = {
        "txn_id": _record_ids("TXN", n),
        "ts": ts,
        "loyalty_card": inject_junk(
            rng,
            _blank(rng, people.loyalty_id[owners], 0.08),
            rates.junk,
            JUNK_LOYALTY,
            lambda v, k: v[: 3 + k],
        ),
        "phone": noisy_phones(rng, np.where(_chance(rng, n, 0.2), phone, MISSING), rates),
        "card_name": _card_names(rng, people, owners, rates),
        "sku": catalogue.sku[product],
        "category": np.array(CATEGORY_NAMES, dtype=object)[_category_of(product)],
        "amount": np.round(catalogue.price[product] * quantity, 2),
        "store": np.array([c.store for c in CITIES], dtype=object)[store],
    }
    return columns, owners


def misspell(word: str, op: int, position: float, letter: str) -> str:
    """Swap (op 0), drop (1) or substitute (2) one letter after the first; the result always differs.

    >>> misspell("Smith", 0, 0.0, "x"), misspell("Smith", 1, 0.0, "x"), misspell("Smith", 2, 0.99, "x")
    ('Simth', 'Sith', 'Smixh')
    """
    if len(word) < 3:
        return word + letter
    i = 1 + int(position * (len(word) - 2))  # never the first letter: initials are rarely mistyped
    if op == 0 and word[i] != word[i + 1]:
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    if op == 1:
        return word[:i] + word[i + 1 :]
    if letter == word[i].lower():
        letter = chr((ord(letter) - ord("a") + 1) % 26 + ord("a"))
    return word[:i] + (letter.upper() if word[i].isupper() else letter) + word[i + 1 :]


def misspell_names(
    rng: np.random.Generator, people: People, owners: np.ndarray, p: float | np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """First and last names of ``owners``, a ``p`` share of rows with a typo in one or both."""
    first, last = people.first_name[owners], people.last_name[owners]
    hit = np.flatnonzero(rng.random(len(owners)) < p)
    which = rng.choice([0, 1, 2], len(hit), p=[0.45, 0.45, 0.1])  # first, last or both
    ops, where = rng.integers(0, 3, (len(hit), 2)), rng.random((len(hit), 2))
    letters = np.array(list("abcdefghijklmnopqrstuvwxyz"), dtype=object)[rng.integers(0, 26, (len(hit), 2))]
    for k, i in enumerate(hit):
        if which[k] != 1:
            first[i] = misspell(first[i], ops[k, 0], where[k, 0], letters[k, 0])
        if which[k] != 0:
            last[i] = misspell(last[i], ops[k, 1], where[k, 1], letters[k, 1])
    return first, last


def _card_names(rng: np.random.Generator, people: People, owners: np.ndarray, rates: NoiseRates) -> np.ndarray:
    """The name embossed on the payment card, present on 60% of transactions."""
    first, last = misspell_names(rng, people, owners, rates.typo)
    styles = np.where(_chance(rng, len(owners), min(0.95, 5 * rates.case)), rng.integers(1, 4, len(owners)), 0)
    names = np.array(
        [
            (f"{f} {s}", f"{f} {s}".upper(), f"{f[0]} {s}".upper(), f"{s}/{f}".upper())[style]
            for f, s, style in zip(first, last, styles, strict=False)
        ],
        dtype=object,
    )
    return _blank(rng, restyle(rng, names, rates.case, NAME_STYLES), 0.4)


# --- events --------------------------------------------------------------------------------------


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
    for category in CATEGORY_NAMES:
        editions = [
            (noun, base, edition, factor) for noun, base in CATEGORIES[category] for edition, factor in EDITIONS
        ]
        for k, (noun, base, edition, factor) in enumerate(editions):
            sku.append(f"{category[:3].upper()}-{k + 1:03d}")
            name.append(f"{edition} {noun}")
            slug.append(f"{edition}-{noun}".lower().replace(" ", "-"))
            price.append(round(base * factor, 2))
    return Catalogue(
        np.array(sku, dtype=object),
        np.array(name, dtype=object),
        np.array(slug, dtype=object),
        np.array(price),
    )


def _timestamps(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Sorted ISO 8601 UTC times within HISTORY_SECONDS before REFERENCE_TIME, and the sorting order."""
    offsets = rng.integers(0, HISTORY_SECONDS, n)
    order = np.argsort(-offsets, kind="stable")
    times = REFERENCE_TIME - offsets[order].astype("timedelta64[s]")
    return np.char.add(np.datetime_as_string(times, unit="s"), "Z").astype(object), order


def _taste_products(rng: np.random.Generator, people: People, owners: np.ndarray) -> np.ndarray:
    """Product index per row: TASTE_SHARE from one of the owner's tastes, the rest from any category;
    within a category popular products (Zipf-like) are chosen more often."""
    n, per_category = len(owners), PRODUCTS_PER_CATEGORY
    slot = (rng.random(n) * people.n_tastes[owners]).astype(np.int64)
    own = people.tastes[owners, slot]
    category = np.where(_chance(rng, n, TASTE_SHARE), own, rng.integers(0, len(CATEGORY_NAMES), n))
    popularity = 1.0 / np.arange(1, per_category + 1)
    return category * per_category + rng.choice(per_category, n, p=popularity / popularity.sum())


def _category_of(product: np.ndarray) -> np.ndarray:
    return product // PRODUCTS_PER_CATEGORY


def _pick(rng: np.random.Generator, pool: np.ndarray, count: np.ndarray) -> np.ndarray:
    """One of the first ``count`` entries of each row of ``pool``."""
    slot = (rng.random(len(count)) * count).astype(np.int64)
    return pool[np.arange(len(count)), slot]
