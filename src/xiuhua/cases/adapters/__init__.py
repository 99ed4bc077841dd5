"""Storage of cases, their hash-chained log and the outbox."""
