"""Cases: the workflow table, the Case aggregate, reporting and acting, deadlines, access, queries, outbox, Open311."""
