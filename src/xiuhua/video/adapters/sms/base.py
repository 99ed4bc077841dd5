"""The contract of SMS providers.

SmsError (InvalidInputError)
├── SmsDeliveryError    the gateway could not be reached or failed: retried with backoff
├── SmsRejectedError    the gateway refused the message (bad number, content): not retried
└── SmsConfigError      a provider's options do not validate

A provider subclasses `SmsProvider`, takes its validated `Options` and returns the gateway's message id.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar

from pydantic import BaseModel, ConfigDict

from xiuhua.kernel.errors import InvalidInputError


class SmsError(InvalidInputError):
    """Base of the SMS providers' errors; `retryable` tells the outbox whether to try again later."""

    retryable = False


class SmsDeliveryError(SmsError):
    retryable = True


class SmsRejectedError(SmsError):
    pass


class SmsConfigError(SmsError):
    pass


class SmsOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True, slots=True)
class Receipt:
    """A delivery report: the gateway's message id and whether the handset got it."""

    provider_id: str
    delivered: bool
    detail: str = ""


class SmsProvider(ABC):
    name: ClassVar[str]
    Options: ClassVar[type[SmsOptions]] = SmsOptions

    @abstractmethod
    def send(self, phone: str, text: str, dedup_key: str) -> str:
        """Send one text; returns the gateway's message id; raises SmsDeliveryError or SmsRejectedError."""

    def parse_receipt(self, payload: dict[str, object]) -> Receipt:
        """A delivery report pushed by the gateway; raises SmsError when malformed."""
        try:
            return Receipt(str(payload["id"]), payload["status"] == "delivered", str(payload.get("detail", "")))
        except KeyError as exc:
            raise SmsError("sms.bad_receipt", "回执格式不正确") from exc
