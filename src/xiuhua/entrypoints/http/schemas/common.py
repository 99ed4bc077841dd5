"""Shared schema bases: request bodies refuse unknown fields; every error has one shape."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class In(BaseModel):
    """A request body: unknown fields are an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class ErrorOut(BaseModel):
    code: str = Field(description="stable machine code, e.g. case.not_found")
    message: str = Field(description="zh-CN message for people")
    details: dict[str, Any] = Field(default_factory=dict)


ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorOut, "description": text}
    for status, text in (
        (401, "未登录或令牌无效"),
        (403, "无权操作"),
        (404, "不存在或不在管辖范围内"),
        (409, "状态冲突"),
        (413, "请求体过大"),
        (422, "参数无效"),
    )
}
"""Error responses documented on every route."""

MAX_ID = 2**31 - 1
"""The largest row id any table holds (a 32-bit integer on both databases): bounds every id in the schema."""

# The rules of text parameters, in the schema, so that it says what the server accepts (what a pattern cannot
# say, such as a bbox's minimum below its maximum or a date that exists, is still checked by the server).
_NUMBER = r"-?[0-9]{1,3}(\.[0-9]{1,15})?"
BBOX_PATTERN = rf"^{_NUMBER}(,{_NUMBER}){{3}}$"
"""minlon,minlat,maxlon,maxlat in decimal degrees."""
_MONTH, _DAY = r"(0[1-9]|1[0-2])", r"(0[1-9]|[12][0-9]|3[01])"
_YEAR = r"(19|2[0-9])[0-9]{2}"  # domain.evaluation.FIRST_YEAR–LAST_YEAR
_DATE = rf"{_YEAR}-{_MONTH}-{_DAY}"
PERIOD_PATTERN = rf"^({_YEAR}(-{_MONTH}|-W(0[1-9]|[1-4][0-9]|5[0-3])|-Q[1-4])?|{_DATE}(~{_DATE})?)$"
"""A year (1900–2999), month, ISO week, quarter, day or range of days: 2026, 2026-10, 2026-W41, 2026-Q4,
2026-10-05, 2026-10-01~2026-10-15 (a range of at most ten years is checked by the server)."""
_CLOCK = r" *([01]?[0-9]|2[0-3]):[0-5][0-9] *"
_SPAN = rf"{_CLOCK}-({_CLOCK}| *24:00 *)"
WORKING_PERIODS_PATTERN = rf"^{_SPAN}([,，;；]{_SPAN})*$"
"""Working periods of a day: 08:00-12:00,14:00-18:00."""
PASSWORD_PATTERN = r"^([^A-Za-z]*[A-Za-z][^0-9]*[0-9]|[^0-9]*[0-9][^A-Za-z]*[A-Za-z]).*$"
"""At least one letter and one digit (the length is minLength/maxLength; not containing the username is
checked by the server)."""
