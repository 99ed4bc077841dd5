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

from xiuhua.platform.db.types import UTCDateTime

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
    Column("population", Integer, comment="residents (常住人口), for case volume per 10,000 people"),
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
    Column("idempotency_key", String(64), unique=True),  # SHA-256 of the caller's scope and key
    Column("request_digest", String(64), comment="SHA-256 of the report that first used the key"),
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
    # evaluations read a period's rows by time; the other columns let them do so from the index alone
    Index("ix_case_log_at", "at", "case_id", "actor", "action", "from_state", "on_time"),
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

case_ratings = Table(
    "case_ratings",
    metadata,
    Column("case_id", Integer, ForeignKey("cases.id"), primary_key=True, comment="one rating per case"),
    Column("score", Integer, nullable=False, comment="satisfaction, 1–5"),
    Column("comment", String(500), nullable=False),
    Column("rated_by", String(64), nullable=False, comment="the citizen account that reported the case"),
    Column("rated_at", UTCDateTime, nullable=False),
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
    Index("ix_unit_grids_bbox", "min_lon", "max_lon", "min_lat", "max_lat"),
)

# ----- thematic layers -----------------------------------------------------------------------------
layers = Table(
    "layers",
    metadata,
    Column("code", String(40), primary_key=True, comment="grids, communities, components-01, …"),
    Column("name", String(64), nullable=False),
    Column("category", String(16), nullable=False, comment="行政区划 | 基础网格 | 城市部件 | …"),
    Column("source", String(24), nullable=False, comment="districts | streets | communities | unit_grids | …"),
    Column("source_filter", String(128), nullable=False, comment="class=01;status=破损,丢失;area_class=A"),
    Column("style", Text, nullable=False, comment="JSON: MapLibre paint properties"),
    Column("min_zoom", Integer, nullable=False),
    Column("max_zoom", Integer, nullable=False),
    Column("geojson_min_zoom", Integer, nullable=False, comment="from this zoom up GeoJSON, below it tiles"),
    Column("visible", Boolean, nullable=False, comment="shown when the map opens"),
    Column("sort_order", Integer, nullable=False),
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
    # Map tiles read (lon, lat) by bbox, class and status from this index alone, never the rows.
    Index("ix_components_map", "lon", "lat", "class_code", "status"),
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

# ----- accounts, sessions, audit and the outbox ----------------------------------------------------
accounts = Table(
    "accounts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("username", String(64), nullable=False, unique=True, comment="a staff username, or a citizen's login"),
    Column("kind", String(16), nullable=False, comment="staff | citizen"),
    Column("password_hash", String(255), nullable=False, comment="argon2id"),
    Column("display_name", String(64), nullable=False, default=""),
    Column("phone", String(32), comment="a citizen's phone (staff phones live in staff)"),
    Column("active", Boolean, nullable=False, default=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("password_changed_at", UTCDateTime, nullable=False),
)

login_throttles = Table(
    "login_throttles",
    metadata,
    Column("address", String(64), primary_key=True, comment="client address; '' for a name from every address"),
    Column("username", String(64), primary_key=True, comment="the name tried; '' for every name from an address"),
    Column("failures", Integer, nullable=False, comment="failed logins in a row"),
    Column("last_failure_at", UTCDateTime),
    Column("blocked_until", UTCDateTime),
    Column("succeeded_at", UTCDateTime, comment="the name's last login from this address"),
    Column("updated_at", UTCDateTime, nullable=False, index=True),
)

auth_sessions = Table(
    "auth_sessions",
    metadata,
    Column("id", String(32), primary_key=True, comment="random; access tokens name it (sid)"),
    Column("username", String(64), nullable=False, index=True),
    Column("refresh_hash", String(64), nullable=False, unique=True, comment="SHA-256 of the current refresh token"),
    Column("created_at", UTCDateTime, nullable=False),
    Column("refreshed_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime),
)

spent_refresh_tokens = Table(
    "spent_refresh_tokens",
    metadata,
    Column("refresh_hash", String(64), primary_key=True, comment="SHA-256 of a rotated refresh token"),
    Column("session_id", String(32), ForeignKey("auth_sessions.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("spent_at", UTCDateTime, nullable=False, index=True),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("key_hash", String(64), nullable=False, unique=True, comment="SHA-256 of the key"),
    Column("created_at", UTCDateTime, nullable=False),
    Column("created_by", String(64), nullable=False),
    Column("revoked_at", UTCDateTime),
)

audit_events = Table(
    "audit_events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("at", UTCDateTime, nullable=False, index=True),
    Column("actor", String(64), nullable=False, index=True),
    Column("action", String(48), nullable=False, comment="login.ok | login.failed | access.denied | admin.*"),
    Column("target", String(128), nullable=False, default=""),
    Column("client", String(64), nullable=False, default="", comment="client address"),
    Column("details", Text, nullable=False, comment="JSON"),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True, comment="delivery order"),
    Column("at", UTCDateTime, nullable=False),
    Column("type", String(32), nullable=False, comment="case.reported | case.transitioned | alarm.raised | …"),
    Column("case_no", String(20)),
    Column("district_code", String(12)),
    Column("street_code", String(12)),
    Column("community_code", String(12)),
    Column("department_code", String(18)),
    Column("payload", Text, nullable=False, comment="JSON"),
)

# ----- sensing (IoT devices, readings, rules, alarms), business feeds, shared bikes ------------------
sensing_devices = Table(
    "sensing_devices",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("code", String(32), nullable=False, unique=True, comment="the device's own id, as in its messages"),
    Column("kind", String(24), nullable=False, index=True),
    Column("name", String(128), nullable=False),
    Column("lon", Float, nullable=False),
    Column("lat", Float, nullable=False),
    Column("address", String(256), nullable=False),
    Column("district_code", String(12), nullable=False),
    Column("street_code", String(12), nullable=False),
    Column("community_code", String(12), nullable=False),
    Column("grid_code", String(15)),
    Column("area_class", String(1)),
    Column("component_id", String(17), index=True, comment="the registered component it watches"),
    Column("department_code", String(18), nullable=False, comment="owner department (unified social credit code)"),
    Column("permit", Text, comment="JSON: a muck truck's permitted route and hours"),
    Column("active", Boolean, nullable=False),
    Column("last_reading_at", UTCDateTime, comment="newest reading evaluated by the rules"),
    Column("updated_at", UTCDateTime, nullable=False),
)

sensing_readings = Table(
    "sensing_readings",
    metadata,
    Column("device_id", Integer, ForeignKey("sensing_devices.id"), primary_key=True),
    Column("measured_at", UTCDateTime, primary_key=True),
    Column("v0", Float, comment="the kind's fields in order (domain.sensing.KINDS)"),
    Column("v1", Float),
    Column("v2", Float),
    Column("alarm", Boolean, nullable=False),
)

sensing_rules = Table(
    "sensing_rules",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("kind", String(24), nullable=False),
    Column("type", String(16), nullable=False, comment="threshold | alarm | geofence | hours"),
    Column("field", String(24)),
    Column("op", String(2), nullable=False),
    Column("threshold", Float),
    Column("duration_minutes", Integer, nullable=False),
    Column("clear_minutes", Integer, nullable=False),
    Column("class_kind", String(16), nullable=False),
    Column("class_code", String(5), nullable=False),
    Column("label", String(128), nullable=False),
    Column("urgent", Boolean, nullable=False),
    Column("use_component_class", Boolean, nullable=False),
    Column("enabled", Boolean, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

sensing_alarms = Table(
    "sensing_alarms",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("device_id", Integer, ForeignKey("sensing_devices.id"), nullable=False),
    Column("rule_id", String(32), nullable=False),
    Column("phase", String(12), nullable=False, comment="pending | active | clearing | recovered"),
    Column("started_at", UTCDateTime, nullable=False),
    Column("last_at", UTCDateTime, nullable=False),
    Column("raised_at", UTCDateTime),
    Column("clear_since", UTCDateTime),
    Column("recovered_at", UTCDateTime),
    Column("breaches", Integer, nullable=False),
    Column("flaps", Integer, nullable=False),
    Column("peak", Float),
    Column("case_no", String(20), index=True),
    Column("evidence", Text, nullable=False, comment="JSON: the readings that raised it and the latest ones"),
    Column("evidence_sha256", String(64), comment="hash of the evidence when the case was opened"),
    Index("ix_sensing_alarms_device_rule", "device_id", "rule_id", "phase"),
)

sensing_dead_letters = Table(
    "sensing_dead_letters",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("received_at", UTCDateTime, nullable=False, index=True),
    Column("topic", String(256), nullable=False),
    Column("device_code", String(64)),
    Column("reason", String(24), nullable=False, index=True),
    Column("message", Text, nullable=False),
    Column("payload", Text, nullable=False, comment="the message as received (truncated), undecodable bytes as hex"),
)

feed_mappings = Table(
    "feed_mappings",
    metadata,
    Column("source", String(32), primary_key=True, comment="sanitation | water | gas | heating | ..."),
    Column("event_type", String(64), primary_key=True),
    Column("class_kind", String(16), nullable=False),
    Column("class_code", String(5), nullable=False),
    Column("urgent", Boolean, nullable=False),
)

feed_events = Table(
    "feed_events",
    metadata,
    Column("source", String(32), primary_key=True),
    Column("event_id", String(64), primary_key=True, comment="the source system's own id: imports are idempotent"),
    Column("received_at", UTCDateTime, nullable=False),
    Column("case_no", String(20)),
)

bike_operators = Table(
    "bike_operators",
    metadata,
    Column("code", String(32), primary_key=True),
    Column("name", String(64), nullable=False),
    Column("account", String(64), nullable=False, comment="the operator's account that receives its cases"),
    Column("grace_minutes", Integer, nullable=False),
)

bike_states = Table(
    "bike_states",
    metadata,
    Column("operator", String(32), primary_key=True),
    Column("bike_id", String(32), primary_key=True),
    Column("lon", Float, nullable=False),
    Column("lat", Float, nullable=False),
    Column("seen_at", UTCDateTime, nullable=False),
    Column("zone_id", String(17), comment="the parking zone (component) it stands in"),
    Column("outside_since", UTCDateTime),
    Column("case_no", String(20)),
)

bike_compliance = Table(
    "bike_compliance",
    metadata,
    Column("operator", String(32), primary_key=True),
    Column("day", Date, primary_key=True, comment="local day (Asia/Shanghai)"),
    Column("reports", Integer, nullable=False),
    Column("inside", Integer, nullable=False),
    Column("cases", Integer, nullable=False),
)

# ----- evaluation ----------------------------------------------------------------------------------
evaluation_schemes = Table(
    "evaluation_schemes",
    metadata,
    Column("version", String(32), primary_key=True),
    Column("valid_from", Date, nullable=False, comment="local date from which months are evaluated under it"),
    Column("body", Text, nullable=False, comment="JSON: weights, score bands, grade bands"),
    Column("added_at", UTCDateTime, nullable=False),
    Column("added_by", String(64), nullable=False),
)

evaluation_results = Table(
    "evaluation_results",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("period_key", String(32), nullable=False),
    Column("revision", Integer, nullable=False, comment="1 when frozen; +1 for each approved appeal"),
    Column("scheme_version", String(32), nullable=False),
    Column("frozen_at", UTCDateTime, nullable=False),
    Column("frozen_by", String(64), nullable=False),
    Column("body", Text, nullable=False, comment="JSON: the published result"),
    Column("body_sha256", String(64), nullable=False),
    UniqueConstraint("period_key", "revision", name="uq_evaluation_results_period_revision"),
)

evaluation_appeals = Table(
    "evaluation_appeals",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("period_key", String(32), nullable=False, index=True),
    Column("object_type", String(16), nullable=False),
    Column("object_code", String(64), nullable=False),
    Column("indicator", String(48), nullable=False),
    Column("case_no", String(20), nullable=False),
    Column("reason", Text, nullable=False),
    Column("filed_by", String(64), nullable=False),
    Column("filed_at", UTCDateTime, nullable=False),
    Column("status", String(16), nullable=False, comment="pending | approved | rejected"),
    Column("decided_by", String(64)),
    Column("decided_at", UTCDateTime),
    Column("decision", Text),
)

evaluation_audit = Table(
    "evaluation_audit",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("at", UTCDateTime, nullable=False),
    Column("actor", String(64), nullable=False),
    Column("action", String(24), nullable=False, comment="freeze | appeal | approve | reject"),
    Column("period_key", String(32), nullable=False, index=True),
    Column("appeal_id", Integer, ForeignKey("evaluation_appeals.id")),
    Column("before_sha256", String(64)),
    Column("after_sha256", String(64)),
    Column("detail", Text, nullable=False, comment="JSON: what changed"),
)

evaluation_tallies = Table(
    "evaluation_tallies",
    metadata,
    Column("month", String(7), primary_key=True, comment="local month YYYY-MM"),
    Column("object_type", String(16), primary_key=True, comment="place | department | a post | hotspot | missed"),
    Column("code", String(80), primary_key=True),
    Column("name", String(32), primary_key=True, comment="the count, e.g. filed, closed_on_time"),
    Column("n", Integer, nullable=False),
    comment="per-month evaluation counts, kept up with every case log row (domain/tallies.py)",
    sqlite_with_rowid=False,  # one B-tree, not a table and its key index: fewer pages written per case change
)

evaluation_case_states = Table(
    "evaluation_case_states",
    metadata,
    Column("case_id", Integer, ForeignKey("cases.id"), primary_key=True),
    Column("state", Text, nullable=False, comment="the case's tally state as a JSON list (domain/tallies.py)"),
    comment="what each case's log has added to the tallies so far, kept up by the evaluation's case event handler",
)

# ----- video intelligence --------------------------------------------------------------------------
cameras = Table(
    "cameras",
    metadata,
    Column("code", String(32), primary_key=True),
    Column("name", String(128), nullable=False),
    Column("lon", Float, nullable=False),
    Column("lat", Float, nullable=False),
    Column("heading_deg", Float, nullable=False, comment="view direction, degrees clockwise from north"),
    Column("source", Text, nullable=False, comment="stream URL, video file or snapshot folder"),
    Column("zones", Text, nullable=False, comment="JSON: zones in image pixels, each with map position and department"),
)

vehicles = Table(
    "vehicles",
    metadata,
    Column("plate", String(10), primary_key=True),
    Column("owner_name", String(64), nullable=False),
    Column("phone_enc", Text, nullable=False, comment="AES-256-GCM ciphertext, base64"),
    Column("phone_digest", String(64), nullable=False, index=True, comment="keyed HMAC-SHA256 of the number"),
    Column("phone_masked", String(16), nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

sms_messages = Table(
    "sms_messages",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("dedup_key", String(128), nullable=False, unique=True, comment="one text per event"),
    Column("template", String(32), nullable=False),
    Column("phone_enc", Text, nullable=False),
    Column("phone_digest", String(64), nullable=False, index=True),
    Column("phone_masked", String(16), nullable=False),
    Column("body", Text, nullable=False),
    Column("state", String(12), nullable=False, index=True, comment="queued | sent | delivered | undelivered | failed"),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", UTCDateTime),
    Column("provider_id", String(64), index=True),
    Column("last_error", Text),
    Column("created_at", UTCDateTime, nullable=False),
    Column("sent_at", UTCDateTime),
    Column("receipt_at", UTCDateTime),
)

parking_notices = Table(
    "parking_notices",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("event_key", String(96), nullable=False, unique=True, comment="camera, zone and track: one notice each"),
    Column("camera_code", String(32), ForeignKey("cameras.code"), nullable=False, index=True),
    Column("zone_code", String(32), nullable=False),
    Column("state", String(12), nullable=False, index=True),
    Column("plate", String(10)),
    Column("plate_read", String(16), nullable=False, comment="what the reader returned"),
    Column("plate_confidence", Float, nullable=False),
    Column("plate_color", String(8), nullable=False),
    Column("box", String(64), nullable=False, comment="x1,y1,x2,y2 of the vehicle in the first capture"),
    Column("first_capture", String(64), nullable=False, comment="SHA-256 of the evidence frame"),
    Column("plate_crop", String(64), nullable=False),
    Column("second_capture", String(64)),
    Column("sms_id", Integer, ForeignKey("sms_messages.id")),
    Column("captured_at", UTCDateTime, nullable=False),
    Column("recheck_at", UTCDateTime, index=True),
    Column("reviewed_by", String(64)),
    Column("case_no", String(20)),
    Column("closed_at", UTCDateTime),
)

campaigns = Table(
    "campaigns",
    metadata,
    Column("code", String(48), primary_key=True),
    Column("body", Text, nullable=False, comment="JSON: classes, areas, window, headquarters, targets"),
    Column("added_at", UTCDateTime, nullable=False),
    Column("added_by", String(64), nullable=False),
)

campaign_progress = Table(
    "campaign_progress",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("campaign_code", String(48), nullable=False, index=True),
    Column("unit_code", String(18), nullable=False, comment="the organisation that did the work"),
    Column("done_on", Date, nullable=False, comment="local date the work was done"),
    Column("amount", Float, nullable=False, comment="in the target's unit (km, m², …)"),
    Column("note", Text, nullable=False),
    Column("reported_at", UTCDateTime, nullable=False),
    Column("reported_by", String(64), nullable=False),
)
