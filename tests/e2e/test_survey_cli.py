"""`xiuhua import-layer` and `xiuhua component …` as a city's GIS engineer runs them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from importlib.resources import files
from pathlib import Path

import pytest
from shapely.geometry import Point, box
from typer.testing import CliRunner

from tests.integration.test_survey_import import EAST, WEST, community_outline, grid_features, write
from tests.unit.test_components import DEPT, make_component
from xiuhua.config import get_settings
from xiuhua.entrypoints.cli.main import app
from xiuhua.geo.adapters.crs import Crs, from_wgs84
from xiuhua.geo.adapters.vector_files import read_layer
from xiuhua.geo.services import components as svc
from xiuhua.platform import packagedata
from xiuhua.platform.tabular import write_table

runner = CliRunner()
REGIONS = """code,name,level,parent_code
410200,开封市,city,
410204,鼓楼区,district,410200
410204001,相国寺街道,street,410204
410204001001,西社区,community,410204001
410204001002,东社区,community,410204001
"""


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("XIUHUA_DATABASE_URL", url)
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def city(database: str, tmp_path: Path) -> Path:
    """Regions and community outlines (a Shapefile in EPSG:4547) imported through the CLI."""
    regions = tmp_path / "regions.csv"
    regions.write_text(REGIONS, encoding="utf-8")
    assert run("org", "import", "regions", str(regions))[0] == 0
    outlines = write(
        tmp_path / "communities.shp", [({"code": c}, community_outline(c)) for c in (WEST, EAST)], crs="EPSG:4547"
    )
    code, out, _ = run("import-layer", str(outlines), "--kind", "communities")
    assert code == 0 and "已导入社区（村） 2 个" in out and "EPSG:4547" in out
    district = write(tmp_path / "district.geojson", [({"code": "410204"}, box(114.29, 34.78, 114.32, 34.80))])
    assert run("import-layer", str(district), "--kind", "districts")[0] == 0
    return tmp_path


def test_import_layer_then_locate_a_point_in_the_imported_grid(city: Path) -> None:
    grids = write(city / "grids.gpkg", grid_features(WEST) + grid_features(EAST))
    code, out, _ = run("import-layer", str(grids), "--kind", "grids")
    assert code == 0, out
    assert "已导入单元网格 8 个" in out and f"替换了 2 个社区的单元网格：{WEST}、{EAST}" in out
    code, out, err = run("locate", "114.3035", "34.7915")
    assert code == 0, err
    assert (json.loads(out)["grid_code"], json.loads(out)["district_name"]) == (f"{EAST}002", "鼓楼区")


def test_a_rejected_layer_exits_2_with_one_line_per_defect(city: Path) -> None:
    features = grid_features(WEST)
    features[1] = (features[1][0], box(114.3005, 34.791, 114.302, 34.792))  # over its western neighbour
    features[2][0]["code"] = "4102040010010"
    path = write(city / "bad.geojson", features)
    code, out, err = run("import-layer", str(path), "--kind", "grids")
    assert code == 2 and "已导入" not in out
    assert "错误 [import.rejected]" in err and "未写入任何数据" in err
    lines = err.splitlines()
    assert any(line.startswith(f"要素 2 [layer.overlap] 要素 2（{WEST}002）与要素 1") for line in lines), err
    assert any(line.startswith("要素 3 [layer.bad_code]") for line in lines), err
    code, out, err = run("import-layer", str(path), "--kind", "grids", "--skip-invalid")
    assert code == 0 and "已导入单元网格 0 个" in out
    assert "跳过 4 个要素" in err and f"要素 4 [layer.community_skipped] 要素 4（{WEST}004）" in err


def test_import_layer_bad_input(city: Path) -> None:
    no_crs = write(city / "no_crs.shp", grid_features(WEST), crs=None)
    code, _, err = run("import-layer", str(no_crs), "--kind", "grids")
    assert code == 2 and err.strip().splitlines()[-1].startswith("错误 [layer.no_crs]")
    code, out, _ = run("import-layer", str(no_crs), "--kind", "grids", "--crs", "EPSG:4326")
    assert code == 0 and "已导入单元网格 4 个" in out
    code, _, err = run("import-layer", str(no_crs), "--kind", "grids", "--crs", "EPSG:99999")
    assert code == 2 and "错误 [geo.unknown_crs]" in err
    code, _, _ = run("import-layer", str(no_crs), "--kind", "parcels")
    assert code == 2  # typer refuses an unknown kind


def test_component_import_find_update_show_nearest_and_export(database: str, tmp_path: Path) -> None:
    directory = Path(str(files("xiuhua").joinpath("data", packagedata.DIRECTORY)))
    assert run("catalog", "import-classes", str(directory))[0] == 0
    near = make_component()
    far = make_component(id="41020201001000003", geometry=Point(114.36, 34.81), lon=114.36, lat=34.81)
    sheet = tmp_path / "components.csv"
    write_table(sheet, svc.EXPORT_COLUMNS, [svc.export_row(c) for c in (near, far)])
    code, out, _ = run("component", "import", str(sheet), "--actor", "clerk")
    assert code == 0 and "新增 2" in out, out

    code, out, _ = run("component", "find", "--class", "01001", "--json")
    assert code == 0 and [c["标识码"] for c in json.loads(out)] == ["41020201001000001", "41020201001000003"]
    code, out, _ = run("component", "find", "--bbox", "114.35,34.80,114.37,34.82")
    assert code == 0 and "41020201001000003" in out and "41020201001000001" not in out

    code, out, _ = run("component", "update", "41020201001000001", "--version", "1", "--status", "破损",
                       "--actor", "supervisor_1")  # fmt: skip
    assert code == 0 and "第 2 版" in out
    code, _, err = run("component", "update", "41020201001000001", "--version", "1", "--status", "丢失")
    assert code == 1 and "错误 [component.conflict]" in err
    code, out, _ = run("component", "show", "41020201001000001", "--json")
    shown = json.loads(out)
    assert code == 0 and shown["component"]["状态"] == "破损"
    assert [(v["version"], v["changed_by"]) for v in shown["versions"]] == [(1, "clerk"), (2, "supervisor_1")]
    assert {"field": "状态", "old": "完好", "new": "破损"} in shown["versions"][1]["changes"]
    code, out, _ = run("component", "show", "41020201001000001")
    assert code == 0 and "完好 → 破损" in out and "supervisor_1" in out
    code, _, err = run("component", "show", "41020201001999999")
    assert code == 1 and "错误 [component.not_found]" in err

    gcj_lon, gcj_lat = from_wgs84(114.3456, 34.807, Crs.GCJ02)
    code, out, _ = run("component", "nearest", str(gcj_lon), str(gcj_lat), "--class", "01001", "--crs", "gcj02",
                       "--json")  # fmt: skip
    found = json.loads(out)
    assert code == 0 and found["component"]["标识码"] == "41020201001000001"
    assert found["distance_m"] == pytest.approx(9.1, abs=0.2)  # 0.0001° of longitude at 34.8° N
    code, _, err = run("component", "nearest", "114.0", "34.0", "--class", "01001", "--radius", "100")
    assert code == 1 and "100 米内没有" in err

    exported = tmp_path / "components.gpkg"
    code, out, _ = run("component", "export", str(exported), "--status", "破损")
    assert code == 0 and "已导出 1 条" in out
    assert [f.properties["标识码"] for f in read_layer(exported).features] == ["41020201001000001"]
    assert run("component", "export", str(exported))[0] == 0
    code, out, _ = run("component", "import", str(exported))
    assert code == 0 and "未变 2" in out

    code, out, _ = run("component", "register", "41020201001000009", "--name", "雨水井盖", "--department-code",
                       DEPT, "--department-name", "开封市城市管理局", "--grid", "410202001009001", "--lon", "114.35",
                       "--lat", "34.8", "--initial-date", "2026-03-01", "--actor", "clerk")  # fmt: skip
    assert code == 0 and "已登记部件 41020201001000009（第 1 版）" in out
    code, _, err = run("component", "register", "41020201001000009", "--name", "x", "--department-code", DEPT,
                       "--department-name", "x", "--grid", "410202001009001", "--lon", "114.35", "--lat", "34.8",
                       "--initial-date", "2026-03-01")  # fmt: skip
    assert code == 1 and "错误 [component.duplicate]" in err
    code, _, err = run("component", "register", "41020201001000010", "--name", "x", "--department-code", DEPT,
                       "--department-name", "x", "--grid", "410202001009001", "--lon", "114.35", "--lat", "34.8",
                       "--initial-date", "2026-02-30")  # fmt: skip
    assert code == 2 and "错误 [component.bad_date]" in err
    code, out, _ = run("component", "remove", "41020201001000009", "--version", "1")
    assert code == 0

    code, out, _ = run("component", "remove", "41020201001000003", "--version", "1", "--remark", "拆除")
    assert code == 0 and "已移除" in out
    code, out, _ = run("component", "find", "--json")
    assert [c["标识码"] for c in json.loads(out)] == ["41020201001000001"]
    code, out, _ = run("component", "find", "--json", "--at", "2020-01-01T00:00+08:00")
    assert code == 0 and json.loads(out) == []
    code, _, err = run("component", "export", str(tmp_path / "out.kml"))
    assert code == 2 and "错误 [component.bad_format]" in err
