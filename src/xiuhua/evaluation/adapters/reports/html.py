"""The evaluation as one HTML file that opens offline: inline CSS and SVG charts, no scripts, no links out."""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Any

from xiuhua.evaluation.adapters.reports.layout import cell, columns, title
from xiuhua.evaluation.domain.model import ObjectType

_PALETTE = ("#2b6cb0", "#c05621", "#2f855a", "#6b46c1", "#b83280", "#2c7a7b", "#975a16", "#4a5568")
_GRADE_COLOURS = {"A": "#2f855a", "B": "#3182ce", "C": "#d69e2e", "D": "#dd6b20", "E": "#c53030"}
_CSS = """
body{font-family:"Noto Sans CJK SC","Microsoft YaHei",sans-serif;margin:24px;color:#1a202c}
h1{font-size:22px}h2{font-size:18px;border-bottom:2px solid #2b6cb0;padding-bottom:4px;margin-top:32px}
table{border-collapse:collapse;font-size:12px;margin:8px 0}th,td{border:1px solid #a0aec0;padding:2px 6px}
th{background:#edf2f7}td.n{text-align:right}.meta{color:#4a5568}svg{background:#fff}
@media print{h2{page-break-before:always}}
"""


def render_html(document: dict[str, Any]) -> str:
    """The report as text; the same document always gives the same text."""
    parts = [
        "<!DOCTYPE html>",
        '<html lang="zh-CN"><head><meta charset="utf-8">',
        f"<title>{escape(title(document))}</title><style>{_CSS}</style></head><body>",
        f"<h1>{escape(title(document))}</h1>",
        f'<p class="meta">评价方案 {escape(document["scheme_version"])}；立案 {document["cases"]} 件；'
        + (f"冻结版本 {document['revision']}；" if document.get("revision") else "未冻结（实时计算）；")
        + (f"已核减申诉 {len(document['excused'])} 项" if document.get("excused") else "无核减")
        + "</p>",
    ]
    for kind in (ObjectType.DISTRICT, ObjectType.DEPARTMENT, ObjectType.STREET):
        rows = [r for r in document["objects"].get(kind.value, []) if r["composite"] is not None]
        if rows:
            parts.append(f"<h2>{kind.label}综合指数排名</h2>")
            parts.append(_bars(rows[:30]))
    for kind in (ObjectType.DISTRICT, ObjectType.DEPARTMENT):
        series = document.get("trend", {}).get(kind.value)
        if series and document.get("trend_periods"):
            parts.append(f"<h2>{kind.label}综合指数趋势</h2>")
            names = {r["code"]: r["name"] for r in document["objects"][kind.value]}
            top = [r["code"] for r in document["objects"][kind.value][:8]]
            parts.append(_lines(document["trend_periods"], [(names[c], series[c]) for c in top if c in series]))
    parts.append("<h2>反复发生问题热点</h2>")
    parts.append(_map(document["hotspots"]))
    for kind in ObjectType:
        rows = document["objects"].get(kind.value, [])
        parts.append(f"<h2>{kind.label}指标表（{len(rows)} 个）</h2>")
        parts.append(_table(kind, rows))
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def write_html(document: dict[str, Any], path: Path) -> None:
    path.write_text(render_html(document), encoding="utf-8")


def _bars(rows: list[dict[str, Any]]) -> str:
    height, label_w, bar_w = 20, 220, 460
    svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{label_w + bar_w + 80}" height="{height * len(rows) + 10}"'
           ' role="img">']  # fmt: skip
    for i, r in enumerate(rows):
        y = 5 + i * height
        width = bar_w * max(r["composite"], 0) / 100
        colour = _GRADE_COLOURS.get(r["grade"], "#718096")
        svg.append(
            f'<text x="{label_w - 6}" y="{y + 14}" text-anchor="end" font-size="12">{r["rank"]}. {escape(r["name"])}'
            f'</text><rect x="{label_w}" y="{y + 2}" width="{width:.1f}" height="{height - 5}" fill="{colour}">'
            f"<title>{escape(r['name'])} {r['composite']}</title></rect>"
            f'<text x="{label_w + width + 4:.1f}" y="{y + 14}" font-size="12">{r["composite"]} {r["grade"]}</text>'
        )
    return "".join(svg) + "</svg>"


def _lines(periods: list[str], series: list[tuple[str, list[float | None]]]) -> str:
    w, h, left, top, bottom = 640, 260, 40, 10, 30
    step = (w - left - 20) / max(len(periods) - 1, 1)
    known = [v for _, values in series for v in values if v is not None]
    # the axis spans the data (in steps of 10), so close scores do not collapse into one line
    lo = max(0.0, (min(known, default=0.0) // 10) * 10)
    hi = min(100.0, (max(known, default=100.0) // 10 + 1) * 10)
    lo, hi = (lo, hi) if hi > lo else (0.0, 100.0)

    def y_of(v: float) -> float:
        return top + (h - top - bottom) * (1 - (v - lo) / (hi - lo))

    svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w + 200}" height="{h}" role="img">']
    for v in [lo + (hi - lo) * k / 4 for k in range(5)]:
        y = y_of(v)
        svg.append(f'<line x1="{left}" x2="{w - 20}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e2e8f0"/>'
                   f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end" font-size="10">{v:g}</text>')  # fmt: skip
    for i, p in enumerate(periods):
        svg.append(
            f'<text x="{left + i * step:.1f}" y="{h - 10}" text-anchor="middle" font-size="10">{escape(p)}</text>'
        )
    for n, (name, values) in enumerate(series):
        colour = _PALETTE[n % len(_PALETTE)]
        points = [(left + i * step, y_of(v), v) for i, v in enumerate(values) if v is not None]
        if points:
            line = " ".join(f"{x:.1f},{y:.1f}" for x, y, _ in points)
            svg.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{line}"/>')
        for (x, y, v), period in zip(points, [p for p, v in zip(periods, values, strict=False) if v is not None],
                                     strict=False):  # fmt: skip
            svg.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}"><title>{escape(name)} '
                       f'{escape(period)}：{v}</title></circle>')  # fmt: skip
        svg.append(f'<text x="{w - 10}" y="{20 + n * 16}" font-size="12" fill="{colour}">■ {escape(name)}</text>')
    return "".join(svg) + "</svg>"


def _map(spots: list[dict[str, Any]]) -> str:
    if not spots:
        return "<p>本期没有反复发生的热点。</p>"
    lons, lats = [s["lon"] for s in spots], [s["lat"] for s in spots]
    pad = 0.005
    x0, x1, y0, y1 = min(lons) - pad, max(lons) + pad, min(lats) - pad, max(lats) + pad
    w, h = 640, max(200, int(640 * (y1 - y0) / (x1 - x0)))
    svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" role="img">',
           f'<rect x="0" y="0" width="{w}" height="{h}" fill="#f7fafc" stroke="#a0aec0"/>']  # fmt: skip
    for s in spots:
        x = (s["lon"] - x0) / (x1 - x0) * w
        y = (y1 - s["lat"]) / (y1 - y0) * h
        svg.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{3 + 2 * s["cases"]}" fill="#c53030" fill-opacity="0.5">'
            f"<title>{s['lon']}, {s['lat']} 类别 {escape(s['class_code'])} {s['cases']} 件，"
            f"关联已结案件 {s['linked']} 件</title></circle>"
        )
    svg.append(f'<text x="4" y="{h - 4}" font-size="10">经度 {x0:.3f}–{x1:.3f}，纬度 {y0:.3f}–{y1:.3f}</text>')
    rows = "".join(
        f'<tr><td class="n">{s["lon"]}</td><td class="n">{s["lat"]}</td><td>{escape(s["class_code"])}</td>'
        f'<td class="n">{s["cases"]}</td><td class="n">{s["linked"]}</td><td>{escape(s["key"])}</td></tr>'
        for s in spots[:30]
    )
    head = "<tr><th>经度</th><th>纬度</th><th>类别</th><th>案件数</th><th>关联已结</th><th>下钻键</th></tr>"
    return "".join(svg) + "</svg><table>" + head + rows + "</table>"


def _table(kind: ObjectType, rows: list[dict[str, Any]]) -> str:
    cols = columns(kind)
    head = "".join(f"<th>{escape(h)}</th>" for _, h in cols)
    body = []
    for r in rows:
        cells = []
        for key, _ in cols:
            value = cell(r, key, kind)
            numeric = isinstance(value, int | float)
            cells.append(f'<td class="n">{value}</td>' if numeric else f"<td>{escape(str(value))}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"
