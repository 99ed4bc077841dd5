"""Evaluation: periods, indicators, scores and grades, tallies, rewards, campaigns, reports."""
