"""Access control seam: every read of customer data asks the policy first.

Today one policy allows everything; scoped API keys and PII masking plug in here without touching the
resolvers or the queries.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from graph.errors import CdpError


class AccessDenied(CdpError):
    """The caller may not perform this action."""


@dataclass(frozen=True)
class Principal:
    """Who is asking: an API key's owner, the CLI user."""

    name: str
    scopes: frozenset[str] = frozenset({"*"})


class AccessPolicy(Protocol):
    def check(self, principal: Principal, action: str) -> None: ...


class ScopePolicy:
    """Allows an action when the principal holds its scope or ``*``."""

    def check(self, principal: Principal, action: str) -> None:
        if "*" not in principal.scopes and action not in principal.scopes:
            raise AccessDenied(f"'{principal.name}' may not {action}")


LOCAL_USER = Principal("local")
