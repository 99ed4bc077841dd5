"""`xiuhua evaluate` and `xiuhua evaluation …`: results, drill-down, freezing and appeals."""

from __future__ import annotations

import dataclasses
import json
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from xiuhua.bootstrap import messagebus
from xiuhua.cases.services import history_import as history
from xiuhua.entrypoints.cli.console import (
    SkipInvalid,
    export_table,
    out,
    parse_day,
    print_report,
    progress_bar,
    read_json_file,
    reports_errors,
    runtime,
)
from xiuhua.evaluation.adapters.reports.html import write_html
from xiuhua.evaluation.adapters.reports.xlsx import write_xlsx
from xiuhua.evaluation.domain.rewards import OUTCOMES
from xiuhua.evaluation.domain.tallies import TZ
from xiuhua.evaluation.services import campaigns, rewards, unit_sheet
from xiuhua.evaluation.services import evaluate as service
from xiuhua.evaluation.services import what_if as what_if_service
from xiuhua.kernel.errors import InvalidInputError
from xiuhua.org.services.actors import load_actor
from xiuhua.platform.tabular import read_table

evaluation_app = typer.Typer(help="综合评价：冻结、申诉、下钻、评价方案。", no_args_is_help=True)
By = Annotated[str, typer.Option("--by", help="操作人用户名")]


class Format(StrEnum):
    json = "json"
    xlsx = "xlsx"
    html = "html"


def one_period(month: str | None, period: str | None) -> str:
    """The one period named by --month or --period; a CLI error when neither or both are given."""
    if (month is None) == (period is None):
        raise InvalidInputError("evaluation.bad_period", "请用 --month 或 --period 指定一个时段")
    return month or period or ""


def register(app: typer.Typer) -> None:
    app.command("evaluate")(evaluate)
    app.command("import-cases")(import_cases)
    app.add_typer(evaluation_app, name="evaluation")
    app.add_typer(reward_app, name="reward")
    app.add_typer(campaign_app, name="campaign")


@reports_errors
def evaluate(
    month: Annotated[str | None, typer.Option(help="评价月份 YYYY-MM")] = None,
    period: Annotated[
        str | None, typer.Option(help="其他时段：2026-10-05、2026-W41、2026-Q4、2026、2026-10-01~2026-10-15")
    ] = None,
    fmt: Annotated[Format, typer.Option("--format", help="输出格式")] = Format.json,
    output: Annotated[Path | None, typer.Option(help="输出文件（json 默认输出到屏幕）")] = None,
    trend: Annotated[int, typer.Option(help="趋势图包含此前多少个同类时段")] = 5,
    live: Annotated[bool, typer.Option(help="即使已冻结也按案件记录重新计算")] = False,
) -> None:
    """评价区域、部门、岗位：排名、等级、指标表、趋势与热点（JSON、XLSX 或 HTML）。"""
    when = one_period(month, period)
    if trend < 0:
        raise InvalidInputError("evaluation.bad_trend", "--trend 不能为负")
    with progress_bar() as report:
        result = service.evaluate(service.Evaluate(when, trend, live), runtime().uow(), report)
    text = service.canonical_json(result)
    if fmt is Format.json and output is None:
        print(text)
        return
    target = output or Path(f"evaluation-{result.period}.{fmt.value}")
    document = json.loads(text)
    if fmt is Format.json:
        target.write_text(text + "\n", encoding="utf-8")
    elif fmt is Format.xlsx:
        write_xlsx(document, target)
    else:
        write_html(document, target)
    out.print(f"已写出 {result.period} 评价结果到 {target}")


@evaluation_app.command("drill")
@reports_errors
def drill(
    period: Annotated[str, typer.Argument(help="时段，如 2026-10")],
    object_type: Annotated[str, typer.Argument(help="对象类型：district、street、community、grid、department、…")],
    code: Annotated[str, typer.Argument(help="对象代码（区划代码、部门代码或用户名）")],
    indicator: Annotated[str, typer.Argument(help="指标代码，如 on_time_disposal_rate")],
) -> None:
    """列出某对象某指标分子、分母所含的案件编号。"""
    found = service.drill(service.Drill(period, object_type, code, indicator), runtime().uow())
    out.print(f"{found.name}（{found.indicator}）")
    out.print(f"分子 {service.count_label(found.numerator)}：{len(found.numerator_cases)} 件")
    for no in found.numerator_cases:
        print(f"  {no}")
    if found.denominator:
        out.print(f"分母 {service.count_label(found.denominator)}：{len(found.denominator_cases)} 件")
        for no in found.denominator_cases:
            print(f"  {no}")


@evaluation_app.command("hotspot")
@reports_errors
def hotspot(
    period: Annotated[str, typer.Argument(help="时段，如 2026-10")],
    key: Annotated[str, typer.Argument(help="热点的下钻键（评价结果 hotspots 中的 key）")],
) -> None:
    """列出某热点本期立案的案件编号。"""
    found = service.hotspot_cases(period, key, runtime().uow())
    out.print(f"热点 {key}：{len(found)} 件")
    for no in found:
        print(f"  {no}")


@evaluation_app.command("rebuild-tallies")
@reports_errors
def rebuild_tallies(
    month: Annotated[str | None, typer.Option(help="只重算这个月（YYYY-MM）；默认重算所有月份")] = None,
) -> None:
    """按案件记录重算每月的评价统计（绕过业务流程直接写入案件后使用）。"""
    with progress_bar() as report:
        months = service.rebuild_tallies(runtime().uow(), report, month)
    out.print(f"已按案件记录重算 {months} 个月的评价统计")


@evaluation_app.command("check-tallies")
@reports_errors
def check_tallies(month: Annotated[str, typer.Argument(help="月份 YYYY-MM")]) -> None:
    """核对某月的评价统计与按案件记录重算的结果；不一致时逐项列出并以 1 退出。"""
    found = service.check_tallies(month, runtime().uow())
    if found.differences:
        for line in found.differences:
            print(line)
        out.print(f"{found.month} 评价统计与案件记录不一致：{len(found.differences)} 项")
        raise typer.Exit(1)
    out.print(f"{found.month} 评价统计与案件记录一致（{found.rows} 项）")


@evaluation_app.command("freeze")
@reports_errors
def freeze(period: Annotated[str, typer.Argument(help="时段，如 2026-10")], by: By) -> None:
    """冻结某时段的评价结果；此后只能经申诉审批修改。"""
    rt = runtime()
    with progress_bar() as report:
        sha = service.freeze_period(service.FreezePeriod(period, by), rt.uow(), rt.clock, report)
    out.print(f"{period} 评价结果已冻结（版本 1，SHA-256 {sha}）")


@evaluation_app.command("appeal")
@reports_errors
def appeal(
    period: Annotated[str, typer.Argument(help="已冻结的时段")],
    department: Annotated[str, typer.Option(help="申诉部门代码")],
    indicator: Annotated[str, typer.Option(help="被扣分的指标代码")],
    case_no: Annotated[str, typer.Option("--case", help="案件编号")],
    reason: Annotated[str, typer.Option(help="申诉理由")],
    by: By,
) -> None:
    """部门对某案件造成的某项扣分提出申诉。"""
    rt = runtime()
    cmd = service.FileAppeal(period, "department", department, indicator, case_no, reason, by)
    appeal_id = service.file_appeal(cmd, rt.uow(), rt.clock)
    out.print(f"申诉已登记，编号 {appeal_id}")


@evaluation_app.command("decide-appeal")
@reports_errors
def decide_appeal(
    appeal_id: Annotated[int, typer.Argument(help="申诉编号")],
    approve: Annotated[bool, typer.Option("--approve/--reject", help="批准或驳回")],
    reason: Annotated[str, typer.Option(help="审批意见")],
    by: By,
) -> None:
    """审批申诉：批准则生成冻结结果的新版本并记审计。"""
    rt = runtime()
    done = service.decide_appeal(service.DecideAppeal(appeal_id, approve, reason, by), rt.uow(), rt.clock)
    verdict = "已批准" if done.status == "approved" else "已驳回"
    out.print(f"申诉 {appeal_id} {verdict}；结果版本 {done.revision}；指标值 {done.before} → {done.after}")


@evaluation_app.command("audit")
@reports_errors
def audit(period: Annotated[str, typer.Argument(help="时段")]) -> None:
    """显示某时段的冻结、申诉与审批记录。"""
    for row in service.audit_trail(period, runtime().uow()):
        when = row["at"].astimezone(TZ).strftime("%Y-%m-%d %H:%M")
        print(f"{when} {row['actor']} {row['action']} {row['detail']}")


@evaluation_app.command("scheme-add")
@reports_errors
def scheme_add(path: Annotated[Path, typer.Argument(help="评价方案 JSON 文件")], by: By) -> None:
    """新增一个评价方案版本（自 valid_from 所在时段起生效）。"""
    body = read_json_file(path, "evaluation.bad_scheme", "评价方案")
    rt = runtime()
    scheme = service.add_scheme(service.AddScheme(body, by), rt.uow(), rt.clock)
    out.print(f"评价方案 {scheme.version} 已保存，自 {scheme.valid_from} 起生效")


@evaluation_app.command("units")
@reports_errors
def units(
    output: Annotated[Path, typer.Argument(help="输出文件（.xlsx 或 .csv）")],
    month: Annotated[str | None, typer.Option(help="月份 YYYY-MM")] = None,
    period: Annotated[str | None, typer.Option(help="其他时段：2026-Q4、2026（奖惩只按月或按年）")] = None,
) -> None:
    """各单位结果表（文明单位动态管理、目标管理用）：每个被评价单位一行，含综合指数、等级、排名、扣分和奖励金额。"""
    when = one_period(month, period)
    with progress_bar() as report:
        rows = unit_sheet.unit_sheet(when, runtime().uow(), report)
    export_table(output, unit_sheet.HEADER, (row.cells() for row in rows))


FIELD_NAMES = {"rank": "排名", "grade": "等级", "composite": "综合指数", "points": "奖惩得分", "yuan": "奖励（元）"}


@evaluation_app.command("what-if")
@reports_errors
def what_if(
    month: Annotated[str | None, typer.Option(help="月份 YYYY-MM")] = None,
    period: Annotated[str | None, typer.Option(help="其他时段（奖惩只按月或按年）：2026-Q4、2026")] = None,
    scheme: Annotated[Path | None, typer.Option(help="评价方案草案 JSON")] = None,
    reward_rules: Annotated[Path | None, typer.Option(help="奖惩规则草案 JSON")] = None,
    current_rules: Annotated[Path | None, typer.Option(help="现行奖惩规则 JSON（默认内置规则）")] = None,
    output: Annotated[Path | None, typer.Option(help="把变化导出为 CSV 或 XLSX")] = None,
) -> None:
    """假如：按方案草案或奖惩规则草案重算某期，列出每个排名、等级、综合指数和奖励金额的变化（不保存）。"""
    when = one_period(month, period)
    drafts = [read_json_file(p, code, what) if p else None for p, code, what in (
        (scheme, "evaluation.bad_scheme", "评价方案草案"), (reward_rules, "reward.bad_rules", "奖惩规则草案"),
        (current_rules, "reward.bad_rules", "现行奖惩规则"))]  # fmt: skip
    with progress_bar() as report:
        found = what_if_service.what_if(what_if_service.WhatIf(when, *drafts), runtime().uow(), report)
    rules = f"，奖惩规则 {found.rules_before} → {found.rules_after}" if found.rules_before else ""
    out.print(f"{found.period}：评价方案 {found.scheme_before} → {found.scheme_after}{rules}；"
              f"比较 {found.objects} 个对象，{len(found.changes)} 处变化")  # fmt: skip
    if not found.changes:
        return
    table = Table(title=f"{found.period} 假如按草案计算")
    for heading in ("对象类型", "代码", "名称", "项目", "现行", "草案"):
        table.add_column(heading)
    rows = [[c.object_type, c.code, c.name, FIELD_NAMES.get(c.field, c.field), _shown(c.before), _shown(c.after)]
            for c in found.changes]  # fmt: skip
    for row in rows:
        table.add_row(*row)
    out.print(table)
    if output is not None:
        export_table(output, ["object_type", "code", "name", "field", "before", "after"],
                     ([c.object_type, c.code, c.name, c.field, _shown(c.before), _shown(c.after)]
                      for c in found.changes))  # fmt: skip


def _shown(value: object) -> str:
    return "—" if value is None else f"{value:.2f}" if isinstance(value, float | Decimal) else str(value)


reward_app = typer.Typer(
    help="奖惩：区、街道、部门、岗位按案件结果、排名和年度计分，奖励与扣款到分，每一元可追溯。", no_args_is_help=True
)


@reward_app.command("ledger")
@reports_errors
def reward_ledger(
    period: Annotated[str, typer.Argument(help="时段：2026-10（月）或 2026（年，含年度排名）")],
    rules: Annotated[Path | None, typer.Option(help="奖惩规则 JSON（默认用内置规则）")] = None,
    output: Annotated[Path | None, typer.Option(help="把逐条台账导出为 CSV 或 XLSX")] = None,
) -> None:
    """奖惩台账：各单位得分、奖励、扣款与净额，逐条可追溯到案件或排名。"""
    body = None if rules is None else read_json_file(rules, "reward.bad_rules", "奖惩规则")
    with progress_bar() as report:
        ledger = rewards.reward_ledger(rewards.ShowLedger(period, body), runtime().uow(), report)
    table = Table(
        title=f"{ledger.period} 奖惩台账（规则 {ledger.rules_version}，奖励资金 {ledger.fund_yuan} 元，"
        f"结余 {ledger.unallocated_yuan} 元）"
    )
    for heading in ("类型", "代码", "名称", "得分", "奖励（元）", "扣款（元）", "净额（元）", "保证金扣缴（元）"):
        table.add_column(heading)
    for row in ledger.totals:
        table.add_row(row.unit_type.label, row.code, row.name, f"{row.points:g}", f"{row.award_yuan:.2f}",
                      f"{row.deducted_yuan:.2f}", f"{row.yuan:.2f}", f"{row.from_deposit_yuan:.2f}")  # fmt: skip
    out.print(table)
    if output is not None:
        export_table(
            output,
            ["period", "unit_type", "unit", "layer", "outcome", "outcome_name", "case_no", "points", "yuan"],
            ([e.period, e.unit_type.value, e.unit, e.layer, e.outcome, OUTCOMES.get(e.outcome, e.outcome),
              e.case_no or "", f"{e.points:g}", f"{e.yuan:.2f}"] for e in ledger.entries),
        )  # fmt: skip


campaign_app = typer.Typer(help="专项整治：范围、时段、目标，按项目和责任单位统计进度与得分。", no_args_is_help=True)


@campaign_app.command("list")
@reports_errors
def campaign_list() -> None:
    """列出专项整治项目。"""
    table = Table(title="专项整治")
    for heading in ("代码", "名称", "时间", "指挥部", "目标"):
        table.add_column(heading)
    for c in campaigns.load_campaigns(runtime().uow()):
        table.add_row(c.code, c.name, f"{c.start}～{c.end}", c.headquarters, "；".join(t.name for t in c.targets))
    out.print(table)


@campaign_app.command("show")
@reports_errors
def campaign_show(code: Annotated[str, typer.Argument(help="专项整治代码")]) -> None:
    """显示一个专项整治的定义（JSON）。"""
    c = campaigns.get_campaign(code, runtime().uow())
    print(json.dumps(dataclasses.asdict(c), ensure_ascii=False, indent=1, default=str))


@campaign_app.command("put")
@reports_errors
def campaign_put(path: Annotated[Path, typer.Argument(help="专项整治定义 JSON 文件")], by: By) -> None:
    """新增或修改一个专项整治。"""
    body = read_json_file(path, "campaign.bad_definition", "专项整治定义")
    rt = runtime()
    c = campaigns.put_campaign(campaigns.PutCampaign(body, by), rt.uow(), rt.clock)
    out.print(f"专项整治“{c.name}”（{c.code}）已保存")


@campaign_app.command("record")
@reports_errors
def campaign_record(
    code: Annotated[str, typer.Argument(help="专项整治代码")],
    unit: Annotated[str, typer.Option(help="完成工作的单位代码")],
    day: Annotated[str, typer.Option(help="完成日期 YYYY-MM-DD")],
    amount: Annotated[float, typer.Option(help="工作量（按目标单位，如 km）")],
    by: By,
    note: Annotated[str, typer.Option(help="说明")] = "",
) -> None:
    """登记责任单位完成的工作量（如架空线入地公里数）。"""
    rt = runtime()
    campaigns.record_work(campaigns.RecordWork(code, unit, parse_day(day), amount, note, by), rt.uow(), rt.clock)
    out.print(f"已登记 {unit} 在 {day} 完成 {amount:g}")


@campaign_app.command("progress")
@reports_errors
def campaign_progress(
    code: Annotated[str, typer.Argument(help="专项整治代码")],
    period: Annotated[str | None, typer.Option(help="只看此时段，如 2026-10")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON（含每项目标的案件编号）")] = False,
) -> None:
    """专项整治进度：目标完成度、得分，及各责任单位的进度与得分。"""
    p = campaigns.campaign_progress(campaigns.ShowProgress(code, period), runtime().uow())
    if as_json:
        print(json.dumps(dataclasses.asdict(p), ensure_ascii=False, indent=1, sort_keys=True))
        return
    out.print(f"{p.name}（{p.first_day}～{p.last_day}，指挥部：{p.headquarters}）")
    out.print(f"案件 {p.cases} 件，已结案 {p.closed} 件，专项督办 {p.urged} 件；得分 {_points(p.score)}")
    for t in p.targets:
        out.print(f"  目标“{t.name}”：目标值 {t.goal:g}，实际 {_points(t.actual)}，完成度 {_percent(t.achievement)}")
    table = Table(title="责任单位")
    for heading in ("单位代码", "单位", "案件", "结案", "督办", "得分"):
        table.add_column(heading)
    for u in p.units:
        table.add_row(u.unit, u.name, str(u.cases), str(u.closed), str(u.urged), _points(u.score))
    out.print(table)


def _points(value: float | None) -> str:
    return "—" if value is None else f"{value:g}"


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


@campaign_app.command("urge")
@reports_errors
def campaign_urge(
    code: Annotated[str, typer.Argument(help="专项整治代码")],
    by: By,
    reason: Annotated[str, typer.Option(help="督办理由（默认“某某专项督办”）")] = "",
) -> None:
    """指挥部专项督办：督办该专项范围内所有超期未办结的案件。"""
    rt = runtime()
    actor = load_actor(rt.uow(), by)
    uow = rt.uow()
    handle = messagebus(uow, rt.clock, rt.policy()).handle
    urged = campaigns.urge_campaign(campaigns.UrgeCampaign(code, actor, reason), uow, rt.clock, handle)
    out.print(f"已督办 {len(urged)} 件")
    for case_no in urged:
        print(f"  {case_no}")


@reports_errors
def import_cases(
    path: Annotated[Path, typer.Argument(help="历史案件台账（CSV/XLSX，列见 docs/evaluation.md）")],
    events: Annotated[
        Path | None, typer.Option(help="事件表（CSV/XLSX：case_no、event、at），返工、督办、延期、挂账、恢复")
    ] = None,
    skip_invalid: SkipInvalid = False,
) -> None:
    """导入其他系统的历史案件台账（含各环节时间，可附事件表），以便评价往月；有错误时整表不写入。"""
    rows = read_table(path)
    happened = read_table(events) if events is not None else []
    with progress_bar() as report:
        done = history.import_cases(history.ImportCases(rows, skip_invalid, happened), runtime().uow(), report)
    print_report(done, "历史案件")
