"""Consent by purpose in the golden view: for each purpose the latest statement any record of the profile
makes, with its source, and the history of statements.

Records state consent as attributes (mapped by a source's ``consent:`` block at ingest): ``consent_email``
(``true``/``false``) and ``consent_email_at`` (when it was given or withdrawn, UTC). A record without the
time is taken as stating it when it was last seen. The older ``email_opt_in`` attribute is the ``email``
purpose. The latest statement wins whatever its source: a withdrawal in one system overrides an older
grant in another, and a newer grant overrides an older withdrawal.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from ingest.config import PURPOSES

__all__ = [
    "CONTACT_FIELDS",
    "PURPOSES",
    "ConsentState",
    "ConsentStatement",
    "consent_attribute",
    "consent_of",
]

#: the contact details an export for each purpose may carry, when the customer consented to it
CONTACT_FIELDS: dict[str, tuple[str, ...]] = {"email": ("email",), "sms": ("phone",), "ads": ("email", "phone"),
                                               "analytics": ()}  # fmt: skip
_LEGACY = {"email_opt_in": "email"}
_GRANTED = {"true": True, "false": False}


def consent_attribute(purpose: str, at: bool = False) -> str:
    """The attribute a record states consent to ``purpose`` in (``at``: its time).

    >>> consent_attribute("sms"), consent_attribute("sms", at=True)
    ('consent_sms', 'consent_sms_at')
    """
    return f"consent_{purpose}_at" if at else f"consent_{purpose}"


@dataclass(frozen=True)
class ConsentStatement:
    granted: bool
    at: str
    source: str


@dataclass(frozen=True)
class ConsentState:
    """The latest statement for one purpose, and every statement oldest first."""

    purpose: str
    granted: bool
    at: str
    source: str
    history: list[ConsentStatement] = field(default_factory=list)


def consent_of(records: Iterable[tuple[str, str, dict[str, str]]]) -> dict[str, ConsentState]:
    """Purpose -> state, from ``(source, seen_at, attributes)`` of one profile's records. O(records).

    >>> crm = ("crm", "2025-01-01T00:00:00Z", {"consent_email": "true", "consent_email_at": "2024-05-01T00:00:00Z"})
    >>> web = ("web", "2025-02-01T00:00:00Z", {"email_opt_in": "false"})
    >>> state = consent_of([crm, web])["email"]
    >>> state.granted, state.source, [s.granted for s in state.history]
    (False, 'web', [True, False])
    """
    statements: dict[str, list[ConsentStatement]] = {}
    for source, seen_at, attributes in records:
        for name, value in attributes.items():
            purpose = _LEGACY.get(name) or (name[len("consent_") :] if name.startswith("consent_") else "")
            if purpose not in PURPOSES or str(value).lower() not in _GRANTED:
                continue
            at = str(attributes.get(consent_attribute(purpose, at=True)) or seen_at)
            statements.setdefault(purpose, []).append(ConsentStatement(_GRANTED[str(value).lower()], at, source))
    out = {}
    for purpose, said in statements.items():
        said.sort(key=lambda s: (s.at, s.source, s.granted))
        latest = said[-1]
        out[purpose] = ConsentState(purpose, latest.granted, latest.at, latest.source, said)
    return out
