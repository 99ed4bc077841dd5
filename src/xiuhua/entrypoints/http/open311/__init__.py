"""Open311 GeoReport v2 over the closed loop (see docs/open311.md)."""

from xiuhua.entrypoints.http.open311.router import router

__all__ = ["router"]
