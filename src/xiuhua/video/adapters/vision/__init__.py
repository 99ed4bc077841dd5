"""Vision providers: detectors, plate readers and frame sources (see base.py for the contract)."""
