"""The evaluation as a workbook: one sheet per object type, laid out for printing on A4 landscape."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path
from typing import Any

from xiuhua.evaluation.adapters.reports.layout import cell, columns, extra_counts, title
from xiuhua.evaluation.domain.model import COUNT_LABELS, ObjectType

_FIXED_ZIP_TIME = (2000, 1, 1, 0, 0, 0)
_MODIFIED = re.compile(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)")


def write_xlsx(document: dict[str, Any], path: Path) -> None:
    path.write_bytes(render_xlsx(document))


def render_xlsx(document: dict[str, Any]) -> bytes:
    """The workbook's bytes; the same document always gives the same bytes (fixed timestamps)."""
    from datetime import datetime

    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, Side

    book = Workbook()
    book.remove(book.active)  # type: ignore[arg-type]
    thin = Side(style="thin")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    for kind in ObjectType:
        rows = document["objects"].get(kind.value, [])
        sheet = book.create_sheet(kind.label)
        cols = columns(kind)
        extras = sorted({c for r in rows for c in extra_counts(kind, r)})
        headings = [h for _, h in cols] + [COUNT_LABELS.get(c, c) for c in extras]
        sheet.append([f"{title(document)} · {kind.label}（评价方案 {document['scheme_version']}）"])
        sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(headings))
        sheet["A1"].font = Font(bold=True, size=14)
        sheet["A1"].alignment = Alignment(horizontal="center")
        sheet.append(headings)
        for row in rows:
            sheet.append([cell(row, key, kind) for key, _ in cols] + [row["counts"].get(c, 0) for c in extras])
        for line in sheet.iter_rows(min_row=2, max_row=sheet.max_row):
            for c in line:
                c.border = border
        for c in sheet[2]:
            c.font = Font(bold=True)
            c.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")
        for i in range(1, len(headings) + 1):
            sheet.column_dimensions[sheet.cell(2, i).column_letter].width = 18 if i == 3 else 11
        sheet.freeze_panes = "D3"
        sheet.print_title_rows = "1:2"
        sheet.page_setup.orientation = "landscape"
        sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
        sheet.page_setup.fitToWidth = 1
        sheet.page_setup.fitToHeight = 0
        sheet.sheet_properties.pageSetUpPr.fitToPage = True
    fixed = datetime(2000, 1, 1)
    book.properties.created = book.properties.modified = fixed
    book.properties.creator = "Xiuhua"
    buffer = io.BytesIO()
    book.save(buffer)
    return _normalised_zip(buffer.getvalue())


def _normalised_zip(data: bytes) -> bytes:
    """The same archive with every entry's timestamp fixed, so two runs give identical bytes."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=_FIXED_ZIP_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            content = source.read(info.filename)
            if info.filename == "docProps/core.xml":  # openpyxl stamps the save time here
                content = _MODIFIED.sub(rb"\g<1>2000-01-01T00:00:00Z\g<2>", content)
            target.writestr(entry, content)
    return out.getvalue()
