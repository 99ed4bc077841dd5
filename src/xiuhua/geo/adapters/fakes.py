"""In-memory component lookup for service tests: the geo.ports.ComponentLookup Protocol over a dict."""

from __future__ import annotations

from xiuhua.geo.domain.components import Component


class FakeComponentLookup:
    def __init__(self) -> None:
        self.rows: dict[str, Component] = {}

    def get(self, component_id: str) -> Component | None:
        return self.rows.get(component_id)
