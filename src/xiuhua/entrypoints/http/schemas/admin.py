"""Reference tables (organisation, catalog, limits, calendar) read and written as rows, and administration."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import Field

from xiuhua.entrypoints.http.schemas.common import PASSWORD_PATTERN, WORKING_PERIODS_PATTERN, In, Out


class TableName(StrEnum):
    REGIONS = "regions"
    ORGANIZATIONS = "organizations"
    STAFF = "staff"
    CLASSES = "classes"
    STANDARDS = "standards"
    STEP_LIMITS = "step_limits"
    ROUTING = "routing"
    CALENDAR_DAYS = "calendar_days"


class TableOut(Out):
    name: TableName
    columns: list[str]
    rows: list[list[str]]


class TableIn(In):
    rows: list[dict[str, str | None]] = Field(max_length=20000, description="每行一个对象，列名同导出文件")
    skip_invalid: bool = Field(default=False, description="跳过无效行（默认整表拒绝）")


class RowErrorOut(Out):
    row: int
    code: str
    message: str


class ImportOut(Out):
    written: int
    skipped: list[RowErrorOut]


class PasswordIn(In):
    password: str = Field(min_length=8, max_length=128, pattern=PASSWORD_PATTERN)


class ApiKeyIn(In):
    name: str = Field(min_length=2, max_length=64)


class ApiKeyOut(Out):
    name: str
    key: str = Field(description="只显示这一次；服务器只保存其哈希")


class ApiKeyInfoOut(Out):
    name: str
    created_at: datetime
    created_by: str
    revoked_at: datetime | None


class AuditOut(Out):
    id: int
    at: datetime
    actor: str
    action: str
    target: str
    client: str
    details: dict[str, Any]


class FeatureCollectionOut(Out):
    type: str = "FeatureCollection"
    features: list[dict[str, Any]]


class ScheduleIn(In):
    periods: str = Field(
        min_length=11,
        max_length=128,
        pattern=WORKING_PERIODS_PATTERN,
        description="作息时段，如 08:00-12:00,14:00-18:00",
    )
    season: str | None = Field(default=None, max_length=16, description="季节 MM-DD:MM-DD；不填为全年")


class ScheduleOut(Out):
    name: str
    periods: str
    season: str | None
