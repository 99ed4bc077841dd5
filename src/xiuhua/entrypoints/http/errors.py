"""Every failure as JSON {code, message, details} with a zh-CN message: domain errors by kind, validation
errors as 422, unknown routes and methods, oversized bodies; anything else a logged 500 ``internal``.

A case outside the caller's scope answers exactly like a case that does not exist (404), so guessing
case numbers reveals nothing; the denial is still audited.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from xiuhua.entrypoints.http.limits import BodyTooLargeError
from xiuhua.kernel.errors import DomainError, Kind
from xiuhua.org.domain.accounts import AuthenticationError, ThrottledError
from xiuhua.org.services import accounts

log = logging.getLogger("xiuhua.http")

STATUS = {Kind.INVALID: 422, Kind.NOT_FOUND: 404, Kind.FORBIDDEN: 403, Kind.CONFLICT: 409}
HIDDEN_AS_NOT_FOUND = {"case.out_of_scope": ("case.not_found", "案件 {case_no} 不存在")}
_HTTP_CODES = {
    404: ("http.not_found", "请求的地址不存在"),
    405: ("http.method_not_allowed", "该地址不支持此请求方法"),
    413: ("request.too_large", "请求体过大"),
    415: ("request.unsupported_media_type", "不支持的请求内容类型"),
}
_VALIDATION_WORDS = {
    "missing": "缺少必填项",
    "extra_forbidden": "不允许的字段",
    "json_invalid": "JSON 格式错误",
    "string_too_long": "文本过长",
    "string_too_short": "文本过短",
    "string_pattern_mismatch": "格式不符",
    "greater_than_equal": "数值过小",
    "less_than_equal": "数值过大",
    "greater_than": "数值过小",
    "less_than": "数值过大",
    "enum": "取值无效",
    "literal_error": "取值无效",
    "int_parsing": "应为整数",
    "float_parsing": "应为数字",
    "bool_parsing": "应为布尔值",
    "datetime_parsing": "应为 ISO 8601 时间",
    "datetime_from_date_parsing": "应为 ISO 8601 时间",
    "date_parsing": "应为 YYYY-MM-DD 日期",
    "timezone_aware": "时间须带时区",
    "model_attributes_type": "应为 JSON 对象",
    "dict_type": "应为 JSON 对象",
    "list_type": "应为数组",
    "string_type": "应为文本",
    "too_long": "条目过多",
    "too_short": "条目过少",
    "finite_number": "应为有限数",
}


def problem(status: int, code: str, message: str, details: dict[str, Any] | None = None,
            headers: dict[str, str] | None = None) -> JSONResponse:  # fmt: skip
    body = {"code": code, "message": message, "details": jsonable_encoder(details or {})}
    return JSONResponse(body, status_code=status, headers=headers)


def _audit_denial(request: Request, exc: DomainError) -> None:
    principal = getattr(request.state, "principal", None)
    ctx = request.app.state.ctx
    try:
        accounts.record(
            ctx.uow(), ctx.clock, principal.username if principal else "anonymous", "access.denied",
            f"{request.method} {request.url.path}", request.client.host if request.client else "", code=exc.code,
        )  # fmt: skip
    except Exception:  # the denial is answered even if the audit write fails
        log.exception("could not audit a denial")


async def domain_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    if isinstance(exc, ThrottledError):
        return problem(429, exc.code, exc.message, exc.details, {"Retry-After": str(exc.retry_after_seconds)})
    if isinstance(exc, AuthenticationError):
        return problem(401, exc.code, exc.message, exc.details, {"WWW-Authenticate": "Bearer"})
    if exc.kind is Kind.FORBIDDEN:
        _audit_denial(request, exc)
        if exc.code in HIDDEN_AS_NOT_FOUND:
            code, text = HIDDEN_AS_NOT_FOUND[exc.code]
            case_no = str(exc.details.get("case_no", ""))
            return problem(404, code, text.format(case_no=case_no), {"case_no": case_no})
    return problem(STATUS[exc.kind], exc.code, exc.message, exc.details)


def _describe(error: Any) -> dict[str, Any]:
    loc = [str(p) for p in error.get("loc", ())]
    return {"location": loc, "type": error.get("type", ""), "problem": _VALIDATION_WORDS.get(error.get("type", ""),
            "取值无效")}  # fmt: skip


async def validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [_describe(e) for e in exc.errors()]
    if any(e["type"] == "json_invalid" for e in errors):
        return problem(422, "request.bad_json", "请求体不是有效的 JSON", {"errors": errors[:20]})
    first = errors[0] if errors else {"location": [], "problem": "取值无效"}
    where = ".".join(p for p in first["location"] if p not in ("body", "query", "path", "header"))
    message = f"请求参数无效：{where or '请求'}{first['problem']}"
    if len(errors) > 1:
        message += f"（共 {len(errors)} 处）"
    return problem(422, "request.invalid", message, {"errors": errors[:20]})


async def http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if isinstance(exc.__cause__, BodyTooLargeError):  # FastAPI wraps failures while reading the body
        return await body_too_large(request, exc.__cause__)
    if exc.status_code == 400:  # a body FastAPI could not decode at all: bad input like any other
        return problem(422, "request.bad_body", "请求体无法解析（应为 UTF-8 编码的 JSON 或表单）")
    code, message = _HTTP_CODES.get(exc.status_code, (f"http.{exc.status_code}", "请求无法处理"))
    return problem(exc.status_code, code, message, headers=getattr(exc, "headers", None))


async def body_too_large(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, BodyTooLargeError)
    return problem(413, "request.too_large", f"请求体超过上限 {exc.limit} 字节", {"limit": exc.limit})


async def internal_error(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem(500, "internal", "服务器内部错误，请稍后重试")


def install(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, domain_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(BodyTooLargeError, body_too_large)
    app.add_exception_handler(Exception, internal_error)
