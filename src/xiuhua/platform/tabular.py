"""Reading and writing tables as CSV or XLSX, the formats a bureau exchanges."""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from zipfile import BadZipFile

from xiuhua.kernel.errors import InvalidInputError

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
    """Rows of a CSV (see _decode for encodings) or of the first XLSX sheet; blank rows are left out."""
    suffix = _check_format(path)
    if not path.exists():
        raise InvalidInputError("table.not_found", f"文件不存在：{path}")
    numbered: list[tuple[int, list[str]]] = []
    if suffix == ".xlsx":
        from openpyxl import load_workbook  # imported here: it costs a command's start 0.2 s
        from openpyxl.utils.exceptions import InvalidFileException

        try:
            sheet = load_workbook(path, read_only=True, data_only=True).worksheets[0]
        except (BadZipFile, InvalidFileException, KeyError, OSError) as exc:
            raise InvalidInputError("table.unreadable", f"无法读取 Excel 文件 {path.name}：{exc}") from exc
        for number, cells in enumerate(sheet.iter_rows(values_only=True), start=1):
            numbered.append((number, ["" if v is None else str(v) for v in cells]))
    else:
        reader = csv.reader(io.StringIO(_decode(path), newline=""))
        line = 1  # a record may span lines (a quoted newline): number it by the line it starts on
        for record in reader:
            numbered.append((line, record))
            line = reader.line_num + 1
    numbered = [(n, v) for n, v in numbered if any(c.strip() for c in v)]
    if not numbered:
        raise InvalidInputError("table.empty", f"文件为空：{path}")
    (_, header_cells), body = numbered[0], numbered[1:]
    header = [h.strip() for h in header_cells]
    return [Row(number, dict(zip(header, values, strict=False))) for number, values in body]


def _decode(path: Path) -> str:
    """CSV text as Excel and other tools save it: UTF-8 (with or without BOM), UTF-16 with BOM, GB18030."""
    raw = path.read_bytes()
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return raw.decode("utf-16")
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise InvalidInputError("table.unreadable", f"无法识别 {path.name} 的字符编码，请另存为 UTF-8 CSV 或 XLSX")


def write_table(path: Path, header: Sequence[str], rows: Iterable[Sequence[object]]) -> int:
    """Write rows under a header; CSV gets a BOM so Excel shows Chinese correctly. Returns the row count."""
    suffix = _check_format(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    if suffix == ".xlsx":
        from openpyxl import Workbook

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
