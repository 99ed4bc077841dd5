"""Cameras, dwell rules, plates and enforcement, free of I/O."""
