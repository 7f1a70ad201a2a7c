"""Benchmarks: `make bench` (or `python -m bench [recorder|history|guard] [--quick]`)."""
