"""`xiuhua import-layer`: a city's own survey layer (outlines or unit grids), checked whole, then stored."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from xiuhua.entrypoints.cli.console import SkipInvalid, err, out, progress_bar, reports_errors, runtime
from xiuhua.geo.services.survey import (
    GAP_TOLERANCE_M2,
    OUTSIDE_TOLERANCE_M2,
    OVERLAP_TOLERANCE_M2,
    LayerImportSummary,
    LayerKind,
    import_layer,
)


def register(app: typer.Typer) -> None:
    app.command("import-layer")(import_layer_command)


@reports_errors
def import_layer_command(
    path: Annotated[Path, typer.Argument(help="图层文件：.geojson、.shp（或装有 Shapefile 的 .zip）、.gpkg")],
    kind: Annotated[LayerKind, typer.Option(help="图层内容：区、街道、社区边界或单元网格")],
    crs: Annotated[
        str | None,
        typer.Option(help="坐标系，覆盖文件声明：EPSG:4547、cgcs2000、gcj02（文件无法声明 GCJ-02）等"),
    ] = None,
    skip_invalid: SkipInvalid = False,
) -> None:
    """导入城市自有的测绘图层：先整体检查（代码、几何、重叠、空隙、越界），全部通过才写入。"""
    rt = runtime()
    with progress_bar() as report:
        summary = import_layer(path, kind, rt.uow(), crs=crs, skip_invalid=skip_invalid, progress=report)
    print_summary(summary)


def print_summary(summary: LayerImportSummary) -> None:
    out.print(
        f"已导入{summary.kind.label} {summary.written} 个（文件 {summary.source} 共 {summary.features} 个要素，"
        f"坐标系 {summary.source_crs}）",
        markup=False,
    )
    if summary.communities:
        out.print(f"替换了 {len(summary.communities)} 个社区的单元网格：{'、'.join(summary.communities)}", markup=False)
    out.print(
        f"检查容差：重叠 {OVERLAP_TOLERANCE_M2:g}、越界 {OUTSIDE_TOLERANCE_M2:g}、空隙 {GAP_TOLERANCE_M2:g} 平方米",
        markup=False,
    )
    if summary.skipped:
        err.print(f"跳过 {len(summary.skipped)} 个要素：", markup=False)
        for error in summary.skipped:
            err.print(f"  {error}", markup=False, highlight=False)
