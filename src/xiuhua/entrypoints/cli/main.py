"""The `xiuhua` command line: bootstrap, call one service, print."""

from __future__ import annotations

import dataclasses
import json
import sys
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from xiuhua.bootstrap import bootstrap
from xiuhua.entrypoints.cli import accounts as account_commands
from xiuhua.entrypoints.cli import cases as case_commands
from xiuhua.entrypoints.cli import components as component_commands
from xiuhua.entrypoints.cli import demo as demo_command
from xiuhua.entrypoints.cli import evaluation as evaluation_commands
from xiuhua.entrypoints.cli import layer_import as layer_import_command
from xiuhua.entrypoints.cli import layers as layer_commands
from xiuhua.entrypoints.cli import sensing as sensing_commands
from xiuhua.entrypoints.cli import serve as serve_command
from xiuhua.entrypoints.cli import video as video_commands
from xiuhua.entrypoints.cli.console import (
    SkipInvalid,
    err,
    export_table,
    out,
    parse_day,
    parse_moment,
    parse_pause,
    print_report,
    reports_errors,
    runtime,
)
from xiuhua.geo.adapters.crs import Crs
from xiuhua.geo.services import geography
from xiuhua.kernel.errors import InvalidInputError
from xiuhua.org.adapters import holidays
from xiuhua.org.domain.calendar import Schedule, TimeLimit, parse_periods
from xiuhua.org.domain.model import ClassKind
from xiuhua.org.domain.standards import code_from_2013, code_to_2013
from xiuhua.org.services import calendar as calendar_service
from xiuhua.org.services import catalog
from xiuhua.org.services import structure as org
from xiuhua.platform.db import engine as db_engine
from xiuhua.platform.tabular import read_table

app = typer.Typer(
    help="绣花 Xiuhua：数字城管平台命令行。", no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False
)
db_app = typer.Typer(help="数据库结构（Alembic 迁移）。", no_args_is_help=True)
calendar_app = typer.Typer(help="工作日历：作息时段、节假日调整、时限单位。", no_args_is_help=True)
org_app = typer.Typer(help="组织体系：区划、单位、人员的导入导出（CSV/XLSX）。", no_args_is_help=True)
catalog_app = typer.Typer(help="标准目录：部件事项类别与立案结案标准（CSV/XLSX）。", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(calendar_app, name="calendar")
app.add_typer(org_app, name="org")
app.add_typer(catalog_app, name="catalog")
case_commands.register(app)
account_commands.register(app)
demo_command.register(app)
serve_command.register(app)
layer_import_command.register(app)
component_commands.register(app)
layer_commands.register(app)
evaluation_commands.register(app)
sensing_commands.register(app)
video_commands.register(app)


# ----- db ------------------------------------------------------------------------------------------
@db_app.command("upgrade")
@reports_errors
def db_upgrade(revision: str = "head") -> None:
    """创建或升级数据库结构到指定版本（默认最新）。"""
    rt = bootstrap(migrate=False)
    db_engine.upgrade(rt.engine, revision)
    out.print(f"数据库已升级到 {db_engine.current_revision(rt.engine)}：{rt.engine.url.render_as_string()}")


@db_app.command("current")
@reports_errors
def db_current() -> None:
    """显示数据库当前的结构版本与最新版本。"""
    rt = bootstrap(migrate=False)
    out.print(f"当前 {db_engine.current_revision(rt.engine) or '（空库）'}，最新 {db_engine.head_revision()}")


# ----- geography -----------------------------------------------------------------------------------
@app.command()
@reports_errors
def locate(
    lon: Annotated[float, typer.Argument(help="经度")],
    lat: Annotated[float, typer.Argument(help="纬度")],
    crs: Annotated[str, typer.Option(help="坐标系：wgs84、cgcs2000 或 gcj02（高德、腾讯等地图）")] = "wgs84",
) -> None:
    """定位：输出该点所在的单元网格、社区、街道、区的代码与名称（JSON）。"""
    place = geography.locate(lon, lat, Crs.parse(crs), runtime().locator())
    print(json.dumps(dataclasses.asdict(place), ensure_ascii=False, indent=2))


# ----- working time --------------------------------------------------------------------------------
@app.command()
@reports_errors
def deadline(
    start: Annotated[str, typer.Option(help="起算时间，ISO 8601 带时区，如 2026-09-30T16:00+08:00")],
    limit: Annotated[str, typer.Option(help="时限，如 4工作时、2紧急工作时、1工作日、3天")],
    pause: Annotated[list[str] | None, typer.Option(help="不计时区间 开始/结束，可重复（挂账、延期审批中）")] = None,
) -> None:
    """按城市工作日历计算期限，输出 ISO 8601 时间。"""
    start_at = parse_moment(start, "起算时间")
    parsed = TimeLimit.parse(limit)
    pauses = [parse_pause(p) for p in pause or []]
    due = runtime().calendar().deadline(start_at, parsed, pauses)
    print(due.isoformat())
    warn_past_statutory_data(due.year)


@app.command()
@reports_errors
def elapsed(
    start: Annotated[str, typer.Option(help="开始时间，ISO 8601 带时区")],
    end: Annotated[str, typer.Option(help="结束时间，ISO 8601 带时区")],
    continuous: Annotated[bool, typer.Option(help="按连续时间（24 小时）计，而非工作时间")] = False,
    pause: Annotated[list[str] | None, typer.Option(help="不计时区间 开始/结束，可重复")] = None,
) -> None:
    """计算两个时刻之间经过的工作时间（或连续时间），输出小时数。"""
    pauses = [parse_pause(p) for p in pause or []]
    spent = (
        runtime()
        .calendar()
        .elapsed(parse_moment(start, "开始时间"), parse_moment(end, "结束时间"), working=not continuous, pauses=pauses)
    )
    hours = spent.total_seconds() / 3600
    print(f"{hours:.4f}".rstrip("0").rstrip(".") + ("小时" if continuous else "工作时"))


def warn_past_statutory_data(year: int) -> None:
    last = holidays.statutory_last_year()
    if year > last:
        print(
            f"注意：已安装的法定节假日数据只到 {last} 年；{year} 年的节假日请用 "
            "xiuhua calendar import-days 或 set-day 录入，否则按周一至周五上班计。",
            file=sys.stderr,
        )


@calendar_app.command("show")
@reports_errors
def calendar_show(month: Annotated[str, typer.Argument(help="月份 YYYY-MM")]) -> None:
    """显示某月每天是否上班及当天的工作时段。"""
    try:
        first = date.fromisoformat(f"{month}-01")
    except ValueError:
        raise InvalidInputError("time.unparseable", f"月份“{month}”无效，应为 YYYY-MM") from None
    rt = runtime()
    cal = rt.calendar()
    with rt.uow() as uow:
        local = uow.calendar.overrides()
    statutory = holidays.statutory_days()
    table = Table(title=f"{first:%Y 年 %m 月} 工作日历（{cal.tz}）")
    for column in ("日期", "星期", "上班", "说明"):
        table.add_column(column)
    day = first
    while day.month == first.month:
        note = ""
        if day in local:
            note = f"本地调整：{local[day][1]}"
        elif day in statutory:
            note = "法定调休上班" if statutory[day] else "法定节假日"
        table.add_row(str(day), "一二三四五六日"[day.weekday()], "是" if cal.is_workday(day) else "—", note)
        day = date.fromordinal(day.toordinal() + 1)
    out.print(table)
    warn_past_statutory_data(first.year)


@calendar_app.command("set-day")
@reports_errors
def calendar_set_day(
    day: Annotated[str, typer.Argument(help="日期 YYYY-MM-DD")],
    workday: Annotated[bool, typer.Option("--workday/--rest", help="设为上班日或休息日")],
    reason: Annotated[str, typer.Option(help="原因，如“暴雪停工”")],
) -> None:
    """把某天设为上班或休息（覆盖法定安排）。"""
    calendar_service.set_day(calendar_service.SetDay(parse_day(day), workday, reason), runtime().uow())
    out.print(f"{day} 已设为{'上班日' if workday else '休息日'}（{reason}）")


@calendar_app.command("clear-day")
@reports_errors
def calendar_clear_day(day: Annotated[str, typer.Argument(help="日期 YYYY-MM-DD")]) -> None:
    """撤销某天的本地调整。"""
    calendar_service.clear_day(parse_day(day), runtime().uow())
    out.print(f"{day} 已恢复为法定安排")


@calendar_app.command("import-days")
@reports_errors
def calendar_import_days(path: Path, skip_invalid: SkipInvalid = False) -> None:
    """导入本地日历调整（列：day, workday 上班/休息, reason），如次年法定节假日安排。"""
    print_report(calendar_service.import_days(read_table(path), runtime().uow(), skip_invalid=skip_invalid), "日历调整")


@calendar_app.command("export-days")
@reports_errors
def calendar_export_days(path: Path) -> None:
    """导出本地日历调整。"""
    export_table(path, calendar_service.DAY_COLUMNS, calendar_service.export_days(runtime().uow()))


@calendar_app.command("schedule")
@reports_errors
def calendar_schedule(
    name: Annotated[str, typer.Argument(help="作息名称，如“夏季作息”")],
    periods: Annotated[str, typer.Argument(help="工作时段，如 08:00-12:00,15:00-18:30")],
    season: Annotated[str | None, typer.Option(help="适用日期 MM-DD:MM-DD，如 06-01:09-30；不填为全年")] = None,
) -> None:
    """新增或修改一套作息时段（可按季节）。"""
    schedule = Schedule(name, parse_periods(periods), calendar_service.parse_season(season))
    calendar_service.put_schedule(schedule, runtime().uow())
    out.print(f"作息“{name}”：{periods}" + (f"（{season}）" if season else "（全年）"))


@calendar_app.command("alias")
@reports_errors
def calendar_alias(
    word: Annotated[str, typer.Argument(help="本地时限单位，如 小时、天")],
    unit: Annotated[str, typer.Argument(help="标准单位：紧急工作时、工作时、工作日、自然日")],
) -> None:
    """规定本地时限单位的含义（如 天 = 工作日）。"""
    calendar_service.set_unit_alias(word, unit, runtime().uow())
    out.print(f"“{word}”按“{unit}”计")


# ----- tables --------------------------------------------------------------------------------------
class OrgTable(StrEnum):
    regions = "regions"
    organizations = "organizations"
    staff = "staff"


_ORG_IMPORTS = {"regions": org.import_regions, "organizations": org.import_organizations, "staff": org.import_staff}
_ORG_EXPORTS = {
    "regions": (org.REGION_COLUMNS, org.export_regions),
    "organizations": (org.ORGANIZATION_COLUMNS, org.export_organizations),
    "staff": (org.STAFF_COLUMNS, org.export_staff),
}


@org_app.command("import")
@reports_errors
def org_import(table: OrgTable, path: Path, skip_invalid: SkipInvalid = False) -> None:
    """导入区划、单位或人员表（CSV/XLSX）；有错误时整表不写入。"""
    rows = read_table(path)
    report = _ORG_IMPORTS[table.value](rows, runtime().uow(), skip_invalid=skip_invalid)
    print_report(report, {"regions": "区划", "organizations": "单位", "staff": "人员"}[table.value])


@org_app.command("export")
@reports_errors
def org_export(table: OrgTable, path: Path) -> None:
    """导出区划、单位或人员表（按扩展名写 CSV 或 XLSX）。"""
    header, export = _ORG_EXPORTS[table.value]
    export_table(path, header, export(runtime().uow()))


@catalog_app.command("import-classes")
@reports_errors
def catalog_import_classes(path: Path, skip_invalid: SkipInvalid = False) -> None:
    """导入部件事项类别（本地扩展类别或国家目录）。"""
    print_report(catalog.import_classes(read_table(path), runtime().uow(), skip_invalid=skip_invalid), "类别")


@catalog_app.command("export-classes")
@reports_errors
def catalog_export_classes(path: Path) -> None:
    """导出部件事项类别及其 2013 版代码对照。"""
    export_table(path, catalog.CLASS_COLUMNS, catalog.export_classes(runtime().uow()))


@catalog_app.command("import-standards")
@reports_errors
def catalog_import_standards(path: Path, skip_invalid: SkipInvalid = False) -> None:
    """导入立案、处置和结案标准（列见 README；2013 版表格按 code_2013 换算）。"""
    rt = runtime()
    rows = read_table(path)
    print_report(catalog.import_standards(rows, rt.uow(), rt.calendar(), skip_invalid=skip_invalid), "标准")


@catalog_app.command("export-standards")
@reports_errors
def catalog_export_standards(path: Path) -> None:
    """导出立案、处置和结案标准（与导入格式相同）。"""
    export_table(path, catalog.STANDARD_COLUMNS, catalog.export_standards(runtime().uow()))


@catalog_app.command("map-code")
@reports_errors
def catalog_map_code(
    code: Annotated[str, typer.Argument(help="4 位 2013 版代码或 5 位 2026 版代码")],
    kind: Annotated[str, typer.Option(help="component（部件）或 matter（事项/事件）")] = "component",
) -> None:
    """在 GB/T 30428.2-2013 与 GB/T 47678.5-2026 类别代码之间换算。"""
    class_kind = ClassKind.parse(kind)
    if not code.isdigit() or len(code) not in (4, 5):
        raise InvalidInputError("catalog.bad_code", f"代码“{code}”应为 4 位（2013 版）或 5 位（2026 版）数字")
    mapped = code_from_2013(class_kind, code) if len(code) == 4 else code_to_2013(class_kind, code)
    if mapped is None:
        err.print(f"{code} 没有对应代码")
        raise typer.Exit(1)
    print(mapped)


def main() -> None:  # pragma: no cover - console entry
    sys.exit(app())
