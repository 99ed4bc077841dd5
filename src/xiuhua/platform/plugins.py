"""Plugin loading: providers (SMS gateways, detectors, plate readers, …) found by Python entry points.

A kind of plugin is a `PluginKind`: an entry-point group (``xiuhua.sms``), the base class its plugins subclass,
and the error (with its codes) raised when one cannot be loaded. A package registers a plugin in its
``pyproject.toml``::

    [project.entry-points."xiuhua.sms"]
    acme = "acme_sms.gateway:AcmeSmsProvider"

and config names it ``acme``. Config may instead give a dotted path (``package.module:Class`` or
``package.module.Class``), so a city's own package plugs in without registering. A plugin class takes one
argument, its options validated by its pydantic ``Options`` model.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module
from importlib.metadata import entry_points
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError

from xiuhua.kernel.errors import DomainError

T = TypeVar("T")

GROUPS = {
    "xiuhua.sms": "SMS gateways (video/adapters/sms)",
    "xiuhua.detectors": "object detectors (video/adapters/vision)",
    "xiuhua.plate_readers": "plate readers (video/adapters/vision)",
    "xiuhua.notify_channels": "notification channels (reserved: SMS, e-mail, Web Push, WeChat)",
}
"""The entry-point groups the product reads, documented in docs/plugins.md."""


@dataclass(frozen=True)
class PluginKind(Generic[T]):
    """One kind of plugin: its entry-point group, its base class, and how a failure to load one is reported:
    ``error(f"{prefix}.unknown_provider" | f"{prefix}.bad_options", message)``, the messages naming the kind
    as ``family`` (未知的{family}) and a plugin of the wrong class as not a ``noun``."""

    group: str
    base: type[Any]
    """The class every plugin of the kind subclasses (T itself; abstract classes cannot be typed type[T])."""
    error: type[DomainError]
    prefix: str
    family: str
    noun: str

    def names(self) -> list[str]:
        """The short names registered in this group (installed packages' entry points), sorted."""
        return sorted({ep.name for ep in entry_points(group=self.group)})

    def find(self, name: str) -> type[T]:
        """The plugin class registered as ``name``, or at the dotted path ``name``; raises ``error``."""
        try:
            found = _resolve(self.group, name)
        except (ImportError, AttributeError, ValueError) as exc:
            raise self.error(f"{self.prefix}.unknown_provider", f"未知的{self.family}“{name}”") from exc
        if not (isinstance(found, type) and issubclass(found, self.base)):
            raise self.error(f"{self.prefix}.unknown_provider", f"“{name}”不是{self.noun}")
        plugin_class: type[T] = found
        return plugin_class

    def load(self, name: str, options: dict[str, Any] | None = None) -> T:
        """A plugin built from its short name or dotted path and its options; raises ``error``."""
        cls = self.find(name)
        model: type[BaseModel] = cls.Options  # type: ignore[attr-defined]  # every base class declares Options
        try:
            validated = model.model_validate(options or {})
        except ValidationError as exc:
            raise self.error(
                f"{self.prefix}.bad_options", f"{self.family}“{name}”的配置无效：{exc.errors()[0]['msg']}"
            ) from exc
        plugin: T = cls(validated)  # type: ignore[call-arg]  # plugins take their validated Options
        return plugin


def _resolve(group: str, name: str) -> object:
    """The object an entry point of ``group`` named ``name`` points at, else the one at the dotted path."""
    for ep in entry_points(group=group, name=name):
        return ep.load()
    module, sep, attr = name.partition(":")
    if not sep:
        module, _, attr = name.rpartition(".")
    if not module or not attr:
        raise ValueError(name)
    found: object = import_module(module)
    for part in attr.split("."):
        found = getattr(found, part)
    return found
