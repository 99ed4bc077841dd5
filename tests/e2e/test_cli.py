"""The `xiuhua` command line, as a bureau's engineer uses it."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image
from typer.testing import CliRunner

from tests.conftest import PG_URL, fresh_pg_database, shared
from xiuhua.config import get_settings
from xiuhua.entrypoints.cli.main import app
from xiuhua.platform.db import engine as db_engine

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
    head = db_engine.head_revision()
    assert code == 0 and f"数据库已升级到 {head}" in out
    assert f"当前 {head}，最新 {head}" in run("db", "current")[1]


def test_demo_then_export_and_import(database: str, tmp_path: Path) -> None:
    code, out, err = run("demo", "--no-simulate", "--no-serve", "--census-scale", "0.02")
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
    assert run("demo", "--no-simulate", "--no-serve", "--census-scale", "0.02")[0] == 0
    sheet = shared("standards", "case_standards_yuncheng_2013.csv")
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
        code, out, err = run(
            "demo", "--days", "2", "--rate", "15", "--start", "2026-03-02", "--census-scale", "0.02", "--no-serve"
        )
        assert code == 0, err
        assert "postgresql" in out and "2528" in out and "模拟 2026-03-02 至 2026-03-03" in out
        assert run("audit", "verify")[0] == 0
        assert run("evaluation", "check-tallies", "2026-03")[0] == 0
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


def test_case_commands_worker_and_audit(database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XIUHUA_EVIDENCE_DIR", str(tmp_path / "evidence"))
    assert run("demo", "--no-simulate", "--no-serve", "--census-scale", "0.02")[0] == 0
    photo = tmp_path / "p.png"
    Image.new("RGB", (8, 8), (200, 30, 30)).save(photo, "PNG")  # a whole picture: the store decodes it
    where = ("--lon", "114.34902", "--lat", "34.81873", "--address", "龙亭公园东门", "--community", "410202001009")
    code, out, err = run(
        "case", "report", "--as", "supervisor_410202001", "--code", "01001", "--description", "井盖缺失",
        *where, "--photo", str(photo),
    )  # fmt: skip
    assert code == 0, err
    case_no = out.strip()
    assert len(case_no) == 14
    assert len(list((tmp_path / "evidence").rglob("*"))) >= 1  # stored by content hash
    assert run("case", "act", case_no, "accept", "--as", "acceptor1")[0] == 0
    code, _, err = run("case", "act", case_no, "立案", "--as", "shiftleader1")
    assert code == 2 and "case.no_standard" in err
    code, out, err = run("case", "act", case_no, "dispatch", "--as", "acceptor1")
    assert code == 1 and "case.transition_not_allowed" in err and "待立案" in err
    code, _, err = run("case", "act", case_no, "accept", "--as", "nobody")
    assert code == 1 and "staff.not_found" in err
    code, out, _ = run("case", "show", case_no)
    assert code == 0 and "待立案" in out and "受理" in out
    code, out, _ = run("worker", "--once")
    assert code == 0 and "超期" in out
    code, out, _ = run("audit", "verify")
    assert code == 0 and "哈希链全部吻合" in out
    import sqlite3

    with sqlite3.connect(database.removeprefix("sqlite:///")) as conn:
        conn.execute("update case_log set actor = 'someone' where seq = 2")
    code, _, err = run("audit", "verify")
    assert code == 1 and f"案件 {case_no} 第 2 条" in err


def test_policy_commands(database: str, tmp_path: Path) -> None:
    path = tmp_path / "limits.csv"
    assert run("policy", "export-step-limits", str(path))[0] == 0
    text = path.read_text(encoding="utf-8-sig")
    assert "accept,*,*,0.25工作时" in text
    path.write_text(text.replace("accept,*,*,0.25工作时", "accept,*,*,0.5工作时"), encoding="utf-8")
    assert run("policy", "import-step-limits", str(path))[0] == 0
    assert "accept,*,*,0.5工作时" in (run("policy", "export-step-limits", str(path)) and path.read_text("utf-8-sig"))
    bad = tmp_path / "bad.csv"
    bad.write_text("step,urgency,area_class,time_limit\nlunch,*,*,1工作时\n", encoding="utf-8")
    code, _, err = run("policy", "import-step-limits", str(bad))
    assert code == 2 and "第 2 行" in err and "policy.bad_step" in err
    assert run("policy", "set", "duplicate_radius_m", "80")[1].strip() == "duplicate_radius_m = 80.0"
    code, _, err = run("policy", "set", "duplicate_radius_m", "far")
    assert code == 2 and "policy.bad_value" in err


def test_simulated_demo_is_deterministic_and_audited(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    outputs = []
    for name in ("a", "b"):
        url = f"sqlite:///{tmp_path / name}.db"
        monkeypatch.setenv("XIUHUA_DATABASE_URL", url)
        monkeypatch.setenv("XIUHUA_EVIDENCE_DIR", str(tmp_path / "evidence"))
        get_settings.cache_clear()
        code, out, err = run(
            "demo", "--days", "4", "--seed", "3", "--start", "2026-03-02", "--rate", "30", "--no-serve"
        )
        assert code == 0, err
        outputs.append(out.split("数据库：")[1].split("\n", 1)[1])  # the summary after the database line
        assert run("audit", "verify")[0] == 0
        again = run("demo", "--days", "4", "--start", "2026-03-02", "--no-serve")[1]
        assert "跳过模拟" in again  # a second run keeps the existing month
    get_settings.cache_clear()
    assert outputs[0] == outputs[1]
    assert "模拟 2026-03-02 至 2026-03-05（种子 3）" in outputs[0] and "已结案" in outputs[0]
    import sqlite3

    with sqlite3.connect(tmp_path / "b.db") as conn:
        conn.execute("update case_log set reason = '改写' where id = 10")
    code, _, err = run("audit", "verify")
    assert code == 1 and "日志被篡改：案件" in err
