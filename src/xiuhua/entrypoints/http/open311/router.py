"""Open311 GeoReport v2 at /open311/v2: discovery, services, service definitions, requests (post, search,
read), tokens, and the photos of reports. Every path ends in .json or .xml; errors follow the spec.

Parameters are read as the spec names them (``long``, ``attribute[code]``), not through models: the spec,
not our OpenAPI document, is the contract, so these routes stay out of /openapi.json.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request, Response, status
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException

from xiuhua.cases.domain.commands import ReportCase, Reported
from xiuhua.cases.domain.idempotency import OPEN311, checked_key
from xiuhua.cases.domain.workflow import Source
from xiuhua.cases.services.lifecycle import report_case
from xiuhua.cases.views import open311
from xiuhua.entrypoints.http.context import AppContext
from xiuhua.entrypoints.http.deps import Ctx
from xiuhua.entrypoints.http.open311.locating import locate_request
from xiuhua.entrypoints.http.open311.render import FORMATS, SHANGHAI, document, w3c
from xiuhua.entrypoints.http.open311.route import Open311Route
from xiuhua.geo.adapters.crs import Crs, from_wgs84
from xiuhua.kernel.actor import Actor, Role
from xiuhua.kernel.errors import InvalidInputError, NotFoundError
from xiuhua.kernel.evidence import StoredFile
from xiuhua.org.domain.accounts import AuthenticationError
from xiuhua.org.services import accounts

PREFIX = "/open311/v2"
SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
CHANGESET = "2026-11-26T00:00:00+08:00"
"""When this endpoint's behaviour last changed (the spec's discovery changeset)."""
CASE_NO = re.compile(r"^[0-9]{8,20}$")
SHA256 = re.compile(r"^[0-9a-f]{64}$")
PHONE = re.compile(r"^\+?[0-9\-]{5,20}$")
ATTRIBUTE = re.compile(r"^attribute\[([^\]]{1,64})\]$")
EXTENSIONS = [
    "crs：lat/long 的坐标系，wgs84（默认）、gcj02（国内地图应用）或 cgcs2000；POST 与 GET 均可用",
    "extensions=true：GET 请求返回 extended_attributes（案件详细状态码、中文名称与状态变化时间线）",
    "address_id：12 位社区代码或 15 位单元网格代码",
    "Idempotency-Key 请求头或 idempotency_key 字段：重试同一上报不会重复立案，返回同一 token",
    "media：随 POST 以 multipart/form-data 上传的现场照片（JPEG/PNG/WebP）",
    "page_size（1–1000）与 page：GET requests 分页",
]

router = APIRouter(prefix=PREFIX, route_class=Open311Route, include_in_schema=False)


def _format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise NotFoundError("open311.bad_format", f"不支持的格式 .{fmt}（可用 .json 或 .xml）", format=fmt)
    return fmt


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


@router.get("/discovery.{fmt}")
def discovery(fmt: str, request: Request, ctx: Ctx) -> Response:
    """Where the endpoint is, which formats and which extensions it offers."""
    kind = "production" if ctx.settings.environment == "production" else "test"
    body = {
        "changeset": CHANGESET,
        "contact": "城市管理指挥中心（数字城管）",
        "key_service": "api_key 由平台管理员签发（管理接口 /api/v1/admin/api-keys），只显示一次，按合作系统吊销",
        "endpoints": [
            {
                "specification": SPECIFICATION,
                "url": f"{_base(request)}{PREFIX}",
                "changeset": CHANGESET,
                "type": kind,
                "formats": ["text/xml", "application/json"],
            }
        ],
        "crs": [c.value for c in Crs],
        "extensions": EXTENSIONS,
    }
    return document(_format(fmt), "discovery", body)


@router.get("/services.{fmt}")
def services(fmt: str, ctx: Ctx) -> Response:
    fmt = _format(fmt)
    rows = [
        {
            "service_code": s.service_code,
            "service_name": s.service_name,
            "description": s.description,
            "metadata": s.metadata,
            "type": s.type,
            "keywords": s.keywords,
            "group": s.group,
        }
        for s in open311.list_services(ctx.uow())
    ]
    return document(fmt, "services", rows)


@router.get("/services/{code}.{fmt}")
def service_definition(code: str, fmt: str, ctx: Ctx) -> Response:
    fmt = _format(fmt)
    definition = open311.define_service(code, ctx.uow())
    attributes = []
    for a in definition.attributes:
        item: dict[str, Any] = {
            "variable": a.variable,
            "code": a.code,
            "datatype": a.datatype,
            "required": a.required,
            "datatype_description": a.datatype_description,
            "order": a.order,
            "description": a.description,
        }
        if a.datatype.endswith("valuelist"):
            item["values"] = [{"key": v.key, "name": v.name} for v in a.values]
        attributes.append(item)
    return document(fmt, "service_definition", {"service_code": definition.service.service_code,
                                                "attributes": attributes})  # fmt: skip


# ----- requests ---------------------------------------------------------------------------------
async def _form(request: Request) -> FormData:
    try:
        return await request.form(max_files=1, max_fields=200)
    except (HTTPException, MultiPartException, ValueError, KeyError) as exc:  # a body that is no form
        raise InvalidInputError(
            "open311.bad_body", "请求体应为表单（application/x-www-form-urlencoded 或 multipart/form-data）"
        ) from exc


@router.post("/requests.{fmt}")
async def post_request(fmt: str, request: Request, ctx: Ctx) -> Response:
    """Report a problem as a citizen's (public) report; answers 201, or 200 for a retry of the same report."""
    fmt = _format(fmt)
    form = await _form(request)
    fields: dict[str, str] = {}
    attributes: dict[str, list[str]] = defaultdict(list)
    media: bytes | None = None
    for key, value in form.multi_items():
        if isinstance(value, UploadFile):
            if key == "media":
                media = await value.read(ctx.settings.max_upload_bytes + 1)
            continue
        if match := ATTRIBUTE.match(key):
            attributes[match.group(1)].append(value)
        else:
            fields[key] = value.strip()
    await form.close()
    api_key = fields.get("api_key") or request.headers.get("X-API-Key")
    if not api_key:
        raise AuthenticationError("auth.missing_api_key", "缺少 api_key（或 X-API-Key 请求头）")
    client = await run_in_threadpool(accounts.api_key_client, api_key, ctx.uow())
    idempotency = fields.get("idempotency_key") or request.headers.get("Idempotency-Key")
    done, token = await run_in_threadpool(_submit, ctx, client, fields, dict(attributes), media, idempotency)
    notice = f"已收到，案件编号 {done.case_no}，可凭编号或 token 查询处理进度。"
    if done.nearby:
        notice += f"附近已有 {done.nearby} 件同类问题在处理中，可能是同一问题。"
    body = [{"service_request_id": done.case_no, "token": token, "service_notice": notice, "account_id": None}]
    code = status.HTTP_201_CREATED if done.created else status.HTTP_200_OK
    return document(fmt, "service_requests", body, code)


def _point(fields: dict[str, str]) -> tuple[float, float] | None:
    """(lon, lat) when the request gives both; raises InvalidInputError for one alone or a bad number."""
    lat, lon = fields.get("lat", ""), fields.get("long", "")
    if not lat and not lon:
        return None
    if not (lat and lon):
        raise InvalidInputError("open311.incomplete_point", "lat 与 long 须同时提供")
    try:
        y, x = float(lat), float(lon)
    except ValueError:
        raise InvalidInputError("open311.bad_point", "lat/long 应为数字（十进制度）") from None
    if not (math.isfinite(x) and math.isfinite(y) and -90 <= y <= 90 and -180 <= x <= 180):
        raise InvalidInputError("open311.bad_point", "lat 应在 -90–90，long 应在 -180–180")
    return x, y


def _reporter(fields: dict[str, str]) -> tuple[str, str | None]:
    """The reporter's name (family name first for Chinese names) and phone, both kept private."""
    first, last = fields.get("first_name", ""), fields.get("last_name", "")
    name = f"{first} {last}".strip() if (first + last).isascii() else f"{last}{first}"
    if len(name) > 64:
        raise InvalidInputError("open311.bad_name", "姓名不能超过 64 个字符")
    phone = fields.get("phone", "").replace(" ", "") or None
    if phone is not None and not PHONE.match(phone):
        raise InvalidInputError("open311.bad_phone", "电话号码格式无效")
    return name, phone


def _media_url(fields: dict[str, str]) -> str | None:
    url = fields.get("media_url", "")
    if not url:
        return None
    if not open311.MEDIA_LINK.match(url):
        raise InvalidInputError("open311.bad_media_url", "media_url 应为 http(s) 网址，且不超过 500 个字符")
    return url


def _submit(ctx: AppContext, client: str, fields: dict[str, str], attributes: dict[str, list[str]],
            media: bytes | None, idempotency: str | None) -> tuple[Reported, str]:  # fmt: skip
    """Check everything, store the photo, then report the case as any public report is reported."""
    code = fields.get("service_code", "")
    if not code:
        raise InvalidInputError("open311.missing_service_code", "缺少 service_code")
    definition = open311.define_service(code, ctx.uow())
    choices = open311.apply_attributes(definition, attributes)
    if idempotency is not None:
        checked_key(idempotency, "open311.bad_idempotency_key")
    crs = Crs.parse(fields.get("crs") or Crs.WGS84.value)
    location = locate_request(ctx, _point(fields), crs, fields.get("address_string", ""), fields.get("address_id", ""))
    reporter, phone = _reporter(fields)
    description = open311.case_description(fields.get("description", ""), definition.service, choices,
                                           _media_url(fields))  # fmt: skip
    photos: tuple[StoredFile, ...] = ()
    if media is not None:
        if len(media) > ctx.settings.max_upload_bytes:
            raise InvalidInputError("evidence.too_large", f"文件超过上限 {ctx.settings.max_upload_bytes} 字节")
        photos = (ctx.evidence.put(media),)  # the store cleans it
    token = open311.request_token(client, idempotency)
    cmd = ReportCase(
        actor=Actor(f"open311:{client}"[:64], frozenset({Role.CITIZEN})),
        source=Source.PUBLIC,
        kind=definition.service.kind,
        class_code=definition.service.class_code,
        location=location,
        description=description,
        reporter=reporter,
        reporter_phone=phone,
        component_id=choices.component_id,
        idempotency_key=open311.TOKEN_PREFIX + token,
        idempotency_scope=OPEN311,
        photos=photos,
    )
    return report_case(cmd, ctx.uow(), ctx.clock, ctx.policy()), token


def _csv(text: str | None) -> tuple[str, ...]:
    return tuple(v.strip() for v in (text or "").split(",") if v.strip())


def _moment(text: str | None, name: str) -> datetime | None:
    """A W3C datetime; a date alone or a time without offset is read as Asia/Shanghai."""
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text.strip().replace(" ", "+"))  # an unescaped + arrives as a space
    except ValueError:
        raise InvalidInputError("open311.bad_date", f"{name} 应为 W3C 时间，如 2026-03-03T09:00:00+08:00") from None
    return value if value.tzinfo else value.replace(tzinfo=SHANGHAI)


def _int(text: str | None, name: str, default: int) -> int:
    if not text:
        return default
    if not text.isdigit() or len(text) > 9:
        raise InvalidInputError(f"open311.bad_{name}", f"{name} 应为正整数")
    return int(text)


def _request_out(r: open311.ServiceRequest, base: str, crs: Crs, extensions: bool) -> dict[str, Any]:
    lon, lat = from_wgs84(r.lon, r.lat, crs)
    media = f"{base}{PREFIX}/media/{r.photo_sha256}" if r.photo_sha256 else r.media_url
    out: dict[str, Any] = {
        "service_request_id": r.service_request_id,
        "status": r.status,
        "status_notes": r.status_notes,
        "service_name": r.service_name,
        "service_code": r.service_code,
        "description": r.description,
        "agency_responsible": r.agency_responsible,
        "service_notice": r.service_notice,
        "requested_datetime": w3c(r.requested_datetime),
        "updated_datetime": w3c(r.updated_datetime),
        "expected_datetime": w3c(r.expected_datetime),
        "address": r.address,
        "address_id": r.address_id,
        "zipcode": None,
        "lat": round(float(lat), 7),
        "long": round(float(lon), 7),
        "media_url": media,
    }
    if extensions:
        out["extended_attributes"] = {
            "state": r.state.value,
            "state_label": r.state.label,
            "crs": crs.value,
            "timeline": [
                {
                    "datetime": w3c(e.at),
                    "action": e.action,
                    "action_label": e.action_label,
                    "state": e.state,
                    "state_label": e.state_label,
                }
                for e in r.timeline
            ],
        }
    return out


def _read_options(request: Request) -> tuple[Crs, bool]:
    q = request.query_params
    return Crs.parse(q.get("crs") or Crs.WGS84.value), q.get("extensions", "").lower() == "true"


@router.get("/requests.{fmt}")
def get_requests(fmt: str, request: Request, ctx: Ctx) -> Response:
    """Search requests by id, or by service, status and date (the last 90 days unless dates are given)."""
    fmt = _format(fmt)
    q = request.query_params
    crs, extensions = _read_options(request)
    ids = _csv(q.get("service_request_id"))
    if len(ids) > open311.MAX_REQUESTS or not all(CASE_NO.match(i) for i in ids):
        raise InvalidInputError("open311.bad_request_id", "service_request_id 应为逗号分隔的案件编号（最多 1000 个）")
    query = open311.RequestQuery(
        ids=ids,
        services=_csv(q.get("service_code")),
        start=_moment(q.get("start_date"), "start_date"),
        end=_moment(q.get("end_date"), "end_date"),
        statuses=tuple(s.lower() for s in _csv(q.get("status"))),
        page_size=_int(q.get("page_size"), "page_size", open311.MAX_REQUESTS),
        page=_int(q.get("page"), "page", 1),
        timeline=extensions,
    )
    found = open311.find_requests(query, ctx.uow(), ctx.clock.now())
    base = _base(request)
    return document(fmt, "service_requests", [_request_out(r, base, crs, extensions) for r in found])


@router.get("/requests/{request_id}.{fmt}")
def get_request(request_id: str, fmt: str, request: Request, ctx: Ctx) -> Response:
    fmt = _format(fmt)
    crs, extensions = _read_options(request)
    found = (
        open311.find_requests(open311.RequestQuery(ids=(request_id,), timeline=extensions), ctx.uow(), ctx.clock.now())
        if CASE_NO.match(request_id)
        else []
    )
    if not found:
        raise NotFoundError("open311.unknown_request", f"服务请求 {request_id} 不存在", service_request_id=request_id)
    return document(fmt, "service_requests", [_request_out(found[0], _base(request), crs, extensions)])


@router.get("/tokens/{token}.{fmt}")
def token(token: str, fmt: str, ctx: Ctx) -> Response:
    fmt = _format(fmt)
    case_no = open311.case_by_token(token, ctx.uow())
    return document(fmt, "service_requests", [{"service_request_id": case_no, "token": token}])


@router.get("/media/{sha256}")
def media(sha256: str, ctx: Ctx) -> Response:
    """A photo taken at a report (stored without its metadata), as a request's media_url points to it."""
    if not SHA256.match(sha256):
        raise NotFoundError("open311.unknown_media", "图片不存在")
    content_type = open311.is_report_photo(sha256, ctx.uow())
    return Response(
        ctx.evidence.get(sha256), media_type=content_type, headers={"Cache-Control": "public, max-age=86400"}
    )


@router.api_route("/{rest:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
def unknown(rest: str) -> Response:
    raise NotFoundError("open311.not_found", f"Open311 接口中没有 /{rest}", path=rest)
