"""Benchmarks, run on demand with ``make bench`` (never timed in tests)."""
