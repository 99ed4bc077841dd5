"""Use cases of geography, components and layers."""
