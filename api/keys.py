"""API keys: who may call the API, and what for.

A key is 32 random bytes, URL-safe, prefixed ``cdp_`` (so a leaked one is recognisable in logs and secret
scanners). It is shown once, when created; the store keeps only its SHA-256 with a name, scopes, and the
times it was created and last used. A key is high-entropy, so a plain hash is enough: nothing can be guessed
from it (passwords need a slow hash; random keys do not).

Scopes: ``read:profiles`` (profiles and their 360 view, PII masked), ``read:pii`` (PII unmasked),
``write:profiles`` (merge, split, erase), ``export`` (audiences and exports) and ``admin`` (everything,
keys and the audit log included).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from graph.errors import InvalidRequest
from graph.store import GraphStore

SCOPES = ("read:profiles", "read:pii", "write:profiles", "export", "admin")
PREFIX = "cdp_"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


@dataclass(frozen=True)
class ApiKey:
    """A stored key, as ``cdp keys list`` shows it (never the key itself)."""

    name: str
    scopes: tuple[str, ...]
    created_at: str = ""
    last_used_at: str = ""

    def allows(self, scope: str) -> bool:
        return "admin" in self.scopes or scope in self.scopes


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def parse_scopes(text: str) -> tuple[str, ...]:
    """``read:profiles,export`` as a tuple; an unknown or missing scope is an error naming it and the known ones."""
    scopes = tuple(dict.fromkeys(s.strip() for s in text.split(",") if s.strip()))
    if not scopes:
        raise InvalidRequest(f"no scopes given (scopes: {', '.join(SCOPES)})")
    unknown = [s for s in scopes if s not in SCOPES]
    if unknown:
        raise InvalidRequest(f"unknown scope '{unknown[0]}' (scopes: {', '.join(SCOPES)})")
    return scopes


def create_key(store: GraphStore, name: str, scopes: str) -> str:
    """A new key named ``name`` with ``scopes`` (comma-separated); returns the key, which is stored only as
    its hash. A name in use is an error: revoke it first."""
    if not _NAME.match(name):
        raise InvalidRequest(
            f"key name '{name}': letters, digits, '_', '.' and '-', at most 64, not starting with a sign"
        )
    chosen = parse_scopes(scopes)
    key = PREFIX + secrets.token_urlsafe(32)

    def work(tx) -> None:  # type: ignore[no-untyped-def]
        if tx.api_key_named(name):
            raise InvalidRequest(f"a key named '{name}' exists: `cdp keys revoke {name}` first")
        tx.create_api_key(key_hash(key), name, ",".join(chosen), now_utc())

    store.write(work, "create an API key")
    return key


def list_keys(store: GraphStore) -> list[ApiKey]:
    return [
        ApiKey(row["name"], tuple(row["scopes"].split(",")), row["created_at"] or "", row["last_used_at"] or "")
        for row in store.api_keys()
    ]


def revoke_key(store: GraphStore, name: str) -> None:
    """Delete the key named ``name``: requests carrying it are refused from now on."""
    if not store.write(lambda tx: tx.delete_api_key(name), "revoke an API key"):
        raise InvalidRequest(f"no key named '{name}' (see `cdp keys list`)")


def ensure_admin_key(store: GraphStore, key: str) -> None:
    """Store ``key`` (from ``CDP_ADMIN_KEY``) as the admin key named ``admin``, replacing an older one of that
    name; nothing when it is stored already."""
    if len(key) < 32:
        raise InvalidRequest("CDP_ADMIN_KEY must be at least 32 characters (e.g. `openssl rand -base64 32`)")
    if authenticate(store, key) is not None:
        return

    def work(tx) -> None:  # type: ignore[no-untyped-def]
        tx.delete_api_key("admin")
        tx.create_api_key(key_hash(key), "admin", "admin", now_utc())

    store.write(work, "store the admin key")


def authenticate(store: GraphStore, key: str) -> ApiKey | None:
    """The stored key ``key`` is, or None (unknown or revoked)."""
    if not key:
        return None
    row = store.api_key_by_hash(key_hash(key))
    return None if row is None else ApiKey(row["name"], tuple(row["scopes"].split(",")), "", row["last_used_at"] or "")


def now_utc() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
