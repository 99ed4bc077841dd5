"""An in-memory video store, for service tests without a database: the same Protocol as the SQL repository
(video.ports.VideoStore), held in plain containers a unit of work can copy and restore; it passes the same
contract tests (tests/contract/test_video.py).

It keeps what the tables promise: one text per dedup key and one notice per event key (a second is refused
with the IntegrityError the unique index raises), a notice names a registered camera and a stored text (the
foreign keys), ids run up from 1, times are kept and read back as aware UTC (a naive one is refused), and what
comes back is a copy: changing it changes nothing until it is saved. A save keeps the stored key, as the SQL
update does, and a save of an id not stored changes nothing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from sqlalchemy.exc import IntegrityError

from xiuhua.platform.db.types import as_stored, as_stored_or_none
from xiuhua.video.domain.enforcement import NoticeState, ParkingNotice, SmsMessage, SmsState, Vehicle
from xiuhua.video.domain.model import Camera


def _refused(statement: str, detail: str) -> IntegrityError:
    return IntegrityError(statement, None, ValueError(detail))


class FakeVideoStore:
    def __init__(self) -> None:
        self.camera_rows: dict[str, Camera] = {}
        self.vehicle_rows: dict[str, tuple[Vehicle, datetime]] = {}
        """Plate → the owner on record and when the row was last written."""
        self.sms_rows: dict[int, SmsMessage] = {}
        self.notice_rows: dict[int, ParkingNotice] = {}

    # cameras
    def upsert_cameras(self, cameras: Sequence[Camera]) -> None:
        for c in cameras:  # zones are stored as JSON: polygons come back as tuples of points
            zones = tuple(replace(z, polygon=tuple((p[0], p[1]) for p in z.polygon)) for z in c.zones)
            self.camera_rows[c.code] = replace(c, zones=zones)

    def cameras(self) -> list[Camera]:
        return [self.camera_rows[code] for code in sorted(self.camera_rows)]

    def camera(self, code: str) -> Camera | None:
        return self.camera_rows.get(code)

    # vehicles
    def upsert_vehicles(self, vehicles: Sequence[Vehicle], now: datetime) -> None:
        at = as_stored(now)
        for v in vehicles:
            self.vehicle_rows[v.plate] = (v, at)

    def vehicle(self, plate: str) -> Vehicle | None:
        row = self.vehicle_rows.get(plate)
        return row[0] if row else None

    def count_vehicles(self) -> int:
        return len(self.vehicle_rows)

    # SMS outbox
    def add_sms(self, m: SmsMessage) -> int:
        if any(s.dedup_key == m.dedup_key for s in self.sms_rows.values()):
            raise _refused(
                "INSERT INTO sms_messages", f"UNIQUE constraint failed: sms_messages.dedup_key {m.dedup_key}"
            )
        stored = self._stored_sms(m)
        m.id = stored.id = max(self.sms_rows, default=0) + 1
        self.sms_rows[m.id] = stored
        return m.id

    def sms_by_key(self, dedup_key: str) -> SmsMessage | None:
        return next((replace(s) for s in self.sms_rows.values() if s.dedup_key == dedup_key), None)

    def sms(self, sms_id: int) -> SmsMessage | None:
        stored = self.sms_rows.get(sms_id)
        return replace(stored) if stored else None

    def sms_by_provider_id(self, provider_id: str) -> SmsMessage | None:
        return next((replace(s) for s in self.sms_rows.values() if s.provider_id == provider_id), None)

    def due_sms(self, now: datetime, limit: int) -> list[SmsMessage]:
        due = [
            s
            for s in self.sms_rows.values()
            if s.state is SmsState.QUEUED and s.next_attempt_at is not None and s.next_attempt_at <= now
        ]
        due.sort(key=lambda s: (s.next_attempt_at, s.id))
        return [replace(s) for s in due[: max(limit, 0)]]

    def outbox(self, state: SmsState | None = None, limit: int = 100) -> list[SmsMessage]:
        found = [s for i, s in sorted(self.sms_rows.items(), reverse=True) if state is None or s.state is state]
        return [replace(s) for s in found[: max(limit, 0)]]

    def sent_since(self, phone_digest: str | None, since: datetime) -> int:
        """Texts handed to the gateway since `since`, to one number or to all."""
        return sum(
            1
            for s in self.sms_rows.values()
            if s.sent_at is not None and s.sent_at >= since and (phone_digest is None or s.phone_digest == phone_digest)
        )

    def save_sms(self, m: SmsMessage) -> None:
        assert m.id is not None
        stored = self.sms_rows.get(m.id)
        if stored is None:
            return
        self.sms_rows[m.id] = replace(self._stored_sms(m), dedup_key=stored.dedup_key)

    @staticmethod
    def _stored_sms(m: SmsMessage) -> SmsMessage:
        return replace(
            m,
            state=SmsState(m.state),
            next_attempt_at=as_stored_or_none(m.next_attempt_at),
            created_at=as_stored(m.created_at),
            sent_at=as_stored_or_none(m.sent_at),
            receipt_at=as_stored_or_none(m.receipt_at),
        )

    # parking notices
    def add_notice(self, n: ParkingNotice) -> int:
        if any(s.event_key == n.event_key for s in self.notice_rows.values()):
            raise _refused(
                "INSERT INTO parking_notices", f"UNIQUE constraint failed: parking_notices.event_key {n.event_key}"
            )
        stored = self._stored_notice(n, "INSERT INTO parking_notices")
        n.id = stored.id = max(self.notice_rows, default=0) + 1
        self.notice_rows[n.id] = stored
        return n.id

    def notice(self, notice_id: int) -> ParkingNotice | None:
        stored = self.notice_rows.get(notice_id)
        return replace(stored) if stored else None

    def notice_by_key(self, event_key: str) -> ParkingNotice | None:
        return next((replace(n) for n in self.notice_rows.values() if n.event_key == event_key), None)

    def notices(self, state: NoticeState | None = None, camera_code: str | None = None) -> list[ParkingNotice]:
        return [
            replace(n)
            for _, n in sorted(self.notice_rows.items())
            if (state is None or n.state is state) and (camera_code is None or n.camera_code == camera_code)
        ]

    def recent_notices(self, camera_code: str, zone_code: str, since: datetime) -> list[ParkingNotice]:
        return [
            replace(n)
            for _, n in sorted(self.notice_rows.items())
            if n.camera_code == camera_code and n.zone_code == zone_code and n.captured_at >= since
        ]

    def due_rechecks(self, camera_code: str, now: datetime) -> list[ParkingNotice]:
        due = [
            n
            for n in self.notice_rows.values()
            if n.camera_code == camera_code
            and n.state is NoticeState.NOTIFIED
            and n.recheck_at is not None
            and n.recheck_at <= now
        ]
        due.sort(key=lambda n: (n.recheck_at, n.id))
        return [replace(n) for n in due]

    def save_notice(self, n: ParkingNotice) -> None:
        assert n.id is not None
        stored = self.notice_rows.get(n.id)
        if stored is None:
            return
        self.notice_rows[n.id] = replace(self._stored_notice(n, "UPDATE parking_notices"), event_key=stored.event_key)

    def count_notices(self) -> dict[str, int]:
        return dict(Counter(n.state.value for n in self.notice_rows.values()))

    def _stored_notice(self, n: ParkingNotice, statement: str) -> ParkingNotice:
        """A copy as the table keeps it; raises IntegrityError for an unknown camera or text (the foreign keys)."""
        if n.camera_code not in self.camera_rows:
            raise _refused(statement, f"FOREIGN KEY constraint failed: camera {n.camera_code}")
        if n.sms_id is not None and n.sms_id not in self.sms_rows:
            raise _refused(statement, f"FOREIGN KEY constraint failed: sms {n.sms_id}")
        return replace(
            n,
            state=NoticeState(n.state),
            box=(int(n.box[0]), int(n.box[1]), int(n.box[2]), int(n.box[3])),
            captured_at=as_stored(n.captured_at),
            recheck_at=as_stored_or_none(n.recheck_at),
            closed_at=as_stored_or_none(n.closed_at),
        )
