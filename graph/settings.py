"""The one settings root of cdp-graph: every ``CDP_*`` environment variable, read at the edge (the CLI,
``cdp serve``) and passed down, never read at import time or inside the layers.

How ingest read values (the phone region, the date order) is not a setting of a process: it is stored
with the graph by ingest, so every later lookup normalises a value as ingest did (see
:func:`ingest.lookup.lookup_options`); ``default_region`` here only applies to a graph nothing was
ingested into yet.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from graph.errors import ConfigError
from graph.migrations import migrate
from graph.store import GraphStore

__all__ = ["DEFAULT_PASSWORDS", "Settings", "StoreSettings", "open_store"]

#: passwords that no networked deployment may run with
DEFAULT_PASSWORDS = frozenset({"", "neo4j", "password", "changeme", "admin", "secret", "test"})


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CDP_", extra="ignore")

    store: Literal["embedded", "neo4j"] = "embedded"
    data_dir: Path = Path(".cdp")
    embedded_buffer_pool_mb: int = Field(default=8192, ge=64)
    embedded_readers: int = Field(default=16, ge=1)  # read connections the embedded store pools
    #: phone region for lookups in a graph that no ingest has stored its region in yet
    default_region: str = "GB"
    neo4j_uri: str = "bolt://127.0.0.1:7687"
    neo4j_user: str = "neo4j"
    neo4j_password: SecretStr = SecretStr("")
    neo4j_database: str = "neo4j"
    #: seconds a write keeps retrying after the Neo4j connection is lost, before it reports the loss
    neo4j_retry_seconds: float = Field(default=30.0, ge=0)
    #: ingest worker processes; None: one per core (ingests of fewer than 20,000 rows use none)
    ingest_workers: int | None = Field(default=None, ge=0)
    #: seconds a writing command waits for another writer (a resolve, an ingest) to finish
    writer_wait_seconds: float = Field(default=600.0, ge=0)
    #: an admin API key `cdp serve` stores (as its hash, named ``admin``) before serving: how a deployment
    #: (docker-compose) gets its first key; at least 32 characters
    admin_key: SecretStr = SecretStr("")
    #: ``Host`` header values the API answers (others get 400: no DNS rebinding); ``*`` allows any
    allowed_hosts: list[str] = Field(default_factory=lambda: ["127.0.0.1", "localhost", "::1"])
    #: browser origins allowed to call the API (CORS); none by default
    cors_origins: list[str] = Field(default_factory=list)
    #: answer GraphQL queries sent over GET (off: a GET is easy to forge from another site)
    graphql_get: bool = False
    #: query limits (api.query_limits): nesting, aliases, estimated values in the answer, items per list
    max_query_depth: int = Field(default=12, ge=1)
    max_query_aliases: int = Field(default=20, ge=0)
    max_query_cost: int = Field(default=50_000, ge=1)
    max_list_size: int = Field(default=1_000, ge=1)
    #: a GraphQL operation still running after this many seconds is stopped with an error
    query_timeout_seconds: float = Field(default=30.0, gt=0)
    #: request limits (api.request_limits): body size, and requests a minute per API key (0: unlimited)
    max_body_bytes: int = Field(default=1_000_000, ge=1_024)
    rate_limit_per_minute: int = Field(default=1_200, ge=0)

    def has_default_password(self) -> bool:
        return self.neo4j_password.get_secret_value() in DEFAULT_PASSWORDS


#: the name this class had before it held more than the store's settings
StoreSettings = Settings


def open_store(settings: Settings) -> GraphStore:
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
        store.retry_seconds = settings.neo4j_retry_seconds
    else:
        from graph.embedded import EmbeddedStore

        store = EmbeddedStore(settings.data_dir, settings.embedded_buffer_pool_mb, settings.embedded_readers)
    try:
        store.ensure_schema()
        migrate(store)
    except BaseException:
        store.close()
        raise
    return store
