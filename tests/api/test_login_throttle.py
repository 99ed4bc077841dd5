"""Failed logins slow down the address and the (address, account) pair that make them, with waits that
double up to a cap; the account alone is held back only briefly, so nobody can lock a user out. An unknown
username and a wrong password answer alike."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi.testclient import TestClient

from tests.api.conftest import PASSWORD, Api

STRANGER = "203.0.113.9"
HOME = "198.51.100.7"
NEW_PLACE = "192.0.2.33"


def attempt(api: Api, address: str, username: str, password: str) -> httpx.Response:
    client = TestClient(api.client.app, client=(address, 50000), raise_server_exceptions=False)
    return client.post("/api/v1/auth/token", data={"username": username, "password": password})


def answer(r: httpx.Response) -> tuple[Any, ...]:
    body = r.json()
    return r.status_code, body["code"], body["message"], r.headers.get("retry-after")


def test_a_strangers_failures_do_not_lock_out_the_real_user(api: Api) -> None:
    assert attempt(api, HOME, "leader", PASSWORD).status_code == 200  # the leader's usual address
    failures = refused = 0
    while failures < 20:  # a patient stranger: waits whenever told to, then guesses again
        r = attempt(api, STRANGER, "leader", "wrong-guess-1")
        if r.status_code == 429:
            refused += 1
            api.clock.advance(seconds=int(r.headers["retry-after"]))
        else:
            assert answer(r)[:2] == (401, "auth.invalid_credentials")
            failures += 1
    assert refused > 0
    stranger = attempt(api, STRANGER, "leader", PASSWORD)  # even the right password waits there
    assert stranger.status_code == 429 and stranger.json()["code"] == "auth.throttled"
    assert attempt(api, HOME, "leader", PASSWORD).status_code == 200  # at once from home
    elsewhere = attempt(api, NEW_PLACE, "leader", PASSWORD)  # from a new address: a short wait at most
    if elsewhere.status_code == 429:
        assert 1 <= int(elsewhere.headers["retry-after"]) <= 30
        api.clock.advance(seconds=int(elsewhere.headers["retry-after"]))
        elsewhere = attempt(api, NEW_PLACE, "leader", PASSWORD)
    assert elsewhere.status_code == 200, elsewhere.text


def test_waits_double_for_one_address_and_account_up_to_a_cap(api: Api) -> None:
    for _ in range(3):
        assert attempt(api, STRANGER, "acceptor1", "wrong-guess-1").status_code == 401
    waits = []
    for _ in range(14):
        r = attempt(api, STRANGER, "acceptor1", PASSWORD)  # refused without looking at the password
        assert r.status_code == 429 and r.json()["code"] == "auth.throttled", r.text
        assert r.json()["details"]["retry_after_seconds"] == int(r.headers["retry-after"])
        waits.append(int(r.headers["retry-after"]))
        api.clock.advance(seconds=waits[-1])
        assert attempt(api, STRANGER, "acceptor1", "wrong-guess-1").status_code == 401
    assert waits[:5] == [2, 4, 8, 16, 32] and max(waits) == waits[-1] == 900
    api.clock.advance(seconds=900)
    assert attempt(api, STRANGER, "acceptor1", PASSWORD).status_code == 200
    again = attempt(api, STRANGER, "acceptor1", "wrong-guess-1")  # a success starts the pair afresh
    assert again.status_code == 401
    actions = [a["action"] for a in api.get("/api/v1/admin/audit?actor=acceptor1", "admin").json()]
    assert {"login.failed", "login.throttled", "login.ok"} <= set(actions)


def test_one_address_trying_many_accounts_is_slowed_down(api: Api) -> None:
    for i in range(10):
        assert attempt(api, STRANGER, f"guess_{i}", "wrong-guess-1").status_code == 401
    r = attempt(api, STRANGER, "dispatcher1", PASSWORD)
    assert r.status_code == 429 and r.json()["code"] == "auth.throttled"
    assert attempt(api, HOME, "dispatcher1", PASSWORD).status_code == 200  # other addresses are not


def test_unknown_usernames_and_wrong_passwords_answer_alike(api: Api) -> None:
    known = [answer(attempt(api, STRANGER, "shiftleader1", "wrong-guess-1")) for _ in range(5)]
    unknown = [answer(attempt(api, HOME, "nobody_here", "wrong-guess-1")) for _ in range(5)]
    assert known == unknown
    assert known[0] == (401, "auth.invalid_credentials", "用户名或密码错误", None)
    assert {a[1] for a in known} == {"auth.invalid_credentials", "auth.throttled"}
