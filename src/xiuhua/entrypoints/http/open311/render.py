"""Open311 documents in JSON or XML: the same nested values, the spec's root and item element names."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from xml.etree import ElementTree as ET
from zoneinfo import ZoneInfo

from fastapi.responses import JSONResponse, Response

SHANGHAI = ZoneInfo("Asia/Shanghai")
XML_TYPE = "text/xml; charset=utf-8"
FORMATS = ("json", "xml")
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
"""Characters XML 1.0 cannot carry at all, even escaped: dropped from text (JSON keeps them)."""
# The element of each item of a list, by the list's element name (the spec's XML examples).
ITEM_NAMES = {
    "services": "service",
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
    "service_requests": "request",
    "errors": "error",
    "timeline": "entry",
    "crs": "name",
    "extensions": "extension",
}


def w3c(moment: datetime | None) -> str | None:
    """A W3C datetime in Asia/Shanghai with its offset, e.g. 2026-03-03T09:00:00+08:00."""
    return moment.astimezone(SHANGHAI).isoformat(timespec="seconds") if moment is not None else None


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return NOT_XML.sub("", str(value))


def _append(parent: ET.Element, name: str, value: Any) -> None:
    element = ET.SubElement(parent, name)
    if isinstance(value, Mapping):
        for key, item in value.items():
            _append(element, str(key), item)
    elif isinstance(value, Sequence) and not isinstance(value, str):
        for item in value:
            _append(element, ITEM_NAMES.get(name, "item"), item)
    else:
        element.text = _text(value)


def xml_bytes(root: str, value: Mapping[str, Any] | Sequence[Any]) -> bytes:
    """``value`` under a root element: a mapping's keys become children, a list's items ITEM_NAMES[root]."""
    element = ET.Element(root)
    if isinstance(value, Mapping):
        for key, item in value.items():
            _append(element, str(key), item)
    else:
        for item in value:
            _append(element, ITEM_NAMES[root], item)
    body: bytes = ET.tostring(element, encoding="utf-8", xml_declaration=False)
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + body


def document(fmt: str, root: str, value: Mapping[str, Any] | Sequence[Any], status: int = 200) -> Response:
    """The response in the format the path asked for (.json or .xml)."""
    if fmt == "xml":
        return Response(xml_bytes(root, value), status_code=status, media_type=XML_TYPE)
    return JSONResponse(value, status_code=status)
