"""The read side of cases: lists, queues, detail, the day's figures and Open311 searches, as SQL over the
unit of work's connection (queries shaped for a screen, not for the aggregate). The use cases in
``services`` never call them; the entry points do. Tested on SQLite and PostgreSQL."""
