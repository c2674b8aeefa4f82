"""Benchmarks of the course's code: ``python -m benchmarks`` lists them (docs/BENCHMARKS.md)."""
