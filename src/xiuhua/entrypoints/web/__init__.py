"""The web console: static pages (plain HTML and ES modules) served beside the API."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

from xiuhua.geo.services import layers

STATIC = Path(str(resources.files("xiuhua.entrypoints.web").joinpath("static")))


def mount_console(app: FastAPI) -> None:
    """Serve the console under /console/ and send the site root there. A city without any map layer
    gets the product's default layers, which the command center draws."""
    uow = app.state.ctx.uow()
    with uow:
        empty = not uow.layers.codes()
    if empty:
        layers.seed_default_layers(uow)

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse("/console/")

    app.mount("/console", StaticFiles(directory=STATIC, html=True), name="console")
