"""Cameras and the frame pipeline: detect, track, apply the zones' dwell rules, and hand violations to
enforcement (parking notices, vending cases); due rechecks are taken from the same frames."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from xiuhua.kernel.errors import DomainError, InvalidInputError, NotFoundError
from xiuhua.kernel.ports import Clock, Progress, no_progress
from xiuhua.video.domain.enforcement import NoticeState
from xiuhua.video.domain.model import Box, Camera, DwellRules, Tracker, Zone, ZoneKind, iou
from xiuhua.video.domain.plates import is_valid_plate
from xiuhua.video.ports import VideoUnitOfWork
from xiuhua.video.services.enforcement import (
    Deps,
    ParkingCapture,
    PlateEvidence,
    grace_over,
    open_parking_notice,
    recheck_notice,
    report_vending,
)


class Detected(Protocol):
    @property
    def label(self) -> str: ...
    @property
    def box(self) -> Box: ...
    @property
    def score(self) -> float: ...


class PlateSeen(Protocol):
    @property
    def text(self) -> str: ...
    @property
    def confidence(self) -> float: ...
    @property
    def color(self) -> Any: ...
    @property
    def valid(self) -> bool: ...


class Vision(Protocol):
    """What the pipeline needs from the vision adapters; images are opaque to the services."""

    def detect(self, image: Any) -> Sequence[Detected]: ...
    def read_plate(self, image: Any, box: Box) -> tuple[PlateSeen | None, bytes]:
        """The best plate inside the box and the JPEG of its rectified crop (of the box if none)."""
        ...

    def encode(self, image: Any, box: Box | None = None) -> bytes: ...


class FrameLike(Protocol):
    @property
    def image(self) -> Any: ...
    @property
    def taken_at(self) -> datetime: ...


# ----- cameras ---------------------------------------------------------------------------------------
def parse_camera(data: dict[str, Any]) -> Camera:
    """A camera from its JSON description; raises InvalidInputError with a stable code."""
    try:
        zones = tuple(
            Zone(
                code=str(z["code"]),
                kind=ZoneKind(z["kind"]),
                polygon=tuple((float(x), float(y)) for x, y in z["polygon"]),
                dwell_minutes=float(z.get("dwell_minutes", 5)),
                department_code=z.get("department_code"),
                lon=z.get("lon"),
                lat=z.get("lat"),
                name=z.get("name", ""),
                address=z.get("address", ""),
                district_code=z.get("district_code", ""),
                street_code=z.get("street_code", ""),
                community_code=z.get("community_code", ""),
                grid_code=z.get("grid_code"),
                area_class=z.get("area_class"),
            )
            for z in data.get("zones", [])
        )
        return Camera(
            str(data["code"]), str(data["name"]), float(data["lon"]), float(data["lat"]),
            float(data.get("heading_deg", 0)), str(data["source"]), zones,
        )  # fmt: skip
    except (KeyError, TypeError, ValueError) as exc:
        code = data.get("code", "?") if isinstance(data, dict) else "?"
        raise InvalidInputError("camera.bad_definition", f"摄像头 {code} 的定义不完整或有误：{exc}") from exc


def register_cameras(items: Iterable[dict[str, Any]], uow: VideoUnitOfWork) -> list[str]:
    """Insert or update cameras (all or nothing); zone departments must exist. Returns the codes."""
    cameras = [parse_camera(d) for d in items]
    with uow:
        for camera in cameras:
            for zone in camera.zones:
                if zone.department_code and uow.organizations.kind_of(zone.department_code) is None:
                    raise NotFoundError(
                        "camera.unknown_department",
                        f"摄像头 {camera.code} 区域 {zone.code} 的责任部门 {zone.department_code} 不存在",
                    )
        uow.video.upsert_cameras(cameras)
        uow.commit()
    return [c.code for c in cameras]


def list_cameras(uow: VideoUnitOfWork) -> list[Camera]:
    with uow:
        return uow.video.cameras()


def camera_layer(uow: VideoUnitOfWork) -> dict[str, Any]:
    """Cameras and their zones as a GeoJSON FeatureCollection (points at their map positions), for the map."""
    features = []
    for c in list_cameras(uow):
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [c.lon, c.lat]},
                "properties": {"layer": "camera", "code": c.code, "name": c.name, "heading_deg": c.heading_deg},
            }
        )
        for z in c.zones:
            if z.lon is None or z.lat is None:
                continue
            features.append(
                {
                    "type": "Feature",
                    "geometry": {"type": "Point", "coordinates": [z.lon, z.lat]},
                    "properties": {
                        "layer": "camera_zone",
                        "camera": c.code,
                        "code": z.code,
                        "kind": z.kind.value,
                        "label": z.kind.label,
                        "department_code": z.department_code,
                        "dwell_minutes": z.dwell_minutes,
                    },
                }
            )
    return {"type": "FeatureCollection", "features": features}


# ----- the pipeline ----------------------------------------------------------------------------------
@dataclass
class FrameReport:
    detections: int = 0
    notices: list[int] = field(default_factory=list)
    cases: list[str] = field(default_factory=list)
    resolved: list[int] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@dataclass
class CameraRun:
    """The state of one camera's pipeline between frames."""

    camera: Camera
    # snapshots may be a minute or two apart: a stall or a parked car keeps its track across such gaps
    tracker: Tracker = field(default_factory=lambda: Tracker(max_gap=timedelta(minutes=3)))
    rules: DwellRules = field(init=False)
    first_seen: dict[int, bytes] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.rules = DwellRules(self.camera.zones)


def process_frame(
    run: CameraRun, frame: FrameLike, vision: Vision, uow: VideoUnitOfWork, clock: Clock, deps: Deps
) -> FrameReport:
    """One frame through detection, tracking, dwell rules and enforcement. A failing violation is reported
    in `errors` and does not stop the camera."""
    report = FrameReport()
    detections = list(vision.detect(frame.image))
    report.detections = len(detections)
    now = frame.taken_at
    tracks = run.tracker.update([(d.label, d.box) for d in detections], now)
    for t in tracks:
        if t.hits == 1:  # the first sighting is kept as the "before" evidence of a vending case
            run.first_seen[t.id] = vision.encode(frame.image)
    live = {t.id for t in run.tracker.tracks}
    run.first_seen = {k: v for k, v in run.first_seen.items() if k in live}
    _rechecks(run, frame, detections, vision, uow, clock, deps, report)
    for v in run.rules.check(tracks, now):
        key = f"{run.camera.code}:{v.zone.code}:{v.since.strftime('%Y%m%dT%H%M%S')}:{v.track_id}"
        try:
            if v.zone.kind is ZoneKind.NO_PARKING:
                if _already_noticed(uow, run.camera.code, v.zone.code, v.box, now):
                    continue
                seen, crop = vision.read_plate(frame.image, v.box)
                plate = (
                    PlateEvidence(seen.text, seen.confidence, str(getattr(seen.color, "value", seen.color)), seen.valid)
                    if seen is not None
                    else PlateEvidence("", 0.0, "unknown", False)
                )
                capture = ParkingCapture(run.camera, v.zone, key, v.box, vision.encode(frame.image), crop, plate)
                notice = open_parking_notice(capture, uow, clock, deps)
                assert notice.id is not None
                report.notices.append(notice.id)
                if notice.case_no:
                    report.cases.append(notice.case_no)
            elif v.zone.kind is ZoneKind.NO_VENDING:
                frames = [f for f in (run.first_seen.get(v.track_id), vision.encode(frame.image)) if f]
                report.cases.append(report_vending(run.camera, v.zone, key, frames, uow, clock, deps))
        except DomainError as exc:
            report.errors.append(f"[{exc.code}] {exc.message}")
    return report


REPEAT_WINDOW = timedelta(hours=4)


def _already_noticed(uow: VideoUnitOfWork, camera_code: str, zone_code: str, box: Box, now: datetime) -> bool:
    """A vehicle at the same spot was captured lately (one that stays after its case makes no second notice)."""
    with uow:
        notices = uow.video.recent_notices(camera_code, zone_code, now - REPEAT_WINDOW)
    return any(iou(n.box, box) >= 0.5 and n.state is not NoticeState.RESOLVED for n in notices)


def _rechecks(
    run: CameraRun,
    frame: FrameLike,
    detections: list[Detected],
    vision: Vision,
    uow: VideoUnitOfWork,
    clock: Clock,
    deps: Deps,
    report: FrameReport,
) -> None:
    """Notices whose grace period is over: is a vehicle still where the first capture saw it?"""
    with uow:
        due = [
            n
            for n in uow.video.due_rechecks(run.camera.code, frame.taken_at)
            if grace_over(n, uow.video.sms(n.sms_id) if n.sms_id else None, frame.taken_at, deps.policy.grace_minutes)
        ]
    vehicles = [d.box for d in detections if d.label == "vehicle"]
    for notice in due:
        still = any(iou(notice.box, box) >= 0.3 for box in vehicles)
        if still and notice.plate:  # the same place, but is it the same car? read the plate again if we can
            seen, _ = vision.read_plate(frame.image, max(vehicles, key=lambda b: iou(notice.box, b)))
            if seen is not None and is_valid_plate(seen.text) and seen.confidence >= 0.6:
                still = seen.text == notice.plate
        done = recheck_notice(notice.id or 0, still, vision.encode(frame.image), uow, clock, deps)
        if done.state is NoticeState.CASE_OPENED and done.case_no:
            report.cases.append(done.case_no)
        elif done.state is NoticeState.RESOLVED:
            report.resolved.append(done.id or 0)


@dataclass
class RunSummary:
    frames: int = 0
    detections: int = 0
    notices: list[int] = field(default_factory=list)
    cases: list[str] = field(default_factory=list)
    resolved: list[int] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


class FrameClock:
    """Events are timed by the frame they were seen in: recorded footage keeps its own timeline."""

    def __init__(self, start: datetime) -> None:
        self.at = start

    def now(self) -> datetime:
        return self.at


def run_camera(
    camera_code: str,
    frames: Iterable[FrameLike],
    vision: Vision,
    uow: VideoUnitOfWork,
    deps: Deps,
    progress: Progress = no_progress,
    total: int = 0,
    run: CameraRun | None = None,
    after_frame: Callable[[Clock], object] | None = None,
) -> RunSummary:
    """Run a camera's frames through the pipeline; `after_frame` runs after each (e.g. sending due SMS on the
    frames' clock). Raises NotFoundError for an unknown camera."""
    with uow:
        camera = uow.video.camera(camera_code)
    if camera is None:
        raise NotFoundError("camera.not_found", f"摄像头 {camera_code} 不存在", camera=camera_code)
    run = run or CameraRun(camera)
    summary = RunSummary()
    clock: FrameClock | None = None
    for frame in frames:
        clock = clock or FrameClock(frame.taken_at)
        clock.at = frame.taken_at
        r = process_frame(run, frame, vision, uow, clock, deps)
        summary.frames += 1
        summary.detections += r.detections
        summary.notices += r.notices
        summary.cases += r.cases
        summary.resolved += r.resolved
        summary.errors += r.errors
        if after_frame is not None:
            after_frame(clock)
        progress(f"摄像头 {camera_code}", summary.frames, total)
    return summary
