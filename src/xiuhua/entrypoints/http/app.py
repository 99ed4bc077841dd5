"""create_app(): the FastAPI application over one Runtime (or parts given by a test)."""

from __future__ import annotations

from importlib import resources

from fastapi import FastAPI
from fastapi.responses import HTMLResponse

from xiuhua import __version__
from xiuhua.bootstrap import Runtime, bootstrap
from xiuhua.config import Settings, get_settings
from xiuhua.entrypoints.http import errors
from xiuhua.entrypoints.http.context import AppContext
from xiuhua.entrypoints.http.headers import SecurityHeaders
from xiuhua.entrypoints.http.limits import BodyLimit
from xiuhua.entrypoints.http.routers import admin, auth, cases, evaluation, events, layers, reference
from xiuhua.entrypoints.http.routers import evidence as uploads
from xiuhua.kernel.ports import Clock
from xiuhua.org.domain.accounts import Backoff, Throttle
from xiuhua.org.services.accounts import AuthRules
from xiuhua.platform.files import FileEvidenceStore

PREFIX = "/api/v1"
DESCRIPTION = (
    "绣花数字城管平台的 HTTP 接口：案件上报与办理、我的待办、组织与标准目录、网格与部件、实时事件流。"
    "所有错误以 JSON {code, message, details} 返回。"
)


def _throttle(settings: Settings) -> Throttle:
    top, account_top = settings.login_max_wait_seconds, settings.login_account_max_wait_seconds
    return Throttle(
        pair=Backoff(settings.login_free_failures, 2, top),
        address=Backoff(settings.login_address_free_failures, 2, top),
        account=Backoff(settings.login_address_free_failures, 1, account_top),
    )


def create_app(
    runtime: Runtime | None = None,
    *,
    settings: Settings | None = None,
    clock: Clock | None = None,
    rules: AuthRules | None = None,
    evidence: FileEvidenceStore | None = None,
) -> FastAPI:
    """The API over ``runtime`` (default: bootstrapped from the settings, the database migrated); a test may
    put its own settings, clock, login rules or evidence store in place of the runtime's."""
    settings = settings or (runtime.settings if runtime else get_settings())
    rt = runtime or bootstrap(settings=settings)
    if rt.settings is not settings or (clock is not None and clock is not rt.clock):
        rt = rt.but(clock=clock, settings=settings)
    ctx = AppContext(
        runtime=rt,
        rules=rules or AuthRules(_throttle(settings), settings.refresh_token_days),
        evidence=evidence or rt.evidence,
    )
    ctx.resolve_secret()
    app = FastAPI(
        title="绣花 Xiuhua API",
        version=__version__,
        description=DESCRIPTION,
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    app.state.ctx = ctx
    errors.install(app)
    app.add_middleware(BodyLimit, max_body=settings.max_body_bytes, max_upload=settings.max_upload_bytes)
    app.add_middleware(SecurityHeaders)  # outermost of these: every answer gets the headers
    for module in (auth, cases, uploads, events, reference, layers, evaluation, admin):
        app.include_router(module.router, prefix=PREFIX)
    from xiuhua.entrypoints.http.open311 import router as open311_router  # GeoReport v2, at its own root

    app.include_router(open311_router)

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        page = resources.files("xiuhua.entrypoints.http").joinpath("static/docs.html").read_text("utf-8")
        return HTMLResponse(page)

    from xiuhua.entrypoints.http.routers import console  # the web console's read models and pages
    from xiuhua.entrypoints.web import mount_console

    app.include_router(console.router, prefix=PREFIX)
    mount_console(app)
    return app
