"""Browser fixtures: a real uvicorn server on a free loopback port over a small demo city, and Debian's
chromium driven by Playwright.

The city (census at 2 %, unit grids and outlines, two simulated days ending now) is built once per run.
Without chromium the tests are skipped, unless ``CI`` or ``XIUHUA_REQUIRE_BROWSER=1`` is set: then they
fail.
"""

from __future__ import annotations

import functools
import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
import uvicorn
from argon2 import PasswordHasher

from xiuhua.bootstrap import Runtime
from xiuhua.cases.services.policy import load_policy
from xiuhua.config import Settings
from xiuhua.demo.city import DEMO_CITIZEN, DEMO_PASSWORD, build_demo
from xiuhua.demo.simulation import SimulationConfig, simulate
from xiuhua.demo.sources import demo_sources
from xiuhua.entrypoints.http.app import create_app
from xiuhua.geo.services import layers
from xiuhua.org.adapters import holidays
from xiuhua.org.services import accounts
from xiuhua.org.services import calendar as calendar_service
from xiuhua.platform.db.engine import make_engine, upgrade
from xiuhua.platform.files import FileEvidenceStore
from xiuhua.unit_of_work import SqlUnitOfWork

CHROMIUM = os.environ.get("XIUHUA_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--use-angle=swiftshader", "--enable-unsafe-swiftshader",
]  # fmt: skip
REQUIRED = bool(os.environ.get("CI")) or os.environ.get("XIUHUA_REQUIRE_BROWSER") == "1"
ARTIFACTS = Path(__file__).parent / "artifacts"
SH = ZoneInfo("Asia/Shanghai")
FAST_RULES = accounts.AuthRules(hasher=PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if shutil.which(CHROMIUM) or os.path.exists(CHROMIUM) or REQUIRED:
        return
    skip = pytest.mark.skip(reason=f"chromium 不可用（{CHROMIUM}）：make test 会安装它（apt-get install chromium）")
    for item in items:
        if "tests/browser" in str(item.fspath):
            item.add_marker(skip)


@dataclass
class Site:
    """The running console: its base URL and a plain HTTP client for setting the scene."""

    base: str
    engine: Any
    http: httpx.Client

    def token(self, username: str) -> str:
        r = self.http.post("/api/v1/auth/token", data={"username": username, "password": DEMO_PASSWORD})
        assert r.status_code == 200, r.text
        return str(r.json()["access_token"])

    def call(self, method: str, path: str, username: str, **kw: Any) -> Any:
        r = self.http.request(method, path, headers={"Authorization": f"Bearer {self.token(username)}"}, **kw)
        assert r.status_code < 300, f"{method} {path}: {r.status_code} {r.text}"
        return r.json() if r.content else None


def _build_city(url: str, evidence: Path) -> None:
    engine = make_engine(url)
    upgrade(engine)
    uow = SqlUnitOfWork(engine)
    build_demo(demo_sources(census_scale=0.02), uow, calendar_service.load_calendar(uow, holidays.statutory_days))
    layers.seed_default_layers(uow)
    today = datetime.now(SH).replace(hour=0, minute=0, second=0, microsecond=0)
    config = SimulationConfig(days=2, seed=11, start=today - timedelta(days=2), reports_per_day=30)
    simulate(config, lambda: uow, load_policy(uow, holidays.statutory_days), FileEvidenceStore(evidence))
    with uow:
        usernames = [s.username for s in uow.staff.all()]
    accounts.ensure_staff_logins(usernames, DEMO_PASSWORD, uow, Runtime(engine).clock, FAST_RULES)
    username, name, phone = DEMO_CITIZEN
    cmd = accounts.RegisterCitizen(username, DEMO_PASSWORD, name, phone)
    accounts.register_citizen(cmd, uow, Runtime(engine).clock, FAST_RULES)
    engine.dispose()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    root = tmp_path_factory.mktemp("console")
    url = f"sqlite:///{root / 'city.db'}"
    _build_city(url, root / "evidence")
    engine = make_engine(url)
    settings = Settings(database_url=url, evidence_dir=str(root / "evidence"))
    app = create_app(Runtime(engine), settings=settings, rules=FAST_RULES)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "uvicorn did not start"
    base = f"http://127.0.0.1:{port}"
    with httpx.Client(base_url=base, timeout=30) as http:
        yield Site(base, engine, http)
    server.should_exit = True
    thread.join(timeout=10)
    engine.dispose()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        pytest.fail(f"chromium 不可用（{CHROMIUM}）：运行 make test（或 apt-get install -y chromium）安装")
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class Pages:
    """Opens a fresh browser context (its own storage) per user, logged in through the login page."""

    def __init__(self, browser: Any, site: Site, name: str) -> None:
        self.browser, self.site, self.name = browser, site, name
        self.contexts: list[Any] = []
        self.shots = 0
        self.csp_violations: list[str] = []

    def open(self, username: str | None, path: str, *, phone: bool = False, **context: Any) -> Any:
        options: dict[str, Any] = {"locale": "zh-CN", "timezone_id": "Asia/Shanghai", **context}
        if phone:
            options.update(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
        else:
            options.setdefault("viewport", {"width": 1440, "height": 900})
        ctx = self.browser.new_context(base_url=self.site.base, **options)
        self.contexts.append(ctx)
        page = ctx.new_page()
        page.set_default_timeout(15_000)
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("console", lambda m: _note_csp_violation(m, errors, self.csp_violations))
        page.errors = errors  # type: ignore[attr-defined]
        page.wait_for_function = functools.partial(_wait_for_function, page)  # type: ignore[method-assign]
        if username:
            page.goto("/console/")
            page.fill("input[name=username]", username)
            page.fill("input[name=password]", DEMO_PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(lambda url: not url.rstrip("/").endswith("/console"))
        page.goto(path)
        return page

    def shot(self, page: Any, label: str) -> Path:
        self.shots += 1
        path = ARTIFACTS / f"{self.name}-{self.shots:02d}-{label}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    def close(self) -> None:
        for ctx in self.contexts:
            ctx.close()


def _note_csp_violation(message: Any, *into: list[str]) -> None:
    """The console runs under its Content-Security-Policy: anything it blocks is an error of the page."""
    if message.type == "error" and "Content Security Policy" in message.text:
        for found in into:
            found.append(message.text)


def _wait_for_function(page: Any, expression: str, timeout: float | None = None, **_: Any) -> None:
    """Page.wait_for_function by polling page.evaluate: Playwright's own evaluates its predicate with eval()
    inside the page, which the console's Content-Security-Policy (no 'unsafe-eval') rightly refuses."""
    deadline = time.monotonic() + (timeout or 15_000) / 1000
    while not page.evaluate(expression):
        assert time.monotonic() < deadline, f"timed out waiting for {expression}"
        page.wait_for_timeout(100)


@pytest.fixture
def pages(browser: Any, site: Site, request: pytest.FixtureRequest) -> Iterator[Pages]:
    opened = Pages(browser, site, request.node.name)
    yield opened
    opened.close()
    assert opened.csp_violations == []
