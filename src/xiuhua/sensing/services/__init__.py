"""Use cases of sensing: ingest, feeds, bikes."""
