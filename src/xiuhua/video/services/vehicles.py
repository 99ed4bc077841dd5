"""The vehicle-owner registry: import from CSV/XLSX (all or nothing, or skipping invalid rows), look up by plate."""

from __future__ import annotations

import re
from collections.abc import Sequence

from xiuhua.kernel.errors import InvalidInputError
from xiuhua.kernel.ports import Clock, Progress, no_progress
from xiuhua.platform.importing import ImportReport, RowError, check_columns, parse_rows, settle
from xiuhua.platform.tabular import Row
from xiuhua.video.domain.enforcement import Vehicle, mask_phone
from xiuhua.video.domain.plates import check_plate
from xiuhua.video.ports import VideoUnitOfWork
from xiuhua.video.services.sms import Cipher

PHONE = re.compile(r"^1[3-9]\d{9}$")
PLATE_COLUMNS = ("plate", "车牌号")
OWNER_COLUMNS = ("owner", "车主")
PHONE_COLUMNS = ("phone", "手机号")


def _first(row: Row, names: tuple[str, ...]) -> str:
    return next((v for n in names if (v := row.get(n))), "")


def parse_vehicle(row: Row, cipher: Cipher) -> Vehicle:
    """One registry row; raises InvalidInputError (plate.invalid, vehicle.bad_phone, vehicle.no_owner)."""
    plate = check_plate(_first(row, PLATE_COLUMNS))
    owner = _first(row, OWNER_COLUMNS)
    if not owner:
        raise InvalidInputError("vehicle.no_owner", "缺少车主姓名")
    phone = re.sub(r"[\s-]", "", _first(row, PHONE_COLUMNS))
    if not PHONE.match(phone):
        raise InvalidInputError("vehicle.bad_phone", f"手机号“{mask_phone(phone)}”格式不正确")
    return Vehicle(plate, owner, cipher.encrypt(phone), cipher.digest(phone), mask_phone(phone))


def import_vehicles(
    rows: Sequence[Row],
    uow: VideoUnitOfWork,
    clock: Clock,
    cipher: Cipher,
    skip_invalid: bool = False,
    progress: Progress = no_progress,
) -> ImportReport:
    """Insert or update owners by plate; phones are encrypted before they reach the database."""
    check_columns(rows, PLATE_COLUMNS, OWNER_COLUMNS, PHONE_COLUMNS)
    progress("校验", 0, len(rows))
    parsed, errors = parse_rows(rows, lambda r: parse_vehicle(r, cipher))
    seen: dict[str, int] = {}
    for row, v in parsed:
        if v.plate in seen:
            errors.append(RowError(row.number, "vehicle.duplicate", f"车牌 {v.plate} 与第 {seen[v.plate]} 行重复"))
        seen.setdefault(v.plate, row.number)
    bad = {e.row for e in errors}
    skipped = settle(errors, skip_invalid)
    vehicles = list({v.plate: v for row, v in parsed if row.number not in bad}.values())
    progress("写入", 0, len(vehicles))
    with uow:
        uow.video.upsert_vehicles(vehicles, clock.now())
        uow.commit()
    progress("写入", len(vehicles), len(vehicles))
    return ImportReport(len(vehicles), skipped)
