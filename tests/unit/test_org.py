"""Tests of the organisation tree: regions, credit codes, class selectors, roles, staff and organisations."""

from __future__ import annotations

import csv
from importlib import resources

import pytest

from xiuhua.kernel.actor import Role
from xiuhua.kernel.errors import DomainError, InvalidInputError
from xiuhua.org.domain.model import (
    USCC_CHARSET,
    ClassKind,
    ClassSelector,
    Organization,
    OrgKind,
    OrgLevel,
    Region,
    RegionLevel,
    Staff,
    uscc_check_char,
    validate_uscc,
)

CITY_CENTER_CODE = "12410202D92N8X1B21"  # 开封市城市管理监督中心, from the bundled department list
CITY_BUREAU_CODE = "1141020292C3N93C5N"  # 开封市城市管理局


def _department_codes() -> list[str]:
    source = resources.files("xiuhua") / "data" / "org" / "kaifeng_departments.csv"
    with source.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    codes = [row["code"] for row in rows] + [row["parent_code"] for row in rows if row["parent_code"]]
    return sorted(set(codes))


DEPARTMENT_CODES = _department_codes()


def _with_check_char(first17: str) -> str:
    return first17 + uscc_check_char(first17)


def _other_check_char(code: str) -> str:
    """The code with its check character replaced by a different valid character."""
    replacement = next(c for c in USCC_CHARSET if c != code[17])
    return code[:17] + replacement


# ---------------------------------------------------------------- regions


@pytest.mark.parametrize(
    ("code", "level", "parent"),
    [
        ("410200", RegionLevel.CITY, None),
        ("410202", RegionLevel.DISTRICT, "410200"),
        ("410221", RegionLevel.DISTRICT, "410200"),
        ("410202001", RegionLevel.STREET, "410202"),
        ("410202001001", RegionLevel.COMMUNITY, "410202001"),
    ],
)
def test_region_accepts_well_formed_codes(code: str, level: RegionLevel, parent: str | None) -> None:
    region = Region(code, "某区划", level, parent)
    assert region.code == code
    assert region.level is level
    assert region.parent_code == parent


@pytest.mark.parametrize(
    ("level", "expected"),
    [(RegionLevel.CITY, 6), (RegionLevel.DISTRICT, 6), (RegionLevel.STREET, 9), (RegionLevel.COMMUNITY, 12)],
)
def test_region_level_code_length(level: RegionLevel, expected: int) -> None:
    assert level.code_length == expected


@pytest.mark.parametrize(
    ("code", "level", "parent"),
    [
        ("41020", RegionLevel.CITY, None),
        ("4102000", RegionLevel.CITY, None),
        ("41020A", RegionLevel.DISTRICT, "410200"),
        ("410202", RegionLevel.STREET, "410202"),
        ("4102020011", RegionLevel.STREET, "410202"),
        ("410202001", RegionLevel.COMMUNITY, "410202"),
        ("41020200100１", RegionLevel.COMMUNITY, "410202001"),  # full-width digit
        ("", RegionLevel.DISTRICT, "410200"),
    ],
)
def test_region_rejects_code_of_wrong_length_or_characters(code: str, level: RegionLevel, parent: str | None) -> None:
    with pytest.raises(InvalidInputError) as caught:
        Region(code, "某区划", level, parent)
    assert caught.value.code == "region.bad_code"


def test_region_rejects_blank_name() -> None:
    with pytest.raises(InvalidInputError) as caught:
        Region("410202", "  ", RegionLevel.DISTRICT, "410200")
    assert caught.value.code == "region.no_name"


def test_city_region_must_not_have_parent() -> None:
    with pytest.raises(InvalidInputError) as caught:
        Region("410200", "开封市", RegionLevel.CITY, "410000")
    assert caught.value.code == "region.bad_parent"


@pytest.mark.parametrize(
    ("code", "level", "parent"),
    [
        ("410202", RegionLevel.DISTRICT, None),
        ("410202", RegionLevel.DISTRICT, ""),
        ("410202", RegionLevel.DISTRICT, "410200001"),  # a street code as parent of a district
        ("410202001", RegionLevel.STREET, None),
        ("410202001", RegionLevel.STREET, "41020"),
        ("410202001", RegionLevel.STREET, "410202001"),  # parent of street must be 6 digits
        ("410202001001", RegionLevel.COMMUNITY, "410202"),  # parent of community must be 9 digits
        ("410202001001", RegionLevel.COMMUNITY, None),
    ],
)
def test_region_rejects_parent_of_wrong_length(code: str, level: RegionLevel, parent: str | None) -> None:
    with pytest.raises(InvalidInputError) as caught:
        Region(code, "某区划", level, parent)
    assert caught.value.code == "region.bad_parent"


@pytest.mark.parametrize(
    ("code", "level", "parent"),
    [
        ("410203001", RegionLevel.STREET, "410202"),
        ("410202002001", RegionLevel.COMMUNITY, "410202001"),
    ],
)
def test_street_and_community_code_must_start_with_parent(code: str, level: RegionLevel, parent: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        Region(code, "某区划", level, parent)
    assert caught.value.code == "region.bad_parent"


def test_district_code_need_not_start_with_city_code() -> None:
    # County-level codes do not always share the city's prefix (e.g. directly administered counties).
    region = Region("419001", "某县", RegionLevel.DISTRICT, "410200")
    assert region.parent_code == "410200"


# ---------------------------------------------------------------- unified social credit codes


def test_bundled_department_list_is_not_empty() -> None:
    assert len(DEPARTMENT_CODES) >= 50


@pytest.mark.parametrize("code", DEPARTMENT_CODES)
def test_bundled_department_codes_are_valid(code: str) -> None:
    assert validate_uscc(code) == code
    assert uscc_check_char(code[:17]) == code[17]


@pytest.mark.parametrize("code", DEPARTMENT_CODES[:10])
def test_changed_check_char_is_rejected(code: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        validate_uscc(_other_check_char(code))
    assert caught.value.code == "org.bad_credit_code"


def test_changed_body_char_is_rejected() -> None:
    code = CITY_CENTER_CODE
    changed = code[:8] + ("1" if code[8] != "1" else "2") + code[9:]
    with pytest.raises(InvalidInputError) as caught:
        validate_uscc(changed)
    assert caught.value.code == "org.bad_credit_code"


def test_check_char_of_all_zero_body_is_zero() -> None:
    assert uscc_check_char("0" * 17) == "0"
    assert validate_uscc("0" * 18) == "0" * 18


def test_check_char_is_always_in_charset() -> None:
    for body in ("91350100M000100Y4", "12410202D92N8X1B2", "YYYYYYYYYYYYYYYYY", "11111111111111111"):
        assert uscc_check_char(body) in USCC_CHARSET


def test_known_public_credit_code_is_valid() -> None:
    # A widely quoted example of a well-formed code (GB 32100-2015 check digit).
    assert validate_uscc("91350100M000100Y43") == "91350100M000100Y43"


@pytest.mark.parametrize(
    "code",
    [
        "",
        CITY_CENTER_CODE[:17],
        CITY_CENTER_CODE + "0",
        CITY_CENTER_CODE.lower(),
        " " + CITY_CENTER_CODE[1:],
    ],
)
def test_malformed_credit_code_is_rejected(code: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        validate_uscc(code)
    assert caught.value.code == "org.bad_credit_code"


@pytest.mark.parametrize("letter", ["I", "O", "S", "V", "Z"])
def test_forbidden_letters_are_rejected(letter: str) -> None:
    assert letter not in USCC_CHARSET
    body = "914102" + letter + "MA00000000"
    assert len(body) == 17
    with pytest.raises(InvalidInputError) as caught:
        validate_uscc(body + "0")
    assert caught.value.code == "org.bad_credit_code"
    # Even in the check position a forbidden letter is rejected.
    with pytest.raises(InvalidInputError) as caught:
        validate_uscc(CITY_CENTER_CODE[:17] + letter)
    assert caught.value.code == "org.bad_credit_code"


def test_uscc_charset_has_31_distinct_characters() -> None:
    assert len(USCC_CHARSET) == 31
    assert len(set(USCC_CHARSET)) == 31


# ---------------------------------------------------------------- class kinds and selectors


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("component", ClassKind.COMPONENT),
        ("部件", ClassKind.COMPONENT),
        (" Component ", ClassKind.COMPONENT),
        ("matter", ClassKind.MATTER),
        ("event", ClassKind.MATTER),
        ("EVENT", ClassKind.MATTER),
        ("事项", ClassKind.MATTER),
        ("事件", ClassKind.MATTER),
        (" 事件 ", ClassKind.MATTER),
    ],
)
def test_class_kind_parse(text: str, expected: ClassKind) -> None:
    assert ClassKind.parse(text) is expected


@pytest.mark.parametrize("text", ["", "components", "部件类", "item", "事", "0"])
def test_class_kind_parse_rejects_unknown(text: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        ClassKind.parse(text)
    assert caught.value.code == "catalog.bad_kind"


def test_class_kind_labels() -> None:
    assert ClassKind.COMPONENT.label == "部件"
    assert ClassKind.MATTER.label == "事项"


@pytest.mark.parametrize(
    ("text", "kind", "prefix"),
    [
        ("component:01", ClassKind.COMPONENT, "01"),
        ("matter:06001", ClassKind.MATTER, "06001"),
        ("部件:01001", ClassKind.COMPONENT, "01001"),
        ("事件:07", ClassKind.MATTER, "07"),
        (" matter : 10002 ", ClassKind.MATTER, "10002"),
    ],
)
def test_class_selector_parse(text: str, kind: ClassKind, prefix: str) -> None:
    selector = ClassSelector.parse(text)
    assert selector == ClassSelector(kind, prefix)
    assert str(selector) == f"{kind.value}:{prefix}"


@pytest.mark.parametrize("text", ["component01", "component:1", "component:001", "matter:0600", "matter:060011", ""])
def test_class_selector_parse_rejects_bad_code(text: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        ClassSelector.parse(text)
    assert caught.value.code == "org.bad_class_selector"


def test_class_selector_parse_rejects_bad_kind() -> None:
    with pytest.raises(InvalidInputError) as caught:
        ClassSelector.parse("thing:01")
    assert caught.value.code == "catalog.bad_kind"


def test_class_selector_str_round_trips() -> None:
    for text in ("component:01", "matter:06001"):
        assert str(ClassSelector.parse(text)) == text
        assert ClassSelector.parse(str(ClassSelector.parse(text))) == ClassSelector.parse(text)


@pytest.mark.parametrize(
    ("selector", "kind", "code", "expected"),
    [
        ("component:01", ClassKind.COMPONENT, "01001", True),
        ("component:01", ClassKind.COMPONENT, "01071", True),
        ("component:01", ClassKind.COMPONENT, "02001", False),
        ("component:01", ClassKind.MATTER, "01001", False),
        ("matter:06001", ClassKind.MATTER, "06001", True),
        ("matter:06001", ClassKind.MATTER, "06002", False),
        ("matter:06001", ClassKind.COMPONENT, "06001", False),
        ("matter:07", ClassKind.MATTER, "07012", True),
        ("matter:07", ClassKind.MATTER, "17012", False),
    ],
)
def test_class_selector_matches(selector: str, kind: ClassKind, code: str, expected: bool) -> None:
    assert ClassSelector.parse(selector).matches(kind, code) is expected


def test_class_selectors_sort_by_kind_then_code() -> None:
    selectors = [ClassSelector.parse(t) for t in ("matter:06", "component:02", "component:01001")]
    assert [str(s) for s in sorted(selectors)] == ["component:01001", "component:02", "matter:06"]


# ---------------------------------------------------------------- roles


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("supervisor", Role.SUPERVISOR),
        ("监督员", Role.SUPERVISOR),
        ("acceptor", Role.ACCEPTOR),
        ("受理员", Role.ACCEPTOR),
        ("shift_leader", Role.SHIFT_LEADER),
        ("值班长", Role.SHIFT_LEADER),
        ("dispatcher", Role.DISPATCHER),
        ("派遣员", Role.DISPATCHER),
        ("handler", Role.HANDLER),
        ("部门处置员", Role.HANDLER),
        ("leader", Role.LEADER),
        ("领导", Role.LEADER),
        ("admin", Role.ADMIN),
        ("管理员", Role.ADMIN),
        ("  派遣员 ", Role.DISPATCHER),
    ],
)
def test_role_parse(text: str, expected: Role) -> None:
    assert Role.parse(text) is expected


def test_every_staff_role_parses_from_its_value_and_label() -> None:
    for role in Role:
        if role is Role.SYSTEM:
            continue
        assert Role.parse(role.value) is role
        assert Role.parse(role.label) is role
    assert len({role.label for role in Role}) == len(Role)


@pytest.mark.parametrize("text", ["system", "系统"])
def test_the_system_role_is_never_a_staff_accounts(text: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        Role.parse(text)
    assert info.value.code == "staff.bad_role"


@pytest.mark.parametrize("text", ["", "boss", "处置员", "监督", "super visor"])
def test_role_parse_rejects_unknown(text: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        Role.parse(text)
    assert caught.value.code == "staff.bad_role"
    assert caught.value.details["role"] == text


# ---------------------------------------------------------------- staff


def _staff(**overrides: object) -> Staff:
    fields: dict[str, object] = {
        "username": "zhang.san",
        "name": "张三",
        "roles": frozenset({Role.SUPERVISOR}),
        "scope_region_code": "410202",
    }
    fields.update(overrides)
    return Staff(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize("username", ["ab", "zhang.san", "user_01", "a-b", "A" * 64, "0123"])
def test_staff_accepts_valid_usernames(username: str) -> None:
    assert _staff(username=username).username == username


@pytest.mark.parametrize("username", ["a", "", "A" * 65, "张三", "zhang san", "a@b", "a/b"])
def test_staff_rejects_bad_usernames(username: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        _staff(username=username)
    assert caught.value.code == "staff.bad_username"


def test_staff_needs_a_role() -> None:
    with pytest.raises(InvalidInputError) as caught:
        _staff(roles=frozenset())
    assert caught.value.code == "staff.no_role"


def test_staff_may_have_several_roles() -> None:
    staff = _staff(roles=frozenset({Role.ACCEPTOR, Role.SHIFT_LEADER}))
    assert staff.roles == {Role.ACCEPTOR, Role.SHIFT_LEADER}


def test_staff_scoped_to_an_organization() -> None:
    staff = _staff(scope_region_code=None, scope_organization_code=CITY_BUREAU_CODE, roles=frozenset({Role.HANDLER}))
    assert staff.scope_organization_code == CITY_BUREAU_CODE
    assert staff.scope_region_code is None


@pytest.mark.parametrize(
    ("region", "organization"),
    [(None, None), ("", ""), ("", None), ("410202", CITY_BUREAU_CODE)],
)
def test_staff_needs_exactly_one_scope(region: str | None, organization: str | None) -> None:
    with pytest.raises(InvalidInputError) as caught:
        _staff(scope_region_code=region, scope_organization_code=organization)
    assert caught.value.code == "staff.bad_scope"


@pytest.mark.parametrize("phone", [None, "", "13800138000", "+8613800138000", "0371-23456789", "12345"])
def test_staff_accepts_valid_phones(phone: str | None) -> None:
    assert _staff(phone=phone).phone == phone


@pytest.mark.parametrize("phone", ["1234", "138 0013 8000", "phone", "1" * 21, "(0371)2345678", "a1234"])
def test_staff_rejects_bad_phones(phone: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        _staff(phone=phone)
    assert caught.value.code == "staff.bad_phone"


def test_staff_errors_are_domain_errors() -> None:
    with pytest.raises(DomainError):
        _staff(username="?")


# ---------------------------------------------------------------- organisations


def _organization(**overrides: object) -> Organization:
    fields: dict[str, object] = {
        "code": CITY_BUREAU_CODE,
        "name": "开封市城市管理局",
        "kind": OrgKind.DEPARTMENT,
        "level": OrgLevel.CITY,
        "region_code": "410200",
    }
    fields.update(overrides)
    return Organization(**fields)  # type: ignore[arg-type]


def test_organization_with_valid_code() -> None:
    org = _organization(classes=(ClassSelector.parse("component:01"),))
    assert org.code == CITY_BUREAU_CODE
    assert org.regions_served == ("410200",)


def test_organization_jurisdiction_overrides_region_served() -> None:
    org = _organization(jurisdiction=("410202", "410203"))
    assert org.regions_served == ("410202", "410203")


def test_organization_may_have_another_parent() -> None:
    org = _organization(code=CITY_CENTER_CODE, parent_code=CITY_BUREAU_CODE)
    assert org.parent_code == CITY_BUREAU_CODE


@pytest.mark.parametrize("code", [_other_check_char(CITY_BUREAU_CODE), "1141020292C3N93C5", "", "91410200MA0000000I"])
def test_organization_rejects_bad_credit_code(code: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        _organization(code=code)
    assert caught.value.code == "org.bad_credit_code"


def test_organization_rejects_blank_name() -> None:
    with pytest.raises(InvalidInputError) as caught:
        _organization(name=" ")
    assert caught.value.code == "org.no_name"


def test_organization_cannot_be_its_own_parent() -> None:
    with pytest.raises(InvalidInputError) as caught:
        _organization(parent_code=CITY_BUREAU_CODE)
    assert caught.value.code == "org.bad_parent"


def test_org_kind_labels() -> None:
    assert OrgKind.DEPARTMENT.label == "专业部门"
    assert OrgKind.SUPERVISION_CENTER.label == "监督中心"
    assert OrgKind.COMMAND_CENTER.label == "指挥中心"


def test_valid_code_built_with_check_char_is_accepted() -> None:
    code = _with_check_char("91410200MA0000000")
    assert validate_uscc(code) == code
