"""Use cases of IoT sensing: register devices, edit rules, and ingest a batch of messages in one
transaction (validate → dead-letter or store → evaluate rules → alarm episodes), then open or rejoin the
cases that the alarms call for (物联感知, the system as reporter, idempotent by alarm)."""

from __future__ import annotations

import codecs
import hashlib
import json
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from xiuhua.cases.domain.case import Urgency
from xiuhua.cases.domain.commands import ReportCase, Reported
from xiuhua.cases.domain.workflow import Source
from xiuhua.geo.domain.geography import Location, Place
from xiuhua.kernel.actor import SYSTEM_ACTOR
from xiuhua.kernel.bus import Handle
from xiuhua.kernel.errors import DomainError, InvalidInputError, NotFoundError
from xiuhua.kernel.ports import Clock
from xiuhua.org.domain.model import ClassKind
from xiuhua.platform.importing import ImportReport, check_columns, parse_rows, settle
from xiuhua.platform.tabular import Row
from xiuhua.sensing.domain.model import (
    CHINA,
    KINDS,
    Device,
    Effect,
    Episode,
    Limits,
    MessageRejectedError,
    Phase,
    Reading,
    Rejection,
    Rule,
    RuleType,
    TruckPermit,
    check_reading,
    decode_message,
    kind_of,
    step_episode,
)
from xiuhua.sensing.ports import SensingUnitOfWork

Locate = Callable[[float, float], Place]
"""Where a point lies (grid, community, street, district); raises InvalidInputError outside the city."""

PAYLOAD_KEEP = 2000


# ----- rules ------------------------------------------------------------------------------------------
def _flag(text: str, default: bool) -> bool:
    word = text.strip().lower()
    if not word:
        return default
    if word in ("1", "true", "yes", "是", "y"):
        return True
    if word in ("0", "false", "no", "否", "n"):
        return False
    raise InvalidInputError("sensing.bad_flag", f"“{text}”应为 1/0、是/否")


def _number(text: str, what: str) -> float | None:
    if not text.strip():
        return None
    try:
        return float(text)
    except ValueError:
        raise InvalidInputError("sensing.bad_number", f"{what}“{text}”不是数值") from None


def _minutes(text: str, what: str, default: int) -> int:
    value = _number(text, what)
    return default if value is None else int(value)


def parse_rule(row: Row) -> Rule:
    """A rule from a table row (columns as in data/sensing/rules_default.csv)."""
    try:
        rule_type = RuleType(row.get("type"))
    except ValueError:
        allowed = "、".join(f"{t.value}（{t.label}）" for t in RuleType)
        raise InvalidInputError("sensing.bad_rule_type", f"规则类型“{row.get('type')}”无效，可用：{allowed}") from None
    return Rule(
        id=row.get("id"),
        kind=row.get("kind"),
        type=rule_type,
        class_kind=ClassKind.parse(row.get("class_kind")),
        class_code=row.get("class_code"),
        label=row.get("label"),
        field=row.get("field") or None,
        op=row.get("op") or ">",
        threshold=_number(row.get("threshold"), "阈值"),
        duration_minutes=_minutes(row.get("duration_minutes"), "持续分钟", 0),
        clear_minutes=_minutes(row.get("clear_minutes"), "恢复观察分钟", 30),
        urgent=_flag(row.get("urgent"), False),
        use_component_class=_flag(row.get("use_component_class"), False),
        enabled=_flag(row.get("enabled"), True),
    )


def seed_sensing(rules: Sequence[Row], mappings: Sequence[Row], uow: SensingUnitOfWork, clock: Clock) -> None:
    """Add the product's default rules and feed mappings that are missing (a city's edits are kept)."""
    parsed = [parse_rule(r) for r in rules]
    rows = [
        {
            "source": m.get("source"),
            "event_type": m.get("event_type"),
            "class_kind": ClassKind.parse(m.get("class_kind")).value,
            "class_code": m.get("class_code"),
            "urgent": _flag(m.get("urgent"), False),
        }
        for m in mappings
    ]
    with uow:
        uow.sensing.add_missing_rules(parsed, clock.now())
        uow.sensing.upsert_feed_mappings(rows, only_missing=True)
        uow.commit()


def list_rules(uow: SensingUnitOfWork) -> list[Rule]:
    with uow:
        return uow.sensing.rules()


def _check_rule_class(uow: SensingUnitOfWork, rule: Rule) -> None:
    if not uow.catalog.has_class(rule.class_kind, rule.class_code):
        raise InvalidInputError(
            "sensing.unknown_class",
            f"规则 {rule.id} 的{rule.class_kind.label}类别“{rule.class_code}”不在标准目录中",
            code=rule.class_code,
        )


def set_rules(rows: Sequence[Row], uow: SensingUnitOfWork, clock: Clock, *, skip_invalid: bool = False) -> ImportReport:
    """Add or replace rules from a table; takes effect at the next batch of messages, without a restart."""
    check_columns(rows, "id", "kind", "type", "class_kind", "class_code", "label")
    with uow:

        def parse(row: Row) -> Rule:
            rule = parse_rule(row)
            _check_rule_class(uow, rule)
            return rule

        parsed, errors = parse_rows(rows, parse)
        skipped = settle(errors, skip_invalid)
        uow.sensing.upsert_rules([r for _, r in parsed], clock.now())
        uow.commit()
    return ImportReport(len(parsed), skipped)


@dataclass(frozen=True, slots=True)
class ChangeRule:
    rule_id: str
    threshold: float | None = None
    duration_minutes: int | None = None
    clear_minutes: int | None = None
    enabled: bool | None = None


def change_rule(cmd: ChangeRule, uow: SensingUnitOfWork, clock: Clock) -> Rule:
    """Change one rule's figures; raises NotFoundError ``sensing.unknown_rule``."""
    with uow:
        rule = next((r for r in uow.sensing.rules() if r.id == cmd.rule_id), None)
        if rule is None:
            raise NotFoundError("sensing.unknown_rule", f"规则 {cmd.rule_id} 不存在", rule=cmd.rule_id)
        if cmd.threshold is not None and rule.type is not RuleType.THRESHOLD:
            raise InvalidInputError("sensing.bad_rule", f"规则 {rule.id} 不是阈值规则，不能设阈值")
        changed = replace(
            rule,
            threshold=rule.threshold if cmd.threshold is None else cmd.threshold,
            duration_minutes=rule.duration_minutes if cmd.duration_minutes is None else cmd.duration_minutes,
            clear_minutes=rule.clear_minutes if cmd.clear_minutes is None else cmd.clear_minutes,
            enabled=rule.enabled if cmd.enabled is None else cmd.enabled,
        )
        uow.sensing.upsert_rules([changed], clock.now())
        uow.commit()
    return changed


# ----- devices ----------------------------------------------------------------------------------------
DEVICE_COLUMNS = (
    "code", "kind", "name", "lon", "lat", "address", "district_code", "street_code", "community_code",
    "grid_code", "area_class", "component_id", "department_code", "permit", "active",
)  # fmt: skip


def import_devices(
    rows: Sequence[Row],
    uow: SensingUnitOfWork,
    clock: Clock,
    locate: Locate | None = None,
    *,
    skip_invalid: bool = False,
) -> ImportReport:
    """Register or update devices from a table. Region codes left empty come from the bound component, or
    from ``locate``; an empty department is the component's department. All rows or none (unless skipping)."""
    check_columns(rows, "code", "kind", "name", "lon", "lat")
    component_ids = sorted({r.get("component_id") for r in rows if r.get("component_id")})
    with uow:
        components = uow.components.get_many(component_ids)
        departments = {
            code for code in {r.get("department_code") for r in rows} if code and uow.organizations.kind_of(code)
        }

        def parse(row: Row) -> Device:
            component = None
            if cid := row.get("component_id"):
                component = components.get(cid)
                if component is None:
                    raise NotFoundError("sensing.unknown_component", f"部件 {cid} 未登记", component=cid)
            lon, lat = _number(row.get("lon"), "经度"), _number(row.get("lat"), "纬度")
            if lon is None or lat is None:
                raise InvalidInputError("sensing.bad_location", "缺少经纬度")
            district, street, community = row.get("district_code"), row.get("street_code"), row.get("community_code")
            grid, area = row.get("grid_code") or None, row.get("area_class") or None
            if not community and component is not None and component.community_code:
                community = component.community_code
                grid = grid or component.grid_code
            if not community and locate is not None:
                place = locate(lon, lat)
                community = place.community_code or ""
                grid, area = grid or place.grid_code, area or place.area_class
            street = street or community[:9]
            district = district or street[:6]
            department = row.get("department_code") or (component.department_code if component else "")
            if not department:
                raise InvalidInputError("sensing.no_department", "缺少权属部门（统一社会信用代码）")
            if department not in departments and (component is None or department != component.department_code):
                raise NotFoundError("sensing.unknown_department", f"部门 {department} 未登记", department=department)
            kind = kind_of(row.get("kind"))
            return Device(
                code=row.get("code"),
                kind=kind.code,
                name=row.get("name"),
                lon=lon,
                lat=lat,
                address=row.get("address") or row.get("name"),
                district_code=district,
                street_code=street,
                community_code=community,
                department_code=department,
                grid_code=grid,
                area_class=area,
                component_id=component.id if component else None,
                permit=TruckPermit.parse(row.get("permit")),
                active=_flag(row.get("active"), True),
            )

        parsed, errors = parse_rows(rows, parse)
        skipped = settle(errors, skip_invalid)
        uow.sensing.upsert_devices([d for _, d in parsed], clock.now())
        uow.commit()
    return ImportReport(len(parsed), skipped)


def device_row(d: Device) -> tuple[str, ...]:
    """A device as a row of DEVICE_COLUMNS (for export)."""
    values: tuple[object, ...] = (
        d.code, d.kind, d.name, d.lon, d.lat, d.address, d.district_code, d.street_code, d.community_code,
        d.grid_code, d.area_class, d.component_id, d.department_code, d.permit.to_json() if d.permit else None,
        1 if d.active else 0,
    )  # fmt: skip
    return tuple("" if v is None else str(v) for v in values)


def list_devices(uow: SensingUnitOfWork, kind: str | None = None, limit: int | None = None) -> list[Device]:
    if kind:
        kind_of(kind)
    with uow:
        return uow.sensing.devices(kind, limit)


@dataclass(frozen=True, slots=True)
class DeviceDetail:
    device: Device
    readings: list[Reading]
    episodes: list[Episode]


def show_device(uow: SensingUnitOfWork, code: str, readings: int = 20) -> DeviceDetail:
    """A device with its latest readings and alarms; raises NotFoundError ``sensing.unknown_device``."""
    with uow:
        device = uow.sensing.devices_by_code([code]).get(code)
        if device is None or device.id is None:
            raise NotFoundError("sensing.unknown_device", f"设备 {code} 未登记", device=code)
        return DeviceDetail(device, uow.sensing.readings(device.id, readings), uow.sensing.episodes(device.id, 20))


def device_layer(uow: SensingUnitOfWork, now: datetime, offline_after_minutes: int = 60) -> dict[str, Any]:
    """The devices as a GeoJSON FeatureCollection for the map: kind, owner, and a status of 告警 (an open
    alarm), 离线 (silent for ``offline_after_minutes``), 正常 or 停用."""
    with uow:
        devices = uow.sensing.devices()
        episodes = uow.sensing.open_episodes([d.id for d in devices if d.id is not None])
        alarming = {e.device_id for e in episodes if e.phase in (Phase.ACTIVE, Phase.CLEARING)}
    features = []
    for d in devices:
        if not d.active:
            status = "停用"
        elif d.id in alarming:
            status = "告警"
        elif d.last_reading_at is None or (now - d.last_reading_at).total_seconds() > offline_after_minutes * 60:
            status = "离线"
        else:
            status = "正常"
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [d.lon, d.lat]},
                "properties": {
                    "code": d.code,
                    "kind": d.kind,
                    "kind_label": KINDS[d.kind].label,
                    "name": d.name,
                    "component_id": d.component_id,
                    "department_code": d.department_code,
                    "status": status,
                    "last_reading_at": d.last_reading_at.isoformat() if d.last_reading_at else None,
                },
            }
        )
    return {"type": "FeatureCollection", "features": features}


# ----- ingest -----------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Message:
    """One message as it came off the wire."""

    topic: str
    payload: bytes


@dataclass(frozen=True, slots=True)
class OpenedCase:
    case_no: str
    device_code: str
    rule_id: str
    measured_at: datetime
    created: bool
    """False when the alarm rejoined the device's case that is still open."""


@dataclass
class IngestReport:
    received: int = 0
    stored: int = 0
    evaluated: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    cases: list[OpenedCase] = field(default_factory=list)
    updated: int = 0
    recovered: int = 0
    case_errors: list[str] = field(default_factory=list)

    def add(self, other: IngestReport) -> None:
        """Count another batch's report into this one."""
        self.received += other.received
        self.stored += other.stored
        self.evaluated += other.evaluated
        self.rejected.update(other.rejected)
        self.cases += other.cases
        self.updated += other.updated
        self.recovered += other.recovered
        self.case_errors += other.case_errors


def _storable(text: str, limit: int) -> str:
    """Text that every database takes: no NUL (PostgreSQL refuses it), no lone surrogate (not UTF-8)."""
    return text[:limit].encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\x00")


def _kept_payload(payload: bytes) -> str:
    """The head of a payload as text, or as ``hex:`` when it is not UTF-8 text (or holds a NUL)."""
    head = payload[: PAYLOAD_KEEP * 4]
    try:  # an incremental decoder takes a character cut at the end of the head
        text = codecs.getincrementaldecoder("utf-8")().decode(head, final=len(head) == len(payload))
    except UnicodeDecodeError:
        text = None
    if text is None or "\x00" in text:
        return "hex:" + payload[: (PAYLOAD_KEEP - 4) // 2].hex()
    return text[:PAYLOAD_KEEP]


def _dead_letter(msg: Message, now: datetime, reason: Rejection, text: str, device: str | None) -> dict[str, Any]:
    return {
        "received_at": now,
        "topic": _storable(msg.topic, 256),
        "device_code": _storable(device, 64) if device else None,
        "reason": reason.value,
        "message": _storable(text, 1000),
        "payload": _kept_payload(msg.payload),
    }


def ingest_messages(
    messages: Sequence[Message],
    uow: SensingUnitOfWork,
    clock: Clock,
    handle: Handle,
    locate: Locate | None = None,
    limits: Limits | None = None,
) -> IngestReport:
    """Ingest a batch in one transaction: bad messages are dead-lettered with their reason (never raised),
    readings stored (a redelivered one once), rules evaluated in time order per device; then the cases the
    new alarms call for are opened (or rejoined), each idempotent by its alarm."""
    now = clock.now()
    report = IngestReport(received=len(messages))
    decoded: list[tuple[Message, Any]] = []
    dead: list[dict[str, Any]] = []
    for msg in messages:
        try:
            decoded.append((msg, decode_message(msg.payload, msg.topic, limits)))
        except MessageRejectedError as exc:
            dead.append(_dead_letter(msg, now, exc.reason, exc.message, exc.device_code))
    to_raise: list[Episode] = []
    with uow:
        devices = uow.sensing.devices_by_code({raw.device_code for _, raw in decoded})
        readings: dict[tuple[int, datetime], Reading] = {}
        for msg, raw in decoded:
            device = devices.get(raw.device_code)
            try:
                if device is None or device.id is None:
                    raise MessageRejectedError(
                        Rejection.UNKNOWN_DEVICE, f"设备 {raw.device_code} 未登记", raw.device_code
                    )
                if not device.active:
                    raise MessageRejectedError(
                        Rejection.INACTIVE_DEVICE, f"设备 {raw.device_code} 已停用", raw.device_code
                    )
                values = check_reading(device.device_kind, raw, now, limits)
            except MessageRejectedError as exc:
                dead.append(_dead_letter(msg, now, exc.reason, exc.message, exc.device_code))
                continue
            readings.setdefault((device.id, raw.measured_at), Reading(device.id, raw.measured_at, values, raw.alarm))
        for row in dead:
            report.rejected[row["reason"]] += 1
        uow.sensing.add_dead_letters(dead)
        batch = sorted(readings.values(), key=lambda r: (r.device_id, r.measured_at))
        uow.sensing.add_readings(batch)
        report.stored = len(batch)
        by_id = {d.id: d for d in devices.values()}
        fresh = [r for r in batch if (seen := by_id[r.device_id].last_reading_at) is None or r.measured_at > seen]
        report.evaluated = len(fresh)
        to_raise = _evaluate(uow, fresh, by_id, report)
        uow.sensing.touch_devices({r.device_id: r.measured_at for r in fresh})
        uow.commit()
    with uow:
        waiting = uow.sensing.episodes_awaiting_case()
    raised_ids = {e.id for e in to_raise}
    for episode in to_raise + [e for e in waiting if e.id not in raised_ids]:
        try:
            report.cases.append(_open_case(episode, uow, clock, handle, locate))
        except DomainError as exc:  # the alarm stays raised without a case; the next batch tries again
            report.case_errors.append(f"[{exc.code}] {exc.message}")
        except Exception as exc:  # likewise: the readings are committed, and raising would fail every batch after
            report.case_errors.append(f"[{type(exc).__name__}] 告警 {episode.id} 立案出错：{exc}")
    return report


Ingest = Callable[[Sequence[Message]], IngestReport]
"""Ingests one batch in its own transaction (``ingest_messages`` with its collaborators bound)."""


def ingest_isolating(messages: Sequence[Message], ingest: Ingest, uow: SensingUnitOfWork, clock: Clock) -> IngestReport:
    """Ingest a batch; when it fails, each message alone, and dead-letter (FAILED, with the error) a message
    that fails alone twice, so that no message holds back the others. Raises the batch's error when that dead
    letter cannot be written either (the database is down: the caller retries the batch later)."""
    try:
        return ingest(messages)
    except Exception as exc:
        if not messages:
            raise
        batch_error = exc
    report = IngestReport()
    for msg in messages:
        error: Exception = batch_error
        for _attempt in range(2):
            try:
                report.add(ingest([msg]))
                break
            except Exception as exc:
                error = exc
        else:
            text = f"无法接入：{type(error).__name__}: {error}"
            try:
                with uow:
                    uow.sensing.add_dead_letters([_dead_letter(msg, clock.now(), Rejection.FAILED, text, None)])
                    uow.commit()
            except Exception:
                raise batch_error from None
            report.received += 1
            report.rejected[Rejection.FAILED.value] += 1
    return report


def _evaluate(
    uow: SensingUnitOfWork, fresh: list[Reading], devices: dict[int | None, Device], report: IngestReport
) -> list[Episode]:
    """Step every open episode through the fresh readings; write what changed; return the newly raised."""
    if not fresh:
        return []
    rules_by_kind: dict[str, list[Rule]] = {}
    for rule in uow.sensing.rules():  # read each batch: an edited rule applies without a restart
        if rule.enabled:
            rules_by_kind.setdefault(rule.kind, []).append(rule)
    episodes = {(e.device_id, e.rule_id): e for e in uow.sensing.open_episodes({r.device_id for r in fresh})}
    changed: dict[tuple[int, str], Episode] = {}
    discarded: list[int] = []
    raised: list[tuple[int, str]] = []
    for reading in fresh:
        device = devices[reading.device_id]
        kind = device.device_kind
        for rule in rules_by_kind.get(device.kind, ()):
            breach = rule.breached(kind, reading, device.permit)
            if breach is None:
                continue
            key = (reading.device_id, rule.id)
            episode, effect = step_episode(episodes.get(key), rule, kind, reading, breach)
            if effect is None or episode is None:
                continue
            if effect is Effect.DISCARD:
                del episodes[key]
                changed.pop(key, None)
                if episode.id is not None:
                    discarded.append(episode.id)
                continue
            episodes[key] = changed[key] = episode
            if effect is Effect.RAISE:
                raised.append(key)
            elif effect is Effect.RECOVER:
                report.recovered += 1
                del episodes[key]  # a later breach starts a new episode
            else:
                report.updated += 1
    uow.sensing.delete_episodes(discarded)
    new = [e for e in changed.values() if e.id is None]
    for episode in new:
        uow.sensing.add_episode(episode)
    uow.sensing.save_episodes([e for e in changed.values() if e not in new])
    return [changed[key] for key in dict.fromkeys(raised) if key in changed and changed[key].raised_at is not None]


def _open_case(
    episode: Episode, uow: SensingUnitOfWork, clock: Clock, handle: Handle, locate: Locate | None
) -> OpenedCase:
    """Open the alarm's case, or rejoin the device's still-open case under the same rule, and record it."""
    assert episode.id is not None and episode.raised_at is not None
    with uow:
        rule = next((r for r in uow.sensing.rules() if r.id == episode.rule_id), None)
        device = _device_by_id(uow, episode.device_id)
        existing = uow.sensing.open_case_of(episode.device_id, episode.rule_id)
        class_kind, class_code = (rule.class_kind, rule.class_code) if rule else (ClassKind.MATTER, "")
        if rule and rule.use_component_class and device.component_id:
            component_class = device.component_id[6:11]
            if uow.catalog.has_class(class_kind, component_class):
                class_code = component_class
    evidence = json.dumps(episode.evidence(), ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    digest = hashlib.sha256(evidence.encode("utf-8")).hexdigest()
    if rule is None:
        raise NotFoundError("sensing.unknown_rule", f"规则 {episode.rule_id} 已删除，告警无法立案")
    created = existing is None
    if existing is None:
        kind = device.device_kind
        location = _location(device, episode, locate)
        local = (episode.started_at + CHINA).strftime("%Y-%m-%d %H:%M")
        peak = f"，峰值 {episode.peak:g}" if episode.peak is not None else ""
        description = (
            f"{device.name}（{kind.label} {device.code}）{rule.label}：{rule.describe(kind)}{peak}，"
            f"{local} 起，告警 {episode.breaches} 次；读数证据 sha256:{digest[:16]}"
        )
        reported: Reported = handle(
            ReportCase(
                actor=SYSTEM_ACTOR,
                source=Source.SENSOR,
                kind=class_kind,
                class_code=class_code,
                location=location,
                description=description,
                urgency=Urgency.URGENT if rule.urgent else Urgency.NORMAL,
                reporter=f"物联感知 {device.code}",
                component_id=device.component_id,
                idempotency_key=f"sensing-alarm-{episode.id}",
            ),
            clock=clock,
        )
        case_no = reported.case_no
    else:
        case_no = existing
    with uow:
        uow.sensing.set_case(episode.id, case_no, digest)
        uow.commit()
    episode.case_no = case_no
    return OpenedCase(case_no, device.code, rule.id, episode.raised_at, created)


def _device_by_id(uow: SensingUnitOfWork, device_id: int) -> Device:
    device = uow.sensing.device_by_id(device_id)
    if device is None:
        raise NotFoundError("sensing.unknown_device", f"设备 {device_id} 不存在")
    return device


def _location(device: Device, episode: Episode, locate: Locate | None) -> Location:
    """Where the case lies: the device's own place; a mobile device's last position, located if possible."""
    if device.device_kind.mobile and episode.recent:
        last = episode.recent[-1]
        lon, lat = float(last.get("lon", device.lon)), float(last.get("lat", device.lat))
        if locate is not None:
            try:
                place = locate(lon, lat)
            except InvalidInputError:
                place = None
            if place is not None and place.street_code and place.community_code:
                return Location(
                    lon, lat, f"{device.name} 行驶位置", place.district_code, place.street_code,
                    place.community_code, place.grid_code, place.area_class,
                )  # fmt: skip
        return Location(
            lon, lat, f"{device.name} 行驶位置", device.district_code, device.street_code, device.community_code
        )
    return Location(
        device.lon, device.lat, device.address, device.district_code, device.street_code, device.community_code,
        device.grid_code, device.area_class,
    )  # fmt: skip


# ----- dead letters -----------------------------------------------------------------------------------
def list_dead_letters(
    uow: SensingUnitOfWork, reason: str | None = None, limit: int = 100
) -> tuple[list[Any], dict[str, int]]:
    """The latest dead letters (optionally of one reason) and the count of each reason."""
    if reason is not None and reason not in {r.value for r in Rejection}:
        allowed = "、".join(f"{r.value}（{r.label}）" for r in Rejection)
        raise InvalidInputError("sensing.bad_reason", f"未知的拒收原因“{reason}”，可用：{allowed}")
    with uow:
        return uow.sensing.dead_letters(reason, limit), uow.sensing.dead_letter_counts()


# ----- the demo city's devices ------------------------------------------------------------------------
_DEMO_BOUND = (("manhole", "MH", ("01001", "01002", "01003")), ("bin", "BIN", ("03005",)), ("lamp", "LAMP", ("01037",)))
_DEMO_NEAR = (
    ("dust", "DUST", "工地扬尘监测"),
    ("fume", "FUME", "餐饮油烟监测"),
    ("water_pressure", "WP", "供水压力监测"),
    ("gas_pressure", "GP", "燃气压力监测"),
    ("drainage", "DRAIN", "排水液位监测"),
)


def seed_demo_devices(uow: SensingUnitOfWork, clock: Clock, per_kind: int = 20) -> int:
    """Register the demo city's sensors: on registered manhole covers, bins and lamps, and near other
    components for the kinds without one; plus muck trucks with permits. Returns how many."""
    from xiuhua.geo.domain.components import ComponentFilter  # only the demo needs the register's filter

    devices: list[Device] = []
    with uow:
        anchors = []
        for kind, prefix, classes in _DEMO_BOUND:
            found = [
                c for code in classes for c in uow.components.find(ComponentFilter(class_code=code, limit=per_kind))
            ]
            for n, c in enumerate(found[:per_kind], start=1):
                if not c.community_code:
                    continue
                anchors.append(c)
                devices.append(
                    Device(
                        f"{prefix}-{n:04d}", kind, f"{c.name}传感器", c.lon, c.lat, c.name, c.community_code[:6],
                        c.community_code[:9], c.community_code, c.department_code, c.grid_code, None, c.id,
                    )
                )  # fmt: skip
        for i, (kind, prefix, label) in enumerate(_DEMO_NEAR):
            for n, c in enumerate(anchors[i::5][:per_kind], start=1):
                assert c.community_code is not None
                devices.append(
                    Device(
                        f"{prefix}-{n:04d}", kind, f"{label} {n}", c.lon + 0.0004, c.lat + 0.0003, f"{c.name}附近",
                        c.community_code[:6], c.community_code[:9], c.community_code, c.department_code, c.grid_code,
                    )
                )  # fmt: skip
        for n, c in enumerate(anchors[: max(1, per_kind // 4)], start=1):
            assert c.community_code is not None
            route = ((c.lon - 0.02, c.lat), (c.lon + 0.02, c.lat))
            devices.append(
                Device(
                    f"TRUCK-{n:04d}", "muck_truck", f"渣土车 {n}", c.lon, c.lat, "渣土运输车辆", c.community_code[:6],
                    c.community_code[:9], c.community_code, c.department_code,
                    permit=TruckPermit(route, 150.0, 22 * 60, 6 * 60),
                )
            )  # fmt: skip
        uow.sensing.upsert_devices(devices, clock.now())
        uow.commit()
    return len(devices)
