"""Shared by every subject: errors with codes, the clock, the ports every subject uses, stored files."""
