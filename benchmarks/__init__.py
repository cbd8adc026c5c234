"""Benchmarks of the Spectronics VoIP integration (run with scripts/bench)."""
