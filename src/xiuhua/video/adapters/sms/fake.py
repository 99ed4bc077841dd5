"""The dev and demo SMS provider: keeps messages in memory; can be told to fail the next N sends."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from xiuhua.video.adapters.sms.base import SmsDeliveryError, SmsOptions, SmsProvider, SmsRejectedError


class FakeOptions(SmsOptions):
    fail_first: int = 0


@dataclass(frozen=True, slots=True)
class SentText:
    phone: str
    text: str
    dedup_key: str
    provider_id: str


class FakeSmsProvider(SmsProvider):
    name: ClassVar[str] = "fake"
    Options = FakeOptions

    def __init__(self, options: FakeOptions | None = None) -> None:
        self.failures_left = (options or FakeOptions()).fail_first
        self.sent: list[SentText] = []

    def send(self, phone: str, text: str, dedup_key: str) -> str:
        if not phone.isdigit():
            raise SmsRejectedError("sms.bad_number", "手机号格式不正确")
        if self.failures_left > 0:
            self.failures_left -= 1
            raise SmsDeliveryError("sms.gateway_down", "短信网关暂时不可用")
        provider_id = f"fake-{len(self.sent) + 1}"
        self.sent.append(SentText(phone, text, dedup_key, provider_id))
        return provider_id
