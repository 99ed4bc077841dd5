"""Organisation and catalog: regions, organisations, staff and accounts, standards, the work calendar, case policy."""
