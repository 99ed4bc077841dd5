"""Open311 GeoReport v2 over the closed loop: catalog classes as services, case standards as attributes,
cases as service requests with an open/closed status, and the tokens of requests made through it.

A service code joins a class's kind and code (``component-01001``, ``matter-06001``): the two kinds
share five-digit codes. Requests are read by the public: no reporter's name, phone or account and no
staff names appear in them.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select

from xiuhua.cases.domain import idempotency
from xiuhua.cases.domain.workflow import ACTION_LABELS, STATE_LABELS, Action, Source, State
from xiuhua.cases.ports import CaseReadsUnitOfWork
from xiuhua.kernel.errors import InvalidInputError, NotFoundError
from xiuhua.org.domain.accounts import mask_name, mask_phone
from xiuhua.org.domain.model import ClassKind
from xiuhua.platform.db import tables as t

WINDOW = timedelta(days=90)
"""The spec's default and widest span of a request search."""
MAX_REQUESTS = 1000
"""The most requests one search returns (the spec lets the server cap the count)."""
TOKEN_PREFIX = "o311:"
"""Idempotency keys of requests made through Open311 are this prefix and the request's token."""
MEDIA_MARK = "图片链接："
"""The line of a request's description that carries the client's media_url."""
MEDIA_LINK = re.compile(r"^https?://\S{1,490}$")
MAX_DESCRIPTION = 4000
MOBILE = re.compile(r"(?<![0-9])1[3-9][0-9]{9}(?![0-9])")
EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}")
_KIND_LABEL = {ClassKind.COMPONENT: "部件", ClassKind.MATTER: "事项"}
_C = t.cases.c


@dataclass(frozen=True, slots=True)
class AttributeValue:
    key: str
    name: str


@dataclass(frozen=True, slots=True)
class Attribute:
    code: str
    datatype: str
    required: bool
    description: str
    datatype_description: str
    order: int
    values: tuple[AttributeValue, ...] = ()
    variable: bool = True


@dataclass(frozen=True, slots=True)
class Service:
    service_code: str
    service_name: str
    description: str
    group: str
    keywords: str
    kind: ClassKind
    class_code: str
    metadata: bool = True
    type: str = "realtime"


@dataclass(frozen=True, slots=True)
class ServiceDefinition:
    service: Service
    attributes: tuple[Attribute, ...]


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    at: datetime
    action: str
    action_label: str
    state: str
    state_label: str


@dataclass(frozen=True, slots=True)
class ServiceRequest:
    """One case as the public sees it (times are aware UTC; lon/lat WGS84)."""

    service_request_id: str
    status: str
    status_notes: str
    service_name: str
    service_code: str
    description: str
    agency_responsible: str | None
    service_notice: str | None
    requested_datetime: datetime
    updated_datetime: datetime
    expected_datetime: datetime | None
    address: str
    address_id: str
    lon: float
    lat: float
    photo_sha256: str | None
    media_url: str | None
    state: State
    timeline: tuple[TimelineEntry, ...] = ()


@dataclass(frozen=True, slots=True)
class RequestQuery:
    ids: tuple[str, ...] = ()
    """Case numbers: when given, every other filter is ignored (as the spec says)."""
    services: tuple[str, ...] = ()
    start: datetime | None = None
    end: datetime | None = None
    statuses: tuple[str, ...] = ()
    """open and/or closed."""
    page_size: int = MAX_REQUESTS
    page: int = 1
    timeline: bool = False


@dataclass(frozen=True, slots=True)
class Choices:
    """What a request's attributes add to the case: lines for the description, a component id."""

    lines: tuple[str, ...] = ()
    component_id: str | None = None
    details: dict[str, str] = field(default_factory=dict)


def service_code(kind: ClassKind, code: str) -> str:
    return f"{kind.value}-{code}"


def parse_service_code(text: str) -> tuple[ClassKind, str]:
    """(kind, class code) of a service code; raises NotFoundError for anything else."""
    kind, _, code = text.partition("-")
    if kind not in (ClassKind.COMPONENT.value, ClassKind.MATTER.value) or not (len(code) == 5 and code.isdigit()):
        raise NotFoundError("open311.unknown_service", f"服务代码 {text} 不存在", service_code=text)
    return ClassKind(kind), code


def status_of(state: State) -> str:
    """The spec's two statuses: a case is closed once it is closed or voided, open before."""
    return "closed" if state.final else "open"


def list_services(uow: CaseReadsUnitOfWork) -> list[Service]:
    """Every class of the catalog as a service, components first, by code."""
    with uow:
        classes = uow.catalog.classes()
    return [
        Service(
            service_code(c.kind, c.code),
            c.name,
            f"{_KIND_LABEL[c.kind]} · {c.major_name} · {c.name}",
            c.major_name,
            ",".join((_KIND_LABEL[c.kind], c.major_name, c.name)),
            c.kind,
            c.code,
        )
        for c in classes
    ]


def define_service(code: str, uow: CaseReadsUnitOfWork) -> ServiceDefinition:
    """The service's attributes: the catalog's filing conditions to choose from, and for components the
    component's 17-digit id; raises NotFoundError."""
    kind, class_code = parse_service_code(code)
    services = {s.service_code: s for s in list_services(uow)}
    service = services.get(code)
    if service is None:
        raise NotFoundError("open311.unknown_service", f"服务代码 {code} 不存在", service_code=code)
    with uow:
        standards = [s for s in uow.catalog.standards() if (s.kind, s.code) == (kind, class_code)]
    attributes = [
        Attribute(
            "condition",
            "singlevaluelist",
            False,
            "问题属于哪种情形（立案条件）",
            "从列表中选择一项；不确定可不选",
            1,
            tuple(
                AttributeValue(str(s.id), f"{s.filing_condition}（处置时限 {_limit_text(s.limits)}）")
                for s in standards
            ),
        )
    ]
    if kind is ClassKind.COMPONENT:
        attributes.append(
            Attribute("component_id", "string", False, "部件标识牌上的部件编码", "17 位数字部件编码；看不到可不填", 2)
        )
    return ServiceDefinition(service, tuple(attributes))


def _limit_text(limits: dict[str, Any]) -> str:
    return "；".join(str(v) if k == "*" else f"{k}类区域 {v}" for k, v in sorted(limits.items()))


def apply_attributes(definition: ServiceDefinition, values: dict[str, list[str]]) -> Choices:
    """Check the attribute[...] values of a request against its service; raises InvalidInputError."""
    known = {a.code: a for a in definition.attributes}
    for code in values:
        if code not in known:
            raise InvalidInputError("open311.unknown_attribute", f"该服务没有属性 {code}", attribute=code)
    lines: list[str] = []
    details: dict[str, str] = {}
    component_id = None
    for attribute in definition.attributes:
        given = [v.strip() for v in values.get(attribute.code, []) if v.strip()]
        if not given:
            if attribute.required:
                raise InvalidInputError(
                    "open311.missing_attribute", f"缺少必填属性 {attribute.code}", attribute=attribute.code
                )
            continue
        if attribute.datatype == "singlevaluelist":
            names = {v.key: v.name for v in attribute.values}
            if len(given) > 1 or given[0] not in names:
                raise InvalidInputError(
                    "open311.bad_attribute", f"属性 {attribute.code} 的取值 {given[0]} 无效", attribute=attribute.code
                )
            details[attribute.code] = given[0]
            lines.append(f"{attribute.description}：{names[given[0]]}")
        elif attribute.code == "component_id":
            if not (len(given[0]) == 17 and given[0].isdigit()):
                raise InvalidInputError("open311.bad_attribute", "部件编码应为 17 位数字", attribute=attribute.code)
            component_id = details[attribute.code] = given[0]
    return Choices(tuple(lines), component_id, details)


def request_token(client: str, idempotency_key: str | None) -> str:
    """The token of a request: derived from the client's own idempotency key (so a retry finds the same
    case), else random; either way not guessable from anything public."""
    if idempotency_key is None:
        return secrets.token_hex(16)
    return hashlib.sha256(f"{client}\n{idempotency_key}".encode()).hexdigest()[:32]


def case_description(text: str, service: Service, choices: Choices, media_url: str | None) -> str:
    """The case's description: the citizen's words (or the service's name), then their choices."""
    if len(text) > MAX_DESCRIPTION:
        raise InvalidInputError("open311.description_too_long", f"问题描述不能超过 {MAX_DESCRIPTION} 字")
    lines = [text.strip() or service.service_name, *choices.lines]
    if media_url:
        lines.append(f"{MEDIA_MARK}{media_url}")
    return "\n".join(lines)


def case_by_token(token: str, uow: CaseReadsUnitOfWork) -> str:
    """The case number a token stands for; raises NotFoundError."""
    with uow:
        found = (
            uow.cases.by_idempotency_key(idempotency.scoped_key(idempotency.OPEN311, TOKEN_PREFIX + token))
            if 8 <= len(token) <= 59
            else None
        )
    if found is None:
        raise NotFoundError("open311.unknown_token", f"令牌 {token} 不存在", token=token)
    return found[0]


def find_requests(query: RequestQuery, uow: CaseReadsUnitOfWork, now: datetime) -> list[ServiceRequest]:
    """Requests by id, or by service, status and reporting time (default: the last 90 days), newest first."""
    if not 1 <= query.page_size <= MAX_REQUESTS:
        raise InvalidInputError("open311.bad_page_size", f"page_size 应为 1–{MAX_REQUESTS}")
    if query.page < 1:
        raise InvalidInputError("open311.bad_page", "page 应为正整数")
    conditions: list[ColumnElement[bool]] = []
    if query.ids:
        conditions.append(_C.case_no.in_(query.ids))
    else:
        start, end = _window(query.start, query.end, now)
        conditions += [_C.reported_at >= start, _C.reported_at <= end]
        if query.services:
            wanted = [_searched_service(code) for code in query.services]
            conditions.append(or_(*(and_(_C.kind == k.value, _C.class_code == c) for k, c in wanted)))
        if query.statuses:
            final = [State.CLOSED.value, State.VOIDED.value]
            bad = set(query.statuses) - {"open", "closed"}
            if bad:
                raise InvalidInputError("open311.bad_status", "status 只能是 open 或 closed", status=sorted(bad))
            if set(query.statuses) == {"open"}:
                conditions.append(_C.state.not_in(final))
            elif set(query.statuses) == {"closed"}:
                conditions.append(_C.state.in_(final))
    log, photos, org, cls = t.case_log.c, t.case_photos.c, t.organizations.c, t.case_classes.c
    # Correlated per returned row (at most a page), each answered by the (case_id, …) key of its table.
    updated = select(func.max(log.at)).where(log.case_id == _C.id).scalar_subquery()
    # Only a citizen's own report photo is published; staff, camera and sensor photos need a login.
    photo = (
        select(func.min(photos.sha256))
        .where(photos.case_id == _C.id, photos.stage == "report", _C.source == Source.PUBLIC.value)
        .scalar_subquery()
    )
    stmt = (
        select(
            _C.id,
            _C.case_no,
            _C.state,
            _C.kind,
            _C.class_code,
            _C.description,
            _C.reporter,
            _C.reporter_phone,
            _C.address,
            _C.lon,
            _C.lat,
            _C.community_code,
            _C.grid_code,
            _C.reported_at,
            _C.current_step,
            _C.due_at,
            _C.closed_at,
            updated.label("updated_at"),
            photo.label("sha256"),
            org.name.label("agency"),
            cls.name.label("class_name"),
        )
        .outerjoin(t.organizations, org.code == _C.department_code)
        .outerjoin(t.case_classes, and_(cls.kind == _C.kind, cls.code == _C.class_code))
        .where(*conditions)
        .order_by(_C.id.desc())
        .limit(query.page_size)
        .offset((query.page - 1) * query.page_size)
    )
    with uow:
        rows = uow.connection.execute(stmt).all()
        timelines = _timelines([r.id for r in rows], uow) if query.timeline else {}
    return [_request(r, timelines.get(r.id, ())) for r in rows]


def _searched_service(code: str) -> tuple[ClassKind, str]:
    try:
        return parse_service_code(code)
    except NotFoundError:
        raise InvalidInputError("open311.bad_service_code", f"服务代码 {code} 格式无效", service_code=code) from None


def _window(start: datetime | None, end: datetime | None, now: datetime) -> tuple[datetime, datetime]:
    if start is None and end is None:
        return now - WINDOW, now
    if start is None:
        assert end is not None
        return end - WINDOW, end
    end = end or now
    if start > end:
        raise InvalidInputError("open311.bad_date_range", "start_date 晚于 end_date")
    if end - start > WINDOW:
        raise InvalidInputError("open311.date_range_too_long", "查询时间跨度不能超过 90 天")
    return start, end


def _timelines(case_ids: list[int], uow: CaseReadsUnitOfWork) -> dict[int, tuple[TimelineEntry, ...]]:
    """The state changes of these cases, without who made them (one query for the whole page)."""
    if not case_ids:
        return {}
    log = t.case_log.c
    stmt = select(log.case_id, log.at, log.action, log.to_state).where(log.case_id.in_(case_ids))
    out: dict[int, list[TimelineEntry]] = defaultdict(list)
    for r in uow.connection.execute(stmt.order_by(log.case_id, log.seq)):
        state = State(r.to_state)
        action = Action(r.action)
        out[r.case_id].append(TimelineEntry(r.at, action.value, ACTION_LABELS[action], state.value, state.label))
    return {k: tuple(v) for k, v in out.items()}


def public_text(text: str, reporter: str, phone: str | None) -> str:
    """Free text as the public may read it: the reporter's name and phone, any mobile number and any e-mail
    address in it masked (a hotline operator may have typed the caller's details into the description)."""
    if phone:
        text = text.replace(phone, mask_phone(phone) or "")
    if len(reporter) >= 2:
        text = text.replace(reporter, mask_name(reporter))
    text = MOBILE.sub(lambda m: mask_phone(m.group(0)) or "", text)
    return EMAIL.sub("***@***", text)


def _media_url(description: str) -> str | None:
    """The link the client gave, if the description still carries it (typed look-alikes that are not
    http(s) links are ignored)."""
    links = [line.removeprefix(MEDIA_MARK) for line in description.splitlines() if line.startswith(MEDIA_MARK)]
    return links[-1] if links and MEDIA_LINK.match(links[-1]) else None


def _request(r: Any, timeline: tuple[TimelineEntry, ...]) -> ServiceRequest:
    state = State(r.state)
    expected = r.due_at if r.current_step == "dispose" else None
    return ServiceRequest(
        service_request_id=r.case_no,
        status=status_of(state),
        status_notes=STATE_LABELS[state],
        service_name=r.class_name or "",
        service_code=service_code(ClassKind(r.kind), r.class_code),
        description=public_text(r.description, r.reporter, r.reporter_phone),
        agency_responsible=r.agency,
        service_notice=None,
        requested_datetime=r.reported_at,
        updated_datetime=r.updated_at,
        expected_datetime=expected,
        address=public_text(r.address, r.reporter, r.reporter_phone),
        address_id=r.grid_code or r.community_code,
        lon=r.lon,
        lat=r.lat,
        photo_sha256=r.sha256,
        media_url=_media_url(r.description),
        state=state,
        timeline=timeline,
    )


def is_report_photo(sha256: str, uow: CaseReadsUnitOfWork) -> str:
    """The content type of a photo a citizen attached to their public report; raises NotFoundError (also for
    the photos of staff, cameras and sensors, which are served only to those whose scope covers the case)."""
    photos = t.case_photos.c
    with uow:
        content_type = uow.connection.scalar(
            select(photos.content_type)
            .join(t.cases, t.cases.c.id == photos.case_id)
            .where(photos.sha256 == sha256, photos.stage == "report", _C.source == Source.PUBLIC.value)
            .limit(1)
        )
    if content_type is None:
        raise NotFoundError("open311.unknown_media", "图片不存在")
    return str(content_type)
