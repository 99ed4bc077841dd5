"""Hostile payloads at the intake: each is dead-lettered with a stable reason, none raises out of the decoder,
and a batch that holds them stores its good messages (on SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime

import pytest

from xiuhua.bootstrap import messagebus
from xiuhua.cases.services.policy import load_policy
from xiuhua.demo.city import build_demo
from xiuhua.demo.sources import demo_sources
from xiuhua.kernel.bus import Handle
from xiuhua.kernel.clock import FakeClock
from xiuhua.org.adapters import holidays
from xiuhua.platform import packagedata
from xiuhua.platform.db.engine import make_engine
from xiuhua.platform.tabular import Row
from xiuhua.sensing.domain.model import (
    MAX_PAYLOAD_BYTES,
    MAX_PAYLOAD_DEPTH,
    Limits,
    MessageRejectedError,
    Rejection,
    decode_message,
    nesting_depth,
)
from xiuhua.sensing.services import ingest as sensing
from xiuhua.sensing.services.ingest import IngestReport, Message
from xiuhua.unit_of_work import SqlUnitOfWork

T0 = datetime(2026, 3, 3, 1, 0, tzinfo=UTC)
TS = T0.isoformat().encode()
TOPIC = "xiuhua/sensors/dust/DUST-1"
PLACE = {"district_code": "410202", "street_code": "410202001", "community_code": "410202001009"}
SANITATION = "1241020210Q85UHF2K"

# payload → the reason the decoder gives
DECODER_HOSTILE: dict[str, tuple[bytes, Rejection]] = {
    "deep arrays (40 KB)": (b"[" * 20_000 + b"]" * 20_000, Rejection.TOO_DEEP),
    "deep objects (40 KB)": (b'{"a":' * 6_700 + b"1" + b"}" * 6_700, Rejection.TOO_DEEP),
    "deep inside a good message": (
        b'{"device":"DUST-1","ts":"' + TS + b'","values":{"pm10":' + b"[" * 5000 + b"]" * 5000 + b"}}",
        Rejection.TOO_DEEP,
    ),
    "deep but unclosed": (b"[" * 50_000, Rejection.TOO_DEEP),
    "huge number as time": (b'{"device":"DUST-1","ts":1e999999,"values":{"pm10":80}}', Rejection.MALFORMED),
    "huge number as value": (
        b'{"device":"DUST-1","ts":"' + TS + b'","values":{"pm10":1e999999}}',
        Rejection.MALFORMED,
    ),
    "huge integer (5000 digits)": (
        b'{"device":"DUST-1","ts":' + b"1" * 5000 + b',"values":{"pm10":80}}',
        Rejection.MALFORMED,
    ),
    "NaN literal": (b'{"device":"DUST-1","ts":NaN,"values":{"pm10":80}}', Rejection.MALFORMED),
    "Infinity literal": (b'{"device":"DUST-1","ts":"' + TS + b'","values":{"pm10":-Infinity}}', Rejection.MALFORMED),
    "invalid UTF-8": (b'{"device":"DUST-1","ts":"\xff\xfe\xfd","values":{}}', Rejection.MALFORMED),
    "encoded surrogate bytes": (b'{"device":"DUST-1","ts":"\xed\xa0\x80"}', Rejection.MALFORMED),
    "lone surrogate escape": (b'{"device":"DUST-1","ts":"\\ud800","values":{"pm10":80}}', Rejection.MALFORMED),
    "lone surrogate device": (b'{"device":"\\udfff","ts":1}', Rejection.MALFORMED),
    "NUL escape": (b'{"device":"DUST-1","ts":"\\u0000","values":{"pm10":80}}', Rejection.MALFORMED),
    "raw NUL byte": (b'\x00{"device":"DUST-1"}', Rejection.MALFORMED),
    "top-level array": (b'[{"device":"DUST-1","ts":1}]', Rejection.MALFORMED),
    "top-level string": (b'"DUST-1"', Rejection.MALFORMED),
    "top-level number": (b"1e999999", Rejection.MALFORMED),
    "empty": (b"", Rejection.MALFORMED),
    "10 MB": (b'{"device":"DUST-1","pad":"' + b"x" * (10 * 1024 * 1024) + b'"}', Rejection.TOO_LARGE),
}


@pytest.mark.parametrize(("payload", "reason"), DECODER_HOSTILE.values(), ids=DECODER_HOSTILE.keys())
def test_the_decoder_rejects_hostile_payloads_with_a_reason_and_raises_nothing_else(
    payload: bytes, reason: Rejection
) -> None:
    with pytest.raises(MessageRejectedError) as info:
        decode_message(payload, TOPIC)
    assert info.value.reason is reason and info.value.code == f"sensing.{reason.value}"


def test_depth_and_size_are_bounded_before_parsing_and_strings_do_not_count() -> None:
    assert nesting_depth(b'{"values":{"a":[1,[2]]}}') == 4
    assert nesting_depth(b'{"note":"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[ \\" {{{{{{{{{{{{{{{{{{{{{{"}') == 1
    assert nesting_depth(b"[" * 1000, stop_above=10) == 11  # stops counting once over the limit
    at_limit = b"[" * MAX_PAYLOAD_DEPTH + b"]" * MAX_PAYLOAD_DEPTH
    with pytest.raises(MessageRejectedError) as info:
        decode_message(at_limit, TOPIC)
    assert info.value.reason is Rejection.MALFORMED  # deep enough is parsed (and is no object)
    with pytest.raises(MessageRejectedError) as info:
        decode_message(b"[" + at_limit + b"]", TOPIC)
    assert info.value.reason is Rejection.TOO_DEEP
    tight = Limits(max_bytes=64, max_depth=2)
    good = b'{"device":"DUST-1","ts":1772499600,"values":{}}'
    assert decode_message(good, TOPIC, tight).device_code == "DUST-1"
    with pytest.raises(MessageRejectedError) as info:
        decode_message(good[:-1] + b" " * 40 + b"}", TOPIC, tight)
    assert info.value.reason is Rejection.TOO_LARGE
    assert len(DECODER_HOSTILE["10 MB"][0]) > MAX_PAYLOAD_BYTES
    assert decode_message(b"\xef\xbb\xbf" + good, TOPIC).device_code == "DUST-1"  # a UTF-8 BOM is no harm


def _city(uow: SqlUnitOfWork) -> tuple[FakeClock, Handle]:
    calendar = load_policy(uow, holidays.statutory_days).timing.calendar
    build_demo(demo_sources(geometry=False), uow, calendar)
    clock = FakeClock(T0)
    sensing.seed_sensing(
        packagedata.read("sensing/rules_default.csv"), packagedata.read("sensing/feed_mappings_default.csv"), uow, clock
    )
    rows = [
        Row(2, {**PLACE, "department_code": SANITATION, "code": code, "kind": "dust", "name": code, "lon": "114.35",
                "lat": "34.80"})
        for code in ("DUST-1", "DUST-2")
    ]  # fmt: skip
    sensing.import_devices(rows, uow, clock)
    return clock, messagebus(uow, clock, load_policy(uow, holidays.statutory_days)).handle


def test_a_batch_of_hostile_payloads_is_dead_lettered_and_its_good_messages_stored(uow: SqlUnitOfWork) -> None:
    clock, handle = _city(uow)

    def good(code: str, pm10: float) -> Message:
        body = {"device": code, "ts": T0.isoformat(), "values": {"pm10": pm10}}
        return Message(f"xiuhua/sensors/dust/{code}", json.dumps(body).encode())

    checked = {
        "huge integer value": b'{"device":"DUST-2","ts":"' + TS + b'","values":{"pm10":' + b"9" * 400 + b"}}",
        "list as value": b'{"device":"DUST-2","ts":"' + TS + b'","values":{"pm10":[' + b"1," * 3000 + b"1]}}",
    }
    batch = [good("DUST-1", 80.0)]
    batch += [Message(TOPIC, payload) for payload, _reason in DECODER_HOSTILE.values()]
    batch += [Message(TOPIC, payload) for payload in checked.values()]
    batch += [good("DUST-2", 90.0)]
    report = sensing.ingest_messages(batch, uow, clock, handle)
    assert report.stored == 2
    expected: dict[str, int] = {}
    for _payload, reason in DECODER_HOSTILE.values():
        expected[reason.value] = expected.get(reason.value, 0) + 1
    expected["out_of_range"] = 1  # the integer of 400 digits
    expected["malformed"] += 1  # the list
    assert dict(report.rejected) == expected
    letters, counts = sensing.list_dead_letters(uow, limit=100)
    assert counts == expected and len(letters) == len(batch) - 2
    for letter in letters:
        assert letter.reason in {r.value for r in Rejection} and letter.message
        assert "\x00" not in letter.payload + letter.message and len(letter.payload) <= sensing.PAYLOAD_KEEP
        letter.message.encode("utf-8")  # storable as it came back: no lone surrogate
    big = [x for x in letters if x.reason == "too_large"]
    assert len(big) == 1 and big[0].payload.startswith('{"device":"DUST-1","pad":"xxx')
    with uow:
        assert len(uow.sensing.readings(uow.sensing.devices_by_code({"DUST-1"})["DUST-1"].id or 0, 10)) == 1


def test_a_message_that_fails_even_alone_is_dead_lettered_and_the_others_ingested(uow: SqlUnitOfWork) -> None:
    clock, handle = _city(uow)
    poison = Message(TOPIC, b'{"device":"DUST-1","ts":"' + TS + b'","values":{"pm10":70},"x":"poison"}')

    def ingest(messages: Sequence[Message]) -> IngestReport:
        if poison in messages:  # a fault no check foresaw, raised by this one message every time
            raise RuntimeError("boom")
        return sensing.ingest_messages(messages, uow, clock, handle)

    good = [Message(f"xiuhua/sensors/dust/{c}", json.dumps({"device": c, "ts": T0.isoformat(),
                                                              "values": {"pm10": 60}}).encode())
            for c in ("DUST-1", "DUST-2")]  # fmt: skip
    report = sensing.ingest_isolating([good[0], poison, good[1], Message(TOPIC, b"{")], ingest, uow, clock)
    assert report.received == 4 and report.stored == 2
    assert dict(report.rejected) == {"failed": 1, "malformed": 1}
    (letter,), _ = sensing.list_dead_letters(uow, "failed")
    assert letter.message == "无法接入：RuntimeError: boom" and "poison" in letter.payload


def test_when_not_even_a_dead_letter_can_be_written_the_batch_is_left_to_retry() -> None:
    down = SqlUnitOfWork(make_engine("postgresql+psycopg://postgres@127.0.0.1:9/nowhere?connect_timeout=2"))

    def ingest(messages: Sequence[Message]) -> IngestReport:
        raise RuntimeError("database unavailable")

    with pytest.raises(RuntimeError, match="database unavailable"):
        sensing.ingest_isolating([Message(TOPIC, b"{}"), Message(TOPIC, b"[]")], ingest, down, FakeClock(T0))
