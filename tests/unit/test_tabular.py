"""Tests of reading and writing CSV / XLSX tables."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from xiuhua.kernel.errors import InvalidInputError
from xiuhua.platform.importing import check_columns
from xiuhua.platform.tabular import Row, read_table, write_table

HEADER = ["代码", "名称", "时限"]
ROWS = [
    ["01001", "供水井盖", "2紧急工作时"],
    ["06001", "暴露垃圾，含“引号”与逗号", "4 小时"],
    ["10002", "架空线缆脱落", ""],
]


def _values(rows: list[Row]) -> list[list[str]]:
    return [[row.values[column] for column in HEADER] for row in rows]


# ---------------------------------------------------------------- CSV


def test_csv_round_trip_with_chinese_text(tmp_path: Path) -> None:
    path = tmp_path / "classes.csv"
    assert write_table(path, HEADER, ROWS) == 3
    rows = read_table(path)
    assert _values(rows) == ROWS
    assert [row.number for row in rows] == [2, 3, 4]


def test_write_table_writes_csv_with_bom(tmp_path: Path) -> None:
    path = tmp_path / "out.csv"
    write_table(path, HEADER, ROWS[:1])
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    assert raw.decode("utf-8-sig").splitlines()[0] == ",".join(HEADER)
    # The BOM does not leak into the first column name.
    assert list(read_table(path)[0].values) == HEADER


def test_write_table_creates_parent_folders_and_writes_none_as_empty(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "out.csv"
    assert write_table(path, ["x", "y"], [[None, 1], ["甲", None]]) == 2
    rows = read_table(path)
    assert [row.values for row in rows] == [{"x": "", "y": "1"}, {"x": "甲", "y": ""}]


def test_write_table_counts_rows_from_a_generator(tmp_path: Path) -> None:
    path = tmp_path / "gen.csv"
    assert write_table(path, ["n"], ([i] for i in range(5))) == 5
    assert [row.get("n") for row in read_table(path)] == ["0", "1", "2", "3", "4"]


def test_read_csv_with_multiline_quoted_field(tmp_path: Path) -> None:
    path = tmp_path / "multi.csv"
    write_table(path, ["代码", "名称"], [["0397", "烟头收集器\n或灭烟处"]])
    rows = read_table(path)
    assert rows[0].values == {"代码": "0397", "名称": "烟头收集器\n或灭烟处"}


def test_read_csv_without_bom(tmp_path: Path) -> None:
    path = tmp_path / "plain.csv"
    path.write_bytes("代码,名称\n01001,供水井盖\n".encode())
    rows = read_table(path)
    assert rows == [Row(2, {"代码": "01001", "名称": "供水井盖"})]


def test_read_gb18030_csv(tmp_path: Path) -> None:
    path = tmp_path / "excel.csv"
    text = "代码,名称,所在社区\r\n01001,供水井盖,龙亭区北道门街道\r\n06001,暴露垃圾,鼓楼区\r\n"
    raw = text.encode("gb18030")
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")  # the test really exercises the fallback
    path.write_bytes(raw)
    rows = read_table(path)
    assert [row.values for row in rows] == [
        {"代码": "01001", "名称": "供水井盖", "所在社区": "龙亭区北道门街道"},
        {"代码": "06001", "名称": "暴露垃圾", "所在社区": "鼓楼区"},
    ]
    assert [row.number for row in rows] == [2, 3]


def test_header_is_stripped_and_get_strips_values(tmp_path: Path) -> None:
    path = tmp_path / "spaces.csv"
    path.write_text(" 代码 , 名称\n 01001 ,  供水井盖 \n", encoding="utf-8")
    row = read_table(path)[0]
    assert set(row.values) == {"代码", "名称"}
    assert row.get("代码") == "01001"
    assert row.get("名称") == "供水井盖"
    assert row.values["代码"] == " 01001 "
    assert row.get("缺少的列") == ""


def test_short_rows_miss_columns_and_long_rows_are_cut(tmp_path: Path) -> None:
    path = tmp_path / "ragged.csv"
    path.write_text("a,b,c\n1\n1,2,3,4\n", encoding="utf-8")
    rows = read_table(path)
    assert rows[0].values == {"a": "1"}
    assert rows[0].get("c") == ""
    assert rows[1].values == {"a": "1", "b": "2", "c": "3"}


# ---------------------------------------------------------------- row numbers


def test_row_numbers_keep_file_lines_across_blank_lines(tmp_path: Path) -> None:
    path = tmp_path / "blanks.csv"
    path.write_text("代码,名称\n01001,供水井盖\n\n,\n  ,  \n01002,污水井盖\n\n", encoding="utf-8")
    rows = read_table(path)
    assert [(row.number, row.get("代码")) for row in rows] == [(2, "01001"), (6, "01002")]


def test_row_numbers_are_file_lines_after_a_multiline_field(tmp_path: Path) -> None:
    # A quoted newline makes one record span lines 2–3, so the next record starts on file line 4.
    path = tmp_path / "multiline.csv"
    path.write_text('代码,名称\n0397,"烟头收集器\n或灭烟处"\n0398,果皮箱\n', encoding="utf-8")
    rows = read_table(path)
    assert [(row.number, row.get("代码")) for row in rows] == [(2, "0397"), (4, "0398")]


def test_header_only_file_has_no_rows(tmp_path: Path) -> None:
    path = tmp_path / "header.csv"
    write_table(path, HEADER, [])
    assert read_table(path) == []


# ---------------------------------------------------------------- XLSX


def test_xlsx_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "classes.xlsx"
    assert write_table(path, HEADER, ROWS) == 3
    rows = read_table(path)
    assert _values(rows) == ROWS
    assert [row.number for row in rows] == [2, 3, 4]


def test_xlsx_keeps_chinese_sheet_values_and_numbers(tmp_path: Path) -> None:
    path = tmp_path / "mixed.xlsx"
    write_table(path, ["名称", "数量"], [["甲", 1], ["", ""], ["乙", None], [None, 2.5]])
    sheet = load_workbook(path).worksheets[0]
    assert sheet.cell(1, 1).value == "名称"
    assert sheet.cell(2, 2).value == 1
    rows = read_table(path)
    assert [(row.number, row.values) for row in rows] == [
        (2, {"名称": "甲", "数量": "1"}),
        (4, {"名称": "乙", "数量": ""}),
        (5, {"名称": "", "数量": "2.5"}),
    ]


def test_xlsx_reads_only_first_sheet(tmp_path: Path) -> None:
    path = tmp_path / "two.xlsx"
    book = Workbook()
    first = book.active
    assert first is not None
    first.append(["代码"])
    first.append(["01001"])
    second = book.create_sheet("其他")
    second.append(["代码"])
    second.append(["99999"])
    book.save(path)
    assert [row.get("代码") for row in read_table(path)] == ["01001"]


def test_xlsx_row_numbers_skip_blank_rows(tmp_path: Path) -> None:
    path = tmp_path / "gaps.xlsx"
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet["A1"] = "代码"
    sheet["A2"] = "01001"
    sheet["A5"] = "01002"
    book.save(path)
    assert [(row.number, row.get("代码")) for row in read_table(path)] == [(2, "01001"), (5, "01002")]


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize("name", ["table.xls", "table.txt", "table.json", "table", "table.csv.bak"])
def test_unsupported_suffix_on_read(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(InvalidInputError) as caught:
        read_table(path)
    assert caught.value.code == "table.bad_format"


@pytest.mark.parametrize("name", ["out.xls", "out.tsv", "out"])
def test_unsupported_suffix_on_write(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    with pytest.raises(InvalidInputError) as caught:
        write_table(path, ["a"], [[1]])
    assert caught.value.code == "table.bad_format"
    assert not path.exists()


@pytest.mark.parametrize("name", ["TABLE.CSV", "Table.Xlsx"])
def test_suffix_is_case_insensitive(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    write_table(path, ["代码"], [["01001"]])
    assert [row.get("代码") for row in read_table(path)] == ["01001"]


@pytest.mark.parametrize("name", ["missing.csv", "missing.xlsx"])
def test_missing_file(tmp_path: Path, name: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        read_table(tmp_path / name)
    assert caught.value.code == "table.not_found"


@pytest.mark.parametrize("content", [b"", b"\xef\xbb\xbf"])
def test_empty_csv(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "empty.csv"
    path.write_bytes(content)
    with pytest.raises(InvalidInputError) as caught:
        read_table(path)
    assert caught.value.code == "table.empty"


def test_empty_xlsx(tmp_path: Path) -> None:
    path = tmp_path / "empty.xlsx"
    Workbook().save(path)
    with pytest.raises(InvalidInputError) as caught:
        read_table(path)
    assert caught.value.code == "table.empty"


# ---------------------------------------------------------------- check_columns


def test_check_columns_passes_when_present(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    write_table(path, HEADER, ROWS)
    rows = read_table(path)
    check_columns(rows, "代码", ("区域类别", "名称"))
    check_columns([], "任意列")  # nothing to check without rows


def test_check_columns_reports_missing(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    write_table(path, HEADER, ROWS)
    with pytest.raises(InvalidInputError) as caught:
        check_columns(read_table(path), "代码", "区域类别", ("备注", "说明"))
    assert caught.value.code == "table.missing_columns"
    assert caught.value.details["missing"] == ["区域类别", "备注/说明"]


# ---------------------------------------------------------------- unreadable files


def test_utf16_csv_as_excel_saves_it(tmp_path: Path) -> None:
    path = tmp_path / "u16.csv"
    path.write_bytes("代码,名称\r\n01001,供水井盖\r\n".encode("utf-16"))
    (row,) = read_table(path)
    assert row.values == {"代码": "01001", "名称": "供水井盖"}


def test_file_named_xlsx_that_is_not_a_workbook(tmp_path: Path) -> None:
    path = tmp_path / "fake.xlsx"
    path.write_text("代码,名称\n", encoding="utf-8")
    with pytest.raises(InvalidInputError) as caught:
        read_table(path)
    assert caught.value.code == "table.unreadable"


def test_csv_of_blank_lines_is_empty(tmp_path: Path) -> None:
    path = tmp_path / "blank.csv"
    path.write_text("\n\n , \n", encoding="utf-8")
    with pytest.raises(InvalidInputError) as caught:
        read_table(path)
    assert caught.value.code == "table.empty"
