"""The one composition root: from Settings, the engine, units of work, the clock, the calendar and case rules,
the evidence store, the locator, the SMS gateway, the phone cipher, vision providers and MQTT connections.

The HTTP application and every command take what they need from a `Runtime`. Everything beyond the engine is
built when first asked for, and the modules of the heavier adapters (vision, SMS, MQTT, crypto) are imported
then too, so a command that needs none of them pays nothing.
"""

from __future__ import annotations

from functools import cached_property, partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine

from xiuhua.cases.domain.commands import ActOnCase, ReportCase
from xiuhua.cases.ports import CasesUnitOfWork
from xiuhua.cases.services.lifecycle import act_on_case, report_case
from xiuhua.cases.services.policy import CasePolicy, load_policy
from xiuhua.config import Settings, get_settings
from xiuhua.handlers import event_bus
from xiuhua.kernel.bus import MessageBus
from xiuhua.kernel.clock import SystemClock
from xiuhua.kernel.ports import Clock
from xiuhua.org.adapters import holidays
from xiuhua.org.domain.calendar import WorkCalendar
from xiuhua.org.services import calendar as calendar_service
from xiuhua.platform.db.engine import ensure_schema, make_engine
from xiuhua.platform.files import FileEvidenceStore
from xiuhua.unit_of_work import SqlUnitOfWork

if TYPE_CHECKING:
    from xiuhua.geo.adapters.locator import Locator
    from xiuhua.sensing.adapters.mqtt.client import BrokerSettings
    from xiuhua.video.adapters.crypto import PhoneCipher
    from xiuhua.video.adapters.sms.base import SmsProvider
    from xiuhua.video.adapters.vision.base import Detector, PlateReader
    from xiuhua.video.adapters.vision.pipeline import OpenCvVision


class Runtime:
    """What a process is wired with; built by `bootstrap()` (tests build one over their own engine). Without an
    engine, one for ``settings.database_url`` is made when first needed (not migrated)."""

    def __init__(
        self,
        engine: Engine | None = None,
        clock: Clock | None = None,
        settings: Settings | None = None,
        *,
        bus: Any = None,
    ) -> None:
        self.settings = settings or get_settings()
        self.clock: Clock = clock or SystemClock()
        self.bus = bus
        """The message bus, once the subjects talk through one (set by the composition root)."""
        if engine is not None:
            self.engine = engine

    @cached_property
    def engine(self) -> Engine:
        return make_engine(self.settings.database_url)

    def but(self, *, clock: Clock | None = None, settings: Settings | None = None) -> Runtime:
        """The same wiring over the same engine with another clock or settings (a test's)."""
        return Runtime(self.engine, clock or self.clock, settings or self.settings, bus=self.bus)

    # ----- storage and rules ----------------------------------------------------------------------------
    def uow(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.engine)

    def calendar(self) -> WorkCalendar:
        return calendar_service.load_calendar(self.uow(), holidays.statutory_days)

    def policy(self) -> CasePolicy:
        """The city's case rules as stored now (load again after changing them)."""
        return load_policy(self.uow(), holidays.statutory_days)

    def locator(self) -> Locator:
        """The city's regions and grids as stored now, for placing points (load again after changing them)."""
        from xiuhua.geo.services import geography

        return geography.load_locator(self.uow())

    @cached_property
    def evidence(self) -> FileEvidenceStore:
        return FileEvidenceStore(Path(self.settings.evidence_dir))

    # ----- video: phone numbers, SMS, vision ------------------------------------------------------------
    @cached_property
    def phone_cipher(self) -> PhoneCipher:
        """Over XIUHUA_PHONE_KEY, else (only in the dev environment) the dev signing secret; raises CipherError
        (crypto.no_key) when first asked for without a key."""
        from xiuhua.video.adapters.crypto import CipherError, PhoneCipher

        key = self.settings.phone_key.get_secret_value()
        if not key:
            if self.settings.environment != "dev":
                raise CipherError("crypto.no_key", "未配置手机号加密密钥 XIUHUA_PHONE_KEY")
            key = self.settings.jwt_secret.get_secret_value()
        return PhoneCipher(key)

    def sms_gateway(self, name: str | None = None, options: dict[str, Any] | None = None) -> SmsProvider:
        """The SMS provider ``name`` (default XIUHUA_SMS_PROVIDER with XIUHUA_SMS_OPTIONS): an entry point of
        the group xiuhua.sms or a dotted path; raises SmsConfigError."""
        from xiuhua.video.adapters.sms import load

        if name is None:
            return load(self.settings.sms_provider, self.settings.sms_options)
        return load(name, options)

    def detector(self, name: str, options: dict[str, Any] | None = None) -> Detector:
        """A detector (group xiuhua.detectors, or a dotted path); raises DetectorConfigError."""
        from xiuhua.video.adapters.vision.registry import load_detector

        return load_detector(name, options)

    def plate_reader(self, name: str = "clp", options: dict[str, Any] | None = None) -> PlateReader:
        """A plate reader (group xiuhua.plate_readers, or a dotted path); raises DetectorConfigError."""
        from xiuhua.video.adapters.vision.registry import load_plate_reader

        return load_plate_reader(name, options)

    def vision(self, definition: dict[str, Any], device: str = "auto") -> OpenCvVision:
        """The vision a camera's definition asks for (its detector block, else the default mix) on ``device``."""
        from xiuhua.video.adapters.vision.pipeline import vision_for

        return vision_for(definition, device)

    # ----- sensing ------------------------------------------------------------------------------------
    def broker(self, host: str | None = None, port: int | None = None, **session: Any) -> BrokerSettings:
        """How to reach the MQTT broker: ``host`` and ``port``, else XIUHUA_MQTT_HOST and XIUHUA_MQTT_PORT;
        ``session`` sets the other BrokerSettings fields (client_id, topic, …)."""
        from xiuhua.sensing.adapters.mqtt.client import BrokerSettings

        return BrokerSettings(host or self.settings.mqtt_host, port or self.settings.mqtt_port, **session)


def bootstrap(
    database_url: str | None = None,
    *,
    migrate: bool = True,
    settings: Settings | None = None,
    clock: Clock | None = None,
) -> Runtime:
    """Connect to the configured database (or ``database_url``), creating or upgrading its schema unless told
    not to."""
    settings = settings or get_settings()
    engine = make_engine(database_url or settings.database_url)
    if migrate:
        ensure_schema(engine)
    return Runtime(engine, clock, settings)


def messagebus(
    uow: CasesUnitOfWork | None = None, clock: Clock | None = None, policy: CasePolicy | None = None
) -> MessageBus:
    """The message bus with the product's handlers: the in-transaction handlers of case events (the outbox
    rows, the evaluation tallies) always, which every unit of work runs at commit; and, given the unit of
    work, clock and case policy they run with, the commands of the cases subject (``bus.handle(ReportCase)``)."""
    bus = event_bus()
    if uow is not None and clock is not None and policy is not None:
        bus.command(ReportCase, partial(report_case, uow=uow, clock=clock, policy=policy))
        bus.command(ActOnCase, partial(act_on_case, uow=uow, clock=clock, policy=policy))
    return bus
