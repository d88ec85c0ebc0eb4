"""``cdp serve``: open the store (a one-line error when another process holds it), publish where other
commands send their jobs (embedded store), and run the app with uvicorn until stopped.

Before serving, everything loaded so far (the libraries, the app) is moved out of the garbage
collector's reach (``gc.freeze``): a full collection otherwise walks those hundreds of thousands of
objects, and paused every request for up to 130 ms under load (measured on the 10k demo)."""

from __future__ import annotations

import logging
from pathlib import Path

from api.app import check_can_serve, create_app
from api.auth import check_serving_keys
from api.handoff import new_link
from graph.settings import Settings, open_store

logger = logging.getLogger(__name__)

__all__ = ["serve"]


def serve(settings: Settings, host: str, port: int, access_log: bool = False, insecure_local: bool = False,
          scheduler: Path | None = None, every_s: float = 60.0) -> None:  # fmt: skip
    import gc

    import uvicorn

    check_can_serve(settings)
    store = open_store(settings)
    try:
        check_serving_keys(store, host, insecure_local, settings.admin_key.get_secret_value())
        link = new_link(host, port) if settings.store == "embedded" else None
        application = create_app(settings, store=store, link=link, insecure_local=insecure_local)
        print(f"GraphiQL: http://{host}:{port}/graphql", flush=True)
        gc.collect()
        gc.freeze()
        timer = None
        if scheduler is not None:
            from api.journeys import load_journeys
            from api.scheduler import JourneyScheduler

            load_journeys(scheduler)  # a wrong file stops the start, not a run an hour later
            timer = JourneyScheduler(store, scheduler, every_s, settings.writer_wait_seconds).start()
            print(f"journeys of {scheduler} run every {every_s:g} s", flush=True)
        try:
            uvicorn.run(application, host=host, port=port, log_level="info", access_log=access_log)
        finally:
            if timer is not None:
                timer.close()
    finally:
        store.close()
