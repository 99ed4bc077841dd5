"""Insert or update rows by their key, in chunks, on either database: what every repository's bulk writes use."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.dialects import postgresql, sqlite

CHUNK = 1000
"""Rows per statement in bulk writes."""


def upsert(conn: Connection, table: Table, rows: Sequence[dict[str, Any]], keys: Sequence[str]) -> None:
    """INSERT … ON CONFLICT (keys) DO UPDATE, in chunks, on SQLite or PostgreSQL."""
    if not rows:
        return
    dialect = conn.dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    for i in range(0, len(rows), CHUNK):
        stmt = insert(table).values(list(rows[i : i + CHUNK]))
        updates = {c: stmt.excluded[c] for c in rows[0] if c not in keys}
        stmt = (
            stmt.on_conflict_do_update(index_elements=list(keys), set_=updates)
            if updates
            else (stmt.on_conflict_do_nothing(index_elements=list(keys)))
        )
        conn.execute(stmt)
