"""Benchmarks: each prints a report and writes it as JSON under bench/results/ (never run by `make test`)."""
