"""Where an Open311 request is: its lat/long (any accepted CRS), else the place its address_id (a 12-digit
community or 15-digit unit grid code) or its address_string (naming a community) points to."""

from __future__ import annotations

from xiuhua.entrypoints.http.context import AppContext
from xiuhua.entrypoints.http.intake import locate
from xiuhua.geo.adapters.crs import Crs
from xiuhua.geo.adapters.locator import Locator
from xiuhua.geo.domain.geography import Location
from xiuhua.kernel.errors import InvalidInputError

MAX_ADDRESS = 256


def locate_request(ctx: AppContext, point: tuple[float, float] | None, crs: Crs, address_string: str,
                   address_id: str) -> Location:  # fmt: skip
    """The case's location; raises InvalidInputError when the request cannot be placed in the city."""
    if len(address_string) > MAX_ADDRESS:
        raise InvalidInputError("open311.address_too_long", f"地址不能超过 {MAX_ADDRESS} 个字符")
    if address_id and not (len(address_id) in (12, 15) and address_id.isdigit()):
        raise InvalidInputError("open311.bad_address_id", "address_id 应为 12 位社区代码或 15 位单元网格代码")
    community = address_id[:12] or None
    if point is not None:
        lon, lat = point
        address = address_string or f"{lat:.6f},{lon:.6f}"
        return locate(ctx, lon, lat, crs, address, community, None)
    if not (address_id or address_string):
        raise InvalidInputError("open311.missing_location", "请提供位置：lat 和 long、address_string 或 address_id")
    locator = ctx.locator()
    code = address_id or _community_named(locator, address_string)
    lon, lat = _inside(locator, code)
    return locate(ctx, lon, lat, Crs.WGS84, address_string or locator.names.get(code[:12], code), code[:12], None)


def _community_named(locator: Locator, address: str) -> str:
    """The one community whose name the address contains (its district or street named too, if several)."""
    found = [c for c in locator.region_codes["community"] if locator.names.get(c, "\0") in address]
    if len(found) > 1:
        narrowed = [c for c in found if any(locator.names.get(c[:n], "\0") in address for n in (6, 9))]
        found = narrowed or found
    if len(found) > 1:
        longest = max(len(locator.names[c]) for c in found)
        found = [c for c in found if len(locator.names[c]) == longest]
    if len(found) != 1:
        raise InvalidInputError(
            "open311.address_not_found" if not found else "open311.address_ambiguous",
            "无法根据地址确定所在社区，请提供 lat/long 坐标"
            if not found
            else "地址对应多个社区，请写明所在区、街道或提供 lat/long 坐标",
            address=address,
        )
    return found[0]


def _inside(locator: Locator, code: str) -> tuple[float, float]:
    """A point surely inside the unit grid or community (WGS84 lon, lat)."""
    if len(code) == 15 and code in locator.grid_codes:
        shape = locator.grid_geoms[locator.grid_codes.index(code)]
    elif code[:12] in locator.region_codes["community"]:
        shape = locator.trees["community"].geometries[locator.region_codes["community"].index(code[:12])]
    else:
        raise InvalidInputError("open311.cannot_locate", f"本市尚无 {code} 的边界，请提供 lat/long 坐标", code=code)
    inner = shape.representative_point()
    return float(inner.x), float(inner.y)
