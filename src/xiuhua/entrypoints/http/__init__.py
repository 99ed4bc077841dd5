"""The HTTP API (FastAPI): REST under /api/v1, the live event stream, and offline API docs."""
