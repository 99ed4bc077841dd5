"""Cameras, the vehicle registry, frame sources and detector loading, on real files and both databases."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from sqlalchemy import select

from xiuhua.cases.services.policy import load_policy
from xiuhua.demo.city import build_demo
from xiuhua.demo.sources import demo_sources
from xiuhua.kernel.clock import FakeClock
from xiuhua.kernel.errors import InvalidInputError, NotFoundError
from xiuhua.org.adapters import holidays
from xiuhua.platform.db import tables as t
from xiuhua.platform.importing import ImportRejectedError
from xiuhua.platform.tabular import read_table
from xiuhua.unit_of_work import SqlUnitOfWork
from xiuhua.video.adapters.crypto import PhoneCipher
from xiuhua.video.adapters.vision.base import DetectorConfigError, FrameSourceError
from xiuhua.video.adapters.vision.detectors import FakeDetector, ForegroundDetector, ForegroundOptions
from xiuhua.video.adapters.vision.frames import frames
from xiuhua.video.adapters.vision.pipeline import load_camera_file, packaged_video
from xiuhua.video.adapters.vision.registry import load_detector, load_plate_reader
from xiuhua.video.services.analysis import camera_layer, list_cameras, parse_camera, register_cameras
from xiuhua.video.services.vehicles import import_vehicles

CIPHER = PhoneCipher("test-phone-key-0123456789abcdef")
CLOCK = FakeClock(datetime(2026, 3, 3, 1, 0, tzinfo=UTC))


@pytest.fixture
def city(uow: SqlUnitOfWork) -> SqlUnitOfWork:
    calendar = load_policy(uow, holidays.statutory_days).timing.calendar
    build_demo(demo_sources(geometry=False), uow, calendar)
    return uow


def definitions() -> list[dict[str, Any]]:
    return load_camera_file(packaged_video() / "cameras.json")


def test_cameras_register_list_and_show_as_a_layer(city: SqlUnitOfWork) -> None:
    assert register_cameras(definitions(), city) == ["KF-CAM-001", "KF-CAM-002"]
    register_cameras(definitions(), city)  # again: updated in place
    cameras = list_cameras(city)
    assert [c.code for c in cameras] == ["KF-CAM-001", "KF-CAM-002"]
    zone = cameras[0].zones[0]
    assert zone.kind.value == "no_parking" and zone.dwell_minutes == 5 and zone.polygon[1] == (800.0, 150.0)
    layer = camera_layer(city)
    kinds = sorted(f["properties"]["layer"] for f in layer["features"])
    assert kinds == ["camera", "camera", "camera_zone", "camera_zone", "camera_zone"]


def test_bad_camera_definitions_write_nothing(city: SqlUnitOfWork) -> None:
    good, bad = definitions()
    bad["zones"][0]["department_code"] = "NOPE"
    with pytest.raises(NotFoundError) as info:
        register_cameras([good, bad], city)
    assert info.value.code == "camera.unknown_department"
    with pytest.raises(InvalidInputError) as info:
        parse_camera({"code": "X", "name": "x"})
    assert info.value.code == "camera.bad_definition"
    with pytest.raises(InvalidInputError) as info:
        parse_camera({**good, "zones": [{**good["zones"][0], "kind": "somewhere"}]})
    assert info.value.code == "camera.bad_definition"
    assert list_cameras(city) == []


def write_csv(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_vehicle_import_encrypts_phones_all_or_nothing(uow: SqlUnitOfWork, tmp_path: Path) -> None:
    bad = write_csv(
        tmp_path / "v.csv",
        "车牌号,车主,手机号\n豫B12345,张三,138 0000 0001\n豫B1234,李四,13800000002\n豫C12345,王五,12345\n"
        "豫B12345,赵六,13800000004\n",
    )
    with pytest.raises(ImportRejectedError) as info:
        import_vehicles(read_table(bad), uow, CLOCK, CIPHER)
    assert [(e.row, e.code) for e in info.value.errors] == [
        (3, "plate.invalid"), (4, "vehicle.bad_phone"), (5, "vehicle.duplicate"),
    ]  # fmt: skip
    with uow:
        assert uow.video.count_vehicles() == 0
    report = import_vehicles(read_table(bad), uow, CLOCK, CIPHER, skip_invalid=True)
    assert report.written == 1 and len(report.skipped) == 3
    with uow:
        row = uow.connection.execute(select(t.vehicles)).one()
    assert row.plate == "豫B12345" and row.phone_masked == "138****0001"
    assert "13800000001" not in row.phone_enc and CIPHER.decrypt(row.phone_enc) == "13800000001"
    assert row.phone_digest == CIPHER.digest("13800000001")


def test_vehicle_import_reads_xlsx(uow: SqlUnitOfWork, tmp_path: Path) -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["plate", "owner", "phone"])
    sheet.append(["沪AD12345", "陈女士", "13900000001"])
    book.save(tmp_path / "v.xlsx")
    assert import_vehicles(read_table(tmp_path / "v.xlsx"), uow, CLOCK, CIPHER).written == 1
    with uow:
        vehicle = uow.video.vehicle("沪AD12345")
    assert vehicle is not None and vehicle.owner_name == "陈女士"


def test_frame_sources_folder_file_and_video(tmp_path: Path) -> None:
    folder = packaged_video() / "frames" / "KF-CAM-002"
    shots = list(frames(str(folder)))
    assert len(shots) == 10 and shots[0].taken_at == datetime(2026, 3, 3, 1, 0, tzinfo=UTC)
    assert [f.taken_at for f in shots] == sorted(f.taken_at for f in shots)
    one = list(frames(str(shots[1].path)))
    assert len(one) == 1 and one[0].image.shape == (450, 800, 3)
    video = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter.fourcc(*"MJPG"), 5, (160, 120))
    for i in range(15):
        writer.write(np.full((120, 160, 3), i * 10, np.uint8))
    writer.release()
    start = datetime(2026, 3, 3, 2, 0, tzinfo=UTC)
    sampled = list(frames(str(video), start=start, every_s=1.0))
    assert len(sampled) == 3 and sampled[0].taken_at == start  # one frame a second from 5 fps, 3 s
    for source, code in [(tmp_path / "none.jpg", "vision.not_found"), (tmp_path, "vision.empty_folder")]:
        with pytest.raises(FrameSourceError) as info:
            list(frames(str(source)))
        assert info.value.code == code
    (tmp_path / "broken.mp4").write_bytes(b"not a video")
    with pytest.raises(FrameSourceError) as info:
        list(frames(str(tmp_path / "broken.mp4")))
    assert info.value.code == "vision.bad_stream"


def test_detectors_load_by_name_and_find_things(tmp_path: Path) -> None:
    folder = packaged_video() / "frames"
    stall = cv2.imread(str(folder / "KF-CAM-002" / "KF-CAM-002_20260303T011000.jpg"))
    foreground = ForegroundDetector(ForegroundOptions(background=str(folder / "KF-CAM-002_background.jpg")))
    boxes = foreground.detect(stall)
    assert any(300 <= (b.box[0] + b.box[2]) / 2 <= 520 for b in boxes)  # the stall
    empty = cv2.imread(str(folder / "KF-CAM-002" / "KF-CAM-002_20260303T010000.jpg"))
    assert foreground.detect(empty) == []
    cars = load_detector("plate_vehicles").detect(
        cv2.imread(str(folder / "KF-CAM-001" / "KF-CAM-001_20260303T011100.jpg"))
    )
    assert len(cars) == 2 and all(d.label == "vehicle" for d in cars)
    people = load_detector("hog_people").detect(np.zeros((240, 320, 3), np.uint8))
    assert people == []
    fake = load_detector("fake")
    assert isinstance(fake, FakeDetector)
    (tmp_path / "f.json").write_text('[{"label": "person", "box": [1, 2, 30, 60]}]', encoding="utf-8")
    fake.path = tmp_path / "f.jpg"
    assert [d.box for d in fake.detect(empty)] == [(1, 2, 30, 60)]
    assert load_plate_reader("clp_plain").name == "clp_plain"
    fake_read = load_plate_reader("fake", {"text": "沪AD12345", "color": "green"}).read(empty)
    assert [(r.text, r.valid, r.color.value) for r in fake_read] == [("沪AD12345", True, "green")]
    for name, options, code in [
        ("nope", None, "vision.unknown_provider"),
        ("foreground", {}, "vision.bad_options"),
        ("foreground", {"background": str(tmp_path / "missing.jpg")}, "vision.bad_background"),
        ("onnx_yolo", {"model": str(tmp_path / "missing.onnx"), "labels": {0: "person"}}, "vision.model_missing"),
    ]:
        with pytest.raises(InvalidInputError) as info:
            load_detector(name, options)
        assert info.value.code == code
    with pytest.raises(DetectorConfigError):
        load_detector("xiuhua.video.domain.model.Zone")


def test_onnx_providers_pick_the_gpu_only_when_present() -> None:
    import onnxruntime as ort

    from xiuhua.video.adapters.vision.base import ModelError
    from xiuhua.video.adapters.vision.onnx import providers

    assert providers("cpu") == ["CPUExecutionProvider"]
    if "CUDAExecutionProvider" in ort.get_available_providers():
        assert providers("auto")[0] == "CUDAExecutionProvider"
    else:
        assert providers("auto") == ["CPUExecutionProvider"]
        with pytest.raises(ModelError) as info:
            providers("cuda")
        assert info.value.code == "vision.no_gpu"
