"""`xiuhua evaluate` and `xiuhua evaluation …` on a small simulated city in a SQLite file."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from xiuhua.config import get_settings
from xiuhua.entrypoints.cli.main import app

runner = CliRunner()
PERIOD = "2026-03-02~2026-03-04"


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    folder = tmp_path_factory.mktemp("city")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XIUHUA_DATABASE_URL", f"sqlite:///{folder / 'city.db'}")
        patch.setenv("XIUHUA_EVIDENCE_DIR", str(folder / "evidence"))
        get_settings.cache_clear()
        code, _, stderr = run("demo", "--no-serve", "--days", "3", "--rate", "20", "--census-scale", "0",
                              "--start", "2026-03-02")  # fmt: skip
        assert code == 0, stderr
        yield folder
    get_settings.cache_clear()


def test_json_is_printed_and_identical_on_every_run(city: Path) -> None:
    code, first, _ = run("evaluate", "--period", PERIOD, "--trend", "2")
    assert code == 0
    document = json.loads(first)
    assert document["period"] == PERIOD and document["scheme_version"] == "default-1"
    assert document["cases"] > 0
    assert set(document["objects"]) == {"district", "street", "community", "grid", "department", "supervisor",
                                        "acceptor", "shift_leader", "dispatcher"}  # fmt: skip
    districts = document["objects"]["district"]
    assert [d["rank"] for d in districts if d["rank"]] == sorted(d["rank"] for d in districts if d["rank"])
    assert document["trend_periods"][-1] == PERIOD and len(document["trend_periods"]) == 3
    assert run("evaluate", "--period", PERIOD, "--trend", "2")[1] == first


def test_xlsx_has_a_sheet_per_object_type_and_the_same_bytes_twice(city: Path, tmp_path: Path) -> None:
    paths = [tmp_path / "a.xlsx", tmp_path / "b.xlsx"]
    for path in paths:
        code, stdout, _ = run("evaluate", "--period", PERIOD, "--format", "xlsx", "--output", str(path))
        assert code == 0 and "已写出" in stdout
    assert paths[0].read_bytes() == paths[1].read_bytes()
    book = load_workbook(paths[0])
    assert book.sheetnames == ["区", "街道", "社区", "单元网格", "专业部门", "监督员", "受理员", "值班长", "派遣员"]
    sheet = book["区"]
    assert "综合评价" in str(sheet["A1"].value)
    assert [c.value for c in sheet[2]][:5] == ["排名", "代码", "名称", "综合指数", "等级"]
    assert sheet.max_row > 2


def test_html_is_self_contained_with_charts(city: Path, tmp_path: Path) -> None:
    path = tmp_path / "report.html"
    code, _, _ = run("evaluate", "--period", PERIOD, "--format", "html", "--output", str(path))
    assert code == 0
    text = path.read_text(encoding="utf-8")
    assert text.count("<svg") >= 3 and "<table>" in text
    assert "<script" not in text and "<link" not in text
    assert set(re.findall(r"https?://[^\"' ]+", text)) == {"http://www.w3.org/2000/svg"}


def test_monthly_tallies_agree_with_the_log_and_can_be_rebuilt(city: Path) -> None:
    import sqlite3

    code, stdout, _ = run("evaluation", "check-tallies", "2026-03")
    assert code == 0 and "评价统计与案件记录一致" in stdout
    month = json.loads(run("evaluate", "--month", "2026-03", "--trend", "0")[1])
    days = json.loads(run("evaluate", "--period", "2026-03-01~2026-03-31", "--trend", "0")[1])
    assert month["objects"] == days["objects"] and month["hotspots"] == days["hotspots"] and month["cases"] > 0
    with sqlite3.connect(city / "city.db") as conn:
        conn.execute("UPDATE evaluation_tallies SET n = n + 1 WHERE month = '2026-03' AND name = 'closed' "
                     "AND object_type = 'department' AND code = (SELECT MIN(code) FROM evaluation_tallies "
                     "WHERE month = '2026-03' AND object_type = 'department' AND name = 'closed')")  # fmt: skip
    code, stdout, _ = run("evaluation", "check-tallies", "2026-03")
    assert code == 1 and re.search(r"^department/\w+/closed: 统计 (\d+)，日志 (\d+)$", stdout, re.M)
    code, stdout, _ = run("evaluation", "rebuild-tallies")
    assert code == 0 and "重算 1 个月" in stdout
    assert run("evaluation", "check-tallies", "2026-03")[0] == 0
    assert json.loads(run("evaluate", "--month", "2026-03", "--trend", "0")[1]) == month


def test_drill_lists_the_cases_behind_a_value(city: Path) -> None:
    document = json.loads(run("evaluate", "--period", PERIOD, "--trend", "0")[1])
    row = document["objects"]["district"][0]
    code, stdout, _ = run("evaluation", "drill", PERIOD, "district", row["code"], "close_rate")
    assert code == 0
    numbers = re.findall(r"^\s+(\d{14})$", stdout, re.M)
    assert len(numbers) == row["counts"]["closed"] + row["counts"]["due_to_close"]


def test_freeze_appeal_decide_and_audit(city: Path) -> None:
    code, stdout, _ = run("evaluation", "freeze", PERIOD, "--by", "admin")
    assert code == 0 and "已冻结" in stdout
    code, _, stderr = run("evaluation", "freeze", PERIOD, "--by", "admin")
    assert code == 1 and "evaluation.already_frozen" in stderr
    document = json.loads(run("evaluate", "--period", PERIOD)[1])
    assert document["revision"] == 1
    dept = next(
        d for d in document["objects"]["department"] if d["counts"]["disposed"] > d["counts"]["disposed_on_time"]
    )
    code, stdout, _ = run("evaluation", "drill", PERIOD, "department", dept["code"], "on_time_disposal_rate")
    numerator, denominator = stdout.split("分母")
    late = sorted(set(re.findall(r"\d{14}", denominator)) - set(re.findall(r"\d{14}", numerator)))
    assert late
    args = ["--department", dept["code"], "--indicator", "on_time_disposal_rate", "--case", late[0]]
    code, stdout, stderr = run("evaluation", "appeal", PERIOD, *args, "--reason", "停水检修", "--by", "dept")
    assert code == 0, stderr
    appeal_id = re.search(r"编号 (\d+)", stdout).group(1)  # type: ignore[union-attr]
    code, stdout, _ = run("evaluation", "decide-appeal", appeal_id, "--approve", "--reason", "属实", "--by", "chief")
    assert code == 0 and "版本 2" in stdout
    after = json.loads(run("evaluate", "--period", PERIOD)[1])
    assert after["revision"] == 2 and after["excused"] == [["department", dept["code"], "on_time_disposal_rate",
                                                            late[0]]]  # fmt: skip
    code, stdout, _ = run("evaluation", "audit", PERIOD)
    assert [line.split()[3] for line in stdout.splitlines()] == ["freeze", "appeal", "approve"]


def test_unreadable_json_files_are_one_error_line(city: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text("{not json", encoding="utf-8")
    for args, error in (
        (("evaluation", "scheme-add", str(broken), "--by", "admin"), "错误 [evaluation.bad_scheme] 无法读取评价方案"),
        (("campaign", "put", str(broken), "--by", "admin"), "错误 [campaign.bad_definition] 无法读取专项整治定义"),
    ):
        code, stdout, stderr = run(*args)
        assert code == 2 and stdout == "" and stderr.startswith(error) and len(stderr.splitlines()) == 1


def test_bad_input_exits_2_with_a_code(city: Path) -> None:
    code, _, stderr = run("evaluate", "--month", "2026-03", "--period", "2026")
    assert code == 2 and "evaluation.bad_period" in stderr
    code, _, stderr = run("evaluate", "--month", "2026-3x")
    assert code == 2 and "evaluation.bad_period" in stderr
    code, _, stderr = run("evaluation", "drill", PERIOD, "district", "410202", "nonsense")
    assert code == 2 and "evaluation.unknown_indicator" in stderr
    code, _, stderr = run("evaluation", "appeal", "2026-01", "--department", "x", "--indicator", "filed_score",
                          "--case", "1", "--reason", "r", "--by", "u")  # fmt: skip
    assert code == 2 and "evaluation.not_appealable" in stderr


def test_reward_ledger_prints_totals_and_exports_every_line(city: Path, tmp_path: Path) -> None:
    path = tmp_path / "ledger.csv"
    code, _, stderr = run("reward", "ledger", PERIOD)
    assert code == 2 and "reward.bad_period" in stderr  # money is paid by the month or the year
    code, stdout, _ = run("reward", "ledger", "2026-03", "--output", str(path))
    assert code == 0 and "奖惩台账" in stdout and "100000.00" in stdout
    left = re.search(r"结余 ([0-9.]+) 元", stdout)
    assert left is not None
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    assert lines[0] == "period,unit_type,unit,layer,outcome,outcome_name,case_no,points,yuan"
    rows = [line.split(",") for line in lines[1:]]
    awarded = sum(float(r[-1]) for r in rows if float(r[-1]) > 0 and r[3] != "adjustment")
    assert round(awarded + float(left.group(1)), 2) == 100000.0
    assert {r[1] for r in rows} >= {"district", "street", "department"}
    assert all(float(r[-1]) <= 0 for r in rows if float(r[-2]) < 0)  # a lost point never earns money
    code, _, stderr = run("reward", "ledger", PERIOD, "--rules", str(tmp_path / "missing.json"))
    assert code == 2 and "reward.bad_rules" in stderr


def test_campaigns_list_and_progress(city: Path) -> None:
    code, stdout, _ = run("campaign", "list")
    assert code == 0 and "dust-and-muck" in stdout and "2026-01-01" in stdout
    code, stdout, _ = run("campaign", "progress", "manhole-covers", "--period", PERIOD, "--json")
    assert code == 0
    progress = json.loads(stdout)
    assert progress["code"] == "manhole-covers" and progress["targets"][0]["kind"] == "dispose_within"
    assert len(progress["targets"][0]["denominator_cases"]) == progress["cases"]
    code, _, stderr = run("campaign", "progress", "no-such")
    assert code == 1 and "campaign.not_found" in stderr


def test_import_cases_all_or_nothing(city: Path, tmp_path: Path) -> None:
    header = "case_no,source,kind,class_code,district_code,street_code,community_code,lon,lat,reported_at,closed_at"
    good = (
        "HX1,self_disposal,component,01001,410202,410202001,410202001009,114.34,34.80,2026-01-05 09:00,2026-01-05 10:00"
    )
    bad = "HX2,self_disposal,component,99999,410202,410202001,410202001009,114.34,34.80,2026-01-05 09:00,"
    path = tmp_path / "ledger.csv"
    path.write_text("\n".join([header, good, bad]) + "\n", encoding="utf-8")
    code, _, stderr = run("import-cases", str(path))
    assert code == 2 and "import.rejected" in stderr and "第 3 行" in stderr
    code, stdout, stderr = run("import-cases", str(path), "--skip-invalid")
    assert code == 0 and "已导入历史案件 1 条" in stdout and "第 3 行" in stderr
    document = json.loads(run("evaluate", "--month", "2026-01", "--trend", "0")[1])
    assert document["cases"] == 1
    urged = tmp_path / "urged.csv"
    urged.write_text("\n".join([header, good.replace("HX1", "HX3")]) + "\n", encoding="utf-8")
    events = tmp_path / "events.csv"
    events.write_text("case_no,event,at\nHX3,督办,2026-01-05 11:00\n", encoding="utf-8")  # after its closing
    code, _, stderr = run("import-cases", str(urged), "--events", str(events))
    assert code == 2 and "history.event_order" in stderr and "事件表第 2 行" in stderr


def test_what_if_lists_the_changes_of_a_draft_and_exports_them(city: Path, tmp_path: Path) -> None:
    from xiuhua.evaluation.services.evaluate import default_scheme_body

    draft = {**default_scheme_body(), "version": "draft-1", "grades": [["A", 100], ["B", 99.9], ["C", 0]]}
    (tmp_path / "draft.json").write_text(json.dumps(draft), encoding="utf-8")
    target = tmp_path / "changes.csv"
    code, stdout, stderr = run("evaluation", "what-if", "--period", PERIOD, "--scheme", str(tmp_path / "draft.json"),
                               "--output", str(target))  # fmt: skip
    assert code == 0, stderr
    found = re.search(r"评价方案 default-1 → draft-1；比较 (\d+) 个对象，(\d+) 处变化", stdout)
    assert found and int(found[2]) > 0
    lines = target.read_text(encoding="utf-8-sig").splitlines()
    assert lines[0] == "object_type,code,name,field,before,after" and len(lines) == int(found[2]) + 1
    assert all(",grade," in line for line in lines[1:])  # a period of days: no reward ledger to compare
    code, _, stderr = run("evaluation", "what-if", "--period", PERIOD)
    assert code == 2 and "whatif.nothing" in stderr
    code, _, stderr = run("evaluation", "what-if", "--month", "2026-03", "--scheme", str(tmp_path / "missing.json"))
    assert code == 2 and "evaluation.bad_scheme" in stderr


def test_the_unit_sheet_is_one_row_per_unit_in_csv_and_xlsx(city: Path, tmp_path: Path) -> None:
    document = json.loads(run("evaluate", "--month", "2026-03", "--trend", "0")[1])
    units = sum(len(v) for v in document["objects"].values())
    code, stdout, stderr = run("evaluation", "units", str(tmp_path / "units.csv"), "--month", "2026-03")
    assert code == 0, stderr
    lines = (tmp_path / "units.csv").read_text(encoding="utf-8-sig").splitlines()
    assert (
        lines[0]
        == ("对象类型,代码,名称,综合指数,等级,排名,扣分,奖惩得分,奖励（元）,扣款（元）,净额（元）,其中保证金扣缴（元）")
        and len(lines) == units + 1
    )
    assert f"已导出 {units} 条" in stdout
    code, _, _ = run("evaluation", "units", str(tmp_path / "units.xlsx"), "--month", "2026-03")
    book = load_workbook(tmp_path / "units.xlsx")
    assert code == 0 and book.active is not None and book.active.max_row == units + 1
    code, _, stderr = run("evaluation", "units", str(tmp_path / "units.txt"), "--month", "2026-03")
    assert code == 2
