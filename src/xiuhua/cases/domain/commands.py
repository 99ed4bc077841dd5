"""Commands of the cases subject: what other subjects (sensing, video, campaigns) send through the bus."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from xiuhua.cases.domain import idempotency
from xiuhua.cases.domain.case import Urgency
from xiuhua.cases.domain.workflow import Action, Source, State
from xiuhua.geo.domain.geography import Location
from xiuhua.kernel.actor import Actor
from xiuhua.kernel.events import Command
from xiuhua.kernel.evidence import StoredFile
from xiuhua.org.domain.model import ClassKind


@dataclass(frozen=True, slots=True)
class ReportCase(Command):
    """Open a case (上报); handled by ``report_case``, which returns a ``Reported``."""

    actor: Actor
    source: Source
    kind: ClassKind
    class_code: str
    location: Location
    description: str
    urgency: Urgency = Urgency.NORMAL
    reporter: str = ""
    reporter_phone: str | None = None
    component_id: str | None = None
    idempotency_key: str | None = None
    idempotency_scope: str | None = None
    """Whose keys these are; by default the actor's own (domain/idempotency.py)."""
    photos: tuple[StoredFile, ...] = ()

    def stored_key(self) -> tuple[str, str | None] | None:
        """The scoped key and the digest of this report (None for the platform's own keys); None without a key."""
        if self.idempotency_key is None:
            return None
        scope = self.idempotency_scope or idempotency.scope_of(self.actor)
        digest = None if scope == idempotency.INTERNAL else idempotency.report_digest(
            source=self.source.value, kind=self.kind.value, class_code=self.class_code, location=self.location,
            description=self.description, urgency=self.urgency.value, reporter=self.reporter,
            reporter_phone=self.reporter_phone, component_id=self.component_id,
            photos=(p.sha256 for p in self.photos),
        )  # fmt: skip
        return idempotency.scoped_key(scope, self.idempotency_key), digest


@dataclass(frozen=True, slots=True)
class ActOnCase(Command):
    """Move a case by one action; handled by ``act_on_case``, which returns an ``Acted``."""

    case_no: str
    action: Action
    actor: Actor
    reason: str = ""
    standard_id: int | None = None
    department_code: str | None = None
    handler: str | None = None
    extension: str | None = None
    duplicate_of: str | None = None
    photos: tuple[StoredFile, ...] = ()


@dataclass(frozen=True, slots=True)
class Reported:
    case_no: str
    created: bool
    duplicates: list[tuple[str, float]] = field(default_factory=list)
    """Open cases of the same class nearby in the reporter's scope: (case number, metres), nearest first."""
    repeat_of: str | None = None
    nearby: int = 0
    """How many open cases of the same class are nearby, in anyone's scope (a count, no numbers)."""


@dataclass(frozen=True, slots=True)
class Acted:
    case_no: str
    state: State
    due_at: datetime | None
    seq: int
    department_code: str | None = None
