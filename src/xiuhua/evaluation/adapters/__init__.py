"""Storage of evaluation tallies and results, and the report files."""
