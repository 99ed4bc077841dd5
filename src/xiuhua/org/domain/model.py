"""The organisation tree: regions, organisations (departments and centers) and staff with roles and scope."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from xiuhua.kernel.actor import Role
from xiuhua.kernel.errors import InvalidInputError


class RegionLevel(StrEnum):
    CITY = "city"
    DISTRICT = "district"
    STREET = "street"
    COMMUNITY = "community"

    @property
    def code_length(self) -> int:
        return {"city": 6, "district": 6, "street": 9, "community": 12}[self.value]

    @property
    def label(self) -> str:
        return {"city": "市", "district": "区（县）", "street": "街道（乡镇）", "community": "社区（村）"}[self.value]


_PARENT_LEVEL = {
    RegionLevel.DISTRICT: RegionLevel.CITY,
    RegionLevel.STREET: RegionLevel.DISTRICT,
    RegionLevel.COMMUNITY: RegionLevel.STREET,
}


@dataclass(frozen=True, slots=True)
class Region:
    """A division of the four-level network with its statistical code (6 / 9 / 12 digits)."""

    code: str
    name: str
    level: RegionLevel
    parent_code: str | None = None
    population: int | None = None
    """Residents (常住人口), where the bureau has the figure: case volume per 10,000 people uses it."""

    def __post_init__(self) -> None:
        if self.population is not None and self.population < 0:
            raise InvalidInputError("region.bad_population", f"区划 {self.code} 的人口不能为负", code=self.code)
        if not re.fullmatch(rf"[0-9]{{{self.level.code_length}}}", self.code):
            raise InvalidInputError(
                "region.bad_code",
                f"{self.level.label}代码“{self.code}”应为 {self.level.code_length} 位数字",
                code=self.code,
            )
        if not self.name.strip():
            raise InvalidInputError("region.no_name", f"区划 {self.code} 缺少名称", code=self.code)
        if self.level is RegionLevel.CITY:
            if self.parent_code:
                raise InvalidInputError("region.bad_parent", f"市级区划 {self.code} 不应有上级", code=self.code)
            return
        parent_length = _PARENT_LEVEL[self.level].code_length
        if not self.parent_code or len(self.parent_code) != parent_length:
            raise InvalidInputError(
                "region.bad_parent",
                f"{self.level.label} {self.code} 的上级应为 {parent_length} 位的{_PARENT_LEVEL[self.level].label}代码",
                code=self.code,
            )
        if self.level is not RegionLevel.DISTRICT and not self.code.startswith(self.parent_code):
            raise InvalidInputError(
                "region.bad_parent", f"区划 {self.code} 的代码不以上级 {self.parent_code} 开头", code=self.code
            )


class OrgKind(StrEnum):
    DEPARTMENT = "department"  # 专业部门
    SUPERVISION_CENTER = "supervision_center"  # 监督中心
    COMMAND_CENTER = "command_center"  # 指挥中心

    @property
    def label(self) -> str:
        return {"department": "专业部门", "supervision_center": "监督中心", "command_center": "指挥中心"}[self.value]


class OrgLevel(StrEnum):
    CITY = "city"
    DISTRICT = "district"
    STREET = "street"


# GB 32100-2015: unified social credit code, 18 characters, the last one a mod-31 check.
USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def uscc_check_char(first17: str) -> str:
    total = sum(USCC_CHARSET.index(c) * w for c, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return USCC_CHARSET[(31 - total % 31) % 31]


def validate_uscc(code: str) -> str:
    """Return the code if it is a well-formed unified social credit code; raises InvalidInputError."""
    if len(code) != 18 or any(c not in USCC_CHARSET for c in code):
        raise InvalidInputError(
            "org.bad_credit_code", f"统一社会信用代码“{code}”应为 18 位（数字及大写字母，不含 I O S V Z）", code=code
        )
    if uscc_check_char(code[:17]) != code[17]:
        raise InvalidInputError("org.bad_credit_code", f"统一社会信用代码“{code}”校验位不正确", code=code)
    return code


class ClassKind(StrEnum):
    COMPONENT = "component"  # 部件
    MATTER = "matter"  # 事项 (事件 in the 2013 standard)

    @classmethod
    def parse(cls, text: str) -> ClassKind:
        aliases = {
            "component": cls.COMPONENT,
            "部件": cls.COMPONENT,
            "matter": cls.MATTER,
            "event": cls.MATTER,
            "事项": cls.MATTER,
            "事件": cls.MATTER,
        }
        try:
            return aliases[text.strip().lower()]
        except KeyError:
            raise InvalidInputError(
                "catalog.bad_kind", f"类型“{text}”无效，应为 部件/component 或 事项/matter"
            ) from None

    @property
    def label(self) -> str:
        return "部件" if self is ClassKind.COMPONENT else "事项"


@dataclass(frozen=True, slots=True, order=True)
class ClassSelector:
    """Which classes an organisation handles: a 2-digit major class or a 5-digit class of one kind."""

    kind: ClassKind
    code_prefix: str

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[0-9]{2}|[0-9]{5}", self.code_prefix):
            raise InvalidInputError("org.bad_class_selector", f"类别“{self.code_prefix}”应为 2 位大类或 5 位小类代码")

    @classmethod
    def parse(cls, text: str) -> ClassSelector:
        kind, sep, prefix = text.strip().partition(":")
        if not sep:
            raise InvalidInputError("org.bad_class_selector", f"类别“{text}”应写作 component:01 或 matter:06001")
        return cls(ClassKind.parse(kind), prefix.strip())

    def matches(self, kind: ClassKind, code: str) -> bool:
        return kind is self.kind and code.startswith(self.code_prefix)

    def __str__(self) -> str:
        return f"{self.kind.value}:{self.code_prefix}"


@dataclass(frozen=True, slots=True)
class Organization:
    """A department (专业部门) or a center; identified by its unified social credit code."""

    code: str
    name: str
    kind: OrgKind
    level: OrgLevel
    region_code: str
    parent_code: str | None = None
    jurisdiction: tuple[str, ...] = ()
    classes: tuple[ClassSelector, ...] = ()

    def __post_init__(self) -> None:
        validate_uscc(self.code)
        if not self.name.strip():
            raise InvalidInputError("org.no_name", f"单位 {self.code} 缺少名称", code=self.code)
        if self.parent_code == self.code:
            raise InvalidInputError("org.bad_parent", f"单位 {self.name} 不能以自己为上级", code=self.code)

    @property
    def regions_served(self) -> tuple[str, ...]:
        return self.jurisdiction or (self.region_code,)

    def serves(self, region_codes: tuple[str, ...]) -> bool:
        """Whether a place (its city, district, street and community codes) lies in this unit's jurisdiction."""
        return not set(self.regions_served).isdisjoint(region_codes)


@dataclass(frozen=True, slots=True)
class Staff:
    """A staff account: roles plus a scope, either a region subtree or one organisation."""

    username: str
    name: str
    roles: frozenset[Role]
    organization_code: str | None = None
    scope_region_code: str | None = None
    scope_organization_code: str | None = None
    phone: str | None = None
    active: bool = True

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[A-Za-z0-9_.\-]{2,64}", self.username):
            raise InvalidInputError(
                "staff.bad_username", f"用户名“{self.username}”应为 2–64 位字母、数字或 _ . -", username=self.username
            )
        if not self.roles:
            raise InvalidInputError("staff.no_role", f"账号 {self.username} 至少需要一个角色", username=self.username)
        if Role.CITIZEN in self.roles or Role.SYSTEM in self.roles:
            raise InvalidInputError(
                "staff.bad_role", f"工作人员账号 {self.username} 不能具有市民或系统角色", username=self.username
            )
        if bool(self.scope_region_code) == bool(self.scope_organization_code):
            raise InvalidInputError(
                "staff.bad_scope",
                f"账号 {self.username} 的管辖范围须为一个区划或一个单位（二选一）",
                username=self.username,
            )
        if self.phone and not re.fullmatch(r"\+?[0-9\-]{5,20}", self.phone):
            raise InvalidInputError("staff.bad_phone", f"电话“{self.phone}”格式无效", username=self.username)
