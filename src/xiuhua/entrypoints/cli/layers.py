"""`xiuhua layer …`: the thematic layer registry, a layer's GeoJSON for an extent, one vector tile."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from xiuhua.entrypoints.cli.console import SkipInvalid, export_table, out, print_report, reports_errors, runtime
from xiuhua.geo.adapters.crs import Crs
from xiuhua.geo.services import layers
from xiuhua.platform.tabular import read_table

layer_app = typer.Typer(help="专题图层：图层目录、GeoJSON 与矢量瓦片（MVT）。", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(layer_app, name="layer")


@layer_app.command("list")
@reports_errors
def layer_list() -> None:
    """列出全部图层（按绘制顺序）。"""
    table = Table(title="专题图层")
    table.add_column("代码", no_wrap=True)
    for column in ("名称", "分类", "数据来源（筛选）", "级别", "GeoJSON 级别", "显示", "排序"):
        table.add_column(column, overflow="fold")
    for x in layers.list_layers(runtime().uow()):
        where = x.source_filter.text()
        table.add_row(
            x.code,
            x.name,
            x.category,
            x.source.value + (f"（{where}）" if where else ""),
            f"{x.min_zoom}–{x.max_zoom}",
            f"≥{x.geojson_min_zoom}",
            "是" if x.visible else "否",
            str(x.sort_order),
        )
    out.print(table)


@layer_app.command("show")
@reports_errors
def layer_show(code: Annotated[str, typer.Argument(help="图层代码，如 grids")]) -> None:
    """显示一个图层的定义与 MapLibre 绘制属性（JSON）。"""
    x = layers.get_layer(runtime().uow(), code)
    print(
        json.dumps(
            dict(zip(layers.LAYER_COLUMNS, layers.export_row(x), strict=True)) | {"style": x.style, "paint": x.paint()},
            ensure_ascii=False,
            indent=2,
        )
    )


@layer_app.command("seed")
@reports_errors
def layer_seed() -> None:
    """补齐产品默认图层（已有的图层保持不变）。"""
    added = layers.seed_default_layers(runtime().uow())
    out.print(f"已添加默认图层 {added} 个")


@layer_app.command("geojson")
@reports_errors
def layer_geojson(
    code: Annotated[str, typer.Argument(help="图层代码")],
    bbox: Annotated[str, typer.Option(help="范围：最小经度,最小纬度,最大经度,最大纬度（按 --crs 坐标系）")],
    crs: Annotated[str, typer.Option(help="坐标系：wgs84、cgcs2000 或 gcj02（高德、腾讯等地图）")] = "wgs84",
    limit: Annotated[int, typer.Option(help="要素上限，超出时请改用矢量瓦片")] = layers.GEOJSON_LIMIT,
    output: Annotated[Path | None, typer.Option("-o", "--output", help="写入文件；不填则输出到屏幕")] = None,
) -> None:
    """输出范围内的图层要素（GeoJSON FeatureCollection）。"""
    collection = layers.layer_geojson(runtime().uow(), code, layers.parse_bbox(bbox), Crs.parse(crs), limit)
    text = json.dumps(collection, ensure_ascii=False)
    if output is None:
        print(text)
        return
    output.write_text(text, encoding="utf-8")
    out.print(f"已写入 {len(collection['features'])} 个要素到 {output}")


@layer_app.command("tile")
@reports_errors
def layer_tile(
    code: Annotated[str, typer.Argument(help="图层代码")],
    z: Annotated[int, typer.Argument(help="缩放级别")],
    x: Annotated[int, typer.Argument(help="列号")],
    y: Annotated[int, typer.Argument(help="行号")],
    output: Annotated[Path, typer.Option("-o", "--output", help="写入的 .mvt 文件")],
) -> None:
    """生成一块矢量瓦片（Mapbox Vector Tile，XYZ 编号）。"""
    data = layers.layer_tile(runtime().uow(), code, z, x, y)
    output.write_bytes(data)
    out.print(f"已写入瓦片 {z}/{x}/{y}（{len(data)} 字节）到 {output}" + ("：该瓦片无要素" if not data else ""))


@layer_app.command("import")
@reports_errors
def layer_import(path: Path, skip_invalid: SkipInvalid = False) -> None:
    """导入图层目录（CSV/XLSX，列见 docs/layers.md）；同代码的图层被替换，有错误时整表不写入。"""
    print_report(layers.import_layers(read_table(path), runtime().uow(), skip_invalid=skip_invalid), "图层")


@layer_app.command("export")
@reports_errors
def layer_export(path: Path) -> None:
    """导出图层目录（按扩展名写 CSV 或 XLSX，与导入格式相同）。"""
    export_table(path, layers.LAYER_COLUMNS, layers.export_layers(runtime().uow()))
