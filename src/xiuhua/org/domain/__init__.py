"""Regions, organisations, staff, accounts, standards, calendars and routing rules, free of I/O."""
