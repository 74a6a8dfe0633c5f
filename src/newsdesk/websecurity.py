"""Who may read and change a store over HTTP: the checks ``newsdesk serve`` applies
to every request before any work, kept apart from the routes so they are pure and
testable.

- Cross-site requests: a browser names the page that sent a POST in ``Origin``
  (or at least ``Referer``); one naming another site is a forged form post or fetch.
- Host names: bound to loopback, the server answers only to loopback host names,
  so a DNS-rebinding page (evil.example resolving to 127.0.0.1) is not served.
- Tokens: with a token configured, writes (and, when private, reads) need
  ``Authorization: Bearer TOKEN`` or the session cookie that ``/login`` sets.
  Tokens are compared in constant time; the cookie holds a digest of the token,
  never the token itself.
- Body size: a request body over the limit is refused before it is read.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from urllib.parse import urlsplit

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["LOOPBACK_NAMES", "MIN_TOKEN_LENGTH", "SAFE_METHODS", "SESSION_COOKIE", "BodyLimit",
           "BodyTooLarge", "TokenGuard", "check_serve_options", "cross_site_reason", "host_allowed",
           "is_loopback", "local_path"]

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")
SESSION_COOKIE = "newsdesk_session"
# A token a person could guess or brute-force over HTTP protects nothing; 16 characters of
# ``secrets.token_urlsafe`` are 96 bits.
MIN_TOKEN_LENGTH = 16


def is_loopback(host: str) -> bool:
    """True for addresses only this machine can reach (127.0.0.0/8, ::1, localhost)."""
    name = host.strip().strip("[]").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def check_serve_options(host: str, token: str | None, *, insecure: bool = False,
                        private: bool = False) -> str | None:
    """Refuse option sets that would expose a store; returns a warning to print, or None.
    Raises ValueError saying how to fix the command line."""
    if token is not None and len(token) < MIN_TOKEN_LENGTH:
        raise ValueError(f"the token is {len(token)} characters; use at least {MIN_TOKEN_LENGTH}, "
                         "for example: python -c 'import secrets; print(secrets.token_urlsafe(24))'")
    if private and token is None:
        raise ValueError("--private needs --token (or NEWSDESK_TOKEN): reads can only be "
                         "protected by a token")
    if is_loopback(host) or token is not None:
        return None
    if not insecure:
        raise ValueError(f"refusing to listen on {host} without a token: anyone who can reach it "
                         "could change this store. Give --token TOKEN (or set NEWSDESK_TOKEN), "
                         "or --insecure to serve it open anyway")
    return (f"listening on {host} without a token (--insecure): anyone who can reach this "
            "address can read and change this store")


def host_allowed(host_header: str | None, allowed: Collection[str] | None) -> bool:
    """Whether a request's Host (port ignored) is one the server answers to; None allows any."""
    if allowed is None:
        return True
    if not host_header:
        return False
    name = urlsplit("//" + host_header).hostname or ""
    return name.lower() in {a.strip("[]").lower() for a in allowed}


def cross_site_reason(method: str, origin: str | None, referer: str | None, scheme: str,
                      host: str | None) -> str | None:
    """Why a request must be refused as cross-site, or None. Safe methods always pass;
    a request naming no origin at all (curl, scripts) passes: browsers always name one."""
    if method.upper() in SAFE_METHODS:
        return None
    claimed = origin or referer
    if not claimed:
        return None
    if claimed == "null":  # sandboxed frames, data: and file: pages
        return "cross-site request refused (origin null)"
    u = urlsplit(claimed)
    if (u.scheme.lower(), u.netloc.lower()) != (scheme.lower(), (host or "").lower()):
        return f"cross-site request refused (origin {u.scheme}://{u.netloc})"
    return None


def local_path(target: str | None, default: str = "/") -> str:
    """``target`` if it is a path on this site, else ``default``: a login's ``next`` must
    not send the browser to another site (``//evil.example``, ``/\\evil.example``)."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return default
    if any(c in target for c in "\r\n\\") or urlsplit(target).netloc:
        return default
    return target


@dataclass(frozen=True)
class TokenGuard:
    """The token that write endpoints (and, when ``private``, every endpoint) require.

    Reads stay open by default: the token exists so that a server others can reach
    cannot be changed by them; reading what outlets already published is what a shared
    desk is for, and open reads keep links shareable. ``private`` closes reads too,
    for a store of unpublished material.
    """

    token: str
    private: bool = False

    def __post_init__(self) -> None:
        if len(self.token) < MIN_TOKEN_LENGTH:
            raise ValueError(f"the token must have at least {MIN_TOKEN_LENGTH} characters")

    @property
    def session(self) -> str:
        """The session cookie's value: a digest of the token, so a leaked cookie jar
        does not reveal the token (it still opens the session, like any cookie)."""
        return hmac.new(self.token.encode(), b"newsdesk session v1", hashlib.sha256).hexdigest()

    def needs_token(self, method: str, path: str) -> bool:
        if path in ("/login", "/logout") or path.startswith("/static/"):
            return False
        return self.private or method.upper() not in SAFE_METHODS

    def is_token(self, presented: str) -> bool:
        return hmac.compare_digest(presented.encode(), self.token.encode())

    def allows(self, authorization: str | None, cookie: str | None) -> bool:
        """Whether a request carries the token (``Authorization: Bearer``) or the session cookie."""
        if authorization:
            scheme, _, value = authorization.strip().partition(" ")
            if scheme.lower() == "bearer" and self.is_token(value.strip()):
                return True
        if not cookie:
            return False
        return hmac.compare_digest(cookie.encode(), self.session.encode())


class BodyTooLarge(HTTPException):
    """A request body over the limit: an HTTPException so that FastAPI's body parsing
    passes it on (it turns other errors there into a 400) to the 413 handler."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"request body over the {limit:,}-byte upload limit")


class BodyLimit:
    """ASGI middleware refusing request bodies over ``limit`` bytes: at once when the
    declared Content-Length is over it, else as soon as the bytes read pass it (a
    chunked upload), before a route saves anything."""

    def __init__(self, app: ASGIApp, limit: int,
                 refuse: Callable[[Request, BodyTooLarge], Awaitable[Response]]) -> None:
        if limit < 0:
            raise ValueError(f"the upload limit must be 0 or more bytes, not {limit}")
        self.app, self.limit, self.refuse = app, limit, refuse

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Request(scope).headers.get("content-length", "")
        if declared.strip().isdigit() and int(declared) > self.limit:
            response = await self.refuse(Request(scope, receive), BodyTooLarge(self.limit))
            # The unread body stays on the connection: close it rather than parse it as a request.
            response.headers["Connection"] = "close"
            await response(scope, receive, send)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise BodyTooLarge(self.limit)
            return message

        await self.app(scope, counted, send)
