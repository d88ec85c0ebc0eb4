"""Which fields are personal data (PII), and how a caller without ``read:pii`` sees them: the one place.

Every answer the API gives passes customer values through :class:`PiiMask`: identifier values by their
type, record and golden attributes and event properties by their name. A key with ``read:pii`` (or
``admin``) sees them whole; any other sees enough to recognise a value it already knows, and no more:

>>> mask = PiiMask(reveal=False)
>>> mask.identifier("email", "jane.doe@gmail.com"), mask.identifier("phone", "+447911123124")
('j***@gmail.com', '+44*******124')
>>> mask.attribute("birth_date", "1979-04-02"), mask.attribute("last_name", "Doe"), mask.attribute("city", "Leeds")
('1979-**-**', 'D***', 'Leeds')
>>> mask.identifier("loyalty_id", "L-0042")  # a pseudonymous id: what an app joins on
'L-0042'

Personal fields: emails, phones, names, birth dates, the street part of addresses and postcodes (beyond
their area), national ids. A field a source names itself is personal when its name says so
(``home_phone``, ``billing_address``, ``dob``...). Coarse geography (city, region, country), gender,
consent flags and pseudonymous ids (CRM, loyalty, cookie, device) are not masked: segments and joins need
them and they do not single a person out.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["PII_FIELDS", "PiiMask", "pii_kind"]

STARS = "***"


def _email(value: str) -> str:
    local, at, domain = value.rpartition("@")
    return f"{local[:1]}{STARS}@{domain}" if at and local else STARS


def _phone(value: str) -> str:
    digits = value.lstrip("+")
    if len(digits) < 7:
        return STARS
    return ("+" if value.startswith("+") else "") + digits[:2] + "*" * (len(digits) - 5) + digits[-3:]


def _date(value: str) -> str:
    return f"{value[:4]}-**-**" if re.match(r"^\d{4}-\d{2}-\d{2}", value) else STARS


def _name(value: str) -> str:
    return f"{value[:1]}{STARS}" if value else value


def _postcode(value: str) -> str:
    area = value.split(" ")[0] if " " in value.strip() else value[:2]
    return f"{area} {STARS}"


def _national_id(value: str) -> str:
    return "*" * max(len(value) - 2, 3) + value[-2:] if len(value) > 4 else STARS


def _hidden(value: str) -> str:
    return STARS if value else value


MASKS: dict[str, Callable[[str], str]] = {
    "email": _email, "phone": _phone, "date": _date, "name": _name, "postcode": _postcode,
    "national_id": _national_id, "hidden": _hidden,
}  # fmt: skip

#: built-in identifier types and standard attributes that are personal data, and how each is masked
PII_FIELDS: dict[str, str] = {
    "first_name": "name", "middle_name": "name", "last_name": "name", "full_name": "name",
    "birth_date": "date", "street_number": "hidden", "street": "hidden", "address_line2": "hidden",
    "postcode": "postcode", "email_local": "name", "email": "email", "phone": "phone", "national_id": "national_id",
}  # fmt: skip
#: words in a field a source names itself that make it personal (checked in this order)
_NAMED: tuple[tuple[str, str], ...] = (
    ("email", "email"), ("mail", "email"), ("phone", "phone"), ("mobile", "phone"), ("msisdn", "phone"),
    ("birth", "date"), ("dob", "date"), ("ssn", "national_id"), ("national", "national_id"),
    ("passport", "national_id"), ("tax_id", "national_id"), ("postcode", "postcode"), ("post_code", "postcode"),
    ("zip", "postcode"), ("address", "hidden"), ("street", "hidden"), ("name", "name"),
)  # fmt: skip
_NOT_PERSONAL = frozenset({"crm_id", "loyalty_id", "cookie_id", "device_id", "city", "region", "country", "gender",
                           "email_opt_in"})  # fmt: skip


def pii_kind(name: str, table: Mapping[str, str] = PII_FIELDS) -> str | None:
    """How a field named ``name`` is masked (a key of :data:`MASKS`), or None when it is not personal.

    >>> pii_kind("surname"), pii_kind("home_phone"), pii_kind("loyalty_tier"), pii_kind("email_opt_in")
    ('name', 'phone', None, None)
    """
    key = name.strip().lower()
    if key in table:
        return table[key]
    if key in _NOT_PERSONAL or key.startswith(("consent", "opt_in")) or key.endswith(("_opt_in", "_id_type")):
        return None
    words = key.replace("-", "_")
    return next((kind for word, kind in _NAMED if word in words), None) or (
        "name" if words in ("surname", "forename", "given", "family") else None
    )


@dataclass
class PiiMask:
    """Masks personal values unless ``reveal``; notes each profile whose personal data it revealed (for the
    audit log: a read with ``read:pii`` is recorded, its values never are)."""

    reveal: bool
    revealed: set[str] = field(default_factory=set)

    def identifier(self, id_type: str, value: str, profile_id: str | None = None) -> str:
        return self._apply(pii_kind(id_type), value, profile_id)

    def attribute(self, name: str, value: str, profile_id: str | None = None) -> str:
        return self._apply(pii_kind(name), value, profile_id)

    def attributes(self, values: Mapping[str, Any], profile_id: str | None = None) -> dict[str, Any]:
        """A record's attributes or an event's properties, each personal one masked (non-text values too)."""
        return {
            name: value if pii_kind(name) is None or value is None else self.attribute(name, str(value), profile_id)
            for name, value in values.items()
        }

    def _apply(self, kind: str | None, value: str, profile_id: str | None) -> str:
        if kind is None or not value:
            return value
        if self.reveal:
            if profile_id:
                self.revealed.add(profile_id)
            return value
        return MASKS[kind](value)
