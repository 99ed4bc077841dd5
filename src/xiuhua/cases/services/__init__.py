"""Use cases on cases: report, act, sweep deadlines, check access, read, relay events."""
