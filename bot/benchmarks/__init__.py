"""Benchmarks behind the figures in docs/BENCHMARKS.md (`make bench-*`)."""
