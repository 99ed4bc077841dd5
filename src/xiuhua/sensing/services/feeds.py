"""Events from other business systems (sanitation, water, gas, heating, landscaping, enforcement) become
cases: each event type is mapped to a case class by configurable rules, and an event is taken once per
source and event id (a re-sent event answers with the case it already opened).

An event, as JSON (HTTP) or as a CSV/XLSX row (batch), has the fields of FEED_COLUMNS:
``source`` and ``event_id`` (the key), ``event_type`` (mapped to a class), ``lon``/``lat`` (WGS84),
``description``, and optionally ``address``, ``community_code`` (12 digits, else located from the point),
``component_id``, ``occurred_at`` (ISO 8601).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from xiuhua.cases.domain.case import Urgency
from xiuhua.cases.domain.commands import ReportCase, Reported
from xiuhua.cases.domain.workflow import Source
from xiuhua.geo.domain.geography import Location
from xiuhua.kernel.actor import SYSTEM_ACTOR
from xiuhua.kernel.bus import Handle
from xiuhua.kernel.errors import DomainError, InvalidInputError, NotFoundError
from xiuhua.kernel.ports import Clock
from xiuhua.org.domain.model import ClassKind
from xiuhua.platform.importing import RowError, check_columns, parse_rows, settle
from xiuhua.platform.tabular import Row
from xiuhua.sensing.ports import SensingUnitOfWork
from xiuhua.sensing.services.ingest import Locate

FEED_COLUMNS = (
    "source", "event_id", "event_type", "lon", "lat", "description", "address", "community_code", "component_id",
    "occurred_at",
)  # fmt: skip
_NAME = re.compile(r"[a-z][a-z0-9_]{0,31}")


@dataclass(frozen=True, slots=True)
class FeedEvent:
    source: str
    event_id: str
    event_type: str
    lon: float
    lat: float
    description: str
    address: str = ""
    community_code: str | None = None
    component_id: str | None = None

    def __post_init__(self) -> None:
        if not _NAME.fullmatch(self.source):
            raise InvalidInputError("feed.bad_source", f"来源系统“{self.source}”应为小写字母开头的 1–32 位标识")
        if not 1 <= len(self.event_id) <= 64 or not self.event_id.strip():
            raise InvalidInputError("feed.bad_event_id", "事件编号应为 1–64 个字符")
        if not self.event_type.strip():
            raise InvalidInputError("feed.bad_event_type", "缺少事件类型")
        if not (-180 <= self.lon <= 180 and -90 <= self.lat <= 90):
            raise InvalidInputError("feed.bad_location", f"经纬度（{self.lon}, {self.lat}）无效")
        if not self.description.strip():
            raise InvalidInputError("feed.no_description", "缺少事件描述")
        if self.community_code is not None and not re.fullmatch(r"[0-9]{12}", self.community_code):
            raise InvalidInputError("feed.bad_community", f"社区代码“{self.community_code}”应为 12 位数字")

    @property
    def idempotency_key(self) -> str:
        key = f"feed:{self.source}:{self.event_id}"
        return key if len(key) <= 64 else f"feed:{hashlib.sha256(key.encode()).hexdigest()[:48]}"


def parse_event(values: Mapping[str, Any]) -> FeedEvent:
    """An event from JSON or a table row; raises InvalidInputError."""

    def text(name: str) -> str:
        value = values.get(name)
        return "" if value is None else str(value).strip()

    try:
        lon, lat = float(text("lon")), float(text("lat"))
    except ValueError:
        raise InvalidInputError("feed.bad_location", f"经纬度“{text('lon')}, {text('lat')}”不是数值") from None
    return FeedEvent(
        source=text("source"),
        event_id=text("event_id"),
        event_type=text("event_type"),
        lon=lon,
        lat=lat,
        description=text("description"),
        address=text("address"),
        community_code=text("community_code") or None,
        component_id=text("component_id") or None,
    )


@dataclass
class FeedReport:
    created: list[tuple[str, str]] = field(default_factory=list)
    """(event id, case number) of new cases."""
    existing: list[tuple[str, str]] = field(default_factory=list)
    """(event id, case number) of events taken before."""
    skipped: list[RowError] = field(default_factory=list)


def import_feed(
    events: Sequence[Mapping[str, Any] | Row],
    uow: SensingUnitOfWork,
    clock: Clock,
    handle: Handle,
    locate: Locate | None = None,
    *,
    skip_invalid: bool = False,
) -> FeedReport:
    """Open a case (source 部门移交) for each new event. Every event is checked first (type mapped, place
    known); with any invalid the whole batch is refused and nothing is written, unless skipping."""
    rows = [e if isinstance(e, Row) else Row(n, {str(k): "" if v is None else str(v) for k, v in e.items()})
            for n, e in enumerate(events, start=1)]  # fmt: skip
    with uow:
        mappings = uow.sensing.feed_mappings()

    def parse(row: Row) -> tuple[FeedEvent, ClassKind, str, bool, Location]:
        event = parse_event(row.values)
        mapped = mappings.get((event.source, event.event_type))
        if mapped is None:
            raise NotFoundError(
                "feed.unmapped",
                f"来源 {event.source} 的事件类型“{event.event_type}”没有对应的案件类别",
                source=event.source,
            )
        kind, code, urgent = mapped
        return event, kind, code, urgent, _location(event, locate)

    parsed, errors = parse_rows(rows, parse)
    report = FeedReport(skipped=settle(errors, skip_invalid))
    by_source: dict[str, list[str]] = {}
    for _, (event, *_rest) in parsed:
        by_source.setdefault(event.source, []).append(event.event_id)
    with uow:
        taken = {(s, e): c for s, ids in by_source.items() for e, c in uow.sensing.feed_cases(s, ids).items()}
    for _, (event, kind, code, urgent, location) in parsed:
        if (case_no := taken.get((event.source, event.event_id))) is not None:
            report.existing.append((event.event_id, case_no))
            continue
        reported: Reported = handle(
            ReportCase(
                actor=SYSTEM_ACTOR,
                source=Source.TRANSFER,
                kind=kind,
                class_code=code,
                location=location,
                description=f"[{event.source} {event.event_id}] {event.description}",
                urgency=Urgency.URGENT if urgent else Urgency.NORMAL,
                reporter=f"业务系统 {event.source}",
                component_id=event.component_id,
                idempotency_key=event.idempotency_key,
            ),
            clock=clock,
        )
        with uow:
            uow.sensing.add_feed_event(event.source, event.event_id, clock.now(), reported.case_no)
            uow.commit()
        taken[(event.source, event.event_id)] = reported.case_no
        (report.created if reported.created else report.existing).append((event.event_id, reported.case_no))
    return report


def _location(event: FeedEvent, locate: Locate | None) -> Location:
    address = event.address or event.description[:64]
    if event.community_code:
        c = event.community_code
        return Location(event.lon, event.lat, address, c[:6], c[:9], c)
    if locate is None:
        raise InvalidInputError("feed.unlocated", "缺少社区代码，且本市没有可用于定位的区划边界")
    try:
        place = locate(event.lon, event.lat)
    except DomainError as exc:
        raise InvalidInputError("feed.unlocated", f"无法定位：{exc.message}") from None
    if not (place.street_code and place.community_code):
        raise InvalidInputError("feed.unlocated", f"坐标（{event.lon}, {event.lat}）不在任何社区内")
    return Location(
        event.lon, event.lat, address, place.district_code, place.street_code, place.community_code,
        place.grid_code, place.area_class,
    )  # fmt: skip


def import_feed_table(
    rows: Sequence[Row], uow: SensingUnitOfWork, clock: Clock, handle: Handle, locate: Locate | None = None,
    *, skip_invalid: bool = False,
) -> FeedReport:  # fmt: skip
    """The CSV/XLSX batch form of import_feed (columns FEED_COLUMNS)."""
    check_columns(rows, "source", "event_id", "event_type", "lon", "lat", "description")
    return import_feed(list(rows), uow, clock, handle, locate, skip_invalid=skip_invalid)


def set_feed_mappings(rows: Sequence[Row], uow: SensingUnitOfWork) -> int:
    """Add or replace mappings (columns source, event_type, class_kind, class_code, urgent); all or nothing."""
    check_columns(rows, "source", "event_type", "class_kind", "class_code")
    with uow:

        def parse(row: Row) -> dict[str, Any]:
            kind = ClassKind.parse(row.get("class_kind"))
            if not _NAME.fullmatch(row.get("source")) or not row.get("event_type"):
                raise InvalidInputError("feed.bad_mapping", "来源系统应为小写标识，事件类型不能为空")
            if not uow.catalog.has_class(kind, row.get("class_code")):
                raise InvalidInputError(
                    "feed.unknown_class", f"{kind.label}类别“{row.get('class_code')}”不在标准目录中"
                )
            urgent = row.get("urgent").lower() in ("1", "true", "是", "yes")
            return {"source": row.get("source"), "event_type": row.get("event_type"), "class_kind": kind.value,
                    "class_code": row.get("class_code"), "urgent": urgent}  # fmt: skip

        parsed, errors = parse_rows(rows, parse)
        settle(errors, False)
        uow.sensing.upsert_feed_mappings([p for _, p in parsed])
        uow.commit()
    return len(parsed)
