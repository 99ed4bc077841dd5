"""IoT sensing: device kinds with their reading schemas as data, message validation, and the rules that
turn readings into alarms (threshold with duration, any alarm, truck route and hours), with flap damping.

Pure: no I/O, no clock; every time-dependent function takes ``now`` (aware UTC).

A message is JSON: ``{"device": "DUST-0001", "ts": "2026-03-03T01:00:00Z" | epoch seconds,
"values": {"pm10": 160.0, "pm25": 80.0}, "alarm": false}``. ``device`` may be left out when the topic's
last level names the device. A payload over ``MAX_PAYLOAD_BYTES`` or nested deeper than ``MAX_PAYLOAD_DEPTH``
is refused before it is parsed.
"""

from __future__ import annotations

import itertools
import json
import math
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from xiuhua.kernel.errors import InvalidInputError
from xiuhua.org.domain.model import ClassKind

CHINA = timedelta(hours=8)  # Asia/Shanghai has no daylight saving: local hours are UTC+8
MAX_FIELDS = 3
MAX_PAYLOAD_BYTES = 64 * 1024
"""The largest message taken (a reading is a few hundred bytes; a gateway's batch is sent as separate messages)."""
MAX_PAYLOAD_DEPTH = 16
"""The deepest nesting of arrays and objects taken (a message needs 2); checked by a scan before parsing, since
the JSON parser recurses once per level."""
_DEVICE_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,31}")


@dataclass(frozen=True, slots=True)
class Field:
    """One numeric reading field and its plausible range (a value outside it is a fault, not an alarm)."""

    name: str
    label: str
    unit: str
    low: float
    high: float
    required: bool = True


@dataclass(frozen=True, slots=True)
class DeviceKind:
    code: str
    label: str
    fields: tuple[Field, ...]
    component_classes: tuple[str, ...] = ()
    mobile: bool = False
    """A mobile device (a truck) reports its own position; its cases lie where it was seen."""

    def index(self, name: str) -> int:
        for i, f in enumerate(self.fields):
            if f.name == name:
                return i
        raise InvalidInputError("sensing.unknown_field", f"设备类型“{self.label}”没有读数字段“{name}”", field=name)


KINDS: dict[str, DeviceKind] = {
    k.code: k
    for k in (
        DeviceKind(
            "manhole",
            "井盖监测",
            (Field("tilt_deg", "倾角", "°", 0, 90), Field("displacement_mm", "位移", "mm", 0, 1000, required=False)),
            tuple(f"010{n:02d}" for n in range(1, 24)),
        ),
        DeviceKind(
            "dust",
            "扬尘监测",
            (Field("pm10", "PM10", "µg/m³", 0, 2000), Field("pm25", "PM2.5", "µg/m³", 0, 1000, required=False)),
        ),
        DeviceKind("fume", "油烟监测", (Field("fume_mg_m3", "油烟浓度", "mg/m³", 0, 100),)),
        DeviceKind("water_pressure", "供水压力", (Field("pressure_mpa", "水压", "MPa", 0, 2.5),), ("01025", "01001")),
        DeviceKind("gas_pressure", "燃气压力", (Field("pressure_kpa", "气压", "kPa", 0, 1000),), ("01049", "01057")),
        DeviceKind("drainage", "排水液位", (Field("level_m", "液位", "m", 0, 20),), ("01072", "01003", "01004")),
        DeviceKind("bin", "垃圾箱满溢", (Field("fill_pct", "满溢度", "%", 0, 100),), ("03005",)),
        DeviceKind(
            "lamp",
            "路灯电力",
            (Field("power_w", "功率", "W", 0, 5000), Field("voltage_v", "电压", "V", 0, 500, required=False)),
            ("01037", "01060"),
        ),
        DeviceKind(
            "muck_truck",
            "渣土车定位",
            (
                Field("lon", "经度", "°", -180, 180),
                Field("lat", "纬度", "°", -90, 90),
                Field("speed_kmh", "车速", "km/h", 0, 200),
            ),
            mobile=True,
        ),
    )
}


def kind_of(code: str) -> DeviceKind:
    """The device kind by code; raises InvalidInputError ``sensing.unknown_kind``."""
    kind = KINDS.get(code.strip())
    if kind is None:
        allowed = "、".join(f"{k.code}（{k.label}）" for k in KINDS.values())
        raise InvalidInputError("sensing.unknown_kind", f"未知的设备类型“{code}”，可用：{allowed}", kind=code)
    return kind


def validate_device_code(code: str) -> str:
    if not _DEVICE_CODE.fullmatch(code):
        raise InvalidInputError(
            "sensing.bad_device_code", f"设备编号“{code}”应为 1–32 位字母、数字、点、下划线或连字符", code=code
        )
    return code


# ----- devices ----------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class TruckPermit:
    """A muck truck's permit: the route it may drive (a polyline, lon/lat) within ``buffer_m``, and the local
    hours it may run (``start`` to ``end``, wrapping over midnight when start > end)."""

    route: tuple[tuple[float, float], ...] = ()
    buffer_m: float = 100.0
    start_minute: int = 0
    end_minute: int = 24 * 60

    @classmethod
    def parse(cls, text: str | None) -> TruckPermit | None:
        """From JSON ``{"route": [[lon, lat], ...], "buffer_m": 100, "hours": "22:00-06:00"}``."""
        if not text or not text.strip():
            return None
        try:
            data = json.loads(text)
            route = tuple((float(p[0]), float(p[1])) for p in data.get("route", ()))
            buffer_m = float(data.get("buffer_m", 100.0))
            start, end = _parse_hours(str(data.get("hours", "00:00-24:00")))
        except (ValueError, TypeError, KeyError, IndexError, AttributeError):
            raise InvalidInputError(
                "sensing.bad_permit", "准运许可应为 JSON：{route: [[经度, 纬度], …], buffer_m, hours: “22:00-06:00”}"
            ) from None
        if len(route) == 1 or buffer_m <= 0:
            raise InvalidInputError("sensing.bad_permit", "核准路线至少两个点，缓冲距离应大于 0")
        return cls(route, buffer_m, start, end)

    def to_json(self) -> str:
        start, end = divmod(self.start_minute, 60), divmod(self.end_minute, 60)
        hours = f"{start[0]:02d}:{start[1]:02d}-{end[0]:02d}:{end[1]:02d}"
        return json.dumps({"route": [list(p) for p in self.route], "buffer_m": self.buffer_m, "hours": hours})

    def allows_time(self, moment: datetime) -> bool:
        local = moment.astimezone(UTC) + CHINA
        minute = local.hour * 60 + local.minute
        if self.start_minute <= self.end_minute:
            return self.start_minute <= minute < self.end_minute
        return minute >= self.start_minute or minute < self.end_minute

    def off_route_m(self, lon: float, lat: float) -> float:
        """Metres beyond the permitted corridor (0 inside it, or when no route is set)."""
        if not self.route:
            return 0.0
        return max(0.0, distance_to_polyline_m(lon, lat, self.route) - self.buffer_m)


def _parse_hours(text: str) -> tuple[int, int]:
    start, _, end = text.partition("-")

    def minute(hhmm: str) -> int:
        h, _, m = hhmm.strip().partition(":")
        value = int(h) * 60 + int(m or 0)
        if not 0 <= value <= 24 * 60:
            raise ValueError(hhmm)
        return value

    return minute(start), minute(end)


def distance_to_polyline_m(lon: float, lat: float, line: tuple[tuple[float, float], ...]) -> float:
    """Metres from a point to a polyline, on a local equirectangular plane (good to well under 1 % within a
    city)."""
    kx = 111_320.0 * math.cos(math.radians(lat))
    ky = 110_574.0
    best = math.inf
    for (x1, y1), (x2, y2) in itertools.pairwise(line):
        ax, ay = (x1 - lon) * kx, (y1 - lat) * ky
        bx, by = (x2 - lon) * kx, (y2 - lat) * ky
        dx, dy = bx - ax, by - ay
        length2 = dx * dx + dy * dy
        t = 0.0 if length2 == 0 else max(0.0, min(1.0, -(ax * dx + ay * dy) / length2))
        best = min(best, math.hypot(ax + t * dx, ay + t * dy))
    return best


# ----- messages ---------------------------------------------------------------------------------------
class Rejection(StrEnum):
    """Why a message went to the dead-letter table."""

    MALFORMED = "malformed"  # 格式错误
    TOO_LARGE = "too_large"  # 消息过大
    TOO_DEEP = "too_deep"  # 嵌套过深
    UNKNOWN_DEVICE = "unknown_device"  # 未登记设备
    INACTIVE_DEVICE = "inactive_device"  # 设备已停用
    MISSING_FIELD = "missing_field"  # 缺少读数
    OUT_OF_RANGE = "out_of_range"  # 读数超出量程
    STALE = "stale"  # 时间过旧
    FUTURE = "future"  # 时间超前
    FAILED = "failed"  # 处理失败: it could not be ingested even alone (the error is kept with it)

    @property
    def label(self) -> str:
        return {
            "malformed": "格式错误",
            "too_large": "消息过大",
            "too_deep": "嵌套过深",
            "unknown_device": "未登记设备",
            "inactive_device": "设备已停用",
            "missing_field": "缺少读数",
            "out_of_range": "读数超出量程",
            "stale": "时间过旧",
            "future": "时间超前",
            "failed": "处理失败",
        }[self.value]


class MessageRejectedError(InvalidInputError):
    """A message that cannot be ingested; it is dead-lettered with its reason."""

    def __init__(self, reason: Rejection, message: str, device_code: str | None = None) -> None:
        super().__init__(f"sensing.{reason.value}", message, device=device_code)
        self.reason = reason
        self.device_code = device_code


@dataclass(frozen=True, slots=True)
class RawMessage:
    """A decoded message, not yet checked against its device's kind."""

    device_code: str
    measured_at: datetime
    values: dict[str, Any]
    alarm: bool


_TOKEN = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"?|[\[\]{}]', re.DOTALL)
"""A JSON string (to skip: brackets inside it do not nest; an unclosed one runs to the end), or a bracket."""


def nesting_depth(payload: bytes, stop_above: int = MAX_PAYLOAD_DEPTH) -> int:
    """How deep arrays and objects nest in ``payload`` (scanned, not parsed: any bytes will do), counting no
    further than ``stop_above + 1``."""
    depth = deepest = 0
    for token in _TOKEN.finditer(payload):
        match token.group():
            case b"[" | b"{":
                depth += 1
                if depth > deepest:
                    deepest = depth
                    if deepest > stop_above:
                        break
            case b"]" | b"}":
                depth = max(depth - 1, 0)
    return deepest


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(text)
    return value


def _no_constant(text: str) -> Any:
    raise ValueError(text)  # NaN, Infinity and -Infinity are not JSON


_JSON = json.JSONDecoder(parse_float=_finite, parse_constant=_no_constant)


def decode_message(payload: bytes, topic: str = "", limits: Limits | None = None) -> RawMessage:
    """Parse one message's JSON; raises MessageRejectedError (TOO_LARGE, TOO_DEEP, MALFORMED), never anything
    else, whatever the bytes."""
    limits = limits or DEFAULT_LIMITS
    if len(payload) > limits.max_bytes:
        raise MessageRejectedError(Rejection.TOO_LARGE, f"消息过大：{len(payload)} 字节，上限 {limits.max_bytes} 字节")
    brackets = payload.count(b"[") + payload.count(b"{")  # fewer brackets than the limit cannot nest deeper
    if brackets > limits.max_depth and nesting_depth(payload, limits.max_depth) > limits.max_depth:
        raise MessageRejectedError(Rejection.TOO_DEEP, f"消息嵌套过深：超过 {limits.max_depth} 层")
    try:
        return _decode(payload, topic)
    except MessageRejectedError:
        raise
    except Exception as exc:  # a message is data: no failure of parsing it may stop the intake
        raise MessageRejectedError(Rejection.MALFORMED, f"消息格式错误：无法解析（{type(exc).__name__}）") from None


def _decode(payload: bytes, topic: str) -> RawMessage:
    def bad(why: str, device: str | None = None) -> MessageRejectedError:
        return MessageRejectedError(Rejection.MALFORMED, f"消息格式错误：{why}", device)

    try:
        text = payload.decode("utf-8-sig")  # strict (json.loads of bytes lets encoded surrogates through)
        data = _JSON.decode(text)
    except (UnicodeDecodeError, ValueError):
        raise bad("不是 JSON") from None
    if not isinstance(data, dict):
        raise bad("应为 JSON 对象")
    device = data.get("device") or topic.rsplit("/", 1)[-1]
    if not isinstance(device, str) or not _DEVICE_CODE.fullmatch(device):
        raise bad("缺少或无效的设备编号")
    values = data.get("values", {})
    if not isinstance(values, dict):
        raise bad("values 应为对象", device)
    alarm = data.get("alarm", False)
    if not isinstance(alarm, bool):
        raise bad("alarm 应为 true 或 false", device)
    return RawMessage(device, _parse_ts(data.get("ts"), device), values, alarm)


def _shown(value: Any, limit: int = 40) -> str:
    """A value as quoted in a rejection: short, with no NUL or lone surrogate (the text is stored)."""
    text = value if isinstance(value, str) else repr(value)
    text = text[:limit] + ("…" if len(text) > limit else "")
    return text.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\x00")


def _parse_ts(ts: Any, device: str) -> datetime:
    try:
        if isinstance(ts, bool):
            raise ValueError(ts)
        if isinstance(ts, int | float):
            moment = datetime.fromtimestamp(float(ts), UTC)
        elif isinstance(ts, str):
            moment = datetime.fromisoformat(ts.replace("Z", "+00:00"))
        else:
            raise ValueError(ts)
    except (ValueError, OverflowError, OSError):
        raise MessageRejectedError(Rejection.MALFORMED, f"消息格式错误：时间“{_shown(ts)}”无效", device) from None
    if moment.tzinfo is None:
        raise MessageRejectedError(Rejection.MALFORMED, f"消息格式错误：时间“{_shown(ts)}”缺少时区", device)
    return moment.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class Limits:
    """How old or how far ahead of the receiving clock a reading may be; how large and deeply nested a
    message may be (bytes, levels)."""

    max_age: timedelta = timedelta(hours=24)
    max_ahead: timedelta = timedelta(minutes=5)
    max_bytes: int = MAX_PAYLOAD_BYTES
    max_depth: int = MAX_PAYLOAD_DEPTH


DEFAULT_LIMITS = Limits()


def check_reading(
    kind: DeviceKind, raw: RawMessage, now: datetime, limits: Limits | None = None
) -> tuple[float | None, ...]:
    """The message's values in the kind's field order; raises MessageRejectedError (missing, out of range,
    stale, future)."""
    limits = limits or DEFAULT_LIMITS
    if raw.measured_at < now - limits.max_age:
        raise MessageRejectedError(
            Rejection.STALE, f"读数时间 {raw.measured_at:%Y-%m-%d %H:%M:%S}Z 过旧", raw.device_code
        )
    if raw.measured_at > now + limits.max_ahead:
        raise MessageRejectedError(
            Rejection.FUTURE, f"读数时间 {raw.measured_at:%Y-%m-%d %H:%M:%S}Z 晚于当前时间", raw.device_code
        )
    out: list[float | None] = []
    for f in kind.fields:
        value = raw.values.get(f.name)
        if value is None:
            if f.required:
                raise MessageRejectedError(Rejection.MISSING_FIELD, f"缺少读数“{f.label}”（{f.name}）", raw.device_code)
            out.append(None)
            continue
        number = math.nan if isinstance(value, bool) or not isinstance(value, int | float) else _float(value)
        if math.isnan(number):
            raise MessageRejectedError(
                Rejection.MALFORMED, f"读数“{f.label}”应为数值：{_shown(value)}", raw.device_code
            )
        if not f.low <= number <= f.high:
            raise MessageRejectedError(
                Rejection.OUT_OF_RANGE, f"{f.label} {_shown(number)}{f.unit} 超出量程 {f.low}–{f.high}", raw.device_code
            )
        out.append(number)
    return tuple(out)


def _float(value: float) -> float:
    """As a float; an integer too large for one is infinite (and so out of any range)."""
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


@dataclass(frozen=True, slots=True)
class Reading:
    device_id: int
    measured_at: datetime
    values: tuple[float | None, ...]
    alarm: bool

    def evidence(self, kind: DeviceKind) -> dict[str, Any]:
        data: dict[str, Any] = {"at": self.measured_at.isoformat().replace("+00:00", "Z")}
        data.update({f.name: v for f, v in zip(kind.fields, self.values, strict=False) if v is not None})
        if self.alarm:
            data["alarm"] = True
        return data


# ----- rules ------------------------------------------------------------------------------------------
class RuleType(StrEnum):
    THRESHOLD = "threshold"  # 阈值持续
    ALARM = "alarm"  # 设备告警
    GEOFENCE = "geofence"  # 偏离路线
    HOURS = "hours"  # 非许可时段运行

    @property
    def label(self) -> str:
        return {"threshold": "阈值持续", "alarm": "设备告警", "geofence": "偏离核准路线", "hours": "非许可时段运行"}[
            self.value
        ]


OPERATORS = (">", ">=", "<", "<=")
MOVING_KMH = 5.0  # a truck slower than this is parked, not running


@dataclass(frozen=True, slots=True)
class Rule:
    """When a kind's readings become an alarm, and which case class the alarm opens.

    ``duration_minutes``: how long the condition must hold before a case opens (0: at once).
    ``clear_minutes``: how long it must stay clear before the alarm counts as recovered; an alarm that
    returns within that time continues the same episode (flap damping) instead of opening a new case.
    ``use_component_class``: a device bound to a component reports under the component's own class.
    """

    id: str
    kind: str
    type: RuleType
    class_kind: ClassKind
    class_code: str
    label: str
    field: str | None = None
    op: str = ">"
    threshold: float | None = None
    duration_minutes: int = 0
    clear_minutes: int = 30
    urgent: bool = False
    use_component_class: bool = False
    enabled: bool = True

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[a-z0-9_.\-]{1,32}", self.id):
            raise InvalidInputError("sensing.bad_rule_id", f"规则编号“{self.id}”应为 1–32 位小写字母、数字、点、横线")
        kind = kind_of(self.kind)
        if not re.fullmatch(r"[0-9]{5}", self.class_code):
            raise InvalidInputError(
                "sensing.bad_rule_class", f"规则 {self.id} 的类别代码“{self.class_code}”应为 5 位数字"
            )
        if self.duration_minutes < 0 or self.clear_minutes < 0:
            raise InvalidInputError("sensing.bad_rule_duration", f"规则 {self.id} 的持续时间不能为负")
        if not self.label.strip():
            raise InvalidInputError("sensing.bad_rule", f"规则 {self.id} 缺少名称")
        if self.type is RuleType.THRESHOLD:
            if self.field is None or self.threshold is None or self.op not in OPERATORS:
                raise InvalidInputError(
                    "sensing.bad_rule", f"阈值规则 {self.id} 须指定字段、比较符（{' '.join(OPERATORS)}）与阈值"
                )
            kind.index(self.field)
        if self.type in (RuleType.GEOFENCE, RuleType.HOURS) and not kind.mobile:
            raise InvalidInputError("sensing.bad_rule", f"路线与时段规则只适用于移动设备，“{kind.label}”不是")

    def breached(self, kind: DeviceKind, reading: Reading, permit: TruckPermit | None) -> bool | None:
        """Whether the reading breaches the rule; None when the rule cannot judge it (no value, no permit)."""
        if self.type is RuleType.ALARM:
            return reading.alarm
        if self.type is RuleType.THRESHOLD:
            assert self.field is not None and self.threshold is not None
            value = reading.values[kind.index(self.field)]
            if value is None:
                return None
            return _compare(value, self.op, self.threshold)
        if permit is None:
            return None
        lon, lat, speed = reading.values[0], reading.values[1], reading.values[2]
        assert lon is not None and lat is not None and speed is not None
        if self.type is RuleType.GEOFENCE:
            return permit.off_route_m(lon, lat) > 0
        return speed >= MOVING_KMH and not permit.allows_time(reading.measured_at)

    def describe(self, kind: DeviceKind) -> str:
        if self.type is RuleType.THRESHOLD:
            f = kind.fields[kind.index(self.field or "")]
            held = f"持续 {self.duration_minutes} 分钟" if self.duration_minutes else ""
            return f"{f.label} {self.op} {self.threshold:g}{f.unit}{held}"
        return self.type.label


def _compare(value: float, op: str, threshold: float) -> bool:
    if op == ">":
        return value > threshold
    if op == ">=":
        return value >= threshold
    if op == "<":
        return value < threshold
    return value <= threshold


# ----- episodes: one alarm of one device under one rule, from first breach to recovery ------------------
class Phase(StrEnum):
    PENDING = "pending"  # 条件成立，未满持续时间
    ACTIVE = "active"  # 已告警
    CLEARING = "clearing"  # 已恢复正常，观察中
    RECOVERED = "recovered"  # 已恢复

    @property
    def label(self) -> str:
        return {"pending": "待确认", "active": "告警中", "clearing": "恢复观察中", "recovered": "已恢复"}[self.value]


class Effect(StrEnum):
    RAISE = "raise"  # open (or rejoin) a case
    UPDATE = "update"
    RECOVER = "recover"
    DISCARD = "discard"  # a pending condition that cleared before its duration: nothing to keep


EVIDENCE_KEEP = 20


@dataclass(slots=True)
class Episode:
    device_id: int
    rule_id: str
    phase: Phase
    started_at: datetime
    last_at: datetime
    id: int | None = None
    raised_at: datetime | None = None
    clear_since: datetime | None = None
    recovered_at: datetime | None = None
    breaches: int = 0
    flaps: int = 0
    peak: float | None = None
    case_no: str | None = None
    trigger: list[dict[str, Any]] = field(default_factory=list)
    """Readings that raised the alarm (the first ones, up to EVIDENCE_KEEP)."""
    recent: list[dict[str, Any]] = field(default_factory=list)
    """The latest readings (up to EVIDENCE_KEEP), recovery readings included."""

    @property
    def open(self) -> bool:
        return self.phase is not Phase.RECOVERED

    def evidence(self) -> dict[str, Any]:
        return {"trigger": self.trigger, "recent": self.recent}

    def _note(self, item: dict[str, Any]) -> None:
        if self.phase is Phase.PENDING and len(self.trigger) < EVIDENCE_KEEP:
            self.trigger.append(item)
        self.recent.append(item)
        del self.recent[:-EVIDENCE_KEEP]


def step_episode(
    episode: Episode | None, rule: Rule, kind: DeviceKind, reading: Reading, breach: bool
) -> tuple[Episode | None, Effect | None]:
    """Advance one device's episode under one rule by one reading (in time order)."""
    at = reading.measured_at
    item = reading.evidence(kind)
    value = reading.values[kind.index(rule.field)] if rule.field else None
    if episode is None or not episode.open:
        if not breach:
            return None, None
        episode = Episode(reading.device_id, rule.id, Phase.PENDING, at, at)
    elif at <= episode.last_at:
        return episode, None  # a redelivered or late reading does not move the alarm
    episode.last_at = at
    if value is not None and breach:
        high = rule.op in (">", ">=")
        episode.peak = value if episode.peak is None else (max if high else min)(episode.peak, value)
    if breach:
        episode.breaches += 1
    phase = episode.phase
    if phase is Phase.PENDING:
        if not breach:
            return episode, Effect.DISCARD
        episode._note(item)
        if at - episode.started_at >= timedelta(minutes=rule.duration_minutes):
            episode.phase, episode.raised_at = Phase.ACTIVE, at
            return episode, Effect.RAISE
        return episode, Effect.UPDATE
    episode._note(item)
    if breach:
        if phase is Phase.CLEARING:
            episode.flaps += 1
            episode.phase, episode.clear_since = Phase.ACTIVE, None
        return episode, Effect.UPDATE
    if phase is Phase.ACTIVE:
        episode.phase, episode.clear_since = Phase.CLEARING, at
    assert episode.clear_since is not None
    if at - episode.clear_since >= timedelta(minutes=rule.clear_minutes):
        episode.phase, episode.recovered_at = Phase.RECOVERED, episode.clear_since
        return episode, Effect.RECOVER
    return episode, Effect.UPDATE


@dataclass(frozen=True, slots=True)
class Device:
    """A registered sensor: where it stands, what it watches, who owns it."""

    code: str
    kind: str
    name: str
    lon: float
    lat: float
    address: str
    district_code: str
    street_code: str
    community_code: str
    department_code: str
    grid_code: str | None = None
    area_class: str | None = None
    component_id: str | None = None
    permit: TruckPermit | None = None
    active: bool = True
    id: int | None = field(default=None, compare=False)
    last_reading_at: datetime | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        validate_device_code(self.code)
        kind = kind_of(self.kind)
        if not self.name.strip():
            raise InvalidInputError("sensing.no_name", f"设备 {self.code} 缺少名称", code=self.code)
        if not (
            math.isfinite(self.lon) and math.isfinite(self.lat) and -180 <= self.lon <= 180 and -90 <= self.lat <= 90
        ):
            raise InvalidInputError("sensing.bad_location", f"设备 {self.code} 的经纬度（{self.lon}, {self.lat}）无效")
        for code, n, what in (
            (self.district_code, 6, "区"),
            (self.street_code, 9, "街道"),
            (self.community_code, 12, "社区"),
        ):
            if not re.fullmatch(rf"[0-9]{{{n}}}", code):
                raise InvalidInputError("sensing.bad_region", f"设备 {self.code} 的{what}代码“{code}”应为 {n} 位数字")
        if self.component_id is not None and not re.fullmatch(r"[0-9]{17}", self.component_id):
            raise InvalidInputError("sensing.bad_component", f"部件标识码“{self.component_id}”应为 17 位数字")
        if self.permit is not None and not kind.mobile:
            raise InvalidInputError("sensing.bad_permit", f"只有移动设备可设准运许可，“{kind.label}”不是")

    @property
    def device_kind(self) -> DeviceKind:
        return KINDS[self.kind]
