"""Benchmarks: scripts that print a table, each measured against a baseline in the same run."""
