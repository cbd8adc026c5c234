"""Browser tests: a real Home Assistant, started as scripts/develop starts it."""
