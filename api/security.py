"""Service hardening, each a small plain-ASGI middleware (no BaseHTTPMiddleware: see api/main.py's RequestContext),
all off or permissive by default for a local run, on in the ``production`` preset (fda/settings.py):

    BodyLimit        request bodies over api.max_body_bytes -> 413 (Content-Length or counted while streaming)
    ApiKeyAuth       api.api_keys set -> every route but the probes needs ``Authorization: Bearer <key>``
                     or ``X-API-Key: <key>``, compared in constant time -> else 401
    RateLimit        api.rate_limit_per_minute > 0 -> a token bucket per client (its key, else its address)
                     -> 429 + Retry-After
    SecurityHeaders  nosniff, no framing, no referrer, a strict CSP on the API's JSON (not on /docs), HSTS when
                     api.hsts (behind TLS)
CORS is Starlette's CORSMiddleware over api.cors_origins (an allow-list; empty: no CORS headers at all).

Every refusal has the error body of api/errors.py, so a client reads one shape.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import ClassVar

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

PROBES = ("/healthz", "/readyz")  # load balancers and orchestrators ask these without a key
DOCS = ("/docs", "/redoc", "/openapi.json")


async def send_error(
    send: Send, status: int, code: str, message: str, hint: str = "", headers: dict[str, str] | None = None
) -> None:
    body = json.dumps({"error": {"code": code, "message": message, "hint": hint}}).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    raw += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


def header(scope: Scope, name: bytes) -> str:
    return next((v.decode("latin-1") for k, v in scope.get("headers", ()) if k == name), "")


class BodyLimit:
    """413 for a body over ``max_bytes``: at once when Content-Length says so, else when the streamed chunks
    pass it (before the app has answered: the app only ever sees a body within the limit)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = header(scope, b"content-length")
        if declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(send, int(declared))
            return
        seen = 0
        started = refused = False

        async def counted() -> Message:
            nonlocal seen, refused
            message = await receive()
            if message["type"] == "http.request" and not refused:
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    if not started:  # answer now; the app then reads a disconnect and what it sends is dropped
                        refused = True
                        await self._refuse(send, seen)
                    return {"type": "http.disconnect"}
            return message

        async def tracked(message: Message) -> None:
            nonlocal started
            if refused:
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        await self.app(scope, counted, tracked)

    async def _refuse(self, send: Send, size: int) -> None:
        await send_error(
            send, 413, "body_too_large",
            f"the request body is at least {size} bytes; the limit is {self.max_bytes}",
            "Send a shorter question (FDA_API__MAX_BODY_BYTES sets the limit).",
        )  # fmt: skip


def key_id(key: str) -> str:
    """A client's name in logs and rate buckets: never the key itself."""
    return "key:" + hashlib.sha256(key.encode()).hexdigest()[:12]


def presented_key(scope: Scope) -> str:
    auth = header(scope, b"authorization")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    return header(scope, b"x-api-key").strip()


class ApiKeyAuth:
    """401 unless the request carries one of ``keys``; the probes (and CORS preflights) pass."""

    def __init__(self, app: ASGIApp, keys: Sequence[str], public: Sequence[str] = PROBES) -> None:
        self.app, self.public = app, tuple(public)
        self.keys = [k.encode() for k in keys if k]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.keys or scope["path"] in self.public or scope["method"] == "OPTIONS":
            await self.app(scope, receive, send)
            return
        given = presented_key(scope).encode()
        # compare against every key, always: the time taken says nothing about which one nearly matched
        if not any([hmac.compare_digest(given, k) for k in self.keys]) or not given:
            await send_error(
                send, 401, "unauthorized",
                "this service needs an API key" if not given else "the API key is not valid",
                "Send 'Authorization: Bearer <key>' or 'X-API-Key: <key>' (keys: FDA_API__API_KEYS).",
                {"WWW-Authenticate": 'Bearer realm="fda"'},
            )  # fmt: skip
            return
        await self.app(scope, receive, send)


class TokenBuckets:
    """``rate`` requests per minute per client, bursts up to ``burst``; at most ``max_clients`` buckets kept
    (the least recently seen go first, so a flood of made-up clients cannot grow memory)."""

    def __init__(
        self, per_minute: int, burst: int, max_clients: int = 10_000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = per_minute / 60.0
        self.burst = max(1, burst)
        self.max_clients = max_clients
        self.clock = clock
        self.buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def take(self, client: str) -> float:
        """0 when the request may go, else the seconds until it may."""
        now = self.clock()
        tokens, last = self.buckets.pop(client, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - last) * self.rate)
        wait = 0.0
        if tokens >= 1.0:
            tokens -= 1.0
        else:
            wait = (1.0 - tokens) / self.rate
        self.buckets[client] = (tokens, now)
        while len(self.buckets) > self.max_clients:
            self.buckets.popitem(last=False)
        return wait


class RateLimit:
    """429 + Retry-After past ``per_minute`` per client: its API key when it sends one, else its address."""

    def __init__(self, app: ASGIApp, per_minute: int, burst: int, public: Sequence[str] = PROBES) -> None:
        self.app, self.public = app, tuple(public)
        self.buckets = TokenBuckets(per_minute, burst)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self.public:
            await self.app(scope, receive, send)
            return
        key = presented_key(scope)
        client = key_id(key) if key else "addr:" + (scope.get("client") or ("unknown", 0))[0]
        wait = self.buckets.take(client)
        if wait > 0:
            await send_error(
                send, 429, "rate_limited", "too many requests from this client",
                f"Retry in {math.ceil(wait)} s (FDA_API__RATE_LIMIT_PER_MINUTE sets the limit).",
                {"Retry-After": str(math.ceil(wait))},
            )  # fmt: skip
            return
        await self.app(scope, receive, send)


class SecurityHeaders:
    """Headers every response carries; the API's own responses also get a CSP that allows nothing to load
    (they are JSON and event streams), the interactive docs keep theirs (they load Swagger UI's assets)."""

    BASE: ClassVar[dict[str, str]] = {
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "no-referrer",
        "Cross-Origin-Opener-Policy": "same-origin",
        "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
    }
    CSP = "default-src 'none'; frame-ancestors 'none'"

    def __init__(self, app: ASGIApp, hsts: bool = False) -> None:
        self.app, self.hsts = app, hsts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        docs = scope["path"].startswith(DOCS)

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self.BASE.items():
                    headers.setdefault(name, value)
                if not docs:
                    headers.setdefault("Content-Security-Policy", self.CSP)
                    headers.setdefault("Cache-Control", "no-store")
                if self.hsts:
                    headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
            await send(message)

        await self.app(scope, receive, with_headers)
