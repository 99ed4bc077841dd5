"""Plugin loading: by entry-point name (an installed package's), by dotted path, and each way it can fail."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import BaseModel, ConfigDict

from xiuhua.kernel.errors import InvalidInputError
from xiuhua.platform.plugins import GROUPS, PluginKind
from xiuhua.video.adapters.sms import SMS
from xiuhua.video.adapters.sms.base import SmsConfigError
from xiuhua.video.adapters.sms.fake import FakeSmsProvider
from xiuhua.video.adapters.vision.base import DetectorConfigError
from xiuhua.video.adapters.vision.detectors import FakeDetector
from xiuhua.video.adapters.vision.plates import FakePlateReader
from xiuhua.video.adapters.vision.registry import DETECTORS, PLATE_READERS


class WidgetError(InvalidInputError):
    pass


class Widget:
    class Options(BaseModel):
        model_config = ConfigDict(extra="forbid", frozen=True)

    def __init__(self, options: BaseModel) -> None:
        self.options = options


WIDGETS: PluginKind[Widget] = PluginKind(
    "xiuhua.test_widgets", Widget, WidgetError, prefix="widget", family="部件插件", noun="部件插件"
)


@pytest.fixture
def city_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A city's own package, installed (a dist-info with entry points) on sys.path: one widget ``acme``, one
    entry ``wrong`` that is no widget, and one ``broken`` whose module does not exist."""
    package = tmp_path / "acme_widgets"
    package.mkdir()
    (package / "__init__.py").write_text(
        textwrap.dedent(
            """
            from pydantic import BaseModel, ConfigDict, Field

            from tests.unit.test_plugins import Widget


            class AcmeWidget(Widget):
                class Options(BaseModel):
                    model_config = ConfigDict(extra="forbid", frozen=True)
                    size: int = Field(default=1, ge=1)


            class NotAWidget:
                pass
            """
        ),
        encoding="utf-8",
    )
    info = tmp_path / "acme_widgets-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-widgets\nVersion: 1.0\n", encoding="utf-8")
    (info / "entry_points.txt").write_text(
        "[xiuhua.test_widgets]\n"
        "acme = acme_widgets:AcmeWidget\n"
        "wrong = acme_widgets:NotAWidget\n"
        "broken = acme_widgets_missing:Thing\n",
        encoding="utf-8",
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "acme_widgets"


def test_a_plugin_is_found_by_its_entry_point_name(city_package: str) -> None:
    assert WIDGETS.names() == ["acme", "broken", "wrong"]
    widget = WIDGETS.load("acme", {"size": 3})
    assert type(widget).__name__ == "AcmeWidget" and widget.options.size == 3  # type: ignore[attr-defined]


@pytest.mark.parametrize("path", ["acme_widgets:AcmeWidget", "acme_widgets.AcmeWidget"])
def test_a_plugin_is_found_by_its_dotted_path_without_registering(city_package: str, path: str) -> None:
    assert type(WIDGETS.load(path)).__name__ == "AcmeWidget"


@pytest.mark.parametrize("name", ["nope", "broken", "acme_widgets:Missing", "no_such_module.Thing", ":", ""])
def test_an_unknown_name_is_refused(city_package: str, name: str) -> None:
    with pytest.raises(WidgetError) as info:
        WIDGETS.load(name)
    assert (info.value.code, info.value.message) == ("widget.unknown_provider", f"未知的部件插件“{name}”")


@pytest.mark.parametrize("name", ["wrong", "acme_widgets:NotAWidget", "xiuhua.platform.plugins.GROUPS"])
def test_a_class_of_another_kind_is_refused(city_package: str, name: str) -> None:
    with pytest.raises(WidgetError) as info:
        WIDGETS.load(name)
    assert (info.value.code, info.value.message) == ("widget.unknown_provider", f"“{name}”不是部件插件")


def test_bad_options_are_refused_with_the_first_reason(city_package: str) -> None:
    for options in ({"size": 0}, {"colour": "red"}):
        with pytest.raises(WidgetError) as info:
            WIDGETS.load("acme", options)
        assert info.value.code == "widget.bad_options"
        assert info.value.message.startswith("部件插件“acme”的配置无效：")


def test_the_products_providers_are_registered_as_entry_points() -> None:
    assert {"fake", "http"} <= set(SMS.names())
    assert {"hog_people", "foreground", "plate_vehicles", "onnx_yolo", "composite", "fake"} <= set(DETECTORS.names())
    assert {"clp", "clp_plain", "fake"} <= set(PLATE_READERS.names())
    assert isinstance(SMS.load("fake"), FakeSmsProvider)
    assert isinstance(DETECTORS.load("fake"), FakeDetector)
    assert isinstance(PLATE_READERS.load("fake", {"text": "豫B12345"}), FakePlateReader)
    assert {"xiuhua.sms", "xiuhua.detectors", "xiuhua.plate_readers", "xiuhua.notify_channels"} <= set(GROUPS)


def test_sms_and_vision_keep_their_codes_and_messages() -> None:
    cases = [
        (SMS, "nope", None, SmsConfigError, "sms.unknown_provider", "未知的短信服务商“nope”"),
        (SMS, "xiuhua.video.adapters.vision.detectors.FakeDetector", None, SmsConfigError, "sms.unknown_provider",
         "“xiuhua.video.adapters.vision.detectors.FakeDetector”不是短信服务商"),
        (SMS, "fake", {"unknown": 1}, SmsConfigError, "sms.bad_options", "短信服务商“fake”的配置无效："),
        (DETECTORS, "nope", None, DetectorConfigError, "vision.unknown_provider", "未知的视觉组件“nope”"),
        (DETECTORS, "xiuhua.video.domain.model.Zone", None, DetectorConfigError, "vision.unknown_provider",
         "“xiuhua.video.domain.model.Zone”不是检测器"),
        (PLATE_READERS, "xiuhua.video.adapters.vision.detectors:FakeDetector", None, DetectorConfigError,
         "vision.unknown_provider", "“xiuhua.video.adapters.vision.detectors:FakeDetector”不是车牌识别器"),
        (DETECTORS, "foreground", {}, DetectorConfigError, "vision.bad_options", "视觉组件“foreground”的配置无效："),
    ]  # fmt: skip
    for kind, name, options, error, code, message in cases:
        with pytest.raises(error) as info:
            kind.load(name, options)
        assert info.value.code == code and info.value.message.startswith(message)
