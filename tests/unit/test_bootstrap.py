"""The composition root: parts built from the settings when first asked for, and nothing before."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import SecretStr

from xiuhua.bootstrap import Runtime
from xiuhua.config import Settings
from xiuhua.kernel.clock import FakeClock
from xiuhua.video.adapters.crypto import CipherError, PhoneCipher
from xiuhua.video.adapters.sms.base import SmsConfigError
from xiuhua.video.adapters.sms.fake import FakeSmsProvider
from xiuhua.video.adapters.vision.plates import FakePlateReader


def settings(tmp_path: Path, **values: object) -> Settings:
    return Settings(database_url=f"sqlite:///{tmp_path / 'db' / 'x.db'}", evidence_dir=str(tmp_path / "ev"), **values)


def test_nothing_is_built_before_it_is_asked_for(tmp_path: Path) -> None:
    rt = Runtime(settings=settings(tmp_path))
    assert isinstance(rt.plate_reader("fake"), FakePlateReader)
    assert not (tmp_path / "db").exists() and not (tmp_path / "ev").exists()  # no engine, no evidence folder yet
    assert rt.engine.url.database == str(tmp_path / "db" / "x.db")
    assert rt.evidence is rt.evidence


def test_sms_gateway_and_broker_come_from_the_settings(tmp_path: Path) -> None:
    rt = Runtime(settings=settings(tmp_path, sms_provider="fake", mqtt_host="broker.city", mqtt_port=8883))
    assert isinstance(rt.sms_gateway(), FakeSmsProvider)
    with pytest.raises(SmsConfigError):
        Runtime(settings=settings(tmp_path, sms_provider="nope")).sms_gateway()
    broker = rt.broker(client_id="c1")
    assert (broker.host, broker.port, broker.client_id) == ("broker.city", 8883, "c1")
    assert rt.broker("127.0.0.1", 1884).port == 1884


def test_the_phone_cipher_needs_a_key_outside_dev(tmp_path: Path) -> None:
    assert isinstance(Runtime(settings=settings(tmp_path)).phone_cipher, PhoneCipher)  # dev: the dev secret
    production = settings(tmp_path, environment="production", jwt_secret=SecretStr("Qm8vR2tLx9pW4nZa7cYe3uHs6bJd1fGk"))
    with pytest.raises(CipherError) as info:
        _ = Runtime(settings=production).phone_cipher
    assert info.value.code == "crypto.no_key"
    keyed = production.model_copy(update={"phone_key": SecretStr("k" * 32)})
    assert isinstance(Runtime(settings=keyed).phone_cipher, PhoneCipher)


def test_but_keeps_the_engine_with_another_clock_or_settings(tmp_path: Path) -> None:
    rt = Runtime(settings=settings(tmp_path))
    clock = FakeClock(datetime(2026, 3, 3, 1, tzinfo=UTC))
    other = rt.but(clock=clock)
    assert other.engine is rt.engine and other.clock is clock and other.settings is rt.settings
