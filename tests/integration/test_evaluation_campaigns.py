"""Special campaigns on hand-made cases, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tests.integration.test_evaluation import WATER, City, make_city, make_march
from xiuhua.bootstrap import messagebus
from xiuhua.cases.services.deadlines import sweep
from xiuhua.evaluation.services import campaigns as cp
from xiuhua.kernel.errors import InvalidInputError, NotFoundError
from xiuhua.org.services.actors import load_actor
from xiuhua.unit_of_work import SqlUnitOfWork

COVERS = {
    "code": "covers-longting",
    "name": "龙亭区井盖整治",
    "classes": [["component", "01001"]],
    "regions": ["410202"],
    "start": "2026-03-01",
    "end": "2026-03-31",
    "headquarters": "龙亭区城市管理委员会",
    "targets": [
        {"kind": "dispose_within", "name": "2 小时内补齐", "hours": 2, "share": 1.0},
        {"kind": "closed_share", "name": "全部办结", "share": 1.0},
        {"kind": "quantity", "name": "更换防坠网", "amount": 10, "unit": "km"},
    ],
}


@pytest.fixture
def city(uow: SqlUnitOfWork) -> City:
    return make_city(uow)


@pytest.fixture
def march(city: City) -> dict[str, str]:
    return make_march(city)


def test_the_eleven_packaged_campaigns_load(city: City) -> None:
    loaded = cp.load_campaigns(city.uow)
    assert len(loaded) == 11
    assert {"overhead-wires", "facades", "static-parking", "outdoor-ads", "manhole-covers"} <= {c.code for c in loaded}


def test_progress_per_campaign_and_per_unit_match_the_hand_computation(city: City, march: dict[str, str]) -> None:
    m = march
    cp.put_campaign(cp.PutCampaign(COVERS, "admin"), city.uow, city.clock)
    assert len(cp.load_campaigns(city.uow)) == 12  # the packaged eleven were kept
    cp.record_work(cp.RecordWork("covers-longting", WATER, date(2026, 3, 3), 4.0, "", "water"), city.uow, city.clock)
    progress = cp.campaign_progress(cp.ShowProgress("covers-longting"), city.uow)
    assert (progress.cases, progress.closed) == (4, 3)  # a, b, c, d; e was voided before filing
    within, closed, quantity = progress.targets
    assert within.numerator_cases == [m["a"]]  # put right 1 h 15 min after the report; b took 4 h 45 min
    assert within.denominator_cases == sorted([m["a"], m["b"], m["c"], m["d"]])
    assert (within.actual, within.achievement) == (0.25, 0.25)
    assert (closed.actual, closed.achievement) == (0.75, 0.75)
    assert (quantity.actual, quantity.achievement) == (4.0, 0.4)
    assert progress.score == 46.67  # (0.25 + 0.75 + 0.4) / 3
    assert [(u.unit, u.cases, u.score) for u in progress.units] == [(WATER, 4, 46.67)]
    april = cp.campaign_progress(cp.ShowProgress("covers-longting", "2026-04"), city.uow)
    assert april.cases == 0 and april.targets[0].achievement is None


def test_areas_out_of_scope_are_left_out(city: City, march: dict[str, str]) -> None:
    cp.put_campaign(cp.PutCampaign({**COVERS, "regions": ["410203"]}, "admin"), city.uow, city.clock)
    progress = cp.campaign_progress(cp.ShowProgress("covers-longting"), city.uow)
    assert progress.cases == 0 and progress.score == 0.0  # nothing disposed or closed; no work reported


def test_the_headquarters_urges_overdue_cases_of_its_campaign(city: City, march: dict[str, str]) -> None:
    cp.put_campaign(cp.PutCampaign(COVERS, "admin"), city.uow, city.clock)
    city.clock.advance(days=1)
    sweep(city.uow, city.clock, city.policy)
    leader = load_actor(city.uow, "leader")
    urged = cp.urge_campaign(
        cp.UrgeCampaign("covers-longting", leader),
        city.uow,
        city.clock,
        messagebus(city.uow, city.clock, city.policy).handle,
    )
    assert march["d"] in urged
    progress = cp.campaign_progress(cp.ShowProgress("covers-longting", "2026-03"), city.uow)
    assert progress.urged >= 1


def test_bad_definitions_and_reports_are_refused(city: City) -> None:
    for bad in ({**COVERS, "end": "2026-02-01"}, {**COVERS, "classes": []}, {**COVERS, "targets": [{"kind": "x"}]}):
        with pytest.raises(InvalidInputError) as info:
            cp.put_campaign(cp.PutCampaign(bad, "admin"), city.uow, city.clock)
        assert info.value.code == "campaign.bad_definition"
    cp.put_campaign(cp.PutCampaign(COVERS, "admin"), city.uow, city.clock)
    day = date(2026, 3, 3)
    cases = [
        (cp.RecordWork("covers-longting", WATER, day, 0, "", "w"), "campaign.bad_amount"),
        (cp.RecordWork("covers-longting", WATER, day + timedelta(days=60), 1, "", "w"), "campaign.outside_window"),
        (cp.RecordWork("static-parking", WATER, day, 1, "", "w"), "campaign.no_quantity_target"),
    ]
    for cmd, code in cases:
        with pytest.raises(InvalidInputError) as info:
            cp.record_work(cmd, city.uow, city.clock)
        assert info.value.code == code
    with pytest.raises(NotFoundError) as missing:
        cp.record_work(cp.RecordWork("covers-longting", "nobody", day, 1, "", "w"), city.uow, city.clock)
    assert missing.value.code == "campaign.unknown_unit"
    with pytest.raises(NotFoundError):
        cp.campaign_progress(cp.ShowProgress("no-such"), city.uow)
