"""``cdp serve --scheduler FILE``: the journeys of FILE run on a timer inside the server, with its store
(the embedded store has one process), every ``every_s`` seconds, one run at a time. A run's errors are
logged and the next run goes on: a run is safe to repeat (:mod:`api.journeys`)."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from api.access import Principal
from graph.store import GraphStore

__all__ = ["JourneyScheduler"]

logger = logging.getLogger(__name__)


class JourneyScheduler:
    def __init__(self, store: GraphStore, file: Path, every_s: float, wait_s: float = 600.0) -> None:
        self.store, self.file, self.every_s, self.wait_s = store, file, every_s, wait_s
        self.stop = threading.Event()
        self.runs = 0
        self.thread = threading.Thread(target=self._loop, name="journey-scheduler", daemon=True)

    def start(self) -> JourneyScheduler:
        self.thread.start()
        return self

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=self.wait_s)

    def _loop(self) -> None:
        from api.service import CustomerService

        service = CustomerService(self.store, principal=Principal("scheduler"), wait_s=self.wait_s)
        while not self.stop.is_set():
            try:
                for run in service.run_journeys(self.file):
                    logger.info("journey %s: %s", run.journey, run)
            except Exception:  # noqa: BLE001 - one failed run must not stop the next
                logger.exception("journeys run from %s failed", self.file)
            self.runs += 1
            self.stop.wait(self.every_s)
