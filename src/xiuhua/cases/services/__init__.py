"""Use cases on cases: report, act, sweep deadlines, check access, rate, relay events, import history.
They reach storage through cases.ports only and run on the in-memory fakes; the read side is in ``views``."""
