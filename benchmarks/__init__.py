"""Benchmarks of the course's code; run ``python -m benchmarks.run`` (docs/BENCHMARKS.md)."""
