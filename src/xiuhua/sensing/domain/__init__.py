"""Devices, messages, rules and episodes, free of I/O."""
