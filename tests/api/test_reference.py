"""Reference data for staff, written by administrators; grids, components and layers as GeoJSON."""

from __future__ import annotations

import shapely

from tests.api.conftest import Api
from xiuhua.geo.services import layers
from xiuhua.unit_of_work import SqlUnitOfWork


def test_tables_read_for_staff_with_phones_for_admins_only(api: Api) -> None:
    for name in ("regions", "organizations", "classes", "standards", "step_limits", "routing", "calendar_days"):
        table = api.get(f"/api/v1/tables/{name}", "dispatcher1").json()
        assert table["name"] == name and table["columns"]
    staff = api.get("/api/v1/tables/staff", "dispatcher1").json()
    phone = staff["columns"].index("phone")
    rows = [{"username": "phone_owner", "name": "有电话的人", "roles": "监督员", "scope": "410202001",
             "phone": "13700000000"}]  # fmt: skip
    assert (
        api.client.put("/api/v1/admin/tables/staff", headers=api.auth("admin"), json={"rows": rows}).status_code == 200
    )
    seen = {r[0]: r[phone] for r in api.get("/api/v1/tables/staff", "dispatcher1").json()["rows"]}
    assert seen["phone_owner"] == ""
    seen = {r[0]: r[phone] for r in api.get("/api/v1/tables/staff", "admin").json()["rows"]}
    assert seen["phone_owner"] == "13700000000" and staff["rows"]
    assert api.get("/api/v1/tables/staff", "citizen_wang").status_code == 403
    assert api.get("/api/v1/tables/nothing", "admin").status_code == 422


def test_bad_rows_reject_the_whole_table_or_are_skipped(api: Api) -> None:
    rows = [{"step": "accept", "urgency": "*", "area_class": "*", "time_limit": "0.5工作时"},
            {"step": "nonsense", "urgency": "*", "area_class": "*", "time_limit": "1工作时"}]  # fmt: skip
    refused = api.client.put("/api/v1/admin/tables/step_limits", headers=api.auth("admin"), json={"rows": rows})
    assert refused.status_code == 422
    before = api.get("/api/v1/tables/step_limits", "admin").json()["rows"]
    assert ["accept", "*", "*", "0.5工作时"] not in before
    partial = api.client.put("/api/v1/admin/tables/step_limits", headers=api.auth("admin"),
                             json={"rows": rows, "skip_invalid": True})  # fmt: skip
    assert partial.status_code == 200
    assert partial.json()["written"] == 1 and partial.json()["skipped"][0]["row"] == 3
    assert ["accept", "*", "*", "0.5工作时"] in api.get("/api/v1/tables/step_limits", "admin").json()["rows"]


def test_schedules(api: Api) -> None:
    body = {"periods": "08:30-12:00,15:00-18:30", "season": "06-01:09-30"}
    r = api.client.put("/api/v1/admin/calendar/schedules/夏季", headers=api.auth("admin"), json=body)
    assert r.status_code == 200, r.text
    listed = {s["name"]: s for s in api.get("/api/v1/calendar/schedules", "acceptor1").json()}
    assert listed["夏季"]["season"] == "06-01:09-30" and len(listed) == 2
    second_all_year = api.client.put("/api/v1/admin/calendar/schedules/另一个", headers=api.auth("admin"),
                                     json={"periods": "08:00-12:00"})  # fmt: skip
    assert second_all_year.status_code == 422
    assert second_all_year.json()["code"] == "calendar.no_default_schedule"


def test_grids_and_layers_as_geojson(api: Api) -> None:
    square = shapely.box(114.340, 34.800, 114.341, 34.801)
    with SqlUnitOfWork(api.engine) as uow:
        uow.geo.replace_grids(["410202001009"], [("410202001009001", "410202001009", square, 10_000.0, "B", None)])
        uow.commit()
    found = api.get("/api/v1/grids.geojson?bbox=114.33,34.79,114.35,34.81", "dispatcher1")
    assert found.status_code == 200 and found.headers["content-type"] == "application/geo+json"
    features = found.json()["features"]
    assert [f["id"] for f in features] == ["410202001009001"] and features[0]["geometry"]["type"] == "Polygon"
    assert api.get("/api/v1/grids.geojson?bbox=100,20,101,21", "dispatcher1").json()["features"] == []
    assert api.get("/api/v1/grids.geojson?bbox=1,2,3", "dispatcher1").status_code == 422
    assert api.get("/api/v1/components.geojson?bbox=114.3,34.7,114.4,34.9", "dispatcher1").json()["features"] == []
    layers.seed_default_layers(SqlUnitOfWork(api.engine))
    catalogue = api.get("/api/v1/layers", "dispatcher1").json()
    assert catalogue and all(layer["tiles"].endswith("{z}/{x}/{y}.mvt") for layer in catalogue)
    code = catalogue[0]["code"]
    geojson = api.get(f"/api/v1/layers/{code}.geojson?bbox=114.33,34.79,114.35,34.81", "dispatcher1")
    assert geojson.status_code == 200 and geojson.json()["type"] == "FeatureCollection"
    tile = api.get(f"/api/v1/layers/{code}/tiles/12/3349/1623.mvt", "dispatcher1")
    assert tile.status_code == 200 and tile.headers["content-type"] == "application/vnd.mapbox-vector-tile"
    assert api.get("/api/v1/layers/nope.geojson?bbox=114.33,34.79,114.35,34.81", "dispatcher1").status_code == 404
    assert api.get(f"/api/v1/layers/{code}/tiles/3/99/0.mvt", "dispatcher1").status_code == 422
    assert api.get("/api/v1/grids.geojson?bbox=114.33,34.79,114.35,34.81", "citizen_wang").status_code == 403


def test_the_workflow_vocabulary_is_served_from_the_workflow_table(sqlite_api: Api) -> None:
    from xiuhua.cases.domain.workflow import TRANSITIONS, Action, State

    answer = sqlite_api.client.get("/api/v1/reference/workflow")  # public: the login page needs it too
    assert answer.status_code == 200 and "max-age" in answer.headers["cache-control"]
    body = answer.json()
    assert list(body["states"]) == [s.value for s in State] and body["states"]["closed"] == "已结案"
    assert body["final_states"] == ["closed", "voided"]
    assert body["actions"] == {a.value: a.label for a in Action}
    assert set(body["needs_reason"]) == {t.action.value for t in TRANSITIONS if t.reason_required}
    assert "rework" in body["needs_reason"] and "dispatch" not in body["needs_reason"]
    assert body["takes_photos"] == ["check_fail", "check_pass", "feedback", "refute", "verify"]
    assert "system" not in body["roles"] and body["roles"]["citizen"] == "市民"
    assert body["sources"]["hotline"] and body["steps"]["dispose"] == "处置"
