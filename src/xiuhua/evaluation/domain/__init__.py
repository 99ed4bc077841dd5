"""Evaluation rules, free of I/O."""
