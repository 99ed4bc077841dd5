"""The video services' setting in the fakes: the small city's department, a camera over a sidewalk and a
market street, two owners on record, evidence kept in memory and the case commands sent through the bus."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from tests.fakes import FakeUnitOfWork
from tests.unit.services.conftest import HERE, WATER
from xiuhua.bootstrap import messagebus
from xiuhua.cases.services.policy import CasePolicy
from xiuhua.kernel.actor import Actor, Role
from xiuhua.kernel.clock import FakeClock
from xiuhua.kernel.errors import InvalidInputError
from xiuhua.kernel.events import Command
from xiuhua.kernel.evidence import StoredFile, sniff_image
from xiuhua.kernel.ports import Clock
from xiuhua.org.domain.calendar import TimeLimit
from xiuhua.org.domain.model import ClassKind, Organization, OrgKind, OrgLevel
from xiuhua.org.domain.standards import CaseClass, CaseStandard
from xiuhua.video.adapters.crypto import PhoneCipher
from xiuhua.video.domain.enforcement import Vehicle, mask_phone
from xiuhua.video.domain.model import Camera, Zone, ZoneKind
from xiuhua.video.services.enforcement import Deps, EnforcementPolicy

CIPHER = PhoneCipher("test-phone-key-0123456789abcdef")
DESK = Actor("video_desk", frozenset({Role.SYSTEM, Role.ACCEPTOR, Role.SUPERVISOR, Role.SHIFT_LEADER, Role.DISPATCHER}))
OWNER_PHONE = "13800000001"
OWNED = "豫B12345"  # on record, with OWNER_PHONE
OTHER_OWNED = "豫BD12345"  # on record, with another number
UNOWNED = "豫B99999"  # not on record
SQUARE = ((0.0, 0.0), (400.0, 0.0), (400.0, 400.0), (0.0, 400.0))
SIDEWALK = Zone(
    "Z1", ZoneKind.NO_PARKING, SQUARE, 5, WATER, HERE.lon, HERE.lat, "中山路人行道", "中山路 1 号",
    HERE.district_code, HERE.street_code, HERE.community_code, HERE.grid_code, HERE.area_class,
)  # fmt: skip
MARKET = Zone(
    "Z2", ZoneKind.NO_VENDING, SQUARE, 10, WATER, HERE.lon, HERE.lat, "马道街", "马道街口",
    HERE.district_code, HERE.street_code, HERE.community_code, HERE.grid_code, HERE.area_class,
)  # fmt: skip
ASIDE = ((500.0, 500.0), (600.0, 500.0), (600.0, 600.0))
NOWHERE = Zone("Z3", ZoneKind.NO_PARKING, ASIDE, 5, WATER, name="未配置区域")  # no district, street, community
CAMERA = Camera("CAM-1", "中山路口", HERE.lon, HERE.lat, 90.0, "rtsp://cam-1", (SIDEWALK, MARKET, NOWHERE))


class MemoryEvidence:
    """Evidence by the SHA-256 of its bytes, kept as given."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}

    def put(self, data: bytes) -> StoredFile:
        sha = hashlib.sha256(data).hexdigest()
        self.files.setdefault(sha, data)
        return StoredFile(sha, sniff_image(data), len(data))

    def get(self, sha256: str) -> bytes:
        if sha256 not in self.files:
            raise InvalidInputError("evidence.not_found", f"找不到文件 {sha256}")
        return self.files[sha256]


def jpeg(name: str) -> bytes:
    return b"\xff\xd8\xff" + name.encode()


@dataclass
class Recorder:
    """The bus's `handle`, keeping the commands it was sent."""

    handle: Any
    commands: list[Command] = field(default_factory=list)

    def __call__(self, command: Command, /, *, clock: Clock | None = None) -> Any:
        self.commands.append(command)
        return self.handle(command, clock=clock)


@dataclass
class VideoCity:
    uow: FakeUnitOfWork
    clock: FakeClock
    store: MemoryEvidence
    bus: Recorder
    deps: Deps


def video_city(policy: CasePolicy, clock: FakeClock, desk: Actor | None = DESK) -> VideoCity:
    uow = FakeUnitOfWork()
    uow.organizations.upsert([Organization(WATER, "龙亭区水务局", OrgKind.DEPARTMENT, OrgLevel.DISTRICT, "410202")])
    uow.catalog.upsert_classes(
        [
            CaseClass(ClassKind.MATTER, "09009", "机动车乱停放", "街面秩序"),
            CaseClass(ClassKind.MATTER, "09006", "占道经营", "街面秩序"),
        ]
    )
    uow.catalog.upsert_standards(
        [
            CaseStandard(ClassKind.MATTER, "09009", "人行道违停", "车辆驶离", {"*": TimeLimit.parse("2工作时")}),
            CaseStandard(ClassKind.MATTER, "09006", "占道经营", "摊点撤离", {"*": TimeLimit.parse("4工作时")}),
        ]
    )
    uow.video.upsert_cameras([CAMERA])
    uow.video.upsert_vehicles(
        [
            Vehicle(OWNED, "张三", CIPHER.encrypt(OWNER_PHONE), CIPHER.digest(OWNER_PHONE), mask_phone(OWNER_PHONE)),
            Vehicle(OTHER_OWNED, "李四", CIPHER.encrypt("13900000002"), CIPHER.digest("13900000002"), "139****0002"),
        ],
        clock.now(),
    )
    uow.commit()
    uow.commits = 0
    store = MemoryEvidence()
    bus = Recorder(messagebus(uow, clock, policy).handle)
    return VideoCity(uow, clock, store, bus, Deps(store, CIPHER, bus, EnforcementPolicy(15, desk)))
