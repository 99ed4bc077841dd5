"""`xiuhua component …`: the component register (部件台账) from the command line."""

from __future__ import annotations

import dataclasses
import json
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import typer
from rich import box
from rich.table import Table

from xiuhua.entrypoints.cli.console import (
    SkipInvalid,
    err,
    export_table,
    out,
    parse_moment,
    progress_bar,
    reports_errors,
    runtime,
)
from xiuhua.geo.adapters.crs import Crs, to_wgs84, validate_lonlat
from xiuhua.geo.adapters.vector_files import READ_FORMATS, WRITE_FORMATS, read_layer, write_layer
from xiuhua.geo.domain.components import Component, ComponentFilter, ComponentStatus
from xiuhua.geo.services import components as svc
from xiuhua.kernel.errors import InvalidInputError
from xiuhua.org.services.calendar import DEFAULT_TIMEZONE
from xiuhua.platform.tabular import FORMATS as TABLE_FORMATS
from xiuhua.platform.tabular import Row, read_table

component_app = typer.Typer(
    help="部件台账：导入导出（CSV/XLSX/GeoJSON/Shapefile/GeoPackage）、查询、历史。", no_args_is_help=True
)
LOCAL = ZoneInfo(DEFAULT_TIMEZONE)

Actor = Annotated[str, typer.Option(help="记入版本历史的操作人")]
Json = Annotated[bool, typer.Option("--json", help="输出 JSON")]


def register(app: typer.Typer) -> None:
    app.add_typer(component_app, name="component")


# ----- filters and output -----------------------------------------------------------------------
def parse_bbox(text: str) -> tuple[float, float, float, float]:
    parts = [p for p in text.replace("，", ",").split(",") if p.strip()]
    try:
        values = [float(p) for p in parts]
    except ValueError:
        values = []
    if len(values) != 4:
        raise InvalidInputError("component.bad_bbox", f"范围“{text}”应写作 最小经度,最小纬度,最大经度,最大纬度")
    return values[0], values[1], values[2], values[3]


def make_filter(
    bbox: str | None,
    grid: str | None,
    community: str | None,
    class_code: str | None,
    department: str | None,
    owner: str | None,
    maintainer: str | None,
    status: str | None,
    include_removed: bool,
    limit: int | None,
) -> ComponentFilter:
    return ComponentFilter(
        bbox=parse_bbox(bbox) if bbox else None,
        grid_code=grid,
        community_code=community,
        class_code=class_code,
        department_code=department,
        owner_code=owner,
        maintainer_code=maintainer,
        status=ComponentStatus.parse(status) if status else None,
        include_removed=include_removed,
        limit=limit,
    )


def _local(moment: datetime | None) -> str:
    return moment.astimezone(LOCAL).strftime("%Y-%m-%d %H:%M:%S") if moment else "—"


def _plain(c: Component) -> dict[str, Any]:
    values: dict[str, Any] = dict(zip(svc.EXPORT_COLUMNS, svc.export_row(c), strict=True))
    values["经度"], values["纬度"], values["版本"] = c.lon, c.lat, c.version
    return values


def _json(data: object) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def _components_table(found: list[Component], title: str) -> Table:
    # Codes and coordinates are never cut short; on a narrow terminal the names fold instead.
    table = Table(title=title, box=box.SIMPLE)
    table.add_column("标识码", no_wrap=True)
    table.add_column("名称", overflow="fold", min_width=8)
    table.add_column("状态", no_wrap=True)
    table.add_column("单元网格", no_wrap=True)
    table.add_column("经纬度", no_wrap=True)
    table.add_column("版本", no_wrap=True)
    for c in found:
        table.add_row(c.id, c.name, c.status.value, c.grid_code, f"{c.lon:.6f},{c.lat:.6f}", str(c.version))
    return table


# Filter options shared by find and export
Bbox = Annotated[str | None, typer.Option(help="范围：最小经度,最小纬度,最大经度,最大纬度（WGS84）")]
Grid = Annotated[str | None, typer.Option("--grid", help="单元网格代码（15 位）")]
Community = Annotated[str | None, typer.Option("--community", help="社区代码（12 位）")]
ClassCode = Annotated[str | None, typer.Option("--class", help="部件类别代码（5 位）")]
Department = Annotated[str | None, typer.Option("--department", help="主管部门统一社会信用代码")]
Owner = Annotated[str | None, typer.Option("--owner", help="权属单位统一社会信用代码")]
Maintainer = Annotated[str | None, typer.Option("--maintainer", help="养护单位统一社会信用代码")]
Status = Annotated[str | None, typer.Option("--status", help="状态：完好、破损、丢失、废弃、移除")]
IncludeRemoved = Annotated[bool, typer.Option("--include-removed", help="包括已移除的部件")]


# ----- files ------------------------------------------------------------------------------------
@component_app.command("import")
@reports_errors
def import_command(
    path: Annotated[Path, typer.Argument(help="文件：.csv、.xlsx、.geojson、.shp（或 .zip）、.gpkg")],
    skip_invalid: SkipInvalid = False,
    crs: Annotated[str | None, typer.Option(help="图层坐标系，覆盖文件声明（如 EPSG:4547、gcj02）")] = None,
    actor: Actor = svc.SYSTEM_ACTOR,
) -> None:
    """导入部件（GB/T 47678.5 表 2 字段）；有错误时整个文件不写入，错误按行号或要素号列出。"""
    rt = runtime()
    suffix = path.suffix.lower()
    with progress_bar() as report:
        if suffix in TABLE_FORMATS:
            result = svc.import_components(
                read_table(path), rt.uow(), rt.clock, actor=actor, skip_invalid=skip_invalid, progress=report
            )
        elif suffix in READ_FORMATS:
            result = svc.import_component_layer(
                read_layer(path, crs), rt.uow(), rt.clock, actor=actor, skip_invalid=skip_invalid, progress=report
            )
        else:
            allowed = "、".join((*TABLE_FORMATS, *READ_FORMATS))
            raise InvalidInputError("component.bad_format", f"不支持的文件格式“{path.suffix}”，可用：{allowed}")
    out.print(f"已导入部件 {result.written} 个：新增 {result.added}，变更 {result.changed}，未变 {result.unchanged}")
    if result.skipped:
        err.print(f"跳过 {len(result.skipped)} 条：", markup=False)
        for error in result.skipped:
            err.print(f"  {error}", markup=False, highlight=False)


@component_app.command("export")
@reports_errors
def export_command(
    path: Annotated[Path, typer.Argument(help="文件：.csv、.xlsx、.gpkg 或 .geojson（按扩展名）")],
    bbox: Bbox = None,
    grid: Grid = None,
    community: Community = None,
    class_code: ClassCode = None,
    department: Department = None,
    owner: Owner = None,
    maintainer: Maintainer = None,
    status: Status = None,
    include_removed: Annotated[bool, typer.Option(help="包括已移除的部件")] = True,
) -> None:
    """导出部件台账（可按条件筛选）；导出的文件可原样导回。"""
    where = make_filter(bbox, grid, community, class_code, department, owner, maintainer, status, include_removed, None)
    suffix = path.suffix.lower()
    uow = runtime().uow()
    if suffix in WRITE_FORMATS:
        count = write_layer(path, svc.LAYER_COLUMNS, svc.export_component_layer(uow, where), layer="components")
        out.print(f"已导出 {count} 条到 {path}")
    elif suffix in TABLE_FORMATS:
        export_table(path, svc.EXPORT_COLUMNS, svc.export_components(uow, where))
    else:
        allowed = "、".join((*TABLE_FORMATS, *WRITE_FORMATS))
        raise InvalidInputError("component.bad_format", f"不支持的导出格式“{path.suffix}”，可用：{allowed}")


# ----- reading ----------------------------------------------------------------------------------
@component_app.command("find")
@reports_errors
def find_command(
    bbox: Bbox = None,
    grid: Grid = None,
    community: Community = None,
    class_code: ClassCode = None,
    department: Department = None,
    owner: Owner = None,
    maintainer: Maintainer = None,
    status: Status = None,
    include_removed: IncludeRemoved = False,
    at: Annotated[str | None, typer.Option(help="某一时刻的台账，ISO 8601 带时区，如 2026-10-01T00:00+08:00")] = None,
    limit: Annotated[int, typer.Option(help="最多列出多少条")] = 50,
    as_json: Json = False,
) -> None:
    """按范围、网格、社区、类别、单位、状态查询部件（--at 查历史时刻的台账）。"""
    where = make_filter(
        bbox, grid, community, class_code, department, owner, maintainer, status, include_removed, limit
    )
    uow = runtime().uow()
    if at is not None:
        found = svc.component_census_at(uow, parse_moment(at, "时刻"), where)
    else:
        found = svc.find_components(uow, where)
    if as_json:
        _json([_plain(c) for c in found])
        return
    title = (
        f"部件 {len(found)} 个" + (f"（{at} 时的台账）" if at else "") + ("，已达上限" if len(found) == limit else "")
    )
    out.print(_components_table(found, title))


@component_app.command("show")
@reports_errors
def show_command(
    component_id: Annotated[str, typer.Argument(help="部件标识码（17 位）")],
    as_json: Json = False,
) -> None:
    """显示部件的当前记录与版本历史：谁、何时、改了什么。"""
    uow = runtime().uow()
    current = svc.get_component(uow, component_id)
    history = svc.component_history(uow, component_id)
    if as_json:
        versions = [
            {
                "version": v.component.version,
                "valid_from": v.valid_from.isoformat(),
                "valid_to": v.valid_to.isoformat() if v.valid_to else None,
                "changed_by": v.changed_by,
                "changes": [{"field": f, "old": old, "new": new} for f, old, new in v.changes],
            }
            for v in history
        ]
        _json({"component": _plain(current), "versions": versions})
        return
    record = Table(title=f"部件 {current.id}（第 {current.version} 版）", show_header=False)
    record.add_column("字段")
    record.add_column("值")
    for name, value in _plain(current).items():
        if value not in ("", None):
            record.add_row(name, str(value))
    out.print(record)
    out.print("版本历史（北京时间）：", markup=False)
    for v in history:
        listed = "；".join(f"{f}：{o or '—'} → {n or '—'}" for f, o, n in v.changes)
        what = "登记" if v.component.version == 1 else listed or "无字段变化"
        until = f"至 {_local(v.valid_to)}" if v.valid_to else "至今"
        line = f"  第 {v.component.version} 版  {_local(v.valid_from)} {until}  {v.changed_by}  {what}"
        out.print(line, markup=False, highlight=False)


@component_app.command("nearest")
@reports_errors
def nearest_command(
    lon: Annotated[float, typer.Argument(help="经度")],
    lat: Annotated[float, typer.Argument(help="纬度")],
    class_code: Annotated[str, typer.Option("--class", help="部件类别代码（5 位）")],
    radius: Annotated[float, typer.Option(help="搜索半径（米）")] = 500.0,
    crs: Annotated[str, typer.Option(help="坐标系：wgs84、cgcs2000 或 gcj02（高德、腾讯等地图）")] = "wgs84",
    as_json: Json = False,
) -> None:
    """查找某点附近最近的某类部件（未移除的），输出标识码与距离。"""
    validate_lonlat(lon, lat)
    wgs_lon, wgs_lat = to_wgs84(lon, lat, Crs.parse(crs))
    found = svc.nearest_component(runtime().uow(), class_code, wgs_lon, wgs_lat, radius)
    if found is None:
        err.print(f"{radius:g} 米内没有类别 {class_code} 的部件", markup=False)
        raise typer.Exit(1)
    if as_json:
        _json({"component": _plain(found.component), "distance_m": round(found.distance_m, 2)})
        return
    c = found.component
    out.print(
        f"{c.id} {c.name}（{c.status.value}）距离 {found.distance_m:.1f} 米，位于 {c.lon:.6f}, {c.lat:.6f}",
        markup=False,
    )


# ----- writing ----------------------------------------------------------------------------------
@component_app.command("register")
@reports_errors
def register_command(
    component_id: Annotated[str, typer.Argument(help="部件标识码（17 位；16 位 2013 版自动换算）")],
    name: Annotated[str, typer.Option(help="名称")],
    department_code: Annotated[str, typer.Option(help="主管部门统一社会信用代码")],
    department_name: Annotated[str, typer.Option(help="主管部门名称")],
    grid: Annotated[str, typer.Option("--grid", help="所在单元网格代码（15 位）")],
    lon: Annotated[float, typer.Option(help="经度")],
    lat: Annotated[float, typer.Option(help="纬度")],
    initial_date: Annotated[str, typer.Option(help="初始日期 YYYY-MM-DD")],
    status: Annotated[str, typer.Option(help="状态：完好、破损、丢失、废弃")] = "完好",
    crs: Annotated[str, typer.Option(help="经纬度的坐标系：wgs84、cgcs2000 或 gcj02")] = "wgs84",
    actor: Actor = svc.SYSTEM_ACTOR,
) -> None:
    """登记一个新部件（点位），记为第 1 版。"""
    validate_lonlat(lon, lat)
    wgs_lon, wgs_lat = to_wgs84(lon, lat, Crs.parse(crs))
    values = {
        "id": component_id,
        "name": name,
        "department_code": department_code,
        "department_name": department_name,
        "grid_code": grid,
        "status": status,
        "initial_date": initial_date,
        "lon": repr(wgs_lon),
        "lat": repr(wgs_lat),
    }
    rt = runtime()
    stored = svc.register_component(
        svc.RegisterComponent(svc.parse_component(Row(1, values)), actor), rt.uow(), rt.clock
    )
    out.print(f"已登记部件 {stored.id}（第 {stored.version} 版）", markup=False)


@component_app.command("update")
@reports_errors
def update_command(
    component_id: Annotated[str, typer.Argument(help="部件标识码（17 位）")],
    version: Annotated[int, typer.Option("--version", help="您读取到的版本号（防止覆盖他人的修改）")],
    status: Status = None,
    name: Annotated[str | None, typer.Option(help="名称")] = None,
    remark: Annotated[str | None, typer.Option(help="备注")] = None,
    maintainer_code: Annotated[str | None, typer.Option(help="养护单位统一社会信用代码")] = None,
    maintainer_name: Annotated[str | None, typer.Option(help="养护单位名称")] = None,
    change_date: Annotated[str | None, typer.Option(help="变更日期 YYYY-MM-DD（默认当天）")] = None,
    actor: Actor = svc.SYSTEM_ACTOR,
) -> None:
    """修改一个部件的状态、名称、备注或养护单位，记为新版本。"""
    rt = runtime()
    stored = svc.get_component(rt.uow(), component_id)
    changes: dict[str, Any] = {
        k: v
        for k, v in {
            "name": name,
            "remark": remark,
            "maintainer_code": maintainer_code,
            "maintainer_name": maintainer_name,
        }.items()
        if v is not None
    }
    if status is not None:
        changes["status"] = ComponentStatus.parse(status)
    if change_date is not None:
        try:
            changes["change_date"] = date.fromisoformat(change_date)
        except ValueError:
            raise InvalidInputError("component.bad_date", f"变更日期“{change_date}”无效，应为 YYYY-MM-DD") from None
    if not changes:
        raise InvalidInputError("component.no_change", "没有指定要修改的字段")
    updated = dataclasses.replace(stored, **changes)
    result = svc.update_component(svc.UpdateComponent(updated, version, actor), rt.uow(), rt.clock)
    out.print(f"部件 {result.id} 现为第 {result.version} 版", markup=False)


@component_app.command("remove")
@reports_errors
def remove_command(
    component_id: Annotated[str, typer.Argument(help="部件标识码（17 位）")],
    version: Annotated[int, typer.Option("--version", help="您读取到的版本号")],
    remark: Annotated[str | None, typer.Option(help="移除原因，记入备注")] = None,
    actor: Actor = svc.SYSTEM_ACTOR,
) -> None:
    """把部件标为“移除”（保留历史，不删除记录）。"""
    rt = runtime()
    result = svc.remove_component(svc.RemoveComponent(component_id, version, actor, remark), rt.uow(), rt.clock)
    out.print(f"部件 {result.id} 已移除（第 {result.version} 版）", markup=False)
