"""Helpers the tests and the benchmarks share (no tests here)."""
