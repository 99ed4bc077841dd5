"""SMS providers: REGISTRY maps short names to dotted paths; config may name either."""

from __future__ import annotations

from importlib import import_module
from typing import Any

from pydantic import ValidationError

from xiuhua.video.adapters.sms.base import SmsConfigError, SmsProvider

REGISTRY = {
    "fake": "xiuhua.video.adapters.sms.fake.FakeSmsProvider",
    "http": "xiuhua.video.adapters.sms.http.HttpSmsProvider",
}


def load(name: str, options: dict[str, Any] | None = None) -> SmsProvider:
    """Build a provider from a short name or a dotted path; raises SmsConfigError."""
    path = REGISTRY.get(name, name)
    module, _, attr = path.rpartition(".")
    try:
        cls = getattr(import_module(module), attr)
    except (ImportError, AttributeError, ValueError) as exc:
        raise SmsConfigError("sms.unknown_provider", f"未知的短信服务商“{name}”") from exc
    if not (isinstance(cls, type) and issubclass(cls, SmsProvider)):
        raise SmsConfigError("sms.unknown_provider", f"“{name}”不是短信服务商")
    try:
        validated = cls.Options.model_validate(options or {})
    except ValidationError as exc:
        raise SmsConfigError("sms.bad_options", f"短信服务商“{name}”的配置无效：{exc.errors()[0]['msg']}") from exc
    provider: SmsProvider = cls(validated)  # type: ignore[call-arg]  # subclasses take their Options
    return provider
