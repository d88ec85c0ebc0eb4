"""The one way a query reaches a database: :class:`QueryRunner`, the base of a store's auto-commit reads
and of a :class:`graph.writes.Transaction`.

Like splink's ``DatabaseAPI``, the base owns checking, logging, timing and error wrapping in final
methods, and a backend only fills in the hooks that execute text (``_rows``, ``_frame``) and says which
driver errors mean the store went away (``_unavailable``).
"""

from __future__ import annotations

import logging
import time
from abc import ABC, abstractmethod
from typing import Any, final

import pandas as pd

from graph.errors import CdpError, StoreError, StoreUnavailable
from graph.query import Query

logger = logging.getLogger(__name__)

Row = dict[str, Any]

__all__ = ["QueryRunner", "Row"]


class QueryRunner(ABC):
    """Runs named :class:`graph.query.Query` objects: rows as dicts, or a frame with the declared columns."""

    @final
    def run(self, query: Query, **params: Any) -> list[Row]:
        """Run one named, parameterised query; its rows as dicts."""
        query.check(params)
        return self._timed(query.name, self._rows, query.text, params)

    @final
    def frame(self, query: Query, **params: Any) -> pd.DataFrame:
        """Run one named query; its result as a DataFrame with exactly the query's columns (bulk reads)."""
        query.check(params)
        result = self._timed(query.name, self._frame, query.text, params)
        return result.reindex(columns=list(query.columns)) if query.columns else result

    @final
    def _timed(self, name: str, fn: Any, *args: Any) -> Any:
        started = time.perf_counter()
        try:
            result = fn(*args)
        except CdpError:
            raise
        except Exception as exc:  # driver errors become the project's own, naming the query
            logger.debug("query %s failed: %s", name, exc)
            gone = self._unavailable(exc)
            if gone is not None:
                raise StoreUnavailable(f"{gone} (during query '{name}')") from exc
            raise StoreError(name, f"{type(exc).__name__}: {_first_line(exc)}") from exc
        logger.debug("query %s took %.1f ms", name, (time.perf_counter() - started) * 1000)
        return result

    # ---- hooks ------------------------------------------------------------------------------------

    @abstractmethod
    def _rows(self, text: str, params: dict[str, Any]) -> list[Row]: ...

    @abstractmethod
    def _frame(self, text: str, params: dict[str, Any]) -> pd.DataFrame: ...

    def _unavailable(self, exc: Exception) -> str | None:
        """A one-line message when ``exc`` means the store went away (a lost connection); else None."""
        return None


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
