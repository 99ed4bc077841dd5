"""The database: engine, tables, portable column types and the Alembic migrations."""
