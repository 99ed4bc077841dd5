"""Geographic adapters: coordinate reference systems and spatial helpers."""
