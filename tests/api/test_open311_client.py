"""Round trips with third-party Open311 clients from PyPI against a real uvicorn server on a loopback port.

``georeport`` lists services, reads a definition and reads requests back, in JSON and in XML; it cannot
create requests (its README says so), so in its test the POST goes out through ``requests``, the HTTP
library georeport itself uses. ``civicbot`` files a request with its own code, after checking the form
against the live service definition, and reads it back. (``open311`` 1.1 and ``three`` 0.8.0 are Python 2
only and do not import on Python 3.)
"""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import uvicorn
from civicbot.http import HttpTransport, RateLimiter
from civicbot.open311 import CONFIRM_TOKEN, Open311Client, ValidationError
from civicbot.registry import Endpoint
from georeport import GeoReport

from tests.api.conftest import FAST_RULES, HERE, START
from xiuhua.bootstrap import Runtime
from xiuhua.config import Settings
from xiuhua.entrypoints.http.app import create_app
from xiuhua.kernel.actor import Role
from xiuhua.kernel.clock import FakeClock
from xiuhua.org.domain.accounts import AccountKind, Principal
from xiuhua.org.services import accounts
from xiuhua.platform.db.engine import make_engine
from xiuhua.platform.files import FileEvidenceStore
from xiuhua.unit_of_work import SqlUnitOfWork

ADMIN = Principal("admin", AccountKind.STAFF, frozenset({Role.ADMIN}))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(sqlite_template: Path, tmp_path: Path) -> Iterator[tuple[str, str, SqlUnitOfWork]]:
    """(Open311 root URL, an api_key, a unit of work on the same database) of a server that runs for one test."""
    path = tmp_path / "city.db"
    shutil.copy(sqlite_template, path)
    engine = make_engine(f"sqlite:///{path}")
    clock = FakeClock(START)
    key = accounts.create_api_key(ADMIN, "第三方客户端", SqlUnitOfWork(engine), clock)
    settings = Settings(database_url=str(engine.url), evidence_dir=str(tmp_path / "evidence"))
    app = create_app(Runtime(engine), settings=settings, clock=clock, rules=FAST_RULES,
                     evidence=FileEvidenceStore(tmp_path / "evidence"))  # fmt: skip
    port = free_port()
    uv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not uv.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}/open311/v2", key, SqlUnitOfWork(engine)
    finally:
        uv.should_exit = True
        thread.join(timeout=10)
        engine.dispose()


def test_third_party_client_lists_services_posts_a_request_and_reads_it_back(
    server: tuple[str, str, SqlUnitOfWork],
) -> None:
    root, key, uow = server
    client = GeoReport(root, jurisdiction="410200", api_key=key)

    services = client.get_service_list()
    codes = {s["service_code"]: s for s in services}
    assert codes["component-01001"]["service_name"] == "供水井盖" and len(services) > 300
    definition = client.get_service_definition("component-01001")
    condition = definition["attributes"][0]
    assert condition["code"] == "condition" and condition["values"]

    posted = requests.post(
        f"{client.root_address}/requests.json",
        data={
            "api_key": client.api_key,
            "jurisdiction_id": client.jurisdiction,
            "service_code": "component-01001",
            f"attribute[{condition['code']}]": condition["values"][0]["key"],
            "lat": HERE["lat"],
            "long": HERE["lon"],
            "address_id": HERE["community_code"],
            "address_string": HERE["address"],
            "description": "人行道上的井盖缺失",
            "first_name": "小明",
            "last_name": "王",
            "phone": "13812345678",
        },
        timeout=30,
    )
    assert posted.status_code == 201, posted.text
    case_no = posted.json()[0]["service_request_id"]

    read = client.get_service_request(case_no)
    assert read["service_request_id"] == case_no and read["status"] == "open" and read["status_notes"] == "待受理"
    assert read["service_code"] == "component-01001" and read["description"].startswith("人行道上的井盖缺失")
    assert abs(float(read["lat"]) - HERE["lat"]) < 1e-9
    assert [r["service_request_id"] for r in client.get_service_requests(service_request_id=case_no)] == [case_no]
    assert case_no in [r["service_request_id"] for r in client.get_service_requests(status="open")]
    assert client.get_service_requests(status="closed") == []
    assert "13812345678" not in str(client.get_service_requests())

    as_xml = GeoReport(root, output_format="xml")
    assert {s["service_code"] for s in as_xml.get_service_list()} == set(codes)
    assert as_xml.get_service_definition("component-01001")["service_code"] == "component-01001"
    read_xml = as_xml.get_service_request(case_no)
    assert read_xml["service_request_id"] == case_no and read_xml["status_notes"] == "待受理"
    assert read_xml["service_name"] == "供水井盖"

    with uow:
        case = uow.cases.get(case_no)
    assert case is not None and case.state.value == "reported" and case.source.value == "public"
    assert case.reporter_phone == "13812345678"


def test_the_client_sees_http_errors_for_unknown_things(server: tuple[str, str, SqlUnitOfWork]) -> None:
    root, _, _ = server
    client = GeoReport(root)
    with pytest.raises(requests.HTTPError) as info:
        client.get_service_definition("component-99999")
    assert info.value.response.status_code == 404
    assert info.value.response.json()[0]["code"] == 404
    with pytest.raises(requests.HTTPError) as denied:
        requests.post(f"{root}/requests.json", data={"api_key": "wrong", "service_code": "component-01001"},
                      timeout=30).raise_for_status()  # fmt: skip
    assert denied.value.response.status_code == 403


def test_a_second_client_files_a_request_itself_and_follows_it(server: tuple[str, str, SqlUnitOfWork]) -> None:
    """``civicbot`` (PyPI, MIT) posts requests itself: it first checks the form against the live service
    definition, then files it, then reads it back by id and by token."""
    root, key, uow = server
    endpoint = Endpoint(id="kaifeng", name="开封", base_url=root, write=True)
    client = Open311Client(endpoint, HttpTransport(rate_limiter=RateLimiter(min_interval=0)), jurisdiction_id="410200")
    condition = client.get_service_definition("component-01001")["attributes"][0]
    sent = client.create_request(
        "component-01001",
        dry_run=False,
        confirm=CONFIRM_TOKEN,
        api_key=key,
        validate_remote=True,  # the service list and definition, read live, check the form before it is sent
        lat=HERE["lat"],
        lng=HERE["lon"],
        address_string=HERE["address"],
        address_id=HERE["community_code"],  # this test city has no outlines to locate a bare point in
        description="路灯不亮，夜间行人看不清路",
        attributes={condition["code"]: condition["values"][0]["key"]},
        phone="13912345678",
    )
    (answer,) = sent.response
    case_no = answer["service_request_id"]
    read = client.get_request(case_no)
    assert read is not None and read["service_request_id"] == case_no and read["status"] == "open"
    assert read["description"].startswith("路灯不亮") and "13912345678" not in str(read)
    assert [r["service_request_id"] for r in client.list_requests(service_request_ids=[case_no])] == [case_no]
    with pytest.raises(ValidationError):  # an attribute value the definition does not offer never leaves
        client.create_request("component-01001", dry_run=False, confirm=CONFIRM_TOKEN, api_key=key,
                              validate_remote=True, lat=HERE["lat"], lng=HERE["lon"], address_id=HERE["community_code"],
                              attributes={condition["code"]: "no-such-condition"})  # fmt: skip
    with uow:
        case = uow.cases.get(case_no)
    assert case is not None and case.source.value == "public" and case.reporter_phone == "13912345678"
