"""SMS providers: plugins of the entry-point group ``xiuhua.sms``; config names one or gives a dotted path."""

from __future__ import annotations

from typing import Any

from xiuhua.platform.plugins import PluginKind
from xiuhua.video.adapters.sms.base import SmsConfigError, SmsProvider

SMS: PluginKind[SmsProvider] = PluginKind("xiuhua.sms", SmsProvider, SmsConfigError, "sms", "短信服务商", "短信服务商")
"""Registered in pyproject.toml: fake (the local dev gateway), http (a signed JSON gateway)."""


def load(name: str, options: dict[str, Any] | None = None) -> SmsProvider:
    """Build a provider from a short name or a dotted path; raises SmsConfigError."""
    return SMS.load(name, options)
