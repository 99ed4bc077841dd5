"""`xiuhua serve`: the HTTP API under uvicorn; several worker processes when the database is PostgreSQL."""

from __future__ import annotations

import os
from typing import Annotated

import typer
import uvicorn

from xiuhua.entrypoints.cli.console import out, reports_errors, runtime

APP_FACTORY = "xiuhua.entrypoints.http.app:create_app"


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)


@reports_errors
def serve(
    host: Annotated[str, typer.Option(help="监听地址")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="端口")] = 8000,
    workers: Annotated[
        int | None, typer.Option(help="工作进程数（默认：PostgreSQL 上为 CPU 核数，最多 8；SQLite 上为 1）")
    ] = None,
) -> None:
    """启动 HTTP 接口（接口文档见 /docs，离线可用）。"""
    rt = runtime()  # migrates once here, before any worker starts
    postgres = rt.engine.dialect.name == "postgresql"
    count = workers or (min(os.cpu_count() or 1, 8) if postgres else 1)
    rt.engine.dispose()
    out.print(f"接口：http://{host}:{port}/api/v1  文档：http://{host}:{port}/docs  进程数：{count}")
    run_api(host, port, count)


def run_api(host: str, port: int, workers: int = 1) -> None:
    """Serve until interrupted (the application is built inside each worker process)."""
    uvicorn.run(APP_FACTORY, factory=True, host=host, port=port, workers=workers, log_level="warning")
