"""The command center: layers from vector tiles, live cases, today's figures, and the event stream."""

from __future__ import annotations

import json
from pathlib import Path

from tests.browser.conftest import ARTIFACTS, Pages, Site

HERE = {"lon": 114.34902, "lat": 34.81873, "address": "龙亭公园东门"}


def rendered(page: object, layer: str) -> int:
    return int(page.evaluate(f"window.xiuhuaMap.queryRenderedFeatures({{layers: ['{layer}']}}).length"))  # type: ignore[attr-defined]


def test_command_center_draws_layers_cases_and_live_updates(pages: Pages, site: Site) -> None:
    page = pages.open("leader", "/console/command.html")
    page.wait_for_selector("body[data-ready]", timeout=30_000)
    tti_ms = page.evaluate("window.__tti")
    assert page.errors == []  # type: ignore[attr-defined]

    # Layers: toggles for every catalogue layer, districts drawn from vector tiles, cases on top.
    toggles = page.locator("#layers input[type=checkbox]")
    assert toggles.count() == 10
    assert rendered(page, "districts-line") > 0
    shown = int(page.locator("#case-count").text_content() or "0")
    assert shown > 0 and rendered(page, "cases") > 0
    # Figures: six numbers, and bars per district.
    assert page.locator("#figures .figure").count() == 6
    assert page.locator("#by-district svg rect").count() >= 2
    pages.shot(page, "command-center")

    # Toggling a layer hides it.
    page.check("input[data-layer=grids]")
    page.uncheck("input[data-layer=districts]")
    page.wait_for_function("window.xiuhuaMap.getLayoutProperty('districts-line', 'visibility') === 'none'")
    page.check("input[data-layer=districts]")

    # A case reported elsewhere appears in the live stream and on the map within seconds.
    body = {"kind": "component", "class_code": "01001", "description": "井盖缺失（大屏实时测试）", **HERE}
    reported = site.call("POST", "/api/v1/cases", "supervisor_410202001", json=body)
    case_no = reported["case_no"]
    page.wait_for_selector(f"#events li[data-case-no='{case_no}']", timeout=15_000)
    page.wait_for_function(
        f"window.xiuhuaMap.getSource('cases')._data.features.some(f => f.properties.case_no === '{case_no}')"
    )
    assert int(page.locator("#case-count").text_content() or "0") == shown + 1
    pages.shot(page, "live-update")
    marks = page.evaluate(
        "Object.fromEntries(performance.getEntriesByType('mark')"
        ".filter(m => m.name.startsWith('xiuhua:')).map(m => [m.name.slice(7), Math.round(m.startTime)]))"
    )
    assert set(marks) == {"layers", "cases", "figures", "map-load"}
    metrics = {"command_center_tti_ms": round(float(tti_ms), 1), "marks_ms": marks, "cases_on_map": shown}
    Path(ARTIFACTS / "command-center-metrics.json").write_text(json.dumps(metrics), "utf-8")
