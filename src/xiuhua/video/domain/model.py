"""Cameras, zones drawn in image coordinates, object tracks across frames and dwell rules (pure, no I/O).

A rule fires when a tracked object of a watched kind has stayed still inside a zone for the zone's dwell
time: a passer-by crosses the zone and never fires it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from xiuhua.kernel.errors import InvalidInputError

Point = tuple[float, float]
Box = tuple[int, int, int, int]


class ZoneKind(StrEnum):
    NO_VENDING = "no_vending"  # 禁止摆摊区
    NO_PARKING = "no_parking"  # 人行道禁停区
    PARKING = "parking"  # 划线停车位: vehicles here are left alone

    @property
    def label(self) -> str:
        return {"no_vending": "禁止摆摊区", "no_parking": "人行道禁停区", "parking": "停车位"}[self.value]

    @property
    def watches(self) -> frozenset[str]:
        """The detection labels this zone's rule looks at."""
        return {
            ZoneKind.NO_VENDING: frozenset({"person", "goods", "stall", "object"}),
            ZoneKind.NO_PARKING: frozenset({"vehicle", "plate"}),
            ZoneKind.PARKING: frozenset(),
        }[self]


class InvalidZoneError(InvalidInputError):
    pass


@dataclass(frozen=True, slots=True)
class Zone:
    """A polygon in image pixels, tied to a map position and the department that owns the rule."""

    code: str
    kind: ZoneKind
    polygon: tuple[Point, ...]
    dwell_minutes: float
    department_code: str | None = None
    lon: float | None = None
    lat: float | None = None
    name: str = ""
    address: str = ""
    district_code: str = ""
    street_code: str = ""
    community_code: str = ""
    grid_code: str | None = None
    area_class: str | None = None

    def __post_init__(self) -> None:
        if len(self.polygon) < 3:
            raise InvalidZoneError("zone.bad_polygon", f"区域 {self.code} 至少需要 3 个顶点", zone=self.code)
        if self.dwell_minutes < 0:
            raise InvalidZoneError("zone.bad_dwell", f"区域 {self.code} 的停留时长不能为负", zone=self.code)

    def contains(self, point: Point) -> bool:
        """Even-odd ray casting; points on the edge may fall either way."""
        x, y = point
        inside = False
        n = len(self.polygon)
        for i in range(n):
            (x1, y1), (x2, y2) = self.polygon[i], self.polygon[(i + 1) % n]
            if (y1 > y) != (y2 > y) and x < (x2 - x1) * (y - y1) / (y2 - y1) + x1:
                inside = not inside
        return inside


@dataclass(frozen=True, slots=True)
class Camera:
    """A registered camera: where it stands, where it looks, where its frames come from, and its zones."""

    code: str
    name: str
    lon: float
    lat: float
    heading_deg: float
    source: str
    zones: tuple[Zone, ...] = ()

    def __post_init__(self) -> None:
        if not (-180 <= self.lon <= 180 and -90 <= self.lat <= 90):
            raise InvalidInputError("camera.bad_position", f"摄像头 {self.code} 的经纬度无效", camera=self.code)
        if not 0 <= self.heading_deg < 360:
            raise InvalidInputError(
                "camera.bad_heading", f"摄像头 {self.code} 的朝向应在 0–360 度之间", camera=self.code
            )
        codes = [z.code for z in self.zones]
        if len(set(codes)) != len(codes):
            raise InvalidInputError("camera.duplicate_zone", f"摄像头 {self.code} 的区域编号重复", camera=self.code)


@dataclass(slots=True)
class Track:
    """One object followed across frames; `still_since` restarts whenever it moves."""

    id: int
    label: str
    box: Box
    first_seen: datetime
    last_seen: datetime
    still_since: datetime
    anchor: Point
    hits: int = 1

    @property
    def foot(self) -> Point:
        return ((self.box[0] + self.box[2]) / 2, float(self.box[3]))

    def still_for(self, now: datetime) -> timedelta:
        return now - self.still_since


def iou(a: Box, b: Box) -> float:
    """Intersection over union of two boxes."""
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    inter = w * h
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


@dataclass(slots=True)
class Tracker:
    """Greedy IoU matching of detections to tracks, frame by frame.

    `move_tolerance` is how far (as a share of the box's diagonal) an object may drift and still count as
    standing still; `max_gap` drops a track not seen for that long (an occluded stall survives a short gap).
    """

    min_iou: float = 0.3
    move_tolerance: float = 0.15
    max_gap: timedelta = timedelta(minutes=2)
    tracks: list[Track] = field(default_factory=list)
    _next_id: int = 1

    def update(self, detections: list[tuple[str, Box]], now: datetime) -> list[Track]:
        """Match one frame's (label, box) detections taken at `now`; returns the tracks seen in this frame."""
        self.tracks = [t for t in self.tracks if now - t.last_seen <= self.max_gap]
        pairs = sorted(
            (
                (iou(t.box, box), ti, di)
                for ti, t in enumerate(self.tracks)
                for di, (label, box) in enumerate(detections)
                if t.label == label
            ),
            reverse=True,
        )
        used_t: set[int] = set()
        used_d: set[int] = set()
        seen: list[Track] = []
        for overlap, ti, di in pairs:
            if overlap < self.min_iou or ti in used_t or di in used_d:
                continue
            used_t.add(ti)
            used_d.add(di)
            track = self.tracks[ti]
            track.box, track.last_seen, track.hits = detections[di][1], now, track.hits + 1
            if _distance(track.foot, track.anchor) > self.move_tolerance * _diagonal(track.box):
                track.anchor, track.still_since = track.foot, now
            seen.append(track)
        for di, (label, box) in enumerate(detections):
            if di not in used_d:
                foot = ((box[0] + box[2]) / 2, float(box[3]))
                track = Track(self._next_id, label, box, now, now, now, foot)
                self._next_id += 1
                self.tracks.append(track)
                seen.append(track)
        return seen


def _distance(a: Point, b: Point) -> float:
    return float(((a[0] - b[0]) ** 2 + (a[1] - b[1]) ** 2) ** 0.5)


def _diagonal(box: Box) -> float:
    return _distance((box[0], box[1]), (box[2], box[3]))


@dataclass(frozen=True, slots=True)
class Violation:
    """A track that has stayed still in a zone past its dwell time."""

    zone: Zone
    track_id: int
    label: str
    box: Box
    since: datetime


@dataclass(slots=True)
class DwellRules:
    """Fires each (track, zone) once, when the track has stood still inside the zone for the dwell time."""

    zones: tuple[Zone, ...]
    fired: set[tuple[int, str]] = field(default_factory=set)

    def check(self, tracks: list[Track], now: datetime) -> list[Violation]:
        out: list[Violation] = []
        for zone in self.zones:
            for track in tracks:
                key = (track.id, zone.code)
                if key in self.fired or track.label not in zone.kind.watches or not zone.contains(track.foot):
                    continue
                if track.still_for(now) >= timedelta(minutes=zone.dwell_minutes):
                    self.fired.add(key)
                    out.append(Violation(zone, track.id, track.label, track.box, track.still_since))
        return out

    def occupied(self, tracks: list[Track]) -> dict[str, list[Track]]:
        """Zone code -> tracks of a watched kind standing in it now, whatever their dwell."""
        return {z.code: [t for t in tracks if t.label in z.kind.watches and z.contains(t.foot)] for z in self.zones}
