"""Reference data for consoles: the workflow's labels and flags."""

from __future__ import annotations

from pydantic import Field

from xiuhua.entrypoints.http.schemas.common import Out


class WorkflowOut(Out):
    states: dict[str, str] = Field(description="状态 → 名称（按流程顺序）")
    final_states: list[str] = Field(description="终态（已结案、已作废）")
    actions: dict[str, str] = Field(description="操作 → 名称")
    needs_reason: list[str] = Field(description="须填写理由的操作")
    takes_photos: list[str] = Field(description="可附照片作为核实、处置、核查证据的操作")
    steps: dict[str, str] = Field(description="计时环节 → 名称")
    sources: dict[str, str] = Field(description="案件来源 → 名称")
    roles: dict[str, str] = Field(description="账号角色 → 名称")
