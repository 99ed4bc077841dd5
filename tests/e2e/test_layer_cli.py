"""`xiuhua layer …` as a bureau's engineer uses it: the registry, GeoJSON for an extent, one tile."""

from __future__ import annotations

import dataclasses
import importlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from xiuhua.bootstrap import bootstrap
from xiuhua.config import get_settings
from xiuhua.demo.city import build_demo
from xiuhua.demo.sources import demo_sources
from xiuhua.entrypoints.cli.main import app
from xiuhua.geo.adapters import tiles
from xiuhua.org.adapters import holidays
from xiuhua.org.services import calendar as calendar_service

mvt: Any = importlib.import_module("mapbox_vector_tile")
runner = CliRunner()
BBOX = "114.33,34.78,114.36,34.81"


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A database file holding two streets of the demo city and a small census."""
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("XIUHUA_DATABASE_URL", url)
    get_settings.cache_clear()
    sources = demo_sources(census_scale=0.2)
    wanted = [f for f in sources.geometry if len(f["properties"]["code"]) == 6 or f["properties"]["code"][:9] ==
              "410204002"]  # fmt: skip
    uow = bootstrap(url).uow()
    build_demo(dataclasses.replace(sources, geometry=wanted), uow, calendar_service.load_calendar(uow,
               holidays.statutory_days))  # fmt: skip
    yield url
    get_settings.cache_clear()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_seed_list_show(database: str) -> None:
    assert run("layer", "seed") == (0, "已添加默认图层 0 个\n", "")  # the demo build seeded all ten
    code, out, _ = run("layer", "list")
    assert code == 0 and "专题图层" in out and "districts" in out
    code, out, _ = run("layer", "show", "grids")
    shown = json.loads(out)
    assert code == 0 and shown["source"] == "unit_grids" and shown["paint"]["fill-color"][0] == "match"


def test_geojson_to_a_file_and_to_the_screen(database: str, tmp_path: Path) -> None:
    run("layer", "seed")
    path = tmp_path / "grids.geojson"
    code, out, _ = run("layer", "geojson", "grids", "--bbox", BBOX, "--crs", "gcj02", "-o", str(path))
    collection = json.loads(path.read_text(encoding="utf-8"))
    assert code == 0 and collection["crs"] == "gcj02" and f"已写入 {len(collection['features'])} 个要素" in out
    assert collection["features"] and all(
        f["properties"]["code"].startswith("410204002") for f in collection["features"]
    )
    code, out, _ = run("layer", "geojson", "districts", "--bbox", BBOX)
    assert code == 0 and {f["properties"]["name"] for f in json.loads(out)["features"]} >= {"鼓楼区"}


def test_a_tile_written_to_a_file_decodes(database: str, tmp_path: Path) -> None:
    run("layer", "seed")
    x, y = tiles.tile_of(114.345, 34.795, 13)
    path = tmp_path / "t.mvt"
    code, out, _ = run("layer", "tile", "grids", "13", str(x), str(y), "-o", str(path))
    assert code == 0 and "已写入瓦片" in out
    assert mvt.decode(path.read_bytes(), default_options={"y_coord_down": True})["grids"]["features"]
    code, out, _ = run("layer", "tile", "grids", "13", "0", "0", "-o", str(path))
    assert code == 0 and "该瓦片无要素" in out and path.read_bytes() == b""


def test_export_edit_and_import(database: str, tmp_path: Path) -> None:
    run("layer", "seed")
    path = tmp_path / "layers.csv"
    assert run("layer", "export", str(path))[0] == 0
    text = path.read_text(encoding="utf-8-sig").replace("单元网格,基础网格", "网格（本市）,基础网格")
    path.write_text(text, encoding="utf-8")
    assert run("layer", "import", str(path)) == (0, "已导入图层 10 条\n", "")
    assert json.loads(run("layer", "show", "grids")[1])["name"] == "网格（本市）"


@pytest.mark.parametrize(
    ("args", "exit_code", "error"),
    [
        (("layer", "show", "cameras"), 1, "错误 [layer.not_found]"),
        (("layer", "geojson", "grids", "--bbox", "114,34,113"), 2, "错误 [layer.bad_bbox]"),
        (("layer", "geojson", "grids", "--bbox", BBOX, "--crs", "bd09"), 2, "错误 [geo.unknown_crs]"),
        (
            ("layer", "geojson", "grids", "--bbox", "113,34,115,35.5", "--limit", "10"),
            2,
            "错误 [layer.extent_too_large]",
        ),
        (("layer", "tile", "grids", "23", "0", "0", "-o", "x.mvt"), 2, "错误 [layer.bad_tile]"),
    ],
)
def test_bad_input_is_one_error_line(database: str, args: tuple[str, ...], exit_code: int, error: str) -> None:
    run("layer", "seed")
    code, out, err = run(*args)
    assert code == exit_code and err.startswith(error) and len(err.strip().splitlines()) == 1 and out == ""


def test_a_rejected_import_writes_nothing(database: str, tmp_path: Path) -> None:
    path = tmp_path / "layers.csv"
    path.write_text("code,name,category,source\nparks,公园,园林,parks\ngrids,单元网格,基础网格,unit_grids\n", "utf-8")
    before = run("layer", "show", "grids")
    code, _, err = run("layer", "import", str(path))
    assert code == 2 and "第 2 行 [layer.bad_source]" in err
    assert run("layer", "show", "grids") == before  # the valid row was not written either
    code, out, err = run("layer", "import", str(path), "--skip-invalid")
    assert code == 0 and "已导入图层 1 条" in out and "第 2 行" in err
