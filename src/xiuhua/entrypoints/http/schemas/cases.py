"""Cases: intake, lists, details, actions, the task queue."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import Field

from xiuhua.cases.domain.case import Urgency
from xiuhua.cases.domain.idempotency import MAX_KEY_LENGTH
from xiuhua.cases.domain.workflow import Source, State
from xiuhua.entrypoints.http.schemas.common import In, Out
from xiuhua.geo.adapters.crs import Crs
from xiuhua.org.domain.model import ClassKind

SHA256 = r"^[0-9a-f]{64}$"
CASE_NO = r"^[0-9]{8,20}$"
Sha256 = Annotated[str, Field(pattern=SHA256)]
Photos = list[Sha256]


class CaseIn(In):
    kind: ClassKind = Field(description="component（部件）或 matter（事项）")
    class_code: str = Field(pattern=r"^[0-9]{5}$", description="5 位类别代码")
    description: str = Field(min_length=1, max_length=2000)
    lon: float = Field(ge=-180, le=180, allow_inf_nan=False)
    lat: float = Field(ge=-90, le=90, allow_inf_nan=False)
    crs: Crs = Field(default=Crs.WGS84, description="坐标系：wgs84、cgcs2000 或 gcj02")
    address: str = Field(min_length=1, max_length=256)
    community_code: str | None = Field(
        default=None, pattern=r"^[0-9]{12}$", description="12 位社区代码；不填时按坐标定位"
    )
    area_class: str | None = Field(default=None, pattern=r"^[ABC]$")
    source: Source | None = Field(default=None, description="来源；市民上报恒为 public")
    urgency: Urgency = Urgency.NORMAL
    reporter: str = Field(default="", max_length=64, description="举报人称呼（热线、公众举报）")
    reporter_phone: str | None = Field(default=None, pattern=r"^\+?[0-9\-]{5,20}$")
    component_id: str | None = Field(default=None, pattern=r"^[0-9]{17}$")
    idempotency_key: str | None = Field(
        default=None, min_length=1, max_length=MAX_KEY_LENGTH, description="也可用请求头 Idempotency-Key"
    )
    photos: Photos = Field(default_factory=list, max_length=9, description="先经 /evidence 上传得到的 SHA-256")


class DuplicateOut(Out):
    case_no: str
    metres: float
    state: State | None = None


class ReportedOut(Out):
    case_no: str
    created: bool
    duplicates: list[DuplicateOut]
    repeat_of: str | None


class CaseSummaryOut(Out):
    case_no: str
    state: State
    state_label: str
    source: Source
    kind: ClassKind
    class_code: str
    urgency: str
    description: str
    address: str
    lon: float
    lat: float
    district_code: str
    street_code: str
    community_code: str
    grid_code: str | None
    department_code: str | None
    reported_at: datetime
    current_step: str | None
    due_at: datetime | None
    overdue: bool
    seconds_left: int | None = Field(default=None, description="距本环节期限的秒数（超期为负）")


class PageOut(Out):
    items: list[CaseSummaryOut]
    next_cursor: str | None = Field(description="下一页游标；为空表示没有更多")


class StepOut(Out):
    step: str
    label: str
    entered_at: datetime
    due_at: datetime | None
    done_at: datetime | None
    on_time: bool | None
    outcome: str | None


class LogOut(Out):
    seq: int
    at: datetime
    actor: str
    role: str
    action: str
    action_label: str
    from_state: str | None
    to_state: str
    reason: str
    attachments: list[str]
    data: dict[str, Any]
    step: str | None
    step_due_at: datetime | None
    on_time: bool | None
    hash: str


class PhotoOut(Out):
    stage: str
    sha256: str
    content_type: str
    size: int
    added_at: datetime


class UrgeOut(Out):
    issued_at: datetime
    issued_by: str
    reason: str
    due_at: datetime


class CaseDetailOut(CaseSummaryOut):
    reporter: str | None = Field(description="举报人：指挥中心可见全文，其他工作人员可见脱敏，市民不可见")
    reporter_phone: str | None
    component_id: str | None
    area_class: str | None
    verified: bool | None
    check_passed: bool | None
    standard_id: int | None
    disposal_limit: str | None
    handler: str | None
    duplicate_of: str | None
    repeat_of: str | None
    dispatched_at: datetime | None
    closed_at: datetime | None
    pending_extension: str | None
    counters: dict[str, int]
    steps: list[StepOut]
    log: list[LogOut]
    photos: list[PhotoOut]
    urges: list[UrgeOut]
    allowed_actions: list[str]


class ActedOut(Out):
    case_no: str
    state: State
    state_label: str
    due_at: datetime | None
    seq: int
    department_code: str | None


class StoredFileOut(Out):
    sha256: str
    content_type: str
    size: int
