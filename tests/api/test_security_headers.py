"""Every response says how a browser may treat it: no sniffing, no framing, no referrer to other sites,
and a Content-Security-Policy: the console's allows its own files only, photos none at all."""

from __future__ import annotations

import base64
import hashlib
import re

from tests.api.conftest import Api
from tests.api.helpers import photo
from tests.api.test_open311 import V2, form
from xiuhua.entrypoints.web import STATIC


def csp(r: object) -> dict[str, str]:
    policy = r.headers["content-security-policy"]  # type: ignore[attr-defined]
    directives = (p.strip().partition(" ") for p in policy.split(";") if p.strip())
    return {name: value for name, _, value in directives}


def common(r: object) -> None:
    headers = r.headers  # type: ignore[attr-defined]
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] in ("no-referrer", "same-origin")


def test_console_pages_allow_their_own_scripts_only(sqlite_api: Api) -> None:
    page = sqlite_api.client.get("/console/")
    assert page.status_code == 200
    common(page)
    policy = csp(page)
    assert policy["default-src"] == "'self'" and policy["object-src"] == "'none'"
    assert policy["frame-ancestors"] == "'none'" and "'unsafe-eval'" not in page.headers["content-security-policy"]
    scripts = policy["script-src"].split()
    assert "'unsafe-inline'" not in scripts and "'self'" in scripts
    inline = re.search(r"<script type=\"module\">(.*?)</script>", (STATIC / "index.html").read_text("utf-8"), re.S)
    assert inline is not None
    digest = base64.b64encode(hashlib.sha256(inline.group(1).encode()).digest()).decode()
    assert f"'sha256-{digest}'" in scripts  # the login page's inline module
    assert "blob:" in policy["worker-src"]  # the map draws in workers made from blobs
    assert "blob:" in policy["img-src"]  # photos shown from fetched blobs
    for path in ("/console/js/api.js", "/console/command.html", "/"):
        common(sqlite_api.client.get(path, follow_redirects=False))


def test_the_docs_page_runs_its_own_script(sqlite_api: Api) -> None:
    page = sqlite_api.client.get("/docs")
    common(page)
    policy = csp(page)
    inline = re.search(r"<script>(.*?)</script>", page.text, re.S)
    assert inline is not None
    digest = base64.b64encode(hashlib.sha256(inline.group(1).encode()).digest()).decode()
    assert policy["script-src"] == f"'sha256-{digest}'" and policy["connect-src"] == "'self'"
    assert policy["default-src"] == "'none'"


def test_api_answers_and_photos_are_sandboxed(sqlite_api: Api) -> None:
    api = sqlite_api
    for r in (api.client.get("/api/v1/auth/me"), api.client.get("/nowhere"), api.client.get("/openapi.json"),
              api.get("/api/v1/tasks", "acceptor1")):  # fmt: skip
        common(r)
        assert csp(r)["default-src"] == "'none'" and "sandbox" in csp(r)
    sha = photo(api, "supervisor_410202001")
    case_no = api.report(photos=[sha]).json()["case_no"]
    image = api.get(f"/api/v1/cases/{case_no}/photos/{sha}", "acceptor1")
    assert image.status_code == 200
    common(image)
    assert csp(image) == {"default-src": "'none'", "frame-ancestors": "'none'", "sandbox": ""}
    key = api.post("/api/v1/admin/api-keys", "admin", json={"name": "城市通"}).json()["key"]
    posted = api.client.post(f"{V2}/requests.json", data=form(key), files={"media": ("p.png", _png(), "image/png")})
    assert posted.status_code == 201, posted.text
    media_url = api.client.get(f"{V2}/requests/{posted.json()[0]['service_request_id']}.json").json()[0]["media_url"]
    media = api.client.get(media_url)
    assert media.status_code == 200
    common(media)
    assert csp(media) == {"default-src": "'none'", "frame-ancestors": "'none'", "sandbox": ""}


def _png() -> bytes:
    from tests.api.helpers import png

    return png((10, 200, 10))
