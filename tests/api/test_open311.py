"""Open311 GeoReport v2 conformance, written from the spec: discovery, services and definitions, posting and
reading requests in JSON and XML, the search filters and limits, tokens, errors in the spec's shape, no
personal data in what the public reads, and reports that enter the closed loop like any public report."""

from __future__ import annotations

import io
import re
from typing import Any
from xml.etree import ElementTree as ET

import pytest
import shapely
from PIL import Image

from tests.api.conftest import HERE, Api
from tests.api.helpers import png
from xiuhua.geo.adapters.crs import Crs, from_wgs84
from xiuhua.unit_of_work import SqlUnitOfWork

V2 = "/open311/v2"
REQUEST_FIELDS = {
    "service_request_id", "status", "status_notes", "service_name", "service_code", "description",
    "agency_responsible", "service_notice", "requested_datetime", "updated_datetime", "expected_datetime",
    "address", "address_id", "zipcode", "lat", "long", "media_url",
}  # fmt: skip
SERVICE_FIELDS = {"service_code", "service_name", "description", "metadata", "type", "keywords", "group"}
W3C = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00$")
CJK = re.compile(r"[\u4e00-\u9fff]")
CITIZEN = {"first_name": "小明", "last_name": "王", "phone": "13812345678", "email": "wang@example.cn"}


def api_key(api: Api, name: str = "城市通") -> str:
    r = api.post("/api/v1/admin/api-keys", "admin", json={"name": name})
    assert r.status_code == 201, r.text
    return str(r.json()["key"])


def form(key: str, **overrides: Any) -> dict[str, Any]:
    """A valid request as a consumer app sends it: a community's point and its code as address_id."""
    return {
        "api_key": key,
        "service_code": "component-01001",
        "lat": HERE["lat"],
        "long": HERE["lon"],
        "address_id": HERE["community_code"],
        "address_string": HERE["address"],
        "description": "井盖不见了，晚上很危险",
        **CITIZEN,
        **overrides,
    }


def post(api: Api, key: str, fmt: str = "json", **overrides: Any) -> Any:
    return api.client.post(f"{V2}/requests.{fmt}", data=form(key, **overrides))


def created(api: Api, key: str, **overrides: Any) -> str:
    r = post(api, key, **overrides)
    assert r.status_code == 201, r.text
    return str(r.json()[0]["service_request_id"])


def case_count(api: Api) -> int:
    with SqlUnitOfWork(api.engine) as uow:
        return sum(uow.cases.count_by("state").values())


def xml(r: Any) -> ET.Element:
    assert r.headers["content-type"].startswith("text/xml"), r.headers["content-type"]
    return ET.fromstring(r.content)


def open311_error(r: Any, status: int, code: str) -> None:
    """The spec's error shape: a list of {code, description}; ours adds the stable machine code."""
    assert r.status_code == status, r.text
    if r.headers["content-type"].startswith("text/xml"):
        root = xml(r)
        assert root.tag == "errors" and [e.tag for e in root] == ["error"]
        assert root.findtext("error/code") == str(status) and root.findtext("error/xiuhua_code") == code
        assert CJK.search(root.findtext("error/description") or "")
        return
    body = r.json()
    assert isinstance(body, list) and len(body) == 1, body
    assert body[0]["code"] == status and body[0]["xiuhua_code"] == code and CJK.search(body[0]["description"])


# ----- discovery and services ---------------------------------------------------------------------
def test_discovery_in_both_formats(sqlite_api: Api) -> None:
    body = sqlite_api.client.get(f"{V2}/discovery.json").json()
    assert {"changeset", "contact", "key_service", "endpoints"} <= set(body)
    (endpoint,) = body["endpoints"]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"].endswith("/open311/v2") and endpoint["type"] in ("production", "test")
    assert endpoint["formats"] == ["text/xml", "application/json"]
    assert "gcj02" in body["crs"] and any(e.startswith("crs") for e in body["extensions"])
    root = xml(sqlite_api.client.get(f"{V2}/discovery.xml"))
    assert root.tag == "discovery"
    assert root.findtext("endpoints/endpoint/specification") == "http://wiki.open311.org/GeoReport_v2"
    assert [f.text for f in root.findall("endpoints/endpoint/formats/format")] == ["text/xml", "application/json"]


def test_services_list_the_catalog_in_both_formats(sqlite_api: Api) -> None:
    services = sqlite_api.client.get(f"{V2}/services.json").json()
    with SqlUnitOfWork(sqlite_api.engine) as uow:
        classes = uow.catalog.classes()
    assert len(services) == len(classes) > 300
    assert all(set(s) == SERVICE_FIELDS for s in services)
    assert all(s["metadata"] is True and s["type"] == "realtime" for s in services)
    by_code = {s["service_code"]: s for s in services}
    assert by_code["component-01001"]["service_name"] == "供水井盖"
    assert by_code["component-01001"]["group"] == "市政公用设施"
    assert by_code["matter-01001"]["service_name"] == "供水井盖异常"
    root = xml(sqlite_api.client.get(f"{V2}/services.xml"))
    assert root.tag == "services" and len(root.findall("service")) == len(services)
    first = root.find("service")
    assert first is not None and {child.tag for child in first} == SERVICE_FIELDS
    assert first.findtext("metadata") == "true"


def test_service_definition_carries_the_catalog_conditions(sqlite_api: Api) -> None:
    body = sqlite_api.client.get(f"{V2}/services/component-01001.json").json()
    assert body["service_code"] == "component-01001"
    condition, component = body["attributes"]
    with SqlUnitOfWork(sqlite_api.engine) as uow:
        standards = [s for s in uow.catalog.standards() if s.code == "01001" and s.kind.value == "component"]
    assert condition["code"] == "condition" and condition["datatype"] == "singlevaluelist"
    assert condition["required"] is False and condition["variable"] is True and condition["order"] == 1
    assert [v["key"] for v in condition["values"]] == [str(s.id) for s in standards]
    assert condition["values"][0]["name"].startswith(standards[0].filing_condition)
    assert component["code"] == "component_id" and component["datatype"] == "string" and "values" not in component
    matter = sqlite_api.client.get(f"{V2}/services/matter-06001.json").json()
    assert [a["code"] for a in matter["attributes"]] == ["condition"]  # matters have no component id
    root = xml(sqlite_api.client.get(f"{V2}/services/component-01001.xml"))
    assert root.tag == "service_definition" and root.findtext("service_code") == "component-01001"
    values = root.findall("attributes/attribute/values/value")
    assert [v.findtext("key") for v in values] == [str(s.id) for s in standards]
    for path in ("services/component-99999.json", "services/bridge-01001.json", "services/component-01001.xml"):
        r = sqlite_api.client.get(f"{V2}/{path}")
        if path.endswith(".xml"):
            assert r.status_code == 200
        else:
            open311_error(r, 404, "open311.unknown_service")
    open311_error(sqlite_api.client.get(f"{V2}/services/component-99999.xml"), 404, "open311.unknown_service")


def test_unknown_paths_and_formats_answer_in_the_spec_format(sqlite_api: Api) -> None:
    open311_error(sqlite_api.client.get(f"{V2}/services.yaml"), 404, "open311.bad_format")
    open311_error(sqlite_api.client.get(f"{V2}/nothing.json"), 404, "open311.not_found")
    open311_error(sqlite_api.client.get(f"{V2}/nothing.xml"), 404, "open311.not_found")
    open311_error(sqlite_api.client.get(f"{V2}/requests/12.json"), 404, "open311.unknown_request")
    open311_error(sqlite_api.client.get(f"{V2}/requests/2026030300000001.xml"), 404, "open311.unknown_request")
    open311_error(sqlite_api.client.get(f"{V2}/tokens/abcdefabcdef.json"), 404, "open311.unknown_token")
    assert "/open311/v2/services.{fmt}" not in sqlite_api.client.get("/openapi.json").json()["paths"]


# ----- posting ------------------------------------------------------------------------------------
def test_a_request_enters_the_closed_loop_as_a_public_report(api: Api) -> None:
    key = api_key(api)
    r = post(api, key, **{"attribute[condition]": str(api.standard_id())})
    assert r.status_code == 201, r.text
    (answer,) = r.json()
    assert set(answer) == {"service_request_id", "token", "service_notice", "account_id"}
    case_no = answer["service_request_id"]
    assert case_no in answer["service_notice"] and answer["account_id"] is None
    staff = api.get(f"/api/v1/cases/{case_no}", "acceptor1").json()
    assert (staff["state"], staff["state_label"], staff["source"]) == ("reported", "待受理", "public")
    assert (staff["reporter"], staff["reporter_phone"]) == ("王小明", "13812345678")
    assert staff["community_code"] == HERE["community_code"] and staff["class_code"] == "01001"
    assert "井盖不见了" in staff["description"] and "立案条件" in staff["description"]
    assert staff["log"][0]["role"] == "citizen" and staff["log"][0]["actor"] == "open311:城市通"
    queue = [c["case_no"] for c in api.get("/api/v1/tasks", "acceptor1").json()]
    assert case_no in queue
    acted = api.act(case_no, "send_verify", "acceptor1")  # a public report is verified on site
    assert acted.status_code == 200 and acted.json()["state"] == "verifying"
    public = api.client.get(f"{V2}/requests/{case_no}.json?extensions=true").json()
    (request,) = public
    assert set(request) == REQUEST_FIELDS | {"extended_attributes"}
    assert (request["status"], request["status_notes"]) == ("open", "核实中")
    assert request["service_code"] == "component-01001" and request["service_name"] == "供水井盖"
    assert W3C.match(request["requested_datetime"]) and W3C.match(request["updated_datetime"])
    assert request["updated_datetime"] > request["requested_datetime"]
    assert request["address"] == HERE["address"] and request["address_id"] == HERE["community_code"]
    assert abs(request["lat"] - HERE["lat"]) < 1e-9 and abs(request["long"] - HERE["lon"]) < 1e-9
    extended = request["extended_attributes"]
    assert (extended["state"], extended["state_label"]) == ("verifying", "核实中")
    assert [(e["action"], e["state"]) for e in extended["timeline"]] == [
        ("report", "reported"), ("send_verify", "verifying")]  # fmt: skip
    text = str(public)
    for private in ("王小明", "小明", "13812345678", "wang@example.cn", "acceptor1", "open311:"):
        assert private not in text
    assert "extended_attributes" not in api.client.get(f"{V2}/requests/{case_no}.json").json()[0]


def test_requests_read_back_in_xml_and_closed_when_voided(api: Api) -> None:
    key = api_key(api)
    r = post(api, key, "xml")
    assert r.status_code == 201
    root = xml(r)
    assert root.tag == "service_requests" and root.findtext("request/token")
    case_no = root.findtext("request/service_request_id")
    assert case_no
    voided = api.act(case_no, "void", "acceptor1", reason="重复上报")
    assert voided.status_code == 200, voided.text
    read = xml(api.client.get(f"{V2}/requests/{case_no}.xml?extensions=true"))
    request = read.find("request")
    assert request is not None and {c.tag for c in request} == REQUEST_FIELDS | {"extended_attributes"}
    assert request.findtext("status") == "closed" and request.findtext("status_notes") == "已作废"
    assert [e.findtext("state_label") for e in request.findall("extended_attributes/timeline/entry")] == [
        "待受理", "已作废"]  # fmt: skip
    assert request.findtext("zipcode") == "" and request.findtext("lat")
    listed = xml(api.client.get(f"{V2}/requests.xml?status=closed"))
    assert [e.findtext("service_request_id") for e in listed.findall("request")] == [case_no]


def test_bad_posts_get_spec_errors_and_write_nothing(sqlite_api: Api) -> None:
    api = sqlite_api
    key = api_key(api)
    before = case_count(api)
    no_key = {k: v for k, v in form(key).items() if k != "api_key"}
    open311_error(api.client.post(f"{V2}/requests.json", data=no_key), 403, "auth.missing_api_key")
    open311_error(post(api, "xh_not-a-key"), 403, "auth.invalid_api_key")
    open311_error(post(api, "xh_not-a-key", "xml"), 403, "auth.invalid_api_key")
    open311_error(post(api, key, service_code=""), 400, "open311.missing_service_code")
    open311_error(post(api, key, service_code="component-99999"), 404, "open311.unknown_service")
    open311_error(post(api, key, lat="", long="", address_id="", address_string=""), 400, "open311.missing_location")
    open311_error(post(api, key, long=""), 400, "open311.incomplete_point")
    open311_error(post(api, key, lat="北纬34"), 400, "open311.bad_point")
    open311_error(post(api, key, lat="91"), 400, "open311.bad_point")
    open311_error(post(api, key, lat="nan"), 400, "open311.bad_point")
    open311_error(post(api, key, address_id="4102"), 400, "open311.bad_address_id")
    open311_error(post(api, key, crs="bd09"), 400, "geo.unknown_crs")
    open311_error(post(api, key, **{"attribute[colour]": "red"}), 400, "open311.unknown_attribute")
    open311_error(post(api, key, **{"attribute[condition]": "999999"}), 400, "open311.bad_attribute")
    open311_error(post(api, key, **{"attribute[component_id]": "12"}), 400, "open311.bad_attribute")
    open311_error(post(api, key, phone="call me"), 400, "open311.bad_phone")
    open311_error(post(api, key, media_url="file:///etc/passwd"), 400, "open311.bad_media_url")
    open311_error(post(api, key, description="长" * 4001), 400, "open311.description_too_long")
    no_outline = {"lat": "", "long": "", "address_string": "", "address_id": "410212101001"}  # a 祥符区 community
    open311_error(post(api, key, **no_outline), 400, "open311.cannot_locate")
    open311_error(post(api, key, address_id="", lat="", long=""), 400, "open311.address_not_found")
    open311_error(post(api, key, address_id="", lat="10", long="10"), 400, "geo.outside")
    bad_photo = api.client.post(f"{V2}/requests.json", data=form(key), files={"media": ("a.jpg", b"GIF89a0000")})
    open311_error(bad_photo, 400, "evidence.bad_type")
    broken = api.client.post(f"{V2}/requests.json", content=b"--x\r\nbroken", headers={
        "Content-Type": "multipart/form-data"})  # fmt: skip
    open311_error(broken, 400, "open311.bad_body")
    two = {"media": ("a.png", png(), "image/png"), "other": ("b.png", png(), "image/png")}
    open311_error(api.client.post(f"{V2}/requests.json", data=form(key), files=two), 400, "open311.bad_body")
    open311_error(post(api, key, first_name="名" * 65), 400, "open311.bad_name")
    open311_error(post(api, key, idempotency_key="k" * 65), 400, "open311.bad_idempotency_key")
    revoked = api_key(api, "旧应用")
    assert api.client.delete("/api/v1/admin/api-keys/旧应用", headers=api.auth("admin")).status_code == 204
    open311_error(post(api, revoked), 403, "auth.invalid_api_key")
    assert case_count(api) == before


def test_retries_with_an_idempotency_key_make_one_case_and_the_token_finds_it(sqlite_api: Api) -> None:
    api = sqlite_api
    key = api_key(api)
    first = api.client.post(f"{V2}/requests.json", data=form(key), headers={"Idempotency-Key": "app-7"})
    again = api.client.post(f"{V2}/requests.json", data=form(key, idempotency_key="app-7"))
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()[0]["service_request_id"] == again.json()[0]["service_request_id"]
    token = first.json()[0]["token"]
    assert again.json()[0]["token"] == token
    other_app = api.client.post(f"{V2}/requests.json", data=form(api_key(api, "另一应用"), idempotency_key="app-7"))
    assert other_app.status_code == 201 and other_app.json()[0]["token"] != token  # keys are per client
    found = api.client.get(f"{V2}/tokens/{token}.json").json()
    assert found == [{"service_request_id": first.json()[0]["service_request_id"], "token": token}]
    root = xml(api.client.get(f"{V2}/tokens/{token}.xml"))
    assert root.findtext("request/service_request_id") == first.json()[0]["service_request_id"]
    plain = post(api, key).json()[0]
    assert plain["token"] != token and api.client.get(f"{V2}/tokens/{plain['token']}.json").status_code == 200


def test_duplicates_are_pointed_out_like_any_report(sqlite_api: Api) -> None:
    api = sqlite_api
    key = api_key(api)
    first = created(api, key)
    second = post(api, key, long=HERE["lon"] + 0.0001).json()[0]
    assert "附近已有 1 件同类问题" in second["service_notice"]
    assert second["service_request_id"] != first


def test_gcj02_coordinates_in_and_out(sqlite_api: Api) -> None:
    api = sqlite_api
    gcj_lon, gcj_lat = from_wgs84(HERE["lon"], HERE["lat"], Crs.GCJ02)
    assert abs(gcj_lon - HERE["lon"]) > 1e-3  # the offset is real (hundreds of metres)
    case_no = created(api, api_key(api), lat=gcj_lat, long=gcj_lon, crs="gcj02")
    staff = api.get(f"/api/v1/cases/{case_no}", "acceptor1").json()
    assert abs(staff["lon"] - HERE["lon"]) < 1e-6 and abs(staff["lat"] - HERE["lat"]) < 1e-6
    as_gcj = api.client.get(f"{V2}/requests/{case_no}.json?crs=gcj02&extensions=true").json()[0]
    assert abs(as_gcj["long"] - gcj_lon) < 1e-6 and abs(as_gcj["lat"] - gcj_lat) < 1e-6
    assert as_gcj["extended_attributes"]["crs"] == "gcj02"


def test_uploaded_media_is_cleaned_stored_and_served_and_media_url_is_kept(sqlite_api: Api) -> None:
    api = sqlite_api
    key = api_key(api)
    photo = io.BytesIO()
    exif = Image.Exif()
    exif[0x010F] = "CameraMaker"
    Image.new("RGB", (8, 8), (10, 200, 10)).save(photo, "JPEG", exif=exif.tobytes())
    r = api.client.post(
        f"{V2}/requests.json", data=form(key), files={"media": ("p.jpg", photo.getvalue(), "image/jpeg")}
    )
    assert r.status_code == 201, r.text
    case_no = r.json()[0]["service_request_id"]
    staff = api.get(f"/api/v1/cases/{case_no}", "acceptor1").json()
    assert [p["stage"] for p in staff["photos"]] == ["report"]
    media_url = api.client.get(f"{V2}/requests/{case_no}.json").json()[0]["media_url"]
    assert media_url.endswith(f"/open311/v2/media/{staff['photos'][0]['sha256']}")
    image = api.client.get(media_url)
    assert image.status_code == 200 and image.headers["content-type"] == "image/jpeg"
    assert b"CameraMaker" not in image.content and image.content.startswith(b"\xff\xd8")
    open311_error(api.client.get(f"{V2}/media/{'0' * 64}"), 404, "open311.unknown_media")
    linked = created(api, key, media_url="https://img.example.cn/a.jpg", long=HERE["lon"] + 0.004)
    assert api.client.get(f"{V2}/requests/{linked}.json").json()[0]["media_url"] == "https://img.example.cn/a.jpg"


def test_an_address_alone_is_placed_by_the_community_it_names(sqlite_api: Api) -> None:
    api = sqlite_api
    with SqlUnitOfWork(api.engine) as uow:
        name = next(r.name for r in uow.regions.all() if r.code == HERE["community_code"])
        square = shapely.box(114.34, 34.80, 114.35, 34.81)
        uow.geo.put_region_shapes([(HERE["community_code"], square, True, "test")])
        uow.commit()
    key = api_key(api)
    case_no = created(api, key, lat="", long="", address_id="", address_string=f"龙亭区{name}东门口")
    staff = api.get(f"/api/v1/cases/{case_no}", "acceptor1").json()
    assert staff["community_code"] == HERE["community_code"]
    assert square.contains(shapely.Point(staff["lon"], staff["lat"]))
    by_id = created(api, key, lat="", long="", address_string="", address_id=HERE["community_code"])
    assert api.get(f"/api/v1/cases/{by_id}", "acceptor1").json()["address"] == name
    open311_error(post(api, key, lat="", long="", address_id="", address_string="火星基地"), 400,
                  "open311.address_not_found")  # fmt: skip


# ----- searching ----------------------------------------------------------------------------------
def test_search_filters_window_and_limits(api: Api) -> None:
    key = api_key(api)
    old = created(api, key)
    api.clock.advance(days=60)
    matter = created(api, key, service_code="matter-06001", long=HERE["lon"] + 0.002)
    newest = created(api, key, long=HERE["lon"] + 0.004)
    assert api.act(newest, "void", "acceptor1", reason="不属实").status_code == 200

    def ids(query: str = "", fmt: str = "json") -> list[str]:
        r = api.client.get(f"{V2}/requests.{fmt}?{query}")
        assert r.status_code == 200, r.text
        if fmt == "xml":
            return [e.findtext("service_request_id") or "" for e in xml(r).findall("request")]
        return [item["service_request_id"] for item in r.json()]

    assert ids() == [newest, matter, old] == ids(fmt="xml")  # newest first
    assert ids("status=open") == [matter, old] and ids("status=closed") == [newest]
    assert ids("status=open,closed") == [newest, matter, old]
    assert ids("service_code=matter-06001") == [matter] and ids("service_code=component-99999") == []
    assert ids("service_code=component-01001,matter-06001&status=open") == [matter, old]
    assert ids("start_date=2026-03-10T00:00:00Z") == [newest, matter]
    assert ids("end_date=2026-03-10T00:00:00%2B08:00") == [old]
    assert ids("start_date=2026-03-03&end_date=2026-03-04") == [old]  # dates alone are Shanghai days
    assert ids(f"service_request_id={old},{newest}&status=open") == [newest, old]  # ids override filters
    assert ids("page_size=2") == [newest, matter] and ids("page_size=2&page=2") == [old]
    api.clock.advance(days=40)  # the default window is the last 90 days
    assert ids() == [newest, matter]
    assert ids("start_date=2026-03-01T00:00:00Z&end_date=2026-05-29T00:00:00Z") == [newest, matter, old]
    for query, code in (
        ("start_date=2026-01-01T00:00:00Z&end_date=2026-05-01T00:00:00Z", "open311.date_range_too_long"),
        ("start_date=2026-05-01T00:00:00Z&end_date=2026-04-01T00:00:00Z", "open311.bad_date_range"),
        ("start_date=yesterday", "open311.bad_date"),
        ("status=pending", "open311.bad_status"),
        ("service_code=bridge", "open311.bad_service_code"),
        ("service_request_id=abc", "open311.bad_request_id"),
        ("page_size=1001", "open311.bad_page_size"),
        ("page_size=0", "open311.bad_page_size"),
        ("page=x", "open311.bad_page"),
    ):
        open311_error(api.client.get(f"{V2}/requests.json?{query}"), 400, code)


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_searches_show_no_personal_data(sqlite_api: Api, fmt: str) -> None:
    api = sqlite_api
    created(api, api_key(api))
    api.report("citizen_li")  # a citizen account's own report, by the app
    body = api.client.get(f"{V2}/requests.{fmt}?extensions=true").text
    assert body.count("service_request_id") >= 2
    for private in ("王小明", "13812345678", "wang@example.cn", "李雷", "13987654321", "citizen_li", "open311:"):
        assert private not in body


def test_png_upload_works_as_well(sqlite_api: Api) -> None:
    api = sqlite_api
    r = api.client.post(f"{V2}/requests.xml", data=form(api_key(api)), files={"media": ("p.png", png(), "image/png")})
    assert r.status_code == 201
    case_no = xml(r).findtext("request/service_request_id")
    media_url = api.client.get(f"{V2}/requests/{case_no}.json").json()[0]["media_url"]
    assert api.client.get(media_url).headers["content-type"] == "image/png"


def test_text_xml_cannot_carry_is_dropped_and_typed_links_are_not_media(sqlite_api: Api) -> None:
    api = sqlite_api
    key = api_key(api)
    case_no = created(api, key, description="井盖\x01缺失\n图片链接：javascript:alert(1)")
    request = xml(api.client.get(f"{V2}/requests/{case_no}.xml")).find("request")
    assert request is not None and (request.findtext("description") or "").startswith("井盖缺失")
    assert request.findtext("media_url") == ""
    assert api.client.get(f"{V2}/requests/{case_no}.json").json()[0]["description"].startswith("井盖\x01缺失")


def test_details_typed_into_a_hotline_description_are_masked(sqlite_api: Api) -> None:
    api = sqlite_api
    text = "王女士来电：井盖缺失，回电13800001111或13912345678，邮箱 wang.nv@example.cn"
    r = api.report("acceptor1", source="hotline", reporter="王女士", reporter_phone="13800001111", description=text)
    assert r.status_code == 201, r.text
    (request,) = api.client.get(f"{V2}/requests/{r.json()['case_no']}.json").json()
    assert request["description"] == "王**来电：井盖缺失，回电138****1111或139****5678，邮箱 ***@***"
    staff = api.get(f"/api/v1/cases/{r.json()['case_no']}", "acceptor1").json()
    assert staff["description"] == text  # only the public view is masked
