"""The `xiuhua` command line, as a bureau's engineer uses it."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.conftest import PG_URL, SHARED, fresh_pg_database
from xiuhua.config import get_settings
from xiuhua.entrypoints.cli import app

runner = CliRunner()


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("XIUHUA_DATABASE_URL", url)
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize(
    ("start", "limit", "expected"),
    [
        ("2026-09-30T16:00+08:00", "4工作时", "2026-10-08T10:00:00+08:00"),
        ("2026-10-09T17:00+08:00", "1工作日", "2026-10-10T17:00:00+08:00"),
        ("2026-02-13T17:00+08:00", "2工作时", "2026-02-14T09:00:00+08:00"),
        ("2026-02-14T17:00+08:00", "2工作时", "2026-02-24T09:00:00+08:00"),
        ("2026-09-30T16:00+08:00", "2紧急工作时", "2026-09-30T18:00:00+08:00"),
    ],
)
def test_deadline_prints_iso_instant(database: str, start: str, limit: str, expected: str) -> None:
    code, out, _ = run("deadline", "--start", start, "--limit", limit)
    assert code == 0
    assert out.strip() == expected


def test_deadline_with_pause(database: str) -> None:
    code, out, _ = run(
        "deadline",
        "--start",
        "2026-03-03T08:00+08:00",
        "--limit",
        "2工作时",
        "--pause",
        "2026-03-03T09:00+08:00/2026-03-03T10:00+08:00",
    )
    assert (code, out.strip()) == (0, "2026-03-03T11:00:00+08:00")


@pytest.mark.parametrize(
    ("args", "error_code"),
    [
        (("--start", "2026-09-30T16:00+08:00", "--limit", "4工作吋"), "limit.unknown_unit"),
        (("--start", "2026-09-30T16:00+08:00", "--limit", "-4工作时"), "limit.negative"),
        (("--start", "2026-09-30T16:00", "--limit", "4工作时"), "time.naive"),
        (("--start", "yesterday", "--limit", "4工作时"), "time.unparseable"),
        (("--start", "2026-09-30T16:00+08:00", "--limit", "4工作时", "--pause", "x"), "time.bad_pause"),
    ],
)
def test_deadline_bad_input_is_one_error_line_exit_2(database: str, args: tuple[str, ...], error_code: str) -> None:
    code, out, err = run("deadline", *args)
    assert code == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"错误 [{error_code}]")


def test_elapsed(database: str) -> None:
    code, out, _ = run("elapsed", "--start", "2026-09-30T16:00+08:00", "--end", "2026-10-08T10:00+08:00")
    assert (code, out.strip()) == (0, "4工作时")


def test_db_upgrade_and_current(database: str) -> None:
    code, out, _ = run("db", "current")
    assert code == 0 and "空库" in out
    code, out, _ = run("db", "upgrade")
    assert code == 0 and "0002" in out
    assert "当前 0002" in run("db", "current")[1]


def test_demo_then_export_and_import(database: str, tmp_path: Path) -> None:
    code, out, err = run("demo")
    assert code == 0, err
    assert "开封演示城市已就绪" in out and "2528" in out
    assert "完成" in err  # the progress bar
    for table in ("regions", "organizations", "staff"):
        path = tmp_path / f"{table}.xlsx"
        code, out, _ = run("org", "export", table, str(path))
        assert code == 0 and path.exists()
        code, out, _ = run("org", "import", table, str(path))
        assert code == 0 and "已导入" in out
    code, out, _ = run("catalog", "export-standards", str(tmp_path / "standards.csv"))
    assert code == 0
    assert (tmp_path / "standards.csv").read_text(encoding="utf-8-sig").startswith("kind,code,name,filing_condition")


def test_import_of_a_real_city_sheet_reports_rows(database: str) -> None:
    assert run("demo")[0] == 0
    sheet = SHARED / "standards" / "case_standards_yuncheng_2013.csv"
    code, out, err = run("catalog", "import-standards", str(sheet))
    assert code == 2
    assert "[import.rejected]" in err and "未写入任何数据" in err and "第 " in err
    code, out, err = run("catalog", "import-standards", str(sheet), "--skip-invalid")
    assert code == 0
    assert "已导入标准" in out and "跳过" in err


def test_calendar_day_override_changes_deadline(database: str) -> None:
    args = ("deadline", "--start", "2026-03-03T17:00+08:00", "--limit", "2工作时")
    assert run(*args)[1].strip() == "2026-03-04T09:00:00+08:00"
    code, _, _ = run("calendar", "set-day", "2026-03-04", "--rest", "--reason", "暴雪停工")
    assert code == 0
    assert run(*args)[1].strip() == "2026-03-05T09:00:00+08:00"
    code, out, _ = run("calendar", "show", "2026-03")
    assert code == 0 and "暴雪停工" in out
    code, _, err = run("calendar", "set-day", "2026-02-30", "--rest", "--reason", "x")
    assert code == 2 and "time.unparseable" in err


def test_calendar_show_marks_statutory_days(database: str) -> None:
    code, out, _ = run("calendar", "show", "2026-10")
    assert code == 0
    assert "法定节假日" in out and "法定调休上班" in out


def test_map_code(database: str) -> None:
    assert run("catalog", "map-code", "0101")[1].strip() == "01001"
    assert run("catalog", "map-code", "0301", "--kind", "event")[1].strip() == "08001"
    assert run("catalog", "map-code", "01001")[1].strip() == "0101"
    assert run("catalog", "map-code", "0504")[0] == 1


@pytest.mark.pg
def test_demo_on_postgresql(pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    url = fresh_pg_database(PG_URL.rsplit("/", 1)[0] + "/xiuhua_cli_test")
    monkeypatch.setenv("XIUHUA_DATABASE_URL", url)
    get_settings.cache_clear()
    try:
        code, out, err = run("demo")
        assert code == 0, err
        assert "postgresql" in out and "2528" in out
        code, out, _ = run("deadline", "--start", "2026-09-30T16:00+08:00", "--limit", "4工作时")
        assert out.strip() == "2026-10-08T10:00:00+08:00"
    finally:
        get_settings.cache_clear()


def test_next_years_holidays_can_be_loaded(database: str, tmp_path: Path) -> None:
    args = ("deadline", "--start", "2026-12-31T17:00+08:00", "--limit", "2工作时")
    code, out, err = run(*args)
    assert (code, out.strip()) == (0, "2027-01-01T09:00:00+08:00")
    assert "法定节假日数据只到" in err  # the package's statutory data ends with 2026
    days = tmp_path / "2027.csv"
    days.write_text("日期,是否上班,原因\n2027-01-01,休息,元旦\n2027-02-30,休息,错日期\n", encoding="utf-8")
    code, _, err = run("calendar", "import-days", str(days))
    assert code == 2 and "第 3 行" in err
    assert run(*args)[1].strip() == "2027-01-01T09:00:00+08:00"  # nothing was written
    code, out, _ = run("calendar", "import-days", str(days), "--skip-invalid")
    assert code == 0 and "已导入日历调整 1 条" in out
    assert run(*args)[1].strip() == "2027-01-04T09:00:00+08:00"
    code, _, _ = run("calendar", "export-days", str(tmp_path / "out.xlsx"))
    assert code == 0 and (tmp_path / "out.xlsx").exists()
