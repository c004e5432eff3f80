"""News and economic-calendar gating: sources, the cache, the rules and the gate."""
