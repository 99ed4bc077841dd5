"""Reading and writing tables as CSV or XLSX, the formats a bureau exchanges."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from openpyxl import Workbook, load_workbook

from xiuhua.domain.errors import InvalidInputError

FORMATS = (".csv", ".xlsx")


@dataclass(frozen=True, slots=True)
class Row:
    """One data row with its 1-based line number in the file (the header is line 1)."""

    number: int
    values: dict[str, str]

    def get(self, column: str) -> str:
        return (self.values.get(column) or "").strip()


def _check_format(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise InvalidInputError("table.bad_format", f"不支持的文件格式“{path.suffix}”，请使用 .csv 或 .xlsx")
    return suffix


def read_table(path: Path) -> list[Row]:
    """Rows of a CSV (UTF-8, with or without BOM, or GB18030 as Excel saves it) or the first XLSX sheet."""
    suffix = _check_format(path)
    if not path.exists():
        raise InvalidInputError("table.not_found", f"文件不存在：{path}")
    if suffix == ".xlsx":
        sheet = load_workbook(path, read_only=True, data_only=True).worksheets[0]
        cells = [["" if v is None else str(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    else:
        raw = path.read_bytes()
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = raw.decode("gb18030")
        cells = list(csv.reader(io.StringIO(text, newline="")))
    if not cells:
        raise InvalidInputError("table.empty", f"文件为空：{path}")
    header = [h.strip() for h in cells[0]]
    rows = []
    for number, cells_of_row in enumerate(cells[1:], start=2):
        if not any(c.strip() for c in cells_of_row):
            continue
        rows.append(Row(number, dict(zip(header, cells_of_row, strict=False))))
    return rows


def require_columns(rows: Sequence[Row], path: Path, required: Iterable[str]) -> None:
    present = set(rows[0].values) if rows else set()
    missing = [c for c in required if c not in present]
    if rows and missing:
        raise InvalidInputError("table.missing_columns", f"{path.name} 缺少列：{', '.join(missing)}", missing=missing)


def write_table(path: Path, header: Sequence[str], rows: Iterable[Sequence[object]]) -> int:
    """Write rows under a header; CSV gets a BOM so Excel shows Chinese correctly. Returns the row count."""
    suffix = _check_format(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    if suffix == ".xlsx":
        book = Workbook()
        sheet = book.active
        assert sheet is not None
        sheet.append(list(header))
        for row in rows:
            sheet.append(["" if v is None else v for v in row])
            count += 1
        book.save(path)
        return count
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for row in rows:
            writer.writerow(["" if v is None else v for v in row])
            count += 1
    return count
