"""Store settings, read from the environment (``CDP_*``) at the edge, never at import time."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from graph.errors import ConfigError
from graph.store import GraphStore

#: passwords that no networked deployment may run with
DEFAULT_PASSWORDS = frozenset({"", "neo4j", "password", "changeme", "admin", "secret", "test"})


class StoreSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CDP_", extra="ignore")

    store: Literal["embedded", "neo4j"] = "embedded"
    data_dir: Path = Path(".cdp")
    embedded_buffer_pool_mb: int = 8192
    #: region for phone numbers without +country in API lookups; match sources.yaml's options.default_region
    default_region: str = "GB"
    neo4j_uri: str = "bolt://127.0.0.1:7687"
    neo4j_user: str = "neo4j"
    neo4j_password: SecretStr = SecretStr("")
    neo4j_database: str = "neo4j"

    def has_default_password(self) -> bool:
        return self.neo4j_password.get_secret_value() in DEFAULT_PASSWORDS


def open_store(settings: StoreSettings) -> GraphStore:
    """Open the configured store and make sure its schema exists."""
    if settings.store == "neo4j":
        from graph.neo4j_store import Neo4jStore

        if not settings.neo4j_password.get_secret_value():
            raise ConfigError(f"CDP_NEO4J_PASSWORD is empty; set it to connect to {settings.neo4j_uri}")
        store: GraphStore = Neo4jStore(
            settings.neo4j_uri,
            settings.neo4j_user,
            settings.neo4j_password.get_secret_value(),
            settings.neo4j_database,
        )
    else:
        from graph.embedded import EmbeddedStore

        store = EmbeddedStore(settings.data_dir, settings.embedded_buffer_pool_mb)
    store.ensure_schema()
    return store
