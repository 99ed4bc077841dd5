"""Turning an API report into the ReportCase command: where it is, who reported it, which photos.

Shared by every router that takes reports (cases, and partner intake such as Open311).
"""

from __future__ import annotations

from collections.abc import Sequence

from xiuhua.cases.domain.case import Urgency
from xiuhua.cases.domain.commands import ReportCase
from xiuhua.cases.domain.workflow import Source
from xiuhua.cases.services.lifecycle import default_source
from xiuhua.entrypoints.http.context import AppContext
from xiuhua.geo.adapters.crs import Crs
from xiuhua.geo.domain.geography import Location
from xiuhua.geo.services import geography
from xiuhua.kernel.evidence import StoredFile, sniff_image
from xiuhua.org.domain.accounts import Principal
from xiuhua.org.domain.model import ClassKind


def stored_photos(ctx: AppContext, hashes: Sequence[str]) -> tuple[StoredFile, ...]:
    """Photos uploaded earlier through /evidence, by SHA-256; raises InvalidInputError for unknown ones."""
    out = []
    for sha in dict.fromkeys(hashes):
        data = ctx.evidence.get(sha)
        out.append(StoredFile(sha, sniff_image(data), len(data)))
    return tuple(out)


def locate(ctx: AppContext, lon: float, lat: float, crs: Crs, address: str, community_code: str | None,
           area_class: str | None) -> Location:  # fmt: skip
    """WGS84 place of a report, from its coordinates (services/geography.place_report)."""
    return geography.place_report(lon, lat, crs, address, community_code, area_class, ctx.locator())


def report_command(
    ctx: AppContext,
    who: Principal,
    *,
    kind: ClassKind,
    class_code: str,
    description: str,
    location: Location,
    source: Source | None,
    urgency: Urgency = Urgency.NORMAL,
    reporter: str = "",
    reporter_phone: str | None = None,
    component_id: str | None = None,
    idempotency_key: str | None = None,
    photos: Sequence[str] = (),
) -> ReportCase:
    """The command for a report by staff or by a citizen (whose reports are always public, in their name)."""
    if who.is_citizen:
        with ctx.uow() as uow:
            account = uow.accounts.get(who.username)
        source, reporter = Source.PUBLIC, account.display_name if account else who.username
        reporter_phone = account.phone if account else None
    return ReportCase(
        actor=who.actor,
        source=source or default_source(who.actor),
        kind=kind,
        class_code=class_code,
        location=location,
        description=description,
        urgency=urgency,
        reporter=reporter,
        reporter_phone=reporter_phone,
        component_id=component_id,
        idempotency_key=idempotency_key,
        photos=stored_photos(ctx, photos),
    )
