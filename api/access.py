"""Access control seam: every read of customer data asks the policy first.

An action is the scope it needs (``read:profiles``, ``write:profiles``, ``export``); an API key's scopes are
its principal's (:mod:`api.auth`), and the CLI user holds every one. PII masking plugs in here too.
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

    def holds(self, scope: str) -> bool:
        return "*" in self.scopes or scope in self.scopes


class AccessPolicy(Protocol):
    def check(self, principal: Principal, action: str) -> None: ...


class ScopePolicy:
    """Allows an action when the principal holds its scope or ``*``."""

    def check(self, principal: Principal, action: str) -> None:
        if not principal.holds(action):
            raise AccessDenied(f"the API key '{principal.name}' lacks the scope '{action}'")


LOCAL_USER = Principal("local")
