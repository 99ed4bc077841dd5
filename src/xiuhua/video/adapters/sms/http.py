"""A generic JSON-over-HTTPS SMS gateway with an HMAC-SHA256 request signature.

Request: POST {url} with body {"phone", "text", "client_ref"} and headers X-Api-Key, X-Timestamp and
X-Signature = hex(HMAC-SHA256(secret, timestamp + "\n" + body)). Response: {"id": "..."}; 4xx rejects,
5xx and network errors are retried by the outbox.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import ClassVar

import httpx
from pydantic import SecretStr

from xiuhua.video.adapters.sms.base import SmsDeliveryError, SmsError, SmsOptions, SmsProvider, SmsRejectedError


class HttpOptions(SmsOptions):
    url: str
    api_key: str
    secret: SecretStr
    timeout_s: float = 5.0


def sign(secret: str, timestamp: str, body: bytes) -> str:
    return hmac.new(secret.encode(), timestamp.encode() + b"\n" + body, hashlib.sha256).hexdigest()


class HttpSmsProvider(SmsProvider):
    name: ClassVar[str] = "http"
    Options = HttpOptions

    def __init__(self, options: HttpOptions, transport: httpx.BaseTransport | None = None) -> None:
        self.options = options
        self.client = httpx.Client(timeout=options.timeout_s, transport=transport)

    def send(self, phone: str, text: str, dedup_key: str) -> str:
        body = json.dumps({"phone": phone, "text": text, "client_ref": dedup_key}, ensure_ascii=False).encode()
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            "X-Api-Key": self.options.api_key,
            "X-Timestamp": timestamp,
            "X-Signature": sign(self.options.secret.get_secret_value(), timestamp, body),
        }
        try:
            response = self.client.post(self.options.url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            raise SmsDeliveryError("sms.gateway_unreachable", f"无法连接短信网关：{exc}") from exc
        if 400 <= response.status_code < 500:
            raise SmsRejectedError(
                "sms.rejected", f"短信网关拒绝发送（HTTP {response.status_code}）", body=response.text
            )
        if response.status_code >= 300:
            raise SmsDeliveryError("sms.gateway_error", f"短信网关出错（HTTP {response.status_code}）")
        try:
            return str(response.json()["id"])
        except (ValueError, KeyError) as exc:
            raise SmsError("sms.bad_response", "短信网关返回格式不正确") from exc
