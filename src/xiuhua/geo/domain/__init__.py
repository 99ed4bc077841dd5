"""Places, components and layers, free of I/O."""
