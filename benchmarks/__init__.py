"""Benchmarks of the course's code: ``python -m benchmarks`` lists them (docs/BENCHMARKS.md)."""

# First, before any benchmark imports TensorFlow: the lessons' TensorFlow settings
# (oneDNN off, start-up logs quiet), so that every number is the lessons' own.
import s2s_helpers  # noqa: F401
