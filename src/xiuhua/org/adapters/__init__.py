"""Storage of the organisation and catalog, and the statutory holidays."""
