"""Photos handed in on the command line go through the same cleaning as uploads, and may be handed in again."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image
from typer.testing import CliRunner

from xiuhua.config import get_settings
from xiuhua.entrypoints.cli.main import app
from xiuhua.platform.db.engine import make_engine
from xiuhua.unit_of_work import SqlUnitOfWork

runner = CliRunner()
HANDLER = "handler_91410204bhj5q4x12m"  # the water company: 供水井盖 city-wide
# a point well inside 南京巷社区 (410202001009), the community named
WHERE = ("--lon", "114.344", "--lat", "34.815", "--address", "南京巷口", "--community", "410202001009")


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A demo city built once; each test works on its own copy."""
    folder = tmp_path_factory.mktemp("city")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("XIUHUA_DATABASE_URL", f"sqlite:///{folder / 'city.db'}")
        get_settings.cache_clear()
        assert run("demo", "--no-simulate", "--no-serve", "--census-scale", "0.02")[0] == 0
    get_settings.cache_clear()
    return folder / "city.db"


@pytest.fixture
def database(city: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    path = tmp_path / "cli.db"
    path.write_bytes(city.read_bytes())
    monkeypatch.setenv("XIUHUA_DATABASE_URL", f"sqlite:///{path}")
    monkeypatch.setenv("XIUHUA_EVIDENCE_DIR", str(tmp_path / "evidence"))
    get_settings.cache_clear()
    yield f"sqlite:///{path}"
    get_settings.cache_clear()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def gps_photo(path: Path) -> Path:
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x010F] = "CameraMaker"
    exif[0x8825] = {1: "N", 2: (34.0, 48.0, 25.0), 3: "E", 4: (114.0, 20.0, 44.0)}
    buffer = io.BytesIO()
    Image.new("RGB", (24, 16), (120, 60, 30)).save(buffer, "JPEG", exif=exif.tobytes())
    path.write_bytes(buffer.getvalue() + b"<html><script>x()</script>")
    return path


def report(photo: Path) -> str:
    code, out, err = run(
        "case", "report", "--as", "supervisor_410202001", "--code", "01001", "--description", "井盖缺失",
        *WHERE, "--photo", str(photo),
    )  # fmt: skip
    assert code == 0, err
    return out.strip()


def act(case_no: str, action: str, user: str, *options: str) -> None:
    code, _, err = run("case", "act", case_no, action, "--as", user, *options)
    assert code == 0, f"{action}: {err}"


def stored_photos(url: str, case_no: str) -> list[tuple[str, str]]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.exec_driver_sql(
                "select stage, sha256 from case_photos join cases on cases.id = case_photos.case_id "
                "where cases.case_no = ? order by stage, sha256",
                (case_no,),
            ).all()
    finally:
        engine.dispose()
    return [(stage, sha) for stage, sha in rows]


def test_a_reported_photo_is_stored_without_its_gps(database: str, tmp_path: Path) -> None:
    case_no = report(gps_photo(tmp_path / "p.jpg"))
    [(stage, sha)] = stored_photos(database, case_no)
    files = [f for f in (tmp_path / "evidence").rglob("*") if f.is_file()]
    assert stage == "report" and [f.name for f in files] == [sha]
    data = files[0].read_bytes()
    assert b"CameraMaker" not in data and b"<html" not in data
    with Image.open(io.BytesIO(data)) as im:
        assert dict(im.getexif()) == {0x0112: 6} and not im.getexif().get_ifd(0x8825) and im.size == (24, 16)


def test_the_same_photo_after_rework_is_accepted_again(database: str, tmp_path: Path) -> None:
    photo = gps_photo(tmp_path / "p.jpg")
    after = tmp_path / "after.jpg"
    Image.new("RGB", (16, 16), (0, 90, 0)).save(after, "JPEG")
    case_no = report(photo)
    with SqlUnitOfWork(make_engine(database)) as uow:
        standard = next(s.id for s in uow.catalog.standards() if s.code == "01001")
    act(case_no, "accept", "acceptor1")
    act(case_no, "file", "shiftleader1", "--standard", str(standard))
    act(case_no, "dispatch", "dispatcher_410202")
    act(case_no, "feedback", HANDLER, "--photo", str(after))
    act(case_no, "send_check", "acceptor1")
    act(case_no, "check_fail", "supervisor_410202001", "--reason", "仍未修好")
    act(case_no, "rework", "dispatcher_410202", "--reason", "返工")
    code, out, err = run("case", "act", case_no, "feedback", "--as", HANDLER, "--photo", str(after))
    assert code == 0, err
    assert "Traceback" not in out + err and "IntegrityError" not in out + err
    stages = [stage for stage, _ in stored_photos(database, case_no)]
    assert stages == ["after", "report"]
    code, out, _ = run("audit", "verify")
    assert code == 0


def test_a_photo_handed_in_with_an_action_is_stored_without_its_gps(database: str, tmp_path: Path) -> None:
    case_no = report(gps_photo(tmp_path / "p.jpg"))
    act(case_no, "accept", "acceptor1")
    with SqlUnitOfWork(make_engine(database)) as uow:
        standard = next(s.id for s in uow.catalog.standards() if s.code == "01001")
    act(case_no, "file", "shiftleader1", "--standard", str(standard))
    act(case_no, "dispatch", "dispatcher_410202")
    act(case_no, "feedback", HANDLER, "--photo", str(gps_photo(tmp_path / "after.jpg")))
    stored = dict(stored_photos(database, case_no))
    data = next(f for f in (tmp_path / "evidence").rglob(stored["after"]) if f.is_file()).read_bytes()
    assert b"CameraMake" not in data and b"<html" not in data
    with Image.open(io.BytesIO(data)) as im:
        assert not im.getexif().get_ifd(0x8825) and 0x010F not in im.getexif()
