"""The read side of the organisation: code → name lookups for screens and reports, as SQL."""
