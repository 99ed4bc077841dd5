"""Failures in the spec's shape: a list of {code, description} (XML: <errors><error>…), with the HTTP status
as the code, plus our stable machine code beside it so a client can tell one 400 from another."""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from fastapi.routing import APIRoute

from xiuhua.entrypoints.http.open311.render import document
from xiuhua.kernel.errors import DomainError, Kind

log = logging.getLogger("xiuhua.open311")

# The spec: 400 for bad or missing input, 403 for a missing or invalid api_key, 404 for what is not there.
STATUS = {Kind.INVALID: 400, Kind.FORBIDDEN: 403, Kind.NOT_FOUND: 404, Kind.CONFLICT: 409}


def format_of(request: Request) -> str:
    """The format a path asks for: XML for a .xml path, JSON otherwise (also for errors on unknown paths)."""
    return "xml" if request.url.path.endswith(".xml") else "json"


def error_response(request: Request, status: int, code: str, message: str) -> Response:
    body = [{"code": status, "description": message, "xiuhua_code": code}]
    return document(format_of(request), "errors", body, status)


class Open311Route(APIRoute):
    """A route whose domain errors are answered in the Open311 error format rather than the API's own."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            try:
                return await handler(request)
            except DomainError as exc:
                if exc.kind is Kind.FORBIDDEN:
                    log.info("open311 denied %s %s: %s", request.method, request.url.path, exc.code)
                return error_response(request, STATUS[exc.kind], exc.code, exc.message)

        return guarded
