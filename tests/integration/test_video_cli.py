"""The video commands as an operator uses them, on a SQLite file holding the demo city."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from typer.testing import CliRunner

from xiuhua.bootstrap import bootstrap
from xiuhua.cases.services.policy import load_policy
from xiuhua.config import get_settings
from xiuhua.demo.city import build_demo
from xiuhua.demo.sources import demo_sources
from xiuhua.entrypoints.cli.main import app
from xiuhua.kernel.clock import FakeClock
from xiuhua.org.adapters import holidays
from xiuhua.video.adapters.vision.pipeline import packaged_video

runner = CliRunner()
PLATES = Path(__file__).resolve().parents[1] / "data" / "plates"


@pytest.fixture
def city(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("XIUHUA_DATABASE_URL", url)
    monkeypatch.setenv("XIUHUA_EVIDENCE_DIR", str(tmp_path / "evidence"))
    monkeypatch.setenv("XIUHUA_PHONE_KEY", "cli-test-phone-key-0123456789")
    get_settings.cache_clear()
    rt = bootstrap(url)
    calendar = load_policy(rt.uow(), holidays.statutory_days).timing.calendar
    build_demo(demo_sources(geometry=False), rt.uow(), calendar)
    rt.engine.dispose()
    yield tmp_path
    get_settings.cache_clear()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_cameras_frames_sms_and_review(city: Path) -> None:
    assert run("camera", "import")[:2] == (0, "已登记摄像头 2 个：KF-CAM-001、KF-CAM-002\n")
    code, out, _ = run("camera", "list")
    assert code == 0 and "KF-CAM-002" in out and "禁止摆摊区" in out
    code, out, _ = run("vehicle", "import", str(packaged_video() / "demo_vehicles.csv"))
    assert code == 0 and "已导入车辆 3 条" in out
    code, out, _ = run("video", "run", "--camera", "KF-CAM-001", "--device", "cpu")
    assert code == 0 and "告知单 2 个，立案 1 件" in out and "告知后驶离 1 起" in out
    code, out, _ = run("video", "run", "--camera", "KF-CAM-002", "--device", "cpu")
    assert code == 0 and "立案 1 件" in out
    code, out, _ = run("sms", "outbox")
    assert code == 0 and "138****0001" in out and "13800000001" not in out and "已发送" in out
    assert run("sms", "send")[1].startswith("已发送 0 条")  # sent during the run, on the frames' clock
    code, _, err = run("sms", "retry", "1")
    assert code == 2 and "sms.not_failed" in err
    assert run("sms", "retry", "99")[0] == 1
    code, out, _ = run("review", "list")
    assert code == 0 and "编号" in out
    code, _, err = run("review", "decide", "1")
    assert code == 2 and "review.choose_one" in err
    code, _, err = run("review", "decide", "1", "--reject")
    assert code == 1 and "notice.transition_not_allowed" in err  # notice 1 went to a case, not to review


def test_plate_read_and_errors(city: Path) -> None:
    code, out, _ = run("plate", "read", str(PLATES / "blue_001.jpg"), "--device", "cpu")
    assert code == 0 and "吉NGUP9Q" in out and "蓝牌" in out and "短信告知" in out
    code, _, err = run("plate", "read", str(city / "missing.jpg"))
    assert code == 2 and "vision.not_found" in err
    code, _, err = run("video", "run", "--camera", "NOPE")
    assert code == 1 and "camera.not_found" in err
    bad = city / "v.csv"
    bad.write_text("plate,owner,phone\n豫B1,张三,138\n", encoding="utf-8")
    code, _, err = run("vehicle", "import", str(bad))
    assert code == 2 and "import.rejected" in err


def test_start_cameras_replays_the_demo_through_the_pipeline(city: Path) -> None:
    import threading

    from xiuhua.entrypoints.cli.video import start_cameras

    rt = bootstrap()
    # a weekday morning: between 22:00 and 07:00 texts wait for the end of the quiet hours, and with them
    # the recheck that opens the case (the test must not depend on the hour it runs at)
    rt.clock = FakeClock(datetime(2026, 3, 3, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai")))  # type: ignore[assignment]
    stop = threading.Event()
    started = rt.clock.now()
    thread = start_cameras(rt, stop, replay_s=0.0, device="cpu")
    thread.join(timeout=120)
    assert not thread.is_alive()
    with rt.uow() as uow:
        states = uow.video.count_notices()
        sent = [m for m in uow.video.outbox() if m.sent_at is not None]
        cases = [n.case_no for n in uow.video.notices() if n.case_no]
    assert states == {"case_opened": 1, "resolved": 1}
    assert len(sent) == 2 and all(m.sent_at is not None and m.sent_at <= rt.clock.now() for m in sent)
    with rt.uow() as uow:
        case = uow.cases.get(cases[0])
    assert case is not None and started - timedelta(hours=1) <= case.reported_at <= rt.clock.now()  # today's
    rt.engine.dispose()


def test_outside_dev_the_phone_key_must_be_configured(city: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XIUHUA_ENVIRONMENT", "production")
    monkeypatch.setenv("XIUHUA_JWT_SECRET", "a-real-signing-secret-of-some-length-0123456789")
    monkeypatch.delenv("XIUHUA_PHONE_KEY")
    get_settings.cache_clear()
    code, out, err = run("vehicle", "import", str(packaged_video() / "demo_vehicles.csv"))
    assert code == 2 and out == "" and err.startswith("错误 [crypto.no_key]")
    monkeypatch.setenv("XIUHUA_PHONE_KEY", "a-production-phone-key-0123456789")
    get_settings.cache_clear()
    assert run("vehicle", "import", str(packaged_video() / "demo_vehicles.csv"))[0] == 0
