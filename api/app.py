"""The FastAPI app: GraphQL (with GraphiQL) at ``/graphql`` and ``/healthz``, built by :func:`create_app`."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request

from api.graphiql import GraphiQLRouter, mount_graphiql_assets
from api.loaders import make_loaders
from api.schema import build_schema
from api.service import CustomerService
from graph.errors import ConfigError
from graph.settings import StoreSettings, open_store
from graph.store import GraphStore
from ingest.normalise import NormaliseOptions

logger = logging.getLogger(__name__)


def check_can_serve(settings: StoreSettings) -> None:
    """Refuse to serve customer data from Neo4j behind an empty or well-known password."""
    if settings.store == "neo4j" and settings.has_default_password():
        raise ConfigError(
            f"refusing to serve: CDP_NEO4J_PASSWORD for {settings.neo4j_uri} is empty or a default password"
        )


def create_app(settings: StoreSettings, store: GraphStore | None = None) -> FastAPI:
    """Build the app. With ``store`` given (tests), the app uses it and leaves closing it to the caller."""
    check_can_serve(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = store is None
        app.state.store = store or open_store(settings)
        logger.info("serving %s", app.state.store.describe())
        try:
            yield
        finally:
            if owned:
                app.state.store.close()

    def context(request: Request) -> dict[str, Any]:
        service = CustomerService(request.app.state.store, NormaliseOptions(default_region=settings.default_region))
        return {"service": service, "loaders": make_loaders(service)}

    app = FastAPI(title="cdp-graph", lifespan=lifespan)
    app.include_router(GraphiQLRouter(build_schema(), context_getter=context), prefix="/graphql")
    mount_graphiql_assets(app)  # GraphiQL's scripts and styles, so it works without internet

    @app.get("/healthz")
    def healthz(request: Request) -> dict[str, str]:
        request.app.state.store.ping()
        return {"status": "ok", "store": request.app.state.store.kind}

    return app
