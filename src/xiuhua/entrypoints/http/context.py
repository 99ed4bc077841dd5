"""What every request shares: the process's Runtime (units of work, the clock, settings, evidence), the signing
secret, and the case rules and locator cached for this process."""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field

from xiuhua.bootstrap import Runtime
from xiuhua.cases.services.policy import CasePolicy
from xiuhua.config import Settings
from xiuhua.geo.adapters.locator import Locator
from xiuhua.kernel.ports import Clock
from xiuhua.org.services.accounts import AuthRules
from xiuhua.platform.files import FileEvidenceStore
from xiuhua.platform.secret_file import read_or_create
from xiuhua.ports import ApplicationUnitOfWork

POLICY_TTL_S = 30.0
"""How long a process keeps the city's case rules before reading them again (other processes' edits)."""


@dataclass
class AppContext:
    runtime: Runtime
    rules: AuthRules
    evidence: FileEvidenceStore
    secret: str = ""
    _policy: tuple[float, CasePolicy] | None = None
    _locator: Locator | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def clock(self) -> Clock:
        return self.runtime.clock

    @property
    def settings(self) -> Settings:
        return self.runtime.settings

    def uow(self) -> ApplicationUnitOfWork:
        return self.runtime.uow()

    def resolve_secret(self) -> None:
        """The configured secret (XIUHUA_JWT_SECRET); in dev without one, one generated once and kept in a
        private file beside the database, so that every process serving it agrees and a copy of the database
        cannot sign tokens."""
        if self.settings.placeholder_secret:
            self.secret = read_or_create(self.settings.jwt_secret_path, lambda: secrets.token_urlsafe(48))
        else:
            self.secret = self.settings.jwt_secret.get_secret_value()

    def policy(self) -> CasePolicy:
        """The city's case rules, read again every POLICY_TTL_S by one request while the others go on
        with the copy they have (reading takes tens of milliseconds: a crowd waiting on it shows in p99)."""
        cached = self._policy
        if cached is not None and time.monotonic() - cached[0] <= POLICY_TTL_S:
            return cached[1]
        if cached is not None and not self._lock.acquire(blocking=False):
            return cached[1]
        if cached is None:
            self._lock.acquire()
        try:
            cached = self._policy
            if cached is None or time.monotonic() - cached[0] > POLICY_TTL_S:
                cached = (time.monotonic(), self.runtime.policy())
                self._policy = cached
            return cached[1]
        finally:
            self._lock.release()

    def forget_rules(self) -> None:
        """Called after an administrator changes the rules, the calendar or the organisation."""
        self._policy = None
        self._locator = None

    def locator(self) -> Locator:
        if self._locator is None:
            with self._lock:
                if self._locator is None:
                    self._locator = self.runtime.locator()
        return self._locator
