"""The workflow table and the Case aggregate, free of I/O."""
