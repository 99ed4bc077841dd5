"""Use cases of evaluation: evaluate, freeze, appeal, rewards, campaigns."""
