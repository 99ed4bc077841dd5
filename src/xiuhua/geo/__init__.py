"""Geography and components: places, unit grids, survey imports, the component ledger, thematic layers and tiles."""
