"""Video and enforcement: cameras, detection and dwell rules, plates, parking notices by SMS."""
