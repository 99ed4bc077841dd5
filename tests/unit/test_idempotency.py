"""Idempotency keys: one length rule for every way in, and one test of a retry against the report a key named."""

from __future__ import annotations

import pytest

from xiuhua.cases.domain import idempotency as idem
from xiuhua.kernel.errors import InvalidInputError


def test_a_key_is_one_to_sixty_four_characters_under_the_callers_code() -> None:
    assert idem.checked_key("k" * idem.MAX_KEY_LENGTH) == "k" * 64
    for bad in ("", "k" * 65):
        with pytest.raises(InvalidInputError) as refused:
            idem.checked_key(bad)
        assert refused.value.code == "case.bad_idempotency_key"
        with pytest.raises(InvalidInputError) as refused:
            idem.checked_key(bad, "open311.bad_idempotency_key")
        assert refused.value.code == "open311.bad_idempotency_key"
    with pytest.raises(InvalidInputError):
        idem.scoped_key(idem.INTERNAL, "")


def test_scopes_never_meet() -> None:
    assert idem.scoped_key("account:a", "k") != idem.scoped_key("account:b", "k") != idem.scoped_key(idem.OPEN311, "k")
    assert len(idem.scoped_key(idem.OPEN311, "k")) == 64


def test_a_retry_finds_its_case_and_another_report_is_refused() -> None:
    assert idem.retry_of(None, "d1") is None  # a new key
    assert idem.retry_of(("C1", "d1"), "d1") == "C1"
    assert idem.retry_of(("C1", None), "d2") == "C1"  # stored before digests were kept
    assert idem.retry_of(("C1", "d1"), None) == "C1"  # the platform's own keys are not compared
    with pytest.raises(idem.IdempotencyKeyReusedError) as refused:
        idem.retry_of(("C1", "d1"), "d2")
    assert refused.value.code == "case.idempotency_key_reused"
