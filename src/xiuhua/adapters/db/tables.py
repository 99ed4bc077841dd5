"""The relational schema (SQLAlchemy Core). Portable types only: it runs on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    ForeignKey,
    ForeignKeyConstraint,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

settings = Table(
    "settings",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False, comment="JSON"),
)

# ----- organisation --------------------------------------------------------------------------------
regions = Table(
    "regions",
    metadata,
    Column("code", String(12), primary_key=True, comment="6/9/12-digit statistical division code"),
    Column("name", String(64), nullable=False),
    Column("level", String(16), nullable=False, comment="city | district | street | community"),
    Column("parent_code", String(12), ForeignKey("regions.code"), index=True),
)

organizations = Table(
    "organizations",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("code", String(18), nullable=False, unique=True, comment="unified social credit code"),
    Column("name", String(128), nullable=False),
    Column("kind", String(24), nullable=False, comment="department | supervision_center | command_center"),
    Column("level", String(16), nullable=False, comment="city | district | street"),
    Column("parent_id", Integer, ForeignKey("organizations.id"), index=True),
    Column("region_code", String(12), ForeignKey("regions.code"), nullable=False, index=True),
)

organization_regions = Table(
    "organization_regions",
    metadata,
    Column("organization_id", Integer, ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True),
    Column("region_code", String(12), ForeignKey("regions.code"), primary_key=True),
)

organization_classes = Table(
    "organization_classes",
    metadata,
    Column("organization_id", Integer, ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True),
    Column("class_kind", String(16), primary_key=True, comment="component | matter"),
    Column("code_prefix", String(5), primary_key=True, comment="2-digit major class or 5-digit class"),
)

staff = Table(
    "staff",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("name", String(64), nullable=False),
    Column("phone", String(32)),
    Column("organization_id", Integer, ForeignKey("organizations.id"), index=True),
    Column("scope_region_code", String(12), ForeignKey("regions.code")),
    Column("scope_organization_id", Integer, ForeignKey("organizations.id")),
    Column("active", Boolean, nullable=False, default=True),
)

staff_roles = Table(
    "staff_roles",
    metadata,
    Column("staff_id", Integer, ForeignKey("staff.id", ondelete="CASCADE"), primary_key=True),
    Column("role", String(24), primary_key=True),
)

# ----- standards catalog ---------------------------------------------------------------------------
case_classes = Table(
    "case_classes",
    metadata,
    Column("kind", String(16), primary_key=True, comment="component | matter"),
    Column("code", String(5), primary_key=True, comment="GB/T 47678.5-2026 class code"),
    Column("name", String(64), nullable=False),
    Column("major_code", String(2), nullable=False),
    Column("major_name", String(64), nullable=False),
    Column("code_2013", String(4), index=True, comment="GB/T 30428.2-2013 subclass code"),
)

case_standards = Table(
    "case_standards",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("class_kind", String(16), nullable=False),
    Column("class_code", String(5), nullable=False),
    Column("filing_condition", Text, nullable=False),
    Column("closing_condition", Text, nullable=False),
    Column("position", Integer, nullable=False, default=0),
    ForeignKeyConstraint(["class_kind", "class_code"], ["case_classes.kind", "case_classes.code"]),
    UniqueConstraint("class_kind", "class_code", "filing_condition", name="uq_case_standards_condition"),
)

case_standard_limits = Table(
    "case_standard_limits",
    metadata,
    Column("standard_id", Integer, ForeignKey("case_standards.id", ondelete="CASCADE"), primary_key=True),
    Column("area_class", String(1), primary_key=True, comment="A | B | C, or * for every area class"),
    Column("value", Numeric(10, 2), nullable=False),
    Column("unit", String(16), nullable=False, comment="unit word as written: 工作时, 小时, 天, …"),
)

# ----- working calendar ----------------------------------------------------------------------------
work_schedules = Table(
    "work_schedules",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("periods", String(128), nullable=False, comment="08:00-12:00,14:00-18:00"),
    Column("season_start", String(5), comment="MM-DD, inclusive; empty for all year"),
    Column("season_end", String(5), comment="MM-DD, inclusive"),
)

calendar_overrides = Table(
    "calendar_overrides",
    metadata,
    Column("day", Date, primary_key=True),
    Column("workday", Boolean, nullable=False),
    Column("reason", String(128), nullable=False, default=""),
)
