"""The relational schema (SQLAlchemy Core). Portable types only: it runs on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from xiuhua.adapters.db.types import UTCDateTime

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

# ----- cases ---------------------------------------------------------------------------------------
step_limits = Table(
    "step_limits",
    metadata,
    Column(
        "step",
        String(16),
        primary_key=True,
        comment="accept | verify | file | dispatch | send_check | check | close | urge",
    ),
    Column("urgency", String(8), primary_key=True, comment="normal | urgent | *"),
    Column("area_class", String(1), primary_key=True, comment="A | B | C | *"),
    Column("value", Numeric(10, 2), nullable=False),
    Column("unit", String(16), nullable=False),
)

routing_rules = Table(
    "routing_rules",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("class_kind", String(16), nullable=False),
    Column("code_prefix", String(5), nullable=False, comment="2-digit major class or 5-digit class"),
    Column("region_code", String(12), ForeignKey("regions.code"), comment="empty: anywhere"),
    Column("department_code", String(18), ForeignKey("organizations.code"), nullable=False),
    Column("priority", Integer, nullable=False, default=0),
)

case_counters = Table(
    "case_counters",
    metadata,
    Column("day", String(8), primary_key=True, comment="YYYYMMDD, local date"),
    Column("last", Integer, nullable=False),
)

cases = Table(
    "cases",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("case_no", String(20), nullable=False, unique=True),
    Column("version", Integer, nullable=False),
    Column("idempotency_key", String(64), unique=True),
    Column("source", String(16), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("class_code", String(5), nullable=False),
    Column("state", String(24), nullable=False),
    Column("urgency", String(8), nullable=False),
    Column("description", Text, nullable=False),
    Column("reporter", String(64), nullable=False),
    Column("reporter_phone", String(32)),
    Column("component_id", String(20)),
    Column("lon", Float, nullable=False),
    Column("lat", Float, nullable=False),
    Column("address", String(256), nullable=False),
    Column("district_code", String(12), nullable=False, index=True),
    Column("street_code", String(12), nullable=False, index=True),
    Column("community_code", String(12), nullable=False),
    Column("grid_code", String(15)),
    Column("area_class", String(1)),
    Column("needs_verification", Boolean, nullable=False),
    Column("verified", Boolean),
    Column("check_passed", Boolean),
    Column("standard_id", Integer, ForeignKey("case_standards.id")),
    Column("disposal_limit", String(32)),
    Column("department_code", String(18), ForeignKey("organizations.code"), index=True),
    Column("handler", String(64)),
    Column("duplicate_of", String(20)),
    Column("repeat_of", String(20)),
    Column("reported_at", UTCDateTime, nullable=False, index=True),
    Column("dispatched_at", UTCDateTime),
    Column("closed_at", UTCDateTime),
    Column("current_step", String(16)),
    Column("step_entered_at", UTCDateTime),
    Column("due_at", UTCDateTime, comment="deadline of the current step; empty while its clock is stopped"),
    Column("overdue", Boolean, nullable=False),
    Column("overnight", Boolean, nullable=False),
    Column("auto_urged_at", UTCDateTime),
    Column("pending_extension", String(32)),
    Column("details", Text, nullable=False, comment="JSON: steps, pauses, extensions, counters"),
    Column("log_head", String(64), nullable=False),
    Column("log_seq", Integer, nullable=False),
    Index("ix_cases_class", "kind", "class_code", "state"),
    Index("ix_cases_state_due", "state", "due_at"),
)

case_log = Table(
    "case_log",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("case_id", Integer, ForeignKey("cases.id"), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("actor", String(64), nullable=False),
    Column("role", String(16), nullable=False),
    Column("action", String(24), nullable=False),
    Column("from_state", String(24)),
    Column("to_state", String(24), nullable=False),
    Column("reason", Text, nullable=False),
    Column("attachments", Text, nullable=False, comment="JSON list of SHA-256"),
    Column("data", Text, nullable=False, comment="JSON"),
    Column("step", String(16), comment="the step this transition completed"),
    Column("step_due_at", UTCDateTime),
    Column("on_time", Boolean),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    UniqueConstraint("case_id", "seq", name="uq_case_log_case_seq"),
)

urge_orders = Table(
    "urge_orders",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("case_id", Integer, ForeignKey("cases.id"), nullable=False, index=True),
    Column("issued_at", UTCDateTime, nullable=False),
    Column("issued_by", String(64), nullable=False),
    Column("reason", Text, nullable=False),
    Column("due_at", UTCDateTime, nullable=False),
)

case_photos = Table(
    "case_photos",
    metadata,
    Column("case_id", Integer, ForeignKey("cases.id"), primary_key=True),
    Column("stage", String(16), primary_key=True, comment="report | verify | before | after | check"),
    Column("sha256", String(64), primary_key=True),
    Column("content_type", String(32), nullable=False),
    Column("size", Integer, nullable=False),
    Column("added_at", UTCDateTime, nullable=False),
)

# ----- geography -----------------------------------------------------------------------------------
region_shapes = Table(
    "region_shapes",
    metadata,
    Column("region_code", String(12), ForeignKey("regions.code"), primary_key=True),
    Column("geometry", LargeBinary, nullable=False, comment="WKB, WGS84 lon/lat"),
    Column("synthetic", Boolean, nullable=False, comment="generated for a demo, not a surveyed boundary"),
    Column("source", String(128), nullable=False),
)

responsibility_grids = Table(
    "responsibility_grids",
    metadata,
    Column("code", String(20), primary_key=True),
    Column("name", String(64), nullable=False),
    Column("supervisor", String(64), ForeignKey("staff.username"), comment="the 监督员 who patrols it"),
)

unit_grids = Table(
    "unit_grids",
    metadata,
    Column("code", String(15), primary_key=True, comment="county 6 + street 3 + community 3 + serial 3"),
    Column("community_code", String(12), ForeignKey("regions.code"), nullable=False, index=True),
    Column("geometry", LargeBinary, nullable=False, comment="WKB, WGS84 lon/lat"),
    Column("area_m2", Float, nullable=False),
    Column("area_class", String(1), nullable=False, comment="A | B | C"),
    Column("responsibility_code", String(20), ForeignKey("responsibility_grids.code"), index=True),
    Column("min_lon", Float, nullable=False),
    Column("min_lat", Float, nullable=False),
    Column("max_lon", Float, nullable=False),
    Column("max_lat", Float, nullable=False),
)

# ----- component register --------------------------------------------------------------------------
components = Table(
    "components",
    metadata,
    Column("id", String(17), primary_key=True, comment="division 6 + class 5 + serial 6 (GB/T 47678.5-2026)"),
    Column("version", Integer, nullable=False, comment="the number of the current component_versions row"),
    Column("class_code", String(5), nullable=False),
    Column("name", String(128), nullable=False),
    Column("department_code", String(18), nullable=False, index=True, comment="unified social credit code"),
    Column("department_name", String(128), nullable=False),
    Column("owner_code", String(18), index=True),
    Column("owner_name", String(128)),
    Column("maintainer_code", String(18), index=True),
    Column("maintainer_name", String(128)),
    Column("grid_code", String(15), nullable=False, index=True),
    Column("status", String(8), nullable=False, comment="完好 | 破损 | 丢失 | 废弃 | 移除"),
    Column("initial_date", Date, nullable=False),
    Column("change_date", Date),
    Column("data_source", String(16), comment="实测 | 地形图 | 基础地理数据 | 其他"),
    Column("remark", Text),
    Column("street_code", String(9)),
    Column("street_name", String(64)),
    Column("community_code", String(12), index=True),
    Column("community_name", String(64)),
    Column("accuracy", String(1), comment="positional accuracy class A ±0.5 m | B ±1 m | C ±10 m"),
    Column("geometry", LargeBinary, nullable=False, comment="WKB, WGS84 lon/lat: point, line or polygon"),
    Column("lon", Float, nullable=False, comment="representative point"),
    Column("lat", Float, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("updated_by", String(64), nullable=False),
    Index("ix_components_lon_lat", "lon", "lat"),
    Index("ix_components_class_lon_lat", "class_code", "lon", "lat"),
    Index("ix_components_status", "status", "class_code"),
)

component_versions = Table(
    "component_versions",
    metadata,
    Column("component_id", String(17), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("valid_from", UTCDateTime, nullable=False),
    Column("valid_to", UTCDateTime, comment="empty while this version is the current one"),
    Column("changed_by", String(64), nullable=False),
    Column("class_code", String(5), nullable=False),
    Column("grid_code", String(15), nullable=False),
    Column("community_code", String(12)),
    Column("department_code", String(18), nullable=False),
    Column("status", String(8), nullable=False),
    Column(
        "record",
        Text,
        comment="JSON: the full table-2 record, geometry as WKB hex; written when superseded, empty while the "
        "register row is the record",
    ),
    Index("ix_component_versions_census", "valid_from", "valid_to"),
)
