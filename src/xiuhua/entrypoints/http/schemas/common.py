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
