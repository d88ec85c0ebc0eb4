"""API keys (issue 13): created once and shown once, stored only as a hash, listed, revoked; on each real store,
and through the command line."""

from __future__ import annotations

import pytest

from api.keys import PREFIX, authenticate, create_key, key_hash, list_keys, revoke_key
from graph.errors import InvalidRequest
from graph.store import GraphStore
from tests.api.test_cli_quick import _cdp


def test_a_key_authenticates_with_its_scopes_until_revoked(store: GraphStore) -> None:
    key = create_key(store, "shop-app", "read:profiles, export")
    other = create_key(store, "ops", "admin")
    assert key.startswith(PREFIX) and len(key) > 40 and key != other
    found = authenticate(store, key)
    assert found is not None and found.name == "shop-app" and found.scopes == ("read:profiles", "export")
    assert found.allows("export") and not found.allows("read:pii")
    assert authenticate(store, other).allows("read:pii")  # admin holds every scope
    assert authenticate(store, key[:-1] + ("A" if key[-1] != "A" else "B")) is None
    assert authenticate(store, "not-a-key") is None
    assert [(k.name, k.scopes) for k in list_keys(store)] == [
        ("ops", ("admin",)),
        ("shop-app", ("read:profiles", "export")),
    ]
    revoke_key(store, "shop-app")
    assert authenticate(store, key) is None
    assert [k.name for k in list_keys(store)] == ["ops"]


def test_only_the_hash_is_stored(store: GraphStore, tmp_path) -> None:
    key = create_key(store, "app", "read:profiles")
    assert store.api_key_by_hash(key_hash(key)) is not None  # found by its hash
    assert all(key not in str(row) and key_hash(key) not in str(row) for row in store.api_keys())
    if store.kind == "embedded":  # and the key's text is nowhere in the database's files
        store.close()
        files = [f for f in (tmp_path / "cdp").rglob("*") if f.is_file()]
        assert files and not any(key.encode() in f.read_bytes() for f in files)


@pytest.mark.parametrize(
    ("name", "scopes", "message"),
    [
        ("app", "read:everything", "unknown scope 'read:everything'"),
        ("app", " , ", "no scopes given"),
        ("bad name!", "admin", "key name 'bad name!'"),
    ],
)
def test_bad_names_and_scopes_are_errors_naming_them(store: GraphStore, name: str, scopes: str, message: str) -> None:
    with pytest.raises(InvalidRequest, match=message):
        create_key(store, name, scopes)
    assert list_keys(store) == []


def test_a_name_in_use_and_an_unknown_name_are_errors(store: GraphStore) -> None:
    create_key(store, "app", "admin")
    with pytest.raises(InvalidRequest, match="a key named 'app' exists"):
        create_key(store, "app", "read:profiles")
    with pytest.raises(InvalidRequest, match="no key named 'nope'"):
        revoke_key(store, "nope")


def test_the_cli_prints_the_key_alone_on_stdout(tmp_path) -> None:
    env = {"CDP_DATA_DIR": str(tmp_path / "cdp"), "CDP_STORE": "embedded"}
    made = _cdp("keys", "create", "--name", "app", "--scopes", "read:profiles,export", env=env)
    assert made.returncode == 0, made.stderr
    key = made.stdout.strip()
    assert made.stdout == key + "\n" and key.startswith(PREFIX)
    listed = _cdp("keys", "list", env=env)
    assert listed.stdout.startswith("app\tread:profiles,export\tcreated ") and key not in listed.stdout
    assert "last used never" in listed.stdout
    again = _cdp("keys", "create", "--name", "app", "--scopes", "admin", env=env)
    assert again.returncode != 0 and "a key named 'app' exists" in again.stderr and again.stdout == ""
    assert _cdp("keys", "revoke", "app", env=env).returncode == 0
    assert "no keys" in _cdp("keys", "list", env=env).stderr
