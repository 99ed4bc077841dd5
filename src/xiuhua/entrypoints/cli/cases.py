"""Commands of the closed loop: report and act on cases, show them, run the timers, audit the log."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from xiuhua.cases.domain.case import Urgency
from xiuhua.cases.domain.commands import ActOnCase, ReportCase
from xiuhua.cases.domain.workflow import ACTION_LABELS, SOURCE_LABELS, STATE_LABELS, Action, Source
from xiuhua.cases.services import policy as policy_service
from xiuhua.cases.services.audit import verify_log
from xiuhua.cases.services.deadlines import sweep
from xiuhua.cases.services.lifecycle import act_on_case, default_source, report_case
from xiuhua.cases.services.outbox import prune_outbox
from xiuhua.entrypoints.cli.console import (
    SkipInvalid,
    err,
    export_table,
    out,
    print_report,
    progress_bar,
    reports_errors,
    runtime,
)
from xiuhua.geo.adapters.crs import Crs
from xiuhua.geo.services import geography
from xiuhua.kernel.errors import InvalidInputError, NotFoundError
from xiuhua.kernel.evidence import StoredFile
from xiuhua.org.domain.model import ClassKind
from xiuhua.org.services.actors import load_actor
from xiuhua.platform.tabular import read_table

case_app = typer.Typer(help="案件：上报、办理、查看（按角色与管辖范围校验）。", no_args_is_help=True)
audit_app = typer.Typer(help="审计：校验案件日志的哈希链。", no_args_is_help=True)
policy_app = typer.Typer(
    help="办案规则：各环节时限、派遣路由、督办与重复判定等设置（CSV/XLSX）。", no_args_is_help=True
)

As = Annotated[str, typer.Option("--as", help="以哪个账号办理（用户名）")]
Photos = Annotated[list[Path] | None, typer.Option("--photo", help="照片文件（JPEG/PNG/WebP），可重复")]


def register(app: typer.Typer) -> None:
    app.add_typer(case_app, name="case")
    app.add_typer(audit_app, name="audit")
    app.add_typer(policy_app, name="policy")
    app.command("worker")(worker)


def parse_action(text: str) -> Action:
    for action, label in ACTION_LABELS.items():
        if text in (action.value, label) and action is not Action.REPORT:
            return action
    names = "、".join(f"{a.value}（{label}）" for a, label in ACTION_LABELS.items() if a is not Action.REPORT)
    raise InvalidInputError("case.unknown_action", f"未知的操作“{text}”，可用：{names}")


def parse_source(text: str) -> Source:
    for source, label in SOURCE_LABELS.items():
        if text in (source.value, label):
            return source
    raise InvalidInputError("case.unknown_source", f"未知的来源“{text}”，可用：{'、'.join(s.value for s in Source)}")


def store_photos(paths: list[Path] | None) -> tuple[StoredFile, ...]:
    store = runtime().evidence
    stored = []
    for path in paths or []:
        if not path.is_file():
            raise InvalidInputError("evidence.not_found", f"照片文件不存在：{path}")
        stored.append(store.put(path.read_bytes()))
    return tuple(stored)


@case_app.command("report")
@reports_errors
def case_report(
    user: As,
    code: Annotated[str, typer.Option(help="5 位类别代码，如 01001")],
    description: Annotated[str, typer.Option(help="问题描述")],
    lon: Annotated[float, typer.Option(help="经度（WGS84）")],
    lat: Annotated[float, typer.Option(help="纬度（WGS84）")],
    address: Annotated[str, typer.Option(help="位置描述")],
    community: Annotated[
        str | None, typer.Option(help="12 位社区代码（可不填：按坐标确定；填写时须与坐标所在社区一致）")
    ] = None,
    kind: Annotated[str, typer.Option(help="component（部件）或 matter（事项）")] = "component",
    source: Annotated[
        str | None,
        typer.Option(help="来源：supervisor、public、hotline、leader、transfer、self_disposal（不填按角色）"),
    ] = None,
    area_class: Annotated[str | None, typer.Option(help="区域类别 A/B/C")] = None,
    urgent: Annotated[bool, typer.Option(help="紧急案件")] = False,
    reporter: Annotated[str, typer.Option(help="举报人（公众举报时）")] = "",
    phone: Annotated[str | None, typer.Option(help="举报人电话")] = None,
    key: Annotated[str | None, typer.Option(help="幂等键：重复提交同一键只立一案")] = None,
    photo: Photos = None,
) -> None:
    """上报一个问题，打印案件编号、疑似重复与反复发生的案件。"""
    if community is not None and (len(community) != 12 or not community.isdigit()):
        raise InvalidInputError("case.bad_location", f"社区代码“{community}”应为 12 位数字")
    rt = runtime()
    actor = load_actor(rt.uow(), user)
    locator = rt.locator()
    location = geography.place_report(lon, lat, Crs.WGS84, address, community, area_class, locator)
    cmd = ReportCase(
        actor=actor,
        source=parse_source(source) if source else default_source(actor),
        kind=ClassKind.parse(kind),
        class_code=code,
        location=location,
        description=description,
        urgency=Urgency.URGENT if urgent else Urgency.NORMAL,
        reporter=reporter,
        reporter_phone=phone,
        idempotency_key=key,
        photos=store_photos(photo),
    )
    result = report_case(cmd, rt.uow(), rt.clock, rt.policy())
    print(result.case_no)
    if not result.created:
        err.print("该幂等键已立案，未重复创建", markup=False)
    for case_no, metres in result.duplicates:
        err.print(f"疑似重复：{case_no}（相距 {metres} 米）", markup=False)
    if result.repeat_of:
        err.print(f"反复发生：同地同类问题 {result.repeat_of} 近期已结案", markup=False)


@case_app.command("act")
@reports_errors
def case_act(
    case_no: Annotated[str, typer.Argument(help="案件编号")],
    action: Annotated[str, typer.Argument(help="操作，如 accept（受理）、file（立案）、dispatch（派遣）")],
    user: As,
    reason: Annotated[str, typer.Option(help="原因（回退、作废、返工、延期、挂账等必填）")] = "",
    standard: Annotated[int | None, typer.Option(help="立案条件编号（立案时）")] = None,
    department: Annotated[str | None, typer.Option(help="处置部门信用代码（派遣时；不填按路由建议）")] = None,
    extension: Annotated[str | None, typer.Option(help="申请延长的时限，如 1工作日")] = None,
    duplicate_of: Annotated[str | None, typer.Option(help="作废时：与之重复的主案件编号")] = None,
    photo: Photos = None,
) -> None:
    """办理一步：打印新状态与本环节期限。"""
    rt = runtime()
    cmd = ActOnCase(
        case_no=case_no,
        action=parse_action(action),
        actor=load_actor(rt.uow(), user),
        reason=reason,
        standard_id=standard,
        department_code=department,
        extension=extension,
        duplicate_of=duplicate_of,
        photos=store_photos(photo),
    )
    result = act_on_case(cmd, rt.uow(), rt.clock, rt.policy())
    due = f"，期限 {result.due_at.isoformat()}" if result.due_at else ""
    print(f"{result.case_no} {STATE_LABELS[result.state]}{due}")


@case_app.command("show")
@reports_errors
def case_show(case_no: Annotated[str, typer.Argument(help="案件编号")]) -> None:
    """显示案件：状态、部门、各环节期限与办理日志。"""
    rt = runtime()
    calendar = rt.calendar()
    with rt.uow() as uow:
        case = uow.cases.get(case_no)
        if case is None:
            raise NotFoundError("case.not_found", f"案件 {case_no} 不存在")
        log = uow.cases.log(case_no)
    local = calendar.local
    out.print(f"[bold]{case.case_no}[/bold] {STATE_LABELS[case.state]}  {SOURCE_LABELS[case.source]}  "
              f"{case.kind.label} {case.class_code}  {case.urgency.label}")  # fmt: skip
    out.print(f"位置：{case.location.address}（{case.location.community_code}）  部门：{case.department_code or '—'}")
    out.print(f"描述：{case.description}", markup=False)
    flags = [name for name, on in (("超期", case.overdue), ("过夜未派", case.overnight)) if on]
    counters = "，".join(f"{k} {v}" for k, v in sorted(case.counters.items()))
    out.print(f"标记：{'、'.join(flags) or '—'}  计数：{counters or '—'}")
    steps = Table(title="环节期限")
    for column in ("环节", "开始", "期限", "完成", "按时"):
        steps.add_column(column)
    for s in case.steps:
        stamp = [
            local(int(x.timestamp())).strftime("%m-%d %H:%M") if x else "—" for x in (s.entered_at, s.due_at, s.done_at)
        ]
        on_time = {True: "是", False: "否", None: "—"}[s.on_time]
        steps.add_row(s.step.label, *stamp, on_time)
    out.print(steps)
    table = Table(title="办理日志")
    for column in ("#", "时间", "账号", "操作", "状态", "原因"):
        table.add_column(column)
    for e in log:
        table.add_row(str(e.seq), local(int(e.at.timestamp())).strftime("%m-%d %H:%M"), e.actor, e.action.label,
                      STATE_LABELS[e.to_state], e.reason)  # fmt: skip
    out.print(table)


def worker(
    once: Annotated[bool, typer.Option(help="只扫描一次后退出")] = False,
    interval: Annotated[float, typer.Option(help="扫描间隔（秒）")] = 60,
) -> None:
    """定时任务：标记超期、超期自动督办、当日未派遣案件（不让病症过夜），清理超过保留期的事件。"""
    run_worker(once, interval)


@reports_errors
def run_worker(once: bool, interval: float) -> None:
    rt = runtime()
    retention = timedelta(days=rt.settings.outbox_retention_days)
    while True:
        report = sweep(rt.uow(), rt.clock, rt.policy())
        pruned = prune_outbox(rt.uow(), rt.clock, retention)
        stamp = rt.clock.now().isoformat(timespec="seconds")
        print(
            f"{stamp} 超期 {report.overdue}，自动督办 {len(report.urged)}，过夜未派 {len(report.overnight)}，"
            f"清理事件 {pruned}",
            flush=True,
        )
        if once:
            return
        time.sleep(interval)


@audit_app.command("verify")
@reports_errors
def audit_verify() -> None:
    """校验全部案件日志的哈希链；有记录被改、删、插时以非零状态退出并指出第一个案件。"""
    rt = runtime()
    with progress_bar() as report:
        result = verify_log(rt.uow(), report)
    if result.broken:
        first = result.broken[0]
        err.print(f"日志被篡改：案件 {first.case_no} 第 {first.seq} 条：{first.problem}", markup=False)
        for other in result.broken[1:10]:
            err.print(f"  另：案件 {other.case_no} 第 {other.seq} 条：{other.problem}", markup=False)
        raise typer.Exit(1)
    out.print(f"日志完整：{result.cases} 个案件，{result.rows} 条记录，哈希链全部吻合")


@policy_app.command("export-step-limits")
@reports_errors
def policy_export_step_limits(path: Path) -> None:
    """导出各环节时限（受理、核实、立案、派遣、核查派发、核查、结案、督办）。"""
    export_table(path, policy_service.STEP_LIMIT_COLUMNS, policy_service.export_step_limits(runtime().uow()))


@policy_app.command("import-step-limits")
@reports_errors
def policy_import_step_limits(path: Path, skip_invalid: SkipInvalid = False) -> None:
    """导入环节时限：列 step, urgency（normal/urgent/*）, area_class（A/B/C/*）, time_limit。"""
    rt = runtime()
    report = policy_service.import_step_limits(read_table(path), rt.uow(), rt.calendar(), skip_invalid=skip_invalid)
    print_report(report, "环节时限")


@policy_app.command("export-routing")
@reports_errors
def policy_export_routing(path: Path) -> None:
    """导出派遣路由规则。"""
    export_table(path, policy_service.ROUTING_COLUMNS, policy_service.export_routing(runtime().uow()))


@policy_app.command("import-routing")
@reports_errors
def policy_import_routing(path: Path, skip_invalid: SkipInvalid = False) -> None:
    """以文件替换派遣路由规则：列 class（如 matter:06001）, region_code, department_code, priority。"""
    print_report(
        policy_service.import_routing(read_table(path), runtime().uow(), skip_invalid=skip_invalid), "路由规则"
    )


@policy_app.command("set")
@reports_errors
def policy_set(
    key: Annotated[str, typer.Argument(help="设置项，见 xiuhua policy show")],
    value: Annotated[str, typer.Argument(help="新值")],
) -> None:
    """修改一项办案设置。"""
    rt = runtime()
    stored = policy_service.set_case_setting(key, value, rt.uow(), rt.calendar())
    out.print(f"{key} = {stored}")


@policy_app.command("show")
@reports_errors
def policy_show() -> None:
    """显示办案设置的当前值。"""
    with runtime().uow() as uow:
        for key, default in policy_service.CASE_SETTINGS.items():
            out.print(f"{key} = {uow.settings.get(key, default)}")
