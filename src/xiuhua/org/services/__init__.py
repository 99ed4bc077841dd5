"""Use cases of the organisation and catalog: imports, accounts, calendar, policy."""
