"""The FastAPI app: GraphQL (with GraphiQL) at ``/graphql``, ``/healthz``, and, when the server holds the
embedded store, ``/jobs`` for the other ``cdp`` commands (:mod:`api.handoff`); built by :func:`create_app`."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlsplit

from fastapi import FastAPI, Request
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.trustedhost import TrustedHostMiddleware

from api.access import LOCAL_USER
from api.audit import AuditQueue
from api.auth import KeyCheck
from api.console import mount_console
from api.execution import Executors
from api.graphiql import GraphiQLRouter, mount_graphiql_assets
from api.handoff import ServerLink, publish, withdraw
from api.job_routes import jobs_router
from api.loaders import make_loaders
from api.pii import PiiMask
from api.query_limits import QueryLimits
from api.request_limits import RequestLimits
from api.schema import build_schema
from api.service import CustomerService
from graph.errors import ConfigError
from graph.settings import Settings, open_store
from graph.store import GraphStore
from ingest.lookup import OptionsCache

logger = logging.getLogger(__name__)


def check_can_serve(settings: Settings) -> None:
    """Refuse to serve customer data from Neo4j behind an empty or well-known password."""
    if settings.store == "neo4j" and settings.has_default_password():
        raise ConfigError(
            f"refusing to serve: CDP_NEO4J_PASSWORD for {settings.neo4j_uri} is empty or a default password"
        )


def create_app(
    settings: Settings, store: GraphStore | None = None, link: ServerLink | None = None, insecure_local: bool = False
) -> FastAPI:
    """Build the app. With ``store`` given, the app uses it and leaves closing it to the caller. With
    ``link``, it takes jobs from other ``cdp`` commands and publishes where to send them while it runs.
    Every request but ``/healthz`` and GraphiQL's page needs an API key (:mod:`api.auth`), unless
    ``insecure_local`` (``cdp serve --insecure-local``, loopback only)."""
    check_can_serve(settings)

    executors = Executors(timeout_s=settings.query_timeout_seconds)
    query_limits = QueryLimits(settings.max_query_depth, settings.max_query_aliases, settings.max_query_cost,
                               settings.max_list_size)  # fmt: skip

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = store is None
        app.state.store = store or open_store(settings)
        app.state.options = OptionsCache(app.state.store, settings)
        app.state.audit = AuditQueue(lambda: app.state.store)
        executors.parallel_reads = app.state.store.kind != "embedded"  # see api.execution
        logger.info("serving %s", app.state.store.describe())
        if link is not None:
            publish(settings.data_dir, link)
        try:
            yield
        finally:
            if link is not None:
                withdraw(settings.data_dir, link)
            executors.close()
            app.state.audit.close()
            if owned:
                app.state.store.close()

    def context(request: Request) -> dict[str, Any]:
        principal = getattr(request.state, "principal", LOCAL_USER)
        service = CustomerService(request.app.state.store, request.app.state.options.get,
                                  wait_s=settings.writer_wait_seconds, principal=principal)  # fmt: skip
        return {"service": service, "loaders": make_loaders(service), "pii": PiiMask(principal.holds("read:pii")),
                "limits": query_limits, "principal": principal, "audit": request.app.state.audit}  # fmt: skip

    app = FastAPI(title="cdp-graph", lifespan=lifespan)
    app.add_middleware(RequestLimits, max_body_bytes=settings.max_body_bytes,
                       rate_per_minute=settings.rate_limit_per_minute)  # fmt: skip
    app.add_middleware(KeyCheck, store_of=lambda: app.state.store, insecure_local=insecure_local)
    if settings.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins, allow_methods=["GET", "POST"],
                           allow_headers=["Authorization", "Content-Type"])  # fmt: skip
    hosts = [*settings.allowed_hosts, *([urlsplit(link.url).hostname or ""] if link is not None else [])]
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=hosts)  # outermost: checked first
    if link is not None:
        app.include_router(jobs_router(settings, link))
    app.include_router(GraphiQLRouter(build_schema(executors, query_limits), context_getter=context,
                                      allow_queries_via_get=settings.graphql_get), prefix="/graphql")  # fmt: skip
    mount_graphiql_assets(app)  # GraphiQL's scripts and styles, so it works without internet
    mount_console(app)  # the analyst console at /, its files bundled too

    @app.get("/healthz")
    def healthz(request: Request) -> dict[str, str]:
        request.app.state.store.ping()
        return {"status": "ok", "store": request.app.state.store.kind}

    return app
