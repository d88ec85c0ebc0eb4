"""Limits on each HTTP request, before GraphQL sees it: its size, its encoding, and how often a key calls.

* A body over ``max_body_bytes`` (``CDP_MAX_BODY_BYTES``) is 413, read no further than the limit.
* A JSON body that is not UTF-8, not JSON, or nests deeper than :data:`MAX_JSON_DEPTH` is 400 saying which.
* Each API key may make ``rate_per_minute`` requests a minute (``CDP_RATE_LIMIT_PER_MINUTE``), as a token
  bucket holding a minute's worth: a burst is served, a steady flood is 429 with ``Retry-After``. The local
  user of ``--insecure-local`` (loopback, no keys) is not limited.
"""

from __future__ import annotations

import json
import math
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from starlette.responses import JSONResponse

from api.access import LOCAL_USER

__all__ = ["MAX_JSON_DEPTH", "RateLimiter", "RequestLimits", "json_depth"]

MAX_JSON_DEPTH = 32
OPEN_PATHS = ("/healthz", "/static/")


def json_depth(value: Any) -> int:
    """How deeply ``value`` nests lists and objects (a scalar is 0), iteratively: no recursion limit to hit.

    >>> json_depth({"a": [1, {"b": []}]}), json_depth("x")
    (4, 0)
    """
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is None:
            continue
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in children)
    return deepest


@dataclass
class RateLimiter:
    """A token bucket per key name: ``per_minute`` tokens, refilled at ``per_minute`` a minute."""

    per_minute: int
    _buckets: dict[str, tuple[float, float]] = field(default_factory=dict)  # name -> (tokens, at)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def wait_for(self, name: str, now: float | None = None) -> float:
        """Take a token for ``name``: 0 when there was one, else the seconds until there is.

        >>> limiter = RateLimiter(per_minute=2)
        >>> [limiter.wait_for("k", now=0.0) for _ in range(3)]
        [0.0, 0.0, 30.0]
        """
        now = time.monotonic() if now is None else now
        rate = self.per_minute / 60.0
        with self._lock:
            tokens, at = self._buckets.get(name, (float(self.per_minute), now))
            tokens = min(float(self.per_minute), tokens + (now - at) * rate)
            if tokens >= 1.0:
                self._buckets[name] = (tokens - 1.0, now)
                return 0.0
            self._buckets[name] = (tokens, now)
            return (1.0 - tokens) / rate


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"errors": [{"message": message}]}, status_code=status, headers=headers)


class RequestLimits:
    """ASGI middleware (inside :class:`api.auth.KeyCheck`, which names the caller) enforcing the limits above."""

    def __init__(self, app: Any, max_body_bytes: int, rate_per_minute: int) -> None:
        self.app, self.max_body_bytes = app, max_body_bytes
        self.limiter = RateLimiter(rate_per_minute) if rate_per_minute > 0 else None

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope.get("path", "").startswith(OPEN_PATHS):
            return await self.app(scope, receive, send)
        send = _errors_in_json(send)
        principal = scope.get("state", {}).get("principal")
        if self.limiter is not None and principal is not None and principal != LOCAL_USER:
            wait = self.limiter.wait_for(principal.name)
            if wait > 0:
                response = _error(429, f"rate limit: the API key '{principal.name}' may make "
                                       f"{self.limiter.per_minute} requests a minute (CDP_RATE_LIMIT_PER_MINUTE)",
                                  {"Retry-After": str(math.ceil(wait))})  # fmt: skip
                return await response(scope, receive, send)
        if scope.get("method") not in ("POST", "PUT", "PATCH"):
            return await self.app(scope, receive, send)
        body, refused = await self._read(scope, receive)
        if refused is not None:
            return await refused(scope, receive, send)
        return await self.app(scope, _replay(body, receive), send)

    async def _read(self, scope: dict[str, Any], receive: Any) -> tuple[bytes, JSONResponse | None]:
        too_big = _error(413, f"request body over {self.max_body_bytes:,} bytes (CDP_MAX_BODY_BYTES)")
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.max_body_bytes:
            return b"", too_big
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return b"", _error(400, "the client went away before sending the whole body")
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                return b"", too_big
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        if b"json" in headers.get(b"content-type", b"").lower():
            return body, _json_problem(body)
        return body, None


def _json_problem(body: bytes) -> JSONResponse | None:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        return _error(400, f"the request body is not valid UTF-8 (byte {exc.start})")
    try:
        parsed = json.loads(text)
    except RecursionError:
        return _error(400, f"the request body nests deeper than {MAX_JSON_DEPTH} levels")
    except ValueError as exc:
        return _error(400, f"the request body is not valid JSON: {exc}")
    if not isinstance(parsed, dict | list):
        return _error(400, 'the request body must be a JSON object: {"query": ..., "variables": {...}}')
    if json_depth(parsed) > MAX_JSON_DEPTH:
        return _error(400, f"the request body nests deeper than {MAX_JSON_DEPTH} levels")
    if "\\u" in text and _lone_surrogate(parsed):
        return _error(400, "the request body holds a lone surrogate escape (\\ud800 to \\udfff): not a character")
    return None


def _lone_surrogate(parsed: Any) -> bool:
    """Whether a string in ``parsed`` holds half of a UTF-16 pair: it is not text, and nothing can store it."""
    try:
        json.dumps(parsed, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _errors_in_json(send: Any) -> Any:
    """A ``send`` that turns a plain-text client error (strawberry answers "No GraphQL query found in the
    request" and the like as text) into the JSON every other error of the API is: ``{"errors": [...]}``."""
    held: dict[str, Any] = {}
    chunks: list[bytes] = []

    async def wrapped(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            kind = dict(message.get("headers") or []).get(b"content-type", b"")
            if 400 <= message["status"] < 500 and kind.startswith(b"text/plain"):
                held["start"] = message
                return
        elif message["type"] == "http.response.body" and "start" in held:
            chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            text = b"".join(chunks).decode("utf-8", errors="replace")
            body = json.dumps({"errors": [{"message": text}]}).encode()
            start = held.pop("start")
            headers = [(k, v) for k, v in start.get("headers") or [] if k not in (b"content-type", b"content-length")]
            headers += [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
            await send({**start, "headers": headers})
            await send({"type": "http.response.body", "body": body, "more_body": False})
            return
        await send(message)

    return wrapped


def _replay(body: bytes, original: Any) -> Any:
    """A ``receive`` giving the body read already, then the client's own messages (its disconnect)."""
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await original()

    return receive
