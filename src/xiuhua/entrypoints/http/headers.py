"""Security headers on every response: no content sniffing, no framing, no referrer, and a
Content-Security-Policy by what the response is.

- the console (``/console/``): its own scripts and styles only (plus the hashes of the inline scripts its
  pages hold), map workers made from blobs (MapLibre), photos shown from blobs, the API on the same origin
  (and ``data:``/``blob:`` reads: offline drafts keep their photos as data URLs);
- the documentation page (``/docs``): its one inline script, by hash, and ``/openapi.json``;
- everything else (the API, Open311, photos): ``default-src 'none'; frame-ancestors 'none'; sandbox``, so a
  photo or a JSON answer opened in a browser runs nothing.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterable
from importlib import resources

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from xiuhua.entrypoints.web import STATIC

_INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc=)[^>]*>(.*?)</script>", re.S | re.I)
API_POLICY = "default-src 'none'; frame-ancestors 'none'; sandbox"
COMMON = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}


def script_hashes(pages: Iterable[str]) -> list[str]:
    """CSP sources (``'sha256-…'``) for the inline scripts of these HTML pages."""
    digests = {
        base64.b64encode(hashlib.sha256(body.encode("utf-8")).digest()).decode()
        for page in pages
        for body in _INLINE_SCRIPT.findall(page)
    }
    return [f"'sha256-{d}'" for d in sorted(digests)]


def console_policy() -> str:
    pages = [p.read_text("utf-8") for p in sorted(STATIC.glob("*.html"))]
    scripts = " ".join(["'self'", *script_hashes(pages)])
    return (
        f"default-src 'self'; script-src {scripts}; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data: blob:; font-src 'self'; connect-src 'self' data: blob:; worker-src 'self' blob:; "
        "child-src 'self' blob:; manifest-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
        "frame-ancestors 'none'"
    )


def docs_policy() -> str:
    page = resources.files("xiuhua.entrypoints.http").joinpath("static/docs.html").read_text("utf-8")
    return (
        f"default-src 'none'; script-src {' '.join(script_hashes([page]))}; style-src 'unsafe-inline'; "
        "connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )


class SecurityHeaders:
    """ASGI middleware (streaming responses pass through untouched); a header a route set itself is kept."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.console = console_policy()
        self.docs = docs_policy()

    def policy(self, path: str) -> str:
        if path == "/" or path == "/console" or path.startswith("/console/"):
            return self.console
        if path == "/docs":
            return self.docs
        return API_POLICY

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        policy = self.policy(scope["path"])

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in (*COMMON.items(), ("Content-Security-Policy", policy)):
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)
