"""Cameras, the vehicle registry, the SMS outbox and parking notices (SQLAlchemy Core)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, func, insert, select, update

from xiuhua.platform.db import tables as t
from xiuhua.platform.db.upsert import upsert
from xiuhua.video.domain.enforcement import NoticeState, ParkingNotice, SmsMessage, SmsState, Vehicle
from xiuhua.video.domain.model import Camera, Zone, ZoneKind


def _zone_json(z: Zone) -> dict[str, Any]:
    return {**asdict(z), "kind": z.kind.value, "polygon": [list(p) for p in z.polygon]}


def _camera(r: Row[Any]) -> Camera:
    zones = tuple(
        Zone(**{**z, "kind": ZoneKind(z["kind"]), "polygon": tuple(tuple(p) for p in z["polygon"])})
        for z in json.loads(r.zones)
    )
    return Camera(r.code, r.name, r.lon, r.lat, r.heading_deg, r.source, zones)


class VideoRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    # cameras
    def upsert_cameras(self, cameras: Sequence[Camera]) -> None:
        rows = [
            {
                "code": c.code,
                "name": c.name,
                "lon": c.lon,
                "lat": c.lat,
                "heading_deg": c.heading_deg,
                "source": c.source,
                "zones": json.dumps([_zone_json(z) for z in c.zones], ensure_ascii=False),
            }
            for c in cameras
        ]
        upsert(self.conn, t.cameras, rows, ["code"])

    def cameras(self) -> list[Camera]:
        return [_camera(r) for r in self.conn.execute(select(t.cameras).order_by(t.cameras.c.code))]

    def camera(self, code: str) -> Camera | None:
        r = self.conn.execute(select(t.cameras).where(t.cameras.c.code == code)).first()
        return _camera(r) if r else None

    # vehicles
    def upsert_vehicles(self, vehicles: Sequence[Vehicle], now: datetime) -> None:
        upsert(self.conn, t.vehicles, [{**asdict(v), "updated_at": now} for v in vehicles], ["plate"])

    def vehicle(self, plate: str) -> Vehicle | None:
        r = self.conn.execute(select(t.vehicles).where(t.vehicles.c.plate == plate)).first()
        return Vehicle(r.plate, r.owner_name, r.phone_enc, r.phone_digest, r.phone_masked) if r else None

    def count_vehicles(self) -> int:
        return int(self.conn.scalar(select(func.count()).select_from(t.vehicles)) or 0)

    # SMS outbox
    def add_sms(self, m: SmsMessage) -> int:
        row = {k: v for k, v in asdict(m).items() if k != "id"}
        row["state"] = m.state.value
        new_id = self.conn.execute(insert(t.sms_messages).values(row).returning(t.sms_messages.c.id)).scalar_one()
        m.id = int(new_id)
        return m.id

    def sms_by_key(self, dedup_key: str) -> SmsMessage | None:
        r = self.conn.execute(select(t.sms_messages).where(t.sms_messages.c.dedup_key == dedup_key)).first()
        return self._sms(r) if r else None

    def sms(self, sms_id: int) -> SmsMessage | None:
        r = self.conn.execute(select(t.sms_messages).where(t.sms_messages.c.id == sms_id)).first()
        return self._sms(r) if r else None

    def sms_by_provider_id(self, provider_id: str) -> SmsMessage | None:
        r = self.conn.execute(select(t.sms_messages).where(t.sms_messages.c.provider_id == provider_id)).first()
        return self._sms(r) if r else None

    def due_sms(self, now: datetime, limit: int) -> list[SmsMessage]:
        c = t.sms_messages.c
        stmt = (
            select(t.sms_messages)
            .where(c.state == SmsState.QUEUED.value, c.next_attempt_at <= now)
            .order_by(c.next_attempt_at, c.id)
            .limit(limit)
        )
        return [self._sms(r) for r in self.conn.execute(stmt)]

    def outbox(self, state: SmsState | None = None, limit: int = 100) -> list[SmsMessage]:
        stmt = select(t.sms_messages).order_by(t.sms_messages.c.id.desc()).limit(limit)
        if state is not None:
            stmt = stmt.where(t.sms_messages.c.state == state.value)
        return [self._sms(r) for r in self.conn.execute(stmt)]

    def sent_since(self, phone_digest: str | None, since: datetime) -> int:
        """Texts handed to the gateway since `since`, to one number or to all."""
        c = t.sms_messages.c
        stmt = select(func.count()).select_from(t.sms_messages).where(c.sent_at >= since)
        if phone_digest is not None:
            stmt = stmt.where(c.phone_digest == phone_digest)
        return int(self.conn.scalar(stmt) or 0)

    def save_sms(self, m: SmsMessage) -> None:
        assert m.id is not None
        row = {k: v for k, v in asdict(m).items() if k not in ("id", "dedup_key")}
        row["state"] = m.state.value
        self.conn.execute(update(t.sms_messages).where(t.sms_messages.c.id == m.id).values(row))

    @staticmethod
    def _sms(r: Row[Any]) -> SmsMessage:
        d = dict(r._mapping)
        d["state"] = SmsState(d["state"])
        return SmsMessage(**d)

    # parking notices
    def add_notice(self, n: ParkingNotice) -> int:
        row = self._notice_row(n)
        n.id = int(
            self.conn.execute(insert(t.parking_notices).values(row).returning(t.parking_notices.c.id)).scalar_one()
        )
        return n.id

    def notice(self, notice_id: int) -> ParkingNotice | None:
        r = self.conn.execute(select(t.parking_notices).where(t.parking_notices.c.id == notice_id)).first()
        return self._notice(r) if r else None

    def notice_by_key(self, event_key: str) -> ParkingNotice | None:
        r = self.conn.execute(select(t.parking_notices).where(t.parking_notices.c.event_key == event_key)).first()
        return self._notice(r) if r else None

    def notices(self, state: NoticeState | None = None, camera_code: str | None = None) -> list[ParkingNotice]:
        c = t.parking_notices.c
        stmt = select(t.parking_notices).order_by(c.id)
        if state is not None:
            stmt = stmt.where(c.state == state.value)
        if camera_code is not None:
            stmt = stmt.where(c.camera_code == camera_code)
        return [self._notice(r) for r in self.conn.execute(stmt)]

    def recent_notices(self, camera_code: str, zone_code: str, since: datetime) -> list[ParkingNotice]:
        c = t.parking_notices.c
        stmt = (
            select(t.parking_notices)
            .where(c.camera_code == camera_code, c.zone_code == zone_code, c.captured_at >= since)
            .order_by(c.id)
        )
        return [self._notice(r) for r in self.conn.execute(stmt)]

    def due_rechecks(self, camera_code: str, now: datetime) -> list[ParkingNotice]:
        c = t.parking_notices.c
        stmt = (
            select(t.parking_notices)
            .where(c.camera_code == camera_code, c.state == NoticeState.NOTIFIED.value, c.recheck_at <= now)
            .order_by(c.recheck_at, c.id)
        )
        return [self._notice(r) for r in self.conn.execute(stmt)]

    def save_notice(self, n: ParkingNotice) -> None:
        assert n.id is not None
        row = self._notice_row(n)
        del row["event_key"]
        self.conn.execute(update(t.parking_notices).where(t.parking_notices.c.id == n.id).values(row))

    def count_notices(self) -> dict[str, int]:
        c = t.parking_notices.c
        return {s: n for s, n in self.conn.execute(select(c.state, func.count()).group_by(c.state))}

    @staticmethod
    def _notice_row(n: ParkingNotice) -> dict[str, Any]:
        row = {k: v for k, v in asdict(n).items() if k != "id"}
        row["state"] = n.state.value
        row["box"] = ",".join(str(v) for v in n.box)
        return row

    @staticmethod
    def _notice(r: Row[Any]) -> ParkingNotice:
        d = dict(r._mapping)
        d["state"] = NoticeState(d["state"])
        d["box"] = tuple(int(v) for v in d["box"].split(","))
        return ParkingNotice(**d)
